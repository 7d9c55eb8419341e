// Parameter budgets: the solved hidden size is the largest whose whole model fits, for
// plain and square-input cells, stacks and every input layer, checked against a brute
// force over H; a budget below the smallest model names that model's size.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "framework/cells/registry.hpp"
#include "framework/train/budget.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::train;

namespace {

datasets::TaskInfo task_info(datasets::InputKind kind, Index inputs, Index outputs) {
  datasets::TaskInfo info;
  info.name = "synthetic";
  info.input_kind = kind;
  info.input_size = inputs;
  info.output_size = outputs;
  return info;
}

// The model's parameter count at H = 1..400 (index H; -1 where the input layer is
// impossible at that H, as for a square-input cell with a fixed input size).
std::vector<std::int64_t> counts(const cells::CellEntry& cell, const datasets::TaskInfo& task,
                                 TrainConfig c) {
  std::vector<std::int64_t> out(401, -1);
  for (int h = 1; h <= 400; ++h) {
    c.hidden = h;
    try {
      out[static_cast<std::size_t>(h)] = model_parameter_count(cell, task, c);
    } catch (const Error&) {
    }
  }
  return out;
}

// The largest H <= 400 whose model has at most `budget` parameters (0: none).
int brute_force(const std::vector<std::int64_t>& count, std::int64_t budget) {
  int best = 0;
  for (int h = 1; h <= 400; ++h)
    if (count[static_cast<std::size_t>(h)] >= 0 && count[static_cast<std::size_t>(h)] <= budget)
      best = h;
  return best;
}

}  // namespace

TEST_CASE("the solved hidden is the largest whose whole model fits the budget", "[train][budget]") {
  const auto one_hot = task_info(datasets::InputKind::one_hot, 10, 10);  // mut1: raw at H=10
  const auto dense = task_info(datasets::InputKind::dense, 2, 1);
  const auto words = task_info(datasets::InputKind::one_hot, 1000, 1000);  // embedding of H
  for (const char* name : {"rnn", "lstm", "gru", "mut1", "mut2", "lstm-np"}) {
    const auto cell = cells::CellRegistry::instance().get(name);
    for (const auto* task : {&one_hot, &dense, &words})
      for (int layers : {1, 2, 3})
        for (const char* embed : {"auto", "0", "12"}) {
          auto c = resolve({{"layers", std::to_string(layers)}, {"embed", embed}});
          const auto count = counts(cell, *task, c);
          for (std::int64_t budget : {300, 2000, 9000, 40000, 150000}) {
            INFO(name << " inputs " << task->input_size << " layers " << layers << " embed "
                      << embed << " budget " << budget);
            int expected = brute_force(count, budget);
            // A square-input cell at a fixed input size under half the budget: refused.
            if (expected != 0 && cell.info.square_input && std::string(embed) != "auto" &&
                2 * count[static_cast<std::size_t>(expected)] < budget)
              expected = 0;
            if (expected == 0) {
              CHECK_THROWS_AS(solve_hidden(cell, *task, c, budget), Error);
              continue;
            }
            if (expected == 400) continue;  // beyond the brute force's range
            const int h = solve_hidden(cell, *task, c, budget);
            CHECK(h == expected);
            c.param_budget = budget;
            auto solved = c;
            apply_param_budget(cell, *task, solved);
            CHECK(solved.hidden == expected);
            CHECK(solved.values.at("hidden") == std::to_string(expected));
            c.param_budget = 0;
          }
        }
  }
}

TEST_CASE("a square-input cell whose embed fixes hidden far below the budget is refused",
          "[train][budget]") {
  const auto task = task_info(datasets::InputKind::one_hot, 25, 25);  // arithmetic's sizes
  const auto mut1 = cells::CellRegistry::instance().get("mut1");
  auto c = resolve({{"embed", "0"}});
  c.hidden = 25;
  const auto n = model_parameter_count(mut1, task, c);
  CHECK(solve_hidden(mut1, task, c, 2 * n) == 25);  // at half the budget: still allowed
  try {
    (void)solve_hidden(mut1, task, c, 250000);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("fixes hidden at 25"));
    CHECK_THAT(e.what(), Catch::Contains(std::to_string(n) + " parameters, under half"));
    CHECK_THAT(e.hint(), Catch::Contains("embed = auto"));
  }
  CHECK(solve_hidden(mut1, task, resolve({{"embed", "auto"}}), 250000) > 25);
}

TEST_CASE("a budget below the smallest model names the smallest possible count",
          "[train][budget]") {
  const auto task = task_info(datasets::InputKind::one_hot, 1000, 1000);
  const auto lstm = cells::CellRegistry::instance().get("lstm");
  auto c = resolve({{"layers", "2"}});
  c.hidden = 1;
  const auto smallest = model_parameter_count(lstm, task, c);
  CHECK(solve_hidden(lstm, task, c, smallest) == 1);
  try {
    (void)solve_hidden(lstm, task, c, smallest - 1);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains(std::to_string(smallest) + " parameters"));
    CHECK_THAT(e.what(), Catch::Contains("smallest possible count"));
    CHECK_THAT(e.hint(), Catch::Contains(std::to_string(smallest)));
  }
}

TEST_CASE("without a budget apply_param_budget leaves hidden alone", "[train][budget]") {
  const auto task = task_info(datasets::InputKind::dense, 2, 1);
  auto c = resolve({{"hidden", "7"}});
  CHECK(c.param_budget == 0);
  apply_param_budget(cells::CellRegistry::instance().get("gru"), task, c);
  CHECK(c.hidden == 7);
  CHECK(resolve({{"param_budget", "250000"}}).param_budget == 250000);
  CHECK(resolve({{"param_budget", "none"}}).param_budget == 0);
  CHECK_THROWS_AS(resolve({{"param_budget", "0"}}), Error);
}
