"""The trend pages (notebook ``60_udvikling``): the change since the earlier waves in Danish words,
tables with both waves' scores and intervals, the linear trend over three or more waves, the
municipality's rank in each wave and how it moved, the change of the share answering one of the two
most positive answers, a chart of the scores across waves, and what is not compared and why.

The numbers come from the waves' change tables (:mod:`survey_lib.waves.pipeline`, written by
``survey-report run --wave`` to ``<wave>/udvikling/``); this module only words and draws them, in the
house style of :mod:`survey_lib.plots` (caption, alt text, the numbers in a table).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .narrative import fmt_number, fmt_pct, fmt_signed
from .paths import TREND_DIR
from .plots import FONT, INK, MUTED, SCORE_LIMITS, SERIES, WIDTH, Chart, display_chart, styled
from .vocabulary import TREND_PANEL

__all__ = ["TREND_DIR", "change_phrase", "change_table", "not_comparable_table", "waves_chart", "read_trend",
           "TrendFiles", "trend_phrase", "trend_table", "rank_phrase", "rank_table", "share_phrase", "share_table"]

# TREND_DIR (the folder ``<out>/<wave>/udvikling`` of the trend tables) and TREND_PANEL (the scope of
# the scores over the municipalities in every wave) live in paths and vocabulary, which the batch and
# the wave pipeline import without this module's charts.


def _ci(lo: float, hi: float) -> str:
    # 'til' rather than a dash when a bound is negative: '-0,40 til -0,23', not '-0,40–-0,23'
    return f"{fmt_number(lo)}{' til ' if min(lo, hi) < 0 else '–'}{fmt_number(hi)}"


def _verdict(flag: str, reason: str, up: str, down: str, unchanged: str) -> str:
    """The words of a tested flag: ``up``, ``down`` or ``unchanged`` as given; a suppressed or not
    computed result says why."""
    if flag in ("up", "down", "unchanged"):
        return {"up": up, "down": down, "unchanged": unchanged}[flag]
    if flag == "suppressed":
        return "ikke vist: for få svar i en af runderne"
    return f"ikke beregnet{': ' + reason if reason else ''}"


def change_phrase(earlier: float, later: float, flag: str, reason: str = "") -> str:
    """The change in words: 'steget fra 3,52 til 3,71; en sikker forbedring', 'faldet fra 3,71 til
    3,52; et sikkert fald', 'fra 3,52 til 3,55: uændret inden for den statistiske usikkerhed'; a
    suppressed or not computed change says why.

    ``flag`` is the change table's flag (``up``, ``down``, ``unchanged``, ``suppressed``,
    ``not_computable``); a change is called sure ('sikker') only when its test, after the
    multiple-testing rule, is significant — never from whether the two intervals overlap.
    """
    a, b = fmt_number(earlier), fmt_number(later)
    return _verdict(flag, reason, up=f"steget fra {a} til {b}; en sikker forbedring",
                    down=f"faldet fra {a} til {b}; et sikkert fald",
                    unchanged=f"fra {a} til {b}: uændret inden for den statistiske usikkerhed")


def change_table(changes: pd.DataFrame, labels: dict[str, str], earlier_label: str, later_label: str) -> pd.DataFrame:
    """Display table (Danish headers) of mean changes in total: question, both waves' scores with
    95 % intervals, the change with its interval, and the verdict in words.

    ``changes``: rows of the change frame (:data:`survey_lib.change.CHANGE_COLUMNS`) of one scope,
    breakdown total, kind mean; ``labels``: stable id -> question or theme label.
    """
    rows = []
    for r in changes.itertuples():
        shown = r.flag not in ("suppressed",) and not (isinstance(r.earlier, float) and math.isnan(r.earlier))
        rows.append({
            "Spørgsmål": labels.get(r.question, r.question),
            f"{earlier_label} (95 %-KI)": f"{fmt_number(r.earlier)} ({_ci(r.earlier_ci_low, r.earlier_ci_high)})"
            if shown else "–",
            f"{later_label} (95 %-KI)": f"{fmt_number(r.later)} ({_ci(r.later_ci_low, r.later_ci_high)})"
            if shown else "–",
            "Ændring (95 %-KI)": f"{fmt_signed(r.change)} ({_ci(r.ci_low, r.ci_high)})" if shown and r.flag != "not_computable"
            else "–",
            "Vurdering": change_phrase(r.earlier, r.later, r.flag, str(r.not_computable or "")).capitalize(),
        })
    return pd.DataFrame(rows, columns=["Spørgsmål", f"{earlier_label} (95 %-KI)", f"{later_label} (95 %-KI)",
                                       "Ændring (95 %-KI)", "Vurdering"])


def not_comparable_table(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The questions and themes not compared, with the reason (Danish headers)."""
    return pd.DataFrame({"Spørgsmål eller tema": [labels.get(q, q) for q in frame["question"]],
                         "Hvorfor ikke sammenlignet": list(frame["reason"])})


#: Danish number words for 'over de tre runder'.
_NUMBER_WORDS = {2: "to", 3: "tre", 4: "fire", 5: "fem", 6: "seks", 7: "syv", 8: "otte", 9: "ni", 10: "ti"}


def _first_upper(text: str) -> str:
    """'fra 24,0 % …' -> 'Fra 24,0 % …' (unlike str.capitalize, the rest is kept as it is)."""
    return text[:1].upper() + text[1:]


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def trend_phrase(flag: str, n_waves: int, reason: str = "") -> str:
    """The linear trend in words: 'en sikker stigende tendens over de tre runder', 'en sikker
    faldende tendens over de tre runder', 'ingen sikker tendens over de tre runder'; suppressed or
    not computed says why.

    ``flag`` is the trend table's flag (:class:`survey_lib.change.ChangeFlag`): a trend is called
    sure only when the slope's test, after the multiple-testing rule, is significant."""
    over = f"over de {_NUMBER_WORDS.get(int(n_waves), str(int(n_waves)))} runder"
    return _verdict(flag, reason, up=f"en sikker stigende tendens {over}",
                    down=f"en sikker faldende tendens {over}",
                    unchanged=f"ingen sikker tendens {over}")


def trend_table(trend: pd.DataFrame, scores: pd.DataFrame, labels: dict[str, str], waves: pd.DataFrame
                ) -> pd.DataFrame:
    """Display table (Danish headers) of the linear trend of one scope: question, the score in each
    wave (oldest first), the change per round with its 95 % interval, the verdict in words.

    ``trend``: rows of the trend table (:data:`survey_lib.change.TREND_COLUMNS`) of one scope in
    total; ``scores``: that scope's rows of ``scores.csv`` (``wave, question, mean``); ``waves``: the
    trend's waves in time order (``wave, label, year``)."""
    order = [str(w) for w in waves["wave"]]
    years = " → ".join(str(y) for y in waves["year"])
    mean = {(str(r.wave), str(r.question)): float(r.mean) for r in scores.itertuples()
            if not _missing(r.mean)}
    rows = []
    for r in trend.itertuples():
        tested = r.flag in ("up", "down", "unchanged")
        rows.append({
            "Spørgsmål": labels.get(r.question, r.question),
            f"Score ({years})": " → ".join(fmt_number(mean.get((w, str(r.question)), float("nan"))) for w in order),
            "Ændring pr. runde (95 %-KI)": f"{fmt_signed(r.slope)} ({_ci(r.ci_low, r.ci_high)})" if tested else "–",
            "Vurdering": _first_upper(trend_phrase(r.flag, len(order), "" if _missing(r.not_computable)
                                                   else str(r.not_computable))),
        })
    return pd.DataFrame(rows, columns=["Spørgsmål", f"Score ({years})", "Ændring pr. runde (95 %-KI)", "Vurdering"])


def rank_phrase(earlier_rank, earlier_of, later_rank, later_of, earlier_label: str = "", later_label: str = "") -> str:
    """Where the municipality was and is: 'fra nr. 12 af 22 til nr. 7 af 22 (5 pladser op)'; a wave
    without a rank says why (the rank table's label, e.g. 'ikke rangeret: 12 svar (under 30)').

    A move of rank is described, never called sure: it depends on the other municipalities as much
    as on the municipality's own score."""
    if _missing(earlier_rank) or _missing(later_rank):
        a = f"nr. {int(earlier_rank)} af {int(earlier_of)}" if not _missing(earlier_rank) else (earlier_label or "–")
        b = f"nr. {int(later_rank)} af {int(later_of)}" if not _missing(later_rank) else (later_label or "–")
        return f"før: {a}; nu: {b}"
    move = int(earlier_rank) - int(later_rank)
    how = ("samme plads" if move == 0 else
           f"{abs(move)} {'plads' if abs(move) == 1 else 'pladser'} {'op' if move > 0 else 'ned'}")
    return f"fra nr. {int(earlier_rank)} af {int(earlier_of)} til nr. {int(later_rank)} af {int(later_of)} ({how})"


def _rank_set(lower, upper) -> str:
    if _missing(lower) or _missing(upper):
        return "–"
    return f"nr. {int(lower)}" if int(lower) == int(upper) else f"nr. {int(lower)}–{int(upper)}"


def rank_table(ranks: pd.DataFrame, changes: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Display table of one municipality's rank in the earlier and the latest wave per question and
    theme: the move, the 95 % confidence set of each rank (the rank's uncertainty), and what the
    change test says about the municipality's own score.

    ``ranks``: the municipality's rows of ``ranks_<wave>.csv``
    (:data:`survey_lib.change.RANK_MOVEMENT_COLUMNS`); ``changes``: its mean changes in total."""
    verdict = {str(r.question): change_phrase(r.earlier, r.later, r.flag, "" if _missing(r.not_computable)
                                              else str(r.not_computable))
               for r in changes.itertuples()}
    rows = []
    for r in ranks.itertuples():
        rows.append({
            "Spørgsmål": labels.get(r.question, r.question),
            "Placering": rank_phrase(r.earlier_rank, r.earlier_of, r.later_rank, r.later_of,
                                     "" if _missing(r.earlier_label) else str(r.earlier_label),
                                     "" if _missing(r.later_label) else str(r.later_label)),
            "Usikkerhed (95 %)": f"{_rank_set(r.earlier_lower, r.earlier_upper)} → "
                                 f"{_rank_set(r.later_lower, r.later_upper)}",
            "Kommunens egen score": _first_upper(verdict.get(str(r.question), "–")),
        })
    return pd.DataFrame(rows, columns=["Spørgsmål", "Placering", "Usikkerhed (95 %)", "Kommunens egen score"])


def _points(x: float) -> str:
    return fmt_number(100 * x, 1)


def share_phrase(earlier: float, later: float, flag: str, change: float = float("nan"), ci_low: float = float("nan"),
                 ci_high: float = float("nan"), reason: str = "") -> str:
    """A share's change in words, Danish percent: 'steget fra 24,0 % til 27,5 % (3,5 procentpoint;
    95 %-KI 1,2 til 5,8); en sikker stigning', 'fra 24,0 % til 25,0 %: uændret inden for den
    statistiske usikkerhed'. Sure only by the test after the multiple-testing rule."""
    a, b = fmt_pct(earlier), fmt_pct(later)
    detail = ""
    if not _missing(change) and not _missing(ci_low):
        sep = " til " if min(ci_low, ci_high) < 0 else "–"
        detail = f" ({fmt_signed(100 * change, 1)} procentpoint; 95 %-KI {_points(ci_low)}{sep}{_points(ci_high)})"
    return _verdict(flag, reason, up=f"steget fra {a} til {b}{detail}; en sikker stigning",
                    down=f"faldet fra {a} til {b}{detail}; et sikkert fald",
                    unchanged=f"fra {a} til {b}{detail}: uændret inden for den statistiske usikkerhed")


def share_table(shares: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Display table of the share answering one of the two most positive answers, per question:
    which answers, and the change from the earlier to the latest wave in words (``shares``: one
    scope's rows of ``top_shares_<wave>.csv``)."""
    rows = [{"Spørgsmål": labels.get(r.question, r.question),
             "Andelen, der har svaret": str(r.category_label),
             "Udvikling": _first_upper(share_phrase(r.earlier, r.later, r.flag, r.change, r.ci_low, r.ci_high,
                                                    "" if _missing(r.not_computable) else str(r.not_computable)))}
            for r in shares.itertuples()]
    return pd.DataFrame(rows, columns=["Spørgsmål", "Andelen, der har svaret", "Udvikling"])


@styled
def waves_chart(series: pd.DataFrame, title: str = "") -> Chart:
    """Scores across waves with their 95 % intervals: one line per question (or theme), the waves in
    time order on the x axis, the 1–5 score on the y axis.

    ``series``: ``label`` (the line), ``wave_label`` (in time order), ``mean``, ``ci_low``, ``ci_high``;
    a wave without a score for a line leaves a gap.
    """
    waves = list(dict.fromkeys(series["wave_label"]))
    lines = list(dict.fromkeys(series["label"]))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2 + 0.22 * len(lines)))
    x = np.arange(len(waves))
    offsets = np.linspace(-0.08, 0.08, len(lines)) if len(lines) > 1 else [0.0]
    for i, (name, off) in enumerate(zip(lines, offsets)):
        s = series[series["label"] == name].set_index("wave_label").reindex(waves)
        colour = SERIES[i % len(SERIES)]
        xs = x + off
        ax.plot(xs, s["mean"], color=colour, marker="os^Dv"[i % 5], lw=1.6, label=name)
        ax.vlines(xs, s["ci_low"], s["ci_high"], color=colour, lw=1.2)
    ax.set_xticks(x, waves)
    ax.set_ylim(*SCORE_LIMITS)
    ax.set_ylabel("Gennemsnitlig score (1–5)", color=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color=MUTED, alpha=0.25)
    if title:
        ax.set_title(title, loc="left", fontsize=FONT + 1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False, fontsize=FONT - 1)
    fig.tight_layout()
    last = series[series["wave_label"] == waves[-1]]
    message = ("I " + waves[-1] + ": " + "; ".join(f"{r.label} {fmt_number(r.mean)}" for r in last.itertuples())
               + ".") if len(last) else ""
    caption = ("Gennemsnitlig score på skalaen 1–5 (5 er mest positiv) i hver runde med 95 %-konfidensinterval. "
               "Om en ændring er statistisk sikker, afgør testen af forskellen i tabellen, ikke om "
               "intervallerne overlapper.")
    table = pd.DataFrame({"Spørgsmål": list(series["label"]), "Runde": list(series["wave_label"]),
                          "Score": [fmt_number(v) for v in series["mean"]],
                          "95 %-KI": [_ci(lo, hi) for lo, hi in zip(series["ci_low"], series["ci_high"])]})
    alt = f"Linjediagram: {title or 'score i hver runde'}. {message}".strip()
    return Chart(fig, alt, caption, table, title)


class TrendFiles:
    """The trend tables of one wave's output folder (``<wave>/udvikling``)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    @property
    def present(self) -> bool:
        return (self.folder / "waves.csv").is_file()

    def waves(self) -> pd.DataFrame:
        """``wave, label, year, latest`` of every wave compared (time order)."""
        return pd.read_csv(self.folder / "waves.csv", dtype={"wave": str})

    def changes(self, earlier: str) -> pd.DataFrame:
        return pd.read_csv(self.folder / f"changes_{earlier}.csv", dtype={"earlier_wave": str, "later_wave": str,
                                                                          "group": str, "category": str},
                           keep_default_na=True)

    def not_comparable(self, earlier: str) -> pd.DataFrame:
        return pd.read_csv(self.folder / f"not_comparable_{earlier}.csv", dtype=str).fillna("")

    def scores(self) -> pd.DataFrame:
        """Every wave's scores in total under stable ids: ``wave, scope, question, mean, ci_low, ci_high``."""
        return pd.read_csv(self.folder / "scores.csv", dtype={"wave": str})

    def labels(self) -> dict[str, str]:
        f = pd.read_csv(self.folder / "labels.csv", dtype=str)
        return dict(zip(f["question"], f["label"]))

    def _optional(self, name: str, **kw) -> pd.DataFrame | None:
        path = self.folder / name
        return pd.read_csv(path, **kw) if path.is_file() else None

    def trend(self) -> pd.DataFrame | None:
        """The linear trend over three or more waves (``trend.csv``), or None (fewer waves)."""
        return self._optional("trend.csv", dtype={"group": str, "not_computable": str})

    def trend_not_comparable(self) -> pd.DataFrame | None:
        t = self._optional("trend_not_comparable.csv", dtype=str)
        return None if t is None else t.fillna("")

    def ranks(self, earlier: str) -> pd.DataFrame | None:
        """Each municipality's rank in ``earlier`` and the latest wave (``ranks_<wave>.csv``)."""
        return self._optional(f"ranks_{earlier}.csv", dtype={"kommune": str, "earlier_label": str, "later_label": str})

    def top_shares(self, earlier: str) -> pd.DataFrame | None:
        """The change of the share answering 4 or 5 (``top_shares_<wave>.csv``)."""
        return self._optional(f"top_shares_{earlier}.csv", dtype={"group": str, "category": str,
                                                                  "category_label": str, "not_computable": str})

    def warnings(self, earlier: str) -> list[str]:
        path = self.folder / f"warnings_{earlier}.txt"
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line] if path.is_file() else []


def read_trend(tables_dir: Path | str) -> TrendFiles:
    """The trend tables beside a scope's ``tables_dir`` (``<wave>/<scope>/tabeller`` ->
    ``<wave>/udvikling``)."""
    return TrendFiles(Path(tables_dir).parent.parent / TREND_DIR)


# --------------------------------------------------------------------------------------------------
# the page (notebook 60_udvikling)
# --------------------------------------------------------------------------------------------------
def _md_table(frame: pd.DataFrame) -> str:
    from .narrative import escape_markdown as esc

    cols = list(frame.columns)
    lines = ["| " + " | ".join(esc(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(esc(str(v)) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def trend_sections(files: TrendFiles, scope: str) -> list[tuple[str, object]]:
    """The page's content for ``scope`` (``all`` or a municipality) as ``(kind, value)`` pairs:
    ``markdown`` text, ``chart`` (:class:`~survey_lib.plots.Chart`); what :func:`show_trend` displays
    (kept apart so that it can be tested without a notebook)."""
    from .narrative import escape_markdown as esc

    out: list[tuple[str, object]] = []
    if not files.present:
        return [("markdown", "Der er ingen trendtabeller for denne kørsel. Kør `survey-report run --wave <runde>`, "
                             "så sammenlignes runden med de tidligere runder, der har data.")]
    waves = files.waves()
    if len(waves) < 2:
        return [("markdown", f"{esc(waves['label'].iloc[-1])} er den første runde med data; der er endnu ingen "
                             "udvikling at vise.")]
    labels = files.labels()
    latest = waves.iloc[-1]
    scores = files.scores()
    trend = files.trend()
    if trend is not None:
        out.extend(_trend_sections(files, trend, scope, waves, labels, scores))
    for e in waves.iloc[:-1].itertuples():
        ch = files.changes(e.wave)
        rows = ch[(ch["breakdown"] == "total") & (ch["kind"] == "mean")]
        title = f"## Fra {esc(e.label)} til {esc(latest['label'])}"
        if scope == "all":
            for w in files.warnings(e.wave):
                out.append(("markdown", f"{title}\n\n> **Bemærk:** {esc(w)}"))
                title = ""
            for sc, head in (("panel", "### De kommuner, der deltog begge gange"), ("all", "### Alle deltagere")):
                part = rows[rows["scope"] == sc]
                if len(part):
                    out.append(("markdown", (title + "\n\n" if title else "") + head + "\n\n"
                                + _md_table(change_table(part, labels, e.label, latest["label"]))))
                    title = ""
        else:
            part = rows[rows["scope"] == scope]
            if not len(part):
                out.append(("markdown", f"{title}\n\n{esc(scope)} deltog ikke i {esc(e.label)}; der er ingen "
                                        "udvikling at vise."))
                continue
            out.append(("markdown", f"{title}\n\n" + _md_table(change_table(part, labels, e.label, latest["label"]))))
        main = rows[rows["scope"] == ("panel" if scope == "all" else scope)]
        sure = main[main["flag"].isin(["up", "down"])]
        words = "; ".join(f"{labels.get(r.question, r.question)} er {change_phrase(r.earlier, r.later, r.flag)}"
                          for r in sure.itertuples())
        out.append(("markdown", f"**Sikre ændringer:** {esc(words)}." if words else
                    "Ingen af ændringerne er statistisk sikre efter korrektionen for mange test."))
        out.extend(_share_sections(files.top_shares(e.wave), "panel" if scope == "all" else scope, labels, e.label,
                                   latest["label"]))
        if scope != "all":
            out.extend(_rank_sections(files.ranks(e.wave), scope, part, labels, e.label, latest["label"]))
        nc = files.not_comparable(e.wave)
        if len(nc):
            out.append(("markdown", "### Ikke sammenlignet\n\n" + _md_table(not_comparable_table(nc, labels))))
    sel = "panel:" + waves["wave"].iloc[-2] if scope == "all" else scope
    who = "de kommuner, der deltog i begge de seneste runder" if scope == "all" else scope
    if scope == "all" and (scores["scope"] == TREND_PANEL).any():
        sel, who = TREND_PANEL, "de kommuner, der deltog i alle runderne"
    s = scores[(scores["scope"] == sel) & scores["question"].astype(str).str.startswith("tema_")]
    if len(s):
        lab = dict(zip(waves["wave"], waves["label"]))
        series = pd.DataFrame({"label": [labels.get(q, q) for q in s["question"]],
                               "wave_label": [lab.get(w, w) for w in s["wave"]], "mean": s["mean"].astype(float),
                               "ci_low": s["ci_low"].astype(float), "ci_high": s["ci_high"].astype(float)})
        order = {w: i for i, w in enumerate(waves["label"])}
        series = series.sort_values("wave_label", key=lambda c: c.map(order), kind="stable")
        out.append(("chart", waves_chart(series, f"Temascorer i hver runde: {who}")))
    return out


def _trend_sections(files: TrendFiles, trend: pd.DataFrame, scope: str, waves: pd.DataFrame,
                    labels: dict[str, str], scores: pd.DataFrame) -> list[tuple[str, object]]:
    """The linear trend over all the waves of the trend tables (three or more)."""
    from .narrative import escape_markdown as esc

    n = len(waves)
    word = _NUMBER_WORDS.get(n, str(n))
    out: list[tuple[str, object]] = []
    text = (f"## Tendens over de {word} runder\n\nTendensen er den gennemsnitlige ændring i scoren pr. runde "
            f"fra {esc(waves['label'].iloc[0])} til {esc(waves['label'].iloc[-1])}: hældningen i en lineær model "
            "over alle runderne, testet designbaseret og rettet for mange test i samme kommune. Den siger, om "
            "scoren samlet set bevæger sig op eller ned, ikke om hvert skridt mellem to runder er sikkert.")
    trend = trend[trend["breakdown"] == "total"]
    if scope == "all":
        parts = [("panel", TREND_PANEL, f"### De kommuner, der deltog i alle {word} runder"),
                 ("all", "all", "### Alle deltagere (forskellige kommuner i runderne)")]
    else:
        parts = [(scope, scope, "")]
    main = None
    for sc, score_scope, head in parts:
        rows = trend[trend["scope"] == sc]
        if not len(rows):
            continue
        main = rows if main is None else main
        s = scores[scores["scope"] == score_scope]
        table = _md_table(trend_table(rows, s, labels, waves))
        text += ("\n\n" + head if head else "") + "\n\n" + table
    if main is None:
        who = esc(scope) if scope != "all" else "Ingen kommune"
        out.append(("markdown", text + f"\n\n{who} deltog ikke i alle {word} runder; der er ingen tendens at vise."))
        return out
    out.append(("markdown", text))
    sure = main[main["flag"].isin(["up", "down"])]
    words = "; ".join(f"{labels.get(r.question, r.question)}: {trend_phrase(r.flag, n)}" for r in sure.itertuples())
    out.append(("markdown", f"**Sikre tendenser:** {esc(words)}." if words else
                f"Ingen sikker tendens over de {word} runder efter korrektionen for mange test."))
    nc = files.trend_not_comparable()
    if nc is not None and len(nc):
        out.append(("markdown", f"### Uden tendens over de {word} runder\n\n"
                    + _md_table(not_comparable_table(nc, labels))))
    return out


def _share_sections(shares: pd.DataFrame | None, scope: str, labels: dict[str, str], earlier_label: str,
                    later_label: str) -> list[tuple[str, object]]:
    """The change of the share answering one of the two most positive answers."""
    from .narrative import escape_markdown as esc

    if shares is None:
        return []
    part = shares[shares["scope"] == scope]
    if not len(part):
        return []
    who = " i de kommuner, der deltog begge gange" if scope == "panel" else ""
    out = [("markdown", f"### Andelen med de to mest positive svar\n\nAndelen af svarene{who}, der er et af de to "
                        f"mest positive svar på spørgsmålet, i {esc(earlier_label)} og {esc(later_label)}; "
                        "ændringen i procentpoint med 95 %-konfidensinterval og testet som ændringerne ovenfor.\n\n"
                        + _md_table(share_table(part, labels)))]
    sure = part[part["flag"].isin(["up", "down"])]
    words = " ".join(f"Andelen, der har svaret '{str(r.category_label).lower()}' på "
                     f"'{labels.get(r.question, r.question)}', er {share_phrase(r.earlier, r.later, r.flag)}."
                     for r in sure.itertuples())
    out.append(("markdown", f"**Sikre ændringer i andelene:** {esc(words)}" if words else
                "Ingen af andelene har ændret sig statistisk sikkert efter korrektionen for mange test."))
    return out


def _rank_sections(ranks: pd.DataFrame | None, scope: str, changes: pd.DataFrame, labels: dict[str, str],
                   earlier_label: str, later_label: str) -> list[tuple[str, object]]:
    """A municipality's rank among the participants of each wave and how it moved."""
    from .narrative import escape_markdown as esc

    if ranks is None:
        return []
    part = ranks[ranks["kommune"] == scope]
    if not len(part):
        return []
    return [("markdown", f"### Placering blandt kommunerne\n\nKommunens placering i {esc(earlier_label)} og i "
                         f"{esc(later_label)} blandt de kommuner, der deltog og fik en placering i begge runder, så "
                         "begge placeringer er ud af den samme kreds (nr. 1 har den højeste score; en kommune med "
                         "for få svar får ingen placering). Usikkerheden er et 95 %-konfidenssæt for placeringen. "
                         "En placering afhænger også af de andre kommuners scorer; en flytning er derfor ikke i sig "
                         "selv en sikker forbedring eller forværring. "
                         "Om kommunens egen score har ændret sig, afgør testen af ændringen (sidste kolonne).\n\n"
                         + _md_table(rank_table(part, changes, labels)))]


def show_trend(kommune: str | None, tables_dir: str | None) -> list[tuple[str, object]]:
    """Display the trend page of a scope (notebook ``60_udvikling``); returns the sections shown."""
    from IPython.display import Markdown, display

    files = read_trend(tables_dir) if tables_dir else TrendFiles(Path("__no_trend__"))
    sections = trend_sections(files, kommune or "all")
    for kind, value in sections:
        if kind == "chart":
            display_chart(value)
        else:
            display(Markdown(value))
    return sections
