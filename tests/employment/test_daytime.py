"""Daytime evidence in each person's usual work hours, on hand-made visits (values computed by hand)."""

import numpy as np
import pandas as pd
import pytest

from mobility.employment.attendance import weekly_attendance
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


def _wall(day, hour):
    """Local wall-clock time (``hour`` 24 = the next midnight), right across the DST switch of 8 March 2020."""
    return (pd.Timestamp(day) + pd.Timedelta(hours=hour)).tz_localize(TZ)


def _night_nurse(user, after, last_shift="2020-03-12"):
    """Nights 22:00-06:00 Sunday-Thursday at the ward (location 1) from Sunday 1 March to Thursday
    ``last_shift``, home (0) otherwise; afterwards at home every night, and with ``after == "remote"`` out at
    a shop (2) 14:00-16:00 Monday-Friday."""
    rows = []
    for day in pd.date_range("2020-03-01", "2020-03-22"):
        d, prev = day.strftime("%Y-%m-%d"), day - pd.Timedelta(days=1)
        shift_in = day.weekday() in (6, 0, 1, 2, 3) and day <= pd.Timestamp(last_shift)
        shift_out = prev.weekday() in (6, 0, 1, 2, 3) and pd.Timestamp("2020-03-01") <= prev <= pd.Timestamp(last_shift)
        out = after == "remote" and day > pd.Timestamp(last_shift) and day.weekday() < 5
        spans = [(0, 6, WORK if shift_out else HOME, 1 if shift_out else 0)]
        spans += [(6, 14, HOME, 0), (14, 16, (39.96, -75.16), 2), (16, 22, HOME, 0)] if out else [(6, 22, HOME, 0)]
        spans += [(22, 24, WORK if shift_in else HOME, 1 if shift_in else 0)]
        rows += [{"user_id": user, "start": _wall(d, a), "end": _wall(d, b), "lat": where[0], "lon": where[1],
                  "location_id": loc} for a, b, where, loc in spans]
    return rows


def test_night_nurse_across_dst_and_the_week_boundary_remote_against_laid_off():
    # Baseline: the week of 2 March (its Sunday is the DST switch). Her usual hours: 00-06 and 22-24 Monday-
    # Thursday (8 h), 00-06 Friday (6 h), 22-24 Sunday (2 h): (4 x 8 + 6 + 2) / 8 = 5 usual work days.
    rows = _night_nurse("remote", "remote") + _night_nurse("laid_off", "none")
    days = pd.date_range("2020-03-01", "2020-03-22")
    labels = pd.concat([_labels("remote", days), _labels("laid_off", days)])
    params = EmploymentParams(baseline_start="2020-03-02", baseline_end="2020-03-08")
    att = weekly_attendance(pd.DataFrame(rows), labels, timezone=TZ, params=params).set_index(["user_id", "week"])
    # the DST week (its Sunday-night shift starts in it and ends in the next) and the week after: every usual
    # day seen and at work, but Sunday 15 March, her first night at home (weight 2 / 8)
    for week, at_work in (("2020-03-02", 5.0), ("2020-03-09", 4.75)):
        row = att.loc[("remote", pd.Timestamp(week))]
        assert (row["usual_workdays"], row["workdays_observed"], row["workdays_at_work"]) == (5.0, 5.0, at_work)
    out = daytime_weekly(pd.DataFrame(rows), labels, timezone=TZ, params=params).set_index(["user_id", "week"])
    remote, laid_off = out.loc[("remote", pd.Timestamp("2020-03-16"))], out.loc[("laid_off", pd.Timestamp("2020-03-16"))]
    # in her usual hours (the night) neither goes out: the usual-hours outings cannot tell them apart
    assert remote["usual_days_out"] == laid_off["usual_days_out"] == 0
    assert remote["usual_home_h"] == laid_off["usual_home_h"] == 4 * 8 + 6 + 2
    # over the whole day: six usual work days (Sunday-Friday) seen; the remote nurse out on Monday-Friday
    assert (remote["usual_days_seen_all"], remote["usual_days_out_all"]) == (6, 5)
    assert (laid_off["usual_days_seen_all"], laid_off["usual_days_out_all"]) == (6, 0)
    assert (remote["off_days_seen_all"], remote["off_days_out_all"]) == (1, 0)  # Saturday, at home
    # the centre of her usual hours: 22-24 on five nights and 00-06 on five mornings, symmetric about 02:00
    assert remote["usual_clock_h"] == pytest.approx(2.0)


def test_whole_day_outings_need_data_over_the_day():
    # a 9-to-5 worker; in the second week her phone reports only 09:00-15:00 (home, a shop 12-13, home): 6 of
    # her 8 usual hours (>= 0.3 x 8: the day is seen, with an outing in the usual hours) but 6 of 24 hours of
    # the day (< 0.3 x 24 = 7.2): not seen over the whole day, so its outings are not counted there
    rows = []
    for day in pd.date_range("2020-03-02", "2020-03-06"):
        d = day.strftime("%Y-%m-%d")
        rows += [_stay("p", d, 0, 6, HOME, 0), _stay("p", d, 9, 17, WORK, 1)]
    for day in pd.date_range("2020-03-09", "2020-03-13"):
        d = day.strftime("%Y-%m-%d")
        rows += [_stay("p", d, 9, 12, HOME, 0), _stay("p", d, 12, 13, (39.96, -75.16), 2), _stay("p", d, 13, 15, HOME, 0)]
    days = pd.date_range("2020-03-02", "2020-03-13")
    out = daytime_weekly(pd.DataFrame(rows), _labels("p", days), timezone=TZ, params=PARAMS).set_index("week")
    first, second = out.loc[pd.Timestamp("2020-03-02")], out.loc[pd.Timestamp("2020-03-09")]
    assert (first["usual_days_seen"], first["usual_days_seen_all"], first["usual_days_out_all"]) == (5, 5, 0)
    assert (second["usual_days_seen"], second["usual_days_out"]) == (5, 5)
    assert (second["usual_days_seen_all"], second["usual_days_out_all"]) == (0, 0)
