"""The table set and its export, on the hand-made data set and on a small twin."""

import json

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import builders
from survey_lib.cli import app
from survey_lib.design import build_design
from survey_lib.load import load_survey
from survey_lib.tables import TABLE_COLUMNS, TEST_COLUMNS, build_tables


@pytest.fixture(scope="module")
def twin_tables(twin_dir, params):
    design = build_design(load_survey(twin_dir, params), params)
    return twin_dir, design, build_tables(design, params, scopes=["Odder", "Ishøj"])


def test_columns_and_scopes(twin_tables):
    _, _, ts = twin_tables
    assert list(ts.tables.columns) == TABLE_COLUMNS
    assert list(ts.tests.columns) == TEST_COLUMNS
    assert set(ts.tables["scope"]) == {"all", "Odder", "Ishøj"}
    total = ts.tables[(ts.tables["scope"] == "all") & (ts.tables["breakdown"] == "total")
                      & (ts.tables["question"] == "tilfredshed")]
    assert total["share"].sum() == pytest.approx(1.0)
    assert total["group"].tolist() == [""] * 5
    assert total["category"].tolist() == ["5", "4", "3", "2", "1"]
    assert total["dont_know_n"].iloc[0] == 463      # the twin reproduces the report's 'ved ikke' count


def test_mean_matches_shares_and_ci(twin_tables):
    _, _, ts = twin_tables
    t = ts.tables[(ts.tables["category"] != "") & ~ts.tables["suppressed"]
                  & (ts.tables["question"] != "kontakt_afdelinger")]
    g = t.groupby(["scope", "question", "breakdown", "group"])
    implied = g.apply(lambda x: (x["share"] * x["category"].astype(int)).sum(), include_groups=False)
    np.testing.assert_allclose(implied.to_numpy(), g["mean"].first().to_numpy(), rtol=1e-9)
    first = g.first()
    np.testing.assert_allclose(first["mean_ci_high"] - first["mean"], 1.959963984540054 * first["mean_se"], rtol=1e-9)


def test_duration_breakdown_only_current_courses(twin_tables):
    _, design, ts = twin_tables
    rows = ts.tables[(ts.tables["scope"] == "all") & (ts.tables["breakdown"] == "varighed_band")
                     & (ts.tables["question"] == "tillid") & (ts.tables["category"] == "5")]
    f = design.frame
    y = pd.to_numeric(f["tillid"], errors="coerce")
    current = (f["tilknytning"] == "igangvaerende") & y.between(1, 5)
    assert rows["n"].sum() == int(current.sum())


def test_theme_scores_present(twin_tables, params):
    _, _, ts = twin_tables
    themes = ts.tables[ts.tables["question"].str.startswith("tema_")]
    # a theme of one question (overall satisfaction) has no score of its own: it is the question, shown once
    assert set(themes["question"]) == {"tema_moedet", "tema_maal", "tema_samtalen", "tema_progression"}
    from survey_lib.scores import theme_score_ids
    ids = theme_score_ids(params.questionnaire)
    assert ids["tilfredshed"] == "tilfredshed" and ids["samtalen"] == "tema_samtalen"
    assert (themes["category"] == "").all() and themes["mean"].between(1, 5).all()


def test_municipality_comparisons(twin_tables):
    _, _, ts = twin_tables
    c = ts.comparisons
    assert set(c["scope"]) == {"Odder", "Ishøj"}
    # ranked only with at least the reporting minimum (survey.yaml: 30) of answers
    small = c["n"].astype(float) < 30
    assert c.loc[small, "rank"].isna().all() and c.loc[~small & (c["flag"] != "suppressed"), "rank"].between(1, 13).all()
    assert set(c["flag"]) <= {"above", "below", "level", "suppressed"}
    sig = c["p_adjusted"] < 0.05
    assert ((c["flag"] == "above") == (sig & (c["difference"] > 0))).all()
    t = ts.tables
    all_k = t[(t["scope"] == "all") & (t["breakdown"] == "kommune") & (t["question"] == "tilfredshed")].drop_duplicates("group")
    odder = c[(c["scope"] == "Odder") & (c["question"] == "tilfredshed")].iloc[0]
    assert odder["mean"] == pytest.approx(all_k.set_index("group").loc["Odder", "mean"])
    ranked = all_k[all_k["n"] >= 30]
    assert int(odder["rank"]) == int((ranked["mean"] > odder["mean"]).sum()) + 1
    assert int(odder["n_municipalities"]) == len(ranked)


def test_pvalues_adjusted_within_families(twin_tables, params):
    """Two families (docs/methods.md): the subgroup tests of a page (scope x theme; Holm) and each
    municipality's benchmark against the others (its questions and themes; Benjamini-Hochberg)."""
    _, _, ts = twin_tables
    from statsmodels.stats.multitest import multipletests
    theme_of = {q.id: q.theme for q in params.questionnaire.questions} | {
        f"tema_{t.id}": t.id for t in params.questionnaire.themes}
    bench = ts.tests["breakdown"] == "kommune_vs_others"
    assert (ts.tests.loc[bench, "family"] == "benchmark").all()
    assert (ts.tests.loc[~bench, "family"] == ts.tests.loc[~bench, "question"].map(theme_of)).all()
    for (scope, family), part in ts.tests.groupby(["scope", "family"]):
        method = "fdr_bh" if family == "benchmark" else "holm"
        np.testing.assert_allclose(part["p_adjusted"], multipletests(part["p_value"], method=method)[1])
    assert set(ts.tests.loc[bench, "scope"]) == {"Odder", "Ishøj"}


def test_benchmark_flags_the_clear_differences(twin_dir, params):
    """The twin plants the 2023 report's most and least satisfied municipality (3.81 and 3.21 in overall
    satisfaction, published_2023.yaml: municipality_extremes); against the others those two must be
    flagged 'above' and 'below'. Odder (3.71 against 3.51, raw p = 0.002) was 'level' while the
    benchmark shared one Holm family with ~190 subgroup tests; in its own family it is 'above'."""
    design = build_design(load_survey(twin_dir, params), params)
    ts = build_tables(design, params)
    c = ts.comparisons[ts.comparisons["question"] == "tilfredshed"].set_index("scope")
    top, bottom = c["mean"].idxmax(), c["mean"].idxmin()
    assert c.loc[top, "mean"] == pytest.approx(3.81, abs=0.02) and c.loc[bottom, "mean"] == pytest.approx(3.21, abs=0.02)
    assert c.loc[top, "flag"] == "above" and c.loc[bottom, "flag"] == "below"
    assert c.loc["Odder", "flag"] == "above"
    # the interval of the difference is the t interval with the test's df; it excludes 0 where flagged
    from scipy import stats
    half = stats.t.ppf(0.975, c["df"]) * (c["difference"] / c["statistic"]).abs()
    np.testing.assert_allclose(c["difference_ci_high"] - c["difference"], half, rtol=1e-9)
    flagged = c[c["flag"].isin(["above", "below"])]
    assert ((flagged["difference_ci_low"] > 0) | (flagged["difference_ci_high"] < 0)).all()


def test_small_groups_suppressed(tmp_path, params):
    """The hand-made data has groups of 1-4 answers: every estimate of those is suppressed and the
    groups stay out of the tests."""
    builders.write(builders.frames(), tmp_path)
    design = build_design(load_survey(tmp_path, params), params)
    ts = build_tables(design, params)
    t = ts.tables
    small = t[t["suppressed"]]
    assert len(small) and (ts.suppression_log["reason"] == "primary").any()
    # a suppressed cell publishes nothing: no counts, no estimates
    assert small[["n", "category_n", "dont_know_n", "weighted_n", "share", "share_se", "mean", "mean_se",
                  "mean_ci_low", "mean_ci_high"]].isna().all().all()
    assert (t.loc[~t["suppressed"], "n"] >= params.survey.min_cell_size).all()
    assert ts.tests.empty or (ts.tests["breakdown"] == "kommune_vs_others").all()
    # the adjusted model cannot be estimated on a handful of answers: its columns stay empty, the raw
    # comparison is still made
    assert ts.comparisons["adjusted_difference"].isna().all()


def test_cli_tables_writes_csv_and_danish_excel(tmp_path, twin_dir):
    res = CliRunner().invoke(app, ["tables", str(twin_dir), "--out", str(tmp_path / "out"), "--kommune", "Odder"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    tables = pd.read_csv(out / "tables.csv", keep_default_na=False)
    assert set(tables["scope"]) == {"all", "Odder"}
    assert not (out / "weights.csv").exists()              # nothing at respondent level
    assert not any("person_id" in p.read_text(errors="ignore") for p in out.glob("*.csv"))
    log = pd.read_csv(out / "suppression_log.csv", keep_default_na=False)
    assert list(log.columns) == ["scope", "question", "breakdown", "group", "reason", "line"]
    prov = json.loads((out / "provenance.json").read_text())
    assert len(prov["data_sha256"]) == 64 and prov["wave"] == "2023-pilot"
    wb = load_workbook(out / "tabeller.xlsx")
    assert {"Mødet med jobcentret", "Overordnet tilfredshed", "Tests", "Vægte", "Undertrykte celler", "Om tabellerne"} <= set(wb.sheetnames)
    ws = wb["Overordnet tilfredshed"]
    assert ws["A1"].value == "Syntetiske data – ikke rigtige resultater"      # the twin's banner row
    header = [c.value for c in ws[2]]
    assert "Andel" in header and "Gns. score" in header and "Justeret p-værdi" not in header
    share_col = header.index("Andel") + 1
    mean_col = header.index("Gns. score") + 1
    assert ws.cell(row=3, column=share_col).number_format == "0.0%"     # Danish Excel: 24,0 %
    assert ws.cell(row=3, column=mean_col).number_format == "0.00"      # Danish Excel: 3,85
    tests_header = [c.value for c in wb["Tests"][2]]
    assert "Justeret p-værdi" in tests_header
    # the benchmark sheet: rank sets and the adjusted comparison under Danish headers
    ws = wb["Kommune mod øvrige"]
    comp_header = [c.value for c in ws[2]]
    for machine, danish in (("rank_low", "Placering, sikkert fra (95 %)"), ("rank_high", "Placering, sikkert til (95 %)"),
                            ("adjusted_difference", "Justeret forskel (borgere som vores)"),
                            ("adjusted_ci_low", "Justeret forskel, 95 %-KI nedre"),
                            ("adjusted_ci_high", "Justeret forskel, 95 %-KI øvre"),
                            ("adjusted_p", "Justeret sammenligning, p-værdi"),
                            ("adjusted_p_adjusted", "Justeret sammenligning, justeret p-værdi"),
                            ("adjusted_flag", "Vurdering, justeret sammenligning")):
        assert danish in comp_header and machine not in comp_header
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    sat = next(r for r in rows if r[comp_header.index("Spørgsmål")] == "tilfredshed")
    assert sat[comp_header.index("Vurdering, justeret sammenligning")] in {
        "Signifikant over den gennemsnitlige kommune", "Signifikant under den gennemsnitlige kommune",
        "På niveau med den gennemsnitlige kommune"}
    assert 1 <= sat[comp_header.index("Placering, sikkert fra (95 %)")] <= sat[comp_header.index("Placering")] \
        <= sat[comp_header.index("Placering, sikkert til (95 %)")]
    comp_csv = pd.read_csv(out / "comparisons.csv")
    assert {"rank_low", "rank_high", "adjusted_difference", "adjusted_flag"} <= set(comp_csv.columns)


def test_bad_municipality_exits_2(tmp_path):
    res = CliRunner().invoke(app, ["tables", str(tmp_path), "--out", str(tmp_path / "o"), "--kommune", "Atlantis"])
    assert res.exit_code == 2 and "unknown municipality 'Atlantis'" in res.output


def test_multi_select_shares_of_respondents(twin_tables):
    _, design, ts = twin_tables
    t = ts.tables[(ts.tables["question"] == "kontakt_afdelinger") & (ts.tables["scope"] == "all")
                  & (ts.tables["breakdown"] == "total")].set_index("category")
    f = design.frame
    asked = f["kontakt_afdelinger_social"].notna().to_numpy()
    w = design.weight[asked]
    for code in ("kun_jobcentret", "social", "andre"):
        ticked = f.loc[asked, f"kontakt_afdelinger_{code}"].to_numpy(dtype=float) == 1
        assert t.loc[code, "share"] == pytest.approx(w[ticked].sum() / w.sum(), abs=1e-12)
        assert t.loc[code, "category_n"] == ticked.sum()
        assert t.loc[code, "n"] == asked.sum()
    assert t["share"].sum() > 1.0      # several departments may be ticked


def test_text_in_a_workbook_never_becomes_a_formula(tmp_path):
    """A label or comment that begins with '=' (formula injection) is written as text."""
    import pandas as pd

    from survey_lib.export import excel_workbook, write_sheet

    path = tmp_path / "x.xlsx"
    wb = excel_workbook(path)
    write_sheet(wb, "Ark", pd.DataFrame({"text": ['=HYPERLINK("http://x","klik")', "+45 12345678", "www.x.dk"],
                                         "mean": [3.5, float("nan"), 2.0]}))
    wb.close()
    ws = load_workbook(path)["Ark"]
    assert [ws.cell(row=r, column=1).data_type for r in (2, 3, 4)] == ["s", "s", "s"]
    assert ws.cell(row=2, column=1).value.startswith("=HYPERLINK") and ws.cell(row=3, column=2).value is None
    assert ws.cell(row=2, column=2).number_format == "0.00"


def test_estimates_only_are_the_same_tables_without_tests(twin_tables, params):
    """build_tables(tests=False): the same tables and suppression log, empty tests and comparisons
    with their columns (the comparison between waves uses the estimates alone)."""
    _, design, ts = twin_tables
    only = build_tables(design, params, scopes=["Odder", "Ishøj"], tests=False)
    pd.testing.assert_frame_equal(only.tables, ts.tables)
    pd.testing.assert_frame_equal(only.suppression_log, ts.suppression_log)
    assert only.tests.empty and list(only.tests.columns) == TEST_COLUMNS
    assert only.comparisons.empty and list(only.comparisons.columns) == list(ts.comparisons.columns)
