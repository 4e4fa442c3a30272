"""Kernels of the employment step: stop time per local day, job-loss runs, per-week regressions.

Pure numpy/numba over arrays; the frames live in :mod:`mobility.employment`. A weekly panel is a dense
``(n_users, n_weeks)`` matrix (users in rows, consecutive weeks in columns).
"""

from __future__ import annotations

import numba
import numpy as np

DAY_S = 86400


def day_pieces(start_s: np.ndarray, end_s: np.ndarray, work_start_s: float, work_end_s: float):
    """Split intervals ``[start_s, end_s)`` (local seconds since the epoch) at local midnights.

    Parameters
    ----------
    start_s, end_s : ndarray of int64 or float64
        Local wall-clock seconds of each stop's start and end.
    work_start_s, work_end_s : float
        The work-hour window within a day, seconds after midnight.

    Returns
    -------
    row : ndarray of int64
        Index of the interval each piece comes from.
    day : ndarray of int64
        Local day of the piece (days since 1970-01-01).
    observed_s, workhour_s : ndarray of float64
        Seconds of the piece in its day, and inside that day's work-hour window.

    Examples
    --------
    A stay from 22:00 to 10:00 the next day, work hours 09:00-18:00: 2 h on day 0, 10 h (1 h in work
    hours) on day 1.

    >>> r, d, o, w = day_pieces(np.array([22 * 3600]), np.array([34 * 3600]), 9 * 3600, 18 * 3600)
    >>> r.tolist(), d.tolist(), o.tolist(), w.tolist()
    ([0, 0], [0, 1], [7200.0, 36000.0], [0.0, 3600.0])
    """
    start = np.asarray(start_s, dtype=np.float64)
    end = np.maximum(np.asarray(end_s, dtype=np.float64), start)
    first = np.floor(start / DAY_S).astype(np.int64)
    last = np.floor(np.maximum(end - 1e-9, start) / DAY_S).astype(np.int64)
    n = last - first + 1
    row = np.repeat(np.arange(len(start), dtype=np.int64), n)
    offset = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    day = first[row] + offset
    d0 = day.astype(np.float64) * DAY_S
    lo = np.maximum(start[row], d0)
    hi = np.minimum(end[row], d0 + DAY_S)
    observed = np.maximum(hi - lo, 0.0)
    workhour = np.maximum(np.minimum(hi, d0 + work_end_s) - np.maximum(lo, d0 + work_start_s), 0.0)
    return row, day, observed, workhour


@numba.njit(cache=True)
def event_runs(zero: np.ndarray, covered: np.ndarray, min_weeks: int) -> np.ndarray:
    """Week index where each week's confirmed near-zero run began, ``-1`` outside runs.

    A run is a sequence of covered near-zero weeks (``zero & covered``) not interrupted by a covered
    week that is not near zero; uncovered weeks neither break nor extend it. A run is confirmed when it
    holds at least ``min_weeks`` covered near-zero weeks; every week from its first to its last covered
    near-zero week (uncovered weeks in between included) gets the run's first week.

    Parameters
    ----------
    zero, covered : ndarray of bool, shape (n_users, n_weeks)
    min_weeks : int

    Returns
    -------
    ndarray of int64, shape (n_users, n_weeks)

    Examples
    --------
    Near zero in weeks 1, 2 (3 uncovered) 4, then back at work in week 5:

    >>> z = np.array([[False, True, True, True, True, False]])
    >>> c = np.array([[True, True, True, False, True, True]])
    >>> event_runs(z, c, 3).tolist()
    [[-1, 1, 1, 1, 1, -1]]
    >>> event_runs(z, c, 4).tolist()
    [[-1, -1, -1, -1, -1, -1]]
    """
    n_u, n_w = zero.shape
    out = np.full((n_u, n_w), -1, dtype=np.int64)
    for u in range(n_u):
        start = -1
        last = -1
        count = 0
        for w in range(n_w + 1):
            closing = w == n_w
            if not closing:
                if not covered[u, w]:
                    continue
                if zero[u, w]:
                    if start < 0:
                        start = w
                    last = w
                    count += 1
                    continue
            if start >= 0 and count >= min_weeks:
                for k in range(start, last + 1):
                    out[u, k] = start
            start = -1
            last = -1
            count = 0
    return out


def column_ols(y: np.ndarray, x: np.ndarray, mask: np.ndarray):
    """Least-squares intercept and slope of ``y`` on ``x`` in every column, over the rows of ``mask``.

    Parameters
    ----------
    y : ndarray of float, shape (n, m)
    x : ndarray of float, shape (n,) or (n, m)
    mask : ndarray of bool, shape (n, m)
        Rows used in each column (NaN in ``y`` or ``x`` is excluded too).

    Returns
    -------
    intercept, slope : ndarray of float64, shape (m,)
        NaN where a column has fewer than 2 rows or no spread in ``x``.
    slope_se : ndarray of float64, shape (m,)
        Standard error of the slope (NaN with fewer than 3 rows).
    n : ndarray of int64, shape (m,)
        Rows used per column.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 3.0])
    >>> y = np.column_stack([1 + 2 * x, np.zeros(4)])
    >>> a, b, se, n = column_ols(y, x, np.ones((4, 2), bool))
    >>> a.round(6).tolist(), b.round(6).tolist(), se.round(6).tolist(), n.tolist()
    ([1.0, 0.0], [2.0, 0.0], [0.0, 0.0], [4, 4])
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(len(y), -1), y.shape)
    m = np.asarray(mask, dtype=bool) & np.isfinite(y) & np.isfinite(x)
    n = m.sum(axis=0)
    yy = np.where(m, y, 0.0)
    xx = np.where(m, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = xx.sum(axis=0) / n
        my = yy.sum(axis=0) / n
        dx = np.where(m, x - mx, 0.0)
        sxx = (dx * dx).sum(axis=0)
        sxy = (dx * np.where(m, y - my, 0.0)).sum(axis=0)
        slope = np.where((n >= 2) & (sxx > 1e-12), sxy / sxx, np.nan)
        intercept = np.where(np.isfinite(slope), my - slope * mx, np.nan)
        resid = np.where(m, y - intercept - slope * x, 0.0)
        rss = (resid * resid).sum(axis=0)
        se = np.where(n >= 3, np.sqrt(np.maximum(rss, 0.0) / (n - 2) / sxx), np.nan)
    return intercept, slope, se, n.astype(np.int64)
