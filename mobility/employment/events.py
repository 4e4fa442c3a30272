"""Sustained drops: attendance near zero for k covered weeks while the phone keeps seeing the person.

A **drop** (method.md 2.7) starts when a baseline worker's relative work-hour time at the workplace
``rt_u(t)`` (where not measured, the relative attendance ``r_u(t)``) falls to at most ``zero_attendance_max``
and stays there for at least ``min_event_weeks`` covered weeks (uncovered weeks neither break nor extend it;
:func:`confirmed_runs`, the rule the classifier's job losses follow too). Labels are retrospective: the whole
run is a drop once it is confirmed. Whether a drop is a job loss or remote work is weighed by
:mod:`mobility.employment.adoption` (the population) and :mod:`mobility.employment.evidence` (the person)."""

from __future__ import annotations

import numpy as np

from mobility.employment.params import EmploymentParams
from mobility.kernels.employment import event_runs


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


def drop_onsets(run_start: np.ndarray, drop_start: np.ndarray) -> np.ndarray:
    """``run_start`` with each run dated at the onset of the attendance drop that holds its first week.

    For ``EmploymentParams.job_loss_dating = "drop_onset"``: a classifier job loss (a confirmed run of weeks
    above the threshold, ``run_start`` from :func:`confirmed_runs`) whose first week lies inside an attendance
    drop (``drop_start``, the signal's :func:`confirmed_runs` of near-zero weeks) that began earlier is dated
    at that drop's first week: the person stopped coming to work then, and the probability crossed the
    threshold only once the absence had lasted. Runs outside any drop, or starting before it, keep their
    first week. Which cells are in a run does not change.

    Parameters
    ----------
    run_start, drop_start : ndarray of int64, shape (n_users, n_weeks)
        First week of the run holding each week, ``-1`` outside runs.

    Returns
    -------
    ndarray of int64, shape (n_users, n_weeks)

    Examples
    --------
    Attendance near zero from week 1; the probability above the threshold from week 3 (dated 1), and a
    second person whose run starts before the drop (kept at 2):

    >>> run = np.array([[-1, -1, -1, 3, 3, 3], [-1, -1, 2, 2, 2, -1]])
    >>> drop = np.array([[-1, 1, 1, 1, 1, 1], [-1, -1, -1, 3, 3, 3]])
    >>> drop_onsets(run, drop).tolist()
    [[-1, -1, -1, 1, 1, 1], [-1, -1, 2, 2, 2, -1]]
    """
    run_start = np.asarray(run_start, dtype=np.int64)
    drop_start = np.asarray(drop_start, dtype=np.int64)
    if run_start.shape != drop_start.shape:
        raise ValueError(f"run_start {run_start.shape} and drop_start {drop_start.shape} differ in shape")
    out = run_start.copy()
    u, w = np.nonzero(run_start >= 0)
    first = run_start[u, w]
    onset = drop_start[u, first]
    out[u, w] = np.where((onset >= 0) & (onset < first), onset, first)
    return out
