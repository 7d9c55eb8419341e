"""Hyperparameter importance by functional ANOVA (Hutter, Hoos & Leyton-Brown 2014), as in
Greff et al.'s Fig. 5: fit a random forest to hyperparameters -> metric, decompose the
variance of its predictions over the search space into main effects and pairwise
interactions, and report each term's fraction of the total variance.

The forest is scikit-learn's RandomForestRegressor (public API); the decomposition is our
own, exact for a piecewise-constant tree: each leaf is a box of the search space, so under
the uniform measure a term's marginal is a weighted sum of leaf values over the grid the
tree's split points make on that term's dimensions. V_i is the variance of the marginal over
{i}; a pair's joint marginal over {i, j} has variance V_i + V_j + V_ij, so V_ij = V_{ij joint}
- V_i - V_j (clipped at 0). Fractions are per tree (V_term / the tree's total variance),
averaged over the trees with non-zero variance; std is over those trees. (This is the
convention of optuna's fANOVA evaluator, whose private classes cellzoo used before.)

Encoding: numeric hyperparameters span [min, max] of the runs, on a log10 scale for the
names in `log_scale` (default: lr, learning_rate, hidden, which Greff samples
log-uniformly), so the marginals average over the sampling distribution. Text
hyperparameters become codes 0..k-1, each owning a unit interval. Constant columns get 0.

Few runs make the forest, and so the fractions, depend on the forest's seed:
``importance`` warns (``ImportanceWarning``) below ``stable_runs(k)`` = max(30, 10 k) usable
runs for k varying hyperparameters, and records ``attrs["stable"]``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import ResultsError

DEFAULT_LOG_SCALE = ("lr", "learning_rate", "hidden")


class ImportanceWarning(UserWarning):
    """Too few runs for a stable fANOVA estimate."""


def stable_runs(n_hyperparameters: int) -> int:
    """The runs below which importance() warns: 10 per varying hyperparameter, at least 30."""
    return max(30, 10 * int(n_hyperparameters))


def _forest(n_trees: int, max_depth: int, min_samples_leaf: int, seed: int):
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError as e:
        raise ImportError(f"importance() needs scikit-learn (python3-sklearn): {e}") from None
    return RandomForestRegressor(n_estimators=n_trees, max_depth=max_depth, min_samples_split=2,
                                 min_samples_leaf=min_samples_leaf, random_state=seed)


def _leaf_boxes(tree, spaces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, value) of every leaf of a fitted sklearn tree: the leaf's box, clipped to
    the space, as (leaves x dims) arrays, and its prediction."""
    t = tree.tree_
    los, his, values = [], [], []
    stack = [(0, spaces[:, 0].copy(), spaces[:, 1].copy())]
    while stack:
        node, lo, hi = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == right:  # a leaf
            los.append(lo)
            his.append(hi)
            values.append(float(t.value[node].ravel()[0]))
            continue
        d, cut = t.feature[node], t.threshold[node]
        lo_r, hi_l = lo.copy(), hi.copy()
        hi_l[d] = min(hi[d], cut)  # x <= cut goes left
        lo_r[d] = max(lo[d], cut)
        stack.append((left, lo, hi_l))
        stack.append((right, lo_r, hi))
    return np.array(los), np.array(his), np.array(values)


def _marginal_variance(lo: np.ndarray, hi: np.ndarray, value: np.ndarray, spaces: np.ndarray,
                       dims: tuple[int, ...], mean: float) -> float:
    """Variance, over the uniform measure on the dims in `dims`, of the tree's prediction
    averaged over the other dims."""
    width = spaces[:, 1] - spaces[:, 0]
    frac = np.clip((hi - lo) / width, 0.0, 1.0)  # leaves x dims
    others = [d for d in range(spaces.shape[0]) if d not in dims]
    weight = value * (np.prod(frac[:, others], axis=1) if others else 1.0)
    # The grid the leaves' edges make on `dims`: each cell lies inside or outside a leaf.
    cells_in, cell_w = [], []
    for d in dims:
        edges = np.unique(np.concatenate([[spaces[d, 0], spaces[d, 1]], lo[:, d], hi[:, d]]))
        edges = edges[(edges >= spaces[d, 0]) & (edges <= spaces[d, 1])]
        mid = (edges[:-1] + edges[1:]) / 2
        cells_in.append((lo[:, d][:, None] <= mid[None, :]) & (mid[None, :] < hi[:, d][:, None]))
        cell_w.append(np.diff(edges) / width[d])
    if len(dims) == 1:
        marginal = weight @ cells_in[0]
        w = cell_w[0]
    else:
        a, b = cells_in
        marginal = np.einsum("l,li,lj->ij", weight, a.astype(float), b.astype(float))
        w = np.outer(cell_w[0], cell_w[1])
    return float(np.sum(w * (marginal - mean) ** 2))


def _tree_terms(tree, spaces: np.ndarray, terms: list[tuple[int, ...]]) -> tuple[float, dict]:
    """The tree's total variance and each term's variance (mains first, then pairs)."""
    lo, hi, value = _leaf_boxes(tree, spaces)
    vol = np.prod(np.clip((hi - lo) / (spaces[:, 1] - spaces[:, 0]), 0.0, 1.0), axis=1)
    mean = float(np.sum(vol * value))
    total = float(np.sum(vol * (value - mean) ** 2))
    out: dict = {}
    for term in terms:
        v = _marginal_variance(lo, hi, value, spaces, term, mean)
        if len(term) == 2:
            v = max(0.0, v - out[(term[0],)] - out[(term[1],)])
        out[term] = v
    return total, out


def _design(X: pd.DataFrame, log_scale) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    cols, spaces, names, constant = [], [], [], []
    for name in X.columns:
        s = X[name]
        if pd.api.types.is_numeric_dtype(s):
            v = s.to_numpy(float)
            if name in log_scale and np.all(v > 0):
                v = np.log10(v)
            lo, hi = float(np.min(v)), float(np.max(v))
        else:
            codes, uniques = pd.factorize(s.astype(str), sort=True)
            v = codes.astype(float)
            lo, hi = -0.5, len(uniques) - 0.5
            if len(uniques) < 2:
                hi = lo
        if not hi > lo:
            constant.append(name)
            continue
        cols.append(v)
        spaces.append((lo, hi))
        names.append(name)
    return np.column_stack(cols) if cols else np.empty((len(X), 0)), np.array(spaces), names, \
        constant


def fanova_table(X: pd.DataFrame, y: Sequence[float] | np.ndarray | pd.Series,
                 pairs: bool = True, log_scale: Iterable[str] | None = DEFAULT_LOG_SCALE,
                 n_trees: int = 32, max_depth: int = 12, min_samples_leaf: int = 2,
                 seed: int = 0) -> pd.DataFrame:
    """fANOVA of y over the columns of X (one row per run). Returns one row per term:
    term ("lr" or "hidden x lr"), kind ("main"/"interaction"), a, b (the hyperparameters),
    fraction (mean over trees of the term's share of the variance) and std (over trees);
    sorted by fraction, largest first."""
    y = np.asarray(y, float)
    if len(y) != len(X):
        raise ValueError("X and y differ in length")
    Xd, spaces, names, constant = _design(X, set(log_scale or ()))
    rows = [{"term": c, "kind": "main", "a": c, "b": "", "fraction": 0.0, "std": 0.0}
            for c in constant]
    if names and len(y) >= 2 and np.ptp(y) > 0:
        forest = _forest(n_trees, max_depth, min_samples_leaf, seed).fit(Xd, y)
        terms: list[tuple[int, ...]] = [(i,) for i in range(len(names))]
        if pairs:
            terms += list(itertools.combinations(range(len(names)), 2))
        fractions: dict = {t: [] for t in terms}
        for tree in forest.estimators_:
            total, parts = _tree_terms(tree, spaces, terms)
            if total > 0:
                for t in terms:
                    fractions[t].append(parts[t] / total)
        for t in terms:
            fr = np.asarray(fractions[t])
            a, b = names[t[0]], (names[t[1]] if len(t) == 2 else "")
            rows.append({"term": f"{a} x {b}" if b else a,
                         "kind": "interaction" if b else "main", "a": a, "b": b,
                         "fraction": float(fr.mean()) if fr.size else 0.0,
                         "std": float(fr.std()) if fr.size else 0.0})
    else:
        rows += [{"term": n, "kind": "main", "a": n, "b": "", "fraction": 0.0, "std": 0.0}
                 for n in names]
    out = pd.DataFrame(rows, columns=["term", "kind", "a", "b", "fraction", "std"])
    return out.sort_values("fraction", ascending=False, kind="stable").reset_index(drop=True)


def importance(df: pd.DataFrame, cell: str | None = None, metric: str = "test_metric",
               hyperparameters: Iterable[str] | None = None, pairs: bool = True,
               log_scale: Iterable[str] | None = DEFAULT_LOG_SCALE,
               n_trees: int = 32, max_depth: int = 12, seed: int = 0,
               include_timeout: bool = False) -> pd.DataFrame:
    """Hyperparameter importance of `metric` for one cell's usable runs (status ok, and
    timeout if asked, with a finite metric), or for all cells pooled when cell is None.
    Hyperparameters default to the file's (df.attrs["hyperparameters"]). See fanova_table
    for the columns; ``result.attrs`` records cell, metric and the number of runs."""
    if metric not in df.columns or not pd.api.types.is_numeric_dtype(df[metric]):
        raise ResultsError(f"metric {metric!r} is not a numeric column of the runs")
    hp = list(hyperparameters if hyperparameters is not None
              else df.attrs.get("hyperparameters", []))
    unknown = [h for h in hp if h not in df.columns]
    if unknown or not hp:
        raise ResultsError(f"hyperparameters {unknown or hp} are not columns of the runs; "
                           "pass hyperparameters=[...]")
    sel = df
    if cell is not None:
        if cell not in set(map(str, df["cell"])):
            raise ResultsError(f"cell {cell!r} has no runs (cells: "
                               f"{', '.join(sorted(set(map(str, df['cell']))))})")
        sel = df[df["cell"].astype(str) == cell]
    status = sel["status"].astype(str)
    ok = (status.eq("ok") | (include_timeout & status.eq("timeout"))) & np.isfinite(
        sel[metric].astype(float))
    sel = sel[ok]
    if len(sel) < 3:
        raise ResultsError(f"only {len(sel)} usable runs for {cell or 'all cells'}; "
                           "fANOVA needs more")
    varying = sum(1 for h in hp if sel[h].nunique(dropna=False) > 1)
    needed = stable_runs(varying)
    if len(sel) < needed:
        warnings.warn(f"importance of {varying} hyperparameters from {len(sel)} runs of "
                      f"{cell or 'all cells'} is unstable (the fractions move with the forest's "
                      f"seed); {needed} or more runs give a stable estimate", ImportanceWarning,
                      stacklevel=2)
    out = fanova_table(sel[hp], sel[metric], pairs=pairs, log_scale=log_scale,
                       n_trees=n_trees, max_depth=max_depth, seed=seed)
    out.attrs = {"cell": cell, "metric": metric, "runs": int(len(sel)),
                 "explained": float(out["fraction"].sum()) if len(out) else math.nan,
                 "stable": bool(len(sel) >= needed)}
    return out
