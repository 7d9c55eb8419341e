"""`cellzoo train --out` and `cellzoo sweep` share their plumbing: the same configuration
trained by either has the same run_key (the sweep's hash of cell, task, seed and settings,
with numbers normalised as a spec's are) and the same /runs row, bit for bit."""
import os

from sweep_support import h5py, run, runs_by_id, tempdir, write_spec

SPEC = """\
name = one
task = adding
cells = gru
trials = 1
seed = 11

[task]
length = 8
n_train = 64
n_valid = 32
n_test = 32

[fixed]
max_epochs = 2
batch_size = 16
hidden = 5
lr = 1e-2
"""

COLUMNS = ["run_key", "cell", "task", "seed", "status", "train_loss", "valid_loss", "test_loss",
           "valid_metric", "test_metric", "best_epoch", "epochs", "n_params", "hidden", "lr",
           "batch_size", "max_epochs"]


def test_train_and_sweep_key_one_configuration_alike():
    with tempdir() as d:
        spec = write_spec(d, text=SPEC)
        swept = os.path.join(d, "sweep.h5")
        run("sweep", spec, "--out", swept, "--jobs", "1")
        (s,) = runs_by_id(swept).values()
        trained = os.path.join(d, "train.h5")
        # The same settings as --set, lr spelt differently (0.010 here, 1e-2 in the spec).
        run("train", "--cell", "gru", "--task", "adding", "--seed", str(s["seed"]), "--quiet",
            "--set", "task.length=8", "--set", "task.n_train=64", "--set", "task.n_valid=32",
            "--set", "task.n_test=32", "--set", "max_epochs=2", "--set", "batch_size=16",
            "--set", "hidden=5", "--set", "lr=0.010", "--out", trained)
        (t,) = runs_by_id(trained).values()
        for k in COLUMNS:
            assert s[k] == t[k], f"column {k}: sweep {s[k]!r}, train {t[k]!r}"
        with h5py.File(trained, "r") as f:
            curves = f["curves"][:]
            assert len(curves) == 2 and all(curves["run_id"] == 0), curves
        print(f"ok: train --out and sweep give run_key {t['run_key']} and the same row")


def main():
    test_train_and_sweep_key_one_configuration_alike()


if __name__ == "__main__":
    main()
