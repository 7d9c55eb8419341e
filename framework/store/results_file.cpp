// ResultsWriter and ResultsReader over the HDF5 C API (schema: docs/results-format.md).
//
// Rows travel through a packed byte buffer described by RowLayout, which also builds the
// matching HDF5 compound types. The layout used for a file is always derived from the
// file's own /runs type, so a reader or a resumed writer honours the string widths the
// file was written with.
#include "framework/store/results_file.hpp"

#include <oneapi/tbb/version.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include "framework/store/hdf5_util.hpp"
#include "framework/util/build_info.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::store {

using detail::check;
using detail::check_status;
using detail::Handle;
using detail::QuietErrors;

namespace {

namespace fs = std::filesystem;

// ----------------------------------------------------------------------------------------
// Row layouts

enum class FieldType { i64, f64, str };

struct Field {
  std::string name;
  FieldType type;
  std::size_t width = 0;  // bytes (strings only)
  std::size_t offset = 0;
};

class RowLayout {
 public:
  void add(std::string name, FieldType type, std::size_t width = 0) {
    const std::size_t bytes = type == FieldType::str ? width : 8;
    fields_.push_back({std::move(name), type, width, size_});
    size_ += bytes;
  }
  std::size_t size() const { return size_; }
  const std::vector<Field>& fields() const { return fields_; }
  const Field& operator[](std::size_t i) const { return fields_[i]; }

  // The in-memory compound type (native numbers); with `for_file`, the explicit
  // little-endian types stored on disk.
  Handle make_type(bool for_file) const {
    Handle type =
        detail::type_handle(check(H5Tcreate(H5T_COMPOUND, size_), "creating a compound row type"));
    for (const auto& f : fields_) {
      Handle string;
      hid_t member = H5I_INVALID_HID;
      switch (f.type) {
        case FieldType::i64:
          member = for_file ? H5T_STD_I64LE : H5T_NATIVE_INT64;
          break;
        case FieldType::f64:
          member = for_file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE;
          break;
        case FieldType::str:
          string = detail::string_type(f.width);
          member = string.get();
          break;
      }
      check_status(H5Tinsert(type.get(), f.name.c_str(), f.offset, member),
                   "adding column '" + f.name + "' to a row type");
    }
    return type;
  }

  void put(char* row, std::size_t i, std::int64_t v) const {
    std::memcpy(row + fields_[i].offset, &v, 8);
  }
  void put(char* row, std::size_t i, double v) const {
    std::memcpy(row + fields_[i].offset, &v, 8);
  }
  void put(char* row, std::size_t i, const std::string& v) const {
    const Field& f = fields_[i];
    std::memset(row + f.offset, 0, f.width);
    std::memcpy(row + f.offset, v.data(), std::min(v.size(), f.width));
  }
  std::int64_t get_i64(const char* row, std::size_t i) const {
    std::int64_t v;
    std::memcpy(&v, row + fields_[i].offset, 8);
    return v;
  }
  double get_f64(const char* row, std::size_t i) const {
    double v;
    std::memcpy(&v, row + fields_[i].offset, 8);
    return v;
  }
  std::string get_str(const char* row, std::size_t i) const {
    const Field& f = fields_[i];
    const char* begin = row + f.offset;
    return std::string(begin, std::find(begin, begin + f.width, '\0'));
  }

 private:
  std::vector<Field> fields_;
  std::size_t size_ = 0;
};

// The fixed columns of /runs around the hyperparameters, in file order.
const char* const kRunHead[] = {"run_id", "run_key", "cell",   "task",
                                "trial",  "seed",    "status", "error"};
const char* const kRunTail[] = {"train_loss",   "valid_loss",   "test_loss",
                                "valid_metric", "test_metric",  "best_epoch",
                                "epochs",       "wall_seconds", "n_params"};
constexpr std::size_t kHead = std::size(kRunHead);
constexpr std::size_t kTail = std::size(kRunTail);

FieldType run_field_type(const std::string& name) {
  if (name == "run_key" || name == "cell" || name == "task" || name == "status" || name == "error")
    return FieldType::str;
  if (name == "run_id" || name == "trial" || name == "seed" || name == "best_epoch" ||
      name == "epochs" || name == "n_params")
    return FieldType::i64;
  return FieldType::f64;
}

std::size_t run_field_width(const std::string& name) {
  if (name == "run_key") return kRunKeyWidth;
  if (name == "cell") return kCellWidth;
  if (name == "task") return kTaskWidth;
  if (name == "status") return kStatusWidth;
  if (name == "error") return kErrorWidth;
  return 0;
}

bool is_fixed_run_column(const std::string& name) {
  for (const char* c : kRunHead)
    if (name == c) return true;
  for (const char* c : kRunTail)
    if (name == c) return true;
  return false;
}

RowLayout default_run_layout(const std::vector<HyperColumn>& hyper) {
  RowLayout layout;
  for (const char* c : kRunHead) layout.add(c, run_field_type(c), run_field_width(c));
  for (const auto& h : hyper)
    layout.add(h.name, h.kind == HyperColumn::text ? FieldType::str : FieldType::f64,
               h.kind == HyperColumn::text ? kHyperTextWidth : 0);
  for (const char* c : kRunTail) layout.add(c, run_field_type(c));
  return layout;
}

RowLayout default_curve_layout() {
  RowLayout layout;
  layout.add("run_id", FieldType::i64);
  layout.add("epoch", FieldType::i64);
  for (const char* c : {"train_loss", "valid_loss", "valid_metric", "learning_rate", "seconds"})
    layout.add(c, FieldType::f64);
  return layout;
}

RowLayout default_cell_layout() {
  RowLayout layout;
  layout.add("name", FieldType::str, kCellWidth);
  layout.add("hash", FieldType::str, kCellHashWidth);
  layout.add("text", FieldType::str, kCellTextWidth);
  return layout;
}

// /candidates (search = evolution); integer and float columns are 8 bytes like the others.
RowLayout default_candidate_layout() {
  RowLayout layout;
  layout.add("shard", FieldType::i64);
  layout.add("generation", FieldType::i64);
  layout.add("index", FieldType::i64);
  layout.add("kind", FieldType::str, kCandidateKindWidth);
  layout.add("name", FieldType::str, kCellWidth);
  layout.add("hash", FieldType::str, kCellHashWidth);
  layout.add("parent_hash", FieldType::str, kCellHashWidth);
  layout.add("stage", FieldType::i64);
  layout.add("stage_task", FieldType::str, kTaskWidth);
  layout.add("status", FieldType::str, kStatusWidth);
  layout.add("fitness", FieldType::f64);
  return layout;
}

// A layout with `wanted`'s columns and order, but the string widths (and presence) of the
// dataset `dataset` in `path`. Hyperparameter kinds come from the stored column types.
RowLayout layout_from_dataset(hid_t dataset, const RowLayout& wanted, const std::string& path,
                              const std::string& dataset_name) {
  Handle file_type =
      detail::type_handle(check(H5Dget_type(dataset), "reading the row type of /" + dataset_name));
  if (H5Tget_class(file_type.get()) != H5T_COMPOUND)
    throw Error(
        "'" + path + "' is not a cellzoo results file: /" + dataset_name + " is not a table",
        "pass a file written by cellzoo");
  RowLayout layout;
  for (const auto& f : wanted.fields()) {
    const int index = H5Tget_member_index(file_type.get(), f.name.c_str());
    if (index < 0)
      throw Error("'" + path + "' is not a cellzoo results file: /" + dataset_name +
                      " has no column '" + f.name + "'",
                  "pass a file written by cellzoo (schema in docs/results-format.md)");
    Handle member =
        detail::type_handle(check(H5Tget_member_type(file_type.get(), static_cast<unsigned>(index)),
                                  "reading column '" + f.name + "'"));
    const H5T_class_t cls = H5Tget_class(member.get());
    const bool ok = f.type == FieldType::str
                        ? cls == H5T_STRING && H5Tis_variable_str(member.get()) <= 0
                    : f.type == FieldType::i64 ? cls == H5T_INTEGER
                                               : cls == H5T_FLOAT || cls == H5T_INTEGER;
    if (!ok)
      throw Error("'" + path + "' is not a cellzoo results file: column '" + f.name + "' of /" +
                      dataset_name + " has an unexpected type",
                  "pass a file written by cellzoo (schema in docs/results-format.md)");
    layout.add(f.name, f.type, f.type == FieldType::str ? H5Tget_size(member.get()) : 0);
  }
  return layout;
}

// ----------------------------------------------------------------------------------------
// Strings

void check_fits(const std::string& column, const std::string& value, std::size_t width) {
  if (value.size() > width)
    throw Error("value '" + value.substr(0, 80) + (value.size() > 80 ? "..." : "") +
                    "' of column '" + column + "' is " + std::to_string(value.size()) +
                    " bytes; the results file stores at most " + std::to_string(width),
                "use a shorter value (for a path: a shorter directory or a symlink to it); "
                "the widths are listed in docs/results-format.md");
  if (value.find('\0') != std::string::npos)
    throw Error("value of column '" + column + "' contains a NUL byte",
                "strings in results files are NUL-padded and cannot contain NUL");
}

// Cuts `text` to at most `width` bytes, ending in "..." and never splitting a UTF-8
// character.
std::string truncate_text(const std::string& text, std::size_t width) {
  std::string clean = text;
  std::replace(clean.begin(), clean.end(), '\0', ' ');
  if (clean.size() <= width) return clean;
  std::size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(clean[cut]) & 0xC0) == 0x80) --cut;
  return clean.substr(0, cut) + "...";
}

// ----------------------------------------------------------------------------------------
// Datasets

Handle create_table(hid_t file, const char* name, hid_t file_type, std::size_t row_bytes,
                    const std::string& path) {
  hsize_t dims[1] = {0};
  hsize_t max_dims[1] = {H5S_UNLIMITED};
  // About 16 KiB per chunk: each flush rewrites the partly filled last chunk, so small
  // chunks keep the per-run flush cheap; readers read whole tables anyway.
  hsize_t chunk[1] = {std::max<hsize_t>(8, 16384 / row_bytes)};
  Handle space = detail::space_handle(check(H5Screate_simple(1, dims, max_dims),
                                            "creating the dataspace of /" + std::string(name)));
  Handle dcpl =
      detail::plist_handle(check(H5Pcreate(H5P_DATASET_CREATE), "creating a property list"));
  check_status(H5Pset_chunk(dcpl.get(), 1, chunk), "setting the chunk size");
  // No compression filter: a compressed chunk changes size and moves on every rewrite, and
  // HDF5 may reuse the space it left for another chunk before the next flush, so a kill
  // between two flushes left the on-disk index pointing at overwritten data ("inflate()
  // failed"; measured with test_crash.cpp). Uncompressed chunks are rewritten in place.
  return detail::dataset_handle(
      check(H5Dcreate2(file, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
            "creating /" + std::string(name) + " in '" + path + "'"));
}

hsize_t table_rows(hid_t dataset) {
  Handle space = detail::space_handle(check(H5Dget_space(dataset), "reading a table's size"));
  hsize_t n = 0;
  check_status(H5Sget_simple_extent_dims(space.get(), &n, nullptr) < 0 ? -1 : 0,
               "reading a table's size");
  return n;
}

void append_rows(hid_t dataset, hid_t memory_type, hsize_t& rows, const std::vector<char>& data,
                 hsize_t count, const std::string& what) {
  if (count == 0) return;
  hsize_t new_rows = rows + count;
  check_status(H5Dset_extent(dataset, &new_rows), "extending " + what);
  const hsize_t start = rows;
  rows = new_rows;
  Handle file_space = detail::space_handle(check(H5Dget_space(dataset), "selecting in " + what));
  check_status(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr),
      "selecting in " + what);
  Handle memory_space = detail::space_handle(
      check(H5Screate_simple(1, &count, nullptr), "creating a memory dataspace"));
  check_status(H5Dwrite(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT,
                        data.data()),
               "writing " + what, "is the disk full?");
}

void shrink_table(hid_t dataset, hsize_t& rows, hsize_t new_rows, const std::string& what) {
  if (new_rows >= rows) return;
  check_status(H5Dset_extent(dataset, &new_rows), "shrinking " + what);
  rows = new_rows;
}

std::vector<char> read_table(hid_t dataset, const RowLayout& layout, hsize_t rows,
                             const std::string& path) {
  std::vector<char> data(layout.size() * rows);
  if (rows == 0) return data;
  Handle memory_type = layout.make_type(false);
  if (H5Dread(dataset, memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0) {
    const std::string detail = detail::hdf5_detail();
    throw Error("'" + path + "' is not a readable HDF5 file (truncated or corrupt?): reading " +
                    "its tables failed" + (detail.empty() ? "" : " (HDF5: " + detail + ")"),
                "copy the file again if it was transferred; otherwise rerun its runs");
  }
  return data;
}

// ----------------------------------------------------------------------------------------
// Opening and validating

std::string corrupt_message(const std::string& path) {
  return detail::corrupt_message(path);
}
const char* const kCorruptHint = detail::kCorruptHint;

Handle open_hdf5(const std::string& path, unsigned flags, bool file_locking = true) {
  return detail::open_existing(path, flags, "results file", file_locking);
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    names.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return names;
}

struct OpenedFile {
  Handle file;
  FileMeta meta;
  std::vector<HyperColumn> hyper;
  Handle runs, curves, cells;  // cells may be invalid in files without /cells
  Handle candidates;           // invalid until an evolutionary search writes one
  RowLayout run_layout, curve_layout, cell_layout, candidate_layout = default_candidate_layout();
  hsize_t n_runs = 0, n_curves = 0, n_cells = 0, n_candidates = 0;
};

Handle open_dataset(hid_t file, const char* name, const std::string& path, bool required) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
    if (!required) return {};
    throw Error("'" + path + "' is not a cellzoo results file: it has no /" + std::string(name),
                "pass a file written by cellzoo (schema in docs/results-format.md)");
  }
  const hid_t id = H5Dopen2(file, name, H5P_DEFAULT);
  if (id < 0) throw Error(corrupt_message(path) + ": cannot open /" + name, kCorruptHint);
  return detail::dataset_handle(id);
}

OpenedFile open_results(const std::string& path, unsigned flags, bool file_locking = true) {
  OpenedFile out;
  out.file = open_hdf5(path, flags, file_locking);
  const hid_t f = out.file.get();
  const auto schema = detail::read_string_attribute(f, "schema");
  if (schema != kSchemaName)
    throw Error("'" + path + "' is an HDF5 file but not a cellzoo results file (its root " +
                    "attribute 'schema' is not '" + kSchemaName + "')",
                "pass a file written by cellzoo sweep or cellzoo merge");
  FileMeta& m = out.meta;
  m.schema_version = detail::read_int_attribute(f, "schema_version").value_or(0);
  if (m.schema_version > kSchemaVersion)
    throw Error("'" + path + "' has results schema version " + std::to_string(m.schema_version) +
                    "; this cellzoo reads up to version " + std::to_string(kSchemaVersion),
                "use a newer cellzoo to read it");
  if (m.schema_version < 1)
    throw Error("'" + path + "' is not a cellzoo results file: no valid schema_version",
                "pass a file written by cellzoo sweep or cellzoo merge");
  auto text = [&](const char* name) { return detail::read_string_attribute(f, name).value_or(""); };
  m.spec_text = text("spec_text");
  m.spec_hash = text("spec_hash");
  m.total_runs = detail::read_int_attribute(f, "total_runs").value_or(0);
  m.shard = text("shard");
  m.task = text("task");
  m.metric = text("metric");
  m.metric_higher_is_better =
      detail::read_int_attribute(f, "metric_higher_is_better").value_or(0) != 0;
  m.command_line = text("command_line");
  m.cellzoo_version = text("cellzoo_version");
  m.git_commit = text("git_commit");
  m.compiler = text("compiler");
  m.eigen_version = text("eigen_version");
  m.tbb_version = text("tbb_version");
  m.hdf5_version = text("hdf5_version");
  m.host = text("host");
  m.created_utc = text("created_utc");
  m.finished_utc = text("finished_utc");
  m.merged_from = text("merged_from");
  m.reused_from = text("reused_from");

  out.runs = open_dataset(f, "runs", path, true);
  out.curves = open_dataset(f, "curves", path, true);
  out.cells = open_dataset(f, "cells", path, false);

  // Hyper columns: names from the root attribute, kinds from the stored column types.
  std::vector<HyperColumn> guess;
  for (auto& name : split_names(text("hyperparameters")))
    guess.push_back({name, HyperColumn::number});
  Handle run_type = detail::type_handle(check(H5Dget_type(out.runs.get()), "reading /runs' type"));
  for (auto& h : guess) {
    const int index = H5Tget_member_index(run_type.get(), h.name.c_str());
    if (index < 0)
      throw Error("'" + path + "' is not a cellzoo results file: hyperparameter '" + h.name +
                      "' has no column in /runs",
                  "pass a file written by cellzoo (schema in docs/results-format.md)");
    if (H5Tget_member_class(run_type.get(), static_cast<unsigned>(index)) == H5T_STRING)
      h.kind = HyperColumn::text;
  }
  out.hyper = guess;
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

// ----------------------------------------------------------------------------------------
// Row encoding

std::vector<RunRow> decode_runs(const RowLayout& layout, const std::vector<HyperColumn>& hyper,
                                const std::vector<char>& data, hsize_t rows) {
  std::vector<RunRow> out;
  out.reserve(rows);
  const std::size_t h = hyper.size();
  for (hsize_t r = 0; r < rows; ++r) {
    const char* row = data.data() + r * layout.size();
    RunRow run;
    run.run_key = layout.get_str(row, 1);
    if (run.run_key.empty()) continue;  // reserved by a killed writer, never written
    run.run_id = layout.get_i64(row, 0);
    run.cell = layout.get_str(row, 2);
    run.task = layout.get_str(row, 3);
    run.trial = layout.get_i64(row, 4);
    run.seed = static_cast<std::uint64_t>(layout.get_i64(row, 5));
    run.status = layout.get_str(row, 6);
    run.error = layout.get_str(row, 7);
    for (std::size_t j = 0; j < h; ++j) {
      if (hyper[j].kind == HyperColumn::text)
        run.hyper.emplace_back(layout.get_str(row, kHead + j));
      else
        run.hyper.emplace_back(layout.get_f64(row, kHead + j));
    }
    const std::size_t t = kHead + h;
    run.train_loss = layout.get_f64(row, t + 0);
    run.valid_loss = layout.get_f64(row, t + 1);
    run.test_loss = layout.get_f64(row, t + 2);
    run.valid_metric = layout.get_f64(row, t + 3);
    run.test_metric = layout.get_f64(row, t + 4);
    run.best_epoch = layout.get_i64(row, t + 5);
    run.epochs = layout.get_i64(row, t + 6);
    run.wall_seconds = layout.get_f64(row, t + 7);
    run.n_params = layout.get_i64(row, t + 8);
    out.push_back(std::move(run));
  }
  return out;
}

std::vector<CurveRow> decode_curves(const RowLayout& layout, const std::vector<char>& data,
                                    hsize_t rows) {
  std::vector<CurveRow> out(rows);
  for (hsize_t r = 0; r < rows; ++r) {
    const char* row = data.data() + r * layout.size();
    out[r] = {layout.get_i64(row, 0), layout.get_i64(row, 1), layout.get_f64(row, 2),
              layout.get_f64(row, 3), layout.get_f64(row, 4), layout.get_f64(row, 5),
              layout.get_f64(row, 6)};
  }
  return out;
}

void encode_run(const RowLayout& layout, const std::vector<HyperColumn>& hyper, const RunRow& run,
                char* row) {
  layout.put(row, 0, run.run_id);
  layout.put(row, 1, run.run_key);
  layout.put(row, 2, run.cell);
  layout.put(row, 3, run.task);
  layout.put(row, 4, run.trial);
  layout.put(row, 5, static_cast<std::int64_t>(run.seed));
  layout.put(row, 6, run.status);
  layout.put(row, 7, truncate_text(run.error, layout[7].width));
  for (std::size_t j = 0; j < hyper.size(); ++j) {
    if (hyper[j].kind == HyperColumn::text)
      layout.put(row, kHead + j, std::get<std::string>(run.hyper[j]));
    else
      layout.put(row, kHead + j, std::get<double>(run.hyper[j]));
  }
  const std::size_t t = kHead + hyper.size();
  layout.put(row, t + 0, run.train_loss);
  layout.put(row, t + 1, run.valid_loss);
  layout.put(row, t + 2, run.test_loss);
  layout.put(row, t + 3, run.valid_metric);
  layout.put(row, t + 4, run.test_metric);
  layout.put(row, t + 5, run.best_epoch);
  layout.put(row, t + 6, run.epochs);
  layout.put(row, t + 7, run.wall_seconds);
  layout.put(row, t + 8, run.n_params);
}

std::vector<CandidateRow> decode_candidates(const RowLayout& l, const std::vector<char>& data,
                                            hsize_t rows) {
  std::vector<CandidateRow> out(rows);
  for (hsize_t r = 0; r < rows; ++r) {
    const char* row = data.data() + r * l.size();
    CandidateRow& c = out[r];
    c.shard = l.get_i64(row, 0);
    c.generation = l.get_i64(row, 1);
    c.index = l.get_i64(row, 2);
    c.kind = l.get_str(row, 3);
    c.name = l.get_str(row, 4);
    c.hash = l.get_str(row, 5);
    c.parent_hash = l.get_str(row, 6);
    c.stage = l.get_i64(row, 7);
    c.stage_task = l.get_str(row, 8);
    c.status = l.get_str(row, 9);
    c.fitness = l.get_f64(row, 10);
  }
  return out;
}

void encode_curve(const RowLayout& layout, const CurveRow& c, char* row) {
  layout.put(row, 0, c.run_id);
  layout.put(row, 1, c.epoch);
  layout.put(row, 2, c.train_loss);
  layout.put(row, 3, c.valid_loss);
  layout.put(row, 4, c.valid_metric);
  layout.put(row, 5, c.learning_rate);
  layout.put(row, 6, c.seconds);
}

std::string join_names(const std::vector<HyperColumn>& hyper) {
  std::string names;
  for (const auto& h : hyper) names += (names.empty() ? "" : ",") + h.name;
  return names;
}

void validate_hyper_columns(const std::vector<HyperColumn>& hyper) {
  std::set<std::string> seen;
  for (const auto& h : hyper) {
    if (h.name.empty() || h.name.find_first_of(",\n") != std::string::npos ||
        h.name.find('\0') != std::string::npos)
      throw Error("hyperparameter name '" + h.name + "' cannot be a results column",
                  "use a non-empty name without commas");
    if (is_fixed_run_column(h.name))
      throw Error(
          "hyperparameter '" + h.name + "' clashes with the fixed /runs column of that name",
          "rename the hyperparameter");
    if (!seen.insert(h.name).second)
      throw Error("hyperparameter '" + h.name + "' is listed twice", "list each once");
  }
}

// What a row needs to fit `layout` (a file's /runs): a run_key, strings within their
// widths, one value of the right kind per hyper column. `where` names the file.
void check_run_row(const RowLayout& layout, const std::vector<HyperColumn>& hyper,
                   const RunRow& run, const std::string& where) {
  if (run.run_key.empty())
    throw Error("run " + std::to_string(run.run_id) + " has an empty run_key",
                "every run needs its configuration hash as run_key");
  check_fits("run_key", run.run_key, layout[1].width);
  check_fits("cell", run.cell, layout[2].width);
  check_fits("task", run.task, layout[3].width);
  check_fits("status", run.status, layout[6].width);
  if (run.hyper.size() != hyper.size())
    throw Error("run " + std::to_string(run.run_id) + " has " + std::to_string(run.hyper.size()) +
                    " hyperparameter values; '" + where + "' has " + std::to_string(hyper.size()) +
                    " hyper columns (" + join_names(hyper) + ")",
                "give one value per hyper column, in the file's order");
  for (std::size_t j = 0; j < hyper.size(); ++j) {
    const bool is_text = std::holds_alternative<std::string>(run.hyper[j]);
    if (is_text != (hyper[j].kind == HyperColumn::text))
      throw Error("hyperparameter '" + hyper[j].name + "' of run " + std::to_string(run.run_id) +
                      (is_text ? " is text but the column is numeric"
                               : " is a number but the column holds text"),
                  "give values of the column's kind");
    if (is_text)
      check_fits(hyper[j].name, std::get<std::string>(run.hyper[j]), layout[kHead + j].width);
  }
}

void write_meta(hid_t file, const FileMeta& m, const std::vector<HyperColumn>& hyper) {
  using detail::write_int_attribute;
  using detail::write_string_attribute;
  write_string_attribute(file, "schema", kSchemaName);
  write_int_attribute(file, "schema_version", kSchemaVersion);
  write_string_attribute(file, "spec_text", m.spec_text);
  write_string_attribute(file, "spec_hash", m.spec_hash);
  write_int_attribute(file, "total_runs", m.total_runs);
  write_string_attribute(file, "shard", m.shard);
  write_string_attribute(file, "task", m.task);
  write_string_attribute(file, "metric", m.metric);
  write_int_attribute(file, "metric_higher_is_better", m.metric_higher_is_better ? 1 : 0);
  write_string_attribute(file, "hyperparameters", join_names(hyper));
  write_string_attribute(file, "cellzoo_version", m.cellzoo_version);
  write_string_attribute(file, "git_commit", m.git_commit);
  write_string_attribute(file, "compiler", m.compiler);
  write_string_attribute(file, "eigen_version", m.eigen_version);
  write_string_attribute(file, "tbb_version", m.tbb_version);
  write_string_attribute(file, "hdf5_version", m.hdf5_version);
  write_string_attribute(file, "host", m.host);
  write_string_attribute(file, "command_line", m.command_line);
  write_string_attribute(file, "created_utc", m.created_utc);
  write_string_attribute(file, "finished_utc", m.finished_utc);
  if (!m.merged_from.empty()) write_string_attribute(file, "merged_from", m.merged_from);
  if (!m.reused_from.empty()) write_string_attribute(file, "reused_from", m.reused_from);
}

}  // namespace

// ------------------------------------------------------------------------------------------
// ResultsWriter

struct ResultsWriter::State {
  std::string path;
  OpenedFile f;
  Handle run_type, curve_type, cell_type, candidate_type;  // in-memory compound types
  std::set<std::string> keys;
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> candidate_keys;
  std::set<std::int64_t> ids;
  std::map<std::string, CellText> cells;
  bool closed = false;

  void flush() {
    check_status(H5Fflush(f.file.get(), H5F_SCOPE_GLOBAL), "flushing '" + path + "'",
                 "is the disk full?");
  }
  void require_open() const {
    if (closed) throw Error("results file '" + path + "' was already closed");
  }
  // Loads what is in the file so that duplicates can be refused.
  void index_existing() {
    run_type = f.run_layout.make_type(false);
    curve_type = f.curve_layout.make_type(false);
    if (f.cells.valid()) cell_type = f.cell_layout.make_type(false);
    if (f.candidates.valid()) {
      candidate_type = f.candidate_layout.make_type(false);
      for (const auto& c : decode_candidates(
               f.candidate_layout,
               read_table(f.candidates.get(), f.candidate_layout, f.n_candidates, path),
               f.n_candidates))
        candidate_keys.emplace(c.shard, c.generation, c.index);
    }
    for (const auto& r :
         decode_runs(f.run_layout, f.hyper, read_table(f.runs.get(), f.run_layout, f.n_runs, path),
                     f.n_runs)) {
      keys.insert(r.run_key);
      ids.insert(r.run_id);
    }
    if (f.cells.valid()) {
      const auto data = read_table(f.cells.get(), f.cell_layout, f.n_cells, path);
      for (hsize_t r = 0; r < f.n_cells; ++r) {
        const char* row = data.data() + r * f.cell_layout.size();
        CellText c{f.cell_layout.get_str(row, 0), f.cell_layout.get_str(row, 1),
                   f.cell_layout.get_str(row, 2)};
        cells.emplace(c.name, c);
      }
    }
  }
  void validate(const RunRow& run, std::set<std::string>& batch_keys,
                std::set<std::int64_t>& batch_ids) const {
    check_run_row(f.run_layout, f.hyper, run, path);
    if (keys.count(run.run_key) || !batch_keys.insert(run.run_key).second)
      throw Error("run_key " + run.run_key + " (run " + std::to_string(run.run_id) +
                      ") is already in '" + path + "'",
                  "skip runs listed by run_keys() when resuming");
    if (ids.count(run.run_id) || !batch_ids.insert(run.run_id).second)
      throw Error("run_id " + std::to_string(run.run_id) + " is already in '" + path + "'",
                  "run ids are unique within a file");
  }
  void write(const std::vector<RunRow>& runs, const std::vector<CurveRow>& curves) {
    require_open();
    std::set<std::string> batch_keys;
    std::set<std::int64_t> batch_ids;
    for (const auto& r : runs) validate(r, batch_keys, batch_ids);
    for (const auto& c : curves)
      if (!batch_ids.count(c.run_id))
        throw Error("curve row of run " + std::to_string(c.run_id) +
                        " does not belong to a run appended with it",
                    "pass each run's curve rows together with the run");
    std::vector<char> run_data(runs.size() * f.run_layout.size());
    for (std::size_t i = 0; i < runs.size(); ++i)
      encode_run(f.run_layout, f.hyper, runs[i], run_data.data() + i * f.run_layout.size());
    std::vector<char> curve_data(curves.size() * f.curve_layout.size());
    for (std::size_t i = 0; i < curves.size(); ++i)
      encode_curve(f.curve_layout, curves[i], curve_data.data() + i * f.curve_layout.size());
    QuietErrors quiet;
    // Curves first: a kill between the two leaves orphan curve rows (dropped on resume)
    // rather than a run without its curves.
    append_rows(f.curves.get(), curve_type.get(), f.n_curves, curve_data, curves.size(),
                "/curves of '" + path + "'");
    append_rows(f.runs.get(), run_type.get(), f.n_runs, run_data, runs.size(),
                "/runs of '" + path + "'");
    flush();
    keys.insert(batch_keys.begin(), batch_keys.end());
    ids.insert(batch_ids.begin(), batch_ids.end());
  }
};

ResultsWriter::ResultsWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
ResultsWriter::ResultsWriter(ResultsWriter&&) noexcept = default;
ResultsWriter& ResultsWriter::operator=(ResultsWriter&&) noexcept = default;

ResultsWriter::~ResultsWriter() {
  if (!state_ || state_->closed) return;
  QuietErrors quiet;
  H5Fflush(state_->f.file.get(), H5F_SCOPE_GLOBAL);
}

ResultsWriter ResultsWriter::create(const std::string& path, const FileMeta& meta,
                                    std::vector<HyperColumn> hyper_columns) {
  validate_hyper_columns(hyper_columns);
  if (meta.spec_hash.empty())
    throw Error("cannot create '" + path + "': FileMeta.spec_hash is empty",
                "set the hash of the resolved spec (resume and merge compare it)");
  QuietErrors quiet;
  std::error_code ec;
  if (fs::exists(path, ec))
    throw Error(
        "results file '" + path + "' already exists; cellzoo never overwrites a results file",
        "resume it with --resume, choose another --out, or delete the old file yourself");
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) {
    const std::string detail = detail::hdf5_detail();
    if (fs::exists(path, ec))
      throw Error(
          "results file '" + path + "' already exists; cellzoo never overwrites a results file",
          "resume it with --resume, choose another --out, or delete the old file yourself");
    const fs::path parent = fs::absolute(fs::path(path), ec).parent_path();
    std::string why = "cannot create results file '" + path + "'";
    if (!fs::exists(parent, ec))
      why += ": directory '" + parent.string() + "' does not exist";
    else if (!fs::is_directory(parent, ec))
      why += ": '" + parent.string() + "' is not a directory";
    if (!detail.empty()) why += " (HDF5: " + detail + ")";
    throw Error(
        why,
        "write to an existing directory you may write in (mkdir -p it), or choose another --out");
  }
  auto state = std::make_unique<State>();
  state->path = path;
  OpenedFile& f = state->f;
  f.file = detail::file_handle(id);
  f.meta = meta;
  FileMeta& m = f.meta;
  const BuildInfo& build = build_info();
  m.schema_version = kSchemaVersion;
  m.cellzoo_version = build.version;
  m.git_commit = build.git_commit;
  m.compiler = build.compiler;
  m.eigen_version = build.eigen_version;
  m.tbb_version = TBB_runtime_version();
  m.hdf5_version = detail::hdf5_library_version();
  m.host = detail::host_name();
  m.created_utc = detail::utc_now();
  m.finished_utc.clear();
  f.hyper = std::move(hyper_columns);
  f.run_layout = default_run_layout(f.hyper);
  f.curve_layout = default_curve_layout();
  f.cell_layout = default_cell_layout();
  try {
    f.runs =
        create_table(id, "runs", f.run_layout.make_type(true).get(), f.run_layout.size(), path);
    f.curves = create_table(id, "curves", f.curve_layout.make_type(true).get(),
                            f.curve_layout.size(), path);
    f.cells =
        create_table(id, "cells", f.cell_layout.make_type(true).get(), f.cell_layout.size(), path);
    write_meta(id, m, f.hyper);  // last: a file with the schema attribute is complete
    state->run_type = f.run_layout.make_type(false);
    state->curve_type = f.curve_layout.make_type(false);
    state->cell_type = f.cell_layout.make_type(false);
    state->flush();
  } catch (...) {
    // The file is ours and incomplete: do not leave a half-made results file behind.
    state.reset();
    fs::remove(path, ec);
    throw;
  }
  return ResultsWriter(std::move(state));
}

ResultsWriter ResultsWriter::open_for_resume(const std::string& path,
                                             const std::string& expected_spec_hash) {
  QuietErrors quiet;
  {
    // Validate read-only first, so that a refused file is never opened for writing.
    OpenedFile probe = open_results(path, H5F_ACC_RDONLY);
    if (probe.meta.spec_hash != expected_spec_hash)
      throw Error("'" + path + "' was written by another spec (spec_hash " + probe.meta.spec_hash +
                      ", this spec has " + expected_spec_hash + "; command: " +
                      (probe.meta.command_line.empty() ? "unknown" : probe.meta.command_line) + ")",
                  "resume only with the spec that made the file, or write this one with --out to "
                  "another file");
  }
  auto state = std::make_unique<State>();
  state->path = path;
  state->f = open_results(path, H5F_ACC_RDWR);
  state->index_existing();
  OpenedFile& f = state->f;
  // Drop what a writer killed inside append() may have left at the ends of the tables.
  hsize_t runs_end = f.n_runs;
  if (runs_end > 0) {
    const auto data = read_table(f.runs.get(), f.run_layout, f.n_runs, path);
    while (runs_end > 0 &&
           f.run_layout.get_str(data.data() + (runs_end - 1) * f.run_layout.size(), 1).empty())
      --runs_end;
  }
  hsize_t curves_end = f.n_curves;
  if (curves_end > 0) {
    const auto curves = decode_curves(
        f.curve_layout, read_table(f.curves.get(), f.curve_layout, f.n_curves, path), f.n_curves);
    while (curves_end > 0 &&
           (curves[curves_end - 1].epoch <= 0 || !state->ids.count(curves[curves_end - 1].run_id)))
      --curves_end;
  }
  if (runs_end < f.n_runs || curves_end < f.n_curves) {
    shrink_table(f.runs.get(), f.n_runs, runs_end, "/runs of '" + path + "'");
    shrink_table(f.curves.get(), f.n_curves, curves_end, "/curves of '" + path + "'");
    state->flush();
  }
  return ResultsWriter(std::move(state));
}

void ResultsWriter::check(const RunRow& run) const {
  state_->require_open();
  std::set<std::string> batch_keys;
  std::set<std::int64_t> batch_ids;
  state_->validate(run, batch_keys, batch_ids);
}

void ResultsWriter::check_new(const RunRow& run, const std::vector<HyperColumn>& hyper) {
  validate_hyper_columns(hyper);
  check_run_row(default_run_layout(hyper), hyper, run, "a new results file");
}

void ResultsWriter::append(const RunRow& run, const std::vector<CurveRow>& curves) {
  state_->write({run}, curves);
}

void ResultsWriter::append_batch(const std::vector<RunRow>& runs,
                                 const std::vector<CurveRow>& curves) {
  state_->write(runs, curves);
}

void ResultsWriter::add_cell(const CellText& cell) {
  State& s = *state_;
  s.require_open();
  if (!s.f.cells.valid())
    throw Error("'" + s.path + "' has no /cells table (written by an older cellzoo)",
                "write this sweep to a new file");
  if (auto it = s.cells.find(cell.name); it != s.cells.end()) {
    if (it->second == cell) return;
    throw Error("cell '" + cell.name + "' is already in '" + s.path + "' with another text (hash " +
                    it->second.hash + ", now " + cell.hash + ")",
                "give the changed cell another name, or write to a new file");
  }
  check_fits("cells.name", cell.name, s.f.cell_layout[0].width);
  check_fits("cells.hash", cell.hash, s.f.cell_layout[1].width);
  check_fits("cells.text", cell.text, s.f.cell_layout[2].width);
  std::vector<char> data(s.f.cell_layout.size());
  s.f.cell_layout.put(data.data(), 0, cell.name);
  s.f.cell_layout.put(data.data(), 1, cell.hash);
  s.f.cell_layout.put(data.data(), 2, cell.text);
  QuietErrors quiet;
  append_rows(s.f.cells.get(), s.cell_type.get(), s.f.n_cells, data, 1,
              "/cells of '" + s.path + "'");
  s.flush();
  s.cells.emplace(cell.name, cell);
}

void ResultsWriter::add_candidate(const CandidateRow& c) {
  State& s = *state_;
  s.require_open();
  const auto key = std::make_tuple(c.shard, c.generation, c.index);
  if (s.candidate_keys.count(key))
    throw Error("candidate (shard " + std::to_string(c.shard) + ", generation " +
                    std::to_string(c.generation) + ", index " + std::to_string(c.index) +
                    ") is already in '" + s.path + "'",
                "skip the rows candidates() returns when resuming");
  QuietErrors quiet;
  OpenedFile& f = s.f;
  if (!f.candidates.valid()) {
    f.candidate_layout = default_candidate_layout();
    f.candidates =
        create_table(f.file.get(), "candidates", f.candidate_layout.make_type(true).get(),
                     f.candidate_layout.size(), s.path);
    f.n_candidates = 0;
    s.candidate_type = f.candidate_layout.make_type(false);
  }
  const RowLayout& l = f.candidate_layout;
  check_fits("candidates.kind", c.kind, l[3].width);
  check_fits("candidates.name", c.name, l[4].width);
  check_fits("candidates.hash", c.hash, l[5].width);
  check_fits("candidates.parent_hash", c.parent_hash, l[6].width);
  check_fits("candidates.stage_task", c.stage_task, l[8].width);
  check_fits("candidates.status", c.status, l[9].width);
  std::vector<char> data(l.size());
  char* row = data.data();
  l.put(row, 0, c.shard);
  l.put(row, 1, c.generation);
  l.put(row, 2, c.index);
  l.put(row, 3, c.kind);
  l.put(row, 4, c.name);
  l.put(row, 5, c.hash);
  l.put(row, 6, c.parent_hash);
  l.put(row, 7, c.stage);
  l.put(row, 8, c.stage_task);
  l.put(row, 9, c.status);
  l.put(row, 10, c.fitness);
  append_rows(f.candidates.get(), s.candidate_type.get(), f.n_candidates, data, 1,
              "/candidates of '" + s.path + "'");
  s.flush();
  s.candidate_keys.insert(key);
}

std::vector<CandidateRow> ResultsWriter::candidates() const {
  const State& s = *state_;
  s.require_open();
  QuietErrors quiet;
  if (!s.f.candidates.valid()) return {};
  return decode_candidates(
      s.f.candidate_layout,
      read_table(s.f.candidates.get(), s.f.candidate_layout, s.f.n_candidates, s.path),
      s.f.n_candidates);
}

void ResultsWriter::record_reuse(const std::string& line) {
  State& s = *state_;
  s.require_open();
  QuietErrors quiet;
  s.f.meta.reused_from += (s.f.meta.reused_from.empty() ? "" : "\n") + line;
  detail::write_string_attribute(s.f.file.get(), "reused_from", s.f.meta.reused_from);
  s.flush();
}

void ResultsWriter::set_finished() {
  State& s = *state_;
  s.require_open();
  QuietErrors quiet;
  s.f.meta.finished_utc = detail::utc_now();
  detail::write_string_attribute(s.f.file.get(), "finished_utc", s.f.meta.finished_utc);
  s.flush();
}

void ResultsWriter::close() {
  State& s = *state_;
  s.require_open();
  QuietErrors quiet;
  s.flush();
  s.closed = true;
  s.run_type.reset();
  s.curve_type.reset();
  s.cell_type.reset();
  s.candidate_type.reset();
  s.f.candidates.reset();
  s.f.runs.reset();
  s.f.curves.reset();
  s.f.cells.reset();
  if (!s.f.file.reset())
    throw Error("closing results file '" + s.path + "' failed", "is the disk full?");
}

const std::string& ResultsWriter::path() const {
  return state_->path;
}
const FileMeta& ResultsWriter::meta() const {
  return state_->f.meta;
}
const std::vector<HyperColumn>& ResultsWriter::hyper_columns() const {
  return state_->f.hyper;
}
std::set<std::string> ResultsWriter::run_keys() const {
  return state_->keys;
}
std::size_t ResultsWriter::run_count() const {
  return state_->keys.size();
}

// ------------------------------------------------------------------------------------------
// ResultsReader

struct ResultsReader::State {
  std::string path;
  OpenedFile f;
};

ResultsReader::ResultsReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
ResultsReader::ResultsReader(ResultsReader&&) noexcept = default;
ResultsReader& ResultsReader::operator=(ResultsReader&&) noexcept = default;
ResultsReader::~ResultsReader() = default;

ResultsReader ResultsReader::open(const std::string& path, bool file_locking) {
  QuietErrors quiet;
  auto state = std::make_unique<State>();
  state->path = path;
  state->f = open_results(path, H5F_ACC_RDONLY, file_locking);
  return ResultsReader(std::move(state));
}

ResultsSnapshot read_snapshot(const std::string& path, int attempts) {
  const auto read_all = [&](bool file_locking) {
    const auto reader = ResultsReader::open(path, file_locking);
    ResultsSnapshot s;
    s.meta = reader.meta();
    s.hyper = reader.hyper_columns();
    s.runs = reader.runs();
    s.cells = reader.cells();
    s.candidates = reader.candidates();
    s.while_written = !file_locking;
    return s;
  };
  try {
    return read_all(true);
  } catch (const detail::FileLocked&) {
  }
  // A writer has the file open. It flushes after every run, so between its flushes the
  // file on disk is complete; a read that overlaps a flush fails (or sees a reserved
  // row, which the readers skip) and is retried.
  for (int attempt = 1;; ++attempt) {
    try {
      return read_all(false);
    } catch (const Error& e) {
      if (attempt >= attempts)
        throw Error(std::string(e.what()) + " (read while a sweep is writing it; " +
                        std::to_string(attempts) + " attempts)",
                    "try again, or wait until the sweep finishes");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

const std::string& ResultsReader::path() const {
  return state_->path;
}
const FileMeta& ResultsReader::meta() const {
  return state_->f.meta;
}
const std::vector<HyperColumn>& ResultsReader::hyper_columns() const {
  return state_->f.hyper;
}

std::vector<RunRow> ResultsReader::runs() const {
  QuietErrors quiet;
  const OpenedFile& f = state_->f;
  return decode_runs(f.run_layout, f.hyper,
                     read_table(f.runs.get(), f.run_layout, f.n_runs, state_->path), f.n_runs);
}

std::vector<CurveRow> ResultsReader::curves() const {
  QuietErrors quiet;
  const OpenedFile& f = state_->f;
  return decode_curves(f.curve_layout,
                       read_table(f.curves.get(), f.curve_layout, f.n_curves, state_->path),
                       f.n_curves);
}

std::vector<CellText> ResultsReader::cells() const {
  QuietErrors quiet;
  const OpenedFile& f = state_->f;
  std::vector<CellText> out;
  if (!f.cells.valid()) return out;
  const auto data = read_table(f.cells.get(), f.cell_layout, f.n_cells, state_->path);
  for (hsize_t r = 0; r < f.n_cells; ++r) {
    const char* row = data.data() + r * f.cell_layout.size();
    out.push_back({f.cell_layout.get_str(row, 0), f.cell_layout.get_str(row, 1),
                   f.cell_layout.get_str(row, 2)});
  }
  return out;
}

std::vector<CandidateRow> ResultsReader::candidates() const {
  QuietErrors quiet;
  const OpenedFile& f = state_->f;
  if (!f.candidates.valid()) return {};
  return decode_candidates(
      f.candidate_layout,
      read_table(f.candidates.get(), f.candidate_layout, f.n_candidates, state_->path),
      f.n_candidates);
}

}  // namespace cellzoo::store
