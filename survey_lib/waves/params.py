"""A wave's parameters: the shared files in ``params/`` with the wave's own ``wave.yaml`` laid over.

Layout (docs/waves.md)::

    params/                      shared by every wave: questionnaire, survey, freetext (and the pilot's
                                 kommuner.yaml)
    params/waves/kommuner.yaml   every Danish municipality: the register a wave's participants come from
    params/waves/crosswalk.yaml  each wave's question ids -> stable question ids
    params/waves/<wave>/wave.yaml  what differs in that wave: dates, participants, questionnaire changes

The merged files are validated by :func:`survey_lib.params.load_params` exactly as a single-wave
params folder, so every check and error message of the shared loader applies to a wave too; the
messages name the wave file beside the shared file.
"""

from __future__ import annotations

import copy
import difflib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ParamsError
from ..params import Params, dump_yaml, load_params, read_yaml
from ..paths import ProjectPaths

__all__ = ["WAVES_DIR", "WAVE_FILE", "Wave", "list_waves", "load_wave", "merge_survey", "patch_questionnaire",
           "merged_files", "write_wave_params"]

WAVES_DIR = "waves"          # params/waves/
WAVE_FILE = "wave.yaml"      # params/waves/<wave>/wave.yaml
REGISTER_FILE = "kommuner.yaml"
_SHARED = ("questionnaire.yaml", "survey.yaml", "kommuner.yaml", "freetext.yaml")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Added(_Frozen):
    after: str
    question: dict[str, Any]


class _QuestionnairePatch(_Frozen):
    themes: list[dict[str, Any]] | None = None
    change: dict[str, dict[str, Any]] = Field(default_factory=dict)
    add: list[_Added] = Field(default_factory=list)
    drop: list[str] = Field(default_factory=list)


class _WaveFile(_Frozen):
    label: str
    year: int = Field(ge=2000, le=2100)
    data_dir: str
    survey: dict[str, Any] = Field(default_factory=dict)
    kommuner: list[str] | None = None
    questionnaire: _QuestionnairePatch = _QuestionnairePatch()


@dataclass(frozen=True)
class Wave:
    """One wave: its name (the folder under ``params/waves/``), label, year, data folder and the
    validated parameters of the merged files."""

    name: str
    label: str
    year: int
    data_dir: Path
    params: Params
    wave_file: Path

    @property
    def kommuner(self) -> tuple[str, ...]:
        """The participating municipalities' names."""
        return tuple(k.name for k in self.params.kommuner)


def _read(path: Path) -> Any:
    return read_yaml(path)


def list_waves(params_dir: Path | str | None = None) -> list[str]:
    """The waves defined under ``params_dir/waves`` (folders holding a ``wave.yaml``), in year order."""
    root = Path(params_dir or ProjectPaths().params) / WAVES_DIR
    names = [p.parent.name for p in root.glob(f"*/{WAVE_FILE}")]
    years = {n: _read(root / n / WAVE_FILE).get("year", 0) for n in names}
    return sorted(names, key=lambda n: (years[n], n))


def merge_survey(shared: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``shared`` with ``overlay`` merged in: mappings key by key (recursively), anything else replaced."""
    out = copy.deepcopy(shared)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_survey(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def patch_questionnaire(shared: dict[str, Any], patch: _QuestionnairePatch, where: str) -> dict[str, Any]:
    """The shared codebook with a wave's changes: ``change`` (keys of a question set), ``add`` (a
    question inserted after another), ``drop`` (questions removed), ``themes`` (the list replaced).
    A question id the codebook does not have is a ParamsError naming ``where`` and the key."""
    q = copy.deepcopy(shared)
    questions: list[dict[str, Any]] = q["questions"]
    ids = [x["id"] for x in questions]
    problems = []

    def unknown(key: str, qid: str) -> str:
        close = difflib.get_close_matches(qid, ids, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{where}: questionnaire.{key}: unknown question {qid!r}{hint}; known ids: {ids}"

    for qid, keys in patch.change.items():
        if qid not in ids:
            problems.append(unknown(f"change.{qid}", qid))
            continue
        questions[ids.index(qid)].update(copy.deepcopy(keys))
    for i, added in enumerate(patch.add):
        if added.after not in ids:
            problems.append(unknown(f"add[{i}].after", added.after))
            continue
        pos = ids.index(added.after) + 1
        questions.insert(pos, copy.deepcopy(added.question))
        ids.insert(pos, str(added.question.get("id")))
    for qid in patch.drop:
        if qid not in ids:
            problems.append(unknown("drop", qid))
            continue
        del questions[ids.index(qid)]
        ids.remove(qid)
    if patch.themes is not None:
        q["themes"] = copy.deepcopy(patch.themes)
    if problems:
        raise ParamsError("Invalid wave parameters:\n  - " + "\n  - ".join(problems))
    return q


def _participants(names: list[str], register: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    by_name = {k["name"]: k for k in register}
    problems = []
    for i, n in enumerate(names):
        if n not in by_name:
            close = difflib.get_close_matches(n, list(by_name), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{where}: kommuner[{i}]: unknown municipality {n!r}{hint} "
                            f"(expected a name from params/{WAVES_DIR}/{REGISTER_FILE})")
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        problems.append(f"{where}: kommuner: listed more than once: {dups}")
    if problems:
        raise ParamsError("Invalid wave parameters:\n  - " + "\n  - ".join(problems))
    return [by_name[n] for n in names]


def _wave_file(wave: str, params_dir: Path) -> tuple[Path, _WaveFile]:
    wave_file = params_dir / WAVES_DIR / wave / WAVE_FILE
    if not wave_file.is_file():
        raise ParamsError(f"unknown wave {wave!r}: {wave_file} not found; the waves defined are "
                          f"{list_waves(params_dir)}")
    raw = _read(wave_file)
    try:
        return wave_file, _WaveFile.model_validate(raw or {})
    except ValidationError as err:
        lines = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"])
            if e["type"] == "extra_forbidden":
                lines.append(f"{wave_file}: unknown key {loc!r}; allowed keys: {sorted(_WaveFile.model_fields)} "
                             "(questionnaire: themes, change, add, drop). Fix the spelling or remove the key.")
            else:
                lines.append(f"{wave_file}: {loc}: {e['msg']}")
        raise ParamsError("Invalid wave parameters:\n  - " + "\n  - ".join(lines)) from None


def merged_files(wave: str, params_dir: Path | str | None = None) -> dict[str, Any]:
    """The four parameter files of ``wave`` as merged mappings (``{file name: content}``), before
    validation: the shared files of ``params_dir`` with the wave file laid over."""
    params_dir = Path(params_dir or ProjectPaths().params)
    wave_file, wf = _wave_file(wave, params_dir)
    shared = {name: _read(params_dir / name) for name in _SHARED}
    merged = dict(shared)
    merged["survey.yaml"] = merge_survey(shared["survey.yaml"], wf.survey)
    merged["questionnaire.yaml"] = patch_questionnaire(shared["questionnaire.yaml"], wf.questionnaire, str(wave_file))
    if wf.kommuner is not None:
        register = _read(params_dir / WAVES_DIR / REGISTER_FILE)["kommuner"]
        merged["kommuner.yaml"] = {"kommuner": _participants(wf.kommuner, register, str(wave_file))}
    return merged


def write_wave_params(wave: str, dest: Path | str, params_dir: Path | str | None = None, header: str = "") -> Path:
    """Write the merged parameter files of ``wave`` to the folder ``dest`` (a params folder that
    :func:`survey_lib.params.load_params` reads, e.g. for the batch); ``header`` (comment lines) is
    put on top of ``survey.yaml``. Returns ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name, content in merged_files(wave, params_dir).items():
        text = dump_yaml(content)
        if name == "survey.yaml" and header:
            text = "".join(f"# {line}\n" for line in header.splitlines()) + text
        (dest / name).write_text(text, encoding="utf-8")
    return dest


def load_wave(wave: str, params_dir: Path | str | None = None, root: Path | str | None = None) -> Wave:
    """Load and validate wave ``wave``: the shared files of ``params_dir`` with
    ``params_dir/waves/<wave>/wave.yaml`` laid over, validated as one :class:`~survey_lib.params.Params`.

    Parameters
    ----------
    wave
        The wave's folder name under ``params_dir/waves`` (e.g. ``"2025"``).
    params_dir
        The shared params folder (default: the project's ``params/``).
    root
        What ``data_dir`` in the wave file is relative to (default: the project root).

    Raises
    ------
    ParamsError
        Naming the file and key: an unknown wave (with the known ones), an unknown key in the wave
        file, a municipality not in the register, a question the codebook does not have, or any
        problem the shared loader finds in the merged files (named by the wave file and the shared
        file it was merged over).
    """
    params_dir = Path(params_dir or ProjectPaths().params)
    root = Path(root) if root is not None else params_dir.parent
    wave_file, wf = _wave_file(wave, params_dir)
    with tempfile.TemporaryDirectory(prefix=f"wave-{wave}-") as tmp:
        write_wave_params(wave, tmp, params_dir)
        try:
            params = load_params(tmp)
        except ParamsError as exc:
            msg = str(exc)
            for name in _SHARED:
                msg = msg.replace(str(Path(tmp) / name), f"{wave_file} (merged over {params_dir / name})")
            raise ParamsError(msg) from None
    sources = {role: f"{params_dir / Path(src).name} + {wave_file}" for role, src in params.sources.items()}
    params = params.model_copy(update={"sources": sources})
    return Wave(name=wave, label=wf.label, year=wf.year, data_dir=root / wf.data_dir, params=params,
                wave_file=wave_file)
