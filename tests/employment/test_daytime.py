import numpy as np
import pandas as pd
import pytest

from mobility.employment.daytime import daytime_weekly
from mobility.employment.params import EmploymentParams
from mobility.errors import MobilityError

TZ = "America/New_York"
HOME = (39.95, -75.16)
WORK = (39.95, -75.16 + 0.1)  # 0.1 degree of longitude east: 8.53 km at this latitude


def _local(day, hour):
    return pd.Timestamp(f"{day} {hour:02d}:00", tz=TZ).tz_convert("UTC")


def _stay(user, day, h0, h1, where, loc):
    return {"user_id": user, "start": _local(day, h0), "end": _local(day, h1), "lat": where[0], "lon": where[1],
            "location_id": loc}


def _week(user, days, kind):
    rows = []
    for day in days:
        if kind == "commuter":  # home, work 8-17, home
            rows += [_stay(user, day, 0, 8, HOME, 0), _stay(user, day, 8, 17, WORK, 1),
                     _stay(user, day, 17, 23, HOME, 0)]
        elif kind == "at_home":  # home all day, a 30-min errand 1 km north at 11:00
            rows += [_stay(user, day, 0, 11, HOME, 0), {**_stay(user, day, 11, 11, (HOME[0] + 0.009, HOME[1]), 2),
                                                         "end": _local(day, 11) + pd.Timedelta(minutes=30)},
                     {**_stay(user, day, 11, 23, HOME, 0), "start": _local(day, 11) + pd.Timedelta(minutes=30)}]
        else:  # home only
            rows.append(_stay(user, day, 0, 23, HOME, 0))
    return rows


def test_commuter_teleworker_and_silent_week():
    mon = pd.date_range("2020-03-02", periods=5).strftime("%Y-%m-%d")
    nxt = pd.date_range("2020-03-09", periods=5).strftime("%Y-%m-%d")
    stops = pd.DataFrame(_week("c", mon, "commuter") + _week("c", nxt, "at_home") + _week("h", mon[:3], "home"))
    days = pd.date_range("2020-03-02", "2020-03-13")
    labels = pd.DataFrame({"user_id": np.repeat(["c", "h"], len(days)), "date": np.tile(days, 2),
                           "home_location_id": 0})
    out = daytime_weekly(stops, labels, timezone=TZ).set_index(["user_id", "week"])
    c1, c2 = out.loc[("c", pd.Timestamp("2020-03-02"))], out.loc[("c", pd.Timestamp("2020-03-09"))]
    # work hours 09-18: at work 09-17 (8 h), home 17-18 (1 h), each of 5 days
    assert (c1["weekdays_with_data"], c1["weekdays_out"]) == (5, 5)
    assert c1["workhour_observed_h"] == pytest.approx(45.0) and c1["home_workhour_h"] == pytest.approx(5.0)
    work_km = 8.52426  # haversine, R = 6371 km: 2 R asin(cos(39.95 deg) sin(0.05 deg))
    assert c1["daytime_distance_km"] == pytest.approx(work_km * 40 / 45, rel=1e-5)
    assert c1["daytime_max_km"] == pytest.approx(work_km, rel=1e-5)
    # teleworking week: home but for a 30-minute errand 1 km away each day (>= min_outing_h = 15 min)
    assert c2["weekdays_out"] == 5 and c2["home_workhour_h"] == pytest.approx(42.5)
    assert c2["daytime_max_km"] == pytest.approx(1.000754, rel=1e-5)
    # home only, three weekdays: no outing, all work-hour time at home, distance 0
    h = out.loc[("h", pd.Timestamp("2020-03-02"))]
    assert (h["weekdays_with_data"], h["weekdays_out"], h["daytime_distance_km"]) == (3, 0, 0.0)
    # a longer outing threshold drops the 30-minute errands
    strict = daytime_weekly(stops, labels, timezone=TZ, params=EmploymentParams(min_outing_h=1.0))
    assert strict.set_index(["user_id", "week"]).loc[("c", pd.Timestamp("2020-03-09")), "weekdays_out"] == 0


def test_home_follows_the_daily_label_and_weekends_are_left_out():
    days = ["2020-03-02", "2020-03-03", "2020-03-07"]  # Monday, Tuesday, Saturday
    stops = pd.DataFrame([_stay("m", days[0], 0, 23, HOME, 0), _stay("m", days[1], 0, 23, WORK, 1),
                          _stay("m", days[2], 0, 23, WORK, 1)])
    labels = pd.DataFrame({"user_id": "m", "date": pd.to_datetime(days), "home_location_id": [0, 1, 1]})
    w = daytime_weekly(stops, labels, timezone=TZ).iloc[0]
    # moved on Tuesday: both weekdays at home, no outing; the Saturday is not a weekday
    assert (w["weekdays_with_data"], w["weekdays_out"], w["home_workhour_h"]) == (2, 0, 18.0)


def test_users_without_a_home_label_are_absent_and_columns_are_checked():
    stops = pd.DataFrame(_week("x", ["2020-03-02"], "commuter"))
    labels = pd.DataFrame({"user_id": ["x"], "date": pd.to_datetime(["2020-03-02"]),
                           "home_location_id": pd.array([pd.NA], dtype="Int64")})
    assert daytime_weekly(stops, labels, timezone=TZ).empty
    with pytest.raises(MobilityError, match=r"missing column\(s\) \['location_id'\]"):
        daytime_weekly(stops.drop(columns="location_id"), labels)
