"""Attendance at the baseline work block group, week by week: ``r_u(t)`` and ``rt_u(t)`` (method.md 2.7).

Three frames, one after the other:

* :func:`baseline_work_cbg` -- W_u, the modal work CBG of a user's daily labels over the baseline days.
* :func:`weekly_attendance` -- from stops: per user and local week, weekdays with data, weekdays with a stop
  in W_u, observed work-hour time and work-hour time in W_u. Stops are mapped to CBGs by a point-in-polygon
  join (:func:`mobility.census.geometry.assign_points`) used internally only: no coordinate leaves.
* :func:`relative_attendance` -- the dense user x week panel with ``attendance`` = r_u(t) and
  ``work_time`` = rt_u(t), each the week's raw share over the user's baseline mean.

Schemas
-------
baseline_work
    ``user_id`` (str), ``work_cbg`` (str, 12 digits): users with at least one labelled baseline day.
weekly_attendance
    ``user_id``, ``week`` (datetime64[ns], naive local Monday), ``weekdays_with_data``,
    ``weekdays_at_work`` (int64), ``workhour_observed_h``, ``workhour_at_work_h`` (float64).
attendance_panel
    ``user_id``, ``week``, the four columns above (0 for weeks without data), ``covered`` (bool:
    ``weekdays_with_data >= min_weekdays_with_data``), ``attendance_raw``, ``work_time_raw`` (shares, NaN
    when not covered), ``baseline_attendance``, ``baseline_work_time`` (the user's baseline means),
    ``attendance``, ``work_time`` (relative, NaN when not covered or without a baseline job),
    ``baseline_job`` (bool). One row per user and week from the first to the last week of the input,
    sorted by ``user_id`` then ``week``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.census.geometry import assign_points
from mobility.employment.params import EmploymentParams
from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.kernels.employment import DAY_S, day_pieces
from mobility.localtime import local_time
from mobility.obfuscate import modal_cbg

WEEK_COLUMNS = ("weekdays_with_data", "weekdays_at_work", "workhour_observed_h", "workhour_at_work_h")


def baseline_work_cbg(labels: pd.DataFrame, *, params: EmploymentParams | None = None) -> pd.DataFrame:
    """W_u: each user's most frequent work CBG over the baseline days of the daily labels.

    Ties go to the smallest GEOID, so the answer does not depend on row order. Users without a labelled
    work CBG on any baseline day are absent (no baseline job).

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
    require_columns(labels, ["user_id", "date", "work_cbg"], "labels", "pass the home_work_daily table (obfuscate_to_cbg)")
    start, end = params.baseline
    date = pd.to_datetime(labels["date"])
    if isinstance(date.dtype, pd.DatetimeTZDtype):
        date = date.dt.tz_localize(None)
    keep = (date >= start) & (date <= end) & labels["work_cbg"].notna()
    base = labels.loc[keep, ["user_id", "work_cbg"]]
    out = modal_cbg(base.assign(user_id=base["user_id"].astype(str)), "work_cbg")
    out.attrs["params"] = params.to_dict()
    return out


def weekly_attendance(stops: pd.DataFrame, baseline_work: pd.DataFrame, cbg=None, *, timezone: str | None = None,
                      params: EmploymentParams | None = None) -> pd.DataFrame:
    """Weekdays with data and with a stop in W_u, and work-hour time, per user and local week.

    Parameters
    ----------
    stops : DataFrame
        ``user_id``, ``start``, ``end`` (tz-aware), and either ``cbg`` (12-digit GEOID of the stop) or
        ``lat``, ``lon`` with ``cbg`` polygons given. Optional ``utc_offset_s`` (seconds east of UTC).
    baseline_work : DataFrame
        From :func:`baseline_work_cbg`; users absent from it still get their data coverage.
    cbg : GeoDataFrame, optional
        Block-group polygons (``GEOID``), needed when ``stops`` has no ``cbg`` column.
    timezone : str, optional
        IANA zone of the local days and work hours (UTC when None).
    params : EmploymentParams, optional

    Returns
    -------
    DataFrame with the ``weekly_attendance`` schema of the module notes; weeks without any stop are absent.

    Examples
    --------
    A user at work (CBG ``...01``) 09:00-17:00 on Monday, home all Tuesday (UTC):

    >>> t = pd.Timestamp("2020-01-06", tz="UTC")
    >>> h = pd.Timedelta(hours=1)
    >>> stops = pd.DataFrame({"user_id": ["a"] * 3, "start": [t + 9 * h, t + 18 * h, t + 24 * h],
    ...                       "end": [t + 17 * h, t + 23 * h, t + 48 * h],
    ...                       "cbg": ["421010001001", "421010001009", "421010001009"]})
    >>> w = weekly_attendance(stops, pd.DataFrame({"user_id": ["a"], "work_cbg": ["421010001001"]}))
    >>> r = w.iloc[0]
    >>> int(r["weekdays_with_data"]), int(r["weekdays_at_work"]), float(r["workhour_observed_h"]), float(r["workhour_at_work_h"])
    (2, 1, 17.0, 8.0)
    """
    params = params or EmploymentParams()
    require_columns(stops, ["user_id", "start", "end"], "stops", "pass detected stops (detect_stops) or true stops")
    require_columns(baseline_work, ["user_id", "work_cbg"], "baseline_work", "build it with baseline_work_cbg(labels)")
    if "cbg" in stops.columns:
        stop_cbg = stops["cbg"].astype("string").to_numpy(dtype=object, na_value=None)
    else:
        require_columns(stops, ["lat", "lon"], "stops", "give stop coordinates or a 'cbg' column")
        if cbg is None:
            raise MobilityError("weekly_attendance: stops have no 'cbg' column; pass the block-group polygons as cbg")
        stop_cbg = assign_points(stops["lat"].reset_index(drop=True), stops["lon"].reset_index(drop=True), cbg)
        stop_cbg = stop_cbg.to_numpy(dtype=object)
    for col in ("start", "end"):
        if not isinstance(stops[col].dtype, pd.DatetimeTZDtype):
            raise MobilityError(f"stops: column '{col}' must be tz-aware datetimes (UTC); localise with "
                                ".dt.tz_localize('UTC')")
    offset = stops["utc_offset_s"].reset_index(drop=True) if "utc_offset_s" in stops.columns else None
    s_local = local_time(stops["start"].reset_index(drop=True), utc_offset_s=offset, timezone=timezone)
    e_local = local_time(stops["end"].reset_index(drop=True), utc_offset_s=offset, timezone=timezone)
    s_sec = s_local.to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
    e_sec = e_local.to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
    row, day, observed, workhour = day_pieces(s_sec, e_sec, params.work_start_h * 3600, params.work_end_h * 3600)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    keep = weekday < 5
    row, day, observed, workhour = row[keep], day[keep], observed[keep], workhour[keep]
    user = stops["user_id"].astype(str).to_numpy()[row]
    wmap = dict(zip(baseline_work["user_id"].astype(str), baseline_work["work_cbg"].astype(str)))
    w_u = pd.Series(user).map(wmap).to_numpy(dtype=object)
    at_w = (stop_cbg[row] == w_u) & pd.notna(w_u)
    pieces = pd.DataFrame({"user_id": user, "day": day, "observed_s": observed,
                           "workhour_s": workhour, "at_work": at_w, "at_work_s": np.where(at_w, workhour, 0.0)})
    daily = pieces.groupby(["user_id", "day"], sort=True).agg(
        observed_s=("observed_s", "sum"), workhour_s=("workhour_s", "sum"),
        at_work=("at_work", "any"), at_work_s=("at_work_s", "sum")).reset_index()
    daily["with_data"] = daily["observed_s"] >= params.min_day_observed_h * 3600
    daily["at_work"] &= daily["with_data"]
    monday = daily["day"] - (daily["day"] + 3) % 7
    daily["week"] = pd.to_datetime(monday.to_numpy() * DAY_S, unit="s").astype("datetime64[ns]")
    out = daily.groupby(["user_id", "week"], sort=True).agg(
        weekdays_with_data=("with_data", "sum"), weekdays_at_work=("at_work", "sum"),
        workhour_observed_h=("workhour_s", "sum"), workhour_at_work_h=("at_work_s", "sum")).reset_index()
    out["workhour_observed_h"] /= 3600.0
    out["workhour_at_work_h"] /= 3600.0
    out[["weekdays_with_data", "weekdays_at_work"]] = out[["weekdays_with_data", "weekdays_at_work"]].astype(np.int64)
    out.attrs["params"] = params.to_dict()
    return out


def relative_attendance(weekly: pd.DataFrame, baseline_work: pd.DataFrame, *,
                        params: EmploymentParams | None = None, weeks: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """The dense user x week panel of r_u(t) (``attendance``) and rt_u(t) (``work_time``).

    ``attendance_raw`` = weekdays at W_u / weekdays with data; ``work_time_raw`` = work-hour time at W_u /
    observed work-hour time (NaN when none was observed). Each over its mean across the user's covered
    baseline weeks. A user has a baseline job when W_u exists, at least ``min_baseline_weeks`` baseline
    weeks are covered and the baseline attendance is at least ``min_baseline_attendance``.

    Parameters
    ----------
    weekly : DataFrame
        From :func:`weekly_attendance`.
    baseline_work : DataFrame
        From :func:`baseline_work_cbg`.
    params : EmploymentParams, optional
    weeks : DatetimeIndex, optional
        The weeks (Mondays) of the panel; default all Mondays from the first to the last of ``weekly``.

    Examples
    --------
    Two covered baseline weeks at 4 of 5 days, then 1 of 5 days: r = 0.25.

    >>> wk = pd.to_datetime(["2020-01-06", "2020-01-13", "2020-03-23"])
    >>> weekly = pd.DataFrame({"user_id": ["a"] * 3, "week": wk, "weekdays_with_data": [5, 5, 5],
    ...     "weekdays_at_work": [4, 4, 1], "workhour_observed_h": [45.0] * 3, "workhour_at_work_h": [30.0, 30, 0]})
    >>> p = relative_attendance(weekly, pd.DataFrame({"user_id": ["a"], "work_cbg": ["421010001001"]}))
    >>> len(p), p["attendance"].round(2).tolist()[-1], bool(p["covered"].iloc[3])
    (12, 0.25, False)
    """
    params = params or EmploymentParams()
    require_columns(weekly, ["user_id", "week", *WEEK_COLUMNS], "weekly", "build it with weekly_attendance")
    if weeks is None:
        if len(weekly) == 0:
            raise MobilityError("relative_attendance: the weekly table is empty; no stops fell on weekdays")
        weeks = pd.date_range(weekly["week"].min(), weekly["week"].max(), freq="7D")
    users = np.union1d(weekly["user_id"].astype(str).unique(), baseline_work["user_id"].astype(str).unique())
    n_w = len(weeks)
    u_idx = np.searchsorted(users, weekly["user_id"].astype(str).to_numpy())
    w_idx = np.searchsorted(weeks.values, pd.to_datetime(weekly["week"]).to_numpy().astype("datetime64[ns]"))
    ok = (w_idx < n_w)
    ok[ok] &= weeks.values[w_idx[ok]] == pd.to_datetime(weekly["week"]).to_numpy()[ok]
    cell = u_idx[ok] * n_w + w_idx[ok]
    panel = pd.DataFrame({"user_id": np.repeat(users, n_w), "week": np.tile(weeks.values, len(users))})
    for c in WEEK_COLUMNS:
        vals = weekly[c].to_numpy()[ok]
        col = np.zeros(len(panel), dtype=np.float64 if c.endswith("_h") else np.int64)
        col[cell] = vals
        panel[c] = col
    nd = panel["weekdays_with_data"].to_numpy()
    covered = nd >= params.min_weekdays_with_data
    with np.errstate(invalid="ignore", divide="ignore"):
        a_raw = np.where(covered, panel["weekdays_at_work"].to_numpy() / np.maximum(nd, 1), np.nan)
        obs = panel["workhour_observed_h"].to_numpy()
        t_raw = np.where(covered & (obs > 0), panel["workhour_at_work_h"].to_numpy() / obs, np.nan)
    panel["covered"] = covered
    panel["attendance_raw"] = a_raw
    panel["work_time_raw"] = t_raw
    start, end = params.baseline
    in_base = ((panel["week"] >= start) & (panel["week"] <= end)).to_numpy() & covered
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
