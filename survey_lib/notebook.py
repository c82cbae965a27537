"""What the notebooks call: open the tables of a scope and show a question as the report does.

The notebooks stay thin (parameters, calls, display); every loop, calculation and sentence is here.
Tables are read from a folder written by the batch (or ``survey-report tables``) when one is given
(an incomplete folder is an error naming the missing file), else computed from the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .nonresponse import NonresponseReport, nonresponse_report
from .narrative import (comparison_sentence, difference_sentence, escape_markdown as esc, fmt_int, fmt_number,
                        top_two_sentence)
from .errors import SurveyError
from .params import Params, load_params
from .paths import FREE_TEXT_DIR, NONRESPONSE_DIR, ProjectPaths
from .plots import municipality_means, stacked_distribution
from .vocabulary import METHOD_NAMES, REGISTER_TITLES, SurveyVocabulary, is_theme, theme_outcome

__all__ = ["NotebookContext", "open_context", "show_question", "show_multi_select", "show_theme", "key_numbers",
           "open_nonresponse", "show_nonresponse", "show_weighting", "show_summary", "open_free_text",
           "show_free_text", "show_reading_guide", "show_design", "show_weighting_example", "funnel_data",
           "extremes_table", "weighting_example"]

@dataclass
class NotebookContext:
    """The parameters and the tidy tables of one scope (``all`` or a municipality)."""

    params: Params
    scope: str
    tables: pd.DataFrame
    tests: pd.DataFrame
    comparisons: pd.DataFrame
    vocabulary: SurveyVocabulary


def _params(kommune: str | None, params_dir: str | None, wave: str | None = None) -> Params:
    """The parameters, with ``kommune`` checked against kommuner.yaml (a ParamsError lists the names)
    and ``wave`` (None: the params folder's) against survey.yaml's wave."""
    folder = params_dir or ProjectPaths().params
    params = load_params(folder)
    if kommune is not None:
        params.kommune(kommune)
    if wave is not None and wave != params.survey.wave:
        raise SurveyError(f"wave={wave!r}, but the parameters in {folder} are of wave {params.survey.wave!r} "
                          "(survey.yaml: wave); pass the params folder of that wave or wave=None")
    return params


def _tables_folder(tables_dir: str, sub: str, names: tuple[str, ...]) -> Path:
    """``tables_dir/sub``, checked to hold ``<name>.csv`` for every name: a notebook given a tables
    folder reads it and never silently recomputes (from other data) what is missing."""
    folder = Path(tables_dir) / sub
    missing = [str(folder / f"{n}.csv") for n in names if not (folder / f"{n}.csv").is_file()]
    if missing:
        raise SurveyError(f"tables_dir={tables_dir!r} is incomplete: missing {', '.join(missing)}. Write the tables "
                          "with `survey-report tables DATA_DIR --out DIR` (or the batch), or pass tables_dir=None to "
                          "compute them from data_dir.")
    return folder


def _data_folder(data_dir: str | None, params: Params) -> Path:
    """``data_dir``; None: the built-in demo data's folder (the twin generated there if missing)."""
    from .demo import generate, write_dataset

    folder = Path(data_dir) if data_dir else ProjectPaths().demo_data
    if data_dir is None and not (folder / "responses.csv").is_file():
        write_dataset(generate(params), folder)
    return folder


def _load(data_dir: str | None, params: Params):
    """The validated data of ``data_dir``; None: the built-in demo data (generated if missing)."""
    from .load import load_survey

    return load_survey(_data_folder(data_dir, params), params)


def open_context(kommune: str | None, data_dir: str | None, params_dir: str | None,
                 tables_dir: str | None = None, wave: str | None = None) -> NotebookContext:
    """Load params and the tables of the scope (from ``tables_dir`` or computed from ``data_dir``;
    ``data_dir`` None: the built-in demo data, generated if missing)."""
    params = _params(kommune, params_dir, wave)
    scope = kommune or "all"
    if tables_dir:
        folder = _tables_folder(tables_dir, ".", ("tables", "tests", "comparisons"))
        tables, tests, comp = (_read_labelled_csv(folder / f"{name}.csv") for name in ("tables", "tests", "comparisons"))
    else:   # the one table pipeline, as the CLI and the batch run it
        from .pipeline import compute_tables

        ts = compute_tables(_data_folder(data_dir, params), params, scopes=[kommune] if kommune else []).tables
        tables, tests, comp = ts.tables, ts.tests, ts.comparisons
    keep = tables["scope"].isin({scope, "all"})
    return NotebookContext(params, scope, tables[keep].reset_index(drop=True),
                           tests[tests["scope"] == scope].reset_index(drop=True),
                           comp[comp["scope"] == scope].reset_index(drop=True), SurveyVocabulary.from_params(params))


def _show(chart) -> None:
    """Display a chart (:func:`survey_lib.plots.display_chart`)."""
    from .plots import display_chart

    display_chart(chart)


def _int_or_none(v) -> int | None:
    return None if pd.isna(v) else int(v)


def key_numbers(ctx: NotebookContext, qid: str) -> dict:
    """The headline numbers of a question in the scope (recorded by the notebooks for tests)."""
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == qid)
                   & (ctx.tables["breakdown"] == "total")]
    first = t.iloc[0]
    top_two = t[t["category"].isin(["5", "4"])]["share"].sum()
    return {"scope": ctx.scope, "question": qid, "n": _int_or_none(first["n"]), "mean": float(first["mean"]),
            "top_two": float(top_two), "dont_know_n": _int_or_none(first["dont_know_n"]),
            "ci": [float(first["mean_ci_low"]), float(first["mean_ci_high"])]}


def show_question(ctx: NotebookContext, qid: str) -> dict:
    """Display one question: wording, headline sentence, the distribution in total and by every
    breakdown with tests, and (for a municipality) its place among all municipalities."""
    from IPython.display import Markdown, display

    q = ctx.params.questionnaire.question(qid)
    scale = q.scale
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == qid)]
    total = t[t["breakdown"] == "total"]
    nums = key_numbers(ctx, qid)
    who = f" *{esc(q.note)}*" if q.note else ""
    past = (f"\n\n(Til borgere med et afsluttet forløb: *{esc(q.text_past)}*)"
            if q.text_past and q.text_past != q.text_present else "")
    display(Markdown(f"### {esc(q.heading)}\n\n> {esc(q.text_present)}{past}\n\n{who}\n\n"
                     f"**{top_two_sentence(nums['top_two'], nums['mean'], scale, tuple(nums['ci']))}**, "
                     f"blandt {fmt_int(nums['n'])} svar. 'Ved ikke/ikke relevant' ({fmt_int(nums['dont_know_n'])}) "
                     "indgår ikke."))
    # one figure per question: the total, then every breakdown under its heading
    sections = [(b.label, t[t["breakdown"] == b.variable]) for b in ctx.params.survey.breakdowns
                if b.variable != "kommune" and (t["breakdown"] == b.variable).any()]
    labels = ctx.vocabulary.labels
    _show(stacked_distribution(total, f"{q.heading} – i alt og fordelt på grupper", labels,
                               sections=sections))
    _show_group_differences(ctx, qid, t)
    if ctx.scope != "all":
        comp = ctx.comparisons[ctx.comparisons["question"] == qid]
        if len(comp):
            display(Markdown(_benchmark_sentences(ctx, comp.iloc[0])))
        all_k = ctx.tables[(ctx.tables["scope"] == "all") & (ctx.tables["question"] == qid)
                           & (ctx.tables["breakdown"] == "kommune")].drop_duplicates("group")
        chart = municipality_means(all_k, highlight=ctx.scope, title=f"{q.heading} – alle kommuner",
                                   show_names=ctx.params.survey.show_other_municipalities)
        _show(chart)
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


def _benchmark_sentences(ctx: NotebookContext, c: pd.Series) -> str:
    """The raw comparison with the rank and its confidence set, and (where computed) the adjusted
    comparison, with a line saying which is which."""
    from .narrative import adjusted_sentence, comparisons_explanation

    ci = None if pd.isna(c["difference_ci_low"]) else (c["difference_ci_low"], c["difference_ci_high"])
    rank = None if pd.isna(c["rank"]) else c["rank"]
    text = comparison_sentence(ctx.scope, c["mean"], c["others_mean"], c["flag"], rank, int(c["n_municipalities"]),
                               ci, c.get("rank_low"), c.get("rank_high"))
    if rank is None and c["flag"] != "suppressed" and pd.notna(c.get("n")):
        text += (f" Kommunen er ikke rangeret: {fmt_int(c['n'])} svar er under de "
                 f"{fmt_int(ctx.params.survey.reporting_minimum)}, der kræves for at indgå i en placering.")
    flag = c.get("adjusted_flag")
    if isinstance(flag, str) and flag:
        adj_ci = None if pd.isna(c["adjusted_ci_low"]) else (c["adjusted_ci_low"], c["adjusted_ci_high"])
        text += "\n\n" + adjusted_sentence(ctx.scope, c["adjusted_difference"], adj_ci, flag) + \
            "\n\n" + comparisons_explanation()
    return text


def _show_group_differences(ctx: NotebookContext, qid: str, t: pd.DataFrame) -> None:
    """Per breakdown: the groups' mean scores and a sentence on who is higher and whether it is
    statistically sure (Wald test of the means); the distribution's test in words; the statistics
    themselves folded away (they are in tests.csv and the workbook too)."""
    from IPython.display import HTML, Markdown, display

    alpha = ctx.params.survey.significance_level
    lines, details = [], []
    for b in ctx.vocabulary.breakdowns:
        if b.variable == "kommune":
            continue
        means = t[t["breakdown"] == b.variable].drop_duplicates("group")
        if means.empty:
            continue
        tests = ctx.tests[(ctx.tests["question"] == qid) & (ctx.tests["breakdown"] == b.variable)]
        wald = tests[tests["test"] == "wald"]
        p = wald["p_adjusted"].iloc[0] if len(wald) else float("nan")
        reason = str(wald["not_computable"].iloc[0]) if len(wald) and pd.notna(wald["not_computable"].iloc[0]) else ""
        text = difference_sentence([(esc(b.who(g)), m) for g, m in zip(means["group"], means["mean"])], p, alpha,
                                   reason)
        dist = tests[tests["test"] == "rao_scott"]
        if len(dist) and pd.notna(dist["p_adjusted"].iloc[0]):
            sure = dist["p_adjusted"].iloc[0] < alpha
            text += (" Fordelingen på svarkategorierne er " + ("" if sure else "ikke ") + "statistisk sikkert forskellig.")
        lines.append(f"- **{esc(b.title)}**: {text}")
        details += [(b.title, r) for r in tests.itertuples()]
    if lines:
        display(Markdown("\n".join(lines)))
    if details:
        display(HTML(_test_details(details)))


def _test_details(rows: list) -> str:
    """The tests behind the sentences as a folded HTML table (every value escaped)."""
    import html

    from .narrative import fmt_p

    names = {"rao_scott": "Rao–Scott (fordeling)", "wald": "Wald (gennemsnit)", "t": "t-test"}
    body = "".join(
        f"<tr><th scope=\"row\">{html.escape(title)}</th><td>{html.escape(names.get(r.test, r.test))}</td>"
        f"<td>{fmt_number(r.statistic)}</td><td>{fmt_number(r.df1, 1)}</td><td>{fmt_number(r.df2, 1)}</td>"
        f"<td>{html.escape(fmt_p(r.p_value))}</td><td>{html.escape(fmt_p(r.p_adjusted))}</td></tr>"
        for title, r in rows)
    return ("<details class=\"test-details\"><summary>Testdetaljer</summary><table><thead><tr>"
            "<th scope=\"col\">Opdeling</th><th scope=\"col\">Test</th><th scope=\"col\">F / t</th>"
            "<th scope=\"col\">df1</th><th scope=\"col\">df2</th><th scope=\"col\">p</th>"
            "<th scope=\"col\">Justeret p</th></tr></thead><tbody>" + body + "</tbody></table></details>")


def show_multi_select(ctx: NotebookContext, qid: str) -> None:
    """Display a multi-select question: the share of the respondents asked who ticked each option."""
    from IPython.display import Markdown, display

    q = ctx.params.questionnaire.question(qid)
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == qid)
                   & (ctx.tables["breakdown"] == "total")]
    if t.empty:
        return
    n = _int_or_none(t["n"].iloc[0])
    if n is None:
        display(Markdown(f"### {esc(q.heading)}\n\nFor få svar til at vise resultatet."))
        return
    lines = [f"### {esc(q.heading)}", "", f"> {esc(q.text_present)}", "", f"*{esc(q.note)}*" if q.note else "", "",
             "| Afdeling | Andel | Antal |", "|---|---:|---:|"]
    for r in t.itertuples():
        share = "undertrykt" if r.suppressed else f"{fmt_number(100 * r.share, 1)} %"
        count = "–" if r.suppressed else fmt_int(r.category_n)
        lines.append(f"| {esc(r.category_label)} | {share} | {count} |")
    lines += ["", f"Andele af {fmt_int(n)} borgere, der har svaret; flere svar er mulige, så andelene summerer "
              "ikke til 100 %."]
    display(Markdown("\n".join(lines)))


def show_theme(ctx: NotebookContext, theme: str) -> list[dict]:
    """Display every question of a theme in questionnaire order, and the theme score."""
    from IPython.display import Markdown, display

    recorded = []
    for q in ctx.params.questionnaire.questions:
        if q.theme != theme:
            continue
        if q.kind == "likert":
            recorded.append(show_question(ctx, q.id))
        elif q.kind == "multi_select":
            show_multi_select(ctx, q.id)
    score = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == theme_outcome(theme))
                       & (ctx.tables["breakdown"] == "total")]
    if len(score):
        r = score.iloc[0]
        label = next(t.label for t in ctx.params.questionnaire.themes if t.id == theme)
        display(Markdown(f"**Temascore for {esc(label.lower())}:** {fmt_number(r['mean'])} "
                         f"(95 %-konfidensinterval {fmt_number(r['mean_ci_low'])}–{fmt_number(r['mean_ci_high'])}), "
                         "gennemsnittet af borgerens svar på temaets spørgsmål."))
        comp = ctx.comparisons[ctx.comparisons["question"] == theme_outcome(theme)]
        if ctx.scope != "all" and len(comp):
            display(Markdown(_benchmark_sentences(ctx, comp.iloc[0])))
    return recorded


def show_reading_guide(params: Params) -> None:
    """How to read a theme's charts, rendered from survey.yaml at run time (minimum cell size,
    weighting cells, multiple-testing rule)."""
    from IPython.display import Markdown, display

    from .narrative import glossary, reading_guide

    s = params.survey
    display(Markdown(reading_guide(s.min_cell_size, s.weighting.cells, s.multiple_testing, s.significance_level)
                     + "\n\n" + glossary(s.significance_level)))


# ---- non-response and weighting ------------------------------------------------------------------


def _md_table(frame: pd.DataFrame, formats: dict[str, callable]) -> str:
    """A Markdown table; every cell is escaped (the values come from data and parameters)."""
    cols = list(frame.columns)
    lines = ["| " + " | ".join(esc(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        cells = [esc(formats.get(c, str)(v)) if not (v is pd.NA or (isinstance(v, float) and pd.isna(v))) else "–"
                 for c, v in zip(cols, row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)




def read_csv_folder(folder: Path | str) -> dict[str, pd.DataFrame]:
    """The tables of a folder written by :func:`survey_lib.export.write_csvs` (e.g. the non-response
    tables of ``survey-report nonresponse`` or the batch), by name, one per CSV."""
    return {p.stem: _read_labelled_csv(p) for p in sorted(Path(folder).glob("*.csv"))}


_LABEL_COLUMNS = ("category", "group", "level", "variable", "by")


def _read_labelled_csv(path: Path) -> pd.DataFrame:
    """A CSV of tables: an empty number is missing, but an empty label stays '' (the total's group
    and category are '': as NaN they would drop out of every groupby, and the total with them)."""
    from .export import restore_csv_text

    frame = restore_csv_text(pd.read_csv(path, keep_default_na=False, na_values=[""],
                                         dtype={c: str for c in _LABEL_COLUMNS}), text_columns=_LABEL_COLUMNS)
    for c in _LABEL_COLUMNS:
        if c in frame.columns:
            frame[c] = frame[c].fillna("")
    return frame


def open_nonresponse(kommune: str | None, data_dir: str | None, params_dir: str | None,
                     tables_dir: str | None = None, wave: str | None = None):
    """Params and every non-response / weighting table of the scope (see survey_lib.nonresponse):
    read from ``tables_dir/frafald`` when a tables folder is given, else computed from the data."""
    params = _params(kommune, params_dir, wave)
    if tables_dir:
        folder = _tables_folder(tables_dir, NONRESPONSE_DIR, ("response_rates",))
        return params, NonresponseReport.from_frames(read_csv_folder(folder), str(folder))
    return params, nonresponse_report(_load(data_dir, params), params, kommune=kommune)


def _in_order(rows: pd.DataFrame, vocabulary: SurveyVocabulary, var: str) -> pd.DataFrame:
    """Rows of one variable in the params order of its categories (not alphabetical)."""
    order = vocabulary.order(var)
    key = rows["category"].map(lambda c: order.index(c) if c in order else len(order))
    return rows.assign(_k=key).sort_values("_k").drop(columns="_k")


def _term_label(term: str, labels: dict[str, str]) -> str:
    """'C(koen)[T.M]' -> 'Køn: Mænd'."""
    import re

    m = re.match(r"C\((\w+)\)\[T\.(.*)\]", term)
    if not m:
        return term
    return f"{REGISTER_TITLES.get(m.group(1), m.group(1))}: {labels.get(m.group(2), m.group(2))}"


def _left_out_text(report: NonresponseReport) -> str:
    """What a page says of the municipalities left out of the analysis (empty when none is)."""
    from .narrative import fmt_pct

    lo = report.left_out
    if lo is None or lo.empty:
        return ""
    if report.sample_vs_respondents.empty:     # this page's municipality is the one left out
        r = lo.iloc[0]
        return (f"**{esc(r['kommune'])} er ikke analyseret ({esc(r['label'])}).** Svarprocenten kræver ingen vægte "
                "og vises; vægtning, sammenligning af stikprøve og respondenter, svarmodel og R-indikator "
                "er udeladt, fordi kommunen ikke kan vægtes (eller er udeladt i survey.yaml).")
    items = "; ".join(f"{esc(r.kommune)} ({esc(r.label)}, svarprocent "
                      f"{fmt_pct(r.response_rate) if pd.notna(r.response_rate) else '–'})" for r in lo.itertuples())
    return f"Tallene for alle kommuner er beregnet uden de kommuner, der ikke er analyseret: {items}."


def show_nonresponse(params: Params, report: NonresponseReport) -> dict:
    """Display the non-response analysis: rates, sample against respondents with tests, the
    propensity model, R-indicators, the response curve and completion times."""
    from IPython.display import Markdown, display

    from .narrative import fmt_p, fmt_pct
    from .plots import category_bars, response_curve_chart, sample_vs_respondents_chart

    vocabulary = SurveyVocabulary.from_params(params)
    labels = vocabulary.labels
    alpha = params.survey.significance_level
    rates = report.response_rates
    total = rates[rates["variable"] == "total"].iloc[0]
    display(Markdown(f"## Svarprocent\n\n{fmt_int(total['sampled'])} borgere blev udtrukket; "
                     f"{fmt_int(total['complete'])} gennemførte og {fmt_int(total['partial'])} svarede delvist, "
                     f"i alt en svarprocent på **{fmt_pct(total['response_rate'])}**."))
    left_out_md = _left_out_text(report)
    if left_out_md:
        display(Markdown(left_out_md))
    if report.sample_vs_respondents.empty:      # a municipality left out: no weighted tables
        nums = {"response_rate": float(total["response_rate"])}
        display({"application/json": {"key_numbers": nums}}, raw=True)
        return nums
    dist, tests = report.sample_vs_respondents, report.sample_vs_respondents_tests.set_index("variable")
    for var in dist["variable"].unique():
        part = _in_order(rates[rates["variable"] == var], vocabulary, var)
        _show(category_bars(part, "response_rate", f"Svarprocent – {REGISTER_TITLES.get(var, var)}", labels=labels))
        _show(sample_vs_respondents_chart(_in_order(dist[dist["variable"] == var], vocabulary, var),
                                          f"Stikprøve og respondenter – {REGISTER_TITLES.get(var, var)}", labels))
        t = tests.loc[var]
        verdict = "adskiller sig signifikant fra" if t["p_value"] < alpha else "adskiller sig ikke signifikant fra"
        display(Markdown(f"Respondenternes fordeling på {esc(REGISTER_TITLES.get(var, var).lower())} {verdict} stikprøvens "
                         f"(Rao–Scott F = {fmt_number(t['statistic'])}, {fmt_p(t['p_value'])})."))
    means = report.means_sample_vs_respondents.set_index("measure")
    age = means.loc["age_years"]
    display(Markdown(f"Gennemsnitsalderen er {fmt_number(age['sample_weighted'], 1)} år i stikprøven og "
                     f"{fmt_number(age['respondents_weighted'], 1)} år blandt respondenterne."))
    coef = report.propensity_model
    coef = coef.assign(term=coef["term"].map(lambda t: _term_label(t, labels)))
    table = coef[coef["term"] != "Intercept"][["term", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"]].rename(
        columns={"term": "Variabel", "odds_ratio": "Odds ratio", "or_ci_low": "95 %-KI nedre",
                 "or_ci_high": "95 %-KI øvre", "p_value": "p-værdi"})
    display(Markdown("## Model for sandsynligheden for at svare\n\nLogistisk regression af at svare på "
                     "registeroplysningerne. En odds ratio over 1 betyder, at gruppen svarer oftere end "
                     "referencegruppen (den første kategori i alfabetisk orden).\n\n" + _md_table(table, {"Odds ratio": lambda v: fmt_number(v),
                                                                   "95 %-KI nedre": lambda v: fmt_number(v),
                                                                   "95 %-KI øvre": lambda v: fmt_number(v),
                                                                   "p-værdi": lambda v: fmt_p(v)})))
    r = report.r_indicator.iloc[0]
    display(Markdown(f"## Repræsentativitet (R-indikator)\n\nR-indikatoren er **{fmt_number(r['R'])}** (1 er fuldt "
                     f"repræsentativt svar). Svarsandsynlighedernes variationskoefficient er {fmt_number(r['cv'])}; "
                     f"den største mulige standardiserede skævhed i et gennemsnit uden vægtning er "
                     f"{fmt_number(r['max_abs_bias'])} standardafvigelser. De partielle indikatorer nedenfor viser, "
                     "hvilke grupper der trækker: negative værdier er underrepræsenterede grupper."))
    partial = report.partial_r_indicators
    for var in partial["variable"].unique():
        cats = _in_order(partial[(partial["variable"] == var) & (partial["level"] == "category")], vocabulary, var)
        _show(category_bars(cats, "partial_r", f"Partiel R-indikator – {REGISTER_TITLES.get(var, var)}", percent=False,
                            labels=labels))
    curve = report.response_curve
    reminders = list(params.survey.reminder_dates)
    _show(response_curve_chart(curve[curve["by"] == "total"], reminders, "Kumuleret svarprocent"))
    _show(response_curve_chart(curve[curve["by"] == "maalgruppe"], reminders, "Kumuleret svarprocent – målgruppe",
                               labels))
    ct = report.completion_time.iloc[0]
    display(Markdown(f"Halvdelen af de gennemførte besvarelser tog højst {fmt_number(ct['median'], 1)} minutter "
                     f"(kvartiler {fmt_number(ct['q1'], 1)} og {fmt_number(ct['q3'], 1)} minutter)."))
    nums = {"response_rate": float(total["response_rate"]), "R": float(r["R"])}
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


def show_weighting(params: Params, report: NonresponseReport) -> dict:
    """Display the weighting diagnostics: strata and collapses, weight distribution, design effect,
    balance, the shift from unweighted to weighted results, and the comparison of methods."""
    from IPython.display import Markdown, display

    from .narrative import count_phrase, fmt_pct, weighting_intro
    from .plots import weight_histogram

    left_out_md = _left_out_text(report)
    if report.sample_vs_respondents.empty:      # a municipality left out: it has no weights
        display(Markdown("## Vægtning\n\n" + left_out_md))
        display({"application/json": {"key_numbers": {}}}, raw=True)
        return {}
    strata, collapses = report.strata, report.collapses
    labels = SurveyVocabulary.from_params(params).labels

    def cell_label(code) -> str:      # 'under_30/M/Odder/sygedagpenge' -> 'Under 30 / Mænd / Odder / ...'
        return " / ".join(labels.get(part, part) for part in str(code).split("/"))

    strata = strata.assign(post_stratum=strata["post_stratum"].map(cell_label))
    if len(collapses):
        collapses = collapses.assign(**{c: collapses[c].map(lambda v: "; ".join(cell_label(x) for x in str(v).split("; ")))
                                        for c in ("cell", "merged_into") if c in collapses.columns})
    cells = params.survey.weighting.cells
    cells_text = " × ".join(REGISTER_TITLES.get(c, c).lower() for c in cells)
    display(Markdown(weighting_intro(params.survey.weighting.method, cells)))
    if left_out_md:
        display(Markdown(left_out_md))
    warn = report.weight_warnings
    if len(warn):
        display(Markdown("## Advarsler om vægtene\n\nGrænserne står i `survey.yaml` (weighting.max_weight_ratio, "
                         "weighting.max_collapsed_share, batch.max_design_effect, batch.min_effective_n).\n\n"
                         + "\n".join(f"- **{esc('Alle' if r.kommune == 'all' else r.kommune)}**: {esc(r.text)}"
                                      for r in warn.itertuples())))
    across = collapses[collapses["rule"] == "other målgruppe in the municipality"] if len(collapses) else collapses
    display(Markdown(f"## Vægtningsceller\n\n{fmt_int(len(strata))} celler ({cells_text}); "
                     + (f"{count_phrase(len(collapses), 'celle', 'celler')} uden nok respondenter er lagt sammen med en "
                        "nabocelle." if len(collapses) else "ingen celler skulle lægges sammen med en nabocelle.")
                     + ("\n\n" + _md_table(collapses.rename(columns={"cell": "Celle", "merged_into": "Lagt sammen med",
                                                                      "rule": "Regel", "reason": "Årsag"}), {})
                        if len(collapses) else "")
                     + (f"\n\n**{count_phrase(len(across), 'celle', 'celler')} er lagt sammen på tværs af målgruppe**: "
                        "borgerne i dem vægtes, som om de hørte til den målgruppe, de er lagt sammen med."
                        if len(across) else "")
                     + ("\n\n**Vægtningscellerne går på tværs af kommunerne** (kommune er ikke en cellevariabel): en "
                        "kommunes vægte følger landets sammensætning, ikke kommunens." if "kommune" not in cells else "")))
    if 0 < len(strata) <= 60:      # one municipality: its cells in full
        display(Markdown(_md_table(strata[["post_stratum", "population", "respondents", "weight"]].rename(columns={
            "post_stratum": f"Celle ({'/'.join(REGISTER_TITLES.get(c, c).lower() for c in cells)})",
            "population": "Population",
            "respondents": "Respondenter", "weight": "Vægt (strataratio)"}),
            {"Population": fmt_int, "Respondenter": fmt_int, "Vægt (strataratio)": fmt_number})))
    elif len(strata):
        display(Markdown(f"Tabellen over alle {fmt_int(len(strata))} celler står i `strata.csv` "
                         "(`survey-report nonresponse`); kommunernes notebooks viser deres egne celler."))
    w = report.weights["weight"].to_numpy(float)
    _show(weight_histogram(w, "Vægtenes fordeling"))
    diag = report.weights_diagnostics.assign(kommune=lambda d: d["kommune"].replace({"all": "Alle"}))
    row = diag.iloc[0]
    display(Markdown(f"Designeffekten af de ulige vægte (Kish) er **{fmt_number(row['deff_kish'])}**: de "
                     f"{fmt_int(row['respondents'])} svar giver samme præcision som {fmt_int(row['n_effective'])} "
                     "svar uden vægte."))
    display(Markdown("### Vægte pr. kommune\n\n" + _md_table(
        diag[["kommune", "respondents", "min", "median", "max", "cv", "deff_kish", "n_effective"]].rename(columns={
            "kommune": "Kommune", "respondents": "Respondenter", "min": "Mindst", "median": "Median", "max": "Størst",
            "cv": "CV", "deff_kish": "Designeffekt", "n_effective": "Effektivt n"}),
        {"Respondenter": fmt_int, "Mindst": fmt_number, "Median": fmt_number, "Størst": fmt_number, "CV": fmt_number,
         "Designeffekt": fmt_number, "Effektivt n": fmt_int})))
    heading = {q.id: q.heading for q in params.questionnaire.questions}
    bal = report.balance.assign(variable=lambda d: d["variable"].map(REGISTER_TITLES).fillna(d["variable"]),
                                   category=lambda d: d["category"].map(lambda c: labels.get(c, c)))
    display(Markdown("## Balance efter vægtning\n\nVægtede respondenter mod populationen. På vægtningsvariablerne "
                     "er forskellen nul (bortset fra sammenlagte celler); varighed indgår ikke i vægtningen, så "
                     "her ses den skævhed, der er tilbage.\n\n" + _md_table(
                         bal.rename(columns={"variable": "Variabel", "category": "Kategori",
                                             "population_share": "Population", "respondents_share": "Respondenter",
                                             "weighted_share": "Vægtet", "weighted_minus_population": "Forskel"}),
                         {"Population": fmt_pct, "Respondenter": fmt_pct, "Vægtet": fmt_pct,
                          "Forskel": lambda v: fmt_number(100 * v, 1) + " pct.-point"})))
    shift = report.weighting_shift.assign(question=lambda d: d["question"].map(heading).fillna(d["question"]))
    display(Markdown("## Hvad vægtningen ændrer\n\nGennemsnitlig score uden og med vægtning, største ændring "
                     "først.\n\n" + _md_table(
                         shift[["question", "n", "mean_unweighted", "mean_weighted", "mean_shift"]].rename(columns={
                             "question": "Spørgsmål", "n": "Svar", "mean_unweighted": "Uvægtet",
                             "mean_weighted": "Vægtet", "mean_shift": "Ændring"}),
                         {"Svar": fmt_int, "Uvægtet": fmt_number, "Vægtet": fmt_number,
                          "Ændring": lambda v: fmt_number(v, 3)})))
    names = dict(METHOD_NAMES)
    methods = report.methods_estimates.assign(question=lambda d: d["question"].map(heading).fillna(d["question"]))
    methods = methods.rename(columns=lambda c: {"question": "Spørgsmål", "unweighted": "Uvægtet"}.get(
        c, names.get(c, c.replace("poststratify+trim", "Post-stratificering, trimmet ved ").replace("5", "5 × median"))))
    mdiag = report.methods_diagnostics.assign(method=lambda d: d["method"].map(lambda m: names.get(
        m, m.replace("poststratify+trim", "Post-stratificering, trimmet ved ").replace("5", "5 × median"))))
    display(Markdown("## Sammenligning af vægtningsmetoder\n\nPost-stratificering (rapportens metode), "
                     "raking på marginalerne og post-stratificering med trimning af store vægte.\n\n"
                     + _md_table(methods, {c: fmt_number for c in methods.columns if c != "Spørgsmål"})
                     + "\n\n" + _md_table(mdiag[["method", "deff_kish", "n_effective", "max"]].rename(columns={
                         "method": "Metode", "deff_kish": "Designeffekt", "n_effective": "Effektivt n",
                         "max": "Største vægt"}), {"Designeffekt": fmt_number, "Effektivt n": fmt_int,
                                                   "Største vægt": fmt_number})))
    nums = {"deff_kish": float(row["deff_kish"]), "strata": int(len(strata))}
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


def show_summary(ctx: NotebookContext) -> dict:
    """The summary: theme scores, the highest and lowest scoring questions, the largest differences
    between groups, and (for a municipality) where it stands against the others."""
    from IPython.display import Markdown, display

    from .narrative import flag_explanation, glossary
    from .plots import score_chart
    from .scores import theme_score_ids

    qn, s = ctx.params.questionnaire, ctx.params.survey
    heading = {q.id: q.heading for q in qn.questions} | {theme_outcome(t.id): t.label for t in qn.themes}
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["breakdown"] == "total")]
    firsts = t.drop_duplicates("question").set_index("question")
    # each theme once: a theme of one question is that question's score
    theme_label = {t.id: t.label for t in qn.themes}
    ids = {oid: theme_label[th] for th, oid in theme_score_ids(qn).items() if oid in firsts.index}
    themes = firsts.loc[list(ids)]
    themes = themes[~themes["suppressed"].astype(bool)]
    display(Markdown("## Temascorer\n\nGennemsnittet af borgerens svar på temaets spørgsmål (1–5, hvor 5 er mest "
                     "positiv), vægtet. Et tema med ét spørgsmål har det spørgsmåls score.\n\n" + _md_table(pd.DataFrame({
                         "Tema": [ids[q] for q in themes.index], "Score": themes["mean"],
                         "95 %-KI": [f"{fmt_number(lo)}–{fmt_number(hi)}" for lo, hi in
                                     zip(themes["mean_ci_low"], themes["mean_ci_high"])],
                         "Svar": themes["n"]}), {"Score": fmt_number, "Svar": fmt_int})))
    bars = pd.DataFrame({"category": [ids[q] for q in themes.index], "mean": themes["mean"].to_numpy(),
                         "ci_low": themes["mean_ci_low"].to_numpy(), "ci_high": themes["mean_ci_high"].to_numpy()})
    _show(score_chart(bars, "Temascorer (gennemsnitlig score 1–5)"))
    # the highest and lowest: only questions with at least the reporting minimum of answers
    likert = firsts[~firsts.index.map(is_theme).to_numpy(bool) & firsts["mean"].notna()
                    & (firsts["n"].astype(float) >= s.reporting_minimum)].sort_values("mean")

    def listing(rows):
        return "\n".join(f"- {esc(heading[q])}: {fmt_number(r['mean'])} (n = {fmt_int(r['n'])})"
                         for q, r in rows.iterrows())
    display(Markdown("## Højeste og laveste score\n\n"
                     f"Spørgsmål med mindst {fmt_int(s.reporting_minimum)} svar.\n\n**Højest:**\n\n"
                     + listing(likert.iloc[::-1].head(3)) + "\n\n**Lavest:**\n\n" + listing(likert.head(3))))
    display(Markdown("## Hvor er forskellene størst?\n\n" + _largest_differences(ctx, t, heading)))
    nums = {"scope": ctx.scope, "themes": {q: float(m) for q, m in themes["mean"].items()}}
    if ctx.scope != "all" and len(ctx.comparisons):
        from .narrative import comparisons_explanation

        display(Markdown(f"## {esc(ctx.scope)} mod de øvrige kommuner\n\n" + _benchmark_table(ctx, heading)
                         + "\n\n" + flag_explanation(s.comparison_testing, s.significance_level)
                         + f" Placeringen er blandt kommuner med mindst {fmt_int(s.reporting_minimum)} svar; "
                         "'sikkert mellem' er et 95 %-konfidenssæt for placeringen: den sande placering ligger "
                         "med 95 % sikkerhed i det interval.\n\n" + comparisons_explanation()))
        nums["flags"] = dict(zip(ctx.comparisons["question"], ctx.comparisons["flag"]))
        nums["adjusted_flags"] = {q: f for q, f in zip(ctx.comparisons["question"], ctx.comparisons["adjusted_flag"])
                                  if isinstance(f, str) and f}
    if ctx.scope == "all":
        extremes = extremes_table(ctx)
        display(Markdown("## Mest og mindst tilfredse kommune\n\nFor hvert spørgsmål kommunen med den højeste og "
                         f"den laveste gennemsnitlige score, blandt kommuner med mindst {fmt_int(s.reporting_minimum)} "
                         "svar på spørgsmålet.\n\n" + _md_table(extremes, {"Højest, score": fmt_number,
                                                                          "Lavest, score": fmt_number})))
        nums["extremes"] = len(extremes)
    nums["funnels"] = _show_funnels(ctx, ids)
    display(Markdown(glossary(s.significance_level)))
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


def extremes_table(ctx: NotebookContext) -> pd.DataFrame:
    """Per 1–5 question: the municipality with the highest and the lowest mean score, among the
    municipalities with at least the reporting minimum of answers (ties: the first in name order)."""
    s = ctx.params.survey
    rows = ctx.tables[(ctx.tables["scope"] == "all") & (ctx.tables["breakdown"] == "kommune")].drop_duplicates(
        ["question", "group"])
    rows = rows[~rows["suppressed"].astype(bool) & rows["mean"].notna()
                & (rows["n"].astype(float) >= s.reporting_minimum)]
    out = []
    for q in ctx.params.questionnaire.likert:
        part = rows[rows["question"] == q.id].sort_values(["mean", "group"], ascending=[False, True])
        if len(part) < 2:
            continue
        top = part.iloc[0]
        bottom = part.sort_values(["mean", "group"], ascending=[True, True]).iloc[0]
        out.append({"Spørgsmål": q.heading, "Højest": top["group"], "Højest, score": top["mean"],
                    "Lavest": bottom["group"], "Lavest, score": bottom["mean"], "Kommuner": len(part)})
    return pd.DataFrame(out, columns=["Spørgsmål", "Højest", "Højest, score", "Lavest", "Lavest, score", "Kommuner"])


def funnel_data(ctx: NotebookContext, outcome: str):
    """The funnel plot's numbers for one outcome: every published municipality's score and number
    of answers with the 95 % and 99,8 % limits around the score of all municipalities
    (:class:`survey_lib.funnel.FunnelLimits`, sigma pooled from the design-based standard errors).
    None when fewer than two municipalities are published."""
    from .funnel import FunnelLimits

    rows = ctx.tables[(ctx.tables["scope"] == "all") & (ctx.tables["question"] == outcome)]
    total = rows[rows["breakdown"] == "total"]
    k = rows[(rows["breakdown"] == "kommune")].drop_duplicates("group")
    k = k[~k["suppressed"].astype(bool) & k["mean"].notna() & k["mean_se"].notna()]
    if len(k) < 2 or total.empty or pd.isna(total["mean"].iloc[0]):
        return None
    table = pd.DataFrame({"kommune": k["group"].to_numpy(), "estimate": k["mean"].to_numpy(float),
                          "n": k["n"].to_numpy(float), "se": k["mean_se"].to_numpy(float)})
    return FunnelLimits(target=float(total["mean"].iloc[0]))(table)


def _show_funnels(ctx: NotebookContext, ids: dict[str, str]) -> dict[str, str]:
    """A funnel plot per theme (its score, or its one question's): all municipalities, the own one
    highlighted on a municipality's page. Returns each theme outcome's position of the own
    municipality (or the number outside the 95 % limits on the all page)."""
    from IPython.display import Markdown, display

    from .plots import funnel_chart

    shown: dict[str, str] = {}
    heading_done = False
    own = None if ctx.scope == "all" else ctx.scope
    for outcome, label in ids.items():
        res = funnel_data(ctx, outcome)
        if res is None:
            continue
        if not heading_done:
            display(Markdown("## Kommunerne i en tragt\n\nEt tragtdiagram pr. tema viser hver kommunes score mod "
                             "antallet af svar. Jo færre svar, jo mere kan en score svinge af tilfældige grunde; "
                             "grænserne viser, hvor langt fra alle kommuners score en kommune kan ligge af den grund "
                             "(Spiegelhalter 2005)."))
            heading_done = True
        units = res.units.rename(columns={"kommune": "group", "estimate": "mean"})
        _show(funnel_chart(units, res.curves, res.target, highlight=own, title=f"{label} – score mod antal svar",
                           show_names=ctx.params.survey.show_other_municipalities or own is None))
        if own is not None and own in set(units["group"]):
            shown[outcome] = str(units.set_index("group").at[own, "position"])
        else:
            shown[outcome] = str(int(units["position"].isin(["outside_95", "outside_998"]).sum()))
    return shown


def _largest_differences(ctx: NotebookContext, t: pd.DataFrame, heading: dict[str, str]) -> str:
    """The five largest statistically sure differences between groups (Wald test of the means,
    largest F first), each as a sentence saying who is higher."""
    tests = ctx.tests[(ctx.tests["test"] == "wald") & (ctx.tests["breakdown"] != "kommune")
                      & ~ctx.tests["question"].map(is_theme).astype(bool)]
    alpha = ctx.params.survey.significance_level
    sig = tests[tests["p_adjusted"] < alpha].sort_values("statistic", ascending=False)
    if sig.empty:
        return "Ingen forskelle i gennemsnitlig score mellem grupper er statistisk sikre."
    scope_rows = ctx.tables[ctx.tables["scope"] == ctx.scope]
    lines = []
    for r in sig.head(5).itertuples():
        b = ctx.vocabulary.breakdown(r.breakdown)
        groups = scope_rows[(scope_rows["question"] == r.question) & (scope_rows["breakdown"] == r.breakdown)
                            ].drop_duplicates("group")
        text = difference_sentence([(esc(b.who(g)), m) for g, m in zip(groups["group"], groups["mean"])],
                                   r.p_adjusted, alpha)
        lines.append(f"- **{esc(heading.get(r.question, r.question))}** ({esc(b.title.lower())}): {text}")
    return ("De største statistisk sikre forskelle i gennemsnitlig score mellem grupper:\n\n" + "\n".join(lines))


def _benchmark_table(ctx: NotebookContext, heading: dict[str, str]) -> str:
    """The municipality against the others: means, the difference with its 95 % interval, the rank
    with its 95 % confidence set (only with at least the reporting minimum of answers), the flag,
    and for the themes the adjusted comparison beside the raw one."""
    from .narrative import ADJUSTED_FLAG_WORDS, FLAG_WORDS, rank_text

    comp = ctx.comparisons
    rank = [rank_text(r, n, lo, hi) or "–" for r, n, lo, hi in
            zip(comp["rank"], comp["n_municipalities"], comp["rank_low"], comp["rank_high"])]
    interval = [f"{fmt_number(lo)} til {fmt_number(hi)}" if pd.notna(lo) else "–"
                for lo, hi in zip(comp["difference_ci_low"], comp["difference_ci_high"])]
    adjusted = [f"{fmt_number(d)} ({fmt_number(lo)} til {fmt_number(hi)})" if pd.notna(d) else "–"
                for d, lo, hi in zip(comp["adjusted_difference"], comp["adjusted_ci_low"], comp["adjusted_ci_high"])]
    adj_flag = [ADJUSTED_FLAG_WORDS.get(f if isinstance(f, str) else "", "–") for f in comp["adjusted_flag"]]
    return _md_table(pd.DataFrame({
        "Spørgsmål": [("Tema: " if is_theme(q) else "") + heading.get(q, q) for q in comp["question"]],
        "Kommunen": comp["mean"], "Øvrige": comp["others_mean"], "Forskel": comp["difference"],
        "95 %-KI for forskellen": interval, "Placering": rank, "Vurdering": comp["flag"].map(FLAG_WORDS),
        "Justeret forskel (95 %-KI)": adjusted, "Justeret vurdering": adj_flag}),
        {"Kommunen": fmt_number, "Øvrige": fmt_number, "Forskel": fmt_number})


# ---- the design and a worked example of the weighting (the 2023 report's appendix) ------------------

#: Who the population of a wave is, in words (the rules of selection are not data: they are written
#: down per wave). The pilot's rules are those of its report (section 'Population og stikprøve').
POPULATION_RULES = {
    "2023-pilot": (
        "Populationen er de borgere i de deltagende kommuner, som i 2. kvartal 2023 havde et aktivt forløb på "
        "en af undersøgelsens ydelser, og som ved opgørelsen 1. august 2023 havde været sammenhængende på "
        "offentlig forsørgelse i mindst 8 uger – for a-dagpenge mindst 12 uger, fordi jobcentrets kontakt med "
        "dagpengemodtagere begynder senere. Kravet sikrer, at borgeren har nået at møde jobcentret. Både "
        "borgere i et igangværende forløb og borgere, der netop har afsluttet et, er med. Stikprøven er "
        "udtrukket tilfældigt i hver kommune, fordelt efter køn og alder, og kontrolleret for fordelingen på "
        "ydelser."),
}


def show_design(params: Params, report: NonresponseReport) -> dict:
    """The survey's design: population and inclusion rules, how the benefits map to the four
    målgrupper, the sample and the answers, data collection and reminders (numbers from the data
    and survey.yaml; the inclusion rules per wave from :data:`POPULATION_RULES`)."""
    from IPython.display import Markdown, display

    from .narrative import count_phrase, fmt_pct

    s = params.survey
    rates = report.response_rates
    total = rates[rates["variable"] == "total"].iloc[0]
    population = int(report.strata["population"].sum()) if "population" in report.strata.columns else None
    rules = POPULATION_RULES.get(s.wave, "Populationens afgrænsning for denne runde er beskrevet i undersøgelsens "
                                         "dokumentation.")
    counts = (f"Populationen tæller {fmt_int(population)} borgere. " if population else "") + (
        f"{fmt_int(total['sampled'])} blev udtrukket, og {fmt_int(total['complete'] + total['partial'])} svarede "
        f"({fmt_int(total['partial'])} af dem delvist): en svarprocent på {fmt_pct(total['response_rate'])}.")
    by_group = rates[rates["variable"] == "maalgruppe"].set_index("category")
    labels = {m.code: m.label for m in s.maalgrupper}
    lines = ["| Målgruppe | Ydelser | Udtrukket | Svar | Svarprocent |", "|---|---|---:|---:|---:|"]
    for m in s.maalgrupper:
        benefits = "; ".join(esc(y.label) for y in s.ydelser if y.maalgruppe == m.code)
        r = by_group.loc[m.code] if m.code in by_group.index else None
        cells = ([fmt_int(r["sampled"]), fmt_int(r["complete"] + r["partial"]), fmt_pct(r["response_rate"])]
                 if r is not None else ["–", "–", "–"])
        lines.append(f"| {esc(labels[m.code])} | {benefits} | " + " | ".join(cells) + " |")
    months = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
              "november", "december"]

    def day(d) -> str:
        return f"{d.day}. {months[d.month - 1]} {d.year}"

    reminders = [day(d) for d in s.reminder_dates]
    collection = ("Spørgeskemaet er elektronisk og sendt til borgerens digitale postkasse"
                  + (f"; der er sendt {count_phrase(len(reminders), 'påmindelse', 'påmindelser')} via digital post og sms "
                     f"({' og '.join(reminders)})"
                     if reminders else "")
                  + f", og indsamlingen sluttede {day(s.closing_date)}. Kurven over "
                  "den kumulerede svarprocent nedenfor viser, hvad påmindelserne betød.")
    display(Markdown("## Undersøgelsens design\n\n**Population og udvælgelse.** " + esc(rules) + " " + counts
                     + "\n\n**Fra ydelse til målgruppe.** Resultaterne opdeles på fire målgrupper, som hver samler "
                     "en eller flere ydelser (survey.yaml):\n\n" + "\n".join(lines)
                     + "\n\n**Dataindsamling.** " + collection))
    return {"design": {"sampled": int(total["sampled"]), "population": population}}


def weighting_example(ctx: NotebookContext, qid: str) -> pd.DataFrame:
    """A worked example of weighted against unweighted shares for one question in the scope: per
    answer category the number of answers, the unweighted share, the sum of the weights and the
    weighted share (the 2023 report's example). The sum of the weights of a category is its
    weighted share times the sum of the weights of all answers (``share * weighted_n``)."""
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == qid)
                   & (ctx.tables["breakdown"] == "total")]
    if t.empty or t["suppressed"].astype(bool).any():
        return pd.DataFrame()
    n = t["n"].astype(float)
    out = pd.DataFrame({"Kategori": t["category_label"].to_numpy(), "Antal": t["category_n"].to_numpy(float),
                        "Ikke-vægtet andel": (t["category_n"].astype(float) / n).to_numpy(),
                        "Sum af vægte": (t["share"] * t["weighted_n"]).to_numpy(float),
                        "Vægtet andel": t["share"].to_numpy(float)})
    return out


def show_weighting_example(ctx: NotebookContext, qid: str = "tilfredshed") -> dict:
    """Display :func:`weighting_example` with a sentence on what the weights changed."""
    from IPython.display import Markdown, display

    from .narrative import fmt_pct

    ex = weighting_example(ctx, qid)
    if ex.empty:
        display(Markdown("For få svar til regneeksemplet."))
        return {}
    q = ctx.params.questionnaire.question(qid)
    total = pd.DataFrame({"Kategori": ["I alt"], "Antal": [ex["Antal"].sum()], "Ikke-vægtet andel": [1.0],
                          "Sum af vægte": [ex["Sum af vægte"].sum()], "Vægtet andel": [1.0]})
    table = pd.concat([ex, total], ignore_index=True)
    top = ex.iloc[:2]
    first = ex.iloc[0]
    display(Markdown(
        f"## Regneeksempel: vægtede og ikke-vægtede andele\n\nSpørgsmålet '{esc(q.heading)}'. En respondents vægt er "
        "det antal borgere i populationen, som respondenten står for i sin vægtningscelle. Den ikke-vægtede andel "
        "tæller svar; den vægtede andel lægger vægtene sammen. For eksempel svarede "
        f"{fmt_int(first['Antal'])} '{esc(str(first['Kategori']).lower())}', {fmt_pct(first['Ikke-vægtet andel'])} af "
        f"de {fmt_int(ex['Antal'].sum())} svar; deres vægte summerer til {fmt_int(first['Sum af vægte'])} af i alt "
        f"{fmt_int(ex['Sum af vægte'].sum())}, altså en vægtet andel på {fmt_pct(first['Vægtet andel'])}. I alt "
        f"svarer {fmt_pct(top['Ikke-vægtet andel'].sum())} i de to mest positive kategorier uden vægte og "
        f"{fmt_pct(top['Vægtet andel'].sum())} med vægte. 'Ved ikke/ikke relevant' indgår ikke.\n\n"
        + _md_table(table, {"Antal": fmt_int, "Ikke-vægtet andel": fmt_pct, "Sum af vægte": fmt_int,
                            "Vægtet andel": fmt_pct})))
    nums = {"weighting_example": {"question": qid, "unweighted_top_two": float(top["Ikke-vægtet andel"].sum()),
                                  "weighted_top_two": float(top["Vægtet andel"].sum())}}
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


# ---- free text ---------------------------------------------------------------------------------


def open_free_text(kommune: str | None, data_dir: str | None, params_dir: str | None,
                   tables_dir: str | None = None, wave: str | None = None) -> dict[str, pd.DataFrame]:
    """The free-text tables of the scope (see survey_lib.freetext): read from ``tables_dir/fritekst``
    when a tables folder is given, else computed from the data."""
    params = _params(kommune, params_dir, wave)
    if tables_dir:
        return read_csv_folder(_tables_folder(tables_dir, FREE_TEXT_DIR, ("themes",)))
    from .design import build_design
    from .freetext.report import free_text_report

    return free_text_report(build_design(_load(data_dir, params), params), params, kommune or "all")


def show_free_text(params: Params, report: dict[str, pd.DataFrame]) -> dict:
    """Display the free-text section: themes with intervals, by satisfaction and målgruppe, the most
    frequent words, the words that tell satisfied from dissatisfied citizens, and examples."""
    from IPython.display import Markdown, display

    from .narrative import fmt_pct
    from .plots import log_odds_chart, theme_shares_chart

    ft = params.freetext
    themes = report["themes"]
    total = themes[themes["grouping"] == "total"]
    n = total["n_comments"].dropna()
    if total.empty or n.empty:
        display(Markdown("For få kommentarer til at vise resultater."))
        return {}
    n_comments = int(n.iloc[0])
    display(Markdown(f"### Temaer\n\n{fmt_int(n_comments)} borgere har skrevet en kommentar. Andelen af "
                     "kommentarerne, der berører hvert tema (en kommentar kan berøre flere), vægtet:"))
    _show(theme_shares_chart(total, "Kommentarernes temaer (andel af kommentarer, 95 %-KI)"))
    for grouping, title in (("tilfredshed", "Tilfredshed"), ("maalgruppe", "Målgruppe")):
        part = themes[themes["grouping"] == grouping]
        if part.empty:
            continue
        groups = list(dict.fromkeys(part["group_label"]))
        table = part.pivot_table(index="label", columns="group_label", values="share", sort=False, dropna=False)
        table = table.reindex(columns=groups)
        ns = part.drop_duplicates("group_label").set_index("group_label")["n_comments"]
        table.columns = [f"{g} (n={fmt_int(ns[g])})" if pd.notna(ns[g]) else f"{g} (for få)" for g in groups]
        display(Markdown(f"**Temaer efter {title.lower()}** (andel af gruppens kommentarer)\n\n" + _md_table(
            table.reset_index().rename(columns={"label": "Tema"}), {c: fmt_pct for c in table.columns})))
    words = report["words"]
    if len(words):
        top_words = words[words["kind"] == "ord"].head(15)
        top_phr = words[words["kind"] == "frase"].head(10)
        display(Markdown("### Hyppigste ord og udtryk\n\nAntal kommentarer, der bruger ordet (bøjningsformer "
                         "talt sammen; almindelige småord er udeladt, men nægtelser som 'ikke' og 'ingen' er "
                         "bevaret).\n\n" + _md_table(pd.DataFrame({
                             "Ord": list(top_words["term"]), "Kommentarer": list(top_words["n_comments"])}),
                             {"Kommentarer": fmt_int})
                         + ("\n\n" + _md_table(pd.DataFrame({"Udtryk": list(top_phr["term"]),
                                                              "Kommentarer": list(top_phr["n_comments"])}),
                                                {"Kommentarer": fmt_int}) if len(top_phr) else "")))
    lo = report["log_odds"]
    labels = {g.code: g.label for g in ft.groups}
    a, b = (labels[c] for c in ft.compare)
    if len(lo):
        display(Markdown(f"### Ord der skiller {esc(a.lower())} fra {esc(b.lower())}\n\n"
                         "Vægtet log-odds-ratio med et informativt Dirichlet-prior (Monroe, Colaresi og Quinn "
                         "2008): jo længere søjlen er, jo mere typisk er ordet for den ene gruppe frem for den "
                         "anden, målt i standardfejl (z)."))
        _show(log_odds_chart(lo, f"Ord der skiller {a.lower()} fra {b.lower()}", a, b))
    ex = report["examples"]
    if len(ex):
        lines = ["### Eksempler på kommentarer", ""]
        for label, part in ex.groupby("label", sort=False):
            lines.append(f"**{esc(label)}**")
            lines.append("")
            lines += [f"> {esc(' '.join(str(t).split()))}\n" for t in part["text"]]
        display(Markdown("\n".join(lines)))
    nums = {"free_text": {"n_comments": n_comments,
                          "themes": {t: float(s) for t, s in zip(total["theme"], total["share"]) if pd.notna(s)}}}
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums
