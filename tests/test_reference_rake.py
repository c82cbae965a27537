"""Raked weights and their standard errors against R's survey package (numbers in
tests/reference/rake1_results.csv, made by tests/reference/reference_rake.R from the data that
tests/reference/make_rake_data.py wrote; CI needs no R).

The weights come from the project's raking (``weighting.rake``), the design from
``design.design_from_weighting`` as ``build_design`` makes it. Tolerances as in
tests/test_reference_r.py: estimates 1e-9 absolute; standard errors 1e-6 relative (1e-15 absolute
where R's SE is zero up to rounding).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_lib.design import design_from_weighting
from survey_lib.estimate import domain_estimates, linearized_covariance
from survey_lib.inference import rao_scott, rao_scott_from_cells, wald_from_means, wald_means
from survey_lib.scoped import complement_means, pooled_covariance, scoped_covariance
from survey_lib.weighting import WeightingSettings, compute_weights

REF = Path(__file__).resolve().parent / "reference"
QUESTIONS = ["tillid", "tilfredshed", "tro_paa_job", "ens"]
GROUPS = ["maalgruppe", "koen", "tilknytning", "kommune"]
EST, REL, ZERO = 1e-9, 1e-6, 1e-15
DATASETS = {"rake1": ("alder_band", "koen", "kommune", "maalgruppe"),    # raking within municipality
            "rake1nat": ("alder_band", "koen", "maalgruppe")}            # national margins


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    r = pd.read_csv(REF / "rake1_results.csv", keep_default_na=False)
    r["value"] = pd.to_numeric(r["value"].replace({"NaN": "nan", "NA": "nan"}), errors="coerce")
    return r


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    resp = pd.read_csv(REF / "data" / "rake1_respondents.csv")
    counts = pd.read_csv(REF / "data" / "rake1_population.csv")
    pop = counts.loc[counts.index.repeat(counts["Freq"])].drop(columns="Freq").reset_index(drop=True)
    return resp, pop


@pytest.fixture(scope="module", params=list(DATASETS))
def case(request, data, ref):
    resp, pop = data
    cells = DATASETS[request.param]
    result = compute_weights("rake", resp, pop, WeightingSettings(cells=cells))
    design = design_from_weighting(resp, result, cells)
    return request.param, design, ref[ref["dataset"] == request.param]


def value(ref, variable, analysis, group, term) -> float:
    sel = ref[(ref["variable"] == variable) & (ref["analysis"] == analysis) & (ref["group"] == group)
              & (ref["term"] == term)]
    assert len(sel) == 1, (variable, analysis, group, term)
    return float(sel["value"].iloc[0])


def se_close(got: float, want: float) -> bool:
    return got == pytest.approx(want, rel=REL, abs=ZERO, nan_ok=True)


def test_weights_equal_r(case):
    _, design, ref = case
    r = ref[ref["analysis"] == "weight"].set_index("group")["value"]
    ours = pd.Series(design.weight, index=design.frame["person_id"])
    np.testing.assert_allclose(ours[r.index].to_numpy(), r.to_numpy(), rtol=1e-8)
    assert design.raking is not None and len(design.raking.n_cells) == 3


@pytest.mark.parametrize("q", QUESTIONS)
def test_total_mean_and_shares(case, q):
    _, design, ref = case
    y = design.frame[q].to_numpy(float)
    est = domain_estimates(design, y, np.zeros(design.n, dtype=int), 1)
    assert est.mean[0] == pytest.approx(value(ref, q, "mean", "", "mean"), abs=EST)
    assert se_close(est.mean_se[0], value(ref, q, "mean", "", "se"))
    for k in range(1, 6):
        assert est.shares[0, 5 - k] == pytest.approx(value(ref, q, "share", "", f"share_{k}"), abs=EST)
        assert se_close(est.share_se[0, 5 - k], value(ref, q, "share", "", f"se_{k}")), k
    m, cov = linearized_covariance(design, ~np.isnan(y), np.nan_to_num(y))     # the dense path agrees
    assert m[0] == pytest.approx(est.mean[0], abs=EST)
    assert np.sqrt(cov[0, 0]) == pytest.approx(est.mean_se[0], rel=1e-10)


def check_groups(ref, q, g, labels, est):
    groups = ref[(ref["variable"] == q) & (ref["analysis"] == f"by_{g}")]["group"].unique()
    assert len(groups) > 0
    for grp in groups:
        j = labels.index(grp)
        assert est.mean[j] == pytest.approx(value(ref, q, f"by_{g}", grp, "mean"), abs=EST, nan_ok=True), grp
        assert se_close(est.mean_se[j], value(ref, q, f"by_{g}", grp, "se")), grp
        for k in range(1, 6):
            share = value(ref, q, f"shareby_{g}", grp, f"share_{k}")
            assert est.shares[j, 5 - k] == pytest.approx(share, abs=EST, nan_ok=True), (grp, k)
            assert se_close(est.share_se[j, 5 - k], value(ref, q, f"shareby_{g}", grp, f"se_{k}")), (grp, k)


@pytest.mark.parametrize("g", GROUPS)
@pytest.mark.parametrize("q", QUESTIONS)
def test_by_group(case, q, g):
    _, design, ref = case
    levels, codes = np.unique(design.frame[g].astype(str), return_inverse=True)
    est = domain_estimates(design, design.frame[q].to_numpy(float), codes, len(levels))
    check_groups(ref, q, g, list(levels), est)


@pytest.mark.parametrize("q", QUESTIONS)
def test_by_stratum(case, q):
    """Gender within every municipality (the tables' per-municipality breakdowns): within-municipality
    margins take the block path, national margins the stratum x group domains of the whole design."""
    name, design, ref = case
    assert design.margins_nested == (name == "rake1")
    levels, codes = np.unique(design.frame["koen"].astype(str), return_inverse=True)
    est = domain_estimates(design, design.frame[q].to_numpy(float), codes, len(levels), by_stratum=True)
    labels = [f"{s}|{g}" for s in design.stratum_labels for g in levels]
    check_groups(ref, q, "kommune_koen", labels, est)


def test_zero_se_is_zero(case):
    """``ens`` is 3 for every answer in the first municipality: R's SE there is rounding noise, ours 0."""
    _, design, ref = case
    first = "Syddjurs"
    assert abs(value(ref, "ens", "by_kommune", first, "se")) < 1e-14
    levels, codes = np.unique(design.frame["kommune"].astype(str), return_inverse=True)
    est = domain_estimates(design, design.frame["ens"].to_numpy(float), codes, len(levels))
    j = list(levels).index(first)
    assert est.mean[j] == pytest.approx(3.0, abs=EST) and est.mean_se[j] == 0.0
    assert (est.share_se[j] == 0.0).all()
    assert (est.mean_se[np.arange(len(levels)) != j] > 1e-3).all()


# ---- tests on raked designs (tests/reference/rake1_tests.csv, same R script) -------------------------
@pytest.fixture(scope="module")
def ref_tests() -> pd.DataFrame:
    r = pd.read_csv(REF / "rake1_tests.csv", keep_default_na=False)
    r["value"] = pd.to_numeric(r["value"].replace({"NaN": "nan", "NA": "nan"}), errors="coerce")
    return r


TEST_QUESTIONS = ["tillid", "tilfredshed", "tro_paa_job"]


def check_test(ref, q, kind, g, scope, res, terms) -> None:
    sel = ref[(ref["variable"] == q) & (ref["analysis"] == f"{kind}_{g}") & (ref["group"] == scope)]
    if sel.empty:
        pytest.skip("R's svychisq stops on this table (an empty category); no reference")
    want = sel.set_index("term")["value"]
    for term, got in zip(terms, (res.statistic, res.df1, res.df2, res.p_value)):
        assert got == pytest.approx(want[term], rel=REL), (term, got, want[term])


@pytest.mark.parametrize("g", ["maalgruppe", "koen", "kommune"])
@pytest.mark.parametrize("q", TEST_QUESTIONS)
def test_rao_scott_and_wald_on_the_raked_design_equal_r(case, ref_tests, q, g):
    """svychisq and regTermTest on the whole raked design: the covariance is linearised on the
    margins (within municipality and national)."""
    name, design, _ = case
    _, codes = np.unique(design.frame[g].astype(str), return_inverse=True)
    y = design.frame[q].to_numpy(float)
    ref = ref_tests[ref_tests["dataset"] == name]
    check_test(ref, q, "wald", g, "all", wald_means(design, y, codes), ("F", "df", "ddf", "p"))
    check_test(ref, q, "raoscott", g, "all", rao_scott(design, y, codes), ("F", "ndf", "ddf", "p"))


@pytest.mark.parametrize("g", ["maalgruppe", "koen"])
@pytest.mark.parametrize("q", TEST_QUESTIONS)
def test_tests_within_a_municipality_equal_r_on_its_own_raked_design(case, ref_tests, q, g):
    """The tables' path (scoped_covariance for every municipality at once) equals R on each
    municipality's own design raked to its own margins (margins within municipality)."""
    name, design, _ = case
    if name != "rake1":
        pytest.skip("with national margins a municipality's own design is not part of the raked design")
    levels, codes = np.unique(design.frame[g].astype(str), return_inverse=True)
    y = design.frame[q].to_numpy(float)
    G = len(levels)
    c_k = np.where(~np.isnan(y), codes, -1)
    means = scoped_covariance(design, y, c_k, G, "means")
    cells = np.where(c_k >= 0, (np.nan_to_num(y).astype(int) - 1) + 5 * c_k, -1)
    shares = scoped_covariance(design, y, cells, 5 * G, "shares")
    ref = ref_tests[ref_tests["dataset"] == name]
    checked = 0
    for s, k in enumerate(design.stratum_labels):
        present = np.flatnonzero(means.n[s] > 0)
        answered = int(((c_k >= 0) & (design.stratum == s)).sum())
        wald = wald_from_means(means.mean[s][present], means.cov[s][np.ix_(present, present)], answered - len(present))
        check_test(ref, q, "wald", g, str(k), wald, ("F", "df", "ddf", "p"))
        sel = np.array([cat + 5 * j for j in present for cat in range(5)])
        sel_ref = ref[(ref["variable"] == q) & (ref["analysis"] == f"raoscott_{g}") & (ref["group"] == str(k))]
        if len(sel_ref):
            rs = rao_scott_from_cells(shares.mean[s][sel], shares.cov[s][np.ix_(sel, sel)], 5, len(present),
                                      means.rows[s] - 1)
            check_test(ref, q, "raoscott", g, str(k), rs, ("F", "ndf", "ddf", "p"))
            checked += 1
    # every municipality's Wald test is checked; Rao–Scott where R could solve the table
    assert checked == ref[(ref["variable"] == q) & (ref["analysis"] == f"raoscott_{g}")
                          & (ref["group"] != "all")]["group"].nunique()


@pytest.mark.parametrize("mode", ["shares", "means"])
def test_the_sparse_pooled_path_equals_the_dense_one_on_raked_designs(case, mode):
    """pooled_covariance (sparse, for large tables) equals scoped_covariance(pooled=True) and
    linearized_covariance on a raked design."""
    _, design, _ = case
    y = design.frame["tillid"].to_numpy(float)
    levels, codes = np.unique(design.frame["maalgruppe"].astype(str), return_inverse=True)
    G = len(levels)
    if mode == "means":
        cells, C = np.where(~np.isnan(y), codes, -1), G
    else:
        cells, C = np.where(~np.isnan(y), (np.nan_to_num(y).astype(int) - 1) + 5 * codes, -1), 5 * G
    mean, V, _ = pooled_covariance(design, y, cells, C, mode)
    sc = scoped_covariance(design, y, cells, C, mode, pooled=True)
    np.testing.assert_allclose(mean, sc.mean[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(V, sc.cov[0], rtol=1e-8, atol=1e-14)
    ok = cells >= 0
    if mode == "shares":
        Y = np.zeros((design.n, C))
        Y[np.flatnonzero(ok), cells[ok]] = 1.0
        dom = ok
    else:
        dom = np.zeros((design.n, C), bool)
        dom[np.flatnonzero(ok), cells[ok]] = True
        Y = np.repeat(np.nan_to_num(y)[:, None], C, axis=1)
    m2, V2 = linearized_covariance(design, dom, Y)
    np.testing.assert_allclose(V, V2, rtol=1e-8, atol=1e-14)


def test_the_t_test_against_the_others_uses_the_margins(case):
    """complement_means on a design raked within municipality equals the linearised variance of the
    others' mean (linearized_covariance on the domain 'not in k', margins included)."""
    name, design, _ = case
    if name != "rake1":
        pytest.skip("national margins: the others' variance takes the strata only (docs/methods.md)")
    y = design.frame["tillid"].to_numpy(float)
    mu, var = complement_means(design, y)
    for s in range(len(design.stratum_labels)):
        dom = ~np.isnan(y) & (design.stratum != s)
        m, V = linearized_covariance(design, dom, np.nan_to_num(y))
        assert mu[s] == pytest.approx(m[0], abs=EST)
        assert var[s] == pytest.approx(V[0, 0], rel=1e-9)
