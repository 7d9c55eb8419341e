// Opening a results file: the root attributes first, then the tables and their layouts.
#include "framework/store/opened_file.hpp"

#include <algorithm>
#include <cstring>

#include "framework/store/schema.hpp"
#include "framework/store/table_io.hpp"

namespace cellzoo::store::detail {

namespace {

Handle open_dataset(hid_t file, const char* name, const std::string& path, bool required) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
    if (!required) return {};
    throw Error("'" + path + "' is not a cellzoo results file: it has no /" + std::string(name),
                "pass a file written by cellzoo (schema in docs/results-format.md)");
  }
  const hid_t id = H5Dopen2(file, name, H5P_DEFAULT);
  if (id < 0) throw Error(corrupt_message(path) + ": cannot open /" + name, kCorruptHint);
  return dataset_handle(id);
}

}  // namespace

OpenedFile open_results(const std::string& path, unsigned flags, bool file_locking) {
  OpenedFile out;
  out.file = open_existing(path, flags, "results file", file_locking);
  const hid_t f = out.file.get();
  out.meta = read_meta(f, path);

  out.runs = open_dataset(f, "runs", path, true);
  out.curves = open_dataset(f, "curves", path, true);
  out.cells = open_dataset(f, "cells", path, false);

  out.hyper = read_hyper_columns(f, out.runs.get(), path);
  out.run_layout = layout_from_dataset(out.runs.get(), default_run_layout(out.hyper), path, "runs");
  out.curve_layout = layout_from_dataset(out.curves.get(), default_curve_layout(), path, "curves");
  if (out.cells.valid())
    out.cell_layout = layout_from_dataset(out.cells.get(), default_cell_layout(), path, "cells");
  out.n_runs = table_rows(out.runs.get());
  out.n_curves = table_rows(out.curves.get());
  if (out.cells.valid()) out.n_cells = table_rows(out.cells.get());
  out.candidates = open_dataset(f, "candidates", path, false);
  if (out.candidates.valid()) {
    out.candidate_layout =
        layout_from_dataset(out.candidates.get(), default_candidate_layout(), path, "candidates");
    out.n_candidates = table_rows(out.candidates.get());
  }
  return out;
}

RowLayout run_columns(const RowLayout& file_layout, std::initializer_list<const char*> names) {
  RowLayout layout;
  for (const char* name : names)
    for (const auto& f : file_layout.fields())
      if (f.name == name) layout.add(f.name, f.type, f.width);
  return layout;
}

std::vector<std::pair<std::int64_t, RunKey>> read_run_keys(const OpenedFile& f,
                                                           const std::string& path) {
  constexpr hsize_t kBlock = 65536;
  const auto layout = run_columns(f.run_layout, {"run_id", "run_key"});
  std::vector<std::pair<std::int64_t, RunKey>> out;
  out.reserve(f.n_runs);
  for (hsize_t start = 0; start < f.n_runs; start += kBlock) {
    const hsize_t n = std::min<hsize_t>(kBlock, f.n_runs - start);
    const auto data = read_rows(f.runs.get(), layout, start, n, path);
    for (hsize_t r = 0; r < n; ++r) {
      const char* row = data.data() + r * layout.size();
      RunKey key{};
      std::memcpy(key.data(), row + layout[1].offset, std::min(key.size(), layout[1].width));
      if (key[0] == '\0') continue;  // reserved by a killed writer, never written
      out.emplace_back(layout.get_i64(row, 0), key);
    }
  }
  return out;
}

}  // namespace cellzoo::store::detail
