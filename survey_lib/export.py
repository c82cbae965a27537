"""Writing the table set: tidy CSV for machines ('.' decimals) and an Excel workbook for analysts
(Danish headers, number formats that Danish Excel shows as 3,85 and 24,0 %). Written atomically:
everything goes to a temporary folder beside the target and is moved into place at the end.

A scope's workbook in a wave's batch (``survey-report run --wave``: trend tables in
``<wave>/udvikling/`` beside the scope folders) also gets the sheet ``Udvikling``: the scope's mean
changes since each earlier wave (:func:`trend_sheet`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_folder
from .params import Params
from .tables import TableSet
from .vocabulary import ADJUSTMENT_NAMES, METHOD_NAMES, SurveyVocabulary, theme_outcome

__all__ = ["write_table_set", "write_csvs", "neutralise_csv_text", "restore_csv_text", "FORMULA_TRIGGERS", "write_sheet", "excel_workbook", "EXCEL_HEADERS", "WORKBOOK_OPTIONS",
           "trend_sheet", "TREND_SHEET", "CHANGE_FLAGS_DA"]

# Danish headers of the Excel workbook (the CSV keeps the machine names).
EXCEL_HEADERS = {
    "scope": "Omfang", "question": "Spørgsmål", "heading": "Overskrift", "breakdown": "Opdeling", "group": "Gruppe",
    "category": "Kode", "category_label": "Svarkategori", "n": "Antal svar", "category_n": "Antal i kategori",
    "dont_know_n": "Ved ikke/ikke relevant", "weighted_n": "Vægtet antal", "share": "Andel",
    "share_se": "Andel, standardfejl", "mean": "Gns. score", "mean_se": "Gns. score, standardfejl",
    "mean_ci_low": "95 %-KI, nedre", "mean_ci_high": "95 %-KI, øvre", "suppressed": "Undertrykt (for få svar)",
    "test": "Test", "statistic": "Teststørrelse", "df1": "Frihedsgrader 1", "df2": "Frihedsgrader 2",
    "p_value": "p-værdi", "p_adjusted": "Justeret p-værdi", "others_mean": "Gns. score, øvrige kommuner",
    "difference": "Forskel", "difference_ci_low": "Forskel, 95 %-KI nedre",
    "difference_ci_high": "Forskel, 95 %-KI øvre", "family": "Testfamilie (justeres sammen)", "df": "Frihedsgrader", "flag": "Vurdering", "rank": "Placering",
    "rank_low": "Placering, sikkert fra (95 %)", "rank_high": "Placering, sikkert til (95 %)",
    "adjusted_difference": "Justeret forskel (borgere som vores)",
    "adjusted_ci_low": "Justeret forskel, 95 %-KI nedre", "adjusted_ci_high": "Justeret forskel, 95 %-KI øvre",
    "adjusted_p": "Justeret sammenligning, p-værdi",
    "adjusted_p_adjusted": "Justeret sammenligning, justeret p-værdi",
    "adjusted_flag": "Vurdering, justeret sammenligning",
    "n_municipalities": "Antal kommuner", "kommune": "Kommune", "respondents": "Respondenter",
    "sum_weights": "Sum af vægte", "min": "Mindste vægt", "q1": "Nedre kvartil", "median": "Median",
    "q3": "Øvre kvartil", "max": "Største vægt", "cv": "Variationskoefficient", "deff_kish": "Designeffekt (Kish)",
    "n_effective": "Effektivt antal", "reason": "Årsag", "line": "Linje i tabellen",
    "not_computable": "Ikke beregnelig, årsag", "adjustment": "Tilpasning af tabellen",
    # the sheet Udvikling (the change since an earlier wave, survey_lib.change.CHANGE_COLUMNS)
    "earlier_wave": "Fra runde", "later_wave": "Til runde", "earlier_n": "Antal svar, tidligere runde",
    "later_n": "Antal svar", "earlier": "Gns. score, tidligere runde",
    "earlier_ci_low": "Tidligere runde, 95 %-KI nedre", "earlier_ci_high": "Tidligere runde, 95 %-KI øvre",
    "later": "Gns. score, seneste runde", "later_ci_low": "Seneste runde, 95 %-KI nedre",
    "later_ci_high": "Seneste runde, 95 %-KI øvre", "change": "Ændring", "change_se": "Ændring, standardfejl",
    "change_ci_low": "Ændring, 95 %-KI nedre", "change_ci_high": "Ændring, 95 %-KI øvre",
}
FORMATS = {"share": "0.0%", "share_se": "0.0%", "mean": "0.00", "mean_se": "0.000", "mean_ci_low": "0.00",
           "mean_ci_high": "0.00", "weighted_n": "#,##0", "statistic": "0.00", "df1": "0.0", "df2": "0.0",
           "p_value": "0.0000", "p_adjusted": "0.0000", "others_mean": "0.00", "difference": "0.00",
           "difference_ci_low": "0.00", "difference_ci_high": "0.00",
           "sum_weights": "#,##0", "min": "0.00", "q1": "0.00", "median": "0.00", "q3": "0.00", "max": "0.00",
           "cv": "0.00", "deff_kish": "0.00", "n_effective": "#,##0", "rank": "0",
           "rank_low": "0", "rank_high": "0", "adjusted_difference": "0.00", "adjusted_ci_low": "0.00",
           "adjusted_ci_high": "0.00", "adjusted_p": "0.0000", "adjusted_p_adjusted": "0.0000",
           "earlier_n": "#,##0", "later_n": "#,##0", "earlier": "0.00", "earlier_ci_low": "0.00",
           "earlier_ci_high": "0.00", "later": "0.00", "later_ci_low": "0.00", "later_ci_high": "0.00",
           "change": "0.00", "change_se": "0.000", "change_ci_low": "0.00", "change_ci_high": "0.00"}
FLAGS_DA = {"above": "Signifikant over de øvrige", "below": "Signifikant under de øvrige",
            "level": "På niveau med de øvrige", "suppressed": "Undertrykt (for få svar)"}
ADJUSTED_FLAGS_DA = {"above": "Signifikant over den gennemsnitlige kommune",
                     "below": "Signifikant under den gennemsnitlige kommune",
                     "level": "På niveau med den gennemsnitlige kommune", "": ""}
#: The change's verdict (survey_lib.change.ChangeFlag) as the workbooks say it.
CHANGE_FLAGS_DA = {"up": "Sikker forbedring", "down": "Sikkert fald", "unchanged": "Uændret inden for usikkerheden",
                   "suppressed": "Undertrykt (for få svar)", "not_computable": "Ikke beregnet"}
#: The sheet of a scope's changes since the earlier waves.
TREND_SHEET = "Udvikling"
TESTS_DA = {"rao_scott": "Rao–Scott (fordeling)", "wald": "Wald (gns. score)", "t": "t-test (gns. score)"}


#: Options of every workbook the project writes: text stays text. A comment or label that begins
#: with '=' is never turned into a formula (formula injection), nor a string into a number or a link.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                    "nan_inf_to_errors": True, "constant_memory": True}


def excel_workbook(path: Path):
    """A new ``xlsxwriter`` workbook at ``path`` with :data:`WORKBOOK_OPTIONS` (call ``close()``).

    xlsxwriter rather than openpyxl: half the time for the batch's 28 workbooks, and it records each
    sheet's size, which makes reading them back quick."""
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)


def _cell_value(v):
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.bool_, bool)):
        return "ja" if v else "nej"
    if isinstance(v, np.generic):
        v = v.item()
        return None if isinstance(v, float) and np.isnan(v) else v
    return v


def write_sheet(wb, title: str, frame: pd.DataFrame, widths: dict[str, float] | None = None,
                banner: str = "") -> None:
    """One sheet: a bold header (Danish names from :data:`EXCEL_HEADERS`), the rows, each column's
    number format from :data:`FORMATS`, optional column widths by column name. A ``banner`` (the
    synthetic-data warning, :mod:`survey_lib.synthetic`) is the sheet's first row, above the
    header, and its printed page header."""
    ws = wb.add_worksheet(title[:31])
    bold = wb.add_format({"bold": True})
    cols = list(frame.columns)
    top = 0
    if banner:
        ws.write_string(0, 0, banner, wb.add_format({"bold": True, "font_color": "#A8322A", "font_size": 12}))
        ws.set_header("&C&\"-,Bold\"" + banner.replace("&", "&&"))
        top = 1
    ws.write_row(top, 0, [EXCEL_HEADERS.get(c, c) for c in cols], bold)
    fmts = [wb.add_format({"num_format": FORMATS[c]}) if c in FORMATS else None for c in cols]
    for i, c in enumerate(cols):
        width = (widths or {}).get(c)
        if fmts[i] is not None or width is not None:
            ws.set_column(i, i, width, fmts[i])
    for r, values in enumerate(frame.itertuples(index=False, name=None), start=top + 1):
        for i, v in enumerate(values):
            v = _cell_value(v)
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(r, i, v)
            elif isinstance(v, (int, float)):
                ws.write_number(r, i, v, fmts[i])
            else:
                ws.write_string(r, i, str(v))


_TREND_COLUMNS = ["earlier_wave", "later_wave", "scope", "question", "heading", "breakdown", "group", "earlier_n",
                  "later_n", "earlier", "earlier_ci_low", "earlier_ci_high", "later", "later_ci_low", "later_ci_high",
                  "change", "change_se", "change_ci_low", "change_ci_high", "statistic", "p_value", "family",
                  "p_adjusted", "flag", "suppressed", "not_computable"]


@functools.lru_cache(maxsize=8)
def _mean_changes(path: str, stamp: tuple) -> pd.DataFrame:
    """The mean changes of one ``changes_<wave>.csv`` (read once per process and file version:
    every scope's workbook reads the same file)."""
    c = pd.read_csv(path, dtype={"earlier_wave": str, "later_wave": str, "scope": str, "group": str, "category": str},
                    keep_default_na=True)
    return c[c["kind"] == "mean"].reset_index(drop=True)


def trend_sheet(trend_dir: Path | str, scope: str, breakdown_title=None) -> pd.DataFrame | None:
    """The sheet ``Udvikling`` of ``scope``'s workbook: its mean changes (in total and in every
    breakdown group) since each earlier wave, from the trend tables in ``trend_dir``
    (``changes_<wave>.csv``, :data:`survey_lib.change.CHANGE_COLUMNS`); None when there are none.

    For ``all`` the rows are those of all participants (``Alle deltagere``) and of the
    municipalities in both waves (``Kommuner med i begge runder``). Waves are named by their labels,
    questions by their stable id with the label readers see, the verdict in Danish
    (:data:`CHANGE_FLAGS_DA`). A suppressed change has no number (the change tables leave them
    empty). Rows in the order of the change tables, earlier waves from the latest back.
    ``breakdown_title``: the breakdown's Danish title (default: its name)."""
    folder = Path(trend_dir)
    if not (folder / "waves.csv").is_file():
        return None
    waves = pd.read_csv(folder / "waves.csv", dtype=str)
    label = dict(zip(waves["wave"], waves["label"]))
    names = (pd.read_csv(folder / "labels.csv", dtype=str).set_index("question")["label"].to_dict()
             if (folder / "labels.csv").is_file() else {})
    keep = {"all", "panel"} if scope == "all" else {scope}
    frames = []
    for w in list(waves["wave"])[-2::-1]:
        path = folder / f"changes_{w}.csv"
        if not path.is_file():
            continue
        st = path.stat()
        c = _mean_changes(str(path), (st.st_mtime_ns, st.st_size))
        c = c[c["scope"].isin(keep)]
        if len(c):
            frames.append(c)
    if not frames:
        return None
    c = pd.concat(frames, ignore_index=True).rename(columns={"ci_low": "change_ci_low", "ci_high": "change_ci_high"})
    c["heading"] = c["question"].map(lambda q: names.get(q, q))
    c["earlier_wave"] = c["earlier_wave"].map(lambda w: label.get(w, w))
    c["later_wave"] = c["later_wave"].map(lambda w: label.get(w, w))
    c["scope"] = c["scope"].replace({"all": "Alle deltagere", "panel": "Kommuner med i begge runder"})
    if breakdown_title is not None:
        c["breakdown"] = c["breakdown"].map(breakdown_title)
    c["flag"] = c["flag"].map(CHANGE_FLAGS_DA).fillna(c["flag"])
    c["suppressed"] = c["suppressed"].astype(str).str.lower().eq("true")
    for col in ("earlier_n", "later_n"):
        c[col] = pd.to_numeric(c[col], errors="coerce")
    return c[_TREND_COLUMNS].reset_index(drop=True)


def _excel(path: Path, ts: TableSet, params: Params, diagnostics: pd.DataFrame, prov: dict,
           trend: pd.DataFrame | None = None) -> None:
    from .synthetic import BANNER

    wb = excel_workbook(path)
    banner = BANNER if prov.get("data_synthetic") else ""
    qn = params.questionnaire
    vocabulary = SurveyVocabulary.from_params(params)
    theme_of = {q.id: q.theme for q in qn.questions} | {theme_outcome(t.id): t.id for t in qn.themes}
    heading = {q.id: q.heading for q in qn.questions} | {theme_outcome(t.id): f"Temascore: {t.label}" for t in qn.themes}
    t = ts.tables.copy()
    t.insert(2, "heading", t["question"].map(heading))
    t["breakdown"] = t["breakdown"].map(vocabulary.title)
    t["scope"] = t["scope"].replace({"all": "Alle kommuner"})
    for theme in qn.themes:
        part = t[t["question"].map(theme_of) == theme.id]
        if len(part):
            write_sheet(wb, theme.label, part, banner=banner)
    tests = ts.tests.copy()
    tests["breakdown"] = tests["breakdown"].map(vocabulary.title)
    tests["test"] = tests["test"].map(TESTS_DA).fillna(tests["test"])
    tests["scope"] = tests["scope"].replace({"all": "Alle kommuner"})
    write_sheet(wb, "Tests", tests, banner=banner)
    comp = ts.comparisons.copy()
    comp["flag"] = comp["flag"].map(FLAGS_DA).fillna(comp["flag"])
    comp["adjusted_flag"] = comp["adjusted_flag"].map(ADJUSTED_FLAGS_DA).fillna(comp["adjusted_flag"])
    write_sheet(wb, "Kommune mod øvrige", comp, banner=banner)
    diag = diagnostics.copy()
    diag["kommune"] = diag["kommune"].replace({"all": "Alle kommuner"})
    write_sheet(wb, "Vægte", diag, banner=banner)
    log = ts.suppression_log.copy()
    log["reason"] = log["reason"].map({"primary": "For få svar", "secondary": "Kunne findes ved fratrækning"})
    log["breakdown"] = log["breakdown"].map(vocabulary.title)
    log["scope"] = log["scope"].replace({"all": "Alle kommuner"})
    write_sheet(wb, "Undertrykte celler", log, banner=banner)
    if trend is not None and len(trend):
        write_sheet(wb, TREND_SHEET, trend, banner=banner)
    from .provenance import workbook_provenance

    rows = workbook_provenance(prov)          # Danish labels and dates, no local paths
    about = pd.DataFrame({"Oplysning": [k for k, _ in rows], "Værdi": [v for _, v in rows]})
    about = pd.concat([pd.DataFrame({"Oplysning": ["Læsevejledning"], "Værdi": [
        f"Andele og gennemsnitlige scorer er vægtede ({METHOD_NAMES[params.survey.weighting.method].lower()}); "
        "'Ved ikke/ikke relevant' indgår ikke. "
        f"Grupper med under {params.survey.min_cell_size} svar er undertrykt. p-værdier er justeret for mange "
        f"test i to familier: forskelle mellem grupper inden for et tema og et omfang "
        f"({ADJUSTMENT_NAMES[params.survey.multiple_testing]}), og kommunens sammenligning med de øvrige "
        f"kommuner på alle dens spørgsmål og temaer ({ADJUSTMENT_NAMES[params.survey.comparison_testing]}). "
        f"Placeringen er rangeret blandt kommuner med mindst {params.survey.reporting_minimum} svar; "
        "'sikkert fra' og 'sikkert til' er et 95 %-konfidenssæt for placeringen. Den justerede sammenligning "
        "sammenligner kommunen med den gennemsnitlige kommune med borgere som kommunens egne (samme "
        "målgrupper, alder, køn og varighed); den rå sammenligning sammenligner med de øvrige kommuner, "
        "som de er."
        + (" Arket Udvikling viser ændringen i gennemsnitlig score siden de tidligere runder (i alt og i hver "
           "gruppe): 'Antal svar' er antallet i denne runde; ændringens standardfejl er √(SE₁² + SE₂²) for to "
           "uafhængige stikprøver, og p-værdien er justeret for mange test inden for omfanget "
           f"({ADJUSTMENT_NAMES[params.survey.comparison_testing]}). Hvor en af runderne har for få svar, vises "
           "ingen ændring." if trend is not None and len(trend) else "")]}), about])
    write_sheet(wb, "Om tabellerne", about, banner=banner)
    wb.close()


#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP, 'CSV Injection').
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    """True when ``text`` would be read as a formula, also behind quotes the writer added before
    (``'=x``): such a text gets one more quote, so that :func:`restore_csv_text` is exact."""
    return text.lstrip("'")[:1] in FORMULA_TRIGGERS if text else False


def _text_test(values: pd.Series, vectorised, one) -> pd.Series:
    """A boolean Series: ``one(v)`` for every cell that is a text (``str``), False for every other
    cell. Computed with pandas' string methods (``vectorised`` of the texts only) instead of a
    Python call per cell where the column allows."""
    if isinstance(values.dtype, pd.StringDtype) or values.dtype.kind in "SUT":
        is_text = values.notna()
    else:
        is_text = values.map(lambda v: isinstance(v, str))
    if not is_text.any():
        return pd.Series(False, index=values.index)
    texts = values[is_text].astype(str)
    result = pd.Series(False, index=values.index)
    result[is_text.to_numpy(bool)] = vectorised(texts).fillna(False).to_numpy(bool)
    return result


def neutralise_csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return prefixed by a single quote, as OWASP recommends against formula injection; numbers are
    left alone (a negative number in a numeric column stays a number).

    A carriage return inside a text becomes a line feed first: the CSV writer quotes a cell with a
    line feed but not one with a bare carriage return, which every reader takes for the end of the
    row (so a comment with one would be cut in two); a text can then no longer begin with one.

    Notes
    -----
    A text that begins with quotes followed by one of those characters gets one more quote, so the
    mapping can be undone exactly (:func:`restore_csv_text`). OWASP, *CSV Injection*
    (owasp.org/www-community/attacks/CSV_Injection).
    """
    out = None
    for col in frame.columns:
        values = frame[col]
        if values.dtype.kind not in "OSUT" and not isinstance(values.dtype, pd.StringDtype):
            continue
        carriage = _text_test(values, lambda t: t.str.contains("\r", regex=False),
                              lambda v: "\r" in v)
        if carriage.any():
            values = values.astype(object).where(~carriage, values[carriage].astype(str)
                                                 .str.replace("\r\n", "\n").str.replace("\r", "\n"))
        hit = _text_test(values, lambda t: t.str.lstrip("'").str[:1].isin(FORMULA_TRIGGERS), _needs_quote)
        if hit.any() or carriage.any():
            if out is None:
                out = frame.copy()
            out[col] = values.astype(object).where(~hit, "'" + values[hit].astype(str))
    return frame if out is None else out


def restore_csv_text(frame: pd.DataFrame, text_columns=()) -> pd.DataFrame:
    """Undo :func:`neutralise_csv_text` on a frame read back from a CSV of :func:`write_csvs`; a
    column whose cells are all numbers once restored becomes numeric again (as the CSV reader would
    have made it), except the ``text_columns`` the caller reads as text."""
    out = None
    for col in frame.columns:
        values = frame[col]
        if values.dtype.kind != "O" and not isinstance(values.dtype, pd.StringDtype):
            continue
        hit = _text_test(values, lambda t: t.str.startswith("'") & t.str[1:].str.lstrip("'").str[:1].isin(FORMULA_TRIGGERS),
                         lambda v: v.startswith("'") and _needs_quote(v[1:]))
        if hit.any():
            if out is None:
                out = frame.copy()
            restored = values.astype(object).where(~hit, values[hit].astype(str).str[1:])
            numbers = pd.to_numeric(restored, errors="coerce")
            numeric = col not in text_columns and bool((numbers.notna() | restored.isna()).all())
            out[col] = numbers if numeric else restored.astype(values.dtype)
    return frame if out is None else out


def write_csvs(stage, frames: dict[str, pd.DataFrame]) -> None:
    """Write each frame as ``<name>.csv`` into an :func:`~survey_lib.atomic.atomic_folder` stage, in
    the project's one CSV format (UTF-8, no index, '\\n' line ends, 10 significant digits), text
    cells neutralised against formula injection (:func:`neutralise_csv_text`; the project's reader,
    :func:`survey_lib.notebook.read_csv_folder`, undoes it)."""
    for name, frame in frames.items():
        neutralise_csv_text(frame).to_csv(stage.file(f"{name}.csv"), index=False, lineterminator="\n",
                                          float_format="%.10g")


def write_table_set(ts: TableSet, diagnostics: pd.DataFrame, strata: pd.DataFrame,
                    collapses: pd.DataFrame, out: Path | str, params: Params, prov: dict,
                    excel: bool = True, excel_rows: pd.Series | None = None,
                    trend_dir: Path | str | None = None) -> list[Path]:
    """Write tables.csv, tests.csv, comparisons.csv, suppression_log.csv, weights_diagnostics.csv,
    strata.csv, collapses.csv, provenance.json and (``excel``) tabeller.xlsx to ``out``.

    ``excel_rows``: a mask over ``ts.tables`` of the rows the workbook shows (default: all; the CSV
    always has all).

    Nothing at respondent level is written (no ids, no individual weights): the weights are
    published per weighting cell (strata.csv), which is all that is needed to reproduce them, except
    in a cell with fewer respondents than the minimum, whose count and weight are blank
    (:func:`survey_lib.privacy.disclosure.suppress_strata`)."""
    from .privacy.disclosure import suppress_strata

    out = Path(out)
    files = {
        "tables": ts.tables, "tests": ts.tests, "comparisons": ts.comparisons,
        "suppression_log": ts.suppression_log, "weights_diagnostics": diagnostics,
        "strata": suppress_strata(strata, params.survey.min_cell_size),
        "collapses": collapses,
    }
    with atomic_folder(out) as stage:
        write_csvs(stage, files)
        stage.file("provenance.json").write_text(json.dumps(prov, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if excel:
            book = ts if excel_rows is None else dataclasses.replace(
                ts, tables=ts.tables[excel_rows.to_numpy(bool)].reset_index(drop=True))
            from .paths import TREND_DIR

            scope = str(prov.get("scope") or "all")
            trend = trend_sheet(Path(trend_dir) if trend_dir is not None else out.parent.parent / TREND_DIR, scope,
                                SurveyVocabulary.from_params(params).title)
            _excel(stage.file("tabeller.xlsx"), book, params, diagnostics, prov, trend)
        names = list(stage.names)
    return [out / n for n in names]
