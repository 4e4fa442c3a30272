"""Employment step: ground-truth evidence on synthetic regions, and speed on a 100k-user weekly panel.

Usage::

    python benchmarks/bench_employment.py evidence [--users 1000] [--seeds 0 1] [--workdir DIR]
    python benchmarks/bench_employment.py speed [--users 100000] [--weeks 39]

``evidence`` generates regions with :func:`mobility.synthetic.generate_region`, runs
:func:`mobility.employment.estimate.estimate_employment` on the true stops (kind-free: only user, times and
place) with daily labels detected on them (:func:`mobility.detect_home_work`, then CBGs), trains the classifier on the true weekly
statuses, and prints person-week scores (:func:`evaluate_against_truth`), the classifier's held-out test
(split by user and time) and the county weekly rate correlation with the truth.

``speed`` simulates a dense weekly attendance panel (teleworkers, job losers, silent weeks, part-timers) and
times the stage from the panel on: signal, classifier features, training with calibration, prediction and
area tables.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def evidence(users: int, seeds: list[int], workdir: Path) -> dict:
    from mobility.census.features import work_features
    from mobility.census.geometry import read_geometry
    from mobility.census.lodes import aggregate_lodes, read_lodes
    from mobility.census.telework import read_teleworkability
    from mobility.employment.attendance import baseline_work_cbg
    from mobility.employment.estimate import estimate_employment
    from mobility.employment.validation import evaluate_against_truth, validate_against
    from mobility.home_work import detect_home_work
    from mobility.locations import locations_table
    from mobility.metrics import weekly_metrics
    from mobility.obfuscate import obfuscate_to_cbg
    from mobility.synthetic import SyntheticParams, generate_region, load_truth

    results = {}
    for seed in seeds:
        region = generate_region(workdir / f"region_n{users}_s{seed}", SyntheticParams(n_users=users), seed=seed)
        truth = load_truth(region)
        people, stops = truth["people"], truth["stops"]
        cbg = read_geometry(region / "geography" / "cbg.geojson")
        wac_file = next((region / "census" / "lodes").glob("*wac*"))
        wac = read_lodes(wac_file)
        tau = read_teleworkability(region / "census" / "telework" / "NAICS_workfromhome.csv")
        visits = stops.assign(location_id=stops["place_id"].astype("int64"))
        labels = obfuscate_to_cbg(detect_home_work(visits, timezone="America/New_York"), locations_table(visits),
                                  cbg)
        t0 = time.perf_counter()
        features = work_features(baseline_work_cbg(labels), aggregate_lodes(wac, "cbg"), tau)
        metrics = weekly_metrics(stops, timezone="America/New_York", columns={"location_id": "place_id"})
        tables = estimate_employment(visits[["user_id", "start", "end", "location_id"]], labels, features, tau,
                                     metrics=metrics, wac_county=aggregate_lodes(wac, "county"),
                                     timezone="America/New_York", labels_truth=truth["weekly_status"])
        elapsed = time.perf_counter() - t0
        scores = evaluate_against_truth(tables["employment_weekly"], truth["weekly_status"])
        val = validate_against(tables["area_unemployment"], truth_area=truth["area_weekly"],
                               out_dir=workdir / f"validation_s{seed}")
        val_sector = validate_against(tables["area_unemployment"], truth_area=truth["area_weekly"], route="sector")
        results[f"seed{seed}"] = {
            "seconds": round(elapsed, 1), "person_weeks": scores,
            "classifier_test": tables["classifier_evaluation"]["test"],
            "county_weekly_r": {m: v.get("pearson_r") for m, v in val["truth"].items()},
            "county_weekly_r_sector_route": {m: v.get("pearson_r") for m, v in val_sector["truth"].items()},
            "top_features": tables["feature_importance"]["feature"].head(8).tolist(),
        }
    return results


def simulated_panel(n_users: int, n_weeks: int, seed: int = 0):
    """A dense relative-attendance panel with planted teleworkers, job losers, silences and part-timers."""
    from mobility.employment.sector import SECTORS

    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2019-12-30", periods=n_weeks, freq="7D")
    shock = int(np.searchsorted(weeks, pd.Timestamp("2020-03-16")))
    tau = pd.Series(rng.uniform(0.05, 0.85, 20), index=list(SECTORS))
    w = rng.dirichlet(np.full(20, 0.3), n_users)
    x = w @ tau.to_numpy()
    remote = rng.random(n_users) < x
    loss = np.where(rng.random(n_users) < 0.15, rng.integers(shock, n_weeks, n_users), n_weeks + 1)
    days = np.where(rng.random(n_users) < 0.1, 2, 5)  # part-timers attend 2 weekdays
    col = np.arange(n_weeks)[None, :]
    at = np.where((col >= shock) & remote[:, None], 0, days[:, None]) * (col < loss[:, None])
    at = np.minimum(at, rng.binomial(5, 0.96, (n_users, n_weeks)))
    with_data = np.where(rng.random((n_users, n_weeks)) < 0.05, 0, 5)  # silent weeks
    at = np.minimum(at, with_data)
    users = np.array([f"u{i:07d}" for i in range(n_users)])
    weekly = pd.DataFrame({"user_id": np.repeat(users, n_weeks), "week": np.tile(weeks.values, n_users),
                           "usual_workdays": 5.0, "workdays_observed": with_data.ravel() * 1.0,
                           "workdays_at_work": at.ravel() * 1.0, "workhour_observed_h": with_data.ravel() * 9.0,
                           "workhour_at_work_h": at.ravel() * 8.0, "work_status": "fixed"})
    status = np.where(col >= loss[:, None], "unemployed", np.where((col >= shock) & remote[:, None], "remote",
                                                                    "employed"))
    truth = pd.DataFrame({"user_id": np.repeat(users, n_weeks), "week": np.tile(weeks.values, n_users),
                          "status": status.ravel()})
    features = pd.DataFrame(w, columns=[f"w_{s}" for s in SECTORS])
    features.insert(0, "user_id", users)
    homes = pd.DataFrame({"user_id": users, "home_cbg": rng.choice(["421010001001", "420450001001", "420910001001"],
                                                                   n_users)})
    base = pd.DataFrame({"user_id": users, "work_cbg": "421010001002"})
    return weekly, base, features, tau, truth, homes


def speed(n_users: int, n_weeks: int) -> dict:
    from mobility.employment.area import area_unemployment
    from mobility.employment.attendance import relative_attendance
    from mobility.employment.classifier import train_classifier, weekly_features
    from mobility.employment.status import signal_status

    weekly, base, features, tau, truth, homes = simulated_panel(n_users, n_weeks)
    times = {}
    t = time.perf_counter()
    panel = relative_attendance(weekly, base)
    times["panel_s"] = time.perf_counter() - t
    t1 = time.perf_counter()
    signal = signal_status(panel, features, tau)
    times["signal_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    mats = weekly_features(signal, features=features)
    clf, evaluation, _ = train_classifier(signal, mats, truth)
    times["classifier_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    emp = pd.concat([signal.tables["employment_weekly"], clf], ignore_index=True)
    area_unemployment(emp, homes)
    times["area_s"] = time.perf_counter() - t1
    times["total_s"] = time.perf_counter() - t
    times = {k: round(v, 1) for k, v in times.items()}
    times["user_weeks"] = n_users * n_weeks
    times["test_auc"] = {k: round(v["roc_auc"], 4) for k, v in evaluation["test"].items() if isinstance(v, dict)}
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["evidence", "speed"])
    ap.add_argument("--users", type=int)
    ap.add_argument("--weeks", type=int, default=39)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--workdir", type=Path)
    a = ap.parse_args()
    if a.what == "evidence":
        workdir = a.workdir or Path(tempfile.mkdtemp(prefix="bench_employment_"))
        out = evidence(a.users or 1000, a.seeds, workdir)
    else:
        out = speed(a.users or 100_000, a.weeks)
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
