"""Design-based tests, matching R ``survey``: Rao–Scott for distributions across groups, a Wald F
test of mean differences, and a t-test of one municipality against the others.

Notes
-----
Rao–Scott second-order correction (``svychisq(..., statistic = "F")``; Rao & Scott 1984): with
p the weighted cell proportions of the r x c table (complete cases), V their linearized covariance,
C the interaction contrasts residualised on the main effects, D = diag(p),

    Delta = (C' D^-1 C / N)^+ (C' D^-1 V D^-1 C),   X2 = N sum (p_rc - p_r p_c)^2 / (p_r p_c),
    F = X2 / tr(Delta),  d0 = tr(Delta)^2 / tr(Delta^2),  F ~ F(d0, d0 nu),

with nu = (number of PSUs) - (number of strata) of the design (N cancels). Sparse tables are defined
as R would define them if it could: rows (answer categories) and columns (groups) without weight in
the domain are dropped first; where ``C' D^-1 C`` is still singular (rank below (r-1)(c-1), judged by
its singular values against ``RANK_TOL`` = 1e-10 times the largest, as ``MASS::ginv`` judges them), ``^+`` is
the Moore–Penrose inverse with that tolerance (R: ``MASS::ginv(denom, tol = 1e-10) %*% numr``); otherwise it is
the ordinary inverse (R: ``solve(denom, numr)``). A test that would report a statistic below 0 or a
degree of freedom below 1 is not reported: :attr:`TestResult.not_computable` says why.

Wald test of mean differences (``regTermTest(svyglm(y ~ g, d), ~g)``): beta are the G-1 differences
from the first group, V_beta their linearized covariance; F = beta' V_beta^-1 beta / (G - 1) on
(G - 1, nu_y + 1 - G) degrees of freedom, nu_y = PSUs - strata among the rows with an answer. Where
V_beta has rank k < G - 1 (groups whose answers are all alike have exactly zero variance), the
generalized Wald statistic beta' V_beta^+ beta / k on (k, nu_y + 1 - G) degrees of freedom is used
when beta lies in the range of V_beta; otherwise, and when V_beta = 0, the test is not computable.

t-test (``svyttest(y ~ in_k, d)``): t = (ybar_1 - ybar_0) / SE, df = nu_y - 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from .design import SurveyDesign
from .scoped import Mode, pooled_covariance, scoped_covariance

__all__ = ["TestResult", "rao_scott", "rao_scott_from_cells", "rao_scott_batch", "wald_means", "wald_from_means",
           "ttest_domains", "t_from_difference", "adjust_pvalues", "f_pvalue", "t_pvalue", "RANK_TOL",
           "NotComputable"]

_DENSE_CELLS = 40   # up to this many outcomes the per-post-stratum form is cheaper than sparse algebra

RANK_TOL = 1e-10
"""Relative tolerance for rank and generalized inverse: a singular value counts when it exceeds
``RANK_TOL`` times the largest (the rule of ``MASS::ginv``, whose default tolerance, 1.49e-8, is
replaced by a smaller one). A structurally singular matrix shows singular values of about 1e-16 of
the largest; an honest but ill-conditioned one (a cell with a tiny weight) can reach 1e-9, where
R's ``solve`` still succeeds, and is then treated as R treats it. It is also the bound below which
the summed generalized design effects tr(Delta) (dimensionless) count as zero."""

DF_ROUNDING = 1e-9
"""d0 = tr(Delta)^2 / tr(Delta^2) is at least 1 in exact arithmetic (equal to 1 when Delta has one
nonzero eigenvalue, as every 2 x 2 table); a d0 within this of 1 from below is rounding and reported as 1."""


class NotComputable:
    """Reasons (Danish, as users read them in ``tests.csv`` and the Excel sheet) why a test is not
    reported."""

    NO_ANSWERS = "ingen svar"
    ONE_CATEGORY = "alle svar i samme kategori"
    ONE_GROUP = "kun én gruppe med svar"
    ALL_ALIKE = "alle svar er ens"
    NO_VARIATION_WITHIN = "ingen variation inden for grupperne"
    ALIKE_GROUPS_DIFFER = "grupper, hvor alle svar er ens, har forskellige gennemsnit"
    TOO_FEW_DF = "under 1 frihedsgrad"
    UNSTABLE = "numerisk ustabil (statistik under 0 eller frihedsgrader under 1)"


@dataclass(frozen=True)
class TestResult:
    """One test: its name, statistic, degrees of freedom and p-value.

    ``not_computable`` is empty for a computed test, else the reason it is not reported (statistic,
    degrees of freedom and p-value are then NaN). ``adjustment`` records what was done to make a
    sparse table testable: the rows and columns left out for having no weight in the domain, and the
    generalized inverse with its rank (empty when nothing was needed).
    """

    __test__ = False    # not a pytest class

    test: str
    statistic: float
    df1: float
    df2: float
    p_value: float
    estimate: float = float("nan")
    not_computable: str = ""
    adjustment: str = ""


def _not_computable(test: str, reason: str, adjustment: str = "") -> TestResult:
    return TestResult(test, np.nan, np.nan, np.nan, np.nan, not_computable=reason, adjustment=adjustment)


def f_pvalue(f, df1, df2):
    """Upper tail of the F distribution (scipy.special.fdtrc: the ufunc behind stats.f.sf)."""
    return float(special.fdtrc(df1, df2, f)) if np.ndim(f) == 0 else special.fdtrc(df1, df2, f)


def t_pvalue(t, df):
    """Two-sided p-value of a t statistic (scipy.special.stdtr)."""
    p = 2 * special.stdtr(df, -np.abs(t))
    return float(p) if np.ndim(p) == 0 else p


def _pooled(design: SurveyDesign, y: np.ndarray, cells: np.ndarray, n_cells: int, mode: Mode):
    """Means and covariance over the whole design (two equal implementations; the cheaper one)."""
    if n_cells <= _DENSE_CELLS:
        sc = scoped_covariance(design, y, cells, n_cells, mode, pooled=True)
        return sc.mean[0], sc.cov[0]
    mean, cov, _ = pooled_covariance(design, y, cells, n_cells, mode)
    return mean, cov


def _nu(design: SurveyDesign, rows: np.ndarray | None = None) -> int:
    """Degrees of freedom of the design: PSUs (rows) minus strata, among ``rows`` with weight > 0."""
    keep = design.weight > 0 if rows is None else (np.asarray(rows, bool) & (design.weight > 0))
    return int(keep.sum() - len(np.unique(design.stratum[keep])))


def _ginv(a: np.ndarray, tol: float = RANK_TOL) -> np.ndarray:
    """Moore–Penrose inverse of a stack of symmetric matrices, singular values below ``tol`` times
    the largest set to zero (the rule of ``MASS::ginv``)."""
    u, s, vh = np.linalg.svd(a)
    s_inv = np.where(s > tol * s[..., :1], 1 / np.where(s > 0, s, 1), 0.0)
    return np.swapaxes(vh, -1, -2) @ (s_inv[..., :, None] * np.swapaxes(u, -1, -2))


def _rank(a: np.ndarray, tol: float = RANK_TOL) -> np.ndarray:
    """Numerical rank of a stack of matrices (singular values above ``tol`` times the largest)."""
    s = np.linalg.svd(a, compute_uv=False)
    return (s > tol * s[..., :1]).sum(axis=-1) * (s[..., 0] > 0)


def rao_scott(design: SurveyDesign, y: np.ndarray, group: np.ndarray) -> TestResult:
    """Rao–Scott F test of independence of answer categories ``y`` and ``group`` (NaN / -1: missing).

    The table's rows are the values of ``y`` and its columns the groups found anywhere in the data,
    as R's ``svychisq`` counts them; rows and columns without weight among the complete cases are
    then dropped (:func:`rao_scott_batch`).
    """
    y = np.asarray(y, float)
    group = np.asarray(group)
    ok = ~np.isnan(y) & (group >= 0)
    rows = np.unique(y[~np.isnan(y)])
    cols = np.unique(group[group >= 0])
    nr, nc = len(rows), len(cols)
    if not ok.any():
        return _not_computable("rao_scott", NotComputable.NO_ANSWERS)
    r_idx = np.searchsorted(rows, np.where(ok, y, rows[0]))
    c_idx = np.searchsorted(cols, np.where(ok, group, cols[0]))
    cell = np.where(ok, r_idx + nr * c_idx, -1)
    p, V = _pooled(design, y, cell, nr * nc, "shares")
    return rao_scott_from_cells(p, V, nr, nc, _nu(design), [f"{v:g}" for v in rows], [str(c) for c in cols])


def rao_scott_from_cells(p: np.ndarray, V: np.ndarray, nr: int, nc: int, nu: float,
                         row_labels: Sequence[str] | None = None,
                         col_labels: Sequence[str] | None = None) -> TestResult:
    """Rao–Scott F from the cell proportions ``p`` (rows vary fastest) and their covariance ``V``:
    :func:`rao_scott_batch` on one table."""
    return rao_scott_batch(np.asarray(p, float)[None], np.asarray(V, float)[None], nr, nc,
                           np.array([nu], float), row_labels, col_labels)[0]


def rao_scott_batch(p: np.ndarray, V: np.ndarray, nr: int, nc: int, nu: np.ndarray,
                    row_labels: Sequence[str] | None = None,
                    col_labels: Sequence[str] | None = None) -> list[TestResult]:
    """Rao–Scott F tests of B tables of the same r x c layout (p: B x C, V: B x C x C, C = r c, rows
    varying fastest; nu: B), the one implementation behind :func:`rao_scott` and
    :func:`rao_scott_from_cells`.

    Rows and columns of a table without weight (zero margin) are dropped and named in
    ``adjustment`` (by ``row_labels`` / ``col_labels``, default their 1-based positions); the tables
    that keep the same rows and columns are then computed together by :func:`_rao_scott_kept`.
    """
    p = np.asarray(p, float)
    V = np.asarray(V, float)
    nu = np.asarray(nu, float)
    B = p.shape[0]
    row_labels = [str(i + 1) for i in range(nr)] if row_labels is None else list(row_labels)
    col_labels = [str(j + 1) for j in range(nc)] if col_labels is None else list(col_labels)
    pm = p.reshape(B, nc, nr).transpose(0, 2, 1)
    keep_r, keep_c = pm.sum(axis=2) > 0, pm.sum(axis=1) > 0
    results: list[TestResult | None] = [None] * B
    patterns: dict[bytes, list[int]] = {}
    for b in range(B):
        patterns.setdefault(keep_r[b].tobytes() + keep_c[b].tobytes(), []).append(b)
    for members in patterns.values():
        kr, kc = keep_r[members[0]], keep_c[members[0]]
        dropped = ([f"kategori {row_labels[i]}" for i in np.flatnonzero(~kr)]
                   + [f"gruppe {col_labels[j]}" for j in np.flatnonzero(~kc)])
        note = f"uden vægt, udeladt: {', '.join(dropped)}" if dropped else ""
        r, c = int(kr.sum()), int(kc.sum())
        if r == 0 or c == 0:
            reason = NotComputable.NO_ANSWERS
        elif c < 2:
            reason = NotComputable.ONE_GROUP
        elif r < 2:
            reason = NotComputable.ONE_CATEGORY
        else:
            reason = ""
        if reason:
            for b in members:
                results[b] = _not_computable("rao_scott", reason, note)
            continue
        sel = (np.flatnonzero(kr)[None, :] + nr * np.flatnonzero(kc)[:, None]).ravel()   # rows fastest
        m = np.array(members)
        for b, res in zip(members, _rao_scott_kept(p[m][:, sel], V[m][:, sel][:, :, sel], r, c, nu[m], note)):
            results[b] = res
    return results


def _rao_scott_kept(p: np.ndarray, V: np.ndarray, nr: int, nc: int, nu: np.ndarray, note: str) -> list[TestResult]:
    """Rao–Scott F for B tables whose rows and columns all have weight (the formula in the module
    notes); see :func:`rao_scott_batch`."""
    B = p.shape[0]
    pm = p.reshape(B, nc, nr).transpose(0, 2, 1)
    pr, pc = pm.sum(axis=2), pm.sum(axis=1)
    expected = pr[:, :, None] * pc[:, None, :]
    q = np.sum((pm - expected) ** 2 / expected, axis=(1, 2))
    # contrasts: interaction columns residualised on the main effects (R: qr.resid(qr(X1), X12[, -main])).
    # On the full r x c grid that residual is the double-centred indicator (d_ri - 1/r)(d_cj - 1/c);
    # cell (c, r) -> row c*nr + r; contrast (j, i) -> j*(nr-1) + i.
    Cm = np.kron((np.eye(nc) - 1.0 / nc)[:, 1:], (np.eye(nr) - 1.0 / nr)[:, 1:])
    inv_p = np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0)
    denom = np.einsum("ci,bc,cj->bij", Cm, inv_p, Cm)
    numr = np.einsum("ci,bcd,dj->bij", Cm, inv_p[:, :, None] * V * inv_p[:, None, :], Cm)
    k = Cm.shape[1]
    rank = _rank(denom)
    full = rank == k
    delta = np.empty_like(numr)
    if full.any():
        delta[full] = np.linalg.solve(denom[full], numr[full])
    if (~full).any():
        delta[~full] = _ginv(denom[~full]) @ numr[~full]
    tr = np.trace(delta, axis1=1, axis2=2)
    tr2 = np.einsum("bij,bji->b", delta, delta)
    out = []
    for b in range(B):
        adj = note if full[b] else "; ".join(x for x in (note, f"generaliseret invers (rang {rank[b]} af {k})") if x)
        if not np.isfinite(tr[b]) or not np.isfinite(q[b]) or tr[b] < -RANK_TOL:
            out.append(_not_computable("rao_scott", NotComputable.UNSTABLE, adj))
            continue
        if tr[b] <= RANK_TOL:
            out.append(_not_computable("rao_scott", NotComputable.NO_VARIATION_WITHIN, adj))
            continue
        d0 = tr[b] ** 2 / tr2[b]
        if not np.isfinite(d0) or d0 < 1 - DF_ROUNDING:
            out.append(_not_computable("rao_scott", NotComputable.UNSTABLE, adj))
            continue
        d0 = max(float(d0), 1.0)
        df2 = d0 * float(nu[b])
        if not df2 >= 1:
            out.append(_not_computable("rao_scott", NotComputable.TOO_FEW_DF, adj))
            continue
        f = float(q[b] / tr[b])
        out.append(TestResult("rao_scott", f, d0, df2, f_pvalue(f, d0, df2), adjustment=adj))
    return out


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
    """Wald F test of equal means from the group means and their covariance.

    A covariance of rank k < G - 1 (by :data:`RANK_TOL`) gives the generalized Wald test on k
    numerator degrees of freedom when the differences lie in its range (checked to ``RANK_TOL``
    times the largest absolute mean); otherwise, when the covariance is zero, or when ``ddf`` is
    below 1, the test is not computable (module notes).
    """
    mean = np.asarray(mean, float)
    cov = np.asarray(cov, float)
    G = len(mean)
    if G < 2:
        return _not_computable("wald", NotComputable.ONE_GROUP if G == 1 else NotComputable.NO_ANSWERS)
    L = np.hstack([-np.ones((G - 1, 1)), np.eye(G - 1)])
    beta = L @ mean
    vb = L @ cov @ L.T
    rank = int(_rank(vb))
    scale = RANK_TOL * max(1.0, float(np.max(np.abs(mean))))
    adj = ""
    if rank == G - 1:
        chisq = float(beta @ np.linalg.lstsq(vb, beta, rcond=None)[0])
    else:
        gi = _ginv(vb) if rank > 0 else np.zeros_like(vb)
        outside = beta - vb @ (gi @ beta)          # the part of beta in the null space of V_beta
        if np.max(np.abs(outside)) > scale:
            reason = (NotComputable.NO_VARIATION_WITHIN if rank == 0 and np.max(np.abs(beta)) > scale
                      else NotComputable.ALIKE_GROUPS_DIFFER)
            return _not_computable("wald", reason)
        if rank == 0:
            return _not_computable("wald", NotComputable.ALL_ALIKE)
        chisq = float(beta @ gi @ beta)
        adj = f"generaliseret invers (rang {rank} af {G - 1})"
    if not np.isfinite(chisq) or chisq < 0:
        return _not_computable("wald", NotComputable.UNSTABLE, adj)
    if not ddf >= 1:
        return _not_computable("wald", NotComputable.TOO_FEW_DF, adj)
    f = chisq / rank
    return TestResult("wald", f, float(rank), float(ddf), f_pvalue(f, rank, ddf), adjustment=adj)


def ttest_domains(design: SurveyDesign, y: np.ndarray, in_group: np.ndarray) -> TestResult:
    """Design-based t-test of the mean of ``y`` in ``in_group`` against the rest; the estimate is the
    difference (in group minus rest)."""
    g = np.asarray(in_group).astype(int)
    levels, mean, cov, ok = _group_means(design, y, g)
    if len(levels) < 2:
        return _not_computable("t", NotComputable.ONE_GROUP if len(levels) == 1 else NotComputable.NO_ANSWERS)
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
    """Multiple-testing adjustment of the p-values ``p``; NaN p-values stay NaN and do not count.

    Notes
    -----
    With the m p-values sorted, ``p_(1) <= ... <= p_(m)`` (Holm 1979; Benjamini & Hochberg 1995):

    - ``bonferroni``: ``min(1, m p_i)``;
    - ``holm``: ``min(1, max_{j<=i} (m - j + 1) p_(j))``;
    - ``fdr_bh``: ``min(1, min_{j>=i} p_(j) / (j / m))``.

    These are the formulas of ``statsmodels.stats.multitest.multipletests`` (the names are its
    method names), written here as pure functions of their input: statsmodels' Holm branch runs
    ``gc.collect()`` on every call, a full garbage collection (about 60 ms with a large heap, once per
    scope) that the result does not depend on. The tests check equality with statsmodels.
    """
    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok], kind="stable")
    ps = p[ok][order]
    if method == "bonferroni":
        adj = ps * m
    elif method == "holm":
        adj = np.maximum.accumulate(ps * np.arange(m, 0, -1))
    elif method == "fdr_bh":
        adj = np.minimum.accumulate((ps / (np.arange(1, m + 1) / m))[::-1])[::-1]
    else:
        raise ValueError(f"adjust_pvalues: method must be one of 'holm', 'fdr_bh', 'bonferroni'; got {method!r}")
    vals = np.empty(m)
    vals[order] = np.minimum(adj, 1.0)
    out[ok] = vals
    return out
