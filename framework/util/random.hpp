// Deterministic random numbers. The standard library's distributions are
// implementation-defined, so cellzoo draws from its own: xoshiro256** seeded through
// splitmix64, uniform doubles from the top 53 bits, normals by Box-Muller (with the log,
// sin and cos of util/fast_math.hpp, so that fill_normal can vectorise them). Same seed,
// same numbers, on every compiler and platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cellzoo {

// SplitMix64 (Steele, Lea & Flood 2014). Output number n (from 1) of the stream seeded with
// `seed` is splitmix64_mix(seed + n * kSplitMix64Gamma): counter-based, so any output is
// computed from (seed, n) alone and loops over outputs vectorise (dropout masks, bootstrap
// draws). Inline for that reason.
inline constexpr std::uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ULL;
inline std::uint64_t splitmix64_mix(std::uint64_t x) {  // the finaliser
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
inline std::uint64_t splitmix64_at(std::uint64_t seed, std::uint64_t n) {
  return splitmix64_mix(seed + n * kSplitMix64Gamma);
}

// A 64-bit hash of a string (FNV-1a followed by a splitmix64 finaliser).
std::uint64_t hash64(std::string_view text, std::uint64_t seed = 0);

// Derives an independent seed from a parent seed and a label, e.g.
// derive_seed(run_seed, "init") and derive_seed(run_seed, "data-order").
std::uint64_t derive_seed(std::uint64_t parent, std::string_view label);

class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();                                    // 64 random bits
  double uniform();                                        // [0, 1)
  double uniform(double lo, double hi);                    // [lo, hi)
  double normal();                                         // N(0, 1)
  std::uint64_t below(std::uint64_t n);                    // uniform integer in [0, n), unbiased
  std::int64_t between(std::int64_t lo, std::int64_t hi);  // uniform integer in [lo, hi]
  bool bernoulli(double p) { return uniform() < p; }
  // n draws of N(0, 1): the same values as n calls of normal(), bit for bit, and the same
  // state afterwards, with the Box-Muller arithmetic vectorised over the pairs.
  void fill_normal(double* out, std::size_t n);
  template <typename It>
  void shuffle(It first, It last) {  // Fisher-Yates, deterministic
    for (auto n = last - first; n > 1; --n) {
      auto j = static_cast<decltype(n)>(below(static_cast<std::uint64_t>(n)));
      std::swap(first[n - 1], first[j]);
    }
  }

 private:
  std::uint64_t s_[4];
  bool have_spare_ = false;
  double spare_ = 0;
};

}  // namespace cellzoo
