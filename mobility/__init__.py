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

import importlib

from mobility.errors import MobilityError

# public name -> module that defines it; imported on first use (PEP 562), so that ``import mobility.pipeline``
# or ``import mobility`` does not load scikit-learn, statsmodels, LightGBM and matplotlib until they are used
_LAZY = {
    "estimate_employment": "mobility.employment.estimate",
    "HomeWorkParams": "mobility.home_work", "detect_home_work": "mobility.home_work",
    "list_ping_files": "mobility.io.pings", "read_geolife_labels": "mobility.io.pings", "read_pings": "mobility.io.pings",
    "local_time": "mobility.localtime",
    "assign_locations": "mobility.locations", "locations_table": "mobility.locations",
    "ping_metrics": "mobility.metrics", "weekly_metrics": "mobility.metrics",
    "labels_from_provider": "mobility.obfuscate", "obfuscate_to_cbg": "mobility.obfuscate",
    "ValidationResult": "mobility.pings", "check_pings": "mobility.pings", "drop_duplicate_pings": "mobility.pings", "partition_of": "mobility.pings",
    "validate_pings": "mobility.pings",
    "read_table": "mobility.pipeline",
    "detect_stops": "mobility.stops", "validate_stops": "mobility.stops",
    "sample_files": "mobility.sample_data",
    "SyntheticParams": "mobility.synthetic", "generate_region": "mobility.synthetic", "load_truth": "mobility.synthetic",
}
_RENAMED = {"run_pipeline": ("mobility.pipeline", "run")}
_SUBPACKAGES = ("census", "employment", "longitudinal", "report")


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"mobility.{name}")
    if name in _LAZY or name in _RENAMED:
        module, attr = _RENAMED.get(name, (_LAZY.get(name), name))
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value  # once imported, a plain attribute
        return value
    raise AttributeError(f"module 'mobility' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.1.0"

__all__ = [
    "HomeWorkParams",
    "MobilityError",
    "SyntheticParams",
    "ValidationResult",
    "__version__",
    "assign_locations",
    "census",
    "check_pings",
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
