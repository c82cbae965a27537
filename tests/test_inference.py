"""Engine corners of the tests: one Rao–Scott code path, never a statistic below 0 or a df below 1,
degenerate tests, the checked ``mode``, and the multiple-testing adjustment (pure, thread safe).
R references for sparse tables are in tests/test_reference_sparse.py."""

import gc
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats import multitest

from survey_lib.design import design_from_arrays
from survey_lib.inference import (NotComputable, adjust_pvalues, rao_scott, rao_scott_batch, rao_scott_from_cells,
                                  wald_from_means, wald_means)
from survey_lib.scoped import pooled_covariance, scoped_covariance


def _design(seed: int, n: int = 240, sparse: bool = True):
    """Random small design: 4 municipalities x 2 post-strata, 3 groups, answers 1-5 with holes."""
    rng = np.random.default_rng(seed)
    kom = rng.choice(["K1", "K2", "K3", "K4"], size=n)
    sex = rng.choice(["k", "m"], size=n)
    g = rng.choice(3, size=n)
    y = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.05, 0.1, 0.25, 0.35, 0.25]).astype(float)
    y[rng.random(n) < 0.1] = np.nan
    if sparse:     # categories 1 and 2 never chosen in groups 0 and 1 (a singular block), 5 never in K4
        y[np.isin(g, [0, 1]) & np.isin(y, [1, 2])] = 3
        for k in ("K1", "K2", "K3"):                    # ... but chosen in group 2 (K4: maybe not)
            rows = np.flatnonzero((kom == k) & (g == 2))[:2]
            y[rows] = [1, 2][:len(rows)]
        y[(kom == "K4") & (y == 5)] = 4
    frame = pd.DataFrame({"kommune": kom, "stratum": [f"{a}/{b}" for a, b in zip(kom, sex)], "y": y, "g": g})
    pop = {s: 100 + 37 * i for i, s in enumerate(sorted(frame["stratum"].unique()))}
    w = frame["stratum"].map(lambda s: pop[s] / (frame["stratum"] == s).sum()).to_numpy(float)
    return design_from_arrays(frame, w, frame["kommune"], frame["stratum"]), y, g


@pytest.mark.parametrize("seed", range(6))
def test_one_code_path_batched_and_single(seed):
    """rao_scott (single table), rao_scott_from_cells and one rao_scott_batch call holding tables of
    different drop patterns give the same answer on the same table."""
    design, y, g = _design(seed)
    cells = np.where(np.isnan(y), -1, (np.nan_to_num(y).astype(int) - 1) + 5 * g)
    sc = scoped_covariance(design, y, cells, 15, "shares")
    K = len(design.stratum_labels)
    batch = rao_scott_batch(sc.mean, sc.cov, 5, 3, sc.rows - 1)
    for k in range(K):
        mask = design.stratum == k
        single = rao_scott(design.subset(mask), y[mask], g[mask])
        cells_k = rao_scott_from_cells(sc.mean[k], sc.cov[k], 5, 3, sc.rows[k] - 1)
        for r in (batch[k], cells_k):
            assert r.not_computable == single.not_computable
            assert r.adjustment == cells_k.adjustment
            for a, b in ((r.statistic, single.statistic), (r.df1, single.df1), (r.df2, single.df2),
                         (r.p_value, single.p_value)):
                assert a == pytest.approx(b, rel=1e-9, nan_ok=True)
    assert any("generaliseret invers" in r.adjustment for r in batch)          # the singular case arises
    assert any("kategori 5" in r.adjustment for r in batch)                    # and the drop (K4)


@pytest.mark.parametrize("seed", range(20))
def test_never_negative_statistic_or_df_below_one(seed):
    rng = np.random.default_rng(100 + seed)
    design, y, g = _design(seed, n=int(rng.integers(30, 120)))
    for res in (rao_scott(design, y, g), wald_means(design, y, g)):
        if res.not_computable:
            assert np.isnan(res.statistic) and np.isnan(res.p_value)
        else:
            assert res.statistic >= 0 and res.df1 >= 1 and res.df2 >= 1 and 0 <= res.p_value <= 1


def test_two_by_two_df_is_one_not_rounding_below():
    design, y, g = _design(3, sparse=False)
    keep = np.isin(y, [4, 5]) & (g < 2)
    res = rao_scott(design, np.where(keep, y, np.nan), np.where(keep, g, -1))
    assert res.df1 == 1.0 and res.not_computable == ""


def test_degenerate_every_answer_alike():
    """Every answer alike: not computable with the reason (not F = 0, p = 1), both tests, both paths;
    the group means' variances are exactly zero, not rounding noise."""
    design, y, g = _design(1, sparse=False)
    alike = np.where(np.isnan(y), np.nan, 4.0)
    rs, wd = rao_scott(design, alike, g), wald_means(design, alike, g)
    assert rs.not_computable == NotComputable.ONE_CATEGORY
    assert wd.not_computable == NotComputable.ALL_ALIKE
    assert np.isnan([rs.statistic, rs.p_value, wd.statistic, wd.p_value]).all()
    cells = np.where(np.isnan(alike), -1, g)
    means = scoped_covariance(design, alike, cells, 3, "means")
    assert (means.cov == 0).all()
    _, V, _ = pooled_covariance(design, alike, cells, 3, "means")
    assert (V == 0).all()
    for k in range(len(design.stratum_labels)):
        r = wald_from_means(means.mean[k], means.cov[k], 30)
        assert r.not_computable == NotComputable.ALL_ALIKE
    # groups alike within but different between: no variation within the groups
    between = np.where(np.isnan(y), np.nan, 3.0 + g)
    assert wald_means(design, between, g).not_computable == NotComputable.NO_VARIATION_WITHIN


def test_too_few_degrees_of_freedom():
    r = wald_from_means(np.array([3.0, 3.5]), np.array([[0.04, 0.0], [0.0, 0.05]]), 0)
    assert r.not_computable == NotComputable.TOO_FEW_DF


@pytest.mark.parametrize("fn", [scoped_covariance, pooled_covariance])
def test_mode_is_checked(fn):
    design, y, g = _design(0)
    with pytest.raises(ValueError, match=r"^\w+_covariance: parameter 'mode' must be one of 'shares', 'means'; "
                                         r"got 'mean'$"):
        fn(design, y, g, 3, "mean")


def _pvalues(rng, m):
    p = rng.random(m) ** 3
    p[rng.random(m) < 0.2] = p[0]                 # ties
    p[rng.random(m) < 0.1] = np.nan
    return p


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "bonferroni"])
def test_adjust_pvalues_equals_statsmodels(method):
    rng = np.random.default_rng(5)
    for m in (1, 2, 7, 60, 400):
        p = _pvalues(rng, m)
        ok = ~np.isnan(p)
        want = np.full(m, np.nan)
        if ok.any():
            want[ok] = multitest.multipletests(p[ok], method=method)[1]
        np.testing.assert_array_equal(adjust_pvalues(p, method), want)      # bit for bit
    assert np.isnan(adjust_pvalues(np.array([np.nan, np.nan]), method)).all()


def test_adjust_pvalues_touches_no_global_state():
    """No gc.collect (statsmodels' Holm runs one per call), so nothing to patch; the same answers
    from many threads at once."""
    rng = np.random.default_rng(9)
    inputs = [_pvalues(rng, 300) for _ in range(64)]
    with mock.patch("gc.collect", side_effect=AssertionError("gc.collect called")):
        serial = [adjust_pvalues(p, "holm") for p in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda p: adjust_pvalues(p, "holm"), inputs * 4))
    for a, b in zip(threaded, serial * 4):
        np.testing.assert_array_equal(a, b)
    assert gc.collect is not None


def test_adjust_pvalues_unknown_method():
    with pytest.raises(ValueError, match=r"method must be one of 'holm', 'fdr_bh', 'bonferroni'; got 'hommel'"):
        adjust_pvalues(np.array([0.1]), "hommel")


@pytest.fixture(scope="module")
def twin_design(twin_dir, params):
    from survey_lib.design import build_design
    from survey_lib.load import load_survey

    return build_design(load_survey(twin_dir, params), params)


def test_table_set_drops_and_records_like_the_single_path(twin_design, params):
    """The table set's batched path on the pilot twin (seed 2023): where a municipality's table has
    categories nobody chose, they are dropped and recorded, and the test equals the single-table path
    on the municipality's own design."""
    from survey_lib.tables import build_tables

    cases = {("Faaborg-Midtfyn", "koen"): "uden vægt, udeladt: kategori 2, kategori 5",
             ("Høje-Taastrup", "koen"): "uden vægt, udeladt: kategori 2"}
    ts = build_tables(twin_design, params, scopes=sorted({k for k, _ in cases}))
    assert list(ts.tests.columns[-2:]) == ["not_computable", "adjustment"]
    assert (ts.tests["not_computable"] == "").all()
    levels = [x.code for x in params.survey.genders]
    v = twin_design.frame["plan_uddannelse"].to_numpy(float, na_value=np.nan)
    y = np.where(v <= 5, v, np.nan)
    for (kommune, breakdown), note in cases.items():
        row = ts.tests[(ts.tests["scope"] == kommune) & (ts.tests["question"] == "plan_uddannelse")
                       & (ts.tests["breakdown"] == breakdown) & (ts.tests["test"] == "rao_scott")].iloc[0]
        assert row["adjustment"] == note
        mask = (twin_design.frame["kommune"] == kommune).to_numpy()
        g = pd.Categorical(twin_design.frame[breakdown].astype("string"), categories=levels).codes
        single = rao_scott(twin_design.subset(mask), y[mask], np.asarray(g)[mask])
        assert row["statistic"] == pytest.approx(single.statistic, rel=1e-9)
        assert row["df1"] == pytest.approx(single.df1, rel=1e-9)
        assert row["p_value"] == pytest.approx(single.p_value, rel=1e-9)
