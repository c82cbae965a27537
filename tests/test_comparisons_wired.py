"""The rank confidence sets and the adjusted comparison as the engine writes them in
comparisons.csv (survey_lib/tables.py), against the library functions called directly.

- ``rank``, ``rank_low``, ``rank_high`` equal :class:`RankConfidence` (marginal sets, the engine's
  draws and seed, ``min_n`` = the reporting minimum) on the municipality estimates of the table set;
  its sets are checked against R ``csranks`` and by simulated coverage in tests/test_ranks.py.
- The vectorised marginal sets equal the one-unit-at-a-time computation exactly.
- ``adjusted_*`` equal :class:`AdjustedComparison` (checked against R ``svyglm`` with ``contr.sum`` in
  tests/test_adjusted.py), and the fast :func:`unit_effects` equals it on R's reference data.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_lib import ranks
from survey_lib.adjusted import DEFAULT_COVARIATES, AdjustedComparison, unit_effects
from survey_lib.design import build_design, design_from_arrays
from survey_lib.load import load_survey
from survey_lib.ranks import RankConfidence, rank_confidence_sets
from survey_lib.tables import (ADJUSTED_COLUMNS, COMPARISON_COLUMNS, RANK_DRAWS, RANK_SEED, TableInputs,
                               adjusted_outcomes, build_tables)

REF = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def twin(twin_dir, params):
    design = build_design(load_survey(twin_dir, params), params)
    return design, build_tables(design, params)


def _one_at_a_time(x, S, draws, seed, stepdown):
    """Each unit's marginal set by the per-unit path (one index set {j} at a time)."""
    var = np.diag(S)
    sd = np.sqrt(np.maximum(var[:, None] + var[None, :] - 2 * S, 0))
    sims = ranks._Draws(ranks._normal_factor(S), draws, seed)
    lo, up, steps = [], [], []
    for j in range(len(x)):
        interest = np.zeros(len(x), dtype=bool)
        interest[j] = True
        a, b, c = ranks._sets_for(x, sims, sd, interest, 0.95, stepdown)
        lo.append(a[j])
        up.append(b[j])
        steps.append(c)
    return np.array(lo), np.array(up), tuple(steps)


@pytest.mark.parametrize("stepdown", [True, False])
@pytest.mark.parametrize("correlated", [False, True])
def test_vectorised_marginal_sets_equal_one_unit_at_a_time(stepdown, correlated):
    rng = np.random.default_rng(7)
    p = 40
    x = rng.normal(3.5, 0.4, p)       # wide: later steps have few pairs left (the sparse path)
    se = rng.uniform(0.02, 0.12, p)
    S = np.diag(se ** 2)
    if correlated:
        A = rng.normal(size=(p, p)) * 0.01
        S = S + A @ A.T
    got = rank_confidence_sets(x, S, draws=1000, seed=3, stepdown=stepdown)
    lo, up, steps = _one_at_a_time(x, S, 1000, 3, stepdown)
    np.testing.assert_array_equal(got.lower, lo)
    np.testing.assert_array_equal(got.upper, up)
    assert got.critical_values == steps
    assert any(len(s) > 1 for s in steps) or not stepdown     # the stepdown took several steps


def test_ranks_in_comparisons_equal_rank_confidence(twin, params):
    design, ts = twin
    assert [c for c in COMPARISON_COLUMNS if c.startswith("rank")] == ["rank", "rank_low", "rank_high"]
    totals = ts.tables[(ts.tables["scope"] == "all") & (ts.tables["breakdown"] == "kommune")].drop_duplicates(
        ["question", "group"])
    kommuner = [k.name for k in params.kommuner]
    comp = ts.comparisons.set_index(["scope", "question"])
    checked = 0
    for qid, t_q in totals.groupby("question", sort=False):
        if qid not in set(ts.comparisons["question"]):
            continue
        t_q = t_q.set_index("group").reindex(kommuner).reset_index()
        table = pd.DataFrame({"kommune": t_q["group"], "estimate": t_q["mean"], "se": t_q["mean_se"],
                              "n": t_q["n"].fillna(0)})
        direct = RankConfidence(draws=RANK_DRAWS, seed=RANK_SEED, min_n=params.survey.reporting_minimum)(table)
        direct = direct.set_index("kommune")
        for scope in ("Odder", "Ishøj", "Vejle"):
            row = comp.loc[(scope, qid)]
            d = direct.loc[scope]
            if row["flag"] == "suppressed" or not d["ranked"]:
                assert np.isnan(row["rank"]) and np.isnan(row["rank_low"]) and np.isnan(row["rank_high"])
                continue
            assert (row["rank"], row["rank_low"], row["rank_high"]) == (d["rank"], d["lower"], d["upper"]), (scope, qid)
            assert row["n_municipalities"] == d["of"]
            checked += 1
    assert checked >= 40


def test_no_rank_below_the_reporting_minimum(twin, params):
    _, ts = twin
    c = ts.comparisons
    small = c[c["n"].astype("Float64").fillna(0) < params.survey.reporting_minimum]
    assert len(small), "the twin has cells below the reporting minimum (e.g. Odder, plan_uddannelse)"
    assert small[["rank", "rank_low", "rank_high"]].isna().all().all()
    big = c[(c["n"].astype("Float64").fillna(0) >= params.survey.reporting_minimum) & (c["flag"] != "suppressed")]
    assert ((big["rank_low"] <= big["rank"]) & (big["rank"] <= big["rank_high"])
            & (big["rank_high"] <= big["n_municipalities"])).all()


def test_adjusted_columns_equal_adjusted_comparison(twin, params):
    design, ts = twin
    inp = TableInputs.from_params(design, params, ["Odder"])
    outcomes = adjusted_outcomes(inp)
    themes = [q for q in outcomes if q.startswith("tema_")]
    assert themes and "tilfredshed" in outcomes     # theme scores, and the one-question theme's question
    comp = ts.comparisons.set_index(["scope", "question"])
    covariates = tuple(c for c in DEFAULT_COVARIATES if c in design.frame.columns)
    assert covariates == DEFAULT_COVARIATES
    for qid in outcomes:
        eff = AdjustedComparison(covariates=covariates)(design, inp.outcomes[qid]).effects.set_index("kommune")
        for scope in ("Odder", "Ishøj", "Vejle"):
            row = comp.loc[(scope, qid)]
            assert row["adjusted_difference"] == pytest.approx(eff.at[scope, "effect"], abs=1e-10)
            assert row["adjusted_ci_low"] == pytest.approx(eff.at[scope, "ci_lower"], abs=1e-10)
            assert row["adjusted_ci_high"] == pytest.approx(eff.at[scope, "ci_upper"], abs=1e-10)
            assert row["adjusted_p"] == pytest.approx(eff.at[scope, "p_value"], rel=1e-8, abs=1e-14)
    others = ts.comparisons[~ts.comparisons["question"].isin(outcomes)]
    assert others[ADJUSTED_COLUMNS[:-1]].isna().all().all() and (others["adjusted_flag"] == "").all()
    done = ts.comparisons[ts.comparisons["adjusted_p"].notna()]
    assert set(done["adjusted_flag"]) <= {"above", "below", "level"}
    sig = done["adjusted_p_adjusted"] < params.survey.significance_level
    assert ((done["adjusted_flag"] == "level") == ~sig).all()
    assert (done.loc[sig, "adjusted_flag"] == np.where(done.loc[sig, "adjusted_difference"] > 0, "above", "below")).all()
    assert (done["adjusted_p_adjusted"] >= done["adjusted_p"] - 1e-15).all()


@pytest.mark.parametrize("name", ["ref1", "ref2"])
def test_unit_effects_equal_adjusted_comparison_on_the_r_reference_data(name):
    resp = pd.read_csv(REF / "data" / f"{name}_respondents.csv")
    pop = pd.read_csv(REF / "data" / f"{name}_population.csv").set_index("stratum")["Freq"]
    weight = resp["stratum"].map(pop / resp["stratum"].value_counts()).to_numpy(float)
    design = design_from_arrays(resp, weight, resp["kommune"], resp["stratum"])
    covariates = ("maalgruppe", "alder_band", "koen", "tilknytning")
    units = sorted(resp["kommune"].astype(str).unique())
    codes = resp["kommune"].astype(str).map({u: i for i, u in enumerate(units)}).to_numpy()
    cov_codes = tuple(pd.factorize(resp[c].astype("string"))[0] for c in covariates)
    for q in ("tillid", "tilfredshed", "tro_paa_job"):
        slow = AdjustedComparison(covariates=covariates)(design, q).effects.set_index("kommune")
        fast = unit_effects(design, resp[q].to_numpy(float), codes, cov_codes)
        names = [units[i] for i in fast.units]
        np.testing.assert_allclose(fast.effect, slow.loc[names, "effect"], atol=1e-11)
        np.testing.assert_allclose(fast.se, slow.loc[names, "se"], rtol=1e-9)
        np.testing.assert_allclose(fast.ci_lower, slow.loc[names, "ci_lower"], atol=1e-10)
        np.testing.assert_allclose(fast.p_value, slow.loc[names, "p_value"], rtol=1e-8, atol=1e-15)
        assert fast.df == slow["df"].iloc[0]
        np.testing.assert_array_equal(fast.n, slow.loc[names, "n"])


def test_unit_effects_errors_name_the_argument(twin):
    design, _ = twin
    y = np.full(design.n, 3.0)
    with pytest.raises(ValueError, match=r"unit_codes: at least two units with answers"):
        unit_effects(design, y, np.zeros(design.n, dtype=int), ())


def test_unit_effects_general_path_equals_the_stratum_path(twin, params, monkeypatch):
    """Units that are not strata take the general path (n x G influence values); on the twin, where
    municipalities are strata, both paths give the same numbers."""
    from survey_lib import adjusted

    design, _ = twin
    inp = TableInputs.from_params(design, params, ["Odder"])
    codes = tuple(pd.factorize(design.frame[c].astype("string"))[0] for c in DEFAULT_COVARIATES)
    fast = unit_effects(design, inp.outcomes["tilfredshed"], inp.kom_codes, codes)
    monkeypatch.setattr(adjusted, "_unit_of_stratum", lambda design, unit: None)
    general = unit_effects(design, inp.outcomes["tilfredshed"], inp.kom_codes, codes)
    np.testing.assert_allclose(fast.se, general.se, rtol=1e-10)
    np.testing.assert_array_equal(fast.effect, general.effect)


def test_planted_extremes_are_flagged_over_and_under_raw_and_adjusted(twin):
    """The twin gives two municipalities the largest municipality effects on the latent satisfaction
    shared by all questions (+1 and -1; survey_lib/demo/generate.py, ``_kommune_effects``), calibrated
    to the 2023 report's most and least satisfied municipality (3.81 and 3.21 in overall satisfaction).
    They are picked here as the highest and lowest on overall satisfaction; since the effect is the
    municipality's own (not its citizens' composition), both the raw benchmark and the adjusted
    comparison must say 'over' / 'under' on overall satisfaction and on every theme score."""
    _, ts = twin
    c = ts.comparisons
    sat = c[c["question"] == "tilfredshed"].set_index("scope")
    top, bottom = sat["mean"].idxmax(), sat["mean"].idxmin()
    assert sat.at[top, "mean"] == pytest.approx(3.81, abs=0.02) and sat.at[bottom, "mean"] == pytest.approx(3.21, abs=0.02)
    rows = c[c["question"].str.startswith("tema_") | (c["question"] == "tilfredshed")]
    assert rows["question"].nunique() == 5
    for scope, word in ((top, "above"), (bottom, "below")):
        mine = rows[rows["scope"] == scope]
        assert (mine["flag"] == word).all(), mine[["question", "flag"]]
        assert (mine["adjusted_flag"] == word).all(), mine[["question", "adjusted_flag"]]
        # ranked first and last, and their rank sets reach the end of the ranking
        r = mine.set_index("question").loc["tilfredshed"]
        end = 1 if word == "above" else r["n_municipalities"]
        assert r["rank"] == end and (r["rank_low"] == end if word == "above" else r["rank_high"] == end)
