"""Stop-detection kernels over time-sorted pings of many users at once.

Both kernels take flat arrays for all users, sorted by user then time, and ``offsets`` (int64, length
``n_users + 1``): user ``u`` owns rows ``offsets[u]:offsets[u + 1]``. Times are int64 nanoseconds.
They return one row per detected stop: the user's segment index, the first row and one past the last
row of the stop, and its coordinate. No pandas, no Python loop per ping.

Semantics shared by both kernels (the frame :func:`mobility.stops.detect_stops` documents them for
users):

* A ping is *inside* when its haversine distance to the reference point (the anchor ping for
  ``sliding``, the running median for ``median``) is strictly less than ``radius_m``
  (:func:`mobility.kernels.geo.within_m`: the same answer as computing the distance, mostly decided from
  bounds without trigonometry).
* A time step longer than ``max_gap_ns`` between consecutive pings ends the current stay; the stay
  before the gap is judged on its own and the ping after the gap starts a new one.
* A stay becomes a stop when it has at least ``min_points`` pings and lasts at least ``min_duration_ns``,
  measured from its first to its last ping inside (never to the first ping outside).
* The last stay of a user (open at the end of the data) is kept when it qualifies.
* Equal timestamps are ordinary consecutive pings (time step 0); the frame drops exact duplicates.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mobility.kernels.geo import screen_terms, within_m


@numba.njit(cache=True)
def _wrap_lon(dlon):
    """Wrap a longitude difference (degrees, within +-540) into [-180, 180)."""
    if dlon >= 180.0:
        return dlon - 360.0
    if dlon < -180.0:
        return dlon + 360.0
    return dlon


@numba.njit(cache=True)
def _append(out_i, out_f, k, u, first, stop, s_lat, s_lon):
    """Write stop ``k`` (segment, first row, one past last row; lat, lon), doubling the buffers when
    full. Returns the buffers (new ones if they grew)."""
    if k == out_i.shape[0]:
        grown_i = np.empty((2 * k + 16, 3), dtype=np.int64)
        grown_f = np.empty((2 * k + 16, 2), dtype=np.float64)
        grown_i[:k] = out_i[:k]
        grown_f[:k] = out_f[:k]
        out_i, out_f = grown_i, grown_f
    out_i[k, 0] = u
    out_i[k, 1] = first
    out_i[k, 2] = stop
    out_f[k, 0] = s_lat
    out_f[k, 1] = s_lon
    return out_i, out_f


@numba.njit(cache=True)
def _split(out_i, out_f, k):
    """The five result arrays of the first ``k`` stops."""
    return (out_i[:k, 0].copy(), out_i[:k, 1].copy(), out_i[:k, 2].copy(),
            out_f[:k, 0].copy(), out_f[:k, 1].copy())


@numba.njit(cache=True)
def _mean_coord(lat, lon, a, b):
    """Mean latitude and longitude of rows ``a:b``; longitude averaged relative to row ``a`` so a stay
    straddling the antimeridian is averaged correctly."""
    s_lat = 0.0
    s_dlon = 0.0
    lon0 = lon[a]
    for k in range(a, b):
        s_lat += lat[k]
        s_dlon += _wrap_lon(lon[k] - lon0)
    n = b - a
    return s_lat / n, _wrap_lon(lon0 + s_dlon / n)


@numba.njit(cache=True)
def sliding_stops(t_ns, lat, lon, offsets, radius_m, min_duration_ns, max_gap_ns, min_points):
    """Anchor-window stop detection (Li et al. 2008), all users at once.

    From anchor ping ``i`` the window grows while the next ping is inside ``radius_m`` of the anchor
    and follows its predecessor by at most ``max_gap_ns``. A qualifying window becomes a stop. Either
    way the next anchor is the first ping after the window, as in trackintel's ``generate_staypoints``
    (Li et al. restart at ``i + 1`` after a failed window; on GeoLife that finds ~12% more stop time
    than trackintel, and costs O(n * window)).
    One pass, O(n). The stop's coordinate is the mean of its pings.

    Parameters
    ----------
    t_ns : int64 array
        Timestamps in nanoseconds, non-decreasing within each user.
    lat, lon : float64 arrays
        Degrees WGS84.
    offsets : int64 array
        User segment boundaries, ``offsets[0] == 0`` and ``offsets[-1] == len(t_ns)``.
    radius_m, min_duration_ns, max_gap_ns, min_points
        Thresholds, see the module docstring.

    Returns
    -------
    seg, first, stop, s_lat, s_lon : arrays
        Per stop: user segment index (int64), first row, one past the last row (int64), mean lat, lon.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([0, 60, 120, 180, 240], dtype=np.int64) * 10**9
    >>> lat = np.array([0.0, 0.0001, 0.0, 0.01, 0.02]); lon = np.zeros(5)
    >>> seg, first, stop, s_lat, s_lon = sliding_stops(
    ...     t, lat, lon, np.array([0, 5]), 100.0, 120 * 10**9, 3600 * 10**9, 2)
    >>> first.tolist(), stop.tolist()
    ([0], [3])
    """
    out_i = np.empty((16, 3), dtype=np.int64)
    out_f = np.empty((16, 2), dtype=np.float64)
    k = 0
    a_in, a_out = screen_terms(radius_m)
    for u in range(offsets.shape[0] - 1):
        a = offsets[u]
        b = offsets[u + 1]
        i = a
        while i < b:
            j = i + 1
            lat_i, lon_i = lat[i], lon[i]
            rlat_i, rlon_i = math.radians(lat_i), math.radians(lon_i)
            cos_i = math.cos(rlat_i)
            while j < b and t_ns[j] - t_ns[j - 1] <= max_gap_ns and within_m(
                lat_i, lon_i, rlat_i, rlon_i, cos_i, lat[j], lon[j], radius_m, a_in, a_out
            ):
                j += 1
            if j - i >= min_points and t_ns[j - 1] - t_ns[i] >= min_duration_ns:
                m_lat, m_lon = _mean_coord(lat, lon, i, j)
                out_i, out_f = _append(out_i, out_f, k, u, i, j, m_lat, m_lon)
                k += 1
                i = j
            else:
                i = j
    return _split(out_i, out_f, k)


# --- running median: two heaps (max-heap of the lower half stored negated, min-heap of the upper) ---


@numba.njit(cache=True)
def _heap_push(h, n, x):
    """Push ``x`` onto min-heap ``h[:n]``; return the new size."""
    h[n] = x
    c = n
    while c > 0:
        p = (c - 1) >> 1
        if h[p] <= h[c]:
            break
        h[p], h[c] = h[c], h[p]
        c = p
    return n + 1


@numba.njit(cache=True)
def _heap_pop(h, n):
    """Pop the minimum of min-heap ``h[:n]``; return (value, new size)."""
    top = h[0]
    n -= 1
    h[0] = h[n]
    c = 0
    while True:
        left = 2 * c + 1
        if left >= n:
            break
        m = left
        if left + 1 < n and h[left + 1] < h[left]:
            m = left + 1
        if h[c] <= h[m]:
            break
        h[c], h[m] = h[m], h[c]
        c = m
    return top, n


@numba.njit(cache=True)
def _median_push(lo, n_lo, hi, n_hi, x):
    """Add ``x`` to the running median held in ``lo`` (negated max-heap) and ``hi`` (min-heap)."""
    if n_lo == 0 or x <= -lo[0]:
        n_lo = _heap_push(lo, n_lo, -x)
    else:
        n_hi = _heap_push(hi, n_hi, x)
    if n_lo > n_hi + 1:
        v, n_lo = _heap_pop(lo, n_lo)
        n_hi = _heap_push(hi, n_hi, -v)
    elif n_hi > n_lo:
        v, n_hi = _heap_pop(hi, n_hi)
        n_lo = _heap_push(lo, n_lo, -v)
    return n_lo, n_hi


@numba.njit(cache=True)
def _median_value(lo, n_lo, hi, n_hi):
    """Median of the values held (mean of the two middle values for an even count, as numpy)."""
    if n_lo > n_hi:
        return -lo[0]
    return 0.5 * (-lo[0] + hi[0])


@numba.njit(cache=True)
def median_stops(t_ns, lat, lon, offsets, radius_m, min_duration_ns, max_gap_ns, min_points):
    """Running-median stop detection (Infostop's stationary events), all users at once.

    A group starts at a ping; the next ping joins it when it lies inside ``radius_m`` of the group's
    coordinate-wise median (of the pings already in it) and follows its predecessor by at most
    ``max_gap_ns``; otherwise the group closes and that ping starts the next group. A closed group
    becomes a stop when it qualifies; its coordinate is the median latitude and longitude of its pings.
    Medians are kept with two heaps per coordinate, O(log n) per ping (a sorted array with insertion was
    measured 2x slower even on the short groups of sparse pings).

    Parameters and returns are as for :func:`sliding_stops` (coordinates are medians, not means).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([0, 60, 120, 180, 240], dtype=np.int64) * 10**9
    >>> lat = np.array([0.0, 0.0001, 0.0, 0.01, 0.02]); lon = np.zeros(5)
    >>> seg, first, stop, s_lat, s_lon = median_stops(
    ...     t, lat, lon, np.array([0, 5]), 100.0, 120 * 10**9, 3600 * 10**9, 2)
    >>> first.tolist(), stop.tolist(), s_lat.tolist()
    ([0], [3], [0.0])
    """
    n = t_ns.shape[0]
    out_i = np.empty((16, 3), dtype=np.int64)
    out_f = np.empty((16, 2), dtype=np.float64)
    k = 0
    # heap storage sized to the longest user segment
    longest = 1
    for u in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[u + 1] - offsets[u])
    if n == 0:
        longest = 1
    lat_lo = np.empty(longest, dtype=np.float64)
    lat_hi = np.empty(longest, dtype=np.float64)
    lon_lo = np.empty(longest, dtype=np.float64)
    lon_hi = np.empty(longest, dtype=np.float64)
    a_in, a_out = screen_terms(radius_m)
    for u in range(offsets.shape[0] - 1):
        a = offsets[u]
        b = offsets[u + 1]
        if a == b:
            continue
        g = a
        lon0 = lon[a]
        n1 = n2 = n3 = n4 = 0
        n1, n2 = _median_push(lat_lo, n1, lat_hi, n2, lat[a])
        n3, n4 = _median_push(lon_lo, n3, lon_hi, n4, 0.0)
        i = a + 1
        while True:
            m_lat = _median_value(lat_lo, n1, lat_hi, n2)
            m_lon = _wrap_lon(lon0 + _median_value(lon_lo, n3, lon_hi, n4))
            joins = False
            if i < b and t_ns[i] - t_ns[i - 1] <= max_gap_ns:
                r_lat = math.radians(m_lat)
                joins = within_m(m_lat, m_lon, r_lat, math.radians(m_lon), math.cos(r_lat), lat[i], lon[i],
                                 radius_m, a_in, a_out)
            if joins:
                n1, n2 = _median_push(lat_lo, n1, lat_hi, n2, lat[i])
                n3, n4 = _median_push(lon_lo, n3, lon_hi, n4, _wrap_lon(lon[i] - lon0))
                i += 1
                continue
            # close group g:i
            if i - g >= min_points and t_ns[i - 1] - t_ns[g] >= min_duration_ns:
                out_i, out_f = _append(out_i, out_f, k, u, g, i, m_lat, m_lon)
                k += 1
            if i >= b:
                break
            g = i
            lon0 = lon[i]
            n1 = n2 = n3 = n4 = 0
            n1, n2 = _median_push(lat_lo, n1, lat_hi, n2, lat[i])
            n3, n4 = _median_push(lon_lo, n3, lon_hi, n4, 0.0)
            i += 1
    return _split(out_i, out_f, k)


@numba.njit(cache=True)
def overlapping_intervals(start_ns, end_ns, offsets):
    """Flag intervals that overlap an earlier kept interval of the same user.

    Rows are sorted by user then start. Walking each user's rows in order, a row whose start is before
    the latest end among the rows kept so far is flagged (and not kept); touching intervals
    (start == previous end) do not overlap.

    Examples
    --------
    >>> import numpy as np
    >>> overlapping_intervals(np.array([0, 5, 15]), np.array([10, 20, 25]), np.array([0, 3])).tolist()
    [False, True, False]
    """
    flag = np.zeros(start_ns.shape[0], dtype=np.bool_)
    for u in range(offsets.shape[0] - 1):
        a = offsets[u]
        b = offsets[u + 1]
        if a == b:
            continue
        latest = end_ns[a]
        for r in range(a + 1, b):
            if start_ns[r] < latest:
                flag[r] = True
            else:
                latest = max(latest, end_ns[r])
    return flag



@numba.njit(cache=True)
def scan_pings(codes, t_ns, lat, lon):
    """One pass over pings that checks what stop detection needs and whether it must sort.

    Parameters
    ----------
    codes : int64 array
        User code of each row.
    t_ns : int64 array
        Times in nanoseconds, ``numpy.iinfo(numpy.int64).min`` (NaT) where missing.
    lat, lon : float64 arrays
        Degrees.

    Returns
    -------
    n_bad : int
        Rows whose latitude or longitude is missing, not finite or out of range (``|lat| > 90``,
        ``|lon| > 180``); ``first_bad`` the first of them (-1 if none).
    missing_time : bool
        Whether any time is NaT.
    ordered : bool
        Whether the rows are sorted by code, then time.
    repeated : bool
        Whether, the rows being ordered, a row has the code and time of the row before it.

    Examples
    --------
    >>> import numpy as np
    >>> scan_pings(np.array([0, 0, 1]), np.array([5, 5, 1]), np.array([1.0, 91.0, 0.0]), np.zeros(3))
    (1, 1, False, True, True)
    """
    n = codes.shape[0]
    n_bad = 0
    first_bad = -1
    missing_time = False
    ordered = True
    repeated = False
    nat = np.iinfo(np.int64).min
    for i in range(n):
        if not (abs(lat[i]) <= 90.0 and abs(lon[i]) <= 180.0):
            if n_bad == 0:
                first_bad = i
            n_bad += 1
        if t_ns[i] == nat:
            missing_time = True
        if i > 0:
            if codes[i] < codes[i - 1] or (codes[i] == codes[i - 1] and t_ns[i] < t_ns[i - 1]):
                ordered = False
            elif codes[i] == codes[i - 1] and t_ns[i] == t_ns[i - 1]:
                repeated = True
    return n_bad, first_bad, missing_time, ordered, repeated
