"""The grid DBSCAN kernel against scikit-learn's DBSCAN (k-d tree), label for label."""

import numpy as np
import pytest
from sklearn.cluster import DBSCAN

from mobility.kernels.clusters import dbscan_labels


def sklearn_labels(x, y, z, offsets, eps, min_samples):
    """What mobility.locations ran before the grid: one DBSCAN over all users, a fourth coordinate
    keeping users apart; labels mapped to the lowest core row of each cluster (the kernel's labels)."""
    user = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets)).astype(float)
    xyzu = np.column_stack((x, y, z, 4.0 * 6_371_000.0 * user))
    model = DBSCAN(eps=eps, min_samples=min_samples, algorithm="kd_tree").fit(xyzu)
    core = np.zeros(len(x), dtype=bool)
    core[model.core_sample_indices_] = True
    out = np.full(len(x), -1, dtype=np.int64)
    for label in np.unique(model.labels_[model.labels_ >= 0]):
        members = model.labels_ == label
        out[members] = np.flatnonzero(members & core).min()
    return out


def points(rng, n_users, spread_m, noise_m, max_stops=80):
    """Users with stops scattered around a few places on a sphere of Earth's radius (near 45 N)."""
    xs, ys, zs, offsets = [], [], [], [0]
    for _ in range(n_users):
        n = int(rng.integers(1, max_stops))
        places = rng.uniform(-spread_m, spread_m, size=(int(rng.integers(1, 8)), 3))
        xyz = places[rng.integers(0, len(places), n)] + rng.normal(0, noise_m, size=(n, 3))
        lat, lon = np.radians(45.0) + xyz[:, 0] / 6.371e6, np.radians(9.0) + xyz[:, 1] / 4.5e6
        r = 6_371_000.0
        xs.append(r * np.cos(lat) * np.cos(lon))
        ys.append(r * np.cos(lat) * np.sin(lon))
        zs.append(r * np.sin(lat))
        offsets.append(offsets[-1] + n)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(zs), np.array(offsets)


@pytest.mark.parametrize("min_samples", [1, 2, 3, 5])
@pytest.mark.parametrize("eps", [100.0, 30.0, 0.5])
def test_equals_sklearn_dbscan(min_samples, eps):
    rng = np.random.default_rng(int(eps * 10) + min_samples)
    x, y, z, offsets = points(rng, 60, spread_m=400.0, noise_m=eps * 0.6)
    got = dbscan_labels(x, y, z, offsets, eps, min_samples)
    np.testing.assert_array_equal(got, sklearn_labels(x, y, z, offsets, eps, min_samples))


def test_dense_places_and_ties_at_one_point():
    # hundreds of stops at exactly the same coordinate, and borders between two clusters
    rng = np.random.default_rng(7)
    x, y, z, offsets = points(rng, 20, spread_m=150.0, noise_m=2.0, max_stops=400)
    x[5:40] = x[5]
    y[5:40] = y[5]
    z[5:40] = z[5]
    for min_samples in (1, 4, 50):
        np.testing.assert_array_equal(dbscan_labels(x, y, z, offsets, 50.0, min_samples),
                                      sklearn_labels(x, y, z, offsets, 50.0, min_samples))


def test_a_border_point_joins_the_cluster_with_the_lowest_core_row():
    # on a line, eps 150, min_samples 4: the cores are 300 (row 0) and 0 (row 4), each with two border points
    # on its far side; 150 (row 3) reaches both cores but has only three neighbours: it joins row 0's cluster
    x = np.array([300.0, 301.0, 302.0, 150.0, 0.0, -1.0, -2.0])
    zero = np.zeros(7)
    got = dbscan_labels(x, zero, zero, np.array([0, 7]), 150.0, 4)
    assert got.tolist() == sklearn_labels(x, zero, zero, np.array([0, 7]), 150.0, 4).tolist() == [0, 0, 0, 0, 4, 4, 4]


def test_users_never_share_a_cluster_and_no_points():
    x = np.array([0.0, 0.0, 0.0])
    zero = np.zeros(3)
    assert dbscan_labels(x, zero, zero, np.array([0, 1, 3]), 10.0, 1).tolist() == [0, 1, 1]
    assert dbscan_labels(np.zeros(0), np.zeros(0), np.zeros(0), np.array([0]), 10.0, 1).tolist() == []
