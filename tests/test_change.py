"""Change between waves, the linear trend and rank movement (survey_lib/change.py).

R numbers: tests/reference/change_results.csv, made by tests/reference/reference_change.R from the
three small waves of tests/reference/data/change_*.csv (make_change_data.py). Tolerances: estimates
1e-9 absolute; standard errors, statistics, degrees of freedom and p-values 1e-6 relative. The other
expected numbers are worked out by hand in the tests.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_lib.change import (CHANGE_COLUMNS, RANK_MOVEMENT_COLUMNS, TREND_COLUMNS, ChangeFlag,
                               ChangeNotComputable, LinearTrend, RankMovement, WaveChange, stack_designs)
from survey_lib.design import design_from_arrays
from survey_lib.estimate import domain_estimates
from survey_lib.ranks import RankConfidence
from survey_lib.tables import TABLE_COLUMNS, Z95

REF = Path(__file__).resolve().parent / "reference"
WAVES = ["w1", "w2", "w3"]
NUMBERS = [1.0, 2.0, 4.0]
QUESTIONS = ["q1", "q2"]
BREAKDOWNS = {"total": None, "koen": ["K", "M"], "maalgruppe": ["m1", "m2"]}
CATEGORIES = (5, 4, 3, 2, 1)
EST, REL = 1e-9, 1e-6


# ---- helpers: the reference waves as designs and as tables.csv frames --------------------------------
def wave_design(name: str):
    resp = pd.read_csv(REF / "data" / f"change_{name}_respondents.csv")
    pop = pd.read_csv(REF / "data" / f"change_{name}_population.csv").set_index("stratum")["Freq"]
    weight = resp["stratum"].map(pop / resp["stratum"].value_counts()).to_numpy(float)   # N_h / n_h
    return design_from_arrays(resp, weight, resp["kommune"], resp["stratum"])


def breakdown_codes(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, list[str]]]:
    out = {}
    for b, levels in BREAKDOWNS.items():
        if levels is None:
            out[b] = (np.zeros(len(frame), dtype=int), [""])
        else:
            out[b] = (pd.Categorical(frame[b], categories=levels).codes.astype(int), levels)
    return out


def wave_tables(design, min_cell_size: int = 1) -> pd.DataFrame:
    """A tables.csv-shaped frame of one wave: scopes all + every municipality, means and shares."""
    rows = []
    for q in QUESTIONS:
        y = design.frame[q].to_numpy(float)
        for b, (codes, levels) in breakdown_codes(design.frame).items():
            G = len(levels)
            targets = [("all", domain_estimates(design, y, codes, G), np.arange(G))]
            est_k = domain_estimates(design, y, codes, G, by_stratum=True)
            targets += [(str(k), est_k, s * G + np.arange(G)) for s, k in enumerate(design.stratum_labels)]
            for scope, est, idx in targets:
                for g, r in zip(levels, idx):
                    n = int(est.n[r])
                    sup = n < min_cell_size
                    for j, c in enumerate(CATEGORIES):
                        mean, se = (np.nan, np.nan) if sup else (est.mean[r], est.mean_se[r])
                        rows.append({"scope": scope, "question": q, "breakdown": b, "group": g, "category": str(c),
                                     "category_label": f"svar {c}", "n": np.nan if sup else n,
                                     "category_n": est.counts[r, j], "dont_know_n": 0,
                                     "weighted_n": est.weighted_n[r],
                                     "share": np.nan if sup else est.shares[r, j],
                                     "share_se": np.nan if sup else est.share_se[r, j], "mean": mean, "mean_se": se,
                                     "mean_ci_low": mean - Z95 * se, "mean_ci_high": mean + Z95 * se,
                                     "suppressed": sup})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    r = pd.read_csv(REF / "change_results.csv", keep_default_na=False)
    r["value"] = r["value"].astype(float)
    return r


@pytest.fixture(scope="module")
def designs():
    return {w: wave_design(w) for w in WAVES}


@pytest.fixture(scope="module")
def tables(designs):
    return {w: wave_tables(d) for w, d in designs.items()}


def r_values(ref: pd.DataFrame, analysis: str, pair: str) -> pd.DataFrame:
    sel = ref[(ref["analysis"] == analysis) & (ref["pair"] == pair)]
    return sel.pivot_table(index=["scope", "question", "breakdown", "group"], columns="term", values="value",
                           aggfunc="first")


# ---- against R -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", ["w1-w2", "w2-w3", "w1-w3"])
@pytest.mark.parametrize("kind", ["mean", "share"])
def test_change_equals_r_stacked_design(ref, tables, pair, kind):
    a, b = pair.split("-")
    out = WaveChange(min_cell_size=1)(tables[a], tables[b], earlier_wave=a, later_wave=b)
    if kind == "mean":
        ours = out[out["kind"] == "mean"]
    else:
        ours = out[(out["kind"] == "share") & (out["category"] == "5")]
    ours = ours.set_index(["scope", "question", "breakdown", "group"])
    r = r_values(ref, "mean" if kind == "mean" else "share_5", pair)
    assert len(r) >= 30
    mine = ours.loc[r.index]
    np.testing.assert_allclose(mine["earlier"], r[f"{a}_estimate"], atol=EST, rtol=0)
    np.testing.assert_allclose(mine["later"], r[f"{b}_estimate"], atol=EST, rtol=0)
    np.testing.assert_allclose(mine["earlier_se"], r[f"{a}_se"], rtol=REL)
    np.testing.assert_allclose(mine["later_se"], r[f"{b}_se"], rtol=REL)
    np.testing.assert_allclose(mine["change"], r["change"], atol=EST, rtol=0)
    np.testing.assert_allclose(mine["change_se"], r["change_se"], rtol=REL)
    np.testing.assert_allclose(mine["ci_low"], r["ci_low"], atol=EST, rtol=0)
    np.testing.assert_allclose(mine["ci_high"], r["ci_high"], atol=EST, rtol=0)
    np.testing.assert_allclose(mine["p_value"], r["p_normal"], rtol=REL)
    # in R itself: the svyglm coefficient is the difference of the two waves' svymean, and its SE on
    # the stacked design is sqrt(SE1^2 + SE2^2) (the waves are independent blocks of strata)
    np.testing.assert_allclose(r["change"], r[f"{b}_estimate"] - r[f"{a}_estimate"], atol=EST, rtol=0)
    np.testing.assert_allclose(r["change_se"], np.sqrt(r[f"{a}_se"] ** 2 + r[f"{b}_se"] ** 2), rtol=REL)
    # the municipalities in only one wave of the pair get no change
    one_wave = out[out["not_computable"].isin([ChangeNotComputable.NOT_EARLIER, ChangeNotComputable.NOT_LATER])]
    assert set(one_wave["scope"]) == ({"C"} if a == "w1" else set()) | ({"D"} if a == "w1" else set())


def test_r_reference_covers_municipalities_and_groups(ref):
    r = r_values(ref, "mean", "w1-w2")
    assert {"all", "A", "B"} <= set(r.index.get_level_values("scope"))
    assert {"total", "koen", "maalgruppe"} == set(r.index.get_level_values("breakdown"))


@pytest.fixture(scope="module")
def stacked(designs):
    return stack_designs(designs, wave_numbers=NUMBERS)


def test_trend_equals_r_svyglm_on_wave_number(ref, stacked):
    frame = stacked.design.frame
    outcomes = {q: stacked.stack([d.frame[q].to_numpy(float) for d in
                                  (wave_design(w) for w in WAVES)]) for q in QUESTIONS}
    full = pd.concat([pd.read_csv(REF / "data" / f"change_{w}_respondents.csv") for w in WAVES],
                     ignore_index=True)
    out = LinearTrend(min_cell_size=1)(stacked, outcomes, breakdown_codes(full), scopes=["A", "B", "C", "D"])
    assert list(out.columns) == TREND_COLUMNS
    assert (frame["kommune"].to_numpy() == full["kommune"].to_numpy()).all()
    r = r_values(ref, "trend", "w1-w2-w3")
    mine = out.set_index(["scope", "question", "breakdown", "group"]).loc[r.index]
    assert len(r) == 3 * 5 * 2
    np.testing.assert_allclose(mine["slope"], r["slope"], atol=EST, rtol=0)
    np.testing.assert_allclose(mine["slope_se"], r["se"], rtol=REL)
    np.testing.assert_allclose(mine["statistic"], r["t"], rtol=REL)
    np.testing.assert_allclose(mine["df"], r["df"], rtol=REL)
    np.testing.assert_allclose(mine["p_value"], r["p"], rtol=REL)
    np.testing.assert_allclose(mine["ci_low"], r["ci_low"], atol=EST, rtol=0)
    np.testing.assert_allclose(mine["ci_high"], r["ci_high"], atol=EST, rtol=0)
    # C (one wave) and D (two waves) have no trend
    other = out[out["scope"].isin(["C", "D"])]
    assert (other["not_computable"] == ChangeNotComputable.FEW_WAVES).all()
    assert other["p_value"].isna().all()


# ---- worked by hand -----------------------------------------------------------------------------------
def cell(scope="K1", question="q", breakdown="total", group="", mean=np.nan, se=np.nan, n=100, suppressed=False,
         category="", share=np.nan, share_se=np.nan):
    return {"scope": scope, "question": question, "breakdown": breakdown, "group": group, "category": category,
            "category_label": "", "n": n, "category_n": n, "dont_know_n": 0, "weighted_n": float(n),
            "share": share, "share_se": share_se, "mean": mean, "mean_se": se, "mean_ci_low": np.nan,
            "mean_ci_high": np.nan, "suppressed": suppressed}


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=TABLE_COLUMNS)


def test_change_by_hand():
    e = frame(cell(mean=3.52, se=0.05))
    l = frame(cell(mean=3.71, se=0.06))
    out = WaveChange()(e, l, earlier_wave="2024", later_wave="2025")
    assert list(out.columns) == CHANGE_COLUMNS
    row = out.iloc[0]
    se = math.sqrt(0.05 ** 2 + 0.06 ** 2)                  # 0.0781025
    z = 0.19 / se                                          # 2.4327
    assert row["change"] == pytest.approx(0.19, abs=1e-12)
    assert row["change_se"] == pytest.approx(se, rel=1e-12)
    assert row["statistic"] == pytest.approx(z, rel=1e-12)
    assert row["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-12)   # 0.01499
    assert row["p_value"] == pytest.approx(0.014987, abs=1e-5)
    assert row["ci_low"] == pytest.approx(0.19 - 1.959963984540054 * se, rel=1e-12)
    assert row["earlier_ci_high"] == pytest.approx(3.52 + 1.959963984540054 * 0.05, rel=1e-12)
    assert row["flag"] == ChangeFlag.UP and row["family"] == "change"
    assert (row["earlier_wave"], row["later_wave"]) == ("2024", "2025")
    assert row["p_adjusted"] == row["p_value"]             # a family of one


def test_overlapping_intervals_can_still_be_a_change():
    # 95 % intervals 3.50 ± 0.098 and 3.65 ± 0.098 overlap (3.598 > 3.552), yet the change is significant
    out = WaveChange()(frame(cell(mean=3.50, se=0.05)), frame(cell(mean=3.65, se=0.05))).iloc[0]
    assert out["earlier_ci_high"] > out["later_ci_low"]
    assert out["p_value"] < 0.05 and out["flag"] == ChangeFlag.UP


def test_family_adjustment_by_hand():
    # three questions of one municipality: z = 3, 2, 0.5 -> p = erfc(z / sqrt 2)
    zs = {"a": 3.0, "b": 2.0, "c": 0.5}
    e = frame(*(cell(question=q, mean=3.0, se=0.1) for q in zs))
    l = frame(*(cell(question=q, mean=3.0 + z * 0.1 * math.sqrt(2), se=0.1) for q, z in zs.items()))
    p = {q: math.erfc(z / math.sqrt(2)) for q, z in zs.items()}          # 0.0027, 0.0455, 0.617
    bh = WaveChange(adjustment="fdr_bh")(e, l).set_index("question")["p_adjusted"]
    assert bh["a"] == pytest.approx(p["a"] * 3, rel=1e-9)
    assert bh["b"] == pytest.approx(p["b"] * 3 / 2, rel=1e-9)
    assert bh["c"] == pytest.approx(p["c"], rel=1e-9)
    holm = WaveChange(adjustment="holm")(e, l).set_index("question")
    assert holm.loc["b", "p_adjusted"] == pytest.approx(p["b"] * 2, rel=1e-9)
    assert holm.loc["b", "flag"] == ChangeFlag.UNCHANGED                 # 0.091 > 0.05
    assert holm.loc["a", "flag"] == ChangeFlag.UP


def test_families_are_per_scope_and_breakdown():
    e = frame(cell(scope="K1", question="a", mean=3, se=0.1), cell(scope="K2", question="a", mean=3, se=0.1),
              cell(scope="K1", question="a", breakdown="koen", group="K", mean=3, se=0.1))
    l = frame(cell(scope="K1", question="a", mean=3.3, se=0.1), cell(scope="K2", question="a", mean=3.3, se=0.1),
              cell(scope="K1", question="a", breakdown="koen", group="K", mean=3.3, se=0.1))
    out = WaveChange(adjustment="bonferroni")(e, l)
    assert list(out["family"]) == ["change", "change", "change:koen"]
    np.testing.assert_allclose(out["p_adjusted"], out["p_value"])       # three families of one


def test_suppressed_in_either_wave_shows_no_change():
    e = frame(cell(question="a", mean=3.0, se=0.1, n=40), cell(question="b", mean=3.0, se=0.1, n=4),
              cell(question="c", n=np.nan, suppressed=True), cell(question="d", mean=3.0, se=0.1, n=40))
    l = frame(cell(question="a", mean=3.5, se=0.1, n=40), cell(question="b", mean=3.5, se=0.1, n=40),
              cell(question="c", mean=3.5, se=0.1, n=40), cell(question="d", mean=3.5, se=0.1, n=40))
    out = WaveChange(min_cell_size=5)(e, l)
    assert set(out["kind"]) == {"mean"}                     # no shares in these tables
    out = out.set_index("question")
    for q in ("b", "c"):
        assert out.loc[q, "suppressed"] and out.loc[q, "flag"] == ChangeFlag.SUPPRESSED
        assert out.loc[q, ["earlier", "later", "change", "change_se", "p_value", "p_adjusted"]].isna().all()
        assert pd.isna(out.loc[q, "later_n"])
    # the suppressed rows are not in the family: a and d are adjusted as two tests
    assert out.loc["a", "p_adjusted"] == pytest.approx(out.loc["a", "p_value"] * 1, rel=1e-12)   # BH, equal p
    assert not out.loc["a", "suppressed"]


def test_cells_in_one_wave_only_and_no_variation():
    e = frame(cell(question="a", mean=3.0, se=0.1), cell(question="z", mean=5.0, se=0.0))
    l = frame(cell(question="b", mean=3.5, se=0.1), cell(question="z", mean=5.0, se=0.0))
    out = WaveChange()(e, l).set_index("question")
    assert out.loc["a", "not_computable"] == ChangeNotComputable.NOT_LATER
    assert out.loc["b", "not_computable"] == ChangeNotComputable.NOT_EARLIER
    assert out.loc["z", "not_computable"] == ChangeNotComputable.NO_VARIATION
    assert out.loc["z", "change"] == 0 and np.isnan(out.loc["z", "p_value"])
    assert (out["flag"] == ChangeFlag.NOT_COMPUTABLE).all()


def test_share_changes_and_multi_select():
    e = frame(cell(question="s", category="1", share=0.40, share_se=0.03),
              cell(question="s", category="2", share=0.20, share_se=0.02))
    l = frame(cell(question="s", category="1", share=0.30, share_se=0.04),
              cell(question="s", category="2", share=0.20, share_se=0.02))
    out = WaveChange()(e, l)
    assert set(out["kind"]) == {"share"}                     # no mean: a multi-select question
    one = out.set_index("category").loc["1"]
    assert one["change"] == pytest.approx(-0.10) and one["change_se"] == pytest.approx(0.05)
    # z = -2, p = 0.0455; the two categories are one family: BH gives 2 p = 0.091, not flagged
    assert one["p_value"] == pytest.approx(math.erfc(2 / math.sqrt(2)), rel=1e-12)
    assert one["p_adjusted"] == pytest.approx(2 * one["p_value"], rel=1e-12)
    assert one["family"] == "change:total:shares" and one["flag"] == ChangeFlag.UNCHANGED
    alone = WaveChange()(e.iloc[:1], l.iloc[:1]).iloc[0]
    assert alone["flag"] == ChangeFlag.DOWN


@pytest.mark.parametrize("make, message", [
    (lambda t: t.drop(columns=["mean_se"]), r"later table lacks column\(s\) \['mean_se'\].*tables\.csv"),
    (lambda t: pd.concat([t, t]), r"later table has row 1 twice for scope='K1', question='q'.*stable id"),
    (lambda t: t.assign(mean=["tre"]), r"later table, row 0, column 'mean': expected a number or empty, got 'tre'"),
])
def test_bad_tables_are_clear_errors(make, message):
    good = frame(cell(mean=3.0, se=0.1))
    with pytest.raises(ValueError, match=message):
        WaveChange()(good, make(good))


@pytest.mark.parametrize("kwargs, message", [
    ({"alpha": 1.5}, r"alpha must be a probability"),
    ({"adjustment": "bh"},
     r"adjustment must be one of 'holm', 'fdr_bh', 'bonferroni' \(survey\.yaml's comparison_testing\); got 'bh'"),
    ({"min_cell_size": 0}, r"min_cell_size must be a whole number >= 1"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WaveChange(**kwargs)


# ---- trend by hand ---------------------------------------------------------------------------------------
def simple_wave(values, kommune="K1"):
    f = pd.DataFrame({"kommune": kommune, "y": values})
    return design_from_arrays(f, np.ones(len(f)), f["kommune"])


def test_trend_slope_by_hand():
    # equal weights, means 3, 3.5, 4 at wave numbers 1, 2, 3: slope 0.5; the residuals are the
    # within-wave deviations, so the SE follows from them by hand
    waves = {"a": [2, 3, 4, 3], "b": [2.5, 3.5, 4.5, 3.5], "c": [3, 4, 5, 4]}
    st = stack_designs({k: simple_wave(v) for k, v in waves.items()})
    y = st.stack([np.array(v, float) for v in waves.values()])
    out = LinearTrend(min_cell_size=1)(st, {"y": y}, {"total": (np.zeros(12, int), [""])}, scopes=[])
    row = out.iloc[0]
    assert row["slope"] == pytest.approx(0.5, abs=1e-12)
    # x̄ = 2, Sxx = Σ (x - 2)² = 8 (four rows per wave); influence e_i = (x_i - 2)(y_i - ŷ_i) / 8 with
    # residuals -1, 0, 1, 0 in each wave; per wave (a stratum of 4 rows) the variance contribution is
    # 4/3 Σ (e_i - ē)²: wave 1 and 3: 4/3 · 2/64, wave 2: 0 -> v = 2 · 4/3 · 2/64 = 1/12
    assert row["slope_se"] == pytest.approx(math.sqrt(1 / 12), rel=1e-12)
    assert row["df"] == 12 - 3 - 1
    assert row["n_waves"] == 3 and row["waves"] == "a,b,c" and row["family"] == "trend"


def test_trend_needs_three_waves_and_minimum():
    waves = {"a": [2, 3, 4, 3], "b": [2.5, 3.5, 4.5, 3.5], "c": [3, 4]}
    st = stack_designs({k: simple_wave(v) for k, v in waves.items()})
    y = st.stack([np.array(v, float) for v in waves.values()])
    tot = {"total": (np.zeros(10, int), [""])}
    small = LinearTrend(min_cell_size=3)(st, {"y": y}, tot, scopes=[]).iloc[0]
    assert small["suppressed"] and np.isnan(small["slope"]) and small["flag"] == ChangeFlag.SUPPRESSED
    two = st.stack([np.array(waves["a"], float), np.array(waves["b"], float), np.full(2, np.nan)])
    row = LinearTrend(min_cell_size=1)(st, {"y": two}, tot, scopes=[]).iloc[0]
    assert row["not_computable"] == ChangeNotComputable.FEW_WAVES and np.isnan(row["p_value"])


def test_stacked_estimates_equal_each_waves_own(designs, stacked):
    for t, (w, d) in enumerate(designs.items()):
        y = d.frame["q1"].to_numpy(float)
        own = domain_estimates(d, y, np.zeros(d.n, int), 1)
        ys = stacked.stack([y if u == w else None for u in WAVES])
        both = domain_estimates(stacked.design, ys, np.zeros(stacked.design.n, int), 1)
        assert both.mean[0] == pytest.approx(own.mean[0], abs=1e-12)
        assert both.mean_se[0] == pytest.approx(own.mean_se[0], rel=1e-10)


def test_stack_errors(designs):
    with pytest.raises(ValueError, match=r"one distinct finite number per wave \(w1, w2, w3\)"):
        stack_designs(designs, wave_numbers=[1, 1, 2])
    plain = simple_wave([1.0, 2.0])
    with pytest.raises(ValueError, match=r"every wave is post-stratified or none is; without post-strata: x"):
        stack_designs({"w1": designs["w1"], "x": plain})
    with pytest.raises(ValueError, match=r"wave 'x' lacks column\(s\) \['koen'\]"):
        stack_designs({"w1": designs["w1"], "x": plain}, columns=("kommune", "koen"))


# ---- rank movement -----------------------------------------------------------------------------------------
def kommune_rows(means: dict[str, float], n: int = 100, se: float = 0.001) -> pd.DataFrame:
    return frame(*(cell(scope="all", question="q", breakdown="kommune", group=k, mean=m, se=se, n=n)
                   for k, m in means.items()))


def test_rank_movement_by_hand():
    e = kommune_rows({"A": 3.9, "B": 3.5, "C": 3.1, "D": 3.7})          # ranks A1 D2 B3 C4
    l = kommune_rows({"A": 3.4, "B": 3.8, "D": 3.6, "E": 3.0})          # ranks B1 D2 A3 E4
    raw = RankMovement(RankConfidence(draws=1000))(e, l)
    assert list(raw.columns) == RANK_MOVEMENT_COLUMNS
    out = raw.set_index("kommune")
    assert out.loc["A", "earlier_rank"] == 1 and out.loc["A", "later_rank"] == 3 and out.loc["A", "movement"] == -2
    assert out.loc["B", "movement"] == 2 and out.loc["D", "movement"] == 0
    assert pd.isna(out.loc["C", "later_rank"]) and out.loc["C", "later_label"] == "ikke med i runden"
    assert not out.loc["E", "panel"] and out.loc["A", "panel"]
    # SEs of 0.001: every set is the rank itself
    assert out.loc["B", "later_label"] == "nr. 1 af 4 (sikkert nr. 1)"
    panel = RankMovement(RankConfidence(draws=1000), panel_only=True)(e, l).set_index("kommune")
    assert panel.loc["A", "earlier_rank"] == 1 and panel.loc["A", "later_rank"] == 3   # among A, B, D
    assert panel.loc["A", "later_of"] == 3 and pd.isna(panel.loc["E", "later_rank"])
    assert panel.loc["E", "later_label"] == "ikke med i begge runder"


def test_stacked_raked_waves_keep_their_own_estimates(designs):
    raked = {}
    for w, d in designs.items():
        f = d.frame
        margins = [f["kommune"] + "/" + f["koen"], f["kommune"] + "/" + f["alder_band"]]
        raked[w] = design_from_arrays(f, d.weight, f["kommune"], margins=margins)
    st = stack_designs(raked)
    assert st.design.raking is not None
    for w, d in raked.items():
        y = d.frame["q2"].to_numpy(float)
        codes = pd.Categorical(d.frame["maalgruppe"], categories=["m1", "m2"]).codes.astype(int)
        own = domain_estimates(d, y, codes, 2)
        ys = st.stack([y if u == w else None for u in WAVES])
        cs = st.stack([codes if u == w else np.full(raked[u].n, -1) for u in WAVES])
        both = domain_estimates(st.design, ys, cs, 2)
        np.testing.assert_allclose(both.mean, own.mean, atol=1e-12)
        np.testing.assert_allclose(both.mean_se, own.mean_se, rtol=1e-10)


def test_trend_leaves_out_cells_suppressed_in_a_waves_table(stacked, tables):
    outcomes = {"q1": stacked.stack([wave_design(w).frame["q1"].to_numpy(float) for w in WAVES])}
    tot = {"total": (np.zeros(stacked.design.n, int), [""])}
    w2 = tables["w2"].copy()
    w2.loc[(w2["scope"] == "A") & (w2["question"] == "q1") & (w2["breakdown"] == "total"), "suppressed"] = True
    out = LinearTrend(min_cell_size=1)(stacked, outcomes, tot, scopes=["A", "B"],
                                       tables={"w1": tables["w1"], "w2": w2}).set_index("scope")
    assert out.loc["A", "suppressed"] and np.isnan(out.loc["A", "slope"])
    assert not out.loc["B", "suppressed"] and np.isfinite(out.loc["B", "p_value"])
    assert out.loc["B", "p_adjusted"] == out.loc["B", "p_value"]        # A is not in the family


def test_settings_from_params():
    from survey_lib.params import load_params
    params = load_params(Path(__file__).resolve().parents[1] / "params")
    wc, lt = WaveChange.from_params(params), LinearTrend.from_params(params)
    assert (wc.alpha, wc.adjustment, wc.min_cell_size) == (params.survey.significance_level,
                                                           params.survey.comparison_testing,
                                                           params.survey.min_cell_size)
    assert lt.adjustment == params.survey.comparison_testing


@pytest.mark.parametrize("raked", [False, True])
def test_trend_by_scope_equals_the_plain_domains(designs, raked):
    from survey_lib.change import trend_cells
    if raked:
        ds = {w: design_from_arrays(d.frame, d.weight, d.frame["kommune"],
                                    margins=[d.frame["kommune"] + "/" + d.frame["koen"],
                                             d.frame["kommune"] + "/" + d.frame["alder_band"]])
              for w, d in designs.items()}
    else:
        ds = designs
    st = stack_designs(ds, wave_numbers=NUMBERS)
    y = st.stack([d.frame["q1"].to_numpy(float) for d in ds.values()])
    full = st.design.frame
    codes = pd.Categorical(st.stack([d.frame["maalgruppe"].to_numpy(object) for d in ds.values()]),
                           categories=["m1", "m2"]).codes.astype(int)
    k = pd.Categorical(full["kommune"], categories=["A", "B", "C", "D"]).codes.astype(int)
    by_scope = trend_cells(st, y, codes, 2, k, 4)
    plain = trend_cells(st, y, np.where(codes >= 0, k * 2 + codes, -1), 8)
    np.testing.assert_allclose(by_scope.slope, plain.slope, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(by_scope.se, plain.se, rtol=1e-10, equal_nan=True)
    np.testing.assert_array_equal(by_scope.df, plain.df)
    np.testing.assert_array_equal(by_scope.wave_n, plain.wave_n)
