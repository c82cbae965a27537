"""Write the inputs on which R's ``csranks`` makes the rank reference numbers (run once; the CSV
files are committed; tests/reference/reference_ranks.R reads them).

Usage: .venv/bin/python tests/reference/make_ranks_inputs.py

Cases (estimates x and their covariance S):

- ``ref2_tilfredshed``: the five municipalities' mean satisfaction in tests/reference/data/ref2
  with their linearized covariance (the project's design; diagonal, as municipalities are strata);
- ``diag13``: 13 municipality-like means (3.2 to 3.95) with standard errors 0.04 to 0.15,
  independent (seeded);
- ``corr13``: 13 means with a correlated covariance (a random correlation matrix, seeded), as for
  groups that are not strata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from survey_lib.design import design_from_arrays
from survey_lib.ranks import means_and_covariance

HERE = Path(__file__).resolve().parent


def ref2_case() -> tuple[np.ndarray, np.ndarray, list[str]]:
    resp = pd.read_csv(HERE / "data" / "ref2_respondents.csv")
    pop = pd.read_csv(HERE / "data" / "ref2_population.csv").set_index("stratum")["Freq"]
    weight = resp["stratum"].map(pop / resp["stratum"].value_counts()).to_numpy(float)
    design = design_from_arrays(resp, weight, resp["kommune"], resp["stratum"])
    labels, codes = np.unique(resp["kommune"], return_inverse=True)
    table, cov = means_and_covariance(design, resp["tilfredshed"].to_numpy(float), codes, list(labels))
    return table["estimate"].to_numpy(), cov, list(labels)


def synthetic(seed: int, correlated: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    p = 13
    x = np.sort(rng.uniform(3.2, 3.95, p))[::-1]
    se = rng.uniform(0.04, 0.15, p)
    if correlated:
        A = rng.normal(size=(p, 3))
        C = A @ A.T + np.diag(rng.uniform(0.5, 1.5, p))
        d = np.sqrt(np.diag(C))
        R = C / np.outer(d, d)
    else:
        R = np.eye(p)
    perm = rng.permutation(p)          # not in rank order
    return x[perm], (np.outer(se, se) * R)[np.ix_(perm, perm)], [f"E{i + 1:02d}" for i in range(p)]


def main() -> None:
    cases = {"ref2_tilfredshed": ref2_case(), "diag13": synthetic(9, False), "corr13": synthetic(7, True)}
    est, cov = [], []
    for case, (x, S, labels) in cases.items():
        for i, unit in enumerate(labels):
            est.append({"case": case, "unit": unit, "estimate": repr(float(x[i]))})
            for j in range(len(labels)):
                cov.append({"case": case, "row": i + 1, "col": j + 1, "value": repr(float(S[i, j]))})
    pd.DataFrame(est).to_csv(HERE / "data" / "ranks_estimates.csv", index=False, lineterminator="\n")
    pd.DataFrame(cov).to_csv(HERE / "data" / "ranks_covariance.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
