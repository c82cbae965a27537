"""The collapse of weighting cells: a cell merges into a neighbouring age band that has respondents.

Every expected number is worked out by hand in the comments (population / respondents per merged cell).
"""

import pandas as pd

from survey_lib.weighting import WeightingSettings, compute_weights
from survey_lib.weighting.cells import cell_table, collapse_cells

CELLS = ["alder_band", "koen", "kommune", "maalgruppe"]
AGES4 = ["a_16_29", "b_30_39", "c_40_49", "d_50_plus"]


def _cells(spec):
    """spec: {age band: (population, respondents)} for women in dagpenge in Odder."""
    pop = [(age, "K", "Odder", "dagpenge") for age, (n, _) in spec.items() for _ in range(n)]
    resp = [(age, "K", "Odder", "dagpenge") for age, (_, r) in spec.items() for _ in range(r)]
    return pd.DataFrame(pop, columns=CELLS), pd.DataFrame(resp, columns=CELLS)


def test_empty_band_merges_into_the_neighbour_with_respondents_not_the_empty_one():
    # a: 10 people, 2 respondents; b and c: nobody answered; d: 40 people, 4 respondents.
    # b's neighbours are c (older, empty) and a (younger, respondents): b joins a.
    # c's neighbours are d (older, respondents) and b (now with a): c joins d.
    # Weights: {a, b} 30 / 2 = 15; {c, d} 70 / 4 = 17.5.  (Merging b into the empty c first, as the
    # code once did, gives a 10 / 2 = 5 and {b, c, d} 90 / 4 = 22.5.)
    pop, resp = _cells({"a_16_29": (10, 2), "b_30_39": (20, 0), "c_40_49": (30, 0), "d_50_plus": (40, 4)})
    resp["status"] = "complete"
    r = compute_weights("poststratify", resp, pop, WeightingSettings(cells=tuple(CELLS), age_order=tuple(AGES4)))
    assert r.weights.tolist() == [15, 15, 17.5, 17.5, 17.5, 17.5]
    assert r.weights.sum() == len(pop)
    merges = list(zip(r.collapses["cell"], r.collapses["merged_into"]))
    assert merges == [("b_30_39/K/Odder/dagpenge", "a_16_29/K/Odder/dagpenge"),
                      ("c_40_49/K/Odder/dagpenge", "d_50_plus/K/Odder/dagpenge")]
    assert set(r.collapses["rule"]) == {"neighbouring age band"}


def test_older_neighbour_first_when_both_have_respondents():
    # b has no respondent; a (younger) and c (older) both have: the older one, c, takes it.
    # {b, c} (20 + 30) / 5 = 10; a 10 / 2 = 5.
    pop, resp = _cells({"a_16_29": (10, 2), "b_30_39": (20, 0), "c_40_49": (30, 5)})
    table = cell_table(resp, pop, CELLS)
    labels, log = collapse_cells(table, CELLS, 1, AGES4)
    assert log[["cell", "merged_into"]].values.tolist() == [["b_30_39/K/Odder/dagpenge", "c_40_49/K/Odder/dagpenge"]]
    assert labels[table["alder_band"] == "b_30_39"].iloc[0] == labels[table["alder_band"] == "c_40_49"].iloc[0]


def test_run_of_empty_bands_walks_to_the_respondents():
    # Only d has respondents; a's only neighbour b is empty, so a joins b (no neighbour with
    # respondents: the first neighbour), {a, b} then joins c, and {a, b, c} joins d:
    # all 100 people on 4 respondents, 25 each.
    pop, resp = _cells({"a_16_29": (10, 0), "b_30_39": (20, 0), "c_40_49": (30, 0), "d_50_plus": (40, 4)})
    resp["status"] = "complete"
    r = compute_weights("poststratify", resp, pop, WeightingSettings(cells=tuple(CELLS), age_order=tuple(AGES4)))
    assert r.weights.tolist() == [25, 25, 25, 25]
    assert len(r.collapses) == 3


def test_min_respondents_above_one_prefers_a_neighbour_with_respondents():
    # min_respondents 3: b has 1 respondent and c none, both too few. b's older neighbour c has no
    # respondent, its younger a has 5: b joins a ({a, b}: 6). c's older neighbour d has 3: c joins d.
    # Groups {a, b} and {c, d}. (Into the empty c first: {b, c} has 1, then joins d: {a}, {b, c, d}.)
    pop, resp = _cells({"a_16_29": (10, 5), "b_30_39": (20, 1), "c_40_49": (30, 0), "d_50_plus": (40, 3)})
    table = cell_table(resp, pop, CELLS)
    labels, log = collapse_cells(table, CELLS, 3, AGES4)
    groups = table.assign(ps=labels).groupby("ps")["alder_band"].apply(sorted).tolist()
    assert sorted(groups) == [["a_16_29", "b_30_39"], ["c_40_49", "d_50_plus"]]
    assert len(log) == 2
