"""Scale benchmark: the whole pipeline on synthetic regions of N users (January-September 2020), stage by stage.

Usage::

    python benchmarks/bench_scale.py --users 1000 10000 [--runs 2] [--engine local|dask --workers 2]
    python benchmarks/bench_scale.py --users 1000 --until census      # the per-user stages only
    python benchmarks/bench_scale.py --smoke                           # 30 users, 3 weeks: checks that it runs

For each N: generates the region once under ``DIR/users-N/region`` (``--data``, default the system temp folder;
seed 1, or ``--seed S`` under ``DIR/users-N-seedS``; 0.1 % bad rows as in ``pipelines/synthetic.toml``), writes a
region config of real-file form beside it (no ``generate`` stage; the truth's labels train the classifier and its
area rates are the validation reference, as in ``pipelines/synthetic.toml``), then runs ``python -m
mobility.pipeline --force --quiet`` in a child process ``--runs`` times. During each run it samples, every 0.2 s,
the memory of that process and all its children (worker processes included; proportional set sizes, so pages a
forked worker shares with its parent count once), which stage is running (the stage's staging folder exists) and
the 1-minute load average. Prints per stage the wall time and CPU time (user + system of the process and its
workers, from ``run.json``), peak memory and mean load average, per run, then a Markdown table and a JSON line.

Partitions (``docs/scaling.md``): about 2.5M pings per partition, and at least 2 per worker.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

PINGS_PER_PARTITION = 2_500_000
END = "2020-09-30"


def region_folder(data: Path, users: int, end: str, seed: int = 1) -> Path:
    """``DATA/users-N-END`` (seed 1, the benchmark's) or ``DATA/users-N-END-seedS``."""
    return data / f"users-{users}-{end}{'' if seed == 1 else f'-seed{seed}'}"


def region(data: Path, users: int, end: str, seed: int = 1) -> Path:
    from mobility.synthetic import SyntheticParams, generate_region

    folder = region_folder(data, users, end, seed) / "region"
    if (folder / "region.json").exists():
        return folder
    params = SyntheticParams(n_users=users, start="2020-01-01", end=end, timezone="America/New_York",
                             inject_bad_share=0.001)
    return generate_region(folder, params, seed=seed)


def count_pings(region_dir: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted((region_dir / "pings").glob("*.parquet")))


def write_config(folder: Path, region_dir: Path, n_partitions: int, end: str) -> Path:
    months = '["2020-04", "2020-09"]' if end >= "2020-09-30" else f'["{end[:7]}"]'
    config = folder / "bench.toml"
    config.write_text(textwrap.dedent(f"""
        [region]
        name = "bench"
        timezone = "America/New_York"
        start = "2020-01-01"
        end = "{end}"
        [inputs]
        pings = ["{region_dir}/pings/*.parquet", "{region_dir}/pings/*.csv"]
        cbg = "{region_dir}/geography/cbg.geojson"
        lodes_wac = "{region_dir}/census/lodes/pa_wac_S000_JT00_2019.csv.gz"
        lodes_rac = "{region_dir}/census/lodes/pa_rac_S000_JT00_2019.csv.gz"
        telework = "{region_dir}/census/telework/NAICS_workfromhome.csv"
        truth_area = "{region_dir}/truth/area_weekly.parquet"
        [run]
        n_partitions = {n_partitions}
        [employment]
        labels = "{region_dir}/truth/weekly_status.parquet"
        [report]
        months = {months}
    """))
    return config


def tree_memory(proc: psutil.Process) -> int:
    """Memory of a process and all its children: the sum of their proportional set sizes (PSS: a page shared
    by n processes counts 1/n in each, so forked workers' shared pages count once), resident sets where PSS
    cannot be read (not Linux)."""
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in members:
        try:
            info = p.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def running_stage(out: Path) -> str:
    staging = out / ".staging"
    names = sorted(p.name.rsplit("-", 1)[0] for p in staging.glob("*-*")) if staging.is_dir() else []
    return names[0] if names else "(between stages)"


def one_run(config: Path, out: Path, engine: str, workers: int, until: str | None) -> dict:
    command = [sys.executable, "-m", "mobility.pipeline", "--region", str(config), "--out", str(out), "--quiet",
               "--force", "--engine", engine]
    if until:
        command += ["--until", until]
    if workers:
        command += ["--workers", str(workers)]
    start = time.perf_counter()
    child = subprocess.Popen(command)
    proc = psutil.Process(child.pid)
    peaks: dict[str, int] = {}
    loads: dict[str, list[float]] = {}
    while child.poll() is None:
        memory, stage = tree_memory(proc), running_stage(out)
        peaks[stage] = max(peaks.get(stage, 0), memory)
        loads.setdefault(stage, []).append(os.getloadavg()[0])
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        sys.exit(f"pipeline failed with exit code {child.returncode}")
    manifest = json.loads((out / "run.json").read_text())
    every = [x for xs in loads.values() for x in xs]
    stages = {}
    for n in manifest["stage_order"]:
        entry = manifest["stages"][n]
        stages[n] = {"wall_s": entry["duration_s"], "cpu_s": entry.get("cpu_s"),
                     "peak_gb": round(peaks.get(n, 0) / 1e9, 2),
                     "load_average": round(sum(loads[n]) / len(loads[n]), 1) if loads.get(n) else None}
    return {"wall_s": round(wall, 1), "cpu_s": round(sum(s["cpu_s"] or 0 for s in stages.values()), 1),
            "peak_gb": round(max(peaks.values()) / 1e9, 2),
            "load_average": [round(min(every), 1), round(max(every), 1)] if every else None, "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--engine", choices=["local", "dask"], default="local")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    parser.add_argument("--partitions", type=int, help="default: pings / 2.5M, at least 2 per worker")
    parser.add_argument("--until", help="last stage (default: all, report included)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "mobility-bench-scale")
    parser.add_argument("--seed", type=int, default=1, help="the synthetic region's seed (default 1)")
    parser.add_argument("--smoke", action="store_true", help="30 users over 3 weeks, one run: checks that it runs")
    args = parser.parse_args()
    end = END
    if args.smoke:
        args.users, args.runs, end = [30], 1, "2020-01-21"
        args.until = args.until or "metrics"
    results = []
    for users in args.users:
        t0 = time.perf_counter()
        region_dir = region(args.data, users, end, args.seed)
        generate_s = time.perf_counter() - t0
        n_pings = count_pings(region_dir)
        workers = args.workers
        n_partitions = args.partitions or max(2 * (workers or os.cpu_count() or 1),
                                              math.ceil(n_pings / PINGS_PER_PARTITION))
        folder = region_folder(args.data, users, end, args.seed) / f"{args.engine}-{workers or 'cores'}-{n_partitions}"
        folder.mkdir(parents=True, exist_ok=True)
        config = write_config(folder, region_dir, n_partitions, end)
        for run in range(args.runs):
            r = one_run(config, folder / "out", args.engine, workers, args.until)
            r.update({"users": users, "pings": n_pings, "engine": args.engine, "workers": workers,
                      "n_partitions": n_partitions, "run": run + 1, "generate_s": round(generate_s, 1)})
            results.append(r)
            print(f"{users:,} users, {n_pings:,} pings, {args.engine} ({workers or 'one per core'} worker(s)), "
                  f"{n_partitions} partitions, run {run + 1}: {r['wall_s']} s wall, {r['cpu_s']} CPU-s, "
                  f"peak {r['peak_gb']} GB, load average {r['load_average']}", flush=True)
            for name, s in r["stages"].items():
                print(f"  {name:<12} {s['wall_s']:>8.1f} s {s['cpu_s'] or 0:>8.1f} CPU-s {s['peak_gb']:>6.2f} GB "
                      f"load {s['load_average']}", flush=True)
    stages = list(dict.fromkeys(n for r in results for n in r["stages"]))
    print("\nEach stage: wall s / CPU s (peak GB)")
    print("\n| users | pings | run | wall s | CPU s | peak GB | load avg (min-max) | " + " | ".join(stages) + " |")
    print("|---:|---:|---:|---:|---:|---:|---|" + "---:|" * len(stages))
    for r in results:
        cells = " | ".join(f"{r['stages'][n]['wall_s']:.1f} / {r['stages'][n]['cpu_s'] or 0:.1f} "
                           f"({r['stages'][n]['peak_gb']:.1f})" if n in r["stages"] else "" for n in stages)
        load = "-".join(str(x) for x in r["load_average"]) if r["load_average"] else ""
        print(f"| {r['users']:,} | {r['pings']:,} | {r['run']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_gb']} | {load} "
              f"| {cells} |")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
