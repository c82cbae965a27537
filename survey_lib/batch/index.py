"""The batch's two overview pages.

``index.html`` is the contents page a reader opens: the headline scores of every scope with the flag
'over' / 'under' / 'på niveau' against the other municipalities, and per scope its one-page summary,
its pages (linked only when current) and its workbook. ``status.html`` is the build's page: which
notebook ran how long or failed, the leak audit, the weighting diagnostics, the stage times and the
provenance (without local file paths).

Writing the index also sets every current page's previous/next links (the scope's pages in batch
order; :func:`survey_lib.batch.html.set_page_links`). Everything on the pages is escaped; they load
nothing and carry their own CSS (:func:`survey_lib.batch.html.page_css`).
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path
from typing import Mapping

import pandas as pd

from ..atomic import atomic_write_text
from ..narrative import fmt_int, fmt_number
from ..paths import TABLES_DIR
from ..provenance import danish_datetime
from ..scores import theme_score_ids
from ..params import Params
from ..synthetic import banner_for
from .html import SUMMARY_PAGE, WORKBOOK, banner_html, danish_date, page_css, set_page_links
from .jobs import ALL, INDEX, Job, JobState, is_current, notebook_title, scope_label, slug

__all__ = ["write_index", "STATUS_DA", "KIND_DA", "FLAG_WORDS", "STATUS_PAGE", "headline_flags", "link_pages"]

#: The build's page, beside the index.
STATUS_PAGE = "status.html"
#: The flag of a municipality against the others, as the pages say it.
FLAG_WORDS = {"above": "over", "below": "under", "level": "på niveau"}

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
    python = prov.get("python")
    kernel = f"{manifest.get('kernel') or '–'}" + (f" (Python {python})" if python else "")
    created = danish_datetime(prov["created"]) if prov.get("created") else "–"
    return f"""<table id="provenance">
<tr><th scope="row">Tabellerne lavet</th><td>{_e(created)}</td></tr>
<tr><th scope="row">Data (SHA-256)</th><td>{_e(prov.get('data_sha256'))}</td></tr>
<tr><th scope="row">Datafiler</th><td>{_e(', '.join(str(v) for v in (prov.get('data_files') or {}).values()))}</td></tr>
<tr><th scope="row">Git-commit</th><td>{_e(prov.get('git_commit'))}{' (ændringer ikke committet)' if prov.get('git_dirty') else ''}</td></tr>
<tr><th scope="row">Params (SHA-256)</th><td>{_e(prov.get('params_sha256'))}</td></tr>
<tr><th scope="row">Kerne</th><td>{_e(kernel)}</td></tr>
<tr><th scope="row">Pakker</th><td>{_e(', '.join(f'{k} {v}' for k, v in sorted(manifest.get('packages', {}).items())))}</td></tr>
</table>"""


_STAGES = {"tables": "Tabeller og frafald", "notebooks": "Notebooks", "audit": "Lækagekontrol", "total": "I alt"}


def _timings(manifest: dict) -> str:
    t = manifest.get("timings") or {}
    if not t:
        return "<p>Ingen tider endnu (kørslen er i gang eller blev afbrudt).</p>"
    rows = "".join(f'<tr><th scope="row">{_e(_STAGES.get(k, k))}</th><td>{_e(fmt_number(v, 1))} s</td></tr>'
                   for k, v in t.items())
    return f'<table id="timings"><tr><th scope="col">Trin</th><th scope="col">Varighed</th></tr>{rows}</table>'


def headline_flags(wave_dir: Path, scopes: list[str], outcomes: list[str]) -> dict[str, dict[str, dict]]:
    """Per municipality scope and outcome: its comparison with the others from the scope's
    ``comparisons.csv`` (flag, difference, rank, rank interval when the table has one); {} for a
    scope whose table is missing."""
    out: dict[str, dict[str, dict]] = {}
    for scope in scopes:
        if scope == ALL:
            continue
        path = wave_dir / slug(scope) / TABLES_DIR / "comparisons.csv"
        if not path.is_file():
            continue
        comp = pd.read_csv(path, keep_default_na=True)
        comp = comp[(comp["scope"].astype(str) == scope) & comp["question"].isin(outcomes)]
        out[scope] = {r["question"]: {k: (None if pd.isna(r.get(k)) else r.get(k))
                                      for k in ("flag", "difference", "rank", "n_municipalities", "rank_low",
                                                "rank_high")}
                      for r in comp.to_dict("records")}
    return out


def _headline_cell(score: dict, flag: dict | None) -> str:
    if score.get("mean") is None:
        return "<td>–</td>"
    word = FLAG_WORDS.get((flag or {}).get("flag") or "", "")
    shown = f' <span class="flag flag-{_e((flag or {}).get("flag"))}">{_e(word)}</span>' if word else ""
    return f"<td>{_e(fmt_number(score['mean']))}{shown}</td>"


def _contents_table(scopes: list[str], themes: list[tuple[str, str]], headlines: dict, flags: dict) -> str:
    head = '<tr><th scope="col">Omfang</th>' + "".join(f'<th scope="col">{_e(t)}</th>' for _, t in themes) + "</tr>"
    rows = []
    for s in scopes:
        scores = headlines.get(s, {}).get("scores", {})
        excluded = headlines.get(s, {}).get("excluded")
        cells = (f'<td class="udeladt" colspan="{len(themes)}">{_e(excluded)}</td>' if excluded else
                 "".join(_headline_cell(scores.get(q, {}), flags.get(s, {}).get(q)) for q, _ in themes))
        rows.append(f'<tr><th scope="row"><a href="#omfang-{_e(slug(s))}">{_e(scope_label(s))}</a></th>{cells}</tr>')
    return head + "".join(rows)


def _scope_section(scope: str, jobs: list[Job], states: Mapping[str, JobState], wave_dir: Path,
                   tables_key: str, excluded: str | None = None) -> str:
    """One scope on the contents page: its summary, its pages (linked when current) and its workbook;
    for a municipality left out of the analysis (``excluded``: why, in Danish) only that line."""
    folder = wave_dir / slug(scope)
    sid = f"omfang-{slug(scope)}"
    if excluded:
        return (f'<section class="survey-scope" aria-labelledby="{_e(sid)}"><h3 id="{_e(sid)}">{_e(scope_label(scope))}'
                f'</h3><p class="udeladt">{_e(excluded)}</p></section>')
    items = []
    for j in jobs:
        title = notebook_title(str(j.notebook))
        if is_current(j, states.get(j.job_id), tables_key):
            items.append(f'<li class="ok"><a href="{_e(os.path.relpath(j.html, wave_dir))}">{_e(title)}</a></li>')
        else:
            state = states.get(j.job_id)
            why = STATUS_DA["failed"] if state is not None and state.status == "failed" else "ikke klar"
            items.append(f'<li>{_e(title)} <small>({_e(why)} – se <a href="{STATUS_PAGE}">kørslens status</a>)</small></li>')
    extra = []
    if (folder / f"{SUMMARY_PAGE}.html").is_file():
        pdf = (f' (<a href="{_e(slug(scope))}/{SUMMARY_PAGE}.pdf">PDF</a>)'
               if (folder / f"{SUMMARY_PAGE}.pdf").is_file() else "")
        extra.append(f'<a href="{_e(slug(scope))}/{SUMMARY_PAGE}.html">Ledelsesresumé på én side</a>{pdf}')
    if (folder / WORKBOOK).is_file():
        extra.append(f'<a href="{_e(slug(scope))}/{WORKBOOK}">Tabeller (Excel)</a>')
    return (f'<section class="survey-scope" aria-labelledby="{_e(sid)}"><h3 id="{_e(sid)}">{_e(scope_label(scope))}</h3>'
            + (f'<p>{" · ".join(extra)}</p>' if extra else "")
            + f'<ol class="survey-pages">{"".join(items)}</ol></section>')


_OVERVIEW_CSS = """
body.survey-index { max-width: 80rem; }
.survey-index td small { white-space: nowrap; }
.flag { font-size: .85rem; padding: 0 .3rem; border-radius: 3px; white-space: nowrap; }
.flag-above { background: #e3eefa; color: #133a66; } .flag-below { background: #fbe9e7; color: #8a251f; }
.flag-level { color: #595959; }
.survey-scopes { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: 0 2rem; }
.survey-scope h3 { margin: 1.2rem 0 .3rem; }
.survey-scope p { margin: .2rem 0 .4rem; }
ol.survey-pages { margin: 0; padding-left: 1.4rem; }
.udeladt { font-style: italic; color: #595959; }
"""


def _page(title: str, print_header: str, banner: str, heading: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>{_e(title)}</title>
<style>
{page_css((banner.upper() + " · " if banner else "") + print_header)}{_OVERVIEW_CSS}
</style>
</head>
<body class="survey-index">
<a class="skip-link" href="#indhold">Gå til indholdet</a>
<header class="survey-header">{banner_html(banner)}
<div class="survey-print-header">{_e(print_header)}</div>
</header>
<main id="indhold">
<h1>{_e(heading)}</h1>
{body}
</main>
</body>
</html>
"""


def link_pages(jobs: list[Job], states: Mapping[str, JobState], tables_key: str) -> int:
    """Set the previous/next links of every current page: the scope's current pages in batch order.
    A page is rewritten (atomically) only when its links change; returns how many were."""
    changed = 0
    for scope in _unique(j.scope for j in jobs):
        current = [j for j in jobs if j.scope == scope and is_current(j, states.get(j.job_id), tables_key)]
        for i, j in enumerate(current):
            def link(other: Job | None):
                return None if other is None else (Path(other.html).name, notebook_title(str(other.notebook)))
            prev, nxt = link(current[i - 1] if i > 0 else None), link(current[i + 1] if i + 1 < len(current) else None)
            page = Path(j.html).read_text(encoding="utf-8")
            new = set_page_links(page, prev, nxt)
            if new != page:
                atomic_write_text(Path(j.html), new)
                changed += 1
    return changed


def write_index(wave_dir: Path, params: Params, jobs: list[Job], states: Mapping[str, JobState], headlines: dict,
                findings: list | None, manifest: dict, tables_key: str) -> Path:
    """Write ``index.html`` (the contents page) and ``status.html`` (the build's page) into
    ``wave_dir`` (atomically), and set the current pages' previous/next links; return the index's
    path.

    A page is linked only when it is current: the job's last run succeeded with the job's present
    key and from the tables of ``tables_key``, and the page exists. ``findings`` None: the audit has
    not run yet (an index written while the batch runs). The banner 'Syntetiske data' is shown when
    the batch's data folder holds the twin (:func:`survey_lib.synthetic.check_synthetic`).
    """
    scopes, notebooks = _unique(j.scope for j in jobs), _unique(j.notebook_name for j in jobs)
    n_failed = sum(1 for j in jobs if states.get(j.job_id) is not None and states[j.job_id].status not in ("ok",))
    title, wave = params.survey.title, params.survey.wave
    today = danish_date(dt.date.today())
    banner = banner_for(jobs[0].parameters.get("data_dir")) if jobs else ""
    themes = _themes(params, headlines)
    flags = headline_flags(wave_dir, scopes, [q for q, _ in themes])
    link_pages(jobs, states, tables_key)
    status_note = (f'{n_failed} af {len(jobs)} sider fejlede eller mangler' if n_failed else "alle sider er lavet")
    sections = "".join(_scope_section(s, [j for j in jobs if j.scope == s], states, wave_dir, tables_key,
                                      headlines.get(s, {}).get("excluded")) for s in scopes)
    contents = f"""<p>Bølge {_e(wave)} · {len(scopes)} omfang · {len(notebooks)} sider pr. omfang · {_e(status_note)}
(<a href="{STATUS_PAGE}">kørslens status</a>).</p>
<h2 id="noegletal">Nøgletal</h2>
<p>Gennemsnitlig score på en skala fra 1 til 5 (vægtet). Ved hver kommune står, om den ligger <strong>over</strong>
eller <strong>under</strong> gennemsnittet af de øvrige kommuner (en statistisk sikker forskel) eller
<strong>på niveau</strong> med dem (ingen sikker forskel). Grupper med under {_e(params.survey.min_cell_size)}
svar vises ikke.</p>
<div class="table-scroll" role="region" aria-labelledby="noegletal" tabindex="0">
<table id="headlines">{_contents_table(scopes, themes, headlines, flags)}</table>
</div>
<h2 id="rapporter">Rapporterne</h2>
<div class="survey-scopes">{sections}</div>
"""
    index = _page(f"{title} – {wave}", f"{title} · bølge {wave} · {today}", banner, title, contents)
    status = f"""<p><a href="{INDEX}">Tilbage til oversigten</a> · bølge {_e(wave)} · {len(scopes)} omfang ×
{len(notebooks)} notebooks · {n_failed} fejlet</p>
<h2 id="sider">Siderne</h2>
<div class="table-scroll" role="region" aria-labelledby="sider" tabindex="0">
<table id="matrix">{_matrix(jobs, states, wave_dir, tables_key, headlines)}</table>
</div>
<h2 id="laekage">Lækagekontrol</h2>
{_audit_section(findings)}
<h2 id="vaegte">Nøgletal og vægtenes diagnostik</h2>
<p>Gennemsnitlig score (1–5, vægtet) med 95 %-konfidensinterval, og vægtenes diagnostik.</p>
<div class="table-scroll" role="region" aria-labelledby="vaegte" tabindex="0">
<table id="weighting">{_headline_table(scopes, themes, headlines)}</table>
</div>
<h2 id="tider">Tider</h2>
{_timings(manifest)}
<h2 id="proveniens">Proveniens</h2>
<div class="table-scroll" role="region" aria-labelledby="proveniens" tabindex="0">
{_provenance_table(manifest)}
</div>
<p>Maskinlæsbar version: <a href="manifest.json">manifest.json</a>.</p>
"""
    atomic_write_text(wave_dir / STATUS_PAGE,
                      _page(f"Kørslens status – {title} – {wave}", f"Kørslens status · bølge {wave} · {today}",
                            banner, "Kørslens status", status))
    return atomic_write_text(wave_dir / INDEX, index)
