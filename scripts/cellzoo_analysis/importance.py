"""Hyperparameter importance by functional ANOVA (Hutter, Hoos & Leyton-Brown 2014), as in
Greff et al.'s Fig. 5: fit a random forest to hyperparameters -> metric, decompose the
variance of its predictions over the search space into main effects and pairwise
interactions, and report each term's fraction of the total variance.

The forest and the marginals come from optuna's fANOVA (optuna.importance._fanova, built
on scikit-learn): `_Fanova.get_importance` gives the main effects. Pairwise terms use the
same fitted trees: a tree's joint marginal over {i, j} has variance V_i + V_j + V_ij, so
V_ij = V_{ij joint} - V_i - V_j (clipped at 0), as in the original fANOVA; fractions are
per tree, averaged over the trees with non-zero variance (optuna's convention).

Encoding: numeric hyperparameters span [min, max] of the runs, on a log10 scale for the
names in `log_scale` (default: lr, learning_rate, hidden, which Greff samples
log-uniformly), so the marginals average over the sampling distribution. Text
hyperparameters become codes 0..k-1, each owning a unit interval. Constant columns get 0.
"""

from __future__ import annotations

import itertools
import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import ResultsError

DEFAULT_LOG_SCALE = ("lr", "learning_rate", "hidden")


def _fanova_class():
    try:
        from optuna.importance._fanova._fanova import _Fanova
    except ImportError as e:  # optuna missing, or a version that moved its internals
        raise ImportError(f"importance() needs optuna >= 3.0 with scikit-learn "
                          f"(optuna.importance._fanova._Fanova): {e}") from None
    return _Fanova


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
        fanova = _fanova_class()(n_trees=n_trees, max_depth=max_depth, min_samples_split=2,
                                 min_samples_leaf=min_samples_leaf, seed=seed)
        encoded = [np.array([i]) for i in range(len(names))]
        fanova.fit(Xd, y, spaces, encoded)
        for i, name in enumerate(names):
            mean, std = fanova.get_importance(i)
            rows.append({"term": name, "kind": "main", "a": name, "b": "", "fraction": mean,
                         "std": std})
        if pairs:
            # Private API of optuna 3.x: the fitted _FanovaTree list and the per-tree main
            # variances filled by get_importance() above.
            trees, main_var = fanova._trees, fanova._variances
            for i, j in itertools.combinations(range(len(names)), 2):
                fr = []
                for k, tree in enumerate(trees):
                    total = tree.variance
                    if total > 0:
                        joint = tree.get_marginal_variance(np.array([i, j]))
                        v = max(0.0, joint - main_var[i][k] - main_var[j][k])
                        fr.append(v / total)
                fr = np.asarray(fr)
                rows.append({"term": f"{names[i]} x {names[j]}", "kind": "interaction",
                             "a": names[i], "b": names[j],
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
    out = fanova_table(sel[hp], sel[metric], pairs=pairs, log_scale=log_scale,
                       n_trees=n_trees, max_depth=max_depth, seed=seed)
    out.attrs = {"cell": cell, "metric": metric, "runs": int(len(sel)),
                 "explained": float(out["fraction"].sum()) if len(out) else math.nan}
    return out
