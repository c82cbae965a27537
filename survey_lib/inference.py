"""Design-based tests, matching R ``survey``: Rao–Scott for distributions across groups, a Wald F
test of mean differences, and a t-test of one municipality against the others.

Notes
-----
Rao–Scott second-order correction (``svychisq(..., statistic = "F")``; Rao & Scott 1984): with
p the weighted cell proportions of the r x c table (complete cases), V their linearized covariance,
C the interaction contrasts residualised on the main effects, D = diag(p),

    Delta = (C' D^-1 C / N)^-1 (C' D^-1 V D^-1 C),   X2 = N sum (p_rc - p_r p_c)^2 / (p_r p_c),
    F = X2 / tr(Delta),  d0 = tr(Delta)^2 / tr(Delta^2),  F ~ F(d0, d0 nu),

with nu = (number of PSUs) - (number of strata) of the design (N cancels).

Wald test of mean differences (``regTermTest(svyglm(y ~ g, d), ~g)``): beta are the G-1 differences
from the first group, V_beta their linearized covariance; F = beta' V_beta^-1 beta / (G - 1) on
(G - 1, nu_y + 1 - G) degrees of freedom, nu_y = PSUs - strata among the rows with an answer.

t-test (``svyttest(y ~ in_k, d)``): t = (ybar_1 - ybar_0) / SE, df = nu_y - 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .design import SurveyDesign
from .scoped import pooled_covariance, scoped_covariance

_DENSE_CELLS = 40   # up to this many outcomes the per-post-stratum form is cheaper than sparse algebra


def _pooled(design: SurveyDesign, y: np.ndarray, cells: np.ndarray, n_cells: int, mode: str):
    """Means and covariance over the whole design (two equal implementations; the cheaper one)."""
    if n_cells <= _DENSE_CELLS:
        sc = scoped_covariance(design, y, cells, n_cells, mode, pooled=True)
        return sc.mean[0], sc.cov[0]
    mean, cov, _ = pooled_covariance(design, y, cells, n_cells, mode)
    return mean, cov

__all__ = ["TestResult", "rao_scott", "rao_scott_from_cells", "rao_scott_batch", "wald_means", "wald_from_means", "ttest_domains",
           "t_from_difference", "adjust_pvalues"]


@dataclass(frozen=True)
class TestResult:
    """One test: its name, statistic, degrees of freedom and p-value."""

    test: str
    statistic: float
    df1: float
    df2: float
    p_value: float
    estimate: float = float("nan")


def f_pvalue(f, df1, df2):
    """Upper tail of the F distribution (scipy.special.fdtrc: the ufunc behind stats.f.sf)."""
    return float(special.fdtrc(df1, df2, f)) if np.ndim(f) == 0 else special.fdtrc(df1, df2, f)


def t_pvalue(t, df):
    """Two-sided p-value of a t statistic (scipy.special.stdtr)."""
    p = 2 * special.stdtr(df, -np.abs(t))
    return float(p) if np.ndim(p) == 0 else p


def _nu(design: SurveyDesign, rows: np.ndarray | None = None) -> int:
    """Degrees of freedom of the design: PSUs (rows) minus strata, among ``rows`` with weight > 0."""
    keep = design.weight > 0 if rows is None else (np.asarray(rows, bool) & (design.weight > 0))
    return int(keep.sum() - len(np.unique(design.stratum[keep])))


def rao_scott(design: SurveyDesign, y: np.ndarray, group: np.ndarray) -> TestResult:
    """Rao–Scott F test of independence of answer categories ``y`` and ``group`` (NaN / -1: missing)."""
    y = np.asarray(y, float)
    group = np.asarray(group)
    ok = ~np.isnan(y) & (group >= 0)
    rows = np.unique(y[ok])
    cols = np.unique(group[ok])
    nr, nc = len(rows), len(cols)
    if nr < 2 or nc < 2:
        return TestResult("rao_scott", np.nan, np.nan, np.nan, np.nan)
    r_idx = np.searchsorted(rows, np.where(ok, y, rows[0]))
    c_idx = np.searchsorted(cols, np.where(ok, group, cols[0]))
    cell = np.where(ok, r_idx + nr * c_idx, -1)
    p, V = _pooled(design, y, cell, nr * nc, "shares")
    return rao_scott_from_cells(p, V, nr, nc, _nu(design))


def rao_scott_from_cells(p: np.ndarray, V: np.ndarray, nr: int, nc: int, nu: float) -> TestResult:
    """Rao–Scott F from the cell proportions ``p`` (rows vary fastest) and their covariance ``V``."""
    pm = p.reshape(nc, nr).T                 # rows x cols
    pr, pc = pm.sum(axis=1), pm.sum(axis=0)
    expected = np.outer(pr, pc)
    q = np.sum((pm - expected) ** 2 / np.where(expected > 0, expected, np.inf))
    # contrasts: interaction columns residualised on the main effects (R: qr.resid(qr(X1), X12[, -main])).
    # On the full r x c grid that residual is the double-centred indicator (d_ri - 1/r)(d_cj - 1/c).
    Cr = (np.eye(nr) - 1.0 / nr)[:, 1:]
    Cc = (np.eye(nc) - 1.0 / nc)[:, 1:]
    C = np.kron(Cc, Cr)                      # cell (c, r) -> row c*nr + r; contrast (j, i) -> j*(nr-1) + i
    inv_p = np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0)
    denom = C.T @ (inv_p[:, None] * C)
    numr = C.T @ (inv_p[:, None] * V * inv_p[None, :]) @ C
    try:
        delta = np.linalg.solve(denom, numr)
    except np.linalg.LinAlgError:
        # a structural zero (a category nobody in a group chose) makes denom singular, where R stops
        delta = np.linalg.lstsq(denom, numr, rcond=None)[0]
    tr = np.trace(delta)
    d0 = tr ** 2 / np.trace(delta @ delta)
    f = q / tr
    return TestResult("rao_scott", float(f), float(d0), float(d0 * nu), f_pvalue(f, d0, d0 * nu))


def rao_scott_batch(p: np.ndarray, V: np.ndarray, nr: int, nc: int, nu: np.ndarray) -> list[TestResult]:
    """:func:`rao_scott_from_cells` for B tables of the same shape at once (p: B x C, V: B x C x C)."""
    B = p.shape[0]
    pm = p.reshape(B, nc, nr).transpose(0, 2, 1)
    pr, pc = pm.sum(axis=2), pm.sum(axis=1)
    expected = pr[:, :, None] * pc[:, None, :]
    q = np.sum((pm - expected) ** 2 / np.where(expected > 0, expected, np.inf), axis=(1, 2))
    Cm = np.kron((np.eye(nc) - 1.0 / nc)[:, 1:], (np.eye(nr) - 1.0 / nr)[:, 1:])
    inv_p = np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0)
    denom = np.einsum("ci,bc,cj->bij", Cm, inv_p, Cm)
    scaled = inv_p[:, :, None] * V * inv_p[:, None, :]
    numr = np.einsum("ci,bcd,dj->bij", Cm, scaled, Cm)
    try:
        delta = np.linalg.solve(denom, numr)
    except np.linalg.LinAlgError:
        delta = np.stack([np.linalg.lstsq(denom[b], numr[b], rcond=None)[0] for b in range(B)])
    tr = np.trace(delta, axis1=1, axis2=2)
    tr2 = np.einsum("bij,bji->b", delta, delta)
    d0 = tr ** 2 / tr2
    f = q / tr
    pv = f_pvalue(f, d0, d0 * nu)
    return [TestResult("rao_scott", float(f[b]), float(d0[b]), float(d0[b] * nu[b]), float(pv[b])) for b in range(B)]


def _group_means(design: SurveyDesign, y: np.ndarray, group: np.ndarray):
    y = np.asarray(y, float)
    group = np.asarray(group)
    ok = ~np.isnan(y) & (group >= 0)
    levels, codes = np.unique(group[ok], return_inverse=True)
    cells = np.full(len(y), -1)
    cells[ok] = codes
    mean, cov = _pooled(design, y, cells, len(levels), "means")
    return levels, mean, cov, ok


def wald_means(design: SurveyDesign, y: np.ndarray, group: np.ndarray) -> TestResult:
    """Design-based Wald F test that the mean of ``y`` is equal in all groups."""
    levels, mean, cov, ok = _group_means(design, y, group)
    return wald_from_means(mean, cov, _nu(design, ok) + 1 - len(levels))


def wald_from_means(mean: np.ndarray, cov: np.ndarray, ddf: float) -> TestResult:
    """Wald F test of equal means from the group means and their covariance."""
    G = len(mean)
    if G < 2:
        return TestResult("wald", np.nan, np.nan, np.nan, np.nan)
    L = np.hstack([-np.ones((G - 1, 1)), np.eye(G - 1)])
    beta = L @ mean
    vb = L @ cov @ L.T
    chisq = float(beta @ np.linalg.lstsq(vb, beta, rcond=None)[0])
    f = chisq / (G - 1)
    return TestResult("wald", f, float(G - 1), float(ddf), f_pvalue(f, G - 1, ddf))


def ttest_domains(design: SurveyDesign, y: np.ndarray, in_group: np.ndarray) -> TestResult:
    """Design-based t-test of the mean of ``y`` in ``in_group`` against the rest; the estimate is the
    difference (in group minus rest)."""
    g = np.asarray(in_group).astype(int)
    levels, mean, cov, ok = _group_means(design, y, g)
    if len(levels) < 2:
        return TestResult("t", np.nan, np.nan, np.nan, np.nan)
    est = mean[1] - mean[0]
    se = np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    df = _nu(design, ok) - 1
    t = est / se
    return TestResult("t", float(t), float(df), np.nan, t_pvalue(t, df), float(est))


def t_from_difference(estimate: float, se: float, df: float) -> TestResult:
    """Two-sided t-test of a difference with its standard error."""
    t = estimate / se
    return TestResult("t", float(t), float(df), np.nan, t_pvalue(t, df), float(estimate))


def adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Multiple-testing adjustment (statsmodels ``multipletests``); NaN p-values stay NaN."""
    from unittest import mock

    from statsmodels.stats import multitest

    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        # statsmodels' Holm branch calls gc.collect() on every call (a full collection: ~60 ms with a
        # large heap, once per scope); the result does not depend on it, so it is skipped here
        with mock.patch("gc.collect"):
            out[ok] = multitest.multipletests(p[ok], method=method)[1]
    return out
