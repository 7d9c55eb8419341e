#include "framework/cells/cell.hpp"

#include <cmath>
#include <string>

#include "framework/util/error.hpp"

namespace cellzoo::cells {
namespace {

std::string shape(Index rows, Index cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

}  // namespace

template <typename S>
Cell<S>::Cell(Index input_size, Index hidden_size)
    : input_size_(input_size), hidden_size_(hidden_size) {
  if (input_size <= 0 || hidden_size <= 0)
    throw Error("a cell needs positive input and hidden sizes, got I=" +
                    std::to_string(input_size) + " H=" + std::to_string(hidden_size),
                "choose a hidden size of at least 1");
}

template <typename S>
std::string Cell<S>::label() const {
  return name_.empty() ? "cell (unnamed)" : "cell '" + name_ + "'";
}

template <typename S>
void Cell<S>::shape_error(const char* call, const std::string& what, Index rows, Index cols,
                          Index want_rows, Index want_cols, const char* meaning) const {
  fail(call, what + " is " + shape(rows, cols) + ", expected " + shape(want_rows, want_cols) +
                 " (" + meaning + ")");
}

template <typename S>
void Cell<S>::count_error(const char* call, const std::string& what, Index count, Index want,
                          const char* unit) const {
  fail(call,
       what + " has " + std::to_string(count) + " " + unit + ", expected " + std::to_string(want));
}

template <typename S>
void Cell<S>::fail(const char* call, const std::string& problem) const {
  throw Error(label() + " " + call + ": " + problem,
              "I = " + std::to_string(input_size_) + ", H = " + std::to_string(hidden_size_) +
                  ", " + std::to_string(state_count()) +
                  " state(s); x, h_out and dh_out have one column per (step, sequence) of the "
                  "sequence layout, column t*B + b (framework/cells/cell.hpp)");
}

template <typename S>
void Cell<S>::check_sequence(const char* call, const SequenceLayout& seq) const {
  if (seq.steps() <= 0 || seq.batch() <= 0)
    fail(call, "empty sequence layout (" + std::to_string(seq.steps()) + " steps x " +
                   std::to_string(seq.batch()) + " sequences)");
}

template <typename S>
void Cell<S>::check_forward(const char* call, const ConstVectorRef<S>& theta,
                            const ConstMatrixRef<S>& x, const SequenceLayout& seq,
                            const CellState<S>* initial, const MatrixRef<S>& h_out) const {
  check_sequence(call, seq);
  const Index I = input_size_, H = hidden_size_, B = seq.batch(), C = seq.columns();
  if (theta.size() != parameter_count())
    count_error(call, "theta", theta.size(), parameter_count(), "entries (the parameter count)");
  if (x.rows() != I || x.cols() != C) shape_error(call, "x", x.rows(), x.cols(), I, C, "I x T*B");
  if (h_out.rows() != H || h_out.cols() != C)
    shape_error(call, "h_out", h_out.rows(), h_out.cols(), H, C, "H x T*B");
  if (initial) {
    const auto count = static_cast<Index>(initial->size());
    if (count != state_count())
      count_error(call, "the initial state", count, state_count(), "matrices (one per state)");
    for (Index k = 0; k < count; ++k) {
      const auto& s = (*initial)[static_cast<std::size_t>(k)];
      if (s.rows() != H || s.cols() != B)
        shape_error(call, "initial state " + std::to_string(k), s.rows(), s.cols(), H, B, "H x B");
    }
  }
}

template <typename S>
void Cell<S>::forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                      const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) {
  check_forward("forward", theta, x, seq, initial, h_out);
  forward_done_ = false;  // a failed forward leaves nothing for backward
  do_forward(theta, x, seq, initial, h_out, final);
  forward_lengths_.assign(seq.lengths().begin(), seq.lengths().end());
  forward_done_ = true;
}

template <typename S>
void Cell<S>::infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                    const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) {
  check_forward("infer", theta, x, seq, initial, h_out);
  forward_done_ = false;  // infer() may reuse the workspace: no backward() after it
  do_infer(theta, x, seq, initial, h_out, final);
}

template <typename S>
void Cell<S>::do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                       const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) {
  do_forward(theta, x, seq, initial, h_out, final);
}

template <typename S>
void Cell<S>::backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                       ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) {
  const char* call = "backward";
  check_sequence(call, seq);
  if (!forward_done_ || seq.lengths() != forward_lengths_)
    fail(call, forward_done_ ? "the sequence layout differs from the preceding forward()'s"
                             : "no forward() before it; call forward() on the same batch first");
  const Index I = input_size_, H = hidden_size_, C = seq.columns();
  if (theta.size() != parameter_count())
    count_error(call, "theta", theta.size(), parameter_count(), "entries (the parameter count)");
  if (x.rows() != I || x.cols() != C) shape_error(call, "x", x.rows(), x.cols(), I, C, "I x T*B");
  if (dh_out.rows() != H || dh_out.cols() != C)
    shape_error(call, "dh_out", dh_out.rows(), dh_out.cols(), H, C, "H x T*B");
  if (dtheta.size() != parameter_count())
    count_error(call, "dtheta", dtheta.size(), parameter_count(), "entries (the parameter count)");
  do_backward(theta, x, seq, dh_out, dtheta, dx);
}

template <typename S>
void Cell<S>::initialize(VectorRef<S> theta, Rng& rng, const InitOptions& options) const {
  if (theta.size() != layout_.size())
    count_error("initialize", "theta", theta.size(), layout_.size(),
                "entries (the parameter count)");
  const double bound = options.init_scale / std::sqrt(static_cast<double>(hidden_size_));
  for (const auto& t : layout_.tensors()) {
    for (Index i = 0; i < t.size(); ++i)
      theta[t.offset + i] =
          t.kind == ParamKind::bias ? S(0) : static_cast<S>(rng.uniform(-bound, bound));
  }
  for (const auto& [begin, end] : forget_bias_ranges())
    theta.segment(begin, end - begin).setConstant(S(options.forget_bias));
}

template <typename S>
std::vector<std::pair<Index, Index>> Cell<S>::forget_bias_ranges() const {
  std::vector<std::pair<Index, Index>> out;
  if (const auto range = forget_bias_range()) out.push_back(*range);
  return out;
}

template <typename S>
void reset_state(const CellState<S>* initial, Index count, Index hidden, Index batch,
                 CellState<S>& state) {
  state.resize(static_cast<std::size_t>(count));
  for (Index k = 0; k < count; ++k) {
    auto& s = state[static_cast<std::size_t>(k)];
    if (initial) {
      s = (*initial)[static_cast<std::size_t>(k)];
    } else {
      s.setZero(hidden, batch);
    }
  }
}

template class Cell<float>;
template class Cell<double>;
template void reset_state<float>(const CellState<float>*, Index, Index, Index, CellState<float>&);
template void reset_state<double>(const CellState<double>*, Index, Index, Index,
                                  CellState<double>&);

}  // namespace cellzoo::cells
