"""Census GEOIDs as zero-padded strings, whatever the file stored.

A GEOID is a string of digits whose length says the geographic level: state 2, county 5, tract 11,
block group (CBG) 12, block 15. Files store them in many ways: as text (right), as numbers (the leading
zero of states 01..09 is lost, e.g. the Chicago tract file stores ``17031842400.0``), with an ACS
prefix (``g361031101011`` in Census API pulls, ``1500000US361031101011`` in data.census.gov tables).
:func:`normalize_geoid` turns all of these into the canonical digit string, or raises
:class:`~mobility.errors.MobilityError` naming the file, row and column of the first bad value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.checks import first_row
from mobility.errors import MobilityError

LEVEL_DIGITS = {"state": 2, "county": 5, "tract": 11, "cbg": 12, "block": 15}
"""Number of digits of a GEOID at each level (block group is called ``cbg``)."""

_DIGITS_LEVEL = {v: k for k, v in LEVEL_DIGITS.items()}


def check_level(level: str) -> int:
    """Return the GEOID length of ``level``; raise MobilityError for an unknown level.

    Examples
    --------
    >>> check_level("tract")
    11
    """
    if level not in LEVEL_DIGITS:
        raise MobilityError(
            f"unknown geographic level {level!r}; use one of {sorted(LEVEL_DIGITS)}"
        )
    return LEVEL_DIGITS[level]


def level_of_length(n_digits: int) -> str:
    """The smallest level whose GEOIDs have at least ``n_digits`` digits (numbers lose leading zeros).

    Examples
    --------
    >>> level_of_length(10)   # an Alabama tract stored as a number: 1001020100 -> tract
    'tract'
    >>> level_of_length(12)
    'cbg'
    """
    for digits in sorted(_DIGITS_LEVEL):
        if n_digits <= digits:
            return _DIGITS_LEVEL[digits]
    raise MobilityError(
        f"a GEOID with {n_digits} digits is longer than a census block (15 digits); "
        "check that the GEOID column is the right one"
    )


def _as_text(values: pd.Series) -> pd.Series:
    """Digits of each value as text: floats like 17031842400.0 lose their '.0'; strings are stripped."""
    if pd.api.types.is_float_dtype(values.dtype):
        finite = values.notna() & np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        whole = finite & (values.where(finite, 0) % 1 == 0)
        out = pd.Series(pd.NA, index=values.index, dtype="string")
        out[whole] = values[whole].astype("int64").astype("string")
        out[finite & ~whole] = values[finite & ~whole].astype("string")
        return out
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("string")
    text = values.astype("string").str.strip()
    # ACS prefixes: "g" (Census API via cenpy) and "...US" (data.census.gov GEO_ID)
    text = text.str.replace(r"^(?:g|\d{7}US)", "", regex=True)
    # numbers read back as text by a spreadsheet: "17031842400.0"
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def normalize_geoid(
    values,
    *,
    level: str | None = None,
    source: str = "input",
    column: str = "GEOID",
) -> tuple[pd.Series, str]:
    """Zero-padded GEOID strings and their level.

    Parameters
    ----------
    values : array-like
        GEOIDs as text, integers or floats; ACS prefixes ``g`` and ``<7 digits>US`` are removed.
    level : {"state", "county", "tract", "cbg", "block"}, optional
        The expected level. Without it the level is the smallest one whose length is at least the
        longest value (a number may have lost one leading zero, never more).
    source, column : str
        File and column named in error messages.

    Returns
    -------
    geoids : pandas.Series of str
        Digit strings of exactly the level's length, same index as ``values``.
    level : str

    Raises
    ------
    MobilityError
        On a missing value, a non-digit value, or a value longer than the level allows.

    Examples
    --------
    >>> g, lvl = normalize_geoid([17031842400.0, 1001020100])
    >>> g.tolist(), lvl
    (['17031842400', '01001020100'], 'tract')
    >>> normalize_geoid(["g361031101011"], level="cbg")[0].tolist()
    ['361031101011']
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    text = _as_text(series)
    bad = text.isna() | ~text.fillna("").str.fullmatch(r"\d+")
    if bad.any():
        pos = first_row(bad)
        raise MobilityError(
            f"{source}: column {column!r}, row {pos}: GEOID {series.iloc[pos]!r} is not a string of digits "
            f"({int(bad.sum())} such rows); GEOIDs must be census codes such as '420030201001' - "
            "fix the file or name the right column"
        )
    lengths = text.str.len()
    longest = int(lengths.max()) if len(text) else LEVEL_DIGITS[level or "cbg"]
    if level is None:
        level = level_of_length(longest)
    n = check_level(level)
    too_long = lengths > n
    if too_long.any():
        pos = first_row(too_long)
        raise MobilityError(
            f"{source}: column {column!r}, row {pos}: GEOID {text.iloc[pos]!r} has {int(lengths.iloc[pos])} "
            f"digits but level {level!r} has {n}; pass the matching level= or fix the file"
        )
    too_short = lengths < n - 1
    if too_short.any():
        pos = first_row(too_short)
        raise MobilityError(
            f"{source}: column {column!r}, row {pos}: GEOID {text.iloc[pos]!r} has {int(lengths.iloc[pos])} "
            f"digits, too few for level {level!r} ({n}); only one leading zero can be lost - fix the file"
        )
    return text.str.zfill(n).astype(str).rename(series.name), level
