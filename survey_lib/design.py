"""The survey design: respondents, their weights, strata and post-strata — the one object that
estimation takes.

Reference design (what R ``survey`` computes the same numbers from)::

    d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = respondents)
    d  <- postStratify(d0, ~stratum, population_counts_per_stratum)

i.e. each respondent is its own PSU, municipalities are strata (no finite-population correction),
and the weights are post-stratified to the population counts of the (collapsed) weighting cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from .load import SurveyData
from .params import Params
from .weighting import WeightingSettings, WeightResult, compute_weights

__all__ = ["SurveyDesign", "build_design", "design_from_arrays", "weighting_settings"]

REGISTER = ["kommune", "koen", "alder", "alder_band", "ydelse", "maalgruppe", "varighed_uger", "varighed_band"]


@dataclass(frozen=True)
class SurveyDesign:
    """Respondent rows with weights and design codes.

    Attributes
    ----------
    frame
        One row per respondent: answers, register variables and derived variables.
    weight
        Weight per row (float array).
    stratum
        Integer code of the design stratum (municipality) per row; ``stratum_labels`` names them.
    post_stratum
        Integer code of the post-stratum per row (``post_stratum_labels`` names them), or all -1
        when the weights are not post-stratified.
    weighting
        The weighting result (strata table, collapses), when the design was built from data.
    """

    frame: pd.DataFrame
    weight: np.ndarray
    stratum: np.ndarray
    stratum_labels: np.ndarray
    post_stratum: np.ndarray
    post_stratum_labels: np.ndarray
    weighting: WeightResult | None = None

    @property
    def n(self) -> int:
        return len(self.weight)

    @property
    def stratum_sizes(self) -> np.ndarray:
        """Rows per design stratum (every respondent is a PSU)."""
        return np.bincount(self.stratum, minlength=len(self.stratum_labels))

    @property
    def post_stratum_sizes(self) -> np.ndarray:
        """Rows per post-stratum."""
        return np.bincount(self.post_stratum[self.post_stratum >= 0], minlength=len(self.post_stratum_labels))

    @cached_property
    def stratum_indicator(self) -> sparse.csr_matrix:
        """Sparse (strata x rows) 0/1 matrix: ``stratum_indicator @ X`` sums rows per stratum."""
        return _indicator(self.stratum, len(self.stratum_labels))

    @cached_property
    def post_stratum_indicator(self) -> sparse.csr_matrix | None:
        """Sparse (post-strata x rows) 0/1 matrix, or None without post-strata."""
        if not (self.post_stratum >= 0).all() or not len(self.post_stratum_labels):
            return None
        return _indicator(self.post_stratum, len(self.post_stratum_labels))

    @cached_property
    def post_stratum_sums(self):
        """Per-post-stratum sums the estimators share (see :func:`survey_lib.estimate.post_stratum_sums`)."""
        from .estimate import _post_stratum_sums

        return _post_stratum_sums(self)

    def subset(self, mask: np.ndarray) -> "SurveyDesign":
        """A design restricted to the rows of ``mask`` with strata and post-strata re-coded (used
        for a municipality's own design, equal to R's subset for strata it covers whole)."""
        mask = np.asarray(mask, bool)
        s_codes, s_new = np.unique(self.stratum[mask], return_inverse=True)
        ps = self.post_stratum[mask]
        ps_codes, ps_new = np.unique(ps, return_inverse=True)
        return SurveyDesign(self.frame[mask].reset_index(drop=True), self.weight[mask], s_new,
                            self.stratum_labels[s_codes], ps_new if (ps >= 0).all() else ps,
                            self.post_stratum_labels[ps_codes] if (ps >= 0).all() else self.post_stratum_labels,
                            self.weighting)


def _indicator(codes: np.ndarray, n_codes: int) -> sparse.csr_matrix:
    n = len(codes)
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_codes, n))


def weighting_settings(params: Params) -> WeightingSettings:
    """The weighting settings of ``params`` (survey.yaml: weighting, age bands)."""
    w = params.survey.weighting
    return WeightingSettings(cells=tuple(w.cells), min_respondents=w.min_respondents, respondents=w.respondents,
                             age_order=tuple(b.code for b in params.survey.age_bands), trim_max_ratio=w.trim_max_ratio)


def design_from_arrays(frame: pd.DataFrame, weight: np.ndarray, stratum: pd.Series | np.ndarray,
                       post_stratum: pd.Series | np.ndarray | None = None,
                       weighting: WeightResult | None = None) -> SurveyDesign:
    """A design from explicit weights and labels (tests and external weights)."""
    s_labels, s_codes = np.unique(np.asarray(stratum).astype(str), return_inverse=True)
    if post_stratum is None:
        ps_labels, ps_codes = np.array([], dtype=str), np.full(len(weight), -1)
    else:
        ps_labels, ps_codes = np.unique(np.asarray(post_stratum).astype(str), return_inverse=True)
    return SurveyDesign(frame.reset_index(drop=True), np.asarray(weight, float), s_codes, s_labels,
                        ps_codes, ps_labels, weighting)


def build_design(data: SurveyData, params: Params, method: str | None = None,
                 settings: WeightingSettings | None = None) -> SurveyDesign:
    """Join responses with register variables, weight them, and code the design.

    ``method`` and ``settings`` override params (for comparing weighting methods).
    """
    reg = data.population[["person_id"] + REGISTER]
    frame = data.responses.merge(reg, on="person_id", how="left", validate="one_to_one")
    settings = settings or weighting_settings(params)
    result = compute_weights(method or params.survey.weighting.method, frame, data.population, settings)
    ps = result.post_stratum if result.post_stratum is not None else None
    return design_from_arrays(frame, result.weights.to_numpy(float), frame["kommune"], ps, result)
