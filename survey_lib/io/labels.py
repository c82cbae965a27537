"""Recoding answer codes by their label text (SPSS value labels, the SurveyXact Labels sheet).

A file may number a question's options differently from the codebook (1 = 'I meget høj grad' where
the codebook scores it 5). Its labels say what each code means, so the codes are recoded by label
text. A label that is no category of the question would leave its code unread or, worse, read as the
codebook's code of that number: it is a fault naming the label received, the labels expected and the
closest one, and nothing is recoded by guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Mapping

from ..errors import Fault
from ..params import Question, Questionnaire

__all__ = ["LabelMismatch", "LabelRecoding", "normalise_label", "codebook_labels", "recode_by_labels",
           "mismatch_fault"]


def normalise_label(label: object) -> str:
    """Label text as compared: case-folded, surrounding and repeated whitespace removed."""
    return " ".join(str(label).casefold().split())


def codebook_labels(q: Question, questionnaire: Questionnaire) -> dict[str, tuple[str, int]]:
    """Normalised label -> (label as the codebook writes it, codebook code) for a likert or
    single-choice question; a likert scale's 'ved ikke' category included."""
    if q.kind == "likert":
        scale = questionnaire.scales[q.scale]
        pairs = [(c.label, c.score) for c in scale.categories] + [(scale.dont_know.label, scale.dont_know.code)]
    else:
        pairs = [(o.label, o.code) for o in q.options]
    return {normalise_label(label): (label, code) for label, code in pairs}


@dataclass(frozen=True)
class LabelMismatch:
    """One label of a file that is no category of its question."""

    code: object
    label: str
    expected: tuple[str, ...]
    closest: str | None


@dataclass(frozen=True)
class LabelRecoding:
    """The file's codes mapped to codebook codes, and the labels that matched no category."""

    mapping: dict[object, int]
    mismatches: tuple[LabelMismatch, ...]


def recode_by_labels(labels: Mapping[object, object], q: Question, questionnaire: Questionnaire) -> LabelRecoding:
    """Map each labelled code to the codebook code whose label has the same text.

    Labels are compared after :func:`normalise_label`; the closest expected label of a mismatch is
    found with :func:`difflib.get_close_matches` (ratio of matching characters at least 0.6)."""
    target = codebook_labels(q, questionnaire)
    expected = tuple(label for label, _ in target.values())
    mapping: dict[object, int] = {}
    mismatches = []
    for code, label in labels.items():
        hit = target.get(normalise_label(label))
        if hit is not None:
            mapping[code] = hit[1]
            continue
        close = difflib.get_close_matches(normalise_label(label), list(target), n=1, cutoff=0.6)
        mismatches.append(LabelMismatch(code, str(label), expected, target[close[0]][0] if close else None))
    return LabelRecoding(mapping, tuple(mismatches))


def mismatch_fault(m: LabelMismatch, file: str, column: str, question_id: str, fix: str) -> Fault:
    """The fault of one label that matches no category: the label, the labels expected, the closest."""
    code = int(m.code) if isinstance(m.code, float) and m.code.is_integer() else m.code
    closest = f"; the closest is {m.closest!r}" if m.closest else ""
    return Fault(file, "unknown_label",
                 f"the label {m.label!r} of code {code} is not a category of question {question_id!r}, so its "
                 f"answers cannot be recoded; expected one of {list(m.expected)}{closest}; {fix}",
                 None, column, m.label)
