#include "framework/util/random.hpp"

#include <cmath>
#include <numbers>

#include "framework/util/fast_math.hpp"

namespace cellzoo {
namespace {

// The next output of the SplitMix64 stream whose state is x.
std::uint64_t splitmix64(std::uint64_t& x) {
  return splitmix64_mix(x += kSplitMix64Gamma);
}

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

std::uint64_t hash64(std::string_view text, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return splitmix64(h);
}

std::uint64_t derive_seed(std::uint64_t parent, std::string_view label) {
  return hash64(label, parent);
}

Rng::Rng(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double Rng::uniform(double lo, double hi) {
  return lo + (hi - lo) * uniform();
}

namespace {

// The pair (r cos theta, r sin theta) of Box-Muller from two uniforms, u1 in (0, 1).
inline void box_muller(double u1, double u2, double* first, double* second) {
  const double r = std::sqrt(-2.0 * fastmath::log_normal(u1));
  double s, c;
  fastmath::sincos_2pi(2.0 * std::numbers::pi * u2, &s, &c);
  *first = r * c;
  *second = r * s;
}

}  // namespace

double Rng::normal() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  double u1 = 0;
  while (u1 <= 0) u1 = uniform();
  const double u2 = uniform();
  double first;
  box_muller(u1, u2, &first, &spare_);
  have_spare_ = true;
  return first;
}

void Rng::fill_normal(double* out, std::size_t n) {
  if (n == 0) return;
  if (have_spare_) {
    have_spare_ = false;
    *out++ = spare_;
    --n;
  }
  // The uniforms in normal()'s order, then the arithmetic over all pairs in one loop.
  const std::size_t pairs = n / 2;
  for (std::size_t j = 0; j < pairs; ++j) {
    double u1 = 0;
    while (u1 <= 0) u1 = uniform();
    out[2 * j] = u1;
    out[2 * j + 1] = uniform();
  }
  for (std::size_t j = 0; j < pairs; ++j)
    box_muller(out[2 * j], out[2 * j + 1], &out[2 * j], &out[2 * j + 1]);
  if (n % 2) out[n - 1] = normal();  // leaves the spare for the next draw
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n <= 1) return 0;
  // Lemire's rejection keeps the draw unbiased.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) return r % n;
  }
}

std::int64_t Rng::between(std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
}

}  // namespace cellzoo
