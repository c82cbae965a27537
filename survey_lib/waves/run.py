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
from ..paths import TREND_DIR
from ..vocabulary import TOTAL
from .params import write_wave_params
from .report import TrendResult, labels_of, waves_with_data, write_trend
from . import load_waves

__all__ = ["TREND_NOTEBOOK", "WaveRun", "choose_wave", "default_wave", "prepare_wave", "record_waves",
           "write_trend_workbook"]

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


def default_wave(params_dir: Path | None, data_given: bool) -> tuple[str | None, str]:
    """The wave ``survey-report run`` takes when ``--wave`` is not given, and why, in Danish.

    The rule: without ``--data``, a params folder with waves (``<params>/waves/``) of which at least
    one has data runs the latest wave with data, as ``--wave latest``. With ``--data`` (data given
    explicitly), a params folder without waves, or waves none of which has data, it is the
    single-wave batch on that params folder as before: (None, why)."""
    from ..paths import ProjectPaths

    folder = Path(params_dir) if params_dir is not None else ProjectPaths().params
    if data_given:
        return None, ""
    if not (folder / "waves").is_dir():
        return None, ""
    waves, _ = load_waves(params_dir)
    have = waves_with_data(waves)
    if not have:
        return None, (f"Ingen --wave: {folder.name}/waves/ har runder ({', '.join(waves)}), men ingen af dem har data; "
                      "batchen køres for én runde som før (giv --wave, når en rundes data findes)")
    return "latest", (f"Ingen --wave: den seneste runde med data, {have[-1]}, køres med udviklingen mod de "
                      f"tidligere runder med data (som --wave latest; giv --data for én runde uden udvikling)")


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


def _write_wave_folders(folder: Path, waves: dict) -> None:
    """``wave_folders.csv``: each wave's output folder under the output root (its ``survey.wave``), so
    that the index can link to an earlier wave's batch (:func:`survey_lib.batch.index.waves_section`)."""
    from ..batch.index import WAVE_FOLDERS

    text = "wave,folder\n" + "".join(f"{w},{waves[w].params.survey.wave}\n" for w in waves)
    path = folder / WAVE_FOLDERS
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)


def prepare_wave(name: str, out_root: Path, params_dir: Path | None = None, data_dir: Path | None = None,
                 change=None, log=print) -> WaveRun:
    """Steps 1–2 of the module docstring; returns what the batch needs."""
    waves, cw = load_waves(params_dir)
    wave = choose_wave(name, waves)
    w = waves[wave]
    if data_dir is not None:
        w = dataclasses.replace(w, data_dir=Path(data_dir))
        waves[wave] = w
    from ..batch.outdir import prepare_output

    # before minutes of trend tables: an --out that cannot be written is said now
    wave_dir = prepare_output(Path(out_root), w.params.survey.wave)
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
    _write_wave_folders(trend.folder, waves)
    header = (f"Parameters of wave {wave} (params/ with params/waves/{wave}/wave.yaml), written by survey-report run "
              f"--wave.\nTrend against: {', '.join(trend.earlier) or 'none'}; trend tables SHA-256 "
              f"{_tree_sha(trend.folder)}")
    dest = write_wave_params(wave, Path(out_root) / PARAMS_DIR / wave, params_dir, header=header)
    return WaveRun(wave, w.params.survey.wave, trend.earlier, w.data_dir, dest, wave_dir)


def record_waves(run: WaveRun, manifest_path: Path) -> None:
    """Add to the batch's manifest which waves made each page and file (key ``waves``).

    ``pages``: per notebook page (job id) the waves it was made from: a trend page the earlier
    waves in which its scope took part and the wave (the scope ``alle``: every earlier wave
    compared), every other page the wave alone. ``files``: the same for what is not a notebook
    page: each scope's one-page summary (``<scope>/ledelsesresume.html`` and ``.pdf``: the wave
    and the earlier wave its 'Siden sidst' compares with), each scope's workbook
    (``<scope>/tabeller/tabeller.xlsx``, whose sheet Udvikling holds the changes since the earlier
    waves the scope took part in), the index and the trend tables (``udvikling/``: every wave
    compared)."""
    from ..batch.index import scope_waves
    from ..batch.jobs import ALL, slug
    from ..paths import TABLES_DIR
    from ..summary import SUMMARY_NAME

    if not manifest_path.is_file():
        return
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    jobs = manifest.get("jobs", {})
    wave_dir = manifest_path.parent
    compared = [*run.earlier, run.wave]
    scopes = sorted({str(j.get("scope") or job_id.rsplit("/", 1)[0]) for job_id, j in jobs.items()})
    made = scope_waves(wave_dir / TREND_DIR, scopes + [ALL])
    by_folder = {slug(s): made.get(s, [run.wave]) for s in scopes + [ALL]}
    pages = {}
    for job_id in jobs:
        folder, notebook = job_id.rsplit("/", 1)
        pages[job_id] = by_folder.get(folder, compared) if notebook == TREND_NOTEBOOK else [run.wave]
    files: dict[str, list[str]] = {"index.html": compared, f"{TREND_DIR}/": compared}
    for folder, waves in sorted(by_folder.items()):
        if not (wave_dir / folder).is_dir():
            continue
        summary = waves[-2:] if len(waves) > 1 else [run.wave]     # 'Siden sidst': the latest earlier wave
        for name in (f"{SUMMARY_NAME}.html", f"{SUMMARY_NAME}.pdf"):
            if (wave_dir / folder / name).is_file():
                files[f"{folder}/{name}"] = summary
        if (wave_dir / folder / TABLES_DIR / "tabeller.xlsx").is_file():
            files[f"{folder}/{TABLES_DIR}/tabeller.xlsx"] = waves
    manifest["waves"] = {"wave": run.wave, "trend_against": list(run.earlier), "pages": pages, "files": files,
                         "trend_tables": f"{TREND_DIR}/"}
    atomic_write_text(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True, default=str)
                      + "\n")
