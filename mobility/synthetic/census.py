"""Census tables of the synthetic region, laid out exactly like the real files.

LODES WAC/RAC are built from the synthetic workers themselves (each worker stands for ``jobs_per_worker``
jobs with the worker's own age, earnings, sector, race, ethnicity, education and sex), so every row meets the
LODES invariants and the sector mix of WAC is the people's. ACS-like block-group tables come from each block
group's latent population and category mix (the same mix people were drawn from), with sampling noise and
90 % margins of error. The telework table is Dingel & Neiman's 20 sector rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.census.lodes import FIRM_COLUMNS
from mobility.io.atomic import atomic_path
from mobility.synthetic.geography import Geography
from mobility.synthetic.sectors import (
    AGE_GROUPS,
    DINGEL_NEIMAN_NAICS,
    EARNINGS_GROUPS,
    EDUCATION_GROUPS,
    ETHNICITY_GROUPS,
    RACE_GROUPS,
    SECTORS,
    SEX_GROUPS,
    TELEWORK_COLUMNS,
)

LODES_GROUPS = ("age_group", AGE_GROUPS), ("earnings_group", EARNINGS_GROUPS), ("sector", SECTORS), \
    ("race", RACE_GROUPS), ("ethnicity", ETHNICITY_GROUPS), ("education", EDUCATION_GROUPS), ("sex", SEX_GROUPS)
LODES_CREATEDATE = "20230321"


def lodes_columns(kind: str) -> list[str]:
    """Column order of a LODES 8 WAC (``kind='wac'``) or RAC (``'rac'``, no firm columns) file.

    Examples
    --------
    >>> lodes_columns("wac")[:3], lodes_columns("wac")[-1], len(lodes_columns("wac")), len(lodes_columns("rac"))
    (['w_geocode', 'C000', 'CA01'], 'createdate', 53, 43)
    """
    cols = ["w_geocode" if kind == "wac" else "h_geocode", "C000"]
    for _, names in LODES_GROUPS:
        cols += list(names)
    if kind == "wac":
        cols += list(FIRM_COLUMNS)
    return cols + ["createdate"]


def lodes_table(people: pd.DataFrame, kind: str, jobs_per_worker: int, rng: np.random.Generator) -> pd.DataFrame:
    """WAC (by work block) or RAC (by home block) counts of the people with a job.

    Block geocodes are the 12-digit block group plus 3 digits; each worker falls in one of 3-12 blocks of
    the block group.

    Examples
    --------
    >>> people = pd.DataFrame({"work_cbg": ["421010001001", "421010001001"], "home_cbg": ["420450001002"] * 2,
    ...     "age_group": ["CA01", "CA02"], "earnings_group": ["CE01", "CE03"], "sector": ["CNS18", "CNS18"],
    ...     "race": ["CR01", "CR02"], "ethnicity": ["CT01", "CT01"], "education": ["CD02", "CD04"],
    ...     "sex": ["CS01", "CS02"]})
    >>> t = lodes_table(people, "wac", 10, np.random.default_rng(0))
    >>> int(t["C000"].sum()), int(t["CNS18"].sum()), int(t[["CD01", "CD02", "CD03", "CD04"]].sum().sum())
    (20, 20, 10)
    """
    workers = people[people["work_cbg"].notna()]
    cbg = workers["work_cbg" if kind == "wac" else "home_cbg"].to_numpy(dtype=str)
    uniq, inv = np.unique(cbg, return_inverse=True)
    n_blocks = rng.integers(3, 13, len(uniq))
    block = (rng.random(len(cbg)) * n_blocks[inv]).astype(int)
    # np.char.zfill of an empty array fails (NumPy takes the width's maximum): a region without workers
    geocode = np.char.add(cbg, np.char.zfill(block.astype(str), 3)) if len(cbg) else cbg
    cols = lodes_columns(kind)
    counts = {"C000": np.ones(len(cbg), dtype=np.int64)}
    for field, names in LODES_GROUPS:
        val = workers[field].to_numpy(dtype=str)
        for name in names:
            hit = val == name
            if field == "education":  # LODES does not tabulate education for workers aged 29 or younger
                hit &= workers["age_group"].to_numpy(dtype=str) != "CA01"
            counts[name] = hit.astype(np.int64)
    frame = pd.DataFrame(counts)
    frame.insert(0, cols[0], geocode)
    table = frame.groupby(cols[0], sort=True).sum().mul(jobs_per_worker).reset_index()
    for name in FIRM_COLUMNS if kind == "wac" else ():
        table[name] = 0
    table["createdate"] = LODES_CREATEDATE
    return table[cols]


def write_lodes(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a LODES table as gzip CSV (deterministic: no timestamp in the gzip header)."""
    with atomic_path(path) as tmp:
        raw = table.to_csv(index=False).encode()
        with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
            gz.write(raw)
    return Path(path)


# ---------------------------------------------------------------- ACS-like tables
_AGE_BANDS = (  # (years wide, group) for B01001 bands _003.._025 (male) and _027.._049 (female)
    (5, "child"), (5, "child"), (5, "child"), (3, "child"), (2, "CA01"), (1, "CA01"), (1, "CA01"), (3, "CA01"),
    (5, "CA01"), (5, "CA02"), (5, "CA02"), (5, "CA02"), (5, "CA02"), (5, "CA02"), (5, "CA03"), (2, "CA03"),
    (3, "CA03"), (2, "CA03"), (3, "CA03"), (5, "CA03"), (5, "CA03"), (5, "CA03"), (5, "CA03"))
_EDU_BANDS = (  # B15003 bands _002.._025: (weight within the group, group)
    [(0.02, 0), (0.01, 0), (0.01, 0), (0.01, 0), (0.01, 0), (0.02, 0), (0.02, 0), (0.03, 0), (0.03, 0), (0.04, 0),
     (0.08, 0), (0.14, 0), (0.18, 0), (0.2, 0), (0.2, 0)]
    + [(0.85, 1), (0.15, 1)] + [(0.25, 2), (0.45, 2), (0.30, 2)] + [(0.6, 3), (0.28, 3), (0.07, 3), (0.05, 3)])
_INCOME_EDGES = (10e3, 15e3, 20e3, 25e3, 30e3, 35e3, 40e3, 45e3, 50e3, 60e3, 75e3, 100e3, 125e3, 150e3, 200e3)
CHILD_SHARE = 0.22
ADULT_25_SHARE = 0.68
PERSONS_PER_HOUSEHOLD = 2.5


def _noisy(expected: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """ACS-like estimate and 90 % margin of error for expected counts."""
    moe = np.round(1.645 * np.sqrt(2.5 * expected + 50.0)).astype(np.int64)
    est = np.maximum(0, np.round(expected + rng.normal(0, 1, expected.shape) * moe / 1.645)).astype(np.int64)
    return est, moe


def acs_tables(geo: Geography, mixes: dict[str, np.ndarray], rng: np.random.Generator,
               male_share: float = 0.49) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Estimates and MOEs by topic: ``race`` (B03002), ``sexage`` (B01001), ``income`` (B19001),
    ``education`` (B15003), keyed ``GEOID`` = ``"g"`` + 12 digits.

    Examples
    --------
    >>> from mobility.synthetic.geography import build_geography
    >>> from mobility.synthetic.people import cbg_mixes
    >>> from mobility.synthetic.params import SyntheticParams
    >>> g = build_geography(SyntheticParams(n_users=50), np.random.default_rng(0))
    >>> t = acs_tables(g, cbg_mixes(g, np.random.default_rng(1)), np.random.default_rng(2))
    >>> list(t["race"][0].columns), list(t["race"][1].columns)[:2]
    (['GEOID', 'B03002_001E', 'B03002_003E', 'B03002_004E', 'B03002_012E', 'B03002_006E'], ['GEOID', 'B03002_003M'])
    """
    pop = geo.cbgs["population"].to_numpy(float)
    key = "g" + geo.cbgs["GEOID"].to_numpy(dtype=object)
    hisp = mixes["ethnicity"][:, 1]
    race = mixes["race"]
    expected = {
        "race": ("B03002", [1, 3, 4, 12, 6], np.stack(
            [pop, pop * race[:, 0] * (1 - hisp), pop * race[:, 1] * (1 - hisp), pop * hisp,
             pop * race[:, 3] * (1 - hisp)], axis=1)),
    }
    # sex by age: adults split by the CBG's age mix, bands within a group by width in years
    widths = np.array([w for w, _ in _AGE_BANDS], float)
    groups = [g for _, g in _AGE_BANDS]
    band_share = np.zeros((len(pop), len(_AGE_BANDS)))
    for j, g in enumerate(groups):
        in_group = np.array([x == g for x in groups])
        share = CHILD_SHARE if g == "child" else (1 - CHILD_SHARE) * mixes["age"][:, AGE_GROUPS.index(g)]
        band_share[:, j] = share * widths[j] / widths[in_group].sum()
    male, female = pop * male_share, pop * (1 - male_share)
    sexage = np.column_stack([pop, male, male[:, None] * band_share, female, female[:, None] * band_share])
    expected["sexage"] = ("B01001", list(range(1, 50)), sexage)
    # household income: lognormal around a median that falls with deprivation
    from scipy.special import ndtr
    households = pop / PERSONS_PER_HOUSEHOLD
    median = 80_000 * np.exp(-1.2 * (mixes["deprivation"] - 0.3))
    cdf = ndtr((np.log(np.array(_INCOME_EDGES))[None, :] - np.log(median)[:, None]) / 0.85)
    bins = np.diff(np.column_stack([np.zeros(len(pop)), cdf, np.ones(len(pop))]), axis=1)
    expected["income"] = ("B19001", list(range(1, 18)), np.column_stack([households, households[:, None] * bins]))
    # education of people 25+: CD mix, split within groups
    adults = pop * ADULT_25_SHARE
    edu_cols = [adults] + [adults * mixes["education"][:, g] * w / sum(x for x, h in _EDU_BANDS if h == g)
                           for w, g in _EDU_BANDS]
    expected["education"] = ("B15003", list(range(1, 26)), np.column_stack(edu_cols))
    out = {}
    for topic, (table, numbers, values) in expected.items():
        est, moe = _noisy(values, rng)
        names = [f"{table}_{k:03d}" for k in numbers]
        ests = pd.DataFrame(est, columns=[n + "E" for n in names])
        moes = pd.DataFrame(moe, columns=[n + "M" for n in names])
        if topic == "race":  # the real race MOE file has no total column
            moes = moes.drop(columns=["B03002_001M"])
        ests.insert(0, "GEOID", key)
        moes.insert(0, "GEOID", key)
        out[topic] = (ests, moes)
    return out


def write_telework(path: str | os.PathLike) -> Path:
    """Write Dingel & Neiman's ``NAICS_workfromhome.csv`` (20 sectors) in its original layout.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_telework(pathlib.Path(tempfile.mkdtemp()) / "NAICS_workfromhome.csv")
    >>> row = pd.read_csv(p, dtype={"NAICS": str}).loc[17]
    >>> row["NAICS"], float(row["teleworkable_emp"])
    ('72', 0.035365932)
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TELEWORK_COLUMNS)
    writer.writerows(DINGEL_NEIMAN_NAICS)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())
    return Path(path)
