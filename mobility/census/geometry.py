"""Census polygons (block groups, tracts, counties) keyed by GEOID, and points assigned to them.

Any vector format GDAL reads (shapefile, GeoJSON, GeoPackage), also inside a zip
(``zip:///path/file.zip!layer.shp``), in any projected or geographic CRS, is normalised to one shape:
a GeoDataFrame with a string ``GEOID`` column (zero-padded, see :mod:`mobility.census.geoid`), the
file's other attributes, and polygons in EPSG:4326 (WGS84 longitude/latitude).
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mobility.checks import existing_file, first_row
from mobility.census.geoid import normalize_geoid
from mobility.errors import MobilityError

GEOID_CANDIDATES = ("GEOID", "GEOID20", "GEOID10", "GEOID_BG", "GEOID_TRACT", "GEO_ID", "FIPS", "CBG", "BG_ID")
"""Column names (any case) tried, in order, when ``geoid_column`` is not given."""


def _find_geoid_column(columns, source: str) -> str:
    by_lower = {c.lower(): c for c in columns if c != "geometry"}
    for cand in GEOID_CANDIDATES:
        if cand.lower() in by_lower:
            return by_lower[cand.lower()]
    raise MobilityError(
        f"{source}: no GEOID column found (tried {list(GEOID_CANDIDATES)}, any case; columns are "
        f"{[c for c in columns if c != 'geometry']}); pass geoid_column='your_column'"
    )


def read_geometry(
    path: str | os.PathLike,
    *,
    geoid_column: str | None = None,
    level: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read census polygons and normalise them to GEOID strings in EPSG:4326.

    Parameters
    ----------
    path : path-like or str
        A shapefile, GeoJSON or GeoPackage, or a member of a zip as ``zip:///dir/file.zip!member``.
    geoid_column : str, optional
        The column holding GEOIDs; by default the first of :data:`GEOID_CANDIDATES` present (any case).
    level : {"cbg", "tract", "county", "state", "block"}, optional
        Expected level; inferred from the GEOID length when omitted. GEOIDs stored as numbers get
        their lost leading zero back, but a number alone is ambiguous (11 digits: a tract, or a block
        group of states 01-09), so give ``level`` when the file stores GEOIDs as numbers.
    layer : str, optional
        Layer of a multi-layer source (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        ``GEOID`` (str) first, the other attributes, ``geometry`` last, CRS EPSG:4326, one row per GEOID
        in file order; ``attrs["level"]`` is the level.

    Raises
    ------
    MobilityError
        Missing or unreadable file, no GEOID column, bad or duplicate GEOIDs, no CRS, empty or
        non-polygon geometry.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely.geometry import box
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cbg.geojson"
    >>> gpd.GeoDataFrame({"geoid": [10010201001]}, geometry=[box(0, 0, 1, 1)], crs=3857).to_file(p)
    >>> g = read_geometry(p, level="cbg")
    >>> g["GEOID"].tolist(), g.crs.to_epsg(), g.attrs["level"]
    (['010010201001'], 4326, 'cbg')
    """
    existing_file(path, "geometry")
    source = os.fspath(path)
    try:
        gdf = gpd.read_file(source, layer=layer) if layer is not None else gpd.read_file(source)
    except Exception as exc:  # pyogrio raises its own DataSourceError / DataLayerError types
        raise MobilityError(
            f"{source}: cannot read geometry ({exc}); give a shapefile, GeoJSON or GeoPackage, "
            "or 'zip:///path/file.zip!member.shp' for a file inside a zip"
        ) from exc
    if gdf.crs is None:
        raise MobilityError(
            f"{source}: the file has no coordinate reference system (a shapefile needs its .prj); "
            "add it, or set one with geopandas (gdf.set_crs(...)) and save again"
        )
    if len(gdf) == 0:
        raise MobilityError(f"{source}: no features; check the file or layer=")
    column = geoid_column or _find_geoid_column(gdf.columns, source)
    if column not in gdf.columns:
        raise MobilityError(
            f"{source}: geoid_column {column!r} not found; columns are "
            f"{[c for c in gdf.columns if c != 'geometry']}"
        )
    geoid, level = normalize_geoid(gdf[column], level=level, source=source, column=column)
    dup = geoid.duplicated()
    if dup.any():
        raise MobilityError(
            f"{source}: column {column!r}: GEOID {geoid[dup].iloc[0]} appears more than once "
            f"({int(dup.sum())} repeats); dissolve the parts first (gdf.dissolve(by={column!r}))"
        )
    geoms = gdf.geometry.values
    bad = geoms.is_empty | gdf.geometry.isna().to_numpy() | ~np.isin(gdf.geom_type, ["Polygon", "MultiPolygon"])
    if bad.any():
        i = first_row(bad)
        raise MobilityError(
            f"{source}: row {i} (GEOID {geoid.iloc[i]}): geometry is {gdf.geom_type.iloc[i] or 'missing'}, "
            "not a polygon; census areas must be (multi)polygons"
        )
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(geoms[invalid])
    others = [c for c in gdf.columns if c not in (column, gdf.geometry.name, "GEOID")]
    out = gpd.GeoDataFrame(
        {"GEOID": geoid.to_numpy(), **{c: gdf[c].to_numpy() for c in others}},
        geometry=gdf.geometry.to_crs(4326).to_numpy(),
        crs=4326,
    )
    out.attrs["level"] = level
    return out


def assign_points(lat, lon, geometry: gpd.GeoDataFrame) -> pd.Series:
    """GEOID of the polygon containing each point (a spatial join on an STR-tree).

    Parameters
    ----------
    lat, lon : array-like of float
        WGS84 degrees, same length.
    geometry : geopandas.GeoDataFrame
        From :func:`read_geometry` (``GEOID`` column; reprojected to EPSG:4326 here if needed).

    Returns
    -------
    pandas.Series of str
        One GEOID per point, missing (NA) for points in no polygon. A point on the shared border of
        several polygons gets the smallest GEOID, so the answer never depends on file order. The index
        is that of ``lat`` when it is a Series, else 0..n-1.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"GEOID": ["01", "02"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    >>> assign_points([0.5, 0.5, 0.5, 5.0], [0.5, 1.5, 1.0, 5.0], g).tolist()
    ['01', '02', '01', nan]
    """
    index = lat.index if isinstance(lat, pd.Series) else None
    lat_a = np.asarray(lat, dtype=float)
    lon_a = np.asarray(lon, dtype=float)
    if lat_a.shape != lon_a.shape or lat_a.ndim != 1:
        raise MobilityError(f"lat and lon must be 1-d and of equal length, got {lat_a.shape} and {lon_a.shape}")
    bad = ~(np.isfinite(lat_a) & np.isfinite(lon_a) & (np.abs(lat_a) <= 90) & (np.abs(lon_a) <= 180))
    if bad.any():
        i = first_row(bad)
        raise MobilityError(
            f"point {i}: lat {lat_a[i]}, lon {lon_a[i]} is not a WGS84 coordinate (|lat| <= 90, |lon| <= 180); "
            "validate pings first"
        )
    if "GEOID" not in geometry.columns:
        raise MobilityError("geometry has no 'GEOID' column; build it with read_geometry")
    if geometry.crs is None:
        raise MobilityError("geometry has no CRS; build it with read_geometry")
    if geometry.crs.to_epsg() != 4326:
        geometry = geometry.to_crs(4326)
    points = shapely.points(lon_a, lat_a)
    pt_idx, poly_idx = geometry.sindex.query(points, predicate="intersects")
    # rank polygons by GEOID; a point in several (on a border) keeps the smallest rank
    codes, uniques = pd.factorize(geometry["GEOID"].astype(str), sort=True)
    best = np.full(len(lat_a), len(uniques), dtype=np.int64)
    np.minimum.at(best, pt_idx, codes[poly_idx])
    labels = np.append(np.asarray(uniques, dtype=object), np.nan)
    return pd.Series(labels[best], index=index, name="GEOID", dtype="str")
