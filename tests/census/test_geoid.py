"""GEOID normalisation: numbers, prefixes, lost leading zeros, bad values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.census.geoid import level_of_length, normalize_geoid
from mobility.errors import MobilityError


def test_float_int_and_text_forms():
    g, level = normalize_geoid(pd.Series([17031842400.0, 17031010100.0]))
    assert g.tolist() == ["17031842400", "17031010100"] and level == "tract"
    g, level = normalize_geoid(np.array([1001020100, 17031842400]))
    assert g.tolist() == ["01001020100", "17031842400"] and level == "tract"
    g, level = normalize_geoid(["g361031101011", "1500000US361031101012", " 361031101013 ", "361031101014.0"])
    assert g.tolist() == ["361031101011", "361031101012", "361031101013", "361031101014"] and level == "cbg"


def test_level_given_pads_and_rejects_too_long_or_too_short():
    assert normalize_geoid(["1"], level="state")[0].tolist() == ["01"]
    with pytest.raises(MobilityError, match="has 12 digits but level 'tract' has 11"):
        normalize_geoid(["361031101011"], level="tract", source="f.csv", column="geoid")
    with pytest.raises(MobilityError, match="too few for level 'cbg'"):
        normalize_geoid(["3610311010"], level="cbg")


@pytest.mark.parametrize("bad", [None, np.nan, "abc", "36-103", 1.5])
def test_bad_values_name_file_row_and_column(bad):
    with pytest.raises(MobilityError, match=r"f\.csv: column 'geoid', row 1"):
        normalize_geoid(pd.Series(["361031101011", bad], dtype=object), source="f.csv", column="geoid")


def test_level_of_length():
    assert [level_of_length(n) for n in (1, 2, 4, 5, 10, 11, 12, 14, 15)] == [
        "state", "state", "county", "county", "tract", "tract", "cbg", "block", "block"]
    with pytest.raises(MobilityError, match="longer than a census block"):
        level_of_length(16)
    with pytest.raises(MobilityError, match="unknown geographic level"):
        normalize_geoid(["42"], level="zcta")
