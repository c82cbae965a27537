"""The one-page summary for management, per scope: HTML for the screen and a tagged PDF for print.

What a municipality's management asks first, on one A4 page:

- the theme scores against the other municipalities, with the flag 'over' / 'under' / 'på niveau'
  and the rank with its confidence set when the tables have one ('nr. 3 af 13, sikkert mellem 2 og
  7'); for all municipalities together, the score with its 95 % interval and the lowest and highest
  municipality;
- the three clearest strengths and weaknesses: the questions on which the municipality is furthest
  above and below the others, measured by the t statistic of the difference (furthest in standard
  errors, so a large difference of few answers does not outrank a sure one); for all municipalities,
  the questions with the highest and lowest score. Only cells of at least ``reporting_minimum``
  answers take part;
- the response rate against the others' (from the all-municipality non-response table);
- one sentence on the weighting (method, cells, design effect and effective number of answers);
- 'Siden sidst', when the batch has trend tables (``<wave>/udvikling/``, written by
  ``survey-report run --wave``): for each question and theme the earlier and the latest score with
  95 % intervals and the change in words (:func:`survey_lib.trend.change_phrase`), against the
  latest earlier wave in which the scope took part (for all municipalities: the municipalities that
  took part in both waves, the comparison to trust); a scope without an earlier wave says so.

Everything is read from the scope's tables as the batch wrote them (``comparisons.csv``,
``tables.csv``, ``weights_diagnostics.csv``, ``frafald/response_rates.csv``, the trend tables'
``waves.csv``, ``labels.csv``, ``changes_<wave>.csv`` and ``not_comparable_<wave>.csv``); nothing is
estimated here, and the rank confidence sets are the tables' (``rank_low``, ``rank_high``), shown only when
present.

The PDF is written by WeasyPrint with ``pdf_variant="pdf/ua-1"``: a tagged PDF (structure tree from
the HTML's elements, document language from ``<html lang>``, title shown in the window), see
docs/accessibility.md for why WeasyPrint. A summary whose inputs and code have not changed since it
was written is not written again (its key is stored in the page).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .atomic import atomic_write_text
from .batch.html import head_meta
from .narrative import fmt_int, fmt_number, fmt_pct, fmt_signed
from .params import Params
from .paths import NONRESPONSE_DIR, TABLES_DIR
from .scores import theme_score_ids
from .synthetic import BANNER_DETAIL
from .vocabulary import METHOD_NAMES, SurveyVocabulary

__all__ = ["ScopeSummary", "Row", "SinceLast", "TrendTotals", "read_trend_totals", "since_last", "summarise_scope",
           "summary_html", "write_summary_pdf", "write_summaries", "SUMMARY_NAME", "FLAG_WORDS", "SUMMARY_LANG"]

#: File stem of the summary in each scope's folder (``ledelsesresume.html`` and ``.pdf``).
SUMMARY_NAME = "ledelsesresume"
#: The page's language (also the PDF's /Lang).
SUMMARY_LANG = "da-DK"
FLAG_WORDS = {"above": "over", "below": "under", "level": "på niveau"}
_ALL = "all"


@dataclass(frozen=True)
class Row:
    """One line of a summary table (texts already formatted in Danish)."""

    label: str
    cells: tuple[str, ...]
    flag: str = ""                # above / below / level / '' (the CSS class of the flag cell)


@dataclass(frozen=True)
class SinceLast:
    """The summary's 'Siden sidst': the change of each theme and question since an earlier wave.

    ``earlier_wave`` is empty when the scope took part in no earlier wave with data; ``intro`` then
    says so and ``rows`` is empty. ``rows``: label, (earlier score with 95 % interval, latest score
    with 95 % interval, the change in words); ``flag`` is the change table's flag (``up``, ``down``,
    ``unchanged``, ``suppressed``, ``not_computable``)."""

    earlier_wave: str
    earlier_label: str
    later_label: str
    intro: str
    rows: tuple[Row, ...] = ()
    not_compared: str = ""


@dataclass(frozen=True)
class TrendTotals:
    """What the summaries read from a batch's trend tables (``<wave>/udvikling/``), once for every
    scope: the waves compared (time order, the batch's wave last), their labels, the stable ids'
    labels, and per earlier wave the mean changes in total and the ids not compared."""

    waves: tuple[str, ...]
    wave_labels: dict
    labels: dict
    changes: dict
    not_comparable: dict
    digest: str = ""


@dataclass(frozen=True)
class ScopeSummary:
    """What the one-page summary of a scope shows."""

    scope: str
    title: str
    wave: str
    theme_header: tuple[str, ...]
    themes: tuple[Row, ...]
    strengths: tuple[str, ...]
    weaknesses: tuple[str, ...]
    strengths_title: str
    weaknesses_title: str
    response: str
    weighting: str
    banner: str
    made: str
    notes: tuple[str, ...] = ()
    provenance: str = ""
    since: SinceLast | None = None


def _num(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True) if path.is_file() else pd.DataFrame()


def _rank_text(r: dict) -> str:
    rank, of = _num(r.get("rank")), _num(r.get("n_municipalities"))
    if math.isnan(rank):
        return "–"
    text = f"nr. {int(rank)} af {int(of)}" if not math.isnan(of) else f"nr. {int(rank)}"
    lo, hi = _num(r.get("rank_low")), _num(r.get("rank_high"))
    if not (math.isnan(lo) or math.isnan(hi)):
        text += f" (sikkert mellem {int(lo)} og {int(hi)})" if lo != hi else f" (sikkert nr. {int(lo)})"
    return text


def _totals(tables: pd.DataFrame, scope: str) -> pd.DataFrame:
    t = tables[(tables["scope"].astype(str) == scope) & (tables["breakdown"] == "total")]
    return t.drop_duplicates("question").set_index("question")


def _weighting_sentence(params: Params, diag: pd.DataFrame, scope: str) -> str:
    w = params.survey.weighting
    vocabulary = SurveyVocabulary.from_params(params)
    cells = ", ".join(vocabulary.title(c).lower() for c in w.cells)
    row = diag[diag["kommune"].astype(str) == scope]
    method = METHOD_NAMES.get(w.method, w.method)
    text = f"Svarene er vægtet ({method.lower()} efter {cells}), så de svarende ligner alle de udtrukne borgere"
    if len(row):
        r = row.iloc[0]
        text += (f"; designeffekten er {fmt_number(_num(r['deff_kish']))}, så de {fmt_int(_num(r['respondents']))} "
                 f"svar vejer som {fmt_int(_num(r['n_effective']))} uvægtede (effektivt antal svar).")
    else:
        text += "."
    return text


def _response_sentence(rates_all: pd.DataFrame, scope: str) -> str:
    if rates_all.empty:
        return "Svarprocenten kendes ikke (frafaldstabellen mangler)."
    kom = rates_all[rates_all["variable"] == "kommune"].copy()
    answered = kom["complete"] + kom["partial"]
    if scope == _ALL:
        total = rates_all[rates_all["variable"] == "total"].iloc[0]
        lo, hi = kom.loc[kom["response_rate"].idxmin()], kom.loc[kom["response_rate"].idxmax()]
        return (f"Svarprocent {fmt_pct(_num(total['response_rate']))} ({fmt_int(total['complete'] + total['partial'])} "
                f"af {fmt_int(total['sampled'])} udtrukne); fra {fmt_pct(_num(lo['response_rate']))} i {lo['category']} "
                f"til {fmt_pct(_num(hi['response_rate']))} i {hi['category']}.")
    own = kom[kom["category"].astype(str) == scope]
    if own.empty:
        return "Svarprocenten kendes ikke for kommunen."
    o = own.iloc[0]
    others = kom["category"].astype(str) != scope
    rate_others = answered[others].sum() / kom.loc[others, "sampled"].sum()
    place = int((kom["response_rate"] > o["response_rate"]).sum()) + 1
    return (f"Svarprocent {fmt_pct(_num(o['response_rate']))} ({fmt_int(o['complete'] + o['partial'])} af "
            f"{fmt_int(o['sampled'])} udtrukne) mod {fmt_pct(rate_others)} i de øvrige kommuner tilsammen; "
            f"nr. {place} af {len(kom)}.")


def _question_labels(params: Params) -> dict[str, str]:
    labels = {q.id: q.heading for q in params.questionnaire.questions}
    theme_label = {t.id: t.label for t in params.questionnaire.themes}
    for theme, oid in theme_score_ids(params.questionnaire).items():
        labels.setdefault(oid, theme_label[theme])
    return labels


def _municipality(params: Params, scope: str, comp: pd.DataFrame, minimum: int) -> tuple:
    qn = params.questionnaire
    labels = _question_labels(params)
    theme_ids = theme_score_ids(qn)
    theme_label = {t.id: t.label for t in qn.themes}
    comp = comp[comp["scope"].astype(str) == scope]
    by_q = {r["question"]: r for r in comp.to_dict("records")}
    rows = []
    for theme, oid in theme_ids.items():
        r = by_q.get(oid)
        if r is None or r.get("flag") == "suppressed" or math.isnan(_num(r.get("mean"))):
            rows.append(Row(theme_label[theme], ("–", "–", "–", "for få svar", "–")))
            continue
        ci = f"{fmt_signed(_num(r['difference']))} ({fmt_number(_num(r['difference_ci_low']))} til " \
             f"{fmt_number(_num(r['difference_ci_high']))})"
        small = _num(r.get("n")) < minimum
        rows.append(Row(theme_label[theme], (fmt_number(_num(r["mean"])), fmt_number(_num(r["others_mean"])), ci,
                                             FLAG_WORDS.get(r["flag"], r["flag"]),
                                             "–" if small else _rank_text(r)), r["flag"]))
    likert = {q.id for q in qn.likert}
    qs = comp[comp["question"].isin(likert) & (comp["flag"] != "suppressed")].copy()
    qs = qs[pd.to_numeric(qs["n"], errors="coerce") >= minimum]
    qs["statistic"] = pd.to_numeric(qs["statistic"], errors="coerce")

    def line(r) -> str:
        flag = FLAG_WORDS.get(r["flag"], "")
        sure = "statistisk sikker forskel" if r["flag"] in ("above", "below") else "ikke en sikker forskel"
        return (f"{labels.get(r['question'], r['question'])}: {fmt_number(_num(r['mean']))} mod "
                f"{fmt_number(_num(r['others_mean']))} hos de øvrige ({fmt_signed(_num(r['difference']))}; {sure}"
                + (f", {flag}" if flag and r["flag"] != "level" else "") + ")")

    up = qs[qs["difference"] > 0].sort_values("statistic", ascending=False).head(3)
    down = qs[qs["difference"] < 0].sort_values("statistic", ascending=True).head(3)
    header = ("Tema", scope, "Øvrige", "Forskel (95 %-KI)", "Vurdering", "Placering")
    return (header, tuple(rows), tuple(line(r) for r in up.to_dict("records")),
            tuple(line(r) for r in down.to_dict("records")),
            "De tre tydeligste styrker", "De tre tydeligste svagheder")


def _everyone(params: Params, tables: pd.DataFrame, minimum: int) -> tuple:
    qn = params.questionnaire
    labels = _question_labels(params)
    theme_label = {t.id: t.label for t in qn.themes}
    totals = _totals(tables, _ALL)
    kom = tables[(tables["scope"].astype(str) == _ALL) & (tables["breakdown"] == "kommune")].drop_duplicates(
        ["question", "group"])
    kom = kom[(pd.to_numeric(kom["n"], errors="coerce") >= minimum) & ~kom["suppressed"].astype(str).eq("True")]
    rows = []
    for theme, oid in theme_score_ids(qn).items():
        if oid not in totals.index:
            continue
        t = totals.loc[oid]
        part = kom[kom["question"] == oid].dropna(subset=["mean"])
        lo = part.loc[part["mean"].idxmin()] if len(part) else None
        hi = part.loc[part["mean"].idxmax()] if len(part) else None
        rows.append(Row(theme_label[theme], (
            fmt_number(_num(t["mean"])),
            f"{fmt_number(_num(t['mean_ci_low']))}–{fmt_number(_num(t['mean_ci_high']))}",
            "–" if lo is None else f"{lo['group']} ({fmt_number(_num(lo['mean']))})",
            "–" if hi is None else f"{hi['group']} ({fmt_number(_num(hi['mean']))})")))
    likert = [q.id for q in qn.likert]
    qs = totals.loc[[q for q in likert if q in totals.index]].copy()
    qs = qs[pd.to_numeric(qs["n"], errors="coerce") >= minimum].dropna(subset=["mean"])

    def line(qid, r) -> str:
        return (f"{labels.get(qid, qid)}: {fmt_number(_num(r['mean']))} "
                f"(95 %-KI {fmt_number(_num(r['mean_ci_low']))}–{fmt_number(_num(r['mean_ci_high']))})")

    top = qs.sort_values("mean", ascending=False).head(3)
    bottom = qs.sort_values("mean", ascending=True).head(3)
    header = ("Tema", "Alle kommuner", "95 %-KI", "Laveste kommune", "Højeste kommune")
    return (header, tuple(rows), tuple(line(q, r) for q, r in top.iterrows()),
            tuple(line(q, r) for q, r in bottom.iterrows()),
            "De tre højeste spørgsmål", "De tre laveste spørgsmål")


def _trend_digest(folder: Path) -> str:
    """SHA-256 of the trend tables the summaries read (empty when there are none)."""
    if not (folder / "waves.csv").is_file():
        return ""
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.csv")):
        if path.name.startswith(("waves", "labels", "changes_", "not_comparable_")):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def read_trend_totals(wave_dir: Path) -> TrendTotals | None:
    """The trend tables of the batch in ``wave_dir`` as the summaries need them, or None when the
    batch has none (a run without ``--wave``)."""
    from .trend import TREND_DIR, TrendFiles

    files = TrendFiles(Path(wave_dir) / TREND_DIR)
    if not files.present:
        return None
    waves = files.waves()
    names = tuple(str(w) for w in waves["wave"])
    changes, not_comparable = {}, {}
    for name in names[:-1]:
        ch = files.changes(name)
        changes[name] = ch[(ch["breakdown"] == "total") & (ch["kind"] == "mean")].reset_index(drop=True)
        not_comparable[name] = files.not_comparable(name)
    labels = files.labels() if (files.folder / "labels.csv").is_file() else {}
    return TrendTotals(names, dict(zip(names, (str(x) for x in waves["label"]))), labels, changes, not_comparable,
                       _trend_digest(files.folder))


def _score_ci(mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return "–"
    if math.isnan(lo) or math.isnan(hi):
        return fmt_number(mean)
    return f"{fmt_number(mean)} ({fmt_number(lo)}{' til ' if min(lo, hi) < 0 else '–'}{fmt_number(hi)})"


def since_last(trend: TrendTotals, scope: str) -> SinceLast:
    """'Siden sidst' of ``scope`` (``all`` or a municipality): the change of every theme and question
    since the latest earlier wave in which the scope took part, in words
    (:func:`survey_lib.trend.change_phrase`; 'sikker' only by the change's test after the
    multiple-testing rule). For all municipalities the rows are those of the common panel (the
    municipalities in both waves), the comparison to trust; the change of all participants is on
    the trend page. A suppressed change shows no score (for few answers in one of the waves)."""
    from .trend import change_phrase

    later_label = trend.wave_labels[trend.waves[-1]]
    earlier = list(trend.waves[:-1])
    key = "panel" if scope == _ALL else scope
    found = next((w for w in reversed(earlier) if (trend.changes[w]["scope"].astype(str) == key).any()), None)
    if found is None:
        if not earlier:
            why = f"{later_label} er den første runde med data; der er endnu ingen udvikling at vise."
        elif scope == _ALL:
            why = (f"Ingen kommune deltog både i {later_label} og i en tidligere runde med data; der er ingen "
                   "udvikling at vise.")
        else:
            why = (f"{scope} deltog ikke i nogen tidligere runde med data "
                   f"({', '.join(trend.wave_labels[w] for w in earlier)}); der er ingen udvikling at vise.")
        return SinceLast("", "", later_label, why)
    label = trend.wave_labels[found]
    rows = trend.changes[found]
    rows = rows[rows["scope"].astype(str) == key]
    themes = rows["question"].astype(str).str.startswith("tema_")
    out = []
    for r in pd.concat([rows[themes], rows[~themes]]).to_dict("records"):
        flag = str(r.get("flag") or "")
        reason = "" if pd.isna(r.get("not_computable")) else str(r.get("not_computable"))
        shown = flag != "suppressed"
        e, l_ = _num(r.get("earlier")), _num(r.get("later"))
        words = change_phrase(e, l_, flag, reason)
        q = str(r["question"])
        name = trend.labels.get(q, q)
        out.append(Row(f"Tema: {name}" if q.startswith("tema_") else name, (
            _score_ci(e, _num(r.get("earlier_ci_low")), _num(r.get("earlier_ci_high"))) if shown else "–",
            _score_ci(l_, _num(r.get("later_ci_low")), _num(r.get("later_ci_high"))) if shown else "–",
            words[:1].upper() + words[1:]), flag))
    if scope == _ALL:
        n = len(set(trend.changes[found]["scope"].astype(str)) - {_ALL, "panel"})
        intro = (f"Udviklingen fra {label} til {later_label} for de {n} kommuner, der deltog begge gange (den "
                 "sammenligning, man kan stole på; udviklingen for alle deltagere står på udviklingssiden).")
    else:
        skipped = [trend.wave_labels[w] for w in earlier[earlier.index(found) + 1:]]
        intro = (f"Udviklingen fra {label}, den seneste tidligere runde, {scope} deltog i, til {later_label}"
                 + (f" ({scope} deltog ikke i {' og '.join(skipped)})" if skipped else "") + ".")
    nc = trend.not_comparable.get(found)
    names = ([("temaet " if str(q).startswith("tema_") else "") + trend.labels.get(q, q) for q in nc["question"]]
             if nc is not None and len(nc) else [])
    not_compared = (f"Ikke sammenlignet (ikke stillet eller ikke ens i begge runder; se udviklingssiden): "
                    f"{', '.join(names)}." if names else "")
    return SinceLast(found, label, later_label, intro, tuple(out), not_compared)


def summarise_scope(wave_dir: Path, params: Params, scope: str, scope_folder: str, banner: str = "",
                    made: dt.date | None = None, trend: TrendTotals | None | bool = True) -> ScopeSummary:
    """The summary of ``scope`` from the tables in ``wave_dir/scope_folder/tabeller`` (and the
    all-municipality response rates in ``wave_dir/alle``); ``trend``: the batch's trend tables
    (:func:`read_trend_totals`; True: read them from ``wave_dir``; None: no 'Siden sidst')."""
    folder = Path(wave_dir) / scope_folder / TABLES_DIR
    minimum = params.survey.reporting_minimum
    diag = _read(folder / "weights_diagnostics.csv")
    rates_all = _read(Path(wave_dir) / "alle" / TABLES_DIR / NONRESPONSE_DIR / "response_rates.csv")
    if scope == _ALL:
        header, themes, strong, weak, st, wt = _everyone(params, _read(folder / "tables.csv"), minimum)
        label = "Alle kommuner"
    else:
        header, themes, strong, weak, st, wt = _municipality(params, scope, _read(folder / "comparisons.csv"), minimum)
        label = scope
    day = made or dt.date.today()
    if trend is True:
        trend = read_trend_totals(wave_dir)
    import json

    from .provenance import danish_datetime, strip_paths

    prov_path = folder / "provenance.json"
    prov = json.loads(prov_path.read_text(encoding="utf-8")) if prov_path.is_file() else {}
    since = None if trend is None else since_last(trend, scope)
    waves = ([since.earlier_label] if since is not None and since.earlier_wave else []) + \
        ([since.later_label] if since is not None else [])
    provenance = "; ".join(x for x in (
        f"runder {' og '.join(waves)}" if waves else "",
        f"tabellerne lavet {danish_datetime(prov['created'])}" if prov.get("created") else "",
        f"data (SHA-256) {str(prov['data_sha256'])[:16]}…" if prov.get("data_sha256") else "",
        f"params (SHA-256) {str(prov['params_sha256'])[:16]}…" if prov.get("params_sha256") else "",
        f"git-commit {str(prov['git_commit'])[:10]}" + (" (ændringer ikke committet)" if prov.get("git_dirty") else "")
        if prov.get("git_commit") else "") if x)

    return ScopeSummary(
        scope=label, title=params.survey.title, wave=params.survey.wave, theme_header=header, themes=themes,
        strengths=strong, weaknesses=weak, strengths_title=st, weaknesses_title=wt,
        response=_response_sentence(rates_all, scope), weighting=_weighting_sentence(params, diag, scope),
        banner=banner, made=danish_datetime(dt.datetime(day.year, day.month, day.day, 12)).split(" kl.")[0],
        notes=((f"Kun spørgsmål og kommuner med mindst {minimum} svar indgår i styrker, svagheder og placeringer.",)
               if scope != _ALL else
               (f"Kun spørgsmål og kommuner med mindst {minimum} svar indgår i de højeste og laveste.",)),
        provenance=strip_paths(provenance),
        since=since)


_CSS = """
@page { size: A4; margin: 12mm 13mm 12mm 13mm; }
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, "Helvetica Neue", sans-serif; color: #1a1a1a;
  background: #fff; margin: 0 auto; max-width: 52rem; padding: 0 1rem 2rem; font-size: 1rem; line-height: 1.4; }
h1 { font-size: 1.45rem; margin: .8rem 0 .1rem; line-height: 1.2; }
h2 { font-size: 1.05rem; margin: .9rem 0 .3rem; border-bottom: 1px solid #c4c4c4; padding-bottom: .1rem; }
p { margin: .25rem 0; }
.sub { color: #595959; margin: 0 0 .4rem; }
.banner { border: 2px solid #a8322a; border-left-width: 8px; background: #fdf2f1; padding: .35rem .7rem; margin: .6rem 0 0; }
.banner strong { color: #a8322a; margin-right: .3rem; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .2rem .4rem; border-bottom: 1px solid #c4c4c4; }
thead th { border-bottom: 2px solid #1a1a1a; }
td.flag-above { color: #133a66; font-weight: 700; } td.flag-below { color: #8a251f; font-weight: 700; }
.cols { display: flex; gap: 1.2rem; flex-wrap: wrap; }
.cols > section { flex: 1 1 20rem; }
ol { margin: .2rem 0; padding-left: 1.3rem; } li { margin: .15rem 0; }
.note, footer { color: #595959; font-size: .8rem; }
footer { margin-top: .8rem; border-top: 1px solid #c4c4c4; padding-top: .3rem; }
a { color: #1c4f8a; }
:focus-visible { outline: 3px solid #1c4f8a; outline-offset: 2px; }
.skip-link { position: absolute; left: .5rem; top: -4rem; background: #fff; color: #1c4f8a; padding: .5rem .9rem;
  border: 2px solid #1c4f8a; }
.skip-link:focus { top: .5rem; }
table.since td.change-up { color: #133a66; font-weight: 700; }
table.since td.change-down { color: #8a251f; font-weight: 700; }
table.since td:nth-child(2), table.since td:nth-child(3) { white-space: nowrap; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  nav, .skip-link { display: none; }
  .banner { background: none; border-color: #1a1a1a; } .banner strong { color: #1a1a1a; }
  table { font-size: 8.5pt; } h1 { font-size: 15pt; } h2 { font-size: 11pt; }
  .cols { display: block; } .cols > section { break-inside: avoid; }
  body.with-since { font-size: 8.5pt; line-height: 1.25; }
  body.with-since h1 { font-size: 13pt; margin-top: .3rem; } body.with-since h2 { font-size: 10pt; margin: .45rem 0 .15rem; }
  body.with-since table { font-size: 7.5pt; } body.with-since th, body.with-since td { padding: .05rem .3rem; }
  body.with-since .cols { display: flex; gap: .8rem; } body.with-since .cols > section { flex: 1 1 0; }
  body.with-since .note, body.with-since footer { font-size: 7pt; } body.with-since p { margin: .1rem 0; }
  body.with-since .banner { padding: .15rem .5rem; margin-top: 0; }
  table.since td:nth-child(4), body.with-since table.themes td { white-space: nowrap; }
}
@media (max-width: 40rem) { body { padding: 0 .75rem 2rem; } h1 { font-size: 1.25rem; } }
"""


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _since_html(since: SinceLast | None) -> str:
    """The 'Siden sidst' section (empty without trend tables)."""
    if since is None:
        return ""
    if not since.rows:
        return f'<h2 id="siden-sidst">Siden sidst</h2>\n<p>{_e(since.intro)}</p>\n'
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in (
        "Tema eller spørgsmål", f"{since.earlier_label} (95 %-KI)", f"{since.later_label} (95 %-KI)", "Udvikling"))
    body = "".join(f'<tr><th scope="row">{_e(r.label)}</th><td>{_e(r.cells[0])}</td><td>{_e(r.cells[1])}</td>'
                   f'<td class="change-{_e(r.flag)}">{_e(r.cells[2])}</td></tr>' for r in since.rows)
    note = ("Score fra 1 til 5 med 95 %-konfidensinterval. En ændring kaldes sikker, når testen af forskellen er "
            "statistisk signifikant efter korrektion for mange test, ikke ud fra om intervallerne overlapper.")
    return (f'<h2 id="siden-sidst">Siden sidst</h2>\n<p>{_e(since.intro)}</p>\n'
            f'<div class="table-scroll" role="region" aria-labelledby="siden-sidst" tabindex="0">\n'
            f'<table class="since"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n</div>\n'
            f'<p class="note">{_e(note)}' + (f" {_e(since.not_compared)}" if since.not_compared else "") + "</p>\n")


def summary_html(s: ScopeSummary, key: str = "", links: bool = True) -> str:
    """The summary as a page of its own (no script, no request, its CSS inline). ``links``: a link
    back to the index and to the PDF (left out of the HTML the PDF is made from)."""
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in s.theme_header)
    body = "".join(f'<tr><th scope="row">{_e(r.label)}</th>'
                   + "".join(f'<td class="flag-{_e(r.flag)}">{_e(c)}</td>' if i == 3 and r.flag else f"<td>{_e(c)}</td>"
                             for i, c in enumerate(r.cells)) + "</tr>" for r in s.themes)
    flag_note = ("'Over' og 'under': kommunen ligger statistisk sikkert over eller under gennemsnittet af de "
                 "øvrige kommuner (justeret for mange test); 'på niveau': ingen sikker forskel. Placering 1 er "
                 "den højeste score." if s.scope != "Alle kommuner" else
                 "Score fra 1 (lavest) til 5 (højest), vægtet, med 95 %-konfidensinterval.")

    def items(lines, empty):
        return "<ol>" + "".join(f"<li>{_e(x)}</li>" for x in lines) + "</ol>" if lines else f"<p>{_e(empty)}</p>"

    banner = (f'<p class="banner"><strong>{_e(s.banner)}</strong> {_e(BANNER_DETAIL)}</p>' if s.banner else "")
    nav = (f'<nav aria-label="Rapporterne"><p><a href="../index.html">Oversigt over rapporterne</a> · '
           f'<a href="{SUMMARY_NAME}.pdf">Hent som PDF</a></p></nav>' if links else "")
    title = f"Ledelsesresumé – {s.scope}"
    return f"""<!DOCTYPE html>
<html lang="{SUMMARY_LANG}">
<head>
{head_meta()}<meta name="survey-summary-key" content="{_e(key)}">
<meta name="author" content="survey_lib">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body{' class="with-since"' if s.since is not None and s.since.rows else ""}>
<a class="skip-link" href="#indhold">Gå til indholdet</a>
<header>{banner}{nav}</header>
<main id="indhold">
<h1>{_e(title)}</h1>
<p class="sub">{_e(s.title)} · bølge {_e(s.wave)} · {_e(s.made)}</p>
<h2 id="temaer">Temaerne</h2>
<div class="table-scroll" role="region" aria-labelledby="temaer" tabindex="0">
<table class="themes"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</div>
<p class="note">{_e(flag_note)}</p>
<div class="cols">
<section aria-labelledby="styrker"><h2 id="styrker">{_e(s.strengths_title)}</h2>{items(s.strengths, "Ingen spørgsmål ligger over de øvrige kommuner.")}</section>
<section aria-labelledby="svagheder"><h2 id="svagheder">{_e(s.weaknesses_title)}</h2>{items(s.weaknesses, "Ingen spørgsmål ligger under de øvrige kommuner.")}</section>
</div>
{_since_html(s.since)}<h2 id="svar">Svarprocent</h2>
<p>{_e(s.response)}</p>
<h2 id="vaegtning">Vægtning</h2>
<p>{_e(s.weighting)}</p>
{"".join(f'<p class="note">{_e(n)}</p>' for n in s.notes)}
</main>
<footer><p>Lavet af survey_lib ud fra batchens tabeller; alle tal findes i tabellerne (Excel) og på rapportsiderne.
{_e(s.provenance[:1].upper() + s.provenance[1:])}.</p></footer>
</body>
</html>
"""


def write_summary_pdf(page: str, path: Path) -> Path:
    """``page`` (the summary's HTML) as a tagged PDF/UA-1 at ``path`` (atomically: written under a
    temporary name beside it, then moved into place), by WeasyPrint."""
    import os

    from weasyprint import HTML

    data = HTML(string=page).write_pdf(pdf_variant="pdf/ua-1")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _key(wave_dir: Path, scope_folder: str, params: Params, banner: str, trend_digest: str = "") -> str:
    h = hashlib.sha256(trend_digest.encode() + b"\0")
    folder = Path(wave_dir) / scope_folder / TABLES_DIR
    for p in (folder / "comparisons.csv", folder / "tables.csv", folder / "weights_diagnostics.csv",
              Path(wave_dir) / "alle" / TABLES_DIR / NONRESPONSE_DIR / "response_rates.csv", Path(__file__)):
        h.update(p.read_bytes() if p.is_file() else b"-")
    h.update(params.digest.encode() + b"\0" + banner.encode() + b"\0" + dt.date.today().isoformat().encode())
    return h.hexdigest()


def _stored_key(page: Path) -> str:
    import re

    if not page.is_file():
        return ""
    m = re.search(r'<meta name="survey-summary-key" content="([0-9a-f]*)">', page.read_text(encoding="utf-8")[:4000])
    return m.group(1) if m else ""


def write_summaries(wave_dir: Path, params: Params, scopes: list[tuple[str, str]], banner: str = "",
                    log=print) -> list[Path]:
    """Write ``ledelsesresume.html`` and ``.pdf`` into each scope's folder; ``scopes``: (scope,
    folder) pairs. A scope whose summary is current (same inputs, code, banner and day) is left
    alone. A PDF that cannot be made (WeasyPrint or its system libraries missing) is said in the
    log; the HTML is written anyway.

    With trend tables beside the scopes (``<wave>/udvikling/``) each summary has 'Siden sidst'; the
    tables are read once for all scopes, and only when a summary is to be written."""
    from .paths import TREND_DIR

    written = []
    digest = _trend_digest(Path(wave_dir) / TREND_DIR)
    trend: TrendTotals | None | bool = True
    for scope, folder in scopes:
        out = Path(wave_dir) / folder
        if not (out / TABLES_DIR).is_dir():
            continue
        key = _key(wave_dir, folder, params, banner, digest)
        html_path, pdf_path = out / f"{SUMMARY_NAME}.html", out / f"{SUMMARY_NAME}.pdf"
        if _stored_key(html_path) == key and pdf_path.is_file():
            continue
        if trend is True:
            trend = read_trend_totals(wave_dir)
        s = summarise_scope(wave_dir, params, scope, folder, banner, trend=trend)
        try:
            written.append(write_summary_pdf(summary_html(s, key, links=False), pdf_path))
        except (ImportError, OSError) as exc:
            pdf_path.unlink(missing_ok=True)
            log(f"Ledelsesresumé for {s.scope}: PDF ikke skrevet ({type(exc).__name__}: {exc}); "
                "WeasyPrint behøver Debians pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0)")
        written.append(atomic_write_text(html_path, summary_html(s, key)))
    return written
