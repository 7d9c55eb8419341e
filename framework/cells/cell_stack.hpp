// A stack of N layers of one cell, with Zaremba et al. (2014) dropout, presented as one
// Cell, so the model, gradient checks, benchmarks and the cell contract treat it like any
// cell.
//
//   layer 0 reads x (I), layer k >= 1 reads layer k-1's h (H); the stack's h_out is the
//   top layer's h. Square-input cells (MUT1/MUT2) therefore get input size H above layer 0.
//   Dropout (p > 0): inverted masks m = Bernoulli(1 - p) / (1 - p) on the input of every
//   layer and on the top layer's output, never on the recurrent connections (N + 1
//   masks), so h_out = m_N * h_top while the carried state stays the undropped h.
//
// Exact BPTT: backward runs the layers top to bottom over the whole sequence; each layer's
// dx (times its input mask) is the dh_out of the layer below. Each layer runs over all
// steps before the next starts, so every layer keeps its all-steps input GEMM.
//
// Parameters: the layers' layouts one after another, bottom first. With one layer the
// tensor names are the cell's own ("W", "R", ...); with N >= 2 they are "cell_k/NAME"
// (k = 0 bottom .. N-1 top), the groups of the saved parameter file (docs/parameters.md).
// States: the layers' states one after another (layer k's state j is k * per_layer + j).
//
// Masks (DropoutMode): `off` (evaluation: the identity), `random` (training: fresh masks
// for every entry, one key per mask point and forward drawn from the Rng given to
// set_dropout, so they follow the run's seed; see apply_dropout_mask), or `per_unit` (one
// mask value per unit and mask point from a fixed seed, the same for every column: a
// deterministic function, so finite differences, padding and carried state behave as for
// any cell; what stack_entry() cells use until told otherwise). Random masks are never
// stored: forward applies them as it draws them, backward draws them again from the keys.
// Nothing is allocated per step, and nothing at all when the batch shape repeats.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

inline constexpr int kMaxLayers = 8;

enum class DropoutMode { off, random, per_unit };

// How DropoutMode::random decides: a unit is kept iff a 16-bit draw is below `threshold`,
// so the keep probability 1 - p is rounded to a multiple of 2^-16 (exact for p = 0.5,
// 0.25, 0.125, ...; p = 0.2 keeps 52429/65536 = 0.8000031, p = 0.3 keeps 0.6999969), and
// a kept unit is multiplied by scale = 65536 / threshold, 1 / the rounded keep, so a mask
// has mean exactly 1. threshold is at least 1 (p just below 1 keeps 1/65536).
struct DropoutRule {
  std::uint32_t threshold;  // 1..65536
  double scale;
  double keep() const { return threshold / 65536.0; }
};
DropoutRule dropout_rule(double p);

// dst[i] = src[i] * entry e0 + i of the mask of `key`, for i in [0, n); dst may be src.
// Entry e of a mask: bits 16 (e % 4) .. 16 (e % 4) + 15 of word e / 4 of the SplitMix64
// stream seeded with `key` (a counter-based generator: four decisions per 64-bit word, the
// words computed independently and vectorised), kept (times rule.scale) iff below
// rule.threshold, else 0. A mask of R x C entries is column-major: entry e = c R + r.
template <typename S>
void apply_dropout_mask(const S* src, S* dst, Index e0, Index n, const DropoutRule& rule,
                        std::uint64_t key);

template <typename S>
class CellStack final : public Cell<S> {
 public:
  // Throws cellzoo::Error unless 1 <= layers <= kMaxLayers and 0 <= dropout < 1, and on
  // whatever the base cell refuses (e.g. a square-input cell with input != hidden).
  CellStack(const CellEntry& base, Index input, Index hidden, int layers, double dropout);

  Index state_count() const override { return static_cast<Index>(layers_.size()) * per_layer_; }
  std::vector<std::pair<Index, Index>> forget_bias_ranges() const override;

  int layers() const { return static_cast<int>(layers_.size()); }
  Cell<S>& layer(int k) { return *layers_[static_cast<std::size_t>(k)]; }
  const Cell<S>& layer(int k) const { return *layers_[static_cast<std::size_t>(k)]; }
  Index layer_offset(int k) const { return offsets_[static_cast<std::size_t>(k)]; }
  double dropout() const { return p_; }
  // How the next forward() draws its masks (see the file comment); `rng` for `random`
  // must outlive those calls.
  void set_dropout(DropoutMode mode, Rng* rng = nullptr);
  DropoutMode dropout_mode() const { return mode_; }

 protected:
  void do_forward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                  const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override;
  void do_backward(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                   ConstMatrixRef<S> dh_out, VectorRef<S> dtheta, Matrix<S>* dx) override;
  // Every layer's forward-only pass; masks as in forward() (the model evaluates with
  // DropoutMode::off).
  void do_infer(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final) override;

 private:
  // Draws the masks of one forward (their keys, or per_unit's values once).
  void draw_masks();
  // dst = src * mask k of the last forward (k < N: layer k's input; k = N: the top
  // output); dst may be src.
  void apply_mask(std::size_t k, ConstMatrixRef<S> src, MatrixRef<S> dst) const;
  // forward() and infer(): the layers bottom to top (`infer`: their forward-only passes).
  void run_layers(ConstVectorRef<S> theta, ConstMatrixRef<S> x, const SequenceLayout& seq,
                  const CellState<S>* initial, MatrixRef<S> h_out, CellState<S>* final, bool infer);
  ConstVectorRef<S> slice(const ConstVectorRef<S>& theta, int k) const;

  std::vector<std::unique_ptr<Cell<S>>> layers_;
  std::vector<Index> offsets_;
  Index per_layer_ = 1;
  double p_ = 0;
  DropoutMode mode_ = DropoutMode::per_unit;
  Rng* rng_ = nullptr;
  bool dropped_ = false;                   // whether the last forward() applied masks
  DropoutMode masked_ = DropoutMode::off;  // and in which mode
  // The last forward's masks: keys_[k] the stream key of mask k (random), unit_masks_[k]
  // its values (per_unit); mask k is layer k's input's, mask N the top output's.
  std::vector<std::uint64_t> keys_;
  // Workspace: h_[k] layer k's output (k < N-1), in_[k] the masked input of layer k.
  std::vector<Matrix<S>> h_, in_, unit_masks_;
  std::vector<CellState<S>> initial_, final_;
  Matrix<S> dh_, dx_;
};

// The entry of `layers` layers of `base` with dropout p, named e.g. "lstm[layers=2,
// dropout=0.3]"; `base` itself when layers == 1 and p == 0. Its cells are CellStacks in
// DropoutMode::per_unit.
CellEntry stack_entry(const CellEntry& base, int layers, double dropout);

extern template class CellStack<float>;
extern template class CellStack<double>;
extern template void apply_dropout_mask<float>(const float*, float*, Index, Index,
                                               const DropoutRule&, std::uint64_t);
extern template void apply_dropout_mask<double>(const double*, double*, Index, Index,
                                                const DropoutRule&, std::uint64_t);

}  // namespace cellzoo::cells
