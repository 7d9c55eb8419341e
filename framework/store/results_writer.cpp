// ResultsWriter: creates a results file or reopens one to resume it, and appends runs,
// curves, cells and candidates, flushing after each so that a killed process leaves a
// readable file.
#include <oneapi/tbb/version.h>

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "framework/store/hdf5_util.hpp"
#include "framework/store/opened_file.hpp"
#include "framework/store/provenance_io.hpp"
#include "framework/store/results_file.hpp"
#include "framework/store/row_layout.hpp"
#include "framework/store/schema.hpp"
#include "framework/store/table_io.hpp"
#include "framework/util/build_info.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::store {

using detail::check;
using detail::check_status;
using detail::Handle;
using detail::OpenedFile;
using detail::QuietErrors;
using detail::RowLayout;

using detail::append_rows;
using detail::check_candidate_row;
using detail::check_cell_text;
using detail::check_run_row;
using detail::create_table;
using detail::decode_candidates;
using detail::decode_cells;
using detail::decode_curves;
using detail::decode_runs;
using detail::default_candidate_layout;
using detail::default_cell_layout;
using detail::default_curve_layout;
using detail::default_run_layout;
using detail::encode_candidate;
using detail::encode_cell;
using detail::encode_curve;
using detail::encode_run;
using detail::open_results;
using detail::read_table;
using detail::shrink_table;
using detail::validate_hyper_columns;
using detail::write_meta;

namespace fs = std::filesystem;

struct ResultsWriter::State {
  std::string path;
  OpenedFile f;
  Handle run_type, curve_type, cell_type, candidate_type;  // in-memory compound types
  RunKeySet keys;  // of the rows in the file: 40 bytes a run
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> candidate_keys;
  std::set<std::int64_t> ids;
  std::map<std::string, CellText> cells;
  detail::SessionWriter session;  // this writer's /provenance session
  bool closed = false;
  bool failed = false;  // a write failed: nothing more is written, close() only releases

  void flush() {
    check_status(H5Fflush(f.file.get(), H5F_SCOPE_GLOBAL), "flushing '" + path + "'");
  }
  void require_open() const {
    if (closed) throw Error("results file '" + path + "' was already closed");
    if (failed)
      throw Error("results file '" + path + "' is not written to after a failed write",
                  "re-run the command: it resumes after the runs safe in the file");
  }
  // Closes every HDF5 identifier of the file, ignoring failures (after a failed write the
  // file's last flush is what stays on disk; a close cannot make it better).
  void abandon() {
    closed = true;
    session.run_ids.reset();
    session.group.reset();
    run_type.reset();
    curve_type.reset();
    cell_type.reset();
    candidate_type.reset();
    f.candidates.reset();
    f.runs.reset();
    f.curves.reset();
    f.cells.reset();
    f.file.reset();
  }
  // Runs `write` (HDF5 writes ending with a flush). A failure marks the writer failed and
  // becomes one error that says what is safe: every run appended before was flushed.
  template <typename F>
  void guarded(const std::string& what, F&& write) {
    try {
      write();
    } catch (const detail::Hdf5Error& e) {
      failed = true;
      const std::string safe = std::to_string(keys.size()) +
                               (keys.size() == 1 ? " run is" : " runs are") + " safe in it";
      if (detail::is_no_space(e.sys_errno()))
        throw detail::NoSpace(
            "no space left on device while writing " + what + " to '" + path + "'; " + safe,
            "free space on that filesystem, then re-run the same command: it "
            "keeps the safe runs and continues after them");
      throw Error(std::string(e.what()) + "; " + safe,
                  "re-run the same command: it keeps the safe runs and continues after them");
    }
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
    for (const auto& [id, key] : detail::read_run_keys(f, path)) {  // not the whole rows
      (void)keys.insert(key);
      ids.insert(id);
    }
    if (f.cells.valid())
      for (auto& c : decode_cells(
               f.cell_layout, read_table(f.cells.get(), f.cell_layout, f.n_cells, path), f.n_cells))
        cells.emplace(c.name, c);
  }
  void validate(const RunRow& run, std::set<std::string>& batch_keys,
                std::set<std::int64_t>& batch_ids) const {
    check_run_row(f.run_layout, f.hyper, run, path);
    if (keys.contains(run.run_key) || !batch_keys.insert(run.run_key).second)
      throw Error("run_key " + run.run_key + " (run " + std::to_string(run.run_id) +
                      ") is already in '" + path + "'",
                  "skip runs listed by run_keys() when resuming");
    if (ids.count(run.run_id) || !batch_ids.insert(run.run_id).second)
      throw Error("run_id " + std::to_string(run.run_id) + " is already in '" + path + "'",
                  "run ids are unique within a file");
  }
  void begin_session(const std::string& role) {
    Session own;
    own.facts = this_process_facts(role, f.meta.shard, f.meta.command_line);
    session = detail::add_session(f.file.get(), own, path);
  }
  void write(const std::vector<RunRow>& runs, const std::vector<CurveRow>& curves,
             const std::vector<Session>& origins = {}, bool record_sessions = true) {
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
    guarded(runs.size() == 1 ? "run " + std::to_string(runs[0].run_id) : "runs", [&] {
      // Curves first: a kill between the two leaves orphan curve rows (dropped on resume)
      // rather than a run without its curves.
      append_rows(f.curves.get(), curve_type.get(), f.n_curves, curve_data, curves.size(),
                  "/curves of '" + path + "'");
      append_rows(f.runs.get(), run_type.get(), f.n_runs, run_data, runs.size(),
                  "/runs of '" + path + "'");
      // Then their sessions: a kill before this flush leaves runs no session lists, which
      // readers attribute to an "unrecorded" session.
      if (!record_sessions) {
      } else if (origins.empty()) {
        std::vector<std::int64_t> run_ids;
        for (const auto& r : runs) run_ids.push_back(r.run_id);
        detail::append_session_runs(session, run_ids, path);
      } else {
        for (const auto& origin : origins) (void)detail::add_session(f.file.get(), origin, path);
      }
      flush();
    });
    for (const auto& key : batch_keys) (void)keys.insert(make_run_key(key));
    ids.insert(batch_ids.begin(), batch_ids.end());
  }
};

ResultsWriter::ResultsWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
ResultsWriter::ResultsWriter(ResultsWriter&&) noexcept = default;
ResultsWriter& ResultsWriter::operator=(ResultsWriter&&) noexcept = default;

ResultsWriter::~ResultsWriter() {
  if (!state_ || state_->closed) return;
  QuietErrors quiet;
  if (!state_->failed) H5Fflush(state_->f.file.get(), H5F_SCOPE_GLOBAL);
  state_->abandon();
}

ResultsWriter ResultsWriter::create(const std::string& path, const FileMeta& meta,
                                    std::vector<HyperColumn> hyper_columns) {
  validate_hyper_columns(hyper_columns);
  if (meta.spec_hash.empty())
    throw Error("cannot create '" + path + "': FileMeta.spec_hash is empty",
                "set the hash of the resolved spec (resume and merge compare it)");
  QuietErrors quiet;
  detail::NewFile created(path, "results file",
                          "a sweep resumes its file: re-run the same command; otherwise choose "
                          "another --out, or delete the old file yourself");
  auto state = std::make_unique<State>();
  state->path = path;
  OpenedFile& f = state->f;
  f.file = created.take();
  const hid_t id = f.file.get();
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
  m.git_dirty = build.git_dirty;
  m.git_diff_hash = build.git_diff_hash;
  m.compile_flags = build.compile_flags;
  m.isa = build.isa;
  m.cpu_model = host_info().cpu_model;
  m.os = host_info().os;
  if (meta.merged_from.empty() || meta.numerical_path.empty()) m.numerical_path = numerical_path();
  {
    const auto facts = this_process_facts("", "", "");
    const auto get = [&](const char* k) {
      const auto it = facts.find(k);
      return it == facts.end() ? std::string() : it->second;
    };
    m.slurm_job_id = get("slurm_job_id");
    m.slurm_array_task_id = get("slurm_array_task_id");
  }
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
    state->begin_session(m.merged_from.empty() ? "sweep" : "merge");
    write_meta(id, m, f.hyper);  // last: a file with the schema attribute is complete
    state->run_type = f.run_layout.make_type(false);
    state->curve_type = f.curve_layout.make_type(false);
    state->cell_type = f.cell_layout.make_type(false);
    state->flush();
    created.publish();
  } catch (const detail::Hdf5Error& e) {
    // The file is ours and incomplete: `created` removes it.
    state->abandon();
    if (detail::is_no_space(e.sys_errno()))
      throw detail::NoSpace(
          "no space left on device to create results file '" + path + "'; nothing was written",
          "free space on that filesystem, then re-run the same command");
    throw;
  } catch (...) {
    state->abandon();
    throw;
  }
  return ResultsWriter(std::move(state));
}

namespace {

std::string shard_name(const std::string& shard) {
  return shard.empty() ? "the whole sweep (no --shard)" : "shard " + shard;
}

}  // namespace

bool results_file_present(const std::string& path) {
  std::error_code ec;
  return (fs::exists(path, ec) || fs::is_symlink(path, ec)) && !detail::is_empty_file(path);
}

ResultsWriter ResultsWriter::open_for_resume(const std::string& path,
                                             const std::string& expected_spec_hash,
                                             const std::optional<std::string>& expected_shard) {
  QuietErrors quiet;
  {
    // Validate read-only first, so that a refused file is never opened for writing.
    OpenedFile probe = open_results(path, H5F_ACC_RDONLY);
    if (expected_shard && probe.meta.spec_hash == expected_spec_hash &&
        probe.meta.shard != *expected_shard)
      throw Error("'" + path + "' holds " + shard_name(probe.meta.shard) +
                      " of this spec, but this command runs " + shard_name(*expected_shard) +
                      "; resuming would mix the two in one file",
                  (probe.meta.shard.empty() ? std::string("drop --shard to resume it")
                                            : "resume it with --shard " + probe.meta.shard) +
                      ", or give " + shard_name(*expected_shard) + " its own --out file");
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
  // Only the last rows are read (a resume of a million-run file reads no whole table).
  const auto key_column = detail::run_columns(f.run_layout, {"run_key"});
  hsize_t runs_end = f.n_runs;
  while (runs_end > 0 &&
         key_column
             .get_str(detail::read_rows(f.runs.get(), key_column, runs_end - 1, 1, path).data(), 0)
             .empty())
    --runs_end;
  hsize_t curves_end = f.n_curves;
  while (curves_end > 0) {
    const auto last = decode_curves(
        f.curve_layout, detail::read_rows(f.curves.get(), f.curve_layout, curves_end - 1, 1, path),
        1);
    if (last[0].epoch > 0 && state->ids.count(last[0].run_id)) break;
    --curves_end;
  }
  if (runs_end < f.n_runs || curves_end < f.n_curves) {
    state->guarded("the repaired table ends", [&] {
      shrink_table(f.runs.get(), f.n_runs, runs_end, "/runs of '" + path + "'");
      shrink_table(f.curves.get(), f.n_curves, curves_end, "/curves of '" + path + "'");
      state->flush();
    });
  }
  state->guarded("the resume's provenance session", [&] {
    state->begin_session("resume");
    state->flush();
  });
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
                                 const std::vector<CurveRow>& curves,
                                 const std::vector<Session>& origins) {
  state_->write(runs, curves, origins);
}

void ResultsWriter::append_unrecorded(const std::vector<RunRow>& runs,
                                      const std::vector<CurveRow>& curves) {
  state_->write(runs, curves, {}, false);
}

void ResultsWriter::add_sessions(const std::vector<Session>& origins) {
  State& s = *state_;
  s.require_open();
  QuietErrors quiet;
  s.guarded("the merged runs' sessions", [&] {
    for (const auto& origin : origins) (void)detail::add_session(s.f.file.get(), origin, s.path);
    s.flush();
  });
}

std::vector<Session> ResultsWriter::sessions() const {
  const State& s = *state_;
  s.require_open();
  QuietErrors quiet;
  return detail::read_sessions(s.f.file.get(), s.path);
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
  check_cell_text(s.f.cell_layout, cell);
  std::vector<char> data(s.f.cell_layout.size());
  encode_cell(s.f.cell_layout, cell, data.data());
  QuietErrors quiet;
  s.guarded("the text of cell " + cell.name, [&] {
    append_rows(s.f.cells.get(), s.cell_type.get(), s.f.n_cells, data, 1,
                "/cells of '" + s.path + "'");
    s.flush();
  });
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
    s.guarded("the /candidates table", [&] {
      f.candidate_layout = default_candidate_layout();
      f.candidates =
          create_table(f.file.get(), "candidates", f.candidate_layout.make_type(true).get(),
                       f.candidate_layout.size(), s.path);
      f.n_candidates = 0;
      s.candidate_type = f.candidate_layout.make_type(false);
    });
  }
  const RowLayout& l = f.candidate_layout;
  check_candidate_row(l, c);
  std::vector<char> data(l.size());
  encode_candidate(l, c, data.data());
  s.guarded("a candidate", [&] {
    append_rows(f.candidates.get(), s.candidate_type.get(), f.n_candidates, data, 1,
                "/candidates of '" + s.path + "'");
    s.flush();
  });
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
  s.guarded("the reused_from attribute", [&] {
    detail::write_string_attribute(s.f.file.get(), "reused_from", s.f.meta.reused_from);
    s.flush();
  });
}

void ResultsWriter::set_finished() {
  State& s = *state_;
  s.require_open();
  QuietErrors quiet;
  s.f.meta.finished_utc = detail::utc_now();
  s.guarded("the finished_utc attribute", [&] {
    detail::write_string_attribute(s.f.file.get(), "finished_utc", s.f.meta.finished_utc);
    s.flush();
  });
}

void ResultsWriter::close() {
  State& s = *state_;
  if (s.closed) throw Error("results file '" + s.path + "' was already closed");
  QuietErrors quiet;
  if (s.failed) {  // the failure was reported; what its last flush wrote stays
    s.abandon();
    return;
  }
  s.guarded("the file's last changes", [&] {
    if (s.session.group.valid()) {
      detail::write_string_attribute(s.session.group.get(), "finished_utc", detail::utc_now());
      s.session.run_ids.reset();
      s.session.group.reset();
    }
    s.flush();
  });
  s.run_type.reset();
  s.curve_type.reset();
  s.cell_type.reset();
  s.candidate_type.reset();
  s.f.candidates.reset();
  s.f.runs.reset();
  s.f.curves.reset();
  s.f.cells.reset();
  const bool closed = s.f.file.reset();
  s.closed = true;
  if (!closed)
    throw Error("closing results file '" + s.path + "' failed; " + std::to_string(s.keys.size()) +
                    " runs are safe in it (each was flushed when it finished)",
                "check free space on that filesystem (df -h), then re-run the same command");
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
  std::set<std::string> out;
  for (const auto& key : state_->keys.keys()) out.insert(run_key_text(key));
  return out;
}
std::size_t ResultsWriter::run_count() const {
  return state_->keys.size();
}
std::vector<RunRow> ResultsWriter::runs() const {
  const State& s = *state_;
  s.require_open();
  QuietErrors quiet;
  return decode_runs(s.f.run_layout, s.f.hyper,
                     read_table(s.f.runs.get(), s.f.run_layout, s.f.n_runs, s.path), s.f.n_runs);
}

}  // namespace cellzoo::store
