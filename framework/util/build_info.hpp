// Facts about this build and this host, recorded in every results file and shard
// (docs/results-format.md lists the attributes) and printed by `cellzoo --version`.
//
// The numerical path: what decides the exact bits a run computes. Runs are bit-identical
// when the same binary runs them on processors that take the same path (any --jobs,
// shards, resumes, merges); another build (compiler, flags, -march, Eigen) or a processor
// on which the C library picks other math kernels gives results equal to rounding at
// first, which then diverge through training (README, "Reproducibility").
#pragma once

#include <string>

namespace cellzoo {

struct BuildInfo {
  std::string version;        // cellzoo version
  std::string git_commit;     // full hash of the commit built, or "unknown"; taken at build time
  std::string git_dirty;      // "no", "yes" (tracked files differed from the commit), "unknown"
  std::string git_diff_hash;  // SHA-256 of `git diff HEAD` when dirty, else ""
  std::string compiler;       // e.g. "g++ 12.2.0"
  std::string compile_flags;  // the exact flags, e.g. "-O3 -DNDEBUG -std=c++20 ... -march=native"
  std::string march;          // what -march=native resolved to (e.g. "znver4"); "" without it
  std::string isa;  // instruction sets the kernels were compiled for, e.g. "AVX512 FMA AVX2 ..."
  std::string eigen_version;
  bool native = false;  // compiled with -march=native
};

const BuildInfo& build_info();

struct HostInfo {
  std::string cpu_model;  // /proc/cpuinfo "model name", or "unknown"
  std::string os;         // e.g. "Debian GNU/Linux 12 (bookworm); Linux 6.1.0 x86_64"
  std::string libc;       // e.g. "glibc 2.36"
  // The libm variant glibc selects on this processor for exp/log (x86-64: "fma" when the
  // CPU has FMA and AVX2, else "sse2"); part of the numerical path for the scalar
  // std::exp/std::log calls.
  std::string libm_variant;
};

const HostInfo& host_info();

// One line naming the numerical path of this binary on this host: the instruction sets,
// compiler, code-generation flags (warning flags left out), Eigen, C library and libm
// variant. Equal strings: bit-identical results for the same runs.
const std::string& numerical_path();

// The commit with "-dirty" appended for a dirty build (shortened to 12 hex digits).
std::string short_commit();

}  // namespace cellzoo
