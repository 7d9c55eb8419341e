// The interpreter's fusion plan (fusion_plan.hpp): one pass per decision, in the order
// the interpreter relies on (uses, then fused terms and seeds, then activations that
// compute their sum, then buffer roots, needed gradients and the evaluation lists).
#include "framework/lang/fusion_plan.hpp"

namespace cellzoo::lang {
namespace {

bool is_activation(Op op) {
  return op == Op::sigmoid || op == Op::tanh || op == Op::relu || op == Op::identity;
}

std::size_t at(int k) {
  return static_cast<std::size_t>(k);
}

// Sizes, uses and the input node.
void count_uses(const Program& p, Index input, Index hidden, FusionPlan& plan) {
  for (std::size_t k = 0; k < p.nodes.size(); ++k) {
    const Node& nd = p.nodes[k];
    plan.nodes[k].rows = nd.dim == Dim::input ? input : hidden;
    if (nd.op == Op::input) plan.input_node = static_cast<int>(k);
    for (int a : nd.args) ++plan.nodes[at(a)].uses;
  }
  for (int o : p.outputs) ++plan.nodes[at(o)].uses;
}

// The terms of every sum: fused W(.), diag(.) and bias (used once), the seed (a static sum
// used once by a dynamic one), inlined products, and the rest.
void plan_sums(const Program& p, FusionPlan& plan) {
  for (std::size_t k = 0; k < p.nodes.size(); ++k) {
    const Node& nd = p.nodes[k];
    if (nd.op != Op::sum) continue;
    SumPlan& sum = plan.nodes[k].sum;
    std::vector<int> biases, others;
    for (std::size_t i = 0; i < nd.args.size(); ++i) {
      const auto a = at(nd.args[i]);
      const Node& t = p.nodes[a];
      NodePlan& term = plan.nodes[a];
      const int pos = static_cast<int>(i);
      if (term.uses == 1 && (t.op == Op::weight || t.op == Op::diag || t.op == Op::bias)) {
        term.owner = static_cast<int>(k);
        term.owner_coef = nd.coef[i];
        (t.op == Op::weight ? sum.gemm : t.op == Op::bias ? biases : others).push_back(pos);
      } else if (nd.dynamic && term.uses == 1 && t.op == Op::sum && !t.dynamic && nd.coef[i] == 1 &&
                 sum.seed < 0) {
        // Its backward does not read its own value, which the per-step terms overwrite.
        sum.seed = pos;
        term.vroot = term.groot = static_cast<int>(k);
      } else if (nd.dynamic && term.uses == 1 && t.op == Op::mul) {
        term.inline_in = static_cast<int>(k);
        others.push_back(pos);
      } else {
        others.push_back(pos);
      }
    }
    sum.ew = biases;
    sum.ew.insert(sum.ew.end(), others.begin(), others.end());
  }
}

// A dynamic activation of a sum used only there computes that sum in its own buffer.
void plan_activations(const Program& p, FusionPlan& plan) {
  for (std::size_t k = 0; k < p.nodes.size(); ++k) {
    const Node& nd = p.nodes[k];
    if (!nd.dynamic || !is_activation(nd.op)) continue;
    const int s = nd.args[0];
    if (p.nodes[at(s)].op == Op::sum && plan.nodes[at(s)].uses == 1) {
      plan.nodes[at(s)].computed_by = static_cast<int>(k);
      plan.nodes[k].sum_of = s;
    }
  }
}

// Value buffers follow the chain seed -> sum -> activation; a seed's gradient is its sum's.
void plan_value_roots(FusionPlan& plan) {
  auto& n = plan.nodes;
  for (std::size_t k = 0; k < n.size(); ++k) {
    int r = n[k].vroot;
    while (r != n[at(r)].vroot || n[at(r)].computed_by >= 0)
      r = n[at(r)].computed_by >= 0 ? n[at(r)].computed_by : n[at(r)].vroot;
    n[k].vroot = r;
  }
}

// needed[dx][k]: node k's gradient is needed (it leads to a parameter or a state, or with
// dx to the input). A node's gradient is needed if one of its arguments needs it.
void plan_needed_gradients(const Program& p, FusionPlan& plan) {
  for (int with_dx = 0; with_dx < 2; ++with_dx) {
    for (std::size_t k = 0; k < p.nodes.size(); ++k) {
      const Node& nd = p.nodes[k];
      bool& need = plan.nodes[k].needed[with_dx];
      need = nd.op == Op::state || nd.param >= 0 || (nd.op == Op::input && with_dx);
      for (int a : nd.args) need = need || plan.nodes[at(a)].needed[with_dx];
    }
  }
}

// Per-step weights, and the nodes evaluated on their own (not fused into another), static
// ones once over all steps, dynamic ones per step.
void plan_order(const Program& p, FusionPlan& plan) {
  for (std::size_t k = 0; k < p.nodes.size(); ++k) {
    const Node& nd = p.nodes[k];
    NodePlan& np = plan.nodes[k];
    if (nd.op == Op::weight)
      np.per_step = np.owner >= 0 ? p.nodes[at(np.owner)].dynamic : nd.dynamic;
    if (nd.op == Op::constant || nd.op == Op::input || nd.op == Op::state) continue;
    if (np.owner >= 0 || np.inline_in >= 0 || np.computed_by >= 0) continue;
    (nd.dynamic ? plan.dynamic_nodes : plan.static_nodes).push_back(static_cast<int>(k));
  }
}

}  // namespace

FusionPlan plan_fusion(const Program& program, Index input_size, Index hidden_size) {
  FusionPlan plan;
  plan.nodes.resize(program.nodes.size());
  for (std::size_t k = 0; k < plan.nodes.size(); ++k)
    plan.nodes[k].vroot = plan.nodes[k].groot = static_cast<int>(k);
  count_uses(program, input_size, hidden_size, plan);
  plan_sums(program, plan);
  plan_activations(program, plan);
  plan_value_roots(plan);
  plan_needed_gradients(program, plan);
  plan_order(program, plan);
  return plan;
}

}  // namespace cellzoo::lang
