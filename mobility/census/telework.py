"""Teleworkability by sector: Dingel & Neiman (2020) shares mapped onto the LODES sectors CNS01..CNS20.

Dingel & Neiman's ``NAICS_workfromhome.csv`` gives, per 2-digit NAICS sector, the share of jobs that can be
done at home (``teleworkable_emp``: employment share from O*NET screens weighted by 2018 OES employment;
``teleworkable_wage``: wage share; ``teleworkable_manual_*``: the authors' manual classification). Its rows
are the 20 LODES sectors, except that public administration is OES's ``99`` ("Federal, State, and Local
Government, excluding state and local schools and hospitals and the U.S. Postal Service") where LODES
uses NAICS ``92``: both codes map to ``CNS20``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.checks import (
    existing_file,
    first_row,
    numeric_column,
    require_columns,
)
from mobility.census.lodes import SECTORS
from mobility.errors import MobilityError

NAICS_TO_CNS = {
    "11": "CNS01", "21": "CNS02", "22": "CNS03", "23": "CNS04",
    "31": "CNS05", "32": "CNS05", "33": "CNS05", "42": "CNS06",
    "44": "CNS07", "45": "CNS07", "48": "CNS08", "49": "CNS08",
    "51": "CNS09", "52": "CNS10", "53": "CNS11", "54": "CNS12", "55": "CNS13", "56": "CNS14",
    "61": "CNS15", "62": "CNS16", "71": "CNS17", "72": "CNS18", "81": "CNS19",
    "92": "CNS20", "99": "CNS20",
}
"""2-digit NAICS code (first code of a range such as ``31-33``) -> LODES sector column."""

MEASURES = ("teleworkable_emp", "teleworkable_wage", "teleworkable_manual_emp", "teleworkable_manual_wage")


def read_teleworkability(path: str | os.PathLike, measure: str = "teleworkable_emp") -> pd.Series:
    """Teleworkable share per LODES sector from a Dingel & Neiman NAICS file.

    Parameters
    ----------
    path : path-like
        ``NAICS_workfromhome.csv`` (columns ``NAICS``, ``NAICS_TITLE`` and the share columns).
    measure : str
        The share column to use, one of :data:`MEASURES` (default: employment share, O*NET measure).

    Returns
    -------
    pandas.Series
        Float shares in [0, 1] indexed ``CNS01``..``CNS20``, named ``measure``.

    Raises
    ------
    MobilityError
        Missing file or column, an unknown NAICS code, a sector given twice or missing, a share
        outside [0, 1].

    Examples
    --------
    >>> import tempfile, pathlib
    >>> codes = ["11", "21", "22", "23", "31-33", "42", "44-45", "48-49", "51", "52", "53", "54", "55",
    ...          "56", "61", "62", "71", "72", "81", "99"]
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "NAICS_workfromhome.csv"
    >>> _ = p.write_text("NAICS,teleworkable_emp\\n" + "".join(f"{c},{i / 20}\\n" for i, c in enumerate(codes)))
    >>> tau = read_teleworkability(p)
    >>> float(tau["CNS05"]), float(tau["CNS20"])
    (0.2, 0.95)
    """
    existing_file(path, "teleworkability")
    source = Path(path).name
    if measure not in MEASURES:
        raise MobilityError(f"unknown teleworkability measure {measure!r}; use one of {list(MEASURES)}")
    try:
        df = pd.read_csv(path, dtype={"NAICS": str}, skipinitialspace=True)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise MobilityError(f"{source}: cannot read as CSV ({exc}); use Dingel & Neiman's NAICS file") from exc
    require_columns(df, ["NAICS", measure], source, "use Dingel & Neiman's NAICS_workfromhome.csv layout")
    values = numeric_column(df, measure, source, key="NAICS")
    first = df["NAICS"].astype(str).str.strip().str.split("-").str[0].str.slice(0, 2)
    sector = first.map(NAICS_TO_CNS)
    unknown = sector.isna()
    if unknown.any():
        i = first_row(unknown)
        raise MobilityError(
            f"{source}: row {i}, column 'NAICS': {df['NAICS'].iloc[i]!r} is not a 2-digit NAICS sector; "
            "use the 2-digit file (NAICS_workfromhome.csv), not the 3-digit one"
        )
    twice = sector.duplicated(keep=False)
    if twice.any():
        raise MobilityError(
            f"{source}: NAICS codes {df.loc[twice, 'NAICS'].tolist()} all map to sector "
            f"{sector[twice].iloc[0]}; give each LODES sector one row (e.g. '31-33', not 31, 32, 33)"
        )
    out = pd.Series(values.to_numpy(dtype=float), index=sector.to_numpy(), name=measure)
    missing = [s for s in SECTORS if s not in out.index]
    if missing:
        raise MobilityError(f"{source}: no teleworkability for sectors {missing}; add their NAICS rows")
    bad = ~out.between(0.0, 1.0)
    if bad.any():
        raise MobilityError(
            f"{source}: column {measure!r}: shares must lie in [0, 1], found {out[bad].to_dict()}; fix the file"
        )
    return out.reindex(list(SECTORS))


def mix_teleworkability(jobs: pd.DataFrame, telework: pd.Series) -> pd.Series:
    """Teleworkability of each row's job mix: ``sum_s CNS_s tau_s / sum_s CNS_s``.

    Parameters
    ----------
    jobs : pandas.DataFrame
        Columns ``CNS01..CNS20`` (counts or probabilities), e.g. a WAC table at any level.
    telework : pandas.Series
        Shares indexed ``CNS01..CNS20`` (:func:`read_teleworkability`).

    Returns
    -------
    pandas.Series
        One value per row (NaN where the row has no jobs), same index as ``jobs``.

    Examples
    --------
    >>> tau = pd.Series(0.0, index=list(SECTORS)); tau["CNS12"] = 0.8
    >>> jobs = pd.DataFrame([dict.fromkeys(SECTORS, 0) | {"CNS12": 3, "CNS18": 1}])
    >>> mix_teleworkability(jobs, tau).tolist()
    [0.6000000000000001]
    """
    missing = [s for s in SECTORS if s not in telework.index]
    if missing:
        raise MobilityError(f"teleworkability lacks sectors {missing}; build it with read_teleworkability")
    require_columns(jobs, SECTORS, "jobs table", "pass LODES sector counts CNS01..CNS20")
    counts = jobs[list(SECTORS)].to_numpy(dtype=float)
    total = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = counts @ telework.reindex(list(SECTORS)).to_numpy(dtype=float) / total
    return pd.Series(np.where(total > 0, value, np.nan), index=jobs.index, name="telework")
