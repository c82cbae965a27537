"""Recognising Danish CPR numbers (personnummer).

A CPR number is DDMMYY-SSSS: a date of birth and a 4-digit serial. Since 2007 the modulus-11 check no
longer holds for all numbers, so recognition rests on the date alone: six digits that form a valid
day and month, followed by four digits, with or without a hyphen or space between.

A spreadsheet that stores a CPR number as a number drops the leading zero of a birthday on the 1st to
the 9th of a month: ``0101901234`` becomes ``101901234``. Nine digits that form a CPR number once the
zero is put back are recognised too (:func:`lost_zero_cpr_mask`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["CPR_PATTERN", "date_valid", "is_cpr_like", "cpr_like_mask", "lost_zero_cpr_mask"]

# DD (01-31) MM (01-12) YY, optional '-' or space, SSSS; not part of a longer digit run.
CPR_PATTERN = re.compile(r"(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])(\d{2})[-\s]?(\d{4})(?!\d)")

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAYS_BY_MONTH = np.array((0,) + _DAYS_IN_MONTH)      # by month number; 0 for 'no month'


def date_valid(day: int, month: int) -> bool:
    """True when ``day`` and ``month`` form a calendar date in some year (29 February is accepted for
    any year: the century is not known from YY alone)."""
    return 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]


_date_valid = date_valid   # the former name, still imported by a test of the scrubber; use date_valid


def is_cpr_like(value: object) -> bool:
    """True when ``value`` as a whole is a date-valid CPR number (``0101901234``, ``010190-1234``)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return False
    text = str(value).strip()
    m = CPR_PATTERN.fullmatch(text)
    return bool(m) and date_valid(int(m.group(1)), int(m.group(2)))


def cpr_like_mask(values: pd.Series) -> pd.Series:
    """Boolean mask of the entries of ``values`` that are CPR-like as a whole (vectorized)."""
    text = values.astype("string").str.strip()
    parts = text.str.extract(r"^(\d{2})(\d{2})\d{2}[-\s]?\d{4}$")
    day = pd.to_numeric(parts[0], errors="coerce")
    month = pd.to_numeric(parts[1], errors="coerce")
    m = month.to_numpy(dtype=float, na_value=np.nan)
    in_year = (m >= 1) & (m <= 12)            # False for a missing month
    dim = pd.Series(_DAYS_BY_MONTH[np.where(in_year, m, 0).astype(int)], index=month.index)
    ok = day.between(1, 31) & month.between(1, 12) & (day <= dim)
    return ok.fillna(False).astype(bool)


def lost_zero_cpr_mask(values: pd.Series) -> pd.Series:
    """Entries of ``values`` that are nine digits and a date-valid CPR number with a leading '0' put back
    (``101901234`` -> ``0101901234``): a CPR number whose leading zero a spreadsheet dropped."""
    text = values.astype("string").str.strip()
    nine = text.str.fullmatch(r"\d{9}").fillna(False).astype(bool)
    return nine & cpr_like_mask("0" + text.where(nine, ""))
