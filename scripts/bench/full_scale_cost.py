#!/usr/bin/env python3
"""Core-hours of the Jozefowicz specs at full scale, estimated from measurements
(docs/reproductions.md, "Full scale"). Usage, from the repository root:

  /usr/bin/python3 scripts/bench/full_scale_cost.py [--exe build/framework/cellzoo]
      [--data DIR] [--only arithmetic,xml,ptb,ptb-dropout]

Arithmetic and XML, from their committed reduced sweeps (results/data/<name>.h5):
  full CPU-h = (sum of the reduced runs' wall_seconds, one thread each)
               x (220 / reduced trials) x (full epoch time / reduced epoch time).
  The epoch-time ratio is measured here, side by side: `cellzoo train` of one epoch of a
  GRU at the full scale's settings (both budgets, 1 and 4 layers, averaged as the search
  draws them) against the reduced scale's (1 and 2 layers), on the same small data counts
  in the splits' proportions, times the ratio of training-set sizes. Assumes a full-scale
  run takes as many epochs as a reduced one (same cap and schedule): an estimate, not a
  promise. At a fixed budget every cell has the same parameter count, so one cell stands
  in for all.
PTB and PTB with dropout (no reduced sweep committed): one epoch of 1,327 windows (930K
  tokens / (20 x 35)) plus a validation pass, from two short runs per model size
  (epoch_size 5 and 45 windows: the difference is 40 windows, the rest is the evaluation
  of validation and test, 47 % of it validation); runs x epochs x that, for 10 epochs
  (the shortest the schedule allows is 8) and for the cap (40 for PTB; 39, Zaremba et
  al.'s medium model, for the dropout spec).
Prints Markdown rows, then the machine and the commit.
"""
import argparse
import os
import platform
import resource
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRIALS_FULL = 220
# PTB: windows of 20 x 35 tokens in one pass over the 929,589 training tokens; the two
# short epochs that separate a window's cost from the evaluation's; the validation split's
# share of validation + test tokens (73,760 of 156,190), evaluated every epoch.
WINDOWS = 929589 // (20 * 35)
SHORT, LONG = 5, 45
VALID_SHARE = 73760 / (73760 + 82430)
GRU = ["--cell", "gru"]
SGD = ["optimizer=sgd", "momentum=0", "lr=0.1", "clip=5", "init_scale=1", "batch_size=20",
       "reduction=sequence", "max_epochs=1"]


def train_seconds(exe, task, sets, data=None):
    """CPU seconds (user + system) of one `cellzoo train`, so that other processes on the
    machine slow it less than its wall time (training is one thread)."""
    cmd = [exe, "train", *GRU, "--task", task, "--quiet"]
    if data:
        cmd += ["--data", data]
    for s in SGD + sets:
        cmd += ["--set", s]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0 or "status ok" not in p.stdout:
        sys.exit(f"full_scale_cost: {' '.join(cmd)} failed:\n{p.stdout}{p.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def mean_time(exe, task, common, budgets, layers):
    return float(np.mean([train_seconds(exe, task, common + [f"param_budget={b}",
                                                             f"layers={n}"])
                          for b in budgets for n in layers]))


def reduced_cpu_hours(name):
    path = os.path.join(HERE, "results", "data", f"{name}.h5")
    if not os.path.exists(path):
        return None, None
    with h5py.File(path, "r") as f:
        runs = f["runs"][:]
    return float(runs["wall_seconds"].sum()) / 3600, int(runs["trial"].max()) + 1


def synthetic(exe, name, task, small, full, reduced, train_ratio):
    hours, trials = reduced_cpu_hours(name)
    if hours is None:
        print(f"| {name} | no reduced sweep in results/data/ | | | |")
        return
    t_full = mean_time(exe, task, small + full["sets"], full["budgets"], [1, 4])
    t_reduced = mean_time(exe, task, small + reduced["sets"], reduced["budgets"], [1, 2])
    ratio = t_full / t_reduced * train_ratio
    estimate = hours * TRIALS_FULL / trials * ratio
    print(f"| {name} | {hours:.2f} CPU-h, {trials} trials | {t_reduced:.2f} s -> "
          f"{t_full:.2f} s, x {train_ratio:g} data = {ratio:.2f}x | "
          f"{estimate:,.0f} CPU-h | {estimate / 2:,.0f} h on 2 cores |")


def ptb(exe, name, data, runs, sets, layer_counts, cap):
    per_epoch, parts = [], []
    for layers in layer_counts:
        common = sets + [f"layers={layers}", "task.metric=accuracy"]
        short = train_seconds(exe, "words", common + [f"epoch_size={SHORT}"], data)
        long = train_seconds(exe, "words", common + [f"epoch_size={LONG}"], data)
        window = (long - short) / (LONG - SHORT)
        evaluation = short - SHORT * window
        per_epoch.append(WINDOWS * window + VALID_SHARE * evaluation)
        parts.append(f"{layers} layer{'s' if layers > 1 else ''}: window {window:.3f} s, "
                     f"evaluation {evaluation:.0f} s")
    epoch = float(np.mean(per_epoch))
    low, high = runs * 10 * epoch / 3600, runs * cap * epoch / 3600
    print(f"| {name} | none ({runs} runs at full scale) | one epoch {epoch:,.0f} s "
          f"({'; '.join(parts)}) | {low:,.0f}-{high:,.0f} CPU-h "
          f"(10-{cap} epochs) | {low / 2:,.0f}-{high / 2:,.0f} h on 2 cores |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exe", default=os.path.join(HERE, "build", "framework", "cellzoo"))
    ap.add_argument("--data", default=os.path.join(HERE, "..", "shared", "datasets"),
                    help="directory holding ptb/ (default ../shared/datasets)")
    ap.add_argument("--only", default="arithmetic,xml,ptb,ptb-dropout")
    args = ap.parse_args()
    only = set(args.only.split(","))
    print("| experiment | reduced sweep (committed) | epoch time, reduced -> full | "
          "full scale | |")
    print("|---|---|---|---|---|")
    if "arithmetic" in only:
        synthetic(args.exe, "jozefowicz2015-arithmetic", "arithmetic",
                  ["task.n_train=5000", "task.n_valid=500", "task.n_test=500",
                   "task.operands=uniform_digits", "task.distractor_p=0.3"],
                  dict(sets=["task.digits=8"], budgets=[250000, 1000000]),
                  dict(sets=["task.digits=3"], budgets=[100000]), 1)
    if "xml" in only:
        synthetic(args.exe, "jozefowicz2015-xml", "xml",
                  ["task.n_train=500", "task.n_valid=50", "task.n_test=50"],
                  dict(sets=[], budgets=[250000, 1000000]),
                  dict(sets=[], budgets=[50000]), 5000 / 2000)
    ptb_data = os.path.join(args.data, "ptb")
    if only & {"ptb", "ptb-dropout"} and not os.path.exists(os.path.join(ptb_data,
                                                                         "ptb.train.txt")):
        sys.exit(f"full_scale_cost: {ptb_data}/ptb.train.txt is missing (--data DIR)")
    if "ptb" in only:
        ptb(args.exe, "jozefowicz2015-ptb", ptb_data, 12 * TRIALS_FULL,
            ["param_budget=5000000", "bptt=35"], [1, 4], 40)
    if "ptb-dropout" in only:
        ptb(args.exe, "jozefowicz2015-ptb-dropout", ptb_data, 5 * 20,
            ["param_budget=20000000", "bptt=35", "dropout=0.5"], [2], 39)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                            capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"\nmachine: {cpu}, {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}; "
          f"commit {commit}; {args.exe}")


if __name__ == "__main__":
    main()
