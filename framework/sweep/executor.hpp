// The sweep executor: runs the (shard of the) expanded spec on TBB workers and records
// every finished run in one results file.
//
// Rooms it connects: spec (what to run), train::run_one (one run, no I/O), store (the
// HDF5 file), progress (humans). Exactly one thread — the caller's — touches HDF5;
// workers hand finished runs to it through a queue, and it flushes after every run, so a
// kill at any moment loses at most the runs still in flight. Resume is the default: runs
// whose run_key is already in the file are skipped.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "framework/sweep/batch.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/train/hyperparameters.hpp"

namespace cellzoo::sweep {

struct SweepOptions {
  std::string out;                 // results file; empty = output_path(spec)
  int jobs = 0;                    // parallel runs; 0 = every core
  std::optional<Shard> shard;      // run only block K of N of the expansion
  std::string command_line;        // recorded in the file
  bool terminal = false;           // live progress bar instead of log lines
  double log_interval = 30;        // seconds between progress lines when not a terminal
  std::vector<std::string> reuse;  // earlier results files whose matching runs are copied
  // Refuse (instead of warning about) a resume or --reuse that would mix runs of another
  // numerical path into the file; the spec's strict_build = true does the same.
  bool strict_build = false;
  // --save-params: the best-validation parameters of every run (all), of each cell's best
  // run so far (best), or none, as <out>.params/<run_key>.params.h5 (docs/parameters.md).
  enum class SaveParams { none, best, all };
  SaveParams save_params = SaveParams::none;
};

struct SweepSummary {
  std::string out;
  std::int64_t total = 0;         // runs in this share
  std::int64_t already_done = 0;  // found in the file at start (resume)
  std::int64_t reused = 0;        // copied from the --reuse files (sweep/reuse.hpp)
  std::int64_t recorded = 0;      // written by this invocation
  std::int64_t ok = 0, diverged = 0, failed = 0, timeout = 0;
  std::int64_t cancelled = 0;  // interrupted mid-run; not recorded, rerun on resume
  bool interrupted = false;
  bool complete() const { return already_done + reused + recorded == total; }
};

// Builds through `cache` the task data of every distinct task-option setting among runs
// [begin, end) of `runs` (several when [space] searches task.* options), so a bad option
// is one error before anything runs, prefixed with the spec line of the option it names
// when there is one. Returns the config of the first run of each setting.
std::vector<train::TrainConfig> check_task_variants(const RunEnumerator& runs, std::int64_t begin,
                                                    std::int64_t end, TaskDataCache& cache);

// The param_budget of runs (apply_param_budget) solved on their task data from `cache`:
// one solve per distinct cell, budget, layers, embed and task-option setting, shared by
// the workers that make the runs (thread-safe). Does nothing for a spec without a budget.
class BudgetSolver {
 public:
  BudgetSolver(const Spec& spec, TaskDataCache& cache);
  void apply(RunSpec& run);

 private:
  const Spec& spec_;
  TaskDataCache& cache_;
  bool active_;
  std::mutex mutex_;
  std::map<std::string, int> solved_;  // the solve's inputs -> hidden
};

// The run of runs [begin, end) that needs the most memory (train::estimate_memory), one
// estimate per cell and distinct model and batch shape (the first run of its shape), its
// param_budget solved by `budgets`: so every distinct budget of the range is solved (a
// budget too small is an error) before a sweep touches its file.
struct LargestRun {
  train::MemoryEstimate estimate;
  std::optional<RunSpec> run;  // none when there are no runs
};
LargestRun largest_run(const RunEnumerator& runs, std::int64_t begin, std::int64_t end,
                       TaskDataCache& cache, BudgetSolver& budgets);
// Refuses (cellzoo::Error naming the run, its estimate and the available memory) a run
// that needs more memory than this process may use.
void check_memory(const LargestRun& largest);

// Runs the sweep. `stop` (set by a signal handler) stops it cleanly: no new runs start,
// runs in flight are cancelled and not recorded, finished ones are kept. Throws
// cellzoo::Error for bad input (before any file is created or touched).
SweepSummary run_sweep(const Spec& spec, const SweepOptions& options, const std::atomic<bool>& stop,
                       std::ostream& log);

}  // namespace cellzoo::sweep
