"""What the batch's modules hand each other: names of its files, scopes, and the typed job records.

This module sits below the runner, the worker and the index, and imports none of them.

Records
-------
:class:`Job`        one planned scope x notebook: its key, paths and why it runs (or not).
:class:`RunSettings` what every notebook run of a batch shares (kernel, limits, links, provenance).
:class:`JobSpec`    what a worker needs to run one notebook (picklable: a process pool or Dask).
:class:`JobResult`  what a worker returns; it never raises for a failing notebook.
:class:`JobState`   a job's record in ``manifest.json`` (written after each finished job).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Mapping

__all__ = ["MANIFEST", "INDEX", "LOCK", "STAGING", "ALL", "SCOPE_LABEL_ALL", "Status", "slug", "scope_label",
           "notebook_title", "is_current", "Job", "RunSettings", "JobSpec", "JobResult", "JobState"]

MANIFEST = "manifest.json"
INDEX = "index.html"
LOCK = ".batch.lock"            # in the output root: one batch at a time writes there
STAGING = ".staging"            # <wave>/.staging/<run id>/: a run's temporary notebooks
ALL = "all"
SCOPE_LABEL_ALL = "Alle kommuner"

# ok: page written; failed: see kind; skipped: unchanged since its last successful run;
# not_run: planned but not finished (an interrupted batch, --retry-failed); stale: its last page was
# made from other inputs than the scope's current tables and is not shown as a result.
Status = Literal["ok", "failed", "skipped", "not_run", "stale"]


def slug(name: str) -> str:
    """Folder name of a scope: ``all`` -> ``alle``; 'Høje-Taastrup' -> ``hoeje-taastrup``."""
    if name == ALL:
        return "alle"
    text = name.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "kommune"


def scope_label(scope: str) -> str:
    """What a reader sees for a scope: 'Alle kommuner' or the municipality's name."""
    return SCOPE_LABEL_ALL if scope == ALL else scope


@lru_cache(maxsize=256)
def notebook_title(notebook: str) -> str:
    """The notebook's first '# ' heading (read once per notebook, not once per scope); its file stem
    if it has none."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return Path(notebook).stem


@dataclass(frozen=True)
class JobState:
    """A job's record in the manifest, as the last run that finished it left it.

    ``key`` and ``parts`` are those of the last successful run ('' and {} after a failure);
    ``tables_key`` is the key of the tables the page was made from.
    """

    scope: str
    notebook: str
    status: str
    html: str                                   # relative to the wave folder
    kind: str = ""
    message: str = ""
    seconds: float | None = None
    started: str | None = None
    attempts: int | None = None
    reason: str | None = None
    parts: Mapping[str, str] = field(default_factory=dict)
    key: str = ""
    tables_key: str = ""
    key_numbers: tuple = ()
    failed_notebook: str = ""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["parts"], out["key_numbers"] = dict(self.parts), list(self.key_numbers)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "JobState":
        """A record read back from a manifest (keys this version does not know are ignored: an older
        or newer manifest still plans a batch, its jobs then simply run)."""
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("scope", "")
        values.setdefault("notebook", "")
        values.setdefault("status", "not_run")
        values.setdefault("html", "")
        values["key_numbers"] = tuple(values.get("key_numbers") or ())
        values["parts"] = dict(values.get("parts") or {})
        return cls(**values)


@dataclass(frozen=True)
class Job:
    """One scope x notebook of a batch, as planned.

    ``key`` hashes ``parts`` (the notebook's bytes, its parameters, the data, the ``survey_lib``
    source, the params files and the lock file); ``reason`` says why it runs (None: skipped);
    ``previous`` is its record in the last manifest.
    """

    job_id: str
    scope: str
    notebook_name: str
    notebook: Path
    parameters: Mapping[str, str | None]
    parts: Mapping[str, str]
    key: str
    html: Path
    failed: Path
    reason: str | None
    previous: JobState | None = None


@dataclass(frozen=True)
class RunSettings:
    """What every notebook run of one batch shares."""

    kernel: str
    timeout: int
    retries: int
    reuse: int                  # notebooks per warm kernel; 1: a fresh kernel for each
    staging: Path               # this run's folder for temporary notebooks
    log_dir: Path | None        # worker and kernel stderr (None: left alone, e.g. on Dask)
    cwd: Path                   # the notebooks' working directory
    wave: str
    stylesheet: str             # relative links from a page
    index: str
    provenance: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class JobSpec:
    """One notebook run: the notebook, its parameters, where its page (or the failed notebook)
    goes, and the batch's shared settings."""

    job_id: str
    notebook: Path
    parameters: Mapping[str, str | None]
    html: Path
    failed: Path
    title: str
    scope_label: str
    settings: RunSettings

    @classmethod
    def of(cls, job: Job, settings: RunSettings) -> "JobSpec":
        return cls(job_id=job.job_id, notebook=job.notebook, parameters=dict(job.parameters), html=job.html,
                   failed=job.failed, title=f"{notebook_title(str(job.notebook))} – {scope_label(job.scope)}",
                   scope_label=scope_label(job.scope), settings=settings)


@dataclass(frozen=True)
class JobResult:
    """The outcome of one notebook run (see :mod:`survey_lib.batch.worker` for the failure kinds)."""

    job_id: str
    status: Literal["ok", "failed"]
    kind: str = ""
    message: str = ""
    attempts: int = 0
    seconds: float = 0.0
    started: str | None = None
    key_numbers: tuple = ()
    traceback: str = ""
    failed_notebook: str = ""


def is_current(job: Job, state: JobState | None, tables_key: str) -> bool:
    """Whether the job's page is the result of its present inputs: its last run succeeded with the
    job's present key, from the tables of ``tables_key`` (the scope's present tables), and the page
    exists."""
    return (state is not None and state.status == "ok" and state.key == job.key
            and (not state.tables_key or state.tables_key == tables_key) and Path(job.html).is_file())
