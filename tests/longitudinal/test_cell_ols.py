import numpy as np
import pytest
import statsmodels.api as sm

from mobility.errors import MobilityError
from mobility.longitudinal.cell_ols import cell_ols
from mobility.longitudinal.cluster_ols import cluster_ols
from mobility.longitudinal.fixed_effects import two_way_demean


def _panel(seed, n_units=40, n_times=9, n_cells=5, missing=0.25):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_times)
    time = np.tile(np.arange(n_times), n_units)
    keep = rng.random(unit.size) > missing
    unit, time = np.unique(unit[keep], return_inverse=True)[1], time[keep]
    cells = np.where(rng.random(unit.size) < 0.5, rng.integers(0, n_cells, unit.size), -1)
    y = rng.normal(size=unit.size) + 0.3 * unit % 3 + 0.2 * time + np.where(cells >= 0, cells * 0.5, 0.0)
    return y, cells, unit, time, rng.uniform(0.5, 2.0, unit.size)


@pytest.mark.parametrize("weighted,nested", [(False, False), (True, False), (False, True)])
def test_equals_dense_dummy_regression(weighted, nested):
    y, cells, unit, time, w = _panel(1)
    w = w if weighted else None
    fit = cell_ols(y, cells, 5, unit, time, w, nested=nested)
    x = np.zeros((y.size, 5))
    x[cells >= 0, cells[cells >= 0]] = 1.0
    demeaned, absorbed = two_way_demean(np.column_stack([y, x]), unit, time, w)
    ref = cluster_ols(demeaned[:, 1:], demeaned[:, 0], unit, w, absorbed_df=absorbed - (unit.max() + 1 if nested else 0))
    np.testing.assert_allclose(fit.estimate[0], ref.params, atol=1e-10)
    np.testing.assert_allclose(fit.cov[0], ref.cov, atol=1e-12)
    assert fit.n_params_total == ref.n_params_total


def test_contrasts_and_several_outcomes():
    y, cells, unit, time, _ = _panel(4)
    y2 = 2.0 * y + np.sin(np.arange(y.size))
    r = np.array([[0.5, 0.5, 0, 0, 0], [0, 0, 1.0, -1.0, 0]])
    both = cell_ols(np.column_stack([y, y2]), cells, 5, unit, time, contrasts=r)
    for j, one in enumerate((y, y2)):
        full = cell_ols(one, cells, 5, unit, time)
        np.testing.assert_allclose(both.estimate[j], r @ full.estimate[0], atol=1e-10)
        np.testing.assert_allclose(both.cov[j], r @ full.cov[0] @ r.T, atol=1e-12)


def test_equals_statsmodels_with_explicit_dummies():
    y, cells, unit, time, _ = _panel(2, n_units=30)
    x = np.zeros((y.size, 5))
    x[cells >= 0, cells[cells >= 0]] = 1.0
    full = np.column_stack([x, np.eye(unit.max() + 1)[unit], np.eye(time.max() + 1)[time][:, 1:]])
    ref = sm.OLS(y, full).fit(cov_type="cluster", cov_kwds={"groups": unit}, use_t=True)
    fit = cell_ols(y, cells, 5, unit, time)
    np.testing.assert_allclose(fit.estimate[0], ref.params[:5], atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov[0])), ref.bse[:5], atol=1e-9)


def test_empty_or_collinear_cells_raise():
    y, cells, unit, time, _ = _panel(3)
    with pytest.raises(MobilityError, match="at least one row"):
        cell_ols(y, cells, 6, unit, time)
    # one cell holding every row of person 0 and nothing else is collinear with that person's effect
    cells = np.where(unit == 0, 0, -1)
    with pytest.raises(MobilityError, match="collinear"):
        cell_ols(y, cells, 1, unit, time)


def test_null_cells_covariance_from_restricted_residuals():
    """``cov_null``: the CR1 sandwich of the full design with the residuals of the fit without the null cells,
    computed here with explicit dummies (numpy least squares), not the sparse score sums."""
    y, cells, unit, time, _ = _panel(5, n_units=30)
    null = np.array([True, True, False, False, False])
    fit = cell_ols(y, cells, 5, unit, time, null_cells=null, null_contrasts=np.array([0, 1]))
    x = np.zeros((y.size, 5))
    x[cells >= 0, cells[cells >= 0]] = 1.0
    fe = np.column_stack([np.eye(unit.max() + 1)[unit], np.eye(time.max() + 1)[time][:, 1:]])
    full = np.column_stack([x, fe])
    restricted = np.column_stack([x[:, ~null], fe])
    e = y - restricted @ np.linalg.lstsq(restricted, y, rcond=None)[0]
    bread = np.linalg.inv(full.T @ full)
    meat = sum(np.outer(full[unit == g].T @ e[unit == g], full[unit == g].T @ e[unit == g])
               for g in range(unit.max() + 1))
    n, g, k = y.size, unit.max() + 1, full.shape[1]
    ref = (g / (g - 1) * (n - 1) / (n - k) * bread @ meat @ bread)[:2, :2]
    np.testing.assert_allclose(fit.cov_null[0], ref, rtol=1e-9, atol=1e-12)
    assert not np.allclose(fit.cov_null[0], fit.cov[0][:2, :2])
    np.testing.assert_allclose(fit.estimate, cell_ols(y, cells, 5, unit, time).estimate)  # estimates unchanged
