"""Weekly behaviour in each person's usual work hours: at home, elsewhere, how far, on work days and days off.

The evidence that tells a remote worker from a job loser once neither goes to the workplace (method.md
section 4): both stay away from work, but a remote worker's week keeps the shape of a working week (usual
work hours at home on work days, outings on days off), while a job loser's work days look like days off.
Everything is measured on the hourly bins and in the usual work hours of
:func:`mobility.employment.attendance.work_days` (a night nurse's "daytime" is her night):

* **hours of interest** of a day: on a usual work day, the person's usual-hours profile ``P`` for that day of
  the week (rule 2 of :mod:`~mobility.employment.attendance`); on a day off (no usual hours), the mean
  profile of the person's usual work days, so days off are read in the same clock hours;
* a day is **seen** when its hours of interest are observed as attendance observes a work day (rule 3); it
  has an **outing** when some hour of interest is spent at a place that is neither home nor the reference
  workplace;
* the same days are read over the whole calendar day too: a seen day with data in at least
  ``min_day_observed_share`` of its 24 hours is **seen all day**, and has an **outing that day** when some
  hour of it, any hour, is spent at a place that is neither home nor the workplace. A night worker's usual
  hours (22:00-06:00) are hours in which nobody goes out, remote or not, so outings in them say nothing
  about remote work or job loss; the outings of her free hours do (the whole day's outings, below).

Home is the day's ``home_location_id`` of the daily labels, carried forward over days without one (before the
first: the user's most frequent one); its coordinates are the dwell-weighted mean of the user's visits at
that location. These are observation and attendance features, not mobility outcomes: nothing here counts
places, entropy or radius (method.md section 4). Coordinates stay internal: the table holds distances only.

Schema ``daytime_weekly`` (one row per user and week, as ``weekly_attendance``): ``user_id`` (str), ``week``
(datetime64[ns], naive local Monday), ``usual_days_seen``, ``usual_days_out``, ``off_days_seen``,
``off_days_out``, ``usual_days_seen_all``, ``usual_days_out_all``, ``off_days_seen_all``,
``off_days_out_all`` (float64 day counts; ``_all``: over the whole calendar day), ``usual_seen_h``, ``usual_home_h``, ``usual_other_h`` (usual work
hours observed, at home, elsewhere: neither home nor the workplace), ``off_seen_h``, ``off_home_h`` (the same
hours on days off), ``daytime_distance_km`` (usual-hours-weighted mean distance from home, 0 while at home;
NaN without observed usual hours), ``daytime_max_km`` (the farthest from home an observed usual hour lies),
``workplace_id`` (float64: the ``location_id`` of the reference workplace on the week's last day, NaN for none:
a new value is a new workplace), ``usual_clock_h`` (float64, the same in every week of a user: the clock hour
at the centre of the usual work hours, their circular mean over the 24 hours of the profile, 12.5 for a
9-to-5 worker, about 2 for a night worker: which hours the other columns were read in).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.employment.attendance import WorkDays, user_positions, work_days
from mobility.employment.params import EmploymentParams
from mobility.kernels.daytime import daytime_day_sums
from mobility.kernels.geo import haversine_m

DAYTIME_COLUMNS = ("usual_days_seen", "usual_days_out", "off_days_seen", "off_days_out", "usual_days_seen_all",
                   "usual_days_out_all", "off_days_seen_all", "off_days_out_all", "usual_seen_h",
                   "usual_home_h", "usual_other_h", "off_seen_h", "off_home_h", "daytime_distance_km",
                   "daytime_max_km", "workplace_id", "usual_clock_h")


def _home_codes(days: WorkDays, labels: pd.DataFrame) -> np.ndarray:
    """Each row's home code, carried forward; before a user's first home label, their most frequent one."""
    home = days.codes(labels, "home_location_id")
    user = days.hours.row_user
    known = home >= 0
    counts = pd.DataFrame({"u": user[known], "c": home[known]}).value_counts().reset_index()
    counts = counts.sort_values(["u", "count", "c"], ascending=[True, False, True]).drop_duplicates("u")
    modal = np.full(days.hours.users.size, -1, dtype=np.int64)
    modal[counts["u"].to_numpy()] = counts["c"].to_numpy()
    return np.where(known, home, modal[user])


def _code_coordinates(days: WorkDays, visits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dwell-weighted mean lat/lon of each (user, code) pair, keyed ``user * n_codes + code`` (sorted keys)."""
    hours = days.hours
    user = user_positions(hours.users, visits["user_id"])
    code = hours.codes_of(visits["location_id"].to_numpy(dtype=np.int64))
    ok = (user >= 0) & (code >= 0)
    dwell = (visits["end"] - visits["start"]).dt.total_seconds().to_numpy(dtype=float)
    dwell = np.maximum(np.nan_to_num(dwell), 1.0)[ok]
    key, where = np.unique(user[ok].astype(np.int64) * max(hours.location_ids.size, 1) + code[ok],
                           return_inverse=True)
    w = np.bincount(where, weights=dwell)
    lat = np.bincount(where, weights=dwell * visits["lat"].to_numpy(float)[ok]) / w
    lon = np.bincount(where, weights=dwell * visits["lon"].to_numpy(float)[ok]) / w
    return key, lat, lon


def _lookup(keys: np.ndarray, values: tuple[np.ndarray, ...], query: np.ndarray) -> tuple[np.ndarray, ...]:
    at = np.minimum(np.searchsorted(keys, query), max(keys.size - 1, 0))
    found = (keys.size > 0) & (keys[at] == query) if keys.size else np.zeros(query.shape, bool)
    return tuple(np.where(found, v[at], np.nan) if keys.size else np.full(query.shape, np.nan) for v in values)


def daytime_weekly(visits: pd.DataFrame, labels: pd.DataFrame, *, timezone: str | None = None,
                   params: EmploymentParams | None = None, days: WorkDays | None = None) -> pd.DataFrame:
    """Usual work hours at home and elsewhere, days with an outing and distance from home, per user and week.

    Parameters
    ----------
    visits : DataFrame
        ``user_id``, ``start``, ``end`` (tz-aware), ``lat``, ``lon``, ``location_id`` (the ``visits``
        table); optional ``utc_offset_s``.
    labels : DataFrame
        ``home_work_daily``: ``user_id``, ``date``, ``home_location_id``, ``work_location_id``,
        ``work_status``.
    timezone : str, optional
        IANA zone of the local days and hours (UTC when None).
    params : EmploymentParams, optional
        The attendance rules (usual hours, observed days).
    days : WorkDays, optional
        :func:`~mobility.employment.attendance.work_days` of the same visits and labels, when already computed.

    Returns
    -------
    DataFrame with the ``daytime_weekly`` schema of the module notes.

    Examples
    --------
    A 9-to-5 worker (work at location 1, 0.01 degrees of latitude = 1.11 km north of home 0) in the baseline
    week of 6 January; the next week she works from home but for an errand (location 2, at the workplace's
    distance) 12:00-13:00 on Monday; on Saturday 11 she is out 12:00-14:00.

    >>> t, h = pd.Timestamp("2020-01-06", tz="UTC"), pd.Timedelta(hours=1)
    >>> rows = []
    >>> for d in range(5):
    ...     rows += [(t + d * 24 * h, 9, 0), (t + (d * 24 + 9) * h, 8, 1), (t + (d * 24 + 17) * h, 16, 0)]
    >>> rows += [(t + 5 * 24 * h, 12, 0), (t + 5 * 24 * h + 12 * h, 2, 2), (t + 5 * 24 * h + 14 * h, 34, 0)]
    >>> rows += [(t + 7 * 24 * h, 12, 0), (t + 7 * 24 * h + 12 * h, 1, 2), (t + 7 * 24 * h + 13 * h, 155, 0)]
    >>> visits = pd.DataFrame([{"user_id": "a", "start": s, "end": s + n * h, "location_id": loc,
    ...                         "lat": 40.0 + 0.01 * (loc > 0), "lon": -75.0} for s, n, loc in rows])
    >>> labels = pd.DataFrame({"user_id": "a", "date": pd.date_range("2020-01-06", periods=14),
    ...     "home_location_id": 0, "work_location_id": pd.array([1] * 14, dtype="Int64"), "work_status": "fixed"})
    >>> p = EmploymentParams(baseline_start="2020-01-06", baseline_end="2020-01-12")
    >>> w = daytime_weekly(visits, labels, params=p)
    >>> w[["usual_days_seen", "usual_days_out", "off_days_seen", "off_days_out"]].values.tolist()
    [[5.0, 0.0, 2.0, 1.0], [5.0, 1.0, 2.0, 0.0]]
    >>> w[["usual_seen_h", "usual_home_h", "usual_other_h"]].values.tolist()
    [[40.0, 0.0, 0.0], [40.0, 39.0, 1.0]]
    >>> w["daytime_distance_km"].round(3).tolist(), w["daytime_max_km"].round(3).tolist()
    ([1.112, 0.028], [1.112, 1.112])
    >>> w["workplace_id"].tolist()
    [1.0, 1.0]
    """
    require_columns(visits, ["user_id", "start", "end", "lat", "lon", "location_id"], "visits",
                    "pass the visits table (stops with location_id)")
    require_columns(labels, ["user_id", "date", "home_location_id"], "labels", "pass the home_work_daily table")
    days = work_days(visits, labels, timezone=timezone, params=params) if days is None else days
    params = days.params
    hours = days.hours
    user = hours.row_user
    profile = days.profile                                              # (n_users, 7, 24)
    workday = profile.sum(axis=2) > 0
    mean_day = (profile * workday[:, :, None]).sum(axis=1) / np.maximum(workday.sum(axis=1), 1)[:, None]
    usual = days.expected > 0
    home = _home_codes(days, labels)
    bins = hours.bins
    seen_h, expected, home_h, other_h, any_other, seen_all_h, elsewhere, r, hh, w_away = daytime_day_sums(
        bins, home, days.reference, profile, mean_day, user, hours.weekday, usual)
    need = np.maximum(np.minimum(params.min_day_observed_h, expected), params.min_day_observed_share * expected)
    day_seen = np.where(usual, days.observed, (expected > 0) & (seen_h >= need - 1e-9))
    outing = day_seen & any_other
    # the whole calendar day: hours with data, and whether any of them is at neither home nor the workplace
    seen_all = day_seen & (seen_all_h >= params.min_day_observed_share * bins.shape[1] - 1e-9)
    outing_all = seen_all & elsewhere

    # distance from home of each observed hour of interest (0 at home)
    key, lat, lon = _code_coordinates(days, visits)
    n_codes = max(hours.location_ids.size, 1)
    base = user[r].astype(np.int64) * n_codes
    here, there = base + bins[r, hh], base + home[r]
    # consecutive hours at the same place from the same home have the same distance: compute each run once
    run = np.flatnonzero(np.r_[True, (here[1:] != here[:-1]) | (there[1:] != there[:-1])]) if r.size else r
    here_lat, here_lon = _lookup(key, (lat, lon), here[run])
    home_lat, home_lon = _lookup(key, (lat, lon), there[run])
    km = np.repeat(np.nan_to_num(haversine_m(here_lat, here_lon, home_lat, home_lon) / 1000.0),
                   np.diff(np.r_[run, r.size]))
    n_rows = user.size
    dist_h = np.bincount(r, weights=w_away * km, minlength=n_rows)
    max_km = np.zeros(n_rows)
    np.maximum.at(max_km, r, km)

    n_out = int(days.n_weeks.sum())
    key_w = days.week_key
    sums = {
        "usual_days_seen": usual & day_seen, "usual_days_out": usual & outing,
        "off_days_seen": ~usual & day_seen, "off_days_out": ~usual & outing,
        "usual_days_seen_all": usual & seen_all, "usual_days_out_all": usual & outing_all,
        "off_days_seen_all": ~usual & seen_all, "off_days_out_all": ~usual & outing_all,
        "usual_seen_h": np.where(usual, seen_h, 0.0),
        "usual_home_h": np.where(usual, home_h, 0.0), "usual_other_h": np.where(usual, other_h, 0.0),
        "off_seen_h": np.where(usual, 0.0, seen_h), "off_home_h": np.where(usual, 0.0, home_h),
    }
    out = pd.DataFrame({"user_id": pd.array(hours.users.astype(str).take(np.repeat(np.arange(hours.users.size),
                                                                                  days.n_weeks)), dtype="string"),
                        "week": days.week_monday()})
    for name, values in sums.items():
        out[name] = np.bincount(key_w, weights=np.asarray(values, dtype=np.float64), minlength=n_out)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["daytime_distance_km"] = np.where(out["usual_seen_h"] > 0, np.bincount(
            key_w, weights=np.where(usual, dist_h, 0.0), minlength=n_out) / out["usual_seen_h"], np.nan)
    week_max = np.zeros(n_out)
    np.maximum.at(week_max, key_w, np.where(usual, max_km, 0.0))
    out["daytime_max_km"] = np.where(out["usual_seen_h"] > 0, week_max, np.nan)
    last_row = np.full(n_out, -1, dtype=np.int64)
    np.maximum.at(last_row, key_w, np.arange(n_rows))
    ref = days.reference[np.maximum(last_row, 0)]
    out["workplace_id"] = np.where((last_row >= 0) & (ref >= 0), hours.location_ids[np.maximum(ref, 0)], np.nan)
    out["usual_clock_h"] = usual_clock_h(profile)[np.repeat(np.arange(hours.users.size), days.n_weeks)]
    out.attrs["params"] = params.to_dict()
    return out


def usual_clock_h(profile: np.ndarray) -> np.ndarray:
    """The clock hour at the centre of each user's usual work hours: the circular mean of the hours' midpoints
    (``h + 0.5``) weighted by the ``(n_users, 7, 24)`` profile, in [0, 24); NaN for an empty profile.

    Examples
    --------
    >>> p = np.zeros((2, 7, 24))
    >>> p[0, :5, 9:17] = 1.0                        # 9-to-5
    >>> p[1, :5, 22:] = p[1, 1:6, :6] = 1.0          # 22:00-06:00, across midnight
    >>> usual_clock_h(p).round(3).tolist()
    [13.0, 2.0]
    """
    w = profile.sum(axis=1)                                             # (n_users, 24)
    angle = 2 * np.pi * (np.arange(w.shape[1]) + 0.5) / w.shape[1]
    x, y = w @ np.cos(angle), w @ np.sin(angle)
    h = np.mod(np.arctan2(y, x) * w.shape[1] / (2 * np.pi), w.shape[1])
    return np.where(w.sum(axis=1) > 0, h, np.nan)
