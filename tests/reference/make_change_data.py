"""Build the small data sets of three survey waves for the change reference
(tests/reference/reference_change.R makes the R numbers; tests/test_change.py compares). Run once;
the CSV files are committed.

Usage: .venv/bin/python tests/reference/make_change_data.py

Three waves w1, w2, w3 (wave numbers 1, 2, 4: unequal spacing on purpose). Municipalities A and B
take part in all three, C only in w1, D in w2 and w3. Post-strata are municipality x gender x age
band within each wave, with population counts of their own per wave. Two outcomes on the 1-5 scale
(``q1``, ``q2``, about 10 % blank); municipality A improves by about 0.3 per wave on ``q1``.
``maalgruppe`` (two levels) cuts across the post-strata. In w3, municipality B has only three
respondents in maalgruppe ``m2`` (a cell below the minimum).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent / "data"
WAVES = {"w1": {"A": 70, "B": 55, "C": 40}, "w2": {"A": 80, "B": 60, "D": 45}, "w3": {"A": 75, "B": 50, "D": 50}}
SHIFT = {"w1": 0.0, "w2": 0.3, "w3": 0.6}


def wave(name: str, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, pop = [], []
    for k, n in WAVES[name].items():
        for i in range(n):
            koen = "K" if rng.random() < 0.5 else "M"
            alder = "u40" if rng.random() < 0.45 else "o40"
            mg = "m1" if rng.random() < 0.6 else "m2"
            if name == "w3" and k == "B":
                mg = "m2" if i < 3 else "m1"
            base = 3.0 + (0.3 if koen == "K" else 0.0) + (SHIFT[name] if k == "A" else 0.0) + rng.normal(0, 1.1)
            q1 = int(np.clip(np.rint(base), 1, 5))
            q2 = int(np.clip(np.rint(3.4 + rng.normal(0, 1.0) - (0.2 if mg == "m2" else 0.0)), 1, 5))
            rows.append({"person_id": f"{name}{k}{i:03d}", "kommune": k, "stratum": f"{k}/{koen}/{alder}",
                         "koen": koen, "alder_band": alder, "maalgruppe": mg,
                         "q1": q1 if rng.random() > 0.1 else None, "q2": q2 if rng.random() > 0.1 else None})
    resp = pd.DataFrame(rows)
    for s, cnt in resp["stratum"].value_counts().sort_index().items():
        pop.append({"stratum": s, "Freq": int(cnt * rng.integers(8, 30))})
    return resp, pd.DataFrame(pop)


def main() -> None:
    rng = np.random.default_rng(16)
    HERE.mkdir(exist_ok=True)
    for name in WAVES:
        resp, pop = wave(name, rng)
        resp.to_csv(HERE / f"change_{name}_respondents.csv", index=False)
        pop.to_csv(HERE / f"change_{name}_population.csv", index=False)


if __name__ == "__main__":
    main()
