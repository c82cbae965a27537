"""A second look at published text, independent of the scrubber.

The leak audit must not be blind to what the scrubber misses, so nothing here is shared with
``survey_lib.privacy.scrub``: no pattern, no name list, no normalisation. The detectors are
deliberately broader and simpler than the scrubber's rules:

- ``cpr``: any 10 digits in groups joined by single separators (any Unicode space, any dash, ``/``,
  also ``' - '``) whose first six form a valid day and month (DDMM; YY any). No checksum, no
  grouping rule: ``0706915678``, ``070691 5678``, ``07 06 91 56 78``, ``070691/5678`` all count.
- ``telefon``: any 8 digits in such groups (each group at least two digits), unless the groups are a
  date (``2023-03-12``, ``12-03-2023``) or two years (``2022 2023``).
- ``email``: ``something@something.tld``.
- ``proper_noun``: in published free text (comments and the words drawn from them), a capitalised
  word that is not at the start of a sentence or a cell and whose lowercase form the comments never
  use (nor the list of known words: municipalities, public institutions); in the word lists
  (lowercase terms), a word that the comments write capitalised inside sentences and never in
  lowercase, or that no comment holds at all.

A group of digits is never part of a longer run of letters or digits, nor a decimal number
(``3.852341234``): the chain must not touch a letter, a digit, or ``.``/``,`` followed by a digit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["digit_findings", "email_findings", "CommentVocabulary", "proper_nouns", "unknown_terms",
           "KNOWN_WORDS"]

_SPACE = "[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
_DASH = "[-\u2010-\u2015\u2212\ufe58\ufe63\uff0d/]"
_JOIN = f"(?:{_SPACE}?{_DASH}{_SPACE}?|{_SPACE})"
_CHAIN = re.compile(rf"(?<![^\W_])(?<!\d[.,])\d+(?:{_JOIN}\d+)*(?![^\W_])(?![.,]\d)")
_GROUP = re.compile(r"\d+")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_EMAIL = re.compile(r"[^\s@<>\"'(),;:\[\]]+@[^\W_][\w-]*(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")


def _valid_ddmm(digits: str) -> bool:
    day, month = int(digits[:2]), int(digits[2:4])
    return 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1]


def _is_date_or_years(groups: list[str], joins: list[str]) -> bool:
    sizes = [len(g) for g in groups]
    if sizes == [4, 4]:
        return all(g[:2] in ("19", "20") for g in groups)
    if sizes in ([4, 2, 2], [2, 2, 4]):
        year, a, b = (groups[0], groups[1], groups[2]) if sizes[0] == 4 else (groups[2], groups[1], groups[0])
        return year[:2] in ("19", "20") and 1 <= int(a) <= 12 and 1 <= int(b) <= 31 and any(
            j.strip() for j in joins)
    return False


def digit_findings(text: str) -> list[tuple[str, str]]:
    """``(kind, value)`` for every CPR-like and phone-like number in ``text`` (see the module)."""
    out: list[tuple[str, str]] = []
    for m in _CHAIN.finditer(text):
        chain = m.group(0)
        spans = [g.span() for g in _GROUP.finditer(chain)]
        groups = [chain[a:b] for a, b in spans]
        joins = [chain[spans[i][1]:spans[i + 1][0]] for i in range(len(spans) - 1)]
        taken_until = -1
        for i in range(len(groups)):
            if i <= taken_until:
                continue
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j]
                if len(digits) > 10:
                    break
                sub = groups[i:j + 1]
                if len(digits) == 10 and _valid_ddmm(digits):
                    out.append(("cpr", chain[spans[i][0]:spans[j][1]]))
                    taken_until = j
                    break
                if (len(digits) == 8 and all(len(g) >= 2 for g in sub)
                        and not _is_date_or_years(sub, joins[i:j])
                        and not (j + 1 < len(groups) and len(digits + groups[j + 1]) == 10
                                 and _valid_ddmm(digits + groups[j + 1]))):
                    out.append(("telefon", chain[spans[i][0]:spans[j][1]]))
                    taken_until = j
                    break
    return out


def email_findings(text: str) -> list[str]:
    """Every e-mail-like address in ``text``."""
    return _EMAIL.findall(text) if "@" in text else []


# ---- proper nouns ------------------------------------------------------------------------------------
#: Lowercase forms of capitalised words that are no personal data: public institutions and services,
#: the country. The municipalities' names are added by the audit from the params.
KNOWN_WORDS = frozenset("""
jobcenter jobcentret jobcenteret jobcentre jobcentrets kommune kommunen kommunens jobnet mitid nemid
danmark borger.dk e-boks a-kasse a-kassen a-kassens udbetaling ydelseskontoret ydelsesservice star
skat sundhed.dk region regionen regionens dagpenge kontanthjælp sygedagpenge ressourceforløb
flexjob ledighedsydelse uddannelseshjælp jobafklaring jobafklaringsforløb revalidering fleksjob
""".split())

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_CAPITAL = re.compile(r"[A-ZÆØÅÄÖÜÉ][a-zæøåäöüéèáóíú]+(?:-[A-ZÆØÅÄÖÜÉa-zæøåäöüéèáóíú][a-zæøåäöüéèáóíú]+)*")
_SENTENCE_END = ".!?:;\n\r"
_OPENING = " \t\u00a0\"'«»“”„‘’([{*•-–—"


def _sentence_initial(text: str, start: int) -> bool:
    j = start - 1
    while j >= 0 and text[j] in _OPENING:
        j -= 1
    return j < 0 or text[j] in _SENTENCE_END


@dataclass(frozen=True)
class CommentVocabulary:
    """What the comments themselves say about their words (all lowercase forms).

    Attributes
    ----------
    lower : frozenset of str
        Words the comments write in lowercase somewhere (ordinary words), with :data:`KNOWN_WORDS`
        and the extra known words.
    seen : frozenset of str
        Every word of the comments, however written, and the known words.
    proper : frozenset of str
        Words the comments write capitalised inside a sentence and never in lowercase: names.
    """

    lower: frozenset[str]
    seen: frozenset[str]
    proper: frozenset[str]

    @classmethod
    def from_texts(cls, texts: Iterable[str], known: Iterable[str] = ()) -> CommentVocabulary:
        """Build the vocabulary from the comments (as published: scrubbed) and extra known words
        (e.g. the municipalities' names, split into words)."""
        lower: set[str] = set(KNOWN_WORDS)
        for k in known:
            lower.update(w.lower() for w in _WORD.findall(str(k)))
        seen: set[str] = set(lower)
        inside: set[str] = set()
        for t in texts:
            t = str(t)
            for m in _WORD.finditer(t):
                w = m.group(0)
                if w.islower():
                    lower.add(w)
                else:
                    seen.add(w.lower())
                    if w[0].isupper() and not _sentence_initial(t, m.start()):
                        inside.add(w.lower())
        return cls(frozenset(lower), frozenset(seen | lower), frozenset(inside - lower))


def _known(word: str, words: frozenset[str]) -> bool:
    w = word.lower()
    return w in words or (w.endswith("s") and w[:-1] in words)


def proper_nouns(text: str, vocab: CommentVocabulary) -> list[str]:
    """Capitalised words of ``text`` that are not sentence-initial and that the comments never write
    in lowercase (nor the known words): names, as far as the comments can tell."""
    out = []
    for m in _CAPITAL.finditer(text):
        if m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "[_"):
            continue
        if _known(m.group(0), vocab.lower) or _sentence_initial(text, m.start()):
            continue
        out.append(m.group(0))
    return out


def unknown_terms(term: str, vocab: CommentVocabulary) -> list[str]:
    """Words of a (lowercase) term of a word list that are names by the comments' own usage
    (capitalised inside sentences, never in lowercase) or that no comment holds at all."""
    return [w for w in _WORD.findall(str(term))
            if (_known(w, vocab.proper) and not _known(w, vocab.lower)) or not _known(w, vocab.seen)]
