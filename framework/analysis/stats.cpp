// Statistics for the comparison report (see stats.hpp).
#include "framework/analysis/stats.hpp"

#include <algorithm>
#include <boost/math/distributions/non_central_t.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/tools/toms748_solve.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Out-of-domain arguments give NaN instead of exceptions; the report decides what a NaN
// means (no test, "n<3", ...).
using Policy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;
using StudentT = boost::math::students_t_distribution<double, Policy>;
using NoncentralT = boost::math::non_central_t_distribution<double, Policy>;
using Normal = boost::math::normal_distribution<double, Policy>;

// Sample variance (ddof 1), two-pass for accuracy.
double variance_of(std::span<const double> v, double mean) {
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return ss / static_cast<double>(v.size() - 1);
}

}  // namespace

double mean_of(std::span<const double> v) {
  if (v.empty()) return kNaN;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double student_t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return 0;
  return 2 * boost::math::cdf(boost::math::complement(StudentT(df), std::fabs(t)));
}

double student_t_cdf(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return t > 0 ? 1 : 0;
  return boost::math::cdf(StudentT(df), t);
}

double normal_two_sided_p(double z) {
  if (std::isnan(z)) return kNaN;
  if (std::isinf(z)) return 0;
  return 2 * boost::math::cdf(boost::math::complement(Normal(0, 1), std::fabs(z)));
}

WelchTest welch_t_test(std::span<const double> a, std::span<const double> b) {
  WelchTest r{kNaN, kNaN, kNaN};
  if (a.size() < 2 || b.size() < 2) return r;
  const double ma = mean_of(a), mb = mean_of(b);
  const double sa = variance_of(a, ma) / static_cast<double>(a.size());
  const double sb = variance_of(b, mb) / static_cast<double>(b.size());
  const double se2 = sa + sb;
  if (se2 == 0) {
    if (ma != mb) {
      r.t = ma > mb ? std::numeric_limits<double>::infinity()
                    : -std::numeric_limits<double>::infinity();
      r.p = 0;
    }
    return r;
  }
  r.t = (ma - mb) / std::sqrt(se2);
  r.df =
      se2 * se2 /
      (sa * sa / static_cast<double>(a.size() - 1) + sb * sb / static_cast<double>(b.size() - 1));
  r.p = student_t_two_sided_p(r.t, r.df);
  return r;
}

double ttest_ind_power(double d, double n1, double n2, double alpha) {
  const double df = n1 + n2 - 2;
  if (!(df > 0) || !(alpha > 0 && alpha < 1) || std::isnan(d)) return kNaN;
  const double crit = boost::math::quantile(boost::math::complement(StudentT(df), alpha / 2));
  const NoncentralT dist(df, d * std::sqrt(1 / (1 / n1 + 1 / n2)));
  // Both rejection regions, as statsmodels' ttest_power adds them.
  return boost::math::cdf(boost::math::complement(dist, crit)) + boost::math::cdf(dist, -crit);
}

double minimal_detectable_effect(double n1, double n2, double alpha, double power) {
  if (!(n1 + n2 - 2 >= 1) || !(power > alpha && power < 1)) return kNaN;
  const auto gap = [&](double d) { return ttest_ind_power(d, n1, n2, alpha) - power; };
  // power(0) = alpha < power; double the upper end until the power is reached.
  double lo = 0, hi = 1, f_lo = gap(0), f_hi = gap(hi);
  while (f_hi < 0 && hi < 1e6) {
    lo = hi;
    f_lo = f_hi;
    hi *= 2;
    f_hi = gap(hi);
  }
  if (!(f_lo < 0 && f_hi >= 0)) return kNaN;
  if (f_hi == 0) return hi;
  std::uintmax_t iterations = 200;
  const auto root = boost::math::tools::toms748_solve(
      gap, lo, hi, f_lo, f_hi, boost::math::tools::eps_tolerance<double>(52), iterations, Policy());
  return (root.first + root.second) / 2;
}

double pooled_std(std::span<const double> a, std::span<const double> b) {
  const double dof = static_cast<double>(a.size() + b.size()) - 2;
  if (!(dof >= 1)) return kNaN;
  double ss = 0;
  if (a.size() > 1) ss += variance_of(a, mean_of(a)) * static_cast<double>(a.size() - 1);
  if (b.size() > 1) ss += variance_of(b, mean_of(b)) * static_cast<double>(b.size() - 1);
  return std::sqrt(ss / dof);
}

std::vector<double> holm_adjust(std::span<const double> p) {
  std::vector<double> adjusted(p.size(), kNaN);
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  // Stable sort: equal p-values keep their input order, as statsmodels' mergesort does.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t i, std::size_t j) { return p[i] < p[j]; });
  const std::size_t m = order.size();
  double running = 0;
  for (std::size_t k = 0; k < m; ++k) {
    const double v = std::min(1.0, p[order[k]] * static_cast<double>(m - k));
    running = std::max(running, v);
    adjusted[order[k]] = running;
  }
  return adjusted;
}

double quantile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) return kNaN;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  const double a = sorted[lo], b = sorted[hi];
  if (frac == 0 || a == b) return a;  // also two equal infinities (inf - inf is NaN)
  // numpy's _lerp: from the nearer end, so that both ends are exact.
  return frac >= 0.5 ? b - (b - a) * (1 - frac) : a + (b - a) * frac;
}

Summary summarize(std::span<const double> values, bool higher_is_better) {
  Summary s;
  s.n = values.size();
  if (values.empty()) {
    s.mean = s.std = s.min = s.q1 = s.median = s.q3 = s.max = s.best = kNaN;
    return s;
  }
  std::vector<double> v(values.begin(), values.end());
  std::sort(v.begin(), v.end());
  s.mean = mean_of(v);
  s.std = v.size() < 2 ? kNaN : std::sqrt(variance_of(v, s.mean));
  s.min = v.front();
  s.max = v.back();
  s.q1 = quantile_sorted(v, 0.25);
  s.median = quantile_sorted(v, 0.5);
  s.q3 = quantile_sorted(v, 0.75);
  s.best = higher_is_better ? s.max : s.min;
  return s;
}

std::size_t top_count(std::size_t n, double fraction) {
  if (n == 0) return 0;
  const double k = std::ceil(fraction * static_cast<double>(n) - 1e-9);
  return std::clamp<std::size_t>(static_cast<std::size_t>(std::max(k, 1.0)), 1, n);
}

}  // namespace cellzoo::analysis
