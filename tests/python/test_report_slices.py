"""A task option as a grid axis, end to end: a real sweep whose [space] searches
task.length (with a learning rate drawn per run), then `cellzoo report --by task.length`
and `--where`: one comparison per length, each equal to cellzoo_analysis.compare() on that
slice of the runs (means and Welch p-values to 1e-9), and clear errors for bad filters."""
import json
import math
import os
import sys

from sweep_support import h5py, run, tempdir, write_spec  # noqa: F401  (skips without h5py)

try:
    import pandas  # noqa: F401
    import scipy  # noqa: F401
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import pandas/scipy ({e})", file=sys.stderr)
    sys.exit(77)

from cellzoo_analysis import compare, load_runs  # noqa: E402

SPEC = """\
name = slices
task = adding
cells = rnn, lstm
search = grid
trials = 4
seed = 11

[task]
n_train = 64
n_valid = 32
n_test = 32

[fixed]
hidden = 6
max_epochs = 2
batch_size = 16

[space]
task.length = [6, 12]
lr = loguniform(0.001, 0.03)
"""


def report(path, *args, check=True):
    return run("report", path, *args, check=check)


def main():
    with tempdir() as d:
        spec = write_spec(d, text=SPEC)
        out = os.path.join(d, "slices.h5")
        run("sweep", spec, "--out", out, "--jobs", "2")

        runs = load_runs(out)
        assert len(runs) == 2 * 2 * 4, len(runs)
        assert sorted(runs["task.length"].unique()) == [6, 12]
        # Each length's task data really differ: the sequences have that many steps.
        assert runs.groupby("task.length")["run_id"].count().tolist() == [8, 8]

        # Tables: one section per length, each with that slice's 8 runs.
        text = report(out, "--by", "task.length").stdout
        assert text.count("with task.length = 6\n") == 1, text
        assert text.count("with task.length = 12\n") == 1, text
        assert text.count(": task adding, 8 runs with task.length") == 2, text

        # JSON: an array, one report per length, equal to the Python comparison of the slice.
        reports = json.loads(report(out, "--by", "task.length", "--format", "json").stdout)
        assert [r["where"] for r in reports] == [{"task.length": "6"}, {"task.length": "12"}]
        for rep in reports:
            length = int(rep["where"]["task.length"])
            part = runs[runs["task.length"] == length].copy()
            part.attrs = dict(runs.attrs)
            table = compare(part, baseline="lstm").set_index("cell")
            assert rep["rows"] == 8 and rep["missing_runs"] == 0, rep
            for cell in rep["cells"]:
                mine = table.loc[cell["cell"]]
                for key in ("all_n", "all_mean", "all_p", "top_mean", "all_best"):
                    v, w = cell[key], mine[key]
                    if v is None:
                        assert w is None or not math.isfinite(float(w)), (length, key, w)
                    else:
                        assert abs(float(w) - v) <= 1e-9 * max(1.0, abs(v)), (length, key, v, w)
            # --where gives the same report as the --by group, except that Holm's
            # family-wise correction of --by runs over the tests of both slices.
            alone = json.loads(report(out, "--where", f"task.length={length}",
                                      "--format", "json").stdout)
            assert alone["family_tests"] < rep["family_tests"], (alone, rep)
            for a, b in zip(alone["cells"], rep["cells"]):
                family = [k for k in a if k.endswith("holm_family")]
                for k in family:
                    assert a[k] is None or a[k] <= b[k], (length, k, a[k], b[k])
                assert {k: v for k, v in a.items() if k not in family} == \
                    {k: v for k, v in b.items() if k not in family}, length

        # CSV: the filter column comes first, one header.
        csv = report(out, "--by", "task.length", "--format", "csv").stdout.splitlines()
        assert csv[0].startswith("task.length,cell,"), csv[0]
        assert len(csv) == 1 + 2 * 2 and sum(line.startswith("task.length") for line in csv) == 1

        # Numbers compare as numbers; a value that is not there names the ones that are.
        assert report(out, "--where", "task.length=12.0", "--format", "json").returncode == 0
        bad = report(out, "--where", "task.length=7", check=False)
        assert bad.returncode == 2 and "takes the values 6, 12" in bad.stderr, bad.stderr
        bad = report(out, "--by", "lenght", check=False)
        assert bad.returncode == 2 and "task.length" in bad.stderr and "lr" in bad.stderr, \
            bad.stderr
        bad = report(out, "--where", "task.length", check=False)
        assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr, bad.stderr
    print("ok: report --by/--where over a task.length grid axis")


if __name__ == "__main__":
    main()
