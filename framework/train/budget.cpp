// Parameter budgets (budget.hpp).
#include "framework/train/budget.hpp"

#include <string>

#include "framework/train/model.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::train {
namespace {

constexpr int kMaxHidden = 1'000'000;  // the hidden table row's upper bound

std::string budget_hint(std::int64_t smallest) {
  return "raise param_budget to at least " + std::to_string(smallest) +
         ", or set hidden instead of param_budget";
}

}  // namespace

std::int64_t model_parameter_count(const cells::CellEntry& cell, const datasets::TaskInfo& task,
                                   const TrainConfig& hyper) {
  return static_cast<std::int64_t>(Model<float>(cell, task, hyper).parameter_count());
}

int solve_hidden(const cells::CellEntry& cell, const datasets::TaskInfo& task,
                 const TrainConfig& hyper, std::int64_t budget) {
  TrainConfig c = hyper;
  const auto count = [&](int h) {
    c.hidden = h;
    return model_parameter_count(cell, task, c);
  };
  const std::string what = "param_budget = " + std::to_string(budget) + ": ";
  if (cell.info.square_input && hyper.embed >= 0) {  // the input size fixes H
    const auto only = static_cast<int>(hyper.embed == 0 ? task.input_size : hyper.embed);
    const auto n = count(only);
    const std::string fixed =
        what + "cell " + cell.info.name +
        " takes input size = hidden, so embed = " + std::to_string(hyper.embed);
    if (n > budget)
      throw Error(fixed + " allows only hidden " + std::to_string(only) + ", whose model has " +
                      std::to_string(n) + " parameters; the smallest possible count is " +
                      std::to_string(n),
                  budget_hint(n) + " (or embed = auto)");
    // Far below the budget the cell would be compared with cells twice its size or more:
    // the budget cannot size it, so say so instead of running an unequal comparison.
    if (2 * n < budget)
      throw Error(fixed + " fixes hidden at " + std::to_string(only) + ", whose model has " +
                      std::to_string(n) + " parameters, under half the budget",
                  "set embed = auto (an embedding of size hidden, counted in the budget), or "
                  "embed = N with a model near the budget, or hidden instead of param_budget");
    return only;
  }
  const auto smallest = count(1);
  if (smallest > budget)
    throw Error(what + "too small for cell " + cell.info.name + " on task " + task.name +
                    ": even hidden 1 has " + std::to_string(smallest) +
                    " parameters, the smallest possible count",
                budget_hint(smallest));
  // Doubling to bracket the answer, then bisection: lo fits, hi does not.
  int lo = 1, hi = 2;
  while (hi <= kMaxHidden && count(hi) <= budget) {
    lo = hi;
    hi = hi > kMaxHidden / 2 ? kMaxHidden + 1 : 2 * hi;
  }
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    (count(mid) <= budget ? lo : hi) = mid;
  }
  // A square-input cell under embed = auto reads the input raw at H = input size, without
  // the embedding or projection it needs at every other H: the one size below the curve.
  const auto raw = task.input_size;
  if (cell.info.square_input && raw > lo && raw <= kMaxHidden &&
      count(static_cast<int>(raw)) <= budget)
    return static_cast<int>(raw);
  return lo;
}

void apply_param_budget(const cells::CellEntry& cell, const datasets::TaskInfo& task,
                        TrainConfig& hyper) {
  if (hyper.param_budget <= 0) return;
  hyper.hidden = solve_hidden(cell, task, hyper, hyper.param_budget);
  hyper.values["hidden"] = std::to_string(hyper.hidden);
}

}  // namespace cellzoo::train
