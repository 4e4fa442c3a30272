"""Kernels of home/work detection: hourly bins, daily shares, rolling windows (hand-worked cases)."""

import numpy as np
import pytest

from mobility.kernels.home_work import (
    daily_location_shares,
    hour_bin_locations,
    rolling_window_labels,
)

H = 3600
D = 86400


def _bins(stops, n_rows=3, base_row=0):
    s = np.array([a for a, _, _ in stops], dtype=np.int64)
    e = np.array([b for _, b, _ in stops], dtype=np.int64)
    loc = np.array([c for _, _, c in stops], dtype=np.int64)
    return hour_bin_locations(s, e, loc, np.full(len(stops), base_row, np.int64), n_rows)


def test_bin_goes_to_longest_overlap():
    # bin 0: loc 1 overlaps 30 min, loc 2 overlaps 20 min -> loc 1
    bins = _bins([(600, 2400, 1), (2400, 3600, 2)], n_rows=1)
    assert bins[0, 0] == 1
    assert (bins[0, 1:] == -1).all()


def test_tie_goes_to_earlier_stop_and_end_is_exclusive():
    # 00:00-01:30 loc 5, 01:30-02:00 loc 7: bin 1 has 30 min each -> the earlier stop (loc 5);
    # the second stop ends exactly at 02:00, so bin 2 has no data.
    bins = _bins([(0, 5400, 5), (5400, 7200, 7)], n_rows=1)
    assert bins[0, :3].tolist() == [5, 5, -1]


def test_one_second_overlap_is_data():
    bins = _bins([(3 * H - 1, 3 * H + 1, 4)], n_rows=1)
    assert bins[0, 2] == 4 and bins[0, 3] == 4


def test_zero_length_stop_covers_nothing():
    assert (_bins([(H, H, 4)], n_rows=1) == -1).all()


def test_split_at_local_midnight_over_days():
    # 22:30 day 0 to 01:15 day 2 at loc 3 -> day 0 bins 22-23, day 1 all 24, day 2 bins 0-1
    bins = _bins([(22 * H + 1800, 2 * D + H + 900, 3)])
    assert bins[0].tolist() == [-1] * 22 + [3, 3]
    assert bins[1].tolist() == [3] * 24
    assert bins[2].tolist() == [3, 3] + [-1] * 22


def test_rows_of_second_user_use_base_row():
    # user with first day = day 100 whose rows start at row 2: base_row = 2 - 100
    bins = hour_bin_locations(
        np.array([100 * D + 5 * H]), np.array([100 * D + 6 * H]), np.array([9]), np.array([2 - 100]), 3
    )
    assert bins[2, 5] == 9 and (bins[:2] == -1).all()



def test_bins_of_random_stops_match_a_direct_count():
    # 3 users of 5 days each (first days 100, 230, 400 -> base rows -100, -225, -390), stops of up to 40 h
    # sorted by user then start, some overlapping and some of zero length; each bin checked against the
    # overlaps counted from the stops' day and hour of day
    rng = np.random.default_rng(11)
    starts, ends, locs, bases = [], [], [], []
    for first_day, base in ((100, -100), (230, -225), (400, -390)):
        s = np.sort(rng.integers(first_day * D, (first_day + 3) * D, 30))
        starts += s.tolist()
        ends += (s + rng.integers(0, 40 * H, 30)).clip(max=(first_day + 5) * D).tolist()
        locs += rng.integers(0, 6, 30).tolist()
        bases += [base] * 30
    bins = hour_bin_locations(np.array(starts), np.array(ends), np.array(locs), np.array(bases), 15)
    expected = np.full((15, 24), -1)
    best = np.zeros((15, 24), dtype=np.int64)
    for s, e, loc, base in zip(starts, ends, locs, bases):
        for day in range(s // D, (e - 1) // D + 1 if e > s else s // D):
            for hour in range(24):
                lo, hi = day * D + hour * H, day * D + (hour + 1) * H
                overlap = min(e, hi) - max(s, lo)
                if overlap > best[base + day, hour]:
                    best[base + day, hour], expected[base + day, hour] = overlap, loc
    assert np.array_equal(bins, expected)
    assert (bins >= 0).sum() > 100 and (bins == -1).sum() > 10

def test_daily_shares_c_hours_threshold():
    bins = np.full((3, 24), -1, dtype=np.int64)
    bins[0, [0, 1]] = 1          # 2/7 = 0.29 of night bins -> invalid at C_hours 0.4
    bins[1, [0, 1]] = 1          # 3/7 = 0.43 -> valid: loc 1 has 2/3, loc 2 1/3
    bins[1, 6] = 2
    bins[2, :7] = 3              # all night at loc 3, but not eligible
    valid, row, loc, share = daily_location_shares(bins, np.arange(7), 0.4, np.array([True, True, False]))
    assert valid.tolist() == [False, True, False]
    assert row.tolist() == [1, 1] and loc.tolist() == [1, 2]
    assert share == pytest.approx([2 / 3, 1 / 3])


def test_daily_shares_work_hours_nine_bins():
    bins = np.full((2, 24), -1, dtype=np.int64)
    bins[0, 9:12] = 4            # 3/9 = 0.33 -> invalid
    bins[1, 9:13] = 4            # 4/9 = 0.44 -> valid, all at loc 4
    valid, row, loc, share = daily_location_shares(bins, np.arange(9, 18), 0.4, np.ones(2, dtype=bool))
    assert valid.tolist() == [False, True]
    assert share.tolist() == [1.0]


def _window(valid, recs, before, after, c_days, f_hours, f_days=0.0, by_days=False, eligible=None):
    """recs: per row, a dict {code: share}. One user."""
    n = len(valid)
    eligible = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible)
    ptr, code, share = [0], [], []
    for d in recs:
        for k in sorted(d):
            code.append(k)
            share.append(d[k])
        ptr.append(len(code))
    n_codes = max(code) + 1 if code else 0
    return rolling_window_labels(
        np.array([0, n]), eligible, np.asarray(valid), np.array(ptr, np.int64), np.array(code, np.int64),
        np.array(share, np.float64), np.array([0, n_codes]), before, after, c_days, f_hours, f_days, by_days,
    ).tolist()


def test_window_mean_share_and_coverage_by_hand():
    # window +-1 day. Day shares of loc 0: 1, 0.5, (missing), 1 ; loc 1: 0, 0.5, -, 0
    valid = [True, True, False, True]
    recs = [{0: 1.0}, {0: 0.5, 1: 0.5}, {}, {0: 1.0}]
    # day 0: days 0-1 valid 2/2, loc 0 mean 0.75 >= 0.7
    # day 1: days 0-2 valid 2/3 = 0.67 >= 0.4, mean 0.75
    # day 2: days 1-3 valid 2/3, loc 0 mean (0.5 + 1)/2 = 0.75
    # day 3: days 2-3 valid 1/2, mean 1
    assert _window(valid, recs, 1, 1, 0.4, 0.7) == [0, 0, 0, 0]
    # coverage 0.7: days 1, 2 (2/3) and 3 (1/2) have too little data (-2, not -1 "no place passes")
    assert _window(valid, recs, 1, 1, 0.7, 0.7) == [0, -2, -2, -2]
    # f_hours 0.8: only day 3 (mean 1) passes
    assert _window(valid, recs, 1, 1, 0.4, 0.8) == [-1, -1, -1, 0]


def test_window_days_visited_rank_and_threshold():
    # 4 valid days; loc 0 visited on 3 days with share 0.3, loc 1 on 2 days with share 1.0
    valid = [True] * 4
    recs = [{0: 0.3, 1: 0.7}, {0: 0.3, 1: 0.7}, {0: 0.3}, {}]
    # whole window (+-3): loc 0 hours 0.9/4 = 0.225, days 0.75; loc 1 hours 1.4/4 = 0.35, days 0.5
    assert _window(valid, recs, 3, 3, 0.5, 0.2, 0.5, True) == [0] * 4      # both pass; loc 0 more days
    assert _window(valid, recs, 3, 3, 0.5, 0.3, 0.5, True) == [1] * 4      # loc 0 fails f_hours
    assert _window(valid, recs, 3, 3, 0.5, 0.3, 0.6, True) == [-1] * 4     # loc 1 fails f_days
    assert _window(valid, recs, 3, 3, 0.5, 0.2, 0.0, False) == [1] * 4     # ranked by hours share


def test_window_ineligible_days_do_not_count():
    # days 0-6 with only days 0 and 1 eligible (weekdays), both valid at loc 0
    valid = [True, True] + [False] * 5
    recs = [{0: 1.0}, {0: 1.0}] + [{}] * 5
    elig = [True, True] + [False] * 5
    assert _window(valid, recs, 10, 10, 0.5, 0.4, 0.6, True, eligible=elig) == [0] * 7


def test_window_tie_goes_to_smaller_code():
    assert _window([True], [{0: 0.5, 1: 0.5}], 0, 0, 0.1, 0.3) == [0]


def test_past_only_window_extent():
    valid = [True, False, False, False]
    recs = [{0: 1.0}, {}, {}, {}]
    # window = 2 past days + the day: day 2 sees days 0-2 (1/3 valid), day 3 sees 1-3 (0/3: no data)
    assert _window(valid, recs, 2, 0, 0.3, 0.7) == [0, 0, 0, -2]
