"""Verdicts of a reproduction: each of a paper's findings, tested on a results file, gets
one word of a fixed vocabulary (docs/reproductions.md, "Verdicts"):

  reproduced        same direction as the paper, significant after family-wise Holm
  consistent        same direction, not significant, adequately powered for the
                    reference effect (or, for a paper's "no significant change": no test
                    significant and adequately powered)
  underpowered      not significant, and the minimal detectable effect of every test
                    exceeds the reference effect
  not reproduced    adequately powered, not significant, and the measured direction is
                    the opposite of the paper's
  contradicted      significant after Holm in the opposite direction (or, for a paper's
                    "no significant change", significant at all)
  not testable here the data cannot answer the question (the finding says why)

A finding is read from a TOML file (experiments/findings/*.toml):

    experiment = "greff2015-jsb"           # results/data/<experiment>.h5
    baseline = "lstm"
    top_fraction = 0.1
    reference_effect = 0.1                 # metric units; with its justification
    reference_source = "..."
    [[finding]]
    cell = "lstm-nfg"
    paper = "worse"                        # worse | better | none
    claim = "NFG significantly worse than vanilla"

The tests are those of `cellzoo report`: Welch on all trials, Welch on the top fraction
and the paired Wilcoxon over trials, with Holm over every one of them (the report's
family). Power: Welch's minimal detectable effect (80 % power) on each group, and the
paired t-test's on the per-trial differences; a finding is adequately powered when the
smallest of them is at most the reference effect.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.power import TTestPower

from .compare import compare
from .errors import ResultsError

VERDICTS = ("reproduced", "consistent", "underpowered", "not reproduced", "contradicted",
            "not testable here")
OPPOSITE = {"worse": "better", "better": "worse"}
TESTS = (("Welch all", "all_p_holm_family", "all_direction"),
         ("Welch top", "top_p_holm_family", "top_direction"),
         ("paired", "p_paired_holm_family", None))


@dataclass
class Finding:
    cell: str
    paper: str
    claim: str
    untestable: str = ""  # the reason, when the data cannot answer the question


@dataclass
class FindingsFile:
    experiment: str
    baseline: str
    top_fraction: float
    reference_effect: float
    reference_source: str
    findings: list[Finding]
    alpha: float = 0.05


def load_findings(path: str) -> FindingsFile:
    """Reads and checks a findings TOML file; a bad one is one ResultsError naming it."""
    with open(path, "rb") as f:
        try:
            raw = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ResultsError(f"{path}: not valid TOML ({e})") from None
    try:
        findings = [Finding(**item) for item in raw.pop("finding")]
        spec = FindingsFile(findings=findings, **raw)
    except (KeyError, TypeError) as e:
        raise ResultsError(f"{path}: {e}; see scripts/cellzoo_analysis/verdicts.py for the "
                           "keys a findings file has") from None
    for item in spec.findings:
        if item.paper not in ("worse", "better", "none"):
            raise ResultsError(f"{path}: finding for {item.cell}: paper = {item.paper!r}; "
                               "use worse, better or none")
    if not spec.reference_effect > 0:
        raise ResultsError(f"{path}: reference_effect must be > 0")
    return spec


def paired_mde(runs: pd.DataFrame, cell: str, baseline: str, alpha: float,
               power: float = 0.8) -> float:
    """The mean per-trial difference a one-sample t-test on the differences would find with
    `power` (the paired Wilcoxon's power is within a few percent of it for normal data)."""
    usable = runs[(runs["status"].astype(str) == "ok") & np.isfinite(runs["test_metric"])]
    mine = usable[usable["cell"] == cell].groupby("trial")["test_metric"].first()
    base = usable[usable["cell"] == baseline].groupby("trial")["test_metric"].first()
    d = (mine - base).dropna().to_numpy(float)
    if len(d) < 3 or not np.std(d, ddof=1) > 0:
        return math.nan
    effect = TTestPower().solve_power(nobs=len(d), alpha=alpha, power=power)
    return float(effect * np.std(d, ddof=1))


def _measured_direction(row: pd.Series) -> str:
    """The paired shift's sign (Hodges-Lehmann over all trials, > 0 = better)."""
    shift = row["all_shift"]
    if not math.isfinite(shift) or shift == 0:
        return "same"
    return "better" if shift > 0 else "worse"


def judge(row: pd.Series, finding: Finding, spec: FindingsFile,
          mdes: list[float]) -> tuple[str, str]:
    """(verdict, reason) for one finding from its row of the comparison table."""
    if finding.untestable:
        return "not testable here", finding.untestable
    significant = []
    for name, p_column, direction_column in TESTS:
        p = row[p_column]
        if math.isfinite(p) and p < spec.alpha:
            direction = (row[direction_column] if direction_column
                         else _measured_direction(row))
            significant.append((name, direction, p))
    powered_mde = min((m for m in mdes if math.isfinite(m)), default=math.nan)
    powered = math.isfinite(powered_mde) and powered_mde <= spec.reference_effect
    power_text = (f"smallest MDE {powered_mde:.3g} vs reference effect "
                  f"{spec.reference_effect:g}")
    sig_text = ", ".join(f"{n} {d} (Holm p = {p:.2g})" for n, d, p in significant)
    measured = _measured_direction(row)
    if finding.paper == "none":
        if significant:
            return "contradicted", f"significant where the paper found nothing: {sig_text}"
        if powered:
            return "consistent", f"no test significant; {power_text}"
        return "underpowered", f"no test significant; {power_text}"
    directions = {d for _, d, _ in significant}
    if finding.paper in directions and OPPOSITE[finding.paper] not in directions:
        return "reproduced", sig_text
    if OPPOSITE[finding.paper] in directions:
        return "contradicted", sig_text
    if not powered:
        return "underpowered", f"measured {measured}, no test significant; {power_text}"
    if measured == finding.paper:
        return "consistent", f"measured {measured}, no test significant; {power_text}"
    return "not reproduced", f"measured {measured}, no test significant; {power_text}"


def verdicts(runs: pd.DataFrame, spec: FindingsFile) -> pd.DataFrame:
    """One row per finding: cell, claim, paper, the report's numbers, verdict, reason."""
    table = compare(runs, baseline=spec.baseline, top_fraction=spec.top_fraction,
                    alpha=spec.alpha)
    rows: list[dict[str, Any]] = []
    for finding in spec.findings:
        match = table[table["cell"] == finding.cell]
        if match.empty:
            raise ResultsError(f"{spec.experiment}: the findings name cell {finding.cell!r}, "
                               "which has no runs in the results file")
        row = match.iloc[0]
        mdes = [row["all_mde"], row["top_mde"],
                paired_mde(runs, finding.cell, spec.baseline, spec.alpha)]
        verdict, reason = judge(row, finding, spec, mdes)
        rows.append(dict(cell=finding.cell, claim=finding.claim, paper=finding.paper,
                         all_mean=row["all_mean"], top_mean=row["top_mean"],
                         p_welch_all=row["all_p"], p_welch_top=row["top_p"],
                         p_paired=row["p_paired"], p_holm_all=row["all_p_holm_family"],
                         p_holm_top=row["top_p_holm_family"],
                         p_holm_paired=row["p_paired_holm_family"], shift=row["all_shift"],
                         shift_ci=row["all_shift_ci"], mde_all=mdes[0], mde_top=mdes[1],
                         mde_paired=mdes[2], verdict=verdict, reason=reason))
    out = pd.DataFrame(rows)
    out.attrs = dict(baseline=spec.baseline, family_tests=table.attrs.get("family_tests"),
                     reference_effect=spec.reference_effect,
                     reference_source=spec.reference_source)
    return out


def _g(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.3g}"


def markdown(table: pd.DataFrame) -> str:
    """The verdict table as docs/reproductions.md quotes it (numbers as printed here)."""
    lines = [f"Baseline `{table.attrs['baseline']}`; Holm over all "
             f"{table.attrs['family_tests']} tests of the report; reference effect "
             f"{table.attrs['reference_effect']:g} ({table.attrs['reference_source']}).", "",
             "| cell | paper | mean all / top | Welch p all / top (Holm) | paired p (Holm) "
             "| shift [95% CI] | MDE all / top / paired | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        lo, hi = r["shift_ci"]
        lines.append(
            f"| {r['cell']} | {r['claim']} | {_g(r['all_mean'])} / {_g(r['top_mean'])} "
            f"| {_g(r['p_welch_all'])} ({_g(r['p_holm_all'])}) / {_g(r['p_welch_top'])} "
            f"({_g(r['p_holm_top'])}) | {_g(r['p_paired'])} ({_g(r['p_holm_paired'])}) "
            f"| {_g(r['shift'])} [{_g(lo)}, {_g(hi)}] "
            f"| {_g(r['mde_all'])} / {_g(r['mde_top'])} / {_g(r['mde_paired'])} "
            f"| **{r['verdict']}** |")
    lines += ["", "Why each verdict:", ""]
    lines += [f"- {r['cell']}: {r['verdict']}: {r['reason']}." for _, r in table.iterrows()]
    return "\n".join(lines) + "\n"
