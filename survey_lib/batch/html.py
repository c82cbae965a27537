"""HTML export of executed notebooks: self-contained pages without any external request.

The pages use nbconvert's ``lab`` template through the project's own ``survey`` template
(``templates/survey``): no script is loaded (no require.js, MathJax, Mermaid or widgets), a
Content-Security-Policy forbids scripts and every request other than embedded images, code cells are
folded into ``<details>`` for methodologists, the stylesheet is one shared file per batch
(:func:`write_stylesheet`) instead of 250 kB of CSS in every page, and a provenance table closes
every page. Text from data is escaped where it is produced (:func:`survey_lib.narrative.escape_markdown`)
and again by the template for the page's own fields.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ["export_html", "write_stylesheet", "TEMPLATES", "STYLESHEET"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = "style.css"

_OWN_CSS = """
/* survey_lib: reader-first layout */
body.survey-report { max-width: 1100px; margin: 0 auto; padding: 0 1.5rem 3rem; font-size: 15px; }
.survey-nav { padding: .8rem 0; border-bottom: 1px solid #ddd; margin-bottom: 1rem; color: #555; }
.survey-nav a { color: #2166ac; }
details.survey-code > summary { cursor: pointer; color: #777; font-size: 12px; margin: .2rem 0; }
details.survey-code[open] > summary { color: #2166ac; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
.survey-provenance { margin-top: 3rem; border-top: 1px solid #ddd; padding-top: .8rem; font-size: 12px; color: #555; }
.survey-provenance th { text-align: left; padding-right: 1rem; vertical-align: top; }
.survey-provenance td { word-break: break-all; }
img { max-width: 100%; height: auto; }
"""


@lru_cache(maxsize=1)
def stylesheet_text() -> str:
    """The shared stylesheet: JupyterLab's light theme as nbconvert ships it, Pygments' code
    colours, and the project's own layout rules."""
    import nbconvert
    from pygments.formatters import HtmlFormatter

    base = Path(nbconvert.__file__).resolve()
    candidates = [Path(p) / "nbconvert" / "templates" / "lab" / "static" for p in _jupyter_data_dirs()]
    static = next((c for c in candidates if (c / "index.css").is_file()), None)
    if static is None:       # pragma: no cover - a broken nbconvert install
        raise FileNotFoundError(f"nbconvert's lab template CSS not found (looked in {candidates}; nbconvert at {base})")
    parts = [(static / "index.css").read_text(encoding="utf-8"), (static / "theme-light.css").read_text(encoding="utf-8"),
             HtmlFormatter(style="default").get_style_defs(".highlight"), _OWN_CSS]
    return "\n".join(parts)


def _jupyter_data_dirs() -> list[str]:
    from jupyter_core.paths import jupyter_path

    return jupyter_path()


def write_stylesheet(folder: Path) -> Path:
    """Write the shared stylesheet into ``folder`` (atomically) and return its path."""
    from ..atomic import atomic_folder

    with atomic_folder(folder) as stage:
        stage.file(STYLESHEET).write_text(stylesheet_text(), encoding="utf-8")
    return folder / STYLESHEET


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="survey", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def export_html(nb, title: str, stylesheet: str, index: str, scope_label: str, wave: str,
                provenance: list[tuple[str, str]]) -> str:
    """The page of one executed notebook.

    Parameters
    ----------
    nb
        The executed notebook (``nbformat.NotebookNode``).
    title, scope_label, wave
        Shown in the page's title and navigation (escaped).
    stylesheet, index
        Relative links to the shared stylesheet and the batch's index page.
    provenance
        (label, value) pairs shown in the page's footer.
    """
    resources = {"survey": {"title": title, "stylesheet": stylesheet, "index": index, "scope_label": scope_label,
                            "wave": wave, "provenance": [(str(k), str(v)) for k, v in provenance]}}
    import warnings

    with warnings.catch_warnings():
        # the key numbers (application/json) are for machines; the page leaves them out on purpose
        warnings.filterwarnings("ignore", message=".*application/json.*is not able to be represented")
        body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return body
