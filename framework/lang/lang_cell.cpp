// The cell-language interpreter: forward and exact reverse-mode BPTT over a compiled
// Program, laid out like the fused kernels.
//
// Every node owns one buffer of rows x (T*B) for all steps, sized once per batch shape
// (no allocation in the time loop). Nodes that do not depend on a state ("static": x,
// W(x), bias, tanh(x), ...) are computed once for all T*B columns, so each projection of
// x is ONE GEMM; the per-step loop only evaluates the state-dependent nodes on the
// leading active(t) columns. A W(.), diag(.) or bias used once, as a term of a sum, is
// fused into that sum (no buffer of its own). In backward, per-step nodes are
// differentiated step by step (reverse topological order), static nodes once over all
// columns, and every weight gradient is one GEMM over all steps (the inputs of every
// projection are kept for all steps). Padded columns hold the state and produce h = 0;
// gradients stop at the initial state.
//
// Stacked projections: the fused W(.) terms of state-dependent sums that share a source
// node (the W(h) of every gate) form a group, as the fused kernels stack their gates' R.
// Their weights are copied once per forward/backward into one stacked matrix, so a step
// costs ONE GEMM per source (forward: all projections; backward: the source's gradient
// from all consumers' gradients), and the group's weight gradients are one GEMM over all
// steps, scattered back to the named tensors.
#include "framework/lang/lang_cell.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "framework/util/error.hpp"

namespace cellzoo::lang {
namespace {

using cells::CellState;
using cells::ParamTensor;
using cells::SequenceLayout;

template <typename S>
class LangCell final : public cells::Cell<S> {
  using Base = cells::Cell<S>;
  using Base::layout_;
  // Every view is a contiguous block (x is copied if it is not), so Eigen traverses it
  // linearly, vectorised across columns: small H would otherwise pay per-column loops.
  using CMap = Eigen::Map<const Matrix<S>>;
  using MMap = Eigen::Map<Matrix<S>>;
  using PMap = Eigen::Map<const Matrix<S>>;
  struct Group;  // see the members

 public:
  LangCell(std::shared_ptr<const Program> program, Index input, Index hidden)
      : Base(input, hidden), p_(std::move(program)) {
    check_sizes(*p_, static_cast<long>(input), static_cast<long>(hidden));
    for (const auto& q : p_->params) {
      const Index cols = q.op == Op::weight ? (q.cols == Dim::input ? input : hidden) : 1;
      layout_.add(q.name, hidden, cols, q.kind);
      tensors_.push_back(layout_.tensors().back());
    }
    const std::size_t N = p_->nodes.size();
    rows_.resize(N);
    uses_.assign(N, 0);
    owner_.assign(N, -1);
    owner_coef_.assign(N, 0);
    for (std::size_t k = 0; k < N; ++k) {
      const Node& nd = p_->nodes[k];
      rows_[k] = nd.dim == Dim::input ? input : hidden;
      if (nd.op == Op::input) input_node_ = static_cast<int>(k);
      for (int a : nd.args) ++uses_[static_cast<std::size_t>(a)];
    }
    for (int o : p_->outputs) ++uses_[static_cast<std::size_t>(o)];
    for (std::size_t k = 0; k < N; ++k) {
      const Node& nd = p_->nodes[k];
      if (nd.op != Op::sum) continue;
      for (std::size_t i = 0; i < nd.args.size(); ++i) {
        const auto a = static_cast<std::size_t>(nd.args[i]);
        const Op op = p_->nodes[a].op;
        if (uses_[a] == 1 && (op == Op::weight || op == Op::diag || op == Op::bias)) {
          owner_[a] = static_cast<int>(k);
          owner_coef_[a] = nd.coef[i];
        }
      }
    }
    // needs_[dx][k]: node k's gradient is needed (it leads to a parameter or a state).
    for (int with_dx = 0; with_dx < 2; ++with_dx) {
      auto& need = needs_[with_dx];
      need.assign(N, 0);
      for (std::size_t k = 0; k < N; ++k) {
        const Node& nd = p_->nodes[k];
        need[k] = nd.op == Op::state || nd.param >= 0 || (nd.op == Op::input && with_dx);
      }
      // A node's gradient is needed if one of its arguments needs it: propagate upward.
      for (std::size_t k = 0; k < N; ++k)
        for (int a : p_->nodes[k].args) need[k] = need[k] || need[static_cast<std::size_t>(a)];
    }
    for (std::size_t k = 0; k < N; ++k) {
      const Node& nd = p_->nodes[k];
      if (nd.op == Op::constant || nd.op == Op::input || nd.op == Op::state) continue;
      if (owner_[k] >= 0) continue;
      (nd.dynamic ? dynamic_ : static_).push_back(static_cast<int>(k));
    }
    // Groups: fused, state-dependent projections with the same source, in node order.
    group_of_.assign(N, -1);
    slot_.assign(N, 0);
    std::map<int, std::vector<int>> by_source;
    for (std::size_t k = 0; k < N; ++k) {
      const Node& nd = p_->nodes[k];
      if (nd.op == Op::weight && owner_[k] >= 0 && nd.dynamic)
        by_source[nd.args[0]].push_back(static_cast<int>(k));
    }
    for (const auto& [source, members] : by_source) {
      if (members.size() < 2) continue;
      Group g;
      g.source = source;
      g.members = members;
      g.cols = rows_[static_cast<std::size_t>(source)];
      for (std::size_t i = 0; i < members.size(); ++i) {
        group_of_[static_cast<std::size_t>(members[i])] = static_cast<int>(groups_.size());
        slot_[static_cast<std::size_t>(members[i])] = static_cast<Index>(i) * hidden;
      }
      groups_.push_back(std::move(g));
    }
    val_.resize(N);
    grad_.resize(N);
  }

  Index state_count() const override { return static_cast<Index>(p_->outputs.size()); }

  std::optional<std::pair<Index, Index>> forget_bias_range() const override {
    if (p_->forget_bias_param < 0) return std::nullopt;
    const auto& t = tensors_[static_cast<std::size_t>(p_->forget_bias_param)];
    return std::make_pair(t.offset, t.offset + t.size());
  }

  void forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
               const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override {
    const Index B = seq.batch(), T = seq.steps(), C = T * B, H = this->hidden_size();
    if (x.rows() != this->input_size() || x.cols() != C)
      throw Error("language cell: x is " + std::to_string(x.rows()) + "x" +
                  std::to_string(x.cols()) + ", expected " + std::to_string(this->input_size()) +
                  "x" + std::to_string(C));
    set_input(x);
    cells::reset_state(initial, state_count(), H, B, state_);
    for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
      const Op op = p_->nodes[k].op;
      if (op == Op::constant || op == Op::input || owner_[k] >= 0) continue;
      val_[k].resize(rows_[k], C);
    }
    load_groups(theta);
    for (auto& g : groups_) g.out.resize(static_cast<Index>(g.members.size()) * H, B);
    for (int k : static_) eval(theta, k, 0, C);
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t), c0 = t * B;
      for (auto& g : groups_) g.ready = false;
      for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
        const Node& nd = p_->nodes[k];
        if (nd.op == Op::state)
          val_[k].middleCols(c0, B) = state_[static_cast<std::size_t>(nd.state)];
      }
      for (int k : dynamic_) {
        eval(theta, k, c0, n);
        if (n < B) out(k, c0 + n, B - n).setZero();
      }
      for (std::size_t s = 0; s < state_.size(); ++s)
        state_[s].leftCols(n) = value(p_->outputs[s], c0, n);
    }
    h_out = value(p_->outputs[0], 0, C);
    for (Index t = 0; t < T; ++t)
      if (seq.active(t) < B) h_out.middleCols(t * B + seq.active(t), B - seq.active(t)).setZero();
    if (final) *final = state_;
  }

  void backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override {
    const Index B = seq.batch(), T = seq.steps(), C = T * B, H = this->hidden_size();
    set_input(x);
    need_ = &needs_[dx ? 1 : 0];
    // Gradient buffers are never zeroed as a whole: within a step, the first contribution
    // to a node's block assigns and later ones add (written_), and at the end of the step
    // blocks nobody wrote, and padded columns, are zeroed. Every write of the step loop
    // goes to the current step's columns and the loop visits every step, so after it
    // every buffer is initialised and the static nodes accumulate over all columns.
    accumulate_all_ = false;
    written_.assign(p_->nodes.size(), 0);
    zero_.clear();
    for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
      if (!(*need_)[k] || owner_[k] >= 0 || p_->nodes[k].op == Op::constant) {
        continue;
      }
      grad_[k].resize(rows_[k], C);
      zero_.push_back(static_cast<int>(k));
    }
    carry_.resize(state_.size());
    for (auto& c : carry_) c.setZero(H, B);
    load_groups(theta);
    for (auto& g : groups_) {
      g.grad.resize(static_cast<Index>(g.members.size()) * H, C);
      g.slot_written.assign(g.members.size(), 0);
    }
    const int h_node = p_->outputs[0];
    for (Index t = T - 1; t >= 0; --t) {
      const Index n = seq.active(t), c0 = t * B;
      std::fill(written_.begin(), written_.end(), 0);
      for (auto& g : groups_) {
        std::fill(g.slot_written.begin(), g.slot_written.end(), 0);
        g.fixed = false;
      }
      if (needs(h_node)) put(h_node, c0, n, dh_out.middleCols(c0, n));
      for (std::size_t s = 0; s < carry_.size(); ++s)
        if (needs(p_->outputs[s])) put(p_->outputs[s], c0, n, carry_[s].leftCols(n));
      for (auto it = dynamic_.rbegin(); it != dynamic_.rend(); ++it) {
        flush_groups(*it, c0, n, B);  // its consumers are done: complete its gradient first
        backprop(theta, *it, c0, n);
      }
      flush_groups(-1, c0, n, B);  // groups whose source is a state
      for (int k : zero_) {        // blocks nobody wrote, and padded columns, are zero
        const auto r = rows_[static_cast<std::size_t>(k)];
        S* block = grad_[static_cast<std::size_t>(k)].data() + c0 * r;
        if (!written_[static_cast<std::size_t>(k)])
          std::fill_n(block, r * B, S(0));
        else if (n < B)
          std::fill_n(block + n * r, r * (B - n), S(0));
      }
      for (auto& g : groups_) fix_group(g, c0, n, B);
      for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
        const Node& nd = p_->nodes[k];
        if (nd.op == Op::state)
          carry_[static_cast<std::size_t>(nd.state)].leftCols(n) = gout(static_cast<int>(k), c0, n);
      }
    }
    accumulate_all_ = true;  // every buffer is initialised now
    for (auto it = static_.rbegin(); it != static_.rend(); ++it) backprop(theta, *it, 0, C);

    // Parameter gradients: one product or reduction over all steps per tensor, one
    // product per group of stacked projections.
    for (auto& g : groups_) {
      g.dw.noalias() = g.grad * value(g.source, 0, C).transpose();
      for (std::size_t i = 0; i < g.members.size(); ++i) {
        const auto& tensor = tensors_[static_cast<std::size_t>(node(g.members[i]).param)];
        Eigen::Map<Matrix<S>>(dtheta.data() + tensor.offset, tensor.rows, tensor.cols) =
            g.dw.middleRows(static_cast<Index>(i) * H, H);
      }
    }
    for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
      const Node& nd = p_->nodes[k];
      if (nd.param < 0 || group_of_[k] >= 0) continue;
      const auto& tensor = tensors_[static_cast<std::size_t>(nd.param)];
      Eigen::Map<Matrix<S>> d(dtheta.data() + tensor.offset, tensor.rows, tensor.cols);
      const int g_node = owner_[k] >= 0 ? owner_[k] : static_cast<int>(k);
      const S coef = owner_[k] >= 0 ? static_cast<S>(owner_coef_[k]) : S(1);
      const CMap g = gview(g_node, 0, C);
      switch (nd.op) {
        case Op::weight:
          d.noalias() = coef * g * value(nd.args[0], 0, C).transpose();
          break;
        case Op::diag:
          d = coef * (g.array() * value(nd.args[0], 0, C).array()).rowwise().sum().matrix();
          break;
        default:
          d = coef * g.rowwise().sum();
      }
    }
    if (dx) {
      if (input_node_ >= 0)
        *dx = grad_[static_cast<std::size_t>(input_node_)];
      else
        dx->setZero(this->input_size(), C);
    }
  }

 private:
  void set_input(const ConstMatrixRef<S>& x) {
    if (x.outerStride() == x.rows()) {
      x_ = x.data();
    } else {
      x_copy_ = x;
      x_ = x_copy_.data();
    }
  }
  bool needs(int k) const { return (*need_)[static_cast<std::size_t>(k)]; }
  const Node& node(int k) const { return p_->nodes[static_cast<std::size_t>(k)]; }
  PMap param(const ConstVectorRef<S>& theta, int p) const {
    const auto& t = tensors_[static_cast<std::size_t>(p)];
    return PMap(theta.data() + t.offset, t.rows, t.cols);
  }
  CMap value(int k, Index c0, Index n) const {
    const auto r = rows_[static_cast<std::size_t>(k)];
    if (k == input_node_) return CMap(x_ + c0 * r, r, n);
    return CMap(val_[static_cast<std::size_t>(k)].data() + c0 * r, r, n);
  }
  MMap out(int k, Index c0, Index n) {
    const auto r = rows_[static_cast<std::size_t>(k)];
    return MMap(val_[static_cast<std::size_t>(k)].data() + c0 * r, r, n);
  }
  MMap gout(int k, Index c0, Index n) {
    const auto r = rows_[static_cast<std::size_t>(k)];
    return MMap(grad_[static_cast<std::size_t>(k)].data() + c0 * r, r, n);
  }
  CMap gview(int k, Index c0, Index n) const {
    const auto r = rows_[static_cast<std::size_t>(k)];
    return CMap(grad_[static_cast<std::size_t>(k)].data() + c0 * r, r, n);
  }

  // Copies each group's weights into its stacked matrix (rows in member order).
  void load_groups(const ConstVectorRef<S>& theta) {
    const Index H = this->hidden_size();
    for (auto& g : groups_) {
      g.w.resize(static_cast<Index>(g.members.size()) * H, g.cols);
      for (std::size_t i = 0; i < g.members.size(); ++i)
        g.w.middleRows(static_cast<Index>(i) * H, H) = param(theta, node(g.members[i]).param);
    }
  }

  // Adds W_stacked^T * (stacked consumer gradients) of this step to the gradient of the
  // source of every group whose source is `source` (-1: every group whose source is not a
  // per-step node, i.e. a state).
  void flush_groups(int source, Index c0, Index n, Index B) {
    for (auto& g : groups_) {
      const bool match = source >= 0 ? g.source == source : node(g.source).op == Op::state;
      if (!match || !needs(g.source)) continue;
      fix_group(g, c0, n, B);
      put_product(g.source, c0, n, g.w.transpose() * g.grad.middleCols(c0, n));
    }
  }

  // Zeroes the slots of this step that no consumer wrote, and the padded columns.
  void fix_group(Group& g, Index c0, Index n, Index B) {
    if (g.fixed) return;
    g.fixed = true;
    const Index H = this->hidden_size();
    for (std::size_t i = 0; i < g.members.size(); ++i)
      if (!g.slot_written[i]) g.grad.block(static_cast<Index>(i) * H, c0, H, B).setZero();
    if (n < B) g.grad.middleCols(c0 + n, B - n).setZero();
  }

  // A contribution to node a's gradient block of this step: the first one assigns (the
  // block holds stale data until then), later ones add; after the step loop, all add.
  bool first_write(int a) {
    if (accumulate_all_) return false;
    char& w = written_[static_cast<std::size_t>(a)];
    if (w) return false;
    w = 1;
    return true;
  }
  template <typename E>
  void put(int a, Index c0, Index n, const E& e) {
    auto m = gout(a, c0, n);
    if (first_write(a))
      m = e;
    else
      m += e;
  }
  template <typename E>
  void put_product(int a, Index c0, Index n, const E& e) {
    auto m = gout(a, c0, n);
    if (first_write(a))
      m.noalias() = e;
    else
      m.noalias() += e;
  }
  template <typename E>
  void put_array(int a, Index c0, Index n, const E& e) {
    auto m = gout(a, c0, n);
    if (first_write(a))
      m.array() = e;
    else
      m.array() += e;
  }

  void eval(const ConstVectorRef<S>& theta, int k, Index c0, Index n) {
    const Node& nd = node(k);
    auto o = out(k, c0, n);
    switch (nd.op) {
      case Op::bias:
        o.colwise() = param(theta, nd.param).col(0);
        return;
      case Op::weight:
        o.noalias() = param(theta, nd.param) * value(nd.args[0], c0, n);
        return;
      case Op::diag:
        o.array() =
            value(nd.args[0], c0, n).array().colwise() * param(theta, nd.param).col(0).array();
        return;
      case Op::sum:
        eval_sum(theta, nd, o, c0, n);
        return;
      case Op::mul:
        o.array() = value(nd.args[0], c0, n).array() * value(nd.args[1], c0, n).array();
        return;
      case Op::sigmoid:
        o.array() = (S(1) + (-value(nd.args[0], c0, n).array()).exp()).inverse();
        return;
      case Op::tanh:
        o.array() = value(nd.args[0], c0, n).array().tanh();
        return;
      case Op::relu:
        o.array() = value(nd.args[0], c0, n).array().max(S(0));
        return;
      case Op::identity:
        o = value(nd.args[0], c0, n);
        return;
      default:
        return;
    }
  }

  void eval_sum(const ConstVectorRef<S>& theta, const Node& nd, MMap& o, Index c0, Index n) {
    bool init = false;
    // Fused projections first, so that the first GEMM initialises the buffer.
    for (std::size_t i = 0; i < nd.args.size(); ++i) {
      const int a = nd.args[i];
      if (owner_[static_cast<std::size_t>(a)] < 0 || node(a).op != Op::weight) continue;
      const S c = static_cast<S>(nd.coef[i]);
      if (const int gi = group_of_[static_cast<std::size_t>(a)]; gi >= 0) {
        Group& g = groups_[static_cast<std::size_t>(gi)];
        if (!g.ready) {  // the group's one GEMM of this step
          g.out.leftCols(n).noalias() = g.w * value(g.source, c0, n);
          g.ready = true;
        }
        const auto y = g.out.block(slot_[static_cast<std::size_t>(a)], 0, this->hidden_size(), n);
        if (init)
          o += c * y;
        else
          o = c * y;
        init = true;
        continue;
      }
      const auto W = param(theta, node(a).param);
      const auto v = value(node(a).args[0], c0, n);
      if (init)
        o.noalias() += c * W * v;
      else
        o.noalias() = c * W * v;
      init = true;
    }
    for (std::size_t i = 0; i < nd.args.size(); ++i) {
      const int a = nd.args[i];
      const S c = static_cast<S>(nd.coef[i]);
      const bool fused = owner_[static_cast<std::size_t>(a)] >= 0;
      const Op op = node(a).op;
      if (fused && op == Op::weight) continue;
      if (fused && op == Op::bias) {
        const auto b = param(theta, node(a).param).col(0);
        if (init)
          o.colwise() += c * b;
        else
          o.colwise() = c * b;
      } else if (fused && op == Op::diag) {
        const auto p = param(theta, node(a).param).col(0);
        const auto v = value(node(a).args[0], c0, n);
        if (init)
          o.array() += (v.array().colwise() * p.array()) * c;
        else
          o.array() = (v.array().colwise() * p.array()) * c;
      } else {
        const auto v = value(a, c0, n);
        if (init)
          o += c * v;
        else
          o = c * v;
      }
      init = true;
    }
    if (nd.value != 0) o.array() += static_cast<S>(nd.value);
  }

  void backprop(const ConstVectorRef<S>& theta, int k, Index c0, Index n) {
    if (!needs(k)) return;
    // Nothing reached k at this step: its gradient is zero, so is what it passes on.
    if (!accumulate_all_ && !written_[static_cast<std::size_t>(k)]) return;
    const Node& nd = node(k);
    const CMap g = gview(k, c0, n);
    auto arg_needs = [&](int a) { return needs(a); };
    switch (nd.op) {
      case Op::weight:
        if (arg_needs(nd.args[0]))
          put_product(nd.args[0], c0, n, param(theta, nd.param).transpose() * g);
        return;
      case Op::diag:
        if (arg_needs(nd.args[0]))
          put_array(nd.args[0], c0, n, g.array().colwise() * param(theta, nd.param).col(0).array());
        return;
      case Op::sum:
        for (std::size_t i = 0; i < nd.args.size(); ++i) {
          const int a = nd.args[i];
          const S c = static_cast<S>(nd.coef[i]);
          if (const int gi = group_of_[static_cast<std::size_t>(a)]; gi >= 0) {
            // Always kept: the group's weight gradient needs it even if the source's
            // gradient is not needed.
            Group& grp = groups_[static_cast<std::size_t>(gi)];
            const Index slot = slot_[static_cast<std::size_t>(a)];
            grp.grad.block(slot, c0, this->hidden_size(), n) = c * g;
            grp.slot_written[static_cast<std::size_t>(slot / this->hidden_size())] = 1;
            continue;
          }
          if (owner_[static_cast<std::size_t>(a)] >= 0) {
            const Node& t = node(a);
            if (t.op == Op::bias || !arg_needs(t.args[0])) continue;
            if (t.op == Op::weight)
              put_product(t.args[0], c0, n, (c * param(theta, t.param).transpose()) * g);
            else
              put_array(t.args[0], c0, n,
                        (g.array().colwise() * param(theta, t.param).col(0).array()) * c);
          } else if (arg_needs(a)) {
            if (c == S(1))
              put(a, c0, n, g);
            else
              put(a, c0, n, c * g);
          }
        }
        return;
      case Op::mul: {
        const int a = nd.args[0], b = nd.args[1];
        if (arg_needs(a)) put_array(a, c0, n, g.array() * value(b, c0, n).array());
        if (arg_needs(b)) put_array(b, c0, n, g.array() * value(a, c0, n).array());
        return;
      }
      default:
        break;
    }
    if (nd.args.empty() || !arg_needs(nd.args[0])) return;
    const auto y = value(k, c0, n).array();
    const int a = nd.args[0];
    switch (nd.op) {
      case Op::sigmoid:
        put_array(a, c0, n, g.array() * y * (S(1) - y));
        break;
      case Op::tanh:
        put_array(a, c0, n, g.array() * (S(1) - y.square()));
        break;
      case Op::relu:
        put_array(a, c0, n, g.array() * (y > S(0)).template cast<S>());
        break;
      case Op::identity:
        put_array(a, c0, n, g.array());
        break;
      default:
        break;
    }
  }

  // Fused state-dependent projections sharing a source (see the file comment).
  struct Group {
    int source = -1;
    std::vector<int> members;        // weight nodes, in node order
    Index cols = 0;                  // the source's rows
    Matrix<S> w;                     // stacked weights: members.size() * H x cols
    Matrix<S> out;                   // this step's projections: members.size() * H x B
    Matrix<S> grad;                  // consumers' gradients (times their coefficients), all steps
    Matrix<S> dw;                    // stacked weight gradient
    bool ready = false;              // out holds this step's projections
    std::vector<char> slot_written;  // backward: this step's slot was written
    bool fixed = false;              // backward: this step's unwritten slots are zeroed
  };

  std::shared_ptr<const Program> p_;
  std::vector<Group> groups_;
  std::vector<int> group_of_;  // node -> its group, or -1
  std::vector<Index> slot_;    // node -> first row of its block in the group
  std::vector<ParamTensor> tensors_;
  std::vector<Index> rows_;
  std::vector<int> uses_, owner_;
  std::vector<double> owner_coef_;
  std::vector<char> needs_[2];
  const std::vector<char>* need_ = nullptr;
  std::vector<int> static_, dynamic_;
  std::vector<int> zero_;        // nodes whose gradient buffer backward() uses
  std::vector<char> written_;    // backward: node's block of this step written
  bool accumulate_all_ = false;  // backward: after the step loop every write adds
  int input_node_ = -1;
  const S* x_ = nullptr;
  Matrix<S> x_copy_;  // x when it is not contiguous
  std::vector<Matrix<S>> val_, grad_;
  CellState<S> state_, carry_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot read cell file '" + path + "'",
                "file: paths are relative to the current directory, e.g. "
                "file:experiments/cells/mut1.cell");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

template <typename S>
std::unique_ptr<cells::Cell<S>> make_cell(std::shared_ptr<const Program> program, Index input_size,
                                          Index hidden_size) {
  return std::make_unique<LangCell<S>>(std::move(program), input_size, hidden_size);
}
template std::unique_ptr<cells::Cell<float>> make_cell<float>(std::shared_ptr<const Program>, Index,
                                                              Index);
template std::unique_ptr<cells::Cell<double>> make_cell<double>(std::shared_ptr<const Program>,
                                                                Index, Index);

cells::CellEntry make_entry(const CellText& text, std::string name) {
  auto program = compile(text);
  cells::CellEntry e;
  e.info.name = std::move(name);
  e.info.family = "lang";
  e.info.description =
      text.description.empty() ? "cell-language cell " + cell_hash(text) : text.description;
  e.info.param_formula = program->param_formula;
  e.info.square_input = program->square_input;
  e.make_float = [program](Index i, Index h) { return make_cell<float>(program, i, h); };
  e.make_double = [program](Index i, Index h) { return make_cell<double>(program, i, h); };
  return e;
}

std::optional<std::string> builtin_cell_text(std::string_view name) {
  for (const auto& [n, text] : builtin_cell_texts())
    if (n == name) return text;
  return std::nullopt;
}

CellText load_cell(std::string_view spec) {
  if (spec.starts_with("file:")) {
    const std::string path(spec.substr(5));
    return parse_cell(read_file(path), path);
  }
  if (spec.starts_with("cell:")) return parse_cell(spec.substr(5), "<inline>");
  const std::string_view name = spec.starts_with("lang:") ? spec.substr(5) : spec;
  if (auto text = builtin_cell_text(name)) return parse_cell(*text, std::string(name) + ".cell");
  std::string known;
  for (const auto& [n, _] : builtin_cell_texts()) known += (known.empty() ? "" : ", ") + n;
  throw Error("no cell-language text for '" + std::string(spec) + "'",
              "give file:PATH, cell:TEXT (statements separated by ';'), or one of: " + known);
}

void install_language_cells(cells::CellRegistry& registry) {
  for (const char* prefix : {"file:", "cell:", "lang:"})
    registry.add_resolver(prefix, [](std::string_view name) {
      return make_entry(load_cell(name), std::string(name));
    });
}

}  // namespace cellzoo::lang
