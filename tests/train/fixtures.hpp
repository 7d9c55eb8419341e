// Small hand-built tasks for the trainer tests (independent of the task registry).
#pragma once

#include <cmath>

#include "datasets/task.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::train::testing {

// n sequences of lengths in [min_len, max_len] with random dense inputs (I) and targets
// (O) for the given loss; loss weights random in (0, 1], some steps unscored.
inline datasets::TaskData random_dense_task(int n, Index I, Index O, int min_len, int max_len,
                                            datasets::LossKind loss, std::uint64_t seed) {
  datasets::TaskData d;
  d.info.name = "random-dense";
  d.info.input_kind = datasets::InputKind::dense;
  d.info.input_size = I;
  d.info.output_size = O;
  d.info.loss = loss;
  d.info.metric = loss == datasets::LossKind::bernoulli_xent ? datasets::Metric::nll_per_step
                                                             : datasets::Metric::mse;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    datasets::Sequence s;
    const auto L = static_cast<Index>(rng.between(min_len, max_len));
    s.input_dense.resize(I, L);
    for (Index k = 0; k < s.input_dense.size(); ++k)
      s.input_dense(k) = static_cast<float>(rng.normal());
    s.target_dense.resize(O, L);
    for (Index k = 0; k < s.target_dense.size(); ++k)
      s.target_dense(k) = loss == datasets::LossKind::bernoulli_xent
                              ? static_cast<float>(rng.bernoulli(0.3))
                              : static_cast<float>(rng.normal());
    for (Index t = 0; t < L; ++t)
      s.weight.push_back(t == 0 ? 0.0f : static_cast<float>(rng.uniform(0.2, 1.0)));
    d.train.push_back(std::move(s));
  }
  d.valid = d.train;
  d.test = d.train;
  return d;
}

// n sequences of one-hot tokens (vocabulary V) with softmax targets over C classes.
inline datasets::TaskData random_token_task(int n, Index V, Index C, int min_len, int max_len,
                                            std::uint64_t seed) {
  datasets::TaskData d;
  d.info.name = "random-tokens";
  d.info.input_kind = datasets::InputKind::one_hot;
  d.info.input_size = V;
  d.info.output_size = C;
  d.info.loss = datasets::LossKind::softmax_xent;
  d.info.metric = datasets::Metric::accuracy;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    datasets::Sequence s;
    const auto L = rng.between(min_len, max_len);
    for (int t = 0; t < L; ++t) {
      s.input_tokens.push_back(static_cast<int>(rng.below(static_cast<std::uint64_t>(V))));
      const bool scored = t > 0 && rng.bernoulli(0.8);
      s.target_tokens.push_back(scored ? static_cast<int>(rng.below(static_cast<std::uint64_t>(C)))
                                       : -1);
      s.weight.push_back(scored ? 1.0f : 0.0f);
    }
    d.train.push_back(std::move(s));
  }
  d.valid = d.train;
  d.test = d.train;
  return d;
}

// The adding problem (Le et al. 2015 form): channel 0 ~ U[0,1], channel 1 marks two
// positions (one in each half), target = sum of the marked values at the last step.
inline std::vector<datasets::Sequence> adding_sequences(int n, int T, Rng& rng) {
  std::vector<datasets::Sequence> out;
  for (int i = 0; i < n; ++i) {
    datasets::Sequence s;
    s.input_dense.setZero(2, T);
    for (int t = 0; t < T; ++t) s.input_dense(0, t) = static_cast<float>(rng.uniform());
    const auto a = rng.between(0, T / 2 - 1), b = rng.between(T / 2, T - 1);
    s.input_dense(1, a) = s.input_dense(1, b) = 1.0f;
    s.target_dense.setZero(1, T);
    s.target_dense(0, T - 1) = s.input_dense(0, a) + s.input_dense(0, b);
    s.weight.assign(static_cast<std::size_t>(T), 0.0f);
    s.weight.back() = 1.0f;
    out.push_back(std::move(s));
  }
  return out;
}

inline datasets::TaskData adding_task(int n_train, int T, std::uint64_t seed) {
  datasets::TaskData d;
  d.info.name = "adding";
  d.info.input_kind = datasets::InputKind::dense;
  d.info.input_size = 2;
  d.info.output_size = 1;
  d.info.loss = datasets::LossKind::mse;
  d.info.metric = datasets::Metric::mse;
  d.info.baseline = 1.0 / 6.0;
  Rng rng(seed);
  d.train = adding_sequences(n_train, T, rng);
  d.valid = adding_sequences(200, T, rng);
  d.test = adding_sequences(200, T, rng);
  return d;
}

// A stream repeating "0 1 0 2 0 3": after a 0 the next token is given by the token two
// steps back, so windows that start at a 0 need the state carried from the last window.
inline datasets::TaskData periodic_stream_task(int length) {
  datasets::TaskData d;
  d.info.name = "periodic";
  d.info.input_kind = datasets::InputKind::one_hot;
  d.info.input_size = 4;
  d.info.output_size = 4;
  d.info.loss = datasets::LossKind::softmax_xent;
  d.info.metric = datasets::Metric::accuracy;
  d.info.stream = true;
  const int pattern[6] = {0, 1, 0, 2, 0, 3};
  for (int i = 0; i < length; ++i) d.train_stream.push_back(pattern[i % 6]);
  d.valid_stream.assign(d.train_stream.begin() + 1, d.train_stream.begin() + length / 2);
  d.test_stream.assign(d.train_stream.begin() + 3, d.train_stream.begin() + length / 2);
  return d;
}

}  // namespace cellzoo::train::testing
