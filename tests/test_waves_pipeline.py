"""Tables under stable ids, the change between two waves (all participants and the common panel),
and the trend pages' words, tables and chart."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from survey_lib.errors import SurveyError
from survey_lib.tables import TABLE_COLUMNS
from survey_lib.trend import TrendFiles, change_phrase, change_table, trend_sections, waves_chart
from survey_lib.waves.crosswalk import Crosswalk
from survey_lib.waves.pipeline import PANEL, compare_waves, stable_tables
from survey_lib.waves.twin import load_waves


@pytest.fixture(scope="module")
def waves():
    return load_waves()


def _table(rows):
    """A tables.csv-shaped frame of mean rows: (scope, question, breakdown, group, n, mean, se)."""
    out = []
    for scope, q, bd, g, n, m, se in rows:
        out.append({"scope": scope, "question": q, "breakdown": bd, "group": g, "category": "", "category_label": "",
                    "n": n, "category_n": np.nan, "dont_know_n": 0, "weighted_n": n * 10.0, "share": np.nan,
                    "share_se": np.nan, "mean": m, "mean_se": se, "mean_ci_low": m - 1.96 * se,
                    "mean_ci_high": m + 1.96 * se, "suppressed": False})
    return pd.DataFrame(out, columns=TABLE_COLUMNS)


def test_stable_tables_maps_and_leaves_out_unscored(waves):
    _, cw = waves
    t = _table([("all", "tro_paa_job", "total", "", 100, 3.5, 0.05), ("all", "tema_samarbejde", "total", "", 80, 3.2, 0.04),
                ("all", "kontakt_afdelinger", "total", "", 90, np.nan, np.nan), ("all", "aktuel_status", "total", "", 9, np.nan, np.nan)])
    s = stable_tables(t, "2025", cw)
    assert list(s["question"]) == ["tro_paa_job", "tema_samarbejde"]
    assert s["mean"].tolist() == [3.5, 3.2]                      # the identity recoding changes nothing


def test_recoding_reverses_means_and_refuses_a_nonlinear_one(waves):
    _, cw = waves
    per = dict(cw.entries["tro_paa_job"])
    per["2025"] = dataclasses.replace(per["2025"], recode={5: 1, 4: 2, 3: 3, 2: 4, 1: 5})
    rev = dataclasses.replace(cw, entries={**cw.entries, "tro_paa_job": per})
    s = stable_tables(_table([("all", "tro_paa_job", "total", "", 100, 3.5, 0.05)]), "2025", rev)
    assert s["mean"].iloc[0] == pytest.approx(2.5) and s["mean_se"].iloc[0] == pytest.approx(0.05)
    assert s["mean_ci_low"].iloc[0] < s["mean_ci_high"].iloc[0]
    per["2025"] = dataclasses.replace(per["2025"], recode={5: 5, 4: 5, 3: 3, 2: 2, 1: 1})
    bad = dataclasses.replace(cw, entries={**cw.entries, "tro_paa_job": per})
    with pytest.raises(SurveyError, match=r"questions\.tro_paa_job\.2025\.recode .* is not linear"):
        stable_tables(_table([("all", "tro_paa_job", "total", "", 100, 3.5, 0.05)]), "2025", bad)


def test_compare_waves_passes_comparable_cells_of_the_panel(waves):
    ws, cw = waves
    e, l = ws["2024"], ws["2025"]
    seen = {}

    def fake(earlier, later, earlier_wave, later_wave):
        seen.update(earlier=earlier, later=later, waves=(earlier_wave, later_wave))
        return pd.DataFrame({"scope": []})

    rows = [("all", "tillid", "total", "", 900, 3.6, 0.02), ("all", "plan_uddannelse", "total", "", 300, 3.4, 0.04),
            ("all", "tillid", "kommune", "Herning", 100, 3.5, 0.1), ("all", "tillid", "kommune", "Aalborg", 100, 3.5, 0.1),
            ("Herning", "tillid", "total", "", 100, 3.5, 0.1), ("Aalborg", "tillid", "total", "", 100, 3.5, 0.1),
            ("all", "tema_maal", "total", "", 900, 3.6, 0.02)]
    panel = _table([(PANEL, "tillid", "total", "", 500, 3.6, 0.03)])
    comp = compare_waves(e, l, cw, _table(rows), _table(rows), panel, panel, change=fake)
    got = seen["earlier"]
    assert seen["waves"] == ("2024", "2025")
    assert "plan_uddannelse" not in set(got["question"]) and "tema_maal" not in set(got["question"])
    assert "Herning" not in set(got["scope"]) and "Herning" not in set(got["group"])    # not in 2025
    assert {"all", "Aalborg", PANEL} <= set(got["scope"])
    assert len(comp.panel) == 22 and "22 deltog begge gange" in comp.warnings[0]
    nc = comp.not_comparable.set_index("question")["reason"]
    assert "udgået i 2025" in nc["plan_uddannelse"] and "flyttet til" in nc["tema_maal"]


def test_change_numbers_with_the_change_estimator(waves):
    pytest.importorskip("survey_lib.change", reason="survey_lib.change (the change statistics) is on its own branch")
    ws, cw = waves
    e = _table([("all", "tillid", "total", "", 900, 3.60, 0.03), ("Aalborg", "tillid", "total", "", 400, 3.50, 0.05)])
    l = _table([("all", "tillid", "total", "", 800, 3.70, 0.04), ("Aalborg", "tillid", "total", "", 300, 3.80, 0.06)])
    out = compare_waves(ws["2024"], ws["2025"], cw, e, l).changes
    r = out[(out["scope"] == "Aalborg") & (out["kind"] == "mean")].iloc[0]
    assert r["change"] == pytest.approx(0.30) and r["change_se"] == pytest.approx(math.hypot(0.05, 0.06))


def test_change_phrases():
    assert change_phrase(3.52, 3.71, "up") == "steget fra 3,52 til 3,71; en sikker forbedring"
    assert change_phrase(3.71, 3.52, "down") == "faldet fra 3,71 til 3,52; et sikkert fald"
    assert change_phrase(3.52, 3.55, "unchanged") == "fra 3,52 til 3,55: uændret inden for den statistiske usikkerhed"
    assert change_phrase(float("nan"), float("nan"), "suppressed").startswith("ikke vist")


def _changes():
    return pd.DataFrame({"scope": ["panel", "panel", "all", "Aalborg"], "question": ["tillid", "tema_moedet", "tillid", "tillid"],
                         "breakdown": "total", "group": "", "kind": "mean",
                         "earlier": [3.52, 3.6, 3.5, 3.4], "earlier_ci_low": [3.5, 3.55, 3.45, 3.3],
                         "earlier_ci_high": [3.54, 3.65, 3.55, 3.5], "later": [3.71, 3.62, 3.6, 3.45],
                         "later_ci_low": [3.69, 3.57, 3.55, 3.35], "later_ci_high": [3.73, 3.67, 3.65, 3.55],
                         "change": [0.19, 0.02, 0.1, 0.05], "ci_low": [0.16, -0.05, 0.03, -0.1],
                         "ci_high": [0.22, 0.09, 0.17, 0.2], "flag": ["up", "unchanged", "up", "unchanged"],
                         "not_computable": ["", "", "", ""]})


def test_change_table_has_both_waves_and_the_verdict():
    t = change_table(_changes().iloc[:2], {"tillid": "Tillid", "tema_moedet": "Mødet med jobcentret"}, "2024", "2025")
    assert list(t.columns) == ["Spørgsmål", "2024 (95 %-KI)", "2025 (95 %-KI)", "Ændring (95 %-KI)", "Vurdering"]
    assert t.iloc[0].tolist() == ["Tillid", "3,52 (3,50–3,54)", "3,71 (3,69–3,73)", "+0,19 (0,16–0,22)",
                                  "Steget fra 3,52 til 3,71; en sikker forbedring"]


def test_an_interval_with_a_negative_bound_reads_with_til():
    from survey_lib.trend import _ci

    assert _ci(-0.40, -0.23) == "-0,40 til -0,23" and _ci(-0.05, 0.10) == "-0,05 til 0,10"
    assert _ci(3.50, 3.54) == "3,50–3,54"


def test_waves_chart_house_style():
    s = pd.DataFrame({"label": ["Mødet", "Mødet"], "wave_label": ["April 2024", "November 2025"], "mean": [3.6, 3.7],
                      "ci_low": [3.55, 3.65], "ci_high": [3.65, 3.75]})
    c = waves_chart(s, "Temascorer")
    assert "Linjediagram" in c.alt_text and "November 2025: Mødet 3,70" in c.alt_text
    assert "ikke om intervallerne overlapper" in c.caption
    assert c.table["Score"].tolist() == ["3,60", "3,70"]


def test_trend_sections_from_files(tmp_path):
    pd.DataFrame({"wave": ["2024", "2025"], "label": ["April 2024", "November 2025"], "year": [2024, 2025]}).to_csv(
        tmp_path / "waves.csv", index=False)
    _changes().to_csv(tmp_path / "changes_2024.csv", index=False)
    pd.DataFrame({"question": ["plan_uddannelse"], "earlier_id": ["plan_uddannelse"], "later_id": [""],
                  "reason": ["Spørgsmålet er udgået i 2025 (stillet i 2024)."]}).to_csv(tmp_path / "not_comparable_2024.csv", index=False)
    pd.DataFrame({"wave": ["2024", "2025"], "scope": ["panel:2024"] * 2, "question": ["tema_moedet"] * 2,
                  "mean": [3.6, 3.62], "ci_low": [3.55, 3.57], "ci_high": [3.65, 3.67]}).to_csv(tmp_path / "scores.csv", index=False)
    pd.DataFrame({"question": ["tillid", "tema_moedet", "plan_uddannelse"],
                  "label": ["Tillid", "Mødet med jobcentret", "Plan (uddannelse)"]}).to_csv(tmp_path / "labels.csv", index=False)
    (tmp_path / "warnings_2024.txt").write_text("Forskellige kommuner.\n", encoding="utf-8")
    secs = trend_sections(TrendFiles(tmp_path), "all")
    text = "\n".join(v for k, v in secs if k == "markdown")
    assert "**Bemærk:** Forskellige kommuner." in text and "De kommuner, der deltog begge gange" in text
    assert "Tillid er steget fra 3,52 til 3,71; en sikker forbedring" in text
    assert "Spørgsmålet er udgået i 2025" in text
    assert [k for k, _ in secs].count("chart") == 1
    one = trend_sections(TrendFiles(tmp_path), "Aalborg")
    assert "uændret inden for den statistiske usikkerhed" in one[0][1]
    assert "deltog ikke" in trend_sections(TrendFiles(tmp_path), "Herning")[0][1]


def test_change_test_quality_counts_hits_misses_and_false_alarms():
    from survey_lib.waves.measure import change_test_quality

    truth = pd.DataFrame({"kommune": ["A", "A", "B", "B", "C"], "question": ["q1", "q2", "q1", "q2", "q1"],
                          "change": [0.30, 0.0, -0.26, 0.0, 0.12]})
    changes = pd.DataFrame({"scope": ["A", "A", "B", "B", "C", "all"], "question": ["q1", "q2", "q1", "q2", "q1", "q1"],
                            "breakdown": "total", "kind": "mean",
                            "flag": ["up", "down", "unchanged", "unchanged", "down", "up"]})
    q = change_test_quality(changes, truth)
    assert (q.power, q.power_n) == (0.5, 2)                 # A/q1 found, B/q1 missed
    assert (q.false_alarms, q.false_alarm_n) == (0.5, 2)    # A/q2 flagged
    assert q.wrong_sign == 1                                # C/q1 planted up, flagged down
    with pytest.raises(ValueError, match=r"1 pair\(s\) of the ground truth have no change row"):
        change_test_quality(changes.iloc[1:], truth)
