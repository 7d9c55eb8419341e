"""The Greff-style comparison table, the same one `cellzoo report` prints (docs/analysis.md).

For each cell: run counts by status; summaries of the metric over all usable runs and over
the top fraction of them chosen by validation score; Welch's t-test of each group against
the baseline's same group, the raw decision at alpha (Greff et al.) and a Holm-corrected
one over the cells compared (our addition); the direction; mean parameter counts.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from .errors import ResultsError

STATUSES = ["ok", "diverged", "failed", "timeout"]
# Validation column that ranks runs for the top fraction, per compared column.
_RANKED_BY = {"test_metric": "valid_metric", "valid_metric": "valid_metric",
              "test_loss": "valid_loss", "valid_loss": "valid_loss"}
_SUMMARY = ["n", "mean", "std", "min", "q1", "median", "q3", "max", "best"]
_TEST = ["params", "t", "df", "p", "p_holm", "significant", "significant_holm", "direction"]


def default_baseline(cells) -> str:
    """`lstm` if present; otherwise the caller must name one (no silent guess)."""
    cells = sorted(set(map(str, cells)))
    if "lstm" in cells:
        return "lstm"
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


def top_count(n: int, fraction: float) -> int:
    """ceil(fraction * n), at least 1 when n > 0 (the tolerance keeps 0.1 * 200 at 20)."""
    if n == 0:
        return 0
    return min(n, max(1, math.ceil(fraction * n - 1e-9)))


def _summary(values: np.ndarray, hib: bool) -> dict:
    n = len(values)
    if n == 0:
        return {"n": 0, **{k: math.nan for k in _SUMMARY[1:]}}
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75])  # linear, as the C++ side
    return {"n": n, "mean": float(np.mean(values)),
            "std": float(np.std(values, ddof=1)) if n > 1 else math.nan,
            "min": float(values.min()), "q1": float(q1), "median": float(med), "q3": float(q3),
            "max": float(values.max()), "best": float(values.max() if hib else values.min())}


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(t, df, two-sided p) of Welch's test of a against b; scipy's edge cases."""
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan, math.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        r = stats.ttest_ind(a, b, equal_var=False)
        sa, sb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
        df = (sa + sb) ** 2 / (sa ** 2 / (len(a) - 1) + sb ** 2 / (len(b) - 1)) \
            if sa + sb > 0 else math.nan
    return float(r.statistic), float(df), float(r.pvalue)


def _nearly_equal(a: float, b: float) -> bool:
    """Means equal up to rounding are equal (numpy and C++ sum in different orders)."""
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def _holm(p: list[float]) -> list[float]:
    out = [math.nan] * len(p)
    idx = [i for i, v in enumerate(p) if not math.isnan(v)]
    if idx:
        adj = multipletests([p[i] for i in idx], method="holm")[1]
        for i, v in zip(idx, adj):
            out[i] = float(v)
    return out


def compare(df: pd.DataFrame, metric: str = "test_metric", baseline: str | None = None,
            top_fraction: float = 0.1, alpha: float = 0.05,
            include_timeout: bool = False) -> pd.DataFrame:
    """The comparison table of `cellzoo report`, one row per cell (baseline first, then by
    the top fraction's mean, best first). Columns: cell, baseline, runs, ok, diverged,
    failed, timeout, used, then for g in (all, top): g_n, g_mean, g_std, g_min, g_q1,
    g_median, g_q3, g_max, g_best, g_params, g_t, g_df, g_p, g_p_holm, g_significant,
    g_significant_holm, g_direction. ``table.attrs`` holds the settings and missing runs.

    Usable runs: status ok (and timeout if `include_timeout`) with a finite metric.
    """
    meta = dict(df.attrs)
    if metric not in df.columns or metric in ("run_id", "seed"):
        numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
                   and c not in ("run_id", "seed")]
        raise ResultsError(f"metric {metric!r} is not a column of the runs; choose one of: "
                           f"{', '.join(numeric)}")
    if not pd.api.types.is_numeric_dtype(df[metric]):
        raise ResultsError(f"column {metric!r} is not numeric and cannot be compared")
    if not 0 < top_fraction <= 1:
        raise ResultsError(f"top_fraction {top_fraction} is not in (0, 1]")
    hib, ranked_by, valid_hib = metric_direction(metric, meta)
    cells = sorted(set(map(str, df["cell"])))
    if baseline is None:
        baseline = default_baseline(cells)
    if baseline not in cells:
        raise ResultsError(f"baseline cell {baseline!r} has no runs in this file (cells: "
                           f"{', '.join(cells) or 'none'}); choose the baseline with baseline=CELL")

    status = df["status"].astype(str)
    usable_status = status.eq("ok") | (include_timeout & status.eq("timeout"))
    values = pd.to_numeric(df[metric], errors="coerce").astype(float)
    usable = usable_status & np.isfinite(values)
    rows, groups = [], {}
    for cell in cells:
        in_cell = df["cell"].astype(str).eq(cell)
        counts = {s: int((in_cell & status.eq(s)).sum()) for s in STATUSES}
        sub = df.loc[in_cell & usable, ["run_id", ranked_by, "n_params"]].copy()
        sub["value"] = values[in_cell & usable]
        valid = sub[ranked_by].astype(float)
        # Best validation first, NaN last, ties by run_id (as the C++ side).
        sub["_key"] = np.where(np.isnan(valid), np.inf, -valid if valid_hib else valid)
        sub = sub.sort_values(["_key", "run_id"], kind="mergesort")
        top = sub.iloc[:top_count(len(sub), top_fraction)]
        groups[cell] = (sub["value"].to_numpy(float), top["value"].to_numpy(float))
        row = {"cell": cell, "baseline": cell == baseline, "runs": int(in_cell.sum()), **counts,
               "used": len(sub)}
        for g, part in (("all", sub), ("top", top)):
            for k, v in _summary(part["value"].to_numpy(float), hib).items():
                row[f"{g}_{k}"] = v
            row[f"{g}_params"] = float(part["n_params"].mean()) if len(part) else math.nan
        rows.append(row)
    base = next(r for r in rows if r["baseline"])
    if base["used"] == 0:
        raise ResultsError(f"baseline cell {baseline!r} has no usable runs ({base['runs']} runs, "
                           f"{base['ok']} ok with a finite {metric}); choose another baseline")

    def before(a, b):  # the C++ order: equal means (up to rounding) go by name
        if a["baseline"] != b["baseline"]:
            return -1 if a["baseline"] else 1
        ma, mb = a["top_mean"], b["top_mean"]
        if math.isnan(ma) != math.isnan(mb):
            return 1 if math.isnan(ma) else -1
        if not math.isnan(ma) and not _nearly_equal(ma, mb):
            return -1 if (ma > mb) == hib else 1
        return (a["cell"] > b["cell"]) - (a["cell"] < b["cell"])

    rows.sort(key=functools.cmp_to_key(before))
    for gi, g in enumerate(("all", "top")):
        ps = []
        for r in rows:
            if r["baseline"]:
                t = dfree = p = math.nan
            else:
                t, dfree, p = welch(groups[r["cell"]][gi], groups[baseline][gi])
            r[f"{g}_t"], r[f"{g}_df"], r[f"{g}_p"] = t, dfree, p
            ps.append(p)
        for r, ph in zip(rows, _holm(ps)):
            r[f"{g}_p_holm"] = ph
            r[f"{g}_significant"] = bool(r[f"{g}_p"] < alpha)
            r[f"{g}_significant_holm"] = bool(ph < alpha)
            m, bm = r[f"{g}_mean"], base[f"{g}_mean"]
            r[f"{g}_direction"] = ("" if r["baseline"] or math.isnan(m) or math.isnan(bm) else
                                   "same" if _nearly_equal(m, bm) else
                                   "better" if (m > bm) == hib else "worse")
    columns = ["cell", "baseline", "runs", *STATUSES, "used"] + [
        f"{g}_{k}" for g in ("all", "top") for k in _SUMMARY + _TEST]
    table = pd.DataFrame(rows, columns=columns)
    table.attrs = {"metric": metric, "task_metric": meta.get("metric", ""),
                   "higher_is_better": hib, "ranked_by": ranked_by, "baseline": baseline,
                   "top_fraction": top_fraction, "alpha": alpha,
                   "include_timeout": include_timeout,
                   "total_runs": int(meta.get("total_runs", 0) or 0),
                   "rows": int(len(df)), "missing_runs": int(meta.get("missing_runs", 0) or 0)}
    return table
