import json

import pytest

from mobility.errors import MobilityError
from mobility.synthetic import SyntheticParams


@pytest.mark.parametrize("bad", [
    {"n_users": 0}, {"n_users": 2.5}, {"no_job_share": 1.5}, {"epr_rho": -0.1}, {"timezone": "Mars/Olympus"},
    {"start": "not a date"}, {"end": "2020-01-03"}, {"shock_date": "2020-03-16 10:00"},
    {"work_arrive_start_h": 10.0, "work_arrive_end_h": 9.0}, {"gps_noise_min_m": 60.0},
    {"sector_hazard_multiplier": (1.0,) * 19}, {"pings_per_hour_median": 100.0},
    {"hazard_peak_date": "2020-03-01"}, {"travel_speed_max_kmh": 5.0}, {"max_cbgs": 10},
    {"outings_jobless_weekday_mean": -0.5},
])
def test_bad_values_raise_naming_the_field(bad):
    with pytest.raises(MobilityError, match=next(iter(bad)).split("_")[0]):
        SyntheticParams(**bad)


def test_defaults_and_manifest_are_json_ready():
    p = SyntheticParams()
    d = p.to_dict()
    assert (d["n_users"], d["start"], d["end"], d["shock_date"]) == (1000, "2020-01-01", "2020-09-30", "2020-03-16")
    assert (d["users_per_part"], d["inject_bad_share"]) == (5000, 0.0)
    assert json.loads(json.dumps(d)) == d
    assert SyntheticParams(sector_hazard_multiplier=[1] * 20).sector_hazard_multiplier == (1.0,) * 20
    with pytest.raises(Exception):
        p.n_users = 3  # frozen
