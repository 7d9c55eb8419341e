// The LSTM family kernel (see lstm_kernel.hpp for the equations and layouts).
//
// Backward, per step t from the last (dy, dc arrive from step t+1; da = dL/d(gate
// activations of step t) from step t+1's R_gates, full gate recurrence only):
//   do = (dy * h(c_t) + da_o) * o(1 - o)
//   dc = dc_carry + dy * o * h'(c_t) + p_o * do
//   di = (dc * z + da_i) * i(1 - i)          (coupled: dc * (z - c_{t-1}) instead of dc * z)
//   df = (dc * c_{t-1} + da_f) * f(1 - f)
//   dz = dc * i * g'(z)
//   dc_carry(t-1) = dc * f + p_i * di + p_f * df
//   dy(t-1) = R^T [dz; di; df; do],  da(t-1) = R_gates^T [di; df; do]
#include "framework/cells/lstm_kernel.hpp"

#include <string>

#include "framework/util/blas.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cells {

template <typename S>
LstmCell<S>::LstmCell(Index input_size, Index hidden_size, LstmOptions options)
    : Cell<S>(input_size, hidden_size), options_(options) {
  if (options.coupled_input_forget && (!options.input_gate || options.forget_gate))
    throw Error("lstm: a coupled forget gate (f = 1 - i) needs an input gate and no forget gate",
                "set input_gate = true and forget_gate = false with coupled_input_forget");
  Index next = 1;  // block 0 is the block input z
  if (options.input_gate) row_i_ = next++;
  if (options.forget_gate) row_f_ = next++;
  if (options.output_gate) row_o_ = next++;
  blocks_ = next;
  gates_ = next - 1;
  if (options.full_gate_recurrence && gates_ == 0)
    throw Error("lstm: full gate recurrence needs at least one gate",
                "keep a gate or turn full_gate_recurrence off");

  const Index H = hidden_size;
  layout_.add("W", blocks_ * H, input_size, ParamKind::input_weight);
  layout_.add("R", blocks_ * H, H, ParamKind::recurrent_weight);
  layout_.add("b", blocks_ * H, 1, ParamKind::bias);
  if (options.peepholes) {
    if (row_i_ >= 0) layout_.add("p_i", H, 1, ParamKind::peephole);
    if (row_f_ >= 0) layout_.add("p_f", H, 1, ParamKind::peephole);
    if (row_o_ >= 0) layout_.add("p_o", H, 1, ParamKind::peephole);
  }
  if (options.full_gate_recurrence)
    layout_.add("R_gates", gates_ * H, gates_ * H, ParamKind::recurrent_weight);
  W_ = layout_.find("W");
  R_ = layout_.find("R");
  b_ = layout_.find("b");
  if (layout_.has("p_i")) p_i_ = layout_.find("p_i");
  if (layout_.has("p_f")) p_f_ = layout_.find("p_f");
  if (layout_.has("p_o")) p_o_ = layout_.find("p_o");
  if (layout_.has("R_gates")) R_gates_ = layout_.find("R_gates");

  ones_ = Array::Ones(H);
  f_tmp_.resize(H);
  dc_tmp_.resize(H);
  hc_tmp_.resize(H + kAlign);
}

template <typename S>
std::optional<std::pair<Index, Index>> LstmCell<S>::forget_bias_range() const {
  if (row_f_ < 0) return std::nullopt;
  const Index H = this->hidden_size();
  return std::make_pair(b_.offset + row_f_ * H, b_.offset + (row_f_ + 1) * H);
}

template <typename S>
typename LstmCell<S>::Peepholes LstmCell<S>::peepholes(const ConstVectorRef<S>& theta) const {
  Peepholes p;
  if (p_i_.size() > 0) p.i = theta.data() + p_i_.offset;
  if (p_f_.size() > 0) p.f = theta.data() + p_f_.offset;
  if (p_o_.size() > 0) p.o = theta.data() + p_o_.offset;
  return p;
}

// One step of one sequence: `a` holds the column's pre-activations [z; i; f; o] and
// receives the activations in place.
template <typename S>
void LstmCell<S>::forward_column(S* a, const S* c_prev, S* c, S* y, S* hc, const Peepholes& p) {
  const Index H = this->hidden_size();
  const ConstCol cp(c_prev, H);
  Col z(a, H);
  if (options_.input_activation == LstmActivation::tanh) z = z.tanh();
  const S* ip = ones_.data();
  if (row_i_ >= 0) {
    Col i(a + row_i_ * H, H);
    if (p.i)
      i = (i + ConstCol(p.i, H) * cp).logistic();
    else
      i = i.logistic();
    ip = i.data();
  }
  const S* fp = ones_.data();
  if (row_f_ >= 0) {
    Col f(a + row_f_ * H, H);
    if (p.f)
      f = (f + ConstCol(p.f, H) * cp).logistic();
    else
      f = f.logistic();
    fp = f.data();
  } else if (options_.coupled_input_forget) {
    f_tmp_ = S(1) - ConstCol(ip, H);
    fp = f_tmp_.data();
  }
  Col cc(c, H);
  cc = z * ConstCol(ip, H) + ConstCol(fp, H) * cp;
  Col yy(y, H);
  const bool tanh_out = options_.output_activation == LstmActivation::tanh;
  if (tanh_out) Col(hc, H) = cc.tanh();
  const ConstCol hv(tanh_out ? hc : c, H);
  if (row_o_ >= 0) {
    Col o(a + row_o_ * H, H);
    if (p.o)
      o = (o + ConstCol(p.o, H) * cc).logistic();
    else
      o = o.logistic();
    yy = hv * o;
  } else {
    yy = hv;
  }
}

// Backward of one step of one sequence: writes the pre-activation gradients `d`
// [dz; di; df; do] and replaces dc_carry by the cell-state gradient for step t-1.
template <typename S>
void LstmCell<S>::backward_column(const S* a, const S* c_prev, const S* c, const S* hc, S* dy_p,
                                  S* dc_carry, const S* da, S* d, const Peepholes& p) {
  const Index H = this->hidden_size();
  const ConstCol cp(c_prev, H), dy(dy_p, H);
  Col dcar(dc_carry, H);
  Array& dc = dc_tmp_;
  const bool tanh_out = options_.output_activation == LstmActivation::tanh;
  const ConstCol hv(tanh_out ? hc : c, H);
  if (row_o_ >= 0) {
    const ConstCol o(a + row_o_ * H, H);
    Col d_o(d + row_o_ * H, H);
    if (da)
      d_o = (dy * hv + ConstCol(da + (row_o_ - 1) * H, H)) * o * (S(1) - o);
    else
      d_o = dy * hv * o * (S(1) - o);
    if (tanh_out)
      dc = dcar + dy * o * (S(1) - hv.square());
    else
      dc = dcar + dy * o;
    if (p.o) dc += ConstCol(p.o, H) * d_o;
  } else if (tanh_out) {
    dc = dcar + dy * (S(1) - hv.square());
  } else {
    dc = dcar + dy;
  }

  const ConstCol z(a, H);
  const S* ip = ones_.data();
  if (row_i_ >= 0) {
    ip = a + row_i_ * H;
    const ConstCol i(ip, H);
    Col d_i(d + row_i_ * H, H);
    if (options_.coupled_input_forget)
      d_i = dc * (z - cp);
    else
      d_i = dc * z;
    if (da) d_i += ConstCol(da + (row_i_ - 1) * H, H);
    d_i *= i * (S(1) - i);
  }
  if (row_f_ >= 0) {
    const ConstCol f(a + row_f_ * H, H);
    Col d_f(d + row_f_ * H, H);
    if (da)
      d_f = (dc * cp + ConstCol(da + (row_f_ - 1) * H, H)) * f * (S(1) - f);
    else
      d_f = dc * cp * f * (S(1) - f);
  }
  const ConstCol i(ip, H);
  Col d_z(d, H);
  if (options_.input_activation == LstmActivation::tanh)
    d_z = dc * i * (S(1) - z.square());
  else
    d_z = dc * i;

  if (row_f_ >= 0)
    dcar = dc * ConstCol(a + row_f_ * H, H);
  else if (options_.coupled_input_forget)
    dcar = dc * (S(1) - i);
  else
    dcar = dc;
  if (p.i) dcar += ConstCol(p.i, H) * ConstCol(d + row_i_ * H, H);
  if (p.f) dcar += ConstCol(p.f, H) * ConstCol(d + row_f_ * H, H);
}

template <typename S>
void LstmCell<S>::do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x,
                             const SequenceLayout& seq, const CellState<S>* initial,
                             MatrixRef<S> h_out, CellState<S>* final) {
  const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
  const Index GH = blocks_ * H, KH = gates_ * H;
  const bool fgr = options_.full_gate_recurrence;
  const auto W = param(theta, W_);
  const auto R = param(theta, R_);
  const auto b = param(theta, b_);
  const Peepholes p = peepholes(theta);

  reset_state(initial, state_count(), H, B, scratch_);
  acts_.resize(GH, (T + 1) * B);
  ys_.resize(H, (T + 1) * B);
  cs_.resize(H, (T + 1) * B);
  ys_.leftCols(B) = scratch_[0];
  cs_.leftCols(B) = scratch_[1];
  if (fgr)
    for (Index k = 0; k < gates_; ++k)
      acts_.block((k + 1) * H, 0, H, B) = scratch_[static_cast<std::size_t>(k + 2)];

  auto pre = acts_.rightCols(T * B);
  pre.colwise() = b.col(0);  // the bias seeds the product (no zeroing pass)
  blas::gemm<S>(W, false, x, false, pre, true);
  const bool keep_hc = options_.output_activation == LstmActivation::tanh;
  if (keep_hc) hc_.resize(H, T * B);
  // The recurrent weights are packed once for all steps (packed_gemm.hpp).
  packed_R_.pack(R, B);
  if (fgr) packed_Rg_.pack(param(theta, R_gates_), B);
  for (Index t = 0; t < T; ++t) {
    const Index n = seq.active(t);
    auto a = acts_.middleCols((t + 1) * B, n);
    packed_R_.multiply_add(ys_.middleCols(t * B, n), a);
    if (fgr) packed_Rg_.multiply_add(acts_.block(H, t * B, KH, n), a.bottomRows(KH));
    for (Index j = 0; j < n; ++j) {
      const Index col = t * B + j;
      forward_column(acts_.col(B + col).data(), cs_.col(col).data(), cs_.col(B + col).data(),
                     ys_.col(B + col).data(), keep_hc ? hc_.col(col).data() : nullptr, p);
    }
    if (n < B) {  // padding: zero output, and finite history for the gradient GEMMs
      ys_.middleCols((t + 1) * B + n, B - n).setZero();
      cs_.middleCols((t + 1) * B + n, B - n).setZero();
    }
  }
  h_out = ys_.rightCols(T * B);

  if (!final) return;
  final->resize(static_cast<std::size_t>(state_count()));
  for (auto& s : *final) s.resize(H, B);
  for (Index bb = 0; bb < B; ++bb) {
    const Index col = seq.length(bb) * B + bb;  // history block after the sequence's last step
    (*final)[0].col(bb) = ys_.col(col);
    (*final)[1].col(bb) = cs_.col(col);
    if (fgr)
      for (Index k = 0; k < gates_; ++k)
        (*final)[static_cast<std::size_t>(k + 2)].col(bb) = acts_.block((k + 1) * H, col, H, 1);
  }
}

template <typename S>
void LstmCell<S>::do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                           const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) {
  // The same operations on the same values as do_forward(), so the same results bit for
  // bit: one GEMM of the same shape for the input projections, the same packed product
  // per step (y_{t-1} read from h_out), the same column pass. Only where values are kept
  // differs: y goes straight to h_out, c_t to one of two B-column buffers (c_{t-1} is in
  // the other; a sequence's last c is saved when it ends), h(c_t) to one scratch column,
  // the gate activations stay in pre_ (full gate recurrence reads the previous step's from
  // a copy). Eigen peels the unaligned head of a vectorised pass off to scalar code, where
  // the compiler may fuse a * b + c and its tanh/logistic may differ in the last bit, so
  // every buffer such a pass writes to starts at the training pass's alignment: pre_ has
  // acts_'s layout, and the c and h(c_t) columns of step t start where cs_'s and hc_'s
  // would, modulo kAlign scalars.
  const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
  const Index GH = blocks_ * H, KH = gates_ * H;
  const bool fgr = options_.full_gate_recurrence;
  const auto W = param(theta, W_);
  const auto b = param(theta, b_);
  const Peepholes p = peepholes(theta);

  reset_state(initial, state_count(), H, B, scratch_);
  if (fgr) {
    gates_prev_.resize(KH, B);
    for (Index k = 0; k < gates_; ++k)
      gates_prev_.middleRows(k * H, H) = scratch_[static_cast<std::size_t>(k + 2)];
  }
  for (auto& cb : c_steps_) cb.resize(H, B + kAlign);
  pre_.resize(GH, (T + 1) * B);  // block 0 unused: the columns of step t as in acts_
  auto pre_all = pre_.rightCols(T * B);
  pre_all.colwise() = b.col(0);
  blas::gemm<S>(W, false, x, false, pre_all, true);
  const bool tanh_out = options_.output_activation == LstmActivation::tanh;
  packed_R_.pack(param(theta, R_), B);
  if (fgr) packed_Rg_.pack(param(theta, R_gates_), B);
  // scratch_[1] holds c_{-1}, then the c of every sequence that has ended.
  const S* c_prev = scratch_[1].data();
  for (Index t = 0; t < T; ++t) {
    const Index n = seq.active(t);
    auto a = pre_.middleCols((t + 1) * B, n);
    if (t == 0)
      packed_R_.multiply_add(scratch_[0].leftCols(n), a);
    else
      packed_R_.multiply_add(h_out.middleCols((t - 1) * B, n), a);
    if (fgr) packed_Rg_.multiply_add(gates_prev_.leftCols(n), a.bottomRows(KH));
    S* c_now = c_steps_[t % 2].col(((t + 1) * B) % kAlign).data();  // cs_ column (t+1)*B
    for (Index j = 0; j < n; ++j)
      forward_column(a.col(j).data(), c_prev + j * H, c_now + j * H, h_out.col(t * B + j).data(),
                     tanh_out ? hc_tmp_.data() + (t * B + j) * H % kAlign : nullptr, p);
    if (fgr) gates_prev_.leftCols(n) = a.bottomRows(KH);
    if (n < B) h_out.middleCols(t * B + n, B - n).setZero();
    const Index n_next = t + 1 < T ? seq.active(t + 1) : 0;
    for (Index j = n_next; j < n; ++j)  // sequences ending at step t
      scratch_[1].col(j) = Eigen::Map<const Vector<S>>(c_now + j * H, H);
    c_prev = c_now;
  }

  if (!final) return;
  final->resize(static_cast<std::size_t>(state_count()));
  for (auto& st : *final) st.resize(H, B);
  for (Index bb = 0; bb < B; ++bb) {
    const Index L = seq.length(bb);
    if (L > 0)
      (*final)[0].col(bb) = h_out.col((L - 1) * B + bb);
    else
      (*final)[0].col(bb) = scratch_[0].col(bb);
    (*final)[1].col(bb) = scratch_[1].col(bb);
    if (fgr)
      for (Index k = 0; k < gates_; ++k)
        (*final)[static_cast<std::size_t>(k + 2)].col(bb) = gates_prev_.block(k * H, bb, H, 1);
  }
}

template <typename S>
void LstmCell<S>::do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x,
                              const SequenceLayout& seq, ConstMatrixRef<S> dh_out,
                              VectorRef<S> dtheta, Matrix<S>* dx) {
  const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
  const Index GH = blocks_ * H, KH = gates_ * H, TB = T * B;
  const bool fgr = options_.full_gate_recurrence;
  const auto W = param(theta, W_);
  const auto R = param(theta, R_);
  const Peepholes p = peepholes(theta);
  const bool keep_hc = options_.output_activation == LstmActivation::tanh;

  dacts_.resize(GH, TB);
  dy_.setZero(H, B);
  dc_.setZero(H, B);
  if (fgr) da_.setZero(KH, B);
  packed_R_.pack_transposed(R, B);
  if (fgr) packed_Rg_.pack_transposed(param(theta, R_gates_), B);
  // dy_ = dLoss/dy_t: step t's output gradient, copied in before the recurrent product of
  // step t+1 accumulates into it (no separate zeroing pass).
  if (T > 0) dy_.leftCols(seq.active(T - 1)) = dh_out.middleCols((T - 1) * B, seq.active(T - 1));
  // The bias gradient is summed step by step while the step's gradients are in cache.
  auto db = grad(dtheta, b_);
  db.setZero();
  for (Index t = T - 1; t >= 0; --t) {
    const Index n = seq.active(t);
    for (Index j = 0; j < n; ++j) {
      const Index col = t * B + j;
      backward_column(acts_.col(B + col).data(), cs_.col(col).data(), cs_.col(B + col).data(),
                      keep_hc ? hc_.col(col).data() : nullptr, dy_.col(j).data(), dc_.col(j).data(),
                      fgr ? da_.col(j).data() : nullptr, dacts_.col(col).data(), p);
    }
    if (n < B) dacts_.middleCols(t * B + n, B - n).setZero();
    db.noalias() += dacts_.middleCols(t * B, n).rowwise().sum();
    if (t == 0) break;  // no gradient into the initial state
    const Index n_prev = seq.active(t - 1);
    dy_.leftCols(n_prev) = dh_out.middleCols((t - 1) * B, n_prev);
    packed_R_.multiply_add(dacts_.middleCols(t * B, n), dy_.leftCols(n));
    if (fgr) {
      da_.leftCols(n).setZero();
      packed_Rg_.multiply_add(dacts_.block(H, t * B, KH, n), da_.leftCols(n));
    }
  }

  // Weight gradients over all steps at once; padded columns of dacts_ are zero.
  blas::gemm<S>(dacts_, false, x, true, grad(dtheta, W_), false);
  blas::gemm<S>(dacts_, false, ys_.leftCols(TB), true, grad(dtheta, R_), false);
  if (p.i)
    grad(dtheta, p_i_) =
        (dacts_.middleRows(row_i_ * H, H).array() * cs_.leftCols(TB).array()).rowwise().sum();
  if (p.f)
    grad(dtheta, p_f_) =
        (dacts_.middleRows(row_f_ * H, H).array() * cs_.leftCols(TB).array()).rowwise().sum();
  if (p.o)
    grad(dtheta, p_o_) =
        (dacts_.middleRows(row_o_ * H, H).array() * cs_.rightCols(TB).array()).rowwise().sum();
  if (fgr)
    blas::gemm<S>(dacts_.bottomRows(KH), false, acts_.block(H, 0, KH, TB), true,
                  grad(dtheta, R_gates_), false);
  if (dx) {
    dx->resize(W.cols(), TB);
    blas::gemm<S>(W, true, dacts_, false, *dx, false);
  }
}

template class LstmCell<float>;
template class LstmCell<double>;

}  // namespace cellzoo::cells
