"""mobility: employment status over time from privacy-enhanced GPS traces, and how job loss changes mobility.

The public API, one level per step of the pipeline (see README.md):

>>> import mobility
>>> region = mobility.generate_region("region", mobility.SyntheticParams(n_users=50, end="2020-01-28"))  # doctest: +SKIP
>>> raw = mobility.read_pings(region / "pings")                                   # doctest: +SKIP
>>> pings = mobility.validate_pings(raw, timezone="America/New_York").pings      # doctest: +SKIP
>>> visits = mobility.assign_locations(mobility.detect_stops(pings))            # doctest: +SKIP
>>> labels = mobility.detect_home_work(visits, timezone="America/New_York")      # doctest: +SKIP
>>> weekly = mobility.weekly_metrics(visits, home_work=labels)                  # doctest: +SKIP
"""

from mobility import census, employment, longitudinal, report
from mobility.employment.estimate import estimate_employment
from mobility.errors import MobilityError
from mobility.home_work import HomeWorkParams, detect_home_work
from mobility.io.pings import list_ping_files, read_geolife_labels, read_pings
from mobility.localtime import local_time
from mobility.locations import assign_locations, locations_table
from mobility.metrics import ping_metrics, weekly_metrics
from mobility.obfuscate import labels_from_provider, obfuscate_to_cbg
from mobility.pings import (
    ValidationResult,
    drop_duplicate_pings,
    partition_of,
    validate_pings,
)
from mobility.pipeline import read_table
from mobility.pipeline import run as run_pipeline
from mobility.sample_data import sample_files
from mobility.stops import detect_stops, validate_stops
from mobility.synthetic import SyntheticParams, generate_region, load_truth

__version__ = "0.1.0"

__all__ = [
    "HomeWorkParams",
    "MobilityError",
    "SyntheticParams",
    "ValidationResult",
    "__version__",
    "assign_locations",
    "census",
    "employment",
    "estimate_employment",
    "longitudinal",
    "detect_home_work",
    "detect_stops",
    "drop_duplicate_pings",
    "generate_region",
    "labels_from_provider",
    "list_ping_files",
    "load_truth",
    "local_time",
    "locations_table",
    "obfuscate_to_cbg",
    "partition_of",
    "ping_metrics",
    "read_geolife_labels",
    "read_pings",
    "read_table",
    "report",
    "run_pipeline",
    "sample_files",
    "validate_pings",
    "validate_stops",
    "weekly_metrics",
]
