"""Least squares on one-hot cell dummies with person and week fixed effects, clustered by person (kernel layer).

Every event-study design here is a regression of the outcome on indicators of disjoint *cells* (each row
in at most one cell: an event time, or a cohort x event time, or a group x event time) with person and
calendar-week effects absorbed::

    y_it = a_i + g_t + sum_c b_c 1[cell_it = c] + e_it

:func:`cell_ols` fits it without ever forming the dense demeaned design (rows x cells), so a saturated
design of a thousand cohort x event-time cells on millions of rows costs memory in cells^2 and rows, not
their product. With ``D`` the sparse cell indicators, ``M`` the (weighted) annihilator of the fixed effects
(:mod:`mobility.longitudinal.fixed_effects`), ``Omega`` the weights:

* ``B = D' Omega M D`` from sums over cells, persons and weeks (Frisch-Waugh: persons, then weeks);
* ``b = B^-1 D' Omega M y`` and residuals ``e = M (y - D b)``;
* the person-cluster scores ``s_g = sum_{i in g} w_i (M D)_i e_i``: the person-effect part of ``M D`` drops
  out (``sum_{i in g} w_i e_i = 0`` for every person ``g``), leaving ``s_g = (D - W Gamma)_g' Omega_g e_g``
  with ``Gamma`` the week coefficients of the cell columns, so the meat ``sum_g s_g s_g'`` comes from two
  sparse person x cell and person x week tables.

The covariance is CR1 with :mod:`mobility.longitudinal.cluster_ols`'s conventions (``K`` counts the
absorbed fixed effects, or not the person ones with ``nested=True``); the result equals a dummy-variable
regression with ``cluster_ols`` to rounding (``tests/longitudinal/test_cell_ols.py``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mobility.errors import MobilityError
from mobility.longitudinal.cluster_ols import ClusterFit, check_sizes
from mobility.longitudinal.fixed_effects import demean_with, two_way_system


def cell_ols(
    y: np.ndarray,
    cells: np.ndarray,
    n_cells: int,
    unit_codes: np.ndarray,
    time_codes: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    nested: bool = False,
    rank_rtol: float = 1e-10,
) -> ClusterFit:
    """Regress ``y`` on one dummy per cell with two-way fixed effects; CR1 errors clustered by unit.

    Parameters
    ----------
    y : ndarray (n,)
        Outcome.
    cells : ndarray of int (n,)
        Each row's cell ``0..n_cells-1``, or -1 for rows without a dummy (controls, reference periods).
    n_cells : int
        Number of cells; every cell must hold at least one row.
    unit_codes, time_codes : ndarray of int (n,)
        Dense person codes ``0..P-1`` (also the clusters) and week codes ``0..T-1``.
    weights : ndarray (n,), optional
        Positive regression weights.
    nested : bool
        Leave the person effects (nested in the person clusters) out of ``K`` in the CR1 factor.
    rank_rtol : float
        Relative eigenvalue below which the cell cross-product is declared singular.

    Returns
    -------
    ClusterFit
        ``params`` and ``cov`` of the cells, residuals ``M (y - D b)``, counts.

    Examples
    --------
    Three people over two weeks; person 1 is treated in week 1 and changes by 4 where the others change by
    1: the cell effect is 3.

    >>> fit = cell_ols(np.array([1.0, 2.0, 1.0, 5.0, 0.0, 1.0]), np.array([-1, -1, -1, 0, -1, -1]), 1,
    ...                np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 0, 1, 0, 1]))
    >>> round(float(fit.params[0]), 6)
    3.0
    """
    y = np.asarray(y, dtype=np.float64)
    cells = np.asarray(cells, dtype=np.int64)
    n = y.shape[0]
    system = two_way_system(unit_codes, time_codes, weights, rank_rtol=rank_rtol)
    n_units, n_times, w = system.n_units, system.n_times, system.weights
    units, times = system.unit_codes, system.time_codes
    rows = np.flatnonzero(cells >= 0)
    c, wr = cells[rows], w[rows]
    if np.any(np.bincount(c, minlength=n_cells)[:n_cells] == 0) or (rows.size and c.max() >= n_cells):
        raise MobilityError("cell_ols: every cell 0..n_cells-1 needs at least one row")
    n_clusters = n_units
    n_total = n_cells + system.absorbed_rank - (n_units if nested else 0)
    check_sizes(n, n_clusters, n_total)
    inv_uw = sp.diags(1.0 / system.unit_weight)
    ud = sp.csr_matrix((wr, (units[rows], c)), shape=(n_units, n_cells))
    dmud = np.diag(np.bincount(c, weights=wr, minlength=n_cells)) - (ud.T @ (inv_uw @ ud)).toarray()
    wd = np.bincount(times[rows] * n_cells + c, weights=wr, minlength=n_times * n_cells).reshape(n_times, n_cells)
    wmud = wd - (system.incidence.T @ (inv_uw @ ud)).toarray()
    gamma = system.week_coefficients(wmud)  # (T, cells): week effects of each cell column
    bread = dmud - wmud.T @ gamma
    bread = (bread + bread.T) / 2.0
    eig = np.linalg.eigvalsh(bread) if n_cells else np.ones(1)
    if n_cells and eig.min() <= rank_rtol * max(eig.max(), 1.0):
        raise MobilityError(
            f"cell dummies are collinear with the fixed effects (rank {int((eig > rank_rtol * eig.max()).sum())} "
            f"< {n_cells}); an event-time or cohort cell has no variation: narrow the window or merge small groups"
        )
    y_tilde = demean_with(system, y[:, None])[:, 0]
    bread_inv = np.linalg.inv(bread)
    params = bread_inv @ np.bincount(c, weights=wr * y_tilde[rows], minlength=n_cells)
    fitted = np.zeros(n)
    fitted[rows] = params[c]
    resid = demean_with(system, (y - fitted)[:, None])[:, 0]
    s1 = sp.csr_matrix((wr * resid[rows], (units[rows], c)), shape=(n_units, n_cells))
    e = sp.csr_matrix((w * resid, (units, times)), shape=(n_units, n_times))
    cross = (s1.T @ e).toarray() @ gamma
    meat = (s1.T @ s1).toarray() - cross - cross.T + gamma.T @ (e.T @ e).toarray() @ gamma
    correction = n_clusters / (n_clusters - 1.0) * (n - 1.0) / (n - n_total)
    cov = correction * bread_inv @ meat @ bread_inv
    return ClusterFit(params, (cov + cov.T) / 2.0, resid, n, n_clusters, n_total)
