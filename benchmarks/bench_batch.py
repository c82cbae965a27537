"""Benchmark: the batch runner against the floor of papermill running an empty notebook.

Run: .venv/bin/python benchmarks/bench_batch.py [--data DIR] [--out DIR] [--skip-full] [--skip-scaling] [--national]
     [--waves] [--dask] [--skip-pilot]

Measured in one run, on this machine:

1. Baseline: papermill executing an empty notebook (parameters cell only) with the project's kernel,
   the mean of 4 runs -- the floor of any notebook (mostly kernel start).
2. A naive notebook: the empty notebook plus ``import pandas, seaborn, statsmodels.api`` (4 runs).
3. The pilot batch (14 scopes x every notebook, tables, HTML, index, audit) from scratch with
   ``--jobs 2``: wall time, the average notebook's own time (from the manifest, HTML export
   included) against the baseline, and peak memory (the sum of the resident memory of the batch's
   process tree, sampled every 0.2 s).
4. A rerun with nothing changed: wall time.
5. Scaling: 16 notebooks (2 scopes x 8) and the whole pilot batch (112) with ``--jobs 1`` and
   ``--jobs 2`` (tables reused, every notebook made stale): the speed-up of the notebook stage and
   of the whole command.
6. ``--national``: the national twin's batch (99 scopes), wall time and peak memory.
7. ``--waves``: the batch ``make report`` runs -- the latest twin wave with its trend pages against
   the earlier twin waves (``survey-report run --wave latest``; the twins of data/demo/<wave>/ are
   made first if missing) -- from scratch: wall time, peak memory, the stages and the average
   page, and the time before the batch's stages (the trend tables, start-up); then three reruns
   with nothing changed; then ``make report`` itself (brought up to date untimed, then three
   reruns with nothing changed: its validation stamps and the batch's skip).
8. ``--dask``: the notebook stage of the pilot twin's batch (data/demo/2023; made first if
   missing) on the local executor and on a Dask ``LocalCluster`` of 2 worker processes with one
   thread each, one after the other in this run (tables made once and reused, every page made
   stale before each): the two stages' times and their ratio.

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"


def _papermill(nb_path: Path, runs: int = 4) -> float:
    import papermill as pm

    times = []
    for _ in range(runs):
        out = nb_path.with_suffix(".out.ipynb")
        t = time.perf_counter()
        pm.execute_notebook(str(nb_path), str(out), kernel_name="survey-lib", progress_bar=False)
        times.append(time.perf_counter() - t)
    return sum(times) / len(times)


def _notebook(path: Path, source: str) -> Path:
    p = new_code_cell("kommune = None")
    p.metadata["tags"] = ["parameters"]
    cells = [p] + ([new_code_cell(source)] if source else [])
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "survey-lib", "display_name": "s",
                                                                      "language": "python"}}), path)
    return path


def _run(args: list[str]) -> tuple[float, float]:
    """Wall time and peak memory (GB, summed over the process tree) of a CLI run."""
    t = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "survey-report"), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0.0
    done = threading.Event()

    def sample():
        nonlocal peak
        p = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                total = p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
            except psutil.Error:
                total = 0
            peak = max(peak, total)
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    proc.wait()
    done.set()
    th.join()
    return time.perf_counter() - t, peak / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--national", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true", help="scale on 16 notebooks only, not on the whole batch")
    ap.add_argument("--skip-pilot", action="store_true", help="no pilot batch and no scaling (with --waves or --national)")
    ap.add_argument("--waves", action="store_true", help="the three-wave batch of make report, and its reruns")
    ap.add_argument("--dask", action="store_true", help="the pilot's notebook stage: local executor against Dask")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    out = a.out or work / "out"
    res: dict = {}
    res["empty_notebook_s"] = round(_papermill(_notebook(work / "empty.ipynb", "")), 2)
    res["naive_notebook_s"] = round(_papermill(_notebook(work / "naive.ipynb",
                                                         "import pandas, seaborn, statsmodels.api")), 2)
    if a.skip_pilot:
        a.skip_full = True
    elif not (a.data / "responses.csv").is_file():
        subprocess.run([str(BIN / "survey-report"), "demo-data", "--out", str(a.data)], check=True)
    if not a.skip_full:
        wall, peak = _run(["run", "--data", str(a.data), "--out", str(out), "--jobs", "2", "--no-progress", "--force"])
        manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
        secs = [j["seconds"] for j in manifest["jobs"].values() if j["status"] == "ok"]
        res["pilot_batch"] = {"wall_s": round(wall, 1), "peak_memory_gb": round(peak, 2), "notebooks": len(secs),
                              "tables_stage_s": manifest.get("tables", {}).get("seconds"),
                              "mean_notebook_s": round(sum(secs) / len(secs), 2),
                              "mean_notebook_vs_empty": round(sum(secs) / len(secs) / res["empty_notebook_s"], 2),
                              "stages_s": manifest.get("timings", {})}
        wall2, _ = _run(["run", "--data", str(a.data), "--out", str(out), "--jobs", "2", "--no-progress"])
        res["rerun_nothing_changed_s"] = round(wall2, 2)
    # Scaling: the same notebooks with 1 and with 2 workers, the tables reused (every notebook made
    # stale, nothing else): 16 notebooks (one municipality and 'alle') and the whole pilot batch (112)
    for label, kommune_args, folder in (("16_notebooks", ["--kommune", "Odder"], work / "scale"),
                                        ("112_notebooks", [], out)):
        if not a.skip_pilot and (not a.skip_scaling or label == "16_notebooks"):
            scaling = {}
            for jobs in (1, 2):
                args = ["run", "--data", str(a.data), "--out", str(folder), *kommune_args, "--jobs", str(jobs),
                        "--no-progress"]
                if next(folder.glob("*/manifest.json"), None) is None:
                    _run(args)                    # the first call makes the tables
                manifest_path = _stale(folder)
                wall, _ = _run(args)
                stage = json.loads(manifest_path.read_text())["timings"]["notebooks"]
                scaling[jobs] = {"command_s": round(wall, 1), "notebook_stage_s": round(stage, 1)}
            # the notebook stage (what the workers share) and the whole command (with its fixed
            # start, index and audit)
            res[f"scaling_{label}"] = {
                **{f"jobs_{k}": v for k, v in scaling.items()},
                "speedup_notebook_stage": round(scaling[1]["notebook_stage_s"] / scaling[2]["notebook_stage_s"], 2),
                "speedup_command": round(scaling[1]["command_s"] / scaling[2]["command_s"], 2)}
    if a.national:
        nat = work / "national"
        subprocess.run([str(BIN / "survey-report"), "demo-data", "--out", str(nat), "--scale", "national"],
                       check=True, stdout=subprocess.DEVNULL)
        wall, peak = _run(["run", "--data", str(nat), "--params", str(nat / "params"), "--out", str(work / "nat-out"),
                           "--jobs", "2", "--no-progress"])
        manifest = json.loads(next((work / "nat-out").glob("*/manifest.json")).read_text())
        secs = [j["seconds"] for j in manifest["jobs"].values() if j["status"] == "ok"]
        res["national_batch"] = {"wall_s": round(wall, 1), "peak_memory_gb": round(peak, 2), "notebooks": len(secs),
                                 "failed": sum(j["status"] != "ok" for j in manifest["jobs"].values()),
                                 "mean_notebook_s": round(sum(secs) / max(len(secs), 1), 2),
                                 "stages_s": manifest.get("timings", {})}
    if a.waves:
        res["waves_batch"] = _waves(work / "waves-out")
    if a.dask:
        res["dask"] = _dask(work / "dask-out")
    print(json.dumps(res, indent=1))
    shutil.rmtree(work, ignore_errors=True)


def _summary(manifest: dict) -> dict:
    jobs = manifest["jobs"].values()
    secs = [j["seconds"] for j in jobs if j["status"] == "ok" and j.get("seconds") is not None]
    return {"notebooks": len(secs), "failed": sum(j["status"] != "ok" for j in jobs),
            "mean_notebook_s": round(sum(secs) / max(len(secs), 1), 2), "stages_s": manifest.get("timings", {})}


def _stale(folder: Path) -> Path:
    """Every job of the batch in ``folder`` marked stale (its key forgotten): the next run makes
    every page again and reuses the tables."""
    manifest_path = next(folder.glob("*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    for j in manifest["jobs"].values():
        j["key"] = "stale"
        j["parts"] = {}
    manifest_path.write_text(json.dumps(manifest))
    return manifest_path


def _dask(out: Path) -> dict:
    """The pilot twin's notebook stage on the local executor and on a Dask LocalCluster (2 worker
    processes, 1 thread each), tables made once before."""
    from distributed import LocalCluster

    data = ROOT / "data" / "demo" / "2023"
    if not (data / "responses.csv").is_file():
        subprocess.run([str(BIN / "survey-report"), "demo-data", "--wave", "2023", "--out", str(data.parent)],
                       check=True, stdout=subprocess.DEVNULL)
    args = ["run", "--data", str(data), "--out", str(out), "--jobs", "2", "--no-progress"]
    _run(args)                                    # tables and pages once
    stages = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        for label, extra in (("local", []), ("dask", ["--executor", f"dask://{cluster.scheduler_address}"])):
            manifest_path = _stale(out)
            wall, _ = _run(args + extra)
            manifest = json.loads(manifest_path.read_text())
            stages[label] = {"command_s": round(wall, 1), "notebook_stage_s": manifest["timings"]["notebooks"],
                             "failed": sum(j["status"] != "ok" for j in manifest["jobs"].values())}
    stages["dask_vs_local_notebook_stage"] = round(stages["dask"]["notebook_stage_s"]
                                                   / stages["local"]["notebook_stage_s"], 3)
    return stages


def _waves(out: Path) -> dict:
    """The batch of ``make report`` (the latest twin wave with its trend pages) from scratch, rerun,
    and ``make report`` rerun."""
    demo = ROOT / "data" / "demo"
    for wave in ("2023", "2024", "2025"):
        if not (demo / wave / "responses.csv").is_file():
            subprocess.run([str(BIN / "survey-report"), "demo-data", "--wave", wave, "--out", str(demo)], check=True,
                           stdout=subprocess.DEVNULL)
    args = ["run", "--wave", "latest", "--out", str(out), "--jobs", "2", "--no-progress"]
    wall, peak = _run(args)
    manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
    res = {"wall_s": round(wall, 1), "peak_memory_gb": round(peak, 2), **_summary(manifest)}
    # what the command spends before the batch's own stages: the trend tables, parameters, start-up
    res["before_stages_s"] = round(wall - manifest.get("timings", {}).get("total", 0.0), 1)
    res["rerun_nothing_changed_s"] = [round(_run(args)[0], 2) for _ in range(3)]
    # make report itself, brought up to date first (a no-op when outputs/ is current), then rerun
    subprocess.run(["make", "-s", "report"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reruns = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(["make", "-s", "report"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        reruns.append(round(time.perf_counter() - t, 2))
    res["make_report_rerun_s"] = reruns
    return res


if __name__ == "__main__":
    sys.exit(main())
