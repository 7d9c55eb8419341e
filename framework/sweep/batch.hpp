// Executing a list of runs against an open results file: the engine shared by the plain
// sweep (run_sweep) and the evolutionary search (run_evolution).
//
// The runs go to TBB workers on a thread of their own; the calling thread is the only one
// that touches HDF5: it appends every finished run (and flushes) as it arrives, so a kill
// at any moment loses at most the runs still in flight. Runs whose status is "cancelled"
// (a stop arrived mid-run) are not recorded and are rerun on resume.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "datasets/task.hpp"
#include "framework/store/results_file.hpp"
#include "framework/sweep/progress.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/train/trainer.hpp"

namespace cellzoo::sweep {

using TaskDataPtr = std::shared_ptr<const datasets::TaskData>;

// Task data built once per distinct (task, options, data seed) and shared read-only by
// every run that needs it: generated data is identical for all cells. Thread-safe.
class TaskDataCache {
 public:
  TaskDataPtr get(const std::string& task, const train::TrainConfig& hyper);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_future<TaskDataPtr>> entries_;
};

struct BatchSummary {
  std::int64_t recorded = 0;
  std::int64_t ok = 0, diverged = 0, failed = 0, timeout = 0;
  std::int64_t cancelled = 0;  // stopped mid-run; not recorded
};

// Called on the writer thread after a run's row was appended (and flushed).
using RunRecorded = std::function<void(const RunSpec&, const store::RunRow&)>;
// Also on the writer thread, after RunRecorded, with the run's full result (its best
// parameters) and configuration: `cellzoo sweep --save-params`. An exception stops the
// batch like a writer error.
using RunResult = std::function<void(const RunSpec&, const store::RunRow&,
                                     const train::TrainResult&, const train::TrainConfig&)>;

// A run to train and its config (train::resolve(run.settings)).
struct PlannedRun {
  RunSpec run;
  train::TrainConfig config;
};
// Run k (0 <= k < count) of a batch, made when a worker starts it, so that a batch of a
// million runs holds only the runs in flight. Called from several workers at once.
using RunSource = std::function<PlannedRun(std::size_t k)>;

// Trains `count` runs (none of them may be in the file yet) with `jobs` parallel workers
// and appends each finished run to `writer`; nothing is kept of a run once it is recorded.
// Stops starting runs once `stop` is set; rethrows a worker's or the writer's exception
// after the workers finished.
BatchSummary execute_batch(std::size_t count, const RunSource& source,
                           const std::vector<HyperColumn>& columns, store::ResultsWriter& writer,
                           TaskDataCache& task_data, int jobs, Progress& progress,
                           const std::atomic<bool>& stop, bool terminal,
                           const RunRecorded& on_recorded = {}, const RunResult& on_result = {});
// The same for runs held by the caller: `configs[i]` is runs[i]'s config.
BatchSummary execute_batch(const std::vector<const RunSpec*>& runs,
                           const std::vector<train::TrainConfig>& configs,
                           const std::vector<HyperColumn>& columns, store::ResultsWriter& writer,
                           TaskDataCache& task_data, int jobs, Progress& progress,
                           const std::atomic<bool>& stop, bool terminal,
                           const RunRecorded& on_recorded = {}, const RunResult& on_result = {});

// The /runs row of a finished run (hyper values in the order of `columns`).
store::RunRow make_row(const RunSpec& run, const std::vector<HyperColumn>& columns,
                       const train::TrainResult& result);

// The /curves rows of a finished run (one per epoch).
std::vector<store::CurveRow> make_curves(const RunSpec& run, const train::TrainResult& result);

// The store's column kinds for the spec's hyper columns.
std::vector<store::HyperColumn> store_columns(const std::vector<HyperColumn>& columns);

// The /cells row of a cell-language name (file:, cell:, lang:), or nothing for other names.
std::optional<store::CellText> language_cell_row(const std::string& name);
// The /cells row of a plugin's cell, or nothing for other names: hash = the plugin file's
// hash, text = "plugin <its absolute path>". A resume, --reuse or merge compares these
// rows, so runs of another build of the plugin are never mixed in.
std::optional<store::CellText> plugin_cell_row(const std::string& name);

}  // namespace cellzoo::sweep
