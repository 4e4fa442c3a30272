"""End-to-end evidence: the whole pipeline on synthetic regions, scored against their ground truth.

Runs ``python -m mobility.pipeline`` logic on the default synthetic region (``pipelines/synthetic.toml``) and
on the same region with other seeds, then scores detected stops (by time and distance:
:func:`mobility.synthetic.evaluate.stop_recall_precision`, radius = the config's ``[stops] radius_m``),
home/work labels per person-day, both employment methods against the truth, and the per-group table
(:func:`mobility.synthetic.evaluate.group_scores`, printed as Markdown), and prints per-stage wall times and
the process's peak memory.

``--region synthetic_hard`` (or ``--region path/to/config.toml``) scores another synthetic config the same
way, e.g. the harder region of ``pipelines/synthetic_hard.toml`` (shared venues, GPS outliers, work campuses,
sparser pings); its files under ``--out`` are prefixed with the config's name. ``--diagnose`` adds, per seed,
where detection fails (split stops, outings merged into home, work spread over locations).

Usage::

    python benchmarks/bench_pipeline.py [--region synthetic] [--seeds 20200316 2] [--users 1000] [--out DIR]
                                        [--diagnose] [--until STAGE]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import mobility
from mobility.employment.validation import evaluate_against_truth
from mobility.kernels.geo import haversine_m
from mobility.pipeline.config import find_config, load_config
from mobility.synthetic.evaluate import (
    detectable_stops,
    group_scores,
    group_table_markdown,
    home_work_accuracy,
    stop_recall_precision,
)

DEFAULT_REGION = "synthetic"


def _prefix(region: str) -> str:
    """File-name prefix of a config's runs under ``--out``: none for the default region (its names predate
    the option), else the config's name."""
    return "" if region == DEFAULT_REGION else f"{Path(region).stem}-"


def region_config(seed: int, users: int, out: Path, region: str = DEFAULT_REGION) -> Path:
    """The config ``region`` (a name under pipelines/ or a .toml path) with another seed and size, its region
    folder under ``out``."""
    text = find_config(region).read_text()
    folder = out / f"{_prefix(region)}region-{seed}-{users}"
    text, n_dir = re.subn(r'(?m)^dir = "[^"]*"', f'dir = "{folder}"', text, count=1)
    text, n_seed = re.subn(r"(?m)^seed = \d+", f"seed = {seed}", text, count=1)
    text, n_users = re.subn(r"(?m)^n_users = \d+", f"n_users = {users}", text, count=1)
    if (n_dir, n_seed, n_users) != (1, 1, 1):
        raise SystemExit(f"{find_config(region)}: needs a [synthetic] table with dir, seed and n_users lines")
    path = out / f"{Path(region).stem}-{seed}-{users}.toml"
    path.write_text(text)
    return path


def diagnose(run_dir: Path, region: Path) -> dict:
    """Where detection fails: true stops (>= 20 min, >= 2 pings) matched to the detected visit holding their
    midpoint and to every detected stop overlapping them; places, work locations and labels per person."""
    truth = mobility.load_truth(region)
    people = truth["people"].set_index("user_id")
    ts = truth["stops"]
    ts = detectable_stops(ts).copy()
    vis = mobility.read_table(run_dir, "visits").sort_values(["user_id", "start"])
    users = pd.Index(sorted(set(ts["user_id"]) | set(vis["user_id"])))
    big = np.int64(10**12)  # seconds key per user: user * big + UTC seconds
    sec = lambda col: col.to_numpy(dtype="datetime64[ns]").astype(np.int64) // 10**9
    v_user, t_user = users.get_indexer(vis["user_id"]) * big, users.get_indexer(ts["user_id"]) * big
    v_start, v_end = v_user + sec(vis["start"]), v_user + sec(vis["end"])
    mid = t_user + (sec(ts["start"]) + sec(ts["end"])) // 2
    pos = np.searchsorted(v_start, mid, side="right") - 1
    inside = (pos >= 0) & (v_end[np.maximum(pos, 0)] >= mid)
    ts["loc"] = np.where(inside, vis["location_id"].to_numpy()[np.maximum(pos, 0)], -2)
    ts["n_detected"] = np.maximum(np.searchsorted(v_start, t_user + sec(ts["end"]), side="right")
                                  - np.searchsorted(v_end, t_user + sec(ts["start"]), side="left"), 0)
    out = {}
    for kind in ("home", "work", "other"):
        k = ts[ts["kind"] == kind]
        out[kind] = {"true": len(k), "midpoint_in_no_detected_stop": round(float(np.mean(k["loc"] == -2)), 3),
                     "split_in_2_or_more": round(float(np.mean(k["n_detected"] >= 2)), 3),
                     "detected_per_true": round(float(k["n_detected"].mean()), 2)}
    main_loc = lambda kind: ts[(ts["kind"] == kind) & (ts["loc"] >= 0)].groupby("user_id")["loc"].agg(
        lambda s: s.value_counts().index[0])
    work = ts[(ts["kind"] == "work") & (ts["loc"] >= 0)]
    other = ts[(ts["kind"] == "other") & (ts["loc"] >= 0)]
    d_home = haversine_m(other["lat"].to_numpy(), other["lon"].to_numpy(),
                         people.loc[other["user_id"], "home_lat"].to_numpy(),
                         people.loc[other["user_id"], "home_lon"].to_numpy())
    labels = mobility.read_table(run_dir, "home_work_daily")
    workers = people.index[people["work_cbg"].notna()]  # workers with a fixed workplace
    out["workers_with_work_stops_in_2_or_more_locations"] = round(float(
        (work.groupby("user_id")["loc"].nunique() >= 2).mean()), 3)
    out["workers_never_labelled_with_work"] = round(float(
        (~workers.isin(labels.loc[labels["work_cbg"].notna(), "user_id"])).mean()), 3)
    out["other_stops_in_the_home_location"] = round(float(np.mean(
        other["loc"].to_numpy() == main_loc("home").reindex(other["user_id"]).to_numpy())), 3)
    out["other_stops_within_200m_of_home"] = round(float(np.mean(d_home < 200)), 3)
    out["places_per_user_median"] = {"true": float(truth["stops"].groupby("user_id")["place_id"].nunique().median()),
                                     "detected": float(vis[vis["location_id"] >= 0].groupby("user_id")[
                                         "location_id"].nunique().median())}
    if "venues" in truth:
        at = other.merge(truth["venues"], on=["lat", "lon"], how="left")["venue_id"].notna()
        out["other_stops_at_shared_venues"] = round(float(at.mean()), 3)
    return out


def evidence(seed: int, users: int, out: Path, region_name: str = DEFAULT_REGION,
             with_diagnosis: bool = False, until: str | None = None) -> dict:
    config = region_config(seed, users, out, region_name)
    run_dir = out / f"{_prefix(region_name)}run-{seed}-{users}"
    t0 = time.perf_counter()
    manifest = mobility.run_pipeline(str(config), str(run_dir), progress=False, force=True, until=until)
    wall = time.perf_counter() - t0
    region = out / f"{_prefix(region_name)}region-{seed}-{users}"
    truth = mobility.load_truth(region)
    radius = float(load_config(config).stage("stops").get("radius_m", 200.0))
    stops = stop_recall_precision(mobility.read_table(run_dir, "stops"), truth["stops"], radius_m=radius)
    labels = home_work_accuracy(mobility.read_table(run_dir, "home_work_daily"), truth["daily"])
    has_employment = (run_dir / "employment_weekly").is_dir()
    employment = evaluate_against_truth(mobility.read_table(run_dir, "employment_weekly"),
                                        truth["weekly_status"]) if has_employment else {}
    validation = manifest["stages"].get("validation", {}).get("validation", {})
    return {
        **({} if region_name == DEFAULT_REGION else {"region": region_name}),
        "seed": seed, "users": users, "wall_s": round(wall, 1),
        "pings": manifest["stages"]["validate"]["rows"]["pings"],
        "stage_s": {s: manifest["stages"][s]["duration_s"] for s in manifest["stage_order"]
                    if s in manifest["stages"]},
        "stops": stops, "home_work": labels, "employment": employment, "area_validation": validation,
        "groups": group_scores(run_dir, truth),
        **({"diagnosis": diagnose(run_dir, region)} if with_diagnosis else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", "--config", dest="region", default=DEFAULT_REGION,
                        help="synthetic config: a name under pipelines/ or a .toml path (default: synthetic)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[20200316, 2])
    parser.add_argument("--diagnose", action="store_true",
                        help="add a 'diagnosis' entry per seed: where stops, places and work labels fail")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--until", default=None, help="last pipeline stage to run (default: all)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "mobility-bench-pipeline")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = [evidence(seed, args.users, args.out, args.region, args.diagnose, args.until) for seed in args.seeds]
    groups = {r["seed"]: r.pop("groups") for r in results}
    print(json.dumps(results, indent=1, default=str))
    for seed, table in groups.items():
        for method in sorted(table["method"].dropna().unique()) or [None]:
            print(f"\n### seed {seed}, method {method}\n")
            print(group_table_markdown(table, method))
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
