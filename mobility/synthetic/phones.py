"""What the phones of the synthetic region report: which pings a churned or degraded phone never sends, and
the phone's state per day and week (the truth the scorers compare "observed" with).

Phone kinds (:data:`mobility.synthetic.lives.PHONE_KINDS`): ``normal`` and ``sparse`` report all day;
from its ``phone_date`` (local midnight) a ``churn`` phone reports nothing, a ``degraded_night`` phone only
from 22:00 to 07:00 local time, a ``degraded_home`` phone only while its owner is at home.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NIGHT_START_H, NIGHT_END_H = 22.0, 7.0
#: A day's phone state: ``ok`` (reports as usual, at least one ping that day), ``silent`` (no ping that day:
#: a device silence, or a sparse phone's empty day), ``degraded`` (from the degradation date on) and
#: ``churned`` (from the churn date on).
PHONE_STATES = ("ok", "silent", "degraded", "churned")


def phone_filter(kind: np.ndarray, cut_s: np.ndarray, midnight_utc_s: np.ndarray, noon_base_utc_s: np.ndarray):
    """A ``drop(person, t_s, at_home)`` function for :func:`mobility.synthetic.pings.sample_pings`.

    ``kind`` holds each person's phone kind (index in ``PHONE_KINDS``), ``cut_s`` the UTC second its change
    starts (ignored for normal and sparse phones); the calendar arrays give local hours.

    Examples
    --------
    >>> from mobility.synthetic.daily import Calendar
    >>> from mobility.synthetic import SyntheticParams
    >>> c = Calendar.from_params(SyntheticParams(start="2020-01-06", end="2020-01-12"))
    >>> drop = phone_filter(np.array([3, 2]), np.array([c.midnight_utc_s[1]] * 2), c.midnight_utc_s, c.noon_base_utc_s)
    >>> m = c.midnight_utc_s
    >>> t = np.array([m[0] + 12 * 3600, m[1] + 12 * 3600, m[1] + 23 * 3600])
    >>> drop(np.zeros(3, int), t, np.zeros(3, bool)).tolist(), drop(np.ones(3, int), t, np.zeros(3, bool)).tolist()
    ([False, True, False], [False, True, True])
    """
    from mobility.synthetic.lives import PHONE_KINDS

    churn, night, home = (PHONE_KINDS.index(k) for k in ("churn", "degraded_night", "degraded_home"))

    def drop(person: np.ndarray, t_s: np.ndarray, at_home: np.ndarray) -> np.ndarray:
        k = kind[person]
        after = (k >= churn) & (t_s >= cut_s[person])
        out = after & (k == churn)
        nightly = after & (k == night)
        if nightly.any():
            day = np.clip(np.searchsorted(midnight_utc_s, t_s[nightly], side="right") - 1, 0, len(noon_base_utc_s) - 1)
            hour = (t_s[nightly] - noon_base_utc_s[day]) / 3600.0
            out[nightly] = (hour >= NIGHT_END_H) & (hour < NIGHT_START_H)
        out |= after & (k == home) & ~at_home
        return out

    return drop


def daily_phone_state(phone_kind: np.ndarray, phone_day: np.ndarray, pings_per_day: np.ndarray) -> np.ndarray:
    """State index (``PHONE_STATES``) per person (rows) and day (columns).

    Examples
    --------
    >>> daily_phone_state(np.array(["churn", "normal"]), np.array([1, -1]), np.array([[3, 0, 0], [2, 0, 4]])).tolist()
    [[0, 3, 3], [0, 1, 0]]
    """
    n, days = pings_per_day.shape
    state = np.where(pings_per_day > 0, 0, 1)
    after = (phone_day[:, None] >= 0) & (np.arange(days)[None, :] >= phone_day[:, None])
    kind = np.asarray(phone_kind).astype(str)[:, None]
    state = np.where(after & np.char.startswith(kind, "degraded"), 2, state)
    return np.where(after & (kind == "churn"), 3, state).astype(np.int8)


def weekly_phone_state(daily: pd.DataFrame) -> pd.Series:
    """A week's phone state from its days (``daily`` has ``phone_state`` and a ``week`` column): ``churned``
    or ``degraded`` when it is so on the week's Wednesday (the status day), else ``silent`` when at least 4
    of the week's days in the window were silent, else ``ok``. Indexed by (user_id, week).

    Examples
    --------
    >>> d = pd.DataFrame({"user_id": ["a"] * 7, "week": pd.Timestamp("2020-01-06"),
    ...                   "date": pd.date_range("2020-01-06", periods=7),
    ...                   "phone_state": ["ok", "silent", "silent", "silent", "silent", "ok", "ok"]})
    >>> weekly_phone_state(d).tolist()
    ['silent']
    """
    st = daily["phone_state"].astype(str)
    wed = daily["date"].dt.day_of_week == 2
    g = daily.assign(silent=st == "silent", wed_state=st.where(wed)).groupby(["user_id", "week"], sort=True)
    silent = g["silent"].sum()
    wed_state = g["wed_state"].first()
    out = pd.Series(np.where(silent >= 4, "silent", "ok"), index=silent.index)
    out = out.where(~wed_state.isin(["degraded", "churned"]), wed_state)
    # weeks whose Wednesday is outside the window: the state of their last day
    last = g["phone_state"].last().astype(str)
    out = out.where(wed_state.notna() | ~last.isin(["degraded", "churned"]), last)
    return out.astype("string")
