"""Data coverage of the run: how many users stand behind the report, week by week and in the month.

Schema ``coverage``: ``period`` (``week`` or ``month``), ``period_start`` (``YYYY-MM-DD`` local), ``measure``
(``with data``, ``home detected``, ``work detected``, ``status known``, ``job losers``), ``n_users``,
``median_hours`` (median hours of data per user, for ``with data``), ``suppressed``. Counts below
``k_min_users`` are suppressed like every other cell.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from mobility.localtime import local_time
from mobility.report.privacy import check_k, suppress_small
from mobility.report.unemployment import check_month, month_text

COLUMNS = ["period", "period_start", "measure", "n_users", "median_hours", "suppressed"]


def _local_day(ts: pd.Series, timezone: str) -> pd.Series:
    ts = pd.to_datetime(ts)
    if ts.dt.tz is None:
        return ts.dt.normalize()
    return local_time(ts, timezone=timezone).dt.normalize()


def _user_codes(user_id: pd.Series) -> np.ndarray:
    """An integer per distinct user id (only counted and grouped here): no Python string per row, which for
    a region's 27M user-days of ``home_work_daily`` cost gigabytes."""
    return pd.factorize(user_id)[0]


def as_parts(table: pd.DataFrame | Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
    """A table given whole or as parts (an iterable of DataFrames, read lazily), as parts.

    Examples
    --------
    >>> [len(p) for p in as_parts(pd.DataFrame({"a": [1, 2]}))], [len(p) for p in as_parts(iter([]))]
    ([2], [])
    """
    return [table] if isinstance(table, pd.DataFrame) else table


def _users_by_week(user_id: np.ndarray, week: np.ndarray, month: str) -> tuple[pd.Series, int]:
    """Distinct users per week and over the weeks of ``month`` (weeks whose Thursday falls in it)."""
    f = pd.DataFrame({"user_id": user_id, "week": week})
    in_month = month_text(pd.to_datetime(f["week"]) + pd.Timedelta(days=3)) == month
    return f.groupby("week")["user_id"].nunique(), int(f.loc[in_month.to_numpy(), "user_id"].nunique())


def _home_work_counts(home_work: pd.DataFrame | Iterable[pd.DataFrame], month: str) -> list[tuple]:
    """``(measure, users per week, users in the month)`` of detected homes and workplaces, part by part: users
    never span parts, so the counts add and only one part is held at a time."""
    counts: dict[str, tuple[list[pd.Series], int]] = {"home detected": ([], 0), "work detected": ([], 0)}
    for part in as_parts(home_work):
        day = pd.to_datetime(part["date"])
        week = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.normalize().to_numpy()
        users = _user_codes(part["user_id"])
        for column, label in (("home_cbg", "home detected"), ("work_cbg", "work detected")):
            ok = part[column].notna().to_numpy()
            weekly, n_month = _users_by_week(users[ok], week[ok], month)
            counts[label] = (counts[label][0] + [weekly], counts[label][1] + n_month)
    return [(label, pd.concat(weekly).groupby(level=0).sum() if weekly else pd.Series(dtype=int), n_month)
            for label, (weekly, n_month) in counts.items()]


def coverage_table(metrics_weekly: pd.DataFrame, month: str, *,
                   home_work: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
                   employment: pd.DataFrame | None = None, method: str = "signal", timezone: str = "UTC",
                   k_min_users: int = 10) -> pd.DataFrame:
    """Users behind each week of the run and behind the report month (schema ``coverage``).

    A week belongs to the month holding its Thursday (ISO rule); the month rows count distinct users over
    the month's weeks. ``home_work`` (``home_work_daily``) may come as one DataFrame or as its parts, whose
    users must not overlap (the pipeline's partitions): it is then counted part by part, never held whole.

    Examples
    --------
    >>> mw = pd.DataFrame({"user_id": [f"u{i}" for i in range(12)], "coverage_h": [10.0] * 11 + [0.0],
    ...                    "period_start": pd.Timestamp("2020-04-06 04:00", tz="UTC")})
    >>> t = coverage_table(mw, "2020-04", timezone="America/New_York")
    >>> t[["period", "period_start", "measure", "n_users", "median_hours"]].values.tolist()
    [['week', '2020-04-06', 'with data', 11.0, 10.0], ['month', '2020-04-01', 'with data', 11.0, 10.0]]
    """
    k = check_k(k_min_users)
    check_month(month)
    data = metrics_weekly[metrics_weekly["coverage_h"] > 0]
    users = _user_codes(data["user_id"])
    week = _local_day(data["period_start"], timezone).to_numpy()
    hours = pd.DataFrame({"user_id": users, "week": week, "hours": data["coverage_h"].to_numpy(float)})
    in_month = (month_text(pd.to_datetime(hours["week"]) + pd.Timedelta(days=3)) == month).to_numpy()
    measures = [("with data", *_users_by_week(users, week, month),
                 hours.groupby(["week", "user_id"])["hours"].sum().groupby("week").median(),
                 float(hours[in_month].groupby("user_id")["hours"].sum().median()) if in_month.any() else np.nan)]
    if home_work is not None:
        measures += [(*counts, None, np.nan) for counts in _home_work_counts(home_work, month)]
    if employment is not None:
        e = employment[employment["method"] == method]
        users = _user_codes(e["user_id"])
        week = pd.to_datetime(e["week"]).to_numpy()
        for label, ok in (("status known", e["status"].isin(["employed", "unemployed"]).to_numpy()),
                          ("job losers", (e["status"] == "unemployed").to_numpy())):
            measures.append((label, *_users_by_week(users[ok], week[ok], month), None, np.nan))
    rows = []
    for measure, weekly, n_month, median_h, month_median_h in measures:
        for w, n in weekly.items():
            rows.append(("week", pd.Timestamp(w).strftime("%Y-%m-%d"), measure, float(n),
                         float(median_h[w]) if median_h is not None else np.nan))
        if n_month:
            rows.append(("month", f"{month}-01", measure, float(n_month), month_median_h))
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    return suppress_small(out, k_min_users=k, keep=["period", "period_start", "measure"])[COLUMNS]
