"""survey-report run --wave end to end on small twins of two waves: the trend tables, the Udvikling
workbook, the wave's merged parameters, the trend page of a municipality and the manifest's waves."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from survey_lib.demo import write_dataset
from survey_lib.demo.waves import WAVE_FACTS, generate_wave
from survey_lib.params import load_params
from survey_lib.paths import ProjectPaths
from survey_lib.waves.run import choose_wave, prepare_wave, record_waves
from survey_lib.waves.twin import load_waves

SMALL = {"2024": ["Aalborg", "Odense", "Vejle"], "2025": ["Aalborg", "Odense", "Ishøj"]}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("waves")
    params = root / "params"
    shutil.copytree(ProjectPaths().params, params)
    for w, names in SMALL.items():
        f = params / "waves" / w / "wave.yaml"
        text = f.read_text(encoding="utf-8")
        start = text.index("kommuner: [")
        end = text.index("]", start) + 1
        f.write_text(text[:start] + f"kommuner: [{', '.join(names)}]" + text[end:], encoding="utf-8")
    waves, cw = load_waves(params)
    for w in SMALL:
        facts = dataclasses.replace(WAVE_FACTS[w], invited=2400, respondents=900)
        data = generate_wave(waves[w].params, w, cw.to_stable(w), None, facts=facts)
        write_dataset(data, waves[w].data_dir)
    return root, params


def test_latest_wave_with_data_is_chosen(small):
    _, params = small
    waves, _ = load_waves(params)
    assert choose_wave("latest", waves) == "2025"           # 2023 has no data in this folder


def test_prepare_and_run_a_trend_page(small):
    pytest.importorskip("survey_lib.change", reason="survey_lib.change (the change statistics) is on its own branch")
    from survey_lib.batch.jobs import MANIFEST
    from survey_lib.batch.runner import default_options, run_batch

    root, params = small
    out = root / "outputs"
    run = prepare_wave("latest", out, params, log=lambda m: None)
    assert (run.wave, run.earlier) == ("2025", ("2024",))
    trend = run.wave_dir / "udvikling"
    ch = pd.read_csv(trend / "changes_2024.csv")
    assert {"all", "panel", "Aalborg", "Odense"} == set(ch["scope"])
    nc = pd.read_csv(trend / "not_comparable_2024.csv")
    assert "plan_uddannelse" in set(nc["question"])
    assert "Udvikling" in pd.ExcelFile(trend / "udvikling.xlsx", engine="openpyxl").sheet_names
    merged = load_params(run.params_dir)
    assert merged.survey.wave == "2025" and [k.name for k in merged.kommuner] == SMALL["2025"]
    assert "trend tables SHA-256" in (run.params_dir / "survey.yaml").read_text(encoding="utf-8")
    result = run_batch(default_options(data_dir=run.data_dir, params_dir=run.params_dir, out_root=out,
                                       kommuner=("Aalborg",), notebooks=("60_udvikling",), jobs=1, progress=False,
                                       audit=False), log=lambda m: None)
    assert result.jobs["status"].eq("ok").all(), result.jobs.to_string()
    html = (run.wave_dir / "aalborg" / "60_udvikling.html").read_text(encoding="utf-8")
    assert "Fra April 2024 til November 2025" in html and "Ikke sammenlignet" in html
    said: list[str] = []
    again = prepare_wave("latest", out, params, log=said.append)            # nothing changed: reused
    assert again.earlier == ("2024",) and any("genbruges" in m for m in said)
    record_waves(run, run.wave_dir / MANIFEST)
    m = json.loads((run.wave_dir / MANIFEST).read_text(encoding="utf-8"))
    assert m["waves"]["pages"]["aalborg/60_udvikling"] == ["2024", "2025"]


def test_validate_with_the_wave_parameters(small):
    from typer.testing import CliRunner

    from survey_lib.cli import app

    root, params = small
    data = root / "data" / "demo" / "2025"
    ok = CliRunner().invoke(app, ["validate", str(data), "--params", str(params), "--wave", "2025"])
    assert ok.exit_code == 0 and "(wave 2025)" in ok.output and "No faults found." in ok.output
    # with the shared (pilot) parameters the 2025 municipalities are unknown
    bad = CliRunner().invoke(app, ["validate", str(data), "--params", str(params), "--max-faults", "1"])
    assert bad.exit_code == 1 and "(wave 2023-pilot)" in bad.output and "fault(s)" in bad.output


def test_run_wave_unknown_is_a_clear_error(small):
    from typer.testing import CliRunner

    from survey_lib.cli import app

    root, params = small
    r = CliRunner().invoke(app, ["run", "--wave", "2019", "--params", str(params), "--out", str(root / "o")])
    assert r.exit_code == 2 and "unknown wave '2019'; the waves defined are ['2023', '2024', '2025']" in r.output
