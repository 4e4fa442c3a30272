"""The slope of areas' rise in unemployment on their teleworkability: hand-made areas, errors, and
Pennsylvania's counties (the fit recomputed with numpy's polyfit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.census import aggregate_lodes, mix_teleworkability
from mobility.census.job_loss_slope import job_loss_slope
from mobility.errors import MobilityError


def _laus(x: pd.Series, labor_force, rise, before="2020-02-01", after="2020-04-01", unemployed=100):
    n = len(x)
    lf = np.asarray(labor_force, dtype=float)
    after_lf = lf[::-1]  # the labour force after differs from before: weighting by the wrong one shows
    return pd.DataFrame({"area_fips": list(x.index) * 2, "month": pd.to_datetime([before] * n + [after] * n),
                         "labor_force": np.r_[lf, after_lf], "unemployed": np.r_[np.full(n, unemployed),
                                                                                  unemployed + rise * lf]})


def test_areas_on_the_model_give_its_gamma_and_a_degenerate_interval():
    x = pd.Series([0.25, 0.3, 0.35, 0.4, 0.5], index=["01", "02", "04", "05", "06"])
    fit = job_loss_slope(_laus(x, [5e5, 1e6, 2e5, 8e5, 3e5], 0.12 * (1 - 0.9 * x.to_numpy())), x)
    assert fit.gamma == pytest.approx(0.9) and fit.intercept == pytest.approx(0.12)
    assert fit.slope == pytest.approx(-0.108)
    assert fit.gamma_low == pytest.approx(0.9) and fit.gamma_high == pytest.approx(0.9)
    assert fit.n_areas == 5 and fit.areas["area_fips"].tolist() == sorted(x.index)


def test_the_fit_is_weighted_least_squares_by_the_labour_force_before():
    """Noisy areas: intercept and slope equal numpy's polyfit with weights sqrt(labour force) (polyfit weighs the
    residuals, not their squares), and equal weights with ``weighted=False``."""
    rng = np.random.default_rng(1)
    x = pd.Series(rng.uniform(0.25, 0.5, 40), index=[f"42{i:03d}" for i in range(40)])
    lf = rng.integers(10_000, 500_000, 40)
    rise = 0.15 * (1 - 0.8 * x.to_numpy()) + rng.normal(0, 0.01, 40)
    laus = _laus(x, lf, rise)
    fit = job_loss_slope(laus, x, n_boot=500)
    slope, intercept = np.polyfit(x.to_numpy(), rise, 1, w=np.sqrt(lf))
    assert fit.slope == pytest.approx(slope) and fit.intercept == pytest.approx(intercept)
    assert fit.gamma == pytest.approx(-slope / intercept)
    assert fit.gamma_low < fit.gamma < fit.gamma_high
    eq = job_loss_slope(laus, x, weighted=False, n_boot=0)
    slope, intercept = np.polyfit(x.to_numpy(), rise, 1)
    assert eq.gamma == pytest.approx(-slope / intercept) and np.isnan(eq.gamma_low)
    # the interval narrows with the areas' noise
    quiet = job_loss_slope(_laus(x, lf, 0.15 * (1 - 0.8 * x.to_numpy()) + rng.normal(0, 0.001, 40)), x, n_boot=500)
    assert quiet.gamma_high - quiet.gamma_low < (fit.gamma_high - fit.gamma_low) / 3


def test_areas_without_a_month_or_a_teleworkability_are_refused_with_the_fix():
    x = pd.Series([0.3, 0.4, 0.5], index=["01", "02", "04"])
    laus = _laus(x, [1e5] * 3, np.array([0.1, 0.08, 0.06]))
    with pytest.raises(MobilityError, match=r"no month 2020-05 \(after\).*2020-02\.\.2020-04"):
        job_loss_slope(laus, x, after="2020-05")
    with pytest.raises(MobilityError, match="2 area.*index both by the same FIPS"):
        job_loss_slope(laus, x.rename({"04": "99"}))
    with pytest.raises(MobilityError, match="after .* must come after"):
        job_loss_slope(laus, x, before="2020-04", after="2020-02")
    with pytest.raises(MobilityError, match="not a month"):
        job_loss_slope(laus, x, before="February")
    with pytest.raises(MobilityError, match="unemployed"):
        job_loss_slope(laus.drop(columns="unemployed"), x)


def test_months_are_matched_as_months_whatever_the_dates_and_bad_areas_are_named():
    x = pd.Series([0.25, 0.3, 0.35, 0.4], index=["01", "02", "04", "05"])
    laus = _laus(x, [5e5, 1e6, 2e5, 8e5], 0.1 * (1 - 0.5 * x.to_numpy()), before="2020-02-29", after="2020-04-30")
    fit = job_loss_slope(laus.assign(month=laus["month"].dt.tz_localize("UTC")), x, before=pd.Timestamp("2020-02-01"),
                         after=pd.Period("2020-04", freq="M"), n_boot=0)
    assert fit.gamma == pytest.approx(0.5)
    assert job_loss_slope(laus.assign(month=laus["month"].dt.to_period("M")), x, n_boot=0).gamma == pytest.approx(0.5)
    with pytest.raises(MobilityError, match=r"more than once"):
        job_loss_slope(laus, pd.concat([x, x.iloc[:1]]))
    with pytest.raises(MobilityError, match="FIPS code strings"):
        job_loss_slope(laus, x.set_axis([1, 2, 4, 5]))
    # an area without a finite teleworkability or labour force is left out, not propagated as NaN
    with_inf = x.copy()
    with_inf["05"] = np.inf
    assert job_loss_slope(laus, with_inf, n_boot=0).n_areas == 3


def test_an_interval_with_too_many_draws_without_a_gamma_is_unbounded():
    """Rises near 0 everywhere with noise: many bootstrap draws have no positive intercept. Where they are more
    than one tail of the interval, its bounds are NaN instead of a percentile of the rest."""
    rng = np.random.default_rng(4)
    x = pd.Series(rng.uniform(0.25, 0.5, 30), index=[f"42{i:03d}" for i in range(30)])
    laus = _laus(x, np.full(30, 1e5), rng.normal(0.0, 0.01, 30))
    fit = job_loss_slope(laus, x, n_boot=400)
    assert fit.dropped_draws > 0.025 * 400
    assert np.isnan(fit.gamma_low) and np.isnan(fit.gamma_high)
    # the model's own areas: no draw is dropped, the interval is there
    sharp = job_loss_slope(_laus(x, np.full(30, 1e5), 0.1 * (1 - 0.6 * x.to_numpy())), x, n_boot=400)
    assert sharp.dropped_draws == 0 and sharp.gamma_low == pytest.approx(0.6)


@pytest.mark.real
def test_pennsylvania_counties_unemployment_rose_less_where_jobs_were_teleworkable(pa_wac, dn_telework, laus_2020):
    """LAUS February -> April 2020 against the WAC-mix teleworkability of Pennsylvania's 67 counties: the fit
    equals numpy's on the same columns, and the slope is negative (job loss fell with teleworkability, the
    direction ``job_loss_telework_slope`` > 0 states)."""
    wac = aggregate_lodes(pa_wac, "county")
    x = mix_teleworkability(wac, dn_telework).set_axis(wac["GEOID"].to_numpy())
    laus = laus_2020[laus_2020["area_fips"].str.startswith("42")]
    fit = job_loss_slope(laus, x, n_boot=300)
    assert fit.n_areas == 67
    feb = laus[laus["month"] == "2020-02-01"].set_index("area_fips")
    apr = laus[laus["month"] == "2020-04-01"].set_index("area_fips")
    rise = ((apr["unemployed"] - feb["unemployed"]) / feb["labor_force"]).astype(float).sort_index()
    xs = x.reindex(rise.index).to_numpy()
    slope, intercept = np.polyfit(xs, rise.to_numpy(), 1, w=np.sqrt(feb["labor_force"].sort_index().astype(float)))
    assert fit.gamma == pytest.approx(-slope / intercept)
    assert slope < 0 and 0 < fit.gamma < 2
