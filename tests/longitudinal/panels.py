"""Simulated user-week panels with planted job-loss effects, shared by the longitudinal tests."""

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
):
    """A panel with person and week effects, AR(1) errors, staggered job loss and a planted effect.

    Returns the panel (user_id, week, y, job_loss_week, vulnerable, sex) with rows missing at random.
    """
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2020-01-06", periods=n_weeks, freq="7D")
    users = np.arange(n_users)
    loser = rng.random(n_users) < share_losers
    loss_idx = np.where(loser, rng.integers(6, n_weeks - 4, n_users), -1)
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
    eff = np.where(loser[:, None], true_effect(k, vulnerable[:, None]), 0.0) if effect else 0.0
    y = alpha[:, None] + gamma[None, :] + eff + eps
    panel = pd.DataFrame({
        "user_id": np.repeat([f"u{u}" for u in users], n_weeks),
        "week": np.tile(weeks.to_numpy(), n_users),
        "y": y.ravel(),
        "job_loss_week": np.repeat(np.where(loser, weeks.to_numpy()[np.maximum(loss_idx, 0)], np.datetime64("NaT")), n_weeks),
        "vulnerable": np.repeat(np.where(vulnerable, "vulnerable", "other"), n_weeks),
        "sex": np.repeat(sex, n_weeks),
    })
    panel["job_loss_week"] = pd.to_datetime(panel["job_loss_week"])
    keep = rng.random(len(panel)) >= missing_share
    return panel[keep].reset_index(drop=True)
