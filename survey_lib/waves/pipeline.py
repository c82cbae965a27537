"""The tables of each wave under stable question ids, and the change between two waves.

Per wave, the one table pipeline (:func:`survey_lib.pipeline.compute_tables`) runs on the wave's own
parameters and data; its ``tables.csv`` frame is mapped to stable question ids by the crosswalk
(:func:`stable_tables`). Between two waves, the comparable questions and theme scores go to the change
estimator (:class:`survey_lib.change.WaveChange`); the national change is given twice: over every
participant of each wave (scope ``all``; the municipalities differ, so with a warning) and over the
municipalities present in both waves (scope ``panel``, the common panel: the comparison to trust).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SurveyError
from ..pipeline import compute_tables
from ..vocabulary import TOTAL
from .crosswalk import Crosswalk
from .params import Wave

__all__ = ["PANEL", "WaveComparison", "stable_tables", "wave_tables", "panel_tables", "compare_waves",
           "not_comparable", "panel_warning"]

#: The scope of the national estimates over the common panel (municipalities in both waves).
PANEL = "panel"
_ROLES = ("population", "sample", "responses")


@dataclass(frozen=True)
class WaveComparison:
    """The change from ``earlier`` to ``later``.

    ``changes``: :data:`survey_lib.change.CHANGE_COLUMNS`, scopes ``all`` (every participant of each
    wave), ``panel`` (the common panel) and every municipality of the panel; ``not_comparable``: one
    row per stable question or theme that is in either wave but gets no change, with the reason
    (Danish); ``panel``: the common panel's municipalities; ``warnings``: what a reader must know
    (Danish).
    """

    earlier: str
    later: str
    changes: pd.DataFrame
    not_comparable: pd.DataFrame
    panel: tuple[str, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)


def stable_tables(tables: pd.DataFrame, wave: str, cw: Crosswalk) -> pd.DataFrame:
    """``tables`` (a ``tables.csv`` frame of ``wave``) with the scored questions under their stable ids,
    recoded where the crosswalk says so, and the theme scores under ``tema_<theme>``; other questions
    (single choice, multi-select: no change is estimated for them) are left out.

    Notes
    -----
    A recoding maps each score :math:`s` of the wave's scale to a stable score :math:`r(s)`. The
    category shares are relabelled by :math:`r`. The mean, its interval and standard error follow
    only when :math:`r` is affine, :math:`r(s) = a + b s` (then :math:`\\bar r = a + b \\bar s`,
    :math:`SE(\\bar r) = |b| SE(\\bar s)`); another recoding needs the answers recoded before the
    tables are made, and is an error here.
    """
    to_stable = cw.to_stable(wave)
    themes = cw.theme_ids(wave)
    keep = tables["question"].isin(list(to_stable) + list(themes))
    out = tables.loc[keep].copy()
    out["question"] = out["question"].map(lambda q: to_stable.get(q, themes.get(q, q)))
    for sid, per in cw.entries.items():
        e = per.get(wave)
        if e is None or not e.recode or all(k == v for k, v in e.recode.items()):
            continue
        s = np.array(sorted(e.recode), float)
        r = np.array([e.recode[k] for k in sorted(e.recode)], float)
        b, a = np.polyfit(s, r, 1)
        if not np.allclose(a + b * s, r):
            raise SurveyError(f"{cw.source}: questions.{sid}.{wave}.recode {dict(e.recode)} is not linear; the "
                              "change of a mean needs a recoding r(s) = a + b*s (e.g. a reversed scale), or the "
                              "answers recoded in the data before the tables are made")
        rows = out["question"] == sid
        for col in ("mean", "mean_ci_low", "mean_ci_high"):
            out.loc[rows, col] = a + b * pd.to_numeric(out.loc[rows, col], errors="coerce")
        out.loc[rows, "mean_se"] = abs(b) * pd.to_numeric(out.loc[rows, "mean_se"], errors="coerce")
        if b < 0:
            lo, hi = out.loc[rows, "mean_ci_low"].copy(), out.loc[rows, "mean_ci_high"].copy()
            out.loc[rows, "mean_ci_low"], out.loc[rows, "mean_ci_high"] = hi, lo
        cat = pd.to_numeric(out.loc[rows, "category"], errors="coerce")
        out.loc[rows, "category"] = cat.map(lambda c: e.recode.get(int(c), c) if pd.notna(c) else c).astype(object)
    return out.reset_index(drop=True)


def wave_tables(wave: Wave, cw: Crosswalk, scopes: list[str] | None = None,
                data_dir: Path | str | None = None) -> pd.DataFrame:
    """The wave's tables (every scope, or ``scopes``) under stable ids: :func:`compute_tables` on the
    wave's parameters and data folder (or ``data_dir``), then :func:`stable_tables`."""
    c = compute_tables(data_dir or wave.data_dir, wave.params, scopes=scopes)
    return stable_tables(c.tables.tables, wave.name, cw)


def _data_files(folder: Path) -> dict[str, Path]:
    files = {}
    for role in _ROLES:
        found = sorted(p for p in folder.glob(f"{role}.*") if p.suffix in (".csv", ".parquet"))
        if len(found) != 1:
            raise SurveyError(f"{folder}: the common-panel tables need exactly one {role}.csv or {role}.parquet "
                              f"(found {[p.name for p in found]}); convert the file with the data contract's reader "
                              "or give the panel's data folder")
        files[role] = found[0]
    return files


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def panel_tables(wave: Wave, cw: Crosswalk, kommuner: list[str], data_dir: Path | str | None = None) -> pd.DataFrame:
    """The national tables (scope ``panel``) over the municipalities ``kommuner`` only: the wave's
    data restricted to them (population, sample, responses), weighted and estimated as a survey of
    its own by :func:`compute_tables`, under stable ids."""
    wave.params.check_kommuner(kommuner, "panel")
    files = _data_files(Path(data_dir or wave.data_dir))
    pop = _read(files["population"])
    pop = pop[pop["kommune"].isin(kommuner)]
    ids = set(pop["person_id"])
    sample = _read(files["sample"])
    sample = sample[sample["person_id"].isin(ids)]
    resp = _read(files["responses"])
    resp = resp[resp["person_id"].isin(ids)]
    params = wave.params.model_copy(update={"kommuner": tuple(k for k in wave.params.kommuner if k.name in kommuner)})
    with tempfile.TemporaryDirectory(prefix=f"panel-{wave.name}-") as tmp:
        for role, frame in zip(_ROLES, (pop, sample, resp)):
            frame.to_csv(Path(tmp) / f"{role}.csv", index=False, lineterminator="\n")
        # one municipality as a scope beside 'all': build_tables(scopes=[]) fails when it has no
        # benchmark test to adjust (the family column stays numeric); only 'all' is kept below
        c = compute_tables(tmp, params, scopes=sorted(kommuner)[:1])
    t = stable_tables(c.tables.tables, wave.name, cw)
    t = t[t["scope"] == "all"].copy()
    t["scope"] = PANEL
    return t.reset_index(drop=True)


def not_comparable(cw: Crosswalk, earlier: str, later: str) -> pd.DataFrame:
    """The stable questions and themes of either wave that get no change, with the reason."""
    rows = [(c.stable_id, c.earlier_id, c.later_id, c.reason) for c in cw.comparisons(earlier, later)
            if not c.comparable]
    return pd.DataFrame(rows, columns=["question", "earlier_id", "later_id", "reason"])


def panel_warning(earlier: Wave, later: Wave, panel: list[str]) -> str:
    """The warning beside the national change over all participants (Danish)."""
    only_e = len(set(earlier.kommuner) - set(panel))
    only_l = len(set(later.kommuner) - set(panel))
    return (f"Landstallene for alle deltagere bygger på forskellige kommuner: {len(earlier.kommuner)} i "
            f"{earlier.label} og {len(later.kommuner)} i {later.label}; {len(panel)} deltog begge gange, "
            f"{only_e} kun i {earlier.label} og {only_l} kun i {later.label}. Udviklingen for de "
            f"{len(panel)} kommuner, der deltog begge gange, er den sammenligning, man kan stole på.")


def compare_waves(earlier: Wave, later: Wave, cw: Crosswalk, earlier_tables: pd.DataFrame,
                  later_tables: pd.DataFrame, earlier_panel: pd.DataFrame | None = None,
                  later_panel: pd.DataFrame | None = None, change=None) -> WaveComparison:
    """The change from ``earlier`` to ``later`` for every comparable question and theme score.

    Parameters
    ----------
    earlier, later
        The two waves.
    cw
        The crosswalk.
    earlier_tables, later_tables
        Their tables under stable ids (:func:`wave_tables`): scope ``all`` and the municipalities.
    earlier_panel, later_panel
        The national tables over the common panel (:func:`panel_tables`; None: left out).
    change
        The change estimator (default: :class:`survey_lib.change.WaveChange` with the later wave's
        significance level, ``comparison_testing`` and minimum cell size).
    """
    if change is None:
        from ..change import WaveChange

        change = WaveChange.from_params(later.params)
    panel = sorted(set(earlier.kommuner) & set(later.kommuner))
    comparable = [c.stable_id for c in cw.comparisons(earlier.name, later.name) if c.comparable]
    scopes = ["all", *panel]

    def pick(t: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
        t = t[t["question"].isin(comparable) & t["scope"].isin(scopes)]
        if extra is not None:
            t = pd.concat([t, extra[extra["question"].isin(comparable)]], ignore_index=True)
        # the municipality breakdown of the national scope compares only the panel's municipalities
        drop = (t["breakdown"] == "kommune") & ~t["group"].astype(str).isin(panel)
        return t.loc[~drop].reset_index(drop=True)

    out = change(pick(earlier_tables, earlier_panel), pick(later_tables, later_panel),
                 earlier_wave=earlier.name, later_wave=later.name)
    warnings = [panel_warning(earlier, later, panel)] if set(earlier.kommuner) != set(later.kommuner) else []
    return WaveComparison(earlier.name, later.name, out, not_comparable(cw, earlier.name, later.name),
                          tuple(panel), tuple(warnings))


def total_rows(changes: pd.DataFrame) -> pd.DataFrame:
    """The mean changes of the total (no breakdown) of every scope."""
    return changes[(changes["breakdown"] == TOTAL) & (changes["kind"] == "mean")].reset_index(drop=True)
