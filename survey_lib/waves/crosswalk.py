"""The question crosswalk: each wave's scored questions -> stable question ids, and what can be
compared between two waves.

``params/waves/crosswalk.yaml`` maps, per stable id, each wave's question id (or a mapping with
``question``, ``reworded``, ``comparable``, ``recode`` and ``reason``). A question is comparable
between an earlier wave A and a later wave B when it is asked in both and no wave after A up to B
marks it ``comparable: false``. A theme's score is comparable when the theme exists in both waves,
is made of the same stable questions in both, and each of them is comparable (docs/waves.md).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import ParamsError
from ..params import Params, Questionnaire
from ..scores import theme_score_ids

__all__ = ["CrosswalkEntry", "Crosswalk", "load_crosswalk", "Comparability", "CROSSWALK_FILE"]

CROSSWALK_FILE = "crosswalk.yaml"
_ENTRY_KEYS = ("question", "reworded", "comparable", "recode", "reason")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (a stable id mapped twice)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ParamsError(f"{getattr(loader, 'source_path', 'crosswalk')}: key {key!r} is given twice "
                              f"(lines {seen[key]} and {key_node.start_mark.line + 1}); a stable id is "
                              "mapped twice. Keep one entry per stable id and per wave.")
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


@dataclass(frozen=True)
class CrosswalkEntry:
    """One wave's question for one stable id."""

    stable_id: str
    wave: str
    question: str
    reworded: bool = False
    comparable: bool = True
    recode: Mapping[int, int] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Comparability:
    """Whether an outcome can be compared between two waves, and why not (Danish, for readers)."""

    stable_id: str
    comparable: bool
    reason: str = ""
    earlier_id: str | None = None
    later_id: str | None = None


@dataclass(frozen=True)
class Crosswalk:
    """The validated crosswalk: the waves in time order and, per stable id, each wave's entry."""

    waves: tuple[str, ...]
    entries: Mapping[str, Mapping[str, CrosswalkEntry]]
    questionnaires: Mapping[str, Questionnaire] = field(repr=False)
    source: str = CROSSWALK_FILE

    def to_stable(self, wave: str) -> dict[str, str]:
        """``{wave's question id: stable id}`` for ``wave``."""
        return {e[wave].question: sid for sid, e in self.entries.items() if wave in e}

    def _heading(self, stable_id: str) -> str:
        for w in reversed(self.waves):
            if w in self.entries.get(stable_id, {}):
                return self.questionnaires[w].question(self.entries[stable_id][w].question).heading
        return stable_id

    def question(self, stable_id: str, earlier: str, later: str) -> Comparability:
        """Whether the question ``stable_id`` is comparable between waves ``earlier`` and ``later``."""
        per = self.entries[stable_id]
        a, b = per.get(earlier), per.get(later)
        if a is None and b is None:
            return Comparability(stable_id, False, f"Spørgsmålet er ikke stillet i {earlier} eller {later}.")
        if a is None:
            return Comparability(stable_id, False, f"Spørgsmålet er nyt i {later} (ikke stillet i {earlier}).",
                                 later_id=b.question)
        if b is None:
            return Comparability(stable_id, False, f"Spørgsmålet er udgået i {later} (stillet i {earlier}).",
                                 earlier_id=a.question)
        i, j = self.waves.index(earlier), self.waves.index(later)
        for w in self.waves[i + 1:j + 1]:
            e = per.get(w)
            if e is not None and not e.comparable:
                return Comparability(stable_id, False, f"Ikke sammenlignelig fra {w}: {e.reason}",
                                     a.question, b.question)
        return Comparability(stable_id, True, "", a.question, b.question)

    def theme_ids(self, wave: str) -> dict[str, str]:
        """``{outcome id of a theme score in the wave's tables: stable id}``: ``tema_<theme>`` for a
        theme of several questions; a theme of one question has no score of its own."""
        return {oid: oid for oid in theme_score_ids(self.questionnaires[wave]).values() if oid.startswith("tema_")}

    def _theme_questions(self, wave: str, theme: str) -> set[str]:
        stable = self.to_stable(wave)
        return {stable[q.id] for q in self.questionnaires[wave].likert if q.theme == theme}

    def theme(self, theme: str, earlier: str, later: str) -> Comparability:
        """Whether the score of ``theme`` is comparable between ``earlier`` and ``later``: the theme
        has a score in both, of the same stable questions, each comparable."""
        sid = f"tema_{theme}"
        have = {w: sid in self.theme_ids(w) for w in (earlier, later)}
        label = next((t.label for w in (later, earlier) for t in self.questionnaires[w].themes if t.id == theme), theme)
        if not have[earlier] or not have[later]:
            missing = [w for w in (earlier, later) if not have[w]]
            return Comparability(sid, False, f"Temaet '{label}' har ingen samlet score i {' og '.join(missing)}"
                                 + self._moves(theme, earlier, later) + ".")
        qa, qb = self._theme_questions(earlier, theme), self._theme_questions(later, theme)
        if qa != qb:
            parts = []
            out, new = sorted(qa - qb), sorted(qb - qa)
            if out:
                parts.append(f"ikke længere med i {later}: " + ", ".join(self._heading(s) for s in out))
            if new:
                parts.append(f"nye i {later}: " + ", ".join(self._heading(s) for s in new))
            return Comparability(sid, False, f"Temaet '{label}' består af andre spørgsmål ({'; '.join(parts)})"
                                 + self._moves(theme, earlier, later) + ".",
                                 sid, sid)
        bad = [s for s in sorted(qa) if not self.question(s, earlier, later).comparable]
        if bad:
            return Comparability(sid, False, f"Temaet '{label}' rummer spørgsmål, der ikke kan sammenlignes: "
                                 + ", ".join(self._heading(s) for s in bad) + ".", sid, sid)
        return Comparability(sid, True, "", sid, sid)

    def comparisons(self, earlier: str, later: str) -> list[Comparability]:
        """Every stable question and theme of either wave, with its comparability."""
        out = [self.question(s, earlier, later) for s in self.entries
               if earlier in self.entries[s] or later in self.entries[s]]
        themes: list[str] = []
        for w in (earlier, later):
            for oid in self.theme_ids(w):
                t = oid[len("tema_"):]
                if t not in themes:
                    themes.append(t)
        return out + [self.theme(t, earlier, later) for t in themes]

    def _theme_label(self, wave: str, theme: str) -> str:
        return next((t.label for t in self.questionnaires[wave].themes if t.id == theme), theme)

    def _moves(self, theme: str, earlier: str, later: str) -> str:
        """' (X flyttet fra/til temaet Y)' for the stable questions that left or joined ``theme``."""
        parts = []
        for sid in self.entries:
            m = self.moved(sid, earlier, later)
            if m and m[0] == theme:
                parts.append(f"{self._heading(sid)} er flyttet til '{self._theme_label(later, m[1])}'")
            elif m and m[1] == theme:
                parts.append(f"{self._heading(sid)} hørte i {earlier} til '{self._theme_label(earlier, m[0])}'")
        return f" ({'; '.join(parts)})" if parts else ""

    def moved(self, stable_id: str, earlier: str, later: str) -> tuple[str, str] | None:
        """``(theme in earlier, theme in later)`` when the question moved theme, else None."""
        per = self.entries[stable_id]
        if earlier not in per or later not in per:
            return None
        ta = self.questionnaires[earlier].question(per[earlier].question).theme
        tb = self.questionnaires[later].question(per[later].question).theme
        return (ta, tb) if ta != tb else None


def _entry(sid: str, wave: str, raw: Any, where: str, problems: list[str]) -> CrosswalkEntry | None:
    key = f"{where}: questions.{sid}.{wave}"
    if isinstance(raw, str):
        return CrosswalkEntry(sid, wave, raw)
    if not isinstance(raw, dict):
        problems.append(f"{key}: expected a question id or a mapping with keys {list(_ENTRY_KEYS)}; got {raw!r}")
        return None
    extra = sorted(set(raw) - set(_ENTRY_KEYS))
    if extra:
        problems.append(f"{key}: unknown key(s) {extra}; allowed keys: {list(_ENTRY_KEYS)}")
        return None
    if not isinstance(raw.get("question"), str):
        problems.append(f"{key}: missing key 'question' (the wave's question id)")
        return None
    if raw.get("reworded") and "comparable" not in raw:
        problems.append(f"{key}: reworded without 'comparable'; the methodologist must mark a reworded "
                        "question comparable: true or comparable: false")
    if raw.get("comparable") is False and not raw.get("reason"):
        problems.append(f"{key}: comparable: false needs a 'reason' (shown on the trend pages)")
    recode = raw.get("recode")
    if recode is not None and not (isinstance(recode, dict) and all(isinstance(k, int) and isinstance(v, int)
                                                                   for k, v in recode.items())):
        problems.append(f"{key}.recode: expected a mapping of whole scores {{score in {wave}: stable score}}; got {recode!r}")
        recode = None
    return CrosswalkEntry(sid, wave, raw["question"], bool(raw.get("reworded", False)),
                          bool(raw.get("comparable", True)), recode, raw.get("reason"))


def load_crosswalk(path: Path | str, waves: Mapping[str, Params]) -> Crosswalk:
    """Read and validate the crosswalk against the waves' parameters.

    Parameters
    ----------
    path
        ``params/waves/crosswalk.yaml``.
    waves
        ``{wave name: its validated Params}`` for every wave the crosswalk lists.

    Raises
    ------
    ParamsError
        Listing every problem, each naming the file and the key: an unknown key or wave, a question
        the wave's codebook does not have (or that is not on the 1–5 scale), a stable id mapped twice
        (a repeated key, or two stable ids for one wave question), a scored question of a wave
        missing from the crosswalk, a reworded question without the methodologist's mark, a scale
        change without a recoding, and a recoding with a code outside the wave's scale.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: crosswalk file not found")
    loader = _UniqueKeyLoader(path.read_text(encoding="utf-8"))
    loader.source_path = str(path)  # type: ignore[attr-defined]
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    where = str(path)
    if not isinstance(raw, dict) or set(raw) - {"waves", "questions"} or not {"waves", "questions"} <= set(raw):
        got = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise ParamsError(f"{path}: expected the top-level keys ['questions', 'waves']; got {got}")
    order = [str(w) for w in raw["waves"]]
    problems: list[str] = []
    for w in order:
        if w not in waves:
            problems.append(f"{where}: waves: unknown wave {w!r}; the waves loaded are {sorted(waves)}")
    if problems:
        raise ParamsError("Invalid crosswalk:\n  - " + "\n  - ".join(problems))
    entries: dict[str, dict[str, CrosswalkEntry]] = {}
    used: dict[tuple[str, str], str] = {}
    for sid, per in (raw["questions"] or {}).items():
        sid = str(sid)
        if not isinstance(per, dict):
            problems.append(f"{where}: questions.{sid}: expected a mapping {{wave: question}}; got {per!r}")
            continue
        entries[sid] = {}
        for w, spec in per.items():
            w = str(w)
            if w not in order:
                problems.append(f"{where}: questions.{sid}: unknown wave {w!r}; expected one of {order}")
                continue
            e = _entry(sid, w, spec, where, problems)
            if e is None:
                continue
            qn = waves[w].questionnaire
            ids = [q.id for q in qn.questions]
            if e.question not in ids:
                close = difflib.get_close_matches(e.question, ids, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(f"{where}: questions.{sid}.{w}: unknown question {e.question!r}{hint}: "
                                f"wave {w}'s questionnaire has no such question")
                continue
            if qn.question(e.question).kind != "likert":
                problems.append(f"{where}: questions.{sid}.{w}: question {e.question!r} is not on the 1–5 scale "
                                "(only scored questions are in the crosswalk)")
                continue
            if (w, e.question) in used:
                problems.append(f"{where}: questions.{sid}.{w}: question {e.question!r} of wave {w} is already "
                                f"mapped to stable id {used[(w, e.question)]!r}; a question maps to one stable id")
                continue
            used[(w, e.question)] = sid
            entries[sid][w] = e
    for w in order:
        for q in waves[w].questionnaire.likert:
            if (w, q.id) not in used:
                problems.append(f"{where}: wave {w}'s question {q.id!r} is not in the crosswalk; add it under "
                                "questions (a new stable id for a new question)")
    problems.extend(_scale_problems(entries, order, waves, where))
    if problems:
        raise ParamsError("Invalid crosswalk:\n  - " + "\n  - ".join(problems))
    return Crosswalk(tuple(order), entries, {w: waves[w].questionnaire for w in order}, where)


def _scale_problems(entries: dict[str, dict[str, CrosswalkEntry]], order: list[str],
                    waves: Mapping[str, Params], where: str) -> list[str]:
    """A scale that differs from the wave before (where the question was asked) needs a recoding of
    every score of the new scale onto 1–5; recodings name only codes of the wave's scale."""
    problems = []
    for sid, per in entries.items():
        previous: str | None = None
        for w in order:
            e = per.get(w)
            if e is None:
                continue
            scale = waves[w].questionnaire.question(e.question).scale
            if e.recode is not None:
                codes = [c.score for c in waves[w].questionnaire.scales[scale].categories]
                bad = sorted(set(e.recode) - set(codes))
                missing = sorted(set(codes) - set(e.recode))
                out = sorted(v for v in e.recode.values() if not 1 <= v <= 5)
                if bad or missing or out:
                    problems.append(f"{where}: questions.{sid}.{w}.recode: codes {bad} are not scores of wave {w}'s "
                                    f"scale {scale!r}; scores without a recoding: {missing}; stable scores outside "
                                    f"1–5: {out}. Map each of {codes} to a stable score 1–5.")
            if previous is not None:
                before = waves[previous].questionnaire.question(per[previous].question).scale
                if before != scale and e.recode is None:
                    problems.append(f"{where}: questions.{sid}.{w}: the scale changed from {before!r} ({previous}) to "
                                    f"{scale!r} ({w}) without a recoding; add recode: {{score in {w}: stable score}}")
            previous = w
    return problems
