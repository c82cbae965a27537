"""Weighting: one module per method, one shared signature, a registry that params select from.

Every method is ``method(respondents, population, settings) -> WeightResult``. ``compute_weights``
looks the method up by the name in ``survey.yaml: weighting.method`` and applies optional trimming.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from .base import WeightingError, WeightResult
from .diagnostics import WarningThresholds, weight_summary, weight_warnings
from .poststratify import poststratify
from .rake import rake
from .settings import WeightingSettings
from .trim import trim_weights

__all__ = ["METHODS", "compute_weights", "WeightResult", "WeightingError", "WeightingSettings", "weight_summary", "weight_warnings", "WarningThresholds",
           "trim_weights"]

Method = Callable[[pd.DataFrame, pd.DataFrame, WeightingSettings], WeightResult]

METHODS: dict[str, Method] = {"poststratify": poststratify, "rake": rake}


def compute_weights(method: str, respondents: pd.DataFrame, population: pd.DataFrame,
                    settings: WeightingSettings) -> WeightResult:
    """Weights by the method called ``method`` (then trimmed if ``settings.trim_max_ratio``)."""
    if method not in METHODS:
        raise WeightingError(f"weighting.method must be one of {sorted(METHODS)}; got {method!r} "
                             "(set it in params/survey.yaml)")
    result = METHODS[method](respondents, population, settings)
    if settings.trim_max_ratio is not None:
        trimmed, n_cut = trim_weights(result.weights, settings.trim_max_ratio)
        result = WeightResult(weights=trimmed.rename("weight"), post_stratum=result.post_stratum,
                              strata=result.strata, collapses=result.collapses, method=f"{result.method}+trim",
                              population_counts=result.population_counts,
                              notes=result.notes + [f"{n_cut} weight(s) trimmed at {settings.trim_max_ratio} x median"])
    return result
