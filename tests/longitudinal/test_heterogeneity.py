import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mobility.errors import MobilityError
from mobility.longitudinal.event_study import event_study
from mobility.longitudinal.heterogeneity import heterogeneity, rubin_combine, rubin_wald

from .panels import simulate_panel


def test_rubin_combine_by_hand():
    q = np.array([[1.0, 10.0], [2.0, 10.0], [4.0, 10.0]])
    u = np.array([[0.5, 1.0], [0.7, 1.0], [0.6, 1.0]])
    est, se, df = rubin_combine(q, u, df_complete=50)
    # parameter 0: qbar = 7/3, ubar = 0.6, B = var(1,2,4) = 7/3, T = 0.6 + 4/3 * 7/3
    t0 = 0.6 + (4 / 3) * (7 / 3)
    assert est[0] == pytest.approx(7 / 3) and se[0] == pytest.approx(np.sqrt(t0))
    lam = (4 / 3) * (7 / 3) / t0
    nu_old = 2 / lam**2
    nu_obs = 51 / 53 * 50 * (1 - lam)
    assert df[0] == pytest.approx(nu_old * nu_obs / (nu_old + nu_obs))
    # parameter 1: no between-draw variance
    assert se[1] == pytest.approx(1.0) and df[1] == pytest.approx(51 / 53 * 50)


def test_rubin_wald_reduces_to_chi2_without_between_variance():
    v = np.array([1.0, -2.0]); cov = np.diag([0.5, 2.0])
    out = rubin_wald([v, v, v], [cov, cov, cov])
    chi2 = 1.0 / 0.5 + 4.0 / 2.0
    assert out["f_stat"] == pytest.approx(chi2 / 2)
    assert out["p_value"] == pytest.approx(stats.chi2.sf(chi2, 2))


def test_modal_groups_rank_by_planted_effect():
    p = simulate_panel(9, n_users=1500, n_weeks=26)
    res = heterogeneity(p, "y", ["vulnerable", "sex"], window=(-4, 8))
    c = res.coefficients
    assert set(c.dimension) == {"vulnerable", "sex"}
    post = c[(c.dimension == "vulnerable") & (c.event_time >= 0)].groupby("group").estimate.mean()
    assert post["vulnerable"] < post["other"] < 0   # planted: twice the loss for the vulnerable
    assert set(res.pretrend.group) == {"vulnerable", "other", "female", "male"}


def test_identical_draws_reproduce_the_modal_estimates():
    p = simulate_panel(10, n_users=300, n_weeks=20)
    users = p[["user_id", "sex"]].drop_duplicates()
    draws = pd.concat([users.assign(draw=d) for d in range(3)], ignore_index=True)
    modal = event_study(p, "y", group="sex", window=(-3, 5)).coefficients
    combined = heterogeneity(p, "y", "sex", draws=draws, window=(-3, 5)).coefficients
    np.testing.assert_allclose(combined.estimate, modal.estimate, atol=1e-12)
    np.testing.assert_allclose(combined.std_error, modal.std_error, atol=1e-12)
    assert (combined.n_draws == 3).all()


def test_varying_draws_widen_intervals_and_suppress_on_smallest_count():
    p = simulate_panel(12, n_users=400, n_weeks=20)
    rng = np.random.default_rng(1)
    users = p.user_id.unique()
    draws = pd.concat([pd.DataFrame({"user_id": users, "draw": d,
                                     "sex": np.where(rng.random(users.size) < 0.5, "female", "male")})
                       for d in range(5)], ignore_index=True)
    res = heterogeneity(p, "y", "sex", draws=draws, window=(-3, 5))
    per_draw = [event_study(p.drop(columns="sex").merge(draws[draws.draw == d][["user_id", "sex"]], on="user_id"),
                            "y", group="sex", window=(-3, 5)).coefficients for d in range(5)]
    mean_se = np.mean([c.std_error for c in per_draw], axis=0)
    est = ~res.coefficients.reference.to_numpy()
    assert np.all(res.coefficients.std_error.to_numpy()[est] >= mean_se[est] - 1e-12)
    min_users = np.min([c.n_users for c in per_draw], axis=0)
    np.testing.assert_array_equal(res.coefficients.n_users, min_users)
    big = heterogeneity(p, "y", "sex", draws=draws, window=(-3, 5), min_users=int(min_users.max()) + 1)
    assert big.coefficients[~big.coefficients.reference].suppressed.all()
    assert res.pretrend.p_value.notna().all()


def test_bad_draws_raise():
    p = simulate_panel(13, n_users=60, n_weeks=14)
    with pytest.raises(MobilityError, match="missing column"):
        heterogeneity(p, "y", "sex", draws=pd.DataFrame({"user_id": ["u1"], "sex": ["female"]}))
    with pytest.raises(MobilityError, match="at least one dimension"):
        heterogeneity(p, "y", [])


def test_rubin_wald_with_a_singular_covariance():
    """Draws whose mean within-draw covariance has rank 2 of 3 (lead 3 = lead 1 + lead 2 in every draw) once
    raised LinAlgError; the combined test drops the dependent lead, equal to the test of the first two."""
    s1, s2 = np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])
    covs = [c * (np.outer(s1, s1) + np.outer(s2, s2)) for c in (1.0, 1.5, 2.0)]
    est = [np.array([0.3, -0.4, 0.1]), np.array([0.5, -0.2, 0.2]), np.array([0.1, -0.3, 0.0])]
    out = rubin_wald(est, covs)
    ref = rubin_wald([e[:2] for e in est], [c[:2, :2] for c in covs])
    assert out == ref and out["df_num"] == 2.0
    # the reference by hand (Li et al. 1991 D1): within 1.5 I, between the draws' sample covariance
    q = np.array([e[:2] for e in est])
    ubar, b = 1.5 * np.eye(2), np.cov(q, rowvar=False)
    r = (1 + 1 / 3) * np.trace(b @ np.linalg.inv(ubar)) / 2
    assert out["f_stat"] == pytest.approx(q.mean(0) @ np.linalg.solve(ubar, q.mean(0)) / (2 * (1 + r)), rel=1e-12)
