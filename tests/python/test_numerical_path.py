"""The same binary under both of glibc's math paths: GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA
makes glibc pick its SSE2 exp/log kernels instead of the FMA ones (the only code path in a
cellzoo binary chosen at run time: Eigen's kernels are fixed when compiling). The runs are
bit-identical (every metric and curve value) on this machine, and the files record the two
paths ("libm fma" / "libm sse2"), so a resume across them is a mixed-path resume. This is
how far one machine can test README's claim that a -DCELLZOO_NATIVE=OFF binary computes the
same bits on every x86-64 processor. Skipped where the processor lacks FMA or AVX2."""
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import run, runs_by_id, tempdir, write_spec  # noqa: E402

import h5py  # noqa: E402

MASK = "glibc.cpu.hwcaps=-AVX2,-FMA"


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def curves(path):
    with h5py.File(path, "r") as f:
        c = f["curves"][:]
    return sorted(tuple(row.item() if hasattr(row, "item") else row for row in r) for r in c)


def main():
    if platform.machine() != "x86_64" or not {"fma", "avx2"} <= cpu_flags():
        print("SKIP: needs an x86-64 processor with FMA and AVX2 (glibc's two libm paths)",
              file=sys.stderr)
        sys.exit(77)
    with tempdir() as d:
        spec = write_spec(d, trials=2, epochs=3, train_size=128)  # 6 runs
        fma, sse2 = os.path.join(d, "fma.h5"), os.path.join(d, "sse2.h5")
        env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
        run("sweep", spec, "--out", fma, "--jobs", "2", env=env)
        run("sweep", spec, "--out", sse2, "--jobs", "2", env=dict(env, GLIBC_TUNABLES=MASK))
        a, b = runs_by_id(fma), runs_by_id(sse2)
        assert sorted(a) == sorted(b)
        for rid in a:
            for k, v in a[rid].items():
                w = b[rid][k]
                if k != "wall_seconds":
                    assert v == w or (v != v and w != w), (rid, k, v, w)
        ca, cb = curves(fma), curves(sse2)
        strip = [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in ca]  # all but seconds
        assert strip == [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in cb], "curves differ"
        with h5py.File(fma, "r") as f, h5py.File(sse2, "r") as g:
            pa, pb = f.attrs["numerical_path"].decode(), g.attrs["numerical_path"].decode()
        assert pa.endswith("libm fma") and pb.endswith("libm sse2"), (pa, pb)
        assert pa[:-len("fma")] == pb[:-len("sse2")], (pa, pb)
        # A resume of the SSE2-path file on the FMA path is a mixed-path resume.
        with h5py.File(sse2, "r+") as f:
            f["runs"].resize((f["runs"].shape[0] - 1,))
        p = run("sweep", spec, "--out", sse2, "--jobs", "1", env=env)
        assert "another numerical path" in p.stderr and "libm sse2" in p.stderr, p.stderr
    print("ok: 6 runs bit-identical under glibc's FMA and SSE2 math kernels; paths recorded "
          "as '...libm fma' and '...libm sse2'")


if __name__ == "__main__":
    main()
