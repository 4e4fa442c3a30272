"""How often census-assigned demographic groups equal people's true categories: work CBG (LODES WAC) vs home
CBG (LODES RAC), on a synthetic region whose ``truth/people.parquet`` holds everyone's categories.

Reads a finished pipeline run (``worker_features``: census shares of each worker's baseline work CBG;
``user_features``: per-week shares of the home CBG) and prints, per source and dimension, the share of workers
assigned their true category, and per category the true and assigned group sizes (the modal category of a
block group over-assigns the majority: small groups shrink).

Run: python benchmarks/bench_group_agreement.py --run out/synthetic --region data/synthetic/_cache/region
(``--smoke``: a 60-person region run to the census stage in a temporary folder first).
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
from pathlib import Path

import pandas as pd

import mobility
from mobility.census import baseline_rows, group_agreement, person_groups
from mobility.longitudinal.params import DEFAULT_GROUPS

DIMENSIONS = (*DEFAULT_GROUPS, "ethnicity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path)
    parser.add_argument("--region", type=Path)
    parser.add_argument("--baseline", nargs=2, default=("2020-01-06", "2020-02-29"))
    parser.add_argument("--smoke", action="store_true", help="run a tiny region first and score it")
    args = parser.parse_args()
    if args.smoke:
        from mobility.synthetic.config import write_region_config

        tmp = Path(tempfile.mkdtemp(prefix="bench-groups-"))
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # a scratch folder: gone at exit
        config = write_region_config(tmp / "tiny.toml", name="tiny", start="2020-01-01", end="2020-03-31", seed=3,
                                     n_users=60)
        args.run, args.region = tmp / "out", tmp / "region"
        mobility.run_pipeline(str(config), str(args.run), progress=False, until="employment")
    elif args.run is None or args.region is None:
        parser.error("give --run and --region (or --smoke)")
    truth = mobility.load_truth(args.region)["people"]
    workers = mobility.read_table(args.run, "worker_features").query("work_cbg.notna()").drop_duplicates("user_id")
    home = baseline_rows(mobility.read_table(args.run, "user_features"), "home_cbg", start=args.baseline[0],
                         end=args.baseline[1])
    home = workers[["user_id"]].merge(home, on="user_id", how="left")
    tables = [group_agreement(person_groups(workers, DIMENSIONS, source="work"), truth, DIMENSIONS, label="work (WAC)"),
              group_agreement(person_groups(home, DIMENSIONS, source="home"), truth, DIMENSIONS, label="home (RAC)")]
    out = pd.concat(tables, ignore_index=True)
    pd.set_option("display.width", 200)
    print(f"{len(workers)} workers with a baseline work CBG")
    overall = out[out.category == "all"].pivot(index="dimension", columns="source", values="agreement")
    print("share assigned their true category:\n" + overall.round(3).to_string())
    sizes = out[out.category != "all"].pivot_table(index=["dimension", "category"], columns="source",
                                                   values=["n_true", "n_assigned", "agreement"], sort=False)
    print("\ngroup sizes (true vs assigned) and agreement within each true group:\n" + sizes.round(3).to_string())


if __name__ == "__main__":
    main()
