"""Weekly state UI claims (Opportunity Insights layout): real file values and malformed files."""

from __future__ import annotations

import pandas as pd
import pytest

from mobility.census.ui_claims import read_ui_claims
from mobility.errors import MobilityError

from .conftest import UI_STATE, real_file

HEAD = "year,month,day_endofweek,statefips,initclaims_count_regular,contclaims_count_regular\n"


@pytest.mark.real
def test_real_pennsylvania_march_2020():
    df = read_ui_claims(real_file(*UI_STATE))
    assert len(df) == 17_646 and df["state_fips"].nunique() == 51
    pa = df[df["state_fips"] == "42"].set_index("week_end")["initclaims_regular"]
    assert pa[pd.Timestamp("2020-03-14")] == 15_431
    assert pa[pd.Timestamp("2020-03-21")] == 362_999
    assert pa[pd.Timestamp("2020-03-28")] == 374_052
    assert df.loc[df["state_fips"] == "01", "week_end"].min() == pd.Timestamp("2020-01-04")  # statefips "1"
    assert (df["week_end"].dt.day_of_week == 5).all()
    # PEUC continued claims are "." once the programme data end (from the week ending 2023-02-04)
    late = df[df["week_end"] >= pd.Timestamp("2023-02-04")]
    assert late["contclaims_peuc"].isna().all()


def test_hand_file_with_dots(tmp_path):
    p = tmp_path / "ui.csv"
    p.write_text(HEAD + "2020,3,21,42,362999,.\n2020,3,14,6,57606,300000\n")
    df = read_ui_claims(p)
    assert df["state_fips"].tolist() == ["06", "42"]
    assert df["contclaims_regular"].isna().tolist() == [False, True]
    assert str(df["initclaims_regular"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("2020,3,20,42,1,1", "not a Saturday"),
        ("2020,2,30,42,1,1", "not a Saturday"),
        ("2020,3,21,PA,1,1", "not a state FIPS"),
        ("2020,3,21,42,-5,1", "negative claims"),
        ("2020,3,21,42,many,1", r"column 'initclaims_count_regular', row 0.*not a number"),
    ],
)
def test_malformed_rows(tmp_path, line, needle):
    p = tmp_path / "ui.csv"
    p.write_text(HEAD + line + "\n")
    with pytest.raises(MobilityError, match=needle):
        read_ui_claims(p)


def test_missing_column_and_duplicates(tmp_path):
    p = tmp_path / "national.csv"
    p.write_text("year,month,day_endofweek,initclaims_count_regular,contclaims_count_regular\n2020,3,21,1,1\n")
    with pytest.raises(MobilityError, match=r"missing column\(s\) \['statefips'\]"):
        read_ui_claims(p)
    p.write_text(HEAD + "2020,3,21,42,1,1\n2020,3,21,42,2,2\n")
    with pytest.raises(MobilityError, match="appears twice"):
        read_ui_claims(p)
