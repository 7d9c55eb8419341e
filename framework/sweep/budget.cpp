// Parameter budgets in sweeps: which specs have one and each run's solved hidden size
// (spec.hpp; the solver is train/budget.hpp).
#include "framework/train/budget.hpp"
#include "framework/cells/registry.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/sweep/spec_text.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::sweep {

bool has_param_budget(const Spec& spec) {
  if (spec.space.count("param_budget")) return true;
  const auto it = spec.fixed.find("param_budget");
  return it != spec.fixed.end() && it->second.text != "none";
}

void apply_param_budget(const Spec& spec, RunSpec& run, const datasets::TaskInfo& task) {
  if (run.config.param_budget <= 0) return;
  try {
    train::apply_param_budget(cells::CellRegistry::instance().get(run.cell), task, run.config);
  } catch (const Error& e) {
    const auto fixed = spec.fixed.find("param_budget");
    const auto space = spec.space.find("param_budget");
    const std::string origin = fixed != spec.fixed.end()   ? fixed->second.origin
                               : space != spec.space.end() ? space->second.origin
                                                           : spec.source;
    fail(origin, std::string(e.what()) + " (run " + run.label + ")", e.hint());
  }
  if (run.hyper.count("hidden")) run.hyper["hidden"] = static_cast<double>(run.config.hidden);
}

}  // namespace cellzoo::sweep
