"""One notebook run, in a worker process: papermill, honest status, HTML export, atomic writes.

:func:`run_job` takes a :class:`~survey_lib.batch.jobs.JobSpec` (picklable, so that a process pool
or a Dask cluster can run it) and returns a :class:`~survey_lib.batch.jobs.JobResult`. It never
raises for a failing notebook: the failure is classified and returned, the partial executed
notebook is kept, marked failed, and the job's earlier page is removed (it is no longer current).

Failure kinds
-------------
``cell_error``   a cell raised (papermill's PapermillExecutionError)
``timeout``      a cell ran longer than the per-notebook limit (nbclient's CellTimeoutError)
``dead_kernel``  the kernel died while running (nbclient's DeadKernelError)
``kernel_start`` the kernel could not be started (no such kernel, or start-up failed before any
                 cell ran; start-up failures are retried, e.g. 'Address already in use')
``export``       the notebook ran but its HTML could not be written
``disk_full``    no space left on the device (ENOSPC, or EDQUOT) while the notebook or its page
                 was written: found in the exception's chain, or by a probe write after a kernel
                 died or failed to start
"""

from __future__ import annotations

import errno
import json
import os
import time
import traceback
from dataclasses import replace
from pathlib import Path

from ..atomic import atomic_write_text
from .jobs import JobResult, JobSpec

__all__ = ["run_job", "kernel_python", "FAILURE_KINDS", "is_disk_full", "no_space_at", "start_worker"]

FAILURE_KINDS = ("cell_error", "timeout", "dead_kernel", "kernel_start", "export", "disk_full")
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def start_worker(parent_pid: int) -> None:
    """Initializer of a batch worker process: it stops, with its kernels, when the batch's main
    process is gone (see :func:`survey_lib.parallel.die_with_parent`)."""
    from ..parallel import die_with_parent

    die_with_parent(parent_pid)


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an exception it was raised from or during, is 'no space left on device'."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def no_space_at(folder: Path) -> bool:
    """Whether a small write into ``folder`` fails for want of space (after a kernel died: a full
    disk kills kernels, which then look merely dead)."""
    probe = folder / f".space-probe.{os.getpid()}.tmp"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"\0" * 65536)
            fh.flush()
            os.fsync(fh.fileno())
        return False
    except OSError as exc:
        return exc.errno in _NO_SPACE
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def kernel_python(kernel: str) -> str:
    """The interpreter of the Jupyter kernel ``kernel`` (its kernelspec's argv[0])."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(kernel)
    return os.path.abspath(spec.argv[0]) if spec.argv else ""


def _classify(exc: BaseException, started: bool) -> tuple[str, bool]:
    """(kind, retryable) of an exception raised by papermill."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if is_disk_full(exc):
        return "disk_full", False
    if isinstance(exc, PapermillExecutionError):
        return "cell_error", False
    if isinstance(exc, CellTimeoutError):
        return "timeout", False
    if isinstance(exc, DeadKernelError):
        return ("dead_kernel", False) if started else ("kernel_start", True)
    if isinstance(exc, NoSuchKernel):
        return "kernel_start", False
    if not started:
        return "kernel_start", True
    return "dead_kernel" if "kernel" in str(exc).lower() and "died" in str(exc).lower() else "cell_error", False


def _any_cell_started(path: Path) -> bool:
    import nbformat

    if not path.is_file():
        return False
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # a notebook half-written by papermill: nothing usable ran
        return False
    return any(c.get("cell_type") == "code" and c.get("execution_count") for c in nb.cells)


def _message(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return f"{exc.ename}: {exc.evalue}"[:500]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"[:500]


def _key_numbers(nb) -> list[dict]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {}) if isinstance(out, dict) else {}
            blob = data.get("application/json")
            if isinstance(blob, dict) and "key_numbers" in blob:
                found.append(blob["key_numbers"])
    return found


_STDERR_REDIRECTED = False


def _quiet_stderr(log_dir: Path) -> None:
    """Send this worker's stderr (and its kernels', which inherit it) to a log file, once, so that
    kernel warnings do not break the batch's progress bar."""
    global _STDERR_REDIRECTED
    if _STDERR_REDIRECTED:
        return
    log_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_dir / f"worker-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    _STDERR_REDIRECTED = True


def run_job(spec: JobSpec) -> JobResult:
    """Run one notebook for one scope and export its page to ``spec.html``.

    A failure is classified (see the module docstring), the partial notebook kept in
    ``spec.failed`` and any earlier page at ``spec.html`` removed: a page that exists is the result
    of the job's last run.
    """
    start = time.time()
    st = spec.settings
    if st.log_dir is not None:
        _quiet_stderr(Path(st.log_dir))
    out_nb = Path(st.staging) / f"{spec.job_id.replace('/', '__')}.{os.getpid()}.ipynb"
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    attempts = 0
    try:
        try:
            Path(st.staging).mkdir(parents=True, exist_ok=True)
            attempts, failure = _execute(spec, out_nb)
            if failure is None:
                key_numbers, failure = _export(spec, out_nb, started, start)
            if failure is None:
                Path(spec.failed).unlink(missing_ok=True)
                return JobResult(job_id=spec.job_id, status="ok", attempts=attempts, started=started,
                                 key_numbers=key_numbers, seconds=round(time.time() - start, 3))
        except OSError as exc:      # the staging folder itself could not be written
            failure = _failure(exc, "disk_full" if is_disk_full(exc) else "export")
        result = JobResult(job_id=spec.job_id, status="failed", attempts=attempts, started=started, **failure)
        result = _keep_failed(out_nb, spec, result)
        _remove_page(Path(spec.html))
        return replace(result, seconds=round(time.time() - start, 3))
    finally:
        try:
            out_nb.unlink(missing_ok=True)
        except OSError:
            pass


def _failure(exc: BaseException, kind: str) -> dict:
    return {"kind": kind, "message": _message(exc), "traceback": traceback.format_exc(limit=3)[-2000:]}


def _execute(spec: JobSpec, out_nb: Path) -> tuple[int, dict | None]:
    """Run the notebook into ``out_nb`` (start-up failures retried); (attempts, failure or None)."""
    import papermill as pm

    from .warm import ENGINE_NAME

    st = spec.settings
    # a warm kernel (kept between this worker's notebooks) unless every notebook gets a fresh one;
    # the warm engine writes the partial notebook itself if a run stops, so papermill need not save
    # the whole notebook after every cell
    reuse = int(st.reuse)
    engine = ({"engine_name": ENGINE_NAME, "reuse": reuse, "partial_path": str(out_nb),
               "request_save_on_cell_execute": False} if reuse > 1 else {})
    attempts = 0
    while True:
        attempts += 1
        try:
            pm.execute_notebook(str(spec.notebook), str(out_nb), parameters=dict(spec.parameters),
                                kernel_name=st.kernel, execution_timeout=st.timeout, progress_bar=False,
                                log_output=False, cwd=str(st.cwd), start_timeout=60, **engine)
            return attempts, None
        except BaseException as exc:  # noqa: BLE001 - every failure is classified, none escapes
            if isinstance(exc, KeyboardInterrupt):
                raise
            kind, retry = _classify(exc, _any_cell_started(out_nb))
            if kind in ("dead_kernel", "kernel_start") and no_space_at(Path(st.staging)):
                kind, retry = "disk_full", False
            if retry and attempts <= st.retries:
                time.sleep(0.5 * attempts)
                continue
            return attempts, _failure(exc, kind)


def _export(spec: JobSpec, out_nb: Path, started: str, start: float) -> tuple[tuple, dict | None]:
    """The page of the executed notebook, written atomically; (key numbers, failure or None)."""
    import nbformat

    from .html import export_html

    try:
        nb = nbformat.read(out_nb, as_version=4)
        for cell in nb.cells:      # papermill gives the cell it adds a random id: the page would differ each run
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                cell["id"] = "injected-parameters"
        key_numbers = tuple(_key_numbers(nb))
        st = spec.settings
        prov = list(st.provenance) + [
            ("Omfang", spec.scope_label), ("Kørt", started), ("Varighed", f"{time.time() - start:.1f} s"),
            ("Parametre", json.dumps(dict(spec.parameters), ensure_ascii=False, sort_keys=True))]
        body = export_html(nb, spec.title, st.stylesheet, st.index, spec.scope_label, st.wave, prov)
        atomic_write_text(Path(spec.html), body)
        return key_numbers, None
    except Exception as exc:  # noqa: BLE001
        return (), _failure(exc, "disk_full" if is_disk_full(exc) else "export")


def _remove_page(html: Path) -> None:
    """Remove the page of the job's earlier run: after a failure it would look current."""
    try:
        html.unlink(missing_ok=True)
    except OSError:
        pass


def _keep_failed(out_nb: Path, spec: JobSpec, result: JobResult) -> JobResult:
    """Keep the partial executed notebook (or the input, if nothing ran), marked failed. If even
    that cannot be written (a full disk), the result says so and names no notebook."""
    import nbformat

    source = out_nb if out_nb.is_file() else Path(spec.notebook)
    try:
        nb = nbformat.read(source, as_version=4)
    except Exception:  # noqa: BLE001 - half-written: fall back to the input notebook
        nb = nbformat.read(str(spec.notebook), as_version=4)
    nb.metadata["survey_batch"] = {"status": "failed", "kind": result.kind, "message": result.message,
                                   "job": spec.job_id}
    if "papermill" in nb.metadata:
        nb.metadata["papermill"]["status"] = "failed"     # papermill may have written 'completed'
        nb.metadata["papermill"]["exception"] = True
    try:
        atomic_write_text(Path(spec.failed), nbformat.writes(nb))
    except OSError as exc:
        kind = "disk_full" if is_disk_full(exc) else result.kind
        return replace(result, kind=kind, message=f"{result.message} (the failed notebook could not be kept: "
                                                  f"{_message(exc)})"[:500])
    return replace(result, failed_notebook=str(spec.failed))
