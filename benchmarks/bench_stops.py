"""Benchmark: stop detection and locations.

Run from the repository root::

    python benchmarks/bench_stops.py                      # 1M pings, trackintel side by side, 10M pings
    python benchmarks/bench_stops.py --n-pings 200000 --big 0 --no-trackintel   # quick
    python benchmarks/bench_stops.py --smoke              # tiny sizes, one repeat: checks that it runs

Measures, on SDK-like synthetic pings (a ping every ~3 min, 10-50 m noise, stays at 6 places per user
with trips between):

1. ``detect_stops`` (both methods) and the bare kernels, pings per second, one core (numba kernels are
   single-threaded);
2. trackintel 1.4.2's ``generate_staypoints`` (sliding, ``n_jobs=1``) on the same pings, and the ratio;
3. ``assign_locations`` all users at once versus a Python loop of per-user sklearn DBSCAN (haversine);
4. stops + locations on ``--big`` pings: time and peak memory (ru_maxrss of a fresh subprocess);
5. ``assign_locations`` with ``merge_max_gap_s`` (merging split visits) versus without, and the merge step
   alone on ``--merge-stops`` stops.

Prints a Markdown section for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from mobility.checks import utc_ns
from mobility.kernels.geo import EARTH_RADIUS_M
from mobility.kernels.stops import median_stops, sliding_stops
from mobility.locations import _merge_visits, assign_locations
from mobility.stops import _user_offsets, detect_stops

DEG_M = np.pi / 180 * EARTH_RADIUS_M
PARAMS = dict(radius_m=100.0, min_duration_s=300.0, max_gap_s=900.0)


def sdk_pings(n_pings: int, pings_per_user: int = 2000, seed: int = 0) -> pd.DataFrame:
    """SDK-like pings: per user, stays of 3-80 pings at one of 6 places, 1-4 trip pings between."""
    rng = np.random.default_rng(seed)
    n_users = max(1, n_pings // pings_per_user)
    n = n_users * pings_per_user
    user = np.repeat(np.arange(n_users), pings_per_user)
    # segments: alternate stay (3-80 pings) and trip (1-4 pings); per user they restart at its first row
    seg_len = np.where(np.arange(n) % 2 == 0, rng.integers(3, 81, n), rng.integers(1, 5, n))
    seg_of_row = np.repeat(np.arange(n), seg_len)[:n]
    is_trip = seg_of_row % 2 == 1
    place = rng.integers(0, 6, n)[seg_of_row]
    centres = rng.uniform(-0.3, 0.3, (n_users, 6, 2)) + [40.0, -75.0]
    lat = centres[user, place, 0]
    lon = centres[user, place, 1]
    lat = np.where(is_trip, lat + rng.uniform(-0.02, 0.02, n), lat)  # trip pings: off the places
    lon = np.where(is_trip, lon + rng.uniform(-0.02, 0.02, n), lon)
    noise = rng.uniform(10, 50, n)
    lat = lat + rng.normal(0, 1, n) * noise / DEG_M
    lon = lon + rng.normal(0, 1, n) * noise / (DEG_M * np.cos(np.radians(40.0)))
    dt = rng.exponential(180.0, n).clip(5, 1800).round()
    t = np.cumsum(dt).reshape(n_users, pings_per_user)
    t = (t - t[:, :1]).ravel()
    ts = pd.Timestamp("2020-01-06", tz="UTC") + pd.to_timedelta(t, unit="s")
    names = np.array([f"u{u:07d}" for u in range(n_users)], dtype=object)
    return pd.DataFrame({"user_id": pd.array(names[user], dtype="str"), "timestamp": ts, "lat": lat, "lon": lon})


def best_of(f, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def kernel_args(p: pd.DataFrame):
    codes, _ = pd.factorize(p["user_id"], sort=True)
    t = p["timestamp"].dt.tz_convert(None).dt.as_unit("ns").to_numpy().view(np.int64)
    return (t, p["lat"].to_numpy(), p["lon"].to_numpy(), _user_offsets(codes.astype(np.int64)),
            PARAMS["radius_m"], np.int64(PARAMS["min_duration_s"] * 1e9), np.int64(PARAMS["max_gap_s"] * 1e9),
            np.int64(2))


def trackintel_staypoints(p: pd.DataFrame) -> tuple[float, int]:
    import geopandas as gpd
    import trackintel as ti

    gdf = gpd.GeoDataFrame({"user_id": p["user_id"], "tracked_at": p["timestamp"]},
                           geometry=gpd.points_from_xy(p["lon"], p["lat"]), crs="EPSG:4326")
    pfs = ti.Positionfixes(gdf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        _, sp = pfs.generate_staypoints(method="sliding", dist_threshold=PARAMS["radius_m"],
                                        time_threshold=PARAMS["min_duration_s"] / 60,
                                        gap_threshold=PARAMS["max_gap_s"] / 60, include_last=True, n_jobs=1)
        return time.perf_counter() - t0, len(sp)


def big_run(n_pings: int, path: str) -> None:
    """Stops + locations on the pings stored at ``path``; run in a fresh process so that ru_maxrss is the
    peak of reading the table plus this run (the generator's own peak is left in another process)."""
    p = pd.read_parquet(path)
    detect_stops(p.head(1000), **PARAMS)  # load the compiled kernels from numba's cache
    assign_locations(detect_stops(p.head(1000), **PARAMS))
    rss_in = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()  # numpy and pandas buffers report to tracemalloc: the run's own peak allocation
    t0 = time.perf_counter()
    s = detect_stops(p, **PARAMS)
    t1 = time.perf_counter()
    loc = assign_locations(s)
    t2 = time.perf_counter()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(p)},{len(s)},{t1 - t0:.2f},{t2 - t1:.2f},{rss_in:.0f},{rss:.0f},{traced:.0f},"
          f"{loc['location_id'].max()}")


def merge_step(n_stops: int, stops_per_user: int = 100, seed: int = 0) -> tuple[float, int]:
    """Seconds (best of 3) of the merge step of ``assign_locations(merge_max_gap_s=1800)`` alone on a
    clustered stops table of ``n_stops`` rows (locations 0-5 drawn per stop, gaps 0-60 min), and its rows."""
    rng = np.random.default_rng(seed)
    n_users = max(1, n_stops // stops_per_user)
    n = n_users * stops_per_user
    codes = np.repeat(np.arange(n_users, dtype=np.int64), stops_per_user)
    dur = rng.integers(300, 7200, n)
    gap = rng.integers(0, 3600, n)
    start = np.cumsum(dur + gap)
    start = start - np.repeat(start[::stops_per_user], stops_per_user)
    t0 = pd.Timestamp("2020-01-06", tz="UTC")
    names = np.array([f"u{u:07d}" for u in range(n_users)], dtype=object)
    stops = pd.DataFrame({
        "user_id": pd.array(names[codes], dtype="str"), "stop_id": np.tile(np.arange(stops_per_user), n_users),
        "start": t0 + pd.to_timedelta(start, unit="s"), "end": t0 + pd.to_timedelta(start + dur, unit="s"),
        "lat": 40.0 + rng.normal(0, 1e-3, n), "lon": -75.0 + rng.normal(0, 1e-3, n),
        "n_pings": rng.integers(2, 20, n), "location_id": rng.integers(0, 6, n)})
    start_ns = utc_ns(stops["start"], "stops", "start")
    return best_of(lambda: len(_merge_visits(stops, codes, start_ns, 1800.0)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-pings", type=int, default=1_000_000)
    ap.add_argument("--big", type=int, default=10_000_000)
    ap.add_argument("--no-trackintel", action="store_true")
    ap.add_argument("--merge-stops", type=int, default=10_000_000)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, no trackintel: checks that the script runs")
    ap.add_argument("--_big-child", type=str, default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._big_child:
        big_run(0, a._big_child)
        return
    if a.smoke:
        a.n_pings, a.big, a.no_trackintel, a.merge_stops = 20_000, 20_000, True, 20_000

    lines = ["## Stops and locations (benchmarks/bench_stops.py)", "",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; one core used; "
             f"params {PARAMS}, min_points 2. SDK-like synthetic pings (~3 min apart, 10-50 m noise).", ""]
    p = sdk_pings(a.n_pings)
    n = len(p)
    args = kernel_args(p)
    sliding_stops(*[x[:1000] if isinstance(x, np.ndarray) and x.size == n else x for x in args[:3]],
                  np.array([0, 1000]), *args[4:])
    median_stops(*[x[:1000] if isinstance(x, np.ndarray) and x.size == n else x for x in args[:3]],
                 np.array([0, 1000]), *args[4:])
    lines += ["| step | pings | seconds | pings/s | stops |", "|---|---|---|---|---|"]
    for name, f in [("kernel sliding", lambda: sliding_stops(*args)), ("kernel median", lambda: median_stops(*args)),
                    ("detect_stops sliding", lambda: detect_stops(p, method="sliding", **PARAMS)),
                    ("detect_stops median", lambda: detect_stops(p, method="median", **PARAMS))]:
        sec, out = best_of(f)
        k = len(out[0]) if isinstance(out, tuple) else len(out)
        lines.append(f"| {name} | {n:,} | {sec:.3f} | {n / sec / 1e6:.1f} M | {k:,} |")
        if name == "detect_stops sliding":
            ours_sec, stops = sec, out
    if not a.no_trackintel:
        ti_sec, ti_n = trackintel_staypoints(p)
        lines.append(f"| trackintel 1.4.2 generate_staypoints (sliding) | {n:,} | {ti_sec:.1f} | "
                     f"{n / ti_sec / 1e3:.1f} k | {ti_n:,} |")
        lines += ["", f"detect_stops (sliding) is **{ti_sec / ours_sec:.0f}x** faster than trackintel on the "
                  f"same {n:,} pings, same run."]

    sec, _ = best_of(lambda: assign_locations(stops), repeat=1)
    users = stops["user_id"].unique()[:50]
    sub = stops[stops["user_id"].isin(users)]
    from sklearn.cluster import DBSCAN

    t0 = time.perf_counter()
    for _, g in sub.groupby("user_id"):
        DBSCAN(eps=100 / EARTH_RADIUS_M, min_samples=1, metric="haversine", algorithm="ball_tree").fit(
            np.radians(g[["lat", "lon"]].to_numpy()))
    loop = (time.perf_counter() - t0) / len(sub)
    sec_sub, _ = best_of(lambda: assign_locations(sub), repeat=3)
    lines += ["", f"assign_locations on {len(stops):,} stops ({stops['user_id'].nunique():,} users): {sec:.2f} s "
              f"({len(stops) / sec / 1e3:.0f} k stops/s). On {len(sub):,} stops of 50 users: all at once "
              f"{sec_sub * 1e3:.0f} ms, per-user sklearn haversine DBSCAN loop {loop * len(sub) * 1e3:.0f} ms."]
    sec_off, off = best_of(lambda: assign_locations(stops), repeat=3)
    sec_on, on = best_of(lambda: assign_locations(stops, merge_max_gap_s=1800), repeat=3)
    lines += ["", (f"assign_locations on {len(stops):,} stops, best of 3: without merging {sec_off:.2f} s, with "
                   f"merge_max_gap_s=1800 {sec_on:.2f} s ({len(off):,} -> {len(on):,} stops).")]
    if a.merge_stops:
        sec_m, rows = merge_step(a.merge_stops)
        lines += ["", (f"Merge step alone (merge_max_gap_s=1800) on {a.merge_stops:,} clustered stops, best of 3: "
                       f"{sec_m:.2f} s ({a.merge_stops / sec_m / 1e6:.1f} M stops/s; {rows:,} stops after).")]
    if a.big:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "pings.parquet")
            sdk_pings(a.big).to_parquet(path)
            out = subprocess.run([sys.executable, __file__, f"--_big-child={path}"], capture_output=True,
                                 text=True, check=True).stdout.strip().splitlines()[-1].split(",")
        lines += ["", f"Stops + locations on {int(out[0]):,} pings ({int(out[1]):,} stops), fresh process: "
                  f"detect_stops {out[2]} s, assign_locations {out[3]} s; peak RSS {out[5]} MB ({out[4]} MB already after "
                  f"reading the table, which sets the peak); peak memory allocated by the run itself "
                  f"(tracemalloc) {out[6]} MB."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
