"""`cellzoo sweep --reuse OLD.h5` copies the runs of OLD.h5 whose configuration is in the
sweep and trains only the others: growing trials 2 -> 4 gives a file equal (run ids, keys,
every metric, every curve value) to a fresh 4-trial sweep, OLD.h5 is only read, a changed
.cell file is not reused, and bad --reuse files are refused before anything is written."""
import hashlib
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import (SMALL_SPEC, assert_same_metrics, run, runs_by_id,  # noqa: E402
                           tempdir)

import h5py  # noqa: E402

SOURCE = os.environ.get("CELLZOO_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def curves_by_key(path):
    """{(run_key, epoch): (train_loss, valid_loss, valid_metric, learning_rate)}."""
    with h5py.File(path, "r") as f:
        key_of = {int(r["run_id"]): r["run_key"].decode() for r in f["runs"][:]}
        out = {}
        for c in f["curves"][:]:
            out[(key_of[int(c["run_id"])], int(c["epoch"]))] = (
                c["train_loss"].item(), c["valid_loss"].item(), c["valid_metric"].item(),
                c["learning_rate"].item())
        return out


def reused_from(path):
    with h5py.File(path, "r") as f:
        v = f.attrs.get("reused_from", b"")
        return v.decode() if isinstance(v, bytes) else str(v)


def spec(d, trials, cells="rnn, lstm, gru", name="small.ini"):
    text = SMALL_SPEC.format(trials=trials, epochs=2, train_size=128)
    text = text.replace("cells = rnn, lstm, gru", f"cells = {cells}")
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    with tempdir() as d:
        old = os.path.join(d, "trials2.h5")
        run("sweep", spec(d, 2), "--out", old, "--jobs", "2")
        old_digest = digest(old)

        # Growing the random search: the 6 old runs are copied, the 6 new ones trained.
        p = run("sweep", spec(d, 4), "--dry-run", "--reuse", old)
        assert "holds 6 of the 12 runs" in p.stdout, p.stdout
        fresh = os.path.join(d, "fresh4.h5")
        run("sweep", spec(d, 4), "--out", fresh, "--jobs", "2")
        grown = os.path.join(d, "grown4.h5")
        p = run("sweep", spec(d, 4), "--out", grown, "--jobs", "2", "--reuse", old)
        assert "6 already done" not in p.stderr and "6 reused, 6 to run" in p.stderr, p.stderr
        assert_same_metrics(grown, fresh, "trials 2 grown to 4 vs a fresh 4-trial sweep")
        assert curves_by_key(grown) == curves_by_key(fresh), "curves differ"
        assert digest(old) == old_digest, "--reuse modified the old file"
        # The copies are the old rows (wall time included), not retrained runs.
        old_rows = {r["run_key"]: r for r in runs_by_id(old).values()}
        grown_rows = {r["run_key"]: r for r in runs_by_id(grown).values()}
        assert all(grown_rows[k]["wall_seconds"] == r["wall_seconds"]
                   for k, r in old_rows.items()), "reused rows were retrained"
        assert "trials2.h5: 6 runs" in reused_from(grown), reused_from(grown)
        assert reused_from(fresh) == ""

        # Resuming the grown file with the same command: nothing left to do.
        p = run("sweep", spec(d, 4), "--out", grown, "--reuse", old)
        assert "12 already done, 0 reused, 0 to run" in p.stderr, p.stderr

        # Adding a cell: only its runs are trained.
        more = os.path.join(d, "more-cells.h5")
        p = run("sweep", spec(d, 2, cells="rnn, lstm, gru, lstm-cifg"), "--out", more,
                "--reuse", old)
        assert "6 reused, 2 to run" in p.stderr, p.stderr
        assert len(runs_by_id(more)) == 8

        # A language cell whose file changed since is trained again, not reused.
        cell = os.path.join(d, "my.cell")
        shutil.copy(os.path.join(SOURCE, "experiments", "cells", "gru.cell"), cell)
        lang_old = os.path.join(d, "lang-old.h5")
        run("sweep", spec(d, 1, cells=f"file:{cell}"), "--out", lang_old)
        lang_same = os.path.join(d, "lang-same.h5")
        p = run("sweep", spec(d, 1, cells=f"file:{cell}"), "--out", lang_same,
                "--reuse", lang_old)
        assert "1 reused, 0 to run" in p.stderr, p.stderr
        with open(cell) as f:
            text = f.read()
        with open(cell, "w") as f:
            f.write(text.replace("n = tanh(", "n = relu(", 1))
        lang_new = os.path.join(d, "lang-new.h5")
        p = run("sweep", spec(d, 1, cells=f"file:{cell}"), "--out", lang_new,
                "--reuse", lang_old)
        assert "1 matching runs not reused" in p.stderr and "0 reused, 1 to run" in p.stderr, \
            p.stderr

        # Bad --reuse files: one clear error, no output file.
        corrupt = os.path.join(d, "corrupt.h5")
        with open(corrupt, "wb") as f:
            f.write(os.urandom(2048))
        for bad, needle in [(os.path.join(d, "missing.h5"), "does not exist"),
                            (corrupt, "corrupt.h5"), (grown, "is the output file")]:
            out = grown if bad == grown else os.path.join(d, "never.h5")
            before = digest(grown)
            p = run("sweep", spec(d, 4), "--out", out, "--reuse", bad, check=False)
            assert p.returncode != 0 and "error:" in p.stderr and needle in p.stderr, p.stderr
            assert not os.path.exists(os.path.join(d, "never.h5")), "a refused sweep wrote"
            assert digest(grown) == before
    print("ok: --reuse grows a sweep to exactly a fresh one, leaves the old file as it was, "
          "skips changed cell files and refuses bad files")


if __name__ == "__main__":
    main()
