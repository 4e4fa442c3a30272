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
    each user's rows are already in time order, as when they come from a few sorted pieces.

    Rows are first placed by user with a counting sort (stable, so each user's rows keep their order); only
    the users whose times then go backwards are sorted again, each alone (stable merge sort).

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
    for i in range(n):
        start[codes[i] + 1] += 1
    for u in range(n_users):
        start[u + 1] += start[u]
    fill = start[:n_users].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[fill[codes[i]]] = i
        fill[codes[i]] += 1
    for u in range(n_users):
        a, b = start[u], start[u + 1]
        for i in range(a + 1, b):
            if ts[order[i]] < ts[order[i - 1]]:
                rows = order[a:b].copy()
                keys = np.empty(b - a, dtype=np.int64)
                for j in range(b - a):
                    keys[j] = ts[rows[j]]
                by_time = np.argsort(keys, kind="mergesort")
                for j in range(b - a):
                    order[a + j] = rows[by_time[j]]
                break
    return order
