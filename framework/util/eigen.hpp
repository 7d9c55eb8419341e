// Eigen aliases used across cellzoo. Sequences are stored batch-in-columns: a tensor of
// T steps x B sequences with R features is an R x (T*B) matrix whose column t*B + b holds
// sequence b at step t.
#pragma once

#include <Eigen/Dense>

namespace cellzoo {

using Index = Eigen::Index;
template <typename S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <typename S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <typename S>
using MatrixMap = Eigen::Map<Matrix<S>>;
template <typename S>
using ConstMatrixMap = Eigen::Map<const Matrix<S>>;
template <typename S>
using VectorRef = Eigen::Ref<Vector<S>>;
template <typename S>
using ConstVectorRef = Eigen::Ref<const Vector<S>>;
template <typename S>
using MatrixRef = Eigen::Ref<Matrix<S>>;
template <typename S>
using ConstMatrixRef = Eigen::Ref<const Matrix<S>>;

}  // namespace cellzoo
