"""Planted job-loss effects, and their absence, on a synthetic region: totals against ``*_nonwork`` outcomes.

For each metric and its ``_nonwork`` twin (the workplaces' stops left out) it prints the DiD summary
(:func:`mobility.longitudinal.did_summary`, Sun-Abraham against never-losers, window (-4, 12), 95% CIs
clustered by user) of job losers against workers who never lose their job, three ways:

* ``truth``: weekly metrics on the TRUE stops and places, workplaces from the stops' true kind, TRUE loss dates;
* ``detected/true dates``: the pipeline run's ``metrics_weekly`` (detected stops, locations, home/work), TRUE
  loss dates;
* ``detected/signal dates``, ``detected/classifier dates``: the same metrics with the run's own dating
  (:func:`mobility.employment.job_loss_weeks` of each method it ran) and its own workers.

``--controls later`` compares the job losers with people who lose their job later (``control_group="later"``)
instead of never-losers.

With ``--placebo`` the region is generated with every planted behavioural effect at 0
(``explore_effect_max = radius_effect_max = outing_effect_max = 0``): the totals then show only the lost commute
and the ``_nonwork`` effects should be about 0. ``--pipeline`` runs the pipeline on that region first (a temporary
TOML with those ``[synthetic]`` overrides).

Usage::

    python benchmarks/bench_planted_effects.py [--placebo] [--pipeline] [--run DIR] [--region DIR]
        [--seed 20200316] [--users 1000] [--controls later]
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd

import mobility
from mobility.employment import job_loss_weeks
from mobility.longitudinal import did_summary
from mobility.metrics import weekly_metrics
from mobility.synthetic import SyntheticParams, generate_region, load_truth

TOTALS = ("radius_of_gyration_km", "uncorrelated_entropy_bits", "distinct_locations", "new_locations",
          "exploration_rate")
METRICS = tuple(m for t in TOTALS for m in (t, f"{t}_nonwork"))
TIMEZONE = "America/New_York"
PLACEBO = {"explore_effect_max": 0.0, "radius_effect_max": 0.0, "outing_effect_max": 0.0}
ROOT = Path(__file__).resolve().parents[1]


def true_labels(stops: pd.DataFrame) -> pd.DataFrame:
    """Daily home and work places from the true stops' kinds (the day's longest stop of each kind)."""
    day = stops["start"].dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    s = stops.assign(date=day, dwell=(stops["end"] - stops["start"]).dt.total_seconds())
    out = s[["user_id", "date"]].drop_duplicates()
    for kind in ("home", "work"):
        best = s[s["kind"] == kind].sort_values("dwell").drop_duplicates(["user_id", "date"], keep="last")
        out = out.merge(best[["user_id", "date", "place_id"]].rename(columns={"place_id": f"{kind}_location_id"}),
                        on=["user_id", "date"], how="left")
    return out.astype({"home_location_id": "Int64", "work_location_id": "Int64"})


def did_panel(metrics: pd.DataFrame, loss: pd.Series, workers) -> pd.DataFrame:
    """User-week panel of ``workers`` with ``job_loss_week`` from ``loss`` (user -> loss week)."""
    week = metrics["period_start"].dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    panel = metrics.assign(week=week)[metrics["user_id"].isin(set(workers))]
    panel = panel[panel["week"] >= "2020-01-06"]  # the first, partial week left out
    panel = panel.merge(loss.rename("job_loss_week"), left_on="user_id", right_index=True, how="left")
    panel["job_loss_week"] = pd.to_datetime(panel["job_loss_week"]).astype("datetime64[ns]")
    return panel


def did_table(metrics: pd.DataFrame, people: pd.DataFrame, window: tuple[int, int] = (-4, 12), *,
              loss: pd.Series | None = None, workers=None, control_group: str = "never") -> pd.DataFrame:
    """DiD per metric of job losers vs workers who never lose their job: TRUE loss dates and employed people of
    ``people`` unless ``loss`` (user -> loss week) and ``workers`` are given; ``control_group="later"``: against
    people who lose their job later instead. Metrics absent from ``metrics`` (``_nonwork`` ones of a run made
    before they existed) are left out."""
    if loss is None:
        loss = people.set_index("user_id")["job_loss_date"].dropna()
        workers = people.loc[people["work_cbg"].notna(), "user_id"]
    present = [m for m in METRICS if m in metrics.columns]
    table = did_summary(did_panel(metrics, loss, workers), present, window=window, control_group=control_group)
    return table[["metric", "estimate", "ci_low", "ci_high", "n_users_post", "n_control_users"]]


def run_pipeline_on(region: Path, users: int, seed: int, placebo: bool, until: str | None = None) -> Path:
    """Run the synthetic pipeline on ``region`` (up to and including stage ``until``; every stage when None)."""
    folder = Path(tempfile.mkdtemp(prefix="planted-run-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # a scratch folder: gone at exit
    overrides = "".join(f"{k} = {v}\n" for k, v in PLACEBO.items()) if placebo else ""
    text = (ROOT / "pipelines" / "synthetic.toml").read_text()
    text = text.replace('dir = "../data/synthetic/_cache/region"', f'dir = "{region}"')
    text = text.replace("seed = 20200316\nn_users = 1000\n", f"seed = {seed}\nn_users = {users}\n{overrides}")
    config = folder / "region.toml"
    config.write_text(text)
    t0 = time.perf_counter()
    mobility.run_pipeline(str(config), str(folder / "out"), progress=False, until=until)
    print(f"pipeline on {region} in {time.perf_counter() - t0:.0f} s -> {folder / 'out'}")
    return folder / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", type=Path, help="an existing region folder (default: generate one)")
    parser.add_argument("--run", type=Path, help="a pipeline output folder holding metrics_weekly")
    parser.add_argument("--pipeline", action="store_true", help="run the pipeline on the region first")
    parser.add_argument("--placebo", action="store_true", help="every planted behavioural effect at 0")
    parser.add_argument("--seed", type=int, default=20200316)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--controls", choices=("never", "later"), default="never",
                        help="the DiD's comparison: never-losers (default) or later losers")
    args = parser.parse_args()
    kw = {"control_group": args.controls}
    region = args.region
    if region is None:
        scratch = Path(tempfile.mkdtemp(prefix="planted-"))
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # a scratch folder: gone at exit
        region = scratch / "region"
        t0 = time.perf_counter()
        generate_region(region, SyntheticParams(n_users=args.users, **(PLACEBO if args.placebo else {})), seed=args.seed)
        print(f"generated {region} in {time.perf_counter() - t0:.1f} s ({'placebo' if args.placebo else 'planted'})")
    run = run_pipeline_on(region, args.users, args.seed, args.placebo) if args.pipeline else args.run
    truth = load_truth(region)
    people = truth["people"]
    true_loss = people.set_index("user_id")["job_loss_date"].dropna()
    print(f"effects: { {k: truth['effects']['params'].get(k) for k in PLACEBO} }; job losers {len(true_loss)}, "
          f"employed never losing {int((people['work_cbg'].notna() & people['job_loss_date'].isna()).sum())}")
    stops = truth["stops"]
    m = weekly_metrics(stops, home_work=true_labels(stops), columns={"location_id": "place_id"}, timezone=TIMEZONE)
    tables = [did_table(m, people, **kw).assign(source="truth")]
    if run is not None:
        detected = mobility.read_table(run, "metrics_weekly")
        tables.append(did_table(detected, people, **kw).assign(source="detected/true dates"))
        emp = mobility.read_table(run, "employment_weekly")
        workers = mobility.read_table(run, "worker_features").query("work_cbg.notna()")["user_id"]
        for method in ("signal", "classifier"):
            if (emp["method"] == method).any():
                tables.append(did_table(detected, people, loss=job_loss_weeks(emp, method), workers=workers, **kw)
                              .assign(source=f"detected/{method} dates"))
    out = pd.concat(tables, ignore_index=True)
    pd.set_option("display.width", 220)
    for source, t in out.groupby("source", sort=False):
        print(f"\n{source}:")
        print(t.drop(columns="source").round(3).to_string(index=False))


if __name__ == "__main__":
    main()
