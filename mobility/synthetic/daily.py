"""Daily life of a batch of people: the true stops (home, work, other), vectorised over people.

The loop runs over days and, inside a day, over a handful of activity slots; every step works on arrays of
all people of the batch at once. Local wall-clock times (``params.timezone``) are turned into UTC through each
day's UTC offset at local noon; nights end exactly at the true local midnight so home stays join across days.

Other places follow the exploration and preferential return model (Song et al. 2010, Nat. Phys. 6, 818):
with probability ``rho * S**-gamma`` (S = distinct places visited so far) a person explores a new place at a
power-law distance from home (``P(r) ~ r**-(1 + new_place_distance_exponent)``), else returns to a known place
with probability proportional to its past visits.

Outings from home (Poisson counts) have three rates: ``outings_workday_mean`` in the evening of an on-site
workday (plus a lunch outing near work with ``lunch_out_prob``), ``outings_offday_mean`` on weekends, absences
and remote-work days, and ``outings_jobless_weekday_mean`` on the weekdays of a person out of work after a job
loss. The last is a workday's outings beside work (evening plus lunch), not an off-day's: the unemployed spend
the freed hours mostly at home (time-use evidence cited in :mod:`~mobility.synthetic.params`), and the job loss
must not add leisure outings that would offset the planted drop in exploration (method.md section 2.9: job
losers visit fewer places and explore less, more so with time since the loss). On top of that, after job loss
the exploration probability, the distance of new places and the number of outings shrink by
``effect(w) = max * (1 - exp(-w / effect_tau_weeks))``, w the weeks since the loss.

With the plans of :mod:`~mobility.synthetic.lives` (``Batch.life``) each person keeps their own schedule: the
shift of the day (:data:`~mobility.synthetic.lives.SHIFT_HOURS`), a night shift carried across midnight as one
stop and followed by sleep at home, outings before evening and night shifts, a chain of gig jobs at client
places, a campus for students until the shock, homes and workplaces that change on their day, remote and
hybrid days. Every random number the plans need comes from a second generator, so without plans the draws
are exactly those of the easy region.

Two realism knobs (off by default, and then no random number is drawn for them) make the region harder:
with ``shared_venue_share`` an exploration step picks a shared public venue the person has not visited yet
instead of a new private place, so many people's stops fall on the same spots, often near work
(:mod:`~mobility.synthetic.venues`); with ``work_campus_radius_m`` each day's work stops sit at a point drawn
uniformly in a disc around the work point instead of on the point itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mobility.kernels.geo import haversine_m
from mobility.synthetic.geography import clip_to_box, offset_m
from mobility.synthetic.lives import (
    GIG_CODE,
    MAX_GIG_PLACES,
    MON_FRI,
    SCHEDULES,
    SHIFT_HOURS,
    SHIFT_TYPES,
)
from mobility.synthetic.params import SyntheticParams
from mobility.synthetic.venues import Venues

HOME, WORK, OTHER, SCHOOL = 0, 1, 2, 3
KINDS = ("home", "work", "other", "school")
PLACE_ID_STRIDE = 1000  # place_id = user_number * 1000 + code (0 home, 1 work, 2.. other; lives.py lists all)
#: The day's work mode of the daily truth: no job, out of work after a job loss, worked on site (or at gig
#: places), worked from home on a scheduled workday, or a day off (not scheduled, or absent).
MODES = ("no_job", "unemployed", "onsite", "remote", "off")


@dataclass(frozen=True)
class Calendar:
    """Local days of the observation window and their UTC anchors (seconds since the epoch)."""

    dates: pd.DatetimeIndex  # naive local dates
    midnight_utc_s: np.ndarray  # len(dates) + 1: true local midnights in UTC
    noon_base_utc_s: np.ndarray  # utc(local noon) - 12 h: add local seconds-after-midnight for daytime
    shock_day: int

    @classmethod
    def from_params(cls, params: SyntheticParams) -> "Calendar":
        """Build the calendar.

        Examples
        --------
        >>> c = Calendar.from_params(SyntheticParams(start="2020-03-07", end="2020-03-13"))
        >>> len(c.dates), int(c.midnight_utc_s[2] - c.midnight_utc_s[1])  # 2020-03-08 is 23 h long (DST)
        (7, 82800)
        """
        dates = pd.date_range(params.start, params.end, freq="D")
        edges = pd.date_range(params.start, pd.Timestamp(params.end) + pd.Timedelta(days=1), freq="D")
        midnight = edges.tz_localize(params.timezone).tz_convert("UTC").as_unit("ns").asi8 / 1e9
        noon = (dates + pd.Timedelta(hours=12)).tz_localize(params.timezone).tz_convert("UTC").as_unit("ns").asi8 / 1e9
        shock = int((pd.Timestamp(params.shock_date) - dates[0]).days)
        return cls(dates=dates, midnight_utc_s=midnight, noon_base_utc_s=noon - 12 * 3600.0, shock_day=shock)


@dataclass
class Batch:
    """The people of one batch as arrays (index i = position in the batch)."""

    user_number: np.ndarray  # global 0-based number (user_id order)
    home_lat: np.ndarray
    home_lon: np.ndarray
    work_lat: np.ndarray
    work_lon: np.ndarray
    has_job: np.ndarray
    goes_remote: np.ndarray
    vulnerable: np.ndarray
    loss_day: np.ndarray  # day index of job loss, large if none
    rehire_day: np.ndarray  # day index of rehire, large if none
    life: "Life | None" = None  # schedules, places over time, remote plans; None: the easy region

    @classmethod
    def from_people(cls, people: pd.DataFrame, calendar: Calendar, first_number: int,
                    places: pd.DataFrame | None = None, params: SyntheticParams | None = None) -> "Batch":
        never = np.iinfo(np.int64).max // 4
        day0 = calendar.dates[0]

        def day_index(col: str) -> np.ndarray:
            d = people[col]
            return np.where(d.notna(), ((d - day0).dt.days.fillna(0)).to_numpy(np.int64), never)

        life = None
        work_lat, work_lon = people["work_lat"].to_numpy(float), people["work_lon"].to_numpy(float)
        if places is not None and "schedule" in people.columns:
            life = Life.from_people(people, places, calendar, params or SyntheticParams())
            school = places[(places["kind"] == "school")]
            at = pd.Index(people["user_id"].astype(str)).get_indexer(school["user_id"].astype(str))
            work_lat, work_lon = work_lat.copy(), work_lon.copy()
            work_lat[at[at >= 0]] = school["lat"].to_numpy(float)[at >= 0]
            work_lon[at[at >= 0]] = school["lon"].to_numpy(float)[at >= 0]
        has_job = (people["has_job"] if "has_job" in people.columns else people["work_cbg"].notna()).to_numpy(bool)
        return cls(
            user_number=first_number + np.arange(len(people)),
            home_lat=people["home_lat"].to_numpy(float), home_lon=people["home_lon"].to_numpy(float),
            work_lat=work_lat, work_lon=work_lon,
            has_job=has_job, goes_remote=people["goes_remote"].to_numpy(bool),
            vulnerable=people["vulnerable"].to_numpy(bool),
            loss_day=day_index("job_loss_date"), rehire_day=day_index("rehire_date"), life=life,
        )


class _Places:
    """Per-person table of known other places with visit counts (the EPR memory)."""

    def __init__(self, params: SyntheticParams, batch: Batch, rng: np.random.Generator,
                 venues: Venues | None = None):
        n, cap = len(batch.home_lat), params.max_places_per_user
        self.p, self.rng = params, rng
        self.venues = venues if venues is not None and len(venues) and params.shared_venue_share > 0 else None
        # venue index of each known place (-1: a private place); only kept when venues are in play
        self.venue = np.full((n, cap), -1, dtype=np.int32) if self.venues is not None else None
        self.lat = np.zeros((n, cap))
        self.lon = np.zeros((n, cap))
        self.count = np.zeros((n, cap))
        k = params.initial_places
        lat, lon = self.offsets(batch.home_lat.repeat(k), batch.home_lon.repeat(k), np.ones(n * k))
        self.lat[:, :k], self.lon[:, :k] = lat.reshape(n, k), lon.reshape(n, k)
        self.count[:, :k] = np.ceil(8.0 / (1 + np.arange(k)))[None, :] * rng.uniform(0.5, 1.5, (n, k))
        self.n = np.full(n, k)

    def offsets(self, lat0, lon0, radius_mult, scale_m=None):
        """New place coordinates at a power-law (or, with ``scale_m``, exponential) distance from (lat0, lon0)."""
        p, m = self.p, len(lat0)
        if scale_m is None:
            a, rmin, rmax = p.new_place_distance_exponent, p.new_place_min_distance_m, p.new_place_max_distance_m
            u = self.rng.random(m)
            r = rmin * (1 - u * (1 - (rmin / rmax) ** a)) ** (-1 / a)
            r = np.maximum(r * radius_mult, 0.5 * rmin)
        else:
            r = 150.0 + self.rng.exponential(scale_m, m)
        theta = self.rng.uniform(0, 2 * np.pi, m)
        return clip_to_box(*offset_m(lat0, lon0, r, theta))

    def venue_weights(self, who, anchor_lat, anchor_lon, radius_mult, scale_m=None):
        """Choice weights (len(who), n_venues) of the venues for explorers: attractiveness times the private
        places' distance law at the venue's distance from the anchor (power law between
        ``new_place_min/max_distance_m``, the distance divided by ``radius_mult``; or, with ``scale_m``, the
        lunch law ``exp(-(d - 150 m) / scale_m)``); 0 for venues the person already knows."""
        p, v = self.p, self.venues
        d = haversine_m(anchor_lat[:, None], anchor_lon[:, None], v.lat[None, :], v.lon[None, :])
        if scale_m is None:
            r = np.maximum(d / radius_mult[:, None], p.new_place_min_distance_m)
            w = np.where(r <= p.new_place_max_distance_m, r ** -(1 + p.new_place_distance_exponent), 0.0)
        else:
            w = np.exp(-np.maximum(d - 150.0, 0.0) / scale_m)
        w *= v.weight[None, :]
        rows, cols = np.nonzero(self.venue[who] >= 0)
        w[rows, self.venue[who[rows], cols]] = 0.0
        return w

    def choose(self, who, anchor_lat, anchor_lon, explore_mult, radius_mult, scale_m=None):
        """Pick a place for each person in ``who``; returns (slot index, lat, lon, venue index or -1) without
        committing."""
        p = self.p
        n_known = self.n[who]
        prob = p.epr_rho * np.power(np.maximum(n_known, 1), -p.epr_gamma) * explore_mult
        explore = (self.rng.random(len(who)) < prob) & (n_known < self.count.shape[1])
        slot = np.empty(len(who), dtype=np.int64)
        lat = np.empty(len(who))
        lon = np.empty(len(who))
        venue = np.full(len(who), -1, dtype=np.int32)
        e = np.flatnonzero(explore)
        slot[e] = n_known[e]
        if self.venues is not None and len(e):
            # a shared venue instead of a new private place, for a share of the explorers that still have one
            # within reach they have not visited
            v = e[self.rng.random(len(e)) < p.shared_venue_share]
            w = self.venue_weights(who[v], anchor_lat[v], anchor_lon[v], radius_mult[v], scale_m)
            cdf = np.cumsum(w, axis=1)
            ok = cdf[:, -1] > 0
            u = self.rng.random(len(v)) * cdf[:, -1]
            pick = np.minimum((cdf <= u[:, None]).sum(axis=1), len(self.venues) - 1)
            v, pick = v[ok], pick[ok]
            venue[v] = pick
            lat[v], lon[v] = self.venues.lat[pick], self.venues.lon[pick]
            e = e[venue[e] < 0]
        lat[e], lon[e] = self.offsets(anchor_lat[e], anchor_lon[e], radius_mult[e], scale_m)
        r = np.flatnonzero(~explore)
        if len(r):
            width = int(n_known[r].max())  # only the known places can be returned to
            cdf = np.cumsum(self.count[who[r], :width], axis=1)
            u = self.rng.random(len(r)) * cdf[:, -1]
            slot[r] = np.minimum((cdf <= u[:, None]).sum(axis=1), n_known[r] - 1)
            lat[r], lon[r] = self.lat[who[r], slot[r]], self.lon[who[r], slot[r]]
        return slot, lat, lon, venue

    def commit(self, who, slot, lat, lon, venue):
        """Record a visit (adding the place if it is new)."""
        new = slot >= self.n[who]
        self.lat[who[new], slot[new]], self.lon[who[new], slot[new]] = lat[new], lon[new]
        if self.venue is not None:
            self.venue[who[new], slot[new]] = venue[new]
        self.n[who[new]] += 1
        self.count[who, slot] += 1


def effect_curve(weeks: np.ndarray, max_effect: float, tau_weeks: float) -> np.ndarray:
    """Planted effect of job loss after ``weeks`` weeks: ``max_effect * (1 - exp(-weeks / tau_weeks))``.

    Examples
    --------
    >>> effect_curve(np.array([0.0, 6.0, 1e9]), 0.5, 6.0).round(3).tolist()
    [0.0, 0.316, 0.5]
    """
    return max_effect * (1 - np.exp(-np.maximum(weeks, 0) / tau_weeks))


@dataclass
class Life:
    """The plans of a batch's people (:mod:`~mobility.synthetic.lives`) as arrays (index = batch position)."""

    sched: np.ndarray  # index in lives.SCHEDULES
    work_days: np.ndarray  # bitmask of shift-start weekdays (bit 0 = Monday)
    few_days: np.ndarray  # part-timer on fixed days (else short weekdays)
    site: np.ndarray  # construction sites
    rot_weeks: np.ndarray
    rot_phase: np.ndarray
    remote_day: np.ndarray  # first remote day, NEVER if none
    return_day: np.ndarray  # first day back on site full time, NEVER if none
    onsite_mask: np.ndarray  # hybrid on-site weekdays (0: fully remote)
    ev_day: np.ndarray  # changes of home or workplace, sorted by day
    ev_person: np.ndarray
    ev_home: np.ndarray  # True: a new home, False: a new workplace
    ev_lat: np.ndarray
    ev_lon: np.ndarray
    ev_code: np.ndarray
    gig_place_scale_m: float = 3000.0
    gig_new_place_prob: float = 0.5

    def __post_init__(self) -> None:
        self.is_gig = self.sched == SCHEDULES.index("gig")
        self.is_student = self.sched == SCHEDULES.index("student")
        n = len(self.sched)
        types = np.full(n, SHIFT_TYPES.index("day"))
        for sched, kind in (("evening", "evening"), ("night", "night"), ("weekend", "weekend"), ("gig", "gig"),
                            ("student", "school")):
            types[self.sched == SCHEDULES.index(sched)] = SHIFT_TYPES.index(kind)
        part = self.sched == SCHEDULES.index("part_time")
        types[part] = np.where(self.few_days[part], SHIFT_TYPES.index("part_days"), SHIFT_TYPES.index("part_short"))
        types[self.site & (self.sched == SCHEDULES.index("day"))] = SHIFT_TYPES.index("site")
        self.base_type = types
        self.is_rotating = self.sched == SCHEDULES.index("rotating")
        self.gig_lat = np.zeros((n, MAX_GIG_PLACES))
        self.gig_lon = np.zeros((n, MAX_GIG_PLACES))
        self.gig_n = np.zeros(n, dtype=np.int64)

    @classmethod
    def from_people(cls, people: pd.DataFrame, places: pd.DataFrame, calendar: Calendar,
                    params: SyntheticParams) -> "Life":
        """The plans of ``people`` (rows of ``draw_lives``' people) and their ``places`` rows."""
        never = np.iinfo(np.int64).max // 4
        day0 = calendar.dates[0]
        day = lambda col: np.where(people[col].notna(), (people[col] - day0).dt.days.fillna(0).to_numpy(np.int64),
                                   never)
        pos = pd.Index(people["user_id"].astype(str)).get_indexer(places["user_id"].astype(str))
        start = (places["start_date"] - day0).dt.days.to_numpy(np.int64)
        ev = places[(pos >= 0) & (start > 0) & places["kind"].isin(["home", "work"]).to_numpy()]
        ev_pos = pos[ev.index]
        ev_start = start[ev.index]
        order = np.lexsort((ev_pos, ev_start))
        sched = pd.Index(SCHEDULES).get_indexer(people["schedule"].astype(str))
        work_days = people["work_weekdays"].fillna(0).to_numpy(np.int64)
        return cls(
            sched=sched, work_days=np.where(sched == SCHEDULES.index("student"), MON_FRI, work_days),
            few_days=(sched == SCHEDULES.index("part_time")) & (work_days != MON_FRI),
            site=(people["workplace_kind"] == "rotating_sites").fillna(False).to_numpy(bool),
            rot_weeks=np.maximum(people["rotation_weeks"].fillna(1).to_numpy(np.int64), 1),
            rot_phase=people["rotation_phase"].fillna(0).to_numpy(np.int64),
            remote_day=day("remote_start_date"), return_day=day("remote_end_date"),
            onsite_mask=people["hybrid_onsite_weekdays"].fillna(0).to_numpy(np.int64),
            ev_day=ev_start[order], ev_person=ev_pos[order], ev_home=(ev["kind"] == "home").to_numpy()[order],
            ev_lat=ev["lat"].to_numpy(float)[order], ev_lon=ev["lon"].to_numpy(float)[order],
            ev_code=(ev["place_id"].to_numpy(np.int64) % PLACE_ID_STRIDE)[order],
            gig_place_scale_m=params.gig_place_scale_m, gig_new_place_prob=params.gig_new_place_prob)

    def apply_events(self, d, home_lat, home_lon, home_code, work_lat, work_lon, work_code) -> None:
        """Move the people whose home or workplace changes on day ``d`` (arrays updated in place)."""
        lo, hi = np.searchsorted(self.ev_day, [d, d + 1])
        for i in range(lo, hi):
            j = self.ev_person[i]
            if self.ev_home[i]:
                home_lat[j], home_lon[j], home_code[j] = self.ev_lat[i], self.ev_lon[i], self.ev_code[i]
            else:
                work_lat[j], work_lon[j], work_code[j] = self.ev_lat[i], self.ev_lon[i], self.ev_code[i]

    def shift_today(self, d: int, weekday: int, week: int, shock_day: int, u_gig: np.ndarray,
                    gig_day_prob: float) -> tuple[np.ndarray, np.ndarray]:
        """(scheduled to start a shift today, shift type index in ``SHIFT_TYPES``) per person.

        Rotating shifts cycle day, evening, night in blocks of ``rot_weeks`` weeks (Monday-Friday starts);
        gig workers work on a random ``gig_day_prob`` share of days; students until the shock.
        """
        types = self.base_type.copy()
        block = ((week + self.rot_phase) // self.rot_weeks) % 3
        rot_type = np.array([SHIFT_TYPES.index(k) for k in ("day", "evening", "night")])[block]
        types = np.where(self.is_rotating, rot_type, types)
        scheduled = (self.work_days >> weekday & 1).astype(bool)
        scheduled = np.where(self.is_rotating, bool(MON_FRI >> weekday & 1), scheduled)
        scheduled = np.where(self.is_gig, u_gig < gig_day_prob, scheduled)
        scheduled &= ~(self.is_student & (d >= shock_day))
        return scheduled, types

    def remote_on(self, d: int, weekday: int) -> np.ndarray:
        """Whether each person works from home on day ``d`` if it is a workday (hybrid on-site days excluded)."""
        plan = (self.remote_day <= d) & (d < self.return_day)
        return plan & ~(self.onsite_mask >> weekday & 1).astype(bool)

    @staticmethod
    def shift_times(types, arrive, leave, base, rng):
        """Start and end (UTC s) of today's shift: the easy region's day hours for ``day``, else
        :data:`~mobility.synthetic.lives.SHIFT_HOURS` (an end past midnight goes on the next day)."""
        table = np.array([SHIFT_HOURS.get(k, (0.0, 0.0, 0.0, 0.0)) for k in SHIFT_TYPES])[types]
        u1, u2 = rng.random(len(types)), rng.random(len(types))
        start = base + (table[:, 0] + u1 * (table[:, 1] - table[:, 0])) * 3600
        end = start + (table[:, 2] + u2 * (table[:, 3] - table[:, 2])) * 3600
        day = types == SHIFT_TYPES.index("day")
        return np.where(day, arrive, start), np.where(day, leave, end)

    def gig_day(self, g, start, end, home_since, home_lat, home_lon, home_code, emit_at, travel_s, rng):
        """A gig worker's day: 1-4 jobs of 30-120 min at client places (new with ``gig_new_place_prob``, else
        a known one), chained from ``start`` until ``end``; returns when each is home again."""
        prev_lat, prev_lon = home_lat[g].copy(), home_lon[g].copy()
        t, last_end = start.copy(), start.copy()
        alive = np.ones(len(g), dtype=bool)
        for j in range(4):
            known = self.gig_n[g]
            new = (known == 0) | ((rng.random(len(g)) < self.gig_new_place_prob) & (known < MAX_GIG_PLACES))
            slot = np.where(new, known, (rng.random(len(g)) * np.maximum(known, 1)).astype(np.int64))
            r = rng.exponential(self.gig_place_scale_m, len(g)) + 200.0
            nlat, nlon = clip_to_box(*offset_m(home_lat[g], home_lon[g], r, rng.uniform(0, 2 * np.pi, len(g))))
            lat = np.where(new, nlat, self.gig_lat[g, np.minimum(slot, MAX_GIG_PLACES - 1)])
            lon = np.where(new, nlon, self.gig_lon[g, np.minimum(slot, MAX_GIG_PLACES - 1)])
            tt = travel_s(prev_lat, prev_lon, lat, lon, rng)
            st = t if j == 0 else t + tt
            en = st + rng.uniform(1800.0, 7200.0, len(g))
            if j == 0:
                emit_at(g, home_since, st - tt, home_lat[g], home_lon[g], home_code[g], HOME)
            else:
                alive &= en <= end
            a = np.flatnonzero(alive)
            emit_at(g[a], st[a], en[a], lat[a], lon[a], GIG_CODE + slot[a], WORK)
            fresh = a[new[a]]
            self.gig_lat[g[fresh], slot[fresh]], self.gig_lon[g[fresh], slot[fresh]] = lat[fresh], lon[fresh]
            self.gig_n[g[fresh]] += 1
            last_end = np.where(alive, en, last_end)
            prev_lat, prev_lon = np.where(alive, lat, prev_lat), np.where(alive, lon, prev_lon)
            t = np.where(alive, en, t)
        return last_end + travel_s(prev_lat, prev_lon, home_lat[g], home_lon[g], rng)


def simulate_stops(params: SyntheticParams, batch: Batch, calendar: Calendar,
                   rng: np.random.Generator, venues: Venues | None = None, *,
                   rng_life: np.random.Generator | None = None, daily: dict | None = None) -> dict[str, np.ndarray]:
    """True stops of every person of ``batch`` over the calendar, sorted by person then start.

    ``venues`` are the region's shared venues, used when ``params.shared_venue_share > 0``. With
    ``batch.life`` (the plans of :mod:`~mobility.synthetic.lives`) people keep their own schedules, places
    over time and remote plans; every random number they need comes from ``rng_life`` (spawned from ``rng``
    when not given), so without plans the draws from ``rng`` are those of the easy region. A ``daily`` dict
    is filled with one array per local day (``home_code``, ``work_code``, ``onsite``, ``mode``; see
    :data:`MODES`), each of the batch's length.

    Returns arrays ``person`` (batch index), ``start``, ``end`` (UTC seconds), ``lat``, ``lon``,
    ``place_id`` (int64), ``kind`` (0 home, 1 work, 2 other, 3 school). Stops of a person never overlap;
    consecutive stops are separated by the travel time between them, except home stays (and night shifts)
    joined across midnight.

    Examples
    --------
    >>> p = SyntheticParams(n_users=2, start="2020-01-06", end="2020-01-12")
    >>> b = Batch(np.arange(2), np.array([40.0, 40.0]), np.array([-75.2, -75.1]), np.array([39.96, 39.95]),
    ...           np.array([-75.16, -75.16]), np.array([True, False]), np.array([False, False]),
    ...           np.array([False, False]), np.array([10**9, 10**9]), np.array([10**9, 10**9]))
    >>> s = simulate_stops(p, b, Calendar.from_params(p), np.random.default_rng(0))
    >>> int((s["kind"][s["person"] == 0] == 1).sum()) >= 4, int((s["kind"][s["person"] == 1] == 1).sum())
    (True, 0)
    """
    p = params
    n = len(batch.home_lat)
    people = np.arange(n)
    places = _Places(p, batch, rng, venues)
    life = batch.life
    if life is not None and rng_life is None:
        rng_life = rng.spawn(1)[0]

    def travel_s(lat0, lon0, lat1, lon1, gen=rng):
        d = haversine_m(lat0, lon0, lat1, lon1) * p.detour_factor
        speed = gen.uniform(p.travel_speed_min_kmh, p.travel_speed_max_kmh, len(d)) / 3.6
        return np.maximum(d / speed, p.min_travel_s)

    out: dict[str, list] = {k: [] for k in ("person", "start", "end", "lat", "lon", "slot", "kind")}

    def emit(mask, start, end, lat, lon, slot, kind):
        idx = np.flatnonzero(mask & (end > start))
        out["person"].append(idx)
        for key, val in (("start", start), ("end", end), ("lat", lat), ("lon", lon), ("slot", slot)):
            out[key].append(np.broadcast_to(val, (n,))[idx])
        out["kind"].append(np.full(len(idx), kind, dtype=np.int8))

    def emit_at(who, start, end, lat, lon, slot, kind):  # arrays of len(who)
        ok = end > start
        out["person"].append(who[ok])
        for key, val in (("start", start), ("end", end), ("lat", lat), ("lon", lon), ("slot", slot)):
            out[key].append(np.asarray(val)[ok])
        out["kind"].append(np.full(int(ok.sum()), kind, dtype=np.int8))

    weekday_of = calendar.dates.day_of_week.to_numpy()
    day0_weekday = int(weekday_of[0]) if len(weekday_of) else 0
    home_lat, home_lon = batch.home_lat.copy(), batch.home_lon.copy()
    home_code = np.zeros(n, dtype=np.int64)
    cur_work_lat, cur_work_lon = batch.work_lat.copy(), batch.work_lon.copy()
    work_code = np.ones(n, dtype=np.int64)
    carry_end = np.zeros(n)  # end (UTC s) of last night's shift when it runs past midnight
    carry_lat, carry_lon, carry_code = np.zeros(n), np.zeros(n), np.ones(n, dtype=np.int64)
    for d in range(len(calendar.dates)):
        base = calendar.noon_base_utc_s[d]
        midnight, next_midnight = calendar.midnight_utc_s[d], calendar.midnight_utc_s[d + 1]
        after_shock = d >= calendar.shock_day
        unemployed = batch.has_job & (d >= batch.loss_day) & (d < batch.rehire_day)
        if life is None:
            scheduled = np.full(n, weekday_of[d] < 5)
            remote_today = batch.goes_remote & after_shock
            onsite = batch.has_job & ~unemployed & ~remote_today
            is_gig = student = prework_type = np.zeros(n, dtype=bool)
        else:
            life.apply_events(d, home_lat, home_lon, home_code, cur_work_lat, cur_work_lon, work_code)
            scheduled, stype = life.shift_today(d, int(weekday_of[d]), (d + day0_weekday) // 7,
                                                calendar.shock_day, rng_life.random(n), p.gig_day_prob)
            remote_today = life.remote_on(d, int(weekday_of[d])) & batch.has_job & ~unemployed
            is_gig, student = life.is_gig, life.is_student
            onsite = ((batch.has_job & ~unemployed) | student) & ~remote_today
            prework_type = (stype == SHIFT_TYPES.index("evening")) | (stype == SHIFT_TYPES.index("night"))
        absent = ~(rng.random(n) >= p.work_absence_prob)
        works = onsite & scheduled & ~absent
        weeks = np.where(unemployed, (d - np.minimum(batch.loss_day, d)) / 7.0, 0.0)
        vmult = np.where(batch.vulnerable, p.vulnerable_effect_multiplier, 1.0)
        eff = lambda mx: np.where(unemployed, np.minimum(
            effect_curve(weeks, mx, p.effect_tau_weeks) * vmult, 0.95), 0.0)
        explore_mult = (1 - p.shock_explore_reduction * after_shock) * (1 - eff(p.explore_effect_max))
        radius_mult = 1 - eff(p.radius_effect_max)
        outing_mult = (1 - p.shock_outing_reduction * after_shock) * (1 - eff(p.outing_effect_max))
        home_since = np.full(n, midnight)
        # on-site work, with an optional lunch outing
        arrive = base + rng.uniform(p.work_arrive_start_h, p.work_arrive_end_h, n) * 3600
        leave = base + rng.uniform(p.work_leave_start_h, p.work_leave_end_h, n) * 3600
        wake = np.full(n, -np.inf)
        if life is not None:
            arrive, leave = life.shift_times(stype, arrive, leave, base, rng_life)
            carry = carry_end > midnight  # last night's shift goes on until carry_end
            tt_c = travel_s(carry_lat, carry_lon, home_lat, home_lon, rng_life)
            emit(carry, np.full(n, midnight), carry_end, carry_lat, carry_lon, carry_code, WORK)
            home_since = np.where(carry, carry_end + tt_c, home_since)
            wake = np.where(carry, carry_end + rng_life.uniform(6.0, 8.0, n) * 3600, wake)  # sleep after it
            works &= ~carry | (arrive > wake)
            carry_end = np.zeros(n)
        work_lat, work_lon = cur_work_lat, cur_work_lon
        if p.work_campus_radius_m > 0:  # today's building on the campus
            work_lat, work_lon = campus_points(work_lat, work_lon, p.work_campus_radius_m, rng)
        tt_hw = travel_s(home_lat, home_lon, work_lat, work_lon)
        gig_w, school_w = works & is_gig, works & student
        fixed_w = works & ~gig_w
        prework = fixed_w & prework_type  # evening and night shifts: outings before work
        post = fixed_w & ~prework
        emit(post, home_since, arrive - tt_hw, home_lat, home_lon, home_code, HOME)
        lunch = works & (rng.random(n) < p.lunch_out_prob)
        if life is not None:  # a lunch outing only from a daytime job spanning lunch time
            lunch &= post & ~school_w & (arrive <= base + 11.5 * 3600) & (leave >= base + 13.5 * 3600)
        lunch_leave = base + rng.uniform(11.75, 12.75, n) * 3600
        w = np.flatnonzero(lunch)
        slot, llat, llon, venue = places.choose(w, work_lat[w], work_lon[w], explore_mult[w],
                                                radius_mult[w], scale_m=p.lunch_place_scale_m)
        places.commit(w, slot, llat, llon, venue)
        tt = travel_s(work_lat[w], work_lon[w], llat, llon)
        l_start = lunch_leave[w] + tt
        l_end = l_start + rng.uniform(p.min_stop_duration_s, max(p.min_stop_duration_s, 3600.0), len(w))
        full = lambda vals, fill=np.nan: _scatter(n, w, vals, fill)
        if life is not None:  # a short shift still ends at least 30 min after the lunch outing
            leave = np.where(lunch, np.maximum(leave, full(l_end + tt, -np.inf) + 1800.0), leave)
        work_end1 = np.where(lunch, lunch_leave, np.minimum(leave, next_midnight))
        emit(fixed_w & ~school_w, arrive, work_end1, work_lat, work_lon, work_code, WORK)
        if life is not None:
            emit(school_w, arrive, leave, work_lat, work_lon, 1, SCHOOL)
        emit(lunch, full(l_start), full(l_end), full(llat), full(llon), full(slot + 2, 0), OTHER)
        emit(lunch, full(l_end + tt), leave, work_lat, work_lon, work_code, WORK)
        home_since = np.where(post, leave + tt_hw, home_since)
        if life is not None and gig_w.any():
            g = np.flatnonzero(gig_w)
            home_since[g] = life.gig_day(g, arrive[g], leave[g], home_since[g], home_lat, home_lon, home_code,
                                         emit_at, travel_s, rng_life)
        # outings from home
        cur = np.where(post | gig_w, home_since,
                       base + rng.uniform(p.offday_start_min_h, p.offday_start_max_h, n) * 3600)
        cur = np.maximum(cur, wake)
        free_day = np.where(unemployed & (weekday_of[d] < 5), p.outings_jobless_weekday_mean, p.outings_offday_mean)
        mean = np.where(works, p.outings_workday_mean, free_day) * outing_mult
        n_out = np.minimum(rng.poisson(mean), p.max_outings_per_day)
        out_end = np.where(prework, arrive - tt_hw, base + p.day_end_h * 3600)
        active = np.ones(n, dtype=bool)
        for k in range(p.max_outings_per_day):
            active &= n_out > k
            slot, olat, olon, venue = places.choose(people, home_lat, home_lon, explore_mult, radius_mult)
            tt = travel_s(home_lat, home_lon, olat, olon)
            depart = cur + rng.uniform(p.min_home_gap_s, p.max_home_gap_s, n)
            dur = np.clip(rng.lognormal(np.log(p.other_stop_median_s), p.other_stop_sigma, n),
                          p.min_stop_duration_s, p.max_stop_duration_s)
            back = depart + 2 * tt + dur
            active &= back <= out_end
            a = np.flatnonzero(active)
            places.commit(a, slot[a], olat[a], olon[a], venue[a])
            emit(active, home_since, depart, home_lat, home_lon, home_code, HOME)
            emit(active, depart + tt, depart + tt + dur, olat, olon, slot + 2, OTHER)
            home_since = np.where(active, back, home_since)
            cur = np.where(active, back, cur)
        if life is not None:  # evening and night shifts start after the outings
            emit(prework, home_since, arrive - tt_hw, home_lat, home_lon, home_code, HOME)
            home_since = np.where(prework, leave + tt_hw, home_since)
            night = prework & (leave > next_midnight)
            carry_end = np.where(night, leave, 0.0)
            carry_lat, carry_lon, carry_code = work_lat.copy(), work_lon.copy(), work_code.copy()
        emit(np.ones(n, dtype=bool), home_since, np.full(n, next_midnight), home_lat, home_lon, home_code, HOME)
        if daily is not None:
            job = batch.has_job & ~unemployed
            remote_day = job & remote_today & scheduled & ~absent
            mode = np.where(~batch.has_job, MODES.index("no_job"), np.where(
                unemployed, MODES.index("unemployed"), np.where(
                    works & batch.has_job, MODES.index("onsite"), np.where(
                        remote_day, MODES.index("remote"), MODES.index("off")))))
            for key, val in (("home_code", home_code.copy()),
                             ("work_code", np.where(job & ~is_gig, work_code, -1)),
                             ("onsite", works & batch.has_job), ("mode", mode.astype(np.int8))):
                daily.setdefault(key, []).append(val)
    stops = {k: np.concatenate(v) for k, v in out.items()}
    order = np.lexsort((stops["start"], stops["person"]))
    stops = {k: v[order] for k, v in stops.items()}
    stops = _join_touching(stops)
    stops["place_id"] = batch.user_number[stops["person"]].astype(np.int64) * PLACE_ID_STRIDE + stops.pop("slot")
    return stops


def campus_points(lat: np.ndarray, lon: np.ndarray, radius_m: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One point per row drawn uniformly in the disc of ``radius_m`` around (lat, lon), kept 100 m inside the
    region's box (a campus at the box's edge is cut there, so its pings stay inside the block groups).

    Examples
    --------
    >>> lat, lon = campus_points(np.full(500, 40.0), np.full(500, -75.1), 250.0, np.random.default_rng(0))
    >>> d = haversine_m(40.0, -75.1, lat, lon)
    >>> bool(d.max() < 250.1), bool(d.min() < 50.0 and d.max() > 200.0)
    (True, True)
    """
    r = radius_m * np.sqrt(rng.random(len(lat)))
    theta = rng.uniform(0, 2 * np.pi, len(lat))
    return clip_to_box(*offset_m(lat, lon, r, theta), margin_m=100.0)


def _scatter(n, idx, vals, fill):
    full = np.full(n, fill, dtype=np.result_type(vals, type(fill)))
    full[idx] = vals
    return full


def _join_touching(stops: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Merge home or work stops that touch the previous stop at the same place (a night at home, or a night
    shift, split at midnight) into one stop."""
    person, kind, slot = stops["person"], stops["kind"], stops["slot"]
    joins_prev = np.zeros(len(person), dtype=bool)
    joins_prev[1:] = ((person[1:] == person[:-1]) & ((kind[1:] == HOME) | (kind[1:] == WORK))
                      & (kind[1:] == kind[:-1]) & (slot[1:] == slot[:-1])
                      & (stops["start"][1:] == stops["end"][:-1]))
    first = np.flatnonzero(~joins_prev)
    group_last = np.r_[first[1:], len(person)] - 1
    merged = {k: v[first] for k, v in stops.items()}
    merged["end"] = stops["end"][group_last]
    return merged
