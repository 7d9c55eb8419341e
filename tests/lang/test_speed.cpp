// Language cells vs fused kernels: thread CPU time per `cellzoo bench` training step,
// printed rather than asserted (hidden: run `test_lang "[.bench]"`).
//
// Thread CPU time (CLOCK_THREAD_CPUTIME_ID) instead of wall clock, because the machine is
// shared: another process's load changes wall-clock throughput by +-15% between identical
// runs, the time this thread actually ran much less. Each (cell, size) is measured in
// `rounds` rounds that alternate which side goes first; a round reports the best of
// `blocks` blocks of steps. Environment: CELLZOO_LANG_BENCH_CELLS (default
// "lstm gru gru-ra rnn"), CELLZOO_LANG_BENCH_SIZES (default "T S"),
// CELLZOO_LANG_BENCH_ROUNDS (default 2).
#include <catch2/catch.hpp>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "framework/cells/benchmark.hpp"
#include "framework/lang/lang_cell.hpp"

using namespace cellzoo;

namespace {

std::vector<std::string> env_words(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  std::istringstream in(v && *v ? v : fallback);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Best (least) thread CPU milliseconds per step over `blocks` blocks of `steps` steps.
double best_ms_per_step(cells::TrainStepBench& bench, int blocks, int steps) {
  double best = std::numeric_limits<double>::infinity();
  for (int b = 0; b < blocks; ++b) {
    const double start = thread_seconds();
    for (int s = 0; s < steps; ++s) bench.step();
    best = std::min(best, (thread_seconds() - start) * 1e3 / steps);
  }
  return best;
}

}  // namespace

TEST_CASE("language cells vs fused kernels: thread CPU time per training step", "[.bench]") {
  auto& registry = cells::CellRegistry::instance();
  const auto names = env_words("CELLZOO_LANG_BENCH_CELLS", "lstm gru gru-ra rnn");
  const auto sizes = env_words("CELLZOO_LANG_BENCH_SIZES", "T S");
  const int rounds = std::max(1, std::atoi(env_words("CELLZOO_LANG_BENCH_ROUNDS", "2")[0].c_str()));
  std::printf("%-8s %-4s %5s %12s %12s %7s\n", "cell", "size", "round", "fused ms", "lang ms",
              "ratio");
  for (const auto& size_name : sizes) {
    const auto& size = cells::find_bench_size(size_name);
    // About 0.1 s of steps per block at the fused kernels' speed.
    const int steps = size.name == "T" ? 40 : size.name == "S" ? 6 : size.name == "M" ? 2 : 1;
    for (const auto& name : names) {
      cells::TrainStepBench fused(registry.get(name), size);
      cells::TrainStepBench lang(lang::make_entry(lang::load_cell("lang:" + name), "lang:" + name),
                                 size);
      for (int s = 0; s < 3; ++s) {  // warm-up: sizes the workspaces, fills the caches
        fused.step();
        lang.step();
      }
      for (int r = 0; r < rounds; ++r) {
        double f = 0, l = 0;
        if (r % 2 == 0) {
          f = best_ms_per_step(fused, 5, steps);
          l = best_ms_per_step(lang, 5, steps);
        } else {
          l = best_ms_per_step(lang, 5, steps);
          f = best_ms_per_step(fused, 5, steps);
        }
        std::printf("%-8s %-4s %5d %12.3f %12.3f %7.2f\n", name.c_str(), size.name.c_str(), r + 1,
                    f, l, f / l);
        std::fflush(stdout);
      }
    }
  }
}
