"""The batch's two overview pages.

``index.html`` is the contents page a reader opens: the headline scores of every scope with the flag
'over' / 'under' / 'på niveau' against the other municipalities, and per scope its one-page summary,
its pages (linked only when current) and its workbook. ``status.html`` is the build's page: which
notebook ran how long or failed, the leak audit, the weighting diagnostics, the stage times and the
provenance (without local file paths).

A batch made by ``survey-report run --wave`` (trend tables in ``<wave>/udvikling/``) gets a section
'Runderne' on the index: which wave the batch is, the earlier waves with data that it is compared
with, a link to each earlier wave's own index when that batch is in the same output root (a
relative link, ``../2024/index.html``), and a link to each scope's trend page (when current) and to
the trend workbook.

Writing the index also writes into each current trend page's provenance footer the waves that made
it (row 'Runder', :func:`set_page_waves`) and sets every current page's previous/next links (the scope's pages in batch
order; :func:`survey_lib.batch.html.set_page_links`). Everything on the pages is escaped; they load
nothing and carry their own CSS (:func:`survey_lib.batch.html.page_css`).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
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
from .html import SUMMARY_PAGE, WORKBOOK, banner_html, danish_date, head_meta, page_css, set_page_links
from .jobs import ALL, INDEX, Job, JobState, is_current, notebook_title, scope_label, slug

__all__ = ["write_index", "STATUS_DA", "KIND_DA", "FLAG_WORDS", "STATUS_PAGE", "headline_flags", "link_pages",
           "waves_section", "WAVE_FOLDERS", "scope_waves", "set_page_waves", "waves_words"]

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
#: In the trend folder: each wave's output folder under the output root (``wave,folder``), written by
#: ``survey-report run --wave`` (the folder is the wave's ``survey.wave``, e.g. ``2023-pilot``).
WAVE_FOLDERS = "wave_folders.csv"
#: The trend page's notebook (survey_lib.waves.run.TREND_NOTEBOOK; not imported: that module pulls in
#: the waves' pipeline).
_TREND_NOTEBOOK = "60_udvikling"


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


def scope_waves(trend_dir: Path, scopes: list[str]) -> dict[str, list[str]]:
    """Per scope (``all`` or a municipality) the waves that made its trend page, in time order: the
    earlier waves in which it took part (``all``: every earlier wave compared) and the batch's wave;
    {} without trend tables. Read from the trend tables (``waves.csv``, the scopes of each
    ``changes_<wave>.csv``: a municipality has changes only against the waves it took part in)."""
    folder = Path(trend_dir)
    if not (folder / "waves.csv").is_file():
        return {}
    waves = [str(w) for w in pd.read_csv(folder / "waves.csv", dtype=str)["wave"]]
    present: dict[str, set[str]] = {}
    for w in waves[:-1]:
        path = folder / f"changes_{w}.csv"
        present[w] = set(pd.read_csv(path, usecols=["scope"], dtype=str)["scope"]) if path.is_file() else set()
    return {s: [w for w in waves[:-1] if s == ALL or s in present[w]] + waves[-1:] for s in scopes}


def waves_words(waves: list[str], labels: Mapping[str, str]) -> str:
    """'April 2024 og November 2025' (the waves by their labels)."""
    names = [labels.get(w, w) for w in waves]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]


_WAVES_ROW = re.compile(r"<!-- survey:waves -->.*?<!-- /survey:waves -->", re.S)
_FOOTER_TABLE = re.compile(r'(<footer class="survey-provenance">\s*<details>.*?<table>)', re.S)


def set_page_waves(page: str, words: str) -> str:
    """``page`` with the row 'Runder' (the waves that made it) first in its provenance footer; the
    row is replaced when there already is one, so that writing it twice changes nothing."""
    row = f'<!-- survey:waves --><tr><th scope="row">Runder</th><td>{_e(words)}</td></tr><!-- /survey:waves -->'
    if _WAVES_ROW.search(page):
        return _WAVES_ROW.sub(lambda m: row, page, count=1)
    return _FOOTER_TABLE.sub(lambda m: m.group(1) + "\n" + row, page, count=1)


def _mark_trend_pages(wave_dir: Path, jobs: list[Job], states: Mapping[str, JobState], tables_key: str) -> int:
    """Write into each current trend page's provenance footer the waves that made it
    (:func:`scope_waves`); a page is rewritten only when the row changes. Returns how many were."""
    from ..paths import TREND_DIR

    folder = Path(wave_dir) / TREND_DIR
    trend_jobs = [j for j in jobs if j.notebook_name == _TREND_NOTEBOOK and is_current(j, states.get(j.job_id),
                                                                                         tables_key)]
    if not trend_jobs or not (folder / "waves.csv").is_file():
        return 0
    waves = pd.read_csv(folder / "waves.csv", dtype=str)
    labels = dict(zip(waves["wave"], waves["label"]))
    made = scope_waves(folder, [j.scope for j in trend_jobs])
    changed = 0
    for j in trend_jobs:
        page = Path(j.html).read_text(encoding="utf-8")
        new = set_page_waves(page, waves_words(made[j.scope], labels))
        if new != page:
            atomic_write_text(Path(j.html), new)
            changed += 1
    return changed


def waves_section(wave_dir: Path, jobs: list[Job], states: Mapping[str, JobState], tables_key: str) -> str:
    """The index's section on the waves ('Runderne'), or '' when the batch has no trend tables.

    Says which wave the batch is and which earlier waves with data it is compared with; an earlier
    wave's batch in the same output root (``wave_dir.parent / <its folder> / index.html``) is linked
    relatively; each scope's trend page is linked when current (else named with 'ikke klar'), and
    the trend workbook when it exists."""
    from ..paths import TREND_DIR

    folder = Path(wave_dir) / TREND_DIR
    if not (folder / "waves.csv").is_file():
        return ""
    waves = pd.read_csv(folder / "waves.csv", dtype=str).fillna("")
    where = (dict(zip(*pd.read_csv(folder / WAVE_FOLDERS, dtype=str).fillna("")[["wave", "folder"]].T.values))
             if (folder / WAVE_FOLDERS).is_file() else {})
    latest = waves.iloc[-1]
    parts = [f'<h2 id="runder">Runderne</h2>\n<p>Denne oversigt er runden <strong>{_e(latest["label"])}</strong>'
             f' (bølge {_e(latest["wave"])}).']
    earlier = waves.iloc[:-1]
    if not len(earlier):
        parts.append(" Der er ingen tidligere runder med data; der er endnu ingen udvikling at vise.</p>")
        return "".join(parts) + "\n"
    items = []
    for r in earlier.iloc[::-1].itertuples():
        out = where.get(r.wave, r.wave)
        index = Path(wave_dir).parent / out / INDEX
        if out and index.is_file() and index.resolve() != (Path(wave_dir) / INDEX).resolve():
            items.append(f'<li><a href="../{_e(out)}/{INDEX}">Rapporterne fra {_e(r.label)}</a></li>')
        else:
            items.append(f"<li>{_e(r.label)} (rundens egne rapporter er ikke lavet i samme mappe)</li>")
    parts.append(f" Den sammenlignes med de tidligere runder med data:</p>\n<ul class=\"survey-waves\">"
                 f'{"".join(items)}</ul>\n')
    trend_jobs = [j for j in jobs if j.notebook_name == _TREND_NOTEBOOK]
    links = []
    for j in trend_jobs:
        if is_current(j, states.get(j.job_id), tables_key):
            links.append(f'<li><a href="{_e(os.path.relpath(j.html, wave_dir))}">{_e(scope_label(j.scope))}</a></li>')
        else:
            links.append(f"<li>{_e(scope_label(j.scope))} <small>(ikke klar)</small></li>")
    if links:
        parts.append('<p>Udviklingen siden de tidligere runder, for hvert omfang:</p>\n'
                     f'<ul class="survey-trend-pages">{"".join(links)}</ul>\n')
    if (folder / "udvikling.xlsx").is_file():
        parts.append(f'<p>Alle ændringer i tal: <a href="{TREND_DIR}/udvikling.xlsx">udviklingen (Excel)</a>.</p>\n')
    return "".join(parts)


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
ul.survey-trend-pages { display: flex; flex-wrap: wrap; gap: .1rem 1.2rem; padding-left: 0; list-style: none; }
"""


def _page(title: str, print_header: str, banner: str, heading: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="da">
<head>
{head_meta()}<title>{_e(title)}</title>
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
    _mark_trend_pages(wave_dir, jobs, states, tables_key)
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
{waves_section(wave_dir, jobs, states, tables_key)}<h2 id="rapporter">Rapporterne</h2>
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
