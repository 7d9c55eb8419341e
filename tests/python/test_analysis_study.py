"""cellzoo_analysis for notebooks: load_runs in run_id order with integer hyperparameters
as integers, load_curves as an xarray.DataArray, to_optuna_study (Optuna's public API) and
importance() on scikit-learn's forest, which agrees with Optuna's public fANOVA evaluator
on the same study and warns when there are too few runs."""
import os
import sys
import tempfile
import warnings
from functools import partial

try:
    import h5py
    import numpy as np
    import optuna
    import sklearn  # noqa: F401
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import h5py/optuna/scikit-learn ({e}); install "
          "python3-h5py python3-optuna python3-sklearn", file=sys.stderr)
    sys.exit(77)

from cellzoo_analysis import (ImportanceWarning, importance, load_curves,  # noqa: E402
                              load_runs, to_optuna_study)
from cellzoo_analysis.importance import fanova_table  # noqa: E402
from cellzoo_analysis.synthetic import write_synthetic_results  # noqa: E402
from skipping import run_tests, skip  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def shuffled_copy(src, dst, seed=0):
    """The file with its /runs rows in a random order (as parallel workers finish)."""
    with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
        for k, v in a.attrs.items():
            b.attrs[k] = v
        for name in a:
            a.copy(name, b)
        rows = a["runs"][:]
        np.random.default_rng(seed).shuffle(rows)
        b["runs"][...] = rows


def test_load_runs_order_and_types(d):
    path = write_synthetic_results(os.path.join(d, "a.h5"), trials=10, seed=1)
    shuffled = os.path.join(d, "shuffled.h5")
    shuffled_copy(path, shuffled)
    with h5py.File(shuffled, "r") as f:
        stored = f["runs"]["run_id"][:]
    assert list(stored) != sorted(stored), "the copy is not shuffled"
    runs = load_runs(shuffled)
    assert list(runs["run_id"]) == sorted(stored)
    assert runs["hidden"].dtype == np.int64, runs.dtypes
    assert runs["lr"].dtype == np.float64
    original = load_runs(path)
    assert runs.drop(columns=[]).equals(original), "order or values differ from the original"
    print("ok: load_runs: run_id order, hidden int64, lr float64")


def test_xarray(d):
    try:
        import xarray  # noqa: F401
    except ImportError:
        skip("xarray missing (apt-get install python3-xarray); as_xarray not tested")
    path = write_synthetic_results(os.path.join(d, "x.h5"), trials=4, seed=2, epochs=5)
    tidy = load_curves(path)
    arr = load_curves(path, as_xarray=True)
    assert arr.dims == ("run_id", "epoch", "metric")
    metrics = [c for c in tidy.columns if c not in ("run_id", "epoch")]
    assert list(arr.coords["metric"].values) == metrics
    assert arr.sizes["run_id"] == tidy["run_id"].nunique()
    row = tidy.iloc[7]
    got = float(arr.sel(run_id=row["run_id"], epoch=row["epoch"], metric="valid_loss"))
    assert got == row["valid_loss"] or (np.isnan(got) and np.isnan(row["valid_loss"]))
    # Runs that stopped early have NaN after their last epoch.
    counts = tidy.groupby("run_id")["epoch"].count()
    short = counts.idxmin()
    assert int(np.isnan(arr.sel(run_id=short, metric="train_loss")).sum()) == \
        arr.sizes["epoch"] - counts.min()
    print(f"ok: load_curves(as_xarray=True) {dict(arr.sizes)}")


def test_optuna_study(d):
    path = write_synthetic_results(os.path.join(d, "s.h5"), trials=60, seed=3)
    runs = load_runs(path)
    study = to_optuna_study(runs, "lstm")
    lstm = runs[runs.cell == "lstm"]
    usable = lstm[(lstm.status == "ok") & np.isfinite(lstm.test_metric)]
    assert len(study.trials) == len(lstm)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == len(usable)
    assert study.direction == optuna.study.StudyDirection.MINIMIZE  # nll_per_step
    assert study.best_value == usable.test_metric.min()
    best = study.best_trial
    row = runs[runs.run_id == best.user_attrs["run_id"]].iloc[0]
    assert best.params["hidden"] == row["hidden"] and isinstance(best.params["hidden"], int)
    assert best.params["lr"] == row["lr"]
    assert [t.user_attrs["run_id"] for t in study.trials] == sorted(lstm.run_id)
    try:
        to_optuna_study(runs, "nope")
        raise AssertionError("an unknown cell was accepted")
    except Exception as e:  # ResultsError
        assert "nope" in str(e)

    # importance() agrees with Optuna's public fANOVA evaluator on the same runs (Optuna fits
    # without log scale, min_samples_leaf 1, columns in name order, bounds from the trials).
    hp = ["input_noise", "lr", "momentum"]
    sel = usable.copy()
    sel.attrs = runs.attrs
    evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=16, max_depth=8, seed=0)
    theirs = optuna.importance.get_param_importances(
        to_optuna_study(sel, "lstm", hyperparameters=hp, log_scale=()), evaluator=evaluator,
        params=hp)
    ours = fanova_table(sel[hp], sel.test_metric, pairs=False, log_scale=(), n_trees=16,
                        max_depth=8, min_samples_leaf=1, seed=0).set_index("term")["fraction"]
    for h in hp:
        assert abs(theirs[h] - ours[h] / ours.sum()) < 1e-9, (h, theirs[h], ours[h] / ours.sum())
    print("ok: to_optuna_study; importance == optuna's FanovaImportanceEvaluator:",
          {h: round(theirs[h], 3) for h in hp})


def test_importance_warns(d):
    path = write_synthetic_results(os.path.join(d, "w.h5"), trials=8, seed=4)
    runs = load_runs(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = importance(runs, "lstm", n_trees=8, max_depth=6)
    assert any(issubclass(w.category, ImportanceWarning) for w in caught), caught
    assert "unstable" in str(caught[0].message) and t.attrs["stable"] is False
    big = load_runs(write_synthetic_results(os.path.join(d, "big.h5"), trials=60, seed=5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImportanceWarning)
        t = importance(big, None, n_trees=8, max_depth=6, pairs=False)  # pooled: many runs
    assert t.attrs["stable"] is True
    print("ok: importance warns below the stable run count and records attrs['stable']")


def main():
    with tempfile.TemporaryDirectory(prefix="cellzoo_study_") as d:
        run_tests(partial(test_load_runs_order_and_types, d), partial(test_xarray, d),
                  partial(test_optuna_study, d), partial(test_importance_warns, d))


if __name__ == "__main__":
    main()
