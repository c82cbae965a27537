"""The trend tables of a wave's batch: the change against every earlier wave with data, written to
``<out>/<wave>/udvikling/`` for the trend pages (notebook ``60_udvikling``) and the workbook."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..atomic import atomic_folder
from ..trend import TREND_DIR
from ..vocabulary import TOTAL
from .crosswalk import Crosswalk
from .params import Wave
from .pipeline import PANEL, compare_waves, panel_tables, wave_tables

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
                earlier: list[str] | None = None, change=None, log=print) -> TrendResult:
    """Compare wave ``later`` with every earlier wave with data (or ``earlier``) and write the trend
    tables to ``wave_dir/udvikling`` atomically.

    Files: ``waves.csv`` (the waves compared), per earlier wave ``changes_<wave>.csv``
    (:data:`survey_lib.change.CHANGE_COLUMNS`), ``not_comparable_<wave>.csv`` (stable id, reason) and
    ``warnings_<wave>.txt``; ``scores.csv`` (every wave's scores in total per scope, under stable
    ids, for the chart across waves, the common panel as scope ``panel:<wave>``); ``labels.csv``.
    Every wave's tables are computed here (:func:`~survey_lib.waves.pipeline.wave_tables`).
    """
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
    all_scopes = sorted(set().union(*[set(waves[e].kommuner) for e in earlier]) & set(lw.kommuner))
    log(f"udvikling: tabeller for {later} ({len(all_scopes)} kommuner, der også deltog tidligere)")
    later_tables = wave_tables(lw, cw, scopes=all_scopes)
    frames: dict[str, pd.DataFrame] = {}
    texts: dict[str, str] = {}
    scores = [_scores(later, later_tables)]
    for e in earlier:
        ew = waves[e]
        panel = sorted(set(ew.kommuner) & set(lw.kommuner))
        log(f"udvikling: {e} -> {later} ({len(panel)} kommuner i begge)")
        et = wave_tables(ew, cw, scopes=panel)
        ep, lp = panel_tables(ew, cw, panel), panel_tables(lw, cw, panel)
        comp = compare_waves(ew, lw, cw, et, later_tables, ep, lp, change=change)
        frames[f"changes_{e}.csv"] = comp.changes
        frames[f"not_comparable_{e}.csv"] = comp.not_comparable
        texts[f"warnings_{e}.txt"] = "\n".join(comp.warnings) + "\n"
        scores.append(_scores(e, et))
        for w, p in ((e, ep), (later, lp)):
            s = _scores(w, p)
            s["scope"] = f"{PANEL}:{e}"
            scores.append(s)
    used = [w for w in names if w in earlier or w == later]
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
