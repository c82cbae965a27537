"""The leak audit: scan every file of a finished batch for personal data and small cells.

Checked in every file (HTML, CSV, JSON, notebooks, Excel, Markdown, text; images are skipped,
embedded base64 images are cut out of the text first):

- ``cpr``: any 10 digits, with any separators, whose first six are a valid day and month;
- ``telefon`` / ``email``: any 8 digits in groups (not a date or two years) and e-mail addresses;
- ``proper_noun`` (when the data are given): in published free text (a CSV or sheet with a comment
  column ``text``/``Kommentar``, or a word list with ``term`` and ``stem``), a capitalised word inside a sentence
  that the comments never write in lowercase, or a listed term the comments never write in lowercase;
- ``id_column``: a table with a ``person_id`` or CPR column (respondent-level data);
- ``person_id``: any id of the sample (when the data are given);
- ``other_comment``: in a municipality's folder, a run of words that occurs only in other
  municipalities' comments (when the data are given);
- ``small_cell``: in answer tables (``tables.csv``, the Excel workbook), a published group with
  fewer answers than the minimum, or a suppressed group that still shows a number;
- ``unknown_file``: a file type the audit cannot read (it may hold anything).

These checks share nothing with the scrubber (``survey_lib.privacy.detectors``: other, broader
rules), so what the scrubber misses is not missed here for the same reason.

A folder belongs to a municipality when it (or a folder above it, inside the output folder) holds
a ``provenance.json`` whose ``scope`` names one.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from ..parallel import fork_map
from .detectors import CommentVocabulary, digit_findings, email_findings, proper_nouns, unknown_terms

__all__ = ["AuditFinding", "AuditSettings", "audit_outputs", "audit_data", "comment_index", "findings_frame", "WINDOW"]

WINDOW = 6                 # words in a run that identifies a comment
TEXT_TYPES = {".html", ".htm", ".csv", ".json", ".ipynb", ".md", ".txt", ".css", ".js", ".svg", ".xml", ".log"}
SKIPPED_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".woff", ".woff2", ".ttf", ".pdf"}
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s\\n]+")
# notebook cell ids (random hex, sometimes all digits) in exported pages; in notebooks they are
# taken out of the parsed cells (never by a pattern over all text: a CPR number under an "id" key
# elsewhere must still be found)
_HTML_CELL_ID = re.compile(r'id="cell-id=[\w-]+"')
_WORD = re.compile(r"\[[A-ZÆØÅ]+\]|\w+")
ID_COLUMNS = {"person_id", "cpr", "cpr_nr", "cprnr", "personnummer"}
PUBLISHED = ["n", "category_n", "dont_know_n", "weighted_n", "share", "mean"]
EXCEL_N, EXCEL_SUPPRESSED = "Antal svar", "Undertrykt (for få svar)"
COMMENT_COLUMNS = {"text", "Kommentar"}     # published comments (examples, the reading sample)
TERM_COLUMNS = {"term"}                     # words drawn from the comments (words, log-odds) ...
WORD_LIST_MARK = "stem"                     # ... in a table that also has their stems


@dataclass(frozen=True)
class AuditSettings:
    """What every file's check needs, passed to each (forked) worker with the files it checks.

    Attributes
    ----------
    root : Path
        The output folder (findings name files relative to it).
    kommuner : frozenset of str
        Municipality names (to recognise municipality folders).
    index : dict
        :func:`comment_index` of the comments (empty: no other-comment check).
    ids : frozenset of str
        Every respondent id of the sample (empty: no id check).
    min_cell_size : int
        The minimum number of answers behind a published estimate.
    vocabulary : CommentVocabulary or None
        The comments' own words (None: no proper-noun check).
    """

    root: Path
    kommuner: frozenset[str] = frozenset()
    index: dict = field(default_factory=dict)
    ids: frozenset[str] = frozenset()
    min_cell_size: int = 5
    vocabulary: CommentVocabulary | None = None


@dataclass(frozen=True)
class AuditFinding:
    """One problem found: the file (relative to the output folder), its kind and what was seen.
    The detail never repeats a found value in full (the audit output must not leak either)."""

    file: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind}: {self.detail}"


def _mask(value: str) -> str:
    """A found value with all but its first two characters masked."""
    return value[:2] + re.sub(r"\w", "x", value[2:])


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _windows(words: list[str]) -> set[tuple[str, ...]]:
    if len(words) < WINDOW:
        return set()
    return {tuple(words[i:i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


_WORD_OR_END = re.compile(_WORD.pattern + "|\x00")


def _segment_windows(segments: list[str]) -> set[tuple[str, ...]]:
    """Every run of :data:`WINDOW` words within one of ``segments`` (never across two): the union of
    ``_windows(_words(seg))`` over them, with the words of all segments found by one regular
    expression search (a NUL marks each segment's end) instead of one search per segment."""
    if not segments:
        return set()
    joined = "\x00".join(segments) + "\x00"
    if joined.count("\x00") != len(segments):      # a segment holds a NUL itself: one search each
        return set().union(*(_windows(_words(seg)) for seg in segments))
    out: set[tuple[str, ...]] = set()
    words: list[str] = []
    for token in _WORD_OR_END.findall(joined):
        if token == "\x00":
            if len(words) >= WINDOW:
                out |= _windows(words)
            words = []
        else:
            words.append(token.lower())
    return out


def comment_index(comments: pd.DataFrame) -> dict[tuple[str, ...], set[str]]:
    """Every run of :data:`WINDOW` words of every comment -> the municipalities whose comments hold it.

    ``comments`` has columns ``kommune`` and ``text`` (scrubbed, as shown in reports)."""
    index: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for kommune, text in zip(comments["kommune"], comments["text"]):
        for w in _windows(_words(str(text))):
            index[w].add(str(kommune))
    return dict(index)


def _without_cell_ids(raw: str, suffix: str) -> str:
    if suffix in (".html", ".htm"):
        return _HTML_CELL_ID.sub("", raw)
    if suffix == ".ipynb":
        try:
            nb = json.loads(raw)
        except json.JSONDecodeError:
            return raw
        for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
            if isinstance(cell, dict):
                cell.pop("id", None)
        return json.dumps(nb, ensure_ascii=False, indent=1)
    return raw


def _text_of(path: Path, raw: str) -> str:
    """The text the checks scan: embedded images and notebook cell ids taken out, entities decoded."""
    suffix = path.suffix.lower()
    text = _without_cell_ids(_DATA_URI.sub("data:", raw), suffix)
    if suffix in (".html", ".htm", ".svg", ".xml", ".ipynb", ".json"):
        text = html.unescape(text)
    return text


def _strings(value) -> list[str]:
    """Every string inside a JSON value (lists of strings, as notebooks store text, are joined)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            return ["".join(value)]
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def _segments(path: Path, raw: str, text: str, frames: dict[str, pd.DataFrame] | None = None) -> list[str]:
    """The pieces of text a reader sees as one unit (a table cell, an HTML text node, a JSON string,
    a line), so that a run of words is never made across two of them. ``raw``: the file as read."""
    suffix = path.suffix.lower()
    if frames is not None:
        return [str(v) for f in frames.values() for v in f.to_numpy().ravel() if isinstance(v, str)]
    if suffix == ".csv":
        import csv
        import io

        return [cell for row in csv.reader(io.StringIO(raw)) for cell in row]
    if suffix in (".html", ".htm", ".svg", ".xml"):
        return [html.unescape(t) for t in re.split(r"<[^>]*>", _DATA_URI.sub("data:", raw)) if t.strip()]
    if suffix in (".json", ".ipynb"):
        try:
            return [seg for s in _strings(json.loads(raw)) for seg in s.split("\n")]
        except json.JSONDecodeError:
            pass
    return text.split("\n")


def _excel_frames(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet of a workbook as a frame (first row: the header, below the synthetic-data banner
    when the sheet starts with it; empty cells: None).

    Read with calamine (Rust): openpyxl took 45 s for the pilot batch's 28 workbooks, calamine 1 s.
    """
    from python_calamine import CalamineWorkbook

    from ..synthetic import BANNER

    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python()
        if rows and rows[0][:1] == [BANNER] and not any(v != "" for v in rows[0][1:]):
            rows = rows[1:]
        if rows:
            body = [[None if v == "" else v for v in row] for row in rows[1:]]
            out[name] = pd.DataFrame(body, columns=[str(c) for c in rows[0]])
    return out


def _scope_of(path: Path, root: Path, kommuner: set[str], cache: dict[Path, str | None]) -> str | None:
    folder = path.parent
    chain = []
    while True:
        if folder in cache:
            found = cache[folder]
            break
        chain.append(folder)
        prov = folder / "provenance.json"
        found = None
        if prov.is_file():
            try:
                scope = json.loads(prov.read_text(encoding="utf-8")).get("scope")
            except (json.JSONDecodeError, AttributeError):
                scope = None
            if scope:
                found = scope if scope in kommuner else None
                break
        if folder == root or root not in folder.parents:
            break
        folder = folder.parent
    for f in chain:
        cache[f] = found
    return found


def _check_tables(frame: pd.DataFrame, n_col: str, sup_col: str, min_n: int, rel: str) -> list[AuditFinding]:
    n = pd.to_numeric(frame[n_col], errors="coerce")
    sup = frame[sup_col].astype(str).str.lower().isin(["true", "ja", "1"])
    out = []
    small = ~sup & n.notna() & (n < min_n)
    if small.any():
        out.append(AuditFinding(rel, "small_cell", f"{int(small.sum())} published row(s) with fewer than {min_n} "
                                f"answers (first at data row {int(small.idxmax()) + 1})"))
    shown = [c for c in (PUBLISHED if n_col == "n" else [n_col]) if c in frame.columns]
    if shown:
        numbers = frame.loc[sup, shown].apply(pd.to_numeric, errors="coerce").notna().any(axis=1)
        if numbers.any():
            out.append(AuditFinding(rel, "small_cell", f"{int(numbers.sum())} suppressed row(s) still show a number "
                                    f"(first at data row {int(numbers.idxmax()) + 1})"))
    return out


def audit_outputs(out_dir: Path | str, min_cell_size: int = 5, kommuner: list[str] | None = None,
                  person_ids: set[str] | None = None, comments: pd.DataFrame | None = None,
                  jobs: int = 1) -> list[AuditFinding]:
    """Scan every file under ``out_dir``; return every finding (empty: nothing found).

    Parameters
    ----------
    out_dir
        The finished output folder (e.g. ``outputs/<wave>``).
    min_cell_size
        The minimum number of answers behind a published estimate.
    kommuner
        Municipality names (to recognise municipality folders).
    person_ids
        Every id of the sample; none may appear in any output.
    comments
        ``kommune`` and ``text`` of every (scrubbed) comment; a municipality's folder may not hold a
        run of :data:`WINDOW` words found only in other municipalities' comments.
    jobs
        Processes to scan the files with (forked; each batch of files is passed with the
        :class:`AuditSettings` it needs); 1: in this process.
    """
    root = Path(out_dir).resolve()
    if not root.is_dir():
        from ..errors import SurveyError

        raise SurveyError(f"{out_dir}: not a folder; give the output folder of a finished batch")
    have_comments = comments is not None and len(comments) > 0
    index, vocabulary = _comment_checks(comments, list(kommuner or [])) if have_comments else ({}, None)
    settings = AuditSettings(
        root=root, kommuner=frozenset(kommuner or []), index=index,
        ids=frozenset(str(i) for i in (person_ids or set())), min_cell_size=min_cell_size, vocabulary=vocabulary)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    # the settings travel with each batch of files (a few batches per worker: the comment index is
    # pickled once per batch); batches interleave the files so that each holds large and small ones
    n_batches = min(len(files), max(1, 2 * jobs)) if jobs > 1 else 1
    batches = [files[i::n_batches] for i in range(n_batches)]
    per_batch = fork_map(partial(_audit_files, settings), batches, jobs)
    by_file = {path: found for batch, results in zip(batches, per_batch) for path, found in zip(batch, results)}
    return [f for path in files for f in by_file[path]]


# (comment index, vocabulary) of the last few distinct comment sets: an audit of the same data again
# (a rerun's audit in the same process, the tests' many audits of one twin) does not rebuild them
_COMMENT_CHECKS: dict[str, tuple[dict, CommentVocabulary]] = {}


def _comment_checks(comments: pd.DataFrame, kommuner: list[str]) -> tuple[dict, CommentVocabulary]:
    """:func:`comment_index` and the :class:`CommentVocabulary` of ``comments`` (and the
    municipalities' names), computed once per distinct content (a SHA-256 over every municipality
    and comment text, in order) and kept for the next four. Both are only read afterwards."""
    import hashlib

    h = hashlib.sha256(json.dumps(kommuner, ensure_ascii=False).encode())
    for kommune, text in zip(comments["kommune"], comments["text"]):
        h.update(f"{kommune}\0{text}\0".encode("utf-8", "surrogatepass"))
    key = h.hexdigest()
    if key not in _COMMENT_CHECKS:
        if len(_COMMENT_CHECKS) >= 4:
            _COMMENT_CHECKS.pop(next(iter(_COMMENT_CHECKS)))
        _COMMENT_CHECKS[key] = (comment_index(comments), CommentVocabulary.from_texts(comments["text"], known=kommuner))
    return _COMMENT_CHECKS[key]


def _audit_files(settings: AuditSettings, paths: list[Path]) -> list[list[AuditFinding]]:
    """The findings of each file of ``paths`` (in order)."""
    cache: dict[Path, str | None] = {}
    return [_audit_file(settings, path, cache) for path in paths]


def _digit_and_email(text: str, rel: str) -> list[AuditFinding]:
    findings = []
    found = digit_findings(text)
    for kind in ("cpr", "telefon"):
        hits = [v for k, v in found if k == kind]
        if hits:
            findings.append(AuditFinding(rel, kind, f"{len(hits)} match(es), first {_mask(hits[0])!r}"))
    emails = email_findings(text)
    if emails:
        findings.append(AuditFinding(rel, "email", f"{len(emails)} match(es), first {_mask(emails[0])!r}"))
    return findings


def _proper_noun_findings(frames: dict[str, pd.DataFrame], vocab: CommentVocabulary, rel: str) -> list[AuditFinding]:
    """Names in published free text: capitalised words the comments never write in lowercase."""
    hits: list[str] = []
    for frame in frames.values():
        for col in frame.columns:
            values = [v for v in frame[col].tolist() if isinstance(v, str) and v]
            if col in COMMENT_COLUMNS:
                hits += [w for v in values for w in proper_nouns(v, vocab)]
            elif col in TERM_COLUMNS and WORD_LIST_MARK in frame.columns:
                hits += [w for v in values for w in unknown_terms(v, vocab)]
    if not hits:
        return []
    return [AuditFinding(rel, "proper_noun", f"{len(hits)} word(s) in published free text that the comments never "
                         f"write in lowercase (a name?), first {_mask(hits[0])!r}; scrub the comments or add the "
                         "word to the scrubber's rules")]


def _audit_file(settings: AuditSettings, path: Path, cache: dict[Path, str | None]) -> list[AuditFinding]:
    """The findings of one file."""
    findings: list[AuditFinding] = []
    rel = path.relative_to(settings.root).as_posix()
    suffix = path.suffix.lower()
    if suffix in SKIPPED_TYPES:
        return findings
    frames, raw = None, ""
    table_frames: dict[str, pd.DataFrame] = {}
    if suffix == ".xlsx":
        try:
            frames = _excel_frames(path)
        except Exception as exc:  # noqa: BLE001 - calamine raises its own types for a broken workbook
            findings.append(AuditFinding(rel, "unknown_file", f"the workbook cannot be read ({type(exc).__name__}); "
                                         "it could hold anything: remove it or write it again"))
            return findings
        table_frames = frames
        text = "\n".join(f.astype(str).to_csv(index=False) + " ".join(f.columns) for f in frames.values())
        for name, f in frames.items():
            if {c.lower() for c in f.columns} & ID_COLUMNS:
                findings.append(AuditFinding(rel, "id_column", f"sheet {name!r} has a respondent id column"))
            if EXCEL_N in f.columns and EXCEL_SUPPRESSED in f.columns:
                findings += _check_tables(f, EXCEL_N, EXCEL_SUPPRESSED, settings.min_cell_size, f"{rel} [{name}]")
    elif suffix in TEXT_TYPES:
        raw = path.read_text(encoding="utf-8", errors="replace")      # read once for every check
        text = _text_of(path, raw)
        if suffix == ".csv":
            import io

            try:
                frame = pd.read_csv(io.StringIO(raw), dtype=object, keep_default_na=False)   # Python strings: quick to scan
            except (pd.errors.ParserError, pd.errors.EmptyDataError):
                frame = pd.DataFrame()
            table_frames = {"": frame}
            if {c.lower() for c in frame.columns} & ID_COLUMNS:
                findings.append(AuditFinding(rel, "id_column", "a respondent id column: "
                                             f"{sorted({c for c in frame.columns if c.lower() in ID_COLUMNS})}"))
            if {"n", "suppressed", "question", "group"} <= set(frame.columns):
                findings += _check_tables(frame, "n", "suppressed", settings.min_cell_size, rel)
    else:
        findings.append(AuditFinding(rel, "unknown_file", f"file type {suffix or '(none)'!r} cannot be checked; "
                                     "outputs hold only HTML, CSV, JSON, notebooks, Excel and images"))
        return findings
    findings += _digit_and_email(text, rel)
    if settings.vocabulary is not None and table_frames:
        findings += _proper_noun_findings(table_frames, settings.vocabulary, rel)
    if settings.ids:
        found = settings.ids & set(_WORD.findall(text))
        if found:
            findings.append(AuditFinding(rel, "person_id", f"{len(found)} respondent id(s), e.g. "
                                         f"{_mask(sorted(found)[0])!r}"))
    scope = _scope_of(path, settings.root, set(settings.kommuner), cache) if settings.index else None
    if scope:
        # a run of WINDOW words needs at least 2 * WINDOW - 1 characters: shorter pieces (most of a
        # page's markup) are passed over without splitting them into words
        windows = _segment_windows([seg for seg in _segments(path, raw, text, frames)
                                    if len(seg) >= 2 * WINDOW - 1]) if text else set()
        leaked = [w for w in windows if w in settings.index and scope not in settings.index[w]]
        if leaked:
            findings.append(AuditFinding(rel, "other_comment", f"{len(leaked)} run(s) of {WINDOW} words found only "
                                         f"in other municipalities' comments, e.g. '{' '.join(leaked[0][:3])} …'"))
    return findings


def findings_frame(findings: list[AuditFinding]) -> pd.DataFrame:
    """The findings as a frame (file, kind, detail)."""
    return pd.DataFrame([asdict(f) for f in findings], columns=["file", "kind", "detail"])


def audit_data(data, params) -> dict:
    """Keyword arguments of :func:`audit_outputs` from loaded data (``SurveyData``) and ``Params``:
    the municipalities, every sample id and every scrubbed comment with its municipality."""
    kommune_of = data.population.drop_duplicates("person_id").set_index("person_id")["kommune"]
    texts = []
    for q in params.questionnaire.questions:
        if q.kind == "free_text" and q.id in data.responses.columns:
            part = data.responses[["person_id", q.id]].dropna()
            texts.append(pd.DataFrame({"kommune": part["person_id"].map(kommune_of).to_numpy(),
                                       "text": part[q.id].astype(str).to_numpy()}))
    comments = pd.concat(texts, ignore_index=True) if texts else pd.DataFrame(columns=["kommune", "text"])
    ids = set(data.sample["person_id"].astype(str)) | set(data.responses["person_id"].astype(str))
    return {"min_cell_size": params.survey.min_cell_size, "kommuner": [k.name for k in params.kommuner],
            "person_ids": ids, "comments": comments}
