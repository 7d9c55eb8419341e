// Parameter files of trained runs (run_params.hpp).
#include "framework/sweep/run_params.hpp"

#include <memory>
#include <sstream>

#include "framework/cells/registry.hpp"
#include "framework/plugins/loader.hpp"
#include "framework/store/parameters.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::sweep {
namespace {

// The run's settings as "key=value" lines (task options as task.key), the form `cellzoo
// eval` resolves again.
std::string settings_text(const train::TrainConfig& hyper) {
  std::ostringstream out;
  for (const auto& [k, v] : hyper.values) out << k << "=" << v << "\n";
  for (const auto& [k, v] : hyper.task_options) out << "task." << k << "=" << v << "\n";
  return out.str();
}

std::map<std::string, std::string> parse_settings(const std::string& text) {
  std::map<std::string, std::string> settings;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos && eq > 0) settings[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return settings;
}

std::string shape_text(const store::ParameterInfo& info) {
  return "cell " + info.cell + ", input size " + std::to_string(info.input_size) +
         ", hidden size " + std::to_string(info.hidden_size);
}

}  // namespace

std::string params_path_for(const std::string& out) {
  return (out.size() > 3 && out.ends_with(".h5") ? out.substr(0, out.size() - 3) : out) +
         ".params.h5";
}

bool save_run_parameters(const std::string& path, const train::RunConfig& config,
                         const datasets::TaskInfo& task, const train::TrainResult& r,
                         const std::map<std::string, std::string>& extra) {
  if (r.parameters.size() == 0) return false;  // no finished epoch: nothing worth saving
  store::ParameterInfo info;
  info.cell = config.cell;
  info.hidden_size = config.hyper.hidden;
  std::map<std::string, std::vector<cells::ParamTensor>> groups;
  std::vector<std::string> order;
  for (const auto& t : r.tensors) {  // groups cell or cell_0.., readout, embedding
    if (!groups.count(t.group)) order.push_back(t.group);
    groups[t.group].push_back({t.name, t.rows, t.cols, t.offset, t.kind});
  }
  const auto entry = cells::CellRegistry::instance().get(config.cell);
  Index cell_input = 0;
  train::choose_input_mode(task, entry.info, config.hyper.embed, config.hyper.hidden, &cell_input);
  info.input_size = cell_input;
  info.extra = extra;
  info.extra["layers"] = std::to_string(config.hyper.layers);
  info.extra["task"] = config.task;
  info.extra["input_mode"] = r.input_mode;
  info.extra["best_epoch"] = std::to_string(r.best_epoch);
  info.extra["settings"] = settings_text(config.hyper);
  info.extra["seed"] = std::to_string(config.seed);
  if (const auto* plugin = plugins::plugin_of(config.cell)) {  // the build that trained it
    info.extra["plugin"] = plugin->path;
    info.extra["plugin_hash"] = plugin->hash;
  }
  std::vector<store::ParameterSource<float>> sources;
  const std::span<const float> all(r.parameters.data(),
                                   static_cast<std::size_t>(r.parameters.size()));
  for (const auto& g : order) sources.push_back({g, groups[g], all});
  store::save_parameters<float>(path, info, sources);
  return true;
}

std::map<std::string, std::string> saved_settings(
    const std::string& path, const std::string& task,
    const std::map<std::string, std::string>& overrides) {
  const auto file = store::inspect_parameters(path);
  auto settings = parse_settings(file.info.extra.count("settings") ? file.info.extra.at("settings")
                                                                   : std::string());
  // Task options belong to the task the run was trained on.
  const auto trained_on = file.info.extra.find("task");
  if (trained_on == file.info.extra.end() || trained_on->second != task)
    std::erase_if(settings, [](const auto& kv) { return kv.first.rfind("task.", 0) == 0; });
  // Files of older cellzoo versions record no settings: their hidden size at least.
  if (!settings.count("hidden")) settings["hidden"] = std::to_string(file.info.hidden_size);
  for (const auto& [k, v] : overrides) settings[k] = v;
  return settings;
}

LoadedParameters load_run_parameters(const std::string& path, const std::string& task,
                                     const datasets::TaskInfo& task_info,
                                     const std::map<std::string, std::string>& overrides,
                                     const std::string& expected_cell) {
  const auto file = store::inspect_parameters(path);
  if (!expected_cell.empty() && expected_cell != file.info.cell)
    throw Error(
        "parameter file '" + path + "' holds cell " + file.info.cell + ", not " + expected_cell,
        "pass the parameter file of a " + expected_cell + " run, or drop --cell");
  LoadedParameters out;
  out.config.cell = file.info.cell;
  out.config.task = task;
  out.config.hyper = train::resolve(saved_settings(path, task, overrides));
  out.attributes = file.info.extra;
  if (const auto seed = file.info.extra.find("seed"); seed != file.info.extra.end())
    out.config.seed = std::stoull(seed->second);
  if (const auto hash = file.info.extra.find("plugin_hash"); hash != file.info.extra.end()) {
    const std::string trained_with = file.info.extra.count("plugin")
                                         ? "plugin " + file.info.extra.at("plugin")
                                         : std::string("a plugin");
    const auto* plugin = plugins::plugin_of(out.config.cell);
    if (!plugin)
      throw Error(
          "parameter file '" + path + "' holds cell " + out.config.cell + " of " + trained_with +
              ", which is not loaded",
          "load it: --plugin " + (file.info.extra.count("plugin") ? file.info.extra.at("plugin")
                                                                  : std::string("PATH.so")));
    if (plugin->hash != hash->second)
      throw Error("parameter file '" + path + "' was trained with " + trained_with + " (hash " +
                      hash->second + "), not with plugin " + plugin->path + " (hash " +
                      plugin->hash + ")",
                  "load the plugin build the parameters were trained with");
  }
  const auto entry = cells::CellRegistry::instance().get(out.config.cell);
  std::unique_ptr<train::Model<float>> model;
  try {
    model = std::make_unique<train::Model<float>>(entry, task_info, out.config.hyper);
  } catch (const Error& e) {
    throw Error("parameter file '" + path + "' (" + shape_text(file.info) +
                    ") cannot be used on task " + task + ": " + e.what(),
                e.hint());
  }
  out.parameters = Vector<float>::Zero(model->parameter_count());
  std::map<std::string, std::vector<cells::ParamTensor>> groups;
  for (const auto& t : model->tensors())
    groups[t.group].push_back({t.name, t.rows, t.cols, t.offset, cells::ParamKind::input_weight});
  std::vector<store::ParameterTarget<float>> targets;
  const std::span<float> all(out.parameters.data(),
                             static_cast<std::size_t>(out.parameters.size()));
  for (auto& [g, tensors] : groups) targets.push_back({g, tensors, all});
  try {
    (void)store::load_parameters<float>(path, targets);
  } catch (const Error& e) {
    Index input = 0;
    (void)train::choose_input_mode(task_info, entry.info, out.config.hyper.embed,
                                   out.config.hyper.hidden, &input);
    throw Error("parameter file '" + path + "' (" + shape_text(file.info) +
                    ") does not fit the model of task " + task + " (cell " + out.config.cell +
                    ", input size " + std::to_string(input) + ", hidden size " +
                    std::to_string(out.config.hyper.hidden) + "): " + e.what(),
                "evaluate it on the task (and task options) it was trained on, or pass the "
                "parameter file of a run of this shape");
  }
  return out;
}

}  // namespace cellzoo::sweep
