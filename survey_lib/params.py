"""Parameters: YAML files -> validated, frozen objects.

Configuration flows one way: :func:`load_params` reads ``questionnaire.yaml``, ``survey.yaml``,
``kommuner.yaml`` and ``freetext.yaml`` from a params folder, validates them (unknown or missing keys, wrong types, broken
cross-references) and returns a frozen :class:`Params`. The rest of the library takes these objects or
plain arguments and never reads YAML itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import typing
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ParamsError
from .pattern_syntax import parse_pattern
from .vocabulary import BREAKDOWN_VARIABLES

__all__ = [
    "Scale", "Category", "Theme", "Option", "Question", "Questionnaire", "Band", "DurationBand",
    "CodeLabel", "Ydelse", "Weighting", "Breakdown", "SurveyXactMap", "Survey", "Kommune", "Params",
    "load_params", "REGISTER_FILTER_VARIABLES",
]

# Register variables a question filter (`asked_if`) may refer to, besides answers to earlier questions.
REGISTER_FILTER_VARIABLES = ("maalgruppe", "ydelse", "koen", "kommune", "alder_band")

Code = Union[int, str]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------------
# questionnaire.yaml
# --------------------------------------------------------------------------------------------------
class Category(_Frozen):
    score: int = Field(ge=1, le=5)
    label: str


class DontKnow(_Frozen):
    code: int
    label: str


class Scale(_Frozen):
    """An answer scale: five categories from score 5 (most positive) to 1, plus 'ved ikke'."""

    label: str
    categories: tuple[Category, ...]
    dont_know: DontKnow

    @model_validator(mode="after")
    def _five_scores(self) -> "Scale":
        scores = [c.score for c in self.categories]
        if scores != [5, 4, 3, 2, 1]:
            raise ValueError(f"categories must be listed with scores 5, 4, 3, 2, 1 in that order; got {scores}")
        if self.dont_know.code in scores:
            raise ValueError(f"dont_know.code {self.dont_know.code} collides with a score 1-5")
        return self

    def label_of(self, code: int) -> str:
        """Label of a score or of the 'ved ikke' code."""
        if code == self.dont_know.code:
            return self.dont_know.label
        return next(c.label for c in self.categories if c.score == code)


class Theme(_Frozen):
    id: str
    label: str


class Option(_Frozen):
    code: Code
    label: str
    group: str | None = None
    exclusive: bool = False


QuestionKind = Literal["likert", "single_choice", "multi_select", "free_text"]


class Question(_Frozen):
    """One question of the codebook (see ``params/questionnaire.yaml`` for the meaning of each key)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    theme: str
    kind: QuestionKind
    heading: str
    text_present: str
    text_past: str | None = None
    intro: str | None = None
    scale: str | None = None
    options: tuple[Option, ...] | None = None
    asked_if: tuple[dict[str, tuple[Code, ...]], ...] | None = None
    note: str | None = None
    reconstructed: bool = False

    @model_validator(mode="after")
    def _kind_fields(self) -> "Question":
        if self.kind == "likert" and self.scale is None:
            raise ValueError(f"question {self.id!r} is likert and needs a 'scale'")
        if self.kind != "likert" and self.scale is not None:
            raise ValueError(f"question {self.id!r} is {self.kind} and must not have a 'scale'")
        if self.kind in ("single_choice", "multi_select") and not self.options:
            raise ValueError(f"question {self.id!r} is {self.kind} and needs 'options'")
        if self.kind in ("likert", "free_text") and self.options:
            raise ValueError(f"question {self.id!r} is {self.kind} and must not have 'options'")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names of this question in the responses file."""
        if self.kind == "multi_select":
            assert self.options is not None
            return tuple(f"{self.id}_{o.code}" for o in self.options)
        return (self.id,)

    def text(self, current: bool = True) -> str:
        """Wording as asked: present tense for current courses, past tense for ended ones."""
        return self.text_present if current or self.text_past is None else self.text_past


class Questionnaire(_Frozen):
    scales: dict[str, Scale]
    themes: tuple[Theme, ...]
    questions: tuple[Question, ...]

    @model_validator(mode="after")
    def _references(self) -> "Questionnaire":
        problems = []
        theme_ids = [t.id for t in self.themes]
        ids = [q.id for q in self.questions]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"question id {dup!r} is used more than once")
        earlier_columns: set[str] = set()
        for q in self.questions:
            if q.theme not in theme_ids:
                problems.append(f"question {q.id!r}: theme {q.theme!r} is not one of {theme_ids}")
            if q.scale is not None and q.scale not in self.scales:
                problems.append(f"question {q.id!r}: scale {q.scale!r} is not one of {sorted(self.scales)}")
            for clause in q.asked_if or ():
                for var in clause:
                    if var not in REGISTER_FILTER_VARIABLES and var not in earlier_columns:
                        problems.append(
                            f"question {q.id!r}: asked_if refers to {var!r}, which is neither a register "
                            f"variable {list(REGISTER_FILTER_VARIABLES)} nor a column of an earlier question"
                        )
            earlier_columns.update(q.columns)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def question(self, qid: str) -> Question:
        """The question with id ``qid``; a ParamsError names the known ids otherwise."""
        for q in self.questions:
            if q.id == qid:
                return q
        raise ParamsError(f"unknown question id {qid!r}; known ids: {[q.id for q in self.questions]}")

    @property
    def likert(self) -> tuple[Question, ...]:
        """The scored (likert) questions, in questionnaire order."""
        return tuple(q for q in self.questions if q.kind == "likert")


# --------------------------------------------------------------------------------------------------
# survey.yaml
# --------------------------------------------------------------------------------------------------
class Band(_Frozen):
    code: str
    label: str
    min: int
    max: int


class DurationBand(_Frozen):
    code: str
    label: str
    min_weeks: float
    max_weeks: float


class CodeLabel(_Frozen):
    code: str
    label: str


class Ydelse(_Frozen):
    code: str
    label: str
    maalgruppe: str


class Weighting(_Frozen):
    method: Literal["poststratify", "rake"]
    cells: tuple[str, ...]
    respondents: Literal["all", "complete"] = "all"
    min_respondents: int = Field(default=1, ge=1)
    trim_max_ratio: float | None = Field(default=None, gt=1)
    #: warn when a municipality's largest weight is above this multiple of its median weight
    max_weight_ratio: float = Field(default=10.0, gt=1)
    #: warn when more than this share of a municipality's population lies in merged (collapsed) cells
    max_collapsed_share: float = Field(default=0.25, ge=0, le=1)


class Breakdown(_Frozen):
    variable: str
    label: str
    only_current: bool = False


class SurveyXactMap(_Frozen):
    id_variable: str
    status_variable: str
    status_codes: dict[Literal["complete", "partial"], tuple[int, ...]]
    started_variable: str
    submitted_variable: str
    variables: dict[str, str]


class Batch(_Frozen):
    """Settings of the batch runner (``survey-report run``)."""

    kernel: str = "survey-lib"
    timeout_seconds: int = Field(default=600, ge=1)
    kernel_start_retries: int = Field(default=3, ge=0)
    kernel_reuse: int = Field(default=40, ge=1)
    max_design_effect: float = Field(default=2.0, gt=0)
    min_effective_n: int = Field(default=100, ge=1)


class Survey(_Frozen):
    wave: str
    title: str
    data_dir: str | None = None
    reminder_dates: tuple[dt.date, ...] = ()
    closing_date: dt.date
    age_reference_date: dt.date
    age_bands: tuple[Band, ...]
    duration_bands: tuple[DurationBand, ...]
    genders: tuple[CodeLabel, ...]
    maalgrupper: tuple[CodeLabel, ...]
    ydelser: tuple[Ydelse, ...]
    weighting: Weighting
    breakdowns: tuple[Breakdown, ...]
    significance_level: float = Field(gt=0, lt=1)
    multiple_testing: Literal["holm", "fdr_bh", "bonferroni"]
    comparison_testing: Literal["holm", "fdr_bh", "bonferroni"] = "fdr_bh"
    min_cell_size: int = Field(ge=1)
    reporting_minimum: int = Field(default=30, ge=1)
    show_other_municipalities: bool = False
    column_names: dict[Literal["population", "sample", "responses"], dict[str, str]]
    surveyxact: SurveyXactMap | None = None
    batch: Batch = Batch()
    #: municipalities of kommuner.yaml left out of the analysis (no tables, no pages; not in 'Alle')
    exclude_municipalities: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> "Survey":
        problems = []
        mg = [m.code for m in self.maalgrupper]
        for y in self.ydelser:
            if y.maalgruppe not in mg:
                problems.append(f"ydelse {y.code!r}: maalgruppe {y.maalgruppe!r} is not one of {mg}")
        ages = sorted(self.age_bands, key=lambda b: b.min)
        for a, b in zip(ages, ages[1:]):
            if b.min != a.max + 1:
                problems.append(f"age bands {a.code!r} and {b.code!r} leave a gap or overlap")
        durs = sorted(self.duration_bands, key=lambda b: b.min_weeks)
        for a, b in zip(durs, durs[1:]):
            if b.min_weeks != a.max_weeks:
                problems.append(f"duration bands {a.code!r} and {b.code!r} leave a gap or overlap")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def maalgruppe_of_ydelse(self) -> dict[str, str]:
        """Mapping benefit code -> målgruppe code."""
        return {y.code: y.maalgruppe for y in self.ydelser}


# --------------------------------------------------------------------------------------------------
# kommuner.yaml
# --------------------------------------------------------------------------------------------------
class Kommune(_Frozen):
    name: str
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    code: int = Field(ge=101, le=999)
    region: str


class _KommuneFile(_Frozen):
    kommuner: tuple[Kommune, ...]

    @model_validator(mode="after")
    def _unique(self) -> "_KommuneFile":
        for attr in ("name", "slug", "code"):
            vals = [getattr(k, attr) for k in self.kommuner]
            dups = sorted({str(v) for v in vals if vals.count(v) > 1})
            if dups:
                raise ValueError(f"kommuner: {attr} must be unique; repeated: {dups}")
        return self


class SatisfactionGroup(_Frozen):
    code: str
    label: str
    scores: tuple[int, ...]


class ReadingSample(_Frozen):
    per_stratum: int = Field(ge=1)
    seed: int


class LogOdds(_Frozen):
    prior_size: float = Field(gt=0)
    min_count: int = Field(ge=1)
    top: int = Field(ge=1)


class ThemeEntry(_Frozen):
    label: str
    tone: Literal["positiv", "negativ"]
    patterns: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _patterns_parse(self) -> "ThemeEntry":
        # checked here, so that a bad pattern is reported with its file and key like any other
        for p in self.patterns:
            parse_pattern(p)
        return self


class FreeText(_Frozen):
    """The free-text analysis: question, satisfaction groups, reading sample, stopwords, themes."""

    question: str
    satisfaction_question: str
    groups: tuple[SatisfactionGroup, ...] = Field(min_length=2)
    compare: tuple[str, str]
    reading_sample: ReadingSample
    log_odds: LogOdds
    stopwords: tuple[str, ...]
    keep: tuple[str, ...]
    themes: dict[str, ThemeEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "FreeText":
        codes = [g.code for g in self.groups]
        bad = [c for c in self.compare if c not in codes]
        if bad:
            raise ValueError(f"compare: {bad} are not group codes; the groups are {codes}")
        return self


class Params(_Frozen):
    """All parameters of a run, validated. ``sources`` maps each file role to its path; ``digest`` is a
    SHA-256 over the four files' bytes, for provenance."""

    questionnaire: Questionnaire
    survey: Survey
    kommuner: tuple[Kommune, ...]
    freetext: FreeText
    sources: dict[str, str]
    digest: str

    def kommune(self, name: str, parameter: str = "kommune") -> Kommune:
        """The municipality called ``name``; ParamsError lists the known names otherwise."""
        self.check_kommuner([name], parameter)
        return next(k for k in self.kommuner if k.name == name)

    def check_kommuner(self, names: "typing.Iterable[str]", parameter: str = "kommune") -> list[str]:
        """``names`` as a list when every one is in kommuner.yaml; else one ParamsError naming the
        parameter, every unknown name and the known ones (the one check of a municipality name)."""
        names = list(names)
        known = [k.name for k in self.kommuner]
        bad = [n for n in names if n not in known]
        if bad:
            raise ParamsError(f"{parameter}: unknown municipality {', '.join(map(repr, bad))}; "
                              f"expected names from kommuner.yaml: {known}")
        return names


# --------------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------------
_FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "questionnaire": ("questionnaire.yaml", Questionnaire),
    "survey": ("survey.yaml", Survey),
    "kommuner": ("kommuner.yaml", _KommuneFile),
    "freetext": ("freetext.yaml", FreeText),
}


def _unwrap(tp: Any) -> list[Any]:
    """The model classes reachable one level into a type annotation (list/tuple/dict/Optional)."""
    origin = typing.get_origin(tp)
    if origin is None:
        return [tp]
    out: list[Any] = []
    for arg in typing.get_args(tp):
        if arg is Ellipsis:
            continue
        out.extend(_unwrap(arg))
    return out


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the key at the end of ``loc``."""
    current: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for cls in current:
            if isinstance(cls, type) and issubclass(cls, BaseModel):
                if isinstance(part, str) and part in cls.model_fields:
                    nxt.extend(_unwrap(cls.model_fields[part].annotation))
            else:
                nxt.append(cls)
        # a list index (or a dict key that is no field) keeps the element type reached so far
        current = nxt if nxt else current
    for cls in current:
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            return cls
    return None


def _describe_loc(loc: tuple[Any, ...], raw: Any) -> str:
    """Human path such as ``questions[3] (id 'tillid').scale``."""
    parts: list[str] = []
    node = raw
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node):
                node = node[part]
                if isinstance(node, dict) and "id" in node:
                    label += f" (id {node['id']!r})"
                elif isinstance(node, dict) and "code" in node:
                    label += f" (code {node['code']!r})"
                elif isinstance(node, dict) and "name" in node:
                    label += f" (name {node['name']!r})"
            parts.append(label)
        else:
            node = node.get(part) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def _format_validation(path: Path, model: type[BaseModel], raw: Any, err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if p not in ("function-after", "function-before"))
        etype = e["type"]
        if etype == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            allowed = sorted(parent.model_fields) if parent else []
            lines.append(
                f"{path}: unknown key {loc[-1]!r} at {_describe_loc(loc[:-1], raw)}; allowed keys: {allowed}. "
                "Fix the spelling or remove the key."
            )
        elif etype == "missing":
            parent = _model_at(model, loc[:-1])
            allowed = sorted(parent.model_fields) if parent else []
            lines.append(
                f"{path}: missing key {loc[-1]!r} at {_describe_loc(loc[:-1], raw)}; allowed keys: {allowed}."
            )
        else:
            got = e.get("input")
            got_txt = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
            lines.append(f"{path}: {_describe_loc(loc, raw)}: {e['msg']}{got_txt}")
    return lines


#: PyYAML's safe loader, in C (libyaml) when PyYAML was built with it: the same documents, about ten
#: times faster than the pure-Python one (every notebook of a batch reads the parameter files).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(content: Any) -> str:
    """``content`` as YAML text (UTF-8 characters kept, keys in their order), by libyaml's emitter
    when PyYAML has it: the same text as ``yaml.safe_dump`` (compared on every merged parameter
    file of the waves), several times faster (each wave's parameters are merged and written on
    every run)."""
    return yaml.dump(content, Dumper=_SAFE_DUMPER, allow_unicode=True, sort_keys=False)


def read_yaml(path: Path, not_found: str = "file not found") -> Any:
    """A YAML file's content; a :class:`ParamsError` naming the file when it is missing
    (``not_found`` says what was expected), not valid YAML or not UTF-8 text."""
    if not path.is_file():
        raise ParamsError(f"{path}: {not_found}")
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text: {exc}") from exc


def _read_yaml(path: Path) -> Any:
    return read_yaml(path, f"parameter file not found (expected one of {[f for f, _ in _FILES.values()]})")


def load_params(params_dir: Path | str) -> Params:
    """Load and validate the four parameter files of ``params_dir``.

    Parameters
    ----------
    params_dir
        Folder holding ``questionnaire.yaml``, ``survey.yaml``, ``kommuner.yaml`` and ``freetext.yaml``.

    Returns
    -------
    Params
        Frozen, validated parameters.

    Raises
    ------
    ParamsError
        Listing every problem found: each names the file, the key (with its path) and, for unknown or
        missing keys, the allowed keys.
    """
    params_dir = Path(params_dir)
    parsed, sources, digest = _parse_files(params_dir)
    problems = (_filter_problems(params_dir, parsed) + _freetext_problems(params_dir, parsed)
                + _breakdown_problems(params_dir, parsed["survey"]))
    if problems:
        raise ParamsError("Invalid parameters:\n  - " + "\n  - ".join(problems))
    params = Params(
        questionnaire=parsed["questionnaire"],
        survey=parsed["survey"],
        kommuner=parsed["kommuner"].kommuner,
        freetext=parsed["freetext"],
        sources=sources,
        digest=digest,
    )
    params.check_kommuner(params.survey.exclude_municipalities,
                          f"{params_dir / 'survey.yaml'}: exclude_municipalities")
    return params


def _parse_files(params_dir: Path) -> tuple[dict[str, Any], dict[str, str], str]:
    """Each file validated on its own: (models by role, paths by role, SHA-256 over the files' bytes).
    Raises one ParamsError listing the problems of every file."""
    problems: list[str] = []
    parsed: dict[str, Any] = {}
    digest = hashlib.sha256()
    sources: dict[str, str] = {}
    for role, (fname, model) in _FILES.items():
        path = params_dir / fname
        raw = _read_yaml(path)
        digest.update(fname.encode() + b"\0" + path.read_bytes() + b"\0")
        sources[role] = str(path)
        if not isinstance(raw, dict):
            problems.append(f"{path}: expected a mapping of keys at the top level, got {type(raw).__name__}")
            continue
        try:
            parsed[role] = model.model_validate(raw)
        except ValidationError as err:
            problems.extend(_format_validation(path, model, raw, err))
    if problems:
        raise ParamsError("Invalid parameters:\n  - " + "\n  - ".join(problems))
    return parsed, sources, digest.hexdigest()


def _filter_problems(params_dir: Path, parsed: dict[str, Any]) -> list[str]:
    """Cross-file check: the questions' filters (``asked_if``) refer to codes that exist."""
    survey: Survey = parsed["survey"]
    known = {
        "maalgruppe": {m.code for m in survey.maalgrupper},
        "ydelse": {y.code for y in survey.ydelser},
        "koen": {g.code for g in survey.genders},
        "kommune": {k.name for k in parsed["kommuner"].kommuner},
        "alder_band": {b.code for b in survey.age_bands},
    }
    qpath = params_dir / "questionnaire.yaml"
    problems = []
    for q in parsed["questionnaire"].questions:
        for clause in q.asked_if or ():
            for var, values in clause.items():
                bad = [v for v in values if v not in known.get(var, values)]
                if bad:
                    problems.append(f"{qpath}: question {q.id!r}: asked_if {var} has unknown value(s) {bad}; "
                                    f"allowed: {sorted(known[var])} (from survey.yaml / kommuner.yaml)")
    return problems


def _freetext_problems(params_dir: Path, parsed: dict[str, Any]) -> list[str]:
    """Cross-file check: freetext.yaml's questions are a free-text and a 1–5 question of the codebook."""
    ft: FreeText = parsed["freetext"]
    fpath = params_dir / "freetext.yaml"
    kinds = {q.id: q.kind for q in parsed["questionnaire"].questions}
    problems = []
    for key, qid, kind in (("question", ft.question, "free_text"),
                           ("satisfaction_question", ft.satisfaction_question, "likert")):
        if kinds.get(qid) != kind:
            wanted = sorted(q for q, k in kinds.items() if k == kind)
            problems.append(f"{fpath}: {key}: {qid!r} is not a {kind} question of questionnaire.yaml; "
                            f"expected one of {wanted}")
    return problems


def _breakdown_problems(params_dir: Path, survey: Survey) -> list[str]:
    """survey.yaml's breakdowns name variables of the vocabulary."""
    return [f"{params_dir / 'survey.yaml'}: breakdowns: unknown variable {b.variable!r}; "
            f"allowed: {list(BREAKDOWN_VARIABLES)}" for b in survey.breakdowns if b.variable not in BREAKDOWN_VARIABLES]
