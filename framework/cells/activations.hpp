// Element-wise activations and their derivatives written in terms of the activation's
// output (y), which is what the kernels keep from the forward pass.
#pragma once

#include <cmath>

namespace cellzoo::cells {

template <typename S>
inline S sigmoid(S x) {
  return S(1) / (S(1) + std::exp(-x));
}
template <typename S>
inline S sigmoid_grad_from_output(S y) {
  return y * (S(1) - y);
}
template <typename S>
inline S tanh_grad_from_output(S y) {
  return S(1) - y * y;
}

}  // namespace cellzoo::cells
