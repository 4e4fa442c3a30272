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


def _cohort_panel(seed, losses, n_controls=10, n_times=8, missing=0.1):
    """Saturated cohort x event-week cells (no cell at k = -1) for losers losing their job in weeks ``losses``
    (one entry per person), never-losers after them; rows missing at random except the reference week."""
    rng = np.random.default_rng(seed)
    loss = np.array(list(losses) + [-1] * n_controls)
    unit = np.repeat(np.arange(loss.size), n_times)
    time = np.tile(np.arange(n_times), loss.size)
    k = np.where(loss[unit] >= 0, time - loss[unit], -99)
    keep = (rng.random(unit.size) > missing) | (k == -1)
    unit, time, k = unit[keep], time[keep], k[keep]
    key = np.where(k > -99, loss[unit] * 100 + k, -1)
    key[k == -1] = -1
    cells = np.full(unit.size, -1)
    cells[key >= 0] = np.unique(key[key >= 0], return_inverse=True)[1]
    y = rng.normal(size=(unit.size, 2)) + unit[:, None] % 4 + 0.3 * time[:, None]
    return y, cells, int(cells.max()) + 1, unit, time, rng.uniform(0.5, 2.0, unit.size)


def _dense_cr2(y, cells, n_cells, unit, time, w, r, impute=True):
    """CR2 from the explicit dummy design [cells, persons, weeks but the first], its full hat matrix and each
    person's block ``(I - H_gg)^{+1/2}`` (eigenvalues below 1e-6 count as 0); with ``impute``, the rule of
    cell_ols for directions of leverage 1: their scores get the calendar-week covariance of the adjusted
    residuals pooled over the persons without such directions."""
    n_units, n_times = unit.max() + 1, time.max() + 1
    x = np.zeros((unit.size, n_cells))
    x[cells >= 0, cells[cells >= 0]] = 1.0
    x = np.hstack([x, np.eye(n_units)[unit], np.eye(n_times)[time][:, 1:]])
    sw = np.sqrt(w)
    xs = x * sw[:, None]
    xtx_inv = np.linalg.inv(xs.T @ xs)
    hat = xs @ xtx_inv @ xs.T
    out = []
    for j in range(y.shape[1]):
        e = (np.eye(unit.size) - hat) @ (y[:, j] * sw)
        adjusted, null_basis, blocks = np.zeros_like(e), {}, {}
        for g in range(n_units):
            i = np.flatnonzero(unit == g)
            lam, u = np.linalg.eigh(np.eye(i.size) - hat[np.ix_(i, i)])
            a = (u * np.where(lam < 1e-6, 0.0, 1.0 / np.sqrt(np.maximum(lam, 1e-6)))) @ u.T
            adjusted[i] = a @ e[i]
            blocks[g] = (i, a)
            if (lam < 1e-6).sum() > 1:  # the person mean is always one
                null_basis[g] = u[:, lam < 1e-6]
        sums, pairs = np.zeros((n_times, n_times)), np.zeros((n_times, n_times))
        for g, (i, _) in blocks.items():
            if g not in null_basis:
                sums[np.ix_(time[i], time[i])] += np.outer(adjusted[i], adjusted[i])
                pairs[np.ix_(time[i], time[i])] += 1.0
        sigma = np.where(pairs > 0, sums / np.maximum(pairs, 1.0), 0.0)
        meat = np.zeros((x.shape[1], x.shape[1]))
        for g, (i, a) in blocks.items():
            s = xs[i].T @ adjusted[i]
            meat += np.outer(s, s)
            if impute and g in null_basis:
                z = null_basis[g] @ null_basis[g].T @ xs[i]
                meat += z.T @ sigma[np.ix_(time[i], time[i])] @ z
        out.append(r @ (xtx_inv @ meat @ xtx_inv)[:n_cells, :n_cells] @ r.T)
    return np.array(out)


@pytest.mark.parametrize("weighted", [False, True])
def test_cr2_equals_the_dense_hat_matrix_formula(weighted):
    """Every cohort holds 2-4 people (leverage below 1 but far from 0): the block formula equals CR2 computed
    from the explicit dummies' hat matrix, for everyone (``leverage_tol=0``) and with the default cut-off
    (here every loser is above it; the controls' own blocks then stay unadjusted: within 3%)."""
    y, cells, n_cells, unit, time, w = _cohort_panel(2, [3, 3, 4, 4, 4, 2, 2, 2, 2])
    w = w if weighted else np.ones(unit.size)
    r = np.random.default_rng(0).normal(size=(3, n_cells))
    ref = _dense_cr2(y, cells, n_cells, unit, time, w, r)
    exact = cell_ols(y, cells, n_cells, unit, time, w if weighted else None, contrasts=r, vcov="cr2", leverage_tol=0.0)
    np.testing.assert_allclose(exact.cov, ref, rtol=1e-9, atol=1e-12)
    default = cell_ols(y, cells, n_cells, unit, time, w if weighted else None, contrasts=r, vcov="cr2")
    np.testing.assert_allclose(np.diagonal(default.cov, axis1=1, axis2=2), np.diagonal(ref, axis1=1, axis2=2),
                               rtol=0.03)
    cr1 = cell_ols(y, cells, n_cells, unit, time, w if weighted else None, contrasts=r)
    np.testing.assert_allclose(exact.estimate, cr1.estimate, atol=1e-12)  # estimates do not move
    assert (np.diagonal(exact.cov, axis1=1, axis2=2) > np.diagonal(cr1.cov, axis1=1, axis2=2) / 1.2).all()


def test_cr2_imputes_the_pooled_covariance_for_a_person_alone_in_a_cohort():
    """Persons 2 and 3 are alone in their cohorts: their cells fit them exactly (residuals 0, leverage 1), so
    without the rule their errors count for nothing; with it their scores get the pooled covariance."""
    y, cells, n_cells, unit, time, w = _cohort_panel(5, [3, 3, 4, 5], n_controls=12)
    r = np.eye(n_cells)
    fit = cell_ols(y, cells, n_cells, unit, time, w, contrasts=r, vcov="cr2", leverage_tol=0.0)
    np.testing.assert_allclose(fit.cov, _dense_cr2(y, cells, n_cells, unit, time, w, r), rtol=1e-8, atol=1e-12)
    bare = _dense_cr2(y, cells, n_cells, unit, time, w, r, impute=False)
    lone = np.isin(np.arange(n_cells), cells[np.isin(unit, [2, 3]) & (cells >= 0)])
    var, var_bare = np.diagonal(fit.cov, axis1=1, axis2=2), np.diagonal(bare, axis1=1, axis2=2)
    assert (var[:, lone] > 2.0 * var_bare[:, lone]).all()  # their own noise is most of their cells' variance
    np.testing.assert_allclose(fit.cov, cell_ols(y, cells, n_cells, unit, time, w, contrasts=r, vcov="cr2").cov,
                               rtol=1e-8, atol=1e-12)  # every loser is above the default cut-off


def test_cr2_cut_off_leaves_only_large_cells_unadjusted():
    """Three cohorts of 150 (row leverage about 2/150 times a weight up to 2) and a lone loser: the default cut-off
    adjusts the lone loser exactly (B^-1 on their cells only) and leaves (almost) everyone else unadjusted, within a
    few percent of exact CR2 (the lone loser's imputed covariance pools those unadjusted residuals)."""
    y, cells, n_cells, unit, time, w = _cohort_panel(7, [2] * 150 + [3] * 150 + [4] * 150 + [5], n_controls=60)
    r = np.eye(n_cells)
    exact = cell_ols(y, cells, n_cells, unit, time, w, contrasts=r, vcov="cr2", leverage_tol=0.0)
    default = cell_ols(y, cells, n_cells, unit, time, w, contrasts=r, vcov="cr2")
    np.testing.assert_allclose(exact.cov, _dense_cr2(y, cells, n_cells, unit, time, w, r), rtol=1e-8, atol=1e-12)
    var_exact, var_default = np.diagonal(exact.cov, axis1=1, axis2=2), np.diagonal(default.cov, axis1=1, axis2=2)
    lone = np.isin(np.arange(n_cells), cells[(unit == 450) & (cells >= 0)])
    assert 2 * lone.sum() < n_cells
    np.testing.assert_allclose(var_default[:, lone], var_exact[:, lone], rtol=0.03)
    np.testing.assert_allclose(var_default, var_exact, rtol=0.05)
    assert (var_default[:, ~lone] < var_exact[:, ~lone]).all()  # unadjusted: a little smaller, never larger


def test_cr2_without_cells_is_empty_not_an_error():
    """A block of one person and no cells (a group of the heterogeneity paths with nobody treated)."""
    fit = cell_ols(np.arange(6.0), np.full(6, -1), 0, np.zeros(6, dtype=int), np.arange(6), contrasts=np.zeros((0, 0)),
                   correction=False, vcov="cr2")
    assert fit.cov.shape == (1, 0, 0) and fit.estimate.shape == (1, 0)
