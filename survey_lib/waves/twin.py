"""The synthetic twins of every wave, written into one folder per wave (``survey-report demo-data
--wave``): the 2023 pilot twin exactly as ``demo-data`` without ``--wave`` writes it, the later
waves' twins (:mod:`survey_lib.demo.waves`) and the planted true changes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..demo import generate, write_dataset
from ..demo.waves import WAVE_FACTS, generate_wave, planted_changes
from ..errors import SurveyError
from . import load_waves
from .crosswalk import Crosswalk
from .params import Wave

__all__ = ["TRUTH_FILE", "TWIN_WAVES", "load_waves", "truth_of", "write_twins"]

TRUTH_FILE = "ground_truth_changes.csv"
PILOT_WAVE = "2023"
TWIN_WAVES = (PILOT_WAVE, *WAVE_FACTS)


def truth_of(wave: str, waves: dict[str, Wave], cw: Crosswalk) -> pd.DataFrame:
    """The ground truth of the changes planted in twin ``wave`` against its previous twin wave: one
    row per municipality of the common panel and comparable stable question, ``change`` the true
    change of the municipality's mean (0 where nothing was planted). Empty for a wave without one."""
    cols = ["wave_from", "wave_to", "kommune", "question", "change"]
    prev = WAVE_FACTS[wave].previous if wave in WAVE_FACTS else None
    if prev is None:
        return pd.DataFrame(columns=cols)
    panel = sorted(set(waves[prev].kommuner) & set(waves[wave].kommuner))
    questions = [s for s in cw.entries if cw.question(s, prev, wave).comparable]
    planted = planted_changes(WAVE_FACTS[wave].seed, panel, questions)
    return pd.DataFrame([(prev, wave, k, q, planted.get((k, q), 0.0)) for k in panel for q in questions], columns=cols)


def write_twins(names: list[str], out: Path | str, params_dir: Path | str | None = None,
                fmt: str = "csv") -> list[Path]:
    """Write the twin of each wave in ``names`` to ``out/<wave>/``; return the paths written.

    The pilot's twin is :func:`survey_lib.demo.generate` on the pilot's parameters (the same bytes
    as ``demo-data`` without ``--wave``). A later wave's folder also holds ``ground_truth_changes.csv``
    (:func:`truth_of`).
    """
    waves, cw = load_waves(params_dir)
    unknown = [n for n in names if n not in TWIN_WAVES]
    if unknown:
        raise SurveyError(f"--wave: no twin for {unknown}; expected one of {list(TWIN_WAVES)} or 'all'")
    out = Path(out)
    written: list[Path] = []
    for name in names:
        if name == PILOT_WAVE:
            written += write_dataset(generate(waves[name].params), out / name, fmt)
            continue
        truth = truth_of(name, waves, cw)
        planted = {(r.kommune, r.question): r.change for r in truth.itertuples() if r.change != 0}
        data = generate_wave(waves[name].params, name, cw.to_stable(name), planted)
        note = (f"Synthetic twin of the {waves[name].label} wave; not real persons. Its totals are the published "
                "ones; its answers follow the model in survey_lib/demo/waves.py. The ground truth files are not "
                "part of the data contract.")
        written += write_dataset(data, out / name, fmt, note=note, extra={TRUTH_FILE: truth} if len(truth) else None)
    return written
