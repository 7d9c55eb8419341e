// A task: what a model reads, what it must predict, how it is scored, and the data.
//
// Tasks are registered by name (TaskRegistry). A task is built from a seed (synthetic
// tasks generate their data from it; file-based tasks ignore it) and its options
// (key=value strings, e.g. "length=100" or the data path), and materialises three splits.
//
// Two shapes of data:
//  - sequence tasks: independent sequences, each with inputs, targets and a per-step loss
//    weight (0 = no loss at that step). Batched by length (see train/batching).
//  - stream tasks (chars, words): one long token stream per split, cut into B parallel
//    streams and windows for truncated BPTT with the state carried across windows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "framework/util/eigen.hpp"

namespace cellzoo::datasets {

enum class InputKind { dense, one_hot };
enum class LossKind { mse, softmax_xent, bernoulli_xent };
enum class Split { train, valid, test };

// The task's headline metric, computed by the trainer from its loss and predictions.
enum class Metric {
  mse,                // mean squared error per scored step
  accuracy,           // fraction of scored steps whose argmax (softmax) / thresholded
                      // output (|error| < tolerance for mse) is right; higher is better
  nll_per_step,       // Bernoulli NLL summed over output units, averaged over scored steps (Greff)
  bits_per_char,      // softmax cross-entropy / ln 2
  perplexity,         // exp(softmax cross-entropy)
  sequence_accuracy,  // fraction of sequences whose every scored step is right
};

struct TaskInfo {
  std::string name;
  InputKind input_kind = InputKind::dense;
  Index input_size = 0;   // features, or vocabulary size for one_hot
  Index output_size = 0;  // regression outputs, classes, or Bernoulli units
  LossKind loss = LossKind::mse;
  Metric metric = Metric::mse;
  double mse_tolerance = 0.04;  // for Metric::accuracy with an mse loss (adding problem)
  bool stream = false;          // true: truncated BPTT over token streams
  // Trivial baseline of the metric (e.g. 1/6 for the adding problem's "always predict
  // the mean"), NaN if none; learning tests assert a cell beats it.
  double baseline = 0;
  std::string description;
};

struct Sequence {
  std::vector<int> input_tokens;   // one_hot inputs: one id per step
  Matrix<float> input_dense;       // dense inputs: input_size x length
  std::vector<int> target_tokens;  // softmax targets: one class per step (-1: none)
  Matrix<float> target_dense;      // mse / Bernoulli targets: output_size x length
  std::vector<float> weight;       // loss weight per step (0 = not scored)
  Index length() const { return static_cast<Index>(weight.size()); }
};

struct TaskData {
  TaskInfo info;
  std::vector<Sequence> train, valid, test;                  // sequence tasks
  std::vector<int> train_stream, valid_stream, test_stream;  // stream tasks (token ids)
  std::vector<std::string> vocabulary;  // token names for one_hot tasks, if any
  // Generated tasks with the option fresh=true: the training set of epoch e >= 2 (a new
  // one every epoch, from the data seed and e; epoch 1 trains on `train`). Empty
  // otherwise. Thread-safe (the task data are shared read-only by a sweep's runs).
  std::function<std::vector<Sequence>(int epoch)> fresh_train;
  const std::vector<Sequence>& sequences(Split s) const;
  const std::vector<int>& stream(Split s) const;
};

using TaskOptions = std::map<std::string, std::string>;

struct TaskEntry {
  std::string name;
  std::string description;  // one line, with its source
  // Option name -> (default, meaning); unknown options are an error listing these.
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> options;
  std::function<TaskData(const TaskOptions& options, std::uint64_t seed)> build;
};

// Thread safety: after instance() returns, get(), names() and build() may be called from
// several threads at once (builders share no mutable state); add() may not.
class TaskRegistry {
 public:
  static TaskRegistry& instance();  // with every built-in task registered
  void add(TaskEntry entry);        // duplicate names are an error
  // Throws cellzoo::Error listing the registered tasks when `name` is unknown.
  const TaskEntry& get(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted
  // Validates `options` against the entry (unknown key -> error listing the valid ones),
  // fills defaults, and builds the data.
  TaskData build(std::string_view name, const TaskOptions& options, std::uint64_t seed) const;

 private:
  std::map<std::string, TaskEntry, std::less<>> entries_;
};

// Defined in builtin_tasks.cpp: one line per task (see builtin_tasks.def).
void register_builtin_tasks(TaskRegistry& registry);

// Checks that `data` is consistent with its TaskInfo: every sequence has a positive
// length, inputs/targets/weights of matching sizes, token ids in range, scored softmax
// steps with a target; stream tasks have non-empty streams with ids in the vocabulary.
// Throws cellzoo::Error naming the split and sequence. TaskRegistry::build calls it.
void check_task_data(const TaskData& data);

// "name (default D): meaning" lines, one per option, for help texts and error hints.
std::string describe_options(const TaskEntry& entry);

// The options every task takes besides its own, which TaskRegistry::build handles:
//   metric = default | accuracy | sequence_accuracy   the task's compared metric (the one
//     early stopping, valid_metric, test_metric and the report use); accuracy for
//     classification tasks (softmax outputs), sequence_accuracy also only for tasks of
//     independent sequences. Default: the task's own metric.
const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& common_options();

}  // namespace cellzoo::datasets
