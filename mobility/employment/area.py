"""Unemployment by area: county and state, week and month, with k-anonymity suppression (method.md 2.7, 3).

Two routes:

* **individual** (:func:`area_unemployment`): users are placed in the county of their modal home CBG
  (:func:`home_cbg`); a cell counts the user-weeks of known status (``labour_force``), the ``unemployed``
  ones, and ``unemployed_expected`` = the sum of ``p_unemployed``. A week belongs to the month holding its
  Thursday (ISO rule), so month cells count user-weeks.
* **sector** (:func:`sector_area_unemployment`): ``unemployed_g(t) = sum_s P_s(t) E_gs`` with ``E_gs`` the
  jobs of sector s in county g from LODES WAC (by *workplace* county), ``labour_force`` = ``sum_s E_gs``.

Every cell behind fewer than ``min_cell_users`` users is suppressed: counts and rates NaN, ``suppressed``
True. Schema ``area_unemployment``: ``method``, ``route``, ``level`` (county/state), ``area`` (5- or 2-digit
FIPS), ``period`` (week/month), ``period_start`` (datetime64[ns], naive), ``n_users``, ``labour_force``,
``unemployed``, ``unemployed_expected``, ``rate``, ``rate_expected`` (float64), ``suppressed`` (bool).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.employment.params import EmploymentParams
from mobility.employment.sector import SECTORS
from mobility.obfuscate import modal_cbg

LEVEL_DIGITS = {"county": 5, "state": 2}
LEVELS = tuple(LEVEL_DIGITS)
AREA_COLUMNS = ("method", "route", "level", "area", "period", "period_start", "n_users", "labour_force",
                "unemployed", "unemployed_expected", "rate", "rate_expected", "suppressed")


def home_cbg(labels: pd.DataFrame) -> pd.DataFrame:
    """Each user's most frequent home CBG over all labelled days (ties: smallest GEOID).

    Examples
    --------
    >>> lab = pd.DataFrame({"user_id": ["a", "a", "a"], "home_cbg": ["421010001002", "421010001001", None]})
    >>> home_cbg(lab).to_dict("list")
    {'user_id': ['a'], 'home_cbg': ['421010001001']}
    """
    require_columns(labels, ["user_id", "home_cbg"], "labels", "pass the home_work_daily table")
    return modal_cbg(labels.assign(user_id=labels["user_id"].astype(str)), "home_cbg")


def _suppress(out: pd.DataFrame, k: int) -> pd.DataFrame:
    out["suppressed"] = out["n_users"] < k
    for c in ("n_users", "labour_force", "unemployed", "unemployed_expected", "rate", "rate_expected"):
        out[c] = out[c].astype(float).where(~out["suppressed"])
    return out


def area_unemployment(employment: pd.DataFrame, homes: pd.DataFrame, *, params: EmploymentParams | None = None,
                      levels: tuple[str, ...] = ("county", "state"),
                      periods: tuple[str, ...] = ("week", "month")) -> pd.DataFrame:
    """Counts and rates per area and period from ``employment_weekly`` (individual route).

    Parameters
    ----------
    employment : DataFrame
        ``employment_weekly`` (one or both methods).
    homes : DataFrame
        ``user_id``, ``home_cbg`` (:func:`home_cbg`).
    params : EmploymentParams, optional
        ``min_cell_users`` sets the suppression.
    levels, periods : tuples
        Subsets of ``("county", "state")`` and ``("week", "month")``.

    Examples
    --------
    Twelve users of county 42101, three unemployed, one week; cells with < 10 users are suppressed:

    >>> emp = pd.DataFrame({"user_id": [f"u{i}" for i in range(12)], "week": pd.Timestamp("2020-04-06"),
    ...     "status": ["unemployed"] * 3 + ["employed"] * 9, "p_unemployed": [0.9] * 3 + [0.1] * 9,
    ...     "method": "signal"})
    >>> homes = pd.DataFrame({"user_id": [f"u{i}" for i in range(12)], "home_cbg": ["421010001001"] * 12})
    >>> a = area_unemployment(emp, homes, levels=("county",), periods=("week",))
    >>> r = a.iloc[0]
    >>> r["area"], int(r["n_users"]), float(r["unemployed"]), float(r["rate"]), round(float(r["rate_expected"]), 3)
    ('42101', 12, 3.0, 0.25, 0.3)
    >>> bool(area_unemployment(emp.head(5), homes, levels=("county",), periods=("week",))["suppressed"][0])
    True
    """
    params = params or EmploymentParams()
    require_columns(employment, ["user_id", "week", "status", "p_unemployed", "method"], "employment",
            "pass the employment_weekly table")
    require_columns(homes, ["user_id", "home_cbg"], "homes", "build it with home_cbg(labels)")
    known = employment[employment["status"].isin(["employed", "unemployed"]).to_numpy(dtype=bool)]
    user_code, users = pd.factorize(known["user_id"])
    users = np.asarray(users, dtype=object).astype(str)
    home = pd.Series(homes["home_cbg"].astype(str).to_numpy(), index=homes["user_id"].astype(str).to_numpy())
    home = home[~home.index.duplicated()].reindex(users)
    housed = home.notna().to_numpy()[user_code]  # users without a home CBG are in no area
    known = known[housed]
    user_code = user_code[housed]
    method_code, methods = pd.factorize(known["method"].astype(str), sort=True)
    week_code, weeks = pd.factorize(pd.to_datetime(known["week"]), sort=True)
    weeks = pd.DatetimeIndex(weeks)
    unemp = (known["status"] == "unemployed").to_numpy(dtype=float)
    expected = known["p_unemployed"].to_numpy(dtype=float)
    frames = []
    for period in periods:
        start = weeks if period == "week" else (weeks + pd.Timedelta(days=3)).to_period("M").to_timestamp()
        period_code, starts = pd.factorize(start.to_numpy()[week_code], sort=True)
        # each user once per method and period: the users behind a cell
        n_m, n_p, n_u = len(methods), len(starts), len(users)
        seen = np.sort((method_code.astype(np.int64) * n_p + period_code) * n_u + user_code)
        seen = seen[np.r_[True, seen[1:] != seen[:-1]]] if len(seen) else seen
        seen_user = seen % n_u
        seen_mp = seen // n_u
        for level in levels:
            area_code, areas = pd.factorize(home.str.slice(0, LEVEL_DIGITS[level]).to_numpy(), sort=True)
            n_a = len(areas)
            cell = (method_code.astype(np.int64) * n_a + area_code[user_code]) * n_p + period_code
            size = n_m * n_a * n_p
            count = np.bincount(cell, minlength=size)
            seen_cell = (seen_mp // n_p * n_a + area_code[seen_user]) * n_p + seen_mp % n_p
            ok = np.flatnonzero(count > 0)
            out = pd.DataFrame({
                "method": np.asarray(methods, dtype=object)[ok // (n_a * n_p)], "area": areas[ok // n_p % n_a],
                "period_start": starts[ok % n_p],
                "n_users": np.bincount(seen_cell, minlength=size)[ok],
                "labour_force": count[ok],
                "unemployed": np.bincount(cell, weights=unemp, minlength=size)[ok],
                "unemployed_expected": np.bincount(cell, weights=expected, minlength=size)[ok],
            })
            out["rate"] = out["unemployed"] / out["labour_force"]
            out["rate_expected"] = out["unemployed_expected"] / out["labour_force"]
            out["route"], out["level"], out["period"] = "individual", level, period
            frames.append((LEVELS.index(level), period, out))
    frames = [f for _, _, f in sorted(frames, key=lambda t: (t[0], periods.index(t[1])))]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(AREA_COLUMNS))
    out = _suppress(out, params.min_cell_users)
    out["period_start"] = pd.to_datetime(out["period_start"]).astype("datetime64[ns]")
    return out[list(AREA_COLUMNS)]


def sector_area_unemployment(sector_weekly: pd.DataFrame, wac_county: pd.DataFrame, *,
                             params: EmploymentParams | None = None, n_users: pd.Series | None = None,
                             periods: tuple[str, ...] = ("week", "month")) -> pd.DataFrame:
    """The sector route: ``sum_s P_s(t) E_gs`` per workplace county (and state) and period.

    Parameters
    ----------
    sector_weekly : DataFrame
        ``sector``, ``week``, ``p_unemployed``, ``weight`` (:func:`mobility.employment.sector.sector_weekly`).
    wac_county : DataFrame
        LODES WAC aggregated to county: ``GEOID`` (5 digits) and ``CNS01..CNS20``
        (``aggregate_lodes(read_lodes(wac), "county")``).
    n_users : Series, optional
        Users behind each week (index ``week``); default: the sector weights' sum in that week.

    Examples
    --------
    >>> sw = pd.DataFrame({"sector": list(SECTORS), "week": pd.Timestamp("2020-04-06"),
    ...                    "p_unemployed": [0.5] + [0.0] * 19, "weight": [10.0] + [1.0] * 19})
    >>> wac = pd.DataFrame({"GEOID": ["42101"], **{s: [0] for s in SECTORS}}); wac["CNS01"], wac["CNS02"] = 100, 300
    >>> a = sector_area_unemployment(sw, wac, periods=("week",))
    >>> r = a.iloc[0]
    >>> r["level"], r["area"], float(r["unemployed_expected"]), float(r["rate_expected"])
    ('county', '42101', 50.0, 0.125)
    """
    params = params or EmploymentParams()
    require_columns(sector_weekly, ["sector", "week", "p_unemployed", "weight"], "sector_weekly", "pass signal tables")
    require_columns(wac_county, ["GEOID", *SECTORS], "wac_county", "aggregate WAC to county with aggregate_lodes(..., 'county')")
    p = sector_weekly.pivot(index="week", columns="sector", values="p_unemployed").reindex(columns=list(SECTORS))
    users = n_users if n_users is not None else sector_weekly.groupby("week")["weight"].sum()
    frames = []
    wac = wac_county.assign(GEOID=wac_county["GEOID"].astype(str).str.slice(0, 5))
    for level in ("county", "state"):
        e = wac.groupby(wac["GEOID"].str.slice(0, LEVEL_DIGITS[level]))[list(SECTORS)].sum().astype(float)
        unemp = p.fillna(0.0).to_numpy() @ e.to_numpy().T  # (weeks, areas)
        total = e.sum(axis=1).to_numpy()
        long = pd.DataFrame({"period_start": np.repeat(p.index.values, len(e)),
                             "area": np.tile(e.index.values, len(p)),
                             "unemployed_expected": unemp.ravel(), "labour_force": np.tile(total, len(p)),
                             "n_users": np.repeat(users.reindex(p.index).to_numpy(), len(e))})
        for period in periods:
            g = long.copy()
            if period == "month":
                g["period_start"] = (pd.to_datetime(g["period_start"]) + pd.Timedelta(days=3)).dt.to_period("M").dt.start_time
                g = g.groupby(["area", "period_start"], sort=True).agg(
                    unemployed_expected=("unemployed_expected", "mean"), labour_force=("labour_force", "mean"),
                    n_users=("n_users", "min")).reset_index()
            g["unemployed"] = np.nan
            g["rate"] = np.nan
            g["rate_expected"] = g["unemployed_expected"] / g["labour_force"]
            g["method"], g["route"], g["level"], g["period"] = "signal", "sector", level, period
            frames.append(g)
    out = _suppress(pd.concat(frames, ignore_index=True), params.min_cell_users)
    out["period_start"] = pd.to_datetime(out["period_start"]).astype("datetime64[ns]")
    return out[list(AREA_COLUMNS)]
