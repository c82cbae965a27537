"""The batch's output folder: checked writable, locked for one batch at a time, and cleared of what
an interrupted run left half-done.

* :func:`prepare_output` creates ``<out>/<wave>`` or says clearly why it cannot (a read-only
  folder, a path below a regular file) instead of a traceback.
* :class:`BatchLock` is a lock file ``<out>/.batch.lock`` holding the owner's pid, host and start
  time. A second batch on the same ``--out`` is refused with a message naming the owner; a lock
  whose process is gone (``kill -9``, a crash) is stale and taken over.
* :func:`remove_leftovers` deletes, under the wave folder, what only an interrupted writer leaves:
  the staging folders of the all-or-nothing folder writer (``<scope>/.tabeller-XXXXXXXX/`` and the
  like), the temporary files of the single-file writer (``.<name>.<pid>.tmp``) and the runs'
  notebook staging (``.staging/``). It runs under the lock, so no other batch is writing there.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import time
from pathlib import Path

from ..errors import SurveyError
from .jobs import LOCK, STAGING

__all__ = ["BatchLock", "prepare_output", "remove_leftovers", "output_error"]

# atomic_folder's staging: '.' + the target's name + '-' + tempfile's 8 random characters
_FOLDER_STAGING = re.compile(r"^\..+-[a-z0-9_]{8}$")
# atomic_write_text's temporary file: '.' + the target's name + '.' + pid + '.tmp'
_FILE_STAGING = re.compile(r"^\..+\.\d+\.tmp$")


def output_error(path: Path, exc: OSError, what: str) -> SurveyError:
    """A clear error for a folder the batch cannot write (the errno said in words, and what to do)."""
    reasons = {errno.EACCES: "no permission to write there", errno.EPERM: "no permission to write there",
               errno.EROFS: "the file system is read-only", errno.ENOTDIR: "a part of the path is a file, not a folder",
               errno.EEXIST: "a file of that name is in the way", errno.ENOSPC: "the disk is full",
               errno.EDQUOT: "the disk quota is used up"}
    why = reasons.get(exc.errno, exc.strerror or str(exc))
    return SurveyError(f"--out {path}: cannot {what} ({why}; {type(exc).__name__} errno {exc.errno}). "
                       "Give --out a folder you can write to.")


def _blocking_file(path: Path) -> Path | None:
    """The first part of ``path`` that exists and is not a folder."""
    for p in [*reversed(path.parents), path]:
        if p.exists() and not p.is_dir():
            return p
    return None


def prepare_output(out_root: Path, wave: str) -> Path:
    """Create ``out_root/wave`` and check that it can be written; return it.

    Raises
    ------
    SurveyError
        The folder cannot be made or written (read-only, no permission, a file in the way); the
        message names the path and why.
    """
    out_root = Path(out_root)
    blocking = _blocking_file(out_root / wave)
    if blocking is not None:
        raise SurveyError(f"--out {out_root}: {blocking} is a file, not a folder, so the batch cannot write "
                          f"{out_root / wave} below it. Give --out a folder (or a path that does not exist yet).")
    wave_dir = out_root / wave
    try:
        wave_dir.mkdir(parents=True, exist_ok=True)
        probe = wave_dir / f".write-test.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise output_error(out_root, exc, f"write {wave_dir}") from exc
    return wave_dir


class BatchLock:
    """``<out_root>/.batch.lock``: held by one batch at a time (a context manager).

    The file holds the owner's pid, host name and start time (JSON). Taking it: create it
    exclusively; if it exists and its pid runs on this host (with a start time not after the
    lock's), another batch is writing: :class:`SurveyError`. Otherwise the lock is stale (its batch
    was killed) and is taken over; ``log`` says so.
    """

    def __init__(self, out_root: Path, log=print) -> None:
        self.path = Path(out_root) / LOCK
        self.log = log
        self.held = False

    def __enter__(self) -> "BatchLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _owner(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def acquire(self) -> None:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                owner = self._owner()
                if _alive(owner):
                    raise SurveyError(
                        f"another batch is writing to this --out ({self.path.parent}): pid {owner.get('pid')} on "
                        f"{owner.get('host')}, started {owner.get('started_utc', '?')} (lock file {self.path}). "
                        "Wait for it to finish, stop it, or give this batch another --out.") from None
                self.log(f"{self.path}: lock of a batch that is no longer running (pid {owner.get('pid')}); taken over")
                self.path.unlink(missing_ok=True)
                continue
            except OSError as exc:
                raise output_error(self.path.parent, exc, f"create the lock file {self.path}") from exc
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(me, fh)
            self.held = True
            return
        raise SurveyError(f"{self.path}: could not take the batch lock (other batches keep taking it); try again")

    def release(self) -> None:
        if self.held and self._owner().get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False


def _alive(owner: dict) -> bool:
    """Whether the lock's owner still runs (a pid reused by a later process does not count)."""
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return False
    if owner.get("host") not in (None, socket.gethostname()):
        return True             # another machine's batch: its pid cannot be checked from here
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return proc.create_time() <= float(owner.get("started", time.time())) + 1.0
    except psutil.Error:
        return False


def remove_leftovers(wave_dir: Path) -> list[Path]:
    """Delete what interrupted writers left under ``wave_dir`` (see the module docstring); return
    what was removed. Call it only while holding the :class:`BatchLock`."""
    removed = []
    staging = wave_dir / STAGING
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    for dirpath, dirnames, filenames in os.walk(wave_dir):
        for name in list(dirnames):
            if _FOLDER_STAGING.match(name):
                shutil.rmtree(Path(dirpath) / name, ignore_errors=True)
                removed.append(Path(dirpath) / name)
                dirnames.remove(name)
        for name in filenames:
            if _FILE_STAGING.match(name):
                (Path(dirpath) / name).unlink(missing_ok=True)
                removed.append(Path(dirpath) / name)
    return removed
