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


def _users_by_week(user_id: np.ndarray, week: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Distinct users per week and per month over the month's weeks (weeks whose Thursday falls in it), for
    every month at once."""
    f = pd.DataFrame({"user_id": user_id, "week": week})
    f["month"] = month_text(pd.to_datetime(f["week"]) + pd.Timedelta(days=3)).to_numpy()
    return f.groupby("week")["user_id"].nunique(), f.groupby("month")["user_id"].nunique()


def _added(series: list[pd.Series]) -> pd.Series:
    return pd.concat(series).groupby(level=0).sum() if series else pd.Series(dtype=int)


def _home_work_counts(home_work: pd.DataFrame | Iterable[pd.DataFrame]) -> list[tuple]:
    """``(measure, users per week, users per month)`` of detected homes and workplaces, part by part: users
    never span parts, so the counts add and only one part is held at a time."""
    counts: dict[str, tuple[list[pd.Series], list[pd.Series]]] = {"home detected": ([], []),
                                                                  "work detected": ([], [])}
    for part in as_parts(home_work):
        day = pd.to_datetime(part["date"])
        week = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.normalize().to_numpy()
        users = _user_codes(part["user_id"])
        for column, label in (("home_cbg", "home detected"), ("work_cbg", "work detected")):
            ok = part[column].notna().to_numpy()
            weekly, monthly = _users_by_week(users[ok], week[ok])
            counts[label][0].append(weekly)
            counts[label][1].append(monthly)
    return [(label, _added(weekly), _added(monthly)) for label, (weekly, monthly) in counts.items()]


def coverage_counts(metrics_weekly: pd.DataFrame, *, home_work: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
                    employment: pd.DataFrame | None = None, method: str = "signal",
                    timezone: str = "UTC") -> list[tuple]:
    """The counts behind :func:`coverage_table` for every month at once (they do not depend on the report
    month): per measure ``(measure, users per week, users per month, median hours per week or None, median
    hours per month or None)``; a report of several months reads and reduces the tables once."""
    data = metrics_weekly[metrics_weekly["coverage_h"] > 0]
    users = _user_codes(data["user_id"])
    week = _local_day(data["period_start"], timezone).to_numpy()
    hours = pd.DataFrame({"user_id": users, "week": week, "hours": data["coverage_h"].to_numpy(float)})
    hours["month"] = month_text(pd.to_datetime(hours["week"]) + pd.Timedelta(days=3)).to_numpy()
    measures = [("with data", *_users_by_week(users, week),
                 hours.groupby(["week", "user_id"])["hours"].sum().groupby("week").median(),
                 hours.groupby(["month", "user_id"])["hours"].sum().groupby("month").median())]
    if home_work is not None:
        measures += [(*counts, None, None) for counts in _home_work_counts(home_work)]
    if employment is not None:
        e = employment[employment["method"] == method]
        users = _user_codes(e["user_id"])
        week = pd.to_datetime(e["week"]).to_numpy()
        for label, ok in (("status known", e["status"].isin(["employed", "unemployed"]).to_numpy()),
                          ("job losers", (e["status"] == "unemployed").to_numpy())):
            measures.append((label, *_users_by_week(users[ok], week[ok]), None, None))
    return measures


def coverage_table(metrics_weekly: pd.DataFrame | None, month: str, *,
                   home_work: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
                   employment: pd.DataFrame | None = None, method: str = "signal", timezone: str = "UTC",
                   k_min_users: int = 10, counts: list[tuple] | None = None) -> pd.DataFrame:
    """Users behind each week of the run and behind the report month (schema ``coverage``).

    A week belongs to the month holding its Thursday (ISO rule); the month rows count distinct users over
    the month's weeks. ``home_work`` (``home_work_daily``) may come as one DataFrame or as its parts, whose
    users must not overlap (the pipeline's partitions): it is then counted part by part, never held whole.
    ``counts`` (:func:`coverage_counts`, made once for every month) replaces the tables.

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
    if counts is None:
        counts = coverage_counts(metrics_weekly, home_work=home_work, employment=employment, method=method,
                                 timezone=timezone)
    rows = []
    # every measure on every week any has (a week with no job loser is a count of 0, suppressed as 1 to k - 1 are:
    # left out, it would tell 0 apart from the suppressed small counts), and on the month where it has data
    weeks = sorted(set().union(*(weekly.index for _, weekly, *_ in counts)))
    has_month = any(int(monthly.get(month, 0)) for _, _, monthly, *_ in counts)
    for measure, weekly, monthly, median_h, month_median_h in counts:
        for w in weeks:
            n = weekly.get(w, 0)
            rows.append(("week", pd.Timestamp(w).strftime("%Y-%m-%d"), measure, float(n),
                         float(median_h[w]) if median_h is not None and n else np.nan))
        n_month = int(monthly.get(month, 0))
        if has_month:
            rows.append(("month", f"{month}-01", measure, float(n_month),
                         float(month_median_h[month]) if month_median_h is not None and n_month else np.nan))
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    return suppress_small(out, k_min_users=k, keep=["period", "period_start", "measure"])[COLUMNS]
