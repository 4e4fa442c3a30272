"""Census polygons: real Chicago tracts in two CRSs and formats, hand-made files, point assignment."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, box

from mobility.census.geometry import assign_points, read_geometry
from mobility.errors import MobilityError

from .conftest import CHI_ZIP, real_file

# Willis Tower (the Loop) and the University of Chicago main quad (Hyde Park), WGS84
POINTS = {"willis": (41.8789, -87.6359), "uchicago": (41.7943, -87.5917)}


@pytest.fixture(scope="module")
def chicago():
    z = real_file(*CHI_ZIP)
    shp = read_geometry(f"zip://{z}!Chi-SDOH.shp")
    gj = read_geometry(f"zip://{z}!Chi-SDOH.geojson")
    raw = gpd.read_file(f"zip://{z}!Chi-SDOH.shp")
    return shp, gj, raw


@pytest.mark.real
def test_chicago_geoid_is_an_11_digit_string_in_wgs84(chicago):
    shp, gj, raw = chicago
    assert raw["geoid10"].dtype.kind == "f"  # the file stores it as a number
    for g in (shp, gj):
        assert len(g) == 791 and g.crs.to_epsg() == 4326 and g.attrs["level"] == "tract"
        assert g["GEOID"].str.fullmatch(r"17031\d{6}").all()
        assert "geoid10" not in g.columns and "commarea" in g.columns
    assert sorted(shp["GEOID"]) == sorted(gj["GEOID"])


@pytest.mark.real
def test_same_tract_from_state_plane_shapefile_and_wgs84_geojson(chicago):
    shp, gj, raw = chicago
    lat = np.array([p[0] for p in POINTS.values()])
    lon = np.array([p[1] for p in POINTS.values()])
    from_shp = assign_points(lat, lon, shp).tolist()
    from_gj = assign_points(lat, lon, gj).tolist()
    assert from_shp == from_gj
    # independent path: project the points to the file's own CRS (Illinois East State Plane, US feet,
    # EPSG:3435) and test containment against the untouched polygons
    to_feet = Transformer.from_crs(4326, raw.crs, always_xy=True)
    for (la, lo), geoid in zip(zip(lat, lon), from_shp):
        x, y = to_feet.transform(lo, la)
        hits = raw[raw.geometry.contains(Point(x, y))]
        assert len(hits) == 1
        assert f"{int(hits['geoid10'].iloc[0]):011d}" == geoid


@pytest.mark.real
def test_every_tract_interior_point_agrees_across_files(chicago):
    shp, gj, _ = chicago
    pts = gj.geometry.representative_point()
    a = assign_points(pts.y, pts.x, shp)
    b = assign_points(pts.y, pts.x, gj)
    assert (a.to_numpy() == gj["GEOID"].to_numpy()).all()
    assert (b.to_numpy() == gj["GEOID"].to_numpy()).all()


def test_geopackage_in_projected_crs_with_numeric_geoid(tmp_path):
    # two block groups in UTM 18N (metres), GEOID stored as an integer losing its leading zero
    g = gpd.GeoDataFrame(
        {"GEOID20": [10010201001, 10010201002], "pop": [5, 6]},
        geometry=[box(500000, 4400000, 501000, 4401000), box(501000, 4400000, 502000, 4401000)],
        crs=32618,
    )
    p = tmp_path / "bg.gpkg"
    g.to_file(p, layer="bg", driver="GPKG")
    # 11 digits alone read as a tract; a numeric GEOID of states 01-09 needs its level
    assert read_geometry(p, layer="bg").attrs["level"] == "tract"
    out = read_geometry(p, layer="bg", level="cbg")
    assert out["GEOID"].tolist() == ["010010201001", "010010201002"]
    assert out.attrs["level"] == "cbg" and out.crs.to_epsg() == 4326
    assert out.columns.tolist() == ["GEOID", "pop", "geometry"]
    # centre of the first square, converted by pyproj independently
    lon, lat = Transformer.from_crs(32618, 4326, always_xy=True).transform(500500, 4400500)
    assert assign_points([lat], [lon], out).tolist() == ["010010201001"]


def test_shared_border_goes_to_smallest_geoid_and_outside_is_missing():
    g = gpd.GeoDataFrame({"GEOID": ["02", "01"]}, geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs=4326)
    res = assign_points(np.array([0.5, 0.5, 0.5, 3.0]), np.array([1.0, 0.25, 1.75, 3.0]), g)
    assert res.iloc[:3].tolist() == ["01", "01", "02"]
    assert res.isna().tolist() == [False, False, False, True]


def test_assign_points_keeps_series_index():
    g = gpd.GeoDataFrame({"GEOID": ["01"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    res = assign_points(pd.Series([0.5], index=[7]), pd.Series([0.5], index=[7]), g)
    assert res.index.tolist() == [7]


def test_assign_points_rejects_bad_coordinates():
    g = gpd.GeoDataFrame({"GEOID": ["01"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(MobilityError, match="point 1: lat 91.0"):
        assign_points([0.5, 91.0], [0.5, 0.5], g)
    with pytest.raises(MobilityError, match="equal length"):
        assign_points([0.5, 0.5], [0.5], g)
    with pytest.raises(MobilityError, match="no 'GEOID' column"):
        assign_points([0.5], [0.5], g.rename(columns={"GEOID": "id"}))


def test_malformed_geometry_files(tmp_path):
    base = gpd.GeoDataFrame({"GEOID": ["420030201001", "420030201001"]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    base.to_file(tmp_path / "dup.geojson")
    with pytest.raises(MobilityError, match="appears more than once"):
        read_geometry(tmp_path / "dup.geojson")
    base.rename(columns={"GEOID": "name"}).to_file(tmp_path / "nogeoid.geojson")
    with pytest.raises(MobilityError, match="no GEOID column found"):
        read_geometry(tmp_path / "nogeoid.geojson")
    with pytest.raises(MobilityError, match="geoid_column 'code' not found"):
        read_geometry(tmp_path / "nogeoid.geojson", geoid_column="code")
    gpd.GeoDataFrame({"GEOID": ["4200302010x1"]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(
        tmp_path / "bad.geojson")
    with pytest.raises(MobilityError, match="not a string of digits"):
        read_geometry(tmp_path / "bad.geojson")
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame({"GEOID": ["420030201001"]}, geometry=[box(0, 0, 1, 1)]).to_file(tmp_path / "nocrs.shp")
    with pytest.raises(MobilityError, match="no coordinate reference system"):
        read_geometry(tmp_path / "nocrs.shp")
    gpd.GeoDataFrame({"GEOID": ["420030201001"]}, geometry=[Point(0, 0)], crs=4326).to_file(
        tmp_path / "pt.geojson")
    with pytest.raises(MobilityError, match="not a polygon"):
        read_geometry(tmp_path / "pt.geojson")
    (tmp_path / "junk.geojson").write_text("not json")
    with pytest.raises(MobilityError, match="cannot read geometry"):
        read_geometry(tmp_path / "junk.geojson")
    with pytest.raises(MobilityError, match="file not found"):
        read_geometry(f"zip://{tmp_path / 'none.zip'}!a.shp")


def test_invalid_polygon_is_repaired(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    p = tmp_path / "bow.geojson"
    gpd.GeoDataFrame({"GEOID": ["01"]}, geometry=[bowtie], crs=4326).to_file(p)
    out = read_geometry(p, level="state")
    assert out.geometry.is_valid.all()
    res = assign_points([0.5, 0.2], [0.2, 0.5], out)
    assert res.iloc[0] == "01" and pd.isna(res.iloc[1])
