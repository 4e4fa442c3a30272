"""Population margins for weighting a panel (:mod:`mobility.employment.weights`): totals per area and category.

* :func:`lodes_margins` -- jobs by *residence* (LODES RAC) per county: the workers a county's labour force
  holds, by supersector (:data:`SUPERSECTORS`: the 20 NAICS sectors in six groups; a panel of a few hundred
  workers per county cannot be raked to 20 soft sector categories without weights that chase noise, measured
  in ``benchmarks/README.md``), age (``CA01..03``), earnings (``CE01..03``) and sex (``CS01..02``); the 20
  sectors (``"sector"``) on request. RAC counts jobs, not people (a person with two jobs counts twice) in its
  reference year.
* :func:`acs_sex_age` -- the ACS population aged 16 or more by sex and the three LODES age groups
  (16-29, 30-54, 55+) per block group, from table B01001 (sex by age). B01001's 15-17 band is taken as
  two thirds 16-17 (ours: uniform within the band).

Both return a wide table indexed by ``GEOID`` with one column per category (:data:`ACS_SEX_AGE`, or the
LODES codes), which :func:`area_totals` sums to counties and :func:`member_shares` turns into a person's
soft membership (the mix of their block group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.census.lodes import WAC_RAC_GROUPS, aggregate_lodes
from mobility.checks import require_columns
from mobility.errors import MobilityError

SUPERSECTORS = {
    "goods": ("CNS01", "CNS02", "CNS03", "CNS04", "CNS05"),  # agriculture .. manufacturing (NAICS 11-33)
    "trade_transport": ("CNS06", "CNS07", "CNS08"),  # wholesale, retail, transport (42-49)
    "information_finance_professional": ("CNS09", "CNS10", "CNS11", "CNS12", "CNS13"),  # 51-55
    "admin_education_health": ("CNS14", "CNS15", "CNS16"),  # 56, 61, 62
    "leisure_other_services": ("CNS17", "CNS18", "CNS19"),  # 71, 72, 81
    "public_administration": ("CNS20",),  # 92
}
"""The 20 LODES sectors in six groups (NAICS supersectors, ours); the ``supersector`` margin."""

LODES_MARGINS = ("supersector", "age", "earnings", "sex")
"""Margins of the workers' weights by default (``supersector`` or ``sector``, and keys of ``WAC_RAC_GROUPS``)."""

_B01001_AGE = {  # ACS B01001 rows of one sex (offset from the sex's total row) -> (age group, share of the band)
    **{k: ("16_29", 1.0) for k in range(5, 10)},  # 18-19, 20, 21, 22-24, 25-29
    4: ("16_29", 2.0 / 3.0),  # 15-17: two thirds are 16 or 17
    **{k: ("30_54", 1.0) for k in range(10, 15)},  # 30-34 .. 50-54
    **{k: ("55_plus", 1.0) for k in range(15, 24)},  # 55-59 .. 85+
}
ACS_SEX_AGE = tuple(f"{sex}_{age}" for sex in ("male", "female") for age in ("16_29", "30_54", "55_plus"))
"""Categories of :func:`acs_sex_age`."""


def lodes_margins(rac: pd.DataFrame, *, groups: tuple[str, ...] = LODES_MARGINS, level: str = "cbg") -> pd.DataFrame:
    """RAC job counts of the margin categories per area (module notes).

    Parameters
    ----------
    rac : DataFrame
        RAC from :func:`~mobility.census.lodes.read_lodes` (block level) or already aggregated (``GEOID``).
    groups : tuple of str
        Keys of :data:`~mobility.census.lodes.WAC_RAC_GROUPS`.
    level : str
        Aggregation level when ``rac`` is block level.

    Examples
    --------
    >>> rac = pd.DataFrame({"GEOID": ["421010001001"], "C000": [3], "CS01": [1], "CS02": [2]})
    >>> lodes_margins(rac, groups=("sex",)).to_dict("list")
    {'CS01': [1.0], 'CS02': [2.0]}
    >>> rac = pd.DataFrame({"GEOID": ["421010001001"], "C000": [20], **{f"CNS{i:02d}": [1] for i in range(1, 21)}})
    >>> lodes_margins(rac, groups=("supersector",)).iloc[0].tolist()
    [5.0, 3.0, 5.0, 3.0, 3.0, 1.0]
    """
    unknown = [g for g in groups if g not in WAC_RAC_GROUPS and g != "supersector"]
    if unknown:
        raise MobilityError(f"lodes_margins: unknown groups {unknown}; use some of "
                            f"{sorted(WAC_RAC_GROUPS) + ['supersector']}")
    table = rac if "GEOID" in rac.columns else aggregate_lodes(rac, level)
    columns = [c for g in groups for c in (WAC_RAC_GROUPS["sector"] if g == "supersector" else WAC_RAC_GROUPS[g])]
    require_columns(table, columns, "LODES RAC", "pass a RAC table from read_lodes")
    out = table.set_index(table["GEOID"].astype(str)).rename_axis("GEOID")
    keep = [c for g in groups if g != "supersector" for c in WAC_RAC_GROUPS[g]]
    result = out[keep].astype(float)
    if "supersector" in groups:
        result = pd.concat([supersectors(out), result], axis=1)
    return result


def supersectors(table: pd.DataFrame, prefix: str = "") -> pd.DataFrame:
    """Sum ``<prefix>CNS01..20`` columns into the :data:`SUPERSECTORS` (columns named by the groups).

    Examples
    --------
    >>> t = pd.DataFrame({f"w_CNS{i:02d}": [0.05] for i in range(1, 21)})
    >>> supersectors(t, "w_").round(2).iloc[0].tolist()
    [0.25, 0.15, 0.25, 0.15, 0.15, 0.05]
    """
    return pd.DataFrame({name: table[[prefix + c for c in cols]].astype(float).sum(axis=1, min_count=len(cols))
                         for name, cols in SUPERSECTORS.items()}, index=table.index)


def acs_sex_age(acs: pd.DataFrame) -> pd.DataFrame:
    """Population 16+ by sex and age group per area from ACS B01001 estimates (module notes).

    Examples
    --------
    >>> row = {"GEOID": ["421010001001"], **{f"B01001_{i:03d}E": [10.0] for i in range(1, 50)}}
    >>> acs_sex_age(pd.DataFrame(row)).round(2).iloc[0].tolist()
    [56.67, 50.0, 90.0, 56.67, 50.0, 90.0]
    """
    needed = [f"B01001_{i:03d}E" for i in range(1, 50)]
    require_columns(acs, needed, "ACS sex by age", "read table B01001 (sexage) with read_acs")
    out = pd.DataFrame(0.0, index=pd.Index(acs["GEOID"].astype(str), name="GEOID"), columns=list(ACS_SEX_AGE))
    for sex, total_row in (("male", 2), ("female", 26)):
        for offset, (age, share) in _B01001_AGE.items():
            values = pd.to_numeric(acs[f"B01001_{total_row + offset:03d}E"], errors="coerce").fillna(0.0)
            out[f"{sex}_{age}"] += share * values.to_numpy(float)
    return out


def area_totals(table: pd.DataFrame, digits: int = 5) -> pd.DataFrame:
    """Sum a wide table indexed by GEOID to areas of ``digits`` digits (5: counties).

    Examples
    --------
    >>> t = pd.DataFrame({"a": [1.0, 2.0]}, index=pd.Index(["421010001001", "421010002001"], name="GEOID"))
    >>> area_totals(t).to_dict("index")
    {'42101': {'a': 3.0}}
    """
    return table.groupby(table.index.astype(str).str.slice(0, digits)).sum().rename_axis("area")


def member_shares(table: pd.DataFrame, geoids) -> np.ndarray:
    """Each person's soft membership: the category shares of their GEOID's row (NaN rows where the GEOID is
    missing or empty), as an array (n_people x n_categories).

    Examples
    --------
    >>> t = pd.DataFrame({"a": [1.0], "b": [3.0]}, index=["421010001001"])
    >>> member_shares(t, ["421010001001", "x"]).tolist()
    [[0.25, 0.75], [nan, nan]]
    """
    total = table.sum(axis=1)
    shares = table.div(total.where(total > 0), axis=0)
    return shares.reindex(pd.Index(geoids, dtype=object).astype(str)).to_numpy(float)
