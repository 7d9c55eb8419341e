// The comparison table: Greff et al. 2015's protocol (Fig. 3: for every cell, summaries of
// the metric over all usable runs and over the top fraction chosen by validation score,
// Welch's t-test of each against the baseline cell, raw at alpha) and what random-search
// comparisons need besides (docs/analysis.md, "Which number to read"): Holm per table and
// over the whole report, the power of each Welch test, the paired Wilcoxon signed-rank
// test over the trials both cells ran, the Hodges-Lehmann shift and the probability of
// improvement with bootstrap intervals, and the expected best-of-k. Works on plain
// records so that it can be tested without files; report.hpp feeds it from a results file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/analysis/bootstrap.hpp"
#include "framework/analysis/expected_max.hpp"
#include "framework/analysis/rank_stats.hpp"
#include "framework/analysis/stats.hpp"

namespace cellzoo::analysis {

// One run as the comparison sees it.
struct RunRecord {
  std::string cell;
  std::string status;      // ok, diverged, failed, timeout
  double value = 0;        // the metric being compared (may be NaN)
  double valid_score = 0;  // the validation score that ranks runs for the top fraction
  double n_params = 0;
  std::int64_t run_id = 0;  // breaks ties in the ranking
  // The pairing: runs of different cells with the same task and trial had the same
  // hyperparameters (random search: trial i; grid: grid point and repeat).
  std::int64_t trial = 0;
  std::string task;
};

// What happens to runs that diverged or failed (--diverged).
enum class Diverged {
  exclude,  // left out, as in Greff et al. (the counts show them)
  worst,    // kept, ranked below every finite score in the rank statistics
};

struct CompareOptions {
  std::string baseline = "lstm";
  double top_fraction = 0.1;
  double alpha = 0.05;
  bool higher_is_better = false;        // direction of `value`
  bool valid_higher_is_better = false;  // direction of `valid_score`
  bool include_timeout = false;         // let status "timeout" runs into the statistics
  Diverged diverged = Diverged::exclude;
  double power = 0.8;            // for the minimal detectable difference
  std::size_t bootstrap = 1000;  // resamples for the intervals (0: none)
  std::uint64_t bootstrap_seed = 0;
  // A baseline without runs is an error, except in a slice of a report (--by) whose file
  // has the baseline elsewhere: then the slice says so and has no tests.
  bool baseline_may_be_missing = false;
};

struct StatusCounts {
  std::size_t ok = 0, diverged = 0, failed = 0, timeout = 0, other = 0;
  std::size_t total() const { return ok + diverged + failed + timeout + other; }
};

// One side (all runs or the top fraction) of a cell's row. Under --diverged worst the
// group holds failed runs too (`failed` of them, valued +-inf, the worst end): the
// quantiles, best, shift and p_improve count them; mean, std, mean_ci, the Welch test and
// the MDE are over the runs with a finite score (summary.n - failed of them).
struct GroupResult {
  Summary summary;
  std::size_t failed = 0;
  double mean_params = 0;         // NaN when empty
  Interval mean_ci;               // bootstrap, 95 %
  WelchTest test;                 // against the baseline's same group; NaN for the baseline
  double p_holm = 0;              // Holm over the cells compared (this group); NaN for baseline
  double p_holm_family = 0;       // Holm over every test of the report
  bool significant = false;       // p < alpha
  bool significant_holm = false;  // p_holm < alpha
  std::string direction;          // "better", "worse" or "same" (mean vs baseline); "" for baseline
  double mde = 0;                 // minimal detectable difference of the Welch test (metric units)
  bool underpowered = false;      // p >= alpha and |mean difference| < mde
  double shift = 0;               // Hodges-Lehmann, > 0: better than the baseline
  Interval shift_ci;
  double p_improve = 0;  // P(a run of this cell beats a run of the baseline) + ties / 2
  Interval p_improve_ci;
  std::size_t finite() const { return summary.n - failed; }
};

// The paired test over all runs (trials both the cell and the baseline have in the sample).
struct PairedResult {
  std::size_t n_pairs = 0;
  WilcoxonTest test;
  double p_holm = 0, p_holm_family = 0;  // as GroupResult's
};

struct CellResult {
  std::string cell;
  bool is_baseline = false;
  StatusCounts counts;
  std::size_t used = 0;  // runs in the statistics (usable status and finite value; under
                         // --diverged worst also the diverged and failed ones)
  GroupResult all, top;
  PairedResult paired;
  ExpectedMax expected_max;  // over the runs with a finite score, k = 1..their number
};

struct Comparison {
  CompareOptions options;
  std::vector<CellResult> cells;  // baseline first, then by top-fraction mean, best first
  std::size_t trials = 0;         // distinct (task, trial) keys: the bootstrap's units
  std::string note;               // why there are no tests ("" when there are)
};

// Builds the table; p_holm_family is Holm over this comparison's tests (holm_over_family
// widens it to several). Throws cellzoo::Error when the baseline has no runs in `runs`
// (the message lists the cells present) unless baseline_may_be_missing.
Comparison compare_cells(const std::vector<RunRecord>& runs, const CompareOptions& options);

// Holm over every test of `comparisons` (Welch on all runs and on the top fraction, the
// paired test; every cell and every slice): sets each p_holm_family. Returns the number
// of tests.
std::size_t holm_over_family(std::vector<Comparison*> comparisons);

}  // namespace cellzoo::analysis
