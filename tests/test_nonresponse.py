"""Non-response analysis and weighting diagnostics, each checked against an independent computation:
by hand on the hand-made data set and tiny arrays, or R survey's numbers (tests/reference/)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import builders
from survey_lib import nonresponse as nr
from survey_lib.design import build_design, design_from_arrays
from survey_lib.load import load_survey

REF = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def small(tmp_path_factory, params):
    folder = builders.write(builders.frames(), tmp_path_factory.mktemp("nr"))
    return load_survey(folder, params)


def test_response_rates_by_hand(small):
    f = nr.sample_frame(small)
    rr = nr.response_rates(f).set_index(["variable", "category"])
    # 8 sampled; 5 complete + 1 partial answered
    assert rr.loc[("total", ""), ["sampled", "complete", "partial", "none"]].tolist() == [8, 5, 1, 2]
    assert rr.loc[("total", ""), "response_rate"] == pytest.approx(6 / 8)
    # Odder: P001-P004 all answered; Ishøj: P007-P010, of whom P008 and P010 answered (P010 partial)
    assert rr.loc[("kommune", "Odder"), "response_rate"] == 1.0
    assert rr.loc[("kommune", "Ishøj"), ["complete", "partial", "none"]].tolist() == [1, 1, 2]


def test_design_weights_by_hand(small):
    f = nr.sample_frame(small).set_index("person_id")
    # P001: Odder, K, under_30: population cell {P001} (1), sample {P001} (1) -> 1
    assert f.loc["P001", "design_weight"] == 1.0
    # P007: Ishøj, K, 30_49: population {P007} ... every cell here has one person, except Ishøj M 30_49
    # = {P010, P012}, of whom only P010 is sampled -> 2
    assert f.loc["P010", "design_weight"] == 2.0


def test_r_indicator_by_hand():
    rho = np.array([0.2, 0.4, 0.6, 0.8])
    d = np.ones(4)
    summary, parts = nr.r_indicators(rho, d, pd.DataFrame({"x": ["a", "a", "b", "b"]}))
    S = np.sqrt((0.09 + 0.01 + 0.01 + 0.09) / 3)          # sample variance with N - 1
    assert summary["S"] == pytest.approx(S)
    assert summary["R"] == pytest.approx(1 - 2 * S)
    assert summary["cv"] == pytest.approx(S / 0.5)
    assert summary["max_abs_bias"] == pytest.approx((1 - (1 - 2 * S)) / (2 * 0.5))
    p = parts.set_index(["variable", "category"])
    assert p.loc[("x", ""), "partial_r"] == pytest.approx(np.sqrt((2 * 0.04 + 2 * 0.04) / 4))   # 0.2
    assert p.loc[("x", "a"), "partial_r"] == pytest.approx(-np.sqrt(0.5) * 0.2)                  # under-represented
    assert p.loc[("x", "b"), "partial_r"] == pytest.approx(np.sqrt(0.5) * 0.2)


def test_r_indicator_uses_design_weights():
    # doubling the weight of the low-propensity unit moves the mean and the spread as by hand
    rho = np.array([0.2, 0.8])
    summary, _ = nr.r_indicators(rho, np.array([2.0, 1.0]))
    mean = (2 * 0.2 + 0.8) / 3
    S = np.sqrt((2 * (0.2 - mean) ** 2 + (0.8 - mean) ** 2) / (3 - 1))
    assert summary["mean_propensity"] == pytest.approx(mean)
    assert summary["R"] == pytest.approx(1 - 2 * S)


def test_propensity_model_one_binary_covariate_is_the_log_odds_ratio():
    # responded: group a 30 of 100, group b 60 of 100 -> log OR = log((60/40)/(30/70))
    frame = pd.DataFrame({"g": ["a"] * 100 + ["b"] * 100,
                          "responded": [True] * 30 + [False] * 70 + [True] * 60 + [False] * 40,
                          "kommune": "x"})
    m = nr.propensity_model(frame, variables=("g",))
    coef = m.coefficients.set_index("term")
    assert coef.loc["C(g)[T.b]", "coefficient"] == pytest.approx(np.log((60 / 40) / (30 / 70)), rel=1e-6)
    assert coef.loc["C(g)[T.b]", "odds_ratio"] == pytest.approx((60 / 40) / (30 / 70), rel=1e-6)
    assert m.propensity[:100] == pytest.approx(np.full(100, 0.3), rel=1e-6)
    assert m.propensity[100:] == pytest.approx(np.full(100, 0.6), rel=1e-6)


def test_completion_quartiles_by_hand(small):
    # complete: 4.5, 3, 6, 10 and 2 1/6 minutes -> sorted 2.17, 3, 4.5, 6, 10
    q = nr.completion_quartiles(small.responses)
    assert (q["q1"], q["median"], q["q3"], q["n"]) == pytest.approx((3.0, 4.5, 6.0, 5))


def test_response_curve_by_hand(small):
    f = nr.sample_frame(small)
    curve = nr.response_curve(f, small.responses, "2023-09-18").set_index("date")
    # started: 28/8, 29/8, 4/9, 5/9, 11/9, 12/9 -> cumulative 1, 2, 2.., 3, 4, ..., 5, 6
    assert curve.loc[pd.Timestamp("2023-08-28").date(), "responses"] == 1
    assert curve.loc[pd.Timestamp("2023-09-03").date(), "responses"] == 2
    assert curve.loc[pd.Timestamp("2023-09-05").date(), "responses"] == 4
    assert curve.loc[pd.Timestamp("2023-09-18").date(), "cumulative_rate"] == pytest.approx(6 / 8)


def test_weighting_shift_by_hand():
    frame = pd.DataFrame({"tilfredshed": [5, 5, 1, 1], "kommune": "x"})
    design = design_from_arrays(frame, np.array([1.0, 1.0, 3.0, 3.0]), frame["kommune"])

    class Questionnaire:  # the minimal codebook score_matrix needs
        likert = [type("Q", (), {"id": "tilfredshed"})()]

    shift = nr.weighting_shift(design, Questionnaire, min_cell_size=3).iloc[0]
    assert shift["mean_unweighted"] == 3.0
    assert shift["mean_weighted"] == pytest.approx((5 * 2 + 1 * 6) / 8)
    assert shift["share_5_weighted"] == pytest.approx(0.25) and shift["share_5_shift"] == pytest.approx(-0.25)


def test_balance_exact_on_municipality_even_with_collapsed_strata(small, params):
    """The hand-made data has cells without respondents (collapsed, some across målgruppe): the
    weighted respondents still match the population on municipality, which collapsing never crosses."""
    design = build_design(small, params)
    assert len(design.weighting.collapses) > 0
    b = nr.balance(design, small.population).set_index(["variable", "category"])
    np.testing.assert_allclose(b.loc["kommune", "weighted_share"], b.loc["kommune", "population_share"], atol=1e-12)
    assert "varighed_band" in b.index.get_level_values(0)       # a variable not used in weighting is shown too


def test_balance_exact_on_all_weighting_variables_without_collapses(tmp_path, params):
    from survey_lib.demo import generate, write_dataset
    write_dataset(generate(params, seed=11), tmp_path)
    data = load_survey(tmp_path, params)
    design = build_design(data, params)
    assert design.weighting.collapses.empty
    b = nr.balance(design, data.population, variables=("kommune", "koen", "alder_band", "maalgruppe"))
    np.testing.assert_allclose(b["weighted_share"], b["population_share"], atol=1e-12)
    assert (b["respondents_share"] - b["population_share"]).abs().max() > 0.01   # unweighted is off


def test_sample_vs_respondents_matches_r():
    s = pd.read_csv(REF / "data" / "nr1_sample.csv")
    s["responded"] = s["responded"].astype(bool)
    _, tests = nr.sample_vs_respondents(s, variables=("koen", "alder_band", "maalgruppe", "kommune"))
    ref = pd.read_csv(REF / "nr1_results.csv").set_index("variable")
    got = tests.set_index("variable")
    for v in ref.index:
        assert got.loc[v, "statistic"] == pytest.approx(ref.loc[v, "F"], rel=1e-6)
        assert got.loc[v, "df1"] == pytest.approx(ref.loc[v, "ndf"], rel=1e-6)
        assert got.loc[v, "df2"] == pytest.approx(ref.loc[v, "ddf"], rel=1e-6)
        assert got.loc[v, "p_value"] == pytest.approx(ref.loc[v, "p"], rel=1e-6)


def test_compare_methods(small, params):
    table, diags = nr.compare_methods(small, params, trim_ratio=2.0)
    assert list(diags["method"]) == ["poststratify", "rake", "poststratify+trim2"]
    # raking needs respondents in every margin; the tiny data has none aged under 30 in Ishøj
    assert "no respondents with alder_band='under_30'" in diags.set_index("method").loc["rake", "error"]
    assert {"unweighted", "poststratify", "poststratify+trim2"} <= set(table.columns)
    ok = diags["error"].isna()
    assert diags.loc[ok, "sum_weights"].to_numpy() == pytest.approx(len(small.population))


def test_cli_nonresponse_writes_every_table(tmp_path, twin_dir):
    from typer.testing import CliRunner

    from survey_lib.cli import app
    res = CliRunner().invoke(app, ["nonresponse", str(twin_dir), "--out", str(tmp_path / "nr")])
    assert res.exit_code == 0, res.output
    names = {p.stem for p in (tmp_path / "nr").glob("*.csv")}
    assert {"response_rates", "sample_vs_respondents_tests", "propensity_model", "r_indicator",
            "partial_r_indicators", "response_curve", "completion_time", "weighting_shift", "balance",
            "methods_estimates", "methods_diagnostics", "strata", "weights_diagnostics"} <= names
    import json
    prov = json.loads((tmp_path / "nr" / "provenance.json").read_text())
    assert prov["scope"] == "all" and len(prov["data_sha256"]) == 64
    r = pd.read_csv(tmp_path / "nr" / "r_indicator.csv")
    assert 0 < r["R"].iloc[0] < 1
    rates = pd.read_csv(tmp_path / "nr" / "response_rates.csv", keep_default_na=False)
    assert rates.loc[rates["variable"] == "total", "response_rate"].iloc[0] == pytest.approx(9989 / 23119)
    partial = pd.read_csv(tmp_path / "nr" / "partial_r_indicators.csv", keep_default_na=False)
    cat = partial[(partial["level"] == "category") & (partial["variable"] == "alder_band")].set_index("category")
    assert cat.loc["under_30", "partial_r"] < 0 < cat.loc["50_plus", "partial_r"]   # the young answer less


def test_one_municipality(tmp_path, params, twin_dir):
    data = load_survey(twin_dir, params)
    report = nr.nonresponse_report(data, params, kommune="Odder")
    assert isinstance(report, nr.NonresponseReport)
    rep = report.frames()
    rates = rep["response_rates"].set_index(["variable", "category"])
    n_odder = int(data.sample.merge(data.population, on="person_id")["kommune"].eq("Odder").sum())
    assert rates.loc[("total", ""), "sampled"] == n_odder
    assert "kommune" not in set(rep["sample_vs_respondents"]["variable"])
    b = rep["balance"]
    np.testing.assert_allclose(b.loc[b["variable"] == "koen", "weighted_share"],
                               b.loc[b["variable"] == "koen", "population_share"], atol=1e-12)
    assert set(rep["strata"]["kommune"]) == {"Odder"}
    assert rep["response_curve"]["reminder"].sum() == 2 * (1 + 4)   # total + four målgrupper, two reminders
    with pytest.raises(Exception, match=r"kommune: unknown municipality 'Atlantis'; expected names from kommuner"):
        nr.nonresponse_report(data, params, kommune="Atlantis")
    # written as the batch writes them and read back as the notebook reads them: the labels survive
    # (the total's group and category are '', not missing: as NaN they fell out of the charts)
    from survey_lib.notebook import read_csv_folder
    from survey_lib.atomic import atomic_folder
    from survey_lib.export import write_csvs
    with atomic_folder(tmp_path / "nr") as stage:
        write_csvs(stage, rep)
    back = read_csv_folder(tmp_path / "nr")
    for name in ("response_curve", "response_rates", "sample_vs_respondents", "partial_r_indicators"):
        for col in {"group", "category", "variable", "by"} & set(rep[name].columns):
            assert list(back[name][col]) == [str(v) for v in rep[name][col]], (name, col)
    assert (back["response_curve"].query("by == 'total'")["group"] == "").all()
    assert nr.NonresponseReport.from_frames(back).strata.shape == report.strata.shape
    with pytest.raises(Exception, match=r"folder X: the non-response tables balance.csv are missing"):
        nr.NonresponseReport.from_frames({k: v for k, v in back.items() if k != "balance"}, "folder X")
    # the designs computed once for every municipality (as the batch does) give the same report
    design = build_design(data, params)
    shared = nr.nonresponse_report(data, params, kommune="Odder", design=design,
                                   designs=nr.method_designs(data, params, default=design)).frames()
    assert shared.keys() == rep.keys()
    for name in rep:
        pd.testing.assert_frame_equal(shared[name], rep[name], check_exact=True, obj=name)
