import numpy as np
import pytest

from mobility.kernels.employment import column_ls2, event_runs, window_mean, workday_attendance


def test_workday_attendance_weights_and_observation():
    # a night profile (22-23 at 1, 0-5 at 0.5); day 0: at work 22-23 only; day 1: home (0) 0-5 and 22-23;
    # day 2: home only 12-18 (no usual hour seen); reference 3 on days 0-1, none on day 2
    profile = np.zeros((3, 24))
    profile[:, 22:24] = 1.0
    profile[:, 0:6] = 0.5
    bins = np.full((3, 24), -1)
    bins[0, 22:24] = 3
    bins[1, 0:6] = 0
    bins[1, 22:24] = 0
    bins[2, 12:18] = 0
    e, o, seen, at, ah = workday_attendance(bins, np.array([3, 3, -1]), profile, 4.0)
    assert e.tolist() == [5.0, 5.0, 5.0]
    assert o.tolist() == [2.0, 5.0, 0.0]                 # day 0: 2 h of 5 seen, but seen at work -> observed
    assert seen.tolist() == [True, True, False] and at.tolist() == [True, False, False]
    assert ah.tolist() == [2.0, 0.0, 0.0]
    # with a share of 0.5: day 1 still observed (5 of 5 h); 2 of 5 h seen at home would not be (2 < 2.5)
    bins[2, 22:24] = 0
    _, o, seen, _, _ = workday_attendance(bins, np.array([3, 3, -1]), profile, 1.0, 0.5)
    assert o.tolist() == [2.0, 5.0, 2.0] and seen.tolist() == [True, True, False]
    # a day with fewer usual hours than min_observed_h needs all of them
    e, o, seen, _, _ = workday_attendance(np.zeros((1, 24), np.int64), np.array([-1]), profile[:1] * 0.1, 4.0)
    assert seen.tolist() == [True] and e[0] == pytest.approx(0.5)


def test_event_runs_reference_loop():
    rng = np.random.default_rng(0)
    zero = rng.random((50, 20)) < 0.5
    cov = rng.random((50, 20)) < 0.8
    got = event_runs(zero, cov, 3)
    for u in range(50):  # plain reference: list covered weeks, find runs of zero among them
        idx = [w for w in range(20) if cov[u, w]]
        expect = [-1] * 20
        i = 0
        while i < len(idx):
            if zero[u, idx[i]]:
                j = i
                while j + 1 < len(idx) and zero[u, idx[j + 1]]:
                    j += 1
                if j - i + 1 >= 3:
                    for w in range(idx[i], idx[j] + 1):
                        expect[w] = idx[i]
                i = j + 1
            else:
                i += 1
        assert got[u].tolist() == expect


def test_column_ls2_matches_statsmodels_per_column():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(1)
    u, x = rng.random((40, 5)), rng.random(40)
    y = rng.random((40, 5))
    mask = rng.random((40, 5)) < 0.7
    a, b, sa, sb, n = column_ls2(y, u, x, mask)
    for j in range(5):
        m = mask[:, j]
        fit = sm.OLS(y[m, j], np.column_stack([u[m, j], x[m]])).fit()
        assert np.allclose([a[j], b[j]], fit.params) and np.allclose([sa[j], sb[j]], fit.bse)
        assert n[j] == m.sum()


def test_window_mean_skips_missing_values_and_cuts_at_the_edges():
    a = np.array([np.nan, 2.0, 4.0, np.nan, np.nan, np.nan, 9.0])
    expect = [3.0, 3.0, 3.0, 3.0, (4.0 + 9.0) / 2, 9.0, 9.0]  # window of 5 positions, NaN skipped
    assert window_mean(a, 2).tolist() == pytest.approx(expect)
    assert np.isnan(window_mean(np.array([np.nan, np.nan]), 1)).all()
    assert window_mean(a, 0)[1:3].tolist() == [2.0, 4.0]


def test_calibrated_draws_equal_numpys_float32_steps_bit_for_bit():
    from mobility.kernels.employment import calibrated_draws

    rng = np.random.default_rng(0)
    n, n_t, n_r, n_c = 400, 9, 3, 50
    p = rng.random((n, n_t))
    p[rng.random((n, n_t)) < 0.2] = np.nan
    p[rng.random((n, n_t)) < 0.1] = 0.0
    p[rng.random((n, n_t)) < 0.1] = 1.0
    cell = rng.integers(0, n_c, (n, n_t))
    shift_p = rng.normal(0, 0.3, (n_r, n_c)).astype(np.float32)
    shift_p[:, :5] = -0.0
    shift_out = (rng.random((n_r, n_c)) * 0.3).astype(np.float32)
    u = rng.random((n_r, n)).astype(np.float32)
    inside = np.isfinite(p)
    p0 = np.nan_to_num(p).astype(np.float32)
    lf = np.where(inside[None], 1.0 - np.take(shift_out, cell, axis=1), 0.0).astype(np.float32)
    pb = np.where(inside[None], np.clip(p0[None] + np.take(shift_p, cell, axis=1), 0.0, lf), 0.0)
    drawn = (u[:, :, None] < pb).astype(np.float32) * inside
    got = calibrated_draws(p0, cell, inside, shift_p, shift_out, u)
    buffers = tuple(np.full(n_r * n * n_t + 5, 7.0, np.float32) for _ in range(3))
    into = calibrated_draws(p0, cell, inside, shift_p, shift_out, u, out=buffers)
    for want, a, b in zip((pb, lf, drawn), got, into):
        assert want.dtype == a.dtype == b.dtype == np.float32
        assert want.tobytes() == a.tobytes() == b.tobytes()
    assert (pb[:, ~inside] == 0).all() and 0 < drawn.mean() < 1
    assert len(calibrated_draws(p0, cell, inside, shift_p, shift_out)) == 2


def test_workday_attendance_sums_equal_numpy_bit_for_bit():
    # irregular weights, so the order of the additions shows in the last bits
    rng = np.random.default_rng(5)
    n_rows = 4000
    profile = rng.random((n_rows, 24)) * (rng.random((n_rows, 24)) < 0.5)
    bins = rng.integers(-1, 4, (n_rows, 24))
    reference = rng.integers(-1, 4, n_rows)
    e, o, seen, at, ah = workday_attendance(bins, reference, profile, 2.0, 0.3)
    mask_at = (bins == reference[:, None]) & (reference[:, None] >= 0)
    assert e.tobytes() == profile.sum(axis=1).tobytes()
    assert o.tobytes() == (profile * (bins >= 0)).sum(axis=1).tobytes()
    assert ah.tobytes() == (profile * mask_at).sum(axis=1).tobytes()
    assert np.array_equal(at, mask_at.any(axis=1))
    need = np.maximum(np.minimum(2.0, e), 0.3 * e)
    assert np.array_equal(seen, mask_at.any(axis=1) | ((e > 0) & (o >= need - 1e-9)))
    assert 0 < at.sum() < n_rows and 0 < (seen & ~at).sum()
