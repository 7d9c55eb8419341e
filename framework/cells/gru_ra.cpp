// gru-ra: the GRU with the reset gate applied AFTER the recurrent product (Cho et al.
// 2014 arXiv v1 ordering; the form of cuDNN, PyTorch's nn.GRU and Keras reset_after=True).
//
//   r_t = sigmoid(W_r x_t + R_r h_{t-1} + b_r)
//   z_t = sigmoid(W_z x_t + R_z h_{t-1} + b_z)
//   n_t = tanh(W_n x_t + b_n + r_t * (R_n h_{t-1} + b_hn))
//   h_t = z_t * h_{t-1} + (1 - z_t) * n_t            (z keeps the old state)
//
// Parameters, gate order r, z, n (PyTorch's): W (3H x I), R (3H x H), b (3H), b_hn (H).
// Count: 3H(I + H + 1) + H. b_hn is separate because it sits inside r * (...), so unlike
// the other recurrent biases it cannot be folded into b.
// Differs from gru only in where r acts (see gru.cpp); here all three recurrent products
// are one GEMM per step.
// PyTorch twin: nn.GRU with W = weight_ih_l0, R = weight_hh_l0,
// b[0:2H] = bias_ih_l0[0:2H] + bias_hh_l0[0:2H], b[2H:3H] = bias_ih_l0[2H:3H],
// b_hn = bias_hh_l0[2H:3H].
#include "framework/cells/packed_gemm.hpp"
#include "framework/cells/registry.hpp"
#include "framework/cells/state_history.hpp"
#include "framework/util/blas.hpp"

namespace cellzoo::cells {
namespace {

template <typename S>
class GruResetAfterCell final : public Cell<S> {
  using Cell<S>::layout_;
  using Cell<S>::param;
  using Cell<S>::grad;

 public:
  GruResetAfterCell(Index input, Index hidden) : Cell<S>(input, hidden) {
    layout_.add("W", 3 * hidden, input, ParamKind::input_weight);
    layout_.add("R", 3 * hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("b", 3 * hidden, 1, ParamKind::bias);
    layout_.add("b_hn", hidden, 1, ParamKind::bias);
    W_ = layout_.find("W");
    R_ = layout_.find("R");
    b_ = layout_.find("b");
    b_hn_ = layout_.find("b_hn");
  }

 protected:
  void do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                  const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto b_hn = param(theta, b_hn_);
    begin_history(initial, H, seq, scratch_, hs_);

    // gates_: input pre-activations, then (in place) r, z and n. un_: R_n h_{t-1} + b_hn,
    // which backward needs for dr. The r, z rows of R h_{t-1} accumulate straight into
    // gates_ and the n rows into un_ (preset to b_hn), from R packed once (packed_gemm.hpp).
    prepare(theta, x, B, T);
    un_.resize(H, T * B);
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t);
      auto g = gates_.middleCols(t * B, n);
      const auto h_prev = hs_.middleCols(t * B, n);
      auto rz = g.topRows(2 * H);
      packed_rz_.multiply_add(h_prev, rz);
      rz = rz.array().logistic();
      auto un = un_.middleCols(t * B, n);
      un.colwise() = b_hn.col(0);
      packed_n_.multiply_add(h_prev, un);
      auto cand = g.bottomRows(H);
      cand = (cand.array() + g.topRows(H).array() * un.array()).tanh();
      const auto z = g.middleRows(H, H).array();
      hs_.middleCols((t + 1) * B, n) = z * h_prev.array() + (S(1) - z) * cand.array();
      if (n < B) hs_.middleCols((t + 1) * B + n, B - n).setZero();
    }
    h_out = hs_.rightCols(T * B);
    gather_final(hs_, seq, final);
  }

  // Forward-only: do_forward()'s operations on the same values (its results, bit for
  // bit), with h and R_n h + b_hn of one step in B-column windows at do_forward()'s
  // alignment (state_history.hpp) instead of histories over all steps.
  void do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto b_hn = param(theta, b_hn_);
    reset_state(initial, 1, H, B, scratch_);
    for (auto& w : h_win_) size_window_scratch(w, H, B);
    size_window_scratch(un_win_, H, B);
    prepare(theta, x, B, T);
    // h_{t-1} where do_forward() has it (hs_ column t*B), h_t where it puts it; scratch_[0]
    // then collects the h of every sequence that has ended (its final state).
    aligned_window(h_win_[1], 0, B) = scratch_[0];
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t);
      auto g = gates_.middleCols(t * B, n);
      const auto h_prev = aligned_window(h_win_[(t + 1) % 2], t * B, n);
      auto rz = g.topRows(2 * H);
      packed_rz_.multiply_add(h_prev, rz);
      rz = rz.array().logistic();
      auto un = aligned_window(un_win_, t * B, n);
      un.colwise() = b_hn.col(0);
      packed_n_.multiply_add(h_prev, un);
      auto cand = g.bottomRows(H);
      cand = (cand.array() + g.topRows(H).array() * un.array()).tanh();
      const auto z = g.middleRows(H, H).array();
      auto h = aligned_window(h_win_[t % 2], (t + 1) * B, n);
      h = z * h_prev.array() + (S(1) - z) * cand.array();
      h_out.middleCols(t * B, n) = h;
      if (n < B) h_out.middleCols(t * B + n, B - n).setZero();
      const Index n_next = t + 1 < T ? seq.active(t + 1) : 0;
      for (Index j = n_next; j < n; ++j) scratch_[0].col(j) = h.col(j);  // ended at step t
    }
    if (final) *final = scratch_;
  }

  void do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                   ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    const auto R = param(theta, R_);
    // dgates_: dLoss/d(input pre-activations); drec_n_: dLoss/d(R_n h_{t-1}). dLoss/d(R h_{t-1})
    // equals dgates_ in the r, z rows and differs in the n rows, where r sits between the
    // product and the candidate.
    dgates_.resize(3 * H, T * B);
    drec_n_.resize(H, T * B);
    dh_.setZero(H, B);
    packed_rz_.pack_transposed(R.topRows(2 * H), B);
    packed_n_.pack_transposed(R.bottomRows(H), B);
    // Bias gradients are summed step by step while the step's gradients are in cache.
    auto db = grad(dtheta, b_);
    auto db_hn = grad(dtheta, b_hn_);
    db.setZero();
    db_hn.setZero();
    for (Index t = T - 1; t >= 0; --t) {
      const Index n = seq.active(t);
      const auto g = gates_.middleCols(t * B, n);
      const auto r = g.topRows(H).array();
      const auto z = g.middleRows(H, H).array();
      const auto cand = g.bottomRows(H).array();
      const auto un = un_.middleCols(t * B, n).array();
      const auto h_prev = hs_.middleCols(t * B, n).array();
      auto dg = dgates_.middleCols(t * B, n);
      auto drec_n = drec_n_.middleCols(t * B, n);
      auto dh = dh_.leftCols(n);
      dh += dh_out.middleCols(t * B, n);
      dg.bottomRows(H) = dh.array() * (S(1) - z) * (S(1) - cand.square());
      dg.middleRows(H, H) = dh.array() * (h_prev - cand) * z * (S(1) - z);
      dg.topRows(H) = dg.bottomRows(H).array() * un * r * (S(1) - r);
      drec_n = dg.bottomRows(H).array() * r;
      if (n < B) {
        dgates_.middleCols(t * B + n, B - n).setZero();
        drec_n_.middleCols(t * B + n, B - n).setZero();
      }
      db.noalias() += dg.rowwise().sum();
      db_hn.noalias() += drec_n.rowwise().sum();
      if (t == 0) break;  // no gradient into the initial state
      dh = dh.array() * z;
      packed_rz_.multiply_add(dg.topRows(2 * H), dh);
      packed_n_.multiply_add(drec_n, dh);
    }
    // Weight gradients over all steps at once.
    blas::gemm<S>(dgates_, false, x, true, grad(dtheta, W_), false);
    auto dR = grad(dtheta, R_);
    blas::gemm<S>(dgates_.topRows(2 * H), false, hs_.leftCols(T * B), true, dR.topRows(2 * H),
                  false);
    blas::gemm<S>(drec_n_, false, hs_.leftCols(T * B), true, dR.bottomRows(H), false);
    if (dx) {
      dx->resize(W.cols(), T * B);
      blas::gemm<S>(W, true, dgates_, false, *dx, false);
    }
  }

 private:
  // Shared by forward and infer (so both compute the same values, bit for bit): gates_
  // gets every step's input pre-activations b + W x (the bias seeds the product: no
  // zeroing pass), and R's r, z rows and n rows are packed for batch B (packed_gemm.hpp).
  void prepare(ConstVectorRef<S> theta, ConstMatrixRef<S> x, Index B, Index T) {
    const Index H = this->hidden_size();
    const auto R = param(theta, R_);
    gates_.resize(3 * H, T * B);
    gates_.colwise() = param(theta, b_).col(0);
    blas::gemm<S>(param(theta, W_), false, x, false, gates_, true);
    packed_rz_.pack(R.topRows(2 * H), B);
    packed_n_.pack(R.bottomRows(H), B);
  }

  ParamTensor W_, R_, b_, b_hn_;
  CellState<S> scratch_;
  Matrix<S> hs_, gates_, un_, dgates_, drec_n_, dh_;
  Matrix<S> h_win_[2], un_win_;        // infer(): this step's and the previous h, R_n h + b_hn
  PackedLhs<S> packed_rz_, packed_n_;  // rows r, z and n of R (transposed in backward)
};

}  // namespace

void register_cell_gru_ra(CellRegistry& registry) {
  registry.add<GruResetAfterCell>(
      {"gru-ra", "gru",
       "GRU, reset after the recurrent product, separate b_hn (Cho et al. 2014 v1; cuDNN, "
       "PyTorch nn.GRU)",
       "3H(I+H+1) + H"});
}

}  // namespace cellzoo::cells
