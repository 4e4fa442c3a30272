"""SDK-like pings sampled from true stops and the trips between them, vectorised over all pings.

Each person has a ping rate (pings per hour); stays are sampled as a Poisson process at that rate, trips at
``trip_ping_multiplier`` times it (the SDK wakes up on motion), positions on trips are interpolated along the
straight line. Ping times inside a segment come from normalised exponential spacings, so they are generated
already sorted. Device silences (random gaps of hours to days, plus one long gap for a few people) remove
pings. Positions get Gaussian GPS noise; ``accuracy_m`` is the reported 68 % radius of that noise. With
``gps_outlier_share`` > 0 that share of pings is moved a further ``gps_outlier_min_m``..``gps_outlier_max_m``
(uniform) in a random direction while keeping its ordinary ``accuracy_m``: the heavy tail of real fixes
(multipath, cell and Wi-Fi positioning) that the device does not flag.
"""

from __future__ import annotations

import numpy as np

from mobility.synthetic.geography import M_PER_DEG_LAT, offset_m
from mobility.synthetic.params import SyntheticParams

RADIUS68_PER_SD = 1.5096  # a 2-D Gaussian with per-axis sd s holds 68 % of points within sqrt(-2 ln 0.32) s


def silence_intervals(params: SyntheticParams, n_people: int, span_start_s: float, span_end_s: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Device silences: (person, start_s, end_s) arrays, sorted by person then start.

    Examples
    --------
    >>> p = SyntheticParams(silences_per_week=2.0, long_silence_user_share=1.0)
    >>> who, s, e = silence_intervals(p, 3, 0.0, 28 * 86400.0, np.random.default_rng(0))
    >>> bool((e > s).all()), bool(((e - s) >= 7 * 86400).sum() >= 3)
    (True, True)
    """
    weeks = (span_end_s - span_start_s) / (7 * 86400)
    k = rng.poisson(params.silences_per_week * weeks, n_people)
    who = np.repeat(np.arange(n_people), k)
    start = rng.uniform(span_start_s, span_end_s, len(who))
    dur = rng.lognormal(np.log(params.silence_median_h * 3600), params.silence_sigma, len(who))
    long_who = np.flatnonzero(rng.random(n_people) < params.long_silence_user_share)
    long_len = params.long_silence_days * 86400
    long_start = rng.uniform(span_start_s, max(span_start_s, span_end_s - long_len), len(long_who))
    who = np.r_[who, long_who]
    start = np.r_[start, long_start]
    end = start + np.r_[dur, np.full(len(long_who), long_len)]
    order = np.lexsort((start, who))
    return who[order], start[order], end[order]


def sample_pings(params: SyntheticParams, stops: dict[str, np.ndarray], rate_per_h: np.ndarray,
                 span_start_s: float, span_end_s: float, rng: np.random.Generator, drop=None):
    """Pings for the people of a batch.

    Parameters
    ----------
    stops
        From :func:`mobility.synthetic.daily.simulate_stops` (sorted by person then start).
    rate_per_h
        Ping rate of each person of the batch during stays.
    drop
        Optional ``drop(person, t_s, at_home)`` -> bool array: pings the phone never reports (churned or
        degraded phones, :func:`mobility.synthetic.phones.phone_filter`); ``at_home`` is whether the ping lies
        in a home stop. Draws no random number.

    Returns
    -------
    pings : dict
        ``person`` (integer batch index), ``t_s`` (int64 UTC seconds, sorted within person, unique per person),
        ``lat``, ``lon``, ``accuracy_m``.
    n_pings : ndarray
        Pings kept inside each stop (same order as ``stops``).

    Examples
    --------
    >>> p = SyntheticParams(silences_per_week=0.0, long_silence_user_share=0.0)
    >>> stops = {"person": np.array([0, 0]), "start": np.array([0.0, 7200.0]), "end": np.array([3600.0, 36000.0]),
    ...          "lat": np.array([40.0, 40.01]), "lon": np.array([-75.1, -75.1])}
    >>> pings, n = sample_pings(p, stops, np.array([30.0]), 0.0, 36000.0, np.random.default_rng(0))
    >>> bool(np.all(np.diff(pings["t_s"]) > 0)), int(n.sum()) <= len(pings["t_s"]), 200 < int(n[1]) < 360
    (True, True, True)
    """
    person = stops["person"]
    ns = len(person)
    # segments: stop i at 2i, the trip after it at 2i + 1 (empty if the next stop is someone else's)
    nxt_same = np.r_[person[1:] == person[:-1], False]
    nxt = np.minimum(np.arange(ns) + 1, ns - 1)
    seg_start = np.empty(2 * ns)
    seg_end = np.empty(2 * ns)
    seg_start[0::2], seg_end[0::2] = stops["start"], stops["end"]
    seg_start[1::2] = stops["end"]
    seg_end[1::2] = np.where(nxt_same, stops["start"][nxt], stops["end"])
    lat0 = np.repeat(stops["lat"], 2)
    lon0 = np.repeat(stops["lon"], 2)
    lat1, lon1 = lat0.copy(), lon0.copy()
    lat1[1::2] = np.where(nxt_same, stops["lat"][nxt], stops["lat"])
    lon1[1::2] = np.where(nxt_same, stops["lon"][nxt], stops["lon"])
    seg_person = np.repeat(person.astype(np.int32) if len(rate_per_h) < 2**31 else person, 2)
    mult = np.tile([1.0, params.trip_ping_multiplier], ns)
    dur = np.maximum(seg_end - seg_start, 0.0)
    n = rng.poisson(rate_per_h[seg_person] * mult * dur / 3600.0)
    del seg_end, mult, nxt, nxt_same
    # sorted uniform fractions from exponential spacings: n + 1 gaps per non-empty segment. Memory: the
    # region's batch holds ~10M pings, so every per-ping array is ~80 MB; intermediates are freed as soon as
    # possible and updated in place (the same floating-point operations in the same order: same bits).
    has = np.flatnonzero(n > 0)
    n_has = n[has]
    gaps = rng.exponential(1.0, int(n_has.sum() + len(has)))
    csum = np.cumsum(gaps)
    del gaps
    ends = np.cumsum(n_has + 1) - 1
    offset = np.r_[0.0, csum[ends[:-1]]]
    total = csum[ends] - offset
    frac = np.delete(csum, ends)  # the last cumulative value of a segment is 1 by construction: dropped
    del csum
    local = np.repeat(np.arange(len(has), dtype=np.int32 if len(has) < 2**31 else np.int64), n_has)
    frac -= offset[local]
    frac /= total[local]
    del local, offset, total, ends
    seg = np.repeat(has.astype(np.int32) if 2 * ns < 2**31 else has, n_has)  # segment of each ping
    del has, n_has
    t = frac * dur[seg]
    t += seg_start[seg]
    del dur, seg_start
    lat = frac * (lat1 - lat0)[seg]
    lat += lat0[seg]
    lon = frac * (lon1 - lon0)[seg]
    lon += lon0[seg]
    del frac, lat0, lat1, lon0, lon1
    who = seg_person[seg]
    del seg_person
    # silences: pings are sorted by (person, time), so locate each silence in them and mark the ranges
    s_who, s_start, s_end = silence_intervals(params, len(rate_per_h), span_start_s, span_end_s, rng)
    big = 4.0 * (span_end_s - span_start_s) + 1e6
    key = t - span_start_s
    key += who * big
    lo = np.searchsorted(key, s_who * big + (s_start - span_start_s), side="left")
    hi = np.searchsorted(key, s_who * big + (s_end - span_start_s), side="right")
    depth = np.zeros(len(key) + 1, dtype=np.int32)
    del key
    np.add.at(depth, lo, 1)
    np.add.at(depth, hi, -1)
    np.cumsum(depth, out=depth)
    keep = depth[:-1] == 0
    del depth
    if drop is not None:
        at_home = (seg % 2 == 0) & (np.asarray(stops["kind"])[seg // 2] == 0)
        keep &= ~drop(who, t, at_home)
        del at_home
    # whole seconds, one ping per person and second
    np.floor(t, out=t)
    t_s = t.astype(np.int64)
    del t
    dup = np.zeros(len(t_s), dtype=bool)
    dup[1:] = (who[1:] == who[:-1]) & (t_s[1:] == t_s[:-1])
    keep &= ~dup
    del dup
    keep &= (t_s >= span_start_s) & (t_s < span_end_s)
    seg = seg[keep]
    who = who[keep]
    t_s = t_s[keep]
    lat = lat[keep]
    lon = lon[keep]
    del keep
    n_pings = np.bincount(seg[seg % 2 == 0] // 2, minlength=ns).astype(np.int64)
    # GPS noise
    acc = rng.uniform(params.gps_noise_min_m, params.gps_noise_max_m, len(t_s))
    sd = acc / RADIUS68_PER_SD
    m_per_deg_lon = M_PER_DEG_LAT * np.cos(np.radians(stops["lat"]))
    step = rng.standard_normal(len(t_s), dtype=np.float32) * sd
    step /= M_PER_DEG_LAT
    lat += step
    del step
    step = np.multiply(rng.standard_normal(len(t_s), dtype=np.float32), sd, out=sd)  # sd is not needed after
    step /= m_per_deg_lon[seg // 2]
    del seg
    lon += step
    del step, sd
    acc *= rng.uniform(0.8, 1.25, len(t_s))
    reported = np.round(acc, 1, out=acc)
    if params.gps_outlier_share > 0:
        add_outliers(lat, lon, params, rng)
    return {"person": who, "t_s": t_s, "lat": lat, "lon": lon, "accuracy_m": reported}, n_pings


def add_outliers(lat: np.ndarray, lon: np.ndarray, params: SyntheticParams, rng: np.random.Generator) -> np.ndarray:
    """Move a ``params.gps_outlier_share`` of the points, in place, by a distance uniform in
    ``[gps_outlier_min_m, gps_outlier_max_m]`` in a uniform random direction; returns the moved rows.

    Examples
    --------
    >>> from mobility.kernels.geo import haversine_m
    >>> lat, lon = np.full(1000, 40.0), np.full(1000, -75.1)
    >>> moved = add_outliers(lat, lon, SyntheticParams(gps_outlier_share=0.2), np.random.default_rng(0))
    >>> d = haversine_m(40.0, -75.1, lat, lon)
    >>> 150 < len(moved) < 250, int((d > 0).sum()) == len(moved)
    (True, True)
    >>> bool((d[moved] > 99.9).all() and (d[moved] < 300.1).all())
    True
    """
    moved = np.flatnonzero(rng.random(len(lat)) < params.gps_outlier_share)
    r = rng.uniform(params.gps_outlier_min_m, params.gps_outlier_max_m, len(moved))
    theta = rng.uniform(0, 2 * np.pi, len(moved))
    lat[moved], lon[moved] = offset_m(lat[moved], lon[moved], r, theta)
    return moved
