"""The pip lock, the conda environment.yml, pyproject.toml and the Makefile agree on versions and Pythons."""

import re
import sys
from importlib import metadata
from pathlib import Path

import yaml
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _lock_lines() -> list[tuple[str, str, str | None]]:
    """(name, version, marker or None) for every pin of requirements.lock."""
    out = []
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.+))?$", line)
        if m:
            out.append((m.group(1).lower().replace("_", "-"), m.group(2), m.group(3)))
    return out


def _lock() -> dict[str, str]:
    return {name: version for name, version, _ in _lock_lines()}


def _direct() -> list[str]:
    names = []
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[<>=!~\[ ]", line, maxsplit=1)[0].lower())
    return names


def _requires_python() -> str:
    return re.search(r'^requires-python\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def test_environment_yml_pins_match_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda, python = {}, None
    for dep in env["dependencies"]:
        if isinstance(dep, str) and dep.startswith("python") and not dep.startswith("python-"):
            python = dep[len("python"):]
        elif isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            conda[name] = version
    assert python == _requires_python().replace(" ", ""), "environment.yml's python range is pyproject.toml's"
    lock = _lock()
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


def test_one_version_per_package_for_every_python():
    """The lock is universal: a package never has one version on one Python and another elsewhere."""
    seen: dict[str, set[str]] = {}
    for name, version, _ in _lock_lines():
        seen.setdefault(name, set()).add(version)
    assert {n: v for n, v in seen.items() if len(v) > 1} == {}


def test_supported_pythons_agree():
    """pyproject's requires-python, the Makefile's list and the lock's markers name the same versions."""
    spec = SpecifierSet(_requires_python())
    allowed = [f"3.{m}" for m in range(8, 20) if spec.contains(f"3.{m}.0")]
    make = re.search(r"^SUPPORTED\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    assert make == allowed == ["3.11", "3.12", "3.13"]
    assert "--universal" in (ROOT / "Makefile").read_text(), "the lock is compiled for every supported Python"


def test_installed_versions_are_the_lock_on_this_python():
    """On whichever Python runs the suite, every pin that applies here is installed at its version."""
    env = {"python_full_version": ".".join(map(str, sys.version_info[:3])),
           "python_version": "%d.%d" % sys.version_info[:2]}
    wrong = {}
    for name, version, marker in _lock_lines():
        if marker and not Marker(marker).evaluate(env):
            continue
        try:
            installed = metadata.version(canonicalize_name(name))
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert wrong == {}, f"installed versions differ from requirements.lock (locked, installed): {wrong}; run `make setup`"
