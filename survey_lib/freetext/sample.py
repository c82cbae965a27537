"""A reproducible, stratified random sample of comments for reading by hand."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

__all__ = ["reading_sample", "fit_to_cell", "READING_COLUMNS", "CELL_LIMIT", "CUT_MARKER"]

READING_COLUMNS = {"kommune": "Kommune", "maalgruppe": "Målgruppe", "satisfaction": "Tilfredshed",
                   "text": "Kommentar", "coding": "Læserens kodning", "notes": "Noter",
                   "text_note": "Om kommentaren"}
#: The most characters an Excel cell holds (Excel's specifications and limits); a longer text is cut
#: by the workbook writer without a word, so the sample cuts it itself, visibly.
CELL_LIMIT = 32_767
CUT_MARKER = " […] [AFKORTET]"


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def fit_to_cell(text: str, limit: int = CELL_LIMIT) -> tuple[str, str]:
    """``text`` as one spreadsheet cell holds it, and a note for the reader ('' when it fits).

    A text longer than ``limit`` characters keeps its first ``limit - len(CUT_MARKER)`` characters
    and ends in :data:`CUT_MARKER`; the note says how long the comment was.
    """
    if len(text) <= limit:
        return text, ""
    keep = limit - len(CUT_MARKER)
    return text[:keep] + CUT_MARKER, (f"Afkortet: kommentaren har {_thousands(len(text))} tegn, og en celle i Excel "
                                      f"rummer højst {_thousands(limit)}; her står de første {_thousands(keep)}.")


def reading_sample(comments: pd.DataFrame, per_stratum: int, seed: int) -> pd.DataFrame:
    """Draw up to ``per_stratum`` comments from every municipality x satisfaction group x målgruppe.

    Each stratum has its own random stream, seeded by ``seed`` and the stratum's name, so a
    municipality's sample does not change when other municipalities' data do, and the same inputs and
    seed always give the same sample. A comment longer than an Excel cell holds is cut visibly
    (:func:`fit_to_cell`) with a note in ``text_note``.

    Parameters
    ----------
    comments
        Columns ``kommune``, ``satisfaction`` (group label), ``maalgruppe`` and ``text``; only the
        comments that may be shown (the caller leaves out those of suppressed groups).
    """
    if per_stratum < 1:
        raise ValueError(f"per_stratum must be >= 1; got {per_stratum!r}")
    parts = []
    for key, part in comments.groupby(["kommune", "satisfaction", "maalgruppe"], sort=True):
        rng = np.random.default_rng([seed, zlib.crc32("|".join(map(str, key)).encode())])
        take = min(per_stratum, len(part))
        parts.append(part.iloc[np.sort(rng.choice(len(part), size=take, replace=False))])
    out = pd.concat(parts) if parts else comments.iloc[0:0]
    out = out[["kommune", "maalgruppe", "satisfaction", "text"]].assign(coding="", notes="")
    fitted = [fit_to_cell(str(t)) for t in out["text"]]
    out["text"] = [t for t, _ in fitted]
    out["text_note"] = [n for _, n in fitted]
    return out.reset_index(drop=True)
