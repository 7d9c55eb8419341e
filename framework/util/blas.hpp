// The all-steps matrix products (an input projection W x over every step at once, the
// weight gradients d x^T and d h^T, a layer's dx = W^T d, the readout), and which library
// computes them.
//
// Chosen by measurement (docs/performance.md, "Which GEMM for which product"), one code
// path per kind of product, not a run-time autotuner:
//   - these all-steps products go to OpenBLAS's cblas_sgemm/dgemm when cellzoo is built
//     with it (CMake option CELLZOO_OPENBLAS, on by default), the product has at least
//     2^23 multiply-adds (m n k) and its result at least 64 rows and 64 columns; the
//     others, and all of them without OpenBLAS, to Eigen's product. OpenBLAS is 10-55 %
//     faster on most products of bench sizes S, M and L, 10-15 % slower on those of a JSB
//     sequence at batch 1 (size G: 2-3 million multiply-adds) and on a long weight
//     gradient into a thin result (128 x 32 at size T). The rule depends on the shape
//     only, so a run computes the same bits every time;
//   - the per-step recurrent products (R h_{t-1}, R^T d_t) stay Eigen's micro-kernel with
//     R packed once per pass (cells/packed_gemm.hpp): it beats OpenBLAS there, which
//     repacks R at every call.
//
// OpenBLAS is loaded on first use with one thread (runs are parallel across TBB workers,
// never inside), and with the kernels chosen from the processor's instruction sets
// (OPENBLAS_CORETYPE SkylakeX with AVX-512, Haswell with AVX2 + FMA) unless the
// environment names a core: OpenBLAS 0.3.21 falls back to its SSE3 "Prescott" kernels,
// 4-5x slower, on processors it does not know by model number. Its version and kernels are
// part of the numerical path (util/build_info.hpp): another BLAS, or other kernels, sum in
// another order and give results that differ in the last bits.
#pragma once

#include <string>

#include "framework/util/eigen.hpp"

namespace cellzoo::blas {

// c = op(a) op(b), or c += op(a) op(b) with `accumulate`; op is the transpose when the
// flag says so. No aliasing between c and a or b.
template <typename S>
void gemm(const ConstMatrixRef<S>& a, bool transpose_a, const ConstMatrixRef<S>& b,
          bool transpose_b, MatrixRef<S> c, bool accumulate);

// Whether this build computes the all-steps products with OpenBLAS.
bool uses_openblas();

// "" for Eigen; else e.g. "OpenBLAS 0.3.21 SkylakeX" (its version and the kernels it runs
// with on this processor), loading OpenBLAS if it is not loaded yet.
const std::string& description();

extern template void gemm<float>(const ConstMatrixRef<float>&, bool, const ConstMatrixRef<float>&,
                                 bool, MatrixRef<float>, bool);
extern template void gemm<double>(const ConstMatrixRef<double>&, bool,
                                  const ConstMatrixRef<double>&, bool, MatrixRef<double>, bool);

}  // namespace cellzoo::blas
