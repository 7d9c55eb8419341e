"""Small things a new user sees: `cellzoo cells` marks the counts of cells that need I = H,
JSON and CSV print the shortest round-trip numbers (0.1, not 0.10000000000000001), `cellzoo
report` without --baseline on a file without lstm takes the spec's first listed cell and
says so, and `cellzoo --version` prints the build's provenance."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import SMALL_SPEC, run, tempdir, write_spec  # noqa: E402


def main():
    cells = run("cells").stdout
    mut1 = next(line for line in cells.splitlines() if line.startswith("mut1 "))
    assert re.search(r"\d+\*", mut1) and "[needs I = H]" in mut1, mut1
    assert "* counted with I = H = 128" in cells, cells
    lstm = next(line for line in cells.splitlines() if line.startswith("lstm "))
    assert "*" not in lstm, lstm
    square = run("cells", "--input", "64", "--hidden", "64").stdout
    assert not re.search(r"\d\*", square) and "counted with I = H" not in square, square

    # --help defaults in the shortest form too (gradcheck's tolerance was 9.9999999999999995e-07).
    noise = re.compile(r"\d\.\d*(0{8,}|9{8,})\d")
    for command in ("train", "sweep", "report", "bench", "slurm", "merge", "eval", "cells",
                    "gradcheck", "mutate", "top"):
        text = run(command, "--help").stdout
        assert not noise.search(text), (command, noise.search(text))
    assert "(=1e-06)" in run("gradcheck", "--help").stdout

    version = run("--version").stdout
    for field in ("commit:", "compiler:", "compile flags:", "instruction sets:", "Eigen:",
                  "host CPU:", "OS:", "C library:", "numerical path:"):
        assert re.search(rf"^{field}", version, re.M), (field, version)

    with tempdir() as d:
        text = SMALL_SPEC.format(trials=3, epochs=1, train_size=64).replace(
            "cells = rnn, lstm, gru", "cells = gru, rnn")
        spec = write_spec(d, text=text)
        out = os.path.join(d, "no-lstm.h5")
        run("sweep", spec, "--out", out, "--jobs", "2")
        table = " ".join(run("report", out, "--bootstrap", "0").stdout.split())  # unwrapped
        assert "the baseline is gru, the spec's first listed cell" in table, table
        p = run("report", out, "--format", "json", "--bootstrap", "0")
        assert "the baseline is gru" in p.stderr, p.stderr
        rep = json.loads(p.stdout)
        assert rep["baseline"] == "gru", rep["baseline"]
        for setting in ('"top_fraction": 0.1,', '"alpha": 0.05,', '"power": 0.8,'):
            assert setting in p.stdout, (setting, p.stdout[:600])
        # 17 significant digits where fewer read back the same: 0.10000000000000001.
        assert not noise.search(p.stdout), noise.search(p.stdout)
        p = run("report", out, "--format", "csv", "--bootstrap", "0")
        assert not noise.search(p.stdout), noise.search(p.stdout)
    print("ok: cells marks I = H counts; shortest numbers; report's default baseline; "
          "--version provenance")


if __name__ == "__main__":
    main()
