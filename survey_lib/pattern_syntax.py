"""The syntax of a theme pattern in ``params/freetext.yaml`` (parsed when the params load).

A pattern is one or more words in a row: ``word``, ``word*`` (prefix), ``NEG`` (a negation), with an
optional ``~`` in front (only where not negated). Matching lives in
:mod:`survey_lib.freetext.themes`; this module only reads the text, so that the params loader can
report a bad pattern with its file and key without importing the free-text analysis.
"""

from __future__ import annotations

__all__ = ["parse_pattern"]


def parse_pattern(text: str) -> tuple[tuple[str, ...], bool]:
    """The words (lower case, ``NEG`` kept) and whether the pattern is ``~`` (not negated).

    Raises ValueError naming the pattern and the expected form."""
    raw = text.strip()
    not_negated = raw.startswith("~")
    words = tuple(w.lower() if w != "NEG" else w for w in raw.lstrip("~").split())
    if not words or words == ("NEG",) or any(w in ("*", "~") for w in words):
        raise ValueError(f"theme pattern {text!r}: expected one or more words ('word', 'word*', 'NEG word', "
                         "optionally '~' in front); see the comment above 'themes' in freetext.yaml")
    return words, not_negated
