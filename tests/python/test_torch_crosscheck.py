"""Cross-check of cellzoo's rnn, lstm-np and gru-ra against PyTorch's nn.RNN, nn.LSTM and
nn.GRU in float64: outputs, final states, input gradients and every parameter gradient
must agree to 1e-9 (max abs), for full and variable-length batches, one layer and
stacks of two (num_layers=2 against cellzoo's layers = 2: PyTorch's layer k is cell_k).

PyTorch builds the layer with random weights (biases included), draws the input, initial
state and an upstream gradient on the outputs, and computes the reference with autograd.
tests/tools/cell_driver (built next to the tests) maps the weights into cellzoo's layout,
runs forward + backward in double and writes the same quantities back in PyTorch's
layout. A negative control feeds the driver LSTM weights with two gate blocks swapped and
requires a large difference, so the comparison can fail.

Exit codes: 0 pass, 1 mismatch, 77 skipped (torch missing).
"""
import os
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("skipped: this Python has no torch (on Debian: apt-get install python3-torch)")
    sys.exit(77)

TOLERANCE = 1e-9

# (cell, T, B, I, H, lengths or None for all full[, layers])
CASES = [
    ("rnn", 6, 3, 4, 5, None, 2),
    ("rnn", 6, 4, 4, 5, [6, 5, 3, 1], 2),
    ("lstm-np", 6, 3, 4, 5, None, 2),
    ("lstm-np", 6, 4, 4, 5, [6, 5, 3, 1], 2),
    ("gru-ra", 6, 3, 4, 5, None, 2),
    ("gru-ra", 6, 4, 4, 5, [6, 5, 3, 1], 2),
    ("rnn", 7, 3, 4, 5, None),
    ("rnn", 4, 6, 3, 8, None),
    ("rnn", 7, 4, 4, 5, [7, 6, 3, 1]),
    ("lstm-np", 7, 3, 4, 5, None),
    ("lstm-np", 4, 6, 3, 8, None),
    ("lstm-np", 7, 4, 4, 5, [7, 6, 3, 1]),
    ("gru-ra", 7, 3, 4, 5, None),
    ("gru-ra", 4, 6, 3, 8, None),
    ("gru-ra", 7, 4, 4, 5, [7, 6, 3, 1]),
]

MODULES = {"rnn": torch.nn.RNN, "lstm-np": torch.nn.LSTM, "gru-ra": torch.nn.GRU}


def params(layers):
    return [f"{kind}_l{k}" for k in range(layers)
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def driver_path():
    build = os.environ.get("CELLZOO_BUILD_DIR")
    if not build:
        sys.exit("CELLZOO_BUILD_DIR is not set (ctest sets it; by hand: "
                 "CELLZOO_BUILD_DIR=build python3 tests/python/test_torch_crosscheck.py)")
    path = os.path.join(build, "tests", "cell_driver")
    if not os.path.exists(path):
        sys.exit(f"{path} does not exist: build the cell_driver target first")
    return path


def write_tensor(f, name, t):
    t = t.detach().double()
    if t.dim() == 1:
        t = t.reshape(-1, 1)
    rows, cols = t.shape
    f.write(f"tensor {name} {rows} {cols}\n")
    for row in t.tolist():
        f.write(" ".join(repr(v) for v in row) + "\n")


def read_tensors(path):
    out = {}
    with open(path) as f:
        tokens = f.read().split()
    i = 0
    while i < len(tokens):
        assert tokens[i] == "tensor", tokens[i]
        name, rows, cols = tokens[i + 1], int(tokens[i + 2]), int(tokens[i + 3])
        i += 4
        values = [float(v) for v in tokens[i:i + rows * cols]]
        i += rows * cols
        out[name] = torch.tensor(values, dtype=torch.float64).reshape(rows, cols)
    return out


def torch_reference(cell, T, B, I, H, lengths, seed, layers=1):
    gen = torch.Generator().manual_seed(seed)
    module = MODULES[cell](I, H, num_layers=layers).double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) * 1.2 - 0.6)
    x = torch.randn(T, B, I, generator=gen, dtype=torch.float64, requires_grad=True)
    h0 = 0.5 * torch.randn(layers, B, H, generator=gen, dtype=torch.float64)
    c0 = 0.5 * torch.randn(layers, B, H, generator=gen, dtype=torch.float64)
    dy = torch.randn(T, B, H, generator=gen, dtype=torch.float64)
    lens = lengths or [T] * B
    mask = torch.zeros(T, B, 1, dtype=torch.float64)
    for b, n in enumerate(lens):
        mask[:n, b] = 1
    dy = dy * mask  # no gradient on padding
    state = (h0, c0) if cell == "lstm-np" else h0
    if lengths is None:
        y, final = module(x, state)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=True)
        y, final = module(packed, state)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, total_length=T)
    (y * dy).sum().backward()
    ref = {"y": y.detach().reshape(T * B, H), "grad_x": x.grad.reshape(T * B, I)}
    if cell == "lstm-np":
        ref["h_n"] = final[0].detach().reshape(layers * B, H)
        ref["c_n"] = final[1].detach().reshape(layers * B, H)
    else:
        ref["h_n"] = final.detach().reshape(layers * B, H)
    for name in params(layers):
        p = getattr(module, name)
        ref["grad_" + name] = p.grad.reshape(p.shape[0], -1)
    inputs = {"x": x.detach().reshape(T * B, I), "h0": h0.reshape(layers * B, H),
              "c0": c0.reshape(layers * B, H), "dy": dy.reshape(T * B, H)}
    inputs.update({name: getattr(module, name).detach() for name in params(layers)})
    return inputs, ref, lens


def run_driver(driver, cell, I, H, lens, inputs, workdir, layers=1):
    in_path = os.path.join(workdir, "in.txt")
    out_path = os.path.join(workdir, "out.txt")
    with open(in_path, "w") as f:
        f.write(f"cell {cell}\ninput {I}\nhidden {H}\nlayers {layers}\n")
        f.write("lengths " + " ".join(str(n) for n in lens) + "\n")
        for name, t in inputs.items():
            if name == "c0" and cell != "lstm-np":
                continue
            write_tensor(f, name, t)
    proc = subprocess.run([driver, in_path, out_path], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"cell_driver failed for {cell}: {proc.stderr.strip()}")
    return read_tensors(out_path)


def compare(ref, got):
    worst = {}
    for name, r in ref.items():
        if name not in got:
            raise RuntimeError(f"driver output lacks {name}")
        g = got[name]
        if g.shape != r.shape:
            raise RuntimeError(f"{name}: shape {tuple(g.shape)} vs PyTorch {tuple(r.shape)}")
        worst[name] = (g - r).abs().max().item()
    return worst


def main():
    torch.set_num_threads(1)
    driver = driver_path()
    failures = 0
    with tempfile.TemporaryDirectory() as workdir:
        for k, case in enumerate(CASES):
            cell, T, B, I, H, lengths = case[:6]
            layers = case[6] if len(case) > 6 else 1
            inputs, ref, lens = torch_reference(cell, T, B, I, H, lengths, 100 + k, layers)
            worst = compare(ref, run_driver(driver, cell, I, H, lens, inputs, workdir, layers))
            name, err = max(worst.items(), key=lambda kv: kv[1])
            ok = err <= TOLERANCE
            failures += not ok
            shape = (f"T={T} B={B} I={I} H={H} L={layers}"
                     + (f" lengths={lengths}" if lengths else ""))
            print(f"{'ok  ' if ok else 'FAIL'} {cell:8s} {shape:38s} max |diff| {err:.2e} ({name})")
            if not ok:
                for n, e in sorted(worst.items()):
                    print(f"       {n:22s} {e:.2e}")

        # Negative control: swapping PyTorch's i and f blocks must be caught.
        inputs, ref, lens = torch_reference("lstm-np", 7, 3, 4, 5, None, seed=99)
        H = 5
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            t = inputs[name].clone()
            t[0:H], t[H:2 * H] = inputs[name][H:2 * H].clone(), inputs[name][0:H].clone()
            inputs[name] = t
        err = compare(ref, run_driver(driver, "lstm-np", 4, H, lens, inputs, workdir))["y"]
        control_ok = err > 1e-3
        print(f"{'ok  ' if control_ok else 'FAIL'} negative control (gate blocks swapped): "
              f"max |diff| of y {err:.2e}, must exceed 1e-3")
        failures += not control_ok

    if failures:
        print(f"{failures} case(s) failed (tolerance {TOLERANCE:g})")
        return 1
    print(f"all {len(CASES)} cases within {TOLERANCE:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
