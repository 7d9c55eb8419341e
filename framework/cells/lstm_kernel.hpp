// LstmCell<S>: the one kernel behind the whole LSTM family (Greff et al. 2015, "LSTM: A
// Search Space Odyssey"). Each registered variant (lstm.cpp, lstm_nig.cpp, ...) is this
// kernel with a different LstmOptions; the equations of the full cell are
//
//   z_t = g(W_z x_t + R_z y_{t-1} + b_z)                          block input
//   i_t = sigmoid(W_i x_t + R_i y_{t-1} + p_i * c_{t-1} + b_i)    input gate
//   f_t = sigmoid(W_f x_t + R_f y_{t-1} + p_f * c_{t-1} + b_f)    forget gate
//   c_t = z_t * i_t + c_{t-1} * f_t                               cell state
//   o_t = sigmoid(W_o x_t + R_o y_{t-1} + p_o * c_t + b_o)        output gate (NEW c_t)
//   y_t = h(c_t) * o_t                                            output = state 0
//
// with g = h = tanh and diagonal peepholes p_*. A removed gate is the constant 1 and loses
// its rows of W, R and b and its peephole; the coupled variant sets f = 1 - i; full gate
// recurrence adds R_gates * [i_{t-1}; f_{t-1}; o_{t-1}] to the gate pre-activations.
//
// Parameters (docs/parameters.md), in this order: W (G*H x I), R (G*H x H), b (G*H), then
// p_i, p_f, p_o (H x 1, present gates only, unless peepholes are off), then R_gates
// (K*H x K*H, full gate recurrence only). G = 1 + K rows blocks stacked z, i, f, o (removed
// gates skipped); K = number of gates with parameters. R_gates block (r, s) maps gate s
// at t-1 to gate r at t, both in the order i, f, o.
//
// States: 0 = y (= h), 1 = c; full gate recurrence adds the previous step's activations of
// the K gates as states 2..K+1 (i, f, o order), so that carrying the state across windows
// of a long sequence is exact. A zero initial state means zero gate activations at t = -1.
//
// Layout of the work: x is projected for all steps in one GEMM (W x + b); each step runs
// one GEMM R * y_{t-1} (plus R_gates * a_{t-1}) on the active columns, then one fused
// pass per column over H rows. The history of y, c and the gate activations is kept with
// the initial state in column block 0, so every y_{t-1} / c_{t-1} / a_{t-1} is a plain
// column block (no copies) and the weight gradients are one GEMM each over all steps.
// The kernel's buffers are sized before the time loop. R (and R_gates) is packed for
// Eigen's micro-kernel once per forward and once (transposed) per backward, instead of on
// every per-step product, which also removes Eigen's per-product workspace allocation
// (packed_gemm.hpp).
#pragma once

#include "framework/cells/cell.hpp"
#include "framework/cells/packed_gemm.hpp"

namespace cellzoo::cells {

enum class LstmActivation { tanh, identity };

struct LstmOptions {
  bool input_gate = true;
  bool forget_gate = true;
  bool output_gate = true;
  bool coupled_input_forget = false;  // f = 1 - i: needs input_gate and no forget_gate
  LstmActivation input_activation = LstmActivation::tanh;   // g, on the block input z
  LstmActivation output_activation = LstmActivation::tanh;  // h, on the cell state
  bool peepholes = true;
  bool full_gate_recurrence = false;
};

template <typename S>
class LstmCell final : public Cell<S> {
 public:
  // Throws cellzoo::Error on an inconsistent option set (e.g. coupling without input gate).
  LstmCell(Index input_size, Index hidden_size, LstmOptions options);

  const LstmOptions& options() const { return options_; }
  Index state_count() const override { return 2 + (options_.full_gate_recurrence ? gates_ : 0); }
  std::optional<std::pair<Index, Index>> forget_bias_range() const override;

 protected:
  void do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                  const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override;
  void do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                   ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override;
  // Forward-only: y straight into h_out, c in two buffers of B columns (this step's and
  // the previous one's), h(c_t) in one column; no histories of y, c or h(c).
  void do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override;

 private:
  using Array = Eigen::Array<S, Eigen::Dynamic, 1>;
  using Col = Eigen::Map<Array>;
  using ConstCol = Eigen::Map<const Array>;

  // Pointers to the peepholes of one call (nullptr where absent).
  struct Peepholes {
    const S* i = nullptr;
    const S* f = nullptr;
    const S* o = nullptr;
  };
  Peepholes peepholes(const ConstVectorRef<S>& theta) const;

  void forward_column(S* a, const S* c_prev, S* c, S* y, S* hc, const Peepholes& p);
  void backward_column(const S* a, const S* c_prev, const S* c, const S* hc, S* dy, S* dc_carry,
                       const S* da, S* d, const Peepholes& p);

  using Cell<S>::layout_;
  using Cell<S>::param;
  using Cell<S>::grad;

  LstmOptions options_;
  Index gates_ = 0;   // K: gates with parameters (i, f, o as present)
  Index blocks_ = 0;  // G = 1 + K row blocks in W, R, b
  // Row offsets (in units of H rows) of each block inside W/R/b; -1 if the gate is absent.
  Index row_i_ = -1, row_f_ = -1, row_o_ = -1;
  ParamTensor W_, R_, b_, p_i_, p_f_, p_o_, R_gates_;

  // Constant 1 stands in for an absent gate, so one expression serves every variant.
  Array ones_, f_tmp_, dc_tmp_, hc_tmp_;
  // Scalars per maximal alignment (EIGEN_MAX_ALIGN_BYTES is 64 at most): see do_infer().
  static constexpr Index kAlign = 16;
  CellState<S> scratch_;
  // acts_: G*H x (T+1)*B, block 0 = initial gate activations (full gate recurrence), block
  // t+1 = pre-activations, then activations, of step t. ys_, cs_: H x (T+1)*B histories.
  // hc_ = h(c_t) (H x T*B, kept only when h = tanh). dacts_: G*H x T*B pre-activation grads.
  Matrix<S> acts_, ys_, cs_, hc_, dacts_, dy_, dc_, da_;
  // infer(): pre-activations of all steps (activations in place), the previous step's
  // gate activations (full gate recurrence).
  Matrix<S> pre_, gates_prev_, c_steps_[2];
  // R and R_gates packed for the per-step products (transposed in backward).
  PackedLhs<S> packed_R_, packed_Rg_;
};

extern template class LstmCell<float>;
extern template class LstmCell<double>;

}  // namespace cellzoo::cells
