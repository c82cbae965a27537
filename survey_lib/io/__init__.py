"""Reading the three input files (population, sample, responses) in any supported format."""

from __future__ import annotations

from pathlib import Path

from ..errors import Fault
from .readers import FORMATS, RawTable, read_table
from .surveyxact import is_surveyxact, read_surveyxact

__all__ = ["RawTable", "read_table", "find_input", "FORMATS", "is_surveyxact", "read_surveyxact"]


def find_input(data_dir: Path, role: str) -> tuple[Path | None, list[Fault]]:
    """The one file (or SurveyXact folder) in ``data_dir`` for ``role``.

    A file is found by its stem (``population``, ``sample``, ``responses``) with any supported
    extension; a folder ``responses/`` holding a SurveyXact CSV export also counts for responses.
    None found, or more than one, is a fault.
    """
    candidates = [data_dir / f"{role}{ext}" for ext in FORMATS if (data_dir / f"{role}{ext}").is_file()]
    if role == "responses" and (data_dir / role).is_dir():
        candidates.append(data_dir / role)
    if not candidates:
        return None, [Fault(str(data_dir), "missing_file",
                            f"no {role} file; expected one of {[role + e for e in FORMATS]}")]
    if len(candidates) > 1:
        return None, [Fault(str(data_dir), "ambiguous_file",
                            f"more than one {role} file: {[c.name for c in candidates]}; keep exactly one")]
    return candidates[0], []
