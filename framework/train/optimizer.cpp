// SGD (classical / Nesterov momentum), Adam and global-norm clipping.
#include "framework/train/optimizer.hpp"

#include <cmath>

namespace cellzoo::train {
namespace {

class Sgd final : public Optimizer {
 public:
  Sgd(Index size, double momentum, bool nesterov)
      : momentum_(static_cast<float>(momentum)), nesterov_(nesterov) {
    if (momentum > 0) v_.setZero(size);
  }
  void step(VectorRef<float> theta, ConstVectorRef<float> g, double lr) override {
    const float a = static_cast<float>(lr);
    if (v_.size() == 0) {
      theta.noalias() -= a * g;
      return;
    }
    v_ = momentum_ * v_ + g;
    if (nesterov_)
      theta.noalias() -= a * (g + momentum_ * v_);
    else
      theta.noalias() -= a * v_;
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
    m_ = b1 * m_ + (1 - b1) * g;
    v_ = b2 * v_ + (1 - b2) * g.cwiseAbs2();
    // Bias corrections folded into the step size and epsilon (computed in double).
    const double c1 = 1 - std::pow(beta1_, static_cast<double>(t_));
    const double c2 = 1 - std::pow(beta2_, static_cast<double>(t_));
    const float a = static_cast<float>(lr * std::sqrt(c2) / c1);
    const float e = static_cast<float>(eps_ * std::sqrt(c2));
    theta.array() -= a * m_.array() / (v_.array().sqrt() + e);
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

double clip_global_norm(VectorRef<float> g, double max_norm) {
  // Accumulate in double: a float sum of squares overflows long before the gradient does.
  const double norm = std::sqrt(g.cast<double>().squaredNorm());
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm)
    g *= static_cast<float>(max_norm / norm);
  return norm;
}

}  // namespace cellzoo::train
