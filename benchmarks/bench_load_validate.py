"""Benchmark: read canonical Parquet pings and validate them (the ``load`` stage's inner loop).

Generates sorted canonical pings (a numpy random walk per user: ``user_id`` str, ``timestamp``
datetime64[ns, UTC], ``lat``, ``lon``, ``accuracy_m``) into a temporary Parquet file, then times
``read_pings`` + ``validate_pings`` on it, best of ``--repeat`` runs, and reports pings/s (wall clock),
the least CPU seconds of a run (user + system, all threads; less sensitive to other jobs) and the peak
resident memory (VmHWM) of a fresh child process per size (so sizes do not share a high-water mark).

Run::

    python benchmarks/bench_load_validate.py            # 1M and 10M rows, plus 1M rows as CSV text
    python benchmarks/bench_load_validate.py --sizes 1000000 --csv-sizes --repeat 5

The CSV rows time the text path (every value parsed from text), for comparison.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_pings(n: int, n_users: int, seed: int = 0) -> pd.DataFrame:
    """Sorted canonical pings: ``n`` rows over ``n_users`` users, 60 s +- jitter apart, random-walk positions."""
    rng = np.random.default_rng(seed)
    per_user = n // n_users
    n = per_user * n_users
    users = np.repeat(np.array([f"user{u:07d}" for u in range(n_users)], dtype=object), per_user)
    steps = rng.integers(30, 90, size=n).reshape(n_users, per_user)
    t = np.cumsum(steps, axis=1).ravel() + 1_577_836_800  # from 2020-01-01 UTC
    walk = rng.normal(0.0, 2e-4, size=(2, n_users, per_user)).cumsum(axis=2)
    start = rng.uniform([40.5, -74.2], [40.9, -73.7], size=(n_users, 2))
    return pd.DataFrame({
        "user_id": pd.Series(users, dtype="str"),
        "timestamp": pd.to_datetime(t * 1_000_000_000, utc=True).astype("datetime64[ns, UTC]"),
        "lat": (start[:, 0:1] + walk[0]).ravel(),
        "lon": (start[:, 1:2] + walk[1]).ravel(),
        "accuracy_m": rng.gamma(2.0, 10.0, size=n),
    })


def child(path: str, repeat: int) -> dict:
    from mobility.io.pings import read_pings
    from mobility.pings import validate_pings

    times, read_times, cpu_times = [], [], []
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        raw = read_pings(path)
        t1 = time.perf_counter()
        res = validate_pings(raw)
        t2 = time.perf_counter()
        cpu_times.append(time.process_time() - c0)
        times.append(t2 - t0)
        read_times.append(t1 - t0)
        n, n_bad = res.n_input, res.n_bad
        del raw, res
    best = min(times)
    return {
        "rows": n,
        "quarantined": n_bad,
        "best_s": round(best, 3),
        "read_s": round(min(read_times), 3),
        "validate_s": round(best - min(read_times), 3),
        "pings_per_s": round(n / best),
        "cpu_s": round(min(cpu_times), 3),
        "peak_rss_mb": round(peak_rss_kb() / 1024),
    }


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the forking parent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--pings-per-user", type=int, default=2_000)
    ap.add_argument("--csv-sizes", type=int, nargs="*", default=[1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat)))
        return
    print("| format | rows | users | file MB | read s | validate s | read+validate s | pings/s | CPU s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    runs = [("parquet", n) for n in args.sizes] + [("csv", n) for n in args.csv_sizes]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, n in runs:
            n_users = max(1, n // args.pings_per_user)
            path = Path(tmp) / f"pings_{n}.{fmt}"
            pings = make_pings(n, n_users)
            if fmt == "parquet":
                pings.to_parquet(path, index=False)
            else:
                pings.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
            del pings
            out = subprocess.run([sys.executable, __file__, "--child", str(path), "--repeat", str(args.repeat)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            mb = path.stat().st_size / 2**20
            print(f"| {fmt} | {r['rows']:,} | {n_users:,} | {mb:.0f} | {r['read_s']} | {r['validate_s']} | {r['best_s']} "
                  f"| {r['pings_per_s']:,} | {r['cpu_s']} | {r['peak_rss_mb']:,} |", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
