"""Parameter budgets, the JSON dry run and the bad input of issue 14.

`param_budget` solves each run's hidden size (the largest whose whole model fits); the
JSON dry run shows it per run with n_params, the sweep records it in the `hidden` column
next to the budget's own, paired trials share the budget, and every bad input (layers = 0,
dropout = 1, a budget below the smallest model, param_budget with hidden) is one error at
its spec line that creates no file."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import run, tempdir  # noqa: E402

import h5py  # noqa: E402

BUDGET_SPEC = """\
name = budget
task = adding
cells = rnn, lstm, gru, mut1
trials = {trials}
seed = 3

[task]
length = 10
n_train = 32
n_valid = 32
n_test = 32

[fixed]
max_epochs = 1
batch_size = 16
layers = {layers}
{fixed}
[space]
lr = loguniform(0.001, 0.01)
param_budget = {budget}
"""


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def dry_json(spec, *extra):
    p = run("sweep", spec, "--dry-run", "--format", "json", *extra)
    return [json.loads(line) for line in p.stdout.splitlines()]


def n_params(d, cell, hidden, layers):
    """n_params of one cell at a given hidden, by the JSON dry run of a spec with hidden."""
    text = BUDGET_SPEC.format(trials=1, layers=layers, fixed=f"hidden = {hidden}\n",
                              budget="x").replace("param_budget = x\n", "")
    text = text.replace("cells = rnn, lstm, gru, mut1", f"cells = {cell}")
    (row,) = dry_json(write(d, "probe.ini", text))
    assert row["hidden"] == hidden and row["param_budget"] is None, row
    return row["n_params"]


def expect_error(d, text, *needles, args=()):
    spec = write(d, "bad.ini", text)
    out = os.path.join(d, "bad.h5")
    for extra in ([], ["--dry-run"]):
        p = run("sweep", spec, "--out", out, *args, *extra, check=False)
        assert p.returncode != 0 and "error:" in p.stderr, (needles, p.stdout, p.stderr)
        for n in needles:
            assert n in p.stderr, f"expected {n!r} in:\n{p.stderr}"
        assert not os.path.exists(out), "a refused sweep created its output file"
    return p.stderr


def main():
    with tempdir() as d:
        # Searched budgets, two layers: one JSON object per run with every resolved value.
        spec = write(d, "budget.ini", BUDGET_SPEC.format(trials=3, layers=2, fixed="",
                                                         budget="[2000, 6000, 20000]"))
        rows = dry_json(spec)
        assert len(rows) == 12 and [r["run_id"] for r in rows] == list(range(12)), rows
        for r in rows:
            for key in ("run_id", "run_key", "cell", "trial", "seed", "hidden", "layers",
                        "dropout", "lr", "embed", "param_budget", "task.length", "n_params",
                        "input_mode"):
                assert key in r, (key, r)
            assert r["layers"] == 2 and r["dropout"] == 0 and r["embed"] == "auto", r
            assert 0 < r["n_params"] <= r["param_budget"], r
        # Paired: every cell of a trial has the trial's budget (and learning rate).
        by_trial = {}
        for r in rows:
            by_trial.setdefault(r["trial"], set()).add((r["param_budget"], r["lr"]))
        assert all(len(v) == 1 for v in by_trial.values()), by_trial
        # The solved hidden is the largest that fits: one more unit is over the budget
        # (mut1 reads a learned projection of size hidden: the solver counted it).
        for r in rows[::3]:
            over = n_params(d, r["cell"], r["hidden"] + 1, 2)
            assert over > r["param_budget"], (r, over)
            assert n_params(d, r["cell"], r["hidden"], 2) == r["n_params"], r
        mut1 = [r for r in rows if r["cell"] == "mut1"]
        assert all(r["input_mode"] == "projection" for r in mut1), mut1
        rnn = {r["trial"]: r["hidden"] for r in rows if r["cell"] == "rnn"}
        lstm = {r["trial"]: r["hidden"] for r in rows if r["cell"] == "lstm"}
        assert all(rnn[t] > lstm[t] for t in rnn), (rnn, lstm)  # equal budget, not width
        # --shard selects the runs; the JSON is the same objects.
        assert dry_json(spec, "--shard", "1/2") == rows[6:], "shard"

        # The sweep trains exactly those models and records the solved hidden and budget.
        out = os.path.join(d, "budget.h5")
        run("sweep", spec, "--out", out, "--jobs", "2")
        with h5py.File(out, "r") as f:
            runs = f["runs"][:]
            columns = f.attrs["hyperparameters"]
            columns = columns.decode() if isinstance(columns, bytes) else columns
        assert columns.split(",")[:3] == ["lr", "param_budget", "hidden"], columns
        for row, r in zip(sorted(runs, key=lambda x: x["run_id"]), rows):
            assert row["hidden"] == r["hidden"] and row["n_params"] == r["n_params"], (row, r)
            assert row["param_budget"] == r["param_budget"], (row, r)
        # Resume: nothing to do.
        p = run("sweep", spec, "--out", out)
        assert "12 already done" in p.stderr, p.stderr

        # cellzoo train takes a budget too.
        p = run("train", "--cell", "gru", "--task", "adding", "--set", "param_budget=3000",
                "--set", "task.length=10", "--set", "task.n_train=16", "--set",
                "task.n_valid=16", "--set", "task.n_test=16", "--set", "max_epochs=1", "-q")
        gru = [r for r in dry_json(write(d, "gru.ini", BUDGET_SPEC.format(
            trials=1, layers=1, fixed="", budget="3000").replace(
                "cells = rnn, lstm, gru, mut1", "cells = gru")))][0]
        assert f"parameters {gru['n_params']} " in p.stdout, (p.stdout, gru)

        # Bad input: one error each, at the spec line, no file.
        good = BUDGET_SPEC.format(trials=1, layers=1, fixed="", budget="5000")
        expect_error(d, good.replace("layers = 1", "layers = 0"), "bad.ini:16:", "layers=0",
                     "[1, 8]")
        expect_error(d, good.replace("layers = 1\n", "layers = 1\ndropout = 1\n"),
                     "bad.ini:17:", "dropout=1", "[0, 1)")
        err = expect_error(d, good.replace("param_budget = 5000", "param_budget = 20"),
                           "bad.ini:20:", "param_budget = 20", "smallest possible count")
        # rnn fits 20 (6 parameters at hidden 1); lstm, the next cell, does not.
        smallest = n_params(d, "lstm", 1, 1)
        assert f"too small for cell lstm on task adding: even hidden 1 has {smallest} " \
            "parameters" in err, err
        expect_error(d, good.replace("layers = 1\n", "layers = 1\nhidden = 8\n"),
                     "bad.ini:17: hidden is set together with param_budget (", "bad.ini:21)")
        expect_error(d, good, "--set space.hidden=[4, 8]: hidden is set together with "
                     "param_budget (", "bad.ini:20)", args=["--set", "space.hidden=[4, 8]"])
        p = run("train", "--cell", "gru", "--task", "adding", "--set", "param_budget=3000",
                "--set", "hidden=8", check=False)
        assert p.returncode != 0 and "together with --set param_budget" in p.stderr, p.stderr
        p = run("train", "--cell", "lstm", "--task", "adding", "--set", "param_budget=10",
                check=False)
        assert p.returncode != 0 and "smallest possible count" in p.stderr, p.stderr
        p = run("sweep", spec, "--format", "json", check=False)
        assert p.returncode != 0 and "--format is an option of --dry-run" in p.stderr, p.stderr
    print("ok: budgets solve hidden, the JSON dry run shows every run, bad input is refused")


if __name__ == "__main__":
    main()
