"""Reference values from scikit-mobility 1.3.1 for the parity test of :func:`mobility.metrics.ping_metrics`.

scikit-mobility 1.3.1 needs an old stack (pandas < 2, numpy < 2), so it runs in its own virtual
environment, never in the package's. To regenerate ``skmob_values.csv`` (from the repository root)::

    python3.10 -m venv ../venv-skmob
    ../venv-skmob/bin/pip install "scikit-mobility==1.3.1" "pandas<2" "numpy<2" "geopandas>=0.10,<0.13" "shapely<2.1"
    ../venv-skmob/bin/python tests/reference/skmob_reference.py

It reads ``../shared/data/real/geolife_skmob/geolife_sample.txt.gz`` (users 001 and 005) and writes one row
per user and measure: ``uid, measure, value`` with values printed to 17 significant digits.

Timing mode, used by ``benchmarks/bench_metrics.py``::

    ../venv-skmob/bin/python tests/reference/skmob_reference.py --time-csv rows.csv --repeat 1

reads a CSV with columns ``lat,lng,datetime,uid``, builds the TrajDataFrame (not timed), times
``skmob.measures.individual.radius_of_gyration`` and prints one JSON line
``{"rows": n, "users": m, "seconds": best wall, "cpu_seconds": best CPU, "rg": {uid: value}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
import skmob
from skmob.measures import individual

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[1] / ".." / "shared" / "data" / "real" / "geolife_skmob" / "geolife_sample.txt.gz"
OUT = HERE / "skmob_values.csv"


def _tdf(df: pd.DataFrame) -> skmob.TrajDataFrame:
    return skmob.TrajDataFrame(df, latitude="lat", longitude="lng", datetime="datetime", user_id="uid")


def reference_values() -> pd.DataFrame:
    df = pd.read_csv(SAMPLE, dtype={"uid": str})
    tdf = _tdf(df)
    measures = {
        "radius_of_gyration": lambda t: individual.radius_of_gyration(t, show_progress=False),
        "k_radius_of_gyration_k2": lambda t: individual.k_radius_of_gyration(t, k=2, show_progress=False),
        "random_entropy": lambda t: individual.random_entropy(t, show_progress=False),
        "uncorrelated_entropy": lambda t: individual.uncorrelated_entropy(t, show_progress=False),
        "uncorrelated_entropy_normalized": lambda t: individual.uncorrelated_entropy(
            t, normalize=True, show_progress=False
        ),
        "number_of_locations": lambda t: individual.number_of_locations(t, show_progress=False),
        "distance_straight_line": lambda t: individual.distance_straight_line(t, show_progress=False),
    }
    rows = []
    for name, fn in measures.items():
        res = fn(tdf.copy())
        value_col = next(c for c in res.columns if c != "uid")
        for uid, value in zip(res["uid"], res[value_col]):
            rows.append({"uid": str(uid), "measure": name, "value": f"{float(value):.17g}"})
    return pd.DataFrame(rows)


def time_radius(csv: str, repeat: int) -> dict:
    df = pd.read_csv(csv, dtype={"uid": str})
    tdf = _tdf(df)
    best = best_cpu = float("inf")
    res = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        res = individual.radius_of_gyration(tdf, show_progress=False)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    rg = {str(u): float(v) for u, v in zip(res["uid"], res["radius_of_gyration"])}
    return {"rows": len(df), "users": len(rg), "seconds": best, "cpu_seconds": best_cpu, "rg": rg,
            "skmob": skmob.__version__}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-csv", help="time radius_of_gyration on this CSV instead of writing reference values")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    if args.time_csv:
        print(json.dumps(time_radius(args.time_csv, args.repeat)))
        return 0
    if not SAMPLE.exists():
        print(f"sample not found: {SAMPLE}", file=sys.stderr)
        return 1
    reference_values().to_csv(OUT, index=False)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
