"""Telling the built-in synthetic twin from real data, and the banner every output then carries.

A manager who sees figures close to the 2023 report must not take the twin's pages for real results.
Whether a data folder holds the twin is told from the data themselves, not from a setting someone
can forget:

1. the twin's generator writes ``demo_manifest.json`` beside the three files, naming itself
   (``"generator": "survey_lib.demo"``; :func:`survey_lib.demo.write.write_dataset`);
2. the twin's person ids are ``BR`` followed by seven digits (:func:`survey_lib.demo.generate`),
   which no pseudonymisation of this project makes (its keyed surrogates are ``P`` and hexadecimal digits,
   :mod:`survey_lib.privacy.pseudonymize`). A copy of the twin without its manifest (renamed,
   converted, moved) is still recognised by its ids: every id of the sample file has that form.

Real data with other ids and no such manifest are never marked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["SyntheticCheck", "check_synthetic", "BANNER", "BANNER_DETAIL", "TWIN_ID", "DEMO_MANIFEST", "banner_for"]

#: What every page, workbook and PDF made from the twin says first.
BANNER = "Syntetiske data – ikke rigtige resultater"
#: The line under the banner on a page.
BANNER_DETAIL = ("Tallene er lavet af projektets syntetiske tvilling af undersøgelsen: de ligner de "
                 "offentliggjorte tal, men ingen rigtige borgere har svaret.")
#: The form of the twin's person ids.
TWIN_ID = re.compile(r"BR\d{7}")
#: The file the twin's generator writes beside its data.
DEMO_MANIFEST = "demo_manifest.json"
_GENERATOR = "survey_lib.demo"


@dataclass(frozen=True)
class SyntheticCheck:
    """Whether a data folder holds the synthetic twin, and how that was told ('' when it does not)."""

    synthetic: bool
    reason: str = ""


def _manifest_says_twin(folder: Path) -> bool:
    path = folder / DEMO_MANIFEST
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("generator") == _GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def _ids_are_twin(folder: Path) -> bool:
    """Every person id of the sample file (or the population file) has the twin's form."""
    from .io import find_input, read_table

    for role in ("sample", "population"):
        path, faults = find_input(folder, role)
        if path is None or faults or path.is_dir():
            continue
        try:
            raw, _ = read_table(path)
        except Exception:  # noqa: BLE001 - an unreadable file is the validation's business, not this check's
            continue
        frame = raw.frame
        if "person_id" not in frame.columns or frame.empty:
            continue
        ids = frame["person_id"].dropna().astype(str).str.strip()
        return bool(len(ids)) and bool(ids.str.fullmatch(TWIN_ID.pattern).all())
    return False


@lru_cache(maxsize=16)
def _check(folder: str, stamp: tuple) -> SyntheticCheck:
    path = Path(folder)
    if _manifest_says_twin(path):
        return SyntheticCheck(True, f"{DEMO_MANIFEST} names the twin's generator ({_GENERATOR})")
    if _ids_are_twin(path):
        return SyntheticCheck(True, "every person id has the twin's form (BR and seven digits)")
    return SyntheticCheck(False)


def check_synthetic(data_dir: Path | str) -> SyntheticCheck:
    """Whether ``data_dir`` holds the built-in synthetic twin (see the module docstring).

    The answer is cached per folder and the modification times of its files, so that every page of
    a batch can ask without reading the data again.
    """
    folder = Path(data_dir).resolve()
    try:
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()
                             if p.is_file()))
    except OSError:
        return SyntheticCheck(False)
    return _check(str(folder), stamp)


def banner_for(data_dir: Path | str | None) -> str:
    """:data:`BANNER` when ``data_dir`` holds the twin, else ''."""
    if data_dir is None:
        return ""
    return BANNER if check_synthetic(data_dir).synthetic else ""
