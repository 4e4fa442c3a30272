"""Simulated user-week panels with planted job-loss effects, shared by the longitudinal tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd


def true_effect(k, vulnerable, *, base=-0.5, slope=-0.15, vulnerable_factor=2.0):
    """Planted effect of job loss at event time k (0 before the loss), larger for the vulnerable group."""
    k = np.asarray(k, dtype=float)
    eff = np.where(k >= 0, base + slope * np.minimum(k, 12), 0.0)
    return eff * np.where(vulnerable, vulnerable_factor, 1.0)


def simulate_panel(
    seed: int,
    *,
    n_users: int = 600,
    n_weeks: int = 30,
    share_losers: float = 0.4,
    missing_share: float = 0.05,
    effect: bool = True,
    rho: float = 0.5,
    cohort_slope: float = 0.0,
    first_loss: int = 6,
):
    """A panel with person and week effects, AR(1) errors, staggered job loss and a planted effect.

    ``cohort_slope`` makes the effect differ by cohort: the earliest cohort's effect is ``1 + cohort_slope``
    times the planted one, the latest ``1 - cohort_slope`` times (linear in between). Nobody anticipates a
    loss: the effect is 0 before it. Returns the panel (user_id, week, y, job_loss_week, vulnerable, sex,
    true_effect) with rows missing at random.
    """
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2020-01-06", periods=n_weeks, freq="7D")
    users = np.arange(n_users)
    loser = rng.random(n_users) < share_losers
    last_loss = n_weeks - 4
    loss_idx = np.where(loser, rng.integers(first_loss, last_loss, n_users), -1)
    vulnerable = rng.random(n_users) < 0.5
    sex = np.where(rng.random(n_users) < 0.5, "female", "male")
    alpha = rng.normal(5.0, 2.0, n_users)
    gamma = np.cumsum(rng.normal(0.0, 0.3, n_weeks))
    eps = np.empty((n_users, n_weeks))
    eps[:, 0] = rng.normal(0, 1, n_users)
    for t in range(1, n_weeks):
        eps[:, t] = rho * eps[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(0, 1, n_users)
    t_idx = np.arange(n_weeks)[None, :]
    k = t_idx - loss_idx[:, None]
    position = (loss_idx - first_loss) / max(last_loss - 1 - first_loss, 1)  # 0 earliest cohort .. 1 latest
    scale = 1.0 + cohort_slope * (1.0 - 2.0 * position)
    eff = np.where(loser[:, None], true_effect(k, vulnerable[:, None]) * scale[:, None], 0.0) if effect else \
        np.zeros((n_users, n_weeks))
    y = alpha[:, None] + gamma[None, :] + eff + eps
    panel = pd.DataFrame({
        "user_id": np.repeat([f"u{u}" for u in users], n_weeks),
        "week": np.tile(weeks.to_numpy(), n_users),
        "y": y.ravel(),
        "job_loss_week": np.repeat(np.where(loser, weeks.to_numpy()[np.maximum(loss_idx, 0)], np.datetime64("NaT")), n_weeks),
        "vulnerable": np.repeat(np.where(vulnerable, "vulnerable", "other"), n_weeks),
        "sex": np.repeat(sex, n_weeks),
        "true_effect": eff.ravel(),
    })
    panel["job_loss_week"] = pd.to_datetime(panel["job_loss_week"])
    keep = rng.random(len(panel)) >= missing_share
    return panel[keep].reset_index(drop=True)


def term_truth(panel: pd.DataFrame, coefficients: pd.DataFrame, *, window, bin_endpoints=True, group=None,
               reference_period=-1):
    """The effect each coefficient row should estimate: the mean planted effect over the losers' person-weeks
    of its group and (binned) event week, minus that of the reference week (0: nobody anticipates)."""
    lo, hi = window
    k = (panel["week"] - panel["job_loss_week"]).dt.days // 7
    if bin_endpoints:
        k = k.clip(lo, hi)
    rows = panel.assign(_k=k, _g=panel[group] if group else "all")[panel["job_loss_week"].notna()]
    means = rows.groupby(["_g", "_k"])["true_effect"].mean()
    return np.array([means.get((g, e), np.nan) for g, e in zip(coefficients["group"], coefficients["event_time"])])
