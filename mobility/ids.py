"""Integer codes of user ids: the one way every step turns ``user_id`` strings into segment numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def user_codes(user_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """int64 codes of ``user_id`` in sorted user order, and the sorted distinct users.

    Fast path for the usual case, each user's rows together (canonical pings and stops are sorted): one
    adjacent comparison in Arrow instead of hashing every row; otherwise ``pandas.factorize``.

    Examples
    --------
    >>> codes, users = user_codes(pd.Series(["a", "a", "b", "c", "c"]))
    >>> codes.tolist(), users.tolist()
    ([0, 0, 1, 2, 2], ['a', 'b', 'c'])
    >>> codes, users = user_codes(pd.Series(["b", "b", "a"]))      # grouped, not sorted
    >>> codes.tolist(), users.tolist()
    ([1, 1, 0], ['a', 'b'])
    >>> codes, users = user_codes(pd.Series(["b", "a", "b"]))      # not grouped
    >>> codes.tolist(), users.tolist()
    ([1, 0, 1], ['a', 'b'])
    >>> codes, users = user_codes(pd.Series([10, 9, 10]))          # integer ids stay integers
    >>> codes.tolist(), users.tolist()
    ([1, 0, 1], [9, 10])
    """
    if not (pd.api.types.is_string_dtype(user_id.dtype) or user_id.dtype == object):
        codes, users = pd.factorize(user_id, sort=True)  # integer ids keep their type and numeric order
        return codes.astype(np.int64), np.asarray(users)
    ids = user_id.astype("str")
    arr = pa.array(ids)
    n = len(arr)
    if n > 1:
        changes = pc.not_equal(arr.slice(1), arr.slice(0, n - 1)).to_numpy(zero_copy_only=False)
        heads = np.concatenate(([0], np.flatnonzero(changes) + 1))
        users = arr.take(pa.array(heads)).to_numpy(zero_copy_only=False)
        if pd.Index(users).is_unique:  # grouped: each user in one run of rows
            run = np.repeat(np.arange(len(heads), dtype=np.int64), np.diff(np.append(heads, n)))
            order = np.argsort(users, kind="stable")
            if np.array_equal(order, np.arange(len(users))):
                return run, users
            rank = np.empty(len(users), dtype=np.int64)
            rank[order] = np.arange(len(users))
            return rank[run], users[order]
    codes, users = pd.factorize(ids, sort=True)
    return codes.astype(np.int64), np.asarray(users)
