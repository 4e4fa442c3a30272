import numpy as np

from mobility.kernels.daytime import daytime_day_sums


def test_daytime_day_sums_hand_built():
    # user 0 works 8-12 at 0.5 a hour on Mondays and Tuesdays (profile); user 1 has no usual hours.
    # row 0: user 0's Monday: at work (5) 8-9, elsewhere (7) 10, at home (0) 11; 9 without data
    # row 1: user 0's Sunday (a day off, read in the mean usual day 8-12): elsewhere (7) at 9, home 10
    # row 2: user 1's Monday, home unknown (-1): at code 4 all day; no interest anywhere
    # row 3: user 0's Tuesday, no home and no reference: seen at 2 from 8 to 12
    profile = np.zeros((2, 7, 24))
    profile[0, 0:2, 8:12] = 0.5
    mean_day = np.zeros((2, 24))
    mean_day[0, 8:12] = 0.5
    bins = np.full((4, 24), -1)
    bins[0, 8], bins[0, 10], bins[0, 11] = 5, 7, 0
    bins[1, 9], bins[1, 10] = 7, 0
    bins[2, :] = 4
    bins[3, 8:12] = 2
    out = daytime_day_sums(bins, np.array([0, 0, -1, -1]), np.array([5, 5, -1, -1]), profile, mean_day,
                           np.array([0, 0, 1, 0]), np.array([0, 6, 0, 1]), np.array([True, False, False, True]))
    seen_h, expected_h, home_h, other_h, any_other, seen_all_h, any_other_all, row, hour, weight = out
    assert seen_h.tolist() == [1.5, 1.0, 0.0, 2.0]
    assert seen_all_h.tolist() == [3, 2, 24, 4]  # every hour with data, interest or not
    assert any_other_all.tolist() == [True, True, True, True]
    assert expected_h.tolist() == [2.0, 2.0, 0.0, 2.0]
    assert home_h.tolist() == [0.5, 0.5, 0.0, 0.0]
    assert other_h.tolist() == [0.5, 0.5, 0.0, 2.0]
    assert any_other.tolist() == [True, True, False, True]   # row 2: elsewhere, but with no interest
    # usual days only (rows 0 and 3), seen away from home with interest: row 0 at 8 (work) and 10 (elsewhere)
    assert row.tolist() == [0, 0, 3, 3, 3, 3]
    assert hour.tolist() == [8, 10, 8, 9, 10, 11]
    assert weight.tolist() == [0.5] * 6


def test_daytime_day_sums_equal_numpy_bit_for_bit():
    # irregular weights, so the order of the additions shows in the last bits
    rng = np.random.default_rng(3)
    n_users, n_rows = 40, 3000
    profile = rng.random((n_users, 7, 24)) * (rng.random((n_users, 7, 24)) < 0.4)
    profile[:5] = 0.0
    mean_day = rng.random((n_users, 24)) / 3.0
    row_user = np.sort(rng.integers(0, n_users, n_rows))
    weekday = rng.integers(0, 7, n_rows)
    bins = rng.integers(-1, 4, (n_rows, 24))
    home = rng.integers(-1, 4, n_rows)
    reference = rng.integers(-1, 4, n_rows)
    usual = profile[row_user, weekday].sum(axis=1) > 0
    seen_h, expected_h, home_h, other_h, any_other, seen_all_h, any_other_all, row, hour, weight = daytime_day_sums(
        bins, home, reference, profile, mean_day, row_user, weekday, usual)

    interest = np.where(usual[:, None], profile[row_user, weekday], mean_day[row_user])
    seen = bins >= 0
    at_home = seen & (bins == home[:, None]) & (home[:, None] >= 0)
    at_work = seen & (bins == reference[:, None]) & (reference[:, None] >= 0)
    other = seen & ~at_home & ~at_work
    assert seen_h.tobytes() == (interest * seen).sum(axis=1).tobytes()
    assert expected_h.tobytes() == interest.sum(axis=1).tobytes()
    assert home_h.tobytes() == (interest * at_home).sum(axis=1).tobytes()
    assert other_h.tobytes() == (interest * other).sum(axis=1).tobytes()
    assert np.array_equal(any_other, (other & (interest > 0)).any(axis=1))
    assert np.array_equal(seen_all_h, seen.sum(axis=1)) and np.array_equal(any_other_all, other.any(axis=1))
    r, hh = np.nonzero(seen & ~at_home & (interest > 0) & usual[:, None])
    assert np.array_equal(row, r) and np.array_equal(hour, hh)
    assert weight.tobytes() == interest[r, hh].tobytes()
    assert 0 < usual.sum() < n_rows and row.size > 0


def test_daytime_day_sums_no_rows():
    out = daytime_day_sums(np.zeros((0, 24), np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                           np.zeros((0, 7, 24)), np.zeros((0, 24)), np.zeros(0, np.int64), np.zeros(0, np.int64),
                           np.zeros(0, bool))
    assert [v.size for v in out] == [0] * 10
