"""The tidy table set: every question x scope x breakdown x group x category, tests and comparisons.

Scopes are all municipalities together (``all``) and each municipality. Estimates for a municipality
are domain estimates in the full design, which equal those of the municipality's own design because
municipalities are design strata and contain their post-strata. Tests within a municipality use the
municipality's own design (its respondents only), as a municipality's report would.

Disclosure control: a group with fewer answers than ``min_cell_size`` is suppressed, and so is a
second group wherever the suppressed one could be recovered by subtraction
(:mod:`survey_lib.privacy.disclosure`): its counts, shares, mean, standard errors and intervals are
left empty, ``suppressed`` is true, it is left out of the tests, and the suppression log says why. Multiple testing: within each scope, the p-values of all its tests are adjusted together
(``multiple_testing`` in survey.yaml: Holm by default; :func:`survey_lib.inference.adjust_pvalues`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .design import SurveyDesign
from .estimate import domain_estimates
from .inference import (TestResult, adjust_pvalues, rao_scott, rao_scott_batch, t_pvalue, wald_from_means,
                        wald_means)
from .params import Params
from .privacy.disclosure import CELL_KEYS, apply_suppression, secondary_suppression
from .scoped import complement_means, scoped_covariance

__all__ = ["TableSet", "build_tables", "theme_scores", "score_matrix", "TABLE_COLUMNS", "TEST_COLUMNS"]

TABLE_COLUMNS = ["scope", "question", "breakdown", "group", "category", "category_label", "n", "category_n",
                 "dont_know_n", "weighted_n", "share", "share_se", "mean", "mean_se", "mean_ci_low", "mean_ci_high",
                 "suppressed"]
TEST_COLUMNS = ["scope", "question", "breakdown", "test", "statistic", "df1", "df2", "p_value", "p_adjusted",
                "not_computable", "adjustment"]
COMPARISON_COLUMNS = ["scope", "question", "mean", "others_mean", "difference", "statistic", "df", "p_value",
                      "p_adjusted", "flag", "rank", "n_municipalities", "n"]
Z95 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class TableSet:
    """The engine's output: tidy frames with the columns above."""

    tables: pd.DataFrame
    tests: pd.DataFrame
    comparisons: pd.DataFrame
    suppression_log: pd.DataFrame


def score_matrix(design: SurveyDesign, params: Params) -> dict[str, np.ndarray]:
    """Scores (1-5, NaN for not asked / not answered / 'ved ikke') of every likert question."""
    out = {}
    for q in params.questionnaire.likert:
        v = design.frame[q.id].to_numpy(dtype=float, na_value=np.nan)
        out[q.id] = np.where((v >= 1) & (v <= 5), v, np.nan)
    return out


def theme_scores(scores: dict[str, np.ndarray], params: Params) -> dict[str, np.ndarray]:
    """Theme score per respondent: the mean of the theme's question scores the respondent gave
    (NaN when none), as later national rounds publish them."""
    out = {}
    for theme in params.questionnaire.themes:
        qs = [q.id for q in params.questionnaire.likert if q.theme == theme.id]
        if not qs:
            continue
        m = np.column_stack([scores[q] for q in qs])
        with np.errstate(invalid="ignore"):
            cnt = (~np.isnan(m)).sum(axis=1)
            out[f"tema_{theme.id}"] = np.where(cnt > 0, np.nansum(m, axis=1) / np.maximum(cnt, 1), np.nan)
    return out


def _breakdown_codes(design: SurveyDesign, params: Params) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Group codes per breakdown variable (-1 outside any group), in params order."""
    f = design.frame
    s = params.survey
    order = {
        "maalgruppe": [m.code for m in s.maalgrupper], "koen": [g.code for g in s.genders],
        "alder_band": [b.code for b in s.age_bands], "varighed_band": [b.code for b in s.duration_bands],
        "tilknytning": ["igangvaerende", "afsluttet"], "kommune": [k.name for k in params.kommuner],
    }
    out = {"total": (np.zeros(design.n, dtype=int), [""])}
    for b in s.breakdowns:
        levels = order[b.variable]
        codes = pd.Categorical(f[b.variable].astype("string"), categories=levels).codes.astype(int)
        if b.only_current:
            codes = np.where(f["tilknytning"].astype("string").fillna("").to_numpy() == "igangvaerende", codes, -1)
        out[b.variable] = (codes, levels)
    return out


def _labels(params: Params) -> dict[str, dict[int, str]]:
    qn = params.questionnaire
    return {q.id: {c.score: c.label for c in qn.scales[q.scale].categories} for q in qn.likert}


def _workers() -> int:
    """Threads for the per-question work: the machine's cores (numpy releases the GIL)."""
    return max(1, min(4, os.cpu_count() or 1))


def _row(scope: str, qid: str, breakdown: str, r: TestResult) -> dict:
    return {"scope": scope, "question": qid, "breakdown": breakdown, "test": r.test, "statistic": r.statistic,
            "df1": r.df1, "df2": r.df2, "p_value": r.p_value, "not_computable": r.not_computable,
            "adjustment": r.adjustment}


def build_tables(design: SurveyDesign, params: Params, scopes: list[str] | None = None) -> TableSet:
    """Estimate every table, test and comparison.

    Parameters
    ----------
    design
        The weighted design of all respondents.
    params
        Parameters (questions, breakdowns, minimum cell size, significance level, adjustment).
    scopes
        Municipalities to make scopes for (default: all in params); ``all`` is always made.
    """
    s = params.survey
    min_n = s.min_cell_size
    kommuner = [k.name for k in params.kommuner]
    scopes = kommuner if scopes is None else scopes
    kom_codes = np.array([kommuner.index(k) if k in kommuner else -1 for k in design.frame["kommune"]])
    scores = score_matrix(design, params)
    themes = theme_scores(scores, params)
    outcomes = {**scores, **themes}
    labels = _labels(params)
    dont_know = {q.id: (design.frame[q.id].to_numpy(dtype=float, na_value=np.nan) == params.questionnaire.scales[q.scale].dont_know.code)
                 for q in params.questionnaire.likert}
    breakdowns = _breakdown_codes(design, params)
    n_k = len(kommuner)
    # the design's strata are the municipalities: map stratum code -> municipality index
    stratum_kom = np.array([kommuner.index(str(lbl)) if str(lbl) in kommuner else -1 for lbl in design.stratum_labels])
    rows: list[dict] = []
    tests: list[dict] = []

    blocks: list[dict[str, np.ndarray]] = []

    def emit(out: list, scopes_: list[str], qid: str, bname: str, levels: list[str], est, rows_idx: np.ndarray,
             dk_n: np.ndarray) -> None:
        """Rows of one question x breakdown for several scopes at once (vectorized)."""
        G = len(levels)
        n = est.n[rows_idx].astype(int)
        sup = n < min_n
        mean = np.where(sup, np.nan, est.mean[rows_idx])
        se = np.where(sup, np.nan, est.mean_se[rows_idx])
        base = {"scope": np.repeat(scopes_, G), "question": qid, "breakdown": bname,
                "group": np.tile(np.array(levels, dtype=object), len(scopes_)), "n": n, "dont_know_n": dk_n,
                "weighted_n": est.weighted_n[rows_idx], "mean": mean, "mean_se": se,
                "mean_ci_low": mean - Z95 * se, "mean_ci_high": mean + Z95 * se, "suppressed": sup}
        K = 5 if qid in labels else 1
        rows_n = len(n) * K
        block = {k: (np.repeat(v, K) if isinstance(v, np.ndarray) else np.full(rows_n, v, dtype=object))
                 for k, v in base.items()}
        if qid in labels:
            block["category"] = np.tile(np.array(["5", "4", "3", "2", "1"], dtype=object), len(n))
            block["category_label"] = np.tile(np.array([labels[qid][c] for c in (5, 4, 3, 2, 1)], dtype=object), len(n))
            block["category_n"] = est.counts[rows_idx].reshape(-1).astype(int)
            block["share"] = np.where(np.repeat(sup, K), np.nan, est.shares[rows_idx].reshape(-1))
            block["share_se"] = np.where(np.repeat(sup, K), np.nan, est.share_se[rows_idx].reshape(-1))
        else:
            block["category"] = np.full(rows_n, "", dtype=object)
            block["category_label"] = np.full(rows_n, "", dtype=object)
            block["category_n"] = n
            block["share"] = np.full(rows_n, np.nan)
            block["share_se"] = np.full(rows_n, np.nan)
        out.append(block)

    scope_strata = [(str(lbl), s_code) for s_code, lbl in enumerate(design.stratum_labels) if str(lbl) in scopes]
    labels_of_strata = [str(lbl) for lbl in design.stratum_labels]
    # municipalities are the design strata; when every one has respondents, the municipality
    # breakdown is one estimate per stratum (cheaper than a group per municipality)
    stratum_of_kommune = (np.array([labels_of_strata.index(k) for k in kommuner])
                          if all(k in labels_of_strata for k in kommuner) else None)
    def estimate_one(qid: str) -> list[dict[str, np.ndarray]]:
        y = outcomes[qid]
        out: list[dict[str, np.ndarray]] = []
        dk = dont_know.get(qid)
        for bname, (codes, levels) in breakdowns.items():
            G = len(levels)
            dk_all = np.bincount(codes[(codes >= 0) & dk], minlength=G) if dk is not None else np.zeros(G, int)
            if bname == "kommune" and stratum_of_kommune is not None:
                # municipalities are the design strata: one estimate per stratum (cheaper than G groups)
                est = domain_estimates(design, y, np.zeros(design.n, dtype=int), 1, by_stratum=True)
                emit(out, ["all"], qid, bname, levels, est, stratum_of_kommune, dk_all)
                continue
            est = domain_estimates(design, y, codes, G)
            emit(out, ["all"], qid, bname, levels, est, np.arange(G), dk_all)
            if bname == "kommune" or not scope_strata:
                continue
            # every municipality at once: each group within each stratum (= municipality)
            est_k = domain_estimates(design, y, codes, G, by_stratum=True)
            dk_k = np.bincount(design.stratum[(codes >= 0) & dk] * G + codes[(codes >= 0) & dk],
                               minlength=len(design.stratum_labels) * G) if dk is not None \
                else np.zeros(len(design.stratum_labels) * G, int)
            idx = np.concatenate([s_code * G + np.arange(G) for _, s_code in scope_strata])
            emit(out, [name for name, _ in scope_strata], qid, bname, levels, est_k, idx, dk_k[idx])
        return out

    # questions in parallel threads (numpy releases the GIL); results kept in question order
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        for out in pool.map(estimate_one, list(outcomes)):
            blocks.extend(out)

    # ---- multi-select questions: share of the respondents asked who ticked each option ------------
    for q in params.questionnaire.questions:
        if q.kind != "multi_select":
            continue
        ticks = {o.code: design.frame[f"{q.id}_{o.code}"].to_numpy(dtype=float, na_value=np.nan) for o in q.options}
        for bname, (codes, levels) in breakdowns.items():
            G = len(levels)
            per_option = {code: (domain_estimates(design, v, codes, G, categories=(1,)),
                                 domain_estimates(design, v, codes, G, categories=(1,), by_stratum=True)
                                 if bname != "kommune" else None)
                          for code, v in ticks.items()}
            targets = [("all", None)] + ([(str(lbl), s_code) for s_code, lbl in enumerate(design.stratum_labels)
                                          if str(lbl) in scopes] if bname != "kommune" else [])
            for scope, s_code in targets:
                for j in range(G):
                    for o in q.options:
                        est_all, est_k = per_option[o.code]
                        est, row = (est_all, j) if s_code is None else (est_k, s_code * G + j)
                        n = int(est.n[row])
                        sup = n < min_n
                        rows.append({"scope": scope, "question": q.id, "breakdown": bname, "group": levels[j],
                                     "category": o.code, "category_label": o.label, "n": n,
                                     "category_n": int(est.counts[row, 0]),
                                     "dont_know_n": 0, "weighted_n": est.weighted_n[row],
                                     "share": np.nan if sup else est.mean[row],
                                     "share_se": np.nan if sup else est.mean_se[row],
                                     "mean": np.nan, "mean_se": np.nan, "mean_ci_low": np.nan, "mean_ci_high": np.nan,
                                     "suppressed": sup})

    tables = pd.DataFrame({c: np.concatenate([b[c] for b in blocks]) for c in TABLE_COLUMNS})
    if rows:
        tables = pd.concat([tables, pd.DataFrame(rows, columns=TABLE_COLUMNS)], ignore_index=True)
    for c in ("scope", "question", "breakdown", "group", "category", "category_label"):
        tables[c] = tables[c].astype(str)
    tables["suppressed"] = tables["suppressed"].astype(bool)

    # ---- disclosure control: secondary suppression against differencing ------------------------
    cells = tables.drop_duplicates(CELL_KEYS)[CELL_KEYS + ["n", "suppressed"]].reset_index(drop=True)
    supp = secondary_suppression(cells, min_n, kommuner)
    tables = apply_suppression(tables, supp.cells)

    # ---- tests within each scope: suppressed groups are left out --------------------------------
    published = dict(zip(zip(supp.cells["scope"], supp.cells["question"], supp.cells["breakdown"],
                             supp.cells["group"]), ~supp.cells["suppressed"]))
    scope_idx = [kommuner.index(k) for k in scopes]
    def test_one(qid: str) -> list[dict]:
        y = outcomes[qid]
        found: list[dict] = []
        for bname, (codes, levels) in breakdowns.items():
            if bname == "total":
                continue
            G = len(levels)
            keep = np.array([published.get(("all", qid, bname, lv), False) for lv in levels])
            c_all = np.where((codes >= 0) & keep[np.maximum(codes, 0)], codes, -1)
            if len(np.unique(c_all[(c_all >= 0) & ~np.isnan(y)])) >= 2:
                if qid in labels:
                    found.append(_row("all", qid, bname, rao_scott(design, y, c_all)))
                found.append(_row("all", qid, bname, wald_means(design, y, c_all)))
            if bname == "kommune" or not scopes:
                continue
            # every municipality's own design at once; groups below the minimum left out
            kept = np.array([[published.get((k, qid, bname, lv), False) for lv in levels] for k in kommuner])
            row_kept = (codes >= 0) & (kom_codes >= 0) & kept[np.maximum(kom_codes, 0), np.maximum(codes, 0)]
            c_k = np.where(row_kept & ~np.isnan(y), codes, -1)
            means = scoped_covariance(design, y, c_k, G, "means")
            shares = None
            if qid in labels:
                cells = np.where(c_k >= 0, (np.nan_to_num(y).astype(int) - 1) + 5 * c_k, -1)
                shares = scoped_covariance(design, y, cells, 5 * G, "shares")
            answered = np.bincount(design.stratum[c_k >= 0], minlength=len(design.stratum_labels))
            batch: dict[tuple, list] = {}    # Rao-Scott tables of one shape go through together
            for k_idx, name in zip(scope_idx, scopes):
                s_code = int(np.flatnonzero(stratum_kom == k_idx)[0]) if (stratum_kom == k_idx).any() else -1
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
                results = rao_scott_batch(shares.mean[codes_b][:, sel_a],
                                          shares.cov[codes_b][:, sel_a][:, :, sel_a], 5, len(present),
                                          means.rows[codes_b] - 1, ["1", "2", "3", "4", "5"],
                                          [levels[g] for g in present])
                for (name, _), r in zip(members, results):
                    found.append(_row(name, qid, bname, r))

        return found

    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        for found in pool.map(test_one, list(outcomes)):
            tests.extend(found)

    # ---- municipality against the others ----------------------------------------------------------
    comp = []
    totals = tables[(tables["scope"] == "all") & (tables["breakdown"] == "kommune")].drop_duplicates(
        ["question", "group"])
    in_scope = np.array([k in scopes for k in kommuner])
    for qid, y in outcomes.items():
        t_q = totals[totals["question"] == qid].set_index("group").reindex(kommuner)
        means = t_q["mean"].to_numpy(float)
        n_q = t_q["n"].astype("Float64").fillna(0).to_numpy(int)
        open_q = ~t_q["suppressed"].fillna(True).astype(bool).to_numpy()
        ranks = pd.Series(means).rank(ascending=False, method="min").to_numpy()
        n_mun = int((~np.isnan(means)).sum())
        raw_k = domain_estimates(design, y, kom_codes, n_k, shares=False)
        others_mean, others_var = complement_means(design, y)
        answered = ~np.isnan(y)
        df = int(answered.sum() - len(np.unique(design.stratum[answered]))) - 1
        s_codes = np.array([int(np.flatnonzero(stratum_kom == k)[0]) if (stratum_kom == k).any() else -1
                            for k in range(n_k)])
        ok = in_scope & open_q & (s_codes >= 0)
        diff = raw_k.mean - others_mean[np.maximum(s_codes, 0)]
        with np.errstate(invalid="ignore", divide="ignore"):   # rows outside the scopes may be empty
            se = np.sqrt(raw_k.mean_se ** 2 + others_var[np.maximum(s_codes, 0)])
            t = diff / se
        p = t_pvalue(t, df)
        for k in np.flatnonzero(in_scope):
            name = kommuner[k]
            if not ok[k]:
                comp.append({"scope": name, "question": qid, "n": pd.NA, "flag": "suppressed",
                             "n_municipalities": n_mun})
                continue
            comp.append({"scope": name, "question": qid, "mean": means[k], "others_mean": others_mean[s_codes[k]],
                         "difference": diff[k], "statistic": t[k], "df": float(df), "p_value": p[k],
                         "rank": ranks[k], "n_municipalities": n_mun, "n": int(n_q[k])})
            tests.append({"scope": name, "question": qid, "breakdown": "kommune_vs_others", "test": "t",
                          "statistic": t[k], "df1": float(df), "df2": np.nan, "p_value": p[k]})
    tests_df = pd.DataFrame(tests, columns=[c for c in TEST_COLUMNS if c != "p_adjusted"])
    tests_df[["not_computable", "adjustment"]] = tests_df[["not_computable", "adjustment"]].fillna("")
    tests_df["p_adjusted"] = np.nan
    for scope, idx in tests_df.groupby("scope").groups.items():
        tests_df.loc[idx, "p_adjusted"] = adjust_pvalues(tests_df.loc[idx, "p_value"].to_numpy(), s.multiple_testing)
    comp_df = pd.DataFrame(comp, columns=[c for c in COMPARISON_COLUMNS if c != "p_adjusted"])
    adj = tests_df[tests_df["breakdown"] == "kommune_vs_others"].set_index(["scope", "question"])["p_adjusted"]
    comp_df["p_adjusted"] = [adj.get((sc, q), np.nan) for sc, q in zip(comp_df["scope"], comp_df["question"])]
    sig = (comp_df["p_adjusted"] < s.significance_level).to_numpy()
    diff = comp_df["difference"].to_numpy(dtype=float)
    computed = np.where(sig & (diff > 0), "above", np.where(sig & (diff < 0), "below", "level"))
    comp_df["flag"] = np.where(comp_df["flag"].isna().to_numpy(), computed, comp_df["flag"].astype(object).to_numpy())
    comp_df["n"] = comp_df["n"].astype("Int64")
    return TableSet(tables=tables, tests=tests_df[TEST_COLUMNS], comparisons=comp_df[COMPARISON_COLUMNS],
                    suppression_log=supp.log)
