"""The table pipeline, once: load -> weight (design) -> estimate every table and test -> weighting
diagnostics. The CLI's ``tables``, the batch's tables stage and the notebooks (when they compute
instead of reading a batch's tables) all call :func:`compute_tables`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .design import SurveyDesign, build_design, warning_thresholds
from .exclusions import Exclusion
from .export import write_table_set
from .load import SurveyData, load_survey
from .params import Params
from .provenance import provenance as make_provenance
from .tables import TableSet, build_tables
from .weighting import weight_summary, weight_warnings

__all__ = ["ComputedTables", "compute_tables", "tables_of", "make_tables", "analysis_notes"]


@dataclass(frozen=True)
class ComputedTables:
    """Everything the table pipeline made.

    ``diagnostics``: one row for all respondents and one per municipality (respondents, effective n,
    Kish's design effect); ``warnings``: the weighting's warnings
    (:func:`survey_lib.weighting.diagnostics.weight_warnings`); ``provenance``: the inputs'
    provenance with the weighting's method, cells, number of collapsed cells and the municipalities
    left out (what ``provenance.json`` beside the tables holds). ``data`` holds every municipality;
    the design, tables and diagnostics only those analysed (:attr:`excluded` names the others).
    """

    data: SurveyData
    design: SurveyDesign
    tables: TableSet
    diagnostics: pd.DataFrame
    provenance: dict
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def excluded(self) -> tuple[Exclusion, ...]:
        """The municipalities left out of the analysis, and why (:mod:`survey_lib.exclusions`)."""
        return self.design.excluded

    @property
    def strata(self) -> pd.DataFrame:
        """The weighting cells and their weights (published in ``strata.csv``)."""
        return self.design.weighting.strata

    @property
    def collapses(self) -> pd.DataFrame:
        """The weighting cells that were collapsed into others (``collapses.csv``)."""
        return self.design.weighting.collapses


def compute_tables(data_dir: Path | str, params: Params, scopes: list[str] | None = None,
                   provenance: dict | None = None, tests: bool = True) -> ComputedTables:
    """Load and validate ``data_dir``, weight, and estimate every table and test.

    Parameters
    ----------
    data_dir
        Folder with the population, sample and responses files.
    params
        The validated parameters.
    scopes
        Municipalities to estimate tables for beside 'all' (None: every municipality; [] only 'all'),
        as :func:`survey_lib.tables.build_tables` takes them; a municipality left out of the analysis
        (:mod:`survey_lib.exclusions`) gets none.
    provenance
        The inputs' provenance to extend with the weighting (default: made here from the loaded
        data, see :func:`survey_lib.provenance.provenance`).
    tests
        False: the estimates only, no tests or comparisons (:func:`survey_lib.tables.build_tables`).
    """
    return tables_of(load_survey(data_dir, params), params, scopes, provenance, tests)


def tables_of(data: SurveyData, params: Params, scopes: list[str] | None = None, provenance: dict | None = None,
              tests: bool = True) -> ComputedTables:
    """:func:`compute_tables` on data already loaded and validated (:func:`survey_lib.load.load_survey`,
    or a part of it cut by :func:`survey_lib.load.restrict_to`): weight, estimate, diagnose."""
    design = build_design(data, params)
    gone = {e.kommune for e in design.excluded}
    if gone:   # a municipality left out has no scope of its own
        scopes = [k for k in (scopes if scopes is not None else [k.name for k in params.kommuner]) if k not in gone]
    ts = build_tables(design, params, scopes=scopes, tests=tests)
    if gone:   # the municipality breakdown lists every municipality of kommuner.yaml: not those left out
        def kept(frame: pd.DataFrame) -> pd.DataFrame:
            out = (frame["breakdown"] == "kommune") & frame["group"].astype(str).isin(gone)
            return frame[~out.to_numpy()].reset_index(drop=True)

        ts = replace(ts, tables=kept(ts.tables), suppression_log=kept(ts.suppression_log))
    w = design.weighting
    diagnostics = weight_summary(pd.Series(design.weight), design.frame["kommune"])
    warnings = weight_warnings(diagnostics, w.strata, w.collapses, params.survey.weighting.cells,
                               warning_thresholds(params))
    base = provenance if provenance is not None else make_provenance(data.digest, params.digest, params.survey.wave,
                                                                     data.sources)
    prov = {**base, "weighting": {"method": w.method, "respondents": params.survey.weighting.respondents,
                                  "cells": list(params.survey.weighting.cells), "collapses": len(w.collapses),
                                  "warnings": warnings["text"].radd(warnings["kommune"] + ": ").tolist()},
            # the figures for all municipalities ('Alle') are computed without these
            "excluded_municipalities": [{"kommune": e.kommune, "reason": e.reason, "label": e.label_da,
                                         "respondents": e.respondents, "sampled": e.sampled}
                                        for e in design.excluded]}
    return ComputedTables(data=data, design=design, tables=ts, diagnostics=diagnostics, provenance=prov,
                          warnings=warnings)


def make_tables(data_dir: Path | str, params: Params, out: Path | str, scopes: list[str] | None = None,
                excel: bool = True) -> list[Path]:
    """:func:`compute_tables`, then write the table set to ``out`` (CSV, and ``tabeller.xlsx`` when
    ``excel``); return the paths written."""
    c = compute_tables(data_dir, params, scopes=scopes)
    return write_table_set(c.tables, c.diagnostics, c.strata, c.collapses, out, params, c.provenance, excel=excel)


def analysis_notes(data: SurveyData, params: Params) -> list[str]:
    """What the validation report (``survey-report validate``) says about the analysis the data
    allow: one line per municipality left out (:mod:`survey_lib.exclusions`), and the weighting's
    warnings (:func:`survey_lib.weighting.diagnostics.weight_warnings`, thresholds in survey.yaml).
    Weights the data as ``tables`` does; a weighting that fails gives one line with its error."""
    from .weighting import WeightingError

    try:
        design = build_design(data, params)
    except WeightingError as exc:
        return [f"weighting failed: {exc}"]
    w = design.weighting
    lines = [e.describe(params.survey.weighting.min_respondents) for e in design.excluded]
    if design.excluded:
        lines.append("the figures for all municipalities ('Alle') are computed without "
                     + ", ".join(e.kommune for e in design.excluded))
    summary = weight_summary(pd.Series(design.weight), design.frame["kommune"])
    warnings = weight_warnings(summary, w.strata, w.collapses, params.survey.weighting.cells,
                               warning_thresholds(params))
    lines += [f"weighting warning, {'Alle' if r.kommune == 'all' else r.kommune}: {r.text}"
              for r in warnings.itertuples()]
    return lines
