"""What every weighting method returns, and the shared checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..errors import SurveyError

__all__ = ["WeightResult", "WeightingError"]


class WeightingError(SurveyError):
    """Weights cannot be computed (for example a municipality without any respondent)."""


@dataclass(frozen=True)
class WeightResult:
    """Weights of the respondents and how they were made.

    Attributes
    ----------
    weights
        One weight per respondent, indexed like the respondents frame given to the method.
    post_stratum
        The (collapsed) post-stratum label of each respondent, or None for methods without cells.
    strata
        One row per (collapsed) post-stratum: the cell variables, ``population``, ``respondents``,
        ``weight`` (the strataratio) and ``members`` (the original cells merged into it).
    collapses
        One row per collapse: the original cell, the cell it was merged into, the rule and why.
    method
        Name of the method in the registry.
    population_counts
        Population count per post-stratum label (what R's ``postStratify`` takes).
    """

    weights: pd.Series
    post_stratum: pd.Series | None
    strata: pd.DataFrame
    collapses: pd.DataFrame
    method: str
    population_counts: pd.Series | None = None
    notes: list[str] = field(default_factory=list)
