"""The batch's first stage: every scope's tables, non-response and free-text tables, once per batch.

The table pipeline (:func:`survey_lib.pipeline.compute_tables`) runs once for all municipalities
(disclosure control needs them all); what every scope shares (the design, the weighting under each
compared method, the free-text corpus) is computed once too, and handed to forked workers, one
scope each, as :class:`SharedTables` through :func:`survey_lib.parallel.fork_map`'s ``shared``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..atomic import atomic_folder, atomic_write_text
from ..errors import SurveyError
from ..params import Params
from ..parallel import fork_map
from ..paths import FREE_TEXT_DIR, NONRESPONSE_DIR, TABLES_DIR
from ..pipeline import ComputedTables, compute_tables
from .jobs import ALL, slug
from ..scores import theme_score_ids
from ..weighting.cells import collapses_of

__all__ = ["SharedTables", "TablesOutcome", "tables_stage", "headlines", "write_scope"]


@dataclass(frozen=True)
class SharedTables:
    """What every scope's worker reads: the computed tables, the batch's provenance, the
    non-response designs, the survey-wide part of the non-response report
    (:class:`~survey_lib.nonresponse.SurveyWide`) and the free-text corpus, and where to write."""

    computed: ComputedTables
    params: Params
    wave_dir: Path
    provenance: dict
    method_designs: dict
    corpus: object
    nonresponse: object


@dataclass(frozen=True)
class TablesOutcome:
    """What the stage leaves for the rest of the batch: the headline numbers and the loaded data
    (None when the tables were reused and nothing was loaded)."""

    headlines: dict
    data: object | None
    seconds: float | None


def write_scope(shared: SharedTables, scope: str) -> str:
    """Non-response analysis and the tables of one scope, written to its folder (in a forked
    worker); an error names the scope and the folder."""
    try:
        return _write_scope(shared, scope)
    except Exception as exc:
        raise SurveyError(f"tables of {scope!r} ({shared.wave_dir / slug(scope) / TABLES_DIR}): "
                          f"{type(exc).__name__}: {exc}") from exc


def _write_scope(sh: SharedTables, scope: str) -> str:
    from ..freetext.report import free_text_report
    from ..nonresponse import nonresponse_report

    c = sh.computed
    report = nonresponse_report(c.data, sh.params, kommune=None if scope == ALL else scope,
                                design=c.design, designs=sh.method_designs, wide=sh.nonresponse).frames()
    folder = sh.wave_dir / slug(scope) / TABLES_DIR
    if scope in {e.kommune for e in c.excluded}:    # left out (survey_lib.exclusions): what needs no weights
        from ..export import write_csvs

        with atomic_folder(folder / NONRESPONSE_DIR) as stage:
            write_csvs(stage, report)
    else:
        from ..synthetic import BANNER

        _write_scope_tables(c, scope, folder, sh.params, report)
        _write_free_text(free_text_report(c.design, sh.params, scope, sh.corpus), folder,
                         BANNER if sh.provenance.get("data_synthetic") else "")
    atomic_write_text(sh.wave_dir / slug(scope) / "provenance.json",
                      json.dumps({**sh.provenance, "scope": scope}, ensure_ascii=False, indent=1, sort_keys=True,
                                 default=str) + "\n")
    return scope


def _write_free_text(report: dict, folder: Path, banner: str = "") -> None:
    """The scope's free-text tables (CSV, read by the satisfaction notebook) and the reading sample
    (Excel, with a column for the reader's coding)."""
    from ..export import excel_workbook, write_csvs, write_sheet
    from ..freetext.sample import READING_COLUMNS

    with atomic_folder(folder / FREE_TEXT_DIR) as stage:
        write_csvs(stage, {name: frame for name, frame in report.items() if name != "reading_sample"})
    with atomic_folder(folder) as stage:
        sample = report["reading_sample"].rename(columns=READING_COLUMNS)
        wb = excel_workbook(stage.file("kommentarer_til_laesning.xlsx"))
        write_sheet(wb, "Kommentarer", sample, widths=dict(zip(sample.columns, (16, 22, 18, 90, 24, 30))),
                    banner=banner)
        wb.close()


def _scope_rows(c: ComputedTables, scope: str):
    """The scope's share of the table set: its own results, and of the others only the aggregates
    its report shows."""
    from ..tables import TableSet

    ts = c.tables
    keep = {scope, ALL}
    if scope == ALL:
        rows = ts.tables["scope"] == ALL
    else:
        rows = (ts.tables["scope"] == scope) | ((ts.tables["scope"] == ALL)
                                                & ts.tables["breakdown"].isin(["total", "kommune"]))
    return TableSet(tables=ts.tables[rows].reset_index(drop=True),
                    tests=ts.tests[ts.tests["scope"] == scope].reset_index(drop=True),
                    comparisons=ts.comparisons[ts.comparisons["scope"] == scope].reset_index(drop=True),
                    suppression_log=ts.suppression_log[ts.suppression_log["scope"].isin(keep)].reset_index(drop=True))


def _scope_cells(c: ComputedTables, scope: str, cells: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The weighting cells (strata, collapses) of the scope."""
    strata, collapses = c.strata, c.collapses
    if scope == ALL:
        return strata, collapses
    # selected by the municipality column (a municipality's name can be part of another cell value)
    st = strata[strata["kommune"].astype(str) == scope] if "kommune" in strata.columns else strata.iloc[0:0]
    return st, collapses_of(collapses, cells, "kommune", scope)


def _write_scope_tables(c: ComputedTables, scope: str, folder: Path, params: Params, nonresponse: dict) -> None:
    from ..export import write_csvs, write_table_set

    sub = _scope_rows(c, scope)
    kom = c.diagnostics["kommune"].isin({scope, ALL})
    st, col = _scope_cells(c, scope, params.survey.weighting.cells)
    # the workbook of a municipality: its own tables and the all-municipality totals; every
    # municipality's result (breakdown 'kommune') is in the workbook of 'alle' (the CSV, which the
    # notebooks read, keeps them for the charts)
    book = None if scope == ALL else ~((sub.tables["scope"] == ALL) & (sub.tables["breakdown"] == "kommune"))
    write_table_set(sub, c.diagnostics[kom].reset_index(drop=True), st, col, folder, params,
                    {**c.provenance, "scope": scope}, excel_rows=book)
    with atomic_folder(folder / NONRESPONSE_DIR) as stage:
        write_csvs(stage, nonresponse)


def _score(value) -> float | None:
    return None if pd.isna(value) else round(float(value), 6)


def headlines(ts, diagnostics: pd.DataFrame, params: Params) -> dict:
    """Per scope: overall satisfaction and theme scores (mean, CI, n), and weighting diagnostics."""
    t = ts.tables[(ts.tables["breakdown"] == "total")].drop_duplicates(["scope", "question"])
    wanted = list(theme_score_ids(params.questionnaire).values())
    out: dict[str, dict] = {}
    for scope, part in t[t["question"].isin(wanted)].groupby("scope"):
        out[scope] = {"scores": {r.question: {"mean": _score(r.mean), "ci": [_score(r.mean_ci_low), _score(r.mean_ci_high)],
                                              "n": None if pd.isna(r.n) else int(r.n)}
                                 for r in part.itertuples()}}
    b = params.survey.batch
    for r in diagnostics.itertuples():
        scope = ALL if r.kommune == "all" else r.kommune
        flags = []
        if r.deff_kish > b.max_design_effect:
            flags.append(f"designeffekt over {b.max_design_effect:g}")
        if r.n_effective < b.min_effective_n:
            flags.append(f"effektivt n under {b.min_effective_n}")
        out.setdefault(scope, {})["weighting"] = {"respondents": int(r.respondents), "n_effective": round(float(r.n_effective), 3),
                                                  "deff_kish": round(float(r.deff_kish), 6), "flags": flags}
    return out


def tables_stage(data_dir: Path, params: Params, wave_dir: Path, scopes: list[str], jobs: int, provenance: dict,
                 log=print) -> TablesOutcome:
    """Compute every table once, then write each scope's folder in up to ``jobs`` forked workers."""
    from ..freetext.report import FreeTextCorpus
    from ..nonresponse import method_designs, survey_wide

    t0 = time.time()
    computed = compute_tables(data_dir, params, provenance=provenance)
    log(f"Tabeller: beregnet på {time.time() - t0:.1f} s; frafaldsanalyser for {len(scopes)} omfang ...")
    shared = SharedTables(computed=computed, params=params, wave_dir=wave_dir, provenance=provenance,
                          method_designs=method_designs(computed.data, params, default=computed.design),
                          corpus=FreeTextCorpus(computed.design, params),
                          nonresponse=survey_wide(computed.data, params, computed.design))
    fork_map(write_scope, scopes, jobs, shared=shared)
    log(f"Tabeller og frafald skrevet på {time.time() - t0:.1f} s")
    heads = headlines(computed.tables, computed.diagnostics, params)
    for e in computed.excluded:     # left out of the analysis (survey_lib.exclusions): no pages, says why
        heads.setdefault(e.kommune, {})["excluded"] = e.label_da
    for r in computed.warnings.itertuples():   # the weighting's other warnings beside the flags
        if r.kind not in ("design_effect", "effective_n"):
            heads.setdefault(ALL if r.kommune == "all" else r.kommune, {}).setdefault("weighting", {}).setdefault(
                "flags", []).append(r.text)
    return TablesOutcome(headlines=heads, data=computed.data, seconds=round(time.time() - t0, 2))
