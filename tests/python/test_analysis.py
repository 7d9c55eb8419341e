"""scripts/cellzoo_analysis: loading, the comparison table (and its agreement with
`cellzoo report --format json` to 1e-9), bad input, and the plots, on synthetic results
files with known effects (cellzoo_analysis.synthetic)."""
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings
from functools import partial

try:
    import h5py
    import matplotlib
    import numpy as np
    import pandas as pd
    import scipy  # noqa: F401
    import statsmodels  # noqa: F401
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import the analysis stack ({e}); configure with "
          "-DCELLZOO_PYTHON=/path/to/python3 (Debian: python3-h5py python3-pandas python3-scipy "
          "python3-statsmodels python3-matplotlib)", file=sys.stderr)
    sys.exit(77)

matplotlib.use("Agg")

from cellzoo_analysis import (ResultsError, compare, join_curves, load_curves,  # noqa: E402
                              load_runs, plots)
from cellzoo_analysis.synthetic import write_synthetic_results  # noqa: E402
from skipping import run_tests, skip  # noqa: E402

EXE = os.environ.get("CELLZOO_EXE", "")


def report_json(path, *args):
    r = subprocess.run([EXE, "report", path, "--format", "json", *args], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"cellzoo report failed ({r.returncode}): {r.stderr}"
    return json.loads(r.stdout), r.stderr


def same_number(mine, v, key):
    """JSON null is NaN or an infinity in Python; numbers agree to 1e-9 (p-values and
    probabilities absolutely, the rest relatively)."""
    if v is None:
        return mine is None or (isinstance(mine, float) and not math.isfinite(mine))
    tol = 1e-9 if key.endswith(("p", "p_holm", "p_holm_family", "p_improve", "_ci")) else \
        1e-9 * max(1.0, abs(v))
    return abs(float(mine) - v) <= tol


def assert_same_table(table, rep, what):
    assert [c["cell"] for c in rep["cells"]] == list(table["cell"]), (what, rep["cells"])
    for i, cell in enumerate(rep["cells"]):
        for key, v in cell.items():
            mine = table[key].iloc[i]
            where = (what, cell["cell"], key, v, mine)
            if isinstance(v, (bool, str)):
                assert v == mine, where
            elif isinstance(v, list):  # an interval
                assert len(mine) == 2 and all(same_number(m, x, key) for m, x in zip(mine, v)), \
                    where
            elif isinstance(v, dict):  # expected_max
                assert v["k"] == list(mine["k"]), where
                for part in ("mean", "std"):
                    assert all(same_number(m, x, part) for m, x in zip(mine[part], v[part])), \
                        (what, cell["cell"], part)
            else:
                assert same_number(mine, v, key), where
    for key in ("baseline", "metric", "ranked_by", "total_runs", "rows", "missing_runs",
                "diverged", "bootstrap", "bootstrap_seed", "trials", "family_tests",
                "tests_note"):
        assert rep[key] == table.attrs[key], (what, key, rep[key], table.attrs[key])


def test_load(d):
    full = write_synthetic_results(os.path.join(d, "full.h5"), trials=20, seed=3)
    runs = load_runs(full)
    assert len(runs) == 100 and runs.attrs["missing_runs"] == 0
    assert runs["cell"].dtype.name == "category"
    assert set(runs["cell"]) == {"lstm", "lstm-cifg", "gru", "lstm-nfg", "rnn"}
    assert runs.loc[0, "status"] == "ok" and isinstance(runs.loc[0, "run_key"], str)
    assert runs.attrs["hyperparameters"] == ["hidden", "lr", "momentum", "input_noise"]
    assert runs.attrs["metric"] == "nll_per_step" and runs.attrs["metric_higher_is_better"] is False
    # Paired trials: the same trial index has the same hyperparameters in every cell.
    assert (runs.groupby("trial")["lr"].nunique() == 1).all()

    shards = [write_synthetic_results(os.path.join(d, f"s{k}.h5"), trials=20, seed=3,
                                      shard=(k, 2)) for k in range(2)]
    one = load_runs(shards[0])
    assert len(one) == 50 and one.attrs["missing_runs"] == 50 and one.attrs["shard"] == "0/2"
    both = load_runs(shards)
    assert len(both) == 100 and both.attrs["missing_runs"] == 0
    pd.testing.assert_frame_equal(both, runs, check_categorical=False)
    other = write_synthetic_results(os.path.join(d, "other.h5"), trials=20, seed=4)
    try:
        load_runs([full, other])
        raise AssertionError("files of different sweeps were merged")
    except ResultsError as e:
        assert "different sweeps" in str(e)

    curves = load_curves(full)
    assert list(curves.columns[:2]) == ["run_id", "epoch"]
    assert curves.groupby("run_id")["epoch"].min().eq(1).all()
    ok_ids = set(runs.loc[runs["status"].astype(str).isin(["ok", "timeout"]), "run_id"])
    assert set(curves["run_id"]) == ok_ids
    joined = join_curves(curves, runs)
    assert len(joined) == len(curves) and {"cell", "lr", "status"} <= set(joined.columns)
    print("ok: load_runs / load_curves / join_curves, shards merged, foreign sweep refused")


def test_compare(d):
    path = write_synthetic_results(os.path.join(d, "cmp.h5"), trials=40, seed=1, missing=3)
    runs = load_runs(path)
    t = compare(runs)
    assert t.attrs["missing_runs"] == 3 and t.attrs["baseline"] == "lstm"
    assert t["cell"].iloc[0] == "lstm" and t["baseline"].iloc[0]
    means = t["top_mean"].iloc[1:].to_numpy()
    assert (np.diff(means) >= 0).all(), "not sorted by top-fraction mean, best first"
    row = t.set_index("cell")
    # Known truth: nfg (+0.25) and rnn (+0.4) are worse, cifg (0) is not, gru (-0.05)
    # is better on average.
    for cell in ("lstm-nfg", "rnn"):
        assert row.loc[cell, "all_significant"] and row.loc[cell, "all_significant_holm"]
        assert row.loc[cell, "all_direction"] == "worse"
    assert not row.loc["lstm-cifg", "all_significant_holm"]
    assert row.loc["gru", "all_mean"] < row.loc["lstm", "all_mean"]
    # Counts: trial 1 failed, trial 2 timed out, u_lr > 0.95 diverged; 3 rnn runs missing.
    assert row.loc["lstm", "failed"] == 1 and row.loc["lstm", "timeout"] == 1
    assert row.loc["rnn", "runs"] == 37
    used = row.loc["lstm", "used"]
    assert row.loc["lstm", "top_n"] == math.ceil(0.1 * used)
    assert row.loc["lstm", "used"] == row.loc["lstm", "ok"]
    assert compare(runs, include_timeout=True).set_index("cell").loc["lstm", "used"] == used + 1
    # Top fraction by validation: the selected runs have the best valid_metric.
    ok = runs[(runs["cell"] == "gru") & (runs["status"] == "ok")]
    best = ok.nsmallest(row.loc["gru", "top_n"], "valid_metric")["test_metric"]
    assert abs(best.mean() - row.loc["gru", "top_mean"]) < 1e-12
    print("ok: compare finds the planted effects; order, counts and top selection")


def test_against_cli(d):
    if not EXE or not os.path.exists(EXE):
        skip(f"CELLZOO_EXE ({EXE!r}) is not built; the C++ comparison needs it (run through ctest)")
    path = write_synthetic_results(os.path.join(d, "cli.h5"), trials=30, seed=7, missing=4,
                                   categorical=True)
    runs = load_runs(path)
    cases = [((), {}),
             (("--metric", "test_loss", "--top-fraction", "0.25"),
              {"metric": "test_loss", "top_fraction": 0.25}),
             (("--baseline", "gru", "--include-timeout"),
              {"baseline": "gru", "include_timeout": True}),
             (("--metric", "wall_seconds", "--alpha", "0.01"),
              {"metric": "wall_seconds", "alpha": 0.01}),
             (("--metric", "lr", "--top-fraction", "1"), {"metric": "lr", "top_fraction": 1.0}),
             (("--diverged", "worst", "--bootstrap", "300", "--bootstrap-seed", "9"),
              {"diverged": "worst", "bootstrap": 300, "bootstrap_seed": 9}),
             (("--diverged", "worst", "--metric", "test_loss", "--top-fraction", "0.3"),
              {"diverged": "worst", "metric": "test_loss", "top_fraction": 0.3}),
             (("--bootstrap", "0",), {"bootstrap": 0})]
    for args, kwargs in cases:
        rep, err = report_json(path, *args)
        assert "4 of 150 runs are missing" in rep["note"] and "missing" in err, (rep["note"], err)
        assert_same_table(compare(runs, **kwargs), rep, args)
    shard = write_synthetic_results(os.path.join(d, "shard.h5"), trials=30, seed=7,
                                    shard=(1, 3))
    rep, _ = report_json(shard)
    assert_same_table(compare(load_runs(shard)), rep, "shard")
    assert "shard 1/3" in rep["note"]
    # --by: one report per value, Holm over the tests of all of them.
    by = subprocess.run([EXE, "report", path, "--format", "json", "--by", "init",
                         "--bootstrap", "200"], capture_output=True, text=True, timeout=300)
    assert by.returncode == 0, by.stderr
    reports = json.loads(by.stdout)
    sliced = compare(runs, by="init", bootstrap=200)
    assert len(reports) == sliced["init"].nunique() == 2
    for rep in reports:
        value = rep["where"]["init"]
        part = sliced[sliced["init"] == value].drop(columns="init").reset_index(drop=True)
        part.attrs = dict(sliced.attrs, tests_note=rep["tests_note"], rows=rep["rows"],
                          trials=rep["trials"], missing_runs=rep["missing_runs"])
        assert_same_table(part, rep, f"--by init = {value}")
    assert reports[0]["family_tests"] == sliced.attrs["family_tests"] > 12
    table = subprocess.run([EXE, "report", path], capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "all trials" in table.stdout and "note:" in table.stdout
    print("ok: compare() == cellzoo report --format json (1e-9) over", len(cases) + 2, "cases")


def expect_error(fn, *words):
    try:
        fn()
    except ResultsError as e:
        assert isinstance(e, ValueError)
        for w in words:
            assert w in str(e), (w, str(e))
        return
    raise AssertionError(f"no ResultsError ({words})")


def expect_cli_error(args, *words):
    if not EXE:
        return
    r = subprocess.run([EXE, "report", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    for w in words:
        assert w in r.stderr, (w, r.stderr)


def test_bad_input(d):
    foreign = os.path.join(d, "foreign.h5")
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    expect_error(lambda: load_runs(foreign), "not a cellzoo results file")
    expect_cli_error([foreign], "not a cellzoo results file")
    text = os.path.join(d, "text.h5")
    with open(text, "w") as f:
        f.write("not hdf5\n")
    expect_error(lambda: load_runs(text), "not a readable HDF5 file")
    expect_cli_error([text], "text.h5")
    expect_error(lambda: load_runs(os.path.join(d, "nope.h5")), "does not exist")

    path = write_synthetic_results(os.path.join(d, "bad.h5"), trials=10, seed=2,
                                   effects={"gru": 0.0, "rnn": 0.3})
    runs = load_runs(path)
    # Without lstm, the spec's first listed cell (gru) is the baseline, and both say so.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert compare(runs, bootstrap=0).attrs["baseline"] == "gru"
    assert any("the baseline is gru" in str(w.message) for w in caught), caught
    p = subprocess.run([EXE, "report", path, "--bootstrap", "0"], capture_output=True, text=True)
    assert p.returncode == 0 and "the baseline is gru" in " ".join(p.stdout.split()), p.stdout
    # ... and with no spec text to go by, an error naming the cells.
    bare = runs.copy()
    bare.attrs = {k: v for k, v in runs.attrs.items() if k != "spec_text"}
    expect_error(lambda: compare(bare), "no baseline given", "gru, rnn")
    expect_error(lambda: compare(runs, baseline="lstm-cifg"), "'lstm-cifg' has no runs")
    expect_cli_error([path, "--baseline", "lstm-cifg"], "'lstm-cifg' has no runs")
    expect_error(lambda: compare(runs, metric="accuracy", baseline="gru"), "'accuracy'")
    expect_cli_error([path, "--metric", "accuracy", "--baseline", "gru"], "'accuracy'")
    # A baseline whose runs all failed: a table with the counts and a note, no tests.
    dead = runs.copy()
    dead.loc[dead["cell"] == "gru", "status"] = "failed"
    t = compare(dead, baseline="gru")
    assert "no usable runs" in t.attrs["tests_note"] and t["all_p"].isna().all()
    expect_error(lambda: compare(runs, baseline="gru", diverged="sometimes"), "diverged=")
    expect_cli_error([path, "--baseline", "gru", "--diverged", "sometimes"], "--diverged")
    print("ok: foreign, corrupt and missing files, missing metric and baselines are clear errors")


def test_plots(d):
    path = write_synthetic_results(os.path.join(d, "plots.h5"), trials=30, seed=5)
    runs, curves = load_runs(path), load_curves(path)
    fig = plots.box_plots(runs)
    table = compare(runs)
    ax_all = fig.axes[0]
    # Significant cells are drawn blue and thick; the baseline is not.
    boxes = [p for p in ax_all.patches if p.get_linewidth() > 0 and p.get_facecolor()[:3]
             == (1.0, 1.0, 1.0)]
    assert len(boxes) == len(table), len(boxes)
    for box, sig in zip(boxes, table["all_significant"]):
        blue = box.get_edgecolor()[:3] == matplotlib.colors.to_rgb(plots.SIGNIFICANT)
        assert blue == bool(sig) and (box.get_linewidth() > 2) == bool(sig)
    assert [t.get_text() for t in ax_all.get_xticklabels()] == list(table["cell"])
    for f in (fig, plots.marginals(runs, cell="lstm"), plots.learning_curves(curves, runs),
              plots.learning_curves(join_curves(curves, runs), column="valid_metric",
                                    cells=["lstm", "gru"])):
        out = os.path.join(d, "fig.png")
        f.savefig(out, dpi=50)
        assert os.path.getsize(out) > 1000
        plots.close(f)
    print("ok: box plots (significant = blue, thick), marginals and learning curves render")


def test_type_hints():
    """Every public function of the package (and public method of its classes) has type
    hints on every parameter and its return."""
    import importlib
    import inspect
    missing = []
    for name in ("compare", "errors", "importance", "io", "optuna_study", "plots", "stats",
                 "synthetic"):
        module = importlib.import_module(f"cellzoo_analysis.{name}")
        functions = []
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                functions.append((attr, obj))
            elif inspect.isclass(obj):
                functions += [(f"{attr}.{m}", f) for m, f in vars(obj).items()
                              if inspect.isfunction(f) and not m.startswith("_")]
        for attr, fn in functions:
            sig = inspect.signature(fn)
            bare = [p for p in sig.parameters.values()
                    if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
            if bare or sig.return_annotation is inspect.Signature.empty:
                missing.append(f"{name}.{attr}")
    assert not missing, f"public functions without full type hints: {missing}"
    print("ok: every public function of cellzoo_analysis has type hints")


def main():
    test_type_hints()
    with tempfile.TemporaryDirectory(prefix="cellzoo_analysis_") as d:
        run_tests(partial(test_load, d), partial(test_compare, d), partial(test_against_cli, d),
                  partial(test_bad_input, d), partial(test_plots, d))


if __name__ == "__main__":
    main()
