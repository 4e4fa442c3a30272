"""Runs of equal strings in Arrow string buffers, for coding user ids without hashing every row."""

from __future__ import annotations

import numba
import numpy as np

# rows checked at once against the previous row before falling back to row-by-row comparison
_BLOCK_ROWS = 256


@numba.njit(cache=True, nogil=True)
def _block_repeats(offsets, data, i, b, length):
    """True when rows ``i:b`` all have ``length`` bytes and each equals the row before it (checked without
    early exit, so that the loops vectorise)."""
    bad = False
    for k in range(i, b):
        bad |= (offsets[k + 1] - offsets[k]) != length
    if bad:
        return False
    rows = data[offsets[i]:offsets[b]]
    before = data[offsets[i] - length:offsets[b] - length]  # the same bytes one row earlier
    diff = np.uint8(0)
    for x in range(rows.shape[0]):  # slices indexed from 0: no wraparound check, so this vectorises
        diff |= rows[x] ^ before[x]
    return diff == 0


@numba.njit(cache=True, nogil=True)
def string_runs(offsets, data, first_run, run):
    """Run number of each string and the first row of each run, for strings stored as Arrow buffers.

    A run is a maximal block of consecutive equal strings. String ``i`` is ``data[offsets[i]:offsets[i + 1]]``
    (Arrow's ``large_string`` layout: ``offsets`` int64 of length ``n + 1``, ``data`` uint8). Blocks of
    rows that repeat the row before them (the body of a run) are recognised in one vectorised pass; rows
    are compared one by one only in blocks where a run changes.

    Parameters
    ----------
    offsets, data : arrays
        The Arrow buffers (``offsets`` already shifted by the array's offset).
    first_run : int
        Number of the first run (to continue the numbering of an earlier chunk).
    run : int64 array (n,)
        Filled with each row's run number: ``first_run``, counting up by one at each change.

    Returns
    -------
    heads : int64 array
        Row where each run starts (the first is always 0).

    Examples
    --------
    >>> data = np.frombuffer(b"aabb", dtype=np.uint8)        # "a", "a", "bb", "", ""
    >>> run = np.empty(5, dtype=np.int64)
    >>> string_runs(np.array([0, 1, 2, 4, 4, 4]), data, 0, run).tolist(), run.tolist()
    ([0, 2, 3], [0, 0, 1, 2, 2])
    """
    n = offsets.shape[0] - 1
    heads = np.empty(min(max(n, 0), 1024), dtype=np.int64)
    if n <= 0:
        return heads
    r = first_run
    run[0] = r
    heads[0] = 0
    n_heads = 1
    i = 1
    while i < n:
        b = min(i + _BLOCK_ROWS, n)
        if _block_repeats(offsets, data, i, b, offsets[i] - offsets[i - 1]):
            run[i:b] = r
            i = b
            continue
        for k in range(i, b):  # a change inside: row by row
            start, end = offsets[k], offsets[k + 1]
            prev = offsets[k - 1]
            same = end - start == start - prev
            if same:
                for x in range(end - start):
                    if data[start + x] != data[prev + x]:
                        same = False
                        break
            if not same:
                r += 1
                if n_heads == heads.shape[0]:
                    grown = np.empty(min(2 * n_heads, n), dtype=np.int64)
                    grown[:n_heads] = heads
                    heads = grown
                heads[n_heads] = k
                n_heads += 1
            run[k] = r
        i = b
    return heads[:n_heads]


@numba.njit(cache=True, nogil=True)
def user_time_order(codes, ts, n_users):
    """The stable order of rows by user code, then time: ``np.lexsort((ts, codes))``, in linear time when
    each user's rows are a few runs already in time order, as when they come from a few sorted pieces.

    Rows are first placed by user with a counting sort (stable, so each user's rows keep their order), which
    also notes the users whose times go backwards; only those users' rows are sorted again, each alone, by
    merging their runs of non-decreasing times (stable: of equal times, the earlier run's row first).

    Parameters
    ----------
    codes : int64 array
        User code of each row, in ``0 .. n_users - 1``.
    ts : int64 array
        Time of each row.
    n_users : int
        Number of codes.

    Returns
    -------
    int64 array
        Row order.

    Examples
    --------
    >>> codes = np.array([1, 0, 1, 0, 1])
    >>> ts = np.array([5, 9, 3, 2, 3])
    >>> user_time_order(codes, ts, 2).tolist(), np.lexsort((ts, codes)).tolist()
    ([3, 1, 2, 4, 0], [3, 1, 2, 4, 0])
    """
    n = codes.shape[0]
    start = np.zeros(n_users + 1, dtype=np.int64)
    last = np.empty(n_users, dtype=np.int64)
    unsorted = np.zeros(n_users, dtype=np.bool_)
    for i in range(n):
        u = codes[i]
        if start[u + 1] and ts[i] < last[u]:
            unsorted[u] = True
        last[u] = ts[i]
        start[u + 1] += 1
    for u in range(n_users):
        start[u + 1] += start[u]
    fill = start[:n_users].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[fill[codes[i]]] = i
        fill[codes[i]] += 1
    keys = np.empty(0, dtype=np.int64)
    for u in range(n_users):
        if unsorted[u]:
            a, b = start[u], start[u + 1]
            if keys.shape[0] < b - a:
                keys = np.empty(b - a, dtype=np.int64)
            for j in range(b - a):
                keys[j] = ts[order[a + j]]
            _merge_runs(order[a:b], keys[:b - a])
    return order


@numba.njit(cache=True, nogil=True)
def _merge_runs(rows, keys):
    """Sort ``rows`` by ``keys`` (their times, in place, both), stably, by merging the runs of non-decreasing
    keys two by two until one is left: linear in the rows for a few runs, ``n log n`` at worst."""
    n = rows.shape[0]
    bounds = [0]
    for j in range(1, n):
        if keys[j] < keys[j - 1]:
            bounds.append(j)
    bounds.append(n)
    rows_tmp = np.empty(n, dtype=rows.dtype)
    keys_tmp = np.empty(n, dtype=keys.dtype)
    while len(bounds) > 2:
        merged = [0]
        for r in range(0, len(bounds) - 1, 2):
            lo, mid = bounds[r], bounds[r + 1]
            hi = bounds[r + 2] if r + 2 < len(bounds) else mid
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if keys[j] < keys[i]:  # ties to the earlier run: stable
                    rows_tmp[k] = rows[j]
                    keys_tmp[k] = keys[j]
                    j += 1
                else:
                    rows_tmp[k] = rows[i]
                    keys_tmp[k] = keys[i]
                    i += 1
                k += 1
            while i < mid:
                rows_tmp[k] = rows[i]
                keys_tmp[k] = keys[i]
                i += 1
                k += 1
            while j < hi:
                rows_tmp[k] = rows[j]
                keys_tmp[k] = keys[j]
                j += 1
                k += 1
            merged.append(hi)
        rows[:] = rows_tmp
        keys[:] = keys_tmp
        bounds = merged


@numba.njit(cache=True, nogil=True)
def repeated_keys(codes, ts, order):
    """Whether each row, taken in ``order``, has the user code and time of the row before it.

    Parameters
    ----------
    codes, ts : int64 arrays
        User code and time of each row.
    order : int64 array or None
        Row order (by user, then time); None for the rows as they are.

    Returns
    -------
    bool array
        ``same[i]`` for the ``i``-th row in order (``same[0]`` is False).

    Examples
    --------
    >>> repeated_keys(np.array([0, 1, 0, 0]), np.array([5, 5, 5, 6]), np.array([0, 2, 3, 1])).tolist()
    [False, True, False, False]
    """
    n = codes.shape[0]
    same = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return same
    prev = order[0] if order is not None else 0
    for i in range(1, n):
        row = order[i] if order is not None else i
        same[i] = codes[row] == codes[prev] and ts[row] == ts[prev]
        prev = row
    return same


@numba.njit(cache=True, nogil=True)
def is_user_time_sorted(codes, ts):
    """True when the rows are in (user code, time) order already.

    Examples
    --------
    >>> is_user_time_sorted(np.array([0, 0, 1]), np.array([5, 6, 1])), is_user_time_sorted(np.array([0, 0]), np.array([6, 5]))
    (True, False)
    """
    for i in range(1, codes.shape[0]):
        if codes[i] < codes[i - 1] or (codes[i] == codes[i - 1] and ts[i] < ts[i - 1]):
            return False
    return True
