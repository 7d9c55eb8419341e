// The training engine: one run = one cell on one task with one set of hyperparameters
// and one seed, trained with early stopping on the validation metric.
//
// Thread safety: run_one() uses no globals and does no I/O except through the observer,
// so the sweep calls it from many TBB threads at once. Every random choice (initial
// parameters, data order, input noise) derives from RunConfig::seed with derive_seed, so
// the same configuration and seed give bit-identical results (float32, Eigen single
// threaded). Only the wall-clock budget can make two runs differ.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/task.hpp"
#include "framework/train/hyperparameters.hpp"
#include "framework/train/model.hpp"

namespace cellzoo::train {

struct RunConfig {
  std::string cell;  // a cells::CellRegistry name
  std::string task;  // the task name (recorded; the data is passed to run_one)
  TrainConfig hyper;
  std::uint64_t seed = 1;
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  double train_loss = 0, valid_loss = 0, valid_metric = 0;
  double learning_rate = 0;  // used during this epoch
  double seconds = 0;        // since the run started
};

struct TrainResult {
  std::string status = "ok";       // ok | diverged | failed | timeout | cancelled
  std::string error;               // what failed / diverged and when; empty for ok
  int epochs = 0, best_epoch = 0;  // best_epoch 0 = no epoch finished
  // At the best validation epoch (NaN if none): the training loss of that epoch, the
  // validation loss and metric, and the test loss and metric measured at that epoch.
  double train_loss, valid_loss, test_loss, valid_metric, test_metric;
  // The papers' accuracies at the same epoch, besides the task's metric (NaN where they do
  // not apply, see step_accuracy / sequence_accuracy): per scored step, and per sequence
  // (every scored step right).
  double valid_accuracy, test_accuracy, valid_sequence_accuracy, test_sequence_accuracy;
  double wall_seconds = 0;
  long n_params = 0;
  std::vector<EpochRecord> curve;
  Vector<float> parameters;          // best-epoch parameters (empty if no epoch finished)
  std::vector<ModelTensor> tensors;  // named slices of `parameters`
  std::string input_mode;            // the input layer used (one-hot, embedding, ...)
  TrainResult();
};

// Receives progress events; called on the thread that runs the run.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void on_epoch(const RunConfig& run, const EpochRecord& record) = 0;
};

// Trains and evaluates. Never throws: a NaN/inf loss or gradient gives status
// "diverged", an exception "failed" (with its message), `*cancel` becoming true (checked
// between batches) "cancelled", the time budget "timeout"; best-so-far metrics are kept.
TrainResult run_one(const RunConfig& config, const datasets::TaskData& data,
                    TrainObserver* observer = nullptr, const std::atomic<bool>* cancel = nullptr);

// Memory one run needs while it trains, estimated before it starts (a lower bound: the
// cell's own per-step workspace is counted as two state vectors per state).
struct MemoryEstimate {
  double bytes = 0;  // the total
  std::int64_t parameters = 0;
  double parameter_bytes = 0;   // parameters, gradient, best-so-far copy, optimiser state
  double activation_bytes = 0;  // states, inputs and outputs of the longest batch, all steps
  std::int64_t longest_steps = 0, batch_sequences = 0;
};
MemoryEstimate estimate_memory(const cells::CellEntry& cell, const datasets::TaskData& data,
                               const TrainConfig& hyper);

// The memory this process may use: the smallest of the physical memory, the cgroup's
// memory limit (containers, SLURM jobs) and the address-space limit (ulimit -v). 0 when
// none is known.
double available_memory_bytes();

// "3.2 GiB", "512 MiB".
std::string format_bytes(double bytes);

// Metric helpers.
const char* metric_name(datasets::Metric metric);
bool metric_higher_is_better(datasets::Metric metric);
// The metric from summed batch statistics (NaN when nothing was scored).
double metric_value(datasets::Metric metric, const BatchStats& stats);
// Fraction of scored steps predicted right (the argmax is the target) for classification
// tasks (softmax outputs: next-word and next-character accuracy on words and chars);
// NaN for regression and multi-label (music) tasks.
double step_accuracy(const datasets::TaskInfo& task, const BatchStats& stats);
// Fraction of sequences whose every scored step is right, for classification tasks of
// independent sequences; NaN otherwise (a stream task's windows are not sequences).
double sequence_accuracy(const datasets::TaskInfo& task, const BatchStats& stats);

struct Evaluation {
  double loss = 0;    // per scored step
  double metric = 0;  // the task metric
  BatchStats stats;
};
// Evaluates `parameters` (e.g. TrainResult::parameters) on one split, exactly as the
// trainer does. Throws cellzoo::Error on bad input.
Evaluation evaluate(const RunConfig& config, const datasets::TaskData& data, datasets::Split split,
                    const Vector<float>& parameters);

// Early stopping and the learning-rate schedule, one decision per finished epoch.
//  - improved: the validation metric is strictly better than the best so far;
//  - stop after max_epochs, or after `patience` epochs without improvement (if > 0);
//  - lr_decay=plateau-halve: once `decay_after` epochs have passed without improvement,
//    the rate is halved before each of the next `decay_epochs` epochs, then training
//    stops (improvements during the decay do not restart it).
class StoppingRule {
 public:
  StoppingRule(const TrainConfig& config, bool higher_is_better);
  struct Decision {
    bool improved = false;
    bool stop = false;
    double lr = 0;       // the rate for the next epoch
    std::string reason;  // why it stops
  };
  Decision after_epoch(int epoch, double valid_metric);
  double lr() const { return lr_; }

 private:
  TrainConfig config_;
  bool higher_;
  bool have_best_ = false, decaying_ = false;
  double best_ = 0, lr_;
  int since_best_ = 0, halvings_ = 0;
};

}  // namespace cellzoo::train
