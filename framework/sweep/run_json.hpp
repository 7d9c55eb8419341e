// One resolved run as one line of JSON: `cellzoo sweep SPEC --dry-run --format json` prints
// one per run, so a reader can check budgets, layers and every other setting without
// training (experiments/README.md, "Dry runs").
#pragma once

#include <cstdint>
#include <string>

#include "framework/sweep/spec.hpp"

namespace cellzoo::sweep {

// {"run_id": 0, "run_key": "...", "cell": "lstm", "task": "adding", "trial": 0, "seed": ...,
//  then every hyperparameter of the training table with its resolved value (hidden solved
//  under a param_budget; numbers as numbers, "none" as null, true/false as booleans), then
//  "task.<option>" for every task option, "n_params" and "input_mode"} -- no newline.
std::string run_json(const RunSpec& run, std::int64_t n_params, const std::string& input_mode);

}  // namespace cellzoo::sweep
