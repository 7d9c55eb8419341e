"""cellzoo_analysis.importance: fANOVA main effects and pairwise interactions against a
function whose variance decomposition is known exactly, and on synthetic results."""
import os
import sys
import tempfile

try:
    import matplotlib
    import numpy as np
    import pandas as pd
    import sklearn  # noqa: F401
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import scikit-learn ({e}); "
          "install python3-sklearn or configure with "
          "-DCELLZOO_PYTHON=/path/to/python3", file=sys.stderr)
    sys.exit(77)

matplotlib.use("Agg")
from cellzoo_analysis import ResultsError, importance, load_runs, plots  # noqa: E402
from cellzoo_analysis.importance import fanova_table  # noqa: E402
from cellzoo_analysis.synthetic import write_synthetic_results  # noqa: E402


def test_known_decomposition():
    # f = 3 x1 + x2 + 2 x1 x2 with x1, x2, x3 ~ U(-1, 1) independent (Var x = 1/3):
    #   main x1: E[f | x1] = 3 x1          -> variance 9 / 3      = 3
    #   main x2: E[f | x2] = x2            -> variance 1 / 3
    #   x1 x x2: 2 x1 x2                   -> variance 4 / 9
    #   total 3 + 1/3 + 4/9 = 34 / 9, so the fractions are 27/34, 3/34, 4/34
    #   (0.794, 0.088, 0.118); x3 and its interactions are 0.
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(-1, 1, (600, 3)), columns=["x1", "x2", "x3"])
    y = 3 * X.x1 + X.x2 + 2 * X.x1 * X.x2
    t = fanova_table(X, y, log_scale=(), n_trees=16, max_depth=8, seed=0).set_index("term")
    expected = {"x1": 27 / 34, "x2": 3 / 34, "x1 x x2": 4 / 34}
    for term, value in expected.items():
        got = t.loc[term, "fraction"]
        assert abs(got - value) < 0.05, (term, got, value)
    for term in ("x3", "x1 x x3", "x2 x x3"):
        assert t.loc[term, "fraction"] < 0.02, (term, t.loc[term, "fraction"])
    assert abs(t["fraction"].sum() - 1) < 0.05, t["fraction"].sum()
    assert t.index[0] == "x1"
    fractions = {k: round(t.loc[k, "fraction"], 3) for k in expected}
    print("ok: fANOVA recovers 27/34, 3/34, 4/34:", fractions)


def test_on_results(d):
    path = write_synthetic_results(os.path.join(d, "imp.h5"), trials=60, seed=11,
                                   categorical=True)
    runs = load_runs(path)
    t = importance(runs, "lstm", n_trees=16, max_depth=8)
    assert t.attrs["runs"] == (runs[runs.cell == "lstm"].status == "ok").sum()
    # Planted truth: the learning rate dominates, momentum has no effect.
    assert t["term"].iloc[0] == "lr", t
    frac = t.set_index("term")["fraction"]
    assert frac["lr"] > 0.5 and frac["momentum"] < 0.05, frac
    assert set(t["kind"]) == {"main", "interaction"} and "init" in set(t["term"])
    pooled = importance(runs, None, hyperparameters=["lr", "init"], pairs=False, n_trees=8)
    assert list(pooled["kind"].unique()) == ["main"] and len(pooled) == 2
    fig = plots.importance_chart(t)
    fig.savefig(os.path.join(d, "imp.png"), dpi=50)
    plots.close(fig)
    for bad in (lambda: importance(runs, "gru-ra"), lambda: importance(runs, "lstm", "nope")):
        try:
            bad()
            raise AssertionError("no error")
        except ResultsError:
            pass
    print("ok: importance on results: lr first", round(frac["lr"], 3))


def main():
    test_known_decomposition()
    with tempfile.TemporaryDirectory(prefix="cellzoo_importance_") as d:
        test_on_results(d)


if __name__ == "__main__":
    main()
