import numpy as np
import shapely

from mobility.synthetic import SyntheticParams
from mobility.synthetic.geography import build_geography, cbg_polygons
from mobility.synthetic.venues import draw_venues, n_venues_for


def test_venue_count_per_1000_people_by_hand():
    count = lambda users, per: n_venues_for(SyntheticParams(n_users=users, shared_venues_per_1000_users=per))
    assert count(1000, 0.0) == 0
    assert count(1000, 50.0) == 50
    assert count(2500, 50.0) == 125  # 50 * 2.5
    assert count(30, 10.0) == 1  # 0.3 rounds to 0, but a region with the knob on has at least one venue


def test_venues_lie_in_their_block_group_and_follow_the_jobs():
    p = SyntheticParams(n_users=1000, shared_venues_per_1000_users=2000.0)  # 2,000 venues: shares are stable
    geo = build_geography(p, np.random.default_rng(0))
    v = draw_venues(p, geo, np.random.default_rng(1))
    assert len(v) == 2000 and (v.weight > 0).all()
    polys = cbg_polygons(geo).set_index("GEOID").geometry
    assert shapely.contains_xy(polys.loc[v.cbg].to_numpy(), v.lon, v.lat).all()
    # the block group of a venue is drawn with probability jobs_weight / sum(jobs_weight)
    jobs = geo.cbgs.set_index("GEOID")["jobs_weight"]
    top = jobs.nlargest(len(jobs) // 10).index  # the 10 % of block groups with the most jobs
    expected = jobs[top].sum() / jobs.sum()
    observed = np.isin(v.cbg, top).mean()
    assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / len(v))
    frame = v.to_frame()
    assert list(frame.columns) == ["venue_id", "lat", "lon", "weight", "cbg"]
    assert frame["venue_id"].tolist() == list(range(2000))
