"""Scores of the 1–5 questions and theme scores, per respondent: what the estimates average.

A question's score is its answer on the 1–5 scale; 'ved ikke/ikke relevant', not asked and not
answered are missing (NaN) and never count as a score, as in the 2023 report. A theme score is the
mean of the scores the respondent gave to the theme's questions (missing when none), as the later
national rounds publish them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .vocabulary import theme_outcome

if TYPE_CHECKING:
    from .params import Questionnaire

__all__ = ["score_matrix", "theme_scores", "theme_score_ids", "outcome_scores", "dont_know_masks", "category_labels"]


def score_matrix(frame: pd.DataFrame, questionnaire: "Questionnaire") -> dict[str, np.ndarray]:
    """Scores (1–5, NaN for not asked / not answered / 'ved ikke') of every likert question.

    Parameters
    ----------
    frame
        Respondents, one column per question (the design's ``frame``).
    questionnaire
        The codebook (``params.questionnaire``): which questions are on the 1–5 scale.
    """
    out = {}
    for q in questionnaire.likert:
        v = frame[q.id].to_numpy(dtype=float, na_value=np.nan)
        out[q.id] = np.where((v >= 1) & (v <= 5), v, np.nan)
    return out


def theme_scores(scores: dict[str, np.ndarray], questionnaire: "Questionnaire") -> dict[str, np.ndarray]:
    """Theme score per respondent under its outcome id (``tema_<theme>``).

    Notes
    -----
    For respondent :math:`i` and theme :math:`T` with questions :math:`Q_T`,
    :math:`s_{iT} = \\sum_{q \\in Q_T, y_{iq} \\text{ given}} y_{iq} / \\#\\{q \\in Q_T: y_{iq} \\text{ given}\\}`,
    missing when the respondent scored none of them. A theme of one question has no score of its own
    (it would be that question's score twice: :func:`theme_score_ids` names the question instead);
    themes without questions are left out.
    """
    out = {}
    for theme in questionnaire.themes:
        qs = [q.id for q in questionnaire.likert if q.theme == theme.id]
        if len(qs) < 2:
            continue
        m = np.column_stack([scores[q] for q in qs])
        with np.errstate(invalid="ignore"):
            cnt = (~np.isnan(m)).sum(axis=1)
            out[theme_outcome(theme.id)] = np.where(cnt > 0, np.nansum(m, axis=1) / np.maximum(cnt, 1), np.nan)
    return out


def theme_score_ids(questionnaire: "Questionnaire") -> dict[str, str]:
    """Per theme with 1–5 questions: the outcome id that carries its score — ``tema_<theme>`` for a
    theme of several questions, the question itself for a theme of one (shown once, not twice)."""
    out = {}
    for theme in questionnaire.themes:
        qs = [q.id for q in questionnaire.likert if q.theme == theme.id]
        if qs:
            out[theme.id] = theme_outcome(theme.id) if len(qs) > 1 else qs[0]
    return out


def outcome_scores(frame: pd.DataFrame, questionnaire: "Questionnaire") -> dict[str, np.ndarray]:
    """Every outcome the tables estimate: the questions' scores, then the theme scores."""
    scores = score_matrix(frame, questionnaire)
    return {**scores, **theme_scores(scores, questionnaire)}


def dont_know_masks(frame: pd.DataFrame, questionnaire: "Questionnaire") -> dict[str, np.ndarray]:
    """Per likert question: which respondents answered 'ved ikke/ikke relevant'."""
    return {q.id: frame[q.id].to_numpy(dtype=float, na_value=np.nan) == questionnaire.scales[q.scale].dont_know.code
            for q in questionnaire.likert}


def category_labels(questionnaire: "Questionnaire") -> dict[str, dict[int, str]]:
    """Per likert question: the Danish label of each score 1–5."""
    return {q.id: {c.score: c.label for c in questionnaire.scales[q.scale].categories} for q in questionnaire.likert}
