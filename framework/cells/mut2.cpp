// mut2: the second of the three best mutants of Jozefowicz, Zaremba & Sutskever 2015
// ("An Empirical Exploration of Recurrent Network Architectures", ICML), as printed there.
//
//   z_t = sigmoid(W_z x_t + R_z h_{t-1} + b_z)
//   r_t = sigmoid(x_t + R_r h_{t-1} + b_r)             (raw x, no input weights)
//   n_t = tanh(R_h (r_t * h_{t-1}) + W_h x_t + b_h)
//   h_t = z_t * n_t + (1 - z_t) * h_{t-1}             (z takes the new candidate)
//
// x enters r without a weight matrix, so the input size must equal the hidden size.
// Parameters, gate order r, z, n: W (2H x I) = [W_z; W_h] (rows of z and n),
// R (2H x H) = [R_r; R_z], Rh (H x H), b (3H) = [b_r; b_z; b_h]. Count: 2HI + 3H^2 + 3H.
// Compared with gru: r loses its input weights to the raw x, and z's role is flipped.
#include <string>

#include "framework/cells/packed_gemm.hpp"
#include "framework/cells/registry.hpp"
#include "framework/cells/state_history.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cells {
namespace {

template <typename S>
class Mut2Cell final : public Cell<S> {
  using Cell<S>::layout_;
  using Cell<S>::param;
  using Cell<S>::grad;

 public:
  Mut2Cell(Index input, Index hidden) : Cell<S>(input, hidden) {
    if (input != hidden)
      throw Error(
          "mut2 adds x to the reset gate unweighted, so it needs input size == hidden "
          "size (got input " +
              std::to_string(input) + ", hidden " + std::to_string(hidden) + ")",
          "use the same input and hidden size, e.g. put an embedding or another layer "
          "of the hidden size in front, as Jozefowicz et al. did");
    layout_.add("W", 2 * hidden, input, ParamKind::input_weight);
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
    // Every step's recurrent products read the weights packed once (packed_gemm.hpp).
    packed_r_.pack(R, B);
    packed_h_.pack(Rh, B);

    // gates_: pre-activations (r from x, z and n from W x), then r, z, n in place.
    gates_.resize(3 * H, T * B);
    gates_.topRows(H) = x;
    gates_.bottomRows(2 * H).noalias() = W * x;
    gates_.colwise() += b.col(0);
    rh_.resize(H, T * B);
    for (Index t = 0; t < T; ++t) {
      const Index n = seq.active(t);
      auto g = gates_.middleCols(t * B, n);
      const auto h_prev = hs_.middleCols(t * B, n);
      auto rz = g.topRows(2 * H);
      packed_r_.multiply_add(h_prev, rz);
      rz = rz.array().logistic();
      auto rh = rh_.middleCols(t * B, n);
      rh = g.topRows(H).array() * h_prev.array();
      auto cand = g.bottomRows(H);
      packed_h_.multiply_add(rh, cand);
      cand = cand.array().tanh();
      const auto z = g.middleRows(H, H).array();
      hs_.middleCols((t + 1) * B, n) = z * cand.array() + (S(1) - z) * h_prev.array();
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
    packed_r_.pack_transposed(param(theta, R_), B);
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
      dg.bottomRows(H) = dh.array() * z * (S(1) - cand.square());
      dg.middleRows(H, H) = dh.array() * (cand - h_prev) * z * (S(1) - z);
      auto drh = drh_.leftCols(n);
      drh.setZero();
      packed_h_.multiply_add(dg.bottomRows(H), drh);  // R_h^T dn
      dg.topRows(H) = drh.array() * h_prev * r * (S(1) - r);
      dh = dh.array() * (S(1) - z) + drh.array() * r;
      packed_r_.multiply_add(dg.topRows(2 * H), dh);
      if (n < B) dgates_.middleCols(t * B + n, B - n).setZero();
    }
    // Weight gradients over all steps at once.
    grad(dtheta, W_).noalias() = dgates_.bottomRows(2 * H) * x.transpose();
    grad(dtheta, R_).noalias() = dgates_.topRows(2 * H) * hs_.leftCols(T * B).transpose();
    grad(dtheta, Rh_).noalias() = dgates_.bottomRows(H) * rh_.transpose();
    grad(dtheta, b_) = dgates_.rowwise().sum();
    if (dx) {
      dx->noalias() = W.transpose() * dgates_.bottomRows(2 * H);
      *dx += dgates_.topRows(H);
    }
  }

 private:
  ParamTensor W_, R_, Rh_, b_;
  PackedLhs<S> packed_r_, packed_h_;  // R and R_h (transposed in backward)
  CellState<S> scratch_;
  Matrix<S> hs_, gates_, rh_, dgates_, dh_, drh_;
};

}  // namespace

void register_cell_mut2(CellRegistry& registry) {
  CellInfo info{"mut2", "mut", "MUT2: raw x into the reset gate (Jozefowicz et al. 2015)",
                "2HI + 3H^2 + 3H"};
  info.square_input = true;
  registry.add<Mut2Cell>(std::move(info));
}

}  // namespace cellzoo::cells
