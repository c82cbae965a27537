"""The batch: every notebook for every scope, in parallel processes, incremental, fault-isolated.

Stages
------
1. **Tables** (once per batch): load and validate the data, weight, estimate every table and test for
   all municipalities (disclosure control needs them all), and write each scope's tables (CSV and
   Excel) and non-response tables into ``<wave>/<scope>/tabeller``. Skipped when nothing they depend
   on changed.
2. **Notebooks**: one job per scope x notebook, run by papermill in worker processes (or on a Dask
   cluster) and exported to HTML. A job is skipped when its key -- a hash of the notebook source,
   its parameters, the input data, the ``survey_lib`` source, the params files and the lock file --
   equals the key of its last successful run and its page exists.
3. **Index** and **audit**: ``index.html`` and ``manifest.json`` in ``<wave>/``, and the leak audit
   over everything written.

The manifest is rewritten (atomically) after every finished job, so an interrupted batch leaves a
manifest that describes exactly the pages that exist. One batch at a time writes into an output
root (a lock file); it first removes what an interrupted run left half-done, and before it changes
any table it rewrites the index so that no page made from other inputs is linked as a result.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write_text
from ..errors import SurveyError
from ..params import Params
from ..paths import TABLES_DIR, ProjectPaths, project_root, tables_present
from .jobs import ALL, INDEX, MANIFEST, STAGING, Job, JobResult, JobSpec, JobState, RunSettings, is_current, slug
from .outdir import BatchLock, prepare_output, remove_leftovers

__all__ = ["BatchOptions", "BatchResult", "run_batch", "default_options", "slug", "plan_jobs", "notebook_names",
           "MANIFEST"]


@dataclass(frozen=True)
class BatchOptions:
    """What to run. Paths are absolute or relative to the caller's choice; nothing is read from the
    working directory."""

    data_dir: Path
    out_root: Path
    params_dir: Path
    notebooks_dir: Path
    kommuner: tuple[str, ...] | None = None       # None: all municipalities (and always 'all')
    notebooks: tuple[str, ...] | None = None      # None: every notebook in notebooks_dir
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False
    retry_failed: bool = False
    executor: str = "local"
    progress: bool = True
    audit: bool = True


@dataclass(frozen=True)
class BatchResult:
    """The outcome: one row per job (scope, notebook, status, kind, reason, seconds) and the audit."""

    wave_dir: Path
    jobs: pd.DataFrame
    audit_findings: list
    seconds: float

    @property
    def ok(self) -> bool:
        # a municipality left out of the analysis (survey_lib.exclusions) has no pages: not a failure
        return bool((self.jobs["status"].isin(["ok", "skipped", "left_out"])).all()) and not self.audit_findings


def notebook_names(folder: Path) -> list[str]:
    """The notebooks of ``folder`` (file stems), in name order."""
    return sorted(p.stem for p in Path(folder).glob("*.ipynb") if not p.name.startswith("."))


def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()


def _tree_digest(folder: Path, patterns: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for pattern in patterns:
        for p in sorted(folder.rglob(pattern)):
            if "__pycache__" in p.parts:
                continue
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _inputs_digest(data_dir: Path) -> tuple[str, dict[str, str]]:
    from ..io import find_input
    from ..load import file_digest

    paths = {}
    for role in ("population", "sample", "responses"):
        path, faults = find_input(data_dir, role)
        if faults:
            raise SurveyError("; ".join(str(f) for f in faults))
        paths[role] = path
    return file_digest([paths[r] for r in ("population", "sample", "responses")]), {r: str(p) for r, p in paths.items()}


def _check_parameters(notebooks: dict[str, Path], names: set[str]) -> None:
    """Every notebook declares exactly the parameters the batch passes (papermill.inspect_notebook)."""
    import papermill as pm

    problems = []
    for name, path in notebooks.items():
        declared = set(pm.inspect_notebook(str(path)))
        for p in sorted(names - declared):
            problems.append(f"notebook {name!r} ({path}) has no parameter {p!r} in its parameters cell; "
                            f"it declares {sorted(declared)}")
        for p in sorted(declared - names):
            problems.append(f"notebook {name!r} ({path}) declares parameter {p!r}, which the batch does not set; "
                            f"the batch sets {sorted(names)}")
    if problems:
        raise SurveyError("Notebook parameters do not match the batch:\n  - " + "\n  - ".join(problems))


def _read_manifest(path: Path, log=print) -> dict:
    """The last batch's manifest; none (or an unreadable one, said in the log): everything runs."""
    if not path.is_file():
        return {"jobs": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        log(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}); it is rewritten, and every notebook runs")
        return {"jobs": {}}


def _write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n")


def _states(manifest: dict) -> dict[str, JobState]:
    """The manifest's job records, typed."""
    return {k: JobState.from_json(v) for k, v in manifest.get("jobs", {}).items() if isinstance(v, dict)}


_REASONS = {"notebook": "notebook ændret", "parameters": "parametre ændret", "data": "data ændret",
            "survey_lib": "survey_lib ændret", "params": "params ændret", "lock": "låsefil ændret"}


def _reason(old: JobState | None, parts: dict[str, str], html: Path, force: bool) -> str | None:
    """Why a job must run (None: it can be skipped)."""
    if force:
        return "tvunget (--force)"
    if old is None:
        return "ny"
    if old.status != "ok":
        return "fejlede sidst"
    changed = [_REASONS[k] for k, v in parts.items() if old.parts.get(k) != v]
    if changed:
        return ", ".join(changed)
    if not html.is_file():
        return "side mangler"
    return None


def _scopes(opts: BatchOptions, params: Params) -> list[str]:
    chosen = params.check_kommuner(opts.kommuner or [], "--kommune")
    return [ALL] + (chosen or [k.name for k in params.kommuner])


def _notebooks(opts: BatchOptions) -> dict[str, Path]:
    names = list(opts.notebooks) if opts.notebooks else notebook_names(opts.notebooks_dir)
    available = notebook_names(opts.notebooks_dir)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SurveyError(f"--notebook: unknown notebook(s) {unknown}; the notebooks are {available}")
    return {n: opts.notebooks_dir / f"{n}.ipynb" for n in names}


def plan_jobs(opts: BatchOptions, params: Params, digests: dict[str, str], wave_dir: Path,
              manifest: dict) -> list[Job]:
    """One :class:`Job` per scope x notebook, with its key, the reason to run it (or None), and its
    paths."""
    nb_paths = _notebooks(opts)
    scopes = _scopes(opts, params)
    nb_digests = {n: _sha(p.read_bytes()) for n, p in nb_paths.items()}       # each notebook read once
    states = _states(manifest)
    jobs = []
    for scope in scopes:
        tables_dir = wave_dir / slug(scope) / TABLES_DIR
        parameters = {"kommune": None if scope == ALL else scope, "data_dir": str(opts.data_dir),
                      "params_dir": str(opts.params_dir), "tables_dir": str(tables_dir),
                      "wave": params.survey.wave}
        param_digest = _sha(json.dumps(parameters, sort_keys=True))
        for name, path in nb_paths.items():
            parts = {"notebook": nb_digests[name], "parameters": param_digest, **digests}
            job_id = f"{slug(scope)}/{name}"
            html = wave_dir / slug(scope) / f"{name}.html"
            old = states.get(job_id)
            jobs.append(Job(job_id=job_id, scope=scope, notebook_name=name, notebook=path, parameters=parameters,
                            parts=parts, key=_sha(*sorted(f"{k}={v}" for k, v in parts.items())), html=html,
                            failed=wave_dir / "_fejlede" / slug(scope) / f"{name}.ipynb",
                            reason=_reason(old, parts, html, opts.force), previous=old))
    if opts.retry_failed:
        jobs = [replace(j, reason="genkørsel af fejlet (--retry-failed)"
                        if j.previous is not None and j.previous.status != "ok" else None) for j in jobs]
    return jobs


# ---- stage 1: tables and non-response, once per batch ------------------------------------------------
def _tables_reusable(opts: BatchOptions, manifest: dict, key: str, scopes: list[str], wave_dir: Path) -> bool:
    old = manifest.get("tables", {})
    left_out = {s for s, h in manifest.get("headlines", {}).items() if h.get("excluded")}   # no tables of its own
    present = all(tables_present(wave_dir / slug(s) / TABLES_DIR) for s in scopes if s not in left_out)
    return not opts.force and old.get("key") == key and present and set(scopes) <= set(old.get("scopes", []))


def _run_tables(opts: BatchOptions, params: Params, wave_dir: Path, scopes: list[str], key: str,
                manifest: dict, prov: dict, log):
    """Compute (or reuse) every scope's tables; record them in the manifest; return the loaded data
    (None when reused)."""
    from .tables_stage import tables_stage

    if _tables_reusable(opts, manifest, key, scopes, wave_dir):
        log("Tabeller: uændrede, genbruges")
        return None
    outcome = tables_stage(opts.data_dir, params, wave_dir, scopes, opts.jobs, prov, log)
    manifest["tables"] = {"key": key, "scopes": scopes, "seconds": outcome.seconds}
    manifest["headlines"] = outcome.headlines   # with the tables' key, so that a batch stopped later still has them
    return outcome.data


# ---- stage 2: notebooks --------------------------------------------------------------------------------
def _executor(opts: BatchOptions):
    from .worker import start_worker

    if opts.executor == "local":
        # spawned workers (papermill changes the working directory) that die with this process
        return cf.ProcessPoolExecutor(max_workers=max(1, opts.jobs), mp_context=multiprocessing.get_context("spawn"),
                                      initializer=start_worker, initargs=(os.getpid(),)), None
    if opts.executor.startswith("dask://"):
        from distributed import Client

        address = opts.executor[len("dask://"):]
        client = Client(address if "://" in address else f"tcp://{address}")
        return client.get_executor(pure=False), client
    raise SurveyError(f"--executor must be 'local' or 'dask://ADDRESS'; got {opts.executor!r}")


def _kernel(params: Params) -> tuple[str, str]:
    from .worker import kernel_python

    kernel = params.survey.batch.kernel
    try:
        return kernel, kernel_python(kernel)
    except Exception as exc:  # noqa: BLE001 - jupyter_client raises NoSuchKernel and OSError
        raise SurveyError(f"the Jupyter kernel {kernel!r} (survey.yaml: batch.kernel) is not installed ({exc}); "
                          "run `make setup`, which registers it inside .venv") from exc


def _digests(opts: BatchOptions, params: Params) -> tuple[dict[str, str], dict[str, str]]:
    """The job keys' parts that every job shares (data, survey_lib, params, lock file), and the
    input files."""
    data_digest, sources = _inputs_digest(opts.data_dir)
    lock = project_root() / "requirements.lock"
    digests = {"data": data_digest,
               "survey_lib": _tree_digest(Path(__file__).resolve().parents[1], ("*.py", "*.j2", "*.json", "*.csv", "*.yaml")),
               "params": params.digest,
               "lock": _sha(lock.read_bytes()) if lock.is_file() else ""}
    return digests, sources


def _run_settings(opts: BatchOptions, params: Params, wave_dir: Path, prov: dict, kernel: str, python: str,
                  run_id: str) -> RunSettings:
    from .html import STYLESHEET

    b = params.survey.batch
    page_prov = (("Bølge", params.survey.wave), ("Data (SHA-256)", prov["data_sha256"]),
                 ("Git-commit", f"{prov.get('git_commit')}{' (ændringer ikke committet)' if prov.get('git_dirty') else ''}"),
                 ("Params (SHA-256)", params.digest), ("Kerne", f"{kernel} ({python})"),
                 ("Pakker", ", ".join(f"{k} {v}" for k, v in sorted(prov.get("packages", {}).items()))))
    return RunSettings(kernel=kernel, timeout=b.timeout_seconds, retries=b.kernel_start_retries, reuse=b.kernel_reuse,
                       staging=wave_dir / STAGING / run_id,
                       log_dir=wave_dir / "_logs" if opts.executor == "local" else None,
                       cwd=opts.notebooks_dir, wave=params.survey.wave, stylesheet=f"../{STYLESHEET}",
                       index=f"../{INDEX}", provenance=page_prov)


def run_batch(opts: BatchOptions, log=print) -> BatchResult:
    """Run the batch described by ``opts``; see the module docstring.

    Raises
    ------
    SurveyError
        Bad options or inputs, an output folder that cannot be written, or another batch writing to
        the same ``out_root``.
    """
    from ..params import load_params

    t_start = time.time()
    params = load_params(opts.params_dir)
    wave_dir = prepare_output(Path(opts.out_root), params.survey.wave)
    with BatchLock(Path(opts.out_root), log):
        removed = remove_leftovers(wave_dir)
        if removed:
            log(f"Fjernet {len(removed)} halvfærdige filer/mapper fra en afbrudt kørsel: "
                + ", ".join(str(p.relative_to(wave_dir)) for p in removed[:5]) + (" ..." if len(removed) > 5 else ""))
        return _run_locked(opts, params, wave_dir, t_start, log)


def _run_locked(opts: BatchOptions, params: Params, wave_dir: Path, t_start: float, log) -> BatchResult:
    from ..provenance import provenance
    from .html import write_stylesheet
    from .index import write_index

    manifest_path = wave_dir / MANIFEST
    manifest = _read_manifest(manifest_path, log)
    digests, sources = _digests(opts, params)
    jobs = plan_jobs(opts, params, digests, wave_dir, manifest)
    to_run = [j for j in jobs if j.reason]
    # the notebooks that run now (an unchanged notebook was checked when it last ran)
    _check_parameters({j.notebook_name: j.notebook for j in to_run}, set(jobs[0].parameters) if jobs else set())
    scopes = sorted({j.scope for j in jobs}, key=lambda s: (s != ALL, s))
    kernel, python = _kernel(params)
    prov = provenance(digests["data"], params.digest, params.survey.wave, sources)
    tables_key = _sha(digests["data"], digests["survey_lib"], digests["params"], digests["lock"])
    tables_stage = bool(to_run) or not manifest.get("tables") or opts.force
    if to_run:   # before any table or page changes: link no page that is not the result of today's inputs
        unchanged = not tables_stage or _tables_reusable(opts, manifest, tables_key, scopes, wave_dir)
        write_index(wave_dir, params, jobs, _states(manifest), manifest.get("headlines", {}) if unchanged else {},
                    None, manifest, tables_key)
    timings: dict[str, float] = {}
    data = None
    if tables_stage:
        t = time.time()
        data = _run_tables(opts, params, wave_dir, scopes, tables_key, manifest, prov, log)
        timings["tables"] = time.time() - t
    headlines = manifest.get("headlines", {})
    left_out = {s: h["excluded"] for s, h in headlines.items() if h.get("excluded")}
    to_run = [j for j in to_run if j.scope not in left_out]   # no pages for a municipality left out
    _summaries(opts, params, wave_dir, [s for s in scopes if s not in left_out], log)
    write_stylesheet(wave_dir)
    manifest.update(wave=params.survey.wave, kernel=kernel, kernel_python=python, digests=digests,
                    provenance={k: v for k, v in prov.items() if k != "packages"}, packages=prov.get("packages", {}))
    results: dict[str, JobResult] = {}
    if to_run:
        _write_json(manifest_path, manifest)
        write_index(wave_dir, params, jobs, _states(manifest), headlines, None, manifest, tables_key)
        log(f"Kører {len(to_run)} notebooks ({len(jobs) - len(to_run)} uændrede springes over) med "
            f"{opts.jobs} proces(ser), executor {opts.executor}")
        t = time.time()
        settings = _run_settings(opts, params, wave_dir, prov, kernel, python, f"{os.getpid()}-{int(t_start)}")
        _execute(opts, to_run, settings, tables_key, manifest, manifest_path, results, log)
        timings["notebooks"] = time.time() - t
    else:
        log(f"Alle {len(jobs)} notebooks er uændrede; intet at køre")
    _write_json(manifest_path, manifest)
    findings = _audit_stage(opts, params, wave_dir, manifest, data, bool(to_run), timings)
    manifest["headlines"] = headlines
    timings["total"] = time.time() - t_start
    # this run's wall time per stage, in seconds (a stage that had nothing to do is left out)
    manifest["timings"] = {k: round(v, 2) for k, v in timings.items()}
    states = _states(manifest)
    write_index(wave_dir, params, jobs, states, headlines, findings, manifest, tables_key)
    _write_json(manifest_path, manifest)
    return BatchResult(wave_dir=wave_dir, jobs=_summary(jobs, results, states, tables_key, left_out),
                       audit_findings=findings,
                       seconds=time.time() - t_start)


def _summaries(opts: BatchOptions, params: Params, wave_dir: Path, scopes: list[str], log) -> None:
    """Each scope's one-page summary (HTML and PDF) from its tables, before the audit reads them."""
    from ..summary import write_summaries
    from ..synthetic import banner_for

    write_summaries(wave_dir, params, [(s, slug(s)) for s in scopes], banner_for(opts.data_dir), log)


def _summary(jobs: list[Job], results: dict[str, JobResult], states: dict[str, JobState],
             tables_key: str, left_out: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per job: what this run did with it (``left_out``: scope -> why it has no pages)."""
    rows = []
    for j in jobs:
        r = results.get(j.job_id)
        if j.scope in (left_out or {}):
            rows.append({"scope": j.scope, "notebook": j.notebook_name, "status": "left_out", "kind": "",
                         "reason": left_out[j.scope], "seconds": 0.0, "message": ""})
            continue
        if r is not None:
            status = r.status
        elif j.reason:
            status = "not_run"
        else:     # not run now: unchanged, or (--retry-failed) left as it was, which may be out of date
            status = "skipped" if is_current(j, states.get(j.job_id), tables_key) else "stale"
        rows.append({"scope": j.scope, "notebook": j.notebook_name, "status": status,
                     "kind": r.kind if r else "", "reason": j.reason or "uændret",
                     "seconds": r.seconds if r else 0.0, "message": r.message if r else ""})
    return pd.DataFrame(rows)


def _audit_stage(opts: BatchOptions, params: Params, wave_dir: Path, manifest: dict, data, ran: bool,
                 timings: dict) -> list:
    """The leak audit over everything written, unless nothing it looks at changed since its last run."""
    if not opts.audit:
        return []
    audit_key = _sha(json.dumps({k: v.get("key") for k, v in manifest.get("jobs", {}).items()}, sort_keys=True),
                     manifest.get("tables", {}).get("key", ""))
    old = manifest.get("audit", {})
    if old.get("key") == audit_key and not ran and data is None:
        return list(old.get("findings", []))
    t = time.time()
    findings = _audit(opts, params, wave_dir, data)
    timings["audit"] = time.time() - t
    manifest["audit"] = {"key": audit_key, "findings": [str(f) for f in findings]}
    return findings


def _state(job: Job, r: JobResult, tables_key: str, wave_dir: Path) -> JobState:
    ok = r.status == "ok"
    return JobState(scope=job.scope, notebook=job.notebook_name, status=r.status, kind=r.kind, message=r.message,
                    seconds=r.seconds, started=r.started, attempts=r.attempts, reason=job.reason,
                    parts=dict(job.parts) if ok else {}, key=job.key if ok else "", tables_key=tables_key if ok else "",
                    html=os.path.relpath(job.html, wave_dir), key_numbers=tuple(r.key_numbers),
                    failed_notebook="" if ok else os.path.relpath(job.failed, wave_dir))


def _died(job: Job, exc: BaseException, staging: Path) -> JobResult:
    """The result of a job whose worker process died (or could not return its result)."""
    from .worker import is_disk_full, no_space_at

    full = is_disk_full(exc) or no_space_at(staging.parent)
    return JobResult(job_id=job.job_id, status="failed", kind="disk_full" if full else "dead_kernel",
                     message=f"worker died: {type(exc).__name__}: {exc}"[:500])


def _execute(opts: BatchOptions, to_run: list[Job], settings: RunSettings, tables_key: str, manifest: dict,
             manifest_path: Path, results: dict[str, JobResult], log) -> None:
    from tqdm import tqdm

    from .worker import run_job

    executor, client = _executor(opts)
    bar = tqdm(total=len(to_run), unit="notebook", desc="Notebooks", disable=not opts.progress, file=sys.stderr,
               dynamic_ncols=True)
    futures = {}
    previous_sigterm = signal.getsignal(signal.SIGTERM)

    def _sigterm(signum, frame):   # a kill stops the batch like Ctrl-C: workers stop, manifest stays true
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _sigterm)
    try:
        for j in to_run:
            futures[executor.submit(run_job, JobSpec.of(j, settings))] = j
        counts = {"ok": 0, "failed": 0}
        for fut in cf.as_completed(futures):
            j = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker process that died
                r = _died(j, exc, Path(settings.staging))
            results[j.job_id] = r
            counts["ok" if r.status == "ok" else "failed"] += 1
            manifest.setdefault("jobs", {})[j.job_id] = _state(j, r, tables_key, manifest_path.parent).to_json()
            _write_json(manifest_path, manifest)
            bar.set_postfix(ok=counts["ok"], fejl=counts["failed"])
            bar.update(1)
    except KeyboardInterrupt:
        log("\nAfbrudt: stopper arbejderne; manifestet beskriver kun færdige sider")
        for f in futures:
            f.cancel()
        if isinstance(executor, cf.ProcessPoolExecutor):
            _kill_workers(executor)
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
        bar.close()
        executor.shutdown(wait=True)
        if client is not None:
            client.close()
        shutil.rmtree(Path(settings.staging), ignore_errors=True)
        try:
            Path(settings.staging).parent.rmdir()     # .staging, when no other run's folder is left
        except OSError:
            pass


def _kill_workers(executor: cf.ProcessPoolExecutor) -> None:
    """Stop the worker processes and everything they started (the kernels), at once."""
    import psutil

    for proc in list(getattr(executor, "_processes", {}).values()):
        try:
            tree = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            tree = []
        for p in tree + [psutil.Process(proc.pid)] if proc.is_alive() else tree:
            try:
                p.kill()
            except psutil.Error:
                pass


def _audit(opts: BatchOptions, params: Params, wave_dir: Path, data) -> list:
    from ..load import load_survey
    from ..privacy.audit import audit_data, audit_outputs

    if data is None:
        data = load_survey(opts.data_dir, params)
    return audit_outputs(wave_dir, **audit_data(data, params), jobs=opts.jobs if opts.executor == "local" else 1)


def default_options(**overrides) -> BatchOptions:
    """Options with the project's default folders (the CLI's defaults)."""
    paths = ProjectPaths()
    base = dict(data_dir=paths.demo_data, out_root=paths.outputs, params_dir=paths.params, notebooks_dir=paths.notebooks)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return BatchOptions(**base)
