"""Check a batch's HTML pages as a reader's browser sees them: axe-core per page type, page weight,
and screenshots at a desktop (1280 px) and a phone's width (390 px).

    .venv/bin/python scripts/check_pages.py outputs/<wave> [--screenshots DIR] [--all-pages]

Prints, per page type (index, 00_sammenfatning, ...), the axe-core violations (WCAG 2.0/2.1 A and AA,
and best practice: rules, elements, of which serious or critical), first with the folded parts
closed, then with every <details> open; the pages' weight (smallest, largest, total); and at 390 px
whether the page is wider than the screen and the smallest text drawn in a chart. With
``--screenshots`` it writes ``<type>-<width>.png`` (the top of the page, 1280 x 2000 and 390 x 2400
CSS px) and ``<type>-print.pdf`` (the page printed to A4) of one page per type into DIR.

By default one page per type and kind of scope is checked (the all-municipality page and the first
municipality's); ``--all-pages`` checks every page. Uses tests/axe.py and tests/browser.py (axe-core
pinned in package-lock.json, Debian's Chromium).
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from axe import ensure_axe, page_type, report_pages, run_axe  # noqa: E402
from browser import browser_or_skip  # noqa: E402

CHART_TEXT_PX = """
const sizes = [];
for (const img of document.querySelectorAll('figure.survey-chart img')) {
  const w = img.getBoundingClientRect().width;
  if (!w || !img.naturalWidth) continue;
  sizes.push(w / img.naturalWidth);
}
return sizes;
"""


def _viewport(driver, width: int, height: int, mobile: bool) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def _screenshot(driver, path: Path, width: int, height: int) -> None:
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))


def choose(pages: list[Path], wave_dir: Path, every: bool) -> list[Path]:
    if every:
        return pages
    seen, out = set(), []
    for p in pages:
        kind = (page_type(p, wave_dir), p.parent.name == "alle" or p.parent == wave_dir)
        if kind not in seen:
            seen.add(kind)
            out.append(p)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("wave_dir", type=Path)
    ap.add_argument("--screenshots", type=Path, default=None)
    ap.add_argument("--all-pages", action="store_true")
    args = ap.parse_args(argv)
    wave_dir = args.wave_dir.resolve()
    pages = report_pages(wave_dir)
    if not pages:
        print(f"no pages in {wave_dir}", file=sys.stderr)
        return 2
    source, why = ensure_axe()
    if source is None:
        print(why, file=sys.stderr)
        return 2
    sizes = defaultdict(list)
    for p in pages:
        sizes[page_type(p, wave_dir)].append(p.stat().st_size)
    total = sum(p.stat().st_size for p in pages)
    total += sum(f.stat().st_size for f in wave_dir.glob("*.css"))
    driver = browser_or_skip()
    rows, failed = [], 0
    try:
        _viewport(driver, 1280, 900, False)
        for p in choose(pages, wave_dir, args.all_pages):
            label = str(p.relative_to(wave_dir))
            counts = []
            for open_details in (False, True):
                found = run_axe(driver, source, p.as_uri(), label, open_details)
                blocking = [f for f in found if f.blocking]
                counts.append((len({f.rule for f in found}), len(found),
                               sum(1 for f in found if f.impact in ("serious", "critical")), len(blocking)))
                failed += len(blocking)
                for f in blocking:
                    print(f)
            _viewport(driver, 390, 844, True)
            driver.get(p.as_uri())
            overflow = driver.execute_script("return document.documentElement.scrollWidth") - 390
            scales = driver.execute_script(CHART_TEXT_PX)
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                stem = f"{page_type(p, wave_dir)}-{'alle' if p.parent.name in ('alle', wave_dir.name) else 'kommune'}"
                _screenshot(driver, args.screenshots / f"{stem}-390.png", 390, 2400)
                _viewport(driver, 1280, 900, False)
                driver.get(p.as_uri())
                _screenshot(driver, args.screenshots / f"{stem}-1280.png", 1280, 2000)
                pdf = driver.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69,
                                                                 "preferCSSPageSize": True})
                (args.screenshots / f"{stem}-print.pdf").write_bytes(base64.b64decode(pdf["data"]))
            _viewport(driver, 1280, 900, False)
            # chart text: 11 pt in the SVG (14.7 CSS px at natural size) times the scale at 390 px
            smallest = f"{min(scales) * 14.7:.1f} px" if scales else "–"
            rows.append((label, *counts[0], *counts[1], overflow, smallest))
    finally:
        driver.quit()
    print("\npage | closed: rules, elements, serious+, blocking | details open: rules, elements, serious+, "
          "blocking | wider than 390 px by | smallest chart text at 390 px")
    for r in rows:
        print(" | ".join(str(v) for v in r))
    print("\npage type | pages | smallest KB | largest KB")
    for kind, s in sorted(sizes.items()):
        print(f"{kind} | {len(s)} | {min(s) / 1024:.0f} | {max(s) / 1024:.0f}")
    print(f"all pages (and any shared stylesheet): {len(pages)} pages, {total / 1024 / 1024:.1f} MB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
