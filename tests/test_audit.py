"""The leak audit: clean outputs pass; each kind of leak, planted on purpose, is found."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from survey_lib.cli import app
from survey_lib.load import load_survey
from survey_lib.pipeline import make_tables
from survey_lib.privacy.audit import _windows, _words, audit_data, audit_outputs, comment_index


@pytest.fixture(scope="module")
def twin(tmp_path_factory, params, twin_dir):
    root = tmp_path_factory.mktemp("audit")
    shutil.copytree(twin_dir, root / "data")           # the suite's twin (tests/conftest.py)
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
    _write_free_text(data, params, "Odder", odder / "tabeller")
    return root, data, audit_data(data, params)


def _write_free_text(data, params, scope, folder):
    """The scope's published free text as the batch writes it: the CSVs and the reading workbook."""
    from survey_lib.atomic import atomic_folder
    from survey_lib.design import build_design
    from survey_lib.export import excel_workbook, write_csvs, write_sheet
    from survey_lib.freetext.report import free_text_report
    from survey_lib.freetext.sample import READING_COLUMNS

    report = free_text_report(build_design(data, params), params, scope)
    with atomic_folder(folder / "fritekst") as stage:
        write_csvs(stage, {k: v for k, v in report.items() if k != "reading_sample"})
    wb = excel_workbook(folder / "kommentarer_til_laesning.xlsx")
    write_sheet(wb, "Kommentarer", report["reading_sample"].rename(columns=READING_COLUMNS))
    wb.close()
    return report


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
    assert ws["A1"].value == "Syntetiske data – ikke rigtige resultater"    # the twin's banner, then the header
    header = [c.value for c in ws[2]]
    ws.cell(row=3, column=header.index("Antal svar") + 1, value=2)
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


# ---- the second detector: independent of the scrubber ---------------------------------------------

@pytest.mark.parametrize("content, kind", [
    ("cpr 0706 915678 (four and six)", "cpr"),
    ("cpr 070 691 5678", "cpr"),
    ("ring 263 748 59", "telefon"),
    ("ring 26-3748-59", "telefon"),
])
def test_the_audit_finds_what_the_scrubber_misses(twin, tmp_path, monkeypatch, content, kind):
    """Spellings the scrubber does not recognise, written straight into an output file, are found;
    also with the scrubber's own patterns switched off (the audit does not use them)."""
    import re

    from survey_lib.privacy import scrub

    assert not scrub.scrub_text(content).changed
    for name in list(scrub.PATTERNS):
        monkeypatch.setitem(scrub.PATTERNS, name, re.compile("(?!)"))
    out = leaky_copy(twin, tmp_path)
    (out / "odder" / "note.html").write_text(f"<p>{content}</p>")
    found = audit_outputs(out, **twin[2])
    assert [(f.file, f.kind) for f in found] == [("odder/note.html", kind)]


@pytest.mark.parametrize("text", ["Mødet var 2023-03-12 og 12-03-2023.", "I 2022 2023 og 2022-2023.",
                                  "Andel 3.852341234, 1.205512345 og 0,1205551234.", "sha 3fa0101901234bc",
                                  "Gennemsnit 1205512345.5"])
def test_the_second_detector_passes_dates_years_decimals_and_digests(text):
    from survey_lib.privacy.detectors import digit_findings

    assert digit_findings(text) == []


def test_a_surname_the_scrubber_missed_fails_the_audit(tmp_path, params, twin_dir):
    """The red team's case: a case worker's surname in 15 comments of one municipality. Here the
    scrubber cannot know it (no title, not on the name list); the words list, the log-odds and the
    examples would publish it. The audit's proper-noun scan finds it in the published free text."""
    from survey_lib.privacy.scrub import scrub_text

    sentence = " Jeg talte med Zyxwik om det hele."
    assert scrub_text(sentence).text == sentence
    shutil.copytree(twin_dir, tmp_path / "data")
    responses = pd.read_csv(tmp_path / "data" / "responses.csv", dtype=str, keep_default_na=False)
    population = pd.read_csv(tmp_path / "data" / "population.csv", dtype=str, keep_default_na=False)
    odder = set(population.loc[population["kommune"] == "Odder", "person_id"])
    rows = responses.index[responses["person_id"].isin(odder) & (responses["uddybning"] != "")][:15]
    assert len(rows) == 15
    responses.loc[rows, "uddybning"] += sentence
    responses.to_csv(tmp_path / "data" / "responses.csv", index=False)
    data = load_survey(tmp_path / "data", params)
    out = tmp_path / "out" / "odder"
    out.mkdir(parents=True)
    (out / "provenance.json").write_text(json.dumps({"scope": "Odder"}))
    report = _write_free_text(data, params, "Odder", out / "tabeller")
    assert "zyxwik" in set(report["log_odds"]["term"])       # the leak is real: the log-odds list has it
    found = [f for f in audit_outputs(tmp_path / "out", **audit_data(data, params)) if f.kind == "proper_noun"]
    files = {f.file for f in found}
    assert "odder/tabeller/fritekst/log_odds.csv" in files
    assert all("Zyxwik" not in f.detail and "zyxwik" not in f.detail for f in found)


def test_the_proper_noun_scan_passes_ordinary_capitals():
    from survey_lib.privacy.detectors import CommentVocabulary, proper_nouns, unknown_terms

    vocab = CommentVocabulary.from_texts(["jeg fik hjælp af sagsbehandleren", "mødet var godt"], known=["Odder"])
    text = "Sagsbehandleren var god. Mødet i Jobcenter Odder var godt! [NAVN] ringede. Jeg talte med Zyxwik."
    assert proper_nouns(text, vocab) == ["Zyxwik"]
    assert unknown_terms("mødet godt", vocab) == [] and unknown_terms("zyxwik ringede", vocab) == ["zyxwik", "ringede"]
    vocab = CommentVocabulary.from_texts(["Jobkonsulenten var god.", "Jeg talte med Zyxwik.", "Hej Odder"])
    assert unknown_terms("jobkonsulenten", vocab) == [] and unknown_terms("zyxwiks", vocab) == ["zyxwiks"]


def test_audit_settings_travel_with_the_call(twin, tmp_path):
    """No module-level state hands data to the workers: the audit module has no mutable globals, and
    a forked audit gives the same findings as one in this process."""
    import survey_lib.privacy.audit as audit

    assert not any(isinstance(v, dict) and not k.isupper() for k, v in vars(audit).items() if not k.startswith("__"))
    out = leaky_copy(twin, tmp_path)
    (out / "odder" / "note.html").write_text("<p>cpr 0706 915678</p>")
    (out / "odder" / "rows.csv").write_text("person_id,tillid\nX1,5\n")
    assert audit_outputs(out, **twin[2], jobs=2) == audit_outputs(out, **twin[2], jobs=1)
