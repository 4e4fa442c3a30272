"""Benchmark of home/work detection (schedule rules and HoWDe v2), the CBG join and attendance: speed, memory,
accuracy per kind of person.

Part 1 (always): routine stops made here, with known home, work, remote work and job-loss dates, at the
size of the stops of ~10M pings (default 1,000 users x 274 days, ~1M stops), in America/New_York: time and
peak memory of ``detect_home_work`` (both methods) and of ``weekly_attendance`` on its labels.
Part 2 (``--region DIR``): a region written by ``mobility.synthetic.generate_region``; home/work are
detected on its true stops (``truth/stops.parquet``, places as locations) and, with ``--run OUT``, taken
from a finished pipeline run on its pings; scored as CBGs against ``truth/daily.parquet`` per schedule,
workplace and phone kind (:func:`mobility.synthetic.evaluate.group_scores`).

Run: ``python benchmarks/bench_home_work.py [--users 1000] [--region DIR [--run OUT]]``.
Numbers go to benchmarks/README.md (section "Home and work").
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from mobility.home_work import detect_home_work

TZ = "America/New_York"


def routine_stops(n_users: int, start: str = "2020-01-01", n_days: int = 274, seed: int = 0):
    """Stops of people with a home (location 0), most with a workplace (1), errands (2..9), data gaps.

    Returns (stops, truth): truth has one row per user: employed, remote, job_loss_date (NaT if none).
    """
    rng = np.random.default_rng(seed)
    employed = rng.random(n_users) < 0.8
    remote = employed & (rng.random(n_users) < 0.1)
    loses = employed & ~remote & (rng.random(n_users) < 0.25)
    loss_day = np.where(loses, rng.integers(60, n_days - 30, n_users), n_days + 1)
    day0 = pd.Timestamp(start)
    u, d = np.meshgrid(np.arange(n_users), np.arange(n_days), indexing="ij")
    u, d = u.ravel(), d.ravel()
    keep = rng.random(u.size) > 0.1  # 10% of days without any data
    u, d = u[keep], d[keep]
    weekday = (pd.Timestamp(start).day_of_week + d) % 7 < 5
    at_work = weekday & employed[u] & ~remote[u] & (d < loss_day[u]) & (rng.random(u.size) > 0.05)
    m = lambda lo, hi: rng.integers(lo, hi, u.size) * 60
    base = d.astype(np.int64) * 86400
    parts = [
        # night at home, from the previous evening
        (u, base - 2 * 3600 + m(-60, 60), base + 7 * 3600 + m(-60, 60), np.zeros(u.size, np.int64)),
        # work, or an errand on other days
        (u, base + 9 * 3600 + m(-45, 45), base + 17 * 3600 + m(-45, 45),
         np.where(at_work, 1, rng.integers(2, 10, u.size))),
        # evening at home
        (u, base + 18 * 3600 + m(0, 60), base + 22 * 3600 - 60, np.zeros(u.size, np.int64)),
    ]
    errand = rng.random(u.size) < 0.5
    parts.append((u[errand], base[errand] + 17 * 3600 + 1800, base[errand] + 18 * 3600 - 60,
                  rng.integers(2, 10, int(errand.sum()))))
    not_work = ~at_work
    parts[1] = (u, np.where(not_work, base + 11 * 3600, parts[1][1]),
                np.where(not_work, base + 12 * 3600 + m(0, 60), parts[1][2]), parts[1][3])
    uu = np.concatenate([p[0] for p in parts])
    s = np.concatenate([p[1] for p in parts])
    e = np.concatenate([p[2] for p in parts])
    loc = np.concatenate([p[3] for p in parts])
    local_start = day0 + pd.to_timedelta(s, unit="s")
    local_end = day0 + pd.to_timedelta(e, unit="s")
    stops = pd.DataFrame({
        "user_id": pd.Series([f"u{i:06d}" for i in range(n_users)]).to_numpy()[uu],
        "start": local_start.tz_localize(TZ, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC"),
        "end": local_end.tz_localize(TZ, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC"),
        "location_id": loc.astype(np.int64),
    }).dropna()
    stops = stops.sort_values(["user_id", "start"], kind="stable").reset_index(drop=True)
    truth = pd.DataFrame({
        "user_id": [f"u{i:06d}" for i in range(n_users)], "employed": employed, "remote": remote,
        "job_loss_date": pd.Series(day0 + pd.to_timedelta(loss_day, unit="D")).where(loses),
    })
    return stops, truth


def timed(fn, *args, **kwargs):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def part_routine(n_users: int) -> None:
    from mobility.employment.attendance import weekly_attendance

    stops, truth = routine_stops(n_users)
    print(f"routine stops: {len(stops):,} stops, {n_users:,} users, 274 days")
    for method in ("howde", "schedule"):
        detect_home_work(stops.head(2000), timezone=TZ, method=method)  # compile / load the numba kernels
        labels, seconds, peak_mb = timed(detect_home_work, stops, timezone=TZ, method=method)
        print(f"detect_home_work(method={method!r}): {seconds:.2f} s, peak traced memory {peak_mb:.0f} MiB, "
              f"{len(labels):,} user-days")
        df = labels.merge(truth, on="user_id")
        worker = df["employed"] & ~df["remote"] & (df["job_loss_date"].isna() | (df["date"] < df["job_loss_date"]))
        after = df["job_loss_date"].notna() & (df["date"] >= df["job_loss_date"])
        print(f"  home = location 0 on {df['home_location_id'].eq(0).mean():.4f} of user-days; work = location 1 "
              f"on {df.loc[worker, 'work_location_id'].eq(1).mean():.4f} of workers' days before a loss; "
              f"no work label on {df.loc[after, 'work_location_id'].isna().mean():.4f} of days after a loss")
    weekly_attendance(stops.head(2000), labels.head(200), timezone=TZ)
    weekly, seconds, peak_mb = timed(weekly_attendance, stops, labels, timezone=TZ)
    print(f"weekly_attendance: {seconds:.2f} s, peak traced memory {peak_mb:.0f} MiB, {len(weekly):,} user-weeks; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")


def part_region(region: str, run: str | None) -> None:
    from pathlib import Path

    from mobility.census.geometry import read_geometry
    from mobility.locations import locations_table
    from mobility.obfuscate import obfuscate_to_cbg
    from mobility.pipeline.runner import read_table
    from mobility.synthetic import load_truth
    from mobility.synthetic.evaluate import group_scores, group_table_markdown

    root = Path(region)
    truth = load_truth(root)
    cbg = read_geometry(root / "geography" / "cbg.geojson", level="cbg")
    stops = truth["stops"].assign(location_id=truth["stops"]["place_id"].astype("int64"))
    tables = {}
    for method in ("howde", "schedule"):
        labels, seconds, peak_mb = timed(detect_home_work, stops, timezone=TZ, method=method)
        print(f"true stops ({len(stops):,}), method {method!r}: detect_home_work {seconds:.2f} s, "
              f"peak {peak_mb:.0f} MiB")
        tables[f"true stops, {method}"] = obfuscate_to_cbg(labels, locations_table(stops), cbg)
    if run:
        tables["pipeline run (detected stops)"] = read_table(run, "home_work_daily")
    columns = ["dimension", "group", "people", "home_correct", "home_labelled", "commuting_days", "work_correct",
               "work_labelled"]
    for name, labels in tables.items():
        scores = group_scores({"home_work_daily": labels, "employment_weekly": None}, truth)
        print(f"\n### {name}\n")
        print(group_table_markdown(scores[columns]))
        status = labels["work_status"].value_counts(normalize=True).round(3).to_dict()
        print(f"work_status shares of user-days: {status}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--region", default=None)
    ap.add_argument("--run", default=None, help="a finished pipeline run on --region's pings")
    args = ap.parse_args()
    part_routine(args.users)
    if args.region:
        part_region(args.region, args.run)


if __name__ == "__main__":
    main()
