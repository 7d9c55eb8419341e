// Percentile bootstrap over trials (see bootstrap.hpp).
#include "framework/analysis/bootstrap.hpp"

#include <algorithm>
#include <cmath>

#include "framework/analysis/rank_stats.hpp"
#include "framework/analysis/stats.hpp"

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// The weights of one cell's runs in one resample, for both groups.
struct CellDraw {
  std::vector<double> all, top;  // per run
  WeightedSample all_sorted, top_sorted;
  double mean_all = kNaN, mean_top = kNaN;
};

double weighted_finite_mean(const CellSample& c, const std::vector<double>& w) {
  double sum = 0, weight = 0;
  for (std::size_t r = 0; r < c.value.size(); ++r)
    if (w[r] > 0 && std::isfinite(c.value[r])) {
      sum += w[r] * c.value[r];
      weight += w[r];
    }
  return weight > 0 ? sum / weight : kNaN;
}

void sorted_sample(const CellSample& c, const std::vector<double>& w, WeightedSample& out) {
  out.clear();
  for (const auto r : c.by_value)
    if (w[r] > 0) {
      out.values.push_back(c.value[r]);
      out.weights.push_back(w[r]);
    }
}

// The cell's runs in resample `counts`: every run as often as its trial was drawn, and
// the top fraction of them chosen again, best validation first (copies of one run are
// alike, so the last run taken may contribute only some of its copies).
void draw_cell(const CellSample& c, const std::vector<std::uint32_t>& counts, double fraction,
               CellDraw& d) {
  const std::size_t n = c.value.size();
  d.all.assign(n, 0);
  d.top.assign(n, 0);
  std::size_t total = 0;
  for (std::size_t r = 0; r < n; ++r) {
    d.all[r] = counts[c.trial[r]];
    total += counts[c.trial[r]];
  }
  auto left = static_cast<double>(top_count(total, fraction));
  for (const auto r : c.by_validation) {
    if (left <= 0) break;
    const double take = std::min(left, d.all[r]);
    d.top[r] = take;
    left -= take;
  }
  sorted_sample(c, d.all, d.all_sorted);
  sorted_sample(c, d.top, d.top_sorted);
  d.mean_all = weighted_finite_mean(c, d.all);
  d.mean_top = weighted_finite_mean(c, d.top);
}

// A step size for the median search: about the standard error of a difference of
// locations (half the mean interquartile range over sqrt(n)); it only affects speed.
double shift_scale(const CellSample& a, const CellSample& b) {
  const auto iqr = [](const CellSample& c) {
    std::vector<double> v;
    for (double x : c.value)
      if (std::isfinite(x)) v.push_back(x);
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : quantile_sorted(v, 0.75) - quantile_sorted(v, 0.25);
  };
  const double n =
      static_cast<double>(std::max<std::size_t>(1, std::min(a.value.size(), b.value.size())));
  const double s = (iqr(a) + iqr(b)) / 4 / std::sqrt(n);
  return s > 0 && std::isfinite(s) ? s : 1.0;
}

}  // namespace

std::uint64_t splitmix64_mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void draw_trials(std::uint64_t seed, std::size_t b, std::size_t trials,
                 std::vector<std::uint32_t>& counts) {
  counts.assign(trials, 0);
  const std::uint64_t first = static_cast<std::uint64_t>(b) * trials + 1;
  for (std::size_t r = 0; r < trials; ++r)
    ++counts[splitmix64_mix(seed + (first + r) * kGolden) % trials];
}

Interval percentile_interval(std::vector<double> values) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  return {quantile_sorted(values, 0.025), quantile_sorted(values, 0.975)};
}

std::vector<CellIntervals> bootstrap_intervals(std::span<const CellSample> cells,
                                               std::size_t baseline, std::size_t trials,
                                               std::span<const std::array<double, 2>> shift_hint,
                                               const BootstrapOptions& o) {
  const std::size_t n_cells = cells.size(), B = o.resamples;
  std::vector<CellIntervals> out(n_cells);
  if (B == 0 || trials == 0) return out;
  // Per cell and statistic, the B resampled values: mean, shift, p_improve x {all, top}.
  enum { mean_all, mean_top, shift_all, shift_top, improve_all, improve_top, n_stats };
  std::vector<std::vector<double>> values(n_cells * n_stats, std::vector<double>(B, kNaN));
  const auto at = [&](std::size_t c, int s) -> std::vector<double>& {
    return values[c * n_stats + static_cast<std::size_t>(s)];
  };
  std::vector<double> scale(n_cells, 1.0);
  for (std::size_t c = 0; c < n_cells; ++c) scale[c] = shift_scale(cells[c], cells[baseline]);
  // The shift is in the "better" direction; the median search works on cell - baseline.
  const double sign = o.higher_is_better ? 1 : -1;
  std::vector<std::uint32_t> counts;
  std::vector<CellDraw> draws(n_cells);
  for (std::size_t b = 0; b < B; ++b) {
    draw_trials(o.seed, b, trials, counts);
    for (std::size_t c = 0; c < n_cells; ++c) draw_cell(cells[c], counts, o.top_fraction, draws[c]);
    const auto& base = draws[baseline];
    for (std::size_t c = 0; c < n_cells; ++c) {
      const auto& d = draws[c];
      at(c, mean_all)[b] = d.mean_all;
      at(c, mean_top)[b] = d.mean_top;
      if (c == baseline) continue;
      at(c, shift_all)[b] =
          sign * hodges_lehmann(d.all_sorted, base.all_sorted, sign * shift_hint[c][0], scale[c]);
      at(c, shift_top)[b] =
          sign * hodges_lehmann(d.top_sorted, base.top_sorted, sign * shift_hint[c][1], scale[c]);
      at(c, improve_all)[b] =
          probability_of_improvement(d.all_sorted, base.all_sorted, o.higher_is_better);
      at(c, improve_top)[b] =
          probability_of_improvement(d.top_sorted, base.top_sorted, o.higher_is_better);
    }
  }
  for (std::size_t c = 0; c < n_cells; ++c) {
    out[c].all.mean = percentile_interval(std::move(at(c, mean_all)));
    out[c].top.mean = percentile_interval(std::move(at(c, mean_top)));
    if (c == baseline) continue;
    out[c].all.shift = percentile_interval(std::move(at(c, shift_all)));
    out[c].top.shift = percentile_interval(std::move(at(c, shift_top)));
    out[c].all.p_improve = percentile_interval(std::move(at(c, improve_all)));
    out[c].top.p_improve = percentile_interval(std::move(at(c, improve_top)));
  }
  return out;
}

}  // namespace cellzoo::analysis
