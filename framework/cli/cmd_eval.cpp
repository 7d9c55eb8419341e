// cellzoo eval: evaluate a parameter file (`cellzoo train --out`, `cellzoo sweep
// --save-params`) on one split of a task and print the metrics `cellzoo train` prints.
#include <cstdio>
#include <map>

#include "datasets/task.hpp"
#include "framework/cli/common.hpp"
#include "framework/sweep/run_params.hpp"
#include "framework/train/trainer.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_eval(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::string params, task, data_path, split_name = "test", cell;
  std::vector<std::string> sets, plugin_paths;
  options.add_options()("params,p", po::value(&params)->required(),
                        "parameter file (F.params.h5 of cellzoo train --out, or one of "
                        "<out>.params/ of cellzoo sweep --save-params)")(
      "task,t", po::value(&task)->required(), "the task to evaluate on (see cellzoo train --help)")(
      "data", po::value(&data_path), "data file or folder of the task (sets task.data)")(
      "split", po::value(&split_name)->default_value("test"), "train, valid or test")(
      "set,s", po::value(&sets)->composing(),
      "override a recorded setting, e.g. task.length=100 (the model's shape must stay the "
      "same)")("cell", po::value(&cell), "refuse a parameter file of another cell");
  add_plugin_option(options, plugin_paths);
  po::variables_map vm;
  if (!parse_args("eval",
                  "--params F.params.h5 --task TASK [--data D] [--split train|valid|test] "
                  "[--set key=value ...] [--cell NAME] [--plugin PATH.so ...]",
                  options, args, vm))
    return 0;
  load_plugins(plugin_paths);
  datasets::Split split;
  if (split_name == "train")
    split = datasets::Split::train;
  else if (split_name == "valid")
    split = datasets::Split::valid;
  else if (split_name == "test")
    split = datasets::Split::test;
  else
    throw Error("unknown --split '" + split_name + "'", "use train, valid or test");

  std::map<std::string, std::string> overrides;
  for (const auto& s : sets) {
    auto [key, value] = split_setting(s, "task.length=100");
    overrides[key] = std::move(value);
  }
  if (!data_path.empty()) overrides["task.data"] = data_path;
  // The task as the run saw it (its recorded options), with the overrides.
  const auto config = train::resolve(sweep::saved_settings(params, task, overrides));
  const auto data = datasets::TaskRegistry::instance().build(
      task, datasets::TaskOptions(config.task_options.begin(), config.task_options.end()),
      config.data_seed);
  const auto loaded = sweep::load_run_parameters(params, task, data.info, overrides, cell);
  const auto e = train::evaluate(loaded.config, data, split, loaded.parameters);
  const char* metric = train::metric_name(data.info.metric);
  std::printf("eval %s (cell %s) on %s, %s split\n", params.c_str(), loaded.config.cell.c_str(),
              task.c_str(), split_name.c_str());
  std::printf("%s_loss %.6g  %s_%s %.6g\n", split_name.c_str(), e.loss, split_name.c_str(), metric,
              e.metric);
  return 0;
}

}  // namespace cellzoo::cli
