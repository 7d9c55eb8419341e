"""Loading cellzoo results files (docs/results-format.md) into pandas DataFrames."""

from __future__ import annotations

import os
import time
from typing import Any, Iterable, Union

import h5py
import numpy as np
import pandas as pd

from .errors import ResultsError

SCHEMA = "cellzoo-results"
SCHEMA_VERSION = 1
PathLike = Union[str, os.PathLike]

# Columns every /runs table has (besides the hyperparameter columns).
RUN_COLUMNS = [
    "run_id", "run_key", "cell", "task", "trial", "seed", "status", "error",
    "train_loss", "valid_loss", "test_loss", "valid_metric", "test_metric",
    "best_epoch", "epochs", "wall_seconds", "n_params",
]
# The papers' accuracies (docs/results-format.md), added to /runs in 2026-12: files written
# before have none, and load_runs gives them as NaN so every frame has the same columns.
ACCURACY_COLUMNS = ["valid_accuracy", "test_accuracy", "valid_sequence_accuracy",
                    "test_sequence_accuracy"]
CURVE_COLUMNS = ["run_id", "epoch", "train_loss", "valid_loss", "valid_metric",
                 "learning_rate", "seconds"]


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _decode(value[()])
    if isinstance(value, np.generic):
        return value.item()
    return value


def _table(f: h5py.File, name: str, path: str) -> pd.DataFrame:
    if name not in f or not isinstance(f[name], h5py.Dataset) or f[name].dtype.names is None:
        raise ResultsError(f"{path!s} is not a cellzoo results file: it has no /{name} table "
                           "(schema in docs/results-format.md)")
    ds = f[name]
    df = pd.DataFrame(ds[:]) if ds.shape[0] else pd.DataFrame(
        {n: pd.Series(dtype=ds.dtype[n]) for n in ds.dtype.names})
    for col in ds.dtype.names:
        if h5py.check_string_dtype(ds.dtype[col]) is not None or ds.dtype[col].kind == "S":
            df[col] = df[col].map(_decode).astype(object)
    return df


def _read(path: PathLike, read, attempts: int = 10):
    """``(read(f), while_written)`` for the open file ``f``, also while a sweep is writing it.

    A running sweep holds HDF5's file lock; then the file is opened without it (read-only,
    the writer is not disturbed) and a read that meets the writer inside its per-run flush
    is retried, 0.2 s apart, like ``cellzoo report`` does (store::read_snapshot).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ResultsError(f"results file {path} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        if "unable to lock file" not in str(e):
            raise ResultsError(f"{path} is not a readable HDF5 file ({e}); is it a cellzoo "
                               "results file?") from None
    else:
        with f:
            return read(f), False
    last = None
    for _ in range(attempts):
        try:
            with h5py.File(path, "r", locking=False) as f:
                return read(f), True
        except ResultsError:
            raise
        except (OSError, KeyError, ValueError, RuntimeError) as e:
            last = e
            time.sleep(0.2)
    raise ResultsError(f"{path} could not be read while a sweep is writing it ({last}); "
                       "try again, or wait until the sweep finishes")


def read_meta(f: h5py.File, path: str) -> dict:
    """The root attributes of an open results file, decoded; checks schema and version."""
    meta = {k: _decode(v) for k, v in f.attrs.items()}
    if meta.get("schema") != SCHEMA:
        raise ResultsError(f"{path} is not a cellzoo results file (its root attribute 'schema' "
                           f"is {meta.get('schema')!r}, not {SCHEMA!r})")
    version = meta.get("schema_version")
    if not isinstance(version, (int, np.integer)) or not 1 <= version <= SCHEMA_VERSION:
        raise ResultsError(f"{path} has results schema version {version!r}; this "
                           f"cellzoo_analysis reads version {SCHEMA_VERSION}")
    meta["metric_higher_is_better"] = bool(meta.get("metric_higher_is_better", 0))
    hp = meta.get("hyperparameters", "")
    meta["hyperparameters"] = [h for h in hp.split(",") if h] if isinstance(hp, str) else []
    return meta


def _paths(path_or_paths) -> list[str]:
    if isinstance(path_or_paths, (str, os.PathLike)):
        return [os.fspath(path_or_paths)]
    paths = [os.fspath(p) for p in path_or_paths]
    if not paths:
        raise ResultsError("no results files given")
    return paths


def _integer_hyperparameters(df: pd.DataFrame, names: list) -> None:
    """Numeric hyperparameter columns (stored as float64) whose values are all whole numbers
    (hidden, batch_size, max_epochs, ...) become int64; a column with a missing (NaN) value
    stays float."""
    for name in names:
        if name not in df.columns or not pd.api.types.is_float_dtype(df[name]):
            continue
        v = df[name].to_numpy()
        if len(v) and np.all(np.isfinite(v)) and np.all(v == np.round(v)) and \
                np.all(np.abs(v) < 2.0**53):
            df[name] = v.astype(np.int64)


def load_runs(path: Union[PathLike, Iterable[PathLike]]) -> pd.DataFrame:
    """One row per run of one results file, or of several (shards of one sweep), in
    run_id order.

    Strings are decoded, `cell` and `status` are categorical, numeric hyperparameters whose
    values are all whole numbers (hidden, batch_size, ...) are int64, and ``df.attrs`` holds the
    file's root attributes plus: ``files`` (the paths read), ``rows`` (runs loaded),
    ``missing_runs`` (``total_runs`` - rows, never negative), ``hyperparameters`` (a
    list) and ``while_written`` (True when a running sweep had the file open: the rows are
    the runs it had recorded). Several files must come from the same spec (equal
    ``spec_hash``); a run present in more than one of them (same ``run_key``) is kept once.
    """
    frames, metas = [], []
    for p in _paths(path):
        (meta, df), live = _read(p, lambda f: (read_meta(f, p), _table(f, "runs", p)))
        meta["while_written"] = live
        missing = [c for c in RUN_COLUMNS if c not in df.columns]
        if missing:
            raise ResultsError(f"{p} is not a cellzoo results file: /runs lacks {missing}")
        for c in ACCURACY_COLUMNS:
            if c not in df.columns:
                df[c] = np.nan
        frames.append(df)
        metas.append(meta)
    meta = dict(metas[0])
    meta["while_written"] = any(m["while_written"] for m in metas)
    hashes = {m.get("spec_hash") for m in metas}
    if len(hashes) > 1:
        raise ResultsError(f"the files come from different sweeps (spec_hash {sorted(hashes)}); "
                           "load and compare them separately")
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) > 1:
        df = df.drop_duplicates("run_key", keep="first")
        meta["shard"] = ""
    # Rows are stored in the order runs finished (workers finish out of order): give them
    # in run_id order. Space reserved by a killed writer but never filled has an empty
    # run_key.
    df = df[df["run_key"].astype(str) != ""].sort_values("run_id", kind="stable")
    df = df.reset_index(drop=True)
    _integer_hyperparameters(df, meta["hyperparameters"])
    df["cell"] = pd.Categorical(df["cell"], categories=sorted(df["cell"].unique()))
    df["status"] = pd.Categorical(df["status"], categories=["ok", "diverged", "failed", "timeout"])
    meta["files"] = _paths(path)
    meta["rows"] = int(len(df))
    meta["missing_runs"] = max(0, int(meta.get("total_runs", 0)) - len(df))
    df.attrs = meta
    return df


def load_curves(path: Union[PathLike, Iterable[PathLike]], as_xarray: bool = False) -> Any:
    """The learning curves, tidy: one row per (run_id, epoch) with the metric columns.

    ``as_xarray=True`` returns an ``xarray.DataArray`` with dims (run_id, epoch, metric)
    instead (NaN where a run has no such epoch: runs stop early); needs xarray (Debian's
    python3-xarray).
    """
    frames = []
    for p in _paths(path):
        def curves(f, p=p):
            read_meta(f, p)  # refuses files that are not cellzoo results
            return _table(f, "curves", p)
        frames.append(_read(p, curves)[0])
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    df = df.drop_duplicates(["run_id", "epoch"]).sort_values(["run_id", "epoch"], kind="stable")
    df = df.reset_index(drop=True)
    if not as_xarray:
        return df
    try:
        import xarray as xr
    except ImportError as e:
        raise ImportError(f"load_curves(as_xarray=True) needs xarray (apt-get install "
                          f"python3-xarray): {e}") from None
    metrics = [c for c in df.columns if c not in ("run_id", "epoch")]
    runs = np.sort(df["run_id"].unique())
    epochs = np.sort(df["epoch"].unique())
    data = np.full((len(runs), len(epochs), len(metrics)), np.nan)
    r = np.searchsorted(runs, df["run_id"].to_numpy())
    e = np.searchsorted(epochs, df["epoch"].to_numpy())
    for k, m in enumerate(metrics):
        data[r, e, k] = df[m].to_numpy(float)
    return xr.DataArray(data, dims=("run_id", "epoch", "metric"),
                        coords={"run_id": runs, "epoch": epochs, "metric": metrics},
                        name="curves", attrs={"files": ", ".join(_paths(path))})


def load_provenance(path: PathLike) -> pd.DataFrame:
    """One row per session of /provenance (docs/results-format.md): the process that
    computed some of the file's runs, with its facts (role, host, cpu_model,
    numerical_path, git_commit, slurm_job_id, started_utc, ...) as columns and ``run_ids``
    (a numpy array). Runs no session lists (files written before cellzoo recorded sessions)
    form a last row of role "unrecorded"."""
    p = os.fspath(path)

    def sessions(f):
        meta = read_meta(f, p)
        rows = []
        group = f.get("provenance")
        i = 0
        while group is not None and str(i) in group:
            g = group[str(i)]
            row = {k: _decode(v) for k, v in g.attrs.items()}
            row["run_ids"] = g["run_ids"][:] if "run_ids" in g else np.zeros(0, np.int64)
            rows.append(row)
            i += 1
        listed = set()
        for row in rows:
            listed.update(int(x) for x in row["run_ids"])
        ids = _table(f, "runs", p)["run_id"].to_numpy()
        rest = np.array([x for x in ids if int(x) not in listed], dtype=np.int64)
        if len(rest):
            rows.append({"role": "unrecorded", "host": meta.get("host", ""),
                         "git_commit": meta.get("git_commit", ""),
                         "numerical_path": meta.get("numerical_path", ""), "run_ids": rest})
        return rows

    rows = _read(p, sessions)[0]
    df = pd.DataFrame(rows)
    if "numerical_path" in df.columns:
        df["numerical_path"] = df["numerical_path"].fillna("")
    df.attrs = {"file": p, "numerical_paths": int(df.loc[df["run_ids"].map(len) > 0,
                                                         "numerical_path"].nunique())
                if len(df) else 0}
    return df


def join_curves(curves: pd.DataFrame, runs: pd.DataFrame,
                columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The curves with run columns attached (by run_id): by default cell, status, trial and
    the hyperparameters, so that curves can be grouped by cell or coloured by learning rate."""
    if columns is None:
        columns = ["cell", "status", "trial"] + list(runs.attrs.get("hyperparameters", []))
    columns = [c for c in columns if c in runs.columns and c not in curves.columns]
    return curves.merge(runs[["run_id"] + columns], on="run_id", how="inner", validate="m:1")


def params_dir(path: PathLike) -> str:
    """The directory of a results file's saved parameters (``cellzoo sweep --save-params``):
    X.h5 -> X.params."""
    p = os.fspath(path)
    return (p[:-3] if p.endswith(".h5") else p) + ".params"


def load_params(path: PathLike, run: Union[int, str]) -> dict:
    """The saved best-validation parameters of one run of a results file (``cellzoo sweep
    --save-params``; docs/parameters.md), by run_id (int) or run_key (str): a dict
    {"cell/W": array, "readout/W": array, ...} of float32 matrices in their mathematical
    shape, plus ``"attrs"``: the file's attributes (cell, input_size, hidden_size, settings,
    best_epoch, ...). Raises ResultsError when the run has no saved parameters."""
    key = run
    if not isinstance(run, str):
        runs = load_runs(path)
        match = runs.loc[runs["run_id"] == int(run), "run_key"]
        if match.empty:
            raise ResultsError(f"{os.fspath(path)} has no run {run}")
        key = str(match.iloc[0])
    file = os.path.join(params_dir(path), f"{key}.params.h5")
    if not os.path.exists(file):
        raise ResultsError(f"run {run} of {os.fspath(path)} has no saved parameters ({file} "
                           "missing): sweep with --save-params all (every run) or best (each "
                           "cell's best run)")
    out: dict = {}
    with h5py.File(file, "r") as f:
        root = f["parameters"]
        out["attrs"] = {k: _decode(v) for k, v in root.attrs.items()}
        for group in root:
            for tensor in root[group]:
                out[f"{group}/{tensor}"] = root[group][tensor][:]
    return out
