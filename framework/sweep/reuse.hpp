// Reusing finished runs of earlier results files (`cellzoo sweep --reuse OLD.h5`): a run
// of this sweep whose configuration hash (run_key: cell, task, seed and every setting) is
// in OLD.h5 is copied, with its curves, instead of being trained again. Growing a random
// search from 50 to 200 trials, or adding a cell or a grid value, then trains only the new
// runs. The copy takes the new run's run_id, trial and hyper columns and the old run's
// results; OLD.h5 is only read.
#pragma once

#include <cstdint>
#include <functional>
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

// Finds the `pending` runs (run ids of `runs`, not yet in the output file) in `files`, the
// first file holding a run winning. `cell_texts` maps each language cell name of this sweep
// to its /cells row, so a run whose .cell file changed since is not reused. Reads each
// file's run keys first (32 bytes a run) and then only the rows it copies (in blocks);
// holds 40 bytes per pending run. Throws cellzoo::Error for a file that is missing or not
// a readable results file.
// `complete(id)` is run id as it is recorded (its param_budget solved); by default
// runs.describe(id).
ReusePlan plan_reuse(const std::vector<std::string>& files, const RunEnumerator& runs,
                     const std::vector<std::int64_t>& pending,
                     const std::map<std::string, store::CellText>& cell_texts,
                     const std::function<RunSpec(std::int64_t)>& complete = {});

}  // namespace cellzoo::sweep
