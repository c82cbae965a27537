"""Weighted means and shares with design-based (linearized) standard errors.

Notes
-----
For a domain D (the respondents of a group who answered), the estimate of a mean is the ratio

    ybar = sum_{i in D} w_i y_i / W,   W = sum_{i in D} w_i,

and its variance is estimated by linearization (Woodruff 1971) exactly as R ``survey`` does for the
reference design (``svydesign(ids=~1, strata=~kommune, weights=~1)`` then ``postStratify``, or ``rake``;
Lumley 2010, ch. 7; ``svymean`` with ``na.rm=TRUE`` and ``svyby``):

1. influence values e_i = d_i (y_i - ybar) / W, with d_i = 1 in the domain, 0 elsewhere;
2. calibration: x_i = w_i (e_i - ebar_h), with ebar_h per block h (the rows outside the domain stay
   in the design with zero weight, as R's subsetting of a calibrated design keeps them):
   post-stratified weights: h the post-stratum and ebar_h the mean of e over *all* its rows
   (``svyrecvar``'s residuals for post-strata); raked weights: h the cross of stratum and margin
   cells and ebar_h what R's backfitting on the raking margins subtracts
   (:class:`survey_lib.design.RakingMargins`);
3. stratified with-replacement variance: v = sum_s n_s/(n_s - 1) sum_{i in s} (x_i - xbar_s)^2,
   with n_s all rows of stratum s (a stratum with one row contributes nothing;
   :func:`survey_lib.design.stratum_factor`);
4. a variance that is rounding noise is 0 (:func:`clip_rounding`).

A share of answer category k is the mean of the indicator 1(y_i = k). :func:`linearized_covariance`
does this densely for a matrix of outcomes (the full covariance, for tests); :func:`domain_estimates`
computes the same variances from sums per block and group, vectorized over groups and
categories, for the bulk tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .design import PostStratumSums, SurveyDesign, stratum_factor

__all__ = ["linearized_covariance", "DomainEstimates", "domain_estimates", "post_stratum_sums", "clip_rounding",
           "ZERO_VARIANCE_TOLERANCE"]

#: A variance below this multiple of its scale (see :func:`clip_rounding`) is rounding noise: 0.
ZERO_VARIANCE_TOLERANCE = 1e-12


def post_stratum_sums(design: SurveyDesign) -> PostStratumSums:
    """Per post-stratum (the strata when there are none): the row codes, their number, whether the
    influence values are adjusted, the stratum of each block, its rows n_h, sum of squared weights
    A_h and sum of weights B_h — :attr:`SurveyDesign.post_stratum_sums`, computed once per design."""
    return design.post_stratum_sums


def clip_rounding(var: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Variances with rounding noise set to 0: ``var`` where it exceeds ``ZERO_VARIANCE_TOLERANCE``
    times ``scale``, else 0 (negative noise included).

    Notes
    -----
    The variances are differences of sums of squares whose terms are of the order of
    ``scale`` = m² Σ_D w² / W² (m the largest absolute value among the outcomes, W = Σ_D w): the
    variance of a mean of values bounded by m under the weights' design effect. Where the true
    variance is 0 (every answer in a domain alike, or a domain of one respondent) rounding leaves
    up to a few ε · scale (ε = 2.2e-16), an SE of ~1e-8 · m. A true variance below 1e-12 · scale is
    already below 1e-6 of an SE at that scale, so the clip changes no real figure.
    """
    var = np.asarray(var, float)
    return np.where(var > ZERO_VARIANCE_TOLERANCE * np.asarray(scale, float), var, 0.0)


def linearized_covariance(design: SurveyDesign, domain: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means of the columns of ``Y`` over their domains and their linearized covariance.

    Parameters
    ----------
    design
        The survey design.
    domain
        Boolean mask of the rows in the domain: one column for all outcomes (n,) or one per
        outcome (n, m) (rows outside a domain keep their place in the design).
    Y
        n x m outcomes (values outside the domain are ignored).

    Returns
    -------
    means : (m,) array
    cov : (m, m) array
        An outcome whose variance is rounding noise (:func:`clip_rounding`) has its row and column 0.
    """
    Y = np.asarray(Y, float).reshape(design.n, -1)
    d = np.asarray(domain, bool)
    d = np.broadcast_to(d.reshape(design.n, -1), Y.shape)
    w = design.weight
    wd = np.where(d, w[:, None], 0.0)
    W = wd.sum(axis=0)
    Yd = np.where(d, Y, 0.0)
    mean = (wd * Yd).sum(axis=0) / W
    E = np.where(d, (Yd - mean) / W, 0.0)
    sums = design.calibration_sums
    if sums.adjust:
        blocks = design.post_stratum_indicator if design.raking is None else \
            sparse.csr_matrix((np.ones(design.n), (sums.block, np.arange(design.n))), shape=(sums.n_blocks, design.n))
        ebar = design.block_means(blocks @ E)
        E = E - ebar[sums.block]
    X = w[:, None] * E
    n_s = design.stratum_sizes
    c = stratum_factor(n_s)
    S = design.stratum_indicator @ X
    Xc = X * np.sqrt(c[design.stratum])[:, None]
    cov = Xc.T @ Xc - S.T @ (S * (c / np.maximum(n_s, 1))[:, None])
    scale = np.max(np.abs(Yd), axis=0, initial=0.0) ** 2 * (wd ** 2).sum(axis=0) / W ** 2
    zero = clip_rounding(np.diag(cov), scale) == 0
    cov[zero, :] = 0.0
    cov[:, zero] = 0.0
    return mean, cov


@dataclass(frozen=True)
class DomainEstimates:
    """Estimates per group (rows) and per category (columns of the share arrays)."""

    n: np.ndarray             # unweighted answers per group
    weighted_n: np.ndarray    # sum of weights per group
    mean: np.ndarray          # mean score per group
    mean_se: np.ndarray
    shares: np.ndarray        # (groups, categories)
    share_se: np.ndarray
    counts: np.ndarray        # (groups, categories) unweighted


def _variance(design: SurveyDesign, sums: PostStratumSums, ybar: np.ndarray, W: np.ndarray, m, S1, P0, P1,
              Q0, Q1, Q2, by_stratum: bool = False) -> np.ndarray:
    """Variance per domain from per-(block, domain) sums; arrays are (H, G) or (H, G, K).

    ``ybar`` and ``W`` broadcast against them (per domain, or per block when domains are split by
    stratum). With ``by_stratum`` the result is per stratum (S, G[, K]) instead of summed.
    """
    extra = (slice(None),) + (None,) * (m.ndim - 1)
    Wb = np.where(W > 0, W, np.inf)
    if sums.adjust:
        ebar = design.block_means(S1 - ybar * m, Wb)
    else:
        ebar = np.zeros_like(S1, dtype=float)
    A_h, B_h, s_of_h = sums.sum_w2, sums.sum_w, sums.stratum_of_block
    x2 = (Q2 - 2 * ybar * Q1 + ybar ** 2 * Q0) / Wb ** 2 - 2 * ebar * (Q1 - ybar * Q0) / Wb + ebar ** 2 * A_h[extra]
    x1 = (P1 - ybar * P0) / Wb - ebar * B_h[extra]
    n_s = design.stratum_sizes.astype(float)
    n_strata = len(n_s)
    shape = (n_strata,) + x2.shape[1:]
    to_strata = sparse.csr_matrix((np.ones(len(s_of_h)), (s_of_h, np.arange(len(s_of_h)))),
                                  shape=(n_strata, len(s_of_h)))
    sum_x2 = (to_strata @ x2.reshape(len(s_of_h), -1)).reshape(shape)
    sum_x1 = (to_strata @ x1.reshape(len(s_of_h), -1)).reshape(shape)
    c = stratum_factor(n_s)[(slice(None),) + (None,) * (x2.ndim - 1)]
    ns = np.maximum(n_s, 1)[(slice(None),) + (None,) * (x2.ndim - 1)]
    per_stratum = c * (sum_x2 - sum_x1 ** 2 / ns)
    return per_stratum if by_stratum else per_stratum.sum(axis=0)


class _Layout:
    """Sums per (block, group[, category]) and their totals per domain: per group, or with
    ``by_stratum`` per stratum x group (blocks are nested in strata)."""

    def __init__(self, idx: np.ndarray, n_blocks: int, n_groups: int, n_strata: int, stratum_of_block: np.ndarray,
                 by_stratum: bool):
        self.idx, self.H, self.G, self.S = idx, n_blocks, n_groups, n_strata
        self.s_of_h, self.by_stratum = stratum_of_block, by_stratum
        self.to_strata = sparse.csr_matrix((np.ones(n_blocks), (stratum_of_block, np.arange(n_blocks))),
                                           shape=(n_strata, n_blocks))

    def sums(self, weights: np.ndarray | None = None, category: np.ndarray | None = None, K: int = 0,
             rows: np.ndarray | None = None) -> np.ndarray:
        """(H, G) sums of ``weights`` (counts when None), or (H, G, K) by ``category`` of ``rows``."""
        if category is None:
            return np.bincount(self.idx, weights=weights, minlength=self.H * self.G).reshape(self.H, self.G)
        idx = self.idx[rows] * K + category
        return np.bincount(idx, weights=weights, minlength=self.H * self.G * K).reshape(self.H, self.G, K)

    def total(self, a: np.ndarray) -> np.ndarray:
        """Sum over blocks: per group, or per stratum x group."""
        if self.by_stratum:
            return np.asarray(self.to_strata @ a.reshape(self.H, -1)).reshape((self.S,) + a.shape[1:])
        return a.sum(axis=0)

    def per_block(self, a: np.ndarray) -> np.ndarray:
        """Broadcast a per-domain quantity to the blocks."""
        return a[self.s_of_h] if self.by_stratum else a[None]

    def rows(self, a: np.ndarray) -> np.ndarray:
        """A per-domain result with stratum x group flattened into rows ``s * G + g`` (by stratum)."""
        return a.reshape((self.S * self.G,) + a.shape[2:]) if self.by_stratum else a


def domain_estimates(design: SurveyDesign, y: np.ndarray, group: np.ndarray, n_groups: int,
                     categories: tuple[int, ...] = (5, 4, 3, 2, 1), by_stratum: bool = False,
                     shares: bool = True) -> DomainEstimates:
    """Means and category shares of ``y`` per group, with linearized standard errors.

    Parameters
    ----------
    design
        The survey design (post-strata must be nested in strata, as municipality-level cells are;
        raking margins may cross strata).
    y
        Scores; NaN where not answered (including 'ved ikke', which the caller sets to NaN).
    group
        Group code per row, 0..n_groups-1, or -1 for rows in no group.
    n_groups
        Number of groups.
    categories
        Category values whose shares are estimated (columns in this order).
    by_stratum
        Estimate every group within every stratum (municipality) separately: the results then have
        one row per stratum x group (row ``s * n_groups + g``), each the domain estimate of that
        group in that stratum (equal to the estimate in the stratum's own design; with raking
        margins that cross strata, the domain estimate of stratum x group in the whole design).
    shares
        Also estimate the category shares (False: means only; the share arrays are empty).

    Notes
    -----
    A standard error whose variance is rounding noise is 0 (:func:`clip_rounding`, scale
    m² Σ_D w² / W² with m the largest absolute score among the answers, 1 for shares).
    """
    y = np.asarray(y, float)
    group = np.asarray(group)
    if by_stratum and not design.margins_nested:
        # a margin's correction reaches other strata: estimate stratum x group as plain domains
        cross = np.where(group >= 0, design.stratum * n_groups + group, -1)
        return domain_estimates(design, y, cross, len(design.stratum_labels) * n_groups, categories,
                                shares=shares)
    valid = ~np.isnan(y) & (group >= 0)
    sums = design.calibration_sums
    lay = _Layout(sums.block[valid] * n_groups + group[valid], sums.n_blocks, n_groups,
                  len(design.stratum_labels), sums.stratum_of_block, by_stratum)
    yv, wv = y[valid], design.weight[valid]
    m = lay.sums()
    S1 = lay.sums(yv)
    P0, P1 = lay.sums(wv), lay.sums(wv * yv)
    Q0, Q1, Q2 = lay.sums(wv ** 2), lay.sums(wv ** 2 * yv), lay.sums(wv ** 2 * yv ** 2)
    W = lay.total(P0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = lay.total(P1) / W
    var_mean = _variance(design, sums, lay.per_block(np.nan_to_num(mean)), lay.per_block(W), m, S1, P0, P1, Q0, Q1,
                         Q2, by_stratum)
    # shares: indicator outcomes, one per category (H, G, K)
    categories = categories if shares else ()
    K = len(categories)
    cat_index = np.full(len(yv), -1)
    for k, value in enumerate(categories):
        cat_index[yv == value] = k
    ok = cat_index >= 0
    c_cnt, c_w, c_w2 = (lay.sums(wts, cat_index[ok], K, ok) for wts in (None, wv[ok], wv[ok] ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = lay.total(c_w) / W[..., None]
        scale = lay.total(Q0) / np.where(W > 0, W, np.inf) ** 2      # sum of squared weights / W^2
    var_share = _variance(design, sums, lay.per_block(np.nan_to_num(share)), lay.per_block(W)[..., None],
                          m[:, :, None], c_cnt, P0[:, :, None], c_w, Q0[:, :, None], c_w2, c_w2, by_stratum) if K \
        else np.zeros(share.shape)
    W, mean, var_mean, share, var_share, scale, n, counts = (
        lay.rows(a) for a in (W, mean, var_mean, share, var_share, scale, lay.total(m), lay.total(c_cnt)))
    y_max = float(np.max(np.abs(yv), initial=0.0))
    empty = W <= 0
    mean_se = np.where(empty, np.nan, np.sqrt(clip_rounding(var_mean, y_max ** 2 * scale)))
    share_se = np.where(empty[:, None], np.nan, np.sqrt(clip_rounding(var_share, scale[:, None])))
    return DomainEstimates(
        n=n.astype(int), weighted_n=W, mean=mean, mean_se=mean_se,
        shares=share, share_se=share_se, counts=counts.astype(int))
