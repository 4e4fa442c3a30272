"""Kernel tests: each expected value is worked out by hand in the test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mobility.kernels import metrics as km

H = km.NS_PER_H
KM_LAT = 180.0 / math.pi / 6371.0  # degrees of latitude in 1 km on the 6371.0 km sphere


def test_split_at_bounds_cuts_and_keeps_boundaries_in_the_earlier_period():
    bounds = np.array([0, 10, 20, 30])
    # [5, 25] spans three periods; [12, 20] ends on a boundary; [20, 20] is an instant on a boundary
    src, period, start, end = km.split_at_bounds(np.array([5, 12, 20]), np.array([25, 20, 20]), bounds)
    assert src.tolist() == [0, 0, 0, 1, 2]
    assert period.tolist() == [0, 1, 2, 1, 2]
    assert start.tolist() == [5, 10, 20, 12, 20]
    assert end.tolist() == [10, 20, 25, 20, 20]


def test_split_without_crossings_is_the_identity():
    src, period, start, end = km.split_at_bounds(np.array([1, 11]), np.array([2, 19]), np.array([0, 10, 20]))
    assert src.tolist() == [0, 1] and period.tolist() == [0, 1]
    assert start.tolist() == [1, 11] and end.tolist() == [2, 19]


def test_period_rows_include_empty_periods_between_first_and_last():
    # user 0: periods 1 and 4 (rows for 1, 2, 3, 4); user 1: period 0 only
    first, offset = km.period_rows(np.array([0, 0, 1]), np.array([1, 4, 0]), np.array([1, 4, 0]), 2)
    assert first.tolist() == [1, 0]
    assert offset.tolist() == [0, 4, 5]


def test_period_rows_last_period_is_the_maximum_not_the_last_element():
    _, offset = km.period_rows(np.array([0, 0]), np.array([0, 1]), np.array([5, 2]), 1)
    assert offset.tolist() == [0, 6]


def test_segmented_cummax_and_sort_by():
    assert km.segmented_cummax(np.array([2, 9, 1, 7, 3]), np.array([0, 0, 1, 1, 1])).tolist() == [2, 9, 1, 7, 7]
    assert km.sort_by(np.array([2, 1, 2, 1]), np.array([0, 9, -1, 3])).tolist() == [3, 1, 2, 0]


def _two_places(w1, w2, distance_km=1.0):
    lat = np.array([0.0, distance_km * KM_LAT])
    return lat, np.zeros(2), np.array([w1, w2], dtype=float), np.array([0, 0])


def test_radius_two_locations_weighted_centre():
    # D = 1 km, weights 1 h and 3 h: centre 0.75 km from the first point, 0.25 km from the second
    # Rg^2 = (1 * 0.75^2 + 3 * 0.25^2) / 4 = (0.5625 + 0.1875) / 4 = 0.1875
    lat, lon, w, seg = _two_places(3600.0, 3 * 3600.0)
    rg = km.radius_of_gyration_km(lat, lon, w, seg, 1)
    assert rg[0] == pytest.approx(math.sqrt(0.1875), rel=1e-9)


def test_radius_two_locations_unweighted_centre():
    # centre at the midpoint: both points 0.5 km away, so Rg = 0.5 km whatever the weights
    lat, lon, w, seg = _two_places(1.0, 3.0)
    rg = km.radius_of_gyration_km(lat, lon, w, seg, 1, centre_weighted=False)
    assert rg[0] == pytest.approx(0.5, rel=1e-9)


def test_radius_east_west_on_the_equator():
    # 2 km apart along the equator, equal weights: Rg = 1 km
    lon = np.array([0.0, 2 * KM_LAT])
    rg = km.radius_of_gyration_km(np.zeros(2), lon, np.ones(2), np.array([0, 0]), 1)
    assert rg[0] == pytest.approx(1.0, rel=1e-9)


def test_radius_single_location_empty_segment_and_zero_weight():
    # segment 0: one place -> 0; segment 1: no entries -> NaN; segment 2: zero total weight -> NaN
    rg = km.radius_of_gyration_km(np.array([10.0, 20.0]), np.array([5.0, 6.0]), np.array([7.0, 0.0]),
                                  np.array([0, 2]), 3)
    assert rg[0] == 0.0
    assert math.isnan(rg[1]) and math.isnan(rg[2])


def test_top_k_mask_keeps_heaviest_and_breaks_ties_by_position():
    seg = np.array([0, 0, 0, 0, 1])
    w = np.array([2.0, 5.0, 2.0, 1.0, 4.0])
    # segment 0: 5 first, then the tie 2 vs 2 goes to the earlier entry (index 0)
    assert km.top_k_mask(seg, w, 2).tolist() == [True, True, False, False, True]
    assert km.top_k_mask(seg, w, 1).tolist() == [False, True, False, False, True]


def test_entropies_by_hand():
    # segment 0: weights 1, 3 -> p = 1/4, 3/4; H = 1/4 * 2 + 3/4 * log2(4/3) = 0.5 + 0.75 * 0.41504 = 0.81128
    # segment 1: three equal weights -> H = log2 3; segment 2: one location -> 0; segment 3: empty -> NaN
    w = np.array([1.0, 3.0, 2.0, 2.0, 2.0, 5.0])
    seg = np.array([0, 0, 1, 1, 1, 2])
    rnd, unc = km.entropies_bits(w, seg, 4)
    assert rnd[:3].tolist() == [1.0, pytest.approx(math.log2(3)), 0.0]
    assert unc[0] == pytest.approx(0.5 + 0.75 * math.log2(4 / 3), rel=1e-12)
    assert unc[1] == pytest.approx(math.log2(3), rel=1e-12)
    assert unc[2] == 0.0
    assert math.isnan(rnd[3]) and math.isnan(unc[3])


def test_entropies_normalised():
    w = np.array([1.0, 3.0, 2.0, 2.0, 2.0, 5.0])
    seg = np.array([0, 0, 1, 1, 1, 2])
    _, unc = km.entropies_bits(w, seg, 4, normalise=True)
    assert unc[0] == pytest.approx((0.5 + 0.75 * math.log2(4 / 3)) / 1.0)  # log2 2 = 1
    assert unc[1] == pytest.approx(1.0)
    assert unc[2] == 0.0  # one location: 0, as scikit-mobility
    assert math.isnan(unc[3])


def test_covered_hours_overlaps_nesting_pings_and_segments():
    # segment 0: 10:30-12:10 (hours 10, 11, 12), nested 11:00-11:30 (nothing new),
    #            12:50-14:00 (hour 13 new; 14:00 is excluded), ping at 20:00 (hour 20) -> 5
    # segment 1: a 2 h stop 00:00-02:00 (hours 0, 1) -> 2
    s = np.array([10 * H + H // 2, 11 * H, 12 * H + 50 * H // 60, 20 * H, 0])
    e = np.array([12 * H + H // 6, 11 * H + H // 2, 14 * H, 20 * H, 2 * H])
    assert km.covered_hours(s, e, np.array([0, 0, 0, 0, 1]), 2).tolist() == [5.0, 2.0]


def test_step_distance_restarts_per_user():
    d = km.step_distance_km(np.array([0, 0, 0, 1]), np.array([0.0, KM_LAT, 0.0, 3.0]), np.zeros(4))
    assert d.tolist() == [0.0, pytest.approx(1.0), pytest.approx(1.0), 0.0]


def test_activity_set_size_window_by_hand():
    # rows 0..4 of one user; location 0 visited in rows 0 (2 visits, 15 min) and 3 (1 visit, 15 min);
    # location 1 visited in rows 1 and 2 (1 visit, 1 h each). window 2, >= 2 visits and >= 20 min:
    # row 0: loc0 (2 visits, 15 min) fails on time -> 0
    # row 1: loc0 rows 0-1 (2, 15 min) fails; loc1 (1 visit) fails -> 0
    # row 2: loc1 rows 1-2 (2 visits, 2 h) -> 1
    # row 3: loc1 rows 2-3 (1 visit) fails; loc0 rows 2-3 (1 visit) fails -> 0
    # row 4: loc0 rows 3-4 (1 visit) fails -> 0
    cap = km.activity_set_size(np.array([0, 0, 1, 1]), np.array([0, 3, 1, 2]), np.array([2, 1, 1, 1]),
                               np.array([900.0, 900.0, 3600.0, 3600.0]), np.array([4, 4, 4, 4]), 5,
                               window=2, min_visits=2, min_dwell_s=1200.0)
    assert cap.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]


def test_activity_set_size_does_not_leak_across_locations_or_users():
    # loc 0 belongs to user 0 (rows 0-1); loc 1 to user 1 (rows 2-3); each visited once per row
    cap = km.activity_set_size(np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([1, 1, 1]),
                               np.array([3600.0] * 3), np.array([1, 1, 3]), 4,
                               window=3, min_visits=2, min_dwell_s=0.0)
    # row 1: loc0 has 2 visits -> 1; row 2: loc1 has only its own visit -> 0 (no leak from loc0)
    assert cap.tolist() == [0.0, 1.0, 0.0, 0.0]


def test_period_metrics_one_week_by_hand():
    # home (0, 0) 00:00-08:00 and 18:00-24:00, work 1 km north 09:00-17:00, one UTC week from 0
    s = np.array([0, 9 * H, 18 * H])
    e = np.array([8 * H, 17 * H, 24 * H])
    lat = np.array([0.0, KM_LAT, 0.0])
    loc = np.array([0, 1, 0])
    out = km.period_metrics(np.zeros(3, dtype=np.int64), s, e, lat, np.zeros(3), loc,
                            np.array([0.0, KM_LAT]), np.zeros(2), np.array([0, 168 * H]), n_users=1,
                            capacity_weeks=1)
    # dwell 14 h and 8 h at D = 1 km: Rg = D sqrt(ab) / (a + b) = sqrt(112) / 22
    assert out["radius_of_gyration_km"][0] == pytest.approx(math.sqrt(112) / 22, rel=1e-9)
    assert out["n_stops"].tolist() == [3]
    assert out["distinct_locations"].tolist() == [2]
    assert out["new_locations"].tolist() == [2]
    assert out["travelled_distance_km"][0] == pytest.approx(2.0, rel=1e-9)
    assert out["coverage_h"].tolist() == [22.0]
    # capacity over 1 week: home has 2 visits and 14 h; work 1 visit -> 1
    assert out["capacity"].tolist() == [1.0]
    assert math.isnan(out["time_at_home_h"][0])


class _NotNumpy:
    """numpy under another name, to run the portable (non-numpy) branches of the kernels."""

    def __getattr__(self, name):
        return getattr(np, name)


def test_portable_branches_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 100, 1000)
    assert km.cummax(x, xp=_NotNumpy()).tolist() == np.maximum.accumulate(x).tolist()
    seg = np.sort(rng.integers(0, 30, 1000))
    w = rng.integers(0, 5, 1000).astype(float)  # many ties
    assert km.top_k_mask(seg, w, 2, xp=_NotNumpy()).tolist() == km.top_k_mask(seg, w, 2).tolist()


@pytest.mark.parametrize("spread", ["city", "world", "mixed", "travellers"])
@pytest.mark.parametrize("grouped", [True, False])
def test_radius_of_gyration_cpu_twin_equals_array_version(spread, grouped):
    """The numba twin and the bincount formulation (the one CuPy runs) agree on random data: within a city
    (the twin's power-series path), across the world (its libm path: half-angles above 0.02 rad), segments
    of both kinds, one row in ten far away in every segment, rows grouped by segment or shuffled (runs of one
    row)."""
    rng = np.random.default_rng(3)
    n, n_seg = 5000, 40
    seg = np.sort(rng.integers(0, n_seg - 1, n))  # the last segment is empty: NaN in both
    lat, lon = rng.uniform(39.8, 40.1, n), rng.uniform(-75.3, -75.0, n)
    wide = {"city": seg < 0, "world": seg >= 0, "mixed": seg % 2 == 1, "travellers": rng.random(n) < 0.1}[spread]
    lat[wide], lon[wide] = rng.uniform(-60.0, 70.0, wide.sum()), rng.uniform(-170.0, 170.0, wide.sum())
    if not grouped:
        order = rng.permutation(n)
        lat, lon, seg = lat[order], lon[order], seg[order]
    for weight in (None, rng.uniform(0.1, 5.0, n)):
        for centre_weighted in (True, False):
            twin = km.radius_of_gyration_km(lat, lon, weight, seg, n_seg, centre_weighted=centre_weighted)
            arrays = km.radius_of_gyration_km(lat, lon, weight, seg, n_seg, centre_weighted=centre_weighted,
                                              xp=_NotNumpy())
            np.testing.assert_allclose(twin, arrays, rtol=1e-12, equal_nan=True)
            assert np.isnan(twin[-1])


def test_radius_series_path_matches_libm_haversine_at_its_limit():
    """Two points whose half-angle differences to their centre sit just inside and just outside 0.02 rad
    (the series limit) in latitude and in longitude: Rg is half their haversine distance either way."""
    for delta_rad in (0.0399, 0.0401):
        d_deg = math.degrees(delta_rad)
        for lat, lon in (([40.0, 40.0 + 2 * d_deg], [-75.0, -75.0]), ([0.0, 0.0], [10.0, 10.0 + 2 * d_deg])):
            expected_km = 2 * 6371.0 * math.asin(math.sqrt(
                math.sin(math.radians(lat[1] - lat[0]) / 2) ** 2 + math.cos(math.radians(lat[0]))
                * math.cos(math.radians(lat[1])) * math.sin(math.radians(lon[1] - lon[0]) / 2) ** 2)) / 2
            rg = km.radius_of_gyration_km(np.array(lat), np.array(lon), None, np.array([0, 0]), 1)
            assert rg[0] == pytest.approx(expected_km, rel=1e-12)
