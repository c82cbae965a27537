"""The batch's index page: a municipality x notebook matrix, headline numbers and weighting flags.

Everything on the page is escaped; the page loads nothing and carries its own CSS
(:func:`survey_lib.batch.html.page_css`).
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path
from typing import Mapping

from ..atomic import atomic_write_text
from ..narrative import fmt_int, fmt_number
from ..scores import theme_score_ids
from ..params import Params
from .html import danish_date, page_css
from .jobs import INDEX, Job, JobState, is_current, notebook_title, scope_label

__all__ = ["write_index", "STATUS_DA", "KIND_DA"]

STATUS_DA = {"ok": "ok", "failed": "fejlet", "skipped": "uændret", "not_run": "ikke kørt",
             "stale": "forældet"}
KIND_DA = {"cell_error": "fejl i en celle", "timeout": "tidsgrænse overskredet", "dead_kernel": "kernen døde",
           "kernel_start": "kernen kunne ikke starte", "export": "HTML kunne ikke skrives",
           "disk_full": "disken er fuld"}
STALE_DA = "lavet af andre data, kode eller parametre end tabellerne; køres igen"


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _unique(values) -> list:
    return list(dict.fromkeys(values))


def _cell(job: Job, state: JobState | None, wave_dir: Path, tables_key: str) -> str:
    """One cell of the matrix: a link to a current page, or the status and the failed notebook."""
    if is_current(job, state, tables_key):
        timing = f" · {fmt_number(state.seconds, 1)} s" if state.seconds else ""
        link = os.path.relpath(job.html, wave_dir)
        return f'<td class="ok"><a href="{_e(link)}">{_e(STATUS_DA["ok"])}</a>{_e(timing)}</td>'
    if state is not None and state.status == "ok":       # a page of other inputs: not a result
        return f'<td class="">{_e(STATUS_DA["stale"])} ({_e(STALE_DA)})</td>'
    status = state.status if state is not None else "not_run"
    kind = state.kind if state is not None else ""
    cls = "fejl" if status == "failed" else ""
    failed = os.path.relpath(job.failed, wave_dir)
    return (f'<td class="{cls}">{_e(STATUS_DA.get(status, status))} ({_e(KIND_DA.get(kind, kind))}) · '
            f'<a href="{_e(failed)}">notebook</a></td>')


def _matrix(jobs: list[Job], states: Mapping[str, JobState], wave_dir: Path, tables_key: str,
            headlines: dict | None = None) -> str:
    scopes, notebooks = _unique(j.scope for j in jobs), _unique(j.notebook_name for j in jobs)
    titles = {j.notebook_name: notebook_title(str(j.notebook)) for j in jobs}
    by_cell = {(j.scope, j.notebook_name): j for j in jobs}
    head = ('<tr><th scope="col">Omfang</th>' + "".join(f'<th scope="col">{_e(titles[n])}</th>' for n in notebooks)
            + "</tr>")
    rows = []
    for s in scopes:
        cells = "".join(_cell(by_cell[(s, n)], states.get(by_cell[(s, n)].job_id), wave_dir, tables_key)
                        for n in notebooks)
        if (headlines or {}).get(s, {}).get("excluded"):   # left out of the analysis (survey_lib.exclusions)
            cells = f'<td class="udeladt" colspan="{len(notebooks)}">{_e(headlines[s]["excluded"])}</td>'

        rows.append(f'<tr><th scope="row">{_e(scope_label(s))}</th>{cells}</tr>')
    return head + "".join(rows)


def _themes(params: Params, headlines: dict) -> list[tuple[str, str]]:
    """The scores some scope has (a theme of status questions only has no score)."""
    label = {t.id: t.label for t in params.questionnaire.themes}
    themes = [(oid, label[theme]) for theme, oid in theme_score_ids(params.questionnaire).items()]
    return [(q, t) for q, t in themes
            if any(headlines.get(s, {}).get("scores", {}).get(q, {}).get("mean") is not None for s in headlines)]


def _score_cell(v: dict) -> str:
    if v.get("mean") is None:
        return "<td>–</td>"
    lo, hi = v.get("ci", [None, None])
    ci = f" ({fmt_number(lo)}–{fmt_number(hi)})" if lo is not None and hi is not None else ""
    return f"<td>{_e(fmt_number(v['mean']))}<small>{_e(ci)}</small></td>"


def _headline_table(scopes: list[str], themes: list[tuple[str, str]], headlines: dict) -> str:
    head = '<tr><th scope="col">Omfang</th>' + "".join(f'<th scope="col">{_e(t)}</th>' for _, t in themes) + \
        "".join(f'<th scope="col">{c}</th>' for c in ("Respondenter", "Effektivt n", "Designeffekt", "Bemærkninger")) \
        + "</tr>"
    rows = []
    for s in scopes:
        h = headlines.get(s, {})
        cells = [_score_cell(h.get("scores", {}).get(q, {})) for q, _ in themes]
        w = h.get("weighting", {})
        flags = w.get("flags", []) + ([h["excluded"]] if h.get("excluded") else [])
        cells += [f"<td>{_e(fmt_int(w['respondents']) if w else '–')}</td>",
                  f"<td>{_e(fmt_int(w['n_effective']) if w else '–')}</td>",
                  f"<td>{_e(fmt_number(w['deff_kish']) if w else '–')}</td>",
                  f'<td class="{"fejl" if flags else ""}">{_e("; ".join(flags))}</td>']
        rows.append(f'<tr><th scope="row">{_e(scope_label(s))}</th>{"".join(cells)}</tr>')
    return head + "".join(rows)


def _audit_section(findings: list | None) -> str:
    if findings is None:
        return "<p>Lækagekontrollen er ikke kørt for denne kørsel endnu (kørslen er i gang eller blev afbrudt).</p>"
    if not findings:
        return "<p class=\"ok\">Lækagekontrollen fandt intet.</p>"
    return ("<p class=\"fejl\">Lækagekontrollen fandt noget – del ikke rapporterne, før det er rettet:</p><ul>"
            + "".join(f"<li>{_e(f)}</li>" for f in findings) + "</ul>")


def _provenance_table(manifest: dict) -> str:
    prov = manifest.get("provenance", {})
    return f"""<table id="provenance">
<tr><th scope="row">Data (SHA-256)</th><td>{_e(prov.get('data_sha256'))}</td></tr>
<tr><th scope="row">Git-commit</th><td>{_e(prov.get('git_commit'))}{' (ændringer ikke committet)' if prov.get('git_dirty') else ''}</td></tr>
<tr><th scope="row">Params (SHA-256)</th><td>{_e(prov.get('params_sha256'))}</td></tr>
<tr><th scope="row">Kerne</th><td>{_e(manifest.get('kernel'))} ({_e(manifest.get('kernel_python'))})</td></tr>
<tr><th scope="row">Pakker</th><td>{_e(', '.join(f'{k} {v}' for k, v in sorted(manifest.get('packages', {}).items())))}</td></tr>
</table>"""




def write_index(wave_dir: Path, params: Params, jobs: list[Job], states: Mapping[str, JobState], headlines: dict,
                findings: list | None, manifest: dict, tables_key: str) -> Path:
    """Write ``index.html`` into ``wave_dir`` (atomically); return its path.

    A cell links a page only when it is current: the job's last run succeeded with the job's
    present key and from the tables of ``tables_key``, and the page exists. ``findings`` None: the
    audit has not run yet (an index written while the batch runs).
    """
    scopes, notebooks = _unique(j.scope for j in jobs), _unique(j.notebook_name for j in jobs)
    n_failed = sum(1 for j in jobs if states.get(j.job_id) is not None and states[j.job_id].status not in ("ok",))
    title, wave = _e(params.survey.title), _e(params.survey.wave)
    css = page_css(f"{params.survey.title} · bølge {params.survey.wave} · {danish_date(dt.date.today())}")
    page = f"""<!DOCTYPE html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>{title} – {wave}</title>
<style>
{css}
body.survey-index {{ max-width: 90rem; }}
.survey-index td small {{ white-space: nowrap; }}
</style>
</head>
<body class="survey-index">
<a class="skip-link" href="#indhold">Gå til indholdet</a>
<div class="survey-print-header">{title} · bølge {wave} · {_e(danish_date(dt.date.today()))}</div>
<main id="indhold">
<h1>{title}</h1>
<p>Bølge {wave} · {len(scopes)} omfang × {len(notebooks)} notebooks · {n_failed} fejlet</p>
<h2 id="rapporter">Rapporter</h2>
<div class="table-scroll" role="region" aria-labelledby="rapporter" tabindex="0">
<table id="matrix">{_matrix(jobs, states, wave_dir, tables_key, headlines)}</table>
</div>
<h2 id="noegletal">Nøgletal</h2>
<p>Gennemsnitlig score (1–5, vægtet) med 95 %-konfidensinterval, og vægtenes diagnostik. Grupper med under
{_e(params.survey.min_cell_size)} svar vises ikke.</p>
<div class="table-scroll" role="region" aria-labelledby="noegletal" tabindex="0">
<table id="headlines">{_headline_table(scopes, _themes(params, headlines), headlines)}</table>
</div>
<h2>Lækagekontrol</h2>
{_audit_section(findings)}
<h2 id="proveniens">Proveniens</h2>
<div class="table-scroll" role="region" aria-labelledby="proveniens" tabindex="0">
{_provenance_table(manifest)}
</div>
<p>Maskinlæsbar version: <a href="manifest.json">manifest.json</a>.</p>
</main>
</body>
</html>
"""
    return atomic_write_text(wave_dir / INDEX, page)
