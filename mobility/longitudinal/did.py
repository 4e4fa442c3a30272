"""Difference-in-differences summary per group: job losers vs controls, after vs before the loss (frame layer).

For each group ``g`` (or all users) the two-way fixed-effects DiD::

    y_it = a_i + g_t + sum_g d_g 1[K_it >= 0] 1[G_i = g] + e_it

on the rows of controls and of job losers inside the event window (``window[0] <= k <= window[1]``;
rows of losers outside it are dropped). ``d_g`` is the mean change of the metric after job loss relative
to the pre-loss weeks of the window, net of the controls' calendar-week changes. Errors are clustered by
user (CR1, t(G-1)); see :mod:`mobility.longitudinal.event_study` for the conventions.

Table columns
-------------
``metric, group, estimate, std_error, ci_low, ci_high, p_value, n_users_pre, n_users_post,
n_control_users, suppressed``: ``n_users_pre``/``n_users_post`` count distinct job losers with pre/post
rows; a group with fewer than ``min_users`` in either is suppressed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.errors import MobilityError
from mobility.longitudinal.cluster_ols import t_inference
from mobility.longitudinal.event_study import DF_CORRECTIONS, fit_cells
from mobility.longitudinal.panel import check_alpha, check_min_users, prepare_panel

DID_COLUMNS = (
    "metric", "group", "estimate", "std_error", "ci_low", "ci_high", "p_value",
    "n_users_pre", "n_users_post", "n_control_users", "suppressed",
)


def did_summary(
    panel: pd.DataFrame,
    metric: str,
    *,
    group: str | None = None,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
    window: tuple[int, int] = (-4, 12),
    weight_col: str | None = None,
    min_users: int = 10,
    alpha: float = 0.05,
    df_correction: str = "dummies",
    draws: pd.DataFrame | None = None,
    draw_col: str = "draw",
) -> pd.DataFrame:
    """Post-vs-pre, losers-vs-controls effect of job loss on ``metric``, per group, with confidence intervals.

    Parameters are those of :func:`~mobility.longitudinal.event_study.event_study`; ``window`` selects the
    losers' pre (``window[0]..-1``) and post (``0..window[1]``) weeks. With ``draws`` (a long table
    ``user_id, draw, <group>``, see :mod:`mobility.longitudinal.heterogeneity`) the summary is computed per
    draw and combined with Rubin's rules; counts are the smallest over the draws.

    Returns
    -------
    DataFrame
        Columns :data:`DID_COLUMNS`, one row per group (``"all"`` without ``group``).

    Examples
    --------
    >>> weeks = pd.date_range("2020-01-06", periods=6, freq="7D")
    >>> rows = [(u, w, 1.0 * t + (u % 3) - (3.0 if u < 20 and t >= 3 else 0.0) + 0.01 * ((u * t) % 5),
    ...          weeks[3] if u < 20 else pd.NaT) for u in range(40) for t, w in enumerate(weeks)]
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week"])
    >>> round(float(did_summary(panel, "rg_km", window=(-3, 2)).loc[0, "estimate"]), 1)
    -3.0
    """
    min_users = check_min_users(min_users)
    alpha = check_alpha(alpha)
    if draws is not None:
        return _did_draws(panel, metric, group, draws, draw_col, min_users, alpha, event_col=event_col,
                          user_col=user_col, week_col=week_col, window=window, weight_col=weight_col,
                          df_correction=df_correction)
    if df_correction not in DF_CORRECTIONS:
        raise MobilityError(f"df_correction must be one of {DF_CORRECTIONS}, got {df_correction!r}")
    ep = prepare_panel(
        panel, metric, event_col=event_col, user_col=user_col, week_col=week_col, window=window,
        reference_period=-1, bin_endpoints=False, group=group, weight_col=weight_col,
    )
    if not ep.treated.any() or ep.treated.all():
        raise MobilityError("did_summary needs both job losers (inside the window) and controls (job_loss_week NaT)")
    labels = ep.group_labels if group else ["all"]
    g_idx = np.where(ep.group_codes >= 0, ep.group_codes, 0)
    post = ep.treated & (ep.event_time >= 0)
    pre = ep.treated & (ep.event_time < 0)
    n_pre = np.array([np.unique(ep.user_codes[pre & (g_idx == g)]).size for g in range(len(labels))])
    n_post = np.array([np.unique(ep.user_codes[post & (g_idx == g)]).size for g in range(len(labels))])
    n_controls = int(np.unique(ep.user_codes[~ep.treated]).size)
    estimable = [g for g in range(len(labels)) if n_pre[g] > 0 and n_post[g] > 0]
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)
    remap[estimable] = np.arange(len(estimable))
    # losers of a group without both pre and post rows are left out (they would pose as controls)
    keep = ~ep.treated | (remap[g_idx] >= 0)
    codes = np.where(post, remap[g_idx], -1)[keep]
    if estimable:
        fit, _, _ = fit_cells(ep.subset(keep), codes, len(estimable), df_correction)
        params, se = fit.params, fit.std_errors
        p_val, lo, hi = t_inference(params, se, fit.df_inference, alpha=alpha)
    rows = []
    for g, label in enumerate(labels):
        j = remap[g]
        suppressed = j < 0 or min(n_pre[g], n_post[g]) < min_users
        vals = (np.nan,) * 5 if suppressed else (params[j], se[j], lo[j], hi[j], p_val[j])
        rows.append({"metric": metric, "group": label,
                     **dict(zip(("estimate", "std_error", "ci_low", "ci_high", "p_value"), vals)),
                     "n_users_pre": int(n_pre[g]), "n_users_post": int(n_post[g]),
                     "n_control_users": n_controls, "suppressed": bool(suppressed)})
    return pd.DataFrame(rows, columns=list(DID_COLUMNS))


def _did_draws(panel, metric, group, draws, draw_col, min_users, alpha, **kwargs) -> pd.DataFrame:
    """:func:`did_summary` over group draws, combined with Rubin's rules."""
    from mobility.longitudinal.heterogeneity import _draws_for, rubin_combine

    if group is None:
        raise MobilityError("did_summary with draws needs group=<dimension column of the draws>")
    user_col = kwargs["user_col"]
    table = _draws_for(draws, group, user_col, draw_col)
    base = panel.drop(columns=[group], errors="ignore")
    per_draw = []
    for _, one in table.groupby(draw_col, sort=True):
        merged = base.merge(one[[user_col, group]], on=user_col, how="left", validate="many_to_one")
        res = did_summary(merged, metric, group=group, min_users=1, alpha=alpha, **kwargs)
        n_clusters = merged[user_col].nunique()
        per_draw.append(res.assign(_df=n_clusters - 1))
    stacked = pd.concat(per_draw, ignore_index=True)
    m = len(per_draw)
    rows = []
    for label, cell in stacked.groupby("group", sort=True):
        counts = {c: int(cell[c].min()) if len(cell) == m else 0
                  for c in ("n_users_pre", "n_users_post", "n_control_users")}
        suppressed = len(cell) < m or cell.estimate.isna().any() or min(counts["n_users_pre"], counts["n_users_post"]) < min_users
        if suppressed:
            vals = (np.nan,) * 5
        else:
            est, se, df = rubin_combine(cell.estimate.to_numpy()[:, None], (cell.std_error.to_numpy() ** 2)[:, None],
                                        float(cell["_df"].min()))
            p, lo, hi = t_inference(est, se, df, alpha=alpha)
            vals = (est[0], se[0], lo[0], hi[0], p[0])
        rows.append({"metric": metric, "group": label,
                     **dict(zip(("estimate", "std_error", "ci_low", "ci_high", "p_value"), vals)),
                     **counts, "suppressed": bool(suppressed)})
    return pd.DataFrame(rows, columns=list(DID_COLUMNS))
