"""The comparison table, the same one `cellzoo report` prints (docs/analysis.md).

For each cell: run counts by status; summaries of the metric over all usable runs and over
the top fraction of them chosen by validation score; Welch's t-test of each group against
the baseline's same group, raw at alpha (Greff et al.), Holm-corrected over the cells and
over every test of the report, with its minimal detectable difference; the Wilcoxon
signed-rank test over the trials both cells ran; the Hodges-Lehmann shift and the
probability of improvement with percentile bootstrap intervals over trials; the expected
best-of-k. The statistics themselves are in cellzoo_analysis.stats.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Iterable

import numpy as np
import pandas as pd

from . import stats
from .errors import ResultsError
from .stats import top_count

__all__ = ["compare", "default_baseline", "expected_max", "metric_direction", "rank_runs",
           "top_count"]

STATUSES = ["ok", "diverged", "failed", "timeout"]
DIVERGED = ("exclude", "worst")
# Validation column that ranks runs for the top fraction, per compared column.
_RANKED_BY = {"test_metric": "valid_metric", "valid_metric": "valid_metric",
              "test_loss": "valid_loss", "valid_loss": "valid_loss"}
_PAIRED = ["n_pairs", "paired_statistic", "p_paired", "p_paired_holm", "p_paired_holm_family"]
_GROUP = ["n", "failed", "mean", "mean_ci", "std", "min", "q1", "median", "q3", "max", "best",
          "params", "t", "df", "p", "p_holm", "p_holm_family", "significant",
          "significant_holm", "direction", "mde", "underpowered", "shift", "shift_ci",
          "p_improve", "p_improve_ci"]
_NAN2 = (math.nan, math.nan)


def _spec_cells(spec_text: str) -> list[str]:
    for line in (spec_text or "").splitlines():
        if line.startswith("cells = "):
            return [c.strip() for c in line[len("cells = "):].split(",") if c.strip()]
    return []


def default_baseline(cells: Iterable[Any], spec_text: str | None = None) -> str:
    """`lstm` if present; else (as `cellzoo report`) the first cell of the spec's `cells`
    line (`spec_text`, the file's attribute) that has runs; else the caller must name one."""
    cells = sorted(set(map(str, cells)))
    if "lstm" in cells:
        return "lstm"
    for cell in _spec_cells(spec_text or ""):
        if cell in cells:
            return cell
    raise ResultsError(f"no baseline given and the file has no 'lstm' runs (cells: "
                       f"{', '.join(cells) or 'none'}); pass baseline=CELL")


def metric_direction(metric: str, meta: dict) -> tuple[bool, str, bool]:
    """(higher_is_better of `metric`, validation column ranking runs, its direction)."""
    file_hib = bool(meta.get("metric_higher_is_better", False))
    ranked_by = _RANKED_BY.get(metric, "valid_metric")
    valid_hib = file_hib if ranked_by == "valid_metric" else False
    if metric in ("test_metric", "valid_metric"):
        return file_hib, ranked_by, valid_hib
    return False, ranked_by, valid_hib  # losses and other columns: lower is better


def rank_runs(df: pd.DataFrame, metric: str = "test_metric", include_timeout: bool = False,
              diverged: str = "exclude", cells: Iterable[str] | None = None
              ) -> dict[str, pd.DataFrame]:
    """Per cell, the runs that enter the statistics, best validation score first (the
    order that chooses the top fraction; ties by run_id): status ok (and timeout if
    `include_timeout`) with a finite metric, and under diverged="worst" also the diverged
    and failed runs (and usable ones with a NaN metric), which rank last and take the worst
    value (+inf if lower is better, -inf otherwise). Columns: run_id, task, trial,
    n_params, value, scored (False for those failed runs). Shared by compare() and the
    plots."""
    hib, ranked_by, valid_hib = metric_direction(metric, df.attrs)
    status = df["status"].astype(str)
    usable_status = status.eq("ok") | (include_timeout & status.eq("timeout"))
    values = pd.to_numeric(df[metric], errors="coerce").astype(float)
    scored = usable_status & np.isfinite(values)
    failure = status.isin(["diverged", "failed"])
    in_sample = scored | ((diverged == "worst") & (usable_status | failure))
    cell_of = df["cell"].astype(str)
    worst = -math.inf if hib else math.inf
    out = {}
    for cell in (sorted(set(cell_of)) if cells is None else cells):
        part = df.loc[in_sample & cell_of.eq(cell)]
        ok = scored[part.index].to_numpy()
        valid = part[ranked_by].astype(float).to_numpy()
        key = np.where(ok & ~np.isnan(valid), -valid if valid_hib else valid, np.inf)
        frame = pd.DataFrame({"run_id": part["run_id"].to_numpy(),
                              "task": part["task"].astype(str).to_numpy(),
                              "trial": part["trial"].to_numpy(),
                              "n_params": part["n_params"].astype(float).to_numpy(),
                              "value": np.where(ok, values[part.index].to_numpy(), worst),
                              "scored": ok, "_key": key})
        frame = frame.sort_values(["_key", "run_id"], kind="mergesort")
        out[cell] = frame.drop(columns="_key").reset_index(drop=True)
    return out


def _check(df: pd.DataFrame, metric: str, top_fraction: float, diverged: str,
           bootstrap: int) -> None:
    if metric not in df.columns or metric in ("run_id", "seed"):
        numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
                   and c not in ("run_id", "seed")]
        raise ResultsError(f"metric {metric!r} is not a column of the runs; choose one of: "
                           f"{', '.join(numeric)}")
    if not pd.api.types.is_numeric_dtype(df[metric]):
        raise ResultsError(f"column {metric!r} is not numeric and cannot be compared")
    if not 0 < top_fraction <= 1:
        raise ResultsError(f"top_fraction {top_fraction} is not in (0, 1]")
    if diverged not in DIVERGED:
        raise ResultsError(f"diverged={diverged!r}: use 'exclude' (leave diverged and failed "
                           "runs out, Greff et al.) or 'worst' (rank them last)")
    if not 0 <= bootstrap <= 1_000_000:
        raise ResultsError(f"bootstrap={bootstrap} is not in 0..1000000")


def compare(df: pd.DataFrame, metric: str = "test_metric", baseline: str | None = None,
            top_fraction: float = 0.1, alpha: float = 0.05, include_timeout: bool = False,
            diverged: str = "exclude", bootstrap: int = 1000, bootstrap_seed: int = 0,
            by: str | None = None, power: float = 0.8) -> pd.DataFrame:
    """The comparison of `cellzoo report`, one row per cell (baseline first, then by the
    top fraction's mean, best first), with the columns of its JSON (docs/analysis.md):
    cell, baseline, runs, ok, diverged, failed, timeout, used, n_pairs, paired_statistic,
    p_paired, p_paired_holm, p_paired_holm_family, then for g in (all, top) g_n, g_failed,
    g_mean, g_mean_ci, g_std, g_min, g_q1, g_median, g_q3, g_max, g_best, g_params, g_t,
    g_df, g_p, g_p_holm, g_p_holm_family, g_significant, g_significant_holm, g_direction,
    g_mde, g_underpowered, g_shift, g_shift_ci, g_p_improve, g_p_improve_ci, and
    expected_max. Intervals are (low, high) tuples; expected_max is a dict of lists k,
    mean, std. ``table.attrs`` holds the settings and missing runs.

    `by`: one comparison per value of that column, stacked with the column first (as
    `cellzoo report --by`); p_holm_family then runs over every slice's tests.
    """
    _check(df, metric, top_fraction, diverged, bootstrap)
    settings = dict(metric=metric, top_fraction=top_fraction, alpha=alpha,
                    include_timeout=include_timeout, diverged=diverged, bootstrap=bootstrap,
                    bootstrap_seed=bootstrap_seed, power=power)
    cells = sorted(set(map(str, df["cell"])))
    baseline_note = ""
    if baseline is None:
        baseline = default_baseline(cells, df.attrs.get("spec_text"))
        if baseline != "lstm":
            baseline_note = (f"no baseline given and no lstm runs: the baseline is {baseline}, "
                             "the spec's first listed cell with runs")
            warnings.warn(baseline_note, stacklevel=2)
    if baseline not in cells:
        raise ResultsError(f"baseline cell {baseline!r} has no runs in this file (cells: "
                           f"{', '.join(cells) or 'none'}); choose the baseline with baseline=CELL")
    if by is None:
        rows, attrs = _compare_one(df, baseline, **settings)
        attrs["baseline_note"] = baseline_note
        _family_holm([rows])
        attrs["family_tests"] = _count_tests([rows])
        return _frame(rows, attrs)
    if by not in df.columns:
        raise ResultsError(f"by={by!r} is not a column of the runs")
    values = sorted(df[by].unique())
    slices = []
    for value in values:
        part = df[df[by] == value]
        part.attrs = dict(df.attrs)
        slices.append(_compare_one(part, baseline, missing_ok=True, **settings))
    _family_holm([rows for rows, _ in slices])
    tests = _count_tests([rows for rows, _ in slices])
    frames = []
    for value, (rows, attrs) in zip(values, slices):
        attrs["family_tests"] = tests
        frame = _frame(rows, attrs)
        frame.insert(0, by, value)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.attrs = dict(frames[0].attrs, by=by, missing_runs=0, baseline_note=baseline_note)
    return table


def _summary(values: np.ndarray, hib: bool) -> dict:
    """Mean and std over the finite values; quantiles and best over all (failed runs at
    the worst infinity)."""
    n = len(values)
    finite = values[np.isfinite(values)]
    if n == 0:
        return {"n": 0, "failed": 0, **{k: math.nan for k in
                                        ("mean", "std", "min", "q1", "median", "q3", "max",
                                         "best")}}
    v = np.sort(values)
    return {"n": n, "failed": int(n - len(finite)),
            "mean": float(np.mean(finite)) if len(finite) else math.nan,
            "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan,
            "min": float(v[0]), "q1": stats.quantile_sorted(v, 0.25),
            "median": stats.quantile_sorted(v, 0.5), "q3": stats.quantile_sorted(v, 0.75),
            "max": float(v[-1]), "best": float(v[-1] if hib else v[0])}


def _nearly_equal(a: float, b: float) -> bool:
    """Means equal up to rounding are equal (numpy and C++ sum in different orders)."""
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def _order_rows(rows: list[dict], hib: bool) -> None:
    def before(a: dict, b: dict) -> int:  # the C++ order: equal means (up to rounding) by name
        if a["baseline"] != b["baseline"]:
            return -1 if a["baseline"] else 1
        ma, mb = a["top_mean"], b["top_mean"]
        if math.isnan(ma) != math.isnan(mb):
            return 1 if math.isnan(ma) else -1
        if not math.isnan(ma) and not _nearly_equal(ma, mb):
            return -1 if (ma > mb) == hib else 1
        return (a["cell"] > b["cell"]) - (a["cell"] < b["cell"])

    rows.sort(key=functools.cmp_to_key(before))


def _compare_one(df: pd.DataFrame, baseline: str, metric: str, top_fraction: float,
                 alpha: float, include_timeout: bool, diverged: str, bootstrap: int,
                 bootstrap_seed: int, power: float, missing_ok: bool = False
                 ) -> tuple[list[dict], dict]:
    meta = dict(df.attrs)
    hib, ranked_by, _ = metric_direction(metric, meta)
    cells = sorted(set(map(str, df["cell"])))
    ranked = rank_runs(df, metric, include_timeout, diverged, cells)
    status, cell_of = df["status"].astype(str), df["cell"].astype(str)
    keys = sorted(set(zip(df["task"].astype(str), df["trial"].astype(int))))
    key_index = {k: i for i, k in enumerate(keys)}
    samples, rows = {}, []
    for cell in cells:
        runs = ranked[cell]
        top = top_count(len(runs), top_fraction)
        values = runs["value"].to_numpy(float)
        samples[cell] = {"values": values, "top": top,
                         "keys": np.array([key_index[(t, int(i))] for t, i in
                                           zip(runs["task"], runs["trial"])], np.int64),
                         "run_id": runs["run_id"].to_numpy()}
        in_cell = cell_of.eq(cell)
        row = {"cell": cell, "baseline": cell == baseline, "runs": int(in_cell.sum()),
               **{s: int((in_cell & status.eq(s)).sum()) for s in STATUSES}, "used": len(runs)}
        for g, part in (("all", values), ("top", values[:top])):
            for k, v in _summary(part, hib).items():
                row[f"{g}_{k}"] = v
            params = runs["n_params"].to_numpy(float)[:len(part)]
            row[f"{g}_params"] = float(params.mean()) if len(params) else math.nan
        means, stds = stats.expected_best_of_k(values[np.isfinite(values)])
        row["expected_max"] = {"k": list(range(1, len(means) + 1)), "mean": list(means),
                               "std": list(stds)}
        rows.append(row)
    _order_rows(rows, hib)
    base = samples.get(baseline)
    note = ""
    if baseline not in samples:
        if not missing_ok:
            raise ResultsError(f"baseline cell {baseline!r} has no runs in this file")
        note = f"baseline {baseline} has no runs here: no tests"
    elif len(base["values"]) == 0:
        b = next(r for r in rows if r["baseline"])
        note = (f"baseline {baseline} has no usable runs ({b['runs']} runs: {b['ok']} ok, "
                f"{b['diverged']} diverged, {b['failed']} failed, {b['timeout']} timed out): "
                "no tests")
        base = None
    _welch_tests(rows, samples, base, alpha, power, hib)
    _paired_tests(rows, samples, base, len(keys))
    _effect_sizes(rows, samples, base, baseline, len(keys), top_fraction, hib, bootstrap,
                  bootstrap_seed)
    attrs = {"metric": metric, "task_metric": meta.get("metric", ""), "higher_is_better": hib,
             "ranked_by": ranked_by, "baseline": baseline, "top_fraction": top_fraction,
             "alpha": alpha, "power": power, "include_timeout": include_timeout,
             "diverged": diverged, "bootstrap": bootstrap, "bootstrap_seed": bootstrap_seed,
             "trials": len(keys), "tests_note": note,
             "total_runs": int(meta.get("total_runs", 0) or 0), "rows": int(len(df)),
             "missing_runs": int(meta.get("missing_runs", 0) or 0)}
    return rows, attrs


def _group(sample: dict, top: bool) -> np.ndarray:
    return sample["values"][:sample["top"]] if top else sample["values"]


def _welch_tests(rows: list[dict], samples: dict, base: dict | None, alpha: float,
                 power: float, hib: bool) -> None:
    for gi, g in enumerate(("all", "top")):
        ps = []
        base_finite = None if base is None else _finite(_group(base, gi == 1))
        for r in rows:
            t = dfree = p = mde = math.nan
            underpowered = False
            finite = _finite(_group(samples[r["cell"]], gi == 1))
            if not r["baseline"] and base is not None and min(
                    len(finite), len(base_finite)) >= stats.MIN_WELCH_RUNS:
                t, dfree, p = stats.welch(finite, base_finite)
                mde = stats.minimal_detectable_effect(len(finite), len(base_finite), alpha,
                                                      power) * stats.pooled_std(finite,
                                                                                base_finite)
                underpowered = bool(not p < alpha and abs(
                    float(np.mean(finite)) - float(np.mean(base_finite))) < mde)
            r[f"{g}_t"], r[f"{g}_df"], r[f"{g}_p"] = t, dfree, p
            r[f"{g}_mde"], r[f"{g}_underpowered"] = mde, underpowered
            ps.append(p)
        base_mean = rows[0][f"{g}_mean"] if base is not None else math.nan
        for r, ph in zip(rows, stats.holm(ps)):
            r[f"{g}_p_holm"] = ph
            r[f"{g}_significant"] = bool(r[f"{g}_p"] < alpha)
            r[f"{g}_significant_holm"] = bool(ph < alpha)
            m = r[f"{g}_mean"]
            r[f"{g}_direction"] = ("" if r["baseline"] or math.isnan(m) or math.isnan(base_mean)
                                   else "same" if _nearly_equal(m, base_mean) else
                                   "better" if (m > base_mean) == hib else "worse")


def _finite(v: np.ndarray) -> np.ndarray:
    return v[np.isfinite(v)]


def _by_trial(sample: dict, trials: int) -> np.ndarray:
    """The value at each trial key (NaN where the cell has none; the lowest run id first)."""
    out = np.full(trials, math.nan)
    order = np.argsort(sample["run_id"], kind="stable")[::-1]  # lowest run id written last
    out[sample["keys"][order]] = sample["values"][order]
    return out


def _paired_tests(rows: list[dict], samples: dict, base: dict | None, trials: int) -> None:
    ps = []
    base_by_trial = None if base is None else _by_trial(base, trials)
    for r in rows:
        r["n_pairs"], r["paired_statistic"], r["p_paired"] = 0, math.nan, math.nan
        r["_paired_note"] = ""
        if not r["baseline"] and base is not None:
            mine = _by_trial(samples[r["cell"]], trials)
            both = ~np.isnan(mine) & ~np.isnan(base_by_trial)
            d = stats.run_difference(mine[both], base_by_trial[both])
            r["n_pairs"] = int(both.sum())
            r["paired_statistic"], r["p_paired"], r["_paired_note"] = stats.wilcoxon(d)
        ps.append(r["p_paired"])
    for r, ph in zip(rows, stats.holm(ps)):
        r["p_paired_holm"] = ph


def _shift(x: np.ndarray, y: np.ndarray, hib: bool) -> float:
    sign = 1.0 if hib else -1.0
    fx, fy = np.sort(_finite(x)), np.sort(_finite(y))
    hint = stats.quantile_sorted(fx, 0.5) - stats.quantile_sorted(fy, 0.5)
    return sign * stats.hodges_lehmann(x, np.ones(len(x)), y, np.ones(len(y)), hint)


def _effect_sizes(rows: list[dict], samples: dict, base: dict | None, baseline: str,
                  trials: int, fraction: float, hib: bool, bootstrap: int, seed: int) -> None:
    for r in rows:
        for g in ("all", "top"):
            r[f"{g}_shift"] = r[f"{g}_p_improve"] = math.nan
            r[f"{g}_mean_ci"] = r[f"{g}_shift_ci"] = r[f"{g}_p_improve_ci"] = _NAN2
        if base is None or r["baseline"]:
            continue
        mine = samples[r["cell"]]
        for g, top in (("all", False), ("top", True)):
            x, y = _group(mine, top), _group(base, top)
            r[f"{g}_shift"] = _shift(x, y, hib)
            r[f"{g}_p_improve"] = stats.probability_of_improvement(
                x, np.ones(len(x)), y, np.ones(len(y)), hib)
    if base is None or bootstrap == 0 or trials == 0:
        return
    intervals = _bootstrap(rows, samples, baseline, trials, fraction, hib, bootstrap, seed)
    for r in rows:
        r.update(intervals[r["cell"]])


def _bootstrap(rows: list[dict], samples: dict, baseline: str, trials: int, fraction: float,
               hib: bool, resamples: int, seed: int) -> dict[str, dict]:
    """Percentile intervals over resamples of trials (docs/analysis.md, "Intervals"): the
    same draws, top-fraction choice and statistics as framework/analysis/bootstrap.cpp,
    a block of resamples at a time."""
    sign = 1.0 if hib else -1.0
    cells = [r["cell"] for r in rows]
    others = [c for c in cells if c != baseline]
    base = samples[baseline]
    pairs = {c: (stats.PairDifferences(samples[c]["values"], base["values"])
                 if len(samples[c]["values"]) * len(base["values"]) <= stats.PairDifferences.LIMIT
                 else None) for c in others}
    hints = {r["cell"]: (sign * r["all_shift"], sign * r["top_shift"]) for r in rows
             if not r["baseline"]}
    names = ("mean_all", "mean_top", "shift_all", "shift_top", "improve_all", "improve_top")
    out = {c: {k: np.full(resamples, math.nan) for k in names} for c in cells}
    largest = max(len(s["values"]) for s in samples.values()) or 1
    block = max(1, min(resamples, (1 << 22) // (largest * largest)))
    for first in range(0, resamples, block):
        count = min(block, resamples - first)
        rows_at = slice(first, first + count)
        counts = stats.draw_trials_block(seed, first, count, trials).astype(float)
        weights = {}
        for c in cells:
            s = samples[c]
            w = counts[:, s["keys"]]
            k = np.array([top_count(int(t), fraction) for t in w.sum(axis=1)], float)
            top = np.clip(k[:, None] - (np.cumsum(w, axis=1) - w), 0, w)
            weights[c] = (w, top)
            finite = np.isfinite(s["values"])
            for name, wt in (("mean_all", w), ("mean_top", top)):
                total = wt[:, finite].sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = (wt[:, finite] @ s["values"][finite]) / total
                out[c][name][rows_at] = np.where(total > 0, mean, math.nan)
        for c in others:
            x, y = samples[c]["values"], base["values"]
            for gi, g in enumerate(("all", "top")):
                wx, wy = weights[c][gi], weights[baseline][gi]
                if pairs[c] is not None:
                    medians = pairs[c].medians(wx, wy)
                else:
                    medians = np.array([stats.hodges_lehmann(x, wx[i], y, wy[i], hints[c][gi],
                                                             _scale(samples[c], base))
                                        for i in range(count)])
                out[c][f"shift_{g}"][rows_at] = sign * medians
                out[c][f"improve_{g}"][rows_at] = stats.probability_of_improvement_rows(
                    x, wx, y, wy, hib)
    result = {}
    for c in cells:
        o = out[c]
        result[c] = {"all_mean_ci": stats.percentile_interval(o["mean_all"]),
                     "top_mean_ci": stats.percentile_interval(o["mean_top"])}
        if c != baseline:
            result[c].update({
                "all_shift_ci": stats.percentile_interval(o["shift_all"]),
                "top_shift_ci": stats.percentile_interval(o["shift_top"]),
                "all_p_improve_ci": stats.percentile_interval(o["improve_all"]),
                "top_p_improve_ci": stats.percentile_interval(o["improve_top"])})
    return result


def _scale(a: dict, b: dict) -> float:
    """The C++ step size for the median search (speed only)."""
    def iqr(v: np.ndarray) -> float:
        v = np.sort(_finite(v))
        return stats.quantile_sorted(v, 0.75) - stats.quantile_sorted(v, 0.25) if len(v) else 0.0
    n = max(1, min(len(a["values"]), len(b["values"])))
    s = (iqr(a["values"]) + iqr(b["values"])) / 4 / math.sqrt(n)
    return s if s > 0 and math.isfinite(s) else 1.0


_FAMILY = {"all_p": "all_p_holm_family", "top_p": "top_p_holm_family",
           "p_paired": "p_paired_holm_family"}


def _family_holm(tables: list[list[dict]]) -> None:
    """Holm over every test of the report (Welch all and top, paired; all slices)."""
    slots = [(r, key) for rows in tables for r in rows for key in _FAMILY]
    for (r, key), adjusted in zip(slots, stats.holm([r[key] for r, key in slots])):
        r[_FAMILY[key]] = adjusted


def _count_tests(tables: list[list[dict]]) -> int:
    return sum(not math.isnan(r[k]) for rows in tables for r in rows for k in _FAMILY)


def _frame(rows: list[dict], attrs: dict) -> pd.DataFrame:
    columns = (["cell", "baseline", "runs", *STATUSES, "used", *_PAIRED]
               + [f"{g}_{k}" for g in ("all", "top") for k in _GROUP] + ["expected_max"])
    table = pd.DataFrame(rows, columns=columns)
    table.attrs = attrs
    table.attrs["paired_notes"] = {r["cell"]: r["_paired_note"] for r in rows}
    return table


def expected_max(runs: pd.DataFrame, metric: str = "test_metric",
                 cells: Iterable[str] | None = None, include_timeout: bool = False
                 ) -> pd.DataFrame:
    """Dodge et al.'s expected best-of-k per cell, tidy: one row per (cell, k) for
    k = 1..n with the mean and standard deviation of the `metric` of the best run by
    validation among k trials drawn at random from the cell's n runs with a finite score
    (the numbers of `cellzoo report --details` and of the JSON's expected_max)."""
    if metric not in runs.columns:
        raise ResultsError(f"metric {metric!r} is not a column of the runs")
    ranked = rank_runs(runs, metric, include_timeout, "exclude",
                       None if cells is None else list(cells))
    frames = []
    for cell, part in ranked.items():
        means, stds = stats.expected_best_of_k(part["value"].to_numpy(float))
        frames.append(pd.DataFrame({"cell": cell, "k": np.arange(1, len(means) + 1),
                                    "mean": means, "std": stds}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["cell", "k", "mean", "std"])
    out.attrs = {"metric": metric, "ranked_by": metric_direction(metric, runs.attrs)[1]}
    return out
