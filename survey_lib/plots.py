"""Figures from the engine's tidy tables (plots never estimate: they draw what the tables hold).

Every function returns a :class:`Chart`: the matplotlib figure, a short alt text, a caption and the
chart's numbers as a table of display strings, shown next to the figure in the HTML reports
(:func:`chart_html`).

The house style, in one place:

- a palette (:data:`DIVERGING`, :data:`SERIES`) whose colours all have at least 3:1 contrast against
  the white background (WCAG 2.1, 1.4.11 non-text contrast), that stays apart for the common kinds of
  colour blindness, and that never carries meaning alone: the negative categories are hatched, the
  second series of a pair is hatched, lines differ in dash and marker and are labelled at their end,
  and every bar carries its number;
- the own municipality in neutral black (:data:`HIGHLIGHT`), the others in grey, never in the
  palette's 'negative' red;
- scores on their scale, 1 to 5 (:data:`SCORE_LIMITS`), always with their 95 % interval, on the same
  axis in every score chart so that charts can be compared (the funnel plot alone spans only its
  control limits, since it is read against them; its caption says so);
- Danish numbers, a space before % ('24 %');
- titles and long labels wrapped, never cut;
- one width (:data:`WIDTH`) and one type size for every chart, so that the charts of a page read
  alike and stay legible when the page scales them down to a phone's width.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .narrative import fmt_int, fmt_number, fmt_pct  # noqa: E402

__all__ = ["Chart", "DIVERGING", "HATCHES", "SERIES", "HIGHLIGHT", "OTHERS", "BACKGROUND", "INK", "SCORE_LIMITS",
           "STYLE", "WIDTH", "compact_svg", "svg_data_uri", "contrast_ratio", "text_colour_on", "chart_html", "stacked_distribution",
           "municipality_means", "score_chart", "category_bars", "sample_vs_respondents_chart",
           "response_curve_chart", "weight_histogram", "theme_shares_chart", "log_odds_chart", "styled", "funnel_chart"]

#: Background of every chart (the page's background).
BACKGROUND = "#ffffff"
#: Text and the own municipality.
INK = "#1a1a1a"
#: Secondary text (axis notes, reminder labels): 7:1 against the background.
MUTED = "#595959"
#: Neutral highlight of the own municipality in comparisons.
HIGHLIGHT = INK
#: The other municipalities: grey with 4.5:1 against the background.
OTHERS = "#767676"

#: Five answer categories from most positive to most negative: dark blue, mid blue, grey, orange,
#: dark red. Every colour has >= 3:1 against white (tested); blue against orange/red stays apart in
#: protanopia, deuteranopia and tritanopia (tested on simulated colours).
DIVERGING = ["#1c4f8a", "#5a86b8", "#8a8a8a", "#d0621f", "#a8322a"]
#: Patterns for the same five categories, so that they are told apart without colour (on paper in
#: black and white too): the positive side plain, the middle lined, the negative side hatched
#: (line patterns: a dot pattern costs 20 kB in every SVG).
HATCHES = ["", "", "---", "///", "xxx"]
#: Series of line and paired-bar charts, in order (each >= 3:1 against white); lines also differ in
#: dash and marker (:data:`_LINES`) and are labelled at their end.
SERIES = ["#1c4f8a", "#d0621f", "#595959", "#1a7a6e", "#a8322a", "#7a4f00"]
_LINES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"), ((0, (1, 1)), "P")]

#: The score scale: every score axis runs over it.
SCORE_LIMITS = (1.0, 5.0)
#: Width of every chart in inches, and the type sizes (points).
WIDTH = 5.6
FONT = 11.0
TITLE_FONT = 12.5
#: Inches per character of 11 pt DejaVu Sans, generous (its widest lower-case letters are ~0.6 em).
_CHAR = 0.085
#: Characters per line of a wrapped title / label.
_TITLE_CHARS = 52
_LABEL_CHARS = 22

#: matplotlib settings under which every chart is made and saved (as a context, never set globally:
#: a kernel reused by the batch restores its settings between notebooks, and a global setting made
#: once at import would then be lost).
#: - labels come from data and parameters: '$' is a character, never the start of mathtext;
#: - SVG keeps text as text (drawn by the browser, no glyph rendering: half the time of a PNG, and
#:   sharp at any zoom), with fixed ids so that the same chart gives the same bytes;
#: - one type size and the page's sans-serif fonts (the browser draws the SVG's text).
STYLE = {"text.parse_math": False, "svg.fonttype": "none", "svg.hashsalt": "survey_lib",
         "font.size": FONT, "font.family": "sans-serif",
         "font.sans-serif": ["DejaVu Sans"],
         "axes.edgecolor": MUTED, "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK,
         "text.color": INK, "axes.titlesize": TITLE_FONT, "hatch.linewidth": 0.8,
         "figure.facecolor": BACKGROUND, "axes.facecolor": BACKGROUND, "savefig.facecolor": BACKGROUND}


def styled(func):
    """Run a chart function under :data:`STYLE`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


# ---- colour arithmetic ---------------------------------------------------------------------------
def _rgb(colour: str) -> tuple[float, float, float]:
    return matplotlib.colors.to_rgb(colour)


def _relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in _rgb(colour)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two colours, 1 to 21.

    Notes
    -----
    :math:`(L_1 + 0.05) / (L_2 + 0.05)` with :math:`L_1 \\ge L_2` the relative luminances
    (W3C, Web Content Accessibility Guidelines 2.1, definitions 'contrast ratio' and 'relative
    luminance').
    """
    la, lb = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(fill: str) -> str:
    """White or the ink colour, whichever has the higher contrast on ``fill``."""
    return "white" if contrast_ratio(fill, "#ffffff") >= contrast_ratio(fill, INK) else INK


# ---- the chart object and its HTML -----------------------------------------------------------------
@dataclass(frozen=True)
class Chart:
    """A figure, its alt text (one or two sentences), its caption (how to read it) and its numbers
    (``table``: display strings with Danish column headers, shown in a table next to the figure)."""

    figure: plt.Figure
    alt_text: str
    caption: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    title: str = ""


def chart_html(chart: Chart, svg: str) -> str:
    """The chart as HTML: the SVG as an image with the alt text, the caption, and the numbers in a
    table the reader can open (``<details>``). Everything is escaped."""
    import html

    def e(v) -> str:
        return html.escape("" if v is None else str(v), quote=True)

    parts = ['<figure class="survey-chart">',
             f'<img src="{svg_data_uri(svg)}" alt="{e(chart.alt_text)}"/>']
    if chart.caption:
        parts.append(f"<figcaption>{e(chart.caption)}</figcaption>")
    if len(chart.table.columns):
        head = "".join(f'<th scope="col">{e(c)}</th>' for c in chart.table.columns)
        rows = []
        for row in chart.table.itertuples(index=False):
            cells = [f'<th scope="row">{e(row[0])}</th>'] + [f"<td>{e(v)}</td>" for v in row[1:]]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        name = chart.title
        parts.append('<details class="survey-data"><summary>Vis tallene bag figuren</summary>'
                     f'<div class="table-scroll" role="region" aria-label="{e("Tal: " + name if name else "Tal")}" '
                     f'tabindex="0"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
                     "</details>")
    parts.append("</figure>")
    return "\n".join(parts)


_NUMBER = re.compile(r"(-?\d+\.\d{2})\d+")
_TAG = re.compile(r"<[^>]*>")


def display_chart(chart: Chart) -> None:
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

    buf = io.StringIO()
    # the figures are laid out when made (fixed margins); no second 'tight' pass; no date in the file
    with matplotlib.rc_context(STYLE):
        chart.figure.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(chart.figure)
    svg = buf.getvalue()
    display({"image/svg+xml": svg, "text/html": chart_html(chart, svg)}, raw=True,
            metadata={"image/svg+xml": {"alt": chart.alt_text}})


def compact_svg(svg: str) -> str:
    """Matplotlib's SVG with the coordinates in its tags cut to two decimals (1/7200 in), the no-op
    rotations, line breaks and indentation between tags dropped; text content is left alone."""
    def tag(m: re.Match) -> str:
        t = re.sub(r'\s+transform="rotate\(-0 [^"]*"', "", m.group(0))
        return re.sub(r"\s*\n\s*", " ", _NUMBER.sub(r"\1", t))
    out = re.sub(r">\s+<", "><", _TAG.sub(tag, svg))
    # no XML declaration, DOCTYPE (it names the W3C's DTD by URL) or metadata block: not needed in an <img>
    out = re.sub(r"^<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>)?", "", out)
    return re.sub(r"<metadata>.*?</metadata>", "", out, flags=re.S)


def svg_data_uri(svg: str) -> str:
    """The compacted SVG as a base64 data URI (base64, not percent-encoding: the leak audit cuts
    base64 images out of the pages it scans, where the coordinates of a percent-encoded SVG would
    read as phone numbers)."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(compact_svg(svg).encode("utf-8")).decode("ascii")


# ---- layout ------------------------------------------------------------------------------------------
def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=False, break_on_hyphens=False)) or ""


def _title(ax: plt.Axes, title: str) -> int:
    """The title at the top left of the figure (not of the axes: a long label margin would push it
    off the right edge), wrapped to the chart's width; returns its number of lines."""
    if not title:
        return 0
    wrapped = _wrap(title, _TITLE_CHARS)
    fig = ax.figure
    fig.text(0.12 / fig.get_size_inches()[0], 1 - 0.12 / fig.get_size_inches()[1], wrapped, fontsize=TITLE_FONT,
             va="top", ha="left")
    return wrapped.count("\n") + 1


def _layout(fig: plt.Figure, left: float, right: float, top: float, bottom: float) -> None:
    """Margins in inches (fixed margins reckoned from label lengths instead of ``tight_layout``,
    which draws every text to measure it and took a third of a chart's time)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=min(0.6, left / width), right=1 - right / width,
                        top=1 - min(0.6, top / height), bottom=min(0.6, bottom / height))


def _label_margin(labels: list[str]) -> float:
    """Inches for wrapped y tick labels."""
    longest = max([len(line) for t in labels for line in str(t).split("\n")] + [1])
    return 0.25 + _CHAR * longest


def _xlabel(ax: plt.Axes, text: str) -> None:
    """An x-axis label wrapped to the axes' width (call after :func:`_layout`)."""
    width = ax.get_position().width * ax.figure.get_size_inches()[0]
    ax.set_xlabel(_wrap(text, max(16, int(width / _CHAR))))


def _frame(ax: plt.Axes, grid_axis: str = "x") -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis=grid_axis, color="#dddddd", lw=0.6)       # decorative: the numbers are on the marks
    ax.set_axisbelow(True)


def _pct_axis(axis) -> None:
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_pct(v, 0)))


def _score_axis(ax: plt.Axes) -> None:
    ax.set_xlim(*SCORE_LIMITS)
    ax.set_xticks(np.arange(SCORE_LIMITS[0], SCORE_LIMITS[1] + 0.5, 1.0))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 0)))


def _alt(kind: str, title: str, message: str) -> str:
    """'<kind>: <title>. <message> Tallene står i tabellen under figuren.'"""
    head = f"{kind}: {title.rstrip('.')}." if title else f"{kind}."
    return f"{head} {message} Tallene står i tabellen under figuren.".replace("  ", " ").strip()


# ---- the charts ----------------------------------------------------------------------------------
@styled
def stacked_distribution(rows: pd.DataFrame, title: str = "", group_labels: dict[str, str] | None = None,
                         sections: list[tuple[str, pd.DataFrame]] | None = None) -> Chart:
    """100 % stacked horizontal bars, one per group, categories from most positive (left) to most
    negative, each group's name above its bar (so the bars keep the chart's full width).

    Parameters
    ----------
    rows
        Rows of ``tables.csv`` for one scope x question x breakdown: ``group``, ``category`` ('5'..'1'),
        ``category_label``, ``share``, ``n``, ``suppressed``.
    group_labels
        Display names of the groups (default: the codes; the total has group '').
    sections
        More breakdowns in the same figure, each as (heading, rows) below ``rows`` under its heading:
        one figure per question instead of one per breakdown (quicker to read and to draw).
    """
    names = group_labels or {}
    cats = ["5", "4", "3", "2", "1"]
    parts_in = [("", rows)] + list(sections or [])
    lines: list[tuple[str, str, pd.DataFrame | None]] = []   # (kind, label, rows of the group)
    labels = None
    for heading, part in parts_in:
        part = part.copy()
        part["category"] = part["category"].astype(str)
        if labels is None:
            labels = [part.loc[part["category"] == c, "category_label"].iloc[0] for c in cats]
        if heading:
            lines.append(("heading", heading, None))
        for g in dict.fromkeys(part["group"]):
            lines.append(("group", g, part[part["group"] == g]))
    # rows of the figure (top to bottom): a heading takes 0.42 in, a group its label and its bar
    # each line's top (in inches from the axes' bottom): a heading takes 0.34 in, a group its name
    # (0.24 in) above its bar (0.34 in) and a gap
    step = {"heading": 0.34, "group": 0.72}
    wrapped_title = _wrap(title, _TITLE_CHARS) if title else ""
    title_lines = wrapped_title.count("\n") + 1 if title else 0
    legend_rows = 2
    top = 0.15 + 0.24 * title_lines + 0.1 + 0.25 * legend_rows + 0.1
    body = sum(step[k] for k, _, _ in lines)
    height = top + body + 0.45
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    ys, y = [], body
    for kind, _, _ in lines:
        ys.append(y)
        y -= step[kind]
    share = np.zeros((len(lines), len(cats)))
    for i, (kind, _, g_rows) in enumerate(lines):
        if kind == "group":
            lookup = dict(zip(g_rows["category"], pd.to_numeric(g_rows["share"], errors="coerce")))
            share[i] = np.nan_to_num([lookup.get(c, 0.0) for c in cats])
    table_rows = []
    n_col = "Antal svar"
    for i, (kind, g, g_rows) in enumerate(lines):
        if kind == "heading":
            ax.text(0, ys[i] - 0.1, g, fontweight="bold", fontsize=FONT, va="top", ha="left")
            current = g
            continue
        name = names.get(g, g) or "I alt"
        first = g_rows.iloc[0]
        suppressed = bool(first["suppressed"])
        label = f"{name} – undertrykt (for få svar)" if suppressed else f"{name} (n = {fmt_int(first['n'])})"
        ax.text(0, ys[i] - 0.03, label, fontsize=FONT, va="top", ha="left")
        group_name = name if kind == "group" and not [h for h in lines[:i] if h[0] == "heading"] else \
            f"{current}: {name}"
        if suppressed:
            table_rows.append([group_name] + ["undertrykt"] * len(cats) + ["for få"])
        else:
            table_rows.append([group_name] + [fmt_pct(v, 1) for v in share[i]] + [fmt_int(first["n"])])
        # Rectangles added as artists rather than through barh: barh recomputes the data limits for
        # every bar, which was half the time of drawing a chart; the limits are set once below.
        x0 = 0.0
        for k, (colour, hatch) in enumerate(zip(DIVERGING, HATCHES)):
            w = share[i, k]
            if w <= 0:
                continue
            ax.add_artist(matplotlib.patches.Rectangle((x0, ys[i] - 0.61), w, 0.34, facecolor=colour,
                                                       edgecolor="white", hatch=hatch, hatchcolor="white", lw=0.8))
            if w >= 0.08:
                ax.text(x0 + w / 2, ys[i] - 0.44, fmt_pct(w, 0), ha="center", va="center", fontsize=FONT - 1,
                        color=text_colour_on(colour),
                        bbox={"boxstyle": "square,pad=0.12", "facecolor": colour, "edgecolor": "none"})
            x0 += w
    ax.set_ylim(0, body)
    ax.set_yticks([])
    ax.set_xlim(0, 1)
    _pct_axis(ax.xaxis)
    ax.spines[["top", "right", "left"]].set_visible(False)
    _title(ax, title)      # at the top of the figure, the legend under it
    _layout(fig, 0.15, 0.25, top, 0.45)
    handles = [matplotlib.patches.Patch(facecolor=c, edgecolor="white", hatch=h, label=lab)
               for c, h, lab in zip(DIVERGING, HATCHES, labels)]
    # the legend just under the title, in the bars' order
    fig.legend(handles=handles, ncols=3, loc="upper left", frameon=False, fontsize=FONT - 1.5,
               bbox_to_anchor=(0.1 / WIDTH, 1 - (0.15 + 0.24 * title_lines + 0.1) / height),
               handlelength=1.6, columnspacing=1.0)
    # the alt text: the total's message; the numbers are in the table
    total = [i for i, (kind, _, g_rows) in enumerate(lines) if kind == "group"][0]
    if bool(lines[total][2].iloc[0]["suppressed"]):
        message = "I alt: for få svar til at vise fordelingen."
    else:
        top2 = share[total, 0] + share[total, 1]
        bottom2 = share[total, 3] + share[total, 4]
        message = (f"I alt svarer {fmt_pct(top2, 0)} {labels[0].lower()} eller {labels[1].lower()}, "
                   f"{fmt_pct(bottom2, 0)} {labels[3].lower()} eller {labels[4].lower()}"
                   + (f"; {sum(1 for k, _, _ in lines if k == 'group') - 1} grupper vises også." if len(lines) > 1
                      else "."))
    caption = ("Fordelingen af svarene; hver søjle er 100 %, fra den mest positive kategori til venstre til den mest "
               "negative til højre (de negative kategorier er skraverede). n er antal svar; 'ved ikke' indgår ikke.")
    table = pd.DataFrame(table_rows, columns=["Gruppe"] + list(labels) + [n_col])
    return Chart(fig, _alt("Vandret søjlediagram", title, message), caption, table, title)


@styled
def municipality_means(rows: pd.DataFrame, highlight: str | None = None, show_names: bool = False,
                       title: str = "") -> Chart:
    """Mean score with 95 % interval of every municipality, sorted, on the 1–5 scale; the own
    municipality in black and named with its score, the others grey and unnamed unless ``show_names``.

    ``rows``: one row per municipality (``group``, ``mean``, ``mean_ci_low``, ``mean_ci_high``,
    ``suppressed``), e.g. the first category rows of breakdown ``kommune`` in scope ``all``.
    """
    data = rows[~rows["suppressed"].astype(bool)].sort_values("mean").reset_index(drop=True)
    names = [g if (show_names or g == highlight) else "" for g in data["group"]]
    ticks = [_wrap(n, _LABEL_CHARS) for n in names]
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines
    height = top + 0.26 * len(data) + 0.85
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    y = np.arange(len(data))
    own = (data["group"] == highlight).to_numpy()
    ax.hlines(y[~own], data["mean_ci_low"][~own], data["mean_ci_high"][~own], color=OTHERS, lw=1.2)
    ax.hlines(y[own], data["mean_ci_low"][own], data["mean_ci_high"][own], color=HIGHLIGHT, lw=2.2)
    ax.scatter(data["mean"][~own], y[~own], color=OTHERS, zorder=3, s=22, marker="o")
    ax.scatter(data["mean"][own], y[own], color=HIGHLIGHT, zorder=4, s=60, marker="D")
    for yi, r in zip(y[own], data[own].itertuples()):
        ax.annotate(fmt_number(r.mean), (r.mean_ci_high, yi), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=FONT, fontweight="bold", color=HIGHLIGHT)
    ax.set_yticks(y, ticks)
    ax.tick_params(axis="y", length=0)
    for tick, is_own in zip(ax.get_yticklabels(), own):
        if is_own:
            tick.set_fontweight("bold")
    _score_axis(ax)
    ax.set_ylim(-0.6, len(data) - 0.4)
    _frame(ax)
    _title(ax, title)
    _layout(fig, _label_margin(ticks) if any(ticks) else 0.3, 0.3, top, 0.85)
    _xlabel(ax, "Gennemsnitlig score (1–5) med 95 %-konfidensinterval")
    if highlight is not None and highlight in set(data["group"]):
        r = data.set_index("group").loc[highlight]
        rank = len(data) - int(data.index[data["group"] == highlight][0])
        message = f"{highlight} har {fmt_number(r['mean'])} og er nr. {rank} af {len(data)} kommuner."
    else:
        message = (f"{len(data)} kommuner fra {fmt_number(data['mean'].min())} til "
                   f"{fmt_number(data['mean'].max())}.")
    caption = ("Hver kommunes gennemsnitlige score på skalaen 1–5 med 95 %-konfidensinterval, sorteret"
               + (f"; {highlight} er fremhævet med sort" if highlight else "")
               + ". Kommuner med for få svar er udeladt.")
    order = data.iloc[::-1]
    table = pd.DataFrame({
        "Kommune": [g if (show_names or g == highlight) else f"Kommune nr. {i + 1}" for i, g in enumerate(order["group"])],
        "Score": [fmt_number(v) for v in order["mean"]],
        "95 %-KI": [f"{fmt_number(lo)}–{fmt_number(hi)}" for lo, hi in zip(order["mean_ci_low"], order["mean_ci_high"])]})
    return Chart(fig, _alt("Prikdiagram", title, message), caption, table, title)


@styled
def score_chart(rows: pd.DataFrame, title: str = "") -> Chart:
    """Scores with their 95 % interval, one line per row, on the 1–5 scale (e.g. the theme scores).

    ``rows``: ``category`` (the label), ``mean``, ``ci_low``, ``ci_high``."""
    data = rows.reset_index(drop=True)
    ticks = [_wrap(c, _LABEL_CHARS) for c in data["category"].astype(str)]
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines
    height = top + 0.5 * len(data) + 0.85
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    y = np.arange(len(data))[::-1]
    ax.hlines(y, data["ci_low"], data["ci_high"], color=DIVERGING[0], lw=1.6)
    ax.scatter(data["mean"], y, color=DIVERGING[0], zorder=3, s=40)
    for yi, r in zip(y, data.itertuples()):
        ax.annotate(fmt_number(r.mean), (r.ci_high, yi), xytext=(6, 0), textcoords="offset points", va="center",
                    fontsize=FONT)
    ax.set_yticks(y, ticks)
    _score_axis(ax)
    ax.set_ylim(-0.6, len(data) - 0.4)
    _frame(ax)
    _title(ax, title)
    _layout(fig, _label_margin(ticks), 0.3, top, 0.85)
    _xlabel(ax, "Gennemsnitlig score (1–5) med 95 %-konfidensinterval")
    best, worst = data.loc[data["mean"].idxmax()], data.loc[data["mean"].idxmin()]
    message = (f"Højest: {best['category']} ({fmt_number(best['mean'])}); lavest: {worst['category']} "
               f"({fmt_number(worst['mean'])})." if len(data) > 1 else "")
    caption = "Gennemsnitlig score på skalaen 1–5, hvor 5 er mest positiv, med 95 %-konfidensinterval."
    table = pd.DataFrame({"Område": list(data["category"]), "Score": [fmt_number(v) for v in data["mean"]],
                          "95 %-KI": [f"{fmt_number(lo)}–{fmt_number(hi)}"
                                      for lo, hi in zip(data["ci_low"], data["ci_high"])]})
    return Chart(fig, _alt("Prikdiagram", title, message), caption, table, title)


def _bar_labels(ax, y, vals, text) -> None:
    """The value at the end of each bar (outside it, on the side it points to)."""
    for yi, v, t in zip(y, vals, text):
        if not np.isfinite(v):
            continue
        ax.annotate(t, (v, yi), xytext=(4 if v >= 0 else -4, 0), textcoords="offset points", va="center",
                    ha="left" if v >= 0 else "right", fontsize=FONT - 1)


@styled
def category_bars(rows: pd.DataFrame, value: str, title: str = "", percent: bool = True,
                  labels: dict[str, str] | None = None) -> Chart:
    """Horizontal bars of one value per category (e.g. response rates, signed partial R-indicators),
    the value written at each bar's end.

    ``rows``: ``category`` and the column ``value``; negative values are drawn in the palette's red
    and hatched (and point left).
    """
    labels = labels or {}
    data = rows.reset_index(drop=True)
    names = [labels.get(c, c) for c in data["category"].astype(str)]
    ticks = [_wrap(n, _LABEL_CHARS) for n in names]
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines
    fig, ax = plt.subplots(figsize=(WIDTH, top + 0.42 * len(data) + 0.6))
    y = np.arange(len(data))[::-1]
    vals = data[value].to_numpy(float)
    neg = vals < 0
    ax.barh(y, vals, color=[DIVERGING[4] if n else DIVERGING[0] for n in neg], height=0.62,
            hatch=[HATCHES[4] if n else "" for n in neg], edgecolor="white", lw=0.6)
    fmt = (lambda v: fmt_pct(v, 0)) if percent else (lambda v: fmt_number(v, 3))
    _bar_labels(ax, y, vals, [fmt(v) for v in vals])
    ax.set_yticks(y, ticks)
    if percent:
        _pct_axis(ax.xaxis)
        ax.set_xlim(0, max(1.0, float(np.nanmax(vals)) * 1.12) if len(vals) else 1)
    else:
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 2)))
        span = float(np.nanmax(np.abs(vals))) if len(vals) else 1.0
        ax.set_xlim(min(0.0, float(np.nanmin(vals))) - 0.25 * span, max(0.0, float(np.nanmax(vals))) + 0.25 * span)
    ax.axvline(0, color=INK, lw=0.8)
    _frame(ax)
    _title(ax, title)
    _layout(fig, _label_margin(ticks), 0.3, top, 0.45)
    if len(vals):
        hi, lo = int(np.nanargmax(vals)), int(np.nanargmin(vals))
        message = (f"Højest: {names[hi]} ({fmt(vals[hi])}); lavest: {names[lo]} ({fmt(vals[lo])})."
                   if len(vals) > 1 else f"{names[0]}: {fmt(vals[0])}.")
    else:
        message = "Ingen værdier."
    head = "Andel" if percent else "Værdi"
    table = pd.DataFrame({"Kategori": names, head: [fmt_pct(v) if percent else fmt_number(v, 3) for v in vals]})
    caption = ("Værdien står ved hver søjle" + ("; aksen går fra 0 til 100 %." if percent else ".") + (" Negative værdier peger mod venstre og er skraverede."
                                                 if (not percent and neg.any()) else ""))
    return Chart(fig, _alt("Søjlediagram", title, message), caption, table, title)


@styled
def sample_vs_respondents_chart(rows: pd.DataFrame, title: str = "", labels: dict[str, str] | None = None) -> Chart:
    """Each category's share in the sample and among respondents (design-weighted), side by side:
    the sample hatched grey, the respondents plain dark blue, each bar with its share."""
    labels = labels or {}
    data = rows.reset_index(drop=True)
    names = [labels.get(c, c) for c in data["category"].astype(str)]
    ticks = [_wrap(n, _LABEL_CHARS) for n in names]
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines + 0.3
    fig, ax = plt.subplots(figsize=(WIDTH, top + 0.62 * len(data) + 0.6))
    y = np.arange(len(data))[::-1]
    sample = data["sample_share_weighted"].to_numpy(float)
    resp = data["respondents_share_weighted"].to_numpy(float)
    ax.barh(y + 0.19, sample, height=0.36, color=SERIES[2], hatch="///", hatchcolor="white", edgecolor="white",
            lw=0.6, label="Udtrukket stikprøve")
    ax.barh(y - 0.19, resp, height=0.36, color=DIVERGING[0], edgecolor="white", lw=0.6, label="Respondenter")
    _bar_labels(ax, y + 0.19, sample, [fmt_pct(v, 0) for v in sample])
    _bar_labels(ax, y - 0.19, resp, [fmt_pct(v, 0) for v in resp])
    ax.set_yticks(y, ticks)
    _pct_axis(ax.xaxis)
    ax.set_xlim(0, min(1.0, max(float(np.nanmax(np.r_[sample, resp])) * 1.18, 0.1)) if len(data) else 1)
    _frame(ax)
    _title(ax, title)
    _layout(fig, _label_margin(ticks), 0.3, top, 0.45)
    ax.legend(frameon=False, fontsize=FONT - 1, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2,
              borderaxespad=0.2)
    gap = np.abs(resp - sample)
    k = int(np.nanargmax(gap)) if len(gap) else 0
    message = (f"Størst forskel: {names[k]}, {fmt_pct(sample[k], 0)} af stikprøven og {fmt_pct(resp[k], 0)} af "
               "respondenterne." if len(gap) else "")
    caption = ("Andel af den udtrukne stikprøve (skraveret) og af respondenterne (ensfarvet) i hver kategori, "
               "vægtet med designvægtene.")
    table = pd.DataFrame({"Kategori": names, "Stikprøve": [fmt_pct(v) for v in sample],
                          "Respondenter": [fmt_pct(v) for v in resp]})
    return Chart(fig, _alt("Søjlediagram", title, message), caption, table, title)


@styled
def response_curve_chart(curve: pd.DataFrame, reminders: list, title: str = "",
                         labels: dict[str, str] | None = None) -> Chart:
    """Cumulative response rate per day for each group, with the reminder dates marked; each line
    in its own colour, dash and marker, and named at its end."""
    labels = labels or {}
    groups = list(dict.fromkeys(curve["group"]))
    names = {g: labels.get(g, g) or "I alt" for g in groups}
    longest = max([len(n) for n in names.values()] + [4]) if len(groups) > 1 else 6
    right = 0.3 + _CHAR * min(longest, 28) + 0.1
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines
    fig, ax = plt.subplots(figsize=(WIDTH, 4.2))
    ends = []
    for i, g in enumerate(groups):
        part = curve[curve["group"] == g]
        dates = pd.to_datetime(part["date"])
        ls, marker = _LINES[i % len(_LINES)]
        ax.plot(dates, part["cumulative_rate"], color=SERIES[i % len(SERIES)], ls=ls, lw=1.8, marker=marker,
                markevery=max(1, len(part) // 6), ms=4)
        ends.append((float(part["cumulative_rate"].iloc[-1]), dates.iloc[-1], names[g], SERIES[i % len(SERIES)]))
    # direct labels at the lines' ends, nudged apart so they do not overlap
    ends.sort()
    placed: list[float] = []
    gap = 0.06 * max(0.1, float(curve["cumulative_rate"].max()) * 1.15) if len(curve) else 0.05
    for value, date, name, colour in ends:
        y = max(value, placed[-1] + gap) if placed else value
        placed.append(y)
        ax.annotate(f"{name} {fmt_pct(value, 0)}", (matplotlib.dates.date2num(date), value),
                    xytext=(matplotlib.dates.date2num(date + pd.Timedelta(hours=18)), y), textcoords="data",
                    fontsize=FONT - 1.5, va="center", ha="left", color=INK, annotation_clip=False)
    for d in reminders:
        ax.axvline(pd.Timestamp(d), color=MUTED, ls="--", lw=1)
        ax.text(pd.Timestamp(d), 0.02, " påmindelse", rotation=90, va="bottom", fontsize=FONT - 2, color=MUTED,
                transform=ax.get_xaxis_transform())
    _pct_axis(ax.yaxis)
    ax.set_ylim(0, max(0.1, float(curve["cumulative_rate"].max()) * 1.15) if len(curve) else 1)
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d/%m"))
    ax.set_ylabel("Kumuleret svarprocent")
    _frame(ax, "y")
    _title(ax, title)
    _layout(fig, 0.85, right, top, 0.45)
    last = curve.groupby("group", sort=False)["cumulative_rate"].last()
    reminder_text = ", ".join(pd.Timestamp(d).strftime("%d/%m") for d in reminders)
    if len(last) == 1:
        message = f"Svarprocenten når {fmt_pct(last.iloc[0], 0)}."
    else:
        message = (f"Ved afslutningen fra {fmt_pct(last.min(), 0)} ({names[last.idxmin()]}) til "
                   f"{fmt_pct(last.max(), 0)} ({names[last.idxmax()]}).")
    message += f" Påmindelser {reminder_text}." if reminders else ""
    caption = ("Andelen af de udtrukne borgere, der har svaret, dag for dag"
               + ("; de stiplede lodrette linjer er påmindelserne." if reminders else "."))
    table = pd.DataFrame({"Gruppe": [names[g] for g in last.index], "Svarprocent ved afslutning": [fmt_pct(v) for v in last]})
    return Chart(fig, _alt("Linjediagram", title, message), caption, table, title)


@styled
def weight_histogram(weights: np.ndarray, title: str = "") -> Chart:
    """Distribution of the weights."""
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
    counts, edges, _ = ax.hist(weights, bins=40, color=DIVERGING[0], edgecolor="white", lw=0.5)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 0)))
    ax.set_ylabel("Respondenter")
    _frame(ax, "y")
    _title(ax, title)
    _layout(fig, 0.85, 0.3, top, 0.8)
    _xlabel(ax, "Vægt (antal borgere i populationen, som en respondent repræsenterer)")
    q = np.quantile(weights, [0, 0.25, 0.5, 0.75, 1])
    message = (f"{fmt_int(len(weights))} vægte fra {fmt_number(q[0])} til {fmt_number(q[4])}, median "
               f"{fmt_number(q[2])}.")
    caption = "Antal respondenter for hver størrelse af vægten (40 lige brede intervaller)."
    table = pd.DataFrame({"Fordelingsmål": ["Mindst", "Nedre kvartil", "Median", "Øvre kvartil", "Størst"],
                          "Vægt": [fmt_number(v) for v in q]})
    return Chart(fig, _alt("Histogram", title, message), caption, table, title)


@styled
def theme_shares_chart(rows: pd.DataFrame, title: str = "") -> Chart:
    """Share of comments per theme with its 95 % interval; positive themes plain blue, negative
    themes hatched red, with a legend and each share at its bar.

    ``rows``: ``label``, ``tone`` ('positiv'/'negativ'), ``share``, ``ci_low``, ``ci_high``,
    ``suppressed`` (suppressed themes are left out)."""
    data = rows[~rows["suppressed"].astype(bool)].reset_index(drop=True)
    ticks = [_wrap(t, _LABEL_CHARS) for t in data["label"]]
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines + 0.3
    fig, ax = plt.subplots(figsize=(WIDTH, top + 0.42 * max(len(data), 1) + 0.6))
    y = np.arange(len(data))[::-1]
    share = data["share"].to_numpy(float)
    err = np.vstack([share - data["ci_low"].to_numpy(float), data["ci_high"].to_numpy(float) - share])
    neg = (data["tone"] != "positiv").to_numpy()
    ax.barh(y, share, color=[DIVERGING[4] if n else DIVERGING[0] for n in neg], height=0.62,
            hatch=[HATCHES[4] if n else "" for n in neg], hatchcolor="white", edgecolor="white", lw=0.6,
            xerr=err, error_kw={"ecolor": INK, "capsize": 2, "lw": 0.8})
    _bar_labels(ax, y + 0.0, data["ci_high"].to_numpy(float), [fmt_pct(v, 0) for v in share])
    ax.set_yticks(y, ticks)
    _pct_axis(ax.xaxis)
    ax.set_xlim(0, max(0.05, float(np.nanmax(data["ci_high"])) * 1.2) if len(data) else 1)
    _frame(ax)
    _title(ax, title)
    _layout(fig, _label_margin(ticks), 0.3, top, 0.45)
    handles = [matplotlib.patches.Patch(facecolor=DIVERGING[0], edgecolor="white", label="Positivt tema"),
               matplotlib.patches.Patch(facecolor=DIVERGING[4], edgecolor="white", hatch=HATCHES[4],
                                        label="Negativt tema")]
    ax.legend(handles=handles, frameon=False, fontsize=FONT - 1, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2,
              borderaxespad=0.2)
    if len(data):
        k = int(np.nanargmax(share))
        message = f"Hyppigst: {data['label'][k]} ({fmt_pct(share[k], 0)} af kommentarerne)."
    else:
        message = "Ingen temaer med nok kommentarer."
    caption = ("Andel af kommentarerne, der berører hvert tema, med 95 %-konfidensinterval; en kommentar kan berøre "
               "flere temaer. Negative temaer er røde og skraverede.")
    table = pd.DataFrame({"Tema": list(data["label"]), "Tone": list(data["tone"]),
                          "Andel": [fmt_pct(v) for v in share],
                          "95 %-KI": [f"{fmt_pct(lo)}–{fmt_pct(hi)}" for lo, hi in zip(data["ci_low"], data["ci_high"])]})
    return Chart(fig, _alt("Søjlediagram", title, message), caption, table, title)


@styled
def log_odds_chart(rows: pd.DataFrame, title: str = "", side_a: str = "", side_b: str = "") -> Chart:
    """The words most typical of each of two groups: z-scores of the weighted log-odds ratio, the
    first group's words to the right (plain blue), the second's to the left (hatched red).

    ``rows``: ``term`` and ``z``."""
    data = rows.sort_values("z").reset_index(drop=True)
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines + 0.3
    ticks = [_wrap(t, _LABEL_CHARS) for t in data["term"]]
    fig, ax = plt.subplots(figsize=(WIDTH, top + 0.3 * max(len(data), 1) + 0.9))
    y = np.arange(len(data))
    z = data["z"].to_numpy(float)
    neg = z < 0
    ax.barh(y, z, color=[DIVERGING[4] if n else DIVERGING[0] for n in neg], height=0.68,
            hatch=[HATCHES[4] if n else "" for n in neg], hatchcolor="white", edgecolor="white", lw=0.5)
    _bar_labels(ax, y, z, [fmt_number(abs(v) if round(v, 1) == 0 else v, 1) for v in z])
    ax.set_yticks(y, ticks)
    span = float(np.nanmax(np.abs(z))) if len(z) else 1.0
    ax.set_xlim(min(0.0, float(np.nanmin(z)) if len(z) else 0) - 0.2 * span,
                max(0.0, float(np.nanmax(z)) if len(z) else 0) + 0.2 * span)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 1)))
    ax.axvline(0, color=INK, lw=0.8)
    ax.set_xlabel("Forskel målt i standardfejl (z)", fontsize=FONT - 1)
    for x, ha, text in ((0.0, "left", f"← mere typisk for {side_b.lower()}"),
                        (1.0, "right", f"mere typisk for {side_a.lower()} →")):
        ax.annotate(text, (x, 1.0), xycoords="axes fraction", xytext=(0, 4), textcoords="offset points",
                    ha=ha, va="bottom", fontsize=FONT - 1.5, color=MUTED)
    _frame(ax)
    _title(ax, title)
    _layout(fig, _label_margin(ticks), 0.3, top, 0.8)
    pos = [t for t, v in zip(data["term"][::-1], z[::-1]) if v > 0]
    negs = [t for t, v in zip(data["term"], z) if v < 0]
    message = (f"Mest typisk for {side_a.lower()}: {', '.join(pos[:3]) or 'ingen'}. "
               f"Mest typisk for {side_b.lower()}: {', '.join(negs[:3]) or 'ingen'}.")
    caption = (f"Ord til højre (blå) bruges mere af {side_a.lower()}, ord til venstre (røde, skraverede) mere af "
               f"{side_b.lower()}; søjlens længde er forskellen målt i standardfejl (z).")
    order = data.iloc[::-1]
    table = pd.DataFrame({"Ord": list(order["term"]), "z": [fmt_number(v, 2) for v in order["z"]],
                          "Mest typisk for": [side_a if v > 0 else side_b for v in order["z"]]})
    return Chart(fig, _alt("Søjlediagram", title, message), caption, table, title)



@styled
def funnel_chart(units: pd.DataFrame, curves: pd.DataFrame, target: float, highlight: str | None = None,
                 title: str = "", show_names: bool = False) -> Chart:
    """A funnel plot: each municipality's score against its number of answers, with the centre line
    (the score of all municipalities) and the 95 % and 99,8 % control limits (Spiegelhalter 2005).

    ``units``: ``group``, ``mean``, ``n``, ``position`` (:class:`survey_lib.funnel.FunnelLimits`'
    ``units``, renamed); ``curves``: its ``curves`` (``n``, ``level``, ``lower``, ``upper``). The own
    municipality black, larger and named; the others grey, unnamed unless ``show_names``. The 95 %
    limits are dashed, the 99,8 % limits dotted, and both are named at their right end.
    """
    data = units.dropna(subset=["mean"]).sort_values("n").reset_index(drop=True)
    title_lines = len(_wrap(title, _TITLE_CHARS).split("\n")) if title else 0
    top = 0.25 + 0.26 * title_lines
    fig, ax = plt.subplots(figsize=(WIDTH, 4.2))
    own = (data["group"] == highlight).to_numpy()
    styles = {0.95: ("--", "95 %"), 0.998: (":", "99,8 %")}
    for level, part in curves.groupby("level", sort=True):
        ls, name = styles.get(round(float(level), 3), ("-.", fmt_pct(float(level), 1)))
        for col in ("lower", "upper"):
            ax.plot(part["n"], part[col], color=MUTED, ls=ls, lw=1.2)
        ax.annotate(name, (float(part["n"].iloc[-1]), float(part["upper"].iloc[-1])), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=FONT - 2, color=MUTED, annotation_clip=False)
    ax.axhline(target, color=INK, lw=1.0)
    ax.scatter(data["n"][~own], data["mean"][~own], color=OTHERS, s=24, zorder=3, marker="o")
    ax.scatter(data["n"][own], data["mean"][own], color=HIGHLIGHT, s=64, zorder=4, marker="D")
    for r in data[own | (show_names & ~own)].itertuples():
        ax.annotate(f"{r.group} {fmt_number(r.mean)}" if r.group == highlight else str(r.group), (r.n, r.mean),
                    xytext=(6, 4), textcoords="offset points", fontsize=FONT - (0 if r.group == highlight else 2.5),
                    fontweight="bold" if r.group == highlight else "normal", color=INK)
    values = np.concatenate([data["mean"].to_numpy(float), curves["lower"].to_numpy(float),
                             curves["upper"].to_numpy(float), [target]])
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    pad = 0.08 * max(hi - lo, 0.1)
    ax.set_ylim(max(SCORE_LIMITS[0], lo - pad), min(SCORE_LIMITS[1], hi + pad))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 1)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_int(v)))
    ax.set_ylabel("Gennemsnitlig score (1–5)")
    _frame(ax, "y")
    _title(ax, title)
    _layout(fig, 0.85, 0.75, top, 0.8)
    _xlabel(ax, "Antal svar i kommunen")
    outside95 = int(data["position"].isin(["outside_95", "outside_998"]).sum())
    outside998 = int((data["position"] == "outside_998").sum())
    if highlight is not None and own.any():
        r = data[own].iloc[0]
        where = {"inside": "inden for grænserne", "outside_95": "uden for 95 %-grænserne",
                 "outside_998": "uden for 99,8 %-grænserne"}.get(r["position"], "")
        message = (f"{highlight} har {fmt_number(r['mean'])} med {fmt_int(r['n'])} svar og ligger {where}; "
                   f"alle kommuners score er {fmt_number(target)}.")
    else:
        message = (f"{len(data)} kommuner; {fmt_int(outside95)} uden for 95 %-grænserne, heraf {fmt_int(outside998)} "
                   f"uden for 99,8 %-grænserne.")
    caption = ("Hver prik er en kommune: dens gennemsnitlige score mod antallet af svar. Den vandrette linje er "
               f"alle kommuners score ({fmt_number(target)}); de stiplede linjer er 95 %-grænserne og de prikkede "
               "99,8 %-grænserne, som bliver smallere, jo flere svar en kommune har. En kommune uden for "
               "grænserne afviger mere, end tilfældigheder alene gør sandsynligt"
               + (f"; {highlight} er fremhævet med sort" if highlight else "")
               + ". Scoreaksen viser kun det udsnit af skalaen 1–5, som grænserne spænder over.")
    where_da = {"inside": "inden for", "outside_95": "uden for 95 %", "outside_998": "uden for 99,8 %"}
    order = data.sort_values("mean", ascending=False)
    table = pd.DataFrame({
        "Kommune": [g if (show_names or g == highlight) else f"Kommune nr. {i + 1}" for i, g in enumerate(order["group"])],
        "Score": [fmt_number(v) for v in order["mean"]], "Svar": [fmt_int(v) for v in order["n"]],
        "Placering i tragten": [where_da.get(v, "–") for v in order["position"]]})
    return Chart(fig, _alt("Tragtdiagram", title, message), caption, table, title)
