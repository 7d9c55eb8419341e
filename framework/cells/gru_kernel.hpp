// GruCell<S>: the one kernel behind the GRUs whose reset gate acts before the recurrent
// product: gru and Jozefowicz et al.'s MUT1-MUT3 (gru.cpp, mut1.cpp, ...). Each is this
// kernel with different GruOptions; the general step is
//
//   r_t = sigmoid(in_r + R_r h_{t-1} + b_r)          in_r = W_r x_t, or x_t (raw)
//   z_t = sigmoid(W_z x_t + rec_z + b_z)             rec_z = R_z h_{t-1}, R_z tanh(h_{t-1}),
//                                                    or nothing
//   n_t = tanh(in_n + R_h (r_t * h_{t-1}) + b_n)     in_n = W_n x_t, or tanh(x_t)
//   h_t = z_t * h_{t-1} + (1 - z_t) * n_t            (z keeps the old state), or
//   h_t = z_t * n_t + (1 - z_t) * h_{t-1}            (z takes the new candidate)
//
// Parameters, in this order: W (K*H x I) with the rows of the gates whose input is
// weighted, in the order r, z, n (K of them); R (H or 2H x H) = R_r, or [R_r; R_z] when z
// reads h; Rz (H x H) only when z reads tanh(h); Rh (H x H); b (3H) = [b_r; b_z; b_n].
// An unweighted input (raw x, tanh x) needs input size == hidden size.
//
// Layout of the work: the input terms of all steps are one GEMM (W x) plus b; each step
// runs the recurrent products on its active columns with the weights packed once per pass
// (packed_gemm.hpp), then fused element-wise passes. The history of h (initial state in
// column block 0), r * h and tanh(h) is kept for every step, so each weight gradient is one
// GEMM over the sequence. gru-ra (reset after the product, PyTorch's form) has a kernel of
// its own: there r multiplies R_n h + b_hn, which changes the step's structure.
#pragma once

#include "framework/cells/cell.hpp"
#include "framework/cells/packed_gemm.hpp"

namespace cellzoo::cells {

struct GruOptions {
  enum class ResetInput { weighted, raw };          // in_r: W_r x, or x itself
  enum class UpdateRecurrence { h, tanh_h, none };  // rec_z
  enum class CandidateInput { weighted, tanh };     // in_n: W_n x, or tanh(x)

  ResetInput reset_input = ResetInput::weighted;
  UpdateRecurrence update_recurrence = UpdateRecurrence::h;
  CandidateInput candidate_input = CandidateInput::weighted;
  bool update_keeps_old = true;  // h = z h + (1 - z) n (gru); false: h = z n + (1 - z) h
  const char* name = "gru";      // for the input-size error
};

template <typename S>
class GruCell final : public Cell<S> {
 public:
  // Throws cellzoo::Error when an unweighted input needs input size == hidden size.
  GruCell(Index input_size, Index hidden_size, GruOptions options);

 protected:
  void do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                  const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override;
  void do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                   ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override;
  // Forward-only: h, tanh(h) and r * h of one step in B-column windows (state_history.hpp)
  // instead of histories over all steps.
  void do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override;

 private:
  // Shared by forward and infer: packs the recurrent matrices for batch B and fills
  // gates_ with every step's input part of the pre-activations (W x or the raw inputs,
  // plus the bias), so both compute the same values, bit for bit.
  void prepare(ConstVectorRef<S> theta, ConstMatrixRef<S> x, Index B, Index T);

  using Cell<S>::layout_;
  using Cell<S>::param;
  using Cell<S>::grad;

  GruOptions options_;
  Index weighted_first_ = 0, weighted_rows_ = 0;  // rows of gates_ that W fills
  Index recurrent_rows_ = 0;                      // rows of gates_ that R fills (from row 0)
  ParamTensor W_, R_, Rz_, Rh_, b_;
  PackedLhs<S> packed_r_, packed_z_, packed_h_;  // R, R_z, R_h (transposed in backward)
  CellState<S> scratch_;
  Matrix<S> hs_, gates_, th_, rh_, dgates_, dh_, drh_, dth_;
  Matrix<S> h_win_[2], th_win_, rh_win_;  // infer(): this step's and the previous h, ...
};

extern template class GruCell<float>;
extern template class GruCell<double>;

}  // namespace cellzoo::cells
