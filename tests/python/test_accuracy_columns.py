"""The papers' metrics as /runs columns (issue 14 item 5).

Every run records valid/test accuracy (per scored step) and valid/test sequence accuracy
(every scored step of a sequence right) where they apply: classification tasks, with
next-word / next-character accuracy on `words` and `chars` (no sequences there), NaN for
regression and music. `task.metric = accuracy` makes accuracy the compared metric.
Files written before these columns read (NaN), resume and merge."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import run, tempdir  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
from cellzoo_analysis import load_runs  # noqa: E402

ACC = ["valid_accuracy", "test_accuracy", "valid_sequence_accuracy", "test_sequence_accuracy"]

SPEC = """\
name = acc
task = {task}
cells = rnn, gru
trials = {trials}
seed = 5

[task]
{options}
[fixed]
max_epochs = 2
hidden = 8
batch_size = 8
"""

SMALL = "n_train = 32\nn_valid = 16\nn_test = 16\n"


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def sweep(d, name, task, options, trials=2, extra=()):
    spec = write(d, name + ".ini", SPEC.format(task=task, options=options, trials=trials))
    out = os.path.join(d, name + ".h5")
    run("sweep", spec, "--out", out, "--jobs", "2", *extra)
    return spec, out


def corpus(d):
    folder = os.path.join(d, "corpus")
    os.makedirs(folder)
    rng = np.random.default_rng(1)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran"]
    for split, n in (("train", 60), ("valid", 20), ("test", 20)):
        with open(os.path.join(folder, f"{split}.txt"), "w") as f:
            for _ in range(n):
                f.write(" ".join(rng.choice(words, size=6)) + "\n")
    return folder


def strip_accuracy(path, keep=None):
    """Rewrites /runs as a file of before the accuracy columns (optionally its first
    `keep` rows only), the way cellzoo wrote it."""
    with h5py.File(path, "r+") as f:
        runs = f["runs"][:]
        names = [n for n in runs.dtype.names if n not in ACC]
        old = np.empty(len(runs), dtype=[(n, runs.dtype[n]) for n in names])
        for n in names:
            old[n] = runs[n]
        if keep is not None:
            old = old[:keep]
        del f["runs"]
        f.create_dataset("runs", data=old, maxshape=(None,), chunks=(64,))


def main():
    with tempdir() as d:
        # Memorization: an accuracy task of sequences; its metric is the step accuracy.
        spec, mem = sweep(d, "mem", "memorization", SMALL)
        df = load_runs(mem)
        for c in ACC:
            assert c in df.columns, df.columns
            assert df[c].between(0, 1).all(), df[c]
        assert (df.valid_metric == df.valid_accuracy).all(), df[["valid_metric", "valid_accuracy"]]
        assert (df.test_metric == df.test_accuracy).all()
        assert (df.test_sequence_accuracy <= df.test_accuracy + 1e-12).all()
        # `cellzoo report --metric test_sequence_accuracy` compares on the column, higher
        # is better.
        p = run("report", mem, "--metric", "test_sequence_accuracy")
        assert "test_sequence_accuracy" in p.stdout, p.stdout

        # Regression: no accuracy (NaN), the metric unchanged.
        _, add = sweep(d, "add", "adding", SMALL + "length = 8\n")
        df = load_runs(add)
        assert df[ACC].isna().all().all(), df[ACC]
        bad = write(d, "bad.ini", SPEC.format(task="adding", trials=1,
                                              options=SMALL + "metric = accuracy\n"))
        p = run("sweep", bad, "--out", os.path.join(d, "bad.h5"), check=False)
        assert p.returncode != 0 and "bad.ini:11:" in p.stderr and "metric=accuracy" in \
            p.stderr and "classification" in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(d, "bad.h5"))

        # words: next-word accuracy next to perplexity; no sequence accuracy.
        data = corpus(d)
        words_opts = f"data = {data}\n"
        _, ppl = sweep(d, "ppl", "words", words_opts, trials=1)
        df = load_runs(ppl)
        assert df.attrs["metric"] == "perplexity", df.attrs["metric"]
        assert df.test_accuracy.between(0, 1).all() and df.valid_accuracy.between(0, 1).all()
        assert df.test_sequence_accuracy.isna().all() and df.valid_sequence_accuracy.isna().all()
        assert (df.test_metric > 1).all(), df.test_metric  # a perplexity
        # task.metric = accuracy: accuracy is the compared metric (higher is better), with
        # the same training otherwise.
        _, acc = sweep(d, "wacc", "words", words_opts + "metric = accuracy\n", trials=1)
        da = load_runs(acc)
        assert da.attrs["metric"] == "accuracy" and int(da.attrs["metric_higher_is_better"]) == 1
        assert (da.test_metric == da.test_accuracy).all(), da[["test_metric", "test_accuracy"]]
        assert (da.valid_metric == da.valid_accuracy).all()
        p = run("train", "--cell", "gru", "--task", "chars", "--data", data, "--set", "hidden=8",
                "--set", "max_epochs=1", "-q")
        assert "valid_accuracy" in p.stdout and "sequence_accuracy" not in p.stdout, p.stdout
        # Where accuracy is the metric it is shown once, sequence accuracy next to it.
        p = run("train", "--cell", "gru", "--task", "arithmetic", "--set", "hidden=8",
                "--set", "max_epochs=1", "--set", "task.digits=2", "--set", "task.n_train=40",
                "--set", "task.n_valid=20", "--set", "task.n_test=20", "-q")
        assert p.stdout.count("valid_accuracy") == 1 and \
            p.stdout.count("valid_sequence_accuracy") == 1, p.stdout

        # Files of before the columns: read as NaN, resume (the new runs keep the file's
        # columns), merge with a new shard, report.
        strip_accuracy(mem)
        old = load_runs(mem)
        assert old[ACC].isna().all().all() and len(old) == 4, old
        run("report", mem)
        partial = os.path.join(d, "partial.h5")
        run("sweep", spec, "--out", partial)
        strip_accuracy(partial, keep=2)
        p = run("sweep", spec, "--out", partial)
        assert "2 already done" in p.stderr, p.stderr
        resumed = load_runs(partial)
        assert len(resumed) == 4 and resumed[ACC].isna().all().all(), resumed
        s0, s1 = os.path.join(d, "s0.h5"), os.path.join(d, "s1.h5")
        run("sweep", spec, "--out", s0, "--shard", "0/2")
        run("sweep", spec, "--out", s1, "--shard", "1/2")
        strip_accuracy(s1)
        merged = os.path.join(d, "merged.h5")
        run("merge", "-o", merged, s0, s1)
        m = load_runs(merged)
        fresh = load_runs(s0)
        assert len(m) == 4 and m[ACC].iloc[2:].isna().all().all(), m[ACC]
        for c in ACC:
            a, b = m[c].iloc[:2].tolist(), fresh[c].tolist()
            assert all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b)), c
    print("ok: accuracy columns recorded, task.metric = accuracy compares on them, old files work")


if __name__ == "__main__":
    main()
