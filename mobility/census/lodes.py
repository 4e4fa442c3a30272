"""LEHD LODES job counts: read WAC, RAC and OD files, check their invariants, aggregate to areas.

LODES (US Census LEHD Origin-Destination Employment Statistics) ships one gzip CSV per state, year and
job type: ``<st>_wac_<seg>_<type>_<year>.csv.gz`` (jobs by workplace block), ``<st>_rac_...`` (by
residence block) and ``<st>_od_<part>_<type>_<year>.csv.gz`` (pairs of blocks). Blocks are 15-digit
GEOIDs whose first 12 digits are the block group (CBG), 11 the tract, 5 the county, 2 the state.

WAC/RAC columns (LODES 7 and 8): ``C000`` total jobs; ``CA01..03`` age (<=29, 30-54, >=55);
``CE01..03`` monthly earnings (<=$1,250, $1,251-3,333, >$3,333); ``CNS01..20`` 2-digit NAICS sector;
``CR01..05, CR07`` race; ``CT01..02`` ethnicity; ``CD01..04`` education (not tabulated for workers aged
29 or less, so the four sum to ``C000 - CA01``); ``CS01..02`` sex; WAC only: ``CFA01..05`` firm age and
``CFS01..05`` firm size (all 0 in all-jobs ``JT00`` files); ``createdate``.
OD columns: ``S000`` total, ``SA01..03`` age, ``SE01..03`` earnings, ``SI01..03`` industry group.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.checks import (
    existing_file,
    first_row,
    numeric_column,
    require_columns,
)
from mobility.census.geoid import check_level, normalize_geoid
from mobility.errors import MobilityError

SECTORS = tuple(f"CNS{i:02d}" for i in range(1, 21))
"""LODES sector columns, one per 2-digit NAICS sector (CNS01 = NAICS 11 ... CNS20 = NAICS 92)."""

WAC_RAC_GROUPS = {
    "age": ("CA01", "CA02", "CA03"),
    "earnings": ("CE01", "CE02", "CE03"),
    "sector": SECTORS,
    "race": ("CR01", "CR02", "CR03", "CR04", "CR05", "CR07"),
    "ethnicity": ("CT01", "CT02"),
    "education": ("CD01", "CD02", "CD03", "CD04"),
    "sex": ("CS01", "CS02"),
}
"""Column groups of WAC and RAC files; each sums to ``C000`` (education to ``C000 - CA01``)."""

FIRM_COLUMNS = tuple(f"CFA{i:02d}" for i in range(1, 6)) + tuple(f"CFS{i:02d}" for i in range(1, 6))
"""Optional WAC firm age/size columns (kept when present, never checked: zero in JT00 files)."""

OD_GROUPS = {
    "age": ("SA01", "SA02", "SA03"),
    "earnings": ("SE01", "SE02", "SE03"),
    "industry": ("SI01", "SI02", "SI03"),
}
"""Column groups of OD files; each sums to ``S000``."""

GEOCODE_COLUMNS = {"wac": ("w_geocode",), "rac": ("h_geocode",), "od": ("w_geocode", "h_geocode")}

_LEVEL_KEYS = {"wac": ("GEOID",), "rac": ("GEOID",), "od": ("w_GEOID", "h_GEOID")}


def count_columns(kind: str) -> tuple[str, ...]:
    """The job-count columns a LODES file of ``kind`` must have, in file order.

    Examples
    --------
    >>> count_columns("od")
    ('S000', 'SA01', 'SA02', 'SA03', 'SE01', 'SE02', 'SE03', 'SI01', 'SI02', 'SI03')
    >>> len(count_columns("wac"))
    41
    """
    if kind == "od":
        return ("S000",) + sum(OD_GROUPS.values(), ())
    if kind in ("wac", "rac"):
        return ("C000",) + sum(WAC_RAC_GROUPS.values(), ())
    raise MobilityError(f"unknown LODES kind {kind!r}; use 'wac', 'rac' or 'od'")


def _detect_kind(columns, source: str) -> str:
    has_w, has_h = "w_geocode" in columns, "h_geocode" in columns
    if has_w and has_h:
        return "od"
    if has_w:
        return "wac"
    if has_h:
        return "rac"
    name = Path(source).name.lower()
    hint = re.search(r"_(wac|rac|od)_", name)
    raise MobilityError(
        f"{source}: no 'w_geocode' or 'h_geocode' column, so this is not a LODES "
        f"{hint.group(1).upper() if hint else 'WAC/RAC/OD'} file; the first column must be the 15-digit block "
        "geocode - re-download the file from https://lehd.ces.census.gov/data/lodes/"
    )


def check_lodes(df: pd.DataFrame, kind: str, source: str = "LODES table") -> None:
    """Raise MobilityError at the first row breaking a LODES invariant.

    WAC/RAC: each of the age, earnings, sector, race, ethnicity and sex groups sums to ``C000``, and
    education ``CD01..04`` sums to ``C000 - CA01``. OD: age, earnings and industry groups sum to ``S000``.
    All counts are non-negative integers.

    Examples
    --------
    >>> row = {"w_geocode": "420030201001000", "S000": 3, "SA01": 1, "SA02": 1, "SA03": 1,
    ...        "SE01": 3, "SE02": 0, "SE03": 0, "SI01": 0, "SI02": 2, "SI03": 0}
    >>> check_lodes(pd.DataFrame([row]), "od", "od.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: od.csv: row 0 (w_geocode 420030201001000): industry columns SI01..SI03 sum to 2 ...
    """
    total = "S000" if kind == "od" else "C000"
    groups = OD_GROUPS if kind == "od" else WAC_RAC_GROUPS
    key = GEOCODE_COLUMNS[kind][0]
    counts = df[list(count_columns(kind))].to_numpy()
    negative = (counts < 0).any(axis=1)
    if negative.any():
        i = first_row(negative)
        col = count_columns(kind)[first_row(counts[i] < 0)]
        raise MobilityError(
            f"{source}: row {i} ({key} {df[key].iloc[i]}): column {col} is negative; job counts are >= 0 - "
            "the file is corrupt, re-download it"
        )
    c000 = df[total].to_numpy()
    for name, cols in groups.items():
        target = c000 - df["CA01"].to_numpy() if name == "education" else c000
        sums = df[list(cols)].to_numpy().sum(axis=1)
        broken = sums != target
        if broken.any():
            i = first_row(broken)
            what = f"{total} - CA01" if name == "education" else total
            raise MobilityError(
                f"{source}: row {i} ({key} {df[key].iloc[i]}): {name} columns {cols[0]}..{cols[-1]} sum to "
                f"{sums[i]} but {what} = {target[i]} ({int(broken.sum())} rows break this); the file is "
                "corrupt or not a LODES file - re-download it"
            )


def read_lodes(path: str | os.PathLike, kind: str | None = None) -> pd.DataFrame:
    """Read a LODES WAC, RAC or OD CSV (plain or .gz) and check its invariants.

    Parameters
    ----------
    path : path-like
        The LODES file, e.g. ``pa_wac_S000_JT00_2015.csv.gz``.
    kind : {"wac", "rac", "od"}, optional
        Expected kind; detected from the geocode columns when omitted (``w_geocode`` only: WAC,
        ``h_geocode`` only: RAC, both: OD). A mismatch is an error.

    Returns
    -------
    pandas.DataFrame
        Geocode column(s) as 15-digit strings, every count column as int64 (firm columns kept when
        present, ``createdate`` as text). ``df.attrs`` holds ``kind`` and ``source``.

    Raises
    ------
    MobilityError
        Missing file or column, a bad geocode, a non-numeric or negative count, or a row whose column
        groups do not sum to the total (see :func:`check_lodes`); the message names file, row and group.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "xx_od_main_JT00_2019.csv"
    >>> _ = p.write_text("w_geocode,h_geocode,S000,SA01,SA02,SA03,SE01,SE02,SE03,SI01,SI02,SI03,createdate\\n"
    ...                  "010010201001000,010010202001001,2,1,1,0,0,2,0,0,0,2,20190101\\n")
    >>> df = read_lodes(p)
    >>> df.attrs["kind"], df.loc[0, "h_geocode"], int(df.loc[0, "S000"])
    ('od', '010010202001001', 2)
    """
    existing_file(path, "LODES")
    source = os.fspath(path)
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise MobilityError(f"{source}: cannot read as a LODES CSV ({exc}); re-download the file") from exc
    detected = _detect_kind(header, source)
    if kind is not None and kind != detected:
        count_columns(kind)  # unknown kind -> clear error
        raise MobilityError(
            f"{source}: looks like a LODES {detected.upper()} file (geocode columns "
            f"{[c for c in header if c.endswith('_geocode')]}) but kind={kind!r} was asked; pass kind="
            f"{detected!r} or the right file"
        )
    kind = detected
    geocodes = GEOCODE_COLUMNS[kind]
    try:
        df = pd.read_csv(path, dtype={c: str for c in geocodes + ("createdate",)})
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise MobilityError(f"{source}: cannot read as a LODES CSV ({exc}); re-download the file") from exc
    counts = count_columns(kind)
    require_columns(
        df, counts, source,
        f"a LODES {kind.upper()} file has {counts[0]} and the groups {counts[1]}..{counts[-1]}; re-download it",
    )
    for col in geocodes:
        df[col], _ = normalize_geoid(df[col], level="block", source=source, column=col)
    for col in counts + tuple(c for c in FIRM_COLUMNS if c in df.columns):
        values = numeric_column(df, col, source, key=geocodes[0])
        missing = values.isna()
        if missing.any():
            i = first_row(missing)
            raise MobilityError(
                f"{source}: row {i} ({geocodes[0]} {df[geocodes[0]].iloc[i]}): column {col} is empty; LODES "
                "counts are never missing - the file is truncated or corrupt, re-download it"
            )
        whole = values.to_numpy(dtype=float)
        if not np.array_equal(whole, np.round(whole)):
            i = first_row(whole != np.round(whole))
            raise MobilityError(
                f"{source}: row {i} ({geocodes[0]} {df[geocodes[0]].iloc[i]}): column {col} = {whole[i]} is not "
                "a whole number of jobs; the file is corrupt, re-download it"
            )
        df[col] = whole.astype(np.int64)
    check_lodes(df, kind, source)
    df.attrs.update(kind=kind, source=Path(source).name)
    return df


def _kind_of(df: pd.DataFrame) -> str:
    kind = df.attrs.get("kind")
    return kind if kind in GEOCODE_COLUMNS else _detect_kind(df.columns, "LODES table")


def aggregate_lodes(df: pd.DataFrame, level: str = "cbg") -> pd.DataFrame:
    """Sum block-level LODES counts to block group, tract, county or state.

    Parameters
    ----------
    df : pandas.DataFrame
        A table from :func:`read_lodes` (WAC, RAC or OD).
    level : {"cbg", "tract", "county", "state", "block"}
        Target level; the GEOID is the first 12, 11, 5 or 2 digits of the block geocode.

    Returns
    -------
    pandas.DataFrame
        WAC/RAC: ``GEOID`` then every count column. OD: ``w_GEOID``, ``h_GEOID`` then the counts.
        Sorted by the key(s); ``attrs`` carries ``kind`` and ``level``.

    Examples
    --------
    >>> blocks = pd.DataFrame({"w_geocode": ["420030201001000", "420030201001001", "420030201002000"],
    ...                        "C000": [2, 3, 4]})
    >>> aggregate_lodes(blocks, "cbg")
              GEOID  C000
    0  420030201001     5
    1  420030201002     4
    """
    kind = _kind_of(df)
    digits = check_level(level)
    geocodes = GEOCODE_COLUMNS[kind]
    require_columns(df, geocodes, "LODES table", "pass a table returned by read_lodes")
    counts = [c for c in df.columns if c in count_columns(kind) or c in FIRM_COLUMNS]
    keys = {new: df[old].str.slice(0, digits) for old, new in zip(geocodes, _LEVEL_KEYS[kind])}
    out = df[counts].groupby([keys[k] for k in _LEVEL_KEYS[kind]], sort=True).sum()
    out.index.names = list(_LEVEL_KEYS[kind])
    out = out.reset_index()
    out.attrs.update(kind=kind, level=level)
    return out
