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
* ``b = B^-1 D' Omega M y`` and residuals ``e = M y - M D b`` (``M D b`` from the same person x cell and week x
  cell sums, without a second pass of the demeaning over the rows);
* the person-cluster scores ``s_g = sum_{i in g} w_i (M D)_i e_i``: the person-effect part of ``M D`` drops
  out (``sum_{i in g} w_i e_i = 0`` for every person ``g``), leaving ``s_g = (D - W Gamma)_g' Omega_g e_g``
  with ``Gamma`` the week coefficients of the cell columns, so the meat ``sum_g s_g s_g'`` comes from two
  sparse person x cell and person x week tables.

The dense algebra (cells x cells at most) runs on one BLAS thread: at these sizes threads gain nothing,
and on a busy machine OpenBLAS's spinning threads made a 1000-cell Cholesky 60 times slower.

The covariance is CR1 with :mod:`mobility.longitudinal.cluster_ols`'s conventions (``K`` counts the
absorbed fixed effects, or not the person ones with ``nested=True``); the result equals a dummy-variable
regression with ``cluster_ols`` to rounding (``tests/longitudinal/test_cell_ols.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from mobility.errors import MobilityError
from mobility.longitudinal.cluster_ols import check_sizes, cr1_factor
from mobility.longitudinal.fixed_effects import demean_with, two_way_system


@dataclass(frozen=True)
class ContrastFit:
    """Estimates of linear combinations ``R b`` of the cell coefficients, for one or more outcomes.

    ``estimate`` is (outcomes, contrasts), ``cov`` (outcomes, contrasts, contrasts), ``params`` the cell
    coefficients (outcomes, cells); ``n_params_total`` counts cells and absorbed effects (the CR1 ``K``).
    """

    estimate: np.ndarray
    cov: np.ndarray
    params: np.ndarray
    n_obs: int
    n_clusters: int
    n_params_total: int
    cov_null: np.ndarray | None = None  # (outcomes, null contrasts, null contrasts): see ``null_cells``

    @property
    def df_inference(self) -> int:
        """Degrees of freedom of the t and F reference distributions: ``G - 1``."""
        return self.n_clusters - 1


def cell_ols(
    y: np.ndarray,
    cells: np.ndarray,
    n_cells: int,
    unit_codes: np.ndarray,
    time_codes: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    contrasts: np.ndarray | None = None,
    nested: bool = False,
    correction: bool = True,
    rank_rtol: float = 1e-9,
    null_cells: np.ndarray | None = None,
    null_contrasts: np.ndarray | None = None,
) -> ContrastFit:
    """Regress ``y`` on one dummy per cell with two-way fixed effects; CR1 errors clustered by unit.

    Parameters
    ----------
    y : ndarray (n,) or (n, m)
        Outcome(s), all observed on the same rows (the design is factored once for all of them).
    cells : ndarray of int (n,)
        Each row's cell ``0..n_cells-1``, or -1 for rows without a dummy (controls, reference periods).
    n_cells : int
        Number of cells; every cell must hold at least one row.
    unit_codes, time_codes : ndarray of int (n,)
        Dense person codes ``0..P-1`` (also the clusters) and week codes ``0..T-1``.
    weights : ndarray (n,), optional
        Positive regression weights.
    contrasts : ndarray (k, n_cells), optional
        The linear combinations ``R b`` to report (default: every cell). Only their covariance is formed:
        the scores are projected on ``B^-1 R'`` person by person, so the cost grows with ``k``, not with the
        square of the cells.
    nested : bool
        Leave the person effects (nested in the person clusters) out of ``K`` in the CR1 factor.
    correction : bool
        Apply the CR1 factor (and check there are more rows than parameters). False returns the plain
        sandwich, for a caller that fits independent blocks of one model and corrects their sum once.
    rank_rtol : float
        A cell whose share of variation not explained by the fixed effects and earlier cells (the squared
        Cholesky pivot over its diagonal) is below this is collinear: :class:`MobilityError`.
    null_cells : ndarray of bool (n_cells,), optional
        Cells whose coefficients a hypothesis sets to 0 (e.g. the leads of a pre-trend test). With it,
        ``cov_null`` is the covariance of the contrasts ``null_contrasts`` (row indices of ``contrasts``) from
        the residuals of the fit *without* those cells (the null imposed): the cluster-robust score (Lagrange
        multiplier) form of the Wald test. Unrestricted residuals are shrunk where a cell holds few persons
        (each such cell fits its persons' own errors), so their CR1 covariance is too small when few people
        lose their job in each week; restricted residuals are not (MacKinnon & Webb 2017, "wild bootstrap
        inference for wildly different cluster sizes", restricted residuals).

    Returns
    -------
    ContrastFit

    Examples
    --------
    Three people over two weeks; person 1 is treated in week 1 and changes by 4 where the others change by
    1: the cell effect is 3.

    >>> fit = cell_ols(np.array([1.0, 2.0, 1.0, 5.0, 0.0, 1.0]), np.array([-1, -1, -1, 0, -1, -1]), 1,
    ...                np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 0, 1, 0, 1]))
    >>> round(float(fit.estimate[0, 0]), 6)
    3.0
    """
    with threadpool_limits(1, "blas"):
        return _cell_ols(y, cells, n_cells, unit_codes, time_codes, weights, contrasts, nested, correction,
                         rank_rtol, null_cells, null_contrasts)


def _cell_ols(y, cells, n_cells, unit_codes, time_codes, weights, contrasts, nested, correction,
              rank_rtol, null_cells=None, null_contrasts=None) -> ContrastFit:
    y = np.asarray(y, dtype=np.float64)
    y = y[:, None] if y.ndim == 1 else y
    cells = np.asarray(cells, dtype=np.int64)
    n, m = y.shape
    r = np.eye(n_cells) if contrasts is None else np.asarray(contrasts, dtype=np.float64)
    system = two_way_system(unit_codes, time_codes, weights)
    n_units, n_times, w = system.n_units, system.n_times, system.weights
    units, times = system.unit_codes, system.time_codes
    rows = np.flatnonzero(cells >= 0)
    c, wr = cells[rows], w[rows]
    if (rows.size and c.max() >= n_cells) or np.any(np.bincount(c, minlength=n_cells) == 0):
        raise MobilityError("cell_ols: every cell 0..n_cells-1 needs at least one row")
    n_total = n_cells + system.absorbed_rank - (n_units if nested else 0)
    if correction:
        check_sizes(n, n_units, n_total)
    inv_uw = sp.diags(1.0 / system.unit_weight)
    ud = sp.csr_matrix((wr, (units[rows], c)), shape=(n_units, n_cells))
    dmud = np.diag(np.bincount(c, weights=wr, minlength=n_cells)) - (ud.T @ (inv_uw @ ud)).toarray()
    wd = np.bincount(times[rows] * n_cells + c, weights=wr, minlength=n_times * n_cells).reshape(n_times, n_cells)
    wmud = wd - (system.incidence.T @ (inv_uw @ ud)).toarray()
    gamma = system.week_coefficients(wmud)  # (T, cells): week effects of each cell column
    bread = dmud - wmud.T @ gamma
    bread = (bread + bread.T) / 2.0
    try:
        factor = la.cho_factor(bread, lower=True)
        pivots = np.diag(factor[0]) ** 2 / np.maximum(np.diag(bread), np.finfo(float).tiny)
    except la.LinAlgError:
        pivots = np.zeros(1)
    if n_cells and pivots.min() <= rank_rtol:
        raise MobilityError(
            f"cell dummies are collinear with the fixed effects ({n_cells} cells); an event-time or cohort cell "
            "has no variation of its own: narrow the window or merge small groups"
        )
    y_tilde = demean_with(system, y)
    rhs = np.stack([np.bincount(c, weights=wr * y_tilde[rows, j], minlength=n_cells) for j in range(m)], axis=1)
    params = la.cho_solve(factor, rhs)  # (cells, m)

    def demeaned_cells(coef: np.ndarray) -> np.ndarray:
        # M (D coef) from the person x cell and week x cell sums (demean_with's algebra without its passes
        # over the rows): the residuals are M y - M D b, for the full fit and the one with the null imposed
        person_means = (ud @ coef) / system.unit_weight[:, None]
        weeks = system.week_coefficients(wd @ coef - system.incidence.T @ person_means)
        persons = person_means - (system.incidence @ weeks) / system.unit_weight[:, None]
        out = -persons[units] - weeks[times]
        out[rows] += coef[c]
        return out

    resid = y_tilde - demeaned_cells(params)
    factor_cr1 = cr1_factor(n, n_units, n_total) if correction else 1.0

    def sandwich(resid: np.ndarray, r: np.ndarray) -> np.ndarray:
        # person scores projected on q = B^-1 R': s_g' q = sum_i w_i e_i (q[cell_i] - (gamma q)[week_i]), from
        # the person x cell and person x week sums of w e (sparse), never a rows x contrasts array
        q = la.cho_solve(factor, r.T)  # (cells, k)
        gq = gamma @ q  # (T, k)
        cov = np.empty((m, r.shape[0], r.shape[0]))
        for j in range(m):
            we = w * resid[:, j]
            in_cells = sp.csr_matrix((we[rows], (units[rows], c)), shape=(n_units, n_cells))
            in_weeks = sp.csr_matrix((we, (units, times)), shape=(n_units, n_times))
            scores = in_cells @ q - in_weeks @ gq  # (units, k)
            cov[j] = factor_cr1 * scores.T @ scores
        return cov

    cov_null = None
    if null_cells is not None:
        free = ~np.asarray(null_cells, dtype=bool)
        params_null = np.zeros_like(params)
        if free.any():
            params_null[free] = la.cho_solve(la.cho_factor(bread[np.ix_(free, free)], lower=True), rhs[free])
        cov_null = sandwich(y_tilde - demeaned_cells(params_null), r[np.asarray(null_contrasts, dtype=np.int64)])
    return ContrastFit((r @ params).T, sandwich(resid, r), params.T, n, n_units, n_total, cov_null)
