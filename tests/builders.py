"""A small data set with answers known by hand, and writers for every supported format.

Twelve citizens in two municipalities (Odder, Ishøj); eight are sampled, six answered (five complete,
one partial). Every value below is typed by hand so that tests can state expected results directly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

PARAMS_DIR = Path(__file__).resolve().parents[1] / "params"


def population() -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": [f"P{i:03d}" for i in range(1, 13)],
        "kommune": ["Odder"] * 6 + ["Ishøj"] * 6,
        "koen": ["K", "M", "K", "M", "K", "M", "K", "M", "K", "M", "K", "M"],
        "alder": [25, 34, 51, 62, 45, 29, 38, 55, 23, 41, 60, 33],
        "ydelse": ["a_dagpenge", "sygedagpenge", "sygedagpenge", "kontanthjaelp_aktivitetsparat",
                   "kontanthjaelp_jobparat", "uddannelseshjaelp_uddannelsesparat", "a_dagpenge",
                   "ressourceforloeb", "sygedagpenge", "ledighedsydelse", "jobafklaringsforloeb", "a_dagpenge"],
        "startdato": ["2023-03-01", "2022-11-15", "2023-05-20", "2020-01-10", "2022-09-01", "2023-04-03",
                      "2023-02-14", "2021-06-30", "2023-06-01", "2022-12-12", "2019-08-08", "2023-01-09"],
    })


def sample() -> pd.DataFrame:
    ids = ["P001", "P002", "P003", "P004", "P007", "P008", "P009", "P010"]
    return pd.DataFrame({
        "person_id": ids,
        "invitation_date": ["2023-08-28"] * 8,
        "digital_post_exempt": [0, 0, 0, 1, 0, 0, 0, 0],
        "sms_reachable": [1, 1, 0, 1, 1, 1, 1, 0],
    })


def responses() -> pd.DataFrame:
    """Six respondents; blanks (None) where not asked or not answered."""
    n = None
    rows = [
        # P001 dagpenge, current
        dict(person_id="P001", status="complete", started_at="2023-08-28 09:00:00", submitted_at="2023-08-28 09:04:30",
             aktuel_status=1, arbejdsgiver=n, tillid=5, udgangspunkt=4, inddragelse=4, klart_maal=3, sammenhaeng=9,
             formaal_klart=5, forberedt=4, formidling=4, plan_job=4, jobmuligheder=2, taettere_paa_job=3,
             tilfredshed=4, uddybning="Min sagsbehandler lyttede.", forbedring=n),
        # P002 sygedagpenge with employer, ended
        dict(person_id="P002", status="complete", started_at="2023-08-29 10:00:00", submitted_at="2023-08-29 10:03:00",
             aktuel_status=2, arbejdsgiver=1, tillid=4, udgangspunkt=4, inddragelse=3, klart_maal=4, sammenhaeng=4,
             formaal_klart=4, forberedt=9, formidling=3, plan_naeste_skridt=4, tro_paa_job=4, tilfredshed=5,
             uddybning=n, forbedring="Færre skift af sagsbehandler."),
        # P003 sygedagpenge without employer, current
        dict(person_id="P003", status="complete", started_at="2023-09-04 08:00:00", submitted_at="2023-09-04 08:06:00",
             aktuel_status=1, arbejdsgiver=2, tillid=3, udgangspunkt=2, inddragelse=2, klart_maal=2, sammenhaeng=2,
             formaal_klart=3, forberedt=2, formidling=2, plan_naeste_skridt=2, jobmuligheder=1, tro_paa_job=2,
             tilfredshed=2, uddybning=n, forbedring=n),
        # P004 aktivitetsparat, current, in contact with the social department
        dict(person_id="P004", status="complete", started_at="2023-09-05 12:00:00", submitted_at="2023-09-05 12:10:00",
             aktuel_status=1, arbejdsgiver=n, tillid=4, udgangspunkt=3, inddragelse=3, klart_maal=3, sammenhaeng=3,
             kontakt_afdelinger_kun_jobcentret=0, kontakt_afdelinger_social=1, kontakt_afdelinger_boern_familie=0,
             kontakt_afdelinger_sundhed_omsorg=0, kontakt_afdelinger_andre=0, samarbejde=3,
             formaal_klart=4, forberedt=4, formidling=3, plan_naeste_skridt=3, jobmuligheder=9, tro_paa_job=3,
             tilfredshed=3, uddybning=n, forbedring=n),
        # P008 aktivitetsparat (ressourceforløb), only the job centre, current
        dict(person_id="P008", status="complete", started_at="2023-09-11 15:00:00", submitted_at="2023-09-11 15:02:10",
             aktuel_status=1, arbejdsgiver=n, tillid=1, udgangspunkt=1, inddragelse=2, klart_maal=1, sammenhaeng=1,
             kontakt_afdelinger_kun_jobcentret=1, kontakt_afdelinger_social=0, kontakt_afdelinger_boern_familie=0,
             kontakt_afdelinger_sundhed_omsorg=0, kontakt_afdelinger_andre=0,
             formaal_klart=2, forberedt=1, formidling=1, plan_naeste_skridt=1, jobmuligheder=1, tro_paa_job=1,
             tilfredshed=1, uddybning="Ingen hjælp at hente.", forbedring=n),
        # P010 jobparat (ledighedsydelse), partial: stopped after the first theme
        dict(person_id="P010", status="partial", started_at="2023-09-12 20:00:00", submitted_at=n,
             aktuel_status=1, arbejdsgiver=n, tillid=4, udgangspunkt=9, inddragelse=n),
    ]
    frame = pd.DataFrame(rows)
    return frame


def all_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add every codebook column (blank) that a frame lacks, in codebook order."""
    from survey_lib.params import load_params

    params = load_params(PARAMS_DIR)
    cols = ["person_id", "status", "started_at", "submitted_at"]
    for q in params.questionnaire.questions:
        cols += list(q.columns)
    out = frame.reindex(columns=cols)
    return out


def frames() -> dict[str, pd.DataFrame]:
    return {"population": population(), "sample": sample(), "responses": all_columns(responses())}


def write(frames_: dict[str, pd.DataFrame], folder: Path, fmt: str = "csv", sep: str = ",",
          decimal_comma: bool = False) -> Path:
    """Write the three frames to ``folder`` in ``fmt`` (csv, xlsx, parquet, sav)."""
    from survey_lib.demo.write import write_frame

    folder.mkdir(parents=True, exist_ok=True)
    for role, df in frames_.items():
        path = folder / f"{role}.{fmt}"
        if fmt == "csv":
            out = df.copy()
            if decimal_comma:  # numbers written as '4,0' as Danish Excel would
                for c in out.columns:
                    if pd.api.types.is_numeric_dtype(out[c]):
                        out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{float(v):.1f}".replace(".", ","))
            out.to_csv(path, index=False, sep=sep)
        else:
            write_frame(df, path, fmt)
    return folder


def twin_with_responses(twin_dir: Path, out: Path, kommune: str, keep: int) -> Path:
    """A copy of the twin's files in ``out`` where only the first ``keep`` responses of
    ``kommune``'s citizens are left (0: none, as after a failed mailing); the other files as they are."""
    import shutil

    import numpy as np

    for p in twin_dir.iterdir():
        if p.is_file():
            shutil.copy(p, out / p.name)
    pop = pd.read_csv(twin_dir / "population.csv", dtype=str)
    ids = set(pop.loc[pop["kommune"] == kommune, "person_id"])
    resp = pd.read_csv(twin_dir / "responses.csv", dtype=str, keep_default_na=False)
    mine = np.flatnonzero(resp["person_id"].isin(ids).to_numpy())
    assert len(mine) > keep, f"{kommune} has only {len(mine)} responses in the twin"
    resp.drop(index=resp.index[mine[keep:]]).to_csv(out / "responses.csv", index=False)
    return out


def params_with_wave_kommuner(root: Path, kommuner: dict[str, list[str]]) -> Path:
    """A copy of the project's params folder in ``root/params`` in which each wave of ``kommuner``
    (wave -> municipality names) takes part with those municipalities only."""
    import shutil

    from survey_lib.paths import ProjectPaths

    params = root / "params"
    shutil.copytree(ProjectPaths().params, params)
    for w, names in kommuner.items():
        f = params / "waves" / w / "wave.yaml"
        text = f.read_text(encoding="utf-8")
        start = text.index("kommuner: [")
        end = text.index("]", start) + 1
        f.write_text(text[:start] + f"kommuner: [{', '.join(names)}]" + text[end:], encoding="utf-8")
    return params
