"""The synthetic twin is told from its data (its manifest, or its ids when the manifest is gone), real
data are not; and what the twin makes carries the banner: workbook sheets, pages, provenance."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from survey_lib.synthetic import BANNER, DEMO_MANIFEST, banner_for, check_synthetic


def _copy(src, dst, manifest=True):
    shutil.copytree(src, dst)
    if not manifest:
        (dst / DEMO_MANIFEST).unlink()
    return dst


def _relabel_ids(folder, new):
    """Every person id of the three files replaced consistently by ``new(i)``."""
    ids = pd.read_csv(folder / "population.csv", dtype=str, keep_default_na=False)["person_id"]
    mapping = {old: new(i) for i, old in enumerate(ids)}
    for role in ("population", "sample", "responses"):
        frame = pd.read_csv(folder / f"{role}.csv", dtype=str, keep_default_na=False)
        frame["person_id"] = frame["person_id"].map(mapping)
        frame.to_csv(folder / f"{role}.csv", index=False)


def test_the_twin_is_told_by_its_manifest(twin_dir):
    check = check_synthetic(twin_dir)
    assert check.synthetic and DEMO_MANIFEST in check.reason
    assert banner_for(twin_dir) == BANNER


def test_a_renamed_copy_without_its_manifest_is_told_by_its_ids(twin_dir, tmp_path):
    copy = _copy(twin_dir, tmp_path / "kommunens_data_2023", manifest=False)
    check = check_synthetic(copy)
    assert check.synthetic and "BR" in check.reason


def test_real_data_with_other_ids_are_not_marked(twin_dir, tmp_path):
    """The same rows with keyed surrogate ids (P + hex, as survey-report pseudonymize writes them)
    and no manifest: not the twin."""
    copy = _copy(twin_dir, tmp_path / "rigtige", manifest=False)
    _relabel_ids(copy, lambda i: f"P{i:020x}")
    assert check_synthetic(copy).synthetic is False and banner_for(copy) == ""


def test_a_manifest_of_another_generator_and_mixed_ids_are_not_enough(twin_dir, tmp_path):
    copy = _copy(twin_dir, tmp_path / "blandet")
    (copy / DEMO_MANIFEST).write_text(json.dumps({"generator": "someone else"}), encoding="utf-8")
    _relabel_ids(copy, lambda i: f"BR{i:07d}" if i % 2 else f"X{i:08d}")
    assert check_synthetic(copy).synthetic is False
    assert check_synthetic(tmp_path / "findes-ikke").synthetic is False


def test_provenance_records_it_and_the_workbook_shows_it_on_every_sheet(twin_dir, tmp_path, params):
    """provenance() says the data are synthetic; every sheet of tabeller.xlsx starts with the
    banner (and prints it in its page header) above the Danish column names."""
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from survey_lib.cli import app
    from survey_lib.provenance import provenance

    assert provenance("d", "p", "w", {"population": str(twin_dir / "population.csv")})["data_synthetic"] is True
    res = CliRunner().invoke(app, ["tables", str(twin_dir), "--out", str(tmp_path / "out"), "--kommune", "Odder"])
    assert res.exit_code == 0, res.output
    wb = load_workbook(tmp_path / "out" / "tabeller.xlsx")
    for ws in wb.worksheets:
        assert ws["A1"].value == BANNER, ws.title
        assert BANNER in ws.oddHeader.center.text, ws.title
    assert "Gns. score" in [c.value for c in wb["Overordnet tilfredshed"][2]]


def test_a_sheet_without_a_banner_keeps_its_header_in_the_first_row(tmp_path):
    from openpyxl import load_workbook

    from survey_lib.export import excel_workbook, write_sheet

    wb = excel_workbook(tmp_path / "x.xlsx")
    write_sheet(wb, "Uden", pd.DataFrame({"mean": [3.5]}))
    write_sheet(wb, "Med", pd.DataFrame({"mean": [3.5]}), banner=BANNER)
    wb.close()
    book = load_workbook(tmp_path / "x.xlsx")
    assert [c.value for c in book["Uden"][1]] == ["Gns. score"] and book["Uden"]["A2"].value == 3.5
    assert book["Med"]["A1"].value == BANNER and book["Med"]["A2"].value == "Gns. score"
    assert book["Med"]["A3"].value == 3.5


def test_page_provenance_is_danish_and_has_no_paths():
    from survey_lib.provenance import danish_datetime, reader_provenance, strip_paths

    pairs = reader_provenance([("Kørt", "2026-06-01T10:05:09Z"), ("Varighed", "12.34 s"),
                               ("Kerne", "survey-lib (/home/anna/projekt/.venv/bin/python)"),
                               ("Parametre", json.dumps({"kommune": None, "data_dir": "/home/anna/data/tvilling",
                                                         "wave": "2023"})),
                               ("Note", "se C:\\Users\\anna\\rapport.xlsx og https://www.kl.dk/a/b")])
    values = dict(pairs)
    assert values["Kørt"] == "1. juni 2026 kl. 12.05"                 # summer time in Copenhagen: UTC+2
    assert values["Varighed"] == "12,3 s"
    assert values["Kerne"] == "survey-lib"
    assert values["Parametre"] == "kommune: alle kommuner; datamappe: tvilling; bølge: 2023"
    assert values["Note"] == "se rapport.xlsx og https://www.kl.dk/a/b"
    assert not any("/home" in v or "anna" in v for v in values.values())
    assert danish_datetime("2026-01-31T23:30:00+00:00") == "1. februar 2026 kl. 00.30"
    assert danish_datetime("ikke en tid") == "ikke en tid"
    assert strip_paths("/tmp/pytest-7/x/") == "x"
