"""The free-text analysis of one scope: themes (weighted shares with intervals), words, the words that
tell satisfied from dissatisfied citizens, example comments and the reading sample."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from ..design import SurveyDesign
from ..estimate import domain_estimates
from ..params import Params
from ..privacy.disclosure import count_suppression, scope_counts, withheld_groups
from ..tables import Z95
from .logodds import WeightedLogOdds
from .sample import CELL_LIMIT, reading_sample
from .themes import ThemeCoder
from .tokens import Vocabulary, tokenize

__all__ = ["free_text_report", "comments_frame", "FreeTextCorpus", "THEME_COLUMNS", "NO_GROUP"]

#: The satisfaction 'group' of a comment whose writer gave no satisfaction score (or 'ved ikke'): a
#: group of its own when counts are suppressed, since the reading sample shows it.
NO_GROUP = "uoplyst"
THEME_COLUMNS = ["theme", "label", "tone", "grouping", "group", "group_label", "n_comments", "share", "se",
                 "ci_low", "ci_high", "suppressed"]


def comments_frame(design: SurveyDesign, params: Params) -> pd.DataFrame:
    """Every respondent with a comment: kommune, målgruppe, satisfaction group, text, weight and
    row position in the design."""
    ft = params.freetext
    f = design.frame
    text = f[ft.question].astype("string")
    has = text.notna() & (text.str.strip() != "")
    score = pd.to_numeric(f[ft.satisfaction_question], errors="coerce")
    group = pd.Series(pd.NA, index=f.index, dtype="object")
    for g in ft.groups:
        group[score.isin(g.scores)] = g.code
    out = pd.DataFrame({"row": np.arange(len(f)), "kommune": f["kommune"].astype(str), "maalgruppe": f["maalgruppe"],
                        "group": group, "text": text, "weight": design.weight})
    return out[has.to_numpy()].reset_index(drop=True)


def _terms(texts: pd.Series, vocab: Vocabulary) -> tuple[list[list[str]], dict[str, Counter]]:
    """Stems per comment (unigrams and bigrams of content words) and the surface forms of each."""
    surface: dict[str, Counter] = {}
    per_comment = []
    for t in texts:
        words = vocab.content_words(tokenize(t))
        stems = [vocab.stem(w) for w in words]
        for w, s in zip(words, stems):
            surface.setdefault(s, Counter())[w] += 1
        grams = [f"{a} {b}" for a, b in zip(stems, stems[1:])]
        for (w1, w2), g in zip(zip(words, words[1:]), grams):
            surface.setdefault(g, Counter())[f"{w1} {w2}"] += 1
        per_comment.append(stems + grams)
    return per_comment, surface


def _themes_table(design: SurveyDesign, params: Params, comments: pd.DataFrame, coded: pd.DataFrame,
                  scope: str, withheld: dict[str, frozenset[str]]) -> pd.DataFrame:
    """Share of comments per theme in total, by satisfaction group and by målgruppe; a group with
    fewer comments than the minimum, or withheld by :meth:`FreeTextCorpus.withheld`, is suppressed."""
    ft = params.freetext
    min_n = params.survey.min_cell_size
    n = design.n
    in_scope = np.ones(len(comments), bool) if scope == "all" else (comments["kommune"] == scope).to_numpy()
    labels_mg = {m.code: m.label for m in params.survey.maalgrupper}
    groupings = {
        "total": ([""], {"": "Alle kommentarer"}, np.zeros(len(comments), int)),
        "tilfredshed": ([g.code for g in ft.groups], {g.code: g.label for g in ft.groups},
                        pd.Categorical(comments["group"], categories=[g.code for g in ft.groups]).codes),
        "maalgruppe": ([m.code for m in params.survey.maalgrupper], labels_mg,
                       pd.Categorical(comments["maalgruppe"], categories=list(labels_mg)).codes),
    }
    rows = []
    for gname, (levels, glabels, gcodes) in groupings.items():
        codes = np.full(n, -1)
        sel = in_scope & (gcodes >= 0)
        codes[comments["row"].to_numpy()[sel]] = gcodes[sel]
        for tid, entry in ft.themes.items():
            y = np.full(n, np.nan)
            y[comments["row"].to_numpy()] = coded[tid].to_numpy(float)
            est = domain_estimates(design, y, codes, len(levels), shares=False)
            for j, lv in enumerate(levels):
                k = int(est.n[j])
                sup = k < min_n or lv in withheld.get("total" if gname == "total" else gname, ()) \
                    or "" in withheld.get("total", ())
                share = np.nan if sup else float(est.mean[j])
                se = np.nan if sup else float(est.mean_se[j])
                rows.append({"theme": tid, "label": entry.label, "tone": entry.tone, "grouping": gname, "group": lv,
                             "group_label": glabels.get(lv, lv), "n_comments": pd.NA if sup else k, "share": share,
                             "se": se, "ci_low": max(0.0, share - Z95 * se) if not sup else np.nan,
                             "ci_high": min(1.0, share + Z95 * se) if not sup else np.nan, "suppressed": sup})
    out = pd.DataFrame(rows, columns=THEME_COLUMNS)
    out["n_comments"] = out["n_comments"].astype("Int64")
    return out


class FreeTextCorpus:
    """What every scope shares: the comments, their themes and their terms, and the weighted counts
    of every word in all comments (the log-odds' background), computed once."""

    def __init__(self, design: SurveyDesign, params: Params) -> None:
        self.comments = comments_frame(design, params)
        self.coded = ThemeCoder.from_params(params.freetext.themes)(self.comments["text"])
        self.per_comment, self.surface = _terms(self.comments["text"], Vocabulary.from_params(params.freetext))
        # weights scaled to mean 1 among the comments
        self.scaled_weight = (self.comments["weight"] / self.comments["weight"].mean()).to_numpy(float)
        self.unigrams = {i: [s for s in self.per_comment[i] if " " not in s] for i in self.comments.index}
        self.background = Counter()
        for i, w in zip(self.comments.index, self.scaled_weight):
            for s in self.unigrams[i]:
                self.background[s] += w
        # the comments counted by scope and group, with primary and secondary suppression as for
        # the answer tables (a group of the reading sample or the themes table that is too small,
        # or that subtraction from a total would give away, is withheld)
        units = pd.DataFrame({"kommune": self.comments["kommune"], "maalgruppe": self.comments["maalgruppe"],
                              "tilfredshed": self.comments["group"].astype(object).fillna(NO_GROUP)})
        municipalities = [k.name for k in params.kommuner]
        self.suppression = count_suppression(scope_counts(units, ["maalgruppe", "tilfredshed"], municipalities),
                                             params.survey.min_cell_size, municipalities)

    def withheld(self, scope: str) -> dict[str, frozenset[str]]:
        """The comment groups of ``scope`` that are suppressed, by breakdown (``maalgruppe``,
        ``tilfredshed``; ``total``: ``{""}`` when the scope has too few comments)."""
        return withheld_groups(self.suppression, scope)


def free_text_report(design: SurveyDesign, params: Params, scope: str = "all",
                     corpus: FreeTextCorpus | None = None) -> dict[str, pd.DataFrame]:
    """Every free-text table of ``scope`` (``all`` or a municipality's name).

    Returns
    -------
    dict
        ``themes`` (share of comments per theme, weighted, in total, by satisfaction group and by
        målgruppe, with 95 % intervals; groups under the minimum cell size suppressed), ``words``
        (most frequent words and two-word phrases, by stem, with the share of comments using them),
        ``log_odds`` (words most typical of the satisfied and of the dissatisfied comments),
        ``examples`` (up to three scrubbed comments per theme), ``reading_sample`` (for reading by
        hand, with a column for the reader's coding; no comment of a suppressed målgruppe or
        satisfaction group; a comment too long for an Excel cell cut visibly, with a note) and
        ``reading_sample_info`` (the number of comments in the sample, how many were cut, and the
        cell limit).
    """
    ft = params.freetext
    min_n = params.survey.min_cell_size
    corpus = corpus or FreeTextCorpus(design, params)
    comments, coded, per_comment, surface = corpus.comments, corpus.coded, corpus.per_comment, corpus.surface
    withheld = corpus.withheld(scope)
    themes = _themes_table(design, params, comments, coded, scope, withheld)
    mine = comments.index[(comments["kommune"] == scope) if scope != "all" else slice(None)]
    sub = comments.loc[mine]

    def label(stem: str) -> str:
        return surface[stem].most_common(1)[0][0] if stem in surface else stem

    words_df = _words_table(per_comment, mine, label, min_n)

    # log-odds of words, satisfied against dissatisfied; weights scaled to mean 1 among the comments;
    # the background (all comments) is the corpus's
    a_code, b_code = ft.compare
    counts = {"a": Counter(), "b": Counter(), "bg": corpus.background}
    group_of = comments["group"].astype(object).where(comments["group"].notna(), "").to_numpy()
    for i in mine:                     # the comments' index is their position (comments_frame)
        g = group_of[i]
        side = "a" if g == a_code else "b" if g == b_code else None
        if side is not None:
            w = corpus.scaled_weight[i]
            for s in corpus.unigrams[i]:
                counts[side][s] += w
    vocab_all = sorted(set(counts["a"]) | set(counts["b"]))
    lo = WeightedLogOdds(ft.log_odds.prior_size, ft.log_odds.min_count)(
        pd.DataFrame({"a": [counts["a"][s] for s in vocab_all], "b": [counts["b"][s] for s in vocab_all]},
                     index=vocab_all), pd.Series(counts["bg"]))
    top = ft.log_odds.top
    lo = pd.concat([lo.head(top), lo.tail(top)]).drop_duplicates()
    groups = {g.code: g.label for g in ft.groups}
    log_odds = lo.reset_index(names="stem").assign(term=lambda d: d["stem"].map(label),
                                                    side=lambda d: np.where(d["z"] > 0, groups[a_code], groups[b_code]))
    log_odds = log_odds[["term", "stem", "side", "a", "b", "delta", "se", "z"]]

    # example comments: up to three per theme, drawn reproducibly; none for a theme under the minimum
    rng = np.random.default_rng(ft.reading_sample.seed)
    examples = []
    for tid, entry in ft.themes.items():
        hits = coded.loc[mine, tid]
        idx = hits.index[hits.to_numpy()]
        if len(idx) < min_n:
            continue
        short = [i for i in idx if len(str(comments.at[i, "text"])) <= 300] or list(idx)
        pick = rng.choice(len(short), size=min(3, len(short)), replace=False)
        for j in sorted(pick):
            examples.append({"theme": tid, "label": entry.label, "text": str(comments.at[short[j], "text"])})
    examples_df = pd.DataFrame(examples, columns=["theme", "label", "text"])

    reading = _reading(sub, withheld, groups, params)
    info = pd.DataFrame({"comments": [len(reading)], "cut": [int((reading["text_note"] != "").sum())],
                         "cell_limit": [CELL_LIMIT]})
    return {"themes": themes, "words": words_df, "log_odds": log_odds, "examples": examples_df,
            "reading_sample": reading, "reading_sample_info": info}


def _words_table(per_comment: list[list[str]], mine, label, min_n: int) -> pd.DataFrame:
    """The 25 words and the 25 phrases most comments of the scope (positions ``mine``) use, with the
    number and share of comments using each stem; none used by fewer than ``min_n`` comments."""
    doc = Counter()
    for i in mine:
        doc.update(set(per_comment[i]))
    n_sub = max(len(mine), 1)
    words = [{"kind": "frase" if " " in s else "ord", "term": label(s), "stem": s, "n_comments": c,
              "share": c / n_sub} for s, c in doc.items() if c >= min_n]
    words_df = pd.DataFrame(words, columns=["kind", "term", "stem", "n_comments", "share"])
    return words_df.sort_values(["kind", "n_comments", "term"], ascending=[False, False, True]) \
        .groupby("kind", sort=False).head(25).reset_index(drop=True)


def _reading(sub: pd.DataFrame, withheld: dict[str, frozenset[str]], groups: dict[str, str],
             params: Params) -> pd.DataFrame:
    """The reading sample of the scope's comments ``sub``, without the comments of a suppressed
    målgruppe or satisfaction group (the sample names both for every comment it shows)."""
    ft = params.freetext
    sat = sub["group"].astype(object).fillna(NO_GROUP)
    shown = ~sub["maalgruppe"].astype(str).isin(withheld.get("maalgruppe", ())) \
        & ~sat.isin(withheld.get("tilfredshed", ()))
    if "" in withheld.get("total", ()):
        shown[:] = False
    sub = sub[shown.to_numpy()]
    labels_mg = {m.code: m.label for m in params.survey.maalgrupper}
    return reading_sample(sub.assign(satisfaction=sub["group"].map(groups).fillna("Ved ikke / ikke svaret"),
                                     maalgruppe=sub["maalgruppe"].map(labels_mg).fillna(sub["maalgruppe"])),
                          ft.reading_sample.per_stratum, ft.reading_sample.seed)
