// merge(): shards -> one file equal to a single-process run; duplicates, mismatches, and
// the `cellzoo merge` subcommand.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "framework/store/merge.hpp"
#include "framework/store/results_file.hpp"
#include "framework/util/error.hpp"
#include "tests/skip.hpp"
#include "tests/store/store_test_util.hpp"

using namespace cellzoo::store;
using namespace cellzoo::store::testing;

namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const cellzoo::Error& e) {
    return std::string(e.what()) + " | hint: " + e.hint();
  }
  return "";
}

FileMeta shard_meta(int k) {
  FileMeta meta = sample_meta();
  meta.shard = std::to_string(k + 1) + "/3";
  return meta;
}

}  // namespace

TEST_CASE("merging 3 shards gives the single-process file", "[store]") {
  const fs::path dir = fresh_dir("merge-union");
  std::vector<std::int64_t> all;
  for (std::int64_t i = 0; i < 12; ++i) all.push_back(i);
  write_file(dir / "single.h5", all);
  std::vector<std::string> shards;
  for (int k = 0; k < 3; ++k) {
    // Shards hold interleaved ids, appended out of order as parallel workers finish.
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 11 - k; i >= 0; i -= 3) ids.push_back(i);
    shards.push_back((dir / ("shard" + std::to_string(k) + ".h5")).string());
    write_file(shards.back(), ids, shard_meta(k));
  }
  const auto report = merge((dir / "merged.h5").string(), shards);
  CHECK(report.inputs == 3);
  CHECK(report.runs_merged == 12);
  CHECK(report.duplicates_dropped == 0);
  CHECK(report.curve_rows == 36);
  CHECK(report.total_runs == 12);
  CHECK(report.missing_run_ids.empty());

  const auto single = ResultsReader::open((dir / "single.h5").string());
  const auto merged = ResultsReader::open((dir / "merged.h5").string());
  const auto a = single.runs(), b = merged.runs();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(same_run(a[i], b[i]));
  const auto ca = single.curves(), cb = merged.curves();
  REQUIRE(ca.size() == cb.size());
  for (std::size_t i = 0; i < ca.size(); ++i) CHECK(same_curve(ca[i], cb[i]));
  CHECK(merged.meta().shard.empty());
  CHECK(merged.meta().spec_hash == single.meta().spec_hash);
  CHECK(merged.meta().spec_text == single.meta().spec_text);
  CHECK(merged.meta().command_line == single.meta().command_line);
  CHECK(merged.meta().merged_from == shards[0] + "\n" + shards[1] + "\n" + shards[2]);
  CHECK_FALSE(merged.meta().finished_utc.empty());
  CHECK(merged.hyper_columns() == single.hyper_columns());
}

TEST_CASE("merge drops duplicate runs (first file wins) and reports missing ones", "[store]") {
  const fs::path dir = fresh_dir("merge-dups");
  write_file(dir / "a.h5", {0, 1, 2});
  {
    auto writer = ResultsWriter::create((dir / "b.h5").string(), sample_meta(), sample_columns());
    RunRow again = sample_run(2);
    again.wall_seconds = 999;  // same run_key, other content: must not win
    writer.append(again, sample_curves(2, 7));
    writer.append(sample_run(3), sample_curves(3, 3));
    writer.add_cell({"c", hex32(3, 4), "cell c {}"});
  }
  const auto report =
      merge((dir / "m.h5").string(), {(dir / "a.h5").string(), (dir / "b.h5").string()});
  CHECK(report.runs_merged == 4);
  CHECK(report.duplicates_dropped == 1);
  CHECK(report.missing_run_ids == std::vector<std::int64_t>{4, 5, 6, 7, 8, 9, 10, 11});
  const auto merged = ResultsReader::open((dir / "m.h5").string());
  const auto runs = merged.runs();
  REQUIRE(runs.size() == 4);
  CHECK(same_run(runs[2], sample_run(2)));
  CHECK(merged.curves().size() == 12);  // run 2's 3 curve rows from a.h5, not b.h5's 7
  CHECK(merged.cells().size() == 1);
  CHECK(merged.meta().finished_utc.empty());  // runs are missing
}

TEST_CASE("a merge written in blocks equals one written at once", "[store]") {
  // Blocks of 5 runs cut the interleaved shards' runs (and a duplicate) every which way;
  // the rows, curves and sessions must be those of a single block.
  const fs::path dir = fresh_dir("merge-blocks");
  std::vector<std::string> shards;
  for (int k = 0; k < 3; ++k) {
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 22 - k; i >= 0; i -= 3) ids.push_back(i);
    if (k == 2) ids.push_back(1);  // also in shard 0: dropped
    shards.push_back((dir / ("shard" + std::to_string(k) + ".h5")).string());
    write_file(shards.back(), ids, shard_meta(k), 2 + k);
  }
  const auto one = merge((dir / "one.h5").string(), shards, false, 1000);
  const auto blocks = merge((dir / "blocks.h5").string(), shards, false, 5);
  CHECK(blocks.runs_merged == 23);
  CHECK(blocks.duplicates_dropped == 1);
  CHECK(blocks.curve_rows == one.curve_rows);
  CHECK(blocks.missing_run_ids == one.missing_run_ids);
  const auto a = ResultsReader::open((dir / "one.h5").string());
  const auto b = ResultsReader::open((dir / "blocks.h5").string());
  const auto ra = a.runs(), rb = b.runs();
  REQUIRE(ra.size() == rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    CHECK(ra[i].run_id == static_cast<std::int64_t>(i));
    CHECK(same_run(ra[i], rb[i]));
  }
  const auto ca = a.curves(), cb = b.curves();
  REQUIRE(ca.size() == cb.size());
  for (std::size_t i = 0; i < ca.size(); ++i) CHECK(same_curve(ca[i], cb[i]));
  const auto sa = a.sessions(), sb = b.sessions();
  REQUIRE(sa.size() == sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) CHECK(sa[i].run_ids == sb[i].run_ids);
  // The keys-only and block readers see what runs() sees.
  const auto keys = b.run_keys();
  REQUIRE(keys.size() == rb.size());
  std::size_t n = 0;
  b.for_each_outcome([&](const RunOutcome& o) {
    CHECK(o.run_id == rb[n].run_id);
    CHECK(run_key_text(o.key) == rb[n].run_key);
    CHECK(keys[n].first == rb[n].run_id);
    CHECK(run_key_text(keys[n].second) == rb[n].run_key);
    CHECK(o.status == rb[n].status);
    ++n;
  });
  CHECK(n == rb.size());
  const RunKeySet set([&] {
    std::vector<RunKey> v;
    for (const auto& k : keys) v.push_back(k.second);
    return v;
  }());
  CHECK(set.contains(rb[3].run_key));
  CHECK_FALSE(set.contains(std::string(32, 'z')));
}

TEST_CASE("merge refuses mismatched or foreign inputs and existing outputs", "[store]") {
  const fs::path dir = fresh_dir("merge-refuse");
  write_file(dir / "a.h5", {0, 1});
  write_file(dir / "b.h5", {2, 3}, sample_meta("spec-b"));
  const auto a = (dir / "a.h5").string(), b = (dir / "b.h5").string();
  const auto out = (dir / "out.h5").string();
  CHECK_THAT(error_of([&] {
               merge(out, {a, b});
             }),
             Catch::Contains("'" + b + "'") && Catch::Contains("'" + a + "'") &&
                 Catch::Contains("different specs") &&
                 Catch::Contains(sample_meta("spec-b").spec_hash));
  CHECK_FALSE(fs::exists(out));

  {
    auto writer = ResultsWriter::create((dir / "c.h5").string(), sample_meta(),
                                        {{"hidden", HyperColumn::number}});
  }
  CHECK_THAT(error_of([&] {
               merge(out, {a, (dir / "c.h5").string()});
             }),
             Catch::Contains("hyper columns"));
  FileMeta more = sample_meta();
  more.total_runs = 99;
  write_file(dir / "d.h5", {4}, more);
  CHECK_THAT(error_of([&] {
               merge(out, {a, (dir / "d.h5").string()});
             }),
             Catch::Contains("99 runs"));
  write_bytes(dir / "junk.h5", "not hdf5 at all");
  CHECK_THAT(error_of([&] {
               merge(out, {a, (dir / "junk.h5").string()});
             }),
             Catch::Contains("not a readable HDF5 file"));
  CHECK_FALSE(fs::exists(out));

  const std::string before = read_bytes(b);
  CHECK_THAT(error_of([&] { merge(b, {a}); }), Catch::Contains("already exists"));
  CHECK(read_bytes(b) == before);
}

TEST_CASE("cellzoo merge prints what it merged", "[store]") {
  const fs::path exe = CELLZOO_EXE;
  if (!fs::exists(exe)) CELLZOO_SKIP(exe << " is not built (build the cellzoo target)");
  const fs::path dir = fresh_dir("merge-cli");
  write_file(dir / "a.h5", {0, 1, 2});
  write_file(dir / "b.h5", {2, 3});
  const auto command = exe.string() + " merge -o " + (dir / "m.h5").string() + " " +
                       (dir / "a.h5").string() + " " + (dir / "b.h5").string() + " > " +
                       (dir / "out.txt").string() + " 2>&1";
  const int rc = std::system(command.c_str());
  const std::string output = read_bytes(dir / "out.txt");
  INFO(output);
  REQUIRE(rc == 0);
  CHECK_THAT(output, Catch::Contains("merged 4 runs from 2 files") &&
                         Catch::Contains("1 duplicate") && Catch::Contains("8 of 12 runs missing"));
  CHECK(ResultsReader::open((dir / "m.h5").string()).runs().size() == 4);
  // Refuses to overwrite, exit code 2, message on stderr.
  const int again = std::system(command.c_str());
  CHECK(WEXITSTATUS(again) == 2);
  CHECK_THAT(read_bytes(dir / "out.txt"), Catch::Contains("already exists"));
}
