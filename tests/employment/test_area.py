import numpy as np
import pandas as pd
import pytest

from mobility.employment.area import area_unemployment
from matplotlib.figure import Figure

from mobility.employment.validation import evaluate_against_truth, plot_validation, reference_series, validate_against


def _emp(n, unemployed, week="2020-04-06", prefix="u"):
    return pd.DataFrame({"user_id": [f"{prefix}{i}" for i in range(n)], "week": pd.Timestamp(week),
                         "status": ["unemployed"] * unemployed + ["employed"] * (n - unemployed),
                         "p_unemployed": [1.0] * unemployed + [0.0] * (n - unemployed), "method": "signal"})


def test_county_state_month_and_suppression():
    emp = pd.concat([_emp(12, 3), _emp(12, 6, "2020-04-13"), _emp(4, 4, prefix="v")], ignore_index=True)
    homes = pd.DataFrame({"user_id": [f"u{i}" for i in range(12)] + [f"v{i}" for i in range(4)],
                          "home_cbg": ["421010001001"] * 12 + ["420450001001"] * 4})
    a = area_unemployment(emp, homes).set_index(["level", "area", "period", "period_start"])
    assert a.loc[("county", "42101", "week", pd.Timestamp("2020-04-06")), "rate"] == pytest.approx(0.25)
    small = a.loc[("county", "42045", "week", pd.Timestamp("2020-04-06"))]
    assert small["suppressed"] and np.isnan(small["rate"]) and np.isnan(small["n_users"])
    # state: 16 users, 7 unemployed in week 2020-04-06
    assert a.loc[("state", "42", "week", pd.Timestamp("2020-04-06")), "rate"] == pytest.approx(7 / 16)
    # April: user-weeks of both weeks in 42101: (3 + 6) / 24
    assert a.loc[("county", "42101", "month", pd.Timestamp("2020-04-01")), "rate"] == pytest.approx(9 / 24)


def test_unknown_weeks_are_not_in_the_labour_force():
    emp = _emp(12, 3)
    emp.loc[0, "status"] = "unknown"
    homes = pd.DataFrame({"user_id": emp["user_id"], "home_cbg": "421010001001"})
    a = area_unemployment(emp, homes, levels=("county",), periods=("week",))
    assert a.loc[0, "labour_force"] == 11 and a.loc[0, "unemployed"] == 2


def test_validation_scores_and_figure():
    weeks = pd.date_range("2020-03-02", periods=6, freq="7D")
    area = pd.DataFrame({"method": "signal", "route": "individual", "level": "county", "area": "42101",
                         "period": "week", "period_start": weeks, "rate": np.linspace(0, 0.1, 6),
                         "suppressed": False})
    truth = pd.DataFrame({"county": "42101", "week": weeks, "rate": np.linspace(0, 0.1, 6) + 0.01})
    ui = pd.DataFrame({"state_fips": "42", "week_end": weeks + pd.Timedelta(days=5),
                       "contclaims_rate_regular": np.linspace(1, 5, 6)})
    res = validate_against(area, truth_area=truth, ui_claims=ui)
    assert res["truth"]["signal"]["pearson_r"] == pytest.approx(1.0)
    assert res["truth"]["signal"]["mae"] == pytest.approx(0.01)
    fig = plot_validation(area, reference_series(truth_area=truth, ui_claims=ui))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[0].get_xlabel() == "truth rate (county, week)"


def test_evaluate_timing_and_remote_flags():
    wk = pd.date_range("2020-03-02", periods=5, freq="7D")
    emp = pd.DataFrame({"user_id": ["a"] * 5, "week": wk, "method": "signal",
                        "status": ["employed", "employed", "employed", "unemployed", "unemployed"],
                        "p_unemployed": [0.0, 0.0, 0.2, 0.9, 0.9],
                        "weeks_since_job_loss": pd.array([None, None, None, 0, 1], dtype="Int64")})
    tru = pd.DataFrame({"user_id": ["a"] * 5, "week": wk,
                        "status": ["employed", "unemployed", "unemployed", "unemployed", "unemployed"],
                        "weeks_since_job_loss": [None, 0, 1, 2, 3]})
    r = evaluate_against_truth(emp, tru)["signal"]
    assert r["job_losers_detected"] == 1 and r["loss_week_within_1"] == 0.0  # detected 2 weeks late
