"""Each fault kind of the data contract: the fault names the file, the row and the column.

Every case starts from the valid hand-made data set (tests/builders.py), breaks one thing, and
checks that exactly the expected fault is reported with file, 1-based data row and column.
"""

import re
from pathlib import Path

import pandas as pd
import pytest

import builders
from survey_lib.errors import DataError
from survey_lib.load import check_inputs, load_survey


def _set(role, row, col, value):
    def edit(frames):
        frames[role] = frames[role].astype(object)
        frames[role].loc[row - 1, col] = value
    return edit


def _rename(role, old, new):
    def edit(frames):
        frames[role] = frames[role].rename(columns={old: new})
    return edit


def _append_copy(role, row):
    def edit(frames):
        df = frames[role]
        frames[role] = pd.concat([df, df.iloc[[row - 1]]], ignore_index=True)
    return edit


# (id, edit, kind, role, row, column, message regex)
CASES = [
    ("misspelled column", _rename("population", "kommune", "komune"), "missing_column", "population", None,
     "kommune", r"required column 'kommune' is missing; the file has 'komune': misspelled\?"),
    ("duplicated person_id", _append_copy("sample", 2), "duplicate", "sample", 9, "person_id",
     r"duplicated value; every person_id must occur once"),
    ("respondent not in sample", _set("responses", 3, "person_id", "P005"), "not_in_sample", "responses", 3,
     "person_id", r"not in the sample file"),
    ("sampled person not in population", _set("sample", 4, "person_id", "P099"), "not_in_population", "sample", 4,
     "person_id", r"not in the population file"),
    ("unknown municipality", _set("population", 7, "kommune", "Ishoj"), "bad_value", "population", 7, "kommune",
     r"unknown municipality; expected one of \["),
    ("unknown gender", _set("population", 2, "koen", "X"), "bad_value", "population", 2, "koen",
     r"unknown gender; expected one of \['K', 'M'\]"),
    ("unknown benefit", _set("population", 5, "ydelse", "kontanthjaelp"), "bad_value", "population", 5, "ydelse",
     r"unknown benefit \(ydelse\); expected one of"),
    ("unknown answer code", _set("responses", 1, "tillid", 6), "bad_value", "responses", 1, "tillid",
     r"unknown answer code for question 'tillid'; expected scores 1-5 or 9"),
    ("answer outside the filter", _set("responses", 1, "tro_paa_job", 4), "filtered_answer", "responses", 1,
     "tro_paa_job", r"filter of question 'tro_paa_job' excludes; it is asked only if \(maalgruppe in "
                    r"\['sygedagpenge', 'aktivitetsparate'\]\)"),
    ("sygedagpenge with employer asked about job offers", _set("responses", 2, "jobmuligheder", 3),
     "filtered_answer", "responses", 2, "jobmuligheder", r"arbejdsgiver in \[2\]"),
    ("date that does not parse", _set("population", 3, "startdato", "31-02-2023"), "bad_value", "population", 3,
     "startdato", r"expected a date such as 2023-09-18"),
    ("date after closing", _set("sample", 1, "invitation_date", "2023-09-19"), "date_after_closing", "sample", 1,
     "invitation_date", r"after the closing date 2023-09-18"),
    ("submitted after closing", _set("responses", 4, "submitted_at", "2023-09-19 00:10:00"), "date_after_closing",
     "responses", 4, "submitted_at", r"after the closing date"),
    ("CPR number as id", _set("population", 12, "person_id", "010190-1234"), "cpr_id", "population", 12,
     "person_id", r"looks like a CPR number; CPR numbers are never accepted"),
    ("exclusive option with another", _set("responses", 5, "kontakt_afdelinger_social", 1), "inconsistent",
     "responses", 5, "kontakt_afdelinger_kun_jobcentret", r"'Kun jobcentret' excludes the other options"),
    ("not a whole number", _set("responses", 1, "tilfredshed", "4,5"), "bad_value", "responses", 1, "tilfredshed",
     r"expected a whole number"),
    ("complete without submit time", _set("responses", 1, "submitted_at", None), "missing_value", "responses", 1,
     "submitted_at", r"a complete response needs submitted_at"),
    ("unknown column", lambda f: f["sample"].insert(1, "sms_reachabel", 1), "unknown_column", "sample", None,
     "sms_reachabel", r"not part of the data contract; did you mean 'sms_reachable'\?"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fault_names_file_row_column(tmp_path, params, case):
    _, edit, kind, role, row, column, pattern = case
    frames = builders.frames()
    edit(frames)
    builders.write(frames, tmp_path)
    result = check_inputs(tmp_path, params)
    hits = [f for f in result.faults if f.kind == kind and f.column == column]
    assert hits, f"no {kind} fault on {column}; got {result.faults}"
    f = next((h for h in hits if h.row == row), hits[0])
    assert Path(f.file).name == f"{role}.csv"
    assert f.row == row
    assert re.search(pattern, f.message), f.message
    text = str(f)
    assert f"{role}.csv" in text and f"column {column!r}" in text
    if row is not None:
        assert f"row {row}" in text
    assert result.data is None


def test_cpr_value_is_not_echoed(tmp_path, params):
    frames = builders.frames()
    _set("population", 12, "person_id", "0101901234")(frames)
    _set("sample", 1, "person_id", "0101901234")(frames)
    builders.write(frames, tmp_path)
    result = check_inputs(tmp_path, params)
    cpr = [f for f in result.faults if f.kind == "cpr_id"]
    assert {Path(f.file).name for f in cpr} == {"population.csv", "sample.csv"}
    assert all("0101901234" not in str(f) for f in result.faults)


def test_invalid_date_in_cpr_position_is_not_a_cpr(tmp_path, params):
    frames = builders.frames()
    _set("population", 12, "person_id", "3213901234")(frames)  # day 32: not a date
    builders.write(frames, tmp_path)
    assert not [f for f in check_inputs(tmp_path, params).faults if f.kind == "cpr_id"]


def test_empty_file(tmp_path, params):
    builders.write(builders.frames(), tmp_path)
    (tmp_path / "sample.csv").write_text("", encoding="utf-8")
    faults = check_inputs(tmp_path, params).faults
    assert [(f.kind, Path(f.file).name) for f in faults] == [("empty_file", "sample.csv")]


def test_header_only_file(tmp_path, params):
    builders.write(builders.frames(), tmp_path)
    (tmp_path / "sample.csv").write_text("person_id,invitation_date,digital_post_exempt,sms_reachable\n")
    faults = check_inputs(tmp_path, params).faults
    assert ("empty_file", "sample.csv") in [(f.kind, Path(f.file).name) for f in faults]


def test_wrong_encoding(tmp_path, params):
    builders.write(builders.frames(), tmp_path)
    text = (tmp_path / "population.csv").read_text(encoding="utf-8")
    (tmp_path / "population.csv").write_bytes(text.encode("cp1252"))  # 'Ishøj' in Windows-1252
    faults = check_inputs(tmp_path, params).faults
    assert [f.kind for f in faults] == ["encoding"]
    assert "population.csv" in faults[0].file
    assert "line 8" in faults[0].message and "UTF-8" in faults[0].message


def test_all_faults_reported_not_just_first(tmp_path, params):
    frames = builders.frames()
    _set("population", 2, "koen", "X")(frames)
    _set("population", 3, "koen", "Y")(frames)
    _set("responses", 1, "tillid", 7)(frames)
    _set("sample", 7, "invitation_date", "2024-01-01")(frames)  # P009, who did not answer
    builders.write(frames, tmp_path)
    with pytest.raises(DataError) as exc:
        load_survey(tmp_path, params)
    kinds = sorted((Path(f.file).name, f.row, f.column) for f in exc.value.faults)
    assert kinds == [("population.csv", 2, "koen"), ("population.csv", 3, "koen"),
                     ("responses.csv", 1, "tillid"), ("sample.csv", 7, "invitation_date")]
    assert "4 fault(s)" in str(exc.value)


def test_no_row_dropped(tmp_path, params):
    """A bad value makes a fault; the row itself stays (the frame keeps every row)."""
    frames = builders.frames()
    _set("population", 2, "startdato", "not a date")(frames)
    builders.write(frames, tmp_path)
    result = check_inputs(tmp_path, params)
    assert result.summary["population_rows"] == 12
    assert [(f.row, f.column) for f in result.faults] == [(2, "startdato")]


def test_summary_counts(tmp_path, params):
    builders.write(builders.frames(), tmp_path)
    s = check_inputs(tmp_path, params).summary
    assert s["responses_by_status"] == {"complete": 5, "partial": 1}
    assert s["respondents_per_kommune"] == {"Ishøj": 2, "Odder": 4}
    assert s["answers_per_question"]["tillid"] == 6
    assert s["answers_per_question"]["kontakt_afdelinger"] == 2
    assert s["answers_per_question"]["samarbejde"] == 1
