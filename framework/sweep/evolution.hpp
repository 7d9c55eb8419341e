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
#include <iosfwd>
#include <string>

#include "framework/sweep/evolution_options.hpp"
#include "framework/sweep/executor.hpp"
#include "framework/sweep/spec.hpp"

namespace cellzoo::sweep {

// Runs (or resumes) the search of spec into options.out (see the file comment).
SweepSummary run_evolution(const Spec& spec, const SweepOptions& options,
                           const std::atomic<bool>& stop, std::ostream& log);

// "cand:<hash>": how runs name a proposed cell. Such a name resolves in the cell registry
// of this process once its text was registered (run_evolution does both).
std::string candidate_name(const std::string& hash);

}  // namespace cellzoo::sweep
