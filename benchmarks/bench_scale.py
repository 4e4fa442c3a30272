"""Scale benchmark: the whole pipeline on synthetic regions of 1M, 10M and 100M pings, local and Dask.

Usage::

    python benchmarks/bench_scale.py --size 10m --engine local [--data DIR] [--partitions N]
    python benchmarks/bench_scale.py --size 10m --engine dask --workers 2

Generates the region once under ``DIR/<size>/region`` (``DIR`` defaults to the system temp folder), writes a
region config of real-file form (no ``generate`` stage) beside it, runs ``python -m mobility.pipeline
--force --quiet --until census`` in a child process and samples, every 0.2 s, the resident memory of that process and all
its children (Dask workers included) and which stage is running (the stage's staging folder exists). Prints
per stage the wall time (from ``run.json``) and peak memory of the whole process tree, and a JSON line.

Partition rule (``docs/scaling.md``): about 2.5M pings per partition, and at least 2 partitions per worker.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

SIZES = {  # name: (users, last day); ~9k pings per user over Jan-Sep 2020, ~950 pings per user over 4 weeks
    "1m": (1000, "2020-01-28"),
    "10m": (1100, "2020-09-30"),
    "100m": (11000, "2020-09-30"),
}
PINGS_PER_PARTITION = 2_500_000


def region(data: Path, size: str) -> Path:
    from mobility.synthetic import SyntheticParams, generate_region

    users, end = SIZES[size]
    params = SyntheticParams(n_users=users, start="2020-01-01", end=end, timezone="America/New_York")
    return generate_region(data / size / "region", params, seed=1)


def count_pings(region_dir: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted((region_dir / "pings").glob("*.parquet")))


def write_config(folder: Path, region_dir: Path, n_partitions: int) -> Path:
    config = folder / "bench.toml"
    config.write_text(textwrap.dedent(f"""
        [region]
        name = "bench"
        timezone = "America/New_York"
        start = "2020-01-01"
        end = "2020-09-30"
        [inputs]
        pings = ["{region_dir}/pings/*.parquet"]
        cbg = "{region_dir}/geography/cbg.geojson"
        lodes_wac = "{region_dir}/census/lodes/pa_wac_S000_JT00_2019.csv.gz"
        lodes_rac = "{region_dir}/census/lodes/pa_rac_S000_JT00_2019.csv.gz"
        telework = "{region_dir}/census/telework/NAICS_workfromhome.csv"
        [run]
        n_partitions = {n_partitions}
    """))
    return config


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in members:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def running_stage(out: Path) -> str:
    staging = out / ".staging"
    names = sorted(p.name.rsplit("-", 1)[0] for p in staging.glob("*-*")) if staging.is_dir() else []
    return names[0] if names else "(between stages)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="1m")
    parser.add_argument("--engine", choices=["local", "dask"], default="local")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, help="default: pings / 2.5M, at least 2 per worker")
    parser.add_argument("--until", default="census", help="last stage (default: census, the per-user stages)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "mobility-bench-scale")
    args = parser.parse_args()

    t0 = time.perf_counter()
    region_dir = region(args.data, args.size)
    generate_s = time.perf_counter() - t0
    n_pings = count_pings(region_dir)
    workers = args.workers if args.engine == "dask" else 1
    n_partitions = args.partitions or max(2 * workers, math.ceil(n_pings / PINGS_PER_PARTITION))
    folder = args.data / args.size / f"{args.engine}-{n_partitions}"
    folder.mkdir(parents=True, exist_ok=True)
    config, out = write_config(folder, region_dir, n_partitions), folder / "out"
    command = [sys.executable, "-m", "mobility.pipeline", "--region", str(config), "--out", str(out), "--quiet",
               "--force", "--until", args.until, "--engine", args.engine]
    if args.engine == "dask":
        command += ["--workers", str(args.workers)]
    start = time.perf_counter()
    child = subprocess.Popen(command)
    proc = psutil.Process(child.pid)
    peaks: dict[str, int] = {}
    while child.poll() is None:
        rss, stage = tree_rss(proc), running_stage(out)
        peaks[stage] = max(peaks.get(stage, 0), rss)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        sys.exit(f"pipeline failed with exit code {child.returncode}")
    manifest = json.loads((out / "run.json").read_text())
    print(f"{args.size}: {n_pings:,} pings, engine {args.engine}, {n_partitions} partitions, "
          f"generate {generate_s:.1f} s (cached if small), pipeline {wall:.1f} s wall")
    print(f"{'stage':<12} {'wall s':>8} {'peak RSS GB':>12}")
    for name in manifest["stage_order"]:
        print(f"{name:<12} {manifest['stages'][name]['duration_s']:>8.1f} {peaks.get(name, 0) / 1e9:>12.2f}")
    peak = max(peaks.values()) / 1e9
    print(f"{'total':<12} {wall:>8.1f} {peak:>12.2f}")
    print(json.dumps({"size": args.size, "pings": n_pings, "engine": args.engine, "workers": workers,
                      "n_partitions": n_partitions, "wall_s": round(wall, 1), "peak_rss_gb": round(peak, 2),
                      "stages": {n: {"wall_s": manifest["stages"][n]["duration_s"],
                                     "peak_rss_gb": round(peaks.get(n, 0) / 1e9, 2)}
                                 for n in manifest["stage_order"]}}))


if __name__ == "__main__":
    main()
