"""Half-done work never stays: the batch after kill -9, a failing rerun, a second batch on the same
output, an output folder it cannot write, and a full disk.

The batch runs small notebooks of its own here (the tables stage still runs on the twin), so that a
run takes seconds; ``b_langsom`` sleeps while the flag file ``SLOW`` exists, which lets a test kill
the batch while a notebook runs.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from typer.testing import CliRunner

from survey_lib.batch.runner import BatchOptions, run_batch
from survey_lib.cli import app
from survey_lib.demo import generate, write_dataset
from survey_lib.errors import SurveyError
from survey_lib.paths import ProjectPaths

PARAMS = "kommune = None\ndata_dir = None\nparams_dir = None\ntables_dir = None\nwave = 'x'"


def _notebook(path: Path, *sources: str) -> None:
    p = new_code_cell(PARAMS)
    p.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell(f"# {path.stem}"), p, *(new_code_cell(s) for s in sources)],
                      metadata={"kernelspec": {"name": "survey-lib", "display_name": "s", "language": "python"}})
    nbformat.write(nb, path)


def options(root: Path, **over) -> BatchOptions:
    base = dict(data_dir=root / "data", out_root=root / "out", params_dir=ProjectPaths().params,
                notebooks_dir=root / "notebooks", kommuner=("Odder",), jobs=2, progress=False, audit=False)
    base.update(over)
    return BatchOptions(**base)


def _batch_process(root: Path, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """The batch of ``root`` in a process of its own (what a user kills)."""
    o = options(root)
    code = ("from pathlib import Path; from survey_lib.batch.runner import BatchOptions, run_batch; "
            f"run_batch(BatchOptions(data_dir=Path({str(o.data_dir)!r}), out_root=Path({str(o.out_root)!r}), "
            f"params_dir=Path({str(o.params_dir)!r}), notebooks_dir=Path({str(o.notebooks_dir)!r}), "
            "kommuner=('Odder',), jobs=2, progress=False, audit=False), log=lambda m: None)")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=stderr,
                            env={**os.environ, "PYTHONPATH": str(ProjectPaths().root)})


def _cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:      # gone, or a zombie
        return ""


def _linked_pages(wave: Path) -> list[Path]:
    index = (wave / "index.html").read_text(encoding="utf-8")
    return [wave / href for href in re.findall(r'<li class="ok"><a href="([^"]+\.html)"', index)]


@pytest.fixture(scope="module")
def killed(tmp_path_factory, params, twin_dir):
    """A batch that ran, then its data changed, then a rerun killed with kill -9 (its main process
    only) while a notebook ran, after the new tables were written; what it saw and left."""
    root = tmp_path_factory.mktemp("faults")
    shutil.copytree(twin_dir, root / "data")
    (root / "notebooks").mkdir()
    slow = root / "SLOW"
    _notebook(root / "notebooks" / "a_hurtig.ipynb", "x = 1")
    _notebook(root / "notebooks" / "b_langsom.ipynb",
              f"import os, time\nwhile os.path.exists({str(slow)!r}):\n    time.sleep(0.2)")
    first = run_batch(options(root), log=lambda m: None)
    assert first.ok, first.jobs
    wave = first.wave_dir
    tables = wave / "alle" / "tabeller" / "tables.csv"
    before = tables.stat().st_mtime_ns
    write_dataset(generate(params, seed=2024), root / "data")           # new data: every job and table changes
    slow.touch()
    proc = _batch_process(root)
    seen: dict = {"kids": [], "second_batch": None}
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            time.sleep(0.5)
            kids = psutil.Process(proc.pid).children(recursive=True)
            kernels = [k for k in kids if "ipykernel" in _cmdline(k)]
            staging = wave / ".staging"
            if tables.stat().st_mtime_ns != before and len(kernels) >= 2 and staging.is_dir() \
                    and any(staging.iterdir()):
                seen["kids"] = kids
                break
        else:
            pytest.fail("the rerun did not reach the slow notebook")
        # a second batch on the same --out while the first runs (in a process of its own: if it
        # were not refused, it would wait for the slow notebook too)
        second = _batch_process(root, stderr=subprocess.PIPE)
        try:
            _, err = second.communicate(timeout=120)
            seen["second_batch"] = err.decode(errors="replace") if second.returncode else None
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
        proc.send_signal(signal.SIGKILL)       # the main process only
        proc.wait(timeout=30)
        seen["t_kill"] = time.time()
        _, seen["alive"] = psutil.wait_procs(seen["kids"], timeout=20)
        seen["leftovers"] = sorted(str(p.relative_to(wave)) for p in (wave / ".staging").rglob("*"))
        lock = root / "out" / ".batch.lock"
        seen["lock"] = json.loads(lock.read_text()) if lock.is_file() else None
        seen["linked"] = _linked_pages(wave)
        seen["tables_mtime"] = tables.stat().st_mtime
    finally:
        slow.unlink(missing_ok=True)
        if proc.poll() is None:
            proc.kill()
        for k in seen["kids"]:
            if k.is_running():
                k.kill()
    return root, wave, seen


def test_killing_the_main_process_stops_its_workers_and_kernels(killed):
    _, _, seen = killed
    def running(p):
        try:
            return p.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    assert seen["kids"] and not [k for k in seen["alive"] if running(k)], seen["alive"]


def test_a_second_batch_on_the_same_out_is_refused_while_one_runs(killed):
    _, _, seen = killed
    assert seen["second_batch"] is not None, "the second batch was not refused"
    assert re.search(r"another batch is writing to this --out .*pid \d+ .*Wait for it to finish", seen["second_batch"])


def test_after_a_kill_following_a_data_change_no_old_page_is_linked(killed):
    _, wave, seen = killed
    # every page the index links as a result is newer than its scope's tables
    for page in seen["linked"]:
        tables = page.parent / "tabeller" / "tables.csv"
        assert page.stat().st_mtime >= tables.stat().st_mtime, f"{page} is older than {tables} but linked"


def test_the_next_run_removes_what_the_killed_run_left_and_takes_over_its_lock(killed):
    root, wave, seen = killed
    assert seen["leftovers"], "the killed run left no staging (the test did not kill mid-run)"
    # what papermill leaves there when it saves after every cell (batch.kernel_reuse: 1): a partial notebook
    partial = wave / seen["leftovers"][0] / "odder__b_langsom.12345.ipynb"
    partial.write_text('{"cells": [')
    assert seen["lock"] and seen["lock"]["pid"] not in psutil.pids()      # the killed run's lock: stale
    # an all-or-nothing folder abandoned mid-write, and a single file's temporary copy
    abandoned = Path(tempfile.mkdtemp(prefix=".tabeller-", dir=wave / "odder"))
    (abandoned / "tables.csv").write_bytes(b"")
    (wave / ".index.html.99999.tmp").write_text("<html")
    logs: list[str] = []
    result = run_batch(options(root), log=logs.append)
    assert result.ok, result.jobs
    assert any("taken over" in m for m in logs), logs
    assert not (wave / ".staging").exists() and not abandoned.exists()
    assert not list(wave.rglob("*.tmp")) and not list(wave.rglob(".tabeller-*"))
    assert not (root / "out" / ".batch.lock").exists()                 # released at the end
    linked = _linked_pages(wave)
    assert len(linked) == 4 and all(p.stat().st_mtime >= (p.parent / "tabeller" / "tables.csv").stat().st_mtime
                                    for p in linked)


def test_a_failing_rerun_does_not_leave_the_earlier_page_as_if_current(killed):
    root, wave, _ = killed
    run_batch(options(root), log=lambda m: None)                        # everything current
    page = wave / "odder" / "a_hurtig.html"
    assert page.is_file()
    _notebook(root / "notebooks" / "a_hurtig.ipynb", "x = 1", "raise RuntimeError('planted')")
    try:
        result = run_batch(options(root), log=lambda m: None)
        failed = result.jobs[result.jobs["status"] == "failed"]
        assert set(failed["notebook"]) == {"a_hurtig"} and set(failed["kind"]) == {"cell_error"}
        assert not page.exists() and not (wave / "alle" / "a_hurtig.html").exists()
        assert all("a_hurtig" not in p.name for p in _linked_pages(wave))
    finally:
        _notebook(root / "notebooks" / "a_hurtig.ipynb", "x = 1")


def test_a_live_lock_refuses_and_a_stale_one_is_taken_over(tmp_path):
    from survey_lib.batch.outdir import BatchLock

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        (tmp_path / ".batch.lock").write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(),
                                                          "started": time.time(), "started_utc": "nu"}))
        with pytest.raises(SurveyError, match=rf"another batch is writing to this --out .*pid {sleeper.pid}"):
            BatchLock(tmp_path).acquire()
    finally:
        sleeper.kill()
        sleeper.wait()
    logs: list[str] = []
    with BatchLock(tmp_path, log=logs.append):              # its process is gone: stale
        assert json.loads((tmp_path / ".batch.lock").read_text())["pid"] == os.getpid()
    assert logs and "no longer running" in logs[0] and not (tmp_path / ".batch.lock").exists()


def _cli_run(out: Path):
    return CliRunner().invoke(app, ["run", "--out", str(out), "--no-progress", "--kommune", "Odder"])


def test_an_out_below_a_regular_file_is_a_clear_error(tmp_path):
    (tmp_path / "fil").write_text("x")
    result = _cli_run(tmp_path / "fil" / "ud")
    assert result.exit_code == 2 and not isinstance(result.exception, OSError), result.exception
    assert re.search(r"--out .*fil/ud: .*fil is a file, not a folder.*Give --out a folder", result.output)


def test_a_read_only_out_is_a_clear_error(tmp_path, monkeypatch):
    """A read-only file system (simulated: root may write anywhere, so chmod cannot show it)."""
    out = tmp_path / "ro"
    real = os.mkdir

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(out)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only)
    result = _cli_run(out)
    assert result.exit_code == 2 and not isinstance(result.exception, OSError), result.exception
    assert re.search(r"--out .*ro: cannot write .*the file system is read-only.*Give --out a folder you can write to",
                     result.output)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_folder_without_write_permission_is_a_clear_error(tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        result = _cli_run(out)
    finally:
        out.chmod(0o755)
    assert result.exit_code == 2 and re.search(r"cannot write .*no permission", result.output)


def test_a_full_disk_during_the_batch_is_said_as_such(tmp_path, monkeypatch):
    import survey_lib.batch.runner as runner

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "manifest.json"))

    monkeypatch.setattr(runner, "run_batch", full)
    result = _cli_run(tmp_path)
    assert result.exit_code == 2 and not isinstance(result.exception, OSError)
    assert re.search(r"could not write .*manifest.json: the disk is full", result.output)
