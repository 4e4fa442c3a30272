"""Weekly daytime behaviour around home, from stops: the classifier's evidence beside attendance at work.

Per user and local week, over weekdays and the work hours ``[work_start_h, work_end_h)`` of
:class:`~mobility.employment.params.EmploymentParams`:

* ``weekdays_with_data`` -- weekdays with at least ``min_day_observed_h`` hours of stops (as in attendance);
* ``weekdays_out`` -- of those, days with at least ``min_outing_h`` hours at places other than home;
* ``workhour_observed_h`` -- work-hour time covered by stops; ``home_workhour_h`` -- the part of it at home;
* ``daytime_distance_km`` -- work-hour-weighted mean distance from home (0 while at home), NaN without
  work-hour data; ``daytime_max_km`` -- the farthest from home a stop in work hours lies.

Home is the day's ``home_location_id`` of the daily labels, else the user's most frequent one (ties: the
smallest id); its coordinates are the dwell-weighted mean of the user's stops at that location. These are
observation and attendance features, not mobility outcomes: nothing here counts places, entropy or radius
(the event study's outcomes, which must not date job losses; method.md section 4). Coordinates stay
internal: the table holds distances only.

Schema ``daytime_weekly``: ``user_id`` (str), ``week`` (datetime64[ns], naive local Monday),
``weekdays_with_data``, ``weekdays_out`` (int64), ``workhour_observed_h``, ``home_workhour_h``,
``daytime_distance_km``, ``daytime_max_km`` (float64). Users without any home label are absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.employment.params import EmploymentParams
from mobility.kernels.employment import DAY_S, day_pieces
from mobility.kernels.geo import haversine_m
from mobility.localtime import local_time

DAYTIME_COLUMNS = ("weekdays_with_data", "weekdays_out", "workhour_observed_h", "home_workhour_h",
                   "daytime_distance_km", "daytime_max_km")


def _local_seconds(stops: pd.DataFrame, column: str, timezone: str | None) -> np.ndarray:
    offset = stops["utc_offset_s"].reset_index(drop=True) if "utc_offset_s" in stops.columns else None
    local = local_time(stops[column].reset_index(drop=True), utc_offset_s=offset, timezone=timezone)
    return local.to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9


def _homes(labels: pd.DataFrame, codes: pd.Index) -> tuple[pd.Series, np.ndarray]:
    """The day's home location per (user code, local day) key, and each user's modal home (-1: none)."""
    lab = labels[labels["home_location_id"].notna()]
    user = codes.get_indexer(lab["user_id"].astype(str))
    date = pd.to_datetime(lab["date"])
    if isinstance(date.dtype, pd.DatetimeTZDtype):
        date = date.dt.tz_localize(None)
    day = (date.to_numpy().astype("datetime64[ns]").astype(np.int64) // (DAY_S * 10**9)).astype(np.int64)
    loc = lab["home_location_id"].to_numpy(dtype=np.int64)
    ok = user >= 0
    daily = pd.Series(loc[ok], index=user[ok].astype(np.int64) * 10**6 + day[ok])
    daily = daily[~daily.index.duplicated()]
    counts = pd.DataFrame({"u": user[ok], "loc": loc[ok]}).value_counts().reset_index()
    counts = counts.sort_values(["u", "count", "loc"], ascending=[True, False, True]).drop_duplicates("u")
    modal = np.full(len(codes), -1, dtype=np.int64)
    modal[counts["u"].to_numpy()] = counts["loc"].to_numpy()
    return daily, modal


def daytime_weekly(stops: pd.DataFrame, labels: pd.DataFrame, *, timezone: str | None = None,
                   params: EmploymentParams | None = None) -> pd.DataFrame:
    """Weekday time at home in work hours, days with an outing and distance from home, per user and week.

    Parameters
    ----------
    stops : DataFrame
        ``user_id``, ``start``, ``end`` (tz-aware), ``lat``, ``lon``, ``location_id`` (the ``visits``
        table); optional ``utc_offset_s``.
    labels : DataFrame
        ``home_work_daily``: ``user_id``, ``date`` (local day), ``home_location_id``.
    timezone : str, optional
        IANA zone of the local days and work hours (UTC when None).
    params : EmploymentParams, optional
        ``work_start_h``, ``work_end_h``, ``min_day_observed_h``, ``min_outing_h``.

    Returns
    -------
    DataFrame with the ``daytime_weekly`` schema of the module notes.

    Examples
    --------
    Monday: home until 08:00, at a place 0.01 degrees of latitude (1.11 km) north 08:00-18:00, home again.
    Tuesday: home all day.

    >>> t, h = pd.Timestamp("2020-01-06", tz="UTC"), pd.Timedelta(hours=1)
    >>> stops = pd.DataFrame({"user_id": "a", "start": [t, t + 8 * h, t + 18 * h],
    ...     "end": [t + 8 * h, t + 18 * h, t + 48 * h], "lat": [40.0, 40.01, 40.0], "lon": -75.0,
    ...     "location_id": [0, 1, 0]})
    >>> labels = pd.DataFrame({"user_id": "a", "date": pd.to_datetime(["2020-01-06", "2020-01-07"]),
    ...                        "home_location_id": [0, 0]})
    >>> w = daytime_weekly(stops, labels).iloc[0]
    >>> int(w["weekdays_with_data"]), int(w["weekdays_out"]), float(w["workhour_observed_h"]), float(w["home_workhour_h"])
    (2, 1, 18.0, 9.0)
    >>> round(float(w["daytime_distance_km"]), 3), round(float(w["daytime_max_km"]), 3)
    (0.556, 1.112)
    """
    params = params or EmploymentParams()
    require_columns(stops, ["user_id", "start", "end", "lat", "lon", "location_id"], "stops",
                    "pass the visits table (stops with location_id)")
    require_columns(labels, ["user_id", "date", "home_location_id"], "labels", "pass the home_work_daily table")
    stops = stops.reset_index(drop=True)
    codes = pd.Index(np.unique(stops["user_id"].astype(str).to_numpy()))
    user = codes.get_indexer(stops["user_id"].astype(str))
    loc = stops["location_id"].to_numpy(dtype=np.int64)
    lat, lon = stops["lat"].to_numpy(float), stops["lon"].to_numpy(float)
    s_sec, e_sec = _local_seconds(stops, "start", timezone), _local_seconds(stops, "end", timezone)
    daily_home, modal = _homes(labels, codes)

    # home coordinates: dwell-weighted mean of the stops at each (user, location), keyed user * 2**32 + location
    dwell = np.maximum(e_sec - s_sec, 1.0)
    place, where_stop = np.unique(user.astype(np.int64) * 2**32 + loc, return_inverse=True)
    w = np.bincount(where_stop, weights=dwell)
    place_lat = np.bincount(where_stop, weights=dwell * lat) / w
    place_lon = np.bincount(where_stop, weights=dwell * lon) / w

    row, day, observed, workhour = day_pieces(s_sec, e_sec, params.work_start_h * 3600, params.work_end_h * 3600)
    weekday = (day + 3) % 7 < 5  # 1970-01-01 was a Thursday; Monday = 0
    row, day, observed, workhour = row[weekday], day[weekday], observed[weekday], workhour[weekday]
    u = user[row]
    home = daily_home.reindex(u.astype(np.int64) * 10**6 + day).to_numpy()
    home = np.where(np.isnan(home), modal[u], home).astype(np.int64)
    known = home >= 0
    row, day, observed, workhour, u, home = (a[known] for a in (row, day, observed, workhour, u, home))
    at_home = loc[row] == home
    key = u.astype(np.int64) * 2**32 + home
    at = np.minimum(np.searchsorted(place, key), len(place) - 1)
    found = place[at] == key  # a home location without any stop of the user has no coordinates
    h_lat, h_lon = np.where(found, place_lat[at], np.nan), np.where(found, place_lon[at], np.nan)
    dist_km = np.where(at_home, 0.0, haversine_m(lat[row], lon[row], h_lat, h_lon) / 1000.0)
    pieces = pd.DataFrame({"u": u, "day": day, "observed_s": observed, "workhour_s": workhour,
                           "home_s": np.where(at_home, workhour, 0.0), "away_s": np.where(at_home, 0.0, observed),
                           "dist_s": workhour * np.nan_to_num(dist_km),
                           "max_km": np.where(workhour > 0, dist_km, np.nan)})
    days = pieces.groupby(["u", "day"], sort=True).agg(
        observed_s=("observed_s", "sum"), workhour_s=("workhour_s", "sum"), home_s=("home_s", "sum"),
        away_s=("away_s", "sum"), dist_s=("dist_s", "sum"), max_km=("max_km", "max")).reset_index()
    days["with_data"] = days["observed_s"] >= params.min_day_observed_h * 3600
    days["out"] = days["with_data"] & (days["away_s"] >= params.min_outing_h * 3600)
    monday = days["day"] - (days["day"] + 3) % 7
    days["week"] = pd.to_datetime(monday.to_numpy() * DAY_S, unit="s").astype("datetime64[ns]")
    out = days.groupby(["u", "week"], sort=True).agg(
        weekdays_with_data=("with_data", "sum"), weekdays_out=("out", "sum"), workhour_s=("workhour_s", "sum"),
        home_s=("home_s", "sum"), dist_s=("dist_s", "sum"), daytime_max_km=("max_km", "max")).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.where(out["workhour_s"] > 0, out["dist_s"] / out["workhour_s"], np.nan)
    table = pd.DataFrame({
        "user_id": pd.array(codes.to_numpy()[out["u"].to_numpy()], dtype="string"),
        "week": out["week"].to_numpy(),
        "weekdays_with_data": out["weekdays_with_data"].to_numpy(np.int64),
        "weekdays_out": out["weekdays_out"].to_numpy(np.int64),
        "workhour_observed_h": out["workhour_s"].to_numpy(float) / 3600.0,
        "home_workhour_h": out["home_s"].to_numpy(float) / 3600.0,
        "daytime_distance_km": distance,
        "daytime_max_km": out["daytime_max_km"].to_numpy(float),
    })
    table.attrs["params"] = params.to_dict()
    return table
