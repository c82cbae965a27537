"""Which headline numbers changed between two batch outputs (``survey-report diff OLD NEW``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from ..errors import SurveyError

__all__ = ["headline_numbers", "diff_manifests"]


def _manifest(path: Path | str) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise SurveyError(f"{path}: no manifest.json; give the output folder of a batch (OUT/<wave>) or its manifest")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SurveyError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}, column {exc.colno}); "
                          "give the manifest.json a batch wrote") from exc


def _flatten(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for k in sorted(value):
            _flatten(f"{prefix}.{k}" if prefix else str(k), value[k], out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, out)
    else:
        out[prefix] = value


def headline_numbers(manifest: dict) -> dict[tuple[str, str], object]:
    """(scope, name) -> value of every headline number: the index's scores and weighting figures,
    and every key number a notebook recorded."""
    out: dict[tuple[str, str], object] = {}
    for scope, h in manifest.get("headlines", {}).items():
        flat: dict = {}
        _flatten("", h, flat)
        out.update({(scope, k): v for k, v in flat.items()})
    for job, j in manifest.get("jobs", {}).items():
        flat = {}
        _flatten("", j.get("key_numbers", []), flat)
        scope = j.get("scope", job.split("/")[0])
        out.update({(scope, f"{j.get('notebook')}.{k}"): v for k, v in flat.items()})
    return out


def diff_manifests(old: Path | str, new: Path | str, tolerance: float = 0.0) -> pd.DataFrame:
    """Rows (scope, what, old, new) for every headline number that differs (added and removed too)."""
    a, b = headline_numbers(_manifest(old)), headline_numbers(_manifest(new))
    rows = []
    for key in sorted(set(a) | set(b), key=str):
        va, vb = a.get(key, "(mangler)"), b.get(key, "(mangler)")
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and not isinstance(va, bool):
            if (math.isnan(va) and math.isnan(vb)) or abs(va - vb) <= tolerance:
                continue
        elif va == vb:
            continue
        rows.append({"scope": key[0], "what": key[1], "old": va, "new": vb})
    return pd.DataFrame(rows, columns=["scope", "what", "old", "new"])
