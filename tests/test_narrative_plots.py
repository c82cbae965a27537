"""Danish number formats and sentences; figures checked against the table values they draw."""

import numpy as np
import pandas as pd
import pytest

from survey_lib import narrative as nv
from survey_lib.plots import DIVERGING, HATCHES, SCORE_LIMITS, municipality_means, stacked_distribution


@pytest.mark.parametrize("value,decimals,expected", [(3.853, 2, "3,85"), (12345.6, 2, "12.345,60"),
                                                     (9989, 0, "9.989"), (float("nan"), 2, "–")])
def test_fmt_number(value, decimals, expected):
    assert nv.fmt_number(value, decimals) == expected


@pytest.mark.parametrize("value,decimals,expected", [(0.333, 2, "+0,33"), (-0.2, 2, "-0,20"), (0.0, 2, "0,00"),
                                                     (-0.004, 2, "0,00"), (3.46, 1, "+3,5"), (float("nan"), 2, "–")])
def test_fmt_signed(value, decimals, expected):
    # a difference carries its sign; a difference that rounds to zero has none (never '+0,00' or '-0,00')
    assert nv.fmt_signed(value, decimals) == expected


def test_fmt_pct_and_p():
    assert nv.fmt_pct(0.24) == "24,0 %"
    assert nv.fmt_pct(0.592) == "59,2 %"
    assert nv.fmt_p(0.0004) == "p < 0,001"
    assert nv.fmt_p(0.0341) == "p = 0,034"


def test_sentences():
    assert nv.top_two_sentence(0.592, 3.53, "tilfreds") == \
        "59,2 % er tilfredse eller meget tilfredse (gennemsnitlig score 3,53)"
    assert nv.top_two_sentence(0.592, 3.53, "tilfreds", (3.5, 3.56)) == \
        "59,2 % er tilfredse eller meget tilfredse (gennemsnitlig score 3,53; 95 %-konfidensinterval 3,50–3,56)"
    assert nv.comparison_sentence("Odder", 3.81, 3.52, "above", 1, 13, (0.17, 0.41)) == (
        "Odder ligger højere end de øvrige kommuner: 3,81 mod 3,52, 0,29 point højere (95 %-konfidensinterval "
        "0,17 til 0,41); forskellen er statistisk sikker. Odder er nr. 1 af 13.")
    assert nv.comparison_sentence("Odder", 3.50, 3.52, "level", None, 13) == (
        "Odder ligger på niveau med de øvrige kommuner: 3,50 mod 3,52. Forskellen på 0,02 er ikke statistisk sikker.")


@pytest.mark.parametrize("value,decimals,expected", [(-0.004, 2, "0,00"), (-0.04, 1, "0,0"), (-0.06, 1, "-0,1")])
def test_no_negative_zero(value, decimals, expected):
    assert nv.fmt_number(value, decimals) == expected


def test_difference_sentence_two_groups():
    """Two groups: who is lower, both means, and 'forskellen' in the singular."""
    assert nv.difference_sentence([("borgere i målgruppen dagpenge", 3.71), ("borgere i målgruppen aktivitetsparate",
                                                                         3.21)], 0.001, 0.05) == (
        "Borgere i målgruppen aktivitetsparate svarer mindre positivt (3,21) end borgere i målgruppen dagpenge "
        "(3,71); forskellen er statistisk sikker.")
    assert nv.difference_sentence([("kvinder", 3.60), ("mænd", 3.55)], 0.4, 0.05) == (
        "Mænd svarer mindre positivt (3,55) end kvinder (3,60); forskellen er ikke statistisk sikker.")
    assert nv.difference_sentence([("kvinder", 3.601), ("mænd", 3.598)], 0.9, 0.05) == (
        "Kvinder og mænd svarer ens (3,60); forskellen er ikke statistisk sikker.")


def test_difference_sentence_four_groups():
    """Four groups: the highest and the lowest, 'forskellene' in the plural; a group without a mean
    (suppressed) is left out; untestable says so."""
    groups = [("a", 3.40), ("b", 3.90), ("c", float("nan")), ("d", 3.55)]
    assert nv.difference_sentence(groups, 0.01, 0.05) == (
        "B svarer mest positivt (3,90), a mindst positivt (3,40); forskellene er statistisk sikre.")
    assert nv.difference_sentence(groups + [("e", 3.6)], 0.2, 0.05).endswith("forskellene er ikke statistisk sikre.")
    assert nv.difference_sentence([("a", 3.4), ("b", float("nan"))], 0.01, 0.05) == \
        "For få svar til at sammenligne grupperne."
    assert nv.difference_sentence([("a", 3.4), ("b", 3.5)], float("nan"), 0.05).endswith("forskellen kan ikke testes.")


def test_count_phrase_and_subjects():
    from survey_lib.vocabulary import group_subject

    assert [nv.count_phrase(n, "celle", "celler") for n in (0, 1, 3)] == ["ingen celler", "1 celle", "3 celler"]
    assert group_subject("alder_band", "under_30", "Under 30") == "borgere under 30 år"
    assert group_subject("alder_band", "30_49", "30-49") == "borgere på 30-49 år"
    assert group_subject("koen", "K", "Kvinder") == "kvinder"


def _rows():
    groups = {"K": [0.255, 0.348, 0.21, 0.10, 0.087], "M": [0.221, 0.358, 0.201, 0.096, 0.124]}
    labels = ["Meget tilfreds", "Tilfreds", "Hverken tilfreds eller utilfreds", "Utilfreds", "Meget utilfreds"]
    rows = []
    for g, shares in groups.items():
        for c, (s, lab) in zip("54321", zip(shares, labels)):
            rows.append({"group": g, "category": c, "category_label": lab, "share": s, "n": 5219 if g == "K" else 3394,
                         "suppressed": False})
    rows += [{"group": "X", "category": c, "category_label": lab, "share": np.nan, "n": 3, "suppressed": True}
             for c, lab in zip("54321", labels)]
    return pd.DataFrame(rows)


def test_stacked_bars_match_table_values():
    """Each group's bar segments have the table's shares, the category's colour and pattern; the
    numbers are in the chart's table, the alt text is short."""
    rows = _rows()
    chart = stacked_distribution(rows, "Samlet tilfredshed", {"K": "Kvinder", "M": "Mænd", "X": "Andet"})
    ax = chart.figure.axes[0]
    bars = list(ax.patches)
    # 2 groups x 5 categories, drawn group by group; the suppressed group has no bars
    assert len(bars) == 10
    for j, g in enumerate(["K", "M"]):
        for k, cat in enumerate("54321"):
            bar = bars[j * 5 + k]
            want = rows[(rows["group"] == g) & (rows["category"] == cat)]["share"].iloc[0]
            assert bar.get_width() == pytest.approx(want)
            assert bar.get_facecolor()[:3] == pytest.approx(tuple(int(DIVERGING[k][i:i + 2], 16) / 255 for i in (1, 3, 5)))
            assert (bar.get_hatch() or "") == HATCHES[k]
    labels = [t.get_text() for t in ax.texts if "(n = " in t.get_text() or "undertrykt" in t.get_text()]
    assert labels == ["Kvinder (n = 5.219)", "Mænd (n = 3.394)", "Andet – undertrykt (for få svar)"]   # no count shown
    # segment labels: Danish percent with a space
    assert "26 %" in [t.get_text() for t in ax.texts] and not any(t.get_text().endswith("%") and " %" not in
                                                                     t.get_text() for t in ax.texts)
    table = chart.table.set_index("Gruppe")
    assert table.loc["Kvinder", "Meget tilfreds"] == "25,5 %" and table.loc["Mænd", "Antal svar"] == "3.394"
    assert table.loc["Andet", "Meget tilfreds"] == "undertrykt"
    assert chart.alt_text.startswith("Vandret søjlediagram: Samlet tilfredshed.") and len(chart.alt_text) < 300
    assert "Kvinder: 60 % " not in chart.alt_text                      # a caption, not a data dump
    assert chart.caption


def test_municipality_means_highlight():
    rows = pd.DataFrame({"group": ["A", "B", "C"], "mean": [3.2, 3.8, 3.5], "mean_ci_low": [3.1, 3.7, 3.4],
                         "mean_ci_high": [3.3, 3.9, 3.6], "suppressed": [False, False, False]})
    chart = municipality_means(rows, highlight="C")
    ax = chart.figure.axes[0]
    others, own = (c.get_offsets() for c in ax.collections if c.get_offsets().shape[1:] == (2,) and
                   len(c.get_offsets()) and c.__class__.__name__ == "PathCollection")
    assert sorted([*others[:, 0], *own[:, 0]]) == [3.2, 3.5, 3.8] and list(own[:, 0]) == [3.5]
    assert list(own[:, 1]) == [1.0]                                      # sorted: C is in the middle
    assert [t.get_text() for t in ax.get_yticklabels()] == ["", "C", ""]  # others unnamed
    assert ax.get_xlim() == SCORE_LIMITS                                # the score scale, every chart alike
    assert "C har 3,50 og er nr. 2 af 3" in chart.alt_text
    assert list(chart.table["Kommune"]) == ["Kommune nr. 1", "C", "Kommune nr. 3"]
    assert list(chart.table["95 %-KI"]) == ["3,70–3,90", "3,40–3,60", "3,10–3,30"]


def test_category_bars_signed():
    from survey_lib.plots import category_bars
    rows = pd.DataFrame({"category": ["under_30", "30_49", "50_plus"], "partial_r": [-0.05, 0.01, 0.04]})
    chart = category_bars(rows, "partial_r", percent=False, labels={"under_30": "Under 30"})
    bars = chart.figure.axes[0].patches
    assert [b.get_width() for b in bars] == pytest.approx([-0.05, 0.01, 0.04])
    assert bars[0].get_facecolor()[:3] == pytest.approx(tuple(int(DIVERGING[4][i:i + 2], 16) / 255 for i in (1, 3, 5)))
    assert bars[0].get_hatch() and not bars[1].get_hatch()      # negative: hatched, not colour alone
    assert list(chart.table["Værdi"]) == ["-0,050", "0,010", "0,040"] and "lavest: Under 30 (-0,050)" in chart.alt_text


def test_sample_vs_respondents_chart():
    from survey_lib.plots import sample_vs_respondents_chart
    rows = pd.DataFrame({"category": ["K", "M"], "sample_share_weighted": [0.52, 0.48],
                         "respondents_share_weighted": [0.6, 0.4]})
    chart = sample_vs_respondents_chart(rows, labels={"K": "Kvinder", "M": "Mænd"})
    widths = [b.get_width() for b in chart.figure.axes[0].patches]
    assert widths == pytest.approx([0.52, 0.48, 0.6, 0.4])
    assert chart.table.iloc[0].tolist() == ["Kvinder", "52,0 %", "60,0 %"]
    assert "Kvinder, 52 % af stikprøven og 60 % af respondenterne" in chart.alt_text


def test_response_curve_chart_marks_reminders():
    import datetime as dt
    from survey_lib.plots import response_curve_chart
    days = pd.date_range("2023-08-28", "2023-09-18").date
    curve = pd.DataFrame({"group": "", "date": days, "cumulative_rate": np.linspace(0.1, 0.43, len(days))})
    chart = response_curve_chart(curve, [dt.date(2023, 9, 4), dt.date(2023, 9, 11)])
    ax = chart.figure.axes[0]
    assert ax.lines[0].get_ydata()[-1] == pytest.approx(0.43)
    assert len(ax.lines) == 3                     # the curve and two reminder lines
    assert "Påmindelser 04/09, 11/09" in chart.alt_text


def test_weight_histogram_counts():
    from survey_lib.plots import weight_histogram
    w = np.array([1.0, 2.0, 2.0, 3.0, 10.0])
    chart = weight_histogram(w)
    assert sum(p.get_height() for p in chart.figure.axes[0].patches) == 5
    assert "fra 1,00 til 10,00" in chart.alt_text and chart.table.iloc[-1].tolist() == ["Størst", "10,00"]


@pytest.mark.parametrize("text", [
    "<script>document.title='HACKED'</script>",
    "<img src=x onerror=\"document.body.innerHTML='HACKED'\">",
    "[klik her](javascript:alert('x'))",
    "<javascript:alert(1)>",
    "**fed** _kursiv_ # overskrift | celle | ![billede](x.png) ~~slet~~ \\",
    "Høje-Taastrup & Ishøj",
])
def test_escaped_text_renders_as_itself_and_never_as_markup(text):
    """Text from data goes through the same Markdown renderer as the HTML export (nbconvert/mistune)."""
    import html as html_mod
    import re

    from nbconvert.filters import markdown2html

    from survey_lib.narrative import escape_markdown

    out = markdown2html(escape_markdown(text))
    assert not re.search(r"<(script|img|a|strong|em|h1|table|del|iframe)\b", out)
    assert html_mod.unescape(re.sub(r"</?p>", "", out)).strip() == text.strip()


def test_labels_from_data_are_text_not_mathtext_and_the_chart_is_svg_text():
    """'$' in a label is a character (no mathtext), the SVG keeps the text as text, the same chart
    gives the same bytes, and the library changes no global matplotlib setting."""
    import io

    import matplotlib

    from survey_lib.plots import STYLE

    rows = _rows()
    rows.loc[rows["group"] == "K", "group"] = "$x^2$ & <b>"
    chart = stacked_distribution(rows, "Pris i $ og kr.", {})

    def svg():
        buf = io.StringIO()
        with matplotlib.rc_context(STYLE):
            chart.figure.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()

    first = svg()
    assert "$x^2$ &amp; &lt;b&gt; (n = 5.219)" in first and "Pris i $ og kr." in first
    assert first == svg()
    assert matplotlib.rcParams["text.parse_math"] is True and matplotlib.rcParams["svg.fonttype"] == "path"


def test_untestable_differences_say_why_in_danish():
    """Two and four groups whose test is not computable: the reason (inference.NotComputable) as a
    Danish clause instead of a bare 'kan ikke testes'."""
    from survey_lib.inference import NotComputable

    two = nv.difference_sentence([("kvinder", 4.0), ("mænd", 4.0)], float("nan"), 0.05, NotComputable.ALL_ALIKE)
    assert two == "Kvinder og mænd svarer ens (4,00); forskellen kan ikke testes, fordi alle har svaret ens."
    four = nv.difference_sentence([("a", 3.4), ("b", 3.9), ("c", 3.5), ("d", 3.6)], float("nan"), 0.05,
                                  NotComputable.TOO_FEW_DF)
    assert four == ("B svarer mest positivt (3,90), a mindst positivt (3,40); forskellene kan ikke testes, fordi der "
                    "er for få svar til at beregne usikkerheden.")
    # every reason the engine can give has its Danish clause
    reasons = [v for k, v in vars(NotComputable).items() if k.isupper()]
    assert all(r in nv._REASONS_DA for r in reasons)


def test_rank_with_its_confidence_set_and_the_adjusted_comparison_in_words():
    assert nv.rank_text(3, 13, 2, 7) == "nr. 3 af 13 (sikkert mellem 2 og 7)"
    assert nv.rank_text(1.0, 13, 1.0, 1.0) == "nr. 1 af 13 (sikkert nr. 1)"
    assert nv.rank_text(float("nan"), 13, float("nan"), float("nan")) is None
    assert nv.comparison_sentence("Odder", 3.71, 3.51, "above", 3, 13, (0.07, 0.32), 1, 7).endswith(
        "Odder er nr. 3 af 13 (sikkert mellem 1 og 7).")
    assert nv.adjusted_sentence("Odder", 0.167, (0.052, 0.283), "above") == (
        "Sammenlignet med den gennemsnitlige kommune med borgere som vores ligger Odder 0,17 point højere "
        "(95 %-konfidensinterval 0,05 til 0,28); forskellen er statistisk sikker.")
    assert nv.adjusted_sentence("Odder", -0.02, (-0.1, 0.06), "level") == (
        "Sammenlignet med den gennemsnitlige kommune med borgere som vores ligger Odder på niveau: forskellen på "
        "0,02 (95 %-konfidensinterval -0,10 til 0,06) er ikke statistisk sikker.")
    assert nv.adjusted_sentence("Odder", float("nan"), None, "") == ""
    assert "borgere som vores" in nv.comparisons_explanation() and "rå" in nv.comparisons_explanation()


def test_funnel_chart_draws_the_limits_and_highlights_the_own_municipality():
    from survey_lib.funnel import FunnelLimits
    from survey_lib.plots import funnel_chart

    table = pd.DataFrame({"kommune": ["A", "B", "C", "D"], "estimate": [3.9, 3.5, 3.45, 3.1],
                          "n": [400.0, 900.0, 300.0, 150.0], "se": [0.05, 0.03, 0.06, 0.09]})
    res = FunnelLimits(target=3.5)(table)
    units = res.units.rename(columns={"kommune": "group", "estimate": "mean"})
    chart = funnel_chart(units, res.curves, res.target, highlight="A", title="Tema – score mod antal svar")
    ax = chart.figure.axes[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 4                                   # lower and upper at 95 % and 99,8 %
    upper95 = res.curves[res.curves["level"] == 0.95]["upper"].to_numpy()
    assert any(np.allclose(ln.get_ydata(), upper95) for ln in lines)
    assert chart.alt_text.startswith("Tragtdiagram: Tema – score mod antal svar.") and len(chart.alt_text) <= 400
    assert "A har 3,90 med 400 svar og ligger uden for 99,8 %-grænserne" in chart.alt_text
    assert chart.caption and list(chart.table.columns) == ["Kommune", "Score", "Svar", "Placering i tragten"]
    assert list(chart.table["Kommune"]) == ["A", "Kommune nr. 2", "Kommune nr. 3", "Kommune nr. 4"]
    lo, hi = ax.get_ylim()
    assert SCORE_LIMITS[0] <= lo < 3.1 and 3.9 < hi <= SCORE_LIMITS[1]
