"""A person's own evidence on a sustained drop: remote work or job loss, learned without labels (method.md 4).

Two people stop going to work in the same week, from the same block group: the population posterior
q_u(t0) of :mod:`mobility.employment.adoption` is the same for both. What they do instead differs:

* **hybrid** (a rule): a drop with an on-site day in at least ``hybrid_min_week_share`` of its covered weeks
  is remote work with some days at the workplace: the person still works there (posterior 0);
* **a new workplace** (a rule): a drop followed by attendance at a different regular workplace is a job lost
  and a new one found (posterior 1). A return to the same workplace says little (remote workers come back,
  laid-off workers are recalled);
* **the week's shape**, each as the drop's mean minus the person's baseline mean, minus the change the same
  weeks brought to the workers who kept going to work (the calendar: lockdowns, holidays, weather):
  ``outing_usual`` (share of usual work days with an outing in the usual hours), ``outing_off`` (the same on
  days off), ``home_usual`` (share of the observed usual work hours spent at home), ``distance_usual``
  (mean distance from home in the usual hours, km), ``outing_all``, ``outing_all_off`` (share of usual work
  days, of days off, with an outing at any hour of the day) -- from :mod:`mobility.employment.daytime`.

How much the outings say is learned from the other drops themselves (ours): every drop e has a prior
pi_e = q_u(t0) and evidence z_e. If the evidence of job losers and of remote workers follows two distributions
whatever the prior, the mean evidence of drops with prior pi is ``mu_R + pi (mu_J - mu_R)``: the least-squares
slope of each standardised evidence on pi (weighted by the drop's covered weeks) estimates ``mu_J - mu_R``,
and the score ``s_e = sum_f slope_f z_ef / residual variance_f`` (a linear discriminant, label-free) orders
the drops from "looks remote" to "looks like a job loss". The score's quantiles (``evidence_bins``) are the
categories of a two-class mixture with the priors pi_e held fixed and a categorical distribution per class
(EM, one pseudo-count per category), which gives each drop's posterior

    p_e = pi_e f_J(c_e) / (pi_e f_J(c_e) + (1 - pi_e) f_R(c_e)).

Only the two outing measures (:data:`SCORE_COLUMNS`) enter the score: time at home and distance from home in
the usual hours also separate people whose regular non-home place was not a job (a school, a club) from
workers, and such drops carry high priors, which turned the learned direction of those two around on the
default synthetic region (seed 20200316; the classifier, which learns from labels, uses all six). The
whole-day outings replace the usual hours' only for **night workers** (usual hours centred between 22:00 and
06:00, :data:`NIGHT_CLOCK_H`, flag ``night``): their usual hours are the night, when nobody goes out, remote or
not, so the usual hours' outings say nothing there (:data:`NIGHT_SCORE_COLUMNS`). For everyone, the whole-day
outings moved the 10,000-user run's day workers the wrong way (more false losses) as much as they helped night
workers; for night workers alone they took the night stayers with a false loss from 31 % to 23 % at 10,000
users and 27 % to 21 % at 100,000 (benchmarks/README.md, "Night workers' false job losses").

What it assumes: (1) the priors are right on average (:mod:`~mobility.employment.adoption`; where they are
too high in the weeks of mass remote adoption, the posteriors are too: the signal therefore averages the
posteriors over the part of remote adoption teleworkability does not explain, weighted by this mixture's
likelihood, :func:`remote_intercept_posterior`); (2) given the class, the outings do not
depend on the prior, i.e. on the week or teleworkability of the drop (the calendar adjustment removes what all
workers share); (3) categories, not the raw evidence, so one odd person cannot push a posterior to 0 or 1.
Where the evidence does not differ with the prior, f_J = f_R and p_e = pi_e: the posterior stays at the
population's rate. Drops without observed usual work days keep pi_e.

Schema ``drop_evidence`` (one row per drop): ``user_id``, ``start_week``, ``covered_weeks``, ``prior`` (pi),
``hybrid`` (bool), the six evidence columns above, ``ended`` (bool: a covered week at work follows),
``new_workplace`` (bool), ``night`` (bool, where the daytime evidence is known: the score reads the whole day's
outings), ``score``, ``category`` (1..``evidence_bins``, 0 without a score, -1 hybrid, -2 new
workplace), ``posterior`` (p).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mobility.employment.params import EmploymentParams
from mobility.employment.sector import user_shares
from mobility.errors import MobilityError

EVIDENCE_COLUMNS = ("outing_usual", "outing_off", "home_usual", "distance_usual", "outing_all", "outing_all_off")
SCORE_COLUMNS = ("outing_usual", "outing_off")
NIGHT_SCORE_COLUMNS = ("outing_all", "outing_all_off")
"""What the score reads for a drop of a night worker (``night``), in place of :data:`SCORE_COLUMNS`."""
NIGHT_CLOCK_H = (22.0, 6.0)
"""Usual work hours centred between these clock hours (``usual_clock_h``) are the night: hours in which people do
not go out, working or not, so outings in them cannot tell remote work from a job loss; the score reads the
whole day's outings of such a worker instead."""
INTERCEPT_MIN_WEIGHT = 1e-6
"""Values of b whose posterior weight is below this share of the largest (in the point's posterior and in the one
the intervals draw from alike) are left out where the rates or stocks are computed per b
(:meth:`InterceptDraws.kept`, :meth:`InterceptDraws.support`)."""
PSEUDO_COUNT = 1.0
EM_ITERATIONS = 200


def weekly_evidence(m: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The weekly evidence rates (users x weeks, NaN where not observed) from the attendance and daytime matrices.

    Examples
    --------
    >>> one = np.ones((1, 1))
    >>> e = weekly_evidence({"workdays_at_work": one * 0, "usual_days_seen": one * 4, "usual_days_out": one,
    ...     "off_days_seen": one * 2, "off_days_out": one * 0, "usual_seen_h": one * 32, "usual_home_h": one * 24,
    ...     "daytime_distance_km": one * 0.5, "usual_days_seen_all": one * 4, "usual_days_out_all": one * 3,
    ...     "off_days_seen_all": one * 0, "off_days_out_all": one * 0})
    >>> {k: float(v[0, 0]) for k, v in e.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'onsite': 0.0, 'outing_usual': 0.25, 'outing_off': 0.0, 'home_usual': 0.75, 'distance_usual': 0.5,
     'outing_all': 0.75, 'outing_all_off': nan}
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "onsite": (m["workdays_at_work"] > 0).astype(float),
            "outing_usual": np.where(m["usual_days_seen"] > 0, m["usual_days_out"] / m["usual_days_seen"], np.nan),
            "outing_off": np.where(m["off_days_seen"] > 0, m["off_days_out"] / m["off_days_seen"], np.nan),
            "home_usual": np.where(m["usual_seen_h"] > 0, m["usual_home_h"] / m["usual_seen_h"], np.nan),
            "distance_usual": np.where(m["usual_seen_h"] > 0, m["daytime_distance_km"], np.nan),
            "outing_all": np.where(m["usual_days_seen_all"] > 0, m["usual_days_out_all"] / m["usual_days_seen_all"],
                                   np.nan),
            "outing_all_off": np.where(m["off_days_seen_all"] > 0, m["off_days_out_all"] / m["off_days_seen_all"],
                                       np.nan),
        }


def _nanmean(a: np.ndarray, mask: np.ndarray, axis: int) -> np.ndarray:
    ok = mask & np.isfinite(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, a, 0.0).sum(axis=axis) / ok.sum(axis=axis)


@dataclass
class Drops:
    """Each drop (row) and the cells of the panel it covers."""

    user: np.ndarray
    start: np.ndarray
    cell_drop: np.ndarray  # (n_users, n_weeks): index of the drop of each cell, -1 outside

    def to_cells(self, values) -> np.ndarray:
        """A value per drop spread over the drop's cells (float, NaN outside drops).

        Examples
        --------
        >>> drops_of(np.array([[-1, 1, 1]])).to_cells(np.array([0.4])).tolist()
        [[nan, 0.4, 0.4]]
        """
        return to_cells(np.asarray(values, dtype=float), self.cell_drop)


def to_cells(values: np.ndarray, cell_drop: np.ndarray) -> np.ndarray:
    """``values[cell_drop]`` where ``cell_drop >= 0``, NaN elsewhere (also when there is no drop at all)."""
    if values.size == 0:
        return np.full(cell_drop.shape, np.nan)
    return np.where(cell_drop >= 0, values[np.maximum(cell_drop, 0)], np.nan)


@dataclass
class InterceptDraws:
    """What the area intervals need to carry the uncertainty of the remote-adoption intercept b
    (:func:`remote_intercept_posterior`): the values of b (``b``, the grid) and their posterior ``weight``, each drop's
    posterior at each b (``posterior``, ``(n_b, n_drops)``), and the panel cells each drop covers: ``user``,
    ``week`` (indices into ``users``, ``weeks``) and ``drop``. A drop's cells take its posterior as their
    ``p_unemployed`` (:mod:`mobility.employment.status`); :mod:`mobility.employment.area` draws b per bootstrap
    replicate. Outside drops a cell's probability is the sector job-loss share of the person's sectors times
    the fall of attendance (``absence``); the shares depend on b through the sector route's remote stock:
    :meth:`with_outside` adds them per b (``share``, ``overall``, the users' sector weights ``wz`` and their
    sums ``wsum``), and :meth:`outside` gives those cells at a b. ``draw_weight``: the coarsened posterior the
    intervals draw b from (``EmploymentParams.intercept_evidence_drops``), where it differs from ``weight`` (the
    point's); the per-b tables are filled over :meth:`support`, every b either counts.

    Examples
    --------
    Two users, three weeks; the second user's last two weeks are one drop, whose posterior is 0.2 at b = 0 and
    0.6 at b = 1:

    >>> d = InterceptDraws.of(drops_of(np.array([[-1, -1, -1], [-1, 1, 1]])), np.array(["a", "b"]),
    ...                       pd.DatetimeIndex(["2020-03-02", "2020-03-09", "2020-03-16"]),
    ...                       np.array([0.0, 1.0]), np.array([0.5, 0.5]), np.array([[0.2], [0.6]]))
    >>> rows, cols, drop = d.cells_in(np.array(["b", "a"]), d.weeks)
    >>> rows.tolist(), cols.tolist(), d.posterior[:, drop].tolist()
    ([0, 0], [1, 2], [[0.2, 0.2], [0.6, 0.6]])
    """

    b: np.ndarray
    weight: np.ndarray
    posterior: np.ndarray
    users: np.ndarray
    weeks: pd.DatetimeIndex
    user: np.ndarray
    week: np.ndarray
    drop: np.ndarray
    share: np.ndarray | None = None
    overall: np.ndarray | None = None
    wz: np.ndarray | None = None
    wsum: np.ndarray | None = None
    absence: np.ndarray | None = None
    stock: np.ndarray | None = None
    draw_weight: np.ndarray | None = None

    @classmethod
    def of(cls, drops: Drops, users: np.ndarray, weeks: pd.DatetimeIndex, b: np.ndarray, weight: np.ndarray,
           posterior: np.ndarray, draw_weight: np.ndarray | None = None) -> "InterceptDraws":
        user, week = np.nonzero(drops.cell_drop >= 0)
        return cls(np.asarray(b, dtype=float), np.asarray(weight, dtype=float), np.asarray(posterior, dtype=float),
                   users, weeks, user.astype(np.int32), week.astype(np.int32),
                   drops.cell_drop[user, week].astype(np.int32),
                   draw_weight=None if draw_weight is None else np.asarray(draw_weight, dtype=float))

    def kept(self, *, draw: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The values of b whose weight counts (above :data:`INTERCEPT_MIN_WEIGHT` of the largest; at 100,000 users
        most of the grid does not) and their weights, summing to 1; ``draw=True``: of the posterior the intervals
        draw b from (``draw_weight``, coarsened: :func:`remote_intercept_posterior`; ``weight`` without one).

        Examples
        --------
        >>> d = InterceptDraws(np.array([0.0, 0.5, 1.0]), np.array([1e-9, 0.3, 0.6]), np.zeros((3, 0)), np.array([]),
        ...                    pd.DatetimeIndex([]), np.array([]), np.array([]), np.array([]))
        >>> keep, weight = d.kept()
        >>> keep.tolist(), weight.round(3).tolist()
        ([1, 2], [0.333, 0.667])
        """
        w = self.draw_weight if draw and self.draw_weight is not None else self.weight
        keep = np.flatnonzero(w > INTERCEPT_MIN_WEIGHT * w.max())
        return keep, self.weights_on(keep, draw=draw)

    def weights_on(self, keep: np.ndarray, *, draw: bool = False) -> np.ndarray:
        """The point's posterior weights of the values ``keep`` of b (``draw=True``: those of the posterior the
        intervals draw from), summing to 1 over them.

        Examples
        --------
        >>> d = InterceptDraws(np.array([0.0, 0.5, 1.0]), np.array([0.1, 0.3, 0.6]), np.zeros((3, 0)), np.array([]),
        ...                    pd.DatetimeIndex([]), np.array([]), np.array([]), np.array([]),
        ...                    draw_weight=np.array([0.2, 0.4, 0.4]))
        >>> d.weights_on(np.array([1, 2])).round(3).tolist(), d.weights_on(np.array([1, 2]), draw=True).tolist()
        ([0.333, 0.667], [0.5, 0.5])
        """
        w = (self.draw_weight if draw and self.draw_weight is not None else self.weight)[keep]
        return w / w.sum()

    def support(self) -> np.ndarray:
        """The values of b either posterior counts (:meth:`kept`): where the area intervals compute the rates.

        Examples
        --------
        >>> d = InterceptDraws(np.array([0.0, 0.5, 1.0]), np.array([1e-9, 0.3, 0.7]), np.zeros((3, 0)), np.array([]),
        ...                    pd.DatetimeIndex([]), np.array([]), np.array([]), np.array([]),
        ...                    draw_weight=np.array([0.2, 0.4, 0.4]))
        >>> d.support().tolist(), d.kept(draw=True)[0].tolist()
        ([0, 1, 2], [0, 1, 2])
        """
        return np.union1d(self.kept()[0], self.kept(draw=True)[0])

    def with_outside(self, kept: np.ndarray, stocks: np.ndarray, shares: list[tuple[np.ndarray, np.ndarray]],
                     wz: np.ndarray, wsum: np.ndarray, absence: np.ndarray) -> "InterceptDraws":
        """Add the probabilities outside drops: for each kept b (``kept``, indices into ``b``) the remote stock
        ``(n_weeks,)`` (``stocks``, :func:`mobility.employment.adoption.remote_stock`; the sector route's bootstrap
        draws it), the sector shares ``(20, n_weeks)`` (NaN where all of a sector is remote: read as 0) and the
        overall share ``(n_weeks,)`` (``shares``), the users' sector weights ``(n_users, 20)`` and their sums
        ``(n_users, 1)`` (:func:`mobility.employment.sector.user_shares`), and each cell's fall of attendance
        ``(n_users, n_weeks)``."""
        n_b, n_w = len(self.b), len(self.weeks)
        self.share = np.zeros((n_b, wz.shape[1], n_w))
        self.overall, self.stock = np.zeros((n_b, n_w)), np.zeros((n_b, n_w))
        for k, stock, (share, overall) in zip(kept, stocks, shares):
            self.stock[k], self.share[k], self.overall[k] = stock, np.nan_to_num(share), overall
        self.wz, self.wsum = wz, wsum
        self.absence = np.asarray(absence, dtype=np.float32)
        return self

    def outside(self, k: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The probabilities outside drops at the ``k``-th b, ``(len(rows), len(cols))``, for the users ``rows``
        and weeks ``cols`` (indices into ``users``, ``weeks``): ``p_u(t) (1 - r)`` of
        :mod:`mobility.employment.status` with the sector shares of that b."""
        p_u = user_shares(self.wz[rows], self.wsum[rows], self.share[k][:, cols], self.overall[k][cols])
        return np.nan_to_num(p_u) * self.absence[np.ix_(rows, cols)]

    def index_in(self, users: np.ndarray, weeks: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        """For another panel's rows (``users``) and columns (``weeks``), the index of each in ``users`` and
        ``weeks`` here (-1: not here)."""
        return (pd.Index(np.asarray(self.users, dtype=object)).get_indexer(np.asarray(users, dtype=object)),
                pd.DatetimeIndex(self.weeks).get_indexer(pd.DatetimeIndex(weeks)))

    def cells_in(self, users: np.ndarray, weeks: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The drops' cells in another panel's rows (``users``, any order) and columns (``weeks``): row, column
        and drop of each cell found there."""
        row_of = pd.Index(np.asarray(users, dtype=object)).get_indexer(np.asarray(self.users, dtype=object))
        col_of = pd.DatetimeIndex(weeks).get_indexer(self.weeks)
        rows, cols = row_of[self.user], col_of[self.week]
        found = (rows >= 0) & (cols >= 0)
        return rows[found], cols[found], self.drop[found]


def drops_of(run_start: np.ndarray) -> Drops:
    """The distinct drops (user, first week) of a run matrix, and the drop of every cell.

    Examples
    --------
    >>> d = drops_of(np.array([[-1, 1, 1, -1, 4], [0, 0, -1, -1, -1]]))
    >>> d.user.tolist(), d.start.tolist(), d.cell_drop.tolist()
    ([0, 0, 1], [1, 4, 0], [[-1, 0, 0, -1, 1], [2, 2, -1, -1, -1]])
    """
    n_w = run_start.shape[1]
    inside = run_start >= 0
    key = np.where(inside, np.arange(run_start.shape[0])[:, None] * n_w + run_start, -1)
    keys, cell = np.unique(key[inside], return_inverse=True)
    cell_drop = np.full(run_start.shape, -1, dtype=np.int64)
    cell_drop[inside] = cell
    return Drops(keys // n_w, keys % n_w, cell_drop)


def _after(drops: Drops, run_start: np.ndarray, usable: np.ndarray, workplace: np.ndarray | None):
    """Per drop: whether a covered week outside any drop follows it, and whether that week's workplace is a
    different one from the drop's first week (a new job)."""
    n_u, n_w = usable.shape
    n_d = drops.user.size
    last = np.full(n_d, -1, dtype=np.int64)
    inside = drops.cell_drop >= 0
    np.maximum.at(last, drops.cell_drop[inside], np.nonzero(inside)[1])
    free = usable & (run_start < 0)
    idx = np.where(free, np.arange(n_w)[None, :], n_w)
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]                  # next free week at or after t
    nxt = np.concatenate([nxt, np.full((n_u, 1), n_w)], axis=1)
    after = nxt[drops.user, np.minimum(last + 1, n_w)]
    ended = after < n_w
    if workplace is None:
        return ended, np.zeros(n_d, dtype=bool)
    before = workplace[drops.user, drops.start]
    later = workplace[drops.user, np.minimum(after, n_w - 1)]
    with np.errstate(invalid="ignore"):
        return ended, ended & np.isfinite(before) & np.isfinite(later) & (later != before)


def drop_evidence(run_start: np.ndarray, usable: np.ndarray, prior: np.ndarray, weekly: dict[str, np.ndarray],
                  baseline_cols: np.ndarray, *, params: EmploymentParams | None = None) -> tuple[pd.DataFrame, Drops]:
    """Each drop's prior, hybrid flag and calendar-adjusted evidence (module notes), before the mixture.

    ``weekly`` holds :func:`weekly_evidence` (and ``workplace_id``, the week's workplace, when known);
    ``prior`` is q_u(t0) per cell (constant within a drop).
    Returns the ``drop_evidence`` table without ``score``, ``category``, ``posterior`` (user as an index), and
    the drops.
    """
    params = params or EmploymentParams()
    drops = drops_of(run_start)
    n_d = drops.user.size
    cells = (drops.cell_drop >= 0) & usable
    base = np.zeros(usable.shape, bool)
    base[:, baseline_cols] = True
    base &= usable & (run_start < 0)
    working = usable & (run_start < 0)  # the calendar reference: covered weeks outside any drop

    def per_drop(a: np.ndarray) -> np.ndarray:
        ok = cells & np.isfinite(a)
        idx = drops.cell_drop[ok]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.bincount(idx, weights=a[ok], minlength=n_d) / np.bincount(idx, minlength=n_d)

    out = {"user": drops.user, "start": drops.start,
           "covered_weeks": np.bincount(drops.cell_drop[cells], minlength=n_d)}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["prior"] = np.bincount(drops.cell_drop[cells], weights=np.nan_to_num(prior[cells]), minlength=n_d) \
            / np.maximum(out["covered_weeks"], 1)
    out["hybrid"] = per_drop(weekly["onsite"]) >= params.hybrid_min_week_share
    for name in EVIDENCE_COLUMNS:
        a = weekly[name]
        own = _nanmean(a, base, axis=1)                                      # the person's baseline
        change = a - own[:, None]
        calendar = _nanmean(change, working, axis=0)                         # what the weeks did to workers
        out[name] = per_drop(change - np.nan_to_num(calendar)[None, :])
    out["ended"], out["new_workplace"] = _after(drops, run_start, usable, weekly.get("workplace_id"))
    clock = weekly.get("usual_clock_h")
    if clock is not None:  # constant within a user (NaN in weeks without a row): the centre of the usual hours
        c = np.where(np.isfinite(clock), clock, -np.inf).max(axis=1)[drops.user]
        out["night"] = (c >= NIGHT_CLOCK_H[0]) | ((c >= 0) & (c < NIGHT_CLOCK_H[1]))
    return pd.DataFrame(out), drops


def evidence_posterior(table: pd.DataFrame, *, params: EmploymentParams | None = None) -> pd.DataFrame:
    """Score, category and posterior of every drop of :func:`drop_evidence` (the rules and the label-free
    mixture of the module notes).

    Examples
    --------
    Forty drops: half with prior 0.9 whose people go out less on work days than they used to, half with prior
    0.1 who go out more. The evidence moves with the prior, so the mixture lets it speak: the posteriors spread
    beyond the priors in the direction of each drop's evidence. A hybrid drop is remote work, a drop that ends
    at a new workplace a job loss.

    >>> rng = np.random.default_rng(0)
    >>> prior = np.repeat([0.9, 0.1], 20)
    >>> t = pd.DataFrame({"prior": prior, "hybrid": False, "new_workplace": False, "covered_weeks": 10,
    ...     "outing_usual": np.where(prior > 0.5, -0.2, 0.2) + rng.normal(0, 0.1, 40),
    ...     "outing_off": rng.normal(0, 0.1, 40)})
    >>> t.loc[0, "hybrid"] = t.loc[39, "new_workplace"] = True
    >>> p = evidence_posterior(t)["posterior"].to_numpy()
    >>> bool(p[1:20].mean() > 0.9 and p[20:39].mean() < 0.1), float(p[0]), float(p[39])
    (True, 0.0, 1.0)
    """
    params = params or EmploymentParams()
    t = table.copy()
    prior = np.clip(t["prior"].to_numpy(float), 1e-6, 1 - 1e-6)
    hybrid, new = t["hybrid"].to_numpy(bool), t["new_workplace"].to_numpy(bool) & ~t["hybrid"].to_numpy(bool)
    z = t[list(SCORE_COLUMNS)].to_numpy(float)
    if "night" in t.columns:  # a night worker's outings are read over the whole day (NIGHT_CLOCK_H)
        z = np.where(t["night"].to_numpy(bool)[:, None], t[list(NIGHT_SCORE_COLUMNS)].to_numpy(float), z)
    weight = t["covered_weeks"].to_numpy(float)
    mixed = ~hybrid & ~new
    has = mixed & np.isfinite(z).all(axis=1) & (weight > 0)
    score = np.full(len(t), np.nan)
    if has.sum() >= 3:
        zs = z[has]
        mu, sd = np.average(zs, axis=0, weights=weight[has]), zs.std(axis=0)
        zs = (zs - mu) / np.where(sd > 0, sd, 1.0)
        w = weight[has] / weight[has].sum()
        dp = prior[has] - np.sum(w * prior[has])
        var_p = np.sum(w * dp * dp)
        if var_p > 1e-12:
            slope = (w * dp) @ (zs - (w @ zs)) / var_p                       # mu_J - mu_R, per evidence
            resid = zs - (w @ zs) - dp[:, None] * slope[None, :]
            score[has] = zs @ (slope / np.maximum(w @ (resid * resid), 1e-6))
    n_bins = params.evidence_bins
    category = np.zeros(len(t), dtype=np.int64)                              # 0: no score
    scored = np.isfinite(score)
    if scored.sum() >= n_bins:
        edges = np.quantile(score[scored], np.linspace(0, 1, n_bins + 1)[1:-1])
        category[scored] = 1 + np.searchsorted(edges, score[scored], side="right")
    post, _ = mixture_posterior(prior, category, n_bins)
    t["score"] = score
    t["category"] = np.where(hybrid, -1, np.where(new, -2, category))
    t["posterior"] = np.where(hybrid, 0.0, np.where(new, 1.0, post))
    return t


def mixture_posterior(prior: np.ndarray, category: np.ndarray, n_bins: int,
                      start: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The label-free two-class mixture of the module notes: each drop's posterior given its prior and its
    evidence category (1..``n_bins``; 0 or below: not in the mixture, posterior = prior), and the mixture's
    log-likelihood of the categories (0 without any).

    The categorical distributions f_J, f_R are fitted by EM with the priors held fixed (one pseudo-count per
    category), from the priors as posteriors (or ``start``: e.g. the posteriors of a neighbouring prior, which
    start nearer the fixed point; where EM stops at its cap of steps the two ends differ slightly, the warm one
    nearer the fixed point), so the log-likelihood compares priors: :func:`remote_intercept_posterior` weighs the
    values of the remote-adoption intercept with it.

    Examples
    --------
    Drops of prior 0.8 fall in category 2, drops of prior 0.2 in category 1: the categories follow the priors,
    and each side's posterior moves away from 0.5.

    >>> post, ll = mixture_posterior(np.repeat([0.8, 0.2], 10), np.repeat([2, 1], 10), 2)
    >>> bool(post[0] > 0.8 and post[-1] < 0.2), round(ll, 2)
    (True, -6.15)
    """
    prior = np.clip(np.asarray(prior, dtype=float), 1e-6, 1 - 1e-6)
    post = prior.copy()
    fit = category > 0
    if start is not None:
        post[fit] = np.asarray(start, dtype=float)[fit]
    if not fit.any():
        return post, 0.0
    c = category[fit] - 1
    p = prior[fit]
    for _ in range(EM_ITERATIONS):
        f_j = np.bincount(c, weights=post[fit], minlength=n_bins) + PSEUDO_COUNT
        f_r = np.bincount(c, weights=1.0 - post[fit], minlength=n_bins) + PSEUDO_COUNT
        f_j, f_r = f_j / f_j.sum(), f_r / f_r.sum()
        new_post = p * f_j[c] / (p * f_j[c] + (1.0 - p) * f_r[c])
        done = np.max(np.abs(new_post - post[fit])) < 1e-9
        post[fit] = new_post
        if done:
            break
    loglik = float(np.sum(np.log(p * f_j[c] + (1.0 - p) * f_r[c])))
    return post, loglik


def remote_intercept_posterior(table: pd.DataFrame, priors: np.ndarray, grid: np.ndarray, *,
                               params: EmploymentParams | None = None
                               ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Each drop's posterior averaged over the remote-adoption intercept b (:mod:`mobility.employment.adoption`,
    ``remote_intercept_max``), weighted by how well each b's priors explain the drops' evidence.

    ``table`` is :func:`evidence_posterior` of the drops at b = 0 (its categories are the data: they stay as
    they are), ``priors`` the drops' priors at each value of ``grid`` (shape ``(len(grid), n_drops)``). For each
    b the mixture is fitted again (:func:`mixture_posterior`); with a flat prior on the grid's range, b's
    posterior weight is the mixture's likelihood times the trapezoid rule's weight of its grid point (half at the
    two ends), times the normal prior's density there where ``params.remote_intercept_prior_sd`` > 0, and the
    drop's posterior (and its prior) is the weighted mean over b, or, with ``params.remote_intercept_point =
    "mode"``, the one at the b of largest posterior density (``weight`` then puts all its mass there; a NaN
    log-likelihood is an error). Hybrid drops stay 0 and drops ending at a new workplace 1.

    The area intervals draw b from a coarsened posterior instead (``draw_weight``: the likelihood raised to
    :func:`likelihood_power`, below 1 with more scored drops than ``params.intercept_evidence_drops``), so that
    they never take b as better known than that many drops could know it; the point estimates keep every drop's
    evidence.

    Returns the table with ``prior`` and ``posterior`` averaged, one row per b (``remote_intercept``,
    ``loglik``, ``weight``, ``draw_weight``, ``likelihood_power``), and each drop's posterior at each b (``(len(grid), n_drops)``: what
    :class:`InterceptDraws` gives the area intervals).

    Examples
    --------
    A hundred drops in two groups (say, two sectors): in the first, 37 look like job losses (category 2) and 13
    like remote work (category 1); in the second 9 and 41. At b = 0 the priors are 0.95 and 0.6, at b = 1 0.8 and
    0.1: only the second makes the share of each category move with the prior as the evidence does, so b = 1
    takes almost all the weight. (The same priors for every drop say nothing about b: a free mixture fits any
    one distribution of categories.)

    >>> t = pd.DataFrame({"prior": 0.0, "hybrid": False, "new_workplace": False, "posterior": 0.0,
    ...                   "category": np.r_[np.repeat([2, 1], [37, 13]), np.repeat([2, 1], [9, 41])]})
    >>> priors = np.array([np.repeat([0.95, 0.6], 50), np.repeat([0.8, 0.1], 50)])
    >>> out, b, by_b = remote_intercept_posterior(t, priors, np.array([0.0, 1.0]))
    >>> b["weight"].round(3).tolist(), out["prior"].iloc[[0, 99]].round(3).tolist()
    ([0.001, 0.999], [0.8, 0.1])

    The averaged posterior is the weighted mean of each b's; at the mode it is the best b's:

    >>> bool(np.allclose(b["weight"].to_numpy() @ by_b, out["posterior"]))
    True
    >>> mode = EmploymentParams(remote_intercept_point="mode")
    >>> out, b, by_b = remote_intercept_posterior(t, priors, np.array([0.0, 1.0]), params=mode)
    >>> b["weight"].tolist(), bool(np.allclose(by_b[1], out["posterior"]))
    ([0.0, 1.0], True)

    A grid's two ends weigh half as much as its inner points (with a flat likelihood: 1/4, 1/2, 1/4):

    >>> flat = pd.DataFrame({"prior": [0.5], "hybrid": False, "new_workplace": False, "posterior": 0.5,
    ...                      "category": 0})
    >>> half = np.full((3, 1), 0.5)
    >>> remote_intercept_posterior(flat, half, np.array([0.0, 0.5, 1.0]))[1]["weight"].tolist()
    [0.25, 0.5, 0.25]

    and on an uneven grid each point weighs half the two steps beside it:

    >>> remote_intercept_posterior(flat, half, np.array([0.0, 0.25, 1.0]))[1]["weight"].tolist()
    [0.125, 0.5, 0.375]
    """
    params = params or EmploymentParams()
    category = table["category"].to_numpy(np.int64)
    hybrid, new = category == -1, category == -2
    posts, logliks = [], []
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or len(grid) != len(priors) or (np.diff(grid) <= 0).any():
        raise MobilityError(f"remote_intercept_posterior: the grid of b must be strictly increasing with one row of "
                            f"priors per value; got {len(grid)} values for {len(priors)} rows of priors")
    for prior in priors:  # each b's EM starts from the last b's posteriors: nearer its fixed point
        post, loglik = mixture_posterior(prior, category, params.evidence_bins, start=posts[-1] if posts else None)
        posts.append(post)
        logliks.append(loglik)
    loglik = np.asarray(logliks)
    power = likelihood_power(int((category > 0).sum()), params.intercept_evidence_drops)
    step = np.diff(grid)  # the trapezoid rule for the prior on the grid's range (uneven steps allowed)
    quadrature = (np.r_[step, 0.0] + np.r_[0.0, step]) / 2 if grid.size > 1 else np.ones(1)
    log_prior = np.zeros(grid.size)
    if params.remote_intercept_prior_sd > 0:  # a normal prior, truncated to the grid's range
        log_prior = -0.5 * ((grid - params.remote_intercept_prior_mean) / params.remote_intercept_prior_sd) ** 2

    def normalised(log_weight: np.ndarray) -> np.ndarray:  # in logs: a prior far from the grid does not underflow
        w = quadrature * np.exp(log_weight - log_weight.max())
        return w / w.sum()

    weight = normalised(log_prior + loglik)
    draw_weight = normalised(log_prior + power * loglik)
    if params.remote_intercept_point == "mode":  # the point at the posterior's mode, the intervals as they were
        if not np.isfinite(loglik).all():
            raise MobilityError("remote_intercept_posterior: the evidence mixture's log-likelihood is not finite at "
                                "every b; use remote_intercept_point = \"mean\" or report this panel")
        weight = np.eye(grid.size)[np.argmax(log_prior + loglik)]
    out = table.copy()
    out["prior"] = weight @ np.asarray(priors, dtype=float)
    posts = np.where(hybrid, 0.0, np.where(new, 1.0, np.asarray(posts)))
    out["posterior"] = np.where(new, 1.0, weight @ posts)  # exactly 1 (the weights' sum may not be)
    return out, pd.DataFrame({"remote_intercept": grid, "loglik": loglik, "weight": weight,
                              "draw_weight": draw_weight, "likelihood_power": power}), posts


def likelihood_power(n_scored: int, max_drops: int | None) -> float:
    """The power of the evidence mixture's likelihood in b's posterior: ``min(1, max_drops / n_scored)``
    (``EmploymentParams.intercept_evidence_drops``; 1 when it is None or there is no scored drop).

    Examples
    --------
    >>> likelihood_power(200, 1000), likelihood_power(40_000, 1000), likelihood_power(40_000, None)
    (1.0, 0.025, 1.0)
    """
    if max_drops is None or n_scored <= max_drops:
        return 1.0
    return max_drops / n_scored
