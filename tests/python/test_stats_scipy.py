"""The report's statistics (framework/analysis, run through tests/tools/stats_driver) against
scipy, statsmodels and brute force on many random cases, and cellzoo_analysis.stats against
the same: the Wilcoxon signed-rank test exactly as scipy.stats.wilcoxon's defaults (ties,
zeros, infinite differences, exact and normal branches), Welch and the t distribution,
statsmodels' TTestIndPower (power and the minimal detectable effect), the Hodges-Lehmann
median and the probability of improvement on weighted samples (small and large, ties,
infinities), Dodge et al.'s expected best-of-k and the bootstrap draws."""
import itertools
import math
import os
import subprocess
import sys
import warnings

try:
    import numpy as np
    from scipy import stats as sp
    from statsmodels.stats.power import TTestIndPower
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import numpy/scipy/statsmodels ({e})", file=sys.stderr)
    sys.exit(77)

from cellzoo_analysis import stats  # noqa: E402
from skipping import run_tests, skip  # noqa: E402

RNG_SEED = 20240611


def driver_path():
    build = os.environ.get("CELLZOO_BUILD_DIR", "")
    path = os.path.join(build, "tests", "stats_driver")
    if not build or not os.path.exists(path):
        return None
    return path


def skip_cpp_side():
    """After the Python side's checks: the C++ side was not compared, so the test is skipped."""
    skip("CELLZOO_BUILD_DIR/tests/stats_driver not found; the C++ side was not checked "
         "(build the stats_driver target, or run through ctest)")


def run_driver(lines):
    """One answer (a list of floats) per command line."""
    path = driver_path()
    if path is None:
        return None
    r = subprocess.run([path], input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=600, check=True)
    return [[float(v) for v in out.split()] for out in r.stdout.splitlines()]


def numbers(values):
    return " ".join(repr(float(v)) for v in values)


def listed(values):
    return f"{len(values)} {numbers(values)}"


def same(a, b, tol=0.0):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))


def scipy_wilcoxon(d):
    """(statistic, p) of scipy.stats.wilcoxon(d) with its defaults, NaN where it raises.
    Infinite differences go in as finite stand-ins of the same ranks (scipy's NaN check
    sums the input, and inf + -inf is NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = sp.wilcoxon(stats.finite_stand_ins(d))
        except ValueError:  # every difference is zero
            return math.nan, math.nan
    return float(r.statistic), float(r.pvalue)


def wilcoxon_cases(rng):
    cases = []
    for i in range(600):
        n = int(rng.integers(1, 90))
        kind = i % 4
        if kind == 0:  # continuous: exact branch up to 50 pairs, normal above
            x, y = rng.normal(0, 1, n), rng.normal(rng.normal(0, 0.5), 1, n)
        elif kind == 1:  # small integers: ties and zeros
            x, y = rng.integers(0, 5, n).astype(float), rng.integers(0, 5, n).astype(float)
        elif kind == 2:  # ties without zeros (exact branch with average ranks)
            x = rng.integers(1, 4, n).astype(float) * rng.choice([-1.0, 1.0], n)
            y = np.zeros(n)
        else:  # rounded metrics, a few equal pairs
            x = np.round(rng.normal(1, 0.1, n), 2)
            y = np.round(x + rng.normal(0.02, 0.05, n), 2)
        cases.append(x - y)
    # Failed runs under --diverged worst: infinite differences (and 0 for two failed runs).
    for n in (5, 30, 60):
        d = rng.normal(0, 1, n)
        d[: n // 5] = np.inf
        d[n // 5: n // 4] = -np.inf
        cases.append(d)
    cases += [np.array([0.0, 0.0, 0.0]), np.array([1.0]), np.array([-2.0, 2.0])]
    return cases


def test_wilcoxon_matches_scipy():
    rng = np.random.default_rng(RNG_SEED)
    cases = wilcoxon_cases(rng)
    answers = run_driver([f"wilcoxon {listed(d)}" for d in cases])
    exact = approx = 0
    for i, d in enumerate(cases):
        want_t, want_p = scipy_wilcoxon(d)
        mine_t, mine_p, note = stats.wilcoxon(d)
        assert same(mine_t, want_t) and same(mine_p, want_p), (d, mine_p, want_p)
        assert (note == "all tied") == bool(np.all(d == 0)), note
        if answers is None:
            continue
        t, p, is_exact = answers[i]
        assert same(t, want_t), (d, t, want_t)
        # The exact branch is bit-identical (dyadic sums); the normal one is Boost vs ndtr.
        assert same(p, want_p, 0.0 if is_exact else 1e-13), (list(d), p, want_p)
        assert bool(is_exact) == (len(d) <= 50 and not np.any(d == 0)), (d, is_exact)
        exact += bool(is_exact) and not math.isnan(p)
        approx += (not is_exact) and not math.isnan(p)
    if answers is not None:
        assert exact > 150 and approx > 150, (exact, approx)
    print(f"ok: Wilcoxon signed-rank == scipy.stats.wilcoxon on {len(cases)} cases "
          f"({exact} exact, {approx} normal approximation)")
    if answers is None:
        skip_cpp_side()


def test_welch_and_t_match_scipy():
    rng = np.random.default_rng(RNG_SEED + 1)
    lines, cases = [], []
    for _ in range(100):
        a = rng.normal(0, rng.uniform(0.1, 3), int(rng.integers(2, 60)))
        b = rng.normal(rng.normal(0, 1), rng.uniform(0.1, 3), int(rng.integers(2, 60)))
        cases.append((a, b))
        lines.append(f"welch {listed(a)} {listed(b)}")
    points = [(t, df) for t in (-30, -4.2, -1, -0.1, 0, 0.3, 2, 7.5) for df in
              (1, 2.5, 4, 17.3, 100, 1e4)]
    lines += [f"t_cdf {t!r} {df!r}" for t, df in points]
    answers = run_driver(lines)
    if answers is None:
        skip_cpp_side()
    for (a, b), (t, df, p) in zip(cases, answers):
        r = sp.ttest_ind(a, b, equal_var=False)
        assert same(t, float(r.statistic), 1e-12) and same(p, float(r.pvalue), 1e-12), (t, p, r)
    for (t, df), (cdf, two) in zip(points, answers[len(cases):]):
        assert same(cdf, float(sp.t.cdf(t, df)), 1e-12), (t, df, cdf)
        assert same(two, float(2 * sp.t.sf(abs(t), df)), 1e-12), (t, df, two)
    print("ok: Welch and Student t (Boost.Math) == scipy")


def test_power_matches_statsmodels():
    analysis = TTestIndPower()
    designs = [(2, 2), (3, 3), (5, 5), (20, 20), (5, 20), (50, 40), (200, 200), (3, 1000),
               (8333, 8333)]
    lines = []
    for n1, n2 in designs:
        for alpha in (0.05, 0.01):
            lines.append(f"mde {n1} {n2} {alpha} 0.8")
            lines.append(f"power 0.7 {n1} {n2} {alpha}")
    answers = run_driver(lines)
    i = 0
    for n1, n2 in designs:
        for alpha in (0.05, 0.01):
            # statsmodels' formula; its critical value (scipy's t.isf) is off by up to 2e-8,
            # which the exact one here removes.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs_power = float(analysis.power(0.7, n1, alpha, ratio=n2 / n1))
                theirs_d = analysis.solve_power(None, n1, alpha, 0.8, ratio=n2 / n1)
            mine_power = stats.ttest_ind_power(0.7, n1, n2, alpha)
            assert same(mine_power, theirs_power, 1e-6), (n1, n2, alpha, mine_power)
            d = stats.minimal_detectable_effect(n1, n2, alpha, 0.8)
            assert abs(stats.ttest_ind_power(d, n1, n2, alpha) - 0.8) < 1e-13
            assert abs(d - theirs_d) <= 1e-4 * d, (n1, n2, alpha, d, theirs_d)  # brentq xtol
            if answers is not None:
                (cpp_d,), (cpp_power,) = answers[i], answers[i + 1]
                assert same(cpp_d, d, 1e-11), (n1, n2, alpha, cpp_d, d)
                assert same(cpp_power, mine_power, 1e-11), (n1, n2, alpha, cpp_power)
            i += 2
    print("ok: power and minimal detectable effect == statsmodels TTestIndPower "
          f"({len(designs) * 2} designs; exact critical values)")
    if answers is None:
        skip_cpp_side()


def brute_median(x, wx, y, wy):
    d = stats.run_difference(np.repeat(x, wx.astype(int))[:, None],
                             np.repeat(y, wy.astype(int))[None, :])
    return float(np.median(d)) if d.size else math.nan


def brute_improve(x, wx, y, wy, hib):
    a, b = np.repeat(x, wx.astype(int))[:, None], np.repeat(y, wy.astype(int))[None, :]
    wins = (a > b) if hib else (a < b)
    return (wins.sum() + (a == b).sum() / 2) / (a.size * b.size)


def sample(rng, n, kind):
    if kind == "continuous":
        v = rng.normal(0, 1, n)
    elif kind == "ties":
        v = rng.integers(0, 6, n).astype(float) / 4
    else:  # failed runs at the worst end (lower is better: +inf)
        v = rng.normal(0, 1, n)
        v[rng.random(n) < 0.2] = np.inf
    w = rng.integers(0, 4, n).astype(float)  # bootstrap multiplicities, some zero
    return v, w


def test_shift_and_improvement_match_brute_force():
    rng = np.random.default_rng(RNG_SEED + 2)
    cases = []
    for size in (1, 2, 3, 7, 30, 100, 400):
        for kind in ("continuous", "ties", "failed"):
            for _ in range(3):
                m, n = max(1, int(size * rng.uniform(0.5, 1.5))), size
                x, wx = sample(rng, m, kind)
                y, wy = sample(rng, n, kind)
                y = y + rng.normal(0.3, 0.1)
                cases.append((x, wx, y, wy))
    # Large samples (the report's 100,000-run file has 8,333 runs a cell): the generic path.
    for kind in ("continuous", "ties"):
        x, wx = sample(rng, 1500, kind)
        y, wy = sample(rng, 1400, kind)
        cases.append((x, wx, y + 0.01, wy))
    lines = []
    for x, wx, y, wy in cases:
        lines.append(f"hl {listed(x)} {numbers(wx)} {listed(y)} {numbers(wy)}")
        lines.append(f"improve 0 {listed(x)} {numbers(wx)} {listed(y)} {numbers(wy)}")
        lines.append(f"improve 1 {listed(x)} {numbers(wx)} {listed(y)} {numbers(wy)}")
    answers = run_driver(lines)
    for i, (x, wx, y, wy) in enumerate(cases):
        want = brute_median(x, wx, y, wy) if wx.sum() and wy.sum() else math.nan
        mine = stats.hodges_lehmann(x, wx, y, wy)
        assert same(mine, want), (len(x), len(y), mine, want)
        if len(x) * len(y) <= stats.PairDifferences.LIMIT:
            assert same(stats.PairDifferences(x, y).median(wx, wy), want)
        for hib in (False, True):
            p = brute_improve(x, wx, y, wy, hib) if wx.sum() and wy.sum() else math.nan
            assert same(stats.probability_of_improvement(x, wx, y, wy, hib), p)
        if answers is not None:
            assert same(answers[3 * i][0], want), (len(x), len(y), answers[3 * i][0], want)
            for j, hib in ((1, False), (2, True)):
                p = brute_improve(x, wx, y, wy, hib) if wx.sum() and wy.sum() else math.nan
                assert same(answers[3 * i + j][0], p), (answers[3 * i + j], p)
    print(f"ok: Hodges-Lehmann medians and P(improvement) == brute force on {len(cases)} "
          "weighted samples (up to 1500 x 1400 runs, ties, infinities)")
    if answers is None:
        skip_cpp_side()


def test_expected_max_matches_enumeration():
    rng = np.random.default_rng(RNG_SEED + 3)
    lines, cases = [], []
    for n in (1, 2, 3, 5, 6):
        s = np.round(rng.normal(0, 1, n), 1)  # ties in score are fine: the order is given
        cases.append(s)
        lines.append(f"expected_max {listed(s)}")
    long = rng.normal(0, 1, 3000)
    lines.append(f"expected_max {listed(long)}")
    answers = run_driver(lines)
    for i, s in enumerate(cases):
        n = len(s)
        means, stds = stats.expected_best_of_k(s)
        for k in range(1, min(n, 4) + 1):
            # Every k-tuple of draws (with replacement) equally likely; the best by
            # validation is the lowest index (s is in validation order, best first).
            best = [s[min(t)] for t in itertools.product(range(n), repeat=k)]
            assert abs(means[k - 1] - np.mean(best)) < 1e-12, (s, k)
            assert abs(stds[k - 1] - np.std(best)) < 1e-12, (s, k)
            if answers is not None:
                assert abs(answers[i][k - 1] - np.mean(best)) < 1e-12
                assert abs(answers[i][n + k - 1] - np.std(best)) < 1e-12
    means, stds = stats.expected_best_of_k(long)
    # k = 1 is the plain mean; large k tends to the best run by validation, long[0].
    assert abs(means[0] - long.mean()) < 1e-12 and stds[0] == np.std(long) or \
        abs(stds[0] - np.std(long)) < 1e-12
    p_best = 1 - (1 - 1 / 3000) ** 3000
    assert abs(means[-1] - long[0]) < (1 - p_best) * 4
    if answers is not None:
        got = np.array(answers[-1])
        assert np.allclose(got[:3000], means, rtol=1e-9, atol=1e-12)
        assert np.allclose(got[3000:], stds, rtol=1e-9, atol=1e-12)
    print("ok: expected best-of-k == enumeration of all draws (Dodge et al.'s closed form)")
    if answers is None:
        skip_cpp_side()


def test_bootstrap_draws_agree():
    answers = run_driver([f"draws {seed} {b} {trials}" for seed in (0, 12345678901234567)
                          for b in (0, 1, 999) for trials in (1, 7, 250)])
    i = 0
    for seed in (0, 12345678901234567):
        for b in (0, 1, 999):
            for trials in (1, 7, 250):
                mine = stats.draw_trials(seed, b, trials)
                block = stats.draw_trials_block(seed, b, 2, trials)[0]
                assert mine.sum() == trials and np.array_equal(mine, block)
                if answers is not None:
                    assert np.array_equal(np.array(answers[i]), mine), (seed, b, trials)
                i += 1
    # splitmix64's first output for seed 0 (the reference implementation's).
    assert int(stats.splitmix64_mix(np.uint64(0x9E3779B97F4A7C15))) == 0xE220A8397B1DCDAF
    print("ok: bootstrap draws (splitmix64) identical in C++ and Python")
    if answers is None:
        skip_cpp_side()


def main():
    run_tests(test_wilcoxon_matches_scipy, test_welch_and_t_match_scipy,
              test_power_matches_statsmodels, test_shift_and_improvement_match_brute_force,
              test_expected_max_matches_enumeration, test_bootstrap_draws_agree)


if __name__ == "__main__":
    main()
