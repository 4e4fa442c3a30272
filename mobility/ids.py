"""Integer codes of user ids: the one way every step turns ``user_id`` strings into segment numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def user_codes(user_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """int64 codes of ``user_id`` in sorted user order, and the sorted distinct users.

    Fast path for the usual case, users already sorted and grouped (canonical pings and stops are):
    adjacent comparisons in Arrow instead of hashing every row; otherwise ``pandas.factorize``.

    Examples
    --------
    >>> codes, users = user_codes(pd.Series(["a", "a", "b", "c", "c"]))
    >>> codes.tolist(), users.tolist()
    ([0, 0, 1, 2, 2], ['a', 'b', 'c'])
    >>> codes, users = user_codes(pd.Series(["b", "a", "b"]))
    >>> codes.tolist(), users.tolist()
    ([1, 0, 1], ['a', 'b'])
    """
    ids = user_id.astype("str")
    arr = pa.array(ids)
    if len(arr) > 1:
        prev, nxt = arr.slice(0, len(arr) - 1), arr.slice(1)
        if not pc.any(pc.less(nxt, prev)).as_py():
            new = pc.greater(nxt, prev).to_numpy(zero_copy_only=False)
            codes = np.concatenate(([0], np.cumsum(new, dtype=np.int64)))
            firsts = np.concatenate(([0], np.flatnonzero(new) + 1))
            users = arr.take(pa.array(firsts)).to_numpy(zero_copy_only=False)
            return codes, users
    codes, users = pd.factorize(ids, sort=True)
    return codes.astype(np.int64), np.asarray(users)
