"""Data coverage of the run: how many users stand behind the report, week by week and in the month.

Schema ``coverage``: ``period`` (``week`` or ``month``), ``period_start`` (``YYYY-MM-DD`` local), ``measure``
(``with data``, ``home detected``, ``work detected``, ``status known``, ``job losers``), ``n_users``,
``median_hours`` (median hours of data per user, for ``with data``), ``suppressed``. Counts below
``k_min_users`` are suppressed like every other cell.
"""

from __future__ import annotations

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


def coverage_table(metrics_weekly: pd.DataFrame, month: str, *, home_work: pd.DataFrame | None = None,
                   employment: pd.DataFrame | None = None, method: str = "signal", timezone: str = "UTC",
                   k_min_users: int = 10) -> pd.DataFrame:
    """Users behind each week of the run and behind the report month (schema ``coverage``).

    A week belongs to the month holding its Thursday (ISO rule); the month rows count distinct users over
    the month's weeks.

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
    rows = []
    frames = []
    data = metrics_weekly[metrics_weekly["coverage_h"] > 0]
    frames.append(("with data", pd.DataFrame({"user_id": _user_codes(data["user_id"]),
                                              "week": _local_day(data["period_start"], timezone).to_numpy(),
                                              "hours": data["coverage_h"].to_numpy(float)})))
    if home_work is not None:
        day = pd.to_datetime(home_work["date"])
        week = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.normalize()
        users = _user_codes(home_work["user_id"])
        for column, label in (("home_cbg", "home detected"), ("work_cbg", "work detected")):
            ok = home_work[column].notna().to_numpy()
            frames.append((label, pd.DataFrame({"user_id": users[ok],
                                                "week": week.to_numpy()[ok]})))
    if employment is not None:
        e = employment[employment["method"] == method]
        known = e["status"].isin(["employed", "unemployed"]).to_numpy()
        users = _user_codes(e["user_id"])
        frames.append(("status known", pd.DataFrame({"user_id": users[known],
                                                     "week": pd.to_datetime(e["week"]).to_numpy()[known]})))
        lost = (e["status"] == "unemployed").to_numpy()
        frames.append(("job losers", pd.DataFrame({"user_id": users[lost],
                                                   "week": pd.to_datetime(e["week"]).to_numpy()[lost]})))
    for measure, f in frames:
        weekly = f.groupby("week").agg(n_users=("user_id", "nunique"))
        hours = f.groupby(["week", "user_id"])["hours"].sum().groupby("week").median() if "hours" in f else None
        for week, n in weekly["n_users"].items():
            rows.append(("week", pd.Timestamp(week).strftime("%Y-%m-%d"), measure, float(n),
                         float(hours[week]) if hours is not None else np.nan))
        in_month = month_text(pd.to_datetime(f["week"]) + pd.Timedelta(days=3)) == month
        g = f[in_month.to_numpy()]
        if len(g):
            med = float(g.groupby("user_id")["hours"].sum().median()) if "hours" in g else np.nan
            rows.append(("month", f"{month}-01", measure, float(g["user_id"].nunique()), med))
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    return suppress_small(out, k_min_users=k, keep=["period", "period_start", "measure"])[COLUMNS]

