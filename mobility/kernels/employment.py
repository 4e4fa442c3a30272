"""Kernels of the employment step: attendance per user-day, stop time per local day, job-loss runs, per-week
regressions.

Pure numpy/numba over arrays; the frames live in :mod:`mobility.employment`. A weekly panel is a dense
``(n_users, n_weeks)`` matrix (users in rows, consecutive weeks in columns).
"""

from __future__ import annotations

import numba
import numpy as np

from mobility.kernels.daytime import pairwise_sum

DAY_S = 86400


def workday_attendance(bins: np.ndarray, reference: np.ndarray, profile: np.ndarray, min_observed_h: float,
                       min_observed_share: float = 0.0):
    """Per user-day: usual work hours, how many were observed, and whether the day was spent at work.

    Parameters
    ----------
    bins : ndarray of int64, shape (n_rows, 24)
        Location code of each local hour of each user-day, ``-1`` without data
        (:func:`mobility.kernels.home_work.hour_bin_locations`).
    reference : ndarray of int64, shape (n_rows,)
        Code of the day's reference workplace, ``-1`` for none.
    profile : ndarray of float64, shape (n_rows, 24)
        Weight of each hour of the day in the person's usual work schedule (0..1).
    min_observed_h : float
        Weighted hours a day needs observed (capped at the day's usual hours) to count as observed.
    min_observed_share : float
        Share of the day's usual hours it needs observed as well.

    Returns
    -------
    expected_h : ndarray of float64
        The day's usual work hours (sum of ``profile``).
    observed_h : ndarray of float64
        Usual work hours with data (sum of ``profile`` over hours with data).
    observed : ndarray of bool
        Seen at the workplace, or ``expected_h > 0`` and ``observed_h >= max(min(min_observed_h, expected_h),
        min_observed_share * expected_h)``.
    at_work : ndarray of bool
        Some hour of the day at the reference workplace.
    at_work_h : ndarray of float64
        Usual work hours spent at the reference (sum of ``profile`` over those hours).

    Examples
    --------
    A 9-to-5 profile; day 0 at work 9-17, day 1 seen only at night (at home, code 0), day 2 no data:

    >>> p = np.zeros((3, 24)); p[:, 9:17] = 1.0
    >>> b = np.full((3, 24), -1); b[0, 9:17] = 5; b[0, :7] = 0; b[1, :7] = 0
    >>> e, o, seen, at, ah = workday_attendance(b, np.array([5, 5, 5]), p, 1.0)
    >>> e.tolist(), o.tolist(), seen.tolist(), at.tolist(), ah.tolist()
    ([8.0, 8.0, 8.0], [8.0, 0.0, 0.0], [True, False, False], [True, False, False], [8.0, 0.0, 0.0])
    """
    expected, observed_h, at_work_h, at_work = _workday_sums(
        np.ascontiguousarray(bins, dtype=np.int64), np.asarray(reference, dtype=np.int64),
        np.ascontiguousarray(profile, dtype=np.float64))
    need = np.maximum(np.minimum(min_observed_h, expected), min_observed_share * expected)
    enough = (expected > 0) & (observed_h >= need - 1e-9)
    return expected, observed_h, at_work | enough, at_work, at_work_h


@numba.njit(cache=True)
def _workday_sums(bins, reference, profile):
    """The sums of :func:`workday_attendance`, one pass per row, in NumPy's pairwise order (bit for bit
    ``(profile * mask).sum(axis=1)``)."""
    n_rows, n_h = bins.shape
    expected = np.empty(n_rows)
    observed_h = np.empty(n_rows)
    at_work_h = np.empty(n_rows)
    at_work = np.zeros(n_rows, dtype=np.bool_)
    v_seen = np.empty(n_h)
    v_at = np.empty(n_h)
    for r in range(n_rows):
        ref = reference[r]
        for h in range(n_h):
            b = bins[r, h]
            at = b == ref and ref >= 0
            v_seen[h] = profile[r, h] * (1.0 if b >= 0 else 0.0)  # as NumPy's profile * bool mask
            v_at[h] = profile[r, h] * (1.0 if at else 0.0)
            if at:
                at_work[r] = True
        expected[r] = pairwise_sum(profile[r])
        observed_h[r] = pairwise_sum(v_seen)
        at_work_h[r] = pairwise_sum(v_at)
    return expected, observed_h, at_work_h, at_work

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


def column_ls2(y: np.ndarray, u: np.ndarray, v: np.ndarray, mask: np.ndarray):
    """Least squares of ``y`` on two regressors ``u`` and ``v`` (no intercept: pass ``u`` = 1 for one) in every
    column, over the rows of ``mask``.

    Parameters
    ----------
    y : ndarray of float, shape (n, m)
    u, v : ndarray of float, shape (n,) or (n, m)
    mask : ndarray of bool, shape (n, m)
        Rows used in each column (NaN in ``y``, ``u`` or ``v`` is excluded too).

    Returns
    -------
    b_u, b_v : ndarray of float64, shape (m,)
        The coefficients; NaN where the column has fewer than 2 rows or ``u`` and ``v`` are collinear.
    se_u, se_v : ndarray of float64, shape (m,)
        Their standard errors under homoskedasticity (NaN with fewer than 3 rows).
    n : ndarray of int64, shape (m,)
        Rows used per column.

    Examples
    --------
    With ``u`` = 1 it is the intercept and slope of ``y`` on ``v``:

    >>> x = np.array([0.0, 1.0, 2.0, 3.0])
    >>> y = np.column_stack([1 + 2 * x, np.zeros(4)])
    >>> a, b, sa, sb, n = column_ls2(y, np.ones(4), x, np.ones((4, 2), bool))
    >>> a.round(6).tolist(), b.round(6).tolist(), sb.round(6).tolist(), n.tolist()
    ([1.0, 0.0], [2.0, 0.0], [0.0, 0.0], [4, 4])
    """
    y = np.asarray(y, dtype=np.float64)
    u = np.broadcast_to(np.asarray(u, dtype=np.float64).reshape(len(y), -1), y.shape)
    v = np.broadcast_to(np.asarray(v, dtype=np.float64).reshape(len(y), -1), y.shape)
    m = np.asarray(mask, dtype=bool) & np.isfinite(y) & np.isfinite(u) & np.isfinite(v)
    yy, uu, vv = (np.where(m, a, 0.0) for a in (y, u, v))
    n, suu, suv, svv, suy, svy, syy = (m.sum(axis=0).astype(np.float64), (uu * uu).sum(axis=0),
                                       (uu * vv).sum(axis=0), (vv * vv).sum(axis=0), (uu * yy).sum(axis=0),
                                       (vv * yy).sum(axis=0), (yy * yy).sum(axis=0))
    det = suu * svv - suv * suv
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (n >= 2) & (det > 1e-12 * np.maximum(suu * svv, 1e-300))
        b_u = np.where(ok, (svv * suy - suv * svy) / det, np.nan)
        b_v = np.where(ok, (suu * svy - suv * suy) / det, np.nan)
        rss = syy - b_u * suy - b_v * svy
        sigma2 = np.where(n >= 3, np.maximum(rss, 0.0) / (n - 2), np.nan)
        se_u = np.sqrt(sigma2 * svv / det)
        se_v = np.sqrt(sigma2 * suu / det)
    return b_u, b_v, se_u, se_v, n.astype(np.int64)


def window_sum(a: np.ndarray, half_window: int) -> np.ndarray:
    """Sum of ``a`` (1-D) over positions ``j - half_window .. j + half_window`` (cut at the edges).

    Examples
    --------
    >>> window_sum(np.array([1.0, 2.0, 3.0, 4.0]), 1).tolist()
    [3.0, 6.0, 9.0, 7.0]
    """
    c = np.concatenate([[0.0], np.cumsum(np.asarray(a, dtype=np.float64))])
    j = np.arange(len(c) - 1)
    return c[np.minimum(j + half_window + 1, len(c) - 1)] - c[np.maximum(j - half_window, 0)]


def window_mean(a: np.ndarray, half_window: int) -> np.ndarray:
    """Mean of the finite values of ``a`` (1-D) over positions ``j - half_window .. j + half_window``
    (NaN where the window holds none).

    Examples
    --------
    >>> window_mean(np.array([1.0, np.nan, 3.0, 5.0, np.nan]), 1).tolist()
    [1.0, 2.0, 4.0, 4.0, 5.0]
    """
    a = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(a)
    n = window_sum(ok, half_window)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, window_sum(np.where(ok, a, 0.0), half_window) / n, np.nan)


def calibrated_draws(p0: np.ndarray, cell: np.ndarray, inside: np.ndarray, shift_p: np.ndarray,
                     shift_out: np.ndarray, u: np.ndarray | None = None, member: np.ndarray | None = None,
                     out: tuple[np.ndarray, ...] | None = None):
    """Recalibrated probabilities, labour-force weights and latent statuses of every replicate, user and
    week in one pass (float32, as the bootstrap of :mod:`mobility.employment.area` sums them).

    For replicate ``r``, user ``i``, week ``t`` inside the panel (``inside``), with ``c = cell[i, t]``:
    ``lf = 1 - shift_out[r, c]``, ``pb = clip(p0[i, t] + shift_p[r, c], 0, lf)`` (NumPy's ``clip``: a NaN
    stays NaN), and, with ``u``, ``drawn = 1`` where ``u[r, i] < pb`` and ``member[i, t]``; all 0 outside.
    Each value is the one NumPy's float32 operations give, element for element.

    Parameters
    ----------
    p0 : ndarray of float32, shape (n, T)
    cell : ndarray of int64, shape (n, T)
        Column of ``shift_p`` / ``shift_out`` of each user-week.
    inside : ndarray of bool, shape (n, T)
    shift_p, shift_out : ndarray of float32, shape (R, n_cells)
    u : ndarray of float32, shape (R, n), optional
        One uniform number per replicate and user: draw the latent statuses.
    member : ndarray of bool, shape (n, T), optional
        Where a status can be drawn (default ``inside``).
    out : tuple of ndarray, optional
        float32 arrays to fill, each holding at least ``R * n * T`` values (reused chunk after chunk: no new
        pages to fault in); their first ``R * n * T`` values are returned, shaped.

    Returns
    -------
    pb, lf : ndarray of float32, shape (R, n, T)
    drawn : ndarray of float32, shape (R, n, T), only with ``u``

    Examples
    --------
    >>> pb, lf, d = calibrated_draws(np.array([[0.1, 0.5]], np.float32), np.array([[0, 1]]),
    ...     np.array([[True, True]]), np.array([[-0.2, 0.1]], np.float32), np.array([[0.0, 0.5]], np.float32),
    ...     np.array([[0.55]], np.float32))
    >>> pb.tolist(), lf.tolist(), d.tolist()
    ([[[0.0, 0.5]]], [[[1.0, 0.5]]], [[[0.0, 0.0]]])
    """
    n_r = shift_p.shape[0]
    shape = (n_r, *cell.shape)
    size = int(np.prod(shape))
    draw = u is not None
    arrays = [np.empty(size if k < 2 or draw else 0, dtype=np.float32) if out is None else out[k][:size if k < 2 or draw else 0]
              for k in range(3)]
    pb, lf, drawn = (a.reshape(shape) if len(a) else a.reshape(0, 0, 0) for a in arrays)
    _calibrated_draws(p0, cell, inside, np.ascontiguousarray(shift_p, np.float32),
                      np.ascontiguousarray(shift_out, np.float32),
                      np.asarray(u, np.float32) if draw else np.zeros((n_r, 0), np.float32),
                      inside if member is None else member, draw, pb, lf, drawn)
    return (pb, lf, drawn) if draw else (pb, lf)


@numba.njit(cache=True)
def _calibrated_draws(p0, cell, inside, shift_p, shift_out, u, member, draw, pb, lf, drawn):
    n_r = shift_p.shape[0]
    n, n_t = cell.shape
    zero, one = np.float32(0.0), np.float32(1.0)
    for i in range(n):
        for t in range(n_t):
            if not inside[i, t]:
                for r in range(n_r):
                    pb[r, i, t] = zero
                    lf[r, i, t] = zero
                    if draw:
                        drawn[r, i, t] = zero
                continue
            c, p, m = cell[i, t], p0[i, t], member[i, t]
            for r in range(n_r):
                w = one - shift_out[r, c]
                x = p + shift_p[r, c]
                if not np.isnan(x):  # NumPy's clip: max(x, 0) then min(., w), a NaN kept
                    x = x if x > zero else zero
                    if not np.isnan(x):
                        x = x if x < w else w
                pb[r, i, t] = x
                lf[r, i, t] = w
                if draw:
                    drawn[r, i, t] = one if (u[r, i] < x and m) else zero
