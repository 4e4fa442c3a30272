"""Weekly state unemployment-insurance claims (US DOL ETA 539, Opportunity Insights tracker layout).

Input columns: ``year``, ``month``, ``day_endofweek`` (the Saturday ending the claims week),
``statefips`` (integer), then ``initclaims_count_regular``, ``contclaims_count_regular``,
``initclaims_count_pua``, ``contclaims_count_pua``, ``contclaims_count_peuc``,
``initclaims_count_combined``, ``contclaims_count_combined`` (counts, not seasonally adjusted) and the same
with ``_rate_`` (per 100 people in the 2019 labor force). Missing values are ``.`` (Stata style).

Output schema: ``state_fips`` (2-digit str), ``week_end`` (datetime64, the Saturday, naive calendar date),
``initclaims_regular``, ``contclaims_regular``, ``initclaims_pua``, ``contclaims_pua``,
``contclaims_peuc``, ``initclaims_combined``, ``contclaims_combined`` (Int64, missing where ``.``) and
``initclaims_rate_regular`` ... (float64, per 100 in the labor force) for each rate column present;
sorted by ``state_fips``, ``week_end``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from mobility.checks import (
    existing_file,
    first_row,
    numeric_column,
    require_columns,
)
from mobility.errors import MobilityError

COUNT_COLUMNS = (
    "initclaims_count_regular", "contclaims_count_regular", "initclaims_count_pua", "contclaims_count_pua",
    "contclaims_count_peuc", "initclaims_count_combined", "contclaims_count_combined",
)
REQUIRED = ("year", "month", "day_endofweek", "statefips", "initclaims_count_regular", "contclaims_count_regular")


def read_ui_claims(path: str | os.PathLike) -> pd.DataFrame:
    """Read weekly state UI claims in the Opportunity Insights layout.

    Parameters
    ----------
    path : path-like
        ``UI Claims - State - Weekly.csv``.

    Returns
    -------
    pandas.DataFrame
        The schema of the module notes; counts columns absent from the file are absent here.

    Raises
    ------
    MobilityError
        Missing file or column, a bad state code, a date that is not a real Saturday, a non-numeric or
        negative count, a state-week given twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ui.csv"
    >>> _ = p.write_text("year,month,day_endofweek,statefips,initclaims_count_regular,contclaims_count_regular\\n"
    ...                  "2020,3,21,42,362999,.\\n")
    >>> r = read_ui_claims(p).iloc[0]
    >>> r["state_fips"], str(r["week_end"].date()), int(r["initclaims_regular"]), r["contclaims_regular"]
    ('42', '2020-03-21', 362999, <NA>)
    """
    existing_file(path, "UI claims")
    source = Path(path).name
    try:
        df = pd.read_csv(path, na_values=["."], keep_default_na=True, dtype={"statefips": str})
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise MobilityError(f"{source}: cannot read as CSV ({exc}); give the weekly state UI claims CSV") from exc
    require_columns(
        df, REQUIRED, source,
        "use the Opportunity Insights 'UI Claims - State - Weekly.csv' layout (the national file has no statefips)",
    )
    fips = df["statefips"].astype("string").str.strip()
    bad = ~fips.str.fullmatch(r"\d{1,2}").fillna(False) | fips.isna()
    if bad.any():
        i = first_row(bad)
        raise MobilityError(
            f"{source}: row {i}, column 'statefips': {df['statefips'].iloc[i]!r} is not a state FIPS code "
            "(1-56); fix the file"
        )
    parts = {k: numeric_column(df, c, source) for k, c in (("year", "year"), ("month", "month"),
                                                            ("day", "day_endofweek"))}
    week_end = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
    bad = week_end.isna() | (week_end.dt.day_of_week != 5)
    if bad.any():
        i = first_row(bad)
        raise MobilityError(
            f"{source}: row {i}: year/month/day_endofweek {df['year'].iloc[i]}-{df['month'].iloc[i]}-"
            f"{df['day_endofweek'].iloc[i]} is not a Saturday; UI claims weeks end on Saturday - fix the file"
        )
    out = pd.DataFrame({"state_fips": fips.str.zfill(2).astype(str), "week_end": week_end})
    for col in COUNT_COLUMNS:
        if col in df.columns:
            v = numeric_column(df, col, source)
            if (v < 0).any():
                i = first_row(v < 0)
                raise MobilityError(f"{source}: row {i}, column {col!r}: negative claims count; fix the file")
            out[col.replace("_count", "")] = v.round().astype("Int64")
    for col in df.columns:
        if "_rate_" in col:
            out[col] = numeric_column(df, col, source).astype(float)
    dup = out.duplicated(["state_fips", "week_end"])
    if dup.any():
        i = first_row(dup)
        raise MobilityError(
            f"{source}: row {i}: state {out['state_fips'].iloc[i]} week ending {out['week_end'].iloc[i].date()} "
            "appears twice; keep one row per state and week"
        )
    return out.sort_values(["state_fips", "week_end"], ignore_index=True)
