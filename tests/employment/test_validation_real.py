"""Validation against the real official series: LAUS county months and weekly state UI claims."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.census import read_laus, read_ui_claims
from mobility.employment.validation import plot_validation, reference_series, validate_against

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
LAUS = REAL / "bls_laus_county_monthly" / "yshi2016_Projects" / "laucntycur14.xlsx"
UI = REAL / "oi_economic_tracker" / "UI Claims - State - Weekly.csv"


@pytest.fixture(scope="module")
def series():
    if not (LAUS.exists() and UI.exists()):
        pytest.skip(f"real LAUS / UI claims files not found under {REAL} (../shared beside the repo)")
    return read_laus(LAUS), read_ui_claims(UI)


def area_row(level, area, period, starts, rates):
    return pd.DataFrame({"method": "signal", "route": "individual", "level": level, "area": area, "period": period,
                         "period_start": pd.to_datetime(starts), "rate": rates, "suppressed": False})


def test_estimates_against_laus_and_ui_claims(series):
    laus, ui = series
    months = ["2020-02-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01"]
    estimates = [0.05, 0.06, 0.14, 0.13, 0.11]
    weeks = ["2020-03-09", "2020-03-16", "2020-03-23", "2020-03-30"]  # Mondays of claims weeks ending 03-14..04-04
    weekly = [0.01, 0.02, 0.05, 0.08]
    area = pd.concat([area_row("county", "42003", "month", months, estimates),
                      area_row("state", "42", "week", weeks, weekly)], ignore_index=True)
    result = validate_against(area, laus=laus, ui_claims=ui)

    # Allegheny (42003), LAUS not seasonally adjusted, 2020 release: Feb 4.7 %, Apr 15.7 % (SOURCE.md)
    allegheny = laus[(laus["area_fips"] == "42003")].set_index("month")["rate_pct"]
    assert allegheny[pd.Timestamp("2020-02-01")] == pytest.approx(4.7)
    assert allegheny[pd.Timestamp("2020-04-01")] == pytest.approx(15.7)
    ref = allegheny.reindex(pd.to_datetime(months)).to_numpy() / 100.0
    county = result["laus_county"]["signal"]
    assert county["n"] == 5
    assert county["pearson_r"] == pytest.approx(np.corrcoef(estimates, ref)[0, 1], rel=1e-12)
    assert county["mae"] == pytest.approx(np.mean(np.abs(np.array(estimates) - ref)), rel=1e-12)

    # PA continued claims rate (per 100 in the labour force) of the weeks ending Saturday 5 days after each Monday
    pa = ui[ui["state_fips"] == "42"].set_index("week_end")["contclaims_rate_regular"].astype(float)
    ref_ui = pa.reindex(pd.to_datetime(weeks) + pd.Timedelta(days=5)).to_numpy() / 100.0
    state = result["ui_claims"]["signal"]
    assert state["n"] == 4
    assert state["pearson_r"] == pytest.approx(np.corrcoef(weekly, ref_ui)[0, 1], rel=1e-12)
    fig = plot_validation(area, reference_series(laus=laus, ui_claims=ui))
    assert [ax.get_xlabel() for ax in fig.axes] == ["laus_county rate (county, month)", "ui_claims rate (state, week)"]
