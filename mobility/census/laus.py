"""BLS Local Area Unemployment Statistics (LAUS), county and state, monthly, as one tidy table.

Three spreadsheet layouts are recognised from their content, not their file name:

* county, BLS original ``laucntycur14.xlsx``: title row, a 3-row split header, a blank row, data, footer
  notes. Columns: LAUS code (``CN`` + state + county + zeros), state FIPS, county FIPS, name, period
  (``Jul-20``, with `` p`` when preliminary), labor force, employed, unemployed, rate (%); not seasonally
  adjusted; a dash (en dash ``–``) marks a missing value.
* county, the same table with the header flattened to one row (``LAUS Code``, ..., ``Force``, ``(%)``).
  Both county layouts are read by taking the rows whose first cell is a county LAUS code.
* state ``ststdsadata.xlsx`` (flattened): ``FIPS Code``, ``State and area``, ``Year``, ``Month``,
  population, ``LF Total``, ..., ``LF unemployment total``, ``LF unemployment rate``; seasonally adjusted.
  Its two sub-state areas (Los Angeles County, FIPS ``037``, and New York city, ``51000``) follow their
  state and get that state's code in front (``06037``, ``3651000``); ``area_type`` says what they are.

Output schema (one row per area and month): ``area_fips`` (str: 2-digit state, 5-digit county, 7-digit
place), ``area_name``, ``area_type`` (``state``/``county``/``place``), ``month`` (datetime64, first day
of the month, naive: a calendar month, not an instant), ``labor_force``, ``employed``, ``unemployed``
(Int64, missing where BLS gives none), ``rate_pct`` (float64, unemployment rate in %),
``preliminary`` (bool), ``seasonally_adjusted`` (bool).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.checks import existing_file, first_row
from mobility.errors import MobilityError

LAUS_COLUMNS = (
    "area_fips", "area_name", "area_type", "month", "labor_force", "employed", "unemployed", "rate_pct",
    "preliminary", "seasonally_adjusted",
)

_MISSING = ("–", "—", "-", "(n)", "")

EXCEL_ENGINE = "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"
"""pandas Excel engine: python-calamine (Rust, ~5x faster on these 2-5 MB sheets) when installed."""


def _numbers(values: pd.Series, source: str, column: str, rows: pd.Index) -> pd.Series:
    text = values.astype("string").str.strip()
    missing = text.isna() | text.isin(_MISSING)
    num = pd.to_numeric(text.mask(missing), errors="coerce")
    bad = num.isna() & ~missing
    if bad.any():
        i = first_row(bad)
        raise MobilityError(
            f"{source}: spreadsheet row {rows[i] + 1}, column {column!r}: {values.iloc[i]!r} is not a number "
            "or a dash; fix the cell or re-download the BLS file"
        )
    return num


def _counts(values: pd.Series, source: str, column: str, rows: pd.Index) -> pd.Series:
    return _numbers(values, source, column, rows).round().astype("Int64")


def _county(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    data = raw[raw[0].astype("string").str.strip().str.fullmatch(r"CN\d{13}").fillna(False)]
    if data.empty:
        raise MobilityError(f"{source}: no county rows (first cell 'CN' + 13 digits); is this laucntycur14?")
    if data.shape[1] < 9:
        raise MobilityError(f"{source}: county LAUS rows need 9 columns, found {data.shape[1]}; re-download")
    rows = data.index
    period = data[4].astype("string").str.strip()
    prelim = period.str.endswith(" p").fillna(False)
    month = pd.to_datetime(period.str.replace(r"\s*p$", "", regex=True), format="%b-%y", errors="coerce")
    if month.isna().any():
        i = first_row(month.isna())
        raise MobilityError(
            f"{source}: spreadsheet row {rows[i] + 1}, column 'Period': {data[4].iloc[i]!r} is not like "
            "'Apr-20' or 'Apr-20 p'; fix the cell or re-download the BLS file"
        )
    state = data[1].astype("string").str.strip().str.zfill(2)
    county = data[2].astype("string").str.strip().str.zfill(3)
    code = data[0].astype("string").str.strip()
    mismatch = code.str.slice(2, 7) != state + county
    if mismatch.any():
        i = first_row(mismatch)
        raise MobilityError(
            f"{source}: spreadsheet row {rows[i] + 1}: LAUS code {code.iloc[i]} does not match state/county "
            f"FIPS {state.iloc[i]}/{county.iloc[i]}; the columns are shifted - re-download the BLS file"
        )
    return pd.DataFrame({
        "area_fips": (state + county).astype(str).to_numpy(),
        "area_name": data[3].astype(str).str.strip().to_numpy(),
        "area_type": "county",
        "month": month.to_numpy(),
        "labor_force": _counts(data[5], source, "Labor Force", rows).array,
        "employed": _counts(data[6], source, "Employed", rows).array,
        "unemployed": _counts(data[7], source, "Unemployed", rows).array,
        "rate_pct": _numbers(data[8], source, "Unemployment Rate (%)", rows).to_numpy(dtype=float),
        "preliminary": prelim.to_numpy(dtype=bool),
        "seasonally_adjusted": False,
    })


_STATE_HEADER = {
    "fips": "FIPS Code", "name": "State and area", "year": "Year", "month": "Month",
    "labor_force": "LF Total", "employed": "LF employment Total", "unemployed": "LF unemployment total",
    "rate_pct": "LF unemployment rate",
}


def _state(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    header = raw.iloc[0].astype("string").str.strip()
    where = {}
    for key, name in _STATE_HEADER.items():
        hit = np.flatnonzero((header == name).fillna(False).to_numpy())
        if not len(hit):
            raise MobilityError(
                f"{source}: state LAUS header lacks column {name!r} (found {header.dropna().tolist()}); "
                "use BLS ststdsadata with its header flattened to one row"
            )
        where[key] = int(hit[0])
    data = raw.iloc[1:]
    data = data[data[where["year"]].notna()]
    rows = data.index
    fips = data[where["fips"]].astype("string").str.strip()
    year = _numbers(data[where["year"]], source, "Year", rows)
    mon = _numbers(data[where["month"]], source, "Month", rows)
    if not (year.between(1900, 2200).all() and mon.between(1, 12).all()):
        i = first_row(~(year.between(1900, 2200) & mon.between(1, 12)))
        raise MobilityError(f"{source}: spreadsheet row {rows[i] + 1}: bad Year/Month; fix the cell")
    # a sub-state area (3- or 5-digit code) belongs to the state row just above it
    is_state = fips.str.len() <= 2
    state_of = fips.where(is_state).str.zfill(2).ffill()
    if state_of.isna().any():
        raise MobilityError(f"{source}: the first data row is not a state; re-download the BLS file")
    area = fips.where(is_state, state_of + fips).str.zfill(2)
    area_type = np.select([is_state, fips.str.len() == 3], ["state", "county"], "place")
    month = pd.to_datetime(pd.DataFrame({"year": year.astype(int), "month": mon.astype(int), "day": 1}))
    return pd.DataFrame({
        "area_fips": area.astype(str).to_numpy(),
        "area_name": data[where["name"]].astype(str).str.strip().to_numpy(),
        "area_type": area_type,
        "month": month.to_numpy(),
        "labor_force": _counts(data[where["labor_force"]], source, "LF Total", rows).array,
        "employed": _counts(data[where["employed"]], source, "LF employment Total", rows).array,
        "unemployed": _counts(data[where["unemployed"]], source, "LF unemployment total", rows).array,
        "rate_pct": _numbers(data[where["rate_pct"]], source, "LF unemployment rate", rows).to_numpy(dtype=float),
        "preliminary": False,
        "seasonally_adjusted": True,
    })


def read_laus(path: str | os.PathLike) -> pd.DataFrame:
    """Read a BLS LAUS county (laucntycur14) or state (ststdsadata) spreadsheet, layout detected.

    Parameters
    ----------
    path : path-like
        ``.xlsx`` file in one of the layouts of the module notes.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LAUS_COLUMNS` (schema in the module notes), sorted by ``area_fips``, ``month``;
        ``attrs["layout"]`` is ``"county"`` or ``"state"``.

    Raises
    ------
    MobilityError
        Missing or unreadable file, unknown layout, a non-numeric cell, a bad period, shifted columns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "laucntycur14.xlsx"
    >>> pd.DataFrame([["LAUS Code", "State FIPS Code", "County FIPS Code", "County Name/State Abbreviation",
    ...                "Period", "Force", "Employed", "Unemployed", "(%)"],
    ...               ["CN4200300000000", "42", "003", "Allegheny County, PA", "Apr-20", 600000, 505800,
    ...                94200, 15.7]]).to_excel(p, header=False, index=False)
    >>> r = read_laus(p).iloc[0]
    >>> r["area_fips"], str(r["month"].date()), int(r["unemployed"]), float(r["rate_pct"]), bool(r["preliminary"])
    ('42003', '2020-04-01', 94200, 15.7, False)
    """
    existing_file(path, "LAUS")
    source = Path(path).name
    try:
        raw = pd.read_excel(path, header=None, dtype=object, engine=EXCEL_ENGINE)
    except Exception as exc:  # openpyxl/zipfile raise many types for a non-xlsx file
        raise MobilityError(f"{source}: cannot read as an Excel workbook ({exc}); give the BLS .xlsx") from exc
    top = raw.head(10).astype("string")
    cells = set(top.stack().str.strip())
    if "LAUS Code" in cells:
        out, layout = _county(raw, source), "county"
    elif "FIPS Code" in cells and "State and area" in cells:
        out, layout = _state(raw, source), "state"
    else:
        raise MobilityError(
            f"{source}: not a LAUS layout this reader knows (no 'LAUS Code' or 'FIPS Code'/'State and area' "
            "header in the first 10 rows); use BLS laucntycur14.xlsx or ststdsadata.xlsx"
        )
    out = out.sort_values(["area_fips", "month"], kind="stable", ignore_index=True)
    out.attrs["layout"] = layout
    return out


def read_laus_files(paths: list[str | os.PathLike]) -> pd.DataFrame | None:
    """:func:`read_laus` of each file (county and state sheets, several releases), stacked; where two files hold
    the same area and month, the later file's row is kept. None when ``paths`` is empty.

    Examples
    --------
    >>> read_laus_files([]) is None
    True
    """
    if not paths:
        return None
    frames = [read_laus(p) for p in paths]
    return pd.concat(frames, ignore_index=True).drop_duplicates(["area_fips", "area_type", "month"], keep="last")
