// Optimisers over the model's flat parameter vector, and global-norm gradient clipping.
//
// SGD with momentum keeps a velocity buffer v (PyTorch's formulation, which stays
// correct when the learning rate changes between steps):
//   v = momentum * v + g;  step = nesterov ? g + momentum * v : v;  theta -= lr * step
// Adam (Kingma & Ba 2015) with bias-corrected moment estimates.
#pragma once

#include <memory>

#include "framework/train/hyperparameters.hpp"
#include "framework/util/eigen.hpp"

namespace cellzoo::train {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of theta with gradient g at learning rate lr.
  virtual void step(VectorRef<float> theta, ConstVectorRef<float> g, double lr) = 0;
};

// The optimiser chosen by `config.optimizer` for a parameter vector of `size` entries.
std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& config, Index size);

// True when no entry of g is inf or NaN (one pass).
bool all_finite(ConstVectorRef<float> g);

// Rescales g to L2 norm `max_norm` if it is larger (max_norm 0 = off). Returns the norm
// before clipping (non-finite if g holds NaN or inf; g is then left alone).
double clip_global_norm(VectorRef<float> g, double max_norm);

}  // namespace cellzoo::train
