// Shared fixtures of the store tests: scratch directories, sample metadata, runs and
// curves whose every field is a known function of the run id.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "framework/store/results_file.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::store::testing {

namespace fs = std::filesystem;

// Where a test writes a file that tests/python/test_results_h5py.py reads: the directory
// in CELLZOO_STORE_FIXTURE_DIR (that test runs this binary with its own, so that it never
// races the same test run by ctest), else the build tree.
inline fs::path fixture_path(const std::string& file) {
  const char* dir = std::getenv("CELLZOO_STORE_FIXTURE_DIR");
  return fs::path(dir && *dir ? dir : CELLZOO_BINARY_DIR) / file;
}

// An empty scratch directory, unique to `name`, under the build tree (or the fixture
// directory).
inline fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fixture_path("store-test-tmp") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline std::string hex32(std::uint64_t a, std::uint64_t b) {
  char buffer[33];
  std::snprintf(buffer, sizeof buffer, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buffer;
}

inline FileMeta sample_meta(const std::string& spec = "spec-a") {
  FileMeta meta;
  meta.spec_text = "task: adding\ncells: [rnn, lstm]\n# " + spec + "\n";
  meta.spec_hash = hex32(hash64(spec), hash64(spec, 1));
  meta.total_runs = 12;
  meta.shard = "";
  meta.task = "adding";
  meta.metric = "mse";
  meta.metric_higher_is_better = false;
  meta.command_line = "cellzoo sweep spec.yaml";
  return meta;
}

inline std::vector<HyperColumn> sample_columns() {
  return {{"hidden", HyperColumn::number},
          {"lr", HyperColumn::number},
          {"optimizer", HyperColumn::text}};
}

inline RunRow sample_run(std::int64_t id) {
  RunRow r;
  r.run_id = id;
  r.run_key = hex32(hash64("run", static_cast<std::uint64_t>(id)), 7);
  r.cell = id % 2 ? "lstm-cifg" : "file:experiments/cells/mut1.cell";
  r.task = "adding";
  r.trial = id / 2;
  r.seed = 0xF000000000000000ULL + static_cast<std::uint64_t>(id);  // high bit set
  r.status = id % 5 == 3 ? "diverged" : "ok";
  r.error = id % 5 == 3 ? "loss became NaN at epoch 3" : "";
  r.hyper = {HyperValue(double(32 << (id % 3))), HyperValue(0.001 * double(id + 1)),
             HyperValue(std::string(id % 2 ? "sgd" : "adam"))};
  r.train_loss = 1.0 / double(id + 1);
  r.valid_loss = id % 5 == 3 ? std::nan("") : 2.0 / double(id + 1);
  r.test_loss = 3.0 / double(id + 1);
  r.valid_metric = 0.5 + 0.01 * double(id);
  r.test_metric = id % 5 == 3 ? std::nan("") : 0.25 + 0.01 * double(id);
  r.best_epoch = id % 7;
  r.epochs = 10 + id;
  r.wall_seconds = 1.5 * double(id);
  r.n_params = 1000 + id;
  r.valid_accuracy = 0.125 * double(id % 8);
  r.test_accuracy = id % 5 == 3 ? std::nan("") : 0.0625 * double(id % 16);
  r.valid_sequence_accuracy = 0.5 / double(id + 1);
  r.test_sequence_accuracy = 0.25 / double(id + 1);
  return r;
}

inline std::vector<CurveRow> sample_curves(std::int64_t id, int epochs) {
  std::vector<CurveRow> rows;
  for (int e = 1; e <= epochs; ++e)
    rows.push_back({id, e, 1.0 / e, 1.5 / e, e == 2 ? std::nan("") : 0.1 * e, 0.01, 0.5 * e});
  return rows;
}

inline bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

inline bool same_run(const RunRow& a, const RunRow& b) {
  if (a.hyper.size() != b.hyper.size()) return false;
  for (std::size_t j = 0; j < a.hyper.size(); ++j) {
    if (a.hyper[j].index() != b.hyper[j].index()) return false;
    if (a.hyper[j].index() == 0 ? !same(std::get<double>(a.hyper[j]), std::get<double>(b.hyper[j]))
                                : a.hyper[j] != b.hyper[j])
      return false;
  }
  return a.run_id == b.run_id && a.run_key == b.run_key && a.cell == b.cell && a.task == b.task &&
         a.trial == b.trial && a.seed == b.seed && a.status == b.status && a.error == b.error &&
         same(a.train_loss, b.train_loss) && same(a.valid_loss, b.valid_loss) &&
         same(a.test_loss, b.test_loss) && same(a.valid_metric, b.valid_metric) &&
         same(a.test_metric, b.test_metric) && a.best_epoch == b.best_epoch &&
         a.epochs == b.epochs && same(a.wall_seconds, b.wall_seconds) && a.n_params == b.n_params &&
         same(a.valid_accuracy, b.valid_accuracy) && same(a.test_accuracy, b.test_accuracy) &&
         same(a.valid_sequence_accuracy, b.valid_sequence_accuracy) &&
         same(a.test_sequence_accuracy, b.test_sequence_accuracy);
}

inline bool same_curve(const CurveRow& a, const CurveRow& b) {
  return a.run_id == b.run_id && a.epoch == b.epoch && same(a.train_loss, b.train_loss) &&
         same(a.valid_loss, b.valid_loss) && same(a.valid_metric, b.valid_metric) &&
         same(a.learning_rate, b.learning_rate) && same(a.seconds, b.seconds);
}

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Writes runs `ids` (with `epochs` curve rows each) to a new file.
inline void write_file(const fs::path& path, const std::vector<std::int64_t>& ids,
                       const FileMeta& meta = sample_meta(), int epochs = 3) {
  auto writer = ResultsWriter::create(path.string(), meta, sample_columns());
  for (auto id : ids) writer.append(sample_run(id), sample_curves(id, epochs));
  writer.close();
}

}  // namespace cellzoo::store::testing
