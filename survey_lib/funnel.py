"""Funnel plot control limits for comparing units (municipalities) against a target
(Spiegelhalter 2005).

A funnel plot shows each unit's score against its number of respondents ``n`` (or effective
``n``), with the target (the overall mean) and control limits that narrow as ``n`` grows. A unit
outside the 95 % limits differs from the target more than chance alone would make it about once in
20 such units; outside the 99.8 % limits about once in 500.

Notes
-----
For a mean score with individual standard deviation ``sigma`` (Spiegelhalter 2005, Section 3 and
the normal case of the Appendix), a unit with ``n`` respondents has limits

    target +- z_p * sigma / sqrt(n),    z_p = Phi^-1(1 - (1 - p) / 2),

so ``z = 1.959964`` at p = 95 % and ``z = 3.090232`` at p = 99.8 %. For a proportion (``outcome =
"proportion"``), the normal approximation ``sigma = sqrt(target (1 - target))`` is used (Section 3.1).

Defaults, when the caller does not pass them:

- ``target``: the n-weighted mean of the units' estimates, ``sum n_i y_i / sum n_i``; pass the
  design-based overall mean when it is known (the municipality means are then compared with it);
- ``sigma``: pooled from the units' standard errors, ``sigma^2 = sum n_i (n_i se_i^2) / sum n_i``
  (``n_i se_i^2`` estimates each unit's ``sigma_i^2``; with design-based standard errors this makes
  ``n`` the effective sample size it implies).

A unit is outside a limit when its estimate is strictly above the upper or strictly below the lower
limit. No over-dispersion adjustment is made (Spiegelhalter 2005, Section 5, describes one).

References
----------
Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
*Statistics in Medicine* 24, 1185-1202. doi:10.1002/sim.1970.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["FunnelLimits", "FunnelResult", "POSITION_INSIDE"]

POSITION_INSIDE = "inside"


def _level_code(level: float) -> str:
    """'95' for 0.95, '998' for 0.998 (the column and position suffix)."""
    return f"{level * 100:g}".replace(".", "")


def _level_da(level: float) -> str:
    return f"{level * 100:g}".replace(".", ",") + " %"


@dataclass(frozen=True)
class FunnelResult:
    """A funnel plot's numbers.

    Attributes
    ----------
    units
        One row per unit: the input columns and ``target``, ``lower_<code>``/``upper_<code>`` per
        level (code ``95``, ``998``), ``position`` (``inside``, ``outside_95``, ``outside_998``: the
        widest limit the unit is outside), ``direction`` (``above``, ``below`` or empty) and a Danish
        ``label``.
    curves
        The limits for plotting, tidy: ``n``, ``level``, ``lower``, ``upper``, one row per grid point
        and level (``n`` spans the units' smallest to largest n, geometrically spaced).
    target
        The target (centre line).
    sigma
        The individual standard deviation the limits use.
    """

    units: pd.DataFrame
    curves: pd.DataFrame
    target: float
    sigma: float


@dataclass(frozen=True)
class FunnelLimits:
    """Funnel-plot limits and each unit's position (Spiegelhalter 2005).

    Parameters
    ----------
    levels
        Coverage levels of the limits, increasing (default 95 % and 99.8 %).
    outcome
        ``"mean"`` (a score; ``sigma`` given or pooled from the standard errors) or ``"proportion"``
        (``sigma = sqrt(target (1 - target))``).
    target
        The centre line; None: the n-weighted mean of the units' estimates.
    sigma
        Individual standard deviation for ``outcome="mean"``; None: pooled from the ``se`` column.
    grid_points
        Number of n values in ``curves``.

    Notes
    -----
    Limits ``target +- z_p sigma / sqrt(n)``; see the module docstring for the defaults.
    """

    levels: tuple[float, ...] = (0.95, 0.998)
    outcome: str = "mean"
    target: float | None = None
    sigma: float | None = None
    grid_points: int = 200

    def __post_init__(self) -> None:
        levels = tuple(self.levels)
        if not levels or any(not (0 < lv < 1) for lv in levels) or list(levels) != sorted(set(levels)):
            raise ValueError(f"levels: expected increasing probabilities strictly between 0 and 1, e.g. (0.95, 0.998); "
                             f"got {self.levels!r}")
        if self.outcome not in ("mean", "proportion"):
            raise ValueError(f"outcome: expected 'mean' or 'proportion', got {self.outcome!r}")
        if self.sigma is not None and not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma: expected a positive number or None, got {self.sigma!r}")
        if self.sigma is not None and self.outcome == "proportion":
            raise ValueError("sigma: leave it None for outcome='proportion' (sigma = sqrt(target (1 - target)))")
        if self.target is not None and not np.isfinite(self.target):
            raise ValueError(f"target: expected a finite number or None, got {self.target!r}")
        if self.outcome == "proportion" and self.target is not None and not (0 < self.target < 1):
            raise ValueError(f"target: a proportion's target must lie strictly between 0 and 1, got {self.target!r}")
        if isinstance(self.grid_points, bool) or int(self.grid_points) != self.grid_points or self.grid_points < 2:
            raise ValueError(f"grid_points: expected a whole number >= 2, got {self.grid_points!r}")

    def z_values(self) -> np.ndarray:
        """``Phi^-1(1 - (1 - p) / 2)`` for each level p."""
        return stats.norm.ppf(1 - (1 - np.asarray(self.levels, float)) / 2)

    def limits(self, n: np.ndarray | float, target: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits at ``n`` (arrays of shape ``(len(n), len(levels))``)."""
        n = np.atleast_1d(np.asarray(n, float))
        with np.errstate(divide="ignore"):
            half = self.z_values()[None, :] * sigma / np.sqrt(n)[:, None]
        return target - half, target + half

    def __call__(self, table: pd.DataFrame, *, unit: str = "kommune", estimate: str = "estimate",
                 n: str = "n", se: str = "se") -> FunnelResult:
        """Limits and positions for the units of ``table``.

        Parameters
        ----------
        table
            One row per unit: ``unit``, ``estimate``, ``n`` (respondents or effective n), and ``se``
            when ``sigma`` must be pooled from it.

        Returns
        -------
        FunnelResult
        """
        need = [unit, estimate, n] + ([se] if self.outcome == "mean" and self.sigma is None else [])
        missing = [c for c in need if c not in table.columns]
        if missing:
            raise ValueError(f"table: missing column(s) {missing}; expected {need}, got {list(table.columns)}")
        y = pd.to_numeric(table[estimate], errors="coerce").to_numpy(float)
        m = pd.to_numeric(table[n], errors="coerce").to_numpy(float)
        if np.isnan(m).any() or (m < 0).any():
            bad = table.loc[np.isnan(m) | (m < 0), unit].tolist()[:5]
            raise ValueError(f"table: column {n!r} must be a number >= 0 for every unit; missing or negative for {bad}")
        use = np.isfinite(y) & (m > 0)
        if not use.any():
            raise ValueError(f"table: no unit has both an estimate in {estimate!r} and {n!r} > 0")
        target = self.target if self.target is not None else float(np.sum(m[use] * y[use]) / np.sum(m[use]))
        if self.outcome == "proportion":
            if not (0 < target < 1):
                raise ValueError(f"target: the pooled proportion is {target!r}; funnel limits need 0 < target < 1")
            sigma = float(np.sqrt(target * (1 - target)))
        elif self.sigma is not None:
            sigma = float(self.sigma)
        else:
            s = pd.to_numeric(table[se], errors="coerce").to_numpy(float)
            ok = use & np.isfinite(s)
            if not ok.any():
                raise ValueError(f"table: column {se!r} has no standard error to pool sigma from; pass sigma=")
            sigma = float(np.sqrt(np.sum(m[ok] * m[ok] * s[ok] ** 2) / np.sum(m[ok])))
        lower, upper = self.limits(np.where(m > 0, m, np.nan), target, sigma)
        out = table.copy().reset_index(drop=True)
        out["target"] = target
        codes = [_level_code(lv) for lv in self.levels]
        for i, code in enumerate(codes):
            out[f"lower_{code}"] = lower[:, i]
            out[f"upper_{code}"] = upper[:, i]
        outside = use[:, None] & ((y[:, None] > upper) | (y[:, None] < lower))     # (units, levels)
        position = np.full(len(out), POSITION_INSIDE, dtype=object)
        label = np.full(len(out), "inden for grænserne", dtype=object)
        direction = np.where(use & (y > target), "above", np.where(use & (y < target), "below", ""))
        for i, code in enumerate(codes):      # increasing levels: the widest limit exceeded wins
            hit = outside[:, i]
            position[hit] = f"outside_{code}"
            word = np.where(y[hit] > target, "over den øvre", "under den nedre")
            label[hit] = [f"{w} {_level_da(self.levels[i])}-grænse" for w in word]
        position[~use] = ""
        label[~use] = "intet estimat"
        direction[~use] = ""
        out["position"] = position
        out["direction"] = np.where(outside.any(axis=1), direction, "")
        out["label"] = label
        lo_n, hi_n = float(m[use].min()), float(m[use].max())
        grid = np.geomspace(lo_n, hi_n, self.grid_points) if hi_n > lo_n else np.array([lo_n])
        g_lower, g_upper = self.limits(grid, target, sigma)
        curves = pd.DataFrame({
            "n": np.repeat(grid, len(self.levels)),
            "level": np.tile(np.asarray(self.levels, float), len(grid)),
            "lower": g_lower.ravel(), "upper": g_upper.ravel()})
        return FunnelResult(units=out, curves=curves, target=float(target), sigma=sigma)
