"""Writing a generated data set in the data contract's form, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..atomic import atomic_folder
from ..errors import SurveyError
from .generate import DemoData

__all__ = ["write_dataset", "write_frame", "WRITE_FORMATS"]

WRITE_FORMATS = ("csv", "xlsx", "parquet", "sav")


def write_frame(df: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write one table in ``fmt`` (csv, xlsx, parquet, sav) as the data contract reads it."""
    if fmt == "csv":
        df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    elif fmt == "xlsx":
        df.to_excel(path, index=False)
    elif fmt == "parquet":
        df.to_parquet(path, index=False)
    elif fmt == "sav":
        import pyreadstat

        out = df.copy()
        for c in out.columns:
            if pd.api.types.is_numeric_dtype(out[c]):
                out[c] = out[c].astype("float64")
            else:
                out[c] = out[c].astype(object).where(out[c].notna(), "")
        pyreadstat.write_sav(out, str(path))


_PILOT_NOTE = ("Synthetic twin of the 2023 pilot; not real persons. The ground truth file is not part of the "
               "data contract.")


def write_dataset(data: DemoData, out: Path | str, fmt: str = "csv", note: str = _PILOT_NOTE,
                  extra: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write population, sample and responses in ``fmt`` plus the ground truth beside them.

    Everything is written to a temporary folder next to ``out`` first and moved into place, so an
    interrupted run never leaves a half-written data set. Files of other formats from an earlier run
    are removed (one file per role is the contract).

    ``note`` goes into ``demo_manifest.json``; ``extra`` are further ground-truth tables written as
    CSV beside the data (``{file name: frame}``) in the same atomic step.

    Returns the paths written.
    """
    if fmt not in WRITE_FORMATS:
        raise SurveyError(f"--format must be one of {list(WRITE_FORMATS)}; got {fmt!r}")
    out = Path(out)
    with atomic_folder(out) as stage:
        for role in ("population", "sample", "responses"):
            write_frame(getattr(data, role), stage.file(f"{role}.{fmt}"), fmt)
        data.comments_truth.to_csv(stage.file("ground_truth_comments.csv"), index=False, lineterminator="\n")
        manifest = {"generator": "survey_lib.demo", "seed": data.seed, "format": fmt,
                    "kommuner": data.kommuner,
                    "note": note}
        for name, frame in (extra or {}).items():
            frame.to_csv(stage.file(name), index=False, lineterminator="\n")
        stage.file("demo_manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
        for role in ("population", "sample", "responses"):    # one file per role: drop other formats
            for ext in WRITE_FORMATS:
                stale = out / f"{role}.{ext}"
                if ext != fmt and stale.exists():
                    stale.unlink()
        names = list(stage.names)
    return [out / n for n in names]
