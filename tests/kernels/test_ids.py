"""Run detection on Arrow string buffers, against a plain Python reference; the (user, time) ordering kernels,
against numpy's lexsort."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mobility.kernels.ids import is_user_time_sorted, repeated_keys, string_runs, user_time_order


def _buffers(strings):
    arr = pa.array(strings, type=pa.large_string())
    _, offsets, data = arr.buffers()
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return np.frombuffer(offsets, dtype=np.int64), data


def _runs(strings, first_run=0):
    run = np.empty(len(strings), dtype=np.int64)
    heads = string_runs(*_buffers(strings), first_run, run)
    return run, heads


def _reference(strings):
    run, heads = [], []
    for i, s in enumerate(strings):
        if i == 0 or s != strings[i - 1]:
            heads.append(i)
        run.append(len(heads) - 1)
    return run, heads


@pytest.mark.parametrize("case", [
    [], ["a"], ["", "", "a", ""], ["ab", "ab", "a", "ab", "abc", "abd", "abd"],
    ["x"] * 256 + ["y"],                      # change just after the first block of 256 rows
    ["x"] * 257 + ["y"] * 300,                # change at the first row of the second block
    ["u1", "u2"] * 300,                       # every row a change
    ["é", "é", "e", "日本", "日本"] * 100,      # multibyte
    ["aa", "a"] * 3 + ["b"] * 1000,           # same total bytes, different lengths
])
def test_string_runs_match_python(case):
    run, heads = _runs(case)
    expected_run, expected_heads = _reference(case)
    assert run.tolist() == expected_run
    assert heads.tolist() == expected_heads


def test_string_runs_random_long_runs_with_same_length_ids():
    """Runs of hex ids of one length (the fast block path), run lengths from 1 to 2,000."""
    rng = np.random.default_rng(5)
    ids = [f"{v:08x}" for v in rng.integers(0, 2**32, 60)]
    ids[7] = ids[6][:-1] + ("0" if ids[6][-1] != "0" else "1")  # differs from its neighbour in the last byte
    strings = [u for u, k in zip(ids, rng.integers(1, 2000, 60)) for _ in range(k)]
    run, heads = _runs(strings)
    expected_run, expected_heads = _reference(strings)
    assert run.tolist() == expected_run
    assert heads.tolist() == expected_heads


def test_string_runs_numbering_starts_at_first_run_and_heads_grow_past_1024():
    strings = [f"u{i}" for i in range(3000)]  # 3,000 runs of one row: the heads array grows twice
    run, heads = _runs(strings, first_run=7)
    assert run.tolist() == list(range(7, 3007))
    assert heads.tolist() == list(range(3000))


def _sorted_pieces(rng, n, n_users, n_pieces, n_times=50):
    """Rows that are ``n_pieces`` consecutive pieces, each sorted by (user, time), as the load shards are."""
    codes, ts = rng.integers(0, n_users, n), rng.integers(0, n_times, n)
    for piece in np.split(np.arange(n), np.sort(rng.integers(0, n + 1, n_pieces - 1))):
        order = np.lexsort((ts[piece], codes[piece]))
        codes[piece], ts[piece] = codes[piece][order], ts[piece][order]
    return codes, ts


@pytest.mark.parametrize("n_pieces", [1, 2, 3, 7, 0])  # 0: rows in random order
@pytest.mark.parametrize("seed", range(20))
def test_user_time_order_is_lexsort(n_pieces, seed):
    """Stable (user, time) order, ties kept in row order, for sorted pieces (merged runs) and random rows."""
    rng = np.random.default_rng(seed)
    n, n_users = int(rng.integers(0, 3000)), int(rng.integers(1, 40))
    if n_pieces:
        codes, ts = _sorted_pieces(rng, n, n_users, n_pieces)
    else:
        codes, ts = rng.integers(0, n_users, n), rng.integers(0, 50, n)
    expected = np.lexsort((ts, codes))
    assert user_time_order(codes, ts, n_users).tolist() == expected.tolist()
    assert is_user_time_sorted(codes, ts) == (expected.tolist() == list(range(n)))


@pytest.mark.parametrize("seed", range(10))
def test_repeated_keys_marks_rows_equal_to_the_one_before_in_order(seed):
    rng = np.random.default_rng(seed)
    codes, ts = _sorted_pieces(rng, 2000, 5, 3, n_times=20)  # many repeated (user, time) keys
    order = np.lexsort((ts, codes))
    keys = list(zip(codes[order].tolist(), ts[order].tolist()))
    expected = [i > 0 and keys[i] == keys[i - 1] for i in range(len(keys))]
    assert repeated_keys(codes, ts, order).tolist() == expected
    assert repeated_keys(codes[order], ts[order], None).tolist() == expected


def test_user_time_order_many_runs_in_one_user():
    """One user whose times go down at every row: each row its own run (the n log n worst case)."""
    ts = np.arange(1000, 0, -1)
    assert user_time_order(np.zeros(1000, dtype=np.int64), ts, 1).tolist() == list(range(999, -1, -1))
