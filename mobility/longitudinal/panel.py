"""Validation of the user-week panel and event-time coding (frame layer).

Panel contract (one row per user and calendar week)
---------------------------------------------------
``user_id``
    Any hashable id (string or integer); never written to outputs.
``week``
    Monday of the ISO week, datetime64 (naive or tz-aware; tz-aware values are compared in UTC).
metric columns
    Numeric; missing values drop that user-week from the regression of that metric only.
``job_loss_week``
    datetime64, constant within a user; ``NaT`` for users who never lose their job (controls). Any day
    of the week is accepted and floored to its Monday.
group columns
    One category per user (constant within a user), e.g. ``sex``, ``age_group``.

Event time is ``k = (week - Monday of job_loss_week) / 7 days``: ``k = 0`` is the week of the job loss,
``k = -1`` the last week before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.errors import MobilityError

NO_EVENT = np.iinfo(np.int64).min  # event time of control rows


def _as_naive_utc(values: pd.Series, column: str) -> pd.Series:
    if not (pd.api.types.is_datetime64_any_dtype(values) or values.isna().all()):
        raise MobilityError(
            f"panel column {column!r} must be datetime64 (got {values.dtype}); convert it with pd.to_datetime"
        )
    values = pd.to_datetime(values)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


def check_window(window: tuple[int, int], reference_period: int) -> tuple[int, int]:
    """Validate an event window ``(first, last)`` in weeks and the omitted reference period.

    Examples
    --------
    >>> check_window((-4, 12), -1)
    (-4, 12)
    """
    try:
        lo, hi = (int(window[0]), int(window[1]))
    except (TypeError, ValueError, IndexError) as exc:
        raise MobilityError(f"window must be a pair of integers of weeks, e.g. (-4, 12); got {window!r}") from exc
    if (lo, hi) != tuple(window):
        raise MobilityError(f"window must hold integer weeks, got {window!r}")
    if not lo <= int(reference_period) <= -1:
        raise MobilityError(
            f"reference_period={reference_period} must lie in the window's pre-period [{lo}, -1]; "
            "the usual choice is -1 with a window such as (-4, 12)"
        )
    if hi < 0:
        raise MobilityError(f"window={window!r} must reach event time 0 or later (the job-loss week)")
    return lo, hi


def check_min_users(min_users: int) -> int:
    """Validate the privacy threshold k (users per published cell)."""
    if isinstance(min_users, bool) or not isinstance(min_users, (int, np.integer)) or min_users < 1:
        raise MobilityError(f"min_users must be an integer >= 1 (privacy threshold k), got {min_users!r}")
    return int(min_users)


def check_alpha(alpha: float) -> float:
    """Validate a significance level in (0, 1)."""
    if not 0.0 < float(alpha) < 1.0:
        raise MobilityError(f"alpha must lie in (0, 1), e.g. 0.05 for 95% intervals; got {alpha!r}")
    return float(alpha)


@dataclass
class EventPanel:
    """Arrays of a validated panel, ready for estimation (rows with a missing outcome removed)."""

    y: np.ndarray
    user_codes: np.ndarray
    week_codes: np.ndarray
    event_time: np.ndarray  # binned event time; NO_EVENT for controls
    group_codes: np.ndarray  # -1 where no group column was given
    group_labels: list = field(default_factory=list)
    weights: np.ndarray | None = None
    n_dropped_missing: int = 0
    n_dropped_window: int = 0

    @property
    def treated(self) -> np.ndarray:
        return self.event_time != NO_EVENT

    def subset(self, mask: np.ndarray) -> "EventPanel":
        """The rows where ``mask`` holds, with user and week codes made dense again."""
        users = np.unique(self.user_codes[mask], return_inverse=True)[1]
        weeks = np.unique(self.week_codes[mask], return_inverse=True)[1]
        return EventPanel(
            self.y[mask], users.astype(np.int64), weeks.astype(np.int64), self.event_time[mask],
            self.group_codes[mask], self.group_labels, None if self.weights is None else self.weights[mask],
            self.n_dropped_missing, self.n_dropped_window,
        )

    @property
    def n_users(self) -> int:
        return int(self.user_codes.max()) + 1 if self.user_codes.size else 0


def prepare_panel(
    panel: pd.DataFrame,
    metric: str,
    *,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
    window: tuple[int, int] = (-4, 12),
    reference_period: int = -1,
    bin_endpoints: bool = True,
    group: str | None = None,
    weight_col: str | None = None,
) -> EventPanel:
    """Validate ``panel`` and code users, weeks, binned event time and groups as integer arrays.

    With ``bin_endpoints=True`` treated weeks before ``window[0]`` count as ``window[0]`` and weeks after
    ``window[1]`` as ``window[1]`` (binned endpoints); otherwise those rows are dropped.

    Examples
    --------
    >>> p = pd.DataFrame({"user_id": ["a", "a", "b", "b"],
    ...                   "week": pd.to_datetime(["2020-03-02", "2020-03-09"] * 2),
    ...                   "rg": [1.0, 2.0, 3.0, 4.0],
    ...                   "job_loss_week": pd.to_datetime(["2020-03-11", "2020-03-11", None, None])})
    >>> ep = prepare_panel(p, "rg", window=(-2, 2))
    >>> ep.event_time[:2].tolist(), bool(ep.treated[2])
    ([-1, 0], False)
    """
    lo, hi = check_window(window, reference_period)
    needed = [user_col, week_col, metric, event_col] + ([group] if group else []) + ([weight_col] if weight_col else [])
    require_columns(panel, needed, "panel", "name the right columns with metric=..., event_col=..., user_col=..., "
                    "week_col=... or group=...")
    if not pd.api.types.is_numeric_dtype(panel[metric]) or pd.api.types.is_bool_dtype(panel[metric]):
        raise MobilityError(f"panel column {metric!r} must be numeric to be used as a metric (got {panel[metric].dtype})")
    week = _as_naive_utc(panel[week_col], week_col)
    if week.isna().any():
        raise MobilityError(f"panel column {week_col!r} has {int(week.isna().sum())} missing weeks; drop those rows")
    if (week.dt.day_of_week != 0).any() or (week != week.dt.normalize()).any():
        bad = int(((week.dt.day_of_week != 0) | (week != week.dt.normalize())).to_numpy().argmax())
        raise MobilityError(
            f"panel column {week_col!r} must hold Mondays at 00:00 (week starts); row {bad} is {week.iloc[bad]}. "
            "Use week = date.dt.to_period('W-SUN').dt.start_time"
        )
    loss = _as_naive_utc(panel[event_col], event_col)
    loss = loss.dt.normalize() - pd.to_timedelta(loss.dt.day_of_week, unit="D")
    users = panel[user_col]
    if users.isna().any():
        raise MobilityError(f"panel column {user_col!r} has missing ids; drop those rows")
    per_user = pd.DataFrame({"u": users.to_numpy(), "e": loss.to_numpy()}).groupby("u", sort=False)["e"]
    inconsistent = per_user.nunique(dropna=False) > 1
    if inconsistent.any():
        raise MobilityError(
            f"{int(inconsistent.sum())} user(s) have more than one {event_col!r} value (e.g. {inconsistent.idxmax()!r}); "
            "it must be constant within a user (the first job loss), NaT for controls"
        )
    if panel.duplicated([user_col, week_col]).any():
        raise MobilityError(f"panel has duplicate ({user_col}, {week_col}) rows; keep one row per user-week")

    keep = panel[metric].notna().to_numpy() & np.isfinite(panel[metric].to_numpy(dtype=np.float64, na_value=np.nan))
    n_missing = int((~keep).sum())
    treated = loss.notna().to_numpy()
    event_time = np.full(len(panel), NO_EVENT, dtype=np.int64)
    et = ((week - loss).dt.days // 7).to_numpy(dtype=np.float64, na_value=np.nan)
    event_time[treated] = et[treated].astype(np.int64)
    outside = treated & ((event_time < lo) | (event_time > hi))
    n_window = 0
    if bin_endpoints:
        event_time[treated] = np.clip(event_time[treated], lo, hi)
    else:
        n_window = int((outside & keep).sum())
        keep &= ~outside

    weights = None
    if weight_col:
        wv = panel[weight_col].to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.all(np.isfinite(wv[keep])) or np.any(wv[keep] < 0):
            raise MobilityError(f"weight column {weight_col!r} must be finite and >= 0")
        keep &= wv > 0
        weights = wv[keep]

    group_codes = np.full(int(keep.sum()), -1, dtype=np.int64)
    labels: list = []
    if group:
        g = panel[group]
        g_user = pd.DataFrame({"u": users.to_numpy(), "g": g.to_numpy()}).groupby("u", sort=False)["g"]
        if (g_user.nunique(dropna=False) > 1).any():
            raise MobilityError(
                f"group column {group!r} must be constant within a user; for probabilistic groups pass draws "
                "(see mobility.longitudinal.heterogeneity)"
            )
        missing_group = treated & g.isna().to_numpy()
        if missing_group.any():
            n_bad = users[missing_group].nunique()
            raise MobilityError(
                f"{n_bad} job loser(s) have no {group!r} value; assign a group (e.g. modal assignment) or drop them"
            )
        cat = pd.Categorical(g)
        labels = list(cat.categories)
        group_codes = np.asarray(cat.codes, dtype=np.int64)[keep]

    user_codes, _ = pd.factorize(users[keep], sort=False)
    week_codes, _ = pd.factorize(week[keep], sort=True)
    return EventPanel(
        y=panel[metric].to_numpy(dtype=np.float64, na_value=np.nan)[keep],
        user_codes=np.asarray(user_codes, dtype=np.int64),
        week_codes=np.asarray(week_codes, dtype=np.int64),
        event_time=event_time[keep],
        group_codes=group_codes,
        group_labels=labels,
        weights=weights,
        n_dropped_missing=n_missing,
        n_dropped_window=n_window,
    )
