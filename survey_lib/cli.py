"""The ``survey-report`` command line: thin wrappers over the library.

Subcommands
-----------
validate DATA_DIR         load and check the three input files; print a report and every fault.
demo-data --out DIR       write the synthetic twin (population, sample, responses, ground truth);
                          --wave 2024|2025|all writes the later waves' twins to DIR/<wave>/.
tables DATA_DIR --out DIR weight, estimate every table and test, write CSV and Excel.
nonresponse DATA_DIR --out DIR  non-response analysis and weighting diagnostics (CSV).
pseudonymize IN OUT --key-file F  replace CPR numbers by keyed surrogate ids (HMAC-SHA256).
audit OUTPUT_DIR          scan finished outputs for personal data and small cells.
run                       the batch: every notebook for every scope, HTML site, index, audit;
                          --wave W: wave W's batch with its trend pages against the earlier waves;
                          without --wave and --data, the latest wave with data when params/ has waves.
diff OLD NEW              which headline numbers changed between two batch outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .errors import SurveyError
from .paths import ProjectPaths

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Analyses of KL's citizen survey on employment services (borgerundersøgelse).")

_PARAMS_HELP = ("Folder of questionnaire.yaml, survey.yaml, kommuner.yaml and freetext.yaml (default: the "
                "project's params/).")


_WAVE_HELP = ("A wave under params/waves/ (e.g. 2025): its parameters are the shared ones with "
              "params/waves/<wave>/wave.yaml laid over (docs/waves.md).")


def _params(params_dir: Optional[Path], wave: Optional[str] = None):
    from .params import load_params

    if wave is not None:
        from .waves import load_wave

        return load_wave(wave, params_dir).params
    return load_params(params_dir or ProjectPaths().params)


def _fail(exc: SurveyError) -> None:
    typer.echo(str(exc), err=True)
    raise typer.Exit(code=2)


@app.command()
def validate(
    data_dir: Path = typer.Argument(..., help="Folder with population, sample and responses files."),
    params_dir: Optional[Path] = typer.Option(None, "--params", help=_PARAMS_HELP),
    max_faults: int = typer.Option(500, help="Print at most this many faults (all are counted)."),
    wave: Optional[str] = typer.Option(None, "--wave", help=_WAVE_HELP),
) -> None:
    """Load DATA_DIR, print a validation report and every fault; exit 1 if there are faults."""
    from .load import check_inputs

    try:
        params = _params(params_dir, wave)
    except SurveyError as exc:
        _fail(exc)
    result = check_inputs(data_dir, params)
    s = result.summary
    typer.echo(f"Validation of {data_dir} (wave {params.survey.wave})")
    for note in result.notes:
        typer.echo(f"  {note}")
    for key in ("population_rows", "sample_rows", "responses_rows"):
        if key in s:
            typer.echo(f"{key.replace('_', ' ')}: {s[key]}")
    if "responses_by_status" in s:
        typer.echo("respondents by status: " + ", ".join(f"{k}: {v}" for k, v in s["responses_by_status"].items()))
    for key, title in (("population_per_kommune", "population per municipality"),
                       ("respondents_per_kommune", "respondents per municipality")):
        if key in s:
            typer.echo(f"{title}:")
            for k, v in s[key].items():
                typer.echo(f"  {k}: {v}")
    if "answers_per_question" in s:
        typer.echo("answers per question (incl. 'ved ikke'):")
        for k, v in s["answers_per_question"].items():
            typer.echo(f"  {k}: {v}")
    if result.faults:
        typer.echo(f"\n{len(result.faults)} fault(s):")
        for f in result.faults[:max_faults]:
            typer.echo(f"  - {f}")
        if len(result.faults) > max_faults:
            typer.echo(f"  ... and {len(result.faults) - max_faults} more")
        raise typer.Exit(code=1)
    typer.echo("\nNo faults found.")
    from .pipeline import analysis_notes

    notes = analysis_notes(result.data, params)
    if notes:
        typer.echo("\nThe analysis (weighting, municipalities left out):")
        for line in notes:
            typer.echo(f"  - {line}")


@app.command("demo-data")
def demo_data(
    out: Path = typer.Option(..., "--out", help="Folder to write population, sample and responses to."),
    seed: int = typer.Option(2023, help="Random seed; the same seed gives the same files (byte-identical for csv and parquet)."),
    fmt: str = typer.Option("csv", "--format", help="csv, xlsx, parquet or sav."),
    scale: str = typer.Option("pilot", help="'pilot' (the 13 municipalities of 2023), 'national' (98 "
                                            "municipalities, about 600,000 citizens), or a factor of national."),
    params_dir: Optional[Path] = typer.Option(None, "--params", help=_PARAMS_HELP),
    wave: Optional[str] = typer.Option(None, "--wave", help="2023, 2024, 2025 or all: the twin of each wave, "
                                       "each in OUT/<wave>/ (docs/waves.md); without it, the 2023 pilot twin in OUT."),
) -> None:
    """Write the synthetic twin of the 2023 pilot to OUT (plus its ground truth).

    A national twin has municipalities of its own, so a params folder for it is written to OUT/params
    (validate with: survey-report validate OUT --params OUT/params).

    With --wave, the twins of the later waves (their published totals, planted true changes in
    ground_truth_changes.csv) are written to OUT/<wave>/ (validate with: survey-report validate
    OUT/2025 --wave 2025)."""
    import shutil

    import yaml

    from .demo import generate, write_dataset

    if wave is not None:
        from .waves.twin import TWIN_WAVES, write_twins

        if scale != "pilot":
            typer.echo("--wave makes the waves' own twins; it cannot be combined with --scale", err=True)
            raise typer.Exit(code=2)
        try:
            names = list(TWIN_WAVES) if wave == "all" else [wave]
            written = write_twins(names, out, params_dir, fmt)
        except SurveyError as exc:
            _fail(exc)
        for p in written:
            typer.echo(f"wrote {p}")
        return

    if scale == "pilot":
        size: str | float = "pilot"
    else:
        try:
            size = 1.0 if scale == "national" else float(scale)
        except ValueError:
            typer.echo(f"--scale must be 'pilot', 'national' or a number; got {scale!r}", err=True)
            raise typer.Exit(code=2)
    try:
        params = _params(params_dir)
        data = generate(params, seed=seed, scale=size)
        written = write_dataset(data, out, fmt)
    except SurveyError as exc:
        _fail(exc)
    if size != "pilot":
        dst = out / "params"
        dst.mkdir(parents=True, exist_ok=True)
        for role, source in params.sources.items():     # every params file but the municipality list
            if role != "kommuner":
                shutil.copyfile(source, dst / Path(source).name)
        (dst / "kommuner.yaml").write_text(
            "# Synthetic municipalities of a national twin (survey-report demo-data --scale).\n"
            + yaml.safe_dump({"kommuner": data.kommuner}, allow_unicode=True, sort_keys=False), encoding="utf-8")
        written.append(dst)
    for p in written:
        typer.echo(f"wrote {p}")


@app.command()
def tables(
    data_dir: Path = typer.Argument(..., help="Folder with population, sample and responses files."),
    out: Path = typer.Option(..., "--out", help="Folder to write tables.csv, tests.csv, ... and tabeller.xlsx to."),
    kommune: Optional[list[str]] = typer.Option(None, "--kommune", help="Only these municipalities as scopes "
                                                "(repeatable; default: all). 'all' is always made."),
    no_excel: bool = typer.Option(False, "--no-excel", help="Write the CSV files only."),
    params_dir: Optional[Path] = typer.Option(None, "--params", help=_PARAMS_HELP),
) -> None:
    """Weight the data, estimate every table and test, and write them (CSV with '.' decimals, Excel
    with Danish headers and formats)."""
    from .pipeline import make_tables

    try:
        params = _params(params_dir)
        params.check_kommuner(kommune or [], "--kommune")
        written = make_tables(data_dir, params, out, scopes=list(kommune) if kommune else None, excel=not no_excel)
    except SurveyError as exc:
        _fail(exc)
    for p in written:
        typer.echo(f"wrote {p}")


@app.command()
def nonresponse(
    data_dir: Path = typer.Argument(..., help="Folder with population, sample and responses files."),
    out: Path = typer.Option(..., "--out", help="Folder to write the non-response tables (CSV) to."),
    kommune: Optional[str] = typer.Option(None, "--kommune", help="One municipality only (default: the whole survey)."),
    params_dir: Optional[Path] = typer.Option(None, "--params", help=_PARAMS_HELP),
) -> None:
    """Non-response analysis and weighting diagnostics: response rates, sample vs respondents with
    Rao–Scott tests, propensity model, R-indicators, response curve, completion times, weighting
    shift, balance, and a comparison of weighting methods (one CSV each)."""
    from .atomic import atomic_folder
    from .export import write_csvs
    from .load import load_survey
    from .nonresponse import nonresponse_report

    import json

    from .provenance import provenance

    try:
        params = _params(params_dir)
        data = load_survey(data_dir, params)
        report = nonresponse_report(data, params, kommune=kommune).frames()
    except SurveyError as exc:
        _fail(exc)
    prov = provenance(data.digest, params.digest, params.survey.wave, data.sources)
    prov["scope"] = kommune or "all"
    with atomic_folder(out) as stage:
        write_csvs(stage, report)
        stage.file("provenance.json").write_text(json.dumps(prov, ensure_ascii=False, indent=1) + "\n",
                                                 encoding="utf-8")
    for name in list(report) + ["provenance"]:
        typer.echo(f"wrote {out / (name + ('.json' if name == 'provenance' else '.csv'))}")


@app.command()
def pseudonymize(
    in_dir: Path = typer.Argument(..., help="Folder with the raw population, sample and responses files (read only)."),
    out_dir: Path = typer.Argument(..., help="Folder to write the pseudonymised files to (same formats)."),
    key_file: Path = typer.Option(..., "--key-file", help="File with the secret key (kept outside the data and "
                                  "output folders; never written anywhere)."),
    create_key: bool = typer.Option(False, "--create-key", help="Create a new random key in --key-file first "
                                    "(refuses to overwrite an existing key)."),
    id_column: str = typer.Option("person_id", "--id-column", help="Column holding the CPR number in all three files."),
) -> None:
    """Replace the CPR numbers in population, sample and responses by keyed surrogate ids
    (HMAC-SHA256), consistently across the three files; CPR numbers inside text cells become [CPR]."""
    from .privacy.pseudonymize import create_key as _create, pseudonymize_dir

    try:
        if create_key:
            _create(key_file)
            typer.echo(f"created a new key in {key_file} (keep it safe and apart from the data)")
        result = pseudonymize_dir(in_dir, out_dir, key_file, id_column=id_column)
    except SurveyError as exc:
        _fail(exc)
    for role, n in result.files.items():
        typer.echo(f"{role}: {n} rows pseudonymised; CPR numbers replaced in text cells: {result.cpr_in_text[role]}")
    typer.echo(f"{result.ids} distinct surrogate ids written to {out_dir}")


@app.command()
def audit(
    output_dir: Path = typer.Argument(..., help="Output folder of a finished batch (or any output folder)."),
    data_dir: Optional[Path] = typer.Option(None, "--data", help="The input data: also check for respondent ids and "
                                            "other municipalities' comments."),
    params_dir: Optional[Path] = typer.Option(None, "--params", help=_PARAMS_HELP),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Processes scanning the files "
                                       "(default: the number of cores)."),
) -> None:
    """Scan every file under OUTPUT_DIR for CPR numbers, phone numbers, e-mails, respondent ids or id
    columns, other municipalities' comments and cells below the minimum; exit 1 on any finding."""
    import os

    from .privacy.audit import audit_data, audit_outputs

    try:
        params = _params(params_dir)
        kwargs = {"min_cell_size": params.survey.min_cell_size, "kommuner": [k.name for k in params.kommuner]}
        if data_dir is not None:
            from .load import load_survey

            kwargs = audit_data(load_survey(data_dir, params), params)
        findings = audit_outputs(output_dir, **kwargs, jobs=jobs or os.cpu_count() or 1)
    except SurveyError as exc:
        _fail(exc)
    if findings:
        typer.echo(f"{len(findings)} finding(s) in {output_dir}:")
        for f in findings:
            typer.echo(f"  - {f}")
        raise typer.Exit(code=1)
    checks = "ids and comments checked against the data" if data_dir else "without the data (no id/comment check)"
    typer.echo(f"No findings in {output_dir} ({checks}).")


@app.command()
def run(
    kommune: Optional[list[str]] = typer.Option(None, "--kommune", help="Only these municipalities (repeatable; "
                                                "default: all in kommuner.yaml). 'All municipalities' is always run."),
    notebook: Optional[list[str]] = typer.Option(None, "--notebook", help="Only these notebooks (file stem, "
                                                 "repeatable; default: every notebook in notebooks/)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="Worker processes (default: the number of cores)."),
    data_dir: Optional[Path] = typer.Option(None, "--data", help="Input data folder (default: data/demo)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output root; the batch writes OUT/<wave>/ (default: outputs/)."),
    params_dir: Optional[Path] = typer.Option(None, "--params", help=_PARAMS_HELP),
    force: bool = typer.Option(False, "--force", help="Run everything, even what is unchanged."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run only the notebooks that failed last time."),
    executor: str = typer.Option("local", "--executor", help="'local' (processes on this machine) or "
                                 "'dask://ADDRESS' (a Dask scheduler)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
    wave: Optional[str] = typer.Option(None, "--wave", help="Run this wave (a folder under params/waves/, or "
                                       "'latest': the latest wave with data) with its trend pages against every "
                                       "earlier wave with data (docs/waves.md). --data then replaces the wave's "
                                       "data folder. Default: 'latest' when the params folder has waves with data "
                                       "and --data is not given; otherwise the single-wave batch."),
) -> None:
    """Run every notebook for every scope (all municipalities together, and each municipality),
    export HTML, write each scope's tables, build the index page and run the leak audit.

    Without --wave: if the params folder has waves (params/waves/) with data and no --data is
    given, the latest wave with data is run with its trend pages (as --wave latest; said on
    stderr); with --data, or without waves, the single-wave batch on that data as before."""
    from .batch.runner import default_options, run_batch

    wave_run = None
    if wave is None:
        from .waves.run import default_wave

        try:
            wave, why = default_wave(params_dir.resolve() if params_dir else None, data_dir is not None)
        except SurveyError as exc:
            _fail(exc)
        if why:
            typer.echo(why, err=True)
    if wave is not None:
        from .waves.run import prepare_wave

        try:
            wave_run = prepare_wave(wave, (out or ProjectPaths().outputs).resolve(),
                                    params_dir.resolve() if params_dir else None,
                                    data_dir.resolve() if data_dir else None, log=lambda m: typer.echo(m, err=True))
        except SurveyError as exc:
            _fail(exc)
        data_dir, params_dir = wave_run.data_dir, wave_run.params_dir
    opts = default_options(data_dir=data_dir.resolve() if data_dir else None, out_root=out.resolve() if out else None,
                           params_dir=params_dir.resolve() if params_dir else None,
                           kommuner=tuple(kommune) if kommune else None, notebooks=tuple(notebook) if notebook else None,
                           jobs=jobs, force=force, retry_failed=retry_failed, executor=executor,
                           progress=not no_progress)
    try:
        result = run_batch(opts, log=lambda m: typer.echo(m, err=True))
    except SurveyError as exc:
        _fail(exc)
    except OSError as exc:    # e.g. the disk filled up while the batch wrote its outputs
        from .batch.worker import is_disk_full

        what = "the disk is full" if is_disk_full(exc) else (exc.strerror or type(exc).__name__)
        typer.echo(f"The batch could not write {exc.filename or opts.out_root}: {what} (errno {exc.errno}). "
                   "Free space or give --out another folder, then run again: finished pages are kept.", err=True)
        raise typer.Exit(code=2)
    except KeyboardInterrupt:
        typer.echo("Afbrudt. Færdige sider og manifestet er intakte; kør igen for at fortsætte.", err=True)
        raise typer.Exit(code=130)
    if wave_run is not None:
        from .batch.jobs import MANIFEST
        from .waves.run import record_waves

        record_waves(wave_run, result.wave_dir / MANIFEST)
        typer.echo(f"Udvikling: {wave_run.wave} mod {', '.join(wave_run.earlier) or 'ingen tidligere runder med data'}"
                   f" ({result.wave_dir / 'udvikling'})", err=True)
    t = result.jobs
    typer.echo("")
    summary = t.groupby(["status"]).size().to_dict()
    width = max(len(f"{s}/{n}") for s, n in zip(t["scope"], t["notebook"])) if len(t) else 10
    for r in t.itertuples():
        extra = f" {r.kind}: {r.message}" if r.status == "failed" else ""
        typer.echo(f"  {(r.scope + '/' + r.notebook).ljust(width)}  {r.status:8} {r.seconds:6.1f} s  {r.reason}{extra}")
    typer.echo(f"\n{len(t)} notebooks: " + ", ".join(f"{v} {k}" for k, v in sorted(summary.items()))
               + f"; {result.seconds:.1f} s in all. Index: {result.wave_dir / 'index.html'}")
    if result.audit_findings:
        typer.echo(f"Leak audit: {len(result.audit_findings)} finding(s):")
        for f in result.audit_findings:
            typer.echo(f"  - {f}")
    else:
        typer.echo("Leak audit: nothing found.")
    if not result.ok:
        raise typer.Exit(code=1)


@app.command()
def diff(
    old: Path = typer.Argument(..., help="Output folder of the earlier batch (OUT/<wave>) or its manifest.json."),
    new: Path = typer.Argument(..., help="Output folder of the later batch (OUT/<wave>) or its manifest.json."),
    tolerance: float = typer.Option(0.0, help="Report only changes larger than this."),
) -> None:
    """List the headline numbers that changed between two batch outputs (exit 1 if any changed)."""
    from .batch.diff import diff_manifests

    try:
        changes = diff_manifests(old, new, tolerance=tolerance)
    except SurveyError as exc:
        _fail(exc)
    if changes.empty:
        typer.echo("No headline number changed.")
        return
    typer.echo(f"{len(changes)} headline number(s) changed:")
    for r in changes.itertuples():
        typer.echo(f"  {r.scope} · {r.what}: {r.old} -> {r.new}")
    raise typer.Exit(code=1)


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":
    main()
