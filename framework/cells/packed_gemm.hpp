// PackedLhs<S>: a weight matrix packed once for Eigen's GEMM micro-kernel and then
// multiplied by many small right-hand sides, as the recurrent product of every time step.
//
// Why: `C.noalias() += R * h` repacks all of R (4H x H for an LSTM) on every call, which
// costs 10-15% of a training step at H = 256; cuDNN and oneDNN keep a packed weight for
// the whole sequence, and so does this. It drives Eigen 3.4's own building blocks
// (gemm_pack_lhs, gemm_pack_rhs, gebp_kernel, computeProductBlockingSizes) in the order
// of general_matrix_matrix_product::run, so the arithmetic is Eigen's: results equal
// those of the plain product up to the order of the depth blocks' accumulation.
// Buffers are sized by pack(); multiply_add() does not allocate. Not thread-safe: one
// PackedLhs per cell object (one run).
#pragma once

#include <vector>

#include "framework/util/eigen.hpp"

namespace cellzoo::cells {

template <typename S>
class PackedLhs {
 public:
  using ConstRef = Eigen::Ref<const Matrix<S>, 0, Eigen::OuterStride<>>;
  using Ref = Eigen::Ref<Matrix<S>, 0, Eigen::OuterStride<>>;

  // Packs A (rows x depth) for right-hand sides of at most max_cols columns.
  void pack(const ConstRef& a, Index max_cols);
  // Packs A^T (a.cols() x a.rows()), e.g. R^T for the backward pass, without a copy of A^T.
  void pack_transposed(const ConstRef& a, Index max_cols);

  Index rows() const { return rows_; }
  Index depth() const { return depth_; }

  // c += A * b, where b is depth x n and c rows x n, n <= max_cols.
  void multiply_add(const ConstRef& b, Ref c);

 private:
  template <int Order>
  void pack_impl(const S* data, Index stride, Index rows, Index depth, Index max_cols);

  Index rows_ = 0, depth_ = 0, max_cols_ = 0, kc_ = 0, mc_ = 0;
  std::vector<S, Eigen::aligned_allocator<S>> packed_, rhs_;
};

extern template class PackedLhs<float>;
extern template class PackedLhs<double>;

}  // namespace cellzoo::cells
