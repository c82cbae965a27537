"""Build the small data set on which R ``survey`` makes the raking reference numbers (run once; the
CSV files are committed; tests/reference/reference_rake.R reads them).

Usage: .venv/bin/python tests/reference/make_rake_data.py

A thinned part of the synthetic twin (seed 2023), three municipalities: respondents with partial
answers, 'ved ikke' set to NA, a filtered question (tro_paa_job) and a few respondents per margin
cell where the full cross of the cells is sparse (cells without respondents, which raking does not
need). ``ens`` is a score that is the same (3) for every answer in the first municipality (its
standard error there is exactly zero) and ``tillid`` elsewhere. The population is written as counts
per weighting cell (kommune x alder_band x koen x maalgruppe); R and Python take the margins from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from survey_lib.demo import generate
from survey_lib.derive import derive_population, derive_responses
from survey_lib.params import load_params

HERE = Path(__file__).resolve().parent
PARAMS = HERE.parents[1] / "params"
QUESTIONS = ["tillid", "tilfredshed", "tro_paa_job"]
CELLS = ["alder_band", "koen", "kommune", "maalgruppe"]


def build(name: str, keep: dict[str, float], seed: int) -> None:
    params = load_params(PARAMS)
    twin = generate(params, seed=2023)
    pop = twin.population.copy()
    pop["startdato"] = pd.to_datetime(pop["startdato"])
    pop = derive_population(pop, params)
    pop = pop[pop["kommune"].isin(list(keep))].reset_index(drop=True)
    resp = derive_responses(twin.responses, params).merge(pop[["person_id"] + [c for c in CELLS]], on="person_id")
    rng = np.random.default_rng(seed)
    resp = resp[rng.random(len(resp)) < resp["kommune"].map(keep).to_numpy()].reset_index(drop=True)
    out = resp[["person_id", "kommune", "status", "maalgruppe", "koen", "alder_band", "tilknytning"]].copy()
    for q in QUESTIONS:
        v = resp[q].astype("Float64")
        out[q] = v.where(v <= 5)          # 'ved ikke' (9) and not asked -> NA
    first = list(keep)[0]
    out["ens"] = out["tillid"].where(out["kommune"] != first, out["tillid"].where(out["tillid"].isna(), 3.0))
    counts = pop.groupby(CELLS, observed=True).size().rename("Freq").reset_index()
    empty = counts.merge(out[CELLS].drop_duplicates(), on=CELLS, how="left", indicator=True)
    n_empty = int((empty["_merge"] == "left_only").sum())
    assert n_empty > 0, "the full cross must have cells without respondents (what raking is for)"
    for m in ("alder_band", "koen", "maalgruppe"):
        assert out.groupby(["kommune", m]).size().reindex(
            counts.groupby(["kommune", m]).size().index).notna().all(), f"a {m} margin cell without respondents"
    out.to_csv(HERE / "data" / f"{name}_respondents.csv", index=False, lineterminator="\n")
    counts.to_csv(HERE / "data" / f"{name}_population.csv", index=False, lineterminator="\n")
    print(name, len(out), "respondents,", len(counts), "cells,", n_empty, "of them without respondents")


if __name__ == "__main__":
    build("rake1", {"Syddjurs": 0.15, "Odder": 0.12, "Ishøj": 0.2}, seed=3)
