// Tests of framework/analysis/rank_stats, bootstrap and expected_max: the Wilcoxon
// signed-rank test against scipy.stats.wilcoxon, the Hodges-Lehmann median and the
// probability of improvement against brute force (ties, infinities, large samples), the
// bootstrap's draws and percentiles, and the expected best-of-k against enumeration.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "framework/analysis/bootstrap.hpp"
#include "framework/analysis/expected_max.hpp"
#include "framework/analysis/rank_stats.hpp"

using namespace cellzoo::analysis;

namespace {

// The median of every x_i - y_j with multiplicity w_i v_j, by enumeration (numpy's median).
double brute_median(const WeightedSample& x, const WeightedSample& y) {
  std::vector<double> d;
  for (std::size_t i = 0; i < x.values.size(); ++i)
    for (std::size_t j = 0; j < y.values.size(); ++j)
      for (int k = 0; k < static_cast<int>(x.weights[i] * y.weights[j]); ++k)
        d.push_back(run_difference(x.values[i], y.values[j]));
  if (d.empty()) return NAN;
  std::sort(d.begin(), d.end());
  const std::size_t n = d.size();
  const double a = d[(n - 1) / 2], b = d[n / 2];
  return a == b ? a : (a + b) / 2;
}

WeightedSample random_sample(std::mt19937_64& rng, std::size_t n, int kind) {
  std::normal_distribution<double> normal(0, 1);
  std::uniform_int_distribution<int> small(0, 5), weight(1, 3);
  WeightedSample s;
  for (std::size_t i = 0; i < n; ++i) {
    double v = kind == 1 ? small(rng) / 4.0 : normal(rng);
    if (kind == 2 && small(rng) == 0) v = INFINITY;  // failed runs under --diverged worst
    s.values.push_back(v);
    s.weights.push_back(weight(rng));
  }
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return s.values[a] < s.values[b]; });
  WeightedSample sorted;
  for (auto i : order) {
    sorted.values.push_back(s.values[i]);
    sorted.weights.push_back(s.weights[i]);
  }
  return sorted;
}

}  // namespace

TEST_CASE("Wilcoxon signed-rank matches scipy.stats.wilcoxon's defaults", "[analysis][rank]") {
  // scipy 1.10.1, scipy.stats.wilcoxon(d): (statistic, pvalue).
  struct Case {
    std::vector<double> d;
    double statistic, p;
    bool exact;
  };
  std::vector<double> long_run(20);
  for (int i = 0; i < 20; ++i) long_run[static_cast<std::size_t>(i)] = i + 1;
  long_run.insert(long_run.end(), 5, -0.5);
  // (i + noise) - i as test_compare's lstm-nfg and lstm runs give them (not exactly the
  // noise: 1.3 - 1 = 0.30000000000000004, which changes the ties).
  const double noise[] = {0.3, -0.2, 0.1, -0.4, 0.2, 0.0, -0.1, 0.4, -0.3, 0.2};
  std::vector<double> nfg_minus_lstm;
  for (int i = 1; i <= 10; ++i) nfg_minus_lstm.push_back((i + noise[i - 1]) - i);
  const std::vector<Case> cases = {
      // All negative: exact, p = 2 / 2^10.
      {{-0.9, -1.8, -2.7, -3.6, -4.5, -5.4, -6.3, -7.2, -8.1, -9.0}, 0, 0.001953125, true},
      {{1.5, -0.5, 2.5, 3.0, -1.0, 4.0, 0.5}, 4.5, 0.15625, true},
      // Ties without zeros stay exact (average ranks; R+ truncated to an integer).
      {{1, 1, -1, 2, 2, -2, 3, 3, 3, -3, 4}, 15.5, 0.1474609375, true},
      {long_run, 15, 8.165836334228516e-06, true},
      // A zero difference switches to the normal approximation (zeros dropped).
      {{1, 2, 0, -1, 3, 0, 4, 5, -2, 6, 7, 8}, 5, 0.02165321327013386, false},
      {nfg_minus_lstm, 20, 0.7670968684102772, false},
  };
  for (const auto& c : cases) {
    const auto r = wilcoxon_signed_rank(c.d);
    INFO("n=" << c.d.size());
    CHECK(r.statistic == c.statistic);
    CHECK(r.exact == c.exact);
    if (c.exact)
      CHECK(r.p == c.p);  // dyadic sums: bit-identical
    else
      CHECK(r.p == Approx(c.p).epsilon(1e-12));
  }
  // More than 50 pairs: the normal approximation with the tie correction.
  const std::vector<double> sixty{
      2.3,  -2.3, 0.7, -0.3, -0.2, 0.1, -1.7, 0.1, -0.6, 3.6,  0.5,  -0.1, 0.0,  -0.4, -0.8,
      -0.1, 0.8,  0.1, 1.3,  0.1,  0.3, 1.8,  0.8, -0.2, 0.1,  0.8,  2.2,  0.0,  0.1,  1.3,
      -0.6, 0.0,  1.2, 0.9,  0.4,  1.0, -2.5, 1.3, -0.7, -1.4, 0.6,  1.0,  -0.1, -0.8, 0.3,
      0.2,  1.7,  1.0, 0.5,  1.4,  0.1, -0.6, 0.9, 0.9,  0.1,  -0.5, 0.5,  -2.2, 1.0,  0.8};
  const auto big = wilcoxon_signed_rank(sixty);
  CHECK(big.statistic == 530);
  CHECK(big.p == Approx(0.01834338557904841).epsilon(1e-12));
  // No test: no pairs, or every difference zero (scipy raises).
  CHECK(wilcoxon_signed_rank(std::vector<double>{}).note == "no pairs");
  const auto tied = wilcoxon_signed_rank(std::vector<double>{0, 0, 0});
  CHECK(tied.note == "all tied");
  CHECK(std::isnan(tied.p));
  // Failed runs (+-inf) rank highest; two failed runs tie at 0.
  const auto inf = wilcoxon_signed_rank(std::vector<double>{INFINITY, INFINITY, 1, 2, -0.5});
  CHECK(inf.statistic == 1);
  CHECK(inf.p == 0.125);
}

TEST_CASE("Hodges-Lehmann median and P(improvement) equal brute force", "[analysis][rank]") {
  std::mt19937_64 rng(7);
  for (const std::size_t size : {1u, 2u, 5u, 40u, 300u})
    for (int kind = 0; kind < 3; ++kind)
      for (int rep = 0; rep < 3; ++rep) {
        const auto x = random_sample(rng, size, kind);
        auto y = random_sample(rng, size + static_cast<std::size_t>(rep), kind);
        for (auto& v : y.values) v += 0.25;
        INFO("size " << size << " kind " << kind << " rep " << rep);
        CHECK(hodges_lehmann(x, y) == brute_median(x, y));
        double wins_lo = 0, wins_hi = 0, ties = 0, total = 0;
        for (std::size_t i = 0; i < x.values.size(); ++i)
          for (std::size_t j = 0; j < y.values.size(); ++j) {
            const double w = x.weights[i] * y.weights[j];
            total += w;
            wins_lo += x.values[i] < y.values[j] ? w : 0;
            wins_hi += x.values[i] > y.values[j] ? w : 0;
            ties += x.values[i] == y.values[j] ? w : 0;
          }
        CHECK(probability_of_improvement(x, y, false) == (wins_lo + ties / 2) / total);
        CHECK(probability_of_improvement(x, y, true) == (wins_hi + ties / 2) / total);
      }
  // The search gets any hint and scale: they change the speed, not the answer.
  const auto x = random_sample(rng, 400, 0), y = random_sample(rng, 380, 1);
  const double exact = brute_median(x, y);
  for (const double hint : {0.0, -50.0, 1e6, std::nan("")})
    for (const double scale : {1e-9, 1.0, 1e9}) CHECK(hodges_lehmann(x, y, hint, scale) == exact);
  // Every cell run failed: the shift is +inf (cell - baseline, lower is better).
  WeightedSample failed{{INFINITY, INFINITY}, {1, 1}}, fine{{1, 2}, {1, 1}};
  CHECK(hodges_lehmann(failed, fine) == INFINITY);
  CHECK(hodges_lehmann(failed, failed) == 0);
  CHECK(std::isnan(hodges_lehmann(WeightedSample{}, fine)));
  CHECK(probability_of_improvement(failed, fine, false) == 0);
}

TEST_CASE("medians over a DifferenceGrid equal brute force", "[analysis][rank]") {
  std::mt19937_64 rng(11);
  for (int kind = 0; kind < 3; ++kind) {
    const auto xs = random_sample(rng, 250, kind), ys = random_sample(rng, 220, kind);
    DifferenceGrid grid(xs.values, ys.values);
    const double centre = hodges_lehmann(xs, ys);
    for (const double width : {0.0, 1e-3, 0.05, 0.5, 50.0}) {
      std::vector<double> thresholds;  // width 0: no grid; narrow ones miss most medians
      if (width > 0)
        for (int g = 0; g < 40; ++g) thresholds.push_back(centre - width + width * g / 20.0);
      grid.set_thresholds(thresholds);
      for (int rep = 0; rep < 3; ++rep) {
        // Resample-like weights over the full samples: zeros included.
        std::poisson_distribution<int> draws(1.0);
        std::vector<double> wx, wy;
        for (std::size_t i = 0; i < xs.values.size(); ++i) wx.push_back(draws(rng));
        for (std::size_t j = 0; j < ys.values.size(); ++j) wy.push_back(draws(rng));
        WeightedSample x, y;
        for (std::size_t i = 0; i < wx.size(); ++i)
          if (wx[i] > 0) x.values.push_back(xs.values[i]), x.weights.push_back(wx[i]);
        for (std::size_t j = 0; j < wy.size(); ++j)
          if (wy[j] > 0) y.values.push_back(ys.values[j]), y.weights.push_back(wy[j]);
        ColumnWeights columns;
        columns.prepare(wy);
        INFO("kind " << kind << " width " << width << " rep " << rep);
        CHECK(hodges_lehmann(grid, wx, wy, columns, centre, 0.1) == brute_median(x, y));
        for (const bool hib : {false, true})
          CHECK(probability_of_improvement(grid, wx, columns, hib) ==
                probability_of_improvement(x, y, hib));
      }
    }
  }
}

TEST_CASE("bootstrap draws are splitmix64 and percentiles are numpy's", "[analysis][bootstrap]") {
  // The reference splitmix64's first output for seed 0.
  CHECK(splitmix64_mix(0x9e3779b97f4a7c15ULL) == 0xe220a8397b1dcdafULL);
  std::vector<std::uint32_t> a, b;
  draw_trials(0, 3, 50, a);
  draw_trials(0, 3, 50, b);
  CHECK(a == b);
  std::uint32_t total = 0;
  for (auto c : a) total += c;
  CHECK(total == 50);
  draw_trials(0, 4, 50, b);
  CHECK(a != b);
  // numpy.percentile(range(1, 101), [2.5, 97.5]) = 3.475, 97.525; NaN entries left out.
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  v.push_back(NAN);
  const auto ci = percentile_interval(v);
  CHECK(ci.low == Approx(3.475).epsilon(1e-14));
  CHECK(ci.high == Approx(97.525).epsilon(1e-14));
  CHECK(std::isnan(percentile_interval({NAN}).low));
}

TEST_CASE("expected best-of-k equals enumeration of all draws", "[analysis][expected_max]") {
  const std::vector<double> scores{3, 1, 4, 1.5, 9};  // validation order, best first
  const auto em = expected_best_of_k(scores);
  REQUIRE(em.mean.size() == 5);
  // k = 1: the plain mean and population std.
  CHECK(em.mean[0] == Approx(3.7).epsilon(1e-14));
  const std::size_t n = scores.size();
  for (std::size_t k = 2; k <= 3; ++k) {
    double sum = 0, sum2 = 0, count = 0;
    std::vector<std::size_t> idx(k, 0);
    for (;;) {  // every k-tuple of draws; the best by validation is the lowest index
      const double s = scores[*std::min_element(idx.begin(), idx.end())];
      sum += s;
      sum2 += s * s;
      ++count;
      std::size_t pos = 0;
      while (pos < k && ++idx[pos] == n) idx[pos++] = 0;
      if (pos == k) break;
    }
    const double mean = sum / count;
    CHECK(em.mean[k - 1] == Approx(mean).epsilon(1e-13));
    CHECK(em.std[k - 1] == Approx(std::sqrt(sum2 / count - mean * mean)).epsilon(1e-12));
  }
  CHECK(expected_best_of_k(std::vector<double>{}).mean.empty());
}
