import numpy as np
import pandas as pd

from mobility.employment.attendance import relative_attendance
from mobility.employment.classifier import (
    split_masks,
    train_classifier,
    weekly_features,
)
from mobility.employment.params import ClassifierParams
from mobility.employment.status import signal_status


def _sim():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_employment.py"
    spec = importlib.util.spec_from_file_location("bench_employment", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.simulated_panel(600, 30, seed=3)


def test_split_is_by_user_and_time():
    s = split_masks(np.ones((20, 10), bool), 10, params=ClassifierParams(seed=1))
    test_users = np.flatnonzero(s["test"].any(axis=1))
    train_users = np.flatnonzero(s["train"].any(axis=1))
    assert not set(test_users) & set(train_users)
    assert s["test"][:, :7].sum() == 0 and s["train"][:, 7:].sum() == 0


def test_classifier_learns_and_is_deterministic():
    weekly, base, features, tau, truth, _ = _sim()
    signal = signal_status(relative_attendance(weekly, base), features, tau)
    mats = weekly_features(signal, features=features)
    p = ClassifierParams(n_estimators=30)
    t1, ev1, imp1 = train_classifier(signal, mats, truth, classifier=p)
    t2, ev2, _ = train_classifier(signal, mats, truth, classifier=p)
    assert ev1["test"]["classifier"]["roc_auc"] > 0.8  # remote-then-laid-off weeks are invisible here
    pd.testing.assert_frame_equal(t1, t2)
    assert set(t1["method"]) == {"classifier"} and t1["p_unemployed"].dropna().between(0, 1).all()
    assert imp1["gain"].iloc[0] >= imp1["gain"].iloc[-1]
