// Stacked layers with Zaremba dropout (see cell_stack.hpp).
#include "framework/cells/cell_stack.hpp"

#include <cmath>
#include <cstdio>

#include "framework/util/error.hpp"

namespace cellzoo::cells {
namespace {

// The seed of DropoutMode::per_unit masks: any fixed number will do.
constexpr std::uint64_t kPerUnitSeed = 0x5eed0d40;

std::string layer_group(int k) {
  return "cell_" + std::to_string(k);
}

// Fills `mask` with 0 or 1/keep, each entry kept with probability `keep`; two decisions
// per 64 random bits (32-bit thresholds), so masks cost little next to a step.
template <typename S>
void fill_mask(Matrix<S>& mask, double keep, Rng& rng) {
  const auto threshold = static_cast<std::uint64_t>(std::ldexp(keep, 32));
  const S scale = static_cast<S>(1.0 / keep);
  S* data = mask.data();
  const Index n = mask.size();
  Index i = 0;
  for (; i + 1 < n; i += 2) {
    const std::uint64_t bits = rng.next();
    data[i] = (bits & 0xffffffffu) < threshold ? scale : S(0);
    data[i + 1] = (bits >> 32) < threshold ? scale : S(0);
  }
  if (i < n) data[i] = (rng.next() & 0xffffffffu) < threshold ? scale : S(0);
}

}  // namespace

template <typename S>
CellStack<S>::CellStack(const CellEntry& base, Index input, Index hidden, int layers,
                        double dropout)
    : Cell<S>(input, hidden), p_(dropout) {
  if (layers < 1 || layers > kMaxLayers)
    throw Error("layers = " + std::to_string(layers) + " is not valid: expected 1.." +
                    std::to_string(kMaxLayers),
                "set layers to an integer from 1 to " + std::to_string(kMaxLayers));
  if (!(dropout >= 0 && dropout < 1))
    throw Error("dropout = " + std::to_string(dropout) + " is not valid: expected 0 <= p < 1",
                "e.g. dropout = 0.5 (Zaremba et al.'s medium model)");
  for (int k = 0; k < layers; ++k) {
    layers_.push_back(base.template make<S>(k == 0 ? input : hidden, hidden));
    const auto& cell = *layers_.back();
    offsets_.push_back(this->layout_.size());
    for (const auto& t : cell.layout().tensors())
      this->layout_.add(layers == 1 ? t.name : layer_group(k) + "/" + t.name, t.rows, t.cols,
                        t.kind);
  }
  per_layer_ = layers_.front()->state_count();
  h_.resize(static_cast<std::size_t>(layers));
  in_.resize(static_cast<std::size_t>(layers));
  mask_.resize(static_cast<std::size_t>(layers) + 1);
  unit_masks_.resize(static_cast<std::size_t>(layers) + 1);
  initial_.resize(static_cast<std::size_t>(layers));
  final_.resize(static_cast<std::size_t>(layers));
}

template <typename S>
std::vector<std::pair<Index, Index>> CellStack<S>::forget_bias_ranges() const {
  std::vector<std::pair<Index, Index>> out;
  for (int k = 0; k < layers(); ++k)
    for (const auto& [begin, end] : layer(k).forget_bias_ranges())
      out.emplace_back(layer_offset(k) + begin, layer_offset(k) + end);
  return out;
}

template <typename S>
void CellStack<S>::set_dropout(DropoutMode mode, Rng* rng) {
  if (mode == DropoutMode::random && !rng)
    throw Error("CellStack::set_dropout: random masks need an Rng");
  mode_ = mode;
  rng_ = rng;
}

template <typename S>
ConstVectorRef<S> CellStack<S>::slice(const ConstVectorRef<S>& theta, int k) const {
  return theta.segment(layer_offset(k), layer(k).parameter_count());
}

template <typename S>
void CellStack<S>::draw_masks(Index columns) {
  const double keep = 1 - p_;
  const auto N = static_cast<std::size_t>(layers());
  for (std::size_t k = 0; k <= N; ++k) {
    auto& m = mask_[k];
    const Index rows = k == 0 ? this->input_size() : this->hidden_size();
    if (mode_ == DropoutMode::random) {
      m.resize(rows, columns);
      fill_mask(m, keep, *rng_);
    } else {  // per_unit: one value per unit, broadcast over the columns
      auto& unit = unit_masks_[k];
      if (unit.rows() != rows) {
        Rng rng(derive_seed(kPerUnitSeed, "mask/" + std::to_string(k)));
        unit.resize(rows, 1);
        fill_mask(unit, keep, rng);
      }
      m.resize(rows, columns);
      m.colwise() = unit.col(0);
    }
  }
}

template <typename S>
void CellStack<S>::do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x,
                              const SequenceLayout& seq, const CellState<S>* initial,
                              MatrixRef<S> h_out, CellState<S>* final) {
  run_layers(theta, x, seq, initial, h_out, final, false);
}

template <typename S>
void CellStack<S>::do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                            const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) {
  run_layers(theta, x, seq, initial, h_out, final, true);
}

template <typename S>
void CellStack<S>::run_layers(ConstVectorRef<S> theta, ConstMatrixRef<S> x,
                              const SequenceLayout& seq, const CellState<S>* initial,
                              MatrixRef<S> h_out, CellState<S>* final, bool infer) {
  const int N = layers();
  const Index C = seq.columns();
  dropped_ = p_ > 0 && mode_ != DropoutMode::off;
  if (dropped_) draw_masks(C);
  for (int k = 0; k < N; ++k) {
    const auto K = static_cast<std::size_t>(k);
    // This layer's input.
    if (dropped_) in_[K] = (k == 0 ? x : ConstMatrixRef<S>(h_[K - 1])).cwiseProduct(mask_[K]);
    const ConstMatrixRef<S> input = dropped_ ? ConstMatrixRef<S>(in_[K])
                                    : k == 0 ? x
                                             : ConstMatrixRef<S>(h_[K - 1]);
    // Its slice of the initial state (copied: same sizes again allocate nothing).
    const CellState<S>* from = nullptr;
    if (initial) {
      if (N == 1) {
        from = initial;
      } else {
        auto& mine = initial_[K];
        mine.resize(static_cast<std::size_t>(per_layer_));
        for (Index j = 0; j < per_layer_; ++j)
          mine[static_cast<std::size_t>(j)] =
              (*initial)[static_cast<std::size_t>(k * per_layer_ + j)];
        from = &mine;
      }
    }
    CellState<S>* to = final ? (N == 1 ? final : &final_[K]) : nullptr;
    auto& layer = *layers_[K];
    const bool top_direct = k == N - 1 && !dropped_;
    if (!top_direct) h_[K].resize(this->hidden_size(), C);
    MatrixRef<S> out = top_direct ? h_out : MatrixRef<S>(h_[K]);
    if (infer)
      layer.infer(slice(theta, k), input, seq, from, out, to);
    else
      layer.forward(slice(theta, k), input, seq, from, out, to);
  }
  if (dropped_) h_out = h_[static_cast<std::size_t>(N - 1)].cwiseProduct(mask_.back());
  if (final && N > 1) {
    // Copied, as a single cell does: a `final` of the right sizes allocates nothing.
    final->resize(static_cast<std::size_t>(state_count()));
    for (int k = 0; k < N; ++k)
      for (Index j = 0; j < per_layer_; ++j)
        (*final)[static_cast<std::size_t>(k * per_layer_ + j)] =
            final_[static_cast<std::size_t>(k)][static_cast<std::size_t>(j)];
  }
}

template <typename S>
void CellStack<S>::do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x,
                               const SequenceLayout& seq, ConstMatrixRef<S> dh_out,
                               VectorRef<S> dtheta, Matrix<S>* dx) {
  const int N = layers();
  if (dropped_) dh_ = dh_out.cwiseProduct(mask_.back());
  bool top = !dropped_;  // whether the current dh is still dh_out itself
  for (int k = N - 1; k >= 0; --k) {
    const auto K = static_cast<std::size_t>(k);
    const ConstMatrixRef<S> input = dropped_ ? ConstMatrixRef<S>(in_[K])
                                    : k == 0 ? x
                                             : ConstMatrixRef<S>(h_[K - 1]);
    const ConstMatrixRef<S> dh = top ? dh_out : ConstMatrixRef<S>(dh_);
    auto dslice = dtheta.segment(layer_offset(k), layer(k).parameter_count());
    if (k > 0) {
      layers_[K]->backward(slice(theta, k), input, seq, dh, dslice, &dx_);
      if (dropped_)
        dh_ = dx_.cwiseProduct(mask_[K]);
      else
        dh_.swap(dx_);
      top = false;
    } else {
      layers_[K]->backward(slice(theta, k), input, seq, dh, dslice, dx);
      if (dx && dropped_) dx->array() *= mask_[0].array();
    }
  }
}

template class CellStack<float>;
template class CellStack<double>;

CellEntry stack_entry(const CellEntry& base, int layers, double dropout) {
  if (layers == 1 && dropout == 0) return base;
  CellEntry e;
  e.info = base.info;
  char p[32];
  std::snprintf(p, sizeof p, "%g", dropout);
  e.info.name = base.info.name + "[layers=" + std::to_string(layers) + ",dropout=" + p + "]";
  e.info.description = std::to_string(layers) + " layer(s) of " + base.info.name +
                       (dropout > 0 ? std::string(", Zaremba dropout ") + p : std::string()) +
                       ": " + base.info.description;
  e.info.param_formula =
      base.info.param_formula + " for layer 1, with I = H for layers 2.." + std::to_string(layers);
  // A square-input base needs I == H for the first layer, like the cell itself.
  e.make_float = [base, layers, dropout](Index i, Index h) {
    return std::make_unique<CellStack<float>>(base, i, h, layers, dropout);
  };
  e.make_double = [base, layers, dropout](Index i, Index h) {
    return std::make_unique<CellStack<double>>(base, i, h, layers, dropout);
  };
  return e;
}

}  // namespace cellzoo::cells
