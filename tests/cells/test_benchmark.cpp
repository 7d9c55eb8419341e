// The training-step benchmark: sizes, the FLOP model, and that the measured step really
// trains (its loss falls), so `cellzoo bench` times real work.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "framework/cells/benchmark.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;

TEST_CASE("benchmark sizes are the documented ones", "[cells][bench]") {
  const auto& m = find_bench_size("M");
  CHECK(m.input == 128);
  CHECK(m.hidden == 256);
  CHECK(m.batch == 32);
  CHECK(m.length == 100);
  CHECK(bench_sizes().size() == 5);
  const auto& g = find_bench_size("G");  // Greff's JSB regime: one sequence per update
  CHECK(g.input == 88);
  CHECK(g.hidden == 100);
  CHECK(g.batch == 1);
  CHECK(g.length == 60);
  try {
    find_bench_size("XL");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("'XL'") != std::string::npos);
    CHECK(e.hint().find("T (") != std::string::npos);
    CHECK(e.hint().find("L (") != std::string::npos);
    CHECK(e.hint().find("G (") != std::string::npos);
  }
}

TEST_CASE("FLOP model of docs/performance.md", "[cells][bench]") {
  // G=4, I=8, H=32, B=16, T=200: forward 2*4*32*8*3200 + 2*4*32*32*3200 + 2*8*32*3200.
  const double forward = 6553600.0 + 26214400.0 + 1638400.0;
  CHECK(train_step_flops(4, 8, 32, 16, 200) == Approx(3 * forward));
  const auto& reg = CellRegistry::instance();
  auto gates = [&](const std::string& name) {
    const auto e = reg.get(name);
    return flop_gate_count(e, *e.make<float>(8, 8));
  };
  CHECK(gates("rnn") == 1);
  CHECK(gates("gru") == 3);
  CHECK(gates("gru-ra") == 3);
  CHECK(gates("mut1") == 3);
}

TEST_CASE("the benchmark step trains the cell", "[cells][bench]") {
  const BenchSize tiny{"tiny", 4, 8, 4, 12};
  for (const std::string name : {"rnn", "gru-ra", "mut2"}) {
    INFO(name);
    TrainStepBench bench(CellRegistry::instance().get(name), tiny);
    CHECK(bench.input() == (name == "mut2" ? 8 : 4));  // square-input cells use I = H
    const float first = bench.step();
    float last = first;
    for (int i = 0; i < 300; ++i) last = bench.step();
    CHECK(std::isfinite(last));
    CHECK(last < 0.95f * first);  // random targets: slow, but steady progress
  }
}

TEST_CASE("median_seconds_per_call runs the requested blocks", "[cells][bench]") {
  long calls = 0;
  const double s = median_seconds_per_call([&] { ++calls; }, 3, 1e-4);
  CHECK(s > 0);
  CHECK(calls >= 4);  // warm-up plus three blocks of at least one call
}
