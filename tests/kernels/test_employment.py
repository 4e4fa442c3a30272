import numpy as np

from mobility.kernels.employment import column_ols, day_pieces, event_runs


def test_day_pieces_multi_day_stay():
    # 2.5 days from 12:00 on day 3: 12 h, 24 h, 24 h, 0 h? no: ends at 00:00 of day 6 -> three pieces
    r, d, o, w = day_pieces(np.array([3 * 86400 + 43200]), np.array([6 * 86400]), 9 * 3600, 18 * 3600)
    assert d.tolist() == [3, 4, 5]
    assert o.tolist() == [43200.0, 86400.0, 86400.0]
    assert w.tolist() == [6 * 3600.0, 9 * 3600.0, 9 * 3600.0]


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


def test_column_ols_matches_polyfit():
    rng = np.random.default_rng(1)
    x = rng.random(40)
    y = rng.random((40, 3))
    mask = rng.random((40, 3)) < 0.7
    a, b, se, n = column_ols(y, x, mask)
    for j in range(3):
        slope, icept = np.polyfit(x[mask[:, j]], y[mask[:, j], j], 1)
        assert np.isclose(b[j], slope) and np.isclose(a[j], icept) and n[j] == mask[:, j].sum()
