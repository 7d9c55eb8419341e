// The comparison table (see compare.hpp). compare_cells runs the steps in the order a
// reader would: choose each cell's runs, rank them by validation, summarize both groups,
// order the cells, then the tests, the effect sizes with their intervals, and the
// expected best-of-k.
#include "framework/analysis/compare.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <utility>

#include "framework/util/error.hpp"

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A cell's runs in the statistics, best validation score first.
struct CellRuns {
  StatusCounts counts;
  std::vector<const RunRecord*> sample;
  std::vector<double> values;  // per sample run: the metric, or the worst infinity
  std::size_t top = 0;         // the first `top` runs of `sample` form the top fraction
};

// Step 1: count statuses and choose the runs that enter the statistics. Under
// --diverged worst, a run without a finite score (diverged, failed, or a usable status
// with a NaN metric) enters at the worst end, with no validation score.
std::map<std::string, CellRuns> collect_cells(const std::vector<RunRecord>& runs,
                                              const CompareOptions& o) {
  std::map<std::string, CellRuns> by_cell;
  const bool worst = o.diverged == Diverged::worst;
  for (const auto& r : runs) {
    auto& c = by_cell[r.cell];
    if (r.status == "ok")
      ++c.counts.ok;
    else if (r.status == "diverged")
      ++c.counts.diverged;
    else if (r.status == "failed")
      ++c.counts.failed;
    else if (r.status == "timeout")
      ++c.counts.timeout;
    else
      ++c.counts.other;
    const bool usable_status = r.status == "ok" || (o.include_timeout && r.status == "timeout");
    const bool failure = r.status == "diverged" || r.status == "failed";
    if ((usable_status && std::isfinite(r.value)) || (worst && (usable_status || failure)))
      c.sample.push_back(&r);
  }
  return by_cell;
}

bool has_score(const RunRecord& r, const CompareOptions& o) {
  const bool usable_status = r.status == "ok" || (o.include_timeout && r.status == "timeout");
  return usable_status && std::isfinite(r.value);
}

// Step 2: best validation score first; runs without a score (NaN, or failed under
// worst) last; ties by run_id so the order is total.
void rank_by_validation(CellRuns& c, const CompareOptions& o) {
  const auto key = [&](const RunRecord* r) { return has_score(*r, o) ? r->valid_score : kNaN; };
  std::sort(c.sample.begin(), c.sample.end(), [&](const RunRecord* a, const RunRecord* b) {
    const double va = key(a), vb = key(b);
    const bool na = std::isnan(va), nb = std::isnan(vb);
    if (na != nb) return nb;
    if (!na && va != vb) return o.valid_higher_is_better ? va > vb : va < vb;
    return a->run_id < b->run_id;
  });
  const double worst = o.higher_is_better ? -kInf : kInf;
  c.values.clear();
  for (const auto* r : c.sample) c.values.push_back(has_score(*r, o) ? r->value : worst);
  c.top = top_count(c.sample.size(), o.top_fraction);
}

std::vector<double> finite_values(std::span<const double> values) {
  std::vector<double> out;
  for (double v : values)
    if (std::isfinite(v)) out.push_back(v);
  return out;
}

// Step 3: the summaries of one group: mean and std over the finite values, quantiles
// and best over all (failed runs at the worst end).
void summarize_group(GroupResult& g, std::span<const double> values,
                     std::span<const RunRecord* const> runs, bool higher_is_better) {
  const auto finite = finite_values(values);
  const Summary over_finite = summarize(finite, higher_is_better);
  g.summary = summarize(values, higher_is_better);
  g.summary.mean = over_finite.mean;
  g.summary.std = over_finite.std;
  g.failed = values.size() - finite.size();
  g.mean_params = kNaN;
  if (!runs.empty()) {
    double s = 0;
    for (const auto* r : runs) s += r->n_params;
    g.mean_params = s / static_cast<double>(runs.size());
  }
}

// Means equal up to rounding count as equal, so that the order of summation (which differs
// between this code and numpy) cannot flip a direction or the sort order.
bool nearly_equal(double a, double b) {
  return std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b));
}

std::string direction(double mean, double base_mean, bool higher_is_better) {
  if (std::isnan(mean) || std::isnan(base_mean)) return "";
  if (nearly_equal(mean, base_mean)) return "same";
  return (mean > base_mean) == higher_is_better ? "better" : "worse";
}

// Step 4: baseline first, then by mean of the top fraction, best first (the paper's
// figure); equal means (up to rounding) and cells without usable runs by name, the
// latter last.
void order_cells(std::vector<CellResult>& cells, bool higher_is_better) {
  std::stable_sort(cells.begin(), cells.end(), [&](const CellResult& a, const CellResult& b) {
    if (a.is_baseline != b.is_baseline) return a.is_baseline;
    const double ma = a.top.summary.mean, mb = b.top.summary.mean;
    const bool na = std::isnan(ma), nb = std::isnan(mb);
    if (na != nb) return nb;
    if (!na && !nearly_equal(ma, mb)) return higher_is_better ? ma > mb : ma < mb;
    return a.cell < b.cell;
  });
}

// The values of one group of a cell: all its sample, or the top fraction.
std::span<const double> group_values(const CellRuns& c, bool top) {
  return std::span<const double>(c.values).first(top ? c.top : c.values.size());
}

// Step 5: Welch's test of each cell's group against the baseline's (from 3 runs a
// side), its minimal detectable difference, and Holm over the cells.
void welch_tests(std::vector<CellResult>& cells, GroupResult CellResult::*group,
                 const std::map<std::string, CellRuns>& by_cell, const CellRuns* base, bool top,
                 const CompareOptions& o) {
  const auto base_finite = base ? finite_values(group_values(*base, top)) : std::vector<double>{};
  std::vector<double> p;
  for (auto& c : cells) {
    auto& g = c.*group;
    g.test = WelchTest{kNaN, kNaN, kNaN};
    g.mde = kNaN;
    g.underpowered = false;
    const auto finite = finite_values(group_values(by_cell.at(c.cell), top));
    if (!c.is_baseline && base && finite.size() >= kMinWelchRuns &&
        base_finite.size() >= kMinWelchRuns) {
      g.test = welch_t_test(finite, base_finite);
      const auto n1 = static_cast<double>(finite.size());
      const auto n2 = static_cast<double>(base_finite.size());
      g.mde = minimal_detectable_effect(n1, n2, o.alpha, o.power) * pooled_std(finite, base_finite);
      g.underpowered =
          !(g.test.p < o.alpha) && std::fabs(mean_of(finite) - mean_of(base_finite)) < g.mde;
    }
    p.push_back(g.test.p);
  }
  const auto adjusted = holm_adjust(p);
  const double base_mean = base ? ((cells.front()).*group).summary.mean : kNaN;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    auto& g = cells[i].*group;
    g.p_holm = adjusted[i];
    g.significant = g.test.p < o.alpha;  // false for NaN
    g.significant_holm = g.p_holm < o.alpha;
    g.direction =
        cells[i].is_baseline ? "" : direction(g.summary.mean, base_mean, o.higher_is_better);
  }
}

// The value of each trial key a cell ran (NaN where it has none; the lowest run id when
// it has several).
std::vector<double> values_by_trial(const CellRuns& c, const std::vector<std::uint32_t>& key_of,
                                    std::size_t trials, const std::vector<RunRecord>& runs) {
  std::vector<double> out(trials, kNaN);
  std::vector<std::int64_t> id(trials, std::numeric_limits<std::int64_t>::max());
  for (std::size_t i = 0; i < c.sample.size(); ++i) {
    const auto* r = c.sample[i];
    const auto k = key_of[static_cast<std::size_t>(r - runs.data())];
    if (r->run_id < id[k]) {
      id[k] = r->run_id;
      out[k] = c.values[i];
    }
  }
  return out;
}

// Step 6: the Wilcoxon signed-rank test over the trials both the cell and the baseline
// have in their samples, and Holm over the cells.
void paired_tests(std::vector<CellResult>& cells, const std::map<std::string, CellRuns>& by_cell,
                  const CellRuns* base, const std::vector<std::uint32_t>& key_of,
                  std::size_t trials, const std::vector<RunRecord>& runs) {
  std::vector<double> p;
  const auto base_by_trial =
      base ? values_by_trial(*base, key_of, trials, runs) : std::vector<double>{};
  for (auto& c : cells) {
    c.paired = PairedResult{};
    c.paired.test.statistic = c.paired.test.p = kNaN;
    if (!c.is_baseline && base) {
      const auto mine = values_by_trial(by_cell.at(c.cell), key_of, trials, runs);
      std::vector<double> d;
      for (std::size_t k = 0; k < trials; ++k)
        if (!std::isnan(mine[k]) && !std::isnan(base_by_trial[k]))
          d.push_back(run_difference(mine[k], base_by_trial[k]));
      c.paired.n_pairs = d.size();
      c.paired.test = wilcoxon_signed_rank(d);
    }
    p.push_back(c.paired.test.p);
  }
  const auto adjusted = holm_adjust(p);
  for (std::size_t i = 0; i < cells.size(); ++i) cells[i].paired.p_holm = adjusted[i];
}

WeightedSample unit_weights(std::span<const double> values) {
  WeightedSample s;
  s.values.assign(values.begin(), values.end());
  std::sort(s.values.begin(), s.values.end());
  s.weights.assign(s.values.size(), 1.0);
  return s;
}

// The median difference of the medians: a cheap starting point for the shift's search.
double median_gap(const WeightedSample& x, const WeightedSample& y) {
  const auto fx = finite_values(x.values), fy = finite_values(y.values);
  return quantile_sorted(fx, 0.5) - quantile_sorted(fy, 0.5);
}

// Step 7: the shift and the probability of improvement on the samples, and the bootstrap
// intervals of them and of the means.
void effect_sizes(std::vector<CellResult>& cells, const std::map<std::string, CellRuns>& by_cell,
                  const CellRuns* base, const std::vector<std::uint32_t>& key_of,
                  std::size_t trials, const std::vector<RunRecord>& runs, const CompareOptions& o) {
  const double sign = o.higher_is_better ? 1 : -1;
  std::vector<CellSample> samples;
  std::vector<std::array<double, 2>> hints;
  std::size_t baseline = 0;
  for (auto& c : cells) {
    const auto& mine = by_cell.at(c.cell);
    for (auto* g : {&c.all, &c.top}) {
      g->shift = g->p_improve = kNaN;
      g->shift_ci = g->p_improve_ci = g->mean_ci = Interval{};
    }
    if (base && !c.is_baseline) {
      for (const bool top : {false, true}) {
        auto& g = top ? c.top : c.all;
        const auto x = unit_weights(group_values(mine, top));
        const auto y = unit_weights(group_values(*base, top));
        g.shift = sign * hodges_lehmann(x, y, median_gap(x, y), 1.0);
        g.p_improve = probability_of_improvement(x, y, o.higher_is_better);
      }
    }
    if (c.is_baseline) baseline = samples.size();
    CellSample s;
    s.value = mine.values;
    for (const auto* r : mine.sample)
      s.trial.push_back(key_of[static_cast<std::size_t>(r - runs.data())]);
    s.by_validation.resize(s.value.size());
    std::iota(s.by_validation.begin(), s.by_validation.end(), 0u);
    s.by_value = s.by_validation;
    std::stable_sort(s.by_value.begin(), s.by_value.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return s.value[a] < s.value[b]; });
    samples.push_back(std::move(s));
    hints.push_back({c.all.shift, c.top.shift});
  }
  if (!base || o.bootstrap == 0) return;
  BootstrapOptions bo;
  bo.resamples = o.bootstrap;
  bo.seed = o.bootstrap_seed;
  bo.top_fraction = o.top_fraction;
  bo.higher_is_better = o.higher_is_better;
  const auto intervals = bootstrap_intervals(samples, baseline, trials, hints, bo);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    cells[i].all.mean_ci = intervals[i].all.mean;
    cells[i].top.mean_ci = intervals[i].top.mean;
    cells[i].all.shift_ci = intervals[i].all.shift;
    cells[i].top.shift_ci = intervals[i].top.shift;
    cells[i].all.p_improve_ci = intervals[i].all.p_improve;
    cells[i].top.p_improve_ci = intervals[i].top.p_improve;
  }
}

// The trial key (task, trial) of every run, as an index into the sorted distinct keys.
std::vector<std::uint32_t> trial_keys(const std::vector<RunRecord>& runs, std::size_t& count) {
  std::map<std::pair<std::string, std::int64_t>, std::uint32_t> index;
  for (const auto& r : runs) index.emplace(std::pair{r.task, r.trial}, 0);
  std::uint32_t next = 0;
  for (auto& [key, i] : index) i = next++;
  std::vector<std::uint32_t> out;
  out.reserve(runs.size());
  for (const auto& r : runs) out.push_back(index.at({r.task, r.trial}));
  count = index.size();
  return out;
}

}  // namespace

Comparison compare_cells(const std::vector<RunRecord>& runs, const CompareOptions& options) {
  if (!(options.top_fraction > 0 && options.top_fraction <= 1))
    throw Error("top fraction " + std::to_string(options.top_fraction) + " is not in (0, 1]",
                "pass e.g. --top-fraction 0.1 for the best 10% of runs");
  auto by_cell = collect_cells(runs, options);
  if (!by_cell.count(options.baseline) && !options.baseline_may_be_missing) {
    std::string present;
    for (const auto& [name, c] : by_cell) present += (present.empty() ? "" : ", ") + name;
    throw Error("baseline cell '" + options.baseline + "' has no runs in this file (cells: " +
                    (present.empty() ? "none" : present) + ")",
                "choose the baseline with --baseline CELL");
  }

  Comparison out;
  out.options = options;
  for (auto& [name, c] : by_cell) {
    rank_by_validation(c, options);
    CellResult cell;
    cell.cell = name;
    cell.is_baseline = name == options.baseline;
    cell.counts = c.counts;
    cell.used = c.sample.size();
    const std::span<const RunRecord* const> sample(c.sample);
    summarize_group(cell.all, c.values, sample, options.higher_is_better);
    summarize_group(cell.top, group_values(c, true), sample.first(c.top), options.higher_is_better);
    std::vector<double> scores;  // finite scores in validation order (failed runs are last)
    for (double v : c.values)
      if (std::isfinite(v)) scores.push_back(v);
    cell.expected_max = expected_best_of_k(scores);
    out.cells.push_back(std::move(cell));
  }
  order_cells(out.cells, options.higher_is_better);

  const auto it = by_cell.find(options.baseline);
  const CellRuns* base = it == by_cell.end() || it->second.sample.empty() ? nullptr : &it->second;
  if (it == by_cell.end()) {
    out.note = "baseline " + options.baseline + " has no runs here: no tests";
  } else if (!base) {
    const auto& k = it->second.counts;
    out.note = "baseline " + options.baseline + " has no usable runs (" +
               std::to_string(k.total()) + " runs: " + std::to_string(k.ok) + " ok, " +
               std::to_string(k.diverged) + " diverged, " + std::to_string(k.failed) + " failed, " +
               std::to_string(k.timeout) + " timed out): no tests";
  }
  const auto key_of = trial_keys(runs, out.trials);
  welch_tests(out.cells, &CellResult::all, by_cell, base, false, options);
  welch_tests(out.cells, &CellResult::top, by_cell, base, true, options);
  paired_tests(out.cells, by_cell, base, key_of, out.trials, runs);
  effect_sizes(out.cells, by_cell, base, key_of, out.trials, runs, options);
  holm_over_family({&out});
  return out;
}

std::size_t holm_over_family(std::vector<Comparison*> comparisons) {
  std::vector<double*> slots;
  std::vector<double> p;
  for (auto* c : comparisons)
    for (auto& cell : c->cells)
      for (auto [value, adjusted] : {std::pair{cell.all.test.p, &cell.all.p_holm_family},
                                     std::pair{cell.top.test.p, &cell.top.p_holm_family},
                                     std::pair{cell.paired.test.p, &cell.paired.p_holm_family}}) {
        slots.push_back(adjusted);
        p.push_back(value);
      }
  const auto adjusted = holm_adjust(p);
  std::size_t tests = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    *slots[i] = adjusted[i];
    tests += std::isnan(p[i]) ? 0u : 1u;
  }
  return tests;
}

}  // namespace cellzoo::analysis
