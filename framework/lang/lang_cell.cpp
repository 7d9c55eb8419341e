// The cell-language interpreter: forward and exact reverse-mode BPTT over a compiled
// Program, laid out like the fused kernels.
//
// Every node owns one buffer of rows x (T*B) for all steps, sized once per batch shape
// (no allocation in the time loop). Nodes that do not depend on a state ("static": x,
// W(x), bias, tanh(x), ...) are computed once for all T*B columns, so each projection of
// x is ONE GEMM; the per-step loop only evaluates the state-dependent nodes on the
// leading active(t) columns. In backward, per-step nodes are differentiated step by step
// (reverse topological order), static nodes once over all columns, and every weight
// gradient is one GEMM over all steps (the inputs of every projection are kept for all
// steps). Padded columns hold the state and produce h = 0; gradients stop at the initial
// state.
//
// Fusion, so that a gate costs what it costs in a fused kernel (one GEMM and one pass):
// - a W(.), diag(.) or bias used once, as a term of a sum, is part of that sum (no
//   buffer of its own), and so is a product a * b used once in a state-dependent sum;
// - the static part of a state-dependent sum (W(x) + bias, split off by the compiler) is
//   computed for all steps straight into that sum's buffer, and its gradient is the sum's;
// - an activation of a state-dependent sum used only there computes the sum in its own
//   buffer and applies itself in the pass of the sum's last element-wise term.
// So an LSTM gate is: seed W(x) + b (all steps), per step W(h) accumulated, then
// sigmoid(. + diag(c)) in one pass.
//
// Every per-step projection multiplies a weight packed once per forward (and, transposed,
// once per backward) for Eigen's GEMM micro-kernel (cells::PackedLhs): Eigen's own product
// would repack the weight, and above 128 KiB malloc a workspace, at every step.
#include "framework/lang/lang_cell.hpp"

#include <algorithm>

#include "framework/cells/packed_gemm.hpp"
#include "framework/lang/fusion_plan.hpp"
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

 public:
  LangCell(std::shared_ptr<const Program> program, Index input, Index hidden)
      : Base(input, hidden), p_(std::move(program)) {
    check_sizes(*p_, static_cast<long>(input), static_cast<long>(hidden));
    for (const auto& q : p_->params) {
      const Index cols = q.op == Op::weight ? (q.cols == Dim::input ? input : hidden) : 1;
      layout_.add(q.name, hidden, cols, q.kind);
      tensors_.push_back(layout_.tensors().back());
    }
    plan_ = plan_fusion(*p_, input, hidden);
    const std::size_t N = p_->nodes.size();
    packed_.resize(N);
    val_.resize(N);
    grad_.resize(N);
  }

  Index state_count() const override { return static_cast<Index>(p_->outputs.size()); }

  std::optional<std::pair<Index, Index>> forget_bias_range() const override {
    if (p_->forget_bias_param < 0) return std::nullopt;
    const auto& t = tensors_[static_cast<std::size_t>(p_->forget_bias_param)];
    return std::make_pair(t.offset, t.offset + t.size());
  }

 protected:
  void do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                  const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override {
    const Index B = seq.batch(), T = seq.steps(), C = T * B, H = this->hidden_size();
    set_input(x);
    cells::reset_state(initial, state_count(), H, B, state_);
    for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
      const Op op = p_->nodes[k].op;
      if (op == Op::constant || op == Op::input || plan_.nodes[k].owner >= 0 ||
          plan_.nodes[k].inline_in >= 0 || plan_.nodes[k].vroot != static_cast<int>(k))
        continue;
      val_[k].resize(plan_.nodes[k].rows, C);
    }
    for (std::size_t k = 0; k < p_->nodes.size(); ++k)
      if (plan_.nodes[k].per_step) pack(theta, static_cast<int>(k), false, B);
    for (int k : plan_.static_nodes) eval(theta, k, 0, C);
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t), c0 = t * B;
      for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
        const Node& nd = p_->nodes[k];
        if (nd.op == Op::state)
          val_[k].middleCols(c0, B) = state_[static_cast<std::size_t>(nd.state)];
      }
      for (int k : plan_.dynamic_nodes) {
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

  void do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                   ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override {
    const Index B = seq.batch(), T = seq.steps(), C = T * B, H = this->hidden_size();
    set_input(x);
    with_dx_ = dx ? 1 : 0;
    // Gradient buffers are never zeroed as a whole: within a step, the first contribution
    // to a node's block assigns and later ones add (written_), and at the end of the step
    // blocks nobody wrote, and padded columns, are zeroed. Every write of the step loop
    // goes to the current step's columns and the loop visits every step, so after it
    // every buffer is initialised and the static nodes accumulate over all columns.
    accumulate_all_ = false;
    written_.assign(p_->nodes.size(), 0);
    zero_.clear();
    for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
      if (!plan_.nodes[k].needed[with_dx_] || plan_.nodes[k].owner >= 0 ||
          plan_.nodes[k].inline_in >= 0 || p_->nodes[k].op == Op::constant ||
          plan_.nodes[k].groot != static_cast<int>(k))
        continue;
      grad_[k].resize(plan_.nodes[k].rows, C);
      zero_.push_back(static_cast<int>(k));
    }
    for (std::size_t k = 0; k < p_->nodes.size(); ++k)
      if (plan_.nodes[k].per_step && needs(node(static_cast<int>(k)).args[0]))
        pack(theta, static_cast<int>(k), true, B);
    carry_.resize(state_.size());
    for (auto& c : carry_) c.setZero(H, B);
    const int h_node = p_->outputs[0];
    for (Index t = T - 1; t >= 0; --t) {
      const Index n = seq.active(t), c0 = t * B;
      std::fill(written_.begin(), written_.end(), 0);
      if (needs(h_node)) put(h_node, c0, n, dh_out.middleCols(c0, n));
      for (std::size_t s = 0; s < carry_.size(); ++s)
        if (needs(p_->outputs[s])) put(p_->outputs[s], c0, n, carry_[s].leftCols(n));
      for (auto it = plan_.dynamic_nodes.rbegin(); it != plan_.dynamic_nodes.rend(); ++it)
        backprop(theta, *it, c0, n);
      for (int k : zero_) {  // blocks nobody wrote, and padded columns, are zero
        const auto r = np(k).rows;
        S* block = grad_[static_cast<std::size_t>(k)].data() + c0 * r;
        if (!written_[static_cast<std::size_t>(k)])
          std::fill_n(block, r * B, S(0));
        else if (n < B)
          std::fill_n(block + n * r, r * (B - n), S(0));
      }
      for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
        const Node& nd = p_->nodes[k];
        if (nd.op == Op::state)
          carry_[static_cast<std::size_t>(nd.state)].leftCols(n) = gout(static_cast<int>(k), c0, n);
      }
    }
    accumulate_all_ = true;  // every buffer is initialised now
    for (auto it = plan_.static_nodes.rbegin(); it != plan_.static_nodes.rend(); ++it)
      backprop(theta, *it, 0, C);

    // Parameter gradients: one product or reduction over all steps per tensor.
    for (std::size_t k = 0; k < p_->nodes.size(); ++k) {
      const Node& nd = p_->nodes[k];
      if (nd.param < 0) continue;
      const auto& tensor = tensors_[static_cast<std::size_t>(nd.param)];
      Eigen::Map<Matrix<S>> d(dtheta.data() + tensor.offset, tensor.rows, tensor.cols);
      const int g_node = plan_.nodes[k].owner >= 0 ? plan_.nodes[k].owner : static_cast<int>(k);
      const S coef = plan_.nodes[k].owner >= 0 ? static_cast<S>(plan_.nodes[k].owner_coef) : S(1);
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
      if (plan_.input_node >= 0)
        *dx = grad_[static_cast<std::size_t>(plan_.input_node)];
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
  bool needs(int k) const { return np(k).needed[with_dx_]; }
  const NodePlan& np(int k) const { return plan_.nodes[static_cast<std::size_t>(k)]; }
  const Node& node(int k) const { return p_->nodes[static_cast<std::size_t>(k)]; }
  PMap param(const ConstVectorRef<S>& theta, int p) const {
    const auto& t = tensors_[static_cast<std::size_t>(p)];
    return PMap(theta.data() + t.offset, t.rows, t.cols);
  }
  // Views of node k's value or gradient block, in the buffer it shares (NodePlan::vroot, groot).
  CMap value(int k, Index c0, Index n) const {
    const auto r = np(k).rows;
    if (k == plan_.input_node) return CMap(x_ + c0 * r, r, n);
    return CMap(val_[static_cast<std::size_t>(np(k).vroot)].data() + c0 * r, r, n);
  }
  MMap out(int k, Index c0, Index n) {
    const auto r = np(k).rows;
    return MMap(val_[static_cast<std::size_t>(np(k).vroot)].data() + c0 * r, r, n);
  }
  MMap gout(int k, Index c0, Index n) {
    const auto r = np(k).rows;
    return MMap(grad_[static_cast<std::size_t>(np(k).groot)].data() + c0 * r, r, n);
  }
  CMap gview(int k, Index c0, Index n) const {
    const auto r = np(k).rows;
    return CMap(grad_[static_cast<std::size_t>(np(k).groot)].data() + c0 * r, r, n);
  }

  // Packs the weight of per-step projection k, times its coefficient in the sum that owns
  // it: forward W, backward W^T (for the gradient of its argument).
  void pack(const ConstVectorRef<S>& theta, int k, bool transposed, Index B) {
    const auto w = param(theta, node(k).param);
    const double c = np(k).owner >= 0 ? np(k).owner_coef : 1.0;
    auto& packed = packed_[static_cast<std::size_t>(k)];
    if (c == 1) {
      transposed ? packed.pack_transposed(w, B) : packed.pack(w, B);
    } else {
      scaled_ = static_cast<S>(c) * w;
      transposed ? packed.pack_transposed(scaled_, B) : packed.pack(scaled_, B);
    }
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
  // Adds c * p .* g to node a's gradient block, column by column (see eval_term).
  void put_diag(int a, Index c0, Index n, const CMap& g, const PMap& p, S c) {
    auto m = gout(a, c0, n);
    const auto pc = p.col(0).array();
    if (first_write(a))
      for (Index j = 0; j < n; ++j) m.col(j).array() = g.col(j).array() * pc * c;
    else
      for (Index j = 0; j < n; ++j) m.col(j).array() += g.col(j).array() * pc * c;
  }
  // Adds the packed (W^T) times g to node a's gradient block.
  void put_packed(int a, Index c0, Index n, cells::PackedLhs<S>& packed, const CMap& g) {
    auto m = gout(a, c0, n);
    if (first_write(a)) m.setZero();
    packed.multiply_add(g, m);
  }

  // o = act(e), element-wise (o is an array view).
  template <typename O, typename E>
  static void store(O&& o, const E& e, Op act) {
    switch (act) {
      case Op::sigmoid:
        o = e.logistic();
        return;
      case Op::tanh:
        o = e.tanh();
        return;
      case Op::relu:
        o = e.max(S(0));
        return;
      default:
        o = e;
    }
  }
  // o = act((o if add) + e + offset): one pass.
  template <typename O, typename E>
  static void store_term(O&& o, const E& e, bool add, Op act, S offset) {
    if (add)
      store(o, o + e + offset, act);
    else
      store(o, e + offset, act);
  }

  void eval(const ConstVectorRef<S>& theta, int k, Index c0, Index n) {
    const Node& nd = node(k);
    auto o = out(k, c0, n);
    if (const int s = np(k).sum_of; s >= 0) {
      eval_sum(theta, s, o, c0, n, nd.op);
      return;
    }
    switch (nd.op) {
      case Op::bias:
        o.colwise() = param(theta, nd.param).col(0);
        return;
      case Op::weight:
        if (np(k).per_step) {
          o.setZero();
          packed_[static_cast<std::size_t>(k)].multiply_add(value(nd.args[0], c0, n), o);
        } else {
          o.noalias() = param(theta, nd.param) * value(nd.args[0], c0, n);
        }
        return;
      case Op::diag: {  // column by column, see eval_term
        const auto v = value(nd.args[0], c0, n);
        const auto p = param(theta, nd.param).col(0).array();
        for (Index j = 0; j < n; ++j) o.col(j).array() = v.col(j).array() * p;
        return;
      }
      case Op::sum:
        eval_sum(theta, k, o, c0, n, Op::identity);
        return;
      case Op::mul:
        o.array() = value(nd.args[0], c0, n).array() * value(nd.args[1], c0, n).array();
        return;
      case Op::sigmoid:
      case Op::tanh:
      case Op::relu:
      case Op::identity:
        store(o.array(), value(nd.args[0], c0, n).array(), nd.op);
        return;
      default:
        return;
    }
  }

  // Sum k into o, then the activation act (Op::identity: none). Per step, the fused
  // projections accumulate into o (PackedLhs only adds), so o is initialised first: by
  // the seed (precomputed for all steps), else by the first element-wise term, else zeros.
  // The last element-wise term, the offset and act share one pass.
  void eval_sum(const ConstVectorRef<S>& theta, int k, MMap& o, Index c0, Index n, Op act) {
    const Node& nd = node(k);
    const SumPlan& plan = np(k).sum;
    bool init = plan.seed >= 0;
    std::size_t e = 0;
    if (nd.dynamic && !init && !plan.gemm.empty()) {
      if (!plan.ew.empty())
        eval_term(theta, nd, plan.ew[e++], o, c0, n, false, Op::identity, S(0));
      else
        o.setZero();
      init = true;
    }
    for (int i : plan.gemm) {
      const int a = nd.args[static_cast<std::size_t>(i)];
      const auto v = value(node(a).args[0], c0, n);
      if (nd.dynamic) {
        packed_[static_cast<std::size_t>(a)].multiply_add(v, o);
        continue;
      }
      const S c = static_cast<S>(nd.coef[static_cast<std::size_t>(i)]);
      const auto W = param(theta, node(a).param);
      if (init)
        o.noalias() += c * W * v;
      else
        o.noalias() = c * W * v;
      init = true;
    }
    const S offset = static_cast<S>(nd.value);
    bool done = act == Op::identity && offset == 0;
    for (; e < plan.ew.size(); ++e) {
      const bool last = e + 1 == plan.ew.size();
      const bool merged = eval_term(theta, nd, plan.ew[e], o, c0, n, init,
                                    last ? act : Op::identity, last ? offset : S(0));
      done = done || (last && merged);
      init = true;
    }
    if (!done) store(o.array(), o.array() + offset, act);
  }

  // Element-wise term i of sum nd: o = act((o if add) + term + offset). Returns false
  // for a fused bias, which is added on its own (act and offset not applied).
  bool eval_term(const ConstVectorRef<S>& theta, const Node& nd, int i, MMap& o, Index c0, Index n,
                 bool add, Op act, S offset) {
    const int a = nd.args[static_cast<std::size_t>(i)];
    const S c = static_cast<S>(nd.coef[static_cast<std::size_t>(i)]);
    const Node& t = node(a);
    if (np(a).owner >= 0 && t.op == Op::bias) {
      // Column by column: colwise() with c * b would evaluate c * b into a heap temporary
      // on every call (Eigen's Replicate of an expression), per step in a dynamic sum.
      const auto b = param(theta, t.param).col(0);
      for (Index j = 0; j < n; ++j) {
        if (add)
          o.col(j) += c * b;
        else
          o.col(j) = c * b;
      }
      return false;
    }
    if (np(a).owner >= 0) {  // diag
      // Column by column: colwise() * p would be a Replicate with a run-time factor, which
      // Eigen evaluates coefficient by coefficient with a modulo.
      const auto p = param(theta, t.param).col(0).array();
      const auto v = value(t.args[0], c0, n);
      for (Index j = 0; j < n; ++j)
        store_term(o.col(j).array(), v.col(j).array() * p * c, add, act, offset);
    } else if (np(a).inline_in >= 0) {
      store_term(o.array(), value(t.args[0], c0, n).array() * value(t.args[1], c0, n).array() * c,
                 add, act, offset);
    } else {
      store_term(o.array(), value(a, c0, n).array() * c, add, act, offset);
    }
    return true;
  }

  void backprop(const ConstVectorRef<S>& theta, int k, Index c0, Index n) {
    if (!needs(k)) return;
    // Nothing reached k at this step: its gradient is zero, so is what it passes on.
    if (!accumulate_all_ && !written_[static_cast<std::size_t>(k)]) return;
    const Node& nd = node(k);
    const CMap g = gview(k, c0, n);
    switch (nd.op) {
      case Op::weight:
        if (!needs(nd.args[0])) return;
        if (np(k).per_step)
          put_packed(nd.args[0], c0, n, packed_[static_cast<std::size_t>(k)], g);
        else
          put_product(nd.args[0], c0, n, param(theta, nd.param).transpose() * g);
        return;
      case Op::diag:
        if (needs(nd.args[0])) put_diag(nd.args[0], c0, n, g, param(theta, nd.param), S(1));
        return;
      case Op::sum:
        backprop_sum(theta, k, g, c0, n);
        return;
      case Op::mul: {
        const int a = nd.args[0], b = nd.args[1];
        if (needs(a)) put_array(a, c0, n, g.array() * value(b, c0, n).array());
        if (needs(b)) put_array(b, c0, n, g.array() * value(a, c0, n).array());
        return;
      }
      default:
        break;
    }
    if (nd.args.empty() || !needs(nd.args[0])) return;
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
    // The sum this activation computes is not in the node lists: its gradient is complete.
    if (np(k).sum_of == a) backprop(theta, a, c0, n);
  }

  void backprop_sum(const ConstVectorRef<S>& theta, int k, const CMap& g, Index c0, Index n) {
    const Node& nd = node(k);
    const SumPlan& plan = np(k).sum;
    for (std::size_t i = 0; i < nd.args.size(); ++i) {
      if (static_cast<int>(i) == plan.seed) continue;  // its gradient is this sum's
      const int a = nd.args[i];
      const S c = static_cast<S>(nd.coef[i]);
      const Node& t = node(a);
      if (np(a).owner == k) {
        if (t.op == Op::bias || !needs(t.args[0])) continue;
        if (t.op == Op::diag)
          put_diag(t.args[0], c0, n, g, param(theta, t.param), c);
        else if (np(a).per_step)
          put_packed(t.args[0], c0, n, packed_[static_cast<std::size_t>(a)], g);
        else
          put_product(t.args[0], c0, n, (c * param(theta, t.param).transpose()) * g);
      } else if (np(a).inline_in == k) {
        const int u = t.args[0], v = t.args[1];
        if (needs(u)) put_array(u, c0, n, g.array() * value(v, c0, n).array() * c);
        if (needs(v)) put_array(v, c0, n, g.array() * value(u, c0, n).array() * c);
      } else if (needs(a)) {
        if (c == S(1))
          put(a, c0, n, g);
        else
          put(a, c0, n, c * g);
      }
    }
  }

  std::shared_ptr<const Program> p_;
  std::vector<ParamTensor> tensors_;
  FusionPlan plan_;
  std::vector<cells::PackedLhs<S>> packed_;  // per weight node: W forward, W^T backward
  Matrix<S> scaled_;                         // a weight times its coefficient, for packing
  int with_dx_ = 0;              // backward: 1 when dx is wanted (which gradients are needed)
  std::vector<int> zero_;        // nodes whose gradient buffer backward() uses
  std::vector<char> written_;    // backward: node's block of this step written
  bool accumulate_all_ = false;  // backward: after the step loop every write adds
  const S* x_ = nullptr;
  Matrix<S> x_copy_;  // x when it is not contiguous
  std::vector<Matrix<S>> val_, grad_;
  CellState<S> state_, carry_;
};

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

}  // namespace cellzoo::lang
