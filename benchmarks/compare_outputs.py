"""Are two batches' outputs the same? Byte for byte, up to what a run itself changes.

Run: .venv/bin/python benchmarks/compare_outputs.py OLD_WAVE_DIR NEW_WAVE_DIR

For checking that a speed change published nothing different: run the batch before and after the
change on the same data (``survey-report run --out ...``), then compare the two wave folders.

- every CSV, JSON table and text file: byte for byte;
- every page (``<scope>/<notebook>.html``): byte for byte up to its provenance footer (which holds
  the run's start and duration; the same cut as the determinism test in ``tests/test_batch.py``);
- every workbook (``.xlsx``): every sheet's cells (the file also holds its creation time);
- ``manifest.json``: everything but run times, start times, timings, attempts, the git commit, and
  the job keys and reasons (a change of survey_lib's source changes every key);
- ``index.html``: byte for byte without the per-job seconds and the git commit;
- ``provenance.json``: everything but the git commit and whether the tree was dirty;
- the same set of files on both sides (``_logs/`` left out: the worker logs are named by pid).

Exit status 0 when the outputs agree, 1 with every difference listed otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

#: manifest/provenance keys a run changes (times, attempts, the git commit) or a change of code
#: changes without changing any output (job keys and the survey_lib digest inside them, the reason)
RUN_KEYS = {"seconds", "started", "timings", "git_commit", "git_dirty", "attempts", "created", "run_at",
            "key", "tables_key", "survey_lib", "reason"}
FOOTER = '<footer class="survey-provenance">'
_INDEX_SECONDS = re.compile(r" · [\d.,]+ s")
_INDEX_COMMIT = re.compile(r'<tr><th scope="row">Git-commit</th><td>.*?</td></tr>')


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "_logs" not in p.relative_to(root).parts}


def _without_run_keys(value):
    if isinstance(value, dict):
        return {k: _without_run_keys(v) for k, v in value.items() if k not in RUN_KEYS and not k.endswith("_utc")}
    if isinstance(value, list):
        return [_without_run_keys(v) for v in value]
    return value


def _sheets(path: Path) -> dict:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def _page(path: Path) -> str:
    return path.read_text(encoding="utf-8").split(FOOTER)[0]


def _index(path: Path) -> str:
    # the job matrix shows each job's seconds (" · 12,3 s"), the provenance table the git commit
    return _INDEX_COMMIT.sub("", _INDEX_SECONDS.sub("", path.read_text(encoding="utf-8")))


def compare(old: Path, new: Path) -> list[str]:
    """Every difference between the wave folders ``old`` and ``new`` (empty: the same outputs)."""
    problems = []
    a, b = _files(old), _files(new)
    problems += [f"only in {old}: {f}" for f in sorted(a - b)]
    problems += [f"only in {new}: {f}" for f in sorted(b - a)]
    for rel in sorted(a & b):
        p, q = old / rel, new / rel
        name = Path(rel).name
        if name in ("manifest.json", "provenance.json"):
            same = _without_run_keys(json.loads(p.read_text())) == _without_run_keys(json.loads(q.read_text()))
        elif name == "index.html":
            same = _index(p) == _index(q)
        elif rel.endswith(".html"):
            same = _page(p) == _page(q)
        elif rel.endswith(".xlsx"):
            same = _sheets(p) == _sheets(q)
        else:
            same = p.read_bytes() == q.read_bytes()
        if not same:
            problems.append(f"differs: {rel}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    problems = compare(Path(argv[0]), Path(argv[1]))
    for p in problems:
        print(p)
    print(f"{'the same' if not problems else f'{len(problems)} difference(s)'}: {argv[0]} vs {argv[1]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
