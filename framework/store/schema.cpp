// Encoding, decoding and checking the results file's rows and root attributes.
#include "framework/store/schema.hpp"

#include <algorithm>
#include <set>
#include <variant>

namespace cellzoo::store::detail {

namespace {

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

std::string join_names(const std::vector<HyperColumn>& hyper) {
  std::string names;
  for (const auto& h : hyper) names += (names.empty() ? "" : ",") + h.name;
  return names;
}

}  // namespace

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
    if (layout.fields().size() > t + kTail) {  // the accuracy columns (kRunOptional)
      run.valid_accuracy = layout.get_f64(row, t + kTail);
      run.test_accuracy = layout.get_f64(row, t + kTail + 1);
      run.valid_sequence_accuracy = layout.get_f64(row, t + kTail + 2);
      run.test_sequence_accuracy = layout.get_f64(row, t + kTail + 3);
    }
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
  if (layout.fields().size() > t + kTail) {
    layout.put(row, t + kTail, run.valid_accuracy);
    layout.put(row, t + kTail + 1, run.test_accuracy);
    layout.put(row, t + kTail + 2, run.valid_sequence_accuracy);
    layout.put(row, t + kTail + 3, run.test_sequence_accuracy);
  }
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

std::vector<CellText> decode_cells(const RowLayout& layout, const std::vector<char>& data,
                                   hsize_t rows) {
  std::vector<CellText> out;
  for (hsize_t r = 0; r < rows; ++r) {
    const char* row = data.data() + r * layout.size();
    out.push_back({layout.get_str(row, 0), layout.get_str(row, 1), layout.get_str(row, 2)});
  }
  return out;
}

void encode_cell(const RowLayout& layout, const CellText& cell, char* row) {
  layout.put(row, 0, cell.name);
  layout.put(row, 1, cell.hash);
  layout.put(row, 2, cell.text);
}

void encode_candidate(const RowLayout& l, const CandidateRow& c, char* row) {
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

void check_cell_text(const RowLayout& layout, const CellText& cell) {
  check_fits("cells.name", cell.name, layout[0].width);
  check_fits("cells.hash", cell.hash, layout[1].width);
  check_fits("cells.text", cell.text, layout[2].width);
}

void check_candidate_row(const RowLayout& l, const CandidateRow& c) {
  check_fits("candidates.kind", c.kind, l[3].width);
  check_fits("candidates.name", c.name, l[4].width);
  check_fits("candidates.hash", c.hash, l[5].width);
  check_fits("candidates.parent_hash", c.parent_hash, l[6].width);
  check_fits("candidates.stage_task", c.stage_task, l[8].width);
  check_fits("candidates.status", c.status, l[9].width);
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
  write_string_attribute(file, "git_dirty", m.git_dirty);
  write_string_attribute(file, "git_diff_hash", m.git_diff_hash);
  write_string_attribute(file, "compile_flags", m.compile_flags);
  write_string_attribute(file, "isa", m.isa);
  write_string_attribute(file, "cpu_model", m.cpu_model);
  write_string_attribute(file, "os", m.os);
  write_string_attribute(file, "numerical_path", m.numerical_path);
  if (!m.slurm_job_id.empty()) write_string_attribute(file, "slurm_job_id", m.slurm_job_id);
  if (!m.slurm_array_task_id.empty())
    write_string_attribute(file, "slurm_array_task_id", m.slurm_array_task_id);
  write_string_attribute(file, "command_line", m.command_line);
  write_string_attribute(file, "created_utc", m.created_utc);
  write_string_attribute(file, "finished_utc", m.finished_utc);
  if (!m.merged_from.empty()) write_string_attribute(file, "merged_from", m.merged_from);
  if (!m.reused_from.empty()) write_string_attribute(file, "reused_from", m.reused_from);
}

FileMeta read_meta(hid_t f, const std::string& path) {
  const auto schema = read_string_attribute(f, "schema");
  if (schema != kSchemaName)
    throw Error("'" + path + "' is an HDF5 file but not a cellzoo results file (its root " +
                    "attribute 'schema' is not '" + kSchemaName + "')",
                "pass a file written by cellzoo sweep or cellzoo merge");
  FileMeta m;
  m.schema_version = read_int_attribute(f, "schema_version").value_or(0);
  if (m.schema_version > kSchemaVersion)
    throw Error("'" + path + "' has results schema version " + std::to_string(m.schema_version) +
                    "; this cellzoo reads up to version " + std::to_string(kSchemaVersion),
                "use a newer cellzoo to read it");
  if (m.schema_version < 1)
    throw Error("'" + path + "' is not a cellzoo results file: no valid schema_version",
                "pass a file written by cellzoo sweep or cellzoo merge");
  auto text = [&](const char* name) { return read_string_attribute(f, name).value_or(""); };
  m.spec_text = text("spec_text");
  m.spec_hash = text("spec_hash");
  m.total_runs = read_int_attribute(f, "total_runs").value_or(0);
  m.shard = text("shard");
  m.task = text("task");
  m.metric = text("metric");
  m.metric_higher_is_better = read_int_attribute(f, "metric_higher_is_better").value_or(0) != 0;
  m.command_line = text("command_line");
  m.cellzoo_version = text("cellzoo_version");
  m.git_commit = text("git_commit");
  m.compiler = text("compiler");
  m.eigen_version = text("eigen_version");
  m.tbb_version = text("tbb_version");
  m.hdf5_version = text("hdf5_version");
  m.host = text("host");
  m.git_dirty = text("git_dirty");
  m.git_diff_hash = text("git_diff_hash");
  m.compile_flags = text("compile_flags");
  m.isa = text("isa");
  m.cpu_model = text("cpu_model");
  m.os = text("os");
  m.numerical_path = text("numerical_path");
  m.slurm_job_id = text("slurm_job_id");
  m.slurm_array_task_id = text("slurm_array_task_id");
  m.created_utc = text("created_utc");
  m.finished_utc = text("finished_utc");
  m.merged_from = text("merged_from");
  m.reused_from = text("reused_from");
  return m;
}

std::vector<HyperColumn> read_hyper_columns(hid_t f, hid_t runs, const std::string& path) {
  std::vector<HyperColumn> guess;
  for (auto& name : split_names(read_string_attribute(f, "hyperparameters").value_or("")))
    guess.push_back({name, HyperColumn::number});
  Handle run_type = type_handle(check(H5Dget_type(runs), "reading /runs' type"));
  for (auto& h : guess) {
    const int index = H5Tget_member_index(run_type.get(), h.name.c_str());
    if (index < 0)
      throw Error("'" + path + "' is not a cellzoo results file: hyperparameter '" + h.name +
                      "' has no column in /runs",
                  "pass a file written by cellzoo (schema in docs/results-format.md)");
    if (H5Tget_member_class(run_type.get(), static_cast<unsigned>(index)) == H5T_STRING)
      h.kind = HyperColumn::text;
  }
  return guess;
}

}  // namespace cellzoo::store::detail
