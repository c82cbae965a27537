"""Build the small data sets on which R ``survey`` makes the reference numbers (run once; the CSV
files are committed).

Usage: .venv/bin/python tests/reference/make_reference_data.py

Each data set is a thinned part of the synthetic twin (seed 2023) with: partial respondents,
'ved ikke' answers (set to NA), a filtered question (tro_paa_job: only sygedagpenge and
aktivitetsparate), post-strata with a single respondent, and at least one weighting cell without
respondents that the project's collapse rule merges (the post-stratum labels written are the
collapsed ones). Both R and Python read the same files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from survey_lib.demo import generate
from survey_lib.derive import derive_population, derive_responses
from survey_lib.params import load_params
from survey_lib.weighting import WeightingSettings, compute_weights

HERE = Path(__file__).resolve().parent
PARAMS = HERE.parents[1] / "params"
QUESTIONS = ["tillid", "tilfredshed", "tro_paa_job"]


def build(name: str, kommuner: list[str], keep: dict[str, float], drop_cells: list[dict], seed: int) -> None:
    params = load_params(PARAMS)
    twin = generate(params, seed=2023)
    pop = twin.population.copy()
    pop["startdato"] = pd.to_datetime(pop["startdato"])
    pop = derive_population(pop, params)
    pop = pop[pop["kommune"].isin(kommuner)].reset_index(drop=True)
    resp = derive_responses(twin.responses, params).merge(
        pop[["person_id", "kommune", "koen", "alder_band", "maalgruppe"]], on="person_id")
    rng = np.random.default_rng(seed)
    keep_p = resp["kommune"].map(keep).to_numpy()
    resp = resp[rng.random(len(resp)) < keep_p]
    for cell in drop_cells:
        hit = np.ones(len(resp), bool)
        for k, v in cell.items():
            hit &= (resp[k] == v).to_numpy()
        resp = resp[~hit]
    resp = resp.reset_index(drop=True)
    settings = WeightingSettings(cells=("alder_band", "koen", "kommune", "maalgruppe"), min_respondents=1)
    result = compute_weights("poststratify", resp, pop, settings)
    assert len(result.collapses) >= 1, "the data set must contain a collapsed cell"
    sizes = result.strata.set_index("post_stratum")["respondents"]
    assert (sizes == 1).any(), "the data set must contain a post-stratum with one respondent"
    out = resp[["person_id", "kommune", "status", "maalgruppe", "koen", "alder_band", "tilknytning"]].copy()
    out["stratum"] = result.post_stratum.to_numpy()
    for q in QUESTIONS:
        v = resp[q].astype("Float64")
        out[q] = v.where(v <= 5)          # 'ved ikke' (9) and not asked -> NA
    out["in_k"] = (out["kommune"] == kommuner[0]).astype(int)
    out.to_csv(HERE / "data" / f"{name}_respondents.csv", index=False, lineterminator="\n")
    counts = result.population_counts.rename("Freq").rename_axis("stratum").reset_index()
    counts.to_csv(HERE / "data" / f"{name}_population.csv", index=False, lineterminator="\n")
    result.collapses.to_csv(HERE / "data" / f"{name}_collapses.csv", index=False, lineterminator="\n")
    print(name, len(out), "respondents,", len(counts), "post-strata,", len(result.collapses), "collapse(s)")


if __name__ == "__main__":
    build("ref1", ["Odder", "Ishøj", "Syddjurs"], {"Odder": 0.25, "Ishøj": 0.5, "Syddjurs": 0.35},
          [{"kommune": "Odder", "maalgruppe": "job_uddannelsesparate", "koen": "M", "alder_band": "under_30"}], seed=1)
    build("ref2", ["Vejle", "Tårnby", "Guldborgsund", "Odense", "Gladsaxe"],
          {"Vejle": 0.2, "Tårnby": 0.3, "Guldborgsund": 0.15, "Odense": 0.1, "Gladsaxe": 0.25},
          [{"kommune": "Guldborgsund", "maalgruppe": "dagpenge", "koen": "K", "alder_band": "50_plus"},
           {"kommune": "Odense", "maalgruppe": "aktivitetsparate", "koen": "M"}], seed=2)
