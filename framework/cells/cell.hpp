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
// optionally writes dx = dLoss/dx (zero at padded positions). Gradients do not flow into
// the initial state (truncated BPTT cuts there). Padded positions of x and dh_out are
// never read.
//
// forward() and backward() are the checked entry points: they validate every shape
// against the cell and the sequence layout (one cellzoo::Error naming the cell, the
// argument, what it is and what it should be) and then call the implementation's
// do_forward() / do_backward(), which may take the shapes as given. A cell implements
// those two, its constructor (the parameter layout) and, if it has more than one state or
// a forget gate, state_count() and forget_bias_range(); optionally do_infer(), the
// forward-only pass of infer(). tests/contract checks every registered cell against this
// whole contract.
//
// Implementations follow the cuDNN-style restructuring: one GEMM for the input
// projections of all steps, per step only the recurrent GEMM and one fused pass over the
// gates, and in backward one GEMM each for the input and recurrent weight gradients over
// all steps. Buffers are sized once per batch shape: no heap allocation inside the time
// loop, and none at all when the same batch shape comes again.
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
  // Throws cellzoo::Error unless both sizes are positive.
  Cell(Index input_size, Index hidden_size);
  virtual ~Cell() = default;
  Cell(const Cell&) = delete;
  Cell& operator=(const Cell&) = delete;

  // The registry name, for messages (set by CellEntry::make; empty for a cell built by hand).
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  Index input_size() const { return input_size_; }
  Index hidden_size() const { return hidden_size_; }
  const ParamLayout& layout() const { return layout_; }
  Index parameter_count() const { return layout_.size(); }
  virtual Index state_count() const { return 1; }

  // Offsets [begin, end) into theta of the forget-gate bias, for cells that have one.
  virtual std::optional<std::pair<Index, Index>> forget_bias_range() const { return std::nullopt; }
  // Every forget-gate bias range: forget_bias_range()'s, or one per layer of a CellStack.
  virtual std::vector<std::pair<Index, Index>> forget_bias_ranges() const;

  // Draws the initial parameters (see InitOptions).
  void initialize(VectorRef<S> theta, Rng& rng, const InitOptions& options) const;

  // Runs the batch from `initial` (zeros when null); writes h_out and, if asked, the state
  // after each sequence's last step into `final`. Throws cellzoo::Error on a bad shape.
  void forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
               const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final);
  // Forward-only pass, for evaluation: the same h_out and final state as forward(), bit
  // for bit, without keeping what backward() needs (a kernel overrides do_infer() to skip
  // its backward workspace; the default runs do_forward()). backward() is refused until
  // the next forward(). Throws cellzoo::Error on a bad shape, as forward().
  void infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
             const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final);
  // Gradients of the batch of the preceding forward() (same theta, x and layout). Throws
  // cellzoo::Error on a bad shape or without a matching forward().
  void backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx);

 protected:
  // The cell's computation; shapes are checked by forward() / backward(), and `initial`,
  // when given, holds state_count() matrices of H x B.
  virtual void do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                          const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) = 0;
  virtual void do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                           ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) = 0;
  virtual void do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                        const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final);

  // Views of one named tensor inside theta / dtheta (offsets are fixed at construction).
  static Eigen::Map<const Matrix<S>> param(const ConstVectorRef<S>& theta, const ParamTensor& t) {
    return {theta.data() + t.offset, t.rows, t.cols};
  }
  static Eigen::Map<Matrix<S>> grad(VectorRef<S>& dtheta, const ParamTensor& t) {
    return {dtheta.data() + t.offset, t.rows, t.cols};
  }

  ParamLayout layout_;

 private:
  std::string label() const;  // "cell 'lstm'" for messages
  // Throw the error of argument `what` of `call` (see forward()).
  [[noreturn]] void shape_error(const char* call, const std::string& what, Index rows, Index cols,
                                Index want_rows, Index want_cols, const char* meaning) const;
  [[noreturn]] void count_error(const char* call, const std::string& what, Index count, Index want,
                                const char* unit) const;
  [[noreturn]] void fail(const char* call, const std::string& problem) const;
  void check_sequence(const char* call, const SequenceLayout& seq) const;
  // The checks of forward() and infer().
  void check_forward(const char* call, const ConstVectorRef<S>& theta, const ConstMatrixRef<S>& x,
                     const SequenceLayout& seq, const CellState<S>* initial,
                     const MatrixRef<S>& h_out) const;

  std::string name_;
  Index input_size_;
  Index hidden_size_;
  // The batch of the last forward(), which backward() must match.
  std::vector<Index> forward_lengths_;
  bool forward_done_ = false;
};

// Initial state: copies `initial` (or zeros) into `state`, resized to H x B. `initial` is
// assumed checked (Cell::forward does).
template <typename S>
void reset_state(const CellState<S>* initial, Index count, Index hidden, Index batch,
                 CellState<S>& state);

}  // namespace cellzoo::cells
