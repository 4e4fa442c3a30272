"""Tests of mobility.io.pings (named test_ping_readers: tests/test_pings.py holds the validator tests and
pytest's default import mode refuses two test modules with one basename)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.io.pings import list_ping_files, read_geolife_labels, read_pings
from mobility.pings import validate_pings

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
GEOLIFE = REAL / "geolife_trackintel" / "geolife_long_10_MB"
TRACKS = REAL / "trackintel_example_tracks"
SKMOB = REAL / "geolife_skmob" / "geolife_sample.txt.gz"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data {path.name} absent (expected under ../shared/data/real next to the repo)")
    return path


# ------------------------------------------------------------------------------------------ real files


@pytest.mark.real
def test_geolife_folder_users_and_points():
    raw = read_pings(need(GEOLIFE))
    assert len(raw) == 164_531
    # points per user from the folder's SOURCE.md table
    expected = {"000": 3634, "001": 19483, "002": 24100, "003": 13601, "004": 4172, "005": 15999,
                "006": 12728, "007": 13859, "008": 21757, "009": 13901, "010": 21297}
    assert raw["user_id"].value_counts().to_dict() == expected
    first = raw.iloc[0]
    # first data line of 000/Trajectory/20081023025304.plt
    assert (first["timestamp"], first["lat"], first["lon"]) == ("2008-10-23 02:53:04Z", "39.984702", "116.318417")
    assert first["source"] == "000/Trajectory/20081023025304.plt" and first["row"] == 0
    assert list(raw.columns) == ["user_id", "timestamp", "lat", "lon", "source", "row"]
    assert len(list_ping_files(GEOLIFE)) == 111


@pytest.mark.real
def test_geolife_labels_user_010():
    labels = read_geolife_labels(need(GEOLIFE / "010"))
    with open(GEOLIFE / "010" / "labels.txt") as fh:
        n_lines = sum(1 for line in fh if line.strip())
    assert len(labels) == n_lines - 1
    assert labels["start"].iloc[0] == pd.Timestamp("2007-06-26 11:32:29", tz="UTC")
    assert labels["end"].iloc[0] == pd.Timestamp("2007-06-26 11:40:29", tz="UTC")
    assert labels["mode"].iloc[0] == "bus"
    assert str(labels["start"].dtype) == "datetime64[ns, UTC]"
    assert (labels["end"] >= labels["start"]).all()


@pytest.mark.real
def test_google_export():
    raw = read_pings(need(TRACKS / "google_trajectory.csv"))
    assert len(raw) == 416
    assert list(raw.columns) == ["user_id", "timestamp", "lat", "lon", "accuracy_m", "source", "row"]
    # first data line: 1;2012-12-18T21:30:35Z;47.3766094;8.5484732;0;20
    assert raw.iloc[0][["user_id", "timestamp", "lat", "lon", "accuracy_m"]].tolist() == [
        "1", "2012-12-18T21:30:35Z", "47.3766094", "8.5484732", "20"]
    res = validate_pings(raw, max_accuracy_m=10_000)
    assert len(res.pings) == 416
    assert res.pings["timestamp"].min() == pd.Timestamp("2012-12-18 11:53:30", tz="UTC")
    assert 47.3 < res.pings["lat"].median() < 47.45 and 8.45 < res.pings["lon"].median() < 8.6  # Zurich


@pytest.mark.real
def test_posmo_export_lon_lat_order_and_local_time():
    raw = read_pings(need(TRACKS / "posmo_trajectory.csv"))
    assert len(raw) == 1327
    # first data line: 0;7.0389004;47.0516249;0.0;2019-01-25 20:00:16.178999901 (longitude comes first)
    assert (raw["lat"].iloc[0], raw["lon"].iloc[0]) == ("47.0516249", "7.0389004")
    res = validate_pings(raw, timezone="Europe/Zurich")
    assert res.n_bad == 0
    assert res.pings["lat"].between(46.4, 47.2).all() and res.pings["lon"].between(6.4, 7.2).all()
    # Zurich is UTC+1 in January: 20:00:16.178999901 local is 19:00:16.178999901 UTC
    assert res.pings["timestamp"].iloc[0] == pd.Timestamp("2019-01-25 19:00:16.178999901", tz="UTC")


@pytest.mark.real
def test_skmob_sample_with_column_mapping_keeps_padding():
    raw = read_pings(need(SKMOB), columns={"user_id": "uid", "timestamp": "datetime", "lon": "lng"})
    assert len(raw) == 217_653
    assert raw["user_id"].value_counts().to_dict() == {"005": 109_046, "001": 108_607}
    res = validate_pings(raw)
    assert set(res.pings["user_id"]) == {"001", "005"}
    assert len(res.pings) + len(res.quarantine) == 217_653
    assert res.pings["timestamp"].iloc[0] == pd.Timestamp("2008-10-23 05:53:05", tz="UTC")


@pytest.mark.real
def test_skmob_sample_without_mapping_names_missing_columns():
    with pytest.raises(MobilityError) as err:
        read_pings(need(SKMOB))
    msg = str(err.value)
    for part in ["geolife_sample.txt.gz", "'user_id'", "'timestamp'", "'lon'", "'uid'", "'lng'", "columns={"]:
        assert part in msg


# --------------------------------------------------------------------------------------- small files


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_values_are_text_and_separator_sniffed(tmp_path):
    f = write(tmp_path / "p.csv", "user_id;timestamp;lat;lon;extra\n007;2020-01-06 08:00;1e1;-74.0;x\n")
    raw = read_pings(f)
    assert list(raw.columns) == ["user_id", "timestamp", "lat", "lon", "source", "row"]
    assert raw.iloc[0][["user_id", "lat"]].tolist() == ["007", "1e1"]
    assert raw["user_id"].dtype == "str"


def test_tab_separated_txt_and_gzip(tmp_path):
    text = "user_id\ttimestamp\tlat\tlon\n1\t2020-01-06T08:00:00Z\t40\t-74\n2\t2020-01-06T09:00:00Z\t41\t-75\n"
    f = tmp_path / "p.txt.gz"
    with gzip.open(f, "wt") as fh:
        fh.write(text)
    raw = read_pings(f)
    assert raw["user_id"].tolist() == ["1", "2"] and raw["row"].tolist() == [0, 1]


def test_column_mapping_and_unknown_key(tmp_path):
    f = write(tmp_path / "p.csv", "uid,t,la,lo,acc,lat\nA,2020-01-06T08:00:00Z,1.5,2.5,10,99\n")
    raw = read_pings(f, columns={"user_id": "uid", "timestamp": "t", "lat": "la", "lon": "lo",
                                 "accuracy_m": "acc"})
    assert raw.iloc[0][["user_id", "timestamp", "lat", "lon", "accuracy_m"]].tolist() == [
        "A", "2020-01-06T08:00:00Z", "1.5", "2.5", "10"]
    with pytest.raises(MobilityError, match="latitude"):
        read_pings(f, columns={"latitude": "la"})


def test_missing_column_message(tmp_path):
    f = write(tmp_path / "pings.csv", "user_id,time,lat,lon\n1,2020-01-06T08:00:00Z,1,2\n")
    with pytest.raises(MobilityError) as err:
        read_pings(f)
    msg = str(err.value)
    assert "pings.csv" in msg and "'timestamp'" in msg and "['user_id', 'time', 'lat', 'lon']" in msg
    assert "Did you mean 'time' for 'timestamp'? Map your columns with read_pings(..., columns={'timestamp': 'time'})" in msg


def test_explicitly_mapped_optional_column_must_exist(tmp_path):
    f = write(tmp_path / "p.csv", "user_id,timestamp,lat,lon\n1,2020-01-06T08:00:00Z,1,2\n")
    with pytest.raises(MobilityError, match="'acc'"):
        read_pings(f, columns={"accuracy_m": "acc"})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_mapped_accuracy_column_that_one_file_lacks_is_read_as_missing_there(tmp_path, caplog, fmt):
    # an export mixing sources: the mapped accuracy column is in a.csv only; b's rows used to stop the read
    # with a fix that could not work (map accuracy_m for b.csv alone), now they come without an accuracy
    write(tmp_path / "a.csv", "uid,timestamp,lat,lon,acc\nu,2020-01-06T08:00:00Z,40.7,-74.0,12\n")
    b = pd.DataFrame({"uid": ["v", "v"], "timestamp": ["2020-01-06T08:00:00Z", "2020-01-06T09:00:00Z"],
                      "lat": ["40.8", "40.8"], "lon": ["-74.1", "-74.1"]})
    if fmt == "csv":
        b.to_csv(tmp_path / "b.csv", index=False)
    else:
        b.to_parquet(tmp_path / "b.parquet")
    with caplog.at_level("WARNING", logger="mobility"):
        raw = read_pings(tmp_path, columns={"user_id": "uid", "accuracy_m": "acc"})
    assert raw["user_id"].tolist() == ["u", "v", "v"]
    assert raw["accuracy_m"].iloc[0] == "12" and raw["accuracy_m"].iloc[1:].isna().all()
    assert f"1 of 2 ping files have no column 'acc' (mapped to accuracy_m): {tmp_path / f'b.{fmt}'}" in caplog.text
    assert "max_accuracy_m cannot screen them" in caplog.text
    checked = validate_pings(raw, max_accuracy_m=10)  # a's 12 m is screened out, b's rows kept without one
    assert checked.pings["user_id"].tolist() == ["v", "v"] and checked.counts["low_accuracy"] == 1


def test_a_mapped_optional_column_that_every_file_lacks_is_an_error_naming_a_close_column(tmp_path):
    write(tmp_path / "a.csv", "uid,timestamp,lat,lon,accuracy\nu,2020-01-06T08:00:00Z,40.7,-74.0,12\n")
    write(tmp_path / "b.csv", "uid,timestamp,lat,lon\nv,2020-01-06T08:00:00Z,40.8,-74.1\n")
    with pytest.raises(MobilityError, match=r"a\.csv: column 'acuracy' \(for 'accuracy_m'\) missing.*Did you mean "
                                            r"'accuracy' for 'accuracy_m'\?"):
        read_pings(tmp_path, columns={"user_id": "uid", "accuracy_m": "acuracy"})
    # no file has an accuracy: the message says the mapping of an optional column can go
    with pytest.raises(MobilityError, match=r"b\.csv: column 'acc' .* leave accuracy_m out of the mapping: it is "
                                            r"optional$"):
        read_pings(tmp_path / "b.csv", columns={"user_id": "uid", "accuracy_m": "acc"})


def test_parquet_keeps_types_and_maps_columns(tmp_path):
    df = pd.DataFrame({"uid": [5, 6], "timestamp": pd.to_datetime(["2020-01-06", "2020-01-07"], utc=True),
                       "lat": [1.0, 2.0], "lon": [3.0, 4.0]})
    df.to_parquet(tmp_path / "a.parquet")
    raw = read_pings(tmp_path / "a.parquet", columns={"user_id": "uid"})
    assert isinstance(raw["timestamp"].dtype, pd.DatetimeTZDtype) and raw["user_id"].dtype == np.int64
    assert raw["source"].tolist() == ["a.parquet", "a.parquet"]


def test_truncated_parquet_names_the_file(tmp_path):
    df = pd.DataFrame({"user_id": ["a"] * 100, "timestamp": pd.date_range("2020-01-06", periods=100, tz="UTC"),
                       "lat": 1.0, "lon": 2.0})
    df.to_parquet(tmp_path / "good.parquet")
    data = (tmp_path / "good.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(MobilityError, match="cut.parquet"):
        read_pings(tmp_path / "cut.parquet")


def test_non_utf8_csv_names_the_file_and_the_fix(tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes("user_id,timestamp,lat,lon\nJos\u00e9,2020-01-06T08:00:00Z,1,2\n".encode("latin1"))
    with pytest.raises(MobilityError) as err:
        read_pings(f)
    assert "latin.csv" in str(err.value) and "UTF-8" in str(err.value) and "encoding=" in str(err.value)
    assert read_pings(f, encoding="latin1")["user_id"].tolist() == ["Jos\u00e9"]


def test_corrupt_gzip_ragged_rows_and_empty_file(tmp_path):
    (tmp_path / "bad.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(MobilityError, match="bad.csv.gz"):
        read_pings(tmp_path / "bad.csv.gz")
    f = write(tmp_path / "ragged.csv", "user_id,timestamp,lat,lon\n1,2,3,4,5,6\n")
    with pytest.raises(MobilityError, match="ragged.csv"):
        read_pings(f)
    write(tmp_path / "empty.csv", "")
    with pytest.raises(MobilityError, match="empty.csv"):
        read_pings(tmp_path / "empty.csv")


def test_short_rows_become_empty_text(tmp_path):
    f = write(tmp_path / "short.csv", "user_id,timestamp,lat,lon\n1,2020-01-06T08:00:00Z,3\n")
    raw = read_pings(f)
    assert raw["lon"].tolist() == [""]
    assert validate_pings(raw).counts["missing_value"] == 1


def test_folder_glob_listing_and_sources(tmp_path):
    head = "user_id,timestamp,lat,lon\n"
    write(tmp_path / "b" / "2.csv", head + "u,2020-01-06T08:00:00Z,1,2\n")
    write(tmp_path / "a.csv", head + "u,2020-01-06T09:00:00Z,1,2\nv,2020-01-06T09:00:00Z,1,2\n")
    write(tmp_path / ".hidden.csv", head)
    write(tmp_path / "notes.md", "not pings")
    assert [p.relative_to(tmp_path).as_posix() for p in list_ping_files(tmp_path)] == ["a.csv", "b/2.csv"]
    raw = read_pings(tmp_path)
    assert raw["source"].tolist() == ["a.csv", "a.csv", "b/2.csv"] and raw["row"].tolist() == [0, 1, 0]
    globbed = read_pings(str(tmp_path / "**" / "*.csv"))
    assert globbed["source"].tolist() == ["a.csv", "a.csv", "b/2.csv"]
    with pytest.raises(MobilityError, match="matches no file"):
        read_pings(str(tmp_path / "*.parquet"))
    with pytest.raises(MobilityError, match="no such file"):
        read_pings(tmp_path / "nope.csv")
    (tmp_path / "void").mkdir()
    with pytest.raises(MobilityError, match="no ping files"):
        read_pings(tmp_path / "void")


def test_format_inference_and_errors(tmp_path):
    f = write(tmp_path / "export.txt", "user_id;tracked_at;latitude;longitude;elevation;accuracy\n"
                                       "9;2012-12-18T21:30:35Z;47.1;8.5;0;20\n")
    raw = read_pings(f)
    assert raw.iloc[0][["lat", "lon", "accuracy_m"]].tolist() == ["47.1", "8.5", "20"]
    write(tmp_path / "x.json", "{}")
    with pytest.raises(MobilityError, match="format="):
        read_pings(tmp_path / "x.json")
    assert read_pings(f, format="google")["user_id"].tolist() == ["9"]
    with pytest.raises(MobilityError, match="not one of"):
        read_pings(f, format="shapefile")


def test_plt_user_from_folder_or_argument(tmp_path):
    plt = ("Geolife trajectory\nWGS 84\nAltitude is in Feet\nReserved 3\n0,2,255,My Track,0,0,2,8421376\n0\n"
           "39.9,116.3,0,492,39744.12,2008-10-23,02:53:04\n")
    write(tmp_path / "042" / "Trajectory" / "t.plt", plt)
    write(tmp_path / "042" / "labels.txt", "Start Time\tEnd Time\tTransportation Mode\n")
    raw = read_pings(tmp_path)
    assert raw.iloc[0][["user_id", "timestamp", "lat", "lon"]].tolist() == [
        "042", "2008-10-23 02:53:04Z", "39.9", "116.3"]
    lone = write(tmp_path / "lone.plt", plt)
    with pytest.raises(MobilityError, match="user_id="):
        read_pings(lone)
    assert read_pings(lone, user_id="x7")["user_id"].tolist() == ["x7"]


def test_labels_errors(tmp_path):
    with pytest.raises(MobilityError, match="labels"):
        read_geolife_labels(tmp_path)
    write(tmp_path / "labels.txt", "Start Time\tEnd Time\tTransportation Mode\n2008/13/45 00:00:00\t2008/01/01 00:00:00\twalk\n")
    with pytest.raises(MobilityError, match="line 2"):
        read_geolife_labels(tmp_path)


def test_fast_and_pandas_csv_readers_agree(tmp_path):
    f = tmp_path / "p.csv"
    f.write_bytes('\ufeffuser_id;timestamp;lat;lon\r\n007;2020-01-06T08:00:00Z;"1,5";2\r\n\r\n 8 ;x;;\r\n'.encode())
    fast = read_pings(f)  # pyarrow's CSV reader
    slow = read_pings(f, skip_blank_lines=True)  # any other pandas keyword takes pandas' reader
    pd.testing.assert_frame_equal(fast, slow)
    assert fast[["user_id", "lat", "lon"]].values.tolist() == [["007", "1,5", "2"], [" 8 ", "", ""]]
    assert fast["row"].tolist() == [0, 1]


@pytest.mark.real
def test_fast_and_pandas_csv_readers_agree_on_real_export():
    f = need(TRACKS / "google_trajectory.csv")
    pd.testing.assert_frame_equal(read_pings(f), read_pings(f, skip_blank_lines=True))


def test_docstring_examples_run(tmp_path, monkeypatch):
    import doctest
    import tempfile

    import mobility.io.pings

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the examples' tempfile.mkdtemp() folders (six)
    assert doctest.testmod(mobility.io.pings).failed == 0


def test_a_parquet_file_read_as_text_says_so(tmp_path):
    # format = "csv" over a glob that also matched a Parquet file said "not UTF-8 text; re-save it as UTF-8"
    path = tmp_path / "pings.parquet"
    pd.DataFrame({"user_id": ["a"], "timestamp": ["2020-03-02 08:00"], "lat": [40.0], "lon": [-75.0]}).to_parquet(path)
    with pytest.raises(MobilityError) as err:
        read_pings(path, format="csv")
    assert "is a Parquet file, read as text" in str(err.value) and "format" in str(err.value)
    assert "UTF-8" not in str(err.value)
