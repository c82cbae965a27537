"""A municipality without respondents (or named in exclude_municipalities) is left out of the
analysis; the others get their tables, non-response analysis and pages (issue 20).

The data are a copy of the pilot twin with every response of one municipality removed (its
population and sample stay: a failed mailing)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import builders
from typer.testing import CliRunner

from survey_lib.cli import app
from survey_lib.design import build_design
from survey_lib.errors import ParamsError
from survey_lib.exclusions import REASON_DA, find_exclusions
from survey_lib.load import load_survey
from survey_lib.nonresponse import nonresponse_report
from survey_lib.params import load_params
from survey_lib.paths import ProjectPaths
from survey_lib.pipeline import analysis_notes, compute_tables

GONE = "Ishøj"          # the municipality whose mailing failed
NAMED = "Odder"         # the municipality left out by name


@pytest.fixture(scope="module")
def silent_dir(twin_dir, tmp_path_factory):
    """The twin without any response of GONE's citizens."""
    return builders.twin_with_responses(twin_dir, tmp_path_factory.mktemp("silent"), GONE, keep=0)


def _params_with(tmp_path: Path, exclude: list[str]) -> Path:
    dst = tmp_path / "params"
    shutil.copytree(ProjectPaths().params, dst)
    survey = dst / "survey.yaml"
    text = survey.read_text(encoding="utf-8")
    assert "exclude_municipalities: []" in text
    survey.write_text(text.replace("exclude_municipalities: []", f"exclude_municipalities: {json.dumps(exclude)}"),
                      encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def computed(silent_dir, params):
    return compute_tables(silent_dir, params)


def test_an_unknown_name_in_exclude_municipalities_is_the_kommuner_error(tmp_path):
    with pytest.raises(ParamsError, match=r"survey.yaml: exclude_municipalities: unknown municipality 'Narnia'; "
                                          r"expected names from kommuner.yaml: \[.*'Odder'"):
        load_params(_params_with(tmp_path, ["Narnia"]))


def test_a_municipality_without_respondents_is_left_out_and_the_others_get_their_tables(computed, params):
    assert [(e.kommune, e.reason, e.respondents) for e in computed.excluded] == [(GONE, "no_respondents", 0)]
    assert computed.excluded[0].sampled > 0
    scopes = set(computed.tables.tables["scope"])
    assert GONE not in scopes
    assert scopes == {"all"} | {k.name for k in params.kommuner} - {GONE}
    assert GONE not in set(computed.design.frame["kommune"])
    # the figures for all municipalities are those of the others, and say so
    assert computed.provenance["excluded_municipalities"] == [
        {"kommune": GONE, "reason": "no_respondents", "label": "ingen svar: ikke analyseret", "respondents": 0,
         "sampled": computed.excluded[0].sampled}]
    assert GONE not in set(computed.diagnostics["kommune"])


def test_all_is_computed_without_the_municipality_left_out(silent_dir, twin_dir, params, computed, tmp_path):
    # the same as the twin with GONE's population, sample and responses deleted by hand
    pop = pd.read_csv(silent_dir / "population.csv", dtype=str)
    ids = set(pop.loc[pop["kommune"] == GONE, "person_id"])
    hand = tmp_path / "hand"
    hand.mkdir()
    pop[pop["kommune"] != GONE].to_csv(hand / "population.csv", index=False)
    for role in ("sample", "responses"):
        f = pd.read_csv(silent_dir / f"{role}.csv", dtype=str, keep_default_na=False)
        f[~f["person_id"].isin(ids)].to_csv(hand / f"{role}.csv", index=False)
    by_hand = compute_tables(hand, params)
    key = ["scope", "question", "breakdown", "group", "category"]
    a = computed.tables.tables[computed.tables.tables["scope"] == "all"].sort_values(key, na_position="first")
    b = by_hand.tables.tables[by_hand.tables.tables["scope"] == "all"].sort_values(key, na_position="first")
    assert GONE not in set(a["group"])        # not even as an empty group of the municipality breakdown
    assert GONE not in set(computed.tables.suppression_log["group"])
    b = b[b["group"] != GONE]                 # kommuner.yaml lists it: an empty group without the exclusion
    pd.testing.assert_frame_equal(a.reset_index(drop=True)[["mean", "mean_se", "share", "n"]],
                                  b.reset_index(drop=True)[["mean", "mean_se", "share", "n"]])


def test_too_few_respondents_to_weight_is_left_out(silent_dir, params):
    data = load_survey(silent_dir, params)
    n = data.responses["person_id"].isin(
        data.population.loc[data.population["kommune"] == "Tårnby", "person_id"]).sum()
    found = find_exclusions(data, (), min_respondents=int(n) + 1)
    assert {(e.kommune, e.reason) for e in found} >= {(GONE, "no_respondents"), ("Tårnby", "too_few_respondents")}
    assert REASON_DA["too_few_respondents"] in [e.label_da for e in found]


def test_a_municipality_named_in_survey_yaml_is_left_out(silent_dir, tmp_path):
    p = load_params(_params_with(tmp_path, [NAMED]))
    design = build_design(load_survey(silent_dir, p), p)
    assert [(e.kommune, e.reason) for e in design.excluded] == [(NAMED, "excluded"), (GONE, "no_respondents")]
    assert design.excluded[0].label_da == "udeladt efter survey.yaml" and design.excluded[0].respondents > 0
    assert not {NAMED, GONE} & set(design.frame["kommune"])


def test_nonresponse_gives_the_left_out_municipality_its_response_rates_only(silent_dir, params, computed,
                                                                             tmp_path, monkeypatch):
    data = computed.data
    own = nonresponse_report(data, params, kommune=GONE, design=computed.design)
    total = own.response_rates[own.response_rates["variable"] == "total"].iloc[0]
    assert total["sampled"] == computed.excluded[0].sampled     # (its 0 respondents are withheld as any count below 5)
    assert own.left_out["response_rate"].tolist() == [0.0] and own.left_out["respondents"].tolist() == [0]
    assert own.sample_vs_respondents.empty and own.strata.empty and own.weights.empty
    assert own.left_out[["kommune", "reason", "label"]].values.tolist() == [
        [GONE, "no_respondents", "ingen svar: ikke analyseret"]]
    # written and read back as the batch and the notebooks do, and shown: rates, and why nothing else
    import IPython.display

    from survey_lib.atomic import atomic_folder
    from survey_lib.export import write_csvs
    from survey_lib.nonresponse import NonresponseReport
    from survey_lib.notebook import read_csv_folder, show_nonresponse, show_weighting

    with atomic_folder(tmp_path / "nr") as stage:
        write_csvs(stage, own.frames())
    back = NonresponseReport.from_frames(read_csv_folder(tmp_path / "nr"))
    shown: list[str] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, *a, **k: shown.append(
        obj.data if isinstance(getattr(obj, "data", None), str) else ""))
    assert set(show_nonresponse(params, back)) == {"response_rate"}      # no R-indicator: no model
    assert show_weighting(params, back) == {}
    text = "\n".join(shown)
    assert f"**{GONE} er ikke analyseret (ingen svar: ikke analyseret).**" in text
    whole = nonresponse_report(data, params, design=computed.design)
    assert GONE not in set(whole.response_rates.loc[whole.response_rates["variable"] == "kommune", "category"])
    assert whole.left_out["kommune"].tolist() == [GONE] and whole.left_out["response_rate"].tolist() == [0.0]
    other = nonresponse_report(data, params, kommune="Odder", design=computed.design)
    assert other.left_out.empty and len(other.sample_vs_respondents)
    # the others' rates are those of a survey that had not sampled GONE: nothing more withheld
    rates = whole.response_rates.set_index(["variable", "category"])
    assert not rates.loc["kommune", "response_rate"].isna().any()


def test_the_cli_validates_makes_tables_and_nonresponse(silent_dir, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["validate", str(silent_dir)])
    assert r.exit_code == 0, r.output
    assert re.search(rf"{GONE}: left out of the analysis \(no respondents; \d+ sampled\)", r.output)
    assert "the figures for all municipalities ('Alle') are computed without Ishøj" in r.output
    r = runner.invoke(app, ["tables", str(silent_dir), "--out", str(tmp_path / "t"), "--no-excel"])
    assert r.exit_code == 0, r.output
    prov = json.loads((tmp_path / "t" / "provenance.json").read_text(encoding="utf-8"))
    assert prov["excluded_municipalities"][0]["kommune"] == GONE
    r = runner.invoke(app, ["nonresponse", str(silent_dir), "--out", str(tmp_path / "nr"), "--kommune", GONE])
    assert r.exit_code == 0, r.output
    rates = pd.read_csv(tmp_path / "nr" / "response_rates.csv")
    assert rates.loc[rates["variable"] == "total", "sampled"].tolist() == [1472]
    left = pd.read_csv(tmp_path / "nr" / "left_out.csv")
    assert left[["kommune", "label", "response_rate"]].values.tolist() == [[GONE, "ingen svar: ikke analyseret", 0.0]]


def test_the_validation_report_says_nothing_when_all_is_well(twin_dir, params):
    notes = analysis_notes(load_survey(twin_dir, params), params)
    assert not [n for n in notes if "left out" in n]


def test_the_batch_makes_the_others_pages_and_says_why_one_has_none(silent_dir, tmp_path):
    """Two municipalities, one notebook: 'Alle' and Odder get their page, Ishøj none, and the index and
    the batch's summary say 'ingen svar: ikke analyseret'."""
    from survey_lib.batch.runner import BatchOptions, run_batch

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    shutil.copy(ProjectPaths().notebooks / "00_sammenfatning.ipynb", nbs)
    opts = BatchOptions(data_dir=silent_dir, out_root=tmp_path / "out", params_dir=ProjectPaths().params,
                        notebooks_dir=nbs, kommuner=("Odder", GONE), jobs=2, progress=False, audit=False)
    result = run_batch(opts, log=lambda m: None)
    assert result.ok, result.jobs
    status = dict(zip(result.jobs["scope"], result.jobs["status"]))
    assert status == {"all": "ok", "Odder": "ok", GONE: "left_out"}
    assert result.jobs.set_index("scope").loc[GONE, "reason"] == "ingen svar: ikke analyseret"
    wave = result.wave_dir
    assert (wave / "odder" / "00_sammenfatning.html").is_file()
    assert not (wave / "ishoej" / "00_sammenfatning.html").exists()
    index = (wave / "index.html").read_text(encoding="utf-8")
    # the contents page: its row in the headline table and its section say why it has no pages
    assert '<p class="udeladt">ingen svar: ikke analyseret</p>' in index
    assert 'class="udeladt" colspan=' in index and index.count("ingen svar: ikke analyseret") == 2
    # the status page's matrix: one cell across its notebooks
    status_page = (wave / "status.html").read_text(encoding="utf-8")
    assert '<td class="udeladt" colspan="1">ingen svar: ikke analyseret</td>' in status_page
    manifest = json.loads((wave / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["headlines"][GONE]["excluded"] == "ingen svar: ikke analyseret"
    # its non-response tables were written: the response rates need no weights
    assert (wave / "ishoej" / "tabeller" / "frafald" / "left_out.csv").is_file()
    # a rerun with nothing changed reuses the tables and runs nothing (the left-out scope has no table set)
    again = run_batch(opts, log=lambda m: None)
    assert dict(zip(again.jobs["scope"], again.jobs["status"])) == {"all": "skipped", "Odder": "skipped",
                                                                    GONE: "left_out"}
