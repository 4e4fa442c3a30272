"""Weights that make the panel stand for the population: raking to census margins (method.md 2.7, 4).

Vocabulary: a *unit* is a user; an *area* is the unit's home county (each unit is in one); a *margin* is a
set of categories (the 20 sectors, three age groups, two sexes) with a population total per area and
category; a unit's *membership* of a category is a probability. Memberships are soft because the
privacy-enhanced feed gives only block groups: a worker's sector, age and sex are the mix of the jobs
counted by LODES at their work CBG (:func:`mobility.census.features.work_features`), a person's age and sex
the ACS mix of their home CBG. With 0/1 memberships this is ordinary raking.

:func:`rake` finds weights ``w = d * exp(X lambda)`` (the raking, or minimum-entropy, solution) such that
``sum_i w_i m_ic = N_gc`` for every area g, margin and category c, by generalised iterative scaling: for
each margin in turn every unit's weight is multiplied by ``exp(sum_c m_ic log(N_gc / M_gc))``, ``M`` the
current weighted total. With 0/1 memberships each step is one step of iterative proportional fitting
(parity with ``svy``'s raking in ``tests/employment/test_weights.py``). Rows of ``d`` are replicates (the
bootstrap of :mod:`mobility.employment.area` rakes all of them at once: one matrix product per margin and
area). A category with a zero target or no member in an area is left out of that area (a soft member
cannot be weighted to zero). Weights are then trimmed to ``[mean / max_weight_ratio, mean *
max_weight_ratio]`` within each area and raked again, ``trim_rounds`` times, and finally clipped: the
bounds hold exactly, the margins to within what the trimming costs (``margin_error``).

Ecological caveat (said in the report): a soft membership is the same for every user of a block group, so
raking corrects a panel that over-represents *block groups* of some composition, not one that
over-represents, say, young people inside every block group.

Kish's design effect of a cell is ``n sum w^2 / (sum w)^2`` (:func:`kish_design_effect`): the variance
inflation from unequal weights alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mobility.errors import MobilityError


@dataclass(frozen=True)
class Margin:
    """One margin: ``members`` (n_units x n_categories, rows of probabilities or 0/1) and ``totals`` (n_areas
    x n_categories, the population per area and category; a row of NaN leaves the margin out in that area);
    ``name`` for messages."""

    name: str
    members: np.ndarray
    totals: np.ndarray


def _check(design: np.ndarray, area: np.ndarray, margins: list[Margin]) -> None:
    n = design.shape[-1]
    if area.shape != (n,):
        raise MobilityError(f"rake: area codes have shape {area.shape}, the design weights {n} units")
    n_areas = int(area.max()) + 1 if n else 0
    for m in margins:
        if m.members.shape[0] != n or m.members.ndim != 2:
            raise MobilityError(f"rake: margin {m.name!r} has memberships of shape {m.members.shape}; "
                                f"need ({n}, n_categories)")
        if m.totals.shape != (n_areas, m.members.shape[1]):
            raise MobilityError(f"rake: margin {m.name!r} has totals of shape {m.totals.shape}; need "
                                f"({n_areas}, {m.members.shape[1]}) (areas x categories)")
        if not (np.isfinite(m.members).all() and (m.members >= 0).all() and not (m.totals < 0).any()):
            raise MobilityError(f"rake: margin {m.name!r} has negative or missing memberships or totals; fill "
                                "users without census features before raking")


def _scale_step(w: np.ndarray, area: np.ndarray, margin: Margin, order: list) -> float:
    """One scaling step for one margin over every area; ``w`` is (R, n), updated in place. Returns the
    largest gap ``|current - target|`` it corrected, relative to the area's total."""
    worst = 0.0
    for g, idx in enumerate(order):
        if not _size(idx):
            continue
        mem = margin.members[idx]
        current = w[:, idx] @ mem  # (R, C)
        target = margin.totals[g][None, :]
        usable = (target > 0) & (current > 0)  # NaN targets (the margin is left out in this area) are not
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.where(usable, np.log(np.where(usable, target, 1.0) / np.where(usable, current, 1.0)), 0.0)
        gap = np.where(usable, np.abs(current - target), 0.0) / max(float(np.nansum(target)), 1e-300)
        worst = max(worst, float(gap.max(initial=0.0)))
        w[:, idx] *= np.exp(log_ratio @ mem.T)
    return worst


def margin_error(weights: np.ndarray, area: np.ndarray, margins: list[Margin]) -> float:
    """Largest relative gap ``|M_gc - N_gc| / N_g`` between weighted and target totals (areas' category
    totals; categories left out of raking count too).

    Examples
    --------
    >>> m = Margin("sex", np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[3.0, 1.0]]))
    >>> margin_error(np.array([3.0, 1.0]), np.array([0, 0]), [m])
    0.0
    """
    w = np.atleast_2d(weights)
    worst = 0.0
    for m in margins:
        for g in range(m.totals.shape[0]):
            idx = np.flatnonzero(area == g)
            got = w[:, idx] @ m.members[idx]
            scale = max(float(np.nansum(m.totals[g])), 1e-300)
            if len(idx) and np.isfinite(m.totals[g]).all():
                worst = max(worst, float(np.abs(got - m.totals[g][None, :]).max() / scale))
    return worst


def rake(design, area, margins: list[Margin], *, max_weight_ratio: float = 5.0, trim_rounds: int = 3,
         max_iter: int = 30, tol: float = 1e-3) -> np.ndarray:
    """Raking weights with soft memberships, trimmed (module notes).

    Parameters
    ----------
    design : ndarray, shape (n,) or (R, n)
        Starting weights (1 for a plain panel; rows: bootstrap replicates). Units with weight 0 stay 0.
    area : ndarray of int, shape (n,)
        Each unit's area code, 0..n_areas-1; margins hold within each area.
    margins : list of Margin
    max_weight_ratio : float
        Trimming bound: weights are kept within ``[mean / r, mean * r]`` of their area's positive weights.
    trim_rounds : int
        Rake-and-trim rounds before the final clip.
    max_iter, tol : int, float
        Scaling sweeps per round, and the largest gap between a weighted and a target total, relative to
        the area's total, that stops them.

    Returns
    -------
    ndarray
        Weights of the shape of ``design``.

    Examples
    --------
    Two men and one woman where the population has 50 of each: the woman's weight rises to 50.

    >>> sex = Margin("sex", np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), np.array([[50.0, 50.0]]))
    >>> rake(np.ones(3), np.zeros(3, int), [sex]).round(3).tolist()
    [25.0, 25.0, 50.0]
    >>> rake(np.ones(3), np.zeros(3, int), [sex], max_weight_ratio=1.2).round(3).tolist()  # trimmed: margins missed
    [27.778, 27.778, 37.037]
    """
    if not (isinstance(max_weight_ratio, (int, float)) and max_weight_ratio >= 1.0):
        raise MobilityError(f"rake: max_weight_ratio={max_weight_ratio!r} must be a number >= 1")
    d = np.asarray(design, dtype=float)
    single = d.ndim == 1
    w = np.atleast_2d(d).copy()
    area = np.asarray(area, dtype=np.int64)
    _check(w, area, margins)
    if not margins or not w.shape[1]:
        return w[0] if single else w
    order = area_order(area)
    positive = w > 0
    for round_ in range(trim_rounds + 1):
        for _ in range(max_iter):
            gap = max(_scale_step(w, area, m, order) for m in margins)
            if not np.isfinite(w).all():
                raise MobilityError("rake: weights diverged; a margin cannot be met (check the totals' areas)")
            if gap < tol:
                break
        w = _trim(w, order, positive, max_weight_ratio)
    return w[0] if single else w


def area_order(area: np.ndarray) -> list:
    """Each area's units: a slice where they lie side by side (units sorted by area, as the bootstrap of
    :mod:`mobility.employment.area` orders them: views, no copies), else their indices.

    Examples
    --------
    >>> area_order(np.array([0, 0, 1, 2, 2]))
    [slice(0, 2, None), slice(2, 3, None), slice(3, 5, None)]
    >>> [x.tolist() for x in area_order(np.array([1, 0, 1]))]
    [[1], [0, 2]]
    """
    area = np.asarray(area)
    n_areas = int(area.max()) + 1 if len(area) else 0
    if len(area) and (np.diff(area) >= 0).all():
        bounds = np.searchsorted(area, np.arange(n_areas + 1))
        return [slice(int(bounds[g]), int(bounds[g + 1])) for g in range(n_areas)]
    return [np.flatnonzero(area == g) for g in range(n_areas)]


def _size(idx) -> int:
    return idx.stop - idx.start if isinstance(idx, slice) else len(idx)


def _trim(w: np.ndarray, order: list, positive: np.ndarray, ratio: float) -> np.ndarray:
    """Clip each area's positive weights to ``[mean / ratio, mean * ratio]`` of their own mean after the clip
    (repeated until the bounds hold, since clipping moves the mean)."""
    for idx in order:
        if not _size(idx):
            continue
        sub = w[:, idx]
        pos = positive[:, idx]
        count = np.maximum(pos.sum(axis=1, keepdims=True), 1)
        for _ in range(100):
            mean = np.where(pos, sub, 0.0).sum(axis=1, keepdims=True) / count
            clipped = np.where(pos, np.clip(sub, mean / ratio, mean * ratio), 0.0)
            if np.allclose(clipped, sub, rtol=1e-12, atol=0.0):
                break
            sub = clipped
        w[:, idx] = sub
    return w


def kish_design_effect(weights, cells: np.ndarray, n_cells: int) -> np.ndarray:
    """Kish's design effect ``n sum w^2 / (sum w)^2`` per cell (NaN for empty cells).

    ``cells`` gives the cell of each (unit, ...) entry of ``weights`` (same shape, -1 for none).

    Examples
    --------
    >>> kish_design_effect(np.array([1.0, 1.0, 2.0, 4.0]), np.array([0, 0, 1, 1]), 2).round(3).tolist()
    [1.0, 1.111]
    """
    w = np.asarray(weights, dtype=float).ravel()
    c = np.asarray(cells).ravel()
    ok = c >= 0
    n = np.bincount(c[ok], minlength=n_cells).astype(float)
    s1 = np.bincount(c[ok], weights=w[ok], minlength=n_cells)
    s2 = np.bincount(c[ok], weights=w[ok] ** 2, minlength=n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, n * s2 / s1**2, np.nan)
