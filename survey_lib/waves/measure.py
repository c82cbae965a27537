"""How well the change test finds the twins' planted changes (docs/waves.md, 'Measured').

``python -m survey_lib.waves.measure DATA_ROOT`` computes the 2024 and 2025 twins' tables (written
by ``survey-report demo-data --wave all --out DATA_ROOT``), their change, and compares the
municipalities' flags with ``DATA_ROOT/2025/ground_truth_changes.csv``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..vocabulary import TOTAL

__all__ = ["ChangeTestQuality", "change_test_quality"]


@dataclass(frozen=True)
class ChangeTestQuality:
    """Power and false alarms of the change test against a ground truth.

    ``power``: the share of planted changes with ``|δ| >= min_planted`` that are flagged in the
    planted direction (``power_n`` such pairs); ``false_alarms``: the share of pairs with no change
    that are flagged (``false_alarm_n`` such pairs); ``wrong_sign``: planted pairs flagged in the
    opposite direction; ``by_size``: power per band of |δ|.
    """

    power: float
    power_n: int
    false_alarms: float
    false_alarm_n: int
    wrong_sign: int
    by_size: pd.DataFrame


def change_test_quality(changes: pd.DataFrame, truth: pd.DataFrame, min_planted: float = 0.25) -> ChangeTestQuality:
    """Compare the municipalities' flags of the mean changes in total with the ground truth.

    Parameters
    ----------
    changes
        :data:`survey_lib.change.CHANGE_COLUMNS` frame (municipality scopes, breakdown ``total``).
    truth
        ``ground_truth_changes.csv``: ``kommune, question, change``.
    min_planted
        The size from which the power is stated.

    Raises
    ------
    ValueError
        When a pair of the ground truth has no change row (a pair must not drop out silently).
    """
    rows = changes[(changes["breakdown"] == TOTAL) & (changes["kind"] == "mean")]
    got = rows.set_index(["scope", "question"])["flag"]
    t = truth.set_index(["kommune", "question"])
    t.index = t.index.set_names(["scope", "question"])
    missing = t.index.difference(got.index)
    if len(missing):
        raise ValueError(f"{len(missing)} pair(s) of the ground truth have no change row, e.g. {list(missing[:3])}")
    t = t.join(got)
    planted = t["change"] != 0
    expected = t["change"].map(lambda d: "up" if d > 0 else "down")
    hit = planted & (t["flag"] == expected)
    big = planted & (t["change"].abs() >= min_planted)
    null = ~planted
    alarms = null & t["flag"].isin(["up", "down"])
    wrong = planted & t["flag"].isin(["up", "down"]) & (t["flag"] != expected)
    bands = pd.cut(t.loc[planted, "change"].abs(), [0.0999, 0.15, 0.20, 0.25, 0.30, 0.351])
    by = pd.DataFrame({"pairs": planted[planted].groupby(bands, observed=False).size(),
                       "found": hit[planted].groupby(bands, observed=False).sum()})
    by["power"] = by["found"] / by["pairs"]
    return ChangeTestQuality(power=float(hit[big].mean()), power_n=int(big.sum()),
                             false_alarms=float(alarms[null].mean()), false_alarm_n=int(null.sum()),
                             wrong_sign=int(wrong.sum()), by_size=by)


def main(argv: list[str] | None = None) -> None:
    """Measure on the twins under ``argv[0]`` (default ``data/demo``); print the figures."""
    import time

    from . import load_waves
    from .pipeline import compare_waves, panel_data, wave_data
    from .twin import TRUTH_FILE

    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "data/demo")
    waves, cw = load_waves()
    e, l = waves["2024"], waves["2025"]
    panel = sorted(set(e.kommuner) & set(l.kommuner))
    t0 = time.time()
    # each wave loaded and validated once; its common panel cut from that data (as the batch does)
    de = wave_data(e, cw, scopes=panel, data_dir=root / "2024")
    dl = wave_data(l, cw, scopes=panel, data_dir=root / "2025")
    te, tl = de.tables, dl.tables
    pe = panel_data(e, cw, panel, data=de.data).tables
    pl = panel_data(l, cw, panel, data=dl.data).tables
    t1 = time.time()
    comp = compare_waves(e, l, cw, te, tl, pe, pl)
    t2 = time.time()
    q = change_test_quality(comp.changes, pd.read_csv(root / "2025" / TRUTH_FILE))
    print(f"tables {t1 - t0:.1f} s, change {t2 - t1:.2f} s; {len(comp.changes)} change rows")
    print(f"power (|delta| >= 0.25): {q.power:.3f} of {q.power_n}; false alarms: {q.false_alarms:.4f} of "
          f"{q.false_alarm_n}; wrong sign: {q.wrong_sign}")
    print(q.by_size.to_string())
    nat = comp.changes[(comp.changes["scope"].isin(["all", "panel"])) & (comp.changes["breakdown"] == TOTAL)
                       & (comp.changes["kind"] == "mean")]
    print(nat[["scope", "question", "earlier", "later", "change", "change_se", "p_adjusted", "flag"]].to_string())
    out = root / "2025" / "measured_changes.csv"
    comp.changes.to_csv(out, index=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
