"""Input checks shared by every step: each raises :class:`MobilityError` naming the file or table, the column or
row, and the fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from mobility.errors import MobilityError


def existing_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path; MobilityError if no such file (``zip://`` paths are checked on their zip).

    Examples
    --------
    >>> existing_file(__file__, "module").suffix
    '.py'
    """
    text = os.fspath(path)
    on_disk = text
    if text.startswith("zip://"):
        on_disk = text[len("zip://"):].split("!", 1)[0]
    if not Path(on_disk).is_file():
        raise MobilityError(f"{what} file not found: {text}; check the path (and the region config)")
    return Path(text) if not text.startswith("zip://") else Path(on_disk)


def first_row(mask) -> int:
    """Position of the first True in a boolean array or Series (call only when one is True).

    Examples
    --------
    >>> first_row(pd.Series([False, True, True]))
    1
    """
    return int(np.flatnonzero(np.asarray(mask, dtype=bool))[0])


def require_columns(df: pd.DataFrame, columns: Iterable[str], source: str, fix: str) -> None:
    """MobilityError unless ``df`` is a pandas DataFrame holding every column of ``columns`` (the message
    names each missing one, the columns found, and ``fix``).

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "t.csv", "add it")
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "stops", "map your columns")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: stops: missing column(s) ['b'] (found ['a']); map your columns
    """
    if not isinstance(df, pd.DataFrame):
        raise MobilityError(f"{source} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MobilityError(
            f"{source}: missing column(s) {missing} (found {list(df.columns)[:12]}"
            f"{' ...' if len(df.columns) > 12 else ''}); {fix}"
        )


def column_names(df: pd.DataFrame, required: Iterable[str], columns: Mapping[str, str] | None,
                 source: str) -> dict[str, str]:
    """The user's name of each ``required`` column, where ``columns`` maps a canonical name to the user's
    (``{"user_id": "uid"}``); MobilityError naming each one missing and how it was mapped.

    Examples
    --------
    >>> raw = pd.DataFrame({"uid": ["a"], "lat": [1.0], "extra": [0]})
    >>> column_names(raw, ["user_id", "lat"], {"user_id": "uid"}, "pings")
    {'user_id': 'uid', 'lat': 'lat'}
    >>> column_names(raw, ["user_id", "lon"], {"lon": "lng"}, "pings")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: pings: missing column(s) 'user_id', 'lon' (mapped to 'lng') (found ['uid', 'lat', 'extra']); map your names with columns={'user_id': 'your_name', ...}
    """
    required = list(required)
    if not isinstance(df, pd.DataFrame):
        raise MobilityError(f"{source} must be a pandas DataFrame, got {type(df).__name__}")
    mapping = {c: (columns or {}).get(c, c) for c in required}
    missing = [f"{c!r}" + (f" (mapped to {mapping[c]!r})" if mapping[c] != c else "")
               for c in required if mapping[c] not in df.columns]
    if missing:
        raise MobilityError(f"{source}: missing column(s) {', '.join(missing)} (found {list(df.columns)[:12]}); "
                            f"map your names with columns={{'{required[0]}': 'your_name', ...}}")
    return mapping


def select_columns(df: pd.DataFrame, required: Iterable[str], columns: Mapping[str, str] | None,
                   source: str) -> pd.DataFrame:
    """The ``required`` columns of ``df`` under their canonical names (:func:`column_names` checks them).

    Examples
    --------
    >>> raw = pd.DataFrame({"uid": ["a"], "lat": [1.0], "extra": [0]})
    >>> select_columns(raw, ["user_id", "lat"], {"user_id": "uid"}, "pings").columns.tolist()
    ['user_id', 'lat']
    """
    mapping = column_names(df, required, columns, source)
    return df[list(mapping.values())].set_axis(list(mapping), axis=1).reset_index(drop=True)


def number(name: str, value, *, allow_zero: bool) -> float:
    """``value`` as a float, or MobilityError unless it is a finite real number > 0 (>= 0 with
    ``allow_zero``); booleans and text are not numbers.

    Examples
    --------
    >>> number("radius_m", 200, allow_zero=False)
    200.0
    >>> number("max_gap_s", True, allow_zero=True)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: max_gap_s=True is not a number; pass a number
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise MobilityError(f"{name}={value!r} is not a number; pass a number")
    v = float(value)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise MobilityError(f"{name}={value!r} is out of range; it must be finite and {bound}")
    return v


def utc_ns(col: pd.Series, source: str, name: str) -> np.ndarray:
    """int64 UTC nanoseconds of a tz-aware datetime column with no missing value.

    Examples
    --------
    >>> utc_ns(pd.Series(pd.to_datetime(["1970-01-01 01:00+01:00"])), "stops", "start").tolist()
    [0]
    >>> utc_ns(pd.Series(pd.to_datetime(["1970-01-01"])), "stops", "start")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: stops: column 'start' has dtype datetime64[us], not tz-aware datetimes; convert it with pd.to_datetime(..., utc=True)
    """
    if not isinstance(col.dtype, pd.DatetimeTZDtype):
        raise MobilityError(f"{source}: column {name!r} has dtype {col.dtype}, not tz-aware datetimes; "
                            "convert it with pd.to_datetime(..., utc=True)")
    if col.isna().any():
        raise MobilityError(f"{source} row {first_row(col.isna())}: {name!r} is missing; drop or fill those rows")
    return pd.DatetimeIndex(col).tz_convert("UTC").as_unit("ns").asi8.copy()


def numeric_column(df: pd.DataFrame, column: str, source: str, *, key: str | None = None) -> pd.Series:
    """``df[column]`` as numbers; MobilityError naming the first non-numeric row (by ``key`` if given).

    Missing values stay missing; only text that is not a number is an error.

    Examples
    --------
    >>> numeric_column(pd.DataFrame({"x": ["1", "2.5", None]}), "x", "t.csv").tolist()
    [1.0, 2.5, nan]
    """
    raw = df[column]
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return raw
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() & raw.notna()
    if bad.any():
        i = first_row(bad)
        where = f"row {i}" if key is None else f"row {i} ({key} {df[key].iloc[i]})"
        raise MobilityError(
            f"{source}: column {column!r}, {where}: value {raw.iloc[i]!r} is not a number "
            f"({int(bad.sum())} such rows); fix the file"
        )
    return num
