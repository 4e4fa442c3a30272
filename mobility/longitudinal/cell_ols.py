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

CR2 (``vcov="cr2"``): Bell & McCaffrey's (2002) bias-reduced sandwich in Pustejovsky & Tipton's (2018)
form for fixed-effects models, ``V = B^-1 (sum_g X~_g' A_g e~_g e~_g' A_g X~_g) B^-1`` with no small-sample
factor, ``X~ = Omega^1/2 M D``, ``e~ = Omega^1/2 e`` and ``A_g = (I - H_gg)^{+1/2}`` the pseudo-inverse square
root of person ``g``'s block of the hat matrix of the *whole* model (cells, person and week dummies, in the
``Omega^1/2``-scaled metric). That block is formed exactly from small tables, without the rows x cells
design: ``H_gg = v v' + (I - v v') S M_g S (I - v v')``, ``v = sqrt(w_g / sum w_g)`` the person-mean direction,
``S = diag(sqrt(w_g))`` and ``M_g[i, j] = K[t_i, t_j] + B^-1[c_i, c_j] - L[c_i, t_j] - L[c_j, t_i]`` (cell terms only
for rows in a cell) with ``K = A^+ + Gamma B^-1 Gamma'`` and ``L = B^-1 Gamma'``: the person, week and cell parts of
the projection (persons, then person-demeaned weeks, then the two-way-demeaned cells are orthogonal).

* Person effects are nested in the clusters, so ``v`` is always a direction of leverage 1 (the residuals sum
  to 0 within a person); the pseudo-inverse leaves it out (Pustejovsky & Tipton 2018, section 3: absorbing
  nested fixed effects does not change ``A_g`` on the rest).
* **Rule for other directions of leverage 1** (eigenvalue of ``I - H_gg`` below ``1e-6``): a person alone in
  a cohort x event-week cell is fitted exactly there, so their residuals say nothing about their errors in
  those directions and any residual-based meat (CR1, CR2, a wild bootstrap) counts them as 0. Their
  contribution ``Q0_g' Sigma[t_g, t_g] Q0_g`` is imputed instead, ``Q0_g`` the part of the person's projected
  scores in those directions and ``Sigma`` the calendar-week x calendar-week covariance of the CR2-adjusted
  residuals ``A_h e~_h`` pooled over the persons ``h`` without such directions (mostly never-losers; a working
  model in the sense of Pustejovsky & Tipton, with serial correlation left free): the lone loser is assumed
  as noisy, week by week, as the others. Without this rule Sun-Abraham's 95% intervals covered 91-94% in
  the few-losers regime (lead SE / SD 0.88-0.89), with it 95-96% (1.01-1.02; ``benchmarks/README.md``).
* Cost: only persons with a row leverage (``w_i M_ii``) above ``leverage_tol`` (default 0.05: a cell with
  fewer than about 20 people) or a summed leverage above 0.9 (a direction of leverage 1 needs a sum of 1)
  get the exact block (a batched
  eigendecomposition of at most rows-per-person squared); the others keep ``A_g = I``, which differs from
  their exact ``A_g`` by the leverage of their cells (~1/cell size) and makes CR2 there the CR0 sandwich.
  ``leverage_tol=0`` is exact CR2 for everyone (the test against dense dummies).

Small-sample inference under CR2 (``moments`` of the result, :class:`SmallSampleMoments`). Under the working
model ``Phi = I`` (errors independent with equal variance in the ``Omega^1/2`` metric; Pustejovsky & Tipton 2018,
section 3) the CR2 variance of a contrast ``c`` is ``V = sum_g (u_g' e~_g)^2 = sum_g (p_g' eps)^2`` with
``u_g = A_g X~_g B^-1 c`` and ``p_g = (I - H)_{.g} u_g``, so ``E V = sum_g p_g'p_g`` and ``Var V = 2 sum_{g,h} (p_g'p_h)^2``:
Bell & McCaffrey's (2002) Satterthwaite degrees of freedom ``df = (sum_g p_g'p_g)^2 / sum_{g,h} (p_g'p_h)^2``, and with
several contrasts the moments of Pustejovsky & Tipton's HTZ test
(:func:`~mobility.longitudinal.cluster_ols.htz_test`). No rows x rows hat matrix is formed:
``p_g'p_h = u_g' (delta_gh I - H_gh) u_h`` and ``H = v v' (per person) + Z Qt Z'`` with ``Z`` the person-demeaned week
and cell dummies (``Omega^1/2`` metric) and ``Qt = pinv(Z'Z) = [[K, -L'], [-L, B^-1]]`` in the notation above.
``v' u_g = 0`` (``A_g v = 0``, and ``X~_g`` is person-demeaned), so with ``z_g = Z_g' u_g = [W_g' y_g; D_g' y_g]``,
``y = sqrt(w) u`` (the person x week and person x cell sums of ``y``: at most the person's weeks and cells are
non-zero), ``d_g = u_g'u_g`` and ``e_g = z_g' Qt z_g`` (from ``M_g`` as above):

* ``sum_g p_g'p_g = sum_g (d_g - e_g)``;
* ``sum_{g,h} (p_g'p_h)^2 = sum_g (d_g^2 - 2 d_g e_g) + tr(Qt S Qt S)``, ``S = sum_g z_g z_g'`` ((weeks + cells)^2):
  the cross-person part of ``H`` runs only through the week and cell columns; for contrasts ``a, b, c, d``,
  ``sum_{g,h} (p_g^a'p_h^b)(p_g^c'p_h^d) = sum_g (d^ab d^cd - d^ab e^cd - e^ab d^cd)_g + tr(Qt S^bd Qt S^ca)`` with
  ``S^ij = sum_g z_g^i z_g^j'``.

Cost per contrast: two passes over the rows, persons x weeks^2 and cells^2 x weeks for ``Qt S`` by blocks (weeks,
cells; ``S``'s cells x cells block is sparse: a person's cells are few); per joint set of ``q`` contrasts ``q^2``
such products. The two departures from textbook CR2 are carried into the moments as what
the estimator computes: persons kept at ``A_g = I`` have ``u_g = X~_g B^-1 c``; a person with directions of
leverage 1 (imputed meat ``Q0_g' Sigma Q0_g``) counts, with ``Sigma = I`` under the working model, as an extra
independent pseudo-cluster ``p~_g = Q0_g c`` (``d_g`` gains ``|Q0_g c|^2``, nothing else): the imputed variance is
treated as resting on that one person's errors, not on the pooled persons that estimate ``Sigma``, so a path that
rests on a few lone losers gets few degrees of freedom (one treated person alone in their cells: df near 1),
which is the conservative reading. ``tests/longitudinal/test_cell_ols.py`` checks both against the explicit
``n x n`` hat matrix and clubSandwich's definitions (``Satterthwaite_df``, ``Wald_test(test = "HTZ")``).

References: Bell, R. M. & McCaffrey, D. F. (2002), "Bias reduction in standard errors for linear regression with
multi-stage samples", Survey Methodology 28(2); Pustejovsky, J. E. & Tipton, E. (2018), "Small-sample methods for
cluster-robust variance estimation and hypothesis testing in fixed effects models", JBES 36(4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from mobility.errors import MobilityError
from mobility.longitudinal.cluster_ols import check_sizes, cr1_factor, satterthwaite_df
from mobility.longitudinal.fixed_effects import as_codes, two_way_effects, two_way_system


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
    moments: SmallSampleMoments | None = None  # CR2 only: see :class:`SmallSampleMoments`

    @property
    def df_inference(self) -> int:
        """Degrees of freedom of the t and F reference distributions under CR1: ``G - 1``."""
        return self.n_clusters - 1


@dataclass(frozen=True)
class SmallSampleMoments:
    """Moments of the CR2 variance estimator of the contrasts under the working model (module notes).

    With ``V^a`` the CR2 variance of contrast ``a`` written ``sum_g (p_g^a' eps)^2`` (``eps`` the errors, i.i.d. with
    unit variance in the weighted metric), ``mean[a] = sum_g p_g^a' p_g^a`` is its expectation and
    ``square[a] = sum_{g,h} (p_g^a' p_h^a)^2`` half its variance, so the Satterthwaite degrees of freedom are
    ``df = mean**2 / square`` (:attr:`df`). Both add over independent blocks of a model (groups with their own
    week effects). ``joint`` holds, for each set of contrasts tested jointly (``joint`` of :func:`cell_ols`), the
    set's contrast indices, the expectation matrix ``E[a, b] = sum_g p_g^a' p_g^b`` (q, q) and the fourth-moment
    array ``C4[a, b, c, d] = sum_{g,h} (p_g^a' p_h^b)(p_g^c' p_h^d)`` (q, q, q, q), what the HTZ test needs
    (:func:`~mobility.longitudinal.cluster_ols.htz_test`).
    """

    mean: np.ndarray
    square: np.ndarray
    joint: tuple = ()

    @property
    def df(self) -> np.ndarray:
        """Satterthwaite degrees of freedom per contrast, ``mean**2 / square`` (NaN for an empty contrast)."""
        return satterthwaite_df(self.mean, self.square)


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
    vcov: str = "cr1",
    leverage_tol: float = 0.05,
    joint: list[np.ndarray] | None = None,
    satterthwaite: bool = True,
    block_rows: int = 2**18,
    y_rows: np.ndarray | None = None,
    y_columns: list[int] | None = None,
) -> ContrastFit:
    """Regress ``y`` on one dummy per cell with two-way fixed effects; CR1 errors clustered by unit.

    Parameters
    ----------
    y : ndarray (n,) or (n, m)
        Outcome(s), all observed on the same rows (the design is factored once for all of them). With ``y_rows``
        or ``y_columns``, a larger array the outcomes are read from.
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
        inference for wildly different cluster sizes", restricted residuals). Always CR1.
    vcov : {"cr1", "cr2"}
        Covariance of ``estimate``: CR1 (default here; the event-study default is ``"cr2"``,
        :class:`~mobility.longitudinal.params.EventStudyParams`) or CR2 with the rule for persons of
        leverage 1 (module notes). CR2 applies no small-sample factor whatever ``correction`` says.
    leverage_tol : float
        CR2 only: persons whose largest row leverage is at most this (and summed leverage at most 0.9) keep
        their residuals unadjusted (module notes); 0 adjusts everyone.
    joint : list of ndarray of int, optional
        CR2 only: sets of row indices of ``contrasts`` that will be tested jointly (e.g. each group's leads);
        ``moments.joint`` then holds the moments the HTZ test of each set needs (a subset of a set is tested
        with the sub-arrays). Costs about cells^2 x weeks per pair of contrasts of a set.
    satterthwaite : bool
        CR2 only: compute every contrast's Satterthwaite moments (``moments.mean``, ``moments.square``); False
        leaves them NaN (the ``joint`` sets are computed either way): at 100k users they cost more than the fit.
    y_rows, y_columns : ndarray of int (n,), list of int, optional
        Row ``i`` of the regression is row ``y_rows[i]`` of ``y`` (default: row ``i``), its outcomes the columns
        ``y_columns`` of ``y`` (default: all): the outcomes are gathered a column or a block of persons at a time
        when they are read, so a caller that selects rows of a shared panel never holds its own copy of them (at
        100,000 users 20 MB per outcome). The result is the same as ``cell_ols(y[y_rows][:, y_columns], ...)``, to
        the bit.
    block_rows : int
        Rows per block of persons in the passes made person by person (residuals, person scores, CR2 leverage and
        imputed meat): their temporaries hold a block, not every row (:func:`person_blocks`). The result does not
        depend on it, to the bit: each person's sums are taken within one block, over their rows in order.

    Returns
    -------
    ContrastFit
        With ``vcov="cr2"``, ``moments`` (:class:`SmallSampleMoments`): the Satterthwaite degrees of freedom of
        every contrast (``moments.df``) and the HTZ moments of the ``joint`` sets.

    Examples
    --------
    Three people over two weeks; person 1 is treated in week 1 and changes by 4 where the others change by
    1: the cell effect is 3.

    >>> fit = cell_ols(np.array([1.0, 2.0, 1.0, 5.0, 0.0, 1.0]), np.array([-1, -1, -1, 0, -1, -1]), 1,
    ...                np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 0, 1, 0, 1]))
    >>> round(float(fit.estimate[0, 0]), 6)
    3.0

    Under CR2 each contrast gets its Satterthwaite degrees of freedom. Eight people over two weeks, person 0
    treated alone in week 1: the variance rests on that one person, so df is near 1, not G - 1 = 7.

    >>> unit, week = np.repeat(np.arange(8), 2), np.tile([0, 1], 8)
    >>> y = np.array([1.0, 5, 2, 3, 0, 1, 3, 3, 1, 3, 2, 2, 0, 2, 1, 1])
    >>> cr2 = cell_ols(y, np.where((unit == 0) & (week == 1), 0, -1), 1, unit, week, vcov="cr2")
    >>> round(float(cr2.moments.df[0]), 2)
    1.3
    """
    with threadpool_limits(1, "blas"):
        return _cell_ols(y, cells, n_cells, unit_codes, time_codes, weights, contrasts, nested, correction,
                         rank_rtol, null_cells, null_contrasts, vcov, leverage_tol, joint, satterthwaite, block_rows,
                         y_rows, y_columns)


def person_blocks(units: np.ndarray, n_units: int, block_rows: int) -> list[tuple[np.ndarray | slice, int, int]]:
    """The rows in blocks of whole persons, about ``block_rows`` rows each: ``(rows, first, end)`` per block, the
    block holding persons ``first..end-1`` and ``rows`` their rows, each person's in their original order.

    Where the rows come grouped by person in code order (a panel read user by user), ``rows`` are slices
    (nothing is copied); otherwise index arrays of one stable sort by person.

    Examples
    --------
    >>> person_blocks(np.array([0, 0, 1, 2, 2, 2]), 3, 3)
    [(slice(0, 3, None), 0, 2), (slice(3, 6, None), 2, 3)]
    >>> [(b.tolist(), lo, hi) for b, lo, hi in person_blocks(np.array([1, 0, 1, 0]), 2, 2)]
    [([1, 3], 0, 1), ([0, 2], 1, 2)]
    """
    n = units.shape[0]
    ends = np.cumsum(np.bincount(units, minlength=n_units))  # each person's last row + 1, in person order
    persons = np.unique(np.searchsorted(ends, np.arange(block_rows, n, block_rows)))  # a person ending each block
    cuts = np.unique(np.concatenate([[0], persons + 1, [n_units]]))  # searchsorted < n_units: persons + 1 <= n_units
    grouped = bool(np.all(units[1:] >= units[:-1])) if n > 1 else True
    order = None if grouped else np.argsort(units, kind="stable")
    out = []
    for first, end in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
        lo, hi = (int(ends[first - 1]) if first else 0), int(ends[end - 1])
        out.append((slice(lo, hi) if order is None else order[lo:hi], first, end))
    return out


def _cell_ols(y, cells, n_cells, unit_codes, time_codes, weights, contrasts, nested, correction,
              rank_rtol, null_cells=None, null_contrasts=None, vcov="cr1", leverage_tol=0.05,
              joint=None, satterthwaite=True, block_rows=2**18, y_rows=None, y_columns=None) -> ContrastFit:
    if vcov not in ("cr1", "cr2"):
        raise MobilityError(f"cell_ols: vcov={vcov!r} must be 'cr1' or 'cr2'")
    y = np.asarray(y, dtype=np.float64)
    y = y[:, None] if y.ndim == 1 else y
    y_columns = list(range(y.shape[1])) if y_columns is None else list(y_columns)
    cells = as_codes(cells)
    n, m = np.shape(unit_codes)[0], len(y_columns)
    if (y.shape[0] if y_rows is None else np.shape(y_rows)[0]) != n:
        raise MobilityError(f"cell_ols: y has {y.shape[0] if y_rows is None else np.shape(y_rows)[0]} rows for the "
                            f"{n} rows of the codes")
    for name, index, size in (("y_rows", y_rows, y.shape[0]), ("y_columns", y_columns, y.shape[1])):
        if index is not None and len(index) and not (0 <= np.min(index) and np.max(index) < size):
            raise MobilityError(f"cell_ols: {name} must index y's {size} {name[2:]} (0..{size - 1})")

    def outcome(j: int, at=slice(None)) -> np.ndarray:
        # outcome j on the regression's rows ``at``, gathered from y (a view where it is y's own rows)
        return y[at if y_rows is None else y_rows[at], y_columns[j]]
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
    wd = np.bincount(times[rows].astype(np.int64) * n_cells + c, weights=wr, minlength=n_times * n_cells).reshape(n_times, n_cells)
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
    # M y is formed on the rows that need it when they need it (never every row and outcome at once): the same
    # operations on the same values as demean_with
    persons_y, weeks_y = two_way_effects(system, outcome, m)

    def y_tilde(j: int, at) -> np.ndarray:
        return outcome(j, at) - persons_y[units[at], j] - weeks_y[times[at], j]

    rhs = np.stack([np.bincount(c, weights=wr * y_tilde(j, rows), minlength=n_cells) for j in range(m)], axis=1)
    params = la.cho_solve(factor, rhs)  # (cells, m)
    blocks = person_blocks(units, n_units, block_rows)

    def residuals(coef: np.ndarray):
        # M y - M D b of outcome j on rows ``at`` (a block): M (D coef) from the person x cell and week x cell sums
        # (demean_with's algebra without its passes over the rows), for the full fit and the one with the null
        # imposed
        person_means = (ud @ coef) / system.unit_weight[:, None]
        weeks = system.week_coefficients(wd @ coef - system.incidence.T @ person_means)
        persons = person_means - (system.incidence @ weeks) / system.unit_weight[:, None]

        def column(j: int, at) -> np.ndarray:
            out = -persons[units[at], j] - weeks[times[at], j]
            cb = cells[at]
            in_cell = cb >= 0
            out[in_cell] += coef[cb[in_cell], j]
            return y_tilde(j, at) - out

        return column

    resid = residuals(params)
    factor_cr1 = cr1_factor(n, n_units, n_total) if correction else 1.0

    lev = moments = None
    if vcov == "cr2":
        c_all = cells if cells.size == 0 or cells.min() >= -1 else np.maximum(cells, -1)  # -1: no cell
        q_cr2 = la.cho_solve(factor, r.T)
        gq_cr2 = gamma @ q_cr2
        lev = _leverage(system, c_all, factor, gamma, q_cr2, gq_cr2, leverage_tol, blocks,
                        lambda j, at: np.sqrt(w[at]) * resid(j, at), m, keep_delta=bool(satterthwaite or joint))
        if satterthwaite or joint:
            moments = _moments(system, c_all, factor, gamma, q_cr2, gq_cr2, lev, joint, satterthwaite)
        del c_all

    def sandwich(resid, r: np.ndarray, lev: _Leverage | None = None) -> np.ndarray:
        # person scores projected on q = B^-1 R': s_g' q = sum_i w_i e_i (q[cell_i] - (gamma q)[week_i]), from
        # the person x cell and person x week sums of w e (sparse), a block of persons at a time, never a rows x
        # contrasts array; CR2 (lev) adds the adjusted persons' corrections (few rows) and the imputed meat of
        # directions of leverage 1
        q = la.cho_solve(factor, r.T)  # (cells, k)
        gq = gamma @ q  # (T, k)
        cov = np.empty((m, r.shape[0], r.shape[0]))
        adjusted = lev is not None and lev.persons.size > 0  # CR2 with no adjusted person: CR0, no factor
        for j in range(m):
            scores = np.empty((n_units, r.shape[0]))
            for at, first, end in blocks:
                we = w[at] * resid(j, at)  # weighted residuals of outcome j on the block's rows
                cb, who = cells[at], units[at] - first
                in_cell = cb >= 0
                in_cells = sp.csr_matrix((we[in_cell], (who[in_cell], cb[in_cell])), shape=(end - first, n_cells))
                in_weeks = sp.csr_matrix((we, (who, times[at])), shape=(end - first, n_times))
                scores[first:end] = in_cells @ q - in_weeks @ gq  # (block's persons, k)
            if adjusted:
                scores[lev.persons] += lev.score_fix[j]
            meat = scores.T @ scores
            if adjusted and lev.null_rows.size:
                meat += _imputed_meat(lev, system, j, lambda at: np.sqrt(w[at]) * resid(j, at), blocks)
            cov[j] = (factor_cr1 if lev is None else 1.0) * meat
        return cov

    cov_null = None
    if null_cells is not None:
        free = ~np.asarray(null_cells, dtype=bool)
        params_null = np.zeros_like(params)
        if free.any():
            params_null[free] = la.cho_solve(la.cho_factor(bread[np.ix_(free, free)], lower=True), rhs[free])
        cov_null = sandwich(residuals(params_null), r[np.asarray(null_contrasts, dtype=np.int64)])
    return ContrastFit((r @ params).T, sandwich(resid, r, lev), params.T, n, n_units, n_total, cov_null, moments)


# ------------------------------------------------------------------------------------------------ CR2
@dataclass
class _Leverage:
    """What the CR2 adjustment of one design needs, outcome by outcome (see :func:`cell_ols`, ``vcov="cr2"``).

    ``rows``/``delta``: the adjusted persons' rows and ``z_i - sqrt(w_i) r_i`` there (rows, contrasts), so that
    the CR2 score of person g is the CR1 one plus ``sum_{i in g} sqrt(w_i) e_i delta_i`` (``delta`` kept only
    for the small-sample moments: empty otherwise). ``persons``/``score_fix``: the adjusted persons and that sum for
    each outcome (outcomes, persons, contrasts). ``fixed``: ``A_g sqrt(w_g) e_g`` on the rows of ``rows``
    (outcomes, rows), for the pooled ``Sigma`` of the imputed meat.
    ``null_rows``/``null_q0``: the persons with directions of leverage 1, their row indices (persons, slots) and
    ``Q0_g`` (persons, slots, contrasts); ``ok``: per person, no direction of leverage 1 (their residuals pool
    ``Sigma``).
    """

    rows: np.ndarray
    delta: np.ndarray
    persons: np.ndarray
    score_fix: np.ndarray
    fixed: np.ndarray
    null_rows: np.ndarray
    null_q0: np.ndarray
    ok: np.ndarray

    @classmethod
    def none(cls, n_units: int, k: int, m: int) -> "_Leverage":
        """Nobody adjusted: CR2 is then the plain sandwich (CR0)."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, np.zeros((0, k)), empty, np.zeros((m, 0, k)), np.zeros((m, 0)),
                   np.zeros((0, 0), dtype=np.int64), np.zeros((0, 0, k)), np.ones(n_units, dtype=bool))


def _slots(persons: np.ndarray, units: np.ndarray, n_units: int) -> np.ndarray:
    """Row indices of each of ``persons`` (persons, max rows per person), -1 padding, rows in original order."""
    rows = np.flatnonzero(np.isin(units, persons)) if persons.size < n_units else np.arange(units.shape[0])
    rows = rows[np.argsort(units[rows], kind="stable")]
    local = np.full(n_units, -1, dtype=np.int64)
    local[persons] = np.arange(persons.size)
    owner = local[units[rows]]
    counts = np.bincount(owner, minlength=persons.size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(rows.size) - starts[owner]
    out = np.full((persons.size, int(counts.max()) if persons.size else 0), -1, dtype=np.int64)
    out[owner, pos] = rows
    return out


def _leverage(system, c_all, factor, gamma, q, gq, leverage_tol, blocks, we_sqrt, m, keep_delta, null_tol=1e-6,
              chunk_values=2**18) -> _Leverage:
    """The per-person CR2 blocks of the persons with high leverage (module notes of :func:`cell_ols`), applied to
    the residuals as they are formed, a chunk of persons at a time (each of the chunk's dozen persons x slots x slots
    and persons x slots x contrasts temporaries about ``chunk_values`` values, 2 MB; each person's block is computed
    alone, so the result does not depend on the chunk): what the sandwich needs per outcome
    (:class:`_Leverage`), not each person's ``A_g`` (slots x slots) nor, unless ``keep_delta`` (the small-sample
    moments read it), each row's ``delta``. The rows' leverages are formed a block of persons at a time
    (``blocks``: :func:`person_blocks`). ``we_sqrt(j, rows)``: ``sqrt(w) e`` of outcome ``j`` (of ``m``) there."""
    w, units, times, n_units = system.weights, system.unit_codes, system.time_codes, system.n_units
    n_cells, k = q.shape
    ok = np.ones(n_units, dtype=bool)
    if n_cells == 0 or k == 0:  # nothing to adjust (a block without cells)
        return _Leverage.none(n_units, k, m)
    chol_inv = np.tril(la.lapack.dtrtri(np.tril(factor[0]), lower=1)[0])  # L^-1, B = L L'
    lt = la.cho_solve(factor, gamma.T)  # (cells, T): B^-1 Gamma'
    kt = system.a_pinv + gamma @ lt  # (T, T): A^+ + Gamma B^-1 Gamma'
    b_inv_diag = (chol_inv**2).sum(axis=0)
    # each row's leverage, a block of persons at a time (no rows-long array); a direction of leverage 1 needs a
    # summed leverage of 1: 0.9 catches every one spread over small rows
    high = np.zeros(n_units, dtype=bool)
    for at, first, end in blocks:
        t, cc, who = times[at], np.maximum(c_all[at], 0), units[at] - first
        h = w[at] * (kt[t, t] + np.where(c_all[at] >= 0, b_inv_diag[cc] - 2.0 * lt[cc, t], 0.0))
        high[first:end] = (np.bincount(who[h > leverage_tol], minlength=end - first) > 0) \
            | (np.bincount(who, weights=h, minlength=end - first) > 0.9)
    persons = np.flatnonzero(high)
    if persons.size == 0:
        return _Leverage.none(n_units, k, m)
    slots = _slots(persons, units, n_units)
    n_slot = slots.shape[1]
    present = slots >= 0
    idx = np.maximum(slots, 0)
    touched = np.unique(c_all[slots[present]])
    touched = touched[touched >= 0]
    if touched.size == 0:  # the adjusted persons have no cell row: B^-1 never enters their blocks (masked below)
        b_inv = np.zeros((1, 1))
    elif 2 * touched.size > n_cells:  # B^-1 = L^-T L^-1 (LAPACK lauum: a third of the product's cost)
        lower = np.tril(la.lapack.dlauum(chol_inv, lower=1)[0])
        b_inv = (lower + np.tril(lower, -1).T)[np.ix_(touched, touched)]
    else:  # B^-1 on the cells of the adjusted persons only
        b_inv = chol_inv[:, touched].T @ chol_inv[:, touched]
    local_cell = np.zeros(n_cells, dtype=np.int64)
    local_cell[touched] = np.arange(touched.size)
    kept_delta = np.zeros((persons.size, n_slot, k) if keep_delta else (0, n_slot, k))
    score_fix = np.zeros((m, persons.size, k))
    fixed = np.zeros((m, persons.size, n_slot))
    has_null = np.zeros(persons.size, dtype=bool)
    q0_parts = []
    eye = np.eye(n_slot)
    chunk = max(1, chunk_values // (n_slot * max(n_slot, k)))
    for lo in range(0, persons.size, chunk):
        sl = slice(lo, lo + chunk)
        pr = present[sl]
        t, c, i_ = times[idx[sl]], c_all[idx[sl]], (c_all[idx[sl]] >= 0) & pr
        s = np.where(pr, np.sqrt(w[idx[sl]]), 0.0)  # (p, n): sqrt weights, 0 on padding
        ccs = np.maximum(c, 0)
        m_g = kt[t[:, :, None], t[:, None, :]]
        lc = local_cell[ccs]
        m_g += np.where(i_[:, :, None] & i_[:, None, :], b_inv[lc[:, :, None], lc[:, None, :]], 0.0)
        cross = np.where(i_[:, :, None], lt[ccs[:, :, None], t[:, None, :]], 0.0)  # L[c_i, t_j]
        m_g -= cross + cross.transpose(0, 2, 1)
        sms = s[:, :, None] * m_g * s[:, None, :]
        v = s / np.sqrt((s**2).sum(axis=1, keepdims=True))
        proj = eye - v[:, :, None] * v[:, None, :]
        i_minus_h = proj - proj @ sms @ proj
        i_minus_h = (i_minus_h + i_minus_h.transpose(0, 2, 1)) / 2.0
        lam, u = np.linalg.eigh(i_minus_h)
        null = lam < null_tol
        root = np.where(null, 0.0, 1.0 / np.sqrt(np.maximum(lam, null_tol)))
        a = (u * root[:, None, :]) @ u.transpose(0, 2, 1)
        r = np.where(i_[:, :, None], q[ccs], 0.0) - gq[t]  # (p, n, k): rows of F q
        sr = s[:, :, None] * r
        big_q = proj @ sr
        delta = np.where(pr[:, :, None], a @ big_q - sr, 0.0)
        if keep_delta:
            kept_delta[sl] = delta
        for j in range(m):  # the person's score correction sum_i sqrt(w_i) e_i delta_i, slot by slot in row order
            e_s = np.where(pr, we_sqrt(j, idx[sl]), 0.0)
            fix = score_fix[j, sl]
            for slot in range(n_slot):
                there = pr[:, slot]
                fix[there] += e_s[there, slot, None] * delta[there, slot]
            fixed[j, sl] = np.einsum("pij,pj->pi", a, e_s)  # A_g sqrt(w_g) e_g
        null_here = null.sum(axis=1) > 1  # the person-mean direction v is always null
        has_null[sl] = null_here
        u0 = (u * null[:, None, :])[null_here]
        q0_parts.append(u0 @ (u0.transpose(0, 2, 1) @ big_q[null_here]))
    ok[persons[has_null]] = False
    return _Leverage(slots[present], kept_delta[present] if keep_delta else np.zeros((0, k)), persons, score_fix,
                     fixed[:, present], slots[has_null],
                     np.concatenate(q0_parts) if q0_parts else np.zeros((0, n_slot, k)), ok)


def _imputed_meat(lev: _Leverage, system, j: int, we_sqrt, blocks) -> np.ndarray:
    """``sum_g Q0_g' Sigma[t_g, t_g] Q0_g`` over the persons with directions of leverage 1, ``Sigma`` the
    calendar-week covariance of the CR2-adjusted residuals ``A_g sqrt(w_g) e_g`` (outcome ``j``) pooled over the
    other persons.

    ``we_sqrt(rows)``: ``sqrt(w) e`` on those rows; the person x week table of the residuals is filled a block of
    persons at a time (``blocks``: :func:`person_blocks`), then the adjusted persons' cells take ``lev.fixed`` (a
    person is adjusted on all of their rows or none, so no cell mixes the two)."""
    units, times, n_units, n_times = system.unit_codes, system.time_codes, system.n_units, system.n_times
    e = np.zeros((n_units, n_times))
    seen = np.zeros((n_units, n_times))
    for at, first, end in blocks:
        use = lev.ok[units[at]]
        cell = units[at][use].astype(np.int64) * n_times + times[at][use]  # (person, week) of each row used, flat
        e.reshape(-1)[cell] = we_sqrt(at)[use]
        seen.reshape(-1)[cell] = 1.0
    use = lev.ok[units[lev.rows]]  # the adjusted persons' rows, each person's in row order as above
    e.reshape(-1)[units[lev.rows][use].astype(np.int64) * n_times + times[lev.rows][use]] = lev.fixed[j][use]
    pairs = seen.T @ seen
    sigma = np.divide(e.T @ e, pairs, out=np.zeros((n_times, n_times)), where=pairs > 0)
    pr = lev.null_rows >= 0
    t = times[np.maximum(lev.null_rows, 0)]
    s_g = np.where(pr[:, :, None] & pr[:, None, :], sigma[t[:, :, None], t[:, None, :]], 0.0)
    return np.einsum("pik,pij,pjl->kl", lev.null_q0, s_g, lev.null_q0)


# ------------------------------------------------------------------------------- Satterthwaite and HTZ
def _moments(system, c_all, factor, gamma, q, gq, lev: _Leverage, joint, per_contrast=True) -> SmallSampleMoments:
    """The working-model moments of the CR2 variance of every contrast (module notes, "Small-sample inference").

    Per contrast ``a``: ``u_g`` (person g's rows) is ``A_g X~_g q_a`` (``sqrt(w) (r - person mean of r)`` where
    ``A_g = I``; ``sqrt(w) r + delta`` for the adjusted persons), ``y = sqrt(w) u`` and ``z_g = [W_g' y_g; D_g' y_g]``
    its person x week and person x cell sums; ``d_g^ab = u_g^a' u_g^b`` (plus ``Q0_g^a' Q0_g^b`` for an imputed
    person), ``e_g^ab = z_g^a' Qt z_g^b`` with ``Qt = [[K, -L'], [-L, B^-1]]`` and ``S^ab = sum_g z_g^a z_g^b'``.
    """
    w, units, times = system.weights, system.unit_codes, system.time_codes
    n_units, n_times = system.n_units, system.n_times
    n_cells, k = q.shape
    joint = [np.asarray(j, dtype=np.int64) for j in (joint or [])]
    if n_cells == 0 or k == 0:
        return SmallSampleMoments(np.zeros(k), np.zeros(k),
                                  tuple((j, np.zeros((j.size,) * 2), np.zeros((j.size,) * 4)) for j in joint))
    s = np.sqrt(w)
    in_cell = c_all >= 0
    cell_rows = np.flatnonzero(in_cell)
    chol_inv = np.tril(la.lapack.dtrtri(np.tril(factor[0]), lower=1)[0])
    lower = np.tril(la.lapack.dlauum(chol_inv, lower=1)[0])
    b_inv = lower + np.tril(lower, -1).T
    lt = la.cho_solve(factor, gamma.T)  # (cells, T): L = B^-1 Gamma'
    kt = system.a_pinv + gamma @ lt  # (T, T): K
    # person x cell pairs (the nonzeros of D_g' y) and, per person with cells, its pairs padded (for B^-1[c, c'])
    pair_key = units[cell_rows].astype(np.int64) * n_cells + c_all[cell_rows]
    pairs, pair_of_row = np.unique(pair_key, return_inverse=True)
    pair_person, pair_cell = pairs // n_cells, pairs % n_cells
    with_cells, pair_count = np.unique(pair_person, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(pair_count)[:-1]])
    slot = np.arange(pairs.size) - np.repeat(starts, pair_count)
    owner = np.repeat(np.arange(with_cells.size), pair_count)
    pad = np.full((with_cells.size, int(pair_count.max())), -1, dtype=np.int64)
    pad[owner, slot] = np.arange(pairs.size)
    pc = np.where(pad >= 0, pair_cell[np.maximum(pad, 0)], 0)
    b_sub = np.where((pad >= 0)[:, :, None] & (pad >= 0)[:, None, :], b_inv[pc[:, :, None], pc[:, None, :]], 0.0)
    null_person = units[lev.null_rows[:, 0]] if lev.null_rows.size else np.zeros(0, dtype=np.int64)
    flat = units.astype(np.int64) * n_times + times
    cell_ext = c_all + 1  # 0: no cell, for a gather from [0, q]
    unweighted = bool(np.all(w == 1.0))  # two passes over the rows fewer per contrast
    adj_scale = 1.0 / s[lev.rows]
    # the pairs are sorted by person, then cell: CSR of D (persons x cells) and of its rows with cells, without a
    # sort per contrast; D' (cells x persons) from the pairs sorted by cell
    by_person = np.concatenate([[0], np.cumsum(np.bincount(pair_person, minlength=n_units))])
    by_owner = np.concatenate([[0], np.cumsum(pair_count)])
    by_cell_order = np.argsort(pair_cell, kind="stable")
    by_cell = np.concatenate([[0], np.cumsum(np.bincount(pair_cell, minlength=n_cells))])
    person_of_cell_pair = pair_person[by_cell_order]
    cache: dict[int, tuple] = {}

    def pieces(a: int) -> tuple:
        # dev = u / sqrt(w) and y = sqrt(w) u; the person x week sums of y (dense) and their product with K; the
        # person x cell sums of y (sparse, and transposed), times L for the persons with cells, and padded per person
        if a in cache:
            return cache[a]
        r = np.concatenate([[0.0], q[:, a]])[cell_ext] - np.ascontiguousarray(gq[:, a])[times]
        r_bar = np.bincount(units, weights=r if unweighted else w * r, minlength=n_units) / system.unit_weight
        dev = r - r_bar[units]
        if lev.rows.size:
            dev[lev.rows] = r[lev.rows] + lev.delta[:, a] * adj_scale
        y = dev if unweighted else w * dev
        a_w = np.bincount(flat, weights=y, minlength=n_units * n_times).reshape(n_units, n_times)
        dv = np.bincount(pair_of_row, weights=y[cell_rows], minlength=pairs.size)
        d_d = sp.csr_matrix((dv, pair_cell, by_person), shape=(n_units, n_cells))
        d_t = sp.csr_matrix((dv[by_cell_order], person_of_cell_pair, by_cell), shape=(n_cells, n_units))
        d_l = sp.csr_matrix((dv, pair_cell, by_owner), shape=(with_cells.size, n_cells)) @ lt
        out = (dev, y, a_w, a_w @ kt, d_d, d_t, d_l, np.where(pad >= 0, dv[np.maximum(pad, 0)], 0.0))
        cache[a] = out  # cleared after each contrast and each joint set: a few persons x weeks tables at a time
        return out

    def person_terms(a: int, b: int) -> tuple[np.ndarray, np.ndarray, tuple]:
        # d_g^ab, e_g^ab (per person) and the four blocks of Qt S^ab (weeks, cells), S_DD kept sparse: the
        # cells x cells products cost cells^2 x weeks, not (cells + weeks)^3
        _, y_a, w_a, wk_a, _, dt_a, dl_a, p_a = pieces(a)
        dev_b, _, w_b, _, d_b, dt_b, dl_b, p_b = pieces(b)
        d = np.bincount(units, weights=y_a * dev_b, minlength=n_units)  # u^a . u^b
        if null_person.size:
            d[null_person] += np.einsum("pi,pi->p", lev.null_q0[:, :, a], lev.null_q0[:, :, b])
        e = np.einsum("gt,gt->g", wk_a, w_b)
        e[with_cells] += np.einsum("pi,pij,pj->p", p_a, b_sub, p_b) - np.einsum("gt,gt->g", dl_b, w_a[with_cells]) \
            - np.einsum("gt,gt->g", dl_a, w_b[with_cells])
        s_ww = w_a.T @ w_b
        s_wd = np.asarray(dt_b @ w_a).T  # W' y^a against D' y^b
        s_dw = np.asarray(dt_a @ w_b)
        s_dd = dt_a @ d_b  # sparse: a person's cells are few
        x11 = kt @ s_ww - lt.T @ s_dw
        x21 = b_inv @ s_dw - lt @ s_ww
        if 20 * s_dd.nnz > n_cells**2:  # dense enough for BLAS to beat the sparse product
            s_dd = s_dd.toarray()
            x12 = kt @ s_wd - lt.T @ s_dd
            x22 = b_inv @ s_dd - lt @ s_wd
        else:
            s_dd_t = s_dd.T.tocsr()
            x12 = kt @ s_wd - np.asarray(s_dd_t @ lt).T
            x22 = np.asarray(s_dd_t @ b_inv).T - lt @ s_wd
        return d, e, (x11, x12, x21, x22)

    def trace_product(x: tuple, y: tuple) -> float:
        # tr(X Y) for two block matrices [[11, 12], [21, 22]]
        return float(np.einsum("ij,ji->", x[0], y[0]) + np.einsum("ij,ji->", x[1], y[2])
                     + np.einsum("ij,ji->", x[2], y[1]) + np.einsum("ij,ji->", x[3], y[3]))

    mean, square = (np.zeros(k), np.zeros(k)) if per_contrast else (np.full(k, np.nan), np.full(k, np.nan))
    for a in range(k if per_contrast else 0):
        d, e, qs = person_terms(a, a)
        mean[a] = (d - e).sum()
        square[a] = (d * d - 2.0 * d * e).sum() + trace_product(qs, qs)
        cache.clear()
    sets = []
    for idx in joint:
        nq = idx.size
        terms = {(i, j): person_terms(idx[i], idx[j]) for i in range(nq) for j in range(nq)}
        cache.clear()
        e_mat = np.array([[(terms[i, j][0] - terms[i, j][1]).sum() for j in range(nq)] for i in range(nq)])
        c4 = np.empty((nq,) * 4)
        for (i, j), (d_ij, e_ij, _) in terms.items():
            for (a, b), (d_ab, e_ab, _) in terms.items():
                cross = trace_product(terms[j, b][2], terms[a, i][2])  # tr(Qt S^jb Qt S^ai)
                c4[i, j, a, b] = (d_ij * d_ab - d_ij * e_ab - e_ij * d_ab).sum() + cross
        sets.append((idx, e_mat, c4))
    return SmallSampleMoments(mean, square, tuple(sets))
