// cellzoo train: one training run with per-epoch progress, optionally saved as a
// one-run results file (docs/results-format.md) plus the best parameters.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "datasets/task.hpp"
#include "framework/cli/common.hpp"
#include "framework/store/parameters.hpp"
#include "framework/store/results_file.hpp"
#include "framework/sweep/batch.hpp"
#include "framework/sweep/run_params.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/train/budget.hpp"
#include "framework/train/trainer.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {
namespace {

// Prints one line per epoch.
class ConsoleObserver : public train::TrainObserver {
 public:
  explicit ConsoleObserver(std::string metric)
      : metric_("valid_" + metric),
        width_(static_cast<int>(std::max<std::size_t>(14, metric_.size()))) {
    std::printf("%6s %12s %12s %*s %10s %9s\n", "epoch", "train_loss", "valid_loss", width_,
                metric_.c_str(), "lr", "seconds");
  }
  void on_epoch(const train::RunConfig&, const train::EpochRecord& r) override {
    std::printf("%6d %12.6g %12.6g %*.6g %10.3g %9.1f\n", r.epoch, r.train_loss, r.valid_loss,
                width_, r.valid_metric, r.learning_rate, r.seconds);
    std::fflush(stdout);
  }

 private:
  std::string metric_;
  int width_;
};

std::string tasks_help() {
  std::string out;
  const auto& registry = datasets::TaskRegistry::instance();
  for (const auto& name : registry.names()) {
    std::string head = "  " + name;
    head.resize(24, ' ');
    const auto& entry = registry.get(name);
    out += head + entry.description + "\n";
    for (const auto& [option, info] : entry.options)
      out += "      task." + option + "=" + info.first + "  " + info.second + "\n";
  }
  out += "  every task\n";
  for (const auto& [option, info] : datasets::common_options())
    out += "      task." + option + "=" + info.first + "  " + info.second + "\n";
  return out;
}

// The run as the sweep would have it (run_id 0, trial 0): `settings` are the --set values as
// given (task options as task.<key>), normalised as a spec's are, so the run_key is the
// sweep's for the same configuration; every hyperparameter is a column.
sweep::RunSpec train_run(const train::RunConfig& config,
                         const std::map<std::string, std::string>& settings,
                         std::vector<sweep::HyperColumn>& columns) {
  sweep::RunSpec run;
  run.cell = config.cell;
  run.task = config.task;
  run.seed = config.seed;
  for (const auto& [k, v] : settings) run.settings[k] = sweep::normalise_value(v);
  run.run_key = sweep::make_run_key(run.cell, run.task, run.seed, run.settings);
  for (const auto& row : train::hyperparameter_table()) {
    const auto& text = config.hyper.values.at(row.name);
    const bool numeric =
        (row.type == train::HyperType::integer || row.type == train::HyperType::real) &&
        row.choices.empty();
    columns.push_back(
        {row.name, numeric ? sweep::HyperColumn::Kind::number : sweep::HyperColumn::Kind::text});
    if (numeric)
      run.hyper[row.name] = std::strtod(text.c_str(), nullptr);
    else
      run.hyper[row.name] = text;
  }
  for (const auto& [k, v] : config.hyper.task_options) {
    columns.push_back({"task." + k, sweep::HyperColumn::Kind::text});
    run.hyper["task." + k] = v;
  }
  return run;
}

// Writes the results file and, next to it, the best parameters (<out>.params.h5).
void write_outputs(const std::string& path, const train::RunConfig& config,
                   const std::map<std::string, std::string>& settings,
                   const datasets::TaskData& data, const train::TrainResult& r,
                   const std::string& command_line) {
  // The resolved configuration as canonical text: what identifies this file.
  std::ostringstream spec;
  spec << "cell = " << config.cell << "\ntask = " << config.task << "\nseed = " << config.seed
       << "\n";
  for (const auto& [k, v] : config.hyper.values) spec << k << " = " << v << "\n";
  for (const auto& [k, v] : config.hyper.task_options) spec << "task." << k << " = " << v << "\n";

  store::FileMeta meta;
  meta.spec_text = spec.str();
  meta.spec_hash = sweep::hash_hex128(meta.spec_text);
  meta.total_runs = 1;
  meta.task = config.task;
  meta.metric = train::metric_name(data.info.metric);
  meta.metric_higher_is_better = train::metric_higher_is_better(data.info.metric);
  meta.command_line = command_line;

  std::vector<sweep::HyperColumn> columns;
  const sweep::RunSpec run = train_run(config, settings, columns);
  const store::RunRow row = sweep::make_row(run, columns, r);
  auto writer = store::ResultsWriter::create(path, meta, sweep::store_columns(columns));
  if (auto cell = sweep::plugin_cell_row(config.cell)) writer.add_cell(*cell);  // its build
  writer.append(row, sweep::make_curves(run, r));
  writer.set_finished();
  writer.close();
  std::printf("results: %s\n", path.c_str());

  const std::string params_path = sweep::params_path_for(path);
  if (sweep::save_run_parameters(params_path, config, data.info, r, {{"run_key", row.run_key}}))
    std::printf("parameters: %s\n", params_path.c_str());
}

}  // namespace

int cmd_train(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::string cell, task, data_path, out;
  std::vector<std::string> sets, plugin_paths;
  unsigned long long seed = 1;
  options.add_options()("cell,c", po::value(&cell), "cell to train (see 'cellzoo cells')")(
      "task,t", po::value(&task), "task to train on (listed below)")(
      "data", po::value(&data_path), "data file or folder of the task (sets task.data)")(
      "set,s", po::value(&sets)->composing(),
      "hyperparameter or task option, key=value (repeatable; task options as task.<key>)")(
      "seed", po::value(&seed)->default_value(1), "run seed: initialisation, data order, noise")(
      "out,o", po::value(&out),
      "write a one-run results file (and the best parameters to <out>.params.h5)")(
      "quiet,q", "print only the final result")(
      "markdown", "print the hyperparameter table as Markdown rows and exit");
  add_plugin_option(options, plugin_paths);
  po::variables_map vm;
  if (!parse_args("train", "--cell NAME --task TASK [--set key=value ...] [options]", options, args,
                  vm)) {
    std::cout << "hyperparameters (--set key=value; default shown):\n"
              << train::hyperparameter_help()
              << "\ntasks (with their options, set as --set task.<key>=value):\n"
              << tasks_help();
    return 0;
  }
  if (vm.count("markdown")) {
    std::cout << train::hyperparameter_markdown();
    return 0;
  }
  if (cell.empty() || task.empty())
    throw Error("train needs --cell and --task", "see 'cellzoo train --help'");
  load_plugins(plugin_paths);

  std::map<std::string, std::string> settings;
  for (const auto& s : sets) {
    auto [key, value] = split_setting(s, "lr=0.01");
    if (settings.count(key)) throw Error("--set " + key + " given twice");
    settings[key] = std::move(value);
  }
  if (!data_path.empty()) {
    if (settings.count("task.data")) throw Error("give either --data or --set task.data, not both");
    settings["task.data"] = data_path;
  }
  if (!out.empty()) {                      // refuse before training, not after
    if (store::results_file_present(out))  // an empty (0-byte) file holds nothing: replaced
      throw Error("--out " + out + " already exists", "remove it or choose another name");
    if (std::filesystem::exists(sweep::params_path_for(out)))
      throw Error(sweep::params_path_for(out) + " already exists",
                  "remove it or choose another --out");
  }
  train::RunConfig config{cell, task, train::resolve(settings), seed};
  if (config.hyper.param_budget > 0 && settings.count("hidden"))
    throw Error("--set hidden is given together with --set param_budget: the budget solves hidden",
                "drop one of them");
  const auto entry = cells::CellRegistry::instance().get(cell);  // unknown cell: error now
  const auto data = datasets::TaskRegistry::instance().build(
      task,
      datasets::TaskOptions(config.hyper.task_options.begin(), config.hyper.task_options.end()),
      config.hyper.data_seed);
  train::apply_param_budget(entry, data.info, config.hyper);

  const bool quiet = vm.count("quiet") > 0;
  const char* metric = train::metric_name(data.info.metric);
  if (!quiet)
    std::printf("train %s on %s (seed %llu): %zu/%zu/%zu %s\n", cell.c_str(), task.c_str(), seed,
                data.info.stream ? data.train_stream.size() : data.train.size(),
                data.info.stream ? data.valid_stream.size() : data.valid.size(),
                data.info.stream ? data.test_stream.size() : data.test.size(),
                data.info.stream ? "tokens" : "sequences");
  std::optional<ConsoleObserver> console;
  if (!quiet) console.emplace(metric);
  const auto r = train::run_one(config, data, console ? &*console : nullptr, nullptr);

  std::printf("status %s%s%s\n", r.status.c_str(), r.error.empty() ? "" : ": ", r.error.c_str());
  std::printf("parameters %ld (input layer: %s), epochs %d, best epoch %d, %.1f s\n", r.n_params,
              r.input_mode.c_str(), r.epochs, r.best_epoch, r.wall_seconds);
  std::printf("train_loss %.6g  valid_loss %.6g  test_loss %.6g\n", r.train_loss, r.valid_loss,
              r.test_loss);
  std::printf("valid_%s %.6g  test_%s %.6g\n", metric, r.valid_metric, metric, r.test_metric);
  // The accuracy columns, unless the line above already showed one as the metric.
  const std::string shown = metric;
  if ((!std::isnan(r.valid_accuracy) || !std::isnan(r.test_accuracy)) && shown != "accuracy")
    std::printf("valid_accuracy %.6g  test_accuracy %.6g\n", r.valid_accuracy, r.test_accuracy);
  if ((!std::isnan(r.valid_sequence_accuracy) || !std::isnan(r.test_sequence_accuracy)) &&
      shown != "sequence_accuracy")
    std::printf("valid_sequence_accuracy %.6g  test_sequence_accuracy %.6g\n",
                r.valid_sequence_accuracy, r.test_sequence_accuracy);
  std::fflush(stdout);

  if (!out.empty()) {
    std::string command_line = "cellzoo train";
    for (const auto& a : args) command_line += " " + a;
    write_outputs(out, config, settings, data, r, command_line);
  }
  return r.status == "ok" || r.status == "timeout" ? 0 : 1;
}

}  // namespace cellzoo::cli
