"""Test collection: the reference scripts in tests/reference/ run in their own environments (scikit-mobility,
trackintel) to produce the committed reference tables; they are not tests and are never imported here.

Fixtures shared by the home/work tests of both rule sets (test_home_work.py, test_home_work_schedule.py):
random stop streams and a direct, slow reading of the hourly bins. ``load_script``: a script of benchmarks/ or
scripts/ imported by its path, for the tests that check or reuse it.
"""

import datetime as dt
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

collect_ignore = ["reference"]

ROOT = Path(__file__).resolve().parents[1]


def _load_script(path):
    """The script at ``path`` (relative to the repository root), imported as a module named after its file; a new
    module at each call, not put in ``sys.modules``."""
    path = ROOT / path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_script():
    """``load_script("benchmarks/bench_employment.py")``: that script, imported by its path (benchmarks/ and
    scripts/ are not packages)."""
    return _load_script


def _reference_bins(st):
    """One user's stops (user, start, end, loc) in local time -> (days, {(day, hour): loc or None}), directly."""
    first = min(r[1].date() for r in st)
    last = max((max(r[2] - dt.timedelta(seconds=1), r[1])).date() for r in st)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    bins = {}
    for d in days:
        for h in range(24):
            b0 = dt.datetime.combine(d, dt.time()) + dt.timedelta(hours=h)
            b1 = b0 + dt.timedelta(hours=1)
            best, best_ov = None, dt.timedelta(0)
            for _, s, e, loc in st:
                if loc < 0:
                    continue
                ov = min(e, b1) - max(s, b0)
                if ov > best_ov:
                    best, best_ov = loc, ov
            bins[d, h] = best
    return days, bins




def _random_rows(seed, n_days=35):
    """Two routine users (home, weekday work, gaps, detours, odd nights) and one fully random stream."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(2):
        home, work = 10 * u, 10 * u + 1
        for d in range(n_days):
            if rng.random() < 0.15:
                continue  # a day without data
            day = pd.Timestamp("2020-03-02") + pd.Timedelta(days=d)
            jitter = [pd.Timedelta(minutes=int(m)) for m in rng.integers(-90, 90, size=4)]
            night = home if rng.random() < 0.85 else int(rng.integers(2, 6))
            rows.append((f"r{u}", day - pd.Timedelta(hours=2) + jitter[0], day + pd.Timedelta(hours=7) + jitter[1],
                         night))
            if d % 7 < 5 and rng.random() < 0.75:
                rows.append((f"r{u}", day + pd.Timedelta(hours=9) + jitter[2], day + pd.Timedelta(hours=17) + jitter[3],
                             work))
            else:
                rows.append((f"r{u}", day + pd.Timedelta(hours=11), day + pd.Timedelta(hours=13),
                             int(rng.integers(2, 6))))
    t = pd.Timestamp("2020-03-01") + pd.Timedelta(minutes=int(rng.integers(0, 3000)))
    end = t + pd.Timedelta(days=n_days)
    while t < end:
        dur = pd.Timedelta(minutes=int(rng.choice([20, 45, 90, 180, 420, 600])))
        loc = int(rng.choice([-1, 0, 1, 2, 3], p=[0.05, 0.4, 0.3, 0.15, 0.1]))
        rows.append(("x", t, t + dur, loc))
        t = t + dur + pd.Timedelta(minutes=int(rng.choice([-10, 0, 10, 60, 600, 2000])))
    return rows



@pytest.fixture
def reference_bins():
    """One user's stops (user, start, end, loc) in local time -> (days, {(day, hour): loc or None})."""
    return _reference_bins


@pytest.fixture
def random_rows():
    """Stops of two routine users (home, weekday work, gaps, detours) and one fully random stream."""
    return _random_rows
