// mut3: the third of the three best mutants of Jozefowicz, Zaremba & Sutskever 2015
// ("An Empirical Exploration of Recurrent Network Architectures", ICML), as printed there.
//
//   z_t = sigmoid(W_z x_t + R_z tanh(h_{t-1}) + b_z)   (z sees tanh(h))
//   r_t = sigmoid(W_r x_t + R_r h_{t-1} + b_r)
//   n_t = tanh(R_h (r_t * h_{t-1}) + W_h x_t + b_h)
//   h_t = z_t * n_t + (1 - z_t) * h_{t-1}             (z takes the new candidate)
//
// Parameters, gate order r, z, n: W (3H x I), R (H x H) = R_r, Rz (H x H), Rh (H x H),
// b (3H). Count: 3H(I + H + 1), the same as gru.
// Compared with gru: z reads tanh(h) instead of h, and z's role is flipped. The three
// recurrent matrices multiply three different vectors (h, tanh h, r * h), hence three
// tensors; tanh(h_{t-1}) and r * h_{t-1} are kept for every step so that each weight
// gradient is one GEMM over the sequence.
#include "framework/cells/packed_gemm.hpp"
#include "framework/cells/registry.hpp"
#include "framework/cells/state_history.hpp"

namespace cellzoo::cells {
namespace {

template <typename S>
class Mut3Cell final : public Cell<S> {
  using Cell<S>::layout_;
  using Cell<S>::param;
  using Cell<S>::grad;

 public:
  Mut3Cell(Index input, Index hidden) : Cell<S>(input, hidden) {
    layout_.add("W", 3 * hidden, input, ParamKind::input_weight);
    layout_.add("R", hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("Rz", hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("Rh", hidden, hidden, ParamKind::recurrent_weight);
    layout_.add("b", 3 * hidden, 1, ParamKind::bias);
    W_ = layout_.find("W");
    R_ = layout_.find("R");
    Rz_ = layout_.find("Rz");
    Rh_ = layout_.find("Rh");
    b_ = layout_.find("b");
  }

  void forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
               const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    const auto R = param(theta, R_);
    const auto Rz = param(theta, Rz_);
    const auto Rh = param(theta, Rh_);
    const auto b = param(theta, b_);
    begin_history(initial, H, seq, scratch_, hs_);
    // Every step's recurrent products read the weights packed once (packed_gemm.hpp).
    packed_r_.pack(R, B);
    packed_z_.pack(Rz, B);
    packed_h_.pack(Rh, B);

    gates_.resize(3 * H, T * B);  // pre-activations, then r, z, n in place
    gates_.noalias() = W * x;
    gates_.colwise() += b.col(0);
    th_.resize(H, T * B);
    rh_.resize(H, T * B);
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t);
      auto g = gates_.middleCols(t * B, n);
      const auto h_prev = hs_.middleCols(t * B, n);
      auto th = th_.middleCols(t * B, n);
      th = h_prev.array().tanh();
      packed_r_.multiply_add(h_prev, g.topRows(H));
      packed_z_.multiply_add(th, g.middleRows(H, H));
      g.topRows(2 * H) = g.topRows(2 * H).array().logistic();
      auto rh = rh_.middleCols(t * B, n);
      rh = g.topRows(H).array() * h_prev.array();
      auto cand = g.bottomRows(H);
      packed_h_.multiply_add(rh, cand);
      cand = cand.array().tanh();
      const auto z = g.middleRows(H, H).array();
      hs_.middleCols((t + 1) * B, n) = z * cand.array() + (S(1) - z) * h_prev.array();
      if (n < B) {  // finite values for the weight-gradient GEMMs
        hs_.middleCols((t + 1) * B + n, B - n).setZero();
        th_.middleCols(t * B + n, B - n).setZero();
        rh_.middleCols(t * B + n, B - n).setZero();
      }
    }
    h_out = hs_.rightCols(T * B);
    gather_final(hs_, seq, final);
  }

  void backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override {
    const Index B = seq.batch(), T = seq.steps(), H = this->hidden_size();
    const auto W = param(theta, W_);
    packed_r_.pack_transposed(param(theta, R_), B);
    packed_z_.pack_transposed(param(theta, Rz_), B);
    packed_h_.pack_transposed(param(theta, Rh_), B);
    dgates_.resize(3 * H, T * B);
    dh_.setZero(H, B);
    drh_.resize(H, B);
    dth_.resize(H, B);
    for (Index t = T - 1; t >= 0; --t) {
      const Index n = seq.active(t);
      const auto g = gates_.middleCols(t * B, n);
      const auto r = g.topRows(H).array();
      const auto z = g.middleRows(H, H).array();
      const auto cand = g.bottomRows(H).array();
      const auto h_prev = hs_.middleCols(t * B, n).array();
      const auto th = th_.middleCols(t * B, n).array();
      auto dg = dgates_.middleCols(t * B, n);
      auto dh = dh_.leftCols(n);
      dh += dh_out.middleCols(t * B, n);
      dg.bottomRows(H) = dh.array() * z * (S(1) - cand.square());
      dg.middleRows(H, H) = dh.array() * (cand - h_prev) * z * (S(1) - z);
      auto drh = drh_.leftCols(n);
      auto dth = dth_.leftCols(n);
      drh.setZero();
      packed_h_.multiply_add(dg.bottomRows(H), drh);  // R_h^T dn
      dth.setZero();
      packed_z_.multiply_add(dg.middleRows(H, H), dth);  // R_z^T dz
      dg.topRows(H) = drh.array() * h_prev * r * (S(1) - r);
      dh = dh.array() * (S(1) - z) + drh.array() * r + dth.array() * (S(1) - th.square());
      packed_r_.multiply_add(dg.topRows(H), dh);
      if (n < B) dgates_.middleCols(t * B + n, B - n).setZero();
    }
    // Weight gradients over all steps at once.
    grad(dtheta, W_).noalias() = dgates_ * x.transpose();
    grad(dtheta, R_).noalias() = dgates_.topRows(H) * hs_.leftCols(T * B).transpose();
    grad(dtheta, Rz_).noalias() = dgates_.middleRows(H, H) * th_.transpose();
    grad(dtheta, Rh_).noalias() = dgates_.bottomRows(H) * rh_.transpose();
    grad(dtheta, b_) = dgates_.rowwise().sum();
    if (dx) dx->noalias() = W.transpose() * dgates_;
  }

 private:
  ParamTensor W_, R_, Rz_, Rh_, b_;
  PackedLhs<S> packed_r_, packed_z_, packed_h_;  // R, R_z, R_h (transposed in backward)
  CellState<S> scratch_;
  Matrix<S> hs_, gates_, th_, rh_, dgates_, dh_, drh_, dth_;
};

}  // namespace

void register_cell_mut3(CellRegistry& registry) {
  registry.add<Mut3Cell>(
      {"mut3", "mut", "MUT3: tanh(h) into the update gate (Jozefowicz et al. 2015)", "3H(I+H+1)"});
}

}  // namespace cellzoo::cells
