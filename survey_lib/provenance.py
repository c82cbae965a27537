"""Provenance: which data, code version and parameters made an output, and how a reader sees it.

:func:`provenance` is the machine record (stored in ``provenance.json``, the manifest and the
workbook). :func:`reader_provenance` turns the (label, value) pairs a page shows into what a reader
can use: Danish dates and numbers, and no local file path (a path shows as its last part only: the
machine's folders say nothing to a reader and can name a person's home directory).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .paths import project_root

__all__ = ["provenance", "reader_provenance", "workbook_provenance", "danish_datetime", "strip_paths"]

PACKAGES = ("survey_lib", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn", "papermill", "nbconvert")


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def provenance(data_digest: str, params_digest: str, wave: str, data_sources: dict[str, str] | None = None,
               root: Path | None = None) -> dict:
    """A dictionary to store beside (or inside) every output."""
    root = root or project_root()
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = None
    synthetic = False
    if data_sources:
        from .synthetic import check_synthetic

        synthetic = check_synthetic(Path(next(iter(data_sources.values()))).parent).synthetic
    return {
        "wave": wave,
        "data_synthetic": synthetic,
        "data_sha256": data_digest,
        "data_files": {k: Path(v).name for k, v in (data_sources or {}).items()},
        "params_sha256": params_digest,
        "git_commit": commit,
        "git_dirty": bool(status) if status is not None else None,
        "python": sys.version.split()[0],
        "packages": versions,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


_ISO_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
#: An absolute path (POSIX or Windows) inside a text: from a '/', '~/' or 'C:\\' to the next space,
#: quote, parenthesis, comma or semicolon.
_PATH = re.compile(r"""(?<![\w.:/])(?:~?/|[A-Za-z]:\\)(?:[^\s/\\()'",;]+[/\\])*([^\s/\\()'",;]*)""")
_MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
           "november", "december"]


def danish_datetime(value: str | dt.datetime) -> str:
    """'2026-12-01T14:05:09Z' -> '1. december 2026 kl. 15.05' (Danish time, Europe/Copenhagen).

    A text that is not an ISO 8601 time is returned unchanged."""
    if isinstance(value, str):
        m = _ISO_TIME.match(value.strip())
        if not m:
            return value
        text = value.strip().replace("Z", "+00:00")
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return value
    else:
        when = value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    try:
        from zoneinfo import ZoneInfo

        when = when.astimezone(ZoneInfo("Europe/Copenhagen"))
    except Exception:  # noqa: BLE001 - no time zone data on this machine: UTC, and said so
        return f"{when.day}. {_MONTHS[when.month - 1]} {when.year} kl. {when:%H.%M} (UTC)"
    return f"{when.day}. {_MONTHS[when.month - 1]} {when.year} kl. {when:%H.%M}"


def strip_paths(text: str) -> str:
    """Every absolute file path in ``text`` replaced by its last part ('/home/x/.venv/bin/python' ->
    'python'; a path ending in '/' by its last folder)."""
    def last(m: re.Match) -> str:
        whole = m.group(0).rstrip("/\\")
        return re.split(r"[/\\]", whole)[-1] if whole else ""
    return _PATH.sub(last, str(text))


def _seconds(text: str) -> str:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*s\s*", text)
    if not m:
        return text
    seconds = float(m.group(1))
    return f"{seconds:.1f}".replace(".", ",") + " s"


def _parameters(text: str) -> str:
    """A notebook's parameters (JSON) as a reader sees them: municipality and wave; the folders only
    by their last part."""
    import json

    try:
        values = json.loads(text)
    except ValueError:
        return strip_paths(text)
    if not isinstance(values, dict):
        return strip_paths(text)
    names = {"kommune": "kommune", "wave": "bølge", "data_dir": "datamappe", "params_dir": "parametermappe",
             "tables_dir": "tabelmappe"}
    parts = []
    for key, value in values.items():
        shown = "alle kommuner" if key == "kommune" and value is None else strip_paths(str(value))
        parts.append(f"{names.get(key, key)}: {shown}")
    return "; ".join(parts)


def reader_provenance(pairs) -> list[tuple[str, str]]:
    """The (label, value) pairs of a page's provenance as a reader sees them: ISO times as Danish
    dates ('1. december 2026 kl. 15.05'), seconds with a decimal comma, the parameters as words,
    and no absolute file path anywhere (:func:`strip_paths`)."""
    out = []
    for label, value in pairs:
        label, value = str(label), "" if value is None else str(value)
        if label == "Parametre":
            value = _parameters(value)
        elif label == "Kerne":       # 'survey-lib (/…/.venv/bin/python)': the kernel's name is what tells
            value = re.sub(r"\s*\((?:~?/|[A-Za-z]:\\)[^)]*\)", "", value)
        else:
            value = _seconds(danish_datetime(value))
        out.append((label, strip_paths(value)))
    return out


#: Danish labels of :func:`provenance`'s keys (the workbook's 'Om tabellerne' sheet).
LABELS_DA = {"wave": "Bølge", "scope": "Omfang", "data_synthetic": "Syntetiske data (den indbyggede tvilling)",
             "data_sha256": "Data (SHA-256)", "data_files": "Datafiler", "params_sha256": "Params (SHA-256)",
             "git_commit": "Git-commit", "git_dirty": "Ændringer ikke committet", "python": "Python",
             "packages": "Pakker", "created": "Lavet"}


def workbook_provenance(prov: dict) -> list[tuple[str, str]]:
    """:func:`provenance`'s record as (Danish label, text) rows: yes/no in Danish, the time as a
    Danish date, packages as 'name version', and no absolute path."""
    rows = []
    for key, value in prov.items():
        if isinstance(value, bool):
            text = "ja" if value else "nej"
        elif value is None:
            text = "–"
        elif isinstance(value, dict):
            text = ", ".join(f"{k} {v}" if key == "packages" else f"{k}: {v}" for k, v in value.items())
        elif key == "created":
            text = danish_datetime(str(value))
        elif key == "scope" and value == "all":
            text = "Alle kommuner"
        else:
            text = str(value)
        rows.append((LABELS_DA.get(key, key), strip_paths(text)))
    return rows
