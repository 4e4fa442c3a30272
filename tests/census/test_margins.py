"""Census margins for weighting: ACS sex by age and LODES job counts by hand, real files."""

import numpy as np
import pandas as pd
import pytest

from mobility.census.acs import read_acs
from mobility.census.lodes import WAC_RAC_GROUPS
from mobility.census.margins import (
    ACS_SEX_AGE,
    SUPERSECTORS,
    acs_sex_age,
    area_totals,
    lodes_margins,
    member_shares,
)
from mobility.errors import MobilityError

from .conftest import SUFFOLK, real_file


def test_acs_sex_age_groups_by_hand():
    row = {"GEOID": ["421010001001"], **{f"B01001_{i:03d}E": [0.0] for i in range(1, 50)}}
    acs = pd.DataFrame(row)
    acs["B01001_006E"] = 30.0  # male 15-17: 20 are 16 or 17
    acs["B01001_011E"] = 5.0  # male 25-29
    acs["B01001_025E"] = 7.0  # male 85+
    acs["B01001_036E"] = 4.0  # female 30-34
    out = acs_sex_age(acs).iloc[0]
    assert list(out.index) == list(ACS_SEX_AGE)
    assert out.to_dict() == pytest.approx({"male_16_29": 25.0, "male_30_54": 0.0, "male_55_plus": 7.0,
                                           "female_16_29": 0.0, "female_30_54": 4.0, "female_55_plus": 0.0})


def test_totals_and_shares():
    t = pd.DataFrame({"a": [1.0, 3.0, 0.0], "b": [1.0, 1.0, 0.0]},
                     index=pd.Index(["421010001001", "421010001002", "420450001001"], name="GEOID"))
    assert area_totals(t).loc["42101"].tolist() == [4.0, 2.0]
    shares = member_shares(t, ["421010001002", "420450001001"])
    assert shares[0].tolist() == [0.75, 0.25] and np.isnan(shares[1]).all()  # an empty block group: no mix


@pytest.mark.real
def test_real_pa_lodes_margins_sum_to_the_jobs(pa_wac):
    m = lodes_margins(pa_wac, groups=("supersector", "sector", "age", "earnings", "sex"), level="county")
    jobs = pa_wac.groupby(pa_wac["w_geocode"].str.slice(0, 5))["C000"].sum()
    for columns in [list(SUPERSECTORS)] + [list(WAC_RAC_GROUPS[g]) for g in ("sector", "age", "earnings", "sex")]:
        got = m[columns].sum(axis=1)
        assert np.allclose(got.to_numpy(), jobs.reindex(got.index).to_numpy())
    assert len(m) == 67


@pytest.mark.real
def test_real_suffolk_acs_has_no_sex_by_age_and_says_so():
    folder = real_file(*SUFFOLK)
    acs = read_acs(folder / "rawACSdata_race" / "blockgroup_race_ests.csv")
    with pytest.raises(MobilityError, match="B01001_001E"):
        acs_sex_age(acs)
