"""Mobility metrics per user and period (method.md 2.6), from stops or from pings.

:func:`weekly_metrics` takes stops with a ``location_id`` (the locations step) and returns one row per user
and period; :func:`ping_metrics` treats each ping as a visit and each distinct coordinate as a location,
the way scikit-mobility's individual measures do. The arithmetic lives in :mod:`mobility.kernels.metrics`
and runs on numpy or, with ``backend="cupy"``/``"cudf"``, on a GPU (:mod:`mobility.backend`).

Output schema (one row per user and period, sorted by ``user_id`` then ``period_start``)
-------------------------------------------------------------------------------------------
``user_id``
    as in the input.
``period_start``, ``period_end``
    datetime64[ns, UTC]: the period ``[period_start, period_end)``; periods begin at local midnight of
    ``timezone`` (Monday for ISO weeks, the 1st for months). Every user has a row for every period from
    their first to their last observed one; periods without data in between are kept (``n_stops`` 0).
``n_stops``
    int64: visits in the period, i.e. stops (or pings) overlapping it. A stop that spans a period boundary
    is **split by time**: each part counts as one visit in its period and carries the dwell time inside it.
``coverage_h``
    float64: distinct clock hours (UTC hour bins) touched by a stop ``[start, end)`` or containing a ping;
    use it to drop low-coverage periods.
``radius_of_gyration_km``
    ``sqrt(sum_j n_j d(r_j, r_c)^2 / sum_j n_j)`` over the period's locations, haversine d, R = 6371.0 km;
    ``n_j`` the dwell seconds (``weights="dwell"``) or visits (``"visits"``) at location j; the centre r_c
    is the n-weighted (``centre="weighted"``) or plain (``"unweighted"``) mean of the locations' latitudes
    and longitudes. 0 for a single location; NaN for an empty period or zero total weight.
``k_radius_of_gyration_km``
    the same over the ``k`` locations with the largest weight in the period (Pappalardo et al. 2015);
    ties go to the location the user visited first. Equals the radius when there are at most k locations.
``random_entropy_bits``
    ``log2 N``, N distinct locations in the period; 0 for one location, NaN when empty.
``uncorrelated_entropy_bits`` (``uncorrelated_entropy_norm`` when ``normalise_entropy=True``)
    ``-sum_j p_j log2 p_j`` with ``p_j`` the location's share of the period's weight; normalised: divided
    by ``log2 N`` (0 for one location, as scikit-mobility). NaN when empty.
``distinct_locations``
    int64: N.
``new_locations``
    int64: locations visited in this period for the first time since the user's first observation in the
    input (every location of the user's first period is new).
``exploration_rate``
    ``new_locations / n_stops``; NaN for an empty period.
``capacity``
    float64: size of the activity set (Alessandretti et al. 2018): locations with ``>= capacity_min_visits``
    visits and on average ``>= capacity_min_weekly_dwell_s`` seconds per week over the ``capacity_weeks``
    ISO weeks ending with the period (for months and other periods: ending with the ISO week that holds the
    period's last instant, or the user's last week if earlier). The original 20 weeks is too long for nine
    months of data, hence the default of 4. NaN while fewer than ``capacity_weeks`` weeks of the user's
    observation lie behind it.
``time_at_home_h``, ``time_at_work_h``
    hours in the period at the day's home or work location from ``home_work`` (stops split at local
    midnight and matched to that day's label); NaN when no labels are given or no day of the period with
    data has a label.
``travelled_distance_km``
    sum of haversine distances between consecutive stops (or pings) of the user, each trip counted in the
    period in which the stop it arrives at starts; the user's first stop has no incoming trip.
``radius_of_gyration_km_nonwork``, ``uncorrelated_entropy_bits_nonwork``, ``distinct_locations_nonwork``, ``new_locations_nonwork``, ``exploration_rate_nonwork``
    the same metrics without the stops at the person's workplaces: every location that ``home_work``
    labels the person's work place on any day. They measure behaviour apart from the commute, which a job
    loss removes mechanically (method.md 4); ``exploration_rate_nonwork`` is new non-work locations over
    visits to non-work locations. float64; NaN without labels, and for a period with no non-work stop
    (radius, entropy, exploration rate). ``uncorrelated_entropy_norm_nonwork`` with ``normalise_entropy``.

The parameters are recorded in ``result.attrs["params"]`` (pandas results).
"""

from __future__ import annotations

import math  # noqa: F401  (the docstring examples use it)
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mobility import backend as bk
from mobility.checks import number, select_columns, utc_ns
from mobility.errors import MobilityError
from mobility.ids import user_codes
from mobility.kernels import metrics as km
from mobility.kernels.ids import is_user_time_sorted, user_time_order

PERIODS = ("week", "month", "day", "all")
WEIGHTS = ("dwell", "visits")
CENTRES = ("weighted", "unweighted")
STOP_COLUMNS = ("user_id", "start", "end", "lat", "lon", "location_id")
PING_COLUMNS = ("user_id", "timestamp", "lat", "lon")
LABEL_COLUMNS = ("user_id", "date", "home_location_id", "work_location_id")
METRIC_COLUMNS = (
    "n_stops", "coverage_h", "radius_of_gyration_km", "k_radius_of_gyration_km", "random_entropy_bits",
    "uncorrelated_entropy_bits", "distinct_locations", "new_locations", "exploration_rate", "capacity",
    "time_at_home_h", "time_at_work_h", "travelled_distance_km",
    *(f"{name}_nonwork" for name in km.NONWORK),
)
_ANCHOR = pd.Timestamp("2000-01-03")  # a Monday: fixed-length windows ("14D") start on Mondays from here


def weekly_metrics(stops: Any, *, home_work: Any = None, period: str = "week", timezone: str | None = None,
                   weights: str = "dwell", centre: str = "weighted", k: int = 2,
                   normalise_entropy: bool = False, capacity_weeks: int = 4, capacity_min_visits: int = 2,
                   capacity_min_weekly_dwell_s: float = 600.0, columns: Mapping[str, str] | None = None,
                   backend: str | None = None) -> Any:
    """Mobility metrics per user and period from stops with locations.

    Parameters
    ----------
    stops : pandas or cuDF DataFrame
        ``user_id``, ``start``, ``end`` (tz-aware), ``lat``, ``lon``, ``location_id`` (int >= 0); other
        columns are ignored. Need not be sorted.
    home_work : DataFrame, optional
        Daily labels ``user_id``, ``date`` (local calendar day), ``home_location_id``, ``work_location_id``
        (nullable ints, the stops' ``location_id`` values), one row per user and day.
    period : {"week", "month", "day", "all"} or a fixed length such as ``"14D"``
        ISO weeks (default), calendar months, days, one period per user over all data, or fixed windows
        starting on Mondays.
    timezone : str, optional
        IANA zone in which periods and days begin at midnight (default UTC).
    weights : {"dwell", "visits"}
        Weight of a location in the radius, k-radius and uncorrelated entropy.
    centre : {"weighted", "unweighted"}
        Centre of mass for the radii.
    k : int
        Number of most frequent locations for ``k_radius_of_gyration_km``.
    normalise_entropy : bool
        Report the uncorrelated entropy divided by ``log2 N`` as ``uncorrelated_entropy_norm``.
    capacity_weeks, capacity_min_visits, capacity_min_weekly_dwell_s
        Window T (weeks) and thresholds of the activity set; see the module docstring.
    columns : mapping, optional
        Your column names for the required ones, e.g. ``{"location_id": "place_id"}``.
    backend : {"pandas", "cupy", "cudf"}, optional
        Where the kernels run (:mod:`mobility.backend`); inferred from the input type.

    Returns
    -------
    DataFrame (same type as ``stops``) with the columns of the module docstring.

    Examples
    --------
    Home 3 h, then an office 1 km north 1 h, on a Monday: dwell weights 3 and 1 put the centre 0.25 km from
    home, so the radius is ``sqrt((3 * 0.25**2 + 1 * 0.75**2) / 4) = 0.433`` km.

    >>> dlat = 1.0 / 6371.0 * 180 / math.pi
    >>> t = pd.Timestamp("2020-03-02 08:00", tz="UTC")
    >>> stops = pd.DataFrame({"user_id": ["a", "a"], "start": [t, t + pd.Timedelta("4h")],
    ...                       "end": [t + pd.Timedelta("3h"), t + pd.Timedelta("5h")],
    ...                       "lat": [0.0, dlat], "lon": [0.0, 0.0], "location_id": [0, 1]})
    >>> m = weekly_metrics(stops)
    >>> round(float(m.loc[0, "radius_of_gyration_km"]), 4), int(m.loc[0, "distinct_locations"])
    (0.433, 2)
    >>> str(m.loc[0, "period_start"])
    '2020-03-02 00:00:00+00:00'
    """
    params = _check_params(period=period, timezone=timezone, weights=weights, centre=centre, k=k,
                           normalise_entropy=normalise_entropy, capacity_weeks=capacity_weeks,
                           capacity_min_visits=capacity_min_visits,
                           capacity_min_weekly_dwell_s=capacity_min_weekly_dwell_s)
    name = bk.resolve_backend(stops, backend)
    df = select_columns(bk.to_pandas(stops), STOP_COLUMNS, columns, "stops")
    start = utc_ns(df["start"], "stops", "start")
    end = utc_ns(df["end"], "stops", "end")
    bad = np.flatnonzero(end < start)
    if len(bad):
        raise MobilityError(f"stops row {int(bad[0])}: 'end' is before 'start' ({len(bad)} rows); "
                            "fix or drop those stops")
    lat, lon = _coords(df, "stops")
    location = _location_ids(df["location_id"])
    users, uniques = _user_codes(df["user_id"], "stops")
    return _run(users, uniques, start, end, lat, lon, location, home_work, params, name)


def ping_metrics(pings: Any, *, period: str = "week", timezone: str | None = None, centre: str = "weighted",
                 k: int = 2, normalise_entropy: bool = False, capacity_weeks: int = 4,
                 capacity_min_visits: int = 2, capacity_min_weekly_dwell_s: float = 0.0,
                 columns: Mapping[str, str] | None = None, backend: str | None = None) -> Any:
    """Metrics treating each ping as a visit and each distinct (lat, lon) of a user as a location.

    The scikit-mobility convention: with ``period="all"`` the radius of gyration, k-radius, random and
    uncorrelated entropy and distinct locations equal ``skmob.measures.individual``'s. Weights are visits;
    pings have no dwell, so capacity counts only visits unless ``capacity_min_weekly_dwell_s`` > 0 (then it
    is 0). ``coverage_h`` counts hours with a ping; ``travelled_distance_km`` sums consecutive pings (as
    skmob's ``distance_straight_line``); time at home and work are NaN.

    Parameters
    ----------
    pings : pandas or cuDF DataFrame
        ``user_id``, ``timestamp`` (tz-aware), ``lat``, ``lon``.
    period, timezone, centre, k, normalise_entropy, capacity_*, columns, backend
        As in :func:`weekly_metrics`.

    Examples
    --------
    Three pings, two at one place and one at another: random entropy ``log2 2 = 1`` bit, uncorrelated
    ``-(2/3 log2 2/3 + 1/3 log2 1/3) = 0.9183`` bits.

    >>> t = pd.Timestamp("2020-03-02 08:00", tz="UTC")
    >>> pings = pd.DataFrame({"user_id": ["a"] * 3, "timestamp": [t, t + pd.Timedelta("1min"),
    ...                       t + pd.Timedelta("2min")], "lat": [1.0, 1.0, 1.1], "lon": [2.0, 2.0, 2.0]})
    >>> m = ping_metrics(pings, period="all")
    >>> float(m.loc[0, "random_entropy_bits"]), round(float(m.loc[0, "uncorrelated_entropy_bits"]), 4)
    (1.0, 0.9183)
    """
    params = _check_params(period=period, timezone=timezone, weights="visits", centre=centre, k=k,
                           normalise_entropy=normalise_entropy, capacity_weeks=capacity_weeks,
                           capacity_min_visits=capacity_min_visits,
                           capacity_min_weekly_dwell_s=capacity_min_weekly_dwell_s)
    name = bk.resolve_backend(pings, backend)
    df = select_columns(bk.to_pandas(pings), PING_COLUMNS, columns, "pings")
    ts = utc_ns(df["timestamp"], "pings", "timestamp")
    lat, lon = _coords(df, "pings")
    users, uniques = _user_codes(df["user_id"], "pings")
    lat_code = pd.factorize(lat)[0]
    lon_code = pd.factorize(lon)[0]
    key = pd.factorize(users * (int(lat_code.max(initial=0)) + 1) + lat_code)[0]
    location = key.astype(np.int64) * (int(lon_code.max(initial=0)) + 1) + lon_code
    return _run(users, uniques, ts, ts, lat, lon, location, None, params, name)


def ping_radius_of_gyration(pings: Any, *, centre: str = "weighted", columns: Mapping[str, str] | None = None,
                            backend: str | None = None) -> Any:
    """Radius of gyration in km per user over all their pings, each ping weight 1.

    The quantity of ``skmob.measures.individual.radius_of_gyration`` (and of :func:`ping_metrics` with
    ``period="all"``), computed straight from the pings without building locations: one ``bincount`` pass
    for the centre and one for the squared haversine distances. Needs no time column and no sorting.

    Parameters
    ----------
    pings : pandas or cuDF DataFrame
        ``user_id``, ``lat``, ``lon``.
    centre, columns, backend
        As in :func:`weekly_metrics`.

    Returns
    -------
    DataFrame with ``user_id`` and ``radius_of_gyration_km``, sorted by ``user_id``.

    Examples
    --------
    Three pings at one place and one 1 km north: centre 0.25 km from the place, ``R_g = sqrt(3) / 4``.

    >>> dlat = 1.0 / 6371.0 * 180 / math.pi
    >>> pings = pd.DataFrame({"user_id": ["a"] * 4, "lat": [0.0, 0.0, 0.0, dlat], "lon": [0.0] * 4})
    >>> round(float(ping_radius_of_gyration(pings).loc[0, "radius_of_gyration_km"]), 6)
    0.433013
    """
    if centre not in CENTRES:
        raise MobilityError(f"centre={centre!r} is not one of {CENTRES}")
    name = bk.resolve_backend(pings, backend)
    df = select_columns(bk.to_pandas(pings), ("user_id", "lat", "lon"), columns, "pings")
    lat, lon = _coords(df, "pings")
    users, uniques = _user_codes(df["user_id"], "pings")
    xp = bk.array_module(name)
    if centre == "unweighted":  # the plain centre is over distinct places: use the full path
        full = ping_metrics(pd.DataFrame({"user_id": df["user_id"], "timestamp": pd.Timestamp(0, tz="UTC"),
                                          "lat": lat, "lon": lon}), period="all", centre=centre, backend=None)
        out = full[["user_id", "radius_of_gyration_km"]]
    else:
        rg = km.radius_of_gyration_km(bk.to_device(lat, xp), bk.to_device(lon, xp), None,
                                      bk.to_device(users, xp), len(uniques), xp=xp)
        out = pd.DataFrame({"user_id": uniques, "radius_of_gyration_km": bk.to_host(rg)})
    return bk.from_pandas(out.reset_index(drop=True), name)


def _check_params(*, period, timezone, weights, centre, k, normalise_entropy, capacity_weeks,
                  capacity_min_visits, capacity_min_weekly_dwell_s) -> dict:
    if period not in PERIODS:
        try:
            length = pd.Timedelta(period)
        except (ValueError, TypeError):
            length = None
        if length is None or length <= pd.Timedelta(0):
            raise MobilityError(f"period={period!r} is not one of {PERIODS} nor a positive length such as "
                                "'14D'; pick one of those")
    if timezone is not None:
        try:
            pd.Timestamp("2000-01-01").tz_localize(timezone)
        except Exception as exc:
            raise MobilityError(f"timezone={timezone!r} is not a known IANA zone ({exc}); use e.g. "
                                "'America/New_York', or None for UTC") from exc
    if weights not in WEIGHTS:
        raise MobilityError(f"weights={weights!r} is not one of {WEIGHTS}")
    if centre not in CENTRES:
        raise MobilityError(f"centre={centre!r} is not one of {CENTRES}")
    for name, value, lo in (("k", k, 1), ("capacity_weeks", capacity_weeks, 1),
                            ("capacity_min_visits", capacity_min_visits, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
            raise MobilityError(f"{name}={value!r} must be an integer >= {lo}")
    if not isinstance(normalise_entropy, (bool, np.bool_)):
        raise MobilityError(f"normalise_entropy={normalise_entropy!r} must be True or False")
    capacity_min_weekly_dwell_s = number("capacity_min_weekly_dwell_s", capacity_min_weekly_dwell_s,
                                         allow_zero=True)
    return {"period": period, "timezone": timezone, "weights": weights, "centre": centre, "k": int(k),
            "normalise_entropy": bool(normalise_entropy), "capacity_weeks": int(capacity_weeks),
            "capacity_min_visits": int(capacity_min_visits),
            "capacity_min_weekly_dwell_s": float(capacity_min_weekly_dwell_s)}


def _coords(df: pd.DataFrame, table: str) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        try:
            values = df[name].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise MobilityError(f"{table}: column {name!r} is not numeric ({exc})") from exc
        if len(values) and values.min() >= -limit and values.max() <= limit:  # NaN fails both: no fast pass
            out.append(values)
            continue
        bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) > limit))
        if len(bad):
            raise MobilityError(f"{table} row {int(bad[0])}: {name!r}={values[bad[0]]} is missing or outside "
                                f"+-{limit:g} ({len(bad)} rows); validate the input first")
        out.append(values)
    return out[0], out[1]


def _location_ids(col: pd.Series) -> np.ndarray:
    try:
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise MobilityError(f"stops: column 'location_id' is not an integer column ({exc})") from exc
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0) | (values != np.round(values)))
    if len(bad):
        raise MobilityError(f"stops row {int(bad[0])}: location_id={col.iloc[bad[0]]!r} is not a location "
                            f"({len(bad)} rows); run the locations step first so every stop has an id >= 0")
    return col.to_numpy(dtype=np.int64)


def _user_codes(col: pd.Series, table: str) -> tuple[np.ndarray, pd.Index]:
    if col.isna().any():
        row = int(np.flatnonzero(col.isna().to_numpy())[0])
        raise MobilityError(f"{table} row {row}: 'user_id' is missing; drop those rows")
    codes, uniques = user_codes(col)
    return codes, pd.Index(uniques)


def _run(users, uniques, start, end, lat, lon, location, home_work, params, name):
    users = np.ascontiguousarray(users, dtype=np.int64)
    start = np.ascontiguousarray(start, dtype=np.int64)
    if not is_user_time_sorted(users, start):
        order = user_time_order(users, start, len(uniques))  # np.lexsort((start, users)), linear on sorted pieces
        users, start, end, lat, lon, location = (a[order] for a in (users, start, end, lat, lon, location))
    n_users = len(uniques)
    # location codes per (user, location_id), numbered in order of first visit
    raw_code, raw_uniques = pd.factorize(location)
    pair = users * (len(raw_uniques) + 1) + raw_code
    loc, pair_uniques = pd.factorize(pair)
    loc = loc.astype(np.int64)
    n_loc = len(pair_uniques)
    count = np.bincount(loc, minlength=n_loc)
    loc_lat = np.bincount(loc, weights=lat, minlength=n_loc) / np.maximum(count, 1)
    loc_lon = np.bincount(loc, weights=lon, minlength=n_loc) / np.maximum(count, 1)
    xp = bk.array_module(name)
    empty = len(users) == 0
    lo = int(start.min()) if not empty else 0
    hi = int(end.max()) if not empty else 0
    bounds = period_bounds_ns(lo, hi, params["period"], params["timezone"])
    week_bounds = None if params["period"] == "week" else period_bounds_ns(lo, hi, "week", params["timezone"])
    labels = {}
    if home_work is not None:
        labels = _labels(home_work, uniques, raw_uniques, pair_uniques, lo, hi, params["timezone"], xp)
    def dev(a):
        return bk.to_device(a, xp)

    if empty:
        res = {"row_user": np.zeros(0, np.int64), "row_period": np.zeros(0, np.int64)}
        res.update({c: np.zeros(0) for c in METRIC_COLUMNS})
    else:
        res = km.period_metrics(
            dev(users), dev(start), dev(end), dev(lat), dev(lon), dev(loc), dev(loc_lat), dev(loc_lon),
            dev(bounds), n_users=n_users, weight_by_dwell=params["weights"] == "dwell",
            centre_weighted=params["centre"] == "weighted", k=params["k"],
            normalise_entropy=params["normalise_entropy"],
            week_bounds_ns=None if week_bounds is None else dev(week_bounds),
            capacity_weeks=params["capacity_weeks"], capacity_min_visits=params["capacity_min_visits"],
            capacity_min_weekly_dwell_s=params["capacity_min_weekly_dwell_s"], xp=xp, **labels)
        res = {key: bk.to_host(value) for key, value in res.items()}
    period_idx = res["row_period"]
    out = pd.DataFrame({
        "user_id": uniques.take(res["row_user"]),
        "period_start": pd.to_datetime(bounds[period_idx], utc=True).as_unit("ns"),
        "period_end": pd.to_datetime(bounds[period_idx + 1], utc=True).as_unit("ns"),
    })
    for col in METRIC_COLUMNS:
        values = res[col]
        is_count = col in ("n_stops", "distinct_locations", "new_locations")
        out[col] = values.astype(np.int64) if is_count else values.astype(np.float64)
    if params["normalise_entropy"]:
        out = out.rename(columns={"uncorrelated_entropy_bits": "uncorrelated_entropy_norm",
                                  "uncorrelated_entropy_bits_nonwork": "uncorrelated_entropy_norm_nonwork"})
    out.attrs["params"] = dict(params)
    return bk.from_pandas(out, name)




def period_bounds_ns(lo_ns: int, hi_ns: int, period: str, timezone: str | None) -> np.ndarray:
    """UTC nanosecond bounds of the periods covering ``[lo_ns, hi_ns]``.

    Periods begin at local midnight of ``timezone`` (UTC if None): Mondays for ``"week"``, the 1st for
    ``"month"``, every day for ``"day"``, Mondays every fixed length from 2000-01-03 for lengths such as
    ``"14D"``; ``"all"`` is one period ``[lo_ns, hi_ns + 1)``. A midnight that does not exist because of a
    DST change moves forward; an ambiguous one takes the DST reading.

    Examples
    --------
    >>> lo = pd.Timestamp("2020-03-04", tz="UTC").value
    >>> b = period_bounds_ns(lo, lo + 10 * 86400 * 10**9, "week", None)
    >>> [str(x.date()) for x in pd.to_datetime(b, utc=True)]
    ['2020-03-02', '2020-03-09', '2020-03-16']
    """
    if period == "all":
        return np.array([lo_ns, hi_ns + 1], dtype=np.int64)
    tz = timezone or "UTC"
    lo = pd.Timestamp(lo_ns, tz="UTC").tz_convert(tz).tz_localize(None).normalize()
    hi = pd.Timestamp(hi_ns, tz="UTC").tz_convert(tz).tz_localize(None)
    if period == "day":
        first, freq, step = lo, "D", pd.Timedelta(days=1)
    elif period == "week":
        first, freq, step = lo - pd.Timedelta(days=lo.weekday()), "7D", pd.Timedelta(days=7)
    elif period == "month":
        first, freq, step = lo.replace(day=1), "MS", pd.Timedelta(days=31)
    else:
        step = pd.Timedelta(period)
        first, freq = _ANCHOR + ((lo - _ANCHOR) // step) * step, step
    naive = pd.date_range(first, hi + 2 * step, freq=freq)
    local = naive.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
    bounds = local.tz_convert("UTC").as_unit("ns").asi8
    n = int(np.searchsorted(bounds, hi_ns, side="right")) + 1
    return np.ascontiguousarray(bounds[:n], dtype=np.int64)


def _labels(home_work, uniques, raw_uniques, pair_uniques, lo_ns, hi_ns, timezone, xp) -> dict:
    df = select_columns(bk.to_pandas(home_work), LABEL_COLUMNS, None, "home_work")
    day_bounds = period_bounds_ns(lo_ns, hi_ns, "day", timezone)
    tz = timezone or "UTC"
    day0 = pd.Timestamp(day_bounds[0], tz="UTC").tz_convert(tz).tz_localize(None).normalize()
    dates = pd.to_datetime(df["date"], errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise MobilityError(f"home_work row {row}: 'date' is missing or not a date; fix the label table")
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)
    day = ((dates.dt.normalize() - day0) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)
    user = pd.Index(uniques).get_indexer(df["user_id"])
    n_days = len(day_bounds) - 1
    keep = (user >= 0) & (day >= 0) & (day < n_days)
    key = user.astype(np.int64) * n_days + day
    if pd.Series(key[keep]).duplicated().any():
        raise MobilityError("home_work: more than one row for the same user_id and date; keep one label "
                            "per user and day")
    pair_index = pd.Index(pair_uniques)
    out = {}
    for name, col in (("label_home_loc", "home_location_id"), ("label_work_loc", "work_location_id")):
        raw = pd.to_numeric(df[col], errors="coerce").astype("Float64")
        known = raw.notna().to_numpy()
        raw_code = pd.Index(raw_uniques).get_indexer(raw.fillna(-1).to_numpy(dtype=np.int64))
        codes = pair_index.get_indexer(user.astype(np.int64) * (len(raw_uniques) + 1) + raw_code)
        out[name] = np.where(known & (raw_code >= 0) & (user >= 0), codes, -1).astype(np.int64)
    order = np.argsort(key[keep], kind="stable")
    def dev(a):
        return bk.to_device(np.ascontiguousarray(a), xp)

    return {"day_bounds_ns": dev(day_bounds), "label_key": dev(key[keep][order]),
            "label_home_loc": dev(out["label_home_loc"][keep][order]),
            "label_work_loc": dev(out["label_work_loc"][keep][order])}
