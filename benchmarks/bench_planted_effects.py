"""Planted job-loss effects on a synthetic region: difference-in-differences of true job losers vs employed.

Generates the default region of ``pipelines/synthetic.toml`` (or reads an existing one), computes weekly
metrics on its true stops, and, where a pipeline run folder is given, also reads that run's
``metrics_weekly`` (metrics on detected stops). For each metric it prints
:func:`mobility.longitudinal.did_summary` with the TRUE loss dates: job losers (first loss) against people
who are employed and never lose their job, user and calendar-week fixed effects, window (-4, 12) weeks,
95 % CIs clustered by user.

Usage::

    python benchmarks/bench_planted_effects.py [--region DIR] [--run DIR] [--seed 20200316] [--users 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

import mobility
from mobility.longitudinal import did_summary
from mobility.metrics import weekly_metrics
from mobility.synthetic import SyntheticParams, generate_region, load_truth

METRICS = ("radius_of_gyration_km", "new_locations", "exploration_rate", "distinct_locations")
TIMEZONE = "America/New_York"


def did_table(metrics: pd.DataFrame, people: pd.DataFrame, window: tuple[int, int] = (-4, 12)) -> pd.DataFrame:
    """DiD per metric of job losers vs never-losing employed people, true loss dates."""
    employed = people["work_cbg"].notna()
    keep = people.loc[employed, ["user_id", "job_loss_date"]]
    week = metrics["period_start"].dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    panel = metrics.assign(week=week).merge(keep, on="user_id", how="inner")
    panel = panel.rename(columns={"job_loss_date": "job_loss_week"})
    panel["job_loss_week"] = pd.to_datetime(panel["job_loss_week"]).astype("datetime64[ns]")
    rows = [did_summary(panel, m, window=window) for m in METRICS]
    return pd.concat(rows, ignore_index=True)[["metric", "estimate", "ci_low", "ci_high", "n_users_post",
                                               "n_control_users"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", type=Path, help="an existing region folder (default: generate one)")
    parser.add_argument("--run", type=Path, help="a pipeline output folder holding metrics_weekly")
    parser.add_argument("--seed", type=int, default=20200316)
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    region = args.region
    if region is None:
        region = Path(tempfile.mkdtemp(prefix="planted-")) / "region"
        t0 = time.perf_counter()
        generate_region(region, SyntheticParams(n_users=args.users), seed=args.seed)
        print(f"generated {region} in {time.perf_counter() - t0:.1f} s")
    truth = load_truth(region)
    people = truth["people"]
    print(f"job losers: {int(people['job_loss_date'].notna().sum())}, employed never losing: "
          f"{int((people['work_cbg'].notna() & people['job_loss_date'].isna()).sum())}")
    m = weekly_metrics(truth["stops"], columns={"location_id": "place_id"}, timezone=TIMEZONE)
    pd.set_option("display.width", 200)
    print("true stops:")
    print(did_table(m, people).round(3).to_string(index=False))
    if args.run is not None:
        print("pipeline metrics_weekly (detected stops):")
        print(did_table(mobility.read_table(args.run, "metrics_weekly"), people).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
