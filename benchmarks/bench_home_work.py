"""Benchmark of home/work detection (HoWDe v2) and the CBG join: speed, peak memory and accuracy.

Part 1 (always): routine stops made here, with known home, work, remote work and job-loss dates, at the
size of the stops of ~10M pings (default 1,000 users x 274 days, ~1M stops), in America/New_York.
Part 2 (``--region DIR``): a region written by ``mobility.synthetic.generate_region``; home/work are
detected on its true stops (``truth/stops.parquet``) and, when ``--detected`` is given, on stops detected
from its pings, and scored as CBGs against ``truth/people.parquet``.

Run: ``python benchmarks/bench_home_work.py [--users 1000] [--region DIR [--detected]]``.
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


def score(labels: pd.DataFrame, truth: pd.DataFrame, home_col: str, work_col: str,
          true_home: str, true_work: str) -> dict:
    """Accuracy of daily labels against per-person truth (home/work identifiers, employment)."""
    df = labels.merge(truth, on="user_id", how="left")
    has_home = df[home_col].notna()
    home_ok = (df.loc[has_home, home_col].astype(str) == df.loc[has_home, true_home].astype(str)).mean()
    before_loss = df["job_loss_date"].isna() | (df["date"] < df["job_loss_date"])
    workers = df["employed"] & ~df["remote"] & before_loss & df[true_work].notna()
    has_work = workers & df[work_col].notna()
    work_ok = (df.loc[has_work, work_col].astype(str) == df.loc[has_work, true_work].astype(str)).mean()
    after = df["job_loss_date"].notna() & (df["date"] >= df["job_loss_date"])
    return {
        "home_correct_of_labelled": float(home_ok),
        "home_labelled_share": float(has_home.mean()),
        "work_correct_of_labelled_workers": float(work_ok),
        "work_labelled_share_workers": float(has_work.sum() / max(workers.sum(), 1)),
        "no_work_after_job_loss": float(df.loc[after, work_col].isna().mean()) if after.any() else float("nan"),
        "person_days_after_job_loss": int(after.sum()),
    }


def timed(fn, *args, **kwargs):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def part_routine(n_users: int) -> None:
    stops, truth = routine_stops(n_users)
    print(f"routine stops: {len(stops):,} stops, {n_users:,} users, 274 days")
    detect_home_work(stops.head(2000), timezone=TZ)  # compile / load the numba kernels
    labels, seconds, peak_mb = timed(detect_home_work, stops, timezone=TZ)
    print(f"detect_home_work: {seconds:.2f} s, peak traced memory {peak_mb:.0f} MiB, "
          f"{len(labels):,} user-days; process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")
    truth = truth.assign(true_home="0", true_work=np.where(truth["employed"], "1", None))
    labels = labels.assign(home=labels["home_location_id"].astype("string"),
                           work=labels["work_location_id"].astype("string"))
    for k, v in score(labels, truth, "home", "work", "true_home", "true_work").items():
        print(f"  {k}: {v:.4f}" if isinstance(v, float) else f"  {k}: {v}")


def score_region(out: pd.DataFrame, people: pd.DataFrame, shock_date: str) -> dict:
    """Score daily CBG labels against a synthetic region's truth/people.parquet.

    Employed commuting days: the person has a work CBG, is before a job loss or after a rehire, and is
    not a remote worker on or after the shock date. Days after a job loss: from job_loss_date to the
    rehire date (or the end).
    """
    df = out.merge(people, on="user_id", how="left", suffixes=("", "_true"))
    has_home = df["home_cbg"].notna()
    loss = df["job_loss_date"]
    rehire = df["rehire_date"]
    jobless = loss.notna() & (df["date"] >= loss) & (rehire.isna() | (df["date"] < rehire))
    remote = df["goes_remote"].astype(bool) & (df["date"] >= pd.Timestamp(shock_date))
    commuting = df["work_cbg_true"].notna() & ~jobless & ~remote
    has_work = commuting & df["work_cbg"].notna()
    return {
        "home_correct_of_labelled": float((df.loc[has_home, "home_cbg"] == df.loc[has_home, "home_cbg_true"]).mean()),
        "home_labelled_share": float(has_home.mean()),
        "work_correct_of_labelled_commuting_days": float(
            (df.loc[has_work, "work_cbg"] == df.loc[has_work, "work_cbg_true"]).mean()),
        "work_labelled_share_of_commuting_days": float(has_work.sum() / max(int(commuting.sum()), 1)),
        "no_work_after_job_loss": float(df.loc[jobless, "work_cbg"].isna().mean()) if jobless.any() else float("nan"),
        "person_days_after_job_loss": int(jobless.sum()),
        "work_label_on_remote_days": float(df.loc[remote & df["work_cbg_true"].notna(), "work_cbg"].notna().mean()),
    }


def region_labels(root, stops: pd.DataFrame, cbg) -> tuple[pd.DataFrame, float, float]:
    """Home/work on stops with location_id, then CBGs; returns (table, seconds, peak MiB) of detection."""
    from mobility.locations import locations_table
    from mobility.obfuscate import obfuscate_to_cbg

    labels, seconds, peak_mb = timed(detect_home_work, stops, timezone=TZ)
    return obfuscate_to_cbg(labels, locations_table(stops), cbg), seconds, peak_mb


def part_region(region: str, detected: bool) -> None:
    import json
    from pathlib import Path

    from mobility.census.geometry import read_geometry

    root = Path(region)
    people = pd.read_parquet(root / "truth" / "people.parquet")
    shock = json.loads((root / "region.json").read_text())["params"]["shock_date"]
    cbg = read_geometry(root / "geography" / "cbg.geojson", level="cbg")
    true_stops = pd.read_parquet(root / "truth" / "stops.parquet")
    sources = {"true stops (true places)": true_stops.assign(location_id=true_stops["place_id"].astype("int64"))}
    if detected:
        from mobility.locations import assign_locations
        from mobility.pings import validate_pings
        from mobility.stops import detect_stops

        raw = pd.concat([pd.read_parquet(f) for f in sorted((root / "pings").glob("*.parquet"))])
        pings = validate_pings(raw).pings
        t0 = time.perf_counter()
        st = detect_stops(pings)
        t1 = time.perf_counter()
        st = assign_locations(st)
        t2 = time.perf_counter()
        print(f"{len(pings):,} pings: detect_stops {t1 - t0:.1f} s, assign_locations {t2 - t1:.1f} s")
        sources["detected stops (clustered locations)"] = st
    for name, stops in sources.items():
        out, seconds, peak_mb = region_labels(root, stops, cbg)
        print(f"{name}: {len(stops):,} stops, detect_home_work {seconds:.2f} s, peak {peak_mb:.0f} MiB")
        for k, v in score_region(out, people, shock).items():
            print(f"  {k}: {v:.4f}" if isinstance(v, float) else f"  {k}: {v}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--region", default=None)
    ap.add_argument("--detected", action="store_true")
    args = ap.parse_args()
    part_routine(args.users)
    if args.region:
        part_region(args.region, args.detected)


if __name__ == "__main__":
    main()
