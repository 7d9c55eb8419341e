// Merging the results files of a sharded sweep (or of several partial attempts) into one
// file whose /runs holds the union of their runs, ordered by run_id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cellzoo::store {

struct MergeReport {
  std::size_t inputs = 0;
  std::size_t runs_merged = 0;         // rows in the output
  std::size_t duplicates_dropped = 0;  // rows whose run_key an earlier input already had
  std::size_t curve_rows = 0;
  std::int64_t total_runs = 0;                // of the spec
  std::vector<std::int64_t> missing_run_ids;  // ids in [0, total_runs) not in the output
  // "" when every merged run shares one numerical path; else one line per path with its
  // run count (describe_mixed_paths): the inputs were computed by different builds or
  // processors, and /provenance says which runs came from which.
  std::string mixed_paths;
  std::size_t params_copied = 0;  // saved parameter files copied along (sweep --save-params)
};

// Creates `out_path` (never overwriting an existing file) with the runs of `inputs`:
// runs de-duplicated by run_key (the first input wins), each kept run's curves copied from
// the file it came from, /cells united, rows ordered by run_id. Root attributes come from
// the first input (command_line included) with shard "" and merged_from listing the inputs;
// finished_utc is set when no run of the spec is missing. Refuses inputs that are not cellzoo
// files, or whose spec_hash, hyper columns or total_runs differ (naming both files). On any error
// no output file is left behind.
// Every input's /provenance sessions are kept (with the input's path as fact `source`,
// and only the run ids kept from it), so each shard's host, SLURM job, times and command
// line survive. Inputs whose runs come from different numerical paths are merged with
// mixed_paths set, or refused before anything is written when `strict_build` is true.
// Memory: an index of 48 bytes a run (run_id, run_key, input) plus the rows and curves of
// one block of the output at a time, `block_runs` runs (0: as many as the largest input
// contributes, at least 8,192), so merging 1,000 shards holds about one shard's rows.
MergeReport merge(const std::string& out_path, const std::vector<std::string>& inputs,
                  bool strict_build = false, std::size_t block_runs = 0);

}  // namespace cellzoo::store
