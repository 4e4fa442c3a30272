"""Integer codes of user ids: the one way every step turns ``user_id`` strings into segment numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from mobility.kernels.ids import string_runs


def user_codes(user_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """int64 codes of ``user_id`` in sorted user order, and the sorted distinct users.

    Fast path for the usual case, each user's rows together (canonical pings and stops are sorted) or in a
    few runs (sorted pieces concatenated): runs of equal ids found on the Arrow string buffers
    (:func:`mobility.kernels.ids.string_runs`, one vectorised pass), then only the runs' strings coded,
    instead of hashing every row; otherwise ``pandas.factorize``.

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
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    if len(arr) > 1 and arr.null_count == 0:
        run, heads = _runs([c.cast(pa.large_string()) for c in chunks if len(c)], len(arr))
        if len(heads) <= len(arr) // 2:  # runs of rows: code the runs' strings, not every row
            if pd.Index(heads).is_unique:  # grouped: each user in one run of rows
                order = np.argsort(heads, kind="stable")
                if np.array_equal(order, np.arange(len(heads))):
                    return run, heads
                rank = np.empty(len(heads), dtype=np.int64)
                rank[order] = np.arange(len(heads))
                return rank[run], heads[order]
            per_run, users = pd.factorize(heads, sort=True)  # a user in several runs (pieces concatenated)
            return per_run.astype(np.int64)[run], np.asarray(users)
    codes, users = pd.factorize(ids, sort=True)
    return codes.astype(np.int64), np.asarray(users)


def _runs(chunks: list[pa.LargeStringArray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Run number of every row and the string of every run over non-empty Arrow ``large_string`` chunks
    (:func:`mobility.kernels.ids.string_runs` chunk by chunk, a run may continue across chunks)."""
    run = np.empty(n, dtype=np.int64)
    users, row, last = [], 0, None
    for chunk in chunks:
        _, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[chunk.offset:chunk.offset + len(chunk) + 1]
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
        continues = last is not None and chunk[0].as_py() == last
        first_run = 0 if last is None else int(run[row - 1]) + (0 if continues else 1)
        heads = string_runs(offsets, data, first_run, run[row:row + len(chunk)])
        users.append(chunk.take(pa.array(heads[1:] if continues else heads)).to_numpy(zero_copy_only=False))
        row += len(chunk)
        last = chunk[len(chunk) - 1].as_py()
    return run, np.concatenate(users)
