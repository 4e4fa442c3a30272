"""Benchmark of :mod:`mobility.metrics`: weekly metrics on 10M stops, and the radius of gyration against
scikit-mobility 1.3.1 on the same 1M pings.

Run from the repository root::

    python benchmarks/bench_metrics.py                      # both parts
    python benchmarks/bench_metrics.py --stops 1000000      # a smaller stops run
    python benchmarks/bench_metrics.py --skmob-python ../venv-skmob/bin/python
    python benchmarks/bench_metrics.py --smoke              # tiny, no skmob: checks that it runs

Part 1 builds ``--stops`` synthetic stops (users of 5 stops a day over ~14 weeks, 40 locations each with
Zipf-like visit shares, non-overlapping stops of 10 min to 10 h) and times :func:`weekly_metrics` end to end
(factorising ids, sorting check, layout, every metric) and the array kernel alone
(:func:`mobility.kernels.metrics.period_metrics` on prepared arrays).

Part 2 tiles the GeoLife sample (``../shared/data/real/geolife_skmob``) to ``--pings`` rows (each copy a new
user), times :func:`ping_radius_of_gyration` (the radius alone, string ids to km, as skmob's call) and
:func:`ping_metrics` with ``period="all"`` (every metric, locations built from distinct coordinates) here, and
``skmob.measures.individual.radius_of_gyration`` in the scikit-mobility venv through
``tests/reference/skmob_reference.py --time-csv`` (a subprocess), and prints the ratio. Both radii are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.kernels import metrics as km
from mobility.metrics import (
    period_bounds_ns,
    ping_metrics,
    ping_radius_of_gyration,
    weekly_metrics,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / ".." / "shared" / "data" / "real" / "geolife_skmob" / "geolife_sample.txt.gz"


def synthetic_stops(n_stops: int, stops_per_user: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_users = max(n_stops // stops_per_user, 1)
    n = n_users * stops_per_user
    user = np.repeat(np.arange(n_users), stops_per_user)
    gap = rng.integers(5 * 60, 4 * 3600, n)
    dwell = rng.integers(10 * 60, 10 * 3600, n)
    step = gap + dwell
    cum = np.cumsum(step)
    first = np.repeat(cum[::stops_per_user] - step[::stops_per_user], stops_per_user)
    t0 = pd.Timestamp("2020-01-06", tz="UTC").value + (cum - step - first) * 10**9
    t0 = t0 + np.repeat(rng.integers(0, 7 * 86400, n_users), stops_per_user) * 10**9
    loc = np.minimum(rng.zipf(1.6, n) - 1, 39)
    home_lat = np.repeat(rng.uniform(39.0, 41.0, n_users), stops_per_user)
    home_lon = np.repeat(rng.uniform(-75.0, -73.0, n_users), stops_per_user)
    lat = home_lat + 0.01 * np.sin(loc * 1.7) * loc
    lon = home_lon + 0.01 * np.cos(loc * 1.3) * loc
    return pd.DataFrame({
        "user_id": pd.Series(np.char.add("u", user.astype(str)), dtype="str"),
        "start": pd.to_datetime(t0, utc=True),
        "end": pd.to_datetime(t0 + dwell * 10**9, utc=True),
        "lat": lat, "lon": lon, "location_id": loc.astype(np.int64),
    })


def bench_stops(n_stops: int) -> dict:
    t = time.perf_counter()
    stops = synthetic_stops(n_stops)
    build_s = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    out = weekly_metrics(stops)
    total_s, total_cpu = time.perf_counter() - t, time.process_time() - c
    # kernel only, on the arrays the frame layer prepares (stops already sorted, ids already codes)
    user = pd.factorize(stops["user_id"])[0].astype(np.int64)  # order of appearance: grouped
    start = pd.DatetimeIndex(stops["start"]).as_unit("ns").asi8
    end = pd.DatetimeIndex(stops["end"]).as_unit("ns").asi8
    loc = pd.factorize(user * 64 + stops["location_id"].to_numpy())[0].astype(np.int64)
    lat, lon = stops["lat"].to_numpy(), stops["lon"].to_numpy()
    n_loc = int(loc.max()) + 1
    cnt = np.bincount(loc, minlength=n_loc)
    loc_lat = np.bincount(loc, lat, n_loc) / cnt
    loc_lon = np.bincount(loc, lon, n_loc) / cnt
    bounds = period_bounds_ns(int(start.min()), int(end.max()), "week", None)
    t, c = time.perf_counter(), time.process_time()
    km.period_metrics(user, start, end, lat, lon, loc, loc_lat, loc_lon, bounds, n_users=int(user.max()) + 1)
    kernel_s, kernel_cpu = time.perf_counter() - t, time.process_time() - c
    return {"stops": len(stops), "users": int(user.max()) + 1, "rows_out": len(out), "build_s": round(build_s, 2),
            "weekly_metrics_wall_s": round(total_s, 2), "weekly_metrics_cpu_s": round(total_cpu, 2),
            "kernel_wall_s": round(kernel_s, 2), "kernel_cpu_s": round(kernel_cpu, 2),
            "load_average_1min": os.getloadavg()[0]}


def tiled_pings(n_rows: int) -> pd.DataFrame:
    df = pd.read_csv(SAMPLE, dtype={"uid": str})
    copies = -(-n_rows // len(df))
    parts = []
    for c in range(copies):
        part = df.copy()
        part["uid"] = part["uid"] + f"_{c}"
        parts.append(part)
    return pd.concat(parts, ignore_index=True).iloc[:n_rows]


def bench_skmob(n_rows: int, skmob_python: str, repeat: int) -> dict:
    df = tiled_pings(n_rows)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "pings.csv"
        df.to_csv(csv, index=False)
        proc = subprocess.run([skmob_python, str(REPO / "tests" / "reference" / "skmob_reference.py"),
                               "--time-csv", str(csv), "--repeat", str(repeat)],
                              capture_output=True, text=True, check=True)
    sk = json.loads(proc.stdout.strip().splitlines()[-1])
    pings = df.assign(timestamp=pd.to_datetime(df["datetime"], utc=True))
    ours_s = ours_cpu = float("inf")
    for _ in range(max(repeat, 3)):
        t, c = time.perf_counter(), time.process_time()
        res = ping_metrics(pings, period="all", columns={"user_id": "uid", "lon": "lng"})
        ours_s = min(ours_s, time.perf_counter() - t)
        ours_cpu = min(ours_cpu, time.process_time() - c)
    rg_s = rg_cpu = float("inf")
    for _ in range(max(repeat, 5)):
        t, c = time.perf_counter(), time.process_time()
        rg = ping_radius_of_gyration(pings, columns={"user_id": "uid", "lon": "lng"})
        rg_s = min(rg_s, time.perf_counter() - t)
        rg_cpu = min(rg_cpu, time.process_time() - c)
    ours = dict(zip(res["user_id"], res["radius_of_gyration_km"]))
    direct = dict(zip(rg["user_id"], rg["radius_of_gyration_km"]))
    max_rel = max(max(abs(ours[u] - v), abs(direct[u] - v)) / abs(v) for u, v in sk["rg"].items())
    return {"rows": len(df), "users": sk["users"], "skmob_rg_s": round(sk["seconds"], 3),
            "ours_radius_wall_s": round(rg_s, 4), "ours_radius_cpu_s": round(rg_cpu, 4),
            "ratio_radius_wall": round(sk["seconds"] / rg_s, 1), "skmob_rg_cpu_s": round(sk["cpu_seconds"], 3),
            "ratio_radius_cpu": round(sk["cpu_seconds"] / rg_cpu, 1),
            "ours_ping_metrics_wall_s": round(ours_s, 3), "ours_ping_metrics_cpu_s": round(ours_cpu, 3),
            "ratio_all_metrics_wall": round(sk["seconds"] / ours_s, 1), "max_rel_diff_rg": max_rel,
            "load_average_1min": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="benchmark mobility.metrics")
    ap.add_argument("--stops", type=int, default=10_000_000)
    ap.add_argument("--pings", type=int, default=1_000_000)
    ap.add_argument("--skmob-python", default=str(REPO / ".." / "venv-skmob" / "bin" / "python"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-skmob", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="20,000 stops, no scikit-mobility: checks that it runs")
    args = ap.parse_args(argv)
    if args.smoke:
        args.stops, args.skip_skmob = 20_000, True
    print(json.dumps({"weekly_metrics": bench_stops(args.stops)}))
    if not args.skip_skmob:
        if not Path(args.skmob_python).exists():
            print(f"skmob python not found at {args.skmob_python}; see tests/reference/skmob_reference.py")
            return 1
        print(json.dumps({"radius_vs_skmob": bench_skmob(args.pings, args.skmob_python, args.repeat)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
