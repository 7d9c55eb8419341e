"""search = evolution end to end, on a tiny search (2 generations of 3 proposals, 2-epoch
runs): every candidate is a /candidates row with its hash, parent and stage, and its text
is in /cells; --jobs 1 and --jobs 2 give identical files; a search killed with SIGKILL
after a few runs resumes to exactly the uninterrupted result; `cellzoo top` lists the
architectures by fitness with their texts; two shards evolve different populations and
merge into one file. A plain sweep records the /cells row of each language cell."""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import (EXE, SMALL_SPEC, assert_same_metrics, h5py, np, run,  # noqa: E402
                           runs_by_id, tempdir, write_spec)

SPEC = """\
name = evo
search = evolution
seed = 5

[task]
memorization.n_symbols = 2
memorization.alphabet = 4
memorization.n_train = 2000
memorization.n_valid = 32
memorization.n_test = 32
arithmetic.digits = 1
arithmetic.distractor_p = 0
arithmetic.n_train = 2000
arithmetic.n_valid = 32
arithmetic.n_test = 32

[fixed]
max_epochs = 4
batch_size = 16
optimizer = adam

[space]
hidden = int_uniform(8, 16)
lr = loguniform(0.01, 0.05)

[evolution]
generations = 2
proposals_per_generation = 3
population = 3
reevaluate_probability = 0.25
mutation_steps = 2
filter_settings = 1
filter_threshold = 0.2
tasks = arithmetic
settings_per_task = 2
stage_threshold = 0.5
"""

CANDIDATE_COLUMNS = ["shard", "generation", "index", "kind", "name", "hash", "parent_hash",
                     "stage", "stage_task", "status", "fitness"]


def candidates(path):
    with h5py.File(path, "r") as f:
        rows = f["candidates"][:]
    out = []
    for row in rows:
        d = {}
        for name in CANDIDATE_COLUMNS:
            v = row[name]
            d[name] = v.decode() if isinstance(v, bytes) else v.item()
        out.append(d)
    return out


def cells(path):
    with h5py.File(path, "r") as f:
        return {r["name"].decode(): (r["hash"].decode(), r["text"].decode()) for r in f["cells"][:]}


def same_candidates(a, b, what):
    ca, cb = candidates(a), candidates(b)
    assert len(ca) == len(cb), f"{what}: {len(ca)} vs {len(cb)} candidate rows"
    for x, y in zip(ca, cb):
        for k in CANDIDATE_COLUMNS:
            same = x[k] == y[k] or (k == "fitness" and np.isnan(x[k]) and np.isnan(y[k]))
            assert same, \
                f"{what}: candidate {x['generation']}/{x['index']} {k}: {x[k]!r} != {y[k]!r}"


def check_contents(path):
    rows = candidates(path)
    texts = cells(path)
    runs = runs_by_id(path)
    gens = sorted({r["generation"] for r in rows})
    assert gens == [0, 1, 2], f"generations {gens}"
    seeds = [r for r in rows if r["generation"] == 0]
    assert [s["name"] for s in seeds] == ["lstm", "gru"], seeds
    assert all(s["kind"] == "seed" and s["stage_task"] == "arithmetic" for s in seeds), seeds
    gru = [s for s in seeds if s["name"] == "gru"][0]
    assert gru["fitness"] == 1.0, f"the reference's fitness is 1 by definition: {gru}"
    events = [r for r in rows if r["generation"] > 0]
    assert len(events) == 6, f"2 generations x 3 events, got {len(events)}"
    proposals = [r for r in events if r["kind"] == "proposal"]
    assert proposals, "no proposals at all"
    known = {s["hash"] for s in seeds}
    statuses = set()
    for r in rows:
        statuses.add(r["status"])
        if r["kind"] == "proposal" and r["status"] != "invalid":
            assert re.fullmatch(r"[0-9a-f]{32}", r["hash"]), r
            assert r["parent_hash"] in known, f"parent of {r} was never a candidate before it"
            assert r["name"] in texts and texts[r["name"]][0] == r["hash"], \
                f"no /cells text for {r}"
            assert "state h" in texts[r["name"]][1], texts[r["name"]]
            if r["status"] != "duplicate":
                # Every stage it reached has runs of that cell on that task.
                tasks = {x["task"] for x in runs.values() if x["cell"] == r["name"]}
                assert "memorization" in tasks, (r, tasks)
                if r["stage"] >= 1:
                    assert "arithmetic" in tasks, (r, tasks)
                if r["status"] == "rejected":
                    assert np.isnan(r["fitness"]), r
                else:
                    assert r["stage"] == 1 and r["fitness"] > 0, r
            known.add(r["hash"])
        elif r["kind"] == "reevaluation":
            assert r["hash"] in known and r["parent_hash"] == "", r
    assert statuses <= {"accepted", "outranked", "rejected", "duplicate", "invalid"}, statuses
    accepted_last = [r for r in rows if r["status"] == "accepted"]
    assert accepted_last, "nobody was accepted"
    for r in runs.values():
        assert r["task"] in ("memorization", "arithmetic"), r
        assert r["cell"] in texts, f"run {r['run_id']} uses {r['cell']} with no /cells row"
    return rows


def kill_after(spec, out, min_runs):
    """Starts the search and SIGKILLs it once `min_runs` runs are in the file's log."""
    p = subprocess.Popen([EXE, "sweep", spec, "--jobs", "2", "--out", out, "--log-interval", "0"],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    done = 0
    deadline = time.time() + 300
    pattern = re.compile(r"runs (\d+)/")
    for line in p.stderr:
        m = pattern.search(line)
        if m:
            done = int(m.group(1))
            if done >= min_runs:
                p.send_signal(signal.SIGKILL)
                break
        if time.time() > deadline:
            p.kill()
            raise AssertionError("search made no progress in 300 s")
    p.stderr.read()
    code = p.wait()
    return done, code


def main():
    with tempdir() as d:
        spec = write_spec(d, text=SPEC)
        one = os.path.join(d, "jobs1.h5")
        two = os.path.join(d, "jobs2.h5")
        p = run("sweep", spec, "--jobs", "1", "--out", one)
        assert "generation 2/2" in p.stderr, p.stderr
        run("sweep", spec, "--jobs", "2", "--out", two)
        rows = check_contents(one)
        same_candidates(one, two, "--jobs 1 vs --jobs 2")
        assert_same_metrics(one, two, "--jobs 1 vs --jobs 2")
        assert cells(one) == cells(two)

        # Running it again is a no-op that reads everything back.
        p = run("sweep", spec, "--jobs", "2", "--out", two)
        assert "0 runs recorded" in p.stderr, p.stderr
        same_candidates(one, two, "complete search re-run")

        # Kill -9 mid-search, then resume.
        killed = os.path.join(d, "killed.h5")
        done, code = kill_after(spec, killed, 5)
        assert code == -signal.SIGKILL, f"expected death by SIGKILL, exit {code}"
        n_before = len(runs_by_id(killed))
        assert n_before >= done and n_before < len(runs_by_id(one)), (n_before, done)
        run("sweep", spec, "--jobs", "2", "--out", killed)
        same_candidates(one, killed, "resumed after SIGKILL")
        assert_same_metrics(one, killed, "resumed after SIGKILL")

        # cellzoo top: sorted by fitness, with texts.
        p = run("top", one, "--n", "3")
        heads = re.findall(r"^#(\d+)  fitness (\S+)  (\S+)", p.stdout, re.M)
        assert 1 <= len(heads) <= 3, p.stdout
        fit = [float(h[1]) for h in heads]
        assert fit == sorted(fit, reverse=True), fit
        assert "    state h" in p.stdout and "h' = " in p.stdout, p.stdout
        assert p.stdout.count("in the population") == min(3, len(heads)), p.stdout
        best = max((r for r in rows if not np.isnan(r["fitness"])), key=lambda r: r["fitness"])
        assert abs(fit[0] - best["fitness"]) < 1e-4 or fit[0] >= best["fitness"] - 1e-4, (fit, best)
        bad = run("top", os.path.join(d, "missing.h5"), check=False)
        assert bad.returncode == 2 and "does not exist" in bad.stderr, bad.stderr
        # --reuse copies runs of grid/random expansions; a search refuses it, writing nothing.
        never = os.path.join(d, "never.h5")
        bad = run("sweep", spec, "--out", never, "--reuse", one, check=False)
        assert bad.returncode == 2 and "--reuse is for grid and random" in bad.stderr, bad.stderr
        assert not os.path.exists(never)

        # Shards evolve their own populations; merged, both are in one file.
        s0 = os.path.join(d, "s0.h5")
        s1 = os.path.join(d, "s1.h5")
        run("sweep", spec, "--jobs", "2", "--shard", "0/2", "--out", s0)
        run("sweep", spec, "--jobs", "2", "--shard", "1/2", "--out", s1)
        assert {r["hash"] for r in candidates(s0)} != {r["hash"] for r in candidates(s1)}, \
            "both shards evolved the same population"
        merged = os.path.join(d, "merged.h5")
        run("merge", "-o", merged, s0, s1)
        mc = candidates(merged)
        assert len(mc) == len(candidates(s0)) + len(candidates(s1)), len(mc)
        assert {r["shard"] for r in mc} == {0, 1}
        assert len(runs_by_id(merged)) == len(runs_by_id(s0)) + len(runs_by_id(s1))
        p = run("top", merged)
        assert "shard 1" in p.stdout and "shard 0" in p.stdout, p.stdout
        # A plain sweep records the text of each language cell (and of no other cell).
        plain = write_spec(d, text=SMALL_SPEC.format(trials=1, epochs=1, train_size=64).replace(
            "cells = rnn, lstm, gru", "cells = rnn, lang:rnn"))
        plain_out = os.path.join(d, "plain.h5")
        run("sweep", plain, "--jobs", "2", "--out", plain_out)
        pc = cells(plain_out)
        assert list(pc) == ["lang:rnn"], pc
        assert re.fullmatch(r"[0-9a-f]{32}", pc["lang:rnn"][0]), pc
        assert "state h" in pc["lang:rnn"][1], pc
        assert "h' = tanh(W(x) + W(h) + bias)" in pc["lang:rnn"][1], pc
    print("ok: candidates recorded; jobs 1 == jobs 2; SIGKILL + resume == uninterrupted; "
          "top sorted; shards merge; plain sweeps record language cells")


if __name__ == "__main__":
    main()
