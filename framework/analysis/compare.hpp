// The Greff-style comparison table (Greff et al. 2015, Fig. 3): for every cell, summaries
// of the chosen metric over all usable runs and over the top fraction chosen by
// validation score, and Welch's t-test of each against the baseline cell, raw at alpha
// (the paper) and Holm-corrected over the cells compared (our addition). Works on plain
// records so that it can be tested without files; report.hpp feeds it from a results file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
};

struct CompareOptions {
  std::string baseline = "lstm";
  double top_fraction = 0.1;
  double alpha = 0.05;
  bool higher_is_better = false;        // direction of `value`
  bool valid_higher_is_better = false;  // direction of `valid_score`
  bool include_timeout = false;         // let status "timeout" runs into the statistics
};

struct StatusCounts {
  std::size_t ok = 0, diverged = 0, failed = 0, timeout = 0, other = 0;
  std::size_t total() const { return ok + diverged + failed + timeout + other; }
};

// One side (all runs or the top fraction) of a cell's row.
struct GroupResult {
  Summary summary;
  double mean_params = 0;         // NaN when empty
  WelchTest test;                 // against the baseline's same group; NaN for the baseline
  double p_holm = 0;              // Holm-adjusted p over the cells compared; NaN for the baseline
  bool significant = false;       // p < alpha
  bool significant_holm = false;  // p_holm < alpha
  std::string direction;          // "better", "worse" or "same" (mean vs baseline); "" for baseline
};

struct CellResult {
  std::string cell;
  bool is_baseline = false;
  StatusCounts counts;
  std::size_t used = 0;  // runs that entered the statistics (usable status, finite value)
  GroupResult all, top;
};

struct Comparison {
  CompareOptions options;
  std::vector<CellResult> cells;  // baseline first, then by top-fraction mean, best first
};

// Builds the table. Throws cellzoo::Error when the baseline has no runs in `runs` (the
// message lists the cells present) or has no usable runs.
Comparison compare_cells(const std::vector<RunRecord>& runs, const CompareOptions& options);

}  // namespace cellzoo::analysis
