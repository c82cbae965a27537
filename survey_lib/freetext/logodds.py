"""Words that tell two groups apart: the weighted log-odds ratio with an informative Dirichlet prior."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["WeightedLogOdds"]


@dataclass(frozen=True)
class WeightedLogOdds:
    """Log-odds ratio of every word between group ``a`` and group ``b``, shrunk by an informative
    Dirichlet prior and divided by its standard error.

    Parameters
    ----------
    prior_size
        :math:`\\alpha_0`, the total size of the prior; the prior of word :math:`w` is
        :math:`\\alpha_w = \\alpha_0 \\pi_w`, with :math:`\\pi_w` the word's share of the background counts.
    min_count
        Words with fewer occurrences in the two groups together are dropped from the result.

    Notes
    -----
    Monroe, Colaresi & Quinn (2008), 'Fightin' Words', *Political Analysis* 16(4), eqs. 16-22:

    .. math::

        \\delta_w = \\log\\frac{y^a_w + \\alpha_w}{n^a + \\alpha_0 - y^a_w - \\alpha_w}
                  - \\log\\frac{y^b_w + \\alpha_w}{n^b + \\alpha_0 - y^b_w - \\alpha_w},\\qquad
        \\sigma^2(\\delta_w) \\approx \\frac{1}{y^a_w + \\alpha_w} + \\frac{1}{y^b_w + \\alpha_w},\\qquad
        z_w = \\delta_w / \\sigma(\\delta_w).

    Counts may be weighted (survey weights scaled to mean 1 among the comments), so that the words
    describe the population rather than the respondents.
    """

    prior_size: float = 1000.0
    min_count: int = 5

    def __post_init__(self) -> None:
        if not self.prior_size > 0:
            raise ValueError(f"prior_size must be > 0; got {self.prior_size!r}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1; got {self.min_count!r}")

    def __call__(self, counts: pd.DataFrame, background: pd.Series | None = None) -> pd.DataFrame:
        """``counts``: index = word, columns ``a`` and ``b`` (counts per group). ``background``:
        counts for the prior (default: ``a + b``). Returns the words with ``a``, ``b``, ``delta``,
        ``se``, ``z``, sorted by ``z`` (most typical of ``a`` first)."""
        missing = {"a", "b"} - set(counts.columns)
        if missing:
            raise ValueError(f"counts needs columns 'a' and 'b'; missing {sorted(missing)}")
        ya, yb = counts["a"].astype(float), counts["b"].astype(float)
        bg = (ya + yb) if background is None else background.reindex(counts.index).fillna(0).astype(float)
        if bg.sum() <= 0:
            return pd.DataFrame(columns=["a", "b", "delta", "se", "z"])
        alpha = self.prior_size * bg / bg.sum()
        a0 = self.prior_size
        na, nb = ya.sum(), yb.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = (np.log((ya + alpha) / (na + a0 - ya - alpha)) - np.log((yb + alpha) / (nb + a0 - yb - alpha)))
            se = np.sqrt(1 / (ya + alpha) + 1 / (yb + alpha))
        out = pd.DataFrame({"a": ya, "b": yb, "delta": delta, "se": se, "z": delta / se})
        out = out[(ya + yb) >= self.min_count]
        return out.sort_values(["z"], ascending=False, kind="mergesort")
