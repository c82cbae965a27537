"""The fast estimators equal the dense, R-verified one (tests/test_reference_r.py) on the twin."""

import numpy as np
import pytest

from survey_lib.demo import generate, write_dataset
from survey_lib.design import build_design
from survey_lib.estimate import domain_estimates, linearized_covariance
from survey_lib.inference import rao_scott, ttest_domains, wald_means
from survey_lib.load import load_survey
from survey_lib.scoped import complement_means, pooled_covariance, scoped_covariance
from survey_lib.tables import build_tables

MG = ["dagpenge", "sygedagpenge", "job_uddannelsesparate", "aktivitetsparate"]


@pytest.fixture(scope="module")
def design(tmp_path_factory, params):
    folder = tmp_path_factory.mktemp("est")
    write_dataset(generate(params, seed=5), folder)
    return build_design(load_survey(folder, params), params)


def _y(design, q="tillid"):
    v = design.frame[q].to_numpy(float, na_value=np.nan)
    return np.where(v <= 5, v, np.nan)


def _dense_cells(design, cells, C):
    return linearized_covariance(design, cells >= 0, (cells[:, None] == np.arange(C)[None, :]).astype(float))


def test_pooled_and_scoped_equal_dense(design):
    y = _y(design)
    g = design.stratum                                   # municipalities as groups: 13 x 5 = 65 cells
    cells = np.where(np.isnan(y), -1, (np.nan_to_num(y).astype(int) - 1) + 5 * g)
    C = 5 * len(design.stratum_labels)
    p, V = _dense_cells(design, cells, C)
    p2, V2, _ = pooled_covariance(design, y, cells, C, "shares")
    sc = scoped_covariance(design, y, cells, C, "shares", pooled=True)
    for pp, vv in ((p2, V2), (sc.mean[0], sc.cov[0])):
        np.testing.assert_allclose(pp, p, atol=1e-14)
        np.testing.assert_allclose(vv, V, atol=1e-16, rtol=1e-9)


def test_scoped_equals_municipality_design(design):
    y = _y(design)
    mg = np.array([MG.index(v) for v in design.frame["maalgruppe"]])
    cells = np.where(np.isnan(y), -1, (np.nan_to_num(y).astype(int) - 1) + 5 * mg)
    sc = scoped_covariance(design, y, cells, 20, "shares")
    means = scoped_covariance(design, y, np.where(np.isnan(y), -1, mg), 4, "means")
    for k in range(len(design.stratum_labels)):
        sub = design.subset(design.stratum == k)
        p, V = _dense_cells(sub, cells[design.stratum == k], 20)
        np.testing.assert_allclose(sc.mean[k], p, atol=1e-14)
        np.testing.assert_allclose(sc.cov[k], V, atol=1e-16, rtol=1e-9)
        yk, gk = y[design.stratum == k], mg[design.stratum == k]
        D = (gk[:, None] == np.arange(4)[None, :]) & ~np.isnan(yk)[:, None]
        m, Vm = linearized_covariance(sub, D, np.repeat(np.nan_to_num(yk)[:, None], 4, axis=1))
        np.testing.assert_allclose(means.mean[k], m, atol=1e-13)
        np.testing.assert_allclose(means.cov[k], Vm, atol=1e-16, rtol=1e-9)


def test_domain_estimates_by_stratum_equal_subset(design):
    y = _y(design, "tilfredshed")
    mg = np.array([MG.index(v) for v in design.frame["maalgruppe"]])
    est = domain_estimates(design, y, mg, 4, by_stratum=True)
    for k in (0, 5, 12):
        sub = design.subset(design.stratum == k)
        own = domain_estimates(sub, y[design.stratum == k], mg[design.stratum == k], 4)
        np.testing.assert_allclose(est.mean[k * 4:(k + 1) * 4], own.mean, atol=1e-13)
        np.testing.assert_allclose(est.mean_se[k * 4:(k + 1) * 4], own.mean_se, rtol=1e-9)
        np.testing.assert_allclose(est.share_se[k * 4:(k + 1) * 4], own.share_se, rtol=1e-9, atol=1e-15)


def test_complement_t_equals_dense_t(design):
    y = _y(design)
    mu, var = complement_means(design, y)
    est = domain_estimates(design, y, design.stratum, len(design.stratum_labels))
    for k in (0, 7):
        r = ttest_domains(design, y, design.stratum == k)
        t = (est.mean[k] - mu[k]) / np.sqrt(est.mean_se[k] ** 2 + var[k])
        assert t == pytest.approx(r.statistic, rel=1e-9)


def test_table_set_tests_equal_single_design_tests(design, params):
    ts = build_tables(design, params, scopes=["Odder", "Vejle"])
    y = _y(design)
    for name in ("Odder", "Vejle"):
        mask = (design.frame["kommune"] == name).to_numpy()
        sub = design.subset(mask)
        mg = np.array([MG.index(v) for v in design.frame["maalgruppe"][mask]])
        got = ts.tests[(ts.tests["scope"] == name) & (ts.tests["question"] == "tillid")
                       & (ts.tests["breakdown"] == "maalgruppe")].set_index("test")
        rs, wd = rao_scott(sub, y[mask], mg), wald_means(sub, y[mask], mg)
        assert got.loc["rao_scott", "statistic"] == pytest.approx(rs.statistic, rel=1e-9)
        assert got.loc["rao_scott", "df2"] == pytest.approx(rs.df2, rel=1e-9)
        assert got.loc["wald", "statistic"] == pytest.approx(wd.statistic, rel=1e-9)
        assert got.loc["wald", "p_value"] == pytest.approx(wd.p_value, rel=1e-6)
