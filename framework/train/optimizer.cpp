// SGD (classical / Nesterov momentum), Adam and global-norm clipping.
#include "framework/train/optimizer.hpp"

#include <algorithm>
#include <cmath>

namespace cellzoo::train {
namespace {

// The optimisers walk theta, the gradient and their state in blocks of this many floats
// (48 KiB for four vectors: L1-sized), applying every update expression to one block
// before the next, so each vector is read once per step instead of once per expression.
// Within a block the expressions are the same as over the whole vectors, so every
// element gets the same float operations in the same order: the results do not change.
constexpr Index kBlock = 3072;

template <typename F>
void by_blocks(Index n, F&& f) {
  for (Index i = 0; i < n; i += kBlock) f(i, std::min(kBlock, n - i));
}

class Sgd final : public Optimizer {
 public:
  Sgd(Index size, double momentum, bool nesterov)
      : momentum_(static_cast<float>(momentum)), nesterov_(nesterov) {
    if (momentum > 0) v_.setZero(size);
  }
  void step(VectorRef<float> theta, ConstVectorRef<float> g, double lr) override {
    const float a = static_cast<float>(lr), m = momentum_;
    if (v_.size() == 0) {
      theta.noalias() -= a * g;
      return;
    }
    by_blocks(theta.size(), [&](Index i, Index n) {
      auto p = theta.segment(i, n);
      const auto gi = g.segment(i, n);
      auto v = v_.segment(i, n);
      v = m * v + gi;
      if (nesterov_)
        p.noalias() -= a * (gi + m * v);
      else
        p.noalias() -= a * v;
    });
  }

 private:
  float momentum_;
  bool nesterov_;
  Vector<float> v_;
};

class Adam final : public Optimizer {
 public:
  Adam(Index size, double beta1, double beta2, double eps)
      : beta1_(beta1), beta2_(beta2), eps_(eps) {
    m_.setZero(size);
    v_.setZero(size);
  }
  void step(VectorRef<float> theta, ConstVectorRef<float> g, double lr) override {
    ++t_;
    const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
    // Bias corrections folded into the step size and epsilon (computed in double).
    const double c1 = 1 - std::pow(beta1_, static_cast<double>(t_));
    const double c2 = 1 - std::pow(beta2_, static_cast<double>(t_));
    const float a = static_cast<float>(lr * std::sqrt(c2) / c1);
    const float e = static_cast<float>(eps_ * std::sqrt(c2));
    by_blocks(theta.size(), [&](Index i, Index n) {
      const auto gi = g.segment(i, n);
      auto m = m_.segment(i, n);
      auto v = v_.segment(i, n);
      m = b1 * m + (1 - b1) * gi;
      v = b2 * v + (1 - b2) * gi.cwiseAbs2();
      theta.segment(i, n).array() -= a * m.array() / (v.array().sqrt() + e);
    });
  }

 private:
  double beta1_, beta2_, eps_;
  long t_ = 0;
  Vector<float> m_, v_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& config, Index size) {
  if (config.optimizer == OptimizerKind::sgd)
    return std::make_unique<Sgd>(size, config.momentum, config.nesterov);
  return std::make_unique<Adam>(size, config.beta1, config.beta2, config.adam_eps);
}

bool all_finite(ConstVectorRef<float> g) {
  // x * 0 is 0 for every finite x and NaN for inf and NaN; Eigen's sum is vectorised and
  // reads g once (allFinite() makes two passes).
  float sum = 0;
  by_blocks(g.size(), [&](Index i, Index n) { sum += (g.segment(i, n).array() * 0.0f).sum(); });
  return sum == 0;
}

double clip_global_norm(VectorRef<float> g, double max_norm) {
  // Accumulate in double: a float sum of squares overflows long before the gradient does.
  const double norm = std::sqrt(g.cast<double>().squaredNorm());
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm)
    g *= static_cast<float>(max_norm / norm);
  return norm;
}

}  // namespace cellzoo::train
