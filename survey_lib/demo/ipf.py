"""Iterative proportional fitting of category distributions over cells.

Used by the synthetic twin to find, for one question, a distribution over the answer categories in
every cell (for example municipality x målgruppe x gender x age band x status/duration) whose
(weighted) aggregates over each margin hit published target distributions.

Notes
-----
Each margin j groups the cells (``group[c]`` = -1 for cells outside it) and weights them
(``weight[c]``); its current distribution in group L is
``E[L, k] = sum_{c in L} w_c p[c, k] / sum_{c in L} w_c``. One sweep multiplies ``p[c, k]`` by
``T[L, k] / E[L, k]`` for each margin in turn and renormalises every row; this is Deming & Stephan's
(1940) raking applied to the cells x categories table, and converges to the minimum
Kullback–Leibler adjustment of the seed that meets all margins when they are consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Margin", "fit_cells", "fit_rates"]


@dataclass
class Margin:
    """Target distributions ``targets[L, k]`` for the groups ``group[c]`` (``-1`` = not in margin)."""

    group: np.ndarray
    weight: np.ndarray
    targets: np.ndarray
    tilt: np.ndarray | None = None   # per-cell exponent of the update (None: 1 everywhere)


def fit_cells(seed: np.ndarray, margins: list[Margin], iterations: int = 300, tol: float = 1e-9) -> np.ndarray:
    """Rake ``seed[c, k]`` (rows sum to 1) until every margin's weighted distributions meet its targets.

    Stops when a sweep changes no cell probability by more than ``tol`` (margins that contradict
    each other, such as rounded published figures, then end at a compromise).
    """
    p = seed.astype(float).copy()
    p /= p.sum(axis=1, keepdims=True)
    n_cells = p.shape[0]
    prepared = []
    for m in margins:
        inside = m.group >= 0
        onehot = np.zeros((m.targets.shape[0], n_cells))
        onehot[m.group[inside], np.flatnonzero(inside)] = m.weight[inside]
        tilt = None if m.tilt is None else m.tilt[inside][:, None]
        prepared.append((inside, m.group[inside], onehot, m.targets, tilt))
    for _ in range(iterations):
        before = p.copy()
        for inside, g, onehot, targets, tilt in prepared:
            num = onehot @ p
            den = num.sum(axis=1, keepdims=True)
            ok = den[:, 0] > 0
            e = np.where(ok[:, None], num / np.where(den > 0, den, 1), 0)
            factor = np.where((e > 0) & ok[:, None], targets / np.where(e > 0, e, 1), 1.0)
            p[inside] *= factor[g] if tilt is None else factor[g] ** tilt
            p[inside] /= p[inside].sum(axis=1, keepdims=True)
        if np.abs(p - before).max() < tol:
            break
    return p


def fit_rates(counts: np.ndarray, groups: list[np.ndarray], targets: list[np.ndarray], start: float,
              iterations: int = 300) -> np.ndarray:
    """Rates ``r[c]`` in [0, 1] such that ``sum_{c in L} counts[c] r[c]`` meets ``targets[j][L]`` for
    each grouping ``groups[j]`` (``-1`` = not in the grouping), by multiplicative fitting with clipping."""
    r = np.full(counts.shape, start, dtype=float)
    for _ in range(iterations):
        for g, t in zip(groups, targets):
            inside = g >= 0
            cur = np.zeros(len(t))
            np.add.at(cur, g[inside], counts[inside] * r[inside])
            f = np.where(cur > 0, t / np.where(cur > 0, cur, 1), 1.0)
            r[inside] = np.clip(r[inside] * f[g[inside]], 0.0, 1.0)
    return r
