// mgu: the Minimal Gated Unit (Zhou, Wu, Zhang & Zhou 2016, "Minimal gated unit for
// recurrent neural networks"), a GRU with one gate that both resets and updates.
//
//   f = sigmoid(W_f x + R_f h_prev + b_f)
//   n = tanh(W_n x + R_n (f * h_prev) + b_n)
//   h = (1 - f) * h_prev + f * n
//
// Differs from gru in one line: the reset gate r and the update gate are the same gate f
// (and f weighs the new candidate, as in the paper, where gru's z keeps the old state).
// Parameters: W (2H x I) rows f, n; R_f (H x H); R_n (H x H); b (2H) rows f, n.
// Count: 2H(I + H + 1). Initialisation: the standard rule of cell.hpp; b_f is the
// forget-gate bias (the cell language's convention for a gate named f), so forget_bias
// sets it. Its cell-language twin is mgu.cell next to this file.
//
// This file is an example plugin (docs/plugins.md): the cell is written exactly as a
// built-in cell in framework/cells/ would be, and CELLZOO_PLUGIN at the bottom replaces
// the line in builtin_cells.def.
#include "framework/cells/packed_gemm.hpp"
#include "framework/cells/plugin.hpp"
#include "framework/cells/state_history.hpp"

namespace {

using namespace cellzoo;
using namespace cellzoo::cells;

template <typename S>
class MguCell final : public Cell<S> {
  using Cell<S>::layout_;
  using Cell<S>::param;
  using Cell<S>::grad;

 public:
  MguCell(Index input, Index hidden) : Cell<S>(input, hidden) {
    layout_.add("W", 2 * hidden, input, ParamKind::input_weight);
    layout_.add("R_f", hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("R_n", hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("b", 2 * hidden, 1, ParamKind::bias);
    W_ = layout_.find("W");
    R_f_ = layout_.find("R_f");
    R_n_ = layout_.find("R_n");
    b_ = layout_.find("b");
  }

  std::optional<std::pair<Index, Index>> forget_bias_range() const override {
    return std::pair{b_.offset, b_.offset + this->hidden_size()};
  }

 protected:
  void do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                  const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    const auto b = param(theta, b_);
    begin_history(initial, H, seq, scratch_, hs_);

    // gates_: the input pre-activations of all steps, then (in place) f and n.
    // fh_: f * h_prev, the input of R_n, which backward needs for dR_n.
    gates_.resize(2 * H, T * B);
    gates_.colwise() = b.col(0);
    gates_.noalias() += W * x;
    fh_.resize(H, T * B);
    packed_f_.pack(param(theta, R_f_), B);
    packed_n_.pack(param(theta, R_n_), B);
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t);
      const auto h_prev = hs_.middleCols(t * B, n);
      auto f = gates_.middleCols(t * B, n).topRows(H);
      auto cand = gates_.middleCols(t * B, n).bottomRows(H);
      packed_f_.multiply_add(h_prev, f);
      f = f.array().logistic();
      auto fh = fh_.middleCols(t * B, n);
      fh = f.array() * h_prev.array();
      packed_n_.multiply_add(fh, cand);
      cand = cand.array().tanh();
      hs_.middleCols((t + 1) * B, n) =
          (S(1) - f.array()) * h_prev.array() + f.array() * cand.array();
      if (n < B) {
        hs_.middleCols((t + 1) * B + n, B - n).setZero();
        fh_.middleCols(t * B + n, B - n).setZero();
      }
    }
    h_out = hs_.rightCols(T * B);
    gather_final(hs_, seq, final);
  }

  void do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                   ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    // dgates_: dLoss/d(pre-activations of f and n); dfh_: dLoss/d(f * h_prev) of one step.
    dgates_.resize(2 * H, T * B);
    dh_.setZero(H, B);
    dfh_.resize(H, B);
    packed_f_.pack_transposed(param(theta, R_f_), B);
    packed_n_.pack_transposed(param(theta, R_n_), B);
    auto db = grad(dtheta, b_);
    db.setZero();
    for (Index t = T - 1; t >= 0; --t) {
      const Index n = seq.active(t);
      const auto f = gates_.middleCols(t * B, n).topRows(H).array();
      const auto cand = gates_.middleCols(t * B, n).bottomRows(H).array();
      const auto h_prev = hs_.middleCols(t * B, n).array();
      auto df = dgates_.middleCols(t * B, n).topRows(H);
      auto dn = dgates_.middleCols(t * B, n).bottomRows(H);
      auto dh = dh_.leftCols(n);
      auto dfh = dfh_.leftCols(n);
      dh += dh_out.middleCols(t * B, n);
      dn = dh.array() * f * (S(1) - cand.square());
      dfh.setZero();
      packed_n_.multiply_add(dn, dfh);  // R_n^T dn
      df = (dh.array() * (cand - h_prev) + dfh.array() * h_prev) * f * (S(1) - f);
      if (n < B) dgates_.middleCols(t * B + n, B - n).setZero();
      db.noalias() += dgates_.middleCols(t * B, n).rowwise().sum();
      if (t == 0) break;  // no gradient into the initial state
      dh = dh.array() * (S(1) - f) + dfh.array() * f;
      packed_f_.multiply_add(df, dh);  // R_f^T df
    }
    grad(dtheta, W_).noalias() = dgates_ * x.transpose();
    grad(dtheta, R_f_).noalias() = dgates_.topRows(H) * hs_.leftCols(T * B).transpose();
    grad(dtheta, R_n_).noalias() = dgates_.bottomRows(H) * fh_.transpose();
    if (dx) dx->noalias() = W.transpose() * dgates_;
  }

 private:
  ParamTensor W_, R_f_, R_n_, b_;
  CellState<S> scratch_;
  Matrix<S> hs_, gates_, fh_, dgates_, dh_, dfh_;
  PackedLhs<S> packed_f_, packed_n_;  // R_f and R_n (transposed in backward)
};

}  // namespace

CELLZOO_PLUGIN(registry) {
  // Family "mgu", not "gru": `cellzoo bench` counts 3 gate blocks for the gru family and
  // otherwise the input weight's rows over H (2 here) in its FLOP figures.
  registry.add<MguCell>({"mgu", "mgu",
                         "minimal gated unit, one gate resets and updates (Zhou et al. 2016); "
                         "example plugin",
                         "2H(I+H+1)"});
}
