"""The HTML site in a real headless browser (Debian's chromium), network cut off.

One batch runs on the twin with hostile text planted in the data and the parameters: a municipality
whose name carries a <script>, a question heading with <img onerror=...>, a question text with a
javascript: Markdown link and emphasis, a group label with an <a href="javascript:...">. The pages
must load, show their charts, request nothing from outside, and run none of it: the title stays,
the DOM is not rewritten, no script/onerror/javascript: element exists, and the text reads as typed.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
import yaml

from browser import browser_or_skip, requested_urls
from survey_lib.batch.runner import BatchOptions, run_batch, slug
from survey_lib.paths import ProjectPaths

EVIL_KOMMUNE = "Odder<script>document.title='HACKED';window.__xss=1</script>"
EVIL_HEADING = "Tillid <img src=x onerror=\"document.body.innerHTML='HACKED';window.__xss=2\">"
EVIL_TEXT = "[klik her](javascript:window.__xss=3) **fed** <iframe src=\"https://example.invalid\"></iframe>"
EVIL_LABEL = "<a href=\"javascript:window.__xss=4\">Dagpenge</a>"
NOTEBOOKS = ("00_sammenfatning", "10_moedet_med_jobcentret")


@pytest.fixture(scope="module")
def site(tmp_path_factory, params, twin_dir):
    root = tmp_path_factory.mktemp("site")
    src = ProjectPaths().params
    p = root / "params"
    shutil.copytree(src, p)
    kom = yaml.safe_load((p / "kommuner.yaml").read_text(encoding="utf-8"))
    for k in kom["kommuner"]:
        if k["name"] == "Odder":
            k["name"] = EVIL_KOMMUNE
    (p / "kommuner.yaml").write_text(yaml.safe_dump(kom, allow_unicode=True), encoding="utf-8")
    qn = yaml.safe_load((p / "questionnaire.yaml").read_text(encoding="utf-8"))
    for q in qn["questions"]:
        if q["id"] == "tillid":
            q["heading"] = EVIL_HEADING
            q["text_present"] = EVIL_TEXT
    (p / "questionnaire.yaml").write_text(yaml.safe_dump(qn, allow_unicode=True), encoding="utf-8")
    sv = yaml.safe_load((p / "survey.yaml").read_text(encoding="utf-8"))
    sv["maalgrupper"][0]["label"] = EVIL_LABEL
    (p / "survey.yaml").write_text(yaml.safe_dump(sv, allow_unicode=True), encoding="utf-8")
    shutil.copytree(twin_dir, root / "data")           # the suite's twin (tests/conftest.py), changed below
    pop = pd.read_csv(root / "data" / "population.csv", dtype=str, keep_default_na=False)
    pop["kommune"] = pop["kommune"].replace({"Odder": EVIL_KOMMUNE})
    pop.to_csv(root / "data" / "population.csv", index=False)
    result = run_batch(BatchOptions(data_dir=root / "data", out_root=root / "out", params_dir=p,
                                    notebooks_dir=ProjectPaths().notebooks, kommuner=(EVIL_KOMMUNE,),
                                    notebooks=NOTEBOOKS, jobs=2, progress=False), log=lambda m: None)
    assert set(result.jobs["status"]) == {"ok"}, result.jobs
    return result.wave_dir


@pytest.fixture(scope="module")
def driver():
    d = browser_or_skip()
    yield d
    d.quit()


def _no_execution(driver, expected_title: str) -> None:
    assert driver.title == expected_title
    assert driver.execute_script("return window.__xss === undefined")
    assert driver.execute_script("return document.body.innerHTML") != "HACKED"
    found = driver.execute_script("""return {
        scripts: document.querySelectorAll('script').length,
        onerror: document.querySelectorAll('[onerror]').length,
        iframes: document.querySelectorAll('iframe').length,
        js: Array.from(document.querySelectorAll('a[href]')).filter(a => a.href.startsWith('javascript:')).length}""")
    assert found == {"scripts": 0, "onerror": 0, "iframes": 0, "js": 0}, found


def _offline_and_charts(driver) -> None:
    urls = requested_urls(driver)
    assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls
    sizes = driver.execute_script("return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
    assert sizes and all(w > 0 for w in sizes), sizes


def test_report_pages_run_nothing_from_the_data(site, driver):
    page = site / slug(EVIL_KOMMUNE) / "10_moedet_med_jobcentret.html"
    driver.get(page.as_uri())
    _no_execution(driver, f"Mødet med jobcentret – {EVIL_KOMMUNE}")
    text = driver.find_element("tag name", "body").text
    assert EVIL_HEADING in text                                  # shown as typed, not as markup
    assert "[klik her](javascript:window.__xss=3) **fed**" in text
    assert EVIL_KOMMUNE in text
    _offline_and_charts(driver)
    # the page's own CSS is applied (no stylesheet is linked)
    assert driver.execute_script("return getComputedStyle(document.querySelector('.survey-nav')).borderBottomStyle") \
        == "solid"


def test_escaping_holds_without_the_content_security_policy(site, driver, tmp_path):
    """The CSP forbids scripts anyway; with it removed, the escaping alone must still hold."""
    page = site / slug(EVIL_KOMMUNE) / "00_sammenfatning.html"
    bare = page.with_name("uden-csp.html")
    bare.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text()))
    try:
        driver.get(bare.as_uri())
        _no_execution(driver, f"Sammenfatning – {EVIL_KOMMUNE}")
        assert EVIL_KOMMUNE in driver.find_element("tag name", "body").text
    finally:
        bare.unlink()


def test_index_loads_offline_with_links_and_headlines(site, driver, params):
    driver.get((site / "index.html").as_uri())
    _no_execution(driver, f"{params.survey.title} – {params.survey.wave}")    # survey.yaml's title and wave
    urls = requested_urls(driver)
    assert all(u.startswith(("file://", "data:")) for u in urls), urls
    links = driver.execute_script("return Array.from(document.querySelectorAll('.survey-pages a')).map(a => a.href)")
    assert len(links) == 2 * len(NOTEBOOKS)
    body = driver.find_element("tag name", "body").text
    assert EVIL_KOMMUNE in body and "Overordnet tilfredshed" in body
    # a link from the index opens a page that loads and shows its charts
    driver.get(links[-1])
    _offline_and_charts(driver)
