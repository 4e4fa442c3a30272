import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from mobility.errors import MobilityError
from mobility.longitudinal.cell_ols import cell_ols
from mobility.longitudinal.cluster_ols import cluster_ols, htz_test
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


def test_cr2_adjusts_a_control_alone_in_a_week_without_any_cell():
    """Large cohorts (unadjusted under the default cut-off) and one never-loser seen alone in an extra week:
    that week's effect fits their row exactly (leverage 1), so only a person without any cell row is adjusted
    (the not-yet and later-loser designs' lead regressions meet this at 100,000 users)."""
    y, cells, n_cells, unit, time, w = _cohort_panel(9, [2] * 150 + [3] * 150 + [4] * 150, n_controls=60)
    lone = unit.max()
    y, cells = np.vstack([y, [[0.3, -0.2]]]), np.append(cells, -1)
    unit, time, w = np.append(unit, lone), np.append(time, time.max() + 1), np.ones(unit.size + 1)
    r = np.eye(n_cells)
    default = cell_ols(y, cells, n_cells, unit, time, contrasts=r, vcov="cr2")
    exact = cell_ols(y, cells, n_cells, unit, time, contrasts=r, vcov="cr2", leverage_tol=0.0)
    np.testing.assert_allclose(exact.cov, _dense_cr2(y, cells, n_cells, unit, time, w, r), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(np.diagonal(default.cov, axis1=1, axis2=2), np.diagonal(exact.cov, axis1=1, axis2=2),
                               rtol=0.05)


def test_cr2_without_cells_is_empty_not_an_error():
    """A block of one person and no cells (a group of the heterogeneity paths with nobody treated)."""
    fit = cell_ols(np.arange(6.0), np.full(6, -1), 0, np.zeros(6, dtype=int), np.arange(6), contrasts=np.zeros((0, 0)),
                   correction=False, vcov="cr2")
    assert fit.cov.shape == (1, 0, 0) and fit.estimate.shape == (1, 0)


# ----------------------------------------------------------------- Satterthwaite degrees of freedom and HTZ
def _dense_p_vectors(cells, n_cells, unit, time, w, r, leverage_tol=0.0):
    """The textbook pieces of CR2 inference from the explicit dummy design [cells, persons, weeks but the first]:
    for every contrast a and person g, ``p_g^a = (I - H)[:, g] A_g X_g (X'X)^-1 c_a`` (an n-vector) and, for a
    person with directions of leverage 1 (besides the person mean), ``q0_g^a``, the part of ``X_g (X'X)^-1 c_a`` in
    those directions (their imputed meat counted as an independent pseudo-cluster, Phi = I). ``A_g`` by
    eigendecomposition of ``I - H_gg``; persons whose row scores ``w_i M_g[i, i]`` (the cell_ols module notes:
    ``z_i' pinv(Zd' Zd) z_i`` with ``z_i`` the row's week and cell indicators and ``Zd`` the person-demeaned week
    and cell dummies) stay at most ``leverage_tol`` (and sum to at most 0.9) keep ``A_g = I``, as cell_ols does."""
    n_units, n_times = unit.max() + 1, time.max() + 1
    x = np.zeros((unit.size, n_cells))
    x[cells >= 0, cells[cells >= 0]] = 1.0
    x = np.hstack([x, np.eye(n_units)[unit], np.eye(n_times)[time][:, 1:]])
    xs = x * np.sqrt(w)[:, None]
    xtx_inv = np.linalg.inv(xs.T @ xs)
    hat = xs @ xtx_inv @ xs.T
    resid_maker = np.eye(unit.size) - hat
    z = np.hstack([np.eye(n_times)[time], x[:, :n_cells]])
    zd = z * np.sqrt(w)[:, None]
    for g in range(n_units):  # person-demeaned in the weighted metric
        i = np.flatnonzero(unit == g)
        v = np.sqrt(w[i]) / np.sqrt(w[i].sum())
        zd[i] -= np.outer(v, v @ zd[i])
    lev = w * np.einsum("ij,jk,ik->i", z, np.linalg.pinv(zd.T @ zd), z)
    c_full = np.hstack([r, np.zeros((r.shape[0], x.shape[1] - n_cells))])
    infl = xs @ xtx_inv @ c_full.T  # (n, k): X (X'X)^-1 c, person by person X_g (X'X)^-1 c
    p, q0 = np.zeros((r.shape[0], n_units, unit.size)), np.zeros((r.shape[0], n_units, unit.size))
    for g in range(n_units):
        i = np.flatnonzero(unit == g)
        lam, vec = np.linalg.eigh(np.eye(i.size) - hat[np.ix_(i, i)])
        null = lam < 1e-6
        if lev[i].max() > leverage_tol or lev[i].sum() > 0.9:
            a_g = (vec * np.where(null, 0.0, 1.0 / np.sqrt(np.maximum(lam, 1e-6)))) @ vec.T
        else:
            a_g = np.eye(i.size)
        for a in range(r.shape[0]):
            p[a, g] = resid_maker[:, i] @ (a_g @ infl[i, a])
            if null.sum() > 1:
                q0[a, g, i] = vec[:, null] @ (vec[:, null].T @ infl[i, a])
    return p, q0


def _dense_small_sample(p, q0, idx):
    """clubSandwich's P array ``P[a, b, g, h] = p_g^a' p_h^b`` (+ the imputed pseudo-clusters on the diagonal) for
    the contrasts ``idx``, then Satterthwaite_df and Wald_test(test="HTZ")'s total_variance_mat and nu."""
    pa = np.einsum("agn,bhn->abgh", p[idx], p[idx]) + np.einsum("agn,bgn,gh->abgh", q0[idx], q0[idx],
                                                                  np.eye(p.shape[1]))
    omega = np.einsum("abgg->ab", pa)
    df = np.array([2.0 * np.trace(pa[a, a]) ** 2 / (2.0 * (pa[a, a] ** 2).sum()) for a in range(len(idx))])
    lam, vec = np.linalg.eigh(omega)
    omega_nsqrt = (vec * lam ** -0.5) @ vec.T
    b_jk = np.einsum("sa,abgh,bt->stgh", omega_nsqrt, pa, omega_nsqrt)
    q = len(idx)
    var_mat = np.array([[(b_jk[s, t] * b_jk[t, s]).sum() + (b_jk[s, s] * b_jk[t, t]).sum() for t in range(q)]
                        for s in range(q)])
    return omega, df, q * (q + 1) / var_mat.sum()


@pytest.mark.parametrize("lone,weighted", [(False, False), (False, True), (True, True)])
def test_satterthwaite_and_htz_equal_the_dense_textbook_formulas(lone, weighted):
    """Exact CR2 (leverage_tol=0): the moments from the person x (cells + weeks) tables equal those of the explicit
    n x n hat matrix, with and without lone losers (imputed persons) and weights, to 1e-8."""
    losses = [3, 3, 4, 5] if lone else [3, 3, 4, 4, 4, 2, 2, 2, 2]
    y, cells, n_cells, unit, time, w = _cohort_panel(5 if lone else 2, losses, n_controls=12 if lone else 10)
    w = w if weighted else np.ones(unit.size)
    r = np.random.default_rng(1).normal(size=(4, n_cells))
    joint = [np.array([0, 2, 3]), np.array([1])]
    fit = cell_ols(y, cells, n_cells, unit, time, w if weighted else None, contrasts=r, vcov="cr2",
                   leverage_tol=0.0, joint=joint)
    p, q0 = _dense_p_vectors(cells, n_cells, unit, time, w, r)
    assert not lone or np.abs(q0).sum() > 0  # persons 2 and 3 are alone in their cohorts
    omega, df, _ = _dense_small_sample(p, q0, np.arange(4))
    np.testing.assert_allclose(fit.moments.mean, np.diag(omega), rtol=1e-8)
    np.testing.assert_allclose(fit.moments.df, df, rtol=1e-8)
    for idx, (got_idx, e_mat, c4) in zip(joint, fit.moments.joint):
        omega_set, _, nu = _dense_small_sample(p, q0, idx)
        np.testing.assert_array_equal(got_idx, idx)
        np.testing.assert_allclose(e_mat, omega_set, rtol=1e-8)
        pa = np.einsum("agn,bhn->abgh", p[idx], p[idx]) + np.einsum("agn,bgn,gh->abgh", q0[idx], q0[idx],
                                                                      np.eye(p.shape[1]))
        np.testing.assert_allclose(c4, np.einsum("abgh,cdgh->abcd", pa, pa), rtol=1e-8)
        params = fit.estimate[0, idx]
        test = htz_test(params, fit.cov[0][np.ix_(idx, idx)], e_mat, c4)
        q = idx.size
        hotelling = params @ np.linalg.solve(fit.cov[0][np.ix_(idx, idx)], params)
        assert test["df_den"] == pytest.approx(nu - q + 1, rel=1e-8)
        assert test["f_stat"] == pytest.approx((nu - q + 1) / (nu * q) * hotelling, rel=1e-8)
        assert test["p_value"] == pytest.approx(stats.f.sf((nu - q + 1) / (nu * q) * hotelling, q, nu - q + 1),
                                                rel=1e-8)


def test_satterthwaite_with_the_leverage_cut_off_equals_dense_with_identity_blocks():
    """Default cut-off: persons of low leverage keep A_g = I in the moments as in the covariance (here the controls
    and the large cohort), the others are exact; the dense formulas with the same rule agree to 1e-8."""
    y, cells, n_cells, unit, time, w = _cohort_panel(7, [2] * 30 + [3] * 3 + [5], n_controls=25)
    r = np.eye(n_cells)[:5]
    fit = cell_ols(y, cells, n_cells, unit, time, w, contrasts=r, vcov="cr2", joint=[np.arange(3)])
    p, q0 = _dense_p_vectors(cells, n_cells, unit, time, w, r, leverage_tol=0.05)
    _, df, nu = _dense_small_sample(p, q0, np.arange(5))
    np.testing.assert_allclose(fit.moments.df, df, rtol=1e-8)
    _, _, nu3 = _dense_small_sample(p, q0, np.arange(3))
    e_mat, c4 = fit.moments.joint[0][1:]
    assert htz_test(fit.estimate[0, :3], fit.cov[0][:3, :3], e_mat, c4)["df_den"] == pytest.approx(nu3 - 2, rel=1e-8)


def test_satterthwaite_df_many_balanced_clusters_and_one_treated_person():
    """Many people spread evenly over two cells: df near the number of clusters (G - 1 = 199 here, Bell-McCaffrey's
    df for a balanced difference is about the smaller arm's size minus one, 99); one treated person: df near 1."""
    rng = np.random.default_rng(3)
    n_units, n_times = 200, 6
    unit = np.repeat(np.arange(n_units), n_times)
    time = np.tile(np.arange(n_times), n_units)
    cells = np.where((time >= 3), (unit < 100).astype(int) - 1, -1)  # cell 0: first 100 people after week 3
    y = rng.normal(size=unit.size)
    many = cell_ols(y, cells, 1, unit, time, vcov="cr2", leverage_tol=0.0)
    assert 80.0 < many.moments.df[0] <= 199.0
    one = np.where((time >= 3) & (unit == 0), 0, -1)
    single = cell_ols(y, one, 1, unit, time, vcov="cr2", leverage_tol=0.0)
    assert 0.9 < single.moments.df[0] < 3.0
    assert single.moments.df[0] < many.moments.df[0] / 20


def test_htz_test_with_wishart_moments_reduces_to_hotelling():
    """Moments of an exact Wishart(nu, I/nu) estimator: HTZ's nu recovers nu and its F is Hotelling's T^2 scaled."""
    q, nu = 3, 25.0
    e_mat = np.eye(q)
    # C4[a, b, c, d] = sum_{g,h} P^ab P^cd for nu independent clusters with P^ab_gh = delta_gh delta_ab / nu
    c4 = np.einsum("ab,cd->abcd", np.eye(q), np.eye(q)) / nu
    params = np.array([0.3, -0.2, 0.5])
    out = htz_test(params, np.eye(q) * 0.04, e_mat, c4)
    # total variance of a Wishart: q (q + 1) / nu summed, so nu comes back exactly
    assert out["df_den"] == pytest.approx(nu - q + 1)
    t2 = params @ params / 0.04
    assert out["f_stat"] == pytest.approx((nu - q + 1) / (nu * q) * t2)


def test_int32_codes_give_the_same_bytes_as_int64():
    """Panels store their codes as int32 (half the bytes of a rows-long array): the fit, its CR2 with the
    imputed meat, the moments and the null covariance are the same numbers, bit for bit, as from int64 codes."""
    y, cells, n_cells, unit, time, w = _cohort_panel(5, [3, 3, 4, 5, 5], n_controls=12)
    r = np.eye(n_cells)[:3]
    kwargs = dict(contrasts=r, vcov="cr2", leverage_tol=0.0, joint=[np.array([0, 1])],
                  null_cells=np.arange(n_cells) < 2, null_contrasts=np.array([0, 1]))
    wide = cell_ols(y, cells.astype(np.int64), n_cells, unit.astype(np.int64), time.astype(np.int64), w, **kwargs)
    narrow = cell_ols(y, cells.astype(np.int32), n_cells, unit.astype(np.int32), time.astype(np.int32), w, **kwargs)
    assert np.isfinite(wide.cov).all() and wide.moments.joint
    for a, b in [(wide.estimate, narrow.estimate), (wide.cov, narrow.cov), (wide.cov_null, narrow.cov_null),
                 (wide.moments.mean, narrow.moments.mean), (wide.moments.square, narrow.moments.square),
                 (wide.moments.joint[0][2], narrow.moments.joint[0][2])]:
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("shuffled", [False, True])
def test_blocks_of_persons_give_the_same_bytes_as_one_block(shuffled):
    """Residuals, scores, CR2 leverage and imputed meat are formed a block of persons at a time: blocks of a few
    rows give the numbers of one block to the bit, rows grouped by person or not (then blocks follow a sort),
    and both equal the dense hat-matrix CR2 of the explicit dummy design."""
    y, cells, n_cells, unit, time, w = _cohort_panel(5, [3, 3, 4, 5], n_controls=12)
    if shuffled:
        order = np.random.default_rng(1).permutation(unit.size)
        y, cells, unit, time, w = y[order], cells[order], unit[order], time[order], w[order]
    r = np.eye(n_cells)
    kwargs = dict(contrasts=r, vcov="cr2", leverage_tol=0.0, null_cells=np.arange(n_cells) < 2,
                  null_contrasts=np.array([0, 1]))
    one = cell_ols(y, cells, n_cells, unit, time, w, block_rows=10**9, **kwargs)
    small = cell_ols(y, cells, n_cells, unit, time, w, block_rows=7, **kwargs)
    for a, b in [(one.estimate, small.estimate), (one.cov, small.cov), (one.cov_null, small.cov_null),
                 (one.moments.mean, small.moments.mean), (one.moments.square, small.moments.square)]:
        assert a.tobytes() == b.tobytes()
    np.testing.assert_allclose(small.cov, _dense_cr2(y, cells, n_cells, unit, time, w, r), rtol=1e-8, atol=1e-12)


def _same_bytes(a, b) -> None:
    for x, z in [(a.estimate, b.estimate), (a.cov, b.cov), (a.cov_null, b.cov_null),
                 (a.moments.mean, b.moments.mean), (a.moments.square, b.moments.square),
                 (a.moments.joint[0][1], b.moments.joint[0][1]), (a.moments.joint[0][2], b.moments.joint[0][2])]:
        assert x.tobytes() == z.tobytes()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("lone", [False, True])
def test_outcomes_read_from_rows_of_a_larger_array_give_the_same_bytes(weighted, lone):
    """A fit of rows of a shared panel names them (``y_rows``, ``y_columns``) instead of copying them: the estimates,
    CR2 covariance (with the imputed meat of a loser alone in a cohort), null covariance and small-sample moments
    are those of the copied rows, bit for bit."""
    losses = [3, 3, 4, 5] + ([6] if lone else [5])
    y, cells, n_cells, unit, time, w = _cohort_panel(7, losses, n_controls=12)
    rng = np.random.default_rng(3)
    # a larger array: the fit's rows scattered among other rows, its two outcomes among other columns
    big = rng.normal(size=(3 * unit.size, 4))
    rows = np.sort(rng.choice(big.shape[0], unit.size, replace=False)).astype(np.int32)
    big[rows[:, None], [3, 1]] = y
    r = np.eye(n_cells)[: min(4, n_cells)]
    kwargs = dict(contrasts=r, vcov="cr2", leverage_tol=0.0, joint=[np.array([0, 1])],
                  null_cells=np.arange(n_cells) < 2, null_contrasts=np.array([0, 1]), block_rows=11)
    weights = w if weighted else None
    copied = cell_ols(y.copy(), cells, n_cells, unit, time, weights, **kwargs)
    named = cell_ols(big, cells, n_cells, unit, time, weights, y_rows=rows, y_columns=[3, 1], **kwargs)
    assert np.isfinite(copied.cov).all()
    _same_bytes(copied, named)
    one = cell_ols(big, cells, n_cells, unit, time, weights, y_rows=rows, y_columns=[1], **kwargs)
    assert one.estimate.shape == (1, r.shape[0])
    np.testing.assert_allclose(one.estimate[0], copied.estimate[1], rtol=1e-12)
    with pytest.raises(MobilityError, match="rows"):
        cell_ols(big, cells, n_cells, unit, time, y_rows=rows[1:])


def test_cr2_blocks_in_chunks_of_one_person_give_the_same_bytes(monkeypatch):
    """The CR2 blocks of the adjusted persons are formed a chunk of persons at a time: a chunk of one person gives
    the numbers of the default chunk, bit for bit."""
    import functools

    import mobility.longitudinal.cell_ols as module

    y, cells, n_cells, unit, time, w = _cohort_panel(9, [3, 3, 4, 6, 5], n_controls=12)
    kwargs = dict(contrasts=np.eye(n_cells)[:3], vcov="cr2", leverage_tol=0.0, joint=[np.array([0, 1])],
                  null_cells=np.arange(n_cells) < 2, null_contrasts=np.array([0, 1]))
    default = cell_ols(y, cells, n_cells, unit, time, w, **kwargs)
    monkeypatch.setattr(module, "_leverage", functools.partial(module._leverage, chunk_values=1))
    _same_bytes(default, cell_ols(y, cells, n_cells, unit, time, w, **kwargs))


def test_rows_and_columns_of_y_out_of_range_are_refused():
    from mobility.longitudinal.fixed_effects import two_way_effects, two_way_system

    units, weeks = np.repeat(np.arange(3), 2), np.tile(np.arange(2), 3)
    y, cells = np.arange(12.0).reshape(6, 2), np.array([-1, 0, -1, 0, -1, -1])
    for kwargs in ({"y_rows": np.array([0, 1, 2, 3, 4, 6])}, {"y_columns": [-1]}, {"y_columns": [2]}):
        with pytest.raises(MobilityError, match="must index y's"):
            cell_ols(y, cells, 1, units, weeks, **kwargs)
    with pytest.raises(MobilityError, match="need m"):
        two_way_effects(two_way_system(units, weeks, None), lambda j: y[:, j])
