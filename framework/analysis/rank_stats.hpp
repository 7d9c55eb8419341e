// Rank statistics of the comparison: the Wilcoxon signed-rank test on paired differences
// (exactly scipy.stats.wilcoxon's defaults in SciPy 1.10, Debian 12), and the two-sample
// effect sizes on weighted samples (weights are how often a run appears in a bootstrap
// resample; 1 for the sample itself): the Hodges-Lehmann shift (median of all pairwise
// differences) and the probability of improvement. Values may be +-inf (runs that failed,
// under --diverged worst); NaN values are not allowed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace cellzoo::analysis {

struct WilcoxonTest {
  double statistic = 0;  // min(R+, R-), the sums of ranks of positive and negative differences
  double p = 0;          // two-sided p-value; NaN when there is no test (see `note`)
  bool exact = false;    // exact null distribution (else the normal approximation)
  std::string note;      // why p is NaN: "no pairs" or "all tied" (every difference is 0)
};

// scipy.stats.wilcoxon(d) with its defaults (zero_method="wilcox", correction=False,
// alternative="two-sided", method="auto") as SciPy 1.10.1 computes it:
// - n = len(d) <= 50 and no zero difference: exact. The null distribution of R+ is that
//   of distinct ranks even when |d| has ties; R+ (a sum of average ranks) is truncated to
//   an integer; p = min(1, 2 min(P(R+ <= r), P(R+ >= r))), and 1 at the centre.
// - otherwise: zeros are dropped, and z = (T - mu) / sigma with the tie-corrected
//   sigma^2 = (n'(n'+1)(2n'+1) - sum t(t^2-1)/2) / 24 over the n' non-zero differences;
//   p = 2 P(Z >= |z|). Every difference zero: scipy raises; here p is NaN ("all tied").
// Differences of two infinite (failed) runs are 0; infinite differences rank highest.
WilcoxonTest wilcoxon_signed_rank(std::span<const double> differences);

// The difference between one run of the cell and one of the baseline: x - y, and 0 when
// x == y (so two failed runs at the same infinity tie instead of giving NaN).
inline double run_difference(double x, double y) {
  return x == y ? 0.0 : x - y;
}

// A sample in ascending value order with a positive weight (multiplicity) per value.
struct WeightedSample {
  std::vector<double> values;   // ascending; may hold +-inf, never NaN
  std::vector<double> weights;  // positive integers stored as doubles
  double total() const;
  void clear() {
    values.clear();
    weights.clear();
  }
};

// The Hodges-Lehmann estimate of the shift between x and y: the median of the multiset of
// run_difference(x_i, y_j) over all pairs, pair (i, j) counted w_i * v_j times (numpy's
// median: the mean of the two middle values when their number is even). Exact, in
// O((m + n) log) time: a bracket on the value, narrowed by interpolation and bisection
// with weighted counts, then the few differences left in it are sorted. `hint` (any value
// near the answer, e.g. the estimate on the full sample) and `scale` (a positive step)
// only speed it up. NaN when either sample is empty.
// The weights of the y side of a median search, ready for counting: suffix[j] = the sum
// of the weights from column j on, and the nearest column of positive weight at or after
// (next) and before (prev, kNone if none) every column.
struct ColumnWeights {
  static constexpr std::uint32_t kNone = 0xffffffffu;
  std::vector<double> suffix;
  std::vector<std::uint32_t> next, prev;
  void prepare(std::span<const double> weights);
};

// Memory hodges_lehmann reuses between calls (the bootstrap makes thousands of them).
struct ShiftScratch {
  ColumnWeights columns;
  std::vector<std::uint32_t> first_lo, first_hi, probe, active;
  std::vector<std::pair<double, double>> strip;
  std::vector<double> grid_counts;
};

double hodges_lehmann(const WeightedSample& x, const WeightedSample& y, double hint = 0,
                      double scale = 1, ShiftScratch* scratch = nullptr);

// Two samples whose values stay fixed while their weights change (the bootstrap's
// resamples of one comparison over all runs), with what does not depend on the weights
// computed once: where every x_i falls among the y, and for each threshold of an
// ascending grid the first column j of every row i with run_difference(x_i, y_j) <= it.
// A median over the grid starts its search from the two thresholds around it, found with
// a few weighted sums instead of passes over the differences; outside the grid it
// searches as the plain hodges_lehmann.
class DifferenceGrid {
 public:
  DifferenceGrid(std::vector<double> x, std::vector<double> y);  // both ascending
  void set_thresholds(std::vector<double> thresholds);           // ascending
  std::span<const double> x() const { return x_; }
  std::span<const double> y() const { return y_; }
  const std::vector<double>& thresholds() const { return thresholds_; }
  std::span<const std::uint32_t> first(std::size_t g) const {
    return std::span<const std::uint32_t>(first_).subspan(g * x_.size(), x_.size());
  }
  // Per threshold: how many differences (unweighted) are <= it.
  const std::vector<double>& plain_counts() const { return plain_; }
  std::span<const std::uint32_t> at_least() const { return at_least_; }  // first y_j >= x_i
  std::span<const std::uint32_t> above() const { return above_; }        // first y_j > x_i

 private:
  std::vector<double> x_, y_, thresholds_;
  std::vector<std::uint32_t> first_;  // thresholds x rows
  std::vector<double> plain_;
  std::vector<std::uint32_t> at_least_, above_;
};

// hodges_lehmann and probability_of_improvement of the grid's samples with weights wx and
// wy (zeros allowed; y_weights prepared from wy), exactly as on the weighted samples.
double hodges_lehmann(const DifferenceGrid& grid, std::span<const double> wx,
                      std::span<const double> wy, const ColumnWeights& y_weights, double hint = 0,
                      double scale = 1, ShiftScratch* scratch = nullptr);
double probability_of_improvement(const DifferenceGrid& grid, std::span<const double> wx,
                                  const ColumnWeights& y_weights, bool higher_is_better);

// P(X beats Y) + P(X = Y) / 2 for X drawn from x and Y from y (weights as above): "beats"
// is X < Y when lower is better, X > Y otherwise. NaN when either sample is empty.
double probability_of_improvement(const WeightedSample& x, const WeightedSample& y,
                                  bool higher_is_better);

}  // namespace cellzoo::analysis
