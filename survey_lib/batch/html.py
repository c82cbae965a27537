"""HTML export of executed notebooks: pages that stand alone and that every reader can use.

The pages use nbconvert's ``lab`` template through the project's own ``survey`` template
(``templates/survey``):

- no script is loaded (no require.js, MathJax, Mermaid or widgets), and a Content-Security-Policy
  forbids scripts and every request other than embedded images;
- the page carries its own few CSS rules (:data:`PAGE_CSS`, a few kB) instead of linking JupyterLab's
  262 kB stylesheet, so a page e-mailed alone keeps its look; one sans-serif font stack, no web font;
- a print stylesheet: A4, a header with the scope, wave and date on every page, page numbers, no chart
  or table split across pages;
- a layout that works at a phone's width: charts scale, wide tables scroll sideways inside a labelled,
  focusable region whose shadows show that there is more;
- keyboard and screen readers: a skip link to the ``<main>`` content, visible focus, code cells folded
  into ``<details>`` whose summary says what the cell does ('Vis koden: indlæs tabellerne'), no
  ``tabindex`` on cells or outputs (nbconvert adds one to every cell of a page whose body has the class
  ``jp-Notebook``; these pages do not), headings without jumps (:func:`accessible_markup`);
- a banner 'Syntetiske data – ikke rigtige resultater' at the top of every page (and in its print
  header) whenever the notebook ran on the built-in twin, told from its data folder
  (:mod:`survey_lib.synthetic`), not from a setting;
- a table of contents of the page's sections (:func:`add_contents`), links to the index, the scope's
  one-page summary and workbook, and previous/next links within the scope's pages in batch order
  (:func:`set_page_links`, filled in by the index once the batch knows which pages exist);
- a provenance table closes every page, in Danish dates and numbers and without local file paths
  (:func:`survey_lib.provenance.reader_provenance`).

Text from data is escaped where it is produced (:func:`survey_lib.narrative.escape_markdown`) and
again by the template for the page's own fields. WCAG 2.1 AA is checked by axe-core in the tests
(``tests/test_accessibility.py``; see docs/accessibility.md).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["export_html", "write_stylesheet", "page_css", "accessible_markup", "code_label", "danish_date",
           "add_contents", "set_page_links", "page_links_html", "banner_html", "TEMPLATES", "STYLESHEET",
           "FONT_STACK", "PAGE_CSS", "SUMMARY_PAGE", "WORKBOOK", "CONTENT_SECURITY_POLICY", "head_meta"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The shared stylesheet older versions wrote next to the pages (removed by :func:`write_stylesheet`).
STYLESHEET = "style.css"

#: The one-page summary of a scope, beside its notebook pages (HTML and PDF).
SUMMARY_PAGE = "ledelsesresume"
#: A scope's workbook, relative to its pages.
WORKBOOK = "tabeller/tabeller.xlsx"

#: Every page's Content-Security-Policy: no script, no request other than embedded images.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
                           "form-action 'none'")


def head_meta() -> str:
    """The first lines of every page's ``<head>``: the character set, the phone viewport and the
    :data:`CONTENT_SECURITY_POLICY` (report pages, the index and the one-page summaries)."""
    return ('<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n')


#: One sans-serif stack for everything (system fonts only: nothing is fetched).
FONT_STACK = ('system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", '
              '"DejaVu Sans", sans-serif')
_MONO_STACK = 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace'

#: Colours of the pages (contrast on white: ink 17:1, muted 7:1, accent 8.3:1, danger 6.7:1).
INK, MUTED, ACCENT, DANGER, RULE, SOFT = "#1a1a1a", "#595959", "#1c4f8a", "#a8322a", "#c4c4c4", "#f4f6f9"

#: The rules every page uses (report pages and the index).
PAGE_CSS = f"""
:root {{ color-scheme: light; }}
*, *::before, *::after {{ box-sizing: border-box; }}
html {{ -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }}
body {{ margin: 0 auto; max-width: 62rem; padding: 0 1rem 3rem; font-family: {FONT_STACK}; font-size: 1rem;
  line-height: 1.5; color: {INK}; background: #fff; overflow-wrap: break-word; }}
h1, h2, h3, h4 {{ line-height: 1.25; margin: 1.6em 0 .5em; }}
h1 {{ font-size: 1.8rem; margin-top: .8em; }} h2 {{ font-size: 1.4rem; }} h3 {{ font-size: 1.15rem; }}
h4, h5, h6 {{ font-size: 1rem; }}
p, li, blockquote {{ max-width: 46rem; }}
a {{ color: {ACCENT}; text-decoration: underline; text-underline-offset: .15em; }}
a:hover {{ text-decoration-thickness: .15em; }}
:focus-visible {{ outline: 3px solid {ACCENT}; outline-offset: 2px; }}
summary:focus-visible {{ outline-offset: 1px; }}
.skip-link {{ position: absolute; left: .5rem; top: -4rem; z-index: 10; background: #fff; color: {ACCENT};
  padding: .5rem .9rem; border: 2px solid {ACCENT}; }}
.skip-link:focus {{ top: .5rem; }}
.survey-nav {{ padding: .6rem 0; border-bottom: 1px solid {RULE}; margin-bottom: 1rem; }}
.survey-nav p {{ margin: .2rem 0; max-width: none; }}
.survey-nav-bottom {{ border-bottom: 0; border-top: 1px solid {RULE}; margin: 2rem 0 0; }}
.survey-pagelinks {{ display: flex; flex-wrap: wrap; justify-content: space-between; gap: .3rem 1.5rem; }}
.survey-banner {{ margin: .8rem 0 0; padding: .55rem .9rem; border: 2px solid {DANGER}; border-left-width: 8px;
  background: #fdf2f1; color: {INK}; max-width: none; }}
.survey-banner strong {{ color: {DANGER}; font-size: 1.05rem; margin-right: .4rem; }}
.survey-banner span {{ font-size: .925rem; }}
.survey-toc {{ margin: .5rem 0 1.5rem; padding: .6rem 1rem; background: {SOFT}; border-radius: 4px; max-width: 46rem; }}
.survey-toc-title {{ font-weight: 600; margin: 0 0 .3rem; }}
.survey-toc ol {{ margin: 0; padding-left: 1.4rem; display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr));
  column-gap: 2.4rem; }}
.survey-toc li {{ margin: .1rem 0; }}
.survey-print-header {{ display: none; }}
blockquote {{ margin: .8rem 0; padding: .1rem 1rem; border-left: 4px solid {RULE}; }}
small, .muted {{ color: {MUTED}; }}
table {{ border-collapse: collapse; font-variant-numeric: tabular-nums; }}
th, td {{ border-bottom: 1px solid {RULE}; padding: .35rem .6rem; text-align: left; vertical-align: top; }}
thead th {{ border-bottom: 2px solid {INK}; }}
.table-scroll {{ overflow-x: auto; max-width: 100%; margin: .6rem 0 1.2rem;
  background: linear-gradient(to right, #fff 30%, rgba(255,255,255,0)),
    linear-gradient(to left, #fff 30%, rgba(255,255,255,0)) 100% 0,
    radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.28), rgba(0,0,0,0)),
    radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.28), rgba(0,0,0,0)) 100% 0;
  background-repeat: no-repeat; background-size: 2.5rem 100%, 2.5rem 100%, .9rem 100%, .9rem 100%;
  background-attachment: local, local, scroll, scroll; }}
.table-scroll > table {{ margin: 0; }}
figure.survey-chart {{ margin: 1.2rem 0 1.8rem; max-width: 42rem; }}
figure.survey-chart img {{ display: block; width: 100%; height: auto; }}
figure.survey-chart figcaption {{ color: {MUTED}; font-size: .9rem; margin-top: .3rem; }}
details > summary {{ cursor: pointer; }}
details.survey-data > summary {{ font-size: .9rem; color: {ACCENT}; text-decoration: underline; margin-top: .3rem; }}
details.survey-code {{ margin: .3rem 0; }}
details.survey-code > summary {{ color: {MUTED}; font-size: .875rem; }}
.highlight {{ background: {SOFT}; padding: .5rem .75rem; border-radius: 4px; }}
.highlight pre, pre {{ margin: 0; white-space: pre-wrap; font-family: {_MONO_STACK}; font-size: .85rem; line-height: 1.45; }}
.jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser, a.anchor-link {{ display: none; }}
.jp-RenderedText pre {{ background: {SOFT}; padding: .4rem .6rem; }}
img {{ max-width: 100%; height: auto; }}
.survey-provenance {{ margin-top: 3rem; border-top: 1px solid {RULE}; padding-top: .8rem; font-size: .875rem;
  color: {MUTED}; }}
.survey-provenance th {{ padding-right: 1rem; }}
.survey-provenance td {{ word-break: break-all; }}
.ok {{ color: {ACCENT}; }} .fejl {{ color: {DANGER}; }}
@media (max-width: 40rem) {{
  body {{ padding: 0 .75rem 2rem; }}
  h1 {{ font-size: 1.5rem; }} h2 {{ font-size: 1.25rem; }}
  th, td {{ padding: .3rem .45rem; }}
}}
"""

_PRINT_CSS = """
@page { size: A4; margin: 20mm 16mm 18mm 16mm;
  @top-left { content: "HEADER"; font: 8.5pt FONTS; color: #595959; }
  @bottom-right { content: "Side " counter(page) " af " counter(pages); font: 8.5pt FONTS; color: #595959; } }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  .skip-link, .survey-nav, .survey-toc, details.survey-code, details.survey-data { display: none !important; }
  .survey-banner { border: 1.5pt solid #1a1a1a; background: none; padding: 2mm 3mm; margin: 0 0 4mm; }
  .survey-banner strong { color: #1a1a1a; }
  .survey-print-header { display: block; font-size: 9pt; color: #1a1a1a; border-bottom: 1px solid #1a1a1a;
    padding-bottom: 2mm; margin-bottom: 5mm; }
  figure.survey-chart, .table-scroll, table, tr, blockquote, img { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  figure.survey-chart { max-width: 100%; }
  figure.survey-chart img { width: auto; max-width: 100%; max-height: 230mm; }
  .table-scroll { overflow: visible; background: none; }
  a { color: #1a1a1a; }
  .survey-provenance details > summary { display: none; }
}
"""


def _css_string(text: str) -> str:
    """Text as a CSS string literal's content: quotes, backslashes and line breaks escaped, and '<'
    too, so that nothing from data can close the ``<style>`` element."""
    out = []
    for ch in str(text):
        if ch in '"\\<>' or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return "".join(out)


def page_css(print_header: str = "") -> str:
    """The CSS of a page: :data:`PAGE_CSS`, the code colours and the print rules with ``print_header``
    in the top margin of every printed page."""
    return (PAGE_CSS + _code_css() + _PRINT_CSS.replace("HEADER", _css_string(print_header))
            .replace("FONTS", FONT_STACK)).strip() + "\n"


@lru_cache(maxsize=1)
def _code_css() -> str:
    """Pygments' default colours for the folded code, each darkened until it has 4.5:1 contrast on the
    code's background (several of the defaults have less)."""
    from pygments.formatters import HtmlFormatter

    from ..plots import contrast_ratio

    css = HtmlFormatter(style="default").get_style_defs(".highlight")
    lines = [line for line in css.splitlines() if not line.startswith(("pre ", "td.linenos", "span.linenos",
                                                                        ".highlight .hll", ".highlight  {"))]

    def darken(match: re.Match) -> str:
        colour = match.group(1)
        if len(colour) == 4:
            colour = "#" + "".join(c * 2 for c in colour[1:])
        rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        while contrast_ratio("#" + "".join(f"{c:02x}" for c in rgb), SOFT) < 4.5:
            rgb = [int(c * 0.92) for c in rgb]
        return "color: #" + "".join(f"{c:02x}" for c in rgb)

    lines = [re.sub(r"(?<![-\w])color: (#[0-9a-fA-F]{3,6})\b", darken, line) for line in lines]
    # backgrounds of error tokens and the like: dropped (the text colour carries the token)
    lines = [re.sub(r"background-color: #[0-9a-fA-F]{3,6};?\s*", "", line) for line in lines]
    lines = [re.sub(r"border: 1px solid #[0-9a-fA-F]{3,6};?\s*", "", line) for line in lines]
    return "\n".join(line for line in lines if not re.search(r"\{\s*\}", line)) + "\n"


_MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
           "november", "december"]


def danish_date(day: dt.date) -> str:
    """1 December 2026 -> '1. december 2026'."""
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"


#: What a code cell does, by the survey_lib function it calls (the summary of its folded code).
CODE_LABELS = {
    "open_context": "indlæs parametre og tabeller",
    "open_nonresponse": "indlæs tabellerne over frafald og vægte",
    "open_free_text": "indlæs fritekstens tabeller",
    "show_summary": "vis sammenfatningen",
    "show_theme": "vis temaets spørgsmål",
    "show_question": "vis spørgsmålet",
    "show_multi_select": "vis spørgsmålet med flere svarmuligheder",
    "show_nonresponse": "vis frafaldsanalysen",
    "show_weighting": "vis vægtningen",
    "show_free_text": "vis kommentarerne",
}


def code_label(cell) -> str:
    """'Vis koden: <what the cell does>' for a code cell: from its tags (parameters), the survey_lib
    function it calls (:data:`CODE_LABELS`), its first comment, or its first call."""
    tags = set(cell.get("metadata", {}).get("tags", []) or [])
    source = cell.get("source", "")
    if "injected-parameters" in tags:
        what = "parametrene for denne kørsel"
    elif "parameters" in tags:
        what = "parametrene og deres standardværdier"
    else:
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("import ", "from ")))
        calls = re.findall(r"\b([A-Za-z_]\w*)\s*\(", code)
        known = [CODE_LABELS[c] for c in calls if c in CODE_LABELS]
        comment = next((line.strip().lstrip("#").strip() for line in source.splitlines()
                        if line.strip().startswith("#") and line.strip().lstrip("#").strip()), "")
        what = known[0] if known else comment or (f"kald af {calls[0]}" if calls else "en kodecelle")
    return f"Vis koden: {what}"


_HEADING = re.compile(r"^h([1-6])$")
_INTERACTIVE = {"a", "button", "input", "select", "textarea", "summary"}
_SPACE_PERCENT = re.compile(r"(\d) %")


def accessible_markup(page: str, contents: bool = False) -> str:
    """Repairs on an exported page that the template cannot make:

    - heading levels without jumps (each heading one level below the nearest earlier heading of a
      higher level: the notebooks' Markdown goes from '#' straight to '###' where a section has no '##');
    - every table not already in one inside a scrollable, labelled region (``role="region"``,
      ``aria-label`` from its heading, focusable so that a keyboard can scroll it), with ``scope`` on
      its header cells, and every region's name unique;
    - a no-break space between a number and its '%';
    - no ``tabindex`` on any other element that is not interactive;
    - with ``contents``, a table of contents of the page's sections (:func:`add_contents`).
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, features="html.parser")
    main = soup.find("main") or soup
    # a heading's new level: one below the nearest earlier heading of a higher original level
    stack: list[tuple[int, int]] = []          # (original level, new level) of the open sections
    for h in main.find_all(_HEADING):
        original = int(h.name[1])
        while stack and stack[-1][0] >= original:
            stack.pop()
        level = stack[-1][1] + 1 if stack else 1
        h.name = f"h{level}"
        stack.append((original, level))
    for table in main.find_all("table"):
        parent = table.parent
        if parent is not None and "table-scroll" in (parent.get("class") or []):
            continue
        heading = table.find_previous(_HEADING)
        last_heading = heading.get_text(" ", strip=True) if heading else ""
        wrapper = soup.new_tag("div", attrs={"class": "table-scroll", "role": "region", "tabindex": "0",
                                             "aria-label": f"Tabel: {last_heading}" if last_heading else "Tabel"})
        table.wrap(wrapper)
        head = table.find("thead")
        for th in (head.find_all("th") if head else []):
            th["scope"] = "col"
    # every region's name unique on the page (two tables under one heading: 'Tabel: X (2)')
    seen: dict[str, int] = {}
    for region in main.select(".table-scroll[aria-label]"):
        name = region["aria-label"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            region["aria-label"] = f"{name} ({seen[name]})"
    # Danish typography: a number and its '%' stay on one line ('100 %' never breaks before the %)
    for text in main.find_all(string=_SPACE_PERCENT):
        if text.find_parent(["pre", "code", "style", "script"]) is None:
            text.replace_with(_SPACE_PERCENT.sub("\\1\u00a0%", str(text)))
    for el in soup.find_all(attrs={"tabindex": True}):
        if el.name not in _INTERACTIVE and "table-scroll" not in (el.get("class") or []):
            del el["tabindex"]
    if contents:
        add_contents(soup)
    return str(soup)


def write_stylesheet(folder: Path) -> Path:
    """Remove the shared stylesheet that older versions wrote into ``folder``: the pages carry their
    own CSS now. Returns the path it removed (or would have). Kept so that callers need no change."""
    path = Path(folder) / STYLESHEET
    path.unlink(missing_ok=True)
    return path


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="survey", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_anchor_links = True
    exporter.register_filter("code_label", code_label)
    return exporter


def _slug_id(text: str, taken: set[str]) -> str:
    import unicodedata

    base = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", base).strip("-") or "afsnit"
    candidate, i = base, 2
    while candidate in taken:
        candidate, i = f"{base}-{i}", i + 1
    taken.add(candidate)
    return candidate


def add_contents(soup, minimum: int = 2) -> None:
    """A table of contents of the page's ``h2`` sections, after its ``h1`` (nothing when it has fewer
    than ``minimum``); a heading without an id gets one from its text."""
    main = soup.find("main")
    if main is None or main.find("nav", class_="survey-toc") is not None:
        return
    sections = main.find_all("h2")
    h1 = main.find("h1")
    if len(sections) < minimum or h1 is None:
        return
    taken = {el["id"] for el in soup.find_all(attrs={"id": True})}
    nav = soup.new_tag("nav", attrs={"class": "survey-toc", "aria-labelledby": "sideindhold"})
    title = soup.new_tag("p", attrs={"class": "survey-toc-title", "id": "sideindhold"})
    title.string = "På denne side"
    nav.append(title)
    items = soup.new_tag("ol")
    for h in sections:
        if not h.get("id"):
            h["id"] = _slug_id(h.get_text(" ", strip=True), taken)
        li, a = soup.new_tag("li"), soup.new_tag("a", href=f"#{h['id']}")
        a.string = h.get_text(" ", strip=True)
        li.append(a)
        items.append(li)
    nav.append(items)
    h1.insert_after(nav)


_LINKS = re.compile(r"<!-- survey:pagelinks -->.*?<!-- /survey:pagelinks -->", re.S)


def page_links_html(previous: tuple[str, str] | None, following: tuple[str, str] | None) -> str:
    """The previous/next links of a page ((href, title) each, or None), escaped."""
    import html as _html

    parts = []
    if previous:
        parts.append(f'<a rel="prev" href="{_html.escape(previous[0])}">← Forrige: {_html.escape(previous[1])}</a>')
    if following:
        parts.append(f'<a rel="next" href="{_html.escape(following[0])}">Næste: {_html.escape(following[1])} →</a>')
    inner = f'<p class="survey-pagelinks">{"".join(parts)}</p>' if parts else ""
    return f"<!-- survey:pagelinks -->{inner}<!-- /survey:pagelinks -->"


def set_page_links(page: str, previous: tuple[str, str] | None, following: tuple[str, str] | None) -> str:
    """``page`` with its previous/next links (both places the template marks) set to these."""
    return _LINKS.sub(lambda m: page_links_html(previous, following), page)


def banner_html(banner: str) -> str:
    """The synthetic-data banner of a page ('' when ``banner`` is '')."""
    import html as _html

    from ..synthetic import BANNER_DETAIL

    if not banner:
        return ""
    return (f'<p class="survey-banner"><strong>{_html.escape(banner)}</strong> '
            f'<span>{_html.escape(BANNER_DETAIL)}</span></p>')


def _data_dir(nb) -> str | None:
    """The data folder the notebook ran on (papermill records its parameters in the metadata)."""
    params = (nb.get("metadata", {}).get("papermill", {}) or {}).get("parameters", {}) or {}
    return params.get("data_dir")


def export_html(nb, title: str, stylesheet: str | None, index: str, scope_label: str, wave: str,
                provenance: list[tuple[str, str]], date: dt.date | None = None) -> str:
    """The page of one executed notebook.

    Parameters
    ----------
    nb
        The executed notebook (``nbformat.NotebookNode``).
    title, scope_label, wave
        Shown in the page's title, navigation and print header (escaped).
    stylesheet
        Ignored: the page carries its CSS (the argument stays for callers of the earlier version,
        which linked a shared stylesheet).
    index
        Relative link to the batch's index page.
    provenance
        (label, value) pairs shown in the page's footer.
    date
        The page's date in the print header (default: today).
    """
    from ..provenance import reader_provenance, strip_paths
    from ..synthetic import BANNER_DETAIL, banner_for

    day = danish_date(date or dt.date.today())
    banner = banner_for(_data_dir(nb))
    for cell in nb.cells:      # the parameters papermill injected: folders by their last part, as in the footer
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            shown = strip_paths(cell["source"])
            if shown != cell["source"]:
                cell["source"] = "# mapperne vises ved deres sidste del\n" + shown
    header = f"{scope_label} · bølge {wave} · {day}"
    print_header = f"{title} · bølge {wave} · {day}"
    if banner:
        print_header = f"{banner.upper()} · {print_header}"
    resources = {"survey": {"title": title, "index": index, "scope_label": scope_label, "wave": wave,
                            "date": day, "css": page_css(print_header), "print_header": header, "head": head_meta(),
                            "banner": banner, "banner_detail": BANNER_DETAIL,
                            "summary": f"{SUMMARY_PAGE}.html", "workbook": WORKBOOK,
                            "provenance": reader_provenance(provenance)}}
    import warnings

    with warnings.catch_warnings():
        # the key numbers (application/json) are for machines; the page leaves them out on purpose
        warnings.filterwarnings("ignore", message=".*application/json.*is not able to be represented")
        body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return accessible_markup(body, contents=True)
