"""Local wall-clock time of UTC timestamps, for the rules that need it (night hours, work hours, days).

Storage is always UTC; local time is derived here only. A per-row UTC offset (``utc_offset_s``, seconds
east of UTC, as SDK panels such as Cuebiq deliver) wins where present; otherwise an IANA time zone
(``"America/New_York"``, daylight saving time aware); otherwise UTC.
"""

from __future__ import annotations

import zoneinfo

import numpy as np
import pandas as pd

from mobility.errors import MobilityError


def check_timezone(timezone: str | None, *, what: str = "timezone") -> str | None:
    """Return ``timezone`` if it is None or a known IANA zone name, else raise :class:`MobilityError`.

    Examples
    --------
    >>> check_timezone("Europe/Zurich")
    'Europe/Zurich'
    >>> check_timezone("Mars/Olympus")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: timezone='Mars/Olympus' is not an IANA time zone name; use one like 'America/New_York', 'Europe/Zurich' or 'UTC'
    """
    if timezone is None:
        return None
    try:
        if not isinstance(timezone, str) or not timezone:
            raise ValueError(timezone)
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError) as exc:
        raise MobilityError(
            f"{what}={timezone!r} is not an IANA time zone name; "
            "use one like 'America/New_York', 'Europe/Zurich' or 'UTC'"
        ) from exc
    return timezone


def local_time(
    timestamp_utc: pd.Series,
    *,
    utc_offset_s: pd.Series | None = None,
    timezone: str | None = None,
) -> pd.Series:
    """Naive local wall-clock datetimes of tz-aware timestamps.

    Parameters
    ----------
    timestamp_utc : pandas.Series of tz-aware datetimes
        The instants (any time zone; converted to UTC first).
    utc_offset_s : pandas.Series, optional
        Seconds east of UTC per row, aligned by position with ``timestamp_utc``; where non-null it wins.
    timezone : str, optional
        IANA zone for rows without an offset (daylight saving time aware); UTC when None.

    Returns
    -------
    pandas.Series of datetime64[ns] (naive), same index and name as ``timestamp_utc``.

    Raises
    ------
    MobilityError
        If ``timezone`` is not an IANA name, the timestamps are naive, or ``utc_offset_s`` has another length.

    Examples
    --------
    A GeoLife ping logged at 02:53 GMT in Beijing (UTC+8) is at 10:53 local time:

    >>> ts = pd.Series(pd.to_datetime(["2008-10-23 02:53:04"], utc=True))
    >>> local_time(ts, timezone="Asia/Shanghai").dt.hour.tolist()
    [10]

    A per-row offset wins over the zone; a missing offset falls back to it (New York is on EST in January):

    >>> ts = pd.Series(pd.to_datetime(["2020-01-06 12:00", "2020-01-06 12:00"], utc=True))
    >>> off = pd.Series([3600, None], dtype="Int32")
    >>> local_time(ts, utc_offset_s=off, timezone="America/New_York").dt.hour.tolist()
    [13, 7]
    """
    check_timezone(timezone)
    if not isinstance(timestamp_utc, pd.Series) or not isinstance(timestamp_utc.dtype, pd.DatetimeTZDtype):
        raise MobilityError(
            f"local_time: timestamps must be a Series of tz-aware datetimes, got dtype "
            f"{getattr(timestamp_utc, 'dtype', type(timestamp_utc))}; validate pings first "
            "(mobility.pings.validate_pings) or localise them with .dt.tz_localize('UTC')"
        )
    utc_naive = timestamp_utc.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    if timezone is None or timezone == "UTC":
        out = utc_naive
    else:
        out = timestamp_utc.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[ns]")
    if utc_offset_s is None:
        return out
    if len(utc_offset_s) != len(timestamp_utc):
        raise MobilityError(
            f"local_time: utc_offset_s has {len(utc_offset_s)} rows but the timestamps have "
            f"{len(timestamp_utc)}; pass the two columns of one table"
        )
    offsets = pd.to_numeric(pd.Series(utc_offset_s, copy=False), errors="coerce")
    offsets = offsets.to_numpy(dtype=np.float64, na_value=np.nan)
    has = ~np.isnan(offsets)
    if not has.any():
        return out
    shifted = utc_naive.to_numpy() + (np.where(has, offsets, 0.0) * 1e9).astype("timedelta64[ns]")
    values = np.where(has, shifted, out.to_numpy())
    return pd.Series(values, index=timestamp_utc.index, name=timestamp_utc.name)
