// Statistics for Greff-style comparisons: the regularized incomplete beta function and
// the Student-t distribution built on it, Welch's unequal-variance t-test, Holm's
// step-down correction, and quantiles/summaries over plain vectors. Definitions match
// scipy/numpy/statsmodels so that the C++ report and scripts/cellzoo_analysis agree.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace cellzoo::analysis {

// I_x(a, b), the regularized incomplete beta function, for a, b > 0 and x in [0, 1]
// (continued fraction, modified Lentz; relative accuracy ~1e-14). NaN outside the domain.
double regularized_incomplete_beta(double a, double b, double x);

// P(T <= t) for Student's t with `df` > 0 degrees of freedom (df need not be an integer).
double student_t_cdf(double t, double df);

// P(|T| >= |t|): the two-sided p-value, computed directly (no 1 - cdf cancellation).
double student_t_two_sided_p(double t, double df);

struct WelchTest {
  double t = 0;   // (mean(a) - mean(b)) / sqrt(var(a)/na + var(b)/nb), sample variances
  double df = 0;  // Welch-Satterthwaite degrees of freedom
  double p = 0;   // two-sided p-value
};

// Welch's t-test of a against b, with scipy.stats.ttest_ind(equal_var=False)'s edge cases:
// everything NaN when either sample has fewer than two values; when both variances are
// zero, t = +-inf and p = 0 if the means differ, all NaN if they are equal (df is NaN).
WelchTest welch_t_test(std::span<const double> a, std::span<const double> b);

// Holm's step-down adjusted p-values (statsmodels' multipletests(method="holm")): sort
// ascending, p_(i) * (m - i), running maximum, capped at 1. NaN entries are left NaN and
// do not count towards m.
std::vector<double> holm_adjust(std::span<const double> p);

// The q-quantile of ascending `sorted` values by linear interpolation between order
// statistics at position q * (n - 1): numpy's default ("linear", Hyndman-Fan type 7),
// which pandas also uses. NaN for an empty input.
double quantile_sorted(std::span<const double> sorted, double q);

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
