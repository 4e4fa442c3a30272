"""Home and work locations over time: HoWDe v2 daily labels from stops with ``location_id``.

Implements method.md section 2.4 after HoWDe (de Sojo, Lucchini et al., arXiv 2506.20679; reference code
``LLucchini/HoWDe`` ``howde/core.py``), all users at once with the kernels of
:mod:`mobility.kernels.home_work`.

The rules
---------
1. Stop times are converted to local wall-clock time (IANA ``timezone`` and/or a per-stop ``utc_offset_s``
   column) and split at local midnight.
2. Each local day has 24 hourly bins; a bin has data when a stop overlaps it by at least one second, and it
   is given to the stop overlapping it longest (the earlier stop on a tie). Stops with ``location_id < 0``
   (not assigned to a place) are ignored, as HoWDe drops Infostop's ``-1``.
3. Home hours are ``home_start_hour .. home_end_hour - 1`` (default 00:00-06:59, 7 bins); work hours
   ``work_start_hour .. work_end_hour - 1`` (default 09:00-17:59, 9 bins) on ``work_weekdays``
   (default Monday-Friday; public holidays are not treated specially).
4. A day is *valid* for a rule when at least ``C_hours`` of that rule's bins have data; its share at a
   location is the rule's bins at that location / the rule's bins with data.
5. **Home** on day ``d``: in the window ``d - window_home_days//2 .. d + window_home_days//2`` (clipped to
   the user's span), at least ``C_days_H`` of the days must be valid; the home is the location whose mean
   share over the valid days is largest and ``>= f_hours_H``.
6. **Work** on day ``d``: in the window of ``window_work_days``, at least ``C_days_W`` of the eligible
   weekdays must be valid; locations ever labelled home for the user are never work; a candidate needs a
   mean share of work-hour bins ``>= f_hours_W`` and a share of valid weekdays visited ``>= f_days_W``;
   the work is the candidate visited on most days (then largest hour share).

Choices where method.md is silent (ours), and differences from the HoWDe reference code
----------------------------------------------------------------------------------------
* Window centred on the day, ``+- window_days // 2`` days inclusive (HoWDe's ``rangeBetween(-half, half)``);
  ``past_only_window=True`` uses days ``d - window_days .. d`` (HoWDe's ``data_for_predict``).
* Coverage share: denominator = calendar days (home) or ``work_weekdays`` days (work) of the window inside
  the user's observed span, so days without any stop count as days without data. HoWDe counts only days
  that have at least one stop, and counts weekend rows as present in the work window.
* Weekdays spent only at home (or ever-home locations) are valid work days with no work visit, so after a
  job loss the work label fades within about half a window. HoWDe treats such days as missing.
* A bin goes to the longest overlap with that bin (method.md); HoWDe gives it to the longest day segment.
* Thresholds are inclusive (``>=``) with a 1e-9 tolerance; HoWDe's coverage test is strict.
* Work needs both ``f_hours_W`` and ``f_days_W`` (method.md); HoWDe falls back to ``f_hours_W`` alone.
* Ties between locations go to the smaller ``location_id``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from mobility.checks import require_columns, utc_ns
from mobility.errors import MobilityError
from mobility.kernels.home_work import (
    SECONDS_PER_DAY,
    daily_location_shares,
    hour_bin_locations,
    rolling_window_labels,
)
from mobility.localtime import local_time

log = logging.getLogger(__name__)

HOME_WORK_LABELS = ("user_id", "date", "home_location_id", "work_location_id")
"""Columns of :func:`detect_home_work`'s output (the first four of ``schema.HOME_WORK_DAILY``)."""

# Allowed ranges, as in HoWDe's config.py ``thresholds_config`` (hard limits against nonsense values, wider
# than the suggested ranges of the HoWDe README).
PARAM_RANGES = {
    "window_home_days": (1, 730),
    "window_work_days": (1, 730),
    "C_hours": (0.1, 1.0),
    "C_days_H": (0.0, 1.0),
    "C_days_W": (0.0, 1.0),
    "f_hours_H": (0.3, 1.0),
    "f_hours_W": (0.1, 1.0),
    "f_days_W": (0.1, 1.0),
    "home_start_hour": (0, 23),
    "home_end_hour": (1, 24),
    "work_start_hour": (0, 23),
    "work_end_hour": (1, 24),
}


@dataclass(frozen=True)
class HomeWorkParams:
    """Parameters of HoWDe v2 home/work detection, range-checked on construction.

    Attributes
    ----------
    window_home_days, window_work_days : int
        Window lengths in days (28 and 42); centred windows span ``+- window // 2`` days.
    C_hours : float
        Minimum share of a rule's hourly bins with data for a day to count (0.4).
    C_days_H, C_days_W : float
        Minimum share of days with data in the home (0.4) and work (0.5) windows.
    f_hours_H : float
        Minimum mean share of home-hour bins at the home location (0.7).
    f_hours_W : float
        Minimum mean share of work-hour bins at the work location (0.4).
    f_days_W : float
        Minimum share of valid weekdays in the window the work location is visited (0.6).
    home_start_hour, home_end_hour : int
        Home hours ``[start, end)`` in local time (0, 7); ``start > end`` wraps within the calendar day
        (e.g. 22, 7 -> 22:00-23:59 and 00:00-06:59 of the same date, as HoWDe's ``end_hour_day``).
    work_start_hour, work_end_hour : int
        Work hours ``[start, end)`` in local time (9, 18).
    work_weekdays : tuple of int
        Days of the week eligible for work (Monday = 0; default Monday-Friday).
    past_only_window : bool
        Use the past ``window`` days instead of a centred window (False).

    Examples
    --------
    >>> HomeWorkParams().window_home_days
    28
    >>> HomeWorkParams(f_hours_H=1.5)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: home/work parameter f_hours_H=1.5 is outside its allowed range [0.3, 1.0]; choose a value in that range (method.md section 2.4)
    """

    window_home_days: int = 28
    window_work_days: int = 42
    C_hours: float = 0.4
    C_days_H: float = 0.4
    C_days_W: float = 0.5
    f_hours_H: float = 0.7
    f_hours_W: float = 0.4
    f_days_W: float = 0.6
    home_start_hour: int = 0
    home_end_hour: int = 7
    work_start_hour: int = 9
    work_end_hour: int = 18
    work_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    past_only_window: bool = False

    def __post_init__(self) -> None:
        for name, (lo, hi) in PARAM_RANGES.items():
            value = getattr(self, name)
            is_int_param = isinstance(lo, int) and isinstance(hi, int)
            ok_type = isinstance(value, (int, np.integer)) if is_int_param else isinstance(
                value, (int, float, np.integer, np.floating)
            )
            if isinstance(value, bool) or not ok_type or not np.isfinite(value):
                kind = "an integer" if is_int_param else "a number"
                raise MobilityError(f"home/work parameter {name}={value!r} must be {kind} in [{lo}, {hi}]")
            if not lo <= value <= hi:
                raise MobilityError(
                    f"home/work parameter {name}={value!r} is outside its allowed range [{lo}, {hi}]; "
                    "choose a value in that range (method.md section 2.4)"
                )
        if self.home_start_hour == self.home_end_hour:
            raise MobilityError(
                f"home hours {self.home_start_hour}-{self.home_end_hour} are empty; "
                "set home_start_hour != home_end_hour (default 0 and 7)"
            )
        if self.work_start_hour >= self.work_end_hour:
            raise MobilityError(
                f"work hours {self.work_start_hour}-{self.work_end_hour} are empty; "
                "set work_start_hour < work_end_hour (default 9 and 18)"
            )
        days = tuple(self.work_weekdays)
        if not days or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in days) or any(
            not 0 <= d <= 6 for d in days
        ) or len(set(days)) != len(days):
            raise MobilityError(
                f"work_weekdays={self.work_weekdays!r} must be distinct days of the week 0..6 (Monday = 0), "
                "e.g. (0, 1, 2, 3, 4)"
            )
        if not isinstance(self.past_only_window, bool):
            raise MobilityError(f"past_only_window={self.past_only_window!r} must be True or False")

    @property
    def home_hours(self) -> np.ndarray:
        """Local hours of the day used by the home rule.

        Examples
        --------
        >>> HomeWorkParams().home_hours.tolist()
        [0, 1, 2, 3, 4, 5, 6]
        >>> HomeWorkParams(home_start_hour=22, home_end_hour=2).home_hours.tolist()
        [0, 1, 22, 23]
        """
        if self.home_start_hour < self.home_end_hour:
            return np.arange(self.home_start_hour, self.home_end_hour)
        return np.concatenate([np.arange(0, self.home_end_hour), np.arange(self.home_start_hour, 24)])

    @property
    def work_hours(self) -> np.ndarray:
        """Local hours of the day used by the work rule.

        Examples
        --------
        >>> HomeWorkParams().work_hours.tolist()
        [9, 10, 11, 12, 13, 14, 15, 16, 17]
        """
        return np.arange(self.work_start_hour, self.work_end_hour)

    def window_extent(self, window_days: int) -> tuple[int, int]:
        """Days before and after the labelled day covered by a window of ``window_days``.

        Examples
        --------
        >>> HomeWorkParams().window_extent(28)
        (14, 14)
        >>> HomeWorkParams(past_only_window=True).window_extent(28)
        (28, 0)
        """
        if self.past_only_window:
            return window_days, 0
        return window_days // 2, window_days // 2


def _local_wall_seconds(ts_utc: pd.Series, utc_offset_s: pd.Series | None, timezone: str | None) -> np.ndarray:
    """Local wall-clock seconds since 1970-01-01 (per-stop offset first, then the zone, else UTC)."""
    local = local_time(ts_utc, utc_offset_s=utc_offset_s, timezone=timezone)
    return local.to_numpy().astype("datetime64[s]").astype(np.int64)


def _validate_stops(stops: pd.DataFrame) -> None:
    require_columns(stops, ("user_id", "start", "end", "location_id"), "stops", "home/work detection needs "
                    "user_id, start, end and location_id (run mobility.locations.assign_locations on the stops first)")
    start, end = (utc_ns(stops[col], "stops", col) for col in ("start", "end"))
    if stops["user_id"].isna().any():
        row = int(np.flatnonzero(stops["user_id"].isna().to_numpy())[0])
        raise MobilityError(f"stops row {row}: user_id is missing; drop or fix that stop")
    loc = stops["location_id"]
    if not pd.api.types.is_integer_dtype(loc.dtype) or loc.isna().any():
        raise MobilityError(
            f"stops: column 'location_id' must be integers without missing values (got {loc.dtype}); "
            "use -1 for stops not assigned to a location"
        )
    bad = end < start
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise MobilityError(f"stops row {row}: end is before start; fix or drop that stop")


def detect_home_work(
    stops: pd.DataFrame,
    *,
    timezone: str | None,
    window_home_days: int = 28,
    window_work_days: int = 42,
    C_hours: float = 0.4,
    C_days_H: float = 0.4,
    C_days_W: float = 0.5,
    f_hours_H: float = 0.7,
    f_hours_W: float = 0.4,
    f_days_W: float = 0.6,
    home_start_hour: int = 0,
    home_end_hour: int = 7,
    work_start_hour: int = 9,
    work_end_hour: int = 18,
    work_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
    past_only_window: bool = False,
) -> pd.DataFrame:
    """Daily home and work location of every user (HoWDe v2 rules; see the module docstring).

    Parameters
    ----------
    stops : DataFrame
        The ``stops`` table of :mod:`mobility.schema` (``user_id, start, end, location_id`` are used; ``end``
        is the last ping inside the stop), optionally with ``utc_offset_s`` (seconds east of UTC, per stop;
        used where present, ``timezone`` elsewhere). Any row order.
    timezone : str or None
        IANA zone of the region (e.g. ``"America/New_York"``, daylight saving aware) for stops without a
        ``utc_offset_s``; ``None`` means UTC there (see :func:`mobility.localtime.local_time`).
    window_home_days, ..., past_only_window
        See :class:`HomeWorkParams` (defaults of method.md section 2.4).

    Returns
    -------
    DataFrame
        ``user_id``, ``date`` (datetime64[ns], naive local calendar day), ``home_location_id``,
        ``work_location_id`` (Int64, NA when not detected): one row per user per local day from the user's
        first to last day with a stop, sorted by user and date. The parameters are in
        ``attrs["home_work_params"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.date_range("2020-03-02", periods=7, freq="D", tz="UTC")   # Monday .. Sunday
    >>> night = pd.DataFrame({"user_id": "u", "start": days, "end": days + pd.Timedelta(hours=8),
    ...                       "location_id": 0})
    >>> office = pd.DataFrame({"user_id": "u", "start": days[:5] + pd.Timedelta(hours=9),
    ...                        "end": days[:5] + pd.Timedelta(hours=17), "location_id": 1})
    >>> labels = detect_home_work(pd.concat([night, office]), timezone="UTC")
    >>> labels["home_location_id"].tolist()
    [0, 0, 0, 0, 0, 0, 0]
    >>> labels["work_location_id"].tolist()
    [1, 1, 1, 1, 1, 1, 1]
    """
    params = HomeWorkParams(
        window_home_days=window_home_days,
        window_work_days=window_work_days,
        C_hours=C_hours,
        C_days_H=C_days_H,
        C_days_W=C_days_W,
        f_hours_H=f_hours_H,
        f_hours_W=f_hours_W,
        f_days_W=f_days_W,
        home_start_hour=home_start_hour,
        home_end_hour=home_end_hour,
        work_start_hour=work_start_hour,
        work_end_hour=work_end_hour,
        work_weekdays=tuple(work_weekdays),
        past_only_window=past_only_window,
    )
    _validate_stops(stops)
    if len(stops) == 0:
        dtypes = (stops["user_id"].dtype, "datetime64[ns]", "Int64", "Int64")
        out = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in zip(HOME_WORK_LABELS, dtypes)})
        out.attrs["home_work_params"] = asdict(params)
        return out

    user_code, users = pd.factorize(stops["user_id"], sort=True)
    offsets = stops["utc_offset_s"] if "utc_offset_s" in stops.columns else None
    start_s = _local_wall_seconds(stops["start"], offsets, timezone)
    end_s = _local_wall_seconds(stops["end"], offsets, timezone)
    location = stops["location_id"].to_numpy(dtype=np.int64)
    d_user, d_start = np.diff(user_code), np.diff(start_s)
    if not ((d_user > 0) | ((d_user == 0) & (d_start >= 0))).all():  # the stops contract says sorted; be safe
        order = np.lexsort((start_s, user_code))
        user_code, start_s, end_s, location = user_code[order], start_s[order], end_s[order], location[order]

    # One row per user per local day of the observed span.
    n_users = users.size
    first_day = np.full(n_users, np.iinfo(np.int64).max, dtype=np.int64)
    last_day = np.full(n_users, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first_day, user_code, start_s // SECONDS_PER_DAY)
    np.maximum.at(last_day, user_code, np.maximum(end_s - 1, start_s) // SECONDS_PER_DAY)
    n_days = last_day - first_day + 1
    user_row_start = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(n_days, out=user_row_start[1:])
    n_rows = int(user_row_start[-1])
    row_user = np.repeat(np.arange(n_users), n_days)
    row_day = np.arange(n_rows, dtype=np.int64) - user_row_start[row_user] + first_day[row_user]

    used = location >= 0
    if not used.any():
        raise MobilityError(
            "stops: every location_id is -1; assign stops to locations first "
            "(mobility.locations.assign_locations) before home/work detection"
        )
    loc_dense, loc_values = pd.factorize(location[used], sort=True)
    base_row = user_row_start[user_code[used]] - first_day[user_code[used]]
    bins = hour_bin_locations(start_s[used], end_s[used], loc_dense.astype(np.int64), base_row, n_rows)

    home_before, home_after = params.window_extent(params.window_home_days)
    n_loc = int(loc_values.size)
    home_code = _window_labels(
        bins, row_user, user_row_start, np.ones(n_rows, dtype=bool), params.home_hours, params.C_hours,
        home_before, home_after, params.C_days_H, params.f_hours_H, 0.0, False, excluded=None, n_loc=n_loc,
    )
    weekday = (row_day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    home_pairs = np.unique(row_user[home_code >= 0] * n_loc + home_code[home_code >= 0])  # user * n_loc + loc
    work_before, work_after = params.window_extent(params.window_work_days)
    work_code = _window_labels(
        bins, row_user, user_row_start, np.isin(weekday, params.work_weekdays), params.work_hours,
        params.C_hours, work_before, work_after, params.C_days_W, params.f_hours_W, params.f_days_W, True,
        excluded=home_pairs, n_loc=n_loc,
    )

    out = pd.DataFrame(
        {
            "user_id": users.take(row_user),
            "date": (row_day.astype("datetime64[D]")).astype("datetime64[ns]"),
            "home_location_id": _to_location_id(home_code, loc_values),
            "work_location_id": _to_location_id(work_code, loc_values),
        }
    )
    out.attrs["home_work_params"] = asdict(params)
    log.info(
        "home/work: %d users, %d user-days, home on %.1f%%, work on %.1f%%",
        n_users, n_rows, 100 * out["home_location_id"].notna().mean(), 100 * out["work_location_id"].notna().mean(),
    )
    return out


def _to_location_id(code: np.ndarray, loc_values: np.ndarray) -> pd.Series:
    values = np.where(code >= 0, np.asarray(loc_values)[np.maximum(code, 0)], 0)
    return pd.Series(pd.arrays.IntegerArray(values.astype(np.int64), code < 0), dtype="Int64")


def _window_labels(
    bins, row_user, user_row_start, row_eligible, hours, min_hours_share, before, after,
    min_days_share, min_hours_location_share, min_days_visited_share, rank_by_days_visited, excluded, n_loc,
) -> np.ndarray:
    """One rule (home or work): daily shares, then rolling-window labels as dense location codes.

    ``excluded``: sorted keys ``user * n_loc + location`` never to be labelled (the ever-home places).
    """
    valid, rec_row, rec_loc, rec_share = daily_location_shares(bins, hours, min_hours_share, row_eligible)
    key = row_user[rec_row].astype(np.int64) * n_loc + rec_loc
    if excluded is not None and excluded.size and key.size:
        keep = ~np.isin(key, excluded)
        rec_row, rec_share, key = rec_row[keep], rec_share[keep], key[keep]
    n_users = user_row_start.size - 1
    if rec_row.size == 0:
        return np.full(row_user.size, -1, dtype=np.int64)
    pairs, rec_code = np.unique(key, return_inverse=True)  # per-user location codes, in location order
    code_start = np.searchsorted(pairs // n_loc, np.arange(n_users + 1)).astype(np.int64)
    rec_ptr = np.searchsorted(rec_row, np.arange(row_user.size + 1)).astype(np.int64)
    code = rolling_window_labels(
        user_row_start, row_eligible, valid, rec_ptr, rec_code.reshape(-1).astype(np.int64),
        rec_share.astype(np.float64), code_start, int(before), int(after), float(min_days_share),
        float(min_hours_location_share), float(min_days_visited_share), bool(rank_by_days_visited),
    )
    return np.where(code >= 0, pairs[np.maximum(code, 0)] % n_loc, -1)
