"""Post-stratification: the report's strataratio.

Notes
-----
For a respondent in (collapsed) cell h, the weight is

    w_h = N_h / n_h

with N_h the population count of the cell and n_h its number of respondents (all respondents, or
complete ones only: ``WeightingSettings.respondents``). This is the report's appendix formula
('strataratio = antal borgere i population for stratum / antal komplette besvarelser for stratum')
and, with all respondents, the weight of R ``survey``'s ``postStratify`` (Lumley 2010, ch. 7).
"""

from __future__ import annotations

import pandas as pd

from .base import WeightResult
from .cells import cell_table, collapse_cells
from .settings import WeightingSettings

__all__ = ["poststratify"]


def poststratify(respondents: pd.DataFrame, population: pd.DataFrame, settings: WeightingSettings) -> WeightResult:
    """Post-stratify ``respondents`` (rows: respondents with the cell variables and ``status``) to
    ``population`` (rows: citizens with the cell variables)."""
    cells = list(settings.cells)
    mask = (respondents["status"] == "complete") if settings.respondents == "complete" else None
    table = cell_table(respondents, population, cells, mask)
    labels, log = collapse_cells(table, cells, settings.min_respondents, list(settings.age_order))
    table["post_stratum"] = labels
    strata = table.groupby("post_stratum", sort=True).agg(
        population=("population", "sum"), respondents=("respondents", "sum"),
        members=("post_stratum", "size")).reset_index()
    strata["weight"] = strata["population"] / strata["respondents"]
    first = table.drop_duplicates("post_stratum").set_index("post_stratum")[cells]
    strata = strata.join(first, on="post_stratum")[["post_stratum"] + cells + ["population", "respondents", "weight", "members"]]
    key = pd.MultiIndex.from_frame(respondents[cells])
    cell_label = table.set_index(cells)["post_stratum"]
    ps = pd.Series(cell_label.reindex(key).to_numpy(), index=respondents.index, name="post_stratum")
    w = ps.map(strata.set_index("post_stratum")["weight"]).rename("weight")
    return WeightResult(weights=w, post_stratum=ps, strata=strata, collapses=log, method="poststratify",
                        population_counts=strata.set_index("post_stratum")["population"])
