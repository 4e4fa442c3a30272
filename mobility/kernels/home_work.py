"""Kernels of home and work detection: hourly bins and rolling-window shares (both rule sets of
:mod:`mobility.home_work`, the schedule rules and HoWDe v2).

Pure array functions, all users at once, over arrays sorted by user then time. The frame layer
(:mod:`mobility.home_work`) prepares the inputs (local wall-clock seconds, one row per user per local day)
and turns the outputs back into tables.

Conventions
-----------
* A *row* is one user-day; the rows of a user are consecutive and cover every local calendar day of the
  user's observed span (days without stops included).
* Time is local wall-clock seconds since 1970-01-01 00:00 (the naive local time read as if it were UTC),
  so local midnight is a multiple of 86,400 and local hour ``h`` of a day is ``[h*3600, (h+1)*3600)``.
* A stop covers the half-open interval ``[start, end)``; a bin "has data" when some stop overlaps it by at
  least one second, and it is given to the stop with the longest overlap (the earlier stop on a tie).
"""

from __future__ import annotations

import numba
import numpy as np

HOURS_PER_DAY = 24
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
NO_LOCATION = -1
TOO_LITTLE_DATA = -2  # a window without enough days with data: no label can be decided
# Float tolerance for inclusive thresholds: shares are ratios of small integers, and a share that equals a
# threshold by hand (e.g. 7/10 against 0.7) must pass despite rounding in the window sums.
SHARE_TOLERANCE = 1e-9


@numba.njit(cache=True)
def hour_bin_locations(start_s, end_s, location, base_row, n_rows):
    """Give each local hour bin of each user-day to the stop overlapping it longest.

    Stops are split at local midnight implicitly: a bin never straddles midnight, and the row of a bin is
    ``base_row[i] + day`` with ``day = hour // 24`` counted from 1970-01-01.

    Parameters
    ----------
    start_s, end_s : int64 arrays
        Local wall-clock seconds of each stop's start and end (stop = ``[start, end)``), sorted by user then
        start. Stops with ``end <= start`` cover nothing.
    location : int64 array
        Location code of each stop (``>= 0``).
    base_row : int64 array
        Per stop, ``first_row_of_its_user - first_day_of_its_user`` (days since 1970-01-01), so that
        ``base_row + day`` is the row of that day.
    n_rows : int
        Number of user-day rows.

    Returns
    -------
    int64 array of shape (n_rows, 24)
        Location code of each bin, ``-1`` where no stop overlaps the bin.

    Examples
    --------
    >>> import numpy as np
    >>> # one user, day 0; stop A 00:00-01:30 (loc 5), stop B 01:30-03:00 (loc 7): bin 1 is a 30/30 tie -> A
    >>> bins = hour_bin_locations(np.array([0, 5400]), np.array([5400, 10800]), np.array([5, 7]),
    ...                           np.array([0, 0]), 1)
    >>> bins[0, :4].tolist()
    [5, 5, 7, -1]
    """
    out = np.full(n_rows * HOURS_PER_DAY, NO_LOCATION, np.int64)
    best = np.zeros(n_rows * HOURS_PER_DAY, np.int32)  # an overlap is at most 3,600 s
    for i in range(start_s.size):
        s = start_s[i]
        e = end_s[i]
        if e <= s:
            continue
        h = s // SECONDS_PER_HOUR
        h_last = (e - 1) // SECONDS_PER_HOUR
        row0 = base_row[i] * HOURS_PER_DAY  # bin of hour h: (base_row + h // 24) * 24 + h % 24 = row0 + h
        while h <= h_last:
            overlap = min(e, (h + 1) * SECONDS_PER_HOUR) - max(s, h * SECONDS_PER_HOUR)
            k = row0 + h
            if overlap > best[k]:
                best[k] = overlap
                out[k] = location[i]
            h += 1
    return out.reshape(n_rows, HOURS_PER_DAY)


def daily_location_shares(bins, hours, min_hours_share, row_eligible):
    """Per user-day: is the day valid, and the share of its data bins at each location.

    Parameters
    ----------
    bins : int64 array (n_rows, 24)
        Output of :func:`hour_bin_locations`.
    hours : int array
        The hours of the rule (e.g. 0..6 for home, 9..17 for work).
    min_hours_share : float
        A day is valid when at least this share of its ``hours`` bins has data (``C_hours``).
    row_eligible : bool array (n_rows,)
        Rows the rule may use at all (every day for home; weekdays for work). Ineligible rows are never valid.

    Returns
    -------
    valid : bool array (n_rows,)
    rec_row, rec_location : int64 arrays
        One record per (valid row, location seen in its ``hours`` bins), sorted by row then location.
    rec_share : float64 array
        Bins of that row at that location / bins of that row with data (among ``hours``).

    Examples
    --------
    >>> import numpy as np
    >>> bins = np.full((1, 24), -1); bins[0, :5] = 3; bins[0, 5] = 4   # 6 of 7 night bins have data
    >>> valid, r, loc, share = daily_location_shares(bins, np.arange(7), 0.4, np.array([True]))
    >>> valid.tolist(), loc.tolist(), np.round(share, 4).tolist()
    ([True], [3, 4], [0.8333, 0.1667])
    """
    hours = np.asarray(hours, dtype=np.int64)
    min_bins = min_hours_share * hours.size - SHARE_TOLERANCE
    return _daily_shares(bins, hours, min_bins, np.asarray(row_eligible, dtype=np.bool_))


@numba.njit(cache=True)
def _daily_shares(bins, hours, min_bins, row_eligible):
    n_rows = bins.shape[0]
    n_hours = hours.size
    valid = np.zeros(n_rows, np.bool_)
    n_rec = 0
    for r in range(n_rows):  # pass 1: valid rows and an upper bound on the records
        if not row_eligible[r]:
            continue
        m = 0
        for k in range(n_hours):
            if bins[r, hours[k]] >= 0:
                m += 1
        if m > 0 and m >= min_bins:
            valid[r] = True
            n_rec += m
    rec_row = np.empty(n_rec, np.int64)
    rec_loc = np.empty(n_rec, np.int64)
    rec_share = np.empty(n_rec, np.float64)
    buf = np.empty(n_hours, np.int64)
    n = 0
    for r in range(n_rows):  # pass 2: per valid row, bins per location (sorted) / bins with data
        if not valid[r]:
            continue
        m = 0
        for k in range(n_hours):  # insertion sort of the (at most 24) locations of the row
            v = bins[r, hours[k]]
            if v >= 0:
                q = m
                while q > 0 and buf[q - 1] > v:
                    buf[q] = buf[q - 1]
                    q -= 1
                buf[q] = v
                m += 1
        i = 0
        while i < m:
            j = i
            while j < m and buf[j] == buf[i]:
                j += 1
            rec_row[n] = r
            rec_loc[n] = buf[i]
            rec_share[n] = (j - i) / m
            n += 1
            i = j
    return valid, rec_row[:n], rec_loc[:n], rec_share[:n]


@numba.njit(cache=True)
def rolling_window_labels(
    user_row_start,
    row_eligible,
    row_valid,
    rec_ptr,
    rec_code,
    rec_share,
    code_start,
    before_days,
    after_days,
    min_days_share,
    min_hours_share,
    min_days_visited_share,
    rank_by_days_visited,
):
    """Label each user-day with the location passing the rolling-window rules, or ``-1``.

    For the row of day ``j``, the window is days ``j - before_days .. j + after_days`` of the same user,
    clipped to the user's span. With ``n_elig`` eligible and ``n_valid`` valid days in the window, the day
    gets no label, ``TOO_LITTLE_DATA`` (-2), when ``n_valid`` is 0 or ``n_valid < min_days_share * n_elig``.
    Otherwise, for each location ``L``: ``hours_share(L)`` = sum of the day shares of ``L`` over valid days /
    ``n_valid`` (days without ``L`` add 0), and ``days_visited(L)`` = valid days with ``L`` / ``n_valid``.
    Candidates have
    ``hours_share >= min_hours_share`` and ``days_visited >= min_days_visited_share``; the label is the
    candidate with the largest ``hours_share`` (or, when ``rank_by_days_visited``, the largest
    ``days_visited``, then ``hours_share``); a remaining tie goes to the smaller code.

    Parameters
    ----------
    user_row_start : int64 array (n_users + 1,)
        Offsets of each user's rows.
    row_eligible, row_valid : bool arrays (n_rows,)
        Eligible rows form the denominator of the data-coverage share; valid rows (a subset) the numerator.
    rec_ptr : int64 array (n_rows + 1,)
        CSR offsets of each row's records.
    rec_code : int64 array
        Global location code of each record; the codes of user ``u`` are ``code_start[u] .. code_start[u+1]-1``.
    rec_share : float64 array
        Share of the row's data bins at that location (> 0).
    code_start : int64 array (n_users + 1,)
    before_days, after_days : int
        Window extent around the labelled day (centred: both ``window_days // 2``).
    min_days_share, min_hours_share, min_days_visited_share : float
        ``C_days``, ``f_hours``, ``f_days`` (0 disables the last).
    rank_by_days_visited : bool

    Returns
    -------
    int64 array (n_rows,)
        Global location code of the label; ``-1`` where no location passes, ``-2`` where the window has too
        few valid days to decide.

    Examples
    --------
    >>> import numpy as np
    >>> # one user, 3 days, location 0 all night on days 0 and 2, day 1 without data; window +-1 day
    >>> lab = rolling_window_labels(np.array([0, 3]), np.ones(3, np.bool_), np.array([True, False, True]),
    ...     np.array([0, 1, 1, 2]), np.array([0, 0]), np.array([1.0, 1.0]), np.array([0, 1]),
    ...     1, 1, 0.5, 0.7, 0.0, False)
    >>> lab.tolist()
    [0, 0, 0]
    >>> rolling_window_labels(np.array([0, 3]), np.ones(3, np.bool_), np.array([True, False, True]),
    ...     np.array([0, 1, 1, 2]), np.array([0, 0]), np.array([1.0, 1.0]), np.array([0, 1]),
    ...     0, 0, 0.5, 0.7, 0.0, False).tolist()   # day 1 alone has no data
    [0, -2, 0]
    """
    n_users = user_row_start.size - 1
    n_rows = row_eligible.size
    out = np.full(n_rows, NO_LOCATION, np.int64)
    max_codes = 0
    for u in range(n_users):
        max_codes = max(max_codes, code_start[u + 1] - code_start[u])
    sum_share = np.zeros(max_codes, np.float64)
    n_days_seen = np.zeros(max_codes, np.int64)
    for u in range(n_users):
        r0 = user_row_start[u]
        n = user_row_start[u + 1] - r0
        c0 = code_start[u]
        n_codes = code_start[u + 1] - c0
        sum_share[:n_codes] = 0.0
        n_days_seen[:n_codes] = 0
        n_elig = 0
        n_valid = 0
        lo = 0  # window is rows [lo, hi) of this user
        hi = 0
        for j in range(n):
            want_lo = max(0, j - before_days)
            want_hi = min(n, j + after_days + 1)
            while hi < want_hi:
                row = r0 + hi
                n_elig += row_eligible[row]
                if row_valid[row]:
                    n_valid += 1
                    for k in range(rec_ptr[row], rec_ptr[row + 1]):
                        sum_share[rec_code[k] - c0] += rec_share[k]
                        n_days_seen[rec_code[k] - c0] += 1
                hi += 1
            while lo < want_lo:
                row = r0 + lo
                n_elig -= row_eligible[row]
                if row_valid[row]:
                    n_valid -= 1
                    for k in range(rec_ptr[row], rec_ptr[row + 1]):
                        sum_share[rec_code[k] - c0] -= rec_share[k]
                        n_days_seen[rec_code[k] - c0] -= 1
                lo += 1
            if n_valid == 0 or n_valid < min_days_share * n_elig - SHARE_TOLERANCE:
                out[r0 + j] = TOO_LITTLE_DATA
                continue
            best = -1
            best_days = -1.0
            best_hours = -1.0
            for c in range(n_codes):
                if n_days_seen[c] == 0:
                    continue
                hours_share = sum_share[c] / n_valid
                days_share = n_days_seen[c] / n_valid
                if hours_share < min_hours_share - SHARE_TOLERANCE:
                    continue
                if days_share < min_days_visited_share - SHARE_TOLERANCE:
                    continue
                if rank_by_days_visited:
                    better = days_share > best_days + SHARE_TOLERANCE or (
                        days_share > best_days - SHARE_TOLERANCE and hours_share > best_hours + SHARE_TOLERANCE
                    )
                else:
                    better = hours_share > best_hours + SHARE_TOLERANCE
                if better:
                    best = c
                    best_days = days_share
                    best_hours = hours_share
            if best >= 0:
                out[r0 + j] = c0 + best
    return out
