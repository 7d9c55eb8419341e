"""A cellzoo sweep as an in-memory Optuna study, built with Optuna's public API
(``optuna.create_study``, ``optuna.trial.create_trial``), so Optuna's plots
(``optuna.visualization``) and importance evaluators work on cellzoo results.

One trial per run of the cell, in run_id order: its hyperparameters as params, the metric
as value (direction from the file's ``metric_higher_is_better``), state COMPLETE for usable
runs (status ok, timeout if asked, finite metric) and FAIL otherwise; user_attrs keep
run_id, run_key, trial, seed and status. Distributions span the runs' values: integers ->
IntDistribution, other numbers -> FloatDistribution (log for the ``log_scale`` names when
every value is positive), text -> CategoricalDistribution.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from .errors import ResultsError
from .importance import DEFAULT_LOG_SCALE


def _distribution(optuna: Any, name: str, values: pd.Series, log_scale: set) -> Any:
    dist = optuna.distributions
    if pd.api.types.is_integer_dtype(values):
        v = values.astype("int64")
        lo, hi = int(v.min()), int(v.max())
        return dist.IntDistribution(lo, hi, log=name in log_scale and lo > 0)
    if pd.api.types.is_numeric_dtype(values):
        v = values.astype(float)
        v = v[np.isfinite(v)]
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 0.0)
        return dist.FloatDistribution(lo, hi, log=name in log_scale and lo > 0)
    return dist.CategoricalDistribution(sorted(set(map(str, values))))


def _value(v: Any, distribution: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if type(distribution).__name__ == "CategoricalDistribution":
        return str(v)
    return v


def to_optuna_study(runs: pd.DataFrame, cell: str, metric: str = "test_metric",
                    hyperparameters: Iterable[str] | None = None,
                    log_scale: Iterable[str] | None = DEFAULT_LOG_SCALE,
                    include_timeout: bool = False, study_name: str | None = None) -> Any:
    """An in-memory ``optuna.Study`` with one trial per run of `cell` (see the module
    docstring). Needs optuna >= 3.0 (python3-optuna)."""
    try:
        import optuna
    except ImportError as e:
        raise ImportError(f"to_optuna_study() needs optuna (python3-optuna): {e}") from None
    if metric not in runs.columns or not pd.api.types.is_numeric_dtype(runs[metric]):
        raise ResultsError(f"metric {metric!r} is not a numeric column of the runs")
    cells = sorted(set(map(str, runs["cell"])))
    if cell not in cells:
        raise ResultsError(f"cell {cell!r} has no runs (cells: {', '.join(cells)})")
    hp = list(hyperparameters if hyperparameters is not None
              else runs.attrs.get("hyperparameters", []))
    unknown = [h for h in hp if h not in runs.columns]
    if unknown or not hp:
        raise ResultsError(f"hyperparameters {unknown or hp} are not columns of the runs; "
                           "pass hyperparameters=[...]")
    sel = runs[runs["cell"].astype(str) == cell].sort_values("run_id", kind="stable")
    logs = set(log_scale or ())
    distributions = {h: _distribution(optuna, h, sel[h], logs) for h in hp}
    higher = bool(runs.attrs.get("metric_higher_is_better", False))
    study = optuna.create_study(
        direction="maximize" if higher else "minimize",
        study_name=study_name or f"{runs.attrs.get('spec_hash', 'cellzoo')}-{cell}-{metric}")
    status = sel["status"].astype(str)
    usable = (status.eq("ok") | (include_timeout & status.eq("timeout"))) & np.isfinite(
        sel[metric].astype(float))
    for (_, row), ok in zip(sel.iterrows(), usable):
        params = {h: _value(row[h], distributions[h]) for h in hp}
        trial = optuna.trial.create_trial(
            params=params, distributions=distributions,
            value=float(row[metric]) if ok else None,
            state=optuna.trial.TrialState.COMPLETE if ok else optuna.trial.TrialState.FAIL,
            user_attrs={"run_id": int(row["run_id"]), "run_key": str(row["run_key"]),
                        "trial": int(row["trial"]), "seed": int(row["seed"]),
                        "status": str(row["status"])})
        study.add_trial(trial)
    return study
