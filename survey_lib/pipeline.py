"""The table pipeline, once: load -> weight (design) -> estimate every table and test -> weighting
diagnostics. The CLI's ``tables``, the batch's tables stage and the notebooks (when they compute
instead of reading a batch's tables) all call :func:`compute_tables`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .design import SurveyDesign, build_design
from .export import write_table_set
from .load import SurveyData, load_survey
from .params import Params
from .provenance import provenance as make_provenance
from .tables import TableSet, build_tables
from .weighting import weight_summary

__all__ = ["ComputedTables", "compute_tables", "make_tables"]


@dataclass(frozen=True)
class ComputedTables:
    """Everything the table pipeline made.

    ``diagnostics``: one row for all respondents and one per municipality (respondents, effective n,
    Kish's design effect); ``provenance``: the inputs' provenance with the weighting's method, cells
    and number of collapsed cells (what ``provenance.json`` beside the tables holds).
    """

    data: SurveyData
    design: SurveyDesign
    tables: TableSet
    diagnostics: pd.DataFrame
    provenance: dict

    @property
    def strata(self) -> pd.DataFrame:
        """The weighting cells and their weights (published in ``strata.csv``)."""
        return self.design.weighting.strata

    @property
    def collapses(self) -> pd.DataFrame:
        """The weighting cells that were collapsed into others (``collapses.csv``)."""
        return self.design.weighting.collapses


def compute_tables(data_dir: Path | str, params: Params, scopes: list[str] | None = None,
                   provenance: dict | None = None) -> ComputedTables:
    """Load and validate ``data_dir``, weight, and estimate every table and test.

    Parameters
    ----------
    data_dir
        Folder with the population, sample and responses files.
    params
        The validated parameters.
    scopes
        Municipalities to estimate tables for beside 'all' (None: every municipality; [] only 'all'),
        as :func:`survey_lib.tables.build_tables` takes them.
    provenance
        The inputs' provenance to extend with the weighting (default: made here from the loaded
        data, see :func:`survey_lib.provenance.provenance`).
    """
    data = load_survey(data_dir, params)
    design = build_design(data, params)
    ts = build_tables(design, params, scopes=scopes)
    w = design.weighting
    diagnostics = weight_summary(pd.Series(design.weight), design.frame["kommune"])
    base = provenance if provenance is not None else make_provenance(data.digest, params.digest, params.survey.wave,
                                                                     data.sources)
    prov = {**base, "weighting": {"method": w.method, "respondents": params.survey.weighting.respondents,
                                  "cells": list(params.survey.weighting.cells), "collapses": len(w.collapses)}}
    return ComputedTables(data=data, design=design, tables=ts, diagnostics=diagnostics, provenance=prov)


def make_tables(data_dir: Path | str, params: Params, out: Path | str, scopes: list[str] | None = None,
                excel: bool = True) -> list[Path]:
    """:func:`compute_tables`, then write the table set to ``out`` (CSV, and ``tabeller.xlsx`` when
    ``excel``); return the paths written."""
    c = compute_tables(data_dir, params, scopes=scopes)
    return write_table_set(c.tables, c.diagnostics, c.strata, c.collapses, out, params, c.provenance, excel=excel)
