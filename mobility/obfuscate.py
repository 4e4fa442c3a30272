"""Home and work as census block groups (CBG), as the privacy-enhanced feed delivers them.

Two ways to the ``home_work_daily`` table of :mod:`mobility.schema`:

* :func:`obfuscate_to_cbg` replaces detected home/work locations (:func:`mobility.home_work.detect_home_work`)
  by the 12-digit GEOID of the block group containing the location's centre (a spatial join on an STR-tree,
  :func:`mobility.census.geometry.assign_points`); downstream steps use only the CBG. No coordinates are
  returned.
* :func:`labels_from_provider` validates a provider's table that already gives ``home_cbg``/``work_cbg``
  per user and day (Cuebiq-style), skipping detection.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from mobility.census.geoid import normalize_geoid
from mobility.census.geometry import assign_points
from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.schema import HOME_WORK_DAILY

log = logging.getLogger(__name__)

CBG_DIGITS = 12


def _check_cbg(cbg) -> gpd.GeoDataFrame:
    if not isinstance(cbg, gpd.GeoDataFrame):
        raise MobilityError(
            f"cbg must be a GeoDataFrame of block-group polygons, got {type(cbg).__name__}; "
            "read it with mobility.census.geometry.read_geometry"
        )
    require_columns(cbg, ["GEOID"], "cbg", "read it with mobility.census.geometry.read_geometry (finds the GEOID column)")
    if cbg.crs is None:
        raise MobilityError("cbg has no coordinate reference system; set it (cbg.set_crs(...)) or use read_geometry")
    geoid, _ = normalize_geoid(cbg["GEOID"], level="cbg", source="cbg", column="GEOID")
    out = gpd.GeoDataFrame({"GEOID": geoid.to_numpy()}, geometry=cbg.geometry.to_numpy(), crs=cbg.crs)
    return out


def obfuscate_to_cbg(labels: pd.DataFrame, locations: pd.DataFrame, cbg: gpd.GeoDataFrame) -> pd.DataFrame:
    """Add the home and work CBG of each user-day (the spatial join of method.md section 2.4).

    Parameters
    ----------
    labels : DataFrame
        ``user_id, date, home_location_id, work_location_id, work_status`` from
        :func:`mobility.home_work.detect_home_work`.
    locations : DataFrame
        ``user_id, location_id, lat, lon`` (WGS84 degrees), one row per user location, e.g.
        ``mobility.locations.locations_table(stops)``.
    cbg : GeoDataFrame
        Block-group polygons with a 12-digit ``GEOID`` (numbers are zero-padded), any CRS.

    Returns
    -------
    DataFrame
        The ``home_work_daily`` table: ``user_id, date, home_location_id, work_location_id, work_status,
        home_cbg, work_cbg`` (string GEOIDs, NA where no location was detected or the location lies in no polygon;
        a location on the border of several polygons gets the smallest GEOID). ``attrs`` holds
        ``n_locations_outside_cbg`` and ``n_user_days_outside_cbg`` (also logged as a warning).

    Raises
    ------
    MobilityError
        Missing columns, a labelled location absent from ``locations``, bad coordinates or GEOIDs.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cbg = gpd.GeoDataFrame({"GEOID": ["421010001001", "421010001002"]},
    ...                        geometry=[box(-75.2, 39.9, -75.1, 40.0), box(-75.1, 39.9, -75.0, 40.0)], crs=4326)
    >>> labels = pd.DataFrame({"user_id": ["u"], "date": [pd.Timestamp("2020-03-02")],
    ...                        "home_location_id": pd.array([0], "Int64"), "work_location_id": pd.array([1], "Int64"),
    ...                        "work_status": ["fixed"]})
    >>> locs = pd.DataFrame({"user_id": ["u", "u"], "location_id": [0, 1], "lat": [39.95, 39.95],
    ...                      "lon": [-75.15, -75.05]})
    >>> obfuscate_to_cbg(labels, locs, cbg)[["home_cbg", "work_cbg"]].values.tolist()
    [['421010001001', '421010001002']]
    """
    require_columns(labels, HOME_WORK_DAILY[:5], "labels", "pass the output of detect_home_work")
    require_columns(locations, ["user_id", "location_id", "lat", "lon"], "locations",
             "pass one row per user location with its centre (mobility.locations.locations_table)")
    polygons = _check_cbg(cbg)
    out = labels[list(HOME_WORK_DAILY[:5])].copy()
    out["work_status"] = out["work_status"].astype("string")
    for col in ("home_location_id", "work_location_id"):
        out[col] = out[col].astype("Int64")

    wanted = pd.concat(
        [
            out[["user_id", col]].rename(columns={col: "location_id"}).dropna()
            for col in ("home_location_id", "work_location_id")
        ]
    ).drop_duplicates()
    wanted["location_id"] = wanted["location_id"].astype("int64")
    locs = locations[["user_id", "location_id", "lat", "lon"]].drop_duplicates(["user_id", "location_id"])
    locs = locs.astype({"location_id": "int64"})
    places = wanted.merge(locs, on=["user_id", "location_id"], how="left")
    absent = places["lat"].isna() | places["lon"].isna()
    if absent.any():
        first = places[absent].iloc[0]
        raise MobilityError(
            f"locations: user {first['user_id']!r} location_id {first['location_id']} is labelled home or work "
            f"but has no lat/lon ({int(absent.sum())} such locations); pass the locations table of the same stops"
        )
    coords = places[["lat", "lon"]].to_numpy(dtype=float)
    places["cbg"] = assign_points(coords[:, 0], coords[:, 1], polygons).to_numpy()
    places = places[["user_id", "location_id", "cbg"]]

    for role in ("home", "work"):
        key = f"{role}_location_id"
        joined = out[["user_id", key]].merge(
            places.rename(columns={"location_id": key}), on=["user_id", key], how="left"
        )
        out[f"{role}_cbg"] = pd.array(joined["cbg"].to_numpy(), dtype="string")

    outside = places["cbg"].isna()
    n_days_outside = int(
        sum(
            (out[f"{r}_location_id"].notna() & out[f"{r}_cbg"].isna()).sum()
            for r in ("home", "work")
        )
    )
    out.attrs["n_locations_outside_cbg"] = int(outside.sum())
    out.attrs["n_user_days_outside_cbg"] = n_days_outside
    if outside.any():
        log.warning(
            "obfuscate: %d of %d home/work locations lie in no CBG polygon; %d user-day labels get no CBG",
            int(outside.sum()), len(places), n_days_outside,
        )
        lat, lon = (coords[outside.to_numpy(), i] for i in (0, 1))
        fits = np.abs(lon) <= 90
        n_swapped = int(assign_points(lon[fits], lat[fits], polygons).notna().sum())
        if n_swapped:
            log.warning("obfuscate: %d of them would lie in one with lat and lon swapped: are the pings' latitude "
                        "and longitude columns the wrong way round? (map them with [inputs] columns = { lat = ..., "
                        "lon = ... }, or read_pings(columns=...))", n_swapped)
    return out.reset_index(drop=True)


def labels_from_provider(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a provider's daily home/work CBG table and give it the ``home_work_daily`` form.

    Parameters
    ----------
    df : DataFrame
        ``user_id``, ``date`` (local calendar day: date, naive datetime or ISO text), ``home_cbg``,
        ``work_cbg`` (12-digit GEOID strings, missing where unknown). One row per user and day.

    Returns
    -------
    DataFrame
        ``user_id, date`` (datetime64[ns], midnight), ``home_location_id, work_location_id`` (Int64, all NA:
        the provider gives no locations), ``work_status`` (``fixed`` where a work CBG is given, else
        ``unknown``: the provider does not say why), ``home_cbg, work_cbg`` (string), sorted by user and date.

    Raises
    ------
    MobilityError
        Missing columns or user ids, unparseable or tz-aware dates, GEOIDs that are not 12-digit text,
        repeated user-days.

    Examples
    --------
    >>> df = pd.DataFrame({"user_id": ["u", "u"], "date": ["2020-03-03", "2020-03-02"],
    ...                    "home_cbg": ["421010001001", "421010001001"], "work_cbg": [None, "421010002001"]})
    >>> out = labels_from_provider(df)
    >>> out["date"].dt.day.tolist(), out["work_cbg"].tolist()
    ([2, 3], ['421010002001', <NA>])
    """
    require_columns(df, ["user_id", "date", "home_cbg", "work_cbg"], "provider labels",
             "give user_id, date, home_cbg and work_cbg (map your column names first)")
    if df["user_id"].isna().any():
        row = int(np.flatnonzero(df["user_id"].isna().to_numpy())[0])
        raise MobilityError(f"provider labels row {row}: user_id is missing; drop or fix that row")
    date = df["date"]
    if isinstance(date.dtype, pd.DatetimeTZDtype):
        raise MobilityError(
            "provider labels: column 'date' is tz-aware; give local calendar days (naive dates), "
            "e.g. df['date'].dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()"
        )
    parsed = pd.to_datetime(date, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise MobilityError(
            f"provider labels row {row}: column 'date' value {date.iloc[row]!r} is not a date; use YYYY-MM-DD"
        )
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        raise MobilityError("provider labels: column 'date' holds time-zone offsets; give local calendar days")
    out = pd.DataFrame(
        {
            "user_id": df["user_id"].to_numpy(),
            "date": parsed.dt.normalize().astype("datetime64[ns]").to_numpy(),
            "home_location_id": pd.array([pd.NA] * len(df), dtype="Int64"),
            "work_location_id": pd.array([pd.NA] * len(df), dtype="Int64"),
        }
    )
    for col in ("home_cbg", "work_cbg"):
        values = df[col]
        if not (pd.api.types.is_string_dtype(values.dtype) or values.dtype == object or values.isna().all()):
            raise MobilityError(
                f"provider labels: column {col!r} is {values.dtype}, not text; numbers lose the leading zero "
                f"of GEOIDs, so read the file with dtype={{'{col}': str}}"
            )
        text = values.astype("string")
        ok = text.isna() | text.str.fullmatch(rf"\d{{{CBG_DIGITS}}}").fillna(False)
        if not ok.all():
            row = int(np.flatnonzero(~ok.to_numpy())[0])
            raise MobilityError(
                f"provider labels row {row}: column {col!r} value {values.iloc[row]!r} is not a 12-digit "
                "block-group GEOID (state 2 + county 3 + tract 6 + block group 1 digits); fix or blank it"
            )
        out[col] = text.to_numpy()
        out[col] = out[col].astype("string")
    out.insert(4, "work_status", pd.array(np.where(out["work_cbg"].notna(), "fixed", "unknown"), dtype="string"))
    dup = out.duplicated(["user_id", "date"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise MobilityError(
            f"provider labels row {row}: user {out['user_id'].iloc[row]!r} on {out['date'].iloc[row].date()} "
            "appears more than once; keep one row per user and day"
        )
    return out.sort_values(["user_id", "date"], kind="stable").reset_index(drop=True)


def modal_cbg(labels: pd.DataFrame, column: str, by: tuple[str, ...] = ("user_id",)) -> pd.DataFrame:
    """The most frequent non-missing CBG of ``column`` per group of ``by`` (ties: the smallest GEOID).

    The one reduction of daily labels to a CBG per user (or per user and period): each user's home, the
    baseline work place W_u, the weekly CBGs of the census features. Groups with no CBG are absent.

    Examples
    --------
    >>> labels = pd.DataFrame({"user_id": ["a", "a", "a", "b"],
    ...                        "home_cbg": ["421010001002", "421010001001", "421010001002", None]})
    >>> modal_cbg(labels, "home_cbg").to_dict("list")
    {'user_id': ['a'], 'home_cbg': ['421010001002']}
    >>> modal_cbg(labels.iloc[:2], "home_cbg").to_dict("list")   # a tie
    {'user_id': ['a'], 'home_cbg': ['421010001001']}
    """
    by = list(by)
    ok = labels[column].notna()
    base = labels.loc[ok, by].assign(**{column: labels.loc[ok, column].astype(str)})
    # sorted integer codes of the groups' keys and the CBGs (the order of groupby(sort=True)); rows with a
    # missing key are dropped, as groupby drops them
    codes = [pd.factorize(base[c], sort=True, use_na_sentinel=True)[0].astype(np.int64) for c in by + [column]]
    keep = np.logical_and.reduce([c >= 0 for c in codes])
    codes = [c[keep] for c in codes]
    group = np.zeros(int(keep.sum()), dtype=np.int64)
    for c in codes[:-1]:
        group = group * (int(c.max()) + 1 if c.size else 1) + c
    cbg = codes[-1]
    pair, first, n = np.unique(group * (int(cbg.max()) + 1 if cbg.size else 1) + cbg, return_index=True,
                               return_counts=True)
    pair_group = group[first]
    order = np.lexsort((cbg[first], -n, pair_group))  # per group: most days first, then the smallest GEOID
    lead = order[np.r_[True, pair_group[order][1:] != pair_group[order][:-1]]] if order.size else order
    rows = np.flatnonzero(keep)[first[lead]]
    out = base.iloc[rows][by + [column]].reset_index(drop=True)
    out.attrs = {}  # a table of its own (as the groupby's): not the labels' attrs
    return out


def weekly_cbgs(labels: pd.DataFrame) -> pd.DataFrame:
    """Each user's modal home and work CBG per ISO week (Monday) from daily labels; missing stays missing.

    Examples
    --------
    >>> labels = pd.DataFrame({"user_id": ["a"] * 3, "date": pd.to_datetime(["2020-01-06", "2020-01-07", "2020-01-13"]),
    ...                        "home_cbg": ["1", "1", "2"], "work_cbg": [None, "9", None]})
    >>> weekly_cbgs(labels)[["week", "home_cbg", "work_cbg"]].fillna("-").astype(str).values.tolist()
    [['2020-01-06', '1', '9'], ['2020-01-13', '2', '-']]
    """
    weekly = labels.assign(week=labels["date"].dt.to_period("W-SUN").dt.start_time)
    out = weekly[["user_id", "week"]].drop_duplicates().reset_index(drop=True)
    for column in ("home_cbg", "work_cbg"):
        out = out.merge(modal_cbg(weekly, column, by=("user_id", "week")), on=["user_id", "week"], how="left")
    return out.astype({"home_cbg": "string", "work_cbg": "string"})
