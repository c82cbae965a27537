"""Funnel plot limits (survey_lib/funnel.py, Spiegelhalter 2005) with hand-computed numbers.

z values: Phi^-1(0.975) = 1.959963985 and Phi^-1(0.999) = 3.090232306 (standard normal tables).
"""

import numpy as np
import pandas as pd
import pytest

from survey_lib.funnel import FunnelLimits

Z95, Z998 = 1.959963985, 3.090232306


def _table():
    # se = s / sqrt(n) with individual sd s = 1.0, 1.2, 0.8, 1.1
    return pd.DataFrame({
        "kommune": ["A", "B", "C", "D"],
        "estimate": [3.9, 3.5, 3.2, 3.62],
        "n": [25, 100, 400, 64],
        "se": [1.0 / 5, 1.2 / 10, 0.8 / 20, 1.1 / 8],
    })


def test_z_values():
    np.testing.assert_allclose(FunnelLimits().z_values(), [Z95, Z998], rtol=1e-9)


def test_limits_and_positions_by_hand():
    res = FunnelLimits(target=3.5, sigma=1.0)(_table())
    u = res.units.set_index("kommune")
    # A: n = 25 -> sigma / sqrt(n) = 0.2
    assert u.loc["A", "lower_95"] == pytest.approx(3.5 - Z95 * 0.2, abs=1e-9)
    assert u.loc["A", "upper_95"] == pytest.approx(3.891992797, abs=1e-9)
    assert u.loc["A", "upper_998"] == pytest.approx(4.118046461, abs=1e-9)
    # C: n = 400 -> 0.05
    assert u.loc["C", "lower_95"] == pytest.approx(3.402001801, abs=1e-9)
    assert u.loc["C", "lower_998"] == pytest.approx(3.345488385, abs=1e-9)
    # 3.9 > 3.8920 (outside 95) but < 4.1180; 3.2 < 3.3455 (outside 99.8); B and D (3.62 < 3.5 + 0.2450) inside
    assert u["position"].to_dict() == {"A": "outside_95", "B": "inside", "C": "outside_998", "D": "inside"}
    assert u["direction"].to_dict() == {"A": "above", "B": "", "C": "below", "D": ""}
    assert u.loc["A", "label"] == "over den øvre 95 %-grænse"
    assert u.loc["C", "label"] == "under den nedre 99,8 %-grænse"
    assert u.loc["B", "label"] == "inden for grænserne"
    assert (u["target"] == 3.5).all()
    assert res.target == 3.5 and res.sigma == 1.0


def test_default_target_and_pooled_sigma():
    res = FunnelLimits()(_table())
    # sum n y / sum n = (97.5 + 350 + 1280 + 231.68) / 589
    assert res.target == pytest.approx(1959.18 / 589, abs=1e-12)
    # sigma^2 = sum n (n se^2) / sum n = (25 * 1 + 100 * 1.44 + 400 * 0.64 + 64 * 1.21) / 589
    assert res.sigma == pytest.approx(np.sqrt(502.44 / 589), rel=1e-12)


def test_proportion():
    t = pd.DataFrame({"kommune": ["A", "B"], "estimate": [0.70, 0.85], "n": [100, 100]})
    res = FunnelLimits(outcome="proportion", target=0.8)(t)
    u = res.units.set_index("kommune")
    # sqrt(0.8 * 0.2 / 100) = 0.04
    assert u.loc["A", "lower_95"] == pytest.approx(0.8 - Z95 * 0.04, abs=1e-9)
    assert u.loc["A", "lower_998"] == pytest.approx(0.676390708, abs=1e-9)
    assert u["position"].to_dict() == {"A": "outside_95", "B": "inside"}
    assert res.sigma == pytest.approx(0.4)


def test_curves_are_tidy_and_follow_the_formula():
    res = FunnelLimits(target=3.5, sigma=1.0, grid_points=50)(_table())
    c = res.curves
    assert list(c.columns) == ["n", "level", "lower", "upper"]
    assert len(c) == 100
    assert c["n"].min() == pytest.approx(25) and c["n"].max() == pytest.approx(400)
    assert sorted(c["level"].unique()) == [0.95, 0.998]
    row = c[(c["level"] == 0.998)].iloc[-1]
    assert row["upper"] == pytest.approx(3.5 + Z998 / 20, abs=1e-9)
    np.testing.assert_allclose(c["upper"] - 3.5, 3.5 - c["lower"], atol=1e-12)


def test_units_without_estimate_have_no_position():
    t = _table()
    t.loc[1, "estimate"] = np.nan
    t.loc[3, "n"] = 0
    u = FunnelLimits(target=3.5, sigma=1.0)(t).units
    assert u["position"].tolist() == ["outside_95", "", "outside_998", ""]
    assert u["label"].tolist()[1] == "intet estimat"


def test_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"levels: expected increasing probabilities .* got \(0\.998, 0\.95\)"):
        FunnelLimits(levels=(0.998, 0.95))
    with pytest.raises(ValueError, match=r"outcome: expected 'mean' or 'proportion', got 'share'"):
        FunnelLimits(outcome="share")
    with pytest.raises(ValueError, match=r"sigma: expected a positive number or None, got -1"):
        FunnelLimits(sigma=-1)
    with pytest.raises(ValueError, match=r"table: missing column\(s\) \['se'\]"):
        FunnelLimits()(_table().drop(columns="se"))
    with pytest.raises(ValueError, match=r"table: column 'n' must be a number >= 0 for every unit; missing or negative for \['B'\]"):
        FunnelLimits(sigma=1.0)(_table().assign(n=[25, -1, 400, 64]))
    with pytest.raises(ValueError, match=r"target: a proportion's target must lie strictly between 0 and 1, got 1\.5"):
        FunnelLimits(outcome="proportion", target=1.5)
