"""`scripts/reproduce --check`: every committed report and every number quoted in
docs/reproductions.md is re-derived from the committed results files (results/data/), and
a changed number, a report without evidence or an edited include block fails it."""
import os
import re
import shutil
import subprocess
import sys

from sweep_support import EXE, tempdir  # noqa: F401  (skips without h5py/numpy or binary)

try:
    import matplotlib  # noqa: F401
    import pandas  # noqa: F401
    import sklearn  # noqa: F401
    import statsmodels  # noqa: F401
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import the analysis stack ({e})", file=sys.stderr)
    sys.exit(77)

SOURCE = os.environ["CELLZOO_SOURCE_DIR"]
CHECK = os.path.join(SOURCE, "scripts", "reproduction_check.py")
REPORTS = os.path.join(SOURCE, "results", "reports")
DOC = os.path.join(SOURCE, "docs", "reproductions.md")


def check(doc, fresh=REPORTS, committed=REPORTS):
    return subprocess.run([sys.executable, CHECK, "--fresh", fresh, "--committed", committed,
                           "--doc", doc], capture_output=True, text=True, timeout=120)


def main():
    evidence = [f for f in os.listdir(os.path.join(SOURCE, "results", "data"))
                if f.endswith(".h5")]
    assert evidence, "results/data/ holds no results file: the reproductions have no evidence"
    env = dict(os.environ, CELLZOO_EXE=EXE, CELLZOO_PYTHON=sys.executable)
    p = subprocess.run([os.path.join(SOURCE, "scripts", "reproduce"), "--check"], cwd=SOURCE,
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "re-derived from results/data/" in p.stdout, p.stdout

    # The committed reports equal the re-derived ones now, so they stand in for them below.
    with open(DOC) as f:
        doc = f.read()
    # The prose: include blocks out first (their markers are comments), then code and comments.
    prose = re.sub(r"```.*?```|<!--.*?-->", "", re.sub(
        r"<!-- include .*?<!-- end include -->", "", doc, flags=re.S), flags=re.S)
    with tempdir() as d:
        edited = os.path.join(d, "doc.md")

        def expect_nudge_caught(match, group):
            """The doc with the number of `match`'s `group` (in the prose) one higher in its
            last digit must fail the check, naming that number."""
            number = match.group(group)
            nudged = number[:-1] + str(int(number[-1]) + 1)
            context = prose[max(0, match.end(group) - len(number) - 40):match.end(group)]
            assert doc.count(context) == 1, context  # locates this occurrence in the doc
            with open(edited, "w") as f:
                f.write(doc.replace(context, context[:-len(number)] + nudged))
            p = check(edited)
            assert p.returncode == 1 and f"{nudged} is in no re-derived report" in p.stderr, \
                (number, nudged, p.stderr)

        # A quoted number nudged in its last digit is caught, with its line.
        quoted = re.search(r"(?<![\w.\-])\d+\.\d*[1-8](?![\w.])", prose)
        assert quoted, "docs/reproductions.md quotes no decimal number outside includes"
        expect_nudge_caught(quoted, 0)

        # So is the upper end of a range ("0.141-0.188").
        ranged = re.search(r"(?<=\d)-(\d+\.\d*[1-8])(?![\w.])", prose)
        assert ranged, "docs/reproductions.md quotes no range of decimal numbers"
        expect_nudge_caught(ranged, 1)

        # An include block edited by hand is caught.
        block = re.search(r"<!-- include (\S+) -->\n(.*?)<!-- end include -->", doc, re.S)
        assert block, "docs/reproductions.md includes no generated report"
        with open(edited, "w") as f:
            f.write(doc.replace(block.group(2), block.group(2).replace("|", "| ", 1), 1))
        p = check(edited)
        assert p.returncode == 1 and "is not its text" in p.stderr, p.stderr

        # A committed report with no results file behind it, and a changed report.
        committed = os.path.join(d, "reports")
        shutil.copytree(REPORTS, committed)
        with open(os.path.join(committed, "orphan.txt"), "w") as f:
            f.write("p = 0.01\n")
        name = next(n for n in sorted(os.listdir(committed)) if n.endswith("-verdicts.md"))
        with open(os.path.join(committed, name), "a") as f:
            f.write("a line the data do not give\n")
        p = check(DOC, committed=committed)
        assert p.returncode == 1, p.stderr
        assert "orphan.txt: not re-derived" in p.stderr, p.stderr
        assert f"{name} differs from what results/data/ gives" in p.stderr, p.stderr
    print(f"ok: scripts/reproduce --check re-derives {len(evidence)} results file(s)' reports "
          "and numbers, and catches a nudged number, an edited include, an orphan and a "
          "changed report")


if __name__ == "__main__":
    main()
