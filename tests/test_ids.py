"""User id coding: the same codes whatever the Arrow layout of the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from mobility.ids import user_codes


def _check(col: pd.Series) -> None:
    codes, users = user_codes(col)
    expected_users = sorted(set(col.tolist()))
    assert users.tolist() == expected_users
    assert codes.tolist() == [expected_users.index(u) for u in col.tolist()]


def test_grouped_ids_in_several_chunks_and_a_run_across_chunks():
    chunks = pa.chunked_array([["b", "b", "a"], ["a", "a", "c"], [], ["c", "d"]], type=pa.large_string())
    col = pd.Series(pd.arrays.ArrowStringArray(chunks))
    _check(col)


def test_sliced_arrow_column_with_offset():
    arr = pa.array(["z", "z", "b", "b", "a", "c"], type=pa.string()).slice(2)  # 32-bit offsets, offset 2
    _check(pd.Series(pd.arrays.ArrowStringArray(arr)))


def test_object_and_python_string_columns():
    values = ["u10", "u10", "u9", "", "", "u1"]
    _check(pd.Series(values, dtype=object))
    _check(pd.Series(values, dtype=pd.StringDtype("python")))


def test_ungrouped_ids_fall_back_to_hashing():
    _check(pd.Series(["b", "a", "b", "a", "c"]))


def test_long_grouped_column_matches_factorize():
    rng = np.random.default_rng(1)
    ids = np.repeat([f"user{i:04d}" for i in rng.permutation(300)], rng.integers(1, 3000, 300))
    col = pd.Series(ids, dtype="str")
    codes, users = user_codes(col)
    expected_codes, expected_users = pd.factorize(col, sort=True)
    assert codes.tolist() == expected_codes.tolist()
    assert users.tolist() == list(expected_users)


def test_a_user_in_several_runs_of_rows_is_one_code():
    # sorted pieces concatenated (each user's rows in a few runs, not one): the runs are coded, not the rows
    rng = np.random.default_rng(4)
    pieces = [np.sort(rng.choice([f"u{i:03d}" for i in range(40)], 300)) for _ in range(5)]
    col = pd.Series(np.concatenate(pieces), dtype="str")
    _check(col)
    _check(pd.Series(["a", "a", "b", "b", "a", "a"], dtype="str"))
