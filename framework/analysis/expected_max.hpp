// Expected best-of-k (Dodge et al. 2019, "Show Your Work", expected validation performance):
// with a budget of k trials drawn at random from a cell's runs, which test score does the
// run with the best validation score among them have, on average?
//
// With the n runs ranked by validation score, worst first (rank i = 1..n), the best of k
// draws with replacement is the run of rank i with probability (i/n)^k - ((i-1)/n)^k, so
//   E_k = sum_i [(i/n)^k - ((i-1)/n)^k] s_i   and   Var_k = sum_i [...] (s_i - E_k)^2
// over the runs' test scores s_i (Dodge et al.'s closed form; ties in validation score are
// broken by run id, as the top fraction is chosen).
#pragma once

#include <span>
#include <vector>

namespace cellzoo::analysis {

struct ExpectedMax {
  std::vector<double> mean, std;  // index k - 1, for k = 1..n
};

// `scores_best_first`: the test scores of a cell's runs in validation order, best first.
ExpectedMax expected_best_of_k(std::span<const double> scores_best_first);

}  // namespace cellzoo::analysis
