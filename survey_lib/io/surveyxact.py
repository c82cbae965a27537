"""Reader of a SurveyXact export: an .xlsx with the sheets Dataset, Labels and Structure, or a folder
with the three CSV files Dataset.csv, Labels.csv and Structure.csv.

SurveyXact stores answers as its own option codes (usually 1 for the first option shown). The
Labels sheet gives each code's text; answers are recoded *by that text* to the codebook's codes
(score 1-5, the 'ved ikke' code, or an option code), so a survey that lists its options from negative
to positive is read correctly too. Variable names map to question ids through ``survey.yaml``
(``surveyxact.variables``). Rows whose status is neither complete nor partial (invited, not answered)
are not respondents: they are left out and counted in the returned notes; the table keeps, for each row
it holds, the row number in the Dataset sheet, so that every fault names the row the user sees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Fault
from ..params import Params, SurveyXactMap
from .labels import mismatch_fault, normalise_label, recode_by_labels
from .readers import RawTable, read_csv, read_excel

__all__ = ["is_surveyxact", "read_surveyxact"]

SHEETS = ("Dataset", "Labels", "Structure")


def is_surveyxact(path: Path) -> bool:
    """True for an .xlsx with a 'Dataset' and a 'Labels' sheet, or a folder with Dataset.csv and Labels.csv."""
    if path.is_dir():
        return (path / "Dataset.csv").is_file() and (path / "Labels.csv").is_file()
    if path.suffix.lower() == ".xlsx" and path.is_file():
        try:
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            names = set(wb.sheetnames)
            wb.close()
            return {"Dataset", "Labels"} <= names
        except Exception:  # not a readable workbook: the normal reader reports it
            return False
    return False


def _sheet(path: Path, name: str) -> tuple[RawTable, list[Fault]]:
    if path.is_dir():
        return read_csv(path / f"{name}.csv")
    table, faults = read_excel(path, sheet=name)
    return table, faults


def read_surveyxact(path: Path, params: Params) -> tuple[RawTable, list[Fault], list[str]]:
    """Read a SurveyXact export into a responses table with the data contract's column names.

    Returns
    -------
    table, faults, notes
        ``table.frame`` has ``person_id``, ``status``, ``started_at``, ``submitted_at`` and the question
        columns (codes recoded to the codebook); ``faults`` name the sheet, row and variable; ``notes``
        say what was left out and why.
    """
    sx = params.survey.surveyxact
    where = str(path)
    if sx is None:
        return RawTable(path, pd.DataFrame(), "surveyxact"), [Fault(
            where, "params", "this is a SurveyXact export, but survey.yaml has no 'surveyxact' section "
            "mapping its variables to question ids")], []
    data, faults = _sheet(path, "Dataset")
    labels, f2 = _sheet(path, "Labels")
    faults += f2
    notes: list[str] = []
    if faults:
        return RawTable(path, pd.DataFrame(), "surveyxact"), faults, notes
    ds, lab = data.frame, labels.frame
    lab.columns = [c.lower() for c in lab.columns]
    for col in ("variable", "value", "label"):
        if col not in lab.columns:
            faults.append(Fault(f"{where} [Labels]", "missing_column",
                                f"the Labels sheet needs the columns variable, value, label; {col!r} is missing",
                                None, col))
    needed = [sx.id_variable, sx.status_variable, sx.started_variable, sx.submitted_variable]
    for col in needed:
        if col not in ds.columns:
            faults.append(Fault(f"{where} [Dataset]", "missing_column",
                                f"variable {col!r} (named in survey.yaml: surveyxact) is not in the Dataset sheet",
                                None, col))
    if faults:
        return RawTable(path, pd.DataFrame(), "surveyxact"), faults, notes

    # code -> label per variable
    code_label: dict[str, dict[str, str]] = {}
    for _, r in lab.iterrows():
        code_label.setdefault(str(r["variable"]).strip(), {})[_as_code(r["value"])] = str(r["label"])

    # status: keep complete and partial respondents, note the others
    status, status_faults, left_out = _respondent_status(ds[sx.status_variable], code_label.get(sx.status_variable, {}),
                                                         sx, f"{where} [Dataset]")
    faults += status_faults
    if left_out.any() and not status_faults:
        counts = ds[sx.status_variable][left_out].map(_as_code).value_counts().to_dict()
        notes.append(f"{where}: {int(left_out.sum())} row(s) with a status that is neither complete nor partial "
                     f"were left out (not respondents); status codes {counts}")

    out = pd.DataFrame({
        "person_id": ds[sx.id_variable],
        "status": status,
        "started_at": ds[sx.started_variable],
        "submitted_at": ds[sx.submitted_variable],
    })
    answers, answer_faults = _question_columns(ds, code_label, sx, params, where)
    faults += answer_faults
    for target, values in answers.items():
        out[target] = values
    unmapped = [c for c in ds.columns if c not in sx.variables and c not in needed]
    if unmapped:
        notes.append(f"{where}: variables not mapped in survey.yaml and therefore not read: {unmapped}")
    kept = ~left_out.to_numpy()
    out = out[kept].reset_index(drop=True)
    rows = tuple(int(i) + 1 for i in np.flatnonzero(kept))
    return RawTable(path, out, "surveyxact", source_rows=rows, source_name="[Dataset]"), faults, notes


def _question_columns(ds: pd.DataFrame, code_label: dict[str, dict[str, str]], sx: SurveyXactMap, params: Params,
                      where: str) -> tuple[dict[str, pd.Series], list[Fault]]:
    """The answer columns under their codebook names, likert and single-choice recoded by label, and
    the faults: variables missing from the Dataset or mapped to no codebook column, unknown labels."""
    col_question = {c: q for q in params.questionnaire.questions for c in q.columns}
    out: dict[str, pd.Series] = {}
    faults: list[Fault] = []
    for var, target in sx.variables.items():
        if var not in ds.columns:
            faults.append(Fault(f"{where} [Dataset]", "missing_column",
                                f"variable {var!r} (mapped to {target!r} in survey.yaml) is not in the Dataset sheet",
                                None, var))
            continue
        q = col_question.get(target)
        if q is None:
            faults.append(Fault(where, "params", f"survey.yaml maps {var!r} to {target!r}, which is no column "
                                f"of the codebook", None, var))
            continue
        values = ds[var]
        if q.kind in ("likert", "single_choice"):
            values, f = _recode_by_label(values, code_label.get(var, {}), q, params, where, var)
            faults.extend(f)
        out[target] = values
    return out, faults


def _respondent_status(raw: pd.Series, labels: dict[str, str], sx: SurveyXactMap, where: str
                       ) -> tuple[pd.Series, list[Fault], pd.Series]:
    """'complete'/'partial' per Dataset row from the status codes of survey.yaml, and the rows left out.

    A status exported as text (its label, say 'Gennemført') is read through the Labels sheet when that
    sheet labels the status variable; otherwise every text value is a fault (never a silent loss of
    rows). A Dataset with rows but no respondent among them is a fault too."""
    codes = raw.map(_as_code)
    blank = raw.isna() | raw.map(lambda v: str(v).strip() == "")
    text = ~blank & ~codes.str.fullmatch(r"-?\d+")
    faults: list[Fault] = []
    if text.any():
        by_label = {normalise_label(label): code for code, label in labels.items()}
        resolved = raw[text].map(lambda v: by_label.get(normalise_label(v)))
        codes = codes.mask(text & resolved.reindex(raw.index).notna(), resolved)
        unresolved = text & resolved.reindex(raw.index).isna()
        wanted = "; ".join(f"{k} = {list(v)}" for k, v in sx.status_codes.items())
        for value, rows in raw[unresolved].groupby(raw[unresolved].astype(str), sort=True):
            first = int(rows.index[0]) + 1
            faults.append(Fault(where, "status_text", (
                f"the status {value!r} (in {len(rows)} row(s), the first shown here) is text, not a status code; "
                f"survey.yaml (surveyxact.status_codes) reads the codes {wanted}: export the status as codes "
                f"(values, not labels), or give the labels of {sx.status_variable!r} in the Labels sheet"),
                first, sx.status_variable, value))
    status_of = {str(c): s for s, codes_ in sx.status_codes.items() for c in codes_}
    status = codes.map(status_of)
    left_out = status.isna()
    if len(raw) and left_out.all() and not faults:
        found = codes[~blank].value_counts().to_dict()
        wanted = "; ".join(f"{k} = {list(v)}" for k, v in sx.status_codes.items())
        faults.append(Fault(where, "no_respondents", (
            f"none of the {len(raw)} rows has a respondent status ({wanted} in survey.yaml: "
            f"surveyxact.status_codes); status values found: {found}: check status_variable and status_codes"),
            None, sx.status_variable))
    return status, faults, left_out


def _as_code(v: object) -> str:
    """A code as text: 1, 1.0 and '1.0' (CSV written from floats) all become '1'."""
    text = str(v).strip()
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def _recode_by_label(values: pd.Series, labels: dict[str, str], q, params: Params, where: str, var: str
                     ) -> tuple[pd.Series, list[Fault]]:
    """Recode SurveyXact codes to codebook codes through their label text (see :mod:`.labels`)."""
    recoding = recode_by_labels(labels, q, params.questionnaire)
    faults = [mismatch_fault(m, f"{where} [Labels]", var, q.id, "correct the label in the Labels sheet")
              for m in recoding.mismatches]
    mapping = recoding.mapping
    out = values.map(lambda v: pd.NA if pd.isna(v) or str(v).strip() == "" else mapping.get(_as_code(v), f"?{_as_code(v)}"))
    for idx, v in out.items():
        if isinstance(v, str) and v.startswith("?"):
            faults.append(Fault(f"{where} [Dataset]", "unknown_code",
                                f"code has no label in the Labels sheet for {var!r}", int(idx) + 1, var, v[1:]))
    out = out.map(lambda v: pd.NA if isinstance(v, str) and v.startswith("?") else v)
    return out, faults
