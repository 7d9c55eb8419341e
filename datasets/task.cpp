// TaskRegistry, TaskData accessors and the consistency check run on every built task.
#include "datasets/task.hpp"

#include <limits>
#include <set>

#include "framework/util/error.hpp"

namespace cellzoo::datasets {

const std::vector<Sequence>& TaskData::sequences(Split s) const {
  switch (s) {
    case Split::train:
      return train;
    case Split::valid:
      return valid;
    case Split::test:
      return test;
  }
  return train;
}

const std::vector<int>& TaskData::stream(Split s) const {
  switch (s) {
    case Split::train:
      return train_stream;
    case Split::valid:
      return valid_stream;
    case Split::test:
      return test_stream;
  }
  return train_stream;
}

TaskRegistry& TaskRegistry::instance() {
  static TaskRegistry registry = [] {
    TaskRegistry r;
    register_builtin_tasks(r);
    return r;
  }();
  return registry;
}

void TaskRegistry::add(TaskEntry entry) {
  const std::string name = entry.name;
  if (name.empty()) throw Error("task registered without a name");
  if (!entry.build) throw Error("task '" + name + "' is registered without a build function");
  std::set<std::string> keys;
  for (const auto& [key, _] : entry.options)
    if (!keys.insert(key).second)
      throw Error("task '" + name + "' declares the option '" + key + "' twice");
  if (!entries_.emplace(name, std::move(entry)).second)
    throw Error("task '" + name + "' is registered twice");
}

const TaskEntry& TaskRegistry::get(std::string_view name) const {
  if (auto it = entries_.find(name); it != entries_.end()) return it->second;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown task '" + std::string(name) + "'", "registered tasks: " + known);
}

std::vector<std::string> TaskRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : entries_) out.push_back(name);
  return out;
}

std::string describe_options(const TaskEntry& entry) {
  std::string out;
  for (const auto& [key, dm] : entry.options) {
    const auto& [def, meaning] = dm;
    out += "  " + key + " (default " + (def.empty() ? "none" : def) + "): " + meaning + "\n";
  }
  return out;
}

const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& common_options() {
  static const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> options = {
      {"metric",
       {"default",
        "the compared metric: default (the task's own), accuracy (classification tasks: "
        "per-step accuracy, next-word/char accuracy on words/chars) or sequence_accuracy "
        "(classification tasks of independent sequences)"}}};
  return options;
}

namespace {

// task.metric: replaces the task's metric (and its baseline, which was the old metric's).
void apply_metric_option(TaskData& data, const std::string& metric) {
  TaskInfo& info = data.info;
  const auto bad = [&](const std::string& why) {
    return Error("task '" + info.name + "' option metric=" + metric + " " + why,
                 "metric = default (the task's own), accuracy (classification tasks) or "
                 "sequence_accuracy (classification tasks of independent sequences)");
  };
  if (metric == "default") return;
  if (metric != "accuracy" && metric != "sequence_accuracy")
    throw bad("is not one of default, accuracy, sequence_accuracy");
  if (info.loss != LossKind::softmax_xent)
    throw bad("is not possible: only classification tasks (softmax outputs) have an accuracy");
  if (metric == "sequence_accuracy" && info.stream)
    throw bad("is not possible: a stream task has no sequences (use accuracy)");
  const Metric chosen = metric == "accuracy" ? Metric::accuracy : Metric::sequence_accuracy;
  if (chosen != info.metric) info.baseline = std::numeric_limits<double>::quiet_NaN();
  info.metric = chosen;
}

}  // namespace

TaskData TaskRegistry::build(std::string_view name, const TaskOptions& options,
                             std::uint64_t seed) const {
  const TaskEntry& entry = get(name);
  TaskOptions filled, common;
  for (const auto& [key, dm] : entry.options) filled[key] = dm.first;
  for (const auto& [key, dm] : common_options()) common[key] = dm.first;
  for (const auto& [key, value] : options) {
    if (common.contains(key) && !filled.contains(key)) {
      common[key] = value;
      continue;
    }
    if (!filled.contains(key)) {
      const std::string valid = entry.options.empty() ? "  (none)\n" : describe_options(entry);
      std::string every;
      for (const auto& [k, dm] : common_options()) every += " " + k;
      throw Error(
          "task '" + entry.name + "' has no option '" + key + "'",
          "valid options of '" + entry.name + "':\n" + valid + "and of every task:" + every);
    }
    filled[key] = value;
  }
  TaskData data = entry.build(filled, seed);
  if (data.info.name.empty()) data.info.name = entry.name;
  apply_metric_option(data, common.at("metric"));
  check_task_data(data);
  return data;
}

namespace {

[[noreturn]] void bad(const TaskData& d, const char* split, std::size_t index,
                      const std::string& what) {
  throw Error("task '" + d.info.name + "' produced inconsistent data: " + split + "[" +
              std::to_string(index) + "] " + what);
}

void check_sequences(const TaskData& d, const char* split, const std::vector<Sequence>& seqs) {
  const TaskInfo& info = d.info;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const Sequence& s = seqs[i];
    const Index T = s.length();
    if (T <= 0) bad(d, split, i, "has no steps");
    if (info.input_kind == InputKind::one_hot) {
      if (static_cast<Index>(s.input_tokens.size()) != T) bad(d, split, i, "input length");
      for (int tok : s.input_tokens)
        if (tok < 0 || tok >= info.input_size) bad(d, split, i, "input token out of range");
    } else if (s.input_dense.rows() != info.input_size || s.input_dense.cols() != T) {
      bad(d, split, i, "dense input shape");
    }
    if (info.loss == LossKind::softmax_xent) {
      if (static_cast<Index>(s.target_tokens.size()) != T) bad(d, split, i, "target length");
      for (Index t = 0; t < T; ++t) {
        const int tok = s.target_tokens[static_cast<std::size_t>(t)];
        if (tok < -1 || tok >= info.output_size) bad(d, split, i, "target class out of range");
        if (tok < 0 && s.weight[static_cast<std::size_t>(t)] != 0)
          bad(d, split, i, "scored step without a target");
      }
    } else if (s.target_dense.rows() != info.output_size || s.target_dense.cols() != T) {
      bad(d, split, i, "dense target shape");
    }
    for (float w : s.weight)
      if (!(w >= 0)) bad(d, split, i, "negative or NaN weight");
  }
}

void check_stream(const TaskData& d, const char* split, const std::vector<int>& stream) {
  if (stream.empty()) throw Error("task '" + d.info.name + "' has an empty " + split + " stream");
  for (int tok : stream)
    if (tok < 0 || tok >= d.info.input_size)
      throw Error("task '" + d.info.name + "' produced a token id out of range in " + split);
}

}  // namespace

void check_task_data(const TaskData& d) {
  const TaskInfo& info = d.info;
  if (info.input_size <= 0 || info.output_size <= 0)
    throw Error("task '" + info.name + "' declares no input or output units");
  if (info.stream) {
    if (info.input_kind != InputKind::one_hot || info.loss != LossKind::softmax_xent)
      throw Error("stream task '" + info.name + "' must be one-hot with a softmax loss");
    check_stream(d, "train", d.train_stream);
    check_stream(d, "valid", d.valid_stream);
    check_stream(d, "test", d.test_stream);
    if (!d.vocabulary.empty() && static_cast<Index>(d.vocabulary.size()) != info.input_size)
      throw Error("task '" + info.name + "': vocabulary size differs from its input size");
    return;
  }
  check_sequences(d, "train", d.train);
  check_sequences(d, "valid", d.valid);
  check_sequences(d, "test", d.test);
}

}  // namespace cellzoo::datasets
