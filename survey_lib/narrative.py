"""Danish text from numbers: number formats and sentences for the notebooks and reports.

Numbers are written the Danish way: decimal comma, '.' between thousands, a space before '%'
(3,85; 24,0 %; 9.989). Sentences are built from the engine's tidy tables, never typed by hand.
"""

from __future__ import annotations

import html
import math
import re

__all__ = ["escape_markdown", "fmt_number", "fmt_int", "fmt_pct", "fmt_p", "top_two_sentence", "TOP_TWO_PHRASES",
           "test_sentence", "comparison_sentence", "number_word", "reading_guide", "weighting_intro"]

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
    """3.853 -> '3,85'; 12345.6 -> '12.345,60'; NaN -> '–'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


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


def test_sentence(p_adjusted: float, alpha: float, what: str) -> str:
    """Whether differences between groups are significant after multiple-testing adjustment."""
    if p_adjusted is None or math.isnan(p_adjusted):
        return f"Forskellene {what} kan ikke testes (for få svar)."
    if p_adjusted < alpha:
        return f"Forskellene {what} er statistisk signifikante (justeret {fmt_p(p_adjusted)})."
    return f"Forskellene {what} er ikke statistisk signifikante (justeret {fmt_p(p_adjusted)})."


def comparison_sentence(kommune: str, mean: float, others_mean: float, flag: str, rank: float, n_municipalities: int,
                        p_adjusted: float | None = None) -> str:
    """A municipality against the others: level, difference, test and rank, in words."""
    kommune = escape_markdown(kommune)
    if flag == "suppressed":
        return f"{kommune} har for få svar til at blive sammenlignet med de øvrige kommuner."
    level = {"above": "signifikant over", "below": "signifikant under", "level": "på niveau med"}[flag]
    test = f", justeret {fmt_p(p_adjusted)}" if p_adjusted is not None else ""
    return (f"{kommune} ligger {level} de øvrige kommuner ({fmt_number(mean)} mod {fmt_number(others_mean)}, "
            f"forskel {fmt_number(mean - others_mean)}{test}) og er nr. {int(rank)} af {n_municipalities}.")


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
            f"{number_word(min_cell_size)} svar vises ikke. En forskel kaldes *statistisk signifikant*, når den "
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
