"""The batch's index page: a municipality x notebook matrix, headline numbers and weighting flags.

Everything on the page is escaped; the page loads nothing and carries its own CSS
(:func:`survey_lib.batch.html.page_css`).
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

from ..atomic import atomic_write_text
from ..narrative import fmt_int, fmt_number
from ..params import Params
from .html import danish_date, page_css

__all__ = ["write_index"]

STATUS_DA = {"ok": "ok", "failed": "fejlet", "skipped": "uændret", "not_run": "ikke kørt"}
KIND_DA = {"cell_error": "fejl i en celle", "timeout": "tidsgrænse overskredet", "dead_kernel": "kernen døde",
           "kernel_start": "kernen kunne ikke starte", "export": "HTML kunne ikke skrives"}


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def write_index(wave_dir: Path, params: Params, jobs: list[dict], manifest: dict, headlines: dict,
                findings: list) -> Path:
    """Write ``index.html`` into ``wave_dir`` (atomically); return its path."""
    from .runner import ALL, INDEX, SCOPE_LABEL_ALL, _title

    scopes = []
    for j in jobs:
        if j["scope"] not in scopes:
            scopes.append(j["scope"])
    notebooks = []
    for j in jobs:
        if j["notebook_name"] not in notebooks:
            notebooks.append(j["notebook_name"])
    titles = {j["notebook_name"]: _title(j["notebook"]) for j in jobs}
    state = manifest.get("jobs", {})
    label = {s: SCOPE_LABEL_ALL if s == ALL else s for s in scopes}
    themes = [("tilfredshed", "Samlet tilfredshed")] + [(f"tema_{t.id}", t.label) for t in params.questionnaire.themes]
    # only the scores some scope has (a theme of status questions only has no score)
    themes = [(q, t) for q, t in themes
              if any(headlines.get(s, {}).get("scores", {}).get(q, {}).get("mean") is not None for s in headlines)]

    head = ('<tr><th scope="col">Omfang</th>' + "".join(f'<th scope="col">{_e(titles[n])}</th>' for n in notebooks)
            + "</tr>")
    by_cell = {(j["scope"], j["notebook_name"]): j for j in jobs}
    rows = []
    for s in scopes:
        cells = []
        for n in notebooks:
            job = by_cell[(s, n)]
            st = state.get(job["job"], {})
            status = st.get("status", "not_run")
            cls = {"ok": "ok", "failed": "fejl"}.get(status, "")
            link = os.path.relpath(job["html"], wave_dir)
            secs = st.get("seconds")
            timing = f" · {fmt_number(secs, 1)} s" if secs else ""
            if status == "ok" and Path(job["html"]).is_file():
                text = f'<a href="{_e(link)}">{_e(STATUS_DA["ok"])}</a>{_e(timing)}'
            else:
                why = KIND_DA.get(st.get("kind", ""), st.get("kind", ""))
                failed = os.path.relpath(job["failed"], wave_dir)
                text = f'{_e(STATUS_DA.get(status, status))} ({_e(why)}) · <a href="{_e(failed)}">notebook</a>'
            cells.append(f'<td class="{cls}">{text}</td>')
        rows.append(f'<tr><th scope="row">{_e(label[s])}</th>{"".join(cells)}</tr>')

    score_head = '<tr><th scope="col">Omfang</th>' + "".join(f'<th scope="col">{_e(t)}</th>' for _, t in themes) + \
        "".join(f'<th scope="col">{c}</th>' for c in ("Respondenter", "Effektivt n", "Designeffekt", "Bemærkninger")) \
        + "</tr>"
    score_rows = []
    for s in scopes:
        h = headlines.get(s, {})
        sc = h.get("scores", {})
        cells = []
        for q, _ in themes:
            v = sc.get(q, {})
            if v.get("mean") is None:
                cells.append("<td>–</td>")
            else:
                lo, hi = v.get("ci", [None, None])
                ci = f" ({fmt_number(lo)}–{fmt_number(hi)})" if lo is not None and hi is not None else ""
                cells.append(f"<td>{_e(fmt_number(v['mean']))}<small>{_e(ci)}</small></td>")
        w = h.get("weighting", {})
        flags = w.get("flags", [])
        cells += [f"<td>{_e(fmt_int(w['respondents']) if w else '–')}</td>",
                  f"<td>{_e(fmt_int(w['n_effective']) if w else '–')}</td>",
                  f"<td>{_e(fmt_number(w['deff_kish']) if w else '–')}</td>",
                  f'<td class="{"fejl" if flags else ""}">{_e("; ".join(flags))}</td>']
        score_rows.append(f'<tr><th scope="row">{_e(label[s])}</th>{"".join(cells)}</tr>')

    prov = manifest.get("provenance", {})
    audit = ("<p class=\"ok\">Lækagekontrollen fandt intet.</p>" if not findings else
             "<p class=\"fejl\">Lækagekontrollen fandt noget – del ikke rapporterne, før det er rettet:</p><ul>"
             + "".join(f"<li>{_e(f)}</li>" for f in findings) + "</ul>")
    n_failed = sum(1 for j in jobs if state.get(j["job"], {}).get("status") not in ("ok", None))
    title = f"{params.survey.title} – {params.survey.wave}"
    css = page_css(f"{params.survey.title} · bølge {params.survey.wave} · {danish_date(dt.date.today())}")
    page = f"""<!DOCTYPE html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>{_e(title)}</title>
<style>
{css}
body.survey-index {{ max-width: 90rem; }}
.survey-index td small {{ white-space: nowrap; }}
</style>
</head>
<body class="survey-index">
<a class="skip-link" href="#indhold">Gå til indholdet</a>
<div class="survey-print-header">{_e(params.survey.title)} · bølge {_e(params.survey.wave)} · {_e(danish_date(dt.date.today()))}</div>
<main id="indhold">
<h1>{_e(params.survey.title)}</h1>
<p>Bølge {_e(params.survey.wave)} · {len(scopes)} omfang × {len(notebooks)} notebooks · {n_failed} fejlet</p>
<h2 id="rapporter">Rapporter</h2>
<div class="table-scroll" role="region" aria-labelledby="rapporter" tabindex="0">
<table id="matrix">{head}{''.join(rows)}</table>
</div>
<h2 id="noegletal">Nøgletal</h2>
<p>Gennemsnitlig score (1–5, vægtet) med 95 %-konfidensinterval, og vægtenes diagnostik. Grupper med under
{_e(params.survey.min_cell_size)} svar vises ikke.</p>
<div class="table-scroll" role="region" aria-labelledby="noegletal" tabindex="0">
<table id="headlines">{score_head}{''.join(score_rows)}</table>
</div>
<h2>Lækagekontrol</h2>
{audit}
<h2 id="proveniens">Proveniens</h2>
<div class="table-scroll" role="region" aria-labelledby="proveniens" tabindex="0">
<table id="provenance">
<tr><th scope="row">Data (SHA-256)</th><td>{_e(prov.get('data_sha256'))}</td></tr>
<tr><th scope="row">Git-commit</th><td>{_e(prov.get('git_commit'))}{' (ændringer ikke committet)' if prov.get('git_dirty') else ''}</td></tr>
<tr><th scope="row">Params (SHA-256)</th><td>{_e(prov.get('params_sha256'))}</td></tr>
<tr><th scope="row">Kerne</th><td>{_e(manifest.get('kernel'))} ({_e(manifest.get('kernel_python'))})</td></tr>
<tr><th scope="row">Pakker</th><td>{_e(', '.join(f'{k} {v}' for k, v in sorted(manifest.get('packages', {}).items())))}</td></tr>
</table>
</div>
<p>Maskinlæsbar version: <a href="manifest.json">manifest.json</a>.</p>
</main>
</body>
</html>
"""
    return atomic_write_text(wave_dir / INDEX, page)
