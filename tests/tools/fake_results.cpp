// Writes a finished results file that holds every run of a spec with made-up outcomes (two
// curve rows each), as `cellzoo sweep SPEC` leaves it after training them all, in a few
// seconds per million runs. scripts/bench/million_runs.py resumes such a file (nothing left
// to run) to time the resume of a million-run sweep without training a million runs.
// Usage: fake_results SPEC OUT.h5 [key=value ...]   (key=value as `cellzoo sweep --set`)
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "framework/store/results_file.hpp"
#include "framework/sweep/batch.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/train/trainer.hpp"

using namespace cellzoo;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fake_results SPEC OUT.h5 [key=value ...]\n");
    return 2;
  }
  try {
    auto spec = sweep::load_spec(argv[1]);
    for (int a = 3; a < argc; ++a) sweep::apply_override(spec, argv[a]);
    const sweep::RunEnumerator runs(spec);
    sweep::TaskDataCache cache;
    const auto data = cache.get(spec.task, runs.at(0).config);
    store::FileMeta meta;
    meta.spec_text = sweep::to_text(spec);
    meta.spec_hash = sweep::spec_hash(spec);
    meta.total_runs = runs.size();
    meta.task = spec.task;
    meta.metric = train::metric_name(data->info.metric);
    meta.metric_higher_is_better = train::metric_higher_is_better(data->info.metric);
    meta.command_line = "fake_results";
    auto writer = store::ResultsWriter::create(argv[2], meta, sweep::store_columns(runs.columns()));
    for (const auto& cell : spec.cells)
      if (auto row = sweep::language_cell_row(cell)) writer.add_cell(*row);
    train::TrainResult result;
    result.status = "ok";
    result.train_loss = result.valid_loss = result.test_loss = 0.5;
    result.valid_metric = result.test_metric = 0.5;
    result.best_epoch = result.epochs = 2;
    constexpr std::int64_t kBlock = 20000;
    for (std::int64_t begin = 0; begin < runs.size(); begin += kBlock) {
      std::vector<store::RunRow> rows;
      std::vector<store::CurveRow> curves;
      for (std::int64_t i = begin; i < std::min(runs.size(), begin + kBlock); ++i) {
        rows.push_back(sweep::make_row(runs.describe(i), runs.columns(), result));
        for (std::int64_t epoch = 1; epoch <= 2; ++epoch)
          curves.push_back({i, epoch, 0.5, 0.5, 0.5, 0.01, 0.1});
      }
      writer.append_batch(rows, curves);
    }
    writer.set_finished();
    writer.close();
    std::printf("%s: %lld runs\n", argv[2], static_cast<long long>(runs.size()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake_results: %s\n", e.what());
    return 1;
  }
  return 0;
}
