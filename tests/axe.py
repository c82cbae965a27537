"""axe-core in Debian's Chromium: the accessibility check of the HTML reports.

axe-core comes from the npm registry at the version pinned in package.json / package-lock.json and
is installed into the repository's node_modules by ``npm ci`` on first use (node and npm are
installed with apt when missing, as tests/browser.py does for the browser). The script is injected
into each page through Selenium (DevTools evaluation, which the page's Content-Security-Policy does
not stop: the page itself still runs no script).

A page passes when axe finds no violation of a rule tagged wcag2a, wcag2aa, wcag21a or wcag21aa,
and no 'serious' or 'critical' violation of a best-practice rule.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from browser import apt_install

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
SEVERE = ("serious", "critical")
NODE_PACKAGES = ["nodejs", "npm"]


def pinned_version() -> str:
    """The axe-core version package-lock.json pins."""
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    return lock["packages"]["node_modules/axe-core"]["version"]


def _installed_version() -> str | None:
    meta = AXE.parent / "package.json"
    if not (AXE.is_file() and meta.is_file()):
        return None
    return json.loads(meta.read_text(encoding="utf-8")).get("version")


def ensure_axe() -> tuple[str | None, str]:
    """The source of axe.min.js at the pinned version (``npm ci`` when missing or at another
    version), or (None, why not)."""
    want = pinned_version()
    if _installed_version() != want:
        if not shutil.which("npm"):
            why = apt_install(NODE_PACKAGES)
            if not shutil.which("npm"):
                return None, f"npm is missing: install Debian's {' and '.join(NODE_PACKAGES)} ({why})"
        try:
            done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"npm ci failed: {exc}"
        if done.returncode != 0 or _installed_version() != want:
            return None, f"npm ci did not install axe-core {want}: {done.stderr[-400:]}"
    return AXE.read_text(encoding="utf-8"), ""


@dataclass(frozen=True)
class Finding:
    """One element failing one axe rule on one page."""

    page: str
    rule: str
    impact: str
    tags: tuple[str, ...]
    help: str
    target: str
    html: str
    summary: str

    @property
    def blocking(self) -> bool:
        """A WCAG 2.0/2.1 A/AA violation, or a serious/critical best-practice one."""
        return bool(set(self.tags) & set(WCAG_TAGS)) or self.impact in SEVERE

    def __str__(self) -> str:
        return (f"{self.page}: [{self.impact}] {self.rule} ({self.help}) at {self.target}\n"
                f"    element: {self.html[:200]}\n    {self.summary[:300]}")


_RUN = """
const done = arguments[arguments.length - 1];
const options = {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']};
axe.run(document, options).then(r => done(JSON.stringify(r.violations.map(v => ({
    id: v.id, impact: v.impact, tags: v.tags, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary || ''}))})))))
  .catch(e => done(JSON.stringify({error: String(e)})));
"""


def run_axe(driver, axe_source: str, url: str, label: str, open_details: bool = False) -> list[Finding]:
    """axe-core's violations on the page at ``url`` (every ``<details>`` opened first when
    ``open_details``: folded code and data tables are hidden, and axe checks only what is shown)."""
    driver.get(url)
    if open_details:
        driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    driver.execute_script(axe_source)
    driver.set_script_timeout(180)
    out = json.loads(driver.execute_async_script(_RUN, [*WCAG_TAGS, "best-practice"]))
    if isinstance(out, dict):
        raise RuntimeError(f"axe-core failed on {label}: {out['error']}")
    return [Finding(label, v["id"], v["impact"] or "", tuple(v["tags"]), v["help"], n["target"], n["html"],
                    n["summary"]) for v in out for n in v["nodes"]]


def page_type(path: Path, wave_dir: Path) -> str:
    """The page's stem: 'index', 'status', 'ledelsesresume' (a scope's one-page summary) or the
    notebook's ('10_moedet_med_jobcentret')."""
    return path.stem


def report_pages(wave_dir: Path) -> list[Path]:
    """Every HTML page a batch wrote: the index, the status page and each scope's pages (not logs,
    staging or failed notebooks)."""
    pages = sorted(p for p in wave_dir.glob("*.html") if not p.name.startswith((".", "_")))
    pages += sorted(p for p in wave_dir.glob("*/*.html")
                    if not any(part.startswith((".", "_")) for part in p.relative_to(wave_dir).parts))
    return pages
