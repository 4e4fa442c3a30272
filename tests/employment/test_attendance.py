"""Attendance at the workplace itself: hand-made people, values worked out by hand in the comments.

Day 0 is Monday 2020-01-06; the baseline of these tests is its first three weeks (days 0-20). Visits are whole
hours built from an hour-by-hour timeline (home wherever nothing else is given).
"""

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from mobility.employment.attendance import (
    baseline_work_cbg,
    baseline_workplace,
    relative_attendance,
    weekly_attendance,
)
from mobility.employment.params import EmploymentParams
from mobility.errors import MobilityError

T0 = pd.Timestamp("2020-01-06", tz="UTC")
HOME, WORK, WORK2 = 0, 1, 2
PARAMS = EmploymentParams(baseline_start="2020-01-06", baseline_end="2020-01-26")


def _visits(user, shifts, n_days=56, where=lambda d: WORK, silent=None):
    """Stops of whole hours. shifts: {weekday: (start_h, end_h)} (end_h > 24 runs past midnight);
    where(day) -> the place of that day's shift (HOME: stays home); silent(hour_index) -> True drops that hour."""
    hour = np.full(n_days * 24, HOME)
    for d in range(n_days):
        if d % 7 in shifts:
            s, e = shifts[d % 7]
            hour[24 * d + s: min(24 * d + e, hour.size)] = where(d)
    if silent is not None:
        hour[[silent(h) for h in range(hour.size)]] = -1
    change = np.flatnonzero(np.diff(hour) != 0) + 1
    starts, ends = np.r_[0, change], np.r_[change, hour.size]
    keep = hour[starts] >= 0
    return pd.DataFrame({"user_id": user, "start": T0 + pd.to_timedelta(starts[keep], unit="h"),
                         "end": T0 + pd.to_timedelta(ends[keep], unit="h"), "location_id": hour[starts[keep]]})


def _labels(user, n_days=56, work=lambda d: WORK):
    w = [work(d) for d in range(n_days)]
    return pd.DataFrame({"user_id": user, "date": pd.date_range("2020-01-06", periods=n_days),
                         "work_location_id": pd.array(w, dtype="Int64"),
                         "work_status": ["fixed" if x is not None else "none" for x in w]})


def _weekly(visits, labels):
    w = weekly_attendance(visits, labels, params=PARAMS)
    return w.set_index("week")[["usual_workdays", "workdays_observed", "workdays_at_work"]].values.tolist()


DAY_JOB = {d: (9, 17) for d in range(5)}


def test_day_worker_weeks_are_counted_in_usual_days():
    # Monday-Friday 09-17: usual hours 9..16 on 5 days -> 5 usual work days, all observed and at work
    assert _weekly(_visits("a", DAY_JOB, 14), _labels("a", 14)) == [[5.0, 5.0, 5.0]] * 2


def test_night_only_phone_is_unobserved_not_absent():
    # from day 28 the phone reports only 23:00-06:00 (at home): none of the usual hours 09-17 is seen
    silent = lambda h: h >= 28 * 24 and 6 <= h % 24 < 23
    w = _weekly(_visits("a", DAY_JOB, silent=silent), _labels("a"))
    assert w[:4] == [[5.0, 5.0, 5.0]] * 4 and w[4:] == [[5.0, 0.0, 0.0]] * 4
    panel = relative_attendance(weekly_attendance(_visits("a", DAY_JOB, silent=silent), _labels("a"), params=PARAMS),
                                pd.DataFrame({"user_id": ["a"]}), params=PARAMS)
    assert panel["covered"].tolist() == [True] * 4 + [False] * 4
    assert panel["attendance"].tolist()[:4] == [1.0] * 4 and panel["attendance"].iloc[4:].isna().all()


def test_only_at_home_phone_is_unobserved():
    # from day 28 the phone reports only while at home: at work 09-17 nothing is seen
    visits = _visits("a", DAY_JOB)
    visits = visits[(visits["start"] < T0 + pd.Timedelta(days=28)) | (visits["location_id"] == HOME)]
    assert _weekly(visits, _labels("a"))[4:] == [[5.0, 0.0, 0.0]] * 4


def test_night_nurse_usual_days_and_job_loss():
    # ward 22:00-06:00 Sunday..Thursday nights, last shift on Thursday day 31. Baseline profile (days 0-20):
    # Sunday 22-23 (2 h); Monday 22-23 and 0-5, but Monday's 0-5 were at the ward on 2 of the 3 baseline
    # Mondays (none before day 0): 2 + 6 x 2/3 = 6 h; Tuesday-Thursday 8 h; Friday 0-5 (6 h). Largest day 8 h:
    # (2 + 6 + 8 + 8 + 8 + 6) / 8 = 4.75 usual work days. Week 4: at work Monday-Friday (4.5), home on Sunday
    # 34. Then at home in her usual hours: observed, not at work.
    shifts = {d: (22, 30) for d in (6, 0, 1, 2, 3)}
    w = _weekly(_visits("n", shifts, where=lambda d: WORK if d < 32 else HOME), _labels("n"))
    assert w[:4] == [[4.75, 4.75, 4.75]] * 4
    assert w[4] == [4.75, 4.75, 4.5]
    assert w[5:] == [[4.75, 4.75, 0.0]] * 3


def test_saturday_shop_worker_thursday_to_sunday():
    # 10:00-18:00 Thursday..Sunday: 4 usual days; in week 4 she skips Sunday (day 34) and stays home
    w = _weekly(_visits("s", {d: (10, 18) for d in (3, 4, 5, 6)}, where=lambda d: HOME if d == 34 else WORK),
                _labels("s"))
    assert w[3] == [4.0, 4.0, 4.0] and w[4] == [4.0, 4.0, 3.0]


def test_part_timer_week_with_one_of_two_usual_days_seen():
    # Tuesday and Thursday 09-17: 2 usual days. The phone is off on Thursday of week 5 (day 38): 1 of 2 usual
    # days observed >= min(min_weekdays_with_data 2, max(1, 2 / 2)) -> covered, at work 1 of 1. Off on both
    # usual days of week 6 (days 43 and 45): nothing observed -> not covered.
    silent = lambda h: h // 24 in (38, 43, 45)
    weekly = weekly_attendance(_visits("p", {1: (9, 17), 3: (9, 17)}, silent=silent), _labels("p"), params=PARAMS)
    assert weekly["usual_workdays"].tolist() == [2.0] * 8
    assert weekly["workdays_observed"].tolist() == [2.0] * 5 + [1.0, 0.0, 2.0]
    panel = relative_attendance(weekly, pd.DataFrame({"user_id": ["p"]}), params=PARAMS)
    assert panel["covered"].tolist() == [True] * 6 + [False, True]
    assert panel["attendance"].dropna().tolist() == [1.0] * 7


def test_a_day_needs_a_share_of_its_usual_hours_seen():
    # 09-17 worker whose phone on Monday of week 4 (day 28) reports only 09:00-11:00 at home: 2 of 8 usual
    # hours seen >= min_day_observed_h 1 but < min_day_observed_share 0.3 x 8 = 2.4 -> that day is not observed
    silent = lambda h: h // 24 == 28 and not 9 <= h % 24 < 11
    visits = _visits("a", DAY_JOB, where=lambda d: HOME if d == 28 else WORK, silent=silent)
    assert _weekly(visits, _labels("a"))[4] == [5.0, 4.0, 4.0]
    params = EmploymentParams(baseline_start="2020-01-06", baseline_end="2020-01-26", min_day_observed_share=0.2)
    w = weekly_attendance(visits, _labels("a"), params=params)
    assert w["workdays_observed"].iloc[4] == 5.0 and w["workdays_at_work"].iloc[4] == 4.0


def test_job_change_keeps_attendance_and_a_gap_shows_as_absence():
    # no gap: office 1 until day 27, office 2 from day 28; the labels switch with it -> at work every week
    switch = lambda d: WORK if d < 28 else WORK2
    assert _weekly(_visits("c", DAY_JOB, where=switch), _labels("c", work=switch)) == [[5.0, 5.0, 5.0]] * 8
    # a gap: office 1 until day 27, home on days 28-41, office 2 from day 42. Labels: office 1 to day 31,
    # none on days 32-38 (the reference stays office 1), office 2 from day 39 -> weeks 4 and 5 at work on 0
    # days, week 6 on 5 (office 2)
    place = lambda d: WORK if d < 28 else (HOME if d < 42 else WORK2)
    label = lambda d: WORK if d < 32 else (None if d < 39 else WORK2)
    w = _weekly(_visits("g", DAY_JOB, where=place), _labels("g", work=label))
    assert [x[2] for x in w] == [5.0] * 4 + [0.0, 0.0] + [5.0] * 2


def test_gig_worker_has_no_baseline_workplace():
    labels = _labels("g", work=lambda d: None).assign(work_status="no_fixed_workplace")
    assert baseline_workplace(labels, params=PARAMS).empty
    weekly = weekly_attendance(_visits("g", DAY_JOB, where=lambda d: 100 + d), labels, params=PARAMS)
    assert set(weekly["work_status"]) == {"no_fixed_workplace"}
    panel = relative_attendance(weekly, baseline_workplace(labels, params=PARAMS), params=PARAMS)
    assert not panel["baseline_job"].any() and panel["attendance"].isna().all()


def test_workplace_next_to_home_in_the_home_cbg_end_to_end():
    # home and work 150 m apart in one block group; 8 co-workers elsewhere keep working, she loses her job on
    # day 35 (stays home). Labels come from detect_home_work and obfuscate_to_cbg, as in the pipeline.
    from mobility.employment.sector import SECTORS
    from mobility.employment.status import signal_status
    from mobility.home_work import detect_home_work
    from mobility.locations import locations_table
    from mobility.obfuscate import obfuscate_to_cbg

    n_days = 70
    visits = [_visits("near", DAY_JOB, n_days, where=lambda d: WORK if d < 35 else HOME)]
    visits += [_visits(f"peer{i}", DAY_JOB, n_days) for i in range(8)]
    visits = pd.concat(visits, ignore_index=True)
    lat = np.where(visits["location_id"] == HOME, 39.9500, 39.9500 + 150 / 111_320)   # work 150 m north
    lon = np.where(visits["user_id"] == "near", -75.15, -75.05)
    visits = visits.assign(lat=lat, lon=lon)
    cbg = __import__("geopandas").GeoDataFrame({"GEOID": ["421010001001", "421010001002"]}, crs=4326,
                                              geometry=[box(-75.2, 39.9, -75.1, 40.0), box(-75.1, 39.9, -75.0, 40.0)])
    labels = obfuscate_to_cbg(detect_home_work(visits, timezone="UTC"), locations_table(visits), cbg)
    near = labels[labels["user_id"] == "near"]
    assert (near["home_cbg"].iloc[:30] == near["work_cbg"].iloc[:30]).all()   # one CBG for both
    weekly = weekly_attendance(visits, labels, params=PARAMS)
    panel = relative_attendance(weekly, baseline_workplace(labels, params=PARAMS), params=PARAMS)
    near_att = panel[panel["user_id"] == "near"]["attendance"].tolist()
    assert near_att == [1.0] * 5 + [0.0] * 5   # per CBG she would "attend" every day at home
    features = pd.DataFrame(0.0, index=range(9), columns=[f"w_{s}" for s in SECTORS]).assign(w_CNS18=1.0)
    features.insert(0, "user_id", ["near"] + [f"peer{i}" for i in range(8)])
    tau = pd.Series(0.0, index=list(SECTORS))
    result = signal_status(panel, features, tau, params=PARAMS)
    status = result.tables["employment_weekly"].set_index(["user_id", "week"])["status"]
    assert status["near"].tolist() == ["employed"] * 5 + ["unemployed"] * 5
    assert set(status.drop("near", level=0)) == {"employed"}


def test_baseline_workplace_and_cbg():
    lab = pd.DataFrame({"user_id": "a", "date": pd.to_datetime(["2020-01-06", "2020-01-07", "2020-03-02",
                                                                "2020-03-03", "2020-03-04"]),
                        "work_location_id": pd.array([3, 3, 4, 4, 4], dtype="Int64"),
                        "work_cbg": ["421010001001"] * 2 + ["421010001009"] * 3})
    assert baseline_workplace(lab)["work_location_id"].tolist() == [3]
    assert baseline_work_cbg(lab)["work_cbg"].tolist() == ["421010001001"]


def test_relative_attendance_needs_baseline_job():
    weeks = pd.date_range("2020-01-06", periods=10, freq="7D")
    weekly = pd.DataFrame({"user_id": "a", "week": weeks, "usual_workdays": 5.0, "workdays_observed": 5.0,
                           "workdays_at_work": 1.0, "workhour_observed_h": 45.0, "workhour_at_work_h": 8.0,
                           "work_status": "fixed"})
    p = relative_attendance(weekly, pd.DataFrame({"user_id": ["a"]}),
                            params=EmploymentParams(min_baseline_attendance=0.3))
    assert not p["baseline_job"].any() and p["attendance"].isna().all()
    p = relative_attendance(weekly, pd.DataFrame({"user_id": ["a"]}),
                            params=EmploymentParams(min_baseline_attendance=0.2))
    assert p["baseline_job"].all() and p["attendance"].eq(1.0).all()


def test_errors_name_the_fix():
    visits = _visits("a", DAY_JOB, 7)
    with pytest.raises(MobilityError, match="tz-aware"):
        weekly_attendance(visits.assign(start=visits["start"].dt.tz_localize(None)), _labels("a", 7))
    with pytest.raises(MobilityError, match="location_id"):
        weekly_attendance(visits.drop(columns="location_id"), _labels("a", 7))
    provider = _labels("a", 7).assign(work_location_id=pd.array([None] * 7, dtype="Int64"), work_status="fixed")
    with pytest.raises(MobilityError, match="work location"):
        weekly_attendance(visits, provider)
    with pytest.raises(MobilityError, match="work_status"):
        weekly_attendance(visits, _labels("a", 7).assign(work_status="employed"))


def test_data_outside_the_baseline_is_an_error():
    """A run of March to May 2020 with the default baseline (January-February 2020) once went through with every
    status 'unknown' and no job loser (the pipeline wrote empty analyses, no error). The baseline must hold a week
    of the data; moved inside, the same table gives the baseline job."""
    wk = pd.to_datetime(["2020-03-02", "2020-03-09", "2020-04-13"])
    weekly = pd.DataFrame({"user_id": ["a"] * 3, "week": wk, "usual_workdays": 5.0,
                           "workdays_observed": [5.0, 5, 5], "workdays_at_work": [4.0, 4, 1],
                           "workhour_observed_h": [45.0] * 3, "workhour_at_work_h": [30.0, 30, 0],
                           "work_status": "fixed"})
    with pytest.raises(MobilityError, match=r"data \(2020-03-02 to 2020-04-13\) cover 0 week\(s\) of the baseline "
                                            "2020-01-06 to 2020-02-29, fewer than min_baseline_weeks"):
        relative_attendance(weekly, pd.DataFrame({"user_id": ["a"]}))
    # a baseline week in the data but not covered (a run starting on Sunday 2020-03-01: its week of 2020-02-24)
    early = pd.concat([weekly.head(1).assign(week=pd.Timestamp("2020-02-24"), workdays_observed=0.0,
                                             workdays_at_work=0.0), weekly], ignore_index=True)
    with pytest.raises(MobilityError, match="cover 0 week"):
        relative_attendance(early, pd.DataFrame({"user_id": ["a"]}))
    inside = EmploymentParams(baseline_start="2020-03-02", baseline_end="2020-03-15")
    p = relative_attendance(weekly, pd.DataFrame({"user_id": ["a"]}), params=inside)
    assert bool(p["baseline_job"].all()) and p["attendance"].iloc[-1] == pytest.approx(0.25)
