"""Municipalities left out of the analysis.

A municipality is left out when ``survey.yaml: exclude_municipalities`` names it, or when it has
fewer respondents in all than ``weighting.min_respondents`` (counted as the weighting counts them:
every respondent, or complete ones only with ``weighting.respondents: complete``), so that its
population cannot be weighted — in a real round one municipality's mailing may fail. The others are
analysed as if it had not been sampled: its population, sample and responses rows are taken out
before weighting (:func:`analysed_data`), so no table, test or figure for all municipalities
('Alle') includes it, and the validation report, the tables' provenance and the batch's index say
which municipalities were left out and why. Response rates need no weights: the non-response
analysis still gives a left-out municipality's response rates (:mod:`survey_lib.nonresponse`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from .load import SurveyData

__all__ = ["Exclusion", "find_exclusions", "analysed_data", "REASON_DA", "exclusion_lines"]

#: what the pages and the index say of a left-out municipality, by reason
REASON_DA = {"no_respondents": "ingen svar: ikke analyseret",
             "too_few_respondents": "for få svar til at vægte: ikke analyseret",
             "excluded": "udeladt efter survey.yaml"}


@dataclass(frozen=True)
class Exclusion:
    """One municipality left out of the analysis.

    Attributes
    ----------
    kommune
        The municipality's name (as in kommuner.yaml).
    reason
        ``"excluded"`` (named in ``exclude_municipalities``), ``"no_respondents"`` or
        ``"too_few_respondents"`` (fewer than ``weighting.min_respondents``).
    respondents
        Its respondents as the weighting counts them.
    sampled
        Its sampled citizens.
    """

    kommune: str
    reason: str
    respondents: int
    sampled: int

    @property
    def label_da(self) -> str:
        """The Danish line of the pages and the index ('ingen svar: ikke analyseret', ...)."""
        return REASON_DA[self.reason]

    def describe(self, min_respondents: int) -> str:
        """One English line of the validation report: who, why, and what happens."""
        why = {"excluded": "named in survey.yaml: exclude_municipalities",
               "no_respondents": "no respondents",
               "too_few_respondents": f"{self.respondents} respondent(s), fewer than weighting.min_respondents "
                                      f"= {min_respondents}"}[self.reason]
        return (f"{self.kommune}: left out of the analysis ({why}; {self.sampled} sampled); no tables or pages "
                "of its own and not in the figures for all municipalities")


def find_exclusions(data: SurveyData, exclude: tuple[str, ...] | list[str], min_respondents: int,
                    respondents: str = "all") -> tuple[Exclusion, ...]:
    """The municipalities to leave out, in the order of the population file's municipalities
    (those of ``exclude`` first).

    Parameters
    ----------
    data
        The validated data (every municipality).
    exclude
        ``survey.yaml: exclude_municipalities`` (already checked against kommuner.yaml).
    min_respondents
        ``weighting.min_respondents``: a municipality with fewer respondents in all cannot be weighted.
    respondents
        ``weighting.respondents``: ``"all"`` or ``"complete"`` (who counts).
    """
    pop_k = data.population["kommune"].astype(str)
    kommune_of = pd.Series(pop_k.to_numpy(), index=data.population["person_id"].to_numpy())
    resp = data.responses
    if respondents == "complete":
        resp = resp[resp["status"] == "complete"]
    n_resp = resp["person_id"].map(kommune_of).value_counts()
    n_smp = data.sample["person_id"].map(kommune_of).value_counts()
    out = [Exclusion(str(k), "excluded", int(n_resp.get(k, 0)), int(n_smp.get(k, 0))) for k in exclude]
    for k in pd.unique(pop_k):
        if k in exclude:
            continue
        n = int(n_resp.get(k, 0))
        if n < min_respondents:
            out.append(Exclusion(str(k), "no_respondents" if n == 0 else "too_few_respondents", n,
                                 int(n_smp.get(k, 0))))
    return tuple(out)


def analysed_data(data: SurveyData, exclusions: tuple[Exclusion, ...]) -> SurveyData:
    """``data`` without the rows of the left-out municipalities (population, and the sample and
    responses of their citizens); ``data`` itself when none is left out."""
    if not exclusions:
        return data
    gone = {e.kommune for e in exclusions}
    pop = data.population
    out_ids = set(pop.loc[pop["kommune"].astype(str).isin(gone), "person_id"])
    keep_pop = ~pop["kommune"].astype(str).isin(gone)
    return replace(data, population=pop[keep_pop].reset_index(drop=True),
                   sample=data.sample[~data.sample["person_id"].isin(out_ids)].reset_index(drop=True),
                   responses=data.responses[~data.responses["person_id"].isin(out_ids)].reset_index(drop=True))


def exclusion_lines(exclusions: tuple[Exclusion, ...], min_respondents: int) -> list[str]:
    """The validation report's lines for the left-out municipalities (none: no line)."""
    return [e.describe(min_respondents) for e in exclusions]
