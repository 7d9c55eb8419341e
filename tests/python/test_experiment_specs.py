"""Every experiments/*.ini passes `cellzoo sweep --dry-run`: it parses, expands, its settings
resolve, its task data builds (from ../shared/datasets when a spec needs data and the
shared copy exists; otherwise the error must name the missing file and point at
scripts/fetch-datasets) and every cell's model fits the task. The paper reproductions have
the run counts of their protocols, full scale and reduced, and a dry run writes no file.
Every pre-registered findings file names cells of its spec."""
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib

EXE = os.environ.get("CELLZOO_EXE", "")
SOURCE = os.environ.get("CELLZOO_SOURCE_DIR", "")
if not EXE or not os.path.exists(EXE) or not SOURCE:
    print(f"SKIP: CELLZOO_EXE/CELLZOO_SOURCE_DIR not set ({EXE!r}, {SOURCE!r}); run through ctest",
          file=sys.stderr)
    sys.exit(77)
SHARED = os.environ.get("CELLZOO_SHARED_DATASETS") or os.path.join(SOURCE, "..", "shared",
                                                                   "datasets")
EXPERIMENTS = os.path.join(SOURCE, "experiments")

JOZEFOWICZ_CELLS = 12
JOZEFOWICZ_TRIALS = 220  # about 220 random settings per architecture (papers.md §2.2)
# Full-scale run counts of the specs whose protocol fixes them.
EXPECTED_RUNS = {
    "quickstart": 4 * 20,
    "greff2015-jsb": 9 * 200,
    "jozefowicz2015-arithmetic": JOZEFOWICZ_CELLS * JOZEFOWICZ_TRIALS,
    "jozefowicz2015-xml": JOZEFOWICZ_CELLS * JOZEFOWICZ_TRIALS,
    "jozefowicz2015-ptb": JOZEFOWICZ_CELLS * JOZEFOWICZ_TRIALS,
    "jozefowicz2015-music": JOZEFOWICZ_CELLS * JOZEFOWICZ_TRIALS,
    "jozefowicz2015-ptb-dropout": 5 * 20,
    "long-range": 3 * 4 * 20,  # cells x lengths (a grid axis) x trials
    "long-range-copy": 3 * 5 * 20,
}


def data_option(spec_path):
    """The `data` value of the spec's [task] section, or None."""
    section = ""
    with open(spec_path) as f:
        for line in f:
            line = re.sub(r"(^|\s)[#;].*", "", line).strip()
            if line.startswith("["):
                section = line.strip("[]").strip()
            elif section == "task" and "=" in line:
                key, value = (s.strip() for s in line.split("=", 1))
                if key == "data":
                    return value
    return None


def shared_copy(data):
    """data/jsb_chorales/jsb_chorales.json -> SHARED/jsb_chorales/jsb_chorales.json."""
    rel = data[len("data/"):] if data.startswith("data/") else os.path.basename(data)
    return os.path.normpath(os.path.join(SHARED, rel))


def dry_run(spec, *sets, out):
    args = [EXE, "sweep", spec, "--dry-run", "--out", out]
    for s in sets:
        args += ["--set", s]
    # Cell files (file:experiments/...) and data paths are relative to the repository root.
    return subprocess.run(args, cwd=SOURCE, capture_output=True, text=True, timeout=300)


def run_count(p, what):
    assert p.returncode == 0, f"{what}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    m = re.search(r"^runs: (\d+)", p.stdout, re.M)
    assert m, f"{what}: no 'runs:' line\n{p.stdout}"
    assert "dry run: nothing trained, no file written" in p.stdout, p.stdout
    return int(m.group(1))


def check_missing_data(p, missing, what):
    assert p.returncode == 2, f"{what}: expected exit 2, got {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert missing in p.stderr, f"{what}: the error does not name {missing}\n{p.stderr}"
    assert "scripts/fetch-datasets" in p.stderr, f"{what}: no fetch-datasets hint\n{p.stderr}"


def check_budgets(spec, sets, stem):
    """The paper sized every architecture to a parameter budget: in each trial every cell's
    whole model has at most the trial's budget and not much less (the solved width is the
    largest that fits), whatever its layer count."""
    args = [EXE, "sweep", spec, "--dry-run", "--format", "json", "--set", "trials=6"]
    for s in sets:
        args += ["--set", s]
    p = subprocess.run(args, cwd=SOURCE, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    runs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert runs, p.stdout
    for r in runs:
        budget, n = r["param_budget"], r["n_params"]
        assert budget and 0.9 * budget <= n <= budget, (stem, r["cell"], r["trial"], budget, n)
    budgets = {}
    for r in runs:
        budgets.setdefault(r["trial"], set()).add((r["param_budget"], r["layers"]))
    assert all(len(b) == 1 for b in budgets.values()), (stem, budgets)  # paired


def check_forget_bias_twin():
    """The specs' LSTM-b (a constant 1 next to the forget-gate bias) trains exactly like the
    paper's LSTM started with forget_bias=1, and unlike it with forget_bias=0."""
    def train(cell, forget_bias):
        p = subprocess.run(
            [EXE, "train", "--cell", f"file:experiments/cells/jozefowicz2015/{cell}", "--task",
             "arithmetic", "--quiet", "--set", f"forget_bias={forget_bias}"] +
            [a for s in ["task.digits=2", "task.n_train=100", "task.n_valid=40", "task.n_test=40",
                         "hidden=8", "max_epochs=2", "optimizer=sgd", "lr=0.5", "clip=5"]
             for a in ("--set", s)],
            cwd=SOURCE, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        # Everything but the wall-clock seconds.
        return re.sub(r"[0-9.]+ s\b", "", p.stdout)

    twin = train("lstm-b.cell", 0)
    assert twin == train("lstm.cell", 1), twin
    assert twin != train("lstm.cell", 0), twin


def check_findings_files():
    """Every pre-registered findings file (experiments/findings/*.toml) names an experiment
    spec, and its baseline and every finding's cell are cells of that spec, spelled as the
    spec spells them (a misspelt cell would only fail once the results file exists)."""
    folder = os.path.join(EXPERIMENTS, "findings")
    names = sorted(f for f in os.listdir(folder) if f.endswith(".toml"))
    assert "jozefowicz2015-ptb.toml" in names, names
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            findings = tomllib.load(f)
        assert findings["experiment"] == name[:-5], (name, findings["experiment"])
        with open(os.path.join(EXPERIMENTS, name[:-5] + ".ini")) as f:
            line = next(x for x in f if re.match(r"cells\s*=", x))
        cells = [c.strip() for c in line.split("=", 1)[1].split(",")]
        named = [findings["baseline"]] + [item["cell"] for item in findings["finding"]]
        for cell in named:
            assert cell in cells, (name, cell, cells)
        assert all(item["paper"] in ("worse", "better", "none") for item in findings["finding"])
        assert findings["reference_effect"] > 0, name


def main():
    check_findings_files()
    specs = sorted(f for f in os.listdir(EXPERIMENTS) if f.endswith(".ini"))
    assert set(EXPECTED_RUNS) <= {s[:-4] for s in specs}, specs
    counts, skipped = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "never-written.h5")
        for name in specs:
            spec = os.path.join("experiments", name)
            stem = name[:-4]
            data = data_option(os.path.join(EXPERIMENTS, name))
            sets = []
            if data is not None:
                # Whatever the machine has: a missing file must give the fetch hint.
                missing = os.path.join(tmp, "absent", os.path.basename(data))
                check_missing_data(dry_run(spec, f"task.data={missing}", out=out), missing,
                                   f"{stem} without data")
                if os.path.exists(shared_copy(data)):
                    sets = [f"task.data={shared_copy(data)}"]
                elif not os.path.exists(os.path.join(SOURCE, data)):
                    check_missing_data(dry_run(spec, out=out), data, f"{stem} (default data)")
                    skipped.append(stem)
                    continue
            p = dry_run(spec, *sets, out=out)
            counts[stem] = run_count(p, stem)
            assert "first runs:" in p.stdout and re.search(r"^  0 \S+", p.stdout, re.M), p.stdout
            if stem in EXPECTED_RUNS:
                assert counts[stem] == EXPECTED_RUNS[stem], (stem, counts[stem])
            assert not os.path.exists(out), f"{stem}: --dry-run wrote {out}"

            if stem == "greff2015-jsb":
                cols = re.search(r"^hyperparameter columns: (.*)$", p.stdout, re.M).group(1)
                for c in ["hidden", "lr", "momentum", "input_noise", "batch_size", "nesterov",
                          "reduction", "patience", "max_epochs", "task.data"]:
                    assert c in cols.split(", "), (c, cols)
                assert re.search(r"^task: music \(229/76/77 sequences", p.stdout, re.M), p.stdout
                reduced = dry_run(spec, *sets, "trials=20", "fixed.max_epochs=20", out=out)
                assert run_count(reduced, "greff reduced") == 9 * 20
                assert "  lstm-fgr: " in p.stdout, p.stdout
                p4 = subprocess.run([EXE, "sweep", spec, "--dry-run", "--out", out, "--shard",
                                     "1/4"] + [a for s in sets for a in ("--set", s)],
                                    cwd=SOURCE, capture_output=True, text=True)
                assert re.search(r"^shard: 1/4 = runs 450\.\.899 \(450\)$", p4.stdout, re.M), \
                    p4.stdout + p4.stderr
            if stem.startswith("jozefowicz2015-"):
                # The paper's LSTM, its ablations and the -b twins resolve as file: cells.
                files = ["lstm.cell", "lstm-b.cell"] if stem.endswith("-dropout") else \
                    ["lstm.cell", "lstm-b.cell", "lstm-f.cell", "lstm-i.cell", "lstm-o.cell",
                     "lstm-np-b.cell"]
                for cell in files:
                    assert f"file:experiments/cells/jozefowicz2015/{cell}: " in p.stdout, \
                        (cell, p.stdout)
                check_budgets(spec, sets, stem)
                reduced = dry_run(spec, *sets, "trials=20", out=out)
                cells = 5 if stem.endswith("-dropout") else JOZEFOWICZ_CELLS
                assert run_count(reduced, stem + " reduced") == cells * 20

        # The check that models fit their task can fail: MUT1 needs input size = hidden,
        # so raw one-hot input (embed=0) must be rejected before anything runs.
        # (Under the spec's param_budget a square-input cell's hidden follows embed; at a
        # fixed width it cannot.)
        bad = dry_run("experiments/jozefowicz2015-arithmetic.ini", "fixed.param_budget=none",
                      "fixed.hidden=64", "fixed.embed=0", out=out)
        assert bad.returncode == 2 and "mut1" in bad.stderr, bad.stdout + bad.stderr
        # Under the budget, embed=0 would fix MUT1's hidden at the 25 symbols, a model far
        # below the budget: one error before anything runs, pointing at embed = auto.
        bad = dry_run("experiments/jozefowicz2015-arithmetic.ini", "fixed.embed=0", out=out)
        assert bad.returncode == 2 and "fixes hidden at 25" in bad.stderr and \
            "embed = auto" in bad.stderr, bad.stdout + bad.stderr
        # The lengths are a grid axis: every length's data is built and shown.
        p = dry_run("experiments/long-range.ini", out=out)
        for length in [50, 100, 200, 400]:
            assert f"  with length={length}: 5000/500/500 sequences" in p.stdout, p.stdout
        # Fixing one length moves the option back to [task]: 20 trials per cell remain.
        p = dry_run("experiments/long-range.ini", "task.length=400", "name=long-range-T400",
                    out=out)
        assert run_count(p, "adding T=400") == 60
        assert "task.length" in p.stdout and "with length=" not in p.stdout
        assert not os.path.exists(out)
        # A bad value on the axis is one error before anything runs.
        p = dry_run("experiments/long-range.ini", "space.task.length=[50, -3]", out=out)
        assert p.returncode == 2 and "length" in p.stderr, p.stdout + p.stderr
        # An evolutionary search has no run list: the dry run checks every stage's data.
        evo = os.path.join(tmp, "evo.ini")
        with open(evo, "w") as f:
            f.write("search = evolution\ncells = lstm, gru\n[task]\narithmetic.digits = 3\n"
                    "[space]\nhidden = 16\n[evolution]\ngenerations = 2\ntasks = arithmetic\n")
        p = dry_run(evo, out=out)
        assert run_count(p, "evolution") > 0 and not os.path.exists(out)
        assert "task: memorization (" in p.stdout and "task: arithmetic (" in p.stdout, p.stdout

    check_forget_bias_twin()
    print("ok: dry runs of", ", ".join(f"{k} ({v} runs)" for k, v in counts.items()))
    if skipped:
        print("data absent (checked the error instead):", ", ".join(skipped))


if __name__ == "__main__":
    main()
