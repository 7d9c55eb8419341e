// Statistics for Greff-style comparisons: Student-t and normal tail probabilities (Boost.Math),
// Welch's unequal-variance t-test, its power and minimal detectable difference, Holm's
// step-down correction, and quantiles/summaries over plain vectors. Definitions match
// scipy/numpy/statsmodels so that the C++ report and scripts/cellzoo_analysis agree.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace cellzoo::analysis {

// P(T <= t) for Student's t with `df` > 0 degrees of freedom (df need not be an integer);
// NaN for a NaN t or df <= 0.
double student_t_cdf(double t, double df);

// P(|T| >= |t|): the two-sided p-value, computed from the upper tail (no 1 - cdf
// cancellation, so tiny p-values keep their digits).
double student_t_two_sided_p(double t, double df);

// P(|Z| >= |z|) for a standard normal Z.
double normal_two_sided_p(double z);

struct WelchTest {
  double t = 0;   // (mean(a) - mean(b)) / sqrt(var(a)/na + var(b)/nb), sample variances
  double df = 0;  // Welch-Satterthwaite degrees of freedom
  double p = 0;   // two-sided p-value
};

// Welch's t-test of a against b, with scipy.stats.ttest_ind(equal_var=False)'s edge cases:
// everything NaN when either sample has fewer than two values; when both variances are
// zero, t = +-inf and p = 0 if the means differ, all NaN if they are equal (df is NaN).
// (The report asks for at least kMinWelchRuns per side on top of this.)
WelchTest welch_t_test(std::span<const double> a, std::span<const double> b);

// The report prints no Welch p-value from fewer runs than this per group ("n<3").
constexpr std::size_t kMinWelchRuns = 3;

// Power of the two-sided two-sample t-test with pooled variance at standardized effect
// size d (Cohen's d), group sizes n1 and n2 and level alpha: statsmodels'
// TTestIndPower().power(d, n1, alpha, ratio=n2/n1), i.e. P(|T'| > t_{1-alpha/2}) for the
// noncentral t with df = n1 + n2 - 2 and noncentrality d * sqrt(n1 n2 / (n1 + n2)). The
// critical value is exact (statsmodels takes scipy 1.10's t.isf, off by up to 2e-8).
double ttest_ind_power(double d, double n1, double n2, double alpha);

// The standardized effect size d > 0 at which ttest_ind_power reaches `power`: the root
// that statsmodels' TTestIndPower().solve_power(effect_size=None, ...) approximates (it
// stops at brentq's xtol 1e-5; this one is solved to full precision). NaN when
// n1 + n2 - 2 < 1 or power is not in (alpha, 1).
double minimal_detectable_effect(double n1, double n2, double alpha, double power);

// The pooled standard deviation of two samples (ddof 1 each, weights n - 1): the unit of
// Cohen's d in TTestIndPower. NaN when n1 + n2 < 3.
double pooled_std(std::span<const double> a, std::span<const double> b);

// Holm's step-down adjusted p-values (statsmodels' multipletests(method="holm")): sort
// ascending, p_(i) * (m - i), running maximum, capped at 1. NaN entries are left NaN and
// do not count towards m.
std::vector<double> holm_adjust(std::span<const double> p);

// The q-quantile of ascending `sorted` values by linear interpolation between order
// statistics at position q * (n - 1): numpy's default ("linear", Hyndman-Fan type 7),
// which pandas also uses. Equal neighbours (also two infinities) give that value. NaN for
// an empty input.
double quantile_sorted(std::span<const double> sorted, double q);

// Mean of `v` by plain left-to-right summation; NaN when empty.
double mean_of(std::span<const double> v);

struct Summary {
  std::size_t n = 0;
  double mean = 0, std = 0;  // std: sample standard deviation (ddof 1), NaN for n < 2
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0;
  double best = 0;  // max if higher is better, else min
};

// Summary of `values` (any order); all NaN when empty.
Summary summarize(std::span<const double> values, bool higher_is_better);

// How many runs form the top `fraction` of n: ceil(fraction * n), at least 1 when n > 0,
// at most n. A tiny tolerance keeps e.g. 0.1 * 200 at 20 despite floating point.
std::size_t top_count(std::size_t n, double fraction);

}  // namespace cellzoo::analysis
