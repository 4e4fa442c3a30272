"""Visit kernels: runs of consecutive stops at one place that are to be merged into one visit, and the
coordinates of a merged visit.

Pure numpy over arrays sorted by user then start time (one row per stop). Used by
:func:`mobility.locations.assign_locations` (``merge_max_gap_s``).
"""

from __future__ import annotations

import numpy as np


def merge_run_starts(
    user: np.ndarray, location_id: np.ndarray, start_ns: np.ndarray, end_ns: np.ndarray, max_gap_ns: int
) -> np.ndarray:
    """Rows that begin a merged visit: every row except those that continue the previous row's visit.

    Row ``i`` continues row ``i - 1`` when both have the same ``user`` and the same ``location_id``, that
    location is not noise (``>= 0``), and the gap ``start_ns[i] - end_ns[i - 1]`` is at most
    ``max_gap_ns``. The test is between neighbours only, so a chain of short gaps merges a whole run
    (trackintel's ``merge_staypoints`` rule); any stop at another location in between keeps two visits apart.

    Parameters
    ----------
    user : ndarray of int
        User code per row, non-decreasing.
    location_id : ndarray of int
        Location per row, -1 (or any negative value) for noise; never merged.
    start_ns, end_ns : ndarray of int64
        Stop start and end times (any common unit, here nanoseconds); rows of one user sorted by start.
    max_gap_ns : int
        Longest gap (same unit) between one stop's end and the next one's start that is still merged.

    Returns
    -------
    ndarray of int64
        Ascending row indices of the first stop of each merged visit (row 0 first when there are rows).

    Examples
    --------
    >>> user = np.array([0, 0, 0, 0, 1])
    >>> loc = np.array([0, 0, 1, 1, 1])
    >>> start = np.array([0, 10, 20, 40, 45])
    >>> end = np.array([8, 15, 25, 50, 60])
    >>> merge_run_starts(user, loc, start, end, 5).tolist()  # rows 0-1 (gap 2) merge; 2-3 (gap 15) do not
    [0, 2, 3, 4]
    """
    n = user.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    joins = ((user[1:] == user[:-1]) & (location_id[1:] == location_id[:-1]) & (location_id[1:] >= 0)
             & (start_ns[1:] - end_ns[:-1] <= max_gap_ns))
    return np.flatnonzero(np.concatenate(([True], ~joins))).astype(np.int64)


def merged_coordinates(
    lat: np.ndarray, lon: np.ndarray, weight: np.ndarray, run_starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean coordinates of each run of rows.

    Each run (rows ``run_starts[k]`` up to the next run start) gets the ``weight``-weighted mean of its
    latitudes and longitudes; a run whose weights sum to 0 gets the plain mean. Longitudes are averaged as
    offsets from the run's first row, wrapped to [-180, 180), so a run on the antimeridian stays there.
    With ``weight`` = pings per stop and stops at the mean of their pings, this is the mean of all the
    run's pings: the coordinate one long stop would have had.

    Parameters
    ----------
    lat, lon : ndarray of float64
        Degrees, one per row.
    weight : ndarray of float64
        Non-negative weight per row (e.g. ``n_pings``).
    run_starts : ndarray of int64
        Ascending first rows of the runs, starting with 0 (:func:`merge_run_starts`).

    Returns
    -------
    lat, lon : ndarray of float64
        One per run; ``lon`` in [-180, 180).

    Examples
    --------
    >>> lat, lon = merged_coordinates(np.array([45.0, 45.3, 10.0]), np.array([179.9, -179.9, 9.0]),
    ...                               np.array([3.0, 1.0, 0.0]), np.array([0, 2]))
    >>> np.round(lat, 3).tolist(), np.round(lon, 3).tolist()
    ([45.075, 10.0], [179.95, 9.0])
    """
    if run_starts.shape[0] == 0:
        return np.zeros(0), np.zeros(0)
    size = np.diff(np.append(run_starts, lat.shape[0]))
    total = np.add.reduceat(weight, run_starts)
    w = np.where(np.repeat(total > 0, size), weight, 1.0)
    total = np.where(total > 0, total, size.astype(np.float64))
    dlon = (lon - np.repeat(lon[run_starts], size) + 180.0) % 360.0 - 180.0
    mean_lat = np.add.reduceat(lat * w, run_starts) / total
    mean_lon = (lon[run_starts] + np.add.reduceat(dlon * w, run_starts) / total + 180.0) % 360.0 - 180.0
    return mean_lat, mean_lon
