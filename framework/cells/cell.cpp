#include "framework/cells/cell.hpp"

#include <cmath>
#include <string>

#include "framework/util/error.hpp"

namespace cellzoo::cells {

template <typename S>
void Cell<S>::initialize(VectorRef<S> theta, Rng& rng, const InitOptions& options) const {
  if (theta.size() != layout_.size())
    throw Error("initialize: parameter vector has " + std::to_string(theta.size()) +
                " entries, the cell needs " + std::to_string(layout_.size()));
  const double bound = options.init_scale / std::sqrt(static_cast<double>(hidden_size_));
  for (const auto& t : layout_.tensors()) {
    for (Index i = 0; i < t.size(); ++i)
      theta[t.offset + i] =
          t.kind == ParamKind::bias ? S(0) : static_cast<S>(rng.uniform(-bound, bound));
  }
  if (const auto range = forget_bias_range())
    theta.segment(range->first, range->second - range->first).setConstant(S(options.forget_bias));
}

template <typename S>
void reset_state(const CellState<S>* initial, Index count, Index hidden, Index batch,
                 CellState<S>& state) {
  state.resize(static_cast<std::size_t>(count));
  for (Index k = 0; k < count; ++k) {
    auto& s = state[static_cast<std::size_t>(k)];
    if (initial) {
      const auto& src = (*initial)[static_cast<std::size_t>(k)];
      if (src.rows() != hidden || src.cols() != batch)
        throw Error("initial state " + std::to_string(k) + " is " + std::to_string(src.rows()) +
                    "x" + std::to_string(src.cols()) + ", expected " + std::to_string(hidden) +
                    "x" + std::to_string(batch));
      s = src;
    } else {
      s.setZero(hidden, batch);
    }
  }
}

template class Cell<float>;
template class Cell<double>;
template void reset_state<float>(const CellState<float>*, Index, Index, Index, CellState<float>&);
template void reset_state<double>(const CellState<double>*, Index, Index, Index,
                                  CellState<double>&);

}  // namespace cellzoo::cells
