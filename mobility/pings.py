"""Validated pings: typed, sorted, de-duplicated, and a quarantine of every rejected row.

:func:`validate_pings` turns a raw table (from :func:`mobility.io.pings.read_pings`, text or typed) into the
``pings`` table of :mod:`mobility.schema` and a ``quarantine`` table. No row is dropped silently:
``len(pings) + len(quarantine) == n_input`` always. Each rejected row gets the FIRST failing reason in the
order of :data:`mobility.schema.QUARANTINE_REASONS`:

``missing_value``
    ``user_id``, ``timestamp``, ``lat`` or ``lon`` is null or empty text.
``bad_timestamp``
    not parseable, or outside ``[TIMESTAMP_MIN, TIMESTAMP_MAX)``, or a naive local time that does not
    exist in ``timezone`` (the spring-forward gap).
``bad_coordinate``
    ``lat``/``lon`` not a number, not finite, ``|lat| > 90`` or ``|lon| > 180``.
``null_island``
    ``lat`` and ``lon`` both exactly 0 ("null island", in the Atlantic off Africa): what GPS exports write
    where the phone had no fix. A real ping there is all but impossible; one on the equator or on the Greenwich
    meridian alone (only one of them 0) is kept.
``bad_accuracy``
    ``accuracy_m`` present but not a number, not finite, or negative (an empty ``accuracy_m`` is allowed).
``low_accuracy``
    ``accuracy_m`` larger than ``max_accuracy_m``.
``bad_utc_offset``
    ``utc_offset_s`` present but not a whole number of seconds within +-18 h (empty is allowed).
``duplicate``
    same ``user_id`` and ``timestamp`` as a kept row: of such rows the one with the smallest ``accuracy_m``
    is kept (missing accuracy counts as worst), ties go to the first in input order.

Timestamps
----------
- tz-aware values (typed, or text ending in ``Z``/``+hh:mm``, or in ``UTC``/``GMT`` as BigQuery writes it) keep
  their instant and are converted to UTC;
- naive values (typed, or text without offset) are read in ``timezone`` (IANA) if given, else as UTC; a
  naive time in the autumn fall-back hour is read as its first (daylight saving) occurrence;
- numbers are Unix epoch seconds: numeric columns (Parquet int/float) and text that is a plain number
  (``"1578297600"``, ``"1578297600.5"``); fractional seconds are kept to the microsecond (float64 cannot
  hold nanoseconds at today's epoch). Epoch milliseconds therefore land far outside the range and
  become ``bad_timestamp``: divide them by 1000 first;
- other text must be ISO 8601 (``2020-01-06 08:00:00``, ``2020-01-06T08:00:00.123+01:00``).

User ids are strings, kept verbatim (zero padding kept); integer ids become their decimal text.

Fast path: when the input already has the canonical dtypes (e.g. Parquet written by the synthetic
generator) only vectorised checks run, no text parsing, and the sort is skipped when the rows are already
sorted by ``user_id, timestamp`` (checked in one pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from mobility.errors import MobilityError
from mobility.ids import user_codes
from mobility.kernels.ids import is_user_time_sorted, repeated_keys, user_time_order
from mobility.localtime import check_timezone
from mobility.schema import (
    PINGS,
    PINGS_REQUIRED,
    QUARANTINE_REASONS,
    TIMESTAMP_MAX,
    TIMESTAMP_MIN,
)

MAX_UTC_OFFSET_S = 18 * 3600
_NS_PER_S = 1_000_000_000
_TS_MIN_NS = pd.Timestamp(TIMESTAMP_MIN, tz="UTC").value
_TS_MAX_NS = pd.Timestamp(TIMESTAMP_MAX, tz="UTC").value
_NAT = np.iinfo(np.int64).min
_EPOCH_TEXT = r"[+-]?\d+(?:\.\d*)?"
_TZ_TEXT = r".*\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)"
_UTC_WORD = r"(?<=\d)\s*(?:UTC|GMT|z)$"  # what _TZ_TEXT takes for UTC but ISO 8601 parsing refuses


@dataclass
class ValidationResult:
    """What :func:`validate_pings` returns.

    Attributes
    ----------
    pings : pandas.DataFrame
        The valid rows, typed per :mod:`mobility.schema` and sorted by ``user_id, timestamp``.
    quarantine : pandas.DataFrame
        The rejected rows in input order: every canonical input column as text, ``source``, ``row``,
        ``reason``.
    counts : dict of str to int
        Rejected rows per reason, every reason of :data:`mobility.schema.QUARANTINE_REASONS` listed.
    n_input : int
        Rows in the input.
    dropped : dict of str to int
        Valid rows left out on purpose, not quarantined (:func:`check_pings`: ``outside_period``).
    outside_ns : (int, int) or None
        First and last instant, epoch nanoseconds UTC, of the rows dropped as ``outside_period``; None where
        none were.
    """

    pings: pd.DataFrame
    quarantine: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    n_input: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    outside_ns: tuple[int, int] | None = None

    @property
    def n_bad(self) -> int:
        """Rows quarantined, all reasons together."""
        return int(sum(self.counts.values()))


def validate_pings(
    raw: pd.DataFrame,
    *,
    max_accuracy_m: float | None = 200.0,
    timezone: str | None = None,
    source: str | None = None,
    keep_source: bool = False,
) -> ValidationResult:
    """Type, check, sort and de-duplicate raw pings; quarantine every rejected row with its reason.

    Parameters
    ----------
    raw : pandas.DataFrame
        ``user_id, timestamp, lat, lon`` and optionally ``accuracy_m``, ``utc_offset_s``, ``source``,
        ``row`` (as :func:`mobility.io.pings.read_pings` returns); text or typed. Other columns are ignored.
    max_accuracy_m : float or None, default 200.0
        Rows whose reported accuracy radius (metres) is larger go to quarantine as ``low_accuracy``;
        None keeps every accuracy.
    timezone : str, optional
        IANA zone of naive timestamps (e.g. ``"Europe/Zurich"`` for POSMO exports); UTC when None.
    source : str, optional
        File name for messages and for the quarantine's ``source`` where ``raw`` has no ``source`` column.
    keep_source : bool, default False
        Keep ``source`` (str) and ``row`` (int64) on the valid pings, so that a later cross-file
        :func:`drop_duplicate_pings` can name the file and row of each duplicate.

    Returns
    -------
    ValidationResult

    Raises
    ------
    MobilityError
        On a missing required column or a bad parameter; never for bad values (those are quarantined).

    Examples
    --------
    >>> raw = pd.DataFrame({"user_id": ["007", "007", "007", "008"],
    ...                     "timestamp": ["2020-01-06T09:00:00Z", "2020-01-06 08:00", "2020-01-06 08:00", "x"],
    ...                     "lat": ["40.7", "40.7", "40.8", "40.7"], "lon": ["-74.0", "-74.0", "-74.1", "-74.0"]})
    >>> res = validate_pings(raw, source="demo.csv")
    >>> res.pings[["user_id", "timestamp", "lat"]].astype(str).values.tolist()
    [['007', '2020-01-06 08:00:00+00:00', '40.7'], ['007', '2020-01-06 09:00:00+00:00', '40.7']]
    >>> res.quarantine[["row", "reason"]].values.tolist()
    [[2, 'duplicate'], [3, 'bad_timestamp']]
    """
    _check_frame(raw, source, "validate_pings")
    max_accuracy_m = _check_max_accuracy(max_accuracy_m)
    timezone = check_timezone(timezone)
    n = len(raw)
    uid, ts, columns, reason_code = _parse_and_check(raw, max_accuracy_m, timezone)
    bad = reason_code >= 0
    good = np.flatnonzero(~bad) if bad.any() else None
    if good is not None:
        uid, ts, columns = _take(uid, ts, columns, good)
    order, drop = _sort_and_mark_duplicates(uid, ts, columns.get("accuracy_m"))
    pos = np.arange(n) if good is None else good
    if order is not None:
        pos = pos[order]
        uid, ts, columns = _take(uid, ts, columns, order)
    if drop is not None:
        reason_code[pos[drop]] = QUARANTINE_REASONS.index("duplicate")
        pos = pos[~drop]
        uid, ts, columns = _take(uid, ts, columns, ~drop)
    if good is None and order is None and drop is None and _canonical(raw):
        pings = raw[[c for c in PINGS if c in raw.columns]]  # nothing to change: no copy (copy-on-write)
    else:
        pings = _pings_frame(uid, ts, columns)
    if keep_source:
        pings["source"] = _source_text(raw, source, pos)
        pings["row"] = _rows(raw, pos)
    qpos = np.flatnonzero(reason_code >= 0)
    reasons = np.asarray(QUARANTINE_REASONS, dtype=object)[reason_code[qpos]]
    quarantine = _quarantine(raw, qpos, reasons, source, True)
    tally = np.bincount(reason_code[qpos], minlength=len(QUARANTINE_REASONS))
    counts = {r: int(c) for r, c in zip(QUARANTINE_REASONS, tally)}
    return ValidationResult(pings=pings, quarantine=quarantine, counts=counts, n_input=n)


def check_pings(
    raw: pd.DataFrame,
    *,
    max_accuracy_m: float | None = 200.0,
    timezone: str | None = None,
    source: str | None = None,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> ValidationResult:
    """The row checks of :func:`validate_pings` alone: type every row, quarantine the bad ones; no sort,
    no search for duplicates.

    For pings that arrive in pieces (batches of a file, several files) and are sorted and de-duplicated
    later, all together (:func:`drop_duplicate_pings`): ``validate_pings(raw)`` gives the same pings and
    the same quarantine rows as ``check_pings(raw)`` followed by ``drop_duplicate_pings`` of its pings.

    Parameters
    ----------
    raw : pandas.DataFrame
        As for :func:`validate_pings`. A ``user_id`` categorical of text (dictionary-coded ids, as
        :func:`mobility.pipeline.engine.read_ping_batches` reads them from Parquet with ``dictionary_ids``)
        stays categorical in ``pings``: its checks read the codes, no text per row.
    max_accuracy_m, timezone, source
        As for :func:`validate_pings`.
    period : (pandas.Timestamp, pandas.Timestamp), optional
        tz-aware ``[first, end)`` instants of the study period: valid rows outside it are dropped (not
        quarantined: they are good pings of another time) and counted in ``dropped["outside_period"]``.

    Returns
    -------
    ValidationResult
        ``pings`` in input order, with ``source`` (categorical) and ``row`` (int64: the ``row`` column of
        ``raw``, else the position), so that a later :func:`drop_duplicate_pings` names the file and row of
        each duplicate and keeps the first in input order; ``quarantine`` and ``counts`` as for
        :func:`validate_pings` (``duplicate`` = 0); ``dropped`` and ``outside_ns``.

    Examples
    --------
    >>> raw = pd.DataFrame({"user_id": ["b", "a", "a", "a"],
    ...                     "timestamp": ["2020-01-06 09:00", "2020-01-06 08:00", "2020-01-06 08:00", "2019-12-31"],
    ...                     "lat": ["40.7", "91", "40.8", "40.7"], "lon": ["-74.0", "-74.0", "-74.1", "-74.0"]})
    >>> period = (pd.Timestamp("2020-01-01", tz="UTC"), pd.Timestamp("2020-02-01", tz="UTC"))
    >>> res = check_pings(raw, source="demo.csv", period=period)
    >>> res.pings[["user_id", "row"]].values.tolist(), res.quarantine[["row", "reason"]].values.tolist()
    ([['b', 0], ['a', 2]], [[1, 'bad_coordinate']])
    >>> res.dropped
    {'outside_period': 1}
    """
    _check_frame(raw, source, "check_pings")
    max_accuracy_m = _check_max_accuracy(max_accuracy_m)
    timezone = check_timezone(timezone)
    uid, ts, columns, reason_code = _parse_and_check(raw, max_accuracy_m, timezone, coded=True)
    keep = reason_code < 0
    n_outside, outside_ns = 0, None
    if period is not None:
        first, end = (pd.Timestamp(t).value for t in period)
        outside = keep & ((ts < first) | (ts >= end))
        n_outside = int(outside.sum())
        keep &= ~outside
        if n_outside:
            outside_ns = (int(ts[outside].min()), int(ts[outside].max()))
    if keep.all():
        pos = np.arange(len(raw))
        pings = raw[[c for c in PINGS if c in raw.columns]] if _canonical(raw) else _pings_frame(uid, ts, columns)
    else:
        pos = np.flatnonzero(keep)
        pings = _pings_frame(*_take(uid, ts, columns, pos))
    pings = pings.assign(source=pd.Series(_source_codes(raw, source, pos), index=pings.index, copy=False),
                         row=pd.Series(_rows(raw, pos), index=pings.index, copy=False))
    qpos = np.flatnonzero(reason_code >= 0)
    reasons = np.asarray(QUARANTINE_REASONS, dtype=object)[reason_code[qpos]]
    tally = np.bincount(reason_code[qpos], minlength=len(QUARANTINE_REASONS))
    return ValidationResult(pings=pings, quarantine=_quarantine(raw, qpos, reasons, source, True),
                            counts={r: int(c) for r, c in zip(QUARANTINE_REASONS, tally)}, n_input=len(raw),
                            dropped={"outside_period": n_outside} if period is not None else {},
                            outside_ns=outside_ns)


def empty_pings(*, accuracy: bool = False, utc_offset: bool = False) -> pd.DataFrame:
    """A pings table with no rows and the canonical dtypes (for partitions that received no data).

    Examples
    --------
    >>> empty_pings(accuracy=True).dtypes.astype(str).to_dict()
    {'user_id': 'str', 'timestamp': 'datetime64[ns, UTC]', 'lat': 'float64', 'lon': 'float64', 'accuracy_m': 'float64'}
    """
    columns = {"lat": np.empty(0), "lon": np.empty(0)}
    if accuracy:
        columns["accuracy_m"] = np.empty(0)
    if utc_offset:
        columns["utc_offset_s"] = np.empty(0)
    return _pings_frame(pd.Series([], dtype="str"), np.empty(0, dtype=np.int64), columns)


def drop_duplicate_pings(pings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop repeated ``(user_id, timestamp)`` pings, e.g. across input files after partitioning.

    Of the rows sharing a user and an instant, the one with the smallest ``accuracy_m`` is kept (missing
    accuracy counts as worst); ties go to the first in input order. The same rule as in
    :func:`validate_pings`, which calls the same code.

    Parameters
    ----------
    pings : pandas.DataFrame
        Validated pings (typed: tz-aware ``timestamp``), in any order; may carry ``source`` and ``row``
        (see ``validate_pings(..., keep_source=True)``), which the quarantine rows then report.

    Returns
    -------
    kept : pandas.DataFrame
        The pings without duplicates, same columns, sorted by ``user_id, timestamp``.
    quarantine : pandas.DataFrame
        The dropped rows as text, with ``source``, ``row`` (-1 where unknown) and ``reason`` = ``"duplicate"``.

    Examples
    --------
    >>> ts = pd.to_datetime(["2020-01-06 08:00"] * 3, utc=True)
    >>> p = pd.DataFrame({"user_id": ["a", "a", "a"], "timestamp": ts, "lat": [1.0, 2.0, 3.0],
    ...                   "lon": [0.0, 0.0, 0.0], "accuracy_m": [30.0, 10.0, 10.0]})
    >>> kept, q = drop_duplicate_pings(p)
    >>> kept["lat"].tolist(), q["lat"].tolist(), q["reason"].tolist()
    ([2.0], ['1.0', '3.0'], ['duplicate', 'duplicate'])
    """
    _check_frame(pings, None, "drop_duplicate_pings")
    if not isinstance(pings["timestamp"].dtype, pd.DatetimeTZDtype):
        raise MobilityError(
            "drop_duplicate_pings: 'timestamp' must be tz-aware datetimes, got "
            f"{pings['timestamp'].dtype}; run validate_pings first"
        )
    uid, _ = _user_ids(pings["user_id"])
    ts, _, _ = timestamps_ns(pings["timestamp"], None)
    acc = pings["accuracy_m"].to_numpy(np.float64, na_value=np.nan) if "accuracy_m" in pings.columns else None
    order, drop = _sort_and_mark_duplicates(uid, ts, acc)
    pos = np.arange(len(pings)) if order is None else order
    dropped = np.sort(pos[drop]) if drop is not None else np.empty(0, dtype=np.int64)
    if order is None and drop is None:
        kept = pings.reset_index(drop=True)  # sorted, no duplicates: no copy
    else:
        kept = pings.iloc[pos if drop is None else pos[~drop]].reset_index(drop=True)
    quarantine = _quarantine(pings, dropped, np.full(len(dropped), "duplicate", dtype=object), None, False)
    return kept, quarantine


def drop_duplicate_pings_table(table: pa.Table, columns: list[str] | None = None) -> tuple[pa.Table, pd.DataFrame]:
    """:func:`drop_duplicate_pings` on an Arrow table, without converting the kept rows to pandas.

    The same rule (per user and instant the smallest ``accuracy_m``, missing worst, ties to the first row)
    and the same quarantine; the kept rows are gathered column by column in Arrow (``Table.take``), so a
    partition goes from its shards to its Parquet file without a pandas copy of every column.

    Parameters
    ----------
    table : pyarrow.Table
        Checked pings with the columns of the pings table (``user_id`` text, or text dictionary-encoded,
        ``timestamp`` a tz-aware ``timestamp[ns]``), in input order, no missing ``user_id`` or
        ``timestamp``; may carry ``source`` and ``row``.
    columns : list of str, optional
        The columns of ``kept`` (default: all): the others are not gathered (e.g. ``source`` and ``row``,
        which only the quarantine needs).

    Returns
    -------
    kept : pyarrow.Table
        The rows without duplicates, ``columns`` (``user_id`` as given), sorted by ``user_id, timestamp``.
    quarantine : pandas.DataFrame
        As for :func:`drop_duplicate_pings`.

    Examples
    --------
    >>> ts = pd.to_datetime(["2020-01-06 08:00"] * 3, utc=True).as_unit("ns")
    >>> p = pd.DataFrame({"user_id": ["a", "a", "a"], "timestamp": ts, "lat": [1.0, 2.0, 3.0],
    ...                   "lon": [0.0, 0.0, 0.0], "accuracy_m": [30.0, 10.0, 10.0]})
    >>> kept, q = drop_duplicate_pings_table(pa.Table.from_pandas(p, preserve_index=False))
    >>> kept.column("lat").to_pylist(), q["lat"].tolist(), q["reason"].tolist()
    ([2.0], ['1.0', '3.0'], ['duplicate', 'duplicate'])
    """
    missing = [c for c in PINGS_REQUIRED if c not in table.column_names]
    if missing:
        raise MobilityError(f"drop_duplicate_pings_table: required column(s) {missing} missing")
    time_type = table.schema.field("timestamp").type
    if not (pa.types.is_timestamp(time_type) and time_type.unit == "ns" and time_type.tz is not None):
        raise MobilityError(f"drop_duplicate_pings_table: 'timestamp' must be tz-aware nanoseconds, got {time_type}")
    if table.column("user_id").null_count or table.column("timestamp").null_count:
        raise MobilityError("drop_duplicate_pings_table: user_id and timestamp must not be missing; check_pings first")
    ts = table.column("timestamp").combine_chunks().cast(pa.int64()).to_numpy()  # UTC ns, whatever the zone
    acc = None
    if "accuracy_m" in table.column_names:
        acc = table.column("accuracy_m").to_numpy().astype(np.float64, copy=False)  # nulls come as NaN
    if pa.types.is_dictionary(table.schema.field("user_id").type):
        table = table.unify_dictionaries()
        codes, n_users = dictionary_codes(table.column("user_id"))
        order, drop = _sort_and_mark_coded(codes, n_users, ts, acc)
    else:
        uid = pd.Series(table.column("user_id").to_pandas(), copy=False).astype("str")
        order, drop = _sort_and_mark_duplicates(uid, ts, acc)
    pos = np.arange(len(table)) if order is None else order
    dropped = np.sort(pos[drop]) if drop is not None else np.empty(0, dtype=np.int64)
    gathered = table if columns is None else table.select(columns)
    if order is None and drop is None:
        kept = gathered  # sorted, no duplicates: no copy
    else:
        kept = gathered.take(pa.array(pos if drop is None else pos[~drop], type=pa.int64()))
    rows = _pandas_pings(take_sorted(table, dropped))
    quarantine = _quarantine(rows, np.arange(len(dropped)), np.full(len(dropped), "duplicate", dtype=object),
                             None, False)
    return kept, quarantine


def dictionary_codes(user_id: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Codes of dictionary-encoded user ids in sorted user order (the codes :func:`mobility.ids.user_codes`
    gives the same ids as text, with room for ids that no row uses) and the number of codes, read from the
    dictionary indices: no text per row.

    ``user_id``: chunks that share one dictionary (``pyarrow.Table.unify_dictionaries``), no nulls.

    Examples
    --------
    >>> ids = pa.chunked_array([pa.array(["b", "a", "b"]).dictionary_encode()])
    >>> codes, n = dictionary_codes(ids)
    >>> codes.tolist(), n
    ([1, 0, 1], 2)
    """
    chunks = [c for c in user_id.chunks if len(c)]
    if not chunks:
        return np.zeros(0, dtype=np.int64), 0
    words = chunks[0].dictionary.to_numpy(zero_copy_only=False)
    rank = np.empty(len(words), dtype=np.int64)
    rank[np.argsort(words, kind="stable")] = np.arange(len(words))
    indices = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
    return rank[indices], len(words)


def take_sorted(table: pa.Table, positions: np.ndarray) -> pa.Table:
    """``table.take(positions)`` for ascending ``positions``, chunk by chunk: ``Table.take`` first concatenates
    every column's chunks, a copy of the whole table to take a few rows (a partition's duplicates from its
    shards' record batches).

    Examples
    --------
    >>> t = pa.Table.from_batches([pa.record_batch({"a": [0, 1, 2]}), pa.record_batch({"a": [3, 4]})])
    >>> take_sorted(t, np.array([1, 3, 4])).column("a").to_pylist()
    [1, 3, 4]
    """
    columns = []
    for column in table.columns:
        starts = np.cumsum([0] + [len(chunk) for chunk in column.chunks])
        cut = np.searchsorted(positions, starts)  # positions[cut[k]:cut[k + 1]] fall in chunk k
        columns.append(pa.chunked_array(
            [column.chunk(k).take(pa.array(positions[cut[k]:cut[k + 1]] - starts[k], type=pa.int64()))
             for k in np.flatnonzero(np.diff(cut))], type=column.type))
    return pa.Table.from_arrays(columns, schema=table.schema)


def _pandas_pings(table: pa.Table) -> pd.DataFrame:
    """An Arrow table of pings as pandas with the pings table's dtypes (``user_id`` str, ``utc_offset_s``
    Int32 even where the Arrow column has no nulls)."""
    pings = table.to_pandas()
    if "utc_offset_s" in pings.columns:
        pings["utc_offset_s"] = pings["utc_offset_s"].astype("Int32")
    pings["user_id"] = pings["user_id"].astype("str")
    return pings


def check_bad_share(
    counts: dict[str, int], n_input: int, *, max_bad_share: float, source: str | None = None, fix: str | None = None
) -> None:
    """Raise :class:`MobilityError` when more than ``max_bad_share`` of the input rows were quarantined.

    All quarantine reasons count, duplicates included.

    Parameters
    ----------
    counts : dict of str to int
        Rows per quarantine reason (``ValidationResult.counts``).
    n_input : int
        Rows read (``ValidationResult.n_input``); an empty input never fails.
    max_bad_share : float
        Largest tolerated share of quarantined rows, in [0, 1].
    source : str, optional
        The file, named in the message.
    fix : str, optional
        What the user should do, ending the message (default: fix the file, map columns, raise the limit).

    Examples
    --------
    >>> check_bad_share({"bad_coordinate": 1}, 100, max_bad_share=0.05, source="a.csv")
    >>> check_bad_share({"bad_coordinate": 10}, 100, max_bad_share=0.05, source="a.csv")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: a.csv: 10 of 100 rows (10.0%) quarantined, more than max_bad_share=0.05 (5.0%): bad_coordinate=10. Fix the file (see the quarantine table for rows and reasons), map misnamed columns with columns={...}, or raise max_bad_share in the region config
    """
    if not isinstance(max_bad_share, (int, float)) or not 0.0 <= float(max_bad_share) <= 1.0:
        raise MobilityError(f"max_bad_share={max_bad_share!r} must be a number between 0 and 1 (a share of rows)")
    if n_input <= 0:
        return
    n_bad = int(sum(counts.values()))
    share = n_bad / n_input
    if share > max_bad_share:
        detail = ", ".join(f"{r}={c}" for r, c in counts.items() if c)
        fix = fix or ("Fix the file (see the quarantine table for rows and reasons), map misnamed columns with "
                      "columns={...}, or raise max_bad_share in the region config")
        raise MobilityError(
            f"{source or 'input'}: {n_bad} of {n_input} rows ({share:.1%}) quarantined, more than "
            f"max_bad_share={max_bad_share} ({max_bad_share:.1%}): {detail}. {fix}"
        )


def partition_of(user_id: pd.Series, n_partitions: int) -> np.ndarray:
    """Stable partition number in ``0 .. n_partitions - 1`` for each user id.

    ``pandas.util.hash_pandas_object`` (SipHash with pandas' fixed default key) of the id's text, with
    ``index=False``, modulo ``n_partitions``. It does not depend on Python's per-process string hash
    (``PYTHONHASHSEED``), the process, the machine or the row order, so a user's pings from different files
    and runs always land in the same partition.

    Parameters
    ----------
    user_id : pandas.Series
        User ids (strings; integers are hashed as their decimal text).
    n_partitions : int
        Number of partitions, at least 1.

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> ids = pd.Series(["001", "002", "001"])
    >>> p = partition_of(ids, 8)
    >>> bool(p[0] == p[2]) and all(0 <= p) and all(p < 8)
    True
    """
    if isinstance(n_partitions, bool) or not isinstance(n_partitions, (int, np.integer)) or n_partitions < 1:
        raise MobilityError(f"n_partitions={n_partitions!r} must be a whole number >= 1")
    text, _ = _user_ids(pd.Series(user_id, copy=False))
    codes, uniques = user_codes(text)
    hashes = pd.util.hash_pandas_object(pd.Series(np.asarray(uniques, dtype=object)), index=False).to_numpy()
    per_unique = (hashes % np.uint64(n_partitions)).astype(np.int64)
    return per_unique[codes]


# ------------------------------------------------------------------------------------------- helpers


def _check_frame(raw, source, who) -> None:
    if not isinstance(raw, pd.DataFrame):
        raise MobilityError(f"{who}: expected a pandas DataFrame of pings, got {type(raw).__name__}")
    missing = [c for c in PINGS_REQUIRED if c not in raw.columns]
    if missing:
        example = ", ".join(f"{c!r}: 'your_column'" for c in missing)
        raise MobilityError(
            f"{source or who}: required column(s) {missing} missing; columns found: {list(raw.columns)}. "
            f"Rename them, or read the file with read_pings(..., columns={{{example}}})"
        )
    if raw.columns.duplicated().any():
        dup = sorted(set(raw.columns[raw.columns.duplicated()]))
        raise MobilityError(f"{source or who}: column(s) {dup} appear twice; keep one of each")


def _parse_and_check(raw: pd.DataFrame, max_accuracy_m: float | None, timezone: str | None, coded: bool = False):
    """Typed columns of every row and, per row, the index of its first failing reason (-1 if none);
    ``coded``: user ids given as a categorical of text stay categorical (:func:`_user_ids`)."""
    n = len(raw)
    uid, missing = _user_ids(raw["user_id"], coded)
    ts, ts_missing, bad_ts = timestamps_ns(raw["timestamp"], timezone)
    lat, lat_missing, lat_bad = _floats(raw["lat"])
    lon, lon_missing, lon_bad = _floats(raw["lon"])
    missing = missing | ts_missing | lat_missing | lon_missing
    with np.errstate(invalid="ignore"):
        bad_coord = lat_bad | lon_bad | ~(np.abs(lat) <= 90.0) | ~(np.abs(lon) <= 180.0)
    bad_coord &= ~(lat_missing | lon_missing)
    conditions = {"missing_value": missing, "bad_timestamp": bad_ts, "bad_coordinate": bad_coord,
                  "null_island": (lat == 0.0) & (lon == 0.0)}
    columns = {"lat": lat, "lon": lon}
    if "accuracy_m" in raw.columns:
        acc, _, acc_bad = _floats(raw["accuracy_m"])
        with np.errstate(invalid="ignore"):
            conditions["bad_accuracy"] = acc_bad | np.isinf(acc) | (acc < 0)
            if max_accuracy_m is not None:
                conditions["low_accuracy"] = acc > max_accuracy_m
        columns["accuracy_m"] = acc
    if "utc_offset_s" in raw.columns:
        off, off_missing, off_bad = _floats(raw["utc_offset_s"])
        with np.errstate(invalid="ignore"):
            whole_in_range = (np.abs(off) <= MAX_UTC_OFFSET_S) & (off == np.round(off))
        conditions["bad_utc_offset"] = off_bad | (~off_missing & ~whole_in_range)
        columns["utc_offset_s"] = off
    reason_code = np.full(n, -1, dtype=np.int8)
    for reason in reversed(QUARANTINE_REASONS):  # the first failing reason is written last
        if reason in conditions:
            reason_code[conditions[reason]] = QUARANTINE_REASONS.index(reason)
    return uid, ts, columns, reason_code


def _take(uid: pd.Series, ts: np.ndarray, columns: dict[str, np.ndarray], idx: np.ndarray):
    """The same rows (positions or a boolean mask) of the user ids, timestamps and numeric columns."""
    return uid.iloc[idx].reset_index(drop=True), ts[idx], {k: v[idx] for k, v in columns.items()}


def _check_max_accuracy(max_accuracy_m):
    if max_accuracy_m is None:
        return None
    if isinstance(max_accuracy_m, bool) or not isinstance(max_accuracy_m, (int, float, np.number)):
        raise MobilityError(f"max_accuracy_m={max_accuracy_m!r} must be a positive number of metres or None")
    value = float(max_accuracy_m)
    if not (value > 0 and np.isfinite(value)):
        raise MobilityError(f"max_accuracy_m={max_accuracy_m!r} must be a positive number of metres or None")
    return value


def _is_text(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) or s.dtype == object


def _text(s: pd.Series) -> pd.Series:
    """Text of each value, stripped; null -> empty text."""
    if s.dtype == object:
        s = s.map(lambda v: v if isinstance(v, str) else ("" if _isnull(v) else str(v)))
    return s.astype("str").fillna("").str.strip()


def _quarantine_text(s: pd.Series) -> pd.Series:
    """A column as text for the quarantine table; bytes that are not UTF-8 keep their escapes, never fail."""
    if s.dtype == object:
        s = s.map(lambda v: v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else v)
    return s.astype("str")


def _isnull(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _user_ids(s: pd.Series, coded: bool = False) -> tuple[pd.Series, np.ndarray]:
    """User ids as ``str`` Series (verbatim) and the missing mask. With ``coded``, a categorical of text
    (dictionary-coded ids as read from Parquet) stays categorical: the missing mask read from its codes and
    categories, no text per row."""
    if coded and isinstance(s.dtype, pd.CategoricalDtype) and _is_text(s.cat.categories.to_series()):
        codes = s.cat.codes.to_numpy()
        blank = np.append(np.asarray(s.cat.categories == "", dtype=bool), True)  # code -1 (null) -> last: True
        return s.reset_index(drop=True), blank[codes]
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(np.float64, na_value=np.nan)
        missing = np.isnan(v)
        whole = ~missing & (v == np.round(v)) & (np.abs(v) < 2**53)
        out = np.full(len(v), "", dtype=object)
        out[whole] = v[whole].astype(np.int64).astype(str)
        other = ~missing & ~whole
        out[other] = v[other].astype(str)
        return pd.Series(out, dtype="str"), missing
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        text = s.astype("str").reset_index(drop=True)
        null = text.isna().to_numpy()
        if null.any():
            text = text.fillna("")
        return text, null | (text == "").to_numpy()
    if s.dtype == object:
        text = s.map(lambda v: v if isinstance(v, str) else ("" if _isnull(v) else str(v))).astype("str")
    else:
        text = s.astype("str").fillna("")
    text = text.reset_index(drop=True)
    return text, (text == "").to_numpy()


def timestamps_ns(s: pd.Series, timezone: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTC epoch ns int64 with NaT, missing mask, bad mask) of a timestamp column."""
    dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        missing = s.isna().to_numpy()
        if isinstance(dtype, pd.DatetimeTZDtype):
            ns, bad = _naive_utc_ns(s.dt.tz_convert(None))  # tz_convert(None): UTC wall clock, no zone
        else:
            ns, bad = _localize(s, timezone)
        return ns, missing, bad & ~missing
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        sec = s.to_numpy(np.float64, na_value=np.nan)
        missing = np.isnan(sec)
        if pd.api.types.is_integer_dtype(dtype) and not missing.any():
            ns, bad = _epoch_int_ns(s.to_numpy(np.int64))
        else:
            ns, bad = _epoch_float_ns(sec)
        return ns, missing, bad & ~missing
    text = _text(s)
    missing = (text == "").to_numpy()
    ns = np.full(len(text), _NAT, dtype=np.int64)
    epoch = text.str.fullmatch(_EPOCH_TEXT).to_numpy(dtype=bool, na_value=False)
    if epoch.any():
        sec = pd.to_numeric(text[epoch], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        ns[epoch] = _epoch_float_ns(sec)[0]
    iso = ~epoch & ~missing
    if iso.any():
        ns[iso] = _iso_ns(text[iso], timezone)
    bad = (ns == _NAT) & ~missing
    return ns, missing, bad


def _iso_ns(text: pd.Series, timezone: str | None) -> np.ndarray:
    """Epoch ns of ISO 8601 text (NaT where unparseable or out of range); naive text is in ``timezone``."""
    if timezone is None:
        return _aware_ns(text)
    aware = text.str.fullmatch(_TZ_TEXT).to_numpy(dtype=bool, na_value=False)
    ns = np.full(len(text), _NAT, dtype=np.int64)
    if aware.any():
        ns[aware] = _aware_ns(text[aware])
    if (~aware).any():
        parsed = _parse_iso(text[~aware], utc=False)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # every one carried an offset the pattern missed
            ns[~aware] = _utc_ns(parsed)
        else:
            ns[~aware] = _localize(parsed, timezone)[0]
    return ns


def _utc_ns(aware: pd.Series) -> np.ndarray:
    return _naive_utc_ns(aware.dt.tz_convert("UTC").dt.tz_localize(None))[0]


def _parse_iso(text: pd.Series, *, utc: bool) -> pd.Series:
    """Vectorised ISO 8601 parse; on a mix pandas refuses, parse one by one (offsets then -> NaT if naive)."""
    try:
        return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    except (ValueError, OverflowError, TypeError):
        values = [_parse_one(v, utc) for v in text]
        return pd.Series(pd.to_datetime(values, utc=utc), index=text.index)


def _aware_ns(text: pd.Series) -> np.ndarray:
    """Epoch ns of tz-aware ISO 8601 text (NaT where unparseable or out of range). Text ending in ``UTC``,
    ``GMT`` (as BigQuery writes it) or a small ``z``, which ISO 8601 parsing refuses, is read as ``+00:00``;
    looked at only where the plain parse failed, so other text costs nothing more."""
    ns = _utc_ns(_parse_iso(text, utc=True))
    failed = np.flatnonzero(ns == _NAT)
    if len(failed):
        tried = text.iloc[failed]
        fixed = tried.str.replace(_UTC_WORD, "+00:00", regex=True)
        again = (fixed != tried).to_numpy(dtype=bool, na_value=False)
        if again.any():
            ns[failed[again]] = _utc_ns(_parse_iso(fixed[again], utc=True))
    return ns


def _parse_one(v: str, utc: bool):
    try:
        t = pd.to_datetime(v, format="ISO8601", utc=utc)
    except (ValueError, OverflowError, TypeError):
        return pd.NaT
    if not utc and t is not pd.NaT and t.tzinfo is not None:
        return pd.NaT
    return t


def _naive_utc_ns(naive: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ns of naive UTC datetimes, NaT outside the plausible range; (ns, bad)."""
    values = naive.to_numpy()
    if values.dtype.kind != "M":
        values = values.astype("datetime64[ns]")
    unit = np.datetime_data(values.dtype)[0]
    ticks = values.view(np.int64)  # NaT is the smallest int64, so it fails the lower bound
    lo = np.datetime64(TIMESTAMP_MIN).astype(f"datetime64[{unit}]").view(np.int64)
    hi = np.datetime64(TIMESTAMP_MAX).astype(f"datetime64[{unit}]").view(np.int64)
    ok = (ticks >= lo) & (ticks < hi)
    if unit == "ns":
        return np.where(ok, ticks, _NAT), ~ok
    ns = np.full(len(values), _NAT, dtype=np.int64)
    ns[ok] = values[ok].astype("datetime64[ns]").view(np.int64)
    return ns, ~ok


def _localize(naive: pd.Series, timezone: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ns of naive local datetimes in ``timezone`` (UTC when None); (ns, bad)."""
    if timezone is None or timezone == "UTC":
        return _naive_utc_ns(naive)
    ns0, bad0 = _naive_utc_ns(naive)  # range check on the wall clock first, so localising cannot overflow
    clock = pd.Series(np.where(bad0, _NAT, ns0).view("datetime64[ns]"))
    local = clock.dt.tz_localize(timezone, ambiguous=np.ones(len(clock), dtype=bool), nonexistent="NaT")
    return _naive_utc_ns(local.dt.tz_convert("UTC").dt.tz_localize(None))


def _epoch_float_ns(sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        ok = (sec * _NS_PER_S >= _TS_MIN_NS) & (sec * _NS_PER_S < _TS_MAX_NS)
    ns = np.full(len(sec), _NAT, dtype=np.int64)
    ns[ok] = np.round(sec[ok] * 1e6).astype(np.int64) * 1000  # float seconds: whole microseconds
    return ns, ~ok


def _epoch_int_ns(sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = (sec >= _TS_MIN_NS // _NS_PER_S) & (sec < _TS_MAX_NS // _NS_PER_S)
    ns = np.full(len(sec), _NAT, dtype=np.int64)
    ns[ok] = sec[ok] * _NS_PER_S
    return ns, ~ok


def _floats(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float64 values, missing mask, unparseable-or-non-finite-text mask) of a numeric column."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.to_numpy(np.float64, na_value=np.nan)
        missing = np.isnan(v)
        return v, missing, np.zeros(len(v), dtype=bool)
    text = _text(s)
    missing = (text == "").to_numpy()
    v = _parse_floats(text.where(~missing, "nan"))
    bad = ~missing & ~np.isfinite(v)
    return v, missing, bad


def _parse_floats(text: pd.Series) -> np.ndarray:
    """float64 of number text, NaN where not a number. Arrow's cast when every value parses (the usual
    case, ~10x faster); otherwise ``pandas.to_numeric(errors="coerce")``."""
    try:
        return np.asarray(pa.array(text.array).cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    except (pa.ArrowException, TypeError, ValueError):
        return pd.to_numeric(text, errors="coerce").to_numpy(np.float64, na_value=np.nan)


def _sort_and_mark_duplicates(uid: pd.Series, ts: np.ndarray, acc: np.ndarray | None):
    """Order that sorts by (user, time) stably (None if already sorted) and, in sorted order, the rows to drop
    as duplicates (None if there are none)."""
    if len(ts) < 2:
        return None, None
    codes, users = user_codes(uid)  # in sorted user order: sorted rows have non-decreasing codes
    return _sort_and_mark_coded(codes, len(users), ts, acc)


def _sort_and_mark_coded(codes: np.ndarray, n_users: int, ts: np.ndarray, acc: np.ndarray | None):
    """:func:`_sort_and_mark_duplicates` given the users as codes ``0 .. n_users - 1`` in sorted user order."""
    n = len(ts)
    if n < 2:
        return None, None
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    order = None
    if not is_user_time_sorted(codes, ts):
        order = user_time_order(codes, ts, n_users)  # np.lexsort((ts, codes)), linear on sorted pieces
    same = repeated_keys(codes, ts, order)
    if not same.any():
        return order, None
    return order, _duplicates_to_drop(same, acc, order)


def _duplicates_to_drop(same: np.ndarray, acc: np.ndarray | None, order: np.ndarray | None = None) -> np.ndarray:
    """Kernel: given sorted rows and ``same[i]`` = row i has the key of row i-1, mark all but the best row
    of each run (smallest accuracy, NaN worst, then earliest). ``acc`` is in input order when ``order`` (the
    sorted rows' positions in the input) is given, else in sorted order."""
    if acc is None:
        return same.copy()
    involved = same.copy()
    involved[:-1] |= same[1:]
    idx = np.flatnonzero(involved)
    run = np.cumsum(~same[idx])  # numbers the runs among the involved rows only (a run starts where same is False)
    a = acc[idx if order is None else order[idx]]
    a = np.where(np.isnan(a), np.inf, a)
    best = np.lexsort((idx, a, run))
    first = np.ones(len(best), dtype=bool)
    first[1:] = run[best][1:] != run[best][:-1]
    drop = involved
    drop[idx[best[first]]] = False
    return drop


def _pings_frame(uid: pd.Series, ts: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    data = {
        "user_id": uid if isinstance(uid.dtype, pd.CategoricalDtype) else uid.astype("str"),
        "timestamp": pd.Series(pd.DatetimeIndex(ts.view("datetime64[ns]")).tz_localize("UTC"), copy=False),
    }
    data["lat"] = columns["lat"]
    data["lon"] = columns["lon"]
    if "accuracy_m" in columns:
        data["accuracy_m"] = columns["accuracy_m"]
    if "utc_offset_s" in columns:
        off = columns["utc_offset_s"]
        null = np.isnan(off)
        data["utc_offset_s"] = pd.arrays.IntegerArray(np.where(null, 0, off).astype(np.int32), null)
    return pd.DataFrame(data, copy=False)[[c for c in PINGS if c in data]]


def _canonical(raw: pd.DataFrame) -> bool:
    """True when ``raw``'s ping columns already have the dtypes of the pings table."""
    expected = {"user_id": "str", "timestamp": "datetime64[ns, UTC]", "lat": "float64", "lon": "float64",
                "accuracy_m": "float64", "utc_offset_s": "Int32"}
    return all(str(raw[c].dtype) == expected[c] for c in PINGS if c in raw.columns) and \
        isinstance(raw.index, pd.RangeIndex) and raw.index.start == 0 and raw.index.step == 1


def _source_codes(raw: pd.DataFrame, source: str | None, pos: np.ndarray) -> pd.Categorical:
    """``raw``'s ``source`` at ``pos`` as a categorical (no text per row), or ``source`` on every row."""
    if "source" in raw.columns:
        return pd.Categorical(raw["source"].iloc[pos].reset_index(drop=True).astype("category"))
    return pd.Categorical.from_codes(np.zeros(len(pos), dtype=np.int8), categories=[source or ""])


def _source_text(raw: pd.DataFrame, source: str | None, pos: np.ndarray) -> pd.Series:
    if "source" in raw.columns:
        return raw["source"].iloc[pos].astype("str").reset_index(drop=True)
    return pd.Series(np.full(len(pos), source or "", dtype=object), dtype="str")


def _rows(raw: pd.DataFrame, pos: np.ndarray, positional: bool = True) -> np.ndarray:
    """``raw``'s ``row`` column at ``pos``; without one, the position itself (or -1 if not ``positional``)."""
    if "row" in raw.columns:
        return pd.to_numeric(raw["row"].iloc[pos], errors="coerce").fillna(-1).to_numpy(np.int64)
    return pos.astype(np.int64) if positional else np.full(len(pos), -1, dtype=np.int64)


def _quarantine(
    raw: pd.DataFrame, pos: np.ndarray, reasons: np.ndarray, source: str | None, positional: bool
) -> pd.DataFrame:
    rows = raw[[c for c in PINGS if c in raw.columns]].iloc[pos]
    data = {c: _quarantine_text(rows[c]).reset_index(drop=True) for c in rows.columns}
    data["source"] = _source_text(raw, source, pos)
    data["row"] = _rows(raw, pos, positional)
    data["reason"] = pd.Series(reasons, dtype="str")
    return pd.DataFrame(data)
