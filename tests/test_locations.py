"""assign_locations and locations_table: hand cases, and equality with per-user haversine DBSCAN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN

from mobility.errors import MobilityError
from mobility.kernels.geo import EARTH_RADIUS_M
from mobility.locations import LOCATIONS, assign_locations, locations_table

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
    got = assign_locations(s, radius_m=150, min_samples=min_samples, chunk_stops=97)
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
    for kw in (dict(radius_m=0), dict(radius_m=-5), dict(min_samples=0), dict(chunk_stops=0)):
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
