"""Writing a set of files all-or-nothing.

Files are written into a temporary folder beside the target and moved into place only when all of
them are written, so an interrupted run never leaves a half-written output folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_folder", "atomic_write_text"]


class _Staging:
    def __init__(self, tmp: Path) -> None:
        self.path = tmp
        self.names: list[str] = []

    def file(self, name: str) -> Path:
        """Path to write ``name`` to; it is moved into the target when the block ends without error."""
        self.names.append(name)
        return self.path / name


@contextmanager
def atomic_folder(out: Path | str) -> Iterator[_Staging]:
    """Stage files for ``out``; on success move each into ``out`` (created if needed)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        staging = _Staging(tmp)
        yield staging
        out.mkdir(exist_ok=True)
        for name in staging.names:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_text(path: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` under a temporary name beside it, then move it into place:
    a reader sees the old file or the new one, never half of one (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
