// How a minibatch of variable-length sequences is laid out. Sequences are sorted by
// decreasing length, so at step t the valid sequences are the leading active(t) columns:
// kernels run their per-step products on leftCols(active(t)) and padded columns are never
// touched (their state is held, their outputs are zero). This is PyTorch's packed-sequence
// idea without the packing.
#pragma once

#include <vector>

#include "framework/util/eigen.hpp"

namespace cellzoo::cells {

class SequenceLayout {
 public:
  SequenceLayout() = default;
  // B sequences that all have T steps.
  SequenceLayout(Index steps, Index batch);
  // lengths[b] of each sequence; must be positive and non-increasing.
  static SequenceLayout from_lengths(const std::vector<Index>& lengths);

  Index steps() const { return steps_; }
  Index batch() const { return batch_; }
  Index columns() const { return steps_ * batch_; }
  Index column(Index t, Index b) const { return t * batch_ + b; }
  // Number of leading columns that are valid at step t.
  Index active(Index t) const { return active_[static_cast<std::size_t>(t)]; }
  Index length(Index b) const { return lengths_[static_cast<std::size_t>(b)]; }
  const std::vector<Index>& lengths() const { return lengths_; }
  bool all_full() const { return full_; }

 private:
  Index steps_ = 0;
  Index batch_ = 0;
  bool full_ = true;
  std::vector<Index> lengths_;
  std::vector<Index> active_;
};

}  // namespace cellzoo::cells
