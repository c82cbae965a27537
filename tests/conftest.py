"""Fixtures shared by the whole suite.

Expensive inputs are made once per test session, not once per module, and -- under pytest-xdist --
once for all workers: :func:`_once` builds a folder in the session's common temporary root under a
file lock, and every other worker waits for it and reuses it. Everything here is read-only by
convention: a test that changes files copies them first (``shutil.copytree``).
"""

import fcntl
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builders import PARAMS_DIR  # noqa: E402

#: The scopes and notebooks of :func:`pilot_batch`: all municipalities together and one municipality,
#: every notebook of ``notebooks/`` (so every page type).
PILOT_KOMMUNER = ("Odder",)


def _once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``name``, built by ``build(folder)`` once for the whole session (all xdist
    workers): the first worker to get here builds it under a file lock; the others wait and reuse
    it. A build that fails leaves nothing: the next caller builds again (and fails with its own
    traceback)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent                    # the workers' common root (pytest-of-USER/pytest-N)
    folder, done = base / f"shared-{name}", base / f"shared-{name}.done"
    with open(base / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.is_file():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                try:
                    build(folder)
                except BaseException:
                    shutil.rmtree(folder, ignore_errors=True)
                    raise
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


@pytest.fixture(scope="session")
def params():
    from survey_lib.params import load_params

    return load_params(PARAMS_DIR)


@pytest.fixture(scope="session")
def twin_dir(tmp_path_factory, params):
    """The synthetic twin of the pilot (seed 2023), written once per test session (for all xdist
    workers). Read-only: a test that changes input files writes its own copy
    (``shutil.copytree(twin_dir, tmp_path / "data")``)."""
    from survey_lib.demo import generate, write_dataset

    return _once(tmp_path_factory, "twin", lambda folder: write_dataset(generate(params, seed=2023), folder))


@dataclass(frozen=True)
class PilotBatch:
    """A finished batch on the pilot twin: see :func:`pilot_batch`.

    Attributes
    ----------
    data_dir : Path
        The twin it ran on (:func:`twin_dir`).
    out_root : Path
        The batch's ``--out``.
    wave_dir : Path
        ``out_root / <wave>``: ``index.html``, ``manifest.json``, one folder per scope (``alle``,
        ``odder``) with every notebook's page and ``tabeller/``.
    jobs : list of dict
        The batch's summary, one row per job (scope, notebook, status, kind, reason, seconds).
    audit_findings : list of str
        What the leak audit found (expected: nothing).
    """

    data_dir: Path
    out_root: Path
    wave_dir: Path
    jobs: list
    audit_findings: list

    @property
    def manifest(self) -> dict:
        return json.loads((self.wave_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def pilot_batch(tmp_path_factory, twin_dir) -> PilotBatch:
    """THE shared batch: ``survey-report run`` on the pilot twin for all municipalities together
    and Odder (:data:`PILOT_KOMMUNER`), every notebook of ``notebooks/``, two workers, with the
    tables stage, the index and the leak audit -- 2 scopes x 8 notebooks = 16 pages, every page
    type. Run once per test session for all xdist workers (the accessibility, batch and page tests
    all read it).

    READ-ONLY by convention: never rerun a batch into it, write into it or change its notebooks.
    A test that needs to change something copies what it changes (``shutil.copytree(
    pilot_batch.wave_dir, tmp_path / "wave")``) or runs a batch of its own. Returns a
    :class:`PilotBatch`; its jobs all ran ``ok`` (checked here, so a broken batch fails every test
    that uses it with the batch's own summary).
    """
    from survey_lib.batch.runner import BatchOptions, run_batch
    from survey_lib.paths import ProjectPaths

    def build(folder: Path) -> None:
        from browser import weasyprint_or_why

        weasyprint_or_why()      # the one-page summaries' PDF: pango installed with apt when missing
        result = run_batch(BatchOptions(data_dir=twin_dir, out_root=folder / "out", params_dir=ProjectPaths().params,
                                        notebooks_dir=ProjectPaths().notebooks, kommuner=PILOT_KOMMUNER, jobs=2,
                                        progress=False), log=lambda m: None)
        (folder / "result.json").write_text(json.dumps({
            "wave_dir": str(result.wave_dir), "jobs": result.jobs.to_dict(orient="records"),
            "audit_findings": [str(f) for f in result.audit_findings]}, ensure_ascii=False, default=str))

    folder = _once(tmp_path_factory, "pilot-batch", build)
    saved = json.loads((folder / "result.json").read_text())
    batch = PilotBatch(data_dir=twin_dir, out_root=folder / "out", wave_dir=Path(saved["wave_dir"]),
                       jobs=saved["jobs"], audit_findings=saved["audit_findings"])
    failed = [j for j in batch.jobs if j["status"] != "ok"]
    assert not failed, f"the shared pilot batch has failed jobs: {failed}"
    return batch
