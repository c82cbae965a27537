"""What the notebooks call: open the tables of a scope and show a question as the report does.

The notebooks stay thin (parameters, calls, display); every loop, calculation and sentence is here.
Tables are read from a folder written by ``survey-report tables`` when one is given, else computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .narrative import comparison_sentence, escape_markdown as esc, fmt_int, fmt_number, top_two_sentence, test_sentence
from .params import Params, load_params
from .paths import FREE_TEXT_DIR, NONRESPONSE_DIR, ProjectPaths
from .plots import municipality_means, stacked_distribution

__all__ = ["NotebookContext", "open_context", "show_question", "show_multi_select", "show_theme", "key_numbers",
           "open_nonresponse", "show_nonresponse", "show_weighting", "show_summary", "open_free_text",
           "show_free_text"]

BREAKDOWN_TEXT = {"maalgruppe": "mellem målgrupperne", "koen": "mellem kvinder og mænd",
                  "alder_band": "mellem aldersgrupperne", "varighed_band": "mellem forløbsvarighederne",
                  "tilknytning": "mellem igangværende og afsluttede forløb"}


@dataclass
class NotebookContext:
    """The parameters and the tidy tables of one scope (``all`` or a municipality)."""

    params: Params
    scope: str
    tables: pd.DataFrame
    tests: pd.DataFrame
    comparisons: pd.DataFrame


def _params(kommune: str | None, params_dir: str | None) -> Params:
    """The parameters, with ``kommune`` checked against kommuner.yaml (a ParamsError lists the names)."""
    params = load_params(params_dir or ProjectPaths().params)
    if kommune is not None:
        params.kommune(kommune)
    return params


def _load(data_dir: str | None, params: Params):
    """The validated data of ``data_dir``; None: the built-in demo data (generated if missing)."""
    from .demo import generate, write_dataset
    from .load import load_survey

    folder = Path(data_dir) if data_dir else ProjectPaths().demo_data
    if data_dir is None and not (folder / "responses.csv").is_file():
        write_dataset(generate(params), folder)
    return load_survey(folder, params)


def open_context(kommune: str | None, data_dir: str | None, params_dir: str | None,
                 tables_dir: str | None = None) -> NotebookContext:
    """Load params and the tables of the scope (from ``tables_dir`` or computed from ``data_dir``;
    ``data_dir`` None: the built-in demo data, generated if missing)."""
    params = _params(kommune, params_dir)
    scope = kommune or "all"
    if tables_dir and (Path(tables_dir) / "tables.csv").is_file():
        tables, tests, comp = (_read_labelled_csv(Path(tables_dir) / f"{name}.csv")
                               for name in ("tables", "tests", "comparisons"))
    else:
        from .design import build_design
        from .tables import build_tables

        ts = build_tables(build_design(_load(data_dir, params), params), params,
                          scopes=[kommune] if kommune else [])
        tables, tests, comp = ts.tables, ts.tests, ts.comparisons
    keep = tables["scope"].isin({scope, "all"})
    return NotebookContext(params, scope, tables[keep].reset_index(drop=True),
                           tests[tests["scope"] == scope].reset_index(drop=True),
                           comp[comp["scope"] == scope].reset_index(drop=True))


def _show(chart) -> None:
    """Display a chart as SVG with its alt text, caption and data table (independent of the
    notebook's matplotlib backend).

    The SVG keeps its text as text (:data:`survey_lib.plots.STYLE`); the HTML form
    (:func:`survey_lib.plots.chart_html`: an ``<img>`` with the SVG as a data URI, the caption, and the
    chart's numbers in a table that opens under it) carries the alt text into exported reports
    (nbconvert does not read it from output metadata) and keeps the chart's markup out of the page.
    """
    import io

    import matplotlib
    import matplotlib.pyplot as plt
    from IPython.display import display

    from .plots import STYLE, chart_html

    buf = io.StringIO()
    # the figures are laid out when made (fixed margins); no second 'tight' pass; no date in the file
    with matplotlib.rc_context(STYLE):
        chart.figure.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(chart.figure)
    svg = buf.getvalue()
    display({"image/svg+xml": svg, "text/html": chart_html(chart, svg)}, raw=True,
            metadata={"image/svg+xml": {"alt": chart.alt_text}})


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
    _show(stacked_distribution(total, f"{q.heading} – i alt og fordelt på grupper", _labels_all(ctx.params),
                               sections=sections))
    lines = []
    for b in ctx.params.survey.breakdowns:
        if b.variable == "kommune":
            continue
        part = t[t["breakdown"] == b.variable]
        if part.empty:
            continue
        means = part.drop_duplicates("group")
        mean_text = "; ".join(f"{esc(_labels_all(ctx.params).get(g, g))} {fmt_number(m)}"
                              for g, m in zip(means["group"], means["mean"]) if pd.notna(m))
        tests = ctx.tests[(ctx.tests["question"] == qid) & (ctx.tests["breakdown"] == b.variable)]
        sentences = [test_sentence(r.p_adjusted, ctx.params.survey.significance_level,
                                   BREAKDOWN_TEXT.get(b.variable, "mellem grupperne") +
                                   (" i fordelingen" if r.test == "rao_scott" else " i gennemsnitlig score"))
                     for r in tests.itertuples()]
        lines.append(f"- **{esc(b.label)}** – gennemsnitlig score: {mean_text}. " + " ".join(sentences))
    if lines:
        display(Markdown("\n".join(lines)))
    if ctx.scope != "all":
        comp = ctx.comparisons[ctx.comparisons["question"] == qid]
        if len(comp):
            c = comp.iloc[0]
            display(Markdown(comparison_sentence(ctx.scope, c["mean"], c["others_mean"], c["flag"],
                                                 c["rank"], int(c["n_municipalities"]), c["p_adjusted"])))
        all_k = ctx.tables[(ctx.tables["scope"] == "all") & (ctx.tables["question"] == qid)
                           & (ctx.tables["breakdown"] == "kommune")].drop_duplicates("group")
        chart = municipality_means(all_k, highlight=ctx.scope, title=f"{q.heading} – alle kommuner",
                                   show_names=ctx.params.survey.show_other_municipalities)
        _show(chart)
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


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
    score = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == f"tema_{theme}")
                       & (ctx.tables["breakdown"] == "total")]
    if len(score):
        r = score.iloc[0]
        label = next(t.label for t in ctx.params.questionnaire.themes if t.id == theme)
        display(Markdown(f"**Temascore for {esc(label.lower())}:** {fmt_number(r['mean'])} "
                         f"(95 %-konfidensinterval {fmt_number(r['mean_ci_low'])}–{fmt_number(r['mean_ci_high'])}), "
                         "gennemsnittet af borgerens svar på temaets spørgsmål."))
    return recorded


# ---- non-response and weighting ------------------------------------------------------------------
VARIABLE_TEXT = {"kommune": "Kommune", "koen": "Køn", "alder_band": "Alder", "maalgruppe": "Målgruppe",
                 "varighed_band": "Varighed"}


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
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={c: str for c in _LABEL_COLUMNS})
    for c in _LABEL_COLUMNS:
        if c in frame.columns:
            frame[c] = frame[c].fillna("")
    return frame


def open_nonresponse(kommune: str | None, data_dir: str | None, params_dir: str | None,
                     tables_dir: str | None = None):
    """Params and every non-response / weighting table of the scope (see survey_lib.nonresponse):
    read from ``tables_dir/frafald`` when the batch has written them, else computed from the data."""
    params = _params(kommune, params_dir)
    if tables_dir and (Path(tables_dir) / NONRESPONSE_DIR / "response_rates.csv").is_file():
        return params, read_csv_folder(Path(tables_dir) / NONRESPONSE_DIR)
    from .nonresponse import nonresponse_report

    return params, nonresponse_report(_load(data_dir, params), params, kommune=kommune)


def _labels_all(params: Params) -> dict[str, str]:
    """Display names of every group code of the register breakdowns and of current/ended courses."""
    s = params.survey
    out = {m.code: m.label for m in s.maalgrupper} | {g.code: g.label for g in s.genders}
    out |= {b.code: b.label for b in s.age_bands} | {b.code: b.label for b in s.duration_bands}
    return out | {"igangvaerende": "Igangværende", "afsluttet": "Afsluttet"}


def _order(params: Params, var: str) -> list[str]:
    s = params.survey
    return {"kommune": [k.name for k in params.kommuner], "koen": [g.code for g in s.genders],
            "alder_band": [b.code for b in s.age_bands], "maalgruppe": [m.code for m in s.maalgrupper],
            "varighed_band": [b.code for b in s.duration_bands]}.get(var, [])


def _in_order(rows: pd.DataFrame, params: Params, var: str) -> pd.DataFrame:
    """Rows of one variable in the params order of its categories (not alphabetical)."""
    order = _order(params, var)
    key = rows["category"].map(lambda c: order.index(c) if c in order else len(order))
    return rows.assign(_k=key).sort_values("_k").drop(columns="_k")


def _term_label(term: str, labels: dict[str, str]) -> str:
    """'C(koen)[T.M]' -> 'Køn: Mænd'."""
    import re

    m = re.match(r"C\((\w+)\)\[T\.(.*)\]", term)
    if not m:
        return term
    return f"{VARIABLE_TEXT.get(m.group(1), m.group(1))}: {labels.get(m.group(2), m.group(2))}"


def show_nonresponse(params: Params, report: dict) -> dict:
    """Display the non-response analysis: rates, sample against respondents with tests, the
    propensity model, R-indicators, the response curve and completion times."""
    from IPython.display import Markdown, display

    from .narrative import fmt_p, fmt_pct
    from .plots import category_bars, response_curve_chart, sample_vs_respondents_chart

    labels = _labels_all(params)
    alpha = params.survey.significance_level
    rates = report["response_rates"]
    total = rates[rates["variable"] == "total"].iloc[0]
    display(Markdown(f"## Svarprocent\n\n{fmt_int(total['sampled'])} borgere blev udtrukket; "
                     f"{fmt_int(total['complete'])} gennemførte og {fmt_int(total['partial'])} svarede delvist, "
                     f"i alt en svarprocent på **{fmt_pct(total['response_rate'])}**."))
    dist, tests = report["sample_vs_respondents"], report["sample_vs_respondents_tests"].set_index("variable")
    for var in dist["variable"].unique():
        part = _in_order(rates[rates["variable"] == var], params, var)
        _show(category_bars(part, "response_rate", f"Svarprocent – {VARIABLE_TEXT.get(var, var)}", labels=labels))
        _show(sample_vs_respondents_chart(_in_order(dist[dist["variable"] == var], params, var),
                                          f"Stikprøve og respondenter – {VARIABLE_TEXT.get(var, var)}", labels))
        t = tests.loc[var]
        verdict = "adskiller sig signifikant fra" if t["p_value"] < alpha else "adskiller sig ikke signifikant fra"
        display(Markdown(f"Respondenternes fordeling på {esc(VARIABLE_TEXT.get(var, var).lower())} {verdict} stikprøvens "
                         f"(Rao–Scott F = {fmt_number(t['statistic'])}, {fmt_p(t['p_value'])})."))
    means = report["means_sample_vs_respondents"].set_index("measure")
    age = means.loc["age_years"]
    display(Markdown(f"Gennemsnitsalderen er {fmt_number(age['sample_weighted'], 1)} år i stikprøven og "
                     f"{fmt_number(age['respondents_weighted'], 1)} år blandt respondenterne."))
    coef = report["propensity_model"]
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
    r = report["r_indicator"].iloc[0]
    display(Markdown(f"## Repræsentativitet (R-indikator)\n\nR-indikatoren er **{fmt_number(r['R'])}** (1 er fuldt "
                     f"repræsentativt svar). Svarsandsynlighedernes variationskoefficient er {fmt_number(r['cv'])}; "
                     f"den største mulige standardiserede skævhed i et gennemsnit uden vægtning er "
                     f"{fmt_number(r['max_abs_bias'])} standardafvigelser. De partielle indikatorer nedenfor viser, "
                     "hvilke grupper der trækker: negative værdier er underrepræsenterede grupper."))
    partial = report["partial_r_indicators"]
    for var in partial["variable"].unique():
        cats = _in_order(partial[(partial["variable"] == var) & (partial["level"] == "category")], params, var)
        _show(category_bars(cats, "partial_r", f"Partiel R-indikator – {VARIABLE_TEXT.get(var, var)}", percent=False,
                            labels=labels))
    curve = report["response_curve"]
    reminders = list(params.survey.reminder_dates)
    _show(response_curve_chart(curve[curve["by"] == "total"], reminders, "Kumuleret svarprocent"))
    _show(response_curve_chart(curve[curve["by"] == "maalgruppe"], reminders, "Kumuleret svarprocent – målgruppe",
                               labels))
    ct = report["completion_time"].iloc[0]
    display(Markdown(f"Halvdelen af de gennemførte besvarelser tog højst {fmt_number(ct['median'], 1)} minutter "
                     f"(kvartiler {fmt_number(ct['q1'], 1)} og {fmt_number(ct['q3'], 1)} minutter)."))
    nums = {"response_rate": float(total["response_rate"]), "R": float(r["R"])}
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


def show_weighting(params: Params, report: dict) -> dict:
    """Display the weighting diagnostics: strata and collapses, weight distribution, design effect,
    balance, the shift from unweighted to weighted results, and the comparison of methods."""
    from IPython.display import Markdown, display

    from .narrative import fmt_pct
    from .plots import weight_histogram

    strata, collapses = report["strata"], report["collapses"]
    labels = _labels_all(params)

    def cell_label(code) -> str:      # 'under_30/M/Odder/sygedagpenge' -> 'Under 30 år / Mænd / Odder / ...'
        return " / ".join(labels.get(part, part) for part in str(code).split("/"))

    strata = strata.assign(post_stratum=strata["post_stratum"].map(cell_label))
    if len(collapses):
        collapses = collapses.assign(**{c: collapses[c].map(cell_label) for c in ("cell", "merged_into")
                                        if c in collapses.columns})
    display(Markdown(f"## Vægtningsceller\n\n{fmt_int(len(strata))} celler (alder × køn × kommune × målgruppe); "
                     f"{fmt_int(len(collapses))} celle(r) uden nok respondenter er lagt sammen med en nabocelle."
                     + ("\n\n" + _md_table(collapses.rename(columns={"cell": "Celle", "merged_into": "Lagt sammen med",
                                                                      "rule": "Regel", "reason": "Årsag"}), {})
                        if len(collapses) else "")))
    if 0 < len(strata) <= 60:      # one municipality: its cells in full
        display(Markdown(_md_table(strata[["post_stratum", "population", "respondents", "weight"]].rename(columns={
            "post_stratum": "Celle (alder/køn/kommune/målgruppe)", "population": "Population",
            "respondents": "Respondenter", "weight": "Vægt (strataratio)"}),
            {"Population": fmt_int, "Respondenter": fmt_int, "Vægt (strataratio)": fmt_number})))
    elif len(strata):
        display(Markdown(f"Tabellen over alle {fmt_int(len(strata))} celler står i `strata.csv` "
                         "(`survey-report nonresponse`); kommunernes notebooks viser deres egne celler."))
    w = report["weights"]["weight"].to_numpy(float)
    _show(weight_histogram(w, "Vægtenes fordeling"))
    diag = report["weights_diagnostics"].assign(kommune=lambda d: d["kommune"].replace({"all": "Alle"}))
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
    bal = report["balance"].assign(variable=lambda d: d["variable"].map(VARIABLE_TEXT).fillna(d["variable"]),
                                   category=lambda d: d["category"].map(lambda c: labels.get(c, c)))
    display(Markdown("## Balance efter vægtning\n\nVægtede respondenter mod populationen. På vægtningsvariablerne "
                     "er forskellen nul (bortset fra sammenlagte celler); varighed indgår ikke i vægtningen, så "
                     "her ses den skævhed, der er tilbage.\n\n" + _md_table(
                         bal.rename(columns={"variable": "Variabel", "category": "Kategori",
                                             "population_share": "Population", "respondents_share": "Respondenter",
                                             "weighted_share": "Vægtet", "weighted_minus_population": "Forskel"}),
                         {"Population": fmt_pct, "Respondenter": fmt_pct, "Vægtet": fmt_pct,
                          "Forskel": lambda v: fmt_number(100 * v, 1) + " pct.-point"})))
    shift = report["weighting_shift"].assign(question=lambda d: d["question"].map(heading).fillna(d["question"]))
    display(Markdown("## Hvad vægtningen ændrer\n\nGennemsnitlig score uden og med vægtning, største ændring "
                     "først.\n\n" + _md_table(
                         shift[["question", "n", "mean_unweighted", "mean_weighted", "mean_shift"]].rename(columns={
                             "question": "Spørgsmål", "n": "Svar", "mean_unweighted": "Uvægtet",
                             "mean_weighted": "Vægtet", "mean_shift": "Ændring"}),
                         {"Svar": fmt_int, "Uvægtet": fmt_number, "Vægtet": fmt_number,
                          "Ændring": lambda v: fmt_number(v, 3)})))
    names = {"poststratify": "Post-stratificering", "rake": "Raking"}
    methods = report["methods_estimates"].assign(question=lambda d: d["question"].map(heading).fillna(d["question"]))
    methods = methods.rename(columns=lambda c: {"question": "Spørgsmål", "unweighted": "Uvægtet"}.get(
        c, names.get(c, c.replace("poststratify+trim", "Post-stratificering, trimmet ved ").replace("5", "5 × median"))))
    mdiag = report["methods_diagnostics"].assign(method=lambda d: d["method"].map(lambda m: names.get(
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

    from .narrative import fmt_p
    from .plots import score_chart

    qn = ctx.params.questionnaire
    heading = {q.id: q.heading for q in qn.questions} | {f"tema_{t.id}": t.label for t in qn.themes}
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["breakdown"] == "total")]
    firsts = t.drop_duplicates("question").set_index("question")
    themes = firsts[firsts.index.str.startswith("tema_") & ~firsts["suppressed"].astype(bool)]
    display(Markdown("## Temascorer\n\nGennemsnittet af borgerens svar på temaets spørgsmål (1–5, hvor 5 er mest "
                     "positiv), vægtet.\n\n" + _md_table(pd.DataFrame({
                         "Tema": [heading[q] for q in themes.index], "Score": themes["mean"],
                         "95 %-KI": [f"{fmt_number(lo)}–{fmt_number(hi)}" for lo, hi in
                                     zip(themes["mean_ci_low"], themes["mean_ci_high"])],
                         "Svar": themes["n"]}), {"Score": fmt_number, "Svar": fmt_int})))
    bars = pd.DataFrame({"category": [heading[q] for q in themes.index], "mean": themes["mean"].to_numpy(),
                         "ci_low": themes["mean_ci_low"].to_numpy(), "ci_high": themes["mean_ci_high"].to_numpy()})
    _show(score_chart(bars, "Temascorer (gennemsnitlig score 1–5)"))
    likert = firsts[~firsts.index.str.startswith("tema_") & firsts["mean"].notna()].sort_values("mean")
    def listing(rows):
        return "\n".join(f"- {esc(heading[q])}: {fmt_number(r['mean'])} (n = {fmt_int(r['n'])})"
                         for q, r in rows.iterrows())
    display(Markdown("## Højeste og laveste score\n\n**Højest:**\n\n" + listing(likert.iloc[::-1].head(3))
                     + "\n\n**Lavest:**\n\n" + listing(likert.head(3))))
    tests = ctx.tests[(ctx.tests["test"] == "wald") & (ctx.tests["breakdown"] != "kommune")
                      & ~ctx.tests["question"].str.startswith("tema_")]
    sig = tests[tests["p_adjusted"] < ctx.params.survey.significance_level].sort_values("statistic", ascending=False)
    labels = {b.variable: b.label for b in ctx.params.survey.breakdowns}
    if len(sig):
        lines = [f"- {esc(heading[r.question])} – {esc(labels.get(r.breakdown, r.breakdown).lower())}: "
                 f"F = {fmt_number(r.statistic)}, "
                 f"justeret {fmt_p(r.p_adjusted)}" for r in sig.head(5).itertuples()]
        text = ("De største statistisk signifikante forskelle i gennemsnitlig score mellem grupper (Wald-test, "
                "justeret for mange test):\n\n" + "\n".join(lines))
    else:
        text = "Ingen forskelle i gennemsnitlig score mellem grupper er statistisk signifikante efter justering."
    display(Markdown("## Hvor er forskellene størst?\n\n" + text))
    nums = {"scope": ctx.scope, "themes": {q: float(m) for q, m in themes["mean"].items()}}
    if ctx.scope != "all" and len(ctx.comparisons):
        comp = ctx.comparisons.copy()
        flag_da = {"above": "over", "below": "under", "level": "på niveau", "suppressed": "for få svar"}
        display(Markdown(f"## {esc(ctx.scope)} mod de øvrige kommuner\n\n" + _md_table(pd.DataFrame({
            "Spørgsmål": [("Tema: " if q.startswith("tema_") else "") + heading.get(q, q) for q in comp["question"]], "Kommunen": comp["mean"],
            "Øvrige": comp["others_mean"], "Placering": comp["rank"], "Vurdering": comp["flag"].map(flag_da)}),
            {"Kommunen": fmt_number, "Øvrige": fmt_number, "Placering": lambda v: f"{int(v)}"})))
        nums["flags"] = dict(zip(comp["question"], comp["flag"]))
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


# ---- free text ---------------------------------------------------------------------------------


def open_free_text(kommune: str | None, data_dir: str | None, params_dir: str | None,
                   tables_dir: str | None = None) -> dict[str, pd.DataFrame]:
    """The free-text tables of the scope (see survey_lib.freetext): read from ``tables_dir/fritekst``
    when the batch has written them, else computed from the data."""
    params = _params(kommune, params_dir)
    folder = Path(tables_dir) / FREE_TEXT_DIR if tables_dir else None
    if folder is not None and (folder / "themes.csv").is_file():
        return read_csv_folder(folder)
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
