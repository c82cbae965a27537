"""Covariances and tests for every municipality at once.

A municipality's own design (its respondents; one stratum; its post-strata) gives the same
linearized variances as R ``survey`` on ``svydesign`` built from that municipality alone. Computing
them one municipality at a time costs a Python round trip per test; here the sums the formulas need
are taken per post-stratum for all municipalities together and combined per municipality, so a
national round (98 municipalities) costs a handful of array operations per question and breakdown.

Notes
-----
For outcomes j = 1..C with domains D_j and values Y_ij (cell indicators over one domain for shares;
the score over the groups' disjoint domains for group means), with means mu_j = sum_{D_j} w Y / W_j,
e_ij = 1(i in D_j) (Y_ij - mu_j) / W_j and, per post-stratum h of n_h rows,

    ebar_hj = sum_{i in h} e_ij / n_h,   x_ij = w_i (e_ij - ebar_hj),

the covariance in municipality (stratum) k of n_k rows is

    V_k = n_k/(n_k - 1) [ sum_{h in k} sum_{i in h} x_i x_i' - S_k S_k' / n_k ],   S_k = sum_{i in k} x_i,

and sum_{i in h} x_ia x_ib = R_h[a,b] - ebar_hb u_ha - ebar_ha u_hb + ebar_ha ebar_hb sum_{i in h} w_i^2,
with R_h[a,b] = sum_{i in h} w_i^2 e_ia e_ib and u_ha = sum_{i in h} w_i^2 e_ia, all from per-post-stratum
sums. This is the same estimator as :func:`survey_lib.estimate.linearized_covariance` (tested equal).

Raked designs: the adjustment ebar_hj is the raking backfit instead of the post-stratum mean —
R ``svyrecvar``'s ten sweeps over the margins (:meth:`survey_lib.design.RakingMargins.block_means`),
a linear map of the per-block sums of e that is constant within a block (the cross of the stratum
and every margin's cell), so every formula above holds with h a raking block. It is used for the
whole design (``pooled``) always, and for each municipality's own design when the margins lie
within the municipalities (raking within municipality: the municipality's own raking then has the
same weights and the same backfit). With national margins a municipality's own design is not a
part of the whole one, and its covariance takes its stratum only (no calibration term).

Group means (``mode="means"``) whose answers in the domain are all alike have influence values
e_ij = 0 for every row, so their variance and covariances are exactly zero; the sums above leave
rounding noise there (about 1e-18), which is set to 0 so that a degenerate test is recognised as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy import sparse

from .design import PostStratumSums, SurveyDesign, stratum_factor
from .estimate import post_stratum_sums

__all__ = ["Mode", "ScopedCovariance", "scoped_covariance", "pooled_covariance", "complement_means", "check_mode"]

Mode = Literal["shares", "means"]
"""The two outcome layouts: cell shares over one common domain, or group means over disjoint domains."""


def check_mode(mode: str, where: str) -> None:
    """Raise ``ValueError`` unless ``mode`` is one of :data:`Mode`'s values (``where``: the caller)."""
    allowed = get_args(Mode)
    if mode not in allowed:
        raise ValueError(f"{where}: parameter 'mode' must be one of {', '.join(repr(a) for a in allowed)}; "
                         f"got {mode!r}")


def _alike(y: np.ndarray, ok: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group (flat index ``group`` over the rows ``ok``): True where the group has answers and
    they are all the same value."""
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, group[ok], y[ok])
    np.maximum.at(hi, group[ok], y[ok])
    return lo == hi


def _calibration(design: SurveyDesign, pooled: bool) -> tuple[PostStratumSums, bool]:
    """The blocks the influence values are adjusted on, and whether they are raking blocks: a raked
    design's margins for the whole design, and for the municipalities' own designs when the margins
    lie within them (module notes); else the post-strata (or the strata, without adjustment)."""
    if design.raking is not None and (pooled or design.margins_nested):
        return design.calibration_sums, True
    return post_stratum_sums(design), False


def _ebar(design: SurveyDesign, sums: PostStratumSums, raked: bool, total: np.ndarray, scale: np.ndarray
          ) -> np.ndarray:
    """The adjustment per block (H, C) from the per-block sums of e, given as ``total / scale``:
    the post-stratum mean, the raking backfit, or 0 without calibration."""
    if not sums.adjust:
        return np.zeros(np.shape(total))
    if raked:
        return design.raking.block_means(total / scale, sums.rows)
    return total / (scale * sums.rows[:, None])


@dataclass(frozen=True)
class ScopedCovariance:
    """Per municipality k: means (K, C), covariance (K, C, C), weighted and unweighted n (K, C)."""

    mean: np.ndarray
    cov: np.ndarray
    weighted_n: np.ndarray
    n: np.ndarray
    rows: np.ndarray    # rows of the municipality's design (K,)


def scoped_covariance(design: SurveyDesign, y: np.ndarray, cells: np.ndarray, n_cells: int, mode: Mode,
                      pooled: bool = False) -> ScopedCovariance:
    """Means and covariances of C outcomes in every municipality's own design.

    Parameters
    ----------
    y
        Score per row (NaN: no answer).
    cells
        Outcome index per row (-1: in no domain): the table cell (category x group) for
        ``mode="shares"`` (one common domain: the rows with a cell), or the group for ``mode="means"``
        (disjoint domains, the outcome is ``y``).
    pooled
        Estimate over the whole design instead (one row: the means over all municipalities and
        their covariance summed over the strata) — the same numbers as :func:`pooled_covariance`,
        cheaper when C is small.

    Raises
    ------
    ValueError
        ``mode`` is not ``"shares"`` or ``"means"``.
    """
    check_mode(mode, "scoped_covariance")
    w = design.weight
    sums, raked = _calibration(design, pooled)
    h, H, adjust, k_of_h, n_h, A_h, B_h = sums
    K = len(design.stratum_labels)
    ok = (cells >= 0) & ~np.isnan(y)
    C = n_cells
    idx = h[ok] * C + cells[ok]
    yv = y[ok] if mode == "means" else np.ones(ok.sum())
    wv = w[ok]

    def hc(weights=None):
        return np.bincount(idx, weights=weights, minlength=H * C).reshape(H, C)

    cnt = hc()
    P0, P1 = hc(wv), hc(wv * yv)
    Q0, Q1, Q2 = hc(wv ** 2), hc(wv ** 2 * yv), hc(wv ** 2 * yv ** 2)
    S1 = hc(yv)
    to_k = sparse.csr_matrix((np.ones(H), (k_of_h, np.arange(H))), shape=(K, H))
    to_mean = sparse.csr_matrix(np.ones((1, H))) if pooled else to_k
    mean_of_h = np.zeros(H, dtype=int) if pooled else k_of_h
    if mode == "shares":
        # one common domain per municipality: the rows in any cell
        W_k = np.asarray(to_mean @ P0.sum(axis=1)).ravel()
        mean_k = (to_mean @ P1) / np.where(W_k > 0, W_k, np.inf)[:, None]
        Wd = np.repeat(W_k[:, None], C, axis=1)
        m_h = cnt.sum(axis=1)
        Q0d_h = Q0.sum(axis=1)
    else:
        Wd = np.asarray(to_mean @ P0)
        mean_k = np.asarray(to_mean @ P1) / np.where(Wd > 0, Wd, np.inf)
    mu = np.asarray(mean_k)[mean_of_h]     # (H, C)
    Wh = Wd[mean_of_h]
    Wh = np.where(Wh > 0, Wh, np.inf)
    if mode == "shares":
        ebar = _ebar(design, sums, raked, S1 - mu * m_h[:, None], Wh)
        u = (Q1 - mu * Q0d_h[:, None]) / Wh
        R = (- mu[:, :, None] * Q1[:, None, :] - Q1[:, :, None] * mu[:, None, :]
             + mu[:, :, None] * mu[:, None, :] * Q0d_h[:, None, None])
        diag = np.arange(C)
        R[:, diag, diag] += Q1
        R /= Wh[:, :, None] * Wh[:, None, :]
        x1 = (P1 - mu * P0.sum(axis=1)[:, None]) / Wh - ebar * B_h[:, None]
    else:
        ebar = _ebar(design, sums, raked, S1 - mu * cnt, Wh)
        u = (Q1 - mu * Q0) / Wh
        R = np.zeros((H, C, C))
        diag = np.arange(C)
        R[:, diag, diag] = (Q2 - 2 * mu * Q1 + mu ** 2 * Q0) / Wh ** 2
        x1 = (P1 - mu * P0) / Wh - ebar * B_h[:, None]
    eu = ebar[:, :, None] * u[:, None, :]
    M = R - eu - eu.transpose(0, 2, 1) + (ebar * A_h[:, None])[:, :, None] * ebar[:, None, :]
    sum_M = np.asarray(to_k @ M.reshape(H, C * C)).reshape(K, C, C)
    S = np.asarray(to_k @ x1)
    n_k = design.stratum_sizes.astype(float)
    c = stratum_factor(n_k)
    cov = c[:, None, None] * (sum_M - S[:, :, None] * S[:, None, :] / np.maximum(n_k, 1)[:, None, None])
    if pooled:
        cov = cov.sum(axis=0, keepdims=True)
    if mode == "means":
        k_row = np.zeros(design.n, dtype=int) if pooled else design.stratum
        zero = _alike(y, ok, k_row * C + np.where(ok, cells, 0), cov.shape[0] * C).reshape(-1, C)
        cov = np.where(zero[:, :, None] | zero[:, None, :], 0.0, cov)
    if pooled:
        n = np.asarray(to_mean @ cnt)
        return ScopedCovariance(np.asarray(mean_k), cov, np.asarray(Wd), n, np.array([n_k.sum()]))
    n = np.asarray(to_k @ cnt)
    return ScopedCovariance(np.asarray(mean_k), cov, np.asarray(Wd), n, n_k)


def complement_means(design: SurveyDesign, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``y`` over the answers outside each municipality and its variance in the full design
    (for the municipality-against-the-rest t-test), for every municipality at once.

    A raked design's margins are used when they lie within the municipalities (module notes);
    with national margins the others' variance takes the strata only."""
    w = design.weight
    sums, raked = _calibration(design, pooled=False)
    h, H, adjust, k_of_h, n_h, A, B = sums
    K = len(design.stratum_labels)
    ok = ~np.isnan(y)
    hv, yv, wv = h[ok], y[ok], w[ok]

    def sh(weights=None):
        return np.bincount(hv, weights=weights, minlength=H)

    m, S1 = sh(), sh(yv)
    P0, P1 = sh(wv), sh(wv * yv)
    Q0, Q1, Q2 = sh(wv ** 2), sh(wv ** 2 * yv), sh(wv ** 2 * yv ** 2)
    # ebar_h = (a_h - mu b_h) / W: the adjustment is linear in the block sums (module notes)
    one = np.ones((H, 1))
    a = _ebar(design, sums, raked, S1[:, None], one)[:, 0]
    b = _ebar(design, sums, raked, m[:, None], one)[:, 0]
    coef = np.stack([Q2 - 2 * a * Q1 + a ** 2 * A, -2 * Q1 + 2 * a * Q0 + 2 * b * Q1 - 2 * a * b * A,
                     Q0 - 2 * b * Q0 + b ** 2 * A, P1 - a * B, -P0 + b * B], axis=1)
    per_k = np.column_stack([np.bincount(k_of_h, weights=coef[:, j], minlength=K) for j in range(5)])
    W_k = np.bincount(k_of_h, weights=P0, minlength=K)
    P1_k = np.bincount(k_of_h, weights=P1, minlength=K)
    W = W_k.sum() - W_k
    mu = (P1_k.sum() - P1_k) / np.where(W > 0, W, np.inf)
    n_s = design.stratum_sizes.astype(float)
    c = stratum_factor(n_s)
    A0, A1, A2, D0, D1 = (per_k[:, j][None, :] for j in range(5))          # (1, S)
    mu_c = mu[:, None]                                                       # (K, 1)
    contrib = c[None, :] * (A0 + A1 * mu_c + A2 * mu_c ** 2 - (D0 + D1 * mu_c) ** 2 / np.maximum(n_s, 1)[None, :])
    np.fill_diagonal(contrib, 0.0)                                           # leave the municipality itself out
    var = contrib.sum(axis=1) / np.where(W > 0, W, np.inf) ** 2
    return mu, var


def pooled_covariance(design: SurveyDesign, y: np.ndarray, cells: np.ndarray, n_cells: int, mode: Mode
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means and covariance of C outcomes in the whole design, with sparse algebra.

    Same estimator as :func:`survey_lib.estimate.linearized_covariance`, for the two outcome layouts
    of the tests (``mode`` as in :func:`scoped_covariance`), without forming the dense n x C matrix
    of influence values: with many groups (all municipalities) that matrix is too large.

    Notes
    -----
    With P the post-stratum indicator, the post-stratified influence values are, per row i,
    ``x_i = w_i [a_i - p b_i] / W`` (shares: ``a_i = d_i I_i - cnt_h / n_h``, ``b_i = d_i - m_h / n_h``,
    a rank-one term in p) or ``x_ij = w_i [ay_ij - mu_j a1_ij] / W_j`` (group means: sparse). The
    covariance ``V = X' diag(c_s) X - F' diag(c_s / n_s) F``, ``F`` the stratum sums of X, is then
    assembled from sparse products. Group means whose answers are all alike get exactly zero
    variance (module notes). A raked design takes :func:`_pooled_raked` (the same estimator with
    the raking backfit).
    """
    check_mode(mode, "pooled_covariance")
    if design.raking is not None:
        return _pooled_raked(design, y, cells, n_cells, mode)
    w = design.weight
    n = design.n
    h, H, adjust, *_ = post_stratum_sums(design)
    ok = (cells >= 0) & ~np.isnan(y)
    rows = np.flatnonzero(ok)
    C = n_cells
    n_h = np.bincount(h, minlength=H).astype(float)
    Ph = sparse.csr_matrix((np.ones(n), (np.arange(n), h)), shape=(n, H))
    n_s = design.stratum_sizes.astype(float)
    c = stratum_factor(n_s)
    cs = c[design.stratum]
    Sind = design.stratum_indicator
    if mode == "shares":
        Ind = sparse.csr_matrix((np.ones(len(rows)), (rows, cells[rows])), shape=(n, C))
        W = w[ok].sum()
        p = np.asarray(Ind.T @ w).ravel() / W
        cnt = sparse.csr_matrix(Ph.T @ Ind)                          # H x C
        if adjust:
            A = (Ind - Ph @ sparse.diags(1 / np.maximum(n_h, 1)) @ cnt).tocsr()
            b = ok.astype(float) - (np.bincount(h[ok], minlength=H) / np.maximum(n_h, 1))[h]
        else:
            A, b = Ind, ok.astype(float)
        Aw = sparse.diags(w) @ A                                      # rows w_i a_i
        AtDA = (Aw.T @ sparse.diags(cs) @ Aw).toarray()
        g = np.asarray(Aw.T @ (cs * w * b)).ravel()
        gamma = float(np.sum(cs * (w * b) ** 2))
        F = (Sind @ Aw).toarray()                                     # S x C
        phi = Sind @ (w * b)                                          # S
        k = c / np.maximum(n_s, 1)
        FF = F.T @ (F * k[:, None])
        Fphi = F.T @ (k * phi)
        phiphi = float(np.sum(k * phi ** 2))
        V = (AtDA - np.outer(p, g) - np.outer(g, p) + gamma * np.outer(p, p)
             - (FF - np.outer(p, Fphi) - np.outer(Fphi, p) + phiphi * np.outer(p, p))) / W ** 2
        return p, V, np.full(C, W)
    # group means over disjoint domains: fully sparse
    yv = y[rows]
    Dy = sparse.csr_matrix((yv, (rows, cells[rows])), shape=(n, C))
    D1 = sparse.csr_matrix((np.ones(len(rows)), (rows, cells[rows])), shape=(n, C))
    Wj = np.asarray(D1.T @ w).ravel()
    mu = np.asarray(Dy.T @ w).ravel() / np.where(Wj > 0, Wj, np.inf)
    if adjust:
        inv = sparse.diags(1 / np.maximum(n_h, 1))
        Ay = Dy - Ph @ inv @ sparse.csr_matrix(Ph.T @ Dy)
        A1 = D1 - Ph @ inv @ sparse.csr_matrix(Ph.T @ D1)
    else:
        Ay, A1 = Dy, D1
    X = (sparse.diags(w) @ (Ay - A1 @ sparse.diags(mu)) @ sparse.diags(1 / np.where(Wj > 0, Wj, np.inf))).tocsr()
    F = (Sind @ X).toarray()
    k = c / np.maximum(n_s, 1)
    V = (X.T @ sparse.diags(cs) @ X).toarray() - F.T @ (F * k[:, None])
    zero = _alike(y, ok, np.where(ok, cells, 0), C)
    V = np.where(zero[:, None] | zero[None, :], 0.0, V)
    return mu, V, Wj


def _pooled_raked(design: SurveyDesign, y: np.ndarray, cells: np.ndarray, n_cells: int, mode: Mode
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`pooled_covariance` for a raked design, linearised on its margins.

    Notes
    -----
    With B the (n x H) raking-block indicator, the influence values of the C outcomes are
    ``X = diag(w) (Z - B E)`` (times ``1/W_j`` per column), Z sparse (shares: the cell indicators
    minus ``p`` times the domain indicator; means: ``y`` minus ``mu_j`` on the group's rows) and E
    (H x C) the backfit of the per-block sums ``B'Z`` (:meth:`survey_lib.design.RakingMargins.block_means`).
    With ``D = diag(c_s w²)``, ``d = B'(c_s w²)`` and the stratum sums ``F = S diag(w) Z − (S diag(w) B) E``,

        V = Z'DZ − Z'DB E − (Z'DB E)' + E' diag(d) E − F' diag(c_s / n_s) F,

    so no dense n x C matrix is formed.
    """
    w = design.weight
    n = design.n
    sums = design.calibration_sums
    H = sums.n_blocks
    ok = (cells >= 0) & ~np.isnan(y)
    rows = np.flatnonzero(ok)
    C = n_cells
    Bm = sparse.csr_matrix((np.ones(n), (np.arange(n), sums.block)), shape=(n, H))
    n_s = design.stratum_sizes.astype(float)
    c = stratum_factor(n_s)
    cs = c[design.stratum]
    Sind = design.stratum_indicator
    D1 = sparse.csr_matrix((np.ones(len(rows)), (rows, cells[rows])), shape=(n, C))
    if mode == "shares":
        W = w[ok].sum()
        mean = np.asarray(D1.T @ w).ravel() / W
        dom = sparse.csr_matrix((np.ones(len(rows)), (rows, np.zeros(len(rows), dtype=int))), shape=(n, 1))
        Z = (D1 - dom @ sparse.csr_matrix(mean[None, :])).tocsr()
        scale = np.full(C, W)
    else:
        Wj = np.asarray(D1.T @ w).ravel()
        mean = np.asarray(sparse.csr_matrix((y[rows], (rows, cells[rows])), shape=(n, C)).T @ w).ravel() \
            / np.where(Wj > 0, Wj, np.inf)
        Z = sparse.csr_matrix((y[rows] - mean[cells[rows]], (rows, cells[rows])), shape=(n, C))
        scale = Wj
    E = design.raking.block_means(np.asarray((Bm.T @ Z).todense()), sums.rows)      # H x C
    Dw = sparse.diags(cs * w ** 2)
    ZDZ = (Z.T @ Dw @ Z).toarray()
    ZDB_E = np.asarray((Z.T @ Dw @ Bm) @ E)
    d = np.asarray(Bm.T @ (cs * w ** 2)).ravel()
    Sw = Sind @ sparse.diags(w)
    F = (Sw @ Z).toarray() - np.asarray((Sw @ Bm) @ E)
    k = c / np.maximum(n_s, 1)
    V = ZDZ - ZDB_E - ZDB_E.T + E.T @ (E * d[:, None]) - F.T @ (F * k[:, None])
    inv = 1 / np.where(scale > 0, scale, np.inf)
    V = V * inv[:, None] * inv[None, :]
    if mode == "means":
        zero = _alike(y, ok, np.where(ok, cells, 0), C)
        V = np.where(zero[:, None] | zero[None, :], 0.0, V)
        return mean, V, Wj
    return mean, V, scale
