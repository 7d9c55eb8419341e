// Percentile bootstrap over trials (see bootstrap.hpp).
#include "framework/analysis/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "framework/analysis/rank_stats.hpp"
#include "framework/analysis/stats.hpp"

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A cell's runs laid out for fast resampling: in value order with their trial keys, and
// each run's position in that order.
struct CellLayout {
  std::vector<double> value;         // ascending
  std::vector<double> finite_value;  // the value where finite, else 0
  std::vector<double> finite;        // 1 where the value is finite, else 0
  std::vector<std::uint32_t> trial;  // of the run at each position
  std::vector<std::uint32_t> rank;   // per run (sample index): its position
};

CellLayout layout(const CellSample& c) {
  CellLayout l;
  l.rank.resize(c.value.size());
  for (std::size_t k = 0; k < c.by_value.size(); ++k) {
    const auto r = c.by_value[k];
    const double v = c.value[r];
    l.value.push_back(v);
    l.finite_value.push_back(std::isfinite(v) ? v : 0.0);
    l.finite.push_back(std::isfinite(v) ? 1.0 : 0.0);
    l.trial.push_back(c.trial[r]);
    l.rank[r] = static_cast<std::uint32_t>(k);
  }
  return l;
}

// One cell in one resample: every run as often as its trial was drawn (per value
// position, zeros included, and as a weighted sample of the drawn runs when a caller
// needs one), and the top fraction of them chosen again, best validation first (copies
// of one run are alike, so the last run taken may contribute only some of its copies).
struct CellDraw {
  std::vector<double> all_weights;
  WeightedSample all, top;
  double total = 0, mean_all = kNaN, mean_top = kNaN;
  std::vector<std::pair<std::uint32_t, double>> top_runs;  // (value position, copies)
};

void draw_cell(const CellSample& c, const CellLayout& l, const std::vector<std::uint32_t>& counts,
               double fraction, bool weighted_sample, CellDraw& d) {
  const std::size_t n = l.value.size();
  d.all_weights.resize(n);
  double total = 0, sum = 0, weight = 0;
  for (std::size_t k = 0; k < n; ++k) {  // no branches: most of the time goes here
    const auto w = static_cast<double>(counts[l.trial[k]]);
    d.all_weights[k] = w;
    total += w;
    sum += w * l.finite_value[k];
    weight += w * l.finite[k];
  }
  d.total = total;
  d.mean_all = weight > 0 ? sum / weight : kNaN;
  d.all.clear();
  if (weighted_sample)
    for (std::size_t k = 0; k < n; ++k)
      if (d.all_weights[k] > 0) {
        d.all.values.push_back(l.value[k]);
        d.all.weights.push_back(d.all_weights[k]);
      }
  d.top_runs.clear();
  auto left = static_cast<double>(top_count(static_cast<std::size_t>(total), fraction));
  for (const auto r : c.by_validation) {
    if (left <= 0) break;
    const double take = std::min(left, d.all_weights[l.rank[r]]);
    if (take > 0) d.top_runs.emplace_back(l.rank[r], take);
    left -= take;
  }
  std::sort(d.top_runs.begin(), d.top_runs.end());
  d.top.clear();
  sum = weight = 0;
  for (const auto& [k, w] : d.top_runs) {
    d.top.values.push_back(l.value[k]);
    d.top.weights.push_back(w);
    sum += w * l.finite_value[k];
    weight += w * l.finite[k];
  }
  d.mean_top = weight > 0 ? sum / weight : kNaN;
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

// Thresholds for a comparison's medians over all runs: evenly spaced over the pilot
// resamples' range (cell - baseline units), widened by half the range a side (24 pilots
// span about +-2 standard errors, so this covers about +-4); none if the pilots have no
// finite median.
std::vector<double> grid_thresholds(std::span<const double> pilot_shifts, double sign,
                                    std::size_t points) {
  double lo = kInf, hi = -kInf;
  for (double v : pilot_shifts)
    if (std::isfinite(v)) {
      lo = std::min(lo, sign * v);
      hi = std::max(hi, sign * v);
    }
  std::vector<double> thresholds;
  if (lo <= hi) {
    const double pad = 0.5 * std::max(hi - lo, 1e-12 * std::max(1.0, std::fabs(lo)));
    for (std::size_t g = 0; g < points; ++g)
      thresholds.push_back(lo - pad +
                           (hi - lo + 2 * pad) * static_cast<double>(g) /
                               static_cast<double>(points - 1));
  }
  return thresholds;
}

}  // namespace

void draw_trials(std::uint64_t seed, std::size_t b, std::size_t trials,
                 std::vector<std::uint32_t>& counts) {
  counts.assign(trials, 0);
  const std::uint64_t first = static_cast<std::uint64_t>(b) * trials + 1;
  for (std::size_t r = 0; r < trials; ++r) ++counts[splitmix64_at(seed, first + r) % trials];
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
  std::vector<CellLayout> layouts;
  for (const auto& c : cells) layouts.push_back(layout(c));
  ShiftScratch scratch;
  // Large comparisons (all runs) get a DifferenceGrid: where each run falls among the
  // baseline's at once, and thresholds for the medians once a few resamples have shown
  // where they fall.
  constexpr std::size_t kPilot = 24, kGridThresholds = 96, kGridFrom = 250000;
  std::vector<std::optional<DifferenceGrid>> grids(n_cells);
  for (std::size_t c = 0; c < n_cells; ++c)
    if (c != baseline && cells[c].value.size() * cells[baseline].value.size() >= kGridFrom)
      grids[c].emplace(layouts[c].value, layouts[baseline].value);
  // Which cells need their drawn runs as a weighted sample (comparisons without a grid).
  std::vector<bool> needs_sample(n_cells, false);
  for (std::size_t c = 0; c < n_cells; ++c)
    if (c != baseline && !grids[c]) needs_sample[c] = needs_sample[baseline] = true;
  ColumnWeights base_columns;
  for (std::size_t b = 0; b < B; ++b) {
    if (b == kPilot)
      for (std::size_t c = 0; c < n_cells; ++c)
        if (grids[c])
          grids[c]->set_thresholds(grid_thresholds(
              std::span<const double>(at(c, shift_all)).first(kPilot), sign, kGridThresholds));
    draw_trials(o.seed, b, trials, counts);
    for (std::size_t c = 0; c < n_cells; ++c)
      draw_cell(cells[c], layouts[c], counts, o.top_fraction, needs_sample[c], draws[c]);
    const auto& base = draws[baseline];
    base_columns.prepare(base.all_weights);
    for (std::size_t c = 0; c < n_cells; ++c) {
      const auto& d = draws[c];
      at(c, mean_all)[b] = d.mean_all;
      at(c, mean_top)[b] = d.mean_top;
      if (c == baseline) continue;
      const double hint_all = sign * shift_hint[c][0], hint_top = sign * shift_hint[c][1];
      if (grids[c]) {
        at(c, shift_all)[b] = sign * hodges_lehmann(*grids[c], d.all_weights, base.all_weights,
                                                    base_columns, hint_all, scale[c], &scratch);
        at(c, improve_all)[b] =
            probability_of_improvement(*grids[c], d.all_weights, base_columns, o.higher_is_better);
      } else {
        at(c, shift_all)[b] = sign * hodges_lehmann(d.all, base.all, hint_all, scale[c], &scratch);
        at(c, improve_all)[b] = probability_of_improvement(d.all, base.all, o.higher_is_better);
      }
      at(c, shift_top)[b] = sign * hodges_lehmann(d.top, base.top, hint_top, scale[c], &scratch);
      at(c, improve_top)[b] = probability_of_improvement(d.top, base.top, o.higher_is_better);
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
