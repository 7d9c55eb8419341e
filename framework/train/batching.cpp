// Minibatch planning and gathering (see batching.hpp).
#include "framework/train/batching.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "framework/util/error.hpp"

namespace cellzoo::train {

using datasets::InputKind;
using datasets::LossKind;

std::vector<std::vector<Index>> plan_batches(const std::vector<datasets::Sequence>& sequences,
                                             Index batch_size, Rng* rng) {
  if (batch_size < 1) throw Error("batch size must be positive");
  std::vector<Index> order(sequences.size());
  std::iota(order.begin(), order.end(), Index{0});
  if (rng) rng->shuffle(order.begin(), order.end());
  // Stable: among equal lengths the shuffled (training) or original (evaluation) order
  // decides, so equal-length tasks still get fresh batches every epoch.
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
    return sequences[static_cast<std::size_t>(a)].length() >
           sequences[static_cast<std::size_t>(b)].length();
  });
  std::vector<std::vector<Index>> plan;
  for (std::size_t i = 0; i < order.size(); i += static_cast<std::size_t>(batch_size)) {
    const auto end = std::min(order.size(), i + static_cast<std::size_t>(batch_size));
    plan.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                      order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  if (rng) rng->shuffle(plan.begin(), plan.end());
  return plan;
}

Batch make_batch(const std::vector<datasets::Sequence>& sequences,
                 const std::vector<Index>& members, const datasets::TaskInfo& info) {
  if (members.empty()) throw Error("make_batch: empty batch");
  std::vector<Index> cols = members;
  std::stable_sort(cols.begin(), cols.end(), [&](Index a, Index b) {
    return sequences[static_cast<std::size_t>(a)].length() >
           sequences[static_cast<std::size_t>(b)].length();
  });
  std::vector<Index> lengths;
  for (Index m : cols) {
    const auto& s = sequences[static_cast<std::size_t>(m)];
    if (s.length() == 0)
      throw Error("task " + info.name + ": sequence " + std::to_string(m) + " is empty");
    lengths.push_back(s.length());
  }
  Batch b;
  b.layout = cells::SequenceLayout::from_lengths(lengths);
  const Index B = b.layout.batch(), T = b.layout.steps(), N = T * B;
  const bool one_hot = info.input_kind == InputKind::one_hot;
  const bool softmax = info.loss == LossKind::softmax_xent;
  if (one_hot)
    b.input_tokens.assign(static_cast<std::size_t>(N), -1);
  else
    b.input_dense.setZero(info.input_size, N);
  if (softmax)
    b.target_tokens.assign(static_cast<std::size_t>(N), -1);
  else
    b.target_dense.setZero(info.output_size, N);
  b.weight.assign(static_cast<std::size_t>(N), 0.0f);

  for (Index c = 0; c < B; ++c) {
    const auto& s = sequences[static_cast<std::size_t>(cols[static_cast<std::size_t>(c)])];
    const Index L = s.length();
    auto check = [&](bool ok, const char* what) {
      if (!ok)
        throw Error("task " + info.name + ": sequence " +
                    std::to_string(cols[static_cast<std::size_t>(c)]) + " has malformed " + what);
    };
    if (one_hot)
      check(static_cast<Index>(s.input_tokens.size()) == L, "input_tokens");
    else
      check(s.input_dense.rows() == info.input_size && s.input_dense.cols() == L, "input_dense");
    if (softmax)
      check(static_cast<Index>(s.target_tokens.size()) == L, "target_tokens");
    else
      check(s.target_dense.rows() == info.output_size && s.target_dense.cols() == L,
            "target_dense");
    for (Index t = 0; t < L; ++t) {
      const Index col = t * B + c;
      const auto st = static_cast<std::size_t>(t);
      if (one_hot) {
        const int tok = s.input_tokens[st];
        check(tok >= 0 && tok < info.input_size, "input token (outside the vocabulary)");
        b.input_tokens[static_cast<std::size_t>(col)] = tok;
      } else {
        b.input_dense.col(col) = s.input_dense.col(t);
      }
      if (softmax) {
        const int tok = s.target_tokens[st];
        check(tok >= -1 && tok < info.output_size, "target token (outside the classes)");
        b.target_tokens[static_cast<std::size_t>(col)] = tok;
      } else {
        b.target_dense.col(col) = s.target_dense.col(t);
      }
      b.weight[static_cast<std::size_t>(col)] = s.weight[st];
    }
  }
  return b;
}

StreamBatcher::StreamBatcher(const std::vector<int>& stream, Index streams, Index bptt)
    : stream_(&stream), streams_(streams), bptt_(bptt) {
  if (streams < 1 || bptt < 1) throw Error("stream batching needs streams >= 1 and bptt >= 1");
  // Steps come in (input, next-token target) pairs, so a stream of n tokens has n-1 steps.
  const Index steps = static_cast<Index>(stream.size()) - 1;
  length_ = steps > 0 ? steps / streams : 0;
  if (length_ < 1)
    throw Error("token stream of " + std::to_string(stream.size()) + " tokens is too short for " +
                    std::to_string(streams) + " parallel streams",
                "lower batch_size");
  windows_ = (length_ + bptt - 1) / bptt;
}

Batch StreamBatcher::window(Index k) const {
  const Index B = streams_, start = k * bptt_, T = std::min(bptt_, length_ - start);
  Batch b;
  b.layout = cells::SequenceLayout(T, B);
  b.input_tokens.resize(static_cast<std::size_t>(T * B));
  b.target_tokens.resize(static_cast<std::size_t>(T * B));
  b.weight.assign(static_cast<std::size_t>(T * B), 1.0f);
  const auto& s = *stream_;
  for (Index t = 0; t < T; ++t)
    for (Index c = 0; c < B; ++c) {
      const auto pos = static_cast<std::size_t>(c * length_ + start + t);
      b.input_tokens[static_cast<std::size_t>(t * B + c)] = s[pos];
      b.target_tokens[static_cast<std::size_t>(t * B + c)] = s[pos + 1];
    }
  return b;
}

}  // namespace cellzoo::train
