#!/usr/bin/python3
"""Memory soak: thousands of tiny runs in one `cellzoo sweep` process, RSS sampled over time.

Writes a spec of `--runs` runs (4 cells x runs/4 trials, 1 epoch on a tiny adding task),
runs `cellzoo sweep --jobs N` on it and samples the process's resident set size
(/proc/PID/status VmRSS) every `--interval` seconds. Prints the RSS at 10%, 25%, 50%, 75%
and 100% of the run time and the growth from the 25% mark to the end: a leak grows with the
number of runs, while the workspaces and the HDF5 writer's caches reach their size early.
Linux only (reads /proc). Exit codes: 0 done, 1 error.

  /usr/bin/python3 scripts/bench/soak.py --cellzoo build/framework/cellzoo --runs 4000
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

SPEC = """# soak.py: many tiny runs to look for memory growth
name = soak
task = adding
cells = rnn, lstm, gru-ra, lstm-cifg
trials = {trials}
seed = 11

[task]
length = 20
n_train = 512
n_valid = 128
n_test = 128

[fixed]
optimizer = adam
max_epochs = 1
batch_size = 16

[space]
hidden = int_loguniform(8, 32)
lr = loguniform(1e-3, 1e-2)
"""


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cellzoo", default=os.environ.get(
        "CELLZOO_EXE", os.path.join(here, "build", "framework", "cellzoo")))
    ap.add_argument("--runs", type=int, default=4000, help="runs in all (multiple of 4)")
    ap.add_argument("--jobs", type=int, default=1, help="cellzoo sweep --jobs")
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between samples")
    args = ap.parse_args()
    if not os.access(args.cellzoo, os.X_OK):
        print(f"error: no cellzoo executable at {args.cellzoo}; pass --cellzoo PATH",
              file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="cellzoo-soak-")
    try:
        spec = os.path.join(tmp, "soak.ini")
        with open(spec, "w") as f:
            f.write(SPEC.format(trials=max(1, args.runs // 4)))
        cmd = [args.cellzoo, "sweep", spec, "--jobs", str(args.jobs), "--out",
               os.path.join(tmp, "soak.h5"), "--log-interval", "3600"]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        samples = []  # (seconds, KiB)
        while proc.poll() is None:
            kib = rss_kib(proc.pid)
            if kib is not None:
                samples.append((time.perf_counter() - start, kib))
            time.sleep(args.interval)
        err = proc.stderr.read()
        if proc.returncode != 0:
            print(f"error: {' '.join(cmd)} exited with {proc.returncode}:\n{err}", file=sys.stderr)
            return 1
        wall = time.perf_counter() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if len(samples) < 5:
        print("error: the sweep ended before enough RSS samples; use more --runs",
              file=sys.stderr)
        return 1
    print(f"{4 * max(1, args.runs // 4)} runs, --jobs {args.jobs}, {wall:.1f} s wall, "
          f"{len(samples)} RSS samples")
    marks = {}
    for frac in (0.10, 0.25, 0.50, 0.75, 1.00):
        idx = min(len(samples) - 1, int(frac * (len(samples) - 1)))
        marks[frac] = samples[idx][1]
        print(f"  RSS at {100 * frac:3.0f}% of the time: {samples[idx][1] / 1024:7.1f} MiB")
    peak = max(k for _, k in samples)
    growth = marks[1.00] - marks[0.25]
    print(f"  peak {peak / 1024:.1f} MiB; growth from 25% to the end {growth / 1024:+.1f} MiB "
          f"({growth / max(1, 0.75 * args.runs):+.2f} KiB per run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
