"""Benchmark: change between two national-size waves, side by side with R ``survey`` on the stacked design.

Run: .venv/bin/python benchmarks/bench_change.py [--respondents 100000] [--questions 20] [--r-questions 1]
     [--skip-r] [--seed 16]

Two synthetic waves (generated here, seeded): ~100,000 respondents each in 98 municipalities
(design strata), post-stratified within municipality × gender × age band × målgruppe; 20 questions
on the 1–5 scale (8 % blank). Breakdowns: total, gender (2), age band (4), målgruppe (3) in all
municipalities together and in each, and the municipality breakdown in all.

1. **Ours, as the pipeline does it**: each wave's table set of means and category shares with their
   SEs (:func:`survey_lib.tables.estimate_outcomes`, the production code), then
   :class:`survey_lib.change.WaveChange` on the two tables — every comparable question × breakdown ×
   group × municipality, means and shares, with tests and the family adjustment. Timed end to end
   (designs from the weights, both waves' tables, the changes).
2. **R** ``survey`` 4.1 on the stacked design (waves as separate blocks of strata, post-strata within
   wave, as tests/reference/reference_change.R): for the first ``--r-questions`` questions, per
   breakdown ``svyby(~q, ~wave + kommune + g, d, svymean, na.rm = TRUE)`` and
   ``svyby(~q, ~wave + g, ...)`` (and ``~wave + kommune`` for the municipality breakdown), then the
   change and its SE ``sqrt(SE1^2 + SE2^2)`` per pair of cells (the stacked design's
   ``svycontrast``, whose covariance between waves is 0; ``svyby(..., covmat = TRUE)`` stops on
   this design in survey 4.1.1). Means only (R does less than ours). R's ``svyby`` makes one full
   pass over the stacked design per domain, so its cost is the same for every domain: R runs the
   domains of ``--r-breakdowns`` (default ``total``: the whole survey and every municipality) of
   ``--r-questions`` questions, and its time per domain times the number of domains of the whole
   job (two per mean change) is R's time for the whole job (the whole job in R would take hours).

The ratio is R's extrapolated time for the whole job (means only) over ours (means and shares).

``--null-check`` instead measures the tests' level where nothing changed: one sample of 150,000
split at random into three waves (docs/methods.md, 'Measured level under no change').
Prints JSON; agreement of the change and its SE
with R on the R questions is reported too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from survey_lib.change import WaveChange  # noqa: E402
from survey_lib.design import design_from_arrays  # noqa: E402
from survey_lib.tables import TableInputs, assemble, estimate_outcomes  # noqa: E402

N_KOMMUNER = 98
BREAKDOWNS = {"koen": ["K", "M"], "alder_band": ["18-29", "30-39", "40-49", "50+"],
              "maalgruppe": ["A", "B", "C"]}
KOMMUNER = [f"K{k:03d}" for k in range(N_KOMMUNER)]


def make_wave(rng: np.random.Generator, n: int, questions: int, shift: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Respondents (with their post-stratum) and the population count of every post-stratum."""
    size = rng.gamma(2.0, 1.0, N_KOMMUNER)
    kom = rng.choice(N_KOMMUNER, size=n, p=size / size.sum())
    f = pd.DataFrame({"kommune": np.array(KOMMUNER)[kom]})
    for var, levels in BREAKDOWNS.items():
        f[var] = np.array(levels)[rng.integers(0, len(levels), n)]
    f["stratum"] = f["kommune"] + "/" + f["koen"] + "/" + f["alder_band"] + "/" + f["maalgruppe"]
    effect = rng.normal(0, 0.15, N_KOMMUNER)[kom]
    for q in range(questions):
        latent = 3.4 + shift + effect + rng.normal(0, 1.1, n)
        y = np.clip(np.rint(latent), 1, 5)
        y[rng.random(n) < 0.08] = np.nan
        f[f"q{q + 1:02d}"] = y
    counts = f["stratum"].value_counts()
    pop = pd.DataFrame({"stratum": counts.index, "Freq": (counts.to_numpy() * rng.uniform(3, 8, len(counts))).round()
                        .astype(int) + counts.to_numpy()})
    return f, pop


def wave_design(f: pd.DataFrame, pop: pd.DataFrame):
    weight = f["stratum"].map(pop.set_index("stratum")["Freq"] / f["stratum"].value_counts()).to_numpy(float)
    return design_from_arrays(f, weight, f["kommune"], f["stratum"])


def wave_tables(design, questions: list[str]) -> pd.DataFrame:
    """The wave's table set of means and shares (the production estimation stage)."""
    f = design.frame
    breakdowns = {"total": (np.zeros(design.n, dtype=int), [""])}
    for var, levels in BREAKDOWNS.items():
        breakdowns[var] = (pd.Categorical(f[var], categories=levels).codes.astype(int), list(levels))
    breakdowns["kommune"] = (pd.Categorical(f["kommune"], categories=KOMMUNER).codes.astype(int), list(KOMMUNER))
    index = {k: i for i, k in enumerate(KOMMUNER)}
    inp = TableInputs(
        design=design, kommuner=tuple(KOMMUNER), scopes=tuple(KOMMUNER),
        outcomes={q: f[q].to_numpy(float) for q in questions},
        labels={q: {c: str(c) for c in range(1, 6)} for q in questions}, dont_know={},
        breakdowns=breakdowns, multi_select=(), theme_of={q: "tema" for q in questions},
        kom_codes=f["kommune"].map(index).to_numpy(int),
        stratum_kom=np.array([index[str(s)] for s in design.stratum_labels]),
        min_cell_size=5, reporting_minimum=30, significance_level=0.05, multiple_testing="holm",
        comparison_testing="fdr_bh")
    return assemble(estimate_outcomes(inp), [])


R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "certainty")   # a stratum of one row adds no variance, as ours
resp <- read.csv(args[1], stringsAsFactors = FALSE)
pop <- read.csv(args[2], stringsAsFactors = FALSE)
questions <- strsplit(args[3], ",")[[1]]
groups <- strsplit(args[4], ",")[[1]]
t0 <- proc.time()[["elapsed"]]
d <- postStratify(svydesign(ids = ~1, strata = ~wstratum, weights = ~1, data = resp), ~ps, pop)
out <- list()
# the change of every cell between the waves: svyby's means and SEs per wave, paired by the keys
pairs <- function(b, keys, q, breakdown, scope_col, group_col) {
  se <- SE(b)
  b <- as.data.frame(b)
  b$se <- se
  e <- b[b$wave == "w1", ]; l <- b[b$wave == "w2", ]
  m <- merge(e, l, by = keys, suffixes = c("_e", "_l"))
  data.frame(question = q, breakdown = breakdown,
             scope = if (is.null(scope_col)) rep("all", nrow(m)) else as.character(m[[scope_col]]),
             group = if (is.null(group_col)) rep("", nrow(m)) else as.character(m[[group_col]]),
             change = m[[paste0(q, "_l")]] - m[[paste0(q, "_e")]], change_se = sqrt(m$se_e^2 + m$se_l^2),
             stringsAsFactors = FALSE)
}
for (q in questions) {
  f <- as.formula(paste0("~", q))
  for (g in groups) {
    if (g == "kommune") {
      b <- svyby(f, ~wave + kommune, d, svymean, na.rm = TRUE)
      out[[length(out) + 1]] <- pairs(b, "kommune", q, "kommune", NULL, "kommune")
    } else if (g == "total") {
      b <- svyby(f, ~wave, d, svymean, na.rm = TRUE)
      out[[length(out) + 1]] <- pairs(b, character(0), q, "total", NULL, NULL)
      b <- svyby(f, ~wave + kommune, d, svymean, na.rm = TRUE)
      out[[length(out) + 1]] <- pairs(b, "kommune", q, "total", "kommune", NULL)
    } else {
      b <- svyby(f, as.formula(paste0("~wave + ", g)), d, svymean, na.rm = TRUE)
      out[[length(out) + 1]] <- pairs(b, g, q, g, NULL, g)
      b <- svyby(f, as.formula(paste0("~wave + kommune + ", g)), d, svymean, na.rm = TRUE)
      out[[length(out) + 1]] <- pairs(b, c("kommune", g), q, g, "kommune", g)
    }
  }
}
res <- do.call(rbind, out)
cat(sprintf("%.6f\n", proc.time()[["elapsed"]] - t0), file = args[6])
write.csv(res, args[5], row.names = FALSE)
"""


def run_r(waves, r_questions: list[str], groups: list[str], workdir: Path) -> dict | None:
    if shutil.which("Rscript") is None:
        print("R: Rscript not found; R's part skipped", file=sys.stderr)
        return None
    stacked = pd.concat([f.assign(wave=w) for w, (f, _) in waves.items()], ignore_index=True)
    stacked["ps"] = stacked["wave"] + "/" + stacked["stratum"]
    stacked["wstratum"] = stacked["wave"] + "/" + stacked["kommune"]
    keep = ["wave", "wstratum", "ps", "kommune", *BREAKDOWNS, *r_questions]
    stacked[keep].to_csv(workdir / "stacked.csv", index=False)
    pd.concat([p.assign(ps=w + "/" + p["stratum"])[["ps", "Freq"]] for w, (_, p) in waves.items()]).to_csv(
        workdir / "pop.csv", index=False)
    (workdir / "bench.R").write_text(R_SCRIPT)
    t = time.perf_counter()
    proc = subprocess.run(["Rscript", str(workdir / "bench.R"), str(workdir / "stacked.csv"), str(workdir / "pop.csv"),
                           ",".join(r_questions), ",".join(groups), str(workdir / "r_out.csv"),
                           str(workdir / "r_time.txt")], capture_output=True, text=True)
    total = time.perf_counter() - t
    if proc.returncode != 0:
        print(f"R failed: {proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return {"seconds": float((workdir / "r_time.txt").read_text()), "seconds_total": total,
            "results": pd.read_csv(workdir / "r_out.csv", keep_default_na=False)}


def _max_rel(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest relative difference where R's value exceeds 1e-8, absolute below (SEs of 0)."""
    big = np.abs(theirs) > 1e-8
    rel = np.abs(ours[big] / theirs[big] - 1)
    small = np.abs(ours[~big] - theirs[~big])
    return float(max(np.max(rel, initial=0.0), np.max(small, initial=0.0)))


def null_check(seed: int) -> dict:
    """Rejection rates where no cell truly changes: one sample split at random into three waves,
    each post-stratified (and once with weights constant within municipality)."""
    from survey_lib.change import LinearTrend, stack_designs
    rng = np.random.default_rng(seed)
    questions = [f"q{i + 1:02d}" for i in range(10)]
    big, pop = make_wave(rng, 150_000, 10, 0.0)
    part = rng.integers(0, 3, len(big))
    frames = {f"w{t + 1}": big[part == t].reset_index(drop=True) for t in range(3)}
    post = {w: wave_design(f, pop[pop["stratum"].isin(f["stratum"])]) for w, f in frames.items()}
    plain = {w: design_from_arrays(f, np.full(len(f), 10.0), f["kommune"]) for w, f in frames.items()}
    bins = ((0, 20), (20, 40), (40, 100), (100, 400), (400, np.inf))
    out: dict = {}
    for name, designs in (("post_stratified", post), ("constant_weights", plain)):
        tabs = {w: wave_tables(designs[w], questions) for w in ("w1", "w2")}
        ch = WaveChange()(tabs["w1"], tabs["w2"])
        m = ch[(ch["kind"] == "mean") & ch["p_value"].notna()]
        sh = ch[(ch["kind"] == "share") & ch["p_value"].notna()]
        n = np.minimum(m["earlier_n"].astype(float), m["later_n"].astype(float)).to_numpy()
        out[name] = {"mean_changes": int(len(m)), "raw_below_005": float((m["p_value"] < 0.05).mean()),
                     "flagged_means": float(m["flag"].isin(["up", "down"]).mean()),
                     "flagged_shares": float(sh["flag"].isin(["up", "down"]).mean()),
                     "raw_below_005_by_cell_size": {
                         f"{lo}-{hi}": float((m["p_value"].to_numpy()[(n >= lo) & (n < hi)] < 0.05).mean())
                         for lo, hi in bins}}
    st = stack_designs(post, columns=("kommune", *BREAKDOWNS))
    f = st.design.frame
    breakdowns = {"total": (np.zeros(st.design.n, dtype=int), [""])}
    for var, levels in BREAKDOWNS.items():
        breakdowns[var] = (pd.Categorical(f[var], categories=levels).codes.astype(int), list(levels))
    tr = LinearTrend()(st, {q: st.stack([d.frame[q].to_numpy(float) for d in post.values()]) for q in questions},
                       breakdowns)
    tr = tr[tr["p_value"].notna()]
    out["trend_post_stratified"] = {"trends": int(len(tr)), "raw_below_005": float((tr["p_value"] < 0.05).mean()),
                                    "flagged": float(tr["flag"].isin(["up", "down"]).mean())}
    out["post_stratum_size_median"] = float(np.median(post["w1"].post_stratum_sizes))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--respondents", type=int, default=100_000)
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--r-questions", type=int, default=1)
    ap.add_argument("--r-breakdowns", default="total",
                    help="breakdowns R estimates (comma-separated among total,koen,alder_band,maalgruppe,kommune)")
    ap.add_argument("--skip-r", action="store_true")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--null-check", action="store_true", help="measure the tests' level where nothing changed")
    args = ap.parse_args(argv)
    if args.null_check:
        print(json.dumps(null_check(7), indent=2))
        return 0
    rng = np.random.default_rng(args.seed)
    waves = {w: make_wave(rng, args.respondents, args.questions, shift) for w, shift in (("w1", 0.0), ("w2", 0.05))}
    questions = [f"q{q + 1:02d}" for q in range(args.questions)]

    t0 = time.perf_counter()
    designs = {w: wave_design(f, p) for w, (f, p) in waves.items()}
    t1 = time.perf_counter()
    tables = {w: wave_tables(d, questions) for w, d in designs.items()}
    t2 = time.perf_counter()
    change = WaveChange()(tables["w1"], tables["w2"], earlier_wave="w1", later_wave="w2")
    t3 = time.perf_counter()
    means = change[change["kind"] == "mean"]
    report = {
        "respondents_per_wave": args.respondents, "municipalities": N_KOMMUNER, "questions": args.questions,
        "post_strata_per_wave": {w: int(len(p)) for w, (_, p) in waves.items()},
        "change_rows": int(len(change)), "mean_change_rows": int(len(means)),
        "mean_changes_shown": int((~means["suppressed"] & means["change"].notna()).sum()),
        "ours_seconds": {"designs": t1 - t0, "tables_both_waves": t2 - t1, "wave_change": t3 - t2, "total": t3 - t0},
    }
    print(json.dumps({"ours_seconds": report["ours_seconds"]}), file=sys.stderr, flush=True)
    if not args.skip_r:
        r_questions = questions[:args.r_questions]
        with tempfile.TemporaryDirectory() as tmp:
            r = run_r(waves, r_questions, args.r_breakdowns.split(","), Path(tmp))
        if r is not None:
            res = r["results"]
            res["group"] = res["group"].astype(str)
            mine = means.set_index(["scope", "question", "breakdown", "group"])
            theirs = res.set_index(["scope", "question", "breakdown", "group"])
            common = theirs.index.intersection(mine.index)
            m, t = mine.loc[common], theirs.loc[common]
            ok = m["change"].notna().to_numpy()
            # R's svyby costs the same for every domain (each is a full pass over the stacked design):
            # its time per domain estimated, times the domains of the whole job (two per mean change)
            r_domains = 2 * len(theirs)
            all_domains = 2 * len(means)
            per_domain = r["seconds"] / r_domains
            r_all = per_domain * all_domains
            report["r"] = {"questions_run": len(r_questions), "breakdowns_run": args.r_breakdowns,
                           "domains_run": r_domains, "seconds_estimation": r["seconds"],
                           "seconds_with_startup": r["seconds_total"], "seconds_per_domain": per_domain,
                           "domains_whole_job_means_only": all_domains,
                           "seconds_whole_job_extrapolated": r_all,
                           "rows_compared": int(ok.sum()), "rows_r": int(len(theirs)),
                           "max_abs_diff_change": float(np.max(np.abs(m["change"].to_numpy()[ok]
                                                                      - t["change"].to_numpy(float)[ok]))),
                           "max_rel_diff_se": _max_rel(m["change_se"].to_numpy()[ok],
                                                       t["change_se"].to_numpy(float)[ok])}
            report["ratio_r_over_ours"] = r_all / report["ours_seconds"]["total"]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
