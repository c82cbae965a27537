"""Danish tokens, stopwords that keep negations, and Snowball stems (offline, no model download)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["tokenize", "Vocabulary", "NEGATIONS"]

_WORD = re.compile(r"\[[A-ZÆØÅ]+\]|[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
NEGATIONS = frozenset({"ikke", "ingen", "intet", "aldrig", "ingenting", "hverken", "uden", "slet", "ej"})


def tokenize(text: str) -> list[str]:
    """Lower-case words of ``text`` (letters and hyphens; numbers and punctuation dropped).
    Scrubber markers (``[NAVN]``) are kept as one token so that they can be left out."""
    return [w.lower() for w in _WORD.findall(text or "")]


@lru_cache(maxsize=4)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("danish")


@dataclass(frozen=True)
class Vocabulary:
    """Stopwords (never including the words to keep) and a stem cache.

    Parameters
    ----------
    stopwords
        Function words left out of counts.
    keep
        Words never left out, even if listed as stopwords (negations: 'ikke', 'ingen', ...).
    """

    stopwords: frozenset[str]
    keep: frozenset[str]

    @classmethod
    def from_params(cls, freetext) -> "Vocabulary":
        """From the free-text params (``stopwords``, ``keep``): lower-cased, and a word to keep is
        never a stopword."""
        keep = frozenset(w.lower() for w in freetext.keep)
        return cls(frozenset(w.lower() for w in freetext.stopwords) - keep, keep)

    def content_words(self, tokens: list[str]) -> list[str]:
        """Tokens without stopwords and scrubber markers; negations stay."""
        return [t for t in tokens if not t.startswith("[") and (t in self.keep or t not in self.stopwords)]

    @staticmethod
    @lru_cache(maxsize=100_000)
    def stem(word: str) -> str:
        """The Snowball (Danish) stem of ``word`` (cached: a corpus has few distinct words)."""
        return _stemmer().stemWord(word)
