"""Home/work detection, HoWDe v2 rules (``method="howde"``): hand-worked cases and a plain-Python reference.

The schedule rules (the default) are tested in ``test_home_work_schedule.py``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from functools import partial

from mobility.home_work import HomeWorkParams, detect_home_work

howde = partial(detect_home_work, method="howde")

MONDAY = pd.Timestamp("2020-03-02")  # a Monday


def _stops(rows, tz="UTC"):
    """rows: (user, start, end, location_id) with naive local strings or Timestamps."""
    df = pd.DataFrame(rows, columns=["user_id", "start", "end", "location_id"])
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c]).dt.tz_localize(tz).dt.tz_convert("UTC")
    df["location_id"] = df["location_id"].astype("int64")
    return df


def _day(i, hour=0.0):
    return MONDAY + pd.Timedelta(days=i) + pd.Timedelta(hours=hour)


def _nights(user, days, loc, start_h=0, end_h=7):
    return [(user, _day(d, start_h), _day(d, end_h), loc) for d in days]


def _labels(out, col):
    return [None if pd.isna(v) else int(v) for v in out[col]]


# ---------------------------------------------------------------- home rule by hand


def test_home_window_mean_share_by_hand():
    # window_home_days=4 -> days d-2..d+2. Night shares: day0 A=1; day1 A=3/7, B=4/7; day2 no data;
    # day3 A=1; day4 B=1.
    rows = _nights("u", [0, 3], 10) + _nights("u", [4], 20)
    rows += [("u", _day(1, 0), _day(1, 3), 10), ("u", _day(1, 3), _day(1, 7), 20)]
    out = howde(_stops(rows), timezone="UTC", window_home_days=4)
    # day0: valid days 0,1 -> A (1 + 3/7)/2 = 0.714 >= 0.7
    # day1: valid 0,1,3 -> A (1 + 3/7 + 1)/3 = 0.81
    # day2: valid 0,1,3,4 -> A 0.607, B 0.393: none; day3: A 0.476, B 0.524; day4: A 0.5, B 0.5
    assert _labels(out, "home_location_id") == [10, 10, None, None, None]
    assert out["date"].tolist() == [_day(i) for i in range(5)]


def test_home_needs_c_days_share_of_days_with_data():
    # data only on days 0 and 4; window +-2. Day 2 sees 2 valid of 5 days = 0.4 >= C_days_H; others 1/3, 1/4
    rows = _nights("u", [0, 4], 7)
    out = howde(_stops(rows), timezone="UTC", window_home_days=4)
    assert _labels(out, "home_location_id") == [None, None, 7, None, None]
    out = howde(_stops(rows), timezone="UTC", window_home_days=4, C_days_H=0.5)
    assert _labels(out, "home_location_id") == [None] * 5


def test_night_bins_c_hours_threshold():
    # every night 00:00-02:30 -> bins 0,1,2 = 3/7 = 0.43 of night bins: valid at C_hours 0.4, not at 0.5
    rows = [("u", _day(d, 0), _day(d, 2.5), 3) for d in range(3)]
    assert _labels(howde(_stops(rows), timezone="UTC"), "home_location_id") == [3, 3, 3]
    out = howde(_stops(rows), timezone="UTC", C_hours=0.5)
    assert _labels(out, "home_location_id") == [None] * 3
    # 00:00-02:00 -> bins 0,1 = 2/7 = 0.29: invalid at 0.4
    rows = [("u", _day(d, 0), _day(d, 2), 3) for d in range(3)]
    assert _labels(howde(_stops(rows), timezone="UTC"), "home_location_id") == [None] * 3


def test_stop_over_midnight_is_split():
    # 22:00 day d -> 07:00 day d+1 at loc 1: days 1..3 have all 7 night bins at loc 1; day 0 none
    rows = [("u", _day(d, 22), _day(d + 1, 7), 1) for d in range(3)]
    out = howde(_stops(rows), timezone="UTC", window_home_days=2)
    # day0 window 0..1: valid 1/2 (day 1), share 1 -> home 1
    assert _labels(out, "home_location_id") == [1, 1, 1, 1]


def test_home_changes_over_time():
    # 60 days: home 10 on days 0-29, home 20 on days 30-59, full nights. Window +-14 (29 days).
    rows = _nights("u", range(30), 10) + _nights("u", range(30, 60), 20)
    out = howde(_stops(rows), timezone="UTC")
    expected = []
    for d in range(60):
        lo, hi = max(0, d - 14), min(59, d + 14)
        n_a = max(0, min(29, hi) - lo + 1)
        n_b = max(0, hi - max(30, lo) + 1)
        n = hi - lo + 1
        expected.append(10 if n_a / n >= 0.7 else 20 if n_b / n >= 0.7 else None)
    assert _labels(out, "home_location_id") == expected
    assert expected[23] == 10 and expected[24] is None and expected[35] is None and expected[36] == 20


# ---------------------------------------------------------------- work rule by hand


def _worker(user, n_days, home, work, work_days=(0, 1, 2, 3, 4), start_h=9, end_h=18):
    rows = []
    for d in range(n_days):
        rows.append((user, _day(d, 0), _day(d, 8), home))
        if d % 7 in work_days:
            rows.append((user, _day(d, start_h), _day(d, end_h), work))
        else:
            rows.append((user, _day(d, start_h), _day(d, end_h), home))
    return rows


def test_weekday_worker_gets_work_every_day():
    out = howde(_stops(_worker("u", 28, 1, 2)), timezone="UTC")
    assert _labels(out, "home_location_id") == [1] * 28
    assert _labels(out, "work_location_id") == [2] * 28  # weekends too: the window is what counts


def test_weekend_only_visits_are_not_work():
    out = howde(_stops(_worker("u", 28, 1, 2, work_days=(5, 6))), timezone="UTC")
    assert _labels(out, "work_location_id") == [None] * 28


def test_work_is_never_an_ever_home_location():
    # days 0-27: home 1, work 2 on weekdays. Days 28-69: lives at 2 day and night -> 2 becomes home,
    # so it is never work, not even on the first days.
    rows = _worker("u", 28, 1, 2) + [("u", _day(d, 0), _day(d, 24), 2) for d in range(28, 70)]
    out = howde(_stops(rows), timezone="UTC")
    assert 2 in _labels(out, "home_location_id")
    assert _labels(out, "work_location_id") == [None] * 70
    # control: without the move, days 0-13 are labelled work 2
    out = howde(_stops(_worker("u", 28, 1, 2)), timezone="UTC")
    assert _labels(out, "work_location_id")[:14] == [2] * 14


def test_work_share_of_weekdays_visited():
    # 5 weeks from a Monday; work 2 on Mon-Wed, at home 1 on Thu-Fri work hours. Window 14 -> +-7 days.
    # Day 17 (Thursday, week 3): window days 10..24 holds 11 weekdays (Thu10 Fri11, Mon14-Fri18,
    # Mon21-Thu24), of which Mon-Wed are 14,15,16,21,22,23 -> 6/11 = 0.545 (and hour share 6/11 too).
    rows = _worker("u", 35, 1, 2, work_days=(0, 1, 2))
    out = howde(_stops(rows), timezone="UTC", window_work_days=14)
    assert _labels(out, "work_location_id")[17] is None                    # 0.545 < f_days_W 0.6
    out = howde(_stops(rows), timezone="UTC", window_work_days=14, f_days_W=0.5)
    assert _labels(out, "work_location_id")[17] == 2
    out = howde(_stops(rows), timezone="UTC", window_work_days=14, f_days_W=0.5, f_hours_W=0.6)
    assert _labels(out, "work_location_id")[17] is None                    # 0.545 < f_hours_W 0.6


def test_work_needs_c_days_w_of_weekdays_with_data():
    # weekday work-hour data only on Mondays (1 of 5 weekdays = 0.2 < C_days_W 0.5)
    rows = []
    for d in range(28):
        rows.append(("u", _day(d, 0), _day(d, 8), 1))
        if d % 7 == 0:
            rows.append(("u", _day(d, 9), _day(d, 18), 2))
    out = howde(_stops(rows), timezone="UTC")
    assert _labels(out, "work_location_id") == [None] * 28
    out = howde(_stops(rows), timezone="UTC", C_days_W=0.2, f_days_W=0.6)
    assert _labels(out, "work_location_id")[14] == 2   # only Mondays valid, visited on all of them


def test_job_loss_ends_work_label_within_half_a_window():
    # works weekdays for 8 weeks, then stays home (data continue). Window 42 -> +-21 days.
    rows = _worker("u", 56, 1, 2) + [("u", _day(d, 0), _day(d, 24), 1) for d in range(56, 112)]
    work = _labels(howde(_stops(rows), timezone="UTC"), "work_location_id")
    assert all(w is None for w in work[56:])
    assert work[:40] == [2] * 40


# ---------------------------------------------------------------- local time, offsets, table form


def test_local_time_zone_decides_the_night():
    # 05:00-12:00 UTC = 00:00-07:00 in New York in March before DST (UTC-5)
    rows = [("u", pd.Timestamp("2020-03-02 05:00") + pd.Timedelta(days=d),
             pd.Timestamp("2020-03-02 12:00") + pd.Timedelta(days=d), 4) for d in range(5)]
    stops = _stops(rows, tz="UTC")
    assert _labels(howde(stops, timezone="America/New_York"), "home_location_id") == [4] * 5
    # read as UTC the night has only bins 5, 6 (2/7 < 0.4)
    assert _labels(howde(stops, timezone="UTC"), "home_location_id") == [None] * 5
    with_offset = stops.assign(utc_offset_s=-5 * 3600)
    assert _labels(howde(with_offset, timezone=None), "home_location_id") == [4] * 5


def test_several_users_table_form():
    rows = _worker("b", 14, 5, 6) + _nights("a", range(3, 6), 9)
    out = detect_home_work(_stops(rows).sample(frac=1.0, random_state=1), timezone="UTC")
    assert out["user_id"].tolist() == ["a"] * 3 + ["b"] * 14
    assert out.columns.tolist() == ["user_id", "date", "home_location_id", "work_location_id", "work_status"]
    assert str(out["home_location_id"].dtype) == "Int64" and str(out["work_location_id"].dtype) == "Int64"
    assert str(out["work_status"].dtype) == "string"
    assert out["date"].dtype == np.dtype("datetime64[ns]")
    assert out["date"].iloc[0] == _day(3)
    assert out.attrs["home_work_params"]["method"] == "schedule"


def test_unassigned_stops_are_ignored_but_extend_the_span():
    rows = _nights("u", range(3), 1) + [("u", _day(3, 0), _day(3, 7), -1)]
    out = detect_home_work(_stops(rows), timezone="UTC", window_home_days=2)
    # day 3 has only an unassigned stop: no data there; window 2..3 has 1 valid of 2 -> home 1
    assert _labels(out, "home_location_id") == [1, 1, 1, 1]


def test_errors_are_mobility_errors():
    good = _stops(_nights("u", range(2), 1))
    with pytest.raises(MobilityError, match="location_id"):
        detect_home_work(good.drop(columns="location_id"), timezone="UTC")
    with pytest.raises(MobilityError, match="tz-aware"):
        detect_home_work(good.assign(start=good["start"].dt.tz_localize(None)), timezone="UTC")
    with pytest.raises(MobilityError, match="every location_id is -1"):
        detect_home_work(good.assign(location_id=-1), timezone="UTC")
    with pytest.raises(MobilityError, match="IANA"):
        detect_home_work(good, timezone="Mars/Olympus")
    with pytest.raises(MobilityError, match="end is before start"):
        detect_home_work(good.assign(end=good["start"] - pd.Timedelta(hours=1)), timezone="UTC")
    with pytest.raises(MobilityError, match="C_hours"):
        detect_home_work(good, timezone="UTC", C_hours=0.01)
    with pytest.raises(MobilityError, match="window_work_days"):
        detect_home_work(good, timezone="UTC", window_work_days=0)


@pytest.mark.parametrize(
    "kwargs",
    [dict(f_days_W=1.2), dict(C_days_H=-0.1), dict(window_home_days=2.5), dict(work_start_hour=18),
     dict(home_start_hour=7, home_end_hour=7), dict(work_weekdays=(7,)), dict(work_weekdays=()),
     dict(past_only_window="yes"), dict(f_hours_H=float("nan"))],
)
def test_params_out_of_range(kwargs):
    with pytest.raises(MobilityError):
        HomeWorkParams(**kwargs)


def test_empty_stops_give_empty_labels():
    out = detect_home_work(_stops([]), timezone="UTC")
    assert len(out) == 0 and out.columns.tolist() == ["user_id", "date", "home_location_id", "work_location_id",
                                                      "work_status"]


# ---------------------------------------------------------------- plain-Python reference on random stops


def _reference(rows, p: HomeWorkParams, reference_bins):
    """Direct, slow reading of the rules (module docstring), exact with fractions. rows in local time."""
    tol = Fraction(0)
    out = {}
    for user in sorted({r[0] for r in rows}):
        days, bins = reference_bins(sorted([r for r in rows if r[0] == user], key=lambda r: r[1]))

        def day(d, hours, eligible):
            data = [bins[d, h] for h in hours if bins[d, h] is not None]
            ok = eligible and data and Fraction(len(data), len(hours)) >= Fraction(str(p.C_hours)) - tol
            return ok, {k: Fraction(v, len(data)) for k, v in Counter(data).items()} if ok else {}

        def label(hours, elig_fn, window, c_days, f_hours, f_days, by_days, excluded):
            info = [day(d, hours, elig_fn(d)) for d in days]
            before, after = p.window_extent(window)
            labs = []
            for i in range(len(days)):
                idx = range(max(0, i - before), min(len(days), i + after + 1))
                n_elig = sum(elig_fn(days[j]) for j in idx)
                val = [j for j in idx if info[j][0]]
                if not val or Fraction(len(val)) < Fraction(str(c_days)) * n_elig:
                    labs.append(None)
                    continue
                cands = []
                for loc in sorted({k for j in val for k in info[j][1]} - excluded):
                    hs = sum(info[j][1].get(loc, 0) for j in val) / len(val)
                    ds = Fraction(sum(loc in info[j][1] for j in val), len(val))
                    if hs >= Fraction(str(f_hours)) and ds >= Fraction(str(f_days)):
                        cands.append(((ds, hs) if by_days else (hs,), -loc, loc))
                labs.append(max(cands)[2] if cands else None)
            return labs

        home = label(list(p.home_hours), lambda d: True, p.window_home_days, p.C_days_H, p.f_hours_H, 0,
                     False, set())
        work = label(list(p.work_hours), lambda d: d.weekday() in p.work_weekdays, p.window_work_days,
                     p.C_days_W, p.f_hours_W, p.f_days_W, True, {h for h in home if h is not None})
        for d, h, w in zip(days, home, work):
            out[user, d] = (h, w)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(window_home_days=6, window_work_days=8, f_hours_H=0.5, f_hours_W=0.2, f_days_W=0.3,
                  C_days_W=0.3), dict(past_only_window=True, window_home_days=5, window_work_days=9, C_hours=0.3,
                                      home_start_hour=21, home_end_hour=6, f_hours_H=0.4)],
)
def test_matches_plain_python_reference(seed, kwargs, random_rows, reference_bins):
    rows = random_rows(seed)
    out = howde(_stops(rows), timezone="UTC", **kwargs)
    ref = _reference(
        [(u, s.to_pydatetime(), e.to_pydatetime(), loc) for u, s, e, loc in rows],
        HomeWorkParams(method="howde", **kwargs), reference_bins,
    )
    got = {
        (u, d.date()): (None if pd.isna(h) else int(h), None if pd.isna(w) else int(w))
        for u, d, h, w, _ in out.itertuples(index=False)
    }
    assert got == ref
    # the data exercise both rules
    assert any(h is not None for h, _ in ref.values()) and any(w is not None for _, w in ref.values())


# ---------------------------------------------------------------- synthetic ground truth


def _score(labels_cbg: pd.DataFrame, people: pd.DataFrame, shock: str) -> dict:
    df = labels_cbg.merge(people, on="user_id", how="left", suffixes=("", "_true"))
    loss, rehire = df["job_loss_date"], df["rehire_date"]
    jobless = loss.notna() & (df["date"] >= loss) & (rehire.isna() | (df["date"] < rehire))
    remote = df["goes_remote"].astype(bool) & (df["date"] >= pd.Timestamp(shock))
    commuting = df["work_cbg_true"].notna() & ~jobless & ~remote
    home = df["home_cbg"].notna()
    work = commuting & df["work_cbg"].notna()
    return {
        "home": (df.loc[home, "home_cbg"] == df.loc[home, "home_cbg_true"]).mean(),
        "n_home": int(home.sum()),
        "work": (df.loc[work, "work_cbg"] == df.loc[work, "work_cbg_true"]).mean(),
        "n_work": int(work.sum()),
        "no_work_after_loss": df.loc[jobless, "work_cbg"].isna().mean() if jobless.any() else 1.0,
    }


@pytest.mark.slow
def test_synthetic_region_ground_truth(tmp_path):
    synthetic = pytest.importorskip("mobility.synthetic")
    from mobility.census.geometry import read_geometry
    from mobility.locations import assign_locations, locations_table
    from mobility.obfuscate import obfuscate_to_cbg
    from mobility.pings import validate_pings
    from mobility.stops import detect_stops

    # the easy region (generator 1.0's world): _score compares with each person's one home and baseline workplace,
    # which moves, job changes and other schedules break; the new region is scored per group by
    # mobility.synthetic.evaluate.group_scores (benchmarks/bench_groups.py)
    params = synthetic.SyntheticParams.easy(n_users=40, end="2020-06-30")
    root = synthetic.generate_region(tmp_path / "region", params, seed=3)
    truth = synthetic.load_truth(root)
    cbg = read_geometry(root / "geography" / "cbg.geojson", level="cbg")
    true_stops = truth["stops"].assign(location_id=truth["stops"]["place_id"].astype("int64"))
    pings = validate_pings(pd.concat(pd.read_parquet(f) for f in sorted((root / "pings").glob("*.parquet")))).pings
    detected = assign_locations(detect_stops(pings))
    for stops in (true_stops, detected):
        labels = detect_home_work(stops, timezone=params.timezone)
        s = _score(obfuscate_to_cbg(labels, locations_table(stops), cbg), truth["people"], params.shock_date)
        assert s["n_home"] > 1000 and s["n_work"] > 300
        assert s["home"] >= 0.97
        assert s["work"] >= 0.90
        assert s["no_work_after_loss"] >= 0.90


def test_a_whole_day_home_window_is_allowed():
    assert HomeWorkParams(home_start_hour=0, home_end_hour=24).home_hours.tolist() == list(range(24))
    with pytest.raises(MobilityError, match="empty"):
        HomeWorkParams(home_start_hour=5, home_end_hour=5)
