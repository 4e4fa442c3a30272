"""Benchmark: the longitudinal step's estimation on a simulated panel of N people x W weeks (default 100k x 39).

The panel mimics ``metrics_weekly`` of the pipeline: 12 metrics (totals and ``_nonwork`` twins) observed on
three different row sets (some metrics are missing in empty weeks, some in the first weeks), 30% of people
losing their job in staggered weeks with effects that differ by cohort, 5 demographic dimensions of 2-6
groups, 5% of rows missing. It times what :func:`mobility.longitudinal.longitudinal_tables` computes with the
default :class:`~mobility.longitudinal.params.EventStudyParams` (Sun-Abraham, never-losers, group x week effects):
the pooled event study of every metric and the paths by group of every dimension (each fit also gives its DiD
summary); then the figures of one metric (the pipeline draws 6 per metric, their cost does not grow with the
people). ``--twfe`` times two-way fixed effects instead (its DiD summaries are separate regressions); ``--cr1``
the plain CR1 covariance instead of the default CR2 (``vcov``), whose per-person leverage blocks are also timed
on their own (CPU seconds inside ``cell_ols._leverage`` and ``_imputed_meat``), and so are the CR2 estimator's
moments for the Satterthwaite degrees of freedom (``cell_ols._moments``).

``--clusters`` keeps CR2 but its t intervals on G - 1 (``cr2_df="clusters"``: no Satterthwaite df).

Run: python benchmarks/bench_longitudinal.py [n_users] [n_weeks] [--twfe] [--cr1] [--clusters]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import mobility.longitudinal.cell_ols as cell_ols_module
from mobility.longitudinal import event_study, heterogeneity, plot_event_study

DIMENSIONS = {"sex": 2, "age": 3, "earnings": 3, "race": 6, "education": 4}
N_METRICS = 12


def simulate(n_users: int, n_weeks: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2020-01-06", periods=n_weeks, freq="7D")
    loser = rng.random(n_users) < 0.3
    loss = np.where(loser, rng.integers(6, n_weeks - 4, n_users), -1)
    k = np.arange(n_weeks)[None, :] - loss[:, None]
    scale = 1.5 - (loss - 6) / max(n_weeks - 10, 1)  # earlier cohorts lose more
    effect = np.where(loser[:, None] & (k >= 0), (-0.5 - 0.1 * np.minimum(k, 12)) * scale[:, None], 0.0)
    base = rng.normal(5, 2, n_users)[:, None] + rng.normal(0, 0.3, n_weeks)[None, :] + effect
    columns = {
        "user_id": np.repeat(np.arange(n_users), n_weeks),
        "week": np.tile(weeks.to_numpy(), n_users),
        "job_loss_week": np.repeat(np.where(loser, weeks.to_numpy()[np.maximum(loss, 0)], np.datetime64("NaT")), n_weeks),
    }
    empty_week = rng.random((n_users, n_weeks)) < 0.03  # ratio metrics are missing in weeks without stops
    for j in range(N_METRICS):
        y = (base * (1 + 0.1 * j) + rng.normal(0, 1, (n_users, n_weeks))).ravel()
        if j % 3 == 1:
            y = np.where(empty_week.ravel(), np.nan, y)
        elif j % 3 == 2:
            y = np.where(np.tile(np.arange(n_weeks), n_users) < 3, np.nan, y)  # capacity-like: first weeks missing
        columns[f"metric_{j:02d}"] = y
    for dim, n_groups in DIMENSIONS.items():
        columns[dim] = np.repeat(np.asarray([f"{dim}{g}" for g in range(n_groups)])[rng.integers(0, n_groups, n_users)],
                                 n_weeks)
    panel = pd.DataFrame(columns)
    return panel[rng.random(len(panel)) > 0.05].reset_index(drop=True)  # unbalanced


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n_users = int(args[0]) if args else 100_000
    n_weeks = int(args[1]) if len(args) > 1 else 39
    kwargs = {"estimator": "twfe"} if "--twfe" in sys.argv else {}
    if "--cr1" in sys.argv:
        kwargs["vcov"] = "cr1"
    if "--clusters" in sys.argv:  # CR2 with t(G - 1) intervals: no Satterthwaite df
        kwargs["cr2_df"] = "clusters"
    cr2_cpu = {"s": 0.0, "calls": 0, "persons": 0}
    moments_cpu = {"s": 0.0, "calls": 0}

    def timed_moments(*a, **kw):
        c0 = time.process_time()
        out = moments(*a, **kw)
        moments_cpu["s"] += time.process_time() - c0
        moments_cpu["calls"] += 1
        return out

    moments = cell_ols_module._moments
    cell_ols_module._moments = timed_moments

    def timed(fn, count_persons):
        def wrapper(*a, **kw):
            c0 = time.process_time()
            out = fn(*a, **kw)
            cr2_cpu["s"] += time.process_time() - c0
            cr2_cpu["calls"] += count_persons
            cr2_cpu["persons"] += out.persons.size if count_persons else 0
            return out
        return wrapper

    cell_ols_module._leverage = timed(cell_ols_module._leverage, 1)
    cell_ols_module._imputed_meat = timed(cell_ols_module._imputed_meat, 0)
    panel = simulate(n_users, n_weeks)
    metrics = [c for c in panel.columns if c.startswith("metric_")]
    print(f"panel: {n_users} users x {n_weeks} weeks, {len(panel)} rows (5% missing at random), {len(metrics)} "
          f"metrics, dimensions {DIMENSIONS}, estimator {kwargs.get('estimator', 'sun_abraham')}, "
          f"vcov {kwargs.get('vcov', 'cr2')}, cr2_df {kwargs.get('cr2_df', 'satterthwaite')}")
    total = 0.0
    results = {}
    for label, call in [
        ("event_study, every metric, pooled (with its DiD)", lambda: event_study(panel, metrics, **kwargs)),
        ("heterogeneity, every metric x 5 dimensions (with their DiDs)",
         lambda: heterogeneity(panel, metrics, list(DIMENSIONS), **kwargs)),
    ]:
        t0, c0 = time.perf_counter(), time.process_time()
        results[label] = call()
        dt = time.perf_counter() - t0
        total += dt
        print(f"{label}: {dt:.1f} s (CPU {time.process_time() - c0:.1f} s)")
    es = results["event_study, every metric, pooled (with its DiD)"].coefficients
    t0 = time.perf_counter()
    het = results["heterogeneity, every metric x 5 dimensions (with their DiDs)"].coefficients
    figures = [plot_event_study(es[es.metric == metrics[0]])] + [
        plot_event_study(het[(het.metric == metrics[0]) & (het.dimension == d)]) for d in DIMENSIONS]
    print(f"figures of one metric ({len(figures)}, not written): {time.perf_counter() - t0:.1f} s")
    print(f"estimation total: {total:.1f} s; CR2 leverage blocks: {cr2_cpu['s']:.2f} CPU s over "
          f"{cr2_cpu['calls']} designs, {cr2_cpu['persons']} persons adjusted exactly; Satterthwaite / HTZ moments: "
          f"{moments_cpu['s']:.2f} CPU s over {moments_cpu['calls']} designs")


if __name__ == "__main__":
    main()
