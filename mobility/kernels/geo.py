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
