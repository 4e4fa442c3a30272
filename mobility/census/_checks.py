"""Small input checks shared by the census readers (all raise MobilityError with the fix)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

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
    """MobilityError naming every column of ``columns`` that ``df`` lacks.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "t.csv", "add it")
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MobilityError(
            f"{source}: missing column(s) {missing} (found {list(df.columns)[:12]}"
            f"{' ...' if len(df.columns) > 12 else ''}); {fix}"
        )


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
