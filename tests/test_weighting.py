"""Weighting methods on small data sets with answers known by hand."""

import re

import numpy as np
import pandas as pd
import pytest

from survey_lib.weighting import METHODS, WeightingError, WeightingSettings, compute_weights, trim_weights, weight_summary

CELLS = ("alder_band", "koen", "kommune", "maalgruppe")


def _frame(rows, status=None):
    df = pd.DataFrame(rows, columns=list(CELLS))
    df["status"] = status or ["complete"] * len(df)
    return df


def _pop(spec):
    """spec: list of (cell tuple, count)."""
    rows = [cell for cell, n in spec for _ in range(n)]
    return pd.DataFrame(rows, columns=list(CELLS))


A = ("under_30", "K", "Odder", "dagpenge")
B = ("30_49", "K", "Odder", "dagpenge")
C = ("50_plus", "K", "Odder", "dagpenge")
D = ("30_49", "M", "Odder", "dagpenge")


def test_strataratio_by_hand():
    pop = _pop([(A, 10), (B, 30), (D, 8)])
    resp = _frame([A, A, B, B, B, D], status=["complete", "partial", "complete", "complete", "complete", "complete"])
    r = compute_weights("poststratify", resp, pop, WeightingSettings(cells=CELLS))
    assert r.weights.tolist() == [5, 5, 10, 10, 10, 8]          # 10/2, 30/3, 8/1
    assert r.weights.sum() == len(pop)                           # weights add up to the population
    complete = compute_weights("poststratify", resp, pop, WeightingSettings(cells=CELLS, respondents="complete"))
    assert complete.weights.tolist() == [10, 10, 10, 10, 10, 8]  # the report's formula: complete answers only


def test_empty_cell_is_collapsed_into_neighbouring_age_band():
    pop = _pop([(A, 10), (B, 30), (C, 20), (D, 8)])
    resp = _frame([A, B, B, D])                                  # no respondent aged 50+
    r = compute_weights("poststratify", resp, pop, WeightingSettings(cells=CELLS))
    assert len(r.collapses) == 1
    log = r.collapses.iloc[0]
    assert log["cell"] == "50_plus/K/Odder/dagpenge" and log["merged_into"] == "30_49/K/Odder/dagpenge"
    assert log["rule"] == "neighbouring age band"
    assert r.weights.tolist() == [10, 25, 25, 8]                 # (30 + 20) / 2
    assert r.weights.sum() == len(pop)                           # no population lost
    assert r.strata["population"].sum() == len(pop)


def test_collapse_then_other_gender_then_other_maalgruppe():
    E = ("30_49", "M", "Odder", "sygedagpenge")
    pop = _pop([(A, 10), (D, 5), (E, 7)])
    resp = _frame([A, A])                                        # men and sygedagpenge have nobody
    r = compute_weights("poststratify", resp, pop, WeightingSettings(cells=CELLS))
    rules = r.collapses["rule"].tolist()
    assert "other gender" in rules and "other målgruppe in the municipality" in rules
    assert r.weights.tolist() == [11, 11]                        # (10 + 5 + 7) / 2


def test_min_respondents_collapses_small_cells():
    pop = _pop([(A, 10), (B, 30)])
    resp = _frame([A, B, B, B])
    r = compute_weights("poststratify", resp, pop, WeightingSettings(cells=CELLS, min_respondents=2))
    assert r.weights.tolist() == [10, 10, 10, 10]                # merged: 40 / 4


def test_municipality_without_respondents_is_an_error():
    pop = _pop([(A, 10), (("30_49", "K", "Ishøj", "dagpenge"), 5)])
    resp = _frame([A])
    with pytest.raises(WeightingError, match=r"municipality 'Ishøj' has fewer than 1 respondent\(s\) in all; .*"
                                             r"leaves such a municipality out; .*exclude_municipalities"):
        compute_weights("poststratify", resp, pop, WeightingSettings(cells=CELLS))


def test_respondent_outside_population_is_an_error():
    pop = _pop([(A, 10)])
    with pytest.raises(WeightingError, match="no population"):
        compute_weights("poststratify", _frame([A, B]), pop, WeightingSettings(cells=CELLS))


def test_unknown_method_names_allowed_values():
    with pytest.raises(WeightingError, match=re.escape("weighting.method must be one of ['poststratify', 'rake']; got 'ipf'")):
        compute_weights("ipf", _frame([A]), _pop([(A, 1)]), WeightingSettings(cells=CELLS))


def test_registry_methods_share_one_signature():
    import inspect
    sigs = {name: list(inspect.signature(fn).parameters) for name, fn in METHODS.items()}
    assert all(p == ["respondents", "population", "settings"] for p in sigs.values())


def test_raking_meets_every_margin():
    rng = np.random.default_rng(1)
    ages, genders, groups = ["under_30", "30_49", "50_plus"], ["K", "M"], ["dagpenge", "sygedagpenge"]
    pop = pd.DataFrame({"alder_band": rng.choice(ages, 600), "koen": rng.choice(genders, 600),
                        "kommune": "Odder", "maalgruppe": rng.choice(groups, 600)})
    resp = pop.sample(150, random_state=2).copy()
    resp["status"] = "complete"
    r = compute_weights("rake", resp, pop, WeightingSettings(cells=CELLS))
    for v in ("alder_band", "koen", "maalgruppe"):
        got = r.weights.groupby(resp[v]).sum()
        want = pop[v].value_counts().reindex(got.index)
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-8)


def test_trimming_caps_and_keeps_total():
    w = pd.Series([1.0, 1, 1, 1, 20])
    t, n_cut = trim_weights(w, max_ratio=3)
    assert n_cut == 1
    assert t.sum() == pytest.approx(w.sum())
    assert t.max() <= 3 * t.median() + 1e-9


def test_kish_design_effect_by_hand():
    s = weight_summary(pd.Series([1.0, 1.0, 2.0, 4.0]), pd.Series(["a", "a", "b", "b"]))
    row = s.set_index("kommune").loc["all"]
    # deff = n sum w^2 / (sum w)^2 = 4 * 22 / 64 = 1.375; n_eff = 64 / 22
    assert row["deff_kish"] == pytest.approx(1.375)
    assert row["n_effective"] == pytest.approx(64 / 22)
    assert s.set_index("kommune").loc["a", "deff_kish"] == pytest.approx(1.0)
