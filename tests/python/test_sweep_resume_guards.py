"""What a resume must refuse or leave alone (issue 12, items 5 and 6): a shard file is
resumed only by its own shard (never by another --shard, nor by the whole sweep, nor a
whole-sweep file by a shard), and a resume with nothing left to run does not rewrite a
complete file; the progress line's "best valid" counts the runs already in the file."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import run, tempdir, write_spec  # noqa: E402


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def refused(spec, out, args, *needles):
    before = digest(out)
    p = run("sweep", spec, "--jobs", "1", "--out", out, *args, check=False)
    assert p.returncode != 0, f"expected a refusal for {args}\n{p.stderr}"
    for n in needles:
        assert n in p.stderr, f"expected {n!r} in:\n{p.stderr}"
    assert digest(out) == before, f"{args}: the refused file changed"


def main():
    with tempdir() as d:
        spec = write_spec(d, trials=2, epochs=1, train_size=64)
        shard = os.path.join(d, "shard0.h5")
        run("sweep", spec, "--jobs", "1", "--out", shard, "--shard", "0/3")
        refused(spec, shard, ["--shard", "1/3"], "shard 0/3", "shard 1/3", "--shard 0/3")
        refused(spec, shard, [], "shard 0/3", "the whole sweep")
        whole = os.path.join(d, "whole.h5")
        run("sweep", spec, "--jobs", "1", "--out", whole)
        refused(spec, whole, ["--shard", "2/3"], "the whole sweep", "shard 2/3", "drop --shard")

        # Its own shard resumes (nothing to do), and a complete file keeps its bytes.
        for out, args in ((shard, ["--shard", "0/3"]), (whole, [])):
            before, mtime = digest(out), os.stat(out).st_mtime_ns
            p = run("sweep", spec, "--jobs", "1", "--out", out, *args)
            assert "0 to run" in p.stderr, p.stderr
            # The progress line's best counts the runs that were already in the file.
            assert "best valid mse" in p.stderr, p.stderr
            assert digest(out) == before, f"{out}: a resume with nothing to run rewrote it"
            assert os.stat(out).st_mtime_ns == mtime, f"{out}: written by a resume with no runs"
    print("ok: shard files resume only with their own shard; complete files are left alone")


if __name__ == "__main__":
    main()
