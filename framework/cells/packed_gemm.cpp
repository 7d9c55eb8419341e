// PackedLhs (see packed_gemm.hpp): Eigen 3.4's GEMM blocking with a persistent packed lhs.
//
// Layout of packed_: depth blocks of kc columns one after the other; inside depth block
// [k0, k0 + akc) the row blocks of mc rows, each packed by gemm_pack_lhs on its own, so
// the block (k0, i0) starts at k0 * rows + i0 * akc.
#include "framework/cells/packed_gemm.hpp"

#include <algorithm>
#include <string>

#include "framework/util/error.hpp"

namespace cellzoo::cells {
namespace {

namespace ei = Eigen::internal;

template <typename S>
using Traits = ei::gebp_traits<S, S>;

}  // namespace

template <typename S>
template <int Order>
void PackedLhs<S>::pack_impl(const S* data, Index stride, Index rows, Index depth, Index max_cols) {
  using Mapper = ei::const_blas_data_mapper<S, Index, Order>;
  rows_ = rows;
  depth_ = depth;
  max_cols_ = max_cols;
  // Eigen's own choice of cache blocks for a (rows x depth) * (depth x max_cols) product.
  Index kc = depth, mc = rows, nc = std::max<Index>(1, max_cols);
  ei::computeProductBlockingSizes<S, S>(kc, mc, nc, Index(1));
  kc_ = std::max<Index>(1, kc);
  mc_ = std::max<Index>(1, std::min(mc, rows));
  packed_.resize(static_cast<std::size_t>(rows * depth));
  rhs_.resize(static_cast<std::size_t>(std::max<Index>(1, kc_ * max_cols)));

  ei::gemm_pack_lhs<S, Index, Mapper, Traits<S>::mr, Traits<S>::LhsProgress,
                    typename Traits<S>::LhsPacket4Packing, Order>
      pack_lhs;
  const Mapper lhs(data, stride);
  for (Index k0 = 0; k0 < depth; k0 += kc_) {
    const Index akc = std::min(kc_, depth - k0);
    for (Index i0 = 0; i0 < rows; i0 += mc_) {
      const Index amc = std::min(mc_, rows - i0);
      pack_lhs(packed_.data() + k0 * rows + i0 * akc, lhs.getSubMapper(i0, k0), akc, amc);
    }
  }
}

template <typename S>
void PackedLhs<S>::pack(const ConstRef& a, Index max_cols) {
  pack_impl<Eigen::ColMajor>(a.data(), a.outerStride(), a.rows(), a.cols(), max_cols);
}

template <typename S>
void PackedLhs<S>::pack_transposed(const ConstRef& a, Index max_cols) {
  // A column-major A read row-major is A^T.
  pack_impl<Eigen::RowMajor>(a.data(), a.outerStride(), a.cols(), a.rows(), max_cols);
}

template <typename S>
void PackedLhs<S>::multiply_add(const ConstRef& b, Ref c) {
  const Index n = b.cols();
  if (b.rows() != depth_ || c.rows() != rows_ || c.cols() != n || n > max_cols_)
    throw Error("PackedLhs::multiply_add: shapes do not match the packed " + std::to_string(rows_) +
                    "x" + std::to_string(depth_) + " matrix (b is " + std::to_string(b.rows()) +
                    "x" + std::to_string(n) + ", c " + std::to_string(c.rows()) + "x" +
                    std::to_string(c.cols()) + ")",
                "pack() with the product's shape and the largest column count first");
  if (n == 0) return;
  using RhsMapper = ei::const_blas_data_mapper<S, Index, Eigen::ColMajor>;
  using ResMapper = ei::blas_data_mapper<S, Index, Eigen::ColMajor>;
  ei::gemm_pack_rhs<S, Index, RhsMapper, Traits<S>::nr, Eigen::ColMajor> pack_rhs;
  ei::gebp_kernel<S, S, Index, ResMapper, Traits<S>::mr, Traits<S>::nr> gebp;
  const RhsMapper rhs(b.data(), b.outerStride());
  const ResMapper res(c.data(), c.outerStride());
  for (Index k0 = 0; k0 < depth_; k0 += kc_) {
    const Index akc = std::min(kc_, depth_ - k0);
    pack_rhs(rhs_.data(), rhs.getSubMapper(k0, 0), akc, n);
    for (Index i0 = 0; i0 < rows_; i0 += mc_) {
      const Index amc = std::min(mc_, rows_ - i0);
      gebp(res.getSubMapper(i0, 0), packed_.data() + k0 * rows_ + i0 * akc, rhs_.data(), amc, akc,
           n, S(1));
    }
  }
}

template class PackedLhs<float>;
template class PackedLhs<double>;

}  // namespace cellzoo::cells
