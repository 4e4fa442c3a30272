"""A region with pings only (GeoLife, Beijing): the run stops after the metrics, says which stages it did not
run and which inputs each needs, and keeps home and work as location ids."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mobility
from mobility.pipeline import load_config, skipped_stages, stages_for

ROOT = Path(__file__).resolve().parents[2]
GEOLIFE = ROOT.parent / "shared" / "data" / "real" / "geolife_skmob" / "geolife_sample.txt.gz"
CONFIG = ROOT / "pipelines" / "geolife.toml"

pytestmark = pytest.mark.real


def test_pings_only_region_runs_to_the_metrics_and_names_what_the_rest_needs():
    config = load_config(CONFIG)
    assert [s.name for s in stages_for(config)] == ["load", "validate", "stops", "locations", "home_work", "metrics"]
    skipped = skipped_stages(config)
    assert list(skipped) == ["census", "employment", "longitudinal", "validation", "report"]
    assert "cbg (block-group polygons)" in skipped["census"] and "lodes_wac" in skipped["census"]
    assert "telework" in skipped["employment"] and "telework" not in skipped["census"]


@pytest.mark.skipif(not GEOLIFE.is_file(), reason=f"GeoLife sample absent ({GEOLIFE}); it lives in ../shared/data/real")
def test_geolife_end_to_end(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "mobility.pipeline", "--region", str(CONFIG), "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    log = proc.stderr
    assert "census       not run: it needs [inputs] cbg (block-group polygons) and lodes_wac" in log
    assert "not run for this region: census, employment, longitudinal, validation, report" in log
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["stage_order"][-1] == "metrics" and set(manifest["skipped_stages"]) >= {"census", "report"}
    assert "location ids" in manifest["stages"]["home_work"]["cbg"]
    labels = mobility.read_table(out, "home_work_daily")
    assert labels["home_cbg"].isna().all() and labels["work_cbg"].isna().all()       # no polygons: no CBGs
    homes = labels.dropna(subset=["home_location_id"])
    assert set(homes["user_id"]) == {"005"} and len(homes) >= 10                     # home as a location id
    visits = mobility.read_table(out, "visits")
    assert set(homes["home_location_id"]) <= set(visits.loc[visits["user_id"] == "005", "location_id"])
    weekly = mobility.read_table(out, "metrics_weekly")
    assert set(weekly["user_id"]) == {"001", "005"}
    assert weekly["radius_of_gyration_km"].notna().sum() >= 20
    assert weekly.loc[weekly["user_id"] == "005", "time_at_home_h"].gt(0).any()     # home labels reach metrics


def test_pings_and_polygons_run_home_work_as_block_groups_and_name_the_census_files(tmp_path):
    path = tmp_path / "polygons.toml"
    path.write_text('[region]\nname = "p"\n[inputs]\npings = ["p.csv"]\ncbg = "cbg.geojson"\n')
    config = load_config(path)
    assert [s.name for s in stages_for(config)][-1] == "metrics"
    skipped = skipped_stages(config)
    assert skipped["census"] == "needs [inputs] lodes_wac (LODES WAC workplace counts)"
    assert "cbg" not in skipped["employment"] and "telework" in skipped["employment"]


def test_asking_for_a_stage_the_region_cannot_run_says_what_it_needs():
    from mobility.errors import MobilityError
    from mobility.pipeline import run

    with pytest.raises(MobilityError, match=r"--until employment: this region does not run employment, which needs "
                                            r"\[inputs\] cbg"):
        run(str(CONFIG), "/nonexistent/out", until="employment", progress=False)
