"""Column contracts of every table the package reads or writes.

Each table is a pandas (or cuDF) DataFrame with exactly these columns and dtypes. Timestamps are
tz-aware UTC in storage; local time is derived only inside rules (see :mod:`mobility.localtime`).

Tables
------
pings
    ``user_id`` (string), ``timestamp`` (datetime64[ns, UTC]), ``lat``, ``lon`` (float64, WGS84 degrees),
    optional ``accuracy_m`` (float64, metres), optional ``utc_offset_s`` (int32, seconds east of UTC).
    Sorted by ``user_id`` then ``timestamp``.
quarantine
    The rows a validator rejected: every input column as text, plus ``source`` (file name), ``row``
    (0-based row number in that file, -1 if unknown) and ``reason`` (one of :data:`QUARANTINE_REASONS`).
stops
    ``user_id`` (string), ``stop_id`` (int64, 0.. per user in time order), ``start``, ``end``
    (datetime64[ns, UTC]; ``end`` is the timestamp of the last ping inside the stop), ``lat``, ``lon``
    (float64), ``n_pings`` (int64), ``location_id`` (int64, -1 until the locations step assigns one).
    Sorted by ``user_id`` then ``start``.
home_work_daily
    ``user_id``, ``date`` (datetime64[ns], local calendar day, naive), ``home_location_id``,
    ``work_location_id`` (Int64, missing when not detected; internal ids, never in reports), ``work_status``
    (string: ``fixed``, ``no_fixed_workplace``, ``none`` or ``unknown``, see :mod:`mobility.home_work`),
    ``home_cbg``, ``work_cbg`` (string 12-digit GEOID, missing when not detected).
"""

from __future__ import annotations

PINGS_REQUIRED = ("user_id", "timestamp", "lat", "lon")
PINGS_OPTIONAL = ("accuracy_m", "utc_offset_s")
PINGS = PINGS_REQUIRED + PINGS_OPTIONAL

QUARANTINE_REASONS = (
    "missing_value",        # a required field is empty
    "bad_timestamp",        # unparseable, or outside TIMESTAMP_MIN..TIMESTAMP_MAX
    "bad_coordinate",       # non-numeric, non-finite, |lat| > 90 or |lon| > 180
    "null_island",          # lat = lon = 0: an export's placeholder for "no fix", not a place
    "bad_accuracy",         # accuracy_m non-numeric or negative
    "low_accuracy",         # accuracy_m worse (larger) than the max_accuracy_m threshold
    "bad_utc_offset",       # utc_offset_s non-numeric or outside +-18 h
    "duplicate",            # same user_id and timestamp as a row already kept
)

# Plausible timestamps for smartphone/GPS data; anything outside is a bad_timestamp.
TIMESTAMP_MIN = "2000-01-01"
TIMESTAMP_MAX = "2100-01-01"

STOPS = ("user_id", "stop_id", "start", "end", "lat", "lon", "n_pings", "location_id")

HOME_WORK_DAILY = ("user_id", "date", "home_location_id", "work_location_id", "work_status", "home_cbg",
                   "work_cbg")
