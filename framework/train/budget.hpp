// Parameter budgets (`param_budget = N`): the hidden size of a run is the largest H whose
// whole model -- cell layers, input layer and readout, exactly the n_params a results file
// records -- has at most N parameters (Jozefowicz et al. 2015 sized every architecture to
// a budget). The count is Model's own, so it follows `layers`, `embed = auto` (an
// embedding or projection of size hidden), square-input cells (MUT1/MUT2: input size H)
// and any cell-language or plugin cell.
#pragma once

#include <cstdint>

#include "datasets/task.hpp"
#include "framework/cells/registry.hpp"
#include "framework/train/hyperparameters.hpp"

namespace cellzoo::train {

// n_params of the model of `cell` on `task` with `hyper` (its hidden as given).
std::int64_t model_parameter_count(const cells::CellEntry& cell, const datasets::TaskInfo& task,
                                   const TrainConfig& hyper);

// The largest hidden size in [1, 1e6] whose model has at most `budget` parameters (the
// count grows with H). Throws cellzoo::Error when even the smallest possible model is
// larger, naming its parameter count; for a square-input cell with a fixed input size
// (embed = N, or embed = 0: the task's input size) the only possible H is that size, and
// it is an error too when that model has under half the budget (the budget cannot size
// the cell, so a comparison at equal budgets would not be one).
int solve_hidden(const cells::CellEntry& cell, const datasets::TaskInfo& task,
                 const TrainConfig& hyper, std::int64_t budget);

// With hyper.param_budget set: hyper.hidden (and values["hidden"]) become solve_hidden's
// size. Does nothing without a budget.
void apply_param_budget(const cells::CellEntry& cell, const datasets::TaskInfo& task,
                        TrainConfig& hyper);

}  // namespace cellzoo::train
