"""Provenance: which data, code version and parameters made an output."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .paths import project_root

__all__ = ["provenance"]

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
    return {
        "wave": wave,
        "data_sha256": data_digest,
        "data_files": {k: Path(v).name for k, v in (data_sources or {}).items()},
        "params_sha256": params_digest,
        "git_commit": commit,
        "git_dirty": bool(status) if status is not None else None,
        "python": sys.version.split()[0],
        "packages": versions,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
