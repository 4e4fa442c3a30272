"""The synthetic region's census tables through the same readers, and features against its truth."""

from __future__ import annotations

import numpy as np
import pytest

from mobility.census.acs import acs_shares, read_acs
from mobility.census.features import feature_columns, home_features, work_features
from mobility.census.geometry import assign_points, read_geometry
from mobility.census.groups import assign_groups
from mobility.census.lodes import SECTORS, aggregate_lodes, read_lodes
from mobility.census.telework import read_teleworkability

synthetic = pytest.importorskip("mobility.synthetic.region", reason="mobility.synthetic not available")


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from mobility.synthetic.params import SyntheticParams

    root = synthetic.generate_region(tmp_path_factory.mktemp("synth") / "r",
                                     SyntheticParams(n_users=400, end="2020-01-07"), seed=11)
    return root, synthetic.load_truth(root)["people"]


def test_every_synthetic_table_reads(region):
    root, people = region
    wac = read_lodes(root / "census" / "lodes" / "pa_wac_S000_JT00_2019.csv.gz")
    rac = read_lodes(root / "census" / "lodes" / "pa_rac_S000_JT00_2019.csv.gz")
    assert (wac.attrs["kind"], rac.attrs["kind"]) == ("wac", "rac")
    workers = people["work_cbg"].notna().sum()
    assert wac["C000"].sum() == rac["C000"].sum() == workers * (wac["C000"].sum() // workers)
    tau = read_teleworkability(root / "census" / "telework" / "NAICS_workfromhome.csv")
    assert tau["CNS18"] == pytest.approx(0.035365932)
    geo = read_geometry(root / "geography" / "cbg.geojson")
    assert geo.attrs["level"] == "cbg"
    # people's true home coordinates fall in their true home CBG
    got = assign_points(people["home_lat"], people["home_lon"], geo)
    assert (got.to_numpy() == people["home_cbg"].to_numpy()).mean() > 0.99
    for topic in ("race", "sexage", "income", "education"):
        d = root / "census" / "acs" / f"rawACSdata_{topic}"
        acs = read_acs(d / f"blockgroup_{topic}_ests.csv", d / f"blockgroup_{topic}_moes.csv")
        assert acs.attrs["level"] == "cbg" and set(acs["GEOID"]) == set(geo["GEOID"])


def test_sector_probabilities_recover_the_true_sector_mix(region):
    root, people = region
    wac = aggregate_lodes(read_lodes(root / "census" / "lodes" / "pa_wac_S000_JT00_2019.csv.gz"), "cbg")
    tau = read_teleworkability(root / "census" / "telework" / "NAICS_workfromhome.csv")
    workers = people[people["work_cbg"].notna()]
    f = work_features(workers[["user_id", "work_cbg"]], wac, tau)
    assert f.attrs["n_cbg_not_in_census"] == 0
    w = f[feature_columns("sector")].to_numpy()
    truth = workers["sector"].value_counts(normalize=True).reindex(list(SECTORS), fill_value=0).to_numpy()
    # WAC counts the region's workers, of which these are a sample (a twentieth): the mean of w_us is the panel's
    # true mix up to the panel's own sampling error around its block groups' mixes
    expected = w.mean(axis=0)
    se = np.sqrt(expected * (1 - expected) / len(w))
    assert np.all(np.abs(expected - truth) <= 4 * se + 1e-9)
    # each person's probabilities favour their own sector over a random draw from the region (block groups differ
    # in their sectors, as real ones do), though their own job is only a small part of the counts
    own = w[np.arange(len(w)), [SECTORS.index(s) for s in workers["sector"]]]
    assert own.mean() > 1.2 * (truth**2).sum()
    # teleworkability of the people equals that of the true mix, up to the same sampling error
    tau_people = truth @ tau.to_numpy()
    tau_sd = np.sqrt(truth @ (tau.to_numpy() - tau_people) ** 2)
    assert f["telework"].mean() == pytest.approx(float(tau_people), abs=4 * tau_sd / np.sqrt(len(f)))
    # block groups do not differ in the sex of their workers: the modal sex of the work CBG is a coin toss
    sex = assign_groups(f, "sex")["sex"]
    agree = (sex.to_numpy() == workers["sex"].map({"CS01": "male", "CS02": "female"}).to_numpy()).mean()
    assert 0.4 < agree < 0.6


def test_home_features_from_synthetic_rac_and_acs(region):
    root, people = region
    rac = aggregate_lodes(read_lodes(root / "census" / "lodes" / "pa_rac_S000_JT00_2019.csv.gz"), "cbg")
    d = root / "census" / "acs" / "rawACSdata_education"
    edu = read_acs(d / "blockgroup_education_ests.csv", d / "blockgroup_education_moes.csv")
    ba = acs_shares(edu, {"ba_plus": [f"B15003_{k:03d}" for k in range(22, 26)]}, "B15003_001")
    h = home_features(people[["user_id", "home_cbg"]], rac, acs=ba)
    assert h["home_acs_ba_plus"].between(0, 1).all() and (h["home_acs_ba_plus_moe"] > 0).all()
    assert h.attrs["n_cbg_not_in_acs"] == 0
    # every home CBG with a resident worker is in the RAC
    with_worker = people["work_cbg"].notna().to_numpy()
    assert h.loc[with_worker, "home_w_CNS01"].notna().all()
    assert not {"home_lat", "home_lon", "work_lat", "work_lon"} & set(h.columns)
