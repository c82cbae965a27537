"""Free-text analysis: tokens and stems, the theme dictionary (measured on the twin and on a
hand-labelled set), the weighted log-odds ratio, the reading sample and the report of a scope."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from survey_lib.design import build_design
from survey_lib.freetext.logodds import WeightedLogOdds
from survey_lib.freetext.report import FreeTextCorpus, free_text_report
from survey_lib.freetext.sample import reading_sample
from survey_lib.freetext.themes import Pattern, ThemeCoder, precision_recall
from survey_lib.freetext.tokens import Vocabulary, tokenize
from survey_lib.load import load_survey

CASES = Path(__file__).parent / "data" / "freetext_cases.yaml"


@pytest.fixture(scope="module")
def twin(twin_dir, params):
    data = load_survey(twin_dir, params)
    design = build_design(data, params)
    return twin_dir, data, design, FreeTextCorpus(design, params)


def test_tokens_keep_negations_and_drop_markers_and_stopwords(params):
    vocab = Vocabulary.from_params(params.freetext)
    words = vocab.content_words(tokenize("Jeg fik ikke nogen hjælp af [NAVN], ingen ringede 3 gange."))
    assert words == ["ikke", "nogen", "hjælp", "ingen", "ringede"]
    assert vocab.stem("sagsbehandleren") == vocab.stem("sagsbehandlere")           # inflections join
    assert "ikke" in params.freetext.keep and "ikke" not in vocab.stopwords


@pytest.mark.parametrize("pattern, text, hit", [
    ("lytte*", "hun lyttede til mig", True),
    ("lytte*", "hun hørte efter", False),
    ("~lytte*", "hun lyttede til mig", True),
    ("~lytte*", "de lyttede ikke", False),                 # negation after
    ("~hjalp mig", "ingen hjalp mig", False),              # negation before
    ("NEG hjælp*", "jeg fik ingen reel hjælp", True),       # negation within three words
    ("NEG hjælp*", "ingen af dem ville på nogen måde hjælpe", False),
    ("et nummer", "jeg var et nummer i køen", True),
    ("et nummer", "et andet nummer", False),
])
def test_pattern_language(pattern, text, hit):
    assert Pattern.parse(pattern).matches(tokenize(text)) is hit


def test_theme_dictionary_on_the_twin(twin, params):
    """Target of the issue: precision and recall at least 0.8 for every theme, on the twin's
    planted themes."""
    folder, data, _, _ = twin
    truth = pd.read_csv(folder / "ground_truth_comments.csv", keep_default_na=False)
    truth = truth[truth["question"] == "uddybning"].reset_index(drop=True)
    texts = data.responses.set_index("person_id")["uddybning"].reindex(truth["person_id"]).reset_index(drop=True)
    coded = ThemeCoder.from_params(params.freetext.themes)(texts)
    want = pd.DataFrame({t: truth["themes"].str.split(";").map(lambda s, t=t: t in s) for t in params.freetext.themes})
    pr = precision_recall(coded, want)
    print("\n" + pr.to_string())
    assert (pr["actual"] > 100).all()      # the twin plants every theme in hundreds of comments: enough cases
    assert (pr["precision"] >= 0.8).all() and (pr["recall"] >= 0.8).all(), pr


def test_theme_dictionary_on_hand_labelled_comments(params):
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    coded = ThemeCoder.from_params(params.freetext.themes)(pd.Series([c["text"] for c in cases]))
    want = pd.DataFrame({t: [t in c["themes"] for c in cases] for t in params.freetext.themes})
    pr = precision_recall(coded, want)
    print("\n" + pr.to_string())
    micro_p = pr["true_positives"].sum() / pr["coded"].sum()
    micro_r = pr["true_positives"].sum() / pr["actual"].sum()
    assert micro_p >= 0.8 and micro_r >= 0.8, (micro_p, micro_r)      # the target, as on the twin
    assert (want.sum() >= 3).all()                                  # every theme has cases


def test_log_odds_by_hand():
    counts = pd.DataFrame({"a": [10.0, 0.0, 5.0], "b": [0.0, 10.0, 5.0]}, index=["god", "dårlig", "møde"])
    r = WeightedLogOdds(prior_size=6, min_count=1)(counts)
    # background shares 1/3 each: alpha_w = 2; n_a = n_b = 15
    d_god = math.log(12 / (15 + 6 - 12)) - math.log(2 / (15 + 6 - 2))
    assert r.loc["god", "delta"] == pytest.approx(d_god)
    assert r.loc["god", "se"] == pytest.approx(math.sqrt(1 / 12 + 1 / 2))
    assert r.loc["dårlig", "z"] == pytest.approx(-r.loc["god", "z"])
    assert r.loc["møde", "delta"] == pytest.approx(0.0)
    assert list(r.index) == ["god", "møde", "dårlig"]
    assert WeightedLogOdds(prior_size=6, min_count=11)(counts).empty


@pytest.mark.parametrize("kwargs, message", [
    ({"prior_size": 0}, r"prior_size must be > 0; got 0"),
    ({"min_count": 0}, r"min_count must be >= 1; got 0"),
])
def test_log_odds_parameters_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WeightedLogOdds(**kwargs)


def test_reading_sample_is_stratified_and_reproducible():
    rng = np.random.default_rng(1)
    comments = pd.DataFrame({"kommune": rng.choice(["Odder", "Vejle"], 400),
                             "satisfaction": rng.choice(["Tilfredse", "Utilfredse"], 400),
                             "maalgruppe": rng.choice(["A", "B", "C"], 400),
                             "text": [f"kommentar {i}" for i in range(400)]})
    s1 = reading_sample(comments, 4, seed=7)
    assert len(s1) == 2 * 2 * 3 * 4 and s1.groupby(["kommune", "satisfaction", "maalgruppe"]).size().eq(4).all()
    assert list(s1.columns) == ["kommune", "maalgruppe", "satisfaction", "text", "coding", "notes", "text_note"]
    assert s1.equals(reading_sample(comments, 4, seed=7))
    assert not s1.equals(reading_sample(comments, 4, seed=8))
    # a municipality's sample does not depend on the other municipalities' comments
    only = reading_sample(comments[comments["kommune"] == "Odder"], 4, seed=7)
    assert only.equals(s1[s1["kommune"] == "Odder"].reset_index(drop=True))


def test_report_of_a_municipality(twin, params):
    _, data, design, corpus = twin
    r = free_text_report(design, params, "Odder", corpus)
    themes = r["themes"]
    # the weighted share, by hand: the weighted mean of the theme indicator among Odder's commenters
    c = corpus.comments
    mine = (c["kommune"] == "Odder").to_numpy()
    for tid in ("kommunikation", "systemet"):
        want = np.average(corpus.coded[tid].to_numpy(float)[mine], weights=c["weight"].to_numpy()[mine])
        got = themes[(themes["theme"] == tid) & (themes["grouping"] == "total")]["share"].iloc[0]
        assert got == pytest.approx(want)
    ok = themes[~themes["suppressed"]]
    assert (ok["ci_low"] <= ok["share"]).all() and (ok["share"] <= ok["ci_high"]).all()
    assert (ok["n_comments"] >= params.survey.min_cell_size).all()
    # satisfied comments carry positive themes, dissatisfied ones negative themes
    sat = themes[themes["grouping"] == "tilfredshed"].set_index(["theme", "group"])["share"]
    assert sat[("kommunikation", "tilfreds")] > sat[("kommunikation", "utilfreds")]
    assert sat[("systemet", "utilfreds")] > sat[("systemet", "tilfreds")]
    assert "ikke" in set(r["words"]["term"])
    lo = r["log_odds"]
    assert (lo["z"] > 0).any() and (lo["z"] < 0).any()
    # examples and the reading sample hold only Odder's own comments, scrubbed
    own = set(c.loc[mine, "text"])
    assert set(r["examples"]["text"]) <= own and set(r["reading_sample"]["text"]) <= own
    assert set(r["reading_sample"]["kommune"]) == {"Odder"}
    assert not r["examples"]["text"].str.contains(r"\d{6}-?\d{4}|@", regex=True).any()


def test_reading_sample_and_themes_obey_suppression(twin, params):
    """The red team's case: in one municipality only 3 dagpenge citizens wrote a comment. Neither the
    reading sample nor the themes table may show that group (it is suppressed in the tables), nor a
    group that subtraction from the municipality's total would give away."""
    _, data, design, _ = twin
    min_n = params.survey.min_cell_size
    frame = design.frame
    text = frame["uddybning"].astype("string")
    dagpenge = ((frame["kommune"] == "Odder") & (frame["maalgruppe"] == "dagpenge") & text.notna()).to_numpy()
    assert dagpenge.sum() > 3
    keep_three = np.flatnonzero(dagpenge)[:3]
    drop = dagpenge.copy()
    drop[keep_three] = False
    changed = frame.copy()
    changed.loc[drop, "uddybning"] = pd.NA
    design3 = dataclasses.replace(design, frame=changed)
    corpus = FreeTextCorpus(design3, params)
    r = free_text_report(design3, params, "Odder", corpus)
    mine = corpus.comments[corpus.comments["kommune"] == "Odder"]
    assert (mine["maalgruppe"] == "dagpenge").sum() == 3
    labels = {m.code: m.label for m in params.survey.maalgrupper}
    shown = set(r["reading_sample"]["maalgruppe"])
    assert labels["dagpenge"] not in shown
    themes = r["themes"]
    by_mg = themes[themes["grouping"] == "maalgruppe"].drop_duplicates("group").set_index("group")["suppressed"]
    assert by_mg["dagpenge"]
    # the municipality's total minus the other målgrupper must not give the 3 back
    assert by_mg.sum() >= 2
    counts = mine["maalgruppe"].value_counts()
    published = [g for g, sup in by_mg.items() if not sup]
    assert len(mine) - counts.reindex(published).fillna(0).sum() >= min_n
    for g in by_mg.index[by_mg]:
        assert labels[g] not in shown
    assert themes.loc[themes["suppressed"], ["n_comments", "share", "se"]].isna().all().all()
    # every shown stratum belongs to a published målgruppe and satisfaction group
    sat = themes[themes["grouping"] == "tilfredshed"].drop_duplicates("group").set_index("group_label")["suppressed"]
    assert not any(sat.get(s, False) for s in set(r["reading_sample"]["satisfaction"]))


def test_a_comment_longer_than_an_excel_cell_is_cut_visibly(tmp_path):
    """A 1 MB comment: the workbook cell holds 32,767 characters; the sample cuts it itself, with a
    marker at the end, a note in its own column, and the count in the report."""
    from openpyxl import load_workbook

    from survey_lib.export import excel_workbook, write_sheet
    from survey_lib.freetext.sample import CELL_LIMIT, CUT_MARKER, READING_COLUMNS

    long = "meget lang kommentar " * 50_000
    comments = pd.DataFrame({"kommune": ["Odder"] * 3, "satisfaction": ["Tilfredse"] * 3,
                             "maalgruppe": ["Dagpenge"] * 3, "text": [long, "kort", "x" * CELL_LIMIT]})
    sample = reading_sample(comments, 5, seed=1)
    cut = sample[sample["text"].str.endswith(CUT_MARKER)]
    assert len(cut) == 1 and len(cut["text"].iloc[0]) == CELL_LIMIT
    assert cut["text"].iloc[0].startswith(long[:CELL_LIMIT - len(CUT_MARKER)])
    assert "1.050.000 tegn" in cut["text_note"].iloc[0] and "32.767" in cut["text_note"].iloc[0]
    assert (sample["text_note"] != "").sum() == 1                 # exactly 32,767 characters fit
    wb = excel_workbook(tmp_path / "k.xlsx")
    write_sheet(wb, "Kommentarer", sample.rename(columns=READING_COLUMNS))
    wb.close()
    ws = load_workbook(tmp_path / "k.xlsx")["Kommentarer"]
    header = [c.value for c in ws[1]]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    col, note = header.index("Kommentar"), header.index("Om kommentaren")
    written = {v[col][:4]: v for v in values}
    assert written["mege"][col].endswith(CUT_MARKER) and len(written["mege"][col]) == CELL_LIMIT
    assert "Afkortet" in written["mege"][note] and not written["kort"][note]


def test_the_report_counts_cut_comments(twin, params):
    _, _, design, corpus = twin
    r = free_text_report(design, params, "Odder", corpus)
    info = r["reading_sample_info"]
    assert list(info.columns) == ["comments", "cut", "cell_limit"]
    assert int(info["comments"].iloc[0]) == len(r["reading_sample"]) and int(info["cut"].iloc[0]) == 0
    assert int(info["cell_limit"].iloc[0]) == 32_767
