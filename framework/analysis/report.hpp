// `cellzoo report`: reads a results file through store::ResultsReader, picks the metric
// column, builds the comparison (compare.hpp) and writes it as a text table (80 columns;
// --details adds the rest), CSV or JSON. The same numbers come out of
// scripts/cellzoo_analysis' compare() (docs/analysis.md).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "framework/analysis/compare.hpp"
#include "framework/store/results_file.hpp"

namespace cellzoo::analysis {

struct ReportOptions {
  // test_metric (the file's task metric on test), test_loss, valid_metric, valid_loss, or
  // any numeric column of /runs (train_loss, wall_seconds, epochs, n_params, a numeric
  // hyperparameter...).
  std::string metric = "test_metric";
  std::string baseline;  // "" = lstm, which must then be present
  double top_fraction = 0.1;
  double alpha = 0.05;
  bool include_timeout = false;
  Diverged diverged = Diverged::exclude;
  std::size_t bootstrap = 1000;  // resamples for the 95 % intervals (0: none)
  std::uint64_t bootstrap_seed = 0;
  // Only runs whose hyperparameter column NAME holds VALUE (numbers compare as numbers):
  // one slice of a sweep that searched e.g. task.length.
  std::vector<std::pair<std::string, std::string>> where;
};

struct Report {
  std::string path;
  store::FileMeta meta;
  std::string metric;
  std::string ranked_by;          // validation column choosing the top fraction
  std::size_t rows = 0;           // runs in the file
  std::int64_t missing_runs = 0;  // total_runs - rows, at least 0 (0 when filtered)
  std::vector<std::pair<std::string, std::string>> where;  // the filter (ReportOptions)
  Comparison comparison;
  std::size_t family_tests = 0;  // tests Holm's family-wise correction ran over
  // Without --baseline and without lstm runs, the baseline is the spec's first listed cell
  // that has runs; this says so ("" otherwise).
  std::string baseline_note;
};

// The direction of `metric` and the validation column that ranks runs for it:
// *_metric follow the file's metric_higher_is_better; losses and every other column are
// lower-is-better; test/valid_loss rank by valid_loss, everything else by valid_metric.
struct MetricChoice {
  bool higher_is_better = false;
  std::string ranked_by;
  bool ranked_higher_is_better = false;
};
MetricChoice choose_metric(const std::string& metric, const store::FileMeta& meta);

// Builds the report from rows already read (testable without a file).
Report build_report(const std::string& path, const store::FileMeta& meta,
                    const std::vector<store::HyperColumn>& hyper,
                    const std::vector<store::RunRow>& runs, const ReportOptions& options);
// Reads `path` with store::ResultsReader and builds the report.
Report build_report(const std::string& path, const ReportOptions& options);

// Holm over every test of `reports` (the slices of one `report --by` output): sets
// p_holm_family and family_tests. build_report already does it for one report.
void correct_family(std::vector<Report>& reports);

// The distinct values of hyperparameter column `name` among `runs`, numbers in ascending
// numeric order, texts sorted (for `cellzoo report --by NAME`). Throws cellzoo::Error
// naming the columns when `name` is not one.
std::vector<std::string> distinct_values(const std::string& path,
                                         const std::vector<store::HyperColumn>& hyper,
                                         const std::vector<store::RunRow>& runs,
                                         const std::string& name);

// The k of the expected best-of-k that the table and CSV show (besides n; JSON has all).
inline constexpr std::size_t kShownBestOfK[] = {1, 5, 10, 20, 50};

// One line on missing runs ("" if none): rows vs the total_runs attribute.
std::string missing_note(const Report& report);

// The table: run counts, then per group (all runs, top fraction) the Welch p with its
// family-wise Holm, the paired p and the shift with its interval, in 80 columns;
// `details` adds summaries, every test statistic, p_improve and the expected best-of-k.
void write_table(std::ostream& out, const Report& report, bool details = false);
// One row per cell after a header; with `with_header` false only the rows (the groups of
// --by after the first). Columns for the --where filter come first.
void write_csv(std::ostream& out, const Report& report, bool with_header = true);
void write_json(std::ostream& out, const Report& report);  // NaN as null

}  // namespace cellzoo::analysis
