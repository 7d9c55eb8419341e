// The model trained by cellzoo: input layer -> recurrent cell (a stack of `layers` layers
// with Zaremba dropout, cells/cell_stack.hpp) -> linear readout at every step -> loss, over
// ONE flat parameter vector laid out [cell layers | readout | input layer], so the
// optimiser, clipping, gradient checks and saving see one contiguous block.
//
// Input layer (chosen by `embed`, see hyperparameters.hpp):
//   one_hot  tokens as one-hot vectors straight into the cell (small vocabularies)
//   embedding  x = E[:, token], E of size embed x vocabulary; gradient by scatter-add
//   dense    dense task inputs straight into the cell
//   projection x = P u + p, a learned linear map of dense inputs (square-input cells)
// Readout: y = V h + c at every step. Losses per scored step (weight w > 0):
//   mse             mean over output units of (y - target)^2
//   softmax_xent    -log softmax(y)[target], with a stable log-sum-exp
//   bernoulli_xent  sum over units of the cross-entropy of sigmoid(y), from logits
// The objective is sum(w * loss) / sum(w) over the batch (Reduction::mean), or divided by
// the number of sequences instead (Reduction::sequence, Greff's summed loss).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "framework/cells/cell_stack.hpp"
#include "framework/cells/registry.hpp"
#include "framework/train/batching.hpp"
#include "framework/train/hyperparameters.hpp"

namespace cellzoo::train {

enum class InputMode { one_hot, embedding, dense, projection };
const char* input_mode_name(InputMode mode);

// One named tensor of the model's flat parameter vector.
struct ModelTensor {
  std::string name;  // "readout.W", or the cell's own name ("R", "W_i", ...)
  // "cell" (one layer) or "cell_0".."cell_{N-1}" (layers = N >= 2, bottom first),
  // "readout" or "embedding" (embedding or input projection)
  std::string group;
  Index rows = 0, cols = 0, offset = 0;
  cells::ParamKind kind = cells::ParamKind::input_weight;
  Index size() const { return rows * cols; }
};

// Sums over a batch from which every metric is computed (see trainer.hpp).
struct BatchStats {
  double loss_sum = 0;                          // sum of w * loss over scored steps
  double weight_sum = 0;                        // sum of w
  double correct = 0;                           // scored steps predicted right
  double scored = 0;                            // scored steps (w > 0)
  double sequences_correct = 0, sequences = 0;  // sequences with >= 1 scored step
  void add(const BatchStats& o);
};

// The choices of a training forward pass; the defaults are evaluation's (no noise, no
// dropout, the mean reduction).
struct ForwardOptions {
  Reduction reduction = Reduction::mean;
  Rng* noise_rng = nullptr;  // with it, Gaussian noise of std noise_std on the cell input
  double noise_std = 0;
  Rng* dropout_rng = nullptr;  // with it, the stack draws fresh dropout masks from it
};

// Decides the input layer from the task, the cell and `embed` (throws cellzoo::Error on
// an impossible combination, e.g. embed=0 with a square-input cell of another size).
InputMode choose_input_mode(const datasets::TaskInfo& task, const cells::CellInfo& cell, int embed,
                            int hidden, Index* cell_input_size);

template <typename S>
class Model {
 public:
  Model(const cells::CellEntry& cell, const datasets::TaskInfo& task, const TrainConfig& hyper);

  Index parameter_count() const { return size_; }
  const std::vector<ModelTensor>& tensors() const { return tensors_; }
  InputMode input_mode() const { return mode_; }
  Index cell_input_size() const { return cell_input_; }
  cells::CellStack<S>& cell() { return *cell_; }
  Index state_count() const { return cell_->state_count(); }

  // Draws initial parameters: the cell's own rule, readout and projection
  // U(-s/sqrt(fan_in), s/sqrt(fan_in)) with zero biases, embeddings U(-a, a) with
  // a = s*sqrt(3/embed) (unit expected norm, like the one-hot vector it replaces).
  void initialize(VectorRef<S> theta, Rng& rng) const;

  // Runs the batch and returns the objective (see the file comment); adds the batch's
  // sums to `stats` if given. `initial`/`final` carry the cell state (truncated BPTT).
  // `options`: the reduction, input noise and dropout (ForwardOptions).
  S forward(ConstVectorRef<S> theta, const Batch& batch, const cells::CellState<S>* initial,
            cells::CellState<S>* final, BatchStats* stats, const ForwardOptions& options = {});
  // The same objective and stats as forward() without noise or dropout, bit for bit, by
  // the cell's forward-only pass (Cell::infer) and without the loss gradients: for
  // evaluation. backward() is refused after it.
  S evaluate(ConstVectorRef<S> theta, const Batch& batch, const cells::CellState<S>* initial,
             cells::CellState<S>* final, BatchStats* stats, Reduction reduction = Reduction::mean);
  // Gradient of the objective of the last forward() (same batch) into `grad`.
  void backward(ConstVectorRef<S> theta, const Batch& batch, VectorRef<S> grad);

 private:
  void add_tensor(std::string name, std::string group, Index rows, Index cols,
                  cells::ParamKind kind);
  // The steps of forward(): x_ from the batch, y_ = V h_ + c, then the losses (and, with
  // `gradient`, dy_).
  void input_layer(ConstVectorRef<S> theta, const Batch& batch, Rng* noise_rng, double noise_std);
  void readout(ConstVectorRef<S> theta, Index columns);
  S losses(const Batch& batch, BatchStats* stats, Reduction reduction, bool gradient);

  datasets::TaskInfo task_;
  InputMode mode_;
  Index hidden_, cell_input_, size_ = 0;
  double init_scale_, forget_bias_ = 0;
  std::unique_ptr<cells::CellStack<S>> cell_;
  std::vector<ModelTensor> tensors_;
  Index cell_size_ = 0, readout_w_ = 0, readout_b_ = 0, embed_w_ = -1, embed_b_ = -1;
  // Workspace of the last forward().
  Matrix<S> x_, h_, y_, dy_, dx_, dh_;
  Vector<S> err_;               // one column's error or softmax terms
  std::vector<double> bern_;    // one column's exp(-|y|) and log1p of it (Bernoulli loss)
  std::vector<double> noise_;   // one batch's input-noise draws
  bool have_gradient_ = false;  // the last pass was forward(): backward() may follow
};

extern template class Model<float>;
extern template class Model<double>;

}  // namespace cellzoo::train
