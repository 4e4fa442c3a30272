"""Heterogeneity of job-loss effects by demographic group, with uncertain group membership (frame layer).

Group membership of a user is known only as probabilities (census shares at the work or home block
group, :func:`mobility.census.groups.assign_groups`). Two ways to use them:

``modal``
    one category per user (the most probable): one event study with event time x group interactions.
``draws``
    ``M`` random draws of each user's category (``assign_groups(..., method="draws")``: columns
    ``user_id, draw, <dimension>``); the event study is run once per draw and the ``M`` results are
    combined with Rubin's rules: estimate ``Qbar = mean_m Q_m``, variance ``T = Ubar + (1 + 1/M) B`` with
    ``Ubar`` the mean within-draw variance and ``B`` the between-draw variance, and the Barnard-Rubin
    (1999) degrees of freedom (complete-data df ``G - 1``). The joint pre-trend test uses the ``D1``
    statistic of Li, Raghunathan and Rubin (1991).

Suppression (cells with fewer than ``min_users`` job losers) uses the smallest count over the draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.longitudinal.cluster_ols import independent_terms, t_inference
from mobility.longitudinal.did import combine_did_draws
from mobility.longitudinal.event_study import (
    COEFFICIENT_COLUMNS,
    PRETREND_COLUMNS,
    event_study,
)
from mobility.longitudinal.panel import EventPanel
from mobility.longitudinal.params import check_alpha, check_min_users


@dataclass
class HeterogeneityResult:
    """Output of :func:`heterogeneity`: coefficient, pre-trend and DiD-summary tables with a ``dimension``
    column."""

    coefficients: pd.DataFrame
    pretrend: pd.DataFrame
    info: dict = field(default_factory=dict)
    did: pd.DataFrame | None = None


def rubin_combine(
    estimates: np.ndarray, variances: np.ndarray, df_complete: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine ``M`` estimates (rows) of each parameter (columns) with Rubin's rules.

    Returns the pooled estimate, its standard error ``sqrt(Ubar + (1 + 1/M) B)`` and the Barnard-Rubin
    degrees of freedom. With ``M = 1`` the single estimate is returned with ``df_complete``.

    Examples
    --------
    >>> est, se, df = rubin_combine(np.array([[1.0], [3.0]]), np.array([[1.0], [1.0]]), 1e12)
    >>> float(est[0]), float(se[0] ** 2)  # Ubar = 1, B = 2, T = 1 + 1.5 * 2
    (2.0, 4.0)
    """
    q = np.atleast_2d(np.asarray(estimates, dtype=np.float64))
    u = np.atleast_2d(np.asarray(variances, dtype=np.float64))
    m = q.shape[0]
    qbar = q.mean(axis=0)
    ubar = u.mean(axis=0)
    if m == 1:
        return qbar, np.sqrt(ubar), np.full(qbar.shape, float(df_complete))
    b = q.var(axis=0, ddof=1)
    total = ubar + (1.0 + 1.0 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(total > 0, (1.0 + 1.0 / m) * b / total, 0.0)
        df_old = np.where(lam > 0, (m - 1) / lam**2, np.inf)
    df_obs = (df_complete + 1.0) / (df_complete + 3.0) * df_complete * (1.0 - lam)
    finite_old = np.where(np.isinf(df_old), 1.0, df_old)
    df = np.where(np.isinf(df_old), df_obs, finite_old * df_obs / (finite_old + df_obs))
    return qbar, np.sqrt(total), df


def rubin_wald(estimates: list[np.ndarray], covs: list[np.ndarray]) -> dict[str, float]:
    """Joint test that a parameter vector is zero over ``M`` draws: the ``D1`` statistic (Li et al. 1991).

    Examples
    --------
    >>> out = rubin_wald([np.array([1.0, 0.0]), np.array([1.0, 0.0])], [np.eye(2), np.eye(2)])
    >>> round(out["f_stat"], 6)  # no between-draw variance: the plain Wald F = 1 / 2
    0.5

    A singular mean within-draw covariance tests the terms it can tell apart
    (:func:`~mobility.longitudinal.cluster_ols.independent_terms`), ``df_num`` their number.
    """
    m = len(estimates)
    q = np.asarray(estimates, dtype=np.float64)
    ubar = np.mean(covs, axis=0) if len(covs) else np.zeros((q.shape[1],) * 2)
    keep = independent_terms(ubar)  # a singular within-draw covariance: the terms it can tell apart
    q, ubar = q[:, keep], ubar[np.ix_(keep, keep)]
    k = q.shape[1]
    if k == 0:
        return {"f_stat": float("nan"), "df_num": 0.0, "df_den": float("nan"), "p_value": float("nan")}
    qbar = q.mean(axis=0)
    b = np.cov(q, rowvar=False, ddof=1).reshape(k, k) if m > 1 else np.zeros((k, k))
    r = (1.0 + 1.0 / m) * np.trace(b @ np.linalg.inv(ubar)) / k
    r = float(r)
    d1 = float(qbar @ np.linalg.solve(ubar, qbar)) / (k * (1.0 + r))
    t = k * (m - 1)
    if r <= 0 or m == 1:
        df_den = np.inf
    elif t > 4:
        df_den = 4.0 + (t - 4.0) * (1.0 + (1.0 - 2.0 / t) / r) ** 2
    else:
        df_den = t * (1.0 + 1.0 / k) * (1.0 + r) ** 2 / 2.0
    p = float(stats.chi2.sf(d1 * k, k)) if np.isinf(df_den) else float(stats.f.sf(d1, k, df_den))
    return {"f_stat": d1, "df_num": float(k), "df_den": float(df_den), "p_value": p}


def _draws_for(draws, dimension: str, user_col: str, draw_col: str) -> pd.DataFrame:
    table = draws[dimension] if isinstance(draws, dict) else draws
    require_columns(table, (user_col, draw_col, dimension), f"draws for {dimension!r}", "expected the output of "
                    f"assign_groups(features, {dimension!r}, method='draws'): {user_col}, {draw_col}, {dimension}")
    table = table[[user_col, draw_col, dimension]]
    if table.duplicated([user_col, draw_col]).any():
        raise MobilityError(f"draws for {dimension!r} have more than one row per ({user_col}, {draw_col})")
    return table


def heterogeneity(
    panel: pd.DataFrame,
    metric: str | list[str],
    dimensions: str | list[str],
    *,
    draws: pd.DataFrame | dict[str, pd.DataFrame] | None = None,
    user_col: str = "user_id",
    draw_col: str = "draw",
    min_users: int = 10,
    alpha: float = 0.05,
    **event_study_kwargs,
) -> HeterogeneityResult:
    """Event-study paths of ``metric`` per category of each demographic dimension.

    Parameters
    ----------
    panel : DataFrame or EventPanel
        User-week panel; with ``draws=None`` it holds one column per dimension (modal category per user), or
        is that panel prepared once with ``groups=dimensions``
        (:func:`~mobility.longitudinal.panel.prepare_panel`; not with ``draws``).
    metric : str or list of str
        Outcome column(s).
    dimensions : str or list of str
        Group dimensions, e.g. ``["sex", "age_group"]``.
    draws : DataFrame or dict of DataFrame, optional
        Long tables ``user_id, draw, <dimension>`` (one per dimension, or one holding all dimension
        columns); the results of the draws are combined with Rubin's rules.
    min_users, alpha :
        Privacy threshold k and 1 - confidence level.
    **event_study_kwargs :
        Passed to :func:`~mobility.longitudinal.event_study.event_study` (``estimator``, ``control_group``,
        ``window``, ``group_time_effects`` (default True: each group's losers against the same group's
        never-losers, with its own calendar-week effects), ...).

    Returns
    -------
    HeterogeneityResult
        ``coefficients``: :data:`~mobility.longitudinal.event_study.COEFFICIENT_COLUMNS` plus
        ``dimension`` and ``n_draws``; ``pretrend`` per dimension and group.

    Examples
    --------
    >>> weeks = pd.date_range("2020-01-06", periods=8, freq="7D")
    >>> rows = [(u, w, (u % 5) + 0.2 * t + (-1.0 - (u % 2)) * (u < 40 and t >= 4) + 0.05 * ((u * 7 + t) % 3),
    ...          weeks[4] if u < 40 else pd.NaT, "a" if u % 2 else "b")
    ...         for u in range(80) for t, w in enumerate(weeks)]
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week", "sex"])
    >>> res = heterogeneity(panel, "rg_km", "sex", window=(-3, 3))
    >>> c = res.coefficients.query("event_time == 1").set_index("group")["estimate"].round(1)
    >>> c.to_dict()
    {'a': -2.0, 'b': -1.0}
    """
    min_users = check_min_users(min_users)
    alpha = check_alpha(alpha)
    dims = [dimensions] if isinstance(dimensions, str) else list(dimensions)
    if not dims:
        raise MobilityError("heterogeneity needs at least one dimension, e.g. dimensions=['sex']")
    if draws is not None and isinstance(panel, EventPanel):
        raise MobilityError("group draws are merged into the panel frame: pass the frame, not a prepared panel")
    coef_tables, pre_tables, did_tables = [], [], []
    for dim in dims:
        if draws is None:
            res = event_study(panel, metric, group=dim, user_col=user_col, min_users=min_users, alpha=alpha,
                              **event_study_kwargs)
            coef_tables.append(res.coefficients.assign(dimension=dim, n_draws=0))
            pre_tables.append(res.pretrend.assign(dimension=dim, n_draws=0))
            did_tables.append(res.did.assign(dimension=dim))
            continue
        table = _draws_for(draws, dim, user_col, draw_col)
        base = panel.drop(columns=[dim], errors="ignore")
        for one_metric in ([metric] if isinstance(metric, str) else list(metric)):
            results = []
            for _, one in table.groupby(draw_col, sort=True):
                merged = base.merge(one[[user_col, dim]], on=user_col, how="left", validate="many_to_one")
                results.append(event_study(merged, one_metric, group=dim, user_col=user_col, min_users=1,
                                           alpha=alpha, **event_study_kwargs))
            coef, pre = _combine(results, one_metric, min_users, alpha)
            coef_tables.append(coef.assign(dimension=dim))
            pre_tables.append(pre.assign(dimension=dim))
            did_tables.append(combine_did_draws([r.did for r in results], [r.info["n_clusters"] - 1 for r in results],
                                                min_users=min_users, alpha=alpha).assign(dimension=dim))
    coefficients = pd.concat(coef_tables, ignore_index=True)
    pretrend = pd.concat(pre_tables, ignore_index=True)
    coefficients = coefficients[["dimension", *COEFFICIENT_COLUMNS, "n_draws"]]
    pretrend = pretrend[["dimension", *PRETREND_COLUMNS, "n_draws"]]
    return HeterogeneityResult(coefficients, pretrend, {"dimensions": dims, "draws": draws is not None,
                                                        "min_users": min_users, "alpha": alpha, **event_study_kwargs},
                               pd.concat(did_tables, ignore_index=True))


def _combine(results, metric: str, min_users: int, alpha: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rubin-combine per-draw event studies (run with min_users=1) and suppress small cells."""
    m = len(results)
    keys = ["group", "event_time"]
    stacked = pd.concat([r.coefficients.assign(_draw=i) for i, r in enumerate(results)], ignore_index=True)
    rows = []
    for (group, k), cell in stacked.groupby(keys, sort=True):
        first = cell.iloc[0]
        row = {c: first[c] for c in ("metric", "group", "term", "event_time", "reference", "estimator", "control_group")}
        row["n_users"] = int(cell.n_users.min()) if len(cell) == m else 0
        row["n_obs"] = int(cell.n_obs.min()) if len(cell) == m else 0
        row["n_draws"] = m
        ok = cell.estimate.notna()
        if first.reference:
            row.update(estimate=0.0, std_error=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan, suppressed=False,
                       df=np.nan)
        elif len(cell) < m or not ok.all() or row["n_users"] < min_users:
            row.update(estimate=np.nan, std_error=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan, suppressed=True,
                       df=np.nan)
        else:
            # complete-data df: the smallest over the draws of the df each fit gave the term (G - 1 under CR1 or
            # where CR2 took G - 1, else its Satterthwaite df)
            complete = float(cell["df"].min())
            est, se, df = rubin_combine(cell.estimate.to_numpy()[:, None], (cell.std_error.to_numpy() ** 2)[:, None],
                                        complete)
            p, lo, hi = t_inference(est, se, df, alpha=alpha)
            row.update(estimate=est[0], std_error=se[0], ci_low=lo[0], ci_high=hi[0], p_value=p[0], suppressed=False,
                       df=float(np.asarray(df).ravel()[0]))
        rows.append(row)
    coef = pd.DataFrame(rows)[list(COEFFICIENT_COLUMNS) + ["n_draws"]]

    pre_rows = []
    for group in coef.group.unique():
        leads = coef[(coef.group == group) & (coef.event_time < 0) & ~coef.reference & ~coef.suppressed]
        names = [f"{group}|{t}" for t in leads.term]
        if any(not set(names) <= set(r.vcov.index) for r in results):
            names = []
        vecs, covs = [], []
        for r in results:
            c = r.coefficients.set_index(["group", "term"])
            vecs.append(np.array([c.loc[(group, n.split("|", 1)[1]), "estimate"] for n in names]))
            covs.append(r.vcov.loc[names, names].to_numpy())
        test = rubin_wald(vecs, covs)
        pre_rows.append({"metric": metric, "group": group, **test, "n_leads": len(names), "n_draws": m})
    return coef, pd.DataFrame(pre_rows)
