// Store throughput, printed rather than asserted (hidden: run `test_store "[.bench]"`).
#include <chrono>
#include <iostream>

#include <catch2/catch.hpp>

#include "framework/store/merge.hpp"
#include "framework/store/results_file.hpp"
#include "tests/store/store_test_util.hpp"

using namespace cellzoo::store;
using namespace cellzoo::store::testing;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("store benchmark: 10,000 runs x 50 curve rows, merge of 100 x 100", "[.bench]") {
  const fs::path dir = fresh_dir("bench");
  {
    const auto start = std::chrono::steady_clock::now();
    auto writer = ResultsWriter::create((dir / "big.h5").string(), sample_meta(), sample_columns());
    for (std::int64_t id = 0; id < 10000; ++id)
      writer.append(sample_run(id), sample_curves(id, 50));
    writer.close();
    const double s = seconds_since(start);
    std::cout << "append 10000 runs x 50 curve rows (flush per run): " << s << " s ("
              << 1e6 * s / 10000 << " us/run), file "
              << static_cast<double>(fs::file_size(dir / "big.h5")) / 1e6 << " MB\n";
    const auto read_start = std::chrono::steady_clock::now();
    const auto reader = ResultsReader::open((dir / "big.h5").string());
    const auto n = reader.runs().size() + reader.curves().size();
    std::cout << "read back " << n << " rows: " << seconds_since(read_start) << " s\n";
  }
  FileMeta meta = sample_meta();
  meta.total_runs = 10000;
  std::vector<std::string> shards;
  for (int k = 0; k < 100; ++k) {
    meta.shard = std::to_string(k + 1) + "/100";
    std::vector<std::int64_t> ids;
    for (std::int64_t i = k; i < 10000; i += 100) ids.push_back(i);
    shards.push_back((dir / ("shard" + std::to_string(k) + ".h5")).string());
    write_file(shards.back(), ids, meta, 50);
  }
  const auto start = std::chrono::steady_clock::now();
  const auto report = merge((dir / "merged.h5").string(), shards);
  std::cout << "merge 100 shards x 100 runs (50 curve rows each): " << seconds_since(start)
            << " s, " << report.runs_merged << " runs\n";
  CHECK(report.runs_merged == 10000);
}
