"""The Python half of scripts/reproduce: fANOVA importance and Greff-style figures for the
reduced-scale reproductions, and the comparison with the papers' published numbers.

    python3 scripts/reproduction_figures.py --results results/data --out results/reports [NAME...]

Reads results/data/<NAME>.h5 for each experiment NAME given (all when none) and writes
next to the `cellzoo report` tables in results/reports/:
  <NAME>-verdicts.md             the verdict of every finding listed in
                                 experiments/findings/<NAME>.toml (docs/reproductions.md)
  greff2015-jsb-importance.txt   fANOVA variance fractions (Greff Fig. 5), all cells pooled
                                 and vanilla alone
  greff2015-jsb-boxplots.png     Greff Fig. 3 (all trials and the top 10 %)
  greff2015-jsb-marginals.png    Greff Fig. 4 style: test NLL against each hyperparameter (pooled)
  jozefowicz2015-table1.md       each cell's best test accuracy next to the paper's Table 1
  jozefowicz2015-arithmetic-sequences.md  each cell's best run's test accuracy and sequence
                                 accuracy, and how many settings learned
  jozefowicz2015-xml-levels.md   each cell's best run's test accuracy next to the task's
                                 ceiling and the no-recall level (cellzoo_analysis.xml_levels),
                                 and how many settings passed the latter
  jozefowicz2015-ptb-settings.md  PTB without dropout: every paired setting's test accuracy
                                 per cell, and how often each cell is below the GRU
  jozefowicz2015-ptb-dropout.md  each cell's best test perplexity with dropout next to the
                                 paper's dropout table
  jozefowicz2015-ptb-dropout-overfitting.md  the reduced run's regime: one GRU setting
                                 trained without and with dropout (results/data/controls/)
  long-range*.png, long-range*-summary.txt   the test metric against the length, per cell
Experiments whose file does not exist are skipped with a note.
"""
import argparse
import os
import sys

try:
    import matplotlib
    import numpy as np
    import pandas as pd
except ImportError as e:
    sys.exit(f"{sys.executable} cannot import the analysis packages ({e}); "
             "Debian: sudo apt-get install -y python3-pandas python3-matplotlib python3-h5py")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cellzoo_analysis import (ResultsError, compare, importance,  # noqa: E402
                              load_curves, load_runs, plots)
from cellzoo_analysis.verdicts import load_findings, markdown, verdicts  # noqa: E402
from cellzoo_analysis.xml_levels import xml_levels  # noqa: E402

ALL = ["greff2015-jsb", "jozefowicz2015-arithmetic", "jozefowicz2015-xml", "jozefowicz2015-music",
       "jozefowicz2015-ptb", "jozefowicz2015-ptb-dropout", "long-range", "long-range-copy"]
FINDINGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "experiments",
                        "findings")

# Jozefowicz et al. 2015, Table 1: best accuracy per cell (../shared/docs/papers.md §2.5,
# digest values). The paper has no music accuracies and no lstm-np rows.
PAPER_TABLE1 = {
    "rnn": (0.295, 0.321, 0.0878),
    "lstm": (0.892, 0.425, 0.0891),
    "lstm-f": (0.293, 0.234, 0.0881),
    "lstm-i": (0.751, 0.414, 0.0866),
    "lstm-o": (0.867, 0.421, 0.0893),
    "lstm-b": (0.902, 0.444, 0.0895),
    "gru": (0.896, 0.460, 0.0907),
    "mut1": (0.921, 0.475, 0.0897),
    "mut2": (0.897, 0.473, 0.0904),
    "mut3": (0.907, 0.465, 0.0916),
}
PAPER_COLUMN = {"jozefowicz2015-arithmetic": 0, "jozefowicz2015-xml": 1, "jozefowicz2015-ptb": 2}
# The paper's PTB comparison with dropout, large models: test perplexity (papers.md §2.5).
PAPER_DROPOUT = {"lstm-b": 79.8, "lstm": 81.4, "lstm-o": 82.3, "mut3": 89.5, "gru": 91.7,
                 "rnn": 97.7, "lstm-f": 100.8}


def short_cell(name: str) -> str:
    """file:experiments/cells/jozefowicz2015/lstm-b.cell -> lstm-b (the paper's names)."""
    if name.startswith("file:"):
        return os.path.splitext(os.path.basename(name))[0]
    return name


def epoch_cap_counts(ok: pd.DataFrame) -> tuple[int, int]:
    """How much the epoch cap truncated learning: how many of the finished runs `ok` it
    stopped, and how many were still improving then (best validation epoch = last epoch;
    larger networks learn more slowly)."""
    return (int((ok["epochs"] >= ok["max_epochs"]).sum()),
            int((ok["best_epoch"] >= ok["epochs"]).sum()))


def greff(runs: pd.DataFrame, out: str) -> None:
    hp = ["lr", "hidden", "momentum", "input_noise"]
    lines = ["fANOVA (random forest, main effects and pairwise interactions) of test NLL per",
             "step on JSB, reduced scale: fraction of the variance of the forest's predictions.",
             "Greff et al. Fig. 5: the learning rate dominates, then hidden size, input noise",
             "third, momentum negligible, interactions a small share.", ""]
    ok = runs[runs["status"].astype(str) == "ok"]
    # Diverging-but-finite outliers (an NLL in the thousands) would dominate any variance
    # decomposition; Greff's analysis is over runs that trained. Keep runs below 20 nats.
    sane = ok[ok["test_metric"] < 20]
    lines.append(f"runs used: {len(sane)} of {len(runs)} (status ok and test NLL < 20; "
                 f"{len(ok) - len(sane)} outliers dropped)")
    capped, improving = epoch_cap_counts(ok)
    lines.append(f"fraction of ok runs stopped by the epoch cap: {capped / len(ok):.3f}; "
                 f"still improving at their last epoch: {improving / len(ok):.3f}")
    for cell in [None, "lstm"]:
        title = "all nine cells pooled" if cell is None else "vanilla lstm only"
        lines.append("")
        try:
            table = importance(sane, cell=cell, hyperparameters=hp, n_trees=64, seed=0)
        except ResultsError as e:
            lines.append(f"{title}: {e}")
            continue
        lines.append(f"{title} ({table.attrs['runs']} runs; "
                     f"explained {table.attrs['explained']:.3f})")
        lines.append(f"  {'term':28s} {'fraction':>8s} {'std':>8s}")
        for _, r in table.iterrows():
            if r["fraction"] >= 0.005 or r["kind"] == "main":
                lines.append(f"  {r['term']:28s} {r['fraction']:8.3f} {r['std']:8.3f}")
    with open(os.path.join(out, "greff2015-jsb-importance.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    table = compare(runs, baseline="lstm", top_fraction=0.1)
    fig = plots.box_plots(runs, baseline="lstm", top_fraction=0.1, table=table, sharey=False)
    upper = float(np.nanquantile(sane["test_metric"], 0.98))
    fig.axes[0].set_ylim(float(sane["test_metric"].min()) - 0.1, upper)
    fig.axes[0].set_title(f"all trials (y clipped at {upper:.1f})")
    fig.savefig(os.path.join(out, "greff2015-jsb-boxplots.png"), dpi=90)
    plots.close(fig)
    fig = plots.marginals(sane, hyperparameters=hp)  # all cells pooled: 20 runs alone are sparse
    fig.savefig(os.path.join(out, "greff2015-jsb-marginals.png"), dpi=90)
    plots.close(fig)


TABLE1_TASKS = ["jozefowicz2015-arithmetic", "jozefowicz2015-xml", "jozefowicz2015-ptb",
                "jozefowicz2015-music"]


def best_run_table(runs: pd.DataFrame) -> pd.DataFrame:
    """compare() against the GRU with top_fraction 0.01: the top group is each cell's
    single best run by validation, its top_mean that run's test score."""
    return compare(runs, baseline="gru", top_fraction=0.01)


def jozefowicz(tables: dict, out: str) -> None:
    tasks = [t for t in TABLE1_TASKS if t in tables]
    head = "| cell |" + "".join(
        f" {t.split('-')[1]} cellzoo | {t.split('-')[1]} paper |" if t in PAPER_COLUMN
        else f" {t.split('-')[1]} cellzoo |" for t in tasks)
    sep = "|---|" + "".join("---|---|" if t in PAPER_COLUMN else "---|" for t in tasks)
    lines = ["Each cell's test score (at its best validation epoch) of its run with the best",
             "validation score, next to Jozefowicz et al. 2015 Table 1 (best accuracy per cell).",
             "Reduced scale: smaller parameter budgets and fewer settings per cell than the",
             "paper (each spec's header and docs/reproductions.md). Arithmetic, XML, PTB:",
             "accuracy (next-word accuracy on PTB; higher is better). Music (Nottingham): NLL",
             "per time step (lower is better); the paper's music table was not retrieved.", "",
             head, sep]
    # The paper's row order, then cellzoo's extra rows, then anything else.
    cells = list(PAPER_TABLE1) + ["lstm-np", "lstm-np-b"]
    for t in tasks:
        for c in tables[t]["cell"]:
            if short_cell(c) not in cells:
                cells.append(short_cell(c))
    present = {short_cell(c) for t in tasks for c in tables[t]["cell"]}
    cells = [c for c in cells if c in present]
    for cell in cells:
        row = f"| {cell} |"
        for t in tasks:
            tab = tables[t]
            match = tab[tab["cell"].map(short_cell) == cell]
            mine = float(match["top_mean"].iloc[0]) if len(match) else float("nan")
            row += f" {mine:.4g} |"
            if t in PAPER_COLUMN:
                paper = PAPER_TABLE1.get(cell)
                row += f" {paper[PAPER_COLUMN[t]]:.4g} |" if paper else " - |"
        lines.append(row)
    with open(os.path.join(out, "jozefowicz2015-table1.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def best_by_validation(runs: pd.DataFrame):
    """(cell's short name, the cell's finished runs, its run with the best validation
    score) for every cell, in short-name order."""
    ok = runs[(runs["status"].astype(str) == "ok") & np.isfinite(runs["valid_metric"])]
    for cell in sorted(set(map(str, ok["cell"])), key=short_cell):
        mine = ok[ok["cell"].astype(str) == cell]
        yield short_cell(cell), mine, mine.sort_values("valid_metric", ascending=False).iloc[0]


def sequence_accuracy(runs: pd.DataFrame, out: str) -> None:
    """Arithmetic: each cell's run with the best validation accuracy, its test accuracy
    (per answer character, Table 1's measure) and test sequence accuracy (every answer
    character right), and the fraction of the cell's settings that learned at all."""
    lines = ["Arithmetic: each cell's run with the best validation accuracy; its test accuracy",
             "per answer character (Table 1's measure) and its test sequence accuracy (the",
             "whole answer right); and how many of the cell's settings reached a test",
             "accuracy of 0.8.", "",
             "| cell | test accuracy | test sequence accuracy | settings >= 0.8 |",
             "|---|---|---|---|"]
    for name, mine, best in best_by_validation(runs):
        learned = int((mine["test_metric"] >= 0.8).sum())
        lines.append(f"| {name} | {float(best['test_metric']):.4g} | "
                     f"{float(best['test_sequence_accuracy']):.4g} | {learned} of {len(mine)} |")
    with open(os.path.join(out, "jozefowicz2015-arithmetic-sequences.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def xml_reference(runs: pd.DataFrame, out: str) -> None:
    """XML: each cell's run with the best validation accuracy, its test accuracy, next to
    what the generator allows (the Bayes ceiling) and the most a predictor scores that
    cannot recall tag names; and how many of the cell's settings passed that level."""
    options = {k: kind(runs[f"task.{k}"].iloc[0])
               for k, kind in (("max_steps", int), ("close_p", float))
               if f"task.{k}" in runs.columns}
    levels = xml_levels(**options)
    lines = ["XML: each cell's run with the best validation accuracy and its test accuracy,",
             f"against the task's Bayes ceiling ({levels.ceiling:.3f}) and the most a",
             f"predictor scores that cannot recall tag names ({levels.no_recall:.3f}); both",
             f"by Monte Carlo over {levels.documents} documents of the generator",
             "(scripts/cellzoo_analysis/xml_levels.py). A setting above the second has",
             "learned to close tags by name.", "",
             "| cell | test accuracy | of the ceiling | settings above no-recall |",
             "|---|---|---|---|"]
    for name, mine, best_run in best_by_validation(runs):
        best = float(best_run["test_metric"])
        recalled = int((mine["test_metric"] > levels.no_recall).sum())
        lines.append(f"| {name} | {best:.4g} | {best / levels.ceiling:.3f} | "
                     f"{recalled} of {len(mine)} |")
    with open(os.path.join(out, "jozefowicz2015-xml-levels.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def ptb_settings(runs: pd.DataFrame, out: str) -> None:
    """PTB without dropout: every paired setting's test accuracy per cell (which settings
    train at all, and where the cells part), how often each cell is below the GRU, and how
    many runs were still improving when the epoch cap stopped them."""
    ok = runs[(runs["status"].astype(str) == "ok") & np.isfinite(runs["test_metric"])]
    grid = ok.pivot(index="trial", columns="cell", values="test_metric")
    cells = ["gru"] + sorted((c for c in grid.columns if c != "gru"), key=short_cell)
    settings = ok[ok["cell"].astype(str) == "gru"].set_index("trial")
    capped, improving = epoch_cap_counts(ok)
    lines = ["PTB without dropout: each paired setting's test next-word accuracy per cell",
             "(rows: the trial's draw, shared by every cell), and in how many settings each",
             "cell is below the GRU.",
             f"Runs stopped by the {int(ok['max_epochs'].max())}-epoch cap: {capped} of "
             f"{len(ok)}; still improving at their last epoch: {improving} of {len(ok)}.",
             "", "| trial | layers | lr | init | clip | " +
             " | ".join(short_cell(c) for c in cells) + " |",
             "|---|---|---|---|---|" + "---|" * len(cells)]
    for trial, row in grid.iterrows():
        draw = settings.loc[trial]
        lines.append(f"| {trial} | {int(draw['layers'])} | {draw['lr']:g} | "
                     f"{draw['init_scale']:g} | {draw['clip']:g} | " +
                     " | ".join(f"{row[c]:.3f}" for c in cells) + " |")
    below = [f"{int((grid[c] < grid['gru']).sum())} of {int(grid[c].notna().sum())}"
             if c != "gru" else "-" for c in cells]
    lines.append("| below the GRU | | | | | " + " | ".join(below) + " |")
    with open(os.path.join(out, "jozefowicz2015-ptb-settings.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def jozefowicz_dropout(runs: pd.DataFrame, out: str) -> None:
    """The PTB comparison with dropout: each cell's best run next to the paper's perplexity."""
    table = best_run_table(runs)
    lines = ["Each cell's test perplexity (at its best validation epoch) of its run with the",
             "best validation score, with dropout, next to Jozefowicz et al. 2015's PTB",
             "comparison with dropout (large models, test perplexity; lower is better).",
             "Reduced scale: a smaller parameter budget and fewer settings than the paper",
             "(the spec's header and docs/reproductions.md)."]
    tokens = runs["task.train_tokens"] if "task.train_tokens" in runs.columns else None
    if tokens is not None and (tokens > 0).all() and tokens.nunique() == 1:
        lines.append(f"Trained on the first {int(tokens.iloc[0]):,} tokens of the training "
                     "file only, so the levels are far above the paper's: compare the order.")
    lines += ["", "| cell | cellzoo | paper |", "|---|---|---|"]
    rows = sorted(table["cell"], key=lambda c: PAPER_DROPOUT.get(short_cell(c), float("inf")))
    for c in rows:
        mine = float(table[table["cell"] == c]["top_mean"].iloc[0])
        paper = PAPER_DROPOUT.get(short_cell(c))
        lines.append(f"| {short_cell(c)} | {mine:.4g} | " +
                     (f"{paper:.4g} |" if paper else "- |"))
    with open(os.path.join(out, "jozefowicz2015-ptb-dropout.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


# One GRU setting of the reduced dropout comparison trained twice, without and with
# dropout: a 2-run grid sweep of the same spec, so it inherits the spec's [fixed] settings
# (scripts/reproduce jozefowicz2015-ptb-dropout writes it).
DROPOUT_CONTROL = "jozefowicz2015-ptb-dropout-gru-control.h5"


def dropout_overfitting(results: str, out: str) -> None:
    """Whether the reduced dropout comparison is in dropout's regime: the same model and
    setting without dropout overfits (validation perplexity turns up while the training
    loss falls) and with dropout does not."""
    path = os.path.join(results, "controls", DROPOUT_CONTROL)
    if not os.path.exists(path):
        print(f"skipped the dropout control: {path} does not exist", file=sys.stderr)
        return
    runs = load_runs(path).sort_values("dropout")
    if sorted(runs["dropout"]) != [0.0, 0.5]:
        raise ResultsError(f"{path}: expected one run without dropout and one with dropout "
                           f"0.5, found dropout {sorted(runs['dropout'])}; re-run "
                           "scripts/reproduce jozefowicz2015-ptb-dropout")
    all_curves = load_curves(path)
    curves = {float(r["dropout"]): all_curves[all_curves["run_id"] == r["run_id"]]
              .set_index("epoch") for _, r in runs.iterrows()}
    settings = runs.iloc[0]
    lines = ["The reduced PTB dropout comparison's regime: a GRU of "
             f"{int(settings['n_params']):,} parameters ({int(settings['layers'])} layers, hidden "
             f"{int(settings['hidden'])}) on the first {int(settings['task.train_tokens']):,} "
             f"training tokens, lr {settings['lr']:g}, clip {settings['clip']:g}, init scale "
             f"{settings['init_scale']:g}, trained without and with dropout 0.5; per epoch its "
             "training loss (with dropout active) and validation perplexity.", "",
             "| epoch | no dropout: train loss | valid perplexity | dropout 0.5: train loss "
             "| valid perplexity |", "|---|---|---|---|---|"]
    for epoch in curves[0.0].index.union(curves[0.5].index):
        cells = []
        for c in curves.values():
            cells += ([f"{c.at[epoch, 'train_loss']:.3f}", f"{c.at[epoch, 'valid_metric']:.1f}"]
                      if epoch in c.index else ["-", "-"])
        lines.append(f"| {epoch} | " + " | ".join(cells) + " |")
    lines.append("")
    for d, dropout_curves in curves.items():
        c = dropout_curves["valid_metric"]
        lines.append(f"- dropout {d:g}: best validation perplexity {c.min():.1f} at epoch "
                     f"{int(c.idxmin())} of {len(c)}, {c.iloc[-1]:.1f} at the last")
    with open(os.path.join(out, "jozefowicz2015-ptb-dropout-overfitting.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def long_range(name: str, runs: pd.DataFrame, out: str) -> None:
    axis = "task.length" if "task.length" in runs.columns else "task.delay"
    ok = runs[runs["status"].astype(str) == "ok"]
    hib = bool(runs.attrs.get("metric_higher_is_better", False))
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    lines = [f"{name}: test {runs.attrs.get('metric', 'metric')} by {axis} and cell "
             "(best = test score of the run best by validation; median over ok runs)", ""]
    lines.append(f"{axis:>12s} {'cell':>6s} {'runs':>5s} {'best':>10s} {'median':>10s}")
    for cell in sorted(set(map(str, runs["cell"]))):
        xs, best, med = [], [], []
        for value in sorted(ok[axis].unique()):
            part = ok[(ok["cell"].astype(str) == cell) & (ok[axis] == value)]
            if not len(part):
                continue
            pick = part.sort_values("valid_metric", ascending=not hib).iloc[0]
            xs.append(value)
            best.append(float(pick["test_metric"]))
            med.append(float(part["test_metric"].median()))
            lines.append(f"{value:12g} {cell:>6s} {len(part):5d} {best[-1]:10.4g} {med[-1]:10.4g}")
        ax.plot(xs, best, marker="o", label=f"{cell} (best by validation)")
        ax.plot(xs, med, marker=".", linestyle=":", color=ax.lines[-1].get_color(),
                label=f"{cell} (median)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(axis)
    ax.set_ylabel(f"test {runs.attrs.get('metric', '')}")
    if not hib:
        ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"{name}.png"), dpi=90)
    plt.close(fig)
    with open(os.path.join(out, f"{name}-summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results/data")
    ap.add_argument("--out", default="results/reports")
    ap.add_argument("names", nargs="*", default=ALL)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tables = {}
    for name in args.names or ALL:
        path = os.path.join(args.results, f"{name}.h5")
        if not os.path.exists(path):
            print(f"skipped {name}: {path} does not exist", file=sys.stderr)
            continue
        runs = load_runs(path)
        if name == "greff2015-jsb":
            greff(runs, args.out)
        elif name == "jozefowicz2015-ptb-dropout":
            jozefowicz_dropout(runs, args.out)
            dropout_overfitting(args.results, args.out)
        elif name.startswith("jozefowicz2015-"):
            tables[name] = best_run_table(runs)
            if name == "jozefowicz2015-arithmetic":
                sequence_accuracy(runs, args.out)
            elif name == "jozefowicz2015-xml":
                xml_reference(runs, args.out)
            elif name == "jozefowicz2015-ptb":
                ptb_settings(runs, args.out)
        else:
            long_range(name, runs, args.out)
        findings = os.path.join(FINDINGS, f"{name}.toml")
        if os.path.exists(findings):
            table = verdicts(runs, load_findings(findings))
            with open(os.path.join(args.out, f"{name}-verdicts.md"), "w") as f:
                f.write(markdown(table))
        print(f"wrote the figures of {name} to {args.out}")
    if tables:
        # Table 1 has a column per task file in --results, also those not named this time
        # (rewriting one task's reports must not drop the others' columns).
        for name in TABLE1_TASKS:
            path = os.path.join(args.results, f"{name}.h5")
            if name not in tables and os.path.exists(path):
                tables[name] = best_run_table(load_runs(path))
        jozefowicz(tables, args.out)


if __name__ == "__main__":
    main()
