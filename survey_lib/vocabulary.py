"""The survey's vocabulary in one place: breakdowns, their levels and Danish labels, theme ids.

Every module that needs to know which breakdowns exist, in which order their groups come, what they
are called in Danish, or how a theme score is named as an outcome, asks here: the params checks
(:func:`survey_lib.params.load_params`), the table set (:mod:`survey_lib.tables`), the notebooks
(:mod:`survey_lib.notebook`) and the export (:mod:`survey_lib.export`).

The levels of a breakdown come from the parameters (survey.yaml's bands, genders and målgrupper,
the questionnaire's option groups for the course status, kommuner.yaml's municipalities), so a new
band in survey.yaml reaches every table and page without another edit. The module imports nothing
of the package at import time (the params loader uses it).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from .params import Params

__all__ = ["BREAKDOWN_VARIABLES", "TOTAL", "VS_OTHERS", "THEME_PREFIX", "BreakdownTerms", "SurveyVocabulary",
           "theme_outcome", "is_theme", "theme_id", "breakdown_title", "join_words", "register_nouns", "group_subject",
           "REGISTER_TITLES", "ADJUSTMENT_NAMES", "METHOD_NAMES", "STATUS_LABELS", "CURRENT"]

#: The variables a breakdown in survey.yaml may name, in the order the register offers them.
BREAKDOWN_VARIABLES = ("maalgruppe", "koen", "alder_band", "varighed_band", "tilknytning", "kommune")
#: The pseudo-breakdown of every respondent (one group, ``""``).
TOTAL = "total"
#: The scope in the trend's ``scores.csv`` of each wave's scores over the municipalities in every
#: wave of the trend (:mod:`survey_lib.trend`).
TREND_PANEL = "panel:trend"
#: The pseudo-breakdown of a municipality's comparison with the other municipalities (tests.csv).
VS_OTHERS = "kommune_vs_others"
#: Outcome ids of theme scores: ``tema_<theme id>``.
THEME_PREFIX = "tema_"

#: Danish name of each breakdown where survey.yaml gives none (the pseudo-breakdowns).
_TITLES = {TOTAL: "I alt", VS_OTHERS: "Kommunen mod de øvrige"}
#: 'Between whom' a breakdown's test compares, for the narrative.
_BETWEEN = {"maalgruppe": "mellem målgrupperne", "koen": "mellem kvinder og mænd",
            "alder_band": "mellem aldersgrupperne", "varighed_band": "mellem forløbsvarighederne",
            "tilknytning": "mellem igangværende og afsluttede forløb", "kommune": "mellem kommunerne"}
#: Danish labels of the course status groups (the questionnaire's option ``group`` codes).
STATUS_LABELS = MappingProxyType({"igangvaerende": "Igangværende", "afsluttet": "Afsluttet"})
#: The course status whose citizens a breakdown with ``only_current`` keeps.
CURRENT = "igangvaerende"
#: Danish names of the register variables (non-response tables, weighting cells).
REGISTER_TITLES = MappingProxyType({"kommune": "Kommune", "koen": "Køn", "alder_band": "Alder",
                                    "maalgruppe": "Målgruppe", "varighed_band": "Varighed"})
#: Danish names of the weighting methods of survey.yaml.
METHOD_NAMES = MappingProxyType({"poststratify": "Post-stratificering", "rake": "Raking"})
#: Danish names of the multiple-testing methods of survey.yaml.
ADJUSTMENT_NAMES = MappingProxyType({"holm": "Holm", "fdr_bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni"})


def theme_outcome(theme: str) -> str:
    """The outcome id of a theme's score: ``theme_outcome('samtalen') == 'tema_samtalen'``."""
    return THEME_PREFIX + theme


def is_theme(outcome: str) -> bool:
    """Whether an outcome id names a theme score (not a question)."""
    return outcome.startswith(THEME_PREFIX)


def theme_id(outcome: str) -> str:
    """The theme of a theme-score outcome id (``'tema_samtalen'`` -> ``'samtalen'``)."""
    if not is_theme(outcome):
        raise ValueError(f"outcome {outcome!r} is not a theme score; expected an id beginning with {THEME_PREFIX!r}")
    return outcome[len(THEME_PREFIX):]


def join_words(words: "list[str] | tuple[str, ...]") -> str:
    """Danish enumeration: ``['alder', 'køn', 'kommune']`` -> ``'alder, køn og kommune'``."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " og " + words[-1]


def register_nouns(variables: "list[str] | tuple[str, ...]") -> str:
    """The register variables in running Danish text: ``'alder, køn, kommune og målgruppe'``."""
    return join_words([REGISTER_TITLES.get(v, v).lower() for v in variables])


def group_subject(variable: str, level: str, label: str) -> str:
    """A breakdown group as the subject of a Danish sentence (lower case; the sentence capitalises)."""
    low = label[:1].lower() + label[1:]
    if variable == "koen":
        return low
    if variable == "maalgruppe":
        return f"borgere i målgruppen {low}"
    if variable == "alder_band":
        return f"borgere {low} år" if low.startswith(("under", "over")) else f"borgere på {label} år"
    if variable == "varighed_band":
        return f"borgere med forløb på {low}"
    if variable == "tilknytning":
        return {"igangvaerende": "borgere med et igangværende forløb", "afsluttet": "borgere med et afsluttet forløb"
                }.get(level, f"borgere med status {low}")
    return label


def breakdown_title(variable: str, labels: Mapping[str, str]) -> str:
    """The Danish name of a breakdown: survey.yaml's label, or that of a pseudo-breakdown."""
    return labels.get(variable) or _TITLES.get(variable, variable)


@dataclass(frozen=True)
class BreakdownTerms:
    """One breakdown: its variable, Danish title, its groups in order and their Danish labels."""

    variable: str
    title: str
    levels: tuple[str, ...]
    labels: Mapping[str, str]
    between: str
    only_current: bool = False

    def label(self, level: str) -> str:
        """The Danish label of a group (the code itself where none is known)."""
        return self.labels.get(level, level)

    def who(self, level: str) -> str:
        """The group as the subject of a sentence: 'kvinder', 'borgere under 30 år',
        'borgere i målgruppen aktivitetsparate', 'borgere med forløb på 1-2 år'."""
        return group_subject(self.variable, level, self.label(level))


@dataclass(frozen=True)
class SurveyVocabulary:
    """The breakdowns of the survey (survey.yaml order) with every register variable's levels.

    ``levels`` holds every register variable's groups in params order, also those not used as a
    breakdown (the non-response tables show all of them).
    """

    breakdowns: tuple[BreakdownTerms, ...]
    levels: Mapping[str, tuple[str, ...]]
    labels: Mapping[str, str]
    titles: Mapping[str, str]

    @classmethod
    def from_params(cls, params: "Params") -> "SurveyVocabulary":
        s = params.survey
        statuses = tuple(dict.fromkeys(o.group for q in params.questionnaire.questions for o in (q.options or ())
                                       if o.group))
        levels = {"maalgruppe": tuple(m.code for m in s.maalgrupper), "koen": tuple(g.code for g in s.genders),
                  "alder_band": tuple(b.code for b in s.age_bands),
                  "varighed_band": tuple(b.code for b in s.duration_bands), "tilknytning": statuses,
                  "kommune": tuple(k.name for k in params.kommuner)}
        labels = ({m.code: m.label for m in s.maalgrupper} | {g.code: g.label for g in s.genders}
                  | {b.code: b.label for b in s.age_bands} | {b.code: b.label for b in s.duration_bands}
                  | {c: STATUS_LABELS.get(c, c) for c in statuses})
        titles = {b.variable: b.label for b in s.breakdowns}
        terms = tuple(BreakdownTerms(b.variable, b.label, levels[b.variable],
                                     MappingProxyType({c: labels.get(c, c) for c in levels[b.variable]}),
                                     _BETWEEN.get(b.variable, "mellem grupperne"), b.only_current)
                      for b in s.breakdowns)
        return cls(terms, MappingProxyType(levels), MappingProxyType(labels), MappingProxyType(titles))

    def breakdown(self, variable: str) -> BreakdownTerms:
        """The terms of one breakdown of survey.yaml (KeyError names the known ones)."""
        for b in self.breakdowns:
            if b.variable == variable:
                return b
        raise KeyError(f"breakdown {variable!r} is not in survey.yaml; known: {[b.variable for b in self.breakdowns]}")

    def title(self, variable: str) -> str:
        """Danish name of a breakdown, including the pseudo-breakdowns ``total`` and ``kommune_vs_others``."""
        return breakdown_title(variable, self.titles)

    def label(self, code: str) -> str:
        """Danish label of any register group code (the code itself where none is known)."""
        return self.labels.get(code, code)

    def order(self, variable: str) -> tuple[str, ...]:
        """The groups of a register variable in params order (empty for an unknown variable)."""
        return self.levels.get(variable, ())
