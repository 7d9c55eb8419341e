"""Cell plugins from the command line (docs/plugins.md), with the example plugin that the
plugin_example fixture built out of tree against the installed SDK (libmgu.so):
`--plugin` and CELLZOO_PLUGIN_PATH on cells/gradcheck/train/bench, a two-cell sweep next
to lstm through the spec's `plugins` key, what the results file records, and a resume,
--reuse or merge with another build of the plugin. Bad plugins on the command line are one
error naming the file (tests/plugins/test_plugins.cpp covers each kind in the loader)."""
import hashlib
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import EXE, run, runs_by_id, tempdir  # noqa: E402

import h5py  # noqa: E402

PLUGIN = os.environ.get("CELLZOO_EXAMPLE_PLUGIN", "")
if not PLUGIN or not os.path.exists(PLUGIN):
    print(f"SKIP: the example plugin {PLUGIN!r} is not built; run through ctest (fixture "
          "plugins:build_example)", file=sys.stderr)
    sys.exit(77)

SPEC = """\
name = with-plugin
task = adding
cells = lstm, mgu
plugins = {plugins}
trials = 2
seed = 3

[task]
length = 8
n_train = 64
n_valid = 32
n_test = 32

[fixed]
max_epochs = 1
batch_size = 16
hidden = 8
lr = 0.01
"""


def cells_rows(path):
    with h5py.File(path, "r") as f:
        return {r["name"].decode(): (r["hash"].decode(), r["text"].decode())
                for r in f["cells"][:]}


def spec_text(path):
    with h5py.File(path, "r") as f:
        v = f.attrs["spec_text"]
        return v.decode() if isinstance(v, bytes) else str(v)


def rebuild(path):
    """Another build of the plugin at the same path: the same code, other bytes."""
    with open(path, "ab") as f:
        f.write(b"\0rebuilt")


def file_hash(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_commands(d):
    p = run("cells", "--plugin", PLUGIN)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("mgu ")), "")
    assert "libmgu.so" in line and "2H(I+H+1)" in line and "Zhou" in line, p.stdout
    assert re.search(r"^lstm\s+lstm\s+built-in", p.stdout, re.M), p.stdout
    assert os.path.realpath(PLUGIN) in p.stdout and "cells: mgu" in p.stdout, p.stdout
    # CELLZOO_PLUGIN_PATH: a file or its directory.
    for value in (PLUGIN, os.path.dirname(PLUGIN)):
        env = dict(os.environ, CELLZOO_PLUGIN_PATH=value)
        p = run("cells", env=env)
        assert re.search(r"^mgu\s", p.stdout, re.M), (value, p.stdout)
    p = run("cells")
    assert not re.search(r"^mgu\s", p.stdout, re.M), "a plugin cell without a plugin"

    p = run("gradcheck", "--plugin", PLUGIN, "--cell", "mgu")
    assert "all 1 cell(s) within" in p.stdout, p.stdout
    one = os.path.join(d, "one.h5")
    p = run("train", "--plugin", PLUGIN, "--cell", "mgu", "--task", "adding", "--quiet",
            "--set", "max_epochs=1", "--set", "hidden=8", "--set", "task.length=8",
            "--set", "task.n_train=64", "--set", "task.n_valid=32", "--set", "task.n_test=32",
            "--out", one)
    assert "status ok" in p.stdout, p.stdout
    assert cells_rows(one)["mgu"][1] == f"plugin {os.path.realpath(PLUGIN)}", cells_rows(one)
    # eval: the parameters name the plugin build that trained them.
    params = os.path.join(d, "one.params.h5")
    p = run("eval", "--plugin", PLUGIN, "--params", params, "--task", "adding")
    assert "test_loss" in p.stdout, p.stdout
    p = run("eval", "--params", params, "--task", "adding", check=False)
    assert p.returncode == 2 and "which is not loaded" in p.stderr and \
        f"--plugin {os.path.realpath(PLUGIN)}" in p.stderr, p.stderr
    other = os.path.join(d, "other", "libmgu.so")
    os.makedirs(os.path.dirname(other))
    shutil.copy(PLUGIN, other)
    rebuild(other)
    p = run("eval", "--plugin", other, "--params", params, "--task", "adding", check=False)
    assert p.returncode == 2 and "was trained with plugin" in p.stderr, p.stderr
    p = run("bench", "--plugin", PLUGIN, "--cell", "mgu", "--size", "T", "--repeat", "1",
            "--block-seconds", "0.01")
    assert "mgu" in p.stdout, p.stdout
    # mutate takes plugins too, but a C++ cell has no text to mutate; its twin has.
    p = run("mutate", "--plugin", PLUGIN, "--cell", "mgu", check=False)
    assert p.returncode == 2 and "comes from plugin" in p.stderr, p.stderr
    twin = os.path.join(os.environ["CELLZOO_SOURCE_DIR"], "examples", "plugins", "mgu", "mgu.cell")
    p = run("mutate", "--plugin", PLUGIN, "--cell", f"file:{twin}")
    assert "state h" in p.stdout, p.stdout
    # Without the plugin the cell is unknown; the message lists the registered cells.
    p = run("gradcheck", "--cell", "mgu", check=False)
    assert p.returncode == 2 and "unknown cell 'mgu'" in p.stderr, p.stderr

    # Bad plugins: exit 2, the file named, no crash.
    text = os.path.join(d, "notes.so")
    with open(text, "w") as f:
        f.write("not a library\n")
    for bad, needle in [(os.path.join(d, "missing.so"), "does not exist"),
                        (text, f"cannot load plugin '{text}'"),
                        ("/usr/lib/x86_64-linux-gnu/libm.so.6", "not a cellzoo plugin")]:
        for args in (["cells"], ["gradcheck", "--cell", "lstm"]):
            p = run(*args, "--plugin", bad, check=False)
            assert p.returncode == 2 and needle in p.stderr, (bad, p.stderr)
    env = dict(os.environ, CELLZOO_PLUGIN_PATH=text)
    p = run("cells", env=env, check=False)
    assert p.returncode == 2 and "(from CELLZOO_PLUGIN_PATH)" in p.stderr, p.stderr
    # The same cell from two files: refused.
    copy = os.path.join(d, "copy", "libmgu.so")
    os.makedirs(os.path.dirname(copy))
    shutil.copy(PLUGIN, copy)
    p = run("cells", "--plugin", PLUGIN, "--plugin", copy, check=False)
    assert p.returncode == 2 and "registers cell 'mgu', which is already a cell of plugin" \
        in p.stderr, p.stderr


def check_sweep(d):
    # The spec and the plugin side by side; `plugins` is relative to the spec's directory.
    work = os.path.join(d, "exp")
    os.makedirs(work)
    plugin = os.path.join(work, "libmgu.so")
    shutil.copy(PLUGIN, plugin)
    spec = os.path.join(work, "two.ini")
    with open(spec, "w") as f:
        f.write(SPEC.format(plugins="libmgu.so"))
    out = os.path.join(d, "two.h5")
    p = run("sweep", spec, "--out", out, "--dry-run")
    assert re.search(r"^  mgu: \d+ parameters at hidden 8 .* from plugin " +
                     re.escape(os.path.realpath(plugin)) + r" \(hash [0-9a-f]{32}\)$",
                     p.stdout, re.M), p.stdout
    p = run("sweep", spec, "--out", out, "--jobs", "2")
    runs = runs_by_id(out)
    assert sorted(r["cell"] for r in runs.values()) == ["lstm", "lstm", "mgu", "mgu"], runs
    assert all(r["status"] == "ok" for r in runs.values()), runs
    rows = cells_rows(out)
    assert set(rows) == {"mgu"}, rows  # built-in cells need no record
    h, text = rows["mgu"]
    assert text == f"plugin {os.path.realpath(plugin)}" and len(h) == 32, rows
    assert f"plugins = {plugin}" in spec_text(out), spec_text(out)

    # Resuming with the same build: nothing to do; the spec's hash ignores where plugins are.
    p = run("sweep", spec, "--out", out)
    assert "4 already done" in p.stderr, p.stderr
    p = run("sweep", spec, "--out", out, "--set", f"plugins={plugin}")
    assert "4 already done" in p.stderr, p.stderr

    # Shards of one sweep made with two builds cannot be merged.
    shard0, shard1 = os.path.join(d, "s0.h5"), os.path.join(d, "s1.h5")
    run("sweep", spec, "--out", shard0, "--shard", "0/2")
    rebuilt_dir = os.path.join(d, "rebuilt")
    os.makedirs(rebuilt_dir)
    shutil.copy(spec, rebuilt_dir)
    shutil.copy(plugin, rebuilt_dir)
    rebuild(os.path.join(rebuilt_dir, "libmgu.so"))
    run("sweep", os.path.join(rebuilt_dir, "two.ini"), "--out", shard1, "--shard", "1/2")
    merged = os.path.join(d, "merged.h5")
    p = run("merge", "-o", merged, shard0, shard1, check=False)
    assert p.returncode == 2 and "cell 'mgu' was run with plugin" in p.stderr, p.stderr
    assert not os.path.exists(merged)

    # A resume with another build of the plugin is refused, and the file keeps its runs.
    before = file_hash(out)
    rebuild(plugin)
    p = run("sweep", spec, "--out", out, check=False)
    assert p.returncode == 2 and "holds runs of cell 'mgu' made with plugin" in p.stderr and \
        "write to a new --out file" in p.stderr, p.stderr
    assert file_hash(out) == before, "a refused resume changed the file"
    # --reuse from the old file copies lstm's runs and retrains mgu's.
    grown = os.path.join(d, "grown.h5")
    p = run("sweep", spec, "--out", grown, "--reuse", out)
    assert "2 matching runs not reused" in p.stderr and "2 reused, 2 to run" in p.stderr, \
        p.stderr
    assert cells_rows(grown)["mgu"][0] != h

    # cellzoo slurm forwards --plugin to every array task (the spec's own plugins it reads).
    slurm_dir = os.path.join(d, "slurm")
    no_key = os.path.join(d, "no-key.ini")
    with open(no_key, "w") as f:
        f.write(SPEC.format(plugins="x").replace("plugins = x\n", ""))
    env = dict(os.environ, CELLZOO_PLUGIN_PATH="")
    p = run("slurm", no_key, "--shards", "2", "--out-dir", slurm_dir, "--max-array-size", "10",
            "--plugin", PLUGIN, env=env)
    with open(os.path.join(slurm_dir, "with-plugin.array.sbatch")) as f:
        script = f.read()
    assert f"--plugin '{os.path.realpath(PLUGIN)}'" in script or \
        f"--plugin {os.path.realpath(PLUGIN)}" in script, script
    # A bad plugin in the spec names the spec line.
    with open(spec, "w") as f:
        f.write(SPEC.format(plugins="nothere.so"))
    p = run("sweep", spec, "--out", os.path.join(d, "never.h5"), check=False)
    assert p.returncode == 2 and "two.ini:4:" in p.stderr and "nothere.so' does not exist" \
        in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(d, "never.h5"))


def main():
    assert EXE
    with tempdir() as d:
        check_commands(d)
        check_sweep(d)
    print("ok: --plugin and CELLZOO_PLUGIN_PATH load the example plugin everywhere, a sweep "
          "runs it next to lstm and records its build, other builds are refused")


if __name__ == "__main__":
    main()
