"""Sparse and degenerate tests against R (numbers in tests/reference/sparse_results.csv, made by
tests/reference/reference_sparse.R on the hand-made data of tests/reference/make_sparse_data.py;
CI needs no R).

Every table is tested three ways, which must agree: the single-table path (:func:`rao_scott` on the
municipality's own design), the batched path of the table set (:func:`scoped_covariance` for every
municipality at once, then :func:`rao_scott_batch`), and :func:`rao_scott_from_cells`. The reference
is R's ``svychisq`` where R computes the table after the project's row/column drop, and R's own
Rao–Scott formula with ``MASS::ginv`` where that table is still singular. Tolerance: 1e-9 absolute
or 1e-6 relative.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_lib.design import design_from_arrays
from survey_lib.inference import (NotComputable, rao_scott, rao_scott_batch, rao_scott_from_cells, wald_from_means,
                                  wald_means)
from survey_lib.scoped import scoped_covariance

REF = Path(__file__).resolve().parent / "reference"
REL, ABS = 1e-6, 1e-9
CASES = [("sparse1", scope, q) for scope in ("all", "K1", "K2", "K3") for q in ("y1", "y2", "y3", "y4", "y5", "y6")]
CASES += [("sparse2", "all", "y1")]
GROUPS = ["A", "B", "C"]


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    r = pd.read_csv(REF / "sparse_results.csv")
    return r.set_index(["dataset", "scope", "variable", "analysis", "term"])["value"]


def _design(name: str):
    resp = pd.read_csv(REF / "data" / f"{name}_respondents.csv")
    resp["g"] = resp["g"].fillna("")            # blank: no group
    pop = pd.read_csv(REF / "data" / f"{name}_population.csv").set_index("stratum")["Freq"]
    weight = resp["stratum"].map(pop / resp["stratum"].value_counts()).to_numpy(float)   # N_h / n_h
    return design_from_arrays(resp, weight, resp["kommune"], resp["stratum"])


@pytest.fixture(scope="module")
def designs():
    return {name: _design(name) for name in ("sparse1", "sparse2")}


def _group(design) -> np.ndarray:
    g = design.frame["g"].astype(str).to_numpy()
    return np.array([GROUPS.index(v) if v in GROUPS else -1 for v in g])


def _single(design, scope, q):
    """Single-table path on the scope's own design."""
    mask = np.ones(design.n, bool) if scope == "all" else (design.frame["kommune"] == scope).to_numpy()
    sub = design if scope == "all" else design.subset(mask)
    y, g = design.frame[q].to_numpy(float)[mask], _group(design)[mask]
    return rao_scott(sub, y, g), wald_means(sub, y, g)


def _batched(design, scope, q):
    """The table set's path: every municipality at once, all five categories x the groups with
    answers, rows and columns without weight dropped inside rao_scott_batch."""
    y, g = design.frame[q].to_numpy(float), _group(design)
    c_k = np.where((g >= 0) & ~np.isnan(y), g, -1)
    means = scoped_covariance(design, y, c_k, 3, "means")
    shares = scoped_covariance(design, y, np.where(c_k >= 0, (np.nan_to_num(y).astype(int) - 1) + 5 * c_k, -1),
                               15, "shares")
    s = list(design.stratum_labels).index(scope)
    present = np.flatnonzero(means.n[s] > 0)
    sel = np.array([cat + 5 * j for j in present for cat in range(5)])
    rs = rao_scott_batch(shares.mean[[s]][:, sel], shares.cov[[s]][:, sel][:, :, sel], 5, len(present),
                         means.rows[[s]] - 1, ["1", "2", "3", "4", "5"], [GROUPS[j] for j in present])[0]
    answered = int(((c_k >= 0) & (design.stratum == s)).sum())
    wd = wald_from_means(means.mean[s][present], means.cov[s][np.ix_(present, present)], answered - len(present))
    from_cells = rao_scott_from_cells(shares.mean[s][sel], shares.cov[s][np.ix_(sel, sel)], 5, len(present),
                                      means.rows[s] - 1, ["1", "2", "3", "4", "5"], [GROUPS[j] for j in present])
    return rs, wd, from_cells


def _get(ref, key, term, default=None):
    try:
        return float(ref[key + (term,)])
    except KeyError:
        return default


def _same(a, b):
    """Two paths give the same test (1e-9 relative) and the same record."""
    assert a.not_computable == b.not_computable
    for x, y in ((a.statistic, b.statistic), (a.df1, b.df1), (a.df2, b.df2), (a.p_value, b.p_value)):
        assert x == pytest.approx(y, rel=1e-9, abs=1e-12, nan_ok=True)


@pytest.mark.parametrize("name,scope,q", CASES)
def test_rao_scott_against_r(ref, designs, name, scope, q):
    design = designs[name]
    rs, _ = _single(design, scope, q)
    if scope != "all":
        batched, _, from_cells = _batched(design, scope, q)
        _same(rs, batched)
        _same(rs, from_cells)
        assert batched.adjustment == from_cells.adjustment
    rows = _get(ref, (name, scope, q, "levels"), "rows")
    if rows < 2:
        assert rs.not_computable == NotComputable.ONE_CATEGORY and np.isnan(rs.statistic)
        return
    if _get(ref, (name, scope, q, "raoscott_dropped"), "error") == 0:
        key = (name, scope, q, "raoscott_dropped")          # R's svychisq on the dropped table
    else:
        key = (name, scope, q, "raoscott_ginv")             # R's formula with MASS::ginv
    assert rs.not_computable == ""
    for term, got in (("F", rs.statistic), ("ndf", rs.df1), ("ddf", rs.df2), ("p", rs.p_value)):
        assert got == pytest.approx(_get(ref, key, term), rel=REL, abs=ABS), term
    # svychisq and the ginv formula agree wherever R can solve
    if key[3] == "raoscott_dropped":
        assert _get(ref, key, "F") == pytest.approx(_get(ref, key[:3] + ("raoscott_ginv",), "F"), rel=1e-9)
    rank = int(_get(ref, (name, scope, q, "raoscott_ginv"), "rank"))
    full = (rows - 1) * (_get(ref, (name, scope, q, "levels"), "cols") - 1)
    assert ("generaliseret invers" in rs.adjustment) == (rank < full)
    if rank < full:
        assert f"rang {rank} af {int(full)}" in rs.adjustment


def test_drop_is_recorded(designs):
    d = designs["sparse1"]
    rs, _ = _single(d, "all", "y1")              # category 5 chosen only by respondents without a group
    assert rs.adjustment == "uden vægt, udeladt: kategori 5"
    batched, _, _ = _batched(d, "K2", "y3")      # group C never answers in K2: left out before the batch
    assert "gruppe" not in batched.adjustment
    single, _ = _single(d, "K2", "y3")           # the single path sees C in the data and drops it
    assert single.adjustment == "uden vægt, udeladt: gruppe 2"
    assert single.statistic == pytest.approx(batched.statistic, rel=1e-9)


def test_near_singular_table_follows_r_solve(ref):
    """sparse2: a cell share of ~5e-9 makes the system ill-conditioned (R's rcond stored) but regular:
    R's svychisq solves it, and so does the project (no generalized inverse)."""
    rcond = _get(ref, ("sparse2", "all", "y1", "raoscott_ginv"), "rcond")
    assert 1e-12 < rcond < 1e-7
    rs, _ = _single(_design("sparse2"), "all", "y1")
    assert rs.adjustment == ""
    assert rs.statistic == pytest.approx(_get(ref, ("sparse2", "all", "y1", "raoscott_dropped"), "F"), rel=REL)


@pytest.mark.parametrize("name,scope,q", CASES)
def test_wald_against_r(ref, designs, name, scope, q):
    design = designs[name]
    _, wd = _single(design, scope, q)
    if scope != "all":
        _, batched, _ = _batched(design, scope, q)
        _same(wd, batched)
        assert wd.adjustment == batched.adjustment
    key = (name, scope, q, "wald_ginv")
    rank, outside = int(_get(ref, key, "rank")), _get(ref, key, "outside")
    if (name, scope, q) == ("sparse1", "K1", "y4"):
        # every answer alike: R's regTermTest reports F from rounding noise (V_beta ~ 1e-32); the
        # project's variances are exactly zero and the test is not computable
        assert _get(ref, (name, scope, q, "wald"), "error") == 0
        assert wd.not_computable == NotComputable.ALL_ALIKE and np.isnan(wd.statistic)
        return
    if outside > 1e-6:
        # groups without variation that differ (A all 5, B all 3): R stops; beta outside V_beta's range
        assert _get(ref, (name, scope, q, "wald"), "error") == 1
        assert wd.not_computable == NotComputable.ALIKE_GROUPS_DIFFER
        return
    assert wd.not_computable == ""
    assert wd.df1 == rank
    assert wd.df2 == pytest.approx(_get(ref, key, "ddf"))
    for term, got in (("F", wd.statistic), ("p", wd.p_value)):
        assert got == pytest.approx(_get(ref, key, term), rel=REL, abs=ABS), term
    if _get(ref, (name, scope, q, "wald"), "error") == 0:     # R's regTermTest where it computes
        assert wd.adjustment == ""
        for term, got in (("F", wd.statistic), ("df", wd.df1), ("ddf", wd.df2), ("p", wd.p_value)):
            assert got == pytest.approx(_get(ref, (name, scope, q, "wald"), term), rel=REL, abs=ABS), term
    else:
        assert wd.adjustment == f"generaliseret invers (rang {rank} af {len(GROUPS) - 1})"
