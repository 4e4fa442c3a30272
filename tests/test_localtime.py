"""Tests of mobility.localtime."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.io.pings import read_pings
from mobility.localtime import check_timezone, local_time
from mobility.pings import validate_pings

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
GEOLIFE_000 = REAL / "geolife_trackintel" / "geolife_long_10_MB" / "000" / "Trajectory" / "20081023025304.plt"


def ts(*values, index=None):
    return pd.Series(pd.to_datetime(list(values), utc=True), index=index)


@pytest.mark.real
def test_geolife_ping_is_local_hour_10_in_beijing():
    if not GEOLIFE_000.exists():
        pytest.skip("real GeoLife data absent (expected under ../shared/data/real next to the repo)")
    pings = validate_pings(read_pings(GEOLIFE_000)).pings
    first = pings["timestamp"].iloc[:1]
    assert first.iloc[0] == pd.Timestamp("2008-10-23 02:53:04", tz="UTC")  # GMT in the file
    local = local_time(first, timezone="Asia/Shanghai")
    assert local.iloc[0] == pd.Timestamp("2008-10-23 10:53:04")  # Beijing is UTC+8, no DST in 2008
    assert local.dt.hour.iloc[0] == 10


def test_dst_transitions_new_york():
    # 2020-03-08 clocks jump 02:00 EST -> 03:00 EDT (07:00 UTC); 2020-11-01 fall back 02:00 EDT -> 01:00 EST
    utc = ts("2020-03-08 06:30", "2020-03-08 07:30", "2020-11-01 05:30", "2020-11-01 06:30")
    local = local_time(utc, timezone="America/New_York")
    assert local.tolist() == [pd.Timestamp("2020-03-08 01:30"), pd.Timestamp("2020-03-08 03:30"),
                              pd.Timestamp("2020-11-01 01:30"), pd.Timestamp("2020-11-01 01:30")]
    assert str(local.dtype) == "datetime64[ns]"


def test_offset_wins_where_present_and_zone_elsewhere():
    utc = ts("2020-07-01 12:00", "2020-07-01 12:00", "2020-07-01 12:00", index=[10, 11, 12])
    off = pd.Series([-18000, None, 19800], dtype="Int32", index=[0, 1, 2])  # aligned by position
    local = local_time(utc, utc_offset_s=off, timezone="Europe/Zurich")  # Zurich CEST = UTC+2
    assert local.tolist() == [pd.Timestamp("2020-07-01 07:00"), pd.Timestamp("2020-07-01 14:00"),
                              pd.Timestamp("2020-07-01 17:30")]
    assert local.index.tolist() == [10, 11, 12]


def test_default_is_utc_and_any_input_zone_is_converted():
    aware = pd.Series(pd.to_datetime(["2020-01-06 09:00"]).tz_localize("Europe/Zurich"))
    assert local_time(aware).tolist() == [pd.Timestamp("2020-01-06 08:00")]
    assert local_time(aware, timezone="UTC").tolist() == [pd.Timestamp("2020-01-06 08:00")]


def test_errors():
    with pytest.raises(MobilityError, match="IANA"):
        local_time(ts("2020-01-06"), timezone="Atlantis/Capital")
    with pytest.raises(MobilityError, match="tz-aware"):
        local_time(pd.Series(pd.to_datetime(["2020-01-06"])))
    with pytest.raises(MobilityError, match="utc_offset_s has 2 rows"):
        local_time(ts("2020-01-06"), utc_offset_s=pd.Series([0, 0]))
    assert check_timezone(None) is None
    for bad in ("", 5, "UTC+8"):
        with pytest.raises(MobilityError):
            check_timezone(bad)


def test_docstring_examples_run():
    import doctest

    import mobility.localtime

    assert doctest.testmod(mobility.localtime).failed == 0
