"""h5py/pandas compatibility of the files the C++ store writes.

Runs the two C++ store tests that write store_roundtrip.h5 and store_parameters.h5 into a
directory of its own (CELLZOO_STORE_FIXTURE_DIR), so no other test can be rewriting them
while they are read, then reads them with h5py and pandas. Exits 77 (skipped) when this
interpreter lacks h5py/numpy/pandas.
"""
import math
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
    import pandas as pd
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import the analysis stack ({e}); "
          f"configure with -DCELLZOO_PYTHON=/path/to/python3", file=sys.stderr)
    sys.exit(77)

build = os.environ.get("CELLZOO_BUILD_DIR", "build")
test_store = os.path.join(build, "tests", "test_store")
fixtures = tempfile.mkdtemp(prefix="cellzoo-h5py-")
for case in ("results file round-trips*", "parameters are stored in their mathematical shape"):
    p = subprocess.run([test_store, case], capture_output=True, text=True,
                       env={**os.environ, "CELLZOO_STORE_FIXTURE_DIR": fixtures})
    assert p.returncode == 0 and "All tests passed" in p.stdout, (case, p.stdout, p.stderr)
results = os.path.join(fixtures, "store_roundtrip.h5")
parameters = os.path.join(fixtures, "store_parameters.h5")

RUN_COLUMNS = ["run_id", "run_key", "cell", "task", "trial", "seed", "status", "error",
               "hidden", "lr", "optimizer", "train_loss", "valid_loss", "test_loss",
               "valid_metric", "test_metric", "best_epoch", "epochs", "wall_seconds",
               "n_params", "valid_accuracy", "test_accuracy", "valid_sequence_accuracy",
               "test_sequence_accuracy"]
CURVE_COLUMNS = ["run_id", "epoch", "train_loss", "valid_loss", "valid_metric",
                 "learning_rate", "seconds"]


def text(value):
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


with h5py.File(results, "r") as f:
    attrs = f.attrs
    assert text(attrs["schema"]) == "cellzoo-results", attrs["schema"]
    assert int(attrs["schema_version"]) == 1
    assert text(attrs["hyperparameters"]) == "hidden,lr,optimizer"
    assert text(attrs["task"]) == "adding" and text(attrs["metric"]) == "mse"
    assert int(attrs["total_runs"]) == 12 and int(attrs["metric_higher_is_better"]) == 0
    assert text(attrs["shard"]) == "" and len(text(attrs["spec_hash"])) == 32
    for name in ("cellzoo_version", "git_commit", "compiler", "eigen_version", "tbb_version",
                 "hdf5_version", "host", "created_utc", "finished_utc", "command_line",
                 "spec_text"):
        assert name in attrs, name

    runs = f["runs"]
    assert list(runs.dtype.names) == RUN_COLUMNS, runs.dtype.names
    widths = {"run_key": 32, "cell": 256, "task": 32, "status": 12, "error": 256,
              "optimizer": 512}
    for name, width in widths.items():
        assert runs.dtype[name] == np.dtype(f"S{width}"), (name, runs.dtype[name])
    assert runs.dtype["seed"] == np.int64 and runs.dtype["lr"] == np.float64
    df = pd.DataFrame(runs[:])
    assert len(df) == 6
    for name in widths:
        df[name] = df[name].str.decode("ascii")
    r3 = df.iloc[3]
    assert r3.run_id == 3 and r3.status == "diverged"
    assert r3.error == "loss became NaN at epoch 3"
    assert math.isnan(r3.valid_loss) and math.isnan(r3.test_metric)
    assert df.cell.tolist()[:2] == ["file:experiments/cells/mut1.cell", "lstm-cifg"]
    assert df.optimizer.tolist()[:2] == ["adam", "sgd"]
    assert df.hidden.tolist() == [32, 64, 128, 32, 64, 128]
    assert abs(df.lr[4] - 0.005) < 1e-15
    # seeds are uint64 stored as two's complement int64
    assert (int(df.seed[0]) & (2**64 - 1)) == 0xF000000000000000

    curves = f["curves"]
    assert list(curves.dtype.names) == CURVE_COLUMNS, curves.dtype.names
    c = pd.DataFrame(curves[:])
    assert c.groupby("run_id").size().tolist() == [1, 2, 3, 1, 2, 3]
    assert math.isnan(c[(c.run_id == 1) & (c.epoch == 2)].valid_metric.iloc[0])

    cells = f["cells"][:]
    assert len(cells) == 1 and cells[0]["text"].decode() == "cell mut1 {\n  z = x\n}\n"

# pandas' PyTables reader needs fixed-length strings everywhere (no vlen).
try:
    import tables  # noqa: F401
    via_pandas = pd.read_hdf(results, "runs")
    assert len(via_pandas) == 6 and list(via_pandas.columns) == RUN_COLUMNS
except ImportError:
    print("note: PyTables missing, pd.read_hdf not checked", file=sys.stderr)

with h5py.File(parameters, "r") as f:
    w = f["parameters/cell/W"][:]
    assert w.shape == (2, 3) and w.dtype == np.float64
    assert (w == np.array([[1, 2, 3], [4, 5, 6]])).all(), w
    assert (f["parameters/cell/b"][:] == np.array([[7], [8]])).all()
    p = f["parameters"].attrs
    assert text(p["schema"]) == "cellzoo-parameters" and text(p["cell"]) == "rnn"
    assert int(p["input_size"]) == 3 and int(p["hidden_size"]) == 2
    assert text(f["parameters/cell/W"].attrs["kind"]) == "input_weight"

print("ok: store_roundtrip.h5 and store_parameters.h5 read as expected with h5py/pandas")
shutil.rmtree(fixtures)
