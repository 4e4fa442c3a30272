import pandas as pd
import pytest

from mobility.employment.attendance import (
    baseline_work_cbg,
    relative_attendance,
    weekly_attendance,
)
from mobility.employment.params import EmploymentParams
from mobility.errors import MobilityError

W = "421010001001"
H = "421010001009"


def _stops(rows, tz="America/New_York"):
    """rows: (user, local start, local end, cbg)."""
    u, s, e, c = zip(*rows)
    loc = lambda x: pd.to_datetime(list(x)).tz_localize(tz).tz_convert("UTC")
    return pd.DataFrame({"user_id": u, "start": loc(s), "end": loc(e), "cbg": c})


def test_local_days_and_work_hours():
    # Monday: home overnight from Sunday 20:00 to 08:00, work 08:30-17:30, home 18:00 to Tuesday 23:00
    stops = _stops([("a", "2020-01-05 20:00", "2020-01-06 08:00", H), ("a", "2020-01-06 08:30", "2020-01-06 17:30", W),
                    ("a", "2020-01-06 18:00", "2020-01-07 23:00", H)])
    base = pd.DataFrame({"user_id": ["a"], "work_cbg": [W]})
    w = weekly_attendance(stops, base, timezone="America/New_York").iloc[0]
    assert (w["weekdays_with_data"], w["weekdays_at_work"]) == (2, 1)
    # work hours 09-18: Monday 8.5 h at work + 0 h at home (18:00 is the end), Tuesday 9 h at home
    assert w["workhour_at_work_h"] == pytest.approx(8.5)
    assert w["workhour_observed_h"] == pytest.approx(17.5)


def test_weekend_and_short_days_do_not_count():
    stops = _stops([("a", "2020-01-11 09:00", "2020-01-11 17:00", W),  # Saturday
                    ("a", "2020-01-13 09:00", "2020-01-13 09:30", W)])  # Monday, 30 min < 1 h
    w = weekly_attendance(stops, pd.DataFrame({"user_id": ["a"], "work_cbg": [W]}), timezone="America/New_York")
    assert w["weekdays_with_data"].tolist() == [0] and w["weekdays_at_work"].tolist() == [0]


def test_baseline_work_is_modal_over_baseline_days_only():
    lab = pd.DataFrame({"user_id": "a", "date": pd.to_datetime(["2020-01-06", "2020-01-07", "2020-03-02",
                                                                "2020-03-03", "2020-03-04"]),
                        "work_cbg": [W, W, H, H, H]})
    assert baseline_work_cbg(lab)["work_cbg"].tolist() == [W]


def test_relative_attendance_needs_baseline_job():
    weeks = pd.date_range("2020-01-06", periods=10, freq="7D")
    weekly = pd.DataFrame({"user_id": "a", "week": weeks, "weekdays_with_data": 5, "weekdays_at_work": 1,
                           "workhour_observed_h": 45.0, "workhour_at_work_h": 8.0})
    p = relative_attendance(weekly, pd.DataFrame({"user_id": ["a"], "work_cbg": [W]}),
                            params=EmploymentParams(min_baseline_attendance=0.3))
    assert not p["baseline_job"].any() and p["attendance"].isna().all()
    p = relative_attendance(weekly, pd.DataFrame({"user_id": ["a"], "work_cbg": [W]}),
                            params=EmploymentParams(min_baseline_attendance=0.2))
    assert p["baseline_job"].all() and p["attendance"].eq(1.0).all()


def test_errors_name_the_fix():
    with pytest.raises(MobilityError, match="tz-aware"):
        weekly_attendance(pd.DataFrame({"user_id": ["a"], "start": pd.to_datetime(["2020-01-06"]),
                                        "end": pd.to_datetime(["2020-01-07"]), "cbg": [W]}),
                          pd.DataFrame({"user_id": ["a"], "work_cbg": [W]}))
    with pytest.raises(MobilityError, match="polygons"):
        weekly_attendance(pd.DataFrame({"user_id": [], "start": [], "end": [], "lat": [], "lon": []}),
                          pd.DataFrame({"user_id": ["a"], "work_cbg": [W]}))
