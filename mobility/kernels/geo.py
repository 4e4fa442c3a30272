"""Great-circle distance, the one definition used by every step.

Haversine on a sphere of radius :data:`EARTH_RADIUS_KM` = 6371.0 km (the value scikit-mobility and
trackintel use), so distances agree with theirs to floating-point rounding.
"""

from __future__ import annotations

import math

import numba
import numpy as np

EARTH_RADIUS_KM = 6371.0
EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000.0


def haversine_m(lat1, lon1, lat2, lon2, xp=np):
    """Haversine distance in metres between arrays of points (degrees), elementwise.

    ``xp`` is the array module (``numpy`` or ``cupy``), so the same code runs on the GPU.

    Examples
    --------
    >>> round(float(haversine_m(0.0, 0.0, 0.0, 1.0)), 3)  # one degree of longitude at the equator
    111194.927
    """
    lat1 = xp.radians(lat1)
    lat2 = xp.radians(lat2)
    dlat = lat2 - lat1
    dlon = xp.radians(lon2) - xp.radians(lon1)
    a = xp.sin(dlat / 2.0) ** 2 + xp.cos(lat1) * xp.cos(lat2) * xp.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * xp.arcsin(xp.sqrt(xp.minimum(a, 1.0)))


@numba.njit(cache=True, fastmath=False)
def haversine_m_scalar(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres between two points (degrees), for use inside numba kernels.

    Examples
    --------
    >>> round(haversine_m_scalar(0.0, 0.0, 0.0, 1.0), 3)
    111194.927
    """
    rlat1 = math.radians(lat1)
    rlat2 = math.radians(lat2)
    dlat = rlat2 - rlat1
    dlon = math.radians(lon2) - math.radians(lon1)
    a = math.sin(dlat / 2.0) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


# Relative margin around the haversine term of the radius inside which :func:`within_m` computes the distance
# exactly: far wider than the rounding of either computation (about 1e-15), so the bounds never decide a
# pair the exact test would decide otherwise.
_SCREEN_MARGIN = 1e-9


@numba.njit(cache=True, fastmath=False)
def screen_terms(radius_m: float) -> tuple[float, float]:
    """The two thresholds of :func:`within_m` for ``radius_m``: below the first the haversine term ``a`` of
    a pair means closer than ``radius_m``, above the second farther; ``(-1, inf)`` (always the exact test)
    for radii of a quarter of the Earth's circumference or more, where ``a`` stops growing with distance.

    Examples
    --------
    >>> a_in, a_out = screen_terms(200.0)
    >>> 0 < a_in < a_out < 1e-8
    True
    """
    half_angle = radius_m / (2.0 * EARTH_RADIUS_M)
    if not half_angle < 0.5:
        return -1.0, math.inf
    term = math.sin(half_angle) ** 2
    return term * (1.0 - _SCREEN_MARGIN), term * (1.0 + _SCREEN_MARGIN)


@numba.njit(cache=True, fastmath=False)
def within_m(lat1: float, lon1: float, rlat1: float, rlon1: float, cos_lat1: float, lat2: float, lon2: float,
             radius_m: float, a_in: float, a_out: float) -> bool:
    """``haversine_m_scalar(lat1, lon1, lat2, lon2) < radius_m``, the same answer for every pair, mostly
    without a sine, cosine or arcsine.

    The haversine term ``a = sin²(dlat/2) + cos(lat1) cos(lat2) sin²(dlon/2)`` is bounded with
    ``x²(1 - x²/3) <= sin²(x) <= x²`` (``|x| <= 1``) and ``|cos(lat2) - cos(lat1)| <= |dlat|``; the distance
    grows with ``a``, so when the upper bound is below ``a_in`` the pair is inside the radius, when the lower
    bound is above ``a_out`` outside (:func:`screen_terms`: the term of ``radius_m`` less / plus a relative
    margin of 1e-9, far beyond rounding). Otherwise, and for pairs more than two radians apart, the distance
    is computed exactly (:func:`haversine_m_scalar`) and compared.

    Parameters
    ----------
    lat1, lon1 : float
        The reference point, degrees; ``rlat1``, ``rlon1`` the same in radians (``math.radians``) and
        ``cos_lat1`` = ``math.cos(rlat1)``, computed once per reference point by the caller.
    lat2, lon2 : float
        The other point, degrees.
    radius_m : float
        Radius in metres; ``a_in``, ``a_out`` its thresholds from :func:`screen_terms`.

    Examples
    --------
    >>> a_in, a_out = screen_terms(100.0)
    >>> r1, o1 = math.radians(40.0), math.radians(-75.0)
    >>> within_m(40.0, -75.0, r1, o1, math.cos(r1), 40.0005, -75.0, 100.0, a_in, a_out)   # 55.6 m north
    True
    >>> within_m(40.0, -75.0, r1, o1, math.cos(r1), 40.001, -75.0, 100.0, a_in, a_out)    # 111.2 m north
    False
    """
    dlat = math.radians(lat2) - rlat1
    dlon = math.radians(lon2) - rlon1
    x2 = 0.25 * dlat * dlat
    y2 = 0.25 * dlon * dlon
    if x2 <= 1.0 and y2 <= 1.0:
        spread = abs(dlat)
        upper = x2 + cos_lat1 * min(1.0, cos_lat1 + spread) * y2
        if upper < a_in:
            return True
        lower = x2 * (1.0 - x2 / 3.0) + cos_lat1 * max(0.0, cos_lat1 - spread) * y2 * (1.0 - y2 / 3.0)
        if lower > a_out:
            return False
    return haversine_m_scalar(lat1, lon1, lat2, lon2) < radius_m
