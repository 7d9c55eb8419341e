// The comparison table (see compare.hpp).
#include "framework/analysis/compare.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "framework/util/error.hpp"

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct CellRuns {
  StatusCounts counts;
  std::vector<const RunRecord*> usable;
  std::vector<double> all_values, top_values;
  double all_params = kNaN, top_params = kNaN;
};

double mean_params(const std::vector<const RunRecord*>& runs) {
  if (runs.empty()) return kNaN;
  double s = 0;
  for (const auto* r : runs) s += r->n_params;
  return s / static_cast<double>(runs.size());
}

// Best validation score first; NaN scores last; ties by run_id so the order is total.
void rank_by_validation(std::vector<const RunRecord*>& runs, bool higher_is_better) {
  std::sort(runs.begin(), runs.end(), [&](const RunRecord* a, const RunRecord* b) {
    const bool na = std::isnan(a->valid_score), nb = std::isnan(b->valid_score);
    if (na != nb) return nb;
    if (!na && a->valid_score != b->valid_score)
      return higher_is_better ? a->valid_score > b->valid_score : a->valid_score < b->valid_score;
    return a->run_id < b->run_id;
  });
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

void fill_tests(std::vector<CellResult>& cells, GroupResult CellResult::*group,
                const std::vector<double>& baseline_values,
                const std::map<std::string, CellRuns>& by_cell, bool top, const CompareOptions& o) {
  std::vector<double> p;
  for (auto& c : cells) {
    auto& g = c.*group;
    if (c.is_baseline) {
      g.test = WelchTest{kNaN, kNaN, kNaN};
      p.push_back(kNaN);
      continue;
    }
    const auto& runs = by_cell.at(c.cell);
    g.test = welch_t_test(top ? runs.top_values : runs.all_values, baseline_values);
    p.push_back(g.test.p);
  }
  const auto adjusted = holm_adjust(p);
  const double base_mean = ((cells.front()).*group).summary.mean;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    auto& g = cells[i].*group;
    g.p_holm = adjusted[i];
    g.significant = g.test.p < o.alpha;  // false for NaN
    g.significant_holm = g.p_holm < o.alpha;
    g.direction =
        cells[i].is_baseline ? "" : direction(g.summary.mean, base_mean, o.higher_is_better);
  }
}

}  // namespace

Comparison compare_cells(const std::vector<RunRecord>& runs, const CompareOptions& options) {
  if (!(options.top_fraction > 0 && options.top_fraction <= 1))
    throw Error("top fraction " + std::to_string(options.top_fraction) + " is not in (0, 1]",
                "pass e.g. --top-fraction 0.1 for the best 10% of runs");
  std::map<std::string, CellRuns> by_cell;
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
    const bool usable_status =
        r.status == "ok" || (options.include_timeout && r.status == "timeout");
    if (usable_status && std::isfinite(r.value)) c.usable.push_back(&r);
  }
  if (!by_cell.count(options.baseline)) {
    std::string present;
    for (const auto& [name, c] : by_cell) present += (present.empty() ? "" : ", ") + name;
    throw Error("baseline cell '" + options.baseline + "' has no runs in this file (cells: " +
                    (present.empty() ? "none" : present) + ")",
                "choose the baseline with --baseline CELL");
  }

  Comparison out;
  out.options = options;
  for (auto& [name, c] : by_cell) {
    rank_by_validation(c.usable, options.valid_higher_is_better);
    const std::vector<const RunRecord*> top(
        c.usable.begin(), c.usable.begin() + static_cast<std::ptrdiff_t>(
                                                 top_count(c.usable.size(), options.top_fraction)));
    for (const auto* r : c.usable) c.all_values.push_back(r->value);
    for (const auto* r : top) c.top_values.push_back(r->value);

    CellResult cell;
    cell.cell = name;
    cell.is_baseline = name == options.baseline;
    cell.counts = c.counts;
    cell.used = c.usable.size();
    cell.all.summary = summarize(c.all_values, options.higher_is_better);
    cell.all.mean_params = mean_params(c.usable);
    cell.top.summary = summarize(c.top_values, options.higher_is_better);
    cell.top.mean_params = mean_params(top);
    out.cells.push_back(std::move(cell));
  }
  const auto& base = by_cell.at(options.baseline);
  if (base.usable.empty())
    throw Error("baseline cell '" + options.baseline + "' has no usable runs (" +
                    std::to_string(base.counts.total()) + " runs, " +
                    std::to_string(base.counts.ok) + " ok with a finite value)",
                "choose another baseline with --baseline CELL, or check why its runs failed");

  // Baseline first, then by mean of the top fraction, best first (the paper's figure);
  // equal means (up to rounding) and cells without usable runs by name, the latter last.
  const bool hib = options.higher_is_better;
  std::stable_sort(out.cells.begin(), out.cells.end(),
                   [&](const CellResult& a, const CellResult& b) {
                     if (a.is_baseline != b.is_baseline) return a.is_baseline;
                     const double ma = a.top.summary.mean, mb = b.top.summary.mean;
                     const bool na = std::isnan(ma), nb = std::isnan(mb);
                     if (na != nb) return nb;
                     if (!na && !nearly_equal(ma, mb)) return hib ? ma > mb : ma < mb;
                     return a.cell < b.cell;
                   });
  fill_tests(out.cells, &CellResult::all, base.all_values, by_cell, false, options);
  fill_tests(out.cells, &CellResult::top, base.top_values, by_cell, true, options);
  return out;
}

}  // namespace cellzoo::analysis
