"""Merging split visits (``assign_locations(merge_max_gap_s=...)``): the whole pipeline with and without it.

For each ``--gaps`` value (seconds, or ``none`` = off) the config ``--region`` gets ``[locations]
merge_max_gap_s`` set to it and runs through ``bench_pipeline.evidence`` (every stage from the pings, scored
against the region's truth, with its ``--diagnose`` entry), then adds what merging changes:

* visits (the locations stage's output, merged) scored like the stops: recall of true stops >= 20 min and
  precision, visits per true stop, and **time precision at the place**: the share of visit time during which
  the person truly stays within 300 m of the visit's coordinate (a merge that absorbs a real trip away
  lowers it);
* the mean weekly ``n_stops``, ``new_locations``, ``distinct_locations`` and ``exploration_rate`` of the
  pipeline's ``metrics_weekly`` against the same metrics on the scored true stops (>= 20 min, >= 2 pings,
  as the recall counts them; true places);
* the planted job-loss difference-in-differences of ``bench_planted_effects.did_table`` (true loss dates,
  losers vs never-losing employed) on the pipeline's weekly metrics.

Usage::

    python benchmarks/bench_merge_visits.py [--region synthetic_hard] [--gaps none 600 1800 3600]
                                            [--seeds 20200316 2] [--users 1000] [--out DIR] [--smoke]

Each gap and seed keeps its generated region and run under ``--out`` (about 1 GB each at 1000 users; the
six hard-region gaps of benchmarks/README.md took 11 GB); a summary JSON is written there too.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from bench_pipeline import _prefix, evidence
from bench_planted_effects import TIMEZONE, did_table

import mobility
from mobility.kernels.geo import haversine_m
from mobility.metrics import weekly_metrics
from mobility.pipeline.config import find_config
from mobility.synthetic.evaluate import detectable_stops, stop_recall_precision

METRICS = ("n_stops", "new_locations", "distinct_locations", "exploration_rate")
AT_PLACE_M = 300.0


def gap_config(region: str, gap: str, out: Path) -> Path:
    """``region``'s config text with ``[locations] merge_max_gap_s = gap`` (no key for ``none``)."""
    text = find_config(region).read_text()
    text = re.sub(r"(?m)^merge_max_gap_s\s*=.*\n", "", text)
    if gap != "none":
        if re.search(r"(?m)^\[locations\]", text):
            text = re.sub(r"(?m)^\[locations\]\n", f"[locations]\nmerge_max_gap_s = {float(gap)}\n", text)
        else:
            text += f"\n[locations]\nmerge_max_gap_s = {float(gap)}\n"
    path = out / "configs" / f"{Path(region).stem}_merge{gap}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def time_at_place(visits: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Share of visit time covered by a true stop of the same user within ``AT_PLACE_M`` of the visit."""
    users = pd.Index(sorted(set(visits["user_id"]) | set(truth["user_id"])))
    big = np.int64(10**11)  # seconds per user block
    sec = lambda col: col.to_numpy(dtype="datetime64[ns]").astype(np.int64) // 10**9
    vu, tu = users.get_indexer(visits["user_id"]) * big, users.get_indexer(truth["user_id"]) * big
    vs, ve = vu + sec(visits["start"]), vu + sec(visits["end"])
    order = np.argsort(tu + sec(truth["start"]), kind="stable")
    ts, te = (tu + sec(truth["start"]))[order], (tu + sec(truth["end"]))[order]
    t_lat, t_lon = truth["lat"].to_numpy()[order], truth["lon"].to_numpy()[order]
    # true stops of one user do not overlap: those overlapping visit i are a contiguous range
    lo = np.searchsorted(te, vs, side="right")
    hi = np.searchsorted(ts, ve, side="left")
    count = np.maximum(hi - lo, 0)
    vi = np.repeat(np.arange(len(visits)), count)
    ti = np.repeat(lo, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    overlap = np.minimum(ve[vi], te[ti]) - np.maximum(vs[vi], ts[ti])
    near = haversine_m(visits["lat"].to_numpy()[vi], visits["lon"].to_numpy()[vi], t_lat[ti], t_lon[ti]) <= AT_PLACE_M
    total = float((ve - vs).sum())
    return float(np.clip(overlap, 0, None)[near].sum() / total) if total else float("nan")


def merge_evidence(gap: str, seed: int, users: int, out: Path, region: str) -> dict:
    config = gap_config(region, gap, out)
    name = str(config)
    result = evidence(seed, users, out, name, with_diagnosis=True)
    run_dir = out / f"{_prefix(name)}run-{seed}-{users}"
    region_dir = out / f"{_prefix(name)}region-{seed}-{users}"
    truth = mobility.load_truth(region_dir)
    visits = mobility.read_table(run_dir, "visits")
    detected = mobility.read_table(run_dir, "metrics_weekly")
    ts = truth["stops"]
    scored = detectable_stops(ts)
    true_metrics = weekly_metrics(scored, columns={"location_id": "place_id"}, timezone=TIMEZONE)
    did = did_table(detected, truth["people"]).set_index("metric")
    result["merge"] = {
        "gap": gap,
        "visits": {**stop_recall_precision(visits, truth["stops"]),
                   "time_at_place": round(time_at_place(visits, truth["stops"]), 4)},
        "weekly_means": {m: {"detected": round(float(detected[m].mean()), 4),
                             "true": round(float(true_metrics[m].mean()), 4)} for m in METRICS},
        "did": {m: [round(float(did.loc[m, c]), 3) for c in ("estimate", "ci_low", "ci_high")]
                for m in did.index},
    }
    return result


def row(r: dict) -> dict:
    """One line of the summary table."""
    m, d, hw = r["merge"], r["diagnosis"], r["home_work"]
    county = r["area_validation"].get("individual", {}).get("truth", {})
    emp = r["employment"]
    return {
        "gap_s": m["gap"], "seed": r["seed"],
        "visits/true": round(m["visits"]["detected_stops"] / m["visits"]["true_stops"], 3),
        "home_split": d["home"]["split_in_2_or_more"], "home_mid_missed": d["home"]["midpoint_in_no_detected_stop"],
        "work_split": d["work"]["split_in_2_or_more"],
        "recall": round(m["visits"]["recall"], 4), "precision": round(m["visits"]["precision"], 4),
        "time_at_place": m["visits"]["time_at_place"],
        "home_acc(lab)": f"{hw['home_correct_of_labelled']:.3f} ({hw['home_labelled_share']:.3f})",
        "work_acc(lab)": f"{hw['work_correct_of_labelled_commuting_days']:.3f} "
                         f"({hw['work_labelled_share_of_commuting_days']:.3f})",
        "coverage": round(emp["classifier"]["coverage"], 3),
        "auc_clf/sig": f"{emp['classifier']['roc_auc']:.3f}/{emp['signal']['roc_auc']:.3f}",
        "county_r_clf/sig": f"{county.get('classifier', {}).get('pearson_r', float('nan')):.3f}/"
                            f"{county.get('signal', {}).get('pearson_r', float('nan')):.3f}",
        **{f"{k}(true)": f"{v['detected']:.3f} ({v['true']:.3f})" for k, v in m["weekly_means"].items()},
        **{f"did_{k}": f"{v[0]:.3f} ({v[1]:.3f}, {v[2]:.3f})" for k, v in m["did"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="synthetic_hard", help="a config name under pipelines/ or a .toml path")
    parser.add_argument("--gaps", nargs="+", default=["none", "600", "1800", "3600"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[20200316, 2])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "mobility-bench-merge")
    parser.add_argument("--smoke", action="store_true",
                        help="30 users of the default region, gap 1800, one seed: checks that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.region, args.gaps, args.seeds, args.users = "synthetic", ["1800"], [1], 30
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for gap in args.gaps:
        for seed in args.seeds:
            results.append(merge_evidence(gap, seed, args.users, args.out, args.region))
            print(json.dumps(row(results[-1])), flush=True)
    (args.out / f"{Path(args.region).stem}-merge.json").write_text(json.dumps(results, indent=1, default=str))
    pd.set_option("display.width", 250)
    print(pd.DataFrame([row(r) for r in results]).T.to_string())


if __name__ == "__main__":
    main()
