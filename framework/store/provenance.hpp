// Provenance of the runs in a results file: which process wrote which runs, built how and
// on what (docs/results-format.md, "/provenance").
//
// A session is one process that computed runs stored in the file: a sweep or a shard, a
// later resume of it, or, for runs copied by `cellzoo sweep --reuse` or joined by
// `cellzoo merge`, the session of the file they were copied from. Each session records the
// facts of its process (host, CPU model, OS, build: commit, dirty flag, compiler, flags,
// instruction sets; the numerical path; SLURM job and array task; start and finish time;
// command line) and the run ids it holds. Two runs are bit-identical computations only
// when their sessions share a numerical path (util/build_info.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cellzoo::store {

struct Session {
  // role: "sweep" (made the file), "resume", "merge" (a merge process; holds no runs),
  // "reused" (copied by --reuse: the facts are the source session's, plus `source`),
  // "unrecorded" (runs of a file written before sessions were recorded: the root's facts).
  std::map<std::string, std::string> facts;
  std::vector<std::int64_t> run_ids;

  std::string fact(const std::string& name) const {
    const auto it = facts.find(name);
    return it == facts.end() ? std::string() : it->second;
  }
};

// The facts of this process (host, build, numerical path, SLURM job, started_utc now).
std::map<std::string, std::string> this_process_facts(const std::string& role,
                                                      const std::string& shard,
                                                      const std::string& command_line);

// The numerical paths of `sessions` with the number of runs computed on each, most runs
// first; runs of sessions without a recorded path count under "unknown".
std::vector<std::pair<std::string, std::int64_t>> paths_of(const std::vector<Session>& sessions);

// "" when every run of `sessions` shares one numerical path; otherwise one line per
// path: "<runs> runs: <path>" (for warnings and the report).
std::string describe_mixed_paths(const std::vector<Session>& sessions);

}  // namespace cellzoo::store
