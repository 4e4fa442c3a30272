"""Difference-in-differences summary per group: job losers vs controls, after vs before the loss (frame layer).

One number per group ``g``: the effect of job loss on the metric averaged over the post-loss weeks of the
window, net of the controls' calendar-week changes, with its confidence interval. What "averaged" means
follows the estimator (:mod:`mobility.longitudinal.estimators`):

``twfe``
    ``y_it = a_i + g_t + sum_g d_g 1[K_it >= 0] 1[G_i = g] + e_it`` on the controls' rows and the losers'
    rows inside the window (``window[0] <= k <= window[1]``): post minus all pre weeks of the window.
``sun_abraham``, ``control_group="never"``
    The person-week-weighted mean of the cohort x event-week effects after the loss minus that of the weeks
    before it (the reference week excluded, it is 0), each cell against never-losers.
``sun_abraham``, ``control_group="not_yet"`` or ``"later"``
    The person-week-weighted mean of the post-loss cohort x event-week effects against each person's
    untreated level (the imputation ATT over the window); ``later`` on the job losers alone.

For Sun-Abraham the summary is a contrast of the event study's own fit (one regression gives both; with
binned endpoints the cells beyond the window are fitted but not averaged).

Errors are clustered by user (CR1, t(G-1)).

Table columns (:data:`DID_COLUMNS`)
-----------------------------------
``metric, group, estimate, std_error, ci_low, ci_high, p_value, n_users_pre, n_users_post,
n_control_users, suppressed, estimator, control_group``: ``n_users_pre``/``n_users_post`` count distinct
job losers with pre/post rows in the window; a group with fewer than ``min_users`` in either is suppressed.
``n_control_users`` counts the people whose rows identify the calendar weeks: never-losers (``never``), and
with ``not_yet`` or ``later`` also the losers with weeks before their loss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.errors import MobilityError
from mobility.longitudinal.cluster_ols import t_inference
from mobility.longitudinal.estimators import DID_COLUMNS, make_estimator
from mobility.longitudinal.params import EventStudyParams, check_alpha, check_min_users

__all__ = ["DID_COLUMNS", "did_summary"]

_D = EventStudyParams()


def did_summary(
    panel: pd.DataFrame,
    metric: str | list[str],
    *,
    estimator: str = _D.estimator,
    control_group: str = _D.control_group,
    group: str | None = None,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
    window: tuple[int, int] = _D.window,
    reference_period: int = _D.reference_period,
    bin_endpoints: bool = _D.bin_endpoints,
    group_time_effects: bool = _D.group_time_effects,
    time_effects_by: str | None = _D.time_effects_by,
    weight_col: str | None = None,
    min_users: int = _D.min_users,
    alpha: float = _D.alpha,
    df_correction: str = _D.df_correction,
    vcov: str = _D.vcov,
    cr2_df: str = _D.cr2_df,
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
    kwargs = dict(estimator=estimator, control_group=control_group, event_col=event_col, user_col=user_col,
                  week_col=week_col, window=window, reference_period=reference_period, bin_endpoints=bin_endpoints,
                  group_time_effects=group_time_effects, time_effects_by=time_effects_by, weight_col=weight_col,
                  df_correction=df_correction, vcov=vcov, cr2_df=cr2_df)
    if draws is not None:
        return _did_draws(panel, metric, group, draws, draw_col, min_users, alpha, **kwargs)
    hyper = {k: kwargs.pop(k) for k in ("control_group", "window", "reference_period", "bin_endpoints",
                                        "group_time_effects", "time_effects_by", "df_correction", "vcov", "cr2_df")}
    est = make_estimator(kwargs.pop("estimator"), min_users=min_users, alpha=alpha, **hyper)
    return est.did(panel, metric, group=group, **kwargs)


def _did_draws(panel, metric, group, draws, draw_col, min_users, alpha, **kwargs) -> pd.DataFrame:
    """:func:`did_summary` over group draws, combined with Rubin's rules."""
    from mobility.longitudinal.heterogeneity import _draws_for

    if group is None:
        raise MobilityError("did_summary with draws needs group=<dimension column of the draws>")
    user_col = kwargs["user_col"]
    table = _draws_for(draws, group, user_col, draw_col)
    base = panel.drop(columns=[group], errors="ignore")
    per_draw, dfs = [], []
    for _, one in table.groupby(draw_col, sort=True):
        merged = base.merge(one[[user_col, group]], on=user_col, how="left", validate="many_to_one")
        per_draw.append(did_summary(merged, metric, group=group, min_users=1, alpha=alpha, **kwargs))
        # complete-data df: G - 1 (CR1, or CR2 with "clusters"), else each row's df as the fit reported it
        # (Satterthwaite, or G - 1 where "auto" left a block without it)
        satterthwaite = kwargs.get("vcov") == "cr2" and kwargs.get("cr2_df") != "clusters"
        dfs.append(per_draw[-1]["df"].to_numpy() if satterthwaite else merged[user_col].nunique() - 1)
    return combine_did_draws(per_draw, dfs, min_users=min_users, alpha=alpha)


def combine_did_draws(per_draw: list[pd.DataFrame], dfs: list[int], *, min_users: int, alpha: float) -> pd.DataFrame:
    """Rubin-combine DiD tables of ``M`` group draws (each computed with ``min_users=1``; ``dfs`` their
    complete-data degrees of freedom), suppressing groups below ``min_users`` in the smallest draw."""
    from mobility.longitudinal.heterogeneity import rubin_combine

    stacked = pd.concat([t.assign(_df=d) for t, d in zip(per_draw, dfs)], ignore_index=True)
    m = len(per_draw)
    rows = []
    for (one_metric, label), cell in stacked.groupby(["metric", "group"], sort=False):
        counts = {c: int(cell[c].min()) if len(cell) == m else 0
                  for c in ("n_users_pre", "n_users_post", "n_control_users")}
        suppressed = len(cell) < m or cell.estimate.isna().any() or min(counts["n_users_pre"], counts["n_users_post"]) < min_users
        if suppressed:
            vals, df_out = (np.nan,) * 5, np.nan
        else:
            est, se, df = rubin_combine(cell.estimate.to_numpy()[:, None], (cell.std_error.to_numpy() ** 2)[:, None],
                                        float(cell["_df"].min()))
            p, lo, hi = t_inference(est, se, df, alpha=alpha)
            vals, df_out = (est[0], se[0], lo[0], hi[0], p[0]), float(np.asarray(df).ravel()[0])
        first = cell.iloc[0]
        rows.append({"metric": one_metric, "group": label,
                     **dict(zip(("estimate", "std_error", "ci_low", "ci_high", "p_value"), vals)),
                     **counts, "suppressed": bool(suppressed), "estimator": first["estimator"],
                     "control_group": first["control_group"], "df": df_out})
    return pd.DataFrame(rows, columns=list(DID_COLUMNS))
