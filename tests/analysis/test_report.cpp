// Tests of `cellzoo report`'s engine (framework/analysis/report): metric choice, missing
// runs, output formats, and reading a real results file through store::ResultsWriter /
// ResultsReader, including the bad-input errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "framework/analysis/report.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::analysis;

namespace {

store::FileMeta make_meta(std::int64_t total_runs, bool higher_is_better = false) {
  store::FileMeta m;
  m.spec_text = "test spec";
  m.spec_hash = "0123456789abcdef0123456789abcdef";
  m.total_runs = total_runs;
  m.task = "adding";
  m.metric = higher_is_better ? "accuracy" : "mse";
  m.metric_higher_is_better = higher_is_better;
  return m;
}

std::vector<store::HyperColumn> hyper_columns() {
  return {{"lr", store::HyperColumn::number}, {"init", store::HyperColumn::text}};
}

// Cells lstm (test_metric = 1 + trial/10), gru (0.5 lower), rnn (2 higher); test_loss is
// the metric negated so that its ranking differs; trial 0 of rnn diverged.
std::vector<store::RunRow> make_rows(int trials) {
  std::vector<store::RunRow> rows;
  const char* cells[] = {"lstm", "gru", "rnn"};
  const double offset[] = {0, -0.5, 2};
  for (int c = 0; c < 3; ++c)
    for (int t = 0; t < trials; ++t) {
      store::RunRow r;
      r.run_id = c * trials + t;
      char key[40];
      std::snprintf(key, sizeof key, "%032d", static_cast<int>(r.run_id));
      r.run_key = key;
      r.cell = cells[c];
      r.task = "adding";
      r.trial = t;
      r.status = "ok";
      r.hyper = {0.001 * (t + 1), std::string(t % 2 ? "a" : "b")};
      r.test_metric = 1 + offset[c] + 0.1 * t + 0.01 * ((t * 7) % 3);
      r.valid_metric = r.test_metric + 0.01;
      r.test_loss = -r.test_metric;
      r.valid_loss = -r.valid_metric;
      r.train_loss = r.valid_loss;
      r.epochs = r.best_epoch = 3;
      r.wall_seconds = 1 + t;
      r.n_params = 100 * (c + 1);
      if (c == 2 && t == 0) {
        r.status = "diverged";
        r.test_metric = r.valid_metric = r.test_loss = r.valid_loss = store::kNaN;
      }
      rows.push_back(r);
    }
  return rows;
}

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::path(CELLZOO_BINARY_DIR) / "test_analysis_files";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::filesystem::remove(p);
  return p;
}

}  // namespace

TEST_CASE("report chooses the metric, its direction and the ranking column", "[analysis][report]") {
  const auto lo = make_meta(0, false), hi = make_meta(0, true);
  CHECK(choose_metric("test_metric", hi).higher_is_better);
  CHECK(choose_metric("test_metric", hi).ranked_by == "valid_metric");
  CHECK(choose_metric("test_metric", hi).ranked_higher_is_better);
  CHECK_FALSE(choose_metric("test_metric", lo).higher_is_better);
  CHECK_FALSE(choose_metric("test_loss", hi).higher_is_better);
  CHECK(choose_metric("test_loss", hi).ranked_by == "valid_loss");
  CHECK_FALSE(choose_metric("test_loss", hi).ranked_higher_is_better);
  CHECK(choose_metric("wall_seconds", hi).ranked_by == "valid_metric");
  CHECK_FALSE(choose_metric("wall_seconds", hi).higher_is_better);
}

TEST_CASE("report over rows: metrics, baseline and missing runs", "[analysis][report]") {
  const auto rows = make_rows(10);
  ReportOptions o;
  const auto r = build_report("mem.h5", make_meta(40), hyper_columns(), rows, o);
  CHECK(r.rows == 30);
  CHECK(r.missing_runs == 10);
  CHECK_THAT(missing_note(r), Catch::Contains("10 of 40 runs are missing"));
  REQUIRE(r.comparison.cells.size() == 3);
  CHECK(r.comparison.options.baseline == "lstm");
  CHECK(r.comparison.cells[0].cell == "lstm");
  CHECK(r.comparison.cells[1].cell == "gru");  // lower mse is better
  CHECK(r.comparison.cells[1].all.direction == "better");
  CHECK(r.comparison.cells[2].counts.diverged == 1);
  CHECK(r.comparison.cells[2].used == 9);

  // test_loss is the negated metric: lower is better, so the order flips.
  o.metric = "test_loss";
  const auto loss = build_report("mem.h5", make_meta(30), hyper_columns(), rows, o);
  CHECK(loss.comparison.cells[1].cell == "rnn");
  CHECK(loss.missing_runs == 0);
  CHECK(missing_note(loss).empty());

  o.metric = "lr";  // a numeric hyperparameter: same for every cell
  const auto lr = build_report("mem.h5", make_meta(30), hyper_columns(), rows, o);
  CHECK(lr.comparison.cells[1].all.summary.mean == Approx(0.0055));

  o.metric = "nope";
  CHECK_THROWS_WITH(build_report("mem.h5", make_meta(30), hyper_columns(), rows, o),
                    Catch::Contains("metric 'nope' is not a column"));
  try {
    build_report("mem.h5", make_meta(30), hyper_columns(), rows, o);
  } catch (const Error& e) {  // the hint lists the numeric columns, hyperparameters too
    CHECK_THAT(e.hint(),
               Catch::Contains("test_metric") && Catch::Contains("lr") && !Catch::Contains("init"));
  }
  o.metric = "init";
  CHECK_THROWS_WITH(build_report("mem.h5", make_meta(30), hyper_columns(), rows, o),
                    Catch::Contains("holds text"));

  o.metric = "test_metric";
  std::vector<store::RunRow> no_lstm;
  for (const auto& row : rows)
    if (row.cell != "lstm") no_lstm.push_back(row);
  CHECK_THROWS_WITH(build_report("mem.h5", make_meta(30), hyper_columns(), no_lstm, o),
                    Catch::Contains("no --baseline given") && Catch::Contains("gru, rnn"));
  o.baseline = "gru";
  CHECK(
      build_report("mem.h5", make_meta(30), hyper_columns(), no_lstm, o).comparison.cells[0].cell ==
      "gru");
  o.baseline = "";
  CHECK_THROWS_WITH(build_report("mem.h5", make_meta(30), hyper_columns(), {}, o),
                    Catch::Contains("has no runs yet"));
}

TEST_CASE("report formats: csv and json carry the same numbers", "[analysis][report]") {
  const auto r = build_report("a \"quoted\" name.h5", make_meta(30), hyper_columns(), make_rows(10),
                              ReportOptions{});
  std::ostringstream csv, json, table;
  write_csv(csv, r);
  write_json(json, r);
  write_table(table, r);
  std::istringstream lines(csv.str());
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  CHECK(header.rfind("cell,baseline,runs,ok,diverged,failed,timeout,used,n_pairs,paired_statistic,"
                     "p_paired,p_paired_holm,p_paired_holm_family,all_n,all_failed,all_mean,"
                     "all_mean_ci_low,all_mean_ci_high,",
                     0) == 0);
  CHECK_THAT(header, Catch::Contains(",expected_max_50,expected_max_50_std,expected_max_n,"));
  CHECK(first.rfind("lstm,true,10,10,0,0,0,10,0,,,,,10,0,", 0) == 0);
  const auto j = json.str();
  CHECK_THAT(j, Catch::Contains("\"file\": \"a \\\"quoted\\\" name.h5\""));
  CHECK_THAT(j, Catch::Contains("\"baseline\": \"lstm\""));
  CHECK_THAT(j, Catch::Contains("\"all_p\": null"));         // the baseline's p is NaN
  CHECK_THAT(j, Catch::Contains("\"top_fraction\": 0.1,"));  // shortest round-trip text
  CHECK_THAT(j, Catch::Contains("\"diverged\": \"exclude\""));
  CHECK_THAT(j, Catch::Contains("\"trials\": 10"));
  CHECK_THAT(j, Catch::Contains("\"expected_max\": {\"k\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "));
  CHECK_THAT(j, Catch::Contains("\"all_shift_ci\": ["));
  CHECK_THAT(table.str(), Catch::Contains("all trials"));
  CHECK_THAT(table.str(), Catch::Contains("top 10% by valid_metric"));
  CHECK_THAT(table.str(), Catch::Contains("baseline"));
}

TEST_CASE("report reads a results file written by the store", "[analysis][report]") {
  const auto path = scratch("report_roundtrip.h5");
  auto meta = make_meta(36);
  meta.shard = "1/2";
  {
    auto w = store::ResultsWriter::create(path.string(), meta, hyper_columns());
    for (const auto& row : make_rows(10)) w.append(row, {});
    w.close();
  }
  const auto r = build_report(path.string(), ReportOptions{});
  CHECK(r.rows == 30);
  CHECK(r.missing_runs == 6);
  CHECK_THAT(missing_note(r), Catch::Contains("shard 1/2"));
  const auto mem = build_report("mem", meta, hyper_columns(), make_rows(10), ReportOptions{});
  REQUIRE(r.comparison.cells.size() == mem.comparison.cells.size());
  for (std::size_t i = 0; i < r.comparison.cells.size(); ++i) {
    CHECK(r.comparison.cells[i].cell == mem.comparison.cells[i].cell);
    CHECK(r.comparison.cells[i].all.summary.mean == mem.comparison.cells[i].all.summary.mean);
  }
  CHECK(r.comparison.cells[1].all.test.p < 0.01);
}

TEST_CASE("report refuses files that are not results files", "[analysis][report]") {
  const auto text = scratch("not_hdf5.h5");
  std::ofstream(text) << "hello\n";
  CHECK_THROWS_AS(build_report(text.string(), ReportOptions{}), Error);
  CHECK_THROWS_WITH(build_report(scratch("missing.h5").string(), ReportOptions{}),
                    Catch::Contains("missing.h5"));
}

TEST_CASE("report table: 80 columns, clear lines instead of NaN, details and slices",
          "[analysis][report]") {
  auto rows = make_rows(10);
  // gru's runs all diverged in trials 5..9; rnn runs only trials 0..4 of another task, so
  // it shares no trial with the baseline.
  for (auto& r : rows) {
    if (r.cell == "gru" && r.trial >= 5) {
      r.status = "diverged";
      r.test_metric = r.valid_metric = store::kNaN;
    }
    if (r.cell == "rnn") r.task = "other";
  }
  for (int t = 0; t < 4; ++t) {  // mut1: every run diverged
    auto r = rows.front();
    r.cell = "mut1";
    r.trial = t;
    r.run_id = 100 + t;
    r.status = "diverged";
    r.test_metric = r.valid_metric = store::kNaN;
    rows.push_back(r);
  }
  ReportOptions o;
  o.bootstrap = 200;
  const auto r = build_report("mem.h5", make_meta(30), hyper_columns(), rows, o);
  std::ostringstream table, details;
  write_table(table, r);
  write_table(details, r, true);
  std::istringstream lines(table.str());
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(line.size() <= 80);
  }
  const auto t = table.str();
  CHECK_THAT(t, !Catch::Contains("nan"));
  CHECK_THAT(t, Catch::Contains("no pairs"));  // rnn
  CHECK_THAT(t, Catch::Contains("no runs"));   // mut1
  CHECK_THAT(t, Catch::Contains("n<3"));       // the top 10% is one run a cell
  CHECK(r.family_tests == 3);  // gru: Welch and paired; rnn: Welch (top groups: n = 1)
  CHECK_THAT(t, !Catch::Contains("expected best-of-k"));
  CHECK_THAT(details.str(), Catch::Contains("expected best-of-k"));
  CHECK_THAT(details.str(), Catch::Contains("k=10"));
  CHECK_THAT(details.str(), !Catch::Contains("nan"));

  // --diverged worst says so and counts gru's failures.
  o.diverged = Diverged::worst;
  const auto worst = build_report("mem.h5", make_meta(30), hyper_columns(), rows, o);
  std::ostringstream wt;
  write_table(wt, worst);
  CHECK_THAT(wt.str(), Catch::Contains("--diverged worst"));
  std::size_t failed = 0;
  for (const auto& c : worst.comparison.cells) failed += c.all.failed;
  CHECK(failed == 5 + 1 + 4);  // gru's trials 5..9, rnn's trial 0, mut1's four

  // Slices: Holm runs over the tests of every slice; a slice without the baseline says so.
  o.diverged = Diverged::exclude;
  std::vector<Report> slices;
  for (const char* init : {"a", "b"}) {
    auto so = o;
    so.where = {{"init", init}};
    slices.push_back(build_report("mem.h5", make_meta(30), hyper_columns(), rows, so));
  }
  correct_family(slices);
  CHECK(slices[0].family_tests == slices[1].family_tests);
  // init a: gru has 2 runs (no Welch) but 2 pairs, rnn Welch; init b: gru Welch and
  // paired, rnn Welch. rnn never pairs (another task); top groups are single runs.
  CHECK(slices[0].family_tests == 5);
  auto lonely = rows;
  std::erase_if(lonely, [](const store::RunRow& row) {
    return row.cell == "lstm" && std::get<std::string>(row.hyper[1]) == "a";
  });
  auto so = o;
  so.where = {{"init", "a"}};
  const auto no_base = build_report("mem.h5", make_meta(30), hyper_columns(), lonely, so);
  std::ostringstream nb;
  write_table(nb, no_base);
  CHECK_THAT(nb.str(), Catch::Contains("no tests: baseline lstm has no runs here"));
  CHECK_THAT(nb.str(), !Catch::Contains("nan"));
}
