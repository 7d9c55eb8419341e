// SLURM job-array scripts for a sharded sweep (`cellzoo slurm`).
//
// Array task t runs `cellzoo sweep SPEC --shard K/N --out DIR/<name>.shard-K-of-N.h5` for
// its shards K (one shard per task, or a contiguous block of shards when N exceeds the
// cluster's MaxArraySize); a second job, dependent on the array, merges the shard files
// into the spec's results file. plan_slurm() only builds text, so it is testable without
// SLURM; write_slurm_scripts() and submit_slurm() touch the file system and call sbatch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/sweep/spec.hpp"

namespace cellzoo::sweep {

struct SlurmOptions {
  std::string cellzoo_exe;             // absolute path of the cellzoo binary
  std::string spec_path;               // absolute path of the spec file
  std::string work_dir;                // absolute; jobs cd here, so relative spec paths still work
  std::vector<std::string> sets;       // `--set key=value` overrides, forwarded to every command
  std::vector<std::string> reuse;      // absolute; `--reuse FILE`s, forwarded to every shard
  std::vector<std::string> plugins;    // absolute; `--plugin FILE`s, forwarded to every shard
  std::int64_t shards = 1;             // N
  std::string partition;               // empty: the cluster's default
  std::string time;                    // e.g. "12:00:00"; empty: the partition's default
  int cpus_per_task = 1;               // also the sweep's --jobs
  std::string mem;                     // --mem per task, e.g. "4G"; empty: the cluster's default
  std::string account;                 // --account; empty: the user's default
  std::string qos;                     // --qos; empty: the default
  std::int64_t array_parallelism = 0;  // the array's %N throttle; 0: no limit
  // Further #SBATCH lines for both scripts, each "--option[=value]" (a leading "#SBATCH"
  // is accepted and dropped), e.g. "--gres=gpu:1", "--constraint=avx512", "--mail-type=END".
  std::vector<std::string> sbatch_lines;
  std::string out_dir;                 // absolute; shard files, scripts and logs/
  std::string merged_out;              // absolute path of the merged results file
  std::int64_t max_array_size = 1001;  // SLURM's MaxArraySize (array indices < this)
  // false: the merge waits for every array task to succeed (afterok); true: it runs when
  // the array has ended however it ended (afterany) and merges the shard files that exist.
  bool merge_anyway = false;
};

struct SlurmPlan {
  std::int64_t array_tasks = 0;        // the array is 0..array_tasks-1
  std::int64_t shards_per_task = 1;    // array task t runs shards [t*s, min(N, (t+1)*s))
  std::string array_path, merge_path;  // where the scripts go (in out_dir)
  std::string array_script, merge_script;
  std::vector<std::string> shard_files;  // absolute, in shard order
  std::string dependency;                // "afterok" or "afterany"
};

// Builds both scripts. Throws cellzoo::Error for a bad shard count (< 1 or above the
// number of runs) or bad options.
SlurmPlan plan_slurm(const Spec& spec, const SlurmOptions& options);

// "<name>.shard-K-of-N.h5"
std::string shard_file_name(const std::string& name, std::int64_t index, std::int64_t count);

// Refuses (cellzoo::Error with the fix) a plan whose merge would fail hours later because
// its output file already exists: the merge never overwrites a file.
void check_merge_output(const SlurmOptions& options);

// Creates out_dir and out_dir/logs (SLURM does not create log directories) and writes
// the scripts, executable.
void write_slurm_scripts(const SlurmPlan& plan, const SlurmOptions& options);

// The sbatch command lines a user runs by hand (the merge one refers to $JOB).
std::vector<std::string> slurm_commands(const SlurmPlan& plan);

struct SlurmJobs {
  std::string array_job, merge_job;
};
// Submits the array, then the merge with a dependency on it (sbatch --parsable).
SlurmJobs submit_slurm(const SlurmPlan& plan);

// MaxArraySize from `scontrol show config`, or 1001 (SLURM's default) if unavailable.
std::int64_t query_max_array_size();

// Single-quotes `text` for a POSIX shell when it holds anything but safe characters.
std::string shell_quote(const std::string& text);

}  // namespace cellzoo::sweep
