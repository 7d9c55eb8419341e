"""`cellzoo bench --epoch`: whole epochs of Greff's JSB protocol on a tiny piano-roll file
report sane numbers, and bad input is one clear error (exit 2) naming the fix. No speed is
asserted: speed belongs in benchmarks.

Exit codes: 0 pass, 1 failure, 77 skipped (no cellzoo executable).
"""
import json
import os
import subprocess
import tempfile

from bench_support import Checks, cellzoo_exe, write_rolls

exe = cellzoo_exe()
check = Checks()


def bench(*args):
    return subprocess.run([exe, "bench", *args], capture_output=True, text=True, timeout=300)


with tempfile.TemporaryDirectory() as tmp:
    rolls = write_rolls(tmp, [[60, 64, 67], [62, 65], [], [64, 67, 72], [60], [59, 62, 67],
                              [60, 72]])

    ok = bench("--epoch", rolls, "--cell", "lstm", "--cell", "gru-ra", "--epochs", "3",
               "--repeat", "2", "--set", "hidden=6", "--json")
    check(ok.returncode == 0, f"bench --epoch exit {ok.returncode}: {ok.stderr}")
    recs = [json.loads(line) for line in ok.stdout.splitlines() if line.startswith("{")]
    check([r["cell"] for r in recs] == ["lstm", "gru-ra"], f"cells {recs}")
    for r in recs:
        check(r["workload"] == "greff-jsb-epoch" and r["hidden"] == 6 and r["epochs"] == 3,
              f"record {r}")
        check(r["seconds_per_epoch"] > 0 and r["cpu_seconds_per_epoch"] > 0, f"times {r}")
        # (Above 1 is possible at this toy size, where evaluate()'s set-up dominates.)
        check(r["eval_share"] > 0 and r["eval_cpu_seconds"] > 0, f"evaluation share {r}")
        check(r["train_forward_cpu_seconds"] >= 0 and r["eval_forward_cpu_seconds"] >= 0,
              f"forward times {r}")

    table = bench("--epoch", rolls, "--epochs", "2", "--repeat", "1", "--set", "hidden=4")
    check(table.returncode == 0 and "eval share" in table.stdout and "lstm" in table.stdout,
          f"table: {table.stdout} {table.stderr}")

    # Bad input: exit 2, one error naming the problem, nothing measured.
    for args, words in [
        (("--epoch", rolls, "--epochs", "1"), "at least 2"),
        (("--epoch", rolls, "--size", "G"), "no --size"),
        (("--set", "hidden=4", "--size", "T"), "--epoch only"),
        (("--epoch", rolls, "--set", "hidden"), "not key=value"),
        (("--epoch", os.path.join(tmp, "missing.json"), "--epochs", "2"), "does not exist"),
    ]:
        bad = bench(*args)
        check(bad.returncode == 2 and words in bad.stderr and not bad.stdout.strip().count("{"),
              f"{args}: exit {bad.returncode}, stderr {bad.stderr!r}")

check.finish()
