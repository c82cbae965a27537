"""The trend pages (notebook ``60_udvikling``): the change since the earlier waves in Danish words,
tables with both waves' scores and intervals, a chart of the scores across waves, and what is not
compared and why.

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

from .narrative import fmt_number
from .plots import FONT, INK, MUTED, SCORE_LIMITS, SERIES, WIDTH, Chart, display_chart, styled

__all__ = ["TREND_DIR", "change_phrase", "change_table", "not_comparable_table", "waves_chart", "read_trend",
           "TrendFiles"]

#: The folder of a wave's output (``<out>/<wave>/udvikling``) that holds the trend tables.
TREND_DIR = "udvikling"


def _ci(lo: float, hi: float) -> str:
    # 'til' rather than a dash when a bound is negative: '-0,40 til -0,23', not '-0,40–-0,23'
    return f"{fmt_number(lo)}{' til ' if min(lo, hi) < 0 else '–'}{fmt_number(hi)}"


def change_phrase(earlier: float, later: float, flag: str, reason: str = "") -> str:
    """The change in words: 'steget fra 3,52 til 3,71; en sikker forbedring', 'faldet fra 3,71 til
    3,52; et sikkert fald', 'fra 3,52 til 3,55: uændret inden for den statistiske usikkerhed'; a
    suppressed or not computed change says why.

    ``flag`` is the change table's flag (``up``, ``down``, ``unchanged``, ``suppressed``,
    ``not_computable``); a change is called sure ('sikker') only when its test, after the
    multiple-testing rule, is significant — never from whether the two intervals overlap.
    """
    a, b = fmt_number(earlier), fmt_number(later)
    if flag == "up":
        return f"steget fra {a} til {b}; en sikker forbedring"
    if flag == "down":
        return f"faldet fra {a} til {b}; et sikkert fald"
    if flag == "unchanged":
        return f"fra {a} til {b}: uændret inden for den statistiske usikkerhed"
    if flag == "suppressed":
        return "ikke vist: for få svar i en af runderne"
    return f"ikke beregnet{': ' + reason if reason else ''}"


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
            "Ændring (95 %-KI)": f"{fmt_number(r.change)} ({_ci(r.ci_low, r.ci_high)})" if shown and r.flag != "not_computable"
            else "–",
            "Vurdering": change_phrase(r.earlier, r.later, r.flag, str(r.not_computable or "")).capitalize(),
        })
    return pd.DataFrame(rows, columns=["Spørgsmål", f"{earlier_label} (95 %-KI)", f"{later_label} (95 %-KI)",
                                       "Ændring (95 %-KI)", "Vurdering"])


def not_comparable_table(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The questions and themes not compared, with the reason (Danish headers)."""
    return pd.DataFrame({"Spørgsmål eller tema": [labels.get(q, q) for q in frame["question"]],
                         "Hvorfor ikke sammenlignet": list(frame["reason"])})


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
        nc = files.not_comparable(e.wave)
        if len(nc):
            out.append(("markdown", "### Ikke sammenlignet\n\n" + _md_table(not_comparable_table(nc, labels))))
    sel = "panel:" + waves["wave"].iloc[-2] if scope == "all" else scope
    s = scores[(scores["scope"] == sel) & scores["question"].astype(str).str.startswith("tema_")]
    if len(s):
        lab = dict(zip(waves["wave"], waves["label"]))
        series = pd.DataFrame({"label": [labels.get(q, q) for q in s["question"]],
                               "wave_label": [lab.get(w, w) for w in s["wave"]], "mean": s["mean"].astype(float),
                               "ci_low": s["ci_low"].astype(float), "ci_high": s["ci_high"].astype(float)})
        order = {w: i for i, w in enumerate(waves["label"])}
        series = series.sort_values("wave_label", key=lambda c: c.map(order), kind="stable")
        who = "de kommuner, der deltog i begge de seneste runder" if scope == "all" else scope
        out.append(("chart", waves_chart(series, f"Temascorer i hver runde: {who}")))
    return out


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
