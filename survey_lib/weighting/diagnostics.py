"""Weight diagnostics.

Notes
-----
Kish's design effect due to unequal weights: deff = n sum(w^2) / (sum w)^2 = 1 + CV^2 (population
CV of the weights), and the effective sample size n_eff = n / deff = (sum w)^2 / sum(w^2) (Kish 1965).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["weight_summary"]


def _summary(w: np.ndarray) -> dict[str, float]:
    n = len(w)
    s1, s2 = w.sum(), (w ** 2).sum()
    deff = n * s2 / s1 ** 2 if n else np.nan
    return {"respondents": n, "sum_weights": s1, "min": w.min() if n else np.nan,
            "q1": np.quantile(w, 0.25) if n else np.nan, "median": np.median(w) if n else np.nan,
            "q3": np.quantile(w, 0.75) if n else np.nan, "max": w.max() if n else np.nan,
            "cv": w.std() / w.mean() if n else np.nan, "deff_kish": deff, "n_effective": n / deff if n else np.nan}


def weight_summary(weights: pd.Series, kommune: pd.Series) -> pd.DataFrame:
    """One row for all respondents (``kommune`` = 'all') and one per municipality."""
    rows = [{"kommune": "all", **_summary(weights.to_numpy(float))}]
    for k, w in weights.groupby(kommune, sort=True):
        rows.append({"kommune": k, **_summary(w.to_numpy(float))})
    return pd.DataFrame(rows)
