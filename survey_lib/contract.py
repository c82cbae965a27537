"""The data contract: which columns the three input files hold, and how raw values become typed ones.

See ``docs/data-contract.md`` for the contract in prose. This module knows the canonical column
names and kinds, and converts raw cell values (text from CSV, numbers and dates from Excel, SPSS or
Parquet) into canonical dtypes. Values that cannot be converted become faults, never silent blanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .errors import Fault
from .params import Params

__all__ = ["ColumnSpec", "FILE_ROLES", "register_columns", "response_columns", "coerce_frame", "Kind", "AgeLimits",
           "WORKING_AGE"]

FILE_ROLES = ("population", "sample", "responses")

Kind = Literal["text", "int", "number", "date", "datetime", "bool", "answer", "free_text"]


@dataclass(frozen=True)
class AgeLimits:
    """The ages (whole years at ``age_reference_date``) a citizen of the population can have, and why."""

    low: int
    high: int
    source: str


# The survey's population receives a benefit from the job centre (dagpenge, sygedagpenge, kontant- or
# uddannelseshjælp, ressourceforløb, jobafklaringsforløb, ledighedsydelse, selvforsørgelses- og
# hjemrejseydelse): citizens of working age. The bounds are the working age of the EU Labour Force
# Survey (Eurostat; Statistics Denmark's AKU): 15-74 years. They are wide on purpose: the benefits
# themselves start at 18 and end at the state pension age (67 in 2023), so an age outside 15-74 is a
# wrong birth date or age, never a citizen of the population.
WORKING_AGE = AgeLimits(15, 74, "the survey's population is of working age, 15-74 years as the EU Labour Force "
                                "Survey counts it (data contract: survey_lib/contract.py, WORKING_AGE)")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the contract: canonical name, kind, and whether it must be present."""

    name: str
    kind: Kind
    required: bool = True
    description: str = ""


def register_columns(role: str) -> tuple[ColumnSpec, ...]:
    """The fixed (non-question) columns of ``population``, ``sample`` or ``responses``."""
    if role == "population":
        return (
            ColumnSpec("person_id", "text", True, "pseudonymous id (never a CPR number)"),
            ColumnSpec("kommune", "text", True, "municipality name as in params/kommuner.yaml"),
            ColumnSpec("koen", "text", True, "K or M"),
            ColumnSpec("alder", "int", False, "age in whole years at the reference date"),
            ColumnSpec("foedselsdato", "date", False, "birth date (instead of alder)"),
            ColumnSpec("ydelse", "text", False, "benefit code (survey.yaml: ydelser)"),
            ColumnSpec("maalgruppe", "text", False, "target group code (survey.yaml: maalgrupper)"),
            ColumnSpec("startdato", "date", True, "start of the latest benefit spell"),
        )
    if role == "sample":
        return (
            ColumnSpec("person_id", "text", True),
            ColumnSpec("invitation_date", "date", True),
            ColumnSpec("digital_post_exempt", "bool", True),
            ColumnSpec("sms_reachable", "bool", True),
        )
    if role == "responses":
        return (
            ColumnSpec("person_id", "text", True),
            ColumnSpec("status", "text", True, "complete or partial"),
            ColumnSpec("started_at", "datetime", True),
            ColumnSpec("submitted_at", "datetime", False, "blank for a partial response never submitted"),
        )
    raise ValueError(f"role must be one of {FILE_ROLES}; got {role!r}")


def response_columns(params: Params) -> tuple[ColumnSpec, ...]:
    """Fixed columns plus one column per question (per option for multi-select) of the codebook."""
    cols = list(register_columns("responses"))
    for q in params.questionnaire.questions:
        kind: Kind = "free_text" if q.kind == "free_text" else "answer"
        for c in q.columns:
            cols.append(ColumnSpec(c, kind, True, f"question {q.id}"))
    return tuple(cols)


# --------------------------------------------------------------------------------------------------
# coercion of raw values
# --------------------------------------------------------------------------------------------------
_BLANKS = {"", "na", "nan", "none", "null", "nat", "<na>"}
_TRUE = {"1", "true", "ja", "j", "yes", "y", "sand"}
_FALSE = {"0", "false", "nej", "n", "no", "falsk"}
_NUM_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y")
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d",
)


def _as_text(raw: pd.Series) -> pd.Series:
    """Raw values as stripped text, blanks as <NA>; whole floats (3.0 from Excel) print as '3'."""
    if pd.api.types.is_string_dtype(raw.dtype) or (raw.dtype == object and raw.map(type).eq(str).all()):
        text = raw.astype("string").str.strip()       # CSV: every cell is text already (fast path)
        return text.mask(text.str.lower().isin(_BLANKS))

    def conv(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            return pd.NA
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        if isinstance(v, (pd.Timestamp, np.datetime64)):
            return pd.Timestamp(v).isoformat(sep=" ")
        s = str(v).strip()
        return pd.NA if s.lower() in _BLANKS else s

    return raw.map(conv).astype("string")


def _parse_number(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers with '.' or ',' as decimal separator; returns (values, bad mask)."""
    ok_form = text.str.match(_NUM_RE.pattern).fillna(True).astype(bool)
    values = pd.to_numeric(text.where(ok_form).str.replace(",", ".", regex=False), errors="coerce")
    bad = text.notna() & (~ok_form | values.isna())
    return values.astype("Float64"), bad


def _parse_dates(raw: pd.Series, text: pd.Series, formats: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    native = raw.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "isoformat"))
    if native.any():
        out[native] = pd.to_datetime(raw[native].map(lambda v: pd.Timestamp(v).tz_localize(None)
                                                     if getattr(pd.Timestamp(v), "tz", None) else pd.Timestamp(v)))
    todo = text.notna() & ~native
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        hit = parsed.notna()
        out[parsed[hit].index] = parsed[hit]
        todo[parsed[hit].index] = False
    return out, todo


def coerce_column(raw: pd.Series, spec: ColumnSpec, file: str) -> tuple[pd.Series, list[Fault]]:
    """Convert one raw column to its canonical dtype.

    Returns the typed column (blank for unconvertible cells) and one fault per unconvertible cell,
    naming ``file``, the 1-based data row, the column, the value and the expected form.
    """
    text = _as_text(raw)
    faults: list[Fault] = []

    def fault_rows(bad: pd.Series, expected: str) -> None:
        for idx in bad[bad].index:
            faults.append(Fault(file, "bad_value", f"expected {expected}", int(idx) + 1, spec.name, str(text[idx])))

    if spec.kind in ("text", "free_text"):
        out = text
        if spec.kind == "free_text":
            # keep the original text (not stripped of inner whitespace); blanks stay <NA>
            out = raw.map(lambda v: pd.NA if v is None or (isinstance(v, float) and np.isnan(v))
                          or str(v).strip() == "" else str(v)).astype("string")
        return out, faults
    if spec.kind in ("int", "answer"):
        values, bad = _parse_number(text)
        frac = values.notna() & (values != values.round())
        fault_rows(bad | frac.fillna(False).astype(bool), "a whole number")
        values = values.where(~(bad | frac.fillna(False).astype(bool)))
        return values.round().astype("Int64"), faults
    if spec.kind == "number":
        values, bad = _parse_number(text)
        fault_rows(bad, "a number (decimal point or comma)")
        return values, faults
    if spec.kind == "bool":
        low = text.str.lower()
        out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        out[low.isin(_TRUE).fillna(False).astype(bool)] = True
        out[low.isin(_FALSE).fillna(False).astype(bool)] = False
        num, _ = _parse_number(text.where(out.isna()))  # '1,0' / '0.0' from spreadsheets
        out[(num == 1).fillna(False).astype(bool)] = True
        out[(num == 0).fillna(False).astype(bool)] = False
        bad = text.notna() & out.isna()
        fault_rows(bad, "yes/no: 1/0, true/false or ja/nej")
        return out, faults
    if spec.kind == "date":
        out, bad = _parse_dates(raw, text, _DATE_FORMATS)
        fault_rows(bad, "a date such as 2023-09-18 or 18-09-2023")
        return out.dt.normalize(), faults
    if spec.kind == "datetime":
        out, bad = _parse_dates(raw, text, _DATETIME_FORMATS)
        fault_rows(bad, "a date and time such as 2023-09-01 14:05:00")
        return out, faults
    raise ValueError(f"unknown column kind {spec.kind!r}")


def coerce_frame(raw: pd.DataFrame, specs: tuple[ColumnSpec, ...], file: str) -> tuple[pd.DataFrame, list[Fault]]:
    """Coerce the columns of ``raw`` that ``specs`` name; other columns are left out (and reported by
    the validation as unknown). Missing columns are not faults here (validation reports them)."""
    faults: list[Fault] = []
    out = {}
    for spec in specs:
        if spec.name in raw.columns:
            col, f = coerce_column(raw[spec.name], spec, file)
            out[spec.name] = col
            faults.extend(f)
    frame = pd.DataFrame(out, index=raw.index)
    return frame, faults
