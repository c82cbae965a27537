"""The theme dictionary: transparent patterns from ``params/freetext.yaml``, matched on tokens.

Pattern language (one pattern = words in a row):

- ``word``    the token equals the word;
- ``word*``   the token starts with the word;
- ``NEG``     a negation (ikke, ingen, aldrig, ...); the next word may follow within three tokens
              (a ``NEG`` at the end: the word right after the previous one is a negation);
- ``~...``    the pattern matches only where no negation stands within three tokens before it or
              two tokens after it ('hjalp mig' but not 'ingen hjalp mig', 'lyttede' but not
              'lyttede ikke').
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..pattern_syntax import parse_pattern
from .tokens import NEGATIONS, tokenize

if TYPE_CHECKING:        # numpy and pandas only where comments are coded: params check patterns without them
    import pandas as pd

__all__ = ["Pattern", "ThemeCoder", "precision_recall", "token_prefixes"]

WINDOW_BEFORE, WINDOW_AFTER, NEG_GAP = 3, 2, 3


def token_prefixes(tokens) -> frozenset[str]:
    """Every prefix of every token, the empty one included when there is a token: ``stem in
    token_prefixes(tokens)`` is ``any(t.startswith(stem) for t in tokens)``."""
    return frozenset(t[:k] for t in set(tokens) for k in range(len(t) + 1))


def _word_matches(spec: str, token: str) -> bool:
    return token.startswith(spec[:-1]) if spec.endswith("*") else token == spec


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern; ``text`` is how it is written in the params file."""

    text: str
    words: tuple[str, ...]
    not_negated: bool

    @classmethod
    def parse(cls, text: str) -> "Pattern":
        words, not_negated = parse_pattern(text)
        return cls(text, words, not_negated)

    def matches(self, tokens: list[str], token_set: frozenset[str] | None = None,
                prefixes: frozenset[str] | None = None) -> bool:
        """Whether the pattern occurs in ``tokens``; ``token_set`` (the tokens as a set) and
        ``prefixes`` (every prefix of every token, :func:`token_prefixes`) make the quick rejection
        of a text without the pattern's first word a set look-up (a coder matching many patterns
        against one text computes them once)."""
        first = self.words[0]
        if first != "NEG":          # quick rejection: the first word must occur at all
            if first.endswith("*"):
                stem = first[:-1]
                if prefixes is not None:
                    if stem not in prefixes:
                        return False
                elif not any(t.startswith(stem) for t in (token_set or tokens)):
                    return False
            elif first not in (token_set if token_set is not None else set(tokens)):
                return False
        elif not NEGATIONS.intersection(token_set if token_set is not None else tokens):
            return False
        n = len(tokens)
        for start in range(n):
            end = self._match_at(tokens, start)
            if end is None:
                continue
            if self.not_negated:
                before = tokens[max(0, start - WINDOW_BEFORE):start]
                after = tokens[end:end + WINDOW_AFTER]
                if any(t in NEGATIONS for t in before + after):
                    continue
            return True
        return False

    def _match_at(self, tokens: list[str], start: int) -> int | None:
        i = start
        k = 0
        while k < len(self.words):
            spec = self.words[k]
            if spec == "NEG":
                if i >= len(tokens) or tokens[i] not in NEGATIONS:
                    return None
                if k + 1 == len(self.words):
                    return i + 1
                nxt = self.words[k + 1]
                for j in range(i + 1, min(len(tokens), i + 1 + NEG_GAP)):
                    if _word_matches(nxt, tokens[j]):
                        i, k = j + 1, k + 2
                        break
                else:
                    return None
                continue
            if i >= len(tokens) or not _word_matches(spec, tokens[i]):
                return None
            i += 1
            k += 1
        return i


@dataclass(frozen=True)
class ThemeCoder:
    """Codes comments with themes.

    Parameters
    ----------
    patterns
        Theme id -> its compiled patterns (params order).
    """

    patterns: dict[str, tuple[Pattern, ...]]

    @classmethod
    def from_params(cls, themes: dict) -> "ThemeCoder":
        return cls({tid: tuple(Pattern.parse(p) for p in t.patterns) for tid, t in themes.items()})

    def themes_of(self, text: str) -> list[str]:
        """The themes whose patterns match ``text`` (params order)."""
        tokens = tokenize(text)
        present, prefixes = frozenset(tokens), token_prefixes(tokens)
        return [tid for tid, pats in self.patterns.items() if any(p.matches(tokens, present, prefixes) for p in pats)]

    def __call__(self, comments: pd.Series) -> pd.DataFrame:
        """One boolean column per theme, indexed like ``comments`` (missing comments: all False)."""
        import numpy as np
        import pandas as pd

        out = np.zeros((len(comments), len(self.patterns)), dtype=bool)
        ids = list(self.patterns)
        seen: dict[str, list[str]] = {}       # the same text is coded once ('Nej', 'Ingen kommentarer', ...)
        for i, text in enumerate(comments.to_numpy(dtype=object)):
            if isinstance(text, str) and text.strip():
                found = seen[text] if text in seen else seen.setdefault(text, self.themes_of(text))
                for tid in found:
                    out[i, ids.index(tid)] = True
        return pd.DataFrame(out, index=comments.index, columns=ids)


def precision_recall(coded: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per theme: true positives, predicted, actual, precision and recall (``coded`` and ``truth``
    are boolean frames with the same index and theme columns)."""
    import pandas as pd

    rows = []
    for t in truth.columns:
        pred = coded[t] if t in coded.columns else pd.Series(False, index=truth.index)
        tp = int((pred & truth[t]).sum())
        rows.append({"theme": t, "true_positives": tp, "coded": int(pred.sum()), "actual": int(truth[t].sum()),
                     "precision": tp / pred.sum() if pred.sum() else float("nan"),
                     "recall": tp / truth[t].sum() if truth[t].sum() else float("nan")})
    return pd.DataFrame(rows)
