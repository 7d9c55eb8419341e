"""Crash and resume: a real `cellzoo sweep` process is killed mid-sweep with SIGKILL (and,
separately, stopped with SIGTERM); the file still opens with h5py, holds every run that
was reported finished before the kill, and re-running the same command completes the
sweep with results identical to an uninterrupted sweep."""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import (EXE, assert_same_metrics, run, runs_by_id,  # noqa: E402
                           tempdir, write_spec)

DONE = re.compile(r"runs (\d+)/(\d+)")


def start_and_stop(spec, out, sig, min_done):
    """Starts a sweep, waits until `min_done` runs are reported recorded, sends `sig`."""
    p = subprocess.Popen([EXE, "sweep", spec, "--jobs", "2", "--out", out, "--log-interval", "0"],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    done = 0
    deadline = time.time() + 300
    for line in p.stderr:
        m = DONE.search(line)
        if m:
            done = int(m.group(1))
            if done >= min_done:
                p.send_signal(sig)
                break
        if time.time() > deadline:
            p.kill()
            raise AssertionError("sweep made no progress in 300 s")
    rest = p.stderr.read()
    code = p.wait()
    return done, code, rest


def check(sig, reference, d):
    spec = os.path.join(d, "small.ini")
    out = os.path.join(d, f"killed-{sig.name}.h5")
    done, code, rest = start_and_stop(spec, out, sig, 3)
    total = len(runs_by_id(reference))
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL, f"expected death by SIGKILL, exit {code}"
    else:
        assert code == 128 + sig, f"SIGTERM should exit {128 + sig}, got {code}\n{rest}"
        assert "interrupted" in rest, rest
    rows = runs_by_id(out)  # the file opens with plain h5py
    assert len(rows) >= done, f"{sig.name}: {done} runs reported, only {len(rows)} in the file"
    assert len(rows) < total, f"{sig.name}: the sweep finished before the kill; make it longer"
    p = run("sweep", spec, "--jobs", "2", "--out", out)
    assert f"{len(rows)} already done" in p.stderr, p.stderr
    assert_same_metrics(reference, out, f"resumed after {sig.name}")


def main():
    with tempdir() as d:
        spec = write_spec(d, trials=8, epochs=4, train_size=1024)
        reference = os.path.join(d, "reference.h5")
        run("sweep", spec, "--jobs", "2", "--out", reference)
        for sig in (signal.SIGKILL, signal.SIGTERM):
            check(sig, reference, d)
    print("ok: SIGKILL and SIGTERM mid-sweep lose nothing; resume matches the reference")


if __name__ == "__main__":
    main()
