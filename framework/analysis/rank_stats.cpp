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

// The search for the weighted rank-ka and rank-kb (ka <= kb <= ka + 1, 1-based)
// differences run_difference(x_i, y_j) of ascending x and y, pair (i, j) weighing
// w_i v_j (zero weights allowed: such pairs are not in the multiset). The differences
// fall along each row i as j grows and rise along each column as i grows (IEEE
// subtraction is monotone), so "the differences <= t" are, per row, the columns from some
// first(i) on, and first(i) moves right as i grows.
//
// The search keeps a bracket (t_lo, t_hi] with C(t_lo) < ka and C(t_hi) >= kb, C(t) being
// the weighted count of differences <= t, and per row the columns [first_hi, first_lo) of
// the differences inside it: the strip. A probe t inside the bracket looks only at the
// rows whose strip is not empty, and only within the strip, so its cost falls with the
// strip. The bracket starts from a DifferenceGrid when there is one (weighted sums over
// precomputed rows), else from the caller's hint; then regula falsi on C (Illinois) with
// bisection when it stalls; once the strip holds few differences they are sorted.
class DifferenceSearch {
 public:
  DifferenceSearch(std::span<const double> x, std::span<const double> wx, std::span<const double> y,
                   std::span<const double> wy, const ColumnWeights& columns, ShiftScratch& scratch)
      : x_(x),
        wx_(wx),
        y_(y),
        wy_(wy),
        suffix_(columns.suffix),
        next_(columns.next),
        prev_(columns.prev),
        first_lo_(scratch.first_lo),
        first_hi_(scratch.first_hi),
        probe_(scratch.probe),
        active_(scratch.active),
        strip_values_(scratch.strip) {
    const std::size_t m = x.size(), n = y.size();
    active_.clear();
    double total_x = 0;
    for (std::size_t i = 0; i < m; ++i)
      if (wx[i] > 0) {
        active_.push_back(static_cast<std::uint32_t>(i));
        total_x += wx[i];
      }
    first_lo_.resize(m);
    first_hi_.resize(m);
    probe_.resize(m);
    c_hi_ = total_x * suffix_[0];
    strip_ = active_.size() * n;
    finite_ = !x.empty() && !y.empty() && std::isfinite(x.front()) && std::isfinite(x.back()) &&
              std::isfinite(y.front()) && std::isfinite(y.back());
  }

  // Starts from the grid's two thresholds around the ranks; false if they do not
  // bracket them (then run() starts from scratch). A count at a threshold is one weighted
  // sum over the rows; the first one is where the hint falls, the next where the grid's
  // unweighted counts say the ranks are (a pair weighs total / (m n) on average), and a
  // step or two from there finds the bracket.
  bool start_from(const DifferenceGrid& grid, double ka, double kb, double hint,
                  std::vector<double>& cache) {
    const auto& thresholds = grid.thresholds();
    const std::size_t G = thresholds.size();
    cache.assign(G, kNaN);
    const auto count = [&](std::size_t g) {
      if (std::isnan(cache[g])) {  // over every row: contiguous, and weight 0 adds 0
        const auto first = grid.first(g);
        double c = 0;
        for (std::size_t i = 0; i < first.size(); ++i) c += wx_[i] * suffix_[first[i]];
        cache[g] = c;
      }
      return cache[g];
    };
    const auto index_of = [&](const auto& ascending, double v) {
      const auto at = std::lower_bound(ascending.begin(), ascending.end(), v) - ascending.begin();
      return std::min<std::size_t>(static_cast<std::size_t>(at), G - 1);
    };
    std::size_t g = std::isfinite(hint) ? index_of(thresholds, hint) : G / 2;
    const double per_pair =
        c_hi_ / (static_cast<double>(x_.size()) * static_cast<double>(y_.size()));
    g = index_of(grid.plain_counts(), grid.plain_counts()[g] + (ka - count(g)) / per_pair);
    while (g > 0 && count(g) >= ka) --g;
    while (g + 1 < G && count(g + 1) < ka) ++g;
    if (count(g) >= ka) return false;  // below the grid
    std::size_t up = g + 1;
    while (up < G && count(up) < kb) ++up;
    if (up == G) return false;  // above the grid
    const auto below = grid.first(g), above = grid.first(up);
    for (const auto i : active_) {
      first_lo_[i] = below[i];
      first_hi_[i] = above[i];
    }
    t_lo_ = thresholds[g];
    c_lo_ = count(g);
    t_hi_ = thresholds[up];
    c_hi_ = count(up);
    above_lo_ = kNaN;  // unknown; only a shortcut
    strip_ = 0;
    for (const auto i : active_) strip_ += first_lo_[i] - first_hi_[i];
    drop_empty_rows();
    return true;
  }

  std::pair<double, double> run(double ka, double kb, double hint, double scale, bool started) {
    ka_ = ka;
    kb_ = kb;
    if (!started) {
      for (const auto i : active_) {
        first_lo_[i] = static_cast<std::uint32_t>(y_.size());  // nothing <= t_lo yet
        first_hi_[i] = 0;                                      // everything <= t_hi
      }
      const auto first_row = active_.front(), last_row = active_.back();
      t_hi_ = run_difference(x_[last_row], y_[next_[0]]);               // the largest difference
      above_lo_ = run_difference(x_[first_row], y_[prev_[y_.size()]]);  // the smallest
      // Differences of -inf (failed baseline runs) exist only with x = -inf or y = +inf.
      if (x_[first_row] == -kInf || y_[prev_[y_.size()]] == kInf) {
        const double c = probe(-kInf);
        if (c >= kb_) return {-kInf, -kInf};
        if (c >= ka_) return {-kInf, above_probe()};
        keep_lo(-kInf, c);
      }
    }
    if (!(scale > 0) || !std::isfinite(scale)) scale = 1;
    bool hint_used = started || !std::isfinite(hint);
    double step = scale, f_lo_scale = 1, f_hi_scale = 1;
    int last_side = 0, stale = 0;
    std::size_t last_strip = strip_;
    const double target = ka_ - 0.5;  // counts are integers: C(t) >= ka <=> C(t) > target
    for (;;) {
      if (above_lo_ == t_hi_) return {t_hi_, t_hi_};  // the whole strip equals t_hi
      if (strip_ <= kEnumerateAt) return enumerate();
      double t;
      const bool bounded = std::isfinite(t_lo_) && std::isfinite(t_hi_);
      if (!hint_used && hint > t_lo_ && hint < t_hi_) {
        t = hint;
        hint_used = true;
      } else if (!bounded) {
        t = std::isfinite(t_lo_) ? t_lo_ + step : std::isfinite(t_hi_) ? t_hi_ - step : 0.0;
        step *= 4;
      } else {
        const double f_lo = (c_lo_ - target) * f_lo_scale;
        const double f_hi = (c_hi_ - target) * f_hi_scale;
        t = t_lo_ + (t_hi_ - t_lo_) * (f_lo / (f_lo - f_hi));
        if (stale >= 2) {  // interpolation is not shrinking the strip: bisect
          t = t_lo_ + (t_hi_ - t_lo_) / 2;
          stale = 0;
        }
      }
      if (!(t > t_lo_ && t < t_hi_)) {
        t = key_midpoint(t_lo_, t_hi_);
        if (!(t > t_lo_ && t < t_hi_)) return {t_hi_, t_hi_};  // neighbours: all is t_hi
      }
      const double c = probe(t);
      // Exactly ka differences up to t: the two ranks are the last one <= t and the next.
      if (c >= ka_ && c < kb_) return {below_probe(), above_probe()};
      if (c >= kb_) {
        keep_hi(c);
        f_lo_scale = last_side == 1 ? f_lo_scale / 2 : 1;
        f_hi_scale = 1;
        last_side = 1;
      } else {
        keep_lo(t, c);
        f_hi_scale = last_side == -1 ? f_hi_scale / 2 : 1;
        f_lo_scale = 1;
        last_side = -1;
      }
      stale = strip_ * 2 > last_strip ? stale + 1 : 0;
      if (!stale) last_strip = strip_;
    }
  }

 private:
  static constexpr std::size_t kEnumerateAt = 512;  // sorting is dearer than a probe
  static constexpr std::uint32_t kNone = ColumnWeights::kNone;

  // C(t) for t inside the bracket; probe_[i] = the first column of row i <= t. Narrow
  // strips are searched row by row, wide ones in one pass whose column moves right.
  double probe(double t) {
    // Without infinities run_difference is a plain subtraction (x - y is 0 only if x == y).
    return finite_ ? probe_rows<true>(t) : probe_rows<false>(t);
  }

  template <bool kFinite>
  double probe_rows(double t) {
    const auto difference = [](double x, double y) {
      return kFinite ? x - y : run_difference(x, y);
    };
    double weighted = c_lo_;
    below_t_ = 0;
    const bool narrow = strip_ <= 16 * active_.size();
    std::uint32_t j = 0;
    for (const auto i : active_) {
      const double xi = x_[i];
      const std::uint32_t end = first_lo_[i];
      if (narrow) {
        std::uint32_t lo = first_hi_[i], len = end - lo;
        if (len <= 8) {  // the differences > t are a prefix: count them
          std::uint32_t above = 0;
          for (std::uint32_t k = 0; k < len; ++k) above += difference(xi, y_[lo + k]) > t;
          j = lo + above;
        } else {  // bisection for the first column <= t
          while (len > 0) {
            const std::uint32_t half = len / 2;
            const bool above = difference(xi, y_[lo + half]) > t;
            lo = above ? lo + half + 1 : lo;
            len = above ? len - half - 1 : half;
          }
          j = lo;
        }
      } else {
        j = std::max(j, first_hi_[i]);
        while (j < end && difference(xi, y_[j]) > t) ++j;
      }
      probe_[i] = j;
      weighted += wx_[i] * (suffix_[j] - suffix_[end]);
      below_t_ += end - j;
    }
    return weighted;
  }

  // The largest difference <= the last probe, and the smallest above it, in the strip.
  double below_probe() const {
    double below = -kInf;
    for (const auto i : active_) {
      const auto j = next_[probe_[i]];
      if (j < first_lo_[i]) below = std::max(below, run_difference(x_[i], y_[j]));
    }
    return below;
  }
  double above_probe() const {
    double above = kInf;
    for (const auto i : active_) {
      const auto j = prev_[probe_[i]];
      if (j != kNone && j >= first_hi_[i]) above = std::min(above, run_difference(x_[i], y_[j]));
    }
    return above;
  }

  void keep_lo(double t, double c) {
    t_lo_ = t;
    c_lo_ = c;
    above_lo_ = above_probe();
    for (const auto i : active_) first_lo_[i] = probe_[i];
    strip_ -= below_t_;
    drop_empty_rows();
  }

  void keep_hi(double c) {
    t_hi_ = below_probe();  // nothing lies in (below, t]
    c_hi_ = c;
    for (const auto i : active_) first_hi_[i] = probe_[i];
    strip_ = below_t_;
    drop_empty_rows();
  }

  void drop_empty_rows() {
    std::erase_if(active_, [&](std::uint32_t i) { return first_hi_[i] == first_lo_[i]; });
  }

  // The strip's differences, sorted, counted on from C(t_lo).
  std::pair<double, double> enumerate() {
    auto& d = strip_values_;
    d.clear();
    for (const auto i : active_)
      for (std::uint32_t j = first_hi_[i]; j < first_lo_[i]; ++j)
        if (wy_[j] > 0) d.emplace_back(run_difference(x_[i], y_[j]), wx_[i] * wy_[j]);
    std::sort(d.begin(), d.end());
    double cum = c_lo_, va = kNaN;
    for (const auto& [v, w] : d) {
      cum += w;
      if (std::isnan(va) && cum >= ka_) va = v;
      if (cum >= kb_) return {va, v};
    }
    return {va, kNaN};  // unreachable: C(t_hi) >= kb
  }

  std::span<const double> x_, wx_, y_, wy_;
  double ka_ = 0, kb_ = 0;
  const std::vector<double>& suffix_;              // suffix_[j] = sum of y's weights from j on
  const std::vector<std::uint32_t>&next_, &prev_;  // nearest column of positive weight
  std::vector<std::uint32_t>&first_lo_, &first_hi_, &probe_, &active_;
  std::vector<std::pair<double, double>>& strip_values_;
  double t_lo_ = -kInf, t_hi_ = kInf, c_lo_ = 0, c_hi_ = 0;
  double above_lo_ = kInf;   // the smallest difference > t_lo
  std::size_t strip_ = 0;    // differences (of any weight) in (t_lo, t_hi]
  std::size_t below_t_ = 0;  // of them, <= the last probe
  bool finite_ = false;      // no infinite values on either side
};

// numpy's median from the two middle ranks of `total` weighted differences.
double median_of(std::pair<double, double> middle) {
  const auto [a, b] = middle;
  return a == b ? a : (a + b) / 2;
}

std::pair<double, double> middle_ranks(double total) {
  return {std::floor((total + 1) / 2), std::floor(total / 2) + 1};
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

void ColumnWeights::prepare(std::span<const double> weights) {
  const std::size_t n = weights.size();
  suffix.resize(n + 1);
  next.resize(n + 1);
  prev.resize(n + 1);
  suffix[n] = 0;
  next[n] = static_cast<std::uint32_t>(n);
  for (std::size_t j = n; j-- > 0;) {
    suffix[j] = suffix[j + 1] + weights[j];
    next[j] = weights[j] > 0 ? static_cast<std::uint32_t>(j) : next[j + 1];
  }
  prev[0] = kNone;
  for (std::size_t j = 1; j <= n; ++j)
    prev[j] = weights[j - 1] > 0 ? static_cast<std::uint32_t>(j - 1) : prev[j - 1];
}

double hodges_lehmann(const WeightedSample& x, const WeightedSample& y, double hint, double scale,
                      ShiftScratch* scratch) {
  if (x.values.empty() || y.values.empty()) return kNaN;
  const auto [ka, kb] = middle_ranks(x.total() * y.total());
  ShiftScratch own;
  auto& memory = scratch ? *scratch : own;
  memory.columns.prepare(y.weights);
  DifferenceSearch search(x.values, x.weights, y.values, y.weights, memory.columns, memory);
  return median_of(search.run(ka, kb, hint, scale, false));
}

DifferenceGrid::DifferenceGrid(std::vector<double> x, std::vector<double> y)
    : x_(std::move(x)), y_(std::move(y)) {
  for (const double xi : x_) {
    at_least_.push_back(
        static_cast<std::uint32_t>(std::lower_bound(y_.begin(), y_.end(), xi) - y_.begin()));
    above_.push_back(
        static_cast<std::uint32_t>(std::upper_bound(y_.begin(), y_.end(), xi) - y_.begin()));
  }
}

void DifferenceGrid::set_thresholds(std::vector<double> thresholds) {
  thresholds_ = std::move(thresholds);
  const std::size_t m = x_.size(), n = y_.size();
  first_.resize(thresholds_.size() * m);
  plain_.assign(thresholds_.size(), 0);
  for (std::size_t g = 0; g < thresholds_.size(); ++g) {
    std::size_t j = 0;
    for (std::size_t i = 0; i < m; ++i) {
      while (j < n && run_difference(x_[i], y_[j]) > thresholds_[g]) ++j;
      first_[g * m + i] = static_cast<std::uint32_t>(j);
      plain_[g] += static_cast<double>(n - j);
    }
  }
}

double hodges_lehmann(const DifferenceGrid& grid, std::span<const double> wx,
                      std::span<const double> wy, const ColumnWeights& y_weights, double hint,
                      double scale, ShiftScratch* scratch) {
  double total_x = 0;
  for (double w : wx) total_x += w;
  const double total_y = y_weights.suffix.front();
  if (total_x == 0 || total_y == 0) return kNaN;
  const auto [ka, kb] = middle_ranks(total_x * total_y);
  ShiftScratch own;
  DifferenceSearch search(grid.x(), wx, grid.y(), wy, y_weights, scratch ? *scratch : own);
  auto& memory = scratch ? *scratch : own;
  const bool started =
      !grid.thresholds().empty() && search.start_from(grid, ka, kb, hint, memory.grid_counts);
  return median_of(search.run(ka, kb, hint, scale, started));
}

double probability_of_improvement(const DifferenceGrid& grid, std::span<const double> wx,
                                  const ColumnWeights& y_weights, bool higher_is_better) {
  const auto& suffix = y_weights.suffix;
  const double total_y = suffix.front();
  double total_x = 0, better = 0, equal = 0;
  const auto at_least = grid.at_least(), above = grid.above();
  for (std::size_t i = 0; i < wx.size(); ++i) {
    if (wx[i] == 0) continue;
    total_x += wx[i];
    const double greater = suffix[above[i]], ties = suffix[at_least[i]] - suffix[above[i]];
    better += wx[i] * (higher_is_better ? total_y - suffix[at_least[i]] : greater);
    equal += wx[i] * ties;
  }
  if (total_x == 0 || total_y == 0) return kNaN;
  return (better + equal / 2) / (total_x * total_y);
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
