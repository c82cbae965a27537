"""Ranks, funnel limits and the adjusted comparison on the project's own design (the synthetic
twin through build_design): the default columns exist and the pieces agree with each other."""

import numpy as np
import pandas as pd
import pytest

from survey_lib.adjusted import AdjustedComparison
from survey_lib.design import build_design
from survey_lib.estimate import domain_estimates
from survey_lib.funnel import FunnelLimits
from survey_lib.load import load_survey
from survey_lib.ranks import RankConfidence


@pytest.fixture(scope="module")
def design(twin_dir, params):
    return build_design(load_survey(twin_dir, params), params)


@pytest.fixture(scope="module")
def satisfaction(design):
    v = design.frame["tilfredshed"].to_numpy(float, na_value=np.nan)
    return np.where(v <= 5, v, np.nan)          # 'ved ikke' is not a score


@pytest.fixture(scope="module")
def table(design, satisfaction):
    est = domain_estimates(design, satisfaction, design.stratum, len(design.stratum_labels))
    return pd.DataFrame({"kommune": design.stratum_labels, "estimate": est.mean, "se": est.mean_se, "n": est.n})


def test_adjusted_comparison_with_the_default_composition(design, satisfaction, table):
    res = AdjustedComparison()(design, satisfaction)
    eff = res.effects.set_index("kommune")
    assert list(eff.index) == sorted(design.stratum_labels)
    assert eff["effect"].sum() == pytest.approx(0, abs=1e-12)
    assert {t.split("[")[0] for t in res.coefficients["term"]} == {
        "(Intercept)", "kommune", "maalgruppe", "alder_band", "koen", "varighed_band"}
    # the raw comparison is the municipality mean minus the average municipality mean
    means = table.set_index("kommune")["estimate"]
    np.testing.assert_allclose(eff["effect_raw"], (means - means.mean()).loc[eff.index], atol=1e-10)
    assert res.joint.df1 == len(eff) - 1
    assert eff["n"].sum() == int((~np.isnan(satisfaction)).sum())


def test_ranks_and_funnel_of_the_municipalities(table):
    ranked = RankConfidence(draws=2000)(table)
    assert ranked["ranked"].all() and (ranked["of"] == len(table)).all()
    assert sorted(ranked["rank"]) == list(range(1, len(table) + 1))
    assert ((ranked["lower"] <= ranked["rank"]) & (ranked["rank"] <= ranked["upper"])).all()
    assert ((ranked["lower_simultaneous"] <= ranked["lower"]) & (ranked["upper"] <= ranked["upper_simultaneous"])).all()
    funnel = FunnelLimits()(table).units
    assert funnel["position"].isin(["inside", "outside_95", "outside_998"]).all()
