"""The row checks of the pings table in one compiled pass: per row the first failing quarantine reason."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def row_reasons(uid_missing, ts, ts_missing, ts_bad, lat, lat_missing, lat_bad, lon, lon_missing, lon_bad,
                acc, acc_bad, max_accuracy_m, off, off_missing, off_bad, max_offset_s, first_ns, end_ns,
                reason, keep):
    """Fill ``reason`` (int8: index in ``mobility.schema.QUARANTINE_REASONS`` of the row's first failing
    check, -1 if none) and ``keep`` (passed every check and ``first_ns <= ts < end_ns``); return the number of
    rows that passed the checks but lie outside ``[first_ns, end_ns)``.

    The checks, in the order of the reasons: 0 ``missing_value`` (user id, time, lat or lon missing);
    1 ``bad_timestamp``; 2 ``bad_coordinate`` (not a number, or ``|lat| > 90``, ``|lon| > 180``, NaN
    included); 3 ``bad_accuracy`` (not a number, infinite or negative); 4 ``low_accuracy``
    (``> max_accuracy_m``: NaN switches it off); 5 ``bad_utc_offset`` (not a number, or not a whole number of
    seconds within ``+-max_offset_s``, unless missing).

    A number column's ``*_missing`` / ``*_bad`` masks (bool) come from parsing its text; an empty mask
    means the column was typed: missing where NaN, never bad. ``acc`` or ``off`` empty: no such column.
    ``ts`` int64 ns, read only where the checks passed.
    """
    n = reason.shape[0]
    lat_typed, lon_typed = lat_missing.shape[0] == 0, lon_missing.shape[0] == 0
    has_acc, has_off = acc.shape[0] == n and n > 0, off.shape[0] == n and n > 0
    acc_typed, off_typed = acc_bad.shape[0] == 0, off_missing.shape[0] == 0
    outside = 0
    for i in range(n):
        a, b = lat[i], lon[i]
        am = np.isnan(a) if lat_typed else lat_missing[i]
        bm = np.isnan(b) if lon_typed else lon_missing[i]
        r = -1
        if uid_missing[i] or ts_missing[i] or am or bm:
            r = 0
        elif ts_bad[i]:
            r = 1
        elif (not lat_typed and lat_bad[i]) or (not lon_typed and lon_bad[i]) or not (abs(a) <= 90.0) \
                or not (abs(b) <= 180.0):
            r = 2
        else:
            if has_acc:
                x = acc[i]
                if (not acc_typed and acc_bad[i]) or np.isinf(x) or x < 0:
                    r = 3
                elif x > max_accuracy_m:
                    r = 4
            if r < 0 and has_off:
                y = off[i]
                ym = np.isnan(y) if off_typed else off_missing[i]
                if (not off_typed and off_bad[i]) or (not ym and not (abs(y) <= max_offset_s and y == np.floor(y))):
                    r = 5
        reason[i] = r
        ok = r < 0
        if ok and (ts[i] < first_ns or ts[i] >= end_ns):
            outside += 1
            ok = False
        keep[i] = ok
    return outside
