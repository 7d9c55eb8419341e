// Helpers for cells that keep the whole state history in one matrix: hs is H x (T+1)*B,
// block 0 the initial h and block t+1 the h after step t. Then h_{t-1} of every step is
// hs.leftCols(T*B) (one GEMM for the recurrent weight gradients), the outputs are
// hs.rightCols(T*B), and a step reads and writes contiguous column blocks without a copy.
// Used by the GRU family and the MUT cells (and the window helpers also by the LSTMs).
#pragma once

#include "framework/cells/cell.hpp"

namespace cellzoo::cells {

// Sizes hs for `seq` and puts the initial state (or zeros) into block 0.
template <typename S>
void begin_history(const CellState<S>* initial, Index hidden, const SequenceLayout& seq,
                   CellState<S>& scratch, Matrix<S>& hs) {
  const Index B = seq.batch();
  reset_state(initial, 1, hidden, B, scratch);
  hs.resize(hidden, (seq.steps() + 1) * B);
  hs.leftCols(B) = scratch[0];
}

// Forward-only passes (Cell::infer) keep only a few columns of what the training pass
// keeps for every step, but must round exactly as it does. Eigen splits a vectorised
// pass at the destination's alignment (a scalar head, then packets), and the scalar code
// may differ in the last bit (a * b + c fused by the compiler, tanh/logistic evaluated
// apart from the packet path), so a forward-only pass writes step t's columns where they
// start at the same alignment as column `col` of the training pass's buffer: n columns of
// a scratch of B + kAlignColumns columns (both buffers are allocated at Eigen's maximal
// alignment of 64 bytes, i.e. 16 floats or 8 doubles; 16 columns apart is always aligned
// alike).
inline constexpr Index kAlignColumns = 16;

template <typename S>
void size_window_scratch(Matrix<S>& scratch, Index rows, Index batch) {
  scratch.resize(rows, batch + kAlignColumns);
}

template <typename S>
auto aligned_window(Matrix<S>& scratch, Index col, Index n) {
  return scratch.middleCols(col % kAlignColumns, n);
}

// The final state of every sequence: h after its own last step.
template <typename S>
void gather_final(const Matrix<S>& hs, const SequenceLayout& seq, CellState<S>* final) {
  if (!final) return;
  const Index B = seq.batch();
  final->resize(1);
  auto& h = (*final)[0];
  h.resize(hs.rows(), B);
  for (Index b = 0; b < B; ++b) h.col(b) = hs.col(seq.length(b) * B + b);
}

}  // namespace cellzoo::cells
