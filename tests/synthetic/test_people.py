import numpy as np
import pandas as pd

from mobility.synthetic import SyntheticParams
from mobility.synthetic.geography import build_geography
from mobility.synthetic.people import (
    cbg_mixes,
    draw_people,
    hazard_shape,
    user_ids,
    week_mondays,
)
from mobility.synthetic.sectors import TELEWORK_TAU

P = SyntheticParams(n_users=3000, end="2020-06-30", peak_job_loss_hazard_per_week=0.03)


def _people():
    g = build_geography(P, np.random.default_rng(0))
    return draw_people(P, g, cbg_mixes(g, np.random.default_rng(1)), np.random.default_rng(2))


def test_people_table_contract_and_plausible_shares():
    people = _people()
    assert people["user_id"].tolist() == sorted(people["user_id"]) == user_ids(3000).tolist()
    no_job = people["work_cbg"].isna()
    sd = np.sqrt(P.no_job_share * (1 - P.no_job_share) / len(people))
    assert abs(no_job.mean() - P.no_job_share) < 4 * sd  # the share the params say (0.33), within sampling error
    assert people.loc[no_job, ["sector", "job_loss_date"]].isna().all().all()
    assert people.loc[~no_job, "sector"].str.match(r"^CNS\d\d$").all()
    assert np.allclose(people.loc[~no_job, "tau"], TELEWORK_TAU[people.loc[~no_job, "sector"].str[3:].astype(int) - 1])
    assert not people.loc[no_job, "goes_remote"].any()
    assert people["county"].tolist() == people["home_cbg"].str[:5].tolist()
    assert people["pings_per_hour"].between(P.pings_per_hour_min, P.pings_per_hour_max).all()


def test_job_losses_follow_sector_hazard_and_dates_are_mondays():
    people = _people()
    loss = people["job_loss_date"].dropna()
    assert (loss.dt.day_of_week == 0).all() and loss.min() > pd.Timestamp(P.start)
    rehire = people.dropna(subset=["rehire_date"])
    assert (rehire["rehire_date"] > rehire["job_loss_date"]).all()
    assert (rehire["rehire_date"] >= pd.Timestamp(P.rehire_start_date)).all()
    rate = people.groupby("sector")["job_loss_date"].apply(lambda s: s.notna().mean())
    assert rate["CNS18"] > 2 * rate[["CNS10", "CNS12", "CNS20"]].mean()
    # most losses within 8 weeks after the shock
    shock = pd.Timestamp(P.shock_date)
    assert ((loss >= shock) & (loss < shock + pd.Timedelta(weeks=8))).mean() > 0.6
    # vulnerable people lose jobs more often
    has = people["work_cbg"].notna()
    v = people[has].groupby("vulnerable")["job_loss_date"].apply(lambda s: s.notna().mean())
    assert v[True] > v[False]
    # remote work follows teleworkability
    r = people[has].groupby(people["tau"] > 0.6)["goes_remote"].mean()
    assert r[True] > 0.6 > 0.3 > r[False]


def test_block_groups_differ_in_sectors_as_real_ones_do():
    """Teleworkability of the work block group (the mean tau of its workers' sectors) varies between block groups
    as in the real LODES WAC 2015 of the three counties (worker-weighted sd 0.154; 32 % of a person's tau
    variance between block groups), and hardly at all with the concentration off (generators 1 and 2)."""
    g = build_geography(P, np.random.default_rng(0))
    for concentration, sd_range, between_range in [(2.8, (0.12, 0.19), (0.18, 0.40)), (0.0, (0.0, 0.06), (0.0, 0.05))]:
        mixes = cbg_mixes(g, np.random.default_rng(1), concentration)
        people = draw_people(P, g, mixes, np.random.default_rng(2)).dropna(subset=["work_cbg"])
        x_cbg = pd.Series(mixes["sector"] @ TELEWORK_TAU, index=g.cbgs["GEOID"].to_numpy())
        x = x_cbg.loc[people["work_cbg"]].to_numpy()  # each worker's block-group mean, weighted by workers
        assert sd_range[0] < x.std() < sd_range[1], (concentration, x.std())
        tau = people["tau"].to_numpy()
        between = 1 - np.mean((tau - x) ** 2) / tau.var()  # share of tau's variance the block group explains
        assert between_range[0] < between < between_range[1], (concentration, between)


def test_hazard_shape_by_hand():
    p = SyntheticParams(shock_date="2020-03-16", hazard_peak_date="2020-04-06", hazard_decay_weeks=2.0)
    weeks = week_mondays(p)
    shape = pd.Series(hazard_shape(p, weeks), index=weeks)
    assert shape[:"2020-03-09"].eq(0).all()
    assert shape["2020-03-16"] == 0.25 and shape["2020-04-06"] == 1.0
    assert np.isclose(shape["2020-04-20"], np.exp(-1.0))
