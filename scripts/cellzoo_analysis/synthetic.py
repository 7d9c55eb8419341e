"""Synthetic cellzoo results files with known effects, for tests, demos and the notebook.

    python3 -m cellzoo_analysis.synthetic out.h5 [--trials 40] [--seed 0] [--missing 5]

writes a schema-conformant results file (docs/results-format.md: fixed-length strings,
compound /runs, /curves and /cells, root attributes) without running a sweep. Known truth:
- the metric (lower is better, `nll_per_step`) of a run is
      1 + effect[cell] + 0.8 (u_lr - 0.7)^2 + 0.1 (1 - u_hidden) + 0.05 input_noise + noise
  with u_lr = (log10 lr + 6) / 4 and u_hidden = log(hidden / 20) / log(10) in [0, 1]:
  the learning rate matters most, hidden size second, input noise a little, momentum not
  at all (as Greff et al. found); `noise` is N(0, noise_sd) per run;
- runs with u_lr > 0.95 diverge (NaN metrics); every cell's trial 1 failed, trial 2 timed out;
- the same trial index has the same hyperparameters in every cell.
"""

from __future__ import annotations

import argparse
import math
import os

import h5py
import numpy as np

DEFAULT_EFFECTS = {"lstm": 0.0, "lstm-cifg": 0.0, "gru": -0.05, "lstm-nfg": 0.25, "rnn": 0.4}
HYPERPARAMETERS = ["hidden", "lr", "momentum", "input_noise"]
_PARAM_GATES = {"rnn": 1, "gru": 3, "lstm": 4, "lstm-cifg": 3, "lstm-nfg": 3}


def _fixed(text: str, width: int) -> bytes:
    data = text.encode("ascii")
    if len(data) > width:
        raise ValueError(f"{text!r} is longer than {width} bytes")
    return data


def _set_attr(f: h5py.File, name: str, value) -> None:
    if isinstance(value, str):
        data = value.encode("ascii")
        f.attrs.create(name, np.array(data, dtype=f"S{max(1, len(data))}"))
    else:
        f.attrs.create(name, np.int64(value))


def _n_params(cell: str, hidden: int, inputs: int = 8, outputs: int = 8) -> int:
    gates = _PARAM_GATES.get(cell, 4)
    peep = 3 * hidden if cell.startswith("lstm") else 0
    return gates * hidden * (inputs + hidden + 1) + peep + outputs * (hidden + 1)


def write_synthetic_results(path: str | os.PathLike, effects: dict[str, float] | None = None,
                            trials: int = 40, seed: int = 0, noise_sd: float = 0.02,
                            missing: int = 0, categorical: bool = False,
                            with_failures: bool = True, epochs: int = 12,
                            shard: tuple[int, int] | None = None) -> str:
    """Writes the file (refusing to overwrite one) and returns its path.

    effects: cell -> added metric (default DEFAULT_EFFECTS); missing: leave out the last
    `missing` runs so that rows < total_runs (a partial file); categorical: add a text
    hyperparameter `init` (uniform/orthogonal, orthogonal 0.03 better); shard (k, n):
    keep only the runs with run_id % n == k, as `cellzoo sweep --shard k/n` would.
    """
    path = os.fspath(path)
    if os.path.exists(path):
        raise FileExistsError(path)
    effects = dict(DEFAULT_EFFECTS if effects is None else effects)
    rng = np.random.default_rng(seed)
    cells = list(effects)
    hyper = HYPERPARAMETERS + (["init"] if categorical else [])
    # Trial hyperparameters, shared by all cells (Greff's distributions, Sec. 1.6).
    u_lr = rng.uniform(0, 1, trials)
    u_hidden = rng.uniform(0, 1, trials)
    lr = 10 ** (-6 + 4 * u_lr)
    hidden = np.round(20 * 10 ** u_hidden)
    momentum = 1 - 10 ** rng.uniform(-2, 0, trials)
    input_noise = rng.uniform(0, 1, trials)
    init = rng.choice(["uniform", "orthogonal"], trials)

    run_fields = [("run_id", "<i8"), ("run_key", "S32"), ("cell", "S64"), ("task", "S32"),
                  ("trial", "<i8"), ("seed", "<i8"), ("status", "S12"), ("error", "S256")]
    run_fields += [(h, "S64" if h == "init" else "<f8") for h in hyper]
    run_fields += [(c, "<f8") for c in ("train_loss", "valid_loss", "test_loss", "valid_metric",
                                        "test_metric")]
    run_fields += [("best_epoch", "<i8"), ("epochs", "<i8"), ("wall_seconds", "<f8"),
                   ("n_params", "<i8")]
    curve_fields = [("run_id", "<i8"), ("epoch", "<i8"), ("train_loss", "<f8"),
                    ("valid_loss", "<f8"), ("valid_metric", "<f8"), ("learning_rate", "<f8"),
                    ("seconds", "<f8")]
    runs, curves = [], []
    for ci, cell in enumerate(cells):
        for t in range(trials):
            run_id = ci * trials + t
            status, error = "ok", ""
            true = (1 + effects[cell] + 0.8 * (u_lr[t] - 0.7) ** 2 + 0.1 * (1 - u_hidden[t])
                    + 0.05 * input_noise[t] - (0.03 if categorical and init[t] == "orthogonal"
                                               else 0))
            valid = true + rng.normal(0, noise_sd)
            test = valid + rng.normal(0, noise_sd / 2)
            n_ep = int(rng.integers(epochs // 2, epochs + 1))
            if with_failures and t == 1:
                status, error = "failed", "synthetic failure"
                valid = test = math.nan
                n_ep = 0
            elif with_failures and t == 2:
                status = "timeout"
            elif u_lr[t] > 0.95:
                status, error = "diverged", "non-finite loss in epoch 1"
                valid = test = math.nan
                n_ep = 0
            row = [run_id, _fixed(f"{seed:08x}{run_id:024x}", 32), _fixed(cell, 64), b"synthetic",
                   t, int(rng.integers(0, 2**62)), _fixed(status, 12), _fixed(error, 256)]
            row += [hidden[t], lr[t], momentum[t], input_noise[t]]
            if categorical:
                row.append(_fixed(str(init[t]), 64))
            row += [valid * 0.9 if n_ep else math.nan, valid, test, valid, test,
                    n_ep, n_ep, 0.5 * n_ep * hidden[t] / 20, _n_params(cell, int(hidden[t]))]
            runs.append(tuple(row))
            for e in range(1, n_ep + 1):
                decay = math.exp(-3 * e / max(n_ep, 1))
                v = valid + 0.5 * decay + rng.normal(0, noise_sd / 4)
                curves.append((run_id, e, v * 0.95, v, v, lr[t], 0.5 * e * hidden[t] / 20))
    total = len(runs)
    if shard is not None:
        runs = [r for r in runs if r[0] % shard[1] == shard[0]]
    if missing:
        runs = runs[:len(runs) - missing]
    kept = set(r[0] for r in runs)
    curves = [c for c in curves if c[0] in kept]

    with h5py.File(path, "x") as f:
        f.create_dataset("runs", data=np.array(runs, dtype=run_fields), maxshape=(None,),
                         chunks=(64,))
        f.create_dataset("curves", data=np.array(curves, dtype=curve_fields),
                         maxshape=(None,), chunks=(256,))
        f.create_dataset("cells", data=np.zeros(0, dtype=[("name", "S64"), ("hash", "S32"),
                                                          ("text", "S8192")]),
                         maxshape=(None,), chunks=(1,))
        spec = (f"task = synthetic\ncells = {','.join(cells)}\ntrials = {trials}\n"
                f"seed = {seed}\n")
        attrs = {"schema": "cellzoo-results", "schema_version": 1, "spec_text": spec,
                 "spec_hash": f"{seed:032x}", "total_runs": total,
                 "shard": f"{shard[0]}/{shard[1]}" if shard else "",
                 "task": "synthetic", "metric": "nll_per_step", "metric_higher_is_better": 0,
                 "hyperparameters": ",".join(hyper), "cellzoo_version": "synthetic",
                 "git_commit": "unknown", "compiler": "", "eigen_version": "",
                 "tbb_version": "", "hdf5_version": h5py.version.hdf5_version, "host": "",
                 "command_line": "cellzoo_analysis.synthetic", "created_utc": "",
                 "finished_utc": ""}
        for k, v in attrs.items():
            _set_attr(f, k, v)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--missing", type=int, default=0)
    ap.add_argument("--categorical", action="store_true")
    ap.add_argument("--shard", help="K/N: write only shard K of N")
    a = ap.parse_args(argv)
    write_synthetic_results(a.out, trials=a.trials, seed=a.seed, missing=a.missing,
                            categorical=a.categorical,
                            shard=tuple(map(int, a.shard.split("/"))) if a.shard else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
