import json
import tomllib
from pathlib import Path

import pytest

from mobility.errors import MobilityError
from mobility.synthetic import SyntheticParams
from mobility.synthetic.params import HARD_KNOB_DEFAULTS

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


@pytest.mark.parametrize("bad", [
    {"n_users": 0}, {"n_users": 2.5}, {"no_job_share": 1.5}, {"epr_rho": -0.1}, {"timezone": "Mars/Olympus"},
    {"start": "not a date"}, {"end": "2020-01-03"}, {"shock_date": "2020-03-16 10:00"},
    {"work_arrive_start_h": 10.0, "work_arrive_end_h": 9.0}, {"gps_noise_min_m": 60.0},
    {"sector_hazard_multiplier": (1.0,) * 19}, {"pings_per_hour_median": 100.0},
    {"hazard_peak_date": "2020-03-01"}, {"travel_speed_max_kmh": 5.0}, {"max_cbgs": 10},
    {"outings_jobless_weekday_mean": -0.5},
    {"shared_venue_share": 1.5}, {"shared_venues_per_1000_users": -1.0}, {"shared_venue_share": 0.3},
    {"gps_outlier_share": -0.1}, {"gps_outlier_min_m": 350.0}, {"gps_outlier_max_m": 500.0},
    {"gps_outlier_min_m": float("nan")}, {"work_campus_radius_m": -5.0}, {"work_campus_radius_m": 5000.0},
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


def test_realism_knobs_are_off_by_default_and_left_out_of_the_manifest_until_set():
    d = SyntheticParams().to_dict()
    assert set(HARD_KNOB_DEFAULTS) == {"shared_venues_per_1000_users", "shared_venue_share", "gps_outlier_share",
                                       "gps_outlier_min_m", "gps_outlier_max_m", "work_campus_radius_m"}
    assert not set(HARD_KNOB_DEFAULTS) & set(d)  # a default region's manifest is the one written before them
    assert (HARD_KNOB_DEFAULTS["shared_venue_share"], HARD_KNOB_DEFAULTS["gps_outlier_share"],
            HARD_KNOB_DEFAULTS["work_campus_radius_m"]) == (0.0, 0.0, 0.0)
    on = SyntheticParams(shared_venues_per_1000_users=50.0, shared_venue_share=0.5, work_campus_radius_m=250.0,
                         gps_outlier_share=0.05).to_dict()
    assert (on["shared_venues_per_1000_users"], on["shared_venue_share"], on["work_campus_radius_m"],
            on["gps_outlier_share"]) == (50.0, 0.5, 250.0, 0.05)
    assert "gps_outlier_max_m" not in on  # still at its default
    assert json.loads(json.dumps(on)) == on


def test_hard_config_is_the_default_config_plus_the_knobs():
    easy = tomllib.loads((PIPELINES / "synthetic.toml").read_text())
    hard = tomllib.loads((PIPELINES / "synthetic_hard.toml").read_text())
    assert hard["region"] == dict(easy["region"], name="synthetic_hard")
    assert hard["synthetic"]["dir"] == "../data/synthetic/_cache/region_hard"
    for table in set(easy) | set(hard):
        if table not in ("region", "synthetic"):
            assert hard.get(table) == easy.get(table), table
    knobs = {k: v for k, v in hard["synthetic"].items() if easy["synthetic"].get(k) != v and k != "dir"}
    assert knobs == {"shared_venues_per_1000_users": 50.0, "shared_venue_share": 0.5,
                     "new_place_min_distance_m": 60.0, "gps_outlier_share": 0.05, "gps_outlier_min_m": 100.0,
                     "gps_outlier_max_m": 300.0, "work_campus_radius_m": 250.0, "pings_per_hour_median": 0.5}
    spec = {k: v for k, v in hard["synthetic"].items() if k not in ("dir", "seed")}
    params = SyntheticParams(**spec)  # every field is a SyntheticParams field with a valid value
    assert params.new_place_min_distance_m == 60.0 and params.gps_outlier_share == 0.05


def test_easy_config_is_the_default_config_with_the_lives_off():
    from mobility.synthetic.params import EASY_KNOBS, LIVES_FIELDS

    default = tomllib.loads((PIPELINES / "synthetic.toml").read_text())
    easy = tomllib.loads((PIPELINES / "synthetic_easy.toml").read_text())
    assert easy["region"] == dict(default["region"], name="synthetic_easy")
    for table in set(default) | set(easy):
        if table not in ("region", "synthetic"):
            assert easy.get(table) == default.get(table), table
    knobs = {k: v for k, v in easy["synthetic"].items() if default["synthetic"].get(k) != v and k != "dir"}
    assert knobs == EASY_KNOBS
    params = SyntheticParams(**{k: v for k, v in easy["synthetic"].items() if k not in ("dir", "seed")})
    assert params.is_easy and not SyntheticParams().is_easy
    # an easy manifest leaves the lives knobs out (the manifest generator 1.0 wrote) and reads back as easy
    assert not set(LIVES_FIELDS) & set(params.to_dict())
    assert SyntheticParams.from_dict(params.to_dict()) == params
    assert SyntheticParams.from_dict(SyntheticParams().to_dict()) == SyntheticParams()


@pytest.mark.parametrize("bad", [
    {"gig_share": 0.6, "part_time_share": 0.5}, {"night_share": 0.6, "weekend_share": 0.5},
    {"near_home_min_m": 500.0}, {"site_weeks_min": 0}, {"site_weeks_max": 1}, {"hybrid_onsite_days_max": 5},
    {"remote_by_person": 1}, {"sparse_phone_share": 0.9, "phone_churn_share": 0.2}, {"remote_return_start_date": "x"},
    {"sparse_pings_per_hour_median": 5.0}, {"max_places_per_user": 600}, {"remote_delay_mean_days": -1.0},
])
def test_bad_lives_values_raise_naming_the_field(bad):
    with pytest.raises(MobilityError, match=r"SyntheticParams: \w+="):
        SyntheticParams(**bad)
