"""Benchmark: event study on a simulated panel of N people x 39 weeks (default 100k x 39).

Run: python benchmarks/bench_longitudinal.py [n_users] [n_weeks]
Prints the wall time of the pooled event study, the one with group interactions, and the DiD summary.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from mobility.longitudinal import did_summary, event_study


def simulate(n_users: int, n_weeks: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2020-01-06", periods=n_weeks, freq="7D")
    loser = rng.random(n_users) < 0.3
    loss = np.where(loser, rng.integers(6, n_weeks - 4, n_users), -1)
    k = np.arange(n_weeks)[None, :] - loss[:, None]
    effect = np.where(loser[:, None] & (k >= 0), -0.5 - 0.1 * np.minimum(k, 12), 0.0)
    y = rng.normal(5, 2, n_users)[:, None] + rng.normal(0, 0.3, n_weeks)[None, :] + effect
    y = y + rng.normal(0, 1, (n_users, n_weeks))
    panel = pd.DataFrame({
        "user_id": np.repeat(np.arange(n_users), n_weeks),
        "week": np.tile(weeks.to_numpy(), n_users),
        "radius_of_gyration_km": y.ravel(),
        "job_loss_week": np.repeat(np.where(loser, weeks.to_numpy()[np.maximum(loss, 0)], np.datetime64("NaT")), n_weeks),
        "sex": np.repeat(np.where(rng.random(n_users) < 0.5, "female", "male"), n_weeks),
    })
    return panel[rng.random(len(panel)) > 0.05].reset_index(drop=True)  # unbalanced


def main() -> None:
    n_users = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_weeks = int(sys.argv[2]) if len(sys.argv) > 2 else 39
    panel = simulate(n_users, n_weeks)
    print(f"panel: {n_users} users x {n_weeks} weeks, {len(panel)} rows (5% missing at random)")
    for label, call in [
        ("event_study pooled, window (-4, 12)", lambda: event_study(panel, "radius_of_gyration_km")),
        ("event_study by sex (2 x 16 terms)", lambda: event_study(panel, "radius_of_gyration_km", group="sex")),
        ("did_summary by sex", lambda: did_summary(panel, "radius_of_gyration_km", group="sex")),
    ]:
        t0 = time.perf_counter()
        call()
        print(f"{label}: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
