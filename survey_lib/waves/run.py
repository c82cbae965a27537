"""``survey-report run --wave``: the batch of one wave with its trend pages against every earlier
wave with data.

Steps: (1) the wave's merged parameters are written to ``<out>/_params/<wave>/`` (the batch and its
notebooks read a params folder); (2) the trend tables against the earlier waves with data are
written to ``<out>/<wave>/udvikling/`` with the workbook ``udvikling.xlsx`` (sheet ``Udvikling``);
(3) the batch runs on the wave's data and parameters (the trend tables are reused when nothing
they depend on changed: data of the waves compared, parameter files, survey_lib source); its notebook ``60_udvikling`` reads the trend
tables; (4) the manifest records, per page, the waves that made it.

The trend tables are part of the pages' inputs: their SHA-256 is written as a comment on top of the
merged ``survey.yaml``, which is in the parameters' digest, so a change of an earlier wave's data
reruns the later wave's pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write_text
from ..errors import SurveyError
from ..trend import TREND_DIR
from ..vocabulary import TOTAL
from .params import write_wave_params
from .report import TrendResult, labels_of, waves_with_data, write_trend
from .twin import load_waves

__all__ = ["TREND_NOTEBOOK", "WaveRun", "choose_wave", "prepare_wave", "record_waves", "write_trend_workbook"]

TREND_NOTEBOOK = "60_udvikling"
PARAMS_DIR = "_params"


@dataclass(frozen=True)
class WaveRun:
    """A prepared wave batch: the wave, the earlier waves compared, the data and params folders."""

    wave: str
    survey_wave: str
    earlier: tuple[str, ...]
    data_dir: Path
    params_dir: Path
    wave_dir: Path


def choose_wave(name: str, waves: dict) -> str:
    """``name``, or for ``latest`` the latest wave whose data folder has data."""
    if name != "latest":
        if name not in waves:
            raise SurveyError(f"--wave: unknown wave {name!r}; the waves defined are {list(waves)} (or 'latest')")
        return name
    have = waves_with_data(waves)
    if not have:
        raise SurveyError("--wave latest: no wave has data; make the twins with "
                          "'survey-report demo-data --wave all --out data/demo' or put a wave's data in its data_dir")
    return have[-1]


def write_trend_workbook(folder: Path, labels: dict[str, str]) -> Path:
    """``udvikling.xlsx`` with the sheet ``Udvikling``: every mean change in total (each scope, each
    earlier wave), Danish headers."""
    from ..atomic import atomic_folder

    frames = []
    waves = pd.read_csv(folder / "waves.csv", dtype={"wave": str})
    label = dict(zip(waves["wave"], waves["label"]))
    for w in waves["wave"].iloc[:-1]:
        c = pd.read_csv(folder / f"changes_{w}.csv", dtype={"earlier_wave": str, "later_wave": str})
        c = c[(c["breakdown"] == TOTAL) & (c["kind"] == "mean")]
        frames.append(pd.DataFrame({
            "Fra runde": c["earlier_wave"].map(label), "Til runde": c["later_wave"].map(label),
            "Område": c["scope"].replace({"all": "Alle deltagere", "panel": "Kommuner med i begge runder"}),
            "Spørgsmål": c["question"].map(lambda q: labels.get(q, q)),
            "Tidligere score": c["earlier"], "Seneste score": c["later"], "Ændring": c["change"],
            "Ændring, 95 %-KI nedre": c["ci_low"], "Ændring, 95 %-KI øvre": c["ci_high"],
            "p-værdi (korrigeret)": c["p_adjusted"],
            "Vurdering": c["flag"].map({"up": "Sikker forbedring", "down": "Sikkert fald",
                                        "unchanged": "Uændret inden for usikkerheden",
                                        "suppressed": "Ikke vist (for få svar)",
                                        "not_computable": "Ikke beregnet"})}))
    sheet = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    with atomic_folder(folder) as stage:
        sheet.to_excel(stage.file("udvikling.xlsx"), sheet_name="Udvikling", index=False)
    return folder / "udvikling.xlsx"


def _tree_sha(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.glob("*.csv")) + sorted(folder.glob("*.txt")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


KEY_FILE = "key.txt"


def _inputs_key(wave: str, waves: dict, params_dir: Path | None) -> str:
    """SHA-256 over what the trend tables depend on: the data files of the wave and of every earlier
    wave with data, every parameter file (shared, waves, crosswalk) and the survey_lib source."""
    from ..paths import ProjectPaths

    h = hashlib.sha256()
    names = list(waves)
    for w in waves_with_data(waves):
        if names.index(w) <= names.index(wave):
            for p in sorted(waves[w].data_dir.iterdir()):
                if p.is_file() and p.name.split(".")[0] in ("population", "sample", "responses"):
                    h.update(f"{w}/{p.name}".encode() + b"\0" + p.read_bytes() + b"\0")
    for folder, pattern in ((Path(params_dir or ProjectPaths().params), "*.yaml"),
                            (Path(__file__).resolve().parents[1], "*.py")):
        for p in sorted(folder.rglob(pattern)):
            if "__pycache__" not in p.parts:
                h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def prepare_wave(name: str, out_root: Path, params_dir: Path | None = None, data_dir: Path | None = None,
                 change=None, log=print) -> WaveRun:
    """Steps 1–2 of the module docstring; returns what the batch needs."""
    waves, cw = load_waves(params_dir)
    wave = choose_wave(name, waves)
    w = waves[wave]
    if data_dir is not None:
        w = dataclasses.replace(w, data_dir=Path(data_dir))
        waves[wave] = w
    wave_dir = Path(out_root) / w.params.survey.wave
    key = _inputs_key(wave, waves, params_dir)
    key_file = wave_dir / TREND_DIR / KEY_FILE
    if key_file.is_file() and key_file.read_text(encoding="utf-8").strip() == key:
        known = pd.read_csv(wave_dir / TREND_DIR / "waves.csv", dtype={"wave": str})["wave"].tolist()
        trend = TrendResult(wave_dir / TREND_DIR, tuple(known[:-1]), ())
        log(f"udvikling: uændrede input; trendtabellerne i {trend.folder} genbruges")
    else:
        trend = write_trend(wave, waves, cw, wave_dir, change=change, log=log)
        if trend.earlier:
            write_trend_workbook(trend.folder, labels_of(cw))
        atomic_write_text(key_file, key + "\n")
    header = (f"Parameters of wave {wave} (params/ with params/waves/{wave}/wave.yaml), written by survey-report run "
              f"--wave.\nTrend against: {', '.join(trend.earlier) or 'none'}; trend tables SHA-256 "
              f"{_tree_sha(trend.folder)}")
    dest = write_wave_params(wave, Path(out_root) / PARAMS_DIR / wave, params_dir, header=header)
    return WaveRun(wave, w.params.survey.wave, trend.earlier, w.data_dir, dest, wave_dir)


def record_waves(run: WaveRun, manifest_path: Path) -> None:
    """Add to the batch's manifest which waves made each page: the trend pages the wave and the
    earlier waves compared, every other page the wave alone (key ``waves``)."""
    if not manifest_path.is_file():
        return
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pages = {}
    for job_id in manifest.get("jobs", {}):
        trend = job_id.rsplit("/", 1)[-1] == TREND_NOTEBOOK
        pages[job_id] = [*run.earlier, run.wave] if trend else [run.wave]
    manifest["waves"] = {"wave": run.wave, "trend_against": list(run.earlier), "pages": pages,
                         "trend_tables": f"{TREND_DIR}/"}
    atomic_write_text(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True, default=str)
                      + "\n")
