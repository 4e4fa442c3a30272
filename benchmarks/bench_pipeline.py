"""End-to-end evidence: the whole pipeline on synthetic regions, scored against their ground truth.

Runs ``python -m mobility.pipeline`` logic on the default synthetic region (``pipelines/synthetic.toml``) and
on the same region with other seeds, then scores detected stops, home/work labels, and both employment
methods against the truth, and prints per-stage wall times and the process's peak memory.

Usage::

    python benchmarks/bench_pipeline.py [--seeds 20200316 2] [--users 1000] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

import mobility
from mobility.employment.validation import evaluate_against_truth
from mobility.pipeline.config import find_config
from mobility.synthetic.evaluate import home_work_accuracy, stop_recall_precision


def region_config(seed: int, users: int, out: Path) -> Path:
    """The default region's config with another seed and size, its region folder under ``out``."""
    text = find_config("synthetic").read_text()
    text = text.replace('dir = "../data/synthetic/_cache/region"', f'dir = "{out / f"region-{seed}-{users}"}"')
    text = text.replace("seed = 20200316", f"seed = {seed}").replace("n_users = 1000", f"n_users = {users}")
    path = out / f"synthetic-{seed}-{users}.toml"
    path.write_text(text)
    return path


def evidence(seed: int, users: int, out: Path) -> dict:
    config = region_config(seed, users, out)
    run_dir = out / f"run-{seed}-{users}"
    t0 = time.perf_counter()
    manifest = mobility.run_pipeline(str(config), str(run_dir), progress=False, force=True)
    wall = time.perf_counter() - t0
    region = out / f"region-{seed}-{users}"
    truth = mobility.load_truth(region)
    stops = stop_recall_precision(mobility.read_table(run_dir, "stops"), truth["stops"])
    labels = home_work_accuracy(mobility.read_table(run_dir, "home_work_daily"), truth["people"],
                                shock_date="2020-03-16")
    employment = evaluate_against_truth(mobility.read_table(run_dir, "employment_weekly"), truth["weekly_status"])
    validation = manifest["stages"].get("validation", {}).get("validation", {})
    return {
        "seed": seed, "users": users, "wall_s": round(wall, 1),
        "pings": manifest["stages"]["validate"]["rows"]["pings"],
        "stage_s": {s: manifest["stages"][s]["duration_s"] for s in manifest["stage_order"]},
        "stops": stops, "home_work": labels, "employment": employment, "area_validation": validation,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[20200316, 2])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "mobility-bench-pipeline")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = [evidence(seed, args.users, args.out) for seed in args.seeds]
    print(json.dumps(results, indent=1, default=str))
    rows = []
    for r in results:
        for method, e in r["employment"].items():
            county = r["area_validation"].get("individual", {}).get("truth", {}).get(method, {})
            rows.append({"seed": r["seed"], "method": method, "roc_auc": e["roc_auc"],
                         "remote_flagged": e["remote_flagged_share"],
                         "losers_detected": f"{e['job_losers_detected']}/{e['job_losers']}",
                         "loss_week_within_1": e["loss_week_within_1"], "county_weekly_r": county.get("pearson_r")})
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
