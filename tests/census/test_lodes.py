"""LODES reader: real Pennsylvania WAC invariants and totals, hand-made files, malformed files."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from mobility.census.lodes import (
    SECTORS,
    aggregate_lodes,
    check_lodes,
    count_columns,
    read_lodes,
)
from mobility.errors import MobilityError

from .conftest import wac_row, write_wac


@pytest.mark.real
def test_real_pa_wac_invariants_hold_on_every_row(pa_wac):
    # read_lodes checks invariants; recheck independently with plain pandas here
    assert len(pa_wac) == 101_427
    assert pa_wac["w_geocode"].str.fullmatch(r"42\d{13}").all()
    c000 = pa_wac["C000"]
    for prefix, n in (("CA", 3), ("CE", 3), ("CNS", 20), ("CT", 2), ("CS", 2)):
        cols = [f"{prefix}{i:02d}" for i in range(1, n + 1)]
        assert (pa_wac[cols].sum(axis=1) == c000).all(), prefix
    race = ["CR01", "CR02", "CR03", "CR04", "CR05", "CR07"]
    assert (pa_wac[race].sum(axis=1) == c000).all()
    edu = ["CD01", "CD02", "CD03", "CD04"]
    assert (pa_wac[edu].sum(axis=1) == c000 - pa_wac["CA01"]).all()


@pytest.mark.real
def test_real_pa_wac_county_and_state_totals(pa_wac):
    county = aggregate_lodes(pa_wac, "county").set_index("GEOID")["C000"]
    assert county["42003"] == 710_479  # Allegheny
    assert county["42101"] == 678_096  # Philadelphia
    assert len(county) == 67
    state = aggregate_lodes(pa_wac, "state")
    assert state["GEOID"].tolist() == ["42"]
    assert int(state["C000"].iloc[0]) == 5_649_077
    cbg = aggregate_lodes(pa_wac, "cbg")
    assert cbg["GEOID"].str.len().eq(12).all() and cbg["GEOID"].is_unique
    assert int(cbg["C000"].sum()) == 5_649_077
    tract = aggregate_lodes(pa_wac, "tract")
    assert tract["GEOID"].str.len().eq(11).all()
    assert (cbg.attrs["kind"], cbg.attrs["level"]) == ("wac", "cbg")


def test_hand_wac_aggregates_by_block_group_prefix(tmp_path):
    rows = [wac_row("010010201001000"), wac_row("010010201001001", C000=10), wac_row("010010201002000")]
    p = write_wac(tmp_path / "al_wac_S000_JT00_2019.csv.gz", rows)
    df = read_lodes(p)
    assert df["w_geocode"].tolist() == ["010010201001000", "010010201001001", "010010201002000"]
    assert df.attrs["kind"] == "wac"
    agg = aggregate_lodes(df, "cbg")
    assert agg["GEOID"].tolist() == ["010010201001", "010010201002"]
    assert agg["C000"].tolist() == [20, 10]
    assert agg["CNS05"].tolist() == [12, 6]
    assert aggregate_lodes(df, "county")["GEOID"].tolist() == ["01001"]


def test_geocode_stored_as_number_gets_leading_zero_back(tmp_path):
    p = tmp_path / "wac.csv"
    df = pd.DataFrame([wac_row("010010201001000")])
    df["w_geocode"] = 10010201001000  # 14 digits, as a spreadsheet would save it
    df.to_csv(p, index=False)
    assert read_lodes(p)["w_geocode"].tolist() == ["010010201001000"]


def test_rac_and_od_detected_from_columns(tmp_path):
    rac = pd.DataFrame([wac_row("420030201001000")]).rename(columns={"w_geocode": "h_geocode"})
    rac.to_csv(tmp_path / "pa_rac.csv", index=False)
    assert read_lodes(tmp_path / "pa_rac.csv").attrs["kind"] == "rac"
    od = tmp_path / "pa_od_main_JT00_2019.csv.gz"
    with gzip.open(od, "wt") as fh:
        fh.write("w_geocode,h_geocode,S000,SA01,SA02,SA03,SE01,SE02,SE03,SI01,SI02,SI03,createdate\n")
        fh.write("420030201001000,420030201002000,5,1,2,2,1,1,3,0,4,1,20190101\n")
        fh.write("420030201001001,420030201002001,2,0,2,0,0,2,0,0,0,2,20190101\n")
        fh.write("420030201001000,420039999001000,1,1,0,0,1,0,0,1,0,0,20190101\n")
    df = read_lodes(od, kind="od")
    agg = aggregate_lodes(df, "cbg")
    assert agg[["w_GEOID", "h_GEOID", "S000", "SI02"]].values.tolist() == [
        ["420030201001", "420030201002", 7, 4],
        ["420030201001", "420039999001", 1, 0],
    ]


def test_wrong_kind_is_an_error(tmp_path):
    p = write_wac(tmp_path / "w.csv", [wac_row("420030201001000")])
    with pytest.raises(MobilityError, match=r"LODES WAC file .* but kind='rac'"):
        read_lodes(p, kind="rac")


@pytest.mark.parametrize(
    ("override", "group"),
    [
        ({"CNS05": 5}, "sector"),
        ({"CA03": 4}, "age"),
        ({"CE01": 0}, "earnings"),
        ({"CR07": 1}, "race"),
        ({"CT02": 0}, "ethnicity"),
        ({"CS02": 5}, "sex"),
        ({"CD04": 4}, "education"),
    ],
)
def test_row_breaking_an_invariant_names_file_row_geocode_and_group(tmp_path, override, group):
    rows = [wac_row("420030201001000"), wac_row("420030201001007", **override)]
    p = write_wac(tmp_path / "pa_wac_bad.csv", rows)
    with pytest.raises(MobilityError) as err:
        read_lodes(p)
    msg = str(err.value)
    assert "pa_wac_bad.csv" in msg and "row 1" in msg and "420030201001007" in msg and f"{group} columns" in msg


def test_education_sums_to_jobs_minus_young_workers():
    # CD01..04 = C000 - CA01: 10 - 2 = 8 passes; 10 would be an error
    good = pd.DataFrame([wac_row("420030201001000")])
    check_lodes(good, "wac")
    bad = pd.DataFrame([wac_row("420030201001000", CD04=5)])
    with pytest.raises(MobilityError, match="C000 - CA01 = 8"):
        check_lodes(bad, "wac")


@pytest.mark.parametrize(
    ("geocode", "needle"),
    [("42003020100100x", "not a string of digits"), ("4200302010010001", "16 digits"), ("", "not a string")],
)
def test_bad_geocode(tmp_path, geocode, needle):
    p = write_wac(tmp_path / "w.csv", [wac_row("420030201001000"), wac_row(geocode)])
    with pytest.raises(MobilityError, match=needle):
        read_lodes(p)


def test_missing_column(tmp_path):
    p = write_wac(tmp_path / "w.csv", [wac_row("420030201001000")], drop=("CS02",))
    with pytest.raises(MobilityError, match=r"missing column\(s\) \['CS02'\]"):
        read_lodes(p)


def test_non_numeric_negative_and_empty_counts(tmp_path):
    p = write_wac(tmp_path / "a.csv", [wac_row("420030201001000", CNS12="four")])
    with pytest.raises(MobilityError, match=r"column 'CNS12', row 0 \(w_geocode 420030201001000\).*not a number"):
        read_lodes(p)
    p = write_wac(tmp_path / "b.csv", [wac_row("420030201001000", CNS12=-4, CNS05=14)])
    with pytest.raises(MobilityError, match="column CNS12 is negative"):
        read_lodes(p)
    p = write_wac(tmp_path / "c.csv", [wac_row("420030201001000", CNS12=None)])
    with pytest.raises(MobilityError, match="column CNS12 is empty"):
        read_lodes(p)


def test_not_a_lodes_file_and_missing_file(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(MobilityError, match="not a LODES"):
        read_lodes(p)
    with pytest.raises(MobilityError, match="file not found"):
        read_lodes(tmp_path / "nope.csv.gz")
    with pytest.raises(MobilityError, match="unknown geographic level"):
        aggregate_lodes(pd.DataFrame([wac_row("420030201001000")]), "zip")


def test_count_columns_match_lodes_layout():
    cols = count_columns("wac")
    assert cols[0] == "C000" and cols[7:27] == SECTORS
    assert len(set(cols)) == len(cols) == 41
    assert np.array_equal(np.array(count_columns("rac")), np.array(cols))
