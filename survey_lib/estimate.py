"""Weighted means and shares with design-based (linearized) standard errors.

Notes
-----
For a domain D (the respondents of a group who answered), the estimate of a mean is the ratio

    ybar = sum_{i in D} w_i y_i / W,   W = sum_{i in D} w_i,

and its variance is estimated by linearization (Woodruff 1971) exactly as R ``survey`` does for the
reference design (``svydesign(ids=~1, strata=~kommune, weights=~1)`` then ``postStratify``;
Lumley 2010, ch. 7; ``svymean`` with ``na.rm=TRUE`` and ``svyby``):

1. influence values e_i = d_i (y_i - ybar) / W, with d_i = 1 in the domain, 0 elsewhere;
2. post-stratification: in each post-stratum h, subtract the mean of e over *all* its rows,
   x_i = w_i (e_i - ebar_h) (``svyrecvar``'s residuals for post-strata; the rows outside the
   domain stay in the design with zero weight, as R's subsetting of a calibrated design keeps them);
3. stratified with-replacement variance: v = sum_s n_s/(n_s - 1) sum_{i in s} (x_i - xbar_s)^2,
   with n_s all rows of stratum s (a stratum with one row contributes nothing).

A share of answer category k is the mean of the indicator 1(y_i = k). :func:`linearized_covariance`
does this densely for a matrix of outcomes (the full covariance, for tests); :func:`domain_estimates`
computes the same variances from sums per post-stratum and group, vectorized over groups and
categories, for the bulk tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .design import SurveyDesign

__all__ = ["linearized_covariance", "DomainEstimates", "domain_estimates", "post_stratum_sums"]


def post_stratum_sums(design: SurveyDesign):
    """Per post-stratum: the row codes h, their number H, whether there are post-strata (else the
    strata serve as blocks and no adjustment is made), the stratum of each block, its rows n_h,
    sum of squared weights A_h and sum of weights B_h (computed once per design)."""
    return design.post_stratum_sums


def _post_stratum_sums(design: SurveyDesign):
    w = design.weight
    adjust = bool((design.post_stratum >= 0).all() and len(design.post_stratum_labels) > 0)
    h = design.post_stratum if adjust else design.stratum
    H = len(design.post_stratum_labels) if adjust else len(design.stratum_labels)
    s_of_h = np.zeros(H, dtype=int)
    s_of_h[h] = design.stratum
    n_h = np.bincount(h, minlength=H).astype(float)
    A_h = np.bincount(h, weights=w ** 2, minlength=H)
    B_h = np.bincount(h, weights=w, minlength=H)
    return h, H, adjust, s_of_h, n_h, A_h, B_h


def _stratum_factor(n_s: np.ndarray) -> np.ndarray:
    return np.where(n_s > 1, n_s / np.maximum(n_s - 1, 1), 0.0)


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
    ps = design.post_stratum_indicator
    if ps is not None:
        ebar = (ps @ E) / np.maximum(design.post_stratum_sizes, 1)[:, None]
        E = E - ebar[design.post_stratum]
    X = w[:, None] * E
    n_s = design.stratum_sizes
    c = _stratum_factor(n_s)
    S = design.stratum_indicator @ X
    Xc = X * np.sqrt(c[design.stratum])[:, None]
    cov = Xc.T @ Xc - S.T @ (S * (c / np.maximum(n_s, 1))[:, None])
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


def _variance(ybar: np.ndarray, W: np.ndarray, m, S1, P0, P1, Q0, Q1, Q2, n_h, A_h, B_h, s_of_h, n_s,
              adjust: bool, by_stratum: bool = False) -> np.ndarray:
    """Variance per domain from per-(post-stratum, domain) sums; arrays are (H, G) or (H, G, K).

    ``ybar`` and ``W`` broadcast against them (per domain, or per post-stratum when domains are
    split by stratum). With ``by_stratum`` the result is per stratum (S, G[, K]) instead of summed.
    """
    extra = (slice(None),) + (None,) * (m.ndim - 1)
    Wb = np.where(W > 0, W, np.inf)
    if adjust:
        ebar = (S1 - ybar * m) / (Wb * n_h[extra])
    else:
        ebar = np.zeros_like(S1, dtype=float)
    x2 = (Q2 - 2 * ybar * Q1 + ybar ** 2 * Q0) / Wb ** 2 - 2 * ebar * (Q1 - ybar * Q0) / Wb + ebar ** 2 * A_h[extra]
    x1 = (P1 - ybar * P0) / Wb - ebar * B_h[extra]
    n_strata = len(n_s)
    shape = (n_strata,) + x2.shape[1:]
    to_strata = sparse.csr_matrix((np.ones(len(s_of_h)), (s_of_h, np.arange(len(s_of_h)))),
                                  shape=(n_strata, len(s_of_h)))
    sum_x2 = (to_strata @ x2.reshape(len(s_of_h), -1)).reshape(shape)
    sum_x1 = (to_strata @ x1.reshape(len(s_of_h), -1)).reshape(shape)
    c = _stratum_factor(n_s)[(slice(None),) + (None,) * (x2.ndim - 1)]
    ns = np.maximum(n_s, 1)[(slice(None),) + (None,) * (x2.ndim - 1)]
    per_stratum = c * (sum_x2 - sum_x1 ** 2 / ns)
    return per_stratum if by_stratum else per_stratum.sum(axis=0)


def domain_estimates(design: SurveyDesign, y: np.ndarray, group: np.ndarray, n_groups: int,
                     categories: tuple[int, ...] = (5, 4, 3, 2, 1), by_stratum: bool = False,
                     shares: bool = True) -> DomainEstimates:
    """Means and category shares of ``y`` per group, with linearized standard errors.

    Parameters
    ----------
    design
        The survey design (post-strata must be nested in strata, as municipality-level cells are).
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
        group in that stratum (equal to the estimate in the stratum's own design).
    shares
        Also estimate the category shares (False: means only; the share arrays are empty).
    """
    y = np.asarray(y, float)
    valid = ~np.isnan(y) & (group >= 0)
    w = design.weight
    h, H, adjust, s_of_h, n_h, A_h, B_h = post_stratum_sums(design)
    n_s = design.stratum_sizes.astype(float)
    S = len(n_s)

    G = n_groups
    idx = h[valid] * G + group[valid]
    yv, wv = y[valid], w[valid]

    def hg(weights=None) -> np.ndarray:
        return np.bincount(idx, weights=weights, minlength=H * G).reshape(H, G)

    to_strata = sparse.csr_matrix((np.ones(H), (s_of_h, np.arange(H))), shape=(S, H))

    def total(a: np.ndarray) -> np.ndarray:
        """Sum over post-strata: per group, or per stratum x group."""
        if by_stratum:
            return np.asarray(to_strata @ a.reshape(H, -1)).reshape((S,) + a.shape[1:])
        return a.sum(axis=0)

    def per_h(a: np.ndarray) -> np.ndarray:
        """Broadcast a per-domain quantity to the post-strata."""
        return a[s_of_h] if by_stratum else a[None]

    m = hg()
    S1 = hg(yv)
    P0, P1 = hg(wv), hg(wv * yv)
    Q0, Q1, Q2 = hg(wv ** 2), hg(wv ** 2 * yv), hg(wv ** 2 * yv ** 2)
    W = total(P0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total(P1) / W
    var_mean = _variance(per_h(np.nan_to_num(mean)), per_h(W), m, S1, P0, P1, Q0, Q1, Q2, n_h, A_h, B_h,
                         s_of_h, n_s, adjust, by_stratum)
    # shares: indicator outcomes, one per category (H, G, K)
    categories = categories if shares else ()
    K = len(categories)
    cat_index = np.full(len(yv), -1)
    for k, value in enumerate(categories):
        cat_index[yv == value] = k
    ok = cat_index >= 0
    idx3 = idx[ok] * K + cat_index[ok]

    def hgk(weights=None) -> np.ndarray:
        return np.bincount(idx3, weights=weights, minlength=H * G * K).reshape(H, G, K)

    c_cnt = hgk()
    c_w, c_w2 = hgk(wv[ok]), hgk(wv[ok] ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = total(c_w) / W[..., None]
    var_share = _variance(per_h(np.nan_to_num(share)), per_h(W)[..., None], m[:, :, None], c_cnt, P0[:, :, None],
                          c_w, Q0[:, :, None], c_w2, c_w2, n_h, A_h, B_h, s_of_h, n_s, adjust, by_stratum) if K \
        else np.zeros(share.shape)
    n = total(m)
    counts = total(c_cnt)
    if by_stratum:   # flatten stratum x group into rows
        W, mean, var_mean, share, var_share = (a.reshape((S * G,) + a.shape[2:]) for a in (W, mean, var_mean, share, var_share))
        n, counts = n.reshape(S * G), counts.reshape(S * G, K)
    empty = W <= 0
    mean_se = np.where(empty, np.nan, np.sqrt(np.maximum(var_mean, 0)))
    share_se = np.where(empty[:, None], np.nan, np.sqrt(np.maximum(var_share, 0)))
    return DomainEstimates(
        n=n.astype(int), weighted_n=W, mean=mean, mean_se=mean_se,
        shares=share, share_se=share_se, counts=counts.astype(int))
