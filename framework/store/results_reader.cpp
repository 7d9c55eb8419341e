// ResultsReader and read_snapshot: a results file read back, also while a sweep writes it.
#include <algorithm>
#include <chrono>
#include <cstring>
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
using detail::read_rows;
using detail::read_table;

namespace {

// Adds the runs no session lists (files written before sessions were recorded) as a last
// session of role "unrecorded" carrying the root attributes' facts.
std::vector<Session> with_unrecorded(std::vector<Session> sessions,
                                     const std::vector<std::int64_t>& run_ids, const FileMeta& m) {
  std::vector<std::int64_t> listed;
  for (const auto& s : sessions) listed.insert(listed.end(), s.run_ids.begin(), s.run_ids.end());
  std::sort(listed.begin(), listed.end());
  Session rest;
  for (const auto id : run_ids)
    if (!std::binary_search(listed.begin(), listed.end(), id)) rest.run_ids.push_back(id);
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
      std::vector<std::int64_t> ids;
      for (const auto& r : s.runs) ids.push_back(r.run_id);
      s.sessions =
          with_unrecorded(detail::read_sessions(reader.state_->f.file.get(), path), ids, s.meta);
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

RunKey make_run_key(std::string_view text) {
  RunKey key{};
  std::memcpy(key.data(), text.data(), std::min(text.size(), key.size()));
  return key;
}

std::string run_key_text(const RunKey& key) {
  return std::string(key.data(), std::find(key.begin(), key.end(), '\0'));
}

namespace {

std::uint64_t key_hash(const RunKey& key) {
  std::uint64_t w[4];
  std::memcpy(w, key.data(), sizeof w);
  std::uint64_t h = w[0] * 0x9e3779b97f4a7c15ULL ^ w[1] * 0xc2b2ae3d27d4eb4fULL ^
                    w[2] * 0x165667b19e3779f9ULL ^ w[3] * 0x27d4eb2f165667c5ULL;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 29);
}

}  // namespace

RunKeySet::RunKeySet(const std::vector<RunKey>& keys) {
  std::size_t capacity = 16;
  while (capacity < 2 * keys.size()) capacity *= 2;
  slots_.assign(capacity, 0);
  keys_.reserve(keys.size());
  for (const auto& key : keys) (void)insert(key);
}

bool RunKeySet::insert(const RunKey& key) {
  if (2 * (keys_.size() + 1) > slots_.size()) {  // keep the table at most half full
    slots_.assign(std::max<std::size_t>(16, 2 * slots_.size()), 0);
    for (std::size_t k = 0; k < keys_.size(); ++k)
      slots_[find(keys_[k])] = static_cast<std::uint32_t>(k + 1);
  }
  auto& slot = slots_[find(key)];
  if (slot != 0) return false;
  keys_.push_back(key);
  slot = static_cast<std::uint32_t>(keys_.size());
  return true;
}

std::size_t RunKeySet::find(const RunKey& key) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = key_hash(key) & mask;; i = (i + 1) & mask)
    if (slots_[i] == 0 || keys_[slots_[i] - 1] == key) return i;
}

bool RunKeySet::contains(const RunKey& key) const {
  return !slots_.empty() && slots_[find(key)] != 0;
}

std::size_t RunKeySet::index(const RunKey& key) const {
  if (slots_.empty()) return npos;
  const std::uint32_t slot = slots_[find(key)];
  return slot == 0 ? npos : slot - 1;
}

std::size_t ResultsReader::run_rows() const {
  return static_cast<std::size_t>(state_->f.n_runs);
}

std::vector<std::pair<std::int64_t, RunKey>> ResultsReader::run_keys() const {
  QuietErrors quiet;
  return detail::read_run_keys(state_->f, state_->path);
}

std::vector<RunOutcome> ResultsReader::outcomes(std::size_t start, std::size_t count) const {
  QuietErrors quiet;
  const OpenedFile& f = state_->f;
  if (start >= f.n_runs) return {};
  const hsize_t n = std::min<hsize_t>(count, f.n_runs - start);
  const auto layout = detail::run_columns(
      f.run_layout, {"run_id", "run_key", "status", "valid_metric", "test_metric"});
  const auto data = read_rows(f.runs.get(), layout, start, n, state_->path);
  std::vector<RunOutcome> out;
  out.reserve(n);
  for (hsize_t r = 0; r < n; ++r) {
    const char* row = data.data() + r * layout.size();
    RunOutcome o;
    std::memcpy(o.key.data(), row + layout[1].offset, std::min(o.key.size(), layout[1].width));
    if (o.key[0] == '\0') continue;
    o.run_id = layout.get_i64(row, 0);
    o.status = layout.get_str(row, 2);
    o.valid_metric = layout.get_f64(row, 3);
    o.test_metric = layout.get_f64(row, 4);
    out.push_back(std::move(o));
  }
  return out;
}

std::size_t ResultsReader::curve_rows() const {
  return static_cast<std::size_t>(state_->f.n_curves);
}

std::vector<RunRow> ResultsReader::runs(std::size_t start, std::size_t count) const {
  QuietErrors quiet;
  const OpenedFile& f = state_->f;
  if (start >= f.n_runs) return {};
  const hsize_t n = std::min<hsize_t>(count, f.n_runs - start);
  return decode_runs(f.run_layout, f.hyper,
                     read_rows(f.runs.get(), f.run_layout, start, n, state_->path), n);
}

std::vector<CurveRow> ResultsReader::curves(std::size_t start, std::size_t count) const {
  QuietErrors quiet;
  const OpenedFile& f = state_->f;
  if (start >= f.n_curves) return {};
  const hsize_t n = std::min<hsize_t>(count, f.n_curves - start);
  return decode_curves(f.curve_layout,
                       read_rows(f.curves.get(), f.curve_layout, start, n, state_->path), n);
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
  std::vector<std::int64_t> ids;  // from the run keys' read, not the whole rows
  for (const auto& [id, key] : detail::read_run_keys(state_->f, state_->path)) ids.push_back(id);
  return sessions(ids);
}

std::vector<Session> ResultsReader::sessions(const std::vector<std::int64_t>& run_ids) const {
  QuietErrors quiet;
  return with_unrecorded(detail::read_sessions(state_->f.file.get(), state_->path), run_ids,
                         state_->f.meta);
}

}  // namespace cellzoo::store
