"""Pseudonymisation at the door: keyed surrogates, consistent across files, nothing of the CPR left."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from builders import frames, write
from survey_lib.cli import app
from survey_lib.errors import DataError, SurveyError
from survey_lib.load import check_inputs
from survey_lib.privacy.pseudonymize import create_key, load_key, pseudonymize_dir, surrogate_ids

# hand-made, date-valid CPR numbers (fictitious) in the three spellings the issue names
CPR = {f"P{i:03d}": v for i, v in enumerate([
    "0101901234", "150285-4321", "290276 1111", "311299-0001", "010203-4005", "121070-2222",
    "2802881234", "300466-9999", "050505-5055", "171162-7777", "0912553333", "240893-1357"], start=1)}
KEY = "k" * 16 + "0123456789abcdef0123456789abcdef"


def cpr_frames() -> dict[str, pd.DataFrame]:
    out = {}
    for role, f in frames().items():
        f = f.copy()
        f["person_id"] = f["person_id"].map(CPR)
        out[role] = f
    out["responses"].loc[0, "uddybning"] = "Mit cpr er 0101901234 og min datters er 010203-4005."
    return out


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "secret" / "key.txt"
    path.parent.mkdir()
    path.write_text(KEY + "\n")
    return path


@pytest.fixture
def raw(tmp_path):
    return write(cpr_frames(), tmp_path / "raw")


def test_analysis_refuses_cpr_ids(raw, params):
    result = check_inputs(raw, params)
    assert any(f.kind == "cpr_id" and f.column == "person_id" for f in result.faults)


def test_surrogates_are_keyed_consistent_and_leave_nothing_of_the_cpr(raw, key_file, tmp_path, params):
    out = tmp_path / "pseudo"
    result = pseudonymize_dir(raw, out, key_file)
    assert result.files == {"population": 12, "sample": 8, "responses": 6}
    assert result.cpr_in_text["responses"] == 2
    pop, smp, rsp = (pd.read_csv(out / f"{r}.csv", dtype=str) for r in ("population", "sample", "responses"))
    # consistent across the three files: the same citizen has the same surrogate everywhere
    by_cpr = dict(zip(cpr_frames()["population"]["person_id"], pop["person_id"]))
    assert list(smp["person_id"]) == [by_cpr[c] for c in cpr_frames()["sample"]["person_id"]]
    assert list(rsp["person_id"]) == [by_cpr[c] for c in cpr_frames()["responses"]["person_id"]]
    assert pop["person_id"].str.fullmatch(r"P[0-9a-f]{20}").all() and pop["person_id"].is_unique
    # separators do not matter: 150285-4321 and 1502854321 are the same person
    assert surrogate_ids(pd.Series(["150285-4321", "1502854321", "150285 4321"]), KEY.encode()).nunique() == 1
    # nothing of any CPR number, the key, or a plain hash anywhere in the output
    blob = "".join(p.read_text() for p in out.iterdir())
    for cpr in CPR.values():
        digits = re.sub(r"\D", "", cpr)
        assert digits not in re.sub(r"[\s-]", "", blob)
        assert hashlib.sha256(digits.encode()).hexdigest()[:20] not in blob
    assert KEY not in blob and "[CPR]" in blob
    # and the analysis accepts the result
    assert not [f for f in check_inputs(out, params).faults if f.kind == "cpr_id"]


def test_another_key_gives_other_surrogates(raw, key_file, tmp_path):
    other = tmp_path / "other-key.txt"
    create_key(other)
    a, b = tmp_path / "a", tmp_path / "b"
    pseudonymize_dir(raw, a, key_file)
    pseudonymize_dir(raw, b, other)
    pseudonymize_dir(raw, tmp_path / "a2", key_file)
    ids = {d: pd.read_csv(tmp_path / d / "population.csv", dtype=str)["person_id"] for d in ("a", "b", "a2")}
    assert not set(ids["a"]) & set(ids["b"])
    assert ids["a"].equals(ids["a2"])                     # same key: same surrogates (next wave links up)


def test_an_id_that_is_not_a_cpr_is_named(tmp_path, key_file):
    f = cpr_frames()
    f["sample"].loc[2, "person_id"] = "ABC-123"
    raw = write(f, tmp_path / "raw")
    with pytest.raises(DataError, match=r"sample\.csv, row 3, column 'person_id': the id is not a date-valid CPR"):
        pseudonymize_dir(raw, tmp_path / "out", key_file)
    assert not (tmp_path / "out").exists()                # nothing half-written


def test_a_second_cpr_column_is_refused(tmp_path, key_file):
    f = cpr_frames()
    f["population"]["cpr_nr"] = f["population"]["person_id"]
    raw = write(f, tmp_path / "raw")
    with pytest.raises(DataError, match=r"column 'cpr_nr' holds CPR numbers in 12 rows.*--id-column"):
        pseudonymize_dir(raw, tmp_path / "out", key_file)


@pytest.mark.parametrize("content, message", [
    (None, r"key file not found; create one with"),
    ("short", r"the key is 5 characters long; expected at least 32"),
])
def test_bad_keys_say_how_to_fix(tmp_path, content, message):
    path = tmp_path / "key.txt"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SurveyError, match=message):
        load_key(path)


def test_key_must_live_apart_from_data_and_never_overwritten(raw, tmp_path):
    inside = raw / "key.txt"
    inside.write_text(KEY)
    with pytest.raises(SurveyError, match=r"lies inside .*keep the key apart"):
        pseudonymize_dir(raw, tmp_path / "out", inside)
    with pytest.raises(SurveyError, match="refusing to overwrite a key"):
        create_key(inside)
    with pytest.raises(SurveyError, match="must differ from the input folder"):
        pseudonymize_dir(raw, raw, tmp_path / "k")


def test_cli_never_prints_the_key_or_a_cpr(raw, tmp_path):
    key = tmp_path / "keys" / "wave.key"
    res = CliRunner().invoke(app, ["pseudonymize", str(raw), str(tmp_path / "out"), "--key-file", str(key),
                                   "--create-key"])
    assert res.exit_code == 0, res.output
    assert "population: 12 rows" in res.output and "12 distinct surrogate ids" in res.output
    assert key.read_text().strip() not in res.output
    assert not any(re.sub(r"\D", "", c) in re.sub(r"\D", "", res.output) for c in CPR.values())
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_cpr_numbers_in_comments_with_any_separator_are_replaced(tmp_path, key_file):
    """An en dash, ' - ', '/', groups of two, no-break spaces: every spelling of a CPR number in a
    comment becomes [CPR]; dates and other numbers stay."""
    written = {
        "en dash": "070691\u20135678", "spaced hyphen": "070691 - 5678", "spaced en dash": "070691 \u2013 5678",
        "slash": "080792/6789", "pairs": "07 06 91 56 78", "serial pairs": "070691 56 78",
        "no-break space": "070691\u00a05678", "grouped date": "07-06-91-5678",
    }
    f = cpr_frames()
    comments = [f"Mit cpr ({how}) er {value}, tak." for how, value in written.items()]
    f["responses"]["uddybning"] = (comments + ["Mødet var 12-03-2023, og 12 34 kr."] * 6)[:len(f["responses"])]
    raw = write(f, tmp_path / "raw")
    result = pseudonymize_dir(raw, tmp_path / "pseudo", key_file)
    assert len(f["responses"]) >= 6
    shown = comments[:len(f["responses"])]
    assert result.cpr_in_text["responses"] == len(shown)
    text = pd.read_csv(tmp_path / "pseudo" / "responses.csv", dtype=str)["uddybning"].tolist()
    for before, after in zip(shown, text):
        assert after == before.split(" er ")[0] + " er [CPR], tak.", (before, after)
    for value in written.values():
        assert not any(value in t for t in text)
    assert all(t == "Mødet var 12-03-2023, og 12 34 kr." for t in text[len(shown):])
