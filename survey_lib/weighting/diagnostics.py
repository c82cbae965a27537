"""Weight diagnostics and the warnings they give (:func:`weight_warnings`).

Notes
-----
Kish's design effect due to unequal weights: deff = n sum(w^2) / (sum w)^2 = 1 + CV^2 (population
CV of the weights), and the effective sample size n_eff = n / deff = (sum w)^2 / sum(w^2) (Kish 1965).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["weight_summary", "weight_warnings", "WarningThresholds", "WARNING_COLUMNS"]


def _summary(w: np.ndarray) -> dict[str, float]:
    n = len(w)
    s1, s2 = w.sum(), (w ** 2).sum()
    deff = n * s2 / s1 ** 2 if n else np.nan
    return {"respondents": n, "sum_weights": s1, "min": w.min() if n else np.nan,
            "q1": np.quantile(w, 0.25) if n else np.nan, "median": np.median(w) if n else np.nan,
            "q3": np.quantile(w, 0.75) if n else np.nan, "max": w.max() if n else np.nan,
            "cv": w.std() / w.mean() if n else np.nan, "deff_kish": deff, "n_effective": n / deff if n else np.nan}


def weight_summary(weights: pd.Series, kommune: pd.Series) -> pd.DataFrame:
    """One row for all respondents (``kommune`` = 'all') and one per municipality."""
    rows = [{"kommune": "all", **_summary(weights.to_numpy(float))}]
    for k, w in weights.groupby(kommune, sort=True):
        rows.append({"kommune": k, **_summary(w.to_numpy(float))})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class WarningThresholds:
    """When a municipality's weights get a warning (``survey.yaml``).

    Attributes
    ----------
    max_design_effect
        ``batch.max_design_effect``: Kish's design effect above this.
    min_effective_n
        ``batch.min_effective_n``: effective number of respondents below this.
    max_weight_ratio
        ``weighting.max_weight_ratio``: largest weight above this multiple of the median weight.
    max_collapsed_share
        ``weighting.max_collapsed_share``: more than this share of the population in merged cells.
    """

    max_design_effect: float = 2.0
    min_effective_n: int = 100
    max_weight_ratio: float = 10.0
    max_collapsed_share: float = 0.25


WARNING_COLUMNS = ["kommune", "kind", "value", "threshold", "text"]


def _da(x: float, decimals: int = 2) -> str:
    return f"{x:,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def weight_warnings(summary: pd.DataFrame, strata: pd.DataFrame, collapses: pd.DataFrame,
                    cells: tuple[str, ...] | list[str], thresholds: WarningThresholds) -> pd.DataFrame:
    """The warnings on a weighting, one row each: ``kommune`` (or 'all'), ``kind``, ``value``,
    ``threshold`` and the Danish ``text`` the weighting page and the validation report show.

    Parameters
    ----------
    summary
        :func:`weight_summary` (one row for 'all' and one per municipality).
    strata
        The weighting cells (``WeightResult.strata``: post-strata with ``population`` and
        ``members``, the number of original cells merged into each; raking margins have no
        ``members`` and no collapses).
    collapses
        The collapse log (``WeightResult.collapses``).
    cells
        The cell variables (the log's cells are written ``v1/v2/...`` in this order).
    thresholds
        :class:`WarningThresholds`.

    Notes
    -----
    Kinds: ``design_effect`` (deff above the threshold), ``effective_n`` (n / deff below it, per
    municipality only), ``largest_weight`` (max w / median w above the ratio), ``collapsed_share``
    (population of the post-strata made of more than one cell, as a share of the municipality's
    population, above the share), ``collapse_across_maalgruppe`` (a cell merged into another
    målgruppe: its citizens are weighted as another group's), ``cells_across_municipalities``
    (weighting cells without ``kommune``: every cell spans the municipalities, so a municipality's
    weights carry the national composition).
    """
    t = thresholds
    rows = []
    for r in summary.itertuples():
        k = str(r.kommune)
        if r.respondents == 0:
            continue
        if r.deff_kish > t.max_design_effect:
            rows.append((k, "design_effect", float(r.deff_kish), t.max_design_effect,
                         f"designeffekt {_da(r.deff_kish)} over {_da(t.max_design_effect)}"))
        if k != "all" and r.n_effective < t.min_effective_n:
            rows.append((k, "effective_n", float(r.n_effective), float(t.min_effective_n),
                         f"effektivt n {_da(r.n_effective, 0)} under {t.min_effective_n}"))
        ratio = float(r.max / r.median) if r.median > 0 else np.inf
        if ratio > t.max_weight_ratio:
            rows.append((k, "largest_weight", ratio, t.max_weight_ratio,
                         f"største vægt {_da(r.max, 1)} er {_da(ratio, 1)} × medianvægten (over "
                         f"{_da(t.max_weight_ratio, 0)} ×)"))
    if "kommune" in strata.columns and "members" in strata.columns and len(strata):
        merged = strata["members"] > 1
        pop = strata.groupby("kommune", sort=True)["population"].sum()
        share = strata[merged].groupby("kommune")["population"].sum().reindex(pop.index, fill_value=0) / pop
        for k, s in share.items():
            if s > t.max_collapsed_share:
                rows.append((str(k), "collapsed_share", float(s), t.max_collapsed_share,
                             f"{_da(100 * s, 1)} % af populationen i sammenlagte celler (over "
                             f"{_da(100 * t.max_collapsed_share, 1)} %)"))
    if len(collapses) and "rule" in collapses.columns:
        across = collapses[collapses["rule"] == "other målgruppe in the municipality"]
        if len(across) and "kommune" in cells:
            pos = list(cells).index("kommune")
            kom = across["cell"].astype(str).str.split("; ").str[0].str.split("/").str[pos]
            for k, n in kom.value_counts(sort=False).sort_index().items():
                rows.append((str(k), "collapse_across_maalgruppe", float(n), 0.0,
                             f"{n} celle(r) lagt sammen på tværs af målgruppe: borgerne vægtes som en anden "
                             "målgruppes"))
    if "kommune" not in cells:
        rows.append(("all", "cells_across_municipalities", np.nan, np.nan,
                     "vægtningscellerne går på tværs af kommunerne: en kommunes vægte følger landets sammensætning"))
    return pd.DataFrame(rows, columns=WARNING_COLUMNS)
