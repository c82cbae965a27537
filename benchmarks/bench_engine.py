"""Benchmark: the estimation engine on the national twin, side by side with R ``survey`` and ``svy``.

Run: .venv/bin/python benchmarks/bench_engine.py [--data DIR] [--skip-peers]

1. The comparable subset: 16 questions x (total, målgruppe, municipality), means with linearized SEs,
   on the reference design (post-stratified to 2,352 cells, municipalities as strata). Timed for our
   engine, R ``survey`` (``svymean``/``svyby``) and ``svy`` (see peers.py; R and svy parts are skipped
   with a message when absent), and the results compared.
2. The whole table set (every question and theme score x 99 scopes x all breakdowns, shares, SEs,
   Rao–Scott, Wald and t-tests with adjustment), timed in a child process whose peak memory is read.

Prints JSON. Baseline for ratios: the peers, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peers  # noqa: E402

from survey_lib.design import build_design  # noqa: E402
from survey_lib.estimate import domain_estimates  # noqa: E402
from survey_lib.load import load_survey  # noqa: E402
from survey_lib.params import load_params  # noqa: E402
from survey_lib.scores import score_matrix  # noqa: E402

GROUPS = ["maalgruppe", "kommune"]


def ours(design, params) -> tuple[float, pd.DataFrame]:
    scores = score_matrix(design.frame, params.questionnaire)
    f = design.frame
    codes = {}
    for g in GROUPS:
        levels, c = np.unique(f[g].astype(str).to_numpy(), return_inverse=True)
        codes[g] = (levels, c)
    t = time.perf_counter()
    rows = []
    zero = np.zeros(design.n, dtype=int)
    for q, y in scores.items():
        est = domain_estimates(design, y, zero, 1, shares=False)
        rows.append((q, "total", "", est.mean[0], est.mean_se[0]))
        for g, (levels, c) in codes.items():
            est = domain_estimates(design, y, c, len(levels), shares=False)
            rows += [(q, g, lv, est.mean[j], est.mean_se[j]) for j, lv in enumerate(levels)]
    seconds = time.perf_counter() - t
    return seconds, pd.DataFrame(rows, columns=["question", "group_var", "group", "mean", "se"])


def whole_table_set(data_dir: Path, params_dir: Path) -> dict:
    code = f"""
import time, resource, json
from survey_lib.params import load_params
from survey_lib.load import load_survey
from survey_lib.design import build_design
from survey_lib.tables import build_tables
p = load_params({str(params_dir)!r})
t0 = time.perf_counter(); d = load_survey({str(data_dir)!r}, p); t1 = time.perf_counter()
des = build_design(d, p); t2 = time.perf_counter()
ts = build_tables(des, p); t3 = time.perf_counter()
print(json.dumps({{"load_validate_seconds": t1 - t0, "weighting_seconds": t2 - t1, "table_set_seconds": t3 - t2,
  "table_rows": len(ts.tables), "tests": len(ts.tests), "scopes": int(ts.tables['scope'].nunique()),
  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, help="a national twin made earlier (demo-data --scale national)")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    if args.data is None:       # the national twin and its params folder, as the CLI writes them
        args.data = work / "national"
        subprocess.run([sys.executable, "-m", "survey_lib.cli", "demo-data", "--out", str(args.data), "--scale",
                        "national"], check=True, stdout=subprocess.DEVNULL)
    params_dir = args.data / "params"
    params = load_params(params_dir)
    design = build_design(load_survey(args.data, params), params)
    result: dict = {"respondents": design.n, "post_strata": int(len(design.post_stratum_labels)),
                    "strata": int(len(design.stratum_labels)), "questions": len(params.questionnaire.likert)}
    sec, mine = ours(design, params)
    result["ours_subset_seconds"] = round(sec, 3)
    if not args.skip_peers:
        resp = design.frame[["person_id", "kommune", "maalgruppe"]].copy()
        resp["stratum"] = design.weighting.post_stratum.to_numpy()
        for q, y in score_matrix(design.frame, params.questionnaire).items():
            resp[q] = y
        resp.to_csv(work / "resp.csv", index=False)
        design.weighting.population_counts.rename("Freq").rename_axis("stratum").reset_index().to_csv(
            work / "pop.csv", index=False)
        qs = [q.id for q in params.questionnaire.likert]
        for name, fn in (("r", peers.run_r), ("svy", peers.run_svy)):
            res = fn(str(work / "resp.csv"), str(work / "pop.csv"), qs, GROUPS)
            if res is None:
                result[f"{name}_subset_seconds"] = None
                continue
            result[f"{name}_subset_seconds"] = round(res["seconds"], 2)
            result[f"speedup_vs_{name}"] = round(res["seconds"] / sec, 1)
            merged = mine.merge(res["results"], on=["question", "group_var", "group"], suffixes=("", "_peer"))
            merged.to_csv(work / f"compare_{name}.csv", index=False)
            result[f"comparison_file_{name}"] = str(work / f"compare_{name}.csv")
            # relative SE differences where the SE is not numerically zero (a group with one answer)
            ok = merged["se_peer"].notna() & (merged["se_peer"] > 1e-8)
            result[f"max_abs_se_diff_vs_{name}"] = float((merged["se"] - merged["se_peer"]).abs().max())
            result[f"max_abs_mean_diff_vs_{name}"] = float((merged["mean"] - merged["mean_peer"]).abs().max())
            result[f"max_rel_se_diff_vs_{name}"] = float(((merged["se"] - merged["se_peer"]).abs()
                                                          / merged["se_peer"])[ok].max())
            result[f"rows_compared_vs_{name}"] = int(len(merged))
    result["whole_table_set"] = whole_table_set(args.data, params_dir)
    result["this_process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
