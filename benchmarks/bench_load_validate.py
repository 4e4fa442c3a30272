"""Benchmark: the pipeline's ``load`` and ``validate`` stages, end to end from ping files to the ``pings`` table.

Generates sorted canonical pings (a numpy random walk per user: ``user_id`` str, ``timestamp``
datetime64[ns, UTC], ``lat``, ``lon``, ``accuracy_m``) into a temporary Parquet file (or takes ``--files``),
writes a region config naming it, and runs ``mobility.pipeline.run(..., until="validate")`` in a fresh child
process per case, best of ``--repeat`` runs. Reports the two stages' wall seconds, pings/s (wall clock, both
stages), the least CPU seconds of a run (user + system, all threads; less sensitive to other jobs) and the
child's peak resident memory (VmHWM).

Run::

    python benchmarks/bench_load_validate.py            # 1M and 10M rows, plus 1M rows as CSV text
    python benchmarks/bench_load_validate.py --sizes 1000000 --csv-sizes --repeat 5
    python benchmarks/bench_load_validate.py --files data/synthetic/_cache/region/pings/part-00000.parquet
    python benchmarks/bench_load_validate.py --smoke    # tiny: checks that it runs

The CSV rows time the text path (every value parsed from text), for comparison.
"""

from __future__ import annotations

import argparse
import atexit
import json
import resource
import subprocess
import shutil
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


def child(files: list[str], repeat: int, n_partitions: int) -> dict:
    import logging
    import os
    import textwrap

    from mobility.pipeline import run

    logging.disable(logging.WARNING)  # the quarantine warning of every repeat
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # a scratch folder: gone at exit
    config = work / "bench.toml"
    config.write_text(textwrap.dedent(f"""
        [region]
        name = "bench"
        timezone = "America/New_York"
        [inputs]
        pings = {json.dumps(files)}
        [run]
        n_partitions = {n_partitions}
    """))
    best = None
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        manifest = run(str(config), str(work / "out"), until="validate", force=True, progress=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if best is None or wall < best[0]:
            best = (wall, cpu, manifest)
    wall, cpu, manifest = best
    stages = manifest["stages"]
    n = stages["validate"]["rows"]["pings"]
    return {"rows": stages["load"]["input_rows"], "pings": n, "load_s": stages["load"]["duration_s"],
            "validate_s": stages["validate"]["duration_s"], "best_s": round(wall, 3),
            "pings_per_s": round(stages["load"]["input_rows"] / (stages["load"]["duration_s"] + stages["validate"]["duration_s"])),
            "cpu_s": round(cpu, 3), "peak_rss_mb": round(peak_rss_kb() / 1024), "load_average": os.getloadavg()[0]}


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
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    ap.add_argument("--pings-per-user", type=int, default=2_000)
    ap.add_argument("--csv-sizes", type=int, nargs="*", default=[1_000_000])
    ap.add_argument("--files", nargs="*", default=[], help="existing ping files, loaded together as one case")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="20,000 rows, one repeat: checks that the script runs")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat, args.partitions)))
        return
    if args.smoke:
        args.sizes, args.csv_sizes, args.repeat, args.pings_per_user = [20_000], [5_000], 1, 500
    print("| input | rows | users | file MB | load s | validate s | pings/s (load + validate) | wall s (run) | CPU s "
          "| peak RSS MB | load average |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(f"parquet {n:,}", n) for n in args.sizes] + [(f"csv {n:,}", n) for n in args.csv_sizes]
        if args.files:
            cases.append((" + ".join(Path(f).name for f in args.files), None))
        for name, n in cases:
            if n is None:
                paths, n_users = [str(Path(f).resolve()) for f in args.files], "-"
            else:
                n_users = max(1, n // args.pings_per_user)
                path = Path(tmp) / f"pings_{n}.{name.split()[0]}"
                pings = make_pings(n, n_users)
                if path.suffix == ".parquet":
                    pings.to_parquet(path, index=False)
                else:
                    pings.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
                del pings
                paths = [str(path)]
            out = subprocess.run([sys.executable, __file__, "--repeat", str(args.repeat), "--partitions",
                                  str(args.partitions), "--child", *paths], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            mb = sum(Path(p).stat().st_size for p in paths) / 2**20
            users = f"{n_users:,}" if isinstance(n_users, int) else n_users
            print(f"| {name} | {r['rows']:,} | {users} | {mb:.0f} | {r['load_s']} | {r['validate_s']} | "
                  f"{r['pings_per_s']:,} | {r['best_s']} | {r['cpu_s']} | {r['peak_rss_mb']:,} | {r['load_average']:.1f} |",
                  flush=True)
            if n is not None:
                Path(paths[0]).unlink()


if __name__ == "__main__":
    main()
