"""ACS tables with margins of error (Suffolk County NY block groups) and derived shares with MOEs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyogrio
import pytest

from mobility.census.acs import acs_shares, proportion_moe, read_acs
from mobility.errors import MobilityError

from .conftest import SUFFOLK, real_file

RACE = {"white": "B03002_003", "black": "B03002_004", "hispanic": "B03002_012", "asian": "B03002_006"}


@pytest.fixture(scope="module")
def suffolk():
    d = real_file(*SUFFOLK)
    return read_acs(d / "rawACSdata_all" / "blockgroup_all_ests.csv", d / "rawACSdata_all" / "blockgroup_all_moes.csv")


@pytest.mark.real
def test_suffolk_joined_with_shares_and_moes(suffolk):
    assert len(suffolk) == 999 and suffolk.attrs["level"] == "cbg"
    assert suffolk["GEOID"].str.fullmatch(r"36103\d{7}").all()
    shares = acs_shares(suffolk, RACE, "B03002_001")
    assert shares.columns.tolist() == ["GEOID", "white", "white_moe", "black", "black_moe", "hispanic",
                                       "hispanic_moe", "asian", "asian_moe"]
    row = shares.set_index("GEOID").loc["361031101011"]
    # by hand from the files: White alone 1374 (MOE 275) of 1463 (MOE 274)
    p = 1374 / 1463
    assert row["white"] == pytest.approx(p)
    assert row["white_moe"] == pytest.approx(math.sqrt(275**2 - p**2 * 274**2) / 1463)
    assert row["white_moe"] == pytest.approx(0.06629, abs=1e-5)
    # Black alone 0 (MOE 11): p = 0, MOE = 11 / 1463
    assert row["black"] == 0 and row["black_moe"] == pytest.approx(11 / 1463)
    # 361031101024: 1073 of 1111, MOEs 215 and 224 -> radicand < 0, ratio formula
    row = shares.set_index("GEOID").loc["361031101024"]
    p = 1073 / 1111
    assert 215**2 - p**2 * 224**2 < 0
    assert row["white_moe"] == pytest.approx(math.sqrt(215**2 + p**2 * 224**2) / 1111)
    # the one block group with no population (361039901000, water) has no share
    assert shares.set_index("GEOID").loc["361039901000", ["white", "white_moe"]].isna().all()


@pytest.mark.real
def test_suffolk_joins_onto_tiger_block_groups(suffolk):
    tiger = pyogrio.read_dataframe(real_file(*SUFFOLK, "tl_2014_36_bg.dbf"))
    suffolk_bg = tiger[tiger["COUNTYFP"] == "103"]
    joined = suffolk_bg.merge(acs_shares(suffolk, RACE, "B03002_001"), on="GEOID", how="left", validate="1:1")
    assert len(joined) == 999 and joined["white"].notna().sum() == 998


@pytest.mark.real
def test_topic_file_without_universe_moe_says_where_to_get_it():
    d = real_file(*SUFFOLK, "rawACSdata_race")
    race = read_acs(d / "blockgroup_race_ests.csv", d / "blockgroup_race_moes.csv")
    assert race.columns.tolist()[:6] == ["GEOID", "B03002_001E", "B03002_003E", "B03002_004E", "B03002_012E",
                                         "B03002_006E"]
    with pytest.raises(MobilityError, match=r"\['B03002_001M'\].*rawACSdata_all"):
        acs_shares(race, RACE, "B03002_001")


@pytest.mark.real
def test_estimates_only_table_keeps_unsuffixed_columns():
    age = read_acs(real_file(*SUFFOLK, "rawACSdata_SEage", "blockgroup_age_ests.csv"))
    first = age.set_index("GEOID").loc["361031101011"]
    assert first["SE_T007_001"] == 1463 and first["SE_T007_013"] == 45


def test_proportion_moe_formula_and_fallback():
    p, m = proportion_moe([30, 90, 5], [100, 100, 0], [10, 5, 1], [20, 20, 1])
    assert p[:2].tolist() == [0.3, 0.9] and np.isnan(p[2]) and np.isnan(m[2])
    assert m[0] == pytest.approx(math.sqrt(100 - 0.09 * 400) / 100)   # 0.08
    assert m[1] == pytest.approx(math.sqrt(25 + 0.81 * 400) / 100)    # radicand 25 - 324 < 0


def test_annotation_codes_decoded(tmp_path):
    (tmp_path / "e.csv").write_text("GEOID,X_001E,X_002E\ng360010001001,100,-666666666\n")
    (tmp_path / "m.csv").write_text("GEOID,X_001M,X_002M\ng360010001001,-555555555,-222222222\n")
    row = read_acs(tmp_path / "e.csv", tmp_path / "m.csv").iloc[0]
    assert row["X_001E"] == 100 and row["X_001M"] == 0 and np.isnan(row["X_002E"]) and np.isnan(row["X_002M"])


def test_tract_level_and_census_gov_ids(tmp_path):
    (tmp_path / "e.csv").write_text("GEO_ID,NAME,X_001E\n1400000US36103110101,Tract 1101.01,7\n")
    df = read_acs(tmp_path / "e.csv")
    assert df["GEOID"].tolist() == ["36103110101"] and df.attrs["level"] == "tract"


def test_malformed_acs_files(tmp_path):
    e = tmp_path / "e.csv"
    e.write_text("GEOID,X_001E\ng361031101011,10\ng36103110101x,5\n")
    with pytest.raises(MobilityError, match=r"column 'GEOID', row 1"):
        read_acs(e)
    e.write_text("id,X_001E\ng361031101011,10\n")
    with pytest.raises(MobilityError, match=r"missing column\(s\) \['GEOID'\]"):
        read_acs(e)
    e.write_text("GEOID,X_001E\ng361031101011,ten\n")
    with pytest.raises(MobilityError, match=r"column 'X_001E', row 0 \(GEOID 361031101011\).*not a number"):
        read_acs(e)
    e.write_text("GEOID,X_001E\ng361031101011,10\ng361031101011,11\n")
    with pytest.raises(MobilityError, match="appears twice"):
        read_acs(e)
    e.write_text("GEOID,X_001E\ng361031101011,10\ng361031101012,11\n")
    m = tmp_path / "m.csv"
    m.write_text("GEOID,X_001M\ng361031101011,3\n")
    with pytest.raises(MobilityError, match="GEOID 361031101012 is only in e.csv"):
        read_acs(e, m)
    m.write_text("GEOID,X_001E\ng361031101011,3\ng361031101012,4\n")
    with pytest.raises(MobilityError, match="also in e.csv"):
        read_acs(e, m)
    with pytest.raises(MobilityError, match="file not found"):
        read_acs(tmp_path / "none.csv")


def test_shares_accept_suffixed_names_and_lists():
    df = pd.DataFrame({"GEOID": ["1"], "A_001E": [10.0], "A_001M": [2.0], "A_002E": [5.0], "A_002M": [1.0]})
    out = acs_shares(df, ["A_002E"], "A_001E")
    assert out.columns.tolist() == ["GEOID", "A_002", "A_002_moe"] and out["A_002"].iloc[0] == 0.5


def test_summed_numerator_uses_root_sum_of_squares():
    df = pd.DataFrame({"GEOID": ["1"], "T_001E": [200.0], "T_001M": [30.0], "T_002E": [40.0], "T_002M": [12.0],
                       "T_003E": [20.0], "T_003M": [9.0]})
    out = acs_shares(df, {"top": ["T_002", "T_003"]}, "T_001").iloc[0]
    moe_x = math.sqrt(12**2 + 9**2)  # 15
    assert out["top"] == 0.3
    assert out["top_moe"] == pytest.approx(math.sqrt(moe_x**2 - 0.09 * 30**2) / 200)
