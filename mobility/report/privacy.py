"""k-anonymity of the report: suppress small cells, and scan finished outputs for anything private.

Every published cell counts the distinct users behind it (``n_users``); a cell with fewer than
``k_min_users`` users shows no value and no count (method.md section 3). :func:`privacy_violations` scans
written files (HTML, CSV, JSON) for user ids, coordinate columns, coordinate-like numbers and unsuppressed
small cells, so a report is checked before it is published.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from mobility.errors import MobilityError

COORDINATE_COLUMNS = {"lat", "lon", "lng", "latitude", "longitude", "x", "y", "geometry"}
ID_COLUMNS = {"user_id", "uid", "device_id"}
_DECIMAL = re.compile(r"(?<![\d:.])-?\d{1,3}\.\d{4,}")  # not the seconds of a clock time


def check_k(k_min_users: int) -> int:
    """Validate the suppression threshold (an integer >= 2), returned as int.

    Examples
    --------
    >>> check_k(10)
    10
    """
    if isinstance(k_min_users, bool) or not isinstance(k_min_users, (int, np.integer)) or k_min_users < 2:
        raise MobilityError(f"k_min_users must be an integer >= 2 (users behind a published cell), got {k_min_users!r}")
    return int(k_min_users)


def suppress_small(table: pd.DataFrame, *, k_min_users: int = 10, n_col: str = "n_users",
                   keep: Sequence[str] = ()) -> pd.DataFrame:
    """Blank every value of rows with fewer than ``k_min_users`` users; add ``suppressed``.

    Columns named in ``keep`` (labels: area, period, group) stay; every other column of a small row,
    ``n_col`` included, becomes missing. A row already ``suppressed`` upstream (the table has that column,
    e.g. ``area_unemployment`` cut at its own k) stays suppressed whatever ``k_min_users`` is here.

    Examples
    --------
    >>> t = pd.DataFrame({"area": ["a", "b"], "n_users": [12, 3], "rate": [0.1, 0.5]})
    >>> s = suppress_small(t, k_min_users=10, keep=["area"])
    >>> s["rate"].tolist()[1] != s["rate"].tolist()[1], s["suppressed"].tolist(), s["area"].tolist()
    (True, [False, True], ['a', 'b'])
    >>> suppress_small(t.assign(suppressed=[True, False]), k_min_users=2, keep=["area"])["suppressed"].tolist()
    [True, False]
    """
    k = check_k(k_min_users)
    if n_col not in table.columns:
        raise MobilityError(f"suppress_small: table has no '{n_col}' column (users behind each cell)")
    out = table.copy()
    small = ~(pd.to_numeric(out[n_col], errors="coerce").fillna(0) >= k)
    if "suppressed" in out.columns:
        small |= out.pop("suppressed").fillna(True).astype(bool)
    for column in out.columns:
        if column in keep:
            continue
        if out[column].dtype.kind in "biuf":
            out[column] = out[column].astype(float).where(~small)
        else:
            out[column] = out[column].astype(object).where(~small)
    out["suppressed"] = small.to_numpy()
    return out


def _coordinate_numbers(text: str, lat_range: tuple[float, float], lon_range: tuple[float, float]) -> list[str]:
    hits = []
    for token in _DECIMAL.findall(text):
        value = float(token)
        if lat_range[0] <= value <= lat_range[1] or lon_range[0] <= value <= lon_range[1]:
            hits.append(token)
    return hits


def _plain_number(user_id: str) -> bool:
    """An id of fewer than 8 digits only (phones numbered 1, 2, ...): in a report's text it cannot be told from a
    count, a year or a FIPS code, so the scan does not look for it (the checks of columns and cells still hold)."""
    return user_id.isdigit() and len(user_id) < 8


_WORD = re.compile(r"[0-9A-Za-z_]+")


def _id_pattern(ids: Iterable[str]) -> re.Pattern | None:
    """Any of ``ids`` as a whole token: not inside a longer run of letters, digits and underscores."""
    ids = sorted(set(ids), key=len, reverse=True)
    return re.compile(r"(?<![0-9A-Za-z_])(?:" + "|".join(re.escape(u) for u in ids) + r")(?![0-9A-Za-z_])") \
        if ids else None


def distinct_ids(batch) -> np.ndarray:
    """The distinct ids of a batch (missing ones dropped) as text, in order of first appearance: what
    :func:`user_ids_in` looks for in a batch; a report of several months keeps them to scan each month's files.

    Examples
    --------
    >>> distinct_ids(pd.Series(["u2", None, "u1", "u2"])).tolist()
    ['u2', 'u1']
    """
    return pd.unique(pd.Series(batch, dtype=object).dropna().astype(str)).astype(object)


def user_ids_in(paths: Iterable[str | os.PathLike], user_ids: Iterable[Iterable]) -> set[str]:
    """The user ids that occur in the given files as whole tokens (:func:`privacy_violations`' rule), from ids
    given a batch at a time (a table's ``user_id`` read a part at a time): only the ids found are kept, so the
    search holds a batch of ids and the files' words, whatever the users.

    An id of letters, digits and underscores occurs as a whole token exactly where it is one of the files'
    words (their longest runs of those characters); an id with other characters (``phone-01``) is looked for
    with a pattern of the batch's such ids. :func:`privacy_violations` with the ids found reports what it would
    with them all.

    Examples
    --------
    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "p.html"
    >>> _ = page.write_text("<p>u17 was seen; phone-01 too; u1x</p>")
    >>> sorted(user_ids_in([page], [["u1", "u17"], pd.Series(["phone-01", "phone-0"])]))
    ['phone-01', 'u17']
    """
    texts = [Path(path).read_text(errors="replace") for path in paths]
    words = set().union(*(_WORD.findall(text) for text in texts))
    found: set[str] = set()
    for batch in user_ids:
        ids = distinct_ids(batch)
        plain = np.fromiter((_WORD.fullmatch(u) is not None for u in ids), dtype=bool, count=len(ids))
        found.update(u for u in ids[plain] if u in words)
        pattern = _id_pattern(ids[~plain & (ids != "")])
        if pattern is not None:  # at every position (overlapping: 'a-b' and 'b-c' in 'a-b-c'), not only after a match
            anywhere = re.compile(f"(?=({pattern.pattern}))")
            found.update(m.group(1) for text in texts for m in anywhere.finditer(text))
    return found


def privacy_violations(paths: Iterable[str | os.PathLike], *, user_ids: Iterable[str] = (),
                       k_min_users: int = 10, lat_range: tuple[float, float] | None = None,
                       lon_range: tuple[float, float] | None = None, n_col: str = "n_users") -> list[str]:
    """Everything private found in the given output files (empty list: clean).

    Checks: (1) a user id occurs anywhere in any file, as a whole token (``u1`` is not found in ``u17``; ids of
    fewer than 8 digits only are not looked for, :func:`_plain_number`); (2) a CSV has an id or coordinate column; (3) a CSV row
    has ``n_col`` below ``k_min_users`` (a small cell published); (4) where ``lat_range``/``lon_range`` are
    given, a number with four or more decimals inside them occurs (a coordinate of a person).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("area,n_users,rate\\na,3,0.5\\n")
    >>> privacy_violations([d / "t.csv"], user_ids=["u1"], k_min_users=10)
    ['t.csv row 0: n_users = 3 < 10 users']
    """
    k = check_k(k_min_users)
    pattern = _id_pattern(str(u) for u in user_ids if str(u) and not _plain_number(str(u)))
    problems: list[str] = []
    for path in map(Path, paths):
        text = path.read_text(errors="replace")
        if pattern is not None:
            for found in list(dict.fromkeys(m.group(0) for m in pattern.finditer(text)))[:3]:
                problems.append(f"{path.name}: user id {found!r}")
        if lat_range is not None and lon_range is not None:
            for token in _coordinate_numbers(text, lat_range, lon_range)[:3]:
                problems.append(f"{path.name}: coordinate-like number {token}")
        if path.suffix == ".csv":
            table = pd.read_csv(path)
            bad_cols = sorted(c for c in table.columns if c.lower() in COORDINATE_COLUMNS | ID_COLUMNS)
            if bad_cols:
                problems.append(f"{path.name}: private column(s) {bad_cols}")
            if n_col in table.columns:
                n = pd.to_numeric(table[n_col], errors="coerce")
                for row in np.flatnonzero((n < k).to_numpy())[:3]:
                    problems.append(f"{path.name} row {row}: {n_col} = {n.iloc[row]:g} < {k} users")
    return problems
