"""Three waves end to end: the twins of 2023 (the pilot, ``twin_dir``), 2024 and 2025 (small), the
trend tables of ``survey-report run --wave`` (linear trend, rank movement, shares of the two most
positive answers), the numbers against the estimators called directly and worked out by hand, and
the trend page of a municipality.

Expected numbers: the weighted least-squares slope and the weighted shares are computed here from
the designs' weights and answers (numpy, by hand); the trend's standard error and test are
LinearTrend's, which tests/test_change.py checks against R (tests/reference/reference_change.R).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from builders import params_with_wave_kommuner

from survey_lib.change import LinearTrend, RankMovement, stack_designs
from survey_lib.demo import write_dataset
from survey_lib.demo.waves import WAVE_FACTS, generate_wave
from survey_lib.narrative import fmt_number, fmt_pct, fmt_signed
from survey_lib.ranks import RankConfidence
from survey_lib.scores import outcome_scores
from survey_lib.tables import RANK_COVERAGE, RANK_DRAWS, RANK_SEED
from survey_lib.trend import rank_phrase, rank_table, share_phrase, trend_phrase, trend_table
from survey_lib.waves import pipeline
from survey_lib.waves.pipeline import trend_comparable
from survey_lib.waves.twin import load_waves

#: 2024 and 2025 small; three pilot municipalities in all three waves (2023: the pilot twin's rows of
#: these three, so that the suite stays quick), a fourth in 2024 only.
SMALL = {"2024": ["Aalborg", "Odense", "Vejle", "Ishøj"], "2025": ["Aalborg", "Odense", "Ishøj"]}
COMMON = ["Aalborg", "Ishøj", "Odense"]
WAVES = ["2023", "2024", "2025"]


@pytest.fixture(scope="module")
def three(tmp_path_factory, twin_dir):
    """The three waves' params and data, ``prepare_wave('latest')`` run once; the WaveData the
    trend tables were made from are recorded (wave_data / panel_data wrapped)."""
    from survey_lib.waves.run import prepare_wave

    root = tmp_path_factory.mktemp("three")
    params = params_with_wave_kommuner(root, SMALL)
    with open(params / "waves" / "2023" / "wave.yaml", "a", encoding="utf-8") as f:
        f.write(f"kommuner: [{', '.join(COMMON)}]\n")
    waves, cw = load_waves(params)
    for w in SMALL:
        facts = dataclasses.replace(WAVE_FACTS[w], invited=2400, respondents=900)
        write_dataset(generate_wave(waves[w].params, w, cw.to_stable(w), None, facts=facts), waves[w].data_dir)
    waves["2023"].data_dir.mkdir(parents=True)
    pop = pd.read_csv(twin_dir / "population.csv", dtype=str, keep_default_na=False)
    pop = pop[pop["kommune"].isin(COMMON)]
    pop.to_csv(waves["2023"].data_dir / "population.csv", index=False)
    for name in ("sample.csv", "responses.csv"):
        t = pd.read_csv(twin_dir / name, dtype=str, keep_default_na=False)
        t[t["person_id"].isin(set(pop["person_id"]))].to_csv(waves["2023"].data_dir / name, index=False)
    made: dict[tuple, object] = {}

    def recorded(fn, kind):
        def inner(wave, cw, *args, **kw):
            out = fn(wave, cw, *args, **kw)
            made[(kind, wave.name)] = out
            return out
        return inner

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "wave_data", recorded(pipeline.wave_data, "wave"))
        mp.setattr(pipeline, "panel_data", recorded(pipeline.panel_data, "panel"))
        run = prepare_wave("latest", root / "outputs", params, log=lambda m: None)
    return root, params, waves, cw, run, made


def test_three_wave_tables_are_written(three):
    _, _, _, _, run, _ = three
    assert run.earlier == ("2023", "2024")
    folder = run.wave_dir / "udvikling"
    for name in ("trend.csv", "trend_not_comparable.csv", "ranks_2023.csv", "ranks_2024.csv",
                 "top_shares_2023.csv", "top_shares_2024.csv"):
        assert (folder / name).is_file(), name
    trend = pd.read_csv(folder / "trend.csv")
    assert set(trend["scope"]) == {"all", "panel", *COMMON}
    # 'all' has Vejle's 2024 answers, the panel of the three waves not
    n = trend.set_index(["scope", "question"])["n"]
    assert n[("all", "tillid")] > n[("panel", "tillid")]
    assert (trend["waves"].dropna() == "2023,2024,2025").all()
    nc = pd.read_csv(folder / "trend_not_comparable.csv")
    # reworded in 2024, new in 2024, dropped in 2025, a theme of its own only from 2025
    assert {"formidling", "kontakt_let", "plan_uddannelse", "tema_samarbejde"} <= set(nc["question"])
    assert not set(nc["question"]) & set(trend["question"])
    scores = pd.read_csv(folder / "scores.csv", dtype={"wave": str})
    assert set(scores.loc[scores["scope"] == "panel:trend", "wave"]) == set(WAVES)


def test_a_panel_cut_from_the_loaded_wave_is_the_panel_of_its_own_files(three, tmp_path):
    """The common panel is cut from the wave's validated data (load.restrict_to) instead of being
    written out and validated again: its weights and tables equal those of the panel's rows
    written as files of their own and run through the whole pipeline (compute_tables)."""
    from survey_lib.load import load_survey, restrict_to
    from survey_lib.pipeline import compute_tables
    from survey_lib.waves.pipeline import panel_data, stable_tables

    _, _, waves, cw, _, _ = three
    w = waves["2024"]
    panel = ["Aalborg", "Odense"]          # a part of the wave: Vejle and Ishøj left out
    data = load_survey(w.data_dir, w.params)
    part = restrict_to(data, panel)
    assert set(part.population["kommune"]) == set(panel)
    assert set(part.responses["person_id"]) <= set(part.population["person_id"])
    assert 0 < len(part.responses) < len(data.responses)
    for role in ("population", "sample", "responses"):
        raw = pd.read_csv(w.data_dir / f"{role}.csv", dtype=str, keep_default_na=False)
        keep = raw["kommune"].isin(panel) if role == "population" else raw["person_id"].isin(part.population["person_id"])
        raw[keep].to_csv(tmp_path / f"{role}.csv", index=False)
    params = w.params.model_copy(update={"kommuner": tuple(k for k in w.params.kommuner if k.name in panel)})
    own = compute_tables(tmp_path, params, scopes=panel[:1])
    cut = panel_data(w, cw, panel, data=data)
    np.testing.assert_array_equal(cut.design.weight, own.design.weight)
    expected = stable_tables(own.tables.tables, "2024", cw)
    expected = expected[expected["scope"] == "all"].assign(scope="panel").reset_index(drop=True)
    pd.testing.assert_frame_equal(cut.tables, expected)


def _score(waves, cw, d, wave: str, sid: str) -> np.ndarray:
    """The stable score per respondent of one wave, by hand from the codebook and the crosswalk."""
    qid = sid if sid.startswith("tema_") else cw.entries[sid][wave].question
    y = np.asarray(outcome_scores(d.design.frame, waves[wave].params.questionnaire)[qid], float)
    entry = cw.entries.get(sid, {}).get(wave)
    if entry is not None and entry.recode:
        y = np.array([entry.recode.get(int(v), np.nan) if np.isfinite(v) else np.nan for v in y])
    return y


@pytest.mark.parametrize("sid", ["tillid", "tro_paa_job", "tema_progression"])
def test_trend_equals_linear_trend_called_directly_and_the_slope_by_hand(three, sid):
    _, _, waves, cw, run, made = three
    trend = pd.read_csv(run.wave_dir / "udvikling" / "trend.csv").set_index(["scope", "question"])
    for kind, scope in (("wave", "all"), ("panel", "panel")):
        datas = [made[(kind, w)] if (kind, w) in made else made[("wave", w)] for w in WAVES]
        st = stack_designs({w: d.design for w, d in zip(WAVES, datas)})
        y = np.concatenate([_score(waves, cw, d, w, sid) for w, d in zip(WAVES, datas)])
        scopes = COMMON if scope == "all" else []
        direct = LinearTrend.from_params(waves["2025"].params)(
            st, {sid: y}, {"total": (np.zeros(len(y), dtype=int), [""])}, scopes=scopes)
        direct["scope"] = direct["scope"].replace({"all": scope})
        for r in direct.itertuples():
            row = trend.loc[(r.scope, sid)]
            assert row["slope"] == pytest.approx(r.slope, abs=1e-12)
            assert row["slope_se"] == pytest.approx(r.slope_se, rel=1e-12)
            assert row["p_value"] == pytest.approx(r.p_value, rel=1e-9)
            assert row["df"] == r.df and row["n"] == r.n
        # by hand: the weighted least-squares slope on the wave number 1, 2, 3 over the answers
        w, x = st.design.weight, st.wave_number[st.wave]
        ok = np.isfinite(y)
        if scope == "panel":
            assert st.design.frame["kommune"].isin(COMMON).all()
        xm = np.average(x[ok], weights=w[ok])
        slope = np.sum(w[ok] * (x[ok] - xm) * y[ok]) / np.sum(w[ok] * (x[ok] - xm) ** 2)
        assert trend.loc[(scope, sid), "slope"] == pytest.approx(slope, abs=1e-9)
    # a trend is called sure exactly when its adjusted p-value is below the level
    t = trend.reset_index()
    alpha = waves["2025"].params.survey.significance_level
    sure = t["flag"].isin(["up", "down"])
    assert (sure == (t["p_adjusted"] < alpha)).all()
    assert ((t["flag"] == "up") == (sure & (t["slope"] > 0))).all()


def test_ranks_equal_rank_movement_called_directly(three):
    _, _, waves, cw, run, made = three
    ranks = pd.read_csv(run.wave_dir / "udvikling" / "ranks_2024.csv", dtype={"earlier_label": str})
    ids = [c.stable_id for c in cw.comparisons("2024", "2025") if c.comparable]
    minimum = waves["2025"].params.survey.reporting_minimum

    def pick(t):
        return t[t["question"].isin(ids) & (t["scope"] == "all") & (t["breakdown"] == "kommune")]

    ranker = RankConfidence(coverage=RANK_COVERAGE, draws=RANK_DRAWS, seed=RANK_SEED, min_n=minimum)
    direct = RankMovement(ranker, panel_only=True)(pick(made[("wave", "2024")].tables),
                                                   pick(made[("wave", "2025")].tables))
    assert len(direct) == len(ranks) > 0
    for col in ("earlier_rank", "earlier_of", "earlier_lower", "earlier_upper", "later_rank", "later_of",
                "later_lower", "later_upper", "movement"):
        np.testing.assert_array_equal(ranks[col].to_numpy(float), direct[col].to_numpy(float), err_msg=col)
    # Vejle took part in 2024 only: not ranked; both ranks out of the same set of municipalities
    assert not ranks.loc[ranks["kommune"] == "Vejle", "panel"].any()
    both = ranks.dropna(subset=["earlier_rank", "later_rank"])
    assert (both["earlier_of"] == both["later_of"]).all()


def test_top_shares_by_hand(three):
    _, _, waves, cw, run, made = three
    sh = pd.read_csv(run.wave_dir / "udvikling" / "top_shares_2024.csv", dtype={"category": str})
    assert (sh["kind"] == "share").all() and (sh["category"] == "4-5").all()
    row = sh[(sh["scope"] == "all") & (sh["question"] == "tilfredshed")].iloc[0]
    assert row["category_label"] == "Tilfreds eller meget tilfreds"
    for wave, col in (("2024", "earlier"), ("2025", "later")):
        d = made[("wave", wave)]
        y = _score(waves, cw, d, wave, "tilfredshed")
        ok = np.isfinite(y)
        share = np.sum(d.design.weight[ok] * (y[ok] >= 4)) / np.sum(d.design.weight[ok])
        assert row[col] == pytest.approx(share, abs=1e-12)
    assert row["change"] == pytest.approx(row["later"] - row["earlier"], abs=1e-12)
    assert row["change_se"] == pytest.approx(np.hypot(row["earlier_se"], row["later_se"]), rel=1e-12)
    assert set(sh["family"]) == {"change:total:shares"}


def test_trend_comparable_in_the_projects_crosswalk():
    _, cw = load_waves()
    ok, bad = trend_comparable(cw, WAVES)
    assert {"tillid", "tro_paa_job", "tema_progression"} <= set(ok)
    reasons = dict(zip(bad["question"], bad["reason"]))
    assert reasons["formidling"].startswith("Ikke sammenlignelig fra 2024")
    assert "nyt i 2024" in reasons["kontakt_let"] and "udgået i 2025" in reasons["plan_uddannelse"]
    assert not set(ok) & set(reasons)


def test_phrases_by_hand():
    assert trend_phrase("up", 3) == "en sikker stigende tendens over de tre runder"
    assert trend_phrase("down", 4) == "en sikker faldende tendens over de fire runder"
    assert trend_phrase("unchanged", 3) == "ingen sikker tendens over de tre runder"
    assert trend_phrase("suppressed", 3).startswith("ikke vist")
    assert rank_phrase(12, 22, 7, 22) == "fra nr. 12 af 22 til nr. 7 af 22 (5 pladser op)"
    assert rank_phrase(7, 22, 8, 22) == "fra nr. 7 af 22 til nr. 8 af 22 (1 plads ned)"
    assert rank_phrase(np.nan, np.nan, 3, 22, "ikke rangeret: 12 svar (under 30)") == \
        "før: ikke rangeret: 12 svar (under 30); nu: nr. 3 af 22"
    assert share_phrase(0.24, 0.275, "up", 0.035, 0.012, 0.058) == \
        "steget fra 24,0 % til 27,5 % (+3,5 procentpoint; 95 %-KI 1,2–5,8); en sikker stigning"
    assert share_phrase(0.24, 0.25, "unchanged") == "fra 24,0 % til 25,0 %: uændret inden for den statistiske usikkerhed"


def test_trend_and_rank_tables_by_hand():
    waves = pd.DataFrame({"wave": ["a", "b", "c"], "label": ["A", "B", "C"], "year": [2023, 2024, 2025]})
    trend = pd.DataFrame({"question": ["q"], "slope": [0.1], "ci_low": [0.02], "ci_high": [0.18], "flag": ["up"],
                          "not_computable": [np.nan]})
    scores = pd.DataFrame({"wave": ["a", "b", "c"], "question": "q", "mean": [3.5, 3.6, 3.7]})
    t = trend_table(trend, scores, {"q": "Spørgsmål Q"}, waves)
    assert t.iloc[0].tolist() == ["Spørgsmål Q", "3,50 → 3,60 → 3,70", "+0,10 (0,02–0,18)",
                                  "En sikker stigende tendens over de tre runder"]
    ranks = pd.DataFrame({"question": ["q"], "kommune": ["K"], "earlier_rank": [12], "earlier_of": [22],
                          "earlier_lower": [8], "earlier_upper": [15], "earlier_label": [""], "later_rank": [7],
                          "later_of": [22], "later_lower": [4], "later_upper": [10], "later_label": [""]})
    changes = pd.DataFrame({"question": ["q"], "earlier": [3.52], "later": [3.55], "flag": ["unchanged"],
                            "not_computable": [np.nan]})
    r = rank_table(ranks, changes, {"q": "Q"}).iloc[0]
    assert r["Placering"] == "fra nr. 12 af 22 til nr. 7 af 22 (5 pladser op)"
    assert r["Usikkerhed (95 %)"] == "nr. 8–15 → nr. 4–10"
    # the move is never called sure; the municipality's own score is judged by its change test
    assert r["Kommunens egen score"] == "Fra 3,52 til 3,55: uændret inden for den statistiske usikkerhed"


def test_trend_page_shows_the_tables(three):
    from survey_lib.batch.runner import default_options, run_batch

    root, _, _, _, run, _ = three
    result = run_batch(default_options(data_dir=run.data_dir, params_dir=run.params_dir, out_root=root / "outputs",
                                       kommuner=("Aalborg",), notebooks=("60_udvikling",), jobs=1, progress=False,
                                       audit=False), log=lambda m: None)
    assert result.jobs["status"].eq("ok").all(), result.jobs.to_string()
    html = (run.wave_dir / "aalborg" / "60_udvikling.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    folder = run.wave_dir / "udvikling"
    trend = pd.read_csv(folder / "trend.csv").set_index(["scope", "question"])
    t = trend.loc[("Aalborg", "tillid")]
    assert "Tendens over de tre runder" in text
    assert re.search(rf"Tillid \| [\d,]+ → [\d,]+ → [\d,]+ \| {re.escape(fmt_signed(t['slope']))} \(", text) or \
        re.search(rf"Tillid [\d,]+ → [\d,]+ → [\d,]+ {re.escape(fmt_signed(t['slope']))} \(", text), text[:3000]
    assert re.search(re.escape(trend_phrase(t["flag"], 3)), text, re.I)
    ranks = pd.read_csv(folder / "ranks_2024.csv").set_index(["kommune", "question"])
    r = ranks.loc[("Aalborg", "tillid")]
    assert rank_phrase(r["earlier_rank"], r["earlier_of"], r["later_rank"], r["later_of"]) in text
    assert re.search(r"fra nr\. \d+ af 3 til nr\. \d+ af 3 \((samme plads|\d+ pladse?r? (op|ned))\)", text)
    sh = pd.read_csv(folder / "top_shares_2024.csv").set_index(["scope", "question"])
    s = sh.loc[("Aalborg", "tilfredshed")]
    assert f"fra {fmt_pct(s['earlier'])} til {fmt_pct(s['later'])}" in text.lower()
    assert re.search(r"\d+,\d %", text)
