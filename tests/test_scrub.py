"""The free-text scrubber (survey_lib.privacy.scrub): hand-written tricky cases, properties, and its
measured recall and false-change rate on the synthetic twin's planted personal data."""

from __future__ import annotations

import csv
import random
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from builders import PARAMS_DIR
from survey_lib.cpr import _date_valid
from survey_lib.privacy.scrub import (
    KINDS, MARKERS, PATTERNS, Finding, Scrubbed, Scrubber, default_scrubber, load_names, scrub_series,
    scrub_text,
)

ROOT = Path(__file__).resolve().parents[1]
CASES = yaml.safe_load((Path(__file__).parent / "data" / "scrub_cases.yaml").read_text(encoding="utf-8"))["cases"]
NAMES_CSV = ROOT / "survey_lib" / "privacy" / "data" / "names_da.csv"
MARKER_RE = re.compile("|".join(re.escape(m) for m in MARKERS.values()))


# ---- hand-written cases ------------------------------------------------------------------------------

def test_case_ids_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_tricky_case(case):
    assert scrub_text(case["text"]).text == case["expected"]


# ---- API -------------------------------------------------------------------------------------------

def test_findings_point_into_the_original():
    text = "Ring til Mette Jensen på 12 34 56 78 eller skriv til mette@example.dk."
    result = scrub_text(text)
    assert isinstance(result, Scrubbed) and result.changed
    assert [f.kind for f in result.findings] == ["navn", "telefon", "email"]
    for f in result.findings:
        assert isinstance(f, Finding)
        assert text[f.start:f.end] == f.text
    assert [f.text for f in result.findings] == ["Mette Jensen", "12 34 56 78", "mette@example.dk"]
    assert result.text == "Ring til [NAVN] på [TELEFON] eller skriv til [EMAIL]."


def test_findings_point_into_the_original_after_normalisation():
    """Matching runs on normalised text; findings and the output refer to the text as written (its
    no-break spaces, soft hyphens and decomposed letters kept outside the findings)."""
    text = "Ulla\u00a0Hvidberg (cpr 0706\u00ad91\u00a0\u2013\u00a05678) bor i A\u030arhus,\u00a0ring 26\u202f37\u202f4859."
    result = scrub_text(text)
    assert [f.kind for f in result.findings] == ["navn", "cpr", "telefon"]
    for f in result.findings:
        assert text[f.start:f.end] == f.text
    assert [f.text for f in result.findings] == ["Ulla\u00a0Hvidberg", "0706\u00ad91\u00a0\u2013\u00a05678",
                                                 "26\u202f37\u202f4859"]
    assert result.text == "[NAVN] (cpr [CPR]) bor i A\u030arhus,\u00a0ring [TELEFON]."


def test_cpr_spans_for_pseudonymisation():
    from survey_lib.privacy.scrub import cpr_spans

    text = "cpr 070691\u2013 5678, 080792/6789 og 07 06 91 56 78; ikke 12-03-2023 eller 320190-1234"
    assert [text[a:b] for a, b in cpr_spans(text)] == ["070691\u2013 5678", "080792/6789", "07 06 91 56 78"]


def test_unchanged_text_has_no_findings():
    result = scrub_text("Det var et godt forløb.")
    assert result == Scrubbed("Det var et godt forløb.", ())
    assert not result.changed


def test_markers_cover_every_kind():
    assert set(MARKERS) == set(KINDS)
    assert set(PATTERNS) == {"cpr", "telefon", "email", "web"}
    assert all(isinstance(p, re.Pattern) for p in PATTERNS.values())


def test_default_scrubber_is_cached():
    assert default_scrubber() is default_scrubber()


def test_custom_scrubber_with_tiny_name_set():
    s = Scrubber(first_names={"Zorro", "Per"}, last_names={"Vega"}, ambiguous={"Per"})
    assert s("Jeg talte med Zorro Vega og Mette.").text == "Jeg talte med [NAVN] og Mette."
    assert s("Zorros hest.").text == "[NAVN] hest."
    assert s("Per uge. Hos Per.").text == "Per uge. Hos [NAVN]."
    # only the name rule depends on the list
    assert s("Ring 12345678.").text == "Ring [TELEFON]."
    empty = Scrubber()
    assert empty("Mette Jensen ringede.").text == "Mette Jensen ringede."


def test_scrubber_from_csv_lines():
    lines = ["# comment", "name,kind,ambiguous", "Bo,first,1", "Knudsen,last,0", "Kim,both,0"]
    first, last, amb = load_names(lines)
    assert first == {"Bo", "Kim"} and last == {"Knudsen", "Kim"} and amb == {"Bo"}
    s = Scrubber.from_csv(lines)
    assert s("Bo har ringet til Kim.").text == "Bo har ringet til [NAVN]."
    with pytest.raises(ValueError):
        load_names(["name,kind,ambiguous", "Bo,middle,0"])


# ---- scrub_series ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [object, "string"])
def test_scrub_series_keeps_na_and_index(dtype):
    values = pd.Series(["Ring 12345678.", None, "Intet her.", "Mette Jensen og 010190-1234"],
                       index=[10, 20, 30, 40], name="uddybning", dtype=dtype)
    scrubbed, counts = scrub_series(values)
    assert list(scrubbed.index) == [10, 20, 30, 40]
    assert scrubbed.name == "uddybning"
    assert pd.isna(scrubbed[20])
    assert scrubbed[10] == "Ring [TELEFON]."
    assert scrubbed[30] == "Intet her."
    assert scrubbed[40] == "[NAVN] og [CPR]"
    assert list(counts.columns) == ["kind", "n"]
    assert list(counts["kind"]) == list(KINDS)
    n = dict(zip(counts["kind"], counts["n"]))
    assert n == {"cpr": 1, "telefon": 1, "email": 0, "web": 0, "adresse": 0, "sagsnr": 0, "navn": 1}
    # the input is not modified
    assert values[10] == "Ring 12345678."


def test_scrub_series_all_missing_and_empty():
    scrubbed, counts = scrub_series(pd.Series([None, None], dtype=object))
    assert scrubbed.isna().all()
    assert counts["n"].sum() == 0
    scrubbed, counts = scrub_series(pd.Series([], dtype=object))
    assert scrubbed.empty and counts["n"].sum() == 0


def test_scrub_series_custom_scrubber():
    scrubbed, _ = scrub_series(pd.Series(["Zorro ringede."]), scrubber=Scrubber(first_names={"Zorro"}))
    assert scrubbed[0] == "[NAVN] ringede."


# ---- detection patterns (shared with the leak auditor) -----------------------------------------------

@pytest.mark.parametrize("kind,text", [
    ("cpr", "sha256 3fa0101901234bc9e"),            # hex digest
    ("cpr", "aGVsbG8x0101901234QUJD"),               # base64
    ("cpr", "0.0101901234"),                         # float
    ("cpr", "3,0101901234"),
    ("cpr", "01019012345"),                          # longer digit run
    ("telefon", "0.12345678"),
    ("telefon", "x12345678y"),
    ("telefon", "123456789"),
    ("telefon", "12345678.5"),
    ("email", "a@b"),
    ("web", "f.eks. bl.a. osv."),
    ("web", "rapport_v2.pdf"),
])
def test_patterns_do_not_fire_inside_longer_runs(kind, text):
    assert PATTERNS[kind].search(text) is None


@pytest.mark.parametrize("kind,text,found", [
    ("cpr", "cpr: 010190-1234.", "010190-1234"),
    ("cpr", '"0101901234"', "0101901234"),
    ("telefon", "tlf.: +45 12 34 56 78,", "+45 12 34 56 78"),
    ("email", "<a.b-c@sub.example.dk>", "a.b-c@sub.example.dk"),
    ("web", "(se https://example.dk/x?y=1).", "https://example.dk/x?y=1"),
])
def test_patterns_fire_at_boundaries(kind, text, found):
    m = PATTERNS[kind].search(text)
    assert m is not None and m.group() == found


def test_cpr_pattern_is_exactly_date_valid():
    """Every DDMM: the CPR pattern accepts it iff survey_lib.cpr calls the date valid."""
    for day in range(0, 40):
        for month in range(0, 20):
            text = f"{day:02d}{month:02d}90-1234"
            assert (PATTERNS["cpr"].fullmatch(text) is not None) == _date_valid(day, month), text


# ---- properties --------------------------------------------------------------------------------------

FRAGMENTS = [
    "Per", "Bo", "Hans", "Mette", "Jensen", "Mettes", "Lars'", "Anne-Marie", "Bundgaardsen", "Storm", "C.",
    "uge", "jeg", "talte", "med", "om", "det", ".", ",", "!", "?", ":", "\n", "(", ")", "-", "'", '"',
    "12345678", "12 34 56 78", "+45", "0045", "010190", "1234", "kr.", "kr", "12.500", "2023", "Vestergade",
    "14B", "2.", "tv", "st.", "8300", "Odder", "Skt.", "sagsnr.", "2023-123456", "mette@example.dk",
    "www.x.dk", "jensen-privat.dk", "https://a.dk/b.", "Vej", "H.C.", "Andersens", "Boulevard", "27",
    "0.0101901234", "Sankt", "Gl.", "Kongevej", "5", "Kim", "Liv", "C", "sal", "nr.", "@", "/", "+", "x",
    "Jobcenter", "t.v.", "Pers",
    # text as it is really written: Unicode spaces and dashes, titles, unlisted surnames
    "\u00a0", "\u202f", "\u2013", "\u2014", "\u00ad", "/", "070691", "56 78", "26 37", "4859", "sagsbehandler",
    "rådgiveren", "hr.", "Kjærsgaard", "Ulla", "Hvidberg", "Mandag", "hedder",
] + list(MARKERS.values())


def _random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(FRAGMENTS) + rng.choice([" ", " ", " ", "", "  "])
                    for _ in range(rng.randint(1, 12))) for _ in range(n)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_idempotent_and_markers_intact(seed):
    for text in _random_texts(2000, seed):
        once = scrub_text(text)
        assert scrub_text(once.text).text == once.text, text
        # every marker of the input survives, and each finding adds exactly one marker
        assert len(MARKER_RE.findall(once.text)) == len(MARKER_RE.findall(text)) + len(once.findings), text
        for f in once.findings:
            assert text[f.start:f.end] == f.text
            assert MARKER_RE.search(f.text) is None, text
        starts = [f.start for f in once.findings]
        assert starts == sorted(starts)
        assert all(a.end <= b.start for a, b in zip(once.findings, once.findings[1:]))


def test_idempotent_on_tricky_cases():
    for case in CASES:
        once = scrub_text(case["text"]).text
        assert scrub_text(once).text == once, case["id"]


# ---- the shipped name list ---------------------------------------------------------------------------

def test_name_list_header_and_format():
    text = NAMES_CSV.read_text(encoding="utf-8")
    header = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert any("Faker 40.54.0" in ln for ln in header)
    assert any("wdanish" in ln for ln in header)
    rows = list(csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#")))
    names = [r["name"] for r in rows]
    assert names == sorted(names) and len(names) == len(set(names)) and len(names) > 500
    assert {r["kind"] for r in rows} <= {"first", "last", "both"}
    assert {r["ambiguous"] for r in rows} <= {"0", "1"}
    amb = {r["name"] for r in rows if r["ambiguous"] == "1"}
    assert {"Per", "Bo", "Hans", "Storm", "Lund", "Holm", "Skov"} <= amb
    assert "Mette" not in amb


def test_municipalities_are_not_names():
    kommuner = yaml.safe_load((PARAMS_DIR / "kommuner.yaml").read_text(encoding="utf-8"))["kommuner"]
    names = [k["name"] for k in kommuner] + ["Aarhus", "København", "Danmark"]
    assert len(names) >= 16
    listed = default_scrubber().names
    for name in names:
        assert name not in listed
        for text in (f"Jeg bor i {name}.", f"{name} Kommune var god.", f"Jobcenter {name} hjalp mig."):
            assert scrub_text(text).text == text


# ---- measured on the synthetic twin ------------------------------------------------------------------

@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    from survey_lib.demo import generate, write_dataset
    from survey_lib.params import load_params

    out = tmp_path_factory.mktemp("twin_scrub")
    write_dataset(generate(load_params(PARAMS_DIR), seed=2023), out)
    responses = pd.read_csv(out / "responses.csv", dtype={"person_id": str})
    truth = pd.read_csv(out / "ground_truth_comments.csv", dtype=str, keep_default_na=False)
    return responses, truth


def test_twin_every_planted_value_is_removed(twin):
    responses, truth = twin
    text_of = responses.set_index("person_id")["uddybning"]
    per_kind: dict[str, list[bool]] = {}
    missed = []
    for row in truth[truth["pii_kinds"] != ""].itertuples():
        scrubbed = scrub_text(text_of[row.person_id]).text
        for kind, value in zip(row.pii_kinds.split(";"), row.pii_values.split(";")):
            ok = value not in scrubbed and MARKERS[kind] in scrubbed
            per_kind.setdefault(kind, []).append(ok)
            if not ok:
                missed.append((kind, value, scrubbed))
    print("\nrecall per kind on the twin: "
          + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(per_kind.items())))
    assert set(per_kind) == {"cpr", "telefon", "email", "web", "adresse", "navn"}
    assert not missed, missed[:5]


def test_twin_clean_comments_almost_never_changed(twin):
    responses, truth = twin
    text_of = responses.set_index("person_id")["uddybning"]
    clean_ids = truth.loc[(truth["pii_kinds"] == "") & (truth["has_markup"] != "True"), "person_id"]
    clean = [text_of[p] for p in clean_ids] + responses["forbedring"].dropna().tolist()
    changed = [t for t in clean if scrub_text(t).changed]
    share = len(changed) / len(clean)
    print(f"\nclean comments changed: {len(changed)}/{len(clean)} = {share:.2%}")
    assert len(clean) > 3000
    assert share < 0.01, changed[:5]


def test_twin_all_free_text_counts_and_speed(twin):
    responses, truth = twin
    values = pd.concat([responses["uddybning"], responses["forbedring"]], ignore_index=True)
    default_scrubber()
    t0 = time.perf_counter()
    scrubbed, counts = scrub_series(values)
    seconds = time.perf_counter() - t0
    n_texts = int(values.notna().sum())
    print(f"\nscrubbed {n_texts} texts in {seconds:.3f} s")
    assert scrubbed.isna().equals(values.isna())
    planted = truth["pii_kinds"].str.split(";").explode()
    planted = planted[planted != ""].value_counts()
    found = dict(zip(counts["kind"], counts["n"]))
    for kind, n in planted.items():
        assert found[kind] >= n, kind
    # no planted value survives anywhere in the scrubbed free text
    blob = "\n".join(scrubbed.dropna())
    for values_ in truth["pii_values"]:
        for v in filter(None, values_.split(";")):
            assert v not in blob
    assert seconds < 3.0
