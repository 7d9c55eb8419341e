"""The same sweep gives bit-identical /runs metrics for --jobs 1, --jobs 2 and two
shards merged (run ids, keys, seeds and every metric column)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import assert_same_metrics, run, runs_by_id, tempdir, write_spec  # noqa: E402


def main():
    with tempdir() as d:
        spec = write_spec(d, trials=2, epochs=2, train_size=128)
        one = os.path.join(d, "jobs1.h5")
        two = os.path.join(d, "jobs2.h5")
        run("sweep", spec, "--jobs", "1", "--out", one)
        run("sweep", spec, "--jobs", "2", "--out", two)
        s0 = os.path.join(d, "s0.h5")
        s1 = os.path.join(d, "s1.h5")
        run("sweep", spec, "--jobs", "2", "--shard", "0/2", "--out", s0)
        run("sweep", spec, "--jobs", "1", "--shard", "1/2", "--out", s1)
        merged = os.path.join(d, "merged.h5")
        run("merge", "-o", merged, s0, s1)

        rows = runs_by_id(one)
        assert len(rows) == 6, f"expected 6 runs, got {len(rows)}"
        assert all(r["status"] == "ok" for r in rows.values()), rows
        assert_same_metrics(one, two, "--jobs 1 vs --jobs 2")
        assert_same_metrics(one, merged, "--jobs 1 vs shards 0/2 + 1/2 merged")
        # Paired sampling: trial t has the same hyperparameters for every cell.
        by_trial = {}
        for r in rows.values():
            by_trial.setdefault(r["trial"], set()).add((r["hidden"], r["lr"]))
        assert all(len(v) == 1 for v in by_trial.values()), by_trial
        # A different seed gives different results (the check can fail).
        other = os.path.join(d, "seed8.h5")
        run("sweep", spec, "--jobs", "2", "--set", "seed=8", "--out", other)
        ro = runs_by_id(other)
        assert any(ro[i]["test_loss"] != rows[i]["test_loss"] for i in rows), "seed had no effect"
    print("ok: jobs 1 == jobs 2 == merged shards; paired trials; seed matters")


if __name__ == "__main__":
    main()
