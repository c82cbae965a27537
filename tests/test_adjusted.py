"""The adjusted comparison (survey_lib/adjusted.py) against R's survey package: svyglm with
contr.sum, svycontrast for the omitted municipality, regTermTest for the municipality term.

Numbers in tests/reference/adjusted_results.csv, made by tests/reference/reference_adjusted.R on the
data sets of tests/reference/data/ (CI needs no R). Tolerances: estimates and interval bounds 1e-9
absolute; standard errors, F statistics, degrees of freedom and p-values 1e-6 relative.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_lib.adjusted import AdjustedComparison
from survey_lib.design import design_from_arrays

REF = Path(__file__).resolve().parent / "reference"
QUESTIONS = ["tillid", "tilfredshed", "tro_paa_job"]
COVARIATES = ("maalgruppe", "alder_band", "koen", "tilknytning")
EST, REL = 1e-9, 1e-6


@pytest.fixture(scope="module")
def ref():
    r = pd.read_csv(REF / "adjusted_results.csv", keep_default_na=False)
    r["value"] = r["value"].astype(float)
    return r


def _design(name):
    resp = pd.read_csv(REF / "data" / f"{name}_respondents.csv")
    pop = pd.read_csv(REF / "data" / f"{name}_population.csv").set_index("stratum")["Freq"]
    weight = resp["stratum"].map(pop / resp["stratum"].value_counts()).to_numpy(float)
    return design_from_arrays(resp, weight, resp["kommune"], resp["stratum"])


@pytest.fixture(scope="module")
def designs():
    return {name: _design(name) for name in ("ref1", "ref2")}


def _values(ref, name, q, model):
    r = ref[(ref["dataset"] == name) & (ref["variable"] == q) & (ref["model"] == model)]
    return r.set_index(["term", "quantity"])["value"]


@pytest.mark.parametrize("q", QUESTIONS)
@pytest.mark.parametrize("name", ["ref1", "ref2"])
def test_matches_svyglm_contr_sum(ref, designs, name, q):
    res = AdjustedComparison(covariates=COVARIATES)(designs[name], q)
    for model, suffix, fit, joint in (("adjusted", "", res.fit, res.joint), ("raw", "_raw", res.fit_raw, res.joint_raw)):
        rv = _values(ref, name, q, model)
        # every coefficient, named variable[level]
        se = np.sqrt(np.diag(fit.vcov))
        r_terms = [t for t, qty in rv.index if qty == "ci_lower"]
        assert list(fit.terms) == r_terms
        for i, term in enumerate(fit.terms):
            assert fit.coef[i] == pytest.approx(rv[(term, "estimate")], abs=EST)
            assert se[i] == pytest.approx(rv[(term, "se")], rel=REL)
        if model == "adjusted":
            coefs = res.coefficients.set_index("term")
            for term in fit.terms:
                assert coefs.loc[term, "p_value"] == pytest.approx(rv[(term, "p")], rel=REL)
        assert fit.df_residual == rv[("", "df_residual")]
        # each municipality's effect, the last one by svycontrast
        eff = res.effects.set_index("kommune")
        for unit in eff.index:
            term = f"kommune[{unit}]"
            assert eff.loc[unit, f"effect{suffix}"] == pytest.approx(rv[(term, "estimate")], abs=EST)
            assert eff.loc[unit, f"se{suffix}"] == pytest.approx(rv[(term, "se")], rel=REL)
            if (term, "ci_lower") in rv.index:      # confint covers the coded levels
                assert eff.loc[unit, f"ci_lower{suffix}"] == pytest.approx(rv[(term, "ci_lower")], abs=EST)
                assert eff.loc[unit, f"ci_upper{suffix}"] == pytest.approx(rv[(term, "ci_upper")], abs=EST)
                assert eff.loc[unit, f"p_value{suffix}"] == pytest.approx(rv[(term, "p")], rel=REL)
        assert eff[f"effect{suffix}"].sum() == pytest.approx(0, abs=1e-12)
        # regTermTest(fit, ~kommune)
        assert joint.statistic == pytest.approx(rv[("kommune", "F")], rel=REL)
        assert joint.df1 == rv[("kommune", "df")]
        assert joint.df2 == rv[("kommune", "ddf")]
        assert joint.p_value == pytest.approx(rv[("kommune", "p")], rel=REL)


def test_the_omitted_level_is_a_coding_choice(designs):
    """Reversing the unit order (another omitted municipality) gives the same effects."""
    d = designs["ref2"]
    a = AdjustedComparison(covariates=COVARIATES)(d, "tilfredshed").effects.set_index("kommune")
    order = tuple(sorted(d.frame["kommune"].unique(), reverse=True))
    b = AdjustedComparison(covariates=COVARIATES, unit_order=order)(d, "tilfredshed").effects.set_index("kommune")
    assert list(b.index) == list(order)
    for col in ("effect", "se", "effect_raw", "se_raw", "p_value"):
        np.testing.assert_allclose(b.loc[a.index, col], a[col], rtol=1e-9, atol=1e-12)


def test_raw_effects_are_deviations_of_domain_means(designs):
    """Without covariates the effect is the municipality mean minus the average of the means."""
    from survey_lib.estimate import domain_estimates

    d = designs["ref1"]
    levels, codes = np.unique(d.frame["kommune"], return_inverse=True)
    est = domain_estimates(d, d.frame["tillid"].to_numpy(float), codes, len(levels))
    eff = AdjustedComparison(covariates=())(d, "tillid").effects.set_index("kommune")
    np.testing.assert_allclose(eff.loc[levels, "effect"], est.mean - est.mean.mean(), atol=1e-12)


def test_n_counts_the_answers_used(designs):
    d = designs["ref2"]
    eff = AdjustedComparison(covariates=COVARIATES)(d, "tro_paa_job").effects.set_index("kommune")
    expected = d.frame.dropna(subset=["tro_paa_job"]).groupby("kommune").size()
    assert eff["n"].to_dict() == expected.to_dict()


def test_errors_name_the_parameter(designs):
    d = designs["ref1"]
    with pytest.raises(ValueError, match=r"design\.frame: missing column\(s\) \['varighed_band'\]"):
        AdjustedComparison()(d, "tillid")
    with pytest.raises(ValueError, match=r"outcome: no column 'nope'"):
        AdjustedComparison(covariates=COVARIATES)(d, "nope")
    with pytest.raises(ValueError, match=r"outcome: expected 730 scores"):
        AdjustedComparison(covariates=COVARIATES)(d, np.ones(3))
    with pytest.raises(ValueError, match=r"coverage: expected a probability .* got 95"):
        AdjustedComparison(coverage=95)
    with pytest.raises(ValueError, match=r"covariates: expected a tuple of column names, got the string 'koen'"):
        AdjustedComparison(covariates="koen")
    with pytest.raises(ValueError, match=r"covariates: must not contain the unit column 'kommune'"):
        AdjustedComparison(covariates=("kommune",))
    with pytest.raises(ValueError, match=r"unit_order: expected every 'kommune' in the data, missing \['Syddjurs'\]"):
        AdjustedComparison(covariates=COVARIATES, unit_order=("Odder", "Ishøj"))(d, "tillid")


def test_collinear_covariates_are_named(designs):
    d = designs["ref1"]
    frame = d.frame.assign(kopi=d.frame["koen"])
    d2 = design_from_arrays(frame, d.weight, frame["kommune"], frame["stratum"])
    with pytest.raises(ValueError, match=r"covariates: the model cannot be estimated, the terms .*'koen\[K\]'.*'kopi\[K\]'.*collinear"):
        AdjustedComparison(covariates=("koen", "kopi"))(d2, "tillid")
