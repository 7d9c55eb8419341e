// The model: input layer, cell, readout and losses (see model.hpp).
#include "framework/train/model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "framework/util/blas.hpp"
#include "framework/util/error.hpp"
#include "framework/util/fast_math.hpp"

namespace cellzoo::train {

using datasets::InputKind;
using datasets::LossKind;

const char* input_mode_name(InputMode mode) {
  switch (mode) {
    case InputMode::one_hot:
      return "one-hot";
    case InputMode::embedding:
      return "embedding";
    case InputMode::dense:
      return "dense";
    case InputMode::projection:
      return "projection";
  }
  return "?";
}

void BatchStats::add(const BatchStats& o) {
  loss_sum += o.loss_sum;
  weight_sum += o.weight_sum;
  correct += o.correct;
  scored += o.scored;
  sequences_correct += o.sequences_correct;
  sequences += o.sequences;
}

InputMode choose_input_mode(const datasets::TaskInfo& task, const cells::CellInfo& cell, int embed,
                            int hidden, Index* cell_input_size) {
  const Index V = task.input_size;
  if (V < 1) throw Error("task " + task.name + " declares no inputs (input_size 0)");
  const bool one_hot = task.input_kind == InputKind::one_hot;
  InputMode mode;
  Index size;
  if (embed < 0) {  // auto
    const bool raw_ok = !cell.square_input || V == hidden;
    if (one_hot) {
      mode = (V <= 128 && raw_ok) ? InputMode::one_hot : InputMode::embedding;
      size = mode == InputMode::one_hot ? V : hidden;
    } else {
      mode = raw_ok ? InputMode::dense : InputMode::projection;
      size = raw_ok ? V : hidden;
    }
  } else if (embed == 0) {
    mode = one_hot ? InputMode::one_hot : InputMode::dense;
    size = V;
  } else {
    mode = one_hot ? InputMode::embedding : InputMode::projection;
    size = embed;
  }
  if (cell.square_input && size != hidden)
    throw Error("cell " + cell.name + " needs its input size to equal hidden (" +
                    std::to_string(hidden) +
                    ") but embed=" + (embed < 0 ? std::string("auto") : std::to_string(embed)) +
                    " gives " + std::to_string(size),
                "use embed=auto or embed=" + std::to_string(hidden));
  *cell_input_size = size;
  return mode;
}

template <typename S>
Model<S>::Model(const cells::CellEntry& cell, const datasets::TaskInfo& task,
                const TrainConfig& hyper)
    : task_(task), hidden_(hyper.hidden), init_scale_(hyper.init_scale) {
  if (task.output_size < 1) throw Error("task " + task.name + " declares no outputs");
  mode_ = choose_input_mode(task, cell.info, hyper.embed, hyper.hidden, &cell_input_);
  cell_ = std::make_unique<cells::CellStack<S>>(cell, cell_input_, hidden_, hyper.layers,
                                                hyper.dropout);
  cell_->set_name(cell.info.name);
  forget_bias_ = hyper.forget_bias;
  const int N = cell_->layers();
  for (int k = 0; k < N; ++k)
    for (const auto& t : cell_->layer(k).layout().tensors())
      add_tensor(t.name, N == 1 ? "cell" : "cell_" + std::to_string(k), t.rows, t.cols, t.kind);
  cell_size_ = cell_->parameter_count();
  if (size_ != cell_size_)
    throw Error("cell " + cell.info.name + ": inconsistent parameter layout");
  using cells::ParamKind;
  readout_w_ = size_;
  add_tensor("readout.W", "readout", task.output_size, hidden_, ParamKind::input_weight);
  readout_b_ = size_;
  add_tensor("readout.b", "readout", task.output_size, 1, ParamKind::bias);
  if (mode_ == InputMode::embedding) {
    embed_w_ = size_;
    add_tensor("embedding.E", "embedding", cell_input_, task.input_size, ParamKind::input_weight);
  } else if (mode_ == InputMode::projection) {
    embed_w_ = size_;
    add_tensor("projection.W", "embedding", cell_input_, task.input_size, ParamKind::input_weight);
    embed_b_ = size_;
    add_tensor("projection.b", "embedding", cell_input_, 1, ParamKind::bias);
  }
}

template <typename S>
void Model<S>::add_tensor(std::string name, std::string group, Index rows, Index cols,
                          cells::ParamKind kind) {
  tensors_.push_back({std::move(name), std::move(group), rows, cols, size_, kind});
  size_ += rows * cols;
}

template <typename S>
void Model<S>::initialize(VectorRef<S> theta, Rng& rng) const {
  if (theta.size() != size_) throw Error("model initialize: wrong parameter vector size");
  cells::InitOptions options;
  options.init_scale = init_scale_;
  options.forget_bias = forget_bias_;
  cell_->initialize(theta.segment(0, cell_size_), rng, options);
  auto uniform = [&](Index offset, Index n, double bound) {
    for (Index i = 0; i < n; ++i) theta[offset + i] = static_cast<S>(rng.uniform(-bound, bound));
  };
  const Index O = task_.output_size;
  uniform(readout_w_, O * hidden_, init_scale_ / std::sqrt(static_cast<double>(hidden_)));
  theta.segment(readout_b_, O).setZero();
  if (mode_ == InputMode::embedding) {
    uniform(embed_w_, cell_input_ * task_.input_size,
            init_scale_ * std::sqrt(3.0 / static_cast<double>(cell_input_)));
  } else if (mode_ == InputMode::projection) {
    uniform(embed_w_, cell_input_ * task_.input_size,
            init_scale_ / std::sqrt(static_cast<double>(task_.input_size)));
    theta.segment(embed_b_, cell_input_).setZero();
  }
}

namespace {

// Zeroes the padded columns of m (those past active(t) at each step t).
template <typename M>
void zero_padding(M& m, const cells::SequenceLayout& seq) {
  if (seq.all_full()) return;
  const Index B = seq.batch();
  for (Index t = 0; t < seq.steps(); ++t) {
    const Index n = seq.active(t);
    if (n < B) m.middleCols(t * B + n, B - n).setZero();
  }
}

}  // namespace

template <typename S>
S Model<S>::forward(ConstVectorRef<S> theta, const Batch& batch, const cells::CellState<S>* initial,
                    cells::CellState<S>* final, BatchStats* stats, const ForwardOptions& options) {
  if (theta.size() != size_) throw Error("model forward: wrong parameter vector size");
  have_gradient_ = false;
  input_layer(theta, batch, options.noise_rng, options.noise_std);
  h_.resize(hidden_, batch.layout.columns());
  cell_->set_dropout(options.dropout_rng ? cells::DropoutMode::random : cells::DropoutMode::off,
                     options.dropout_rng);
  cell_->forward(theta.segment(0, cell_size_), x_, batch.layout, initial, h_, final);
  readout(theta, batch.layout.columns());
  const S objective = losses(batch, stats, options.reduction, true);
  have_gradient_ = true;
  return objective;
}

template <typename S>
S Model<S>::evaluate(ConstVectorRef<S> theta, const Batch& batch,
                     const cells::CellState<S>* initial, cells::CellState<S>* final,
                     BatchStats* stats, Reduction reduction) {
  if (theta.size() != size_) throw Error("model evaluate: wrong parameter vector size");
  have_gradient_ = false;
  input_layer(theta, batch, nullptr, 0);
  h_.resize(hidden_, batch.layout.columns());
  cell_->set_dropout(cells::DropoutMode::off);  // evaluation never drops
  cell_->infer(theta.segment(0, cell_size_), x_, batch.layout, initial, h_, final);
  readout(theta, batch.layout.columns());
  return losses(batch, stats, reduction, false);
}

template <typename S>
void Model<S>::input_layer(ConstVectorRef<S> theta, const Batch& batch, Rng* noise_rng,
                           double noise_std) {
  const auto& seq = batch.layout;
  const Index B = seq.batch(), N = seq.columns();

  // Input layer.
  switch (mode_) {
    case InputMode::one_hot:
      x_.setZero(cell_input_, N);
      for (Index c = 0; c < N; ++c) {
        const int tok = batch.input_tokens[static_cast<std::size_t>(c)];
        if (tok >= 0) x_(tok, c) = S(1);
      }
      break;
    case InputMode::embedding: {
      const ConstMatrixMap<S> E(theta.data() + embed_w_, cell_input_, task_.input_size);
      x_.resize(cell_input_, N);
      for (Index c = 0; c < N; ++c) {
        const int tok = batch.input_tokens[static_cast<std::size_t>(c)];
        if (tok >= 0)
          x_.col(c) = E.col(tok);
        else
          x_.col(c).setZero();
      }
      break;
    }
    case InputMode::dense:
      x_ = batch.input_dense.template cast<S>();
      break;
    case InputMode::projection: {
      const ConstMatrixMap<S> P(theta.data() + embed_w_, cell_input_, task_.input_size);
      const ConstMatrixMap<S> p(theta.data() + embed_b_, cell_input_, 1);
      x_.resize(cell_input_, N);
      x_.noalias() = P * batch.input_dense.template cast<S>();
      x_.colwise() += p.col(0);
      zero_padding(x_, seq);
      break;
    }
  }
  if (noise_rng && noise_std > 0) {
    // All draws at once (vectorised Box-Muller), consumed in the order of one draw per
    // element: step, then sequence, then input unit.
    Index n = 0;
    for (Index t = 0; t < seq.steps(); ++t) n += seq.active(t) * cell_input_;
    noise_.resize(static_cast<std::size_t>(n));
    noise_rng->fill_normal(noise_.data(), noise_.size());
    const double* z = noise_.data();
    for (Index t = 0; t < seq.steps(); ++t)
      for (Index b = 0; b < seq.active(t); ++b)
        for (Index i = 0; i < cell_input_; ++i)
          x_(i, t * B + b) += static_cast<S>(noise_std * *z++);
  }
}

template <typename S>
void Model<S>::readout(ConstVectorRef<S> theta, Index columns) {
  const Index O = task_.output_size;
  const ConstMatrixMap<S> V(theta.data() + readout_w_, O, hidden_);
  const ConstMatrixMap<S> bias(theta.data() + readout_b_, O, 1);
  y_.resize(O, columns);
  blas::gemm<S>(V, false, h_, false, y_, false);
  y_.colwise() += bias.col(0);
}

template <typename S>
S Model<S>::losses(const Batch& batch, BatchStats* stats, Reduction reduction, bool gradient) {
  const auto& seq = batch.layout;
  const Index B = seq.batch(), N = seq.columns(), O = task_.output_size;
  // Losses, their gradients (scaled later by the normaliser; only with `gradient`) and the
  // metric counts.
  if (gradient) dy_.setZero(O, N);
  BatchStats s;
  std::vector<char> seq_scored(static_cast<std::size_t>(B), 0),
      seq_ok(static_cast<std::size_t>(B), 1);
  for (Index c = 0; c < N; ++c) {
    const double w = batch.weight[static_cast<std::size_t>(c)];
    if (w <= 0) continue;
    const auto y = y_.col(c);
    double loss = 0;
    bool right = false;
    switch (task_.loss) {
      case LossKind::mse: {
        const auto target = batch.target_dense.col(c).template cast<S>();
        err_ = y - target;  // a member: no allocation per column
        loss = static_cast<double>(err_.squaredNorm()) / static_cast<double>(O);
        if (gradient) dy_.col(c) = err_ * static_cast<S>(2.0 * w / static_cast<double>(O));
        right = static_cast<double>(err_.cwiseAbs().maxCoeff()) < task_.mse_tolerance;
        break;
      }
      case LossKind::softmax_xent: {
        const int target = batch.target_tokens[static_cast<std::size_t>(c)];
        if (target < 0) continue;  // nothing to predict here
        Index arg = 0;
        const S m = y.maxCoeff(&arg);
        err_ = (y.array() - m).exp().matrix();
        const S sum = err_.sum();
        loss = static_cast<double>(m + std::log(sum) - y(target));
        if (gradient) {
          auto dy = dy_.col(c);
          dy = err_ * static_cast<S>(w / static_cast<double>(sum));
          dy(target) -= static_cast<S>(w);
        }
        right = arg == target;
        break;
      }
      case LossKind::bernoulli_xent: {
        // One exp per unit (glibc's): e = exp(-|z|) is exp(-z) for z >= 0 and exp(z) below.
        // The other passes over the column vectorise: log1p(e) (fastmath's) and the
        // gradient; the loss is summed unit by unit in the same order as ever.
        const float* t = batch.target_dense.col(c).data();
        const S* z = y.data();
        bern_.resize(static_cast<std::size_t>(2 * O));
        double* e = bern_.data();
        double* l = e + O;
        for (Index u = 0; u < O; ++u) e[u] = std::exp(-std::fabs(static_cast<double>(z[u])));
        for (Index u = 0; u < O; ++u) l[u] = fastmath::log1p_unit(e[u]);
        if (gradient) {
          S* dy = dy_.col(c).data();
          for (Index u = 0; u < O; ++u) {
            const double p = z[u] >= 0 ? 1.0 / (1.0 + e[u]) : e[u] / (1.0 + e[u]);
            dy[u] = static_cast<S>(w * (p - t[u]));
          }
        }
        bool all_right = true;
        for (Index u = 0; u < O; ++u) {
          const double zu = static_cast<double>(z[u]);
          loss += std::max(zu, 0.0) - zu * t[u] + l[u];
          all_right &= (zu > 0) == (t[u] > 0.5);
        }
        right = all_right;
        break;
      }
    }
    const auto b = static_cast<std::size_t>(c % B);
    s.loss_sum += w * loss;
    s.weight_sum += w;
    s.scored += 1;
    s.correct += right;
    seq_scored[b] = 1;
    if (!right) seq_ok[b] = 0;
  }
  for (std::size_t b = 0; b < seq_scored.size(); ++b) {
    s.sequences += seq_scored[b];
    s.sequences_correct += seq_scored[b] && seq_ok[b];
  }
  const double norm = reduction == Reduction::mean ? s.weight_sum : s.sequences;
  if (gradient && norm > 0) dy_ *= static_cast<S>(1.0 / norm);
  if (stats) stats->add(s);
  return norm > 0 ? static_cast<S>(s.loss_sum / norm) : S(0);
}

template <typename S>
void Model<S>::backward(ConstVectorRef<S> theta, const Batch& batch, VectorRef<S> grad) {
  const auto& seq = batch.layout;
  const Index N = seq.columns(), O = task_.output_size;
  if (grad.size() != size_) throw Error("model backward: wrong gradient vector size");
  if (!have_gradient_ || y_.cols() != N)
    throw Error("model backward: call forward() on the same batch first (not evaluate())");
  const ConstMatrixMap<S> V(theta.data() + readout_w_, O, hidden_);
  blas::gemm<S>(dy_, false, h_, true, MatrixMap<S>(grad.data() + readout_w_, O, hidden_), false);
  grad.segment(readout_b_, O) = dy_.rowwise().sum();
  dh_.resize(hidden_, N);
  blas::gemm<S>(V, true, dy_, false, dh_, false);
  const bool need_dx = mode_ == InputMode::embedding || mode_ == InputMode::projection;
  cell_->backward(theta.segment(0, cell_size_), x_, seq, dh_, grad.segment(0, cell_size_),
                  need_dx ? &dx_ : nullptr);
  if (!need_dx) return;
  zero_padding(dx_, seq);
  if (mode_ == InputMode::embedding) {
    MatrixMap<S> dE(grad.data() + embed_w_, cell_input_, task_.input_size);
    dE.setZero();
    for (Index c = 0; c < N; ++c) {
      const int tok = batch.input_tokens[static_cast<std::size_t>(c)];
      if (tok >= 0) dE.col(tok) += dx_.col(c);
    }
  } else {
    MatrixMap<S>(grad.data() + embed_w_, cell_input_, task_.input_size).noalias() =
        dx_ * batch.input_dense.template cast<S>().transpose();
    grad.segment(embed_b_, cell_input_) = dx_.rowwise().sum();
  }
}

template class Model<float>;
template class Model<double>;

}  // namespace cellzoo::train
