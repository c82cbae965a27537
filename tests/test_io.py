"""Readers: every format gives the same typed data; the SurveyXact export is recoded by label."""

import re

import pandas as pd
import pytest

import builders
from survey_lib.load import check_inputs, load_survey

FORMATS = [
    ("csv", {}),
    ("csv", {"sep": ";", "decimal_comma": True}),
    ("xlsx", {}),
    ("sav", {}),
    ("parquet", {}),
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, params):
    folder = builders.write(builders.frames(), tmp_path_factory.mktemp("csv"), "csv")
    return load_survey(folder, params)


@pytest.mark.parametrize("fmt,kw", FORMATS, ids=["csv", "csv-semicolon-decimal-comma", "xlsx", "sav", "parquet"])
def test_round_trip_identical(tmp_path, params, reference, fmt, kw):
    folder = builders.write(builders.frames(), tmp_path, fmt, **kw)
    data = load_survey(folder, params)
    for role in ("population", "sample", "responses"):
        pd.testing.assert_frame_equal(getattr(data, role), getattr(reference, role), check_exact=True)


def test_typed_values_known_by_hand(reference):
    pop, resp = reference.population, reference.responses
    assert len(pop) == 12 and len(reference.sample) == 8 and len(resp) == 6
    p1 = pop.set_index("person_id").loc["P001"]
    assert p1["maalgruppe"] == "dagpenge" and p1["alder_band"] == "under_30"
    # 2023-03-01 -> 2023-09-18 is 201 days
    assert p1["varighed_uger"] == pytest.approx(201 / 7)
    assert p1["varighed_band"] == "26_52_uger"
    r = resp.set_index("person_id")
    assert r.loc["P001", "tillid"] == 5 and r.loc["P001", "sammenhaeng"] == 9
    assert r.loc["P002", "tilknytning"] == "afsluttet" and r.loc["P001", "tilknytning"] == "igangvaerende"
    assert pd.isna(r.loc["P010", "submitted_at"]) and r.loc["P010", "status"] == "partial"
    assert r.loc["P002", "forbedring"] == "Færre skift af sagsbehandler."


def test_birth_date_instead_of_age(tmp_path, params):
    frames = builders.frames()
    pop = frames["population"].drop(columns="alder")
    pop["foedselsdato"] = ["1998-09-19"] + ["1980-01-01"] * 11  # P001 turns 25 the day after closing
    frames["population"] = pop
    data = load_survey(builders.write(frames, tmp_path), params)
    assert data.population.set_index("person_id").loc["P001", "alder"] == 24
    assert data.population.set_index("person_id").loc["P002", "alder"] == 43


def test_maalgruppe_instead_of_ydelse(tmp_path, params):
    frames = builders.frames()
    pop = frames["population"]
    pop["maalgruppe"] = pop["ydelse"].map(params.survey.maalgruppe_of_ydelse)
    frames["population"] = pop.drop(columns="ydelse")
    # plan_job / plan_uddannelse filter on ydelse, which is now unknown: drop those answers
    frames["responses"]["plan_job"] = None
    data = load_survey(builders.write(frames, tmp_path), params)
    assert data.population["maalgruppe"].tolist() == pop["maalgruppe"].tolist()


def test_column_names_mapped_in_params(tmp_path, params):
    frames = builders.frames()
    frames["population"] = frames["population"].rename(columns={"person_id": "pnr_pseudo", "koen": "gender"})
    folder = builders.write(frames, tmp_path)
    mapped = params.model_copy(update={"survey": params.survey.model_copy(update={"column_names": {
        "population": {"pnr_pseudo": "person_id", "gender": "koen"}, "sample": {}, "responses": {}}})})
    assert len(load_survey(folder, mapped).population) == 12


def test_spss_value_labels_honoured(tmp_path, params):
    """A .sav that codes gender 1/2 and likert answers 1 = most positive (with labels) reads correctly."""
    import pyreadstat

    frames = builders.frames()
    builders.write(frames, tmp_path, "csv")
    (tmp_path / "population.csv").unlink()
    pop = frames["population"].copy()
    pop["koen"] = pop["koen"].map({"K": 1.0, "M": 2.0})
    pyreadstat.write_sav(pop, str(tmp_path / "population.sav"),
                         variable_value_labels={"koen": {1.0: "K", 2.0: "M"}})
    resp = frames["responses"].copy()
    flip = {5: 1, 4: 2, 3: 3, 2: 4, 1: 5, 9: 9}
    resp["tillid"] = resp["tillid"].map(flip)
    (tmp_path / "responses.csv").unlink()
    out = resp.copy()
    for c in out.columns:   # SPSS has no nullable integers or missing text: floats and ""
        out[c] = out[c].astype("float64") if pd.api.types.is_numeric_dtype(out[c]) else \
            out[c].astype(object).where(out[c].notna(), "")
    labels = {1.0: "I meget høj grad", 2.0: "I høj grad", 3.0: "I nogen grad", 4.0: "I lav grad",
              5.0: "Slet ikke", 9.0: "Ved ikke/ikke relevant"}
    pyreadstat.write_sav(out, str(tmp_path / "responses.sav"), variable_value_labels={"tillid": labels})
    data = load_survey(tmp_path, params)
    assert data.population["koen"].tolist() == frames["population"]["koen"].tolist()
    got = data.responses.set_index("person_id")["tillid"]
    assert got.to_dict() == {"P001": 5, "P002": 4, "P003": 3, "P004": 4, "P008": 1, "P010": 4}


def _surveyxact_frames(params):
    """The hand-made responses as a SurveyXact export that lists options from negative to positive."""
    resp = builders.frames()["responses"]
    sx = params.survey.surveyxact
    inv = {v: k for k, v in sx.variables.items()}
    ds = pd.DataFrame({
        sx.id_variable: list(resp["person_id"]) + ["P007", "P009"],
        sx.status_variable: [1 if s == "complete" else 2 for s in resp["status"]] + [0, 0],
        sx.started_variable: list(resp["started_at"]) + [None, None],
        sx.submitted_variable: list(resp["submitted_at"]) + [None, None],
    })
    labels = []
    qn = params.questionnaire
    for col in resp.columns:
        if col not in inv:
            continue
        var = inv[col]
        q = next(q for q in qn.questions if col in q.columns)
        values = list(resp[col]) + [None, None]
        if q.kind == "likert":
            sc = qn.scales[q.scale]
            # SurveyXact code k = k-th option shown, shown from most negative: 1 = score 1 ... 5 = score 5,
            # 6 = 'ved ikke'
            code_of = {c.score: c.score for c in sc.categories} | {sc.dont_know.code: 6}
            values = [None if pd.isna(v) else code_of[int(v)] for v in values]
            labels += [(var, c.score, c.label) for c in sc.categories] + [(var, 6, sc.dont_know.label)]
        elif q.kind == "single_choice":
            labels += [(var, o.code, o.label) for o in q.options]
        ds[var] = values
    ds["s_99"] = "unmapped"
    lab = pd.DataFrame(labels, columns=["Variable", "Value", "Label"])
    structure = pd.DataFrame({"Variable": list(ds.columns), "Question": ["..."] * len(ds.columns)})
    return ds, lab, structure


@pytest.mark.parametrize("layout", ["xlsx", "csv-folder"])
def test_surveyxact_export(tmp_path, params, reference, layout):
    ds, lab, structure = _surveyxact_frames(params)
    frames = builders.frames()
    del frames["responses"]
    builders.write(frames, tmp_path)
    if layout == "xlsx":
        with pd.ExcelWriter(tmp_path / "responses.xlsx") as xw:
            ds.to_excel(xw, sheet_name="Dataset", index=False)
            lab.to_excel(xw, sheet_name="Labels", index=False)
            structure.to_excel(xw, sheet_name="Structure", index=False)
    else:
        (tmp_path / "responses").mkdir()
        ds.to_csv(tmp_path / "responses" / "Dataset.csv", index=False)
        lab.to_csv(tmp_path / "responses" / "Labels.csv", index=False)
        structure.to_csv(tmp_path / "responses" / "Structure.csv", index=False)
    result = check_inputs(tmp_path, params)
    assert result.faults == []
    assert any("2 row(s) with a status that is neither complete nor partial" in n for n in result.notes)
    assert any("'s_99'" in n for n in result.notes)
    pd.testing.assert_frame_equal(result.data.responses, reference.responses, check_exact=True)


def test_surveyxact_unknown_label_is_a_fault(tmp_path, params):
    ds, lab, structure = _surveyxact_frames(params)
    lab.loc[lab["Label"] == "I nogen grad", "Label"] = "Nogenlunde"
    frames = builders.frames()
    del frames["responses"]
    builders.write(frames, tmp_path)
    with pd.ExcelWriter(tmp_path / "responses.xlsx") as xw:
        ds.to_excel(xw, sheet_name="Dataset", index=False)
        lab.to_excel(xw, sheet_name="Labels", index=False)
        structure.to_excel(xw, sheet_name="Structure", index=False)
    faults = check_inputs(tmp_path, params).faults
    assert any(f.kind == "unknown_label" and f.value == "Nogenlunde" and "[Labels]" in f.file for f in faults)


def test_two_files_for_one_role_is_a_fault(tmp_path, params):
    builders.write(builders.frames(), tmp_path)
    builders.frames()["sample"].to_parquet(tmp_path / "sample.parquet")
    faults = check_inputs(tmp_path, params).faults
    assert [f.kind for f in faults] == ["ambiguous_file"]
    assert "sample.csv" in faults[0].message and "sample.parquet" in faults[0].message


def _write_surveyxact(folder, ds, lab, structure):
    frames = builders.frames()
    del frames["responses"]
    builders.write(frames, folder)
    with pd.ExcelWriter(folder / "responses.xlsx") as xw:
        ds.to_excel(xw, sheet_name="Dataset", index=False)
        lab.to_excel(xw, sheet_name="Labels", index=False)
        structure.to_excel(xw, sheet_name="Structure", index=False)
    return folder


def _validate_cli(folder):
    from typer.testing import CliRunner

    from survey_lib.cli import app

    res = CliRunner().invoke(app, ["validate", str(folder), "--params", str(builders.PARAMS_DIR)])
    assert isinstance(res.exception, SystemExit), f"crashed: {res.exception!r}\n{res.output}"
    return res


STATUS_TEXT = {1: "Gennemført", 2: "Delvist gennemført", 0: "Ikke besvaret"}


def test_surveyxact_status_as_text_is_a_fault_not_zero_rows(tmp_path, params):
    """A status exported as its label ('Gennemført') used to leave every row out: '0 rows read', exit 0."""
    ds, lab, structure = _surveyxact_frames(params)
    ds["statinfo"] = ds["statinfo"].map(STATUS_TEXT)
    result = check_inputs(_write_surveyxact(tmp_path, ds, lab, structure), params)
    faults = [f for f in result.faults if f.kind == "status_text"]
    assert [(f.value, f.row, f.column) for f in faults] == [
        ("Delvist gennemført", 6, "statinfo"), ("Gennemført", 1, "statinfo"), ("Ikke besvaret", 7, "statinfo")]
    assert all(f.file.endswith("responses.xlsx [Dataset]") for f in faults)
    assert re.search(r"the status 'Gennemført' \(in 5 row\(s\), the first shown here\) is text, not a status code; "
                     r"survey.yaml \(surveyxact.status_codes\) reads the codes complete = \[1\]; partial = \[2\]: "
                     r"export the status as codes", faults[1].message)
    res = _validate_cli(tmp_path)
    assert res.exit_code == 1 and "is text, not a status code" in res.output


def test_surveyxact_status_as_text_read_through_the_labels_sheet(tmp_path, params, reference):
    ds, lab, structure = _surveyxact_frames(params)
    ds["statinfo"] = ds["statinfo"].map(STATUS_TEXT)
    lab = pd.concat([lab, pd.DataFrame({"Variable": "statinfo", "Value": list(STATUS_TEXT),
                                        "Label": list(STATUS_TEXT.values())})], ignore_index=True)
    result = check_inputs(_write_surveyxact(tmp_path, ds, lab, structure), params)
    assert result.faults == []
    pd.testing.assert_frame_equal(result.data.responses, reference.responses, check_exact=True)


def test_surveyxact_without_any_respondent_is_a_fault(tmp_path, params):
    ds, lab, structure = _surveyxact_frames(params)
    ds["statinfo"] = 7   # a code survey.yaml does not count as complete or partial
    faults = check_inputs(_write_surveyxact(tmp_path, ds, lab, structure), params).faults
    assert [f.kind for f in faults] == ["no_respondents"]
    assert "none of the 8 rows has a respondent status (complete = [1]; partial = [2]" in faults[0].message
    assert _validate_cli(tmp_path).exit_code == 1


def test_surveyxact_faults_name_the_dataset_row(tmp_path, params):
    """With 100 invited-only rows above the respondents, a fault in the respondent at Dataset row 103
    says row 103 (it used to say 3: its place among the respondents kept)."""
    ds, lab, structure = _surveyxact_frames(params)
    invited = pd.DataFrame({"external_id": [f"X{i:03d}" for i in range(100)], "statinfo": 0})
    ds = pd.concat([invited, ds], ignore_index=True)       # respondents now at Dataset rows 101-106
    ds["startdate"] = ds["startdate"].astype(object)
    ds.loc[102, "startdate"] = "not a time"                 # Dataset row 103: the third respondent
    ds["closetime"] = ds["closetime"].astype(object)
    ds.loc[104, "closetime"] = "2023-09-11 14:00:00"        # Dataset row 105: submitted before it was started
    faults = check_inputs(_write_surveyxact(tmp_path, ds, lab, structure), params).faults
    got = sorted((f.kind, f.row, f.column) for f in faults)
    assert got == [("bad_value", 103, "started_at"), ("inconsistent", 105, "submitted_at")]
    assert all(f.file.endswith("responses.xlsx [Dataset]") for f in faults)
    res = _validate_cli(tmp_path)
    assert "responses.xlsx [Dataset], row 103, column 'started_at'" in res.output


def test_surveyxact_misspelled_label_names_the_closest(tmp_path, params):
    ds, lab, structure = _surveyxact_frames(params)
    lab.loc[(lab["Variable"] == "s_3") & (lab["Label"] == "I nogen grad"), "Label"] = "I nogen grd"
    faults = check_inputs(_write_surveyxact(tmp_path, ds, lab, structure), params).faults
    f = next(f for f in faults if f.kind == "unknown_label")
    assert (f.column, f.value) == ("s_3", "I nogen grd") and f.file.endswith("[Labels]")
    assert re.search(r"is not a category of question 'tillid'.*expected one of \['I meget høj grad'.*"
                     r"the closest is 'I nogen grad'", f.message)
