// rnn: the vanilla tanh recurrent network (Elman 1990; the "Tanh RNN" of Jozefowicz et
// al. 2015).
//
//   h_t = tanh(W x_t + R h_{t-1} + b)
//
// Parameters: W (H x I), R (H x H), b (H). Count: H(I + H + 1).
// PyTorch twin: nn.RNN(nonlinearity='tanh') with W = weight_ih_l0, R = weight_hh_l0,
// b = bias_ih_l0 + bias_hh_l0.
#include "framework/cells/packed_gemm.hpp"
#include "framework/cells/registry.hpp"
#include "framework/util/blas.hpp"

namespace cellzoo::cells {
namespace {

template <typename S>
class RnnCell final : public Cell<S> {
  using Cell<S>::layout_;
  using Cell<S>::param;
  using Cell<S>::grad;

 public:
  RnnCell(Index input, Index hidden) : Cell<S>(input, hidden) {
    layout_.add("W", hidden, input, ParamKind::input_weight);
    layout_.add("R", hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("b", hidden, 1, ParamKind::bias);
    W_ = layout_.find("W");
    R_ = layout_.find("R");
    b_ = layout_.find("b");
  }

 protected:
  void do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                  const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    const auto R = param(theta, R_);
    const auto b = param(theta, b_);
    reset_state(initial, 1, H, B, state_);
    initial_h_ = state_[0];
    auto& h = state_[0];

    // All input projections in one GEMM; `hs_` then becomes h_t in place, step by step.
    // R is packed once for the per-step products (packed_gemm.hpp).
    hs_.resize(H, T * B);
    hs_.colwise() = b.col(0);  // the bias seeds the product (no zeroing pass)
    blas::gemm<S>(W, false, x, false, hs_, true);
    packed_.pack(R, B);
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t);
      auto pre = hs_.middleCols(t * B, n);
      packed_.multiply_add(h.leftCols(n), pre);
      pre = pre.array().tanh();
      h.leftCols(n) = pre;
      if (n < B) hs_.middleCols(t * B + n, B - n).setZero();
    }
    h_out = hs_;
    if (final) *final = state_;
  }

  void do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                   ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    const auto R = param(theta, R_);
    dpre_.resize(H, T * B);
    dh_.setZero(H, B);
    packed_.pack_transposed(R, B);
    // dh_ holds dLoss/dh_t: the output gradient of step t (copied in before the product,
    // which then accumulates into it) plus R^T dpre of step t+1.
    if (T > 0) dh_.leftCols(seq.active(T - 1)) = dh_out.middleCols((T - 1) * B, seq.active(T - 1));
    for (Index t = T - 1; t >= 0; --t) {
      const Index n = seq.active(t);
      auto dpre = dpre_.middleCols(t * B, n);
      const auto h = hs_.middleCols(t * B, n);
      dpre = dh_.leftCols(n).array() * (S(1) - h.array().square());
      if (n < B) dpre_.middleCols(t * B + n, B - n).setZero();
      if (t == 0) break;  // no gradient into the initial state
      const Index n_prev = seq.active(t - 1);
      dh_.leftCols(n_prev) = dh_out.middleCols((t - 1) * B, n_prev);
      packed_.multiply_add(dpre, dh_.leftCols(n));
    }
    // Weight gradients over all steps at once.
    blas::gemm<S>(dpre_, false, x, true, grad(dtheta, W_), false);
    auto dR = grad(dtheta, R_);
    blas::gemm<S>(dpre_.leftCols(B), false, initial_h_, true, dR, false);
    if (T > 1)
      blas::gemm<S>(dpre_.rightCols((T - 1) * B), false, hs_.leftCols((T - 1) * B), true, dR, true);
    grad(dtheta, b_) = dpre_.rowwise().sum();
    if (dx) {
      dx->resize(W.cols(), dpre_.cols());
      blas::gemm<S>(W, true, dpre_, false, *dx, false);
    }
  }

 private:
  ParamTensor W_, R_, b_;
  CellState<S> state_;
  Matrix<S> initial_h_, hs_, dpre_, dh_;
  PackedLhs<S> packed_;  // R in forward, R^T in backward
};

}  // namespace

void register_cell_rnn(CellRegistry& registry) {
  registry.add<RnnCell>({"rnn", "rnn",
                         "tanh RNN, h = tanh(Wx + Rh + b) (Elman 1990; Jozefowicz et al. 2015)",
                         "H(I+H+1)"});
}

}  // namespace cellzoo::cells
