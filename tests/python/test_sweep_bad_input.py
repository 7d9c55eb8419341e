"""Bad input to `cellzoo sweep` gets one clear error naming the problem (with the spec
line where there is one), a non-zero exit, and never touches an existing file."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import SMALL_SPEC, run, tempdir, write_spec  # noqa: E402

GOOD = SMALL_SPEC.format(trials=1, epochs=1, train_size=64)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def expect_error(d, text, args, *needles):
    spec = write_spec(d, text=text)
    before = {n: digest(os.path.join(d, n)) for n in os.listdir(d) if n.endswith(".h5")}
    p = run("sweep", spec, *args, check=False)
    assert p.returncode != 0, f"expected failure for {needles}, got exit 0\n{p.stderr}"
    assert "error:" in p.stderr, p.stderr
    for n in needles:
        assert n in p.stderr, f"expected {n!r} in the error:\n{p.stderr}"
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    after = {n: digest(os.path.join(d, n)) for n in os.listdir(d) if n.endswith(".h5")}
    assert before == after, f"existing results files changed: {before} -> {after}"
    return p


def main():
    with tempdir() as d:
        out = os.path.join(d, "existing.h5")
        run("sweep", write_spec(d, text=GOOD), "--out", out, "--jobs", "2")
        o = ["--out", out]
        # Malformed line, with its line number.
        expect_error(d, GOOD.replace("trials = 1", "trials 1"), o, "small.ini:4")
        # Unknown cell: at its spec line, with the likely one and the registered ones.
        expect_error(d, GOOD.replace("cells = rnn, lstm, gru", "cells = rnn, lstmm"), o,
                     "small.ini:3: unknown cell 'lstmm' (did you mean 'lstm'?)",
                     "registered cells")
        # An unknown function in a cell file: named, at the spec line and in the file.
        cell = os.path.join(d, "soft.cell")
        with open(cell, "w") as f:
            f.write("state h\nh' = softmax(W(x) + W(h) + bias)\n")
        expect_error(d, GOOD.replace("cells = rnn, lstm, gru", f"cells = rnn, file:{cell}"), o,
                     "small.ini:3:", "soft.cell:2:6: unknown function 'softmax'",
                     "sigmoid, tanh, relu")
        p = run("sweep", write_spec(d, text=GOOD), "--out", out, "--dry-run",
                "--set", f"cells=file:{cell}", check=False)
        assert p.returncode != 0 and "unknown function 'softmax'" in p.stderr, p.stderr
        # A real is at most finite: the bound is exclusive, and said so.
        expect_error(d, GOOD.replace("lr = loguniform(0.003, 0.03)", "lr = inf"), o,
                     "lr=inf", "real in [0, inf)")
        # --log-interval below 0.
        expect_error(d, GOOD, o + ["--log-interval", "-5"], "--log-interval", "at least 0")
        # Unknown hyperparameter, at its line.
        expect_error(d, GOOD.replace("batch_size = 16", "batchsize = 16"), o,
                     "batchsize", "small.ini:")
        # Bad distribution and an empty grid.
        expect_error(d, GOOD.replace("loguniform(0.003, 0.03)", "lognormal(0.003, 0.03)"), o,
                     "lognormal", "small.ini:")
        expect_error(d, GOOD.replace("int_loguniform(4, 16)", "[]"), o, "small.ini:")
        # Unknown task option.
        expect_error(d, GOOD.replace("length = 12", "lenght = 12"), o, "lenght", "small.ini:8:")
        # A bad task option value, and a missing data file, at their lines.
        expect_error(d, GOOD.replace("length = 12", "length = -1"), o, "length", "small.ini:8:")
        music = ("name = small\ntask = music\ncells = rnn\n\n[task]\n"
                 "data = no/such/file.json\n")
        expect_error(d, music, o, "no/such/file.json", "small.ini:6:", "fetch-datasets")
        # Paths are stored in full (a CI checkout's 66-byte dataset path once overflowed a
        # 64-byte column); one wider than its column is refused before anything is trained
        # or created.
        rolls = '[[60,64],[],[62],[60],[64,67]]'
        split = "[" + ",".join([rolls] * 4) + "]"
        deep = d
        for part in range(5):
            deep = os.path.join(deep, f"{part}" + "d" * 240)
        os.makedirs(deep)
        long_data = os.path.join(deep, "rolls.json")
        with open(long_data, "w") as f:
            f.write('{"train":%s,"valid":%s,"test":%s}' % (split, split, split))
        music_ok = ("name = small\ntask = music\ncells = rnn\n\n[task]\ndata = %s\n\n"
                    "[fixed]\nhidden = 4\nmax_epochs = 1\n")
        shallow = long_data[:len(d) + 1 + 241] + "/rolls.json"
        os.makedirs(os.path.dirname(shallow), exist_ok=True)
        os.symlink(long_data, shallow)
        assert 250 < len(shallow) < 512 < len(long_data), (len(shallow), len(long_data))
        fits = os.path.join(d, "long-path.h5")
        run("sweep", write_spec(d, text=music_ok % shallow), "--out", fits)
        import h5py
        with h5py.File(fits, "r") as f:
            assert f["runs"]["task.data"][0].decode() == shallow
        os.remove(fits)
        too_long = os.path.join(d, "too-long.h5")
        expect_error(d, music_ok % long_data, ["--out", too_long], "task.data", "at most 512")
        assert not os.path.exists(too_long), "a refused sweep created its output file"
        # A model that cannot fit in memory: refused up front, naming the run and the
        # estimate (it used to fail every run with a bare std::bad_alloc and exit 0).
        huge = os.path.join(d, "huge.h5")
        p = expect_error(d, GOOD.replace("int_loguniform(4, 16)", "1000000"), ["--out", huge],
                         "needs about", "TiB of memory", "this machine has", "lower hidden")
        assert "run lstm/" in p.stderr, p.stderr  # the largest of the three
        assert not os.path.exists(huge), "a refused sweep created its output file"
        p = run("sweep", write_spec(d, text=GOOD), "--out", huge, "--dry-run")
        assert "memory: the largest run needs about" in p.stdout, p.stdout
        # A UTF-8 byte-order mark before the spec (some editors write one) is no error.
        bom = os.path.join(d, "bom.ini")
        with open(bom, "wb") as f:
            f.write(b"\xef\xbb\xbf" + GOOD.encode())
        p = run("sweep", bom, "--dry-run")
        assert "name small" in p.stdout, p.stdout
        # Resume file of another spec: refused, untouched.
        expect_error(d, GOOD.replace("seed = 7", "seed = 8"), o, "existing.h5")
        # ... naming the keys that differ and the way out (--out + --reuse).
        expect_error(d, GOOD.replace("seed = 7", "seed = 8"), o, "seed: 7 in the file, 8 now")
        expect_error(d, GOOD.replace("seed = 7", "seed = 8"), o, "--reuse")
        # Unwritable output directory (a path under a regular file; tests run as root).
        blocker = os.path.join(d, "file.txt")
        open(blocker, "w").close()
        expect_error(d, GOOD, ["--out", os.path.join(blocker, "out.h5")], "out.h5")
        # Corrupt HDF5 file: refused and left as it was.
        corrupt = os.path.join(d, "corrupt.h5")
        with open(corrupt, "wb") as f:
            f.write(os.urandom(4096))
        expect_error(d, GOOD, ["--out", corrupt], "corrupt.h5")
        # Bad options.
        expect_error(d, GOOD, ["--out", out, "--shard", "3/2"], "shard")
        expect_error(d, GOOD, ["--out", out, "--set", "nosuchkey=1"], "nosuchkey")
        p = run("sweep", os.path.join(d, "missing.ini"), check=False)
        assert p.returncode != 0 and "missing.ini" in p.stderr, p.stderr
        p = run("sweep", check=False)  # no spec at all: named as the usage line names it
        assert p.returncode != 0 and "missing the spec argument" in p.stderr and \
            "usage: cellzoo sweep SPEC" in p.stderr, p.stderr
    print("ok: every bad input gives one clear error and leaves existing files untouched")


if __name__ == "__main__":
    main()
