// execute_batch(): TBB workers train, the calling thread records (see batch.hpp).
#include "framework/sweep/batch.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>

#include "framework/cells/registry.hpp"
#include "framework/lang/lang_cell.hpp"
#include "framework/plugins/loader.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::sweep {
namespace {

struct Finished {
  PlannedRun planned;
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

}  // namespace

TaskDataPtr TaskDataCache::get(const std::string& task, const train::TrainConfig& hyper) {
  std::string key = task + "\n" + std::to_string(hyper.data_seed);
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
              task, datasets::TaskOptions(hyper.task_options.begin(), hyper.task_options.end()),
              hyper.data_seed)));
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
  }
  return future.get();
}

std::vector<store::CurveRow> make_curves(const RunSpec& run, const train::TrainResult& r) {
  std::vector<store::CurveRow> rows;
  rows.reserve(r.curve.size());
  for (const auto& e : r.curve)
    rows.push_back({run.run_id, e.epoch, e.train_loss, e.valid_loss, e.valid_metric,
                    e.learning_rate, e.seconds});
  return rows;
}

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
  row.valid_accuracy = r.valid_accuracy;
  row.test_accuracy = r.test_accuracy;
  row.valid_sequence_accuracy = r.valid_sequence_accuracy;
  row.test_sequence_accuracy = r.test_sequence_accuracy;
  return row;
}

std::vector<store::HyperColumn> store_columns(const std::vector<HyperColumn>& columns) {
  std::vector<store::HyperColumn> out;
  for (const auto& c : columns)
    out.push_back({c.name, c.kind == HyperColumn::Kind::number ? store::HyperColumn::number
                                                               : store::HyperColumn::text});
  return out;
}

std::optional<store::CellText> language_cell_row(const std::string& name) {
  if (!name.starts_with("file:") && !name.starts_with("cell:") && !name.starts_with("lang:"))
    return std::nullopt;
  const lang::CellText cell = lang::load_cell(name);
  return store::CellText{name, lang::cell_hash(cell), lang::canonical_text(cell)};
}

std::optional<store::CellText> plugin_cell_row(const std::string& name) {
  const plugins::Plugin* plugin = plugins::plugin_of(name);
  if (!plugin) return std::nullopt;
  return store::CellText{name, plugin->hash, "plugin " + plugin->path};
}

BatchSummary execute_batch(const std::vector<const RunSpec*>& runs,
                           const std::vector<train::TrainConfig>& configs,
                           const std::vector<HyperColumn>& columns, store::ResultsWriter& writer,
                           TaskDataCache& task_data, int jobs, Progress& progress,
                           const std::atomic<bool>& stop, bool terminal,
                           const RunRecorded& on_recorded, const RunResult& on_result) {
  if (configs.size() != runs.size()) throw Error("internal: one TrainConfig per run expected");
  return execute_batch(
      runs.size(),
      [&](std::size_t k) {
        return PlannedRun{*runs[k], configs[k]};
      },
      columns, writer, task_data, jobs, progress, stop, terminal, on_recorded, on_result);
}

BatchSummary execute_batch(std::size_t count, const RunSource& source,
                           const std::vector<HyperColumn>& columns, store::ResultsWriter& writer,
                           TaskDataCache& task_data, int jobs, Progress& progress,
                           const std::atomic<bool>& stop, bool terminal,
                           const RunRecorded& on_recorded, const RunResult& on_result) {
  BatchSummary summary;
  if (count == 0) return summary;
  FinishedQueue queue;
  std::atomic<bool> cancel{false};

  // Workers run on their own thread so that this thread stays the only one touching HDF5.
  std::exception_ptr worker_error;
  std::thread workers([&] {
    try {
      tbb::global_control cap(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(jobs));
      tbb::task_arena arena(jobs);
      arena.execute([&] {
        tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, count, 1),
            [&](const tbb::blocked_range<std::size_t>& range) {
              for (std::size_t k = range.begin(); k != range.end(); ++k) {
                if (stop.load() || cancel.load()) return;  // no new runs after a stop
                PlannedRun planned = source(k);
                const RunSpec& run = planned.run;
                progress.started();
                train::RunConfig config{run.cell, run.task, planned.config, run.seed};
                train::TrainResult result;
                try {
                  const auto data = task_data.get(run.task, config.hyper);
                  result = train::run_one(config, *data, nullptr, &cancel);
                } catch (const std::exception& e) {
                  result.status = "failed";
                  result.error = e.what();
                }
                progress.stopped();
                queue.push({std::move(planned), std::move(result)});
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
    // `cancel` stops the runs in flight: on a stop (signal), and after a failed write (a
    // full disk), when nothing they find could be recorded any more.
    if (stop.load()) cancel = true;
    Finished f;
    if (!queue.pop(f, std::chrono::milliseconds(terminal ? 250 : 200), done)) {
      progress.tick();
      continue;
    }
    if (f.result.status == "cancelled") {
      ++summary.cancelled;
      continue;
    }
    if (writer_error) continue;  // drain the queue, record nothing more
    try {
      const RunSpec& run = f.planned.run;
      const store::RunRow row = make_row(run, columns, f.result);
      writer.append(row, make_curves(run, f.result));
      if (on_recorded) on_recorded(run, row);
      if (on_result) on_result(run, row, f.result, f.planned.config);
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
  if (writer_error) std::rethrow_exception(writer_error);
  if (worker_error) std::rethrow_exception(worker_error);
  return summary;
}

}  // namespace cellzoo::sweep
