// Finite-difference gradient check of a cell in double precision.
//
// For each problem (sizes, batch > 1, variable lengths with masking) it draws random
// parameters, inputs and an initial state, defines the loss
//   L = sum over valid (t, b) of <G_tb, h_tb> + 0.5 |h_tb|^2
// with a random G, and compares the analytic dL/dtheta and dL/dx with central
// differences. The error of a tensor is |analytic - numeric| / max(|analytic|, |numeric|)
// in the 2-norm, taken over the whole tensor (element-wise ratios of near-zero gradients
// only measure finite-difference noise).
#pragma once

#include <string>
#include <vector>

#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

struct GradcheckProblem {
  Index input_size;
  Index hidden_size;
  std::vector<Index> lengths;  // non-increasing; batch = lengths.size()
};

struct GradcheckResult {
  std::string cell;
  double max_error = 0;      // the worst tensor over all problems
  std::string worst_tensor;  // e.g. "R (I=3 H=4 B=3)"
  Index problems = 0;
};

// The default problems: several sizes, batch > 1, variable-length sequences.
std::vector<GradcheckProblem> default_gradcheck_problems(bool square_input);

GradcheckResult gradcheck(const CellEntry& entry, const std::vector<GradcheckProblem>& problems,
                          std::uint64_t seed = 1);

}  // namespace cellzoo::cells
