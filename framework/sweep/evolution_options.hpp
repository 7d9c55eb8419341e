// The [evolution] section of a spec (search = evolution): its options, their validation
// and the bound on the runs of a search. Part of reading a spec, so spec.cpp and expand.cpp
// use it without depending on the search itself (evolution.hpp: executor, store, trainer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/sweep/spec.hpp"

namespace cellzoo::sweep {

// The [evolution] section, validated, with defaults filled in.
struct EvolutionOptions {
  std::int64_t generations = 10;               // after generation 0 (the seeds)
  std::int64_t proposals_per_generation = 10;  // events per generation
  std::int64_t population = 100;               // members kept
  double reevaluate_probability = 0.2;         // an event re-evaluates instead of proposing
  std::int64_t mutation_steps = 3;             // a proposal applies 1..mutation_steps mutations
  std::string filter_task = "memorization";    // stage 0
  std::int64_t filter_settings = 3;            // hyperparameter settings on the filter task
  double filter_threshold = 0.95;              // best filter metric must reach this
  std::vector<std::string> tasks;              // stages 1..K, in order (required)
  std::int64_t settings_per_task = 20;         // settings per task and evaluation
  double stage_threshold = 0.9;                // continue if best >= this x reference's best
  std::string reference = "gru";               // a seed: the yardstick of fitness
};

// Reads spec.evolution (throws cellzoo::Error naming the line of a bad value).
EvolutionOptions evolution_options(const Spec& spec);

// Called by the spec validator for search = evolution: checks [evolution], the tasks and
// their [task] options (keys NAME.OPTION), and the seed cells (default: lstm, gru).
void validate_evolution(Spec& spec, const std::string& end_origin);

// Upper bound on the runs of one shard's search (what run_count() reports for it).
std::int64_t evolution_run_bound(const Spec& spec);

}  // namespace cellzoo::sweep
