// cellzoo bench: training-step throughput of cells (workload and FLOP model of
// docs/performance.md), and optionally Eigen's single-thread SGEMM rate on the same sizes.
// With --epoch DATA: whole epochs of Greff et al.'s JSB protocol instead (see bench_epochs).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "datasets/task.hpp"
#include "framework/cells/benchmark.hpp"
#include "framework/cli/common.hpp"
#include "framework/train/batching.hpp"
#include "framework/train/trainer.hpp"
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.empty() ? 0 : v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// CPU seconds of this process: on a machine shared with other jobs, the time the work
// itself took (wall time also counts the time other processes held the core).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Records when each epoch ended (wall time since the run started, and process CPU time).
class EpochClock final : public train::TrainObserver {
 public:
  void on_epoch(const train::RunConfig&, const train::EpochRecord& r) override {
    ends.push_back(r.seconds);
    cpu_ends.push_back(cpu_seconds());
  }
  std::vector<double> ends, cpu_ends;
};

// Greff et al. 2015's JSB protocol (experiments/greff2015-jsb.ini at one point of its
// search space): the cell straight on the 88 keys, hidden 100, one update per sequence,
// full BPTT, SGD with Nesterov momentum on the summed loss, no clipping, no input noise,
// validation after every epoch and test whenever validation improves (which it does in
// every epoch of this short run). `sets` override any of these.
train::RunConfig greff_config(const std::string& cell, const std::string& data, int epochs,
                              const std::vector<std::string>& sets) {
  std::map<std::string, std::string> settings = {{"task.data", data},
                                                 {"embed", "0"},
                                                 {"optimizer", "sgd"},
                                                 {"nesterov", "true"},
                                                 {"batch_size", "1"},
                                                 {"reduction", "sequence"},
                                                 {"clip", "0"},
                                                 {"hidden", "100"},
                                                 {"lr", "1e-4"},
                                                 {"momentum", "0.9"},
                                                 {"input_noise", "0"},
                                                 {"max_epochs", std::to_string(epochs)},
                                                 {"patience", std::to_string(epochs + 1)}};
  for (const auto& s : sets) {
    auto [key, value] = split_setting(s, "hidden=200");
    settings[key] = std::move(value);
  }
  return {cell, "music", train::resolve(settings), 1};
}

// Times `epochs` epochs of the protocol per cell (median epoch after the first), then,
// with the trained parameters, the validation + test passes on their own (their share of
// an epoch) and the model's forward over the same evaluation batches as a training
// forward would run it (the pass that keeps the backward workspace), for comparison.
void bench_epochs(const std::vector<cells::CellEntry>& entries, const std::string& data_path,
                  int epochs, int repeat, const std::vector<std::string>& sets, bool json) {
  if (epochs < 2) throw Error("--epochs must be at least 2 (the first is a warm-up)", "e.g. 4");
  const auto probe = greff_config(entries.front().info.name, data_path, epochs, sets);
  const auto data = datasets::TaskRegistry::instance().build(
      "music",
      datasets::TaskOptions(probe.hyper.task_options.begin(), probe.hyper.task_options.end()),
      probe.hyper.data_seed);
  if (!json)
    std::printf("%-10s %6s %6s %10s %10s %10s %11s %13s %13s\n", "cell", "hidden", "epochs",
                "s/epoch", "cpu/epoch", "eval cpu", "eval share", "train fwd cpu", "eval fwd cpu");
  for (const auto& entry : entries) {
    const auto config = greff_config(entry.info.name, data_path, epochs, sets);
    EpochClock clock;
    const auto r = train::run_one(config, data, &clock, nullptr);
    if (r.status != "ok" || static_cast<int>(clock.ends.size()) != epochs)
      throw Error("bench --epoch: the run of " + entry.info.name + " ended with status " +
                      r.status + " after " + std::to_string(clock.ends.size()) + " epochs" +
                      (r.error.empty() ? "" : " (" + r.error + ")"),
                  "lower the learning rate, e.g. --set lr=1e-5");
    std::vector<double> per_epoch, cpu_per_epoch;
    for (std::size_t e = 1; e < clock.ends.size(); ++e) {
      per_epoch.push_back(clock.ends[e] - clock.ends[e - 1]);
      cpu_per_epoch.push_back(clock.cpu_ends[e] - clock.cpu_ends[e - 1]);
    }
    const double epoch_s = median(per_epoch), epoch_cpu = median(cpu_per_epoch);

    // The evaluation passes alone, and the training forward over the same batches.
    train::Model<float> model(entry, data.info, config.hyper);
    std::vector<train::Batch> batches;
    for (auto split : {&data.valid, &data.test})
      for (const auto& members : train::plan_batches(*split, 64, nullptr))
        batches.push_back(train::make_batch(*split, members, data.info));
    // CPU seconds (see cpu_seconds()).
    std::vector<double> eval_s, train_fwd_s, eval_fwd_s;
    for (int k = 0; k < repeat; ++k) {
      double start = cpu_seconds();
      train::evaluate(config, data, datasets::Split::valid, r.parameters);
      train::evaluate(config, data, datasets::Split::test, r.parameters);
      eval_s.push_back(cpu_seconds() - start);
      start = cpu_seconds();
      for (const auto& b : batches)
        model.forward(r.parameters, b, nullptr, nullptr, nullptr,
                      {.reduction = config.hyper.reduction});
      train_fwd_s.push_back(cpu_seconds() - start);
      start = cpu_seconds();
      for (const auto& b : batches) model.evaluate(r.parameters, b, nullptr, nullptr, nullptr);
      eval_fwd_s.push_back(cpu_seconds() - start);
    }
    const double ev = median(eval_s), tf = median(train_fwd_s), ef = median(eval_fwd_s);
    if (json)
      std::printf(
          "{\"cell\": %s, \"workload\": \"greff-jsb-epoch\", \"hidden\": %d, \"epochs\": %d, "
          "\"seconds_per_epoch\": %.6g, \"cpu_seconds_per_epoch\": %.6g, "
          "\"eval_cpu_seconds\": %.6g, \"eval_share\": %.6g, "
          "\"train_forward_cpu_seconds\": %.6g, \"eval_forward_cpu_seconds\": %.6g}\n",
          json_string(entry.info.name).c_str(), config.hyper.hidden, epochs, epoch_s, epoch_cpu, ev,
          ev / epoch_cpu, tf, ef);
    else
      std::printf("%-10s %6d %6d %10.4f %10.4f %10.4f %10.1f%% %13.4f %13.4f\n",
                  entry.info.name.c_str(), config.hyper.hidden, epochs, epoch_s, epoch_cpu, ev,
                  100 * ev / epoch_cpu, tf, ef);
    std::fflush(stdout);
  }
  if (!json)
    std::printf(
        "\nOne epoch: %zu training sequences (batch 1) + validation (%zu) + test (%zu); "
        "s/epoch wall, cpu/epoch process CPU seconds (medians after the first epoch); eval cpu "
        "= both evaluation passes (their share of cpu/epoch); train/eval fwd cpu = the model's "
        "training forward and its forward-only evaluation over the same evaluation batches "
        "(median of %d).\n",
        data.train.size(), data.valid.size(), data.test.size(), repeat);
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::vector<std::string> cell_names, size_names, plugin_paths;
  int repeat = 4, epochs = 4, layers = 1;
  double block_seconds = 0.2, dropout = 0;
  std::string epoch_data;
  std::vector<std::string> sets;
  options.add_options()("cell,c", po::value(&cell_names)->composing()->multitoken(),
                        "cell to measure (repeatable; default rnn lstm-np gru-ra)")(
      "size,s", po::value(&size_names)->composing()->multitoken(),
      "size T, S, M, L or G (repeatable; default all five)")(
      "layers", po::value(&layers)->default_value(1),
      "stacked layers of each cell (1-8; layers above the first have input = hidden)")(
      "dropout", po::value(&dropout)->default_value(0),
      "Zaremba dropout probability, fresh masks every step as in training (0 <= p < 1)")(
      "repeat,r", po::value(&repeat)->default_value(4),
      "timed blocks per (cell, size); the median block counts")(
      "block-seconds", po::value(&block_seconds)->default_value(0.2, "0.2"),
      "minimum duration of one timed block")("json", "one JSON object per line instead of a table")(
      "gemm",
      "also time single-thread SGEMM (Eigen, Eigen with a packed left operand, and OpenBLAS when "
      "built with it) on [4H x H]*[H x B] and [4H x I]*[I x T*B] per size")(
      "epoch", po::value(&epoch_data),
      "time whole epochs of Greff's JSB protocol on this piano-roll file instead (batch 1, "
      "hidden 100, SGD with Nesterov momentum, validation and test passes; default cell lstm)")(
      "epochs", po::value(&epochs)->default_value(4),
      "epochs per cell with --epoch; the median epoch after the first counts")(
      "set", po::value(&sets)->composing(),
      "with --epoch: override a hyperparameter of the protocol, key=value (repeatable)");
  add_plugin_option(options, plugin_paths);
  po::variables_map vm;
  if (!parse_args(
          "bench",
          "[--cell NAME ...] [--size T|S|M|L|G ...] [--repeat N] [--layers N] [--dropout P] "
          "[--json] [--gemm] [--plugin PATH.so ...]\n"
          "       cellzoo bench --epoch JSB.json [--cell NAME ...] [--epochs N] [--set k=v]",
          options, args, vm))
    return 0;
  load_plugins(plugin_paths);
  if (repeat < 1) throw Error("--repeat must be at least 1", "e.g. --repeat 4");
  if (!(block_seconds > 0)) throw Error("--block-seconds must be positive", "e.g. 0.2");
  if (layers < 1 || layers > 8) throw Error("--layers must be 1..8", "e.g. --layers 2");
  if (!(dropout >= 0 && dropout < 1))
    throw Error("--dropout must be in [0, 1)", "e.g. --dropout 0.5");

  const auto& registry = cells::CellRegistry::instance();
  if (!epoch_data.empty()) {
    if (!size_names.empty() || vm.count("gemm"))
      throw Error("--epoch times whole epochs: it takes no --size or --gemm",
                  "run those in a separate `cellzoo bench`");
    if (cell_names.empty()) cell_names = {"lstm"};
    std::vector<cells::CellEntry> entries;
    for (const auto& n : cell_names) entries.push_back(registry.get(n));
    bench_epochs(entries, epoch_data, epochs, repeat, sets, vm.count("json") > 0);
    return 0;
  }
  if (!sets.empty()) throw Error("--set applies to --epoch only", "drop it or add --epoch FILE");
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
    std::printf("float32, one thread; median of %d blocks of >= %.2f s", repeat, block_seconds);
    if (layers > 1 || dropout > 0) std::printf("; %d layer(s), dropout %g", layers, dropout);
    std::printf("\n");
    std::printf("%-10s %-4s %2s %5s %5s %4s %5s %12s %9s %11s\n", "cell", "size", "G", "I", "H",
                "B", "T", "sequences/s", "GFLOP/s", "ms/step");
  }
  for (const auto& entry : entries) {
    for (const auto& size : sizes) {
      cells::TrainStepBench bench(entry, size, 1, layers, dropout);
      double cpu = 0;
      const double seconds =
          cells::median_seconds_per_call([&] { bench.step(); }, repeat, block_seconds, &cpu);
      const double seqs = static_cast<double>(size.batch) / seconds;
      const double gflops = bench.flops() / seconds * 1e-9;
      const bool square = bench.input() != size.input;
      if (json) {
        std::printf(
            "{\"cell\": %s, \"size\": %s, \"layers\": %d, \"dropout\": %g, \"gates\": %ld, "
            "\"input\": %ld, \"hidden\": %ld, "
            "\"batch\": %ld, \"length\": %ld, \"square_input\": %s, \"seconds_per_step\": %.6g, "
            "\"cpu_seconds_per_step\": %.6g, "
            "\"sequences_per_s\": %.6g, \"gflops\": %.6g, \"flops_per_step\": %.6g}\n",
            json_string(entry.info.name).c_str(), json_string(size.name).c_str(), layers, dropout,
            static_cast<long>(bench.gates()), static_cast<long>(bench.input()),
            static_cast<long>(size.hidden), static_cast<long>(size.batch),
            static_cast<long>(size.length), square ? "true" : "false", seconds, cpu, seqs, gflops,
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
      std::printf("\n%-10s %-4s %-10s %6s %6s %6s %-13s %9s %9s\n", "sgemm", "size", "shape", "m",
                  "k", "n", "library", "GFLOP/s", "cpu GF/s");
    for (const auto& size : sizes) {
      for (const auto& shape : cells::bench_gemm_shapes(size)) {
        for (const auto& library : cells::gemm_libraries()) {
          double cpu = 0;
          const double gflops = cells::sgemm_gflops(shape, library, repeat, block_seconds, &cpu);
          if (json)
            std::printf(
                "{\"cell\": \"sgemm\", \"size\": %s, \"shape\": %s, \"m\": %ld, \"k\": %ld, "
                "\"n\": %ld, \"library\": %s, \"gflops\": %.6g, \"cpu_gflops\": %.6g}\n",
                json_string(size.name).c_str(), json_string(shape.label).c_str(),
                static_cast<long>(shape.m), static_cast<long>(shape.k), static_cast<long>(shape.n),
                json_string(library).c_str(), gflops, cpu);
          else
            std::printf("%-10s %-4s %-10s %6ld %6ld %6ld %-13s %9.2f %9.2f\n", "sgemm",
                        size.name.c_str(), shape.label.c_str(), static_cast<long>(shape.m),
                        static_cast<long>(shape.k), static_cast<long>(shape.n), library.c_str(),
                        gflops, cpu);
          std::fflush(stdout);
        }
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
