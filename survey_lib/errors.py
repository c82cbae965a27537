"""Error types of survey_lib.

Every error the library raises on bad input derives from :class:`SurveyError`. Errors about data carry
a list of :class:`Fault` records, so that one error reports every fault found, not just the first;
each fault names the file, the row, the column, the value and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

__all__ = ["Fault", "SurveyError", "ParamsError", "DataError"]


@dataclass(frozen=True)
class Fault:
    """One fault found in an input file.

    Parameters
    ----------
    file
        Path (or logical name) of the file the fault is in.
    kind
        Short machine-readable kind, e.g. ``"missing_column"`` or ``"unknown_code"``.
    message
        What is wrong and what was expected, in words.
    row
        1-based data row (the header is row 0 in CSV terms; row 1 is the first record), or ``None``
        when the fault concerns the whole file or a column.
    column
        Column name, or ``None`` when the fault concerns a whole row or file.
    value
        The offending value, as text, or ``None``.
    """

    file: str
    kind: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [f"file {self.file}"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = ", ".join(where) + f": {self.message}"
        if self.value is not None:
            text += f" (value: {self.value!r})"
        return text


class SurveyError(Exception):
    """Base class of every error survey_lib raises on bad input or bad parameters."""


class ParamsError(SurveyError):
    """A parameter file is missing, unreadable or does not follow its schema."""


class DataError(SurveyError):
    """One or more faults in the input data; ``faults`` lists every one of them."""

    def __init__(self, faults: Iterable[Fault], header: str = "Faults in the input data") -> None:
        self.faults: list[Fault] = list(faults)
        lines = [f"{header}: {len(self.faults)} fault(s)"]
        shown = self.faults[:200]
        lines += [f"  - {f}" for f in shown]
        if len(self.faults) > len(shown):
            lines.append(f"  ... and {len(self.faults) - len(shown)} more (see .faults)")
        super().__init__("\n".join(lines))
