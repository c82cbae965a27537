"""Loading a data folder: read -> rename -> value labels -> coerce -> validate -> derive.

:func:`check_inputs` runs every step and returns all faults and a summary without raising;
:func:`load_survey` returns the validated :class:`SurveyData` or raises one :class:`DataError`
listing every fault. No row is ever dropped: a row with a bad value is a fault, not a silent loss.
Free-text answers are scrubbed of personal data on loading (:func:`scrub_free_text`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .contract import FILE_ROLES, ColumnSpec, coerce_frame, register_columns, response_columns
from .derive import derive_population, derive_responses
from .errors import DataError, Fault
from .io import RawTable, find_input, is_surveyxact, read_surveyxact, read_table
from .io.labels import mismatch_fault, recode_by_labels
from .params import Params
from .validate import (check_columns, check_cpr_columns, check_invitation_order, check_population, check_responses,
                       check_sample, isin_text)

__all__ = ["SurveyData", "CheckResult", "InputFile", "check_inputs", "load_survey", "restrict_to", "file_digest",
           "scrub_free_text"]


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


def _apply_value_labels(table: RawTable, specs: tuple[ColumnSpec, ...], params: Params) -> list[Fault]:
    """SPSS value labels: text columns take the label; likert and single-choice columns are recoded by
    label text to the codebook's codes (see :mod:`survey_lib.io.labels`).

    A label that is no category of its question is a fault naming the file, the column, the label, the
    labels expected and the closest one; that column is then left as read (the fault stops the load)."""
    faults: list[Fault] = []
    if not table.value_labels:
        return faults
    qn = params.questionnaire
    col_q = {c: q for q in qn.questions for c in q.columns}
    kinds = {s.name: s.kind for s in specs}
    for col, labels in table.value_labels.items():
        if col not in table.frame.columns or not labels:
            continue
        if kinds.get(col) == "text":
            table.frame[col] = table.frame[col].map(lambda v, lab=labels: lab.get(v, v) if pd.notna(v) else v)
        elif kinds.get(col) == "answer" and col in col_q and col_q[col].kind in ("likert", "single_choice"):
            recoding = recode_by_labels(labels, col_q[col], qn)
            if recoding.mismatches:
                fix = ("correct the value label in the .sav file, or remove the column's value labels to read its "
                       "codes as the codebook's")
                faults += [mismatch_fault(m, str(table.path), col, col_q[col].id, fix) for m in recoding.mismatches]
                continue
            recode = recoding.mapping
            table.frame[col] = table.frame[col].map(lambda v, r=recode: r.get(v, v) if pd.notna(v) else v)
    return faults


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


@dataclass(frozen=True)
class InputFile:
    """One input file as read: canonical column names, coerced values, and the rows of its source."""

    role: str
    path: Path
    frame: pd.DataFrame
    source_rows: tuple[int, ...] | None = None
    source_name: str = ""

    @property
    def file(self) -> str:
        return self.path.as_posix()

    def in_source_rows(self, faults: list[Fault]) -> list[Fault]:
        """Faults of this file with the row number of the source (the SurveyXact Dataset sheet) the
        user has, not the row among the respondents kept."""
        if self.source_rows is None:
            return faults
        mine = {str(self.path), self.file}
        return [replace(f, file=f"{f.file} {self.source_name}".rstrip(),
                        row=None if f.row is None else self.source_rows[f.row - 1])
                if f.file in mine else f for f in faults]


def _read_role(data_dir: Path, role: str, specs: tuple[ColumnSpec, ...], params: Params
               ) -> tuple[InputFile | None, list[Fault], list[str]]:
    """Find, read, rename, recode by value labels and coerce the file of ``role``.

    Returns None for the file when it is missing or unreadable as a whole (the faults say why)."""
    path, faults = find_input(data_dir, role)
    if path is None:
        return None, faults, []
    notes: list[str] = []
    if role == "responses" and is_surveyxact(path):
        table, faults, notes = read_surveyxact(path, params)
        notes.append(f"{path}: read as a SurveyXact export")
    else:
        table, faults = read_table(path)
    if faults:
        return None, faults, notes
    rename = params.survey.column_names.get(role, {})
    table.frame = table.frame.rename(columns=rename)
    if table.value_labels:
        table.value_labels = {rename.get(k, k): v for k, v in table.value_labels.items()}
    one_of = (("alder", "foedselsdato"), ("ydelse", "maalgruppe")) if role == "population" else ()
    faults = check_columns(table.frame.columns, specs, str(path), one_of)
    faults += check_cpr_columns(table.frame, specs, str(path))
    faults += _apply_value_labels(table, specs, params)
    frame, coerce_faults = coerce_frame(table.frame, specs, str(path))
    notes.append(f"{path}: {len(frame)} rows read ({table.format})")
    inp = InputFile(role, path, frame, table.source_rows, table.source_name)
    return inp, inp.in_source_rows(faults + coerce_faults), notes


def _population_stage(pop: InputFile, params: Params) -> tuple[list[Fault], pd.DataFrame, dict[str, object]]:
    """Check the population file; derive its analysis variables; count its rows."""
    faults = check_population(pop.frame, params, pop.file)
    derived = derive_population(pop.frame, params)
    summary: dict[str, object] = {"population_rows": len(pop.frame)}
    if "kommune" in pop.frame.columns:
        summary["population_per_kommune"] = pop.frame["kommune"].value_counts(dropna=False).sort_index().to_dict()
    return faults, derived, summary


def _sample_stage(smp: InputFile, pop: InputFile | None, params: Params) -> tuple[list[Fault], dict[str, object]]:
    """Check the sample file (its ids against the population when that file was read)."""
    pop_ids = pop.frame["person_id"] if pop is not None and "person_id" in pop.frame.columns else None
    return check_sample(smp.frame, pop_ids, params, smp.file), {"sample_rows": len(smp.frame)}


def _responses_stage(resp: InputFile, smp: InputFile | None, derived_pop: pd.DataFrame | None, params: Params
                     ) -> tuple[list[Fault], dict[str, object]]:
    """Check the responses file against the sample (membership, invitation dates) and the register
    (question filters); the faults name the rows of the file as the user has it."""
    smp_ids = smp.frame["person_id"] if smp is not None and "person_id" in smp.frame.columns else None
    register = pd.DataFrame()
    if derived_pop is not None and "person_id" in derived_pop.columns:
        register = derived_pop.dropna(subset=["person_id"]).drop_duplicates("person_id").set_index("person_id")
    faults = check_responses(resp.frame, smp_ids, register, params, resp.file)
    if smp is not None:
        faults += check_invitation_order(resp.frame, smp.frame, resp.file, smp.file)
    return resp.in_source_rows(faults), _responses_summary(resp.frame, derived_pop, params)


def _responses_summary(resp: pd.DataFrame, derived_pop: pd.DataFrame | None, params: Params) -> dict[str, object]:
    """Rows, respondents by status, answers per question and respondents per municipality."""
    summary: dict[str, object] = {"responses_rows": len(resp)}
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
    if "person_id" in resp.columns and derived_pop is not None and {"person_id", "kommune"} <= set(derived_pop.columns):
        k = resp[["person_id"]].merge(derived_pop[["person_id", "kommune"]], on="person_id", how="left")
        summary["respondents_per_kommune"] = k["kommune"].value_counts(dropna=False).sort_index().to_dict()
    return summary


def _survey_data(inputs: dict[str, InputFile], derived_pop: pd.DataFrame, params: Params) -> SurveyData:
    """The validated data: derived responses scrubbed of personal data, sources and their digest."""
    paths = [inputs[r].path for r in ("population", "sample", "responses")]
    responses, scrubbed = scrub_free_text(derive_responses(inputs["responses"].frame, params), params)
    return SurveyData(population=derived_pop, sample=inputs["sample"].frame, responses=responses,
                      sources={r: str(inp.path) for r, inp in inputs.items()}, digest=file_digest(paths),
                      scrubbed=scrubbed)


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
    specs = {"population": register_columns("population"), "sample": register_columns("sample"),
             "responses": response_columns(params)}
    faults: list[Fault] = []
    notes: list[str] = []
    inputs: dict[str, InputFile] = {}
    for role in FILE_ROLES:
        inp, found, read_notes = _read_role(data_dir, role, specs[role], params)
        faults += found
        notes += read_notes
        if inp is not None:
            inputs[role] = inp
    summary: dict[str, object] = {}
    pop, smp, resp = (inputs.get(r) for r in FILE_ROLES)
    derived_pop = None
    if pop is not None:
        found, derived_pop, part = _population_stage(pop, params)
        faults += found
        summary |= part
    if smp is not None:
        found, part = _sample_stage(smp, pop, params)
        faults += found
        summary |= part
    if resp is not None:
        found, part = _responses_stage(resp, smp, derived_pop, params)
        faults += found
        summary |= part
    faults = _one_per_cell(faults)
    data = _survey_data(inputs, derived_pop, params) if not faults and len(inputs) == 3 else None
    return CheckResult(faults, notes, summary, data)


def restrict_to(data: SurveyData, kommuner: list[str] | set[str]) -> SurveyData:
    """The validated data of the municipalities ``kommuner`` only: the population rows of those
    municipalities, and the sample and responses rows of their people, in their order.

    Every check of :func:`check_inputs` holds for a part cut this way (each file's rows are checked
    on their own or against a file the part keeps whole for its people), and every derived column
    is a function of its row, so the part is what validating the same rows as files of their own
    would give (the common panel of two waves is cut like this, instead of being written out and
    read again). ``sources`` and ``digest`` still name the files the part was cut from;
    ``scrubbed`` (replacements in the free text, not per municipality) is the whole data's.
    """
    keep = data.population["kommune"].isin(set(kommuner)).to_numpy()
    pop = data.population[keep].reset_index(drop=True)
    ids = pop["person_id"].dropna().unique()

    def of_people(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[isin_text(frame["person_id"], ids).to_numpy()].reset_index(drop=True)

    return replace(data, population=pop, sample=of_people(data.sample), responses=of_people(data.responses))


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
