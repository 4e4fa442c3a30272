"""Hand-made weekly panels: a teleworker, a job loser, a silent phone, a part-timer, and on-site workers;
``sim``: the simulated panels of ``benchmarks/bench_employment.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.employment.sector import SECTORS

WEEKS = pd.date_range("2020-01-06", periods=16, freq="7D")  # baseline: the first 8 weeks (to 2020-02-24)
SHOCK = 10  # week index of 2020-03-16


def _rows(user, weekdays_at_work, with_data=5):
    with_data = np.broadcast_to(with_data, (len(WEEKS),))
    at = np.asarray(weekdays_at_work)
    return pd.DataFrame({"user_id": user, "week": WEEKS, "usual_workdays": 5.0,
                         "workdays_observed": with_data * 1.0, "workdays_at_work": at * 1.0,
                         "workhour_observed_h": with_data * 9.0, "workhour_at_work_h": at * 8.0,
                         "work_status": "fixed"})


@pytest.fixture
def hand_panel():
    """weekly attendance, baseline work CBGs, features, telework for 12 users.

    ``tele``: fully teleworkable sector, goes remote at the shock week; ``loser``: non-teleworkable,
    loses the job at week 12; ``silent``: phone silent from week 11 on; ``part``: part-timer, 2 days a
    week throughout; ``site0..7``: on-site workers, non-teleworkable.
    """
    n = len(WEEKS)
    full = np.full(n, 5)
    tele = full.copy(); tele[SHOCK:] = 0
    loser = full.copy(); loser[12:] = 0
    silent_data = np.full(n, 5); silent_data[11:] = 0
    silent = np.where(silent_data > 0, 5, 0)
    frames = [_rows("tele", tele), _rows("loser", loser), _rows("silent", silent, silent_data),
              _rows("part", np.full(n, 2))]
    frames += [_rows(f"site{i}", full) for i in range(8)]
    weekly = pd.concat(frames, ignore_index=True)
    users = weekly["user_id"].unique()
    base = pd.DataFrame({"user_id": users, "work_cbg": "421010001001"})
    tau = pd.Series(0.0, index=list(SECTORS))
    tau["CNS12"] = 1.0
    w = np.zeros((len(users), 20))
    w[:, 17] = 1.0  # CNS18, tau 0
    w[list(users).index("tele")] = 0.0
    w[list(users).index("tele"), 11] = 1.0  # CNS12, tau 1
    features = pd.DataFrame(w, columns=[f"w_{s}" for s in SECTORS])
    features.insert(0, "user_id", users)
    return weekly, base, features, tau


@pytest.fixture(scope="session")
def sim(load_script):
    """``sim(n_users, n_weeks, seed)``: ``bench_employment.simulated_panel``'s weekly table, baseline, worker
    features, teleworkability, truth and homes (its daytime table left out)."""
    bench = load_script("benchmarks/bench_employment.py")

    def simulate(n_users=600, n_weeks=30, seed=3):
        return bench.simulated_panel(n_users, n_weeks, seed=seed)[:6]

    return simulate
