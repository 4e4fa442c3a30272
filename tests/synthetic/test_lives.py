"""The lives of issue 14, hand-checked on a generated region: each schedule, place and phone kind does what
data/synthetic/README.md says, the shares are those of the params, and the plans are deterministic."""

import numpy as np
import pandas as pd
import pytest

from mobility.kernels.geo import haversine_m
from mobility.synthetic import SyntheticParams, generate_region, load_truth
from mobility.synthetic.geography import build_geography
from mobility.synthetic.lives import SCHEDULES, cbg_of_points, draw_lives
from mobility.synthetic.people import cbg_mixes, draw_people

TZ = "America/New_York"
P = SyntheticParams(n_users=900, start="2020-02-03", end="2020-04-26", users_per_part=900)


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    root = generate_region(tmp_path_factory.mktemp("lives") / "r", P, seed=3)
    truth = load_truth(root)
    pings = pd.read_parquet(root / "pings")
    return truth, pings


def _local(ts):
    return ts.dt.tz_convert(TZ).dt.tz_localize(None)


def _at(stops, uid, t_local):
    """Kind of the true stop holding local time t (None when travelling)."""
    t = pd.Timestamp(t_local).tz_localize(TZ)
    s = stops[(stops["user_id"] == uid) & (stops["start"] <= t) & (stops["end"] > t)]
    return s["kind"].iloc[0] if len(s) else None


def _people(truth, **where):
    p = truth["people"]
    for col, val in where.items():
        p = p[p[col] == val]
    return p


def test_night_workers_work_at_night_and_sleep_at_home_in_the_daytime(region):
    truth, _ = region
    stops, daily = truth["stops"], truth["daily"]
    night = _people(truth, schedule="night")
    assert len(night) >= 5
    at_work_3am = at_home_11am = n = 0
    for uid in night["user_id"]:
        d = daily[(daily["user_id"] == uid) & daily["worked_onsite"] & (daily["date"] < "2020-03-10")]
        for date in d["date"]:  # a shift starting on `date` ~22:00 runs through 03:00 the next day
            n += 1
            at_work_3am += _at(stops, uid, date + pd.Timedelta(hours=27)) == "work"
            at_home_11am += _at(stops, uid, date + pd.Timedelta(hours=35)) == "home"  # next day 11:00
    assert n > 50 and at_work_3am / n > 0.95 and at_home_11am / n > 0.9
    # the shift is one stop across midnight, not two
    work = stops[stops["user_id"].isin(night["user_id"]) & (stops["kind"] == "work")]
    assert ((work["end"] - work["start"]) > pd.Timedelta(hours=6)).mean() > 0.9


def test_part_timers_and_weekend_workers_work_only_on_their_days(region):
    truth, _ = region
    stops, people = truth["stops"], truth["people"].set_index("user_id")
    work = stops[stops["kind"] == "work"].copy()
    work["weekday"] = _local(work["start"]).dt.day_of_week
    for schedule in ("part_time", "weekend"):
        who = people[(people["schedule"] == schedule) & (people["work_weekdays"] != 0b0011111)]
        assert len(who) >= 5, schedule
        w = work[work["user_id"].isin(who.index)]
        mask = who.loc[w["user_id"], "work_weekdays"].to_numpy(int)
        assert ((mask >> w["weekday"].to_numpy()) & 1).all(), schedule  # every work stop on one of their days
        days = w.groupby("user_id")["weekday"].nunique()
        if schedule == "part_time":
            assert days.between(2, 3).all()
        else:
            assert (days == 5).all() and w["weekday"].isin([5, 6]).mean() > 0.3


def test_home_cbg_and_near_home_workplaces(region):
    truth, _ = region
    people = truth["people"]
    first = truth["places"][(truth["places"]["kind"] == "work") & (truth["places"]["place_id"] % 1000 == 1)]
    w = people.merge(first, on="user_id", suffixes=("", "_place"))
    d = haversine_m(w["home_lat"], w["home_lon"], w["lat"], w["lon"])
    in_cbg = (w["workplace_kind"] == "home_cbg").to_numpy()
    near = (w["workplace_kind"] == "near_home").to_numpy()
    assert in_cbg.sum() >= 3 and near.sum() >= 3
    assert (w.loc[in_cbg, "cbg"] == w.loc[in_cbg, "home_cbg"]).all() and (d[in_cbg] >= 100).all()
    assert ((d[near] >= 99.9) & (d[near] <= 400.1)).all()
    assert (w["cbg"] == w["work_cbg"]).all()  # people.work_cbg is the first workplace's block group


def test_phones_churn_and_degrade_from_their_date(region):
    truth, pings = region
    people = truth["people"]
    local = _local(pings["timestamp"])
    for kind in ("churn", "degraded_night", "degraded_home"):
        late = people["phone_date"] > pd.Timestamp(P.start) + pd.Timedelta(days=14)
        who = people[(people["phone_kind"] == kind) & late]
        assert len(who) >= 3, kind
        for _, p in who.iterrows():
            mine = pings["user_id"] == p["user_id"]
            after = mine & (local >= p["phone_date"])
            before = mine & (local < p["phone_date"])
            hour = local[after].dt.hour
            if kind == "churn":
                assert not after.any()
            elif kind == "degraded_night":
                assert ((hour >= 22) | (hour < 7)).all() and after.sum() > 0
                hb = local[before].dt.hour
                assert ((hb >= 9) & (hb < 18)).any()  # before its date the phone reported in the daytime
            else:
                places = truth["places"]
                homes = places[(places["user_id"] == p["user_id"]) & (places["kind"] == "home")]
                d = np.min([haversine_m(pings.loc[after, "lat"], pings.loc[after, "lon"], h["lat"], h["lon"])
                            for _, h in homes.iterrows()], axis=0)
                assert np.quantile(d, 0.99) < 200
        st = truth["daily"].merge(who[["user_id", "phone_date"]], on="user_id")
        expect = "churned" if kind == "churn" else "degraded"
        assert (st.loc[st["date"] >= st["phone_date"], "phone_state"] == expect).all()
        assert not (st.loc[st["date"] < st["phone_date"], "phone_state"] == expect).any()


def test_remote_adoption_is_spread_over_weeks_and_hybrid_workers_come_in(region):
    truth, _ = region
    people = truth["people"]
    remote = people[people["goes_remote"]]
    delay = (remote["remote_start_date"] - pd.Timestamp(P.shock_date)).dt.days
    assert len(remote) > 50 and (delay >= 0).all()
    weeks = (delay // 7).value_counts()
    assert len(weeks) >= 3 and weeks.max() < 0.6 * len(remote)  # not one wave
    hybrid = remote[remote["hybrid_onsite_days"] > 0]
    assert len(hybrid) >= 5
    st = truth["weekly_status"].merge(hybrid[["user_id", "hybrid_onsite_days", "remote_start_date",
                                              "remote_end_date"]], on="user_id")
    late = st[(st["week"] >= st["remote_start_date"] + pd.Timedelta(days=7)) & (st["status"] == "remote")
              & ~(st["week"] + pd.Timedelta(days=7) > st["remote_end_date"])]  # the week of a return mixes both
    assert late["hybrid"].mean() > 0.8 and (late["onsite_days"] <= late["hybrid_onsite_days"]).all()
    # only partly explained by teleworkability: adopters in low-tau sectors, non-adopters in high-tau ones
    workers = people[people["has_job"] & (people["schedule"] != "gig")]
    assert workers.loc[workers["tau"] < 0.3, "goes_remote"].mean() > 0.05
    assert workers.loc[workers["tau"] > 0.7, "goes_remote"].mean() < 0.9


def test_job_changers_movers_students_and_gig_workers(region):
    truth, _ = region
    people, daily, stops = truth["people"], truth["daily"], truth["stops"]
    for col, place in (("job_change_date", "work_place_id"), ("move_date", "home_place_id")):
        who = people[people[col].notna()]
        assert len(who) >= 3, col
        d = daily.merge(who[["user_id", col]], on="user_id")
        d = d[d[place].notna()]
        first = d.groupby("user_id")[place].first()
        changed = d[place].to_numpy() != first.reindex(d["user_id"]).to_numpy()
        assert (changed == (d["date"] >= d[col]).to_numpy()).all(), col
    students = people.loc[people["schedule"] == "student", "user_id"]
    school = stops[stops["user_id"].isin(students) & (stops["kind"] == "school")]
    assert len(students) >= 5 and len(school) > 0 and (_local(school["start"]) < pd.Timestamp(P.shock_date)).all()
    gig = people.loc[people["schedule"] == "gig", "user_id"]
    assert len(gig) >= 3
    g = stops[stops["user_id"].isin(gig) & (stops["kind"] == "work")]
    assert (g["place_id"] % 1000 >= 900).all() and (g.groupby("user_id")["place_id"].nunique() >= 3).all()
    assert daily.loc[daily["user_id"].isin(gig), "work_place_id"].isna().all()
    assert daily.loc[daily["user_id"].isin(gig), "worked_onsite"].mean() > 0.3


def test_job_loss_hits_every_schedule_kind():
    p = SyntheticParams(n_users=6000, start="2020-02-03", end="2020-06-28", peak_job_loss_hazard_per_week=0.05)
    g = build_geography(p, np.random.default_rng(0))
    people, _ = draw_lives(p, g, draw_people(p, g, cbg_mixes(g, np.random.default_rng(1)), np.random.default_rng(2)),
                           np.random.default_rng(3))
    lost = people[people["job_loss_date"].notna()]
    for kind in ("day", "evening", "night", "rotating", "part_time", "weekend", "gig"):
        assert (lost["schedule"] == kind).any(), kind
    assert (lost["goes_remote"]).any() and (lost["workplace_kind"] == "home_cbg").any()


def test_shares_are_those_of_the_params():
    p = SyntheticParams(n_users=30000)  # the whole window: every remote start date falls inside it
    g = build_geography(p, np.random.default_rng(0))
    people, _ = draw_lives(p, g, draw_people(p, g, cbg_mixes(g, np.random.default_rng(1)), np.random.default_rng(2)),
                           np.random.default_rng(3))

    def close(mask, share):
        n = len(mask)
        assert abs(mask.mean() - share) < 4 * np.sqrt(share * (1 - share) / n) + 1e-9, (mask.mean(), share)

    job = people[people["has_job"]]
    close(~people["has_job"], p.no_job_share)
    close(people.loc[~people["has_job"], "schedule"] == "student", p.student_share)
    close(job["schedule"] == "gig", p.gig_share)
    close(job["schedule"] == "part_time", p.part_time_share)
    full = job[~job["schedule"].isin(["gig", "part_time"])]
    for kind in ("evening", "night", "rotating", "weekend"):
        close(full["schedule"] == kind, getattr(p, f"{kind}_share"))
    fixed = job[(job["schedule"] != "gig") & (job["workplace_kind"] != "rotating_sites")]
    close(fixed["workplace_kind"] == "home_cbg", p.home_cbg_work_share)
    close(fixed["workplace_kind"] == "near_home", p.near_home_work_share)
    for kind in ("sparse", "churn", "degraded_night", "degraded_home"):
        share = getattr(p, {"sparse": "sparse_phone_share", "churn": "phone_churn_share"}.get(
            kind, f"phone_{kind}_share"))
        close(people["phone_kind"] == kind, share)
    ndays = (pd.Timestamp(p.end) - pd.Timestamp(p.start)).days + 1
    close(people["move_date"].notna(), 1 - (1 - p.home_move_rate_per_year) ** (ndays / 365.25))
    remote = job[job["goes_remote"]]
    close(remote["hybrid_onsite_days"] > 0, p.hybrid_share)
    tw = job[(job["schedule"] != "gig") & (job["workplace_kind"] != "rotating_sites")]
    close(tw.loc[tw["teleworkable_occupation"], "goes_remote"], p.remote_takeup_teleworkable)
    assert set(people["schedule"]) == set(SCHEDULES)


def test_plans_are_deterministic_per_seed():
    p = SyntheticParams(n_users=300, end="2020-04-30")
    g = build_geography(p, np.random.default_rng(0))
    base = draw_people(p, g, cbg_mixes(g, np.random.default_rng(1)), np.random.default_rng(2))
    a = draw_lives(p, g, base, np.random.default_rng(3))
    b = draw_lives(p, g, base, np.random.default_rng(3))
    c = draw_lives(p, g, base, np.random.default_rng(4))
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert not a[0]["schedule"].equals(c[0]["schedule"])


def test_cbg_of_points_agrees_with_the_polygons():
    p = SyntheticParams(n_users=50)
    g = build_geography(p, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(39.9, 40.1, 500), rng.uniform(-75.3, -75.0, 500)
    import geopandas as gpd

    from mobility.synthetic.geography import cbg_polygons

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(pts, cbg_polygons(g), predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    expect = pd.Index(g.cbgs["GEOID"]).get_indexer(joined["GEOID"].fillna(""))
    assert (cbg_of_points(g, lat, lon) == expect).mean() > 0.99


def test_true_stops_never_overlap_and_are_ordered(region):
    """Short shifts with a lunch outing once ended before the lunch did (3 overlapping stops in the default
    region): a person's true stops must never overlap, whatever the schedule."""
    truth, _ = region
    s = truth["stops"]
    same = s["user_id"].to_numpy()[1:] == s["user_id"].to_numpy()[:-1]
    assert (s["start"].to_numpy()[1:][same] >= s["end"].to_numpy()[:-1][same]).all()
    assert (s["end"] > s["start"]).all()


def test_short_shift_with_lunch_never_overlaps():
    from mobility.synthetic.daily import Batch, Calendar, simulate_stops

    p = SyntheticParams(start="2020-02-03", end="2020-03-01", lunch_out_prob=1.0)
    g = build_geography(p, np.random.default_rng(0))
    people, places = draw_lives(p, g, draw_people(p.easy(n_users=300, start=p.start, end=p.end), g,
                                                  cbg_mixes(g, np.random.default_rng(1)), np.random.default_rng(2)),
                                np.random.default_rng(3))
    people = people[people["has_job"]].copy()
    people["schedule"] = "part_time"
    people["work_weekdays"] = 0b0011111  # short weekdays: shifts of 4-5.5 h starting 8:00-13:00
    people["workplace_kind"] = "fixed"
    cal = Calendar.from_params(p)
    s = simulate_stops(p, Batch.from_people(people, cal, 0, places, p), cal, np.random.default_rng(4))
    same = s["person"][1:] == s["person"][:-1]
    lunches = (s["kind"] == 2) & (s["place_id"] % 1000 >= 2)
    assert lunches.sum() > 100 and (s["start"][1:][same] >= s["end"][:-1][same]).all()
