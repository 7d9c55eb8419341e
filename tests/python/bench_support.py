"""Shared set-up of the benchmark smoke tests (test_bench_epoch.py, test_compare_torch.py):
the cellzoo executable (the test is skipped without it), a collector of failed checks that
reports them all at the end, and a tiny piano-roll file for Greff's epoch protocol."""
import json
import os
import sys

from skipping import skip


def cellzoo_exe() -> str:
    exe = os.environ.get("CELLZOO_EXE", "")
    if not os.access(exe, os.X_OK):
        skip(f"CELLZOO_EXE ({exe!r}) is not an executable; run through ctest")
    return exe


class Checks:
    """check(cond, what) records a failure and goes on; finish() exits 1 if any failed."""

    def __init__(self) -> None:
        self.failures: list = []

    def __call__(self, cond: bool, what: str) -> None:
        if not cond:
            self.failures.append(what)
            print("FAIL", what)

    def finish(self) -> None:
        if self.failures:
            print(f"{len(self.failures)} check(s) failed")
            sys.exit(1)
        print("all checks passed")


def write_rolls(directory: str, piece: list) -> str:
    """A piano-roll JSON file (three splits) made of `piece` and its slices."""
    path = os.path.join(directory, "rolls.json")
    with open(path, "w") as f:
        json.dump({"train": [piece, piece[:4], piece[1:]], "valid": [piece[:3], piece],
                   "test": [piece[2:]]}, f)
    return path
