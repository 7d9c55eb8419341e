// Minibatches for the trainer.
//
// Sequence tasks: training batches are bucketed by length (shuffle, stable-sort by
// length, cut into batches, shuffle the batch order) so a batch wastes little padding;
// inside a batch the columns are sorted by decreasing length, as cells::SequenceLayout
// requires, and padded steps have weight 0. Evaluation batches are the same without the
// shuffles (deterministic, independent of the run seed).
//
// Stream tasks: the token stream is cut into B contiguous parallel streams; window k
// holds steps [k*bptt, (k+1)*bptt) of every stream (the last window may be shorter).
// Inputs are tokens t, targets tokens t+1. The trainer carries the cell state from one
// window to the next (truncated BPTT).
#pragma once

#include <vector>

#include "datasets/task.hpp"
#include "framework/cells/sequence_layout.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::train {

// One minibatch, batch-in-columns (column t*B + b is sequence b at step t).
struct Batch {
  cells::SequenceLayout layout;
  std::vector<int> input_tokens;   // one_hot inputs: T*B ids, -1 at padding
  Matrix<float> input_dense;       // dense inputs: I x T*B, zero at padding
  std::vector<int> target_tokens;  // softmax targets: T*B classes, -1 = none
  Matrix<float> target_dense;      // mse / Bernoulli targets: O x T*B
  std::vector<float> weight;       // T*B loss weights, 0 at padding
  Index columns() const { return layout.columns(); }
};

// Groups of sequence indices. With `rng` the training plan (bucketed, shuffled); without
// it the evaluation plan (sorted by decreasing length, in order).
std::vector<std::vector<Index>> plan_batches(const std::vector<datasets::Sequence>& sequences,
                                             Index batch_size, Rng* rng);

// Gathers `members` into one batch, columns sorted by decreasing length.
Batch make_batch(const std::vector<datasets::Sequence>& sequences,
                 const std::vector<Index>& members, const datasets::TaskInfo& info);

// Windows of B parallel streams over one token stream.
class StreamBatcher {
 public:
  StreamBatcher(const std::vector<int>& stream, Index streams, Index bptt);
  Index windows() const { return windows_; }
  Index streams() const { return streams_; }
  Batch window(Index k) const;

 private:
  const std::vector<int>* stream_;
  Index streams_, bptt_, length_, windows_;
};

}  // namespace cellzoo::train
