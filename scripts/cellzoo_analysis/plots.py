"""Plots in the style of Greff et al. (2015): box plots per cell (Fig. 3), hyperparameter
marginals (Fig. 4), importance (Fig. 5), learning curves with confidence bands, and
Dodge et al.'s (2019) expected best-of-k curves.

Every function returns the matplotlib Figure (made with pyplot, so notebooks show it);
tests use the Agg backend (MPLBACKEND=Agg).
"""

from __future__ import annotations

from typing import Iterable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .compare import compare, expected_max as expected_max_table, rank_runs, top_count
from .errors import ResultsError
from .importance import DEFAULT_LOG_SCALE

SIGNIFICANT = "tab:blue"


def _group_values(runs: pd.DataFrame, table: pd.DataFrame, metric: str, top_fraction: float,
                  include_timeout: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per cell in table order: (all values, top values), selected exactly as compare()."""
    ranked = rank_runs(runs, metric, include_timeout, "exclude", list(table["cell"]))
    out = []
    for cell in table["cell"]:
        vals = ranked[cell]["value"].to_numpy(float)
        out.append((vals, vals[:top_count(len(vals), top_fraction)]))
    return out


def box_plots(runs: pd.DataFrame, metric: str = "test_metric", baseline: str | None = None,
              top_fraction: float = 0.1, alpha: float = 0.05, include_timeout: bool = False,
              table: pd.DataFrame | None = None, show_params: bool = True,
              sharey: bool = True) -> Figure:
    """Two panels, all trials and the top fraction by validation score, one box per cell in
    the report's order (baseline first). Boxes span the quartiles, whiskers the full range,
    a red dot marks the mean and a red line the median; cells whose Welch test against the
    baseline is significant (raw p < alpha, the paper's rule) are blue and thick-lined.
    Grey bars (right axis) show the mean parameter count, as in the paper's histogram.
    sharey=False gives each panel its own scale (the top runs often span a far narrower
    range than all trials)."""
    if table is None:
        table = compare(runs, metric, baseline, top_fraction, alpha, include_timeout,
                        bootstrap=0)
    groups = _group_values(runs, table, metric, top_fraction, include_timeout)
    cells = list(table["cell"])
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 1.6 * len(cells) + 2), 4.5), sharey=sharey)
    titles = ("all trials", f"top {top_fraction:.0%} by validation")
    for gi, (ax, g) in enumerate(zip(axes, ("all", "top"))):
        data = [v[gi] if len(v[gi]) else [np.nan] for v in groups]
        bp = ax.boxplot(data, whis=(0, 100), showmeans=True, patch_artist=True, widths=0.6,
                        medianprops={"color": "red", "linewidth": 1.5},
                        meanprops={"marker": "o", "markerfacecolor": "red",
                                   "markeredgecolor": "red", "markersize": 4})
        for i, box in enumerate(bp["boxes"]):
            sig = bool(table[f"{g}_significant"].iloc[i])
            color = SIGNIFICANT if sig else "black"
            box.set(facecolor="white", edgecolor=color, linewidth=2.5 if sig else 1.0)
            for part in ("whiskers", "caps"):
                for line in bp[part][2 * i:2 * i + 2]:
                    line.set(color=color, linewidth=2.0 if sig else 1.0)
        ax.set_xticks(range(1, len(cells) + 1))
        ax.set_xticklabels(cells, rotation=45, ha="right")
        ax.set_title(titles[gi])
        if show_params:
            twin = ax.twinx()
            twin.bar(range(1, len(cells) + 1), table[f"{g}_params"].fillna(0), color="0.85",
                     width=0.6, zorder=0)
            twin.set_ylabel("mean parameters" if gi == 1 else "")
            ax.set_zorder(twin.get_zorder() + 1)
            ax.patch.set_visible(False)
    axes[0].set_ylabel(metric if metric != "test_metric" else
                       f"test {runs.attrs.get('metric', 'metric')}")
    fig.suptitle(f"{metric} vs baseline {table.attrs['baseline']} "
                 f"(blue: Welch p < {alpha}, uncorrected)")
    fig.tight_layout()
    return fig


def marginals(runs: pd.DataFrame, metric: str = "test_metric", cell: str | None = None,
              hyperparameters: Iterable[str] | None = None,
              log_scale: Iterable[str] = DEFAULT_LOG_SCALE, bins: int = 8) -> Figure:
    """The metric against each hyperparameter (one panel each): every usable run as a dot,
    and the binned mean with +-1 standard deviation, like Greff's Fig. 4."""
    hp = list(hyperparameters if hyperparameters is not None
              else runs.attrs.get("hyperparameters", []))
    if not hp:
        raise ResultsError("no hyperparameters to plot; pass hyperparameters=[...]")
    sel = runs if cell is None else runs[runs["cell"].astype(str) == cell]
    sel = sel[(sel["status"].astype(str) == "ok") & np.isfinite(sel[metric].astype(float))]
    fig, axes = plt.subplots(1, len(hp), figsize=(3.2 * len(hp), 3.2), sharey=True,
                             squeeze=False)
    for ax, name in zip(axes[0], hp):
        x, y = sel[name], sel[metric].to_numpy(float)
        if pd.api.types.is_numeric_dtype(x):
            xv = x.to_numpy(float)
            log = name in log_scale and len(xv) and np.all(xv > 0)
            ax.scatter(xv, y, s=8, alpha=0.5, color="0.4")
            if len(xv) > 1 and np.ptp(xv) > 0:
                edges = (np.logspace(np.log10(xv.min()), np.log10(xv.max()), bins + 1) if log
                         else np.linspace(xv.min(), xv.max(), bins + 1))
                idx = np.clip(np.digitize(xv, edges) - 1, 0, bins - 1)
                centres = (np.sqrt(edges[:-1] * edges[1:]) if log
                           else 0.5 * (edges[:-1] + edges[1:]))
                m = np.array([y[idx == b].mean() if np.any(idx == b) else np.nan
                              for b in range(bins)])
                s = np.array([y[idx == b].std() if np.sum(idx == b) > 1 else 0.0
                              for b in range(bins)])
                ax.plot(centres, m, color=SIGNIFICANT)
                ax.fill_between(centres, m - s, m + s, color=SIGNIFICANT, alpha=0.2)
            if log:
                ax.set_xscale("log")
        else:
            cats = sorted(set(map(str, x)))
            ax.boxplot([y[x.astype(str).to_numpy() == c] for c in cats], labels=cats)
        ax.set_xlabel(name)
    axes[0][0].set_ylabel(metric)
    fig.suptitle(f"{metric} by hyperparameter ({cell or 'all cells'}, status ok)")
    fig.tight_layout()
    return fig


def importance_chart(table: pd.DataFrame, top: int = 10) -> Figure:
    """Horizontal bars of the fANOVA variance fractions (main effects and interactions),
    with the across-tree standard deviation; the rest of the variance is 'other'."""
    t = table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(t) + 1.5))
    colors = [SIGNIFICANT if k == "main" else "tab:orange" for k in t["kind"]]
    ax.barh(t["term"], t["fraction"], xerr=t["std"], color=colors)
    ax.set_xlabel("fraction of variance")
    explained = float(table["fraction"].sum())
    ax.set_title(f"fANOVA importance: {table.attrs.get('cell') or 'all cells'}\n"
                 f"{table.attrs.get('runs', '?')} runs; terms sum to {explained:.2f}")
    ax.set_xlim(0, 1)
    fig.tight_layout()
    return fig


def learning_curves(curves: pd.DataFrame, runs: pd.DataFrame | None = None,
                    column: str = "valid_loss", cells: Iterable[str] | None = None,
                    status: str = "ok", level: float = 0.95) -> Figure:
    """Mean `column` per epoch for each cell with a `level` confidence band (normal
    approximation, mean +- z * sd / sqrt(n) over the runs still training at that epoch).
    `curves` may already carry a cell column (join_curves); otherwise pass `runs`."""
    from scipy import stats

    if "cell" not in curves.columns:
        if runs is None:
            raise ResultsError("learning_curves needs runs (or curves joined with join_curves)")
        from .io import join_curves
        curves = join_curves(curves, runs, ["cell", "status"])
    if status and "status" in curves.columns:
        curves = curves[curves["status"].astype(str) == status]
    if column not in curves.columns:
        raise ResultsError(f"curves have no column {column!r}")
    cells = list(cells) if cells is not None else sorted(set(map(str, curves["cell"])))
    z = stats.norm.ppf(0.5 + level / 2)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for cell in cells:
        c = curves[curves["cell"].astype(str) == cell]
        g = c.groupby("epoch")[column].agg(["mean", "std", "count"])
        if g.empty:
            continue
        half = z * g["std"].fillna(0) / np.sqrt(g["count"])
        (line,) = ax.plot(g.index, g["mean"], label=f"{cell} ({c['run_id'].nunique()} runs)")
        ax.fill_between(g.index, g["mean"] - half, g["mean"] + half, color=line.get_color(),
                        alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel(column)
    ax.set_title(f"{column}: mean and {level:.0%} confidence band per cell")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def expected_max(runs: pd.DataFrame, metric: str = "test_metric",
                 cells: Iterable[str] | None = None, include_timeout: bool = False,
                 table: pd.DataFrame | None = None, log_k: bool = True) -> Figure:
    """Dodge et al.'s expected validation performance curve: per cell, the expected `metric`
    of the best run by validation among k random trials (k = 1..n), with a band of one
    standard deviation of that best run. Where two cells' curves cross, the better cell
    depends on the budget. `table` is expected_max()'s output if already computed."""
    if table is None:
        table = expected_max_table(runs, metric, cells, include_timeout)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for cell, part in table.groupby("cell", sort=False):
        if cells is not None and cell not in set(cells):
            continue
        k, mean, sd = part["k"], part["mean"], part["std"]
        (line,) = ax.plot(k, mean, label=f"{cell} (n = {len(part)})")
        ax.fill_between(k, mean - sd, mean + sd, color=line.get_color(), alpha=0.15)
    if log_k:
        ax.set_xscale("log")
    ax.set_xlabel("k: trials of random search")
    label = metric if metric != "test_metric" else f"test {runs.attrs.get('metric', 'metric')}"
    ax.set_ylabel(f"expected {label} of the best run")
    ax.set_title(f"expected best-of-k (by {table.attrs.get('ranked_by', 'validation')}), "
                 "band: +-1 std")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def close(fig: Figure) -> None:
    """Frees a figure (tests and scripts that make many)."""
    plt.close(fig)


__all__ = ["box_plots", "marginals", "importance_chart", "learning_curves", "expected_max",
           "close"]
