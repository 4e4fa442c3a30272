import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from mobility.errors import MobilityError
from mobility.longitudinal.cluster_ols import cluster_ols, htz_test, independent_terms, t_inference, wald_test


def test_matches_statsmodels_cluster_with_weights():
    rng = np.random.default_rng(0)
    n, g = 300, 40
    clusters = rng.integers(0, g, n)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    y = x @ [1.0, 2.0, -1.0] + rng.normal(size=n) + rng.normal(size=g)[clusters]
    w = rng.uniform(0.5, 2.0, n)
    fit = cluster_ols(x, y, clusters, w)
    ref = sm.WLS(y, x, weights=w).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(fit.std_errors, ref.bse, rtol=1e-10)


def test_absorbed_df_enters_correction():
    # (N-1)/(N-K) factor by hand: same data, K grows by absorbed_df
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 1)); y = rng.normal(size=20); c = np.arange(20) % 5
    v0 = cluster_ols(x, y, c).cov[0, 0]
    v5 = cluster_ols(x, y, c, absorbed_df=5).cov[0, 0]
    assert v5 / v0 == pytest.approx((20 - 1) / (20 - 6) / ((20 - 1) / (20 - 1)))


def test_t_inference_and_wald_by_hand():
    p, lo, hi = t_inference(np.array([0.0]), np.array([1.0]), 1000)
    assert p[0] == pytest.approx(1.0)
    assert hi[0] == pytest.approx(1.9623, abs=1e-3)  # t(1000) 97.5% quantile
    out = wald_test(np.array([2.0, 0.0]), np.diag([4.0, 1.0]), 30)
    assert out["f_stat"] == pytest.approx((2.0**2 / 4.0) / 2)


def test_errors():
    with pytest.raises(MobilityError, match="2 clusters"):
        cluster_ols(np.ones((3, 1)), np.ones(3), np.zeros(3, dtype=int))
    with pytest.raises(MobilityError, match="collinear"):
        cluster_ols(np.column_stack([np.ones(6), np.ones(6)]), np.arange(6.0), np.arange(6) % 3)


def test_joint_tests_with_a_singular_covariance():
    """Three leads behind two clusters: ``V = s1 s1' + s2 s2'`` has rank 2 (lead 3 = lead 1 + lead 2), which
    once raised LinAlgError (longitudinal_study on a 60-user run, min_users=1, vcov="cr1", pretrend_test="wald").
    The tests drop the dependent lead, as Stata's ``test`` drops dependent constraints."""
    s1, s2 = np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])
    cov = np.outer(s1, s1) + np.outer(s2, s2)
    b = np.array([0.3, -0.4, 0.5])
    assert independent_terms(cov).tolist() == [0, 1]
    out = wald_test(b, cov, 20)
    assert out["df_num"] == 2.0 and out["f_stat"] == pytest.approx((0.3**2 + 0.4**2) / 2, rel=1e-12)
    assert out["p_value"] == pytest.approx(float(stats.f.sf((0.3**2 + 0.4**2) / 2, 2, 20)), rel=1e-12)
    moments4 = np.einsum("ab,cd->abcd", cov, cov) / 10
    htz = htz_test(b, cov, cov, moments4)
    sub = np.ix_([0, 1], [0, 1])
    assert htz == htz_test(b[:2], cov[sub], cov[sub], moments4[np.ix_([0, 1], [0, 1], [0, 1], [0, 1])])
    assert htz["df_num"] == 2.0
    assert wald_test(b, np.zeros((3, 3)), 20)["df_num"] == 0.0  # nothing to test: NaN, not an error
