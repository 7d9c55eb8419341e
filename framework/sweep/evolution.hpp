// `search = evolution`: the architecture search of Jozefowicz et al. 2015 (papers.md §2.2)
// as a sweep mode. A population of the best cells, seeded with the spec's `cells` (lstm
// and gru), evolves in generations: each generation proposes mutants of random members
// (or re-evaluates a member on new hyperparameter settings), passes each mutant through
// the memorisation filter and then through the tasks in order, and keeps the
// `population` fittest, where fitness = min over tasks of the ratio to the reference's
// (gru's) best. Every evaluation is an ordinary run of the results file, executed in
// parallel by execute_batch; every event is a row of /candidates.
//
// Resume is replay: the generations are recomputed from the spec seed, and runs already in
// the file (by run_key) are read back instead of retrained, so a killed search continues
// exactly where it stopped, with the same results as an uninterrupted one. Each SLURM shard
// evolves its own population (seeded by the shard index). Details: experiments/README.md,
// "Evolutionary search".
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "framework/sweep/executor.hpp"
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

// Runs (or resumes) the search of spec into options.out (see the file comment).
SweepSummary run_evolution(const Spec& spec, const SweepOptions& options,
                           const std::atomic<bool>& stop, std::ostream& log);

// "cand:<hash>": how runs name a proposed cell. Such a name resolves in the cell registry
// of this process once its text was registered (run_evolution does both).
std::string candidate_name(const std::string& hash);

}  // namespace cellzoo::sweep
