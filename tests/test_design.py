"""The design object: its shared sums and stratum factor, raking margins (their backfitting against
a row-by-row transcription of R ``svyrecvar``'s loop) and the clip of zero standard errors."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from survey_lib.design import (PostStratumSums, RAKING_SWEEPS, build_design, design_from_arrays, stratum_factor)
from survey_lib.estimate import ZERO_VARIANCE_TOLERANCE, clip_rounding, domain_estimates, linearized_covariance
from survey_lib.load import load_survey


def test_stratum_factor():
    np.testing.assert_array_equal(stratum_factor(np.array([0, 1, 2, 5])), [0.0, 0.0, 2.0, 1.25])


def test_design_does_not_import_estimation():
    code = ("import sys, survey_lib.design; "
            "print(sorted(m for m in sys.modules if m in ('survey_lib.estimate', 'survey_lib.scoped')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _small(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    return pd.DataFrame({"kommune": rng.choice(["A", "B", "C"], n), "koen": rng.choice(["K", "M"], n),
                         "alder": rng.choice(["u30", "30_49", "50p"], n), "y": rng.integers(1, 6, n).astype(float)})


def test_post_stratum_sums_named_and_unpackable():
    f = _small(np.random.default_rng(1))
    d = design_from_arrays(f, np.full(len(f), 2.0), f["kommune"], f["kommune"] + f["koen"])
    s = d.post_stratum_sums
    assert isinstance(s, PostStratumSums) and s.adjust and s.n_blocks == 6
    h, H, adjust, s_of_h, n_h, A_h, B_h = s
    assert n_h.sum() == len(f) and A_h.sum() == 4 * len(f) and B_h.sum() == 2 * len(f)
    assert d.calibration_sums is s                      # not raked: the post-strata are the blocks


def _backfit_rows(frame: pd.DataFrame, margins: list[list[str]], E: np.ndarray) -> np.ndarray:
    """R svyrecvar's raking loop on rows: 10 times, for each margin, e <- e - ave(e, margin)."""
    E = E.copy()
    for _ in range(RAKING_SWEEPS):
        for m in margins:
            key = frame[m].astype(str).agg("/".join, axis=1)
            E = E - pd.DataFrame(E).groupby(key.to_numpy()).transform("mean").to_numpy()
    return E


@pytest.mark.parametrize("margins", [[["kommune", "koen"], ["kommune", "alder"]], [["koen"], ["alder"]]])
def test_raking_backfit_equals_row_by_row(margins):
    rng = np.random.default_rng(2)
    f = _small(rng)
    w = rng.uniform(1, 4, len(f))
    d = design_from_arrays(f, w, f["kommune"], margins=[f[m].astype(str).agg("/".join, axis=1) for m in margins])
    E = rng.normal(size=(len(f), 3)) * (rng.random((len(f), 3)) < 0.6)
    sums = d.calibration_sums
    blocks = np.zeros((sums.n_blocks, 3))
    np.add.at(blocks, sums.block, E)
    ours = E - d.block_means(blocks)[sums.block]
    np.testing.assert_allclose(ours, _backfit_rows(f, margins, E), atol=1e-13)
    assert d.margins_nested == (margins[0][0] == "kommune")


def test_design_either_post_stratified_or_raked():
    f = _small(np.random.default_rng(3))
    with pytest.raises(ValueError, match="give post_stratum or margins, not both"):
        design_from_arrays(f, np.ones(len(f)), f["kommune"], f["koen"], margins=[f["koen"]])


def test_zero_standard_errors_are_zero():
    """A domain where every answer is alike has variance 0; the sums leave rounding noise (the SE
    came out ~1e-9 before the clip); a domain that varies keeps its SE."""
    rng = np.random.default_rng(4)
    f = _small(rng, 600)
    f.loc[f["kommune"] == "A", "y"] = 3.0
    d = design_from_arrays(f, rng.uniform(1, 30, len(f)) * np.pi, f["kommune"], f["kommune"] + f["koen"] + f["alder"])
    y = f["y"].to_numpy()
    codes = np.unique(f["kommune"], return_inverse=True)[1]
    est = domain_estimates(d, y, codes, 3)
    assert est.mean_se[0] == 0.0 and (est.share_se[0] == 0.0).all()
    assert (est.mean_se[1:] > 0.01).all() and (est.share_se[1:] > 0.01).all()
    by = domain_estimates(d, y, np.unique(f["koen"], return_inverse=True)[1], 2, by_stratum=True)
    assert (by.mean_se[:2] == 0.0).all() and (by.mean_se[2:] > 0.01).all()
    D = (codes[:, None] == np.arange(3)[None, :])
    _, cov = linearized_covariance(d, D, np.repeat(y[:, None], 3, axis=1))
    assert (cov[0] == 0.0).all() and (cov[:, 0] == 0.0).all() and (np.diag(cov)[1:] > 1e-4).all()


def test_clip_rounding_threshold():
    scale = np.array([2.0, 2.0, 2.0])
    got = clip_rounding(np.array([ZERO_VARIANCE_TOLERANCE, 3 * ZERO_VARIANCE_TOLERANCE, -1e-20]), scale)
    np.testing.assert_array_equal(got, [0.0, 3 * ZERO_VARIANCE_TOLERANCE, 0.0])


@pytest.fixture(scope="module")
def raked(twin_dir, params):
    return build_design(load_survey(twin_dir, params), params, method="rake")


def test_build_design_carries_the_raking_margins(raked, params):
    cells = params.survey.weighting.cells
    assert raked.raking is not None and len(raked.raking.n_cells) == len([c for c in cells if c != "kommune"])
    assert raked.margins_nested and (raked.post_stratum == -1).all()
    y = raked.frame["tillid"].to_numpy(float, na_value=np.nan)
    y = np.where(y <= 5, y, np.nan)
    codes = np.unique(raked.frame["koen"].astype(str), return_inverse=True)[1]
    est = domain_estimates(raked, y, codes, 2, by_stratum=True)
    for k in (0, 6):       # a municipality's own raked design gives its by-stratum estimates
        sub = raked.subset(raked.stratum == k)
        own = domain_estimates(sub, y[raked.stratum == k], codes[raked.stratum == k], 2)
        np.testing.assert_allclose(est.mean_se[2 * k:2 * k + 2], own.mean_se, rtol=1e-9)
        np.testing.assert_allclose(est.share_se[2 * k:2 * k + 2], own.share_se, rtol=1e-9, atol=1e-15)
