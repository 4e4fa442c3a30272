"""Benchmark of :mod:`mobility.census`: readers on the real public files, point assignment and per-person
features at panel scale.

Run from the repository root::

    python benchmarks/bench_census.py                 # 1M points / people
    python benchmarks/bench_census.py --n 200000      # smaller
    python benchmarks/bench_census.py --smoke         # tiny, one repeat: checks that it runs

Times (best of ``--repeat`` runs, wall clock): reading the Pennsylvania LODES WAC (101,427 blocks) with every
invariant checked, aggregating it to block groups; reading one LAUS county sheet (45,066 rows) with the
active Excel engine (python-calamine when installed, else openpyxl) and with openpyxl; assigning ``--n``
random points in the Chicago bounding box to the 791 tracts; :func:`work_features` for ``--n`` people on the
PA block groups; :func:`assign_groups` with 20 draws for ``--n // 5`` people. Needs ``../shared/data/real``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import mobility.census.laus as laus
from mobility.census import (
    aggregate_lodes,
    assign_groups,
    assign_points,
    read_geometry,
    read_lodes,
    read_teleworkability,
    work_features,
)

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"


def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="10,000 points, one repeat: checks that the script runs")
    a = ap.parse_args()
    if a.smoke:
        a.n, a.repeat = 10_000, 1
    rows = []
    t, wac = best(lambda: read_lodes(REAL / "lodes_pa_wac_2015" / "pa_wac_S000_JT00_2015.csv.gz"), a.repeat)
    rows.append(("read_lodes PA WAC 2015 (101,427 blocks, invariants checked)", t))
    t, cbg = best(lambda: aggregate_lodes(wac, "cbg"), a.repeat)
    rows.append((f"aggregate_lodes to {len(cbg):,} block groups", t))
    sheet = REAL / "bls_laus_county_monthly" / "yshi2016_Projects" / "laucntycur14.xlsx"
    engine = laus.EXCEL_ENGINE
    t, _ = best(lambda: laus.read_laus(sheet), a.repeat)
    rows.append((f"read_laus county sheet (45,066 rows), engine {engine}", t))
    if engine != "openpyxl":
        laus.EXCEL_ENGINE = "openpyxl"
        t, _ = best(lambda: laus.read_laus(sheet), 1)
        rows.append(("read_laus county sheet, engine openpyxl", t))
        laus.EXCEL_ENGINE = engine
    tracts = read_geometry(f"zip://{REAL / 'geoda_chicago_sdoh' / 'Chi-SDOH.zip'}!Chi-SDOH.geojson")
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(41.65, 42.02, a.n), rng.uniform(-87.94, -87.52, a.n)
    t, got = best(lambda: assign_points(lat, lon, tracts), a.repeat)
    rows.append((f"assign_points {a.n:,} points to 791 Chicago tracts ({got.notna().mean():.0%} inside)", t))
    tau = read_teleworkability(REAL / "dingel_neiman_workathome" / "NAICS_workfromhome.csv")
    pick = rng.choice(len(cbg), size=a.n, p=cbg["C000"] / cbg["C000"].sum())
    people = pd.DataFrame({"user_id": np.char.add("u", np.arange(a.n).astype(str)),
                           "work_cbg": cbg["GEOID"].to_numpy()[pick]})
    t, feats = best(lambda: work_features(people, cbg, tau), a.repeat)
    rows.append((f"work_features {a.n:,} people ({feats.shape[1]} columns)", t))
    few = feats.iloc[: a.n // 5]
    t, _ = best(lambda: assign_groups(few, "race", "draws", n_draws=20, seed=0), a.repeat)
    rows.append((f"assign_groups race, 20 draws x {len(few):,} people", t))
    print("| step | seconds |\n|---|---|")
    for name, sec in rows:
        print(f"| {name} | {sec:.2f} |")


if __name__ == "__main__":
    main()
