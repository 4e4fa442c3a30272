"""Census features of each person from the block group (CBG) of their work place or home.

The privacy-enhanced feed gives only a person's work and home CBG, so their sector and demographics are
known as probabilities: the composition of the jobs counted by LODES in that CBG (method.md section 5).

Work side (:func:`work_features`, from LODES WAC, jobs by workplace): for a person u working in CBG c,
``w_CNS<s> = CNS_s(c) / C000(c)`` is the probability that u works in sector s; ``p_<dim>_<category>``
the probability of each category of sex (CS), age (CA), monthly earnings (CE), race (CR), ethnicity (CT)
and education (CD) among the jobs in c (education among workers aged 30 or more, ``CD01..04 / (C000 -
CA01)``, because LODES does not tabulate it for younger workers); ``telework = sum_s w_CNS<s> tau_s``.

Home side (:func:`home_features`, from LODES RAC, jobs by residence, and/or ACS shares): the same
probabilities for the jobs held by residents of the home CBG, prefixed ``home_``; ACS shares of the home
area (from :func:`mobility.census.acs.acs_shares`, with their MOEs) are added as ``home_acs_<name>``.

A census table at a coarser level (tract, county) is joined on the first 11/5 digits of the CBG.
A person whose CBG is missing, or absent from the census table, gets a row of NaN; the counts are
logged and stored in ``attrs`` (``n_rows``, ``n_no_cbg``, ``n_cbg_not_in_census``).
Output tables carry no coordinates: ``user_id``, the period column(s) of the input, the CBG, features.
"""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.census.geoid import LEVEL_DIGITS, normalize_geoid
from mobility.census.lodes import SECTORS, aggregate_lodes
from mobility.census.telework import mix_teleworkability
from mobility.errors import MobilityError

log = logging.getLogger(__name__)

DEMOGRAPHICS: Mapping[str, Mapping[str, str]] = {
    "sex": {"CS01": "male", "CS02": "female"},
    "age": {"CA01": "le29", "CA02": "30_54", "CA03": "ge55"},
    "earnings": {"CE01": "le1250", "CE02": "1251_3333", "CE03": "gt3333"},
    "race": {"CR01": "white", "CR02": "black", "CR03": "aian", "CR04": "asian", "CR05": "nhopi",
             "CR07": "two_plus"},
    "ethnicity": {"CT01": "not_hispanic", "CT02": "hispanic"},
    "education": {"CD01": "lt_hs", "CD02": "hs", "CD03": "some_college", "CD04": "ba_plus"},
}
"""LODES column -> category label, per demographic dimension; feature columns are ``p_<dim>_<label>``."""

ID_COLUMNS = ("user_id", "period", "date", "week", "month")
"""Input columns carried to the output (those present); all others are dropped (no coordinates leak)."""


def feature_columns(dimension: str, prefix: str = "") -> list[str]:
    """Names of the probability columns of ``dimension`` (``"sector"`` or a key of :data:`DEMOGRAPHICS`).

    Examples
    --------
    >>> feature_columns("sex")
    ['p_sex_male', 'p_sex_female']
    >>> feature_columns("sector", "home_")[:2]
    ['home_w_CNS01', 'home_w_CNS02']
    """
    if dimension == "sector":
        return [f"{prefix}w_{s}" for s in SECTORS]
    if dimension not in DEMOGRAPHICS:
        raise MobilityError(f"unknown dimension {dimension!r}; use 'sector' or one of {list(DEMOGRAPHICS)}")
    return [f"{prefix}p_{dimension}_{label}" for label in DEMOGRAPHICS[dimension].values()]


def cbg_probabilities(lodes: pd.DataFrame, telework: pd.Series | None = None) -> pd.DataFrame:
    """Sector and demographic probabilities of the jobs of each area of a LODES WAC/RAC table.

    Parameters
    ----------
    lodes : pandas.DataFrame
        Area-level counts with ``GEOID`` (from :func:`~mobility.census.lodes.aggregate_lodes`), or a
        block-level table from :func:`~mobility.census.lodes.read_lodes` (aggregated to CBG here).
    telework : pandas.Series, optional
        Teleworkability by sector (:func:`~mobility.census.telework.read_teleworkability`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``GEOID``: ``w_CNS01..20``, ``p_<dim>_<label>`` for every dimension whose columns are
        present, and ``telework`` when given. Each group sums to 1 (NaN where its total is 0).

    Examples
    --------
    >>> jobs = pd.DataFrame({"GEOID": ["420030201001"], "C000": [4], "CS01": [1], "CS02": [3],
    ...                      **{s: [0] for s in SECTORS}})
    >>> jobs["CNS12"] = 4
    >>> cbg_probabilities(jobs)[["w_CNS12", "p_sex_male", "p_sex_female"]].iloc[0].tolist()
    [1.0, 0.25, 0.75]
    """
    if "GEOID" not in lodes.columns:
        if "w_geocode" in lodes.columns or "h_geocode" in lodes.columns:
            lodes = aggregate_lodes(lodes, "cbg")
        else:
            raise MobilityError(
                "LODES table has no 'GEOID' (area) or 'w_geocode'/'h_geocode' (block) column; "
                "pass aggregate_lodes(read_lodes(path), 'cbg')"
            )
    require_columns(lodes, ("C000",) + SECTORS, "LODES table", "pass a WAC or RAC table from read_lodes")
    total = lodes["C000"].to_numpy(dtype=float)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        sectors = lodes[list(SECTORS)].to_numpy(dtype=float)
        for j, s in enumerate(SECTORS):
            out[f"w_{s}"] = np.where(total > 0, sectors[:, j] / total, np.nan)
        for dim, cats in DEMOGRAPHICS.items():
            if not all(c in lodes.columns for c in cats):
                continue
            denom = total - lodes["CA01"].to_numpy(dtype=float) if dim == "education" else total
            for col, label in cats.items():
                out[f"p_{dim}_{label}"] = np.where(denom > 0, lodes[col].to_numpy(dtype=float) / denom, np.nan)
    res = pd.DataFrame(out, index=pd.Index(lodes["GEOID"].astype(str).to_numpy(), name="GEOID"))
    if telework is not None:
        res["telework"] = mix_teleworkability(
            res[[f"w_{s}" for s in SECTORS]].set_axis(list(SECTORS), axis=1), telework
        ).to_numpy()
    if res.index.duplicated().any():
        raise MobilityError(
            f"LODES table: GEOID {res.index[res.index.duplicated()][0]} appears twice; aggregate it first"
        )
    return res


def _join_people(
    people: pd.DataFrame, cbg_column: str, area_table: pd.DataFrame, prefix: str, what: str
) -> tuple[pd.DataFrame, dict]:
    require_columns(people, ["user_id", cbg_column], "person table", f"give user_id and {cbg_column}")
    ids = [c for c in ID_COLUMNS if c in people.columns]
    present = people[cbg_column].notna()
    cbg = pd.Series(pd.NA, index=people.index, dtype="str")
    if present.any():
        cbg[present], _ = normalize_geoid(people.loc[present, cbg_column], level="cbg", column=cbg_column,
                                          source="person table")
    digits = set(pd.Index(area_table.index.astype(str)).str.len().unique().tolist())
    if len(digits) != 1 or min(digits) not in LEVEL_DIGITS.values() or min(digits) > LEVEL_DIGITS["cbg"]:
        raise MobilityError(
            f"{what}: GEOIDs must all be state, county, tract or block-group codes of one level; got lengths "
            f"{sorted(digits)}"
        )
    key = cbg.str.slice(0, digits.pop())
    feats = area_table.add_prefix(prefix).reindex(key.to_numpy())
    found = key.isin(area_table.index).to_numpy()
    out = people[ids].reset_index(drop=True)
    out[cbg_column] = cbg.to_numpy()
    out = pd.concat([out, feats.reset_index(drop=True)], axis=1)
    counts = {
        "n_rows": len(out),
        "n_no_cbg": int((~present).sum()),
        "n_cbg_not_in_census": int((present.to_numpy() & ~found).sum()),
    }
    if counts["n_no_cbg"] or counts["n_cbg_not_in_census"]:
        log.warning(
            "%s: %d of %d rows have no %s and %d have a CBG absent from the census table; their features are NaN",
            what, counts["n_no_cbg"], counts["n_rows"], cbg_column, counts["n_cbg_not_in_census"],
        )
    return out, counts


def work_features(
    work_cbg: pd.DataFrame,
    wac_cbg: pd.DataFrame,
    telework: pd.Series | None = None,
    *,
    cbg_column: str = "work_cbg",
) -> pd.DataFrame:
    """Sector, demographic and teleworkability probabilities of each person from their work CBG (WAC).

    Parameters
    ----------
    work_cbg : pandas.DataFrame
        ``user_id``, ``cbg_column`` (12-digit GEOID, may be missing) and optionally ``period``/``date``/
        ``week``/``month`` (one row per person, or per person and period when the work place changes).
    wac_cbg : pandas.DataFrame
        LODES WAC at CBG level (``aggregate_lodes(read_lodes(wac), "cbg")``), or coarser, or block level.
    telework : pandas.Series, optional
        Teleworkability by sector; adds the ``telework`` column.
    cbg_column : str
        The work CBG column.

    Returns
    -------
    pandas.DataFrame
        ``user_id``, the period columns, ``cbg_column``, ``w_CNS01..20``, ``p_<dim>_<label>``,
        ``telework``; one row per input row, in input order. ``attrs`` holds the counts (module notes).

    Examples
    --------
    >>> wac = pd.DataFrame({"GEOID": ["420030201001"], "C000": [4], **{s: [0] for s in SECTORS}})
    >>> wac["CNS12"], wac["CNS18"] = 3, 1
    >>> tau = pd.Series(0.0, index=list(SECTORS)); tau["CNS12"] = 0.8
    >>> people = pd.DataFrame({"user_id": ["a", "b"], "work_cbg": ["420030201001", "420030201002"]})
    >>> f = work_features(people, wac, tau)
    >>> f[["user_id", "w_CNS12", "w_CNS18", "telework"]].round(3).to_dict("list")
    {'user_id': ['a', 'b'], 'w_CNS12': [0.75, nan], 'w_CNS18': [0.25, nan], 'telework': [0.6, nan]}
    >>> f.attrs["n_cbg_not_in_census"]
    1
    """
    table = cbg_probabilities(wac_cbg, telework)
    out, counts = _join_people(work_cbg, cbg_column, table, "", "work_features")
    out.attrs.update(counts)
    return out


def home_features(
    home_cbg: pd.DataFrame,
    rac_cbg: pd.DataFrame | None = None,
    telework: pd.Series | None = None,
    *,
    acs: pd.DataFrame | None = None,
    cbg_column: str = "home_cbg",
    prefix: str = "home_",
) -> pd.DataFrame:
    """Probabilities of each person from their home CBG: LODES RAC job mix and/or ACS shares.

    Parameters
    ----------
    home_cbg : pandas.DataFrame
        ``user_id``, ``cbg_column`` and optional period columns, as in :func:`work_features`.
    rac_cbg : pandas.DataFrame, optional
        LODES RAC at CBG (or coarser, or block) level: the jobs held by residents of each area.
    telework : pandas.Series, optional
        Teleworkability by sector (needs ``rac_cbg``).
    acs : pandas.DataFrame, optional
        ``GEOID`` plus share and MOE columns (:func:`~mobility.census.acs.acs_shares`), CBG or tract level.
    cbg_column, prefix : str
        The home CBG column, and the prefix of every feature column (``home_w_CNS01``, ``home_acs_white``).

    Returns
    -------
    pandas.DataFrame
        ``user_id``, period columns, ``cbg_column``, then ``<prefix>w_CNS..``, ``<prefix>p_..``,
        ``<prefix>telework`` (from RAC) and ``<prefix>acs_<name>``, ``<prefix>acs_<name>_moe`` (from ACS).

    Examples
    --------
    >>> acs = pd.DataFrame({"GEOID": ["36103110101"], "white": [0.9], "white_moe": [0.05]})
    >>> people = pd.DataFrame({"user_id": ["a"], "home_cbg": ["361031101011"]})
    >>> home_features(people, acs=acs)[["home_cbg", "home_acs_white", "home_acs_white_moe"]].to_dict("list")
    {'home_cbg': ['361031101011'], 'home_acs_white': [0.9], 'home_acs_white_moe': [0.05]}
    """
    if rac_cbg is None and acs is None:
        raise MobilityError("home_features needs rac_cbg (LODES RAC) or acs (ACS shares), or both")
    if telework is not None and rac_cbg is None:
        raise MobilityError("home teleworkability needs the RAC sector mix: pass rac_cbg too")
    out, counts = None, {}
    if rac_cbg is not None:
        table = cbg_probabilities(rac_cbg, telework)
        out, counts = _join_people(home_cbg, cbg_column, table, prefix, "home_features (RAC)")
    if acs is not None:
        require_columns(acs, ["GEOID"], "ACS shares", "pass the output of acs_shares")
        table = acs.set_index(acs["GEOID"].astype(str)).drop(columns="GEOID").add_prefix("acs_")
        acs_out, acs_counts = _join_people(home_cbg, cbg_column, table, prefix, "home_features (ACS)")
        if out is None:
            out, counts = acs_out, acs_counts
        else:
            new = [c for c in acs_out.columns if c.startswith(prefix + "acs_")]
            out = pd.concat([out, acs_out[new]], axis=1)
            counts["n_cbg_not_in_acs"] = acs_counts["n_cbg_not_in_census"]
    out.attrs.update(counts)
    return out
