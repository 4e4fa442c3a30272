import numpy as np
import shapely

from mobility.synthetic import SyntheticParams
from mobility.synthetic.geography import (
    BBOX,
    build_geography,
    cbg_polygons,
    n_cbgs_for,
    sample_in_cbgs,
)


def test_cbg_count_scales_with_users_and_ids_are_consistent():
    assert n_cbgs_for(SyntheticParams(n_users=50)) == 60
    assert n_cbgs_for(SyntheticParams(n_users=1000)) == 200
    assert n_cbgs_for(SyntheticParams(n_users=100_000)) == 400
    g = build_geography(SyntheticParams(n_users=1000), np.random.default_rng(0))
    c = g.cbgs
    assert 200 <= len(c) <= 220 and c["GEOID"].is_unique
    assert (c["GEOID"] == "42" + c["COUNTYFP"] + c["TRACTCE"] + c["BLKGRPCE"]).all()
    assert set(c["COUNTYFP"]) == {"101", "045", "091"}
    assert c["BLKGRPCE"].isin(["1", "2", "3"]).all() and (c["TRACTCE"].str.len() == 6).all()
    # jobs concentrate at the CBD, residents do not
    near = c["cbd_m"] < 3000
    assert c.loc[near, "jobs_weight"].mean() > 3 * c.loc[~near, "jobs_weight"].mean()


def test_sampled_points_fall_inside_their_polygon():
    g = build_geography(SyntheticParams(n_users=50), np.random.default_rng(1))
    idx = np.repeat(np.arange(len(g.cbgs)), 20)
    lat, lon = sample_in_cbgs(g, idx, np.random.default_rng(2))
    polys = cbg_polygons(g).geometry.to_numpy()[idx]
    assert shapely.contains_xy(polys, lon, lat).all()
    assert lat.min() > BBOX["min_lat"] and lon.max() < BBOX["max_lon"]
