"""Readers of one table per file format: CSV, Excel (.xlsx), SPSS (.sav) and Parquet.

Each reader returns a :class:`RawTable`: the cells as read (no type conversion beyond what the format
itself stores), the file's path and, for SPSS, its value labels. Type conversion happens once, in
:mod:`survey_lib.contract`, so every format goes through the same rules. Problems with the file as a
whole (empty, not UTF-8, unreadable) and with its shape (a row with more or fewer fields than the
header, a column name given twice or not at all, a title row above the header, data on another sheet)
are returned as faults naming the row or column, never raised half-way.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Fault

__all__ = ["RawTable", "read_table", "read_csv", "read_excel", "FORMATS", "CSV_SEPARATORS", "column_position",
           "header_faults", "field_count_faults"]

FORMATS = {".csv": "csv", ".xlsx": "excel", ".sav": "spss", ".parquet": "parquet"}

# The separators a CSV file may use, sniffed from its header line (the most frequent one wins; ',' on a tie).
CSV_SEPARATORS = (",", ";", "\t")
_SEPARATOR_NAMES = {",": "',' (comma)", ";": "';' (semicolon)", "\t": "tab"}


@dataclass
class RawTable:
    """Cells of one input file as read, with RangeIndex 0..n-1 (data row = index + 1).

    ``source_rows`` is set when the frame is a selection of the file's rows (a SurveyXact export
    without its invited-only rows): the 1-based data row in the file of each frame row, so that faults
    can name the row the user sees. ``source_name`` then names the part of the file (``[Dataset]``).
    """

    path: Path
    frame: pd.DataFrame
    format: str
    value_labels: dict[str, dict[object, str]] = field(default_factory=dict)
    source_rows: tuple[int, ...] | None = None
    source_name: str = ""


def _empty(path: Path, fmt: str) -> RawTable:
    return RawTable(path, pd.DataFrame(), fmt)


def column_position(i: int) -> str:
    """'column 3 (C)': the 0-based position ``i`` as a 1-based number and a spreadsheet letter."""
    from openpyxl.utils import get_column_letter

    return f"column {i + 1} ({get_column_letter(i + 1)})"


def header_faults(names: list[str], where: str) -> list[Fault]:
    """A column name given more than once, reported by its name and every position it has."""
    faults = []
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name:
            positions.setdefault(name, []).append(i)
    for name, where_at in positions.items():
        if len(where_at) > 1:
            listed = " and ".join(column_position(i) for i in where_at)
            faults.append(Fault(where, "duplicate_column",
                                f"the column name {name!r} occurs {len(where_at)} times in the header: {listed}; "
                                "every column must occur once: delete the copy or give it its own name",
                                None, name))
    return faults


def _blank_names(frame: pd.DataFrame, names: list[str], where: str) -> tuple[pd.DataFrame, list[Fault]]:
    """Columns without a name: dropped when they hold no value at all (a trailing separator), a fault
    naming their position when they hold data."""
    faults, keep = [], []
    for i, name in enumerate(names):
        if name:
            keep.append(i)
            continue
        col = frame.iloc[:, i]
        filled = col.notna() & (col.astype("string").str.strip() != "")
        if filled.fillna(False).any():
            first = int(np.flatnonzero(filled.fillna(False).to_numpy())[0]) + 1
            faults.append(Fault(where, "blank_column_name",
                                f"{column_position(i)} has no name in the header but holds values (the first in "
                                f"row {first}); give it the name of its contract column, or delete it",
                                first, None))
    out = frame.iloc[:, keep].copy()
    out.columns = [names[i] for i in keep]
    return out, faults


def _sniff_separator(header: str) -> str:
    counts = {s: header.count(s) for s in CSV_SEPARATORS}
    best = max(counts.values())
    return next(s for s in CSV_SEPARATORS if counts[s] == best)


def _record_lengths(text: str, sep: str) -> tuple[np.ndarray, np.ndarray]:
    """Number of fields and 1-based line number of every non-blank record (the header first).

    Blank lines are skipped, as the parser skips them. Without any quote in the text a record is a line
    and its fields are its separators plus one (fast); otherwise the csv module splits the records, so
    that a quoted separator or line break counts as part of its value."""
    if '"' not in text:
        lines = (text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text).split("\n")
        lengths = np.fromiter((ln.count(sep) + 1 if ln else 0 for ln in lines), dtype=np.int64,
                              count=len(lines))
        line_no = np.flatnonzero(lengths) + 1
        return lengths[lengths > 0], line_no
    lengths_list, lines_list = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    start = 1
    for row in reader:
        if row:
            lengths_list.append(len(row))
            lines_list.append(start)
        start = reader.line_num + 1
    return np.array(lengths_list, dtype=np.int64), np.array(lines_list, dtype=np.int64)


def field_count_faults(lengths: np.ndarray, line_no: np.ndarray, sep: str, where: str) -> list[Fault]:
    """Rows with more or fewer fields than the header, each reported as such with its data row and line.

    ``lengths`` and ``line_no`` are the field counts and line numbers of the records (header first).
    When every data row differs from the header by the same number of fields, the header is the odd
    one out and one fault says so; a header of a single field above wider rows is a title line."""
    if len(lengths) < 2:
        return []
    header, rows = int(lengths[0]), lengths[1:]
    off = np.flatnonzero(rows != header)
    if not len(off):
        return []
    sep_name = _SEPARATOR_NAMES[sep]
    if len(off) == len(rows) and len(set(rows.tolist())) == 1:
        n = int(rows[0])
        if header == 1:
            return [Fault(where, "title_row", f"the first line holds a single field but the rows below have {n} "
                          f"(separator {sep_name}): a title line above the header? The column names must be "
                          "the first line: delete the line(s) above them")]
        return [Fault(where, "field_count", f"the header (line 1) has {header} fields but every data row has {n} "
                      f"(separator {sep_name}): the header has {_fields(abs(header - n))} too "
                      f"{'many' if header > n else 'few'}; correct the header line")]
    faults = []
    for k in off:
        n = int(rows[k])
        if n > header:
            what = (f"{_fields(n - header)} too many: a value that contains the separator {sep_name} must be "
                    'in double quotes (e.g. "Odder, Jylland")')
        else:
            what = f"{_fields(header - n)} too few: a value or a separator is missing on this line"
        faults.append(Fault(where, "field_count", f"this row (line {int(line_no[k + 1])} of the file) has {n} "
                            f"fields, the header has {header}: {what}", int(k) + 1, None))
    return faults


def _fields(n: int) -> str:
    return "one field" if n == 1 else f"{n} fields"


def read_csv(path: Path) -> tuple[RawTable, list[Fault]]:
    """Read a UTF-8 CSV with ',', ';' or tab as separator (sniffed from the header line); all cells as text."""
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
    header = text.lstrip("\r\n").split("\n", 1)[0]
    sep = _sniff_separator(header)
    lengths, line_no = _record_lengths(text, sep)
    faults = field_count_faults(lengths, line_no, sep, str(path))
    if faults:
        return _empty(path, "csv"), faults
    names = [n.strip() for n in next(csv.reader(io.StringIO(text.lstrip("\r\n"), newline=""), delimiter=sep))]
    faults = header_faults(names, str(path))
    if faults:
        return _empty(path, "csv"), faults
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_filter=False, quoting=csv.QUOTE_MINIMAL, index_col=False)
    except pd.errors.ParserError as exc:
        return _empty(path, "csv"), [Fault(str(path), "unreadable", f"cannot be parsed as CSV with separator {sep!r}: {exc}")]
    if frame.shape != (len(lengths) - 1, len(names)):  # the two ways of splitting must agree
        return _empty(path, "csv"), [Fault(str(path), "unreadable", (
            f"the parser found {frame.shape[0]} rows of {frame.shape[1]} columns where the lines hold "
            f"{len(lengths) - 1} rows of {len(names)} fields (separator {_SEPARATOR_NAMES[sep]}); check the line "
            "endings and the quotes (a quoted value must end with a quote)"))]
    frame, faults = _blank_names(frame, names, str(path))
    return RawTable(path, frame.reset_index(drop=True), "csv"), faults


def _header_row(grid: pd.DataFrame) -> int:
    """Index of the header row: 0, unless row 0 holds a single value (a title, often in merged cells)
    above a row with several; then the first row with more than one value."""
    filled = grid.head(20).notna().sum(axis=1).to_numpy()
    if len(filled) > 1 and filled[0] == 1 and filled.max() > 1:
        return int(np.flatnonzero(filled > 1)[0])
    return 0


def _sheet_sizes(book: pd.ExcelFile) -> str:
    sizes = []
    for name in book.sheet_names:
        rows = len(pd.read_excel(book, sheet_name=name, header=None, dtype=object).dropna(how="all"))
        sizes.append(f"{name!r} ({max(rows - 1, 0)} data rows)")
    return ", ".join(sizes)


def read_excel(path: Path, sheet: str | int = 0) -> tuple[RawTable, list[Fault]]:
    """Read one sheet of an .xlsx workbook (the first by default); cells keep Excel's own types.

    The first row holds the column names. A title row above them, a column name given twice and an
    empty first sheet in a workbook whose data lie on another sheet are faults that say so."""
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
        grid = pd.read_excel(book, sheet_name=sheet, header=None, dtype=object)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        return _empty(path, "excel"), [Fault(str(path), "unreadable", f"cannot be read as an .xlsx workbook: {exc}")]
    name = sheet if isinstance(sheet, str) else book.sheet_names[sheet]
    where = str(path)
    if len(grid.dropna(how="all")) < 2:
        if sheet == 0 and len(book.sheet_names) > 1:
            return _empty(path, "excel"), [Fault(where, "empty_file", (
                f"the first sheet {name!r} has no data rows; only the first sheet is read, and the workbook has "
                f"the sheets {_sheet_sizes(book)}: move the data to the first sheet (or delete the sheets before it)"))]
        return _empty(path, "excel"), [Fault(where, "empty_file", f"the sheet {name!r} has no data rows")]
    top = _header_row(grid)
    if top:
        title = next(str(v) for v in grid.iloc[0] if pd.notna(v))
        return _empty(path, "excel"), [Fault(where, "title_row", (
            f"row 1 of the sheet {name!r} holds only {title!r} (a title, perhaps in merged cells) and the column "
            f"names seem to be in row {top + 1}; the column names must be in row 1: delete the row(s) above them"))]
    names = ["" if pd.isna(v) else str(v).strip() for v in grid.iloc[0]]
    faults = header_faults(names, where)
    if faults:
        return _empty(path, "excel"), faults
    frame = grid.iloc[1:].reset_index(drop=True)
    frame, faults = _blank_names(frame, names, where)
    return RawTable(path, frame, "excel"), faults


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
