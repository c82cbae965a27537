"""Free-text scrubber: personal data in Danish survey comments is replaced by markers.

Before a comment reaches a notebook, a table or an HTML page, every CPR number, Danish phone number,
e-mail address, web address, street address, case number (after ``sagsnr.``/``journalnr.``) and
personal name found in it is replaced by a marker:

=========  ==============  ===========================================================================
kind       marker          what is recognised
=========  ==============  ===========================================================================
cpr        ``[CPR]``       DDMMYY-SSSS with nothing, spaces, ``-`` or ``/`` (``' - '``) between, the
                           date also as ``DD MM YY``/``DD-MM-YY``/``DD/MM/YY``, the serial also as
                           ``SS SS``; the date must be valid (31 days only in 31-day months, 29
                           February allowed); no modulus-11 check
telefon    ``[TELEFON]``   8 digits as ``12345678``, ``12 34 56 78``, ``1234 5678``, ``12 34 5678``,
                           ``1234 56 78``, ``12 3456 78``, optionally after ``+45``/``0045``/``(+45)``;
                           not next to ``kr``/``DKK``, not two years, not a date written with spaces
email      ``[EMAIL]``     ``local@domain.tld``
web        ``[WEB]``       ``http(s)://...``, ``www....``, bare domains ending in .dk .com .net .org
                           .eu .info .io .fo .gl .biz
adresse    ``[ADRESSE]``   capitalised street name ending in -gade/-vej/-allé/-stræde/-plads/-torv/
                           -vænget/... (or a separate Vej/Gade/Plads/... word) + house number, with
                           optional letter, floor/side (``14B, 2. tv``) and postcode + town
sagsnr     ``[SAGSNR]``    the identifier after ``sagsnr.``/``sagsnummer``/``journalnr.``/``j.nr.``
                           (the keyword itself stays)
navn       ``[NAVN]``      first names and surnames of the shipped list ``data/names_da.csv``
=========  ==============  ===========================================================================

Name rule: a run of two or more capitalised tokens that are all names (hyphenated parts each a
name; a middle initial such as ``C.`` allowed; a capitalised token ending in -sen/-gaard/-gård may
extend a run started by a listed name; up to two unlisted capitalised words extend a run started by
a first name that is not an ambiguous word at the start of a sentence: ``Ulla Hvidberg``) is one
``[NAVN]``. After a title or role word (``sagsbehandler``, ``min rådgiver``, ``hr.``, ``hedder``, ...;
only spaces between) a capitalised word is a name even when unlisted (``sagsbehandler Kjærsgaard``).
Words of :data:`_NOT_NAME` (pronouns, institutions, weekdays, months) never join a name by these two
rules. A single capitalised name is replaced
unless it is *ambiguous* (its lowercase form is an ordinary Danish word: Per, Bo, Hans, ...) and
stands at the start of a sentence. Possessives (``Mettes``, ``Lars'``, ``Mette's``) are replaced whole.
Lowercase and ALL-CAPS names are not recognised (known limit).

Every detector sees a normalised copy of the text (:func:`_normalise`: Unicode spaces and dashes
as ' ' and '-', invisible characters removed, combining marks composed); findings are mapped back to
the original, which keeps its other characters.

Detectors run in a fixed priority order (email, web, cpr, sagsnr, telefon, adresse, navn), each on
the text with the earlier markers in place, so text claimed by an earlier detector is never claimed
again and the result is deterministic; the cascade repeats until nothing new is found, which makes
scrubbing idempotent (``scrub(scrub(x)) == scrub(x)``).

``PATTERNS`` exposes the compiled detection patterns for ``cpr``, ``telefon``, ``email`` and ``web``
(for normalised text); they never fire inside a longer run of word characters or digits (hex
digests, base64, floats such as ``0.0101901234``). The leak audit does not use them: it has its own
detectors (:mod:`survey_lib.privacy.detectors`), so it is not blind where the scrubber is.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = [
    "KINDS", "MARKERS", "PATTERNS", "Finding", "Scrubbed", "Scrubber", "default_scrubber", "scrub_text",
    "scrub_series", "load_names", "cpr_spans",
]

KINDS: tuple[str, ...] = ("cpr", "telefon", "email", "web", "adresse", "sagsnr", "navn")
MARKERS: dict[str, str] = {
    "cpr": "[CPR]", "telefon": "[TELEFON]", "email": "[EMAIL]", "web": "[WEB]", "adresse": "[ADRESSE]",
    "sagsnr": "[SAGSNR]", "navn": "[NAVN]",
}
# Order in which the detectors run (each sees the markers of the ones before it).
_PRIORITY: tuple[str, ...] = ("email", "web", "cpr", "sagsnr", "telefon", "adresse", "navn")

_UP = "A-ZÆØÅÄÖÜÉÈÁÓÍÚ"
_LO = "a-zæøåäöüéèáóíúëïâêôçñ"

# Not inside a longer run: no word character before, and no 'digit + . or ,' before (floats, amounts);
# after: no word character and no '. or , + digit'.
_BEFORE = r"(?<!\w)(?<!\d[.,])"
_AFTER = r"(?!\w)(?![.,]\d)"

# Day and month that form a valid date (29 February allowed: the century is unknown from YY).
_DDMM = (r"(?:(?:0[1-9]|[12]\d|3[01])(?:0[13578]|1[02])"
         r"|(?:0[1-9]|[12]\d|30)(?:0[469]|11)"
         r"|(?:0[1-9]|1\d|2\d)02)")
# The same with a separator between day and month: '07 06 91', '07-06-91', '07/06/91'.
_DD_MM = (r"(?:(?:0[1-9]|[12]\d|3[01])(?P=g)(?:0[13578]|1[02])"
          r"|(?:0[1-9]|[12]\d|30)(?P=g)(?:0[469]|11)"
          r"|(?:0[1-9]|1\d|2\d)(?P=g)02)")
# Patterns run on normalised text (see _normalise): every Unicode space is ' ', every dash '-'.
# Between date and serial: nothing, spaces, or '-'/'/' with optional spaces ('070691 - 5678').
_CPR_SEP = r"(?:[ ]{0,2}[-/][ ]{0,2}|[ ]{1,3})"
_CPR_SERIAL_PAIRS = r"\d{2}(?:[ ]?[-/][ ]?|[ ])\d{2}"          # '56 78', '56-78'
_CPR_RE = (_BEFORE + r"(?:" + _DDMM + r"\d{2}(?:" + _CPR_SEP + r"?\d{4}|" + _CPR_SEP + _CPR_SERIAL_PAIRS + r")"
           + r"|(?=\d\d(?P<g>[ ]?[-/][ ]?|[ ])\d\d(?P=g)\d\d)" + _DD_MM + r"(?P=g)\d{2}" + _CPR_SEP
           + r"(?:\d{4}|" + _CPR_SERIAL_PAIRS + r"))" + _AFTER)

# Eight digits as Danes write them: 26374859, 26 37 48 59 (also '.'/'-'), 2637 4859, 26 37 4859,
# 2637 48 59, 26 3748 59; optionally after +45, 0045, (+45). Groupings other than pairs take spaces
# only (dashes and dots there are dates: 2023-03-12, 12.03.2023).
_PHONE_RE = (_BEFORE + r"(?<!\+)"
             r"(?:(?:\+|00)[ ]?45[ -]?|\(\+?45\)[ ]?)?"
             r"(?:\d{8}|\d{2}(?:[ .-]\d{2}){3}|\d{4}[ ]\d{4}|\d{2}[ ]\d{2}[ ]\d{4}|\d{4}[ ]\d{2}[ ]\d{2}"
             r"|\d{2}[ ]\d{4}[ ]\d{2})" + _AFTER)

_EMAIL_RE = (r"(?<![\w.+-])[\w.+-]*\w@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*"
             r"\.[^\W\d_]{2,}(?![\w-])(?!\.\w)")

_BARE_TLD = r"(?:dk|com|net|org|eu|info|io|fo|gl|biz)"
_URL_CHARS = r"[^\s<>\"'\[\]{}|\\^`]"
_URL_END = r"[^\s<>\"'\[\]{}|\\^`.,;:!?)]"
_WEB_RE = (r"(?i:https?://" + _URL_CHARS + r"*" + _URL_END
           + r"|(?<![\w@.-])www\.[^\W_][\w-]*(?:\.[\w-]+)+(?:/" + _URL_CHARS + r"*" + _URL_END + r"|/)?"
           + r"|(?<![\w@./-])(?:[^\W_](?:[\w-]*[^\W_])?\.)+" + _BARE_TLD + r"(?![\w-])(?!\.\w)"
           + r"(?:/" + _URL_CHARS + r"*" + _URL_END + r"|/)?)")

PATTERNS: dict[str, re.Pattern[str]] = {
    "cpr": re.compile(_CPR_RE),
    "telefon": re.compile(_PHONE_RE),
    "email": re.compile(_EMAIL_RE),
    "web": re.compile(_WEB_RE),
}

# ---- street addresses ------------------------------------------------------------------------------
_SUFFIXES = sorted(set("""
gade gaden vej vejen allé alle alléen stræde strædet plads pladsen torv torvet vænge vænget have haven
park parken boulevard bakke bakken bakkerne høj højen toft toften løkke løkken marken engen lunden stien
sti kær kæret vang vangen dalen hegnet krogen gården skoven stranden holmen kaj kajen passage promenade
kvarter ager agre ageren leddet banke banken tofte enge vangen ringen
""".split()), key=len, reverse=True)
_STANDALONE = "Vej|Vejen|Gade|Allé|Plads|Torv|Stræde|Boulevard|Vænge|Vænget|Park|Bakke|Have|Kaj|Passage"
_PREFIX_WORD = (rf"(?:Gammel|Gl\.|Ny|Nye|Store|St\.|Lille|Ll\.|Nørre|Ndr\.|Søndre|Sdr\.|Vestre|Østre|Nedre"
                rf"|Øvre|Sankt|Skt\.|Kong|Dronning|Prins|Prinsesse|(?:[{_UP}]\.[ ]?)+|[{_UP}][{_LO}]+s)")
_STREET = (rf"(?:{_PREFIX_WORD}[ ]+){{0,3}}"
           rf"(?:[{_UP}][{_LO}]+?(?:{'|'.join(_SUFFIXES)})"
           rf"|[{_UP}][{_LO}]+s?[ ]+(?:{_STANDALONE}))(?![\w-])")
_HOUSE = r"[ ]+(?:nr\.?[ ]*)?\d{1,4}(?!\d)(?![.,]\d)(?:[-–]\d{1,4}(?!\d))?(?:[A-Za-z](?!\w)|[ ][A-Z](?!\w))?"
# Floor and side; a match never ends in '.', so that a sentence end after the address stays visible.
_FLOOR = (r"(?:,?[ ]*(?:\d{1,2}\.?|st\.?|kl\.?)[ ]*(?:tv|th|mf|t\.v|t\.h)(?!\w)"
          r"|,[ ]*(?:\d{1,2}\.[ ]*sal|st|stuen|kl|kld)(?!\w))?")
_TOWN = (rf"(?:,?[ ]*[1-9]\d{{3}}[ ]+[{_UP}][{_LO}]+(?:-[{_UP}][{_LO}]+)*"
         rf"(?:[ ](?:C|K|V|Ø|N|S|SV|NV|SØ|NØ)(?!\w))?)?")
_ADDRESS = re.compile(rf"(?<![\w-]){_STREET}{_HOUSE}{_FLOOR}{_TOWN}(?!\w)")

# ---- case numbers: the identifier after the keyword -----------------------------------------------
_CASE = re.compile(
    r"(?i)(?<!\w)(?:sags?-?(?:nr|nummer)|journal-?(?:nr|nummer)|j\.[ ]?nr|jnr|jour\.[ ]?nr)(?!\w)\.?"
    r"[ \t]*(?:[:#][ \t]*|(?:er|på)[ \t]+)?"
    r"(?P<id>(?=[\w./-]*\d)\w[\w./-]*\w|\d)")

# ---- names ------------------------------------------------------------------------------------------
_NAME_TOKEN = re.compile(rf"(?<![\w'’-])([{_UP}][{_LO}]+(?:-[{_UP}][{_LO}]+)*)(['’]s?)?(?!\w)")
_RUN_GAP = re.compile(rf"[ \t]+(?:[{_UP}]\.[ \t]+)?")
_SURNAME_LIKE = re.compile(rf"[{_UP}][{_LO}]{{2,}}(?:sen|sson|gaard|gård)")
# 'Sankt Hans' (midsummer) and the like: a name right after these words is no person.
_NOT_PERSON_BEFORE = re.compile(r"(?:Sankt|Skt\.|Set\.)[ \t]+$")
_OPENERS = frozenset(" \t\"'«»“”„‘’(*•–—-")
_SENTENCE_END = frozenset(".!?:;\n\r")

# Titles and roles: a capitalised word right after one of these is a name, listed or not
# ('sagsbehandler Kjærsgaard', 'min rådgiver Jensen', 'hr. Holm', 'hun hedder Brøndum').
_ROLE_STEMS = (
    "sagsbehandler", "rådgiver", "konsulent", "vejleder", "mentor", "kontaktperson", "koordinator", "leder",
    "chef", "medarbejder", "psykolog", "psykiater", "læge", "sygeplejerske", "terapeut", "underviser", "lærer",
    "coach", "bisidder", "advokat", "tovholder", "formidler", "receptionist", "borgmester", "direktør",
    "instruktør", "assistent", "pædagog", "praktikant", "kollega", "kontaktmand",
)
_ROLE_BEFORE = re.compile(
    r"(?i)(?<![\w-])(?:(?:[a-zæøå]*(?:" + "|".join(_ROLE_STEMS) + r")(?:en|e|ne|er|erne|ens|s)?"
    r"|fru|doktor|hedder|hed|kaldet|ved[ ]navn)|(?:hr|frk|dr)\.?)[ ]+$")
# Capitalised words that are not names even after a title or a first name (pronouns, words written
# with a capital by mistake, institutions, days and months).
_NOT_NAME = frozenset("""
Jeg Du Han Hun Vi De Den Det Der Dem Din Dit Mig Dig Sig Min Mit Og Men Eller Som Hvis Når Så Da Nu Her Og
Også Ikke Jo Ja Nej Tak Hej Kære Mvh Er Var Har Havde Blev Kan Vil Skal Må Fik Får Med Til Fra For Om På
Af Ved Efter Før Hos Uden Over Under Igen Altid Aldrig Meget Lidt God Godt Dårlig Dårligt Alle Ingen
Jobcenter Jobcentret Jobcenteret Jobcentre Kommune Kommunen Kommunens Borgerservice Jobnet Danmark
Udbetaling Ydelseskontoret Ydelsesservice Sygedagpenge Dagpenge Kontanthjælp Ressourceforløb A-kasse
A-kassen Fagforening Fagforeningen Region Regionen Staten Styrelsen Forløbet Samtalen Jobsamtalen
Mandag Tirsdag Onsdag Torsdag Fredag Lørdag Søndag Januar Februar Marts April Maj Juni Juli August
September Oktober November December Jul Påske
""".split())
# At most this many unlisted capitalised words extend a run started by a first name or a title.
_MAX_UNLISTED = 2

# ---- Unicode normalisation before matching --------------------------------------------------------
# Text as people really write it (copied from Word, a phone, a PDF) has no-break and narrow spaces,
# en and em dashes, soft hyphens and decomposed letters. Matching runs on a normalised copy; the
# findings are mapped back to the original, whose other characters are kept as they were.
_SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
_TRANSLATION = {ord(c): " " for c in _SPACES} | {ord(c): "-" for c in _DASHES}
# Cheap pre-test: only texts with one of these (or a combining diacritical mark) need normalising.
_SPECIAL = re.compile("[" + _SPACES + _DASHES + "".join(_INVISIBLE) + "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff"
                      "\u20d0-\u20ff\ufe20-\ufe2f]")


def _normalise(text: str) -> tuple[str, list[int] | None]:
    """``text`` with every Unicode space as ' ', every dash as '-', invisible characters (soft hyphen,
    zero-width space, BOM) removed and combining diacritical marks composed (NFC, 'a' + ring -> 'å').

    Returns the normalised text and, when its length differs from the original's, the original
    position of each of its characters (None: position i is position i)."""
    if _SPECIAL.search(text) is None:
        return text, None
    chars: list[str] = []
    where: list[int] = []
    for i, c in enumerate(text):
        if c in _INVISIBLE:
            continue
        if chars and unicodedata.combining(c):
            merged = unicodedata.normalize("NFC", chars[-1] + c)
            if len(merged) == 1:
                chars[-1] = merged
                continue
        chars.append(c)
        where.append(i)
    norm = "".join(chars).translate(_TRANSLATION)
    return norm, (None if len(norm) == len(text) else where)


def _original_span(where: list[int] | None, length: int, start: int, end: int) -> tuple[int, int]:
    """A span of the normalised text as a span of the original (``length``: the original's)."""
    if where is None:
        return start, end
    return where[start], (where[end] if end < len(where) else length)


# ---- amounts and years next to phone-like numbers ---------------------------------------------------
_MONEY_BEFORE = re.compile(r"(?i)(?:\bkr\.?|\bdkk|\bkroner)[ \t]*$")
_MONEY_AFTER = re.compile(r"(?i)^[ \t]*(?:kr\b|kr\.|kroner\b|dkk\b|,-)")
_TWO_YEARS = re.compile(r"(?:19|20)\d\d[ \t](?:19|20)\d\d")
# A date written with spaces (12 03 2023, 2023 03 12) is no phone number.
_SPACED_DATE = re.compile(r"(?:0[1-9]|[12]\d|3[01]) (?:0[1-9]|1[0-2]) (?:19|20)\d\d"
                          r"|(?:19|20)\d\d (?:0[1-9]|1[0-2]) (?:0[1-9]|[12]\d|3[01])")
_DIGIT = re.compile(r"\d")
# Cheap pre-test: the web pattern can only match where one of these occurs.
_WEB_HINT = re.compile(r"(?i)://|www\.|\." + _BARE_TLD + r"(?![\w-])")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found in a text.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    start, end : int
        Span in the *original* text (``text[start:end] == self.text``).
    text : str
        The text that was replaced.
    """

    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Scrubbed:
    """Result of scrubbing one text.

    Attributes
    ----------
    text : str
        The text with every finding replaced by its marker (:data:`MARKERS`).
    findings : tuple of Finding
        What was replaced, in text order.
    """

    text: str
    findings: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        """True when at least one piece of personal data was replaced."""
        return bool(self.findings)


def _sentence_start(text: str, start: int) -> bool:
    """True when only openers (spaces, quotes, brackets, bullets) separate ``start`` from a sentence end."""
    j = start - 1
    while j >= 0 and text[j] in _OPENERS:
        j -= 1
    return j < 0 or text[j] in _SENTENCE_END


_MAX_PASSES = 4


def _render(text: str, findings: list[Finding]) -> tuple[str, list[tuple[int, int, int]]]:
    """``text`` with the findings (sorted, disjoint) replaced by markers.

    Also returns the unreplaced pieces as ``(rendered_start, original_start, length)``.
    """
    if not findings:
        return text, [(0, 0, len(text))]
    out: list[str] = []
    pieces: list[tuple[int, int, int]] = []
    pos = 0
    rpos = 0
    for f in findings:
        pieces.append((rpos, pos, f.start - pos))
        out.append(text[pos:f.start])
        rpos += f.start - pos
        marker = MARKERS[f.kind]
        out.append(marker)
        rpos += len(marker)
        pos = f.end
    pieces.append((rpos, pos, len(text) - pos))
    out.append(text[pos:])
    return "".join(out), pieces


def _to_original(pieces: list[tuple[int, int, int]], start: int, end: int) -> tuple[int, int] | None:
    """Map a span of the rendered text back to the original; None if it touches a marker or is empty."""
    if end <= start:
        return None
    for rstart, ostart, length in pieces:
        if rstart <= start and end <= rstart + length:
            return ostart + start - rstart, ostart + end - rstart
    return None


@dataclass(frozen=True)
class Scrubber:
    """A scrubber with its own name sets.

    Parameters
    ----------
    first_names, last_names : iterable of str
        Names in their usual capitalisation (``"Mette"``, ``"Jensen"``, ``"Anne-Marie"``).
    ambiguous : iterable of str
        Names whose lowercase form is an ordinary word (``"Per"``, ``"Bo"``, ``"Hans"``): a single one
        at the start of a sentence is left alone. Names listed here count as names even when missing
        from ``first_names``/``last_names``.

    Attributes
    ----------
    names : frozenset of str
        All names (first, last and ambiguous), derived.

    Examples
    --------
    >>> s = Scrubber(first_names={"Mette", "Per"}, last_names={"Jensen"}, ambiguous={"Per"})
    >>> s("Jeg talte med Mette Jensen og Per.").text
    'Jeg talte med [NAVN] og [NAVN].'
    >>> s("Per uge havde jeg to møder.").text
    'Per uge havde jeg to møder.'
    """

    first_names: frozenset[str] = field(default_factory=frozenset)
    last_names: frozenset[str] = field(default_factory=frozenset)
    ambiguous: frozenset[str] = field(default_factory=frozenset)
    names: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("first_names", "last_names", "ambiguous"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        object.__setattr__(self, "names", self.first_names | self.last_names | self.ambiguous)

    @classmethod
    def from_csv(cls, source: str | Path | Iterable[str]) -> Scrubber:
        """Build a scrubber from a name list in the format of ``names_da.csv``.

        Parameters
        ----------
        source : str, Path or iterable of str
            A path, or the lines of the CSV (``#`` comment lines are skipped; columns ``name``,
            ``kind`` = first|last|both, ``ambiguous`` = 0/1).
        """
        first, last, amb = load_names(source)
        return cls(first_names=first, last_names=last, ambiguous=amb)

    # -- names ---------------------------------------------------------------------------------------
    def _is_name(self, word: str) -> bool:
        return word in self.names or ("-" in word and all(p in self.names for p in word.split("-")))

    def _is_first_name(self, word: str) -> bool:
        return all(p in self.first_names for p in word.split("-"))

    def _token(self, word: str, apostrophe: str | None) -> tuple[str, bool, bool]:
        """Classify a capitalised token: ('first' | 'name' | 'surname' | 'other' | '', ambiguous,
        possessive). 'other': capitalised, unlisted and not in :data:`_NOT_NAME` (a name only after a
        title or a first name); '': never part of a name."""
        stem = word[:-1] if not apostrophe and len(word) > 2 and word.endswith("s") else None
        if self._is_name(word):
            return ("first" if self._is_first_name(word) else "name"), word in self.ambiguous, bool(apostrophe)
        if stem and self._is_name(stem):
            return ("first" if self._is_first_name(stem) else "name"), stem in self.ambiguous, True
        if word in _NOT_NAME or (stem and stem in _NOT_NAME):
            return "", False, False
        if not apostrophe and _SURNAME_LIKE.fullmatch(word):
            return "surname", False, False
        if stem and _SURNAME_LIKE.fullmatch(stem):
            return "surname", False, True
        return "other", False, bool(apostrophe)

    def _names(self, text: str) -> list[tuple[int, int]]:
        """Spans of personal names in ``text`` (name rule in the module docstring)."""
        spans: list[tuple[int, int]] = []
        # start, end, role, ambiguous, possessive; 'titled': the run follows a title or role word
        run: list[tuple[int, int, str, bool, bool]] = []
        state = {"titled": False, "lead": False}

        def close() -> None:
            if run:
                start, end, _, amb, _ = run[0]
                if len(run) >= 2 or state["titled"] or not amb or not _sentence_start(text, start):
                    spans.append((start, run[-1][1]))
            run.clear()
            state["titled"] = state["lead"] = False

        for m in _NAME_TOKEN.finditer(text):
            role, amb, poss = self._token(m.group(1), m.group(2))
            if role and _NOT_PERSON_BEFORE.search(text, max(0, m.start() - 8), m.start()):
                role = ""
            if not role:
                close()
                continue
            joins = bool(run) and not run[-1][4] and _RUN_GAP.fullmatch(text, run[-1][1], m.start()) is not None
            if not joins:
                close()
            if not run:
                titled = _ROLE_BEFORE.search(text, max(0, m.start() - 40), m.start()) is not None
                if role in ("surname", "other") and not titled:
                    continue
                state["titled"] = titled
                # an unambiguous first name (or any first name inside a sentence) may carry an unlisted surname
                state["lead"] = titled or (role == "first" and not (amb and _sentence_start(text, m.start())))
            elif role == "surname" and not (state["lead"] or any(t[2] in ("first", "name") for t in run)):
                close()
                continue
            elif role == "other" and not (state["lead"] and sum(t[2] == "other" for t in run) < _MAX_UNLISTED):
                close()
                continue
            run.append((m.start(), m.end(), role, amb, poss))
        close()
        return spans

    # -- all detectors -------------------------------------------------------------------------------
    def _detect(self, kind: str, text: str) -> list[tuple[int, int]]:
        """Spans of one kind in ``text`` (which may already hold markers of other kinds)."""
        if kind == "email":
            return [m.span() for m in PATTERNS["email"].finditer(text)] if "@" in text else []
        if kind == "web":
            return [m.span() for m in PATTERNS["web"].finditer(text)] if _WEB_HINT.search(text) else []
        if kind == "navn":
            return self._names(text)
        if _DIGIT.search(text) is None:
            return []
        if kind == "cpr":
            return [m.span() for m in PATTERNS["cpr"].finditer(text)]
        if kind == "sagsnr":
            return [m.span("id") for m in _CASE.finditer(text)]
        if kind == "telefon":
            return [m.span() for m in PATTERNS["telefon"].finditer(text)
                    if not self._money_or_years(text, *m.span())]
        return [m.span() for m in _ADDRESS.finditer(text)]

    @staticmethod
    def _money_or_years(text: str, start: int, end: int) -> bool:
        """A phone-like number that is an amount (``kr. 12345678``) or two years (``2022 2023``)."""
        return bool(_MONEY_BEFORE.search(text, max(0, start - 8), start)
                    or _MONEY_AFTER.match(text[end:end + 10])
                    or _TWO_YEARS.fullmatch(text, start, end) or _SPACED_DATE.fullmatch(text, start, end))

    def find(self, text: str) -> list[Finding]:
        """All findings in ``text``, in text order.

        The detectors run one after the other in priority order (email, web, cpr, sagsnr, telefon,
        adresse, navn), each on the text with the markers of the earlier ones already in place, so a
        later detector never claims text an earlier one took. The cascade is repeated until it finds
        nothing new (at most :data:`_MAX_PASSES` times); the result is therefore a fixed point and
        scrubbing is idempotent.

        Parameters
        ----------
        text : str
            The comment.

        Returns
        -------
        list of Finding
            Spans refer to ``text``.
        """
        norm, where = _normalise(text)
        findings: list[Finding] = []
        for _ in range(_MAX_PASSES):
            new = False
            for kind in _PRIORITY:
                rendered, pieces = _render(norm, findings)
                for start, end in self._detect(kind, rendered):
                    span = _to_original(pieces, start, end)
                    if span is not None:
                        findings.append(Finding(kind, span[0], span[1], norm[span[0]:span[1]]))
                        new = True
                findings.sort(key=lambda f: f.start)
            if not new or not findings:
                break
        out = []
        for f in findings:
            start, end = _original_span(where, len(text), f.start, f.end)
            out.append(Finding(f.kind, start, end, text[start:end]))
        return out

    def __call__(self, text: str) -> Scrubbed:
        """Scrub one text.

        Parameters
        ----------
        text : str
            The comment.

        Returns
        -------
        Scrubbed
            The text with markers, and the findings (spans refer to ``text``).
        """
        findings = self.find(text)
        if not findings:
            return Scrubbed(text, ())
        return Scrubbed(_render(text, findings)[0], tuple(findings))


def cpr_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the CPR numbers in ``text`` by the scrubber's rule (any separator, Unicode spaces and
    dashes normalised), without the other detectors; used by pseudonymisation for text cells.

    Examples
    --------
    >>> t = "cpr 070691\u2013 5678 og 08 07 92 67 89"
    >>> [t[a:b] for a, b in cpr_spans(t)]
    ['070691\u2013 5678', '08 07 92 67 89']
    """
    norm, where = _normalise(text)
    return [_original_span(where, len(text), *m.span()) for m in PATTERNS["cpr"].finditer(norm)]


def load_names(source: str | Path | Iterable[str]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Read a name list (``name,kind,ambiguous`` with ``#`` comment lines).

    Parameters
    ----------
    source : str, Path or iterable of str
        A path to the CSV, or its lines.

    Returns
    -------
    tuple of frozenset
        First names, surnames, ambiguous names.
    """
    if isinstance(source, (str, Path)):
        lines: Iterable[str] = Path(source).read_text(encoding="utf-8").splitlines()
    else:
        lines = source
    rows = csv.DictReader(io.StringIO("\n".join(ln for ln in lines if not ln.lstrip().startswith("#"))))
    first: set[str] = set()
    last: set[str] = set()
    amb: set[str] = set()
    for row in rows:
        name = row["name"].strip()
        kind = row["kind"].strip()
        if kind not in {"first", "last", "both"}:
            raise ValueError(f"name list: unknown kind {kind!r} for {name!r}")
        if kind in {"first", "both"}:
            first.add(name)
        if kind in {"last", "both"}:
            last.add(name)
        if row["ambiguous"].strip().lower() in {"1", "true", "yes"}:
            amb.add(name)
    return frozenset(first), frozenset(last), frozenset(amb)


@lru_cache(maxsize=1)
def default_scrubber() -> Scrubber:
    """The scrubber built from the shipped list ``survey_lib/privacy/data/names_da.csv`` (cached)."""
    text = resources.files("survey_lib.privacy").joinpath("data", "names_da.csv").read_text(encoding="utf-8")
    return Scrubber.from_csv(text.splitlines())


def scrub_text(text: str) -> Scrubbed:
    """Scrub one text with the default scrubber.

    Parameters
    ----------
    text : str
        The comment.

    Returns
    -------
    Scrubbed

    Examples
    --------
    >>> scrub_text("Ring til Mette Jensen på 12 34 56 78.").text
    'Ring til [NAVN] på [TELEFON].'
    """
    return default_scrubber()(text)


def scrub_series(values: pd.Series, scrubber: Scrubber | None = None) -> tuple[pd.Series, pd.DataFrame]:
    """Scrub every text of a series.

    Parameters
    ----------
    values : pandas.Series
        Free-text answers; missing values stay missing, the index and name are kept.
    scrubber : Scrubber, optional
        Defaults to :func:`default_scrubber`.

    Returns
    -------
    scrubbed : pandas.Series
        The scrubbed texts.
    counts : pandas.DataFrame
        Columns ``kind`` and ``n``: the number of findings of each kind (every kind of :data:`KINDS`,
        zeros included).
    """
    scrub = scrubber or default_scrubber()
    out = values.copy()
    present = values.notna()
    counter: Counter[str] = Counter()
    texts = []
    for value in values[present]:
        result = scrub(str(value))
        counter.update(f.kind for f in result.findings)
        texts.append(result.text)
    if texts:
        out[present] = texts
    counts = pd.DataFrame({"kind": list(KINDS), "n": [int(counter[k]) for k in KINDS]})
    return out, counts
