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
from mobility.report.coverage import as_parts
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
    ts = pd.to_datetime(period_start)
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize("UTC")
    return month_text(local_time(ts, timezone=timezone))


def status_in_month(employment: pd.DataFrame, month: str, *, method: str = "signal") -> pd.DataFrame:
    """``user_id, status`` (``job_loser`` / ``employed``) of each user with a known week in ``month``.

    Examples
    --------
    >>> e = pd.DataFrame({"user_id": ["a", "a", "b", "c"], "method": "signal",
    ...     "week": pd.to_datetime(["2020-03-30", "2020-04-06", "2020-04-06", "2020-04-06"]),
    ...     "status": ["employed", "unemployed", "employed", "unknown"]})
    >>> status_in_month(e, "2020-04").values.tolist()
    [['a', 'job_loser'], ['b', 'employed']]
    """
    check_month(month)
    require_columns(employment, ("user_id", "week", "status", "method"), "employment_weekly",
                    "pass the employment step's table")
    e = employment[employment["method"] == method]
    in_month = month_text(pd.to_datetime(e["week"]) + pd.Timedelta(days=3)) == month
    e = e[in_month & e["status"].isin(["employed", "unemployed"])]
    lost = (e["status"] == "unemployed").groupby(e["user_id"].astype(str)).any()
    return pd.DataFrame({"user_id": lost.index.to_numpy(),
                         "status": np.where(lost.to_numpy(), "job_loser", "employed")})


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


def _mean_ci(values: pd.Series) -> tuple[float, float, float]:
    v = values.dropna().to_numpy(float)
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    half = Z95 * float(v.std(ddof=1)) / np.sqrt(len(v)) if len(v) > 1 else np.nan
    return m, m - half, m + half


def exploration_drift(metrics_monthly: pd.DataFrame, base: Sequence[str], *, timezone: str,
                      k_min_users: int = 10) -> tuple[str, float, str, float] | None:
    """All users' mean exploration in the run's first month and in the next, where the baseline ``base`` holds
    the first month and the mean fell: the fall a change from that baseline carries whatever happened later.

    In a person's first month of data every place is new, in the next the places they go to every month are
    not: exploration (the share of visits to never-visited places) falls from the start of the data, shock or
    none (on the default synthetic region: 14.9 % of visits in January 2020, 7.6 % in February, before the
    shock of March). A user's change from a baseline that holds the first month carries that fall.

    Parameters
    ----------
    metrics_monthly : DataFrame
        ``user_id``, ``period_start`` (tz-aware UTC), ``exploration_rate`` (share of visits).
    base : sequence of str
        The baseline months (``YYYY-MM``) of the report (:func:`baseline_months_of`).
    timezone : str
        IANA zone the months are read in.
    k_min_users : int, default 10
        Fewer users with an exploration rate in either month give None (no mean of fewer is published).

    Returns
    -------
    (str, float, str, float) or None
        First month, its mean (share), second month, its mean; None where ``base`` does not start at the
        run's first month, the run has one month, the mean did not fall, or too few users.

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
    rows = metrics_monthly.dropna(subset=["exploration_rate"]) if "exploration_rate" in metrics_monthly else None
    if rows is None or not len(rows) or not len(base):
        return None
    month = local_month(rows["period_start"], timezone)
    months = sorted(month.unique())
    if len(months) < 2 or months[0] != base[0]:
        return None
    first, second = (rows[(month == m).to_numpy()] for m in months[:2])
    if min(first["user_id"].nunique(), second["user_id"].nunique()) < k_min_users:
        return None
    a, b = float(first["exploration_rate"].mean()), float(second["exploration_rate"].mean())
    return (months[0], a, months[1], b) if a > b else None


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


def mobility_by_status(metrics_monthly: pd.DataFrame, employment: pd.DataFrame,
                       features: pd.DataFrame | Iterable[pd.DataFrame] | None,
                       month: str, *, timezone: str = "UTC",
                       metrics: Sequence[str] = ("radius_of_gyration_km", "exploration_rate", "distinct_locations"),
                       dimensions: Sequence[str] = ("sex", "age", "earnings"), baseline_months: int = 2,
                       method: str = "signal", k_min_users: int = 10,
                       groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean mobility of job losers vs the employed in ``month``, overall and by group (module notes).

    Parameters
    ----------
    metrics_monthly : DataFrame
        The pipeline's ``metrics_monthly`` (``user_id``, ``period_start`` UTC, metric columns).
    employment : DataFrame
        ``employment_weekly`` (``user_id``, ``week``, ``status``, ``method``).
    features : DataFrame, iterable of DataFrames, or None
        ``user_features`` (census probabilities), whole or as parts whose users do not overlap (the pipeline's
        partitions: each part is reduced to one row per user before the next is read); None: overall rows only.
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
    k = check_k(k_min_users)
    check_month(month)
    if isinstance(baseline_months, bool) or not isinstance(baseline_months, (int, np.integer)) or baseline_months < 1:
        raise MobilityError(f"baseline_months must be an integer >= 1, got {baseline_months!r}")
    require_columns(metrics_monthly, ("user_id", "period_start", *metrics), "metrics_monthly",
                    "choose metrics among its columns")
    mm = metrics_monthly[["user_id", "period_start", *metrics]].copy()
    mm["user_id"] = mm["user_id"].astype(str)
    mm["month"] = local_month(mm["period_start"], timezone)
    months = sorted(mm["month"].unique())
    base_months = baseline_months_of(months, month, baseline_months)
    baseline = mm[mm["month"].isin(base_months)].groupby("user_id")[list(metrics)].mean()
    current = mm[mm["month"] == month].drop_duplicates("user_id").set_index("user_id")[list(metrics)]
    status = status_in_month(employment, month, method=method).set_index("user_id")
    people = current.join(status, how="inner")
    change = (current - baseline.reindex(current.index)).add_suffix("__change")
    people = people.join(change, how="left")
    group_cols: list[tuple[str, pd.Series]] = [("all", pd.Series("all", index=people.index))]
    if groups is None:
        groups = baseline_groups_by_part(features, dimensions)
    if groups is not None and len(dimensions):
        groups = groups.set_index("user_id").reindex(people.index)
        group_cols += [(dim, groups[dim]) for dim in dimensions]
    rows = []
    for dim, labels in group_cols:
        for (group, stat), idx in people.groupby([labels.rename("group"), people["status"]], sort=True).groups.items():
            block = people.loc[idx]
            for metric in metrics:
                mean, lo, hi = _mean_ci(block[metric])
                ch, ch_lo, ch_hi = _mean_ci(block[f"{metric}__change"])
                rows.append((dim, str(group), stat, metric, float(block[metric].notna().sum()), mean, lo, hi,
                             ch, ch_lo, ch_hi))
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    out = out.sort_values(["dimension", "group", "metric", "status"], kind="stable").reset_index(drop=True)
    order = {"all": 0}
    out = out.iloc[np.argsort(out["dimension"].map(lambda d: order.get(d, 1)).to_numpy(), kind="stable")]
    out = out.reset_index(drop=True)
    return suppress_small(out, k_min_users=k, keep=["dimension", "group", "status", "metric"])[COLUMNS]
