"""Two-way fixed effects by exact within-transformation (kernel layer: numpy arrays in, arrays out).

The model ``v_it = a_i + g_t + rest`` is absorbed without one dummy column per person. The person
effects are removed exactly by subtracting (weighted) person means. The calendar-week effects, few in
number (tens to hundreds of weeks), are then removed exactly by the Frisch-Waugh-Lovell step on the
person-demeaned week dummies, whose cross-product ``A = W~' Omega W~`` is a small ``T x T`` matrix built
from a sparse person-by-week incidence table. No iteration is involved, so unbalanced panels are handled
exactly (no alternating-projection tolerance), and the result equals the residual of a regression on
full person and week dummy sets to floating-point rounding.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mobility.errors import MobilityError


def _unit_means(values: np.ndarray, codes: np.ndarray, weights: np.ndarray, unit_weight: np.ndarray) -> np.ndarray:
    """Weighted mean of each column of ``values`` per code, as a ``(n_codes, m)`` array."""
    n_codes = unit_weight.shape[0]
    out = np.empty((n_codes, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=weights * values[:, j], minlength=n_codes)
    return out / unit_weight[:, None]


def two_way_demean(
    values: np.ndarray,
    unit_codes: np.ndarray,
    time_codes: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    rank_rtol: float = 1e-10,
) -> tuple[np.ndarray, int]:
    """Residuals of each column of ``values`` on unit and time dummies, and the rank those dummies absorb.

    Parameters
    ----------
    values : ndarray, shape (n,) or (n, m)
        Columns to transform (outcome and regressors), float.
    unit_codes, time_codes : ndarray of int, shape (n,)
        Dense codes ``0..P-1`` (persons) and ``0..T-1`` (calendar weeks); rows need not be sorted.
    weights : ndarray, shape (n,), optional
        Positive regression weights (weighted least squares); ``None`` means all ones.
    rank_rtol : float
        Eigenvalues of the week cross-product below ``rank_rtol`` times the largest are treated as zero
        (the week dummies are collinear with the person dummies in one direction, more if the
        person-week graph is disconnected).

    Returns
    -------
    demeaned : ndarray, same shape as ``values``
        ``M v``, with ``M`` the (weighted) annihilator of the person and week dummies.
    absorbed_rank : int
        Rank of ``[person dummies, week dummies]``: ``P + rank(A)``; this is the number of parameters the
        fixed effects would use in a dummy-variable regression.

    Examples
    --------
    A balanced 2 x 2 panel: two-way demeaning of ``y`` leaves the interaction contrast.

    >>> y = np.array([1.0, 2.0, 3.0, 8.0])
    >>> unit = np.array([0, 0, 1, 1]); week = np.array([0, 1, 0, 1])
    >>> r, rank = two_way_demean(y, unit, week)
    >>> np.round(r, 6).tolist(), rank
    ([1.0, -1.0, -1.0, 1.0], 3)
    """
    values = np.asarray(values, dtype=np.float64)
    one_d = values.ndim == 1
    v = values[:, None] if one_d else values
    n = v.shape[0]
    unit_codes = np.asarray(unit_codes, dtype=np.int64)
    time_codes = np.asarray(time_codes, dtype=np.int64)
    if unit_codes.shape != (n,) or time_codes.shape != (n,):
        raise MobilityError(f"two_way_demean: unit_codes and time_codes must have shape ({n},)")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise MobilityError("two_way_demean: weights must be finite and > 0, one per row")
    if n == 0:
        return values.copy(), 0
    n_units = int(unit_codes.max()) + 1
    n_times = int(time_codes.max()) + 1
    unit_w = np.bincount(unit_codes, weights=w, minlength=n_units)
    if np.any(unit_w <= 0):
        raise MobilityError("two_way_demean: unit_codes must be dense (every code 0..P-1 present)")

    # 1. persons: exact within transformation.
    v_tilde = v - _unit_means(v, unit_codes, w, unit_w)[unit_codes]

    # 2. weeks: A = W' Omega W - C' diag(1/w_i) C, with C the weighted person x week incidence.
    incidence = sp.csr_matrix((w, (unit_codes, time_codes)), shape=(n_units, n_times))
    scaled = sp.diags(1.0 / unit_w) @ incidence
    a = np.diag(np.bincount(time_codes, weights=w, minlength=n_times)) - (incidence.T @ scaled).toarray()
    a = (a + a.T) / 2.0
    eigval, eigvec = np.linalg.eigh(a)
    keep = eigval > rank_rtol * max(eigval.max(), 1.0)
    a_pinv = (eigvec[:, keep] / eigval[keep]) @ eigvec[:, keep].T

    week_sums = np.empty((n_times, v.shape[1]))
    for j in range(v.shape[1]):
        week_sums[:, j] = np.bincount(time_codes, weights=w * v_tilde[:, j], minlength=n_times)
    pi = a_pinv @ week_sums
    fitted = pi[time_codes]
    fitted -= _unit_means(fitted, unit_codes, w, unit_w)[unit_codes]
    v_tilde -= fitted
    out = v_tilde[:, 0] if one_d else v_tilde
    return out, n_units + int(keep.sum())
