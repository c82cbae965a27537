"""The survey design: respondents, their weights, strata and post-strata (or raking margins) — the
one object that estimation takes.

Reference design (what R ``survey`` computes the same numbers from)::

    d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = respondents)
    d  <- postStratify(d0, ~stratum, population_counts_per_stratum)

i.e. each respondent is its own PSU, municipalities are strata (no finite-population correction),
and the weights are post-stratified to the population counts of the (collapsed) weighting cells.
A raked design is ``rake(d0, list(~kommune + alder_band, ~kommune + koen, ...), ...)`` instead: its
standard errors are linearised on the raking margins (:class:`RakingMargins`).

This module also holds what every variance formula shares: the per-block sums
(:class:`PostStratumSums`) and the stratum factor n/(n − 1) (:func:`stratum_factor`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from .exclusions import Exclusion, analysed_data, find_exclusions
from .load import SurveyData
from .params import Params
from .weighting import WarningThresholds, WeightingSettings, WeightResult, compute_weights
from .weighting.rake import rake_margins

__all__ = ["SurveyDesign", "PostStratumSums", "RakingMargins", "build_design", "design_from_arrays",
           "design_from_weighting",
           "stratum_factor", "weighting_settings", "warning_thresholds"]

REGISTER = ["kommune", "koen", "alder", "alder_band", "ydelse", "maalgruppe", "varighed_uger", "varighed_band"]

#: Sweeps over the margins when raked influence values are residualised (R ``svyrecvar``'s fixed 10).
RAKING_SWEEPS = 10


def stratum_factor(n_s: np.ndarray) -> np.ndarray:
    """The with-replacement factor n_s/(n_s − 1) of each stratum, 0 for a stratum of one row.

    Notes
    -----
    The stratified variance of a total is v = Σ_s n_s/(n_s − 1) Σ_{i∈s} (x_i − x̄_s)² (Lumley 2010,
    sec. 2.2); a stratum with a single PSU contributes nothing (R ``survey``'s
    ``lonely.psu = "fail"`` never arises: every respondent is a PSU and such a stratum has no
    variance to estimate).
    """
    n_s = np.asarray(n_s, float)
    return np.where(n_s > 1, n_s / np.maximum(n_s - 1, 1), 0.0)


class PostStratumSums(NamedTuple):
    """Sums per block that the variance formulas share (computed once per design).

    A block is a post-stratum; without post-strata the strata serve as blocks and no adjustment is
    made (``adjust`` False); for a raked design (:attr:`SurveyDesign.calibration_sums`) a block is
    the cross of the stratum and every margin's cell. Immutable; unpacks in field order.
    """

    block: np.ndarray              # (n,) block code h of every row
    n_blocks: int                  # H
    adjust: bool                   # whether influence values are adjusted per block
    stratum_of_block: np.ndarray   # (H,) stratum of every block (blocks are nested in strata)
    rows: np.ndarray               # (H,) rows n_h (float)
    sum_w2: np.ndarray             # (H,) sum of squared weights A_h
    sum_w: np.ndarray              # (H,) sum of weights B_h


def _block_sums(block: np.ndarray, n_blocks: int, adjust: bool, stratum: np.ndarray,
                weight: np.ndarray) -> PostStratumSums:
    s_of_h = np.zeros(n_blocks, dtype=int)
    s_of_h[block] = stratum
    return PostStratumSums(block, n_blocks, adjust, s_of_h,
                           np.bincount(block, minlength=n_blocks).astype(float),
                           np.bincount(block, weights=weight ** 2, minlength=n_blocks),
                           np.bincount(block, weights=weight, minlength=n_blocks))


@dataclass(frozen=True)
class RakingMargins:
    """The calibration margins of a raked design, coded on blocks.

    Attributes
    ----------
    block
        (n,) block of every row: the cross of its stratum and its cell in every margin.
    cell_of_block
        Per margin, (H,) the margin cell of every block.
    n_cells
        Per margin, its number of cells.

    Notes
    -----
    R ``survey`` (``svyrecvar`` for a ``rake`` design) residualises the influence values
    e_i = x_i / w_i on the margins by backfitting: ``RAKING_SWEEPS`` = 10 times, for each margin j
    in turn, e_i ← e_i − ē_{j,c(i)}, with ē_{j,c} the unweighted mean of e over all rows in cell c
    of margin j (rows outside a domain included, e = 0 there); then x_i = w_i e_i. Ten sweeps are
    R's fixed number, an approximation of the projection of e on the span of the margin
    indicators (Deville & Särndal 1992); they are reproduced here, sweep by sweep, to equal R.
    Every correction is a sum of per-margin-cell constants, so it is constant within a block and
    the sweeps run on sums per block: with t_h = Σ_{i∈h} e_i and the block's accumulated correction
    c_h, a margin cell's mean is Σ_{h∈c} (t_h − n_h c_h) / Σ_{h∈c} n_h.
    """

    block: np.ndarray
    cell_of_block: tuple[np.ndarray, ...]
    n_cells: tuple[int, ...]

    @property
    def n_blocks(self) -> int:
        return len(self.cell_of_block[0]) if self.cell_of_block else 0

    @cached_property
    def _to_cells(self) -> tuple[sparse.csr_matrix, ...]:
        H = self.n_blocks
        return tuple(sparse.csr_matrix((np.ones(H), (cells, np.arange(H))), shape=(L, H))
                     for cells, L in zip(self.cell_of_block, self.n_cells))

    def nested_in(self, stratum_of_block: np.ndarray) -> bool:
        """Whether every margin cell lies within one stratum (margins that include the stratum)."""
        for cells, L in zip(self.cell_of_block, self.n_cells):
            lo = np.full(L, np.iinfo(np.int64).max)
            hi = np.full(L, -1)
            np.minimum.at(lo, cells, stratum_of_block)
            np.maximum.at(hi, cells, stratum_of_block)
            if (lo != hi).any():
                return False
        return True

    def block_means(self, esum: np.ndarray, n_h: np.ndarray) -> np.ndarray:
        """The correction per block (H, ...) that backfitting subtracts from e, from the per-block
        sums ``esum`` (H, ...) of e over the n_h rows of each block (same shape, any trailing axes)."""
        H = self.n_blocks
        flat = np.asarray(esum, float).reshape(H, -1)
        resid = flat.copy()                          # t_h - n_h c_h
        corr = np.zeros_like(flat)
        n_col = n_h.astype(float)[:, None]
        counts = [np.asarray(m @ n_h.astype(float)).ravel() for m in self._to_cells]
        for _ in range(RAKING_SWEEPS):
            for to_cells, cells, n_c in zip(self._to_cells, self.cell_of_block, counts):
                mean_c = np.asarray(to_cells @ resid) / np.maximum(n_c, 1)[:, None]
                step = mean_c[cells]
                corr += step
                resid -= n_col * step
        return corr.reshape(np.shape(esum))

    def subset(self, mask: np.ndarray) -> "RakingMargins":
        """The margins of the rows in ``mask``, re-coded."""
        used, block = np.unique(self.block[mask], return_inverse=True)
        cells, n_cells = [], []
        for c in self.cell_of_block:
            codes, new = np.unique(c[used], return_inverse=True)
            cells.append(new)
            n_cells.append(len(codes))
        return RakingMargins(block, tuple(cells), tuple(n_cells))

    @classmethod
    def from_codes(cls, stratum: np.ndarray, margins: Sequence[np.ndarray]) -> "RakingMargins":
        """From the stratum code and each margin's cell label of every row."""
        codes = [np.unique(np.asarray(m), return_inverse=True)[1].ravel() for m in margins]
        if not codes:
            raise ValueError("a raked design needs at least one margin")
        n_cells = tuple(int(c.max()) + 1 if len(c) else 0 for c in codes)
        combined = np.column_stack([np.asarray(stratum)] + codes)
        keys, block = np.unique(combined, axis=0, return_inverse=True)
        return cls(block.ravel(), tuple(keys[:, j + 1] for j in range(len(codes))), n_cells)


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
    raking
        The raking margins when the weights are raked (then ``post_stratum`` is all -1), else None.
    excluded
        The municipalities left out before weighting (:mod:`survey_lib.exclusions`): their rows are
        not in the design.
    """

    frame: pd.DataFrame
    weight: np.ndarray
    stratum: np.ndarray
    stratum_labels: np.ndarray
    post_stratum: np.ndarray
    post_stratum_labels: np.ndarray
    weighting: WeightResult | None = None
    raking: RakingMargins | None = None
    excluded: tuple[Exclusion, ...] = ()

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
    def post_stratum_sums(self) -> PostStratumSums:
        """Per-post-stratum sums (the strata when there are no post-strata; ``adjust`` False)."""
        adjust = bool((self.post_stratum >= 0).all() and len(self.post_stratum_labels) > 0)
        if adjust:
            return _block_sums(self.post_stratum, len(self.post_stratum_labels), True, self.stratum, self.weight)
        return _block_sums(self.stratum, len(self.stratum_labels), False, self.stratum, self.weight)

    @cached_property
    def calibration_sums(self) -> PostStratumSums:
        """The block sums of the calibration the standard errors linearise on: the raking blocks
        for a raked design, else :attr:`post_stratum_sums`."""
        if self.raking is None:
            return self.post_stratum_sums
        return _block_sums(self.raking.block, self.raking.n_blocks, True, self.stratum, self.weight)

    @cached_property
    def margins_nested(self) -> bool:
        """Whether the calibration's blocks group within strata: always for post-strata nested in
        strata; for raking, whether every margin cell lies within one stratum."""
        if self.raking is None:
            return True
        return self.raking.nested_in(self.calibration_sums.stratum_of_block)

    def block_means(self, total: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
        """The adjustment ē_h (H, ...) per calibration block, from the per-block sums of the
        influence values, given as ``total / scale`` (arrays (H, ...) or broadcasting to it): the
        post-stratum mean t_h / n_h, or the raking backfit (:meth:`RakingMargins.block_means`)."""
        n_h = self.calibration_sums.rows
        if self.raking is not None:
            return self.raking.block_means(total / scale, n_h)
        extra = (slice(None),) + (None,) * (np.ndim(total) - 1)
        return total / (scale * np.maximum(n_h, 1)[extra])

    def subset(self, mask: np.ndarray) -> "SurveyDesign":
        """A design restricted to the rows of ``mask`` with strata, post-strata and raking margins
        re-coded (used for a municipality's own design, equal to R's subset for strata it covers
        whole and margins nested in strata)."""
        mask = np.asarray(mask, bool)
        s_codes, s_new = np.unique(self.stratum[mask], return_inverse=True)
        ps = self.post_stratum[mask]
        ps_codes, ps_new = np.unique(ps, return_inverse=True)
        return SurveyDesign(self.frame[mask].reset_index(drop=True), self.weight[mask], s_new,
                            self.stratum_labels[s_codes], ps_new if (ps >= 0).all() else ps,
                            self.post_stratum_labels[ps_codes] if (ps >= 0).all() else self.post_stratum_labels,
                            self.weighting, None if self.raking is None else self.raking.subset(mask),
                            self.excluded)


def _indicator(codes: np.ndarray, n_codes: int) -> sparse.csr_matrix:
    n = len(codes)
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_codes, n))


def weighting_settings(params: Params) -> WeightingSettings:
    """The weighting settings of ``params`` (survey.yaml: weighting, age bands)."""
    w = params.survey.weighting
    return WeightingSettings(cells=tuple(w.cells), min_respondents=w.min_respondents, respondents=w.respondents,
                             age_order=tuple(b.code for b in params.survey.age_bands), trim_max_ratio=w.trim_max_ratio)


def warning_thresholds(params: Params) -> WarningThresholds:
    """When weights get a warning (survey.yaml: batch.max_design_effect, batch.min_effective_n,
    weighting.max_weight_ratio, weighting.max_collapsed_share)."""
    b, w = params.survey.batch, params.survey.weighting
    return WarningThresholds(max_design_effect=b.max_design_effect, min_effective_n=b.min_effective_n,
                             max_weight_ratio=w.max_weight_ratio, max_collapsed_share=w.max_collapsed_share)


def design_from_arrays(frame: pd.DataFrame, weight: np.ndarray, stratum: pd.Series | np.ndarray,
                       post_stratum: pd.Series | np.ndarray | None = None,
                       weighting: WeightResult | None = None,
                       margins: Sequence[pd.Series | np.ndarray] | None = None) -> SurveyDesign:
    """A design from explicit weights and labels (tests and external weights).

    ``margins``: for raked weights, each raking margin's cell label of every row (for example
    ``kommune + "/" + koen``); the standard errors are then linearised on them. Not together with
    ``post_stratum``.
    """
    s_labels, s_codes = np.unique(np.asarray(stratum).astype(str), return_inverse=True)
    s_codes = s_codes.ravel()
    if post_stratum is None:
        ps_labels, ps_codes = np.array([], dtype=str), np.full(len(weight), -1)
    else:
        if margins is not None:
            raise ValueError("a design is either post-stratified or raked: give post_stratum or margins, not both")
        ps_labels, ps_codes = np.unique(np.asarray(post_stratum).astype(str), return_inverse=True)
        ps_codes = ps_codes.ravel()
    raking = None if margins is None else RakingMargins.from_codes(s_codes, [np.asarray(m) for m in margins])
    return SurveyDesign(frame.reset_index(drop=True), np.asarray(weight, float), s_codes, s_labels,
                        ps_codes, ps_labels, weighting, raking)


def design_from_weighting(frame: pd.DataFrame, result: WeightResult, cells: Sequence[str]) -> SurveyDesign:
    """The design of respondents ``frame`` (with ``kommune`` and the cell variables) weighted by
    ``result``: municipalities as strata, and the post-strata or, for raked weights, the raking
    margins of ``cells`` (:func:`survey_lib.weighting.rake.rake_margins`) that the standard errors
    are linearised on."""
    ps = result.post_stratum if result.post_stratum is not None else None
    margins = None
    if result.method.split("+")[0] == "rake":
        margins = [frame.groupby(list(m), sort=True, dropna=False).ngroup().to_numpy() for m in rake_margins(cells)]
    return design_from_arrays(frame, result.weights.to_numpy(float), frame["kommune"], ps, result, margins)


def build_design(data: SurveyData, params: Params, method: str | None = None,
                 settings: WeightingSettings | None = None) -> SurveyDesign:
    """Leave out the municipalities that are excluded or cannot be weighted
    (:func:`survey_lib.exclusions.find_exclusions`), join the other responses with register
    variables, weight them, and code the design (:func:`design_from_weighting`); the design's
    ``excluded`` names the municipalities left out.

    ``method`` and ``settings`` override params (for comparing weighting methods).
    """
    settings = settings or weighting_settings(params)
    excluded = find_exclusions(data, params.survey.exclude_municipalities, settings.min_respondents,
                               settings.respondents)
    data = analysed_data(data, excluded)
    reg = data.population[["person_id"] + REGISTER]
    frame = data.responses.merge(reg, on="person_id", how="left", validate="one_to_one")
    result = compute_weights(method or params.survey.weighting.method, frame, data.population, settings)
    return replace(design_from_weighting(frame, result, settings.cells), excluded=excluded)
