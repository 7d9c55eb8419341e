"""Dropout masks follow each run's own seed stream (issue 14): a sweep with
`layers = 2, dropout = 0.5` gives bit-identical /runs metrics for --jobs 1, --jobs 2, two
shards merged, and a sweep grown from fewer trials with --reuse (the new runs trained in
a process that trained nothing else); the masks matter (dropout 0 differs), and another
seed gives other masks."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import SMALL_SPEC, assert_same_metrics, run, runs_by_id, tempdir  # noqa: E402
from sweep_support import write_spec  # noqa: E402

DROPOUT_SPEC = SMALL_SPEC.replace("optimizer = adam\n",
                                  "optimizer = adam\nlayers = 2\ndropout = {dropout}\n")


def spec_text(trials, dropout):
    return DROPOUT_SPEC.format(trials=trials, epochs=2, train_size=128, dropout=dropout)


def main():
    with tempdir() as d:
        spec = write_spec(d, text=spec_text(2, 0.5))
        one = os.path.join(d, "jobs1.h5")
        two = os.path.join(d, "jobs2.h5")
        run("sweep", spec, "--jobs", "1", "--out", one)
        run("sweep", spec, "--jobs", "2", "--out", two)
        s0, s1 = os.path.join(d, "s0.h5"), os.path.join(d, "s1.h5")
        run("sweep", spec, "--jobs", "2", "--shard", "0/2", "--out", s0)
        run("sweep", spec, "--jobs", "1", "--shard", "1/2", "--out", s1)
        merged = os.path.join(d, "merged.h5")
        run("merge", "-o", merged, s0, s1)
        # Grown: trial 0 first, then trial 1 trained alone next to the reused runs.
        first = os.path.join(d, "first.h5")
        run("sweep", spec, "--jobs", "1", "--set", "trials=1", "--out", first)
        grown = os.path.join(d, "grown.h5")
        run("sweep", spec, "--jobs", "2", "--reuse", first, "--out", grown)

        rows = runs_by_id(one)
        assert len(rows) == 6, f"expected 6 runs, got {len(rows)}"
        assert all(r["status"] == "ok" for r in rows.values()), rows
        assert all(r["layers"] == 2 and r["dropout"] == 0.5 for r in rows.values()), rows
        assert_same_metrics(one, two, "dropout: --jobs 1 vs --jobs 2")
        assert_same_metrics(one, merged, "dropout: --jobs 1 vs shards 0/2 + 1/2 merged")
        assert_same_metrics(one, grown, "dropout: --jobs 1 vs trials 1 grown to 2 with --reuse")

        # The masks matter, and follow the seed.
        plain = os.path.join(d, "plain.h5")
        run("sweep", write_spec(d, text=spec_text(2, 0)), "--jobs", "2", "--out", plain)
        rp = runs_by_id(plain)
        key = {(r["cell"], r["trial"]): r for r in rp.values()}
        for r in rows.values():
            other = key[(r["cell"], r["trial"])]
            assert other["train_loss"] != r["train_loss"], f"dropout had no effect: {r['run_id']}"
        seeded = os.path.join(d, "seed8.h5")
        spec = write_spec(d, text=spec_text(2, 0.5))
        run("sweep", spec, "--jobs", "2", "--set", "seed=8", "--out", seeded)
        rs = runs_by_id(seeded)
        assert any(rs[i]["train_loss"] != rows[i]["train_loss"] for i in rows if i in rs), \
            "seed had no effect"
    print("ok: dropout runs equal across jobs 1/2, merged shards and --reuse growth; "
          "masks matter and follow the seed")


if __name__ == "__main__":
    main()
