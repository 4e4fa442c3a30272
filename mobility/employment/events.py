"""Job-loss events: attendance near zero for k covered weeks, and how likely each is a job loss, not telework.

An **event** (method.md 2.7) starts when a baseline worker's relative work-hour time at W_u ``rt_u(t)``
(where not measured, the relative attendance ``r_u(t)``) falls to at most ``zero_attendance_max`` and stays there for at
least ``min_event_weeks`` covered weeks while the phone keeps producing data (uncovered weeks neither break
nor extend it; :func:`confirmed_runs`, the rule the classifier's job losses follow too). Labels are
retrospective: the whole run is an event once it is confirmed.

Telework and job loss look alike in one person's attendance. **(ours)** They are told apart by *when* the
drop starts and *who* drops: in each week t, among baseline workers at risk (covered, not already in an
event), the indicator "an event starts at t" is regressed on teleworkability ``x_u``. A remote-work wave
shows as a slope ``b(t)`` (new drops rise with teleworkability) on top of a job-loss rate ``h(t)`` (the
intercept). The slope counts only where its t statistic reaches ``remote_wave_min_t``. For an event of
user u starting at t0, the probability it is a job loss is

    ``q_u(t0) = 1 - b(t0) x_u / (h(t0) + b(t0) x_u)``, clipped to [0, 1]  (1 when b = 0).

A worker who went remote stays exposed to job loss, which attendance can no longer show; later weeks
of the event add the job-loss hazard since t0: ``q_u(t) = q_u(t0) + (1 - q_u(t0)) (1 - S(t) / S(t0))``,
``S(t) = prod_{t' <= t} (1 - hazard(t'))``, ``hazard`` = starts / at risk (the intercept h in wave weeks).

Schema ``event_starts``: ``week``, ``at_risk`` (users), ``starts`` (events starting), ``job_loss_rate``
(h), ``remote_slope`` (b), ``remote_slope_t`` (its t statistic), ``remote_wave`` (bool: slope used),
``hazard`` (the week's job-loss hazard among workers at risk).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.employment.params import EmploymentParams
from mobility.kernels.employment import column_ols, event_runs


def near_zero(attendance: np.ndarray, work_time: np.ndarray, zero_max: float) -> np.ndarray:
    """Near-zero attendance: ``rt <= zero_max`` where the work-hour share is measured, else ``r <= zero_max``.

    The time share is preferred: a short errand in the work block group on a weekday counts as a day "at
    work" in ``r`` but adds little work-hour time to ``rt``.

    Examples
    --------
    >>> near_zero(np.array([0.1, 0.1, 0.3, np.nan]), np.array([np.nan, 0.5, 0.05, np.nan]), 0.2).tolist()
    [True, False, True, False]
    """
    r = np.asarray(attendance, dtype=float)
    rt = np.asarray(work_time, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(rt), rt <= zero_max, r <= zero_max)


def confirmed_runs(flag: np.ndarray, usable: np.ndarray, *, params: EmploymentParams | None = None) -> np.ndarray:
    """First week of each confirmed run of flagged covered weeks, ``-1`` outside runs.

    The one confirmation rule of both methods: a run is confirmed once it holds ``min_event_weeks`` covered
    flagged weeks (uncovered weeks neither break nor extend it, :func:`mobility.kernels.employment.event_runs`).
    The signal flags near-zero attendance, the classifier ``p_unemployed >= unemployed_probability_min``.

    Examples
    --------
    One week above the threshold is not a job loss; three in a row (a silent week inside) are:

    >>> flag = np.array([[False, True, False, False, True, True, False, True]])
    >>> usable = np.array([[True, True, True, True, True, True, False, True]])
    >>> confirmed_runs(flag, usable).tolist()
    [[-1, -1, -1, -1, 4, 4, 4, 4]]
    """
    params = params or EmploymentParams()
    usable = np.asarray(usable, dtype=bool)
    return event_runs(np.asarray(flag, dtype=bool) & usable, usable, params.min_event_weeks)


def job_loss_events(attendance: np.ndarray, work_time: np.ndarray, usable: np.ndarray, x: np.ndarray,
                    weeks: pd.DatetimeIndex, *, params: EmploymentParams | None = None):
    """Events and their job-loss probability.

    Parameters
    ----------
    attendance, work_time : ndarray, shape (n_users, n_weeks)
        r_u(t) and rt_u(t).
    usable : ndarray of bool, shape (n_users, n_weeks)
        Covered weeks of baseline workers.
    x : ndarray, shape (n_users,)
        Teleworkability (NaN: unknown, treated as the mean of the known ones).
    weeks : DatetimeIndex

    Returns
    -------
    run_start : ndarray of int64, shape (n_users, n_weeks)
        Column of the event's first week inside events, -1 elsewhere.
    q : ndarray of float, shape (n_users, n_weeks)
        Probability the event is a job loss (NaN outside events).
    starts : DataFrame
        The ``event_starts`` table of the module notes.

    Examples
    --------
    Nine workers; in week 1 the three fully teleworkable ones drop (a remote wave), in week 2 a
    non-teleworkable one does: only the latter is a job loss.

    >>> x = np.array([1.0] * 3 + [0.0] * 6)
    >>> r = np.ones((9, 6)); r[:3, 1:] = 0.0; r[3, 2:] = 0.0
    >>> p = EmploymentParams(min_event_weeks=3, remote_wave_min_t=2.0)
    >>> wk = pd.date_range("2020-03-02", periods=6, freq="7D")
    >>> start, q, tab = job_loss_events(r, np.full_like(r, np.nan), np.ones((9, 6), bool), x, wk, params=p)
    >>> start[0].tolist(), start[3].tolist()
    ([-1, 1, 1, 1, 1, 1], [-1, -1, 2, 2, 2, 2])
    >>> float(q[0, 1]), float(q[3, 2]), tab["remote_wave"].tolist()[:3]
    (0.0, 1.0, [False, True, False])

    One of the six at risk in week 2 lost the job (hazard 1/6), so by week 2 the remote workers have
    lost theirs with probability 1/6:

    >>> round(float(q[0, 2]), 4), round(float(tab["hazard"][2]), 4)
    (0.1667, 0.1667)
    """
    params = params or EmploymentParams()
    usable = np.asarray(usable, dtype=bool)
    run_start = confirmed_runs(near_zero(attendance, work_time, params.zero_attendance_max), usable, params=params)
    n_w = run_start.shape[1]
    col = np.arange(n_w)[None, :]
    starts_here = run_start == col
    at_risk = usable & ((run_start < 0) | starts_here)
    xx = np.where(np.isfinite(x), x, np.nanmean(x) if np.isfinite(x).any() else 0.0)
    h, b, se, n = column_ols(starts_here.astype(float), xx, at_risk)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(se > 0, b / se, np.where(b > 0, np.inf, np.nan))
    wave = (t >= params.remote_wave_min_t) & (b > 0)
    b_used = np.where(wave, b, 0.0)
    h0 = np.nan_to_num(h, nan=0.0)
    inside = run_start >= 0
    t0 = np.maximum(run_start, 0)
    remote = b_used[t0] * xx[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = h0[t0] + remote
        share = np.where(expected > 0, np.clip(1.0 - remote / expected, 0.0, 1.0), 0.0)
    q = np.where(remote > 0, share, 1.0)
    n_starts = starts_here.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(wave, h0, n_starts / np.maximum(n, 1))
    hazard = np.clip(np.nan_to_num(hazard, nan=0.0), 0.0, 1.0)
    survival = np.cumprod(1.0 - hazard)
    with np.errstate(invalid="ignore", divide="ignore"):
        later = 1.0 - np.where(survival[t0] > 0, survival[None, :] / survival[t0], 0.0)
    q = q + (1.0 - q) * np.clip(later, 0.0, 1.0)
    q = np.where(inside, q, np.nan)
    table = pd.DataFrame({"week": weeks.values, "at_risk": n, "starts": n_starts, "job_loss_rate": h,
                          "remote_slope": b, "remote_slope_t": t, "remote_wave": wave, "hazard": hazard})
    return run_start, q, table
