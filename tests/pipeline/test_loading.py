"""The out-of-core loader (load + validate stages) against reading every file whole, and its messages."""

import json
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.io.pings import read_pings
from mobility.pings import drop_duplicate_pings, partition_of, validate_pings
from mobility.pipeline import loading, read_table, run
from mobility.pipeline import engine as engine_module
from mobility.synthetic import SyntheticParams, generate_region

GEOLIFE = Path("../shared/data/real/geolife_trackintel").resolve()
KEY = ["source", "row", "reason"]


# ------------------------------------------------------------------------------------------ the reference
def reference(files: list[Path], n_partitions: int, *, timezone: str, max_accuracy_m: float = 200.0):
    """Today's semantics, from the public frame functions, all in memory: each file read whole and validated
    (duplicates within it dropped: best accuracy, then first row), then duplicates across files (the same
    rule, files in order), then split by user partition."""
    kept, quarantine = [], []
    for f in files:
        result = validate_pings(read_pings(f), max_accuracy_m=max_accuracy_m, timezone=timezone, keep_source=True)
        kept.append(result.pings)
        quarantine.append(result.quarantine)
    pings, dups = drop_duplicate_pings(pd.concat(kept, ignore_index=True))
    part = partition_of(pings["user_id"], n_partitions)
    parts = {k: pings[part == k].drop(columns=["source", "row"]).reset_index(drop=True) for k in range(n_partitions)}
    return parts, pd.concat([*quarantine, dups], ignore_index=True)


def config(folder: Path, pings: list[str], *, n_partitions: int = 3, extra: str = "") -> Path:
    path = folder / "region.toml"
    path.write_text(textwrap.dedent(f"""
        [region]
        name = "t"
        timezone = "America/New_York"
        {extra}
        [inputs]
        pings = {json.dumps(pings)}
        [run]
        n_partitions = {n_partitions}
        [validate]
        max_bad_share = 0.5
    """))
    return path


def assert_same(out: Path, files: list[Path], n_partitions: int) -> None:
    parts, expected_q = reference(files, n_partitions, timezone="America/New_York")
    for k in range(n_partitions):
        got = pd.read_parquet(out / "pings" / f"part-{k:05d}.parquet")
        if len(parts[k]):
            pd.testing.assert_frame_equal(got, parts[k], check_exact=True, obj=f"partition {k}")
        else:
            assert len(got) == 0
    got_q = read_table(out, "quarantine")
    assert sorted(map(tuple, got_q[KEY].astype(str).values)) == sorted(map(tuple, expected_q[KEY].astype(str).values))
    assert not list((out / "ping_shards").glob("*.arrow")), "shards left behind: a second copy of the pings"


@pytest.fixture
def small_batches(monkeypatch):
    """Batches, spills and load tasks of a few hundred rows: every boundary the loader has is crossed."""
    monkeypatch.setattr(engine_module, "LOAD_BATCH_ROWS", 700)
    monkeypatch.setattr(loading, "SPILL_ROWS", 1_500)
    monkeypatch.setattr(loading, "UNIT_ROWS_MIN", 2_000)


def mixed_inputs(folder: Path) -> list[Path]:
    """A synthetic region (Parquet parts of 12 users, bad rows of every kind in a CSV) plus a second Parquet
    file that repeats pings of the first with other accuracies (duplicates across files, won either way) and
    a CSV holding some of them as text."""
    region = generate_region(folder / "region", SyntheticParams(n_users=30, start="2020-03-02", end="2020-03-15",
                                                                users_per_part=12, inject_bad_share=0.01), seed=3)
    first = pd.read_parquet(sorted((region / "pings").glob("*.parquet"))[0])
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(first), 600, replace=False))
    again = first.iloc[pick].assign(accuracy_m=rng.choice([1.0, 5.0, 50.0, np.nan], 600))
    again = pd.concat([again, again.iloc[:50]], ignore_index=True)  # and duplicates within that file
    again.to_parquet(region / "pings" / "zz-again.parquet", index=False, row_group_size=250)
    text = first.iloc[pick[:200]].assign(timestamp=lambda d: d["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    text.astype(str).to_csv(region / "pings" / "zz-text.csv", index=False)
    return sorted((region / "pings").iterdir())


def test_loader_equals_reading_every_file_whole(tmp_path, small_batches):
    files = mixed_inputs(tmp_path)
    cfg = config(tmp_path, [str(f) for f in files])
    manifest = run(str(cfg), str(tmp_path / "out"), until="validate", progress=False)
    assert manifest["stages"]["load"]["units"] > 3  # several tasks, each with several batches and spills
    assert_same(tmp_path / "out", files, 3)
    q = read_table(tmp_path / "out", "quarantine")
    assert {"duplicate", "bad_timestamp", "bad_coordinate", "missing_value", "low_accuracy", "bad_accuracy"} <= set(q["reason"])
    # a duplicate across files names its file and row (today's loader wrote "" and -1)
    assert (q.loc[q["reason"] == "duplicate", "row"] >= 0).all()


# Computed by the loader of commit 539f63d (one shard file per load task x spill x partition) on
# mixed_inputs(tmp_path) with 17 partitions and small_batches: rows and pandas hash of each partition's pings. The
# inputs of synthetic generator 3.0 (recomputed then by that commit's loader on the new inputs).
OLD_ROWS = [0, 12, 31, 45, 2093, 406, 293, 1098, 1068, 618, 87, 816, 243, 1625, 97, 1057, 894]
OLD_DIGESTS = [0, 1792014876209118070, 931689415992393255, 161798183596638389, 2231177515341875457,
               1867087791226292940, 28212019803091597, 2193948920401881030, 930356129444624523,
               2284351460478707085, 1391534489223033119, 1977097595507506423, 232740618924983191,
               1254564319946744275, 2234214076089487164, 1780241847418785085, 857277850200501988]


@pytest.mark.parametrize("compact", [False, True], ids=["arrow", "parquet"])
def test_one_shard_per_spill_gives_the_partitions_of_one_shard_per_partition(tmp_path, small_batches, monkeypatch,
                                                                             compact):
    if compact:
        monkeypatch.setattr(loading, "SPILL_BYTES_PER_ROW", 10**15)
    files = mixed_inputs(tmp_path)
    out = tmp_path / "out"
    manifest = run(str(config(tmp_path, [str(f) for f in files], n_partitions=17)), str(out), until="validate",
                   progress=False)
    assert manifest["stages"]["load"]["units"] == 5
    parts = [pd.read_parquet(out / "pings" / f"part-{k:05d}.parquet") for k in range(17)]
    assert [len(p) for p in parts] == OLD_ROWS
    assert [int(pd.util.hash_pandas_object(p, index=False).sum() % (1 << 61)) for p in parts] == OLD_DIGESTS
    assert_same(out, files, 17)
    units = [json.loads(f.read_text()) for f in sorted((out / "ping_shards").glob("unit-*.json"))]
    partitions_per_shard = Counter(name for u in units for pieces in u["shards"].values() for name, _, _ in pieces)
    assert len(partitions_per_shard) < 17 * len(units) and max(partitions_per_shard.values()) > 1  # not x partitions
    assert {Path(name).suffix for name in partitions_per_shard} == {".parquet" if compact else ".arrow"}
    assert not [f for f in (out / "ping_shards").iterdir() if f.suffix != ".json"], "shards left behind"


def test_shards_are_compact_when_memory_or_disk_is_short_and_give_the_same_outputs(tmp_path, small_batches,
                                                                                   monkeypatch, caplog):
    files = mixed_inputs(tmp_path)
    monkeypatch.setattr(loading, "SPILL_BYTES_PER_ROW", 10**15)  # as if the shards would fill the disk
    written = []
    real_write = loading._Spill.flush

    def flush(self):
        written.append(self.parquet)
        return real_write(self)

    monkeypatch.setattr(loading._Spill, "flush", flush)
    with caplog.at_level("INFO", logger="mobility.pipeline"):
        run(str(config(tmp_path, [str(f) for f in files])), str(tmp_path / "out"), until="validate", progress=False)
    assert "as compact Parquet" in caplog.text and written and all(written)
    assert_same(tmp_path / "out", files, 3)
    assert not list((tmp_path / "out" / "ping_shards").glob("*.parquet"))


def test_loader_equals_reading_every_file_whole_with_the_local_engine_unthreaded(tmp_path, monkeypatch):
    files = mixed_inputs(tmp_path)
    monkeypatch.setattr(engine_module, "_cores", lambda: 1)
    run(str(config(tmp_path, [str(f) for f in files], n_partitions=1)), str(tmp_path / "out"), until="validate",
        progress=False)
    assert_same(tmp_path / "out", files, 1)


@pytest.mark.real
@pytest.mark.skipif(not GEOLIFE.is_dir(), reason="../shared/data/real/geolife_trackintel absent")
def test_loader_equals_reading_every_file_whole_on_geolife(tmp_path, small_batches):
    files = sorted(GEOLIFE.glob("*/*/Trajectory/*.plt"))
    assert len(files) > 100
    run(str(config(tmp_path, [str(GEOLIFE / "*" / "*" / "Trajectory" / "*.plt")], n_partitions=4)),
        str(tmp_path / "out"), until="validate", progress=False)
    assert_same(tmp_path / "out", files, 4)
    assert len(read_table(tmp_path / "out", "pings")) > 150_000


# ------------------------------------------------------------------------------------------ the study period
def bad_text_parquet(path: Path, n: int = 3000) -> pd.DataFrame:
    """Text columns of ``n`` pings of 40 users, not grouped by user, with bad rows of every reason (a null and
    an empty user id among them), written as Parquet row groups of 500 rows; returns the frame."""
    rng = np.random.default_rng(7)
    users = np.array([f"u{i:03d}" for i in range(40)], dtype=object)[rng.integers(0, 40, n)]
    ts = pd.Timestamp("2020-03-02", tz="UTC") + pd.to_timedelta(rng.integers(0, 10 * 86400, n), unit="s")
    frame = pd.DataFrame({"user_id": users, "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object),
                          "lat": rng.uniform(39.9, 40.1, n).round(5).astype(str).astype(object),
                          "lon": rng.uniform(-75.2, -75.0, n).round(5).astype(str).astype(object),
                          "accuracy_m": rng.choice([5.0, 20.0, 80.0], n)})
    bad = rng.choice(n, 120, replace=False)
    frame.loc[bad[0:15], "user_id"] = None
    frame.loc[bad[15:30], "user_id"] = ""
    frame.loc[bad[30:45], "timestamp"] = "not a time"
    frame.loc[bad[45:60], "lat"] = "95.0"
    frame.loc[bad[60:75], "lon"] = "east"
    frame.loc[bad[75:90], "accuracy_m"] = -3.0
    frame.loc[bad[90:105], "accuracy_m"] = 900.0
    frame.loc[bad[105:120], "lat"] = None
    frame.to_parquet(path, index=False, row_group_size=500)
    return frame


def test_dictionary_coded_user_ids_with_bad_rows(tmp_path, small_batches):
    # load reads Parquet user ids as a dictionary (codes, no text per row) and carries the codes to the shards:
    # the same pings and quarantine as reading every file whole as text, quarantined rows naming their id
    frame = bad_text_parquet(tmp_path / "bad.parquet")
    batches = list(engine_module.read_ping_batches(tmp_path / "bad.parquet", dictionary_ids=True))
    assert all(isinstance(b["user_id"].dtype, pd.CategoricalDtype) for b in batches)
    for compact in (False, True):
        out = tmp_path / f"out-{compact}"
        if compact:
            loading.SPILL_BYTES_PER_ROW, before = 10**12, loading.SPILL_BYTES_PER_ROW
        try:
            run(str(config(tmp_path, [str(tmp_path / "bad.parquet")])), str(out), until="validate", progress=False)
        finally:
            if compact:
                loading.SPILL_BYTES_PER_ROW = before
        assert_same(out, [tmp_path / "bad.parquet"], 3)
        q = read_table(out, "quarantine")
        assert Counter(q["reason"]) == {"missing_value": 45, "bad_timestamp": 15, "bad_coordinate": 30,
                                        "bad_accuracy": 15, "low_accuracy": 15}
        q = q.set_index("row")
        text = frame["user_id"].iloc[q.index]
        assert q["user_id"].fillna("<null>").tolist() == text.fillna("<null>").tolist()
        assert q["user_id"].isna().sum() == 15 and (q["user_id"] == "").sum() == 15
        pings = read_table(out, "pings")
        assert str(pings["user_id"].dtype) == "str"
        assert sorted(pings["user_id"].unique()) == sorted(set(frame["user_id"].dropna()) - {""})


def test_pings_outside_the_study_period_are_dropped_and_counted(tmp_path):
    ts = pd.to_datetime(["2020-03-01 04:59", "2020-03-01 05:00", "2020-03-31 23:59", "2020-04-01 03:59",
                         "2020-04-01 04:00", "2020-02-01 00:00"], utc=True)
    pings = pd.DataFrame({"user_id": "u", "timestamp": ts, "lat": [40.0, 40.0, 40.0, 40.0, 40.0, 99.0], "lon": -75.0})
    pings.to_parquet(tmp_path / "p.parquet", index=False)
    cfg = config(tmp_path, [str(tmp_path / "p.parquet")], n_partitions=1,
                 extra='start = "2020-03-01"\nend = "2020-03-31"')
    manifest = run(str(cfg), str(tmp_path / "out"), until="validate", progress=False)
    kept = read_table(tmp_path / "out", "pings")
    # local New York dates 2020-03-01..2020-03-31: 05:00 UTC on March 1 (EST) to 04:00 UTC on April 1 (EDT)
    assert kept["timestamp"].tolist() == list(ts[[1, 2, 3]])
    assert manifest["stages"]["load"]["outside_period"] == 2  # 04:59 and 04:00; the bad row is quarantined
    assert read_table(tmp_path / "out", "quarantine")["reason"].tolist() == ["bad_coordinate"]


def test_region_dates_must_be_dates(tmp_path):
    pd.DataFrame({"user_id": ["u"], "timestamp": pd.to_datetime(["2020-03-01"], utc=True), "lat": [1.0],
                  "lon": [1.0]}).to_parquet(tmp_path / "p.parquet")
    cfg = config(tmp_path, [str(tmp_path / "p.parquet")], extra='start = "2020-03-01 12:00"')
    with pytest.raises(MobilityError, match=r"\[region\] start = '2020-03-01 12:00' must be a calendar date"):
        run(str(cfg), str(tmp_path / "out"), until="load", progress=False)


# ------------------------------------------------------------------------------------------ messages
def test_too_many_bad_rows_writes_the_quarantine_first_and_names_the_toml_key(tmp_path):
    pings = pd.DataFrame({"user_id": list("abcd"), "timestamp": pd.to_datetime(["2020-03-01"] * 4, utc=True),
                          "lat": [40.0, 95.0, 96.0, 97.0], "lon": -75.0})
    pings.to_parquet(tmp_path / "p.parquet", index=False)
    cfg = config(tmp_path, [str(tmp_path / "p.parquet")])
    with pytest.raises(MobilityError) as err:
        run(str(cfg), str(tmp_path / "out"), until="validate", progress=False)
    message = str(err.value)
    assert "3 of 4 rows (75.0%) quarantined" in message and "bad_coordinate=3" in message
    assert "[validate] max_bad_share (now 0.5)" in message and str(cfg) in message
    assert str(tmp_path / "out" / "quarantine") in message and "[inputs] columns = {" in message
    q = read_table(tmp_path / "out", "quarantine")  # it exists, as the message says
    assert sorted(q["row"].tolist()) == [1, 2, 3] and set(q["reason"]) == {"bad_coordinate"}


def test_a_misspelled_column_gets_the_toml_form_and_a_guess(tmp_path):
    (tmp_path / "p.csv").write_text("user_id,timestamp,latt,lng\nu,2020-03-01T00:00:00Z,40,-75\n")
    cfg = config(tmp_path, [str(tmp_path / "p.csv")])
    with pytest.raises(MobilityError) as err:
        run(str(cfg), str(tmp_path / "out"), until="load", progress=False)
    assert str(err.value) == (
        f"{tmp_path / 'p.csv'}: column 'lat', 'lon' missing; columns found: ['user_id', 'timestamp', 'latt', 'lng']. "
        f"Did you mean 'latt' for 'lat'? Did you mean 'lng' for 'lon'? Map your columns in {cfg}: "
        '[inputs] columns = { lat = "latt", lon = "lng" }')


def test_a_column_nothing_resembles_gets_a_placeholder(tmp_path):
    (tmp_path / "p.csv").write_text("person,timestamp,lat,lon\nu,2020-03-01T00:00:00Z,40,-75\n")
    with pytest.raises(MobilityError, match=r"'user_id' missing.*columns = \{ user_id = \"your_user_id_column\" \}"):
        run(str(config(tmp_path, [str(tmp_path / "p.csv")])), str(tmp_path / "out"), until="load", progress=False)
    with pytest.raises(MobilityError, match=r"read_pings\(\.\.\., columns=\{'user_id': 'your_user_id_column'\}\)"):
        read_pings(tmp_path / "p.csv")


def test_validate_again_after_its_shards_were_consumed_says_rerun_load(tmp_path):
    pd.DataFrame({"user_id": ["a", "b"], "timestamp": pd.to_datetime(["2020-03-01"] * 2, utc=True),
                  "lat": [40.0, 41.0], "lon": -75.0}).to_parquet(tmp_path / "p.parquet")
    cfg = config(tmp_path, [str(tmp_path / "p.parquet")], n_partitions=2)
    run(str(cfg), str(tmp_path / "out"), until="validate", progress=False)
    assert sorted(p.name for p in (tmp_path / "out" / "ping_shards").iterdir()) == ["unit-00000.json"]
    with pytest.raises(MobilityError, match="rerun from the load stage"):
        run(str(cfg), str(tmp_path / "out"), from_stage="validate", until="validate", progress=False)
    run(str(cfg), str(tmp_path / "out"), from_stage="load", until="validate", progress=False)
    assert len(read_table(tmp_path / "out", "pings")) == 2


# ------------------------------------------------------------------------------------------ planning
def test_plan_cuts_parquet_between_row_groups_and_groups_small_files(tmp_path):
    pings = pd.DataFrame({"user_id": "u", "timestamp": pd.Timestamp("2020-03-01", tz="UTC"), "lat": 1.0, "lon": 1.0},
                         index=range(1000))
    pings.to_parquet(tmp_path / "a.parquet", row_group_size=100)
    pings.iloc[:10].to_parquet(tmp_path / "b.parquet")
    pings.iloc[:10].to_parquet(tmp_path / "c.parquet")
    units = loading.plan_units([tmp_path / n for n in ("a.parquet", "b.parquet", "c.parquet")], unit_rows=300)
    assert [[(p.index, p.row_groups, p.rows) for p in u] for u in units] == [
        [(0, (0, 3), 300)], [(0, (3, 6), 300)], [(0, (6, 9), 300)], [(0, (9, 10), 100), (1, (0, 1), 10),
                                                                     (2, (0, 1), 10)]]


def test_partitions_without_users_get_empty_parts_with_the_same_columns(tmp_path):
    pd.DataFrame({"user_id": ["only"] * 3, "timestamp": pd.to_datetime(["2020-03-01 10:00", "2020-03-01 11:00",
                                                                       "2020-03-01 10:00"], utc=True),
                  "lat": [40.0, 40.1, 40.2], "lon": -75.0, "accuracy_m": [10.0, 10.0, 5.0]}).to_parquet(tmp_path / "p.parquet")
    run(str(config(tmp_path, [str(tmp_path / "p.parquet")], n_partitions=4)), str(tmp_path / "out"), until="validate",
        progress=False)
    parts = [pd.read_parquet(tmp_path / "out" / "pings" / f"part-{k:05d}.parquet") for k in range(4)]
    assert sorted(len(p) for p in parts) == [0, 0, 0, 2]
    assert all(p.dtypes.astype(str).to_dict() == parts[0].dtypes.astype(str).to_dict() for p in parts)
    assert list(parts[0].columns) == ["user_id", "timestamp", "lat", "lon", "accuracy_m"]
    q = read_table(tmp_path / "out", "quarantine")
    assert q[["row", "reason"]].values.tolist() == [[0, "duplicate"]]  # row 2 (5 m) beats row 0 (10 m)


def test_shards_of_the_older_layout_ask_to_rerun_load(tmp_path):
    # a load summary of the previous layout named, per partition, a list of shard files (one file each)
    old = [{"shards": {"0": ["shard-u00000-p00000.arrow"]}}]
    with pytest.raises(MobilityError, match="--from load"):
        loading.shard_pieces(old, tmp_path, 1)
    new = [{"shards": {"0": [["spill-u00000-0000.parquet", 0, 2]]}}]
    assert loading.shard_pieces(new, tmp_path, 2) == {0: [(tmp_path / "spill-u00000-0000.parquet", 0, 2)], 1: []}


@pytest.mark.parametrize("coded", [False, True])
def test_checked_table_is_from_pandas_of_checked_pings(coded):
    """The shards' Arrow table of checked pings is ``from_pandas``'s, schema and metadata included, whatever
    columns the file had: missing accuracies stay missing (null), text or coded user ids, utc offsets."""
    import pyarrow as pa

    from mobility.pings import check_pings

    raw = pd.DataFrame({"user_id": ["b", "a", "", "a"],
                        "timestamp": ["2020-01-06T09:00:00Z", "2020-01-06T08:00:00Z", "2020-01-06T08:00:00Z",
                                      "bad"],
                        "lat": ["40.7", "40.8", "40.9", "41"], "lon": ["-74.0", "-74.1", "-74.2", "-74"],
                        "accuracy_m": ["", "12.5", "3", "4"], "utc_offset_s": ["-18000", "", "0", "0"]})
    if coded:
        raw["user_id"] = raw["user_id"].astype("category")
    pings = check_pings(raw, source="p.csv").pings.drop(columns="user_id")
    assert len(pings) == 2 and pings["accuracy_m"].isna().sum() == 1
    expected = pa.Table.from_pandas(pings, preserve_index=False)
    assert loading._checked_table(pings).equals(expected, check_metadata=True)
    assert loading._checked_table(pings).column("accuracy_m").null_count == 1


def test_compact_shards_write_columns_without_missing_values_as_required(tmp_path, small_batches, monkeypatch):
    """Compact Parquet shards mark a column required where the shard has no missing value in it (no definition
    levels), nullable where it has (the repeated pings with missing accuracies); validate reads them back into
    the partitions of reading every file whole."""
    import pyarrow.parquet as pq

    monkeypatch.setattr(loading, "SPILL_BYTES_PER_ROW", 10**15)
    files = mixed_inputs(tmp_path)
    cfg, out = config(tmp_path, [str(f) for f in files]), tmp_path / "out"
    run(str(cfg), str(out), until="load", progress=False)
    schemas = [pq.read_schema(f) for f in sorted((out / "ping_shards").glob("*.parquet"))]
    assert schemas and not any(s.field(c).nullable for s in schemas for c in ("user_id", "timestamp", "lat", "row"))
    nullable = [s.field("accuracy_m").nullable for s in schemas]
    assert any(nullable) and not all(nullable)
    run(str(cfg), str(out), until="validate", progress=False)
    assert_same(out, files, 3)
