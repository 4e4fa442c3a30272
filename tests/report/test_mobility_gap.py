"""Mobility of job losers vs employed: status in the month, baseline groups, means and changes by hand."""

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.report.coverage import status_counts
from mobility.report.mobility_gap import (
    baseline_groups,
    local_month,
    mobility_by_status,
)

Z = 1.959963984540054


def panel():
    """24 users: 12 job losers in April (radius 6 -> 2 + i/10 km), 12 employed (radius 5 -> 5 + i/10 km)."""
    users = [f"u{i:02d}" for i in range(24)]
    jan = pd.Timestamp("2020-01-01 05:00", tz="UTC")
    apr = pd.Timestamp("2020-04-01 04:00", tz="UTC")
    rg_jan = [6.0] * 12 + [5.0] * 12
    rg_apr = [2.0 + i / 10 for i in range(12)] + [5.0 + i / 10 for i in range(12)]
    mm = pd.DataFrame({"user_id": users * 2, "period_start": [jan] * 24 + [apr] * 24,
                       "radius_of_gyration_km": rg_jan + rg_apr})
    # weeks of April by the Thursday rule: 2020-03-30 .. 2020-04-27; a week of 2020-04-27 lost counts
    emp = pd.DataFrame({"user_id": users, "week": pd.Timestamp("2020-04-27"), "method": "signal",
                        "status": ["unemployed"] * 12 + ["employed"] * 12})
    emp_other = emp.assign(method="classifier", status="employed")
    features = pd.DataFrame({"user_id": users, "week": pd.Timestamp("2020-01-06"),
                             "p_sex_male": [0.9] * 6 + [0.1] * 6 + [0.9] * 12,
                             "p_sex_female": [0.1] * 6 + [0.9] * 6 + [0.1] * 12})
    return mm, pd.concat([emp, emp_other]), features


def test_status_counts_thursday_rule_and_unknown():
    e = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e"], "method": "signal",
                      "week": pd.to_datetime(["2020-03-30", "2020-03-23", "2020-04-13", "2020-04-13", "2020-04-13"]),
                      "status": ["unemployed", "unemployed", "unknown", "employed", "employed"]})
    # a: week of 2020-03-30 belongs to April; b: March; c: unknown only -> absent; e: another method's
    e.loc[4, "method"] = "classifier"
    statuses = status_counts(e)[1]
    assert statuses.to_dict() == {"2020-03": {"a": 0, "b": 2, "d": 0}, "2020-04": {"a": 2, "b": 0, "d": 1}}
    with pytest.raises(MobilityError, match="status"):
        status_counts(e.drop(columns="status"))


def test_local_month_uses_the_time_zone():
    ts = pd.Series(pd.to_datetime(["2020-04-01 04:00", "2020-04-30 23:00"], utc=True))
    assert local_month(ts, "America/New_York").tolist() == ["2020-04", "2020-04"]
    assert local_month(ts, "Asia/Tokyo").tolist() == ["2020-04", "2020-05"]


@pytest.mark.parametrize("parts", [1, 3, 24])
def test_means_changes_and_intervals_by_hand(parts):
    # whole, or in parts of users (as the pipeline's partitions): each part's counts, sums and squared
    # deviations pooled give the means and intervals of all users
    mm, emp, features = panel()
    users = mm["user_id"].str[1:].astype(int) % parts
    split = [mm[users == i] for i in range(parts)] if parts > 1 else mm
    t = mobility_by_status(split, emp, features, "2020-04", timezone="America/New_York",
                           metrics=["radius_of_gyration_km"], dimensions=["sex"], baseline_months=1,
                           k_min_users=5, months=["2020-01", "2020-04"])
    allrows = t[t["dimension"] == "all"].set_index("status")
    losers = np.array([2.0 + i / 10 for i in range(12)])
    assert allrows.loc["job_loser", "n_users"] == 12
    assert allrows.loc["job_loser", "mean"] == pytest.approx(losers.mean())
    half = Z * losers.std(ddof=1) / np.sqrt(12)
    assert allrows.loc["job_loser", "mean_low"] == pytest.approx(losers.mean() - half)
    assert allrows.loc["job_loser", "change"] == pytest.approx(losers.mean() - 6.0)
    assert allrows.loc["employed", "change"] == pytest.approx(np.mean([i / 10 for i in range(12)]))
    sex = t[t["dimension"] == "sex"].set_index(["group", "status"])
    # job losers: 6 male (u00-u05), 6 female; employed: 12 male, no female
    assert sex.loc[("male", "job_loser"), "mean"] == pytest.approx(np.mean(losers[:6]))
    assert sex.loc[("female", "job_loser"), "change"] == pytest.approx(np.mean(losers[6:]) - 6.0)
    assert sex.loc[("male", "employed"), "n_users"] == 12
    assert ("female", "employed") not in sex.index


def test_small_groups_are_suppressed():
    mm, emp, features = panel()
    t = mobility_by_status(mm, emp, features, "2020-04", metrics=["radius_of_gyration_km"], dimensions=["sex"],
                           baseline_months=1, k_min_users=10)
    small = t[t["dimension"] == "sex"]
    assert small[small["group"].isin(["male", "female"]) & (small["status"] == "job_loser")]["suppressed"].all()
    assert small[small["suppressed"]][["n_users", "mean", "change"]].isna().all().all()
    assert not t[t["dimension"] == "all"]["suppressed"].any()


def test_baseline_groups_take_the_earliest_featured_week():
    f = pd.DataFrame({"user_id": ["a", "a", "b"], "week": pd.to_datetime(["2020-01-13", "2020-01-06", "2020-01-06"]),
                      "p_sex_male": [0.2, 0.8, np.nan], "p_sex_female": [0.8, 0.2, np.nan]})
    g = baseline_groups(f, ["sex"]).set_index("user_id")["sex"]
    assert g["a"] == "male" and pd.isna(g["b"])
    with pytest.raises(MobilityError, match="age"):
        baseline_groups(f, ["age"])


def test_parameters_are_checked():
    mm, emp, features = panel()
    with pytest.raises(MobilityError, match="baseline_months"):
        mobility_by_status(mm, emp, None, "2020-04", metrics=["radius_of_gyration_km"], baseline_months=0)
    with pytest.raises(MobilityError, match="nonexistent"):
        mobility_by_status(mm, emp, None, "2020-04", metrics=["nonexistent"])


def test_exploration_drift_only_where_the_baseline_holds_a_first_month_that_falls_to_the_next():
    from mobility.report.mobility_gap import exploration_drift

    t = pd.to_datetime(["2020-01-15", "2020-02-15", "2020-03-15"] * 12, utc=True)
    m = pd.DataFrame({"user_id": np.repeat(np.arange(12), 3), "period_start": t,
                      "exploration_rate": np.tile([0.2, 0.08, 0.05], 12)})
    m.loc[0, "exploration_rate"] = 0.32  # one user's first month: the mean is (0.32 + 11 * 0.2) / 12 = 0.21
    first, a, second, b = exploration_drift(m, ["2020-01", "2020-02"], timezone="UTC")
    assert (first, second) == ("2020-01", "2020-02") and a == pytest.approx(0.21) and b == pytest.approx(0.08)
    assert exploration_drift(m, ["2020-02"], timezone="UTC") is None                  # baseline after the start
    assert exploration_drift(m, ["2020-01"], timezone="UTC", k_min_users=13) is None  # 12 users: a mean of too few
    rising = m.assign(exploration_rate=np.tile([0.05, 0.08, 0.2], 12))
    assert exploration_drift(rising, ["2020-01"], timezone="UTC") is None             # no fall to name
    assert exploration_drift(m.drop(columns="exploration_rate"), ["2020-01"], timezone="UTC") is None
