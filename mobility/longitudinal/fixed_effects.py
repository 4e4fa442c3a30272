"""Two-way fixed effects by exact within-transformation (kernel layer: numpy arrays in, arrays out).

The model ``v_it = a_i + g_t + rest`` is absorbed without one dummy column per person. The person
effects are removed exactly by subtracting (weighted) person means. The calendar-week effects, few in
number (tens to hundreds of weeks), are then removed exactly by the Frisch-Waugh-Lovell step on the
person-demeaned week dummies, whose cross-product ``A = W~' Omega W~`` is a small ``T x T`` matrix built
from a sparse person-by-week incidence table (:class:`TwoWaySystem`). No iteration is involved, so
unbalanced panels are handled exactly (no alternating-projection tolerance), and the result equals the
residual of a regression on full person and week dummy sets to floating-point rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mobility.errors import MobilityError


def as_codes(codes) -> np.ndarray:
    """Integer codes as they are where int32 or int64 (no rows-long copy), anything else as int64.

    Examples
    --------
    >>> as_codes(np.array([0, 1], dtype=np.int32)).dtype.name, as_codes([0, 1.0]).dtype.name
    ('int32', 'int64')
    """
    codes = np.asarray(codes)
    return codes if codes.dtype in (np.int32, np.int64) else codes.astype(np.int64)


@dataclass(frozen=True)
class TwoWaySystem:
    """The person and week dummies of a panel, in the pieces the exact within-transformation needs.

    Attributes
    ----------
    unit_codes, time_codes : int arrays (n,), int32 or int64
    weights : float array (n,), read-only (all ones: a broadcast view of one value)
    unit_weight : float array (P,), summed weights per person.
    incidence : sparse (P, T), summed weights per person and week.
    a_pinv : float array (T, T), pseudo-inverse of ``A = W' Omega M_P W`` (week dummies after person
        demeaning).
    absorbed_rank : int, rank of ``[person dummies, week dummies]``: ``P + rank(A)``.
    """

    unit_codes: np.ndarray
    time_codes: np.ndarray
    weights: np.ndarray
    unit_weight: np.ndarray
    incidence: sp.csr_matrix
    a_pinv: np.ndarray
    absorbed_rank: int

    @property
    def n_units(self) -> int:
        return self.unit_weight.shape[0]

    @property
    def n_times(self) -> int:
        return self.a_pinv.shape[0]

    def week_coefficients(self, week_sums: np.ndarray) -> np.ndarray:
        """Week effects ``A^+ W' Omega M_P v`` of columns ``v`` given their person-demeaned week sums."""
        return self.a_pinv @ week_sums


def two_way_system(
    unit_codes: np.ndarray, time_codes: np.ndarray, weights: np.ndarray | None = None, *, rank_rtol: float = 1e-10
) -> TwoWaySystem:
    """Build the :class:`TwoWaySystem` of person codes ``0..P-1`` and week codes ``0..T-1``.

    ``rank_rtol``: eigenvalues of ``A`` below ``rank_rtol`` times the largest are treated as zero (the week
    dummies are collinear with the person dummies in one direction, more if the person-week graph is
    disconnected).

    Examples
    --------
    >>> s = two_way_system(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    >>> s.absorbed_rank, s.n_units, s.n_times
    (3, 2, 2)
    """
    unit_codes, time_codes = as_codes(unit_codes), as_codes(time_codes)
    n = unit_codes.shape[0]
    if time_codes.shape != (n,) or unit_codes.ndim != 1:
        raise MobilityError(f"two_way_demean: unit_codes and time_codes must have shape ({n},)")
    # unweighted: one 1.0 seen n times (a read-only view, not a rows-long array held through the fit)
    w = np.broadcast_to(np.float64(1.0), (n,)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise MobilityError("two_way_demean: weights must be finite and > 0, one per row")
    n_units = int(unit_codes.max()) + 1 if n else 0
    n_times = int(time_codes.max()) + 1 if n else 0
    unit_w = np.bincount(unit_codes, weights=w, minlength=n_units)
    if np.any(unit_w <= 0):
        raise MobilityError("two_way_demean: unit_codes must be dense (every code 0..P-1 present)")
    incidence = sp.csr_matrix((w, (unit_codes, time_codes)), shape=(n_units, n_times))
    scaled = sp.diags(1.0 / unit_w) @ incidence if n_units else incidence
    a = np.diag(np.bincount(time_codes, weights=w, minlength=n_times)) - (incidence.T @ scaled).toarray()
    a = (a + a.T) / 2.0
    if n_times:
        eigval, eigvec = np.linalg.eigh(a)
        keep = eigval > rank_rtol * max(eigval.max(), 1.0)
        a_pinv = (eigvec[:, keep] / eigval[keep]) @ eigvec[:, keep].T
        rank = int(keep.sum())
    else:
        a_pinv, rank = np.zeros((0, 0)), 0
    return TwoWaySystem(unit_codes, time_codes, w, unit_w, incidence, a_pinv, n_units + rank)


def two_way_effects(system: TwoWaySystem, values: np.ndarray | Callable[[int], np.ndarray],
                    m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The person effects ``a`` (P, m) and week effects ``g`` (T, m) of the columns of ``values`` (n, m), such
    that ``M v = v - a[person] - g[week]`` (:func:`demean_with`): a caller may form ``M v`` on any rows when it
    needs them, not for every row at once.

    ``values`` may also be a function ``j -> column j`` (n,) with ``m`` columns: a caller that gathers its columns
    from a larger array (:func:`~mobility.longitudinal.cell_ols.cell_ols`) then holds one column at a time, never
    its own (n, m) copy.

    Week effects ``g = A^+ (W' Omega v - C' a_v)`` and person effects ``a = a_v - (C g) / w_person`` (``a_v`` the
    persons' weighted means of ``v``, ``C`` the person x week incidence): two passes over the rows per column,
    the rest on persons and weeks.
    """
    w, units, times = system.weights, system.unit_codes, system.time_codes
    if callable(values) and m is None:
        raise MobilityError("two_way_effects: values given as a function j -> column need m, the number of columns")
    column = values if callable(values) else (lambda j: values[:, j])
    m = values.shape[1] if m is None else m
    person_sums = np.empty((system.n_units, m))
    week_sums = np.empty((system.n_times, m))
    for j in range(m):  # one column at a time, its weighted values formed once
        wv = w * column(j)
        person_sums[:, j] = np.bincount(units, weights=wv, minlength=system.n_units)
        week_sums[:, j] = np.bincount(times, weights=wv, minlength=system.n_times)
        del wv
    person_means = person_sums / system.unit_weight[:, None]  # (P, m): the persons' weighted means
    del person_sums
    week_sums -= system.incidence.T @ person_means
    weeks = system.week_coefficients(week_sums)  # (T, m)
    return person_means - (system.incidence @ weeks) / system.unit_weight[:, None], weeks


def demean_with(system: TwoWaySystem, values: np.ndarray) -> np.ndarray:
    """``M v`` for the columns of ``values`` (n, m), ``M`` the annihilator of ``system``'s dummies:
    ``v - a[person] - g[week]`` with the effects of :func:`two_way_effects`."""
    units, times = system.unit_codes, system.time_codes
    persons, weeks = two_way_effects(system, values)
    out = np.empty(values.shape, dtype=np.result_type(values, persons))
    for j in range(values.shape[1]):  # a column at a time: no rows x columns temporaries
        out[:, j] = values[:, j] - persons[units, j] - weeks[times, j]
    return out


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
        See :func:`two_way_system`.

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
    if np.asarray(unit_codes).shape != (n,) or np.asarray(time_codes).shape != (n,):
        raise MobilityError(f"two_way_demean: unit_codes and time_codes must have shape ({n},)")
    system = two_way_system(unit_codes, time_codes, weights, rank_rtol=rank_rtol)
    if n == 0:
        return values.copy(), 0
    out = demean_with(system, v)
    return (out[:, 0] if one_d else out), system.absorbed_rank
