"""A labelled panel of employment statuses given by the user (CSV or Parquet), read and checked.

Columns ``user_id``, ``week``, ``status``; one row per user and week:

* ``user_id`` -- the ids of the pings (text);
* ``week`` -- a date in the week (``2020-03-16``; any day of it stands for its Monday, the pipeline's local
  week); tz-aware timestamps count by their own wall-clock date;
* ``status`` -- one of :data:`LABEL_STATUSES` (case and surrounding spaces ignored). ``unemployed`` weeks are
  the positives, ``employed`` and ``remote`` the negatives; ``no_job`` (no job before the shock either) and
  ``unknown`` are accepted and not used.

Every problem is a :class:`~mobility.errors.MobilityError` naming the file, the column or line, the value and
the fix: unreadable file, missing column, empty id, unparseable week, unknown status, a user-week given twice,
and (:func:`check_overlap`) labels that share no user-week with the run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.checks import existing_file, first_row, require_columns
from mobility.errors import MobilityError

log = logging.getLogger(__name__)

LABEL_COLUMNS = ("user_id", "week", "status")
LABEL_STATUSES = ("employed", "remote", "unemployed", "no_job", "unknown")
FIX = "the labelled panel needs columns user_id, week, status, one row per user and week"


def read_labels(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check a labelled panel (``.csv``, ``.csv.gz``, ``.parquet``); see the module notes.

    Returns
    -------
    DataFrame
        ``user_id`` (string), ``week`` (datetime64[ns], the Monday), ``status`` (string, lower case), sorted
        by user and week; ``attrs["source"]`` is the path (named by later errors).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = f.write_text("user_id,week,status\\nu1,2020-03-18,Unemployed\\nu1,2020-03-09,employed\\n")
    >>> read_labels(f).astype(str).values.tolist()
    [['u1', '2020-03-09', 'employed'], ['u1', '2020-03-16', 'unemployed']]
    >>> _ = f.write_text("user_id,week,status\\nu1,2020-03-16,laid off\\n")
    >>> read_labels(f)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: ...labels.csv: line 2, column 'status': 'laid off' is not a status; use one of ('employed', 'remote', 'unemployed', 'no_job', 'unknown')
    """
    path = existing_file(path, "labelled panel")
    where, kind, read, _ = _reader(path)
    try:
        raw = read(None)
    except Exception as exc:  # pyarrow, the CSV parser and the codecs each raise their own types
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise MobilityError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: {first}); check the file and "
                            f"its extension; {FIX}") from exc
    return check_labels(raw, source=str(path), where=where)


def check_label_statuses(path: str | os.PathLike) -> None:
    """The cheap part of :func:`read_labels`, for before a run: the file's columns and its ``status`` values
    (that column alone is read), so that a misspelt status stops a run before its first stage rather than at the
    employment stage, after the per-user stages. Weeks and duplicates are checked by :func:`read_labels`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = f.write_text("user_id,week,status\\nu1,2020-03-16,Employed \\nu2,2020-03-16,laid off\\n")
    >>> check_label_statuses(f)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: ...labels.csv: line 3, column 'status': 'laid off' is not a status; use one of ('employed', 'remote', 'unemployed', 'no_job', 'unknown')
    """
    path = existing_file(path, "labelled panel")
    where, _, read, names = _reader(path)
    try:
        columns = names()
        require_columns(pd.DataFrame(columns=columns), LABEL_COLUMNS, str(path), FIX)
        status = read(["status"], True)["status"].astype("category")  # a byte or two a row, not a string
    except MobilityError:
        raise
    except Exception:  # unreadable: read_labels says how, at the employment stage
        return
    values = pd.Index(status.cat.categories.astype(str)).str.strip().str.lower()
    if status.isna().any() or not values.isin(LABEL_STATUSES).all():
        _check_statuses(status.astype(object), str(path), where)  # names the first value that is not a status


def _reader(path: Path):
    """``(where, kind, read(columns, categories=False), names())`` of a labelled panel file by its extension: rows
    are counted as CSV lines (header on line 1) or Parquet rows; ``read`` takes the columns to read (None: all),
    as text, or with ``categories`` as categories where the file's column holds text."""
    import pyarrow.parquet as pq

    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return ("line", "CSV",
                lambda columns, categories=False: pd.read_csv(path, usecols=columns, keep_default_na=False,
                                                              na_values=[""], dtype="category" if categories else str),
                lambda: list(pd.read_csv(path, nrows=0).columns))
    if name.endswith((".parquet", ".pq")):
        return ("row", "Parquet",
                lambda columns, categories=False: pq.read_table(
                    path, columns=columns, read_dictionary=columns if categories else None).to_pandas()
                if categories else pd.read_parquet(path, columns=columns),
                lambda: pq.read_schema(path).names)
    raise MobilityError(f"{path}: a labelled panel must be .csv, .csv.gz or .parquet (got '{path.suffix}'); {FIX}")


def _check_statuses(status: pd.Series, source: str, where: str) -> pd.Series:
    """``status`` stripped and in lower case; MobilityError at its first value that is not a status, naming the
    line (CSV, header on line 1) or row (1-based). Each distinct value is looked at once."""
    clean = status.astype("string").str.strip().str.lower()
    code, names = pd.factorize(clean)
    bad_name = ~pd.Index(names).isin(LABEL_STATUSES)
    bad = (code < 0) | (bad_name[np.maximum(code, 0)] if len(names) else False)
    if bad.any():
        i = first_row(bad)
        value = "an empty value" if pd.isna(status.iloc[i]) else repr(status.iloc[i])
        raise MobilityError(f"{source}: {where} {i + 2 if where == 'line' else i + 1}, column 'status': {value} is "
                            f"not a status; use one of {LABEL_STATUSES}")
    return clean


def check_labels(raw: pd.DataFrame, *, source: str = "labels", where: str = "row") -> pd.DataFrame:
    """Check and normalise a labelled panel already in memory (module notes); ``where`` is ``"line"`` for a
    CSV file (header on line 1), else ``"row"`` (1-based).

    Examples
    --------
    >>> check_labels(pd.DataFrame({"user_id": ["a", "a"], "week": ["2020-03-16", "2020-03-20"],
    ...                            "status": ["employed", "remote"]}))
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: labels: user 'a' week 2020-03-16 is given twice (rows 1 and 2; any day stands for its week's Monday); the labelled panel needs columns user_id, week, status, one row per user and week
    """
    require_columns(raw, LABEL_COLUMNS, source, FIX)
    df = raw.reset_index(drop=True)
    pos = (lambda i: i + 2) if where == "line" else (lambda i: i + 1)
    ids = df["user_id"].astype("string")
    bad = ids.isna() | (ids.str.strip() == "")
    if bad.any():
        i = first_row(bad)
        raise MobilityError(f"{source}: {where} {pos(i)}, column 'user_id': empty; give every row a user id; {FIX}")
    week = _weeks(df["week"], source, where, pos)
    status = _check_statuses(df["status"], source, where)
    out = pd.DataFrame({"user_id": ids.str.strip().astype("string"), "week": week,
                        "status": status.astype("string")})
    dup = out.duplicated(["user_id", "week"], keep=False)
    if dup.any():
        rows = np.flatnonzero(dup.to_numpy())
        first = out.iloc[rows[0]]
        same = rows[(out["user_id"].iloc[rows] == first["user_id"]).to_numpy()
                    & (out["week"].iloc[rows] == first["week"]).to_numpy()]
        raise MobilityError(f"{source}: user {first['user_id']!r} week {first['week'].date()} is given twice "
                            f"({where}s {pos(same[0])} and {pos(same[1])}; any day stands for its week's Monday); "
                            f"{FIX}")
    out = out.sort_values(["user_id", "week"], ignore_index=True)
    out.attrs["source"] = source
    return out


def _weeks(col: pd.Series, source: str, where: str, pos) -> pd.Series:
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        week = col.dt.tz_localize(None)
    elif pd.api.types.is_datetime64_any_dtype(col.dtype):
        week = col
    else:
        week = pd.to_datetime(col.astype("string").str.strip(), errors="coerce", format="mixed")
        if isinstance(week.dtype, pd.DatetimeTZDtype):
            week = week.dt.tz_localize(None)
    bad = week.isna()
    if bad.any():
        i = first_row(bad)
        raise MobilityError(f"{source}: {where} {pos(i)}, column 'week': {col.iloc[i]!r} is not a date; write weeks "
                            "as dates like 2020-03-16 (the Monday of the week, or any day in it)")
    week = week.dt.normalize().astype("datetime64[ns]")
    if len(week) and (week.dt.day_of_week == 6).all():
        log.warning("every week of %s is a Sunday: each stands for the week of the Monday before (%s stands for the "
                    "week of Monday %s); if your weeks start on Sunday, give the Monday after instead",
                    Path(source).name, week.iloc[0].date(), (week.iloc[0] - pd.Timedelta(days=6)).date())
    return week - pd.to_timedelta(week.dt.day_of_week, unit="D")


def check_overlap(labels: pd.DataFrame, users: np.ndarray, weeks: pd.DatetimeIndex) -> None:
    """MobilityError when no labelled user-week is one of the run's (users of the pings, weeks of the run).

    Examples
    --------
    >>> lab = pd.DataFrame({"user_id": ["x1"], "week": pd.to_datetime(["2020-03-16"]), "status": ["employed"]})
    >>> check_overlap(lab, np.array(["u1", "u2"]), pd.DatetimeIndex(["2020-03-16"]))
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: labels: none of its 1 users is among the run's 2 users (labels e.g. ['x1'], run e.g. ['u1', 'u2']); the user_id column must hold the ids of the pings
    """
    source = labels.attrs.get("source", "labels")
    lab_users = pd.Index(labels["user_id"].astype(str).unique())
    common = lab_users.intersection(pd.Index(users, dtype=object))
    if not len(common):
        raise MobilityError(f"{source}: none of its {len(lab_users)} users is among the run's {len(users)} users "
                            f"(labels e.g. {sorted(lab_users)[:3]}, run e.g. {sorted(map(str, users))[:3]}); the "
                            "user_id column must hold the ids of the pings")
    absent = lab_users.difference(common)
    if len(absent):
        log.warning("%s: %d of its %d labelled users are not among the run's %d users (e.g. %s; the run's ids e.g. "
                    "%s); their labels are not used", source, len(absent), len(lab_users), len(users),
                    str(sorted(absent)[:3]), str(sorted(map(str, users))[:3]))  # text: the runner sums records
    code, names = pd.factorize(labels["user_id"].astype(str))  # each distinct id looked up once
    in_common = np.asarray(pd.Index(names).isin(common))[code] & (code >= 0) if len(names) else code >= 0
    lab_weeks = pd.to_datetime(labels.loc[in_common, "week"])
    if not lab_weeks.isin(weeks).any():
        raise MobilityError(f"{source}: its weeks ({lab_weeks.min().date()}..{lab_weeks.max().date()}) are outside the "
                            f"run's ({weeks.min().date()}..{weeks.max().date()}); label weeks of the study period")
