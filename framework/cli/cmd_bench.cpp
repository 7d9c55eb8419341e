// cellzoo bench: training-step throughput of cells (workload and FLOP model of
// docs/performance.md), and optionally Eigen's single-thread SGEMM rate on the same sizes.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "framework/cells/benchmark.hpp"
#include "framework/cli/common.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::vector<std::string> cell_names, size_names, plugin_paths;
  int repeat = 4;
  double block_seconds = 0.2;
  options.add_options()("cell,c", po::value(&cell_names)->composing()->multitoken(),
                        "cell to measure (repeatable; default rnn lstm-np gru-ra)")(
      "size,s", po::value(&size_names)->composing()->multitoken(),
      "size T, S, M or L (repeatable; default all four)")(
      "repeat,r", po::value(&repeat)->default_value(4),
      "timed blocks per (cell, size); the median block counts")(
      "block-seconds", po::value(&block_seconds)->default_value(0.2, "0.2"),
      "minimum duration of one timed block")("json", "one JSON object per line instead of a table")(
      "gemm", "also time Eigen SGEMM on [4H x H]*[H x B] and [4H x I]*[I x T*B] per size");
  add_plugin_option(options, plugin_paths);
  po::variables_map vm;
  if (!parse_args("bench",
                  "[--cell NAME ...] [--size T|S|M|L ...] [--repeat N] [--json] [--gemm] "
                  "[--plugin PATH.so ...]",
                  options, args, vm))
    return 0;
  load_plugins(plugin_paths);
  if (repeat < 1) throw Error("--repeat must be at least 1", "e.g. --repeat 4");
  if (!(block_seconds > 0)) throw Error("--block-seconds must be positive", "e.g. 0.2");

  const auto& registry = cells::CellRegistry::instance();
  if (cell_names.empty()) cell_names = {"rnn", "lstm-np", "gru-ra"};
  if (size_names.empty())
    for (const auto& s : cells::bench_sizes()) size_names.push_back(s.name);
  // Resolve every name before measuring anything, so a typo fails at once.
  std::vector<cells::CellEntry> entries;
  for (const auto& n : cell_names) entries.push_back(registry.get(n));
  std::vector<cells::BenchSize> sizes;
  for (const auto& n : size_names) sizes.push_back(cells::find_bench_size(n));

  const bool json = vm.count("json") > 0;
  if (!json) {
    std::printf("float32, one thread; median of %d blocks of >= %.2f s\n", repeat, block_seconds);
    std::printf("%-10s %-4s %2s %5s %5s %4s %5s %12s %9s %11s\n", "cell", "size", "G", "I", "H",
                "B", "T", "sequences/s", "GFLOP/s", "ms/step");
  }
  for (const auto& entry : entries) {
    for (const auto& size : sizes) {
      cells::TrainStepBench bench(entry, size);
      const double seconds =
          cells::median_seconds_per_call([&] { bench.step(); }, repeat, block_seconds);
      const double seqs = static_cast<double>(size.batch) / seconds;
      const double gflops = bench.flops() / seconds * 1e-9;
      const bool square = bench.input() != size.input;
      if (json) {
        std::printf(
            "{\"cell\": %s, \"size\": %s, \"gates\": %ld, \"input\": %ld, \"hidden\": %ld, "
            "\"batch\": %ld, \"length\": %ld, \"square_input\": %s, \"seconds_per_step\": %.6g, "
            "\"sequences_per_s\": %.6g, \"gflops\": %.6g, \"flops_per_step\": %.6g}\n",
            json_string(entry.info.name).c_str(), json_string(size.name).c_str(),
            static_cast<long>(bench.gates()), static_cast<long>(bench.input()),
            static_cast<long>(size.hidden), static_cast<long>(size.batch),
            static_cast<long>(size.length), square ? "true" : "false", seconds, seqs, gflops,
            bench.flops());
      } else {
        std::printf("%-10s %-4s %2ld %5ld %5ld %4ld %5ld %12.1f %9.2f %11.3f%s\n",
                    entry.info.name.c_str(), size.name.c_str(), static_cast<long>(bench.gates()),
                    static_cast<long>(bench.input()), static_cast<long>(size.hidden),
                    static_cast<long>(size.batch), static_cast<long>(size.length), seqs, gflops,
                    seconds * 1e3, square ? "  (input = hidden: square-input cell)" : "");
      }
      std::fflush(stdout);
    }
  }
  if (vm.count("gemm")) {
    if (!json)
      std::printf("\n%-10s %-4s %-10s %6s %6s %6s %9s\n", "sgemm", "size", "shape", "m", "k", "n",
                  "GFLOP/s");
    for (const auto& size : sizes) {
      for (const auto& shape : cells::bench_gemm_shapes(size)) {
        const double gflops = cells::sgemm_gflops(shape, repeat, block_seconds);
        if (json)
          std::printf(
              "{\"cell\": \"sgemm\", \"size\": %s, \"shape\": %s, \"m\": %ld, \"k\": %ld, "
              "\"n\": %ld, \"gflops\": %.6g}\n",
              json_string(size.name).c_str(), json_string(shape.label).c_str(),
              static_cast<long>(shape.m), static_cast<long>(shape.k), static_cast<long>(shape.n),
              gflops);
        else
          std::printf("%-10s %-4s %-10s %6ld %6ld %6ld %9.2f\n", "sgemm", size.name.c_str(),
                      shape.label.c_str(), static_cast<long>(shape.m), static_cast<long>(shape.k),
                      static_cast<long>(shape.n), gflops);
        std::fflush(stdout);
      }
    }
  }
  if (!json)
    std::printf(
        "\nFLOPs per step (docs/performance.md): 3 x (2GHIBT + 2GHHBT + 2IHBT), "
        "G = 1 rnn, 3 gru/mut, 4 lstm.\n");
  return 0;
}

}  // namespace cellzoo::cli
