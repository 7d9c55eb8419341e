// Expected best-of-k (see expected_max.hpp).
#include "framework/analysis/expected_max.hpp"

#include <algorithm>
#include <cmath>

namespace cellzoo::analysis {

ExpectedMax expected_best_of_k(std::span<const double> scores_best_first) {
  const std::size_t n = scores_best_first.size();
  ExpectedMax out;
  out.mean.reserve(n);
  out.std.reserve(n);
  // power[i] = (i / n)^k for rank i = 0..n from the worst, updated by one factor per k.
  // Ranks whose power has fallen below 1e-20 weigh nothing any more and are skipped: for
  // large k only the best runs matter, which keeps k = 1..n at about 40 n log n steps.
  std::vector<double> ratio(n + 1), power(n + 1, 1.0), weight(n + 1);
  for (std::size_t i = 0; i <= n; ++i) ratio[i] = static_cast<double>(i) / static_cast<double>(n);
  const auto score = [&](std::size_t i) { return scores_best_first[n - i]; };  // rank i >= 1
  std::size_t first = 1;  // the lowest rank still counted
  for (std::size_t k = 1; k <= n; ++k) {
    for (std::size_t i = first - 1; i <= n; ++i) power[i] *= ratio[i];
    while (first < n && power[first] < 1e-20) ++first;
    double mean = 0;
    for (std::size_t i = first; i <= n; ++i) {
      weight[i] = power[i] - (i == first ? 0.0 : power[i - 1]);
      mean += weight[i] * score(i);
    }
    double var = 0;
    for (std::size_t i = first; i <= n; ++i)
      var += weight[i] * (score(i) - mean) * (score(i) - mean);
    out.mean.push_back(mean);
    out.std.push_back(std::sqrt(std::max(0.0, var)));
  }
  return out;
}

}  // namespace cellzoo::analysis
