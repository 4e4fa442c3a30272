"""Raking with soft memberships: parity with svy's raking on hard categories, margins met, trimming, Kish."""

import numpy as np
import pandas as pd
import pytest

from mobility.employment.weights import Margin, kish_design_effect, margin_error, rake
from mobility.errors import MobilityError


def _onehot(codes, n):
    m = np.zeros((len(codes), n))
    m[np.arange(len(codes)), codes] = 1.0
    return m


def test_hard_categories_match_svy_raking():
    svy = pytest.importorskip("svy")
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(3)
    sex = rng.integers(0, 2, 200)
    age = rng.integers(0, 3, 200)
    d = rng.uniform(0.5, 2.0, 200)
    sex_totals = np.array([[5200.0, 4800.0]])
    age_totals = np.array([[3000.0, 4500.0, 2500.0]])
    ours = rake(d, np.zeros(200, int), [Margin("sex", _onehot(sex, 2), sex_totals),
                                        Margin("age", _onehot(age, 3), age_totals)],
                max_weight_ratio=1000.0, trim_rounds=0, max_iter=1000, tol=1e-12)
    df = pl.DataFrame({"sex": [f"s{v}" for v in sex], "age": [f"a{v}" for v in age], "w": d})
    sample = svy.Sample(df, svy.Design(wgt="w"))
    theirs = sample.weighting.rake(controls={"sex": {"s0": 5200.0, "s1": 4800.0},
                                             "age": {"a0": 3000.0, "a1": 4500.0, "a2": 2500.0}},
                                   tol=1e-12, max_iter=1000).data["rk_wgt"].to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)


def test_soft_memberships_meet_the_margins_within_each_area():
    rng = np.random.default_rng(0)
    n = 300
    area = np.repeat([0, 1], n // 2)
    members = rng.dirichlet([2.0, 1.0, 1.0], n)
    totals = np.array([[500.0, 300.0, 200.0], [300.0, 400.0, 300.0]])
    w = rake(np.ones(n), area, [Margin("sector", members, totals)], max_weight_ratio=1000.0, trim_rounds=0,
             max_iter=2000, tol=1e-10)
    for g in (0, 1):  # computed independently: the weighted expected counts per area
        got = (w[area == g][:, None] * members[area == g]).sum(axis=0)
        np.testing.assert_allclose(got, totals[g], rtol=1e-6)
    assert margin_error(w, area, [Margin("sector", members, totals)]) < 1e-6


def test_replicate_rows_are_raked_independently():
    members = _onehot(np.array([0, 0, 1, 1]), 2)
    totals = np.array([[10.0, 30.0]])
    rows = rake(np.array([[1.0, 1.0, 1.0, 1.0], [2.0, 0.0, 1.0, 3.0]]), np.zeros(4, int),
                [Margin("x", members, totals)], trim_rounds=0, max_weight_ratio=100.0)
    np.testing.assert_allclose(rows[0], [5, 5, 15, 15])
    np.testing.assert_allclose(rows[1], [10, 0, 7.5, 22.5])  # a unit resampled 0 times stays at 0


def test_trimming_bounds_hold_exactly():
    rng = np.random.default_rng(1)
    members = _onehot(rng.integers(0, 4, 100), 4)
    members[:3] = _onehot(np.array([3, 3, 3]), 4)
    members[3:][members[3:, 3] == 1] = _onehot(np.zeros(int((members[3:, 3] == 1).sum()), int), 4)
    totals = np.array([[100.0, 100.0, 100.0, 700.0]])  # three units must carry 70 % of the population
    w = rake(np.ones(100), np.zeros(100, int), [Margin("x", members, totals)], max_weight_ratio=3.0)
    assert w.max() <= 3.0 * w.mean() * (1 + 1e-6) and w.min() >= w.mean() / 3.0 * (1 - 1e-6)
    assert margin_error(w, np.zeros(100, int), [Margin("x", members, totals)]) > 0.1  # the price, reported


def test_kish_by_hand_and_bad_input():
    w = np.array([1.0, 3.0, 2.0, 2.0, 5.0])
    cells = np.array([0, 0, 1, 1, -1])
    deff = kish_design_effect(w, cells, 3)
    assert deff[0] == pytest.approx(2 * (1 + 9) / 16) and deff[1] == pytest.approx(1.0) and np.isnan(deff[2])
    with pytest.raises(MobilityError, match="totals of shape"):
        rake(np.ones(2), np.zeros(2, int), [Margin("x", np.ones((2, 2)) / 2, np.ones((2, 2)))])
    with pytest.raises(MobilityError, match="negative or missing"):
        rake(np.ones(2), np.zeros(2, int), [Margin("x", np.array([[np.nan, 1.0], [0.5, 0.5]]), np.ones((1, 2)))])
    with pytest.raises(MobilityError, match="max_weight_ratio"):
        rake(np.ones(2), np.zeros(2, int), [], max_weight_ratio=0.5)
    assert pd.isna(kish_design_effect(np.array([1.0]), np.array([-1]), 1)[0])
