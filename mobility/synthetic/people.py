"""The synthetic population: homes, demographics, jobs, and each person's employment timeline.

Homes follow the block groups' latent population; demographics follow the home block group's mix (a latent
deprivation score per block group shifts race, ethnicity, age and education); earnings follow education and
age; jobs (work block group by a gravity model on job weight and distance, sector by the block group's
sector mix) are what the LODES tables are later built from. Job losses are weekly Bernoulli draws on Mondays
with hazard ``baseline + peak * shape(t) * sector multiplier * group multipliers``; rehiring from
``rehire_start_date`` at ``rehire_hazard_per_week``. A person loses a job at most once.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mobility.kernels.geo import haversine_m
from mobility.synthetic.geography import Geography, sample_in_cbgs
from mobility.synthetic.params import SyntheticParams
from mobility.synthetic.sectors import (
    AGE_GROUPS,
    BASE_SECTOR_SHARE,
    EARNINGS_GROUPS,
    EDUCATION_GROUPS,
    ETHNICITY_GROUPS,
    RACE_GROUPS,
    SECTOR_CENTRALITY,
    SECTORS,
    SEX_GROUPS,
    TELEWORK_TAU,
)

COMMUTE_SCALE_M = 8000.0
MIN_HOME_WORK_M = 300.0


def user_ids(n_users: int) -> np.ndarray:
    """Zero-padded ids that sort lexicographically in generation order.

    Examples
    --------
    >>> user_ids(3).tolist()
    ['u000000', 'u000001', 'u000002']
    """
    width = max(6, len(str(n_users - 1)))
    return np.array([f"u{i:0{width}d}" for i in range(n_users)])


def cbg_mixes(geo: Geography, rng: np.random.Generator, sector_concentration: float = 0.0) -> dict[str, np.ndarray]:
    """Per block group category probabilities (rows sum to 1) for race, ethnicity, age, education, sectors.

    The sector mix is the base mix tilted by centrality (finance and professional services central); with
    ``sector_concentration`` above 0 (``SyntheticParams.sector_mix_concentration``) each block group's mix is then a
    Dirichlet draw around it, so block groups differ in their sectors as much as real ones do (a hospital's block
    group, a mall's, an office park's). The Dirichlet is drawn as normalised gamma variates, after every other
    draw of ``rng``: the other mixes do not change with it.

    Examples
    --------
    >>> from mobility.synthetic.geography import build_geography
    >>> g = build_geography(SyntheticParams(n_users=50), np.random.default_rng(0))
    >>> m = cbg_mixes(g, np.random.default_rng(1))
    >>> m["race"].shape[1], bool(np.allclose(m["sector"].sum(axis=1), 1))
    (6, True)

    Teleworkability varies between block groups about as in the real LODES (sd 0.15, Philadelphia and its two
    western neighbours) with the concentration of the real data, and hardly without it:

    >>> from mobility.synthetic.sectors import TELEWORK_TAU
    >>> spread = lambda c: float((cbg_mixes(g, np.random.default_rng(1), c)["sector"] @ TELEWORK_TAU).std())
    >>> round(spread(0), 2), round(spread(2.8), 2)
    (0.02, 0.15)
    """
    d = geo.cbgs["cbd_m"].to_numpy()
    z = 1 / (1 + np.exp(-(1.2 - d / 4000 + rng.normal(0, 0.8, len(d)))))  # latent deprivation in (0, 1)
    race = np.stack([np.zeros_like(z), 0.04 + 0.55 * z, np.full_like(z, 0.003), 0.07 - 0.04 * z,
                     np.full_like(z, 0.001), np.full_like(z, 0.015)], axis=1)
    race[:, 0] = 1 - race[:, 1:].sum(axis=1)
    hisp = 0.03 + 0.12 * z
    ethnicity = np.stack([1 - hisp, hisp], axis=1)
    age = np.stack([0.20 + 0.08 * z, 0.55 - 0.03 * z, 0.25 - 0.05 * z], axis=1)
    edu = np.stack([0.04 + 0.14 * z, 0.18 + 0.16 * z, 0.30 + 0.0 * z, 0.48 - 0.30 * z], axis=1)
    centrality = np.exp(-d / 3000)
    sector = BASE_SECTOR_SHARE[None, :] * np.exp(SECTOR_CENTRALITY[None, :] * centrality[:, None])
    norm = lambda a: a / a.sum(axis=1, keepdims=True)
    if sector_concentration > 0:
        sector = rng.gamma(sector_concentration * norm(sector))
    return {"deprivation": z, "race": norm(race), "ethnicity": ethnicity, "age": norm(age),
            "education": norm(edu), "sector": norm(sector)}


def _categorical_rows(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row of ``probs`` (n, k), vectorised inverse-CDF draw."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), probs.shape[1] - 1)


def draw_people(params: SyntheticParams, geo: Geography, mixes: dict[str, np.ndarray],
                rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``params.n_users`` people with homes, demographics, jobs and employment dates.

    Returns the ``truth/people.parquet`` table (see ``data/synthetic/README.md``).

    Examples
    --------
    >>> from mobility.synthetic.geography import build_geography
    >>> p = SyntheticParams(n_users=50, end="2020-01-28")
    >>> g = build_geography(p, np.random.default_rng(0))
    >>> people = draw_people(p, g, cbg_mixes(g, np.random.default_rng(1)), np.random.default_rng(2))
    >>> len(people), people["user_id"].iloc[0], people["home_cbg"].str.len().unique().tolist()
    (50, 'u000000', [12])
    """
    n = params.n_users
    cbgs = geo.cbgs
    pop = cbgs["population"].to_numpy(float)
    home = rng.choice(len(cbgs), size=n, p=pop / pop.sum())
    home_lat, home_lon = sample_in_cbgs(geo, home, rng)
    race = _categorical_rows(mixes["race"][home], rng)
    ethnicity = _categorical_rows(mixes["ethnicity"][home], rng)
    age = _categorical_rows(mixes["age"][home], rng)
    edu = _categorical_rows(mixes["education"][home], rng)
    sex = (rng.random(n) >= params.male_share).astype(int)
    score = edu + (age >= 1) * 1.2 + rng.normal(0, 0.9, n)
    earnings = np.digitize(score, [1.4, 2.9])
    has_job = rng.random(n) >= params.no_job_share
    # jobs: work CBG by gravity from the home CBG, sector by the work CBG's mix
    clat, clon = cbgs["lat"].to_numpy(), cbgs["lon"].to_numpy()
    dist = haversine_m(clat[:, None], clon[:, None], clat[None, :], clon[None, :])
    gravity = cbgs["jobs_weight"].to_numpy()[None, :] * np.exp(-dist / COMMUTE_SCALE_M)
    work = np.full(n, -1)
    for h in np.unique(home[has_job]):  # loop over block groups, not people
        who = np.flatnonzero(has_job & (home == h))
        work[who] = rng.choice(len(cbgs), size=len(who), p=gravity[h] / gravity[h].sum())
    sector = np.full(n, -1)
    sector[has_job] = _categorical_rows(mixes["sector"][work[has_job]], rng)
    work_lat = np.full(n, np.nan)
    work_lon = np.full(n, np.nan)
    todo = np.flatnonzero(has_job)
    for _ in range(20):  # resample workplaces too close to home
        if len(todo) == 0:
            break
        work_lat[todo], work_lon[todo] = sample_in_cbgs(geo, work[todo], rng)
        close = haversine_m(home_lat[todo], home_lon[todo], work_lat[todo], work_lon[todo]) < MIN_HOME_WORK_M
        todo = todo[close]
    tau = np.where(has_job, TELEWORK_TAU[np.maximum(sector, 0)], np.nan)
    goes_remote = has_job & (rng.random(n) < np.clip(params.remote_adoption_slope * np.nan_to_num(tau), 0, 1))
    minority = (race != 0) | (ethnicity == 1)
    vulnerable = (earnings == 0) | ((age == 0) & minority)
    group_mult = (np.where(earnings == 0, params.low_earnings_hazard_multiplier, 1.0)
                  * np.where(age == 0, params.young_hazard_multiplier, 1.0)
                  * np.where(minority, params.minority_hazard_multiplier, 1.0))
    loss, rehire = _employment_dates(params, has_job, sector, group_mult, rng)
    rate = np.clip(rng.lognormal(np.log(params.pings_per_hour_median), params.pings_per_hour_sigma, n),
                   params.pings_per_hour_min, params.pings_per_hour_max)
    geoid = cbgs["GEOID"].to_numpy()
    cat = lambda names, idx: pd.array(np.asarray(names, dtype=object)[idx], dtype="string")
    return pd.DataFrame({
        "user_id": pd.array(user_ids(n), dtype="string"),
        "home_cbg": pd.array(geoid[home], dtype="string"),
        "home_lat": home_lat, "home_lon": home_lon,
        "work_cbg": pd.array(np.where(has_job, geoid[np.maximum(work, 0)], None), dtype="string"),
        "work_lat": work_lat, "work_lon": work_lon,
        "sector": pd.array(np.where(has_job, np.asarray(SECTORS, dtype=object)[np.maximum(sector, 0)], None),
                           dtype="string"),
        "tau": tau, "goes_remote": goes_remote,
        "sex": cat(SEX_GROUPS, sex), "age_group": cat(AGE_GROUPS, age),
        "earnings_group": cat(EARNINGS_GROUPS, earnings), "race": cat(RACE_GROUPS, race),
        "ethnicity": cat(ETHNICITY_GROUPS, ethnicity), "education": cat(EDUCATION_GROUPS, edu),
        "vulnerable": vulnerable, "job_loss_date": loss, "rehire_date": rehire,
        "pings_per_hour": rate,
        "county": pd.array(np.asarray([g[:5] for g in geoid])[home], dtype="string"),
    })


LODES_PERSON_COLUMNS = ["work_cbg", "home_cbg", "age_group", "earnings_group", "sector", "race", "ethnicity",
                        "education", "sex"]


def census_workers(params: SyntheticParams, geo: Geography, mixes: dict[str, np.ndarray], people: pd.DataFrame,
                   rng: np.random.Generator) -> pd.DataFrame:
    """The workers LODES counts: the panel's workers and ``jobs_per_worker - 1`` times as many others of the region,
    drawn like the panel's people (:func:`draw_people`), one job each.

    The census counts the population, of which a phone panel is a small sample: in the real WAC of the region's
    three counties a block group holds a median of 141 jobs, so a person's own job is under 1 % of the sector mix
    that gives them their teleworkability. Counting the panel's workers alone (``jobs_per_worker`` jobs each, as
    generators 1.0 and 2.0 did) makes a worker's own sector a third of their block group's mix in a 1,000-person
    region, so the block group's teleworkability tells about the person far more than real data can.

    Examples
    --------
    >>> from mobility.synthetic.geography import build_geography
    >>> p = SyntheticParams(n_users=60, end="2020-01-28", jobs_per_worker=5)
    >>> g = build_geography(p, np.random.default_rng(0))
    >>> m = cbg_mixes(g, np.random.default_rng(1))
    >>> people = draw_people(p, g, m, np.random.default_rng(2))
    >>> w = census_workers(p, g, m, people, np.random.default_rng(3))
    >>> bool(len(w) == 5 * people["work_cbg"].notna().sum()), bool(w["work_cbg"].notna().all())
    (True, True)
    >>> list(w.columns) == LODES_PERSON_COLUMNS
    True
    """
    panel = people.loc[people["work_cbg"].notna(), LODES_PERSON_COLUMNS]
    need = (params.jobs_per_worker - 1) * len(panel)
    others = []
    while need > 0:
        draw = int(need / max(1.0 - params.no_job_share, 0.05) * 1.1) + 20
        more = draw_people(dataclasses.replace(params, n_users=draw), geo, mixes, rng)
        more = more.loc[more["work_cbg"].notna(), LODES_PERSON_COLUMNS].iloc[:need]
        others.append(more)
        need -= len(more)
    return pd.concat([panel, *others], ignore_index=True)


def week_mondays(params: SyntheticParams) -> pd.DatetimeIndex:
    """Mondays (naive, local calendar) of every week overlapping ``[start, end]``.

    Examples
    --------
    >>> week_mondays(SyntheticParams(start="2020-01-01", end="2020-01-13"))[[0, -1]].strftime("%m-%d").tolist()
    ['12-30', '01-13']
    """
    start, end = pd.Timestamp(params.start), pd.Timestamp(params.end)
    return pd.date_range(start - pd.Timedelta(days=start.weekday()), end, freq="7D")


def hazard_shape(params: SyntheticParams, mondays: pd.DatetimeIndex) -> np.ndarray:
    """The shock's hazard profile in [0, 1] per week: 0 before ``shock_date``, a linear rise to 1 at
    ``hazard_peak_date`` (the shock week already at 1/(weeks to peak + 1)), then ``exp(-weeks_after_peak / hazard_decay_weeks)``.

    Examples
    --------
    >>> p = SyntheticParams(shock_date="2020-03-16", hazard_peak_date="2020-03-30", hazard_decay_weeks=1.0)
    >>> hazard_shape(p, pd.DatetimeIndex(["2020-03-09", "2020-03-23", "2020-03-30", "2020-04-06"])).round(3).tolist()
    [0.0, 0.667, 1.0, 0.368]
    """
    shock, peak = pd.Timestamp(params.shock_date), pd.Timestamp(params.hazard_peak_date)
    t = np.asarray((mondays - shock) / pd.Timedelta(days=7), dtype=float)
    tp = (peak - shock) / pd.Timedelta(days=7)
    rise = np.where(tp > 0, (t + 1) / (tp + 1), 1.0)
    shape = np.where(t < tp, rise, np.exp(-(t - tp) / params.hazard_decay_weeks))
    return np.where(t < 0, 0.0, np.clip(shape, 0, 1))


def _employment_dates(params, has_job, sector, group_mult, rng):
    mondays = week_mondays(params)
    start, end = pd.Timestamp(params.start), pd.Timestamp(params.end)
    shape = hazard_shape(params, mondays)
    sector_mult = np.asarray(params.sector_hazard_multiplier)[np.maximum(sector, 0)]
    rehire_start = pd.Timestamp(params.rehire_start_date)
    n = len(has_job)
    loss_week = np.full(n, -1)
    rehire_week = np.full(n, -1)
    for w, monday in enumerate(mondays):  # loop over weeks, vectorised over people
        if monday <= start or monday > end:
            continue
        at_risk = has_job & (loss_week < 0)
        h = params.baseline_job_loss_hazard_per_week + params.peak_job_loss_hazard_per_week * shape[w] \
            * sector_mult * group_mult
        lost = at_risk & (rng.random(n) < np.clip(h, 0, 1))
        loss_week[lost] = w
        if monday >= rehire_start:
            unemployed = (loss_week >= 0) & (loss_week < w) & (rehire_week < 0)
            rehire_week[unemployed & (rng.random(n) < params.rehire_hazard_per_week)] = w
    to_date = lambda wk: pd.DatetimeIndex(
        np.where(wk >= 0, mondays.values[np.maximum(wk, 0)], np.datetime64("NaT")), dtype="datetime64[ns]")
    return to_date(loss_week), to_date(rehire_week)
