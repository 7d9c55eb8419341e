// Tests of util/fast_math.hpp (the vectorisable log1p, log and sin/cos of the Bernoulli
// loss and of Box-Muller) and of Rng::fill_normal: the functions are within 1 ulp of the
// exact result (long double as the reference) on their whole documented domains, and
// fill_normal gives exactly what as many normal() calls give, in every spare state.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <vector>

#include "framework/util/fast_math.hpp"
#include "framework/util/random.hpp"

using namespace cellzoo;

namespace {

// |a - exact| in units of the last place of the double nearest to exact.
double ulp_error(double a, long double exact) {
  const double r = static_cast<double>(exact);
  const double ulp = std::nextafter(std::fabs(r), INFINITY) - std::fabs(r);
  return static_cast<double>(std::fabs(static_cast<long double>(a) - exact) /
                             static_cast<long double>(ulp));
}

}  // namespace

TEST_CASE("fastmath::log1p_unit is within 1 ulp on [0, 1]", "[fastmath]") {
  Rng rng(derive_seed(1, "fast_math"));
  double worst = 0;
  auto check = [&](double x) {
    worst = std::max(worst,
                     ulp_error(fastmath::log1p_unit(x), std::log1p(static_cast<long double>(x))));
  };
  // Uniform on [0, 1] and exp(-|z|) for |z| up to 40, the Bernoulli loss's arguments.
  for (int i = 0; i < 1000000; ++i) check(i % 2 ? rng.uniform() : std::exp(-40.0 * rng.uniform()));
  for (const double x : {0.0, 0x1p-60, 0x1p-30, 0.41421356237309503, 0.41421356237309515, 1.0})
    check(x);
  CHECK(fastmath::log1p_unit(0.0) == 0.0);
  INFO("worst error " << worst << " ulp");
  CHECK(worst < 1.0);
}

TEST_CASE("fastmath::log_normal is within 1 ulp on (0, 1] and beyond", "[fastmath]") {
  Rng rng(derive_seed(2, "fast_math"));
  double worst = 0;
  auto check = [&](double x) {
    worst =
        std::max(worst, ulp_error(fastmath::log_normal(x), std::log(static_cast<long double>(x))));
  };
  for (int i = 0; i < 1000000; ++i) {
    double x = rng.uniform();
    if (x <= 0) continue;
    if (i % 3 == 0) x = std::ldexp(x, static_cast<int>(rng.below(200)) - 100);
    check(x);
  }
  for (const double x : {0x1p-53, 0.5, 0.70710678118654746, 0.70710678118654757, 1.0, 1.5, 1e300})
    check(x);
  CHECK(fastmath::log_normal(1.0) == 0.0);
  INFO("worst error " << worst << " ulp");
  CHECK(worst < 1.0);
}

TEST_CASE("fastmath::sincos_2pi is within 1 ulp on [0, 2 pi]", "[fastmath]") {
  Rng rng(derive_seed(3, "fast_math"));
  double worst = 0;
  auto check = [&](double theta) {
    double s, c;
    fastmath::sincos_2pi(theta, &s, &c);
    const long double t = theta;
    worst = std::max({worst, ulp_error(s, std::sin(t)), ulp_error(c, std::cos(t))});
  };
  for (int i = 0; i < 1000000; ++i) check(2.0 * std::numbers::pi * rng.uniform());
  // Multiples of pi/4 and their neighbours: quadrant edges and the cancellation near
  // multiples of pi/2 (where a two-part reduction would lose digits of sin or cos).
  for (int k = 0; k <= 8; ++k) {
    const double theta = k * (std::numbers::pi / 4);
    for (const double t : {std::nextafter(theta, 0.0), theta, std::nextafter(theta, 10.0)})
      if (t >= 0 && t <= 2.0 * std::numbers::pi) check(t);
  }
  INFO("worst error " << worst << " ulp");
  CHECK(worst < 1.0);
}

TEST_CASE("Rng::fill_normal equals as many normal() calls, bit for bit", "[fastmath]") {
  for (const std::size_t first : {0u, 1u, 2u, 3u}) {  // draws before, to set the spare
    for (const std::size_t n : {0u, 1u, 2u, 7u, 8u, 88u, 1001u}) {
      Rng a(derive_seed(4, "fill_normal")), b(derive_seed(4, "fill_normal"));
      for (std::size_t i = 0; i < first; ++i) REQUIRE(a.normal() == b.normal());
      std::vector<double> filled(n + 1, -99.0);
      a.fill_normal(filled.data(), n);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(filled[i] == b.normal());
      CHECK(filled[n] == -99.0);                                      // nothing past n
      for (int i = 0; i < 5; ++i) REQUIRE(a.normal() == b.normal());  // same state after
    }
  }
}

TEST_CASE("Rng::normal draws N(0, 1)", "[fastmath]") {
  Rng rng(derive_seed(5, "normal"));
  std::vector<double> z(400000);
  rng.fill_normal(z.data(), z.size());
  double sum = 0, sq = 0, below = 0;
  for (const double v : z) {
    sum += v;
    sq += v * v;
    below += v < 1.0;
  }
  const double n = static_cast<double>(z.size());
  CHECK(std::fabs(sum / n) < 0.01);
  CHECK(std::fabs(sq / n - 1.0) < 0.01);
  CHECK(std::fabs(below / n - 0.8413447460685429) < 0.003);  // Phi(1)
}
