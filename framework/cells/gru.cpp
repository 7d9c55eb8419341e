// gru: the gated recurrent unit with the reset gate applied to h BEFORE the recurrent
// product (Cho et al. 2014, arXiv:1406.1078 v3; the GRU of Jozefowicz et al. 2015).
//
//   r_t = sigmoid(W_r x_t + R_r h_{t-1} + b_r)
//   z_t = sigmoid(W_z x_t + R_z h_{t-1} + b_z)
//   n_t = tanh(W_n x_t + R_h (r_t * h_{t-1}) + b_n)
//   h_t = z_t * h_{t-1} + (1 - z_t) * n_t            (z keeps the old state)
//
// Parameters, gate order r, z, n: W (3H x I), R (2H x H) = [R_r; R_z], Rh (H x H),
// b (3H). Count: 3H(I + H + 1).
// Differs from gru-ra only in where r acts: R_h (r * h) here, r * (R_n h + b_hn) there;
// the two differ whenever R_h is not diagonal, and only gru-ra matches PyTorch's nn.GRU.
// R_h is a tensor of its own because its operand r * h exists only after the step's gates;
// r * h is kept for every step so that dR_h is one GEMM over the sequence.
#include "framework/cells/packed_gemm.hpp"
#include "framework/cells/registry.hpp"
#include "framework/cells/state_history.hpp"

namespace cellzoo::cells {
namespace {

template <typename S>
class GruCell final : public Cell<S> {
  using Cell<S>::layout_;
  using Cell<S>::param;
  using Cell<S>::grad;

 public:
  GruCell(Index input, Index hidden) : Cell<S>(input, hidden) {
    layout_.add("W", 3 * hidden, input, ParamKind::input_weight);
    layout_.add("R", 2 * hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("Rh", hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("b", 3 * hidden, 1, ParamKind::bias);
    W_ = layout_.find("W");
    R_ = layout_.find("R");
    Rh_ = layout_.find("Rh");
    b_ = layout_.find("b");
  }

  void forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
               const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    const auto R = param(theta, R_);
    const auto Rh = param(theta, Rh_);
    const auto b = param(theta, b_);
    begin_history(initial, H, seq, scratch_, hs_);

    // gates_ holds the pre-activations, then (in place) r, z and n of every step.
    gates_.resize(3 * H, T * B);
    gates_.noalias() = W * x;
    gates_.colwise() += b.col(0);
    rh_.resize(H, T * B);
    // The recurrent products of every step read R and R_h packed once (packed_gemm.hpp).
    packed_rz_.pack(R, B);
    packed_h_.pack(Rh, B);
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t);
      auto g = gates_.middleCols(t * B, n);
      const auto h_prev = hs_.middleCols(t * B, n);
      auto rz = g.topRows(2 * H);
      packed_rz_.multiply_add(h_prev, rz);
      rz = rz.array().logistic();
      auto rh = rh_.middleCols(t * B, n);
      rh = g.topRows(H).array() * h_prev.array();
      auto cand = g.bottomRows(H);
      packed_h_.multiply_add(rh, cand);
      cand = cand.array().tanh();
      const auto z = g.middleRows(H, H).array();
      hs_.middleCols((t + 1) * B, n) = z * h_prev.array() + (S(1) - z) * cand.array();
      if (n < B) {
        hs_.middleCols((t + 1) * B + n, B - n).setZero();
        rh_.middleCols(t * B + n, B - n).setZero();  // finite, for the dR_h GEMM
      }
    }
    h_out = hs_.rightCols(T * B);
    gather_final(hs_, seq, final);
  }

  void backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    packed_rz_.pack_transposed(param(theta, R_), B);
    packed_h_.pack_transposed(param(theta, Rh_), B);
    dgates_.resize(3 * H, T * B);
    dh_.setZero(H, B);
    drh_.resize(H, B);
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
      dg.bottomRows(H) = dh.array() * (S(1) - z) * (S(1) - cand.square());
      dg.middleRows(H, H) = dh.array() * (h_prev - cand) * z * (S(1) - z);
      auto drh = drh_.leftCols(n);
      drh.setZero();
      packed_h_.multiply_add(dg.bottomRows(H), drh);  // R_h^T dn
      dg.topRows(H) = drh.array() * h_prev * r * (S(1) - r);
      dh = dh.array() * z + drh.array() * r;
      packed_rz_.multiply_add(dg.topRows(2 * H), dh);  // + R^T [dr; dz]
      if (n < B) dgates_.middleCols(t * B + n, B - n).setZero();
    }
    // Weight gradients over all steps at once.
    grad(dtheta, W_).noalias() = dgates_ * x.transpose();
    grad(dtheta, R_).noalias() = dgates_.topRows(2 * H) * hs_.leftCols(T * B).transpose();
    grad(dtheta, Rh_).noalias() = dgates_.bottomRows(H) * rh_.transpose();
    grad(dtheta, b_) = dgates_.rowwise().sum();
    if (dx) dx->noalias() = W.transpose() * dgates_;
  }

 private:
  ParamTensor W_, R_, Rh_, b_;
  PackedLhs<S> packed_rz_, packed_h_;  // R and R_h (transposed in backward)
  CellState<S> scratch_;
  Matrix<S> hs_, gates_, rh_, dgates_, dh_, drh_;
};

}  // namespace

void register_cell_gru(CellRegistry& registry) {
  registry.add<GruCell>({"gru", "gru",
                         "GRU, reset before the recurrent product (Cho et al. 2014 v3; "
                         "Jozefowicz et al. 2015)",
                         "3H(I+H+1)"});
}

}  // namespace cellzoo::cells
