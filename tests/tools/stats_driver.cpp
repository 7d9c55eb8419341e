// stats_driver: the report's statistics on numbers given on stdin, one case a line, for
// tests/python/test_stats_scipy.py, which checks them against scipy, statsmodels and brute
// force on many random cases. Each line is a command and its numbers; the answer is one
// line of numbers (%.17g; nan for NaN):
//
//   wilcoxon N d_1..d_N                  -> statistic p exact(0/1)
//   welch NA a.. NB b..                  -> t df p
//   t_cdf T DF                           -> P(T <= t)
//   mde N1 N2 ALPHA POWER                -> d
//   power D N1 N2 ALPHA                  -> power
//   hl M x.. wx.. N y.. wy..             -> Hodges-Lehmann median of x_i - y_j (weights
//                                           w_i v_j; values in any order)
//   improve HIB M x.. wx.. N y.. wy..    -> P(x beats y) + ties / 2
//   expected_max N s_1..s_N              -> mean_1..mean_N std_1..std_N
//   draws SEED B TRIALS                  -> the counts of resample B
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "framework/analysis/bootstrap.hpp"
#include "framework/analysis/expected_max.hpp"
#include "framework/analysis/rank_stats.hpp"
#include "framework/analysis/stats.hpp"

using namespace cellzoo::analysis;

namespace {

std::vector<double> read_list(std::istream& in) {
  std::size_t n = 0;
  in >> n;
  std::vector<double> v(n);
  for (auto& x : v) {
    std::string text;  // "inf", "-inf" and "nan" are not read by operator>>
    in >> text;
    x = std::stod(text);
  }
  return v;
}

// Values in any order and their weights; zero weights are left out and the rest sorted,
// as the bootstrap hands samples over.
WeightedSample read_sample(std::istream& in) {
  const auto values = read_list(in);
  std::vector<std::pair<double, double>> pairs;
  for (double v : values) {
    double w = 0;
    in >> w;
    if (w > 0) pairs.emplace_back(v, w);
  }
  std::sort(pairs.begin(), pairs.end());
  WeightedSample s;
  for (const auto& [v, w] : pairs) {
    s.values.push_back(v);
    s.weights.push_back(w);
  }
  return s;
}

void print(const std::vector<double>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) std::printf(i ? " %.17g" : "%.17g", values[i]);
  std::printf("\n");
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "wilcoxon") {
      const auto r = wilcoxon_signed_rank(read_list(in));
      print({r.statistic, r.p, r.exact ? 1.0 : 0.0});
    } else if (command == "welch") {
      const auto a = read_list(in), b = read_list(in);
      const auto r = welch_t_test(a, b);
      print({r.t, r.df, r.p});
    } else if (command == "t_cdf") {
      double t = 0, df = 0;
      in >> t >> df;
      print({student_t_cdf(t, df), student_t_two_sided_p(t, df)});
    } else if (command == "mde") {
      double n1 = 0, n2 = 0, alpha = 0, power = 0;
      in >> n1 >> n2 >> alpha >> power;
      print({minimal_detectable_effect(n1, n2, alpha, power)});
    } else if (command == "power") {
      double d = 0, n1 = 0, n2 = 0, alpha = 0;
      in >> d >> n1 >> n2 >> alpha;
      print({ttest_ind_power(d, n1, n2, alpha)});
    } else if (command == "hl" || command == "improve") {
      int hib = 0;
      if (command == "improve") in >> hib;
      const auto x = read_sample(in), y = read_sample(in);
      print({command == "hl" ? hodges_lehmann(x, y) : probability_of_improvement(x, y, hib != 0)});
    } else if (command == "expected_max") {
      auto r = expected_best_of_k(read_list(in));
      r.mean.insert(r.mean.end(), r.std.begin(), r.std.end());
      print(r.mean);
    } else if (command == "draws") {
      std::uint64_t seed = 0;
      std::size_t b = 0, trials = 0;
      in >> seed >> b >> trials;
      std::vector<std::uint32_t> counts;
      draw_trials(seed, b, trials, counts);
      print(std::vector<double>(counts.begin(), counts.end()));
    } else if (!command.empty()) {
      std::fprintf(stderr, "stats_driver: unknown command '%s'\n", command.c_str());
      return 2;
    }
    std::fflush(stdout);
  }
  return 0;
}
