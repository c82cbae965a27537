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


class _Margin:
    """One margin of a group's raking: its respondents' categories as codes (factorised once, in
    sorted order; -1 for a missing value) and the population count of each category."""

    def __init__(self, values: pd.Series, target: pd.Series) -> None:
        self.codes, labels = pd.factorize(values, sort=True)
        self.labels = pd.Index(labels)
        self.observed = np.flatnonzero(self.codes >= 0)
        self.target = target
        # the population count of each observed category (NaN where the population has none)
        self.target_of_label = target.reindex(self.labels).to_numpy(dtype=float, na_value=np.nan)
        self.missing = [c for c in target.index if c not in set(self.labels)]

    def current(self, w: np.ndarray) -> np.ndarray:
        """The weight sum of each observed category: pandas' grouped sum (as grouping by the labels
        would give: the same weights, in the same order, summed the same way)."""
        part = w if len(self.observed) == len(w) else w[self.observed]
        return pd.Series(part).groupby(self.codes[self.observed]).sum().to_numpy()


def _max_skipna(values: np.ndarray) -> float:
    """The largest value that is not NaN (NaN if there is none), as pandas' ``Series.max``."""
    values = values[~np.isnan(values)]
    return float(values.max()) if len(values) else float("nan")


def rake(respondents: pd.DataFrame, population: pd.DataFrame, settings: WeightingSettings) -> WeightResult:
    """Rake respondents' weights to the population margins of ``settings.cells``."""
    cells = list(settings.cells)
    mask = (respondents["status"] == "complete").to_numpy() if settings.respondents == "complete" else None
    by, margins = _split(cells)
    w = pd.Series(np.nan, index=respondents.index, name="weight")
    rows = []
    groups = respondents.groupby(by) if by else [((), respondents)]
    # the population of each group (as pop[pop[b] == k] for each b, rows in their order), split once
    pops = ({k if isinstance(k, tuple) else (k,): g for k, g in population.groupby(by, sort=False)}
            if by else {(): population})
    for key, grp in groups:
        key = key if isinstance(key, tuple) else (key,)
        pop = pops.get(key, population.iloc[0:0])
        counted = grp if mask is None else grp[mask[respondents.index.get_indexer(grp.index)]]
        if counted.empty:
            raise WeightingError(f"no respondents to rake in {dict(zip(by, key))}")
        # each margin's population counts and its respondents' categories computed once, not in
        # every iteration; the arithmetic is that of the labelled Series, element by element
        margin = {v: _Margin(counted[v], pop[v].value_counts()) for v in margins}
        wv = np.full(len(counted), len(pop) / len(counted))
        for _ in range(settings.rake_iterations):
            worst = 0.0
            for v in margins:
                m = margin[v]
                if m.missing:
                    raise WeightingError(
                        f"raking: no respondents with {v}={m.missing[0]!r} in {dict(zip(by, key))}; "
                        "use poststratify with collapsing, or drop that margin from weighting.cells")
                current = m.current(wv)
                ratio = m.target_of_label / current
                factor = np.where(m.codes >= 0, ratio[np.maximum(m.codes, 0)], np.nan)
                worst = max(worst, _max_skipna(np.abs(current / m.target_of_label - 1)))
                wv = wv * factor
            if worst < settings.rake_tolerance:
                break
        wi = pd.Series(wv, index=counted.index)
        w.loc[wi.index] = wi
        for v in margins:
            for c, n in margin[v].target.items():
                rows.append({**dict(zip(by, key)), "variable": v, "category": c, "population": int(n),
                             "respondents": int((counted[v] == c).sum()),
                             "weighted": float(wi[counted[v] == c].sum())})
    if mask is not None:   # partial respondents take the mean weight of their margins' cell
        filler = w.groupby([respondents[c] for c in cells]).transform("mean")
        w = w.fillna(filler)
        w = w.fillna(w.mean())
    return WeightResult(weights=w, post_stratum=None, strata=pd.DataFrame(rows), collapses=pd.DataFrame(
        columns=["cell", "merged_into", "rule", "reason"]), method="rake")
