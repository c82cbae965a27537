"""Peer implementations for the estimation benchmark: R's ``survey`` package and the Python ``svy``.

Both compute the same numbers as the reference design

    d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = respondents)
    d  <- postStratify(d0, ~stratum, population)

and, for every question q, ``svymean(~q, d, na.rm = TRUE)`` plus, for every grouping variable g,
``svyby(~q, ~g, d, svymean, na.rm = TRUE)`` (means and linearized SEs).

    run_r(respondents_csv, population_csv, questions, groups)   -> dict | None
    run_svy(respondents_csv, population_csv, questions, groups) -> dict | None

Each returns None (after printing one line saying why) when its tool is absent, else
``{"seconds": float, "seconds_total": float, "results": DataFrame}``: ``seconds`` is the wall time of
the estimation itself (building the design, post-stratifying, all means and SEs; not start-up, not
reading the CSV files), ``seconds_total`` includes start-up, imports and reading. ``results`` has the
columns question, group_var, group, mean, se; group_var is "total" with group "" for the overall mean.

svy (PyPI ``svy``, the successor of samplics, Rust engine) is not a project dependency and is not in
the lock file. ``run_svy`` imports it lazily; when the running interpreter lacks it, the computation
runs in a subprocess with the interpreter named by the environment variable ``SVY_PYTHON``:

    python3.11 -m venv .venv-svy && .venv-svy/bin/pip install svy pandas
    export SVY_PYTHON=$PWD/.venv-svy/bin/python

The svy form used (svy 0.35)::

    sample = svy.Sample(data, svy.Design(stratum="kommune", wgt="<column of 1.0>"))
    sample = sample.weighting.poststratify(controls={stratum: Freq, ...}, cells="stratum",
                                           wgt_name="ps_wgt")
    sample.estimation.mean(questions, drop_nulls=True)            # one Estimate per question
    sample.estimation.mean(questions, by=g, drop_nulls=True)      # one row per level of g

``poststratify`` records the adjustment on the design (``WgtAdjustment(kind="poststratification")``)
and svy's Taylor variance then centres the scores within post-strata, as R's ``postStratify`` does,
so the SEs include the post-stratification adjustment. ``drop_nulls=True`` keeps the rows with a
missing answer in the design (domain estimation), as R's ``na.rm=TRUE`` does. Checked against R 4.2 /
survey 4.1.1 on synthetic data (600 to 100,000 respondents, up to 2,352 post-strata, groups up to
the post-stratum itself): means agree to 1.5e-13 absolute and SEs to 4e-14 relative.

Caveats: svy's cost grows with the number of domain levels (about 7 ms per question and level on
100,000 rows; R's about 150 ms); svy (polars, Rust) may use both cores, R uses one.

Run standalone to compare the two on a data set:

    .venv/bin/python benchmarks/peers.py compare RESP.csv POP.csv --questions q1,q2 --groups maalgruppe,kommune
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ["question", "group_var", "group", "mean", "se"]
SVY_HINT = ("python3.11 -m venv .venv-svy && .venv-svy/bin/pip install svy pandas, "
            "then set SVY_PYTHON=$PWD/.venv-svy/bin/python")

# --------------------------------------------------------------------------------------------------
# R
# --------------------------------------------------------------------------------------------------

# Arguments: out.csv respondents.csv population.csv n_questions question... group...
_R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
if (!suppressPackageStartupMessages(requireNamespace("survey", quietly = TRUE))) quit(status = 3)
suppressPackageStartupMessages(library(survey))
out <- args[1]; resp_csv <- args[2]; pop_csv <- args[3]
nq <- as.integer(args[4])
questions <- args[5:(4 + nq)]
groups <- if (length(args) > 4 + nq) args[(5 + nq):length(args)] else character(0)

# Every column as text ("" kept as a level, codes keep leading zeros); questions to numbers.
resp <- read.csv(resp_csv, colClasses = "character", na.strings = character(0),
                 check.names = FALSE, encoding = "UTF-8", fileEncoding = "UTF-8")
for (q in questions) resp[[q]] <- suppressWarnings(as.numeric(resp[[q]]))
pop <- read.csv(pop_csv, colClasses = c(stratum = "character", Freq = "numeric"),
                check.names = FALSE, encoding = "UTF-8", fileEncoding = "UTF-8")
fml <- function(v) as.formula(paste0("~`", v, "`"))

res <- vector("list", length(questions) * (1 + length(groups)))
k <- 0L
t0 <- proc.time()[["elapsed"]]
d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = resp)
d <- postStratify(d0, ~stratum, pop)
for (q in questions) {
  m <- svymean(fml(q), d, na.rm = TRUE)
  k <- k + 1L
  res[[k]] <- data.frame(question = q, group_var = "total", group = "",
                         mean = unname(coef(m))[1], se = unname(SE(m))[1])
  for (g in groups) {
    b <- svyby(fml(q), fml(g), d, svymean, na.rm = TRUE)
    k <- k + 1L
    res[[k]] <- data.frame(question = q, group_var = g, group = as.character(b[[g]]),
                           mean = unname(coef(b)), se = unname(SE(b)))
  }
}
seconds <- proc.time()[["elapsed"]] - t0
res <- do.call(rbind, res)
res$mean <- format(res$mean, digits = 17, scientific = FALSE, trim = TRUE)
res$se <- format(res$se, digits = 17, scientific = FALSE, trim = TRUE)
write.csv(res, out, row.names = FALSE, fileEncoding = "UTF-8")
cat(sprintf("SECONDS %.6f\n", seconds))
"""


def run_r(respondents_csv: str, population_csv: str, questions: list[str], groups: list[str]) -> dict | None:
    """The reference computation in R's survey package, timed by R (``proc.time``)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("peers.run_r: skipped, Rscript not found on PATH")
        return None
    with tempfile.TemporaryDirectory(prefix="peers_r_") as tmp:
        script, out = Path(tmp) / "peer.R", Path(tmp) / "results.csv"
        script.write_text(_R_SCRIPT, encoding="utf-8")
        cmd = [rscript, "--vanilla", str(script), str(out), str(respondents_csv), str(population_csv),
               str(len(questions)), *questions, *groups]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        total = time.perf_counter() - t
        if proc.returncode == 3:
            print("peers.run_r: skipped, the R package 'survey' is not installed (install.packages('survey'))")
            return None
        if proc.returncode != 0:
            raise RuntimeError(f"peers.run_r: Rscript failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        seconds = next(float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("SECONDS "))
        import pandas as pd
        res = pd.read_csv(out, dtype={"question": str, "group_var": str, "group": str},
                          keep_default_na=False, na_values={"mean": ["NA", "NaN"], "se": ["NA", "NaN"]})
    res["mean"] = res["mean"].astype(float)
    res["se"] = res["se"].astype(float)
    return {"seconds": seconds, "seconds_total": total, "results": res[COLUMNS]}


# --------------------------------------------------------------------------------------------------
# svy
# --------------------------------------------------------------------------------------------------

def _svy_compute(respondents_csv: str, population_csv: str, questions: list[str],
                 groups: list[str]) -> tuple[float, list[tuple]]:
    """Read, then time the design, the post-stratification and all estimates in svy.

    Needs only svy (and its polars), so that it can run in the SVY_PYTHON interpreter.
    Returns (seconds, rows) with rows as (question, group_var, group, mean, se).
    """
    import polars as pl
    import svy

    # Every column as text (codes keep leading zeros; an empty field stays the level "" as in R),
    # then the questions to numbers (empty = null).
    data = pl.read_csv(respondents_csv, infer_schema=False)
    data = data.with_columns([pl.col(q).cast(pl.Float64) if q in questions else pl.col(q).fill_null("")
                              for q in data.columns])
    pop = pl.read_csv(population_csv, schema_overrides={"stratum": pl.String, "Freq": pl.Float64})
    controls = dict(zip(pop["stratum"].to_list(), pop["Freq"].to_list()))
    base_wgt = "_peer_w0"
    data = data.with_columns(pl.lit(1.0, dtype=pl.Float64).alias(base_wgt))

    rows: list[tuple] = []
    t0 = time.perf_counter()
    sample = svy.Sample(data, svy.Design(stratum="kommune", wgt=base_wgt))
    sample = sample.weighting.poststratify(controls=controls, cells="stratum", wgt_name="_peer_ps_wgt")
    for q, est in zip(questions, sample.estimation.mean(list(questions), drop_nulls=True)):
        r = est.to_polars().row(0, named=True)
        rows.append((q, "total", "", r["est"], r["se"]))
    for g in groups:
        for q, est in zip(questions, sample.estimation.mean(list(questions), by=g, drop_nulls=True)):
            tab = est.to_polars()
            for lev, m, s in zip(tab[g].to_list(), tab["est"].to_list(), tab["se"].to_list()):
                rows.append((q, g, "" if lev is None else str(lev), m, s))
    seconds = time.perf_counter() - t0
    return seconds, rows


def run_svy(respondents_csv: str, population_csv: str, questions: list[str], groups: list[str]) -> dict | None:
    """The same computation in svy: in this interpreter if it has svy, else in $SVY_PYTHON."""
    import pandas as pd

    t = time.perf_counter()
    try:
        import svy  # noqa: F401
        in_process = True
    except ImportError:
        in_process = False
    if in_process:
        seconds, rows = _svy_compute(respondents_csv, population_csv, questions, groups)
        total = time.perf_counter() - t
    else:
        python = os.environ.get("SVY_PYTHON")
        if not python:
            print(f"peers.run_svy: skipped, svy is not importable here and SVY_PYTHON is not set; to enable: {SVY_HINT}")
            return None
        if shutil.which(python) is None and not Path(python).is_file():
            print(f"peers.run_svy: skipped, SVY_PYTHON={python} does not exist; to enable: {SVY_HINT}")
            return None
        with tempfile.TemporaryDirectory(prefix="peers_svy_") as tmp:
            spec, out = Path(tmp) / "spec.json", Path(tmp) / "out.json"
            spec.write_text(json.dumps({"respondents_csv": str(respondents_csv), "population_csv": str(population_csv),
                                        "questions": list(questions), "groups": list(groups)}), encoding="utf-8")
            t = time.perf_counter()
            proc = subprocess.run([python, str(Path(__file__).resolve()), "svy-worker", str(spec), str(out)],
                                  capture_output=True, text=True)
            total = time.perf_counter() - t
            if proc.returncode == 3:
                print(f"peers.run_svy: skipped, svy is not importable in SVY_PYTHON={python}; to enable: {SVY_HINT}")
                return None
            if proc.returncode != 0:
                raise RuntimeError(f"peers.run_svy: the svy worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
            got = json.loads(out.read_text(encoding="utf-8"))
        seconds, rows = got["seconds"], [tuple(r) for r in got["rows"]]
    res = pd.DataFrame(rows, columns=COLUMNS)
    res["mean"] = res["mean"].astype(float)
    res["se"] = res["se"].astype(float)
    return {"seconds": seconds, "seconds_total": total, "results": res}


def _svy_worker(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    try:
        import svy  # noqa: F401
    except ImportError as exc:
        print(f"svy not importable: {exc}", file=sys.stderr)
        return 3
    seconds, rows = _svy_compute(spec["respondents_csv"], spec["population_csv"], spec["questions"], spec["groups"])
    # json writes floats with repr: exact round trip; NaN as NaN (read back by json.loads).
    Path(out_path).write_text(json.dumps({"seconds": seconds, "rows": rows}), encoding="utf-8")
    return 0


# --------------------------------------------------------------------------------------------------
# Command line: the svy worker, and a comparison of the two peers on one data set
# --------------------------------------------------------------------------------------------------

def compare(a, b) -> dict:
    """Largest absolute mean difference and largest relative SE difference between two results."""
    key = ["question", "group_var", "group"]
    m = a.merge(b, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    both = m[m["_merge"] == "both"]
    rel = (both["se_a"] - both["se_b"]).abs() / both[["se_a", "se_b"]].abs().max(axis=1)
    return {"rows_a": len(a), "rows_b": len(b), "rows_matched": len(both),
            "max_abs_mean_diff": float((both["mean_a"] - both["mean_b"]).abs().max()),
            "max_rel_se_diff": float(rel.max()),
            "max_abs_se_diff": float((both["se_a"] - both["se_b"]).abs().max())}


def _main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "svy-worker":
        return _svy_worker(argv[1], argv[2])
    import argparse
    ap = argparse.ArgumentParser(description="Run R survey and svy on one data set; print timings and differences.")
    ap.add_argument("mode", choices=["compare"])
    ap.add_argument("respondents_csv")
    ap.add_argument("population_csv")
    ap.add_argument("--questions", required=True, help="comma-separated")
    ap.add_argument("--groups", default="", help="comma-separated")
    args = ap.parse_args(argv)
    qs = [q for q in args.questions.split(",") if q]
    gs = [g for g in args.groups.split(",") if g]
    out: dict = {}
    res = {}
    for name, fn in (("r", run_r), ("svy", run_svy)):
        got = fn(args.respondents_csv, args.population_csv, qs, gs)
        if got is not None:
            res[name] = got["results"]
            out[name] = {"seconds": round(got["seconds"], 3), "seconds_total": round(got["seconds_total"], 3),
                         "rows": len(got["results"])}
    if len(res) == 2:
        out["r_vs_svy"] = compare(res["r"], res["svy"])
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
