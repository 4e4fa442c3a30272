"""Coverage: users per week and in the month, by measure, suppressed below k."""

import numpy as np
import pandas as pd

from mobility.report.coverage import coverage_table


def test_counts_by_hand():
    users = [f"u{i}" for i in range(12)]
    w1 = pd.Timestamp("2020-03-30 04:00", tz="UTC")   # local Monday 2020-03-30, Thursday in April
    w2 = pd.Timestamp("2020-04-06 04:00", tz="UTC")
    mw = pd.DataFrame({"user_id": users + users[:5], "period_start": [w1] * 12 + [w2] * 5,
                       "coverage_h": [10.0] * 11 + [0.0] + [20.0] * 5})
    hw = pd.DataFrame({"user_id": users, "date": pd.Timestamp("2020-04-01"),
                       "home_cbg": ["421010001001"] * 12, "work_cbg": ["421010001002"] * 3 + [None] * 9})
    emp = pd.DataFrame({"user_id": users, "week": pd.Timestamp("2020-03-30"), "method": "signal",
                        "status": ["unemployed"] * 2 + ["employed"] * 10})
    t = coverage_table(mw, "2020-04", home_work=hw, employment=emp, timezone="America/New_York", k_min_users=10)
    got = {(r.period, r.period_start, r.measure): (r.n_users, r.median_hours, r.suppressed) for r in t.itertuples()}
    assert got[("week", "2020-03-30", "with data")][:2] == (11, 10.0)
    assert got[("week", "2020-04-06", "with data")][2]            # 5 users: suppressed
    assert pd.isna(got[("week", "2020-04-06", "with data")][0])
    # month: 11 distinct users with data; median of per-user hours (u0-u4: 30 h, u5-u10: 10 h) is 10
    assert got[("month", "2020-04-01", "with data")][:2] == (11, 10.0)
    assert got[("week", "2020-03-30", "home detected")][0] == 12
    assert got[("week", "2020-03-30", "work detected")][2]        # 3 users
    assert got[("month", "2020-04-01", "status known")][0] == 12
    assert got[("month", "2020-04-01", "job losers")][2]          # 2 users


def test_a_week_without_job_losers_is_suppressed_like_one_with_a_few():
    # a week with 0 job losers left out of the table, beside a week with 3 shown as suppressed, told the reader
    # which was which: both are counts under k, both are rows, both suppressed
    users = [f"u{i}" for i in range(12)]
    w1, w2 = pd.Timestamp("2020-04-06 04:00", tz="UTC"), pd.Timestamp("2020-04-13 04:00", tz="UTC")
    mw = pd.DataFrame({"user_id": users * 2, "period_start": [w1] * 12 + [w2] * 12, "coverage_h": 10.0})
    weeks = [pd.Timestamp("2020-04-06")] * 12 + [pd.Timestamp("2020-04-13")] * 12
    emp = pd.DataFrame({"user_id": users * 2, "week": weeks, "method": "signal",
                        "status": ["employed"] * 12 + ["unemployed"] * 3 + ["employed"] * 9})
    t = coverage_table(mw, "2020-04", employment=emp, timezone="America/New_York", k_min_users=10)
    losers = t[t["measure"] == "job losers"].set_index(["period", "period_start"])
    assert sorted(losers.index) == [("month", "2020-04-01"), ("week", "2020-04-06"), ("week", "2020-04-13")]
    assert losers["suppressed"].all() and losers["n_users"].isna().all()
    known = t[(t["measure"] == "status known") & (t["period"] == "week")]
    assert known["n_users"].tolist() == [12, 12] and not known["suppressed"].any()


def test_a_missing_week_counts_in_no_week():
    from mobility.report.coverage import _users_by_week

    weekly, monthly = _users_by_week(np.array([0, 1, 2]), pd.to_datetime(["2020-04-06", "2020-04-13", None]).to_numpy())
    assert weekly.to_dict() == {pd.Timestamp("2020-04-06"): 1, pd.Timestamp("2020-04-13"): 1}
    assert monthly.to_dict() == {"2020-04": 2}
