"""Stop kernels: hand-worked edge cases, and equality with plain-Python reference loops on random tracks."""

from __future__ import annotations

import numpy as np
import pytest

from mobility.kernels.geo import EARTH_RADIUS_M
from mobility.kernels.stops import median_stops, overlapping_intervals, sliding_stops

S = 10**9  # ns per second
DEG_M = np.pi / 180 * EARTH_RADIUS_M  # metres per degree of latitude (111194.93 m)
KERNELS = [sliding_stops, median_stops]


def run(kernel, t_s, lat_m, lon=None, offsets=None, radius_m=100.0, min_duration_s=300, max_gap_s=3600,
        min_points=2):
    """Call a kernel with times in seconds and latitudes given as metres north of the equator."""
    t = np.asarray(t_s, dtype=np.int64) * S
    lat = np.asarray(lat_m, dtype=np.float64) / DEG_M
    lon = np.zeros_like(lat) if lon is None else np.asarray(lon, dtype=np.float64)
    offsets = np.array([0, len(t)], dtype=np.int64) if offsets is None else np.asarray(offsets, np.int64)
    seg, first, stop, s_lat, s_lon = kernel(t, lat, lon, offsets, float(radius_m), np.int64(min_duration_s * S),
                                            np.int64(max_gap_s * S), np.int64(min_points))
    return list(zip(seg.tolist(), first.tolist(), stop.tolist())), s_lat * DEG_M, s_lon


@pytest.mark.parametrize("kernel", KERNELS)
def test_end_is_last_ping_inside_and_duration_measured_to_it(kernel):
    # pings at 0, 60, ..., 240 s at the same place, then one 1 km away at 600 s.
    # Stay = rows 0..4 (end 240 s). Duration 240 s: a stop for min 240 s, none for min 241 s, although
    # the first ping outside (600 s) would give 600 s.
    t = [0, 60, 120, 180, 240, 600]
    y = [0, 0, 0, 0, 0, 1000]
    assert run(kernel, t, y, min_duration_s=240)[0] == [(0, 0, 5)]
    assert run(kernel, t, y, min_duration_s=241)[0] == []


@pytest.mark.parametrize("kernel", KERNELS)
def test_final_open_stay_is_kept_when_it_qualifies(kernel):
    # a trip ping, then the user stays to the end of the data: rows 1..4, 0..300 s after row 1
    t = [0, 100, 200, 300, 400]
    y = [-5000, 0, 10, 20, 10]
    assert run(kernel, t, y, min_duration_s=300)[0] == [(0, 1, 5)]
    assert run(kernel, t, y, min_duration_s=301)[0] == []


@pytest.mark.parametrize("kernel", KERNELS)
def test_gap_ends_the_stay_and_both_sides_are_judged_alone(kernel):
    # same place throughout; a 2 h gap between 600 s and 7800 s; max gap 1 h.
    # Before: rows 0..2 (0..600 s); after: rows 3..5 (7800..8400 s). Each lasts 600 s.
    t = [0, 300, 600, 7800, 8100, 8400]
    y = [0, 5, 0, 5, 0, 5]
    assert run(kernel, t, y, min_duration_s=600, max_gap_s=3600)[0] == [(0, 0, 3), (0, 3, 6)]
    # a gap of exactly max_gap_s does not end the stay (only longer gaps do)
    assert run(kernel, t, y, min_duration_s=600, max_gap_s=7200)[0] == [(0, 0, 6)]
    # with min 601 s neither side alone qualifies, and the gap is never bridged
    assert run(kernel, t, y, min_duration_s=601, max_gap_s=3600)[0] == []


@pytest.mark.parametrize("kernel", KERNELS)
def test_single_ping(kernel):
    assert run(kernel, [0], [0])[0] == []
    assert run(kernel, [0], [0], min_duration_s=0, min_points=1)[0] == [(0, 0, 1)]


@pytest.mark.parametrize("kernel", KERNELS)
def test_equal_timestamps_are_ordinary_pings(kernel):
    # rows 1 and 2 share a timestamp: 3 pings over 300 s
    run_ = run(kernel, [0, 300, 300], [0, 0, 0], min_points=3)[0]
    assert run_ == [(0, 0, 3)]


@pytest.mark.parametrize("kernel", KERNELS)
def test_min_points(kernel):
    # two pings 10 min apart: duration ok, 2 points
    assert run(kernel, [0, 600], [0, 0], min_points=2)[0] == [(0, 0, 2)]
    assert run(kernel, [0, 600], [0, 0], min_points=3)[0] == []


@pytest.mark.parametrize("kernel", KERNELS)
def test_users_are_separate_segments(kernel):
    # user 0 rows 0..1, user 1 rows 2..3, same place and consecutive times: never one stop across users
    t = [0, 600, 700, 1300]
    y = [0, 0, 0, 0]
    assert run(kernel, t, y, offsets=[0, 2, 4])[0] == [(0, 0, 2), (1, 2, 4)]
    # an empty user in the middle is skipped
    assert run(kernel, t, y, offsets=[0, 2, 2, 4])[0] == [(0, 0, 2), (2, 2, 4)]


def test_empty_input():
    for kernel in KERNELS:
        assert run(kernel, [], [], offsets=[0])[0] == []


def test_sliding_anchor_versus_median_drift():
    # a slow drift north, one ping a minute, radius 100 m, min duration 120 s.
    # 60 m steps. sliding: anchor 0 keeps 60, 120 is out -> 60 s, no stop; the next anchor is 120
    # (first ping out) and so on: never a stop. median: {0}; 60 joins (median 30); 120 joins
    # (|120-30| = 90); 180 is out (|180-60| = 120) -> rows 0..2 (120 s), then rows 3..5, 6..8; 9..10 too short.
    t = np.arange(11) * 60
    y = np.arange(11) * 60.0
    assert run(sliding_stops, t, y, min_duration_s=120)[0] == []
    assert run(median_stops, t, y, min_duration_s=120)[0] == [(0, 0, 3), (0, 3, 6), (0, 6, 9)]
    # 45 m steps. sliding: anchor 0 keeps 45, 90 (135 out) -> rows 0..2, mean 45; anchor 135 -> rows
    # 3..5, mean 180; anchor 270 -> rows 6..8, mean 315; rows 9..10 last only 60 s.
    y = np.arange(11) * 45.0
    stops, s_lat, _ = run(sliding_stops, t, y, min_duration_s=120)
    assert stops == [(0, 0, 3), (0, 3, 6), (0, 6, 9)]
    np.testing.assert_allclose(s_lat, [45.0, 180.0, 315.0], atol=1e-6)
    # median: {0}; 45 joins (median 22.5); 90 joins (67.5 < 100, median 45); 135 joins (90, median
    # 67.5); 180 is out (112.5) -> rows 0..3, median 67.5
    stops, s_lat, _ = run(median_stops, t, y, min_duration_s=120)
    assert stops[0] == (0, 0, 4)
    assert s_lat[0] == pytest.approx(67.5, abs=1e-6)


def test_stop_coordinates_mean_and_median():
    # five pings: 0, 10, 20, 30, 90 m north -> mean 30, median 20
    t = [0, 60, 120, 180, 240]
    y = [0, 10, 20, 30, 90]
    _, s_lat, _ = run(sliding_stops, t, y, min_duration_s=60)
    assert s_lat == pytest.approx([30.0], abs=1e-6)
    _, s_lat, _ = run(median_stops, t, y, min_duration_s=60)
    assert s_lat == pytest.approx([20.0], abs=1e-6)


def test_longitude_mean_across_the_antimeridian():
    # two pings at 179.9995 E and 179.9995 W (about 111 m apart at the equator): mean at 180
    t = [0, 600]
    _, _, s_lon = run(sliding_stops, t, [0, 0], lon=[179.9995, -179.9995], radius_m=200)
    assert abs(abs(s_lon[0]) - 180.0) < 1e-9
    _, _, s_lon = run(median_stops, t, [0, 0], lon=[179.9995, -179.9995], radius_m=200)
    assert abs(abs(s_lon[0]) - 180.0) < 1e-9


# ---------- plain-Python references (written from the algorithm descriptions) ----------


def hav(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(min(a, 1.0)))


def ref_sliding(t, lat, lon, r, dmin, gmax, pmin):
    """trackintel's loop (generate_staypoints, sliding) with our end/gap/last rules."""
    out, start, n = [], 0, len(t)

    def close(a, b):
        if b - a >= pmin and t[b - 1] - t[a] >= dmin:
            out.append((a, b, np.mean(lat[a:b])))

    for cur in range(1, n):
        if t[cur] - t[cur - 1] > gmax or hav(lat[start], lon[start], lat[cur], lon[cur]) >= r:
            close(start, cur)
            start = cur
    if n:
        close(start, n)
    return out


def ref_median(t, lat, lon, r, dmin, gmax, pmin):
    """Infostop's get_stationary_events with np.median of the group so far."""
    out, group = [], [0] if len(t) else []

    def close(g):
        if len(g) >= pmin and t[g[-1]] - t[g[0]] >= dmin:
            out.append((g[0], g[-1] + 1, np.median(lat[g])))

    for i in range(1, len(t)):
        m_lat, m_lon = np.median(lat[group]), np.median(lon[group])
        if t[i] - t[i - 1] <= gmax and hav(m_lat, m_lon, lat[i], lon[i]) < r:
            group.append(i)
        else:
            close(group)
            group = [i]
    if group:
        close(group)
    return out


def random_track(rng, n):
    """Stays at a few places (20 m noise), trips between, random gaps; times in whole seconds."""
    places = rng.uniform(-0.01, 0.01, size=(4, 2)) + [45.0, 9.0]
    k = rng.integers(0, 4, n // 10 + 1).repeat(10)[:n]
    lat = places[k, 0] + rng.normal(0, 20 / DEG_M, n)
    lon = places[k, 1] + rng.normal(0, 30 / DEG_M, n)
    dt = rng.choice([1, 30, 60, 120, 300, 900, 4000], size=n, p=[.05, .2, .3, .2, .15, .07, .03])
    return np.cumsum(dt).astype(np.int64), lat, lon


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kernel,ref", [(sliding_stops, ref_sliding), (median_stops, ref_median)])
def test_kernels_equal_reference_loops(kernel, ref, seed):
    rng = np.random.default_rng(seed)
    sizes = [0, 1, 2, 37, 300, 150]
    parts = [random_track(rng, s) for s in sizes]
    t = np.concatenate([p[0] for p in parts])
    lat = np.concatenate([p[1] for p in parts])
    lon = np.concatenate([p[2] for p in parts])
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    r, dmin, gmax, pmin = 150.0, 600, 3600, 3
    seg, first, stop, s_lat, _ = kernel(t * S, lat, lon, offsets, r, np.int64(dmin * S),
                                        np.int64(gmax * S), np.int64(pmin))
    expected = []
    for u, a in enumerate(offsets[:-1]):
        b = offsets[u + 1]
        expected += [(u, a + x, a + y, m) for x, y, m in ref(t[a:b], lat[a:b], lon[a:b], r, dmin, gmax, pmin)]
    assert [(int(s), int(f), int(e)) for s, f, e in zip(seg, first, stop)] == [e[:3] for e in expected]
    np.testing.assert_allclose(s_lat, [e[3] for e in expected], rtol=0, atol=1e-9)
    assert len(expected) > 5


def test_overlapping_intervals_hand_case():
    # user 0: [0,10] kept; [5,20] overlaps; [10,12] touches 10 -> kept; [11,30] overlaps [10,12].
    # user 1: [0,100] kept even though user 0 had later intervals.
    start = np.array([0, 5, 10, 11, 0])
    end = np.array([10, 20, 12, 30, 100])
    assert overlapping_intervals(start, end, np.array([0, 4, 5])).tolist() == [False, True, False, True, False]


@pytest.mark.parametrize("n", [7, 8, 700])
def test_median_long_groups_equal_reference(n):
    # one stationary group of n pings (heaps grow and rebalance), then a trip and another
    rng = np.random.default_rng(n)
    lat = np.concatenate([45.0 + rng.normal(0, 20 / DEG_M, n), [45.05], 45.1 + rng.normal(0, 20 / DEG_M, n)])
    lon = np.concatenate([9.0 + rng.normal(0, 30 / DEG_M, n), [9.0], 9.0 + rng.normal(0, 30 / DEG_M, n)])
    t = np.arange(lat.size, dtype=np.int64) * 10
    _, first, stop, s_lat, _ = median_stops(t * S, lat, lon, np.array([0, lat.size]), 120.0,
                                                  np.int64(60 * S), np.int64(600 * S), np.int64(2))
    expected = ref_median(t, lat, lon, 120.0, 60, 600, 2)
    assert list(zip(first.tolist(), stop.tolist())) == [(a, b) for a, b, _ in expected]
    np.testing.assert_allclose(s_lat, [m for _, _, m in expected], rtol=0, atol=1e-12)
    assert stop[0] - first[0] == n


# ---------- the distance test without trigonometry (within_m) and the one-pass scan ----------
def destination(lat, lon, bearing, distance_m):
    """The point ``distance_m`` from (lat, lon) along ``bearing`` (radians) on the sphere, degrees."""
    p, d = np.radians(lat), distance_m / EARTH_RADIUS_M
    lat2 = np.arcsin(np.sin(p) * np.cos(d) + np.cos(p) * np.sin(d) * np.cos(bearing))
    lon2 = np.radians(lon) + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(p), np.cos(d) - np.sin(p) * np.sin(lat2))
    return np.degrees(lat2), (np.degrees(lon2) + 180.0) % 360.0 - 180.0


@pytest.mark.parametrize("radius_m", [0.5, 50.0, 200.0, 5_000.0, 3e6, 2.1e7])
def test_within_m_gives_the_answer_of_the_exact_distance(radius_m):
    import math

    from mobility.kernels.geo import haversine_m_scalar, screen_terms, within_m

    rng = np.random.default_rng(int(radius_m))
    n = 20_000
    lat1 = np.concatenate([rng.uniform(-89.99, 89.99, n - 4), [89.9999, -89.9999, 0.0, 45.0]])
    lon1 = np.concatenate([rng.uniform(-180, 180, n - 4), [0.0, 179.9999, -180.0, 179.99999]])
    # distances at the radius up to rounding, just around it (inside and outside the 1e-9 margin), far
    scale = rng.choice([0.0, 1e-16, 1e-13, 1e-10, 5e-10, 1e-9, 2e-9, 1e-6, 0.3, 3.0], n) * rng.choice([-1, 1], n)
    lat2, lon2 = destination(lat1, lon1, rng.uniform(0, 2 * np.pi, n), radius_m * (1 + scale))
    a_in, a_out = screen_terms(radius_m)
    got, want = [], []
    for la1, lo1, la2, lo2 in zip(lat1, lon1, lat2, lon2):
        r1, o1 = math.radians(la1), math.radians(lo1)
        got.append(within_m(la1, lo1, r1, o1, math.cos(r1), la2, lo2, radius_m, a_in, a_out))
        want.append(haversine_m_scalar(la1, lo1, la2, lo2) < radius_m)
    assert got == want
    exact = np.array([haversine_m_scalar(*p) for p in zip(lat1, lon1, lat2, lon2)])
    if radius_m < np.pi * EARTH_RADIUS_M:  # beyond half the circumference every pair is inside
        # the pairs the bounds leave to the exact distance (inside the 1e-9 margin) are exercised
        assert np.sum(np.abs(exact / radius_m - 1) < 1e-9) > 1_000
        assert 0.2 < np.mean(want) < 0.8
    else:
        assert all(want)


def ref_sliding_exact(t, lat, lon, r, dmin, gmax, pmin):
    """The anchor loop of ``ref_sliding`` with the kernels' own distance (haversine_m_scalar)."""
    from mobility.kernels.geo import haversine_m_scalar

    out, i, n = [], 0, len(t)
    while i < n:
        j = i + 1
        while j < n and t[j] - t[j - 1] <= gmax and haversine_m_scalar(lat[i], lon[i], lat[j], lon[j]) < r:
            j += 1
        if j - i >= pmin and t[j - 1] - t[i] >= dmin:
            out.append((i, j))
        i = j
    return out


@pytest.mark.parametrize("seed", range(3))
def test_sliding_equals_the_exact_distance_loop_with_pings_on_the_radius(seed):
    # every other ping at the radius from the previous anchor, to rounding: the stops hinge on ties
    rng = np.random.default_rng(seed)
    n, r = 3_000, 100.0
    lat, lon = np.empty(n), np.empty(n)
    lat[0], lon[0] = 40.0, -75.0
    for k in range(1, n):
        base = k - 1 - (k - 1) % 3  # the ping that anchors a stay of up to three
        d = r * (1 + rng.choice([-1e-15, 0.0, 1e-15, -1e-12, 1e-12, -0.5, 0.5, 2.0]))
        lat[k], lon[k] = destination(lat[base], lon[base], rng.uniform(0, 2 * np.pi), d)
    t = np.arange(n, dtype=np.int64) * 120
    _, first, stop, _, _ = sliding_stops(t * S, lat, lon, np.array([0, n]), r, np.int64(60 * S),
                                         np.int64(3600 * S), np.int64(2))
    expected = ref_sliding_exact(t, lat, lon, r, 60, 3600, 2)
    assert list(zip(first.tolist(), stop.tolist())) == expected
    assert len(expected) > 100


def test_scan_pings_equals_the_array_checks():
    from mobility.kernels.stops import scan_pings

    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        codes = np.sort(rng.integers(0, 4, n)) if rng.random() < 0.7 else rng.integers(0, 4, n)
        t = rng.integers(0, 5, n).astype(np.int64)
        t = np.where(rng.random(n) < 0.03, np.iinfo(np.int64).min, t)
        lat = rng.choice([0.0, 45.0, 90.0, -90.0, 90.5, np.nan, np.inf], n, p=[.5, .3, .05, .05, .04, .03, .03])
        lon = rng.choice([0.0, 180.0, -180.0, 181.0, np.nan], n, p=[.8, .05, .05, .05, .05])
        bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
        same = codes[1:] == codes[:-1]
        ordered = bool(np.all(codes[1:] >= codes[:-1]) and np.all(~same | (t[1:] >= t[:-1])))
        n_bad, first_bad, missing, got_ordered, repeated = scan_pings(codes, t, lat, lon)
        assert (n_bad, first_bad) == (int(bad.sum()), int(np.argmax(bad)) if bad.any() else -1)
        assert missing == bool(np.any(t == np.iinfo(np.int64).min))
        assert got_ordered == ordered
        if ordered:
            assert repeated == bool(np.any(same & (t[1:] == t[:-1])))
