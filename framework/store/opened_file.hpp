// An existing results file opened and validated (internal to the store): its root
// attributes, its tables and their layouts (taken from the file's own column types), and
// row counts. Shared by ResultsReader and a resumed ResultsWriter.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "framework/store/hdf5_util.hpp"
#include "framework/store/results_file.hpp"
#include "framework/store/row_layout.hpp"

namespace cellzoo::store::detail {

struct OpenedFile {
  Handle file;
  FileMeta meta;
  std::vector<HyperColumn> hyper;
  Handle runs, curves, cells;  // cells may be invalid in files without /cells
  Handle candidates;           // invalid until an evolutionary search writes one
  RowLayout run_layout, curve_layout, cell_layout, candidate_layout = default_candidate_layout();
  hsize_t n_runs = 0, n_curves = 0, n_cells = 0, n_candidates = 0;
};

// Opens `path` (flags H5F_ACC_RDONLY or H5F_ACC_RDWR) with one clear cellzoo::Error for a
// file that is missing, not HDF5, damaged, locked by a writer (FileLocked) or not a
// cellzoo results file. `file_locking` false: without HDF5's file lock (read_snapshot).
OpenedFile open_results(const std::string& path, unsigned flags, bool file_locking = true);

// The layout of just the /runs columns `names`, with the widths the file has.
RowLayout run_columns(const RowLayout& file_layout, std::initializer_list<const char*> names);

// run_id and run_key of every /runs row in file order, reading only those two columns in
// blocks (rows a killed writer reserved are skipped).
std::vector<std::pair<std::int64_t, RunKey>> read_run_keys(const OpenedFile& f,
                                                           const std::string& path);

}  // namespace cellzoo::store::detail
