"""Daytime evidence in each person's usual work hours, on hand-made visits (values computed by hand)."""

import numpy as np
import pandas as pd
import pytest

from mobility.employment.daytime import daytime_weekly
from mobility.employment.params import EmploymentParams
from mobility.errors import MobilityError

TZ = "America/New_York"
HOME = (39.95, -75.16)
WORK = (39.95, -75.16 + 0.1)  # 0.1 degree of longitude east: 8.52426 km (haversine, R = 6371 km)
WORK_KM = 8.52426
PARAMS = EmploymentParams(baseline_start="2020-03-02", baseline_end="2020-03-08")


def _local(day, hour):
    return pd.Timestamp(day, tz=TZ) + pd.Timedelta(hours=hour)


def _stay(user, day, h0, h1, where, loc):
    return {"user_id": user, "start": _local(day, h0), "end": _local(day, h1), "lat": where[0], "lon": where[1],
            "location_id": loc}


def _labels(user, days, home=0, work=1):
    return pd.DataFrame({"user_id": user, "date": pd.to_datetime(days), "home_location_id": home,
                         "work_location_id": pd.array([work] * len(days), dtype="Int64"), "work_status": "fixed"})


def _two_weeks(user, first, second, shift=(9, 17)):
    """Mon-Fri of the week of 2 March as ``first``, of 9 March as ``second``; weekends at home."""
    h0, h1 = shift
    rows = []
    for day in pd.date_range("2020-03-02", "2020-03-15"):
        d = day.strftime("%Y-%m-%d")
        kind = "home" if day.weekday() >= 5 else (first if day < pd.Timestamp("2020-03-09") else second)
        if kind == "commute":
            rows += [_stay(user, d, 0, h0, HOME, 0), _stay(user, d, h0, h1, WORK, 1), _stay(user, d, h1, 24, HOME, 0)]
        elif kind == "errand":  # at home, an hour at a shop 1 km north at 11:00
            rows += [_stay(user, d, 0, 11, HOME, 0), _stay(user, d, 11, 12, (HOME[0] + 0.009, HOME[1]), 2),
                     _stay(user, d, 12, 24, HOME, 0)]
        elif kind == "home":
            rows.append(_stay(user, d, 0, 24, HOME, 0))
    return rows


def test_remote_week_against_a_commuting_baseline():
    stops = pd.DataFrame(_two_weeks("c", "commute", "errand"))
    out = daytime_weekly(stops, _labels("c", pd.date_range("2020-03-02", "2020-03-15")), timezone=TZ,
                         params=PARAMS).set_index("week")
    base, remote = out.loc[pd.Timestamp("2020-03-02")], out.loc[pd.Timestamp("2020-03-09")]
    # usual hours 09-17 Mon-Fri (8 h): the baseline week at work, no outing, the farthest point the workplace
    assert (base["usual_days_seen"], base["usual_days_out"], base["usual_seen_h"]) == (5, 0, 40)
    assert (base["usual_home_h"], base["usual_other_h"]) == (0, 0)
    assert base["daytime_distance_km"] == pytest.approx(WORK_KM, rel=1e-5)
    # the remote week: at home but for an hour at a shop each day, 1.0008 km away (haversine of 0.009 deg)
    assert (remote["usual_days_seen"], remote["usual_days_out"]) == (5, 5)
    assert (remote["usual_home_h"], remote["usual_other_h"]) == (35, 5)
    assert remote["daytime_distance_km"] == pytest.approx(1.000754 * 5 / 40, rel=1e-5)
    assert remote["daytime_max_km"] == pytest.approx(1.000754, rel=1e-5)
    # weekends are days off, read in the same clock hours: seen, at home, no outing
    assert (remote["off_days_seen"], remote["off_days_out"], remote["off_seen_h"], remote["off_home_h"]) == (2, 0, 16, 16)
    assert out["workplace_id"].tolist() == [1.0, 1.0]


def test_night_worker_is_read_in_her_own_hours():
    # works 22:00-06:00: her usual hours are the night; home in the day. At home at night in the second week.
    rows = []
    for day in pd.date_range("2020-03-02", "2020-03-15"):
        d = day.strftime("%Y-%m-%d")
        works = day.weekday() < 5 and day < pd.Timestamp("2020-03-09")
        rows += [_stay("n", d, 0, 6, WORK if works and day.weekday() > 0 else HOME, 1 if works and day.weekday() > 0 else 0),
                 _stay("n", d, 6, 22, HOME, 0), _stay("n", d, 22, 24, WORK if works else HOME, 1 if works else 0)]
    out = daytime_weekly(pd.DataFrame(rows), _labels("n", pd.date_range("2020-03-02", "2020-03-15")), timezone=TZ,
                         params=PARAMS).set_index("week")
    night = out.loc[pd.Timestamp("2020-03-09")]
    # usual hours: 22-24 Mon-Fri and 00-06 Tue-Fri = 5 x 2 + 4 x 6 = 34 h; all at home
    assert night["usual_seen_h"] == pytest.approx(34.0) and night["usual_home_h"] == pytest.approx(34.0)
    assert night["usual_days_out"] == 0 and night["daytime_distance_km"] == 0.0


def test_home_follows_the_daily_label_and_the_first_label_fills_earlier_days():
    stops = pd.DataFrame(_two_weeks("m", "commute", "home"))
    stops.loc[len(stops) - 1, "location_id"] = 2  # Sunday 15 March at the new home (location 2)
    days = pd.date_range("2020-03-02", "2020-03-15")
    labels = _labels("m", days)
    labels["home_location_id"] = pd.array([pd.NA] * 3 + [0] * 6 + [2] * 5, dtype="Int64")  # "moved" to 2 on 11 March
    out = daytime_weekly(stops, labels, timezone=TZ, params=PARAMS).set_index("week")
    second = out.loc[pd.Timestamp("2020-03-09")]
    # Monday-Tuesday at home (0); Wednesday-Friday location 0 is no longer home: 3 days of 8 h elsewhere
    assert (second["usual_home_h"], second["usual_other_h"], second["usual_days_out"]) == (16, 24, 3)
    assert out.loc[pd.Timestamp("2020-03-02"), "usual_home_h"] == 0  # first days: the modal home, at work


def test_columns_are_checked():
    stops = pd.DataFrame(_two_weeks("x", "commute", "commute"))
    labels = _labels("x", pd.date_range("2020-03-02", "2020-03-15"))
    with pytest.raises(MobilityError, match=r"missing column\(s\) \['lat', 'lon'\]"):
        daytime_weekly(stops.drop(columns=["lat", "lon"]), labels)
    with pytest.raises(MobilityError, match=r"missing column\(s\) \['home_location_id'\]"):
        daytime_weekly(stops, labels.drop(columns="home_location_id"))
    out = daytime_weekly(stops, labels, params=PARAMS)
    seen = out["usual_seen_h"] > 0
    assert seen.sum() == 2 and np.isfinite(out.loc[seen, "daytime_distance_km"]).all()
    assert out.loc[~seen, "daytime_distance_km"].isna().all()
