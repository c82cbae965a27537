"""Weight trimming.

Notes
-----
Weights above ``k`` times the median weight are set to that cap and the removed weight is spread
proportionally over the untrimmed weights (so the total is kept); repeated until no weight exceeds
the cap (Potter 1990; Valliant, Dever & Kreuter 2018, sec. 14.4). Trimming trades a little bias for
less variance; the diagnostics report the effect on the design effect.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["trim_weights"]


def trim_weights(weights: pd.Series, max_ratio: float, max_rounds: int = 50) -> tuple[pd.Series, int]:
    """Trimmed weights and the number of weights that were cut."""
    if max_ratio <= 1:
        raise ValueError(f"trim max_ratio must be greater than 1; got {max_ratio}")
    w = weights.astype(float).copy()
    total = w.sum()
    cut = pd.Series(False, index=w.index)
    for _ in range(max_rounds):
        cap = max_ratio * w.median()
        over = w > cap * (1 + 1e-12)
        if not over.any():
            break
        cut |= over
        w[over] = cap
        free = ~cut
        w[free] *= (total - w[cut].sum()) / w[free].sum()
    return w, int(cut.sum())
