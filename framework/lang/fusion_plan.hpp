// How the cell-language interpreter (lang_cell.cpp) evaluates a compiled Program: which
// nodes are fused into which (a W(.), diag(.) or bias into the sum that uses it once, a * b
// into a state-dependent sum, a static sum as the seed of a state-dependent one, a sum into
// the activation that applies it), which buffer holds each node's value and gradient,
// which gradients are needed, and the order of evaluation. Computed once per cell; the
// fusion rules and why are in lang_cell.cpp's file comment.
#pragma once

#include <vector>

#include "framework/lang/program.hpp"
#include "framework/util/eigen.hpp"

namespace cellzoo::lang {

// The terms of a sum node, by how they are evaluated (positions into Node::args).
struct SumPlan {
  int seed = -1;          // a static sum precomputed in this sum's buffer (coefficient 1)
  std::vector<int> gemm;  // fused W(.)
  std::vector<int> ew;    // element-wise: fused biases first, then diag, inlined a * b, nodes
};

// One node's part in the plan (node ids index FusionPlan::nodes like Program::nodes).
struct NodePlan {
  Index rows = 0;                   // rows of its value: the input or the hidden size
  int uses = 0;                     // arguments and outputs that read it
  int owner = -1;                   // the sum this weight/diag/bias is fused into, or -1
  double owner_coef = 0;            // its coefficient in that sum
  SumPlan sum;                      // a sum node's terms
  int inline_in = -1;               // the sum this a * b is evaluated inside, or -1
  int computed_by = -1;             // the activation that computes this sum, or -1
  int sum_of = -1;                  // an activation: the sum it computes, or -1
  int vroot = -1;                   // the node whose value buffer this one uses
  int groot = -1;                   // the node whose gradient buffer this one uses
  bool per_step = false;            // a weight evaluated in the step loop (packed)
  bool needed[2] = {false, false};  // gradient needed (leads to a parameter or a state),
                                    // [1]: also to the input (dx wanted)
};

struct FusionPlan {
  std::vector<NodePlan> nodes;
  std::vector<int> static_nodes;   // evaluated once over all steps, in this order
  std::vector<int> dynamic_nodes;  // evaluated step by step, in this order
  int input_node = -1;             // the node of x, or -1
};

// The plan of `program` for input size I and hidden size H (sizes already checked).
FusionPlan plan_fusion(const Program& program, Index input_size, Index hidden_size);

}  // namespace cellzoo::lang
