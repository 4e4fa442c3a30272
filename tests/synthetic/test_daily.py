import math

import numpy as np
import pandas as pd
import pytest

from mobility.kernels.geo import haversine_m
from mobility.synthetic import SyntheticParams
from mobility.synthetic.daily import (
    HOME,
    OTHER,
    WORK,
    Batch,
    Calendar,
    _Places,
    effect_curve,
    simulate_stops,
)
from mobility.synthetic.venues import Venues

P = SyntheticParams(n_users=400, start="2020-01-06", end="2020-03-01", shock_date="2020-06-01",
                    hazard_peak_date="2020-06-01")
NEVER = 10**9


def _batch(n, loss_day):
    rng = np.random.default_rng(5)
    return Batch(np.arange(n), 40.0 + rng.uniform(-0.05, 0.05, n), -75.15 + rng.uniform(-0.1, 0.1, n),
                 np.full(n, 39.955), np.full(n, -75.165), np.ones(n, bool), np.zeros(n, bool), np.zeros(n, bool),
                 loss_day, np.full(n, NEVER))


def _new_places_and_radius(stops, people, first_day_s):
    df = pd.DataFrame(stops)
    df = df[(df["kind"] == OTHER) & df["person"].isin(people)]
    first_visit = df.groupby("place_id")["start"].min()
    late_new = first_visit[first_visit > first_day_s]
    d = df[df["start"] > first_day_s]
    return len(late_new) / len(people), d


def test_job_loss_reduces_exploration_and_distance():
    n = 400
    loss = np.where(np.arange(n) < n // 2, 14, NEVER)  # half lose their job after two weeks
    cal = Calendar.from_params(P)
    b = _batch(n, loss)
    stops = simulate_stops(P, b, cal, np.random.default_rng(0))
    after = cal.midnight_utc_s[35]
    new_l, dl = _new_places_and_radius(stops, np.arange(n // 2), after)
    new_c, dc = _new_places_and_radius(stops, np.arange(n // 2, n), after)
    # losers explore with probability x (1 - effect): fewer new places per outing ...
    assert new_l / (len(dl) / (n // 2)) < 0.85 * new_c / (len(dc) / (n // 2))
    # ... and, their weekdays keeping a workday's outing rate, fewer new places in all
    assert new_l < 0.85 * new_c
    home = lambda d: haversine_m(d["lat"].to_numpy(), d["lon"].to_numpy(), b.home_lat[d["person"]],
                                 b.home_lon[d["person"]])
    assert np.median(home(dl)) < np.median(home(dc))
    s = pd.DataFrame(stops)
    assert not ((s["kind"] == WORK) & (s["person"] < n // 2) & (s["start"] >= cal.midnight_utc_s[14])).any()


def test_days_have_nights_at_home_and_work_hours_at_work():
    n = 50
    cal = Calendar.from_params(P)
    stops = pd.DataFrame(simulate_stops(P, _batch(n, np.full(n, NEVER)), cal, np.random.default_rng(1)))
    start = pd.to_datetime(stops["start"], unit="s", utc=True).dt.tz_convert(P.timezone)
    end = pd.to_datetime(stops["end"], unit="s", utc=True).dt.tz_convert(P.timezone)
    for kind, lo, hi in ((WORK, 7.0, 19.5), (OTHER, 8.0, 23.5)):
        k = stops["kind"] == kind
        assert (start[k].dt.hour + start[k].dt.minute / 60 >= lo).all()
        assert (end[k].dt.date == start[k].dt.date).all()
        assert (end[k].dt.hour + end[k].dt.minute / 60 <= hi).all()
    # 03:00 local on any day falls in a home stop
    t = pd.Timestamp("2020-02-12 03:00", tz=P.timezone).timestamp()
    at = stops[(stops["start"] <= t) & (stops["end"] > t)]
    assert len(at) == n and (at["kind"] == HOME).all()
    dur = (stops["end"] - stops["start"])[stops["kind"] == OTHER]
    assert dur.min() >= P.min_stop_duration_s - 1e-6 and dur.max() <= P.max_stop_duration_s + 1e-6
    # weekdays: ~5 work days a week minus absences
    work_days = start[stops["kind"] == WORK].dt.date.nunique()
    assert work_days == 40  # 8 weeks x 5 weekdays, over all people


def test_effect_curve_by_hand():
    assert effect_curve(np.array([0.0]), 0.4, 5.0)[0] == 0.0
    assert np.isclose(effect_curve(np.array([5.0]), 0.4, 5.0)[0], 0.4 * (1 - np.exp(-1)))


def _truncated_poisson_mean(lam, cap):
    """E[min(X, cap)] for X ~ Poisson(lam), summed by hand."""
    return sum(min(k, cap) * math.exp(-lam) * lam**k / math.factorial(k) for k in range(80))


def test_jobless_weekdays_keep_the_documented_outing_rate():
    """Out of work from day 0, no shock in the window: outings on day d are Poisson with mean
    outings_jobless_weekday_mean (weekdays) or outings_offday_mean (weekends) x (1 - effect(d / 7 weeks)),
    capped at max_outings_per_day."""
    n = 800
    cal = Calendar.from_params(P)
    stops = pd.DataFrame(simulate_stops(P, _batch(n, np.zeros(n, np.int64)), cal, np.random.default_rng(3)))
    day = np.searchsorted(cal.midnight_utc_s, stops["start"].to_numpy(), side="right") - 1
    days = np.arange(len(cal.dates))
    per_day = np.bincount(day[stops["kind"].to_numpy() == OTHER], minlength=len(days)) / n
    weekday = cal.dates.day_of_week.to_numpy() < 5
    for mask, base in ((weekday, P.outings_jobless_weekday_mean), (~weekday, P.outings_offday_mean)):
        lam = base * (1 - P.outing_effect_max * (1 - np.exp(-days[mask] / 7 / P.effect_tau_weeks)))
        expected = np.mean([_truncated_poisson_mean(m, P.max_outings_per_day) for m in lam])
        se = math.sqrt(expected / (n * mask.sum()))  # Poisson: variance <= mean
        assert abs(per_day[mask].mean() - expected) < 4 * se, (base, per_day[mask].mean(), expected)
    # the documented default: a workday's outings beside work (evening + lunch), well below an off-day's
    assert P.outings_jobless_weekday_mean == pytest.approx(P.outings_workday_mean + P.lunch_out_prob)
    assert per_day[weekday].mean() < 0.7 * per_day[~weekday].mean()


def _venues(n, seed=9):
    rng = np.random.default_rng(seed)
    return Venues(lat=40.0 + rng.uniform(-0.05, 0.05, n), lon=-75.15 + rng.uniform(-0.1, 0.1, n),
                  weight=np.ones(n), cbg=np.full(n, "421010001001"))


def test_shared_venues_make_many_people_stop_on_the_same_spots():
    n = 200
    p = SyntheticParams(n_users=n, start="2020-01-06", end="2020-02-02", shock_date="2020-06-01",
                        hazard_peak_date="2020-06-01", shared_venues_per_1000_users=100.0, shared_venue_share=1.0)
    cal = Calendar.from_params(p)
    venues = _venues(20)
    stops = pd.DataFrame(simulate_stops(p, _batch(n, np.full(n, NEVER)), cal, np.random.default_rng(2), venues))
    other = stops[stops["kind"] == OTHER]
    at = pd.Series(list(zip(other["lat"], other["lon"]))).isin(set(zip(venues.lat, venues.lon))).to_numpy()
    # the ten initial places are private; every exploration picks a venue while the person knows not all
    new = other.drop_duplicates("place_id")
    new_at = pd.Series(list(zip(new["lat"], new["lon"]))).isin(set(zip(venues.lat, venues.lon))).to_numpy()
    assert new_at.sum() > 0.5 * len(new) and at.sum() > 0.2 * len(other)
    visitors = other[at].groupby(["lat", "lon"])["person"].nunique()
    assert len(visitors) == 20 and visitors.min() >= 10  # each venue is shared by many people
    # a person adds a venue to their places at most once (no second place_id at the same venue)
    per_person = other[at].groupby(["person", "lat", "lon"])["place_id"].nunique()
    assert per_person.max() == 1


def test_no_venue_share_gives_the_stops_of_a_region_without_venues():
    n = 60
    cal = Calendar.from_params(P)
    b = _batch(n, np.full(n, NEVER))
    plain = simulate_stops(P, b, cal, np.random.default_rng(4))
    with_venues = simulate_stops(P, b, cal, np.random.default_rng(4), _venues(30))  # share 0: ignored
    assert plain.keys() == with_venues.keys()
    for key in plain:
        np.testing.assert_array_equal(plain[key], with_venues[key])


def test_venue_choice_follows_the_distance_law_and_skips_known_venues():
    """Weights by hand: a venue at distance d from home weighs d**-(1 + exponent) (d clamped up to
    new_place_min_distance_m, 0 beyond new_place_max_distance_m), times its attractiveness."""
    p = SyntheticParams(n_users=1, shared_venues_per_1000_users=1000.0, shared_venue_share=1.0,
                        new_place_min_distance_m=100.0, new_place_max_distance_m=5000.0,
                        new_place_distance_exponent=0.5)
    m = 111_195.0  # metres per degree of latitude
    v = Venues(lat=40.0 + np.array([50.0, 400.0, 1600.0, 9000.0]) / m, lon=np.full(4, -75.1),
               weight=np.array([1.0, 2.0, 1.0, 1.0]), cbg=np.full(4, "421010001001"))
    b = Batch(np.arange(1), np.array([40.0]), np.array([-75.1]), np.array([np.nan]), np.array([np.nan]),
              np.array([False]), np.array([False]), np.array([False]), np.array([NEVER]), np.array([NEVER]))
    places = _Places(p, b, np.random.default_rng(0), v)
    w = places.venue_weights(np.array([0]), np.array([40.0]), np.array([-75.1]), np.array([1.0]))[0]
    expected = np.array([100.0**-1.5, 2 * 400.0**-1.5, 1600.0**-1.5, 0.0])
    np.testing.assert_allclose(w, expected, rtol=1e-6)
    places.venue[0, 3] = 1  # the person knows venue 1 (at place slot 3)
    w = places.venue_weights(np.array([0]), np.array([40.0]), np.array([-75.1]), np.array([1.0]))[0]
    assert w[1] == 0 and w[0] > 0
    # a job loser's radius multiplier of 0.5 weighs a venue at d like a private place at 2 d
    w_half = places.venue_weights(np.array([0]), np.array([40.0]), np.array([-75.1]), np.array([0.5]))[0]
    np.testing.assert_allclose(w_half[[0, 2]], [100.0**-1.5, 3200.0**-1.5], rtol=1e-6)  # 2 x 50 m = 100 m


def test_work_campus_spreads_each_days_work_stops_around_the_work_point():
    n = 100
    cal = Calendar.from_params(P)
    b = _batch(n, np.full(n, NEVER))
    p = SyntheticParams(**{**P.to_dict(), "work_campus_radius_m": 250.0,
                           "sector_hazard_multiplier": P.sector_hazard_multiplier})
    stops = pd.DataFrame(simulate_stops(p, b, cal, np.random.default_rng(6)))
    work = stops[stops["kind"] == WORK]
    d = haversine_m(work["lat"].to_numpy(), work["lon"].to_numpy(), 39.955, -75.165)
    assert d.max() < 250.1 and np.quantile(d, 0.5) > 100  # uniform in the disc: median radius 250 / sqrt 2
    assert abs(np.mean(d <= 125.0) - 0.25) < 0.05  # area share of the inner half-radius disc
    day = np.searchsorted(cal.midnight_utc_s, work["start"].to_numpy(), side="right") - 1
    spots = work.assign(day=day).groupby(["person", "day"])[["lat", "lon"]].nunique()
    assert (spots == 1).all().all()  # one building a day (before and after lunch) ...
    assert work.groupby("person")["lat"].nunique().min() > 20  # ... another one on other days
    # without the knob every work stop is the work point itself
    plain = pd.DataFrame(simulate_stops(P, b, cal, np.random.default_rng(6)))
    assert plain.loc[plain["kind"] == WORK, ["lat", "lon"]].drop_duplicates().shape[0] == 1
