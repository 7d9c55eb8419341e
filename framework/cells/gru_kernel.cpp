#include "framework/cells/gru_kernel.hpp"

#include <string>

#include "framework/cells/state_history.hpp"
#include "framework/util/blas.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cells {

using ResetInput = GruOptions::ResetInput;
using UpdateRecurrence = GruOptions::UpdateRecurrence;
using CandidateInput = GruOptions::CandidateInput;

template <typename S>
GruCell<S>::GruCell(Index input, Index hidden, GruOptions options)
    : Cell<S>(input, hidden), options_(options) {
  const bool raw_reset = options.reset_input == ResetInput::raw;
  const bool tanh_candidate = options.candidate_input == CandidateInput::tanh;
  if ((raw_reset || tanh_candidate) && input != hidden)
    throw Error(std::string(options.name) +
                    (raw_reset ? " adds x to the reset gate unweighted"
                               : " adds tanh(x) to the candidate unweighted") +
                    ", so it needs input size == hidden size (got input " + std::to_string(input) +
                    ", hidden " + std::to_string(hidden) + ")",
                "use the same input and hidden size, e.g. put an embedding or another layer "
                "of the hidden size in front, as Jozefowicz et al. did");
  weighted_first_ = raw_reset ? hidden : 0;
  weighted_rows_ = 3 * hidden - weighted_first_ - (tanh_candidate ? hidden : 0);
  recurrent_rows_ = options.update_recurrence == UpdateRecurrence::h ? 2 * hidden : hidden;
  layout_.add("W", weighted_rows_, input, ParamKind::input_weight);
  layout_.add("R", recurrent_rows_, hidden, ParamKind::recurrent_weight);
  if (options.update_recurrence == UpdateRecurrence::tanh_h)
    layout_.add("Rz", hidden, hidden, ParamKind::recurrent_weight);
  layout_.add("Rh", hidden, hidden, ParamKind::recurrent_weight);
  layout_.add("b", 3 * hidden, 1, ParamKind::bias);
  W_ = layout_.find("W");
  R_ = layout_.find("R");
  if (options.update_recurrence == UpdateRecurrence::tanh_h) Rz_ = layout_.find("Rz");
  Rh_ = layout_.find("Rh");
  b_ = layout_.find("b");
}

template <typename S>
void GruCell<S>::prepare(ConstVectorRef<S> theta, ConstMatrixRef<S> x, Index B, Index T) {
  const Index H = this->hidden_size();
  packed_r_.pack(param(theta, R_), B);
  if (options_.update_recurrence == UpdateRecurrence::tanh_h) packed_z_.pack(param(theta, Rz_), B);
  packed_h_.pack(param(theta, Rh_), B);
  gates_.resize(3 * H, T * B);
  blas::gemm<S>(param(theta, W_), false, x, false,
                gates_.middleRows(weighted_first_, weighted_rows_), false);
  if (options_.reset_input == ResetInput::raw) gates_.topRows(H) = x;
  if (options_.candidate_input == CandidateInput::tanh) gates_.bottomRows(H) = x.array().tanh();
  gates_.colwise() += param(theta, b_).col(0);
}

template <typename S>
void GruCell<S>::do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                            const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) {
  const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
  const bool tanh_h = options_.update_recurrence == UpdateRecurrence::tanh_h;
  begin_history(initial, H, seq, scratch_, hs_);
  // gates_ holds the pre-activations of r, z and n, then (in place) r, z and n.
  prepare(theta, x, B, T);
  if (tanh_h) th_.resize(H, T * B);
  rh_.resize(H, T * B);
  for (Index t = 0; t < T; ++t) {
    const Index n = seq.active(t);
    auto g = gates_.middleCols(t * B, n);
    const auto h_prev = hs_.middleCols(t * B, n);
    packed_r_.multiply_add(h_prev, g.topRows(recurrent_rows_));
    if (tanh_h) {
      auto th = th_.middleCols(t * B, n);
      th = h_prev.array().tanh();
      packed_z_.multiply_add(th, g.middleRows(H, H));
    }
    g.topRows(2 * H) = g.topRows(2 * H).array().logistic();
    auto rh = rh_.middleCols(t * B, n);
    rh = g.topRows(H).array() * h_prev.array();
    auto cand = g.bottomRows(H);
    packed_h_.multiply_add(rh, cand);
    cand = cand.array().tanh();
    const auto z = g.middleRows(H, H).array();
    auto h = hs_.middleCols((t + 1) * B, n);
    if (options_.update_keeps_old)
      h = z * h_prev.array() + (S(1) - z) * cand.array();
    else
      h = z * cand.array() + (S(1) - z) * h_prev.array();
    if (n < B) {  // finite values for the weight-gradient GEMMs
      hs_.middleCols((t + 1) * B + n, B - n).setZero();
      if (tanh_h) th_.middleCols(t * B + n, B - n).setZero();
      rh_.middleCols(t * B + n, B - n).setZero();
    }
  }
  h_out = hs_.rightCols(T * B);
  gather_final(hs_, seq, final);
}

template <typename S>
void GruCell<S>::do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                          const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) {
  // do_forward()'s operations on the same values (so its results, bit for bit), with
  // every written buffer at do_forward()'s alignment (state_history.hpp).
  const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
  const bool tanh_h = options_.update_recurrence == UpdateRecurrence::tanh_h;
  reset_state(initial, 1, H, B, scratch_);
  for (auto& w : h_win_) size_window_scratch(w, H, B);
  if (tanh_h) size_window_scratch(th_win_, H, B);
  size_window_scratch(rh_win_, H, B);
  prepare(theta, x, B, T);
  // h_{t-1} sits where do_forward() has it (hs_ column t*B), h_t where it puts it (column
  // (t+1)*B), in two alternating windows; the initial state is h_{-1}. scratch_[0] then
  // collects the h of every sequence that has ended (its final state).
  aligned_window(h_win_[1], 0, B) = scratch_[0];
  for (Index t = 0; t < T; ++t) {
    const Index n = seq.active(t);
    auto g = gates_.middleCols(t * B, n);
    const auto h_prev = aligned_window(h_win_[(t + 1) % 2], t * B, n);
    packed_r_.multiply_add(h_prev, g.topRows(recurrent_rows_));
    if (tanh_h) {
      auto th = aligned_window(th_win_, t * B, n);
      th = h_prev.array().tanh();
      packed_z_.multiply_add(th, g.middleRows(H, H));
    }
    g.topRows(2 * H) = g.topRows(2 * H).array().logistic();
    auto rh = aligned_window(rh_win_, t * B, n);
    rh = g.topRows(H).array() * h_prev.array();
    auto cand = g.bottomRows(H);
    packed_h_.multiply_add(rh, cand);
    cand = cand.array().tanh();
    const auto z = g.middleRows(H, H).array();
    auto h = aligned_window(h_win_[t % 2], (t + 1) * B, n);
    if (options_.update_keeps_old)
      h = z * h_prev.array() + (S(1) - z) * cand.array();
    else
      h = z * cand.array() + (S(1) - z) * h_prev.array();
    h_out.middleCols(t * B, n) = h;
    if (n < B) h_out.middleCols(t * B + n, B - n).setZero();
    const Index n_next = t + 1 < T ? seq.active(t + 1) : 0;
    for (Index j = n_next; j < n; ++j) scratch_[0].col(j) = h.col(j);  // ended at step t
  }
  if (final) *final = scratch_;
}

template <typename S>
void GruCell<S>::do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x,
                             const SequenceLayout& seq, ConstMatrixRef<S> dh_out,
                             VectorRef<S> dtheta, Matrix<S>* dx) {
  const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
  const bool tanh_h = options_.update_recurrence == UpdateRecurrence::tanh_h;
  const bool keeps_old = options_.update_keeps_old;
  packed_r_.pack_transposed(param(theta, R_), B);
  if (tanh_h) packed_z_.pack_transposed(param(theta, Rz_), B);
  packed_h_.pack_transposed(param(theta, Rh_), B);
  dgates_.resize(3 * H, T * B);
  dh_.setZero(H, B);
  drh_.resize(H, B);
  if (tanh_h) dth_.resize(H, B);
  for (Index t = T - 1; t >= 0; --t) {
    const Index n = seq.active(t);
    const auto g = gates_.middleCols(t * B, n);
    const auto r = g.topRows(H).array();
    const auto z = g.middleRows(H, H).array();
    const auto cand = g.bottomRows(H).array();
    const auto h_prev = hs_.middleCols(t * B, n).array();
    auto dg = dgates_.middleCols(t * B, n);
    auto dh = dh_.leftCols(n);
    dh += dh_out.middleCols(t * B, n);
    if (keeps_old) {
      dg.bottomRows(H) = dh.array() * (S(1) - z) * (S(1) - cand.square());
      dg.middleRows(H, H) = dh.array() * (h_prev - cand) * z * (S(1) - z);
    } else {
      dg.bottomRows(H) = dh.array() * z * (S(1) - cand.square());
      dg.middleRows(H, H) = dh.array() * (cand - h_prev) * z * (S(1) - z);
    }
    auto drh = drh_.leftCols(n);
    drh.setZero();
    packed_h_.multiply_add(dg.bottomRows(H), drh);  // R_h^T dn
    dg.topRows(H) = drh.array() * h_prev * r * (S(1) - r);
    // dh_{t-1}: through the state update, r * h, tanh(h) (R_z^T dz) and R^T [dr; dz].
    if (tanh_h) {
      auto dth = dth_.leftCols(n);
      dth.setZero();
      packed_z_.multiply_add(dg.middleRows(H, H), dth);
      const auto th = th_.middleCols(t * B, n).array();
      if (keeps_old)
        dh = dh.array() * z + drh.array() * r + dth.array() * (S(1) - th.square());
      else
        dh = dh.array() * (S(1) - z) + drh.array() * r + dth.array() * (S(1) - th.square());
    } else if (keeps_old) {
      dh = dh.array() * z + drh.array() * r;
    } else {
      dh = dh.array() * (S(1) - z) + drh.array() * r;
    }
    packed_r_.multiply_add(dg.topRows(recurrent_rows_), dh);
    if (n < B) dgates_.middleCols(t * B + n, B - n).setZero();
  }
  // Weight gradients over all steps at once.
  const auto dweighted = dgates_.middleRows(weighted_first_, weighted_rows_);
  blas::gemm<S>(dweighted, false, x, true, grad(dtheta, W_), false);
  blas::gemm<S>(dgates_.topRows(recurrent_rows_), false, hs_.leftCols(T * B), true,
                grad(dtheta, R_), false);
  if (tanh_h) blas::gemm<S>(dgates_.middleRows(H, H), false, th_, true, grad(dtheta, Rz_), false);
  blas::gemm<S>(dgates_.bottomRows(H), false, rh_, true, grad(dtheta, Rh_), false);
  grad(dtheta, b_) = dgates_.rowwise().sum();
  if (dx) {
    dx->resize(x.rows(), x.cols());
    blas::gemm<S>(param(theta, W_), true, dweighted, false, *dx, false);
    if (options_.reset_input == ResetInput::raw) *dx += dgates_.topRows(H);
    if (options_.candidate_input == CandidateInput::tanh)
      dx->array() += dgates_.bottomRows(H).array() * (S(1) - x.array().tanh().square());
  }
}

template class GruCell<float>;
template class GruCell<double>;

}  // namespace cellzoo::cells
