"""The longitudinal study of a pipeline run, from its tables (frame layer): one call, every decision made here.

:func:`longitudinal_study` takes the run's ``metrics_weekly``, ``employment_weekly`` and census features and
returns a :class:`~mobility.longitudinal.outputs.LongitudinalResult`, deciding, in order:

1. how job losses are dated (:func:`~mobility.longitudinal.panel.dating_method`: never with a model that
   uses the outcome metrics);
2. who is in the panel: workers with a baseline work CBG (the only people with a job to lose), their weekly
   metrics and first job-loss week (:func:`~mobility.longitudinal.panel.job_loss_panel`);
3. their demographic groups, from the work or home CBG (:func:`~mobility.census.groups.person_groups`;
   ``"unknown"`` where the CBG's census has nobody in a dimension), with the ecological caveat;
4. whether there is anything to estimate: fewer job losers than the privacy threshold k gives no event
   study, with the reason in the manifest;
5. the tables and figures (:func:`~mobility.longitudinal.outputs.longitudinal_tables`).

The pipeline stage only reads the tables, calls this and writes the result
(:func:`~mobility.longitudinal.outputs.write_longitudinal`); a notebook can run the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pandas as pd

from mobility.census.groups import ECOLOGICAL_NOTE, baseline_rows, person_groups
from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.longitudinal.outputs import OUTCOME_NOTE, LongitudinalResult, Mapper, in_order, longitudinal_tables
from mobility.longitudinal.panel import dating_method, job_loss_panel, prepare_panel, since_week
from mobility.longitudinal.params import EventStudyParams, LongitudinalParams

log = logging.getLogger(__name__)

SOURCE_TABLES = {"work": "LODES WAC: the jobs located there", "home": "LODES RAC: the jobs held by its residents"}


def group_features(worker_features: pd.DataFrame, params: LongitudinalParams, *,
                   home_features: pd.DataFrame | None = None, baseline: tuple | None = None) -> pd.DataFrame:
    """One census feature row per worker for the groups: ``worker_features`` (their baseline work CBG) or,
    with ``group_source="home"``, their most frequent home CBG over ``baseline`` weeks in ``home_features``
    (per-week ``home_*`` features, the census stage's ``user_features``)."""
    if params.group_source == "work":
        return worker_features.drop_duplicates("user_id")
    if home_features is None or baseline is None:
        raise MobilityError("[longitudinal] group_source = 'home' needs the home features (LODES RAC: [inputs] "
                            "lodes_rac) and the baseline weeks")
    rows = baseline_rows(home_features, "home_cbg", start=baseline[0], end=baseline[1])
    workers = worker_features[["user_id"]].drop_duplicates()
    return workers.merge(rows, on="user_id", how="left")


def longitudinal_study(
    metrics_weekly: pd.DataFrame | Iterable[pd.DataFrame],
    employment_weekly: pd.DataFrame,
    worker_features: pd.DataFrame,
    *,
    params: LongitudinalParams | None = None,
    timezone: str,
    classifier_features: list[str] | None = None,
    home_features: pd.DataFrame | None = None,
    baseline: tuple | None = None,
    mapper: Mapper = in_order,
) -> LongitudinalResult:
    """Event studies of every metric around job loss, pooled and by demographic group, for one run.

    Parameters
    ----------
    metrics_weekly : DataFrame or iterable of DataFrame
        The metrics step's weekly table (``user_id``, ``period_start`` and the metric columns), or its parts in
        order, read one at a time and cut to the workers' rows
        (:func:`~mobility.longitudinal.panel.job_loss_panel`; the pipeline passes its Parquet parts).
    employment_weekly : DataFrame
        The employment step's table (``user_id, week, method, weeks_since_job_loss``).
    worker_features : DataFrame
        Census features of each worker's baseline work CBG (``user_id``, ``work_cbg``, ``p_*``).
    params : LongitudinalParams
        Every setting (defaults: :class:`~mobility.longitudinal.params.LongitudinalParams`).
    timezone : str
        The region's zone: weeks are local Mondays.
    classifier_features : list of str, optional
        The employment classifier's recorded feature names, to check them against the outcomes.
    home_features, baseline :
        Per-week home features and the baseline ``(first, last)`` days, for ``group_source="home"``; the
        baseline is also the weeks matched on with ``matching`` (default there: the weeks before the first loss).
    mapper : callable, default :func:`~mobility.longitudinal.outputs.in_order`
        Where the independent fits run (:data:`~mobility.longitudinal.outputs.Mapper`; the pipeline: forked
        worker processes); the result does not depend on it.

    Returns
    -------
    LongitudinalResult
        With ``manifest["dating"]`` (method and reason), ``manifest["skipped"]`` when there is nothing to
        estimate, and ``manifest["notes"]`` (outcomes, groups).

    Examples
    --------
    See ``tests/longitudinal/test_study.py``.
    """
    params = params or LongitudinalParams()
    require_columns(worker_features, ["user_id", "work_cbg"], "worker_features", "pass the employment step's table")
    method, reason = dating_method(employment_weekly, params.method, outcomes=params.metrics,
                                   classifier_features=classifier_features)
    log.info("longitudinal: job losses dated by %s (%s)", method, reason)
    workers = worker_features[worker_features["work_cbg"].notna()]
    panel = job_loss_panel(metrics_weekly, employment_weekly, workers["user_id"], method=method, timezone=timezone)
    early_losers = None
    if params.study_start is not None:
        panel, early_losers = since_week(panel, params.study_start, leads=-params.window[0])
    # the run's tables are not needed past here: where the caller holds no other reference (the pipeline passes
    # them as it reads them), their memory goes now, not after the fits (at 100,000 users about 0.8 GB)
    del metrics_weekly, employment_weekly
    missing = [m for m in params.metrics if m not in panel.columns]
    if missing:
        raise MobilityError(f"[longitudinal] metrics {missing} are not columns of metrics_weekly; "
                            f"available: {sorted(c for c in panel.columns if c not in ('user_id', 'week'))}")
    source = "work" if params.group_source == "work" else "home"
    notes = {"outcomes": OUTCOME_NOTE,
             "groups": ECOLOGICAL_NOTE.format(source=source, table=SOURCE_TABLES[source])}
    draws = None
    if params.groups:
        feats = group_features(workers, params, home_features=home_features, baseline=baseline)
        groups = person_groups(feats, params.groups, source=params.group_source, method=params.group_method,
                               n_draws=params.n_draws, seed=params.seed)
        if params.group_method == "draws":
            draws = groups
        else:
            panel = panel.merge(groups, on="user_id", how="left")
            for dim in params.groups:
                panel[dim] = panel[dim].astype("string").fillna("unknown")
    counts = {"job_losers": int(panel.drop_duplicates("user_id")["job_loss_week"].notna().sum()),
              "workers": int(panel["user_id"].nunique())}
    if early_losers is not None:
        counts["job_losers_before_study_start"] = early_losers
    manifest = {"dating": {"method": method, "reason": reason}, "group_source": params.group_source,
                "counts": counts, "notes": notes, "parameters": params.to_dict()}
    if counts["job_losers"] < params.min_users:
        manifest["skipped"] = (f"{counts['job_losers']} detected job loser(s), fewer than min_users = "
                               f"{params.min_users}: no event study (a longer period or more users gives one)")
        log.warning("longitudinal: %s", manifest["skipped"])
        return LongitudinalResult({}, {}, manifest)
    es_kwargs = params.event_study_kwargs()
    if params.time_effects_by == "telework":
        tercile = pd.qcut(workers.drop_duplicates("user_id").set_index("user_id")["telework"], 3, labels=False,
                          duplicates="drop")
        panel["telework_tercile"] = panel["user_id"].map(tercile).astype("Int64").astype("string")
        es_kwargs["time_effects_by"] = "telework_tercile"
    es_params = EventStudyParams(**es_kwargs)
    if draws is None and params.matching == "none":  # coded once here, and the frame let go before the fits
        panel = prepare_panel(panel, list(params.metrics), strata=es_params.time_effects_by, any_metric=True,
                              groups=list(params.groups))
    # matched controls are matched on the employment baseline weeks where the caller gives them (the pipeline
    # does), not on the weeks before the earliest loss (none where a loss is dated in the panel's first week)
    match_options = {"baseline": tuple(str(pd.Timestamp(d).date()) for d in baseline)} \
        if params.matching != "none" and baseline is not None else None
    result = longitudinal_tables(panel, list(params.metrics), list(params.groups), params=es_params, draws=draws,
                                 matching=params.matching, match_options=match_options,
                                 compare_controls=params.compare_controls, mapper=mapper)
    result.manifest = {**result.manifest, **manifest, "notes": {**notes, **result.manifest["notes"]},
                       "parameters": params.to_dict()}
    return result
