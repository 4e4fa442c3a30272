"""Mobility of job losers and of the employed in the report month, overall and by demographic group.

A user's status in the month comes from ``employment_weekly`` (weeks whose Thursday falls in the month, the
ISO rule of the area tables): ``job_loser`` if any such week is ``unemployed``, ``employed`` if every known
week is ``employed``; users without a known week are left out. Groups are the modal census category of the
user's earliest week with census features (:func:`mobility.census.assign_groups`), the baseline job.

For each dimension, group, status and metric: ``n_users``, the mean of the month's metric with a 95%
normal interval (``mean +- 1.96 sd / sqrt(n)``), and the mean change from the user's own baseline (the mean
of the baseline months), with its interval. Cells behind fewer than ``k_min_users`` users are suppressed.

Schema ``mobility_by_status``: ``dimension``, ``group``, ``status``, ``metric``, ``n_users``, ``mean``,
``mean_low``, ``mean_high``, ``change``, ``change_low``, ``change_high``, ``suppressed``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from mobility.census import assign_groups, feature_columns
from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.localtime import local_time
from mobility.report.coverage import STATUS_CODES, as_parts, status_counts
from mobility.report.privacy import check_k, suppress_small
from mobility.report.unemployment import check_month, month_text

COLUMNS = ["dimension", "group", "status", "metric", "n_users", "mean", "mean_low", "mean_high", "change",
           "change_low", "change_high", "suppressed"]
Z95 = 1.959963984540054


def local_month(period_start: pd.Series, timezone: str) -> pd.Series:
    """``YYYY-MM`` of UTC period starts read in local time.

    Examples
    --------
    >>> local_month(pd.Series(pd.to_datetime(["2020-04-01 04:00"], utc=True)), "America/New_York").tolist()
    ['2020-04']
    """
    codes, distinct = pd.factorize(pd.to_datetime(period_start))  # a few distinct months over many rows
    ts = pd.Series(distinct)
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize("UTC")
    text = np.append(month_text(local_time(ts, timezone=timezone)).to_numpy(dtype=object), np.nan)
    return pd.Series(text[codes], index=period_start.index, dtype=object)


def _month_codes(statuses: pd.DataFrame, month: str) -> pd.Series:
    """Each user's status code in ``month`` (0 for every user where no one has a known week in it)."""
    return statuses[month] if month in statuses else pd.Series(0, index=statuses.index, dtype=np.int8)


def baseline_groups(features: pd.DataFrame, dimensions: Sequence[str]) -> pd.DataFrame:
    """``user_id`` and one modal category column per dimension, from each user's earliest featured week.

    Examples
    --------
    >>> f = pd.DataFrame({"user_id": ["a", "a"], "week": pd.to_datetime(["2020-01-06", "2020-01-13"]),
    ...                   "p_sex_male": [np.nan, 0.7], "p_sex_female": [np.nan, 0.3]})
    >>> baseline_groups(f, ["sex"]).values.tolist()
    [['a', 'male']]
    """
    order = features.sort_values(["user_id", "week"], kind="stable") if "week" in features else features
    out = pd.DataFrame({"user_id": pd.unique(order["user_id"].astype(str))})
    for dim in dimensions:
        cols = feature_columns(dim)
        if not set(cols) <= set(order.columns):
            raise MobilityError(f"user_features lacks the '{dim}' probabilities {cols}; "
                                "choose dimensions among those the census stage wrote")
        has = order[cols].notna().any(axis=1) & (order[cols].fillna(0).sum(axis=1) > 0)
        first = order[has].drop_duplicates("user_id")[["user_id", *cols]]
        groups = assign_groups(first.assign(user_id=first["user_id"].astype(str)), dim)[["user_id", dim]]
        out = out.merge(groups, on="user_id", how="left")
    return out


def baseline_groups_by_part(features: pd.DataFrame | Iterable[pd.DataFrame] | None,
                            dimensions: Sequence[str]) -> pd.DataFrame | None:
    """:func:`baseline_groups` of ``user_features`` given whole or as parts whose users do not overlap (each
    part reduced to one row per user before the next is read); None without features or dimensions. The
    same for every report month: a report of several months makes it once (``groups=`` of
    :func:`mobility_by_status`)."""
    if features is None or not len(dimensions):
        return None
    parts = [baseline_groups(part, dimensions) for part in as_parts(features)]  # one row per user and part
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["user_id", *dimensions])


def by_month(metrics_monthly: pd.DataFrame | Iterable[pd.DataFrame], timezone: str) -> pd.DataFrame:
    """Per month (``YYYY-MM``, local, in order) of ``metrics_monthly``, given whole or as parts whose users do
    not overlap: ``users`` with an exploration rate, ``rows`` with one and the rates' ``total`` (0 in a month,
    or a table, without them). The months of the run and the means of :func:`exploration_drift`, in one pass
    that holds a part at a time.

    Examples
    --------
    >>> m = pd.DataFrame({"user_id": ["a", "a", "b"], "exploration_rate": [0.5, np.nan, 0.25],
    ...                   "period_start": pd.to_datetime(["2020-02-01 05:00", "2020-01-01 05:00",
    ...                                                   "2020-02-01 05:00"], utc=True)})
    >>> by_month([m.iloc[:2], m.iloc[2:]], "America/New_York").values.tolist()
    [[0.0, 0.0, 0.0], [2.0, 2.0, 0.75]]
    """
    sums = None
    for part in as_parts(metrics_monthly):
        month = local_month(part["period_start"], timezone).to_numpy()
        rate = part["exploration_rate"] if "exploration_rate" in part else pd.Series(np.nan, index=part.index)
        has = rate.notna().to_numpy()
        rated = pd.DataFrame({"user_id": part["user_id"].to_numpy()[has], "rate": rate.to_numpy(float)[has]})
        counts = rated.groupby(month[has]).agg(users=("user_id", "nunique"), rows=("rate", "size"),
                                               total=("rate", "sum")).reindex(pd.unique(month), fill_value=0)
        sums = counts.astype(float) if sums is None else sums.add(counts, fill_value=0)
    if sums is None:
        return pd.DataFrame(columns=["users", "rows", "total"], dtype=float)
    return sums.sort_index()


def exploration_drift(metrics_monthly: pd.DataFrame | Iterable[pd.DataFrame] | None, base: Sequence[str], *,
                      timezone: str, k_min_users: int = 10,
                      months: pd.DataFrame | None = None) -> tuple[str, float, str, float] | None:
    """All users' mean exploration in the run's first month and in the next, where the baseline ``base`` holds
    the first month and the mean fell: the fall a change from that baseline carries whatever happened later.

    In a person's first month of data every place is new, in the next the places they go to every month are
    not: exploration (the share of visits to never-visited places) falls from the start of the data, shock or
    none (on the default synthetic region: 14.9 % of visits in January 2020, 7.6 % in February, before the
    shock of March). A user's change from a baseline that holds the first month carries that fall.

    Parameters
    ----------
    metrics_monthly : DataFrame, iterable of DataFrames, or None
        ``user_id``, ``period_start`` (tz-aware UTC), ``exploration_rate`` (share of visits); whole or as parts
        whose users do not overlap (:func:`by_month`); None where ``months`` is given.
    base : sequence of str
        The baseline months (``YYYY-MM``) of the report (:func:`baseline_months_of`).
    timezone : str
        IANA zone the months are read in.
    k_min_users : int, default 10
        Fewer users with an exploration rate in either month give None (no mean of fewer is published).
    months : DataFrame, optional
        :func:`by_month` of ``metrics_monthly``, made beforehand (then the table is not read).

    Returns
    -------
    (str, float, str, float) or None
        First month, its mean (share), second month, its mean; None where ``base`` does not start at the
        run's first month with an exploration rate, the run has one such month, the mean did not fall, or too
        few users.

    Examples
    --------
    >>> t = pd.to_datetime(["2020-01-01 05:00", "2020-02-01 05:00"] * 10, utc=True)
    >>> m = pd.DataFrame({"user_id": np.repeat(np.arange(10), 2), "period_start": t,
    ...                   "exploration_rate": [0.3, 0.1] * 10})
    >>> first, a, second, b = exploration_drift(m, ["2020-01", "2020-02"], timezone="America/New_York")
    >>> first, round(a, 3), second, round(b, 3)
    ('2020-01', 0.3, '2020-02', 0.1)
    >>> exploration_drift(m, ["2020-02"], timezone="America/New_York") is None   # baseline after the start
    True
    """
    if months is None:
        months = by_month(metrics_monthly, timezone)
    rated = months[months["rows"] > 0]
    if len(rated) < 2 or not len(base) or rated.index[0] != base[0]:
        return None
    first, second = rated.iloc[0], rated.iloc[1]
    if min(first["users"], second["users"]) < k_min_users:
        return None
    a, b = float(first["total"] / first["rows"]), float(second["total"] / second["rows"])
    return (rated.index[0], a, rated.index[1], b) if a > b else None


def baseline_months_of(months: Sequence[str], month: str, baseline_months: int) -> list[str]:
    """The months each user's baseline is taken from when reporting on ``month``.

    Parameters
    ----------
    months : sequence of str
        The run's months, ``"YYYY-MM"``, in order.
    month : str
        The report month.
    baseline_months : int
        How many of the run's first months make the baseline.

    Returns
    -------
    list of str
        The first ``baseline_months`` months, less ``month`` and those after it where ``month`` is among them;
        empty where no month comes before ``month`` (then no change can be given).

    Examples
    --------
    >>> baseline_months_of(["2020-02", "2020-03", "2020-04"], "2020-04", 2)
    ['2020-02', '2020-03']
    >>> baseline_months_of(["2020-02", "2020-03"], "2020-03", 2), baseline_months_of(["2020-04"], "2020-04", 2)
    (['2020-02'], [])
    """
    base = list(months[:int(baseline_months)])
    return [m for m in base if m < month] if month in base else base


def mobility_by_status(metrics_monthly: pd.DataFrame | Iterable[pd.DataFrame],
                       employment: pd.DataFrame | Iterable[pd.DataFrame] | None,
                       features: pd.DataFrame | Iterable[pd.DataFrame] | None,
                       month: str, *, timezone: str = "UTC",
                       metrics: Sequence[str] = ("radius_of_gyration_km", "exploration_rate", "distinct_locations"),
                       dimensions: Sequence[str] = ("sex", "age", "earnings"), baseline_months: int = 2,
                       method: str = "signal", k_min_users: int = 10,
                       groups: pd.DataFrame | None = None, statuses: pd.DataFrame | None = None,
                       months: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean mobility of job losers vs the employed in ``month``, overall and by group (module notes).

    Every table may come whole or as parts whose users do not overlap (the pipeline's partitions): each part
    of ``metrics_monthly`` is reduced to its users' counts, sums and sums of squared deviations per cell
    before the next is read, and those add up over parts (Chan et al.'s pooled variance), so no part is held
    beyond its turn.

    Parameters
    ----------
    metrics_monthly : DataFrame or iterable of DataFrames
        The pipeline's ``metrics_monthly`` (``user_id``, ``period_start`` UTC, metric columns).
    employment : DataFrame, iterable of DataFrames, or None
        ``employment_weekly`` (``user_id``, ``week``, ``status``, ``method``), as
        :func:`~mobility.report.coverage.status_counts` takes it; None where ``statuses`` is given.
    features : DataFrame, iterable of DataFrames, or None
        ``user_features`` (census probabilities), each part reduced to one row per user before the next is
        read; None: overall rows only.
    month : str
        ``YYYY-MM``.
    timezone : str
        Local zone of the month boundaries.
    metrics : sequence of str
        Metric columns.
    dimensions : sequence of str
        Census dimensions for the group rows.
    baseline_months : int
        The first ``baseline_months`` months of the table are each user's baseline (>= 1).
    method : str
        Employment method to read (``signal`` or ``classifier``).
    k_min_users : int
        Suppress cells behind fewer users.
    groups : DataFrame, optional
        :func:`baseline_groups_by_part` of ``features`` made beforehand (then ``features`` is not read).
    statuses : DataFrame, optional
        :func:`~mobility.report.coverage.status_counts`' statuses of ``employment`` by ``method``, made
        beforehand (then ``employment`` is not read).
    months : sequence of str, optional
        The months of ``metrics_monthly`` (the index of :func:`by_month`), made beforehand; needed where the
        table comes as parts.

    Examples
    --------
    Ten job losers whose radius fell from 5 to 2 km, ten employed at 5 km, k = 10:

    >>> users = [f"u{i}" for i in range(20)]
    >>> mm = pd.DataFrame({"user_id": users * 2, "period_start": pd.to_datetime(["2020-01-01"] * 20
    ...     + ["2020-04-01"] * 20, utc=True), "radius_of_gyration_km": [5.0] * 30 + [2.0] * 10})
    >>> mm.loc[20:29, "radius_of_gyration_km"] = 5.0
    >>> emp = pd.DataFrame({"user_id": users, "week": pd.Timestamp("2020-04-06"), "method": "signal",
    ...     "status": ["employed"] * 10 + ["unemployed"] * 10})
    >>> t = mobility_by_status(mm, emp, None, "2020-04", metrics=["radius_of_gyration_km"], baseline_months=1)
    >>> t[["status", "n_users", "mean", "change"]].values.tolist()
    [['employed', 10.0, 5.0, 0.0], ['job_loser', 10.0, 2.0, -3.0]]
    """
    return mobility_by_status_of_months(
        metrics_monthly, employment, features, [month], timezone=timezone, metrics=metrics, dimensions=dimensions,
        baseline_months=baseline_months, method=method, k_min_users=k_min_users, groups=groups, statuses=statuses,
        months=months)[month]


def mobility_by_status_of_months(metrics_monthly: pd.DataFrame | Iterable[pd.DataFrame],
                                 employment: pd.DataFrame | Iterable[pd.DataFrame] | None,
                                 features: pd.DataFrame | Iterable[pd.DataFrame] | None,
                                 report_months: Sequence[str], *, timezone: str = "UTC",
                                 metrics: Sequence[str] = ("radius_of_gyration_km", "exploration_rate",
                                                           "distinct_locations"),
                                 dimensions: Sequence[str] = ("sex", "age", "earnings"), baseline_months: int = 2,
                                 method: str = "signal", k_min_users: int = 10,
                                 groups: pd.DataFrame | None = None, statuses: pd.DataFrame | None = None,
                                 months: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """:func:`mobility_by_status` of each of ``report_months`` (``{month: table}``, parameters as there), in
    one pass over ``metrics_monthly``: each part is read once and reduced for every month before the next
    is read, so a report of several months reads the table once; each month's table is the one
    :func:`mobility_by_status` gives it alone.

    Examples
    --------
    Two users at 5 km in January, who lost their job in April (2 km) and were back at work in May (4 km):

    >>> mm = pd.DataFrame({"user_id": ["a", "a", "a", "b", "b", "b"], "radius_of_gyration_km": [5.0, 2.0, 4.0] * 2,
    ...     "period_start": pd.to_datetime(["2020-01-01", "2020-04-01", "2020-05-01"] * 2, utc=True)})
    >>> emp = pd.DataFrame({"user_id": ["a", "a", "b", "b"], "week": pd.to_datetime(["2020-04-06", "2020-05-04"] * 2),
    ...                     "method": "signal", "status": ["unemployed", "employed"] * 2})
    >>> kw = dict(metrics=["radius_of_gyration_km"], baseline_months=1, k_min_users=2)
    >>> t = mobility_by_status_of_months(mm, emp, None, ["2020-04", "2020-05"], **kw)
    >>> {m: g[["status", "n_users", "mean", "change"]].values.tolist() for m, g in t.items()}
    {'2020-04': [['job_loser', 2.0, 2.0, -3.0]], '2020-05': [['employed', 2.0, 4.0, -1.0]]}
    >>> all(t[m].equals(mobility_by_status(mm, emp, None, m, **kw)) for m in t)
    True
    """
    k = check_k(k_min_users)
    for month in report_months:
        check_month(month)
    if isinstance(baseline_months, bool) or not isinstance(baseline_months, (int, np.integer)) or baseline_months < 1:
        raise MobilityError(f"baseline_months must be an integer >= 1, got {baseline_months!r}")
    if isinstance(metrics_monthly, pd.DataFrame):
        require_columns(metrics_monthly, ("user_id", "period_start", *metrics), "metrics_monthly",
                        "choose metrics among its columns")
    if months is None:
        if not isinstance(metrics_monthly, pd.DataFrame):
            raise MobilityError("mobility_by_status: give the months of metrics_monthly (months=, by_month) "
                                "where the table comes as parts")
        months = sorted(local_month(metrics_monthly["period_start"], timezone).unique())
    if statuses is None:
        statuses = status_counts(employment, method=method)[1]
    per_month = {month: (baseline_months_of(months, month, baseline_months), _month_codes(statuses, month))
                 for month in report_months}
    if groups is None:
        groups = baseline_groups_by_part(features, dimensions)
    dims = [("all", None, np.array(["all"], dtype=object))]
    grouped = pd.Index(groups["user_id"].astype(str)) if groups is not None and len(dimensions) else None
    if grouped is not None:
        for dim in dimensions:
            group_codes, categories = pd.factorize(groups[dim])
            dims.append((dim, np.append(group_codes, -1), np.asarray(categories, dtype=object)))
    columns = [*metrics, *(f"{m}__change" for m in metrics)]
    cells = {month: [_Cells(2 * len(categories), len(columns)) for _, _, categories in dims]
             for month in report_months}
    for part in as_parts(metrics_monthly):
        for month, (base_months, codes) in per_month.items():
            people = _people(part, month, base_months, codes, metrics, timezone)
            values = people[columns].to_numpy(float)
            lost = (people["status"] == "job_loser").to_numpy().astype(np.int64)
            row = grouped.get_indexer(people.index) if grouped is not None else None  # -1: no group row
            for (dim, group_codes, _), cell in zip(dims, cells[month]):
                group = np.zeros(len(people), dtype=np.int64) if group_codes is None else group_codes[row]
                has = group >= 0
                cell.add(2 * group[has] + lost[has], values[has])
    return {month: _gap_table(dims, cells[month], metrics, k) for month in report_months}


def _gap_table(dims: list[tuple], cells: list[_Cells], metrics: Sequence[str], k: int) -> pd.DataFrame:
    """The rows of schema ``mobility_by_status`` from one month's cells, ``all`` first, small cells suppressed."""
    rows = []
    for (dim, _, categories), cell in zip(dims, cells):
        n, mean, half = cell.mean_ci()
        for i in np.flatnonzero(cell.people):
            group, stat = categories[i // 2], ("job_loser" if i % 2 else "employed")
            for j, metric in enumerate(metrics):
                c = j + len(metrics)
                rows.append((dim, str(group), stat, metric, float(n[i, j]), mean[i, j], mean[i, j] - half[i, j],
                             mean[i, j] + half[i, j], mean[i, c], mean[i, c] - half[i, c], mean[i, c] + half[i, c]))
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    out = out.sort_values(["dimension", "group", "metric", "status"], kind="stable").reset_index(drop=True)
    order = {"all": 0}
    out = out.iloc[np.argsort(out["dimension"].map(lambda d: order.get(d, 1)).to_numpy(), kind="stable")]
    out = out.reset_index(drop=True)
    return suppress_small(out, k_min_users=k, keep=["dimension", "group", "status", "metric"])[COLUMNS]


def _people(metrics_monthly: pd.DataFrame, month: str, base_months: Sequence[str], codes: pd.Series,
            metrics: Sequence[str], timezone: str) -> pd.DataFrame:
    """One row per user of ``metrics_monthly`` with a status in ``month``: the month's metrics, their change
    from the user's mean over ``base_months`` (``<metric>__change``) and ``status``."""
    require_columns(metrics_monthly, ("user_id", "period_start", *metrics), "metrics_monthly",
                    "choose metrics among its columns")
    mm = metrics_monthly[["user_id", "period_start", *metrics]].copy()
    mm["user_id"] = mm["user_id"].astype(str)
    mm["month"] = local_month(mm["period_start"], timezone)
    baseline = mm[mm["month"].isin(base_months)].groupby("user_id")[list(metrics)].mean()
    current = mm[mm["month"] == month].drop_duplicates("user_id").set_index("user_id")[list(metrics)]
    code = codes.reindex(current.index).fillna(0).to_numpy()
    people = current[code > 0].copy()
    change = (people - baseline.reindex(people.index)).add_suffix("__change")
    people = people.join(change, how="left")
    people["status"] = pd.Series(code[code > 0], index=people.index).map(STATUS_CODES)
    return people


class _Cells:
    """Per cell (a group and status of one dimension) and value column: the count of values, their sum and
    their sum of squared deviations from the mean, added a part at a time (the deviations pooled as Chan,
    Golub and LeVeque 1979 pool them: each part's own plus ``n_seen n_part / n (mean_seen - mean_part)^2``);
    ``people`` counts each cell's users, values or none."""

    def __init__(self, n_cells: int, n_columns: int):
        self.people = np.zeros(n_cells, dtype=np.int64)
        self.n, self.sum, self.m2 = (np.zeros((n_cells, n_columns)) for _ in range(3))

    def add(self, cell: np.ndarray, values: np.ndarray) -> None:
        """Add users in cells ``cell`` (one per row of ``values``, a column per value; NaN: no value)."""
        size, width = self.n.shape
        self.people += np.bincount(cell, minlength=size)
        valid = ~np.isnan(values)
        flat = (cell[:, None] * width + np.arange(width))[valid]
        x = values[valid]
        n = np.bincount(flat, minlength=size * width).reshape(size, width).astype(float)
        total = np.bincount(flat, weights=x, minlength=size * width).reshape(size, width)
        mean = total / np.maximum(n, 1)
        m2 = np.bincount(flat, weights=(x - mean.ravel()[flat]) ** 2, minlength=size * width).reshape(size, width)
        seen = self.sum / np.maximum(self.n, 1)
        both = self.n + n
        self.m2 += m2 + np.where(both > 0, (mean - seen) ** 2 * self.n * n / np.maximum(both, 1), 0.0)
        self.n, self.sum = both, self.sum + total

    def mean_ci(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count, mean (NaN without values) and half-width of the 95% normal interval (NaN below 2 values)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.n > 0, self.sum / self.n, np.nan)
            sd = np.sqrt(np.where(self.n > 1, self.m2 / (self.n - 1), np.nan))
            return self.n, mean, Z95 * sd / np.sqrt(self.n)
