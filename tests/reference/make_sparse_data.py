"""Build the small hand-made data sets for the sparse-table reference (tests/reference/reference_sparse.R
makes the R numbers; tests/test_reference_sparse.py compares). Run once; the CSV files are committed.

Usage: .venv/bin/python tests/reference/make_sparse_data.py

Three municipalities (design strata) K1-K3, post-strata municipality x gender, groups A-C (``g``,
blank for some respondents). Answers are drawn at random (seeded) and then edited so that each
outcome holds one hard case:

- ``y1``: category 1 chosen by nobody in group A (a zero cell; the system stays regular), and
  category 5 chosen only by respondents without a group (R's table has an empty row);
- ``y2``: categories 1 and 2 chosen by nobody in groups A and B, in every municipality (a 2 x 2
  block of zero cells: the design-effect system is singular even after dropping empty rows and
  columns, in all municipalities together and in each);
- ``y3``: in K2, group C never answers (a domain where one column of the table is empty) and
  categories 1 and 2 are chosen in A but not in B (zero cells; regular after the drop);
- ``y4``: every answer in K1 is 4 (degenerate tests in K1);
- ``y5``: in K1, groups A and B answer 5 throughout (two groups without variation, equal means);
- ``y6``: in K1, group A answers 5 and group B 3 throughout (groups without variation that differ).

``sparse2`` is one municipality whose post-stratum ``K9/k`` has a population of 1 against 5e7 in
the other (a near-singular but regular system: the only answer 1 has a cell share of about 5e-9).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent / "data"


def sparse1() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(20)
    n_per = {"K1": 60, "K2": 45, "K3": 50}
    rows = []
    for k, n in n_per.items():
        for i in range(n):
            rows.append({"person_id": f"{k}-{i:03d}", "kommune": k, "koen": "m" if i % 2 else "k",
                         "g": ["A", "B", "C", ""][rng.choice(4, p=[0.35, 0.3, 0.25, 0.1])]})
    d = pd.DataFrame(rows)
    d["stratum"] = d["kommune"] + "/" + d["koen"]
    n = len(d)
    g = d["g"].to_numpy()
    kom = d["kommune"].to_numpy()
    for q in ("y1", "y2", "y3", "y4", "y5", "y6"):
        d[q] = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.1, 0.15, 0.25, 0.3, 0.2]).astype(float)
        d.loc[rng.random(n) < 0.08, q] = np.nan                    # some do not answer
    has_g = g != ""
    # y1: no 1 in group A; 5 only without a group
    d.loc[(g == "A") & (d["y1"] == 1), "y1"] = 2
    d.loc[has_g & (d["y1"] == 5), "y1"] = 4
    d.loc[np.flatnonzero(~has_g)[:3], "y1"] = 5
    # y2: no 1 or 2 in groups A and B
    d.loc[np.isin(g, ["A", "B"]) & d["y2"].isin([1, 2]), "y2"] = 3
    for k in n_per:                                     # ... but in group C of every municipality
        d.loc[np.flatnonzero((g == "C") & (kom == k))[:2], "y2"] = [1, 2]
    # y3: in K2 group C does not answer; 1 and 2 chosen in A, not in B of K2
    k2 = kom == "K2"
    d.loc[k2 & (g == "C"), "y3"] = np.nan
    d.loc[k2 & np.isin(g, ["A", "B"]) & d["y3"].isin([1, 2]), "y3"] = 3
    d.loc[np.flatnonzero(k2 & (g == "A"))[:2], "y3"] = [1, 2]
    d.loc[np.flatnonzero(k2 & (g == "B"))[:1], "y3"] = 5
    # y4: all answers 4 in K1
    k1 = kom == "K1"
    d.loc[k1 & d["y4"].notna(), "y4"] = 4
    # y5: groups A and B of K1 answer 5 throughout
    d.loc[k1 & np.isin(g, ["A", "B"]) & d["y5"].notna(), "y5"] = 5
    # y6: group A of K1 answers 5, group B 3 throughout
    d.loc[k1 & (g == "A") & d["y6"].notna(), "y6"] = 5
    d.loc[k1 & (g == "B") & d["y6"].notna(), "y6"] = 3
    pop = pd.DataFrame({"stratum": sorted(d["stratum"].unique())})
    pop["Freq"] = [310, 280, 1200, 1150, 640, 700][:len(pop)]
    return d, pop


def sparse2() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(21)
    n = 80
    d = pd.DataFrame({"person_id": [f"K9-{i:03d}" for i in range(n)], "kommune": "K9",
                      "koen": np.where(np.arange(n) < 4, "k", "m"),
                      "g": rng.choice(["A", "B", "C"], size=n)})
    d["stratum"] = d["kommune"] + "/" + d["koen"]
    y = rng.choice([2, 3, 4, 5], size=n, p=[0.2, 0.3, 0.3, 0.2]).astype(float)
    y[:4] = [1, 3, 4, 5]           # category 1 only from one respondent of the tiny post-stratum
    d.loc[0, "g"] = "A"
    d["y1"] = y
    pop = pd.DataFrame({"stratum": ["K9/k", "K9/m"], "Freq": [1, 50_000_000]})
    return d, pop


def main() -> None:
    for name, (resp, pop) in {"sparse1": sparse1(), "sparse2": sparse2()}.items():
        resp.to_csv(HERE / f"{name}_respondents.csv", index=False, lineterminator="\n")
        pop.to_csv(HERE / f"{name}_population.csv", index=False, lineterminator="\n")
        print(name, len(resp), "respondents")


if __name__ == "__main__":
    main()
