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
exe = os.environ.get("CELLZOO_EXE", "")
if not os.access(exe, os.X_OK):
    print(f"skipped: CELLZOO_EXE ({exe!r}) is not an executable; run through ctest")
    sys.exit(77)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)


with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "r.json")
    proc = subprocess.run(
        [sys.executable, os.path.join(src, "scripts", "bench", "compare_torch.py"), "--cellzoo",
         exe, "--quick", "--sizes", "T", "--pairs", "rnn", "--extras", "lstm", "--json", out],
        capture_output=True, text=True, timeout=600)
    print(proc.stdout)
    check(proc.returncode == 0, f"compare_torch.py exit code {proc.returncode}: {proc.stderr}")
    if proc.returncode == 0:
        res = json.load(open(out))
        pairs = {(p["cell"], p["size"]): p for p in res["pairs"]}
        check(set(pairs) == {("rnn", "T"), ("lstm-np", "T")}, f"pairs {sorted(pairs)}")
        for p in pairs.values():
            check(p["cellzoo_seq_s"] > 0 and p["torch_seq_s"] > 0, f"positive rates {p}")
            check(abs(p["ratio"] - p["cellzoo_seq_s"] / p["torch_seq_s"]) < 1e-9 * p["ratio"],
                  f"ratio is cellzoo / torch {p}")
        check(len(res["gemm"]) == 2 and res["gemm_peak_gflops"] > 0, f"gemm {res['gemm']}")
        check([(e["cell"], e["size"]) for e in res["extras"]] == [("lstm", "T")],
              f"extras {res['extras']}")
        check(len(res["two_process"]) == 2, f"two_process {res['two_process']}")
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

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
