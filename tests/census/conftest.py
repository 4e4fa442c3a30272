"""Shared fixtures of the census tests: the real public files (read once per session) and small builders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mobility.census.laus import read_laus
from mobility.census.lodes import FIRM_COLUMNS, SECTORS, read_lodes
from mobility.census.telework import read_teleworkability

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"


def real_file(*parts: str) -> Path:
    """Path of a file under shared/data/real, or skip the test with the reason."""
    path = REAL.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (shared/data/real is not next to the repository)")
    return path


PA_WAC = ("lodes_pa_wac_2015", "pa_wac_S000_JT00_2015.csv.gz")
DN_NAICS = ("dingel_neiman_workathome", "NAICS_workfromhome.csv")
CHI_ZIP = ("geoda_chicago_sdoh", "Chi-SDOH.zip")
SUFFOLK = ("suffolk_ny_acs_bg_2014",)
LAUS_2020 = ("bls_laus_county_monthly", "yshi2016_Projects", "laucntycur14.xlsx")
LAUS_2021 = ("bls_laus_county_monthly", "cahyman_covid-unemployment", "laucntycur14.xlsx")
LAUS_STATE = ("bls_laus_state_monthly", "ststdsadata.xlsx")
UI_STATE = ("oi_economic_tracker", "UI Claims - State - Weekly.csv")


@pytest.fixture(scope="session")
def pa_wac():
    return read_lodes(real_file(*PA_WAC))


@pytest.fixture(scope="session")
def dn_telework():
    return read_teleworkability(real_file(*DN_NAICS))


def _laus_fixture(parts):
    """A session fixture reading one LAUS sheet (2-5 MB xlsx) once."""
    return pytest.fixture(scope="session")(lambda: read_laus(real_file(*parts)))


laus_2020 = _laus_fixture(LAUS_2020)
laus_2021 = _laus_fixture(LAUS_2021)
laus_state = _laus_fixture(LAUS_STATE)


def wac_row(geocode: str, **overrides) -> dict:
    """One consistent WAC row (10 jobs) in LODES column order; ``overrides`` set individual counts."""
    row = {"w_geocode": geocode, "C000": 10, "CA01": 2, "CA02": 5, "CA03": 3, "CE01": 3, "CE02": 3, "CE03": 4}
    row.update({s: 0 for s in SECTORS})
    row.update(CNS05=6, CNS12=4)
    row.update(CR01=7, CR02=2, CR03=0, CR04=1, CR05=0, CR07=0, CT01=9, CT02=1)
    row.update(CD01=1, CD02=2, CD03=2, CD04=3, CS01=6, CS02=4)
    row.update({c: 0 for c in FIRM_COLUMNS})
    row["createdate"] = "20190101"
    row.update(overrides)
    return row


def write_wac(path: Path, rows: list[dict], drop: tuple[str, ...] = ()) -> Path:
    """Write rows as a LODES WAC CSV (gzip when the name ends in .gz), geocodes as text."""
    df = pd.DataFrame(rows).drop(columns=list(drop))
    df.to_csv(path, index=False)
    return path
