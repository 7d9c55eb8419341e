// The cell interface: one recurrent layer run over a whole minibatch of sequences.
//
// Shapes (I = input size, H = hidden size, T steps, B sequences; see SequenceLayout):
//   x      I x (T*B)   inputs, column t*B + b
//   h_out  H x (T*B)   the cell's output h at every step (zero at padded positions)
//   state  state_count() matrices of H x B; state 0 is h, LSTMs add c as state 1
//   theta  the cell's slice of the model's flat parameter vector (see ParamLayout)
//
// forward() keeps in the cell's workspace what backward() needs, so a Cell object
// belongs to one run (one thread). backward() must follow the forward() of the same
// batch; it overwrites dtheta with dLoss/dtheta given dh_out = dLoss/dh_out, and
// optionally writes dx = dLoss/dx. Gradients do not flow into the initial state
// (truncated BPTT cuts there).
//
// Implementations follow the cuDNN-style restructuring: one GEMM for the input
// projections of all steps, per step only the recurrent GEMM and one fused pass over the
// gates, and in backward one GEMM each for the input and recurrent weight gradients over
// all steps. Buffers are sized once per batch shape: no heap allocation inside the time
// loop.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "framework/cells/param_layout.hpp"
#include "framework/cells/sequence_layout.hpp"
#include "framework/util/eigen.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::cells {

template <typename S>
using CellState = std::vector<Matrix<S>>;

struct InitOptions {
  // Weights and peepholes ~ U(-init_scale/sqrt(H), +init_scale/sqrt(H)) (PyTorch's
  // default at init_scale 1; Jozefowicz's s); biases start at 0...
  double init_scale = 1.0;
  // ...except the forget-gate bias (Jozefowicz's LSTM-b uses 1).
  double forget_bias = 0.0;
};

template <typename S>
class Cell {
 public:
  Cell(Index input_size, Index hidden_size) : input_size_(input_size), hidden_size_(hidden_size) {}
  virtual ~Cell() = default;
  Cell(const Cell&) = delete;
  Cell& operator=(const Cell&) = delete;

  Index input_size() const { return input_size_; }
  Index hidden_size() const { return hidden_size_; }
  const ParamLayout& layout() const { return layout_; }
  Index parameter_count() const { return layout_.size(); }
  virtual Index state_count() const { return 1; }

  // Offsets [begin, end) into theta of the forget-gate bias, for cells that have one.
  virtual std::optional<std::pair<Index, Index>> forget_bias_range() const { return std::nullopt; }

  // Draws the initial parameters (see InitOptions).
  void initialize(VectorRef<S> theta, Rng& rng, const InitOptions& options) const;

  virtual void forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                       const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) = 0;
  virtual void backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                        ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) = 0;

 protected:
  // Views of one named tensor inside theta / dtheta (offsets are fixed at construction).
  static Eigen::Map<const Matrix<S>> param(const ConstVectorRef<S>& theta, const ParamTensor& t) {
    return {theta.data() + t.offset, t.rows, t.cols};
  }
  static Eigen::Map<Matrix<S>> grad(VectorRef<S>& dtheta, const ParamTensor& t) {
    return {dtheta.data() + t.offset, t.rows, t.cols};
  }

  ParamLayout layout_;

 private:
  Index input_size_;
  Index hidden_size_;
};

// Initial state: copies `initial` (or zeros) into `state`, resized to H x B.
template <typename S>
void reset_state(const CellState<S>* initial, Index count, Index hidden, Index batch,
                 CellState<S>& state);

}  // namespace cellzoo::cells
