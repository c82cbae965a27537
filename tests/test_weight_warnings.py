"""Weight diagnostics that speak: thresholds in survey.yaml give warnings in the validation report,
on the weighting page and in the data of the batch's index (issue 20)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import builders
from typer.testing import CliRunner

from survey_lib.cli import app
from survey_lib.load import load_survey
from survey_lib.nonresponse import nonresponse_report
from survey_lib.pipeline import analysis_notes, compute_tables
from survey_lib.weighting import WarningThresholds, weight_summary, weight_warnings

CELLS = ("alder_band", "koen", "kommune", "maalgruppe")
SMALL = "Odder"      # keeps only 12 respondents, as the municipality


def test_thresholds_by_hand():
    # A: weights 1, 1, 1, 12 -> median 1, largest 12 x the median; deff = 4 * 147 / 15^2 = 2.613
    # B: weights 2, 2 -> nothing to say but its effective n of 2
    w = pd.Series([1.0, 1, 1, 12, 2, 2])
    k = pd.Series(["A", "A", "A", "A", "B", "B"])
    summary = weight_summary(w, k)
    strata = pd.DataFrame({"post_stratum": ["a1", "a2", "b1"], "kommune": ["A", "A", "B"],
                           "population": [30, 10, 4], "members": [2, 1, 1]})
    collapses = pd.DataFrame({"cell": ["under_30/K/A/dagpenge", "30_49/K/A/dagpenge"],
                              "merged_into": ["30_49/K/A/dagpenge", "30_49/K/A/sygedagpenge"],
                              "rule": ["neighbouring age band", "other målgruppe in the municipality"],
                              "reason": ["", ""]})
    t = WarningThresholds(max_design_effect=2.0, min_effective_n=3, max_weight_ratio=10, max_collapsed_share=0.5)
    got = weight_warnings(summary, strata, collapses, CELLS, t)
    kinds = {(r.kommune, r.kind) for r in got.itertuples()}
    # all: median 1.5, largest 8 x; deff 6 * 155 / 19^2 = 2.576. A: effective n 4 / 2.613 = 1.53
    assert kinds == {("all", "design_effect"), ("A", "design_effect"), ("A", "largest_weight"), ("A", "effective_n"),
                     ("B", "effective_n"), ("A", "collapsed_share"), ("A", "collapse_across_maalgruppe")}
    a = got.set_index(["kommune", "kind"])
    assert a.loc[("A", "design_effect"), "value"] == pytest.approx(4 * 147 / 15 ** 2)
    assert a.loc[("A", "largest_weight"), "value"] == pytest.approx(12.0)
    assert a.loc[("A", "largest_weight"), "text"] == "største vægt 12,0 er 12,0 × medianvægten (over 10 ×)"
    assert a.loc[("A", "collapsed_share"), "value"] == pytest.approx(0.75)     # 30 of 40 in a merged cell
    assert a.loc[("A", "collapsed_share"), "text"] == "75,0 % af populationen i sammenlagte celler (over 50,0 %)"
    assert a.loc[("A", "design_effect"), "text"] == "designeffekt 2,61 over 2,00"
    # thresholds not passed: silence
    quiet = WarningThresholds(max_design_effect=3, min_effective_n=1, max_weight_ratio=20, max_collapsed_share=0.8)
    assert set(weight_warnings(summary, strata, collapses[:1], CELLS, quiet)["kind"]) == set()
    # cells without kommune cross the municipalities: said once
    across = weight_warnings(summary, strata.drop(columns="kommune"), collapses.iloc[0:0],
                             ("alder_band", "koen", "maalgruppe"), quiet)
    assert across["kind"].tolist() == ["cells_across_municipalities"]


@pytest.fixture(scope="module")
def small_dir(twin_dir, tmp_path_factory):
    """The twin with only 12 of SMALL's respondents left."""
    return builders.twin_with_responses(twin_dir, tmp_path_factory.mktemp("small"), SMALL, keep=12)


def test_a_municipality_with_twelve_respondents_gets_its_warnings(small_dir, params):
    c = compute_tables(small_dir, params, scopes=[SMALL])
    mine = c.warnings[c.warnings["kommune"] == SMALL]
    # 12 respondents over 24 cells: merged across målgruppe, nearly all the population in merged cells;
    # the merged cells' weights are alike (design effect below 2)
    assert {"effective_n", "collapsed_share", "collapse_across_maalgruppe"} <= set(mine["kind"])
    d = c.diagnostics.set_index("kommune").loc[SMALL]
    assert mine.set_index("kind").loc["effective_n", "value"] == pytest.approx(d["n_effective"])
    assert c.provenance["weighting"]["warnings"] and all(w.startswith(("all: ", "Odder: "))
                                                         for w in c.provenance["weighting"]["warnings"])
    # the validation report says it
    notes = analysis_notes(c.data, params)
    assert any(n.startswith(f"weighting warning, {SMALL}: effektivt n ") for n in notes)
    assert any("på tværs af målgruppe" in n for n in notes)
    r = CliRunner().invoke(app, ["validate", str(small_dir)])
    assert r.exit_code == 0 and f"weighting warning, {SMALL}: effektivt n" in r.output


def test_the_weighting_page_says_the_warnings_and_the_collapse_across_maalgruppe(small_dir, params, monkeypatch):
    import IPython.display

    from survey_lib.notebook import show_weighting

    shown: list[str] = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, *a, **k: shown.append(getattr(obj, "data", "") if isinstance(getattr(obj, "data", ""), str) else ""))
    report = nonresponse_report(load_survey(small_dir, params), params, kommune=SMALL)
    assert set(report.weight_warnings["kommune"]) == {SMALL}
    show_weighting(params, report)
    text = "\n".join(shown)
    assert "## Advarsler om vægtene" in text and f"- **{SMALL}**: effektivt n" in text
    assert re.search(r"\*\*\d+ celler? er lagt sammen på tværs af målgruppe\*\*", text)


def test_the_weighting_page_is_quiet_when_nothing_passes_a_threshold(twin_dir, params, monkeypatch):
    import IPython.display

    from survey_lib.notebook import show_weighting

    shown: list[str] = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, *a, **k: shown.append(obj.data if isinstance(getattr(obj, "data", None), str) else ""))
    report = nonresponse_report(load_survey(twin_dir, params), params, kommune="Aalborg")
    assert report.weight_warnings.empty
    show_weighting(params, report)
    assert "Advarsler om vægtene" not in "\n".join(shown)

