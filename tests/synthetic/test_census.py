import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.synthetic import load_truth
from mobility.synthetic.census import lodes_columns

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
GROUPS = {"CA": 3, "CE": 3, "CNS": 20, "CR": 6, "CT": 2, "CS": 2}


def _lodes(region, kind):
    return pd.read_csv(region / "census" / "lodes" / f"pa_{kind}_S000_JT00_2019.csv.gz",
                       dtype={"w_geocode": str, "h_geocode": str, "createdate": str})


def test_wac_header_matches_the_real_file():
    real = REAL / "lodes_pa_wac_2015" / "pa_wac_S000_JT00_2015.csv.gz"
    if not real.exists():
        pytest.skip(f"real LODES sample not found at {real}")
    with gzip.open(real, "rt") as fh:
        assert fh.readline().strip().split(",") == lodes_columns("wac")


@pytest.mark.parametrize("kind", ["wac", "rac"])
def test_lodes_invariants_every_row(tiny_region, kind):
    t = _lodes(tiny_region, kind)
    geo = t.columns[0]
    assert geo == ("w_geocode" if kind == "wac" else "h_geocode")
    cbgs = set(pd.read_csv(tiny_region / "census/acs/rawACSdata_race/blockgroup_race_ests.csv")["GEOID"].str[1:])
    assert (t[geo].str.len() == 15).all() and t[geo].str[:12].isin(cbgs).all()
    assert t[geo].str.startswith("42").all()
    for prefix, k in GROUPS.items():
        cols = [c for c in t.columns if c.startswith(prefix) and c[len(prefix):].isdigit()]
        assert len(cols) == k
        assert (t[cols].sum(axis=1) == t["C000"]).all(), prefix
    assert (t[["CD01", "CD02", "CD03", "CD04"]].sum(axis=1) == t["C000"] - t["CA01"]).all()
    if kind == "wac":
        assert (t[[c for c in t.columns if c.startswith("CF")]] == 0).all().all()
    assert (t["C000"] > 0).all()


def test_wac_counts_the_panels_workers_among_the_regions(tiny_region, tiny_params):
    """LODES counts the region's workers: every panel worker's job is in it (per block group and sector, the WAC
    holds at least the panel's), and jobs_per_worker jobs per panel worker in all (the others drawn like them)."""
    people = load_truth(tiny_region)["people"]
    panel = people[people["work_cbg"].notna()]
    wac = _lodes(tiny_region, "wac")
    sectors = [f"CNS{i:02d}" for i in range(1, 21)]
    assert wac["C000"].sum() == tiny_params.jobs_per_worker * len(panel)
    assert (wac[sectors].sum(axis=1) == wac["C000"]).all()
    census = wac.groupby(wac["w_geocode"].str[:12])[sectors].sum()
    own = panel.groupby(["work_cbg", "sector"]).size().unstack(fill_value=0).reindex(columns=sectors, fill_value=0)
    assert (census.reindex(own.index).fillna(0).to_numpy() >= own.to_numpy()).all()
    # the panel is a small part of its block groups' jobs: a twentieth in all, not the whole of them
    assert own.to_numpy().sum() / census.reindex(own.index).to_numpy().sum() < 0.2
    rac = _lodes(tiny_region, "rac")
    assert rac["C000"].sum() == wac["C000"].sum()


def test_acs_tables_layout_and_moes(tiny_region):
    acs = tiny_region / "census" / "acs"
    race = pd.read_csv(acs / "rawACSdata_race/blockgroup_race_ests.csv")
    assert list(race.columns) == ["GEOID", "B03002_001E", "B03002_003E", "B03002_004E", "B03002_012E",
                                  "B03002_006E"]
    assert race["GEOID"].str.match(r"^g42\d{10}$").all()
    for topic, table, n in (("sexage", "B01001", 49), ("income", "B19001", 17), ("education", "B15003", 25)):
        e = pd.read_csv(acs / f"rawACSdata_{topic}/blockgroup_{topic}_ests.csv")
        m = pd.read_csv(acs / f"rawACSdata_{topic}/blockgroup_{topic}_moes.csv")
        assert list(e.columns) == ["GEOID"] + [f"{table}_{k:03d}E" for k in range(1, n + 1)]
        assert list(m.columns) == ["GEOID"] + [f"{table}_{k:03d}M" for k in range(1, n + 1)]
        assert (m.iloc[:, 1:] > 0).all().all() and (e.iloc[:, 1:] >= 0).all().all()
        # parts add up to the total within the summed margins of error
        parts = e.iloc[:, 2:].sum(axis=1) if topic != "sexage" else e[["B01001_002E", "B01001_026E"]].sum(axis=1)
        moe = np.sqrt((m.iloc[:, 1:] ** 2).sum(axis=1))
        assert (np.abs(parts - e.iloc[:, 1]) <= 3 * moe).all()


def test_telework_table_is_dingel_neiman(tiny_region):
    ours = (tiny_region / "census" / "telework" / "NAICS_workfromhome.csv").read_bytes()
    real = REAL / "dingel_neiman_workathome" / "NAICS_workfromhome.csv"
    if not real.exists():
        pytest.skip(f"real Dingel & Neiman table not found at {real}")
    assert ours == real.read_bytes()


def test_a_region_without_workers_gets_empty_lodes_tables(tmp_path):
    """Three people of seed 1, none with a job: the generator wrote nothing and crashed in NumPy's zfill; now
    the WAC and RAC files hold their header and no row."""
    from mobility.synthetic import SyntheticParams, generate_region

    folder = generate_region(tmp_path / "r", SyntheticParams(n_users=3), seed=1)
    assert load_truth(folder)["people"]["work_cbg"].isna().all()
    for kind in ("wac", "rac"):
        path = next((folder / "census" / "lodes").glob(f"*{kind}*"))
        table = pd.read_csv(path)
        assert len(table) == 0 and list(table.columns) == lodes_columns(kind)
