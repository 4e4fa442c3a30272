"""Mobility metrics per user and period: array kernels shared by numpy and CuPy.

Every function takes ``xp`` (``numpy`` or ``cupy``) and uses only operations both provide: ``searchsorted``,
``bincount``, ``cumsum``, ``argsort`` and elementwise maths (a running maximum is a doubling scan off
numpy). Inputs are flat arrays sorted as each function states; results are arrays indexed by *row* (one
row per user and period), never Python loops over users.

Vocabulary
----------
stop
    An interval ``[start_ns, end_ns]`` at a coordinate with a location code, sorted by user then start.
piece
    A stop cut at period boundaries (:func:`split_at_bounds`): a stop from Sunday 22:00 to Monday 07:00
    becomes two pieces, one per ISO week. Pieces carry the dwell time inside their period, and each piece
    counts as one visit to its location in its period.
row
    One user and one period. Every user gets a row for every period from their first to their last
    observed one, so empty periods in between are present with defined values.
group
    One location within one row: the unit of the radius of gyration and the entropies.

The frame layer (:mod:`mobility.metrics`) documents each metric; this module gives the arithmetic.
"""

from __future__ import annotations

import math
import types

import numba
import numpy as np

from mobility.kernels.geo import EARTH_RADIUS_M, haversine_m

NS_PER_S = 1_000_000_000
NS_PER_H = 3600 * NS_PER_S


def _divide(num, den, xp=np):
    """``num / den`` where ``den > 0``, NaN elsewhere, without warnings."""
    ok = den > 0
    return xp.where(ok, num / xp.where(ok, den, 1), xp.nan)


def _exclusive_cumsum(values, xp=np):
    out = xp.zeros(len(values) + 1, dtype=values.dtype)
    out[1:] = xp.cumsum(values)
    return out


def run_starts(*keys, xp=np):
    """Boolean flags, True where any of ``keys`` differs from the previous element (and at 0).

    Examples
    --------
    >>> run_starts(np.array([0, 0, 1, 1]), np.array([5, 6, 6, 6])).tolist()
    [True, True, True, False]
    """
    n = len(keys[0])
    flags = xp.zeros(n, dtype=bool)
    if n == 0:
        return flags
    flags[0] = True
    for key in keys:
        flags[1:] |= key[1:] != key[:-1]
    return flags


def cummax(values, xp=np):
    """Running maximum: ``numpy.maximum.accumulate`` on numpy, a log-step doubling scan on other modules.

    Examples
    --------
    >>> cummax(np.array([1, 3, 2, 5, 4])).tolist()
    [1, 3, 3, 5, 5]
    """
    if xp is np:
        return np.maximum.accumulate(values)
    out = values.copy()
    step = 1
    while step < len(out):
        out[step:] = xp.maximum(out[step:], out[:-step].copy())
        step *= 2
    return out


def _dense_rank(values, xp=np):
    """Rank of each value among the distinct values (0 for the smallest), ties sharing a rank."""
    return xp.unique(values, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _argsort_ranked(primary, secondary, xp):
    """Sort by (primary, secondary, position) through dense ranks, assuming no stable sort."""
    n = len(primary)
    pair = _dense_rank(_dense_rank(primary, xp) * n + _dense_rank(secondary, xp), xp)
    return xp.argsort(pair * n + xp.arange(n, dtype=np.int64))


def sort_by(primary, secondary, xp=np):
    """Indices that sort by ``primary`` then ``secondary`` (stable), like ``lexsort((secondary, primary))``.

    Two stable argsorts, much faster than ``numpy.lexsort`` on large arrays.

    Examples
    --------
    >>> sort_by(np.array([1, 0, 1, 0]), np.array([5, 7, 2, 6])).tolist()
    [3, 1, 2, 0]
    """
    if xp is np:
        by_secondary = np.argsort(secondary, kind="stable")
        return by_secondary[np.argsort(primary[by_secondary], kind="stable")]
    return _argsort_ranked(primary, secondary, xp)


def segmented_cummax(values, seg, xp=np):
    """Running maximum of integer ``values`` restarting at each segment; ``seg`` is non-decreasing.

    Examples
    --------
    >>> segmented_cummax(np.array([3, 1, 5, 2, 0, 4]), np.array([0, 0, 0, 1, 1, 1])).tolist()
    [3, 3, 5, 2, 2, 4]
    """
    if len(values) == 0:
        return values.copy()
    lo = values.min()
    span = int(values.max() - lo) + 1
    offset = seg.astype(np.int64) * span
    return cummax(offset + (values - lo), xp=xp) - offset + lo


def split_at_bounds(start_ns, end_ns, bounds_ns, xp=np):
    """Cut intervals at period boundaries.

    ``bounds_ns`` are ascending period starts with one extra end bound; period ``p`` is
    ``[bounds_ns[p], bounds_ns[p + 1])``, and they must cover every interval. An interval ending exactly
    on a boundary stays in the earlier period; an instantaneous one (start == end) falls in the period
    containing it.

    Returns
    -------
    src : int64 array, the interval each piece comes from (non-decreasing)
    period : int64 array, the period of each piece
    piece_start_ns, piece_end_ns : int64 arrays, the piece clipped to its period

    Examples
    --------
    >>> src, per, s, e = split_at_bounds(np.array([5, 12]), np.array([25, 20]), np.array([0, 10, 20, 30]))
    >>> src.tolist(), per.tolist(), s.tolist(), e.tolist()
    ([0, 0, 0, 1], [0, 1, 2, 1], [5, 10, 20, 12], [10, 20, 25, 20])
    """
    p0 = xp.searchsorted(bounds_ns, start_ns, side="right") - 1
    p1 = xp.maximum(xp.searchsorted(bounds_ns, end_ns, side="left") - 1, p0)
    n_pieces = p1 - p0 + 1
    total = int(n_pieces.sum())
    if total == len(start_ns):
        src = xp.arange(total, dtype=np.int64)
        period = p0
    else:
        ends = xp.cumsum(n_pieces)
        idx = xp.arange(total, dtype=np.int64)
        src = xp.searchsorted(ends, idx, side="right")
        period = p0[src] + (idx - (ends[src] - n_pieces[src]))
    piece_start = xp.maximum(start_ns[src], bounds_ns[period])
    piece_end = xp.minimum(end_ns[src], bounds_ns[period + 1])
    piece_end = xp.maximum(piece_end, piece_start)
    return src, period, piece_start, piece_end


def period_rows(user, period_first, period_last, n_users, xp=np):
    """Lay out one row per user and period, from each user's first to last period.

    ``user`` (non-decreasing codes ``0..n_users-1``, each present) with the first and last period of each
    element; returns ``(first_period, row_offset)`` per user: rows of user ``u`` are
    ``row_offset[u] .. row_offset[u + 1] - 1`` for periods ``first_period[u] ..``.

    Examples
    --------
    >>> first, off = period_rows(np.array([0, 0, 1]), np.array([2, 3, 0]), np.array([2, 5, 0]), 2)
    >>> first.tolist(), off.tolist()
    ([2, 0], [0, 4, 5])
    """
    starts = xp.flatnonzero(run_starts(user, xp=xp))
    first = period_first[starts]
    last_running = segmented_cummax(period_last, user, xp=xp)
    ends = xp.concatenate([starts[1:], xp.asarray([len(user)], dtype=starts.dtype)]) - 1
    last = last_running[ends]
    offset = xp.zeros(n_users + 1, dtype=np.int64)
    offset[1:] = xp.cumsum(last - first + 1)
    return first, offset


def radius_of_gyration_km(lat, lon, weight, seg, n_seg, *, centre_weighted=True, xp=np):
    """Radius of gyration per segment, in km, over one entry per location.

    ``R_g = sqrt(sum_j w_j d(r_j, r_c)^2 / sum_j w_j)`` with haversine ``d`` (R = 6371.0 km). The centre
    ``r_c`` is the ``w``-weighted mean of latitudes and longitudes in degrees (``centre_weighted``) or their
    plain mean over locations, as scikit-mobility computes it (valid away from the antimeridian). ``weight``
    None weighs every entry 1. A segment with no entries or zero total weight gives NaN; one location
    gives 0.

    Examples
    --------
    Two locations 1 km apart (north-south) with weights 1 and 3: the centre lies 0.75 km from the first,
    so ``R_g = sqrt((1 * 0.75**2 + 3 * 0.25**2) / 4) = sqrt(0.1875) = 0.4330`` km.

    >>> dlat = 1.0 / 6371.0 * 180 / np.pi  # 1 km of latitude in degrees
    >>> rg = radius_of_gyration_km(np.array([0.0, dlat]), np.array([0.0, 0.0]), np.array([1.0, 3.0]),
    ...                            np.array([0, 0]), 1)
    >>> round(float(rg[0]), 4)
    0.433
    """
    if xp is np:  # the CPU twin: one compiled pass each for the centre and the distances, same arithmetic
        w = np.empty(0) if weight is None else np.ascontiguousarray(weight, dtype=np.float64)
        n_threads = _threads_for(len(lat), n_seg)
        kernel = _radius_of_gyration_km_cpu if n_threads > 1 else _radius_of_gyration_km_serial
        return kernel(np.ascontiguousarray(lat, dtype=np.float64), np.ascontiguousarray(lon, dtype=np.float64), w,
                      np.ascontiguousarray(seg, dtype=np.int64), int(n_seg), bool(centre_weighted), n_threads)
    count = xp.bincount(seg, minlength=n_seg).astype(np.float64)
    if weight is None:  # every entry weighs 1
        total, w_lat, w_lon = count, lat, lon
    else:
        weight = weight.astype(np.float64)
        total = xp.bincount(seg, weights=weight, minlength=n_seg)
        w_lat, w_lon = weight * lat, weight * lon
    if centre_weighted:
        c_lat = _divide(xp.bincount(seg, weights=w_lat, minlength=n_seg), total, xp)
        c_lon = _divide(xp.bincount(seg, weights=w_lon, minlength=n_seg), total, xp)
    else:
        c_lat = _divide(xp.bincount(seg, weights=lat, minlength=n_seg), count, xp)
        c_lon = _divide(xp.bincount(seg, weights=lon, minlength=n_seg), count, xp)
    d_m = haversine_m(lat, lon, c_lat[seg], c_lon[seg], xp=xp)
    sq = d_m * d_m if weight is None else weight * d_m * d_m
    return xp.sqrt(_divide(xp.bincount(seg, weights=sq, minlength=n_seg), total, xp)) / 1000.0


def _threads_for(n_rows: int, n_seg: int) -> int:
    """Threads for the radius kernel: each holds 5 sums per segment, so use several only when there are
    many more rows than segments (whole users); one when segments are about as many as rows (user-weeks).
    One thread runs the serial twin, which never starts Numba's thread pool: a process forked from one that
    used the pool (GNU OpenMP) would hang or be terminated in it, so the pipeline's worker processes set
    one thread (:mod:`mobility.pipeline.engine`)."""
    return max(1, min(numba.get_num_threads(), n_rows // (8 * max(n_seg, 1))))


# Sums over a run of rows may be reordered (so that LLVM vectorises them); each stays exact to rounding. No
# contraction into fused multiply-adds: a point at its centre must stay exactly 0 m away.
_SUM_FLAGS = {"reassoc"}


@numba.njit(cache=True)
def _run_end(seg, i, hi):
    """End of the run of rows equal to ``seg[i]`` that starts at ``i``, at most ``hi``."""
    s = seg[i]
    j = i + 1
    while j < hi and seg[j] == s:
        j += 1
    return j


@numba.njit(cache=True, fastmath=_SUM_FLAGS)
def _run_centre_sums(lat, lon, weight, weighted, centre_weighted, a, b):
    """Total weight and the two coordinate sums (weighted or plain) over rows ``a:b``."""
    w_sum = lat_sum = lon_sum = 0.0
    if not weighted:
        for i in range(a, b):
            lat_sum += lat[i]
            lon_sum += lon[i]
        return float(b - a), lat_sum, lon_sum
    for i in range(a, b):
        w_sum += weight[i]
    if centre_weighted:
        for i in range(a, b):
            lat_sum += weight[i] * lat[i]
            lon_sum += weight[i] * lon[i]
    else:
        for i in range(a, b):
            lat_sum += lat[i]
            lon_sum += lon[i]
    return w_sum, lat_sum, lon_sum


@numba.njit(cache=True)
def _centre_sums(lat, lon, weight, seg, centre_weighted, lo, hi, out):
    """Rows ``lo:hi``: per segment count, total weight and the two coordinate sums, into ``out[0..3]``.

    Rows are summed run by run (a run: consecutive rows of one segment), so rows grouped by segment (the usual
    case) touch ``out`` once per run; any order gives the same sums (to rounding).
    """
    weighted = weight.shape[0] == lat.shape[0] and lat.shape[0] > 0
    i = lo
    while i < hi:
        j = _run_end(seg, i, hi)
        s = seg[i]
        w_sum, lat_sum, lon_sum = _run_centre_sums(lat, lon, weight, weighted, centre_weighted, i, j)
        out[0, s] += j - i
        out[1, s] += w_sum
        out[2, s] += lat_sum
        out[3, s] += lon_sum
        i = j


# Half-angle differences to the centre (radians) up to which the haversine terms come from power series:
# 0.02 rad is 127 km of latitude, so nearly every row qualifies. Each series stops where the next term is
# below 1e-18 relative: the distance equals the libm one to rounding, without the libm calls, and vectorises.
_SERIES_MAX_HALF_ANGLE_RAD = 0.02
# one conversion for points and centres alike, so that a point at its centre is exactly 0 m away
_RAD_PER_DEG = math.pi / 180.0


@numba.njit(cache=True, fastmath=_SUM_FLAGS, inline="always")
def _series_squared_distance_m2(lat_deg, lon_deg, c_lat, c_lon, cos_c, sin_c):
    """Squared haversine distance (m^2) of a point to a centre (radians) by series, and the larger of the
    half differences ``|h|``, ``|g|`` of latitude and longitude (the series are exact while it is at most
    ``_SERIES_MAX_HALF_ANGLE_RAD``).

    ``sin`` by Taylor series to the 7th power, the point's cosine as
    ``cos(c - 2h) = cos c (1 - 2 sin^2 h) + sin c 2 sin h cos h``, and
    ``asin(sqrt(x))**2 = sum_n 2**(2n) x**n / (2 n**2 C(2n, n))`` to ``x**6``.
    """
    h = 0.5 * (c_lat - lat_deg * _RAD_PER_DEG)
    g = 0.5 * (c_lon - lon_deg * _RAD_PER_DEG)
    h2 = h * h
    g2 = g * g
    sin_h = h * (1.0 + h2 * (-1.0 / 6.0 + h2 * (1.0 / 120.0 - h2 / 5040.0)))
    sin_g = g * (1.0 + g2 * (-1.0 / 6.0 + g2 * (1.0 / 120.0 - g2 / 5040.0)))
    cos_h = 1.0 + h2 * (-0.5 + h2 * (1.0 / 24.0 + h2 * (-1.0 / 720.0 + h2 / 40320.0)))
    cos_p = cos_c * (1.0 - 2.0 * sin_h * sin_h) + sin_c * 2.0 * sin_h * cos_h
    x = sin_h * sin_h + cos_p * cos_c * sin_g * sin_g
    asin2 = x * (1.0 + x * (1.0 / 3.0 + x * (8.0 / 45.0 + x * (4.0 / 35.0 + x * (
        128.0 / 1575.0 + x * (2048.0 / 33264.0))))))
    return 4.0 * EARTH_RADIUS_M * EARTH_RADIUS_M * asin2, max(abs(h), abs(g))


@numba.njit(cache=True, fastmath=_SUM_FLAGS)
def _run_series_sum(lat, lon, weight, weighted, a, b, c_lat, c_lon, cos_c, sin_c):
    """Sum over rows ``a:b`` of weight x squared haversine distance (m^2) to the centre (radians) by
    :func:`_series_squared_distance_m2`, over the rows whose half-angle differences are within
    ``_SERIES_MAX_HALF_ANGLE_RAD``, and how many rows were not (far, or NaN): :func:`_run_far_sum` adds
    those. A count, not a running maximum, so that the loop vectorises."""
    acc = 0.0
    outside = 0
    if weighted:
        for i in range(a, b):
            d2, half = _series_squared_distance_m2(lat[i], lon[i], c_lat, c_lon, cos_c, sin_c)
            near = half <= _SERIES_MAX_HALF_ANGLE_RAD
            acc += weight[i] * d2 if near else 0.0
            outside += not near
    else:
        for i in range(a, b):
            d2, half = _series_squared_distance_m2(lat[i], lon[i], c_lat, c_lon, cos_c, sin_c)
            near = half <= _SERIES_MAX_HALF_ANGLE_RAD
            acc += d2 if near else 0.0
            outside += not near
    return acc, outside


@numba.njit(cache=True)
def _run_far_sum(lat, lon, weight, weighted, a, b, c_lat, c_lon, cos_c, sin_c):
    """The rows of ``a:b`` that :func:`_run_series_sum` left out, summed with the libm expression of
    :func:`mobility.kernels.geo.haversine_m`."""
    acc = 0.0
    for i in range(a, b):
        _, half = _series_squared_distance_m2(lat[i], lon[i], c_lat, c_lon, cos_c, sin_c)
        if half <= _SERIES_MAX_HALF_ANGLE_RAD:
            continue
        rlat = lat[i] * _RAD_PER_DEG
        dlat = c_lat - rlat
        dlon = c_lon - lon[i] * _RAD_PER_DEG
        x = math.sin(dlat / 2.0) ** 2 + math.cos(rlat) * cos_c * math.sin(dlon / 2.0) ** 2
        d = 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(x, 1.0)))
        acc += (weight[i] if weighted else 1.0) * d * d
    return acc


@numba.njit(cache=True)
def _squared_distance_sums(lat, lon, weight, seg, c_lat, c_lon, cos_c, lo, hi, out):
    """Rows ``lo:hi``: per segment sum of weight x squared haversine distance (m^2) to the centre, run by run
    (series for rows near the centre, libm for the others)."""
    weighted = weight.shape[0] == lat.shape[0] and lat.shape[0] > 0
    i = lo
    while i < hi:
        j = _run_end(seg, i, hi)
        s = seg[i]
        sin_c = math.sin(c_lat[s])
        acc, outside = _run_series_sum(lat, lon, weight, weighted, i, j, c_lat[s], c_lon[s], cos_c[s], sin_c)
        if outside:
            acc += _run_far_sum(lat, lon, weight, weighted, i, j, c_lat[s], c_lon[s], cos_c[s], sin_c)
        out[s] += acc
        i = j


@numba.njit(cache=True, parallel=True)
def _radius_of_gyration_km_cpu(lat, lon, weight, seg, n_seg, centre_weighted, n_threads):
    """Numba twin of :func:`radius_of_gyration_km` on the CPU (``weight`` empty: every entry weighs 1).

    The rows are split into one block per thread; each block sums into its own arrays, then the blocks are
    added. The haversine expression is the one of :func:`mobility.kernels.geo.haversine_m`, so both
    versions agree to floating-point rounding of the sums (tested to 1e-12).
    """
    n = lat.shape[0]
    block = (n + n_threads - 1) // n_threads
    partial = np.zeros((n_threads, 4, n_seg))
    for t in numba.prange(n_threads):
        _centre_sums(lat, lon, weight, seg, centre_weighted, t * block, min(n, (t + 1) * block), partial[t])
    sums = partial.sum(axis=0)
    c_lat = np.empty(n_seg)
    c_lon = np.empty(n_seg)
    cos_c = np.empty(n_seg)
    for s in range(n_seg):
        den = sums[1, s] if centre_weighted else sums[0, s]
        if den > 0:
            c_lat[s] = sums[2, s] / den * _RAD_PER_DEG
            c_lon[s] = sums[3, s] / den * _RAD_PER_DEG
        else:
            c_lat[s] = np.nan
            c_lon[s] = np.nan
        cos_c[s] = math.cos(c_lat[s])
    squares = np.zeros((n_threads, n_seg))
    for t in numba.prange(n_threads):
        _squared_distance_sums(lat, lon, weight, seg, c_lat, c_lon, cos_c, t * block, min(n, (t + 1) * block),
                               squares[t])
    acc = squares.sum(axis=0)
    out = np.empty(n_seg)
    for s in range(n_seg):
        out[s] = math.sqrt(acc[s] / sums[1, s]) / 1000.0 if sums[1, s] > 0 else np.nan
    return out


def _renamed(fn, name: str):
    """``fn`` under another name: Numba's cache tells compiled functions apart by name and line, not by
    ``parallel``, so a twin compiled with other options needs its own name to have its own cache file."""
    return types.FunctionType(fn.__code__.replace(co_name=name, co_qualname=name), fn.__globals__, name,
                              fn.__defaults__, fn.__closure__)


_radius_of_gyration_km_serial = numba.njit(cache=True)(
    _renamed(_radius_of_gyration_km_cpu.py_func, "_radius_of_gyration_km_serial"))
"""The same kernel compiled without ``parallel``: ``prange`` is ``range``, no thread pool (one thread)."""


def top_k_mask(seg, weight, k, xp=np):
    """Mask of the ``k`` heaviest entries of each segment (entries in any order).

    Ties in weight go to the entry that comes first in the arrays (callers order a segment's locations by
    first visit, as scikit-mobility breaks ties by first datetime).

    Examples
    --------
    >>> top_k_mask(np.array([0, 1, 0, 0]), np.array([1.0, 2.0, 3.0, 1.0]), 2).tolist()
    [True, True, True, False]
    """
    n = len(seg)
    if n == 0:
        return xp.zeros(0, dtype=bool)
    idx = xp.arange(n, dtype=np.int64)
    order = sort_by(seg, -weight.astype(np.float64), xp=xp)  # heaviest first, ties by position
    run_first = cummax(xp.where(run_starts(seg[order], xp=xp), idx, 0), xp=xp)
    mask = xp.zeros(n, dtype=bool)
    mask[order] = (idx - run_first) < k
    return mask


def entropies_bits(weight, seg, n_seg, *, normalise=False, xp=np):
    """Random and uncorrelated entropy per segment, over one entry per location.

    Random entropy is ``log2 N`` (N distinct locations); uncorrelated entropy is ``-sum_j p_j log2 p_j``
    with ``p_j`` the location's share of the segment's total weight. With ``normalise`` the uncorrelated
    entropy is divided by ``log2 N`` (0 when N = 1, as scikit-mobility). Empty segments, and segments of
    zero total weight for the uncorrelated entropy, give NaN.

    Examples
    --------
    Dwell shares 1/4 and 3/4: ``H = -(0.25 log2 0.25 + 0.75 log2 0.75) = 0.8113`` bits.

    >>> rnd, unc = entropies_bits(np.array([1.0, 3.0]), np.array([0, 0]), 1)
    >>> float(rnd[0]), round(float(unc[0]), 4)
    (1.0, 0.8113)
    """
    weight = weight.astype(np.float64)
    count = xp.bincount(seg, minlength=n_seg).astype(np.float64)
    total = xp.bincount(seg, weights=weight, minlength=n_seg)
    share = _divide(weight, total[seg], xp)
    plogp = xp.where(share > 0, share * xp.log2(xp.where(share > 0, share, 1.0)), 0.0)
    uncorrelated = xp.where(total > 0, -xp.bincount(seg, weights=plogp, minlength=n_seg), xp.nan)
    random = xp.where(count > 0, xp.log2(xp.maximum(count, 1.0)), xp.nan)
    if normalise:
        uncorrelated = xp.where(count > 1, _divide(uncorrelated, random, xp), xp.where(count == 1, 0.0, xp.nan))
        uncorrelated = xp.where(total > 0, uncorrelated, xp.nan)
    return random, uncorrelated


def covered_hours(start_ns, end_ns, seg, n_seg, xp=np):
    """Number of distinct clock hours (UTC hour bins) each segment's intervals touch.

    Intervals are half-open ``[start, end)``; an instantaneous one (a ping) touches the hour containing
    it. Entries are sorted by segment then start; overlapping intervals are counted once.

    Examples
    --------
    10:30-12:10 and 11:50-11:55 touch hours 10, 11 and 12; a ping at 15:00 adds hour 15.

    >>> H = NS_PER_H
    >>> s = np.array([10 * H + H // 2, 11 * H + 50 * H // 60, 15 * H])
    >>> e = np.array([12 * H + H // 6, 11 * H + 55 * H // 60, 15 * H])
    >>> covered_hours(s, e, np.array([0, 0, 0]), 1).tolist()
    [4.0]
    """
    first = start_ns // NS_PER_H
    last = xp.where(end_ns > start_ns, (end_ns - 1) // NS_PER_H, first)
    running = segmented_cummax(last, seg, xp=xp)
    prev = xp.empty_like(running)
    if len(prev):
        prev[0] = first[0] - 1
        prev[1:] = running[:-1]
    prev = xp.where(run_starts(seg, xp=xp), first - 1, prev)
    new_hours = xp.maximum(last - xp.maximum(first, prev + 1) + 1, 0)
    return xp.bincount(seg, weights=new_hours.astype(np.float64), minlength=n_seg)


def step_distance_km(user, lat, lon, xp=np):
    """Haversine distance in km from each point to the previous point of the same user (0 for the first).

    Examples
    --------
    >>> d = step_distance_km(np.array([0, 0, 1]), np.array([0.0, 0.0, 5.0]), np.array([0.0, 1.0, 5.0]))
    >>> [round(float(x), 3) for x in d]
    [0.0, 111.195, 0.0]
    """
    out = xp.zeros(len(lat), dtype=np.float64)
    if len(lat) > 1:
        d = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:], xp=xp) / 1000.0
        out[1:] = xp.where(user[1:] == user[:-1], d, 0.0)
    return out


def activity_set_size(loc, row, visits, dwell_s, user_last_row, n_rows, *, window, min_visits,
                      min_dwell_s, xp=np):
    """Capacity: locations in the activity set of each row over the ``window`` rows ending at it.

    Entries are one per location and row, sorted by ``loc`` then ``row`` (a location code belongs to one
    user, and a user's rows are consecutive periods). For row ``e`` a location is in the activity set if,
    summed over rows ``e - window + 1 .. e``, it has ``>= min_visits`` visits and ``>= min_dwell_s`` seconds.
    ``user_last_row`` is the user's last row for each entry. Returns float counts per row.

    Examples
    --------
    One location visited in rows 0 and 1 (one 1 h visit each), window 2, 2 visits and 20 min needed:
    the window of row 1 (rows 0-1) holds two visits; those of rows 0 and 2 hold one.

    >>> activity_set_size(np.array([0, 0]), np.array([0, 1]), np.array([1, 1]), np.array([3600., 3600.]),
    ...                   np.array([2, 2]), 3, window=2, min_visits=2, min_dwell_s=1200.0).tolist()
    [0.0, 1.0, 0.0]
    """
    n = len(loc)
    counts = xp.zeros(n_rows, dtype=np.float64)
    if n == 0:
        return counts
    key = loc.astype(np.int64) * n_rows + row
    cum_visits = _exclusive_cumsum(visits.astype(np.int64), xp)
    cum_dwell = _exclusive_cumsum(dwell_s.astype(np.float64), xp)
    same_next = xp.zeros(n, dtype=bool)
    same_next[:-1] = loc[1:] == loc[:-1]
    next_row = xp.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    next_row[:-1] = row[1:]
    idx = xp.arange(n, dtype=np.int64)
    for lag in range(window):
        e = row + lag
        # the entry is the last one of its location at or before row e: count each location once
        canonical = ~same_next | (next_row > e)
        lower = loc.astype(np.int64) * n_rows + xp.maximum(e - window + 1, 0)
        left = xp.searchsorted(key, lower, side="left")
        v = cum_visits[idx + 1] - cum_visits[left]
        d = cum_dwell[idx + 1] - cum_dwell[left]
        keep = canonical & (e <= user_last_row) & (v >= min_visits) & (d >= min_dwell_s)
        counts += xp.bincount(e[keep], minlength=n_rows)[:n_rows]
    return counts


def _layout(user, start_ns, end_ns, loc, bounds_ns, n_users, xp):
    """Cut stops into pieces per period, lay out rows, and group pieces by location and row.

    Groups (one per location and row) come sorted by location code then row.
    """
    src, period, p_start, p_end = split_at_bounds(start_ns, end_ns, bounds_ns, xp=xp)
    p_user = user[src]
    first, offset = period_rows(p_user, period, period, n_users, xp=xp)
    p_row = offset[p_user] + period - first[p_user]
    n_rows = int(offset[-1])
    if len(p_row) > 1 and bool((p_row[1:] < p_row[:-1]).any()):  # overlapping stops: restore row order
        order = sort_by(p_row, p_start, xp=xp)
        src, p_row, p_start, p_end = src[order], p_row[order], p_start[order], p_end[order]
    p_loc = loc[src]
    dwell_s = (p_end - p_start).astype(np.float64) / NS_PER_S
    key = p_loc * n_rows + p_row
    order = xp.argsort(key)
    g_flags = run_starts(key[order], xp=xp)
    gid = xp.empty(len(order), dtype=np.int64)
    gid[order] = xp.cumsum(g_flags) - 1
    heads = order[g_flags]
    n_groups = len(heads)
    row_user = xp.searchsorted(offset[1:], xp.arange(n_rows, dtype=np.int64), side="right")
    return {
        "row": p_row, "start": p_start, "end": p_end, "loc": p_loc, "dwell_s": dwell_s,
        "first": first, "offset": offset, "n_rows": n_rows, "row_user": row_user,
        "g_row": p_row[heads], "g_loc": p_loc[heads],
        "g_visits": xp.bincount(gid, minlength=n_groups).astype(np.float64),
        "g_dwell_s": xp.bincount(gid, weights=dwell_s, minlength=n_groups),
    }


def _capacity(lay, window, min_visits, min_dwell_s, xp):
    """Activity-set size per row over ``window`` rows, NaN until a user has ``window`` rows behind."""
    offset, row_user, g_row = lay["offset"], lay["row_user"], lay["g_row"]
    user_last_row = offset[1:][row_user[g_row]] - 1
    cap = activity_set_size(lay["g_loc"], g_row, lay["g_visits"], lay["g_dwell_s"], user_last_row,
                            lay["n_rows"], window=window, min_visits=min_visits, min_dwell_s=min_dwell_s,
                            xp=xp)
    rows_behind = xp.arange(lay["n_rows"], dtype=np.int64) - offset[:-1][row_user]
    return xp.where(rows_behind >= window - 1, cap, xp.nan)


def period_metrics(user, start_ns, end_ns, lat, lon, loc, loc_lat, loc_lon, bounds_ns, *, n_users,
                   weight_by_dwell=True, centre_weighted=True, k=2, normalise_entropy=False,
                   week_bounds_ns=None, capacity_weeks=4, capacity_min_visits=2,
                   capacity_min_weekly_dwell_s=600.0, day_bounds_ns=None, label_key=None,
                   label_home_loc=None, label_work_loc=None, xp=np):
    """All metrics for every user and period, from stops sorted by ``user`` then ``start_ns``.

    ``user``: codes ``0..n_users-1``; ``loc``: location codes ``0..len(loc_lat)-1`` numbered in order of
    first visit within each user (ties in the k-radius go to the earlier one); ``loc_lat``/``loc_lon``:
    location coordinates; ``lat``/``lon``: the stops' own coordinates (for travelled distance).
    ``bounds_ns``: period bounds (:func:`split_at_bounds`). ``week_bounds_ns``: ISO-week bounds for the
    capacity when the periods are not weeks (None: the periods are weeks). Labels (optional):
    ``day_bounds_ns`` local-day bounds, ``label_key = user * n_days + day`` sorted, with the home and work
    location codes of that day (-1 if none).

    Returns a dict of arrays, one entry per row: ``row_user``, ``row_period`` and the metrics named as the
    columns of :func:`mobility.metrics.weekly_metrics`.

    Examples
    --------
    One user, home (weight 3 h) and an office 1 km north (1 h), one week:

    >>> H = NS_PER_H
    >>> dlat = 1.0 / 6371.0 * 180 / np.pi
    >>> out = period_metrics(np.array([0, 0]), np.array([0, 4 * H]), np.array([3 * H, 5 * H]),
    ...                      np.array([0.0, dlat]), np.array([0.0, 0.0]), np.array([0, 1]),
    ...                      np.array([0.0, dlat]), np.array([0.0, 0.0]), np.array([0, 168 * H]),
    ...                      n_users=1, capacity_weeks=1)
    >>> round(float(out["radius_of_gyration_km"][0]), 4), int(out["n_stops"][0])
    (0.433, 2)
    """
    lay = _layout(user, start_ns, end_ns, loc, bounds_ns, n_users, xp)
    n_rows, g_row, g_loc = lay["n_rows"], lay["g_row"], lay["g_loc"]
    weight = lay["g_dwell_s"] if weight_by_dwell else lay["g_visits"]
    g_lat, g_lon = loc_lat[g_loc], loc_lon[g_loc]
    out = {"row_user": lay["row_user"]}
    out["row_period"] = lay["first"][lay["row_user"]] + xp.arange(n_rows, dtype=np.int64) \
        - lay["offset"][:-1][lay["row_user"]]
    n_stops = xp.bincount(lay["row"], minlength=n_rows)
    out["n_stops"] = n_stops
    out["coverage_h"] = covered_hours(lay["start"], lay["end"], lay["row"], n_rows, xp=xp)
    out["radius_of_gyration_km"] = radius_of_gyration_km(g_lat, g_lon, weight, g_row, n_rows,
                                                         centre_weighted=centre_weighted, xp=xp)
    top = top_k_mask(g_row, weight, k, xp=xp)
    out["k_radius_of_gyration_km"] = radius_of_gyration_km(g_lat[top], g_lon[top], weight[top], g_row[top],
                                                           n_rows, centre_weighted=centre_weighted, xp=xp)
    out["random_entropy_bits"], out["uncorrelated_entropy_bits"] = entropies_bits(
        weight, g_row, n_rows, normalise=normalise_entropy, xp=xp)
    out["distinct_locations"] = xp.bincount(g_row, minlength=n_rows)
    if week_bounds_ns is None:
        capacity = _capacity(lay, capacity_weeks, capacity_min_visits,
                             capacity_min_weekly_dwell_s * capacity_weeks, xp)
    else:
        weeks = _layout(user, start_ns, end_ns, loc, week_bounds_ns, n_users, xp)
        week_cap = _capacity(weeks, capacity_weeks, capacity_min_visits,
                             capacity_min_weekly_dwell_s * capacity_weeks, xp)
        u = lay["row_user"]
        week_of_end = xp.searchsorted(week_bounds_ns, bounds_ns[out["row_period"] + 1] - 1, side="right") - 1
        user_last_week = weeks["first"] + (weeks["offset"][1:] - weeks["offset"][:-1]) - 1
        week_row = weeks["offset"][:-1][u] + xp.minimum(week_of_end, user_last_week[u]) - weeks["first"][u]
        capacity = week_cap[week_row]
    is_new = run_starts(g_loc, xp=xp)  # groups are sorted by location then row
    out["new_locations"] = xp.bincount(g_row[is_new], minlength=n_rows)
    out["exploration_rate"] = _divide(out["new_locations"].astype(np.float64), n_stops.astype(np.float64), xp)
    out["capacity"] = capacity
    stop_period = xp.searchsorted(bounds_ns, start_ns, side="right") - 1
    stop_row = lay["offset"][user] + stop_period - lay["first"][user]
    out["travelled_distance_km"] = xp.bincount(stop_row, weights=step_distance_km(user, lat, lon, xp=xp),
                                               minlength=n_rows)
    for name, labels in (("time_at_home_h", label_home_loc), ("time_at_work_h", label_work_loc)):
        if labels is None:
            out[name] = xp.full(n_rows, xp.nan)
        else:
            out[name] = _time_at_label(lay, day_bounds_ns, label_key, labels, n_rows, xp)
    out.update(_nonwork(lay, g_lat, g_lon, weight, is_new, label_work_loc, len(loc_lat), centre_weighted,
                        normalise_entropy, xp))
    return out


NONWORK = ("radius_of_gyration_km", "uncorrelated_entropy_bits", "distinct_locations", "new_locations",
           "exploration_rate")
"""Metrics also computed without the stops at the person's workplaces, as ``<name>_nonwork``."""


def _nonwork(lay, g_lat, g_lon, weight, is_new, label_work_loc, n_loc, centre_weighted, normalise, xp):
    """The :data:`NONWORK` metrics over the groups and pieces at locations never labelled the person's work
    place (any day); NaN everywhere without labels. Exploration: new non-work locations over non-work visits."""
    n_rows, g_row = lay["n_rows"], lay["g_row"]
    names = [f"{name}_nonwork" for name in NONWORK]
    if label_work_loc is None:
        return {name: xp.full(n_rows, xp.nan) for name in names}
    is_work = xp.zeros(n_loc, dtype=bool)
    is_work[label_work_loc[label_work_loc >= 0]] = True
    keep = ~is_work[lay["g_loc"]]
    visits = xp.bincount(lay["row"][~is_work[lay["loc"]]], minlength=n_rows).astype(np.float64)
    new = xp.bincount(g_row[is_new & keep], minlength=n_rows).astype(np.float64)
    return dict(zip(names, (
        radius_of_gyration_km(g_lat[keep], g_lon[keep], weight[keep], g_row[keep], n_rows,
                              centre_weighted=centre_weighted, xp=xp),
        entropies_bits(weight[keep], g_row[keep], n_rows, normalise=normalise, xp=xp)[1],
        xp.bincount(g_row[keep], minlength=n_rows).astype(np.float64),
        new,
        _divide(new, visits, xp),
    )))


def _time_at_label(lay, day_bounds_ns, label_key, label_loc, n_rows, xp):
    """Hours per row at the day's labelled location; NaN where no day of the row with data has a label."""
    src, day, start, end = split_at_bounds(lay["start"], lay["end"], day_bounds_ns, xp=xp)
    row = lay["row"][src]
    n_days = len(day_bounds_ns) - 1
    key = lay["row_user"][row] * n_days + day
    if len(label_key) == 0:
        return xp.full(n_rows, xp.nan)
    pos = xp.minimum(xp.searchsorted(label_key, key, side="left"), len(label_key) - 1)
    label = xp.where(label_key[pos] == key, label_loc[pos], -1)
    labelled = label >= 0
    at = labelled & (lay["loc"][src] == label)
    hours = xp.bincount(row, weights=xp.where(at, (end - start).astype(np.float64) / NS_PER_H, 0.0),
                        minlength=n_rows)
    has = xp.bincount(row, weights=labelled.astype(np.float64), minlength=n_rows) > 0
    return xp.where(has, hours, xp.nan)
