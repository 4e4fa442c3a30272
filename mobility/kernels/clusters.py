"""DBSCAN of many users' points at once on a grid: the clusters of scikit-learn's ``DBSCAN``, without a tree.

Points are 3-D (metres), grouped by user: user ``u`` owns rows ``offsets[u]:offsets[u + 1]`` and no
neighbourhood spans two users. Two points are neighbours when ``dx*dx + dy*dy + dz*dz <= eps*eps`` in
float64, summed in that order: the test scikit-learn's k-d tree applies to the points of a leaf (its
bounding-box shortcuts agree with it except for distances within rounding of ``eps``). DBSCAN then, as
``sklearn.cluster.DBSCAN``:

* a *core* point has at least ``min_samples`` neighbours, itself included;
* a cluster is a connected component of core points (core neighbours of core neighbours ...);
* a non-core point within ``eps`` of a core point is a *border* point of that core's cluster; next to
  several clusters it joins the one scikit-learn expands first, the cluster whose lowest core row is
  lowest; every other point is noise (-1).

Each point's label is the lowest row of a core point of its cluster (so labels are row numbers, unique
across users, not 0, 1, 2, ...), -1 for noise.

The grid: cubes of side ``eps / sqrt(3)`` (shrunk by one part in a million), so any two points of one cube
are neighbours and a point's neighbours lie within two cubes in each direction. A user's cubes are sorted
once; a cube joins a neighbouring one as soon as one pair of their points is close enough (a union-find
over rows whose root is the lowest row). A cube of many stops at one place costs one test against each
neighbouring cube, not one per pair of stops, which is where a k-d tree spends its time on stop data.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# cubes are shrunk by this share so that two points of one cube are neighbours after rounding too; below
# a radius of TRUST_CELLS_M metres the rounding of coordinates near 6.4e6 m could exceed it, and pairs within
# one cube are tested like any other
_SHRINK = 1e-6
TRUST_CELLS_M = 1.0


def dbscan_labels(x: np.ndarray, y: np.ndarray, z: np.ndarray, offsets: np.ndarray, eps: float,
                  min_samples: int) -> np.ndarray:
    """DBSCAN cluster label of every point, users apart (see the module docstring).

    Parameters
    ----------
    x, y, z : ndarray of float64
        Coordinates in metres (e.g. on the Earth's sphere), rows grouped by user.
    offsets : ndarray of int64
        ``n_users + 1`` row offsets: user ``u`` owns rows ``offsets[u]:offsets[u + 1]``.
    eps : float
        Neighbourhood radius (same unit), > 0.
    min_samples : int
        Neighbours (itself included) that make a point core, >= 1.

    Returns
    -------
    ndarray of int64
        Per point, the lowest row of a core point of its cluster, -1 for noise.

    Examples
    --------
    >>> x = np.array([0.0, 60.0, 120.0, 1000.0, 0.0])   # user 0: a chain of three and a lone point
    >>> zero = np.zeros(5)
    >>> dbscan_labels(x, zero, zero, np.array([0, 4, 5]), 100.0, 1).tolist()
    [0, 0, 0, 3, 4]
    >>> dbscan_labels(x, zero, zero, np.array([0, 4, 5]), 100.0, 3).tolist()   # 60 is the only core point
    [1, 1, 1, -1, -1]
    """
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    side = eps / math.sqrt(3.0) * (1.0 - _SHRINK)
    cx, cy, cz = (np.floor(v / side).astype(np.int64) for v in (x, y, z))
    user = np.repeat(np.arange(offsets.shape[0] - 1), np.diff(offsets))
    order = np.lexsort((cz, cy, cx, user))
    return _dbscan_sorted(x, y, z, cx, cy, cz, user, offsets, order, float(eps) * float(eps), int(min_samples),
                          eps >= TRUST_CELLS_M)


@numba.njit(cache=True, inline="always")
def _close(x, y, z, p, q, eps2):
    dx = x[p] - x[q]
    dy = y[p] - y[q]
    dz = z[p] - z[q]
    return dx * dx + dy * dy + dz * dz <= eps2


@numba.njit(cache=True, inline="always")
def _find(parent, p):
    while parent[p] != p:
        parent[p] = parent[parent[p]]  # path halving
        p = parent[p]
    return p


@numba.njit(cache=True, inline="always")
def _union(parent, p, q):
    """Join the sets of p and q; the root is the lower row. True if they were apart."""
    rp = _find(parent, p)
    rq = _find(parent, q)
    if rp == rq:
        return False
    if rp < rq:
        parent[rq] = rp
    else:
        parent[rp] = rq
    return True


@numba.njit(cache=True, inline="always")
def _near(ccx, ccy, ccz, c, d):
    return abs(ccy[c] - ccy[d]) <= 2 and abs(ccz[c] - ccz[d]) <= 2 and abs(ccx[c] - ccx[d]) <= 2


@numba.njit(cache=True)
def _join_cubes(x, y, z, order, start, core, parent, c, d, eps2, trust):
    """Union the core points of cubes c and d that are neighbours; with ``trust`` (each cube already one
    set) the first such pair is enough."""
    for i in range(start[c], start[c + 1]):
        p = order[i]
        if not core[p]:
            continue
        for j in range(start[d], start[d + 1]):
            q = order[j]
            if core[q] and _close(x, y, z, p, q, eps2):
                if trust:
                    _union(parent, p, q)
                    return
                if _find(parent, p) != _find(parent, q):
                    _union(parent, p, q)


@numba.njit(cache=True, nogil=True)
def _dbscan_sorted(x, y, z, cx, cy, cz, user, offsets, order, eps2, min_samples, trust):
    n = x.shape[0]
    parent = np.arange(n)
    core = np.zeros(n, dtype=np.bool_)
    labels = np.full(n, -1, dtype=np.int64)
    # cubes of every user: runs of equal (user, cx, cy, cz) in sorted order; cube k holds order[start[k]:start[k + 1]]
    start = np.empty(n + 1, dtype=np.int64)
    n_cubes = 0
    for i in range(n):
        p = order[i]
        if i == 0:
            new = True
        else:
            q = order[i - 1]
            new = user[p] != user[q] or cx[p] != cx[q] or cy[p] != cy[q] or cz[p] != cz[q]
        if new:
            start[n_cubes] = i
            n_cubes += 1
    start[n_cubes] = n
    ccx = np.empty(n_cubes, dtype=np.int64)
    ccy = np.empty(n_cubes, dtype=np.int64)
    ccz = np.empty(n_cubes, dtype=np.int64)
    for k in range(n_cubes):
        p = order[start[k]]
        ccx[k] = cx[p]
        ccy[k] = cy[p]
        ccz[k] = cz[p]
    # the cubes of user u are first_cube[u]:first_cube[u + 1] (users are the first sort key)
    n_users = offsets.shape[0] - 1
    first_cube = np.searchsorted(start[:n_cubes], offsets)
    first_core = np.full(n_cubes, -1, dtype=np.int64)  # a core row of each cube, -1 if it has none
    for u in range(n_users):
        c0, c1 = first_cube[u], first_cube[u + 1]
        # 1. core points
        for c in range(c0, c1):
            size = start[c + 1] - start[c]
            if min_samples == 1 or (trust and size >= min_samples):
                for i in range(start[c], start[c + 1]):
                    core[order[i]] = True
                continue
            lo = c0 + np.searchsorted(ccx[c0:c1], ccx[c] - 2)
            for i in range(start[c], start[c + 1]):
                p = order[i]
                count = 0
                d = lo
                while d < c1 and ccx[d] <= ccx[c] + 2 and count < min_samples:
                    if _near(ccx, ccy, ccz, c, d):
                        if d == c and trust:
                            count += size
                        else:
                            for j in range(start[d], start[d + 1]):
                                if _close(x, y, z, p, order[j], eps2):
                                    count += 1
                    d += 1
                core[p] = count >= min_samples
        # 2. clusters: the core points of each cube, then of neighbouring cubes
        for c in range(c0, c1):
            first = -1
            for i in range(start[c], start[c + 1]):
                p = order[i]
                if not core[p]:
                    continue
                if first < 0:
                    first = p
                elif trust:
                    _union(parent, first, p)
                else:
                    for j in range(start[c], i):
                        q = order[j]
                        if core[q] and _find(parent, p) != _find(parent, q) and _close(x, y, z, p, q, eps2):
                            _union(parent, p, q)
            first_core[c] = first
        for c in range(c0, c1):
            if first_core[c] < 0:
                continue
            d = c + 1
            while d < c1 and ccx[d] <= ccx[c] + 2:
                if first_core[d] >= 0 and _near(ccx, ccy, ccz, c, d) and not (
                        trust and _find(parent, first_core[c]) == _find(parent, first_core[d])):
                    _join_cubes(x, y, z, order, start, core, parent, c, d, eps2, trust)
                d += 1
        # 3. labels: a core point's root (its cluster's lowest core row); a border point the lowest root
        # among the core points next to it
        for c in range(c0, c1):
            lo = c0 + np.searchsorted(ccx[c0:c1], ccx[c] - 2)
            for i in range(start[c], start[c + 1]):
                p = order[i]
                if core[p]:
                    labels[p] = _find(parent, p)
                    continue
                best = -1
                d = lo
                while d < c1 and ccx[d] <= ccx[c] + 2:
                    if first_core[d] >= 0 and _near(ccx, ccy, ccz, c, d):
                        for j in range(start[d], start[d + 1]):
                            q = order[j]
                            if core[q] and _close(x, y, z, p, q, eps2):
                                r = _find(parent, q)
                                if best < 0 or r < best:
                                    best = r
                    d += 1
                labels[p] = best
    return labels
