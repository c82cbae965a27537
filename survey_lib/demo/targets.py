"""The published figures of the 2023 pilot report, as transcribed in ``published_2023.yaml``.

The transcription (beside this module, with a line reference into the report for every number) is
what the synthetic twin aims at and what the reproduction tests check the twin against.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PUBLISHED_FILE", "load_published", "group_targets"]

PUBLISHED_FILE = Path(__file__).resolve().parent / "published_2023.yaml"

# breakdown names in the transcription -> derived variable names in the data
BREAKDOWN_VARIABLE = {
    "maalgruppe": "maalgruppe",
    "koen": "koen",
    "alder": "alder_band",
    "varighed": "varighed_band",
    "status": "tilknytning",
}


@lru_cache(maxsize=1)
def load_published() -> dict[str, Any]:
    """The parsed transcription (read once)."""
    with PUBLISHED_FILE.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def group_targets(question: str) -> dict[str, dict[str, dict[str, Any]]]:
    """``{breakdown variable: {group code: {n, shares (fractions, score 5..1), mean}}}`` of a question,
    plus ``"total"`` when printed. Group codes are strings as in the data (e.g. '30_49')."""
    q = load_published()["questions"][question]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    if q.get("total") and q["total"].get("shares"):
        t = q["total"]
        out["total"] = {"": {"n": t.get("n"), "shares": [s / 100 for s in t["shares"]], "mean": t.get("mean")}}
    for name, groups in (q.get("breakdowns") or {}).items():
        var = BREAKDOWN_VARIABLE[name]
        out[var] = {str(g): {"n": v["n"], "shares": [s / 100 for s in v["shares"]], "mean": v.get("mean")}
                    for g, v in groups.items()}
    return out
