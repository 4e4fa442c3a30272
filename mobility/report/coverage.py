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

from mobility.checks import require_columns
from mobility.localtime import local_time
from mobility.report.privacy import check_k, suppress_small
from mobility.report.unemployment import check_month, week_month

COLUMNS = ["period", "period_start", "measure", "n_users", "median_hours", "suppressed"]
STATUS_CODES = {1: "employed", 2: "job_loser"}
"""A user's status in a month (:func:`status_counts`): ``job_loser`` if any known week of the month is
``unemployed``, ``employed`` if every known week is ``employed``."""


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
    """Distinct users (integer codes, :func:`_user_codes`) per week and per month over the month's weeks (weeks
    whose Thursday falls in it), for every month at once.

    Examples
    --------
    >>> weekly, monthly = _users_by_week(np.array([0, 0, 1, 0]), pd.to_datetime(["2020-03-30", "2020-04-06",
    ...                                  "2020-04-06", "2020-04-06"]).to_numpy())
    >>> weekly.tolist(), monthly.to_dict()
    ([1, 2], {'2020-04': 2})
    """
    week_code, weeks = pd.factorize(week)
    user_id, week_code = user_id[week_code >= 0], week_code[week_code >= 0]  # a missing week counts nowhere
    month_code, months = pd.factorize(week_month(weeks))
    seen = np.zeros((int(user_id.max()) + 1 if len(user_id) else 0, len(weeks)), dtype=bool)
    seen[user_id, week_code] = True  # user x week
    by_month = np.stack([seen[:, month_code == m].any(axis=1) for m in range(len(months))], axis=1) \
        if len(months) else seen
    return (pd.Series(seen.sum(axis=0), index=pd.DatetimeIndex(weeks)),
            pd.Series(by_month.sum(axis=0), index=np.asarray(months, dtype=object)))


class _Sums:
    """Counts added part by part, per key: each a Series summed with the next on their index (a label absent
    from one counts 0), so what is kept does not grow with the number of parts.

    Examples
    --------
    >>> sums = _Sums()
    >>> sums.add("x", pd.Series([1, 2], index=["a", "b"])); sums.add("x", pd.Series([5], index=["b"]))
    >>> sums["x"].to_dict(), sums["y"].empty
    ({'a': 1, 'b': 7}, True)
    """

    def __init__(self):
        self._sums: dict[str, pd.Series] = {}

    def add(self, key: str, counts: pd.Series) -> None:
        before = self._sums.get(key)
        self._sums[key] = counts if before is None else before.add(counts, fill_value=0)

    def __getitem__(self, key: str) -> pd.Series:
        return self._sums[key].astype(np.int64) if key in self._sums else pd.Series(dtype=np.int64)


def _home_work_counts(home_work: pd.DataFrame | Iterable[pd.DataFrame]) -> list[tuple]:
    """``(measure, users per week, users per month)`` of detected homes and workplaces, part by part: users
    never span parts, so the counts add and only one part is held at a time."""
    sums = _Sums()
    labels = {"home_cbg": "home detected", "work_cbg": "work detected"}
    for part in as_parts(home_work):
        day = pd.to_datetime(part["date"])
        week = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.normalize().to_numpy()
        users = _user_codes(part["user_id"])
        for column, label in labels.items():
            ok = part[column].notna().to_numpy()
            weekly, monthly = _users_by_week(users[ok], week[ok])
            sums.add(f"{label} week", weekly)
            sums.add(f"{label} month", monthly)
    return [(label, sums[f"{label} week"], sums[f"{label} month"]) for label in labels.values()]


def _median_of_counts(counts: pd.Series) -> pd.Series:
    """The median, per value of the first index level, of the values of the second level counted ``counts``
    times (the median of an even number of values is the mean of the middle two, as pandas takes it).

    Examples
    --------
    >>> c = pd.Series([2, 1, 1, 3], index=pd.MultiIndex.from_tuples([("a", 1.0), ("a", 4.0), ("b", 2.0),
    ...                                                                  ("b", 5.0)]))
    >>> _median_of_counts(c).to_dict()   # a: 1, 1, 4; b: 2, 5, 5, 5
    {'a': 1.0, 'b': 5.0}
    """
    out = {}
    for period, c in counts.groupby(level=0, sort=True):
        c = c.droplevel(0).sort_index()
        below = np.cumsum(c.to_numpy())
        values = c.index.to_numpy(float)
        n = int(below[-1])
        low, high = (values[np.searchsorted(below, i, side="right")] for i in ((n - 1) // 2, n // 2))
        out[period] = (low + high) / 2
    return pd.Series(out, dtype=float)


def _with_data_counts(metrics_weekly: pd.DataFrame | Iterable[pd.DataFrame], timezone: str) -> tuple:
    """``("with data", users per week, users per month, median hours per week, median hours per month)``,
    part by part: distinct users add over parts whose users do not overlap, and each period's hours per user
    are kept as counts of their values (a user-week's hours are whole hours: at most 169 values a week), whose
    medians are those of the values."""
    sums = _Sums()
    for part in as_parts(metrics_weekly):
        data = part[(part["coverage_h"] > 0).to_numpy()]
        users = _user_codes(data["user_id"])
        week = _local_day(data["period_start"], timezone).to_numpy()
        hours = pd.DataFrame({"user_id": users, "week": week, "hours": data["coverage_h"].to_numpy(float)})
        hours["month"] = week_month(hours["week"]).to_numpy()
        for period, users_by in zip(("week", "month"), _users_by_week(users, week)):
            sums.add(f"users {period}", users_by)
            per_user = hours.groupby([period, "user_id"])["hours"].sum()
            sums.add(f"hours {period}", per_user.groupby([per_user.index.get_level_values(0),
                                                          per_user.to_numpy()]).size())
    return ("with data", sums["users week"], sums["users month"], *(_median_of_counts(sums[f"hours {period}"])
                                                                     for period in ("week", "month")))


def status_counts(employment: pd.DataFrame | Iterable[pd.DataFrame], *,
                  method: str = "signal") -> tuple[list[tuple], pd.DataFrame]:
    """What the report takes from ``employment_weekly``'s rows of ``method``, in one pass over the table whole
    or over parts none of whose users span two (:meth:`~mobility.report.inputs.RunOutputs.user_batches`).

    Returns
    -------
    measures : list of tuple
        ``(measure, users per week, users per month, None, None)`` of ``status known`` and ``job losers`` (the
        month's users: over the weeks whose Thursday falls in it), as :func:`coverage_counts` gives them.
    statuses : DataFrame
        Each user's status in each month: index ``user_id`` (text), one ``int8`` column per month
        (``YYYY-MM``): :data:`STATUS_CODES`, 0 where the user has no known week in the month.

    Examples
    --------
    >>> e = pd.DataFrame({"user_id": ["a", "a", "b"], "method": "signal", "status": ["employed", "unemployed",
    ...                   "unknown"], "week": pd.to_datetime(["2020-03-30", "2020-04-06", "2020-04-06"])})
    >>> measures, statuses = status_counts(e)
    >>> [(label, weekly.to_dict(), monthly.to_dict()) for label, weekly, monthly, *_ in measures][1]
    ('job losers', {Timestamp('2020-04-06 00:00:00'): 1}, {'2020-04': 1})
    >>> statuses.to_dict()
    {'2020-04': {'a': 2}}
    """
    sums = _Sums()
    statuses = []
    for part in as_parts(employment):
        require_columns(part, ("user_id", "week", "status", "method"), "employment_weekly",
                        "pass the employment step's table")
        e = part[(part["method"] == method).to_numpy()]
        users = _user_codes(e["user_id"])
        week = pd.to_datetime(e["week"]).to_numpy()
        known = e["status"].isin(["employed", "unemployed"]).to_numpy()
        lost = (e["status"] == "unemployed").to_numpy()
        for label, ok in (("status known", known), ("job losers", lost)):
            weekly, monthly = _users_by_week(users[ok], week[ok])
            sums.add(f"{label} week", weekly)
            sums.add(f"{label} month", monthly)
        month = week_month(week[known]).to_numpy()
        code = pd.Series(1 + lost[known].astype(np.int8), index=[e["user_id"].astype(str).to_numpy()[known], month])
        statuses.append(code.groupby(level=[0, 1], sort=False).max().unstack(fill_value=0))
    measures = [(label, sums[f"{label} week"], sums[f"{label} month"], None, None)
                for label in ("status known", "job losers")]
    table = pd.concat(statuses) if statuses else pd.DataFrame()
    table = table.reindex(columns=sorted(table.columns)).fillna(0).astype(np.int8)
    table.index.name = "user_id"
    return measures, table


def coverage_counts(metrics_weekly: pd.DataFrame | Iterable[pd.DataFrame], *,
                    home_work: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
                    employment: pd.DataFrame | Iterable[pd.DataFrame] | None = None, method: str = "signal",
                    timezone: str = "UTC") -> list[tuple]:
    """The counts behind :func:`coverage_table` for every month at once (they do not depend on the report
    month): per measure ``(measure, users per week, users per month, median hours per week or None, median
    hours per month or None)``; a report of several months reads and reduces the tables once. Each table
    may come whole or as parts whose users do not overlap (the pipeline's partitions; ``employment`` as
    :func:`status_counts` takes it): it is then reduced part by part, never held whole."""
    measures = [_with_data_counts(metrics_weekly, timezone)]
    if home_work is not None:
        measures += [(*counts, None, None) for counts in _home_work_counts(home_work)]
    if employment is not None:
        measures += status_counts(employment, method=method)[0]
    return measures


def coverage_table(metrics_weekly: pd.DataFrame | Iterable[pd.DataFrame] | None, month: str, *,
                   home_work: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
                   employment: pd.DataFrame | Iterable[pd.DataFrame] | None = None, method: str = "signal", timezone: str = "UTC",
                   k_min_users: int = 10, counts: list[tuple] | None = None) -> pd.DataFrame:
    """Users behind each week of the run and behind the report month (schema ``coverage``).

    A week belongs to the month holding its Thursday (ISO rule); the month rows count distinct users over
    the month's weeks. Each table may come as one DataFrame or as its parts, whose users must not overlap
    (the pipeline's partitions): it is then counted part by part, never held whole.
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
