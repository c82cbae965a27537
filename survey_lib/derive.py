"""Derived analysis variables: age band, målgruppe, duration, duration band and the citizen's own
statement of a current or ended course (tilknytning). Pure functions of validated frames and params.
"""

from __future__ import annotations

import pandas as pd

from .params import Params

__all__ = ["age_at", "band_codes", "derive_population", "derive_responses"]


def age_at(birth: pd.Series, ref: pd.Timestamp) -> pd.Series:
    """Age in whole years at ``ref`` (birthday not yet reached that year counts one less)."""
    years = ref.year - birth.dt.year
    before = (birth.dt.month > ref.month) | ((birth.dt.month == ref.month) & (birth.dt.day > ref.day))
    return (years - before.astype("Int64")).astype("Int64")


def band_codes(values: pd.Series, lows: list[float], highs: list[float], codes: list[str],
               closed_high: bool) -> pd.Series:
    """Band code of each value: ``lows[i] <= v <= highs[i]`` (``< highs[i]`` unless ``closed_high``)."""
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    v = values.astype("Float64")
    for lo, hi, code in zip(lows, highs, codes):
        inside = (v >= lo) & ((v <= hi) if closed_high else (v < hi))
        out[inside.fillna(False).astype(bool)] = code
    return out


def derive_population(pop: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Add ``alder`` (from ``foedselsdato`` where missing), ``alder_band``, ``maalgruppe`` (from
    ``ydelse`` where missing), ``varighed_uger`` (weeks from ``startdato`` to the closing date) and
    ``varighed_band``. A column the file lacks (a fault the validation reports) gives blank derived
    values, never an error."""
    s = params.survey
    out = pop.copy()
    if "startdato" not in out.columns:
        out["startdato"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    if "alder" not in out.columns:
        out["alder"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    if "foedselsdato" in out.columns:
        from_birth = age_at(out["foedselsdato"], pd.Timestamp(s.age_reference_date))
        out["alder"] = out["alder"].fillna(from_birth)
    out["alder_band"] = band_codes(out["alder"], [b.min for b in s.age_bands], [b.max for b in s.age_bands],
                                   [b.code for b in s.age_bands], closed_high=True)
    mapped = out["ydelse"].map(s.maalgruppe_of_ydelse) if "ydelse" in out.columns else None
    if "maalgruppe" not in out.columns:
        out["maalgruppe"] = mapped.astype("string") if mapped is not None else pd.Series(pd.NA, index=out.index, dtype="string")
    elif mapped is not None:
        out["maalgruppe"] = out["maalgruppe"].fillna(mapped.astype("string"))
    if "ydelse" not in out.columns:
        out["ydelse"] = pd.Series(pd.NA, index=out.index, dtype="string")
    days = (pd.Timestamp(s.closing_date) - out["startdato"]).dt.days
    out["varighed_uger"] = (days / 7.0).astype("Float64")
    out["varighed_band"] = band_codes(out["varighed_uger"], [b.min_weeks for b in s.duration_bands],
                                      [b.max_weeks for b in s.duration_bands],
                                      [b.code for b in s.duration_bands], closed_high=False)
    return out


def derive_responses(resp: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Add ``tilknytning`` (igangvaerende/afsluttet) from the status question's option groups."""
    out = resp.copy()
    q = next((q for q in params.questionnaire.questions
              if q.options and any(o.group for o in q.options)), None)
    if q is None or q.id not in out.columns:
        out["tilknytning"] = pd.Series(pd.NA, index=out.index, dtype="string")
        return out
    groups = {o.code: o.group for o in q.options if o.group}
    out["tilknytning"] = out[q.id].map(lambda v: groups.get(int(v)) if pd.notna(v) else pd.NA).astype("string")
    return out


