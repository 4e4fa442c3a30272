"""Shared public venues of a synthetic region (shops, cafes, gyms): places many people visit.

The private places of the exploration and preferential return model (:mod:`~mobility.synthetic.daily`)
belong to one person each; venues are common to all. There are ``shared_venues_per_1000_users`` of them per
1,000 people (at least one). Each sits in a block group drawn with probability proportional to its job
weight (retail and services follow the jobs, so venues crowd the business district, close to many
workplaces), uniformly in the middle half of that cell, and has an attractiveness weight drawn from a
lognormal with sigma :data:`VENUE_WEIGHT_SIGMA` (a few large supermarkets, many small cafes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mobility.synthetic.geography import Geography, sample_in_cbgs
from mobility.synthetic.params import SyntheticParams

VENUE_WEIGHT_SIGMA = 1.0  # lognormal sigma of the venues' attractiveness (median 1)
VENUE_CELL_MARGIN = 0.25  # venues lie in the bilinear [0.25, 0.75]^2 middle of their block group


@dataclass(frozen=True)
class Venues:
    """Shared venues: coordinates, attractiveness weight (relative, > 0) and block group of each.

    Examples
    --------
    >>> v = Venues(lat=np.array([40.0, 40.01]), lon=np.array([-75.1, -75.1]), weight=np.array([1.0, 3.0]),
    ...            cbg=np.array(["421010001001", "421010001002"]))
    >>> len(v), v.to_frame()["venue_id"].tolist()
    (2, [0, 1])
    """

    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray
    cbg: np.ndarray

    def __len__(self) -> int:
        return len(self.lat)

    def to_frame(self) -> pd.DataFrame:
        """The ``truth/venues.parquet`` table: venue_id (int64), lat, lon, weight (float64), cbg (string)."""
        return pd.DataFrame({"venue_id": np.arange(len(self), dtype=np.int64), "lat": self.lat, "lon": self.lon,
                             "weight": self.weight, "cbg": pd.array(self.cbg, dtype="string")})


def n_venues_for(params: SyntheticParams) -> int:
    """Number of shared venues: ``shared_venues_per_1000_users * n_users / 1000`` rounded, at least 1; 0 when
    the knob is 0.

    Examples
    --------
    >>> n_venues_for(SyntheticParams(n_users=1000))
    0
    >>> n_venues_for(SyntheticParams(n_users=1000, shared_venues_per_1000_users=40.0))
    40
    >>> n_venues_for(SyntheticParams(n_users=10, shared_venues_per_1000_users=5.0))
    1
    """
    if params.shared_venues_per_1000_users == 0:
        return 0
    return max(1, round(params.shared_venues_per_1000_users * params.n_users / 1000))


def draw_venues(params: SyntheticParams, geo: Geography, rng: np.random.Generator) -> Venues:
    """Draw the region's shared venues (see the module docstring).

    Examples
    --------
    >>> from mobility.synthetic.geography import build_geography
    >>> p = SyntheticParams(n_users=500, shared_venues_per_1000_users=100.0)
    >>> g = build_geography(p, np.random.default_rng(0))
    >>> v = draw_venues(p, g, np.random.default_rng(1))
    >>> len(v), bool((v.weight > 0).all()), bool(set(v.cbg) <= set(g.cbgs["GEOID"]))
    (50, True, True)
    """
    n = n_venues_for(params)
    jobs = geo.cbgs["jobs_weight"].to_numpy(float)
    cell = rng.choice(len(jobs), size=n, p=jobs / jobs.sum())
    lat, lon = sample_in_cbgs(geo, cell, rng, margin=VENUE_CELL_MARGIN)
    weight = rng.lognormal(0.0, VENUE_WEIGHT_SIGMA, n)
    return Venues(lat=lat, lon=lon, weight=weight, cbg=geo.cbgs["GEOID"].to_numpy()[cell])
