"""assign_locations and locations_table: hand cases, and equality with per-user haversine DBSCAN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN

from mobility.errors import MobilityError
from mobility.kernels.geo import EARTH_RADIUS_M
from mobility.locations import LOCATIONS, assign_locations, locations_table
from mobility.schema import STOPS
from mobility.stops import validate_stops

DEG_M = np.pi / 180 * EARTH_RADIUS_M
T0 = pd.Timestamp("2020-01-06", tz="UTC")


def stops_at(user, north_m, hours=None, east_m=None):
    """One stop per entry, an hour long, starting ``hours`` after T0, ``north_m`` north of (45 N, 9 E)."""
    north_m = np.asarray(north_m, dtype=float)
    hours = np.arange(north_m.size) * 2.0 if hours is None else np.asarray(hours, dtype=float)
    east_m = np.zeros_like(north_m) if east_m is None else np.asarray(east_m, dtype=float)
    start = T0 + pd.to_timedelta(hours, unit="h")
    return pd.DataFrame({"user_id": user, "stop_id": np.arange(north_m.size), "start": start,
                         "end": start + pd.Timedelta("1h"), "lat": 45.0 + north_m / DEG_M,
                         "lon": 9.0 + east_m / (DEG_M * np.cos(np.radians(45.0))),
                         "n_pings": 5, "location_id": -1})


def test_ids_by_first_visit_and_chaining():
    # visits (in time order) at 1000 m, 0 m, 1060 m, 60 m, 120 m, 5000 m; radius 100 m.
    # 0-60-120 chain into one place (each step 60 m < 100) though 0 and 120 are 120 m apart;
    # 1000 and 1060 are one place. First visit order: 1000 -> id 0, 0 -> id 1, 5000 -> id 2.
    s = stops_at("u", [1000, 0, 1060, 60, 120, 5000])
    got = assign_locations(s, radius_m=100)
    assert got["location_id"].tolist() == [0, 1, 0, 1, 1, 2]
    # with min_samples=3 (the stop itself included) only 60 m has 3 within 100 m (0, 60, 120): it is the
    # core; 0 and 120 join it as border points; 1000/1060 and 5000 are noise.
    got = assign_locations(s, radius_m=100, min_samples=3)
    assert got["location_id"].tolist() == [-1, 0, -1, 0, 0, -1]


def test_users_never_share_a_location_and_order_does_not_matter():
    a = stops_at("a", [0, 10, 500])
    b = stops_at("b", [0, 500, 10], hours=[1, 3, 5])
    both = pd.concat([a, b], ignore_index=True)
    got = assign_locations(both.sample(frac=1, random_state=3))
    assert got["user_id"].tolist() == ["a", "a", "a", "b", "b", "b"]
    assert got["location_id"].tolist() == [0, 0, 1, 0, 1, 0]
    assert list(got.columns) == list(a.columns)


def test_radius_is_strict_and_haversine():
    # 99 m apart joins, 101 m apart does not (east-west at 45 N, where a degree of longitude is shorter)
    assert assign_locations(stops_at("u", [0, 0], east_m=[0, 99]), radius_m=100)["location_id"].tolist() == [0, 0]
    assert assign_locations(stops_at("u", [0, 0], east_m=[0, 101]), radius_m=100)["location_id"].tolist() == [0, 1]


@pytest.mark.parametrize("min_samples", [1, 3])
def test_equals_per_user_sklearn_haversine_dbscan(min_samples):
    rng = np.random.default_rng(min_samples)
    frames = []
    for u in range(40):
        n = int(rng.integers(1, 60))
        centres = rng.uniform(-3000, 3000, size=(6, 2))
        k = rng.integers(0, 6, n)
        xy = centres[k] + rng.normal(0, 60, size=(n, 2))
        frames.append(stops_at(f"u{u:02d}", xy[:, 0], hours=np.sort(rng.uniform(0, 500, n)), east_m=xy[:, 1]))
    s = pd.concat(frames, ignore_index=True)
    got = assign_locations(s, radius_m=150, min_samples=min_samples)
    for user, g in got.groupby("user_id"):
        ref = DBSCAN(eps=150 / EARTH_RADIUS_M, min_samples=min_samples, metric="haversine",
                     algorithm="ball_tree").fit(np.radians(g[["lat", "lon"]].to_numpy())).labels_
        ours = g["location_id"].to_numpy()
        assert ((ours == -1) == (ref == -1)).all(), user
        # same partition: a one-to-one map between labels
        pairs = set(zip(ours[ours >= 0], ref[ref >= 0]))
        assert len(pairs) == len({p[0] for p in pairs}) == len({p[1] for p in pairs}), user
        # ids by first visit: the first occurrences of 0, 1, 2, ... appear in that order
        firsts = pd.unique(ours[ours >= 0])
        assert firsts.tolist() == list(range(firsts.size)), user


def test_empty_and_errors():
    empty = stops_at("u", [])
    got = assign_locations(empty)
    assert len(got) == 0 and got["location_id"].dtype == np.int64
    assert list(locations_table(got).columns) == list(LOCATIONS)
    s = stops_at("u", [0, 10])
    for kw in ({"radius_m": 0}, {"radius_m": -5}, {"min_samples": 0}):
        with pytest.raises(MobilityError):
            assign_locations(s, **kw)
    with pytest.raises(MobilityError, match="lat"):
        assign_locations(s.drop(columns="lat"))
    with pytest.raises(MobilityError, match="missing"):
        assign_locations(s.assign(lat=[45.0, np.nan]))


def test_locations_table_hand_values():
    # place 0: stops at 0 m (1 h) and 20 m (1 h); place 1: one stop at 5000 m of 3 h; one noise stop left out
    s = stops_at("u", [0, 5000, 20, 9000])
    s.loc[1, "end"] = s.loc[1, "start"] + pd.Timedelta("3h")
    s["location_id"] = [0, 1, 0, -1]
    t = locations_table(s)
    assert list(t.columns) == list(LOCATIONS)
    assert t["location_id"].tolist() == [0, 1]
    assert t["n_stops"].tolist() == [2, 1]
    assert t["dwell_s"].tolist() == [7200.0, 10800.0]
    np.testing.assert_allclose((t["lat"] - 45.0) * DEG_M, [10.0, 5000.0], atol=1e-6)
    assert t["user_id"].tolist() == ["u", "u"]


def test_locations_table_longitude_across_the_antimeridian():
    s = stops_at("u", [0, 0])
    s["lon"] = [179.9999, -179.9999]
    s["location_id"] = 0
    t = locations_table(s)
    assert abs(abs(t["lon"].iloc[0]) - 180.0) < 1e-9


# ------------------------------------------------------------------ merging split visits (merge_max_gap_s)
def timed_stops(user, north_m, start_min, end_min, n_pings):
    """Stops ``north_m`` north of (45 N, 9 E) from ``start_min`` to ``end_min`` minutes after T0."""
    s = stops_at(user, north_m)
    s["start"] = T0 + pd.to_timedelta(np.asarray(start_min, dtype=float), unit="min")
    s["end"] = T0 + pd.to_timedelta(np.asarray(end_min, dtype=float), unit="min")
    s["n_pings"] = np.asarray(n_pings, dtype=np.int64)
    return s


def test_merge_runs_of_two_and_three():
    # place A (0-20 m): 3 stops with 15 min gaps; place B (5 km); place A again: 2 stops with a 15 min gap.
    s = timed_stops("u", [0, 10, 20, 5000, 0, 5],
                    start_min=[0, 75, 150, 240, 360, 435], end_min=[60, 135, 210, 300, 420, 495],
                    n_pings=[1, 2, 3, 4, 5, 6])
    got = assign_locations(s, merge_max_gap_s=1800)
    assert list(got.columns) == list(STOPS)
    assert got["stop_id"].tolist() == [0, 1, 2]
    assert got["location_id"].tolist() == [0, 1, 0]
    assert (got["start"] - T0).dt.total_seconds().tolist() == [0.0, 240 * 60.0, 360 * 60.0]
    assert (got["end"] - T0).dt.total_seconds().tolist() == [210 * 60.0, 300 * 60.0, 495 * 60.0]
    assert got["n_pings"].tolist() == [1 + 2 + 3, 4, 5 + 6]
    # n_pings-weighted mean: (0*1 + 10*2 + 20*3) / 6 m and (0*5 + 5*6) / 11 m north
    np.testing.assert_allclose((got["lat"] - 45.0) * DEG_M, [80 / 6, 5000.0, 30 / 11], atol=1e-6)
    np.testing.assert_allclose(got["lon"], 9.0, atol=1e-12)
    # the table stays a valid stops table: validate_stops keeps every row, quarantines none
    valid, quarantine = validate_stops(got)
    assert len(quarantine) == 0
    pd.testing.assert_frame_equal(valid[list(STOPS)], got[list(STOPS)], check_dtype=False)
    assert got.dtypes[["stop_id", "n_pings", "location_id"]].tolist() == [np.int64] * 3
    assert str(got["start"].dt.tz) == str(got["end"].dt.tz) == "UTC"


def test_merge_gap_limit_is_inclusive():
    s = timed_stops("u", [0, 0, 0], start_min=[0, 90, 180], end_min=[60, 150, 240], n_pings=[2, 2, 2])
    s.loc[2, "start"] += pd.Timedelta("1s")  # gaps 1800 s and 1801 s
    s.loc[2, "end"] += pd.Timedelta("1s")
    got = assign_locations(s, merge_max_gap_s=1800)
    assert got["n_pings"].tolist() == [4, 2] and got["stop_id"].tolist() == [0, 1]
    assert len(assign_locations(s, merge_max_gap_s=1801)) == 1
    assert len(assign_locations(s, merge_max_gap_s=1799.9)) == 3


def test_merge_keeps_locations_users_and_noise_apart():
    # different locations 1 min apart: not merged
    s = timed_stops("u", [0, 5000], start_min=[0, 61], end_min=[60, 120], n_pings=[2, 2])
    assert len(assign_locations(s, merge_max_gap_s=3600)) == 2
    # two users at the same spot, b's stop 1 min after a's: each user's location 0, never merged
    a = timed_stops("a", [0], start_min=[0], end_min=[60], n_pings=[2])
    b = timed_stops("b", [0], start_min=[61], end_min=[120], n_pings=[2])
    got = assign_locations(pd.concat([a, b], ignore_index=True), merge_max_gap_s=3600)
    assert got["user_id"].tolist() == ["a", "b"] and got["location_id"].tolist() == [0, 0]
    # noise (location_id -1 with min_samples=3: only two stops there) is never merged
    s = timed_stops("u", [0, 0], start_min=[0, 61], end_min=[60, 120], n_pings=[2, 2])
    got = assign_locations(s, min_samples=3, merge_max_gap_s=3600)
    assert got["location_id"].tolist() == [-1, -1] and len(got) == 2


def test_merge_off_leaves_the_table_unchanged():
    s = timed_stops("u", [0, 10, 5000], start_min=[0, 70, 200], end_min=[60, 130, 260], n_pings=[2, 3, 4])
    off = assign_locations(s)
    pd.testing.assert_frame_equal(assign_locations(s, merge_max_gap_s=None), off)
    assert len(off) == 3 and off["location_id"].tolist() == [0, 0, 1]
    # a limit below every gap (600 s) merges nothing: the same table
    pd.testing.assert_frame_equal(assign_locations(s, merge_max_gap_s=599), off)


def test_merge_without_n_pings_and_in_any_input_order():
    # no n_pings column: plain mean; n_pings all 0 (a provider's "unknown"): plain mean too
    s = timed_stops("u", [0, 30], start_min=[0, 70], end_min=[60, 130], n_pings=[1, 1])
    got = assign_locations(s.drop(columns=["n_pings", "stop_id"]), merge_max_gap_s=900)
    assert "n_pings" not in got.columns and "stop_id" not in got.columns
    np.testing.assert_allclose((got["lat"] - 45.0) * DEG_M, [15.0], atol=1e-6)
    got = assign_locations(s.assign(n_pings=0), merge_max_gap_s=900)
    assert got["n_pings"].tolist() == [0]
    np.testing.assert_allclose((got["lat"] - 45.0) * DEG_M, [15.0], atol=1e-6)
    # shuffled input of two users: the same merged table as sorted input
    both = pd.concat([timed_stops("b", [0, 5, 900], [0, 70, 200], [60, 130, 260], [1, 2, 3]),
                      timed_stops("a", [0, 5], [10, 70], [60, 140], [4, 5])], ignore_index=True)
    pd.testing.assert_frame_equal(assign_locations(both.sample(frac=1, random_state=1), merge_max_gap_s=900),
                                  assign_locations(both, merge_max_gap_s=900))
    assert assign_locations(both, merge_max_gap_s=900)["n_pings"].tolist() == [9, 3, 3]


def test_merged_visits_in_the_locations_table():
    # two stops of an hour with a 20 min gap at one place: one visit of 2 h 20 min
    s = timed_stops("u", [0, 10], start_min=[0, 80], end_min=[60, 140], n_pings=[3, 3])
    t = locations_table(assign_locations(s, merge_max_gap_s=1200))
    assert t["n_stops"].tolist() == [1] and t["dwell_s"].tolist() == [140 * 60.0]
    t = locations_table(assign_locations(s))
    assert t["n_stops"].tolist() == [2] and t["dwell_s"].tolist() == [120 * 60.0]


@pytest.mark.parametrize("bad", [-1, np.nan, np.inf, "ten", True])
def test_merge_max_gap_errors(bad):
    s = timed_stops("u", [0, 10], start_min=[0, 70], end_min=[60, 130], n_pings=[2, 2])
    with pytest.raises(MobilityError, match="merge_max_gap_s"):
        assign_locations(s, merge_max_gap_s=bad)


def test_merge_needs_end_and_counts():
    s = timed_stops("u", [0, 10], start_min=[0, 70], end_min=[60, 130], n_pings=[2, 2])
    with pytest.raises(MobilityError, match="end"):
        assign_locations(s.drop(columns="end"), merge_max_gap_s=900)
    assert len(assign_locations(s.drop(columns="end"))) == 2  # without merging, end is not needed
    with pytest.raises(MobilityError, match="n_pings"):
        assign_locations(s.assign(n_pings=[2.0, -1.0]), merge_max_gap_s=900)


def test_merge_matches_trackintel():
    """trackintel 1.4.2's merge_staypoints (no triplegs) on random stops: the same merged start/end times."""
    ti = pytest.importorskip("trackintel")
    gpd = pytest.importorskip("geopandas")
    rng = np.random.default_rng(3)
    frames = []
    for u in range(6):
        n = 40
        dur = rng.integers(5, 90, n)
        gap = rng.integers(0, 60, n)
        start = np.concatenate(([0], np.cumsum(dur + gap)[:-1]))  # minutes; stops never overlap
        frames.append(timed_stops(f"u{u}", rng.choice([0.0, 3000.0, 6000.0], n), start, start + dur,
                                  rng.integers(2, 9, n)))
    s = pd.concat(frames, ignore_index=True)
    ours = assign_locations(s, merge_max_gap_s=1800)
    visits = assign_locations(s)
    sp = gpd.GeoDataFrame({"user_id": visits["user_id"], "started_at": visits["start"], "finished_at": visits["end"],
                           "location_id": visits["location_id"]},
                          geometry=gpd.points_from_xy(visits["lon"], visits["lat"]), crs="EPSG:4326")
    sp.index.name = "id"
    tpls = gpd.GeoDataFrame({"user_id": pd.Series([], dtype="str"),
                             "started_at": pd.Series([], dtype="datetime64[ns, UTC]"),
                             "finished_at": pd.Series([], dtype="datetime64[ns, UTC]")},
                            geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    theirs = ti.preprocessing.merge_staypoints(ti.Staypoints(sp), tpls, max_time_gap=pd.Timedelta("30min"))
    theirs = theirs.sort_values(["user_id", "started_at"])
    assert len(ours) < len(s)  # the case merges something
    assert ours["start"].tolist() == theirs["started_at"].tolist()
    assert ours["end"].tolist() == theirs["finished_at"].tolist()


# ------------------------------------------------------------------------------- the grid against the k-d tree
def kd_tree_location_ids(stops: pd.DataFrame, radius_m: float, min_samples: int, chunk_stops: int = 5_000):
    """The location ids this module computed before the grid index (scikit-learn's DBSCAN on a k-d tree over
    chord coordinates plus a user coordinate, in chunks of users, renumbered by first visit), kept here as the
    reference. ``stops`` sorted by user and start."""
    from mobility.ids import user_codes
    from mobility.stops import _per_user_rank, _user_offsets

    codes, _ = user_codes(stops["user_id"])
    lat, lon = np.radians(stops["lat"].to_numpy()), np.radians(stops["lon"].to_numpy())
    offsets = _user_offsets(codes)
    user_no = np.repeat(np.arange(offsets.size - 1), np.diff(offsets)).astype(np.float64)
    eps = 2.0 * EARTH_RADIUS_M * np.sin(radius_m / (2.0 * EARTH_RADIUS_M))
    n = len(stops)
    labels, next_label = np.full(n, -1, dtype=np.int64), 0
    cuts = np.unique(np.concatenate(([0], offsets[np.searchsorted(offsets, np.arange(chunk_stops, n, chunk_stops))], [n])))
    for a, b in zip(cuts[:-1], cuts[1:]):
        cos_lat = np.cos(lat[a:b])
        xyzu = np.column_stack((EARTH_RADIUS_M * cos_lat * np.cos(lon[a:b]), EARTH_RADIUS_M * cos_lat * np.sin(lon[a:b]),
                                EARTH_RADIUS_M * np.sin(lat[a:b]), 4.0 * EARTH_RADIUS_M * (user_no[a:b] - user_no[a])))
        got = DBSCAN(eps=eps, min_samples=min_samples, algorithm="kd_tree").fit(xyzu).labels_
        labels[a:b] = np.where(got >= 0, got + next_label, -1)
        next_label += int(got.max()) + 1 if got.size else 0
    location_id = np.full(n, -1, dtype=np.int64)
    member = labels >= 0
    uniq, first_row, inverse = np.unique(labels[member], return_index=True, return_inverse=True)
    rows = np.flatnonzero(member)
    by_visit = np.argsort(rows[first_row], kind="stable")
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[by_visit] = _per_user_rank(codes[rows[first_row][by_visit]])
    location_id[rows] = rank[inverse]
    return location_id


def _assert_same_as_kd_tree(stops: pd.DataFrame) -> None:
    for radius_m, min_samples in ((100.0, 1), (50.0, 3), (250.0, 2)):
        got = assign_locations(stops, radius_m=radius_m, min_samples=min_samples)
        expected = kd_tree_location_ids(got, radius_m, min_samples)
        np.testing.assert_array_equal(got["location_id"].to_numpy(), expected, err_msg=f"{radius_m} m, {min_samples}")


def test_grid_equals_kd_tree_on_a_synthetic_region(tmp_path):
    from mobility.stops import detect_stops
    from mobility.synthetic import SyntheticParams, generate_region

    region = generate_region(tmp_path / "r", SyntheticParams(n_users=40, start="2020-03-02", end="2020-03-29"), seed=5)
    pings = pd.concat([pd.read_parquet(p) for p in sorted((region / "pings").glob("*.parquet"))], ignore_index=True)
    stops = detect_stops(pings)
    assert len(stops) > 1_000
    _assert_same_as_kd_tree(stops)


@pytest.mark.real
def test_grid_equals_kd_tree_on_geolife():
    from mobility.pings import validate_pings
    from mobility.stops import detect_stops

    path = Path("../shared/data/real/geolife_skmob/geolife_sample.txt.gz")
    if not path.exists():
        pytest.skip(f"real GeoLife sample not found at {path}")
    raw = pd.read_csv(path, dtype={"uid": str}).rename(columns={"uid": "user_id", "datetime": "timestamp", "lng": "lon"})
    stops = detect_stops(validate_pings(raw[["user_id", "timestamp", "lat", "lon"]]).pings, min_duration_s=300)
    assert len(stops) > 500
    _assert_same_as_kd_tree(stops)
