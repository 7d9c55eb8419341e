"""A sweep killed with SIGKILL in its first milliseconds, as it creates its results file
(issue 12, item 3): the same command must then resume. An empty (0-byte) results file, such
as an older cellzoo left in that case, holds no runs and is treated as absent; a non-empty
file that is not HDF5 is still refused and never touched."""
import hashlib
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import EXE, assert_same_metrics, run, runs_by_id, tempdir  # noqa: E402
from sweep_support import write_spec  # noqa: E402


def kill_as_it_creates(spec, out):
    """Starts a sweep and kills it the moment its results file (or its temporary) appears.
    Returns True when the kill came before the process ended by itself."""
    p = subprocess.Popen([EXE, "sweep", spec, "--jobs", "1", "--out", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while p.poll() is None and time.time() < deadline:
        if os.path.exists(out) or os.path.exists(out + ".creating"):
            p.send_signal(signal.SIGKILL)
            break
    return p.wait() == -signal.SIGKILL


def main():
    with tempdir() as d:
        spec = write_spec(d, trials=2, epochs=2, train_size=128)
        reference = os.path.join(d, "reference.h5")
        run("sweep", spec, "--jobs", "1", "--out", reference)

        # A real process killed as it creates the file, several times.
        killed = 0
        for i in range(6):
            out = os.path.join(d, f"killed-{i}.h5")
            killed += kill_as_it_creates(spec, out)
            if os.path.exists(out):  # only a complete, readable file may be there
                assert os.path.getsize(out) > 0, "a kill left an empty results file"
                runs_by_id(out)
            p = run("sweep", spec, "--jobs", "1", "--out", out, check=False)
            assert p.returncode == 0, f"the same command did not resume:\n{p.stderr}"
            assert_same_metrics(reference, out, f"after an early kill ({i})")
            assert not os.path.exists(out + ".creating"), "the temporary file was left behind"
        assert killed > 0, "no sweep was killed while creating its file"

        # An empty results file, left by an older cellzoo killed this way: absent.
        out = os.path.join(d, "empty.h5")
        open(out, "wb").close()
        r = run("report", out, check=False)
        assert r.returncode != 0 and "empty (0 bytes)" in r.stderr, r.stderr
        p = run("sweep", spec, "--jobs", "1", "--out", out, "--dry-run")
        assert "empty: a sweep would start it afresh" in p.stdout, p.stdout
        p = run("sweep", spec, "--jobs", "1", "--out", out)
        assert_same_metrics(reference, out, "after an empty file")

        # A non-empty file that is not HDF5 is refused and left as it was.
        out = os.path.join(d, "junk.h5")
        with open(out, "wb") as f:
            f.write(b"not hdf5\n")
        before = hashlib.sha256(open(out, "rb").read()).hexdigest()
        p = run("sweep", spec, "--jobs", "1", "--out", out, check=False)
        assert p.returncode != 0 and "not a readable HDF5 file" in p.stderr, p.stderr
        assert hashlib.sha256(open(out, "rb").read()).hexdigest() == before

        # Not a regular file at all.
        p = run("sweep", spec, "--jobs", "1", "--out", "/dev/null", check=False)
        assert p.returncode != 0 and "not a regular file" in p.stderr, p.stderr
        assert "corrupt" not in p.stderr, p.stderr
    print(f"ok: {killed} sweeps killed as they created their file all resumed; an empty file "
          "counts as absent; a non-HDF5 file is refused untouched")


if __name__ == "__main__":
    main()
