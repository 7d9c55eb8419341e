// The [evolution] section: reading, validation and the run bound (evolution_options.hpp).
#include "framework/sweep/evolution_options.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "datasets/task.hpp"
#include "framework/lang/cell_source.hpp"
#include "framework/sweep/spec_text.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::sweep {
namespace {

const char* const kHint = "see experiments/README.md, \"Evolutionary search\"";

const std::vector<std::string> kKeys = {"generations",     "proposals_per_generation",
                                        "population",      "reevaluate_probability",
                                        "mutation_steps",  "filter_task",
                                        "filter_settings", "filter_threshold",
                                        "tasks",           "settings_per_task",
                                        "stage_threshold", "reference"};

std::int64_t integer_value(const Value& v, const std::string& key, std::int64_t min) {
  const auto n = parse_number(v.text);
  if (!n || *n != std::floor(*n) || *n < static_cast<double>(min) || *n > 1e12)
    fail(v.origin,
         key + " must be a whole number >= " + std::to_string(min) + ", got '" + v.text + "'",
         kHint);
  return static_cast<std::int64_t>(*n);
}

double real_value(const Value& v, const std::string& key, double lo, double hi) {
  const auto n = parse_number(v.text);
  if (!n || *n < lo || *n > hi)
    fail(v.origin,
         key + " must be a number in [" + format_number(lo) + ", " + format_number(hi) +
             "], got '" + v.text + "'",
         kHint);
  return *n;
}

}  // namespace

EvolutionOptions evolution_options(const Spec& spec) {
  EvolutionOptions o;
  for (const auto& [key, v] : spec.evolution) {
    if (key == "generations")
      o.generations = integer_value(v, key, 0);
    else if (key == "proposals_per_generation")
      o.proposals_per_generation = integer_value(v, key, 1);
    else if (key == "population")
      o.population = integer_value(v, key, 1);
    else if (key == "reevaluate_probability")
      o.reevaluate_probability = real_value(v, key, 0, 1);
    else if (key == "mutation_steps")
      o.mutation_steps = integer_value(v, key, 1);
    else if (key == "filter_task")
      o.filter_task = v.text;
    else if (key == "filter_settings")
      o.filter_settings = integer_value(v, key, 1);
    else if (key == "filter_threshold")
      o.filter_threshold = real_value(v, key, -1e300, 1e300);
    else if (key == "tasks")
      o.tasks = split_list(v.text, v.origin, "tasks");
    else if (key == "settings_per_task")
      o.settings_per_task = integer_value(v, key, 1);
    else if (key == "stage_threshold")
      o.stage_threshold = real_value(v, key, 0, 1e300);
    else if (key == "reference")
      o.reference = v.text;
    else
      fail(v.origin, "unknown [evolution] key '" + key + "'", "keys are " + join(kKeys, ", "));
  }
  return o;
}

void validate_evolution(Spec& spec, const std::string& end_origin) {
  const EvolutionOptions o = evolution_options(spec);
  auto origin = [&](const std::string& key) {
    const auto it = spec.evolution.find(key);
    return it == spec.evolution.end() ? end_origin : it->second.origin;
  };
  if (!spec.task.empty())
    fail(spec.origins.count("task") ? spec.origins.at("task") : end_origin,
         "'task' is not used by search = evolution",
         "list the tasks in [evolution] tasks = ..., and their options in [task] as "
         "NAME.OPTION = VALUE");
  if (o.tasks.empty())
    fail(end_origin, "search = evolution needs [evolution] tasks = ...",
         "e.g. tasks = arithmetic, xml (evaluated in this order after the filter task)");
  std::vector<std::string> stages = {o.filter_task};
  stages.insert(stages.end(), o.tasks.begin(), o.tasks.end());
  std::set<std::string> seen;
  for (const auto& t : stages) {
    const std::string where = t == o.filter_task && seen.empty() ? "filter_task" : "tasks";
    if (!seen.insert(t).second)
      fail(origin(where), "task '" + t + "' is a stage twice",
           "the filter task and the tasks must all differ");
    try {
      (void)datasets::TaskRegistry::instance().get(t);
    } catch (const Error& e) {
      fail(origin(where), e.what(), e.hint());
    }
  }
  for (const auto& [key, v] : spec.task_options) {
    const auto dot = key.find('.');
    const std::string task = dot == std::string::npos ? "" : key.substr(0, dot);
    if (dot == std::string::npos || !seen.count(task))
      fail(v.origin,
           "task option '" + key + "' must be written NAME.OPTION with NAME one of " +
               join(stages, ", "),
           "e.g. arithmetic.digits = 3 (search = evolution has several tasks)");
    const auto& entry = datasets::TaskRegistry::instance().get(task);
    const std::string option = key.substr(dot + 1);
    if (std::none_of(entry.options.begin(), entry.options.end(),
                     [&](const auto& e) { return e.first == option; }))
      fail(v.origin, "task " + task + " has no option '" + option + "'",
           "its options:\n" + datasets::describe_options(entry));
  }
  if (spec.cells.empty()) spec.cells = {"lstm", "gru"};
  const std::string cells_origin =
      spec.origins.count("cells") ? spec.origins.at("cells") : end_origin;
  for (const auto& cell : spec.cells) {
    try {
      (void)lang::load_cell(cell);
    } catch (const Error& e) {
      fail(cells_origin, "seed cell '" + cell + "' has no cell-language text to mutate", e.hint());
    }
  }
  if (std::find(spec.cells.begin(), spec.cells.end(), o.reference) == spec.cells.end())
    fail(origin("reference"), "the reference '" + o.reference + "' is not one of the seed cells",
         "add it to cells (default: lstm, gru), or set [evolution] reference");
}

std::int64_t evolution_run_bound(const Spec& spec) {
  const EvolutionOptions o = evolution_options(spec);
  const auto tasks = static_cast<std::int64_t>(o.tasks.size());
  const std::int64_t seeds =
      static_cast<std::int64_t>(std::max<std::size_t>(spec.cells.size(), 2)) * tasks *
      o.settings_per_task;
  const std::int64_t per_event = o.filter_settings + tasks * o.settings_per_task;
  const double bound =
      static_cast<double>(seeds) + static_cast<double>(o.generations) *
                                       static_cast<double>(o.proposals_per_generation) *
                                       static_cast<double>(per_event);
  if (bound > 1e11)
    throw Error("the evolutionary search would run up to " + format_number(bound) + " runs",
                "lower generations, proposals_per_generation or settings_per_task");
  return static_cast<std::int64_t>(bound);
}

}  // namespace cellzoo::sweep
