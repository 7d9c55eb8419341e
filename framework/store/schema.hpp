// The results file's schema (internal to the store; docs/results-format.md): rows encoded
// into and decoded from their RowLayout, the checks a row must pass before it is written,
// and the root attributes (FileMeta and the hyperparameter columns).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "framework/store/hdf5_util.hpp"
#include "framework/store/results_file.hpp"
#include "framework/store/row_layout.hpp"

namespace cellzoo::store::detail {

// Rows to and from `rows` packed rows of `data`. decode_runs skips rows with an empty
// run_key (space a killed writer reserved but never wrote); encode_run truncates an
// over-long error message.
std::vector<RunRow> decode_runs(const RowLayout& layout, const std::vector<HyperColumn>& hyper,
                                const std::vector<char>& data, hsize_t rows);
void encode_run(const RowLayout& layout, const std::vector<HyperColumn>& hyper, const RunRow& run,
                char* row);
std::vector<CurveRow> decode_curves(const RowLayout& layout, const std::vector<char>& data,
                                    hsize_t rows);
void encode_curve(const RowLayout& layout, const CurveRow& c, char* row);
std::vector<CellText> decode_cells(const RowLayout& layout, const std::vector<char>& data,
                                   hsize_t rows);
void encode_cell(const RowLayout& layout, const CellText& cell, char* row);
std::vector<CandidateRow> decode_candidates(const RowLayout& l, const std::vector<char>& data,
                                            hsize_t rows);
void encode_candidate(const RowLayout& l, const CandidateRow& c, char* row);

// Names a new file's hyper columns may have: non-empty, no ',', no NUL, unique, and not
// the name of a fixed /runs column.
void validate_hyper_columns(const std::vector<HyperColumn>& hyper);

// What a row needs to fit `layout` (a file's /runs): a run_key, strings within their
// widths, one value of the right kind per hyper column. `where` names the file.
void check_run_row(const RowLayout& layout, const std::vector<HyperColumn>& hyper,
                   const RunRow& run, const std::string& where);
// Strings within the widths of /cells and /candidates.
void check_cell_text(const RowLayout& layout, const CellText& cell);
void check_candidate_row(const RowLayout& l, const CandidateRow& c);

// The root attributes. write_meta writes the schema attribute first and `m` as given;
// read_meta refuses a file whose schema or schema_version is not one this cellzoo reads.
void write_meta(hid_t file, const FileMeta& m, const std::vector<HyperColumn>& hyper);
FileMeta read_meta(hid_t file, const std::string& path);

// The hyper columns of a file: names from the root attribute, kinds from the column
// types of its /runs table `runs`.
std::vector<HyperColumn> read_hyper_columns(hid_t file, hid_t runs, const std::string& path);

}  // namespace cellzoo::store::detail
