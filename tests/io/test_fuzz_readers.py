"""Fuzzing the ping readers (whole-file and batched) with hypothesis: hostile files never crash.

Whatever the bytes, reading then validating either raises :class:`MobilityError` or returns pings and a
quarantine that together hold every input row exactly once (no silent loss).
"""

import io
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobility.errors import MobilityError
from mobility.io.pings import read_pings
from mobility.pings import validate_pings
from mobility.pipeline.engine import read_ping_batches

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# values that break naive readers: specials, huge and negative numbers, odd text, separators, quotes
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1e308, -1e308, 253402300800, -62135596800, 1578297600, 1578297600000]),
)
TEXT = st.one_of(
    NUMBERS.map(str),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "NULL", "2020-01-06T08:00:00Z", "2020-13-45 25:61",
                     "1e400", "0x1F", "\u00e9t\u00e9", "a;b", "\"quoted, comma\"", " 40.7 ", "9999-12-31"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters=",\n\r\"\x00"), max_size=12),
)


def check_conservation(raw: pd.DataFrame) -> None:
    result = validate_pings(raw, source="fuzz")
    assert len(result.pings) + len(result.quarantine) == len(raw) == result.n_input
    assert result.pings["timestamp"].dt.tz is not None
    if len(result.pings):
        assert np.isfinite(result.pings[["lat", "lon"]].to_numpy()).all()
        assert result.pings["lat"].abs().max() <= 90 and result.pings["lon"].abs().max() <= 180


def read_both_ways(path, batch_rows: int) -> None:
    """Whole-file and batched reading agree (same rows or both a MobilityError); each conserves rows."""
    try:
        whole = read_pings(path)
    except MobilityError:
        with pytest.raises(MobilityError):
            for _ in read_ping_batches(path, batch_rows=batch_rows):
                pass
        return
    batches = list(read_ping_batches(path, batch_rows=batch_rows))
    joined = pd.concat(batches, ignore_index=True)
    assert len(joined) == len(whole) and joined["row"].tolist() == list(range(len(whole)))
    check_conservation(whole)
    for batch in batches:
        check_conservation(batch)


@FUZZ
@given(rows=st.lists(st.tuples(TEXT, TEXT, TEXT, TEXT, TEXT), min_size=0, max_size=25),
       batch_rows=st.integers(1, 7))
def test_fuzzed_csv_values_are_read_or_quarantined(tmp_path, rows, batch_rows):
    text = "user_id,timestamp,lat,lon,accuracy_m\n" + "".join(",".join(r) + "\n" for r in rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8")
    read_both_ways(path, batch_rows)


@FUZZ
@given(data=st.binary(max_size=300), header=st.booleans())
def test_arbitrary_bytes_never_crash(tmp_path, data, header):
    path = tmp_path / "bytes.csv"
    path.write_bytes((b"user_id,timestamp,lat,lon\n" if header else b"") + data)
    read_both_ways(path, 3)


@FUZZ
@given(cut=st.floats(0.0, 0.999))
def test_truncated_parquet_is_a_clear_error(tmp_path, cut):
    frame = pd.DataFrame({"user_id": ["a", "b"] * 50, "timestamp": pd.date_range("2020-01-06", periods=100,
                                                                                 freq="min", tz="UTC"),
                          "lat": np.linspace(40, 41, 100), "lon": np.linspace(-75, -74, 100)})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, row_group_size=10)
    data = buffer.getvalue()
    path = tmp_path / "cut.parquet"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(MobilityError, match="truncated or corrupt"):
        read_pings(path)
    with pytest.raises(MobilityError, match="truncated or corrupt"):
        list(read_ping_batches(path, batch_rows=7))


@FUZZ
@given(
    ts=st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=1, max_size=30),
    coords=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=60, max_size=60),
    ids=st.one_of(st.just("int"), st.just("str")),
    ts_kind=st.sampled_from(["epoch_s", "epoch_float", "timestamp_ns", "text"]),
)
def test_typed_parquet_with_hostile_values_conserves_rows(tmp_path, ts, coords, ids, ts_kind):
    n = len(ts)
    seconds = np.asarray(ts, dtype=np.int64) // 1_000_000_000 if ts_kind != "timestamp_ns" else None
    if ts_kind == "epoch_s":
        column = pa.array(seconds)
    elif ts_kind == "epoch_float":
        column = pa.array(seconds.astype(np.float64) + 0.5)
    elif ts_kind == "timestamp_ns":
        column = pa.array(np.asarray(ts, dtype=np.int64), type=pa.timestamp("ns", tz="UTC"))
    else:
        column = pa.array([str(v) for v in ts])
    users = pa.array(list(range(n)) if ids == "int" else [f"u{i % 3}" for i in range(n)])
    table = pa.table({"user_id": users, "timestamp": column, "lat": pa.array(coords[:n], type=pa.float64()),
                      "lon": pa.array(coords[30:30 + n], type=pa.float64())})
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path, row_group_size=4)
    read_both_ways(path, 5)


@pytest.mark.parametrize("lon", [
    pa.array(["-75.0", "east"]),
    pa.array([b"\xff", b"-75"]),
], ids=["text", "binary-not-utf8"])
def test_wrong_column_types_are_quarantined_not_crashes(tmp_path, lon):
    table = pa.table({"user_id": pa.array([True, False]), "timestamp": pa.array([[1, 2], [3]]),
                      "lat": pa.array(["north", "40.1"]), "lon": lon})
    path = tmp_path / "types.parquet"
    pq.write_table(table, path)
    try:
        raw = read_pings(path)
    except MobilityError:
        return
    result = validate_pings(raw)
    assert len(result.pings) + len(result.quarantine) == 2


def test_non_utf8_csv_is_a_clear_error_naming_the_fix(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("user_id,timestamp,lat,lon\nJos\u00e9,2020-01-06T08:00:00Z,40.7,-74.0\n".encode("latin-1"))
    with pytest.raises(MobilityError, match="not UTF-8.*encoding"):
        read_pings(path)
    with pytest.raises(MobilityError, match="not UTF-8"):
        list(read_ping_batches(path, batch_rows=1))


def test_extreme_timestamps_land_in_quarantine():
    raw = pd.DataFrame({"user_id": ["a"] * 5,
                        "timestamp": ["-99999999999", "99999999999999", "1578297600", "inf", "nan"],
                        "lat": ["40.7"] * 5, "lon": ["-74.0"] * 5})
    result = validate_pings(raw)
    # computed by hand: only 1578297600 (2020-01-06 08:00 UTC) is a plausible Unix time in seconds
    assert result.pings["timestamp"].tolist() == [pd.Timestamp("2020-01-06 08:00", tz="UTC")]
    assert sorted(result.quarantine["row"]) == [0, 1, 3, 4]
    assert math.isclose(result.pings["lat"].iloc[0], 40.7)
