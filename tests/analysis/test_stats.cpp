// Tests of framework/analysis/stats: the distributions (Boost.Math) against scipy, Welch's
// test, the power of the t-test against statsmodels, Holm's correction and numpy-style
// quantiles. (tests/python/test_stats_scipy.py adds many random cases through stats_driver.)
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "framework/analysis/stats.hpp"

using namespace cellzoo::analysis;

namespace {

bool close_rel(double a, double b, double rel) {
  return std::fabs(a - b) <= rel * std::max(std::fabs(b), 1e-300);
}

}  // namespace

TEST_CASE("Student t CDF matches scipy", "[analysis][stats]") {
  // Reference values computed once with scipy 1.10.1: scipy.stats.t.cdf(t, df).
  struct Case {
    double t, df, expected;
  };
  const Case cases[] = {
      {0.0, 5, 0.5},
      {1.0, 1, 0.7500000000000002},
      {-2.5, 3.7, 0.035911011455913376},
      {2.0, 10, 0.9633059826146297},
      {4.5, 2.2, 0.980783555961845},
      {-1.3, 150, 0.09779752646826621},
      {8.0, 30, 0.9999999968670887},
      {0.5, 1e5, 0.691461911172791},
      {-30, 4, 3.6764280488306617e-06},
  };
  for (const auto& c : cases) {
    INFO("t=" << c.t << " df=" << c.df);
    CHECK(close_rel(student_t_cdf(c.t, c.df), c.expected, 1e-11));
  }
  // The two-sided tail is computed directly, so tiny p-values keep their precision.
  CHECK(close_rel(student_t_two_sided_p(-30, 4), 2 * 3.6764280488306617e-06, 1e-11));
  CHECK(student_t_two_sided_p(INFINITY, 3) == 0);
  CHECK(std::isnan(student_t_cdf(NAN, 3)));
  CHECK(std::isnan(student_t_cdf(1, 0)));  // no exception from Boost: NaN
  // scipy 1.10.1: 2 * scipy.stats.norm.sf(1.96), 2 * norm.sf(5.5).
  CHECK(close_rel(normal_two_sided_p(-1.96), 0.04999579029644087, 1e-12));
  CHECK(close_rel(normal_two_sided_p(5.5), 3.797912493177536e-08, 1e-11));
}

TEST_CASE("power and minimal detectable effect match statsmodels' TTestIndPower",
          "[analysis][stats]") {
  // statsmodels 0.13.5's TTestIndPower().power(0.8, n1, 0.05, ratio=n2/n1) with the exact
  // critical value (scipy 1.10's t.isf is off by up to 2e-8: t_{0.975, 8} is
  // 2.3060041352041667, not 2.306004135033371), and the root of power(d) = 0.8 to full
  // precision: cellzoo_analysis.stats.ttest_ind_power / minimal_detectable_effect.
  struct Case {
    double n1, n2, power_at_08, mde;
  };
  const Case cases[] = {{5, 5, 0.2007394526520355, 2.0244393393845432},
                        {20, 20, 0.6934041966153822, 0.9091290326820792},
                        {5, 20, 0.3350776951691285, 1.4627963282165255},
                        {50, 50, 0.9772790906539637, 0.5658822437555726},
                        {200, 200, 0.9999999991313159, 0.28083645028758986}};
  for (const auto& c : cases) {
    INFO("n1=" << c.n1 << " n2=" << c.n2);
    CHECK(close_rel(ttest_ind_power(0.8, c.n1, c.n2, 0.05), c.power_at_08, 1e-12));
    CHECK(close_rel(minimal_detectable_effect(c.n1, c.n2, 0.05, 0.8), c.mde, 1e-12));
    CHECK(minimal_detectable_effect(c.n1, c.n2, 0.05, 0.8) ==
          Approx(minimal_detectable_effect(c.n2, c.n1, 0.05, 0.8)).epsilon(1e-12));
  }
  CHECK(std::isnan(minimal_detectable_effect(1, 1, 0.05, 0.8)));   // no degrees of freedom
  CHECK(std::isnan(minimal_detectable_effect(5, 5, 0.05, 0.01)));  // power below alpha
  const std::vector<double> a{1, 2, 3, 4}, b{2, 4, 6};
  CHECK(pooled_std(a, b) == Approx(std::sqrt((5.0 / 3 * 3 + 4.0 * 2) / 5)));
}

TEST_CASE("Welch t-test matches scipy.stats.ttest_ind(equal_var=False)", "[analysis][stats]") {
  const std::vector<double> a{1.2, 2.3, 0.7, 1.9, 2.8, 1.1};
  const std::vector<double> b{2.5, 3.1, 2.2, 3.9, 2.7, 3.3, 4.0, 2.9};
  const auto r = welch_t_test(a, b);
  // Computed once with scipy 1.10.1.
  CHECK(r.t == Approx(-3.542001896095723).epsilon(1e-12));
  CHECK(close_rel(r.p, 0.005902354417182585, 1e-10));
  // Welch-Satterthwaite df, computed once with numpy from the sample variances.
  CHECK(r.df == Approx(9.375357223863626).epsilon(1e-12));
  // Swapping the samples flips t and keeps p.
  const auto s = welch_t_test(b, a);
  CHECK(s.t == Approx(-r.t).epsilon(1e-14));
  CHECK(s.p == Approx(r.p).epsilon(1e-14));
}

TEST_CASE("Welch t-test edge cases follow scipy", "[analysis][stats]") {
  const std::vector<double> one{1.0}, three{2, 3, 2}, ones{1, 1, 1}, twos{2, 2, 2};
  CHECK(std::isnan(welch_t_test(one, three).p));  // n < 2
  CHECK(std::isnan(welch_t_test(ones, ones).p));  // no variance, equal means
  const auto r = welch_t_test(ones, twos);        // no variance, different means
  CHECK(r.p == 0);
  CHECK(std::isinf(r.t));
  CHECK(r.t < 0);
  // scipy.stats.ttest_ind([1,1,1],[2,3,2],equal_var=False).pvalue: one variance is zero.
  CHECK(close_rel(welch_t_test(ones, three).p, 0.05719095841793663, 1e-10));
}

TEST_CASE("Holm adjustment matches statsmodels", "[analysis][stats]") {
  // statsmodels 0.13.5 multipletests([0.01,0.04,0.03,0.2,0.005], method="holm")[1].
  const std::vector<double> p{0.01, 0.04, 0.03, 0.2, 0.005};
  const std::vector<double> expected{0.04, 0.09, 0.09, 0.2, 0.025};
  const auto adj = holm_adjust(p);
  REQUIRE(adj.size() == p.size());
  for (std::size_t i = 0; i < p.size(); ++i) CHECK(adj[i] == Approx(expected[i]).epsilon(1e-12));
  // NaN entries stay NaN and do not count: m = 2 here.
  const auto with_nan = holm_adjust(std::vector<double>{0.02, NAN, 0.03});
  CHECK(with_nan[0] == Approx(0.04));
  CHECK(std::isnan(with_nan[1]));
  CHECK(with_nan[2] == Approx(0.04));                           // running maximum: max(0.04, 0.03)
  CHECK(holm_adjust(std::vector<double>{0.9, 0.8})[0] == 1.0);  // capped at 1
}

TEST_CASE("quantiles interpolate linearly like numpy", "[analysis][stats]") {
  // numpy.quantile([3,1,4,1,5,9,2,6], [0, .1, .25, .5, .75, .9, 1]) with numpy 1.24.2.
  std::vector<double> x{1, 1, 2, 3, 4, 5, 6, 9};
  const double q[] = {0, 0.1, 0.25, 0.5, 0.75, 0.9, 1};
  const double expected[] = {1, 1, 1.75, 3.5, 5.25, 6.9, 9};
  for (int i = 0; i < 7; ++i) CHECK(quantile_sorted(x, q[i]) == Approx(expected[i]).epsilon(1e-14));
  CHECK(std::isnan(quantile_sorted(std::vector<double>{}, 0.5)));
  CHECK(quantile_sorted(std::vector<double>{7}, 0.25) == 7);
}

TEST_CASE("summaries and top counts", "[analysis][stats]") {
  const std::vector<double> v{4, 1, 3, 2};
  const auto lo = summarize(v, false);
  CHECK(lo.n == 4);
  CHECK(lo.mean == 2.5);
  CHECK(lo.median == 2.5);
  CHECK(lo.q1 == 1.75);
  CHECK(lo.q3 == 3.25);
  CHECK(lo.best == 1);
  CHECK(lo.std == Approx(std::sqrt(5.0 / 3.0)));
  CHECK(summarize(v, true).best == 4);
  CHECK(std::isnan(summarize(std::vector<double>{}, true).mean));
  CHECK(std::isnan(summarize(std::vector<double>{5}, true).std));

  CHECK(top_count(200, 0.1) == 20);  // not 21 from 0.1 * 200 rounding up
  CHECK(top_count(15, 0.1) == 2);    // ceil(1.5)
  CHECK(top_count(5, 0.1) == 1);     // at least one run
  CHECK(top_count(0, 0.1) == 0);
  CHECK(top_count(7, 1.0) == 7);
  CHECK(top_count(30, 1.0 / 3) == 10);
}
