// Stacked layers with Zaremba dropout (see cell_stack.hpp).
#include "framework/cells/cell_stack.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "framework/util/error.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::cells {
namespace {

// The seed of DropoutMode::per_unit masks: any fixed number will do.
constexpr std::uint64_t kPerUnitSeed = 0x5eed0d40;

std::string layer_group(int k) {
  return "cell_" + std::to_string(k);
}

// per_unit's values: 0 or 1/keep, each kept with probability keep, two 32-bit decisions
// per Rng word. They are what they were before the random masks moved to the generator
// below, so the gradient checks (cellzoo gradcheck, the cell contract) check the same
// masks as before.
template <typename S>
void fill_unit_mask(Matrix<S>& mask, double keep, std::uint64_t seed) {
  Rng rng(seed);
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

DropoutRule dropout_rule(double p) {
  const auto t = std::clamp<long long>(std::llround(std::ldexp(1 - p, 16)), 1, 65536);
  return {static_cast<std::uint32_t>(t), 65536.0 / static_cast<double>(t)};
}

// Blocks of 1024 entries: the words go through an L1-sized buffer of 16-bit draws, then
// one compare-and-select pass applies them (both loops vectorise), so a mask is never
// stored: backward draws it again from the same key.
template <typename S>
void apply_dropout_mask(const S* src, S* dst, Index e0, Index n, const DropoutRule& rule,
                        std::uint64_t key) {
  constexpr Index kBlock = 1024;
  std::uint16_t draws[kBlock + 4];
  const S scale = static_cast<S>(rule.scale);
  const std::uint32_t threshold = rule.threshold;
  for (Index start = 0; start < n; start += kBlock) {
    const Index m = std::min(kBlock, n - start);
    const Index offset = (e0 + start) % 4;
    const auto first = static_cast<std::uint64_t>((e0 + start) / 4);
    for (Index w = 0; w < (offset + m + 3) / 4; ++w) {
      // Word w of the mask: output first + w + 1 of the SplitMix64 stream seeded with the
      // key (counter-based, so the words are independent and this loop vectorises).
      std::uint64_t z = splitmix64_at(key, first + static_cast<std::uint64_t>(w) + 1);
      if constexpr (std::endian::native == std::endian::big)  // draw j = bits 16j.. of z
        z = (z >> 48) | ((z >> 16) & 0xffff0000ULL) | ((z << 16) & 0xffff00000000ULL) | (z << 48);
      std::memcpy(draws + 4 * w, &z, sizeof z);
    }
    const std::uint16_t* u = draws + offset;
    const S* in = src + start;
    S* out = dst + start;
    for (Index i = 0; i < m; ++i) out[i] = u[i] < threshold ? in[i] * scale : S(0);
  }
}

template void apply_dropout_mask<float>(const float*, float*, Index, Index, const DropoutRule&,
                                        std::uint64_t);
template void apply_dropout_mask<double>(const double*, double*, Index, Index, const DropoutRule&,
                                         std::uint64_t);

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
void CellStack<S>::draw_masks() {
  const auto N = static_cast<std::size_t>(layers());
  masked_ = mode_;
  keys_.resize(N + 1);
  for (std::size_t k = 0; k <= N; ++k) {
    if (mode_ == DropoutMode::random) {
      keys_[k] = rng_->next();  // one word of the run's stream per mask: its key
    } else {                    // per_unit: one value per unit, the same for every column
      auto& unit = unit_masks_[k];
      const Index rows = k == 0 ? this->input_size() : this->hidden_size();
      if (unit.rows() != rows) {
        unit.resize(rows, 1);
        fill_unit_mask(unit, 1 - p_, derive_seed(kPerUnitSeed, "mask/" + std::to_string(k)));
      }
    }
  }
}

template <typename S>
void CellStack<S>::apply_mask(std::size_t k, ConstMatrixRef<S> src, MatrixRef<S> dst) const {
  if (masked_ == DropoutMode::per_unit) {
    dst.array() = src.array().colwise() * unit_masks_[k].col(0).array();
    return;
  }
  const DropoutRule rule = dropout_rule(p_);
  const Index R = src.rows();
  if (src.outerStride() == R && dst.outerStride() == R) {
    apply_dropout_mask(src.data(), dst.data(), 0, src.size(), rule, keys_[k]);
  } else {
    for (Index c = 0; c < src.cols(); ++c)
      apply_dropout_mask(src.col(c).data(), dst.col(c).data(), c * R, R, rule, keys_[k]);
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
  if (dropped_) draw_masks();
  for (int k = 0; k < N; ++k) {
    const auto K = static_cast<std::size_t>(k);
    // This layer's input.
    if (dropped_) {
      in_[K].resize(k == 0 ? x.rows() : this->hidden_size(), C);
      apply_mask(K, k == 0 ? x : ConstMatrixRef<S>(h_[K - 1]), in_[K]);
    }
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
    // The top layer writes h_out itself (masked in place below).
    if (k < N - 1) h_[K].resize(this->hidden_size(), C);
    MatrixRef<S> out = k == N - 1 ? h_out : MatrixRef<S>(h_[K]);
    if (infer)
      layer.infer(slice(theta, k), input, seq, from, out, to);
    else
      layer.forward(slice(theta, k), input, seq, from, out, to);
  }
  if (dropped_) apply_mask(static_cast<std::size_t>(N), h_out, h_out);
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
  if (dropped_) {
    dh_.resize(dh_out.rows(), dh_out.cols());
    apply_mask(static_cast<std::size_t>(N), dh_out, dh_);
  }
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
      if (dropped_) apply_mask(K, dx_, dx_);
      dh_.swap(dx_);
      top = false;
    } else {
      layers_[K]->backward(slice(theta, k), input, seq, dh, dslice, dx);
      if (dx && dropped_) apply_mask(0, *dx, *dx);
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
