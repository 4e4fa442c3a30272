"""Per-person census features from the work CBG (WAC) and home CBG (RAC, ACS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.census.features import (
    cbg_probabilities,
    feature_columns,
    home_features,
    work_features,
)
from mobility.census.lodes import SECTORS, aggregate_lodes
from mobility.errors import MobilityError

from .conftest import wac_row

TAU = pd.Series(np.linspace(0.0, 0.95, 20), index=list(SECTORS))  # tau_s = (s - 1) / 20


def _wac_cbg():
    # CBG ...001: two blocks of wac_row (10 jobs each: CNS05 6, CNS12 4; CS01 6; CA01 2; CD04 3)
    # CBG ...002: one block, all 5 jobs in CNS18, 5 women, all aged <= 29 (no education tabulated)
    other = wac_row("420030201002000", C000=5, CA01=5, CA02=0, CA03=0, CE01=5, CE02=0, CE03=0, CNS05=0,
                    CNS12=0, CNS18=5, CR01=5, CR02=0, CR04=0, CT01=5, CT02=0, CD01=0, CD02=0, CD03=0, CD04=0,
                    CS01=0, CS02=5)
    blocks = pd.DataFrame([wac_row("420030201001000"), wac_row("420030201001001"), other])
    blocks.attrs["kind"] = "wac"
    return aggregate_lodes(blocks, "cbg")


def test_work_features_by_hand():
    people = pd.DataFrame({
        "user_id": ["a", "b", "c", "d"],
        "period": ["2020-W10"] * 4,
        "work_cbg": ["420030201001", "420030201002", "420030201009", None],
        "lat": [40.0] * 4, "lon": [-80.0] * 4,  # must not reach the output
    })
    f = work_features(people, _wac_cbg(), TAU)
    assert f.columns[:3].tolist() == ["user_id", "period", "work_cbg"]
    assert not {"lat", "lon"} & set(f.columns)
    a, b = f.iloc[0], f.iloc[1]
    assert (a["w_CNS05"], a["w_CNS12"], a["w_CNS18"]) == (0.6, 0.4, 0.0)
    assert a["telework"] == pytest.approx(0.6 * 0.2 + 0.4 * 0.55)
    assert (a["p_sex_male"], a["p_sex_female"]) == (0.6, 0.4)
    assert (a["p_age_le29"], a["p_age_30_54"], a["p_age_ge55"]) == (0.2, 0.5, 0.3)
    # education among the 8 workers aged 30+: CD01..04 = 1, 2, 2, 3
    assert (a["p_education_lt_hs"], a["p_education_ba_plus"]) == (1 / 8, 3 / 8)
    assert (a["p_race_white"], a["p_race_asian"], a["p_ethnicity_hispanic"]) == (0.7, 0.1, 0.1)
    assert (a["p_earnings_le1250"], a["p_earnings_gt3333"]) == (0.3, 0.4)
    assert b["w_CNS18"] == 1.0 and b["telework"] == pytest.approx(0.85) and b["p_sex_female"] == 1.0
    assert np.isnan(b["p_education_hs"])  # no worker aged 30+
    assert f.iloc[2:][feature_columns("sector")].isna().all().all()
    assert f.attrs["n_rows"] == 4 and f.attrs["n_no_cbg"] == 1 and f.attrs["n_cbg_not_in_census"] == 1
    for dim in ("sex", "age", "earnings", "race", "ethnicity", "education", "sector"):
        sums = f.iloc[:1][feature_columns(dim)].sum(axis=1)
        assert sums.iloc[0] == pytest.approx(1.0), dim


def test_missing_cbg_is_logged(caplog):
    people = pd.DataFrame({"user_id": ["a"], "work_cbg": ["420030201009"]})
    with caplog.at_level("WARNING", logger="mobility.census.features"):
        work_features(people, _wac_cbg())
    assert "1 have a CBG absent from the census table" in caplog.text


def test_block_level_and_tract_level_tables():
    blocks = pd.DataFrame([wac_row("420030201001000"), wac_row("420030201002000", CNS05=0, CNS12=10)])
    people = pd.DataFrame({"user_id": ["a"], "work_cbg": [420030201001]})  # numeric CBG is normalised
    assert work_features(people, blocks)["w_CNS05"].iloc[0] == 0.6
    tract = aggregate_lodes(blocks, "tract")
    f = work_features(people, tract)
    assert f["work_cbg"].iloc[0] == "420030201001"
    assert f["w_CNS05"].iloc[0] == pytest.approx(6 / 20)  # the tract's mix: 6 of 20 jobs


def test_home_features_from_rac_and_acs():
    rac = _wac_cbg()
    acs = pd.DataFrame({"GEOID": ["420030201001"], "white": [0.8], "white_moe": [0.1]})
    people = pd.DataFrame({"user_id": ["a", "b"], "home_cbg": ["420030201001", "420030201002"]})
    h = home_features(people, rac, TAU, acs=acs)
    assert h.columns[:2].tolist() == ["user_id", "home_cbg"]
    assert h["home_w_CNS05"].tolist() == [0.6, 0.0] and h["home_p_sex_male"].tolist() == [0.6, 0.0]
    assert h["home_telework"].iloc[0] == pytest.approx(0.6 * 0.2 + 0.4 * 0.55)
    assert h["home_acs_white"].iloc[0] == 0.8 and np.isnan(h["home_acs_white_moe"].iloc[1])
    assert h.attrs["n_cbg_not_in_census"] == 0 and h.attrs["n_cbg_not_in_acs"] == 1


def test_bad_inputs():
    with pytest.raises(MobilityError, match="needs rac_cbg"):
        home_features(pd.DataFrame({"user_id": ["a"], "home_cbg": ["1"]}))
    with pytest.raises(MobilityError, match="needs the RAC sector mix"):
        home_features(pd.DataFrame({"user_id": ["a"], "home_cbg": ["1"]}), telework=TAU,
                      acs=pd.DataFrame({"GEOID": ["1"]}))
    with pytest.raises(MobilityError, match=r"missing column\(s\) \['work_cbg'\]"):
        work_features(pd.DataFrame({"user_id": ["a"], "cbg": ["420030201001"]}), _wac_cbg())
    with pytest.raises(MobilityError, match="not a string of digits"):
        work_features(pd.DataFrame({"user_id": ["a"], "work_cbg": ["42003020100x"]}), _wac_cbg())
    with pytest.raises(MobilityError, match="has no 'GEOID'"):
        cbg_probabilities(pd.DataFrame({"C000": [1]}))
    with pytest.raises(MobilityError, match="unknown dimension"):
        feature_columns("income")


@pytest.mark.real
def test_people_sampled_by_jobs_recover_pennsylvania_sector_mix(pa_wac, dn_telework):
    cbg = aggregate_lodes(pa_wac, "cbg")
    rng = np.random.default_rng(7)
    n = 20_000
    pick = rng.choice(len(cbg), size=n, p=cbg["C000"] / cbg["C000"].sum())
    people = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "work_cbg": cbg["GEOID"].to_numpy()[pick]})
    f = work_features(people, cbg, dn_telework)
    w = f[feature_columns("sector")].to_numpy()
    truth = pa_wac[list(SECTORS)].sum().to_numpy() / pa_wac["C000"].sum()
    se = w.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(w.mean(axis=0) - truth) < 4 * se + 1e-12)
    assert f["telework"].mean() == pytest.approx(0.3686, abs=4 * f["telework"].std() / np.sqrt(n))
