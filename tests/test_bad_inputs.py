"""Wrong data that used to get in silently, or crash the reader, is now a fault that says what is wrong.

Each case writes the hand-made data set (tests/builders.py) with one thing broken the way a careless
export or user breaks it, reads the folder through :func:`survey_lib.load.check_inputs` and through
the command line (``survey-report validate DIR``), and checks the fault: its kind, file, row, column
and a message that says what was expected. The SurveyXact cases are in tests/test_io.py.
"""

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import builders
from survey_lib.cli import app
from survey_lib.load import check_inputs, load_survey

runner = CliRunner()


def _write(tmp_path, edit=None):
    frames = builders.frames()
    builders.write(frames, tmp_path)
    if edit is not None:
        edit(tmp_path, frames)
    return tmp_path


def _only(faults, kind):
    hits = [f for f in faults if f.kind == kind]
    assert hits, f"no {kind} fault; got {[str(f) for f in faults]}"
    return hits


def _validate_cli(folder):
    res = runner.invoke(app, ["validate", str(folder), "--params", str(builders.PARAMS_DIR)])
    assert isinstance(res.exception, SystemExit), f"crashed: {res.exception!r}\n{res.output}"
    assert "Traceback" not in res.output
    return res


# ---- the files of the broken cases ---------------------------------------------------------------

def spss_misspelled_label(folder, frames):
    """A .sav that codes tillid from positive to negative (1 = 'I meget høj grad') with one label typed
    'I meget hoej grad': the recoding by label must not be skipped silently."""
    import pyreadstat

    (folder / "responses.csv").unlink()
    out = frames["responses"].copy()
    out["tillid"] = out["tillid"].map({5: 1, 4: 2, 3: 3, 2: 4, 1: 5, 9: 9})
    for c in out.columns:   # SPSS has no nullable integers or missing text: floats and ""
        out[c] = out[c].astype("float64") if pd.api.types.is_numeric_dtype(out[c]) else \
            out[c].astype(object).where(out[c].notna(), "")
    labels = {1.0: "I meget hoej grad", 2.0: "I høj grad", 3.0: "I nogen grad", 4.0: "I lav grad",
              5.0: "Slet ikke", 9.0: "Ved ikke/ikke relevant"}
    pyreadstat.write_sav(out, str(folder / "responses.sav"), variable_value_labels={"tillid": labels})


def cpr_lost_zero(folder, frames):
    """P003 is the CPR number 0103851234 as Excel keeps it when the column is a number: 103851234."""
    for role in ("population", "sample", "responses"):
        f = frames[role].copy()
        f["person_id"] = f["person_id"].replace({"P003": "103851234"})
        f.to_csv(folder / f"{role}.csv", index=False)


def cpr_lost_zero_xlsx(folder, frames):
    """The same, in a workbook whose person_id cells are numbers."""
    cpr_lost_zero(folder, frames)
    (folder / "population.csv").unlink()
    pop = frames["population"].astype(object)
    pop.loc[2, "person_id"] = 103851234
    pop.to_excel(folder / "population.xlsx", index=False)


def born_1850(folder, frames):
    pop = frames["population"].drop(columns="alder")
    pop["foedselsdato"] = ["1850-01-01"] + ["1980-01-01"] * 11
    pop.to_csv(folder / "population.csv", index=False)


def answered_before_invitation(folder, frames):
    resp = frames["responses"].copy()
    resp.loc[0, "started_at"] = "2023-08-20 09:00:00"   # P001 was invited on 2023-08-28
    resp.to_csv(folder / "responses.csv", index=False)


def no_startdato(folder, frames):
    frames["population"].drop(columns="startdato").to_csv(folder / "population.csv", index=False)


def person_id_named_cpr(folder, frames):
    frames["population"].rename(columns={"person_id": "cpr"}).to_csv(folder / "population.csv", index=False)


def cpr_column(folder, frames):
    """A file that has not been pseudonymised: the ids are there, and so are the CPR numbers."""
    pop = frames["population"].copy()
    pop.insert(1, "cpr", [f"{d:02d}0385{1000 + d}" for d in range(1, 13)])
    pop.to_csv(folder / "population.csv", index=False)


def tab_separated(folder, frames):
    for role in ("population", "sample", "responses"):
        frames[role].to_csv(folder / f"{role}.csv", index=False, sep="\t")


def merged_title_row(folder, frames):
    from openpyxl import Workbook

    (folder / "population.csv").unlink()
    wb = Workbook()
    ws = wb.active
    ws.title = "Population"
    pop = frames["population"]
    ws.append(["Borgere i målgruppen, september 2023"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(pop.columns))
    ws.append(list(pop.columns))
    for row in pop.itertuples(index=False):
        ws.append(list(row))
    wb.save(folder / "population.xlsx")


def data_on_sheet_2(folder, frames):
    (folder / "population.csv").unlink()
    with pd.ExcelWriter(folder / "population.xlsx") as xw:
        pd.DataFrame().to_excel(xw, sheet_name="Forside", index=False)
        frames["population"].to_excel(xw, sheet_name="Data", index=False)


def unquoted_comma(folder, frames):
    lines = frames["population"].to_csv(index=False).splitlines()
    lines[1] = lines[1].replace("Odder", "Odder, Jylland", 1)   # first data row, no quotes
    (folder / "population.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def duplicated_column(folder, frames):
    resp = frames["responses"].copy()
    resp.insert(len(resp.columns), "tillid", resp["tillid"], allow_duplicates=True)
    resp.to_csv(folder / "responses.csv", index=False)


# (id, writer, kind, file, row, column, message regex)
CASES = [
    ("SPSS label misspelled", spss_misspelled_label, "unknown_label", "responses.sav", None, "tillid",
     r"the label 'I meget hoej grad' of code 1 is not a category of question 'tillid'.*expected one of "
     r"\['I meget høj grad', 'I høj grad'.*the closest is 'I meget høj grad'"),
    ("CPR without its leading zero", cpr_lost_zero, "cpr_id", "population.csv", 3, "person_id",
     r"nine digits that form a CPR number once its leading zero is put back.*pseudonymize"),
    ("CPR without its leading zero, xlsx number", cpr_lost_zero_xlsx, "cpr_id", "population.xlsx", 3, "person_id",
     r"nine digits that form a CPR number"),
    ("birth date 1850", born_1850, "age_out_of_range", "population.csv", 1, "foedselsdato",
     r"the age 173 \(from the birth date, on 2023-09-18: age_reference_date\) lies outside 15-74 years: .*"
     r"working age.*WORKING_AGE"),
    ("response before its invitation", answered_before_invitation, "before_invitation", "responses.csv", 1,
     "started_at", r"started before the person was invited on 2023-08-28 \(sample.csv row 1, invitation_date\)"),
    ("startdato column missing", no_startdato, "missing_column", "population.csv", None, "startdato",
     r"required column 'startdato' is missing"),
    ("person_id renamed to cpr", person_id_named_cpr, "missing_column", "population.csv", None, "person_id",
     r"required column 'person_id' is missing; the file has one column the contract does not know, 'cpr': "
     r"if it holds person_id, rename it"),
    ("a column of CPR numbers", cpr_column, "cpr_column", "population.csv", None, "cpr",
     r"holds CPR numbers \(12 of 12 rows, the first in row 1\).*pseudonymize"),
    ("Excel title row above the header", merged_title_row, "title_row", "population.xlsx", None, None,
     r"row 1 of the sheet 'Population' holds only 'Borgere i målgruppen, september 2023' .*column names seem "
     r"to be in row 2; the column names must be in row 1"),
    ("data on the second sheet", data_on_sheet_2, "empty_file", "population.xlsx", None, None,
     r"the first sheet 'Forside' has no data rows; only the first sheet is read, and the workbook has the "
     r"sheets 'Forside' \(0 data rows\), 'Data' \(12 data rows\): move the data to the first sheet"),
    ("unquoted comma in the first data row", unquoted_comma, "field_count", "population.csv", 1, None,
     r"this row \(line 2 of the file\) has 7 fields, the header has 6: one field too many: a value that "
     r"contains the separator ',' \(comma\) must be in double quotes"),
    ("duplicated column", duplicated_column, "duplicate_column", "responses.csv", None, "tillid",
     # tillid is the 7th of the 29 columns of builders.all_columns; the copy is appended as the 30th
     r"the column name 'tillid' occurs 2 times in the header: column 7 \(G\) and column 30 \(AD\)"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_fault(tmp_path, params, case):
    _, writer, kind, file, row, column, pattern = case
    result = check_inputs(_write(tmp_path, writer), params)
    assert result.data is None
    hits = [f for f in _only(result.faults, kind) if Path(f.file).name == file and f.column == column]
    assert hits, [str(f) for f in result.faults]
    assert hits[0].row == row
    assert re.search(pattern, hits[0].message), hits[0].message
    res = _validate_cli(tmp_path)
    assert res.exit_code == 1
    assert hits[0].message in res.output


def test_unquoted_comma_is_one_fault_not_a_cascade(tmp_path, params):
    faults = check_inputs(_write(tmp_path, unquoted_comma), params).faults
    assert [(f.kind, f.row) for f in faults] == [("field_count", 1)]


def test_duplicated_column_is_not_reported_as_a_renamed_copy(tmp_path, params):
    faults = check_inputs(_write(tmp_path, duplicated_column), params).faults
    assert [f.kind for f in faults] == ["duplicate_column"]
    assert "tillid.1" not in str(faults[0])


def test_row_with_a_field_too_few_and_a_wrong_header(tmp_path, params):
    def edit(folder, frames):
        lines = frames["sample"].to_csv(index=False).splitlines()
        lines[3] = lines[3].rsplit(",", 1)[0]                  # data row 3 lost its last field
        (folder / "sample.csv").write_text("\n".join(lines) + "\n")
        pop = frames["population"].to_csv(index=False).splitlines()
        pop[0] += ",note"                                       # a header name with no data below it
        (folder / "population.csv").write_text("\n".join(pop) + "\n")
    faults = check_inputs(_write(tmp_path, edit), params).faults
    by_file = {Path(f.file).name: f for f in faults}
    assert sorted(by_file) == ["population.csv", "sample.csv"] and len(faults) == 2
    assert by_file["sample.csv"].row == 3
    assert "has 3 fields, the header has 4: one field too few" in by_file["sample.csv"].message
    assert re.search(r"the header \(line 1\) has 7 fields but every data row has 6.*one field too many",
                     by_file["population.csv"].message)


def test_quoted_separator_and_line_break_are_part_of_the_value(tmp_path, params):
    """Quotes keep a comma or a line break inside a value: no field-count fault, the text kept whole."""
    def edit(folder, frames):
        resp = frames["responses"].copy()
        resp.loc[0, "uddybning"] = "Godt, men langsomt.\nOg for mange breve."
        resp.to_csv(folder / "responses.csv", index=False)
    data = load_survey(_write(tmp_path, edit), params)
    assert data.responses.loc[0, "uddybning"] == "Godt, men langsomt.\nOg for mange breve."


def test_tab_separated_files_read_like_comma_separated(tmp_path, params):
    reference = load_survey(_write(tmp_path / "comma"), params)
    data = load_survey(_write(tmp_path / "tab", tab_separated), params)
    for role in ("population", "sample", "responses"):
        pd.testing.assert_frame_equal(getattr(data, role), getattr(reference, role), check_exact=True)


def test_spss_labels_that_all_match_still_recode(tmp_path, params):
    """The strict label check does not refuse a correct file: with 'I meget høj grad' spelled right the
    flipped codes read back as the codebook's scores."""
    def edit(folder, frames):
        import pyreadstat

        spss_misspelled_label(folder, frames)
        frame, meta = pyreadstat.read_sav(str(folder / "responses.sav"))
        labels = dict(meta.variable_value_labels["tillid"]) | {1.0: "I meget høj grad"}
        pyreadstat.write_sav(frame, str(folder / "responses.sav"), variable_value_labels={"tillid": labels})
    data = load_survey(_write(tmp_path, edit), params)
    assert data.responses["tillid"].tolist() == builders.frames()["responses"]["tillid"].tolist()


@pytest.mark.parametrize("age,ok", [(14, False), (15, True), (74, True), (75, False)])
def test_age_limits_of_the_contract(tmp_path, params, age, ok):
    """The given age is checked against the same working-age limits (15-74) as the derived one."""
    def edit(folder, frames):
        pop = frames["population"].copy()
        pop.loc[3, "alder"] = age
        pop.to_csv(folder / "population.csv", index=False)
    faults = check_inputs(_write(tmp_path, edit), params).faults
    if ok:
        assert faults == []
    else:
        assert [(f.kind, f.row, f.column, f.value) for f in faults] == [("age_out_of_range", 4, "alder", str(age))]
        assert f"the age {age} lies outside 15-74 years" in faults[0].message


def test_cpr_values_are_not_echoed(tmp_path, params):
    for writer in (cpr_lost_zero, cpr_column):
        folder = _write(tmp_path / writer.__name__, writer)
        res = _validate_cli(folder)
        assert res.exit_code == 1
        assert "103851234" not in res.output and "0103851001" not in res.output
