"""Figures from the engine's tidy tables (plots never estimate: they draw what the tables hold).

Every function returns a :class:`Chart`: the matplotlib figure and an alt text that says in words
what the figure shows (for the HTML reports).
"""

from __future__ import annotations

from dataclasses import dataclass

import functools

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .narrative import fmt_int, fmt_number, fmt_pct  # noqa: E402

__all__ = ["Chart", "DIVERGING", "STYLE", "stacked_distribution", "municipality_means", "styled"]

#: matplotlib settings under which every chart is made and saved (as a context, never set globally:
#: a kernel reused by the batch restores its settings between notebooks, and a global setting made
#: once at import would then be lost).
#: - labels come from data and parameters: '$' is a character, never the start of mathtext;
#: - SVG keeps text as text (drawn by the browser, no glyph rendering: half the time of a PNG, and
#:   sharp at any zoom), with fixed ids so that the same chart gives the same bytes.
STYLE = {"text.parse_math": False, "svg.fonttype": "none", "svg.hashsalt": "survey_lib"}


def styled(func):
    """Run a chart function under :data:`STYLE`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper

# Five categories from most positive to most negative: a colour-blind-safe diverging palette
# (ColorBrewer RdBu, 5 classes, blue for positive), grey in the middle.
DIVERGING = ["#2166ac", "#67a9cf", "#d9d9d9", "#ef8a62", "#b2182b"]


def _finish(fig: plt.Figure, ax: plt.Axes, title: str, legend_right: float = 0.0) -> None:
    """The house style: no top/right frame, a left-aligned title, margins that fit the labels.

    The margins are reckoned from the tick labels' lengths in characters (10 pt DejaVu Sans is at
    most ~0.085 in a character) instead of ``tight_layout``, which draws every text to measure it
    and took a third of a chart's time. ``legend_right``: inches kept free right of the axes for a
    legend placed there."""
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    width, height = fig.get_size_inches()
    ylabels = ax.yaxis.get_major_formatter().format_ticks(ax.get_yticks())
    longest = max([len(t) for t in ylabels] + [1])
    left = 0.25 + 0.085 * longest + (0.3 if ax.get_ylabel() else 0.0)
    bottom = 0.4 + (0.25 if ax.get_xlabel() else 0.0)
    top = 0.4 if title else 0.15
    right = 0.25 + legend_right
    fig.subplots_adjust(left=min(0.6, left / width), right=1 - right / width,
                        bottom=min(0.45, bottom / height), top=1 - min(0.3, top / height))


@dataclass
class Chart:
    """A figure and its alt text."""

    figure: plt.Figure
    alt_text: str


@styled
def stacked_distribution(rows: pd.DataFrame, title: str = "", group_labels: dict[str, str] | None = None,
                         sections: list[tuple[str, pd.DataFrame]] | None = None) -> Chart:
    """100 % stacked horizontal bars, one per group, categories from most positive (left) to most
    negative, in the report's style.

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
    # one line per group; a heading line (no bars) before each section
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
    height = 1.5 + 0.42 * len(lines)
    fig, ax = plt.subplots(figsize=(9, height))
    y = np.arange(len(lines))[::-1]
    left = np.zeros(len(lines))
    share = np.zeros((len(lines), len(cats)))           # line x category, headings stay 0
    for i, (kind, _, g_rows) in enumerate(lines):
        if kind == "group":
            lookup = dict(zip(g_rows["category"], pd.to_numeric(g_rows["share"], errors="coerce")))
            share[i] = np.nan_to_num([lookup.get(c, 0.0) for c in cats])
    # Rectangles added as artists rather than through barh: barh recomputes the data limits for
    # every bar, which was half the time of drawing a chart; the limits are set once below.
    for k, (c, colour) in enumerate(zip(cats, DIVERGING)):
        width = share[:, k]
        for yi, x0, w in zip(y, left, width):
            ax.add_artist(matplotlib.patches.Rectangle((x0, yi - 0.35), w, 0.7, facecolor=colour, edgecolor="white"))
            if w >= 0.06:
                ax.text(x0 + w / 2, yi, fmt_pct(w, 0).replace(" %", "%"),
                        ha="center", va="center", fontsize=8, color="white" if colour in DIVERGING[::4] else "black")
        left += width
    ax.set_ylim(-0.6, len(lines) - 0.4)
    ticks, alt_parts = [], []
    for kind, g, g_rows in lines:
        if kind == "heading":
            ticks.append(g)
            alt_parts.append(f"{g}:")
            continue
        name = names.get(g, g) or "I alt"
        first = g_rows.iloc[0]
        if bool(first["suppressed"]):
            ticks.append(f"{name} – undertrykt (for få svar)")
            alt_parts.append(f"{name}: undertrykt (for få svar)")
            continue
        ticks.append(f"{name} (n={fmt_int(first['n'])})")
        sub = g_rows.set_index("category")["share"].reindex(cats)
        alt_parts.append(f"{name}: " + ", ".join(f"{lab} {fmt_pct(v)}" for lab, v in zip(labels, sub)))
    ax.set_yticks(y, ticks)
    for tick, (kind, _, _) in zip(ax.get_yticklabels(), lines):
        if kind == "heading":
            tick.set_fontweight("bold")
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_pct(v, 0)))
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    # fixed margins from the longest label (no tight_layout: it measures every text, twice)
    longest = max(len(t) for t in ticks)
    fig.subplots_adjust(left=min(0.55, 0.03 + 0.0105 * longest), right=0.96, top=1 - 0.45 / height,
                        bottom=0.85 / height)
    handles = [matplotlib.patches.Patch(facecolor=colour, edgecolor="white", label=label)
               for colour, label in zip(DIVERGING, labels)]
    fig.legend(handles=handles, ncols=5, loc="lower center", bbox_to_anchor=(0.5, 0.02), frameon=False, fontsize=8)
    alt = f"Vandret søjlediagram{': ' + title if title else ''}. " + "; ".join(
        p for p in alt_parts) + "."
    alt = alt.replace(":;", ":")
    return Chart(fig, alt)


@styled
def municipality_means(rows: pd.DataFrame, highlight: str | None = None, show_names: bool = False,
                       title: str = "") -> Chart:
    """Mean score with 95 % interval of every municipality, sorted, one highlighted; the others are
    unnamed unless ``show_names``.

    ``rows``: one row per municipality (``group``, ``mean``, ``mean_ci_low``, ``mean_ci_high``,
    ``suppressed``), e.g. the first category rows of breakdown ``kommune`` in scope ``all``.
    """
    data = rows[~rows["suppressed"].astype(bool)].sort_values("mean").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(data) + 1))
    y = np.arange(len(data))
    colours = ["#b2182b" if g == highlight else "#67a9cf" for g in data["group"]]
    ax.hlines(y, data["mean_ci_low"], data["mean_ci_high"], color="#999999", lw=1)
    ax.scatter(data["mean"], y, color=colours, zorder=3, s=30)
    names = [g if (show_names or g == highlight) else "" for g in data["group"]]
    ax.set_yticks(y, names)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 1)))
    ax.set_xlabel("Gennemsnitlig score (1-5) med 95 %-konfidensinterval")
    ax.set_ylim(-0.6, len(data) - 0.4)
    _finish(fig, ax, title)
    if highlight is not None and highlight in set(data["group"]):
        r = data.set_index("group").loc[highlight]
        rank = len(data) - int(data.index[data["group"] == highlight][0])
        alt = (f"Prikdiagram over {len(data)} kommuners gennemsnitlige score. {highlight} har "
               f"{fmt_number(r['mean'])} og er nr. {rank} af {len(data)}.")
    else:
        alt = (f"Prikdiagram over {len(data)} kommuners gennemsnitlige score, fra "
               f"{fmt_number(data['mean'].min())} til {fmt_number(data['mean'].max())}.")
    return Chart(fig, alt)


@styled
def category_bars(rows: pd.DataFrame, value: str, title: str = "", percent: bool = True,
                  labels: dict[str, str] | None = None) -> Chart:
    """Horizontal bars of one value per category (e.g. response rates, signed partial R-indicators).

    ``rows``: ``category`` and the column ``value``; negative values are drawn in the palette's red.
    """
    labels = labels or {}
    data = rows.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.38 * len(data)))
    y = np.arange(len(data))[::-1]
    vals = data[value].to_numpy(float)
    ax.barh(y, vals, color=[DIVERGING[4] if v < 0 else DIVERGING[0] for v in vals], height=0.7)
    names = [labels.get(c, c) for c in data["category"].astype(str)]
    ax.set_yticks(y, names)
    fmt = (lambda v: fmt_pct(v)) if percent else (lambda v: fmt_number(v, 3))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: fmt_pct(v, 0) if percent else fmt_number(v, 2)))
    ax.axvline(0, color="black", lw=0.8)
    _finish(fig, ax, title)
    alt = f"Søjlediagram{': ' + title if title else ''}. " + "; ".join(f"{n} {fmt(v)}" for n, v in zip(names, vals)) + "."
    return Chart(fig, alt)


@styled
def sample_vs_respondents_chart(rows: pd.DataFrame, title: str = "", labels: dict[str, str] | None = None) -> Chart:
    """Each category's share in the sample and among respondents (design-weighted), side by side."""
    labels = labels or {}
    data = rows.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.5 * len(data)))
    y = np.arange(len(data))[::-1]
    ax.barh(y + 0.18, data["sample_share_weighted"], height=0.36, color="#bdbdbd", label="Udtrukket stikprøve")
    ax.barh(y - 0.18, data["respondents_share_weighted"], height=0.36, color=DIVERGING[0], label="Respondenter")
    names = [labels.get(c, c) for c in data["category"].astype(str)]
    ax.set_yticks(y, names)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_pct(v, 0)))
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _finish(fig, ax, title, legend_right=1.6)
    alt = (f"Søjlediagram{': ' + title if title else ''}. " + "; ".join(
        f"{n}: stikprøve {fmt_pct(s)}, respondenter {fmt_pct(r)}"
        for n, s, r in zip(names, data["sample_share_weighted"], data["respondents_share_weighted"])) + ".")
    return Chart(fig, alt)


@styled
def response_curve_chart(curve: pd.DataFrame, reminders: list, title: str = "",
                         labels: dict[str, str] | None = None) -> Chart:
    """Cumulative response rate per day for each group, with the reminder dates marked."""
    labels = labels or {}
    fig, ax = plt.subplots(figsize=(9, 4))
    for g, part in curve.groupby("group", sort=False):
        ax.plot(pd.to_datetime(part["date"]), part["cumulative_rate"], label=labels.get(g, g) or "I alt", lw=1.6)
    for d in reminders:
        ax.axvline(pd.Timestamp(d), color="#999999", ls="--", lw=1)
        ax.text(pd.Timestamp(d), 0.02, " påmindelse", rotation=90, va="bottom", fontsize=8, color="#666666",
                transform=ax.get_xaxis_transform())
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_pct(v, 0)))
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d/%m"))
    ax.set_ylabel("Kumuleret svarprocent")
    if curve["group"].nunique() > 1:
        ax.legend(frameon=False, fontsize=8, ncols=2)
    _finish(fig, ax, title)
    last = curve.groupby("group", sort=False)["cumulative_rate"].last()
    alt = (f"Linjediagram{': ' + title if title else ''}. Kumuleret svarprocent ved afslutning: "
           + "; ".join(f"{labels.get(g, g) or 'I alt'} {fmt_pct(v)}" for g, v in last.items())
           + f". Påmindelser {', '.join(pd.Timestamp(d).strftime('%d/%m') for d in reminders)}.")
    return Chart(fig, alt)


@styled
def weight_histogram(weights: np.ndarray, title: str = "") -> Chart:
    """Distribution of the weights."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.hist(weights, bins=40, color=DIVERGING[1], edgecolor="white")
    ax.set_xlabel("Vægt (antal borgere i populationen, som en respondent repræsenterer)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 1)))
    ax.set_ylabel("Respondenter")
    _finish(fig, ax, title)
    q = np.quantile(weights, [0, 0.25, 0.5, 0.75, 1])
    alt = (f"Histogram over {fmt_int(len(weights))} vægte: mindst {fmt_number(q[0])}, kvartiler "
           f"{fmt_number(q[1])}, {fmt_number(q[2])} og {fmt_number(q[3])}, størst {fmt_number(q[4])}.")
    return Chart(fig, alt)


@styled
def theme_shares_chart(rows: pd.DataFrame, title: str = "") -> Chart:
    """Share of comments per theme with its 95 % interval; positive themes blue, negative red.

    ``rows``: ``label``, ``tone`` ('positiv'/'negativ'), ``share``, ``ci_low``, ``ci_high``,
    ``suppressed`` (suppressed themes are left out)."""
    data = rows[~rows["suppressed"].astype(bool)].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.42 * max(len(data), 1)))
    y = np.arange(len(data))[::-1]
    share = data["share"].to_numpy(float)
    err = np.vstack([share - data["ci_low"].to_numpy(float), data["ci_high"].to_numpy(float) - share])
    colours = [DIVERGING[0] if t == "positiv" else DIVERGING[4] for t in data["tone"]]
    ax.barh(y, share, color=colours, height=0.7, xerr=err, error_kw={"ecolor": "#444444", "capsize": 2, "lw": 0.8})
    ax.set_yticks(y, list(data["label"]))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_pct(v, 0)))
    ax.set_xlim(0, max(0.05, float(np.nanmax(data["ci_high"])) * 1.1) if len(data) else 1)
    _finish(fig, ax, title)
    alt = (f"Søjlediagram{': ' + title if title else ''}. " + "; ".join(
        f"{lab} {fmt_pct(s)} (95 %-KI {fmt_pct(lo)}–{fmt_pct(hi)})"
        for lab, s, lo, hi in zip(data["label"], share, data["ci_low"], data["ci_high"])) + ".")
    return Chart(fig, alt)


@styled
def log_odds_chart(rows: pd.DataFrame, title: str = "", side_a: str = "", side_b: str = "") -> Chart:
    """The words most typical of each of two groups: z-scores of the weighted log-odds ratio, the
    first group's words to the right (blue), the second's to the left (red).

    ``rows``: ``term`` and ``z``."""
    data = rows.sort_values("z").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.3 * max(len(data), 1)))
    y = np.arange(len(data))
    z = data["z"].to_numpy(float)
    ax.barh(y, z, color=[DIVERGING[0] if v > 0 else DIVERGING[4] for v in z], height=0.7)
    ax.set_yticks(y, list(data["term"]))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 1)))
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"← mere typisk for {side_b.lower()}   |   mere typisk for {side_a.lower()} →  (z)", fontsize=8)
    _finish(fig, ax, title)
    pos = [t for t, v in zip(data["term"][::-1], z[::-1]) if v > 0]
    neg = [t for t, v in zip(data["term"], z) if v < 0]
    alt = (f"Søjlediagram{': ' + title if title else ''}. Mest typisk for {side_a.lower()}: {', '.join(pos)}. "
           f"Mest typisk for {side_b.lower()}: {', '.join(neg)}.")
    return Chart(fig, alt)
