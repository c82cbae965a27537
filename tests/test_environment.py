"""The pip lock file and the conda environment.yml pin the same versions."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _direct() -> list[str]:
    names = []
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[<>=!~\[ ]", line, maxsplit=1)[0].lower())
    return names


def test_environment_yml_pins_match_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            conda[name] = version
    lock = _lock()
    assert conda.pop("python") == "3.11"
    mismatches = {n: (v, lock.get(n)) for n, v in conda.items() if lock.get(n) != v}
    assert not mismatches, f"environment.yml vs requirements.lock: {mismatches}; run `make lock`"
    missing = [n for n in _direct() if n not in conda]
    assert not missing, f"direct dependencies missing from environment.yml: {missing}"
    pip_part = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-e ." in pip_part


def test_every_lock_line_is_pinned_exactly():
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            assert re.match(r"^[A-Za-z0-9_.\-]+(\[.*\])?==\S+", line), line
