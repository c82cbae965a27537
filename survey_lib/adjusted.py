"""A fair comparison of municipalities: each municipality's effect in a design-based linear
regression of the score on municipality and the citizens' composition, in deviation (sum-to-zero)
coding, so it reads 'compared with the average municipality, with citizens like ours'.

Notes
-----
Model (weighted least squares, as R ``svyglm`` with the gaussian family):

    y_i = b_0 + sum_g a_g u_ig + sum_v sum_l c_vl z_ivl + e_i,

with ``u`` the municipality and ``z`` the covariates (målgruppe, age band, gender, duration band),
every factor in deviation coding (``contr.sum``): for a factor with levels 1..K the K-1 columns are
``1(level = k) - 1(level = K)``. The coefficients ``a_1..a_{G-1}`` are municipalities' deviations
from the unweighted average of all municipality effects; the last municipality's is
``a_G = -(a_1 + ... + a_{G-1})`` (``svycontrast``), so ``sum_g a_g = 0``. Without covariates the
same coding gives the raw deviation of each municipality's mean from the average municipality mean.

Estimation, with ``W = diag(w)`` the design weights and the rows used those with an answer and all
covariates (``X`` n x q):

    beta = (X'WX)^-1 X'Wy,     e_i = (y_i - x_i'beta) x_i'(X'WX)^-1      (zero for rows not used),

and the covariance of ``beta`` is the design's linearized variance of the influence values ``e``
(``svy.varcoef``/``svyrecvar``): within each post-stratum h, ``x_i = w_i (e_i - ebar_h)`` (``ebar_h``
the mean of e over *all* rows of h), then ``V = sum_s n_s/(n_s - 1) sum_{i in s} (x_i - xbar_s)
(x_i - xbar_s)'`` over strata s. A contrast ``L beta`` has variance ``L V L'``.

Degrees of freedom as R: ``df = nu_y + 1 - q``, with ``nu_y`` = rows used minus strata among them.
Standard errors give t = estimate / SE on ``df``, intervals ``estimate +- t_{df, 1-alpha/2} SE``
(``confint.svyglm``), and the joint test of the municipality term is the Wald F of
``regTermTest(fit, ~kommune)``: ``X2 = a' V_a^-1 a``, ``F = X2 / (G - 1)`` on ``(G - 1, df)``.

References
----------
Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex surveys.
*International Statistical Review* 51, 279-292.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 5 (regression) and 7
(post-stratification). Wiley.
Lumley, T. & Scott, A. (2014). Tests for regression models fitted to survey data. *Australian &
New Zealand Journal of Statistics* 56, 1-14.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, special

from .design import SurveyDesign, stratum_factor

__all__ = ["AdjustedComparison", "AdjustedResult", "WaldTest", "design_regression", "RegressionFit",
           "DEFAULT_COVARIATES", "UnitEffects", "unit_effects"]

DEFAULT_COVARIATES = ("maalgruppe", "alder_band", "koen", "varighed_band")


class NotEstimable(ValueError):
    """The adjusted model cannot be estimated on these data (collinear terms: a covariate constant
    within each unit, or too few answers); the comparison is then not computable, not an error of
    the caller's."""


@dataclass(frozen=True)
class WaldTest:
    """Joint Wald test of a model term (``regTermTest``): ``F = chisq / df1`` on ``(df1, df2)``."""

    chisq: float
    statistic: float
    df1: float
    df2: float
    p_value: float


@dataclass(frozen=True)
class RegressionFit:
    """A design-based linear regression: coefficients, their covariance and degrees of freedom."""

    terms: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    df_residual: float
    n_used: int

    def contrast(self, weights: np.ndarray) -> tuple[float, float]:
        """Estimate and standard error of ``weights @ coef`` (``svycontrast``)."""
        L = np.asarray(weights, float)
        return float(L @ self.coef), float(np.sqrt(max(L @ self.vcov @ L, 0.0)))

    def wald(self, index: np.ndarray) -> WaldTest:
        """Joint Wald F test that the coefficients at ``index`` are 0 (``regTermTest``, method Wald)."""
        index = np.asarray(index, int)
        b = self.coef[index]
        V = self.vcov[np.ix_(index, index)]
        chisq = float(b @ np.linalg.solve(V, b))
        k = len(index)
        f = chisq / k
        return WaldTest(chisq, f, float(k), float(self.df_residual), float(special.fdtrc(k, self.df_residual, f)))


def _sum_coding(codes: np.ndarray, K: int) -> np.ndarray:
    """Deviation-coded columns (n x (K-1)) for level codes 0..K-1 (``contr.sum``)."""
    out = (codes[:, None] == np.arange(K - 1)[None, :]).astype(float)
    out[codes == K - 1] = -1.0
    return out


def _design_covariance(design: SurveyDesign, E: np.ndarray) -> np.ndarray:
    """Linearized covariance of totals of the (unweighted) influence values ``E`` (n x q)."""
    ps = design.post_stratum_indicator
    if ps is not None:
        ebar = (ps @ E) / np.maximum(design.post_stratum_sizes, 1)[:, None]
        E = E - ebar[design.post_stratum]
    X = design.weight[:, None] * E
    n_s = design.stratum_sizes.astype(float)
    c = np.where(n_s > 1, n_s / np.maximum(n_s - 1, 1), 0.0)
    S = design.stratum_indicator @ X
    Xc = X * np.sqrt(c[design.stratum])[:, None]
    return Xc.T @ Xc - S.T @ (S * (c / np.maximum(n_s, 1))[:, None])


def design_regression(design: SurveyDesign, y: np.ndarray, X: np.ndarray, terms: tuple[str, ...],
                      used: np.ndarray) -> RegressionFit:
    """Weighted least squares of ``y`` on ``X`` over the rows ``used`` with the design's linearized
    covariance (see the module Notes; ``svyglm`` with the gaussian family).

    Raises
    ------
    ValueError
        When ``X`` is rank deficient over the rows used (a term cannot be estimated).
    """
    used = np.asarray(used, bool)
    w = design.weight
    Xu, yu, wu = X[used], np.asarray(y, float)[used], w[used]
    XtWX = Xu.T @ (wu[:, None] * Xu)
    rank = np.linalg.matrix_rank(XtWX)
    if rank < Xu.shape[1]:
        null = np.linalg.svd(XtWX)[2][rank:]
        involved = [terms[j] for j in np.flatnonzero(np.abs(null).max(axis=0) > 1e-8)]
        raise NotEstimable(f"covariates: the model cannot be estimated, the terms {involved} are collinear among the "
                         f"{used.sum()} rows with an answer (e.g. a covariate that is constant within a municipality); "
                         "leave one of them out")
    Ainv = np.linalg.inv(XtWX)
    Ainv = (Ainv + Ainv.T) / 2
    beta = Ainv @ (Xu.T @ (wu * yu))
    resid = yu - Xu @ beta
    E = np.zeros((design.n, Xu.shape[1]))
    E[used] = (resid[:, None] * Xu) @ Ainv
    V = _design_covariance(design, E)
    keep = used & (w > 0)
    nu = int(keep.sum() - len(np.unique(design.stratum[keep])))
    return RegressionFit(tuple(terms), beta, (V + V.T) / 2, float(nu + 1 - Xu.shape[1]), int(used.sum()))


@dataclass(frozen=True)
class AdjustedResult:
    """The adjusted (and raw) comparison of the units.

    Attributes
    ----------
    effects
        One row per unit: ``unit``, ``n`` (answers used), ``effect``, ``se``, ``ci_lower``,
        ``ci_upper``, ``t``, ``p_value`` (adjusted for composition) and the same with suffix ``_raw``
        (the model without covariates), ``df`` and ``df_raw``.
    coefficients
        Every coefficient of the adjusted model (``term``, ``estimate``, ``se``, ``t``, ``p_value``),
        terms named ``variable[level]``, the intercept ``(Intercept)``.
    joint
        Wald test of the unit term in the adjusted model; ``joint_raw`` in the raw model.
    fit, fit_raw
        The two regressions.
    """

    effects: pd.DataFrame
    coefficients: pd.DataFrame
    joint: WaldTest
    joint_raw: WaldTest
    fit: RegressionFit = field(repr=False)
    fit_raw: RegressionFit = field(repr=False)


@dataclass(frozen=True)
class AdjustedComparison:
    """Each unit's effect on a score, compared with the average unit, adjusted for composition.

    Parameters
    ----------
    unit
        Column of the units compared (default ``kommune``).
    covariates
        Composition columns adjusted for (default målgruppe, age band, gender, duration band),
        each treated as a factor in deviation coding.
    coverage
        Confidence level of the intervals (default 0.95).
    unit_order
        Order of the units (the last one is the omitted level of the coding; results are the same
        for any order); default: sorted by code point (R: ``sort(method = "radix")``).

    Notes
    -----
    See the module docstring for the model, coding, variance and tests (``svyglm`` with
    ``contr.sum``, ``svycontrast`` and ``regTermTest``, Lumley 2010).
    """

    unit: str = "kommune"
    covariates: tuple[str, ...] = DEFAULT_COVARIATES
    coverage: float = 0.95
    unit_order: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not (0 < self.coverage < 1):
            raise ValueError(f"coverage: expected a probability strictly between 0 and 1 (e.g. 0.95), got {self.coverage!r}")
        if isinstance(self.covariates, str):
            raise ValueError(f"covariates: expected a tuple of column names, got the string {self.covariates!r}")
        if self.unit in self.covariates:
            raise ValueError(f"covariates: must not contain the unit column {self.unit!r}; got {list(self.covariates)}")
        if len(set(self.covariates)) != len(self.covariates):
            raise ValueError(f"covariates: each column once; got {list(self.covariates)}")

    def _factor(self, frame: pd.DataFrame, column: str, used: np.ndarray, order: tuple[str, ...] | None):
        values = frame[column].astype(str).to_numpy()
        present = np.unique(values[used])
        if order is None:
            levels = list(present)
        else:
            unknown = sorted(set(present) - set(order))
            if unknown:
                raise ValueError(f"unit_order: expected every {column!r} in the data, missing {unknown[:5]}")
            levels = [lv for lv in order if lv in set(present)]
        codes = np.full(len(values), -1)
        lookup = {lv: i for i, lv in enumerate(levels)}
        codes[used] = [lookup[v] for v in values[used]]
        return levels, codes

    def __call__(self, design: SurveyDesign, outcome: str | np.ndarray) -> AdjustedResult:
        """Fit the adjusted and the raw model for ``outcome``.

        Parameters
        ----------
        design
            The survey design (its ``frame`` holds the unit and covariate columns).
        outcome
            Name of the score column in ``design.frame``, or the scores (NaN: no answer).

        Returns
        -------
        AdjustedResult
        """
        frame = design.frame
        missing = [c for c in (self.unit, *self.covariates) if c not in frame.columns]
        if missing:
            raise ValueError(f"design.frame: missing column(s) {missing} (unit {self.unit!r}, covariates "
                             f"{list(self.covariates)}); available: {list(frame.columns)}")
        if isinstance(outcome, str):
            if outcome not in frame.columns:
                raise ValueError(f"outcome: no column {outcome!r} in design.frame")
            y = pd.to_numeric(frame[outcome], errors="coerce").to_numpy(float)
        else:
            y = np.asarray(outcome, float)
            if y.shape != (design.n,):
                raise ValueError(f"outcome: expected {design.n} scores (one per design row), got shape {y.shape}")
        used = ~np.isnan(y) & (design.weight > 0)
        for c in (self.unit, *self.covariates):
            used &= frame[c].notna().to_numpy()
        units, u_codes = self._factor(frame, self.unit, used, self.unit_order)
        if len(units) < 2:
            raise ValueError(f"{self.unit}: at least two units with answers are needed for a comparison, got {units}")
        blocks, terms = [np.ones((design.n, 1))], ["(Intercept)"]
        unit_cols = _sum_coding(u_codes, len(units))
        blocks.append(unit_cols)
        terms += [f"{self.unit}[{lv}]" for lv in units[:-1]]
        unit_index = np.arange(1, len(units))
        raw = design_regression(design, y, np.hstack(blocks), tuple(terms), used)
        for c in self.covariates:
            levels, codes = self._factor(frame, c, used, None)
            if len(levels) < 2:
                continue          # constant among the rows used: nothing to adjust for
            blocks.append(_sum_coding(codes, len(levels)))
            terms += [f"{c}[{lv}]" for lv in levels[:-1]]
        fit = design_regression(design, y, np.hstack(blocks), tuple(terms), used)
        n_units = np.bincount(u_codes[used], minlength=len(units))
        rows = {"unit": units, "n": n_units}
        for suffix, f in (("", fit), ("_raw", raw)):
            est, se = [], []
            for g in range(len(units)):
                L = np.zeros(len(f.coef))
                if g < len(units) - 1:
                    L[unit_index[g]] = 1.0
                else:
                    L[unit_index] = -1.0
                e, s = f.contrast(L)
                est.append(e)
                se.append(s)
            est, se = np.array(est), np.array(se)
            t = est / se
            q = special.stdtrit(f.df_residual, 1 - (1 - self.coverage) / 2)
            rows.update({f"effect{suffix}": est, f"se{suffix}": se, f"ci_lower{suffix}": est - q * se,
                         f"ci_upper{suffix}": est + q * se, f"t{suffix}": t,
                         f"p_value{suffix}": 2 * special.stdtr(f.df_residual, -np.abs(t)),
                         f"df{suffix}": f.df_residual})
        effects = pd.DataFrame(rows).rename(columns={"unit": self.unit})
        se_all = np.sqrt(np.maximum(np.diag(fit.vcov), 0))
        t_all = fit.coef / se_all
        coefficients = pd.DataFrame({"term": fit.terms, "estimate": fit.coef, "se": se_all, "t": t_all,
                                     "p_value": 2 * special.stdtr(fit.df_residual, -np.abs(t_all))})
        return AdjustedResult(effects, coefficients, fit.wald(unit_index), raw.wald(unit_index), fit, raw)


def _calibrated(design: SurveyDesign, E: np.ndarray) -> np.ndarray:
    """Influence values (n x k) adjusted for the calibration (post-strata or raking), as
    :func:`survey_lib.estimate.linearized_covariance` adjusts them."""
    sums = design.calibration_sums
    if not sums.adjust:
        return E
    ind = design.post_stratum_indicator if design.raking is None else \
        sparse.csr_matrix((np.ones(design.n), (sums.block, np.arange(design.n))), shape=(sums.n_blocks, design.n))
    return E - design.block_means(ind @ E)[sums.block]


def _diagonal_variance(design: SurveyDesign, E: np.ndarray) -> np.ndarray:
    """The linearized variance of the total of each column of the influence values ``E``."""
    X = design.weight[:, None] * _calibrated(design, E)
    n_s = design.stratum_sizes
    cf = stratum_factor(n_s)
    S = design.stratum_indicator @ X
    return (cf[design.stratum][:, None] * X * X).sum(axis=0) - ((S * S) * (cf / np.maximum(n_s, 1))[:, None]).sum(axis=0)


def _unit_of_stratum(design: SurveyDesign, unit: np.ndarray) -> np.ndarray | None:
    """The unit of each stratum when every stratum's used rows are of one unit and the calibration's
    blocks lie within strata (municipalities as strata), else None."""
    if not design.margins_nested:
        return None
    S = len(design.stratum_labels)
    rows = unit >= 0
    lo = np.full(S, np.iinfo(np.int64).max)
    hi = np.full(S, -1)
    np.minimum.at(lo, design.stratum[rows], unit[rows])
    np.maximum.at(hi, design.stratum[rows], unit[rows])
    has = hi >= 0
    if (lo[has] != hi[has]).any():
        return None
    return np.where(has, hi, -1)


def _meat_by_stratum(design: SurveyDesign, used: np.ndarray, resid: np.ndarray, Z: np.ndarray,
                     unit_of_stratum: np.ndarray, G: int) -> np.ndarray:
    """The design covariance (q x q) of the totals of ``f_i = r_i x_i`` (x_i: the unit indicators
    and the covariate columns) when each stratum is one unit: within stratum s only the unit's
    column and the covariate columns are non-zero, so the calibration adjustment and the stratum
    sums are taken on those 1 + m columns, and each stratum adds its (1 + m) x (1 + m) block."""
    m = Z.shape[1]
    F = np.zeros((design.n, 1 + m))
    F[used, 0] = resid
    F[used, 1:] = resid[:, None] * Z
    X = design.weight[:, None] * _calibrated(design, F)
    n_s = design.stratum_sizes
    cf = stratum_factor(n_s)
    outer = (X[:, :, None] * X[:, None, :]).reshape(design.n, -1)
    blocks = (design.stratum_indicator @ (outer * cf[design.stratum][:, None])).reshape(-1, 1 + m, 1 + m)
    S = design.stratum_indicator @ X
    blocks -= (cf / np.maximum(n_s, 1))[:, None, None] * S[:, :, None] * S[:, None, :]
    q = G + m
    meat = np.zeros((q, q))
    cov_cols = G + np.arange(m)
    for s_code, u in enumerate(unit_of_stratum):
        if u >= 0:
            idx = np.r_[u, cov_cols]
            meat[np.ix_(idx, idx)] += blocks[s_code]
    return meat


@dataclass(frozen=True)
class UnitEffects:
    """The adjusted effect of every unit (as ``AdjustedResult.effects`` without the raw model).

    Arrays over the units in ``units`` (the codes with answers, in code order): ``n`` answers used,
    ``effect``, ``se``, ``ci_lower``, ``ci_upper``, ``t``, ``p_value``; ``df`` the residual degrees
    of freedom."""

    units: np.ndarray
    n: np.ndarray
    effect: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    t: np.ndarray
    p_value: np.ndarray
    df: float


def unit_effects(design: SurveyDesign, y: np.ndarray, unit_codes: np.ndarray,
                 covariate_codes: tuple[np.ndarray, ...], coverage: float = 0.95) -> UnitEffects:
    """Each unit's deviation from the average unit, adjusted for the covariates, computed fast.

    The same model and numbers as :class:`AdjustedComparison` (``svyglm`` with ``contr.sum``), in an
    equivalent parametrisation that avoids the dense n x q algebra of many units.

    Parameters
    ----------
    design
        The survey design.
    y
        Score per row (NaN: no answer).
    unit_codes
        Unit code per row (0, 1, ...; -1 unknown).
    covariate_codes
        Level codes per row of each covariate (0, 1, ...; -1 missing); a covariate with fewer than
        two levels among the rows used is left out, as in :class:`AdjustedComparison`.
    coverage
        Confidence level of the intervals.

    Returns
    -------
    UnitEffects

    Notes
    -----
    With one indicator column per unit (no intercept) and the covariates in deviation coding, the
    columns span the same space as the intercept plus deviation-coded units, so the fit, residuals
    and influence values are the same; the unit effects are the contrasts ``a_g = b_g - mean_k b_k``
    of the indicator coefficients ``b``. ``X'WX`` is assembled from per-unit sums (the indicator
    block is diagonal); the influence values of the G contrasts, ``e_ig = r_i x_i' (X'WX)^-1 L_g'``,
    are n x G, and their design variance is computed as in
    :func:`survey_lib.estimate.linearized_covariance` (calibration adjustment, then strata), but only
    its diagonal. Degrees of freedom ``nu + 1 - q`` as :func:`design_regression`.
    """
    y = np.asarray(y, float)
    u = np.asarray(unit_codes)
    w = design.weight
    used = ~np.isnan(y) & (w > 0) & (u >= 0)
    for c in covariate_codes:
        used &= np.asarray(c) >= 0
    present = np.unique(u[used])
    if len(present) < 2:
        raise ValueError(f"unit_codes: at least two units with answers are needed for a comparison, got {present.tolist()}")
    G = len(present)
    uc = np.full(design.n, -1)
    uc[used] = np.searchsorted(present, u[used])
    blocks = []
    for c in covariate_codes:
        c = np.asarray(c)
        levels = np.unique(c[used])
        if len(levels) < 2:
            continue
        codes = np.full(design.n, -1)
        codes[used] = np.searchsorted(levels, c[used])
        blocks.append(_sum_coding(codes, len(levels)))
    Z = np.hstack(blocks)[used] if blocks else np.zeros((int(used.sum()), 0))
    m = Z.shape[1]
    q = G + m
    yu, wu, gu = y[used], w[used], uc[used]
    A = np.zeros((q, q))
    A[np.arange(G), np.arange(G)] = np.bincount(gu, weights=wu, minlength=G)
    wZ = wu[:, None] * Z
    DZ = np.stack([np.bincount(gu, weights=wZ[:, j], minlength=G) for j in range(m)], axis=1) if m else np.zeros((G, 0))
    A[:G, G:] = DZ
    A[G:, :G] = DZ.T
    A[G:, G:] = Z.T @ wZ
    rank = np.linalg.matrix_rank(A)
    if rank < q:
        raise NotEstimable(f"covariates: the model cannot be estimated among the {used.sum()} rows with an answer "
                         "(a covariate is collinear with the units, e.g. constant within each unit); leave it out")
    Ainv = np.linalg.inv(A)
    Ainv = (Ainv + Ainv.T) / 2
    rhs = np.concatenate([np.bincount(gu, weights=wu * yu, minlength=G), wZ.T @ yu])
    beta = Ainv @ rhs
    resid = yu - beta[gu] - Z @ beta[G:]
    L = np.hstack([np.eye(G) - 1.0 / G, np.zeros((G, m))])
    M = Ainv @ L.T                                        # q x G
    effect = L @ beta
    unit_of_stratum = _unit_of_stratum(design, uc)
    if unit_of_stratum is not None:
        var = np.einsum("qg,qr,rg->g", M, _meat_by_stratum(design, used, resid, Z, unit_of_stratum, G), M)
    else:
        E = np.zeros((design.n, G))
        E[used] = resid[:, None] * (M[gu] + Z @ M[G:])
        var = _diagonal_variance(design, E)
    se = np.sqrt(np.maximum(var, 0.0))
    keep = used & (w > 0)
    df = float(int(keep.sum() - len(np.unique(design.stratum[keep]))) + 1 - q)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = effect / se
    half = special.stdtrit(df, 1 - (1 - coverage) / 2) * se
    return UnitEffects(present, np.bincount(gu, minlength=G), effect, se, effect - half, effect + half, t,
                       2 * special.stdtr(df, -np.abs(t)), df)
