"""Each person's plan: work schedule, workplaces and homes over time, remote work, and phone.

The lives that break the estimators' assumptions (issue 14), drawn per person from their own random stream
after :func:`mobility.synthetic.people.draw_people` (whose draws are untouched, so an easy region, see
:meth:`~mobility.synthetic.SyntheticParams.easy`, is the one made before this module existed):

* **schedule** (people with a job at the start): ``gig`` (no fixed workplace, irregular days and hours),
  ``part_time`` (2-3 fixed weekdays, or short weekdays), and for full-time workers ``evening``, ``night``
  (22:00-06:00, sleeping in the daytime), ``rotating`` (blocks of 1-2 weeks of day, evening, night shifts),
  ``weekend`` (works Saturday and Sunday, two weekdays off), else ``day``. People without a job: ``student``
  (a campus on weekdays, closed from the shock) or ``none``. Shift hours: :data:`SHIFT_HOURS`.
* **workplace kind**: ``fixed``, ``home_cbg`` (inside the home block group), ``near_home`` (100-400 m from
  home, any block group), ``rotating_sites`` (construction: a new site every few weeks), ``none`` (gig).
* **places over time**: home moves, direct job changes (a new workplace from a Monday), rehires at a new
  workplace; each home and workplace is a row of the ``places`` table with the day it starts.
* **remote work** person by person: a teleworkable occupation with the sector's probability tau (Dingel &
  Neiman), take-up by occupation, a start date spread over weeks after the shock, hybrid on-site weekdays,
  and returns to the office.
* **phone**: ``normal``, ``sparse`` (a few pings a day), ``churn`` (stops for good), ``degraded_night`` (only
  22:00-07:00 local) or ``degraded_home`` (only while at home) from ``phone_date`` on.

Place codes (``place_id = user_number * 1000 + code``): 0 the first home, 1 the first workplace (or campus),
2..591 other places, ``600 + k`` the k-th home after the first, ``700 + k`` the k-th workplace after the first
(job changes, rehires elsewhere, construction sites), ``900 + j`` gig places.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.kernels.geo import haversine_m
from mobility.synthetic.geography import Geography, clip_to_box, offset_m, sample_in_cbgs
from mobility.synthetic.params import SyntheticParams
from mobility.synthetic.people import COMMUTE_SCALE_M, _categorical_rows, week_mondays

SCHEDULES = ("day", "evening", "night", "rotating", "part_time", "weekend", "gig", "student", "none")
WORKPLACE_KINDS = ("fixed", "home_cbg", "near_home", "rotating_sites", "none")
PHONE_KINDS = ("normal", "sparse", "churn", "degraded_night", "degraded_home")
SECTOR_CONSTRUCTION = 3  # CNS04
SECTOR_EDUCATION = 14  # CNS15, educational services

HOME_CODE, WORK_CODE = 0, 1
NEXT_HOME_CODE, NEXT_WORK_CODE, GIG_CODE = 600, 700, 900
MAX_GIG_PLACES = 100

#: Shift types of one day and their local hours: (start low, start high, length low, length high), uniform.
#: ``day`` is the easy region's 9-5 (arrive 8:00-9:30, leave 16:30-18:30, from SyntheticParams).
SHIFT_TYPES = ("day", "evening", "night", "part_short", "part_days", "weekend", "site", "gig", "school")
SHIFT_HOURS = {
    "evening": (14.0, 15.0, 7.5, 8.5),  # 14:00-15:00 to 21:30-23:30
    "night": (21.5, 22.5, 7.5, 8.5),  # 21:30-22:30 to 05:00-07:00 next day
    "part_short": (8.0, 13.0, 4.0, 5.5),
    "part_days": (8.0, 10.0, 6.5, 8.5),
    "weekend": (9.0, 12.0, 7.0, 8.5),  # retail and restaurant hours
    "site": (6.5, 7.5, 8.0, 9.0),  # construction starts early
    "gig": (7.0, 17.0, 3.0, 7.0),
    "school": (8.5, 10.0, 4.0, 7.0),
}
#: Shift-start weekdays (bit 0 = Monday .. bit 6 = Sunday).
MON_FRI, SUN_THU, SAT_SUN = 0b0011111, 0b1001111, 0b1100000


def _pick_weekdays(k: np.ndarray, pool: int, rng: np.random.Generator) -> np.ndarray:
    """A bitmask of ``k[i]`` distinct weekdays drawn from the bits of ``pool`` (the same pool for everyone).

    Examples
    --------
    >>> m = _pick_weekdays(np.array([2, 3, 5]), MON_FRI, np.random.default_rng(0))
    >>> [bin(int(x)).count("1") for x in m], bool(((m & ~MON_FRI) == 0).all())
    ([2, 3, 5], True)
    """
    bits = np.array([b for b in range(7) if pool >> b & 1])
    order = np.argsort(rng.random((len(k), len(bits))), axis=1)
    chosen = np.arange(len(bits))[None, :] < k[:, None]
    mask = np.zeros(len(k), dtype=np.int64)
    for j in range(len(bits)):
        mask |= np.where(chosen[:, j], 1 << bits[order[:, j]], 0)
    return mask


def _gravity(geo: Geography, weight: np.ndarray | None = None) -> np.ndarray:
    """Row-normalised commuting probabilities between block groups (people.draw_people's gravity model), towards
    the block groups' jobs (``weight``: other destinations, e.g. the education jobs)."""
    c = geo.cbgs
    dist = haversine_m(c["lat"].to_numpy()[:, None], c["lon"].to_numpy()[:, None], c["lat"].to_numpy()[None, :],
                       c["lon"].to_numpy()[None, :])
    g = (c["jobs_weight"].to_numpy() if weight is None else weight)[None, :] * np.exp(-dist / COMMUTE_SCALE_M)
    return g / g.sum(axis=1, keepdims=True)


def cbg_of_points(geo: Geography, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Index of the block group holding each point (-1 outside every block group).

    Examples
    --------
    >>> from mobility.synthetic.geography import build_geography
    >>> g = build_geography(SyntheticParams(n_users=50), np.random.default_rng(0))
    >>> lat, lon = sample_in_cbgs(g, np.array([3, 7]), np.random.default_rng(1))
    >>> cbg_of_points(g, lat, lon).tolist(), cbg_of_points(g, np.array([50.0]), np.array([0.0])).tolist()
    ([3, 7], [-1])
    """
    import shapely

    rings = geo.corners[:, :, ::-1]
    polys = shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))
    tree = shapely.STRtree(polys)
    pts, cells = tree.query(shapely.points(lon, lat), predicate="intersects")
    out = np.full(len(lat), -1, dtype=np.int64)
    out[pts[::-1]] = cells[::-1]  # a point on a shared edge takes the lowest index
    return out


def draw_lives(params: SyntheticParams, geo: Geography, people: pd.DataFrame,
               rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add each person's plan to ``people`` and list their homes and workplaces over time.

    Returns ``(people, places)``: ``people`` with the columns of ``truth/people.parquet`` (see
    ``data/synthetic/README.md``), ``places`` the ``truth/places.parquet`` table: one row per home, workplace
    or campus of a person, ``user_id``, ``kind`` (``home``, ``work`` or ``school``), ``place_id``, ``lat``, ``lon``, ``cbg``,
    ``start_date`` (first local day), ``end_date`` (first day after; NaT = to the end).

    Examples
    --------
    >>> from mobility.synthetic.geography import build_geography
    >>> from mobility.synthetic.people import cbg_mixes, draw_people
    >>> p = SyntheticParams(n_users=200, end="2020-04-30")
    >>> g = build_geography(p, np.random.default_rng(0))
    >>> people = draw_people(p, g, cbg_mixes(g, np.random.default_rng(1)), np.random.default_rng(2))
    >>> people, places = draw_lives(p, g, people, np.random.default_rng(3))
    >>> sorted(set(people["schedule"])) <= sorted(SCHEDULES), int((places["kind"] == "home").sum()) >= 200
    (True, True)
    """
    p, n = params, len(people)
    days = pd.date_range(p.start, p.end, freq="D")
    day0, ndays = days[0], len(days)
    shock_day = int((pd.Timestamp(p.shock_date) - day0).days)
    has_job = people["work_cbg"].notna().to_numpy()
    geoid = geo.cbgs["GEOID"].to_numpy()
    home_idx = pd.Index(geoid).get_indexer(people["home_cbg"].to_numpy(str))
    work_idx = pd.Index(geoid).get_indexer(people["work_cbg"].fillna("").to_numpy(str))
    sector = people["sector"].fillna("CNS00").str[3:].astype(int).to_numpy() - 1
    u = rng.random((n, 8))
    # schedule
    sched = np.full(n, SCHEDULES.index("none"))
    sched[~has_job & (u[:, 0] < p.student_share)] = SCHEDULES.index("student")
    gig = has_job & (u[:, 0] < p.gig_share)
    part = has_job & ~gig & (u[:, 0] < p.gig_share + p.part_time_share)
    full = has_job & ~gig & ~part
    cuts = np.cumsum([p.evening_share, p.night_share, p.rotating_share, p.weekend_share])
    shift = np.searchsorted(cuts, u[:, 1], side="right")  # 0 evening .. 3 weekend, 4 day
    full_kind = np.array([SCHEDULES.index(k) for k in ("evening", "night", "rotating", "weekend", "day")])[shift]
    sched = np.where(gig, SCHEDULES.index("gig"), np.where(part, SCHEDULES.index("part_time"),
                                                           np.where(full, full_kind, sched)))
    few_days = part & (u[:, 2] < p.part_time_few_days_share)
    work_days = np.zeros(n, dtype=np.int64)
    name = np.asarray(SCHEDULES)[sched]
    work_days[np.isin(name, ["day", "evening", "rotating", "student"]) | (part & ~few_days)] = MON_FRI
    work_days[name == "night"] = SUN_THU
    k_days = np.where(u[:, 3] < 0.5, 2, 3)
    work_days[few_days] = _pick_weekdays(k_days[few_days], MON_FRI, rng)
    wk = name == "weekend"
    work_days[wk] = SAT_SUN | _pick_weekdays(np.full(int(wk.sum()), 3), MON_FRI, rng)
    rot = name == "rotating"
    rot_block_weeks = np.where(rot, rng.integers(1, 3, n), 0)
    rot_phase = np.where(rot, rng.integers(0, 6, n), 0)
    # workplace kind and baseline workplace
    sites = has_job & ~gig & (sector == SECTOR_CONSTRUCTION) & (u[:, 4] < p.rotating_sites_share)
    wkind = np.full(n, WORKPLACE_KINDS.index("fixed"))
    near_u = u[:, 5]
    in_cbg = has_job & ~gig & ~sites & (near_u < p.home_cbg_work_share)
    near = has_job & ~gig & ~sites & ~in_cbg & (near_u < p.home_cbg_work_share + p.near_home_work_share)
    wkind[in_cbg] = WORKPLACE_KINDS.index("home_cbg")
    wkind[near] = WORKPLACE_KINDS.index("near_home")
    wkind[sites] = WORKPLACE_KINDS.index("rotating_sites")
    wkind[gig | ~has_job] = WORKPLACE_KINDS.index("none")
    work_lat, work_lon = people["work_lat"].to_numpy(float).copy(), people["work_lon"].to_numpy(float).copy()
    home_lat, home_lon = people["home_lat"].to_numpy(float), people["home_lon"].to_numpy(float)
    todo = np.flatnonzero(in_cbg)
    for _ in range(20):  # inside the home block group, at least near_home_min_m from home
        if len(todo) == 0:
            break
        work_lat[todo], work_lon[todo] = sample_in_cbgs(geo, home_idx[todo], rng)
        todo = todo[haversine_m(home_lat[todo], home_lon[todo], work_lat[todo], work_lon[todo]) < p.near_home_min_m]
    work_idx[in_cbg] = home_idx[in_cbg]
    w = np.flatnonzero(near)
    r = rng.uniform(p.near_home_min_m, p.near_home_max_m, len(w))
    work_lat[w], work_lon[w] = clip_to_box(*offset_m(home_lat[w], home_lon[w], r, rng.uniform(0, 2 * np.pi, len(w))))
    work_idx[w] = cbg_of_points(geo, work_lat[w], work_lon[w])
    work_lat[gig], work_lon[gig], work_idx[gig] = np.nan, np.nan, -1
    # students: a campus where the schools and colleges are (the block groups where the panel's educational
    # services workers, CNS15, work: LODES counts their jobs there), by the gravity model; weekdays until the shock
    gravity = _gravity(geo)
    stud = np.flatnonzero(name == "student")
    edu = np.bincount(work_idx[(sector == SECTOR_EDUCATION) & (work_idx >= 0)], minlength=len(geoid))
    school_idx = _categorical_rows((_gravity(geo, edu.astype(float)) if edu.any() else gravity)[home_idx[stud]], rng)
    school_lat, school_lon = sample_in_cbgs(geo, school_idx, rng)

    parts: list[pd.DataFrame] = []

    def add(who, kind, code, lat, lon, cbg, start, end=None):
        who = np.asarray(who, dtype=np.int64)
        full = lambda v, dtype: np.broadcast_to(np.asarray(v, dtype=dtype), who.shape)
        cbg = full(cbg, np.int64)
        parts.append(pd.DataFrame({
            "person": who, "kind": kind, "code": full(code, np.int64), "lat": full(lat, float),
            "lon": full(lon, float), "cbg": np.where(cbg >= 0, geoid[np.maximum(cbg, 0)], None),
            "start": full(start, np.int64), "end": full(-1 if end is None else end, np.int64)}))

    def new_workplaces(who):
        cell = _categorical_rows(gravity[home_idx[who]], rng)
        lat, lon = sample_in_cbgs(geo, cell, rng)
        return lat, lon, cell

    everyone = np.arange(n)
    add(everyone, "home", np.zeros(n), home_lat, home_lon, home_idx, np.zeros(n))
    add(stud, "school", np.ones(len(stud)), school_lat, school_lon, school_idx, np.zeros(len(stud)),
        np.full(len(stud), shock_day))
    fixed_job = has_job & ~gig
    add(np.flatnonzero(fixed_job), "work", np.ones(int(fixed_job.sum())), work_lat[fixed_job], work_lon[fixed_job],
        work_idx[fixed_job], np.zeros(int(fixed_job.sum())))
    n_work = np.zeros(n, dtype=np.int64)  # workplaces after the first
    # construction sites: a new site every site_weeks_min..max weeks, from a Monday
    mondays = week_mondays(p)
    monday_day = np.asarray((mondays - day0).days)
    who, d = np.flatnonzero(sites), np.zeros(int(sites.sum()), dtype=np.int64)
    while len(who):  # one round per site, vectorised over the site workers still inside the window
        d = d + 7 * rng.integers(p.site_weeks_min, p.site_weeks_max + 1, len(who))
        at = np.searchsorted(monday_day, d)  # the first Monday on or after
        d = np.where(at < len(monday_day), monday_day[np.minimum(at, len(monday_day) - 1)], ndays)
        who, d = who[d < ndays], d[d < ndays]
        lat, lon, cell = new_workplaces(who)
        n_work[who] += 1
        add(who, "work", NEXT_WORK_CODE + n_work[who], lat, lon, cell, d)
    # direct job changes (employer to employer, on a Monday, at most one) and rehires at a new workplace
    loss = people["job_loss_date"].to_numpy("datetime64[ns]")
    rehire = people["rehire_date"].to_numpy("datetime64[ns]")
    weekly = 1 - (1 - p.job_to_job_rate_per_month) ** (12 / 52)
    change_day = np.full(n, -1)
    eligible = fixed_job & ~sites
    for wday, monday in zip(monday_day, mondays.values):
        if wday <= 0 or wday >= ndays:
            continue
        jobless = ~np.isnat(loss) & (loss <= monday) & (np.isnat(rehire) | (monday < rehire))
        hit = eligible & (change_day < 0) & ~jobless & (rng.random(n) < weekly)
        change_day[hit] = wday
    rehire_day = np.full(n, -1)
    rehire_day[~np.isnat(rehire)] = (rehire[~np.isnat(rehire)] - np.datetime64(day0, "ns")) // np.timedelta64(1, "D")
    rehire_new = fixed_job & ~sites & (rehire_day >= 0) & (rng.random(n) < p.rehire_new_workplace_share)
    for who, day in ((np.flatnonzero(change_day >= 0), change_day), (np.flatnonzero(rehire_new), rehire_day)):
        if len(who):
            lat, lon, cell = new_workplaces(who)
            n_work[who] += 1
            add(who, "work", NEXT_WORK_CODE + n_work[who], lat, lon, cell, day[who])
    # home moves (at most one), on any day
    p_move = 1 - (1 - p.home_move_rate_per_year) ** (ndays / 365.25)
    movers = np.flatnonzero(rng.random(n) < p_move)
    move_day = np.full(n, -1)
    move_day[movers] = rng.integers(1, max(ndays, 2), len(movers))
    pop = geo.cbgs["population"].to_numpy(float)
    cell = rng.choice(len(geoid), size=len(movers), p=pop / pop.sum())
    lat, lon = sample_in_cbgs(geo, cell, rng)
    add(movers, "home", np.full(len(movers), NEXT_HOME_CODE + 1), lat, lon, cell, move_day[movers])
    # remote work, person by person
    tau = people["tau"].to_numpy(float)
    can_remote = fixed_job & ~sites
    if p.remote_by_person:
        teleworkable = has_job & (rng.random(n) < np.nan_to_num(tau))
        takeup = np.where(teleworkable, p.remote_takeup_teleworkable, p.remote_takeup_other)
        goes_remote = can_remote & (rng.random(n) < takeup)
        delay = np.floor(rng.exponential(p.remote_delay_mean_days, n)).astype(np.int64)
        remote_day = np.where(goes_remote, shock_day + delay, -1)
        hybrid = goes_remote & (rng.random(n) < p.hybrid_share)
        k = rng.integers(p.hybrid_onsite_days_min, p.hybrid_onsite_days_max + 1, n)
        onsite_days = np.where(hybrid, np.minimum(k, np.array([bin(int(m)).count("1") for m in work_days]) - 1), 0)
        onsite_mask = np.zeros(n, dtype=np.int64)
        for pool in np.unique(work_days[hybrid]):
            sel = hybrid & (work_days == pool)
            onsite_mask[sel] = _pick_weekdays(onsite_days[sel], int(pool), rng)
        back = goes_remote & (rng.random(n) < p.remote_return_share)
        ret0 = int((pd.Timestamp(p.remote_return_start_date) - day0).days)
        return_day = np.where(back, rng.integers(min(ret0, ndays - 1), ndays, n), -1)
        return_day = np.where(back & (return_day > remote_day), return_day, -1)
        remote_day = np.where(remote_day < ndays, remote_day, -1)
    else:
        teleworkable = np.zeros(n, dtype=bool)
        goes_remote = people["goes_remote"].to_numpy(bool)
        remote_day = np.where(goes_remote, shock_day, -1)
        hybrid = np.zeros(n, dtype=bool)
        onsite_days = np.zeros(n, dtype=np.int64)
        onsite_mask = np.zeros(n, dtype=np.int64)
        return_day = np.full(n, -1)
    # phones
    cuts = np.cumsum([p.sparse_phone_share, p.phone_churn_share, p.phone_degraded_night_share,
                      p.phone_degraded_home_share])
    phone = np.searchsorted(cuts, rng.random(n), side="right")  # 0 sparse .. 3 degraded_home, 4 normal
    phone = np.where(phone == 4, 0, phone + 1)
    phone_day = np.where(phone >= 2, rng.integers(0, ndays, n), -1)
    rate = people["pings_per_hour"].to_numpy(float).copy()
    sparse = phone == 1
    rate[sparse] = np.clip(rng.lognormal(np.log(p.sparse_pings_per_hour_median), p.pings_per_hour_sigma,
                                         int(sparse.sum())), 0.03, p.pings_per_hour_min)

    def date_col(day):
        return pd.DatetimeIndex(np.where(day >= 0, (day0 + pd.to_timedelta(np.maximum(day, 0), unit="D")).values,
                                         np.datetime64("NaT")), dtype="datetime64[ns]")

    cat = lambda names, idx: pd.array(np.asarray(names, dtype=object)[idx], dtype="string")
    out = people.copy()
    out["has_job"] = has_job
    out["schedule"] = cat(SCHEDULES, sched)
    out["work_weekdays"] = pd.array(np.where(has_job & ~gig, work_days, 0), dtype="Int64")
    out["rotation_weeks"] = pd.array(np.where(rot, rot_block_weeks, 0), dtype="Int64")
    out["rotation_phase"] = pd.array(np.where(rot, rot_phase, 0), dtype="Int64")
    out["workplace_kind"] = pd.array(np.where(has_job, np.asarray(WORKPLACE_KINDS, dtype=object)[wkind], None),
                                     dtype="string")
    out["work_cbg"] = pd.array(np.where(has_job & ~gig, geoid[np.maximum(work_idx, 0)], None), dtype="string")
    out["work_lat"], out["work_lon"] = work_lat, work_lon
    out["teleworkable_occupation"] = teleworkable
    out["goes_remote"] = remote_day >= 0
    out["remote_start_date"] = date_col(remote_day)
    out["remote_end_date"] = date_col(return_day)
    out["hybrid_onsite_days"] = pd.Series(onsite_days, index=out.index).where(remote_day >= 0).astype("Int64")
    out["hybrid_onsite_weekdays"] = pd.array(onsite_mask, dtype="Int64")
    out["move_date"] = date_col(move_day)
    out["job_change_date"] = date_col(change_day)
    out["rehire_new_workplace"] = rehire_new
    out["phone_kind"] = cat(PHONE_KINDS, phone)
    out["phone_date"] = date_col(phone_day)
    out["pings_per_hour"] = rate
    places = pd.concat(parts, ignore_index=True)
    uid = people["user_id"].to_numpy(str)
    number = np.arange(n)  # the user number is the row number of people
    places = pd.DataFrame({
        "user_id": pd.array(uid[places["person"]], dtype="string"),
        "kind": pd.array(places["kind"], dtype="string"),
        "place_id": (number[places["person"]] * 1000 + places["code"]).astype(np.int64),
        "lat": places["lat"].to_numpy(float), "lon": places["lon"].to_numpy(float),
        "cbg": pd.array(places["cbg"], dtype="string"),
        "start_date": date_col(places["start"].to_numpy(np.int64)),
        "end_date": date_col(places["end"].to_numpy(np.int64)),
    })
    places = places.sort_values(["user_id", "kind", "start_date"], kind="stable").reset_index(drop=True)
    # a home or workplace ends where the next of the same kind starts
    nxt = places.groupby(["user_id", "kind"])["start_date"].shift(-1)
    places["end_date"] = places["end_date"].where(places["end_date"].notna(), nxt)
    return out, places
