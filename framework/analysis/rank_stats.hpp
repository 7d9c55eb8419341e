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
double hodges_lehmann(const WeightedSample& x, const WeightedSample& y, double hint = 0,
                      double scale = 1);

// P(X beats Y) + P(X = Y) / 2 for X drawn from x and Y from y (weights as above): "beats"
// is X < Y when lower is better, X > Y otherwise. NaN when either sample is empty.
double probability_of_improvement(const WeightedSample& x, const WeightedSample& y,
                                  bool higher_is_better);

}  // namespace cellzoo::analysis
