"""Pseudonymisation at the door: CPR numbers become keyed surrogate ids.

A plain hash of a CPR number is no protection: there are only about 3.7 million date-valid CPR
numbers per century of birth dates, so every hash can be computed in seconds. The surrogate here is
an HMAC-SHA256 of the normalised CPR number under a secret key that is kept apart from the data
(RFC 2104): without the key the mapping cannot be recomputed, with it the same citizen gets the same
surrogate in population, sample and responses, and in the next wave if the same key is used.

Nothing of the CPR number is written: the id column is replaced, and CPR-like numbers inside other
text cells (comments) are replaced by ``[CPR]`` -- found by the free-text scrubber's rule, so with any
separator (``070691-5678``, ``070691 – 5678``, ``070691/5678``, ``07 06 91 56 78``, no-break spaces). A column other than the id column whose values are
CPR numbers is an error (it would be written out unchanged), and so is an id that is not a CPR number.
The key is read from its file and never printed, logged or written.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..atomic import atomic_folder
from ..cpr import cpr_like_mask
from ..errors import DataError, Fault, SurveyError
from ..io import find_input, read_table
from .scrub import cpr_spans

__all__ = ["load_key", "create_key", "surrogate_ids", "pseudonymize_dir", "PseudonymizeResult", "SURROGATE_PREFIX",
           "MIN_KEY_LENGTH"]

SURROGATE_PREFIX = "P"
SURROGATE_HEX = 20            # 80 bits: collisions among 10 million ids have probability ~4e-11
MIN_KEY_LENGTH = 32
ROLES = ("population", "sample", "responses")
_KEY_HINT = ('create one with: survey-report pseudonymize IN OUT --key-file FILE --create-key '
             '(or: python -c "import secrets; print(secrets.token_hex(32))" > FILE) and keep it outside the '
             'data and output folders')


def create_key(path: Path | str) -> None:
    """Write a new random key (64 hex characters) to ``path``, readable by the owner only.

    Refuses to overwrite an existing file: losing a key means the surrogates of earlier waves can no
    longer be reproduced.
    """
    path = Path(path)
    if path.exists():
        raise SurveyError(f"{path}: the key file exists already; refusing to overwrite a key")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")


def load_key(path: Path | str) -> bytes:
    """Read the secret key from ``path`` (its stripped text, at least 32 characters)."""
    path = Path(path)
    if not path.is_file():
        raise SurveyError(f"{path}: key file not found; {_KEY_HINT}")
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise SurveyError(f"{path}: the key is {len(key)} characters long; expected at least {MIN_KEY_LENGTH} "
                          f"random characters; {_KEY_HINT}")
    return key


def _normalise(cpr: str) -> str:
    return re.sub(r"[\s-]", "", cpr)


def surrogate_ids(cprs: pd.Series, key: bytes) -> pd.Series:
    """Surrogate id of each CPR number: ``P`` + the first 20 hex digits of HMAC-SHA256(key, DDMMYYSSSS).

    Notes
    -----
    The CPR number is normalised (separators and spaces removed) before hashing, so ``010190-1234``
    and ``0101901234`` get the same surrogate. HMAC as in RFC 2104 with SHA-256 (FIPS 180-4).
    """
    cache: dict[str, str] = {}
    out = []
    for v in cprs.astype(str):
        digits = _normalise(v.strip())
        s = cache.get(digits)
        if s is None:
            s = SURROGATE_PREFIX + hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()[:SURROGATE_HEX]
            cache[digits] = s
        out.append(s)
    if len(set(cache.values())) != len(cache):      # never expected; checked rather than assumed
        raise SurveyError("two CPR numbers got the same surrogate id; rerun with a new key")
    return pd.Series(out, index=cprs.index, dtype=object)


@dataclass
class PseudonymizeResult:
    """What was done: rows per file and CPR numbers replaced inside text cells (no values)."""

    files: dict[str, int] = field(default_factory=dict)
    ids: int = 0
    cpr_in_text: dict[str, int] = field(default_factory=dict)


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    from ..demo.write import write_frame

    write_frame(frame, path, {"csv": "csv", "excel": "xlsx", "parquet": "parquet", "spss": "sav"}[fmt])


def pseudonymize_dir(in_dir: Path | str, out_dir: Path | str, key_file: Path | str,
                     id_column: str = "person_id") -> PseudonymizeResult:
    """Copy population, sample and responses from ``in_dir`` to ``out_dir`` with CPR ids replaced.

    Parameters
    ----------
    in_dir
        Folder with the raw files (read only; never changed).
    out_dir
        Folder to write the pseudonymised files to, in the same formats; written all-or-nothing.
    key_file
        File with the secret key; must lie outside ``in_dir`` and ``out_dir``.
    id_column
        Name of the column holding the CPR number in all three files.

    Raises
    ------
    DataError
        With every fault (file, row, column, value shape) when an id is not a CPR number or another
        column holds CPR numbers.
    """
    in_dir, out_dir, key_file = Path(in_dir).resolve(), Path(out_dir).resolve(), Path(key_file).resolve()
    _check_folders(in_dir, out_dir, key_file)
    key = load_key(key_file)
    inputs = _read_inputs(in_dir, id_column)
    result = PseudonymizeResult()
    written = {}
    for role, (path, table) in inputs.items():
        frame, replaced = _pseudonymize_frame(table.frame, id_column, key)
        written[role] = (path, frame, table.format)
        result.files[role] = len(frame)
        result.cpr_in_text[role] = replaced
    result.ids = len(set().union(*(set(f[id_column]) for _, f, _ in written.values())))
    with atomic_folder(out_dir) as stage:
        for role, (path, frame, fmt) in written.items():
            _write(frame, stage.file(path.name), fmt)
    return result


def _check_folders(in_dir: Path, out_dir: Path, key_file: Path) -> None:
    """The output folder differs from the input folder, and the key lies in neither."""
    if in_dir == out_dir:
        raise SurveyError(f"{out_dir}: the output folder must differ from the input folder (raw data is read-only)")
    for folder in (in_dir, out_dir):
        if folder == key_file.parent or folder in key_file.parents:
            raise SurveyError(f"{key_file}: the key file lies inside {folder}; keep the key apart from the data "
                              "and the outputs")


def _read_inputs(in_dir: Path, id_column: str) -> dict:
    """Each role's (path, table), read and checked; every fault of every file raised at once."""
    faults: list[Fault] = []
    tables = {}
    for role in ROLES:
        path, found = find_input(in_dir, role)
        faults += found
        if path is None:
            continue
        if path.is_dir():
            faults.append(Fault(str(path), "format", "a SurveyXact folder cannot be pseudonymised directly; export "
                                "responses as one .csv/.xlsx file with the CPR column and run again"))
            continue
        table, found = read_table(path)
        faults += found
        if found:
            continue
        found = _id_faults(path, table.frame, id_column)
        if not found or found[0].kind != "missing_column":
            found += _cpr_column_faults(path, table.frame, id_column)
        faults += found
        tables[role] = (path, table)
    if faults:
        raise DataError(faults)
    return tables


def _id_faults(path: Path, frame: pd.DataFrame, id_column: str) -> list[Fault]:
    """The id column exists and every id is a date-valid CPR number (the first 50 offenders named)."""
    if id_column not in frame.columns:
        return [Fault(str(path), "missing_column", f"no column {id_column!r} with the CPR number; "
                      f"columns are {list(frame.columns)[:12]}; name it with --id-column", column=id_column)]
    ids = frame[id_column].astype("string").fillna("")
    bad = ~cpr_like_mask(ids)
    faults = []
    for idx in bad[bad].index[:50]:
        shape = re.sub(r"\d", "9", str(ids[idx]))[:20] or "(empty)"
        faults.append(Fault(str(path), "not_cpr", f"the id is not a date-valid CPR number (DDMMYY-SSSS); "
                            f"found a value shaped {shape!r}", row=int(idx) + 1, column=id_column))
    return faults


def _cpr_column_faults(path: Path, frame: pd.DataFrame, id_column: str) -> list[Fault]:
    """A column besides the id column whose values are mostly CPR numbers would be written unchanged."""
    faults = []
    for col in frame.columns:
        if col == id_column:
            continue
        whole = cpr_like_mask(frame[col].astype("string").fillna(""))
        if whole.any() and whole.mean() > 0.5:
            faults.append(Fault(str(path), "cpr_column", f"column {col!r} holds CPR numbers in {int(whole.sum())} "
                                "rows and would be written out unchanged; drop it before pseudonymising or make "
                                "it the id column with --id-column", column=col))
    return faults


def _pseudonymize_frame(frame: pd.DataFrame, id_column: str, key: bytes) -> tuple[pd.DataFrame, int]:
    """A copy of ``frame`` with surrogate ids and every CPR number in a text cell replaced by
    ``[CPR]``; also the number of CPR numbers replaced."""
    frame = frame.copy()
    frame[id_column] = surrogate_ids(frame[id_column].astype(str), key).to_numpy()
    replaced = 0
    for col in frame.columns:
        if col == id_column:
            continue
        is_text = frame[col].map(lambda v: isinstance(v, str))
        if not is_text.any():
            continue
        text = frame.loc[is_text, col]
        hits = int(text.map(_count_cpr).sum())
        if hits:
            frame.loc[is_text, col] = text.map(_replace_cpr)
            replaced += hits
    return frame, replaced


def _count_cpr(text: str) -> int:
    return len(cpr_spans(text))


def _replace_cpr(text: str) -> str:
    """``text`` with each CPR number (the scrubber's rule: any separator, Unicode dashes and spaces,
    groups of two) replaced by ``[CPR]``."""
    out, pos = [], 0
    for start, end in cpr_spans(text):
        out += [text[pos:start], "[CPR]"]
        pos = end
    return "".join(out) + text[pos:]
