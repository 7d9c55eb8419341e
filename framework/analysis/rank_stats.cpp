// Rank statistics of the comparison (see rank_stats.hpp).
#include "framework/analysis/rank_stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "framework/analysis/stats.hpp"

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The exact two-sided p of R+ = r_plus among `n` distinct ranks, as scipy's
// _get_wilcoxon_distr and the slices over it: the counts of every rank sum are integers
// below 2^50 (n <= 50), so the probabilities (count / 2^n) and their sums are exact.
double wilcoxon_exact_p(std::size_t n, double r_plus) {
  const std::size_t total = n * (n + 1) / 2;
  std::vector<std::uint64_t> counts(total + 1, 0);
  counts[0] = 1;
  for (std::size_t k = 1; k <= n; ++k)
    for (std::size_t s = k * (k + 1) / 2; s >= k; --s) counts[s] += counts[s - k];
  const auto r = static_cast<std::size_t>(r_plus);  // scipy: int(r_plus), truncation
  if (r == total / 2) return 1;                     // the centre of the distribution
  std::uint64_t less = 0, greater = 0;
  for (std::size_t s = 0; s <= total; ++s) {
    if (s <= r) less += counts[s];
    if (s >= r) greater += counts[s];
  }
  return std::min(
      1.0, std::ldexp(2.0 * static_cast<double>(std::min(less, greater)), -static_cast<int>(n)));
}

// Order-preserving map of doubles (NaN excluded) onto integers, for bisection down to
// neighbouring doubles.
std::int64_t order_key(double v) {
  const auto bits = std::bit_cast<std::int64_t>(v);
  return bits < 0 ? std::numeric_limits<std::int64_t>::min() - bits : bits;
}

double from_order_key(std::int64_t key) {
  return std::bit_cast<double>(key < 0 ? std::numeric_limits<std::int64_t>::min() - key : key);
}

// The double halfway between a < b in that order (b - a may exceed the int64 range).
double key_midpoint(double a, double b) {
  const std::int64_t ka = order_key(a), kb = order_key(b);
  const auto half = (static_cast<std::uint64_t>(kb) - static_cast<std::uint64_t>(ka)) / 2;
  return from_order_key(ka + static_cast<std::int64_t>(half));
}

// Counts of the differences run_difference(x_i, y_j) <= t. The differences fall along
// each row i as j grows and rise along each column as i grows (IEEE subtraction is
// monotone), so the first j of row i with a difference <= t moves right with i: one pass.
class DifferenceCounter {
 public:
  DifferenceCounter(const WeightedSample& x, const WeightedSample& y) : x_(x), y_(y) {
    suffix_.assign(y.values.size() + 1, 0);
    for (std::size_t j = y.values.size(); j-- > 0;) suffix_[j] = suffix_[j + 1] + y.weights[j];
  }

  struct Count {
    double weighted = 0;               // sum of w_i v_j over differences <= t
    std::size_t plain = 0;             // how many (i, j) pairs
    double below = -kInf;              // the largest difference <= t (-inf if none)
    double above = kInf;               // the smallest difference > t (+inf if none)
    std::vector<std::uint32_t> first;  // per row: the first j with a difference <= t
  };

  void count(double t, Count& c) const {
    const std::size_t m = x_.values.size(), n = y_.values.size();
    c.weighted = 0;
    c.plain = 0;
    c.below = -kInf;
    c.above = kInf;
    c.first.resize(m);
    std::size_t j = 0;
    for (std::size_t i = 0; i < m; ++i) {
      const double xi = x_.values[i];
      while (j < n && run_difference(xi, y_.values[j]) > t) ++j;
      c.first[i] = static_cast<std::uint32_t>(j);
      c.weighted += x_.weights[i] * suffix_[j];
      c.plain += n - j;
      if (j < n) c.below = std::max(c.below, run_difference(xi, y_.values[j]));
      if (j > 0) c.above = std::min(c.above, run_difference(xi, y_.values[j - 1]));
    }
  }

  // The differences in (lo, hi] with their weights, ascending.
  std::vector<std::pair<double, double>> between(const Count& lo, const Count& hi) const {
    std::vector<std::pair<double, double>> out;
    out.reserve(hi.plain - lo.plain);
    for (std::size_t i = 0; i < x_.values.size(); ++i)
      for (std::size_t j = hi.first[i]; j < lo.first[i]; ++j)
        out.emplace_back(run_difference(x_.values[i], y_.values[j]), x_.weights[i] * y_.weights[j]);
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  const WeightedSample& x_;
  const WeightedSample& y_;
  std::vector<double> suffix_;  // suffix_[j] = sum of y's weights from j on
};

// The rank-ka and rank-kb (ka <= kb <= ka + 1, 1-based, weighted) differences. The bracket
// (t_lo, t_hi] keeps C(t_lo) < ka and C(t_hi) >= kb, C(t) being the weighted count <= t.
std::pair<double, double> select_differences(const WeightedSample& x, const WeightedSample& y,
                                             double ka, double kb, double hint, double scale) {
  const DifferenceCounter counter(x, y);
  const std::size_t m = x.values.size(), n = y.values.size();
  DifferenceCounter::Count lo, hi, probe;
  counter.count(-kInf, lo);
  if (lo.weighted >= kb) return {-kInf, -kInf};  // failed baseline runs: -inf differences
  if (lo.weighted >= ka) return {-kInf, lo.above};
  counter.count(kInf, hi);
  double t_lo = -kInf, t_hi = hi.below;  // no difference lies above the largest one
  const std::size_t enumerate_at = std::max<std::size_t>(256, 2 * (m + n));
  if (!(scale > 0) || !std::isfinite(scale)) scale = 1;
  bool hint_used = !std::isfinite(hint);
  double step = scale, f_lo_scale = 1, f_hi_scale = 1;
  int last_side = 0, stale = 0;
  std::size_t last_plain = hi.plain - lo.plain;
  const double target = ka - 0.5;  // counts are integers: C(t) >= ka <=> C(t) > target
  for (;;) {
    // Every difference in (t_lo, t_hi] equals t_hi: it is the answer for both ranks.
    if (lo.above == t_hi) return {t_hi, t_hi};
    if (hi.plain - lo.plain <= enumerate_at) {
      double cum = lo.weighted, va = kNaN, vb = kNaN;
      for (const auto& [d, w] : counter.between(lo, hi)) {
        cum += w;
        if (std::isnan(va) && cum >= ka) va = d;
        if (cum >= kb) {
          vb = d;
          break;
        }
      }
      return {va, vb};
    }
    double t;
    const bool bounded = std::isfinite(t_lo) && std::isfinite(t_hi);
    if (!hint_used && hint > t_lo && hint < t_hi) {
      t = hint;
      hint_used = true;
    } else if (!bounded) {
      t = std::isfinite(t_lo) ? t_lo + step : std::isfinite(t_hi) ? t_hi - step : 0.0;
      step *= 4;
    } else {
      // Regula falsi on the weighted count (Illinois: a side kept twice halves its weight).
      const double f_lo = (lo.weighted - target) * f_lo_scale;
      const double f_hi = (hi.weighted - target) * f_hi_scale;
      t = t_lo + (t_hi - t_lo) * (f_lo / (f_lo - f_hi));
      if (stale >= 2) {  // interpolation is not shrinking the strip: bisect
        t = t_lo + (t_hi - t_lo) / 2;
        stale = 0;
      }
    }
    if (!(t > t_lo && t < t_hi)) {
      t = key_midpoint(t_lo, t_hi);
      if (!(t > t_lo && t < t_hi)) return {t_hi, t_hi};  // neighbours: (t_lo, t_hi] is t_hi
    }
    counter.count(t, probe);
    // Exactly ka differences up to t: the two ranks are the last one <= t and the next.
    if (probe.weighted >= ka && probe.weighted < kb) return {probe.below, probe.above};
    if (probe.weighted >= kb) {
      t_hi = probe.below;  // nothing lies in (below, t]
      std::swap(hi, probe);
      f_lo_scale = last_side == 1 ? f_lo_scale / 2 : 1;
      f_hi_scale = 1;
      last_side = 1;
    } else {
      t_lo = t;
      std::swap(lo, probe);
      f_hi_scale = last_side == -1 ? f_hi_scale / 2 : 1;
      f_lo_scale = 1;
      last_side = -1;
    }
    const std::size_t plain = hi.plain - lo.plain;
    stale = plain * 2 > last_plain ? stale + 1 : 0;
    if (!stale) last_plain = plain;
  }
}

}  // namespace

double WeightedSample::total() const {
  return std::accumulate(weights.begin(), weights.end(), 0.0);
}

WilcoxonTest wilcoxon_signed_rank(std::span<const double> differences) {
  WilcoxonTest r;
  r.statistic = r.p = kNaN;
  const std::size_t n_all = differences.size();
  if (n_all == 0) {
    r.note = "no pairs";
    return r;
  }
  const auto zeros =
      static_cast<std::size_t>(std::count(differences.begin(), differences.end(), 0.0));
  r.exact = n_all <= 50 && zeros == 0;
  std::vector<double> d;
  for (double v : differences)
    if (v != 0) d.push_back(v);
  if (d.empty()) {
    r.note = "all tied";
    return r;
  }
  const std::size_t n = d.size();
  // Average ranks of |d|, and the sizes of the groups of ties.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return std::fabs(d[a]) < std::fabs(d[b]); });
  double r_plus = 0, r_minus = 0, tie_term = 0;
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start + 1;
    while (end < n && std::fabs(d[order[end]]) == std::fabs(d[order[start]])) ++end;
    const double rank = (static_cast<double>(start + 1) + static_cast<double>(end)) / 2;
    for (std::size_t k = start; k < end; ++k) (d[order[k]] > 0 ? r_plus : r_minus) += rank;
    const auto t = static_cast<double>(end - start);
    if (end - start > 1) tie_term += t * (t * t - 1);
    start = end;
  }
  r.statistic = std::min(r_plus, r_minus);
  if (r.exact) {
    r.p = wilcoxon_exact_p(n, r_plus);
    return r;
  }
  const auto count = static_cast<double>(n);
  const double mean = count * (count + 1.) * 0.25;
  const double se = std::sqrt((count * (count + 1.) * (2. * count + 1.) - 0.5 * tie_term) / 24);
  r.p = normal_two_sided_p((r.statistic - mean) / se);
  return r;
}

double hodges_lehmann(const WeightedSample& x, const WeightedSample& y, double hint, double scale) {
  if (x.values.empty() || y.values.empty()) return kNaN;
  const double total = x.total() * y.total();
  // numpy's median: the middle difference, or the mean of the two middle ones.
  const double ka = std::floor((total + 1) / 2), kb = std::floor(total / 2) + 1;
  const auto [a, b] = select_differences(x, y, ka, kb, hint, scale);
  if (a == b) return a;
  return (a + b) / 2;
}

double probability_of_improvement(const WeightedSample& x, const WeightedSample& y,
                                  bool higher_is_better) {
  if (x.values.empty() || y.values.empty()) return kNaN;
  const std::size_t n = y.values.size();
  std::vector<double> suffix(n + 1, 0);
  for (std::size_t j = n; j-- > 0;) suffix[j] = suffix[j + 1] + y.weights[j];
  const double total_y = suffix[0];
  double better = 0, equal = 0;
  std::size_t at_least = 0, above = 0;  // first y >= x_i, first y > x_i
  for (std::size_t i = 0; i < x.values.size(); ++i) {
    const double xi = x.values[i];
    while (at_least < n && y.values[at_least] < xi) ++at_least;
    while (above < n && y.values[above] <= xi) ++above;
    const double greater = suffix[above], ties = suffix[at_least] - suffix[above];
    const double less = total_y - suffix[at_least];
    better += x.weights[i] * (higher_is_better ? less : greater);
    equal += x.weights[i] * ties;
  }
  return (better + equal / 2) / (x.total() * total_y);
}

}  // namespace cellzoo::analysis
