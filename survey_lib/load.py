"""Loading a data folder: read -> rename -> value labels -> coerce -> validate -> derive.

:func:`check_inputs` runs every step and returns all faults and a summary without raising;
:func:`load_survey` returns the validated :class:`SurveyData` or raises one :class:`DataError`
listing every fault. No row is ever dropped: a row with a bad value is a fault, not a silent loss.
Free-text answers are scrubbed of personal data on loading (:func:`scrub_free_text`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .contract import ColumnSpec, coerce_frame, register_columns, response_columns
from .derive import derive_population, derive_responses
from .errors import DataError, Fault
from .io import RawTable, find_input, is_surveyxact, read_surveyxact, read_table
from .params import Params
from .validate import check_columns, check_population, check_responses, check_sample

__all__ = ["SurveyData", "CheckResult", "check_inputs", "load_survey", "file_digest", "scrub_free_text"]


@dataclass(frozen=True)
class SurveyData:
    """The three validated input frames (canonical names and dtypes, derived columns added)."""

    population: pd.DataFrame
    sample: pd.DataFrame
    responses: pd.DataFrame
    sources: dict[str, str]
    digest: str
    scrubbed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["question", "kind", "n"]))


@dataclass
class CheckResult:
    """Everything :func:`check_inputs` found: faults, notes and a summary for the validation report."""

    faults: list[Fault]
    notes: list[str] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)
    data: SurveyData | None = None

    @property
    def ok(self) -> bool:
        return not self.faults


def file_digest(paths: list[Path]) -> str:
    """SHA-256 over the bytes of the given files (folders: their files, sorted), for provenance."""
    h = hashlib.sha256()
    for p in paths:
        files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
        for f in files:
            h.update(f.name.encode() + b"\0")
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


def _apply_value_labels(table: RawTable, specs: tuple[ColumnSpec, ...], params: Params) -> None:
    """SPSS value labels: text columns take the label; answer columns are recoded by label text to
    the codebook's codes when every label is a codebook category (otherwise the codes are kept)."""
    if not table.value_labels:
        return
    qn = params.questionnaire
    col_q = {c: q for q in qn.questions for c in q.columns}
    kinds = {s.name: s.kind for s in specs}
    for col, labels in table.value_labels.items():
        if col not in table.frame.columns or not labels:
            continue
        if kinds.get(col) == "text":
            table.frame[col] = table.frame[col].map(lambda v, lab=labels: lab.get(v, v) if pd.notna(v) else v)
        elif kinds.get(col) == "answer" and col in col_q and col_q[col].kind in ("likert", "single_choice"):
            q = col_q[col]
            if q.kind == "likert":
                sc = qn.scales[q.scale]
                target = {c.label.lower(): c.score for c in sc.categories} | {sc.dont_know.label.lower(): sc.dont_know.code}
            else:
                target = {o.label.lower(): o.code for o in q.options}
            if all(str(lab).strip().lower() in target for lab in labels.values()):
                recode = {code: target[str(lab).strip().lower()] for code, lab in labels.items()}
                table.frame[col] = table.frame[col].map(lambda v, r=recode: r.get(v, v) if pd.notna(v) else v)


def _one_per_cell(faults: list[Fault]) -> list[Fault]:
    """Keep the first fault of each cell: a value that did not parse is not also 'missing'."""
    seen: set[tuple[str, int, str]] = set()
    out = []
    for f in faults:
        if f.row is not None and f.column is not None:
            key = (f.file, f.row, f.column)
            if key in seen:
                continue
            seen.add(key)
        out.append(f)
    return out


def check_inputs(data_dir: Path | str, params: Params) -> CheckResult:
    """Load and validate the input files of ``data_dir``; never raises on bad data.

    Returns
    -------
    CheckResult
        ``faults`` (every one found), ``notes`` (what was read and left out, and why), ``summary``
        (rows per file and per municipality, complete/partial respondents, answers per question) and
        ``data`` (a :class:`SurveyData` when there are no faults).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return CheckResult([Fault(str(data_dir), "missing_file", "the data folder does not exist")])
    faults: list[Fault] = []
    notes: list[str] = []
    frames: dict[str, pd.DataFrame] = {}
    paths: dict[str, Path] = {}
    specs = {"population": register_columns("population"), "sample": register_columns("sample"),
             "responses": response_columns(params)}
    for role in ("population", "sample", "responses"):
        path, f = find_input(data_dir, role)
        faults += f
        if path is None:
            continue
        paths[role] = path
        if role == "responses" and is_surveyxact(path):
            table, f, n = read_surveyxact(path, params)
            notes += n
            notes.append(f"{path}: read as a SurveyXact export")
        else:
            table, f = read_table(path)
        faults += f
        if f:
            continue
        rename = params.survey.column_names.get(role, {})
        table.frame = table.frame.rename(columns=rename)
        if table.value_labels:
            table.value_labels = {rename.get(k, k): v for k, v in table.value_labels.items()}
        one_of = (("alder", "foedselsdato"), ("ydelse", "maalgruppe")) if role == "population" else ()
        faults += check_columns(table.frame.columns, specs[role], str(path), one_of)
        _apply_value_labels(table, specs[role], params)
        frame, f = coerce_frame(table.frame, specs[role], str(path))
        faults += f
        frames[role] = frame
        notes.append(f"{path}: {len(frame)} rows read ({table.format})")

    summary: dict[str, object] = {}
    pop = frames.get("population")
    derived_pop = None
    if pop is not None:
        faults += check_population(pop, params, paths["population"].as_posix())
        derived_pop = derive_population(pop, params)
        summary["population_rows"] = len(pop)
        if "kommune" in pop.columns:
            summary["population_per_kommune"] = pop["kommune"].value_counts(dropna=False).sort_index().to_dict()
    smp = frames.get("sample")
    if smp is not None:
        pop_ids = pop["person_id"] if pop is not None and "person_id" in pop.columns else None
        faults += check_sample(smp, pop_ids, params, paths["sample"].as_posix())
        summary["sample_rows"] = len(smp)
    resp = frames.get("responses")
    if resp is not None:
        smp_ids = smp["person_id"] if smp is not None and "person_id" in smp.columns else None
        register = pd.DataFrame()
        if derived_pop is not None and "person_id" in derived_pop.columns:
            register = derived_pop.dropna(subset=["person_id"]).drop_duplicates("person_id").set_index("person_id")
        faults += check_responses(resp, smp_ids, register, params, paths["responses"].as_posix())
        summary["responses_rows"] = len(resp)
        if "status" in resp.columns:
            summary["responses_by_status"] = resp["status"].value_counts(dropna=False).to_dict()
        answers = {}
        for q in params.questionnaire.questions:
            present = [c for c in q.columns if c in resp.columns]
            if present:
                answered = resp[present].notna() & ~(resp[present] == 0).fillna(False) if q.kind == "multi_select" \
                    else resp[present].notna()
                answers[q.id] = int(answered.any(axis=1).sum())
        summary["answers_per_question"] = answers
        if "person_id" in resp.columns and derived_pop is not None and "kommune" in derived_pop.columns:
            k = resp[["person_id"]].merge(derived_pop[["person_id", "kommune"]], on="person_id", how="left")
            summary["respondents_per_kommune"] = k["kommune"].value_counts(dropna=False).sort_index().to_dict()

    faults = _one_per_cell(faults)
    data = None
    if not faults and len(frames) == 3:
        digest = file_digest([paths[r] for r in ("population", "sample", "responses")])
        responses, scrubbed = scrub_free_text(derive_responses(resp, params), params)
        data = SurveyData(
            population=derived_pop,
            sample=smp,
            responses=responses,
            sources={r: str(p) for r, p in paths.items()},
            digest=digest,
            scrubbed=scrubbed,
        )
    return CheckResult(faults, notes, summary, data)


def scrub_free_text(responses: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replace personal data in every free-text answer by markers ([CPR], [TELEFON], [NAVN], ...).

    Runs when the data are loaded, so no comment reaches a table, notebook or page unscrubbed (see
    :mod:`survey_lib.privacy.scrub`). Returns the responses and the number of replacements per
    question and kind."""
    from .privacy.scrub import scrub_series

    out = responses.copy()
    counts = []
    for q in params.questionnaire.questions:
        if q.kind != "free_text" or q.id not in out.columns:
            continue
        out[q.id], found = scrub_series(out[q.id])
        counts.append(found.assign(question=q.id))
    scrubbed = (pd.concat(counts, ignore_index=True)[["question", "kind", "n"]] if counts
                else pd.DataFrame(columns=["question", "kind", "n"]))
    return out, scrubbed


def load_survey(data_dir: Path | str, params: Params) -> SurveyData:
    """Load and validate ``data_dir``; raise :class:`DataError` listing every fault."""
    result = check_inputs(data_dir, params)
    if result.faults:
        raise DataError(result.faults, header=f"Faults in the input data in {data_dir}")
    assert result.data is not None
    return result.data
