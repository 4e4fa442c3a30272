"""Home and work over time from stops with ``location_id``: daily labels for the schedules people keep.

Implements method.md sections 2.4 and 4 with the rolling windows of HoWDe (de Sojo, Lucchini et al., arXiv
2506.20679; reference code ``LLucchini/HoWDe`` ``howde/core.py``), all users at once with the kernels of
:mod:`mobility.kernels.home_work`. Two rule sets, chosen by ``HomeWorkParams.method``:

``"schedule"`` (default): home and work whatever a person's hours and days
-----------------------------------------------------------------------------
1. Stop times are converted to local wall-clock time (IANA ``timezone`` and/or a per-stop ``utc_offset_s``)
   and split at local midnight. Each local day has 24 hourly bins; a bin has data when a stop overlaps it by
   at least one second and is given to the stop overlapping it longest (the earlier stop on a tie). An
   "hour" below is one such bin. Stops with ``location_id < 0`` (no place) are ignored.
2. **Home** on day ``d``: a day counts when at least ``home_min_data_h`` of its 24 bins have data; its share
   at a location is the bins there / the bins with data. In the window of ``window_home_days`` around ``d``
   at least ``C_days_H`` of the days must count; the home is the location with the largest mean share, if
   that share is ``>= home_min_share``. All 24 hours count: the place of the main daily rest period holds
   the rest period and most of the hours around it on every day, on working days and days off alike, so it
   leads whether the person sleeps by night or by day (night shifts, rotating shifts). Fixed night hours
   (HoWDe's 00-07) give the workplace to a night worker. A day seen in one half of the clock only
   (:data:`DAY_HALF_HOURS`, 08:00-19:59, or the rest, 20:00-07:59: fewer than ``home_min_data_h_each_half``
   hours with data in the other) cannot show where its rest period was: a night worker's phone that reports
   only at night (or a day worker's that reports only at the office) sees the workplace alone, which would
   become the home, and then never the workplace (ever-home places are never work). The halves part the rest
   periods of day workers (who sleep between 20:00 and 08:00) from those of night workers (who sleep in the
   morning and afternoon). So the rule runs twice, on every counted day and on the days seen in both halves
   (the full days), and a home of the first is refused (``unknown``) at a place the full days show but never
   as a home, for a person they give a home: the night worker's home is then unknown on the nights her phone
   alone reports, never the ward, while one-half days go on confirming a home the full days show (a sparse
   phone, a phone that fades to nights at home), and a place the full days never show keeps the home the
   usual rule gives (a person who moves while the phone reports only at night; a person seen in one half
   only). Where the person's full days show no home at all, nothing is refused.
3. **Work** on day ``d``, over all hours and all days of the week: a day counts when at least
   ``work_min_data_h`` of its bins have data. A location that is not ever the user's home is *worked* on a
   day when it holds at least ``work_min_day_h`` hours of it. In the window of ``window_work_days`` (at least
   ``C_days_W`` of the days must count), per week of counted days: ``days_per_week(L)`` = 7 x worked days at
   L / counted days and ``hours_per_week(L)`` = 7 x hours at L on its worked days / counted days. The work
   location is the location with ``days_per_week >= work_min_days_per_week`` and ``hours_per_week >=
   work_min_h_per_week`` holding most hours per week. So a part-timer (2 days), a weekend worker, a night
   worker and a worker whose site changes every few weeks (the site of the period leads its window) get a
   workplace, and a new regular workplace replaces the old one (a job change) within half a window.
4. **Work status** of each day (``work_status``): ``fixed`` (a work location), ``no_fixed_workplace`` (no
   location passes 3, but worked days at places that are never the user's home nor work come on ``>=
   gig_min_days_per_week`` days per week: gig work, day labour at changing places), ``none`` (enough data, no
   work pattern), ``unknown`` (fewer than ``C_days_W`` of the window's days have data). Nobody is dropped in
   silence.

What these rules cannot tell (measured on the default synthetic region, benchmarks/README.md): a place held
``work_min_day_h`` on ``work_min_days_per_week`` days a week is a workplace whether it is a job or a habit (a
school campus reads as a workplace); gig work in short jobs (under ``work_min_day_h`` at a place) reads as
``none``; a workplace closer to home than the stop radius is merged with the home upstream
(:func:`mobility.stops.detect_stops` ``radius_m``); a phone that reports only part of the day (only at night,
only at home) can leave counted days without work, so the work label ends with status ``none`` -- attendance
(:mod:`mobility.employment.attendance`) judges such phones in each person's own usual hours instead.

``"howde"``: HoWDe v2 as published (method.md section 2.4)
-----------------------------------------------------------
Home hours ``home_start_hour .. home_end_hour - 1`` (00:00-06:59), work hours ``work_start_hour ..
work_end_hour - 1`` (09:00-17:59) on ``work_weekdays`` (Monday-Friday). A day is valid for a rule when at least
``C_hours`` of the rule's bins have data; its share at a location is the rule's bins there / the rule's bins
with data. Home: at least ``C_days_H`` of the window's days valid, the location with the largest mean share
``>= f_hours_H``. Work: at least ``C_days_W`` of the eligible weekdays valid, never an ever-home location, a
mean share ``>= f_hours_W`` and visits on ``>= f_days_W`` of the valid weekdays; the candidate visited on
most days (then the largest share). ``work_status`` is ``fixed``, ``none`` or ``unknown``.

Choices shared by both rule sets (ours), and differences from the HoWDe reference code
----------------------------------------------------------------------------------------
* Window centred on the day, ``+- window_days // 2`` days inclusive (HoWDe's ``rangeBetween(-half, half)``);
  ``past_only_window=True`` uses days ``d - window_days .. d`` (HoWDe's ``data_for_predict``).
* Coverage share: the denominator is the calendar days (``work_weekdays`` days for HoWDe work) of the window
  inside the user's observed span, so days without any stop count as days without data. HoWDe counts only
  days with at least one stop.
* Days spent only at home are counted days without work, so after a job loss the work label fades within
  about half a window. HoWDe treats such days as missing.
* A bin goes to the longest overlap with that bin (method.md); HoWDe gives it to the longest day segment.
* Thresholds are inclusive (``>=``) with a 1e-9 tolerance; HoWDe's coverage test is strict.
* HoWDe work needs both ``f_hours_W`` and ``f_days_W`` (method.md); HoWDe falls back to ``f_hours_W`` alone.
* Locations ever labelled home for a user are never that user's work. Ties go to the smaller ``location_id``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from mobility.checks import require_columns, utc_ns
from mobility.errors import MobilityError
from mobility.kernels.home_work import (
    HOURS_PER_DAY,
    NO_LOCATION,
    SECONDS_PER_DAY,
    TOO_LITTLE_DATA,
    daily_location_shares,
    hour_bin_locations,
    rolling_window_labels,
)
from mobility.localtime import local_time

log = logging.getLogger(__name__)

METHODS = ("schedule", "howde")
WORK_STATUSES = ("fixed", "no_fixed_workplace", "none", "unknown")
"""Values of ``work_status``: a fixed workplace, work at changing places, no work pattern, too little data."""

HOME_WORK_LABELS = ("user_id", "date", "home_location_id", "work_location_id", "work_status")
"""Columns of :func:`detect_home_work`'s output (the first five of ``schema.HOME_WORK_DAILY``)."""

DAYS_PER_WEEK = 7

DAY_HALF_HOURS = np.arange(8, 20)
"""Local hours 08-19: the half of the clock a day needs data in, beside the other half (20-07), to count for
home under the schedule rules (``HomeWorkParams.home_min_data_h_each_half``)."""

METHOD_DEFAULTS = {
    "schedule": {"window_home_days": 28, "window_work_days": 28, "C_days_H": 0.2, "C_days_W": 0.3},
    "howde": {"window_home_days": 28, "window_work_days": 42, "C_days_H": 0.4, "C_days_W": 0.5},
}
"""The windows and coverage shares each method uses when they are not given (None)."""

# Allowed ranges: (low, high, integer?). HoWDe's bounds follow its config.py ``thresholds_config`` (hard
# limits against nonsense values, wider than the suggested ranges of the HoWDe README).
PARAM_RANGES = {
    "window_home_days": (1, 730, True),
    "window_work_days": (1, 730, True),
    "C_days_H": (0.0, 1.0, False),
    "C_days_W": (0.0, 1.0, False),
    "home_min_data_h": (1.0, 24.0, False),
    "home_min_data_h_each_half": (0.0, 12.0, False),
    "home_min_share": (0.2, 1.0, False),
    "work_min_data_h": (1.0, 24.0, False),
    "work_min_day_h": (1.0, 24.0, False),
    "work_min_days_per_week": (0.5, 7.0, False),
    "work_min_h_per_week": (1.0, 168.0, False),
    "gig_min_days_per_week": (0.5, 7.0, False),
    "C_hours": (0.1, 1.0, False),
    "f_hours_H": (0.3, 1.0, False),
    "f_hours_W": (0.1, 1.0, False),
    "f_days_W": (0.1, 1.0, False),
    "home_start_hour": (0, 23, True),
    "home_end_hour": (1, 24, True),
    "work_start_hour": (0, 23, True),
    "work_end_hour": (1, 24, True),
}


@dataclass(frozen=True)
class HomeWorkParams:
    """Parameters of home/work detection, range-checked on construction (rules in the module docstring).

    Attributes
    ----------
    method : {"schedule", "howde"}
        The rule set: ``"schedule"`` (any hours, any days of the week; default) or ``"howde"`` (HoWDe v2).
    window_home_days, window_work_days : int or None
        Window lengths in days; centred windows span ``+- window // 2`` days. None: the method's default
        (:data:`METHOD_DEFAULTS`: schedule 28 and 28, HoWDe 28 and 42).
    C_days_H, C_days_W : float or None
        Minimum share of the window's days that must count (have data) for a home or a work label. None: the
        method's default (schedule 0.2 and 0.3, HoWDe 0.4 and 0.5).
    past_only_window : bool
        Use the past ``window`` days instead of a centred window (False).
    home_min_data_h : float
        Schedule rules: hours of a day with data for the day to count for home (2 h).
    home_min_data_h_each_half : float
        Schedule rules: hours with data a day needs in each half of the clock, 08:00-19:59 and 20:00-07:59, to
        be one of the days seen in both halves; a home the rule gives is refused at a place those days show but
        never as a home, where they give the person one (1 h; 0 turns the test off): a phone that reports only
        at night, or only by day, does not show the rest period of a person who works in the other half.
    home_min_share : float
        Schedule rules: minimum mean share of a counted day's data hours at the home (0.5).
    work_min_data_h : float
        Schedule rules: hours of a day with data for the day to count for work (4 h).
    work_min_day_h : float
        Schedule rules: hours at a place for a day to be a worked day there (2 h).
    work_min_days_per_week, work_min_h_per_week : float
        Schedule rules: the worked days (1.25) and hours (4 h) per week of counted days a workplace needs.
    gig_min_days_per_week : float
        Schedule rules: worked days per week at places never home nor work for ``no_fixed_workplace`` (2.5).

    The schedule defaults were chosen on the default synthetic region, seed 20200316 (benchmarks/README.md,
    "Home and work"): per kind of person, the share of commuting days with a work label against the share of
    days of people without a job, or after a job loss, given one. Seed 2 is the out-of-sample check.
    C_hours : float
        HoWDe: minimum share of a rule's hourly bins with data for a day to count (0.4).
    f_hours_H, f_hours_W : float
        HoWDe: minimum mean share of home-hour bins at the home (0.7), of work-hour bins at work (0.4).
    f_days_W : float
        HoWDe: minimum share of valid weekdays in the window the work location is visited (0.6).
    home_start_hour, home_end_hour : int
        HoWDe: home hours ``[start, end)`` in local time (0, 7); ``start > end`` wraps within the calendar day
        (e.g. 22, 7 -> 22:00-23:59 and 00:00-06:59 of the same date, as HoWDe's ``end_hour_day``).
    work_start_hour, work_end_hour : int
        HoWDe: work hours ``[start, end)`` in local time (9, 18).
    work_weekdays : tuple of int
        HoWDe: days of the week eligible for work (Monday = 0; default Monday-Friday).

    Examples
    --------
    >>> HomeWorkParams().window_work_days, HomeWorkParams(method="howde").window_work_days
    (28, 42)
    >>> HomeWorkParams(method="howde").f_hours_H
    0.7
    >>> HomeWorkParams(home_min_share=1.5)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: home/work parameter home_min_share=1.5 is outside its allowed range [0.2, 1.0]; choose a value in that range (method.md section 2.4)
    """

    method: str = "schedule"
    window_home_days: int | None = None
    window_work_days: int | None = None
    C_days_H: float | None = None
    C_days_W: float | None = None
    past_only_window: bool = False
    home_min_data_h: float = 2.0
    home_min_data_h_each_half: float = 1.0
    home_min_share: float = 0.5
    work_min_data_h: float = 4.0
    work_min_day_h: float = 2.0
    work_min_days_per_week: float = 1.25
    work_min_h_per_week: float = 4.0
    gig_min_days_per_week: float = 2.5
    C_hours: float = 0.4
    f_hours_H: float = 0.7
    f_hours_W: float = 0.4
    f_days_W: float = 0.6
    home_start_hour: int = 0
    home_end_hour: int = 7
    work_start_hour: int = 9
    work_end_hour: int = 18
    work_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise MobilityError(f"home/work parameter method={self.method!r} must be one of {METHODS}")
        for name, value in METHOD_DEFAULTS[self.method].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        for name, (lo, hi, is_int) in PARAM_RANGES.items():
            value = getattr(self, name)
            ok_type = isinstance(value, (int, np.integer)) if is_int else isinstance(
                value, (int, float, np.integer, np.floating)
            )
            if isinstance(value, (bool, np.bool_)) or not ok_type or not np.isfinite(value):
                kind = "an integer" if is_int else "a number"
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
        days = self.work_weekdays
        if isinstance(days, (str, bytes)) or not hasattr(days, "__iter__"):
            days = (days,)
        days = tuple(days)
        if not days or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in days) or any(
            not 0 <= d <= 6 for d in days
        ) or len(set(days)) != len(days):
            raise MobilityError(
                f"work_weekdays={self.work_weekdays!r} must be distinct days of the week 0..6 (Monday = 0), "
                "e.g. (0, 1, 2, 3, 4)"
            )
        object.__setattr__(self, "work_weekdays", tuple(int(d) for d in days))  # a TOML list becomes a tuple
        if not isinstance(self.past_only_window, bool):
            raise MobilityError(f"past_only_window={self.past_only_window!r} must be True or False")

    @property
    def home_hours(self) -> np.ndarray:
        """Local hours of the day used by the home rule (all 24 for the schedule rules).

        Examples
        --------
        >>> HomeWorkParams(method="howde").home_hours.tolist()
        [0, 1, 2, 3, 4, 5, 6]
        >>> HomeWorkParams(method="howde", home_start_hour=22, home_end_hour=2).home_hours.tolist()
        [0, 1, 22, 23]
        >>> HomeWorkParams().home_hours.size
        24
        """
        if self.method == "schedule":
            return np.arange(HOURS_PER_DAY)
        if self.home_start_hour < self.home_end_hour:
            return np.arange(self.home_start_hour, self.home_end_hour)
        return np.concatenate([np.arange(0, self.home_end_hour), np.arange(self.home_start_hour, 24)])

    @property
    def work_hours(self) -> np.ndarray:
        """Local hours of the day used by the work rule (all 24 for the schedule rules).

        Examples
        --------
        >>> HomeWorkParams(method="howde").work_hours.tolist()
        [9, 10, 11, 12, 13, 14, 15, 16, 17]
        """
        if self.method == "schedule":
            return np.arange(HOURS_PER_DAY)
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


@dataclass(frozen=True)
class HourlyLocations:
    """Each user's local days as rows of 24 hourly bins, each bin the location of its longest stop.

    Attributes
    ----------
    users : pandas.Index
        The user ids, sorted; user ``u`` owns rows ``user_row_start[u]:user_row_start[u + 1]``, one per local
        calendar day from the user's first to last day with a stop.
    row_user, row_day : int64 arrays (n_rows,)
        User index and local day (days since 1970-01-01) of each row.
    user_row_start : int64 array (n_users + 1,)
    bins : int64 array (n_rows, 24)
        Dense location code of each local hour (``-1``: no stop with a location overlaps it).
    location_ids : int64 array
        The ``location_id`` of each dense code.
    """

    users: pd.Index
    row_user: np.ndarray
    row_day: np.ndarray
    user_row_start: np.ndarray
    bins: np.ndarray
    location_ids: np.ndarray

    @property
    def weekday(self) -> np.ndarray:
        """Day of the week of each row (Monday = 0)."""
        return (self.row_day + 3) % 7  # 1970-01-01 was a Thursday

    def codes_of(self, location_id: np.ndarray) -> np.ndarray:
        """Dense codes of ``location_id`` values (``-1`` for missing or unknown ids).

        Examples
        --------
        >>> h = HourlyLocations(pd.Index(["u"]), np.zeros(1, np.int64), np.zeros(1, np.int64),
        ...                     np.array([0, 1]), np.full((1, 24), -1), np.array([4, 9]))
        >>> h.codes_of(np.array([9, 5, -1])).tolist()
        [1, -1, -1]
        """
        ids = np.asarray(location_id, dtype=np.int64)
        pos = np.searchsorted(self.location_ids, ids).clip(0, max(self.location_ids.size - 1, 0))
        found = (self.location_ids.size > 0) & (ids >= 0)
        found &= self.location_ids[pos] == ids if self.location_ids.size else False
        return np.where(found, pos, -1)


def _local_wall_seconds(ts_utc: pd.Series, utc_offset_s: pd.Series | None, timezone: str | None) -> np.ndarray:
    """Local wall-clock seconds since 1970-01-01 (per-stop offset first, then the zone, else UTC)."""
    local = local_time(ts_utc, utc_offset_s=utc_offset_s, timezone=timezone)
    return local.to_numpy().astype("datetime64[s]").astype(np.int64)


def _validate_stops(stops: pd.DataFrame, source: str) -> None:
    require_columns(stops, ("user_id", "start", "end", "location_id"), source,
                    "it needs user_id, start, end and location_id (run mobility.locations.assign_locations on "
                    "the stops first)")
    start, end = (utc_ns(stops[col], source, col) for col in ("start", "end"))
    if stops["user_id"].isna().any():
        row = int(np.flatnonzero(stops["user_id"].isna().to_numpy())[0])
        raise MobilityError(f"{source} row {row}: user_id is missing; drop or fix that stop")
    loc = stops["location_id"]
    if not pd.api.types.is_integer_dtype(loc.dtype) or loc.isna().any():
        raise MobilityError(
            f"{source}: column 'location_id' must be integers without missing values (got {loc.dtype}); "
            "use -1 for stops not assigned to a location"
        )
    bad = end < start
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise MobilityError(f"{source} row {row}: end is before start; fix or drop that stop")


def hourly_locations(stops: pd.DataFrame, *, timezone: str | None, source: str = "stops") -> HourlyLocations:
    """The hourly bins of every user's local days (rule 1 of the module docstring).

    Parameters
    ----------
    stops : DataFrame
        ``user_id, start, end`` (tz-aware), ``location_id`` (int, ``-1`` = no place), optional
        ``utc_offset_s``; any row order, not empty.
    timezone : str or None
        IANA zone for stops without ``utc_offset_s`` (UTC when None).
    source : str
        The table's name in error messages.

    Examples
    --------
    >>> t = pd.Timestamp("2020-03-02", tz="UTC")
    >>> stops = pd.DataFrame({"user_id": ["u", "u"], "start": [t, t + pd.Timedelta(hours=9)],
    ...                       "end": [t + pd.Timedelta(hours=8), t + pd.Timedelta(hours=17)],
    ...                       "location_id": [7, 3]})
    >>> h = hourly_locations(stops, timezone="UTC")
    >>> h.location_ids[h.bins[0]].tolist()[7:10], int(h.bins[0, 20])
    ([7, 7, 3], -1)
    """
    _validate_stops(stops, source)
    if len(stops) == 0:
        raise MobilityError(f"{source}: the table is empty; there are no days to label")
    return _hourly_locations(stops, timezone)


def _hourly_locations(stops: pd.DataFrame, timezone: str | None) -> HourlyLocations:
    user_code, users = pd.factorize(stops["user_id"], sort=True)
    offsets = stops["utc_offset_s"] if "utc_offset_s" in stops.columns else None
    start_s = _local_wall_seconds(stops["start"], offsets, timezone)
    end_s = _local_wall_seconds(stops["end"], offsets, timezone)
    location = stops["location_id"].to_numpy(dtype=np.int64)
    d_user, d_start = np.diff(user_code), np.diff(start_s)
    if not ((d_user > 0) | ((d_user == 0) & (d_start >= 0))).all():  # the stops contract says sorted; be safe
        order = np.lexsort((start_s, user_code))
        user_code, start_s, end_s, location = user_code[order], start_s[order], end_s[order], location[order]

    n_users = users.size
    user_first = np.searchsorted(user_code, np.arange(n_users))  # sorted by user, then start
    first_day = start_s[user_first] // SECONDS_PER_DAY
    last_day = np.maximum.reduceat(np.maximum(end_s - 1, start_s), user_first) // SECONDS_PER_DAY
    n_days = last_day - first_day + 1
    user_row_start = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(n_days, out=user_row_start[1:])
    n_rows = int(user_row_start[-1])
    row_user = np.repeat(np.arange(n_users), n_days)
    row_day = np.arange(n_rows, dtype=np.int64) - user_row_start[row_user] + first_day[row_user]

    used = location >= 0
    loc_dense, loc_values = pd.factorize(location[used], sort=True)
    base_row = user_row_start[user_code[used]] - first_day[user_code[used]]
    bins = hour_bin_locations(start_s[used], end_s[used], loc_dense.astype(np.int64), base_row, n_rows)
    return HourlyLocations(users, row_user, row_day, user_row_start, bins, np.asarray(loc_values, np.int64))


def detect_home_work(stops: pd.DataFrame, *, timezone: str | None, params: HomeWorkParams | None = None,
                     **overrides) -> pd.DataFrame:
    """Daily home and work location and work status of every user (rules in the module docstring).

    Parameters
    ----------
    stops : DataFrame
        The ``stops`` table of :mod:`mobility.schema` (``user_id, start, end, location_id`` are used; ``end``
        is the last ping inside the stop), optionally with ``utc_offset_s`` (seconds east of UTC, per stop;
        used where present, ``timezone`` elsewhere). Any row order.
    timezone : str or None
        IANA zone of the region (e.g. ``"America/New_York"``, daylight saving aware) for stops without a
        ``utc_offset_s``; ``None`` means UTC there (see :func:`mobility.localtime.local_time`).
    params : HomeWorkParams, optional
        Every threshold (defaults: :class:`HomeWorkParams`).
    **overrides
        Fields of :class:`HomeWorkParams` to set, e.g. ``method="howde"`` or ``window_home_days=14`` (on top
        of ``params`` when given, whose windows are already resolved for its method).

    Returns
    -------
    DataFrame
        ``user_id``, ``date`` (datetime64[ns], naive local calendar day), ``home_location_id``,
        ``work_location_id`` (Int64, NA when not detected), ``work_status`` (string, one of
        :data:`WORK_STATUSES`): one row per user per local day from the user's first to last day with a
        stop, sorted by user and date. The parameters are in ``attrs["home_work_params"]``.

    Examples
    --------
    A night nurse: at work 22:00-06:00 five nights a week, at home 07:00-21:00 every day.

    >>> import pandas as pd
    >>> days = pd.date_range("2020-03-01", periods=14, freq="D", tz="UTC")   # Sunday ..
    >>> home = pd.DataFrame({"user_id": "u", "start": days + pd.Timedelta(hours=7),
    ...                      "end": days + pd.Timedelta(hours=21), "location_id": 0})
    >>> shifts = days[days.day_of_week.isin([6, 0, 1, 2, 3])]                  # Sunday .. Thursday nights
    >>> ward = pd.DataFrame({"user_id": "u", "start": shifts + pd.Timedelta(hours=22),
    ...                      "end": shifts + pd.Timedelta(hours=30), "location_id": 1})
    >>> labels = detect_home_work(pd.concat([home, ward]), timezone="UTC")
    >>> labels[["home_location_id", "work_location_id", "work_status"]].drop_duplicates().values.tolist()
    [[0, 1, 'fixed']]
    >>> int(detect_home_work(pd.concat([home, ward]), timezone="UTC", method="howde")["home_location_id"].iloc[3])
    1
    """
    try:
        params = HomeWorkParams(**overrides) if params is None else dataclasses.replace(params, **overrides)
    except TypeError as exc:
        known = sorted(f.name for f in dataclasses.fields(HomeWorkParams))
        raise MobilityError(f"detect_home_work: unknown parameter ({exc}); the parameters are {known}") from exc
    _validate_stops(stops, "stops")
    if len(stops) == 0:
        dtypes = (stops["user_id"].dtype, "datetime64[ns]", "Int64", "Int64", "string")
        out = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in zip(HOME_WORK_LABELS, dtypes)})
        out.attrs["home_work_params"] = asdict(params)
        return out
    if (stops["location_id"] < 0).all():
        raise MobilityError(
            "stops: every location_id is -1; assign stops to locations first "
            "(mobility.locations.assign_locations) before home/work detection"
        )
    hours = _hourly_locations(stops, timezone)
    n_loc = max(int(hours.location_ids.size), 1)
    n_rows = hours.row_user.size
    if params.method == "howde":
        home_code, work_code, work_status = _howde_rules(hours, params, n_loc)
    else:
        home_code, work_code, work_status = _schedule_rules(hours, params, n_loc)

    out = pd.DataFrame(
        {
            "user_id": hours.users.take(hours.row_user),
            "date": (hours.row_day.astype("datetime64[D]")).astype("datetime64[ns]"),
            "home_location_id": _to_location_id(home_code, hours.location_ids),
            "work_location_id": _to_location_id(work_code, hours.location_ids),
            "work_status": pd.array(np.asarray(WORK_STATUSES, dtype=object)[work_status], dtype="string"),
        }
    )
    out.attrs["home_work_params"] = asdict(params)
    log.info(
        "home/work (%s): %d users, %d user-days, home on %.1f%%, work on %.1f%%", params.method,
        hours.users.size, n_rows, 100 * out["home_location_id"].notna().mean(),
        100 * out["work_location_id"].notna().mean(),
    )
    return out


def _home_rule(hours: HourlyLocations, params: HomeWorkParams, shares: tuple, min_share: float,
               n_loc: int) -> tuple[np.ndarray, np.ndarray]:
    """Home codes per row and the sorted ``user * n_loc + code`` keys of every user's ever-home places.

    ``shares``: the home rule's daily shares (:func:`daily_location_shares` over its hours, every day)."""
    before, after = params.window_extent(params.window_home_days)
    eligible = np.ones(hours.row_user.size, dtype=bool)
    home = _window_labels(hours, eligible, *shares, before, after, params.C_days_H, min_share, 0.0, False, None,
                          n_loc)
    found = home >= 0
    return home, np.unique(hours.row_user[found] * n_loc + home[found])


def _howde_rules(hours: HourlyLocations, params: HomeWorkParams, n_loc: int):
    every_day = np.ones(hours.row_user.size, dtype=bool)
    shares = daily_location_shares(hours.bins, params.home_hours, params.C_hours, every_day)
    home, ever_home = _home_rule(hours, params, shares, params.f_hours_H, n_loc)
    eligible = np.isin(hours.weekday, params.work_weekdays)
    valid, rec_row, rec_loc, rec_share = daily_location_shares(hours.bins, params.work_hours, params.C_hours,
                                                               eligible)
    before, after = params.window_extent(params.window_work_days)
    work = _window_labels(hours, eligible, valid, rec_row, rec_loc, rec_share, before, after, params.C_days_W,
                          params.f_hours_W, params.f_days_W, True, ever_home, n_loc)
    status = np.where(work >= 0, 0, np.where(work == TOO_LITTLE_DATA, 3, 2))
    return home, work, status


def _schedule_rules(hours: HourlyLocations, params: HomeWorkParams, n_loc: int):
    # both rules use all 24 hours: one pass of daily shares, each rule keeps the days it counts
    eligible = np.ones(hours.row_user.size, dtype=bool)
    min_data_h = min(params.home_min_data_h, params.work_min_data_h)
    valid, rec_row, rec_loc, rec_share = daily_location_shares(hours.bins, np.arange(HOURS_PER_DAY),
                                                               min_data_h / HOURS_PER_DAY, eligible)
    data_h = (hours.bins >= 0).sum(axis=1)
    counted = {rule: valid & (data_h >= min_h - 1e-9)
               for rule, min_h in (("home", params.home_min_data_h), ("work", params.work_min_data_h))}
    day_half_h = (hours.bins[:, DAY_HALF_HOURS] >= 0).sum(axis=1)
    both_halves = np.minimum(day_half_h, data_h - day_half_h) >= params.home_min_data_h_each_half - 1e-9
    # homes from every counted day, refused at places the full days (data in both halves of the clock) show,
    # never as home, to a person they give a home (rule 2 of the module notes)
    def home_on(days):
        keep = days[rec_row]
        return _home_rule(hours, params, (days, rec_row[keep], rec_loc[keep], rec_share[keep]),
                          params.home_min_share, n_loc)[0]

    home = home_on(counted["home"])
    if not both_halves.all():  # else the second run is the first
        full = counted["home"] & both_halves
        strict = home_on(full)
        rest = np.unique(hours.row_user[strict >= 0] * n_loc + strict[strict >= 0])
        # places the full days show, never as home, to a person they give a home: the ward, not a new home
        shown = np.unique(hours.row_user[rec_row[full[rec_row]]] * n_loc + rec_loc[full[rec_row]])
        other = np.setdiff1d(shown[np.isin(shown // n_loc, rest // n_loc)], rest)
        found = np.flatnonzero(home >= 0)
        home[found[np.isin(hours.row_user[found] * n_loc + home[found], other)]] = NO_LOCATION
    ever_home = np.unique(hours.row_user[home >= 0] * n_loc + home[home >= 0])
    valid = counted["work"]
    # hours at each place on each counted day; keep worked days (>= work_min_day_h) at never-home places
    rec_h = np.rint(rec_share * data_h[rec_row])
    keep = valid[rec_row] & (rec_h >= params.work_min_day_h - 1e-9)
    keep &= ~np.isin(hours.row_user[rec_row] * n_loc + rec_loc, ever_home)
    rec_row, rec_loc, rec_h = rec_row[keep], rec_loc[keep], rec_h[keep]
    before, after = params.window_extent(params.window_work_days)
    per_week = DAYS_PER_WEEK * HOURS_PER_DAY
    work = _window_labels(hours, eligible, valid, rec_row, rec_loc, rec_h / HOURS_PER_DAY, before, after,
                          params.C_days_W, params.work_min_h_per_week / per_week,
                          params.work_min_days_per_week / DAYS_PER_WEEK, False, None, n_loc)
    # worked days at places never home nor work: one pseudo-place per user (code 0)
    found = work >= 0
    ever_work = np.unique(hours.row_user[found] * n_loc + work[found])
    any_row = np.unique(rec_row[~np.isin(hours.row_user[rec_row] * n_loc + rec_loc, ever_work)])
    any_work = _window_labels(hours, eligible, valid, any_row, np.zeros(any_row.size, np.int64),
                              np.ones(any_row.size), before, after, params.C_days_W, 0.0,
                              params.gig_min_days_per_week / DAYS_PER_WEEK, False, None, 1)
    status = np.where(work >= 0, 0, np.where(work == TOO_LITTLE_DATA, 3, np.where(any_work >= 0, 1, 2)))
    return home, work, status


def _to_location_id(code: np.ndarray, loc_values: np.ndarray) -> pd.Series:
    values = np.where(code >= 0, np.asarray(loc_values)[np.maximum(code, 0)], 0) if loc_values.size else code * 0
    return pd.Series(pd.arrays.IntegerArray(values.astype(np.int64), code < 0), dtype="Int64")


def _window_labels(hours, row_eligible, valid, rec_row, rec_loc, rec_share, before, after, min_days_share,
                   min_hours_location_share, min_days_visited_share, rank_by_days_visited, excluded, n_loc):
    """Rolling-window labels of one rule as dense location codes (``-1`` none, ``-2`` too little data).

    ``excluded``: sorted keys ``user * n_loc + location`` never to be labelled (the ever-home places).
    """
    key = hours.row_user[rec_row].astype(np.int64) * n_loc + rec_loc
    if excluded is not None and excluded.size and key.size:
        keep = ~np.isin(key, excluded)
        rec_row, rec_share, key = rec_row[keep], rec_share[keep], key[keep]
    n_users = hours.user_row_start.size - 1
    pairs, rec_code = np.unique(key, return_inverse=True)  # per-user location codes, in location order
    code_start = np.searchsorted(pairs // n_loc, np.arange(n_users + 1)).astype(np.int64)
    rec_ptr = np.searchsorted(rec_row, np.arange(hours.row_user.size + 1)).astype(np.int64)
    code = rolling_window_labels(
        hours.user_row_start, row_eligible, valid, rec_ptr, rec_code.reshape(-1).astype(np.int64),
        np.asarray(rec_share, np.float64), code_start, int(before), int(after), float(min_days_share),
        float(min_hours_location_share), float(min_days_visited_share), bool(rank_by_days_visited),
    )
    return np.where(code >= 0, pairs[np.maximum(code, 0)] % n_loc, code) if pairs.size else code
