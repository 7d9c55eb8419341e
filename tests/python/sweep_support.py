"""Shared helpers for the sweep integration tests: find the binary, write small specs,
run `cellzoo`, and read results files with plain h5py."""
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError as e:  # the project's Python lacks the stack
    print(f"SKIP: {sys.executable} cannot import h5py/numpy ({e}); "
          "configure with -DCELLZOO_PYTHON=/path/to/python3", file=sys.stderr)
    sys.exit(77)

EXE = os.environ.get("CELLZOO_EXE", "")
if not EXE or not os.path.exists(EXE):
    print(f"SKIP: CELLZOO_EXE not set or missing ({EXE!r}); run through ctest", file=sys.stderr)
    sys.exit(77)

SMALL_SPEC = """\
name = small
task = adding
cells = rnn, lstm, gru
trials = {trials}
seed = 7

[task]
length = 12
n_train = {train_size}
n_valid = 64
n_test = 64

[fixed]
max_epochs = {epochs}
batch_size = 16
optimizer = adam

[space]
hidden = int_loguniform(4, 16)
lr = loguniform(0.003, 0.03)
"""


def write_spec(directory, trials=3, epochs=3, train_size=256, text=None):
    path = os.path.join(directory, "small.ini")
    with open(path, "w") as f:
        f.write(text if text is not None else
                SMALL_SPEC.format(trials=trials, epochs=epochs, train_size=train_size))
    return path


def run(*args, check=True, **kw):
    p = subprocess.run([EXE, *args], capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"cellzoo {' '.join(args)} exited {p.returncode}\n"
                             f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


METRICS = ["train_loss", "valid_loss", "test_loss", "valid_metric", "test_metric",
           "best_epoch", "epochs", "n_params", "seed", "trial"]


def runs_by_id(path):
    """/runs as {run_id: row dict}, strings decoded."""
    with h5py.File(path, "r") as f:
        runs = f["runs"][:]
    out = {}
    for row in runs:
        d = {}
        for name in runs.dtype.names:
            v = row[name]
            d[name] = v.decode() if isinstance(v, bytes) else v.item()
        out[d["run_id"]] = d
    return out


def assert_same_metrics(a, b, what):
    ra, rb = runs_by_id(a), runs_by_id(b)
    assert sorted(ra) == sorted(rb), f"{what}: different run ids {sorted(ra)} vs {sorted(rb)}"
    for rid in ra:
        for k in METRICS + ["run_key", "cell", "status"]:
            x, y = ra[rid][k], rb[rid][k]
            same = (x == y) or (isinstance(x, float) and np.isnan(x) and np.isnan(y))
            assert same, f"{what}: run {rid} column {k}: {x!r} != {y!r}"


def tempdir():
    return tempfile.TemporaryDirectory(prefix="cellzoo-test-")
