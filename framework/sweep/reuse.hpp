// Reusing finished runs of earlier results files (`cellzoo sweep --reuse OLD.h5`): a run
// of this sweep whose configuration hash (run_key: cell, task, seed and every setting) is
// in OLD.h5 is copied, with its curves, instead of being trained again. Growing a random
// search from 50 to 200 trials, or adding a cell or a grid value, then trains only the new
// runs. The copy takes the new run's run_id, trial and hyper columns and the old run's
// results; OLD.h5 is only read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/store/results_file.hpp"
#include "framework/sweep/spec.hpp"

namespace cellzoo::sweep {

struct ReusePlan {
  std::vector<store::RunRow> runs;      // the copies, in the order met in the files
  std::vector<store::CurveRow> curves;  // their curves, with the new run_ids
  std::vector<std::string> sources;     // one line per file: what came from it
  // Runs matched by run_key but not copied: their language cell's text differs now.
  std::int64_t changed_cell_text = 0;
  std::vector<std::string> notes;  // for the log (e.g. a file written by another build)
  // Where the copies were computed: each source session (store/provenance.hpp) that holds
  // copied runs, with role "reused", fact `source` (the file) and the new run ids.
  std::vector<store::Session> origins;
};

// Finds the `pending` runs (of this sweep, not yet in the output file) in `files`, the first
// file holding a run winning. `cell_texts` maps each language cell name of this sweep to
// its /cells row, so a run whose .cell file changed since is not reused. Throws
// cellzoo::Error for a file that is missing or not a readable results file.
ReusePlan plan_reuse(const std::vector<std::string>& files,
                     const std::vector<const RunSpec*>& pending,
                     const std::vector<HyperColumn>& columns,
                     const std::map<std::string, store::CellText>& cell_texts);

}  // namespace cellzoo::sweep
