"""Home/work detection, schedule rules (the default): hand-made people with the schedules people keep.

Every expected label is worked out by hand in the comments from the rules of :mod:`mobility.home_work` and
its defaults (windows centred, +- 14 days for home and work; a worked day holds >= 2 h at the place; a
workplace needs >= 1.25 worked days and >= 4 h a week of counted days; days Monday = day 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.home_work import WORK_STATUSES, HomeWorkParams, detect_home_work

MONDAY = pd.Timestamp("2020-03-02")
HOME, WORK, WORK2, ERRAND = 0, 1, 2, 9


def _at(day, hour):
    return MONDAY + pd.Timedelta(days=day) + pd.Timedelta(hours=hour)


def _stops(rows):
    """rows: (start_day, start_hour, end_day, end_hour, location) in local (UTC) time, user "u"."""
    df = pd.DataFrame([("u", _at(d0, h0), _at(d1, h1), loc) for d0, h0, d1, h1, loc in rows],
                      columns=["user_id", "start", "end", "location_id"])
    for c in ("start", "end"):
        df[c] = df[c].dt.tz_localize("UTC")
    return df.astype({"location_id": "int64"}).sort_values("start", kind="stable").reset_index(drop=True)


def _week_schedule(n_days, shifts, work_of_day=lambda d: WORK):
    """At home whenever not at work. ``shifts``: {weekday: (start_h, end_h)} with end_h > 24 past midnight."""
    rows, t = [], 0.0  # t: hours since day 0 00:00 where the current home stay began
    for d in range(n_days):
        if d % 7 in shifts:
            s, e = shifts[d % 7]
            start, end = 24 * d + s, 24 * d + e
            rows.append((0, t, 0, start - 0.5, HOME))   # home until half an hour before the shift
            rows.append((0, start, 0, end, work_of_day(d)))
            t = end + 0.5
    if t < 24 * n_days:
        rows.append((0, t, 0, 24 * n_days, HOME))
    return _stops(rows)


def _col(out, name):
    return [None if pd.isna(v) else (v if isinstance(v, str) else int(v)) for v in out[name]]


# ---------------------------------------------------------------- the schedules of issue 14


def test_night_nurse_home_is_where_she_sleeps_by_day():
    # works 22:00-06:00 Sunday..Thursday nights, home 06:30-21:30 (sleeps 08:00-15:00). A Monday: bins 0-5 and
    # 22-23 at the ward (8), 6-21 at home (16): home share 16/24 = 0.67; Saturday all 24 at home. Work: 8 h
    # at the ward Monday..Thursday, 6 h Friday, 2 h Sunday -> 6 worked days and 40 h a week.
    stops = _week_schedule(28, {d: (22, 30) for d in (6, 0, 1, 2, 3)})
    out = detect_home_work(stops, timezone="UTC")   # 29 days: the last shift ends on day 28
    assert _col(out, "home_location_id") == [HOME] * 29
    assert _col(out, "work_location_id") == [WORK] * 29
    assert set(out["work_status"]) == {"fixed"}
    # HoWDe v2 (home = 00:00-06:59): the ward holds 6 of the 7 night bins on Monday..Friday, the home 1 (and
    # all 7 at weekends): mean shares 5/7 x 6/7 = 0.61 and 0.39, neither >= 0.7 -> no home at all
    howde = detect_home_work(stops, timezone="UTC", method="howde")
    assert howde["home_location_id"].iloc[7:21].isna().all()


def test_saturday_shop_worker_thursday_to_sunday():
    # 10:00-18:00 Thursday..Sunday: 4 worked days and 32 h a week; HoWDe sees 2 of 5 weekdays (< f_days_W 0.6)
    stops = _week_schedule(42, {d: (10, 18) for d in (3, 4, 5, 6)})
    out = detect_home_work(stops, timezone="UTC")
    assert _col(out, "work_location_id") == [WORK] * 42 and set(out["work_status"]) == {"fixed"}
    assert _col(out, "home_location_id") == [HOME] * 42
    assert detect_home_work(stops, timezone="UTC", method="howde")["work_location_id"].isna().all()


def test_part_timer_tuesday_and_thursday():
    # 09:00-17:00 on 2 days: 2 worked days and 16 h a week >= 1.25 days and 4 h
    stops = _week_schedule(42, {1: (9, 17), 3: (9, 17)})
    out = detect_home_work(stops, timezone="UTC")
    assert _col(out, "work_location_id") == [WORK] * 42
    assert detect_home_work(stops, timezone="UTC", method="howde")["work_location_id"].isna().all()
    # one day a week (Thursdays): a 29-day window holds at most 5 (1.21 a week < 1.25) -> no workplace, and
    # one day a week is not gig work either
    out = detect_home_work(_week_schedule(42, {3: (9, 17)}), timezone="UTC")
    assert out["work_location_id"].isna().all() and set(out["work_status"]) == {"none"}
    # the sparsest windows (days 0..16 and 25..41) hold 2 Thursdays in 17 days: 0.82 days and 6.6 h a week
    out = detect_home_work(_week_schedule(42, {3: (9, 17)}), timezone="UTC", work_min_days_per_week=0.8)
    assert _col(out, "work_location_id") == [WORK] * 42
    out = detect_home_work(_week_schedule(42, {3: (9, 17)}), timezone="UTC", work_min_days_per_week=0.83)
    assert _col(out, "work_location_id")[2] is None and _col(out, "work_location_id")[3] == WORK


def test_job_change_without_gap_switches_on_the_first_day_of_the_new_job():
    # office 1 Monday..Friday of weeks 0-5 (days 0-41), office 2 from week 6 (day 42) to week 11.
    # Day 41 (Sunday): window days 27..55 holds 10 weekdays at office 1 (28-32, 35-39) and 10 at office 2
    # (42-46, 49-53): a tie, to the smaller id (office 1). Day 42: window 28..56, office 2 has 11 (56 is a
    # Monday) -> office 2. Every day keeps a workplace: a job change is not a loss.
    stops = _week_schedule(84, {d: (9, 17) for d in range(5)}, lambda d: WORK if d < 42 else WORK2)
    out = detect_home_work(stops, timezone="UTC")
    assert _col(out, "work_location_id") == [WORK] * 42 + [WORK2] * 42
    assert set(out["work_status"]) == {"fixed"}


def test_job_change_after_a_gap():
    # office 1 weeks 0-5 (days 0-41), at home weeks 6-8 (days 42-62), office 2 weeks 9-14 (days 63-104).
    # Day 52: window 38..66 (29 counted days) holds office 1 on 2 weekdays (38, 39) -> 0.48 days a week, and
    # office 2 on 4 (63-66) -> 0.97, both < 1.25: no workplace; both offices are ever work, so not gig work
    # either: status none. Day 73: window 59..87 holds office 2 on 19 weekdays -> office 2.
    shifts = {d: (9, 17) for d in range(5)}
    rows = _week_schedule(105, shifts, lambda d: WORK if d < 42 else (HOME if d < 63 else WORK2))
    out = detect_home_work(rows, timezone="UTC")
    work, status = _col(out, "work_location_id"), _col(out, "work_status")
    assert work[41] == WORK and work[52] is None and status[52] == "none" and work[73] == WORK2
    assert work[:42] == [WORK] * 42 and work[-30:] == [WORK2] * 30


def test_rotating_construction_sites_keep_a_workplace_per_period():
    # site 1 weeks 0-2, site 2 weeks 3-5, site 3 weeks 6-8 (07:00-15:00 weekdays). Day 24 (Thursday, week 3):
    # window 10..38: site 1 on 7 weekdays (10, 11, 14-18), site 2 on 14 (21-25, 28-32, 35-38) -> site 2 has
    # most hours. No day is left without a workplace.
    site = lambda d: [WORK, WORK2, 3][d // 21]
    out = detect_home_work(_week_schedule(63, {d: (7, 15) for d in range(5)}, site), timezone="UTC")
    work = _col(out, "work_location_id")
    assert None not in work and work[24] == WORK2 and work[3] == WORK and work[60] == 3
    assert set(out["work_status"]) == {"fixed"}


def test_gig_worker_has_no_fixed_workplace():
    # 4-6 h on each weekday at a different place (ids 100, 101, ...): 5 worked days a week, at no one place
    rows, t = [], 0.0
    for d in range(42):
        if d % 7 < 5:
            s, e = 24 * d + 10, 24 * d + 14 + d % 3
            rows += [(0, t, 0, s - 0.5, HOME), (0, s, 0, e, 100 + d)]
            t = e + 0.5
    rows.append((0, t, 0, 24 * 42, HOME))
    out = detect_home_work(_stops(rows), timezone="UTC")
    assert out["work_location_id"].isna().all() and set(out["work_status"]) == {"no_fixed_workplace"}
    assert _col(out, "home_location_id") == [HOME] * 42


def test_errands_and_a_weekly_visit_are_not_work():
    # every day 1 h at the shop (< 2 h: never a worked day) and Saturdays 5 h at a friend's: over 44 days a
    # 29-day window holds at most 5 Saturdays, 1.21 a week < 1.25 (and < 2.5 for gig work)
    def life(shop_h):
        rows, t = [], 0.0
        for d in range(44):
            places = [(11, 11 + shop_h, ERRAND)] + ([(15, 20, 50)] if d % 7 == 5 else [])
            for s, e, loc in places:
                rows += [(0, t, 0, 24 * d + s - 0.5, HOME), (0, 24 * d + s, 0, 24 * d + e, loc)]
                t = 24 * d + e + 0.5
        rows.append((0, t, 0, 24 * 44, HOME))
        return _stops(rows)

    out = detect_home_work(life(1), timezone="UTC")
    assert out["work_location_id"].isna().all() and set(out["work_status"]) == {"none"}
    # 2 h every day at one place is 7 worked days and 14 h a week: a workplace (a daily 2-hour job and a daily
    # 2-hour habit look the same in stops)
    assert _col(detect_home_work(life(2), timezone="UTC"), "work_location_id") == [ERRAND] * 44


def test_person_who_moves_home_gets_the_new_home_at_the_midpoint():
    # home 0 on days 0-29, home 5 on days 30-59, all day. Day 29: window 15..43 holds 15 days at the old home
    # and 14 at the new (share 15/29 = 0.52 >= 0.5) -> old; day 30: 14 and 15 -> new.
    stops = _stops([(0, 0, 30, 0, HOME), (30, 0, 60, 0, 5)])
    out = detect_home_work(stops, timezone="UTC")
    assert _col(out, "home_location_id") == [HOME] * 30 + [5] * 30
    # with home_min_share 0.6 the days around the move have no home: day 29's 0.52 is below it
    out = detect_home_work(stops, timezone="UTC", home_min_share=0.6)
    assert _col(out, "home_location_id")[29] is None and _col(out, "home_location_id")[0] == HOME


def test_phone_that_fades_after_a_date_is_unknown_not_jobless():
    # a day worker (09:00-17:00 weekdays) whose phone from day 42 on shows only 02:00-05:00 at home (3 h a day:
    # counted for home, >= 2 h, not for work, < 4 h). Day d's window d-14..d+14 (29 days) holds 56 - d counted
    # days, at least 0.3 x 29 = 8.7 up to day 47 (day 47: 9 counted days, 5 worked -> 3.9 a week: work),
    # fewer from day 48 on -> unknown, never "none" (which reads as "no job"). A phone seen 7 h a night counts
    # its days and the work label ends with status "none": the label cannot tell; attendance judges such
    # phones in the person's own usual hours (tests/employment/test_attendance.py).
    stops = _week_schedule(42, {d: (9, 17) for d in range(5)})
    nights = _stops([(d, 2, d, 5, HOME) for d in range(42, 90)])
    out = detect_home_work(pd.concat([stops, nights], ignore_index=True), timezone="UTC")
    status = _col(out, "work_status")
    assert status[:48] == ["fixed"] * 48
    assert set(status[48:]) == {"unknown"}
    # the nights (02:00-05:00, nothing in 08:00-19:59) cannot make a home, but confirm the one the days seen
    # in both halves gave
    assert _col(out, "home_location_id") == [HOME] * 90


def test_night_workers_phone_that_reports_only_at_night_never_makes_the_ward_home():
    # the night nurse above (22:00-06:00, Sunday..Thursday nights); from day 28 her phone reports only 22:00-06:59
    # (what it sees then: the ward on work nights, her home on nights off). Counting those days, the ward holds
    # 5 of 7 nights' 9 bins (mean share 0.71 >= 0.5): it would become her home from about day 42, and, ever
    # home, never her workplace again, not even in the first four weeks. The nights have no hour in 08:00-19:59,
    # so they do not count: the home stays the home, then is unknown.
    full = _week_schedule(28, {d: (22, 30) for d in (6, 0, 1, 2, 3)})
    cut = _at(28, 0).tz_localize("UTC")
    full = full[full["start"] < cut].assign(end=lambda d: d["end"].clip(upper=cut))
    nights = []
    for d in range(28, 84):
        at = WORK if d % 7 in (6, 0, 1, 2, 3) else HOME
        nights += [(d, 0, d, 6.99, HOME if (d - 1) % 7 not in (6, 0, 1, 2, 3) else WORK), (d, 22, d, 23.99, at)]
    stops = pd.concat([full, _stops(nights)], ignore_index=True).sort_values("start", ignore_index=True)
    out = detect_home_work(stops, timezone="UTC")
    home = _col(out, "home_location_id")
    assert WORK not in home and home[:28] == [HOME] * 28 and home[-1] is None
    assert _col(out, "work_location_id")[:14] == [WORK] * 14
    before = _col(detect_home_work(stops, timezone="UTC", home_min_data_h_each_half=0.0), "home_location_id")
    assert WORK in before   # the rules of before: the ward becomes her home


def test_a_move_while_the_phone_reports_only_at_night_keeps_the_new_home_and_gives_no_workplace():
    # a day worker (09:00-17:00 weekdays) seen all day for six weeks moves on day 42 to a new home, where her
    # phone reports only 20:00-07:59: the full days never show the new place, so the nights make it her home
    # (a review's case: refusing it left the new home a "workplace", fixed, for the last weeks)
    new = 5
    full = _week_schedule(42, {d: (9, 17) for d in range(5)})
    cut = _at(42, 0).tz_localize("UTC")
    full = full[full["start"] < cut].assign(end=lambda d: d["end"].clip(upper=cut))
    nights = _stops([row for d in range(42, 98) for row in ((d, 0, d, 7.99, new), (d, 20, d, 23.99, new))])
    stops = pd.concat([full, nights], ignore_index=True).sort_values("start", ignore_index=True)
    out = detect_home_work(stops, timezone="UTC")
    old = detect_home_work(stops, timezone="UTC", home_min_data_h_each_half=0.0)
    pd.testing.assert_frame_equal(out, old)
    assert _col(out, "home_location_id")[-1] == new and new not in _col(out, "work_location_id")


def test_work_status_values_and_params():
    assert WORK_STATUSES == ("fixed", "no_fixed_workplace", "none", "unknown")
    with pytest.raises(MobilityError, match="method"):
        HomeWorkParams(method="osna")
    with pytest.raises(MobilityError, match="work_min_days_per_week"):
        HomeWorkParams(work_min_days_per_week=8)
    with pytest.raises(MobilityError, match="unknown parameter"):
        detect_home_work(_stops([(0, 0, 1, 0, HOME)]), timezone="UTC", f_hours_X=0.3)
    assert HomeWorkParams(work_weekdays=[0, 1]).work_weekdays == (0, 1)   # a TOML list


def test_params_object_and_overrides_agree():
    stops = _week_schedule(28, {1: (9, 17), 3: (9, 17)})
    a = detect_home_work(stops, timezone="UTC", params=HomeWorkParams(work_min_h_per_week=20.0))
    b = detect_home_work(stops, timezone="UTC", work_min_h_per_week=20.0)
    pd.testing.assert_frame_equal(a, b)
    assert a["work_location_id"].isna().all()   # 16 h a week < 20 h
    assert np.array_equal(a["home_location_id"].to_numpy(dtype=float), np.zeros(28))


# ---------------------------------------------------------------- plain-Python reference on random stops


def _reference(rows, p: HomeWorkParams, reference_bins):
    """Direct, slow reading of the schedule rules (module docstring), exact with fractions; rows in local time.
    Returns {(user, day): (home, work, status)}."""
    from fractions import Fraction as F

    out = {}
    for user in sorted({r[0] for r in rows}):
        days, bins = reference_bins(sorted([r for r in rows if r[0] == user], key=lambda r: r[1]))
        hours_at = [{loc: sum(bins[d, h] == loc for h in range(24)) for loc in {bins[d, h] for h in range(24)} - {None}}
                    for d in days]
        data_h = [sum(v.values()) for v in hours_at]
        # hours with data in 08:00-19:59 and in the other half of the clock
        halves = [(sum(bins[d, h] is not None for h in range(8, 20)),
                   sum(bins[d, h] is not None for h in (*range(8), *range(20, 24)))) for d in days]

        def window(i, size):
            before, after = p.window_extent(size)
            return range(max(0, i - before), min(len(days), i + after + 1))

        def homes(counts):
            home = []
            for i in range(len(days)):
                idx = window(i, p.window_home_days)
                val = [j for j in idx if data_h[j] >= p.home_min_data_h and counts(j)]
                if not val or F(len(val)) < F(str(p.C_days_H)) * len(idx):
                    home.append(None)
                    continue
                share = {loc: sum(F(hours_at[j].get(loc, 0), data_h[j]) for j in val) / len(val)
                         for loc in {loc for j in val for loc in hours_at[j]}}
                best = max(share.items(), key=lambda kv: (kv[1], -kv[0]))
                home.append(best[0] if best[1] >= F(str(p.home_min_share)) else None)
            return home

        # homes of every counted day, refused at places the days seen in both halves (full days) show, never as
        # home, where they give the person a home
        full = lambda j: min(halves[j]) >= p.home_min_data_h_each_half  # noqa: E731
        rest = {h for h in homes(full) if h is not None}
        shown = {loc for j in range(len(days)) if data_h[j] >= p.home_min_data_h and full(j) for loc in hours_at[j]}
        home = [None if rest and h in shown - rest else h for h in homes(lambda j: True)]
        ever_home = {h for h in home if h is not None}

        def worked(j, exclude):
            if data_h[j] < p.work_min_data_h:
                return {}
            return {loc: n for loc, n in hours_at[j].items() if n >= p.work_min_day_h and loc not in exclude}

        work, enough, per_week = [], [], lambda n, n_val: F(7 * n, n_val)
        for i in range(len(days)):
            idx = window(i, p.window_work_days)
            val = [j for j in idx if data_h[j] >= p.work_min_data_h]
            enough.append(bool(val) and F(len(val)) >= F(str(p.C_days_W)) * len(idx))
            cands = []
            for loc in {loc for j in val for loc in worked(j, ever_home)}:
                n_days = sum(loc in worked(j, ever_home) for j in val)
                n_hours = sum(worked(j, ever_home).get(loc, 0) for j in val)
                if per_week(n_days, len(val)) >= F(str(p.work_min_days_per_week)) and \
                        per_week(n_hours, len(val)) >= F(str(p.work_min_h_per_week)):
                    cands.append((n_hours, -loc, loc))
            work.append(max(cands)[2] if enough[-1] and cands else None)
        ever = ever_home | {w for w in work if w is not None}
        for i, d in enumerate(days):
            val = [j for j in window(i, p.window_work_days) if data_h[j] >= p.work_min_data_h]
            gig = enough[i] and per_week(sum(bool(worked(j, ever)) for j in val), len(val)) >= F(
                str(p.gig_min_days_per_week))
            status = ("fixed" if work[i] is not None else "unknown" if not enough[i]
                      else "no_fixed_workplace" if gig else "none")
            out[user, d] = (home[i], work[i], status)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kwargs", [dict(), dict(window_home_days=6, window_work_days=9, home_min_share=0.4,
                                                 work_min_days_per_week=2.0, work_min_h_per_week=10.0,
                                                 gig_min_days_per_week=1.0, C_days_W=0.6),
                                    dict(past_only_window=True, work_min_data_h=10.0, work_min_day_h=4.0,
                                         home_min_data_h=6.0, gig_min_days_per_week=0.5),
                                    dict(home_min_data_h_each_half=0.0), dict(home_min_data_h_each_half=4.0)])
def test_matches_plain_python_reference(seed, kwargs, random_rows, reference_bins):
    # plus a gig-like stream: home, and on random days 2-5 h at a new place, with silent days
    rng = np.random.default_rng(seed)
    rows = random_rows(seed)
    t = pd.Timestamp("2020-03-02")
    for d in range(35):
        if rng.random() < 0.2:
            continue
        day = t + pd.Timedelta(days=d)
        if rng.random() < 0.6:
            s = day + pd.Timedelta(hours=int(rng.integers(8, 14)))
            e = s + pd.Timedelta(minutes=int(rng.integers(120, 300)))
            rows += [("g", day, s, 5), ("g", e, day + pd.Timedelta(hours=23), 5), ("g", s, e, 100 + d)]
        else:
            rows.append(("g", day, day + pd.Timedelta(hours=int(rng.integers(3, 24))), 5))
    stops = pd.DataFrame(rows, columns=["user_id", "start", "end", "location_id"])
    for c in ("start", "end"):
        stops[c] = pd.to_datetime(stops[c]).dt.tz_localize("UTC")
    out = detect_home_work(stops.astype({"location_id": "int64"}), timezone="UTC", **kwargs)
    ref = _reference([(u, s.to_pydatetime(), e.to_pydatetime(), loc) for u, s, e, loc in rows],
                     HomeWorkParams(**kwargs), reference_bins)
    got = {(u, d.date()): (None if pd.isna(h) else int(h), None if pd.isna(w) else int(w), st)
           for u, d, h, w, st in out.itertuples(index=False)}
    assert got == ref
    statuses = {v[2] for v in ref.values()}
    assert any(v[0] is not None for v in ref.values()) and {"fixed", "no_fixed_workplace"} <= statuses


# ---------------------------------------------------------------- synthetic ground truth (true stops)


def test_every_kind_of_person_on_the_true_stops_of_the_default_region(tmp_path):
    # the rules alone (true stops and places: no phone loss, no stop detection), scored per group against the
    # daily truth (moves, job changes, night, part-time, weekend, rotating shifts and sites, near-home jobs)
    from mobility.census.geometry import read_geometry
    from mobility.locations import locations_table
    from mobility.obfuscate import obfuscate_to_cbg
    from mobility.synthetic import SyntheticParams, generate_region, load_truth
    from mobility.synthetic.evaluate import group_scores

    params = SyntheticParams(n_users=300, end="2020-05-31")
    root = generate_region(tmp_path / "region", params, seed=5)
    truth = load_truth(root)
    cbg = read_geometry(root / "geography" / "cbg.geojson", level="cbg")
    stops = truth["stops"].assign(location_id=truth["stops"]["place_id"].astype("int64"))

    def scores(**kw):
        labels = obfuscate_to_cbg(detect_home_work(stops, timezone=params.timezone, **kw), locations_table(stops), cbg)
        g = group_scores({"home_work_daily": labels, "employment_weekly": None}, truth)
        return g[g["dimension"].isin(["schedule", "workplace_kind"])].set_index("group")

    g = scores()
    assert (g["home_correct"] >= 0.97).all() and (g["home_labelled"] >= 0.95).all()
    work = g[g["commuting_days"] > 0]
    assert {"night", "part_time", "weekend", "rotating", "rotating_sites", "near_home"} <= set(work.index)
    assert (work["work_correct"] >= 0.95).all() and (work["work_labelled"] >= 0.95).all()
    # the rules of before: night workers get a home on 6 % of days and their home as the workplace; weekend
    # workers a workplace on 38 % of their commuting days
    howde = scores(method="howde")
    assert howde.loc["night", "home_labelled"] < 0.5 and howde.loc["night", "work_correct"] < 0.5
    assert howde.loc["weekend", "work_labelled"] < 0.5
