"""A million-run spec costs what its shard needs, not the whole run list (issue 20):
`--dry-run` of 1,000,000 runs and `--shard 999/1000 --dry-run` stay under 100 MB and 50 MB
of peak RSS (the run list alone took 9 KB a run, 8.6 GB), and the last runs it prints are
the ones the list would hold. Memory is measured with getrusage (RUSAGE_CHILDREN), which
a loaded machine does not change; the processes also run under a 2 GB address-space limit,
so a regression fails quickly instead of filling the machine."""
import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import EXE, tempdir, write_spec  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "bench"))
from million_runs import SPEC  # noqa: E402  (the benchmark's tiny spec, 4 cells)


def limited():
    limit = 2 * 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def peak_mb(args):
    """Runs cellzoo in a fresh child and returns (stdout, its peak RSS in MB, seconds)."""
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "sys.stderr.write(p.stderr)\n"
            "sys.stdout.write(p.stdout)\n"
            "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(p.returncode)\n")
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-c", code, EXE] + args, capture_output=True, text=True,
                       preexec_fn=limited)
    seconds = time.monotonic() - start
    assert p.returncode == 0, p.stderr
    kb = int(re.search(r"^PEAK_KB (\d+)$", p.stdout, re.M).group(1))
    return p.stdout, kb / 1024, seconds


def main():
    with tempdir() as d:
        spec = write_spec(d, text=SPEC)
        out = os.path.join(d, "million.h5")
        million = ["--set", "trials=250000"]
        text, mb, seconds = peak_mb(["sweep", spec, "--dry-run", "--out", out] + million)
        print(f"--dry-run of 1,000,000 runs: {mb:.0f} MB, {seconds:.1f} s")
        assert "runs: 1000000 (4 cells x 250000 random-search runs)" in text, text
        assert mb < 100, f"--dry-run of a million runs peaked at {mb:.0f} MB"
        assert re.search(r"^last runs:\n(  \d+ .*\n){5}", text, re.M), text
        last = r"^  999999 lstm-cifg/hidden:\d+/lr:[\d.e-]+/trial:249999$"
        assert re.search(last, text, re.M), text
        assert re.search(r"^  0 rnn/hidden:\d+/lr:[\d.e-]+/trial:0$", text, re.M), text
        assert not os.path.exists(out)

        text, mb, seconds = peak_mb(["sweep", spec, "--dry-run", "--out", out,
                                     "--shard", "999/1000"] + million)
        print(f"--shard 999/1000 --dry-run: {mb:.0f} MB, {seconds:.1f} s")
        assert "shard: 999/1000 = runs 999000..999999 (1000)" in text, text
        assert mb < 50, f"a shard of a million runs peaked at {mb:.0f} MB"
        assert re.search(r"^first runs:\n  999000 lstm-cifg/", text, re.M), text


if __name__ == "__main__":
    main()
