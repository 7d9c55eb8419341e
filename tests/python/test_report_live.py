"""`cellzoo report` and cellzoo_analysis.load_runs read a results file while a real sweep
process is writing it (HDF5's file lock would refuse a plain open): each read sees only
whole runs, at most the runs recorded so far, and says the file is being written; the
sweep is not disturbed and, after a kill -9 mid-sweep, resumes to the complete file."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import EXE, SMALL_SPEC, run, runs_by_id, tempdir  # noqa: E402

import h5py  # noqa: E402

try:
    from cellzoo_analysis import load_runs
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import cellzoo_analysis ({e})", file=sys.stderr)
    sys.exit(77)


def plain_open_refused(path):
    try:
        h5py.File(path, "r").close()
        return False
    except OSError as e:
        return "lock" in str(e)


def main():
    with tempdir() as d:
        spec = os.path.join(d, "live.ini")
        with open(spec, "w") as f:  # 45 runs of ~0.2 s each with one job (10 s in all)
            f.write(SMALL_SPEC.format(trials=15, epochs=40, train_size=2048))
        out = os.path.join(d, "live.h5")
        sweep = subprocess.Popen([EXE, "sweep", spec, "--out", out, "--jobs", "1"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        live_reads, seen = 0, []
        deadline = time.time() + 120
        while live_reads < 6 and sweep.poll() is None and time.time() < deadline:
            if not os.path.exists(out):
                time.sleep(0.05)
                continue
            # rnn's runs come first (cell-major order); lstm, the default baseline, later.
            p = run("report", out, "--baseline", "rnn", check=False)
            if p.returncode != 0:  # the file exists, but not yet a finished run
                assert "error:" in p.stderr and "no runs" in p.stderr, p.stderr
                time.sleep(0.1)
                continue
            if "being written by a running sweep" not in p.stdout:
                break  # the sweep finished between two reads
            assert plain_open_refused(out), "expected the writer to hold the file lock"
            assert "runs recorded so far" in p.stdout and "all trials" in p.stdout, p.stdout
            df = load_runs(out)
            assert df.attrs["while_written"] and len(df) <= 45, df.attrs
            assert set(df["status"]) <= {"ok", "diverged"}, set(df["status"])
            assert df["run_key"].str.len().eq(32).all() and df["test_loss"].notna().all()
            seen.append(len(df))
            live_reads += 1
            time.sleep(0.3)
        assert live_reads >= 3, f"only {live_reads} reads while the sweep ran (too fast?)"
        assert seen == sorted(seen) and seen[-1] > seen[0], f"runs seen did not grow: {seen}"

        # Kill the writer mid-sweep: the reads did not damage it; the resume completes it.
        assert sweep.poll() is None, "the sweep ended before the kill"
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
        killed = runs_by_id(out)
        assert seen[-1] <= len(killed) < 45, (seen, len(killed))
        p = run("sweep", spec, "--out", out, "--jobs", "2")
        assert f"{len(killed)} already done" in p.stderr, p.stderr
        assert len(runs_by_id(out)) == 45
        p = run("report", out)
        assert "being written" not in p.stdout and "45 runs" in p.stdout, p.stdout
        assert not load_runs(out).attrs["while_written"]
    print(f"ok: {live_reads} reads during the sweep saw {seen} runs; killed at {len(killed)}, "
          "resumed to 45")


if __name__ == "__main__":
    main()
