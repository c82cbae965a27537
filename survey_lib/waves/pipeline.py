"""The tables of each wave under stable question ids, and the change between two waves.

Per wave, the one table pipeline (:func:`survey_lib.pipeline.compute_tables`) runs on the wave's own
parameters and data; its ``tables.csv`` frame is mapped to stable question ids by the crosswalk
(:func:`stable_tables`). Between two waves, the comparable questions and theme scores go to the change
estimator (:class:`survey_lib.change.WaveChange`); the national change is given twice: over every
participant of each wave (scope ``all``; the municipalities differ, so with a warning) and over the
municipalities present in both waves (scope ``panel``, the common panel: the comparison to trust).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..design import SurveyDesign
from ..errors import SurveyError
from ..load import SurveyData, load_survey, restrict_to
from ..pipeline import ComputedTables, compute_tables, tables_of
from ..vocabulary import TOTAL, TREND_PANEL
from .crosswalk import Crosswalk
from .params import Wave

__all__ = ["PANEL", "TOP_CATEGORY", "WaveComparison", "WaveData", "as_panel", "stable_tables", "stable_scores",
           "wave_tables", "wave_data", "panel_tables", "panel_data", "compare_waves", "not_comparable", "panel_warning",
           "trend_comparable", "linear_trend", "rank_movement", "top_share_tables", "top_share_changes"]

#: The scope of the national estimates over the common panel (municipalities in both waves).
PANEL = "panel"
#: The category code of the two most positive answers together (scores 4 and 5) in the share tables.
TOP_CATEGORY = "4-5"


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


@dataclass(frozen=True)
class WaveData:
    """One wave's estimates under stable ids and what they were made from.

    ``tables``: the ``tables.csv`` frame under stable ids (:func:`stable_tables`); ``design``: the
    weighted design of the respondents; ``scores``: stable id -> score per respondent of the design
    (questions recoded to the stable scale, theme scores under ``tema_<theme>``; NaN where not
    answered); ``labels``: stable id of a question -> {score: Danish label} of the wave's scale;
    ``data``: the wave's validated input data (every municipality), from which a common panel is cut
    (:func:`panel_data`); None for a panel's own data.
    """

    wave: str
    tables: pd.DataFrame
    design: SurveyDesign
    scores: dict[str, np.ndarray]
    labels: dict[str, dict[int, str]]
    data: SurveyData | None = None


def stable_scores(design: SurveyDesign, wave: Wave, cw: Crosswalk) -> tuple[dict[str, np.ndarray],
                                                                            dict[str, dict[int, str]]]:
    """Every scored question's and theme's score per respondent of ``design`` under stable ids, with
    the crosswalk's recoding applied answer by answer (any recoding, not only an affine one), and the
    category labels of each question (keyed by the stable score)."""
    from ..scores import category_labels, outcome_scores

    qn = wave.params.questionnaire
    raw = outcome_scores(design.frame, qn)
    cats = category_labels(qn)
    to_stable, themes = cw.to_stable(wave.name), cw.theme_ids(wave.name)
    scores: dict[str, np.ndarray] = {}
    labels: dict[str, dict[int, str]] = {}
    for qid, y in raw.items():
        sid = to_stable.get(qid, themes.get(qid))
        if sid is None:
            continue
        y = np.asarray(y, float)
        entry = cw.entries.get(sid, {}).get(wave.name)
        recode = dict(entry.recode) if entry is not None and entry.recode else {}
        if recode:
            out = np.full(len(y), np.nan)
            for old, new in recode.items():
                out[y == old] = new
            y = out
        scores[sid] = y
        if qid in cats:
            labels[sid] = {recode.get(k, k): v for k, v in cats[qid].items()}
    return scores, labels


def _wave_data(c: ComputedTables, wave: Wave, cw: Crosswalk, keep_data: bool = True) -> WaveData:
    scores, labels = stable_scores(c.design, wave, cw)
    return WaveData(wave.name, stable_tables(c.tables.tables, wave.name, cw), c.design, scores, labels,
                    c.data if keep_data else None)


def wave_data(wave: Wave, cw: Crosswalk, scopes: list[str] | None = None,
              data_dir: Path | str | None = None) -> WaveData:
    """:func:`wave_tables` with the design, the respondents' stable scores and the validated data
    kept (for the trend and the common panels). The tests and comparisons of the wave's own
    tables are not computed (the change between waves uses the estimates only)."""
    return _wave_data(compute_tables(data_dir or wave.data_dir, wave.params, scopes=scopes, tests=False), wave, cw)


def wave_tables(wave: Wave, cw: Crosswalk, scopes: list[str] | None = None,
                data_dir: Path | str | None = None) -> pd.DataFrame:
    """The wave's tables (every scope, or ``scopes``) under stable ids: :func:`compute_tables` on the
    wave's parameters and data folder (or ``data_dir``), then :func:`stable_tables`."""
    c = compute_tables(data_dir or wave.data_dir, wave.params, scopes=scopes, tests=False)
    return stable_tables(c.tables.tables, wave.name, cw)


def panel_tables(wave: Wave, cw: Crosswalk, kommuner: list[str], data_dir: Path | str | None = None) -> pd.DataFrame:
    """The national tables (scope ``panel``) over the municipalities ``kommuner`` only: the wave's
    data restricted to them (population, sample, responses), weighted and estimated as a survey of
    its own, under stable ids (:func:`panel_data`)."""
    return panel_data(wave, cw, kommuner, data_dir).tables


def panel_data(wave: Wave, cw: Crosswalk, kommuner: list[str], data_dir: Path | str | None = None,
               data: SurveyData | None = None) -> WaveData:
    """:func:`panel_tables` with the panel's own design and stable scores kept (:class:`WaveData`;
    its tables hold scope ``panel`` only).

    The panel is cut from the wave's validated data (``data``, as :func:`wave_data` keeps it; None:
    loaded and validated from ``data_dir`` or the wave's data folder) by
    :func:`survey_lib.load.restrict_to`, then weighted and estimated with the wave's parameters
    restricted to ``kommuner`` (:func:`survey_lib.pipeline.tables_of`).
    """
    wave.params.check_kommuner(kommuner, "panel")
    if data is None:
        data = load_survey(data_dir or wave.data_dir, wave.params)
    params = wave.params.model_copy(update={"kommuner": tuple(k for k in wave.params.kommuner if k.name in kommuner)})
    # one municipality as a scope beside 'all', as the panel's tables have always been made (the
    # secondary suppression of 'all' looks at the scopes made); only 'all' is kept below
    c = tables_of(restrict_to(data, kommuner), params, scopes=sorted(kommuner)[:1], tests=False)
    d = _wave_data(c, wave, cw, keep_data=False)
    t = d.tables[d.tables["scope"] == "all"].copy()
    t["scope"] = PANEL
    return dataclasses.replace(d, tables=t.reset_index(drop=True))


def as_panel(data: WaveData) -> WaveData:
    """A wave's data as its own common panel, when the panel is every participant of the wave: the
    same design and estimates, the national tables under scope ``panel`` (what :func:`panel_data`
    would compute again from the same files)."""
    t = data.tables[data.tables["scope"] == "all"].copy()
    t["scope"] = PANEL
    return dataclasses.replace(data, tables=t.reset_index(drop=True))


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


# ---- three or more waves: the linear trend; rank movement; shares of the top two answers ----------


def trend_comparable(cw: Crosswalk, names: list[str]) -> tuple[list[str], pd.DataFrame]:
    """The stable questions and theme scores comparable across every pair of consecutive waves of
    ``names`` (time order), and the others with the reason (the first pair that breaks them).

    Returns
    -------
    (comparable stable ids, frame ``question, reason``)
    """
    seen: dict[str, str] = {}
    for a, b in zip(names, names[1:]):
        for c in cw.comparisons(a, b):
            if c.stable_id not in seen:
                seen[c.stable_id] = ""
            if not c.comparable and not seen[c.stable_id]:
                seen[c.stable_id] = c.reason
    # a question or theme absent from some wave of the trend has no trend
    for sid in list(seen):
        if seen[sid]:
            continue
        for w in names:
            here = (sid in cw.theme_ids(w)) if sid.startswith("tema_") else (w in cw.entries.get(sid, {}))
            if not here:
                seen[sid] = f"Ikke med i {w}."
                break
    ok = [s for s, r in seen.items() if not r]
    bad = pd.DataFrame([(s, r) for s, r in seen.items() if r], columns=["question", "reason"])
    return ok, bad


def linear_trend(datas: list[WaveData], ids: list[str], trend, scopes: list[str], scope_name: str = "all"
                 ) -> pd.DataFrame:
    """The design-based linear trend (:class:`survey_lib.change.LinearTrend`) of every stable id of
    ``ids`` in total, over the waves of ``datas`` (time order, wave numbers 1, 2, …) stacked into one
    design (:func:`survey_lib.change.stack_designs`), for the national scope and every municipality
    of ``scopes``; a cell suppressed in any wave's table gets no trend.

    ``scope_name`` renames the national scope (``panel`` for the designs of the common panel, whose
    tables hold scope ``panel``).
    """
    from ..change import stack_designs

    st = stack_designs({d.wave: d.design for d in datas})
    outcomes = {sid: st.stack([d.scores.get(sid) for d in datas]) for sid in ids}
    total = {TOTAL: (np.zeros(st.design.n, dtype=int), [""])}
    tables = {}
    for d in datas:
        t = d.tables[(d.tables["breakdown"] == TOTAL) & d.tables["question"].isin(ids)].copy()
        if scope_name != "all":
            t = t[t["scope"] == scope_name]
            t["scope"] = "all"
        tables[d.wave] = t
    out = trend(st, outcomes, total, scopes=scopes, tables=tables)
    if scope_name != "all":
        out["scope"] = out["scope"].replace({"all": scope_name})
    return out.reset_index(drop=True)


def rank_movement(earlier: WaveData, later: WaveData, ids: list[str], reporting_minimum: int) -> pd.DataFrame:
    """Every municipality's rank in the earlier and in the later wave for the stable ids ``ids``,
    among the municipalities ranked in both waves (``panel_only``: both ranks out of the same set):
    :class:`survey_lib.change.RankMovement` on the municipality breakdown of scope ``all``, with the
    ranks of the tables' own municipality comparison (:data:`survey_lib.tables.RANK_DRAWS` draws,
    seed and coverage; a municipality below ``reporting_minimum`` answers in either wave is not
    ranked)."""
    from ..change import RankMovement
    from ..ranks import RankConfidence
    from ..tables import RANK_COVERAGE, RANK_DRAWS, RANK_SEED

    ranker = RankConfidence(coverage=RANK_COVERAGE, draws=RANK_DRAWS, seed=RANK_SEED, min_n=reporting_minimum)

    def pick(t: pd.DataFrame) -> pd.DataFrame:
        return t[t["question"].isin(ids) & (t["scope"] == "all") & (t["breakdown"] == "kommune")]

    return RankMovement(ranker, panel_only=True)(pick(earlier.tables), pick(later.tables))


def top_share_tables(data: WaveData, ids: list[str], scopes: list[str]) -> pd.DataFrame:
    """A ``tables.csv``-shaped frame of the share answering one of the two most positive scores (4
    or 5: category :data:`TOP_CATEGORY`) of every scored question of ``ids``, in total, for the
    national scope and the municipalities ``scopes`` (the national scope named as in
    ``data.tables``: ``all``, or ``panel`` for the common panel's own design).

    Notes
    -----
    The share is the domain mean of the indicator :math:`1(y_i \\ge 4)` over the answers (NaN stays
    NaN), with its linearized standard error (:func:`survey_lib.estimate.domain_estimates`; the
    same estimator as the tables' category shares: the share of 4 or 5 is the sum of the two
    shares, and its SE includes their covariance). A cell suppressed in the wave's table is
    suppressed here too.
    """
    from ..estimate import domain_estimates
    from ..tables import TABLE_COLUMNS

    design = data.design
    national = PANEL if len(data.tables) and (data.tables["scope"] == PANEL).all() else "all"
    strata = [str(s) for s in design.stratum_labels]
    tot = data.tables[data.tables["breakdown"] == TOTAL]
    sup = dict(zip(zip(tot["scope"].astype(str), tot["question"].astype(str)),
                   tot["suppressed"].astype(str).str.lower().isin(["true", "1"])))
    rows = []
    zeros = np.zeros(design.n, dtype=int)
    for sid in ids:
        if sid not in data.labels or sid not in data.scores:
            continue
        y = data.scores[sid]
        ind = np.where(np.isnan(y), np.nan, (y >= 4).astype(float))
        lab = data.labels[sid]
        label = f"{lab.get(4, '4')} eller {str(lab.get(5, '5')).lower()}"
        targets = [(national, domain_estimates(design, ind, zeros, 1, shares=False), 0)]
        if scopes:
            by = domain_estimates(design, ind, zeros, 1, by_stratum=True, shares=False)
            targets += [(k, by, strata.index(k)) for k in scopes if k in strata]
        for scope, est, r in targets:
            hidden = bool(sup.get((scope, sid), True))
            n = int(est.n[r])
            rows.append({"scope": scope, "question": sid, "breakdown": TOTAL, "group": "", "category": TOP_CATEGORY,
                         "category_label": label, "n": n, "category_n": np.nan, "dont_know_n": np.nan,
                         "weighted_n": est.weighted_n[r], "share": np.nan if hidden else est.mean[r],
                         "share_se": np.nan if hidden else est.mean_se[r], "mean": np.nan, "mean_se": np.nan,
                         "mean_ci_low": np.nan, "mean_ci_high": np.nan, "suppressed": hidden})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def top_share_changes(earlier: list[pd.DataFrame], later: list[pd.DataFrame], earlier_wave: str, later_wave: str,
                      change) -> pd.DataFrame:
    """The change of the shares of :func:`top_share_tables` (``kind`` ``share``, category
    :data:`TOP_CATEGORY`) by the change estimator ``change`` (:class:`survey_lib.change.WaveChange`):
    difference, SE √(SE₁² + SE₂²), interval, test; its multiple-testing family per scope is
    ``change:total:shares``."""
    e = pd.concat(earlier, ignore_index=True)
    l = pd.concat(later, ignore_index=True)
    out = change(e, l, earlier_wave=earlier_wave, later_wave=later_wave)
    return out[out["kind"] == "share"].reset_index(drop=True)
