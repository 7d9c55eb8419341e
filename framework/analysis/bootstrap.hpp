// Percentile bootstrap intervals of the comparison (docs/analysis.md, "Intervals").
//
// The unit of resampling is the trial: in a cellzoo sweep trial i has the same
// hyperparameters in every cell, so a resample draws T trial keys (task, trial) with
// replacement from the T keys of the report, and every cell takes its runs at the drawn
// keys, as often as each was drawn. One resample thus re-runs the whole random search,
// keeping the pairing of the cells. Inside it the top fraction of every cell is chosen
// again by validation score, and the statistics are recomputed; the interval is the
// 2.5 and 97.5 percentiles (numpy's linear interpolation) of the resampled values.
//
// The draws are reproducible anywhere: draw r (0-based) of resample b (0-based) is
// splitmix64 output number b * T + r + 1 from `seed` (x_n = seed + n * 0x9e3779b97f4a7c15,
// then the splitmix64 finalizer), modulo T. scripts/cellzoo_analysis draws the same.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "framework/util/random.hpp"

namespace cellzoo::analysis {

// The splitmix64 finalizer of x (Steele, Lea & Flood 2014): util/random.hpp's.
using cellzoo::splitmix64_mix;

// How often each of `trials` keys is drawn in resample `b` (counts.size() == trials).
void draw_trials(std::uint64_t seed, std::size_t b, std::size_t trials,
                 std::vector<std::uint32_t>& counts);

struct Interval {
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
};

// The 2.5 and 97.5 percentiles of `values` without their NaN entries (resamples in which
// the statistic is undefined, e.g. a cell drew none of its runs); NaN if none is left.
Interval percentile_interval(std::vector<double> values);

// One cell's group sample as the bootstrap needs it.
struct CellSample {
  std::vector<double> value;                 // per run: the metric (+-inf: failed, under worst)
  std::vector<std::uint32_t> trial;          // per run: index of its trial key, 0..T-1
  std::vector<std::uint32_t> by_validation;  // runs, best validation score first
  std::vector<std::uint32_t> by_value;       // runs, ascending value
};

struct BootstrapOptions {
  std::size_t resamples = 1000;
  std::uint64_t seed = 0;
  double top_fraction = 0.1;
  bool higher_is_better = false;
};

// Intervals of one group (all runs, or the top fraction) of one cell. The shift and the
// probability of improvement are against the baseline's same group (NaN for the baseline).
struct GroupIntervals {
  Interval mean, shift, p_improve;
};
struct CellIntervals {
  GroupIntervals all, top;
};

// Per cell, in the order of `cells`. `shift_hint[c]` holds cell c's estimates of the shift
// on the sample ({all, top}); they speed up the resamples' medians and change no result.
std::vector<CellIntervals> bootstrap_intervals(std::span<const CellSample> cells,
                                               std::size_t baseline, std::size_t trials,
                                               std::span<const std::array<double, 2>> shift_hint,
                                               const BootstrapOptions& options);

}  // namespace cellzoo::analysis
