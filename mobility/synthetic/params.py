"""Every knob of the synthetic region, with units in the names and range checks.

Defaults give a 1,000-person city near Philadelphia observed Jan-Sep 2020 with a COVID-like shock on
2020-03-16. The planted effects (job-loss hazards, remote work, the post-job-loss reduction of exploration)
are all fields here and are copied to ``truth/effects.json``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mobility.errors import MobilityError
from mobility.synthetic.sectors import DEFAULT_SECTOR_HAZARD_MULTIPLIER

_SHARES = ("no_job_share", "lunch_out_prob", "work_absence_prob", "shock_explore_reduction",
           "shock_outing_reduction", "explore_effect_max", "radius_effect_max", "outing_effect_max",
           "long_silence_user_share", "inject_bad_share", "epr_rho", "male_share", "shared_venue_share",
           "gps_outlier_share", "gig_share", "part_time_share", "part_time_few_days_share", "evening_share",
           "night_share", "rotating_share", "weekend_share", "rotating_sites_share", "student_share",
           "home_cbg_work_share", "near_home_work_share", "home_move_rate_per_year", "job_to_job_rate_per_month",
           "rehire_new_workplace_share", "remote_takeup_teleworkable", "remote_takeup_other", "hybrid_share",
           "remote_return_share", "gig_new_place_prob", "gig_day_prob", "sparse_phone_share",
           "phone_churn_share", "phone_degraded_night_share", "phone_degraded_home_share")
_POSITIVE = ("jobs_per_worker", "users_per_cbg", "travel_speed_min_kmh", "detour_factor",
             "other_stop_median_s", "min_stop_duration_s", "max_stop_duration_s",
             "new_place_min_distance_m", "new_place_max_distance_m", "new_place_distance_exponent",
             "lunch_place_scale_m", "hazard_decay_weeks", "effect_tau_weeks", "pings_per_hour_median",
             "pings_per_hour_min", "trip_ping_multiplier", "silence_median_h", "long_silence_days",
             "gps_noise_min_m", "vulnerable_effect_multiplier", "low_earnings_hazard_multiplier",
             "young_hazard_multiplier", "minority_hazard_multiplier", "remote_adoption_slope",
             "gps_outlier_min_m", "gps_outlier_max_m", "near_home_min_m", "near_home_max_m",
             "sparse_pings_per_hour_median", "gig_place_scale_m")
_NON_NEGATIVE = ("epr_gamma", "baseline_job_loss_hazard_per_week", "peak_job_loss_hazard_per_week",
                 "rehire_hazard_per_week", "outings_workday_mean", "outings_offday_mean",
                 "outings_jobless_weekday_mean",
                 "pings_per_hour_sigma", "silences_per_week", "silence_sigma", "sector_mix_concentration",
                 "shared_venues_per_1000_users", "work_campus_radius_m", "remote_delay_mean_days")


@dataclass(frozen=True)
class SyntheticParams:
    """Parameters of :func:`mobility.synthetic.generate_region`; validated on construction.

    Examples
    --------
    >>> p = SyntheticParams(n_users=50, end="2020-01-28")
    >>> p.n_users, p.to_dict()["timezone"]
    (50, 'America/New_York')
    >>> SyntheticParams(n_users=0)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: SyntheticParams: n_users=0 must be an integer >= 1
    """

    # population and calendar
    n_users: int = 1000
    start: str = "2020-01-01"
    end: str = "2020-09-30"  # inclusive, local calendar day
    timezone: str = "America/New_York"
    shock_date: str = "2020-03-16"
    users_per_part: int = 5000
    inject_bad_share: float = 0.0  # bad rows written to pings/bad-rows.csv, as a share of good pings
    # geography and census
    users_per_cbg: float = 5.0
    min_cbgs: int = 60
    max_cbgs: int = 400
    jobs_per_worker: int = 20  # LODES jobs per worker of the panel
    # LODES counts the region's workers: the panel's and jobs_per_worker - 1 times as many others drawn like them
    # (people.census_workers), so a person's own job is a small part of their block group's counts, as in the real
    # WAC (a median of 141 jobs per block group in the three counties). False: the panel's workers, each
    # jobs_per_worker times, as generators 1.0 and 2.0 made it (a worker's own sector a third of the mix).
    census_population: bool = True
    # How alike block groups' sector mixes are: each block group's mix is a Dirichlet draw with this concentration
    # around the centrality mix (:func:`mobility.synthetic.people.cbg_mixes`). 2.8: the real LODES WAC 2015 of
    # the three counties (Philadelphia, Delaware, Montgomery; 2,327 block groups, 1.4M jobs), where the
    # between-block-group variance of sector shares is 0.263 of p(1 - p) net of sampling noise (1 / (2.8 + 1));
    # the worker-weighted sd of block-group teleworkability there is 0.154 (data/synthetic/README.md). 0 (off,
    # no random number drawn): the centrality mix itself, as generators 1 and 2 made it (sd 0.04).
    sector_mix_concentration: float = 2.8
    # People without a job at the start (out of the labour force, or looking for work: the generator has no
    # unemployment before a job loss). 1 - the employment-population ratio of a smartphone panel: the CPS
    # ratio by age (Jan 2020) weighted by smartphone ownership by age (Pew 2019); data/synthetic/README.md.
    no_job_share: float = 0.33
    male_share: float = 0.49
    # daily life (local time, hours after midnight)
    work_arrive_start_h: float = 8.0
    work_arrive_end_h: float = 9.5
    work_leave_start_h: float = 16.5
    work_leave_end_h: float = 18.5
    work_absence_prob: float = 0.04  # a weekday off (sick, holiday) for an employed on-site worker
    lunch_out_prob: float = 0.3
    lunch_place_scale_m: float = 600.0
    offday_start_min_h: float = 9.0
    offday_start_max_h: float = 12.0
    day_end_h: float = 23.5  # outings returning after this are dropped
    outings_workday_mean: float = 0.6  # evening outings after work (Poisson mean)
    outings_offday_mean: float = 1.6  # outings on weekends and days without on-site work, except:
    # weekday outings of a person out of work after a job loss (before the outing effect and the shock). The
    # freed hours are spent mostly at home (time-use studies of the unemployed: Krueger & Mueller 2012,
    # Aguiar, Hurst & Karabarbounis 2013, ATUS: sleep, TV, home production, job search), so a jobless weekday
    # keeps the outings a workday had beside work (0.6 evening + 0.3 lunch), not a weekend's 1.6.
    outings_jobless_weekday_mean: float = 0.9
    max_outings_per_day: int = 3
    min_stop_duration_s: float = 1200.0
    other_stop_median_s: float = 3600.0
    other_stop_sigma: float = 0.7  # lognormal sigma of other-stop durations
    max_stop_duration_s: float = 4 * 3600.0
    min_home_gap_s: float = 1200.0
    max_home_gap_s: float = 3 * 3600.0
    travel_speed_min_kmh: float = 20.0
    travel_speed_max_kmh: float = 40.0
    detour_factor: float = 1.3
    min_travel_s: float = 180.0
    # exploration and preferential return (Song et al. 2010)
    epr_rho: float = 0.6
    epr_gamma: float = 0.21
    initial_places: int = 10
    max_places_per_user: int = 256
    new_place_min_distance_m: float = 300.0
    new_place_max_distance_m: float = 20000.0
    new_place_distance_exponent: float = 0.6  # P(r) ~ r^-(1+exponent) between min and max
    # shock
    shock_explore_reduction: float = 0.3  # exploration probability x (1 - this) from shock_date
    shock_outing_reduction: float = 0.3  # outing rate x (1 - this) from shock_date
    remote_adoption_slope: float = 1.0  # P(goes remote) = clip(slope * tau_sector, 0, 1)
    # job loss and rehiring (weekly hazards; losses and rehires happen on Mondays)
    baseline_job_loss_hazard_per_week: float = 0.001
    peak_job_loss_hazard_per_week: float = 0.02  # times the sector and group multipliers
    hazard_peak_date: str = "2020-04-06"  # hazard rises linearly from shock_date to here, then decays
    hazard_decay_weeks: float = 4.0  # exponential decay after the peak
    sector_hazard_multiplier: tuple = field(default=DEFAULT_SECTOR_HAZARD_MULTIPLIER)
    low_earnings_hazard_multiplier: float = 1.6  # earnings CE01
    young_hazard_multiplier: float = 1.3  # age CA01
    minority_hazard_multiplier: float = 1.3  # race not CR01 or Hispanic
    rehire_start_date: str = "2020-06-01"
    rehire_hazard_per_week: float = 0.04
    # effect of job loss on mobility: effect(w) = max * (1 - exp(-w / effect_tau_weeks)), w weeks since loss
    explore_effect_max: float = 0.5  # exploration probability x (1 - effect)
    radius_effect_max: float = 0.4  # distance of new places x (1 - effect)
    outing_effect_max: float = 0.2  # outing rate x (1 - effect)
    effect_tau_weeks: float = 6.0
    vulnerable_effect_multiplier: float = 1.5  # effects x this for vulnerable people (capped at 0.95)
    # pings
    pings_per_hour_median: float = 0.9
    pings_per_hour_sigma: float = 0.9  # lognormal sigma across users
    pings_per_hour_min: float = 0.3
    pings_per_hour_max: float = 30.0
    trip_ping_multiplier: float = 4.0
    silences_per_week: float = 0.5
    silence_median_h: float = 6.0
    silence_sigma: float = 1.2
    long_silence_user_share: float = 0.03
    long_silence_days: float = 7.0
    gps_noise_min_m: float = 10.0
    gps_noise_max_m: float = 50.0
    # realism knobs of the harder region (pipelines/synthetic_hard.toml). Each default switches its feature off
    # and then draws no random number, so a region made with the defaults is byte-identical to one made
    # before the knobs existed (and to_dict leaves them out, see HARD_KNOB_DEFAULTS).
    # Shared venues: public places (shops, cafes, gyms) that many people visit. Their count is this many per
    # 1,000 people (at least 1 when > 0); each sits inside a block group drawn with probability
    # proportional to its job weight (where the jobs are, the shops are), in the middle half of the cell.
    shared_venues_per_1000_users: float = 0.0
    # Probability that an exploration step (an outing's or a lunch's new place) picks a shared venue the
    # person has not visited yet instead of a new private place; the venue is drawn with weight
    # venue_weight * (the private distance law at its distance from home, or from work for a lunch).
    shared_venue_share: float = 0.0
    # Heavy GPS noise tail: this share of pings is displaced by a further uniform 100-300 m (below) in a
    # random direction, with the ordinary reported accuracy_m (multipath and cell/Wi-Fi fixes that the
    # device does not flag), so the validator's accuracy filter cannot catch them.
    gps_outlier_share: float = 0.0
    gps_outlier_min_m: float = 100.0
    gps_outlier_max_m: float = 300.0  # <= 400: places keep 500 m from the box edge, so pings stay inside
    # Work campuses: each day's work stops sit at a point drawn uniformly in a disc of this radius around
    # the work point (hospital, university, plant, depot), not on one point; 0 = one point.
    work_campus_radius_m: float = 0.0
    # ---- The lives people really lead (issue 14). On in the default region; every share below is cited in
    # data/synthetic/README.md. EASY_KNOBS switches them all off (pipelines/synthetic_easy.toml): then no
    # random number is drawn for them and the region is the one made before they existed.
    # Schedules, as shares of the people with a job at the start. Gig work (no fixed workplace) first, then
    # part-time (of all workers), then the shift kinds as shares of the full-time rest, else a day schedule.
    gig_share: float = 0.027  # CAEA May 2017: on-call 1.7 % + electronically mediated 1.0 % of employment
    gig_day_prob: float = 0.6  # a gig worker works on this share of days, any day of the week (ours)
    gig_new_place_prob: float = 0.5  # a gig job is at a new client place, else at a known one (ours)
    gig_place_scale_m: float = 3000.0  # gig places at an exponential distance from home, this mean (ours)
    part_time_share: float = 0.175  # CPS 2019: usually part time (< 35 h) / employed
    part_time_few_days_share: float = 0.5  # of part-timers: 2-3 fixed weekdays; the rest short weekdays (ours)
    evening_share: float = 0.047  # CPS May 2004, full-time wage and salary workers: evening shift 4.7 %
    night_share: float = 0.032  # night shift 3.2 %
    rotating_share: float = 0.056  # rotating 2.5 % + employer-arranged irregular 3.1 %
    weekend_share: float = 0.10  # works Sat and Sun, two weekdays off (ATUS; see README)
    rotating_sites_share: float = 0.8  # of construction workers (CNS04): the site changes every few weeks
    site_weeks_min: int = 2
    site_weeks_max: int = 8
    student_share: float = 0.10  # of people without a job: students at a campus until it closes at the shock
    # Places.
    home_cbg_work_share: float = 0.013  # work inside the home block group (>= near_home_min_m from home)
    near_home_work_share: float = 0.013  # work near_home_min_m..near_home_max_m from home (any block group)
    near_home_min_m: float = 100.0
    near_home_max_m: float = 400.0
    home_move_rate_per_year: float = 0.093  # CPS ASEC 2020 mover rate
    job_to_job_rate_per_month: float = 0.02  # CPS employer-to-employer transitions (about 2 % a month)
    rehire_new_workplace_share: float = 0.4  # a rehire is at a new workplace, else a recall (see README)
    # Remote work person by person (else one wave: P = clip(remote_adoption_slope x tau) at the shock).
    remote_by_person: bool = True
    remote_takeup_teleworkable: float = 0.717  # Bick, Blandin & Mertens 2020: 71.7 % of those who could
    remote_takeup_other: float = 0.10  # ours: people in jobs Dingel-Neiman code as not teleworkable
    remote_delay_mean_days: float = 10.0  # remote start = shock + exponential(this) days (ours, see README)
    hybrid_share: float = 0.28  # of remote adopters: on site some days (BBM May 2020, see README)
    hybrid_onsite_days_min: int = 1
    hybrid_onsite_days_max: int = 3
    remote_return_share: float = 0.25  # of remote adopters: back on site full time from a day after...
    remote_return_start_date: str = "2020-06-01"  # ... this date (uniform to the end of the window)
    # Phones.
    sparse_phone_share: float = 0.15  # ours: phones that report a few times a day
    sparse_pings_per_hour_median: float = 0.12
    phone_churn_share: float = 0.10  # ours: stops reporting for good on a day of the window
    phone_degraded_night_share: float = 0.03  # ours: from a day on, reports only 22:00-07:00 local
    phone_degraded_home_share: float = 0.03  # ours: from a day on, reports only while at home

    @classmethod
    def easy(cls, **fields) -> "SyntheticParams":
        """The region before issue 14 (everyone on a 9-5 weekday job or none, one remote wave, one workplace
        and home for life, every phone normal): :data:`EASY_KNOBS` plus ``fields``.

        Examples
        --------
        >>> p = SyntheticParams.easy(n_users=10)
        >>> p.night_share, p.remote_by_person, p.no_job_share, p.n_users
        (0.0, False, 0.07, 10)
        """
        return cls(**{**EASY_KNOBS, **fields})

    @property
    def is_easy(self) -> bool:
        """Whether every knob of :data:`EASY_KNOBS` is at its easy value (no random number is drawn for them)."""
        return all(getattr(self, k) == v for k, v in EASY_KNOBS.items() if k != "no_job_share")

    def __post_init__(self) -> None:
        def bad(name: str, rule: str) -> MobilityError:
            return MobilityError(f"SyntheticParams: {name}={getattr(self, name)!r} {rule}")

        for name in ("n_users", "users_per_part", "min_cbgs", "max_cbgs", "max_outings_per_day",
                     "initial_places", "max_places_per_user", "jobs_per_worker", "site_weeks_min",
                     "site_weeks_max", "hybrid_onsite_days_min", "hybrid_onsite_days_max"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise bad(name, "must be an integer >= 1")
        if self.max_cbgs < self.min_cbgs or self.min_cbgs < 3:
            raise bad("min_cbgs", "must be >= 3 and <= max_cbgs")
        if self.max_places_per_user > 590 or self.initial_places >= self.max_places_per_user:
            raise bad("max_places_per_user", "must be <= 590 (place codes 600.. are later homes and "
                      "workplaces) and > initial_places")
        if not isinstance(self.census_population, bool):
            raise bad("census_population", "must be true or false")
        if not isinstance(self.remote_by_person, bool):
            raise bad("remote_by_person", "must be true or false")
        if self.site_weeks_max < self.site_weeks_min:
            raise bad("site_weeks_max", "must be >= site_weeks_min")
        if not 1 <= self.hybrid_onsite_days_min <= self.hybrid_onsite_days_max <= 4:
            raise bad("hybrid_onsite_days_min", "needs 1 <= hybrid_onsite_days_min <= hybrid_onsite_days_max <= 4")
        for name in _SHARES:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise bad(name, "must be a number in [0, 1]")
        for name in _POSITIVE:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise bad(name, "must be a finite number > 0")
        for name in _NON_NEGATIVE:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise bad(name, "must be a finite number >= 0")
        for name in ("baseline_job_loss_hazard_per_week", "rehire_hazard_per_week"):
            if getattr(self, name) > 1:
                raise bad(name, "is a weekly probability and must be <= 1")
        if not 0 <= self.work_arrive_start_h <= self.work_arrive_end_h < self.work_leave_start_h \
                <= self.work_leave_end_h < self.day_end_h <= 24:
            raise bad("work_arrive_start_h", "needs 0 <= arrive_start <= arrive_end < leave_start <= "
                      "leave_end < day_end_h <= 24")
        if not 0 <= self.offday_start_min_h <= self.offday_start_max_h < self.day_end_h:
            raise bad("offday_start_min_h", "needs 0 <= offday_start_min_h <= offday_start_max_h < day_end_h")
        if not 0 < self.min_stop_duration_s <= self.other_stop_median_s <= self.max_stop_duration_s:
            raise bad("other_stop_median_s", "needs 0 < min_stop_duration_s <= median <= max_stop_duration_s")
        if not 0 < self.min_home_gap_s <= self.max_home_gap_s:
            raise bad("min_home_gap_s", "needs 0 < min_home_gap_s <= max_home_gap_s")
        if self.travel_speed_max_kmh < self.travel_speed_min_kmh:
            raise bad("travel_speed_max_kmh", "must be >= travel_speed_min_kmh")
        if self.new_place_max_distance_m <= self.new_place_min_distance_m:
            raise bad("new_place_max_distance_m", "must be > new_place_min_distance_m")
        if not self.pings_per_hour_min <= self.pings_per_hour_median <= self.pings_per_hour_max:
            raise bad("pings_per_hour_median", "needs pings_per_hour_min <= median <= pings_per_hour_max")
        if not 0 < self.gps_noise_min_m <= self.gps_noise_max_m <= 1000:
            raise bad("gps_noise_max_m", "needs 0 < gps_noise_min_m <= gps_noise_max_m <= 1000")
        if self.gig_share + self.part_time_share > 1:
            raise bad("part_time_share", "plus gig_share must be <= 1 (both are shares of all workers)")
        if self.evening_share + self.night_share + self.rotating_share + self.weekend_share > 1:
            raise bad("evening_share", "+ night_share + rotating_share + weekend_share must be <= 1 (shares of "
                      "full-time workers)")
        if self.home_cbg_work_share + self.near_home_work_share > 1:
            raise bad("home_cbg_work_share", "+ near_home_work_share must be <= 1")
        if (self.sparse_phone_share + self.phone_churn_share + self.phone_degraded_night_share
                + self.phone_degraded_home_share) > 1:
            raise bad("sparse_phone_share", "+ the churn and degraded shares must be <= 1 (one phone kind each)")
        if not 0 < self.near_home_min_m < self.near_home_max_m <= 2000:
            raise bad("near_home_max_m", "needs 0 < near_home_min_m < near_home_max_m <= 2000")
        if self.sparse_pings_per_hour_median > self.pings_per_hour_median:
            raise bad("sparse_pings_per_hour_median", "must be <= pings_per_hour_median")
        if not 0 < self.gps_outlier_min_m <= self.gps_outlier_max_m <= 400:
            raise bad("gps_outlier_max_m", "needs 0 < gps_outlier_min_m <= gps_outlier_max_m <= 400")
        if self.shared_venue_share > 0 and self.shared_venues_per_1000_users == 0:
            raise bad("shared_venue_share", "needs shared_venues_per_1000_users > 0 (there are no venues to pick)")
        if self.work_campus_radius_m > 2000:
            raise bad("work_campus_radius_m", "must be <= 2000 (a campus, not a commute)")
        if not (isinstance(self.other_stop_sigma, (int, float)) and 0 <= self.other_stop_sigma <= 3):
            raise bad("other_stop_sigma", "must be in [0, 3]")
        mult = self.sector_hazard_multiplier
        if not (isinstance(mult, (tuple, list)) and len(mult) == 20
                and all(isinstance(m, (int, float)) and m >= 0 for m in mult)):
            raise bad("sector_hazard_multiplier", "must be 20 numbers >= 0, one per CNS01..CNS20")
        object.__setattr__(self, "sector_hazard_multiplier", tuple(float(m) for m in mult))
        try:
            tz = pd.Timestamp("2020-01-01", tz=self.timezone).tz
        except Exception as exc:
            raise bad("timezone", "is not a known IANA time zone (e.g. 'America/New_York')") from exc
        del tz
        dates = {}
        for name in ("start", "end", "shock_date", "hazard_peak_date", "rehire_start_date",
                     "remote_return_start_date"):
            try:
                dates[name] = pd.Timestamp(getattr(self, name))
            except (ValueError, TypeError) as exc:
                raise bad(name, "is not a date like '2020-03-16'") from exc
            if dates[name].tzinfo is not None or dates[name] != dates[name].normalize():
                raise bad(name, "must be a plain calendar date like '2020-03-16' (local, no time)")
        if dates["end"] < dates["start"] + pd.Timedelta(days=6):
            raise bad("end", "must be at least 6 days after start")
        if dates["hazard_peak_date"] < dates["shock_date"]:
            raise bad("hazard_peak_date", "must be on or after shock_date")

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready plain values (tuples become lists), for manifests.

        The realism knobs (:data:`HARD_KNOB_DEFAULTS`) appear only when they differ from their defaults, and
        the lives knobs (:data:`LIVES_FIELDS`) not at all in an easy region (:attr:`is_easy`), so the
        manifests of those regions stay byte-identical to those written before the knobs existed (and a region
        cached then is still recognised as the same region); :meth:`from_dict` reads both back.

        Examples
        --------
        >>> SyntheticParams().to_dict()["sector_hazard_multiplier"][17]
        3.0
        >>> "gps_outlier_share" in SyntheticParams().to_dict()
        False
        >>> SyntheticParams(gps_outlier_share=0.1).to_dict()["gps_outlier_share"]
        0.1
        """
        out = dataclasses.asdict(self)
        out["sector_hazard_multiplier"] = list(self.sector_hazard_multiplier)
        for name, default in HARD_KNOB_DEFAULTS.items():
            if out[name] == default:
                del out[name]
        if self.is_easy:
            for name in (*LIVES_FIELDS, "sector_mix_concentration", "census_population"):
                del out[name]
        return out

    @classmethod
    def from_dict(cls, fields: dict[str, Any]) -> "SyntheticParams":
        """The parameters of a manifest (:meth:`to_dict`): a manifest without the lives knobs is an easy region.

        Examples
        --------
        >>> p = SyntheticParams.easy(n_users=20)
        >>> SyntheticParams.from_dict(p.to_dict()) == p, SyntheticParams.from_dict(SyntheticParams().to_dict()).is_easy
        (True, False)
        """
        if not set(LIVES_FIELDS) & set(fields):
            fields = {**{k: v for k, v in EASY_KNOBS.items() if k != "no_job_share"}, **fields}
        return cls(**fields)


#: The fields of issue 14's lives (schedules, places over time, remote work person by person, phones).
_NAMES = [f.name for f in dataclasses.fields(SyntheticParams)]
LIVES_FIELDS = tuple(_NAMES[_NAMES.index("work_campus_radius_m") + 1:])

#: The easy region (before issue 14): every lives knob off and the old share of people without a job.
EASY_KNOBS = {"no_job_share": 0.07, "sector_mix_concentration": 0.0, "census_population": False, "gig_share": 0.0,
              "part_time_share": 0.0, "evening_share": 0.0, "night_share": 0.0, "rotating_share": 0.0,
              "weekend_share": 0.0, "rotating_sites_share": 0.0,
              "student_share": 0.0, "home_cbg_work_share": 0.0, "near_home_work_share": 0.0,
              "home_move_rate_per_year": 0.0, "job_to_job_rate_per_month": 0.0, "rehire_new_workplace_share": 0.0,
              "remote_by_person": False, "sparse_phone_share": 0.0, "phone_churn_share": 0.0,
              "phone_degraded_night_share": 0.0, "phone_degraded_home_share": 0.0}

HARD_KNOB_DEFAULTS = {f.name: f.default for f in dataclasses.fields(SyntheticParams)
                      if f.name in ("shared_venues_per_1000_users", "shared_venue_share", "gps_outlier_share",
                                    "gps_outlier_min_m", "gps_outlier_max_m", "work_campus_radius_m")}
