// ResultsReader and read_snapshot: a results file read back, also while a sweep writes it.
#include <chrono>
#include <set>
#include <thread>

#include "framework/store/hdf5_util.hpp"
#include "framework/store/opened_file.hpp"
#include "framework/store/provenance_io.hpp"
#include "framework/store/results_file.hpp"
#include "framework/store/schema.hpp"
#include "framework/store/table_io.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::store {

using detail::OpenedFile;
using detail::QuietErrors;

using detail::decode_candidates;
using detail::decode_cells;
using detail::decode_curves;
using detail::decode_runs;
using detail::open_results;
using detail::read_table;

namespace {

// Adds the runs no session lists (files written before sessions were recorded) as a last
// session of role "unrecorded" carrying the root attributes' facts.
std::vector<Session> with_unrecorded(std::vector<Session> sessions, const std::vector<RunRow>& runs,
                                     const FileMeta& m) {
  std::set<std::int64_t> listed;
  for (const auto& s : sessions) listed.insert(s.run_ids.begin(), s.run_ids.end());
  Session rest;
  for (const auto& r : runs)
    if (!listed.count(r.run_id)) rest.run_ids.push_back(r.run_id);
  if (rest.run_ids.empty()) return sessions;
  rest.facts = {{"role", "unrecorded"},
                {"host", m.host},
                {"cellzoo_version", m.cellzoo_version},
                {"git_commit", m.git_commit},
                {"compiler", m.compiler},
                {"eigen_version", m.eigen_version},
                {"numerical_path", m.numerical_path},
                {"started_utc", m.created_utc},
                {"command_line", m.command_line}};
  sessions.push_back(std::move(rest));
  return sessions;
}

}  // namespace

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
    {
      QuietErrors quiet;
      s.sessions =
          with_unrecorded(detail::read_sessions(reader.state_->f.file.get(), path), s.runs, s.meta);
    }
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
  if (!f.cells.valid()) return {};
  return decode_cells(f.cell_layout,
                      read_table(f.cells.get(), f.cell_layout, f.n_cells, state_->path), f.n_cells);
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

namespace cellzoo::store {

std::vector<Session> ResultsReader::sessions() const {
  QuietErrors quiet;
  return with_unrecorded(detail::read_sessions(state_->f.file.get(), state_->path), runs(),
                         state_->f.meta);
}

}  // namespace cellzoo::store
