"""Smoke test of scripts/bench/compare_torch.py and scripts/bench/soak.py: a tiny run of
each must finish and report sane numbers (the table's shape, positive rates, a ratio that
is cellzoo's rate over torch's). No speed is asserted: speed belongs in benchmarks.

Exit codes: 0 pass, 1 failure, 77 skipped (torch missing or no cellzoo executable).
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import torch  # noqa: F401
except ImportError:
    print("skipped: this Python has no torch (on Debian: apt-get install python3-torch)")
    sys.exit(77)

src = os.environ.get("CELLZOO_SOURCE_DIR", os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
from bench_support import Checks, cellzoo_exe, write_rolls  # noqa: E402

exe = cellzoo_exe()
check = Checks()

sys.path.insert(0, os.path.join(src, "scripts", "bench"))
import compare_torch  # noqa: E402

# The BLAS check: Debian's reference BLAS alone is refused, OpenBLAS is found.
check(compare_torch.optimised_blas(["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"]) is None,
      "reference BLAS is not optimised")
check(compare_torch.optimised_blas(
    ["/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"]) is not None, "OpenBLAS found")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "r.json")
    # A tiny piano-roll file for the Greff epoch phase (cellzoo bench --epoch and torch).
    rolls = write_rolls(tmp, [[60, 64, 67], [62, 65], [], [64, 67, 72], [60], [59, 62, 67]])
    proc = subprocess.run(
        [sys.executable, os.path.join(src, "scripts", "bench", "compare_torch.py"), "--cellzoo",
         exe, "--quick", "--sizes", "T,G", "--pairs", "rnn", "--extras", "lstm", "--json", out,
         "--epoch", rolls, "--epochs", "2", "--epoch-set", "hidden=8"],
        capture_output=True, text=True, timeout=600)
    print(proc.stdout)
    check(proc.returncode == 0, f"compare_torch.py exit code {proc.returncode}: {proc.stderr}")
    if proc.returncode == 0:
        res = json.load(open(out))
        pairs = {(p["cell"], p["size"]): p for p in res["pairs"]}
        check(set(pairs) == {(c, s) for c in ("rnn", "lstm-np") for s in ("T", "G")},
              f"pairs {sorted(pairs)}")
        for p in pairs.values():
            check(p["cellzoo_seq_s"] > 0 and p["torch_seq_s"] > 0, f"positive rates {p}")
            check(abs(p["ratio"] - p["cellzoo_seq_s"] / p["torch_seq_s"]) < 1e-9 * p["ratio"],
                  f"ratio is cellzoo / torch {p}")
        # Two shapes per size, each timed with Eigen, the packed per-step kernel and, in a
        # build with OpenBLAS, OpenBLAS.
        libs = {g["library"] for g in res["gemm"]}
        check({(g["size"], g["shape"]) for g in res["gemm"]} ==
              {(s, sh) for s in ("T", "G") for sh in ("4HxH*HxB", "4HxI*IxTB")}
              and {"eigen", "eigen-packed"} <= libs <= {"eigen", "eigen-packed", "openblas"}
              and len(res["gemm"]) == 4 * len(libs) and res["gemm_peak_gflops"] > 0,
              f"gemm {res['gemm']}")
        check([(e["cell"], e["size"]) for e in res["extras"]] == [("lstm", "T"), ("lstm", "G")],
              f"extras {res['extras']}")
        check(len(res["two_process"]) == 4, f"two_process {res['two_process']}")
        epochs = {e["cell"]: e for e in res["epoch"]}
        check(set(epochs) == {"lstm", "lstm-np"}, f"epoch cells {sorted(epochs)}")
        for e in epochs.values():
            check(e["cellzoo_seconds"] > 0 and e["torch_seconds"] > 0, f"epoch times {e}")
            check(0 < e["cellzoo_eval_share"] < 1 and 0 < e["torch_eval_share"] < 1,
                  f"evaluation shares {e}")
        check("ratio" in proc.stdout and "torch" in proc.stdout, "table printed")

    soak = subprocess.run(
        [sys.executable, os.path.join(src, "scripts", "bench", "soak.py"), "--cellzoo", exe,
         "--runs", "200", "--interval", "0.01"], capture_output=True, text=True, timeout=600)
    print(soak.stdout)
    check(soak.returncode == 0, f"soak.py exit code {soak.returncode}: {soak.stderr}")
    check("200 runs" in soak.stdout and "peak" in soak.stdout, "soak report")

    # A missing executable is a clear error, not a traceback.
    bad = subprocess.run(
        [sys.executable, os.path.join(src, "scripts", "bench", "compare_torch.py"), "--cellzoo",
         os.path.join(tmp, "missing")], capture_output=True, text=True, timeout=600)
    check(bad.returncode == 1 and "no cellzoo executable" in bad.stderr, f"missing exe: {bad}")

check.finish()
