"""Unemployment tables: monthly rates and intervals as the area table gives them, suppression, trend window,
official series."""

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.report.unemployment import (
    check_month,
    monthly_rates,
    official_comparison,
    reference_monthly,
    trend_window,
)


def area_rows(**over):
    base = {"method": "signal", "route": "individual", "level": "county", "area": "42101", "period": "month",
            "period_start": pd.Timestamp("2020-04-01"), "n_users": 25.0, "unemployed": 30.0, "labour_force": 100.0,
            "estimator": "expected", "rate": 0.3, "rate_low": 0.2, "rate_high": 0.45}
    base.update(over)
    return base


def test_monthly_rates_read_the_area_intervals_and_suppress():
    area = pd.DataFrame([area_rows(), area_rows(area="42045", n_users=9.0, unemployed=5.0, labour_force=40.0),
                         area_rows(period="week"), area_rows(method="classifier", unemployed=1.0),
                         area_rows(estimator="status_corrected", rate=0.9)])
    out = monthly_rates(area, k_min_users=10)
    assert out["area"].tolist() == ["42045", "42101"]
    big = out.set_index("area").loc["42101"]
    assert big["rate"] == pytest.approx(0.3)  # the expected estimator, not the corrected hard statuses
    assert (big["rate_low"], big["rate_high"]) == pytest.approx((0.2, 0.45))  # the bootstrap interval, as given
    small = out.set_index("area").loc["42045"]
    assert small["suppressed"] and np.isnan(small["n_users"]) and np.isnan(small["rate"])
    assert np.isnan(small["rate_low"]) and np.isnan(small["rate_high"])


def test_monthly_rates_hide_a_second_county_where_the_report_hides_one():
    """The report's k (10) hides a 9-user county the area table showed; the state's users minus the other
    counties' would give it back, so the smallest other county (12 users, not the 25-user one) is hidden too."""
    area = pd.DataFrame([area_rows(level="state", area="42", n_users=46.0), area_rows(),
                         area_rows(area="42045", n_users=9.0), area_rows(area="42091", n_users=12.0)])
    out = monthly_rates(area, k_min_users=10).set_index("area")
    assert out["suppressed"].to_dict() == {"42": False, "42045": True, "42091": True, "42101": False}
    assert np.isnan(out.loc["42091", "rate"]) and out.loc["42101", "n_users"] == 25
    assert not monthly_rates(area, k_min_users=9)["suppressed"].any()


def test_monthly_rates_missing_column_and_bad_k():
    with pytest.raises(MobilityError, match="rate_low"):
        monthly_rates(pd.DataFrame([area_rows()]).drop(columns="rate_low"))
    with pytest.raises(MobilityError, match="k_min_users"):
        monthly_rates(pd.DataFrame([area_rows()]), k_min_users=1)


def test_trend_window_and_month_parsing():
    rates = pd.DataFrame({"month": ["2019-12", "2020-01", "2020-02", "2020-03"]})
    assert trend_window(rates, "2020-02", trend_months=2)["month"].tolist() == ["2020-01", "2020-02"]
    assert trend_window(rates, "2020-01", trend_months=3)["month"].tolist() == ["2019-12", "2020-01"]
    for bad in ("2020-4", "April", "2020-13", 202004):
        with pytest.raises(MobilityError, match="YYYY-MM"):
            check_month(bad)
    with pytest.raises(MobilityError, match="trend_months"):
        trend_window(rates, "2020-02", trend_months=0)


def test_reference_monthly_week_belongs_to_month_of_its_thursday():
    # week of Mon 2020-03-30 has its Thursday on 2020-04-02 -> April; week of 2020-04-27 -> April (Thu 30th)
    weeks = pd.to_datetime(["2020-03-23", "2020-03-30", "2020-04-27", "2020-05-04"])
    ref = pd.DataFrame({"area": "42", "period_start": weeks, "rate": [0.01, 0.02, 0.06, 0.5]})
    laus = pd.DataFrame({"area": ["42101"], "period_start": pd.to_datetime(["2020-04-01"]), "rate": [0.15]})
    out = reference_monthly({"ui_claims": ("state", "week", ref), "laus_county": ("county", "month", laus)})
    got = {(r.source, r.month): r.official for r in out.itertuples()}
    assert got[("ui_claims", "2020-03")] == pytest.approx(0.01)
    assert got[("ui_claims", "2020-04")] == pytest.approx(0.04)
    assert got[("ui_claims", "2020-05")] == pytest.approx(0.5)
    assert got[("laus_county", "2020-04")] == pytest.approx(0.15)


def test_official_comparison_keeps_suppression():
    rates = pd.DataFrame({"level": "county", "area": ["42101", "42045"], "month": "2020-04",
                          "n_users": [30.0, np.nan], "rate": [0.2, np.nan], "rate_low": [0.1, np.nan],
                          "rate_high": [0.3, np.nan], "suppressed": [False, True]})
    laus = pd.DataFrame({"area": ["42101", "42045", "42003"], "period_start": pd.Timestamp("2020-04-01"),
                         "rate": [0.16, 0.14, 0.157]})
    out = official_comparison(rates, {"laus_county": ("county", "month", laus)})
    assert out["area"].tolist() == ["42045", "42101"]
    assert np.isnan(out["estimate"].iloc[0]) and out["suppressed"].iloc[0]
    assert out["estimate"].iloc[1] == 0.2 and out["official"].iloc[1] == 0.16


def _trend(rates, suppressed=(False, False), n=(90.0, 88.0)):
    return pd.DataFrame({"level": "state", "area": "42", "month": ["2020-03", "2020-04"], "n_users": list(n),
                         "rate": rates, "rate_low": [r - 0.02 for r in rates], "rate_high": [r + 0.03 for r in rates],
                         "suppressed": list(suppressed)})


def test_headline_says_rose_fell_held_or_why_there_is_none():
    from mobility.report.unemployment import headline

    assert headline(_trend([0.05, 0.08]), "2020-04").startswith(
        "Estimated unemployment in Pennsylvania rose to 8.0% in April 2020 (95% interval 6.0-11.0%), 3.0 points above")
    assert "fell to 5.0% in April 2020" in headline(_trend([0.08, 0.05]), "2020-04")
    assert "3.0 points below March 2020" in headline(_trend([0.08, 0.05]), "2020-04")
    assert "held at 5.0%" in headline(_trend([0.0501, 0.0499]), "2020-04")
    # the month before suppressed: no change claimed; the month itself suppressed: no number at all
    assert "no estimate for March 2020" in headline(_trend([0.05, 0.08], suppressed=(True, False)), "2020-04")
    none = headline(_trend([np.nan, np.nan], suppressed=(True, True)), "2020-04")
    assert none.startswith("There is no state estimate for April 2020") and "%" not in none
    # a state the FIPS table lacks keeps its code
    assert "in state 99 rose" in headline(_trend([0.05, 0.08]).assign(area="99"), "2020-04")


def test_comparison_summary_counts_sides_and_states_bias_and_error():
    from mobility.report.unemployment import comparison_summary

    c = pd.DataFrame({"source": "laus_county", "level": "county", "area": ["1", "2", "3"], "month": "2020-04",
                      "n_users": 50.0, "estimate": [0.06, 0.04, 0.10], "official": [0.05, 0.05, 0.05],
                      "suppressed": False})
    line = comparison_summary(c, "2020-04")[0]
    assert line == ("Against BLS LAUS county rates, April 2020: 2 of 3 county estimates are above it; mean error "
                    "+1.7 points, mean absolute error 2.3 points.")   # errors +1, -1, +5
    one = comparison_summary(c.iloc[[1]], "2020-04")[0]
    assert "the one county estimate is below it; mean error -1.0 points" in one
    hidden = comparison_summary(c.assign(suppressed=True), "2020-04")
    assert hidden == []
