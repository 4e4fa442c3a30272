"""Small sample files shipped with the package, in the formats real data come in (for notebook 04 and tests).

A synthetic city written by ``scripts/make_sample_data.py`` (the generator's easy world): 15 phones over four
weeks of March 2020 in three Pennsylvania counties (Philadelphia, Delaware, Montgomery), local time
America/New_York.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLE_FILES = {
    "pings": "phone_pings.csv.gz",
    "cbg": "cbg.geojson",
    "lodes_wac": "pa_wac_S000_JT00_2019.csv.gz",
    "lodes_rac": "pa_rac_S000_JT00_2019.csv.gz",
    "telework": "NAICS_workfromhome.csv",
}
"""Role -> file name: a phone-export CSV of pings (``device, local_time, latitude, longitude, accuracy``),
block-group polygons (GeoJSON with ``GEOID``), a LODES WAC and RAC extract (LEHD's CSV layout) and the Dingel &
Neiman teleworkability by NAICS sector."""


def sample_files() -> dict[str, Path]:
    """Paths of the sample files, by the ``[inputs]`` key each would fill in a region config.

    Examples
    --------
    >>> files = sample_files()
    >>> sorted(files), files["pings"].name
    (['cbg', 'lodes_rac', 'lodes_wac', 'pings', 'telework'], 'phone_pings.csv.gz')
    >>> all(p.is_file() for p in files.values())
    True
    """
    folder = Path(str(resources.files("mobility").joinpath("data", "sample")))
    return {role: folder / name for role, name in SAMPLE_FILES.items()}
