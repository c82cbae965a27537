"""Readers of one table per file format: CSV, Excel (.xlsx), SPSS (.sav) and Parquet.

Each reader returns a :class:`RawTable`: the cells as read (no type conversion beyond what the format
itself stores), the file's path and, for SPSS, its value labels. Type conversion happens once, in
:mod:`survey_lib.contract`, so every format goes through the same rules. Problems with the file as a
whole (empty, not UTF-8, unreadable) are returned as faults, never raised half-way.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import Fault

__all__ = ["RawTable", "read_table", "FORMATS"]

FORMATS = {".csv": "csv", ".xlsx": "excel", ".sav": "spss", ".parquet": "parquet"}


@dataclass
class RawTable:
    """Cells of one input file as read, with RangeIndex 0..n-1 (data row = index + 1)."""

    path: Path
    frame: pd.DataFrame
    format: str
    value_labels: dict[str, dict[object, str]] = field(default_factory=dict)


def _empty(path: Path, fmt: str) -> RawTable:
    return RawTable(path, pd.DataFrame(), fmt)


def read_csv(path: Path) -> tuple[RawTable, list[Fault]]:
    """Read a UTF-8 CSV with ',' or ';' as separator (sniffed from the header line); all cells as text."""
    data = path.read_bytes()
    if not data.strip():
        return _empty(path, "csv"), [Fault(str(path), "empty_file", "the file is empty; expected a header line and rows")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return _empty(path, "csv"), [Fault(
            str(path), "encoding",
            f"not UTF-8: byte 0x{data[exc.start]:02x} on line {line} cannot be decoded; "
            "save the file as UTF-8 (in Excel: 'CSV UTF-8')", None, None, None)]
    header = text.splitlines()[0]
    sep = ";" if header.count(";") > header.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_filter=False, quoting=csv.QUOTE_MINIMAL)
    except pd.errors.ParserError as exc:
        return _empty(path, "csv"), [Fault(str(path), "unreadable", f"cannot be parsed as CSV with separator {sep!r}: {exc}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(path, frame.reset_index(drop=True), "csv"), []


def read_excel(path: Path, sheet: str | int = 0) -> tuple[RawTable, list[Fault]]:
    """Read one sheet of an .xlsx workbook; cells keep Excel's own types (numbers, dates, text)."""
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        return _empty(path, "excel"), [Fault(str(path), "unreadable", f"cannot be read as an .xlsx workbook: {exc}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(path, frame.reset_index(drop=True), "excel"), []


def read_spss(path: Path) -> tuple[RawTable, list[Fault]]:
    """Read an SPSS .sav file with its value labels (codes are kept; labels ride along)."""
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat.ReadstatError and OSError
        return _empty(path, "spss"), [Fault(str(path), "unreadable", f"cannot be read as an SPSS .sav file: {exc}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    labels = {str(k): dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    return RawTable(path, frame.astype(object).reset_index(drop=True), "spss", labels), []


def read_parquet(path: Path) -> tuple[RawTable, list[Fault]]:
    """Read a Parquet file (pyarrow)."""
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow.ArrowInvalid and OSError
        return _empty(path, "parquet"), [Fault(str(path), "unreadable", f"cannot be read as Parquet: {exc}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(path, frame.astype(object).reset_index(drop=True), "parquet"), []


def read_table(path: Path) -> tuple[RawTable, list[Fault]]:
    """Read ``path`` with the reader its extension selects; an empty table is a fault."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        return _empty(path, "unknown"), [Fault(
            str(path), "format", f"unknown file type {path.suffix!r}; expected one of {sorted(FORMATS)}")]
    reader = {"csv": read_csv, "excel": read_excel, "spss": read_spss, "parquet": read_parquet}[fmt]
    table, faults = reader(path)
    if not faults and table.frame.empty:
        faults.append(Fault(str(path), "empty_file", "the file has no data rows"))
    return table, faults
