"""The synthetic city's geography: counties, tracts and block groups tiling a box near Philadelphia.

Block groups are the cells of a jittered quadrilateral grid (interior vertices moved by up to a fifth of a
cell), so they tile the box without gaps or overlaps and stay convex; points are sampled inside a cell
through its bilinear map, which keeps them inside the polygon. Cells east of ``-75.15`` form county 42101,
the north-west county 42091, the south-west county 42045. The central business district sits at
Philadelphia City Hall: residents thin out there and jobs concentrate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mobility.kernels.geo import haversine_m
from mobility.synthetic.params import SyntheticParams

STATE_FIPS = "42"
STATE_ABBR = "pa"
BBOX = {"min_lat": 39.90, "max_lat": 40.10, "min_lon": -75.30, "max_lon": -75.00}
CBD_LAT, CBD_LON = 39.9524, -75.1636
COUNTY_SPLIT_LON, COUNTY_SPLIT_LAT = -75.15, 40.0
M_PER_DEG_LAT = 111_195.0


@dataclass(frozen=True)
class Geography:
    """Block-group table plus the quadrilaterals' corners (``corners[i]`` is 4 x (lat, lon), ccw)."""

    cbgs: pd.DataFrame  # GEOID, COUNTYFP, TRACTCE, BLKGRPCE, lat, lon (centre), cbd_m, population, jobs_weight
    corners: np.ndarray  # (n, 4, 2)

    @property
    def counties(self) -> list[str]:
        return sorted(STATE_FIPS + c for c in self.cbgs["COUNTYFP"].unique())


def n_cbgs_for(params: SyntheticParams) -> int:
    """Number of block groups: ``n_users / users_per_cbg`` clipped to ``[min_cbgs, max_cbgs]``.

    Examples
    --------
    >>> n_cbgs_for(SyntheticParams(n_users=50)), n_cbgs_for(SyntheticParams(n_users=100_000))
    (60, 400)
    """
    return int(np.clip(round(params.n_users / params.users_per_cbg), params.min_cbgs, params.max_cbgs))


def build_geography(params: SyntheticParams, rng: np.random.Generator) -> Geography:
    """Lay out the block groups, name them with consistent GEOIDs, and give each a latent population.

    Examples
    --------
    >>> g = build_geography(SyntheticParams(n_users=50), np.random.default_rng(0))
    >>> len(g.cbgs) >= 60, g.cbgs["GEOID"].str.len().unique().tolist(), g.counties
    (True, [12], ['42045', '42091', '42101'])
    """
    n_target = n_cbgs_for(params)
    height_m = (BBOX["max_lat"] - BBOX["min_lat"]) * M_PER_DEG_LAT
    width_m = (BBOX["max_lon"] - BBOX["min_lon"]) * M_PER_DEG_LAT * np.cos(np.radians(40.0))
    ny = max(2, int(round(np.sqrt(n_target * height_m / width_m))))
    nx = max(2, int(np.ceil(n_target / ny)))
    lat_edges = np.linspace(BBOX["min_lat"], BBOX["max_lat"], ny + 1)
    lon_edges = np.linspace(BBOX["min_lon"], BBOX["max_lon"], nx + 1)
    vlat, vlon = np.meshgrid(lat_edges, lon_edges, indexing="ij")  # (ny+1, nx+1)
    jitter = 0.2
    dlat = (lat_edges[1] - lat_edges[0]) * rng.uniform(-jitter, jitter, vlat.shape)
    dlon = (lon_edges[1] - lon_edges[0]) * rng.uniform(-jitter, jitter, vlon.shape)
    vlat[1:-1, :] += dlat[1:-1, :]  # boundary rows keep their latitude, columns their longitude
    vlon[:, 1:-1] += dlon[:, 1:-1]
    iy, ix = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    iy, ix = iy.ravel(), ix.ravel()
    corner_idx = [(iy, ix), (iy, ix + 1), (iy + 1, ix + 1), (iy + 1, ix)]  # ccw: SW, SE, NE, NW
    corners = np.stack([np.stack([vlat[a, b], vlon[a, b]], axis=-1) for a, b in corner_idx], axis=1)
    clat, clon = corners[:, :, 0].mean(axis=1), corners[:, :, 1].mean(axis=1)
    county = np.where(clon > COUNTY_SPLIT_LON, "101", np.where(clat >= COUNTY_SPLIT_LAT, "091", "045"))
    # tracts: runs of 3 cells in row-major order within a county; block groups numbered 1..3 inside
    order = np.lexsort((ix, iy, county))
    tract = np.empty(len(county), dtype=object)
    bg = np.empty(len(county), dtype=object)
    for c in np.unique(county):
        members = order[county[order] == c]
        k = np.arange(len(members))
        tract[members] = [f"{(t + 1) * 100:06d}" for t in k // 3]
        bg[members] = [str(b + 1) for b in k % 3]
    geoid = np.array([STATE_FIPS + c + t + b for c, t, b in zip(county, tract, bg)])
    cbd_m = haversine_m(clat, clon, CBD_LAT, CBD_LON)
    # residents: denser in the inner ring, thinner in the CBD core; jobs: concentrated at the CBD
    population = np.round(1400 * np.exp(-cbd_m / 15_000) * (1 - 0.6 * np.exp(-cbd_m / 1500))
                          * rng.lognormal(0, 0.3, len(geoid)) + 300).astype(np.int64)
    jobs_weight = (0.15 + 6.0 * np.exp(-cbd_m / 2500) + 0.5 * np.exp(-cbd_m / 8000)) * rng.lognormal(0, 0.5, len(geoid))
    cbgs = pd.DataFrame({
        "GEOID": geoid, "COUNTYFP": county, "TRACTCE": tract.astype(str), "BLKGRPCE": bg.astype(str),
        "lat": clat, "lon": clon, "cbd_m": cbd_m, "population": population, "jobs_weight": jobs_weight,
    })
    srt = np.argsort(geoid, kind="stable")
    return Geography(cbgs=cbgs.iloc[srt].reset_index(drop=True), corners=corners[srt])


def sample_in_cbgs(geo: Geography, cbg_index: np.ndarray, rng: np.random.Generator,
                   margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Uniform-ish points inside the given block groups (bilinear map of ``[margin, 1-margin]^2``).

    Examples
    --------
    >>> g = build_geography(SyntheticParams(n_users=50), np.random.default_rng(0))
    >>> lat, lon = sample_in_cbgs(g, np.array([0, 0, 5]), np.random.default_rng(1))
    >>> lat.shape, bool((lat > 39.9).all() and (lat < 40.1).all())
    ((3,), True)
    """
    u = rng.uniform(margin, 1 - margin, len(cbg_index))[:, None]
    v = rng.uniform(margin, 1 - margin, len(cbg_index))[:, None]
    c = geo.corners[cbg_index]  # (n, 4, 2)
    p = (1 - u) * (1 - v) * c[:, 0] + u * (1 - v) * c[:, 1] + u * v * c[:, 2] + (1 - u) * v * c[:, 3]
    return p[:, 0], p[:, 1]


def cbg_polygons(geo: Geography):
    """The block groups as a GeoDataFrame (EPSG:4326): GEOID, COUNTYFP, TRACTCE, BLKGRPCE, geometry.

    Examples
    --------
    >>> g = build_geography(SyntheticParams(n_users=50), np.random.default_rng(0))
    >>> gdf = cbg_polygons(g)
    >>> list(gdf.columns), bool(gdf.is_valid.all())
    (['GEOID', 'COUNTYFP', 'TRACTCE', 'BLKGRPCE', 'geometry'], True)
    """
    import geopandas as gpd
    import shapely

    rings = geo.corners[:, :, ::-1]  # (lon, lat)
    polys = shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))
    frame = geo.cbgs[["GEOID", "COUNTYFP", "TRACTCE", "BLKGRPCE"]].copy()
    return gpd.GeoDataFrame(frame, geometry=polys, crs="EPSG:4326")


def offset_m(lat: np.ndarray, lon: np.ndarray, distance_m: np.ndarray,
             bearing_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points ``distance_m`` away from (lat, lon) towards ``bearing_rad`` (0 = north), on the local flat
    approximation the generator uses (``M_PER_DEG_LAT`` metres per degree of latitude).

    Examples
    --------
    >>> lat, lon = offset_m(np.array([40.0]), np.array([-75.0]), np.array([1000.0]), np.array([np.pi / 2]))
    >>> round(float(haversine_m(40.0, -75.0, lat[0], lon[0])), 1)
    1000.0
    """
    return (lat + distance_m * np.cos(bearing_rad) / M_PER_DEG_LAT,
            lon + distance_m * np.sin(bearing_rad) / (M_PER_DEG_LAT * np.cos(np.radians(lat))))


def clip_to_box(lat: np.ndarray, lon: np.ndarray, margin_m: float = 500.0) -> tuple[np.ndarray, np.ndarray]:
    """Clip points into the region's box shrunk by ``margin_m`` (so GPS noise stays inside the box).

    Examples
    --------
    >>> clip_to_box(np.array([41.0]), np.array([-75.1]))[0].round(4).tolist()
    [40.0955]
    """
    mlat = margin_m / M_PER_DEG_LAT
    mlon = margin_m / (M_PER_DEG_LAT * np.cos(np.radians(40.0)))
    return (np.clip(lat, BBOX["min_lat"] + mlat, BBOX["max_lat"] - mlat),
            np.clip(lon, BBOX["min_lon"] + mlon, BBOX["max_lon"] - mlon))
