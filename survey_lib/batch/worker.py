"""One notebook run, in a worker process: papermill, honest status, HTML export, atomic writes.

:func:`run_job` takes a plain dict (picklable, so that a process pool or a Dask cluster can run it)
and returns a plain dict. It never raises for a failing notebook: the failure is classified and
returned, and the partial executed notebook is kept, marked failed.

Failure kinds
-------------
``cell_error``   a cell raised (papermill's PapermillExecutionError)
``timeout``      a cell ran longer than the per-notebook limit (nbclient's CellTimeoutError)
``dead_kernel``  the kernel died while running (nbclient's DeadKernelError)
``kernel_start`` the kernel could not be started (no such kernel, or start-up failed before any
                 cell ran; start-up failures are retried, e.g. 'Address already in use')
``export``       the notebook ran but its HTML could not be written
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

from ..atomic import atomic_write_text

__all__ = ["run_job", "kernel_python", "FAILURE_KINDS"]

FAILURE_KINDS = ("cell_error", "timeout", "dead_kernel", "kernel_start", "export")


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


def run_job(spec: dict) -> dict:
    """Run one notebook for one scope and export its page.

    ``spec`` keys: ``job`` (id), ``notebook`` (path), ``parameters`` (dict), ``kernel``, ``timeout``,
    ``retries``, ``reuse`` (notebooks per warm kernel; 1: a fresh kernel for each), ``html`` (final
    path), ``failed`` (path for a failed notebook), ``staging`` (folder for temporary files), ``cwd``, ``title``, ``scope_label``, ``wave``, ``stylesheet`` and ``index``
    (relative links), ``provenance`` (list of pairs).
    """
    import nbformat
    import papermill as pm

    from .warm import ENGINE_NAME

    start = time.time()
    if spec.get("log_dir"):
        _quiet_stderr(Path(spec["log_dir"]))
    staging = Path(spec["staging"])
    staging.mkdir(parents=True, exist_ok=True)
    out_nb = staging / f"{spec['job'].replace('/', '__')}.{os.getpid()}.ipynb"
    # a warm kernel (kept between this worker's notebooks) unless every notebook gets a fresh one;
    # the warm engine writes the partial notebook itself if a run stops, so papermill need not save
    # the whole notebook after every cell
    reuse = int(spec.get("reuse", 1))
    engine = ({"engine_name": ENGINE_NAME, "reuse": reuse, "partial_path": str(out_nb),
               "request_save_on_cell_execute": False} if reuse > 1 else {})
    attempts = 0
    result = {"job": spec["job"], "status": "failed", "kind": "", "message": "", "attempts": 0,
              "key_numbers": [], "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))}
    try:
        while True:
            attempts += 1
            try:
                pm.execute_notebook(spec["notebook"], str(out_nb), parameters=spec["parameters"],
                                    kernel_name=spec["kernel"], execution_timeout=spec["timeout"],
                                    progress_bar=False, log_output=False, cwd=spec.get("cwd"),
                                    start_timeout=60, **engine)
                break
            except BaseException as exc:  # noqa: BLE001 - every failure is classified, none escapes
                if isinstance(exc, KeyboardInterrupt):
                    raise
                kind, retry = _classify(exc, _any_cell_started(out_nb))
                if retry and attempts <= spec["retries"]:
                    time.sleep(0.5 * attempts)
                    continue
                result.update(kind=kind, message=_message(exc), traceback=traceback.format_exc(limit=3)[-2000:])
                _keep_failed(out_nb, spec, result)
                return result
        nb = nbformat.read(out_nb, as_version=4)
        for cell in nb.cells:      # papermill gives the cell it adds a random id: the page would differ each run
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                cell["id"] = "injected-parameters"
        result["key_numbers"] = _key_numbers(nb)
        try:
            from .html import export_html

            prov = list(spec["provenance"]) + [
                ("Kørt", result["started"]), ("Varighed", f"{time.time() - start:.1f} s"),
                ("Parametre", json.dumps(spec["parameters"], ensure_ascii=False, sort_keys=True))]
            body = export_html(nb, spec["title"], spec["stylesheet"], spec["index"], spec["scope_label"],
                               spec["wave"], prov)
            atomic_write_text(Path(spec["html"]), body)
        except Exception as exc:  # noqa: BLE001
            result.update(kind="export", message=_message(exc), traceback=traceback.format_exc(limit=3)[-2000:])
            _keep_failed(out_nb, spec, result)
            return result
        failed = Path(spec["failed"])
        if failed.exists():
            failed.unlink()
        result["status"] = "ok"
        return result
    finally:
        result["attempts"] = attempts
        result["seconds"] = round(time.time() - start, 3)
        if out_nb.exists():
            out_nb.unlink()


def _keep_failed(out_nb: Path, spec: dict, result: dict) -> None:
    """Keep the partial executed notebook (or the input, if nothing ran), marked failed."""
    import nbformat

    source = out_nb if out_nb.is_file() else Path(spec["notebook"])
    try:
        nb = nbformat.read(source, as_version=4)
    except Exception:  # noqa: BLE001 - half-written: fall back to the input notebook
        nb = nbformat.read(spec["notebook"], as_version=4)
    nb.metadata["survey_batch"] = {"status": "failed", "kind": result["kind"], "message": result["message"],
                                   "job": spec["job"]}
    if "papermill" in nb.metadata:
        nb.metadata["papermill"]["status"] = "failed"     # papermill may have written 'completed'
        nb.metadata["papermill"]["exception"] = True
    atomic_write_text(Path(spec["failed"]), nbformat.writes(nb))
    result["failed_notebook"] = spec["failed"]
