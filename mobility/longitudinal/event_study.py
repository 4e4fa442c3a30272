"""Event study of a weekly mobility metric around job loss (frame layer): one entry point, estimators behind it.

Model (method.md 2.9 and 4), for person ``i`` in calendar week ``t`` with event time ``k = t - E_i`` (weeks
since the job-loss week ``E_i``): person and calendar-week fixed effects, event-time effects per group,
errors clustered by person. :func:`event_study` dispatches on ``estimator=`` to the classes of
:mod:`mobility.longitudinal.estimators` (the heterogeneity-robust ``"sun_abraham"`` by default, ``"twfe"``
for comparison) and returns one result type whatever the estimator.

Privacy: a coefficient whose cell (event time x group) has fewer than ``min_users`` distinct job losers is
estimated but not reported (estimate and interval NaN, ``suppressed=True``); ``n_users`` is reported.

Coefficient table columns (:data:`COEFFICIENT_COLUMNS`)
-------------------------------------------------------
``metric, group, term, event_time, estimate, std_error, ci_low, ci_high, p_value, n_users, n_obs,
suppressed, reference, estimator, control_group, df``: ``term`` is e.g. ``"k=3"``, ``"k<=-4"`` or ``"k>=12"`` for
binned endpoints; the reference period (where there is one) is a row with estimate 0 and
``reference=True``. Intervals and p-values use Student's t with ``df`` degrees of freedom: under CR2 (the
default) each term's Bell-McCaffrey / Satterthwaite df (:mod:`mobility.longitudinal.cell_ols`, "Small-sample
inference") where the fit, or a group's own block, holds up to 20,000 persons (``cr2_df="auto"``;
:func:`~mobility.longitudinal.params.resolve_cr2_df`) and ``G - 1`` above, under CR1 ``G - 1``, G the number of
persons; NaN on reference and suppressed rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mobility.longitudinal.estimators import (
    COEFFICIENT_COLUMNS,
    PRETREND_COLUMNS,
    make_estimator,
    term_label,
)
from mobility.longitudinal.params import EventStudyParams

__all__ = ["COEFFICIENT_COLUMNS", "PRETREND_COLUMNS", "EventStudyResult", "event_study", "term_label"]

_D = EventStudyParams()


@dataclass
class EventStudyResult:
    """Output of :func:`event_study`, whatever the estimator.

    Attributes
    ----------
    coefficients : DataFrame
        Tidy table, columns :data:`COEFFICIENT_COLUMNS`, one row per group and event time.
    pretrend : DataFrame
        Joint F test per group that all reported leads (``k < 0``, reference excluded) are zero;
        columns :data:`PRETREND_COLUMNS`.
    vcov : DataFrame
        Cluster-robust covariance of the reported (unsuppressed) coefficients, indexed by ``group|term``
        (NaN between the leads and lags of ``control_group="not_yet"``, which come from two regressions);
        a dict metric -> table when several metrics were estimated.
    info : dict
        Sample sizes (observations, users, job losers, clusters, dropped rows) and every parameter used
        (a dict metric -> info for several metrics).
    did : DataFrame
        The DiD summary per group (:func:`~mobility.longitudinal.did.did_summary`), from the same fit for
        Sun-Abraham.
    """

    coefficients: pd.DataFrame
    pretrend: pd.DataFrame
    vcov: pd.DataFrame
    info: dict = field(default_factory=dict)
    did: pd.DataFrame | None = None


def event_study(
    panel: pd.DataFrame,
    metric: str,
    *,
    estimator: str = _D.estimator,
    control_group: str = _D.control_group,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
    window: tuple[int, int] = _D.window,
    reference_period: int = _D.reference_period,
    bin_endpoints: bool = _D.bin_endpoints,
    group: str | None = None,
    group_time_effects: bool = _D.group_time_effects,
    time_effects_by: str | None = _D.time_effects_by,
    weight_col: str | None = None,
    min_users: int = _D.min_users,
    alpha: float = _D.alpha,
    df_correction: str = _D.df_correction,
    vcov: str = _D.vcov,
    cr2_df: str = _D.cr2_df,
    pretrend_test: str = _D.pretrend_test,
) -> EventStudyResult:
    """Estimate event-time effects of job loss on ``metric``, optionally one path per group.

    Parameters
    ----------
    panel : DataFrame or EventPanel
        User-week panel (see :mod:`mobility.longitudinal.panel` for the contract), or that panel prepared once
        (:func:`~mobility.longitudinal.panel.prepare_panel` with the same ``weight_col``, ``time_effects_by``
        and, for ``group``, ``groups=[group]``): the same tables without validating and coding it again.
    metric : str
        Outcome column, e.g. ``"radius_of_gyration_km_nonwork"``.
    estimator, control_group, window, reference_period, bin_endpoints, group_time_effects, time_effects_by, min_users, alpha, df_correction, vcov, cr2_df, pretrend_test
        See :class:`~mobility.longitudinal.params.EventStudyParams` (defaults there).
    event_col, user_col, week_col : str
        Column names of the job-loss week (NaT for controls), user id and week start (Monday).
    group : str, optional
        Column with one category per user: one path per category.
    weight_col : str, optional
        Regression weights per row (e.g. from :func:`~mobility.longitudinal.matching.match_controls`).

    Returns
    -------
    EventStudyResult

    Examples
    --------
    >>> import numpy as np
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
    >>> round(float(res.coefficients.set_index("event_time").loc[2, "estimate"]), 1), res.info["estimator"]
    (-2.0, 'sun_abraham')
    """
    fitted = make_estimator(
        estimator, control_group=control_group, window=window, reference_period=reference_period,
        bin_endpoints=bin_endpoints, group_time_effects=group_time_effects, time_effects_by=time_effects_by,
        df_correction=df_correction, vcov=vcov, cr2_df=cr2_df, pretrend_test=pretrend_test,
        min_users=min_users, alpha=alpha,
    ).fit(panel, metric, group=group, weight_col=weight_col, event_col=event_col, user_col=user_col,
          week_col=week_col)
    return EventStudyResult(fitted.coefficients_, fitted.pretrend_, fitted.vcov_, fitted.info_, fitted.did_)
