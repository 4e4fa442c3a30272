"""Event-study estimators side by side (frame layer): two-way fixed effects and Sun-Abraham.

Every estimator here is a regression of the outcome on disjoint cell dummies with person and calendar-week
effects (:func:`~mobility.longitudinal.cell_ols.cell_ols`, errors clustered by person), followed by fixed
linear combinations of the cell coefficients: the reported *terms*, one per group and event week ``k`` of
the window. They differ in their cells:

``TWFE`` (``estimator="twfe"``)
    One cell per event week (endpoints binned), pooled over job-loss cohorts. With staggered job losses and
    effects that differ by cohort or grow with time, its coefficients mix in already-treated people as
    controls and weigh cohorts badly (Goodman-Bacon 2021; Sun & Abraham 2021): leads can look significant
    where nobody anticipates anything. Kept for comparison.
``SunAbraham`` (``estimator="sun_abraham"``, the default)
    One cell per cohort (job-loss week) x event week, for every event week observed (saturated); a term is
    the average of its cells weighted by their number of person-weeks (the cohort shares at that event week;
    for a binned endpoint, the shares over the bin), as Sun & Abraham's interaction-weighted estimator and
    pyfixest's ``SaturatedEventStudy.aggregate(weighting="shares")``. Its standard errors treat the shares
    as fixed. ``control_group``:

    * ``"never"``: every event week but ``reference_period`` has cells, so only never-losers (and the
      reference week) identify the calendar-week effects; leads and lags are relative to ``reference_period``.
      Cohorts with no person-week at the reference week cannot be identified and are dropped (counted).
    * ``"not_yet"``: only event weeks ``>= 0`` have cells, so later losers' weeks before their loss are
      controls too: Wooldridge's (2021) extended TWFE, equal to the imputation estimator of Borusyak,
      Jaravel & Spiess (2024) on a balanced panel. Effects are relative to the person's untreated level,
      with no reference week. Leads come from their pre-trend test: a regression on the untreated rows only
      with one dummy per lead ``window[0]..-1`` (against earlier weeks and never-losers), so a pre-trend
      cannot leak into the effects. Cohorts with no week before their loss are dropped (counted).
    * ``"later"``: ``"not_yet"`` on the job losers alone: each is compared with people who lose their job
      later, in the weeks before their loss; never-losers are left out (Fadlon & Nielsen 2019). The
      comparison shares the losers' selection into job loss: on the synthetic regions the March shock moved
      never-losers (a third of them went remote) and future losers (commuters until their loss) apart, a
      pre-trend of every dating, the true one included, against never-losers, and none against later losers
      (benchmarks/README.md). Treated weeks after the last loss have no comparison and are dropped (counted).

Standard errors are clustered by person: CR2 by default (``vcov="cr2"``: each person's residuals adjusted for
their leverage, which the saturated cells make large where a cohort holds one or two losers, and a pooled
working covariance for a loser alone in a cell; :func:`~mobility.longitudinal.cell_ols.cell_ols`), or CR1.
Under CR2 each term's interval uses its Satterthwaite degrees of freedom (column ``df``) and
``pretrend_test="htz"`` refers the leads' CR2 Wald statistic to Pustejovsky & Tipton's HTZ approximation;
under CR1 intervals use t(G - 1).

Groups: with a group column every cell is also per group; ``group_time_effects=True`` gives each group its
own calendar-week effects (a group without never-losers is then left out, its cells suppressed).
Treated rows in a calendar week (of their group) without any untreated row cannot be identified and are
dropped (counted in ``info``).

The estimators follow scikit-learn's shape: hyper-parameters in ``__init__`` (those of
:class:`~mobility.longitudinal.params.EventStudyParams`, checked in ``fit``), data in ``fit``, results in
attributes ending in ``_``: ``coefficients_`` (columns :data:`COEFFICIENT_COLUMNS`), ``pretrend_``
(:data:`PRETREND_COLUMNS`), ``vcov_`` and ``info_``. :func:`~mobility.longitudinal.event_study.event_study`
dispatches on ``estimator=``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mobility.errors import MobilityError
from mobility.longitudinal.cell_ols import cell_ols
from mobility.longitudinal.cluster_ols import (
    check_sizes,
    cr1_factor,
    htz_test,
    satterthwaite_df,
    t_inference,
    wald_test,
)
from mobility.longitudinal.panel import EventPanel, code_dtype, prepare_panel
from mobility.longitudinal.params import EventStudyParams, resolve_cr2_df

COEFFICIENT_COLUMNS = (
    "metric", "group", "term", "event_time", "estimate", "std_error", "ci_low", "ci_high", "p_value",
    "n_users", "n_obs", "suppressed", "reference", "estimator", "control_group", "df",
)
PRETREND_COLUMNS = ("metric", "group", "f_stat", "df_num", "df_den", "p_value", "n_leads")
DID_COLUMNS = (
    "metric", "group", "estimate", "std_error", "ci_low", "ci_high", "p_value",
    "n_users_pre", "n_users_post", "n_control_users", "suppressed", "estimator", "control_group", "df",
)


def term_label(k: int, window: tuple[int, int], bin_endpoints: bool) -> str:
    """Name of the event-time term ``k`` (``"k<=-4"`` for a binned first period).

    Examples
    --------
    >>> term_label(-4, (-4, 12), True), term_label(3, (-4, 12), True), term_label(12, (-4, 12), False)
    ('k<=-4', 'k=3', 'k=12')
    """
    if bin_endpoints and k == window[0]:
        return f"k<={k}"
    if bin_endpoints and k == window[1]:
        return f"k>={k}"
    return f"k={k}"


@dataclass
class Terms:
    """Linear combinations of cell coefficients per metric: ``estimate = R b`` (metrics, terms) and
    ``cov = R V R'`` (metrics, terms, terms), NaN where a term has no cell."""

    estimate: np.ndarray
    cov: np.ndarray
    estimable: np.ndarray  # bool per term: the term has at least one fitted cell
    df: int
    n_obs_fit: int
    n_clusters: int
    n_params_total: int
    cov_null: np.ndarray | None = None  # like ``cov``, from residuals with the null cells held at 0 (leads only)
    df_terms: np.ndarray | None = None  # CR2: Satterthwaite df per term (NaN where not estimable); CR1: None
    joint: tuple = ()  # CR2 with joint sets: (term indices, E (q, q), C4 (q, q, q, q)) per set, for htz_test

    def df_of_terms(self) -> np.ndarray | int:
        """Degrees of freedom of each term's t reference: Satterthwaite's under CR2, else ``G - 1``."""
        return self.df if self.df_terms is None else self.df_terms

    def joint_moments(self, terms: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """``E`` and ``C4`` of the HTZ test of ``terms`` (all in one joint set of the fit)."""
        for idx, e_mat, c4 in self.joint:
            pos = [int(np.flatnonzero(idx == t)[0]) for t in terms if (idx == t).any()]
            if len(pos) == len(terms):
                return e_mat[np.ix_(pos, pos)], c4[np.ix_(pos, pos, pos, pos)]
        raise MobilityError(f"no joint set of the fit holds the terms {terms} (pretrend_test='htz' needs them)")


def contrasts(cell_term: np.ndarray, mass: np.ndarray, n_terms: int, signs: np.ndarray | None = None) -> np.ndarray:
    """The matrix ``R`` (terms x cells) averaging each term's cells by ``mass`` (their person-weeks).

    ``cell_term`` gives each cell's term (-1: not reported). ``signs`` (per cell, default +1) lets a term be
    a difference of two averages: cells with sign -1 are averaged separately and subtracted.

    Examples
    --------
    >>> contrasts(np.array([0, 0, 1, -1]), np.array([1.0, 3.0, 2.0, 5.0]), 2).tolist()
    [[0.25, 0.75, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
    """
    n_cells = cell_term.shape[0]
    signs = np.ones(n_cells) if signs is None else signs
    r = np.zeros((n_terms, n_cells))
    used = np.flatnonzero(cell_term >= 0)
    for sign in (1.0, -1.0):
        part = used[signs[used] == sign]
        total = np.bincount(cell_term[part], weights=mass[part], minlength=n_terms)
        r[cell_term[part], part] = sign * mass[part] / total[cell_term[part]]
    return r


def fit_terms(
    ep: EventPanel, cells: np.ndarray, specs: list, time_codes: np.ndarray, df_correction: str, info: dict, *,
    blocks: np.ndarray | None = None, null_cells: np.ndarray | None = None, vcov: str = "cr1",
    joint: list[np.ndarray] | None = None, cr2_df: str = "auto",
) -> list[Terms]:
    """Fit the cell regression of every metric of ``ep`` once and combine its cells into the terms of each spec.

    ``cells`` are dense codes (-1: none); each spec is ``(cell_term, n_terms, signs)`` per cell
    (:func:`contrasts`), e.g. the event-time path and the DiD summary of the same fit. With ``blocks`` (a code
    per row such that persons, calendar-week codes and cells never straddle two blocks: groups with their own
    week effects; -1: a row left out of the fit, so that a caller may pass the rows of a larger panel without
    copying the fit's own) the model is block diagonal: each block is fitted alone and the CR1 factor of the whole
    model applied to the sum, which equals the joint fit; a block whose cells are collinear is left out
    (its terms not estimable, counted in ``info["blocks_not_estimable"]``). A block's persons and weeks are
    numbered within it, so ``ep``'s user codes and ``time_codes`` need not be dense there.

    ``null_cells`` (bool per cell) are the cells a pre-trend test sets to 0: the first spec's terms made only
    of them then also get ``cov_null``, their covariance from the residuals of the fit without those cells
    (:func:`~mobility.longitudinal.cell_ols.cell_ols`, the score form of the test).

    ``vcov`` (``"cr1"`` or ``"cr2"``) is the covariance of ``cov`` (:data:`~mobility.longitudinal.params.VCOV_TYPES`);
    CR2 has no small-sample factor, so blocks are summed as they are; ``cov_null`` is CR1 either way.

    Under CR2 (with ``cr2_df="satterthwaite"``; ``"clusters"`` keeps ``G - 1`` and skips them; ``"auto"`` decides
    per block by its persons, :func:`~mobility.longitudinal.params.resolve_cr2_df`, and ``info["cr2_df_used"]`` says
    whether every block, none (``"clusters"``) or some (``"mixed"``) got them) every term also gets
    its Satterthwaite degrees of freedom (``df_terms``) and each set of ``joint``
    (arrays of term indices of the first spec, e.g. each group's leads) the moments of its HTZ test (``joint``):
    blocks are independent, so their moments add (:class:`~mobility.longitudinal.cell_ols.SmallSampleMoments`).
    """
    n_cells = int(cells.max()) + 1 if (cells >= 0).any() else 0
    in_cell = cells >= 0 if blocks is None else (cells >= 0) & (blocks >= 0)  # a row left out of every block weighs nothing
    mass = (np.bincount(cells[in_cell], minlength=n_cells).astype(np.float64) if ep.weights is None else
            np.bincount(cells[in_cell], weights=ep.weights[in_cell], minlength=n_cells))  # no rows-long ones
    del in_cell
    parts = [contrasts(cell_term, mass, n_terms, signs) for cell_term, n_terms, signs in specs]
    r = np.vstack(parts)
    n_all = r.shape[0]
    nested = df_correction == "nested"
    m = len(ep.metrics)
    null_terms = np.zeros(n_all, dtype=bool)
    if null_cells is not None:
        first = np.abs(r[: parts[0].shape[0]]) > 0
        null_terms[: parts[0].shape[0]] = first.any(axis=1) & ~first[:, ~null_cells].any(axis=1)
    cov_null = np.full((m, n_all, n_all), np.nan) if null_cells is not None else None
    cr2 = vcov == "cr2"
    used = []  # per fitted block: whether it computed the Satterthwaite moments
    with_moments = np.zeros(n_all, dtype=bool)  # the terms that got them
    sets = [np.asarray(j, dtype=np.int64) for j in (joint or [])] if cr2 else []
    sets = [j[np.abs(r[j]).sum(axis=1) > 0] for j in sets]  # terms without cells (the reference) test nothing
    mean, square = np.zeros(n_all), np.zeros(n_all)
    set_mean = [np.zeros((j.size,) * 2) for j in sets]
    set_c4 = [np.zeros((j.size,) * 4) for j in sets]

    def add_moments(moments, own: np.ndarray, own_sets: list) -> None:
        mean[own] += moments.mean
        square[own] += moments.square
        for (s_i, pos), (_, e_mat, c4) in zip(own_sets, moments.joint):
            set_mean[s_i][np.ix_(pos, pos)] += e_mat
            set_c4[s_i][np.ix_(pos, pos, pos, pos)] += c4

    def local_sets(own: np.ndarray) -> tuple[list, list]:
        # the joint sets' terms that this fit holds, as (set, positions in the set) and as indices of ``own``
        where = np.full(n_all, -1, dtype=np.int64)
        where[own] = np.arange(own.size)
        kept = [(s_i, np.flatnonzero(where[j] >= 0)) for s_i, j in enumerate(sets)]
        kept = [(s_i, pos) for s_i, pos in kept if pos.size]
        return kept, [where[sets[s_i][pos]] for s_i, pos in kept]

    if blocks is None:
        own_sets, local = local_sets(np.arange(n_all))
        used.append(cr2 and resolve_cr2_df(cr2_df, ep.n_users) == "satterthwaite")
        fit = cell_ols(ep.y_source, cells, n_cells, ep.user_codes, time_codes, ep.weights, contrasts=r, nested=nested,
                       null_cells=null_cells, null_contrasts=np.flatnonzero(null_terms), vcov=vcov, joint=local,
                       satterthwaite=used[-1], y_rows=ep.y_rows, y_columns=ep.y_columns)
        with_moments[:] = used[-1]
        estimate, cov, fitted_cells = fit.estimate, fit.cov, np.ones(n_cells, dtype=bool)
        df, n_obs, n_clusters, n_total = fit.df_inference, fit.n_obs, fit.n_clusters, fit.n_params_total
        if cov_null is not None:
            cov_null[np.ix_(np.arange(m), null_terms, null_terms)] = fit.cov_null
        if fit.moments is not None:
            add_moments(fit.moments, np.arange(n_all), own_sets)
    else:
        if cov_null is not None:
            cov_null[np.ix_(np.arange(m), null_terms, null_terms)] = 0.0
        estimate, cov = np.zeros((m, n_all)), np.zeros((m, n_all, n_all))
        fitted_cells = np.zeros(n_cells, dtype=bool)
        n_obs = n_clusters = n_total = 0
        first_error = None  # raised when no block can be estimated (its own message names the cause)
        info.setdefault("blocks_not_estimable", 0)
        for b in np.unique(blocks[blocks >= 0]):
            rows = np.flatnonzero(blocks == b).astype(code_dtype(blocks.shape[0]), copy=False)
            local, uniques = renumbered(cells[rows])
            users = pd.factorize(ep.user_codes[rows])[0].astype(ep.user_codes.dtype)
            own = np.flatnonzero(np.abs(r[:, uniques]).sum(axis=1) > 0)  # the block's terms (its group's)
            own_null = own[null_terms[own]]
            own_sets, local_joint = local_sets(own)
            per_term = cr2 and resolve_cr2_df(cr2_df, int(users.max()) + 1 if users.size else 0) == "satterthwaite"
            try:
                fit = cell_ols(ep.y_source, local, uniques.shape[0], users,
                               pd.factorize(time_codes[rows])[0].astype(time_codes.dtype),
                               None if ep.weights is None else ep.weights[rows], contrasts=r[np.ix_(own, uniques)],
                               nested=nested, correction=False,
                               null_cells=None if null_cells is None else null_cells[uniques],
                               null_contrasts=np.flatnonzero(null_terms[own]), vcov=vcov, joint=local_joint,
                               satterthwaite=per_term, y_rows=rows if ep.y_rows is None else ep.y_rows[rows],
                               y_columns=ep.y_columns)
            except MobilityError as err:
                info["blocks_not_estimable"] += 1
                first_error = first_error or err
                continue
            used.append(per_term)
            with_moments[own] = per_term
            if fit.moments is not None:
                add_moments(fit.moments, own, own_sets)
            estimate[:, own] += fit.estimate
            cov[np.ix_(np.arange(m), own, own)] += fit.cov
            if cov_null is not None:
                cov_null[np.ix_(np.arange(m), own_null, own_null)] += fit.cov_null
            fitted_cells[uniques] = True
            n_obs, n_clusters, n_total = n_obs + fit.n_obs, n_clusters + fit.n_clusters, n_total + fit.n_params_total
        if not used and first_error is not None:
            raise MobilityError(f"no group can be estimated with its own week effects (group_time_effects); the "
                                f"first: {first_error}") from first_error
        check_sizes(n_obs, n_clusters, n_total)
        if vcov == "cr1":
            cov *= cr1_factor(n_obs, n_clusters, n_total)
        if cov_null is not None:
            cov_null *= cr1_factor(n_obs, n_clusters, n_total)
        df = n_clusters - 1
    if cr2:  # over every fit of the estimate (its paths and its DiD summary)
        now = "satterthwaite" if used and all(used) else ("mixed" if any(used) else "clusters")
        info["cr2_df_used"] = now if info.get("cr2_df_used", now) == now else "mixed"
    out, start = [], 0
    for part in parts:
        sl = slice(start, start + part.shape[0])
        start += part.shape[0]
        estimable = (np.abs(part[:, fitted_cells]).sum(axis=1) > 0) & (np.abs(part[:, ~fitted_cells]).sum(axis=1) == 0)
        df_terms = (np.where(estimable, np.where(with_moments[sl], satterthwaite_df(mean[sl], square[sl]), df), np.nan)
                    if any(used) else None)
        out.append(Terms(np.where(estimable, estimate[:, sl], np.nan), _mask_cov(cov[:, sl, sl], estimable),
                         estimable, df, n_obs, n_clusters, n_total,
                         None if cov_null is None else _mask_cov(cov_null[:, sl, sl], estimable), df_terms,
                         tuple(zip(sets, set_mean, set_c4)) if sl.start == 0 else ()))
    return out


def renumbered(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cells`` (a copy, overwritten) with their codes numbered ``0..`` in order of first appearance (-1 stays: no
    cell), and the original code of each new one.

    Examples
    --------
    >>> local, uniques = renumbered(np.array([7, -1, 3, 7]))
    >>> local.tolist(), uniques.tolist()
    ([0, -1, 1, 0], [7, 3])
    """
    in_cell = cells >= 0
    codes, uniques = pd.factorize(cells[in_cell])
    cells[in_cell] = codes
    return cells, uniques


def _mask_cov(cov: np.ndarray, estimable: np.ndarray) -> np.ndarray:
    cov = cov.copy()
    cov[:, ~estimable, :] = np.nan
    cov[:, :, ~estimable] = np.nan
    return cov


def dense_codes(*keys: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Codes ``0..m-1`` of the distinct key tuples (non-negative integers) on rows where ``mask`` holds,
    -1 elsewhere; int32 (:func:`~mobility.longitudinal.panel.code_dtype`).

    Examples
    --------
    >>> dense_codes(np.array([0, 0, 1, 1]), np.array([5, 5, 5, 6]), mask=np.array([True, True, True, False])).tolist()
    [0, 0, 1, -1]
    """
    out = np.full(mask.shape[0], -1, dtype=code_dtype(mask.shape[0]))
    if not mask.any():
        return out
    combined = np.zeros(int(mask.sum()), dtype=np.int64)
    for key in keys:
        part = pd.factorize(key[mask])[0]
        combined = combined * (int(part.max()) + 1) + part
    out[mask] = pd.factorize(combined)[0]
    return out


def count_users(term_codes: np.ndarray, user_codes: np.ndarray, n_terms: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct users and rows per term code (rows with -1 ignored)."""
    rows = term_codes >= 0
    n_obs = np.bincount(term_codes[rows], minlength=n_terms)
    n_u = int(user_codes.max()) + 1 if user_codes.size else 1
    pairs = pd.unique(term_codes[rows].astype(np.int64) * n_u + user_codes[rows])
    return np.bincount(pairs // n_u, minlength=n_terms), n_obs


class _CellEstimator(ABC):
    """Shared machinery: panel preparation, time codes, guards, tables. Subclasses define the cells."""

    name = ""

    def __init__(self, *, control_group: str = EventStudyParams.control_group,
                 window: tuple[int, int] = EventStudyParams.window,
                 reference_period: int = EventStudyParams.reference_period,
                 bin_endpoints: bool = EventStudyParams.bin_endpoints,
                 group_time_effects: bool = EventStudyParams.group_time_effects,
                 time_effects_by: str | None = EventStudyParams.time_effects_by,
                 df_correction: str = EventStudyParams.df_correction,
                 vcov: str = EventStudyParams.vcov,
                 cr2_df: str = EventStudyParams.cr2_df,
                 pretrend_test: str = EventStudyParams.pretrend_test,
                 min_users: int = EventStudyParams.min_users, alpha: float = EventStudyParams.alpha):
        self.control_group = control_group
        self.window = window
        self.reference_period = reference_period
        self.bin_endpoints = bin_endpoints
        self.group_time_effects = group_time_effects
        self.time_effects_by = time_effects_by
        self.df_correction = df_correction
        self.vcov = vcov
        self.cr2_df = cr2_df
        self.pretrend_test = pretrend_test
        self.min_users = min_users
        self.alpha = alpha

    # ----------------------------------------------------------------------------------------- shared
    def params(self) -> EventStudyParams:
        """The hyper-parameters, validated."""
        return EventStudyParams(estimator=self.name, control_group=self.control_group, window=tuple(self.window),
                                reference_period=self.reference_period, bin_endpoints=self.bin_endpoints,
                                group_time_effects=self.group_time_effects, time_effects_by=self.time_effects_by,
                                df_correction=self.df_correction, vcov=self.vcov, cr2_df=self.cr2_df,
                                pretrend_test=self.pretrend_test,
                                min_users=self.min_users, alpha=self.alpha)

    def _prepared_sets(self, panel, metric, *, group, weight_col, event_col, user_col, week_col):
        """Validate and code the panel once, then yield one :class:`EventPanel` per set of metrics observed on
        the same rows (each set is fitted together)."""
        metrics = [metric] if isinstance(metric, str) else list(metric)
        if not metrics:
            raise MobilityError("name at least one metric column")
        if isinstance(panel, EventPanel):  # prepared once by the caller (prepare_panel(..., groups=...))
            for what, asked, prepared in (("time_effects_by", self.time_effects_by, panel.strata_column),
                                          ("weight_col", weight_col, panel.weight_column)):
                if asked != prepared:
                    raise MobilityError(f"the prepared panel has {what} {prepared!r}, the fit asks for {asked!r}; "
                                        "prepare it with the same setting")
            ep = panel.grouped(group).columns(metrics)
        else:
            ep = prepare_panel(panel, metrics, event_col=event_col, user_col=user_col, week_col=week_col,
                               group=group, weight_col=weight_col, strata=self.time_effects_by, any_metric=True)
        sets: dict[bytes, list[int]] = {}  # the rows where a metric is observed, packed 8 to a byte
        for j in range(len(metrics)):
            sets.setdefault(np.packbits(np.isfinite(ep.outcome(j))).tobytes(), []).append(j)
        for key, columns in sets.items():
            rows = np.unpackbits(np.frombuffer(key, dtype=np.uint8), count=ep.n_rows).view(bool)
            sub = replace(ep.subset(rows, columns), n_dropped_missing=ep.n_dropped_missing + int((~rows).sum()))
            if not sub.treated.any():
                if isinstance(panel, pd.DataFrame) and panel[event_col].isna().all():
                    raise MobilityError(f"the panel has no job loser ({event_col} NaT on every row); nothing to "
                                        "estimate")
                weighted = f" and a positive {weight_col!r}" if weight_col else ""
                raise MobilityError(f"no job loser has a row with a non-missing {sub.metrics}{weighted} inside the "
                                    "panel; nothing to estimate")
            if self.control_group == "later":
                sub = sub.subset(sub.treated)
            elif sub.treated.all() and self.control_group == "never":
                raise MobilityError("every user loses their job: the event study needs employed controls "
                                    "(job_loss_week NaT), or control_group='later' or 'not_yet'")
            yield sub

    def _groups(self, ep: EventPanel) -> tuple[np.ndarray, list]:
        g_idx = np.where(ep.group_codes >= 0, ep.group_codes, 0).astype(np.int32)  # codes are stored narrow
        return g_idx, (list(ep.group_labels) if ep.group_labels else ["all"])

    @staticmethod
    def _n_groups(ep: EventPanel) -> int:
        """Number of groups of the labels, those left without rows included (a metric missing for a whole group,
        or ``later`` dropping a group's never-losers): ``g_idx.max() + 1`` would miss the last ones."""
        return len(ep.group_labels) if ep.group_labels else 1

    def _own_weeks(self, ep: EventPanel, p: EventStudyParams) -> bool:
        return bool(p.group_time_effects and ep.group_labels)

    def _keep_groups(self, ep: EventPanel, g_idx: np.ndarray, p: EventStudyParams, info: dict) -> np.ndarray:
        """Rows of groups with controls (never-losers; with ``not_yet`` or ``later`` any untreated row) when each
        group has its own week effects."""
        if not self._own_weeks(ep, p):
            return np.ones(ep.n_rows, dtype=bool)
        has_controls = np.bincount(g_idx[self._control_rows(ep, p)], minlength=len(ep.group_labels)) > 0
        info["groups_without_controls"] = [ep.group_labels[g] for g in np.flatnonzero(~has_controls)]
        return has_controls[g_idx]

    @staticmethod
    def _control_rows(ep: EventPanel, p: EventStudyParams) -> np.ndarray:
        """Rows that identify the calendar-week effects: never-losers' (``never``), or every untreated row."""
        return ~ep.treated if p.control_group == "never" else ~ep.treated | (ep.event_time < 0)

    def _time_codes(self, ep: EventPanel, g_idx: np.ndarray, p: EventStudyParams) -> np.ndarray:
        """Calendar-week codes, per group (own week effects) and per stratum (``time_effects_by``)."""
        codes = ep.week_codes
        n_weeks = int(codes.max()) + 1
        if ep.strata is not None:
            codes = ep.strata * n_weeks + codes
        if self._own_weeks(ep, p):
            codes = g_idx * (int(codes.max()) + 1) + codes
        return pd.factorize(codes)[0].astype(codes.dtype) if codes is not ep.week_codes else codes

    @staticmethod
    def _identified(cells: np.ndarray, time_codes: np.ndarray) -> np.ndarray:
        """Rows to keep: all but cell rows in a (group-)week without any untreated row."""
        n_t = int(time_codes.max()) + 1 if time_codes.size else 0
        untreated = np.bincount(time_codes[cells < 0], minlength=n_t)
        return (cells < 0) | (untreated[time_codes] > 0)

    def _event_terms(self, ep: EventPanel, g_idx: np.ndarray, p: EventStudyParams) -> np.ndarray:
        """Each row's term ``g * n_k + (k - lo)`` (binned endpoints), -1 for controls and rows outside."""
        lo, hi = p.window
        k = ep.event_time
        kb = np.clip(k, lo, hi) if p.bin_endpoints else k
        inside = ep.treated & (kb >= lo) & (kb <= hi)
        return np.where(inside, g_idx * (hi - lo + 1) + (kb - lo), -1)

    def _fit_cells(self, ep, keep, cells, specs, time_codes, g_idx, p, info, null_cells=None):
        """Drop unidentified rows, recode, fit once; returns the terms of each ``(cell_term, n_terms, signs)``
        spec (per original cell code) and the rows used. ``null_cells`` (bool per original cell code): the
        cells of the pre-trend test, for its score form (``pretrend_test="score"``)."""
        keep = keep.copy()
        rows = np.flatnonzero(keep)
        ok = self._identified(cells[rows], time_codes[rows])
        keep[rows[~ok]] = False
        info["n_dropped_unidentified"] = info.get("n_dropped_unidentified", 0) + int((~ok).sum())
        del rows, ok  # rows-long arrays are let go before the fit, which needs its own (10-20 MB each at 100k users)
        dense, uniques = renumbered(cells[keep])
        local = [(cell_term[uniques], n_terms, None if signs is None else signs[uniques])
                 for cell_term, n_terms, signs in specs]
        null = None if null_cells is None or p.pretrend_test != "score" else null_cells[uniques]
        joint = None
        if null_cells is not None and p.pretrend_test == "htz":  # each group's leads, tested jointly (HTZ)
            lo, hi = p.window
            n_k = hi - lo + 1
            t = np.arange(specs[0][1])
            joint = [np.flatnonzero((t // n_k == g) & (t % n_k + lo < 0)) for g in range(specs[0][1] // n_k)]
        options = dict(null_cells=null, vcov=p.vcov, joint=joint, cr2_df=p.cr2_df)
        if self._own_weeks(ep, p):  # each group's block is cut from the panel's rows: no copy of the fit's rows
            fit_cells = np.full(keep.shape[0], -1, dtype=dense.dtype)
            fit_cells[keep] = dense
            del dense
            terms = fit_terms(ep, fit_cells, local, time_codes, p.df_correction, info,
                              blocks=np.where(keep, g_idx, -1), **options)
        else:  # what fit_terms reads, not a copy of every row array
            terms = fit_terms(ep.fit_rows(keep), dense, local,
                              pd.factorize(time_codes[keep])[0].astype(time_codes.dtype), p.df_correction, info,
                              **options)
        return terms, keep

    # ----------------------------------------------------------------------------------------- fit
    def fit(self, panel: pd.DataFrame, metric: str | list[str], *, group: str | None = None,
            weight_col: str | None = None, event_col: str = "job_loss_week", user_col: str = "user_id",
            week_col: str = "week"):
        """Estimate the event-time path of ``metric`` (one per group) and its DiD summary; sets the ``*_``
        attributes (``did_``: :data:`DID_COLUMNS`).

        ``metric`` may name several columns: metrics observed on the same rows share one factorisation of
        the design; the tables stack them (``metric`` column) and ``info_`` maps each to its counts.
        """
        p = self.params()
        coefficients, pretrend, vcov, infos, did = [], [], {}, {}, []
        for ep in self._prepared_sets(panel, metric, group=group, weight_col=weight_col, event_col=event_col,
                                      user_col=user_col, week_col=week_col):
            metrics = ep.metrics
            g_idx, labels = self._groups(ep)
            lo, hi = p.window
            n_terms = len(labels) * (hi - lo + 1)
            info: dict = {"estimator": self.name, **p.to_dict(), "group": group, "weight_col": weight_col,
                          "n_dropped_missing_metric": ep.n_dropped_missing}
            terms, count_codes, reference, unbinned_leads, did_terms = self._estimate(ep, g_idx, p, n_terms, info)
            n_users, n_obs = count_users(count_codes, ep.user_codes, n_terms)
            did.append(self._did_table(ep, g_idx, labels, did_terms, p))
            info.update({"n_obs": terms.n_obs_fit, "n_clusters": terms.n_clusters,
                         "n_params_total": terms.n_params_total,
                         "n_treated_users": int(pd.unique(ep.user_codes[count_codes >= 0]).size),
                         "inference": f"t({terms.df})" if terms.df_terms is None else
                         "t(Satterthwaite df per term, CR2; column df)"})
            for j, m in enumerate(metrics):
                c, pre, v = self._tables(m, labels, terms, j, n_users, n_obs, reference, p, unbinned_leads)
                coefficients.append(c)
                pretrend.append(pre)
                vcov[m] = v
                infos[m] = {"metric": m, **info}
        order = [metric] if isinstance(metric, str) else list(metric)
        self.coefficients_ = pd.concat(coefficients, ignore_index=True)
        self.coefficients_ = self.coefficients_.iloc[np.argsort(
            self.coefficients_["metric"].map(order.index).to_numpy(), kind="stable")].reset_index(drop=True)
        self.pretrend_ = pd.concat(pretrend, ignore_index=True).sort_values(
            "metric", key=lambda s: s.map(order.index), kind="stable").reset_index(drop=True)
        self.did_ = pd.concat(did, ignore_index=True)
        self.did_ = self.did_.iloc[np.argsort(self.did_["metric"].map(order.index).to_numpy(),
                                              kind="stable")].reset_index(drop=True)
        single = isinstance(metric, str)
        self.vcov_ = vcov[metric] if single else vcov
        self.info_ = infos[metric] if single else infos
        return self

    def _tables(self, metric, labels, terms: Terms, j, n_users, n_obs, reference, p: EventStudyParams,
                unbinned_leads: bool):
        lo, hi = p.window
        n_k = hi - lo + 1
        est, cov = terms.estimate[j], terms.cov[j]
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        df = np.broadcast_to(np.asarray(terms.df_of_terms(), dtype=np.float64), est.shape)
        p_val, ci_lo, ci_hi = t_inference(est, se, df, alpha=p.alpha)
        rows, reported = [], []
        for t in range(len(labels) * n_k):
            g, k = divmod(t, n_k)
            k += lo
            is_ref = bool(reference[t])
            suppressed = not is_ref and (n_users[t] < p.min_users or not terms.estimable[t])
            if is_ref:
                vals, df_t = (0.0, np.nan, np.nan, np.nan, np.nan), np.nan
            elif suppressed:
                vals, df_t = (np.nan,) * 5, np.nan
            else:
                vals, df_t = (est[t], se[t], ci_lo[t], ci_hi[t], p_val[t]), float(df[t])
                reported.append(t)
            binned = p.bin_endpoints and not (unbinned_leads and k < 0)
            rows.append({"metric": metric, "group": labels[g], "term": term_label(k, p.window, binned),
                         "event_time": k, **dict(zip(("estimate", "std_error", "ci_low", "ci_high", "p_value"), vals)),
                         "n_users": int(n_users[t]), "n_obs": int(n_obs[t]), "suppressed": suppressed,
                         "reference": is_ref, "estimator": self.name, "control_group": p.control_group,
                         "df": df_t})
        coefficients = pd.DataFrame(rows, columns=list(COEFFICIENT_COLUMNS))
        names = [f"{labels[t // n_k]}|{coefficients.term.iloc[t]}" for t in reported]
        vcov = pd.DataFrame(cov[np.ix_(reported, reported)], index=names, columns=names)
        pre_rows = []
        pre_cov = cov if terms.cov_null is None else terms.cov_null[j]
        for g, label in enumerate(labels):
            leads = [t for t in reported if t // n_k == g and t % n_k + lo < 0]
            if p.pretrend_test == "htz" and leads:
                test = htz_test(est[leads], cov[np.ix_(leads, leads)], *terms.joint_moments(leads))
            else:
                test = wald_test(est[leads], pre_cov[np.ix_(leads, leads)], terms.df)
            pre_rows.append({"metric": metric, "group": label, **test, "n_leads": len(leads)})
        return coefficients, pd.DataFrame(pre_rows, columns=list(PRETREND_COLUMNS)), vcov

    def did(self, panel: pd.DataFrame, metric: str | list[str], **kwargs) -> pd.DataFrame:
        """Post-vs-pre effect of job loss on ``metric`` (one or several) per group: the table of
        :func:`~mobility.longitudinal.did.did_summary` (columns :data:`DID_COLUMNS`), from :meth:`fit`."""
        return self.fit(panel, metric, **kwargs).did_

    def _did_table(self, ep, g_idx, labels, terms: Terms, p: EventStudyParams) -> pd.DataFrame:
        lo, hi = p.window
        k = ep.event_time
        in_window = ep.treated & (k >= lo) & (k <= hi)
        n_groups = len(labels)
        n_pre = count_users(np.where(in_window & (k < 0), g_idx, -1), ep.user_codes, n_groups)[0]
        n_post = count_users(np.where(in_window & (k >= 0), g_idx, -1), ep.user_codes, n_groups)[0]
        n_controls = int(pd.unique(ep.user_codes[self._control_rows(ep, p)]).size)
        rows = []
        for j, m in enumerate(ep.metrics):
            se = np.sqrt(np.clip(np.diag(terms.cov[j]), 0.0, None))
            df = np.broadcast_to(np.asarray(terms.df_of_terms(), dtype=np.float64), se.shape)
            p_val, ci_lo, ci_hi = t_inference(terms.estimate[j], se, df, alpha=p.alpha)
            for g, label in enumerate(labels):
                suppressed = not terms.estimable[g] or min(n_pre[g], n_post[g]) < p.min_users
                vals = (np.nan,) * 5 if suppressed else (terms.estimate[j, g], se[g], ci_lo[g], ci_hi[g], p_val[g])
                rows.append({"metric": m, "group": label,
                             **dict(zip(("estimate", "std_error", "ci_low", "ci_high", "p_value"), vals)),
                             "n_users_pre": int(n_pre[g]), "n_users_post": int(n_post[g]),
                             "n_control_users": n_controls, "suppressed": bool(suppressed),
                             "estimator": self.name, "control_group": p.control_group,
                             "df": np.nan if suppressed else float(df[g])})
        return pd.DataFrame(rows, columns=list(DID_COLUMNS))

    @abstractmethod
    def _estimate(self, ep, g_idx, p, n_terms, info) -> tuple[Terms, np.ndarray, np.ndarray, bool, Terms]:
        """The event-time terms, each row's term for the counts (-1: not counted), the reference terms, whether
        leads are unbinned, and the DiD terms (one per group). Each estimator defines it."""

    def _reference(self, p: EventStudyParams, n_terms: int) -> np.ndarray:
        lo, hi = p.window
        return (np.arange(n_terms) % (hi - lo + 1)) + lo == p.reference_period


class TWFE(_CellEstimator):
    """Two-way fixed effects event study: one dummy per event week (and group), pooled over cohorts.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> weeks = pd.date_range("2020-01-06", periods=10, freq="7D")
    >>> rows = [(u, w, 10 + u % 7 + 0.1 * t - 2.0 * (u < 30 and t >= 5) + rng.normal(0, 0.1),
    ...          weeks[5] if u < 30 else pd.NaT) for u in range(60) for t, w in enumerate(weeks)]
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week"])
    >>> est = TWFE(window=(-3, 3)).fit(panel, "rg_km")
    >>> round(float(est.coefficients_.set_index("event_time").loc[2, "estimate"]), 1)
    -2.0
    """

    name = "twfe"

    def _estimate(self, ep, g_idx, p, n_terms, info):
        keep = self._keep_groups(ep, g_idx, p, info)
        term_codes = self._event_terms(ep, g_idx, p)
        outside = ep.treated & (term_codes < 0)
        info["n_dropped_outside_window"] = int(outside.sum())
        keep &= ~outside
        time_codes = self._time_codes(ep, g_idx, p)
        cells = np.where(keep & (term_codes >= 0) & (ep.event_time != p.reference_period), term_codes, -1)
        lo, hi = p.window
        (terms,), keep = self._fit_cells(ep, keep, cells, [(np.arange(n_terms), n_terms, None)], time_codes, g_idx,
                                         p, info, null_cells=np.arange(n_terms) % (hi - lo + 1) + lo < 0)
        did_cells, did_keep = self._did_cells(ep, g_idx, p, info)
        n_groups = self._n_groups(ep)
        (did,), _ = self._fit_cells(ep, did_keep, did_cells, [(np.arange(n_groups), n_groups, None)], time_codes,
                                    g_idx, p, {})
        return terms, np.where(keep, term_codes, -1), self._reference(p, n_terms), False, did

    def _did_cells(self, ep, g_idx, p, info):
        """The DiD's own regression: one post-loss dummy per group on the controls and the losers' rows inside
        the window; losers of a group without both pre and post rows (they would pose as controls) dropped."""
        lo, hi = p.window
        k = ep.event_time
        in_window = ep.treated & (k >= lo) & (k <= hi)
        post, pre = in_window & (k >= 0), in_window & (k < 0)
        n_g = self._n_groups(ep)
        both = (np.bincount(g_idx[post], minlength=n_g) > 0) & (np.bincount(g_idx[pre], minlength=n_g) > 0)
        keep = self._keep_groups(ep, g_idx, p, info) & (~ep.treated | (in_window & both[g_idx]))
        return np.where(keep & post, g_idx, -1), keep


class SunAbraham(_CellEstimator):
    """Sun & Abraham's interaction-weighted event study (module notes); ``control_group`` never, not yet or later.

    Examples
    --------
    Two cohorts losing their job in weeks 4 and 7 with effects -1 and -3 from the loss on: every lag is
    the cohort-share average of the two effects where both are observed.

    >>> weeks = pd.date_range("2020-01-06", periods=12, freq="7D")
    >>> def y(u, t):
    ...     cohort = 4 if u < 20 else 7 if u < 40 else None
    ...     effect = 0.0 if cohort is None or t < cohort else (-1.0 if cohort == 4 else -3.0)
    ...     return u % 5 + 0.3 * t + effect + 0.01 * ((u * 7 + t) % 3)
    >>> rows = [(u, w, y(u, t), weeks[4] if u < 20 else weeks[7] if u < 40 else pd.NaT)
    ...         for u in range(80) for t, w in enumerate(weeks)]
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week"])
    >>> c = SunAbraham(window=(-3, 4)).fit(panel, "rg_km").coefficients_.set_index("event_time")
    >>> round(float(c.loc[2, "estimate"]), 2), round(float(c.loc[-2, "estimate"]), 2)
    (-2.0, 0.0)
    """

    name = "sun_abraham"

    def _estimate(self, ep, g_idx, p, n_terms, info):
        lo, hi = p.window
        term_codes = self._event_terms(ep, g_idx, p)
        cells, keep = self.cells(ep, g_idx, p, term_codes, info)
        n_cells = int(cells.max()) + 1
        rows = cells >= 0
        cell_term = np.full(n_cells, -1, dtype=np.int64)
        cell_term[cells[rows]] = term_codes[rows]
        # the DiD summary from the same cells: post-loss cells of the window minus (never) its pre-loss ones
        k = ep.event_time
        in_did = (k >= lo) & (k <= hi) & ((k >= 0) | (p.control_group == "never"))
        did_term = np.full(n_cells, -1, dtype=np.int64)
        did_term[cells[rows & in_did]] = g_idx[rows & in_did]
        did_sign = np.ones(n_cells)
        did_sign[cells[rows]] = np.where(k[rows] >= 0, 1.0, -1.0)
        n_groups = self._n_groups(ep)
        time_codes = self._time_codes(ep, g_idx, p)
        null_cells = np.zeros(n_cells, dtype=bool)
        null_cells[cells[rows]] = k[rows] < 0  # the leads (none with not_yet: its test is _bjs_leads)
        (terms, did), keep = self._fit_cells(ep, keep, cells, [(cell_term, n_terms, None),
                                                               (did_term, n_groups, did_sign)],
                                             time_codes, g_idx, p, info, null_cells=null_cells)
        info["n_cells"] = n_cells
        info["n_cohorts"] = int(pd.unique(ep.cohort[keep & ep.treated]).size)
        if p.control_group == "never":
            return terms, np.where(keep, term_codes, -1), self._reference(p, n_terms), False, did
        leads, lead_codes = self._bjs_leads(ep, g_idx, p, keep, n_terms, time_codes, info)
        is_lead = (np.arange(n_terms) % (hi - lo + 1)) + lo < 0
        cov = np.full_like(terms.cov, np.nan)
        cov[np.ix_(np.ones(cov.shape[0], bool), is_lead, is_lead)] = leads.cov[:, is_lead][:, :, is_lead]
        cov[np.ix_(np.ones(cov.shape[0], bool), ~is_lead, ~is_lead)] = terms.cov[:, ~is_lead][:, :, ~is_lead]
        merged = replace(terms, estimate=np.where(is_lead, leads.estimate, terms.estimate), cov=cov,
                         estimable=np.where(is_lead, leads.estimable, terms.estimable), cov_null=leads.cov_null,
                         df_terms=None if terms.df_terms is None else np.where(is_lead, leads.df_terms, terms.df_terms),
                         joint=leads.joint)
        info["pretrend_test"] = "untreated rows only, one dummy per lead (Borusyak, Jaravel & Spiess 2024, test 1)"
        counts = np.where(ep.event_time < 0, lead_codes, np.where(keep, term_codes, -1))
        return merged, counts, np.zeros(n_terms, dtype=bool), True, did

    def cells(self, ep, g_idx, p, term_codes, info) -> tuple[np.ndarray, np.ndarray]:
        """Each row's cohort x event-week (x group) cell (-1: none) and the rows kept.

        ``never``: every event week but the reference has cells; ``not_yet``: event weeks >= 0. Rows beyond
        the window are dropped unless endpoints are binned (weeks before a loss always stay with
        ``not_yet``: they are controls); cohorts without an anchor row (the reference week, or any week
        before the loss) are dropped.
        """
        k = ep.event_time
        keep = self._keep_groups(ep, g_idx, p, info)
        if p.control_group == "never":
            outside = ep.treated & (term_codes < 0)
            has_cell = ep.treated & (k != p.reference_period)
            anchor = ep.treated & (k == p.reference_period)
        else:
            outside = ep.treated & (term_codes < 0) & (k >= 0)
            has_cell = ep.treated & (k >= 0)
            anchor = ep.treated & (k < 0)
        info["n_dropped_outside_window"] = int(outside.sum())
        keep &= ~outside
        cohort_key = dense_codes(g_idx, ep.cohort, mask=ep.treated)
        anchored = np.bincount(cohort_key[keep & anchor], minlength=int(cohort_key.max()) + 1) > 0
        ok = ~ep.treated | anchored[np.maximum(cohort_key, 0)]
        info["n_users_dropped_unanchored_cohort"] = int(pd.unique(ep.user_codes[keep & ~ok]).size)
        keep &= ok
        return dense_codes(g_idx, ep.cohort, k, mask=keep & has_cell), keep

    def _bjs_leads(self, ep, g_idx, p, keep, n_terms, time_codes, info) -> tuple[Terms, np.ndarray]:
        """Leads from the untreated rows: one dummy per lead in ``[window[0], -1]`` per group, against the
        losers' earlier weeks and the never-losers; and each row's lead term for the counts."""
        lo, hi = p.window
        k = ep.event_time
        untreated = keep & (~ep.treated | (k < 0))
        # a group's leads need earlier untreated weeks of its losers (else they are collinear with the persons)
        earlier = np.bincount(g_idx[untreated & ep.treated & (k < lo)], minlength=self._n_groups(ep)) > 0
        info["groups_without_lead_baseline"] = int((~earlier).sum())
        lead = untreated & ep.treated & (k >= lo) & earlier[g_idx]
        lead_codes = np.where(lead, g_idx * (hi - lo + 1) + (k - lo), -1)
        (terms,), used = self._fit_cells(ep, untreated, lead_codes, [(np.arange(n_terms), n_terms, None)],
                                         time_codes, g_idx, p, info, null_cells=np.ones(n_terms, dtype=bool))
        return terms, np.where(used, lead_codes, -1)


ESTIMATOR_CLASSES = {"sun_abraham": SunAbraham, "twfe": TWFE}


def make_estimator(estimator: str, **hyper) -> _CellEstimator:
    """The estimator object named ``estimator`` with hyper-parameters ``hyper`` (validated at ``fit``)."""
    if estimator not in ESTIMATOR_CLASSES:
        raise MobilityError(f"estimator={estimator!r} is not one of {sorted(ESTIMATOR_CLASSES)}")
    return ESTIMATOR_CLASSES[estimator](**hyper)
