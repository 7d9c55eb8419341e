#!/usr/bin/python3
"""cellzoo against PyTorch, side by side, in one invocation on one machine.

The workload is `cellzoo bench`'s training step (docs/performance.md): forward over the
sequence, a linear readout H -> I at every step, MSE, full BPTT and SGD with momentum
(lr 0.01, momentum 0.9), float32, one thread. PyTorch runs the same step with nn.RNN(tanh)
/ nn.LSTM / nn.GRU + nn.Linear + mse_loss + optim.SGD in a long-lived worker process whose
OpenMP, OpenBLAS and MKL pools are limited to one thread before torch is imported (and
again with threadpoolctl when it is installed).

Measurements alternate: every repetition measures each (cell, size) once in cellzoo and
once in PyTorch, swapping who goes first, and the table reports medians over the
repetitions. Phases:
  1. one process each: the pairs rnn/nn.RNN, lstm-np/nn.LSTM, gru-ra/nn.GRU;
  2. Eigen's SGEMM on the bench shapes (`cellzoo bench --gemm`); the best rate is the
     "peak" the cells' GFLOP/s are compared with;
  3. two processes at once (how a sweep uses two cores): two cellzoo bench processes vs
     two PyTorch workers, total sequences/s;
  4. cellzoo-only extras relative to lstm-np: lstm (peepholes), lstm-fgr, lang:lstm.
`--sweep` adds a small real `cellzoo sweep` at --jobs 1 and --jobs 2 (wall-time ratio).
`--epoch JSB.json` adds whole epochs of Greff et al.'s JSB protocol (one update per
sequence, hidden 100, full BPTT, SGD with Nesterov momentum, validation and test after
every epoch): `cellzoo bench --epoch` (lstm-np and lstm) against the same loop in PyTorch
(nn.LSTM + nn.Linear + summed BCE-with-logits per sequence; evaluation under no_grad, one
sequence at a time), alternating, with each side's evaluation share of the epoch.

Size G (I 88, H 100, B 1, T 60) is that regime's training step. The comparison refuses to
run when PyTorch's BLAS is not an optimised one (Debian's reference libblas makes PyTorch
10-40x slower and every ratio meaningless); install libopenblas0-pthread.

Run with Debian's Python (it has torch):
  /usr/bin/python3 scripts/bench/compare_torch.py --cellzoo build/framework/cellzoo
Exit codes: 0 done, 1 error, 77 torch is missing (the message says how to install it).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SIZES = {  # name: (input, hidden, batch, length), as `cellzoo bench`
    "T": (8, 32, 16, 200),
    "S": (32, 128, 32, 100),
    "M": (128, 256, 32, 100),
    "L": (256, 512, 64, 50),
    "G": (88, 100, 1, 60),  # Greff's JSB regime: one sequence per update
}
PAIRS = {"rnn": "RNN", "lstm-np": "LSTM", "gru-ra": "GRU"}  # cellzoo cell: torch module
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
AIM_RATIO = {"T": 5.0, "S": 1.8, "M": 1.3, "L": 1.1, "G": 8.0}  # cellzoo / torch, one thread
AIM_EPOCH = 8.0  # Greff's JSB epoch: cellzoo at least 8x PyTorch's loop
EPOCH_CELLS = {"lstm-np": "LSTM", "lstm": "LSTM"}  # nn.LSTM has no peepholes
OPTIMISED_BLAS = ("openblas", "mkl", "blis", "flexiblas", "atlas")
AIM_PEAK = {"M": 0.85, "L": 0.85}  # fraction of the measured SGEMM peak
EXTRAS = {"lstm": 1.3, "lstm-fgr": 1.3, "lang:lstm": 1.5}  # aim: at most Nx slower than lstm-np
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def step_flops(gates, i, h, b, t):
    """The FLOP model of docs/performance.md: 3 x (2GHIBT + 2GHHBT + 2IHBT)."""
    return 3.0 * (2 * gates * h * i * b * t + 2 * gates * h * h * b * t + 2 * i * h * b * t)


# --------------------------------------------------------------------------------------
# The PyTorch worker: a separate process, so that its thread limits are set before torch
# is imported and two of them can run at once. One JSON request per line on stdin, one
# JSON reply per line on stdout.


def median_seconds_per_call(fn, blocks, block_seconds):
    """Same method as cellzoo's bench: warm up, then the median of timed blocks. Returns
    (wall, thread CPU) seconds per call."""
    fn()
    warm, start = 0, time.perf_counter()
    while True:
        fn()
        warm += 1
        if time.perf_counter() - start >= 0.25 * block_seconds:
            break
    calls = max(1, int(-(-block_seconds // ((time.perf_counter() - start) / warm))))
    per_call, cpu_per_call = [], []
    for _ in range(max(1, blocks)):
        start, cpu_start = time.perf_counter(), time.thread_time()
        for _ in range(calls):
            fn()
        per_call.append((time.perf_counter() - start) / calls)
        cpu_per_call.append((time.thread_time() - cpu_start) / calls)
    return statistics.median(per_call), statistics.median(cpu_per_call)


def optimised_blas(libraries):
    """The optimised BLAS among the shared libraries a process has mapped (paths), or None
    when it only has the reference BLAS (Debian's libblas3: .../blas/libblas.so.3)."""
    for path in libraries:
        name = path.lower()
        if any(tag in name for tag in OPTIMISED_BLAS):
            return path
    return None


def mapped_libraries():
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if ".so" in line}
    except OSError:
        return []
    return sorted(p for p in paths if "blas" in p.lower() or "lapack" in p.lower())


def read_piano_rolls(path, torch):
    """Boulanger-Lewandowski's JSON piano rolls as cellzoo's music task reads them: a
    piece of L steps gives inputs steps 0..L-2 and targets 1..L-1 (88 keys, MIDI 21..108)."""
    with open(path) as f:
        data = json.load(f)
    splits = {}
    for split in ("train", "valid", "test"):
        pieces = []
        for piece in data[split]:
            if len(piece) < 2:
                continue
            roll = torch.zeros(len(piece), 1, 88)
            for t, notes in enumerate(piece):
                for note in notes:
                    roll[t, 0, note - 21] = 1
            pieces.append((roll[:-1].contiguous(), roll[1:].contiguous()))
        splits[split] = pieces
    return splits


def torch_greff_epochs(req, torch):
    """Greff's protocol in PyTorch: returns per epoch (wall, CPU, evaluation CPU) seconds."""
    import random

    data = read_piano_rolls(req["data"], torch)
    torch.manual_seed(1)
    cell = torch.nn.LSTM(88, req["hidden"])
    readout = torch.nn.Linear(req["hidden"], 88)
    params = list(cell.parameters()) + list(readout.parameters())
    opt = torch.optim.SGD(params, lr=req["lr"], momentum=req["momentum"], nesterov=True)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    order = list(range(len(data["train"])))
    rng = random.Random(1)
    epochs = []
    for _ in range(req["epochs"]):
        rng.shuffle(order)
        start, cpu_start = time.perf_counter(), time.process_time()
        for k in order:
            x, y = data["train"][k]
            opt.zero_grad(set_to_none=True)
            out, _ = cell(x)
            loss = bce(readout(out), y, reduction="sum")  # summed over steps and keys
            loss.backward()
            opt.step()
        cpu_mid = time.process_time()
        with torch.no_grad():
            for split in ("valid", "test"):
                for x, y in data[split]:
                    out, _ = cell(x)
                    bce(readout(out), y, reduction="sum")
        cpu_end = time.process_time()
        epochs.append((time.perf_counter() - start, cpu_end - cpu_start, cpu_end - cpu_mid))
    return epochs


def openblas_core_for_this_processor():
    """The OpenBLAS kernels cellzoo loads (framework/util/blas.cpp): SkylakeX with AVX-512,
    Haswell with AVX2 + FMA, else None (OpenBLAS's own choice). OpenBLAS 0.3.21 runs its SSE3
    "Prescott" kernels, 4-5x slower, on processors it does not know by model number."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return None
    if all(f in flags for f in ("avx512f", "avx512bw", "avx512dq", "avx512vl")):
        return "SkylakeX"
    if "avx2" in flags and "fma" in flags:
        return "Haswell"
    return None


def torch_worker():
    for var in THREAD_VARS:
        os.environ[var] = "1"
    core = openblas_core_for_this_processor()
    if core and "OPENBLAS_CORETYPE" not in os.environ:
        os.environ["OPENBLAS_CORETYPE"] = core
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    pools = []
    try:
        import threadpoolctl

        threadpoolctl.threadpool_limits(1)
        pools = [
            {k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for p in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        pass
    torch.ones(64, 64) @ torch.ones(64, 64)  # loads the BLAS
    hello = {"torch": torch.__version__, "threads": torch.get_num_threads(), "pools": pools,
             "blas_libraries": mapped_libraries()}
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("greff"):
            print(json.dumps({"epochs": torch_greff_epochs(req, torch)}), flush=True)
            continue
        i, h, b, t = req["input"], req["hidden"], req["batch"], req["length"]
        torch.manual_seed(1)
        if req["module"] == "RNN":
            cell = torch.nn.RNN(i, h, nonlinearity="tanh")
        else:
            cell = getattr(torch.nn, req["module"])(i, h)
        readout = torch.nn.Linear(h, i)
        params = list(cell.parameters()) + list(readout.parameters())
        opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
        x = torch.rand(t, b, i) * 2 - 1
        target = torch.rand(t, b, i) * 2 - 1

        def step():
            opt.zero_grad(set_to_none=True)
            out, _ = cell(x)
            loss = torch.nn.functional.mse_loss(readout(out), target)
            loss.backward()
            opt.step()

        seconds, cpu = median_seconds_per_call(step, req["blocks"], req["block_seconds"])
        print(json.dumps({"seconds": seconds, "cpu_seconds": cpu}), flush=True)


class TorchWorker:
    def __init__(self):
        env = dict(os.environ)
        for var in THREAD_VARS:
            env[var] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--torch-worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.hello = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the PyTorch worker died (see its error above)")
        return json.loads(line)

    def send(self, module, size, blocks, block_seconds):
        i, h, b, t = SIZES[size]
        req = {"module": module, "input": i, "hidden": h, "batch": b, "length": t,
               "blocks": blocks, "block_seconds": block_seconds}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()

    def receive(self, clock="wall"):
        rep = self._read()
        return rep["cpu_seconds"] if clock == "cpu" else rep["seconds"]

    def greff(self, data, hidden, epochs, lr, momentum):
        req = {"greff": True, "data": data, "hidden": hidden, "epochs": epochs, "lr": lr,
               "momentum": momentum}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return self._read()["epochs"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# --------------------------------------------------------------------------------------
# cellzoo side


def cellzoo_cmd(exe, cell, size, blocks, block_seconds, gemm=False):
    cmd = [exe, "bench", "--json", "--cell", cell, "--repeat", str(blocks),
           "--block-seconds", str(block_seconds)]
    for s in size if isinstance(size, list) else [size]:
        cmd += ["--size", s]
    if gemm:
        cmd.append("--gemm")
    return cmd


def parse_bench(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def run_cellzoo(exe, cell, size, blocks, block_seconds, clock="wall"):
    out = subprocess.run(cellzoo_cmd(exe, cell, size, blocks, block_seconds), check=True,
                         capture_output=True, text=True).stdout
    rec = parse_bench(out)[0]
    return rec["cpu_seconds_per_step"] if clock == "cpu" else rec["seconds_per_step"]


def run_cellzoo_pair(exe, cell, size, blocks, block_seconds):
    """Two bench processes at once; returns both seconds per step."""
    cmd = cellzoo_cmd(exe, cell, size, blocks, block_seconds)
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    secs = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed with exit code {p.returncode}")
        secs.append(parse_bench(out)[0]["seconds_per_step"])
    return secs


def run_cellzoo_epochs(exe, cell, data, epochs, sets):
    cmd = [exe, "bench", "--json", "--epoch", data, "--cell", cell, "--epochs", str(epochs),
           "--repeat", "1"]
    for kv in sets:
        cmd += ["--set", kv]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return parse_bench(out)[0]


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# --------------------------------------------------------------------------------------
# The small real sweep of --sweep: the same spec at --jobs 1 and --jobs 2.

SWEEP_SPEC = """# compare_torch.py --sweep: a small real sweep for the --jobs 1 vs 2 wall-time ratio
name = scaling
task = adding
cells = rnn, lstm, gru-ra, lstm-np
trials = 4
seed = 7

[task]
length = 50
n_train = 1000

[fixed]
optimizer = adam
max_epochs = 3
batch_size = 32

[space]
hidden = int_loguniform(32, 96)
lr = loguniform(3e-3, 3e-2)
"""


def run_sweep_scaling(exe, reps):
    tmp = tempfile.mkdtemp(prefix="cellzoo-scaling-")
    try:
        spec = os.path.join(tmp, "scaling.ini")
        with open(spec, "w") as f:
            f.write(SWEEP_SPEC)
        walls = {1: [], 2: []}
        for r in range(reps):
            for jobs in ((1, 2) if r % 2 == 0 else (2, 1)):
                out = os.path.join(tmp, f"j{jobs}-{r}.h5")
                start = time.perf_counter()
                subprocess.run([exe, "sweep", spec, "--jobs", str(jobs), "--out", out],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                walls[jobs].append(time.perf_counter() - start)
        return {j: statistics.median(w) for j, w in walls.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------


def default_exe():
    if os.environ.get("CELLZOO_EXE"):
        return os.environ["CELLZOO_EXE"]
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(here, "build", "framework", "cellzoo")


def fmt_ok(value, aim):
    return "" if aim is None else ("ok" if value >= aim else "MISS")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cellzoo", default=default_exe(), help="the cellzoo executable")
    ap.add_argument("--sizes", default="T,S,M,L,G", help="comma-separated sizes (T,S,M,L,G)")
    ap.add_argument("--pairs", default=",".join(PAIRS), help="cellzoo cells of the pairs")
    ap.add_argument("--extras", default=",".join(EXTRAS),
                    help="cellzoo cells compared with lstm-np ('' for none)")
    ap.add_argument("--reps", type=int, default=5, help="alternating repetitions (median)")
    ap.add_argument("--block-seconds", type=float, default=0.3, help="one timed block")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="one-process and epoch phases: time by the CPU seconds of the "
                    "measuring thread (default; robust when other jobs share the cores) or "
                    "by wall time (the two-process phase and --sweep always use wall time)")
    ap.add_argument("--no-parallel", action="store_true", help="skip the two-process phase")
    ap.add_argument("--sweep", action="store_true",
                    help="also time a small `cellzoo sweep` at --jobs 1 and --jobs 2")
    ap.add_argument("--epoch", metavar="JSB_JSON",
                    help="also time whole epochs of Greff's JSB protocol on this piano-roll "
                    "file, cellzoo vs PyTorch (e.g. ../shared/datasets/jsb_chorales/"
                    "jsb_chorales.json)")
    ap.add_argument("--epochs", type=int, default=3,
                    help="epochs per --epoch measurement (the first is a warm-up)")
    ap.add_argument("--epoch-set", action="append", default=[], metavar="KEY=VALUE",
                    help="hyperparameter of the --epoch protocol (hidden, lr, momentum; "
                    "both sides)")
    ap.add_argument("--allow-reference-blas", action="store_true",
                    help="compare even when PyTorch has no optimised BLAS (numbers are "
                    "meaningless; for debugging the script only)")
    ap.add_argument("--quick", action="store_true",
                    help="debugging: 1 repetition of 0.05 s blocks (numbers are noise)")
    ap.add_argument("--json", metavar="FILE", help="also write every result to FILE")
    args = ap.parse_args()
    if args.torch_worker:
        torch_worker()
        return 0

    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
    if probe.returncode != 0:
        print(f"skipped: {sys.executable} cannot import torch; on Debian run "
              "`apt-get install python3-torch` and use /usr/bin/python3")
        return 77
    if not os.access(args.cellzoo, os.X_OK):
        print(f"error: no cellzoo executable at {args.cellzoo}; build it "
              "(cmake --build build --target cellzoo) or pass --cellzoo PATH", file=sys.stderr)
        return 1
    if args.quick:
        args.reps, args.block_seconds = 1, 0.05
    sizes = [s for s in args.sizes.split(",") if s]
    pairs = [p for p in args.pairs.split(",") if p]
    extras = [e for e in args.extras.split(",") if e]
    for s in sizes:
        if s not in SIZES:
            print(f"error: unknown size '{s}'; use {', '.join(SIZES)}", file=sys.stderr)
            return 1
    if args.epoch and not os.path.isfile(args.epoch):
        print(f"error: --epoch {args.epoch}: no such file; pass JSB's piano-roll JSON, e.g. "
              "../shared/datasets/jsb_chorales/jsb_chorales.json", file=sys.stderr)
        return 1
    if args.epoch and args.epochs < 2:
        print("error: --epochs must be at least 2 (the first is a warm-up)", file=sys.stderr)
        return 1
    epoch_hyper = {"hidden": "100", "lr": "1e-4", "momentum": "0.9"}
    for kv in args.epoch_set:
        key, eq, value = kv.partition("=")
        if not eq or key not in epoch_hyper:
            print(f"error: --epoch-set {kv!r}: use hidden=N, lr=X or momentum=X",
                  file=sys.stderr)
            return 1
        epoch_hyper[key] = value
    for p in pairs:
        if p not in PAIRS:
            print(f"error: unknown pair '{p}'; use {', '.join(PAIRS)}", file=sys.stderr)
            return 1
    if extras and "lstm-np" not in pairs:
        pairs.append("lstm-np")  # the extras are reported relative to it

    worker = TorchWorker()
    blas = [p for p in worker.hello["pools"] if p["internal_api"] not in ("openmp",)]
    print(f"cellzoo: {args.cellzoo}")
    print(f"torch {worker.hello['torch']} ({sys.executable}), intra-op threads "
          f"{worker.hello['threads']}, pools: " +
          ", ".join(f"{p['internal_api']} {p['version'] or ''} {p['architecture'] or ''} "
                    f"threads={p['num_threads']}" for p in worker.hello["pools"]))
    found = optimised_blas(worker.hello["blas_libraries"] +
                           [p["internal_api"] for p in blas])
    print("torch's BLAS libraries: " + (", ".join(worker.hello["blas_libraries"]) or "none"))
    generic = [p for p in blas if p["internal_api"] == "openblas"
               and (p["architecture"] or "").lower() == "prescott"
               and openblas_core_for_this_processor()]
    if generic:
        found = None
    if not found:
        msg = ("torch has no optimised BLAS (only the reference libblas?): its matrix products "
               "run 10-40x slower and any ratio would flatter cellzoo")
        if generic:
            msg = ("torch's OpenBLAS runs its SSE3 'Prescott' kernels on this AVX2/AVX-512 "
                   "processor (OPENBLAS_CORETYPE overridden?): its products run 4-5x slower "
                   "and any ratio would flatter cellzoo")
        if not args.allow_reference_blas:
            worker.close()
            print(f"error: {msg}. Install OpenBLAS (apt-get install libopenblas0-pthread) and "
                  "check `python3 -c 'import torch; print(torch.__config__.show())'`",
                  file=sys.stderr)
            return 1
        print(f"WARNING: {msg} (--allow-reference-blas)")
    loads = [load_average()]
    print(f"1-minute load average at start: {loads[0]:.2f}; {args.reps} repetitions, blocks of "
          f">= {args.block_seconds} s; one-process and epoch times by {args.clock} clock",
          flush=True)

    one = {(c, s): {"cellzoo": [], "torch": []} for c in pairs for s in sizes}
    extra = {(c, s): [] for c in extras for s in sizes}
    two = {(c, s): {"cellzoo": [], "torch": []} for c in pairs for s in sizes}
    gemm = {}
    for r in range(args.reps):
        for c in pairs:
            for s in sizes:
                # Alternate who goes first, so a slow drift in the load hits both sides.
                order = ("cellzoo", "torch") if r % 2 == 0 else ("torch", "cellzoo")
                for side in order:
                    if side == "cellzoo":
                        sec = run_cellzoo(args.cellzoo, c, s, 1, args.block_seconds, args.clock)
                    else:
                        worker.send(PAIRS[c], s, 1, args.block_seconds)
                        sec = worker.receive(args.clock)
                    one[(c, s)][side].append(sec)
        for c in extras:
            for s in sizes:
                extra[(c, s)].append(run_cellzoo(args.cellzoo, c, s, 1, args.block_seconds,
                                                 args.clock))
        out = subprocess.run(cellzoo_cmd(args.cellzoo, "rnn", sizes, 1, args.block_seconds,
                                         gemm=True), check=True, capture_output=True,
                             text=True).stdout
        for rec in parse_bench(out):
            if rec["cell"] == "sgemm":
                key = (rec["size"], rec["shape"], rec["m"], rec["k"], rec["n"],
                       rec.get("library", "eigen"))
                gemm.setdefault(key, []).append(
                    rec["cpu_gflops"] if args.clock == "cpu" and "cpu_gflops" in rec
                    else rec["gflops"])
        loads.append(load_average())
        print(f"  repetition {r + 1}/{args.reps} (one process) done, load {loads[-1]:.2f}",
              file=sys.stderr, flush=True)

    epoch = {c: {"cellzoo": [], "torch": []} for c in EPOCH_CELLS} if args.epoch else {}
    sets = [f"{k}={v}" for k, v in epoch_hyper.items()]
    for r in range(args.reps if args.epoch else 0):
        for c in EPOCH_CELLS:
            order = ("cellzoo", "torch") if r % 2 == 0 else ("torch", "cellzoo")
            for side in order:
                if side == "cellzoo":
                    rec = run_cellzoo_epochs(args.cellzoo, c, args.epoch, args.epochs, sets)
                    total = rec["cpu_seconds_per_epoch" if args.clock == "cpu"
                                else "seconds_per_epoch"]
                    epoch[c]["cellzoo"].append((total, rec["eval_share"]))
                else:
                    eps = worker.greff(os.path.abspath(args.epoch), int(epoch_hyper["hidden"]),
                                       args.epochs, float(epoch_hyper["lr"]),
                                       float(epoch_hyper["momentum"]))[1:]
                    total = statistics.median(e[1] if args.clock == "cpu" else e[0] for e in eps)
                    share = statistics.median(e[2] / e[1] for e in eps)
                    epoch[c]["torch"].append((total, share))
        loads.append(load_average())
        print(f"  repetition {r + 1}/{args.reps} (JSB epochs) done, load {loads[-1]:.2f}",
              file=sys.stderr, flush=True)

    if not args.no_parallel:
        second = TorchWorker()
        for r in range(args.reps):
            for c in pairs:
                for s in sizes:
                    order = ("cellzoo", "torch") if r % 2 == 0 else ("torch", "cellzoo")
                    for side in order:
                        if side == "cellzoo":
                            secs = run_cellzoo_pair(args.cellzoo, c, s, 1, args.block_seconds)
                        else:
                            for w in (worker, second):
                                w.send(PAIRS[c], s, 1, args.block_seconds)
                            secs = [w.receive() for w in (worker, second)]
                        b = SIZES[s][2]
                        two[(c, s)][side].append(sum(b / x for x in secs))
            loads.append(load_average())
            print(f"  repetition {r + 1}/{args.reps} (two processes) done, load {loads[-1]:.2f}",
                  file=sys.stderr, flush=True)
        second.close()
    worker.close()

    sweep = run_sweep_scaling(args.cellzoo, max(1, min(args.reps, 3))) if args.sweep else None
    if sweep:
        loads.append(load_average())

    # ---------------------------------------------------------------- report
    peak = max((statistics.median(v) for v in gemm.values()), default=float("nan"))
    results = {"load_average": loads, "clock": args.clock, "gemm_peak_gflops": peak,
               "pairs": [], "extras": [], "gemm": [], "two_process": [], "sweep": None,
               "epoch": [],
               "torch_blas": worker.hello["blas_libraries"]}
    print(f"\nSGEMM, one thread, {args.clock} clock (GFLOP/s, median of {args.reps}; eigen, "
          f"eigen-packed = the per-step kernel, openblas when cellzoo is built with it); "
          f"peak = best = {peak:.1f}")
    for (s, label, m, k, n, lib), v in gemm.items():
        print(f"  {s}  {label:<10} {m:>5}x{k:<4}*{k:>4}x{n:<5} {lib:<13} "
              f"{statistics.median(v):7.1f}")
        results["gemm"].append({"size": s, "shape": label, "m": m, "k": k, "n": n,
                                "library": lib, "gflops": statistics.median(v)})

    print("\nOne process each, float32, one thread (sequences/s, medians):")
    head = (f"{'cell':<8} {'torch':<5} {'size':<4} {'cellzoo':>9} {'torch':>9} {'ratio':>6} "
            f"{'aim':>5} {'':4} {'GFLOP/s':>8} {'%peak':>6} {'aim':>4} {'':4} {'torch GF/s':>10}")
    print(head)
    for c in pairs:
        for s in sizes:
            i, h, b, t = SIZES[s]
            cz = statistics.median(one[(c, s)]["cellzoo"])
            th = statistics.median(one[(c, s)]["torch"])
            flops = step_flops(GATES[PAIRS[c]], i, h, b, t)
            ratio, gf, tgf = th / cz, flops / cz * 1e-9, flops / th * 1e-9
            aim_p = AIM_PEAK.get(s)
            print(f"{c:<8} {PAIRS[c]:<5} {s:<4} {b / cz:9.1f} {b / th:9.1f} {ratio:6.2f} "
                  f"{AIM_RATIO[s]:5.1f} {fmt_ok(ratio, AIM_RATIO[s]):4} {gf:8.1f} "
                  f"{100 * gf / peak:5.0f}% {'' if aim_p is None else f'{100 * aim_p:3.0f}%':>4} "
                  f"{fmt_ok(gf / peak, aim_p):4} {tgf:10.1f}")
            results["pairs"].append({
                "cell": c, "torch": PAIRS[c], "size": s, "cellzoo_seq_s": b / cz,
                "torch_seq_s": b / th, "ratio": ratio, "cellzoo_gflops": gf,
                "torch_gflops": tgf, "peak_fraction": gf / peak})

    if extras:
        print("\ncellzoo variants against lstm-np "
              "(sequences/s, medians; slowdown = lstm-np / cell):")
        print(f"{'cell':<10} {'size':<4} {'seq/s':>9} {'lstm-np':>9} {'slowdown':>8} {'aim':>5}")
        for c in extras:
            for s in sizes:
                b = SIZES[s][2]
                sec = statistics.median(extra[(c, s)])
                ref = statistics.median(one[("lstm-np", s)]["cellzoo"])
                slow = sec / ref
                aim = EXTRAS.get(c)
                ok = "" if aim is None else ("ok" if slow <= aim else "MISS")
                print(f"{c:<10} {s:<4} {b / sec:9.1f} {b / ref:9.1f} {slow:8.2f} "
                      f"{aim or '':>5} {ok}")
                results["extras"].append({"cell": c, "size": s, "seq_s": b / sec,
                                          "lstm_np_seq_s": b / ref, "slowdown": slow})

    if not args.no_parallel:
        print("\nTwo processes at once, one thread each (total sequences/s, medians; "
              "scaling = two / one process):")
        print(f"{'cell':<8} {'size':<4} {'cellzoo':>9} {'scaling':>7} {'torch':>9} {'scaling':>7} "
              f"{'ratio':>6}")
        for c in pairs:
            for s in sizes:
                b = SIZES[s][2]
                cz2 = statistics.median(two[(c, s)]["cellzoo"])
                th2 = statistics.median(two[(c, s)]["torch"])
                cz1 = b / statistics.median(one[(c, s)]["cellzoo"])
                th1 = b / statistics.median(one[(c, s)]["torch"])
                print(f"{c:<8} {s:<4} {cz2:9.1f} {cz2 / cz1:7.2f} {th2:9.1f} {th2 / th1:7.2f} "
                      f"{cz2 / th2:6.2f}")
                results["two_process"].append({
                    "cell": c, "size": s, "cellzoo_seq_s": cz2, "torch_seq_s": th2,
                    "cellzoo_scaling": cz2 / cz1, "torch_scaling": th2 / th1})

    if epoch:
        print(f"\nGreff's JSB protocol, one epoch (hidden {epoch_hyper['hidden']}, batch 1, "
              f"lr {epoch_hyper['lr']}, momentum {epoch_hyper['momentum']}; seconds per "
              f"epoch, median of {args.reps}; eval = share of the epoch in validation + test):")
        print(f"{'cell':<8} {'torch':<5} {'cellzoo s':>10} {'torch s':>9} {'ratio':>6} "
              f"{'aim':>5} {'':4} {'cz eval':>7} {'torch eval':>10}")
        for c, module in EPOCH_CELLS.items():
            cz = statistics.median(v[0] for v in epoch[c]["cellzoo"])
            th = statistics.median(v[0] for v in epoch[c]["torch"])
            czs = statistics.median(v[1] for v in epoch[c]["cellzoo"])
            ths = statistics.median(v[1] for v in epoch[c]["torch"])
            print(f"{c:<8} {module:<5} {cz:10.4f} {th:9.4f} {th / cz:6.2f} {AIM_EPOCH:5.1f} "
                  f"{fmt_ok(th / cz, AIM_EPOCH):4} {100 * czs:6.1f}% {100 * ths:9.1f}%")
            results["epoch"].append({"cell": c, "torch": module, "cellzoo_seconds": cz,
                                     "torch_seconds": th, "ratio": th / cz,
                                     "cellzoo_eval_share": czs, "torch_eval_share": ths})

    if sweep:
        print(f"\ncellzoo sweep (16 runs, adding T=50, 3 epochs): --jobs 1 {sweep[1]:.2f} s, "
              f"--jobs 2 {sweep[2]:.2f} s, throughput ratio {sweep[1] / sweep[2]:.2f} (aim 1.8)")
        results["sweep"] = {"jobs1_seconds": sweep[1], "jobs2_seconds": sweep[2],
                            "ratio": sweep[1] / sweep[2]}

    print(f"\n1-minute load average: start {loads[0]:.2f}, max {max(loads):.2f} "
          "(above ~2.5 on 2 cores the numbers are not trustworthy)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
