"""CSV cells that a spreadsheet would run as a formula are neutralised (OWASP), and the project's own
reader gets back exactly what was written."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from survey_lib.atomic import atomic_folder
from survey_lib.export import neutralise_csv_text, restore_csv_text, write_csvs
from survey_lib.notebook import read_csv_folder

ATTACKS = ['=HYPERLINK("http://x.invalid","klik")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "group": ["", "-29 år", "=x", "a", "b", "c", "d", "e", "f"],
        "text": ATTACKS + ["'=already quoted", "ok - fint", None],
        "mean": [-1.5, 2.25, -0.001, np.nan, 3.0, -4e-12, 0.0, 1.0, -2.0],
        "n": [-3, 4, 5, 6, 7, 8, 9, 10, 11],
        "label_number": ["-5", "6", "7", "8", "9", "10", "11", "12", "13"],
    })


def test_text_cells_are_neutralised_numbers_stay_numbers(tmp_path):
    with atomic_folder(tmp_path / "out") as stage:
        write_csvs(stage, {"t": frame()})
    with open(tmp_path / "out" / "t.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row, attack in zip(rows[:5], ATTACKS):
        assert row["text"] == "'" + attack
    # a carriage return is written as a line feed (a bare one would end the row): no formula either
    assert len(rows) == len(frame()) and rows[5]["text"] == "\n=1+1"
    assert [r["group"] for r in rows[:3]] == ["", "'-29 år", "'=x"]
    assert rows[6]["text"] == "''=already quoted" and rows[7]["text"] == "ok - fint"
    assert [r["mean"] for r in rows[:3]] == ["-1.5", "2.25", "-0.001"] and rows[0]["n"] == "-3"
    assert rows[0]["label_number"] == "'-5"           # a text column: its '-5' is text, neutralised
    for r in rows:
        for col in ("text", "group"):
            assert r[col][:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_round_trip_with_the_projects_reader(tmp_path):
    """read_csv_folder (what the notebooks use) reads back the frame as written."""
    original = frame()
    with atomic_folder(tmp_path / "out") as stage:
        write_csvs(stage, {"t": original})
    back = read_csv_folder(tmp_path / "out")["t"]
    plain = tmp_path / "plain.csv"
    # (a bare carriage return would cut its row in two there: write it as the writer does, a line feed)
    original.assign(text=original["text"].str.replace("\r", "\n")).to_csv(
        plain, index=False, lineterminator="\n", float_format="%.10g")
    # what pandas reads from the file written without neutralisation
    expected = pd.read_csv(plain, keep_default_na=False, na_values=[""], dtype={"group": str}).assign(
        group=lambda d: d["group"].fillna(""))
    pd.testing.assert_frame_equal(back.drop(columns="text"), expected.drop(columns="text"))
    assert back["text"].tolist()[:5] == ATTACKS[:5] and back["text"].iloc[5] == "\n=1+1"
    assert back["text"].tolist()[6:8] == ["'=already quoted", "ok - fint"] and pd.isna(back["text"].iloc[8])
    assert back["mean"].dtype.kind == "f" and back["n"].dtype.kind == "i" and back["group"].iloc[1] == "-29 år"
    assert back["label_number"].tolist()[0] == -5    # numeric once restored, as the reader always made it


@pytest.mark.parametrize("text", ["", "'", "''", "'x", "=", "'=", "''=", "-", "a=b", "\t", "\n=", "+45 12"])
def test_neutralising_is_exactly_undone(text):
    f = pd.DataFrame({"text": pd.Series([text, "x"], dtype=object)})
    back = restore_csv_text(neutralise_csv_text(f))
    assert back["text"].tolist() == [text, "x"]
    assert (neutralise_csv_text(f) is not f) == (text.lstrip("'")[:1] in ("=", "+", "-", "@", "\t"))


def test_a_frame_without_triggers_is_written_unchanged():
    f = pd.DataFrame({"a": ["x", "y"], "b": [-1, 2]})
    assert neutralise_csv_text(f) is f and restore_csv_text(f) is f
