"""BLS LAUS: both county layouts and the state table, read once per session; malformed sheets."""

from __future__ import annotations

import pandas as pd
import pytest

from mobility.census.laus import LAUS_COLUMNS, read_laus
from mobility.errors import MobilityError


def _one(df, fips, month):
    rows = df[(df["area_fips"] == fips) & (df["month"] == pd.Timestamp(month))]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.mark.real
def test_county_flattened_layout_2020_release(laus_2020):
    assert laus_2020.attrs["layout"] == "county"
    assert laus_2020.columns.tolist() == list(LAUS_COLUMNS)
    assert len(laus_2020) == 45_066 and laus_2020["area_fips"].nunique() == 3219
    r = _one(laus_2020, "42003", "2020-04-01")
    assert r["rate_pct"] == 15.7 and r["area_name"] == "Allegheny County, PA" and not r["preliminary"]
    assert r["employed"] + r["unemployed"] == r["labor_force"]
    assert _one(laus_2020, "42003", "2020-02-01")["rate_pct"] == 4.7
    jul = _one(laus_2020, "42003", "2020-07-01")
    assert bool(jul["preliminary"])
    # only Puerto Rico Mar-20 and Apr-20 are dashes: 78 municipios x 2 months
    missing = laus_2020[laus_2020["rate_pct"].isna()]
    assert len(missing) == 156 and missing["area_fips"].str.startswith("72").all()
    assert set(missing["month"]) == {pd.Timestamp("2020-03-01"), pd.Timestamp("2020-04-01")}
    assert missing["unemployed"].isna().all() and str(laus_2020["unemployed"].dtype) == "Int64"
    assert laus_2020["month"].min() == pd.Timestamp("2019-06-01")


@pytest.mark.real
def test_county_bls_original_layout_2021_release(laus_2021):
    assert laus_2021.attrs["layout"] == "county" and len(laus_2021) == 45_066
    assert _one(laus_2021, "42003", "2020-07-01")["rate_pct"] == 14.0  # revised
    assert _one(laus_2021, "42003", "2020-12-01")["rate_pct"] == 6.9
    assert _one(laus_2021, "01001", "2020-07-01")[["labor_force", "employed", "unemployed"]].tolist() == [
        25811, 24190, 1621]
    assert laus_2021["preliminary"].sum() == 3219  # Aug-21 p
    assert laus_2021["rate_pct"].notna().all()


@pytest.mark.real
def test_state_table(laus_state):
    assert laus_state.attrs["layout"] == "state" and len(laus_state) == 31_588
    pa = _one(laus_state, "42", "2020-04-01")
    assert pa["rate_pct"] == 16.1 and pa["unemployed"] == 1_023_542 and bool(pa["seasonally_adjusted"])
    assert _one(laus_state, "01", "1976-01-01")["area_name"] == "Alabama"  # stored as "1"
    la = _one(laus_state, "06037", "2020-04-01")
    assert la["area_type"] == "county" and la["area_name"] == "Los Angeles County"
    assert _one(laus_state, "3651000", "2020-04-01")["area_type"] == "place"
    assert laus_state["area_fips"].nunique() == 53


def _sheet(path, rows):
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    return path


HEADER = ["LAUS Code", "State FIPS Code", "County FIPS Code", "County Name/State Abbreviation", "Period",
          "Force", "Employed", "Unemployed", "(%)"]


def test_hand_sheet_with_dash_and_preliminary(tmp_path):
    p = _sheet(tmp_path / "c.xlsx", [
        HEADER,
        ["CN0100100000000", "01", "001", "Autauga County, AL", "Jul-20 p", 25811, 24190, 1621, 6.3],
        ["CN7200100000000", "72", "001", "Adjuntas Municipio, PR", "Apr-20", "–", "–", "–", "–"],
        [None] * 9,
        ["p = preliminary.", None, None, None, None, None, None, None, "SOURCE:  BLS, LAUS"],
    ])
    df = read_laus(p)
    assert df["area_fips"].tolist() == ["01001", "72001"]
    assert df["preliminary"].tolist() == [True, False]
    assert df["month"].tolist() == [pd.Timestamp("2020-07-01"), pd.Timestamp("2020-04-01")]
    assert df["labor_force"].isna().tolist() == [False, True]


def test_malformed_sheets(tmp_path):
    row = ["CN0100100000000", "01", "001", "Autauga County, AL", "Jul-20", 25811, 24190, 1621, 6.3]
    with pytest.raises(MobilityError, match=r"row 2, column 'Unemployed': 'many'"):
        read_laus(_sheet(tmp_path / "a.xlsx", [HEADER, row[:7] + ["many", 6.3]]))
    with pytest.raises(MobilityError, match=r"'Period': 'July 2020'"):
        read_laus(_sheet(tmp_path / "b.xlsx", [HEADER, row[:4] + ["July 2020"] + row[5:]]))
    with pytest.raises(MobilityError, match="does not match state/county"):
        read_laus(_sheet(tmp_path / "c.xlsx", [HEADER, row[:1] + ["01", "003"] + row[3:]]))
    with pytest.raises(MobilityError, match="not a LAUS layout"):
        read_laus(_sheet(tmp_path / "d.xlsx", [["a", "b"], [1, 2]]))
    with pytest.raises(MobilityError, match="lacks column 'LF Total'"):
        read_laus(_sheet(tmp_path / "e.xlsx",
                         [["FIPS Code", "State and area", "Year", "Month"], ["42", "PA", 2020, 1]]))
    (tmp_path / "f.xlsx").write_text("not a workbook")
    with pytest.raises(MobilityError, match="cannot read as an Excel workbook"):
        read_laus(tmp_path / "f.xlsx")


def test_openpyxl_fallback_reads_the_same(tmp_path, monkeypatch):
    import mobility.census.laus as laus

    rows = [HEADER, ["CN4200300000000", "42", "003", "Allegheny County, PA", "Apr-20", 600000, 505800, 94200, 15.7]]
    p = _sheet(tmp_path / "c.xlsx", rows)
    first = read_laus(p)
    monkeypatch.setattr(laus, "EXCEL_ENGINE", "openpyxl")
    pd.testing.assert_frame_equal(read_laus(p), first)
    assert first["unemployed"].tolist() == [94200]
