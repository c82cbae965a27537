"""Ranks of units (municipalities) with their uncertainty: marginal and simultaneous confidence
sets for ranks from estimates and their covariance (Mogstad, Romano, Shaikh & Wilhelm 2024).

A unit's rank among the ``p`` ranked units is ``r_j = 1 + #{k : theta_k > theta_j}``: rank 1 is the
**highest** score, and tied units share the best (smallest) rank of their tie. A confidence set for
``r_j`` is an interval of ranks ``[L_j, U_j]``; the page prints it as
'nr. 3 af 13 (sikkert mellem 2 og 7)' (:func:`format_rank`).

Notes
-----
The confidence sets follow Mogstad, Romano, Shaikh & Wilhelm (2024, Sections 3-4) and the choices
of their R package ``csranks`` (``csranks(x, Sigma, coverage, stepdown, R, simul)``):

1. Pairwise differences ``d_jk = x_j - x_k`` with standard deviations
   ``s_jk = sqrt(S_jj + S_kk - 2 S_jk)``, ``S`` the covariance of the estimates ``x``.
2. For a set ``I`` of ordered pairs, the critical value ``c(I)`` is the ``1 - alpha`` quantile of
   ``max_{(j,k) in I} (Z_j - Z_k) / s_jk`` with ``Z ~ N(0, S)``, computed from ``draws`` seeded
   draws (parametric bootstrap) with the linear quantile rule (R's type 7). The one-sided lower
   bounds ``d_jk - s_jk c(I)`` hold for all pairs of ``I`` jointly with probability about ``1 - alpha``.
3. The pairs of interest: for the **marginal** set of unit j, all pairs (j, k) and (k, j), k != j
   (a set for one unit); for the **simultaneous** sets, all ordered pairs (all units jointly).
4. **Stepdown** (Romano & Wolf 2005; ``stepdown = TRUE``): pairs whose lower bound is above 0 are
   *rejected* ('j is surely above k'); the critical value is recomputed over the pairs not yet
   rejected, with fresh draws, until no new pair is rejected. With ``stepdown=False`` a single step
   with the symmetric ``max |.|`` critical value over the pairs (j, k), k != j, is used instead.
5. With ``N-_j`` the number of units surely above j and ``N+_j`` the number surely below,
   ``L_j = N-_j + 1`` and ``U_j = p - N+_j``.

The marginal set of each unit covers its true rank with probability at least about ``1 - alpha``;
the simultaneous sets cover all true ranks jointly with that probability (Theorem 3.1 and 3.2 of the
paper, as the normal approximation of the estimates holds). As in ``csranks``, each marginal set uses
draws from the same seed, so a unit's set does not depend on its position in the input.

For municipalities of a stratified design the estimates of different municipalities (strata) are
independent, so their covariance is diagonal (``se**2``); for other groups the full linearized
covariance comes from :func:`means_and_covariance`.

References
----------
Mogstad, M., Romano, J. P., Shaikh, A. M. & Wilhelm, D. (2024). Inference for ranks with
applications to mobility across neighbourhoods and academic achievement across countries.
*Review of Economic Studies* 91(1), 476-518. doi:10.1093/restud/rdad006.
Romano, J. P. & Wolf, M. (2005). Exact and approximate stepdown methods for multiple hypothesis
testing. *JASA* 100, 94-108.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .design import SurveyDesign
from .estimate import linearized_covariance

__all__ = ["RankConfidence", "RankSets", "rank_confidence_sets", "estimated_ranks", "format_rank",
           "means_and_covariance", "STATUS_RANKED", "STATUS_BELOW_MIN", "STATUS_NO_ESTIMATE"]

STATUS_RANKED = "ranked"
STATUS_BELOW_MIN = "below_min_n"
STATUS_NO_ESTIMATE = "no_estimate"

_CHUNK = 2_000_000   # draws x pairs evaluated at once (memory bound)


@dataclass(frozen=True)
class RankSets:
    """Estimated ranks and their confidence sets for p units (arrays in input order).

    Attributes
    ----------
    rank
        ``1 + #{k : x_k > x_j}`` (1 = highest).
    lower, upper
        Bounds of the confidence sets (integers, ``1 <= lower <= rank <= upper <= p`` whenever the
        critical values are >= 0, as they are in practice).
    critical_values
        The critical value of every step: one tuple per index set (a single set for simultaneous
        sets, one per unit for marginal sets).
    """

    rank: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    critical_values: tuple[tuple[float, ...], ...]


def estimated_ranks(estimates: np.ndarray) -> np.ndarray:
    """Ranks ``1 + #{k : x_k > x_j}`` of the estimates (1 = highest; ties share the smallest rank).

    Notes
    -----
    This is ``csranks::irank(x)`` (``omega = 0``, ``increasing = FALSE``).
    """
    x = np.asarray(estimates, float)
    return 1 + (x[None, :] > x[:, None]).sum(axis=1)


def _check_inputs(x: np.ndarray, cov: np.ndarray, coverage: float, draws: int) -> None:
    if x.ndim != 1:
        raise ValueError(f"estimates: expected a one-dimensional array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"estimates: every value must be finite; got {x[~np.isfinite(x)][:5].tolist()} "
                         "(leave units without an estimate out before ranking)")
    if cov.shape != (len(x), len(x)):
        raise ValueError(f"cov: expected a {len(x)} x {len(x)} covariance matrix (one row and column per "
                         f"estimate), got shape {cov.shape}")
    if not np.isfinite(cov).all():
        raise ValueError("cov: every entry must be finite")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-14):
        raise ValueError("cov: the covariance matrix must be symmetric")
    if (np.diag(cov) < 0).any():
        bad = np.flatnonzero(np.diag(cov) < 0)
        raise ValueError(f"cov: every variance must be >= 0; got {np.diag(cov)[bad][:5].tolist()} at position(s) "
                         f"{bad[:5].tolist()}")
    if not (0 < coverage < 1):
        raise ValueError(f"coverage: expected a probability strictly between 0 and 1 (e.g. 0.95), got {coverage!r}")
    if int(draws) != draws or draws < 100:
        raise ValueError(f"draws: expected an integer >= 100 (number of simulated draws), got {draws!r}")


def _normal_factor(cov: np.ndarray) -> np.ndarray:
    """A matrix F with F F' = cov (eigen decomposition, like MASS::mvrnorm; allows singular cov)."""
    vals, vecs = np.linalg.eigh(cov)
    tol = 1e-6 * abs(vals[-1])
    if vals[0] < -tol:
        raise ValueError(f"cov: the covariance matrix is not positive semi-definite (eigenvalue {vals[0]:.3g})")
    return vecs * np.sqrt(np.maximum(vals, 0))[None, :]


class _Draws:
    """Simulated ``Z ~ N(0, cov)`` for each step of the stepdown, drawn lazily from one seed.

    Step s uses the s-th block of ``draws`` normal vectors of the seeded stream, so every index set
    (each unit's marginal set) sees the same draws at the same step, as ``csranks`` does by
    resetting its seed; the blocks are kept and reused across units."""

    def __init__(self, factor: np.ndarray, draws: int, seed: int) -> None:
        self.factor, self.draws = factor, draws
        self.rng = np.random.default_rng(seed)
        self.blocks: list[np.ndarray] = []

    def step(self, s: int) -> np.ndarray:
        while len(self.blocks) <= s:
            self.blocks.append(self.rng.standard_normal((self.draws, self.factor.shape[1])) @ self.factor.T)
        return self.blocks[s]


def _critical_value(z: np.ndarray, pairs: np.ndarray, sd: np.ndarray, coverage: float,
                    absolute: bool) -> float:
    """Quantile ``coverage`` of ``max over pairs of (Z_a - Z_b) / sd_ab`` (or of its absolute value)
    over the rows of ``z`` (draws x units)."""
    draws = z.shape[0]
    a, b = pairs[:, 0], pairs[:, 1]
    scale = 1.0 / sd[a, b]
    best = np.full(draws, -np.inf)
    step = max(1, _CHUNK // max(len(pairs), 1))
    for start in range(0, draws, step):
        block = (z[start:start + step, a] - z[start:start + step, b]) * scale
        if absolute:
            block = np.abs(block)
        best[start:start + step] = block.max(axis=1)
    return float(np.quantile(best, coverage))


def _sets_for(x: np.ndarray, sims: _Draws, sd: np.ndarray, interest: np.ndarray, coverage: float,
              stepdown: bool):
    """Lower/upper rank bounds of the units in ``interest`` (bool mask), jointly."""
    p = len(x)
    diff = x[:, None] - x[None, :]
    off_diagonal = ~np.eye(p, dtype=bool)
    steps: list[float] = []
    if stepdown:
        active = (interest[:, None] | interest[None, :]) & off_diagonal
        surely_above = np.zeros((p, p), dtype=bool)      # [a, b]: theta_a > theta_b surely
        while active.any():
            pairs = np.argwhere(active)
            c = _critical_value(sims.step(len(steps)), pairs, sd, coverage, absolute=False)
            steps.append(c)
            lower = diff[pairs[:, 0], pairs[:, 1]] - sd[pairs[:, 0], pairs[:, 1]] * c
            new = pairs[lower > 0]
            if not len(new):
                break
            surely_above[new[:, 0], new[:, 1]] = True
            active[new[:, 0], new[:, 1]] = False
        n_below = surely_above.sum(axis=1)          # units surely below j
        n_above = surely_above.sum(axis=0)          # units surely above j
    else:
        active = interest[:, None] & off_diagonal
        pairs = np.argwhere(active)
        if len(pairs):
            c = _critical_value(sims.step(0), pairs, sd, coverage, absolute=True)
            steps.append(c)
        else:
            c = np.inf
        lower = np.where(active, diff - sd * c, -np.inf)
        upper = np.where(active, diff + sd * c, np.inf)
        n_below = (lower > 0).sum(axis=1)
        n_above = (upper < 0).sum(axis=1)
    return n_above + 1, p - n_below, tuple(steps)


def _pair_maxima(z: np.ndarray, units: np.ndarray, inv_sd: np.ndarray, out_mask: np.ndarray,
                 in_mask: np.ndarray, absolute: bool) -> np.ndarray:
    """For each unit j of ``units``, per draw (row of ``z``), the maximum of ``(Z_j - Z_k) / sd_jk``
    over the k of ``out_mask[j]`` and of ``(Z_k - Z_j) / sd_kj`` over the k of ``in_mask[j]``
    (absolute values when ``absolute``); shape draws x len(units).

    Each pair's value is computed as :func:`_critical_value` computes it, so the maxima are the same
    numbers. When many pairs are active, one pass per unit k updates the maxima of all units; when
    few are (the later steps of a stepdown), only the active pairs are computed."""
    draws, p = z.shape
    r = len(units)
    out_m, in_m = out_mask[units], in_mask[units]
    n_pairs = int(out_m.sum() + in_m.sum())
    best = np.full((draws, r), -np.inf)
    if n_pairs * 2 < r * p:
        # few active pairs: (a, b, which unit), the maximum per unit by reduceat
        ju, ko = np.nonzero(out_m)
        ji, ki = np.nonzero(in_m)
        a = np.concatenate([units[ju], ki])
        b = np.concatenate([ko, units[ji]])
        owner = np.concatenate([ju, ji])
        order = np.argsort(owner, kind="stable")
        a, b, owner = a[order], b[order], owner[order]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        scale = inv_sd[a, b]
        step = max(1, _CHUNK // max(len(a), 1))
        for s0 in range(0, draws, step):
            vals = (z[s0:s0 + step, a] - z[s0:s0 + step, b]) * scale
            if absolute:
                vals = np.abs(vals)
            best[s0:s0 + step, owner[starts]] = np.maximum.reduceat(vals, starts, axis=1)
        return best
    # many active pairs: one pass per other unit k over all draws (arrays of draws x units, which
    # stay in cache), for the pairs (j, k) and, where active, (k, j)
    off = ~np.eye(p, dtype=bool)
    zu = z[:, units]
    both = not absolute and bool((out_m == off[units]).all() and (in_m == off[units]).all()) \
        and bool((inv_sd == inv_sd.T).all())
    use_in = in_m.any() and not both
    every_out = (absolute or both) and bool((out_m == off[units]).all())
    neg_out = np.where(out_m, 0.0, -np.inf)          # [j, k]
    neg_in = np.where(in_m, 0.0, -np.inf)            # [j, k]: pair (k, j) for unit j
    buf = np.empty((draws, r))
    for k in range(p):
        zk = z[:, k:k + 1]
        np.subtract(zu, zk, out=buf)                  # Z_j - Z_k
        np.multiply(buf, inv_sd[units, k], out=buf)
        if absolute or both:
            # both directions active and sd symmetric: (Z_k - Z_j)/sd_kj is exactly -(Z_j - Z_k)/sd_jk
            np.abs(buf, out=buf)
        if not every_out:       # (the diagonal's |0| never exceeds a maximum of |.| values)
            np.add(buf, neg_out[:, k], out=buf)
        np.maximum(best, buf, out=best)
        if use_in:
            np.subtract(zk, zu, out=buf)              # Z_k - Z_j
            np.multiply(buf, inv_sd[k, units], out=buf)
            if absolute:
                np.abs(buf, out=buf)
            np.add(buf, neg_in[:, k], out=buf)
            np.maximum(best, buf, out=best)
    return best


def _marginal_sets(x: np.ndarray, sims: _Draws, sd: np.ndarray, coverage: float, stepdown: bool):
    """The marginal set of every unit, all units at once (vectorised over units).

    Unit j's set is what :func:`_sets_for` gives with ``interest`` = {j}: the pairs (j, k) and
    (k, j), the stepdown run separately for each unit (step s of every unit uses the same s-th block
    of draws); units whose stepdown has stopped drop out of the later steps."""
    p = len(x)
    diff = x[:, None] - x[None, :]
    off = ~np.eye(p, dtype=bool)
    with np.errstate(divide="ignore"):
        inv_sd = np.where(off, 1.0 / np.where(off, sd, 1.0), 0.0)
    steps: list[list[float]] = [[] for _ in range(p)]
    if not stepdown:
        c = np.quantile(_pair_maxima(sims.step(0), np.arange(p), inv_sd, off, np.zeros_like(off),
                                     absolute=True), coverage, axis=0)
        for j in range(p):
            steps[j].append(float(c[j]))
        lower_b = diff - sd * c[:, None]          # row j: theta_j - theta_k > 0 surely
        upper_b = diff + sd * c[:, None]
        n_below = ((lower_b > 0) & off).sum(axis=1)
        n_above = ((upper_b < 0) & off).sum(axis=1)
        return (n_above + 1).astype(int), (p - n_below).astype(int), tuple(tuple(s) for s in steps)
    out_active = off.copy()      # [j, k]: pair (j, k) still active in unit j's stepdown
    in_active = off.copy()       # [j, k]: pair (k, j) still active in unit j's stepdown
    surely_below = np.zeros((p, p), dtype=bool)   # [j, k]: theta_j > theta_k surely (k below j)
    surely_above = np.zeros((p, p), dtype=bool)   # [j, k]: theta_k > theta_j surely (k above j)
    running = np.arange(p)
    s = 0
    while len(running):
        running = running[(out_active[running] | in_active[running]).any(axis=1)]
        if not len(running):
            break
        c = np.quantile(_pair_maxima(sims.step(s), running, inv_sd, out_active, in_active, absolute=False),
                        coverage, axis=0)
        for j, cj in zip(running, c):
            steps[j].append(float(cj))
        cr = c[:, None]
        new_out = out_active[running] & (diff[running] - sd[running] * cr > 0)
        new_in = in_active[running] & (diff.T[running] - sd.T[running] * cr > 0)
        surely_below[running] |= new_out
        surely_above[running] |= new_in
        out_active[running] &= ~new_out
        in_active[running] &= ~new_in
        running = running[(new_out | new_in).any(axis=1)]
        s += 1
    return (surely_above.sum(axis=1) + 1).astype(int), (p - surely_below.sum(axis=1)).astype(int), \
        tuple(tuple(st) for st in steps)


def rank_confidence_sets(estimates: np.ndarray, cov: np.ndarray, *, coverage: float = 0.95,
                         simultaneous: bool = False, stepdown: bool = True, draws: int = 10_000,
                         seed: int = 20240101) -> RankSets:
    """Confidence sets for the ranks of all units from estimates and their covariance.

    Parameters
    ----------
    estimates
        The p estimates ``x`` (higher is better; rank 1 = highest).
    cov
        Their p x p covariance matrix (``np.diag(se**2)`` for independent estimates).
    coverage
        Nominal coverage ``1 - alpha``.
    simultaneous
        False: a marginal set for each unit (covers that unit's rank); True: simultaneous sets
        (cover all ranks jointly).
    stepdown
        Use the stepwise refinement (tighter sets, same coverage).
    draws
        Number of simulated draws from ``N(0, cov)`` per critical value.
    seed
        Seed of ``numpy.random.default_rng`` (the same seed gives the same sets).

    Returns
    -------
    RankSets

    Notes
    -----
    See the module docstring: ``L_j = 1 + #{k surely above j}``, ``U_j = p - #{k surely below j}``
    from simultaneous one-sided bounds for the differences ``theta_j - theta_k`` with a max-t critical
    value (Mogstad, Romano, Shaikh & Wilhelm 2024), as ``csranks::csranks``.
    """
    x = np.asarray(estimates, float)
    cov = np.asarray(cov, float)
    _check_inputs(x, cov, coverage, draws)
    p = len(x)
    rank = estimated_ranks(x)
    if p == 1:
        one = np.ones(1, dtype=int)
        return RankSets(rank, one, one.copy(), ((),))
    var = np.diag(cov)
    sd2 = var[:, None] + var[None, :] - 2 * cov
    off = ~np.eye(p, dtype=bool)
    if (sd2[off] <= 1e-14 * var.max()).any() or var.max() == 0:
        a, b = np.argwhere((sd2 <= 1e-14 * var.max()) & off)[0]
        raise ValueError(f"cov: the difference of units {a} and {b} has variance 0 (perfectly correlated "
                         "estimates); such units cannot be told apart")
    sd = np.sqrt(np.maximum(sd2, 0))
    sims = _Draws(_normal_factor(cov), int(draws), seed)
    if simultaneous:
        lo, up, steps = _sets_for(x, sims, sd, np.ones(p, dtype=bool), coverage, stepdown)
        return RankSets(rank, lo.astype(int), up.astype(int), (steps,))
    lower, upper, all_steps = _marginal_sets(x, sims, sd, coverage, stepdown)
    return RankSets(rank, lower, upper, all_steps)


def format_rank(rank: int, of: int, lower: int, upper: int) -> str:
    """The Danish display of a rank with its confidence set.

    >>> format_rank(3, 13, 2, 7)
    'nr. 3 af 13 (sikkert mellem 2 og 7)'
    >>> format_rank(1, 13, 1, 1)
    'nr. 1 af 13 (sikkert nr. 1)'
    """
    for name, value in (("rank", rank), ("of", of), ("lower", lower), ("upper", upper)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name}: expected a positive whole number, got {value!r}")
    if not (lower <= upper <= of):
        raise ValueError(f"lower, upper, of: expected 1 <= lower <= upper <= of, got lower={lower}, "
                         f"upper={upper}, of={of}")
    if rank > of:
        raise ValueError(f"rank: expected at most of={of}, got {rank}")
    if lower == upper:
        return f"nr. {int(rank)} af {int(of)} (sikkert nr. {int(lower)})"
    return f"nr. {int(rank)} af {int(of)} (sikkert mellem {int(lower)} og {int(upper)})"


@dataclass(frozen=True)
class RankConfidence:
    """Ranks with marginal and simultaneous confidence sets for a table of units.

    Parameters
    ----------
    coverage
        Nominal coverage of the confidence sets (default 0.95).
    stepdown
        Use the stepwise refinement (default True, as ``csranks``).
    draws
        Simulated draws per critical value (default 10 000).
    seed
        Seed of the simulation (results are reproducible).
    min_n
        Reporting minimum: a unit with fewer answers than this is not ranked (default 30).
    label_from
        Which set the Danish label shows: ``"marginal"`` (default: 'where is this municipality')
        or ``"simultaneous"``.

    Notes
    -----
    The ranks and sets are computed among the ranked units only (``p`` = their number, shown as
    'af p'); units below ``min_n`` or without an estimate keep their row with ``ranked = False``,
    their ``status`` and a Danish ``label`` saying why. See :func:`rank_confidence_sets` for the
    method (Mogstad, Romano, Shaikh & Wilhelm 2024).
    """

    coverage: float = 0.95
    stepdown: bool = True
    draws: int = 10_000
    seed: int = 20240101
    min_n: int = 30
    label_from: str = "marginal"

    def __post_init__(self) -> None:
        if not (0 < self.coverage < 1):
            raise ValueError(f"coverage: expected a probability strictly between 0 and 1 (e.g. 0.95), got {self.coverage!r}")
        if isinstance(self.min_n, bool) or int(self.min_n) != self.min_n or self.min_n < 0:
            raise ValueError(f"min_n: expected a whole number >= 0 (the reporting minimum of answers), got {self.min_n!r}")
        if self.label_from not in ("marginal", "simultaneous"):
            raise ValueError(f"label_from: expected 'marginal' or 'simultaneous', got {self.label_from!r}")
        if isinstance(self.draws, bool) or int(self.draws) != self.draws or self.draws < 100:
            raise ValueError(f"draws: expected an integer >= 100, got {self.draws!r}")

    def __call__(self, table: pd.DataFrame, cov: np.ndarray | None = None, *, unit: str = "kommune",
                 estimate: str = "estimate", se: str = "se", n: str = "n") -> pd.DataFrame:
        """Rank the units of ``table``.

        Parameters
        ----------
        table
            One row per unit with columns ``unit``, ``estimate``, ``se`` and ``n`` (answers).
        cov
            Covariance of the estimates, rows and columns in the order of ``table``; default
            ``diag(se**2)`` (independent estimates, as municipalities in different strata).

        Returns
        -------
        pandas.DataFrame
            The input columns and: ``ranked``, ``status`` (``ranked``, ``below_min_n``,
            ``no_estimate``), ``rank``, ``of``, ``lower``/``upper`` (marginal set),
            ``lower_simultaneous``/``upper_simultaneous``, and ``label`` (Danish, e.g.
            'nr. 3 af 13 (sikkert mellem 2 og 7)' or 'ikke rangeret: 12 svar (under 30)').
            Integer columns are nullable (``Int64``), empty for units not ranked.
        """
        missing = [c for c in (unit, estimate, se, n) if c not in table.columns]
        if missing:
            raise ValueError(f"table: missing column(s) {missing}; expected columns {[unit, estimate, se, n]}, "
                             f"got {list(table.columns)}")
        if table[unit].duplicated().any():
            dup = table.loc[table[unit].duplicated(), unit].tolist()[:5]
            raise ValueError(f"table: column {unit!r} must name each unit once; repeated: {dup}")
        x = pd.to_numeric(table[estimate], errors="coerce").to_numpy(float)
        s = pd.to_numeric(table[se], errors="coerce").to_numpy(float)
        counts = pd.to_numeric(table[n], errors="coerce").to_numpy(float)
        if np.isnan(counts).any() or (counts < 0).any():
            bad = table.loc[np.isnan(counts) | (counts < 0), unit].tolist()[:5]
            raise ValueError(f"table: column {n!r} must hold the number of answers (>= 0) for every unit; "
                             f"missing or negative for {bad}")
        has_estimate = np.isfinite(x) & (np.isfinite(s) if cov is None else True)
        if cov is not None:
            cov = np.asarray(cov, float)
            if cov.shape != (len(table), len(table)):
                raise ValueError(f"cov: expected a {len(table)} x {len(table)} matrix in the row order of table, "
                                 f"got shape {cov.shape}")
            has_estimate &= np.isfinite(np.diag(cov))
        big_enough = counts >= self.min_n
        ranked = has_estimate & big_enough
        idx = np.flatnonzero(ranked)
        p = len(idx)
        out = table.copy().reset_index(drop=True)
        out["ranked"] = ranked
        out["status"] = np.where(ranked, STATUS_RANKED, np.where(has_estimate, STATUS_BELOW_MIN, STATUS_NO_ESTIMATE))
        for col in ("rank", "of", "lower", "upper", "lower_simultaneous", "upper_simultaneous"):
            out[col] = pd.array([pd.NA] * len(out), dtype="Int64")
        if p:
            sub_cov = np.diag(s[idx] ** 2) if cov is None else cov[np.ix_(idx, idx)]
            kwargs = dict(coverage=self.coverage, stepdown=self.stepdown, draws=self.draws, seed=self.seed)
            marginal = rank_confidence_sets(x[idx], sub_cov, simultaneous=False, **kwargs)
            joint = rank_confidence_sets(x[idx], sub_cov, simultaneous=True, **kwargs)
            out.loc[idx, "rank"] = marginal.rank
            out.loc[idx, "of"] = p
            out.loc[idx, "lower"] = marginal.lower
            out.loc[idx, "upper"] = marginal.upper
            out.loc[idx, "lower_simultaneous"] = joint.lower
            out.loc[idx, "upper_simultaneous"] = joint.upper
        suffix = "" if self.label_from == "marginal" else "_simultaneous"
        labels = []
        for i in range(len(out)):
            if ranked[i]:
                labels.append(format_rank(int(out.at[i, "rank"]), p, int(out.at[i, "lower" + suffix]),
                                          int(out.at[i, "upper" + suffix])))
            elif has_estimate[i]:
                labels.append(f"ikke rangeret: {int(counts[i])} svar (under {self.min_n})")
            else:
                labels.append("ikke rangeret: intet estimat")
        out["label"] = labels
        return out


def means_and_covariance(design: SurveyDesign, y: np.ndarray, group: np.ndarray,
                         labels: list[str] | np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Mean of ``y`` per group with the full linearized covariance of the group means.

    Parameters
    ----------
    design
        The survey design.
    y
        Score per row; NaN where not answered.
    group
        Group code per row (0..G-1), or -1 for rows in no group.
    labels
        Names of the G groups (default 0..G-1).

    Returns
    -------
    table : pandas.DataFrame
        ``group``, ``estimate``, ``se``, ``n`` (answers) per group, the input of :class:`RankConfidence`.
    cov : numpy.ndarray
        G x G covariance of the estimates.

    Notes
    -----
    Each group mean is a domain mean of the design; the covariance is
    :func:`survey_lib.estimate.linearized_covariance` with one domain column per group (equal to
    ``vcov(svyby(~y, ~group, d, svymean, covmat = TRUE))`` in R ``survey``).
    """
    y = np.asarray(y, float)
    group = np.asarray(group)
    if len(y) != design.n or len(group) != design.n:
        raise ValueError(f"y, group: expected one value per design row ({design.n}), got {len(y)} and {len(group)}")
    G = int(group.max()) + 1 if len(group) and group.max() >= 0 else 0
    if labels is not None:
        if len(labels) < G:
            raise ValueError(f"labels: expected a name for each of the {G} groups, got {len(labels)}")
        G = len(labels)
    answered = ~np.isnan(y)
    domain = (group[:, None] == np.arange(G)[None, :]) & answered[:, None]
    mean, cov = linearized_covariance(design, domain, np.repeat(np.nan_to_num(y)[:, None], G, axis=1))
    n = domain.sum(axis=0)
    table = pd.DataFrame({"group": list(labels) if labels is not None else list(range(G)),
                          "estimate": np.where(n > 0, mean, np.nan), "se": np.sqrt(np.maximum(np.diag(cov), 0)),
                          "n": n})
    table.loc[n == 0, "se"] = np.nan
    return table, cov
