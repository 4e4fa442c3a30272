"""Home/work to census block groups: spatial join, outside points, provider tables, real polygons."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from mobility.errors import MobilityError
from mobility.obfuscate import labels_from_provider, modal_cbg, obfuscate_to_cbg

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"

# two unit squares side by side in Web Mercator metres, far from the antimeridian
CBG = gpd.GeoDataFrame(
    {"GEOID": ["360610001001", "360610001002"]},
    geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
    crs=3857,
)


def _lat_lon(x, y):
    p = gpd.GeoSeries(gpd.points_from_xy([x], [y]), crs=3857).to_crs(4326).iloc[0]
    return p.y, p.x


def _labels(rows):
    df = pd.DataFrame(rows, columns=["user_id", "date", "home_location_id", "work_location_id"])
    df["date"] = pd.to_datetime(df["date"])
    for c in ("home_location_id", "work_location_id"):
        df[c] = df[c].astype("Int64")
    df["work_status"] = np.where(df["work_location_id"].notna(), "fixed", "none")
    return df


def _locations():
    rows = []
    for user, loc, (x, y) in [("a", 0, (500, 500)), ("a", 1, (1500, 500)), ("a", 2, (5000, 5000)),
                              ("b", 0, (1500, 200)), ("b", 7, (300, 900))]:
        lat, lon = _lat_lon(x, y)
        rows.append((user, loc, lat, lon))
    return pd.DataFrame(rows, columns=["user_id", "location_id", "lat", "lon"])


def test_home_and_work_get_their_block_group():
    labels = _labels([("a", "2020-03-02", 0, 1), ("a", "2020-03-03", 1, None), ("b", "2020-03-02", 0, 7)])
    out = obfuscate_to_cbg(labels, _locations(), CBG)
    assert out.columns.tolist() == ["user_id", "date", "home_location_id", "work_location_id", "work_status",
                                    "home_cbg", "work_cbg"]
    assert out["work_status"].tolist() == ["fixed", "none", "fixed"]
    # user a: loc 0 is in the left square, loc 1 in the right; user b's loc 0 is in the right square
    assert out["home_cbg"].tolist() == ["360610001001", "360610001002", "360610001002"]
    assert out["work_cbg"].tolist()[0] == "360610001002"
    assert pd.isna(out["work_cbg"].iloc[1])
    assert out["work_cbg"].iloc[2] == "360610001001"
    assert not {"lat", "lon", "geometry"} & set(out.columns)
    assert str(out["home_cbg"].dtype).startswith("str") or out["home_cbg"].dtype == "string"


def test_location_outside_every_cbg_is_na_counted_and_logged(caplog):
    labels = _labels([("a", "2020-03-02", 2, 1), ("a", "2020-03-03", 2, 1), ("a", "2020-03-04", 0, 2)])
    with caplog.at_level(logging.WARNING, logger="mobility.obfuscate"):
        out = obfuscate_to_cbg(labels, _locations(), CBG)
    assert out["home_cbg"].isna().tolist() == [True, True, False]
    assert out["work_cbg"].isna().tolist() == [False, False, True]
    assert out.attrs["n_locations_outside_cbg"] == 1
    assert out.attrs["n_user_days_outside_cbg"] == 3
    assert "lie in no CBG polygon" in caplog.text



def test_locations_in_no_polygon_that_would_fall_in_one_with_lat_and_lon_swapped_get_a_hint(caplog):
    # pings with lat and lon swapped (both in range) only said "lie in no CBG polygon": the user had no clue why
    swapped = _locations().rename(columns={"lat": "lon", "lon": "lat"})
    labels = _labels([("a", "2020-03-02", 1, None), ("b", "2020-03-02", 0, None)])  # x 1500 m: y 1500 m swapped
    with caplog.at_level(logging.WARNING, logger="mobility.obfuscate"):
        out = obfuscate_to_cbg(labels, swapped[["user_id", "location_id", "lat", "lon"]], CBG)
    assert out["home_cbg"].isna().all()
    assert "2 of 2 home/work locations lie in no CBG polygon" in caplog.text
    assert "2 of them would lie in one with lat and lon swapped" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mobility.obfuscate"):  # truly outside: no such hint
        obfuscate_to_cbg(_labels([("a", "2020-03-02", 2, 1)]), _locations(), CBG)
    assert "lie in no CBG polygon" in caplog.text and "swapped" not in caplog.text

def test_numeric_geoids_are_zero_padded():
    cbg = CBG.assign(GEOID=[10010201001, 10010201002])  # Alabama: leading zero lost as a number
    out = obfuscate_to_cbg(_labels([("a", "2020-03-02", 0, 1)]), _locations(), cbg)
    assert out[["home_cbg", "work_cbg"]].values.tolist() == [["010010201001", "010010201002"]]


def test_errors():
    labels = _labels([("a", "2020-03-02", 9, None)])
    with pytest.raises(MobilityError, match="location_id 9"):
        obfuscate_to_cbg(labels, _locations(), CBG)
    with pytest.raises(MobilityError, match="GeoDataFrame"):
        obfuscate_to_cbg(labels, _locations(), pd.DataFrame({"GEOID": ["360610001001"]}))
    with pytest.raises(MobilityError, match="CRS|coordinate reference"):
        obfuscate_to_cbg(labels, _locations(), CBG.set_crs(None, allow_override=True))
    with pytest.raises(MobilityError, match="lat"):
        obfuscate_to_cbg(labels, _locations().drop(columns="lat"), CBG)
    with pytest.raises(MobilityError, match="GEOID"):
        obfuscate_to_cbg(labels, _locations(), CBG.assign(GEOID=["36061000100", "x"]))


@pytest.mark.real
def test_real_chicago_polygons_in_their_own_crs():
    zip_path = REAL / "geoda_chicago_sdoh" / "Chi-SDOH.zip"
    if not zip_path.exists():
        pytest.skip(f"real data absent: {zip_path} (shared/data/real next to the repository)")
    tracts = gpd.read_file(f"zip://{zip_path.resolve()}!Chi-SDOH.shp").iloc[::40].reset_index(drop=True)
    # tract polygons stand in for block groups: GEOID = 11-digit tract + block group "1"
    geoid_col = next(c for c in tracts.columns if c.lower() in ("geoid", "fips", "geoid10"))
    tract = tracts[geoid_col].astype("int64").astype(str).str.zfill(11)
    cbg = gpd.GeoDataFrame({"GEOID": tract + "1"}, geometry=tracts.geometry, crs=tracts.crs)
    inside = tracts.geometry.representative_point().to_crs(4326)
    n = len(cbg)
    locations = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "location_id": 0,
                              "lat": inside.y.to_numpy(), "lon": inside.x.to_numpy()})
    labels = _labels([(f"u{i}", "2020-03-02", 0, None) for i in range(n)])
    out = obfuscate_to_cbg(labels, locations, cbg)
    assert out["home_cbg"].tolist() == (tract + "1").tolist()
    assert out.attrs["n_locations_outside_cbg"] == 0


# ---------------------------------------------------------------- provider tables


def _provider():
    return pd.DataFrame({"user_id": ["b", "a", "a"], "date": ["2020-03-02", "2020-03-03", "2020-03-02"],
                         "home_cbg": ["360610001001", "010010201001", None],
                         "work_cbg": [None, "360610001002", "360610001002"]})


def test_provider_table_is_validated_and_shaped():
    out = labels_from_provider(_provider())
    assert out.columns.tolist() == ["user_id", "date", "home_location_id", "work_location_id", "work_status",
                                    "home_cbg", "work_cbg"]
    assert out["work_status"].tolist() == ["fixed", "fixed", "unknown"]   # the provider does not say why
    assert out["user_id"].tolist() == ["a", "a", "b"]
    assert out["date"].tolist() == [pd.Timestamp("2020-03-02"), pd.Timestamp("2020-03-03"),
                                    pd.Timestamp("2020-03-02")]
    assert out["date"].dtype == np.dtype("datetime64[ns]")
    assert out["home_cbg"].isna().tolist() == [True, False, False]
    assert out["home_cbg"].iloc[1] == "010010201001"
    assert out["home_location_id"].isna().all() and str(out["home_location_id"].dtype) == "Int64"


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: d.assign(home_cbg=["36061000100", "010010201001", None]), "row 0.*home_cbg"),
        (lambda d: d.assign(work_cbg=[None, "36061000100a", None]), "row 1.*work_cbg"),
        (lambda d: d.assign(home_cbg=[360610001001, 10010201001, 1]), "not text"),
        (lambda d: d.assign(date=["2020-03-02", "soon", "2020-03-02"]), "row 1.*date"),
        (lambda d: d.assign(date=pd.to_datetime(d["date"]).dt.tz_localize("UTC")), "tz-aware"),
        (lambda d: d.assign(date="2020-03-02", user_id="a"), "more than once"),
        (lambda d: d.drop(columns="work_cbg"), "work_cbg"),
        (lambda d: d.assign(user_id=[None, "a", "a"]), "row 0.*user_id"),
    ],
)
def test_provider_table_errors(change, match):
    with pytest.raises(MobilityError, match=match):
        labels_from_provider(change(_provider()))


def test_modal_cbg_matches_a_direct_count_by_user_and_week():
    # random labels with many ties and missing CBGs, in shuffled order; the answer per (user, week) counted
    # directly: the most frequent CBG, ties to the smallest GEOID; groups without a CBG absent
    import collections

    rng = np.random.default_rng(7)
    n = 3000
    labels = pd.DataFrame({"user_id": pd.array(rng.choice(["u1", "u10", "u2", "x"], n), dtype="string"),
                           "week": pd.Timestamp("2020-01-06") + pd.to_timedelta(7 * rng.integers(0, 30, n), "D"),
                           "home_cbg": rng.choice(["421010001002", "421010001001", "360610001001", None], n)})
    labels.attrs["home_work_params"] = {"method": "schedule"}
    got = modal_cbg(labels, "home_cbg", by=("user_id", "week"))
    counts = collections.defaultdict(collections.Counter)
    for u, w, c in labels.itertuples(index=False):
        if isinstance(c, str):
            counts[(u, w)][c] += 1
    want = sorted((u, w, min(cnt, key=lambda c: (-cnt[c], c))) for (u, w), cnt in counts.items())
    assert list(got.itertuples(index=False, name=None)) == want
    assert got.attrs == {} and str(got["user_id"].dtype) == "string"
    assert modal_cbg(labels.iloc[:0], "home_cbg").empty
