"""Tests of mobility.pings: validation, quarantine reasons, duplicates, bad share, partitions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobility.errors import MobilityError
from mobility.io.pings import read_pings
from mobility.pings import (
    check_bad_share,
    check_pings,
    drop_duplicate_pings,
    empty_pings,
    partition_of,
    validate_pings,
)
from mobility.schema import QUARANTINE_REASONS

T0 = "2020-01-06T08:00:00Z"


def frame(rows, columns=("user_id", "timestamp", "lat", "lon")):
    return pd.DataFrame([list(r) for r in rows], columns=list(columns), dtype="str")


def utc(text):
    return pd.Timestamp(text, tz="UTC")


# ------------------------------------------------------------------------------------------- reasons


def test_each_reason_once_and_nothing_lost():
    cols = ("user_id", "timestamp", "lat", "lon", "accuracy_m", "utc_offset_s")
    raw = frame([
        ("a", "2020-01-06T08:00:00Z", "40.0", "-74.0", "5", "-18000"),   # 0 ok
        ("", "2020-01-06T08:01:00Z", "40.0", "-74.0", "5", ""),          # 1 missing user
        ("a", "2020-01-06T08:02:00Z", " ", "-74.0", "5", ""),            # 2 missing lat
        ("a", "yesterday", "40.0", "-74.0", "5", ""),                    # 3 unparseable time
        ("a", "1999-12-31T23:59:59Z", "40.0", "-74.0", "5", ""),         # 4 before TIMESTAMP_MIN
        ("a", "2020-01-06T08:05:00Z", "91", "-74.0", "5", ""),           # 5 |lat| > 90
        ("a", "2020-01-06T08:06:00Z", "40.0", "east", "5", ""),          # 6 lon not a number
        ("a", "2020-01-06T08:07:00Z", "inf", "-74.0", "5", ""),          # 7 lat not finite
        ("a", "2020-01-06T08:08:00Z", "40.0", "-74.0", "-1", ""),        # 8 negative accuracy
        ("a", "2020-01-06T08:09:00Z", "40.0", "-74.0", "good", ""),      # 9 accuracy text
        ("a", "2020-01-06T08:10:00Z", "40.0", "-74.0", "250", ""),       # 10 worse than 200 m
        ("a", "2020-01-06T08:11:00Z", "40.0", "-74.0", "", "3600.5"),    # 11 fractional offset
        ("a", "2020-01-06T08:12:00Z", "40.0", "-74.0", "", "70000"),     # 12 offset > 18 h
        ("a", "2020-01-06T08:00:00Z", "40.1", "-74.0", "9", ""),         # 13 same user+time as 0, worse accuracy
        ("b", "2020-01-06T08:00:00Z", "40.0", "180", "", ""),            # 14 ok (lon = 180 allowed)
        ("c", "2020-01-06T08:00:00Z", "0", "0", "5", ""),                # 15 null island: an export's "no fix"
        ("c", "2020-01-06T08:01:00Z", "0.000", "-0.0", "", ""),          # 16 the same, written otherwise
        ("d", "2020-01-06T08:00:00Z", "0", "-74.0", "", ""),             # 17 ok (on the equator)
        ("d", "2020-01-06T08:01:00Z", "40.0", "0", "", ""),              # 18 ok (on the Greenwich meridian)
    ], cols)
    res = validate_pings(raw, source="f.csv")
    expected = {"missing_value": [1, 2], "bad_timestamp": [3, 4], "bad_coordinate": [5, 6, 7], "null_island": [15, 16],
                "bad_accuracy": [8, 9], "low_accuracy": [10], "bad_utc_offset": [11, 12], "duplicate": [13]}
    got = res.quarantine.groupby("reason")["row"].apply(list).to_dict()
    assert got == expected
    assert res.counts == {r: len(expected[r]) for r in QUARANTINE_REASONS}
    assert res.n_input == 19 and len(res.pings) + len(res.quarantine) == 19
    assert res.pings["user_id"].tolist() == ["a", "b", "d", "d"]
    assert res.pings["utc_offset_s"].tolist() == [-18000, pd.NA, pd.NA, pd.NA]
    assert str(res.pings["utc_offset_s"].dtype) == "Int32"
    assert list(res.quarantine.columns) == list(cols) + ["source", "row", "reason"]
    assert (res.quarantine["source"] == "f.csv").all()
    assert res.quarantine.loc[res.quarantine["row"] == 9, "accuracy_m"].item() == "good"


def test_first_failing_reason_wins():
    raw = frame([
        ("a", "", "999", "x"),              # missing timestamp and bad coordinates -> missing_value
        ("a", "nonsense", "999", "0"),      # bad time and bad coordinate -> bad_timestamp
        ("a", T0, "999", "0"),              # bad coordinate only
    ])
    res = validate_pings(raw)
    assert res.quarantine["reason"].tolist() == ["missing_value", "bad_timestamp", "bad_coordinate"]


def test_max_accuracy_none_and_validation_of_parameters():
    raw = frame([("a", T0, "1", "2", "5000")], ("user_id", "timestamp", "lat", "lon", "accuracy_m"))
    assert len(validate_pings(raw, max_accuracy_m=None).pings) == 1
    assert validate_pings(raw).counts["low_accuracy"] == 1
    for bad in (-1, 0, float("nan"), "200", True):
        with pytest.raises(MobilityError, match="max_accuracy_m"):
            validate_pings(raw, max_accuracy_m=bad)
    with pytest.raises(MobilityError, match="IANA"):
        validate_pings(raw, timezone="Europe/Nowhere")


def test_missing_column_message():
    raw = pd.DataFrame({"user_id": ["a"], "time": [T0], "lat": ["1"], "lon": ["2"]})
    with pytest.raises(MobilityError) as err:
        validate_pings(raw, source="pings.csv")
    msg = str(err.value)
    assert "pings.csv" in msg and "['timestamp']" in msg and "'time'" in msg and "columns=" in msg


def test_empty_input():
    res = validate_pings(frame([]))
    assert len(res.pings) == 0 and len(res.quarantine) == 0 and res.n_input == 0
    assert str(res.pings["timestamp"].dtype) == "datetime64[ns, UTC]"


# ------------------------------------------------------------------------------------------ timestamps


def test_timestamp_forms():
    raw = frame([
        ("a", "2020-01-06T09:00:00+01:00", "40", "-75"),    # aware text: 08:00 UTC
        ("b", "2020-01-06 08:00:00", "40", "-75"),          # naive, no timezone: UTC
        ("c", "1578297600", "40", "-75"),                   # epoch seconds as text = 2020-01-06 08:00 UTC
        ("d", "1578297600.25", "40", "-75"),
        ("e", "1578297600000", "40", "-75"),                # epoch milliseconds: far out of range
        ("f", "2100-01-01T00:00:00Z", "40", "-75"),         # TIMESTAMP_MAX itself is excluded
        ("g", "2000-01-01T00:00:00Z", "40", "-75"),         # TIMESTAMP_MIN itself is included
    ])
    res = validate_pings(raw)
    ts = dict(zip(res.pings["user_id"], res.pings["timestamp"]))
    assert ts == {"a": utc("2020-01-06 08:00"), "b": utc("2020-01-06 08:00"), "c": utc("2020-01-06 08:00"),
                  "d": utc("2020-01-06 08:00:00.25"), "g": utc("2000-01-01")}
    assert res.quarantine["user_id"].tolist() == ["e", "f"]
    assert set(res.quarantine["reason"]) == {"bad_timestamp"}



@pytest.mark.parametrize("timezone", [None, "America/New_York"])
def test_timestamps_ending_in_utc_gmt_or_a_small_z_keep_their_instant(timezone):
    # BigQuery's CSV export writes "2020-01-06 08:00:00 UTC": the pattern took it as aware text, the parser
    # refused it, and every row went to quarantine as bad_timestamp
    raw = frame([
        ("a", "2020-01-06 08:00:00 UTC", "40", "-75"),
        ("b", "2020-01-06T08:00:00UTC", "40", "-75"),
        ("c", "2020-01-06 08:00:00.25 GMT", "40", "-75"),
        ("d", "2020-01-06T08:00:00z", "40", "-75"),
        ("e", "2020-01-06 08:00:00 EST", "40", "-75"),   # zone abbreviations are ambiguous: still refused
        ("f", "2020-13-06 08:00:00 UTC", "40", "-75"),   # no month 13
    ])
    res = validate_pings(raw, timezone=timezone)
    ts = dict(zip(res.pings["user_id"], res.pings["timestamp"]))
    assert ts == {"a": utc("2020-01-06 08:00"), "b": utc("2020-01-06 08:00"), "c": utc("2020-01-06 08:00:00.25"),
                  "d": utc("2020-01-06 08:00")}
    assert res.quarantine[["user_id", "reason"]].values.tolist() == [["e", "bad_timestamp"], ["f", "bad_timestamp"]]

def test_naive_text_in_a_timezone_with_dst():
    raw = frame([
        ("a", "2020-07-01 12:00:00", "40", "-75"),      # EDT: UTC-4 -> 16:00 UTC
        ("b", "2020-01-06 12:00:00", "40", "-75"),      # EST: UTC-5 -> 17:00 UTC
        ("c", "2020-01-06T12:00:00Z", "40", "-75"),     # aware text keeps its instant
        ("d", "2020-03-08 02:30:00", "40", "-75"),      # does not exist in New York (spring forward)
        ("e", "2020-11-01 01:30:00", "40", "-75"),      # happens twice: read as the first (EDT) one
    ])
    res = validate_pings(raw, timezone="America/New_York")
    ts = dict(zip(res.pings["user_id"], res.pings["timestamp"]))
    assert ts == {"a": utc("2020-07-01 16:00"), "b": utc("2020-01-06 17:00"), "c": utc("2020-01-06 12:00"),
                  "e": utc("2020-11-01 05:30")}
    assert res.quarantine[["user_id", "reason"]].values.tolist() == [["d", "bad_timestamp"]]


def test_typed_timestamps_epoch_and_naive():
    base = {"user_id": ["a", "a", "a"], "lat": [40.0, 40.0, 40.0], "lon": [-75.0, -75.0, -75.0]}
    epoch = pd.DataFrame({**base, "timestamp": np.array([1578297600, 1578297601, 5], dtype=np.int64)})
    res = validate_pings(epoch)
    assert res.pings["timestamp"].tolist() == [utc("2020-01-06 08:00:00"), utc("2020-01-06 08:00:01")]
    assert res.quarantine["reason"].tolist() == ["bad_timestamp"]
    naive = pd.DataFrame({**base, "timestamp": pd.to_datetime(["2020-01-06 09:00", "2020-01-06 10:00", None])})
    res = validate_pings(naive, timezone="Europe/Zurich")
    assert res.pings["timestamp"].tolist() == [utc("2020-01-06 08:00"), utc("2020-01-06 09:00")]
    assert res.quarantine["reason"].tolist() == ["missing_value"]
    aware = pd.DataFrame({**base, "timestamp": pd.to_datetime(["2020-01-06 09:00"] * 3).tz_localize("Asia/Tokyo")})
    assert validate_pings(aware, timezone="Europe/Zurich").pings["timestamp"].iloc[0] == utc("2020-01-06 00:00")


# ---------------------------------------------------------------------------------------- typed input


def typed(n_users=3, per_user=4, *, accuracy=True):
    users = np.repeat([f"u{i:02d}" for i in range(n_users)], per_user)
    t = pd.Timestamp("2020-01-06", tz="UTC") + pd.to_timedelta(np.tile(np.arange(per_user) * 60, n_users), "s")
    df = pd.DataFrame({"user_id": pd.Series(users, dtype="str"), "timestamp": t.astype("datetime64[ns, UTC]"),
                       "lat": np.linspace(10, 11, n_users * per_user), "lon": np.linspace(20, 21, n_users * per_user)})
    if accuracy:
        df["accuracy_m"] = 10.0
    return df


def test_typed_sorted_input_passes_unchanged():
    df = typed()
    res = validate_pings(df)
    pd.testing.assert_frame_equal(res.pings, df)
    assert res.n_bad == 0


def test_typed_unsorted_input_is_sorted_stably():
    df = typed()
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    res = validate_pings(shuffled)
    pd.testing.assert_frame_equal(res.pings, df)


def test_user_ids_become_strings_keeping_padding(tmp_path):
    (tmp_path / "p.csv").write_text(f"user_id,timestamp,lat,lon\n007,{T0},1,2\n10,{T0},1,2\n")
    res = validate_pings(read_pings(tmp_path / "p.csv"))
    assert res.pings["user_id"].tolist() == ["007", "10"]  # sorted as text
    ints = pd.DataFrame({"user_id": [12, 3], "timestamp": [T0, T0], "lat": [1.0, 1.0], "lon": [2.0, 2.0]})
    res = validate_pings(ints)
    assert res.pings["user_id"].tolist() == ["12", "3"] and res.pings["user_id"].dtype == "str"
    floats = ints.assign(user_id=[12.0, np.nan])
    res = validate_pings(floats)
    assert res.pings["user_id"].tolist() == ["12"] and res.quarantine["reason"].tolist() == ["missing_value"]


def test_typed_nan_and_inf():
    df = typed(1, 3)
    df.loc[0, "lat"] = np.nan
    df.loc[1, "lon"] = np.inf
    df.loc[2, "accuracy_m"] = np.nan  # missing accuracy is allowed
    res = validate_pings(df)
    assert res.quarantine["reason"].tolist() == ["missing_value", "bad_coordinate"]
    assert len(res.pings) == 1 and np.isnan(res.pings["accuracy_m"].iloc[0])


# ------------------------------------------------------------------------------------------ duplicates


def test_duplicates_keep_best_accuracy_then_first():
    raw = frame([
        ("a", T0, "1", "0", "30"),
        ("a", T0, "2", "0", "10"),   # best accuracy: kept
        ("a", T0, "3", "0", "10"),   # tie, later: duplicate
        ("a", T0, "4", "0", ""),     # missing accuracy counts as worst
        ("b", T0, "5", "0", ""),     # other user, same time: not a duplicate
        ("b", T0, "6", "0", ""),     # duplicate of the row above (first kept)
    ], ("user_id", "timestamp", "lat", "lon", "accuracy_m"))
    res = validate_pings(raw)
    assert res.pings["lat"].tolist() == [2.0, 5.0]
    assert res.quarantine["row"].tolist() == [0, 2, 3, 5] and set(res.quarantine["reason"]) == {"duplicate"}


def test_duplicates_across_two_files(tmp_path):
    head = "user_id,timestamp,lat,lon\n"
    (tmp_path / "a.csv").write_text(head + f"u,{T0},1,1\nu,2020-01-06T08:05:00Z,1,1\n")
    (tmp_path / "b.csv").write_text(head + f"v,{T0},2,2\nu,{T0},3,3\n")
    res = validate_pings(read_pings(tmp_path))
    assert res.quarantine[["source", "row", "reason"]].values.tolist() == [["b.csv", 1, "duplicate"]]
    assert len(res.pings) == 3
    # per-file validation then a cross-file pass, as the pipeline does after partitioning
    parts = [validate_pings(read_pings(tmp_path / f), keep_source=True).pings for f in ("a.csv", "b.csv")]
    kept, dups = drop_duplicate_pings(pd.concat(parts, ignore_index=True))
    assert dups[["user_id", "lat", "source", "row", "reason"]].values.tolist() == [["u", "3.0", "b.csv", 1, "duplicate"]]
    assert kept[["user_id", "lat"]].values.tolist() == [["u", 1.0], ["u", 1.0], ["v", 2.0]]
    keys = list(zip(kept["user_id"], kept["timestamp"]))
    assert keys == sorted(keys)


def test_drop_duplicate_pings_without_provenance_and_typed_checks():
    df = typed(2, 3)
    doubled = pd.concat([df, df.iloc[[4]]], ignore_index=True)
    kept, dups = drop_duplicate_pings(doubled)
    pd.testing.assert_frame_equal(kept, df)
    assert dups["row"].tolist() == [-1] and dups["source"].tolist() == [""]
    with pytest.raises(MobilityError, match="validate_pings first"):
        drop_duplicate_pings(df.assign(timestamp=df["timestamp"].astype(str)))


@pytest.mark.parametrize("seed", range(4))
def test_drop_duplicate_pings_table_equals_the_pandas_rule(seed):
    import pyarrow as pa

    from mobility.pings import drop_duplicate_pings_table

    rng = np.random.default_rng(seed)
    n = 2_000
    users = np.array(["u7", "u10", "a", "u1", "zz"])[rng.integers(0, 5, n)]
    if seed % 2:  # pieces each sorted by user and time, as the shards of sorted files are
        order = np.lexsort((rng.integers(0, 50, n), users))
        users = np.concatenate([users[order][:n // 2], users[order][n // 2:]])
    ts = pd.to_datetime(1_578_297_600 + 60 * rng.integers(0, 50, n), unit="s", utc=True).as_unit("ns")
    acc = rng.choice([5.0, 10.0, np.nan, 30.0], n)
    off = pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(-5, 5, n) * 3600), dtype="Int32")
    pings = pd.DataFrame({"user_id": pd.array(users, dtype="str"), "timestamp": ts, "lat": rng.normal(40, 1, n),
                          "lon": rng.normal(-75, 1, n), "accuracy_m": acc, "utc_offset_s": off,
                          "source": pd.Categorical(rng.choice(["f1.csv", "f2.parquet"], n)),
                          "row": np.arange(n, dtype=np.int64)})
    want_kept, want_dups = drop_duplicate_pings(pings)
    table = pa.Table.from_pandas(pings, preserve_index=False)
    if seed >= 2:  # user ids dictionary-coded, as in the load stage's shards: two pieces, two dictionaries
        half = len(table) // 2
        coded = [table.slice(0, half), table.slice(half)]
        coded = [t.set_column(0, "user_id", t.column("user_id").dictionary_encode()) for t in coded]
        table = pa.concat_tables(coded)
    kept, dups = drop_duplicate_pings_table(table)
    if seed >= 2:
        assert pa.types.is_dictionary(kept.schema.field("user_id").type)
        kept = kept.set_column(0, "user_id", kept.column("user_id").cast(pa.large_string()))
    assert len(want_dups) > 100
    pd.testing.assert_frame_equal(dups, want_dups)
    got = kept.to_pandas()
    got["utc_offset_s"] = got["utc_offset_s"].astype("Int32")
    pd.testing.assert_frame_equal(got.drop(columns="source"), want_kept.drop(columns="source"), check_dtype=False)
    assert got["source"].astype(str).tolist() == want_kept["source"].astype(str).tolist()
    # the rule, counted here: one row per (user, instant), the best accuracy, ties to the smallest row
    best = pings.assign(a=pings["accuracy_m"].fillna(np.inf)).sort_values(["user_id", "timestamp", "a", "row"])
    best = best.drop_duplicates(["user_id", "timestamp"])
    assert sorted(got["row"].tolist()) == sorted(best["row"].tolist())


def test_empty_pings_concatenates_with_real_ones():
    df = typed(1, 2)
    both = pd.concat([empty_pings(accuracy=True), df], ignore_index=True)
    assert both.dtypes.to_dict() == df.dtypes.to_dict()


# ------------------------------------------------------------------------------------------- bad share


def test_check_bad_share_message():
    check_bad_share({"bad_coordinate": 5}, 100, max_bad_share=0.05, source="x.csv")
    check_bad_share({}, 0, max_bad_share=0.0, source="x.csv")
    with pytest.raises(MobilityError) as err:
        check_bad_share({"bad_coordinate": 5, "duplicate": 1, "low_accuracy": 0}, 100, max_bad_share=0.05,
                        source="data/x.csv")
    msg = str(err.value)
    assert "data/x.csv" in msg and "6 of 100" in msg and "bad_coordinate=5" in msg and "duplicate=1" in msg
    assert "low_accuracy" not in msg and "max_bad_share" in msg and "columns=" in msg
    for bad in (-0.1, 1.5, "0.1"):
        with pytest.raises(MobilityError, match="max_bad_share"):
            check_bad_share({}, 10, max_bad_share=bad)


def test_bad_share_from_a_real_validation(tmp_path):
    (tmp_path / "half.csv").write_text(f"user_id,timestamp,lat,lon\na,{T0},1,1\na,2020-01-06T08:01:00Z,x,1\n")
    res = validate_pings(read_pings(tmp_path / "half.csv"))
    with pytest.raises(MobilityError, match="half.csv: 1 of 2 rows"):
        check_bad_share(res.counts, res.n_input, max_bad_share=0.1, source="half.csv")


# ------------------------------------------------------------------------------------------ partitions


def test_partition_of_properties():
    ids = pd.Series([f"user{i}" for i in range(2000)])
    p = partition_of(ids, 8)
    assert p.dtype == np.int64 and p.min() >= 0 and p.max() < 8
    assert np.bincount(p, minlength=8).min() > 150  # roughly balanced (250 expected each)
    assert (partition_of(ids[::-1].reset_index(drop=True), 8) == p[::-1]).all()  # order does not matter
    assert (partition_of(pd.Series([7, 7]), 5) == partition_of(pd.Series(["7", "7"]), 5)).all()
    assert (partition_of(ids, 1) == 0).all()
    for bad in (0, -1, 2.5, True):
        with pytest.raises(MobilityError, match="n_partitions"):
            partition_of(ids, bad)


def test_partition_of_is_stable_across_processes():
    code = ("import pandas as pd; from mobility.pings import partition_of; "
            "print(partition_of(pd.Series(['001', 'abc', 'z9', '005']), 16).tolist())")
    # another process with a fixed string-hash seed (this one's is random) gives the same partitions
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": ""}).stdout
    assert out.strip() == str(partition_of(pd.Series(["001", "abc", "z9", "005"]), 16).tolist())


# ------------------------------------------------------------------------------------------------ fuzz

_cell = st.one_of(st.text(max_size=12), st.sampled_from(["", "nan", "inf", "-0", "1e400", "90", "180.0",
                                                         "2020-01-06T08:00:00Z", "2020-01-06 08:00",
                                                         "1578297600", "2020-02-30", "9" * 30, " 5 "]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_cell, _cell, _cell, _cell, _cell, _cell), max_size=12),
       st.sampled_from([None, "America/New_York"]))
def test_fuzz_validate_never_loses_rows(rows, timezone):
    raw = frame(rows, ("user_id", "timestamp", "lat", "lon", "accuracy_m", "utc_offset_s"))
    try:
        res = validate_pings(raw, timezone=timezone)
    except MobilityError:
        return
    assert len(res.pings) + len(res.quarantine) == len(rows)
    assert set(res.quarantine["reason"]) <= set(QUARANTINE_REASONS)
    assert sorted(res.quarantine["row"].tolist()) == res.quarantine["row"].tolist()
    if len(res.pings):
        assert res.pings["lat"].abs().max() <= 90 and res.pings["lon"].abs().max() <= 180
        assert not res.pings.duplicated(["user_id", "timestamp"]).any()


def test_docstring_examples_run():
    import doctest

    import mobility.pings

    assert doctest.testmod(mobility.pings).failed == 0


_obj = st.one_of(st.none(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=8), st.booleans(),
                 st.datetimes().map(lambda d: pd.Timestamp(d)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_obj, _obj, _obj, _obj, _obj), max_size=8))
def test_fuzz_validate_mixed_python_objects(rows):
    raw = pd.DataFrame(rows, columns=["user_id", "timestamp", "lat", "lon", "accuracy_m"], dtype=object)
    try:
        res = validate_pings(raw)
    except MobilityError:
        return
    assert len(res.pings) + len(res.quarantine) == len(rows)


# ------------------------------------------------------------------------------ check_pings in pieces
_user = st.sampled_from(["a", "b", "007", ""])
_time = st.sampled_from(["2020-01-06T08:00:00Z", "2020-01-06T08:00:00Z", "2020-01-06T09:00:00Z", "1578297600",
                         "x", "2020-01-06 08:00"])
_acc = st.sampled_from(["", "5", "5", "10", "300", "-1", "nan"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_user, _time, st.sampled_from(["40.7", "40.8", "95"]), st.sampled_from(["-74.0", "x"]), _acc),
                max_size=25),
       st.lists(st.integers(0, 25), max_size=3))
def test_check_pings_in_pieces_then_drop_duplicates_equals_validate_pings(rows, cuts):
    """What the loader does (rows checked piece by piece, duplicates dropped once over all the pieces in order)
    gives validate_pings' pings and quarantine rows, duplicates (best accuracy, then first row) included."""
    raw = frame(rows, ("user_id", "timestamp", "lat", "lon", "accuracy_m")).assign(row=np.arange(len(rows)))
    whole = validate_pings(raw, source="f.csv")
    bounds = sorted({0, len(rows), *(c for c in cuts if c <= len(rows))})
    pairs = list(zip(bounds, bounds[1:])) or [(0, 0)]
    pieces = [check_pings(raw.iloc[a:b].reset_index(drop=True), source="f.csv") for a, b in pairs]
    kept, dups = drop_duplicate_pings(pd.concat([p.pings for p in pieces], ignore_index=True))
    pd.testing.assert_frame_equal(kept.drop(columns=["source", "row"]), whole.pings)
    got = sorted([*zip(dups["row"], dups["reason"]), *(t for p in pieces for t in zip(p.quarantine["row"],
                                                                                      p.quarantine["reason"]))])
    assert got == sorted(zip(whole.quarantine["row"], whole.quarantine["reason"]))
    assert set(dups["source"]) <= {"f.csv"}


def _masked_reasons(raw: pd.DataFrame, max_accuracy_m: float | None) -> list[str]:
    """Each row's first failing reason, by mask arithmetic of its own (one boolean array
    per reason, the first failing reason written last), from the columns typed with pandas: the reference a
    compiled single pass of the checks (tried, not kept: benchmarks/README.md) would have to equal."""
    def number(s):
        if pd.api.types.is_numeric_dtype(s.dtype):
            v = s.to_numpy(np.float64, na_value=np.nan)
            return v, np.isnan(v), np.zeros(len(v), dtype=bool)
        text = s.fillna("").astype(str).str.strip()
        missing = (text == "").to_numpy()
        v = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(np.float64)
        return v, missing, ~missing & ~np.isfinite(v)

    uid = raw["user_id"]
    missing = (uid.isna() | (uid.astype(str) == "")).to_numpy()
    ts = pd.to_datetime(raw["timestamp"], utc=True, errors="coerce", format="ISO8601")
    ts_missing = (raw["timestamp"].fillna("") == "").to_numpy()
    bad_ts = (ts.isna() | (ts < pd.Timestamp("2000-01-01", tz="UTC")) | (ts >= pd.Timestamp("2100-01-01", tz="UTC"))
              ).to_numpy() & ~ts_missing
    lat, lat_m, lat_b = number(raw["lat"])
    lon, lon_m, lon_b = number(raw["lon"])
    acc, _, acc_b = number(raw["accuracy_m"])
    off, off_m, off_b = number(raw["utc_offset_s"])
    with np.errstate(invalid="ignore"):
        conditions = [
            missing | ts_missing | lat_m | lon_m,
            bad_ts,
            (lat_b | lon_b | ~(np.abs(lat) <= 90) | ~(np.abs(lon) <= 180)) & ~(lat_m | lon_m),
            (lat == 0) & (lon == 0),
            acc_b | np.isinf(acc) | (acc < 0),
            acc > max_accuracy_m if max_accuracy_m is not None else np.zeros(len(raw), dtype=bool),
            off_b | (~off_m & ~((np.abs(off) <= 18 * 3600) & (off == np.round(off)))),
        ]
    code = np.full(len(raw), -1)
    for k in reversed(range(len(conditions))):
        code[conditions[k]] = k
    return ["" if c < 0 else QUARANTINE_REASONS[c] for c in code]


# rows built by hand: (user_id, timestamp, lat, lon, accuracy_m, utc_offset_s, first failing reason)
HAND_ROWS = [
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "10", "-18000", ""),
    (None, "2020-03-02T08:00:00Z", "40.0", "-75.0", "10", "-18000", "missing_value"),
    ("", "not a time", "95", "-75.0", "-1", "0.5", "missing_value"),          # every later reason too
    ("a", "", "40.0", "-75.0", "10", "0", "missing_value"),
    ("a", "2020-03-02T08:00:00Z", "", "east", "10", "0", "missing_value"),   # lat missing wins over bad lon
    ("a", "2020-03-02T08:00:00Z", "40.0", None, "10", "0", "missing_value"),
    ("a", "yesterday", "95", "-75.0", "10", "0", "bad_timestamp"),
    ("a", "1999-12-31T23:59:59Z", "40.0", "-75.0", "10", "0", "bad_timestamp"),
    ("a", "2020-03-02T08:00:00Z", "90.5", "-75.0", "-1", "0", "bad_coordinate"),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-180.01", "10", "0", "bad_coordinate"),
    ("a", "2020-03-02T08:00:00Z", "nan", "-75.0", "10", "0", "bad_coordinate"),
    ("a", "2020-03-02T08:00:00Z", "inf", "-75.0", "10", "0", "bad_coordinate"),
    ("a", "2020-03-02T08:00:00Z", "north", "-75.0", "10", "0", "bad_coordinate"),
    ("a", "2020-03-02T08:00:00Z", "-90", "180", "10", "0", ""),  # the edges are good
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "-0.5", "99999", "bad_accuracy"),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "inf", "0", "bad_accuracy"),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "ten", "0", "bad_accuracy"),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "", "0", ""),               # accuracy is optional per row
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "200.5", "99999", "low_accuracy"),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "200", "0", ""),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "10", "64801", "bad_utc_offset"),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "10", "-64800", ""),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "10", "3600.5", "bad_utc_offset"),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "10", "nan", "bad_utc_offset"),
    ("a", "2020-03-02T08:00:00Z", "40.0", "-75.0", "10", "", ""),               # offset is optional per row
    ("a", "2020-03-02T08:00:00Z", "0", "0", "10", "0", "null_island"),
    ("a", "2020-03-02T08:00:00Z", "-0.0", "0.000", "500", "3600.5", "null_island"),  # before the later reasons
    ("a", "yesterday", "0", "0", "10", "0", "bad_timestamp"),
    ("a", "2020-03-02T08:00:00Z", "0", "-75.0", "10", "0", ""),                 # the equator alone is a place
    ("a", "2020-03-02T08:00:00Z", "40.0", "0", "10", "0", ""),                  # so is the Greenwich meridian
]


@pytest.mark.parametrize("typed", [False, True], ids=["text", "typed"])
@pytest.mark.parametrize("max_accuracy_m", [200.0, None])
def test_row_checks_on_hand_built_rows_equal_the_mask_arithmetic(typed, max_accuracy_m):
    raw = pd.DataFrame(HAND_ROWS, columns=["user_id", "timestamp", "lat", "lon", "accuracy_m", "utc_offset_s",
                                           "expected"])
    expected = raw.pop("expected").tolist()
    if max_accuracy_m is None:
        expected[18] = "bad_utc_offset"  # no accuracy limit: the row's next failing check
    if typed:  # numbers typed (unparseable text -> NaN: then missing, not bad), ids dictionary-coded
        for c in ("lat", "lon", "accuracy_m", "utc_offset_s"):
            raw[c] = pd.to_numeric(raw[c], errors="coerce")
        raw["user_id"] = raw["user_id"].astype("category")
        expected = _masked_reasons(raw, max_accuracy_m)
        # NaN lat / unparseable accuracy become missing / nothing once typed: the typed rows differ from text
        assert expected[10] == "missing_value" and expected[16] == ""
    else:
        assert _masked_reasons(raw, max_accuracy_m) == expected
    res = check_pings(raw, max_accuracy_m=max_accuracy_m, source="hand.csv")
    got = [""] * len(raw)
    for row, reason in zip(res.quarantine["row"], res.quarantine["reason"]):
        got[row] = reason
    assert got == expected
    assert res.pings["row"].tolist() == [i for i, e in enumerate(expected) if e == ""]
    ids = res.quarantine.set_index("row")["user_id"]  # the quarantine names the id text, coded or not
    assert pd.isna(ids[1]) and ids[2] == "" and (ids.drop([1, 2]) == "a").all()
    # validate_pings runs the same pass
    full = validate_pings(raw, max_accuracy_m=max_accuracy_m, source="hand.csv")
    checked = full.quarantine[full.quarantine["reason"] != "duplicate"]  # the good rows share user and time
    assert sorted(zip(checked["row"], checked["reason"])) == sorted((i, e) for i, e in enumerate(expected) if e)


def test_row_checks_drop_good_rows_outside_the_period_only():
    raw = pd.DataFrame(HAND_ROWS[:3], columns=["user_id", "timestamp", "lat", "lon", "accuracy_m", "utc_offset_s",
                                               "expected"]).drop(columns="expected")
    period = (pd.Timestamp("2020-03-03", tz="UTC"), pd.Timestamp("2020-04-01", tz="UTC"))
    res = check_pings(raw, period=period)
    assert res.dropped == {"outside_period": 1} and len(res.pings) == 0
    assert res.quarantine["reason"].tolist() == ["missing_value", "missing_value"]


def test_row_checks_give_the_first_and_last_instant_of_the_rows_outside_the_period():
    raw = pd.DataFrame({"user_id": ["a", "a", "b", "b", "c"],
                        "timestamp": ["2020-02-10T08:00:00Z", "2020-03-05T08:00:00Z", "2020-01-02T23:30:00Z",
                                      "2020-04-09T12:15:00Z", "1999-01-01T00:00:00Z"],
                        "lat": ["40.7", "40.7", "40.7", "40.7", "99"], "lon": ["-74.0"] * 5})
    period = (pd.Timestamp("2020-03-01", tz="UTC"), pd.Timestamp("2020-04-01", tz="UTC"))
    res = check_pings(raw, period=period)   # row 4 is quarantined (latitude 99): not among those outside
    assert res.dropped == {"outside_period": 3}
    assert res.outside_ns == (pd.Timestamp("2020-01-02 23:30", tz="UTC").value,
                              pd.Timestamp("2020-04-09 12:15", tz="UTC").value)
    assert check_pings(raw.iloc[[1]], period=period).outside_ns is None
    assert check_pings(raw).outside_ns is None


@pytest.mark.parametrize("seed", range(6))
def test_take_sorted_is_table_take(seed):
    """Rows of a table of many record batches (some empty, dictionaries unified, as a partition's shards),
    taken chunk by chunk: the same table as ``Table.take``."""
    import pyarrow as pa

    from mobility.pings import take_sorted

    rng = np.random.default_rng(seed)
    schema = pa.schema([("x", pa.int64()), ("user_id", pa.dictionary(pa.int32(), pa.large_string()))])
    batches = [pa.record_batch([pa.array(rng.integers(0, 100, n)),
                                pa.array([f"u{v}" for v in rng.integers(0, 9, n)], pa.large_string()).dictionary_encode()],
                               schema=schema) for n in rng.integers(0, 40, 12)]
    table = pa.Table.from_batches(batches, schema=schema).unify_dictionaries()
    positions = np.sort(rng.choice(len(table), int(rng.integers(0, len(table) + 1)), replace=False))
    got = take_sorted(table, positions)
    want = table.take(pa.array(positions, type=pa.int64()))
    assert got.schema == want.schema
    assert got.to_pydict() == want.to_pydict()
