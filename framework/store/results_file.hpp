// The cellzoo results file (docs/results-format.md): ResultsWriter appends finished runs
// and their learning curves to one HDF5 file, flushing after every run so that a killed
// process leaves a readable file; ResultsReader loads a file back with clear errors for
// missing, corrupt and foreign files.
//
// Threading: a ResultsWriter must be used by one thread (the sweep's writer thread);
// HDF5 is never touched from several threads by the store.
//
// Fixed string widths (bytes, ASCII): run_key 32, cell 256, task 32, status 12, error 256,
// text hyperparameters 512, /cells name 256, hash 32, text 8192; /candidates kind 16, name
// 256, hash and parent_hash 32, stage_task 32, status 12. Cell names and text
// hyperparameters hold file paths (file:..., task.data), so they are wide (a row is about
// 1 KB plus 512 bytes per text column; uncompressed, see create_table). Files written with
// narrower widths (before 2026-11-28) are read and resumed with their own widths.
// A key-like value (run_key, cell, task, status, text hyperparameter, cell name/hash/text)
// that does not fit is refused with cellzoo::Error; an error message that does not fit is
// truncated (at a UTF-8 character boundary) and ends in "...".
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "framework/store/provenance.hpp"

namespace cellzoo::store {

inline constexpr const char* kSchemaName = "cellzoo-results";
inline constexpr std::int64_t kSchemaVersion = 1;

inline constexpr std::size_t kRunKeyWidth = 32;
inline constexpr std::size_t kCellWidth = 256;
inline constexpr std::size_t kTaskWidth = 32;
inline constexpr std::size_t kStatusWidth = 12;
inline constexpr std::size_t kErrorWidth = 256;
inline constexpr std::size_t kHyperTextWidth = 512;
inline constexpr std::size_t kCellHashWidth = 32;
inline constexpr std::size_t kCellTextWidth = 8192;
inline constexpr std::size_t kCandidateKindWidth = 16;

// The root attributes. The caller fills the first block; ResultsWriter::create fills the
// build and host facts itself (values given there are ignored).
struct FileMeta {
  std::string spec_text;
  std::string spec_hash;
  std::int64_t total_runs = 0;
  std::string shard;  // "K/N" for a shard, "" for a whole sweep or a merge
  std::string task;
  std::string metric;
  bool metric_higher_is_better = false;
  std::string command_line;

  // Filled by the store.
  std::int64_t schema_version = kSchemaVersion;
  std::string cellzoo_version;
  std::string git_commit;
  std::string compiler;
  std::string eigen_version;
  std::string tbb_version;
  std::string hdf5_version;
  std::string host;
  // Build and host provenance of the process that created the file (util/build_info.hpp);
  // per-process facts of every session are in /provenance (provenance.hpp).
  std::string git_dirty;      // "no", "yes", "unknown"
  std::string git_diff_hash;  // SHA-256 of `git diff HEAD` of a dirty build
  std::string compile_flags;
  std::string isa;
  std::string cpu_model;
  std::string os;
  // The numerical path of the creating process; a merge sets it to the one path its runs
  // share, or to "mixed: ..." when they do not.
  std::string numerical_path;
  std::string slurm_job_id;  // "" outside SLURM
  std::string slurm_array_task_id;
  std::string created_utc;
  std::string finished_utc;  // "" until set_finished()
  std::string merged_from;   // newline-separated inputs of `cellzoo merge`; "" otherwise
  std::string reused_from;   // one line per `cellzoo sweep --reuse` source; "" otherwise
};

struct HyperColumn {
  enum Kind { number, text };
  std::string name;
  Kind kind = number;
  bool operator==(const HyperColumn&) const = default;
};

using HyperValue = std::variant<double, std::string>;

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct RunRow {
  std::int64_t run_id = 0;
  std::string run_key;
  std::string cell;
  std::string task;
  std::int64_t trial = 0;
  std::uint64_t seed = 0;
  std::string status;  // ok, diverged, failed, timeout
  std::string error;
  std::vector<HyperValue> hyper;  // in the order of the file's hyper columns
  double train_loss = kNaN;
  double valid_loss = kNaN;
  double test_loss = kNaN;
  double valid_metric = kNaN;
  double test_metric = kNaN;
  std::int64_t best_epoch = 0;
  std::int64_t epochs = 0;
  double wall_seconds = 0;
  std::int64_t n_params = 0;
  // The papers' accuracies (train/trainer.hpp; NaN where they do not apply). Files written
  // before these columns existed have none: they read as NaN, and a resume into such a
  // file keeps its columns (the new runs' accuracies are then not stored).
  double valid_accuracy = kNaN;
  double test_accuracy = kNaN;
  double valid_sequence_accuracy = kNaN;
  double test_sequence_accuracy = kNaN;
};

struct CurveRow {
  std::int64_t run_id = 0;
  std::int64_t epoch = 0;
  double train_loss = kNaN;
  double valid_loss = kNaN;
  double valid_metric = kNaN;
  double learning_rate = kNaN;
  double seconds = 0;
};

// A run key as a results file stores it: kRunKeyWidth bytes, zero-padded. A resume or
// --reuse of a million-run file holds these (32 bytes a run), not the rows.
using RunKey = std::array<char, kRunKeyWidth>;
RunKey make_run_key(std::string_view text);  // longer text is cut (the writer refuses it)
std::string run_key_text(const RunKey& key);

// A set of run keys: the keys (32 bytes each) and an open-addressing table of 4-byte
// slots at most half full, so about 40 bytes a key; a lookup touches a slot or two.
class RunKeySet {
 public:
  RunKeySet() = default;
  explicit RunKeySet(const std::vector<RunKey>& keys);
  bool contains(const RunKey& key) const;
  bool contains(std::string_view key) const { return contains(make_run_key(key)); }
  bool insert(const RunKey& key);  // false when it was there already
  // Where `key` is in keys(), or npos.
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t index(const RunKey& key) const;
  std::size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::vector<RunKey>& keys() const { return keys_; }  // in the order first added

 private:
  std::size_t find(const RunKey& key) const;  // its slot, or the empty slot it would take
  std::vector<RunKey> keys_;                  // each once
  std::vector<std::uint32_t> slots_;          // 1 + index into keys_; 0 = empty
};

// The columns of a /runs row that a resume needs, read without the rest of the row.
struct RunOutcome {
  std::int64_t run_id = 0;
  RunKey key{};
  std::string status;
  double valid_metric = kNaN;
  double test_metric = kNaN;
};

// One row of /cells: the text of a cell-language cell used by the runs.
struct CellText {
  std::string name;
  std::string hash;
  std::string text;
  bool operator==(const CellText&) const = default;
};

// One row of /candidates: one event of an evolutionary search (search = evolution, see
// experiments/README.md): a seed cell, a proposed mutant, or a re-evaluation. A row is
// identified by (shard, generation, index).
struct CandidateRow {
  std::int64_t shard = 0;       // the shard whose population it belongs to
  std::int64_t generation = 0;  // 0 = the seeds
  std::int64_t index = 0;       // event index within the generation
  std::string kind;             // seed | proposal | reevaluation
  std::string name;             // the cell's name in /runs.cell and /cells.name
  std::string hash;             // /cells.hash
  std::string parent_hash;      // proposals: the mutated cell; "" otherwise
  std::int64_t stage = -1;      // the last stage evaluated (0 = filter); -1 = none
  std::string stage_task;       // that stage's task ("" when none)
  std::string status;           // accepted | outranked | rejected | duplicate | invalid
  double fitness = kNaN;        // min over tasks of the ratio to the reference; NaN if none
  bool operator==(const CandidateRow& o) const {
    const bool same_fitness =
        fitness == o.fitness || (std::isnan(fitness) && std::isnan(o.fitness));
    return shard == o.shard && generation == o.generation && index == o.index && kind == o.kind &&
           name == o.name && hash == o.hash && parent_hash == o.parent_hash && stage == o.stage &&
           stage_task == o.stage_task && status == o.status && same_fitness;
  }
};

// Whether `path` holds a results file to resume: false when nothing is there, and for an
// empty (0-byte) file, which holds no runs (a process killed as it created the file, or a
// full disk, leaves one) and which ResultsWriter::create replaces. Anything else, even a
// damaged file, counts as present, so that it is refused and never overwritten.
bool results_file_present(const std::string& path);

class ResultsWriter {
 public:
  // Creates a new file: an existing file is never overwritten or touched (an empty one
  // holds nothing and is replaced). The file is made as PATH.creating and moved to PATH
  // once complete, so a kill or a full disk never leaves a half-made file at PATH.
  // Throws cellzoo::Error when the file exists, the directory is missing or unwritable,
  // the disk is full, or the hyper columns are invalid (empty, duplicate, containing ','
  // or clashing with a fixed column).
  static ResultsWriter create(const std::string& path, const FileMeta& meta,
                              std::vector<HyperColumn> hyper_columns);

  // Reopens a file to add the runs still missing. Refuses (leaving the file untouched) a
  // file that is not a cellzoo results file, whose spec_hash differs, or, when
  // `expected_shard` is given, whose shard attribute differs ("" = the whole sweep,
  // "K/N"). Curve rows at the end of /curves that belong to no run (a writer killed inside
  // append) are dropped.
  static ResultsWriter open_for_resume(const std::string& path,
                                       const std::string& expected_spec_hash,
                                       const std::optional<std::string>& expected_shard = {});

  ResultsWriter(ResultsWriter&&) noexcept;
  ResultsWriter& operator=(ResultsWriter&&) noexcept;
  ~ResultsWriter();  // flushes and closes; never throws

  // Extends /runs by one row and /curves by `curves` (each with run.run_id), then flushes
  // the file. When this returns, a kill -9 cannot lose the run. Refuses a run whose
  // run_key or run_id is already in the file, a hyper value of the wrong kind or count,
  // and over-long key strings.
  void append(const RunRow& run, const std::vector<CurveRow>& curves);

  // Throws what append(run, {}) would throw (duplicate key or id, wrong hyper kinds or
  // count, a string wider than its column), without writing: a sweep checks every run
  // before training the first. check_new does the same for a file that create would make
  // with `hyper` columns.
  void check(const RunRow& run) const;
  static void check_new(const RunRow& run, const std::vector<HyperColumn>& hyper);

  // Same for many runs at once with a single flush (used by merge). `curves` may hold
  // rows of any of `runs`, in any order; they are stored in the given order.
  // The runs are recorded in /provenance as this writer's session's, or, when `origins`
  // is given (runs copied from other files by merge and --reuse), as those sessions' (each
  // added with its facts and run ids).
  void append_batch(const std::vector<RunRow>& runs, const std::vector<CurveRow>& curves,
                    const std::vector<Session>& origins = {});
  // A large merge in blocks: append_batch's rows and curves without recording them in any
  // session, and then add_sessions(origins) once (a kill in between leaves runs that no
  // session lists, which readers attribute to an "unrecorded" session).
  void append_unrecorded(const std::vector<RunRow>& runs, const std::vector<CurveRow>& curves);
  void add_sessions(const std::vector<Session>& origins);

  // The sessions in the file (provenance.hpp); the last one is this writer's.
  std::vector<Session> sessions() const;

  // Adds a row to /cells unless a cell of that name is present; a different text under
  // the same name is an error.
  void add_cell(const CellText& cell);

  // Appends a row to /candidates (created on first use) and flushes. Refuses a row whose
  // (shard, generation, index) is present and over-long strings.
  void add_candidate(const CandidateRow& row);
  std::vector<CandidateRow> candidates() const;  // rows already in the file, in file order

  // Adds a line to the reused_from attribute (where runs copied from earlier files came
  // from) and flushes.
  void record_reuse(const std::string& line);

  // Writes finished_utc (now) and flushes.
  void set_finished();

  // Flushes and closes now; throws if HDF5 reports a failure. Later calls are errors.
  // After a failed write (which threw, saying what is safe) it only releases the file.
  // Every write that fails (a full disk: detail::NoSpace) marks the writer failed: later
  // writes are refused, and what the last successful flush wrote stays in the file.
  void close();

  const std::string& path() const;
  const FileMeta& meta() const;
  const std::vector<HyperColumn>& hyper_columns() const;
  std::set<std::string> run_keys() const;  // of the rows already in the file
  std::size_t run_count() const;
  std::vector<RunRow> runs() const;  // the rows in the file (read from it), in file order

 private:
  struct State;
  explicit ResultsWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class ResultsReader {
 public:
  // Throws cellzoo::Error for a missing file, a file that is not readable HDF5
  // ("... is not a readable HDF5 file (truncated or corrupt?)"), a file locked by a
  // running writer, and an HDF5 file that is not a cellzoo results file.
  // `file_locking` false: open without HDF5's file lock (read_snapshot does, for a file a
  // writer has open).
  static ResultsReader open(const std::string& path, bool file_locking = true);

  ResultsReader(ResultsReader&&) noexcept;
  ResultsReader& operator=(ResultsReader&&) noexcept;
  ~ResultsReader();

  const std::string& path() const;
  const FileMeta& meta() const;
  const std::vector<HyperColumn>& hyper_columns() const;
  // Rows in file order. Rows with an empty run_key (space a killed writer had reserved
  // but not written) are skipped.
  std::vector<RunRow> runs() const;
  // run_id and run_key of every row in file order, reading only those two columns (the
  // rows a killed writer reserved are skipped, as by runs()).
  std::vector<std::pair<std::int64_t, RunKey>> run_keys() const;
  // Calls f with each row's run_id, run_key, status and metrics in file order, reading the
  // table in blocks: memory is bounded by a block, not by the file.
  template <typename F>
  void for_each_outcome(F&& f) const {
    for (std::size_t start = 0;; start += kOutcomeBlock) {
      const auto block = outcomes(start, kOutcomeBlock);
      for (const auto& o : block) f(o);
      if (start + kOutcomeBlock >= run_rows()) break;
    }
  }
  // Calls f(RunRow) for every row in file order, reading and decoding the table in blocks
  // (memory bounded by a block): --reuse copying a few runs out of a large file.
  template <typename F>
  void for_each_run(F&& f) const {
    for (std::size_t start = 0; start < run_rows(); start += kRowBlock)
      for (auto& row : runs(start, kRowBlock)) f(std::move(row));
  }
  std::vector<CurveRow> curves() const;
  // The same for /curves.
  template <typename F>
  void for_each_curve(F&& f) const {
    for (std::size_t start = 0; start < curve_rows(); start += kOutcomeBlock)
      for (auto& row : curves(start, kOutcomeBlock)) f(std::move(row));
  }
  std::vector<CellText> cells() const;
  std::vector<CandidateRow> candidates() const;  // empty for files without /candidates
  // /provenance's sessions; runs no session lists (files written before sessions were
  // recorded) form a last session of role "unrecorded" with the root's facts.
  std::vector<Session> sessions() const;
  // The same, given the run ids of /runs already read (run_keys, for_each_outcome), so a
  // resume of a million-run file does not read them twice.
  std::vector<Session> sessions(const std::vector<std::int64_t>& run_ids) const;

 private:
  friend struct ResultsSnapshot read_snapshot(const std::string& path, int attempts);
  static constexpr std::size_t kOutcomeBlock = 65536;
  static constexpr std::size_t kRowBlock = 4096;  // whole /runs rows: about 1.5 KB each
  std::size_t run_rows() const;                   // rows of /runs, reserved ones included
  std::size_t curve_rows() const;                 // rows of /curves
  std::vector<RunOutcome> outcomes(std::size_t start, std::size_t count) const;
  std::vector<RunRow> runs(std::size_t start, std::size_t count) const;
  std::vector<CurveRow> curves(std::size_t start, std::size_t count) const;
  struct State;
  explicit ResultsReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A results file read at once, without /curves (the largest table, which the report and
// top do not need; ResultsReader::curves reads it).
struct ResultsSnapshot {
  FileMeta meta;
  std::vector<HyperColumn> hyper;
  std::vector<RunRow> runs;
  std::vector<CellText> cells;
  std::vector<CandidateRow> candidates;
  std::vector<Session> sessions;  // as ResultsReader::sessions
  bool while_written = false;     // a writer (a running sweep) had the file open
};

// Reads `path`, also while a sweep is writing it: when HDF5's file lock says a writer has
// it open, the file is read without the lock (read-only: the writer is not disturbed),
// and a read that meets the writer inside a flush is retried, up to `attempts` times
// 0.2 s apart. The snapshot holds the runs flushed so far. The same errors as
// ResultsReader::open otherwise.
ResultsSnapshot read_snapshot(const std::string& path, int attempts = 10);

}  // namespace cellzoo::store
