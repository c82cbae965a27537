"""Weighting cells and the deterministic collapse of cells without (enough) respondents.

Rule (documented in docs/methods.md): a cell (age band x gender x municipality x målgruppe by
default) with population but fewer respondents than ``min_respondents`` is merged, within the same
municipality and målgruppe,

1. with a neighbouring age band of the same gender: of the two neighbours of the cell's age range
   (the older first, then the younger; the oldest band has only the younger), the first whose
   current post-stratum has respondents after earlier merges; if neither has any, the first
   neighbour, and the merged cell is merged again, then
2. with the other gender (the whole age range of the municipality x målgruppe), then
3. with the other målgruppe(s) of the municipality (the cell with most respondents).

Merging repeats until every cell meets the minimum. No population is ever lost: a merged cell carries
the population of all its members. If a whole municipality has fewer respondents than the minimum,
weighting is impossible and a WeightingError says so (the analysis leaves such a municipality out
before weighting: :mod:`survey_lib.exclusions`).
"""

from __future__ import annotations

import pandas as pd

from .base import WeightingError

__all__ = ["cell_table", "collapse_cells"]


def cell_table(respondents: pd.DataFrame, population: pd.DataFrame, cells: list[str],
               count_mask: pd.Series | None = None) -> pd.DataFrame:
    """Population and respondent counts per cell (all combinations present in the population).

    ``count_mask`` selects the respondents that count in the denominator (e.g. complete only).
    """
    pop = population.groupby(cells, observed=True, dropna=False).size().rename("population")
    resp_rows = respondents if count_mask is None else respondents[count_mask.to_numpy()]
    resp = resp_rows.groupby(cells, observed=True, dropna=False).size().rename("respondents")
    table = pd.concat([pop, resp], axis=1).fillna(0).astype(int).reset_index()
    missing = table[table["population"] == 0]
    if len(missing):
        first = missing.iloc[0]
        raise WeightingError(
            "respondents in a weighting cell that has no population: "
            + ", ".join(f"{c}={first[c]!r}" for c in cells)
            + f" ({len(missing)} such cell(s)); the population file must cover every respondent's cell")
    return table


def collapse_cells(table: pd.DataFrame, cells: list[str], min_respondents: int,
                   age_order: list[str], age_col: str = "alder_band", gender_col: str = "koen",
                   group_cols: tuple[str, str] = ("kommune", "maalgruppe")) -> tuple[pd.Series, pd.DataFrame]:
    """Assign every cell a post-stratum label after collapsing.

    Returns the label per row of ``table`` and a log with one row per merge (cell, into, rule, reason).
    Merges never cross a municipality, so each municipality is collapsed on its own (in the order
    the municipalities first appear): the same result as one pass over the whole table, without its
    cost growing with the square of the number of cells.
    """
    kommune_col = group_cols[0]
    if kommune_col not in table.columns or table[kommune_col].nunique() <= 1:
        return _collapse_one(table, cells, min_respondents, age_order, age_col, gender_col, group_cols)
    labels, logs = [], []
    for _, sub in table.groupby(kommune_col, sort=False, dropna=False):
        lab, log = _collapse_one(sub, cells, min_respondents, age_order, age_col, gender_col, group_cols)
        labels.append(lab)
        logs.append(log)
    return pd.concat(labels).reindex(table.index), pd.concat(logs, ignore_index=True)


def _collapse_one(table: pd.DataFrame, cells: list[str], min_respondents: int,
                  age_order: list[str], age_col: str, gender_col: str,
                  group_cols: tuple[str, str]) -> tuple[pd.Series, pd.DataFrame]:
    labels = pd.Series(range(len(table)), index=table.index)   # post-stratum id per original cell
    log = []
    kommune_col, mg_col = group_cols

    def counts() -> pd.DataFrame:
        g = table.assign(ps=labels).groupby("ps")
        return pd.DataFrame({"respondents": g["respondents"].sum(), "population": g["population"].sum()})

    def describe(i: int) -> str:
        return "/".join(str(table.at[i, c]) for c in cells)

    for rule in ("age", "gender", "maalgruppe"):
        while True:
            c = counts()
            small = c[(c["respondents"] < min_respondents) & (c["population"] > 0)]
            if small.empty:
                break
            progressed = False
            for ps in small.index:
                members = labels[labels == ps].index
                row = table.loc[members[0]]
                same = (table[kommune_col] == row[kommune_col])
                if rule in ("age", "gender"):
                    same &= table[mg_col] == row[mg_col]
                if rule == "age":
                    same &= table[gender_col] == row[gender_col]
                    ages = sorted({age_order.index(a) for a in table.loc[members, age_col]})
                    lo, hi = ages[0], ages[-1]
                    order = [hi + 1, lo - 1] if hi + 1 < len(age_order) else [lo - 1]
                    neighbours = []   # post-stratum of each existing neighbour band, older first
                    for j in order:
                        if 0 <= j < len(age_order):
                            cand = labels[same & (table[age_col] == age_order[j])]
                            if len(cand) and cand.iloc[0] != ps:
                                neighbours.append(cand.iloc[0])
                    # a neighbour that has respondents first: merging into an empty one only moves the
                    # problem and can join bands that a merge with the respondents' band keeps apart
                    target = next((t for t in neighbours if c.at[t, "respondents"] > 0),
                                  neighbours[0] if neighbours else None)
                else:
                    others = labels[same & (labels != ps)]
                    if others.empty:
                        target = None
                    else:
                        c_now = counts()
                        target = c_now.loc[others.unique(), "respondents"].idxmax()
                if target is None:
                    continue
                reason = (f"{int(c.at[ps, 'respondents'])} respondent(s) < minimum {min_respondents}, "
                          f"population {int(c.at[ps, 'population'])}")
                log.append({"cell": "; ".join(describe(i) for i in members),
                            "merged_into": "; ".join(describe(i) for i in labels[labels == target].index),
                            "rule": {"age": "neighbouring age band", "gender": "other gender",
                                     "maalgruppe": "other målgruppe in the municipality"}[rule],
                            "reason": reason})
                labels[members] = target
                progressed = True
                break   # recount after every merge: deterministic order
            if not progressed:
                break
    c = counts()
    still = c[(c["respondents"] < min_respondents) & (c["population"] > 0)]
    if len(still):
        i = labels[labels == still.index[0]].index[0]
        raise WeightingError(
            f"municipality {table.at[i, kommune_col]!r} has fewer than {min_respondents} respondent(s) in all; "
            "its population cannot be weighted. The analysis (survey_lib.design.build_design) leaves such a "
            "municipality out; when weighting directly, leave it out of the data, name it in survey.yaml: "
            "exclude_municipalities, or lower weighting.min_respondents.")
    # dense, deterministic labels: the first member's description
    first = {ps: describe(labels[labels == ps].index[0]) for ps in labels.unique()}
    return labels.map(first), pd.DataFrame(log, columns=["cell", "merged_into", "rule", "reason"])


def collapses_of(collapses: pd.DataFrame, cells: list[str] | tuple[str, ...], column: str, value: str) -> pd.DataFrame:
    """The rows of a collapse log (:func:`collapse_cells`) whose cell has ``value`` in ``column``.

    A logged cell is written ``v1/v2/...`` in the order of ``cells`` (several merged cells joined by
    ``'; '``, all with the same municipality); the value is read at the column's position, never found
    by matching a substring (a municipality name can be part of another cell value)."""
    if column not in cells:
        raise ValueError(f"column {column!r} is not a weighting cell variable; cells: {list(cells)}")
    if collapses.empty or "cell" not in collapses.columns:
        return collapses.iloc[0:0]
    pos = list(cells).index(column)
    first = collapses["cell"].astype(str).str.split("; ").str[0].str.split("/")
    return collapses[first.str[pos] == value]
