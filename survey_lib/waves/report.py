"""The trend tables of a wave's batch: the change against every earlier wave with data, the linear
trend over three or more waves, the municipalities' rank movement and the shares of the two most
positive answers, written to ``<out>/<wave>/udvikling/`` for the trend pages (notebook
``60_udvikling``) and the workbook."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..atomic import atomic_folder
from ..paths import TREND_DIR
from ..vocabulary import TOTAL, TREND_PANEL
from .crosswalk import Crosswalk
from .params import Wave

__all__ = ["TrendResult", "waves_with_data", "write_trend", "labels_of"]


@dataclass(frozen=True)
class TrendResult:
    """What :func:`write_trend` wrote: the folder, the earlier waves compared and the files."""

    folder: Path
    earlier: tuple[str, ...]
    files: tuple[Path, ...]


def has_data(wave: Wave) -> bool:
    """Whether the wave's data folder holds a responses file."""
    return wave.data_dir.is_dir() and any(wave.data_dir.glob("responses.*"))


def waves_with_data(waves: dict[str, Wave]) -> list[str]:
    """The waves (time order) whose data folder has data."""
    return [w for w in waves if has_data(waves[w])]


def labels_of(cw: Crosswalk) -> dict[str, str]:
    """Stable id -> the label readers see (the latest wave's question heading or theme label)."""
    out: dict[str, str] = {}
    for w in cw.waves:
        qn = cw.questionnaires[w]
        for sid, per in cw.entries.items():
            if w in per:
                out[sid] = qn.question(per[w].question).heading
        for t in qn.themes:
            out[f"tema_{t.id}"] = t.label
    return out


def _scores(wave: str, tables: pd.DataFrame) -> pd.DataFrame:
    t = tables[(tables["breakdown"] == TOTAL)].drop_duplicates(["scope", "question"])
    return pd.DataFrame({"wave": wave, "scope": t["scope"], "question": t["question"], "mean": t["mean"],
                         "ci_low": t["mean_ci_low"], "ci_high": t["mean_ci_high"], "n": t["n"],
                         "suppressed": t["suppressed"]})


def write_trend(later: str, waves: dict[str, Wave], cw: Crosswalk, wave_dir: Path | str,
                earlier: list[str] | None = None, change=None, trend=None, log=print) -> TrendResult:
    """Compare wave ``later`` with every earlier wave with data (or ``earlier``) and write the trend
    tables to ``wave_dir/udvikling`` atomically.

    Files: ``waves.csv`` (the waves compared), per earlier wave ``changes_<wave>.csv``
    (:data:`survey_lib.change.CHANGE_COLUMNS`), ``not_comparable_<wave>.csv`` (stable id, reason),
    ``warnings_<wave>.txt``, ``ranks_<wave>.csv`` (each municipality's rank in that wave and in
    ``later``: :data:`survey_lib.change.RANK_MOVEMENT_COLUMNS`) and ``top_shares_<wave>.csv`` (the
    change of the share answering 4 or 5, :data:`survey_lib.change.CHANGE_COLUMNS`, ``kind`` share,
    category ``4-5``); ``scores.csv`` (every wave's scores in total per scope, under stable ids, for
    the chart across waves, the common panel as scope ``panel:<wave>``); ``labels.csv``. With three
    or more waves (``later`` and the earlier ones): ``trend.csv`` (the linear trend over them,
    :data:`survey_lib.change.TREND_COLUMNS`; scopes ``all``, ``panel`` = the municipalities in every
    one of them, and each of those municipalities), ``trend_not_comparable.csv`` and the panel's
    scores in ``scores.csv`` as scope ``panel:trend``. Every wave's tables are computed here
    (:func:`~survey_lib.waves.pipeline.wave_data`).

    ``change`` and ``trend`` default to :class:`survey_lib.change.WaveChange` and
    :class:`survey_lib.change.LinearTrend` with the later wave's settings.
    """
    from ..change import LinearTrend, WaveChange
    # the table pipeline (and scipy with it) only when the trend is computed, not for a batch that
    # finds its trend tables current
    from .pipeline import (PANEL, as_panel, compare_waves, linear_trend, panel_data, rank_movement, top_share_changes,
                           top_share_tables, trend_comparable, wave_data)

    wave_dir = Path(wave_dir)
    names = list(waves)
    earlier = [w for w in (earlier if earlier is not None else waves_with_data(waves))
               if names.index(w) < names.index(later)]
    lw = waves[later]
    if not earlier:
        with atomic_folder(wave_dir / TREND_DIR) as stage:
            pd.DataFrame({"wave": [later], "label": [lw.label], "year": [lw.year]}).to_csv(
                stage.file("waves.csv"), index=False)
        return TrendResult(wave_dir / TREND_DIR, (), (wave_dir / TREND_DIR / "waves.csv",))
    change = change if change is not None else WaveChange.from_params(lw.params)
    trend = trend if trend is not None else LinearTrend.from_params(lw.params)
    all_scopes = sorted(set().union(*[set(waves[e].kommuner) for e in earlier]) & set(lw.kommuner))
    log(f"udvikling: tabeller for {later} ({len(all_scopes)} kommuner, der også deltog tidligere)")
    ld = wave_data(lw, cw, scopes=all_scopes)
    later_tables = ld.tables
    data = {later: ld}
    frames: dict[str, pd.DataFrame] = {}
    texts: dict[str, str] = {}
    scores = [_scores(later, later_tables)]
    made: dict[tuple[str, tuple[str, ...]], object] = {}

    def panel_of(w: str, kommuner: list[str]):
        """The panel's own tables and design, made once per wave and set of municipalities."""
        key = (w, tuple(kommuner))
        if key not in made:
            whole = set(kommuner) == set(waves[w].kommuner) and w in data
            made[key] = as_panel(data[w]) if whole else panel_data(
                waves[w], cw, kommuner, data=data[w].data if w in data else None)
        return made[key]

    for e in earlier:
        ew = waves[e]
        panel = sorted(set(ew.kommuner) & set(lw.kommuner))
        log(f"udvikling: {e} -> {later} ({len(panel)} kommuner i begge)")
        ed = wave_data(ew, cw, scopes=panel)
        data[e] = ed
        et = ed.tables
        epd, lpd = panel_of(e, panel), panel_of(later, panel)
        ep, lp = epd.tables, lpd.tables
        comp = compare_waves(ew, lw, cw, et, later_tables, ep, lp, change=change)
        frames[f"changes_{e}.csv"] = comp.changes
        frames[f"not_comparable_{e}.csv"] = comp.not_comparable
        texts[f"warnings_{e}.txt"] = "\n".join(comp.warnings) + "\n"
        ids = [c.stable_id for c in cw.comparisons(e, later) if c.comparable]
        frames[f"ranks_{e}.csv"] = rank_movement(ed, ld, ids, lw.params.survey.reporting_minimum)
        frames[f"top_shares_{e}.csv"] = top_share_changes(
            [top_share_tables(ed, ids, panel), top_share_tables(epd, ids, [])],
            [top_share_tables(ld, ids, panel), top_share_tables(lpd, ids, [])], e, later, change)
        scores.append(_scores(e, et))
        for w, p in ((e, ep), (later, lp)):
            s = _scores(w, p)
            s["scope"] = f"{PANEL}:{e}"
            scores.append(s)
    used = [w for w in names if w in earlier or w == later]
    if len(used) >= 3:
        ids, excluded = trend_comparable(cw, used)
        common = sorted(set.intersection(*[set(waves[w].kommuner) for w in used]))
        log(f"udvikling: tendens over {len(used)} runder ({', '.join(used)}; {len(common)} kommuner i alle)")
        parts = [linear_trend([data[w] for w in used], ids, trend, common)]
        if common:
            pdata = [panel_of(w, common) for w in used]
            parts.append(linear_trend(pdata, ids, trend, [], scope_name=PANEL))
            for d in pdata:
                s = _scores(d.wave, d.tables)
                s["scope"] = TREND_PANEL
                scores.append(s)
        frames["trend.csv"] = pd.concat(parts, ignore_index=True)
        frames["trend_not_comparable.csv"] = excluded
    frames["waves.csv"] = pd.DataFrame({"wave": used, "label": [waves[w].label for w in used],
                                        "year": [waves[w].year for w in used]})
    frames["scores.csv"] = pd.concat(scores, ignore_index=True)
    lab = labels_of(cw)
    frames["labels.csv"] = pd.DataFrame({"question": list(lab), "label": list(lab.values())})
    with atomic_folder(wave_dir / TREND_DIR) as stage:
        for name, frame in frames.items():
            frame.to_csv(stage.file(name), index=False, lineterminator="\n")
        for name, text in texts.items():
            stage.file(name).write_text(text, encoding="utf-8")
        written = tuple(wave_dir / TREND_DIR / n for n in stage.names)
    return TrendResult(wave_dir / TREND_DIR, tuple(earlier), written)
