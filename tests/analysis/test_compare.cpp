// Tests of the comparison table (framework/analysis/compare) over hand-made runs.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "framework/analysis/compare.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo::analysis;

namespace {

std::vector<RunRecord> make_runs() {
  std::vector<RunRecord> runs;
  std::int64_t id = 0;
  auto add = [&](const std::string& cell, const std::string& status, double value, double valid,
                 double params, std::int64_t trial) {
    runs.push_back({cell, status, value, valid, params, id++, trial, "adding"});
  };
  // lstm: values 1..10 in trials 1..10, validation score = value + 0.5 (lower is better).
  for (int i = 1; i <= 10; ++i) add("lstm", "ok", i, i + 0.5, 100, i);
  add("lstm", "diverged", NAN, NAN, 100, 11);
  add("lstm", "failed", NAN, NAN, 100, 12);
  // gru: clearly better (values 0.1..1.0); its validation ranks the runs in reverse, so
  // the top fraction is NOT the runs with the best test values.
  for (int i = 1; i <= 10; ++i) add("gru", "ok", 0.1 * i, -i, 75, i);
  add("gru", "timeout", 0.05, -100, 75, 11);  // would be the best if timeouts counted
  // nfg: like lstm plus noise -> not significant.
  const double noise[] = {0.3, -0.2, 0.1, -0.4, 0.2, 0.0, -0.1, 0.4, -0.3, 0.2};
  for (int i = 1; i <= 10; ++i) add("lstm-nfg", "ok", i + noise[i - 1], i, 90, i);
  // rnn: much worse.
  for (int i = 1; i <= 10; ++i) add("rnn", "ok", 50 + i, i, 25, i);
  add("rnn", "ok", INFINITY, 0, 25, 11);  // not finite: counted ok, not used
  return runs;
}

const CellResult& find(const Comparison& c, const std::string& name) {
  for (const auto& cell : c.cells)
    if (cell.cell == name) return cell;
  FAIL("no cell " << name);
  throw 0;
}

}  // namespace

TEST_CASE("comparison counts runs and selects the top fraction by validation",
          "[analysis][compare]") {
  CompareOptions o;
  o.top_fraction = 0.2;
  const auto c = compare_cells(make_runs(), o);
  const auto& lstm = find(c, "lstm");
  CHECK(lstm.is_baseline);
  CHECK(lstm.counts.ok == 10);
  CHECK(lstm.counts.diverged == 1);
  CHECK(lstm.counts.failed == 1);
  CHECK(lstm.counts.total() == 12);
  CHECK(lstm.used == 10);
  CHECK(lstm.all.summary.mean == Approx(5.5));
  CHECK(lstm.all.summary.median == Approx(5.5));
  CHECK(lstm.all.summary.q1 == Approx(3.25));  // linear interpolation, numpy's default
  CHECK(lstm.all.summary.best == 1);
  CHECK(lstm.top.summary.n == 2);               // ceil(0.2 * 10)
  CHECK(lstm.top.summary.mean == Approx(1.5));  // runs with valid 1.5 and 2.5
  CHECK(lstm.all.mean_params == 100);

  const auto& gru = find(c, "gru");
  CHECK(gru.counts.timeout == 1);
  CHECK(gru.used == 10);                        // the timeout run is left out by default
  CHECK(gru.top.summary.mean == Approx(0.95));  // valid -10, -9 (higher valid is worse here)
  // Validation is lower-is-better, so valid -10 and -9 are the best: values 1.0 and 0.9.

  const auto& rnn = find(c, "rnn");
  CHECK(rnn.counts.ok == 11);
  CHECK(rnn.used == 10);  // the infinite value is not usable
}

TEST_CASE("comparison tests against the baseline and sorts like the paper's figure",
          "[analysis][compare]") {
  CompareOptions o;
  const auto c = compare_cells(make_runs(), o);
  REQUIRE(c.cells.size() == 4);
  CHECK(c.cells[0].cell == "lstm");  // baseline first
  // Then by top-fraction mean, best (lowest) first: gru 1.0, lstm-nfg 1.3, rnn 51.
  CHECK(c.cells[1].cell == "gru");
  CHECK(c.cells[2].cell == "lstm-nfg");
  CHECK(c.cells[3].cell == "rnn");

  const auto& base = c.cells[0];
  CHECK(std::isnan(base.all.test.p));
  CHECK(std::isnan(base.all.p_holm));
  CHECK_FALSE(base.all.significant);
  CHECK(base.all.direction.empty());

  const auto& gru = c.cells[1];
  const auto& nfg = c.cells[2];
  const auto& rnn = c.cells[3];
  CHECK(gru.all.direction == "better");
  CHECK(gru.all.significant);
  CHECK(rnn.all.direction == "worse");
  CHECK(rnn.all.significant);
  CHECK_FALSE(nfg.all.significant);
  CHECK_FALSE(nfg.all.significant_holm);
  // Holm over the three compared cells: the smallest p is multiplied by 3, the next by 2...
  std::vector<double> p{gru.all.test.p, nfg.all.test.p, rnn.all.test.p};
  const auto holm = holm_adjust(p);
  CHECK(gru.all.p_holm == holm[0]);
  CHECK(nfg.all.p_holm == holm[1]);
  CHECK(rnn.all.p_holm == holm[2]);
  CHECK(std::min({gru.all.p_holm, rnn.all.p_holm}) ==
        Approx(3 * std::min({gru.all.test.p, rnn.all.test.p})));
  // The test is Welch's on exactly the used values.
  std::vector<double> lstm_values, gru_values;
  for (int i = 1; i <= 10; ++i) lstm_values.push_back(i), gru_values.push_back(0.1 * i);
  CHECK(gru.all.test.p == welch_t_test(gru_values, lstm_values).p);
  CHECK(gru.all.test.t < 0);
  // Top 10% of 10 runs is one run per cell: no Welch test from fewer than 3 runs.
  CHECK(gru.top.summary.n == 1);
  CHECK(std::isnan(gru.top.test.p));
  CHECK(std::isnan(gru.top.mde));
  CHECK_FALSE(gru.top.significant);
  CHECK_FALSE(gru.top.underpowered);
  // Both top runs have the value 1.0 (lstm's best-validated run scores 1, gru's 1.0).
  CHECK(gru.top.direction == "same");
}

TEST_CASE("higher-is-better metrics flip best, order and direction", "[analysis][compare]") {
  auto runs = make_runs();
  CompareOptions o;
  o.higher_is_better = true;
  o.valid_higher_is_better = true;
  o.top_fraction = 0.2;
  const auto c = compare_cells(runs, o);
  CHECK(c.cells[0].cell == "lstm");
  CHECK(c.cells[1].cell == "rnn");  // highest top mean now first
  CHECK(c.cells[1].all.direction == "better");
  CHECK(find(c, "lstm").all.summary.best == 10);
  CHECK(find(c, "lstm").top.summary.mean == Approx(9.5));  // valid 10.5 and 9.5
}

TEST_CASE("timeouts enter the statistics only when asked", "[analysis][compare]") {
  CompareOptions o;
  o.include_timeout = true;
  const auto c = compare_cells(make_runs(), o);
  CHECK(find(c, "gru").used == 11);
  CHECK(find(c, "gru").top.summary.best == 0.05);
}

TEST_CASE("bad baselines and fractions are clear errors", "[analysis][compare]") {
  CompareOptions o;
  o.baseline = "gru-ra";
  CHECK_THROWS_WITH(compare_cells(make_runs(), o),
                    Catch::Contains("baseline cell 'gru-ra' has no runs") &&
                        Catch::Contains("lstm, lstm-nfg, rnn"));
  // In a slice of a report the missing baseline is a note, not an error.
  o.baseline_may_be_missing = true;
  const auto slice = compare_cells(make_runs(), o);
  CHECK_THAT(slice.note, Catch::Contains("baseline gru-ra has no runs here"));
  CHECK(std::isnan(find(slice, "gru").all.test.p));
  // A baseline whose runs all failed: the table has its counts and says why no tests.
  std::vector<RunRecord> only_failed{{"lstm", "failed", NAN, NAN, 1, 0, 0, ""},
                                     {"gru", "ok", 1, 1, 1, 1, 0, ""}};
  const auto dead = compare_cells(only_failed, CompareOptions{});
  CHECK_THAT(dead.note, Catch::Contains("has no usable runs") && Catch::Contains("1 failed"));
  CHECK(std::isnan(find(dead, "gru").all.test.p));
  CHECK(std::isnan(find(dead, "gru").all.shift));
  CHECK(std::isnan(find(dead, "gru").paired.test.p));
  o.baseline = "lstm";
  o.top_fraction = 0;
  CHECK_THROWS_AS(compare_cells(make_runs(), o), cellzoo::Error);
  o.top_fraction = 1.5;
  CHECK_THROWS_AS(compare_cells(make_runs(), o), cellzoo::Error);
}

TEST_CASE("paired Wilcoxon test over the trials both cells ran", "[analysis][compare]") {
  const auto c = compare_cells(make_runs(), CompareOptions{});
  // gru - lstm = 0.1 i - i < 0 in all 10 shared trials: exact p = 2 / 2^10 (scipy).
  const auto& gru = find(c, "gru");
  CHECK(gru.paired.n_pairs == 10);
  CHECK(gru.paired.test.p == 0.001953125);
  CHECK(gru.paired.test.exact);
  // nfg - lstm = the noise, one zero: normal approximation (scipy: T = 20, p = 0.7671).
  const auto& nfg = find(c, "lstm-nfg");
  CHECK(nfg.paired.test.statistic == 20);
  CHECK(nfg.paired.test.p == Approx(0.7670968684102772).epsilon(1e-12));
  // rnn's trial 11 is not finite: 10 pairs. The baseline has no paired test.
  CHECK(find(c, "rnn").paired.n_pairs == 10);
  CHECK(std::isnan(c.cells[0].paired.test.p));
  // Holm over the cells for the paired tests, and over all tests of the comparison.
  std::vector<double> family;
  for (const auto& cell : c.cells)
    family.insert(family.end(), {cell.all.test.p, cell.top.test.p, cell.paired.test.p});
  const auto adjusted = holm_adjust(family);
  for (std::size_t i = 0; i < c.cells.size(); ++i) {
    CHECK((std::isnan(adjusted[3 * i]) ? std::isnan(c.cells[i].all.p_holm_family)
                                       : c.cells[i].all.p_holm_family == adjusted[3 * i]));
    CHECK((std::isnan(adjusted[3 * i + 2])
               ? std::isnan(c.cells[i].paired.p_holm_family)
               : c.cells[i].paired.p_holm_family == adjusted[3 * i + 2]));
  }
  auto copy = c;
  CHECK(holm_over_family({&copy}) == 6);  // 3 Welch (all) + 3 paired; top groups have n = 1
}

TEST_CASE("effect sizes: shift, probability of improvement and bootstrap intervals",
          "[analysis][compare]") {
  CompareOptions o;
  o.bootstrap = 300;
  const auto c = compare_cells(make_runs(), o);
  const auto& gru = find(c, "gru");
  // Lower is better; gru's 0.1..1.0 against lstm's 1..10: 99 wins and one tie (1.0 = 1).
  CHECK(gru.all.p_improve == 0.995);
  // The median of the 100 differences lstm - gru (shift > 0: gru is better).
  std::vector<double> d;
  for (int i = 1; i <= 10; ++i)
    for (int j = 1; j <= 10; ++j) d.push_back(j - 0.1 * i);
  std::sort(d.begin(), d.end());
  CHECK(gru.all.shift == Approx((d[49] + d[50]) / 2).epsilon(1e-14));
  CHECK(gru.all.shift_ci.low <= gru.all.shift);
  CHECK(gru.all.shift_ci.high >= gru.all.shift);
  CHECK(gru.all.shift_ci.low > 0);
  CHECK(gru.all.p_improve_ci.high <= 1);
  CHECK(gru.all.mean_ci.low < 0.55);
  CHECK(gru.all.mean_ci.high > 0.55);
  // The same seed gives the same intervals; another seed others.
  const auto again = compare_cells(make_runs(), o);
  CHECK(find(again, "gru").all.shift_ci.low == gru.all.shift_ci.low);
  o.bootstrap_seed = 1;
  CHECK(find(compare_cells(make_runs(), o), "rnn").all.mean_ci.low !=
        find(c, "rnn").all.mean_ci.low);
  // No resamples: no intervals, same estimates.
  o.bootstrap = 0;
  const auto none = compare_cells(make_runs(), o);
  CHECK(std::isnan(find(none, "gru").all.shift_ci.low));
  CHECK(find(none, "gru").all.shift == gru.all.shift);
  // Minimal detectable difference and power: nfg is not significant and its mean is
  // within the MDE of lstm's.
  const auto& nfg = find(c, "lstm-nfg");
  CHECK(nfg.all.mde > 0);
  CHECK(nfg.all.underpowered);
  CHECK_FALSE(find(c, "rnn").all.underpowered);
  // Expected best-of-k over the finite runs: k = 1 is the mean.
  CHECK(gru.expected_max.mean.size() == 10);
  CHECK(gru.expected_max.mean[0] == Approx(gru.all.summary.mean).epsilon(1e-14));
}

TEST_CASE("diverged runs as the worst score", "[analysis][compare]") {
  CompareOptions o;
  o.diverged = Diverged::worst;
  o.bootstrap = 0;
  const auto c = compare_cells(make_runs(), o);
  const auto& lstm = find(c, "lstm");
  CHECK(lstm.used == 12);  // 10 ok + diverged + failed
  CHECK(lstm.all.summary.n == 12);
  CHECK(lstm.all.failed == 2);
  CHECK(lstm.all.summary.mean == Approx(5.5));  // means stay over finite runs
  CHECK(lstm.all.summary.max == INFINITY);      // the failed runs are the worst
  CHECK(lstm.all.summary.median == Approx(6.5));
  // rnn's infinite ok run is a failure too; its trial 11 pairs with lstm's diverged run.
  const auto& rnn = find(c, "rnn");
  CHECK(rnn.used == 11);
  CHECK(rnn.paired.n_pairs == 11);  // trials 1..11 (lstm's trial 12 has no rnn run)
  // The top fraction (2 of 12) is chosen with the failed runs last: same as before.
  CHECK(lstm.top.summary.n == 2);
  CHECK(lstm.top.summary.mean == Approx(1.5));
  // gru against lstm: lstm's two failures make gru's runs win those pairs outright.
  CHECK(find(c, "gru").all.p_improve == Approx((99 + 0.5 + 2 * 10) / 120.0).epsilon(1e-14));
}
