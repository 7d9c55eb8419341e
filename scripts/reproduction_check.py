"""The last step of `scripts/reproduce --check`: compares the reports just re-derived from
results/data/ with the committed ones, and docs/reproductions.md with both.

    python3 scripts/reproduction_check.py --fresh DIR --committed results/reports \
        --doc docs/reproductions.md [NAME...]

Fails (exit 1, one line per problem) when
  - a committed report (text or figure) was not re-derived: its results file is missing;
  - a re-derived text report differs from the committed one (a changed number);
  - a re-derived report is not committed;
  - a block of the doc between `<!-- include results/reports/X -->` and
    `<!-- end include -->` is not the file's text;
  - a decimal number in the doc's prose or tables (code blocks aside) appears in no
    re-derived report and is not listed in the doc's
    `<!-- numbers not from results: ... -->` comment (the papers' values and protocol
    settings). Numbers are compared as printed: quote them as the reports print them.
"""
import argparse
import difflib
import os
import re
import sys

NUMBER = re.compile(r"(?<![\w.\-])-?(?:\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+)(?![\w.])")
INCLUDE = re.compile(r"<!-- include (\S+) -->\n(.*?)<!-- end include -->", re.S)
ALLOWED = re.compile(r"<!-- numbers not from results:(.*?)-->", re.S)
TEXT = (".txt", ".md")


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def prose(doc: str) -> str:
    """The doc without fenced code blocks and HTML comments (commands and their options
    are not results)."""
    doc = re.sub(r"```.*?```", "", doc, flags=re.S)
    doc = re.sub(r"<!--.*?-->", "", doc, flags=re.S)
    # A range "0.141-0.188" quotes two numbers: split it, so that its upper end is checked
    # too (otherwise it reads as "0.141" then a dash-prefixed token the pattern skips).
    return re.sub(r"(?<=\d)-(?=\d)", " - ", doc)


def check_reports(fresh: str, committed: str) -> list[str]:
    problems = []
    fresh_files = set(os.listdir(fresh))
    committed_files = set(os.listdir(committed)) if os.path.isdir(committed) else set()
    for name in sorted(committed_files - fresh_files):
        problems.append(f"{committed}/{name}: not re-derived from results/data/ (its results "
                        "file is not committed, or the name is no experiment's); commit the "
                        "evidence or remove the report")
    for name in sorted(fresh_files - committed_files):
        problems.append(f"{committed}/{name}: re-derived but not committed; run "
                        "scripts/reproduce --reports-only and commit it")
    for name in sorted(fresh_files & committed_files):
        if not name.endswith(TEXT):
            continue
        with open(os.path.join(fresh, name)) as f:
            new = f.read()
        with open(os.path.join(committed, name)) as f:
            old = f.read()
        if new != old:
            diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(),
                                             f"committed/{name}", f"re-derived/{name}",
                                             lineterm="", n=0))
            problems.append(f"{committed}/{name} differs from what results/data/ gives:\n  "
                            + "\n  ".join(diff[:12]))
    return problems


def check_doc(doc_path: str, fresh: str) -> list[str]:
    with open(doc_path) as f:
        doc = f.read()
    problems = []
    derived = set()
    for name in os.listdir(fresh):
        if name.endswith(TEXT):
            with open(os.path.join(fresh, name)) as f:
                derived |= numbers(f.read())
    for path, block in INCLUDE.findall(doc):
        source = os.path.join(fresh, os.path.basename(path))
        if not os.path.exists(source):
            problems.append(f"{doc_path}: includes {path}, which was not re-derived")
            continue
        with open(source) as f:
            if f.read() != block:
                problems.append(f"{doc_path}: the block including {path} is not its text; "
                                "paste the file between the include markers")
    allowed = set()
    for listed in ALLOWED.findall(doc):
        allowed |= set(listed.split())
    body = INCLUDE.sub("", doc)
    for number in sorted(numbers(prose(body)) - derived - allowed, key=float):
        line = next(i + 1 for i, text in enumerate(doc.splitlines()) if number in text)
        problems.append(f"{doc_path}:{line}: {number} is in no re-derived report (quote "
                        "numbers as the reports print them, or list a paper's value in the "
                        "'numbers not from results' comment)")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fresh", required=True, help="the reports just re-derived")
    ap.add_argument("--committed", default="results/reports")
    ap.add_argument("--doc", default="docs/reproductions.md")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    problems = check_reports(args.fresh, args.committed)
    problems += check_doc(args.doc, args.fresh)
    for p in problems:
        print(f"scripts/reproduce --check: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"scripts/reproduce --check: every report in {args.committed} and every number in "
          f"{args.doc} re-derived from results/data/ ({', '.join(args.names) or 'nothing'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
