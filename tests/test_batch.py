"""The batch runner end to end on the twin: pages, index, manifest, incremental reruns, failures,
parameter checks, the Dask executor, diff, and the audit at the end."""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from survey_lib.batch.diff import diff_manifests
from survey_lib.batch.runner import BatchOptions, run_batch
from survey_lib.errors import SurveyError
from survey_lib.paths import ProjectPaths

NOTEBOOKS = ("00_sammenfatning", "10_moedet_med_jobcentret")


@pytest.fixture(scope="module")
def setup(tmp_path_factory, twin_dir):
    """A batch folder of this module's own (its tests rerun batches into it): a copy of the twin and
    two of the notebooks."""
    root = tmp_path_factory.mktemp("batch")
    shutil.copytree(twin_dir, root / "data")
    nbs = root / "notebooks"
    nbs.mkdir()
    for n in NOTEBOOKS:
        shutil.copy(ProjectPaths().notebooks / f"{n}.ipynb", nbs / f"{n}.ipynb")
    return root


def options(root, **over):
    base = dict(data_dir=root / "data", out_root=root / "out", params_dir=ProjectPaths().params,
                notebooks_dir=root / "notebooks", kommuner=("Odder",), jobs=2, progress=False, audit=False)
    base.update(over)
    return BatchOptions(**base)


@pytest.fixture(scope="module")
def first(setup):
    """This module's own batch (2 scopes x 2 notebooks, no audit: the shared pilot batch shows the
    audit), which the tests below rerun, change and break."""
    return run_batch(options(setup), log=lambda m: None)


def test_every_page_index_and_manifest(pilot_batch):
    """The shared pilot batch (every notebook for all municipalities and Odder, with the audit)."""
    wave = pilot_batch.wave_dir
    every = [p.stem for p in sorted(ProjectPaths().notebooks.glob("*.ipynb"))]
    assert not pilot_batch.audit_findings
    assert {j["status"] for j in pilot_batch.jobs} == {"ok"} and len(pilot_batch.jobs) == 2 * len(every)
    for scope in ("alle", "odder"):
        for n in every:
            page = (wave / scope / f"{n}.html").read_text()
            # self-contained: no request leaves the page (relative links only to the batch's own files)
            refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
            assert all(r.startswith(("data:", "#")) or (wave / scope / r).resolve().is_file() for r in refs), refs
            assert "../index.html" in refs
            assert "<script" not in page.lower() and "@import" not in page
            assert page.count('<details class="survey-code">') >= 2                 # code folded
            # the page carries its few CSS rules; no stylesheet is linked
            assert "<link" not in page and page.count("<style>") == 1
            assert len(page.split("<style>")[1].split("</style>")[0]) < 16_000
            assert "Data (SHA-256)" in page and "Git-commit" in page and "Kerne" in page and "Parametre" in page
        assert (wave / scope / "tabeller" / "tables.csv").is_file()
        assert (wave / scope / "tabeller" / "tabeller.xlsx").is_file()
        assert (wave / scope / "tabeller" / "frafald" / "response_rates.csv").is_file()
        assert json.loads((wave / scope / "provenance.json").read_text())["scope"] == {"alle": "all", "odder": "Odder"}[scope]
    # no shared stylesheet (JupyterLab's theme was 262 kB)
    assert not (wave / "style.css").exists()
    manifest = pilot_batch.manifest
    assert manifest["kernel"] == "survey-lib" and ".venv" in manifest["kernel_python"]
    assert set(manifest["jobs"]) == {f"{s}/{n}" for s in ("alle", "odder") for n in every}
    assert manifest["headlines"]["Odder"]["weighting"]["respondents"] > 0
    assert manifest["audit"]["findings"] == []
    index, status = (wave / "index.html").read_text(), (wave / "status.html").read_text()
    assert 'href="odder/10_moedet_med_jobcentret.html"' in index and "Lækagekontrollen fandt intet" in status
    assert "Overordnet tilfredshed" in index and "Samlet tilfredshed" not in index and "Designeffekt" in status


def test_the_municipality_folder_holds_only_its_own_and_aggregates(pilot_batch):
    import pandas as pd

    t = pd.read_csv(pilot_batch.wave_dir / "odder" / "tabeller" / "tables.csv", keep_default_na=False)
    assert set(t["scope"]) == {"Odder", "all"}
    assert set(t.loc[t["scope"] == "all", "breakdown"]) == {"total", "kommune"}
    # its workbook: its own tables and the all-municipality totals; each municipality's result is
    # in the workbook of 'alle'
    from openpyxl import load_workbook

    def rows(path):
        ws = load_workbook(path, read_only=True)["Overordnet tilfredshed"]
        values = list(ws.iter_rows(values_only=True))[1:]      # the twin's banner row first
        return [dict(zip(values[0], v)) for v in values[1:]]

    own = rows(pilot_batch.wave_dir / "odder" / "tabeller" / "tabeller.xlsx")
    assert {(r["Omfang"], r["Opdeling"]) for r in own if r["Omfang"] == "Alle kommuner"} == {("Alle kommuner", "I alt")}
    assert any(r["Omfang"] == "Odder" for r in own)
    everyone = rows(pilot_batch.wave_dir / "alle" / "tabeller" / "tabeller.xlsx")
    assert {r["Opdeling"] for r in everyone} >= {"I alt", "Kommune"}


def test_a_rerun_with_nothing_changed_runs_nothing(first, setup):
    again = run_batch(options(setup), log=lambda m: None)
    assert set(again.jobs["status"]) == {"skipped"} and set(again.jobs["reason"]) == {"uændret"}
    assert again.ok


def test_a_changed_notebook_reruns_only_itself_and_says_why(first, setup):
    path = setup / "notebooks" / "10_moedet_med_jobcentret.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell("1 + 1"))
    nbformat.write(nb, path)
    again = run_batch(options(setup), log=lambda m: None)
    ran = again.jobs[again.jobs["status"] == "ok"]
    assert set(ran["notebook"]) == {"10_moedet_med_jobcentret"} and len(ran) == 2
    assert set(ran["reason"]) == {"notebook ændret"}


def test_a_failing_notebook_is_isolated_reported_and_retried(first, setup):
    bad = setup / "notebooks" / "99_fejl.ipynb"
    nb = nbformat.read(setup / "notebooks" / "00_sammenfatning.ipynb", as_version=4)
    nb.cells.append(new_code_cell("raise RuntimeError('planted')"))
    nbformat.write(nb, bad)
    try:
        result = run_batch(options(setup), log=lambda m: None)
        assert not result.ok
        failed = result.jobs[result.jobs["status"] == "failed"]
        assert set(failed["notebook"]) == {"99_fejl"} and set(failed["kind"]) == {"cell_error"}
        assert (result.wave_dir / "_fejlede" / "odder" / "99_fejl.ipynb").is_file()
        assert "fejlet" in (result.wave_dir / "index.html").read_text()
        nb.cells.pop()
        nbformat.write(nb, bad)
        retried = run_batch(options(setup, retry_failed=True), log=lambda m: None)
        assert set(retried.jobs.loc[retried.jobs["status"] == "ok", "notebook"]) == {"99_fejl"}
        assert retried.ok and not (result.wave_dir / "_fejlede" / "odder" / "99_fejl.ipynb").exists()
    finally:
        bad.unlink(missing_ok=True)


def test_parameters_are_checked_against_every_notebook(setup, tmp_path):
    nbs = tmp_path / "nbs"
    shutil.copytree(setup / "notebooks", nbs)
    path = nbs / "00_sammenfatning.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("tables_dir = None", "tabeller = None")
    nbformat.write(nb, path)
    with pytest.raises(SurveyError, match=r"notebook '00_sammenfatning' .* has no parameter 'tables_dir'"):
        run_batch(options(setup, notebooks_dir=nbs, out_root=tmp_path / "out"), log=lambda m: None)
    with pytest.raises(SurveyError, match=r"--kommune: unknown municipality 'Atlantis'; expected names from kommuner.yaml"):
        run_batch(options(setup, kommuner=("Atlantis",)), log=lambda m: None)
    with pytest.raises(SurveyError, match=r"--notebook: unknown notebook\(s\) \['99_nej'\]"):
        run_batch(options(setup, notebooks=("99_nej",)), log=lambda m: None)


def test_diff_lists_changed_headline_numbers(pilot_batch, tmp_path):
    old = tmp_path / "old.json"
    manifest = pilot_batch.manifest
    manifest["headlines"]["Odder"]["scores"]["tilfredshed"]["mean"] += 0.1
    old.write_text(json.dumps(manifest))
    changes = diff_manifests(old, pilot_batch.wave_dir)
    assert list(changes["what"]) == ["scores.tilfredshed.mean"] and list(changes["scope"]) == ["Odder"]
    assert diff_manifests(pilot_batch.wave_dir, pilot_batch.wave_dir).empty


def _page_body(path) -> str:
    """A page without its provenance footer (which holds the run's time) and its previous/next
    links (which depend on the pages the batch made: a run of one notebook links none)."""
    page = path.read_text(encoding="utf-8").split('<footer class="survey-provenance">')[0]
    return re.sub(r"<!-- survey:pagelinks -->.*?<!-- /survey:pagelinks -->", "", page, flags=re.S)


def _key_numbers(wave_dir, job: str):
    return json.loads((wave_dir / "manifest.json").read_text())["jobs"][job]["key_numbers"]


def test_the_dask_executor_gives_the_same_page_and_numbers(first, setup):
    """The same job on a Dask cluster gives the page and key numbers of the local run."""
    from distributed import LocalCluster

    job, page = "odder/10_moedet_med_jobcentret", first.wave_dir / "odder" / "10_moedet_med_jobcentret.html"
    local_page, local_numbers = _page_body(page), _key_numbers(first.wave_dir, job)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_batch(options(setup, notebooks=("10_moedet_med_jobcentret",), force=True, audit=True,
                                   executor=f"dask://{cluster.scheduler_address}"), log=lambda m: None)
    assert result.ok and set(result.jobs["status"]) == {"ok"}
    assert local_numbers and _key_numbers(first.wave_dir, job) == local_numbers
    assert _page_body(page) == local_page


def test_a_forced_rerun_gives_the_same_numbers_and_pages(first, setup, tmp_path):
    """Deterministic: a forced rerun records the same headline and key numbers and writes the same
    pages (up to the footer's run time)."""
    before = tmp_path / "before.json"
    before.write_text((first.wave_dir / "manifest.json").read_text())
    job, page = "odder/00_sammenfatning", first.wave_dir / "odder" / "00_sammenfatning.html"
    old_page, old_numbers = _page_body(page), _key_numbers(first.wave_dir, job)
    run_batch(options(setup, notebooks=("00_sammenfatning",), force=True), log=lambda m: None)
    assert diff_manifests(before, first.wave_dir).empty
    assert old_numbers and _key_numbers(first.wave_dir, job) == old_numbers and _page_body(page) == old_page


def test_ctrl_c_stops_the_workers_and_leaves_a_true_manifest(first, setup, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil
    from nbformat.v4 import new_markdown_cell, new_notebook

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    params = ("kommune = None\ndata_dir = None\nparams_dir = None\ntables_dir = None\nwave = 'x'")
    for name, body in (("a_hurtig", "x = 1"), ("b_hurtig", "x = 2"), ("c_langsom", "import time\ntime.sleep(120)"),
                       ("d_langsom", "import time\ntime.sleep(120)")):
        p = new_code_cell(params)
        p.metadata["tags"] = ["parameters"]
        nbformat.write(new_notebook(cells=[new_markdown_cell(f"# {name}"), p, new_code_cell(body)],
                                    metadata={"kernelspec": {"name": "survey-lib", "display_name": "s",
                                                             "language": "python"}}), nbs / f"{name}.ipynb")
    out = setup / "out"
    env = {**os.environ, "PYTHONPATH": str(ProjectPaths().root)}
    # the batch in its own process, on our notebooks (the CLI always takes the project's notebooks/)
    cmd = [sys.executable, "-c", "from pathlib import Path; from survey_lib.batch.runner import default_options, run_batch;"
           f"o = default_options(data_dir=Path({str(setup / 'data')!r}), out_root=Path({str(out)!r}),"
           f"notebooks_dir=Path({str(nbs)!r}), kommuner=('Odder',), jobs=2, progress=False); run_batch(o)"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest_path = first.wave_dir / "manifest.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        time.sleep(1)
        jobs = json.loads(manifest_path.read_text()).get("jobs", {}) if manifest_path.is_file() else {}
        done = [k for k, j in jobs.items() if j["notebook"] in ("a_hurtig", "b_hurtig") and j["status"] == "ok"]
        kids = psutil.Process(proc.pid).children(recursive=True)
        # the fast notebooks of 'alle' have finished and the slow ones are running in their kernels
        if len(done) >= 2 and any("ipykernel" in " ".join(c.cmdline()) for c in kids if c.is_running()):
            break
    else:
        proc.kill()
        pytest.fail("the fast notebooks did not finish")
    kids = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    time.sleep(2)
    assert not [k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]   # workers and kernels stopped
    jobs = json.loads(manifest_path.read_text())["jobs"]
    for key, j in jobs.items():                       # every finished page the manifest names exists
        if j["status"] == "ok":
            assert (first.wave_dir / j["html"]).is_file(), key
    assert not any(j["notebook"] in ("c_langsom", "d_langsom") and j["status"] == "ok" for j in jobs.values())
    leftovers = [p for p in first.wave_dir.rglob("*") if p.name.endswith(".tmp") or ".staging" in p.parts]
    assert not leftovers


def test_a_warm_kernel_gives_the_same_page_as_a_fresh_one(first, setup, tmp_path):
    """A notebook run in a kernel that has just run another notebook gives the same page, byte for
    byte up to the run's time in the footer, as one run in a fresh kernel."""
    from survey_lib.batch.jobs import JobSpec, RunSettings
    from survey_lib.batch.warm import shutdown_warm_kernel
    from survey_lib.batch.worker import run_job

    wave = first.wave_dir.name

    def spec(name, reuse, tag):
        nb = setup / "notebooks" / f"{name}.ipynb"
        settings = RunSettings(kernel="survey-lib", timeout=300, retries=1, reuse=reuse, staging=tmp_path / "staging",
                               log_dir=None, cwd=setup / "notebooks", wave=wave, stylesheet="../style.css",
                               index="../index.html", provenance=(("Data", "x"),))
        return JobSpec(job_id=f"odder/{name}", notebook=nb,
                       parameters={"kommune": "Odder", "data_dir": str(setup / "data"),
                                   "params_dir": str(ProjectPaths().params),
                                   "tables_dir": str(first.wave_dir / "odder" / "tabeller"), "wave": wave},
                       html=tmp_path / tag / f"{name}.html", failed=tmp_path / "failed" / f"{name}.ipynb",
                       title=name, scope_label="Odder", settings=settings)

    try:
        assert run_job(spec(NOTEBOOKS[0], 5, "varm")).status == "ok"
        assert run_job(spec(NOTEBOOKS[1], 5, "varm")).status == "ok"      # after the other, same kernel
        assert run_job(spec(NOTEBOOKS[1], 1, "frisk")).status == "ok"     # a kernel of its own
    finally:
        shutdown_warm_kernel()

    warm, fresh = (_page_body(tmp_path / tag / f"{NOTEBOOKS[1]}.html") for tag in ("varm", "frisk"))
    assert warm.count("data:image/svg+xml") >= 2 and warm == fresh


def test_the_output_comparison_finds_a_changed_table_or_page_and_nothing_else(pilot_batch, tmp_path):
    """benchmarks/compare_outputs.py (the before/after check of a speed change): a copy of a batch
    is the same; a changed byte in a table or in a page's body, or a missing file, is a difference;
    run times in the manifest and the pages' footers are not."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("compare_outputs",
                                                  ProjectPaths().root / "benchmarks" / "compare_outputs.py")
    cmp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cmp)
    copy = tmp_path / "wave"
    shutil.copytree(pilot_batch.wave_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    for j in manifest["jobs"].values():
        j["seconds"] += 1.5
    manifest["timings"] = {"total": 1.0}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    page = copy / "odder" / "10_moedet_med_jobcentret.html"
    text = page.read_text(encoding="utf-8")
    body, footer = text.split('<footer class="survey-provenance">')
    page.write_text(body + '<footer class="survey-provenance">' + footer.replace("Varighed", "Varighed "),
                    encoding="utf-8")
    assert cmp.compare(pilot_batch.wave_dir, copy) == []
    page.write_text(body.replace("<h1", "<h1 ", 1) + '<footer class="survey-provenance">' + footer, encoding="utf-8")
    tables = copy / "odder" / "tabeller" / "tables.csv"
    tables.write_bytes(tables.read_bytes().replace(b",", b";", 1))
    (copy / "alle" / "tabeller" / "tests.csv").unlink()
    assert cmp.compare(pilot_batch.wave_dir, copy) == [
        f"only in {pilot_batch.wave_dir}: alle/tabeller/tests.csv", "differs: odder/10_moedet_med_jobcentret.html",
        "differs: odder/tabeller/tables.csv"]
