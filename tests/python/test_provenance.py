"""Provenance and trained models, end to end with the real binary:
- a sweep records its session (/provenance: numerical path, host, build) and the root's
  numerical_path equals `cellzoo --version`'s; a resume of a file whose runs came from
  another numerical path warns and records both paths, --strict-build (or the spec's
  strict_build = true) refuses without touching the file, and `cellzoo report` says the
  file mixes paths; cellzoo_analysis.load_provenance reads the sessions;
- --reuse of another path's runs warns and keeps their session;
- `--save-params all|best`, merged by `cellzoo merge`, evaluated by `cellzoo eval` (the
  saved best parameters give the run's recorded test loss), read by load_params; a
  parameter file of another cell or shape is refused naming both."""
import glob
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import run, runs_by_id, tempdir, write_spec  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

OTHER = "x86-64 SSE2; g++ 99; -O2 -std=c++20; Eigen 3.4.0; glibc 2.99 libm sse2"


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def as_other_build(path, drop_last=True):
    """Marks the file's first session as computed on OTHER; drops its last run (so a
    resume trains one run on this build)."""
    with h5py.File(path, "r+") as f:
        g = f["provenance/0"]
        del g.attrs["numerical_path"]
        g.attrs.create("numerical_path", np.bytes_(OTHER))
        if drop_last:
            n = f["runs"].shape[0]
            last = int(f["runs"][n - 1]["run_id"])
            f["runs"].resize((n - 1,))
            ids = g["run_ids"][:]
            assert ids[-1] == last
            g["run_ids"].resize((len(ids) - 1,))


def test_paths(d):
    spec = write_spec(d, trials=1, epochs=1, train_size=64)  # 3 runs
    out = os.path.join(d, "a.h5")
    run("sweep", spec, "--out", out, "--jobs", "1")
    version = run("--version").stdout
    path_line = re.search(r"^numerical path: (.*)$", version, re.M).group(1)
    with h5py.File(out, "r") as f:
        assert text(f.attrs["numerical_path"]) == path_line, (f.attrs["numerical_path"], version)
        s = f["provenance/0"]
        assert text(s.attrs["role"]) == "sweep" and text(s.attrs["numerical_path"]) == path_line
        assert sorted(s["run_ids"][:]) == [0, 1, 2]
        for attr in ("compile_flags", "isa", "cpu_model", "os", "git_dirty"):
            assert text(f.attrs[attr]), attr
    assert re.search(r"^commit: +[0-9a-f]{40}|^commit: +unknown", version, re.M), version

    as_other_build(out)
    before = digest(out)
    for extra in (["--strict-build"], ["--set", "strict_build=true"]):
        p = run("sweep", spec, "--out", out, "--jobs", "1", *extra, check=False)
        assert p.returncode == 2, (extra, p.stderr)
        assert "another numerical path" in p.stderr and OTHER in p.stderr, p.stderr
        assert digest(out) == before, f"{extra}: the refused file was changed"
    p = run("sweep", spec, "--out", out, "--jobs", "1")
    assert "warning" in p.stderr and f"2 runs: {OTHER}" in p.stderr, p.stderr
    with h5py.File(out, "r") as f:
        assert f["runs"].shape[0] == 3
        assert text(f["provenance/1"].attrs["role"]) == "resume"
        assert len(f["provenance/1/run_ids"]) == 1
    # A run whose configuration was drawn differently (another build can round a sampled
    # lr differently): its run_key differs under the same run_id; refused, file untouched.
    drawn = os.path.join(d, "drawn.h5")
    run("sweep", spec, "--out", drawn, "--jobs", "1")
    with h5py.File(drawn, "r+") as f:
        rows = f["runs"][:]
        rows["run_key"][rows["run_id"] == 1] = b"f" * 32
        f["runs"][...] = rows
    before = digest(drawn)
    p = run("sweep", spec, "--out", drawn, "--jobs", "1", check=False)
    assert p.returncode == 2 and "has run_key" in p.stderr and "ffffffff" in p.stderr and \
        "--reuse" in p.stderr, p.stderr
    assert digest(drawn) == before

    report = run("report", out, "--bootstrap", "0").stdout
    assert "mixes runs of different numerical paths" in report and OTHER in report, report

    from cellzoo_analysis import load_provenance
    sessions = load_provenance(out)
    assert list(sessions["role"]) == ["sweep", "resume"], sessions
    assert sessions.attrs["numerical_paths"] == 2

    # --reuse of runs computed elsewhere: a warning, and their session comes along.
    grown = os.path.join(d, "grown.h5")
    old = os.path.join(d, "old.h5")
    run("sweep", spec, "--out", old, "--jobs", "1")
    as_other_build(old, drop_last=False)
    p = run("sweep", spec, "--out", grown, "--reuse", old, "--jobs", "1")
    assert "--reuse file" in p.stderr and "warning" in p.stderr, p.stderr
    reused = [s for s in load_provenance(grown).to_dict("records") if s["role"] == "reused"]
    assert len(reused) == 1 and reused[0]["numerical_path"] == OTHER and \
        reused[0]["source"] == old and len(reused[0]["run_ids"]) == 3, reused
    print("ok: sessions recorded; mixed paths warned, refused under strict, noted by report")


def test_params(d):
    spec = write_spec(d, trials=2, epochs=2, train_size=64)  # 6 runs
    shards = []
    for k in range(2):
        shards.append(os.path.join(d, f"s{k}.h5"))
        run("sweep", spec, "--shard", f"{k}/2", "--out", shards[-1], "--jobs", "2",
            "--save-params", "all")
        assert len(glob.glob(os.path.join(d, f"s{k}.params", "*.params.h5"))) == 3
    merged = os.path.join(d, "m.h5")
    p = run("merge", "-o", merged, *shards)
    files = sorted(glob.glob(os.path.join(d, "m.params", "*.params.h5")))
    assert len(files) == 6, (files, p.stdout)
    assert "copied 6 saved parameter files" in p.stdout, p.stdout

    from cellzoo_analysis import load_params
    rows = runs_by_id(merged)
    for rid, row in rows.items():
        params = load_params(merged, rid)
        assert params["attrs"]["run_key"] == row["run_key"] and params["attrs"]["cell"] == \
            row["cell"]
        assert params["cell/W"].shape[0] % row["hidden"] == 0 and params["cell/W"].dtype == \
            np.float32
        # The saved parameters are the best epoch's: evaluating them on the test split gives
        # the test loss the run recorded.
        file = os.path.join(d, "m.params", f"{row['run_key']}.params.h5")
        e = run("eval", "--params", file, "--task", "adding", "--split", "test").stdout
        loss = float(re.search(r"^test_loss (\S+)", e, re.M).group(1))
        assert abs(loss - row["test_loss"]) <= 1e-5 * abs(row["test_loss"]), (e, row)

    lstm = next(r for r in rows.values() if r["cell"] == "lstm")
    file = os.path.join(d, "m.params", f"{lstm['run_key']}.params.h5")
    p = run("eval", "--params", file, "--task", "adding", "--cell", "gru", check=False)
    assert p.returncode == 2 and "holds cell lstm, not gru" in p.stderr, p.stderr
    p = run("eval", "--params", file, "--task", "copy", check=False)  # other input size
    assert p.returncode == 2 and "does not fit the model of task copy" in p.stderr and \
        "cell lstm" in p.stderr, p.stderr

    best = os.path.join(d, "b.h5")
    run("sweep", spec, "--out", best, "--jobs", "2", "--save-params", "best")
    saved = {os.path.basename(f)[:-len(".params.h5")]
             for f in glob.glob(os.path.join(d, "b.params", "*.params.h5"))}
    rows = runs_by_id(best)
    want = set()
    for cell in {r["cell"] for r in rows.values()}:
        ok = [r for r in rows.values() if r["cell"] == cell and r["status"] == "ok"]
        if ok:
            want.add(min(ok, key=lambda r: (r["valid_metric"], r["run_id"]))["run_key"])
    assert saved == want, (saved, want)
    print("ok: --save-params all/best, merged, cellzoo eval reproduces the test loss, "
          "bad files refused")


def main():
    with tempdir() as d:
        test_paths(d)
    with tempdir() as d:
        test_params(d)


if __name__ == "__main__":
    main()
