"""What the notebooks call: open the tables of a scope and show a question as the report does.

The notebooks stay thin (parameters, calls, display); every loop, calculation and sentence is here.
Tables are read from a folder written by ``survey-report tables`` when one is given, else computed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .narrative import comparison_sentence, fmt_int, fmt_number, top_two_sentence, test_sentence
from .params import Params, load_params
from .paths import ProjectPaths
from .plots import municipality_means, stacked_distribution

__all__ = ["NotebookContext", "open_context", "show_question", "show_multi_select", "show_theme", "key_numbers"]

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


def open_context(kommune: str | None, data_dir: str | None, params_dir: str | None,
                 tables_dir: str | None = None) -> NotebookContext:
    """Load params and the tables of the scope (from ``tables_dir`` or computed from ``data_dir``;
    ``data_dir`` None: the built-in demo data, generated if missing)."""
    paths = ProjectPaths()
    params = load_params(params_dir or paths.params)
    if kommune is not None:
        params.kommune(kommune)
    scope = kommune or "all"
    if tables_dir and (Path(tables_dir) / "tables.csv").is_file():
        read = lambda name: pd.read_csv(Path(tables_dir) / name, keep_default_na=False,  # noqa: E731
                                        na_values=[""], dtype={"group": str, "category": str})
        tables, tests, comp = read("tables.csv"), read("tests.csv"), read("comparisons.csv")
        tables["group"] = tables["group"].fillna("")
        tables["category"] = tables["category"].fillna("")
    else:
        from .demo import generate, write_dataset
        from .design import build_design
        from .load import load_survey
        from .tables import build_tables

        folder = Path(data_dir) if data_dir else paths.demo_data
        if data_dir is None and not (folder / "responses.csv").is_file():
            write_dataset(generate(params), folder)
        ts = build_tables(build_design(load_survey(folder, params), params), params,
                          scopes=[kommune] if kommune else [])
        tables, tests, comp = ts.tables, ts.tests, ts.comparisons
    keep = tables["scope"].isin({scope, "all"})
    return NotebookContext(params, scope, tables[keep].reset_index(drop=True),
                           tests[tests["scope"] == scope].reset_index(drop=True),
                           comp[comp["scope"] == scope].reset_index(drop=True))


def _labels(ctx: NotebookContext, breakdown: str) -> dict[str, str]:
    s = ctx.params.survey
    return {"maalgruppe": {m.code: m.label for m in s.maalgrupper}, "koen": {g.code: g.label for g in s.genders},
            "alder_band": {b.code: b.label for b in s.age_bands},
            "varighed_band": {b.code: b.label for b in s.duration_bands},
            "tilknytning": {"igangvaerende": "Igangværende", "afsluttet": "Afsluttet"}}.get(breakdown, {})


def _show(chart) -> None:
    """Display a chart as a PNG with its alt text (independent of the notebook's matplotlib backend)."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buf = io.BytesIO()
    chart.figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(chart.figure)
    display(Image(data=buf.getvalue(), format="png"), metadata={"image/png": {"alt": chart.alt_text}})


def key_numbers(ctx: NotebookContext, qid: str) -> dict:
    """The headline numbers of a question in the scope (recorded by the notebooks for tests)."""
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == qid)
                   & (ctx.tables["breakdown"] == "total")]
    first = t.iloc[0]
    top_two = t[t["category"].isin(["5", "4"])]["share"].sum()
    return {"scope": ctx.scope, "question": qid, "n": int(first["n"]), "mean": float(first["mean"]),
            "top_two": float(top_two), "dont_know_n": int(first["dont_know_n"])}


def show_question(ctx: NotebookContext, qid: str) -> dict:
    """Display one question: wording, headline sentence, the distribution in total and by every
    breakdown with tests, and (for a municipality) its place among all municipalities."""
    from IPython.display import Markdown, display

    q = ctx.params.questionnaire.question(qid)
    scale = q.scale
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == qid)]
    total = t[t["breakdown"] == "total"]
    nums = key_numbers(ctx, qid)
    who = f" *{q.note}*" if q.note else ""
    display(Markdown(f"### {q.heading}\n\n> {q.text_present}\n\n{who}\n\n"
                     f"**{top_two_sentence(nums['top_two'], nums['mean'], scale)}**, "
                     f"blandt {fmt_int(nums['n'])} svar. 'Ved ikke/ikke relevant' ({fmt_int(nums['dont_know_n'])}) "
                     "indgår ikke."))
    chart = stacked_distribution(total, f"{q.heading} – i alt")
    _show(chart)
    for b in ctx.params.survey.breakdowns:
        if b.variable == "kommune":
            continue
        part = t[t["breakdown"] == b.variable]
        if part.empty:
            continue
        chart = stacked_distribution(part, f"{q.heading} – {b.label}", _labels(ctx, b.variable))
        _show(chart)
        means = part.drop_duplicates("group")
        mean_text = "; ".join(f"{_labels(ctx, b.variable).get(g, g)} {fmt_number(m)}"
                              for g, m in zip(means["group"], means["mean"]) if pd.notna(m))
        tests = ctx.tests[(ctx.tests["question"] == qid) & (ctx.tests["breakdown"] == b.variable)]
        sentences = [test_sentence(r.p_adjusted, ctx.params.survey.significance_level,
                                   BREAKDOWN_TEXT.get(b.variable, "mellem grupperne") +
                                   (" i fordelingen" if r.test == "rao_scott" else " i gennemsnitlig score"))
                     for r in tests.itertuples()]
        display(Markdown(f"Gennemsnitlig score: {mean_text}. " + " ".join(sentences)))
    if ctx.scope != "all":
        comp = ctx.comparisons[ctx.comparisons["question"] == qid]
        if len(comp):
            c = comp.iloc[0]
            display(Markdown(comparison_sentence(ctx.scope, c["mean"], c["others_mean"], c["flag"],
                                                 c["rank"], int(c["n_municipalities"]))
                             if c["flag"] != "suppressed" else comparison_sentence(ctx.scope, 0, 0, "suppressed", 0, 0)))
        all_k = ctx.tables[(ctx.tables["scope"] == "all") & (ctx.tables["question"] == qid)
                           & (ctx.tables["breakdown"] == "kommune")].drop_duplicates("group")
        chart = municipality_means(all_k, highlight=ctx.scope, title=f"{q.heading} – alle kommuner")
        _show(chart)
    display({"application/json": {"key_numbers": nums}}, raw=True)
    return nums


def record(obj: dict) -> None:
    """Print a JSON line that tests can find in the executed notebook."""
    print(json.dumps(obj, ensure_ascii=False))


def show_multi_select(ctx: NotebookContext, qid: str) -> None:
    """Display a multi-select question: the share of the respondents asked who ticked each option."""
    from IPython.display import Markdown, display

    q = ctx.params.questionnaire.question(qid)
    t = ctx.tables[(ctx.tables["scope"] == ctx.scope) & (ctx.tables["question"] == qid)
                   & (ctx.tables["breakdown"] == "total")]
    if t.empty:
        return
    n = int(t["n"].iloc[0])
    lines = [f"### {q.heading}", "", f"> {q.text_present}", "", f"*{q.note}*" if q.note else "", "",
             "| Afdeling | Andel | Antal |", "|---|---:|---:|"]
    for r in t.itertuples():
        share = "undertrykt" if r.suppressed else f"{fmt_number(100 * r.share, 1)} %"
        lines.append(f"| {r.category_label} | {share} | {fmt_int(r.category_n)} |")
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
        display(Markdown(f"**Temascore for {label.lower()}:** {fmt_number(r['mean'])} "
                         f"(95 %-konfidensinterval {fmt_number(r['mean_ci_low'])}–{fmt_number(r['mean_ci_high'])}), "
                         "gennemsnittet af borgerens svar på temaets spørgsmål."))
    return recorded
