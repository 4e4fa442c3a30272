"""Remote-work adoption and job loss week by week, without assuming one wave (method.md 2.7 and 4).

A **sustained drop** is a confirmed run of near-zero attendance at the workplace
(:func:`mobility.employment.events.confirmed_runs`): the person stopped going to work for at least
``min_event_weeks`` covered weeks while the phone kept seeing them. A drop is a job loss or the start of
remote work; this module weighs the two for the population, :mod:`mobility.employment.evidence` for the person.

Model (ours)
------------
In week t, a baseline worker u *at risk* (covered, not inside an earlier drop) starts a drop with probability

    P(drop starts | u, t) = l(t) + a(t) x_u,

where ``x_u = sum_s w_us tau_s`` is the teleworkability of u's work block group (sector mix from LODES WAC,
tau_s from Dingel & Neiman), ``l(t)`` the **job-loss rate** (job losses per worker at risk) and ``a(t)`` the
**remote-work adoption** (new remote workers per teleworkable job at risk). Nothing ties the weeks together:
everyone may go remote in one week, or person by person over months. The population posterior that u's drop
starting in week t0 is a job loss is

    q_u(t0) = l(t0) / (l(t0) + a(t0) x_u).

A worker who went remote can still lose the job later, which attendance no longer shows (see
:mod:`mobility.employment.status`).

Estimation
----------
The slope is only as good as x varies between workers: in the real LODES WAC of Philadelphia and its two western
neighbours x has a worker-weighted sd of 0.15 between block groups; generator 2.0's synthetic block groups had
0.04, where the slope of a 3,000-person panel was noise (its weekly standard error 0.10-0.18) and the drops'
priors with it (benchmarks/README.md, "Block groups as varied as real ones").

For every week, the least-squares regression of "a drop starts here" on ``x_u`` over the workers at risk gives
an intercept (l) and a slope (a) with their standard errors; the mean of these weekly estimates over the weeks
``t - adoption_window_weeks .. t + adoption_window_weeks`` gives a smooth curve (the window). Empirical Bayes
shrinks each week towards its window: ``theta_t = window_t + k_t (week_t - window_t)``, ``k_t = v / (v +
se_t^2)``, with ``v = max(0, mean((week_t - window_t)^2 - se_t^2))`` the spread of the true weekly values
around the window (method of moments). A week keeps its own estimate when it is precise (a large panel), and
borrows from its neighbours when it is noisy (a small panel). Then ``a = max(a, 0)`` and
``l = max(l, 0.5 / n_window)`` (``n_window``: workers at risk in the window): no finite panel rules out a job
loss, so no drop gets q = 0.

The window averages the weekly *estimates*, not the rows of its weeks: the workers at risk change from week to
week (a wave of remote work takes the teleworkable jobs out of the risk set), and one regression over the
pooled rows reads that change of composition as a steeper slope, i.e. a lower intercept. On the one-wave
region (benchmarks/README.md, employment) the pooled rows gave the two weeks after the wave negative job-loss
rates (floored to ~0: their job losses got q ~ 0); the mean of the weekly estimates does not. A one-week wave
is still not a precise week (half its workers start a drop: a large variance), and v is one number for all
weeks, so the wave week keeps only part of its own estimate.

The part of remote adoption that teleworkability does not explain (ours)
----------------------------------------------------------------------
The drops alone cannot tell a job-loss rate ``l(t)`` from remote starts that do not scale with ``x_u``: remote
starts ``a(t) (x_u + b)`` and job losses ``l(t) - a(t) b`` give the same drops for every b. With b = 0 every
drop that teleworkability does not explain is a job loss, and in the weeks of mass remote adoption q comes out
too high (assumption 2 below: on the default synthetic region half of seed 2's remote weeks were called
unemployed, and a run without labels put county rates 10-15 points above the truth). The person's evidence
(:mod:`mobility.employment.evidence`) is the only handle on b: the mixture of the drops' evidence categories
is fitted again at each b of ``0 .. remote_intercept_max`` (:meth:`Adoption.drop_priors`, job losses floored at
the baseline weeks' drop rate), which gives b a posterior from the mixture's likelihood (a flat prior, or a
normal one with ``remote_intercept_prior_sd`` > 0, by the trapezoid rule over ``remote_intercept_steps``
values; :func:`mobility.employment.evidence.remote_intercept_posterior`), and each drop's posterior is averaged
over that posterior (``remote_intercept_point = "mean"``, the default) or taken at its mode (``"mode"``).
Without any drop with evidence on its work days neither is taken (b = 0, with a warning): the prior alone would
decide. The likelihood rules out
values of b well above the truth but only weakly those below it, is weak where remote work starts person by
person at 1,000 workers, sharper at 10,000, and sharp where remote work comes in one wave (there it keeps b
near 0), so the range of b is a stated prior: b <= 1 (per teleworkable job: the part of remote adoption that does
not scale with teleworkability is at most what a fully teleworkable job adds). The population model is an
approximation, so the area intervals, which draw b, draw it from a posterior that does not know b better than
``intercept_evidence_drops`` drops could (a coarsened posterior: with n scored drops, the log-likelihood times
``min(1, intercept_evidence_drops / n)``): with tens of thousands of drops the full likelihood puts all its weight
on the one value that fits the approximation best, and intervals drawn from it are narrower than the model's own
error. The point estimates keep the full posterior. On a small panel its likelihood is weak, and the point
depends on the prior's range (averaged) or falls towards 0 (the mode): benchmarks/README.md, "Why the rates of
small panels were low". The grid's
weights are the ``remote_intercept`` table. Measured in benchmarks/README.md ("The part of remote adoption that
teleworkability does not explain").

Assumptions, and what breaks them
---------------------------------
1. Within a week, job-loss hazard does not depend on teleworkability. Where low-telework sectors (hospitality,
   retail) lose more jobs, the slope understates adoption and the intercept overstates job loss among
   teleworkable jobs: q is then too high for them (too many remote workers called job losers). On the default
   synthetic region this is the larger of the two biases on seed 2: over the weeks from the shock on, true
   job-loss drops per worker fall from 0.15-0.24 at x = 0 to -0.06..0.08 at x = 1 (a line fitted to the truth
   on seeds 20200316 and 2 of the default, hard and easy regions), so the intercept counts remote workers as
   job losers. ``EmploymentParams.job_loss_telework_slope`` (gamma, default 0.83) states a hazard
   ``l(t) (1 - gamma x)``: the week's intercept and slope are then read as ``L + A b`` and ``A - gamma L``
   (:meth:`Adoption.drop_priors`; the slope is then floored at ``-gamma l``, no remote starts below none). The
   data do not identify gamma: the drops fit every value, and the evidence mixture's likelihood barely moves
   with it (on a 30,000-person region of generator 3.0 it peaks at 0, where the truth's is 0.55-1.15 and gamma
   0.8-1.0 makes the drops' priors right). It is the analyst's statement, from
   outside evidence on who lost jobs in the period: the default is the slope of the rise in unemployment of
   Pennsylvania's counties in April 2020 on their jobs' teleworkability (:mod:`mobility.census.job_loss_slope`;
   benchmarks/README.md, "Outside evidence for gamma and b").
2. Remote work is proportional to tau: remote work in jobs Dingel & Neiman rate not teleworkable, and the end
   of regular non-home places that were not jobs (a school, a club: the home/work step cannot tell them from
   workplaces) add to the intercept, i.e. to l(t): in weeks of mass remote adoption q is then too high
   (averaging over b, above, is what the signal does about it). On the default synthetic region the second
   part is the larger one: the drops of students and other people without
   a job (their school or club closes) are 60 of 275 drops on seed 20200316, and taking them out of the panel
   (with the truth, as a diagnosis) brings the remote weeks called unemployed from 17 % to 7 % (seed 2: 50 % to
   37 %). Remote work in non-teleworkable jobs adds little (true remote drops per worker -0.03 + 0.63 x; seed 2:
   0.08 + 0.38 x).
3. ``x_u`` is the expected tau of u's job given the block group; the person's own sector and occupation are
   unknown. This does not bias the slope (x is a conditional mean) but makes q the same for everyone of a
   block group: the person's own evidence must do the rest (:mod:`mobility.employment.evidence`).
4. Sector enters only through tau_s. Sector-specific job-loss rates ``l(t) m_s`` would fix assumption 1 and
   are identified in principle (tau_s is known, and l/a changes over time), but were not by a panel of ~1,000
   workers: alternating least squares with m_s shrunk towards 1 gave noise (accommodation, with three times
   the job losses of the average sector, came out at 0.46) and drove a(t) to 0 (two thirds of remote weeks
   called unemployed). The sector route uses the stock below.
5. A drop of someone whose phone changes (a new phone, a degraded one) is not a drop: attendance marks such
   weeks uncovered (:mod:`mobility.employment.attendance`), and they are never at risk.

The **remote stock** ``A_b(t) = sum_{u in a drop at t} (1 - q_u(t0; b)) / sum_{u usable at t} (x_u + b)``
(:func:`remote_stock`; q at b, the drops' priors) makes a worker of teleworkability x remote with probability
``A_b(t) (x + b)``; averaged over b with b's posterior weights, ``A(t) = sum_b w_b A_b(t)`` (``remote_stock``)
and ``C(t) = sum_b w_b b A_b(t)`` (``remote_untied``: remote workers per worker whatever the sector) give the
sector route's reference ``1 - tau_s A(t) - C(t)`` (:mod:`mobility.employment.sector`). At b = 0 alone (no
averaging) C = 0 and A is the stock of remote work in proportion to teleworkability.

Schema ``remote_adoption``: ``week``, ``at_risk`` (workers), ``starts`` (drops starting), ``job_loss_rate``
(l), ``remote_rate`` (a), ``job_loss_rate_week``, ``remote_rate_week`` (the week's own regression) with
``job_loss_rate_se``, ``remote_rate_se``, ``job_loss_rate_window``, ``remote_rate_window`` (the mean of the
weekly estimates over the window), ``shrinkage`` (1 - k_t of the remote rate: 0 keeps the week, 1 takes the
window), ``remote_stock`` (A), ``remote_untied`` (C), ``job_loss_floor`` (the lowest job-loss rate of
:meth:`Adoption.drop_priors`).

Schema ``remote_intercept`` (one row per value of b on the grid; one row b = 0 when there is no drop or
``remote_intercept_max`` is 0): ``remote_intercept`` (b), ``loglik`` (the evidence mixture's log-likelihood at
b; NaN with one row), ``weight`` (b's posterior weight: the point estimates), ``draw_weight`` (the coarsened
posterior the area intervals draw b from), ``likelihood_power`` (the power the log-likelihood was raised to for
``draw_weight``, the same in every row: ``EmploymentParams.intercept_evidence_drops`` over the scored drops, at
most 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mobility.employment.params import EmploymentParams
from mobility.kernels.employment import column_ls2, window_mean, window_sum


def shrink_to_window(week: np.ndarray, se: np.ndarray, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical Bayes: each week's estimate pulled towards its window by its noise (module notes).

    Returns the shrunk estimates and the weight ``k_t`` each week keeps (NaN weeks take the window).

    Examples
    --------
    Three precise weeks far from a flat window keep their values; the noisy one moves about half-way:

    >>> week, se = np.array([0.0, 0.3, 0.0, 0.2]), np.array([0.01, 0.01, 0.01, 0.12])
    >>> est, keep = shrink_to_window(week, se, np.array([0.1, 0.1, 0.1, 0.1]))
    >>> est.round(3).tolist(), keep.round(2).tolist()
    ([0.001, 0.299, 0.001, 0.149], [0.99, 0.99, 0.99, 0.49])
    """
    ok = np.isfinite(week) & np.isfinite(se) & np.isfinite(window)
    d = np.where(ok, week - window, 0.0)
    v = max(float(np.mean(d[ok] ** 2 - se[ok] ** 2)), 0.0) if ok.any() else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = np.where(se > 0, v / (v + se * se), 1.0)
    keep = np.where(ok, keep, 0.0)
    return np.where(ok, window + keep * d, window), keep


@dataclass
class Adoption:
    """Job-loss rate and remote adoption per week (arrays over the panel's weeks) and the ``remote_adoption`` table."""

    job_loss_rate: np.ndarray
    remote_rate: np.ndarray
    table: pd.DataFrame
    job_loss_floor: np.ndarray | None = None
    """Per week, the lowest job-loss rate once part of it is given to remote adoption (:meth:`drop_priors`): the
    drops starting per worker-week at risk in the baseline weeks (before any remote adoption), and at least half
    a job loss among the workers at risk in the week's window (no finite panel rules one out). None: 0."""
    job_loss_slope: float = 0.0
    """gamma of the module notes (``EmploymentParams.job_loss_telework_slope``): job losses per worker at risk
    fall with teleworkability as ``1 - gamma x``. 0 where an Adoption is made by hand; :func:`estimate_adoption`
    passes the parameters' own (0.83 by default)."""

    def prior(self, run_start: np.ndarray, x: np.ndarray) -> np.ndarray:
        """q_u(t0) of every cell inside a drop (the drop's first week t0), NaN outside (module notes): the
        priors of :meth:`drop_priors` at b = 0.

        Examples
        --------
        >>> ad = Adoption(np.array([0.01, 0.01]), np.array([0.0, 0.09]), pd.DataFrame())
        >>> ad.prior(np.array([[-1, 1], [0, 0]]), np.array([1.0, 1.0])).round(3).tolist()
        [[nan, 0.1], [1.0, 1.0]]
        """
        inside = run_start >= 0
        xx = np.broadcast_to(np.asarray(x, dtype=float)[:, None], run_start.shape)
        out = np.full(run_start.shape, np.nan)
        out[inside] = self.drop_priors(run_start[inside], xx[inside], np.zeros(1))[0]
        return out

    def drop_priors(self, start: np.ndarray, x: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """The priors of drops starting in weeks ``start`` of workers of teleworkability ``x`` when remote
        adoption has a part that does not depend on teleworkability (module notes: remote starts ``A (x_u + b)``,
        job losses ``L (1 - gamma x_u)``, with ``L = l(t) - A b`` floored at the baseline rate and ``A = (a(t) +
        gamma l(t)) / (1 + gamma b)``, i.e. ``a(t)`` at gamma = 0), one row per b of ``grid``.

        Examples
        --------
        In a week with l = 0.1 and a = 0.3, a drop of x = 0 is a job loss at b = 0; at b = 0.2, 0.04 of the
        0.1 drops per worker are job losses and 0.06 remote starts:

        >>> ad = Adoption(np.array([0.1]), np.array([0.3]), pd.DataFrame(), job_loss_floor=np.array([0.001]))
        >>> ad.drop_priors(np.array([0]), np.array([0.0]), np.array([0.0, 0.2])).round(3).tolist()
        [[1.0], [0.4]]

        With job losses falling with teleworkability (gamma = 0.5), the week's intercept and slope (l = 0.1,
        a = 0.3 at b = 0) are read as 0.1 (1 - 0.5 x) job losses and 0.35 x remote starts: a drop of x = 1 is a
        job loss with probability 0.05 / (0.05 + 0.35) = 0.125, not 0.1 / (0.1 + 0.3) = 0.25:

        >>> ad.job_loss_slope = 0.5
        >>> ad.drop_priors(np.array([0]), np.array([1.0]), np.array([0.0])).round(3).tolist()
        [[0.125]]
        """
        l0, a0 = self.job_loss_rate[start], self.remote_rate[start]
        b = np.asarray(grid, dtype=float)[:, None]
        g = self.job_loss_slope
        # intercept l = L + A b and slope a = A - g L of the week's drops on x, solved for L and A at each b
        remote = (a0[None, :] + g * l0[None, :]) / (1.0 + g * b)
        floor = np.minimum(l0, 0.0 if self.job_loss_floor is None else self.job_loss_floor[start])[None, :]
        xx = np.asarray(x, dtype=float)[None, :]
        loss = np.maximum(l0[None, :] - remote * b, floor) * np.maximum(1.0 - g * xx, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(loss > 0, loss / (loss + remote * (xx + b)), 0.0)


def _rates(y: np.ndarray, x: np.ndarray, at_risk: np.ndarray, params: EmploymentParams):
    """l(t), a(t) (floored, non-negative), l's floor, their weekly and window estimates and the weight each week
    keeps."""
    n_u, n_w = y.shape
    one = np.ones(n_u)
    l_week, a_week, l_se, a_se, n_week = column_ls2(y, one, x, at_risk)
    half = params.adoption_window_weeks
    l_win, a_win, n_win = window_mean(l_week, half), window_mean(a_week, half), window_sum(n_week, half)
    no_spread = ~np.isfinite(a_win)  # everyone alike in x: all drops are read as job losses
    with np.errstate(invalid="ignore", divide="ignore"):
        only_l = (y * at_risk).sum(axis=0) / at_risk.sum(axis=0)
    l_win = np.where(no_spread, np.nan_to_num(only_l), l_win)
    a_win = np.where(no_spread, 0.0, a_win)
    if params.adoption_window_weeks == 0:
        l_est, a_est, keep = np.where(np.isfinite(l_week), l_week, l_win), a_win, np.ones(n_w)
    else:
        l_est, _ = shrink_to_window(l_week, l_se, l_win)
        a_est, keep = shrink_to_window(a_week, a_se, a_win)
    floor = 0.5 / np.maximum(n_win, 1)
    l_rate = np.maximum(np.nan_to_num(l_est, nan=0.0), floor)
    # no remote starts below none: a = A - gamma L >= -gamma l (with gamma = 0, a >= 0)
    a_rate = np.maximum(np.nan_to_num(a_est, nan=0.0), -params.job_loss_telework_slope * l_rate)
    return l_rate, a_rate, floor, {"job_loss_rate_week": l_week, "remote_rate_week": a_week,
                                   "job_loss_rate_se": l_se, "remote_rate_se": a_se, "job_loss_rate_window": l_win,
                                   "remote_rate_window": a_win, "shrinkage": 1.0 - keep}


def estimate_adoption(run_start: np.ndarray, usable: np.ndarray, x: np.ndarray, weeks: pd.DatetimeIndex, *,
                      params: EmploymentParams | None = None) -> Adoption:
    """l(t) and a(t) from the drops of a panel (module notes), and the ``remote_adoption`` table.

    Parameters
    ----------
    run_start : ndarray of int64, shape (n_users, n_weeks)
        First week of the drop each cell lies in, ``-1`` outside drops
        (:func:`mobility.employment.events.confirmed_runs`).
    usable : ndarray of bool, shape (n_users, n_weeks)
        Covered weeks of baseline workers.
    x : ndarray, shape (n_users,)
        Teleworkability (NaN: unknown, taken as the mean of the known).
    weeks : DatetimeIndex

    Examples
    --------
    Ten workers of teleworkability 1 and ten of 0. In week 1, four teleworkable ones go remote and one of the
    others loses the job: a = 4/10 - 1/10 = 0.3 per teleworkable job, l = 0.1; a drop of x = 1 in week 1 is
    then a job loss with probability 0.1 / (0.1 + 0.3) = 0.25 where job loss does not depend on teleworkability
    (gamma = 0). A one-week window keeps each week's own value.

    >>> x = np.repeat([1.0, 0.0], 10)
    >>> start = np.full((20, 3), -1); start[:4, 1:] = 1; start[10, 1:] = 1
    >>> ad = estimate_adoption(start, np.ones((20, 3), bool), x, pd.date_range("2020-03-09", periods=3, freq="7D"),
    ...                        params=EmploymentParams(adoption_window_weeks=0, job_loss_telework_slope=0.0))
    >>> ad.table.loc[1, ["at_risk", "starts", "job_loss_rate", "remote_rate"]].round(6).tolist()
    [20.0, 5.0, 0.1, 0.3]
    >>> float(ad.prior(start, x)[0, 1])
    0.25
    """
    params = params or EmploymentParams()
    run_start = np.asarray(run_start)
    usable = np.asarray(usable, dtype=bool)
    n_w = run_start.shape[1]
    starts = run_start == np.arange(n_w)[None, :]
    at_risk = usable & ((run_start < 0) | starts)
    xx = np.asarray(x, dtype=float)
    xx = np.where(np.isfinite(xx), xx, np.nanmean(xx) if np.isfinite(xx).any() else 0.0)
    y = starts.astype(float)
    l_rate, a_rate, floor, detail = _rates(y, xx, at_risk, params)
    start, end = params.baseline
    base = np.asarray((weeks >= start) & (weeks <= end))
    baseline_rate = float((starts & at_risk)[:, base].sum() / max(at_risk[:, base].sum(), 1))
    adoption = Adoption(l_rate, a_rate, pd.DataFrame(), np.maximum(floor, baseline_rate),
                        params.job_loss_telework_slope)
    adoption.table = pd.DataFrame({
        "week": weeks.values, "at_risk": at_risk.sum(axis=0), "starts": (starts & at_risk).sum(axis=0),
        "job_loss_rate": l_rate, "remote_rate": a_rate, **detail,
        "remote_stock": remote_stock(adoption.prior(run_start, xx), run_start, usable, xx),
        "remote_untied": 0.0,
        "job_loss_floor": adoption.job_loss_floor,
    })
    return adoption


def remote_stock(prior: np.ndarray, run_start: np.ndarray, usable: np.ndarray, x: np.ndarray,
                 b: float = 0.0) -> np.ndarray:
    """Per week, the remote workers (the drops' ``1 - prior`` summed over the covered weeks inside drops) per
    unit of ``x + b`` summed over the covered workers: A(t), so that a worker of teleworkability x is remote with
    probability ``A(t) (x + b)`` (module notes), clipped to [0, 1].

    Examples
    --------
    Two covered workers (x 1 and 0); the first in a drop with prior 0.2 (0.8 of a remote worker): A = 0.8 per
    teleworkable job at b = 0, 0.8 / 2 at b = 0.5.

    >>> args = np.array([[0.2], [np.nan]]), np.array([[0], [-1]]), np.ones((2, 1), bool), np.array([1.0, 0.0])
    >>> remote_stock(*args).tolist(), remote_stock(*args, b=0.5).tolist()
    ([0.8], [0.4])
    """
    inside = (run_start >= 0) & usable
    with np.errstate(invalid="ignore", divide="ignore"):
        stock = np.where(inside, 1.0 - prior, 0.0).sum(axis=0) / (usable * (x[:, None] + b)).sum(axis=0)
    return np.clip(np.nan_to_num(stock, nan=0.0), 0.0, 1.0)
