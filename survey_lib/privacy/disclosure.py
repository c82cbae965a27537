"""Disclosure control of the answer tables: primary and secondary (differencing) suppression.

Primary suppression: a group with fewer answers than the minimum cell size is not published.
Secondary suppression: a published total and its published parts can give away a suppressed part by
subtraction (a municipality's total minus all but one of its målgrupper; the whole survey's
målgruppe minus the same målgruppe in all but one municipality). Following Danmarks Statistik's rule
that every combination short of the full cross must also meet the minimum, for every *line* of
cells that add up to a published total, the part that can be recovered by subtraction -- the
suppressed cells together with any unpublished remainder (e.g. respondents outside every group) --
must either be empty or hold at least the minimum number of answers. Where it does not, the
smallest published cell of the line is suppressed as well, and the lines are checked again until
nothing changes (the classic heuristic: it always terminates, since cells are only ever added).

Lines checked, per question:

- within a scope: the groups of each breakdown against the scope's total;
- across municipalities: a group of a breakdown in every municipality against the same group in
  the whole survey (and each municipality's total against the whole survey's total);
- a municipality's total in its own report and the municipality's row of the whole survey's
  municipality breakdown are the same cell and are suppressed together.

A suppressed cell publishes nothing: no counts, shares, means, standard errors or intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SuppressionResult", "secondary_suppression", "apply_suppression", "CELL_KEYS", "LOG_COLUMNS",
           "scope_counts", "count_suppression", "respondent_suppression", "withheld_groups", "ALL_SCOPE", "suppress_nonresponse",
           "suppress_strata", "NONRESPONSE_BLANKED"]

ALL_SCOPE = "all"

CELL_KEYS = ["scope", "question", "breakdown", "group"]
LOG_COLUMNS = CELL_KEYS + ["reason", "line"]
# what a suppressed cell does not publish
BLANKED = ["n", "category_n", "dont_know_n", "weighted_n", "share", "share_se", "mean", "mean_se", "mean_ci_low",
           "mean_ci_high"]


@dataclass(frozen=True)
class SuppressionResult:
    """The cells (one row per scope x question x breakdown x group) with their final ``suppressed``
    flag, and the log: one row per suppressed cell with the reason (``primary`` or ``secondary``)
    and, for secondary suppression, the line that required it. The log holds no counts."""

    cells: pd.DataFrame
    log: pd.DataFrame


def _lines(cells: pd.DataFrame, municipalities: list[str]) -> list[tuple[np.ndarray, int, str]]:
    """(member cell indices, index of the total cell, description) of every line."""
    idx = {key: i for i, key in enumerate(zip(cells["scope"], cells["question"], cells["breakdown"], cells["group"]))}
    lines = []
    by_sqb: dict[tuple, list[int]] = {}
    by_qbg: dict[tuple, list[int]] = {}
    for i, (s, q, b, g) in enumerate(zip(cells["scope"], cells["question"], cells["breakdown"], cells["group"])):
        if b != "total":
            by_sqb.setdefault((s, q, b), []).append(i)
        if s != "all" and s in municipalities and b != "kommune":
            by_qbg.setdefault((q, b, g), []).append(i)
    for (s, q, b), members in by_sqb.items():
        total = idx.get((s, q, "total", ""))
        if total is not None:
            lines.append((np.array(members), total, f"{s}: {b} mod i alt"))
    for (q, b, g), members in by_qbg.items():
        total = idx.get(("all", q, b, g))
        if total is not None:
            lines.append((np.array(members), total, f"kommunerne: {b}={g or 'i alt'} mod alle kommuner"))
    return lines


def _links(cells: pd.DataFrame) -> list[tuple[int, int]]:
    """Pairs of cells that are the same numbers published twice."""
    idx = {key: i for i, key in enumerate(zip(cells["scope"], cells["question"], cells["breakdown"], cells["group"]))}
    pairs = []
    for i, (s, q, b, g) in enumerate(zip(cells["scope"], cells["question"], cells["breakdown"], cells["group"])):
        if s == "all" and b == "kommune":
            j = idx.get((g, q, "total", ""))
            if j is not None:
                pairs.append((i, j))
    return pairs


def secondary_suppression(cells: pd.DataFrame, min_n: int, municipalities: list[str]) -> SuppressionResult:
    """Add secondary suppression to the primary suppression of ``cells``.

    Parameters
    ----------
    cells
        One row per scope x question x breakdown x group with columns ``scope``, ``question``,
        ``breakdown``, ``group``, ``n`` (answers behind the estimates) and ``suppressed`` (primary:
        ``n < min_n``). The whole survey is scope ``all`` with the group ``""`` of breakdown ``total``.
    min_n
        The minimum cell size.
    municipalities
        Names of the municipality scopes (cells of other scopes only take part in their own lines).

    Returns
    -------
    SuppressionResult

    Notes
    -----
    For a line with total :math:`N` and member cells :math:`n_1..n_G`, the recoverable remainder is
    :math:`R = (N - \\sum_g n_g) + \\sum_{g\\ \\text{suppressed}} n_g`. The line is safe when
    :math:`R = 0` or :math:`R \\ge` ``min_n``, and it does not hold exactly one suppressed (non-empty)
    cell: a lone suppressed cell is recovered exactly by subtraction, and a recovered cell opens the
    other lines it belongs to (the row-and-column condition of secondary suppression: every
    suppressed cell needs a suppressed partner in each of its lines). Otherwise the published member
    with the smallest positive :math:`n` (first in table order on ties) is suppressed and the lines
    are checked again.
    See Danmarks Statistik, *Datafortrolighedspolitik* (diskretionering: primær og sekundær
    diskretionering), and Hundepool et al. (2012), *Statistical Disclosure Control*, ch. 4.
    """
    n = cells["n"].to_numpy(dtype=float)
    n = np.nan_to_num(n)
    sup = cells["suppressed"].to_numpy(dtype=bool).copy()
    primary = sup.copy()
    reason_line: dict[int, str] = {}
    lines = _lines(cells, municipalities)
    links = _links(cells)
    changed = True
    while changed:
        changed = False
        for members, total, desc in lines:
            if sup[total]:
                continue                       # an unpublished total gives nothing away by subtraction
            hidden = sup[members] & (n[members] > 0)
            rest = n[total] - n[members].sum() + n[members][hidden].sum()
            if (rest <= 0 or rest >= min_n) and hidden.sum() != 1:
                continue
            open_ = members[~sup[members] & (n[members] > 0)]
            if len(open_) == 0:
                continue
            pick = open_[np.argmin(n[open_])]
            sup[pick] = True
            reason_line[int(pick)] = desc
            changed = True
        for i, j in links:
            if sup[i] != sup[j]:
                k = j if sup[i] else i
                sup[k] = True
                reason_line.setdefault(int(k), "samme tal i kommunens rapport og i alle kommuners rapport")
                changed = True
    out = cells.copy()
    out["suppressed"] = sup
    rows = np.flatnonzero(sup)
    log = out.iloc[rows][CELL_KEYS].copy()
    log["reason"] = np.where(primary[rows], "primary", "secondary")
    log["line"] = [("" if primary[r] else reason_line.get(int(r), "")) for r in rows]
    return SuppressionResult(cells=out, log=log.reset_index(drop=True)[LOG_COLUMNS])


def apply_suppression(tables: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Blank every published number of the suppressed cells of ``tables`` (all category rows)."""
    flag = tables[CELL_KEYS].merge(cells[CELL_KEYS + ["suppressed"]], on=CELL_KEYS, how="left")["suppressed"]
    sup = flag.fillna(False).to_numpy(dtype=bool)
    out = tables.copy()
    for col in ("n", "category_n", "dont_know_n"):
        out[col] = pd.array(np.where(sup, pd.NA, out[col]), dtype="Int64")
    for col in BLANKED:
        if col not in ("n", "category_n", "dont_know_n"):
            out.loc[sup, col] = np.nan
    out["suppressed"] = sup
    return out


# ---- counts beside the tables --------------------------------------------------------------------
# The files beside the answer tables (the reading sample, the free-text themes, the non-response
# tables, the weighting cells) count the same people by the same groups. They get the same rule:
# a group with fewer than the minimum is withheld, and so is any group its line would give away by
# subtraction, across municipalities too (:func:`secondary_suppression` on the counts).

def scope_counts(units: pd.DataFrame, variables, municipalities, count: str | None = None) -> pd.DataFrame:
    """The number of units (rows, or the sum of the boolean column ``count``) of every scope and
    group: the whole survey (scope ``all``, also by ``kommune`` when it is among ``variables``) and
    each municipality in ``units["kommune"]``, in total (breakdown ``total``, group ``""``) and by
    each category of each of ``variables`` (missing values count in the total only).

    Returns
    -------
    pandas.DataFrame
        Columns ``scope``, ``breakdown``, ``group``, ``n``.
    """
    weight = units[count].astype(bool).astype(int) if count else pd.Series(1, index=units.index)
    rows = []
    scopes = [(ALL_SCOPE, units, weight)] + [
        (m, units[units["kommune"] == m], weight[units["kommune"] == m]) for m in municipalities]
    for scope, part, w in scopes:
        rows.append((scope, "total", "", int(w.sum())))
        for var in variables:
            if var == "kommune" and scope != ALL_SCOPE:
                continue
            sums = w.groupby(part[var].astype("string").to_numpy(), dropna=True).sum()
            rows += [(scope, var, str(g), int(v)) for g, v in sums.items()]
    return pd.DataFrame(rows, columns=["scope", "breakdown", "group", "n"])


def count_suppression(counts: pd.DataFrame, min_n: int, municipalities) -> pd.DataFrame:
    """``counts`` (:func:`scope_counts`) with the column ``suppressed``: primary (``n < min_n``)
    and secondary suppression as for the answer tables (:func:`secondary_suppression`)."""
    cells = counts.assign(question="", suppressed=counts["n"].to_numpy() < min_n)
    return secondary_suppression(cells[CELL_KEYS + ["n", "suppressed"]], min_n, list(municipalities)).cells


def respondent_suppression(sample: pd.DataFrame, min_n: int, municipalities, variables) -> pd.DataFrame:
    """The respondents of ``sample`` (column ``responded``) counted by every scope and group
    (:func:`scope_counts`) and suppressed (:func:`count_suppression`): which groups the
    non-response tables of any scope withhold (:func:`withheld_groups`)."""
    counts = scope_counts(sample, list(variables), municipalities, count="responded")
    return count_suppression(counts, min_n, municipalities)


def withheld_groups(suppressed: pd.DataFrame, scope: str) -> dict[str, frozenset[str]]:
    """The suppressed groups of ``scope`` by breakdown (``total`` holds ``""`` when the scope's own
    total is suppressed)."""
    part = suppressed[(suppressed["scope"] == scope) & suppressed["suppressed"]]
    return {b: frozenset(g["group"]) for b, g in part.groupby("breakdown")}


#: What the non-response tables publish of a group's respondents (blanked when the group is withheld).
NONRESPONSE_BLANKED = {
    "response_rates": ["complete", "partial", "none", "response_rate", "complete_rate"],
    "sample_vs_respondents": ["respondents_n", "respondents_share", "respondents_share_weighted", "difference"],
    "balance": ["respondents_share", "weighted_share", "weighted_minus_population"],
}


def _blank(frame: pd.DataFrame, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = out[col].astype(float).where(~rows, np.nan)
    return out


def suppress_nonresponse(report, sample: pd.DataFrame, scope: str, min_n: int, municipalities, variables,
                         suppressed: pd.DataFrame | None = None):
    """The non-response tables of ``scope`` with no count of a suppressed group.

    Parameters
    ----------
    report
        The tables by name (a dict), or a frozen dataclass of them with ``frames()`` (the
        non-response report); the result is of the same kind.
    sample
        Every sampled citizen of the whole survey (``kommune``, ``responded`` and ``variables``):
        the respondents are counted by scope and group, and suppressed as the answer tables are
        (:func:`count_suppression`, so a group is withheld also where subtraction from a total, in
        the municipality or across municipalities, would give it away).
    scope
        ``all`` or a municipality.
    suppressed
        :func:`respondent_suppression` of the same ``sample``, ``min_n``, ``municipalities`` and
        ``variables``, when already computed (it is the same for every scope: a batch computes it
        once); ``sample`` and ``municipalities`` are then not read.

    Returns
    -------
    dict or the report's type
        The same tables; for a withheld group, the respondent counts, rates and shares of
        :data:`NONRESPONSE_BLANKED` and of the response curve are blank, and ``response_rates`` says
        so in ``suppressed``; the weighting cells by :func:`suppress_strata`.
    """
    if suppressed is None:
        suppressed = respondent_suppression(sample, min_n, municipalities, variables)
    withheld = withheld_groups(suppressed, scope)
    total_out = "" in withheld.get("total", ())
    out = dict(report.frames() if hasattr(report, "frames") else report)
    for name, columns in NONRESPONSE_BLANKED.items():
        if name in out:
            f = out[name]
            var, cat = f["variable"].astype(str), f["category"].astype(str)
            rows = np.array([total_out or c in withheld.get(v, ()) or (v == "total" and total_out)
                             for v, c in zip(var, cat)], dtype=bool)
            out[name] = _blank(f, rows, columns)
            if name == "response_rates":
                out[name]["suppressed"] = rows
    if "response_curve" in out:
        c = out["response_curve"]
        rows = np.array([total_out or g in withheld.get(b, ()) for b, g in zip(c["by"].astype(str),
                                                                              c["group"].astype(str))], dtype=bool)
        out["response_curve"] = _blank(c, rows, ["responses", "cumulative_rate"])
    if "strata" in out:
        out["strata"] = suppress_strata(out["strata"], min_n)
    return type(report)(**out) if hasattr(report, "frames") else out


def suppress_strata(strata: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """The weighting cells with no respondent count below the minimum.

    A cell with fewer than ``min_n`` respondents publishes neither its respondents nor its weight
    (population / respondents gives them back); nor does the smallest other cell of its
    municipality (of its margin, for raking) when subtraction from the municipality's number of
    respondents (published in the weight diagnostics) would give the cell back. ``suppressed``
    says which. A frame that already has ``suppressed`` is returned as it is.
    """
    if "respondents" not in strata.columns or "suppressed" in strata.columns or strata.empty:
        return strata
    keys = [c for c in ("kommune", "variable") if c in strata.columns]
    scope = strata[keys].astype(str).agg("|".join, axis=1) if keys else pd.Series("all", index=strata.index)
    n = pd.to_numeric(strata["respondents"], errors="coerce").fillna(0).to_numpy()
    label = strata["post_stratum"].astype(str) if "post_stratum" in strata.columns else \
        strata.get("category", pd.Series(range(len(strata)), index=strata.index)).astype(str)
    cells = pd.DataFrame({"scope": scope.to_numpy(), "question": "", "breakdown": "cell",
                          "group": [f"{i}:{g}" for i, g in enumerate(label)], "n": n, "suppressed": n < min_n})
    totals = cells.groupby("scope", sort=False)["n"].sum().reset_index().assign(
        question="", breakdown="total", group="", suppressed=lambda d: d["n"] < min_n)
    result = secondary_suppression(pd.concat([cells, totals[cells.columns]], ignore_index=True), min_n, [])
    rows = result.cells["suppressed"].to_numpy()[:len(cells)]
    out = _blank(strata, rows, ["respondents", "weight", "weighted"])
    out["suppressed"] = rows
    return out
