import hashlib
import json
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.kernels.geo import haversine_m
from mobility.synthetic import SyntheticParams, generate_region, load_truth
from mobility.synthetic import region as region_mod

SMALL = SyntheticParams(n_users=12, start="2020-03-09", end="2020-03-22", users_per_part=5)


def _read_pings(region):
    parts = sorted((region / "pings").glob("part-*.parquet"))
    return [pd.read_parquet(p) for p in parts]


def test_layout_and_manifest(tiny_region, tiny_params):
    manifest = json.loads((tiny_region / "region.json").read_text())
    assert manifest["name"] == "synthetic" and manifest["seed"] == 7
    assert manifest["state_fips"] == "42" and manifest["state_abbr"] == "pa"
    assert manifest["params"] == tiny_params.to_dict()
    assert manifest["timezone"] == "America/New_York"
    assert all(len(c) == 5 and c.startswith("42") for c in manifest["counties"])
    assert len(manifest["counties"]) >= 3
    for rel in ("geography/cbg.geojson", "census/lodes/pa_wac_S000_JT00_2019.csv.gz",
                "census/lodes/pa_rac_S000_JT00_2019.csv.gz", "census/telework/NAICS_workfromhome.csv",
                "census/acs/rawACSdata_race/blockgroup_race_ests.csv",
                "census/acs/rawACSdata_race/blockgroup_race_moes.csv", "truth/effects.json",
                "truth/bad_rows.json", "pings/bad-rows.csv"):
        assert (tiny_region / rel).is_file(), rel
    assert len(list((tiny_region / "pings").glob("part-*.parquet"))) == 3  # 50 users, 20 per part
    assert not [p for p in tiny_region.parent.iterdir() if p.name.startswith(".")]


def test_pings_sorted_utc_inside_bbox_and_users_in_one_part(tiny_region):
    bbox = json.loads((tiny_region / "region.json").read_text())["bbox"]
    seen = set()
    for part in _read_pings(tiny_region):
        assert list(part.columns) == ["user_id", "timestamp", "lat", "lon", "accuracy_m"]
        assert str(part["timestamp"].dtype) == "datetime64[ns, UTC]"
        assert part["lat"].dtype == np.float64 and part["accuracy_m"].dtype == np.float64
        assert part["lat"].between(bbox["min_lat"], bbox["max_lat"]).all()
        assert part["lon"].between(bbox["min_lon"], bbox["max_lon"]).all()
        key = list(zip(part["user_id"], part["timestamp"]))
        assert key == sorted(key) and len(set(key)) == len(key)
        users = set(part["user_id"])
        assert not users & seen
        seen |= users
        assert part["accuracy_m"].between(8.0, 62.5).all()
        assert part["timestamp"].min() >= pd.Timestamp("2020-03-02", tz="America/New_York")
        assert part["timestamp"].max() < pd.Timestamp("2020-03-30", tz="America/New_York")


def test_homes_inside_their_cbg_polygon(tiny_region):
    people = load_truth(tiny_region)["people"]
    cbg = gpd.read_file(tiny_region / "geography" / "cbg.geojson")
    assert cbg.crs.to_epsg() == 4326
    assert list(cbg.columns) == ["GEOID", "COUNTYFP", "TRACTCE", "BLKGRPCE", "geometry"]
    assert (cbg["GEOID"] == "42" + cbg["COUNTYFP"] + cbg["TRACTCE"] + cbg["BLKGRPCE"]).all()
    polys = cbg.set_index("GEOID").geometry
    pts = gpd.points_from_xy(people["home_lon"], people["home_lat"])
    assert all(polys[g].contains(p) for g, p in zip(people["home_cbg"], pts))
    workers = people[people["work_cbg"].notna()]
    pts = gpd.points_from_xy(workers["work_lon"], workers["work_lat"])
    assert all(polys[g].contains(p) for g, p in zip(workers["work_cbg"], pts))
    # the polygons tile the region: no overlaps, union area = sum of areas = bbox area
    proj = cbg.to_crs(32618)
    assert proj.union_all().area == pytest.approx(proj.area.sum(), rel=1e-9)
    assert cbg.union_all().area == pytest.approx(0.2 * 0.3, rel=1e-9)


def test_same_seed_identical_bytes_other_seed_differs(tmp_path):
    a = generate_region(tmp_path / "a", SMALL, seed=3)
    b = generate_region(tmp_path / "b", SMALL, seed=3)
    c = generate_region(tmp_path / "c", SMALL, seed=4)
    for rel in ("pings/part-00000.parquet", "pings/part-00002.parquet", "truth/stops.parquet",
                "truth/people.parquet", "census/lodes/pa_wac_S000_JT00_2019.csv.gz"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    pa_, pc = pd.read_parquet(a / "pings/part-00000.parquet"), pd.read_parquet(c / "pings/part-00000.parquet")
    assert len(pa_) != len(pc) or not np.array_equal(pa_["lat"], pc["lat"])


def test_rerun_is_a_no_op_and_other_params_replace(tmp_path, monkeypatch):
    out = generate_region(tmp_path / "r", SMALL, seed=1)
    stamp = os.stat(out / "region.json").st_mtime_ns

    def boom(*a, **k):
        raise AssertionError("regenerated")

    monkeypatch.setattr(region_mod, "_write_region", boom)
    assert generate_region(tmp_path / "r", SMALL, seed=1) == out
    assert os.stat(out / "region.json").st_mtime_ns == stamp
    monkeypatch.undo()
    generate_region(tmp_path / "r", SMALL, seed=2)
    assert json.loads((out / "region.json").read_text())["seed"] == 2


def test_a_changed_generator_makes_the_region_again(tmp_path, monkeypatch):
    """Same seed and parameters, but the generator's code changed (an upgrade, an edit without a version bump):
    the cached region is made again, not returned stale; the same code again leaves it untouched."""
    out = generate_region(tmp_path / "r", SMALL, seed=1)
    before = json.loads((out / "region.json").read_text())["generator_fingerprint"]
    stamp = os.stat(out / "region.json").st_mtime_ns
    code = dict(region_mod.generator_sources())
    monkeypatch.setattr(region_mod, "generator_sources", lambda: code)
    assert generate_region(tmp_path / "r", SMALL, seed=1) == out
    assert os.stat(out / "region.json").st_mtime_ns == stamp  # the same code: the cache holds
    code["mobility.synthetic.pings"] += "changed"
    generate_region(tmp_path / "r", SMALL, seed=1)
    after = json.loads((out / "region.json").read_text())["generator_fingerprint"]
    assert after != before and os.stat(out / "region.json").st_mtime_ns != stamp


def test_the_generator_code_is_the_modules_it_runs_without_comments_or_docstrings():
    code = region_mod.generator_sources()
    # region.py imports these (pings, daily), daily imports kernels.geo, synthetic.census imports census.lodes
    assert {"mobility.synthetic.region", "mobility.synthetic.pings", "mobility.synthetic.daily",
            "mobility.kernels.geo", "mobility.census.lodes", "mobility.synthetic.params"} <= set(code)
    # neither the region config writer nor the evaluation runs when a region is made; packages' __init__ neither
    assert not {"mobility.synthetic.config", "mobility.synthetic.evaluate", "mobility.employment.params",
                "mobility.synthetic", "mobility"} & set(code)
    text = region_mod._code_text
    assert text("x = 1  # one\n") == text('"""A module."""\n\n\nx = 1\n') == text("x = (\n    1)\n")
    assert text("def f():\n    '''Doc.'''\n    return 1\n") == text("def f():\n    return 1\n")
    assert text("x = 1\n") != text("x = 2\n")


def test_killed_generation_leaves_nothing(tmp_path, monkeypatch):
    def killed(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(region_mod, "sample_pings", killed)
    with pytest.raises(KeyboardInterrupt):
        generate_region(tmp_path / "r", SMALL, seed=1)
    assert list(tmp_path.iterdir()) == []


def test_refuses_foreign_directory_and_bad_seed(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "notes.txt").write_text("mine")
    with pytest.raises(MobilityError, match="not a synthetic region"):
        generate_region(tmp_path / "r", SMALL)
    with pytest.raises(MobilityError, match="seed"):
        generate_region(tmp_path / "s", SMALL, seed=-1)
    with pytest.raises(MobilityError, match="no truth"):
        load_truth(tmp_path / "r")


def test_truth_stops_non_overlapping_and_ping_counts(tiny_region):
    truth = load_truth(tiny_region)
    stops = truth["stops"]
    assert set(stops["kind"]) <= {"home", "work", "other", "school"}
    assert (stops["end"] > stops["start"]).all()
    same = stops["user_id"].to_numpy()[1:] == stops["user_id"].to_numpy()[:-1]
    assert (stops["start"].to_numpy()[1:][same] >= stops["end"].to_numpy()[:-1][same]).all()
    n_pings = sum(len(p) for p in _read_pings(tiny_region))
    assert 0 < stops["n_pings"].sum() <= n_pings
    # recount the pings inside each stop independently
    pings = pd.concat(_read_pings(tiny_region))
    for uid in stops["user_id"].unique()[:5]:
        s = stops[stops["user_id"] == uid]
        t = pings.loc[pings["user_id"] == uid, "timestamp"].to_numpy()
        inside = [((t >= a) & (t <= b)).sum() for a, b in zip(s["start"].dt.floor("s"), s["end"])]
        assert np.all(s["n_pings"].to_numpy() <= np.array(inside))


def test_pings_near_their_stop_place(tiny_region):
    stops = load_truth(tiny_region)["stops"]
    pings = pd.concat(_read_pings(tiny_region))
    long = stops[(stops["end"] - stops["start"]) > pd.Timedelta(hours=2)].head(200)
    from mobility.kernels.geo import haversine_m
    dists = []
    for _, s in long.iterrows():
        p = pings[(pings["user_id"] == s["user_id"]) & (pings["timestamp"] > s["start"] + pd.Timedelta(minutes=1))
                  & (pings["timestamp"] < s["end"] - pd.Timedelta(minutes=1))]
        dists.extend(haversine_m(p["lat"].to_numpy(), p["lon"].to_numpy(), s["lat"], s["lon"]))
    dists = np.array(dists)
    assert len(dists) > 100
    assert 5 < np.median(dists) < 50 and np.quantile(dists, 0.99) < 150


def test_employed_weekday_hours_mostly_at_work_and_none_after_job_loss(tiny_region):
    truth = load_truth(tiny_region)
    people, stops, status = truth["people"], truth["stops"], truth["weekly_status"]
    tz = "America/New_York"
    at_work, total = 0, 0
    # people on a 9-5 weekday schedule at a fixed workplace (the other schedules: test_lives.py)
    day = people.loc[(people["schedule"] == "day") & (people["workplace_kind"] == "fixed"), "user_id"]
    employed = status[(status["status"] == "employed") & status["user_id"].isin(day)]
    for (uid, week), _ in employed.set_index(["user_id", "week"]).iterrows():
        s = stops[(stops["user_id"] == uid) & (stops["kind"] == "work")]
        for day in range(5):
            for hour in (10, 11, 14, 15):
                t = pd.Timestamp(week + pd.Timedelta(days=day, hours=hour)).tz_localize(tz)
                total += 1
                at_work += bool(((s["start"] <= t) & (s["end"] > t)).any())
    assert total > 300 and at_work / total > 0.8
    losers = people[people["job_loss_date"].notna()]
    assert len(losers) >= 3
    for _, p in losers.iterrows():
        s = stops[(stops["user_id"] == p["user_id"]) & (stops["kind"] == "work")]
        local = s["start"].dt.tz_convert(tz).dt.tz_localize(None)
        end = p["rehire_date"] if pd.notna(p["rehire_date"]) else pd.Timestamp.max
        assert not ((local >= p["job_loss_date"]) & (local < end)).any()
    nojob = people.loc[~people["has_job"], "user_id"]
    assert not stops[stops["user_id"].isin(nojob) & (stops["kind"] == "work")].shape[0]


def test_effects_and_bad_rows_manifest(tiny_region, tiny_params):
    truth = load_truth(tiny_region)
    eff = truth["effects"]
    assert eff["params"] == tiny_params.to_dict()
    assert len(eff["weeks"]) == 4 and eff["hazard_shape"][2] == 1.0
    curve = eff["job_loss_effect_by_weeks_since_loss"]["explore"]["normal"]
    assert curve[0] == 0.0 and curve[-1] == pytest.approx(0.5 * (1 - np.exp(-3 / 6)))
    bad = truth["bad_rows"]
    rows = pd.read_csv(tiny_region / "pings" / "bad-rows.csv", dtype=str, keep_default_na=False)
    assert bad["total"] == len(rows) and all(v["count"] >= 1 for v in bad["kinds"].values())


def test_bad_rows_cost_no_memory_beside_the_pings(tmp_path):
    # pipelines/synthetic.toml injects 0.1 % bad rows; making them once turned every good ping into Python
    # strings (6.2 GB peak RSS for the default region instead of 1.3 GB); now they add a few rows' worth
    import tracemalloc

    peaks = []
    for share in (0.0, 0.001):
        params = SyntheticParams(n_users=60, start="2020-03-02", end="2020-03-29", pings_per_hour_median=10.0,
                                 inject_bad_share=share)
        tracemalloc.start()
        try:
            generate_region(tmp_path / f"r{share}", params, seed=1)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert (tmp_path / "r0.001" / "pings" / "bad-rows.csv").is_file()
    assert peaks[1] < 1.25 * peaks[0], peaks


#: The truth columns generator 1.0 wrote (2.0 adds columns to these tables, and the tables daily and places).
GENERATOR_1_0_COLUMNS = {
    "people.parquet": ["user_id", "home_cbg", "home_lat", "home_lon", "work_cbg", "work_lat", "work_lon", "sector",
                       "tau", "goes_remote", "sex", "age_group", "earnings_group", "race", "ethnicity", "education",
                       "vulnerable", "job_loss_date", "rehire_date", "pings_per_hour", "county"],
    "weekly_status.parquet": ["user_id", "week", "status", "weeks_since_job_loss"],
}


def _content_digest(region):
    """SHA-256 over every file generator 1.0 wrote but the GeoJSON: Parquet by its values (independent of the
    writer's version) and, for the truth tables 2.0 widened, 1.0's columns; region.json without
    ``generator_version`` and ``generator_fingerprint``; the rest by its bytes."""
    h = hashlib.sha256()
    for path in sorted(region.rglob("*")):
        if not path.is_file() or path.suffix == ".geojson" or path.name in ("daily.parquet", "places.parquet"):
            continue
        h.update(str(path.relative_to(region)).encode())
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            if path.name in GENERATOR_1_0_COLUMNS:
                frame = frame[GENERATOR_1_0_COLUMNS[path.name]]
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        elif path.name == "region.json":
            manifest = json.loads(path.read_text())
            manifest.pop("generator_version")
            manifest.pop("generator_fingerprint")
            h.update(json.dumps(manifest, sort_keys=True).encode())
        else:
            h.update(path.read_bytes())
    return h.hexdigest()


def test_easy_draws_are_those_of_generator_1_0(tmp_path):
    """The digest was computed with generator 1.0, before the realism knobs (shared venues, GPS outliers, work
    campuses) and the lives of issue 14 existed: an easy region must come out value for value the same (its
    pings, true stops, census tables and the truth columns 1.0 wrote)."""
    params = SyntheticParams.easy(n_users=12, start="2020-03-09", end="2020-03-22", users_per_part=5,
                                  inject_bad_share=0.002)
    region = generate_region(tmp_path / "r", params, seed=5)
    assert _content_digest(region) == "3bdcaf7b85c094bf0412074895d611a827a9b34361a8685fcc8ede2095b1754b"
    assert not (region / "truth" / "venues.parquet").exists() and "venues" not in load_truth(region)


def test_hard_knobs_write_venues_and_people_share_them(tmp_path):
    params = SyntheticParams.easy(n_users=40, start="2020-03-02", end="2020-03-15", users_per_part=20,
                                  shared_venues_per_1000_users=100.0, shared_venue_share=0.5, gps_outlier_share=0.05,
                             work_campus_radius_m=250.0, new_place_min_distance_m=60.0)
    region = generate_region(tmp_path / "r", params, seed=5)
    truth = load_truth(region)
    venues = truth["venues"]
    assert len(venues) == 4 and venues["venue_id"].tolist() == [0, 1, 2, 3]  # 100 per 1,000 people, 40 people
    manifest = json.loads((region / "region.json").read_text())
    assert manifest["params"]["shared_venue_share"] == 0.5 and manifest["params"]["work_campus_radius_m"] == 250.0
    other = truth["stops"][truth["stops"]["kind"] == "other"]
    at_venue = other.merge(venues, on=["lat", "lon"])
    assert at_venue["user_id"].nunique() >= 10 and at_venue.groupby("venue_id")["user_id"].nunique().max() >= 5
    people = truth["people"].set_index("user_id")
    work = truth["stops"][truth["stops"]["kind"] == "work"]
    d = haversine_m(work["lat"].to_numpy(), work["lon"].to_numpy(), people.loc[work["user_id"], "work_lat"].to_numpy(),
                    people.loc[work["user_id"], "work_lon"].to_numpy())
    assert d.max() < 250.1 and np.median(d) > 100.0
