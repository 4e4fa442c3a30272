"""kernels/visits: merge runs (hand cases, a plain-loop reference) and merged coordinates (hand values)."""

from __future__ import annotations

import numpy as np

from mobility.kernels.visits import merge_run_starts, merged_coordinates


def loop_run_starts(user, loc, start, end, max_gap):
    """Reference: walk the rows, open a new visit unless the row continues the previous one."""
    firsts = []
    for i in range(len(user)):
        cont = (i > 0 and user[i] == user[i - 1] and loc[i] == loc[i - 1] and loc[i] >= 0
                and start[i] - end[i - 1] <= max_gap)
        if not cont:
            firsts.append(i)
    return firsts


def test_hand_cases():
    user = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    loc = np.array([3, 3, 3, 4, 3, -1, 3, 3])
    start = np.array([0, 12, 25, 30, 40, 60, 61, 70])
    end = np.array([10, 20, 28, 35, 50, 65, 65, 80])
    # 0-1-2: gaps 2 and 5 <= 5 (the limit is inclusive), one run of three; 3: another location; 4: location 3
    # again but after 3; 5: noise; 6: another user (gap 11 anyway); 7: gap 5 from 6 -> merged with 6
    assert merge_run_starts(user, loc, start, end, 5).tolist() == [0, 3, 4, 5, 6]
    assert merge_run_starts(user, loc, start, end, 4).tolist() == [0, 2, 3, 4, 5, 6, 7]
    assert merge_run_starts(user, loc, start, end, 0).tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    # noise never merges, even back to back at the "same" location -1
    assert merge_run_starts(np.zeros(2, int), np.array([-1, -1]), np.array([0, 1]), np.array([1, 2]),
                            100).tolist() == [0, 1]
    assert merge_run_starts(np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), 5).size == 0


def test_matches_the_loop_reference():
    rng = np.random.default_rng(7)
    n = 3000
    user = np.sort(rng.integers(0, 40, n))
    loc = rng.integers(-1, 3, n)
    dur = rng.integers(1, 50, n)
    gap = rng.integers(0, 40, n)
    start = np.cumsum(dur + gap)
    end = start + dur  # start[i] - end[i - 1] = gap[i] - dur[i - 1] + dur[i]: some negative (overlaps), on purpose
    for max_gap in (0, 10, 25, 100):
        assert merge_run_starts(user, loc, start, end, max_gap).tolist() == loop_run_starts(
            user, loc, start, end, max_gap)


def test_merged_coordinates_hand_values():
    # run 0: rows 0-2, weights 1, 2, 1 -> lat (10 + 2*12 + 14) / 4 = 12, lon (20 + 2*22 + 24) / 4 = 22
    # run 1: row 3 alone
    # run 2: rows 4-5 with zero weights -> plain mean
    lat = np.array([10.0, 12.0, 14.0, -5.0, 1.0, 2.0])
    lon = np.array([20.0, 22.0, 24.0, 7.0, 3.0, 5.0])
    w = np.array([1.0, 2.0, 1.0, 9.0, 0.0, 0.0])
    got_lat, got_lon = merged_coordinates(lat, lon, w, np.array([0, 3, 4]))
    np.testing.assert_allclose(got_lat, [12.0, -5.0, 1.5])
    np.testing.assert_allclose(got_lon, [22.0, 7.0, 4.0])


def test_merged_coordinates_across_the_antimeridian():
    # 179.8 and -179.8 are 0.4 degrees apart across 180; equal weights -> 180 (written -180)
    lat, lon = merged_coordinates(np.array([0.0, 0.0]), np.array([179.8, -179.8]), np.ones(2), np.array([0]))
    assert abs(abs(lon[0]) - 180.0) < 1e-9 and lat[0] == 0.0
    # weights 3:1 -> 179.8 + 0.4 / 4 = 179.9
    _, lon = merged_coordinates(np.array([0.0, 0.0]), np.array([179.8, -179.8]), np.array([3.0, 1.0]),
                                np.array([0]))
    np.testing.assert_allclose(lon, [179.9])
