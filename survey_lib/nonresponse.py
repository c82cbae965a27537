"""Non-response analysis and weighting diagnostics.

Everything a methodologist needs to judge whether (and how well) the weighting corrects for who
answered: response rates, sample against respondents with design-based tests, a response-propensity
model, the R-indicator and partial R-indicators, the response curve, completion times, the shift from
unweighted to weighted results, the balance after weighting, and a comparison of weighting methods.

Notes
-----
Sampling design weights. The sample was drawn by simple random sampling within municipality x
gender x age band (the report's 'Stikprøveudtagning'), so a sampled citizen's design weight is
d_i = N_c / n_c for his sampling cell c (population over sample).

R-indicator (Schouten, Cobben & Bethlehem 2009, Survey Methodology 35(1), 101–113). With estimated
response propensities rho_i and design weights d_i over the sample, N = sum d_i,
rho_bar = sum d_i rho_i / N and S^2 = sum d_i (rho_i - rho_bar)^2 / (N - 1):

    R = 1 - 2 S,    CV = S / rho_bar,    B_max = (1 - R) / (2 rho_bar)

(B_max: the maximal absolute standardized bias of a respondent mean, in units of the outcome's
standard deviation). Partial R-indicators (Schouten, Shlomo & Skinner 2011, J. Official Statistics
27(2), 231–253), unconditional: for a variable X with categories k (N_k = sum of d in k,
rho_bar_k their weighted mean propensity)

    P_U(X) = sqrt( sum_k N_k (rho_bar_k - rho_bar)^2 / N ),     P_U(X = k) = sqrt(N_k / N) (rho_bar_k - rho_bar)

the category-level value carrying the sign: negative for under-represented groups.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from .errors import SurveyError
from .design import SurveyDesign, build_design, design_from_arrays, warning_thresholds, weighting_settings
from .exclusions import Exclusion, analysed_data
from .inference import rao_scott
from .load import SurveyData
from .params import Params, Questionnaire
from .scores import score_matrix
from .privacy.disclosure import suppress_nonresponse
from .weighting import WeightingError, weight_summary, weight_warnings
from .weighting.diagnostics import WARNING_COLUMNS
from .weighting.cells import collapses_of

__all__ = [
    "sample_frame", "response_rates", "sample_vs_respondents", "mean_comparison", "PropensityModel",
    "propensity_model", "r_indicators", "response_curve", "completion_quartiles", "weighting_shift",
    "balance", "compare_methods", "nonresponse_report", "NonresponseReport", "NR_VARIABLES", "SurveyWide", "survey_wide",
]

NR_VARIABLES = ("kommune", "koen", "alder_band", "maalgruppe", "varighed_band")
SAMPLING_CELLS = ("kommune", "koen", "alder_band")


def sample_frame(data: SurveyData) -> pd.DataFrame:
    """One row per sampled citizen: register variables, response status (complete / partial / none),
    and the sampling design weight N_c / n_c over municipality x gender x age band."""
    reg = data.population
    s = data.sample.merge(reg, on="person_id", how="left")
    status = data.responses.set_index("person_id")["status"]
    s["response"] = s["person_id"].map(status).fillna("none").astype(str)
    tilknytning = data.responses.set_index("person_id")["tilknytning"] if "tilknytning" in data.responses else None
    if tilknytning is not None:
        s["tilknytning"] = s["person_id"].map(tilknytning)
    s["responded"] = s["response"] != "none"
    n_pop = reg.groupby(list(SAMPLING_CELLS), observed=True).size().rename("N_c")
    n_smp = s.groupby(list(SAMPLING_CELLS), observed=True).size().rename("n_c")
    s = s.join(n_pop, on=list(SAMPLING_CELLS)).join(n_smp, on=list(SAMPLING_CELLS))
    s["design_weight"] = s["N_c"] / s["n_c"]
    return s.drop(columns=["N_c", "n_c"])


def response_rates(frame: pd.DataFrame, variables=NR_VARIABLES) -> pd.DataFrame:
    """Sampled, complete, partial and non-responding citizens and the rates, per category of each
    variable (and in total: variable ``total``)."""
    rows = []
    for var in ("total",) + tuple(variables):
        groups = [("", frame)] if var == "total" else frame.groupby(var, observed=True, sort=True)
        for cat, g in groups:
            n = len(g)
            c = int((g["response"] == "complete").sum())
            p = int((g["response"] == "partial").sum())
            rows.append({"variable": var, "category": str(cat), "sampled": n, "complete": c, "partial": p,
                         "none": n - c - p, "response_rate": (c + p) / n if n else np.nan,
                         "complete_rate": c / n if n else np.nan})
    return pd.DataFrame(rows)


def _sample_design(frame: pd.DataFrame) -> SurveyDesign:
    return design_from_arrays(frame, frame["design_weight"].to_numpy(float), frame["kommune"])


def sample_vs_respondents(frame: pd.DataFrame, variables=NR_VARIABLES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Distribution of each variable in the sample and among respondents (design-weighted and
    unweighted), and a Rao–Scott test of response x variable in the sample design
    (``svychisq(~responded + X, svydesign(ids=~1, strata=~kommune, weights=~d, data=sample))``)."""
    design = _sample_design(frame)
    resp = frame["responded"].to_numpy()
    d = frame["design_weight"].to_numpy(float)
    rows, tests = [], []
    for var in variables:
        values = frame[var].astype("string")
        levels = sorted(values.dropna().unique())
        for cat in levels:
            in_cat = (values == cat).fillna(False).to_numpy()
            rows.append({"variable": var, "category": cat,
                         "sample_n": int(in_cat.sum()), "respondents_n": int((in_cat & resp).sum()),
                         "sample_share": in_cat.sum() / len(frame), "respondents_share": (in_cat & resp).sum() / resp.sum(),
                         "sample_share_weighted": d[in_cat].sum() / d.sum(),
                         "respondents_share_weighted": d[in_cat & resp].sum() / d[resp].sum()})
        codes = pd.Categorical(values, categories=levels).codes.astype(int)
        r = rao_scott(design, resp.astype(float), codes)
        tests.append({"variable": var, "test": "rao_scott", "statistic": r.statistic, "df1": r.df1, "df2": r.df2,
                      "p_value": r.p_value})
    out = pd.DataFrame(rows)
    out["difference"] = out["respondents_share_weighted"] - out["sample_share_weighted"]
    return out, pd.DataFrame(tests)


def mean_comparison(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean age and mean duration (weeks) in the sample and among respondents (design-weighted and
    unweighted)."""
    resp = frame["responded"].to_numpy()
    d = frame["design_weight"].to_numpy(float)
    rows = []
    for var, label in (("alder", "age_years"), ("varighed_uger", "duration_weeks")):
        x = frame[var].to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(x)
        rows.append({"measure": label,
                     "sample": x[ok].mean(), "respondents": x[ok & resp].mean(),
                     "sample_weighted": np.average(x[ok], weights=d[ok]),
                     "respondents_weighted": np.average(x[ok & resp], weights=d[ok & resp])})
    # the report's duration figure for respondents counts current courses only (the citizen's own word)
    if "tilknytning" in frame.columns:
        x = frame["varighed_uger"].to_numpy(dtype=float, na_value=np.nan)
        cur = resp & (frame["tilknytning"] == "igangvaerende").fillna(False).to_numpy() & ~np.isnan(x)
        rows.append({"measure": "duration_weeks_current", "sample": np.nan, "respondents": x[cur].mean(),
                     "sample_weighted": np.nan, "respondents_weighted": np.average(x[cur], weights=d[cur])})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PropensityModel:
    """A fitted response-propensity model: coefficient table and the propensity of every sampled citizen."""

    coefficients: pd.DataFrame
    propensity: np.ndarray
    formula: str
    n: int
    pseudo_r2: float


def propensity_model(frame: pd.DataFrame, variables=NR_VARIABLES) -> PropensityModel:
    """Logistic regression of response (complete or partial) on the register variables (statsmodels
    ``logit``; treatment coding, first category alphabetically as reference), with odds ratios and
    95 % intervals. Rows with a missing register value are left out of the fit and get the mean
    propensity of their municipality (reported in ``n``)."""
    import statsmodels.formula.api as smf

    data = frame[list(variables)].astype("string").copy()
    data["responded"] = frame["responded"].astype(int).to_numpy()
    complete = data.notna().all(axis=1)
    formula = "responded ~ " + " + ".join(f"C({v})" for v in variables)
    fit = smf.logit(formula, data=data[complete].astype({v: str for v in variables})).fit(disp=False, maxiter=200)
    ci = fit.conf_int()
    coef = pd.DataFrame({"term": fit.params.index, "coefficient": fit.params.to_numpy(), "se": fit.bse.to_numpy(),
                         "z": fit.tvalues.to_numpy(), "p_value": fit.pvalues.to_numpy(),
                         "odds_ratio": np.exp(fit.params.to_numpy()), "or_ci_low": np.exp(ci[0].to_numpy()),
                         "or_ci_high": np.exp(ci[1].to_numpy())})
    rho = np.full(len(frame), np.nan)
    rho[complete.to_numpy()] = fit.predict(data[complete].astype({v: str for v in variables})).to_numpy()
    if np.isnan(rho).any():
        fill = pd.Series(rho).groupby(frame["kommune"].to_numpy()).transform("mean").to_numpy()
        rho = np.where(np.isnan(rho), fill, rho)
    return PropensityModel(coef, rho, formula, int(complete.sum()), float(fit.prsquared))


def r_indicators(rho: np.ndarray, d: np.ndarray, groups: pd.DataFrame | None = None) -> tuple[dict, pd.DataFrame]:
    """R-indicator, CV of propensities, maximal absolute bias, and unconditional partial R-indicators
    per variable and per category (formulas in the module docstring)."""
    rho = np.asarray(rho, float)
    d = np.asarray(d, float)
    N = d.sum()
    rbar = (d * rho).sum() / N
    S = np.sqrt((d * (rho - rbar) ** 2).sum() / (N - 1))
    R = 1 - 2 * S
    summary = {"R": R, "S": S, "mean_propensity": rbar, "cv": S / rbar, "max_abs_bias": (1 - R) / (2 * rbar)}
    rows = []
    if groups is not None:
        for var in groups.columns:
            values = groups[var].astype("string").fillna("(mangler)").to_numpy()
            between = 0.0
            cat_rows = []
            for cat in sorted(set(values)):
                m = values == cat
                Nk = d[m].sum()
                rk = (d[m] * rho[m]).sum() / Nk
                between += Nk * (rk - rbar) ** 2
                cat_rows.append({"variable": var, "category": cat, "level": "category", "N": Nk,
                                 "mean_propensity": rk, "partial_r": np.sqrt(Nk / N) * (rk - rbar)})
            rows.append({"variable": var, "category": "", "level": "variable", "N": N, "mean_propensity": rbar,
                         "partial_r": np.sqrt(between / N)})
            rows += cat_rows
    return summary, pd.DataFrame(rows, columns=["variable", "category", "level", "N", "mean_propensity", "partial_r"])


def response_curve(frame: pd.DataFrame, responses: pd.DataFrame, closing_date, by: str | None = None) -> pd.DataFrame:
    """Cumulative response rate (complete or partial, by start time) for each day of the collection
    period, in total or by ``by`` (e.g. ``kommune``, ``maalgruppe``)."""
    first = pd.Timestamp(frame["invitation_date"].min()).normalize()
    days = pd.date_range(first, pd.Timestamp(closing_date), freq="D")
    started = frame[["person_id"] + ([by] if by else [])].merge(
        responses[["person_id", "started_at"]], on="person_id", how="left")
    groups = [("", started)] if by is None else started.groupby(by, observed=True, sort=True)
    rows = []
    for cat, g in groups:
        day = g["started_at"].dt.normalize()
        counts = day.value_counts()
        cum = np.cumsum([counts.get(x, 0) for x in days])
        for x, c in zip(days, cum):
            rows.append({"group": str(cat), "date": x.date(), "responses": int(c), "sampled": len(g),
                         "cumulative_rate": c / len(g)})
    return pd.DataFrame(rows)


def completion_quartiles(responses: pd.DataFrame) -> dict[str, float]:
    """Quartiles of the completion time in minutes of complete responses."""
    c = responses[responses["status"] == "complete"]
    minutes = (c["submitted_at"] - c["started_at"]).dt.total_seconds() / 60
    q = minutes.quantile([0.25, 0.5, 0.75]).to_numpy()
    return {"q1": float(q[0]), "median": float(q[1]), "q3": float(q[2]), "n": int(len(minutes))}


def weighting_shift(design: SurveyDesign, questionnaire: Questionnaire, min_cell_size: int) -> pd.DataFrame:
    """For every scored question: unweighted and weighted mean and category shares, and the shift
    (weighted minus unweighted), largest absolute mean shift first — the report's 'Vægtning' table
    for all questions. Questions with fewer answers than ``min_cell_size`` are left empty."""
    rows = []
    w = design.weight
    for q, y in score_matrix(design.frame, questionnaire).items():
        ok = ~np.isnan(y)
        if not ok.any():
            continue
        row = {"question": q, "n": int(ok.sum()), "mean_unweighted": y[ok].mean(),
               "mean_weighted": np.average(y[ok], weights=w[ok])}
        for score in (5, 4, 3, 2, 1):
            hit = y[ok] == score
            row[f"share_{score}_unweighted"] = hit.mean()
            row[f"share_{score}_weighted"] = w[ok][hit].sum() / w[ok].sum()
            row[f"share_{score}_shift"] = row[f"share_{score}_weighted"] - row[f"share_{score}_unweighted"]
        row["mean_shift"] = row["mean_weighted"] - row["mean_unweighted"]
        if row["n"] < min_cell_size:      # disclosure control, as in the tables
            row = {k: (v if k in ("question", "n") else np.nan) for k, v in row.items()}
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.reindex(out["mean_shift"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def balance(design: SurveyDesign, population: pd.DataFrame, variables=NR_VARIABLES) -> pd.DataFrame:
    """Population share, unweighted respondent share and weighted respondent share of each category
    of each variable. Post-stratification makes the weighted shares equal the population's on the
    weighting variables (up to collapsed cells); variables not used in weighting (duration) show the
    imbalance that remains."""
    rows = []
    f = design.frame
    w = design.weight
    for var in variables:
        pop = population[var].astype("string").value_counts(normalize=True)
        resp = f[var].astype("string")
        for cat in sorted(set(pop.index) | set(resp.dropna().unique())):
            m = (resp == cat).fillna(False).to_numpy()
            rows.append({"variable": var, "category": cat, "population_share": float(pop.get(cat, 0.0)),
                         "respondents_share": m.mean(), "weighted_share": w[m].sum() / w.sum()})
    out = pd.DataFrame(rows)
    out["weighted_minus_population"] = out["weighted_share"] - out["population_share"]
    return out


def method_designs(data: SurveyData, params: Params, trim_ratio: float = 5.0,
                   default: SurveyDesign | None = None) -> dict:
    """The whole survey's design under each weighting method :func:`compare_methods` compares, by
    name: cell post-stratification (the report's method), raking on the margins and
    post-stratification with trimming; a method that cannot be applied maps to its
    ``WeightingError``. Computed once, they serve every municipality's comparison.

    ``default``: ``build_design(data, params)`` if already made; it is used for the variant with
    the same method and settings instead of weighting again."""
    base = weighting_settings(params)
    variants = {
        "poststratify": ("poststratify", base),
        "rake": ("rake", base),
        f"poststratify+trim{trim_ratio:g}": ("poststratify", base.__class__(**{**base.__dict__, "trim_max_ratio": trim_ratio})),
    }
    out: dict = {}
    for name, (method, settings) in variants.items():
        if default is not None and method == params.survey.weighting.method and settings == base:
            out[name] = default
            continue
        try:
            out[name] = build_design(data, params, method=method, settings=settings)
        except WeightingError as exc:   # e.g. raking with an empty margin: say so, compare the rest
            out[name] = exc
    return out


def compare_methods(data: SurveyData, params: Params, trim_ratio: float = 5.0,
                    kommune: str | None = None, designs: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Headline estimates (mean score of every question) and weight diagnostics under cell
    post-stratification (the report's method), raking on the margins, post-stratification with
    trimming, and no weighting, side by side (for one municipality's respondents if ``kommune``).

    ``designs``: the result of :func:`method_designs` for the same data, params and ``trim_ratio``
    (computed here when not given)."""
    if designs is None:
        designs = method_designs(data, params, trim_ratio)
    means, diags = {}, []
    unweighted = None
    for name, design in designs.items():
        if isinstance(design, WeightingError):
            diags.append({"method": name, "error": str(design)})
            continue
        if kommune is not None:
            design = design.subset((design.frame["kommune"] == kommune).to_numpy())
        scores = score_matrix(design.frame, params.questionnaire)
        means[name] = {q: np.average(y[~np.isnan(y)], weights=design.weight[~np.isnan(y)]) for q, y in scores.items()
                       if (~np.isnan(y)).any()}
        if unweighted is None:
            unweighted = {q: np.nanmean(y) for q, y in scores.items() if (~np.isnan(y)).any()}
        d = weight_summary(pd.Series(design.weight), design.frame["kommune"]).iloc[0].to_dict()
        diags.append({"method": name, **{k: v for k, v in d.items() if k != "kommune"}})
    table = pd.DataFrame(means)
    table.insert(0, "unweighted", pd.Series(unweighted))
    table.index.name = "question"
    diag = pd.DataFrame(diags)
    if "error" not in diag.columns:
        diag["error"] = np.nan
    return table.reset_index(), diag


@dataclass(frozen=True)
class NonresponseReport:
    """Every non-response and weighting-diagnostic table of a scope (one field a table).

    :meth:`frames` gives them by name, in this order, as ``survey-report nonresponse`` and the batch
    write them (``<name>.csv``); :meth:`from_frames` reads such a set back (the notebooks).
    """

    response_rates: pd.DataFrame
    sample_vs_respondents: pd.DataFrame
    sample_vs_respondents_tests: pd.DataFrame
    means_sample_vs_respondents: pd.DataFrame
    propensity_model: pd.DataFrame
    propensity_by_group: pd.DataFrame
    r_indicator: pd.DataFrame
    partial_r_indicators: pd.DataFrame
    response_curve: pd.DataFrame
    completion_time: pd.DataFrame
    weighting_shift: pd.DataFrame
    strata: pd.DataFrame
    collapses: pd.DataFrame
    weights_diagnostics: pd.DataFrame
    balance: pd.DataFrame
    methods_estimates: pd.DataFrame
    methods_diagnostics: pd.DataFrame
    #: the weights without ids: their distribution is what the diagnostics show
    weights: pd.DataFrame
    #: the warnings on the scope's weights (:func:`survey_lib.weighting.diagnostics.weight_warnings`)
    weight_warnings: pd.DataFrame
    #: the municipalities left out of the analysis (all of them for 'all', the scope itself when it is
    #: left out): ``kommune``, ``reason``, ``label``, ``sampled``, ``respondents``, ``response_rate``
    left_out: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in field order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_frames(cls, frames: dict[str, pd.DataFrame], source: str = "the tables") -> "NonresponseReport":
        """The report of tables read back by name; a missing table is an error naming it and ``source``."""
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in frames]
        if missing:
            raise SurveyError(f"{source}: the non-response tables {', '.join(f'{n}.csv' for n in missing)} are "
                              "missing; write them again with `survey-report nonresponse` or the batch")
        return cls(**{n: frames[n] for n in names})


LEFT_OUT_COLUMNS = ["kommune", "reason", "label", "sampled", "respondents", "response_rate"]


def _left_out(excluded: tuple[Exclusion, ...], whole: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """One row per municipality left out of the analysis, with its response rate (no weights
    needed); a number of respondents from 1 to ``min_n`` − 1 and its rate are withheld, as the
    tables withhold any such count."""
    rows = []
    for e in excluded:
        f = whole[whole["kommune"].astype(str) == e.kommune]
        n = int(f["responded"].sum())
        shown = n == 0 or n >= min_n
        rows.append({"kommune": e.kommune, "reason": e.reason, "label": e.label_da, "sampled": len(f),
                     "respondents": n if shown else np.nan,
                     "response_rate": (n / len(f) if len(f) else np.nan) if shown else np.nan})
    return pd.DataFrame(rows, columns=LEFT_OUT_COLUMNS)


def _left_out_report(data: SurveyData, params: Params, kommune: str, excluded: tuple[Exclusion, ...]
                     ) -> NonresponseReport:
    """The report of a municipality left out of the analysis: its response rates, response curve
    and completion times (they need no weights); every weighted table empty, and ``left_out`` says
    why."""
    whole = sample_frame(data)
    frame = whole[whole["kommune"].astype(str) == kommune].reset_index(drop=True)
    variables = tuple(v for v in NR_VARIABLES if v != "kommune")
    closing = params.survey.closing_date
    curve = pd.concat([response_curve(frame, data.responses, closing).assign(by="total"),
                       response_curve(frame, data.responses, closing, "maalgruppe").assign(by="maalgruppe")],
                      ignore_index=True)
    curve["reminder"] = curve["date"].isin(set(params.survey.reminder_dates))
    in_scope = data.responses["person_id"].isin(frame["person_id"])
    # empty, with a header: written as CSV and read back (the notebooks) they stay tables
    empty = {f.name: pd.DataFrame(columns=["kommune"]) for f in fields(NonresponseReport)}
    empty["sample_vs_respondents"] = pd.DataFrame(columns=["variable", "category"])
    empty["balance"] = pd.DataFrame(columns=["variable", "category"])
    empty["weight_warnings"] = pd.DataFrame(columns=WARNING_COLUMNS)
    report = NonresponseReport(**{
        **empty, "response_rates": response_rates(frame, variables), "response_curve": curve,
        "completion_time": pd.DataFrame([completion_quartiles(data.responses[in_scope])]),
        "left_out": _left_out(tuple(e for e in excluded if e.kommune == kommune), whole,
                                           params.survey.min_cell_size)})
    return suppress_nonresponse(report, whole, kommune, params.survey.min_cell_size,
                                [k.name for k in params.kommuner], NR_VARIABLES)


def _scope_warnings(design: SurveyDesign, params: Params, kommune: str | None) -> pd.DataFrame:
    """The weighting's warnings of the whole survey (``kommune`` None: every one) or of one
    municipality (its own, and those of every municipality's cells, such as cells across
    municipalities)."""
    w = design.weighting
    summary = weight_summary(pd.Series(design.weight), design.frame["kommune"])
    warnings = weight_warnings(summary, w.strata, w.collapses, params.survey.weighting.cells,
                               warning_thresholds(params))
    if kommune is None:
        return warnings
    return warnings[(warnings["kommune"] == kommune) | (warnings["kind"] == "cells_across_municipalities")
                    ].reset_index(drop=True)


@dataclass(frozen=True)
class SurveyWide:
    """What the non-response report of every scope shares, computed once for the whole survey
    (:func:`survey_wide`; a batch hands it to every scope's worker).

    Attributes
    ----------
    data
        The analysed data: the municipalities left out of the analysis removed
        (:func:`survey_lib.exclusions.analysed_data`).
    sample
        :func:`sample_frame` of ``data``: every sampled citizen of the analysed municipalities.
    suppressed
        The respondents counted by scope and group and suppressed as the answer tables are
        (:func:`survey_lib.privacy.disclosure.respondent_suppression`).
    left_out
        The left-out municipalities with their response rates (the table ``left_out`` of scope ``all``).
    """

    data: SurveyData
    sample: pd.DataFrame
    suppressed: pd.DataFrame
    left_out: pd.DataFrame


def survey_wide(data: SurveyData, params: Params, design: SurveyDesign) -> SurveyWide:
    """The survey-wide part of every scope's non-response report (:class:`SurveyWide`) for ``data``
    weighted as ``design`` (``build_design(data, params)``)."""
    from .privacy.disclosure import respondent_suppression

    left_out = _left_out(design.excluded, sample_frame(data), params.survey.min_cell_size) if design.excluded \
        else pd.DataFrame(columns=LEFT_OUT_COLUMNS)
    analysed = analysed_data(data, design.excluded)
    sample = sample_frame(analysed)
    gone = {e.kommune for e in design.excluded}    # not in these tables: no empty group of theirs to protect
    municipalities = [k.name for k in params.kommuner if k.name not in gone]
    return SurveyWide(data=analysed, sample=sample, left_out=left_out,
                      suppressed=respondent_suppression(sample, params.survey.min_cell_size, municipalities,
                                                        NR_VARIABLES))


def nonresponse_report(data: SurveyData, params: Params, kommune: str | None = None,
                       design: SurveyDesign | None = None, designs: dict | None = None,
                       wide: SurveyWide | None = None) -> NonresponseReport:
    """Every non-response and weighting-diagnostic table (what ``survey-report nonresponse``
    writes and the notebooks show), for the whole survey or for one municipality (``kommune``: its
    sampled citizens, respondents and population; the weights are those of the whole weighting).

    ``design`` (``build_design(data, params)``) and ``designs`` (:func:`method_designs`) may be
    passed when they are already computed for the whole survey, as the batch does once for all
    municipalities; the result is the same. So may ``wide`` (:func:`survey_wide` of the same
    ``data``, ``params`` and ``design``): the sample frame and the respondent counts' suppression,
    which are the same for every scope.

    Municipalities left out of the analysis (``design.excluded``, :mod:`survey_lib.exclusions`) are
    not in the tables of the whole survey; ``left_out`` lists them with their response rates. For a
    left-out ``kommune`` only the tables that need no weights are made (response rates, response
    curve, completion times) and the others are empty."""
    if kommune is not None:
        params.kommune(kommune)                      # a clear error for an unknown name
    if design is None:
        design = build_design(data, params)
    if kommune is not None and kommune in {e.kommune for e in design.excluded}:
        return _left_out_report(data, params, kommune, design.excluded)
    if wide is None:
        wide = survey_wide(data, params, design)
    left_out = wide.left_out if kommune is None else pd.DataFrame(columns=LEFT_OUT_COLUMNS)
    data = wide.data
    frame = whole = wide.sample
    population = data.population
    variables = NR_VARIABLES
    if kommune is not None:
        frame = frame[frame["kommune"] == kommune].reset_index(drop=True)
        design = design.subset((design.frame["kommune"] == kommune).to_numpy())
        population = population[population["kommune"] == kommune]
        variables = tuple(v for v in NR_VARIABLES if v != "kommune")
    dist, tests = sample_vs_respondents(frame, variables)
    model = propensity_model(frame, variables)
    summary, partial = r_indicators(model.propensity, frame["design_weight"].to_numpy(float), frame[list(variables)])
    by_group = frame.assign(propensity=model.propensity)
    propensity_groups = pd.concat([
        by_group.groupby(v, observed=True)["propensity"].agg(["mean", "min", "max", "count"]).reset_index()
        .rename(columns={v: "category"}).assign(variable=v) for v in variables], ignore_index=True)
    methods, method_diags = compare_methods(data, params, kommune=kommune,
                                            designs=designs or method_designs(data, params, default=design))
    closing = params.survey.closing_date
    curves = [response_curve(frame, data.responses, closing).assign(by="total"),
              response_curve(frame, data.responses, closing, "maalgruppe").assign(by="maalgruppe")]
    if kommune is None:
        curves.insert(1, response_curve(frame, data.responses, closing, "kommune").assign(by="kommune"))
    curve = pd.concat(curves, ignore_index=True)
    curve["reminder"] = curve["date"].isin(set(params.survey.reminder_dates))
    strata = design.weighting.strata
    collapses = design.weighting.collapses
    if kommune is not None:
        strata = strata[strata["kommune"] == kommune]
        collapses = collapses_of(collapses, params.survey.weighting.cells, "kommune", kommune)
    in_scope = data.responses["person_id"].isin(frame["person_id"])
    report = NonresponseReport(
        response_rates=response_rates(frame, variables),
        sample_vs_respondents=dist,
        sample_vs_respondents_tests=tests,
        means_sample_vs_respondents=mean_comparison(frame),
        propensity_model=model.coefficients,
        propensity_by_group=propensity_groups,
        r_indicator=pd.DataFrame([summary]),
        partial_r_indicators=partial,
        response_curve=curve,
        completion_time=pd.DataFrame([completion_quartiles(data.responses[in_scope])]),
        weighting_shift=weighting_shift(design, params.questionnaire, params.survey.min_cell_size),
        strata=strata,
        collapses=collapses,
        weights_diagnostics=weight_summary(pd.Series(design.weight), design.frame["kommune"]),
        balance=balance(design, population, variables),
        methods_estimates=methods,
        methods_diagnostics=method_diags,
        weights=pd.DataFrame({"weight": np.sort(design.weight)}),
        weight_warnings=_scope_warnings(design, params, kommune),
        left_out=left_out,
    )
    # no count of a group the tables suppress (disclosure control, survey_lib.privacy.disclosure)
    return suppress_nonresponse(report, whole, kommune or "all", params.survey.min_cell_size, (), NR_VARIABLES,
                                suppressed=wide.suppressed)
