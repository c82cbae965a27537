"""survey-report run (--wave) end to end on small twins of two waves: the trend tables, the Udvikling
workbook, the wave's merged parameters, the trend page of a municipality and the manifest's waves;
and what readers get from the waves: 'Siden sidst' in the one-page summary, the waves on the index,
the sheet Udvikling in each scope's workbook, the default wave of ``run``, and the waves of each page
in the manifest and in the trend pages' provenance footer.

One small wave batch (:func:`wave_batch`: three municipalities per wave, 900 answers each, the trend
page only, for all municipalities, Aalborg (in both waves) and Ishøj (2025 only)) is made once per
session and shared with tests/test_accessibility.py."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from builders import params_with_wave_kommuner

from conftest import _once
from survey_lib.demo import write_dataset
from survey_lib.demo.waves import WAVE_FACTS, generate_wave
from survey_lib.params import load_params
from survey_lib.waves.run import choose_wave, default_wave, prepare_wave, record_waves
from survey_lib.waves.twin import load_waves

SMALL = {"2024": ["Aalborg", "Odense", "Vejle"], "2025": ["Aalborg", "Odense", "Ishøj"]}
#: The municipalities of the wave batch: one in both waves, one in 2025 only.
BATCH_KOMMUNER = ("Aalborg", "Ishøj")


def _build_small(root: Path) -> None:
    params = params_with_wave_kommuner(root, SMALL)
    waves, cw = load_waves(params)
    for w in SMALL:
        facts = dataclasses.replace(WAVE_FACTS[w], invited=2400, respondents=900)
        data = generate_wave(waves[w].params, w, cw.to_stable(w), None, facts=facts)
        write_dataset(data, waves[w].data_dir)


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """Params with two small waves (2024, 2025; 2023 without data) and their data; read-only."""
    root = _once(tmp_path_factory, "waves-small", _build_small)
    return root, root / "params"


@dataclass(frozen=True)
class WaveBatch:
    """The shared wave batch: ``survey-report run`` without --wave on :func:`small`'s params."""

    params_dir: Path
    out_root: Path
    wave_dir: Path
    exit_code: int
    stdout: str
    stderr: str

    @property
    def manifest(self) -> dict:
        return json.loads((self.wave_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def wave_batch(tmp_path_factory, small) -> WaveBatch:
    """``survey-report run --params P --out O`` (no --wave, no --data: the latest wave with data,
    2025, against 2024) for all municipalities, Aalborg and Ishøj, the trend notebook only, with the
    tables stage, the summaries, the index and the leak audit. ``O/2024/index.html`` stands for the
    2024 batch's index in the same output root (the index links to it). Made once per session;
    read-only."""
    from typer.testing import CliRunner

    from survey_lib.cli import app

    _, params = small

    def build(folder: Path) -> None:
        from browser import weasyprint_or_why

        weasyprint_or_why()
        earlier = folder / "out" / "2024"
        earlier.mkdir(parents=True)
        (earlier / "index.html").write_text("<!DOCTYPE html><title>2024</title>", encoding="utf-8")
        args = ["run", "--params", str(params), "--out", str(folder / "out"), "--notebook", "60_udvikling",
                "--jobs", "1", "--no-progress"] + [x for k in BATCH_KOMMUNER for x in ("--kommune", k)]
        r = CliRunner().invoke(app, args)
        (folder / "result.json").write_text(json.dumps({"exit_code": r.exit_code, "stdout": r.stdout,
                                                        "stderr": r.stderr, "exception": repr(r.exception)}))

    folder = _once(tmp_path_factory, "wave-batch", build)
    saved = json.loads((folder / "result.json").read_text())
    batch = WaveBatch(params, folder / "out", folder / "out" / "2025", saved["exit_code"], saved["stdout"],
                      saved["stderr"])
    assert batch.exit_code == 0, saved
    return batch


def test_latest_wave_with_data_is_chosen(small):
    _, params = small
    waves, _ = load_waves(params)
    assert choose_wave("latest", waves) == "2025"           # 2023 has no data in this folder


def test_prepare_and_run_a_trend_page(small, wave_batch):
    root, params = small
    run_wave_dir = wave_batch.wave_dir
    trend = run_wave_dir / "udvikling"
    ch = pd.read_csv(trend / "changes_2024.csv")
    assert {"all", "panel", "Aalborg", "Odense"} == set(ch["scope"])
    nc = pd.read_csv(trend / "not_comparable_2024.csv")
    assert "plan_uddannelse" in set(nc["question"])
    assert "Udvikling" in pd.ExcelFile(trend / "udvikling.xlsx", engine="openpyxl").sheet_names
    merged = load_params(wave_batch.out_root / "_params" / "2025")
    assert merged.survey.wave == "2025" and [k.name for k in merged.kommuner] == SMALL["2025"]
    assert "trend tables SHA-256" in (wave_batch.out_root / "_params" / "2025" / "survey.yaml").read_text("utf-8")
    html = (run_wave_dir / "aalborg" / "60_udvikling.html").read_text(encoding="utf-8")
    assert "Fra April 2024 til November 2025" in html and "Ikke sammenlignet" in html
    said: list[str] = []
    again = prepare_wave("latest", wave_batch.out_root, params, log=said.append)     # nothing changed: reused
    assert again.earlier == ("2024",) and any("genbruges" in m for m in said)


def test_validate_with_the_wave_parameters(small):
    from typer.testing import CliRunner

    from survey_lib.cli import app

    root, params = small
    data = root / "data" / "demo" / "2025"
    ok = CliRunner().invoke(app, ["validate", str(data), "--params", str(params), "--wave", "2025"])
    assert ok.exit_code == 0 and "(wave 2025)" in ok.output and "No faults found." in ok.output
    # with the shared (pilot) parameters the 2025 municipalities are unknown
    bad = CliRunner().invoke(app, ["validate", str(data), "--params", str(params), "--max-faults", "1"])
    assert bad.exit_code == 1 and "(wave 2023-pilot)" in bad.output and "fault(s)" in bad.output


def test_run_wave_unknown_is_a_clear_error(small, tmp_path):
    from typer.testing import CliRunner

    from survey_lib.cli import app

    root, params = small
    r = CliRunner().invoke(app, ["run", "--wave", "2019", "--params", str(params), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "unknown wave '2019'; the waves defined are ['2023', '2024', '2025']" in r.output


# ---- 1. 'Siden sidst' in the one-page summary ------------------------------------------------------
_PHRASE = re.compile(r"^(Steget fra (\d,\d\d) til (\d,\d\d); en sikker forbedring"
                     r"|Faldet fra (\d,\d\d) til (\d,\d\d); et sikkert fald"
                     r"|Fra (\d,\d\d) til (\d,\d\d): uændret inden for den statistiske usikkerhed"
                     r"|Ikke vist: for få svar i en af runderne|Ikke beregnet.*)$")


def _since_rows(page: Path) -> list[list[str]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), features="html.parser")
    table = soup.find("table", class_="since")
    return [[c.get_text() for c in tr.find_all(["th", "td"])] for tr in table.find("tbody").find_all("tr")]


def test_summary_says_what_changed_since_the_earlier_wave(wave_batch):
    """Aalborg took part in both waves: every theme and question of its change table in total, the
    earlier and the latest score with 95 % intervals as in changes_2024.csv, and the change in the
    words of trend.change_phrase, from the table's flag."""
    from survey_lib.narrative import fmt_number

    page = wave_batch.wave_dir / "aalborg" / "ledelsesresume.html"
    text = page.read_text(encoding="utf-8")
    assert '<h2 id="siden-sidst">Siden sidst</h2>' in text
    assert "Udviklingen fra April 2024, den seneste tidligere runde, Aalborg deltog i, til November 2025." in text
    ch = pd.read_csv(wave_batch.wave_dir / "udvikling" / "changes_2024.csv", dtype={"group": str})
    own = ch[(ch["scope"] == "Aalborg") & (ch["breakdown"] == "total") & (ch["kind"] == "mean")]
    rows = _since_rows(page)
    assert len(rows) == len(own) >= 15
    labels = pd.read_csv(wave_batch.wave_dir / "udvikling" / "labels.csv").set_index("question")["label"]
    expected = {("Tema: " if q.startswith("tema_") else "") + labels[q]: r for q, r in zip(own["question"],
                                                                                       own.to_dict("records"))}
    words = {"up": "Steget", "down": "Faldet", "unchanged": "Fra", "suppressed": "Ikke vist",
             "not_computable": "Ikke beregnet"}
    assert [r[0].startswith("Tema: ") for r in rows] == sorted((r[0].startswith("Tema: ") for r in rows),
                                                               reverse=True)     # the themes first
    for label, earlier, later, change in rows:
        r = expected[label]
        assert _PHRASE.match(change), change
        assert change.startswith(words[r["flag"]]), (label, change, r["flag"])
        if r["flag"] in ("up", "down", "unchanged"):
            assert earlier == f"{fmt_number(r['earlier'])} ({fmt_number(r['earlier_ci_low'])}–" \
                              f"{fmt_number(r['earlier_ci_high'])})"
            assert later.startswith(fmt_number(r["later"]) + " (")
            assert f"{fmt_number(r['earlier'])} til {fmt_number(r['later'])}" in change
        if r["flag"] == "suppressed":
            assert earlier == later == "–"
    assert "Ikke sammenlignet" in text and labels["plan_uddannelse"] in text


def test_summary_without_an_earlier_wave_says_so_and_all_compares_the_panel(wave_batch):
    ishoej = (wave_batch.wave_dir / "ishoej" / "ledelsesresume.html").read_text(encoding="utf-8")
    assert ("Ishøj deltog ikke i nogen tidligere runde med data (April 2024); der er ingen udvikling at vise."
            in ishoej) and 'class="since"' not in ishoej
    alle = wave_batch.wave_dir / "alle" / "ledelsesresume.html"
    assert "for de 2 kommuner, der deltog begge gange" in alle.read_text(encoding="utf-8")
    ch = pd.read_csv(wave_batch.wave_dir / "udvikling" / "changes_2024.csv")
    panel = ch[(ch["scope"] == "panel") & (ch["breakdown"] == "total") & (ch["kind"] == "mean")]
    assert len(_since_rows(alle)) == len(panel)


def test_summary_pdf_has_the_change_and_stays_one_page(wave_batch):
    pikepdf = pytest.importorskip("pikepdf")
    path = wave_batch.wave_dir / "aalborg" / "ledelsesresume.pdf"
    if not path.is_file():
        from browser import weasyprint_or_why

        pytest.skip(weasyprint_or_why() or "no PDF")
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 1 and str(pdf.Root.Lang) == "da-DK" and "/StructTreeRoot" in pdf.Root
        kinds = []

        def walk(node, depth=0):
            if depth > 60 or not isinstance(node, (pikepdf.Dictionary, pikepdf.Array)):
                return
            if isinstance(node, pikepdf.Dictionary) and "/S" in node:
                kinds.append(str(node.S))
            kids = node.get("/K") if isinstance(node, pikepdf.Dictionary) else node
            for k in (kids if isinstance(kids, pikepdf.Array) else [kids]):
                walk(k, depth + 1)
        walk(pdf.Root.StructTreeRoot)
    # the themes' table and the 'Siden sidst' table are both tagged tables
    assert kinds.count("/Table") >= 2 and kinds.count("/H2") >= 6


# ---- 2. the waves on the index ---------------------------------------------------------------------
def test_index_shows_the_waves_and_links_them(wave_batch, tmp_path):
    from bs4 import BeautifulSoup

    from survey_lib.batch.index import waves_section

    index = BeautifulSoup((wave_batch.wave_dir / "index.html").read_text(encoding="utf-8"), features="html.parser")
    h2 = index.find("h2", id="runder")
    assert h2 is not None and h2.get_text() == "Runderne"
    text = index.get_text(" ")
    assert "Denne oversigt er runden November 2025 (bølge 2025)" in " ".join(text.split())
    waves = index.find("ul", class_="survey-waves")
    assert [li.get_text(" ", strip=True) for li in waves.find_all("li")] == ["Rapporterne fra April 2024"]
    assert waves.find("a")["href"] == "../2024/index.html"
    pages = [a["href"] for a in index.find("ul", class_="survey-trend-pages").find_all("a")]
    assert pages == ["alle/60_udvikling.html", "aalborg/60_udvikling.html", "ishoej/60_udvikling.html"]
    assert all((wave_batch.wave_dir / h).is_file() for h in pages)
    assert index.find("a", href="udvikling/udvikling.xlsx") is not None
    # without the earlier wave's batch in the same output root: named, not linked
    alone = tmp_path / "2025"
    shutil.copytree(wave_batch.wave_dir / "udvikling", alone / "udvikling")
    section = waves_section(alone, [], {}, "")
    assert "April 2024 (rundens egne rapporter er ikke lavet i samme mappe)" in section and "../2024" not in section


# ---- 3. the sheet Udvikling in each scope's workbook ------------------------------------------------
def test_each_workbook_has_the_scopes_changes(wave_batch):
    import openpyxl

    from survey_lib.export import CHANGE_FLAGS_DA, EXCEL_HEADERS

    ch = pd.read_csv(wave_batch.wave_dir / "udvikling" / "changes_2024.csv", dtype={"group": str})
    for folder, scopes in (("aalborg", {"Aalborg"}), ("alle", {"all", "panel"})):
        wb = openpyxl.load_workbook(wave_batch.wave_dir / folder / "tabeller" / "tabeller.xlsx")
        assert "Udvikling" in wb.sheetnames
        ws, tests = wb["Udvikling"], wb["Tests"]
        assert ws["A1"].value == tests["A1"].value and ws["A1"].font.bold        # the synthetic banner row
        assert ws.oddHeader.center.text == tests.oddHeader.center.text
        header = [c.value for c in ws[2]]
        assert header[:4] == ["Fra runde", "Til runde", "Omfang", "Spørgsmål"]
        assert "Gns. score, tidligere runde" in header and "Ændring, 95 %-KI nedre" in header
        assert set(header) <= set(EXCEL_HEADERS.values())
        rows = list(ws.iter_rows(min_row=3, values_only=True))
        own = ch[ch["scope"].isin(scopes) & (ch["kind"] == "mean")]
        assert len(rows) == len(own) > 0
        col = {h: i for i, h in enumerate(header)}
        assert {r[col["Vurdering"]] for r in rows} <= set(CHANGE_FLAGS_DA.values())
        assert {r[0] for r in rows} == {"April 2024"} and {r[1] for r in rows} == {"November 2025"}
        for r in rows:
            if r[col["Undertrykt (for få svar)"]] == "ja":
                assert r[col["Ændring"]] is None and r[col["Antal svar"]] is None
        # the same number formats as the other sheets: scores 0.00, p-values 0.0000
        mean_fmt = set()
        for name in wb.sheetnames:                                    # the theme sheets
            head = [c.value for c in wb[name][2]]
            if "Gns. score" not in head:
                continue
            mean_fmt |= {r[head.index("Gns. score")].number_format for r in wb[name].iter_rows(min_row=3)
                         if isinstance(r[head.index("Gns. score")].value, float)}
        first = next(r for r in ws.iter_rows(min_row=3) if r[col["Ændring"]].value is not None)
        assert {first[col["Gns. score, tidligere runde"]].number_format} == mean_fmt == {"0.00"}
        assert first[col["Justeret p-værdi"]].number_format == "0.0000"
        total = own[own["breakdown"] == "total"].iloc[0]
        got = next(r for r in rows if r[col["Opdeling"]] == "I alt" and r[col["Spørgsmål"]] == total["question"]
                   and r[col["Omfang"]] in ("Aalborg", "Alle deltagere"))
        assert got[col["Ændring"]] == pytest.approx(total["change"], rel=1e-9)
    assert "Leak audit: nothing found." in wave_batch.stdout
    assert wave_batch.manifest["audit"]["findings"] == []


def test_trend_sheet_is_the_same_each_time(wave_batch):
    from survey_lib.export import trend_sheet

    a = trend_sheet(wave_batch.wave_dir / "udvikling", "Aalborg")
    b = trend_sheet(wave_batch.wave_dir / "udvikling", "Aalborg")
    pd.testing.assert_frame_equal(a, b)
    assert trend_sheet(wave_batch.wave_dir / "udvikling", "Ishøj") is None          # in no earlier wave
    assert trend_sheet(wave_batch.wave_dir / "nowhere", "Aalborg") is None


# ---- 4. run without --wave ---------------------------------------------------------------------------
def test_run_without_wave_takes_the_latest_wave_with_data_and_says_so(wave_batch):
    assert ("Ingen --wave: den seneste runde med data, 2025, køres med udviklingen mod de tidligere runder med "
            "data (som --wave latest" in wave_batch.stderr)
    assert wave_batch.manifest["waves"]["wave"] == "2025"
    assert wave_batch.manifest["waves"]["trend_against"] == ["2024"]


def test_default_wave_rule(small, tmp_path):
    _, params = small
    assert default_wave(params, data_given=False)[0] == "latest"
    assert default_wave(params, data_given=True) == (None, "")              # run --data DIR: one wave as before
    plain = tmp_path / "plain" / "params"
    shutil.copytree(params, plain, ignore=shutil.ignore_patterns("waves"))
    assert default_wave(plain, data_given=False) == (None, "")              # no params/waves/
    empty = tmp_path / "empty" / "params"                                    # waves, but no data beside them
    shutil.copytree(params, empty)
    wave, why = default_wave(empty, data_given=False)
    assert wave is None and re.search(r"ingen af dem har data; batchen køres for én runde som før", why)


# ---- 5. the waves of each page ----------------------------------------------------------------------
def test_manifest_records_the_waves_of_every_page_and_file(wave_batch):
    m = wave_batch.manifest["waves"]
    assert m["pages"]["alle/60_udvikling"] == ["2024", "2025"]
    assert m["pages"]["aalborg/60_udvikling"] == ["2024", "2025"]
    assert m["pages"]["ishoej/60_udvikling"] == ["2025"]                     # in no earlier wave
    f = m["files"]
    assert f["aalborg/ledelsesresume.html"] == f["aalborg/ledelsesresume.pdf"] == ["2024", "2025"]
    assert f["ishoej/ledelsesresume.html"] == ["2025"]
    assert f["aalborg/tabeller/tabeller.xlsx"] == ["2024", "2025"] and f["ishoej/tabeller/tabeller.xlsx"] == ["2025"]
    assert f["index.html"] == f["udvikling/"] == ["2024", "2025"]
    assert set(m["pages"]) == set(wave_batch.manifest["jobs"])


def test_trend_pages_say_their_waves_in_the_provenance_footer(wave_batch):
    from bs4 import BeautifulSoup

    for folder, words in (("alle", "April 2024 og November 2025"), ("aalborg", "April 2024 og November 2025"),
                          ("ishoej", "November 2025")):
        soup = BeautifulSoup((wave_batch.wave_dir / folder / "60_udvikling.html").read_text(encoding="utf-8"),
                             features="html.parser")
        row = soup.find("footer", class_="survey-provenance").find("th", string="Runder").find_parent("tr")
        assert row.find("td").get_text() == words, folder
    summary = (wave_batch.wave_dir / "aalborg" / "ledelsesresume.html").read_text(encoding="utf-8")
    assert "Runder April 2024 og November 2025" in summary.split("<footer>")[1]


def test_set_page_waves_is_idempotent():
    from survey_lib.batch.index import set_page_waves

    page = '<footer class="survey-provenance">\n<details><summary>x</summary>\n<table>\n<tr><th>a</th></tr></table>'
    once = set_page_waves(page, "April 2024 og November 2025")
    assert once.count("Runder") == 1 and set_page_waves(once, "April 2024 og November 2025") == once
    assert set_page_waves(once, "November 2025").count("Runder") == 1
    assert set_page_waves("<p>no footer</p>", "x") == "<p>no footer</p>"


def test_record_waves_leaves_a_missing_manifest_alone(tmp_path):
    from survey_lib.waves.run import WaveRun

    run = WaveRun("2025", "2025", ("2024",), tmp_path, tmp_path, tmp_path)
    record_waves(run, tmp_path / "manifest.json")
    assert not (tmp_path / "manifest.json").exists()
