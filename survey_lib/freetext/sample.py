"""A reproducible, stratified random sample of comments for reading by hand."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

__all__ = ["reading_sample", "READING_COLUMNS"]

READING_COLUMNS = {"kommune": "Kommune", "maalgruppe": "Målgruppe", "satisfaction": "Tilfredshed",
                   "text": "Kommentar", "coding": "Læserens kodning", "notes": "Noter"}


def reading_sample(comments: pd.DataFrame, per_stratum: int, seed: int) -> pd.DataFrame:
    """Draw up to ``per_stratum`` comments from every municipality x satisfaction group x målgruppe.

    Each stratum has its own random stream, seeded by ``seed`` and the stratum's name, so a
    municipality's sample does not change when other municipalities' data do, and the same inputs and
    seed always give the same sample.

    Parameters
    ----------
    comments
        Columns ``kommune``, ``satisfaction`` (group label), ``maalgruppe`` and ``text``.
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
    return out.reset_index(drop=True)
