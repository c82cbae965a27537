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
manifest that describes exactly the pages that exist.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write_text
from ..errors import SurveyError
from ..parallel import fork_map
from ..params import Params
from ..paths import FREE_TEXT_DIR, NONRESPONSE_DIR, TABLES_DIR, ProjectPaths, project_root, tables_present

__all__ = ["BatchOptions", "BatchResult", "run_batch", "default_options", "slug", "plan_jobs", "notebook_names", "MANIFEST"]

MANIFEST = "manifest.json"
INDEX = "index.html"
ALL = "all"
SCOPE_LABEL_ALL = "Alle kommuner"


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


@dataclass
class BatchResult:
    """The outcome: one row per job (scope, notebook, status, kind, reason, seconds) and the audit."""

    wave_dir: Path
    jobs: pd.DataFrame
    audit_findings: list
    seconds: float

    @property
    def ok(self) -> bool:
        return bool((self.jobs["status"].isin(["ok", "skipped"])).all()) and not self.audit_findings


def slug(name: str) -> str:
    """Folder name of a scope: ``all`` -> ``alle``; 'Høje-Taastrup' -> ``hoeje-taastrup``."""
    if name == ALL:
        return "alle"
    text = name.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "kommune"


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


def _reason(old: dict | None, parts: dict[str, str], html: Path, force: bool) -> str | None:
    """Why a job must run (None: it can be skipped)."""
    if force:
        return "tvunget (--force)"
    if old is None:
        return "ny"
    if old.get("status") != "ok":
        return "fejlede sidst"
    names = {"notebook": "notebook ændret", "parameters": "parametre ændret", "data": "data ændret",
             "survey_lib": "survey_lib ændret", "params": "params ændret", "lock": "låsefil ændret"}
    changed = [names[k] for k, v in parts.items() if old.get("parts", {}).get(k) != v]
    if changed:
        return ", ".join(changed)
    if not html.is_file():
        return "side mangler"
    return None


def plan_jobs(opts: BatchOptions, params: Params, digests: dict[str, str], wave_dir: Path,
              manifest: dict) -> list[dict]:
    """One job dict per scope x notebook, with its key, the reason to run it (or None), and its paths."""
    names = list(opts.notebooks) if opts.notebooks else notebook_names(opts.notebooks_dir)
    available = notebook_names(opts.notebooks_dir)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SurveyError(f"--notebook: unknown notebook(s) {unknown}; the notebooks are {available}")
    kommuner = [k.name for k in params.kommuner]
    if opts.kommuner:
        bad = [k for k in opts.kommuner if k not in kommuner]
        if bad:
            raise SurveyError(f"--kommune: unknown municipality {bad}; expected names from kommuner.yaml: {kommuner}")
    scopes = [ALL] + list(opts.kommuner or kommuner)
    nb_paths = {n: opts.notebooks_dir / f"{n}.ipynb" for n in names}
    nb_digests = {n: _sha(p.read_bytes()) for n, p in nb_paths.items()}       # each notebook read once
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
            old = manifest.get("jobs", {}).get(job_id)
            jobs.append({"job": job_id, "scope": scope, "notebook_name": name, "notebook": str(path),
                         "parameters": parameters, "parts": parts, "key": _sha(*sorted(f"{k}={v}" for k, v in parts.items())),
                         "html": str(html), "failed": str(wave_dir / "_fejlede" / slug(scope) / f"{name}.ipynb"),
                         "reason": _reason(old, parts, html, opts.force), "previous": old})
    return jobs


# ---- stage 1: tables and non-response, once per batch ------------------------------------------------
_SHARED: dict = {}


def _scope_one(scope: str) -> str:
    """Non-response analysis and the tables of one scope, written to its folder (runs in a forked
    worker that shares the loaded data and the table set); an error names the scope and folder."""
    try:
        return _scope_tables(scope)
    except Exception as exc:
        raise SurveyError(f"tables of {scope!r} ({_SHARED['wave_dir'] / slug(scope) / TABLES_DIR}): "
                          f"{type(exc).__name__}: {exc}") from exc


def _scope_tables(scope: str) -> str:
    from ..freetext.report import free_text_report
    from ..nonresponse import nonresponse_report

    sh = _SHARED
    report = nonresponse_report(sh["data"], sh["params"], kommune=None if scope == ALL else scope,
                                design=sh["design"], designs=sh["method_designs"]).frames()
    folder = sh["wave_dir"] / slug(scope) / TABLES_DIR
    _write_scope_tables(sh["ts"], sh["diagnostics"], sh["strata"], sh["collapses"], scope, folder, sh["params"],
                        sh["prov_tables"], report)
    _write_free_text(free_text_report(sh["design"], sh["params"], scope, sh["corpus"]), folder)
    _write_json(sh["wave_dir"] / slug(scope) / "provenance.json", {**sh["prov"], "scope": scope})
    return scope


def _write_free_text(report: dict, folder: Path) -> None:
    """The scope's free-text tables (CSV, read by the satisfaction notebook) and the reading sample
    (Excel, with a column for the reader's coding)."""
    from ..atomic import atomic_folder
    from ..export import excel_workbook, write_csvs, write_sheet
    from ..freetext.sample import READING_COLUMNS

    with atomic_folder(folder / FREE_TEXT_DIR) as stage:
        write_csvs(stage, {name: frame for name, frame in report.items() if name != "reading_sample"})
    with atomic_folder(folder) as stage:
        sample = report["reading_sample"].rename(columns=READING_COLUMNS)
        wb = excel_workbook(stage.file("kommentarer_til_laesning.xlsx"))
        write_sheet(wb, "Kommentarer", sample, widths=dict(zip(sample.columns, (16, 22, 18, 90, 24, 30))))
        wb.close()


def _write_scope_tables(ts, diagnostics, strata, collapses, scope: str, folder: Path, params: Params, prov: dict,
                        nonresponse: dict) -> None:
    from ..atomic import atomic_folder
    from ..export import write_csvs, write_table_set
    from ..tables import TableSet

    keep = {scope, ALL}
    if scope == ALL:
        rows = ts.tables["scope"] == ALL
    else:   # its own results, and of the others only the aggregates its report shows
        rows = (ts.tables["scope"] == scope) | ((ts.tables["scope"] == ALL)
                                                & ts.tables["breakdown"].isin(["total", "kommune"]))
    sub = TableSet(tables=ts.tables[rows].reset_index(drop=True),
                   tests=ts.tests[ts.tests["scope"] == scope].reset_index(drop=True),
                   comparisons=ts.comparisons[ts.comparisons["scope"] == scope].reset_index(drop=True),
                   suppression_log=ts.suppression_log[ts.suppression_log["scope"].isin(keep)].reset_index(drop=True))
    kom = diagnostics["kommune"].isin(keep)
    if scope == ALL:
        st, col = strata, collapses
    else:
        st = strata[strata["post_stratum"].astype(str).str.contains(f"/{scope}/", regex=False)] \
            if "post_stratum" in strata.columns else strata.iloc[0:0]
        col = collapses[collapses["cell"].astype(str).str.contains(f"/{scope}/", regex=False)] \
            if "cell" in collapses.columns else collapses.iloc[0:0]
    # the workbook of a municipality: its own tables and the all-municipality totals; every
    # municipality's result (breakdown 'kommune') is in the workbook of 'alle' (the CSV, which the
    # notebooks read, keeps them for the charts)
    book = None if scope == ALL else ~((sub.tables["scope"] == ALL) & (sub.tables["breakdown"] == "kommune"))
    write_table_set(sub, diagnostics[kom].reset_index(drop=True), st, col, folder, params, {**prov, "scope": scope},
                    excel_rows=book)
    with atomic_folder(folder / NONRESPONSE_DIR) as stage:
        write_csvs(stage, nonresponse)


def _headlines(ts, diagnostics: pd.DataFrame, params: Params) -> dict:
    """Per scope: overall satisfaction and theme scores (mean, CI, n), and weighting diagnostics."""
    t = ts.tables[(ts.tables["breakdown"] == "total")].drop_duplicates(["scope", "question"])
    wanted = ["tilfredshed"] + [f"tema_{th.id}" for th in params.questionnaire.themes]
    out: dict[str, dict] = {}
    for scope, part in t[t["question"].isin(wanted)].groupby("scope"):
        out[scope] = {"scores": {r.question: {"mean": None if pd.isna(r.mean) else round(float(r.mean), 6),
                                              "ci": [None if pd.isna(r.mean_ci_low) else round(float(r.mean_ci_low), 6),
                                                     None if pd.isna(r.mean_ci_high) else round(float(r.mean_ci_high), 6)],
                                              "n": None if pd.isna(r.n) else int(r.n)}
                                 for r in part.itertuples()}}
    b = params.survey.batch
    for r in diagnostics.itertuples():
        scope = ALL if r.kommune == "all" else r.kommune
        flags = []
        if r.deff_kish > b.max_design_effect:
            flags.append(f"designeffekt over {b.max_design_effect:g}")
        if r.n_effective < b.min_effective_n:
            flags.append(f"effektivt n under {b.min_effective_n}")
        out.setdefault(scope, {})["weighting"] = {"respondents": int(r.respondents), "n_effective": round(float(r.n_effective), 3),
                                                  "deff_kish": round(float(r.deff_kish), 6), "flags": flags}
    return out


def _tables_stage(opts: BatchOptions, params: Params, wave_dir: Path, scopes: list[str], key: str,
                  manifest: dict, prov: dict, log) -> tuple[dict, object]:
    """Compute (or reuse) every scope's tables; return the headline numbers and the loaded data
    (None when reused)."""
    old = manifest.get("tables", {})
    present = all(tables_present(wave_dir / slug(s) / TABLES_DIR) for s in scopes)
    if not opts.force and old.get("key") == key and present and set(scopes) <= set(old.get("scopes", [])):
        log("Tabeller: uændrede, genbruges")
        return manifest.get("headlines", {}), None
    from ..design import build_design
    from ..load import load_survey
    from ..tables import build_tables
    from ..weighting import weight_summary

    t0 = time.time()
    data = load_survey(opts.data_dir, params)
    design = build_design(data, params)
    ts = build_tables(design, params)
    w = design.weighting
    diagnostics = weight_summary(pd.Series(design.weight), design.frame["kommune"])
    log(f"Tabeller: beregnet på {time.time() - t0:.1f} s; frafaldsanalyser for {len(scopes)} omfang ...")
    pw = {**prov, "weighting": {"method": w.method, "respondents": params.survey.weighting.respondents,
                                "cells": list(params.survey.weighting.cells), "collapses": len(w.collapses)}}
    from ..freetext.report import FreeTextCorpus
    from ..nonresponse import method_designs

    # computed once for all scopes, shared with the forked workers
    _SHARED.update(data=data, params=params, ts=ts, diagnostics=diagnostics, strata=w.strata, collapses=w.collapses,
                   wave_dir=wave_dir, prov=prov, prov_tables=pw, design=design, corpus=FreeTextCorpus(design, params),
                   method_designs=method_designs(data, params, default=design))
    try:
        fork_map(_scope_one, scopes, opts.jobs)
    finally:
        _SHARED.clear()
    headlines = _headlines(ts, diagnostics, params)
    manifest["tables"] = {"key": key, "scopes": scopes, "seconds": round(time.time() - t0, 2)}
    manifest["headlines"] = headlines      # with the tables' key, so that a batch stopped later still has them
    log(f"Tabeller og frafald skrevet på {time.time() - t0:.1f} s")
    return headlines, data


# ---- stage 2: notebooks --------------------------------------------------------------------------------
def _executor(opts: BatchOptions):
    if opts.executor == "local":
        return cf.ProcessPoolExecutor(max_workers=max(1, opts.jobs), mp_context=multiprocessing.get_context("spawn")), None
    if opts.executor.startswith("dask://"):
        from distributed import Client

        address = opts.executor[len("dask://"):]
        client = Client(address if "://" in address else f"tcp://{address}")
        return client.get_executor(pure=False), client
    raise SurveyError(f"--executor must be 'local' or 'dask://ADDRESS'; got {opts.executor!r}")


def run_batch(opts: BatchOptions, log=print) -> BatchResult:
    """Run the batch described by ``opts``; see the module docstring."""
    from ..params import load_params
    from ..provenance import provenance
    from .html import STYLESHEET, write_stylesheet
    from .index import write_index
    from .worker import kernel_python

    t_start = time.time()
    params = load_params(opts.params_dir)
    wave = params.survey.wave
    wave_dir = Path(opts.out_root) / wave
    wave_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = wave_dir / MANIFEST
    manifest = _read_manifest(manifest_path, log)
    data_digest, sources = _inputs_digest(opts.data_dir)
    root = project_root()
    lock = root / "requirements.lock"
    digests = {"data": data_digest,
               "survey_lib": _tree_digest(Path(__file__).resolve().parents[1], ("*.py", "*.j2", "*.json", "*.csv", "*.yaml")),
               "params": params.digest,
               "lock": _sha(lock.read_bytes()) if lock.is_file() else ""}
    jobs = plan_jobs(opts, params, digests, wave_dir, manifest)
    nb_paths = {j["notebook_name"]: Path(j["notebook"]) for j in jobs}
    _check_parameters(nb_paths, set(jobs[0]["parameters"]) if jobs else set())
    if opts.retry_failed:
        for j in jobs:
            prev = j["previous"]
            j["reason"] = "genkørsel af fejlet (--retry-failed)" if prev and prev.get("status") != "ok" else None
    scopes = sorted({j["scope"] for j in jobs}, key=lambda s: (s != ALL, s))
    kernel = params.survey.batch.kernel
    try:
        python = kernel_python(kernel)
    except Exception as exc:  # noqa: BLE001 - jupyter_client raises NoSuchKernel and OSError
        raise SurveyError(f"the Jupyter kernel {kernel!r} (survey.yaml: batch.kernel) is not installed ({exc}); "
                          "run `make setup`, which registers it inside .venv") from exc
    prov = provenance(data_digest, params.digest, wave, sources)
    tables_key = _sha(digests["data"], digests["survey_lib"], digests["params"], digests["lock"])
    to_run = [j for j in jobs if j["reason"]]
    headlines, data = manifest.get("headlines", {}), None
    timings: dict[str, float] = {}
    t = time.time()
    if to_run or not manifest.get("tables") or opts.force:
        headlines, data = _tables_stage(opts, params, wave_dir, scopes, tables_key, manifest, prov, log)
        timings["tables"] = time.time() - t
    write_stylesheet(wave_dir)
    page_prov = [("Bølge", wave), ("Data (SHA-256)", data_digest),
                 ("Git-commit", f"{prov.get('git_commit')}{' (ændringer ikke committet)' if prov.get('git_dirty') else ''}"),
                 ("Params (SHA-256)", params.digest), ("Kerne", f"{kernel} ({python})"),
                 ("Pakker", ", ".join(f"{k} {v}" for k, v in sorted(prov.get("packages", {}).items())))]
    for j in jobs:
        j.update(kernel=kernel, timeout=params.survey.batch.timeout_seconds,
                 retries=params.survey.batch.kernel_start_retries, reuse=params.survey.batch.kernel_reuse,
                 staging=str(wave_dir / ".staging"),
                 log_dir=str(wave_dir / "_logs") if opts.executor == "local" else "",
                 cwd=str(opts.notebooks_dir), wave=wave, stylesheet=f"../{STYLESHEET}", index=f"../{INDEX}",
                 scope_label=SCOPE_LABEL_ALL if j["scope"] == ALL else j["scope"],
                 title=f"{_title(j['notebook'])} – {SCOPE_LABEL_ALL if j['scope'] == ALL else j['scope']}",
                 provenance=page_prov + [("Omfang", SCOPE_LABEL_ALL if j["scope"] == ALL else j["scope"])])
    manifest.update(wave=wave, kernel=kernel, kernel_python=python, digests=digests,
                    provenance={k: v for k, v in prov.items() if k != "packages"}, packages=prov.get("packages", {}))
    results = {j["job"]: {"status": "skipped", "seconds": 0.0} for j in jobs if not j["reason"]}
    if to_run:
        log(f"Kører {len(to_run)} notebooks ({len(jobs) - len(to_run)} uændrede springes over) med "
            f"{opts.jobs} proces(ser), executor {opts.executor}")
        t = time.time()
        _execute(opts, to_run, manifest, manifest_path, results, log)
        timings["notebooks"] = time.time() - t
    else:
        log(f"Alle {len(jobs)} notebooks er uændrede; intet at køre")
    _write_json(manifest_path, manifest)
    findings = []
    audit_key = _sha(json.dumps({k: v.get("key") for k, v in manifest.get("jobs", {}).items()}, sort_keys=True),
                     manifest.get("tables", {}).get("key", ""))
    old_audit = manifest.get("audit", {})
    if opts.audit and not (old_audit.get("key") == audit_key and not to_run and data is None):
        t = time.time()
        findings = _audit(opts, params, wave_dir, data)
        timings["audit"] = time.time() - t
        manifest["audit"] = {"key": audit_key, "findings": [str(f) for f in findings]}
    elif opts.audit:
        findings = list(old_audit.get("findings", []))
    rows = []
    for j in jobs:
        r = results.get(j["job"], {})
        rows.append({"scope": j["scope"], "notebook": j["notebook_name"], "status": r.get("status", "not_run"),
                     "kind": r.get("kind", ""), "reason": j["reason"] or "uændret", "seconds": r.get("seconds", 0.0),
                     "message": r.get("message", "")})
    table = pd.DataFrame(rows)
    manifest["headlines"] = headlines
    timings["total"] = time.time() - t_start
    # this run's wall time per stage, in seconds (a stage that had nothing to do is left out)
    manifest["timings"] = {k: round(v, 2) for k, v in timings.items()}
    write_index(wave_dir, params, jobs, manifest, headlines, findings)
    _write_json(manifest_path, manifest)
    return BatchResult(wave_dir=wave_dir, jobs=table, audit_findings=findings, seconds=time.time() - t_start)


@lru_cache(maxsize=256)
def _title(notebook: str) -> str:
    """The notebook's first '# ' heading (read once per notebook, not once per scope)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return Path(notebook).stem


def _execute(opts: BatchOptions, to_run: list[dict], manifest: dict, manifest_path: Path, results: dict, log) -> None:
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
            spec = {k: v for k, v in j.items() if k not in ("previous",)}
            futures[executor.submit(run_job, spec)] = j
        counts = {"ok": 0, "failed": 0}
        for fut in cf.as_completed(futures):
            j = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker process that died
                r = {"status": "failed", "kind": "dead_kernel", "message": f"worker died: {exc}", "seconds": 0.0,
                     "key_numbers": []}
            results[j["job"]] = r
            counts["ok" if r["status"] == "ok" else "failed"] += 1
            manifest.setdefault("jobs", {})[j["job"]] = {
                "scope": j["scope"], "notebook": j["notebook_name"], "status": r["status"], "kind": r.get("kind", ""),
                "message": r.get("message", ""), "seconds": r.get("seconds"), "started": r.get("started"),
                "attempts": r.get("attempts"), "reason": j["reason"], "parts": j["parts"] if r["status"] == "ok" else {},
                "key": j["key"] if r["status"] == "ok" else "", "html": os.path.relpath(j["html"], manifest_path.parent),
                "key_numbers": r.get("key_numbers", []),
                "failed_notebook": os.path.relpath(j["failed"], manifest_path.parent) if r["status"] != "ok" else ""}
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
        shutil.rmtree(Path(to_run[0]["staging"]), ignore_errors=True)


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
