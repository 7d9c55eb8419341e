#include "framework/cells/sequence_layout.hpp"

#include <string>

#include "framework/util/error.hpp"

namespace cellzoo::cells {

SequenceLayout::SequenceLayout(Index steps, Index batch)
    : steps_(steps),
      batch_(batch),
      lengths_(static_cast<std::size_t>(batch), steps),
      active_(static_cast<std::size_t>(steps), batch) {
  if (steps <= 0 || batch <= 0)
    throw Error("sequence layout needs at least one step and one sequence, got " +
                std::to_string(steps) + " steps x " + std::to_string(batch) + " sequences");
}

SequenceLayout SequenceLayout::from_lengths(const std::vector<Index>& lengths) {
  if (lengths.empty()) throw Error("sequence layout: empty batch");
  for (std::size_t b = 0; b < lengths.size(); ++b) {
    if (lengths[b] <= 0)
      throw Error("sequence layout: sequence " + std::to_string(b) + " is empty");
    if (b > 0 && lengths[b] > lengths[b - 1])
      throw Error("sequence layout: lengths must be sorted in decreasing order");
  }
  SequenceLayout seq(lengths.front(), static_cast<Index>(lengths.size()));
  seq.lengths_ = lengths;
  for (Index t = 0; t < seq.steps_; ++t) {
    Index n = 0;
    while (n < seq.batch_ && lengths[static_cast<std::size_t>(n)] > t) ++n;
    seq.active_[static_cast<std::size_t>(t)] = n;
  }
  seq.full_ = lengths.back() == lengths.front();
  return seq;
}

}  // namespace cellzoo::cells
