"""The table pipeline: load -> weight -> estimate -> export, as one call for the CLI and the batch."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .design import build_design
from .export import write_table_set
from .load import load_survey
from .params import Params
from .provenance import provenance
from .tables import build_tables
from .weighting import weight_summary

__all__ = ["make_tables"]


def make_tables(data_dir: Path | str, params: Params, out: Path | str, scopes: list[str] | None = None,
                excel: bool = True) -> list[Path]:
    """Load ``data_dir``, weight, estimate every table and test, and write them to ``out``."""
    data = load_survey(data_dir, params)
    design = build_design(data, params)
    ts = build_tables(design, params, scopes=scopes)
    w = design.weighting
    diagnostics = weight_summary(pd.Series(design.weight), design.frame["kommune"])
    prov = provenance(data.digest, params.digest, params.survey.wave, data.sources)
    prov["weighting"] = {"method": w.method, "respondents": params.survey.weighting.respondents,
                         "cells": list(params.survey.weighting.cells), "collapses": len(w.collapses)}
    return write_table_set(ts, diagnostics, w.strata, w.collapses, out, params, prov, excel=excel)
