"""Frame tests of :mod:`mobility.metrics`: hand-worked tiny cases for every metric and option, edge cases,
errors, parity with scikit-mobility 1.3.1 on GeoLife, and the planted job-loss effect on synthetic truth."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.metrics import (
    METRIC_COLUMNS,
    period_bounds_ns,
    ping_metrics,
    ping_radius_of_gyration,
    weekly_metrics,
)

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
REFERENCE = Path(__file__).resolve().parent / "reference" / "skmob_values.csv"
KM_LAT = 180.0 / math.pi / 6371.0  # degrees of latitude in 1 km on the 6371.0 km sphere
MON = pd.Timestamp("2020-03-02", tz="UTC")  # a Monday


def _stops(rows):
    """rows: (user, start offset h from MON, end offset h, lat, lon, location_id)."""
    return pd.DataFrame({
        "user_id": [r[0] for r in rows],
        "start": [MON + pd.Timedelta(hours=r[1]) for r in rows],
        "end": [MON + pd.Timedelta(hours=r[2]) for r in rows],
        "lat": [float(r[3]) for r in rows], "lon": [float(r[4]) for r in rows],
        "location_id": [r[5] for r in rows],
    })


def _day():
    """Home (0, 0) 0-8 h and 18-24 h (14 h, 2 visits), work 1 km north 9-17 h (8 h, 1 visit)."""
    return [("a", 0, 8, 0, 0, 0), ("a", 9, 17, KM_LAT, 0, 1), ("a", 18, 24, 0, 0, 0)]


def test_one_day_every_metric_by_hand():
    m = weekly_metrics(_stops(_day()), capacity_weeks=1)
    assert len(m) == 1
    r = m.iloc[0]
    assert r["user_id"] == "a"
    assert r["period_start"] == MON and r["period_end"] == MON + pd.Timedelta(days=7)
    # two places D = 1 km apart with weights a, b: centre at b/(a+b) D from the first;
    # Rg^2 = (a (bD/(a+b))^2 + b (aD/(a+b))^2) / (a+b) = ab D^2 / (a+b)^2 -> Rg = D sqrt(ab)/(a+b)
    assert r["radius_of_gyration_km"] == pytest.approx(math.sqrt(14 * 8) / 22, rel=1e-9)
    assert r["k_radius_of_gyration_km"] == pytest.approx(math.sqrt(14 * 8) / 22, rel=1e-9)  # N = k = 2
    assert r["random_entropy_bits"] == pytest.approx(1.0)
    p, q = 14 / 22, 8 / 22
    assert r["uncorrelated_entropy_bits"] == pytest.approx(-(p * math.log2(p) + q * math.log2(q)), rel=1e-12)
    assert r["n_stops"] == 3 and r["distinct_locations"] == 2 and r["new_locations"] == 2
    assert r["exploration_rate"] == pytest.approx(2 / 3)
    assert r["travelled_distance_km"] == pytest.approx(2.0, rel=1e-9)  # home -> work -> home
    assert r["coverage_h"] == 22.0  # 8 + 8 + 6 clock hours
    assert r["capacity"] == 1.0  # home: 2 visits, 14 h; work: 1 visit
    assert math.isnan(r["time_at_home_h"]) and math.isnan(r["time_at_work_h"])
    assert list(m.columns) == ["user_id", "period_start", "period_end", *METRIC_COLUMNS]


def test_visit_weights_and_unweighted_centre():
    # visits 2 (home) and 1 (work): Rg = D sqrt(2 * 1) / 3; entropy of (2/3, 1/3)
    m = weekly_metrics(_stops(_day()), weights="visits")
    assert m.loc[0, "radius_of_gyration_km"] == pytest.approx(math.sqrt(2) / 3, rel=1e-9)
    h = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    assert m.loc[0, "uncorrelated_entropy_bits"] == pytest.approx(h, rel=1e-12)
    # unweighted centre: the midpoint, 0.5 km from both, whatever the weights
    m = weekly_metrics(_stops(_day()), centre="unweighted")
    assert m.loc[0, "radius_of_gyration_km"] == pytest.approx(0.5, rel=1e-9)


def test_k_radius_keeps_the_k_heaviest_locations():
    # add a shop 3 km east for 1 h: k = 2 keeps home (14 h) and work (8 h) -> sqrt(112)/22
    rows = _day() + [("a", 30, 31, 0, 3 * KM_LAT, 2)]
    m = weekly_metrics(_stops(rows))
    assert m.loc[0, "k_radius_of_gyration_km"] == pytest.approx(math.sqrt(112) / 22, rel=1e-9)
    # k = 1: only home -> 0
    assert weekly_metrics(_stops(rows), k=1).loc[0, "k_radius_of_gyration_km"] == 0.0
    # all three: centre (lat, lon) = (8 D / 23, 3 D / 23) in km from home, D = 1 km
    c_n, c_e = 8 / 23, 3 / 23
    d2 = [c_n**2 + c_e**2, (1 - c_n) ** 2 + c_e**2, c_n**2 + (3 - c_e) ** 2]
    expected = math.sqrt((14 * d2[0] + 8 * d2[1] + 1 * d2[2]) / 23)
    # the haversine on a small box equals the flat distance to ~1e-7 relative
    assert m.loc[0, "radius_of_gyration_km"] == pytest.approx(expected, rel=1e-6)
    assert m.loc[0, "random_entropy_bits"] == pytest.approx(math.log2(3))


def test_normalised_entropy_renames_the_column():
    m = weekly_metrics(_stops(_day()), normalise_entropy=True)
    assert "uncorrelated_entropy_bits" not in m.columns
    p, q = 14 / 22, 8 / 22
    assert m.loc[0, "uncorrelated_entropy_norm"] == pytest.approx(-(p * math.log2(p) + q * math.log2(q)))


def test_stop_across_week_boundary_is_split_by_time():
    # Sunday 22:00 -> Monday 02:00: 2 h in each ISO week, one visit in each
    rows = [("a", 6 * 24 + 22, 7 * 24 + 2, 0, 0, 0)]
    m = weekly_metrics(_stops(rows))
    assert m["period_start"].tolist() == [MON, MON + pd.Timedelta(days=7)]
    assert m["n_stops"].tolist() == [1, 1]
    assert m["coverage_h"].tolist() == [2.0, 2.0]
    assert m["new_locations"].tolist() == [1, 0]  # the place is new only in the first week
    assert m["travelled_distance_km"].tolist() == [0.0, 0.0]


def test_empty_week_and_single_location_values():
    # week 1: one place; week 2: nothing; week 3: the same place again
    rows = [("a", 1, 3, 0, 0, 0), ("a", 14 * 24 + 1, 14 * 24 + 2, 0, 0, 0)]
    m = weekly_metrics(_stops(rows))
    assert len(m) == 3
    one, empty = m.iloc[0], m.iloc[1]
    assert one["radius_of_gyration_km"] == 0.0 and one["k_radius_of_gyration_km"] == 0.0
    assert one["random_entropy_bits"] == 0.0 and one["uncorrelated_entropy_bits"] == 0.0
    assert empty["n_stops"] == 0 and empty["distinct_locations"] == 0 and empty["new_locations"] == 0
    assert empty["coverage_h"] == 0.0 and empty["travelled_distance_km"] == 0.0
    for col in ("radius_of_gyration_km", "k_radius_of_gyration_km", "random_entropy_bits",
                "uncorrelated_entropy_bits", "exploration_rate"):
        assert math.isnan(empty[col]), col
    assert m.iloc[2]["new_locations"] == 0 and m.iloc[2]["exploration_rate"] == 0.0
    norm = weekly_metrics(_stops(rows), normalise_entropy=True)
    assert norm.loc[0, "uncorrelated_entropy_norm"] == 0.0


def test_new_locations_and_exploration_across_weeks():
    # week 1: home, work; week 2: home, new shop, new park, home -> new 2 of 4 visits
    w2 = 7 * 24
    rows = _day() + [("a", w2 + 0, w2 + 8, 0, 0, 0), ("a", w2 + 10, w2 + 11, 0.01, 0, 2),
                     ("a", w2 + 12, w2 + 13, 0.02, 0, 3), ("a", w2 + 14, w2 + 20, 0, 0, 0)]
    m = weekly_metrics(_stops(rows))
    assert m["new_locations"].tolist() == [2, 2]
    assert m["exploration_rate"].tolist() == [pytest.approx(2 / 3), pytest.approx(2 / 4)]
    assert m["distinct_locations"].tolist() == [2, 3]


def test_capacity_over_a_sliding_window_by_hand():
    # 3 weeks, capacity_weeks = 2, >= 2 visits and >= 10 min/week on average (>= 20 min in 2 weeks)
    # home: 1 visit of 1 h every week; shop: 2 visits of 7.5 min in week 1 only; gym: 1 visit of 30 min
    # in weeks 2 and 3.
    # week 1: NaN (only 1 week of observation behind it)
    # week 2 (weeks 1-2): home 2 visits 2 h -> in; shop 2 visits 15 min -> out (< 20 min); gym 1 -> out: 1
    # week 3 (weeks 2-3): home in; gym 2 visits 60 min -> in; shop none: 2
    rows = []
    for w in range(3):
        rows.append(("a", w * 168 + 1, w * 168 + 2, 0, 0, 0))
    rows += [("a", 3, 3.125, 0.01, 0, 1), ("a", 4, 4.125, 0.01, 0, 1)]
    rows += [("a", w * 168 + 5, w * 168 + 5.5, 0.02, 0, 2) for w in (1, 2)]
    m = weekly_metrics(_stops(sorted(rows, key=lambda r: r[1])), capacity_weeks=2)
    assert math.isnan(m.loc[0, "capacity"])
    assert m["capacity"].tolist()[1:] == [1.0, 2.0]
    # with a 1-week window: week 1 home 1 visit, shop 2 visits 15 min (>= 10 min) -> 1; weeks 2, 3: 0
    m1 = weekly_metrics(_stops(sorted(rows, key=lambda r: r[1])), capacity_weeks=1)
    assert m1["capacity"].tolist() == [1.0, 0.0, 0.0]


def test_time_at_home_and_work_from_daily_labels():
    rows = _day() + [("a", 7 * 24 + 1, 7 * 24 + 3, 0, 0, 0)]  # second week: 2 h at home, unlabelled
    labels = pd.DataFrame({"user_id": ["a"], "date": [pd.Timestamp("2020-03-02")],
                           "home_location_id": pd.array([0], dtype="Int64"),
                           "work_location_id": pd.array([1], dtype="Int64")})
    m = weekly_metrics(_stops(rows), home_work=labels)
    assert m.loc[0, "time_at_home_h"] == 14.0 and m.loc[0, "time_at_work_h"] == 8.0
    assert math.isnan(m.loc[1, "time_at_home_h"]) and math.isnan(m.loc[1, "time_at_work_h"])
    # a day with a home label but no work label: work NaN, home counted
    labels.loc[0, "work_location_id"] = pd.NA
    m = weekly_metrics(_stops(rows), home_work=labels)
    assert m.loc[0, "time_at_home_h"] == 14.0 and math.isnan(m.loc[0, "time_at_work_h"])


def test_nonwork_metrics_leave_out_every_labelled_workplace():
    """Week 1: home 14 h, work (1 km N) 8 h, a shop 2 km E 1 h; week 2: home, the shop, a new gym 1 km S,
    and a visit to the old workplace (labelled work in week 1 only: still a workplace)."""
    rows = _day() + [("a", 30, 31, 0, 2 * KM_LAT, 2)]
    week2 = 7 * 24
    rows += [("a", week2 + 0, week2 + 8, 0, 0, 0), ("a", week2 + 9, week2 + 10, 0, 2 * KM_LAT, 2),
             ("a", week2 + 11, week2 + 13, -KM_LAT, 0, 3), ("a", week2 + 14, week2 + 15, KM_LAT, 0, 1)]
    labels = pd.DataFrame({"user_id": ["a"], "date": [pd.Timestamp("2020-03-02")],
                           "home_location_id": pd.array([0], dtype="Int64"),
                           "work_location_id": pd.array([1], dtype="Int64")})
    m = weekly_metrics(_stops(sorted(rows, key=lambda r: r[1])), home_work=labels)
    w1, w2 = m.iloc[0], m.iloc[1]
    # week 1 without work: home 14 h at (0, 0) and the shop 1 h 2 km east (on the equator: 2 km)
    assert w1["radius_of_gyration_km_nonwork"] == pytest.approx(2.0 * math.sqrt(14 * 1) / 15, rel=1e-6)
    p, q = 14 / 15, 1 / 15
    assert w1["uncorrelated_entropy_bits_nonwork"] == pytest.approx(-(p * math.log2(p) + q * math.log2(q)), rel=1e-12)
    assert (w1["distinct_locations_nonwork"], w1["new_locations_nonwork"]) == (2.0, 2.0)
    assert w1["exploration_rate_nonwork"] == pytest.approx(2 / 3)  # 2 new places over 3 non-work visits
    assert w1["distinct_locations"] == 3 and w1["new_locations"] == 3
    # week 2: home, shop, gym (new); the old workplace is left out although unlabelled that week
    assert (w2["distinct_locations_nonwork"], w2["new_locations_nonwork"]) == (3.0, 1.0)
    assert w2["exploration_rate_nonwork"] == pytest.approx(1 / 3)
    assert w2["distinct_locations"] == 4
    # without labels nothing is known about workplaces
    bare = weekly_metrics(_stops(sorted(rows, key=lambda r: r[1])))
    assert bare[[c for c in METRIC_COLUMNS if c.endswith("_nonwork")]].isna().all().all()


def test_labels_follow_the_local_day_across_midnight():
    # a stop at location 5 from 22:00 Mon to 04:00 Tue; Monday's home is 5, Tuesday's home is 6
    rows = [("a", 22, 28, 0, 0, 5)]
    labels = pd.DataFrame({"user_id": ["a", "a"], "date": pd.to_datetime(["2020-03-02", "2020-03-03"]),
                           "home_location_id": pd.array([5, 6], dtype="Int64"),
                           "work_location_id": pd.array([None, None], dtype="Int64")})
    assert weekly_metrics(_stops(rows), home_work=labels).loc[0, "time_at_home_h"] == 2.0


def test_months_and_other_periods():
    # a stop from 2020-03-31 23:00 to 2020-04-01 01:00 UTC: 1 h in March, 1 h in April
    t = pd.Timestamp("2020-03-31 23:00", tz="UTC")
    stops = pd.DataFrame({"user_id": ["a"], "start": [t], "end": [t + pd.Timedelta("2h")], "lat": [0.0],
                          "lon": [0.0], "location_id": [0]})
    m = weekly_metrics(stops, period="month")
    assert m["period_start"].tolist() == [pd.Timestamp("2020-03-01", tz="UTC"),
                                          pd.Timestamp("2020-04-01", tz="UTC")]
    assert m["coverage_h"].tolist() == [1.0, 1.0]
    assert weekly_metrics(stops, period="day")["n_stops"].tolist() == [1, 1]
    everything = weekly_metrics(stops, period="all")
    assert len(everything) == 1 and everything.loc[0, "coverage_h"] == 2.0
    # fixed 14-day windows start every 14 days from Monday 2000-01-03; 2020-03-30 is 7392 = 14 * 528 days
    # later, so the window holding 03-31 23:00 and 04-01 01:00 is [03-30, 04-13)
    two_weeks = weekly_metrics(stops, period="14D")
    assert two_weeks["period_start"].tolist() == [pd.Timestamp("2020-03-30", tz="UTC")]
    assert two_weeks["period_end"].tolist() == [pd.Timestamp("2020-04-13", tz="UTC")]


def test_timezone_moves_week_starts_to_local_midnight():
    # New York is UTC-4 on 2020-03-09 (DST began 03-08): the week starts at 04:00 UTC. A stop at
    # 02:00 UTC on Monday 03-09 is still Sunday evening in New York, so it belongs to the week of 03-02.
    t = pd.Timestamp("2020-03-09 02:00", tz="UTC")
    stops = pd.DataFrame({"user_id": ["a"], "start": [t], "end": [t + pd.Timedelta("1h")], "lat": [0.0],
                          "lon": [0.0], "location_id": [0]})
    m = weekly_metrics(stops, timezone="America/New_York")
    assert m["period_start"].tolist() == [pd.Timestamp("2020-03-02 05:00", tz="UTC")]  # EST, UTC-5
    assert m["period_end"].tolist() == [pd.Timestamp("2020-03-09 04:00", tz="UTC")]  # EDT, UTC-4
    assert weekly_metrics(stops)["period_start"].tolist() == [pd.Timestamp("2020-03-09", tz="UTC")]


def test_period_bounds_cover_the_range():
    lo = pd.Timestamp("2020-01-31 12:00", tz="UTC").value
    hi = pd.Timestamp("2020-03-01 00:00", tz="UTC").value
    b = pd.to_datetime(period_bounds_ns(lo, hi, "month", None), utc=True)
    assert [str(x.date()) for x in b] == ["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01"]


def test_users_and_order_do_not_matter():
    rows = _day() + [("b", 2, 3, 1, 1, 7), ("b", 5, 6, 1, 1.01, 8)]
    m = weekly_metrics(_stops(rows))
    shuffled = weekly_metrics(_stops(rows).sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(m, shuffled)
    assert m["user_id"].tolist() == ["a", "b"]
    # user b alone gives the same row as within the pair
    alone = weekly_metrics(_stops(rows[3:]))
    pd.testing.assert_frame_equal(m.iloc[[1]].reset_index(drop=True), alone, check_like=True)


def test_users_with_disjoint_periods_get_their_own_rows():
    rows = [("a", 1, 2, 0, 0, 0), ("b", 3 * 168 + 1, 3 * 168 + 2, 0, 0, 0)]
    m = weekly_metrics(_stops(rows))
    assert m["user_id"].tolist() == ["a", "b"]
    assert m["period_start"].tolist() == [MON, MON + pd.Timedelta(weeks=3)]


def test_same_location_id_in_two_users_are_different_places():
    rows = [("a", 1, 2, 0, 0, 1), ("b", 1, 2, 5, 5, 1)]
    m = weekly_metrics(_stops(rows))
    assert m["radius_of_gyration_km"].tolist() == [0.0, 0.0]


def test_column_mapping_and_params_recorded():
    df = _stops(_day()).rename(columns={"location_id": "place_id", "user_id": "uid"})
    m = weekly_metrics(df, columns={"location_id": "place_id", "user_id": "uid"}, k=3)
    assert m.loc[0, "radius_of_gyration_km"] == pytest.approx(math.sqrt(112) / 22, rel=1e-9)
    assert m.attrs["params"]["k"] == 3 and m.attrs["params"]["weights"] == "dwell"


def test_empty_input_gives_an_empty_table():
    m = weekly_metrics(_stops(_day()).iloc[0:0])
    assert len(m) == 0 and list(m.columns) == ["user_id", "period_start", "period_end", *METRIC_COLUMNS]


@pytest.mark.parametrize("kwargs, words", [
    ({"k": 0}, "k=0"), ({"k": 1.5}, "k=1.5"), ({"weights": "time"}, "weights"),
    ({"centre": "median"}, "centre"), ({"period": "year"}, "period"), ({"timezone": "Mars/Base"}, "timezone"),
    ({"capacity_weeks": 0}, "capacity_weeks"), ({"capacity_min_weekly_dwell_s": -1.0}, "dwell"),
    ({"capacity_min_weekly_dwell_s": float("nan")}, "dwell"), ({"normalise_entropy": "yes"}, "normalise"),
    ({"backend": "numpy"}, "backend"), ({"backend": "cudf"}, "cuDF"),
])
def test_bad_parameters_raise_mobility_error(kwargs, words):
    with pytest.raises(MobilityError, match=words):
        weekly_metrics(_stops(_day()), **kwargs)


def test_bad_tables_raise_mobility_error_naming_the_problem():
    good = _stops(_day())
    with pytest.raises(MobilityError, match=r"missing column\(s\) 'location_id'"):
        weekly_metrics(good.drop(columns="location_id"))
    naive = good.assign(start=good["start"].dt.tz_localize(None))
    with pytest.raises(MobilityError, match="tz-aware"):
        weekly_metrics(naive)
    swapped = good.assign(end=good["start"] - pd.Timedelta("1h"))
    with pytest.raises(MobilityError, match="row 0: 'end' is before 'start'"):
        weekly_metrics(swapped)
    with pytest.raises(MobilityError, match="run the locations step"):
        weekly_metrics(good.assign(location_id=[0, -1, 0]))
    with pytest.raises(MobilityError, match="row 1: 'lat'"):
        weekly_metrics(good.assign(lat=[0.0, 95.0, 0.0]))
    labels = pd.DataFrame({"user_id": ["a", "a"], "date": pd.to_datetime(["2020-03-02"] * 2),
                           "home_location_id": [0, 0], "work_location_id": [1, 1]})
    with pytest.raises(MobilityError, match="more than one row"):
        weekly_metrics(good, home_work=labels)


def test_ping_metrics_by_hand():
    # four pings: three at (1, 2), one 1 km north; visits 3 and 1 -> Rg = D sqrt(3)/4
    t = MON + pd.Timedelta("8h")
    pings = pd.DataFrame({"user_id": ["a"] * 4, "timestamp": [t + pd.Timedelta(minutes=i) for i in range(4)],
                          "lat": [1.0, 1.0, 1.0 + KM_LAT, 1.0], "lon": [2.0] * 4})
    m = ping_metrics(pings, period="all", capacity_weeks=1)
    r = m.iloc[0]
    assert r["radius_of_gyration_km"] == pytest.approx(math.sqrt(3) / 4, rel=1e-6)  # 1 km at lat 1 deg
    assert r["distinct_locations"] == 2 and r["n_stops"] == 4
    assert r["uncorrelated_entropy_bits"] == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))
    assert r["travelled_distance_km"] == pytest.approx(2.0, rel=1e-9)
    assert r["coverage_h"] == 1.0
    assert r["capacity"] == 1.0  # visits only: (1, 2) has 3 visits
    assert math.isnan(r["time_at_home_h"])


def test_ping_radius_of_gyration_by_hand():
    # user a: three pings at (0, 0) and one 1 km north -> sqrt(1 * 3) / 4; user b: one place -> 0
    pings = pd.DataFrame({"user_id": ["b", "a", "a", "a", "a"], "lat": [5.0, 0.0, 0.0, KM_LAT, 0.0],
                          "lon": [5.0, 0.0, 0.0, 0.0, 0.0]})
    rg = ping_radius_of_gyration(pings)
    assert rg["user_id"].tolist() == ["a", "b"]
    assert rg["radius_of_gyration_km"].tolist() == [pytest.approx(math.sqrt(3) / 4, rel=1e-9), 0.0]
    # unweighted centre: the midpoint of the two distinct places -> 0.5 km
    assert ping_radius_of_gyration(pings, centre="unweighted").loc[0, "radius_of_gyration_km"] == \
        pytest.approx(0.5, rel=1e-9)
    with pytest.raises(MobilityError, match="centre"):
        ping_radius_of_gyration(pings, centre="middle")


def _geolife():
    path = REAL / "geolife_skmob" / "geolife_sample.txt.gz"
    if not path.exists():
        pytest.skip(f"real GeoLife sample not found at {path} (needs ../shared/data/real next to the repo)")
    df = pd.read_csv(path, dtype={"uid": str})
    return df.assign(timestamp=pd.to_datetime(df["datetime"], utc=True))


@pytest.mark.real
def test_parity_with_scikit_mobility_on_geolife():
    df = _geolife()
    cols = {"user_id": "uid", "lon": "lng"}
    ours = ping_metrics(df, period="all", columns=cols).set_index("user_id")
    norm = ping_metrics(df, period="all", normalise_entropy=True, columns=cols).set_index("user_id")
    ref = pd.read_csv(REFERENCE, dtype={"uid": str}).pivot(index="uid", columns="measure", values="value")
    pairs = {"radius_of_gyration": ours["radius_of_gyration_km"],
             "k_radius_of_gyration_k2": ours["k_radius_of_gyration_km"],
             "random_entropy": ours["random_entropy_bits"],
             "uncorrelated_entropy": ours["uncorrelated_entropy_bits"],
             "uncorrelated_entropy_normalized": norm["uncorrelated_entropy_norm"],
             "number_of_locations": ours["distinct_locations"].astype(float),
             "distance_straight_line": ours["travelled_distance_km"]}
    direct = ping_radius_of_gyration(df, columns=cols).set_index("user_id")["radius_of_gyration_km"]
    pairs["radius_of_gyration_direct"] = direct
    ref["radius_of_gyration_direct"] = ref["radius_of_gyration"]
    assert sorted(ref.index) == ["001", "005"]
    for measure, values in pairs.items():
        for uid in ref.index:
            assert values[uid] == pytest.approx(ref.loc[uid, measure], rel=1e-6), (measure, uid)


@pytest.fixture(scope="module")
def synthetic_truth(tmp_path_factory):
    synthetic = pytest.importorskip("mobility.synthetic", reason="the synthetic generator is not available")
    # the default planted effects (explore_effect_max, radius_effect_max, ...); only the job-loss hazard is
    # raised, so that 150 people give enough early job losers
    params = synthetic.SyntheticParams(
        n_users=150, start="2020-02-03", end="2020-06-21", shock_date="2020-03-16",
        hazard_peak_date="2020-03-23", peak_job_loss_hazard_per_week=0.15, rehire_hazard_per_week=0.0,
        users_per_part=150)
    region = synthetic.generate_region(tmp_path_factory.mktemp("metrics") / "region", params, seed=11)
    return synthetic.load_truth(region)


def test_planted_job_loss_effect_is_visible_on_truth_stops(synthetic_truth):
    people, stops = synthetic_truth["people"], synthetic_truth["stops"]
    m = weekly_metrics(stops, columns={"location_id": "place_id"}, timezone="America/New_York")
    week = m["period_start"].dt.tz_convert("America/New_York").dt.tz_localize(None).dt.normalize()
    m = m.assign(week=week)
    losers = people.loc[people["job_loss_date"].notna(), ["user_id", "job_loss_date"]]
    employed = people.loc[people["work_cbg"].notna() & people["job_loss_date"].isna(), "user_id"]
    assert len(losers) >= 10 and len(employed) >= 30
    # baseline: the weeks before the shock, less the first one (where every location is new by definition)
    baseline = (m["week"] >= pd.Timestamp("2020-02-10")) & (m["week"] < pd.Timestamp("2020-03-16"))
    late = m["week"] >= pd.Timestamp("2020-05-04")

    def change(users, metric):
        mine = m["user_id"].isin(users)
        per_user = (m[mine & late].groupby("user_id")[metric].mean()
                    - m[mine & baseline].groupby("user_id")[metric].mean())
        return per_user.mean()

    # losers who lost their job at least two weeks before the late window
    early_losers = losers.loc[losers["job_loss_date"] <= pd.Timestamp("2020-04-20"), "user_id"]
    assert len(early_losers) >= 10
    for metric in ("radius_of_gyration_km", "new_locations"):
        drop_losers, drop_employed = change(early_losers, metric), change(employed, metric)
        assert drop_losers < 0, metric
        assert drop_losers < drop_employed, (metric, drop_losers, drop_employed)


def test_integer_user_ids_keep_their_type_order_and_labels():
    """Ids 9 and 10 (integers): output ids are the same integers in numeric order, and labels still match."""
    t = lambda h: pd.Timestamp("2020-01-06", tz="UTC") + pd.Timedelta(hours=h)  # noqa: E731
    stops = pd.DataFrame({"user_id": [10, 10, 9], "start": [t(0), t(10), t(0)], "end": [t(3), t(11), t(2)],
                          "lat": [40.0, 40.01, 40.0], "lon": [-75.0, -75.0, -75.0], "location_id": [0, 1, 0]})
    labels = pd.DataFrame({"user_id": [10, 9], "date": pd.to_datetime(["2020-01-06", "2020-01-06"]),
                           "home_location_id": pd.array([0, 0], dtype="Int64"),
                           "work_location_id": pd.array([1, pd.NA], dtype="Int64")})
    out = weekly_metrics(stops, home_work=labels)
    assert out["user_id"].tolist() == [9, 10]
    assert out["time_at_home_h"].tolist() == [2.0, 3.0]
    assert out["time_at_work_h"].tolist()[1] == 1.0


@pytest.mark.parametrize("tied_first, travelled_km", [(0.0, 2.0), (KM_LAT, 1.0)])
def test_rows_out_of_user_order_keep_their_order_at_equal_times(tied_first, travelled_km):
    """Rows not in user order are sorted by (user, time) stably: of two pings at the same time, the one given
    first stays first, and the distance travelled follows it (0 -> 1 km -> 0: 2 km; 1 km -> 0 -> 0: 1 km)."""
    t = pd.Timestamp("2020-03-02 08:00", tz="UTC")
    tied_second = KM_LAT - tied_first
    pings = pd.DataFrame({"user_id": ["b", "a", "a", "a"],
                          "timestamp": [t, t, t, t + pd.Timedelta("1h")],
                          "lat": [5.0, tied_first, tied_second, 0.0], "lon": [0.0] * 4})
    m = ping_metrics(pings)
    assert m["user_id"].tolist() == ["a", "b"]
    assert m["travelled_distance_km"].tolist() == pytest.approx([travelled_km, 0.0], rel=1e-9)
