"""cellzoo_analysis: load cellzoo results files and compare cells the way Greff et al. (2015) did.

    from cellzoo_analysis import load_runs, compare, importance, plots
    runs = load_runs("results/sweep.h5")
    table = compare(runs)                       # the same table as `cellzoo report`
    plots.box_plots(runs)                       # Greff Fig. 3 style
    plots.expected_max(runs)                    # Dodge et al.'s expected best-of-k

See docs/analysis.md for exactly what is computed.
"""

from .errors import ResultsError
from .io import join_curves, load_curves, load_params, load_provenance, load_runs, params_dir
from .compare import compare, default_baseline, expected_max, rank_runs
from .importance import ImportanceWarning, importance
from .optuna_study import to_optuna_study

__all__ = [
    "ResultsError",
    "load_runs",
    "load_curves",
    "load_provenance",
    "load_params",
    "params_dir",
    "join_curves",
    "compare",
    "default_baseline",
    "expected_max",
    "rank_runs",
    "importance",
    "ImportanceWarning",
    "to_optuna_study",
]
