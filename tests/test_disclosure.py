"""Disclosure control: primary and secondary suppression, known by hand, and an attacker's check on
the twin's published tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from survey_lib.privacy.disclosure import apply_suppression, secondary_suppression

MIN = 5


def cells(rows):
    f = pd.DataFrame(rows, columns=["scope", "question", "breakdown", "group", "n"])
    f["suppressed"] = f["n"] < MIN
    return f


def flags(result):
    return dict(zip(zip(result.cells["scope"], result.cells["breakdown"], result.cells["group"]),
                    result.cells["suppressed"]))


def test_one_suppressed_group_takes_the_smallest_other_with_it():
    r = secondary_suppression(cells([
        ("Odder", "q", "total", "", 20), ("Odder", "q", "koen", "K", 12), ("Odder", "q", "maalgruppe", "a", 12),
        ("Odder", "q", "maalgruppe", "b", 5), ("Odder", "q", "maalgruppe", "c", 3), ("Odder", "q", "koen", "M", 8),
    ]), MIN, ["Odder"])
    f = flags(r)
    assert f[("Odder", "maalgruppe", "c")] and f[("Odder", "maalgruppe", "b")]     # 20-12-5 would give c
    assert not f[("Odder", "maalgruppe", "a")] and not f[("Odder", "koen", "K")]
    log = r.log.set_index("group")
    assert log.loc["c", "reason"] == "primary" and log.loc["b", "reason"] == "secondary"
    assert log.loc["b", "line"] == "Odder: maalgruppe mod i alt"
    assert "n" not in r.log.columns                                            # the log holds no counts


def test_unpublished_remainder_counts_as_a_hidden_cell():
    # 2 respondents belong to no group: total minus the groups would give them away
    r = secondary_suppression(cells([
        ("Odder", "q", "total", "", 20), ("Odder", "q", "koen", "K", 10), ("Odder", "q", "koen", "M", 8),
    ]), MIN, ["Odder"])
    # M goes (20 - 10 - 8 = 2 < 5), and then K, so that M is not the line's only suppressed cell
    assert flags(r)[("Odder", "koen", "M")] and flags(r)[("Odder", "koen", "K")]


@pytest.mark.parametrize("parts, expected", [
    ([20, 0], [False, True]),          # an empty group gives nothing away
    ([10, 5, 5], [False, False, False]),
    ([1, 1, 18], [True, True, True]),  # 1 + 1 < 5: a third cell is needed
    ([3, 3, 14], [True, True, False]),  # 3 + 3 >= 5 and two cells hidden: safe
    ([3, 6, 14], [True, True, False]),  # never a lone suppressed cell
])
def test_the_recoverable_remainder_is_zero_or_at_least_the_minimum(parts, expected):
    rows = [("Odder", "q", "total", "", sum(parts))] + [("Odder", "q", "b", str(i), n) for i, n in enumerate(parts)]
    r = secondary_suppression(cells(rows), MIN, ["Odder"])
    assert [flags(r)[("Odder", "b", str(i))] for i in range(len(parts))] == expected


def test_differencing_across_municipalities_and_the_shared_total():
    # the whole survey's målgruppe a (30) minus Ishøj's (27) would give Odder's (3)
    r = secondary_suppression(cells([
        ("all", "q", "total", "", 100), ("all", "q", "maalgruppe", "a", 30), ("all", "q", "maalgruppe", "b", 70),
        ("all", "q", "kommune", "Odder", 40), ("all", "q", "kommune", "Ishøj", 60),
        ("Odder", "q", "total", "", 40), ("Odder", "q", "maalgruppe", "a", 3), ("Odder", "q", "maalgruppe", "b", 37),
        ("Ishøj", "q", "total", "", 60), ("Ishøj", "q", "maalgruppe", "a", 27), ("Ishøj", "q", "maalgruppe", "b", 33),
    ]), MIN, ["Odder", "Ishøj"])
    f = flags(r)
    assert f[("Odder", "maalgruppe", "a")] and f[("Odder", "maalgruppe", "b")]     # within Odder
    assert f[("Ishøj", "maalgruppe", "a")]                                        # across municipalities
    assert f[("Ishøj", "maalgruppe", "b")]                                        # ... and then within Ishøj
    assert not f[("all", "maalgruppe", "a")]
    # the same number in two places is suppressed in both
    r2 = secondary_suppression(cells([
        ("all", "q", "total", "", 100), ("all", "q", "kommune", "Odder", 3), ("all", "q", "kommune", "Ishøj", 97),
        ("Odder", "q", "total", "", 3), ("Ishøj", "q", "total", "", 97),
    ]), MIN, ["Odder", "Ishøj"])
    f2 = flags(r2)
    assert f2[("all", "kommune", "Odder")] and f2[("Odder", "total", "")] and f2[("all", "kommune", "Ishøj")]
    assert f2[("Ishøj", "total", "")]


def test_apply_blanks_every_number_of_a_suppressed_cell():
    t = pd.DataFrame({"scope": ["Odder"] * 2, "question": "q", "breakdown": "b", "group": ["x", "y"],
                      "category": "5", "n": [3, 9], "category_n": [1, 4], "dont_know_n": [0, 1],
                      "weighted_n": [30.0, 90.0], "share": [0.33, 0.44], "share_se": [0.1, 0.1], "mean": [4.0, 3.0],
                      "mean_se": [0.2, 0.2], "mean_ci_low": [3.6, 2.6], "mean_ci_high": [4.4, 3.4],
                      "suppressed": [True, False]})
    c = t[["scope", "question", "breakdown", "group", "suppressed"]]
    out = apply_suppression(t, c)
    assert out.iloc[0][["n", "category_n", "dont_know_n", "weighted_n", "share", "mean", "mean_ci_high"]].isna().all()
    assert out.iloc[1]["n"] == 9 and out.iloc[1]["mean"] == 3.0


def test_no_suppressed_count_can_be_recovered_from_the_twins_published_tables(params, tmp_path_factory):
    """An attacker's view: from the published numbers only, subtract parts from totals; every
    remainder must be 0 or at least the minimum."""
    from survey_lib.demo import generate, write_dataset
    from survey_lib.design import build_design
    from survey_lib.load import load_survey
    from survey_lib.tables import build_tables

    import shutil

    import yaml

    from survey_lib.params import load_params

    folder = tmp_path_factory.mktemp("twin")
    data = generate(params, seed=7, scale=0.01)          # a small national twin: many small groups
    write_dataset(data, folder / "data")
    for name in ("questionnaire.yaml", "survey.yaml", "freetext.yaml"):
        shutil.copyfile(Path(params.sources["survey"]).parent / name, folder / name)
    (folder / "kommuner.yaml").write_text(yaml.safe_dump({"kommuner": data.kommuner}, allow_unicode=True))
    p = load_params(folder)
    # the published tables alone (their tests play no part in what can be subtracted)
    ts = build_tables(build_design(load_survey(folder / "data", p), p), p, tests=False)
    pub = ts.tables.drop_duplicates(["scope", "question", "breakdown", "group"])
    assert (ts.suppression_log["reason"] == "secondary").any()      # the case arises on a small twin
    n = {k: v for k, v in zip(zip(pub["scope"], pub["question"], pub["breakdown"], pub["group"]), pub["n"])}
    kommuner = [k.name for k in p.kommuner]
    checked = 0
    for (scope, q, b), part in pub[pub["breakdown"] != "total"].groupby(["scope", "question", "breakdown"]):
        total = n.get((scope, q, "total", ""))
        if total is pd.NA or total is None:
            continue
        rest = total - part["n"].fillna(0).sum()
        assert rest == 0 or rest >= MIN, (scope, q, b, rest)
        checked += 1
    for (q, b, g), part in pub[pub["scope"].isin(kommuner) & (pub["breakdown"] != "kommune")].groupby(
            ["question", "breakdown", "group"]):
        total = n.get(("all", q, b, g))
        if total is pd.NA or total is None:
            continue
        rest = total - part["n"].fillna(0).sum()
        assert rest == 0 or rest >= MIN, (q, b, g, rest)
        checked += 1
    assert checked > 1000


# ---- counts beside the tables ------------------------------------------------------------------------

def test_scope_counts_and_their_suppression_by_hand():
    from survey_lib.privacy.disclosure import count_suppression, scope_counts, withheld_groups

    units = pd.DataFrame({"kommune": ["A"] * 13 + ["B"] * 12,
                          "mg": ["x"] * 3 + ["y"] * 10 + ["x"] * 6 + ["y"] * 6,
                          "responded": [True] * 25})
    counts = scope_counts(units, ["mg"], ["A", "B"], count="responded")
    got = {(s, b, g): n for s, b, g, n in counts.itertuples(index=False)}
    assert got == {("all", "total", ""): 25, ("all", "mg", "x"): 9, ("all", "mg", "y"): 16,
                   ("A", "total", ""): 13, ("A", "mg", "x"): 3, ("A", "mg", "y"): 10,
                   ("B", "total", ""): 12, ("B", "mg", "x"): 6, ("B", "mg", "y"): 6}
    sup = count_suppression(counts, MIN, ["A", "B"])
    # A's x (3) is primary; A's y would give it back (13 - 10); B's x would give it back across
    # municipalities (9 - 6); then B's y (12 - 6)
    assert withheld_groups(sup, "A") == {"mg": frozenset({"x", "y"})}
    assert withheld_groups(sup, "B") == {"mg": frozenset({"x", "y"})}
    assert withheld_groups(sup, "all") == {}


def test_strata_publish_no_count_below_the_minimum():
    from survey_lib.privacy.disclosure import suppress_strata

    strata = pd.DataFrame({"post_stratum": ["a", "b", "c", "d"], "kommune": ["Odder"] * 3 + ["Vejle"],
                           "population": [40, 50, 60, 70], "respondents": [3, 7, 9, 12],
                           "weight": [40 / 3, 50 / 7, 60 / 9, 70 / 12]})
    out = suppress_strata(strata, MIN)
    # 'a' (3) primary; Odder's 19 respondents minus b and c would give a back: b (the smaller) too
    assert out["suppressed"].tolist() == [True, True, False, False]
    assert out.loc[:1, ["respondents", "weight"]].isna().all().all()
    assert out.loc[2:, "respondents"].tolist() == [9, 12] and out["population"].tolist() == [40, 50, 60, 70]
    assert suppress_strata(out, MIN) is out


def test_non_response_tables_publish_no_count_of_a_suppressed_group(twin_dir, params, tmp_path):
    """The red team's case: dagpenge in Odder with 3 respondents. response_rates.csv, the other
    non-response tables and strata.csv beside the tables publish no count of it (nor of the group
    that would give it back by subtraction)."""
    import dataclasses

    from survey_lib import nonresponse as nr
    from survey_lib.atomic import atomic_folder
    from survey_lib.export import write_csvs
    from survey_lib.load import load_survey

    data = load_survey(twin_dir, params)
    kommune_of = data.population.set_index("person_id")[["kommune", "maalgruppe"]]
    who = kommune_of.reindex(data.responses["person_id"])
    group = ((who["kommune"] == "Odder") & (who["maalgruppe"] == "dagpenge")).to_numpy()
    assert group.sum() > 3
    drop = group.copy()
    drop[pd.Series(group).to_numpy().nonzero()[0][:3]] = False
    data3 = dataclasses.replace(data, responses=data.responses[~drop].reset_index(drop=True))
    rep = nr.nonresponse_report(data3, params, kommune="Odder")
    rep = rep.frames() if hasattr(rep, "frames") else rep          # a dict of tables, or the report type
    rates = rep["response_rates"].set_index(["variable", "category"])
    assert rates.loc[("maalgruppe", "dagpenge"), "sampled"] > 3                 # sampled: the design
    assert rates.loc[("maalgruppe", "dagpenge"), ["complete", "partial", "none", "response_rate"]].isna().all()
    assert rates.loc["maalgruppe", "suppressed"].sum() >= 2                     # and its partner
    svr = rep["sample_vs_respondents"].set_index(["variable", "category"])
    assert pd.isna(svr.loc[("maalgruppe", "dagpenge"), "respondents_n"])
    curve = rep["response_curve"]
    assert curve.loc[(curve["by"] == "maalgruppe") & (curve["group"] == "dagpenge"), "responses"].isna().all()
    strata = rep["strata"]
    shown = pd.to_numeric(strata["respondents"], errors="coerce")
    assert (shown.dropna() >= params.survey.min_cell_size).all()
    assert strata.loc[strata["maalgruppe"] == "dagpenge", "respondents"].isna().all()
    # as written: no count 3 for the group anywhere in response_rates.csv
    with atomic_folder(tmp_path / "nr") as stage:
        write_csvs(stage, rep)
    written = pd.read_csv(tmp_path / "nr" / "response_rates.csv", keep_default_na=False, dtype=str)
    row = written[(written["variable"] == "maalgruppe") & (written["category"] == "dagpenge")].iloc[0]
    assert row[["complete", "partial", "none"]].tolist() == ["", "", ""]


def test_suppress_nonresponse_keeps_the_reports_type():
    import dataclasses

    from survey_lib.privacy.disclosure import suppress_nonresponse

    @dataclasses.dataclass(frozen=True)
    class Report:
        response_rates: pd.DataFrame

        def frames(self):
            return {"response_rates": self.response_rates}

    sample = pd.DataFrame({"kommune": ["A"] * 12, "mg": ["x"] * 3 + ["y"] * 9, "responded": [True] * 12})
    rates = pd.DataFrame({"variable": ["total", "mg", "mg"], "category": ["", "x", "y"], "sampled": [12, 3, 9],
                          "complete": [12, 3, 9], "partial": [0, 0, 0], "none": [0, 0, 0],
                          "response_rate": [1.0, 1.0, 1.0], "complete_rate": [1.0, 1.0, 1.0]})
    out = suppress_nonresponse(Report(rates), sample, "A", MIN, ["A"], ["mg"])
    assert isinstance(out, Report)
    assert out.response_rates["suppressed"].tolist() == [False, True, True]
    assert out.response_rates.loc[1:, "complete"].isna().all() and out.response_rates["sampled"].tolist() == [12, 3, 9]
    plain = suppress_nonresponse({"response_rates": rates}, sample, "A", MIN, ["A"], ["mg"])
    assert isinstance(plain, dict) and plain["response_rates"].equals(out.response_rates)
