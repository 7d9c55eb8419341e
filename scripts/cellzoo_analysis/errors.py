"""The one exception type of cellzoo_analysis (a ValueError, so callers may catch either)."""


class ResultsError(ValueError):
    """Bad input: not a cellzoo results file, an unknown metric, a baseline without runs..."""
