"""Kernel of the daytime evidence (:mod:`mobility.employment.daytime`): one pass over the hourly bins of every
user-day, in place of the ``(n_rows, 24)`` temporaries of the NumPy version.

Sums over a day's 24 hours are added in NumPy's pairwise order (:func:`pairwise_sum`), so every value equals
the NumPy reduction ``(interest * mask).sum(axis=1)`` bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def pairwise_sum(a: np.ndarray) -> float:
    """Sum of a short float64 vector (up to 128 values) in the order of NumPy's ``add.reduce`` over a
    contiguous axis: one running sum below 8 values, else 8 partial sums combined as a tree, then the rest."""
    n = a.size
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[i]
        return res
    r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    i = 8
    while i < n - (n % 8):
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i]
        i += 1
    return res


def daytime_day_sums(bins: np.ndarray, home: np.ndarray, reference: np.ndarray, profile: np.ndarray,
                     mean_day: np.ndarray, row_user: np.ndarray, weekday: np.ndarray, usual: np.ndarray):
    """Per user-day: the hours of interest observed, at home and elsewhere, and the usual-day hours away from
    home that the distances are measured on.

    A row's hours of interest are ``profile[user, weekday]`` on a usual work day (``usual``), else
    ``mean_day[user]``. An hour is *seen* with a location code (``bins >= 0``), *at home* when seen at the row's
    ``home`` code (``>= 0``), *at work* when seen at its ``reference`` code (``>= 0``), *other* when seen and
    neither.

    Parameters
    ----------
    bins : ndarray of int64, shape (n_rows, n_hours)
        Location code of each local hour of each user-day, ``-1`` without data.
    home, reference : ndarray of int64, shape (n_rows,)
        Code of the day's home and reference workplace, ``-1`` for none.
    profile : ndarray of float64, shape (n_users, 7, n_hours)
        Each user's usual-hours weights by day of the week.
    mean_day : ndarray of float64, shape (n_users, n_hours)
        The hours of interest of the user's days off.
    row_user, weekday : ndarray of int64, shape (n_rows,)
        Each row's user (index into ``profile``) and day of the week (0 = Monday).
    usual : ndarray of bool, shape (n_rows,)
        Whether the row is a usual work day.

    Returns
    -------
    seen_h, expected_h, home_h, other_h : ndarray of float64, shape (n_rows,)
        Sums of the hours of interest over the seen hours, all hours, the hours at home and the other hours
        (each in NumPy's pairwise order: equal to ``(interest * mask).sum(axis=1)``).
    any_other : ndarray of bool, shape (n_rows,)
        Some other hour has interest ``> 0``.
    seen_all_h : ndarray of int64, shape (n_rows,)
        Hours of the whole day seen (interest or not).
    any_other_all : ndarray of bool, shape (n_rows,)
        Some hour of the whole day is other (interest or not).
    row, hour : ndarray of int64, shape (n_away,)
        The seen, not-at-home hours with interest ``> 0`` of the usual days, in row-major order (as
        ``np.nonzero`` of that mask).
    weight : ndarray of float64, shape (n_away,)
        Their interest.

    Examples
    --------
    One user working 9-17 on Mondays; Monday 2020-01-06 at work 9-12, elsewhere (code 7) 12-14, at home
    (code 0) 14-17; the following Tuesday (a day off) at code 7 from 10 to 11:

    >>> p = np.zeros((1, 7, 24)); p[0, 0, 9:17] = 1.0
    >>> b = np.full((2, 24), -1); b[0, 9:12] = 5; b[0, 12:14] = 7; b[0, 14:17] = 0; b[1, 10] = 7
    >>> out = daytime_day_sums(b, np.array([0, 0]), np.array([5, 5]), p, p[:, 0], np.array([0, 0]),
    ...                        np.array([0, 1]), np.array([True, False]))
    >>> [v.tolist() for v in out]  # doctest: +NORMALIZE_WHITESPACE
    [[8.0, 1.0], [8.0, 8.0], [3.0, 0.0], [2.0, 1.0], [True, True], [8, 1], [True, True], [0, 0, 0, 0, 0],
     [9, 10, 11, 12, 13], [1.0, 1.0, 1.0, 1.0, 1.0]]
    """
    return _daytime_day_sums(np.ascontiguousarray(bins, dtype=np.int64), np.asarray(home, dtype=np.int64),
                             np.asarray(reference, dtype=np.int64),
                             np.ascontiguousarray(profile, dtype=np.float64),
                             np.ascontiguousarray(mean_day, dtype=np.float64), np.asarray(row_user, dtype=np.int64),
                             np.asarray(weekday, dtype=np.int64), np.asarray(usual, dtype=np.bool_))


@numba.njit(cache=True)
def _daytime_day_sums(bins, home, reference, profile, mean_day, row_user, weekday, usual):
    n_rows, n_h = bins.shape
    seen_h = np.empty(n_rows)
    expected_h = np.empty(n_rows)
    home_h = np.empty(n_rows)
    other_h = np.empty(n_rows)
    any_other = np.zeros(n_rows, dtype=np.bool_)
    seen_all_h = np.zeros(n_rows, dtype=np.int64)
    any_other_all = np.zeros(n_rows, dtype=np.bool_)
    v_seen = np.empty(n_h)
    v_home = np.empty(n_h)
    v_other = np.empty(n_h)
    n_away = 0
    for r in range(n_rows):
        u = row_user[r]
        interest = profile[u, weekday[r]] if usual[r] else mean_day[u]
        hm = home[r]
        ref = reference[r]
        for h in range(n_h):
            b = bins[r, h]
            w = interest[h]
            seen = b >= 0
            at_home = seen and b == hm and hm >= 0
            at_work = seen and b == ref and ref >= 0
            other = seen and not at_home and not at_work
            v_seen[h] = w * (1.0 if seen else 0.0)  # as NumPy's interest * bool mask
            v_home[h] = w * (1.0 if at_home else 0.0)
            v_other[h] = w * (1.0 if other else 0.0)
            if seen:
                seen_all_h[r] += 1
            if other:
                any_other_all[r] = True
                if w > 0:
                    any_other[r] = True
            if usual[r] and seen and not at_home and w > 0:
                n_away += 1
        seen_h[r] = pairwise_sum(v_seen)
        expected_h[r] = pairwise_sum(interest)
        home_h[r] = pairwise_sum(v_home)
        other_h[r] = pairwise_sum(v_other)
    row = np.empty(n_away, dtype=np.int64)
    hour = np.empty(n_away, dtype=np.int64)
    weight = np.empty(n_away)
    k = 0
    for r in range(n_rows):
        if not usual[r]:
            continue
        interest = profile[row_user[r], weekday[r]]
        hm = home[r]
        for h in range(n_h):
            b = bins[r, h]
            w = interest[h]
            if b >= 0 and not (b == hm and hm >= 0) and w > 0:
                row[k] = r
                hour[k] = h
                weight[k] = w
                k += 1
    return seen_h, expected_h, home_h, other_h, any_other, seen_all_h, any_other_all, row, hour, weight
