"""Confidence sets for ranks (survey_lib/ranks.py): against R's csranks, by simulated coverage, and
the table API (reporting minimum, labels, errors).

Reference numbers: tests/reference/ranks_results.csv, made by tests/reference/reference_ranks.R
(csranks 1.2.2.9001) from tests/reference/data/ranks_estimates.csv and ranks_covariance.csv
(written by make_ranks_inputs.py). Both sides simulate their critical values with different random
number generators, so:

- rank bounds are compared exactly: the cases were chosen so that R gives the same bounds for seeds
  1..5 (the R script checks it) and we for two seeds;
- single-step critical values are compared to R's mean over five seeds of 100 000 draws within
  4 Monte Carlo standard deviations of the difference (``4 * sqrt(1 + 1/5) * sd``, with ``sd`` the
  R seeds' standard deviation, at least 0.005).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from survey_lib.design import design_from_arrays
from survey_lib.estimate import domain_estimates
from survey_lib.ranks import RankConfidence, estimated_ranks, format_rank, means_and_covariance, rank_confidence_sets

REF = Path(__file__).resolve().parent / "reference"


def _cases():
    est = pd.read_csv(REF / "data" / "ranks_estimates.csv")
    cov = pd.read_csv(REF / "data" / "ranks_covariance.csv")
    out = {}
    for case, e in est.groupby("case", sort=False):
        p = len(e)
        c = cov[cov["case"] == case]
        S = np.zeros((p, p))
        S[c["row"] - 1, c["col"] - 1] = c["value"]
        out[case] = (e["unit"].tolist(), e["estimate"].to_numpy(float), S)
    return out


CASES = _cases()


@pytest.fixture(scope="module")
def ref():
    r = pd.read_csv(REF / "ranks_results.csv", keep_default_na=False)
    r["value"] = r["value"].astype(float)
    r["stepdown"] = r["stepdown"].astype(str).str.upper()
    return r


def test_estimated_ranks_rank_one_is_highest_and_ties_share_the_best():
    assert estimated_ranks(np.array([3.0, 5.0, 5.0, 1.0])).tolist() == [3, 1, 1, 4]


@pytest.mark.parametrize("seed", [20240101, 7])
@pytest.mark.parametrize("stepdown", [True, False])
@pytest.mark.parametrize("method", ["marginal", "simultaneous"])
@pytest.mark.parametrize("case", list(CASES))
def test_bounds_equal_csranks(ref, case, method, stepdown, seed):
    units, x, S = CASES[case]
    r = ref[(ref["case"] == case) & (ref["method"] == method) & (ref["stepdown"] == str(stepdown).upper())]
    got = rank_confidence_sets(x, S, simultaneous=method == "simultaneous", stepdown=stepdown, draws=20_000,
                               seed=seed)
    for q, ours in (("rank", got.rank), ("L", got.lower), ("U", got.upper)):
        theirs = r[r["quantity"] == q].set_index("unit")["value"].loc[units].to_numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"{case} {method} stepdown={stepdown} {q}")
    assert ((got.lower <= got.rank) & (got.rank <= got.upper)).all()


@pytest.mark.parametrize("case", list(CASES))
def test_single_step_critical_values_equal_csranks(ref, case):
    units, x, S = CASES[case]
    r = ref[(ref["case"] == case) & (ref["stepdown"] == "FALSE")]
    for method in ("marginal", "simultaneous"):
        got = rank_confidence_sets(x, S, simultaneous=method == "simultaneous", stepdown=False, draws=100_000)
        keys = units if method == "marginal" else [""]
        for key, steps in zip(keys, got.critical_values):
            sel = r[(r["method"] == method) & (r["unit"] == key)].set_index("quantity")["value"]
            tol = 4 * np.sqrt(1 + 1 / 5) * max(sel["critical_sd"], 0.005)
            assert len(steps) == 1
            assert steps[0] == pytest.approx(sel["critical_mean"], abs=tol), (case, method, key)


def test_stepdown_is_never_wider_than_single_step():
    for units, x, S in CASES.values():
        for simultaneous in (False, True):
            a = rank_confidence_sets(x, S, simultaneous=simultaneous, stepdown=True, draws=5000)
            b = rank_confidence_sets(x, S, simultaneous=simultaneous, stepdown=False, draws=5000)
            assert (a.lower >= b.lower).all() and (a.upper <= b.upper).all()
            m = rank_confidence_sets(x, S, simultaneous=False, stepdown=simultaneous, draws=5000)
            j = rank_confidence_sets(x, S, simultaneous=True, stepdown=simultaneous, draws=5000)
            assert (m.lower >= j.lower).all() and (m.upper <= j.upper).all()   # marginal inside simultaneous


# Coverage by simulation: true scores with ties and near-ties, estimates drawn from N(theta, S).
COVERAGE_REPS = 300
THETA = np.array([3.60, 3.55, 3.55, 3.50, 3.40, 3.40, 3.30, 3.10])
SE = np.array([0.05, 0.04, 0.06, 0.05, 0.03, 0.07, 0.05, 0.06])


def _coverage_floor(reps: int, nominal: float) -> int:
    """The smallest count of covered replications not significantly below nominal (one-sided
    binomial test at level 0.001)."""
    return int(stats.binom.ppf(0.001, reps, nominal))


@pytest.mark.parametrize("correlated", [False, True])
def test_coverage_at_least_nominal(correlated):
    """300 replications (seeded), 1 000 draws per critical value; marginal sets must cover each
    unit's true rank, simultaneous sets all true ranks jointly, at 95 % or above (not significantly
    below it at the 0.1 % level: at least 272 of 300). A set that ignores the uncertainty (the
    estimated rank alone) fails the same check, so the check can fail."""
    p = len(THETA)
    R = np.eye(p)
    if correlated:
        R = 0.5 * np.eye(p) + 0.5 * np.ones((p, p))      # equicorrelated 0.5
    S = np.outer(SE, SE) * R
    true_rank = estimated_ranks(THETA)
    rng = np.random.default_rng(15)
    draws = rng.multivariate_normal(THETA, S, size=COVERAGE_REPS)
    marginal_hits = np.zeros(p, dtype=int)
    joint_hits = point_hits = 0
    for rep, x in enumerate(draws):
        m = rank_confidence_sets(x, S, simultaneous=False, draws=1000, seed=rep)
        j = rank_confidence_sets(x, S, simultaneous=True, draws=1000, seed=rep)
        marginal_hits += (m.lower <= true_rank) & (true_rank <= m.upper)
        joint_hits += bool(((j.lower <= true_rank) & (true_rank <= j.upper)).all())
        point_hits += bool((m.rank == true_rank).all())
    floor = _coverage_floor(COVERAGE_REPS, 0.95)
    assert floor == 272
    assert (marginal_hits >= floor).all(), marginal_hits
    assert joint_hits >= floor, joint_hits
    assert point_hits < floor


def _table():
    return pd.DataFrame({
        "kommune": ["A", "B", "C", "D", "E", "F"],
        "estimate": [3.9, 3.1, 3.5, 3.8, np.nan, 3.95],
        "se": [0.03, 0.03, 0.03, 0.03, np.nan, 0.2],
        "n": [400, 300, 350, 320, 0, 10],
    })


def test_table_excludes_small_units_and_says_so():
    out = RankConfidence(draws=2000, min_n=30)(_table())
    assert out["ranked"].tolist() == [True, True, True, True, False, False]
    assert out["status"].tolist() == ["ranked"] * 4 + ["no_estimate", "below_min_n"]
    assert out["rank"].tolist()[:4] == [1, 4, 3, 2]          # F (3.95, 10 answers) is not ranked above A
    assert out["of"].tolist()[:4] == [4] * 4
    assert out["rank"].isna().tolist() == [False] * 4 + [True, True]
    assert out.loc[0, "label"] == "nr. 1 af 4 (sikkert nr. 1)"
    assert out.loc[4, "label"] == "ikke rangeret: intet estimat"
    assert out.loc[5, "label"] == "ikke rangeret: 10 svar (under 30)"
    # the ranked rows equal the direct computation on the four units
    direct = rank_confidence_sets(np.array([3.9, 3.1, 3.5, 3.8]), np.diag([0.03 ** 2] * 4), draws=2000)
    assert out["lower"].tolist()[:4] == direct.lower.tolist()
    assert out["upper"].tolist()[:4] == direct.upper.tolist()
    joint = rank_confidence_sets(np.array([3.9, 3.1, 3.5, 3.8]), np.diag([0.03 ** 2] * 4), draws=2000,
                                 simultaneous=True)
    assert out["upper_simultaneous"].tolist()[:4] == joint.upper.tolist()


def test_table_labels_with_uncertainty():
    units, x, S = CASES["diag13"]
    table = pd.DataFrame({"kommune": units, "estimate": x, "se": np.sqrt(np.diag(S)), "n": 100})
    out = RankConfidence(draws=2000)(table)
    row = out.iloc[int(np.argmax(out["upper"] - out["lower"]))]
    assert row["label"] == f"nr. {row['rank']} af 13 (sikkert mellem {row['lower']} og {row['upper']})"
    sim = RankConfidence(draws=2000, label_from="simultaneous")(table)
    assert sim["label"].str.contains(r"^nr\. \d+ af 13 \(sikkert").all()


def test_format_rank():
    assert format_rank(3, 13, 2, 7) == "nr. 3 af 13 (sikkert mellem 2 og 7)"
    assert format_rank(1, 13, 1, 1) == "nr. 1 af 13 (sikkert nr. 1)"
    with pytest.raises(ValueError, match=r"lower, upper, of: expected 1 <= lower <= upper <= of, got lower=5, upper=2"):
        format_rank(3, 13, 5, 2)
    with pytest.raises(ValueError, match=r"rank: expected a positive whole number, got 0"):
        format_rank(0, 13, 1, 2)


def test_errors_name_the_parameter():
    x, S = np.array([1.0, 2.0]), np.eye(2)
    with pytest.raises(ValueError, match=r"cov: expected a 2 x 2 covariance matrix .* got shape \(3, 3\)"):
        rank_confidence_sets(x, np.eye(3))
    with pytest.raises(ValueError, match=r"cov: every variance must be >= 0; got \[-1\.0\] at position\(s\) \[1\]"):
        rank_confidence_sets(x, np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"cov: the difference of units 0 and 1 has variance 0"):
        rank_confidence_sets(x, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"estimates: every value must be finite"):
        rank_confidence_sets(np.array([1.0, np.nan]), S)
    with pytest.raises(ValueError, match=r"coverage: expected a probability strictly between 0 and 1 .* got 95"):
        rank_confidence_sets(x, S, coverage=95)
    with pytest.raises(ValueError, match=r"draws: expected an integer >= 100 .* got 10"):
        rank_confidence_sets(x, S, draws=10)
    with pytest.raises(ValueError, match=r"cov: the difference of units 0 and 1 has variance 0"):
        rank_confidence_sets(x, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"min_n: expected a whole number >= 0 .* got -1"):
        RankConfidence(min_n=-1)
    with pytest.raises(ValueError, match=r"label_from: expected 'marginal' or 'simultaneous', got 'joint'"):
        RankConfidence(label_from="joint")
    with pytest.raises(ValueError, match=r"table: missing column\(s\) \['se'\]"):
        RankConfidence()(pd.DataFrame({"kommune": ["A"], "estimate": [1.0], "n": [40]}))
    with pytest.raises(ValueError, match=r"table: column 'kommune' must name each unit once; repeated: \['A'\]"):
        RankConfidence()(pd.DataFrame({"kommune": ["A", "A"], "estimate": [1.0, 2], "se": [1.0, 1], "n": [40, 40]}))


def test_a_unit_without_sampling_error_can_be_ranked():
    """Only the differences need a variance (a unit where everyone gave the same answer has se 0)."""
    got = rank_confidence_sets(np.array([3.0, 3.5, 4.0]), np.diag([0.0, 0.01, 0.01]), draws=2000)
    assert got.rank.tolist() == [3, 2, 1]
    assert got.lower.tolist() == [3, 2, 1] and got.upper.tolist() == [3, 2, 1]


def test_single_unit():
    out = RankConfidence(draws=200)(pd.DataFrame({"kommune": ["A", "B"], "estimate": [1.0, 2.0],
                                                  "se": [0.1, 0.1], "n": [40, 5]}))
    assert out.loc[0, "label"] == "nr. 1 af 1 (sikkert nr. 1)"


def _ref_design(name):
    resp = pd.read_csv(REF / "data" / f"{name}_respondents.csv")
    pop = pd.read_csv(REF / "data" / f"{name}_population.csv").set_index("stratum")["Freq"]
    weight = resp["stratum"].map(pop / resp["stratum"].value_counts()).to_numpy(float)
    return design_from_arrays(resp, weight, resp["kommune"], resp["stratum"])


@pytest.mark.parametrize("group", ["kommune", "maalgruppe", "tilknytning"])
def test_means_and_covariance_equal_the_domain_estimates(group):
    """The diagonal equals the R-checked domain standard errors; municipalities (strata) are
    independent, and so are groups made of whole post-strata (målgruppe: the post-stratified
    influence values add up to zero in each post-stratum); groups that cut across post-strata
    (tilknytning) are correlated."""
    d = _ref_design("ref2")
    labels, codes = np.unique(d.frame[group], return_inverse=True)
    y = d.frame["tilfredshed"].to_numpy(float)
    table, cov = means_and_covariance(d, y, codes, list(labels))
    est = domain_estimates(d, y, codes, len(labels))
    np.testing.assert_allclose(table["estimate"], est.mean, atol=1e-12)
    np.testing.assert_allclose(table["se"], est.mean_se, rtol=1e-10)
    assert table["n"].tolist() == est.n.tolist()
    off = cov[~np.eye(len(labels), dtype=bool)]
    if group in ("kommune", "maalgruppe"):
        assert np.abs(off).max() < 1e-15
    else:
        assert np.abs(off).max() > 1e-6
