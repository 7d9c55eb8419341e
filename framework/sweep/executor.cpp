#include "framework/sweep/executor.hpp"

#include "framework/sweep/progress.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

#include "datasets/task.hpp"
#include "framework/store/results_file.hpp"
#include "framework/train/trainer.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::sweep {
namespace {

using TaskDataPtr = std::shared_ptr<const datasets::TaskData>;

// Task data is built once per distinct (task options, data seed) and shared read-only by
// every run that needs it: generated data is identical for all cells of a sweep.
class TaskDataCache {
 public:
  explicit TaskDataCache(std::string task) : task_(std::move(task)) {}

  TaskDataPtr get(const train::TrainConfig& hyper) {
    std::string key = std::to_string(hyper.data_seed);
    for (const auto& [k, v] : hyper.task_options) key += "\n" + k + "=" + v;
    std::shared_future<TaskDataPtr> future;
    std::promise<TaskDataPtr> promise;
    bool builder = false;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        future = promise.get_future().share();
        entries_.emplace(key, future);
        builder = true;
      } else {
        future = it->second;
      }
    }
    if (builder) {
      try {
        promise.set_value(
            std::make_shared<const datasets::TaskData>(datasets::TaskRegistry::instance().build(
                task_, datasets::TaskOptions(hyper.task_options.begin(), hyper.task_options.end()),
                hyper.data_seed)));
      } catch (...) {
        promise.set_exception(std::current_exception());
      }
    }
    return future.get();
  }

 private:
  std::string task_;
  std::mutex mutex_;
  std::map<std::string, std::shared_future<TaskDataPtr>> entries_;
};

struct Finished {
  const RunSpec* run;
  train::TrainResult result;
};

class FinishedQueue {
 public:
  void push(Finished f) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(f));
    }
    cv_.notify_one();
  }
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    cv_.notify_one();
  }
  // Waits up to `timeout` for an item. Returns false on timeout; sets `done` when the
  // queue is closed and drained.
  bool pop(Finished& out, std::chrono::milliseconds timeout, bool& done) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
    if (!items_.empty()) {
      out = std::move(items_.front());
      items_.pop_front();
      return true;
    }
    done = closed_;
    return false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Finished> items_;
  bool closed_ = false;
};

store::RunRow make_row(const RunSpec& run, const std::vector<HyperColumn>& columns,
                       const train::TrainResult& r) {
  store::RunRow row;
  row.run_id = run.run_id;
  row.run_key = run.run_key;
  row.cell = run.cell;
  row.task = run.task;
  row.trial = run.trial;
  row.seed = run.seed;
  row.status = r.status;
  row.error = r.error;
  for (const auto& c : columns) {
    const auto it = run.hyper.find(c.name);
    if (it == run.hyper.end()) throw Error("internal: run lacks hyperparameter " + c.name);
    if (const double* d = std::get_if<double>(&it->second))
      row.hyper.emplace_back(*d);
    else
      row.hyper.emplace_back(std::get<std::string>(it->second));
  }
  row.train_loss = r.train_loss;
  row.valid_loss = r.valid_loss;
  row.test_loss = r.test_loss;
  row.valid_metric = r.valid_metric;
  row.test_metric = r.test_metric;
  row.best_epoch = r.best_epoch;
  row.epochs = r.epochs;
  row.wall_seconds = r.wall_seconds;
  row.n_params = r.n_params;
  return row;
}

std::vector<store::CurveRow> make_curves(const RunSpec& run, const train::TrainResult& r) {
  std::vector<store::CurveRow> rows;
  rows.reserve(r.curve.size());
  for (const auto& e : r.curve)
    rows.push_back({run.run_id, e.epoch, e.train_loss, e.valid_loss, e.valid_metric,
                    e.learning_rate, e.seconds});
  return rows;
}

}  // namespace

SweepSummary run_sweep(const Spec& spec, const SweepOptions& options, const std::atomic<bool>& stop,
                       std::ostream& log) {
  // Everything that can be wrong with the input is checked before the file is touched.
  const std::vector<RunSpec> runs = expand(spec);
  const auto columns = hyper_columns(spec);
  std::int64_t begin = 0, end = static_cast<std::int64_t>(runs.size());
  std::string shard_text;
  if (options.shard) {
    std::tie(begin, end) = shard_range(end, options.shard->index, options.shard->count);
    shard_text = std::to_string(options.shard->index) + "/" + std::to_string(options.shard->count);
  }
  if (options.jobs < 0) throw Error("--jobs must be at least 1 (or 0 for every core)");

  std::vector<train::TrainConfig> configs;
  configs.reserve(runs.size());
  for (std::int64_t i = begin; i < end; ++i)
    configs.push_back(train::resolve(runs[static_cast<std::size_t>(i)].settings));
  TaskDataCache task_data(spec.task);
  const TaskDataPtr first_data =
      configs.empty() ? TaskDataPtr{}
                      : task_data.get(configs.front());  // validates task options and data
  for (std::int64_t i = begin; i < end; ++i)             // unknown cells fail now, not in a worker
    (void)cells::CellRegistry::instance().get(runs[static_cast<std::size_t>(i)].cell);

  SweepSummary summary;
  summary.out = options.out.empty() ? output_path(spec) : options.out;
  summary.total = end - begin;

  std::vector<store::HyperColumn> store_columns;
  for (const auto& c : columns)
    store_columns.push_back({c.name, c.kind == HyperColumn::Kind::number
                                         ? store::HyperColumn::number
                                         : store::HyperColumn::text});
  const std::string hash = spec_hash(spec);
  std::optional<store::ResultsWriter> writer;
  if (std::filesystem::exists(summary.out)) {
    writer.emplace(store::ResultsWriter::open_for_resume(summary.out, hash));
    if (writer->hyper_columns() != store_columns)
      throw Error(summary.out + " has other hyperparameter columns than this spec",
                  "use another --out file");
  } else {
    const auto parent = std::filesystem::path(summary.out).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    store::FileMeta meta;
    meta.spec_text = to_text(spec);
    meta.spec_hash = hash;
    meta.total_runs = static_cast<std::int64_t>(runs.size());
    meta.shard = shard_text;
    meta.task = spec.task;
    if (first_data) {
      meta.metric = train::metric_name(first_data->info.metric);
      meta.metric_higher_is_better = train::metric_higher_is_better(first_data->info.metric);
    }
    meta.command_line = options.command_line;
    writer.emplace(store::ResultsWriter::create(summary.out, meta, store_columns));
  }

  const auto done_keys = writer->run_keys();
  std::vector<std::size_t> pending;  // indices into runs
  for (std::int64_t i = begin; i < end; ++i) {
    const auto& run = runs[static_cast<std::size_t>(i)];
    if (done_keys.count(run.run_key))
      ++summary.already_done;
    else
      pending.push_back(static_cast<std::size_t>(i));
  }
  log << "[sweep] " << summary.out << ": " << summary.total << " runs"
      << (shard_text.empty() ? "" : " in shard " + shard_text) << ", " << summary.already_done
      << " already done, " << pending.size() << " to run" << std::endl;

  const int jobs = options.jobs > 0 ? options.jobs : tbb::info::default_concurrency();
  Progress progress(log, summary.total, summary.already_done, options.terminal,
                    writer->meta().metric, writer->meta().metric_higher_is_better,
                    options.log_interval);
  FinishedQueue queue;
  std::atomic<bool> cancel{false};

  // Workers run on their own thread so that this thread stays the only one touching HDF5.
  std::exception_ptr worker_error;
  std::thread workers([&] {
    try {
      std::optional<tbb::global_control> cap;
      cap.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(jobs));
      tbb::task_arena arena(jobs);
      arena.execute([&] {
        tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, pending.size(), 1),
            [&](const tbb::blocked_range<std::size_t>& range) {
              for (std::size_t k = range.begin(); k != range.end(); ++k) {
                if (stop.load() || cancel.load()) return;  // no new runs after a stop
                const std::size_t i = pending[k];
                const RunSpec& run = runs[i];
                progress.started();
                train::RunConfig config{run.cell, run.task,
                                        configs[i - static_cast<std::size_t>(begin)], run.seed};
                train::TrainResult result;
                try {
                  const auto data = task_data.get(config.hyper);
                  result = train::run_one(config, *data, nullptr, &stop);
                } catch (const std::exception& e) {
                  result.status = "failed";
                  result.error = e.what();
                }
                progress.stopped();
                queue.push({&run, std::move(result)});
              }
            },
            tbb::simple_partitioner());
      });
    } catch (...) {
      worker_error = std::current_exception();
    }
    queue.close();
  });

  std::exception_ptr writer_error;
  for (bool done = false; !done;) {
    Finished f;
    if (!queue.pop(f, std::chrono::milliseconds(options.terminal ? 250 : 1000), done)) {
      progress.tick();
      continue;
    }
    if (f.result.status == "cancelled") {
      ++summary.cancelled;
      continue;
    }
    if (writer_error) continue;  // drain the queue, record nothing more
    try {
      writer->append(make_row(*f.run, columns, f.result), make_curves(*f.run, f.result));
    } catch (...) {
      writer_error = std::current_exception();
      cancel = true;
      continue;
    }
    ++summary.recorded;
    const auto& s = f.result.status;
    summary.ok += s == "ok";
    summary.diverged += s == "diverged";
    summary.failed += s == "failed";
    summary.timeout += s == "timeout";
    progress.finished(s, f.result.valid_metric, f.result.test_metric);
    progress.tick();
  }
  workers.join();
  summary.interrupted = stop.load();
  if (summary.complete()) writer->set_finished();
  writer->close();
  if (writer_error) std::rethrow_exception(writer_error);
  if (worker_error) std::rethrow_exception(worker_error);
  progress.close(summary.interrupted
                     ? "interrupted: " + std::to_string(summary.recorded) + " runs recorded, " +
                           std::to_string(summary.total - summary.already_done - summary.recorded) +
                           " left; re-run the same command to resume"
                     : "done: " + std::to_string(summary.recorded) + " runs recorded (" +
                           std::to_string(summary.ok) + " ok, " + std::to_string(summary.diverged) +
                           " diverged, " + std::to_string(summary.failed) + " failed, " +
                           std::to_string(summary.timeout) + " timeout) in " + summary.out);
  return summary;
}

}  // namespace cellzoo::sweep
