"""Are two batches' outputs the same? Byte for byte, up to what a run itself changes.

Run: .venv/bin/python benchmarks/compare_outputs.py OLD_WAVE_DIR NEW_WAVE_DIR

For checking that a speed change published nothing different: run the batch before and after the
change on the same data (``survey-report run --out ...``), then compare the two wave folders.

- every CSV, JSON table and text file: byte for byte;
- every page (``<scope>/<notebook>.html``): byte for byte up to its provenance footer (which holds
  the run's start and duration; the same cut as the determinism test in ``tests/test_batch.py``);
- every one-page summary (``ledelsesresume.html``): byte for byte up to its footer (the tables'
  time, digests and commit) and without its rerun key; its PDF is made from that HTML and holds
  the same footer, so it is compared through the HTML;
- every workbook (``.xlsx``): every sheet's cells (the file also holds its creation time), without
  the run's rows of the sheet 'Om tabellerne' (made, commit, uncommitted changes, params digest);
- ``manifest.json``: everything but run times, start times, timings, attempts, the git commit, the
  job keys, the digests they are made of and their reasons (a change of survey_lib's source changes
  every key), and the kernel's interpreter path;
- ``index.html`` and ``status.html``: byte for byte without the per-job seconds, the stage times,
  the tables' time, the params digest and the git commit;
- ``provenance.json``: everything but the git commit, whether the tree was dirty and the params
  digest (a wave's merged parameters carry the trend tables' key, which includes the digest of
  survey_lib's source);
- ``udvikling/key.txt``: not compared (that key, a digest of the trend tables' inputs with the
  source);
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
            "key", "tables_key", "survey_lib", "reason", "params_sha256",
            # the digests a job's key is made of, and the kernel's interpreter (another checkout's venv)
            "parts", "digests", "kernel_python"}
#: rows of a workbook's sheet 'Om tabellerne' that say when and from which commit it was made
RUN_ROWS = {"Lavet", "Git-commit", "Ændringer ikke committet", "Params (SHA-256)"}
FOOTER = '<footer class="survey-provenance">'
_INDEX_SECONDS = re.compile(r" · [\d.,]+ s")
_INDEX_COMMIT = re.compile(r'<tr><th scope="row">Git-commit</th><td>.*?</td></tr>')
_STATUS_RUN = re.compile(r'<table id="timings">.*?</table>'
                         r'|<tr><th scope="row">(Tabellerne lavet|Params \(SHA-256\))</th><td>.*?</td></tr>', re.S)
_SUMMARY_KEY = re.compile(r'<meta name="survey-summary-key" content="[0-9a-f]*">')


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
    return {name: [row for row in wb.get_sheet_by_name(name).to_python()
                   if not (name == "Om tabellerne" and row[:1] and row[0] in RUN_ROWS)]
            for name in wb.sheet_names}


def _page(path: Path) -> str:
    return path.read_text(encoding="utf-8").split(FOOTER)[0]


def _index(path: Path) -> str:
    # the job matrix shows each job's seconds (" · 12,3 s"), the provenance table the git commit,
    # the status page the stages' times and when the tables were made
    text = _INDEX_COMMIT.sub("", _INDEX_SECONDS.sub("", path.read_text(encoding="utf-8")))
    return _STATUS_RUN.sub("", text)


def _summary(path: Path) -> str:
    return _SUMMARY_KEY.sub("", path.read_text(encoding="utf-8")).split("<footer")[0]


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
        elif name == "key.txt" and Path(rel).parent.name == "udvikling":
            continue
        elif name in ("index.html", "status.html"):
            same = _index(p) == _index(q)
        elif name == "ledelsesresume.html":
            same = _summary(p) == _summary(q)
        elif name == "ledelsesresume.pdf":
            continue
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
