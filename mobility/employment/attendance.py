"""Attendance at each worker's own workplace, week by week: ``r_u(t)`` and ``rt_u(t)`` (method.md 2.7 and 4).

Attendance is measured at the work *location* (the internal ``location_id`` of the visits), never at its CBG,
so a job in the home block group stays visible. Four frames, one after the other:

* :func:`baseline_workplace` -- each user's baseline workplace (modal work location over the baseline days);
  users without one have no baseline job. :func:`baseline_work_cbg` is its CBG, W_u, for census features.
* :func:`weekly_attendance` -- from visits and daily labels, per user and local week: the usual work days
  observed, those spent at the workplace, and the usual work hours observed and spent there.
* :func:`relative_attendance` -- the dense user x week panel with ``attendance`` = r_u(t) and ``work_time`` =
  rt_u(t), each the week's raw share over the user's baseline mean.

The rules (ours, method.md section 4)
-------------------------------------
1. **Reference workplace, per day.** The day's work label (``work_location_id`` of ``home_work_daily``),
   carried forward over later days without one. A new regular workplace is a new reference (a job change, not
   a loss); after a job loss the last workplace stays the reference, and the person is seen not going there.
2. **The person's usual work schedule.** Over the baseline days with a reference, for each day of the week
   and local hour: the share of the days with data in that hour that the person spent it at the reference.
   This 7 x 24 profile ``P`` weighs every hour by how usually it is worked (day, night, weekend, part-time
   alike). People without a baseline workplace get ``work_start_h .. work_end_h`` on Monday-Friday.
3. **A day**: its usual work hours ``E`` = sum of ``P`` over the day's hours; its observed usual hours ``O`` =
   sum of ``P`` over the hours with any stop. The day is *observed* when the phone is seen at the workplace
   that day, or when ``E > 0`` and ``O >= max(min(min_day_observed_h, E), min_day_observed_share x E)``;
   *at work* when some hour of the day (any hour) is spent at the reference. Its weight is ``E`` over the
   largest ``E`` of the person's week days, so a Monday-Friday 9-to-5 worker's days weigh 1 and a rare
   Saturday shift little.
4. **A week**: ``workdays_observed`` = sum of the weights of observed days, ``workdays_at_work`` = of observed
   days at work, ``usual_workdays`` = of the seven days of the week. It is *covered* when ``workdays_observed
   >= min(min_weekdays_with_data, max(1, usual_workdays / 2), usual_workdays)``: a part-timer's week with one
   of two usual days seen counts. A phone that only reports at night, or only at home, is
   not seen in a day worker's usual hours: its weeks are uncovered (``unknown`` downstream), never read as
   absence from work. ``workhour_observed_h`` = sum of ``O``, ``workhour_at_work_h`` = sum of ``P`` over the
   hours at the reference.

Schemas
-------
baseline_workplace
    ``user_id`` (str), ``work_location_id`` (int64): users with a work label on at least one baseline day.
baseline_work
    ``user_id`` (str), ``work_cbg`` (str, 12 digits): users with a work CBG on at least one baseline day.
weekly_attendance
    ``user_id``, ``week`` (datetime64[ns], naive local Monday), ``usual_workdays``, ``workdays_observed``,
    ``workdays_at_work`` (float64, days weighted as in rule 3), ``workhour_observed_h``,
    ``workhour_at_work_h`` (float64, usual work hours), ``work_status`` (string: the week's most frequent
    daily ``work_status``, ties in the order of :data:`mobility.home_work.WORK_STATUSES`; ``unknown`` for
    days without a label). One row per user and week from the user's first to last day with a visit.
attendance_panel
    ``user_id``, ``week``, the columns above (0 and ``unknown`` for weeks outside a user's span;
    ``usual_workdays`` is the user's), ``covered`` (bool), ``attendance_raw``, ``work_time_raw`` (shares,
    NaN when not covered), ``baseline_attendance``, ``baseline_work_time`` (the user's baseline means),
    ``attendance``, ``work_time`` (relative, NaN when not covered or without a baseline job),
    ``baseline_job`` (bool). One row per user and week from the first to the last week of the input,
    sorted by ``user_id`` then ``week``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.employment.params import EmploymentParams
from mobility.errors import MobilityError
from mobility.home_work import WORK_STATUSES, HourlyLocations, hourly_locations
from mobility.kernels.employment import DAY_S, workday_attendance
from mobility.obfuscate import modal_cbg

NO_VISITS = "relative_attendance: the weekly table is empty; there were no visits"
"""The error of a region (or a panel) without any visit."""
WEEK_COLUMNS = ("usual_workdays", "workdays_observed", "workdays_at_work", "workhour_observed_h",
                "workhour_at_work_h")
DAYS_PER_WEEK = 7
HOURS_PER_DAY = 24


def _baseline_days(labels: pd.DataFrame, column: str, params: EmploymentParams) -> pd.DataFrame:
    require_columns(labels, ["user_id", "date", column], "labels", "pass the home_work_daily table (obfuscate_to_cbg)")
    start, end = params.baseline
    date = pd.to_datetime(labels["date"])
    if isinstance(date.dtype, pd.DatetimeTZDtype):
        date = date.dt.tz_localize(None)
    keep = (date >= start) & (date <= end) & labels[column].notna()
    base = labels.loc[keep, ["user_id", column]]
    return base.assign(user_id=base["user_id"].astype(str))


def baseline_workplace(labels: pd.DataFrame, *, params: EmploymentParams | None = None) -> pd.DataFrame:
    """Each user's most frequent work location over the baseline days (ties: the smaller id).

    Users without a work label on any baseline day are absent (no baseline job).

    Examples
    --------
    >>> lab = pd.DataFrame({"user_id": ["a"] * 3 + ["b"],
    ...                     "date": pd.to_datetime(["2020-01-06", "2020-01-07", "2020-01-08", "2020-03-30"]),
    ...                     "work_location_id": pd.array([4, 2, 2, 7], dtype="Int64")})
    >>> baseline_workplace(lab).to_dict("list")
    {'user_id': ['a'], 'work_location_id': [2]}
    """
    params = params or EmploymentParams()
    base = _baseline_days(labels, "work_location_id", params)
    base = base.assign(work_location_id=base["work_location_id"].astype("int64"))
    counts = base.groupby(["user_id", "work_location_id"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(["user_id", "n", "work_location_id"], ascending=[True, False, True], kind="stable")
    out = counts.drop_duplicates("user_id")[["user_id", "work_location_id"]].reset_index(drop=True)
    out.attrs["params"] = params.to_dict()
    return out


def baseline_work_cbg(labels: pd.DataFrame, *, params: EmploymentParams | None = None) -> pd.DataFrame:
    """W_u: each user's most frequent work CBG over the baseline days of the daily labels.

    Ties go to the smallest GEOID, so the answer does not depend on row order. Users without a labelled
    work CBG on any baseline day are absent. Used for the census features of the worker (sector, groups).

    Parameters
    ----------
    labels : DataFrame
        ``home_work_daily`` (:mod:`mobility.schema`): ``user_id``, ``date`` (local day), ``work_cbg``.
    params : EmploymentParams, optional

    Examples
    --------
    >>> lab = pd.DataFrame({"user_id": ["a"] * 3 + ["b"],
    ...                     "date": pd.to_datetime(["2020-01-06", "2020-01-07", "2020-01-08", "2020-03-30"]),
    ...                     "work_cbg": ["421010001002", "421010001001", "421010001001", "421010001003"]})
    >>> baseline_work_cbg(lab).to_dict("list")
    {'user_id': ['a'], 'work_cbg': ['421010001001']}
    """
    params = params or EmploymentParams()
    out = modal_cbg(_baseline_days(labels, "work_cbg", params), "work_cbg")
    out.attrs["params"] = params.to_dict()
    return out


def _label_rows(hours: HourlyLocations, labels: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row of ``hours`` of each label (``-1`` for users or days outside the visits), and a mask of matches."""
    user = user_positions(hours.users, labels["user_id"])
    date = pd.to_datetime(labels["date"])
    if isinstance(date.dtype, pd.DatetimeTZDtype):
        date = date.dt.tz_localize(None)
    day = date.to_numpy().astype("datetime64[D]").astype(np.int64)
    ok = user >= 0
    u = np.where(ok, user, 0)
    first = hours.row_day[hours.user_row_start[:-1]][u]
    n_days = np.diff(hours.user_row_start)[u]
    ok &= (day >= first) & (day < first + n_days)
    return np.where(ok, hours.user_row_start[u] + day - first, -1), ok


def user_positions(users: pd.Index, ids: pd.Series) -> np.ndarray:
    """Position of each of ``ids`` in ``users`` (``-1`` where absent, and for a missing id), as
    ``users.get_indexer(ids.astype(users.dtype))`` gives it, looking up each distinct id once.

    Examples
    --------
    >>> user_positions(pd.Index(["a", "b"]), pd.Series(["b", "b", "c", None, "a"])).tolist()
    [1, 1, -1, -1, 0]
    """
    code, names = pd.factorize(ids)
    found = users.get_indexer(pd.Index(names).astype(users.dtype)) if len(names) else np.zeros(0, dtype=np.intp)
    return np.where(code >= 0, found[np.maximum(code, 0)] if len(found) else -1, -1)


def _label_codes(hours: HourlyLocations, labels: pd.DataFrame, column: str,
                 rows: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Rule 1: the code of each row's location in ``labels[column]``, carried forward (``-1`` before the first).
    ``rows``: :func:`_label_rows` of the same ``hours`` and ``labels``, when already known."""
    label_row, ok = _label_rows(hours, labels) if rows is None else rows
    value = labels[column].to_numpy(dtype="float64", na_value=np.nan)
    code = np.full(hours.row_user.size, -1, dtype=np.int64)
    has = ok & np.isfinite(value)
    code[label_row[has]] = hours.codes_of(value[has].astype(np.int64))
    return _carry_forward(code, hours)


def _carry_forward(code: np.ndarray, hours: HourlyLocations) -> np.ndarray:
    """Each row's code, or the user's last earlier code ``>= 0`` (``-1`` before the first)."""
    idx = np.where(code >= 0, np.arange(code.size), -1)
    last = np.maximum.accumulate(idx) if idx.size else idx
    last = np.where(last >= hours.user_row_start[hours.row_user], last, -1)
    return np.where(last >= 0, code[np.maximum(last, 0)], -1)


def _default_profile(params: EmploymentParams) -> np.ndarray:
    """7 x 24 weights: 1 for the hours of ``work_start_h .. work_end_h`` on Monday-Friday (fractions at the ends)."""
    h = np.arange(HOURS_PER_DAY, dtype=np.float64)
    day = np.clip(np.minimum(h + 1, params.work_end_h) - np.maximum(h, params.work_start_h), 0.0, 1.0)
    return np.vstack([day] * 5 + [np.zeros(HOURS_PER_DAY)] * 2)


def _work_profiles(hours: HourlyLocations, reference: np.ndarray, params: EmploymentParams) -> np.ndarray:
    """Rule 2: (n_users, 7, 24) share of the baseline days with data in an hour spent at the reference."""
    n_users = hours.users.size
    start, end = (np.datetime64(t.date(), "D").astype(np.int64) for t in params.baseline)
    base = (hours.row_day >= start) & (hours.row_day <= end) & (reference >= 0)
    rows = np.flatnonzero(base)
    group = hours.row_user[rows] * DAYS_PER_WEEK + hours.weekday[rows]
    cell = group[:, None] * HOURS_PER_DAY + np.arange(HOURS_PER_DAY)  # counts of days: whole numbers, exact
    size = n_users * DAYS_PER_WEEK * HOURS_PER_DAY
    seen = np.bincount(cell[hours.bins[rows] >= 0], minlength=size).astype(np.float64)
    at = np.bincount(cell[hours.bins[rows] == reference[rows, None]], minlength=size).astype(np.float64)
    seen, at = seen.reshape(-1, HOURS_PER_DAY), at.reshape(-1, HOURS_PER_DAY)
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = np.where(seen > 0, at / seen, 0.0).reshape(n_users, DAYS_PER_WEEK, HOURS_PER_DAY)
    none = profile.sum(axis=(1, 2)) == 0
    profile[none] = _default_profile(params)
    return profile


def weekly_attendance(visits: pd.DataFrame, labels: pd.DataFrame, *, timezone: str | None = None,
                      params: EmploymentParams | None = None, days: WorkDays | None = None) -> pd.DataFrame:
    """Usual work days and hours observed and spent at the workplace, per user and local week (rules 1-4).

    Parameters
    ----------
    visits : DataFrame
        Stops with their place: ``user_id``, ``start``, ``end`` (tz-aware), ``location_id`` (``-1``: no
        place), optional ``utc_offset_s`` (the ``visits`` table of the pipeline).
    labels : DataFrame
        ``home_work_daily`` of the same visits: ``user_id``, ``date``, ``work_location_id``, ``work_status``.
    timezone : str, optional
        IANA zone of the local days and hours (UTC when None).
    params : EmploymentParams, optional
        ``baseline_start/end``, ``work_start_h/work_end_h`` (default schedule), ``min_day_observed_h``,
        ``min_day_observed_share``.
    days : WorkDays, optional
        :func:`work_days` of the same visits, labels and parameters, when already computed (``visits``,
        ``labels``, ``timezone`` and ``params`` are then not read).

    Returns
    -------
    DataFrame with the ``weekly_attendance`` schema of the module notes.

    Examples
    --------
    A night nurse works at the ward (location 1) 22:00-06:00 from Sunday 5 to Thursday 9 January and is at
    home (0) 07:00-21:00 every day; from 13 January her phone reports only at home. Baseline: the week of 6
    January. Her usual hours are 00-06 and 22-24 Monday-Thursday (8 h) and 00-06 on Friday (6 h): 4 + 6/8 =
    4.75 usual work days a week, all observed and at work in the baseline week; afterwards the phone is never
    seen in her usual hours, so nothing is observed (not "absent from work").

    >>> night = pd.date_range("2020-01-05 22:00", periods=5, freq="D", tz="UTC")
    >>> ward = pd.DataFrame({"user_id": "n", "start": night, "end": night + pd.Timedelta(hours=8),
    ...                      "location_id": 1})
    >>> day = pd.date_range("2020-01-05 07:00", periods=14, freq="D", tz="UTC")
    >>> home = pd.DataFrame({"user_id": "n", "start": day, "end": day + pd.Timedelta(hours=14), "location_id": 0})
    >>> visits = pd.concat([ward, home]).sort_values("start")
    >>> labels = pd.DataFrame({"user_id": "n", "date": pd.date_range("2020-01-05", periods=15),
    ...                        "work_location_id": pd.array([1] * 15, dtype="Int64"), "work_status": "fixed"})
    >>> w = weekly_attendance(visits, labels, params=EmploymentParams(baseline_start="2020-01-06",
    ...                                                               baseline_end="2020-01-12"))
    >>> w["week"].dt.strftime("%m-%d").tolist()
    ['12-30', '01-06', '01-13']
    >>> w[["usual_workdays", "workdays_observed", "workdays_at_work"]].values.tolist()
    [[4.75, 0.0, 0.0], [4.75, 4.75, 4.75], [4.75, 0.0, 0.0]]
    """
    days = work_days(visits, labels, timezone=timezone, params=params) if days is None else days
    params = days.params
    hours = days.hours
    n_users = hours.users.size
    sums = {
        "workdays_observed": days.weight * days.observed,
        "workdays_at_work": days.weight * (days.observed & days.at_work),
        "workhour_observed_h": days.observed_h,
        "workhour_at_work_h": days.at_work_h,
    }
    out_user = np.repeat(np.arange(n_users), days.n_weeks)
    out = pd.DataFrame({"user_id": hours.users.astype(str).take(out_user), "week": days.week_monday(),
                        "usual_workdays": days.usual[out_user]})
    n_out = len(out)
    for name, values in sums.items():
        out[name] = np.bincount(days.week_key, weights=values.astype(np.float64), minlength=n_out)
    counts = np.bincount(days.week_key * len(WORK_STATUSES) + days.status, minlength=n_out * len(WORK_STATUSES))
    modal = counts.reshape(n_out, len(WORK_STATUSES)).argmax(axis=1)  # ties: the first in WORK_STATUSES
    out["work_status"] = pd.array(np.asarray(WORK_STATUSES, dtype=object)[modal], dtype="string")
    out.attrs["params"] = params.to_dict()
    return out


@dataclass
class WorkDays:
    """Rules 1-3 of the module notes for every user-day (row of :attr:`hours`), shared by
    :func:`weekly_attendance` and :func:`mobility.employment.daytime.daytime_weekly`.

    Attributes
    ----------
    hours : HourlyLocations
        The hourly bins of the visits.
    reference : int64 array (n_rows,)
        Code (in ``hours``) of the day's reference workplace, ``-1`` for none.
    status : int64 array (n_rows,)
        Index in :data:`mobility.home_work.WORK_STATUSES` of the day's work status.
    profile : float64 array (n_users, 7, 24)
        Each user's usual work schedule (rule 2).
    expected, observed_h, at_work_h, weight : float64 arrays (n_rows,)
        Usual work hours of the day, those observed, those at the reference; the day's weight (rule 3).
    observed, at_work : bool arrays (n_rows,)
    usual : float64 array (n_users,)
        Usual work days a week.
    week_key : int64 array (n_rows,)
        Row of the day's (user, week) in the weekly tables; ``n_weeks`` weeks per user from the first Monday
        ``first_monday`` (days since 1970-01-01).
    """

    hours: HourlyLocations
    reference: np.ndarray
    status: np.ndarray
    profile: np.ndarray
    expected: np.ndarray
    observed_h: np.ndarray
    observed: np.ndarray
    at_work: np.ndarray
    at_work_h: np.ndarray
    weight: np.ndarray
    usual: np.ndarray
    week_key: np.ndarray
    n_weeks: np.ndarray
    first_monday: np.ndarray
    params: EmploymentParams
    labels: pd.DataFrame | None = None
    label_rows: tuple[np.ndarray, np.ndarray] | None = None

    def week_monday(self) -> np.ndarray:
        """The Monday (datetime64[ns]) of every weekly row, in ``week_key`` order."""
        user = np.repeat(np.arange(self.n_weeks.size), self.n_weeks)
        start = np.zeros(self.n_weeks.size + 1, dtype=np.int64)
        np.cumsum(self.n_weeks, out=start[1:])
        monday = self.first_monday[user] + (np.arange(int(start[-1])) - start[user]) * DAYS_PER_WEEK
        return pd.to_datetime(monday * DAY_S, unit="s").astype("datetime64[ns]").to_numpy()

    def codes(self, labels: pd.DataFrame, column: str) -> np.ndarray:
        """Code of each row's location in ``labels[column]`` (a location id per user-day), carried forward over
        later days without one (``-1`` before the first)."""
        rows = self.label_rows if labels is self.labels else None  # the labels these days were built from
        return _label_codes(self.hours, labels, column, rows)


def work_days(visits: pd.DataFrame, labels: pd.DataFrame, *, timezone: str | None = None,
              params: EmploymentParams | None = None) -> WorkDays:
    """Rules 1-3 of the module notes for every user-day of the visits (see :func:`weekly_attendance`)."""
    params = params or EmploymentParams()
    require_columns(labels, ["user_id", "date", "work_location_id", "work_status"], "labels",
                    "pass the home_work_daily table of the same visits (detect_home_work, obfuscate_to_cbg)")
    if len(labels) and labels["work_location_id"].isna().all() and labels["work_status"].eq("fixed").any():
        raise MobilityError(
            "labels: work_location_id is missing on every day but work_status says 'fixed' (a provider's CBG "
            "labels?); attendance is measured at the work location, so detect home/work on the visits "
            "(mobility.detect_home_work) or give each visit and label a location_id"
        )
    hours = hourly_locations(visits, timezone=timezone, source="visits")
    n_rows, n_users = hours.row_user.size, hours.users.size
    label_row, ok = _label_rows(hours, labels)
    status = np.full(n_rows, WORK_STATUSES.index("unknown"), dtype=np.int64)
    code, names = pd.factorize(labels["work_status"])  # each distinct status looked up once; missing: unknown
    name_code = pd.Index(WORK_STATUSES).get_indexer(pd.Index(names).astype(object))
    status_code = np.where(code >= 0, name_code[np.maximum(code, 0)] if len(names) else -1,
                           WORK_STATUSES.index("unknown"))
    if (status_code < 0).any():
        bad = labels["work_status"].to_numpy()[status_code < 0][0]
        raise MobilityError(f"labels: work_status {bad!r} is not one of {WORK_STATUSES}; pass home_work_daily")
    status[label_row[ok]] = status_code[ok]
    reference = _label_codes(hours, labels, "work_location_id", (label_row, ok))

    profile = _work_profiles(hours, reference, params)
    row_profile = profile[hours.row_user, hours.weekday]
    expected, observed_h, observed, at_work, at_work_h = workday_attendance(
        hours.bins, reference, row_profile, params.min_day_observed_h, params.min_day_observed_share)
    day_expected = profile.sum(axis=2)                                   # (n_users, 7)
    peak = day_expected.max(axis=1)
    weight = np.where(peak[hours.row_user] > 0, expected / np.maximum(peak[hours.row_user], 1e-12), 0.0)
    usual = np.where(peak > 0, day_expected.sum(axis=1) / np.maximum(peak, 1e-12), 0.0)

    monday = hours.row_day - hours.weekday
    first_monday = monday[hours.user_row_start[:-1]]
    week_of_user = (monday - first_monday[hours.row_user]) // DAYS_PER_WEEK
    n_weeks = (monday[hours.user_row_start[1:] - 1] - first_monday) // DAYS_PER_WEEK + 1
    week_start = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(n_weeks, out=week_start[1:])
    return WorkDays(hours, reference, status, profile, expected, observed_h, observed, at_work, at_work_h, weight,
                    usual, week_start[hours.row_user] + week_of_user, n_weeks, first_monday, params, labels,
                    (label_row, ok))


def relative_attendance(weekly: pd.DataFrame, baseline_work: pd.DataFrame, *,
                        params: EmploymentParams | None = None, weeks: pd.DatetimeIndex | None = None,
                        check_baseline: bool = True) -> pd.DataFrame:
    """The dense user x week panel of r_u(t) (``attendance``) and rt_u(t) (``work_time``).

    ``attendance_raw`` = workdays at work / workdays observed; ``work_time_raw`` = usual work hours at work /
    usual work hours observed (NaN when none was observed). Each over its mean across the user's covered
    baseline weeks. A user has a baseline job when listed in ``baseline_work``, at least
    ``min_baseline_weeks`` baseline weeks are covered and the baseline attendance is at least
    ``min_baseline_attendance``.

    Parameters
    ----------
    weekly : DataFrame
        From :func:`weekly_attendance`.
    baseline_work : DataFrame
        ``user_id`` of the users with a baseline workplace (:func:`baseline_workplace`).
    params : EmploymentParams, optional
    weeks : DatetimeIndex, optional
        The weeks (Mondays) of the panel; default all Mondays from the first to the last of ``weekly``.
    check_baseline : bool
        Refuse data that cover fewer than ``min_baseline_weeks`` baseline weeks (:func:`check_baseline_weeks`).
        A caller building the panel of a region one user partition at a time passes False and checks the
        region's weeks once (a small partition's weeks are not the region's).

    Examples
    --------
    Two covered baseline weeks at 4 of 5 days, then 1 of 5 days: r = 0.25.

    >>> wk = pd.to_datetime(["2020-01-06", "2020-01-13", "2020-03-23"])
    >>> weekly = pd.DataFrame({"user_id": ["a"] * 3, "week": wk, "usual_workdays": 5.0,
    ...     "workdays_observed": [5.0, 5, 5], "workdays_at_work": [4.0, 4, 1], "workhour_observed_h": [45.0] * 3,
    ...     "workhour_at_work_h": [30.0, 30, 0], "work_status": "fixed"})
    >>> p = relative_attendance(weekly, pd.DataFrame({"user_id": ["a"]}))
    >>> len(p), p["attendance"].round(2).tolist()[-1], bool(p["covered"].iloc[3])
    (12, 0.25, False)
    """
    params = params or EmploymentParams()
    require_columns(weekly, ["user_id", "week", *WEEK_COLUMNS, "work_status"], "weekly",
                    "build it with weekly_attendance")
    require_columns(baseline_work, ["user_id"], "baseline_work", "build it with baseline_workplace(labels)")
    if weeks is None:
        if len(weekly) == 0:
            raise MobilityError(NO_VISITS)
        weeks = pd.date_range(weekly["week"].min(), weekly["week"].max(), freq="7D")
    code, names = pd.factorize(weekly["user_id"].astype(str))  # each row's user looked up once per user
    users = np.union1d(np.asarray(names, dtype=object), baseline_work["user_id"].astype(str).unique())
    n_w = len(weeks)
    u_idx = np.searchsorted(users, np.asarray(names, dtype=object))[code]
    week_ns = pd.to_datetime(weekly["week"]).to_numpy().astype("datetime64[ns]")
    w_idx = np.searchsorted(weeks.values, week_ns)
    ok = w_idx < n_w
    ok[ok] &= weeks.values[w_idx[ok]] == week_ns[ok]
    cell = u_idx[ok] * n_w + w_idx[ok]
    panel = pd.DataFrame({"user_id": np.repeat(users, n_w), "week": np.tile(weeks.values, len(users))})
    for c in WEEK_COLUMNS:
        col = np.zeros(len(panel), dtype=np.float64)
        col[cell] = weekly[c].to_numpy(dtype=np.float64)[ok]
        panel[c] = col
    usual_of_user = np.zeros(len(users))
    np.maximum.at(usual_of_user, u_idx, weekly["usual_workdays"].to_numpy(dtype=np.float64))
    panel["usual_workdays"] = np.repeat(usual_of_user, n_w)
    s_code, s_names = pd.factorize(weekly["work_status"].astype("string").fillna("unknown"))
    status = np.full(len(panel), len(s_names), dtype=np.int64)  # "unknown" where the week has no row
    status[cell] = s_code[ok]
    panel["work_status"] = pd.array([*map(str, s_names), "unknown"], dtype="string").take(status)
    nd = panel["workdays_observed"].to_numpy()
    usual = panel["usual_workdays"].to_numpy()
    need = np.minimum(np.minimum(float(params.min_weekdays_with_data), np.maximum(1.0, usual / 2)), usual)
    covered = (nd > 0) & (nd >= need - 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_raw = np.where(covered, panel["workdays_at_work"].to_numpy() / np.where(nd > 0, nd, 1.0), np.nan)
        obs = panel["workhour_observed_h"].to_numpy()
        t_raw = np.where(covered & (obs > 0), panel["workhour_at_work_h"].to_numpy() / obs, np.nan)
    panel["covered"] = covered
    panel["attendance_raw"] = a_raw
    panel["work_time_raw"] = t_raw
    start, end = params.baseline
    in_base = ((panel["week"] >= start) & (panel["week"] <= end)).to_numpy() & covered
    if check_baseline:
        check_baseline_weeks(in_base.reshape(-1, n_w).any(axis=0), weeks, params)
    base_n = in_base.reshape(-1, n_w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        base_a = np.where(in_base, a_raw, 0.0).reshape(-1, n_w).sum(axis=1) / base_n
        t_ok = in_base & np.isfinite(t_raw)
        base_t = np.where(t_ok, t_raw, 0.0).reshape(-1, n_w).sum(axis=1) / t_ok.reshape(-1, n_w).sum(axis=1)
    has_w = np.asarray(pd.Index(users).isin(baseline_work["user_id"].astype(str)))
    job = has_w & (base_n >= params.min_baseline_weeks) & (base_a >= params.min_baseline_attendance)
    panel["baseline_attendance"] = np.repeat(np.where(base_n > 0, base_a, np.nan), n_w)
    panel["baseline_work_time"] = np.repeat(base_t, n_w)
    panel["baseline_job"] = np.repeat(job, n_w)
    with np.errstate(invalid="ignore", divide="ignore"):
        panel["attendance"] = np.where(panel["baseline_job"], a_raw / panel["baseline_attendance"], np.nan)
        bt = panel["baseline_work_time"].to_numpy()
        panel["work_time"] = np.where(panel["baseline_job"] & (bt > 0), t_raw / bt, np.nan)
    panel.attrs["params"] = params.to_dict()
    return panel


def check_baseline_weeks(covered: np.ndarray, weeks: pd.DatetimeIndex, params: EmploymentParams) -> None:
    """Refuse data whose covered baseline weeks (``covered``: per week of ``weeks``, whether anyone's data cover
    it inside the baseline) are fewer than ``min_baseline_weeks``: no one could have a baseline job, and every
    week would be ``unknown``.

    Examples
    --------
    >>> wk = pd.date_range("2020-01-06", periods=3, freq="7D")
    >>> check_baseline_weeks(np.array([True, False, False]), wk, EmploymentParams(min_baseline_weeks=2))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: relative_attendance: the data (2020-01-06 to 2020-01-20) cover 1 week(s) of ...
    """
    start, end = params.baseline
    n_base_weeks = int(np.count_nonzero(covered))
    if n_base_weeks < params.min_baseline_weeks:
        raise MobilityError(
            f"relative_attendance: the data ({weeks[0].date()} to {weeks[-1].date()}) cover {n_base_weeks} week(s) "
            f"of the baseline {start.date()} to {end.date()}, fewer than min_baseline_weeks = "
            f"{params.min_baseline_weeks}: no one can have a baseline job; set [employment] baseline_start and "
            "baseline_end to weeks before the shock that the data cover")
