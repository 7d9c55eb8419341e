"""The statistics of the comparison, computed as `cellzoo report` computes them
(framework/analysis/{stats,rank_stats,bootstrap,expected_max}.cpp; docs/analysis.md).

Tests come from scipy and statsmodels where they have them (Welch, Wilcoxon, Holm, the
power of the t-test); the rest is written out here with the same definitions as the C++
side: the Hodges-Lehmann shift and the probability of improvement on weighted samples,
the trial bootstrap with its splitmix64 draws, percentile intervals and Dodge et al.'s
expected best-of-k. Every function takes and returns plain numpy arrays and floats.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
from scipy import optimize, stats

MIN_WELCH_RUNS = 3  # no Welch p-value from fewer runs per group ("n<3")
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1


def quantile_sorted(sorted_values: np.ndarray, q: float) -> float:
    """numpy's default quantile (linear, Hyndman-Fan type 7) of ascending values, with
    numpy's interpolation from the nearer end; equal neighbours (also two equal
    infinities) give that value. NaN when empty."""
    n = len(sorted_values)
    if n == 0:
        return math.nan
    pos = q * (n - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    a, b = float(sorted_values[lo]), float(sorted_values[hi])
    if frac == 0 or a == b:
        return a
    return b - (b - a) * (1 - frac) if frac >= 0.5 else a + (b - a) * frac


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(t, df, two-sided p) of Welch's test of a against b: scipy's ttest_ind(equal_var=False)
    and its edge cases, and NaN from fewer than MIN_WELCH_RUNS values on a side."""
    if len(a) < MIN_WELCH_RUNS or len(b) < MIN_WELCH_RUNS:
        return math.nan, math.nan, math.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        r = stats.ttest_ind(a, b, equal_var=False)
        sa, sb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
        df = (sa + sb) ** 2 / (sa ** 2 / (len(a) - 1) + sb ** 2 / (len(b) - 1)) \
            if sa + sb > 0 else math.nan
    return float(r.statistic), float(df), float(r.pvalue)


def holm(p: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, as statsmodels' multipletests(method="holm") computes them
    (stable sort, p_(i) (m - i), running maximum, capped at 1; its gc.collect() makes it
    slow); NaN entries stay NaN and do not count."""
    out = [math.nan] * len(p)
    idx = [i for i, v in enumerate(p) if not math.isnan(v)]
    if idx:
        values = np.array([p[i] for i in idx], float)
        order = np.argsort(values, kind="mergesort")
        adjusted = np.maximum.accumulate(values[order] * np.arange(len(idx), 0, -1))
        adjusted = np.minimum(adjusted, 1.0)
        for position, v in zip(order, adjusted):
            out[idx[position]] = float(v)
    return out


def pooled_std(a: np.ndarray, b: np.ndarray) -> float:
    """The pooled standard deviation (the unit of Cohen's d in TTestIndPower)."""
    dof = len(a) + len(b) - 2
    if dof < 1:
        return math.nan
    ss = sum(float(np.var(v, ddof=1)) * (len(v) - 1) for v in (a, b) if len(v) > 1)
    return math.sqrt(ss / dof)


def t_isf(p: float, df: float) -> float:
    """The upper p-quantile of Student's t to full precision: scipy's t.isf (SciPy 1.10's
    cephes stdtrit is off by up to 2e-8 in the tail) refined by Newton steps on t.sf."""
    x = float(stats.t.isf(p, df))
    for _ in range(3):
        x += (float(stats.t.sf(x, df)) - p) / float(stats.t.pdf(x, df))
    return x


def ttest_ind_power(d: float, n1: float, n2: float, alpha: float) -> float:
    """statsmodels' TTestIndPower().power(d, n1, alpha, ratio=n2/n1): the two-sided pooled
    t-test's power from the noncentral t (scipy's, Boost underneath, as in C++), with the
    exact critical value t_isf instead of scipy's t.isf."""
    df = n1 + n2 - 2
    crit = t_isf(alpha / 2, df)
    nc = d * math.sqrt(1 / (1 / n1 + 1 / n2))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(stats.nct.sf(crit, df, nc)) + float(stats.nct.cdf(-crit, df, nc))


def minimal_detectable_effect(n1: int, n2: int, alpha: float, power: float = 0.8) -> float:
    """The standardized effect d at which ttest_ind_power reaches `power`, solved to full
    precision (statsmodels' solve_power stops at brentq's xtol of 1e-5)."""
    if n1 + n2 - 2 < 1 or not alpha < power < 1:
        return math.nan

    def gap(d: float) -> float:
        return ttest_ind_power(d, n1, n2, alpha) - power

    lo, hi = 0.0, 1.0
    while gap(hi) < 0 and hi < 1e6:
        lo, hi = hi, hi * 2
    return float(optimize.brentq(gap, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps,
                                 maxiter=500))


def finite_stand_ins(d: np.ndarray) -> np.ndarray:
    """d with +-inf (a failed run's difference under --diverged worst) replaced by +-(a value
    beyond every finite |d|): the same signs, ranks and ties, so the same signed-rank test,
    without scipy's NaN check (it sums the input, and inf + -inf is NaN)."""
    d = np.asarray(d, float)
    infinite = np.isinf(d)
    if not infinite.any():
        return d
    finite = np.abs(d[~infinite])
    beyond = 2 * float(finite.max()) + 1 if len(finite) else 1.0
    return np.where(infinite, np.sign(d) * beyond, d)


def wilcoxon(differences: np.ndarray) -> tuple[float, float, str]:
    """(statistic, two-sided p, note) of scipy.stats.wilcoxon(differences) with its
    defaults. No pairs, or every difference zero (scipy raises): NaN and the reason."""
    d = finite_stand_ins(differences)
    if len(d) == 0:
        return math.nan, math.nan, "no pairs"
    if np.all(d == 0):
        return math.nan, math.nan, "all tied"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = stats.wilcoxon(d)
    return float(r.statistic), float(r.pvalue), ""


def run_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x - y elementwise (broadcasting), 0 where x == y (two failed runs tie)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.equal(x, y), 0.0, np.subtract(x, y))


def probability_of_improvement(x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray,
                               higher_is_better: bool) -> float:
    """P(X beats Y) + P(X = Y) / 2 for X from the weighted sample x and Y from y (any order)."""
    keep_x, keep_y = wx > 0, wy > 0
    x, wx, y, wy = x[keep_x], wx[keep_x], y[keep_y], wy[keep_y]
    if len(x) == 0 or len(y) == 0:
        return math.nan
    order = np.argsort(y, kind="stable")
    ys, cum = y[order], np.concatenate([[0.0], np.cumsum(wy[order])])
    total_y = cum[-1]
    below = cum[np.searchsorted(ys, x, side="left")]    # weight of y < x
    upto = cum[np.searchsorted(ys, x, side="right")]    # weight of y <= x
    better = (total_y - upto) if not higher_is_better else below
    # Integer sums below 2**53: exact in any order, like the C++ loop.
    return (float(np.dot(wx, better)) + float(np.dot(wx, upto - below)) / 2) / (
        float(wx.sum()) * total_y)


def _median_ranks(total: float) -> tuple[float, float]:
    return math.floor((total + 1) / 2), math.floor(total / 2) + 1


def _median_of(a: float, b: float) -> float:
    return a if a == b else (a + b) / 2


class PairDifferences:
    """The weighted median of all differences x_i - y_j of two fixed samples for many
    weightings (bootstrap resamples: one per row of the weight matrices), for samples up to
    about 2000 x 2000 runs. The differences are sorted once and cut into about 256 cells of
    equal size at thresholds t_g; for each threshold every row's count of differences <= t_g
    is a suffix of the ascending y, stored as its first column. A resample's weighted count
    at a threshold is then one weighted sum over the rows, a bisection over the thresholds
    finds the cell of the median, and a cumulative sum within the cell the median itself."""

    LIMIT = 1 << 22

    def __init__(self, x: np.ndarray, y: np.ndarray, cells: int = 256):
        x, y = np.asarray(x, float), np.asarray(y, float)
        self.y_order = np.argsort(y, kind="stable")
        d = run_difference(x[:, None], y[self.y_order][None, :])  # rows fall along j
        order = np.argsort(d.ravel(), kind="stable")
        self.sorted = d.ravel()[order]
        self.rows, self.cols = np.divmod(order, len(y))  # cols index the ascending y
        count = len(self.sorted)
        if count == 0:
            self.thresholds = np.zeros(0)
            return
        ranks = np.linspace(0, count - 1, min(cells, count) + 1)[1:].astype(np.int64)
        self.thresholds = np.unique(self.sorted[ranks])  # the last is the largest difference
        self.first = np.stack([(d > t).sum(axis=1) for t in self.thresholds])  # g x rows
        self.ends = np.searchsorted(self.sorted, self.thresholds, side="right")

    def median(self, wx: np.ndarray, wy: np.ndarray) -> float:
        return float(self.medians(np.asarray(wx, float)[None, :],
                                  np.asarray(wy, float)[None, :])[0])

    def medians(self, wx: np.ndarray, wy: np.ndarray) -> np.ndarray:
        """The weighted medians for rows of weights (one resample per row; zeros allowed)."""
        wx, wy = np.asarray(wx, float), np.asarray(wy, float)[:, self.y_order]
        resamples = len(wx)
        out = np.full(resamples, math.nan)
        total = wx.sum(axis=1) * wy.sum(axis=1)
        if len(self.thresholds) == 0:
            return out
        suffix = np.concatenate([np.cumsum(wy[:, ::-1], axis=1)[:, ::-1],
                                 np.zeros((resamples, 1))], axis=1)

        def counts(g: np.ndarray) -> np.ndarray:  # C(t_g) per resample, g per resample
            return (wx * np.take_along_axis(suffix, self.first[g], axis=1)).sum(axis=1)

        def cell_of(rank: np.ndarray) -> np.ndarray:  # the first g with C(t_g) >= rank
            lo = np.zeros(resamples, np.int64)
            hi = np.full(resamples, len(self.thresholds) - 1)
            while np.any(lo < hi):
                mid = (lo + hi) // 2
                at_least = counts(mid) >= rank
                hi = np.where(at_least, mid, hi)
                lo = np.where(at_least, lo, mid + 1)
            return lo

        ka, kb = np.floor((total + 1) / 2), np.floor(total / 2) + 1
        cells = cell_of(ka)
        cells_b = np.where(counts(cells) >= kb, cells, cell_of(kb))
        before = np.where(cells > 0, counts(np.maximum(cells - 1, 0)), 0.0)
        for b in np.flatnonzero(total > 0):
            g, gb = cells[b], cells_b[b]
            start = self.ends[g - 1] if g > 0 else 0
            stop = self.ends[gb]
            w = wx[b, self.rows[start:stop]] * wy[b, self.cols[start:stop]]
            cum = before[b] + np.cumsum(w)
            ia, ib = np.searchsorted(cum, [ka[b], kb[b]], side="left")
            out[b] = _median_of(float(self.sorted[start + ia]), float(self.sorted[start + ib]))
        return out


def _first_at_most(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    """Per x_i, the first j of ascending y with run_difference(x_i, y_j) <= t (exact:
    bisection on the same predicate the C++ two-pointer pass uses)."""
    lo = np.zeros(len(x), np.int64)
    hi = np.full(len(x), len(y), np.int64)
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        active = lo < hi
        ok = np.zeros(len(x), bool)
        ok[active] = run_difference(x[active], y[mid[active]]) <= t
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)
    return lo


def hodges_lehmann(x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray,
                   hint: float = 0.0, scale: float = 1.0) -> float:
    """The weighted median of all run differences x_i - y_j (pair weight wx_i * wy_j),
    numpy's median convention; exact for any sample size (the C++ algorithm: a bracket
    narrowed by interpolation and bisection on weighted counts, then the differences left
    in it sorted). NaN when a side is empty."""
    keep_x, keep_y = np.asarray(wx) > 0, np.asarray(wy) > 0
    x, wx = np.asarray(x, float)[keep_x], np.asarray(wx, float)[keep_x]
    y, wy = np.asarray(y, float)[keep_y], np.asarray(wy, float)[keep_y]
    if len(x) == 0 or len(y) == 0:
        return math.nan
    ox, oy = np.argsort(x, kind="stable"), np.argsort(y, kind="stable")
    x, wx, y, wy = x[ox], wx[ox], y[oy], wy[oy]
    if len(x) * len(y) <= 4096:
        return PairDifferences(x, y).median(wx, wy)
    suffix = np.concatenate([np.cumsum(wy[::-1])[::-1], [0.0]])
    n = len(y)

    def count(t):
        first = _first_at_most(x, y, t)
        weighted = float(np.dot(wx, suffix[first]))
        plain = int(np.sum(n - first))
        has_below, has_above = first < n, first > 0
        below = float(np.max(run_difference(x[has_below], y[first[has_below]]))) \
            if has_below.any() else -math.inf
        above = float(np.min(run_difference(x[has_above], y[first[has_above] - 1]))) \
            if has_above.any() else math.inf
        return weighted, plain, below, above, first

    ka, kb = _median_ranks(float(wx.sum()) * float(wy.sum()))
    lo = count(-math.inf)
    if lo[0] >= kb:
        return -math.inf
    if lo[0] >= ka:
        return _median_of(-math.inf, lo[3])
    hi = count(math.inf)
    t_lo, t_hi = -math.inf, hi[2]
    enumerate_at = 512
    scale = scale if scale > 0 and math.isfinite(scale) else 1.0
    hint_used = not math.isfinite(hint)
    step, f_lo_scale, f_hi_scale, last_side, stale = scale, 1.0, 1.0, 0, 0
    last_plain = hi[1] - lo[1]
    target = ka - 0.5
    while True:
        if lo[3] == t_hi:
            return t_hi
        if hi[1] - lo[1] <= enumerate_at:
            widths = lo[4] - hi[4]  # per row, the columns in the bracket
            rows = np.repeat(np.arange(len(x)), widths)
            offsets = np.arange(len(rows)) - np.repeat(np.cumsum(widths) - widths, widths)
            cols = np.repeat(hi[4], widths) + offsets
            d = run_difference(x[rows], y[cols])
            w = wx[rows] * wy[cols]
            order = np.argsort(d, kind="stable")
            cum = lo[0] + np.cumsum(w[order])
            ia, ib = np.searchsorted(cum, [ka, kb], side="left")
            return _median_of(float(d[order][ia]), float(d[order][ib]))
        bounded = math.isfinite(t_lo) and math.isfinite(t_hi)
        if not hint_used and t_lo < hint < t_hi:
            t, hint_used = hint, True
        elif not bounded:
            t = t_lo + step if math.isfinite(t_lo) else t_hi - step if math.isfinite(t_hi) else 0.0
            step *= 4
        else:
            f_lo = (lo[0] - target) * f_lo_scale
            f_hi = (hi[0] - target) * f_hi_scale
            t = t_lo + (t_hi - t_lo) * (f_lo / (f_lo - f_hi))
            if stale >= 2:
                t = t_lo + (t_hi - t_lo) / 2
                stale = 0
        if not t_lo < t < t_hi:
            t = _key_midpoint(t_lo, t_hi)
            if not t_lo < t < t_hi:
                return t_hi
        probe = count(t)
        if ka <= probe[0] < kb:
            return _median_of(probe[2], probe[3])
        if probe[0] >= kb:
            t_hi, hi = probe[2], probe
            f_lo_scale = f_lo_scale / 2 if last_side == 1 else 1.0
            f_hi_scale, last_side = 1.0, 1
        else:
            t_lo, lo = t, probe
            f_hi_scale = f_hi_scale / 2 if last_side == -1 else 1.0
            f_lo_scale, last_side = 1.0, -1
        plain = hi[1] - lo[1]
        stale = stale + 1 if plain * 2 > last_plain else 0
        if not stale:
            last_plain = plain


def _order_key(v: float) -> int:
    bits = int(np.array(v, np.float64).view(np.int64))
    return -(bits & ((1 << 63) - 1)) if bits < 0 else bits


def _from_order_key(key: int) -> float:
    bits = key if key >= 0 else (-key) | (1 << 63)
    return float(np.array(bits & _MASK64, np.uint64).view(np.float64))


def _key_midpoint(a: float, b: float) -> float:
    ka, kb = _order_key(a), _order_key(b)
    return _from_order_key(ka + (kb - ka) // 2)


def splitmix64_mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer on uint64 arrays (wrapping arithmetic)."""
    x = np.asarray(x, np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def draw_trials(seed: int, b: int, trials: int) -> np.ndarray:
    """How often each of `trials` keys is drawn in bootstrap resample b: draw r is
    splitmix64 output b * trials + r + 1 from `seed`, modulo trials (as the C++ side)."""
    n = np.arange(b * trials + 1, (b + 1) * trials + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = splitmix64_mix(np.uint64(seed & _MASK64) + n * GOLDEN)
    return np.bincount((z % np.uint64(trials)).astype(np.int64), minlength=trials)


def draw_trials_block(seed: int, first: int, count: int, trials: int) -> np.ndarray:
    """draw_trials for resamples first..first+count-1, one row each."""
    n = np.arange(first * trials + 1, (first + count) * trials + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = splitmix64_mix(np.uint64(seed & _MASK64) + n * GOLDEN)
    idx = (z % np.uint64(trials)).astype(np.int64).reshape(count, trials)
    idx += np.arange(count)[:, None] * trials
    return np.bincount(idx.ravel(), minlength=count * trials).reshape(count, trials)


def probability_of_improvement_rows(x: np.ndarray, wx: np.ndarray, y: np.ndarray,
                                    wy: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """probability_of_improvement for rows of weights (one resample per row)."""
    order = np.argsort(y, kind="stable")
    ys = y[order]
    cum = np.concatenate([np.zeros((len(wy), 1)), np.cumsum(wy[:, order], axis=1)], axis=1)
    total_y = cum[:, -1]
    below = cum[:, np.searchsorted(ys, x, side="left")]
    upto = cum[:, np.searchsorted(ys, x, side="right")]
    better = below if higher_is_better else total_y[:, None] - upto
    total = wx.sum(axis=1) * total_y
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ((wx * better).sum(axis=1) + (wx * (upto - below)).sum(axis=1) / 2) / total
    return np.where(total > 0, out, math.nan)


def percentile_interval(values: np.ndarray) -> tuple[float, float]:
    """The 2.5 and 97.5 percentiles of the non-NaN values (NaN, NaN when none)."""
    v = np.sort(np.asarray(values, float)[~np.isnan(values)])
    if len(v) == 0:
        return math.nan, math.nan
    return quantile_sorted(v, 0.025), quantile_sorted(v, 0.975)


def top_count(n: float, fraction: float) -> int:
    """ceil(fraction * n), at least 1 when n > 0 (the tolerance keeps 0.1 * 200 at 20)."""
    if n == 0:
        return 0
    return int(min(n, max(1, math.ceil(fraction * n - 1e-9))))


def expected_best_of_k(scores_best_first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dodge et al.'s expected best-of-k for k = 1..n: the mean and standard deviation of
    the score of the best-by-validation run among k draws (with replacement) from runs
    given in validation order, best first."""
    s = np.asarray(scores_best_first, float)[::-1]  # rank 1 (worst) .. n (best)
    n = len(s)
    means, stds = np.empty(n), np.empty(n)
    ratio = np.arange(n + 1) / n if n else np.zeros(1)
    for k in range(1, n + 1):
        # Ranks whose cumulative weight (i/n)^k is below 1e-20 are left out, as in C++:
        # i/n < 1e-20^(1/k); for large k only the best runs are left, which keeps k = 1..n
        # at about 40 n log n powers.
        start = max(1, int(n * math.exp(math.log(1e-20) / k)) - 1)
        power = ratio[start - 1:] ** k
        first = start - 1 + max(1, int(np.searchsorted(power, 1e-20, side="left")))
        first = min(first, n)
        power = power[first - start:]  # (first - 1)/n .. n/n
        w = np.diff(power)
        if first > 1:
            w[0] = power[1]
        part = s[first - 1:]
        mean = float(np.dot(w, part))
        means[k - 1] = mean
        stds[k - 1] = math.sqrt(max(0.0, float(np.dot(w, (part - mean) ** 2))))
    return means, stds
