"""Event study of a weekly mobility metric around job loss (frame layer).

Model (method.md section 2.9), for person ``i`` in calendar week ``t`` with event time
``k = t - E_i`` (weeks since the job loss week ``E_i``)::

    y_it = a_i + g_t + sum_{k in window, k != ref} sum_g b_{k,g} 1[K_it = k] 1[G_i = g] + e_it

``a_i`` person and ``g_t`` calendar-week fixed effects (absorbed exactly, see
:mod:`mobility.longitudinal.fixed_effects`), ``ref`` the omitted reference period (default -1), endpoints
binned (``k <= first`` and ``k >= last`` pooled) by default. Never-losers (controls) have all dummies zero
and identify the week effects. Without a group column there is one group, ``"all"``. Standard errors are
clustered by person with the CR1 correction of a dummy-variable regression (``df_correction="dummies"``:
``K`` counts the person and week effects, matching statsmodels ``OLS(...).fit(cov_type="cluster")`` on
explicit dummies) or of ``reghdfe`` (``"nested"``: person effects, nested in the person clusters, are not
counted). Intervals and p-values use t(G-1).

Privacy: a coefficient whose cell (event time x group) has fewer than ``min_users`` distinct job losers is
estimated but not reported (estimate and interval NaN, ``suppressed=True``); ``n_users`` is reported.

Coefficient table columns
-------------------------
``metric, group, term, event_time, estimate, std_error, ci_low, ci_high, p_value, n_users, n_obs,
suppressed, reference``: ``term`` is e.g. ``"k=3"``, ``"k<=-4"`` or ``"k>=12"`` for binned endpoints;
the reference period is a row with estimate 0 and ``reference=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mobility.errors import MobilityError
from mobility.longitudinal.cluster_ols import (
    ClusterFit,
    cluster_ols,
    t_inference,
    wald_test,
)
from mobility.longitudinal.fixed_effects import two_way_demean
from mobility.longitudinal.panel import (
    EventPanel,
    check_alpha,
    check_min_users,
    prepare_panel,
)

COEFFICIENT_COLUMNS = (
    "metric", "group", "term", "event_time", "estimate", "std_error", "ci_low", "ci_high", "p_value",
    "n_users", "n_obs", "suppressed", "reference",
)
PRETREND_COLUMNS = ("metric", "group", "f_stat", "df_num", "df_den", "p_value", "n_leads")
DF_CORRECTIONS = ("dummies", "nested")


@dataclass
class EventStudyResult:
    """Output of :func:`event_study`.

    Attributes
    ----------
    coefficients : DataFrame
        Tidy table, columns :data:`COEFFICIENT_COLUMNS`, one row per group and event time.
    pretrend : DataFrame
        Joint F test per group that all reported leads (``k < 0``, reference excluded) are zero;
        columns :data:`PRETREND_COLUMNS`.
    vcov : DataFrame
        Cluster-robust covariance of the reported (unsuppressed) coefficients, indexed by ``group|term``.
    info : dict
        Sample sizes (observations, users, job losers, clusters, dropped rows) and every parameter used.
    """

    coefficients: pd.DataFrame
    pretrend: pd.DataFrame
    vcov: pd.DataFrame
    info: dict = field(default_factory=dict)


def term_label(k: int, window: tuple[int, int], bin_endpoints: bool) -> str:
    """Name of the event-time coefficient ``k`` (``"k<=-4"`` for a binned first period).

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


def fit_cells(
    ep: EventPanel, cell_codes: np.ndarray, n_cells: int, df_correction: str = "dummies"
) -> tuple[ClusterFit, np.ndarray, np.ndarray]:
    """Regress the outcome on one dummy per cell with two-way fixed effects, clustered by user.

    ``cell_codes`` gives each row's cell ``0..n_cells-1`` (-1: no dummy, e.g. controls and the reference
    period). Returns the fit and, per cell, the distinct users and the observations in it. Every cell
    must hold at least one row.

    Examples
    --------
    >>> ep = EventPanel(y=np.array([1.0, 2.0, 1.0, 5.0, 0.0, 1.0]), user_codes=np.array([0, 0, 1, 1, 2, 2]),
    ...                 week_codes=np.array([0, 1, 0, 1, 0, 1]), event_time=np.zeros(6, dtype=np.int64),
    ...                 group_codes=-np.ones(6, dtype=np.int64))
    >>> fit, users, obs = fit_cells(ep, np.array([-1, -1, -1, 0, -1, -1]), 1)
    >>> round(float(fit.params[0]), 6), users.tolist()  # (5 - 1) - mean of the controls' change (1, 1)
    (3.0, [1])
    """
    n = ep.y.shape[0]
    x = np.zeros((n, n_cells))
    rows = np.flatnonzero(cell_codes >= 0)
    x[rows, cell_codes[rows]] = 1.0
    n_obs = np.bincount(cell_codes[rows], minlength=n_cells)
    pairs = np.unique(cell_codes[rows] * (ep.n_users + 1) + ep.user_codes[rows])
    n_users = np.bincount(pairs // (ep.n_users + 1), minlength=n_cells)
    if np.any(n_obs == 0):
        raise MobilityError("fit_cells: every cell needs at least one observation")
    demeaned, absorbed = two_way_demean(np.column_stack([ep.y, x]), ep.user_codes, ep.week_codes, ep.weights)
    if df_correction == "nested":
        absorbed -= ep.n_users
    fit = cluster_ols(demeaned[:, 1:], demeaned[:, 0], ep.user_codes, ep.weights, absorbed_df=absorbed)
    return fit, n_users, n_obs


def event_study(
    panel: pd.DataFrame,
    metric: str,
    *,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
    window: tuple[int, int] = (-4, 12),
    reference_period: int = -1,
    bin_endpoints: bool = True,
    group: str | None = None,
    weight_col: str | None = None,
    min_users: int = 10,
    alpha: float = 0.05,
    df_correction: str = "dummies",
) -> EventStudyResult:
    """Estimate event-time effects of job loss on ``metric``, optionally one path per group.

    Parameters
    ----------
    panel : DataFrame
        User-week panel (see :mod:`mobility.longitudinal.panel` for the contract).
    metric : str
        Outcome column, e.g. ``"radius_of_gyration_km"``.
    event_col, user_col, week_col : str
        Column names of the job-loss week (NaT for controls), user id and week start (Monday).
    window : (int, int)
        First and last event week estimated, e.g. ``(-4, 12)``: 4 leads (pre-trend test) and 12 weeks after.
    reference_period : int
        The omitted event week, the baseline every coefficient is relative to (default -1).
    bin_endpoints : bool
        Pool event weeks beyond the window into its endpoints (True) or drop those rows (False).
    group : str, optional
        Column with one category per user: estimates one path per category (interactions of event time
        with the group), sharing person and week effects.
    weight_col : str, optional
        Regression weights per row (e.g. ``weight`` from :func:`~mobility.longitudinal.matching.match_controls`).
    min_users : int
        Privacy threshold k: cells with fewer distinct job losers are suppressed (default 10).
    alpha : float
        1 - confidence level of the intervals (default 0.05: 95% intervals).
    df_correction : {"dummies", "nested"}
        Count the absorbed fixed effects in the CR1 factor like a dummy regression, or not the person ones.

    Returns
    -------
    EventStudyResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> weeks = pd.date_range("2020-01-06", periods=10, freq="7D")
    >>> rows = []
    >>> for u in range(60):
    ...     loss = weeks[5] if u < 30 else pd.NaT
    ...     for t, w in enumerate(weeks):
    ...         effect = -2.0 if (u < 30 and t >= 5) else 0.0
    ...         rows.append((u, w, 10 + u % 7 + 0.1 * t + effect + rng.normal(0, 0.1), loss))
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week"])
    >>> res = event_study(panel, "rg_km", window=(-3, 3))
    >>> round(float(res.coefficients.set_index("event_time").loc[2, "estimate"]), 1)
    -2.0
    """
    min_users = check_min_users(min_users)
    alpha = check_alpha(alpha)
    if df_correction not in DF_CORRECTIONS:
        raise MobilityError(f"df_correction must be one of {DF_CORRECTIONS}, got {df_correction!r}")
    ep = prepare_panel(
        panel, metric, event_col=event_col, user_col=user_col, week_col=week_col, window=window,
        reference_period=reference_period, bin_endpoints=bin_endpoints, group=group, weight_col=weight_col,
    )
    if not ep.treated.any():
        raise MobilityError(f"no job loser has a non-missing {metric!r} inside the panel; nothing to estimate")
    if ep.treated.all():
        raise MobilityError(
            "every user loses their job: the event study needs employed controls (job_loss_week NaT)"
        )
    lo, hi = int(window[0]), int(window[1])
    groups = list(range(len(ep.group_labels))) if group else [-1]
    labels = ep.group_labels if group else ["all"]
    event_times = [k for k in range(lo, hi + 1)]
    all_cells = [(k, g) for g in groups for k in event_times]
    # Each row's cell among all (event time, group) cells; cells without rows have no variation and
    # are left out of the regression, as is the reference period.
    g_idx = np.where(ep.group_codes >= 0, ep.group_codes, 0)
    all_code = np.where(ep.treated, g_idx * len(event_times) + (ep.event_time - lo), -1)
    cell_users = np.zeros(len(all_cells), dtype=np.int64)
    cell_obs = np.bincount(all_code[all_code >= 0], minlength=len(all_cells))
    pairs = np.unique(all_code[all_code >= 0] * (ep.n_users + 1) + ep.user_codes[all_code >= 0])
    cell_users += np.bincount(pairs // (ep.n_users + 1), minlength=len(all_cells))
    fit_cells_list = [c for j, c in enumerate(all_cells) if c[0] != reference_period and cell_obs[j] > 0]
    remap = np.full(len(all_cells) + 1, -1, dtype=np.int64)
    for j_fit, (k, g) in enumerate(fit_cells_list):
        remap[max(g, 0) * len(event_times) + (k - lo)] = j_fit
    fit, users_fit, obs_fit = fit_cells(ep, remap[all_code], len(fit_cells_list), df_correction)
    se = fit.std_errors
    p_val, ci_lo, ci_hi = t_inference(fit.params, se, fit.df_inference, alpha=alpha)
    by_cell = {c: j for j, c in enumerate(fit_cells_list)}

    rows = []
    for j_all, (k, g) in enumerate(all_cells):
        n_u, n_o = int(cell_users[j_all]), int(cell_obs[j_all])
        label = labels[g] if g >= 0 else "all"
        row = {"metric": metric, "group": label, "term": term_label(k, (lo, hi), bin_endpoints), "event_time": k,
               "n_users": n_u, "n_obs": n_o, "reference": k == reference_period}
        suppressed = n_u < min_users
        if k == reference_period:
            vals = (0.0, np.nan, np.nan, np.nan, np.nan)
            suppressed = False
        elif (k, g) in by_cell and not suppressed:
            j = by_cell[(k, g)]
            vals = (fit.params[j], se[j], ci_lo[j], ci_hi[j], p_val[j])
        else:
            vals = (np.nan,) * 5
            suppressed = True
        row.update(zip(("estimate", "std_error", "ci_low", "ci_high", "p_value"), vals))
        row["suppressed"] = suppressed
        rows.append(row)
    coefficients = pd.DataFrame(rows, columns=list(COEFFICIENT_COLUMNS))

    reported = [j for j, (k, g) in enumerate(fit_cells_list) if users_fit[j] >= min_users]
    names = [f"{labels[g] if g >= 0 else 'all'}|{term_label(k, (lo, hi), bin_endpoints)}" for (k, g) in fit_cells_list]
    vcov = pd.DataFrame(
        fit.cov[np.ix_(reported, reported)], index=[names[j] for j in reported], columns=[names[j] for j in reported]
    )
    pre_rows = []
    for g in groups:
        leads = [j for j in reported if fit_cells_list[j][1] == g and fit_cells_list[j][0] < 0]
        test = wald_test(fit.params[leads], fit.cov[np.ix_(leads, leads)], fit.df_inference)
        pre_rows.append({"metric": metric, "group": labels[g] if g >= 0 else "all", **test, "n_leads": len(leads)})
    pretrend = pd.DataFrame(pre_rows, columns=list(PRETREND_COLUMNS))
    info = {
        "metric": metric,
        "n_obs": fit.n_obs,
        "n_users": ep.n_users,
        "n_treated_users": int(np.unique(ep.user_codes[ep.treated]).size),
        "n_clusters": fit.n_clusters,
        "n_params_total": fit.n_params_total,
        "n_dropped_missing_metric": ep.n_dropped_missing,
        "n_dropped_outside_window": ep.n_dropped_window,
        "window": [lo, hi],
        "reference_period": reference_period,
        "bin_endpoints": bin_endpoints,
        "group": group,
        "weight_col": weight_col,
        "min_users": min_users,
        "alpha": alpha,
        "df_correction": df_correction,
        "inference": f"t({fit.df_inference})",
    }
    return EventStudyResult(coefficients, pretrend, vcov, info)
