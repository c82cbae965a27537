"""The leak audit: clean outputs pass; each kind of leak, planted on purpose, is found."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from survey_lib.cli import app
from survey_lib.demo import generate, write_dataset
from survey_lib.load import load_survey
from survey_lib.pipeline import make_tables
from survey_lib.privacy.audit import _windows, _words, audit_data, audit_outputs, comment_index


@pytest.fixture(scope="module")
def twin(tmp_path_factory, params):
    root = tmp_path_factory.mktemp("audit")
    write_dataset(generate(params, seed=2023), root / "data")
    data = load_survey(root / "data", params)
    make_tables(root / "data", params, root / "clean" / "tables", scopes=["Odder"])
    # a municipality folder with its own (scrubbed) comments, as a report would show them
    kommune_of = data.population.set_index("person_id")["kommune"]
    r = data.responses.dropna(subset=["uddybning"])
    own = r[r["person_id"].map(kommune_of) == "Odder"]["uddybning"].head(20)
    odder = root / "clean" / "odder"
    odder.mkdir()
    (odder / "provenance.json").write_text(json.dumps({"scope": "Odder"}))
    (odder / "kommentarer.html").write_text("<ul>" + "".join(f"<li>{t}</li>" for t in own) + "</ul>")
    return root, data, audit_data(data, params)


def leaky_copy(twin, tmp_path):
    root, _, _ = twin
    out = tmp_path / "out"
    shutil.copytree(root / "clean", out)
    return out


def test_clean_outputs_pass(twin):
    root, _, kwargs = twin
    assert audit_outputs(root / "clean", **kwargs) == []


def test_the_cli_reports_and_fails(twin, tmp_path):
    root, _, _ = twin
    ok = CliRunner().invoke(app, ["audit", str(root / "clean"), "--data", str(root / "data")])
    assert ok.exit_code == 0 and "No findings" in ok.output
    out = leaky_copy(twin, tmp_path)
    (out / "odder" / "note.txt").write_text("ring på 12 34 56 78")
    bad = CliRunner().invoke(app, ["audit", str(out)])
    assert bad.exit_code == 1 and "odder/note.txt: telefon" in bad.output
    assert "12 34 56 78" not in bad.output                    # the audit does not leak what it finds


@pytest.mark.parametrize("name, content, kind", [
    ("note.html", "<p>Borgerens cpr: 010190-1234</p>", "cpr"),
    ("note.html", "<p>cpr 0101901234 i en kommentar</p>", "cpr"),
    ("note.md", "Ring på +45 23 45 67 89 i morgen", "telefon"),
    ("data.json", json.dumps({"kommentar": "skriv til mette.h@example.dk"}), "email"),
    ("rows.csv", "person_id,tillid\nX1,5\n", "id_column"),
])
def test_each_planted_leak_is_found(twin, tmp_path, name, content, kind):
    out = leaky_copy(twin, tmp_path)
    (out / "odder" / name).write_text(content)
    found = audit_outputs(out, **twin[2])
    assert [f.kind for f in found] == [kind] and found[0].file == f"odder/{name}"


def test_respondent_ids_and_other_municipalities_comments_are_found(twin, tmp_path):
    root, data, kwargs = twin
    out = leaky_copy(twin, tmp_path)
    some_id = data.responses["person_id"].iloc[3]
    (out / "odder" / "ids.html").write_text(f"<td>{some_id}</td>")
    # a comment written only in another municipality, shown in Odder's folder
    owners = comment_index(kwargs["comments"])
    others = kwargs["comments"][kwargs["comments"]["kommune"] != "Odder"]
    foreign = next(t for t in others["text"] if any("Odder" not in owners[w] for w in _windows(_words(t))))
    (out / "odder" / "kommentarer.html").write_text(f"<blockquote>{foreign}</blockquote>")
    kinds = {f.file: f.kind for f in audit_outputs(out, **kwargs)}
    assert kinds == {"odder/ids.html": "person_id", "odder/kommentarer.html": "other_comment"}
    # the same comment outside a municipality's folder (the all-municipalities report) is allowed
    (out / "odder" / "ids.html").unlink()
    shutil.move(out / "odder" / "kommentarer.html", out / "alle.html")
    assert audit_outputs(out, **kwargs) == []


def test_small_cells_in_tables_and_excel_are_found(twin, tmp_path, params):
    out = leaky_copy(twin, tmp_path)
    t = pd.read_csv(out / "tables" / "tables.csv", dtype=str, keep_default_na=False)
    i = t.index[t["suppressed"] == "False"][0]
    t.loc[i, "n"] = "3"                                          # a published cell with 3 answers
    j = t.index[t["suppressed"] == "True"]
    assert len(j), "the twin's tables have suppressed cells"
    t.loc[j[0], "mean"] = "4.2"                                  # a suppressed cell that shows a mean
    t.to_csv(out / "tables" / "tables.csv", index=False)
    found = [f for f in audit_outputs(out, **twin[2]) if f.kind == "small_cell"]
    assert len(found) == 2 and all(f.file == "tables/tables.csv" for f in found)
    assert "fewer than 5 answers" in found[0].detail and "still show a number" in found[1].detail
    from openpyxl import load_workbook

    wb = load_workbook(out / "tables" / "tabeller.xlsx")
    ws = wb["Overordnet tilfredshed"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Antal svar") + 1, value=2)
    wb.save(out / "tables" / "tabeller.xlsx")
    found = [f for f in audit_outputs(out, **twin[2]) if f.file.startswith("tables/tabeller.xlsx")]
    assert [f.kind for f in found] == ["small_cell"] and "[Overordnet tilfredshed]" in found[0].file


def test_unknown_file_types_are_reported(twin, tmp_path):
    out = leaky_copy(twin, tmp_path)
    pd.DataFrame({"a": [1]}).to_parquet(out / "odder" / "rows.parquet")
    assert [f.kind for f in audit_outputs(out, **twin[2])] == ["unknown_file"]


def test_an_unreadable_workbook_is_reported_not_skipped(twin, tmp_path):
    out = leaky_copy(twin, tmp_path)
    (out / "odder" / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook, CPR 010190-1234 inside")
    found = audit_outputs(out, **twin[2])
    assert [f.kind for f in found] == ["unknown_file"] and "cannot be read" in found[0].detail


def test_notebook_cell_ids_are_not_phone_numbers(twin, tmp_path):
    """nbconvert writes cell ids (random hex, sometimes all digits) into the pages; not a finding."""
    out = leaky_copy(twin, tmp_path)
    (out / "odder" / "side.html").write_text('<div class="jp-Cell" id="cell-id=12661358"><p>tekst</p></div>')
    (out / "odder" / "side.ipynb").write_text('{"cells": [{"id": "42424242", "source": "x = 1"}]}')
    assert audit_outputs(out, **twin[2]) == []


def test_a_cpr_number_under_an_id_key_is_found(twin, tmp_path):
    """Only notebook cell ids are passed over, never every JSON "id" value."""
    out = leaky_copy(twin, tmp_path)
    (out / "odder" / "data.json").write_text('{"id": "0101901234"}')
    assert [f.kind for f in audit_outputs(out, **twin[2])] == ["cpr"]
