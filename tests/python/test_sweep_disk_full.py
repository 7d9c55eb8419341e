"""A full disk and a read-only file under a real `cellzoo sweep` (issue 12, items 1, 2, 4
and 5), on a small tmpfs this test mounts itself: the disk fills up mid-sweep, or is full
when the sweep starts, or the partial file sits on a read-only filesystem. Each ends in one
clear error (no HDF5 stack dump, no "infinite loop closing library"), the finished runs
stay in the file, and once the cause is gone the same command resumes to a file equal to
an uninterrupted sweep's; a resume with nothing to do leaves the file's bytes alone.
Mounting needs root: elsewhere the test is skipped (exit 77), saying so."""
import contextlib
import hashlib
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import assert_same_metrics, run, runs_by_id, tempdir  # noqa: E402
from sweep_support import write_spec  # noqa: E402

import h5py  # noqa: E402  (sweep_support skipped the test if it is missing)
import numpy as np  # noqa: E402

SIZE = 256 * 1024  # the tmpfs; the 24-run results file takes about 60 KB


def skip(reason):
    print(f"SKIP: {reason}", file=sys.stderr)
    sys.exit(77)


@contextlib.contextmanager
def small_tmpfs(directory):
    """A tmpfs of SIZE bytes mounted at `directory` (needs root; skips otherwise)."""
    if os.geteuid() != 0:
        skip("mounting a small tmpfs needs root (run the suite as root to test a full disk)")
    os.makedirs(directory)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", directory],
                       capture_output=True, text=True)
    if p.returncode != 0:
        skip(f"cannot mount a tmpfs here ({p.stderr.strip()}); a full disk is not tested")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", directory], check=False)


def fill(directory, leave):
    """Fills the filesystem of `directory` until `leave` bytes are free (0 = full)."""
    path = os.path.join(directory, "filler")
    st = os.statvfs(directory)
    size = max(0, st.f_bavail * st.f_frsize - leave)
    try:
        with open(path, "ab") as f:
            f.write(b"\0" * size)
            f.flush()
            while leave == 0:  # the last pages
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:  # ENOSPC: full
        pass
    return path


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def one_clear_error(p, *needles):
    """A non-zero exit whose stderr is progress lines plus one error and its hint."""
    assert p.returncode != 0, f"expected a failure, got exit 0\n{p.stderr}"
    lines = p.stderr.splitlines()
    stray = [ln for ln in lines if not ln.startswith(("[sweep] ", "cellzoo sweep: error: ",
                                                      "  hint: "))]
    assert not stray, f"stderr holds more than one clear error:\n{p.stderr}"
    assert sum("error:" in ln for ln in lines) == 1, p.stderr
    for n in needles:
        assert n in p.stderr, f"expected {n!r} in:\n{p.stderr}"
    for bad in ("HDF5", "infinite loop", "--resume", "internal error", "corrupt"):
        assert bad not in p.stderr, f"{bad!r} in:\n{p.stderr}"


def sweep(spec, out):
    return run("sweep", spec, "--jobs", "1", "--out", out, check=False)


def full_mid_sweep(spec, reference, mnt):
    """Item 1: the disk fills up after some runs. Returns the partial file and its safe runs.
    The free space left is raised until the first runs fit (the file's layout decides how
    much that takes)."""
    out = os.path.join(mnt, "mid.h5")
    for leave in range(48 * 1024, 160 * 1024, 8 * 1024):
        filler = fill(mnt, leave)
        p = sweep(spec, out)
        one_clear_error(p, "no space left on device", out, "safe in it",
                        "re-run the same command")
        m = re.search(r"(\d+) runs? (?:is|are) safe in it", p.stderr)
        assert m, p.stderr
        safe = int(m.group(1))
        if safe > 0:
            break
        os.remove(filler)
        if os.path.exists(out):
            os.remove(out)
    # The partial file opens with plain h5py and holds at least the runs said to be safe
    # (also the one being written, when its row made it before the flush failed).
    with h5py.File(out, "r") as f:
        held = int(np.count_nonzero(f["runs"]["run_key"] != b""))  # the rest: reserved rows
    assert held >= safe > 0, f"the error says {safe} runs are safe, the file holds {held}"
    assert safe < len(runs_by_id(reference)), "the disk never filled up; make the sweep larger"
    assert not os.path.exists(out + ".creating")
    os.remove(filler)
    return out, safe


def main():
    with tempdir() as d:
        spec = write_spec(d, trials=8, epochs=3, train_size=256)
        reference = os.path.join(d, "reference.h5")
        run("sweep", spec, "--jobs", "1", "--out", reference)
        total = len(runs_by_id(reference))
        mnt = os.path.join(d, "mnt")
        with small_tmpfs(mnt):
            # 1. Full mid-sweep; then the same command resumes exactly.
            out, safe = full_mid_sweep(spec, reference, mnt)
            p = sweep(spec, out)
            assert p.returncode == 0, p.stderr
            assert re.search(r"\b(\d+) already done", p.stderr), p.stderr
            assert int(re.search(r"\b(\d+) already done", p.stderr).group(1)) >= safe
            assert_same_metrics(reference, out, "resumed after a full disk")
            os.remove(out)

            # 2. Full before the sweep starts: no file is left behind to block the rerun.
            out = os.path.join(mnt, "start.h5")
            filler = fill(mnt, 0)
            p = sweep(spec, out)
            one_clear_error(p, "no space left on device", out, "nothing was written")
            assert "already exists" not in p.stderr, p.stderr
            assert not os.path.exists(out), "a failed create left a file behind"
            assert not os.path.exists(out + ".creating")
            os.remove(filler)
            p = sweep(spec, out)
            assert p.returncode == 0, p.stderr
            assert_same_metrics(reference, out, "after a disk that was full at the start")
            os.remove(out)

            # 4. A valid partial file on a read-only filesystem: not "corrupt", and report
            # still reads it.
            out, safe = full_mid_sweep(spec, reference, mnt)
            before = digest(out)
            subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
            try:
                p = sweep(spec, out)
                one_clear_error(p, "read-only filesystem", "cellzoo report can still read it",
                                "do not delete it")
                assert "rerun what it held" not in p.stderr, p.stderr
                assert digest(out) == before
                r = run("report", out, check=False)
                assert r.returncode == 0, f"report cannot read the read-only file:\n{r.stderr}"
            finally:
                subprocess.run(["mount", "-o", "remount,rw", mnt], check=True)
            p = sweep(spec, out)
            assert p.returncode == 0, p.stderr
            assert_same_metrics(reference, out, "resumed after the filesystem became writable")

            # 5. A resume with nothing to run leaves the complete file's bytes alone.
            before, mtime = digest(out), os.stat(out).st_mtime_ns
            p = sweep(spec, out)
            assert p.returncode == 0, p.stderr
            assert f"{total} already done" in p.stderr and "0 to run" in p.stderr, p.stderr
            assert digest(out) == before, "a resume with nothing to run rewrote the file"
            assert os.stat(out).st_mtime_ns == mtime, "a resume with nothing to run wrote to it"
    print(f"ok: a full disk (mid-sweep: {safe} runs safe; at the start) and a read-only file "
          "give one clear error each; the same command then resumes exactly; a complete "
          "file is left alone")


if __name__ == "__main__":
    main()
