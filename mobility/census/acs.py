"""American Community Survey tables with margins of error, and derived shares with propagated MOEs.

Layout read (the Census API pull layout, e.g. ``rawACSdata_race/blockgroup_race_ests.csv`` and
``..._moes.csv``): a ``GEOID`` column (``g`` + 12 digits for block groups, 11 for tracts; plain digits
and data.census.gov ``1500000US...`` ids also work), estimate columns ending in ``E`` (``B03002_003E``)
in one file and 90 % margins of error ending in ``M`` (``B03002_003M``) in another (or in the same file).
Columns with neither suffix (e.g. Social Explorer's ``SE_T007_002``) are kept as estimates.

Census API annotation codes in place of numbers are decoded: ``-555555555`` as a MOE means "controlled,
no sampling error" (MOE 0); other large negative codes (``-666666666``, ``-222222222``, ``-333333333``,
``-888888888``, ``-999999999``) mean "not available" (NaN).

Shares use the Census ACS handbook ("Understanding and Using ACS Data", 2020, ch. 8) formulas for a
proportion ``p = x / y`` whose numerator is a subset of the denominator:
``MOE_p = sqrt(MOE_x^2 - p^2 MOE_y^2) / y``, and, when the radicand is negative, the ratio formula
``MOE_p = sqrt(MOE_x^2 + p^2 MOE_y^2) / y``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from mobility.checks import existing_file, numeric_column, require_columns
from mobility.census.geoid import normalize_geoid
from mobility.errors import MobilityError

CONTROLLED_MOE = -555555555
"""Census API code: the estimate is controlled, its MOE is 0."""

ANNOTATION_THRESHOLD = -111111111
"""Values at or below this are Census API annotation codes, not data."""


def proportion_moe(x, y, moe_x, moe_y) -> tuple[np.ndarray, np.ndarray]:
    """Share ``p = x / y`` and its MOE, by the ACS proportion formula with the ratio fallback.

    Pure numpy over arrays of equal shape. ``y <= 0`` gives NaN for both.

    Examples
    --------
    >>> p, m = proportion_moe([1374.0, 1000.0], [1463.0, 1100.0], [275.0, 50.0], [274.0, 300.0])
    >>> p.round(4).tolist(), m.round(4).tolist()   # second: radicand < 0, ratio formula
    ([0.9392, 0.9091], [0.0663, 0.2521])
    """
    x, y, moe_x, moe_y = (np.asarray(a, dtype=float) for a in (x, y, moe_x, moe_y))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(y > 0, x / y, np.nan)
        radicand = moe_x**2 - p**2 * moe_y**2
        radicand = np.where(radicand < 0, moe_x**2 + p**2 * moe_y**2, radicand)
        moe = np.where(y > 0, np.sqrt(radicand) / y, np.nan)
    return p, moe


def _read_one(path, role: str) -> pd.DataFrame:
    existing_file(path, f"ACS {role}")
    source = Path(path).name
    try:
        df = pd.read_csv(path, dtype={"GEOID": str, "GEO_ID": str})
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise MobilityError(f"{source}: cannot read as CSV ({exc}); give the ACS {role} CSV") from exc
    if "GEOID" not in df.columns and "GEO_ID" in df.columns:
        df = df.rename(columns={"GEO_ID": "GEOID"})
    require_columns(df, ["GEOID"], source, "the first column must be the block group or tract GEOID")
    df["GEOID"], level = normalize_geoid(df["GEOID"], source=source, column="GEOID")
    dup = df["GEOID"].duplicated()
    if dup.any():
        raise MobilityError(f"{source}: GEOID {df['GEOID'][dup].iloc[0]} appears twice; one row per area")
    for col in df.columns.drop(["GEOID", "NAME"], errors="ignore"):
        df[col] = numeric_column(df, col, source, key="GEOID").astype(float)
    df.attrs["level"] = level
    return df


def _decode(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.select_dtypes("number").columns:
        v = out[col]
        coded = v <= ANNOTATION_THRESHOLD
        if coded.any():
            if col.endswith("M"):
                out[col] = v.mask(v == CONTROLLED_MOE, 0.0).mask(coded & (v != CONTROLLED_MOE))
            else:
                out[col] = v.mask(coded)
    return out


def read_acs(ests_path: str | os.PathLike, moes_path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read an ACS estimates table and, optionally, its margins of error, joined on GEOID.

    Parameters
    ----------
    ests_path : path-like
        CSV with ``GEOID`` and estimate columns (``*E``; unsuffixed columns are estimates too).
    moes_path : path-like, optional
        CSV with ``GEOID`` and 90 % MOE columns (``*M``), same areas.

    Returns
    -------
    pandas.DataFrame
        ``GEOID`` (zero-padded str), the estimate columns, then the MOE columns, all float64 (a ``NAME``
        column stays text; data.census.gov ``GEO_ID`` is renamed ``GEOID``), annotation
        codes decoded (see module notes); ``attrs["level"]`` is ``"cbg"`` or ``"tract"``.

    Raises
    ------
    MobilityError
        Missing file or GEOID column, bad or duplicate GEOIDs, non-numeric values, a column in both
        files, or GEOIDs present in one file and not the other.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "e.csv").write_text("GEOID,B03002_001E,B03002_003E\\ng361031101011,1463,1374\\n")
    >>> _ = (d / "m.csv").write_text("GEOID,B03002_001M,B03002_003M\\ng361031101011,274,-555555555\\n")
    >>> read_acs(d / "e.csv", d / "m.csv").iloc[0].to_dict()
    {'GEOID': '361031101011', 'B03002_001E': 1463.0, 'B03002_003E': 1374.0, 'B03002_001M': 274.0, 'B03002_003M': 0.0}
    """
    ests = _read_one(ests_path, "estimates")
    if moes_path is None:
        return _decode(ests)
    moes = _read_one(moes_path, "margins of error")
    both = [c for c in moes.columns if c in ests.columns and c != "GEOID"]
    if both:
        raise MobilityError(
            f"{Path(moes_path).name}: columns {both} are also in {Path(ests_path).name}; "
            "estimates end in E, margins of error in M - check the files are the right pair"
        )
    only = set(ests["GEOID"]).symmetric_difference(moes["GEOID"])
    if only:
        first = sorted(only)[0]
        where = Path(ests_path).name if first in set(ests["GEOID"]) else Path(moes_path).name
        raise MobilityError(
            f"GEOID {first} is only in {where} ({len(only)} GEOIDs in one file only); "
            "estimates and margins of error must cover the same areas"
        )
    out = ests.merge(moes, on="GEOID", how="left", validate="one_to_one")
    out.attrs["level"] = ests.attrs["level"]
    return _decode(out)


def _base(code: str) -> str:
    return code[:-1] if code.endswith(("E", "M")) and "_" in code else code


def acs_shares(
    df: pd.DataFrame,
    numerators: Sequence[str] | Mapping[str, str | Sequence[str]],
    denominator: str,
) -> pd.DataFrame:
    """Shares ``x / y`` per area with propagated 90 % MOEs.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`read_acs`, with estimate and MOE columns.
    numerators : list of str or dict
        ACS variables (``"B03002_003"`` or ``"B03002_003E"``); a dict maps output names to a variable
        or to a list of variables summed into one numerator (its MOE the root of the summed squared
        MOEs, the handbook's formula for an aggregate), e.g. ``{"ba_plus": ["B15003_022", ...]}``.
    denominator : str
        The universe variable, e.g. ``"B03002_001"``.

    Returns
    -------
    pandas.DataFrame
        ``GEOID``, then per numerator ``<name>`` (share) and ``<name>_moe`` (its 90 % MOE). Areas with a
        zero universe get NaN.

    Raises
    ------
    MobilityError
        A variable's estimate (``E``) or MOE (``M``) column is missing.

    Examples
    --------
    >>> df = pd.DataFrame({"GEOID": ["361031101011"], "B03002_001E": [1463.0], "B03002_004E": [0.0],
    ...                    "B03002_001M": [274.0], "B03002_004M": [11.0]})
    >>> acs_shares(df, {"black": "B03002_004"}, "B03002_001").round(5).iloc[0].to_dict()
    {'GEOID': '361031101011', 'black': 0.0, 'black_moe': 0.00752}
    """
    names = dict(numerators) if isinstance(numerators, Mapping) else {_base(c): c for c in numerators}
    names = {k: [v] if isinstance(v, str) else list(v) for k, v in names.items()}
    den = _base(denominator)
    needed = [f"{den}E", f"{den}M"] + [f"{_base(v)}{s}" for vs in names.values() for v in vs for s in ("E", "M")]
    require_columns(
        df, needed, "ACS table",
        "read the estimates with their margins of error (read_acs(ests, moes)); if the universe's MOE is "
        "not in this topic's file, take it from a file that has it (e.g. rawACSdata_all)",
    )
    out = {"GEOID": df["GEOID"].to_numpy()}
    for name, variables in names.items():
        bases = [_base(v) for v in variables]
        x = df[[f"{b}E" for b in bases]].sum(axis=1, min_count=len(bases))
        moe_x = np.sqrt((df[[f"{b}M" for b in bases]] ** 2).sum(axis=1, min_count=len(bases)))
        p, moe = proportion_moe(x, df[f"{den}E"], moe_x, df[f"{den}M"])
        out[name], out[f"{name}_moe"] = p, moe
    res = pd.DataFrame(out, index=df.index)
    res.attrs["level"] = df.attrs.get("level")
    return res
