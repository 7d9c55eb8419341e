// Statistics for the comparison report (see stats.hpp).
#include "framework/analysis/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Continued fraction of I_x(a, b) (Numerical Recipes' betacf form, evaluated with the
// modified Lentz method). Converges fast for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-16;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  // Large a, b need about sqrt(max(a, b)) terms; 100000 is far beyond any real input.
  for (int m = 1; m <= 100000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));  // even step
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));  // odd step
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEps) break;
  }
  return h;
}

// lgamma(x) minus its Stirling approximation (x - 1/2) ln x - x + ln(2 pi) / 2, by the
// asymptotic series in 1/x; for x >= 10 the first omitted term is below 1e-16.
double lgamma_correction(double x) {
  const double r = 1 / x, r2 = r * r;
  return r *
         (1.0 / 12 +
          r2 * (-1.0 / 360 +
                r2 * (1.0 / 1260 +
                      r2 * (-1.0 / 1680 + r2 * (1.0 / 1188 + r2 * (-691.0 / 360360 + r2 / 156))))));
}

// ln B(a, b). lgamma(a + b) - lgamma(a) - lgamma(b) cancels catastrophically when an
// argument is large (t-tests with many degrees of freedom), so large arguments go through
// Stirling's formula with the correction terms, where the big parts cancel analytically.
double log_beta(double a, double b) {
  const double p = std::min(a, b), q = std::max(a, b);
  constexpr double kHalfLog2Pi = 0.91893853320467274178;
  if (p >= 10) {
    const double corr = lgamma_correction(p) + lgamma_correction(q) - lgamma_correction(p + q);
    return kHalfLog2Pi - 0.5 * std::log(q) + corr + (p - 0.5) * std::log(p / (p + q)) +
           q * std::log1p(-p / (p + q));
  }
  if (q >= 10) {
    const double corr = lgamma_correction(q) - lgamma_correction(p + q);
    return std::lgamma(p) + corr + p - p * std::log(p + q) + (q - 0.5) * std::log1p(-p / (p + q));
  }
  return std::lgamma(p) + std::lgamma(q) - std::lgamma(p + q);
}

// I_x(a, b) given x and y = 1 - x separately, so that callers who know 1 - x exactly
// (the t distribution's tails) lose no digits to the subtraction.
double incomplete_beta_xy(double a, double b, double x, double y) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return kNaN;
  if (x == 0) return 0;
  if (y == 0) return 1;
  const double front = std::exp(a * std::log(x) + b * std::log(y) - log_beta(a, b));
  // The fraction converges quickly only below the mean; use I_x(a,b) = 1 - I_{1-x}(b,a).
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, y) / b;
}

double mean_of(std::span<const double> v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Sample variance (ddof 1), two-pass for accuracy.
double variance_of(std::span<const double> v, double mean) {
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return ss / static_cast<double>(v.size() - 1);
}

}  // namespace

double regularized_incomplete_beta(double a, double b, double x) {
  return incomplete_beta_xy(a, b, x, 1 - x);
}

double student_t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return 0;
  // P(|T| >= |t|) = I_x(df / 2, 1 / 2) with x = df / (df + t^2); 1 - x is passed exactly.
  const double t2 = t * t;
  return incomplete_beta_xy(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
}

double student_t_cdf(double t, double df) {
  const double tail = student_t_two_sided_p(t, df) / 2;  // P(T >= |t|)
  if (std::isnan(tail)) return kNaN;
  return t < 0 ? tail : 1 - tail;
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
  // numpy's form: a + (b - a) * frac, exact at both ends.
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
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
