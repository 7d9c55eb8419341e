// Dropout masks of cell stacks (cells/cell_stack.hpp, DropoutMode::random): the keep rate
// and the scale are what docs/training.md says, decisions look independent, a mask is a
// function of its key and entry index only (so any split of the work gives the same
// mask), and in a stack the mask sits on the top output with exactly those values.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "framework/cells/cell_stack.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;

namespace {

// The mask of `key` over n entries (applied to ones).
std::vector<double> mask_of(std::uint64_t key, Index n, const DropoutRule& rule) {
  std::vector<double> m(static_cast<std::size_t>(n), 1.0);
  apply_dropout_mask(m.data(), m.data(), 0, n, rule, key);
  return m;
}

}  // namespace

TEST_CASE("dropout rule: keep rounded to 2^-16, scale 1 / the rounded keep",
          "[cells][stack][dropout]") {
  CHECK(dropout_rule(0.5).threshold == 32768);
  CHECK(dropout_rule(0.5).scale == 2.0);
  CHECK(dropout_rule(0.25).threshold == 49152);
  CHECK(dropout_rule(0.25).keep() == 0.75);
  CHECK(dropout_rule(0.2).threshold == 52429);  // 0.8 * 65536 = 52428.8
  CHECK(std::abs(dropout_rule(0.2).keep() - 0.8) < 1.0 / 65536);
  CHECK(dropout_rule(0.3).scale * dropout_rule(0.3).keep() == 1.0);
  CHECK(dropout_rule(0).threshold == 65536);
  CHECK(dropout_rule(0.999999999).threshold == 1);  // never all dropped, finite scale
  CHECK(dropout_rule(0.999999999).scale == 65536.0);
}

TEST_CASE("dropout masks: keep rate, mean 1, independent decisions", "[cells][stack][dropout]") {
  const Index n = Index(1) << 20;
  std::uint64_t key = 0x1234;
  for (const double p : {0.5, 0.2, 0.25, 0.3, 0.7, 0.05}) {
    DYNAMIC_SECTION("p = " << p) {
      const auto rule = dropout_rule(p);
      const double keep = rule.keep();
      const auto m = mask_of(++key, n, rule);
      double kept = 0, sum = 0, both1 = 0, both4 = 0, both_c = 0, other = 0;
      for (Index e = 0; e < n; ++e) {
        const double v = m[static_cast<std::size_t>(e)];
        other += v != 0 && v != rule.scale;  // exactly 0 or the scale
        kept += v != 0;
        sum += v;
        // Neighbours in the same word, the next word, the next column of 128 rows.
        if (e + 1 < n) both1 += v != 0 && m[static_cast<std::size_t>(e + 1)] != 0;
        if (e + 4 < n) both4 += v != 0 && m[static_cast<std::size_t>(e + 4)] != 0;
        if (e + 128 < n) both_c += v != 0 && m[static_cast<std::size_t>(e + 128)] != 0;
      }
      CHECK(other == 0);
      const double N = static_cast<double>(n);
      const double sd = std::sqrt(keep * (1 - keep) / N);  // of a kept fraction
      CHECK(std::abs(kept / N - keep) < 5 * sd);
      CHECK(std::abs(sum / N - 1) < 5 * sd * rule.scale);
      // Pairs: P(both kept) = keep^2 for independent decisions.
      const double sd2 = std::sqrt(keep * keep * (1 - keep * keep) / N);
      CHECK(std::abs(both1 / N - keep * keep) < 6 * sd2);
      CHECK(std::abs(both4 / N - keep * keep) < 6 * sd2);
      CHECK(std::abs(both_c / N - keep * keep) < 6 * sd2);
    }
  }
  // Masks of neighbouring keys (consecutive words of one run's stream need not be
  // close, but nearby keys must not give correlated masks either).
  const auto rule = dropout_rule(0.5);
  const auto a = mask_of(1000, n, rule), b = mask_of(1001, n, rule);
  double agree = 0;
  for (std::size_t e = 0; e < a.size(); ++e) agree += (a[e] != 0) == (b[e] != 0);
  CHECK(std::abs(agree / static_cast<double>(n) - 0.5) < 5 * std::sqrt(0.25 / n));
}

TEST_CASE("dropout masks depend only on key and entry: any split gives the same mask",
          "[cells][stack][dropout]") {
  const auto rule = dropout_rule(0.3);
  const Index n = 5000;
  const auto whole = mask_of(77, n, rule);
  CHECK(mask_of(77, n, rule) == whole);
  CHECK(mask_of(78, n, rule) != whole);
  // Pieces at offsets that are not multiples of 4 and cross the 1024-entry blocks.
  for (const Index piece : {1, 3, 7, 129, 1023, 1030}) {
    std::vector<double> parts(static_cast<std::size_t>(n), 1.0);
    for (Index e0 = 0; e0 < n; e0 += piece)
      apply_dropout_mask(parts.data() + e0, parts.data() + e0, e0, std::min(piece, n - e0), rule,
                         77);
    CHECK(parts == whole);
  }
  // float and double make the same decisions.
  std::vector<float> f(static_cast<std::size_t>(n), 1.0f);
  apply_dropout_mask(f.data(), f.data(), 0, n, rule, 77);
  Index differ = 0;
  for (std::size_t e = 0; e < f.size(); ++e) differ += (f[e] != 0) != (whole[e] != 0);
  CHECK(differ == 0);
}

TEST_CASE("stack dropout: the top output is masked with the documented masks, freshly",
          "[cells][stack][dropout]") {
  // One rnn layer with zero input weights: the input mask cannot change h, so the
  // training output is exactly mask(top) * the evaluation output.
  const auto& rnn = CellRegistry::instance().get("rnn");
  const Index I = 3, H = 64, T = 10, B = 8;
  CellStack<double> stack(rnn, I, H, 1, 0.25);
  Vector<double> theta(stack.parameter_count());
  Rng init(5);
  for (Index i = 0; i < theta.size(); ++i) theta[i] = init.uniform(-0.5, 0.5);
  for (const auto& t : stack.layout().tensors())
    if (t.kind == ParamKind::input_weight) theta.segment(t.offset, t.size()).setZero();
  Matrix<double> x(I, T * B);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = init.uniform(-1, 1);
  const SequenceLayout seq(T, B);
  Matrix<double> h0(H, T * B), h1(H, T * B), h2(H, T * B);
  stack.set_dropout(DropoutMode::off);
  stack.forward(theta, x, seq, nullptr, h0, nullptr);
  REQUIRE(h0.cwiseAbs().minCoeff() > 0);

  Rng masks(9);
  stack.set_dropout(DropoutMode::random, &masks);
  stack.forward(theta, x, seq, nullptr, h1, nullptr);
  Rng replay(9);
  const std::uint64_t input_key = replay.next(), top_key = replay.next();
  (void)input_key;
  Matrix<double> expect = h0;
  apply_dropout_mask(expect.data(), expect.data(), 0, expect.size(), dropout_rule(0.25), top_key);
  CHECK(h1 == expect);
  const double kept =
      static_cast<double>((h1.array() != 0).count()) / static_cast<double>(h1.size());
  CHECK(std::abs(kept - 0.75) < 5 * std::sqrt(0.75 * 0.25 / static_cast<double>(h1.size())));

  // The next forward draws fresh masks; evaluation is unmasked again.
  stack.forward(theta, x, seq, nullptr, h2, nullptr);
  CHECK(h2 != h1);
  stack.set_dropout(DropoutMode::off);
  stack.forward(theta, x, seq, nullptr, h2, nullptr);
  CHECK(h2 == h0);
}

TEST_CASE("stack dropout: a strided output block gets the same masks and gradients",
          "[cells][stack][dropout]") {
  // h_out with an outer stride takes the column-by-column path of the mask.
  const auto& lstm = CellRegistry::instance().get("lstm");
  const Index I = 5, H = 6, T = 7, B = 3;
  const SequenceLayout seq(T, B);
  Vector<double> theta;
  Matrix<double> x(I, T * B), dh(H, T * B);
  Rng init(11);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = init.uniform(-1, 1);
  for (Index i = 0; i < dh.size(); ++i) dh.data()[i] = init.uniform(-1, 1);
  auto run = [&](bool strided, Matrix<double>& h, Vector<double>& grad, Matrix<double>& dx) {
    CellStack<double> stack(lstm, I, H, 2, 0.4);
    if (theta.size() == 0) {
      theta.resize(stack.parameter_count());
      for (Index i = 0; i < theta.size(); ++i) theta[i] = init.uniform(-0.5, 0.5);
    }
    Rng masks(3);
    stack.set_dropout(DropoutMode::random, &masks);
    Matrix<double> big = Matrix<double>::Zero(H + 2, T * B);
    if (strided) {
      stack.forward(theta, x, seq, nullptr, big.middleRows(1, H), nullptr);
      h = big.middleRows(1, H);
    } else {
      h.resize(H, T * B);
      stack.forward(theta, x, seq, nullptr, h, nullptr);
    }
    grad.setZero(theta.size());
    stack.backward(theta, x, seq, dh, grad, &dx);
  };
  Matrix<double> h_a, h_b, dx_a(I, T * B), dx_b(I, T * B);
  Vector<double> g_a, g_b;
  run(false, h_a, g_a, dx_a);
  run(true, h_b, g_b, dx_b);
  CHECK(h_a == h_b);
  CHECK(g_a == g_b);
  CHECK(dx_a == dx_b);
  CHECK((h_a.array() == 0).count() > 0);
  CHECK((dx_a.array() == 0).count() > 0);  // the input mask reaches dx
}
