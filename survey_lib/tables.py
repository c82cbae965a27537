"""The tidy table set: every question x scope x breakdown x group x category, tests and comparisons.

Scopes are all municipalities together (``all``) and each municipality. Estimates for a municipality
are domain estimates in the full design, which equal those of the municipality's own design because
municipalities are design strata and contain their post-strata. Tests within a municipality use the
municipality's own design (its respondents only), as a municipality's report would.

Disclosure control: a group with fewer answers than ``min_cell_size`` is suppressed, and so is a
second group wherever the suppressed one could be recovered by subtraction
(:mod:`survey_lib.privacy.disclosure`): its counts, shares, mean, standard errors and intervals are
left empty, ``suppressed`` is true, it is left out of the tests, and the suppression log says why. Multiple testing: within each scope, the p-values of all its tests are adjusted together
Multiple testing in two families (docs/methods.md): the subgroup tests of a page (one scope and one
theme: its questions' and theme score's tests between groups; ``multiple_testing``, Holm by default)
and the benchmark of each municipality against the others (its questions and theme scores;
``comparison_testing``, Benjamini–Hochberg by default). ``tests.csv`` names each test's family.

:func:`build_tables` is a short orchestrator over named stages, each a function of one
:class:`TableInputs`: estimate the 1–5 outcomes (:func:`estimate_outcomes`) and the multi-select
questions (:func:`estimate_multi_select`), suppress (:func:`suppress`), test the groups within each
scope (:func:`test_groups`), compare each municipality with the others
(:func:`compare_municipalities`), adjust the p-values and set the flags.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd
from scipy import stats

from .design import SurveyDesign
from .estimate import DomainEstimates, domain_estimates
from .inference import (TestResult, adjust_pvalues, rao_scott, rao_scott_batch, t_pvalue, wald_from_means,
                        wald_means)
from .adjusted import DEFAULT_COVARIATES, NotEstimable, unit_effects
from .privacy.disclosure import CELL_KEYS, SuppressionResult, apply_suppression, secondary_suppression
from .ranks import rank_confidence_sets
from .scoped import complement_means, scoped_covariance
from .scores import category_labels, dont_know_masks, outcome_scores
from .vocabulary import CURRENT, TOTAL, VS_OTHERS, SurveyVocabulary, is_theme, theme_outcome

if TYPE_CHECKING:
    from .params import Params, Question

__all__ = ["TableSet", "TableInputs", "build_tables", "TABLE_COLUMNS", "TEST_COLUMNS", "COMPARISON_COLUMNS",
           "ADJUSTED_COLUMNS", "Z95", "municipality_ranks", "adjusted_outcomes"]

TABLE_COLUMNS = ["scope", "question", "breakdown", "group", "category", "category_label", "n", "category_n",
                 "dont_know_n", "weighted_n", "share", "share_se", "mean", "mean_se", "mean_ci_low", "mean_ci_high",
                 "suppressed"]
TEST_COLUMNS = ["scope", "question", "breakdown", "test", "statistic", "df1", "df2", "p_value", "family",
                "p_adjusted", "not_computable", "adjustment"]
COMPARISON_COLUMNS = ["scope", "question", "mean", "others_mean", "difference", "difference_ci_low",
                      "difference_ci_high", "statistic", "df", "p_value", "p_adjusted", "flag", "rank",
                      "rank_low", "rank_high", "n_municipalities", "n", "adjusted_difference", "adjusted_ci_low",
                      "adjusted_ci_high", "adjusted_p", "adjusted_p_adjusted", "adjusted_flag"]
#: The columns of the adjusted comparison (empty where it is not computed).
ADJUSTED_COLUMNS = ["adjusted_difference", "adjusted_ci_low", "adjusted_ci_high", "adjusted_p",
                    "adjusted_p_adjusted", "adjusted_flag"]
#: Coverage, draws and seed of the marginal rank confidence sets (``rank_low``, ``rank_high``):
#: 1,000 draws per critical value (the engine ranks every outcome; see docs/methods.md).
RANK_COVERAGE, RANK_DRAWS, RANK_SEED = 0.95, 1_000, 20240101
#: The family of the benchmark tests in tests.csv (the subgroup tests' family is the theme's id).
BENCHMARK_FAMILY = "benchmark"
Z95 = stats.norm.ppf(0.975)
#: The answer categories of a 1–5 question, in the order the tables list them.
CATEGORIES = (5, 4, 3, 2, 1)


@dataclass(frozen=True)
class TableSet:
    """The engine's output: tidy frames with the columns above."""

    tables: pd.DataFrame
    tests: pd.DataFrame
    comparisons: pd.DataFrame
    suppression_log: pd.DataFrame


@dataclass(frozen=True)
class TableInputs:
    """Everything the stages of :func:`build_tables` read, computed once from the design and params.

    ``outcomes`` are the questions' and themes' scores per respondent (:mod:`survey_lib.scores`);
    ``breakdowns`` maps each breakdown (``total`` first) to the group code of every respondent (-1
    outside any group) and its levels; ``kom_codes`` is each respondent's municipality (index in
    ``kommuner``, -1 unknown) and ``stratum_kom`` each design stratum's.
    """

    design: SurveyDesign
    kommuner: tuple[str, ...]
    scopes: tuple[str, ...]
    outcomes: dict[str, np.ndarray]
    labels: dict[str, dict[int, str]]
    dont_know: dict[str, np.ndarray]
    breakdowns: dict[str, tuple[np.ndarray, list[str]]]
    multi_select: tuple["Question", ...]
    theme_of: dict[str, str]
    kom_codes: np.ndarray
    stratum_kom: np.ndarray
    min_cell_size: int
    reporting_minimum: int
    significance_level: float
    multiple_testing: str
    comparison_testing: str

    @classmethod
    def from_params(cls, design: SurveyDesign, params: "Params", scopes: Iterable[str] | None = None
                    ) -> "TableInputs":
        qn, s = params.questionnaire, params.survey
        kommuner = tuple(k.name for k in params.kommuner)
        index = {k: i for i, k in enumerate(kommuner)}
        return cls(
            design=design, kommuner=kommuner, scopes=kommuner if scopes is None else tuple(scopes),
            outcomes=outcome_scores(design.frame, qn), labels=category_labels(qn),
            dont_know=dont_know_masks(design.frame, qn),
            breakdowns=breakdown_codes(design.frame, SurveyVocabulary.from_params(params)),
            multi_select=tuple(q for q in qn.questions if q.kind == "multi_select"),
            theme_of={q.id: q.theme for q in qn.questions} | {theme_outcome(t.id): t.id for t in qn.themes},
            kom_codes=np.array([index.get(k, -1) for k in design.frame["kommune"]]),
            stratum_kom=np.array([index.get(str(lbl), -1) for lbl in design.stratum_labels]),
            min_cell_size=s.min_cell_size, reporting_minimum=s.reporting_minimum,
            significance_level=s.significance_level,
            multiple_testing=s.multiple_testing, comparison_testing=s.comparison_testing)

    def stratum_of(self, k_idx: int) -> int:
        """The design stratum of municipality ``k_idx`` (-1 when it has none: no respondents)."""
        hit = np.flatnonzero(self.stratum_kom == k_idx)
        return int(hit[0]) if len(hit) else -1

    def scope_strata(self) -> list[tuple[str, int]]:
        """(municipality, stratum code) of every municipality scope that has respondents."""
        scopes = set(self.scopes)
        return [(str(lbl), code) for code, lbl in enumerate(self.design.stratum_labels) if str(lbl) in scopes]


def breakdown_codes(frame: pd.DataFrame, vocabulary: SurveyVocabulary) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Group codes per breakdown variable (-1 outside any group), ``total`` first, then survey.yaml's order.

    A breakdown with ``only_current`` keeps the citizens whose course is current."""
    out = {TOTAL: (np.zeros(len(frame), dtype=int), [""])}
    for b in vocabulary.breakdowns:
        levels = list(b.levels)
        codes = pd.Categorical(frame[b.variable].astype("string"), categories=levels).codes.astype(int)
        if b.only_current:
            codes = np.where(frame["tilknytning"].astype("string").fillna("").to_numpy() == CURRENT, codes, -1)
        out[b.variable] = (codes, levels)
    return out


def _workers() -> int:
    """Threads for the per-question work: the machine's cores (numpy releases the GIL)."""
    return max(1, min(4, os.cpu_count() or 1))


def _in_threads(fn, items: list) -> list:
    """``fn`` over ``items`` in threads (numpy releases the GIL), the results in the items' order."""
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        return list(pool.map(fn, items))


def _row(scope: str, qid: str, breakdown: str, r: TestResult) -> dict:
    return {"scope": scope, "question": qid, "breakdown": breakdown, "test": r.test, "statistic": r.statistic,
            "df1": r.df1, "df2": r.df2, "p_value": r.p_value, "not_computable": r.not_computable,
            "adjustment": r.adjustment}


# ---- stage 1: the 1-5 outcomes ----------------------------------------------------------------------
def _block(inp: TableInputs, scopes: list[str], qid: str, bname: str, levels: list[str], est: DomainEstimates,
           rows_idx: np.ndarray, dk_n: np.ndarray) -> dict[str, np.ndarray]:
    """Rows of one question x breakdown for several scopes at once (vectorized), as column arrays."""
    G = len(levels)
    n = est.n[rows_idx].astype(int)
    sup = n < inp.min_cell_size
    mean = np.where(sup, np.nan, est.mean[rows_idx])
    se = np.where(sup, np.nan, est.mean_se[rows_idx])
    base = {"scope": np.repeat(scopes, G), "question": qid, "breakdown": bname,
            "group": np.tile(np.array(levels, dtype=object), len(scopes)), "n": n, "dont_know_n": dk_n,
            "weighted_n": est.weighted_n[rows_idx], "mean": mean, "mean_se": se,
            "mean_ci_low": mean - Z95 * se, "mean_ci_high": mean + Z95 * se, "suppressed": sup}
    scored = qid in inp.labels
    K = len(CATEGORIES) if scored else 1
    rows_n = len(n) * K
    block = {k: (np.repeat(v, K) if isinstance(v, np.ndarray) else np.full(rows_n, v, dtype=object))
             for k, v in base.items()}
    if scored:
        block["category"] = np.tile(np.array([str(c) for c in CATEGORIES], dtype=object), len(n))
        block["category_label"] = np.tile(np.array([inp.labels[qid][c] for c in CATEGORIES], dtype=object), len(n))
        block["category_n"] = est.counts[rows_idx].reshape(-1).astype(int)
        block["share"] = np.where(np.repeat(sup, K), np.nan, est.shares[rows_idx].reshape(-1))
        block["share_se"] = np.where(np.repeat(sup, K), np.nan, est.share_se[rows_idx].reshape(-1))
    else:
        block["category"] = np.full(rows_n, "", dtype=object)
        block["category_label"] = np.full(rows_n, "", dtype=object)
        block["category_n"] = n
        block["share"] = np.full(rows_n, np.nan)
        block["share_se"] = np.full(rows_n, np.nan)
    return block


def _estimate_outcome(inp: TableInputs, qid: str) -> list[dict[str, np.ndarray]]:
    """Every breakdown of one outcome, for ``all`` and every municipality scope."""
    design, y, dk = inp.design, inp.outcomes[qid], inp.dont_know.get(qid)
    n_strata = len(design.stratum_labels)
    labels_of_strata = [str(lbl) for lbl in design.stratum_labels]
    # municipalities are the design strata; when every one has respondents, the municipality
    # breakdown is one estimate per stratum (cheaper than a group per municipality)
    stratum_of_kommune = (np.array([labels_of_strata.index(k) for k in inp.kommuner])
                          if all(k in labels_of_strata for k in inp.kommuner) else None)
    scope_strata = inp.scope_strata()
    out: list[dict[str, np.ndarray]] = []
    for bname, (codes, levels) in inp.breakdowns.items():
        G = len(levels)
        dk_all = np.bincount(codes[(codes >= 0) & dk], minlength=G) if dk is not None else np.zeros(G, int)
        if bname == "kommune" and stratum_of_kommune is not None:
            est = domain_estimates(design, y, np.zeros(design.n, dtype=int), 1, by_stratum=True)
            out.append(_block(inp, ["all"], qid, bname, levels, est, stratum_of_kommune, dk_all))
            continue
        est = domain_estimates(design, y, codes, G)
        out.append(_block(inp, ["all"], qid, bname, levels, est, np.arange(G), dk_all))
        if bname == "kommune" or not scope_strata:
            continue
        # every municipality at once: each group within each stratum (= municipality)
        est_k = domain_estimates(design, y, codes, G, by_stratum=True)
        dk_k = (np.bincount(design.stratum[(codes >= 0) & dk] * G + codes[(codes >= 0) & dk], minlength=n_strata * G)
                if dk is not None else np.zeros(n_strata * G, int))
        idx = np.concatenate([s_code * G + np.arange(G) for _, s_code in scope_strata])
        out.append(_block(inp, [name for name, _ in scope_strata], qid, bname, levels, est_k, idx, dk_k[idx]))
    return out


def estimate_outcomes(inp: TableInputs) -> list[dict[str, np.ndarray]]:
    """Stage 1: the rows of every 1–5 question and theme score (column arrays, in question order)."""
    return [block for blocks in _in_threads(lambda q: _estimate_outcome(inp, q), list(inp.outcomes))
            for block in blocks]


# ---- stage 2: multi-select questions ------------------------------------------------------------------
def estimate_multi_select(inp: TableInputs) -> list[dict]:
    """Stage 2: share of the respondents asked who ticked each option, per breakdown group and scope."""
    design, rows = inp.design, []
    for q in inp.multi_select:
        ticks = {o.code: design.frame[f"{q.id}_{o.code}"].to_numpy(dtype=float, na_value=np.nan) for o in q.options}
        for bname, (codes, levels) in inp.breakdowns.items():
            G = len(levels)
            per_option = {code: (domain_estimates(design, v, codes, G, categories=(1,)),
                                 domain_estimates(design, v, codes, G, categories=(1,), by_stratum=True)
                                 if bname != "kommune" else None)
                          for code, v in ticks.items()}
            targets = [("all", None)] + (inp.scope_strata() if bname != "kommune" else [])
            for scope, s_code in targets:
                for j in range(G):
                    for o in q.options:
                        est_all, est_k = per_option[o.code]
                        est, row = (est_all, j) if s_code is None else (est_k, s_code * G + j)
                        rows.append(_multi_select_row(scope, q.id, bname, levels[j], o, est, row, inp.min_cell_size))
    return rows


def _multi_select_row(scope: str, qid: str, bname: str, group: str, option, est: DomainEstimates, row: int,
                      min_n: int) -> dict:
    n = int(est.n[row])
    sup = n < min_n
    return {"scope": scope, "question": qid, "breakdown": bname, "group": group, "category": option.code,
            "category_label": option.label, "n": n, "category_n": int(est.counts[row, 0]), "dont_know_n": 0,
            "weighted_n": est.weighted_n[row], "share": np.nan if sup else est.mean[row],
            "share_se": np.nan if sup else est.mean_se[row], "mean": np.nan, "mean_se": np.nan,
            "mean_ci_low": np.nan, "mean_ci_high": np.nan, "suppressed": sup}


def assemble(blocks: list[dict[str, np.ndarray]], rows: list[dict]) -> pd.DataFrame:
    """The table frame of the outcome blocks followed by the multi-select rows, text columns as str."""
    tables = pd.DataFrame({c: np.concatenate([b[c] for b in blocks]) for c in TABLE_COLUMNS})
    if rows:
        tables = pd.concat([tables, pd.DataFrame(rows, columns=TABLE_COLUMNS)], ignore_index=True)
    for c in ("scope", "question", "breakdown", "group", "category", "category_label"):
        tables[c] = tables[c].astype(str)
    tables["suppressed"] = tables["suppressed"].astype(bool)
    return tables


# ---- stage 3: disclosure control ------------------------------------------------------------------------
def suppress(tables: pd.DataFrame, inp: TableInputs) -> tuple[pd.DataFrame, SuppressionResult]:
    """Stage 3: secondary suppression against differencing, applied to every row of a cell."""
    cells = tables.drop_duplicates(CELL_KEYS)[CELL_KEYS + ["n", "suppressed"]].reset_index(drop=True)
    supp = secondary_suppression(cells, inp.min_cell_size, list(inp.kommuner))
    return apply_suppression(tables, supp.cells), supp


# ---- stage 4: tests within each scope -----------------------------------------------------------------
def _published(supp: SuppressionResult) -> dict[tuple[str, str, str, str], bool]:
    """(scope, question, breakdown, group) -> whether the cell is published."""
    c = supp.cells
    return dict(zip(zip(c["scope"], c["question"], c["breakdown"], c["group"]), ~c["suppressed"]))


def _test_all(inp: TableInputs, published: dict, qid: str, bname: str, codes: np.ndarray, levels: list[str]
              ) -> list[dict]:
    """The tests of one outcome x breakdown in the design of all municipalities."""
    y = inp.outcomes[qid]
    keep = np.array([published.get(("all", qid, bname, lv), False) for lv in levels])
    c_all = np.where((codes >= 0) & keep[np.maximum(codes, 0)], codes, -1)
    if len(np.unique(c_all[(c_all >= 0) & ~np.isnan(y)])) < 2:
        return []
    found = [_row("all", qid, bname, rao_scott(inp.design, y, c_all))] if qid in inp.labels else []
    return found + [_row("all", qid, bname, wald_means(inp.design, y, c_all))]


def _test_municipalities(inp: TableInputs, published: dict, qid: str, bname: str, codes: np.ndarray,
                         levels: list[str]) -> list[dict]:
    """The tests of one outcome x breakdown in every municipality's own design at once (groups below
    the minimum left out); Rao–Scott tables of one shape go through :func:`rao_scott_batch` together."""
    design, y, G = inp.design, inp.outcomes[qid], len(levels)
    kept = np.array([[published.get((k, qid, bname, lv), False) for lv in levels] for k in inp.kommuner])
    kom = inp.kom_codes
    row_kept = (codes >= 0) & (kom >= 0) & kept[np.maximum(kom, 0), np.maximum(codes, 0)]
    c_k = np.where(row_kept & ~np.isnan(y), codes, -1)
    means = scoped_covariance(design, y, c_k, G, "means")
    shares = None
    if qid in inp.labels:
        cells = np.where(c_k >= 0, (np.nan_to_num(y).astype(int) - 1) + 5 * c_k, -1)
        shares = scoped_covariance(design, y, cells, 5 * G, "shares")
    answered = np.bincount(design.stratum[c_k >= 0], minlength=len(design.stratum_labels))
    found: list[dict] = []
    batch: dict[tuple, list] = {}
    for name in inp.scopes:
        s_code = inp.stratum_of(inp.kommuner.index(name))
        if s_code < 0:
            continue
        present = np.flatnonzero(means.n[s_code] > 0)
        if len(present) < 2:
            continue
        if shares is not None:
            # categories 1..5 x the groups with answers go to the test, which drops empty
            # categories; batches keyed by the answered categories too (keeps the row order)
            cats = np.flatnonzero(shares.n[s_code].reshape(G, 5)[present].sum(axis=0) > 0)
            batch.setdefault((tuple(present), tuple(cats)), []).append((name, s_code))
        r = wald_from_means(means.mean[s_code][present], means.cov[s_code][np.ix_(present, present)],
                            answered[s_code] - len(present))
        found.append(_row(name, qid, bname, r))
    for (present, _), members in batch.items():
        sel_a = np.array([cat + 5 * g for g in present for cat in range(5)])
        codes_b = np.array([sc for _, sc in members])
        results = rao_scott_batch(shares.mean[codes_b][:, sel_a], shares.cov[codes_b][:, sel_a][:, :, sel_a], 5,
                                  len(present), means.rows[codes_b] - 1, ["1", "2", "3", "4", "5"],
                                  [levels[g] for g in present])
        found.extend(_row(name, qid, bname, r) for (name, _), r in zip(members, results))
    return found


def _test_outcome(inp: TableInputs, published: dict, qid: str) -> list[dict]:
    found: list[dict] = []
    for bname, (codes, levels) in inp.breakdowns.items():
        if bname == TOTAL:
            continue
        found += _test_all(inp, published, qid, bname, codes, levels)
        if bname != "kommune" and inp.scopes:
            found += _test_municipalities(inp, published, qid, bname, codes, levels)
    return found


def test_groups(inp: TableInputs, supp: SuppressionResult) -> list[dict]:
    """Stage 4: the tests between the published groups of every breakdown, in ``all`` and each scope."""
    published = _published(supp)
    return [row for rows in _in_threads(lambda q: _test_outcome(inp, published, q), list(inp.outcomes))
            for row in rows]


# ---- stage 5: each municipality against the others ------------------------------------------------------
def municipality_ranks(means: np.ndarray, se: np.ndarray, n: np.ndarray, reporting_minimum: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Rank and marginal 95 % rank confidence set of every municipality on one outcome.

    Parameters
    ----------
    means, se, n
        Each municipality's estimate, its standard error and its number of answers.
    reporting_minimum
        Municipalities with fewer answers (or without an estimate) are not ranked: NaN.

    Returns
    -------
    rank, rank_low, rank_high : arrays (float, NaN where not ranked)
    n_ranked : int
        The number of municipalities ranked (the 'af p' of the display).

    Notes
    -----
    Municipalities are design strata, so their estimates are independent and their covariance is
    ``diag(se**2)``. The sets are :func:`survey_lib.ranks.rank_confidence_sets` (Mogstad, Romano,
    Shaikh & Wilhelm 2024; marginal, stepdown, ``RANK_DRAWS`` draws from ``RANK_SEED``), computed
    among the ranked municipalities only: the same numbers as
    :class:`survey_lib.ranks.RankConfidence` with ``min_n = reporting_minimum``.
    """
    rankable = np.isfinite(means) & np.isfinite(se) & (n >= reporting_minimum)
    idx = np.flatnonzero(rankable)
    rank, low, high = (np.full(len(means), np.nan) for _ in range(3))
    if len(idx):
        sets = rank_confidence_sets(means[idx], np.diag(se[idx] ** 2), coverage=RANK_COVERAGE, draws=RANK_DRAWS,
                                    seed=RANK_SEED)
        rank[idx], low[idx], high[idx] = sets.rank, sets.lower, sets.upper
    return rank, low, high, len(idx)


def adjusted_outcomes(inp: TableInputs) -> list[str]:
    """The outcomes the adjusted comparison is computed for: every theme score, and every
    question that is its theme's only question (its theme has no score of its own)."""
    questions = [q for q in inp.outcomes if not is_theme(q)]
    per_theme = pd.Series([inp.theme_of.get(q) for q in questions]).value_counts()
    return [q for q in inp.outcomes
            if is_theme(q) or (per_theme.get(inp.theme_of.get(q), 0) == 1 and theme_outcome(inp.theme_of[q]) not in inp.outcomes)]


def _adjusted_row(adj, k: int) -> dict:
    if adj is None:
        return {}
    pos = np.searchsorted(adj.units, k)
    if pos >= len(adj.units) or adj.units[pos] != k:
        return {}
    return {"adjusted_difference": adj.effect[pos], "adjusted_ci_low": adj.ci_lower[pos],
            "adjusted_ci_high": adj.ci_upper[pos], "adjusted_p": adj.p_value[pos]}


def _compare_outcome(inp: TableInputs, totals: pd.DataFrame, qid: str, adjusted: dict
                     ) -> tuple[list[dict], list[dict]]:
    """Comparison rows and t-test rows of one outcome for every municipality scope."""
    design, y, kommuner = inp.design, inp.outcomes[qid], list(inp.kommuner)
    t_q = totals[totals["question"] == qid].set_index("group").reindex(kommuner)
    means = t_q["mean"].to_numpy(float)
    n_q = t_q["n"].astype("Float64").fillna(0).to_numpy(int)
    open_q = ~t_q["suppressed"].fillna(True).astype(bool).to_numpy()
    ranks, rank_low, rank_high, n_mun = municipality_ranks(means, t_q["mean_se"].to_numpy(float), n_q,
                                                           inp.reporting_minimum)
    adj = adjusted.get(qid)
    raw_k = domain_estimates(design, y, inp.kom_codes, len(kommuner), shares=False)
    others_mean, others_var = complement_means(design, y)
    answered = ~np.isnan(y)
    df = int(answered.sum() - len(np.unique(design.stratum[answered]))) - 1
    s_codes = np.array([inp.stratum_of(k) for k in range(len(kommuner))])
    in_scope = np.array([k in inp.scopes for k in kommuner])
    ok = in_scope & open_q & (s_codes >= 0)
    diff = raw_k.mean - others_mean[np.maximum(s_codes, 0)]
    with np.errstate(invalid="ignore", divide="ignore"):   # rows outside the scopes may be empty
        se = np.sqrt(raw_k.mean_se ** 2 + others_var[np.maximum(s_codes, 0)])
        t = diff / se
    p = t_pvalue(t, df)
    half = stats.t.ppf(0.975, df) * se if df > 0 else np.full(len(se), np.nan)
    comp, tests = [], []
    for k in np.flatnonzero(in_scope):
        name = kommuner[k]
        if not ok[k]:
            comp.append({"scope": name, "question": qid, "n": pd.NA, "flag": "suppressed", "n_municipalities": n_mun})
            continue
        comp.append({"scope": name, "question": qid, "mean": means[k], "others_mean": others_mean[s_codes[k]],
                     "difference": diff[k], "difference_ci_low": diff[k] - half[k],
                     "difference_ci_high": diff[k] + half[k], "statistic": t[k], "df": float(df), "p_value": p[k],
                     "rank": ranks[k], "rank_low": rank_low[k], "rank_high": rank_high[k],
                     "n_municipalities": n_mun, "n": int(n_q[k])} | _adjusted_row(adj, k))
        tests.append({"scope": name, "question": qid, "breakdown": VS_OTHERS, "test": "t",
                      "statistic": t[k], "df1": float(df), "df2": np.nan, "p_value": p[k], "family": BENCHMARK_FAMILY})
    return comp, tests


def compare_municipalities(inp: TableInputs, tables: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    """Stage 5: each municipality's mean against the mean of the others (t-test, raw p)."""
    totals = tables[(tables["scope"] == "all") & (tables["breakdown"] == "kommune")].drop_duplicates(
        ["question", "group"])
    adjusted = dict(zip(adjusted_outcomes(inp), _in_threads(lambda q: _adjust_outcome(inp, q), adjusted_outcomes(inp))))
    comp, tests = [], []
    for c, t in _in_threads(lambda q: _compare_outcome(inp, totals, q, adjusted), list(inp.outcomes)):
        comp += c
        tests += t
    return comp, tests


def _covariate_codes(frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Level codes (-1 missing) of the composition the adjusted comparison holds constant: the
    covariates of :data:`survey_lib.adjusted.DEFAULT_COVARIATES` the data have."""
    return tuple(pd.factorize(frame[c].astype("string"), use_na_sentinel=True)[0]
                 for c in DEFAULT_COVARIATES if c in frame.columns)


def _adjust_outcome(inp: TableInputs, qid: str):
    """The adjusted municipality effects of one outcome; None (the adjusted columns stay empty) when
    fewer than two municipalities answer or the model cannot be estimated on the answers (collinear
    composition, e.g. a handful of answers)."""
    if len(np.unique(inp.kom_codes[(inp.kom_codes >= 0) & ~np.isnan(inp.outcomes[qid])])) < 2:
        return None
    try:
        return unit_effects(inp.design, inp.outcomes[qid], inp.kom_codes, _covariate_codes(inp.design.frame))
    except NotEstimable:
        return None


# ---- stage 6: multiple testing and flags ----------------------------------------------------------------
def adjust(tests: list[dict], inp: TableInputs) -> pd.DataFrame:
    """Stage 6: the tests frame with ``family`` and ``p_adjusted``.

    A subgroup test's family is the theme of its question (within its scope: the tests of one page),
    adjusted with ``multiple_testing``; the benchmark tests of a municipality are one family,
    adjusted with ``comparison_testing``."""
    tests_df = pd.DataFrame(tests, columns=[c for c in TEST_COLUMNS if c != "p_adjusted"])
    tests_df[["not_computable", "adjustment"]] = tests_df[["not_computable", "adjustment"]].fillna("")
    tests_df["family"] = tests_df["family"].astype(object)      # all missing (no benchmark tests) reads as float
    groups = tests_df["family"].isna()
    tests_df.loc[groups, "family"] = tests_df.loc[groups, "question"].map(inp.theme_of)
    tests_df["p_adjusted"] = np.nan
    for (_, family), idx in tests_df.groupby(["scope", "family"], sort=False).groups.items():
        method = inp.comparison_testing if family == BENCHMARK_FAMILY else inp.multiple_testing
        tests_df.loc[idx, "p_adjusted"] = adjust_pvalues(tests_df.loc[idx, "p_value"].to_numpy(), method)
    return tests_df[TEST_COLUMNS]


def flag_comparisons(comp: list[dict], tests: pd.DataFrame, alpha: float, method: str = "fdr_bh") -> pd.DataFrame:
    """The comparisons frame with the adjusted p-value and the flag above / below / level / suppressed,
    and the adjusted comparison's multiplicity-adjusted p-value and flag (``method``)."""
    comp_df = pd.DataFrame(comp, columns=[c for c in COMPARISON_COLUMNS
                                          if c not in ("p_adjusted", "adjusted_p_adjusted", "adjusted_flag")])
    adj = tests[tests["breakdown"] == VS_OTHERS].set_index(["scope", "question"])["p_adjusted"]
    comp_df["p_adjusted"] = [adj.get((sc, q), np.nan) for sc, q in zip(comp_df["scope"], comp_df["question"])]
    sig = (comp_df["p_adjusted"] < alpha).to_numpy()
    diff = comp_df["difference"].to_numpy(dtype=float)
    computed = np.where(sig & (diff > 0), "above", np.where(sig & (diff < 0), "below", "level"))
    comp_df["flag"] = np.where(comp_df["flag"].isna().to_numpy(), computed, comp_df["flag"].astype(object).to_numpy())
    comp_df["n"] = comp_df["n"].astype("Int64")
    _flag_adjusted(comp_df, alpha, method)
    return comp_df[COMPARISON_COLUMNS]


def _flag_adjusted(comp_df: pd.DataFrame, alpha: float, method: str) -> None:
    """``adjusted_p_adjusted`` and ``adjusted_flag`` in place: the adjusted comparisons of a
    municipality are one family (its outcomes with an adjusted comparison), adjusted with ``method``
    (``comparison_testing``), flagged above / below / level where computed, empty elsewhere."""
    comp_df["adjusted_p_adjusted"] = np.nan
    has = comp_df["adjusted_p"].notna()
    for _, idx in comp_df[has].groupby("scope", sort=False).groups.items():
        comp_df.loc[idx, "adjusted_p_adjusted"] = adjust_pvalues(comp_df.loc[idx, "adjusted_p"].to_numpy(float), method)
    sig = (comp_df["adjusted_p_adjusted"] < alpha).to_numpy()
    eff = comp_df["adjusted_difference"].to_numpy(float)
    flag = np.where(sig & (eff > 0), "above", np.where(sig & (eff < 0), "below", "level"))
    comp_df["adjusted_flag"] = np.where(has.to_numpy(), flag, "")


def build_tables(design: SurveyDesign, params: "Params", scopes: Iterable[str] | None = None,
                 tests: bool = True) -> TableSet:
    """Estimate every table, test and comparison.

    Parameters
    ----------
    design
        The weighted design of all respondents.
    params
        Parameters (questions, breakdowns, minimum cell size, significance level, adjustment).
    scopes
        Municipalities to make scopes for (default: all in params); ``all`` is always made.
    tests
        False: the tables and the suppression log only; ``tests`` and ``comparisons`` are empty
        frames with their columns (the tables are the same: they never depend on a test). For
        callers that use the estimates alone, such as the comparison between waves.
    """
    inp = TableInputs.from_params(design, params, scopes)
    tables, supp = suppress(assemble(estimate_outcomes(inp), estimate_multi_select(inp)), inp)
    if not tests:
        return TableSet(tables=tables, tests=pd.DataFrame(columns=TEST_COLUMNS),
                        comparisons=pd.DataFrame(columns=COMPARISON_COLUMNS), suppression_log=supp.log)
    group_tests = test_groups(inp, supp)
    comp, comp_tests = compare_municipalities(inp, tables)
    tests = adjust(group_tests + comp_tests, inp)
    return TableSet(tables=tables, tests=tests, comparisons=flag_comparisons(comp, tests, inp.significance_level,
                                                                      inp.comparison_testing),
                    suppression_log=supp.log)
