#!/usr/bin/env python3
"""Issue 20's targets for million-run sweeps, measured (docs/performance.md, "Million-run
sweeps"). Usage:

  /usr/bin/python3 scripts/bench/million_runs.py [--build build] [--runs 1000000]
      [--small 40] [--large 16000] [--only dry,shard,sweeps,resume] [--work DIR]

With the cellzoo of --build, on a tiny spec (4 cells on adding, T = 10, 2 epochs):
  dry     `cellzoo sweep --dry-run` of a --runs spec: wall time, peak RSS (/usr/bin/time -v)
  shard   `--shard 999/1000` of it: time and peak RSS (VmHWM) when the sweep logs "... N to
          run", right before its first run starts; then stopped with SIGTERM
  sweeps  whole sweeps of --small and --large runs (--jobs 2): peak RSS of each, the ratio
  resume  a resume of a finished --runs file (written by the fake_results tool of the
          build's tests, not trained) with nothing left to run: wall time, peak RSS
Targets: dry < 2 s and < 100 MB; shard < 1 s and < 50 MB; ratio <= 1.25; resume < 5 s.
Prints one Markdown table row per measurement, then the machine, load and commit.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

SPEC = """name = million
description = issue 20's benchmark: 4 tiny cells on the adding problem, 2 epochs
task = adding
cells = rnn, lstm, gru, lstm-cifg
trials = 10
seed = 1

[task]
length = 10
n_train = 64
n_valid = 32
n_test = 32

[fixed]
max_epochs = 2
batch_size = 32

[space]
hidden = int_loguniform(4, 16)
lr = loguniform(1e-3, 1e-1)
"""
CELLS = 4


def timed(cmd, **kw):
    """Runs cmd under /usr/bin/time -v: (seconds, CPU seconds, peak RSS in MB, stdout, stderr)."""
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", p.stderr).group(1))
              for k in ("User", "System"))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", p.stderr)
    parts = [float(x) for x in wall.group(1).split(":")]
    seconds = sum(v * 60 ** (len(parts) - 1 - i) for i, v in enumerate(parts))
    return seconds, cpu, rss / 1024, p.stdout, p.stderr


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def until_first_run(cmd):
    """Starts cmd; returns (seconds, CPU seconds, peak RSS MB, the line) when it logs
    '... N to run', right before its first run; then stops it (SIGTERM)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in p.stderr:
            if re.search(r"\d+ to run$", line.strip()):
                seconds, rss = time.monotonic() - start, vm_hwm_mb(p.pid)
                return seconds, cpu_seconds(p.pid), rss, line.strip()
        sys.exit(f"no '... to run' line from {' '.join(cmd)} (exit {p.wait()})")
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        p.wait()


def row(what, seconds, cpu, mb, target, ok, note=""):
    print(f"| {what} | {seconds:.2f} s | {cpu:.2f} s | {mb:.0f} MB | {target} | "
          f"{'yes' if ok else 'NO'} | {note} |", flush=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(root, "build"))
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=40)
    ap.add_argument("--large", type=int, default=16_000)
    ap.add_argument("--only", default="dry,shard,sweeps,resume")
    ap.add_argument("--work", default=None, help="scratch directory (default: a new temp dir)")
    a = ap.parse_args()
    only = set(a.only.split(","))
    cellzoo = os.path.join(a.build, "framework", "cellzoo")
    work = a.work or tempfile.mkdtemp(prefix="cellzoo-million-")
    os.makedirs(work, exist_ok=True)
    spec = os.path.join(work, "million.ini")
    with open(spec, "w") as f:
        f.write(SPEC)
    trials = f"trials={a.runs // CELLS}"
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    load_before = os.getloadavg()
    print(f"cellzoo: {cellzoo} (commit {commit}); spec: {spec}; work: {work}")
    print("| measurement | wall time | CPU time | peak RSS | target | met (wall) | note |")
    print("|---|---|---|---|---|---|---|")

    if "dry" in only:
        s, cpu, mb, out, _ = timed([cellzoo, "sweep", spec, "--set", trials, "--dry-run",
                                    "--out", os.path.join(work, "dry.h5")])
        runs = re.search(r"^runs: (\d+)", out, re.M).group(1)
        row(f"`--dry-run`, {int(runs):,} runs", s, cpu, mb, "< 2 s, < 100 MB",
            s < 2 and mb < 100)

    if "shard" in only:
        out = os.path.join(work, "shard-999.h5")
        s, cpu, mb, line = until_first_run([cellzoo, "sweep", spec, "--set", trials, "--shard",
                                            "999/1000", "--jobs", "1", "--out", out])
        n = re.search(r"(\d+) to run$", line).group(1)
        row(f"`--shard 999/1000` of {a.runs:,} runs, until its first run ({n} to run)", s, cpu,
            mb, "< 1 s, < 50 MB", s < 1 and mb < 50)

    if "sweeps" in only:
        peaks = {}
        for n in (a.small, a.large):
            out = os.path.join(work, f"sweep-{n}.h5")
            if os.path.exists(out):
                os.remove(out)  # a whole sweep, not a resume
            s, cpu, mb, _, _ = timed([cellzoo, "sweep", spec, "--set", f"trials={n // CELLS}",
                                      "--jobs", "2", "--log-interval", "600", "--out", out])
            peaks[n] = mb
            row(f"whole sweep of {n:,} tiny runs (`--jobs 2`)", s, cpu, mb, "", True)
        ratio = peaks[a.large] / peaks[a.small]
        print(f"| peak RSS ratio {a.large:,} / {a.small:,} runs | | | {ratio:.2f}x | <= 1.25x | "
              f"{'yes' if ratio <= 1.25 else 'NO'} | |", flush=True)

    if "resume" in only:
        out = os.path.join(work, f"finished-{a.runs}.h5")
        if not os.path.exists(out):
            t0 = time.monotonic()
            subprocess.run([os.path.join(a.build, "tests", "fake_results"), spec, out, trials],
                           check=True, stdout=subprocess.DEVNULL)
            print(f"(wrote {out}: {os.path.getsize(out) / 2**20:.0f} MB in "
                  f"{time.monotonic() - t0:.0f} s, untimed)")
        s, cpu, mb, _, err = timed([cellzoo, "sweep", spec, "--set", trials, "--out", out])
        line = [ln for ln in err.splitlines() if "to run" in ln][-1]
        row(f"resume of a finished {a.runs:,}-run file", s, cpu, mb, "< 5 s", s < 5,
            line.split(": ", 1)[-1])

    load_after = os.getloadavg()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), "?")
    print(f"\nmachine: {os.cpu_count()} CPUs ({cpu}); load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after (the machine is shared: other jobs ran meanwhile)")


if __name__ == "__main__":
    main()
