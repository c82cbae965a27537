"""Raking (iterative proportional fitting to the margins).

Notes
-----
Starting from w_i = N / n, the weights are multiplied in turn, for each cell variable v and each of
its categories c, by N_{v=c} / sum_{i: v_i=c} w_i, until every margin is met to ``rake_tolerance``
(Deming & Stephan 1940; Kalton & Flores-Cervantes 2003). Useful where the full cross of the cell
variables is too sparse (small municipalities): only the margins need respondents. Within each
municipality raking runs on the other margins when ``kommune`` is among the cells (margins are then
municipality-specific), so municipal totals are always exact.

Standard errors of estimates from raked weights are linearised on the margins, as R ``survey`` does
for ``rake(d0, list(~kommune + alder_band, ~kommune + koen, ...), ...)``: the margins (in
:func:`rake_margins`'s order, the order raking cycles through) travel with the design
(:class:`survey_lib.design.RakingMargins`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import WeightingError, WeightResult
from .settings import WeightingSettings

__all__ = ["rake", "rake_margins"]


def _split(cells: list[str]) -> tuple[list[str], list[str]]:
    """The variables raking runs within (``kommune`` when it is a cell) and the margins it fits."""
    by = ["kommune"] if "kommune" in cells else []
    return by, [c for c in cells if c not in by]


def rake_margins(cells: tuple[str, ...] | list[str]) -> tuple[tuple[str, ...], ...]:
    """The margins raking fits, as the variables each one crosses, in the order it fits them:
    ``(kommune, v)`` for every other cell variable v when ``kommune`` is a cell (raking within each
    municipality), else ``(v,)`` for every cell variable."""
    by, margins = _split(list(cells))
    return tuple(tuple(by) + (v,) for v in margins)


def rake(respondents: pd.DataFrame, population: pd.DataFrame, settings: WeightingSettings) -> WeightResult:
    """Rake respondents' weights to the population margins of ``settings.cells``."""
    cells = list(settings.cells)
    mask = (respondents["status"] == "complete").to_numpy() if settings.respondents == "complete" else None
    by, margins = _split(cells)
    w = pd.Series(np.nan, index=respondents.index, name="weight")
    rows = []
    groups = respondents.groupby(by) if by else [((), respondents)]
    for key, grp in groups:
        key = key if isinstance(key, tuple) else (key,)
        pop = population
        for b, k in zip(by, key):
            pop = pop[pop[b] == k]
        counted = grp if mask is None else grp[mask[respondents.index.get_indexer(grp.index)]]
        if counted.empty:
            raise WeightingError(f"no respondents to rake in {dict(zip(by, key))}")
        wi = pd.Series(len(pop) / len(counted), index=counted.index)
        for _ in range(settings.rake_iterations):
            worst = 0.0
            for v in margins:
                target = pop[v].value_counts()
                current = wi.groupby(counted[v]).sum()
                missing = [c for c in target.index if c not in current.index]
                if missing:
                    raise WeightingError(
                        f"raking: no respondents with {v}={missing[0]!r} in {dict(zip(by, key))}; "
                        "use poststratify with collapsing, or drop that margin from weighting.cells")
                factor = (target / current).reindex(counted[v]).to_numpy()
                worst = max(worst, float(np.abs(current / target.reindex(current.index) - 1).max()))
                wi = wi * factor
            if worst < settings.rake_tolerance:
                break
        w.loc[wi.index] = wi
        for v in margins:
            for c, n in pop[v].value_counts().items():
                rows.append({**dict(zip(by, key)), "variable": v, "category": c, "population": int(n),
                             "respondents": int((counted[v] == c).sum()),
                             "weighted": float(wi[counted[v] == c].sum())})
    if mask is not None:   # partial respondents take the mean weight of their margins' cell
        filler = w.groupby([respondents[c] for c in cells]).transform("mean")
        w = w.fillna(filler)
        w = w.fillna(w.mean())
    return WeightResult(weights=w, post_stratum=None, strata=pd.DataFrame(rows), collapses=pd.DataFrame(
        columns=["cell", "merged_into", "rule", "reason"]), method="rake")
