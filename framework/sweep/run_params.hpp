// A trained run's parameters as a parameter file (docs/parameters.md): written by
// `cellzoo train --out` (<out>.params.h5) and `cellzoo sweep --save-params` (one file per
// run in <out>.params/), read back by `cellzoo eval` and cellzoo_analysis.load_params.
#pragma once

#include <map>
#include <string>

#include "datasets/task.hpp"
#include "framework/train/trainer.hpp"

namespace cellzoo::sweep {

// "X.h5" -> "X.params.h5" (the parameter file of `cellzoo train --out X.h5`).
std::string params_path_for(const std::string& results_path);

// Writes r.parameters (the best validation epoch's) as a new parameter file at `path`
// (never overwriting one). Besides the tensors it records cell, input and hidden size and,
// as attributes, the run's settings (every hyperparameter and task option, so `cellzoo
// eval` rebuilds the same model), task, input_mode, best_epoch and `extra`. Does nothing
// for a run without a finished epoch (r.parameters empty); returns whether it wrote.
bool save_run_parameters(const std::string& path, const train::RunConfig& config,
                         const datasets::TaskInfo& task, const train::TrainResult& r,
                         const std::map<std::string, std::string>& extra = {});

struct LoadedParameters {
  train::RunConfig config;  // cell and resolved settings (with the overrides applied)
  Vector<float> parameters;
  std::map<std::string, std::string> attributes;  // the file's string attributes
};

// Reads a parameter file for `task` (options from the file's settings, then
// `overrides`: "key=value", task options as task.key). Throws cellzoo::Error when the file
// is not a parameter file, `expected_cell` is given and differs from the file's, or the
// model the task needs has other tensors or shapes than the file (naming both).
LoadedParameters load_run_parameters(const std::string& path, const std::string& task,
                                     const datasets::TaskInfo& task_info,
                                     const std::map<std::string, std::string>& overrides,
                                     const std::string& expected_cell = "");

// The settings a parameter file records, with `overrides` applied (for building the task
// before load_run_parameters); its task options only when `task` is the task it was
// trained on.
std::map<std::string, std::string> saved_settings(
    const std::string& path, const std::string& task,
    const std::map<std::string, std::string>& overrides);

}  // namespace cellzoo::sweep
