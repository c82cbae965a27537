"""Settings every weighting method takes (built from params by the caller)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WeightingSettings"]


@dataclass(frozen=True)
class WeightingSettings:
    """Parameters of a weighting run.

    Parameters
    ----------
    cells
        Register variables whose cross defines the post-strata (post-stratification) or whose
        margins are matched (raking).
    min_respondents
        A cell with fewer respondents is collapsed (post-stratification).
    respondents
        ``"all"``: every respondent counts in a cell's denominator (the weights are R ``survey``'s
        ``postStratify`` weights); ``"complete"``: only complete responses count, as the report's
        strataratio formula says.
    age_order
        Age band codes from youngest to oldest (for merging neighbouring bands).
    trim_max_ratio
        If set, weights above this multiple of the median weight are cut to it and the excess is
        spread over the others (repeated until none exceeds it).
    rake_iterations, rake_tolerance
        Limits of iterative proportional fitting (raking).
    """

    cells: tuple[str, ...]
    min_respondents: int = 1
    respondents: str = "all"
    age_order: tuple[str, ...] = ("under_30", "30_49", "50_plus")
    trim_max_ratio: float | None = None
    rake_iterations: int = 100
    rake_tolerance: float = 1e-10
