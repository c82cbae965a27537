"""The data contract's checks.

Each ``check_*`` function takes coerced frames (see :mod:`survey_lib.contract`) and returns a list of
:class:`~survey_lib.errors.Fault`; none raises on bad data and none drops a row. Value-domain checks
(allowed codes, ranges, uniqueness) are declared as pandera schemas and run lazily, so every failing
cell is reported; the checks that need context (cross-file membership, question filters, dates
against the closing date and the invitation, CPR-like ids, ages) are written out below.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .contract import WORKING_AGE, AgeLimits, ColumnSpec
from .cpr import cpr_like_mask, lost_zero_cpr_mask
from .derive import age_at
from .errors import Fault
from .params import Params, Question, Questionnaire

__all__ = [
    "check_columns", "check_cpr_columns", "check_population", "check_sample", "check_responses", "check_ages",
    "check_invitation_order", "asked_mask",
]


def _run_schema(df: pd.DataFrame, schema: pa.DataFrameSchema, file: str) -> list[Fault]:
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        faults = []
        fc = exc.failure_cases
        for _, r in fc.iterrows():
            row = None if pd.isna(r["index"]) else int(r["index"]) + 1
            check = str(r["check"])
            kind = "duplicate" if check == "field_uniqueness" else "bad_value"
            msg = "duplicated value; every person_id must occur once" if kind == "duplicate" else check
            faults.append(Fault(file, kind, msg, row, str(r["column"]),
                                None if pd.isna(r["failure_case"]) else str(r["failure_case"])))
        return faults
    return []


def check_columns(columns: Iterable[str], specs: tuple[ColumnSpec, ...], file: str,
                  one_of: tuple[tuple[str, ...], ...] = ()) -> list[Fault]:
    """Missing required columns and unknown columns (with the closest known name as a hint)."""
    columns = list(columns)
    known = [s.name for s in specs]
    faults = []
    unknown = [c for c in columns if c not in known]
    missing = [s.name for s in specs if s.required and s.name not in columns]
    for name in missing:
        hint = difflib.get_close_matches(name, unknown, n=1)
        extra = f"; the file has {hint[0]!r}: misspelled? (or map it in survey.yaml: column_names)" if hint else ""
        if not hint and len(unknown) == 1 and len(missing) == 1:
            extra = (f"; the file has one column the contract does not know, {unknown[0]!r}: if it holds "
                     f"{name}, rename it (or map it in survey.yaml: column_names)")
        if name == "person_id":
            extra += "; ids must be pseudonymous: CPR numbers are pseudonymized first (survey-report pseudonymize)"
        faults.append(Fault(file, "missing_column", f"required column {name!r} is missing{extra}", None, name))
    for group in one_of:
        if not any(g in columns for g in group):
            faults.append(Fault(file, "missing_column", f"one of the columns {list(group)} is required", None, group[0]))
    for c in unknown:
        hint = difflib.get_close_matches(c, known, n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else f"; expected columns: {known}"
        faults.append(Fault(file, "unknown_column", f"column {c!r} is not part of the data contract{extra}", None, c))
    for dup in sorted({c for c in columns if columns.count(c) > 1}):
        faults.append(Fault(file, "duplicate_column", "the column name occurs more than once", None, dup))
    return faults


def check_cpr_columns(frame: pd.DataFrame, specs: tuple[ColumnSpec, ...], file: str) -> list[Fault]:
    """Columns outside the contract whose values look like CPR numbers (also with the leading zero lost):
    the file has not been pseudonymized. The values are not echoed."""
    known = {s.name for s in specs}
    faults = []
    for col in frame.columns:
        if col in known:
            continue
        text = frame[col].map(lambda v: pd.NA if pd.isna(v) else (str(int(v)) if isinstance(v, float) and v.is_integer()
                                                                  else str(v))).astype("string")
        hits = cpr_like_mask(text) | lost_zero_cpr_mask(text)
        if hits.any():
            faults.append(Fault(file, "cpr_column", (
                f"the column holds CPR numbers ({int(hits.sum())} of {len(text)} rows, the first in row "
                f"{int(hits.to_numpy().nonzero()[0][0]) + 1}); CPR numbers never enter the analysis: pseudonymize "
                "the files first (survey-report pseudonymize --id-column NAME) or drop the column"), None, str(col)))
    return faults


def _id_faults(df: pd.DataFrame, file: str) -> list[Fault]:
    if "person_id" not in df.columns:
        return []
    faults = []
    ids = df["person_id"]
    for idx in ids[ids.isna()].index:
        faults.append(Fault(file, "missing_value", "person_id is blank; every row needs an id", int(idx) + 1, "person_id"))
    cpr = cpr_like_mask(ids)
    for idx in cpr[cpr].index:
        faults.append(Fault(file, "cpr_id", "person_id looks like a CPR number; CPR numbers are never accepted "
                            "as ids: pseudonymize the files first (survey-report pseudonymize)",
                            int(idx) + 1, "person_id", "<hidden>"))
    lost = lost_zero_cpr_mask(ids)
    for idx in lost[lost].index:
        faults.append(Fault(file, "cpr_id", "person_id is nine digits that form a CPR number once its leading zero "
                            "is put back (a spreadsheet stored the CPR number as a number); CPR numbers are never "
                            "accepted as ids: pseudonymize the original files (CPR column as text) first "
                            "(survey-report pseudonymize)", int(idx) + 1, "person_id", "<hidden>"))
    return faults


def _after(df: pd.DataFrame, col: str, limit: pd.Timestamp, file: str, what: str) -> list[Fault]:
    if col not in df.columns:
        return []
    late = df[col] > limit
    return [Fault(file, "date_after_closing", f"{what} lies after the closing date {limit.date()}",
                  int(i) + 1, col, str(df.at[i, col])) for i in late[late.fillna(False).astype(bool)].index]


def _required_values(df: pd.DataFrame, cols: Iterable[str], file: str) -> list[Fault]:
    faults = []
    for c in cols:
        if c in df.columns:
            for idx in df.index[df[c].isna()]:
                faults.append(Fault(file, "missing_value", "a value is required", int(idx) + 1, c))
    return faults


def check_population(pop: pd.DataFrame, params: Params, file: str, raw: pd.DataFrame | None = None) -> list[Fault]:
    """Population: ids, municipality, gender, age or birth date, benefit/målgruppe, start date."""
    s = params.survey
    ydelser = [y.code for y in s.ydelser]
    grupper = [m.code for m in s.maalgrupper]
    schema = pa.DataFrameSchema({
        "person_id": pa.Column(nullable=True, unique=True, report_duplicates="all", required=False),
        "kommune": pa.Column(nullable=True, required=False, checks=pa.Check.isin(
            [k.name for k in params.kommuner], error=f"unknown municipality; expected one of {[k.name for k in params.kommuner]}")),
        "koen": pa.Column(nullable=True, required=False, checks=pa.Check.isin(
            [g.code for g in s.genders], error=f"unknown gender; expected one of {[g.code for g in s.genders]}")),
        "ydelse": pa.Column(nullable=True, required=False, checks=pa.Check.isin(
            ydelser, error=f"unknown benefit (ydelse); expected one of {ydelser}")),
        "maalgruppe": pa.Column(nullable=True, required=False, checks=pa.Check.isin(
            grupper, error=f"unknown målgruppe; expected one of {grupper}")),
    })
    faults = _id_faults(pop, file) + _run_schema(pop, schema, file)
    faults += _required_values(pop, ("kommune", "koen", "startdato"), file)
    if "alder" in pop.columns or "foedselsdato" in pop.columns:
        age = pop["alder"] if "alder" in pop.columns else pd.Series(pd.NA, index=pop.index)
        birth = pop["foedselsdato"] if "foedselsdato" in pop.columns else pd.Series(pd.NaT, index=pop.index)
        for idx in pop.index[age.isna() & birth.isna()]:
            faults.append(Fault(file, "missing_value", "neither alder nor foedselsdato is given",
                                int(idx) + 1, "alder"))
    if "ydelse" in pop.columns or "maalgruppe" in pop.columns:
        y = pop["ydelse"] if "ydelse" in pop.columns else pd.Series(pd.NA, index=pop.index)
        m = pop["maalgruppe"] if "maalgruppe" in pop.columns else pd.Series(pd.NA, index=pop.index)
        for idx in pop.index[y.isna() & m.isna()]:
            faults.append(Fault(file, "missing_value", "neither ydelse nor maalgruppe is given", int(idx) + 1, "ydelse"))
        if "ydelse" in pop.columns and "maalgruppe" in pop.columns:
            implied = y.map(s.maalgruppe_of_ydelse)
            clash = implied.notna() & m.notna() & (implied.astype("string") != m)
            for idx in pop.index[clash.fillna(False).astype(bool)]:
                faults.append(Fault(file, "inconsistent", f"maalgruppe contradicts ydelse {y[idx]!r}, "
                                    f"which belongs to {implied[idx]!r}", int(idx) + 1, "maalgruppe", str(m[idx])))
    faults += check_ages(pop, WORKING_AGE, pd.Timestamp(s.age_reference_date), file)
    closing = pd.Timestamp(s.closing_date)
    faults += _after(pop, "startdato", closing, file, "the start date of the benefit spell")
    faults += _after(pop, "foedselsdato", closing, file, "the birth date")
    return faults


def check_ages(pop: pd.DataFrame, limits: AgeLimits, reference: pd.Timestamp, file: str) -> list[Fault]:
    """Ages outside ``limits``: the given ``alder``, or where it is blank the age that ``foedselsdato``
    gives at ``reference`` (whole years, :func:`survey_lib.derive.age_at`).

    The fault is on the column the age comes from and says where the limits come from."""
    given = pop["alder"] if "alder" in pop.columns else pd.Series(pd.NA, index=pop.index, dtype="Int64")
    birth = pop["foedselsdato"] if "foedselsdato" in pop.columns else None
    age = given
    if birth is not None:
        age = given.fillna(age_at(birth, reference))
    outside = (age.notna() & ((age < limits.low) | (age > limits.high))).fillna(False).astype(bool)
    faults = []
    for idx in pop.index[outside]:
        a = int(age[idx])
        if pd.notna(given[idx]):
            col, value, how = "alder", str(a), f"the age {a}"
        else:
            col, value = "foedselsdato", str(birth[idx].date())
            how = f"the age {a} (from the birth date, on {reference.date()}: age_reference_date)"
        faults.append(Fault(file, "age_out_of_range", f"{how} lies outside {limits.low}-{limits.high} years: "
                            f"{limits.source}; correct the {'age' if col == 'alder' else 'birth date'}",
                            int(idx) + 1, col, value))
    return faults


def isin_text(values: pd.Series, candidates) -> pd.Series:
    """``values.isin(candidates)`` for text columns, computed by Arrow's ``is_in`` on the whole
    column at once (pandas' Arrow-string ``isin`` converts every candidate to an Arrow scalar in
    Python: seconds for the ids of a national sample). Anything that is not all text falls back to
    pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow_text(s: pd.Series):
        """The Arrow array of a column of text without a Python object per value when it is held
        in Arrow already; else built from the values; None when the column is not all text."""
        if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
            return s.array.__arrow_array__().cast(pa.string())
        if isinstance(s.dtype, pd.StringDtype) or s.map(lambda v: isinstance(v, str) or v is None).all():
            return pa.array(s.astype(object).where(s.notna(), None).tolist(), type=pa.string())
        return None

    cand = candidates if isinstance(candidates, pd.Series) else pd.Series(
        candidates if isinstance(candidates, np.ndarray | pd.api.extensions.ExtensionArray) else list(candidates))
    arr = arrow_text(values)
    cand_arr = arrow_text(cand) if not cand.isna().any() else None
    if arr is None or cand_arr is None:
        return values.isin(candidates)
    hit = pc.is_in(arr, value_set=cand_arr)
    return pd.Series(np.asarray(hit.fill_null(False), dtype=bool), index=values.index)


def _membership_faults(frame: pd.DataFrame, ids: pd.Series | None, file: str, kind: str, message: str) -> list[Fault]:
    """A fault (file, row, column person_id, value) for every id of ``frame`` not among ``ids``
    (none when ``ids`` is None: the other file could not be read)."""
    if "person_id" not in frame.columns or ids is None:
        return []
    missing = frame["person_id"].notna() & ~isin_text(frame["person_id"], ids.dropna())
    return [Fault(file, kind, message, int(idx) + 1, "person_id", str(frame.at[idx, "person_id"]))
            for idx in frame.index[missing]]


def check_sample(sample: pd.DataFrame, population_ids: pd.Series | None, params: Params, file: str) -> list[Fault]:
    """Sample: unique ids that are all in the population (skipped when ``population_ids`` is None,
    i.e. the population file could not be read), invitation dates, reachability flags."""
    schema = pa.DataFrameSchema({"person_id": pa.Column(nullable=True, unique=True, report_duplicates="all", required=False)})
    faults = _id_faults(sample, file) + _run_schema(sample, schema, file)
    faults += _required_values(sample, ("invitation_date", "digital_post_exempt", "sms_reachable"), file)
    faults += _membership_faults(sample, population_ids, file, "not_in_population",
                                 "this sampled person is not in the population file")
    faults += _after(sample, "invitation_date", pd.Timestamp(params.survey.closing_date), file, "the invitation date")
    return faults


def check_invitation_order(resp: pd.DataFrame, sample: pd.DataFrame, file: str, sample_file: str) -> list[Fault]:
    """Responses started before the day the person was invited (sample: ``invitation_date``).

    A response submitted before the invitation is started before it too, or submitted before it was
    started (which :func:`check_responses` reports)."""
    if not {"person_id", "started_at"} <= set(resp.columns) or not {"person_id", "invitation_date"} <= set(sample.columns):
        return []
    invited = sample.dropna(subset=["person_id"]).drop_duplicates("person_id").reset_index(names="sample_index")
    ctx = resp[["person_id"]].join(invited.set_index("person_id")[["invitation_date", "sample_index"]], on="person_id")
    early = (resp["started_at"] < ctx["invitation_date"]).fillna(False).astype(bool)
    faults = []
    for idx in resp.index[early]:
        faults.append(Fault(file, "before_invitation", (
            f"the response was started before the person was invited on {ctx.at[idx, 'invitation_date'].date()} "
            f"({Path(sample_file).name} row {int(ctx.at[idx, 'sample_index']) + 1}, invitation_date); correct "
            "the start time or the invitation date"), int(idx) + 1, "started_at", str(resp.at[idx, "started_at"])))
    return faults


def asked_mask(q: Question, frame: pd.DataFrame) -> pd.Series:
    """True where the question's filter (``asked_if``) includes the respondent.

    ``frame`` holds the respondent's register variables and earlier answers. A clause holds when every
    variable it names has one of its allowed values; a blank value never satisfies a clause.
    """
    if not q.asked_if:
        return pd.Series(True, index=frame.index)
    result = pd.Series(False, index=frame.index)
    for clause in q.asked_if:
        ok = pd.Series(True, index=frame.index)
        for var, allowed in clause.items():
            col = frame[var] if var in frame.columns else pd.Series(pd.NA, index=frame.index)
            ok &= col.isin(list(allowed)).fillna(False).astype(bool)
        result |= ok
    return result


def _describe_filter(q: Question) -> str:
    return " or ".join("(" + ", ".join(f"{k} in {list(v)}" for k, v in c.items()) + ")" for c in q.asked_if or ())


def _responses_schema(qn: Questionnaire) -> pa.DataFrameSchema:
    """Unique ids, a known status and, per question column, the answer codes its codebook allows."""
    columns: dict[str, pa.Column] = {
        "person_id": pa.Column(nullable=True, unique=True, report_duplicates="all", required=False),
        "status": pa.Column(nullable=True, required=False, checks=pa.Check.isin(
            ["complete", "partial"], error="unknown status; expected 'complete' or 'partial'")),
    }
    for q in qn.questions:
        if q.kind == "likert":
            sc = qn.scales[q.scale]
            allowed = [c.score for c in sc.categories] + [sc.dont_know.code]
            what = f"scores 1-5 or {sc.dont_know.code} ({sc.dont_know.label})"
        elif q.kind == "single_choice":
            allowed = [o.code for o in q.options]
            what = "; ".join(f"{o.code} = {o.label}" for o in q.options)
        elif q.kind == "multi_select":
            allowed, what = [0, 1], "0 or 1 (option not ticked / ticked)"
        else:
            continue
        for c in q.columns:
            columns[c] = pa.Column(nullable=True, required=False, checks=pa.Check.isin(
                allowed, error=f"unknown answer code for question {q.id!r}; expected {what}"))
    return pa.DataFrameSchema(columns)


def _response_time_faults(resp: pd.DataFrame, closing_date: object, file: str) -> list[Fault]:
    """Started or submitted after the closing day, submitted before started, complete but never submitted."""
    faults = []
    closing_end = pd.Timestamp(closing_date) + pd.Timedelta(days=1)
    for col in ("started_at", "submitted_at"):
        if col in resp.columns:
            late = (resp[col] >= closing_end).fillna(False).astype(bool)
            for idx in resp.index[late]:
                faults.append(Fault(file, "date_after_closing", f"lies after the closing date {closing_date}",
                                    int(idx) + 1, col, str(resp.at[idx, col])))
    if {"started_at", "submitted_at"} <= set(resp.columns):
        before = (resp["submitted_at"] < resp["started_at"]).fillna(False).astype(bool)
        for idx in resp.index[before]:
            faults.append(Fault(file, "inconsistent", "submitted before it was started", int(idx) + 1,
                                "submitted_at", str(resp.at[idx, "submitted_at"])))
        if "status" in resp.columns:
            unsent = (resp["status"] == "complete").fillna(False).astype(bool) & resp["submitted_at"].isna()
            for idx in resp.index[unsent]:
                faults.append(Fault(file, "missing_value", "a complete response needs submitted_at",
                                    int(idx) + 1, "submitted_at"))
    return faults


def _filter_faults(resp: pd.DataFrame, register: pd.DataFrame, qn: Questionnaire, file: str) -> list[Fault]:
    """Answers from respondents whom the question's filter excludes (register variables joined by id)."""
    if "person_id" not in resp.columns or register.empty:
        return []
    faults = []
    reg_cols = [c for c in ("maalgruppe", "ydelse", "koen", "kommune", "alder_band") if c in register.columns]
    ctx = resp.join(register[reg_cols], on="person_id") if reg_cols else resp.copy()
    for q in qn.questions:
        if not q.asked_if:
            continue
        asked = asked_mask(q, ctx)
        for c in q.columns:
            if c not in resp.columns:
                continue
            answered = resp[c].notna() & ~((q.kind == "multi_select") & (resp[c] == 0)).fillna(False).astype(bool)
            wrong = answered & ~asked
            for idx in resp.index[wrong]:
                faults.append(Fault(file, "filtered_answer",
                                    f"an answer from someone the filter of question {q.id!r} excludes; "
                                    f"it is asked only if {_describe_filter(q)}",
                                    int(idx) + 1, c, str(resp.at[idx, c])))
    return faults


def _exclusive_option_faults(resp: pd.DataFrame, qn: Questionnaire, file: str) -> list[Fault]:
    """Multi-select: an exclusive option ticked together with another."""
    faults = []
    for q in qn.questions:
        if q.kind != "multi_select":
            continue
        for o in q.options:
            col = f"{q.id}_{o.code}"
            if not o.exclusive or col not in resp.columns:
                continue
            others = [f"{q.id}_{p.code}" for p in q.options if p.code != o.code and f"{q.id}_{p.code}" in resp.columns]
            clash = (resp[col] == 1).fillna(False).astype(bool) & (resp[others] == 1).fillna(False).any(axis=1)
            for idx in resp.index[clash]:
                faults.append(Fault(file, "inconsistent", f"option {o.label!r} excludes the other options of "
                                    f"question {q.id!r}, but another is ticked too", int(idx) + 1, col, "1"))
    return faults


def check_responses(resp: pd.DataFrame, sample_ids: pd.Series | None, register: pd.DataFrame, params: Params,
                    file: str) -> list[Fault]:
    """Responses: ids in the sample, status, timestamps, answer codes, question filters.

    ``register`` is the derived population frame indexed by ``person_id`` (for the filters);
    ``sample_ids`` is None when the sample file could not be read (membership is then not checked).
    """
    qn = params.questionnaire
    faults = _id_faults(resp, file) + _run_schema(resp, _responses_schema(qn), file)
    faults += _required_values(resp, ("status", "started_at"), file)
    faults += _membership_faults(resp, sample_ids, file, "not_in_sample", "this respondent is not in the sample file")
    faults += _response_time_faults(resp, params.survey.closing_date, file)
    faults += _filter_faults(resp, register, qn, file)
    faults += _exclusive_option_faults(resp, qn, file)
    return faults
