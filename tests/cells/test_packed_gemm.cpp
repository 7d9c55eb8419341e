// Tests of PackedLhs: the packed product must equal Eigen's plain product, for both
// orientations, strided blocks, partial column counts and sizes that cross Eigen's
// cache blocks, and it must reject mismatched shapes.
#include <catch2/catch.hpp>

#include "framework/cells/packed_gemm.hpp"
#include "framework/util/error.hpp"
#include "framework/util/random.hpp"

using namespace cellzoo;
using cellzoo::cells::PackedLhs;

namespace {

template <typename S>
Matrix<S> random_matrix(Index rows, Index cols, Rng& rng) {
  Matrix<S> m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<S>(rng.uniform(-1.0, 1.0));
  return m;
}

template <typename S>
void check_shapes(double tolerance) {
  Rng rng(derive_seed(3, "packed_gemm"));
  // (rows, depth, max_cols, n): small, not multiples of the micro-kernel, and large enough
  // (depth 1500) for more than one depth block.
  const Index shapes[][4] = {
      {1, 1, 1, 1}, {7, 5, 3, 2}, {128, 32, 16, 16}, {1024, 256, 32, 19}, {200, 1500, 8, 8}};
  for (const auto& s : shapes) {
    const Index rows = s[0], depth = s[1], max_cols = s[2], n = s[3];
    INFO("rows " << rows << " depth " << depth << " n " << n);
    // A lives inside a larger matrix (outer stride > rows), like R.topRows(2H).
    const Matrix<S> big = random_matrix<S>(rows + 3, depth, rng);
    const auto a = big.topRows(rows);
    const Matrix<S> b = random_matrix<S>(depth, n, rng);
    Matrix<S> c = random_matrix<S>(rows, n, rng);
    const Matrix<S> expected = c + a * b;
    PackedLhs<S> packed;
    packed.pack(a, max_cols);
    packed.multiply_add(b, c);
    CHECK((c - expected).cwiseAbs().maxCoeff() <= tolerance * static_cast<double>(depth));

    // Transposed: A^T (depth x rows) times a rows x n right-hand side.
    const Matrix<S> bt = random_matrix<S>(rows, n, rng);
    Matrix<S> ct = random_matrix<S>(depth, n, rng);
    const Matrix<S> expected_t = ct + a.transpose() * bt;
    packed.pack_transposed(a, max_cols);
    REQUIRE(packed.rows() == depth);
    REQUIRE(packed.depth() == rows);
    packed.multiply_add(bt, ct);
    CHECK((ct - expected_t).cwiseAbs().maxCoeff() <= tolerance * static_cast<double>(rows));
  }
}

}  // namespace

TEST_CASE("PackedLhs equals Eigen's product (float and double)", "[packed_gemm]") {
  check_shapes<float>(1e-6);
  check_shapes<double>(1e-14);
}

TEST_CASE("PackedLhs writes only the target block of a larger matrix", "[packed_gemm]") {
  Rng rng(derive_seed(4, "packed_gemm"));
  const Matrix<double> a = random_matrix<double>(6, 4, rng);
  const Matrix<double> b = random_matrix<double>(4, 3, rng);
  Matrix<double> out = Matrix<double>::Constant(10, 5, 7.0);
  PackedLhs<double> packed;
  packed.pack(a, 3);
  packed.multiply_add(b, out.block(2, 1, 6, 3));
  Matrix<double> expected = Matrix<double>::Constant(10, 5, 7.0);
  expected.block(2, 1, 6, 3) += a * b;
  CHECK((out - expected).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("PackedLhs rejects mismatched shapes", "[packed_gemm]") {
  PackedLhs<float> packed;
  packed.pack(Matrix<float>::Ones(8, 4), 2);
  Matrix<float> c(8, 3);
  CHECK_THROWS_AS(packed.multiply_add(Matrix<float>::Ones(4, 3), c), Error);  // 3 > max_cols
  Matrix<float> c2(8, 2);
  CHECK_THROWS_AS(packed.multiply_add(Matrix<float>::Ones(5, 2), c2), Error);  // depth
  Matrix<float> c3(7, 2);
  CHECK_THROWS_AS(packed.multiply_add(Matrix<float>::Ones(4, 2), c3), Error);  // rows
}
