"""WCAG 2.1 AA of the HTML reports, checked by axe-core in Debian's Chromium, the pages' reader chrome
(contents page, status page, table of contents, previous/next links, the synthetic-data banner,
provenance without local paths), the one-page summary (one A4 page in Chromium's print; a tagged
PDF/UA of one page) and the charts' house style.

The suite's shared batch (``pilot_batch`` in conftest.py: every notebook on the twin for all
municipalities and for one municipality) is checked; axe-core
(pinned in package-lock.json, installed by ``npm ci`` into node_modules on first use) checks every
page it wrote -- the index and every page type, whatever notebooks exist -- twice: as it opens, and
with every folded part (code, data tables, provenance) open. A page fails on any violation of a
rule tagged wcag2a, wcag2aa, wcag21a or wcag21aa, or a serious/critical best-practice one; the
message names the rule, the element and the page. The wave batch of tests/test_waves_run.py (a
summary with 'Siden sidst', an index with the waves, the trend pages) is checked the same way: axe,
one A4 page in print, no sideways scroll at 390 px. Set SURVEY_A11Y_WAVE to a batch's wave folder
(e.g. outputs/2023) to check that instead of running a batch.

The palette is checked without a browser: contrast against the background (WCAG 1.4.11) and the
distance between neighbouring colours as seen with the three kinds of dichromacy.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest

from axe import ensure_axe, page_type, report_pages, run_axe
from browser import browser_or_skip, weasyprint_or_why
from survey_lib.plots import BACKGROUND, DIVERGING, HIGHLIGHT, INK, OTHERS, SERIES, contrast_ratio, text_colour_on
from test_waves_run import small, wave_batch  # noqa: F401 - the shared wave batch (built once per session)

#: The page types a batch of the project's notebooks makes (more are checked when they appear).
EXPECTED_TYPES = {"index", "status", "ledelsesresume", "00_sammenfatning", "01_frafald", "02_vaegtning", "10_moedet_med_jobcentret",
                  "20_maal_og_aktiviteter", "30_samtalen", "40_progression", "50_overordnet_tilfredshed"}


@pytest.fixture(scope="module")
def wave_dir(request):
    given = os.environ.get("SURVEY_A11Y_WAVE")
    if given:
        return Path(given).resolve()
    # the suite's shared batch (tests/conftest.py): every notebook for all municipalities and Odder
    return request.getfixturevalue("pilot_batch").wave_dir


@pytest.fixture(scope="module")
def axe_source():
    source, why = ensure_axe()
    if source is None:
        pytest.skip(why)
    return source


@pytest.fixture(scope="module")
def driver():
    d = browser_or_skip()
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1,
                                                             "mobile": False})
    yield d
    d.quit()


def test_every_page_type_passes_axe_core(wave_dir, axe_source, driver):
    pages = report_pages(wave_dir)
    types = {page_type(p, wave_dir) for p in pages}
    assert EXPECTED_TYPES <= types, f"page types missing from the batch: {sorted(EXPECTED_TYPES - types)}"
    blocking = []
    for p in pages:
        for open_details in (False, True):
            found = run_axe(driver, axe_source, p.as_uri(), str(p.relative_to(wave_dir))
                            + (" (alt foldet ud)" if open_details else ""), open_details)
            blocking += [f for f in found if f.blocking]
    assert not blocking, f"{len(blocking)} accessibility violation(s):\n" + "\n".join(str(f) for f in blocking)


def test_pages_stand_alone_and_work_by_keyboard(wave_dir, driver):
    """No link to a stylesheet or anything else; CSS inlined and small; a skip link to <main>; code
    summaries say what the cell does; no tabindex but on scrollable table regions; no heading jump."""
    for p in report_pages(wave_dir):
        driver.get(p.as_uri())
        info = driver.execute_script("""return {
            links: Array.from(document.querySelectorAll('link')).length,
            css: Array.from(document.querySelectorAll('style')).map(s => s.textContent.length).reduce((a, b) => a + b, 0),
            skip: (document.querySelector('a.skip-link') || {}).hash,
            main: (document.querySelector('main') || {}).id,
            summaries: Array.from(document.querySelectorAll('details.survey-code > summary')).map(s => s.textContent),
            tabindex: Array.from(document.querySelectorAll('[tabindex]')).filter(e => !e.classList.contains('table-scroll'))
                .map(e => e.outerHTML.slice(0, 80)),
            levels: Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4, main h5, main h6'))
                .map(h => +h.tagName[1]),
            font: getComputedStyle(document.body).fontFamily,
            navFont: getComputedStyle(document.querySelector('nav, h1')).fontFamily}""")
        where = p.relative_to(wave_dir)
        assert info["links"] == 0 and 0 < info["css"] < 16_000, (where, info["links"], info["css"])
        assert info["skip"] == "#indhold" and info["main"] == "indhold", where
        assert all(s.startswith("Vis koden: ") and len(s) > len("Vis koden: ") + 5 for s in info["summaries"]), \
            (where, info["summaries"])
        assert not any(s.startswith("Vis koden: kald af") for s in info["summaries"]), (where, info["summaries"])
        assert info["tabindex"] == [], (where, info["tabindex"])
        assert info["levels"] and info["levels"][0] == 1, (where, info["levels"])
        assert all(b - a <= 1 for a, b in zip(info["levels"], info["levels"][1:])), (where, info["levels"])
        assert info["font"] == info["navFont"] and "sans-serif" in info["font"], (where, info["font"])


def test_charts_have_caption_short_alt_and_a_data_table(wave_dir):
    from bs4 import BeautifulSoup

    figures = 0
    for p in report_pages(wave_dir):
        soup = BeautifulSoup(p.read_text(encoding="utf-8"), features="html.parser")
        for img in soup.select("main img"):
            fig = img.find_parent("figure")
            assert fig is not None and "survey-chart" in fig["class"], (p.name, str(img)[:120])
            assert 20 < len(img["alt"]) <= 400, (p.name, img["alt"])
            assert fig.find("figcaption").get_text(strip=True), p.name
            table = fig.select_one("details.survey-data table")
            assert table is not None and len(table.select("tbody tr")) >= 1, p.name
            figures += 1
    assert figures >= 20


def test_phone_width_has_no_sideways_page_scroll(wave_dir, driver):
    """At 390 px the page itself never scrolls sideways (wide tables scroll inside their region)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1,
                                                                 "mobile": True})
    try:
        for p in report_pages(wave_dir):
            driver.get(p.as_uri())
            width = driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= 390, (p.relative_to(wave_dir), width)
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900,
                                                                     "deviceScaleFactor": 1, "mobile": False})


# ---- the reader's chrome: contents page, status page, links, banner, provenance ---------------------
def _text_without_data_uris(path: Path) -> str:
    import re

    return re.sub(r"data:[^\"')\s]+", "", path.read_text(encoding="utf-8"))


def test_every_page_says_synthetic_and_shows_no_local_path(wave_dir, twin_dir):
    """The twin's pages all carry the banner; no page names a folder of this machine (the data, the
    output, the project, the venv) or a home/temporary folder."""
    import sys

    from survey_lib.paths import ProjectPaths
    from survey_lib.synthetic import BANNER

    pages = report_pages(wave_dir)
    assert len(pages) >= 20
    local = {str(twin_dir.resolve()), str(wave_dir.resolve()), str(ProjectPaths().root), sys.prefix, "/home/", "/tmp/"}
    for p in pages:
        text = _text_without_data_uris(p)
        assert BANNER in text, p.relative_to(wave_dir)
        found = [x for x in local if x in text]
        assert not found, (p.relative_to(wave_dir), found)


def test_index_is_a_contents_page_and_the_build_status_has_its_own(wave_dir):
    from bs4 import BeautifulSoup

    index = BeautifulSoup((wave_dir / "index.html").read_text(encoding="utf-8"), features="html.parser")
    for scope in ("alle", "odder"):
        section = index.find("section", attrs={"aria-labelledby": f"omfang-{scope}"})
        hrefs = [a["href"] for a in section.find_all("a")]
        pages = sorted(p.relative_to(wave_dir).as_posix() for p in (wave_dir / scope).glob("[0-9]*.html"))
        assert sorted(h for h in hrefs if h.split("/")[-1][:1].isdigit()) == pages
        assert f"{scope}/ledelsesresume.html" in hrefs and f"{scope}/ledelsesresume.pdf" in hrefs
        assert f"{scope}/tabeller/tabeller.xlsx" in hrefs
        assert all((wave_dir / h).is_file() for h in hrefs)
    odder = index.find("table", id="headlines").find("a", href="#omfang-odder").find_parent("tr")
    flags = [td.find("span", class_="flag").get_text() for td in odder.find_all("td")]
    assert set(flags) <= {"over", "under", "på niveau"} and len(flags) >= 4
    text = index.get_text(" ")
    assert "Lækagekontrol" not in text and "Kerne" not in text and " s " not in text.replace("\xa0", " ")
    status = (wave_dir / "status.html").read_text(encoding="utf-8")
    assert "Lækagekontrollen fandt intet" in status and 'id="matrix"' in status and "Designeffekt" in status
    assert index.find("a", href="status.html") is not None


def test_pages_have_contents_and_previous_next_links_in_batch_order(wave_dir):
    from bs4 import BeautifulSoup

    for scope in ("alle", "odder"):
        order = sorted((wave_dir / scope).glob("[0-9]*.html"))
        assert len(order) >= 5
        for i, page in enumerate(order):
            soup = BeautifulSoup(page.read_text(encoding="utf-8"), features="html.parser")
            prev = {a["href"] for a in soup.find_all("a", rel="prev")}
            nxt = {a["href"] for a in soup.find_all("a", rel="next")}
            assert prev == ({order[i - 1].name} if i else set()), (page.name, prev)
            assert nxt == ({order[i + 1].name} if i + 1 < len(order) else set()), (page.name, nxt)
            assert soup.find("a", href="../index.html") is not None
            assert soup.find("a", href="ledelsesresume.html") and soup.find("a", href="tabeller/tabeller.xlsx")
            toc = soup.find("nav", class_="survey-toc")
            sections = soup.select("main h2")
            if len(sections) >= 2:
                assert [a["href"] for a in toc.find_all("a")] == [f"#{h['id']}" for h in sections], page.name
        footer = soup.find("footer").get_text(" ")
        assert "december" in footer or "januar" in footer or " kl. " in footer      # a Danish date
        assert "T" not in footer.split("Kørt")[1].split("Varighed")[0]               # not ISO 8601


# ---- the one-page summary ----------------------------------------------------------------------------
@pytest.mark.parametrize("scope", ["alle", "odder"])
def test_summary_pdf_is_one_tagged_page_in_danish(wave_dir, scope):
    """PDF/UA basics read with pikepdf: one page, document language da-DK, a structure tree and
    MarkInfo /Marked (a tagged PDF), the title shown in the window."""
    pikepdf = pytest.importorskip("pikepdf")
    path = wave_dir / scope / "ledelsesresume.pdf"
    if not path.is_file():
        why = weasyprint_or_why()
        if why:
            pytest.skip(why)
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 1
        assert str(pdf.Root.Lang) == "da-DK"
        assert "/StructTreeRoot" in pdf.Root and pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert "Ledelsesresumé" in str(pdf.docinfo.get("/Title", "")) or "Ledelsesresumé" in str(
            pdf.open_metadata().get("dc:title", ""))
        kinds = set()

        def walk(node, depth=0):
            if depth > 60:
                return
            if isinstance(node, pikepdf.Dictionary) and "/S" in node:
                kinds.add(str(node.S))
            kids = node.get("/K") if isinstance(node, pikepdf.Dictionary) else node
            if isinstance(kids, pikepdf.Array):
                for k in kids:
                    walk(k, depth + 1)
            elif isinstance(kids, pikepdf.Dictionary):
                walk(kids, depth + 1)
        walk(pdf.Root.StructTreeRoot)
        assert {"/H1", "/Table", "/TH", "/TD", "/L"} <= kinds, kinds


def test_summary_fits_one_a4_page_in_chromium_print(wave_dir, driver):
    import base64
    import io

    pikepdf = pytest.importorskip("pikepdf")
    for scope in ("alle", "odder"):
        driver.get((wave_dir / scope / "ledelsesresume.html").as_uri())
        pdf = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
        with pikepdf.open(io.BytesIO(base64.b64decode(pdf["data"]))) as doc:
            assert len(doc.pages) == 1, scope


def test_summary_shows_themes_flags_and_only_large_cells(wave_dir, params):
    """The municipality's summary: every theme with a flag word; strengths and weaknesses only of
    questions with at least the reporting minimum of answers (read back from comparisons.csv)."""
    import pandas as pd
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((wave_dir / "odder" / "ledelsesresume.html").read_text(encoding="utf-8"),
                         features="html.parser")
    rows = soup.find("table").find("tbody").find_all("tr")
    from survey_lib.scores import theme_score_ids

    assert len(rows) == len(theme_score_ids(params.questionnaire))
    assert {r.find_all("td")[3].get_text() for r in rows} <= {"over", "under", "på niveau", "for få svar"}
    assert all(r.find_all("td")[4].get_text().startswith(("nr. ", "–")) for r in rows)
    comp = pd.read_csv(wave_dir / "odder" / "tabeller" / "comparisons.csv")
    heading = {q.id: q.heading for q in params.questionnaire.questions}
    large = {heading[q] for q, n in zip(comp["question"], comp["n"]) if q in heading and n >= params.survey.reporting_minimum}
    listed = [li.get_text().split(":")[0] for sec in ("styrker", "svagheder")
              for li in soup.find("section", attrs={"aria-labelledby": sec}).find_all("li")]
    assert listed and set(listed) <= large
    assert "Svarprocent" in soup.get_text() and "designeffekten" in soup.get_text()


# ---- the wave batch: 'Siden sidst' in the summary, the waves on the index ----------------------------
def _wave_pages(wave_batch) -> list[Path]:
    w = wave_batch.wave_dir
    return [w / "index.html"] + [w / s / "ledelsesresume.html" for s in ("alle", "aalborg", "ishoej")] + \
        [w / s / "60_udvikling.html" for s in ("alle", "aalborg")]


def test_wave_batch_summary_and_index_pass_axe_core(wave_batch, axe_source, driver):
    pages = _wave_pages(wave_batch)
    assert 'id="siden-sidst"' in pages[2].read_text(encoding="utf-8")
    assert 'id="runder"' in pages[0].read_text(encoding="utf-8")
    blocking = []
    for p in pages:
        for open_details in (False, True):
            found = run_axe(driver, axe_source, p.as_uri(), str(p.relative_to(wave_batch.wave_dir))
                            + (" (alt foldet ud)" if open_details else ""), open_details)
            blocking += [f for f in found if f.blocking]
    assert not blocking, f"{len(blocking)} accessibility violation(s):\n" + "\n".join(str(f) for f in blocking)


def test_wave_batch_summary_is_one_page_in_print_and_fits_a_phone(wave_batch, driver):
    import base64
    import io

    pikepdf = pytest.importorskip("pikepdf")
    for scope in ("alle", "aalborg", "ishoej"):
        driver.get((wave_batch.wave_dir / scope / "ledelsesresume.html").as_uri())
        pdf = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
        with pikepdf.open(io.BytesIO(base64.b64decode(pdf["data"]))) as doc:
            assert len(doc.pages) == 1, scope
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1,
                                                                 "mobile": True})
    try:
        for p in _wave_pages(wave_batch):
            driver.get(p.as_uri())
            width = driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= 390, (p.relative_to(wave_batch.wave_dir), width)
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900,
                                                                     "deviceScaleFactor": 1, "mobile": False})


# ---- the palette -----------------------------------------------------------------------------------
def test_chart_colours_have_3_to_1_against_the_background_and_labels_4_5_to_1():
    for colour in [*DIVERGING, *SERIES, OTHERS, HIGHLIGHT]:
        assert contrast_ratio(colour, BACKGROUND) >= 3.0, colour
    for fill in DIVERGING:                # the percentages printed on the bar segments
        assert contrast_ratio(fill, text_colour_on(fill)) >= 4.5, fill
    assert contrast_ratio(OTHERS, BACKGROUND) >= 4.5 and contrast_ratio(INK, BACKGROUND) >= 7


def test_contrast_ratio_matches_the_wcag_examples():
    # WCAG 2.1 Understanding 1.4.3: black on white 21:1; #777 on white is just under 4.5:1 (4.48)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


# Machado, Oliveira and Fernandes (2009), 'A physiologically-based model for simulation of color
# vision deficiency', IEEE TVCG 15(6): matrices for severity 1.0, applied to linear RGB.
_CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _linear(colour: str) -> np.ndarray:
    c = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(lin: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear sRGB colour."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(lin, 0, 1)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", ["normal", *_CVD])
def test_neighbouring_colours_stay_apart_in_colour_blindness(vision):
    """CIE76 distance >= 10 between neighbouring answer categories and between any two series
    (10 is clearly visible side by side; 2.3 is a just noticeable difference)."""
    matrix = np.eye(3) if vision == "normal" else np.array(_CVD[vision])

    def seen(colour):
        return _lab(matrix @ _linear(colour))

    for a, b in zip(DIVERGING, DIVERGING[1:]):
        assert np.linalg.norm(seen(a) - seen(b)) >= 10, (vision, a, b)
    for a, b in itertools.combinations(SERIES[:3], 2):
        assert np.linalg.norm(seen(a) - seen(b)) >= 10, (vision, a, b)


# ---- the page markup, without a browser ------------------------------------------------------------
def test_markup_repairs_heading_jumps_wraps_tables_and_drops_tabindex():
    from survey_lib.batch.html import accessible_markup

    page = accessible_markup('<main><h1>A</h1><h3>B</h3><h4>C</h4><h3>D</h3><p>Hver søjle er 100 %.</p>'
                             '<div tabindex="0"><table><thead><tr><th>x</th></tr></thead></table></div></main>'
                             '<footer><table><tr><th>k</th></tr></table></footer>')
    assert "<h1>A</h1><h2>B</h2><h3>C</h3><h2>D</h2>" in page
    assert "100\u00a0%" in page
    assert '<div aria-label="Tabel: D" class="table-scroll" role="region" tabindex="0"><table>' in page
    assert '<th scope="col">x</th>' in page
    assert '<div><div aria-label' in page                              # the old tabindex is gone
    assert "<footer><table>" in page                                   # only the content's tables


def test_code_summaries_say_what_the_cell_does():
    from survey_lib.batch.html import code_label

    assert code_label({"source": "from survey_lib.notebook import open_context, show_theme\n\n"
                                 "ctx = open_context(kommune, data_dir, params_dir, tables_dir)"}) == \
        "Vis koden: indlæs parametre og tabeller"
    assert code_label({"source": 'show_theme(ctx, "moedet");'}) == "Vis koden: vis temaets spørgsmål"
    assert code_label({"source": "x = 1", "metadata": {"tags": ["injected-parameters"]}}) == \
        "Vis koden: parametrene for denne kørsel"
    assert code_label({"source": "# Vægtene pr. celle\nw.describe()"}) == "Vis koden: Vægtene pr. celle"
    assert code_label({"source": "w.describe()"}) == "Vis koden: kald af describe"


def test_print_header_from_data_cannot_break_out_of_the_stylesheet():
    from survey_lib.batch.html import page_css

    css = page_css('Odder"; } body { display: none } </style><script>x</script>')
    assert "</style>" not in css and "<script" not in css
    header = css.split("@top-left { content: \"")[1].split('";')[0]
    assert '"' not in header.replace('\\22 ', "")
