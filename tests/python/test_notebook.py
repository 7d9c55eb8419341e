"""scripts/notebooks/compare_cells.ipynb: committed without outputs, and runs headless
(nbclient, kernel python3) on a small synthetic results file, producing its figures."""
import os
import sys
import tempfile

try:
    import h5py  # noqa: F401
    import matplotlib  # noqa: F401
    import nbclient
    import nbformat
    import sklearn  # noqa: F401
    import statsmodels  # noqa: F401
    from optuna.importance._fanova._fanova import _Fanova  # noqa: F401
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot run the notebook ({e}); it needs nbclient, "
          "nbformat, ipykernel, h5py, pandas, scipy, statsmodels, matplotlib, optuna and "
          "scikit-learn (Debian: python3-nbclient python3-ipykernel python3-optuna ...)",
          file=sys.stderr)
    sys.exit(77)

from cellzoo_analysis.synthetic import write_synthetic_results  # noqa: E402

SOURCE = os.environ.get("CELLZOO_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NOTEBOOK = os.path.join(SOURCE, "scripts", "notebooks", "compare_cells.ipynb")


def main():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "CELLZOO_RESULTS" in code[0].source and "RESULTS =" in code[0].source, \
        "the first code cell must hold the RESULTS parameter"
    for c in code:
        assert not c.outputs and c.execution_count is None, \
            "commit the notebook without outputs (clear them before committing)"

    with tempfile.TemporaryDirectory(prefix="cellzoo_notebook_") as d:
        results = write_synthetic_results(os.path.join(d, "small.h5"), trials=20, seed=2,
                                          missing=2)
        os.environ["CELLZOO_RESULTS"] = results
        # The kernel must use its inline backend (Agg rendering to PNG outputs), not the
        # plain Agg that ctest sets for the other tests, or no figure would be captured.
        os.environ.pop("MPLBACKEND", None)
        client = nbclient.NotebookClient(
            nb, kernel_name="python3", timeout=600,
            resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}})
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as e:
            raise AssertionError(f"the notebook failed:\n{e}") from None
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    pngs = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.outputs)
    assert pngs >= 5, (f"expected at least 5 figures (box, expected best-of-k, importance, "
                       f"marginals, curves), got {pngs}")
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "small.h5" in text and "2 runs are missing" in text, text[:500]
    print(f"ok: notebook ran headless on {os.path.basename(results)}; {pngs} figures")


if __name__ == "__main__":
    main()
