"""Danish text from numbers: number formats and sentences for the notebooks and reports.

Numbers are written the Danish way: decimal comma, '.' between thousands, a space before '%'
(3,85; 24,0 %; 9.989). Sentences are built from the engine's tidy tables, never typed by hand.
"""

from __future__ import annotations

import html
import math
import re

__all__ = ["escape_markdown", "fmt_number", "fmt_int", "fmt_pct", "fmt_p", "top_two_sentence", "TOP_TWO_PHRASES",
           "comparison_sentence", "number_word", "reading_guide", "weighting_intro", "count_phrase",
           "difference_sentence", "glossary", "FLAG_WORDS", "flag_explanation", "rank_text", "adjusted_sentence",
           "ADJUSTED_FLAG_WORDS", "comparisons_explanation", "ADJUSTED_LEAD"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#|!~])")


def escape_markdown(text: object) -> str:
    """Text from data or parameters, made inert inside Markdown that becomes HTML.

    ``<``, ``>`` and ``&`` become entities (no tag, script or autolink can form) and Markdown's
    punctuation (``\\ ` * _ [ ] ( ) # | ! ~``) is backslash-escaped (no link, image, emphasis,
    heading or table cell can form), so the reader sees the text exactly as written.
    """
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


# What agreeing with the two most positive categories is called, per answer scale.
TOP_TWO_PHRASES = {
    "tilfreds": "er tilfredse eller meget tilfredse",
    "enig": "er enige eller meget enige",
    "grad": "svarer i høj grad eller i meget høj grad",
}


def fmt_number(x: float, decimals: int = 2) -> str:
    """3.853 -> '3,85'; 12345.6 -> '12.345,60'; -0.004 -> '0,00' (never '-0,00'); NaN -> '–'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if round(float(x), decimals) == 0:
        x = 0.0
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_signed(x: float, decimals: int = 2) -> str:
    """A difference with its sign: 0.333 -> '+0,33', -0.2 -> '-0,20', 0 -> '0,00', NaN -> '–'."""
    text = fmt_number(x, decimals)
    return text if text.startswith(("-", "–")) or float(round(float(x), decimals)) == 0 else f"+{text}"


def fmt_int(x: float) -> str:
    """9989 -> '9.989'."""
    return fmt_number(x, 0)


def fmt_pct(share: float, decimals: int = 1) -> str:
    """A share 0-1 as Danish percent: 0.24 -> '24,0 %'."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{fmt_number(100 * share, decimals)} %"


def fmt_p(p: float) -> str:
    """'p < 0,001' or 'p = 0,034'."""
    if p is None or math.isnan(p):
        return "p ikke beregnet"
    return "p < 0,001" if p < 0.001 else f"p = {fmt_number(p, 3)}"


def top_two_sentence(share_top_two: float, mean: float, scale: str, ci: tuple[float, float] | None = None) -> str:
    """'59,2 % er tilfredse eller meget tilfredse (gennemsnitlig score 3,53)', with the 95 % interval
    of the mean when ``ci`` is given."""
    phrase = TOP_TWO_PHRASES.get(scale, "svarer i en af de to mest positive kategorier")
    interval = f"; 95 %-konfidensinterval {fmt_number(ci[0])}–{fmt_number(ci[1])}" if ci else ""
    return f"{fmt_pct(share_top_two)} {phrase} (gennemsnitlig score {fmt_number(mean)}{interval})"


#: The benchmark's flags as the pages say them.
FLAG_WORDS = {"above": "over", "below": "under", "level": "på niveau", "suppressed": "for få svar"}
def flag_explanation(comparison_testing: str, alpha: float) -> str:
    """One line on what the benchmark's flags mean (printed under every benchmark table)."""
    from .vocabulary import ADJUSTMENT_NAMES

    return ("'Over' og 'under' betyder, at kommunens gennemsnit er statistisk sikkert højere eller lavere end de "
            "øvrige kommuners samlet (justeret p-værdi under " + fmt_number(alpha) + "), også når der tages højde "
            "for, at kommunen sammenlignes på alle sine spørgsmål og temaer på én gang ("
            + ADJUSTMENT_NAMES.get(comparison_testing, comparison_testing) + "); 'på niveau' betyder, at "
            "forskellen kan skyldes tilfældigheder.")


def rank_text(rank: float | None, of: int, low: float | None, high: float | None) -> str | None:
    """'nr. 3 af 13 (sikkert mellem 2 og 7)' (:func:`survey_lib.ranks.format_rank`), 'nr. 3 af 13'
    when there is no confidence set, None without a rank (below the reporting minimum)."""
    from .ranks import format_rank

    if _nan(rank):
        return None
    if _nan(low) or _nan(high):
        return f"nr. {int(rank)} af {int(of)}"
    return format_rank(int(rank), int(of), int(low), int(high))


#: The adjusted comparison's flags as the pages say them.
ADJUSTED_FLAG_WORDS = {"above": "over", "below": "under", "level": "på niveau", "": "–"}
#: How the adjusted comparison is introduced on the pages.
ADJUSTED_LEAD = "Sammenlignet med den gennemsnitlige kommune med borgere som vores"


def adjusted_sentence(kommune: str, difference: float, ci: tuple[float, float] | None, flag: str) -> str:
    """The adjusted comparison in words: 'Sammenlignet med den gennemsnitlige kommune med borgere som
    vores ligger Odder 0,17 point højere (95 %-konfidensinterval 0,05 til 0,28); forskellen er
    statistisk sikker.' Empty when it was not computed (``flag`` '')."""
    if not flag or _nan(difference):
        return ""
    kommune = escape_markdown(kommune)
    interval = f" (95 %-konfidensinterval {fmt_number(ci[0])} til {fmt_number(ci[1])})" if ci else ""
    if flag == "level":
        return (f"{ADJUSTED_LEAD} ligger {kommune} på niveau: forskellen på {fmt_number(abs(difference))}{interval} "
                "er ikke statistisk sikker.")
    word = "højere" if flag == "above" else "lavere"
    return (f"{ADJUSTED_LEAD} ligger {kommune} {fmt_number(abs(difference))} point {word}{interval}; "
            "forskellen er statistisk sikker.")


def comparisons_explanation() -> str:
    """One paragraph saying which comparison is which (printed with every benchmark table)."""
    return ("*To sammenligninger.* Den **rå** sammenligning stiller kommunens gennemsnit over for de øvrige "
            "kommuners samlet, som deres borgere nu engang er. Den **justerede** sammenligning er "
            f"'{ADJUSTED_LEAD.lower()}': kommunens forskel fra den gennemsnitlige kommune, når der tages højde for, "
            "at kommunerne har forskellige borgere (målgruppe, alder, køn og varighed af forløbet) – beregnet "
            "for temaerne. Er den justerede forskel mindre end den rå, forklarer borgernes sammensætning en del "
            "af forskellen.")


def comparison_sentence(kommune: str, mean: float, others_mean: float, flag: str, rank: float | None,
                        n_municipalities: int, ci: tuple[float, float] | None = None,
                        rank_low: float | None = None, rank_high: float | None = None) -> str:
    """A municipality against the others in words: who is higher, by how much (with the 95 % interval
    of the difference), whether it is statistically sure, and the rank when one is given (with its
    95 % confidence set when ``rank_low`` and ``rank_high`` are given: 'nr. 3 af 13 (sikkert mellem
    2 og 7)')."""
    kommune = escape_markdown(kommune)
    if flag == "suppressed":
        return f"{kommune} har for få svar til at blive sammenlignet med de øvrige kommuner."
    diff = mean - others_mean
    interval = f" (95 %-konfidensinterval {fmt_number(ci[0])} til {fmt_number(ci[1])})" if ci else ""
    if flag == "level":
        head = (f"{kommune} ligger på niveau med de øvrige kommuner: {fmt_number(mean)} mod {fmt_number(others_mean)}. "
                f"Forskellen på {fmt_number(abs(diff))}{interval} er ikke statistisk sikker.")
    else:
        word = "højere" if flag == "above" else "lavere"
        head = (f"{kommune} ligger {word} end de øvrige kommuner: {fmt_number(mean)} mod {fmt_number(others_mean)}, "
                f"{fmt_number(abs(diff))} point {word}{interval}; forskellen er statistisk sikker.")
    shown = rank_text(rank, n_municipalities, rank_low, rank_high)
    place = f" {kommune} er {shown}." if shown else ""
    return head + place


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def count_phrase(n: int, singular: str, plural: str) -> str:
    """'ingen celler', '1 celle', '3 celler' (never 'celle(r)')."""
    return f"ingen {plural}" if n == 0 else f"{fmt_int(n)} {singular if n == 1 else plural}"


def difference_sentence(groups: "list[tuple[str, float]]", p_adjusted: float | None, alpha: float,
                        reason: str = "") -> str:
    """Differences between groups in plain Danish: who is higher, by how much, and whether it is sure.

    ``groups`` are (who, mean) with ``who`` as it reads in a sentence ('kvinder', 'borgere under 30
    år'); groups without a mean are left out. Two groups: 'Mænd svarer mindre positivt (3,55) end
    kvinder (3,71); forskellen er statistisk sikker.' More: the highest and the lowest, and whether
    the differences are sure. ``p_adjusted`` is the test's p-value after the multiple-testing rule;
    when it is missing, ``reason`` (the test's ``not_computable``, Danish) says why.
    """
    shown = sorted(((w, m) for w, m in groups if not _nan(m)), key=lambda g: g[1])
    if len(shown) < 2:
        return "For få svar til at sammenligne grupperne."
    two = len(shown) == 2
    noun = "forskellen" if two else "forskellene"
    if _nan(p_adjusted):
        verdict = f"{noun} kan ikke testes, fordi {_REASONS_DA.get(reason, reason)}" if reason else \
            f"{noun} kan ikke testes"
    elif p_adjusted < alpha:
        verdict = f"{noun} er statistisk {'sikker' if two else 'sikre'}"
    else:
        verdict = f"{noun} er ikke statistisk {'sikker' if two else 'sikre'}"
    (low, m_low), (high, m_high) = shown[0], shown[-1]
    if two and fmt_number(m_low) == fmt_number(m_high):
        first, second = (w for w, m in groups if not _nan(m))       # in the breakdown's order
        return _capital(f"{first} og {second} svarer ens ({fmt_number(m_low)}); {verdict}.")
    if two:
        return _capital(f"{low} svarer mindre positivt ({fmt_number(m_low)}) end {high} ({fmt_number(m_high)}); "
                        f"{verdict}.")
    return _capital(f"{high} svarer mest positivt ({fmt_number(m_high)}), {low} mindst positivt "
                    f"({fmt_number(m_low)}); {verdict}.")


#: A test's not-computable reason (survey_lib.inference.NotComputable) as a clause after 'fordi'.
_REASONS_DA = {
    "ingen svar": "der er ingen svar",
    "alle svar i samme kategori": "alle har svaret i samme kategori",
    "kun én gruppe med svar": "kun én gruppe har svar",
    "alle svar er ens": "alle har svaret ens",
    "ingen variation inden for grupperne": "alle i hver gruppe har svaret ens",
    "grupper, hvor alle svar er ens, har forskellige gennemsnit": "nogle grupper kun har ens svar",
    "under 1 frihedsgrad": "der er for få svar til at beregne usikkerheden",
    "numerisk ustabil (statistik under 0 eller frihedsgrader under 1)":
        "svarene er for få eller for ens til en stabil beregning",
}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def glossary(alpha: float) -> str:
    """A short glossary of the statistical words the pages use (Markdown)."""
    return ("**Ordliste.** *Statistisk sikker*: forskellen er så stor, at den næppe skyldes tilfældigheder i, "
            f"hvem der svarede (justeret p-værdi under {fmt_number(alpha)}). *Justeret p-værdi*: p-værdien efter en korrektion "
            "for, at mange forskelle testes på én gang, så der ikke findes forskelle blot fordi der er ledt "
            "mange steder. *Konfidensinterval (95 %)*: det interval, som det sande gennemsnit med 95 % "
            "sikkerhed ligger i. *Designeffekt*: hvor meget vægtningen øger usikkerheden i forhold til lige "
            "store vægte. *Effektivt antal svar*: det antal svar uden vægte, der ville give samme præcision.")


_NUMBER_WORDS = ("nul", "et", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "elleve", "tolv")


def number_word(n: int) -> str:
    """A count in running text: the Danish word up to twelve ('fem'), digits above ('30')."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else fmt_int(n)


def reading_guide(min_cell_size: int, weighting_cells: "tuple[str, ...] | list[str]", multiple_testing: str,
                  significance_level: float) -> str:
    """How to read a theme's charts, from the parameters that decide it (survey.yaml): the smallest
    group shown, what the weights adjust for and the multiple-testing rule."""
    from .vocabulary import ADJUSTMENT_NAMES, register_nouns

    level = fmt_number(100 * significance_level, 0 if (100 * significance_level).is_integer() else 1)
    return ("**Sådan læses figurerne:** Hver søjle er 100 %. Kategorierne står fra den mest positive (til venstre, "
            "blå) til den mest negative (til højre, rød), og antallet af svar (n) står ved hver gruppe. Andele og "
            "gennemsnitlige scorer (1–5, hvor 5 er mest positiv) er vægtede efter "
            f"{register_nouns(weighting_cells)}; 'Ved ikke/ikke relevant' indgår ikke. Grupper med under "
            f"{number_word(min_cell_size)} svar vises ikke. En forskel kaldes *statistisk sikker*, når den "
            f"justerede p-værdi ({ADJUSTMENT_NAMES.get(multiple_testing, multiple_testing)}) er under "
            f"signifikansniveauet på {level} %.")


def weighting_intro(method: str, weighting_cells: "tuple[str, ...] | list[str]") -> str:
    """What the weights do, for the weighting page: the method and the cells of survey.yaml."""
    from .vocabulary import REGISTER_TITLES, register_nouns

    nouns = register_nouns(weighting_cells)
    if method == "rake":
        how = (f"raking: vægtene tilpasses iterativt, så respondenternes fordeling på hver af {nouns} "
               "for sig svarer til populationens")
    else:
        cells = " × ".join(REGISTER_TITLES.get(v, v).lower() for v in weighting_cells)
        how = f"post-stratificering på cellerne {cells}: vægt = antal borgere i cellen / antal respondenter i cellen"
    return f"Svarene vægtes, så respondenterne ligner populationen på {nouns} ({how})."
