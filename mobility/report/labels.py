"""Words for people: place names for FIPS codes, plain labels for census groups, plain names for metrics.

Place names come from ``mobility/data/fips_names.csv`` (every state, and the counties of Pennsylvania,
Illinois and New York: US Census Bureau FIPS codes); a code the table does not hold falls back to
``county 12345`` / ``state 12``. Group labels follow the LODES definitions (:data:`mobility.census.DEMOGRAPHICS`:
the workers of the user's baseline work block group, earnings per month at that job).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

GROUP_LABELS: dict[str, dict[str, str]] = {
    "all": {"all": "all users"},
    "sex": {"male": "men", "female": "women"},
    "age": {"le29": "aged 29 or younger", "30_54": "aged 30 to 54", "ge55": "aged 55 or older"},
    "earnings": {"le1250": "$1,250 a month or less", "1251_3333": "$1,251 to $3,333 a month",
                 "gt3333": "more than $3,333 a month"},
    "race": {"white": "White", "black": "Black or African American", "aian": "American Indian or Alaska Native",
             "asian": "Asian", "nhopi": "Native Hawaiian or Pacific Islander", "two_plus": "two or more races"},
    "ethnicity": {"not_hispanic": "not Hispanic or Latino", "hispanic": "Hispanic or Latino"},
    "education": {"lt_hs": "less than high school", "hs": "high school, no college",
                  "some_college": "some college or associate degree", "ba_plus": "bachelor's degree or more"},
}
"""Census group code -> plain label, per dimension (codes of :data:`mobility.census.DEMOGRAPHICS`)."""

DIMENSION_LABELS = {"all": "all users", "sex": "sex", "age": "age", "earnings": "earnings at the job",
                    "race": "race", "ethnicity": "ethnicity", "education": "education (workers aged 30 or more)"}

METRICS: dict[str, tuple[str, str, str]] = {
    "radius_of_gyration_km": (
        "radius of gyration", "km",
        "how far from the centre of their places a person's time is spent: the typical size of their "
        "everyday territory"),
    "k_radius_of_gyration_km": (
        "radius of gyration of the 2 main places", "km",
        "the same over each person's two most visited places (usually home and work)"),
    "exploration_rate": (
        "exploration", "% of visits",
        "the share of a person's visits that go to a place they had never visited before"),
    "uncorrelated_entropy_bits": (
        "entropy of places", "bits",
        "how evenly time is spread over a person's places: 0 when all time is spent in one place, higher "
        "when it is shared among many"),
    "uncorrelated_entropy_norm": (
        "entropy of places, normalised", "0 to 1",
        "how evenly time is spread over a person's places, divided by its largest possible value: 0 when all "
        "time is spent in one place, 1 when it is spread evenly"),
    "random_entropy_bits": ("entropy of the number of places", "bits", "log2 of the number of distinct places"),
    "distinct_locations": ("places visited", "places", "the number of distinct places a person visited"),
    "new_locations": ("new places", "places", "places visited for the first time"),
    "capacity": ("places kept up", "places", "the number of places a person returns to regularly"),
    "time_at_home_h": ("time at home", "hours", "hours spent at the detected home"),
    "time_at_work_h": ("time at work", "hours", "hours spent at the detected workplace"),
}
"""Metric column -> (plain name, unit, one-line explanation)."""

METRIC_SCALE = {"exploration_rate": 100.0}
"""Metrics stored as shares and shown in percent: the factor from the table's unit to the shown one."""


SECTOR_LABELS = {
    "CNS01": "agriculture, forestry, fishing", "CNS02": "mining, oil and gas", "CNS03": "utilities",
    "CNS04": "construction", "CNS05": "manufacturing", "CNS06": "wholesale trade", "CNS07": "retail trade",
    "CNS08": "transportation and warehousing", "CNS09": "information", "CNS10": "finance and insurance",
    "CNS11": "real estate", "CNS12": "professional, scientific, technical services",
    "CNS13": "management of companies", "CNS14": "administrative support, waste management",
    "CNS15": "educational services", "CNS16": "health care and social assistance",
    "CNS17": "arts, entertainment, recreation", "CNS18": "accommodation and food services",
    "CNS19": "other services", "CNS20": "public administration",
}
"""LODES sector column (NAICS 2-digit sectors, :data:`mobility.census.SECTORS`) -> plain name."""


def sector_name(code: str) -> str:
    """Plain name of a LODES sector code (the code itself when unknown).

    Examples
    --------
    >>> sector_name("CNS18"), sector_name("X")
    ('accommodation and food services', 'X')
    """
    return SECTOR_LABELS.get(str(code), str(code))


@lru_cache(maxsize=1)
def fips_names() -> dict[str, tuple[str, str]]:
    """``{fips: (name, state abbreviation)}`` from the table shipped with the package.

    Examples
    --------
    >>> fips_names()["42101"]
    ('Philadelphia County', 'PA')
    """
    with resources.files("mobility").joinpath("data", "fips_names.csv").open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str)
    return {row.fips: (row.name, row.state) for row in table.itertuples(index=False)}


def place_name(fips: str, level: str | None = None) -> str:
    """A place's name: ``Philadelphia County, PA`` for a county, ``Pennsylvania`` for a state.

    ``level`` (``county``/``state``) is inferred from the code's length when absent; an unknown code falls
    back to ``county 99999`` or ``state 99``.

    Examples
    --------
    >>> place_name("42101"), place_name("42"), place_name("99999", "county")
    ('Philadelphia County, PA', 'Pennsylvania', 'county 99999')
    """
    code = str(fips)
    level = level or ("state" if len(code) <= 2 else "county")
    if level == "state" and len(code) == 1:
        code = code.zfill(2)
    found = fips_names().get(code)
    if found is None:
        return f"{level} {code}"
    name, state = found
    return name if level == "state" else f"{name}, {state}"


def group_label(dimension: str, group: str) -> str:
    """Plain label of a census group code.

    Examples
    --------
    >>> group_label("age", "le29"), group_label("earnings", "1251_3333"), group_label("age", "unknown")
    ('aged 29 or younger', '$1,251 to $3,333 a month', 'unknown')
    """
    return GROUP_LABELS.get(dimension, {}).get(str(group), str(group).replace("_", " "))


def metric_name(metric: str, *, unit: bool = True, change: bool = False) -> str:
    """Plain name of a metric column, with its unit in brackets; ``change``: the unit of a difference of it
    (a difference of percentages is in percentage points).

    Examples
    --------
    >>> metric_name("radius_of_gyration_km"), metric_name("exploration_rate", unit=False)
    ('radius of gyration (km)', 'exploration')
    >>> metric_name("exploration_rate"), metric_name("exploration_rate", change=True)
    ('exploration (% of visits)', 'exploration (percentage points)')
    """
    name, units, _ = METRICS.get(metric, (metric.replace("_", " "), "", ""))
    if change and units.startswith("%"):
        units = "percentage points"
    return f"{name} ({units})" if unit and units else name


def metric_explanation(metric: str) -> str:
    """One line on what a metric measures.

    Examples
    --------
    >>> metric_explanation("exploration_rate")
    "exploration: the share of a person's visits that go to a place they had never visited before."
    """
    name, _, text = METRICS.get(metric, (metric, "", ""))
    return f"{name}: {text}." if text else name


def month_name(month: str) -> str:
    """``2020-04`` -> ``April 2020``.

    Examples
    --------
    >>> month_name("2020-04")
    'April 2020'
    """
    return pd.Period(month, freq="M").strftime("%B %Y")
