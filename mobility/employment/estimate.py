"""Frame-level entry point of the ``employment`` stage: stops + labels + census -> status and area tables.

:func:`estimate_employment` runs, in order: the baseline workplace
(:func:`~mobility.employment.attendance.baseline_workplace`), weekly attendance at each worker's workplace
from the visits, the relative panel; the week in the usual work hours (:mod:`~mobility.employment.daytime`:
at home, outings, distance; where the visits carry ``lat``/``lon`` and the labels ``home_location_id``); the
signal method (sustained drops weighed by remote adoption and the person's evidence, sector P_s,
statuses); then the LightGBM classifier, cross-fitted on a labelled panel
(:func:`~mobility.employment.classifier.train_classifier`) or a saved model applied
(:func:`~mobility.employment.classifier.apply_classifier`); then the area tables of both methods and both
routes. :func:`write_employment` writes every table atomically (and the model as its folder).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.employment.area import (
    PanelWeights,
    area_unemployment,
    home_cbg,
    sector_area_unemployment,
    sector_replicates,
    workplace_users,
)
from mobility.employment.attendance import (
    NO_VISITS,
    baseline_work_cbg,
    baseline_workplace,
    check_baseline_weeks,
    relative_attendance,
    weekly_attendance,
    work_days,
)
from mobility.employment.calibration import probability_scores
from mobility.employment.classifier import apply_classifier, label_matrix, train_classifier
from mobility.employment.daytime import daytime_weekly
from mobility.employment.features import FeatureBlocks
from mobility.employment.labels import check_overlap
from mobility.employment.model import ClassifierModel, save_model
from mobility.employment.params import AreaParams, ClassifierParams, EmploymentParams
from mobility.employment.status import SignalInputs, signal_from_inputs, signal_inputs
from mobility.errors import MobilityError
from mobility.io.atomic import write_json, write_parquet

log = logging.getLogger(__name__)


def estimate_employment(stops: pd.DataFrame, labels: pd.DataFrame, features: pd.DataFrame, telework: pd.Series, *,
                        wac_county: pd.DataFrame | None = None, timezone: str | None = None,
                        params: EmploymentParams | None = None, classifier: ClassifierParams | None = None,
                        labels_truth: pd.DataFrame | None = None, model: ClassifierModel | None = None,
                        training: dict | None = None, weights: PanelWeights | None = None,
                        area_params: AreaParams | None = None) -> dict:
    """Employment status week by week with both methods, and unemployment by area.

    Parameters
    ----------
    stops : DataFrame
        The visits: ``user_id``, ``start``, ``end``, ``location_id``, ``lat``, ``lon`` (optional
        ``utc_offset_s``; without coordinates, no evidence on the shape of the work days).
    labels : DataFrame
        ``home_work_daily`` of the same visits: ``user_id``, ``date``, ``work_location_id``, ``work_status``,
        ``home_cbg`` (and ``home_location_id`` for the daytime features).
    features : DataFrame
        ``work_features`` of each user's baseline work CBG (``user_id``, ``w_CNS..``, ``p_..``, ``telework``).
    telework : Series
        tau_s by sector.
    wac_county : DataFrame, optional
        LODES WAC by county for the sector route.
    timezone : str, optional
        Local time zone of days and work hours.
    labels_truth : DataFrame, optional
        A labelled panel ``user_id``, ``week``, ``status`` (:func:`mobility.employment.labels.read_labels`):
        trains the cross-fitted classifier; with ``model`` it only scores the model.
    model : ClassifierModel, optional
        A model saved by another run (:func:`mobility.employment.model.load_model`), applied to every user.
    training : dict, optional
        What the model card records about the training data (region name, synthetic or not, seed).
    weights : PanelWeights, optional
        Raking of the users to census margins for the area tables (:func:`mobility.employment.area.panel_weights`).
    area_params : AreaParams, optional
        The area estimates' bootstrap and weighting parameters.

    Returns
    -------
    dict
        ``employment_weekly`` (both methods stacked), ``sector_weekly``, ``remote_adoption``, ``remote_intercept``,
        ``drop_evidence``, ``area_unemployment``, ``area_calibration`` (a dict: per method and month, the weight
        of the labels' recalibration in the area step, :class:`~mobility.employment.area._Calibration`); with a classifier also ``feature_importance``, ``classifier_evaluation`` (a
        dict: out-of-fold scores when trained here, scores against ``labels_truth`` when applied) and
        ``employment_model`` (the :class:`~mobility.employment.model.ClassifierModel` that made its rows).

    Examples
    --------
    See ``tests/employment/test_estimate.py`` and ``benchmarks/bench_employment.py``.
    """
    params = params or EmploymentParams()
    users = user_tables(stops, labels, timezone=timezone, params=params)
    return employment_from_user_tables(users, features, telework, wac_county=wac_county, params=params,
                                       classifier=classifier, labels_truth=labels_truth, model=model,
                                       training=training, weights=weights, area_params=area_params)


USER_TABLES = ("weekly_attendance", "baseline_workplace", "baseline_work_cbg", "home_cbg", "daytime_weekly")
"""The per-user tables of the employment step (:func:`user_tables`), in the order the pipeline writes them."""


def user_tables(stops: pd.DataFrame, labels: pd.DataFrame, *, timezone: str | None = None,
                params: EmploymentParams | None = None) -> dict[str, pd.DataFrame]:
    """The employment step's tables of each user alone, from the visits and daily labels.

    Every row of these tables depends on one user's visits and labels only, so the tables of a region are the
    tables of its user partitions stacked (sorted by user, as :func:`stack_user_tables` does): the pipeline
    computes them partition by partition, and the weekly ones meet in one process only as the signal's users x
    weeks matrices, filled a partition at a time (:func:`signal_inputs_of_parts`,
    :func:`employment_from_user_tables`).

    Returns
    -------
    dict
        ``weekly_attendance`` (:func:`~mobility.employment.attendance.weekly_attendance`),
        ``baseline_workplace``, ``home_cbg`` (:func:`~mobility.employment.area.home_cbg`), where the labels
        carry ``work_cbg`` ``baseline_work_cbg`` (W_u, for the census features) and, where the visits carry
        ``lat``/``lon`` and the labels ``home_location_id``, ``daytime_weekly``
        (:func:`~mobility.employment.daytime.daytime_weekly`: the shape of the work days, evidence of both
        methods). Both weekly tables share one :func:`~mobility.employment.attendance.work_days`.

    Examples
    --------
    See ``tests/employment/test_estimate.py`` (a region's tables equal its partitions' tables stacked).
    """
    params = params or EmploymentParams()
    labels = labels.copy(deep=False)
    labels.attrs = {}  # pandas deep-copies a frame's attrs at every step; none of these tables reads them
    days = work_days(stops, labels, timezone=timezone, params=params)
    tables = {"weekly_attendance": weekly_attendance(stops, labels, days=days),
              "baseline_workplace": baseline_workplace(labels, params=params),
              "home_cbg": home_cbg(labels)}
    if "work_cbg" in labels.columns:
        tables["baseline_work_cbg"] = baseline_work_cbg(labels, params=params)
    if {"lat", "lon"} <= set(stops.columns) and "home_location_id" in labels.columns:
        tables["daytime_weekly"] = daytime_weekly(stops, labels, days=days)
    return tables


def stack_user_tables(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """The per-user tables of several user partitions (:func:`user_tables` of each) as those of all their users:
    concatenated and sorted by ``user_id`` (then ``week``), as :func:`user_tables` of all users at once gives them.

    Examples
    --------
    >>> a = {"home_cbg": pd.DataFrame({"user_id": ["c"], "home_cbg": ["1"]})}
    >>> b = {"home_cbg": pd.DataFrame({"user_id": ["a"], "home_cbg": ["2"]})}
    >>> stack_user_tables([a, b])["home_cbg"]["user_id"].tolist()
    ['a', 'c']
    """
    out = {}
    for name in dict.fromkeys(n for part in parts for n in part):
        frames = [part[name] for part in parts if name in part]
        table = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
        keys = [c for c in ("user_id", "week") if c in table.columns]
        out[name] = table.sort_values(keys, kind="stable", ignore_index=True) if keys else table
    return out


PartReader = Callable[[str, "list[str] | None"], "pd.DataFrame | None"]
"""One user partition's per-user tables: ``read(name, columns)`` -> that table of the partition (the named
columns, or all with None), or None where the partition has no such table."""


def signal_inputs_of_parts(parts: Sequence[PartReader], *, params: EmploymentParams | None = None) -> SignalInputs:
    """The signal's matrices (:func:`~mobility.employment.status.signal_inputs`) of a region whose per-user tables
    (:func:`user_tables`) come in user partitions, read one partition at a time: the same matrices as from the
    partitions' tables stacked (:func:`stack_user_tables`), without the stacked tables (at 100,000 users x 39
    weeks 2.6 GB, against 0.8 GB of matrices).

    Two passes over the partitions: the users and the first and last week (two columns read), then each
    partition's attendance panel (:func:`~mobility.employment.attendance.relative_attendance` over the region's
    weeks) and daytime table turned into its users' rows of the matrices. Whether the data cover enough baseline
    weeks is checked over the region, not per partition. A user in two partitions is refused.

    Parameters
    ----------
    parts : sequence of callables
        One :data:`PartReader` per partition, reading ``weekly_attendance``, ``baseline_workplace`` and (where
        the region has it) ``daytime_weekly``.
    params : EmploymentParams, optional

    Examples
    --------
    See ``tests/employment/test_estimate.py`` (three partitions give the matrices of all users at once).
    """
    params = params or EmploymentParams()

    def span(read):  # a partition's users, first and last week (None without rows)
        weekly = read("weekly_attendance", ["user_id", "week"])
        if weekly is None or not len(weekly):
            return None
        base = read("baseline_workplace", ["user_id"])
        base_users = base["user_id"].astype(str).unique() if base is not None and len(base) else []
        week = pd.to_datetime(weekly["week"])
        return np.union1d(weekly["user_id"].astype(str).unique(), base_users), week.min(), week.max()

    with ThreadPoolExecutor(2) as pool:  # Arrow decodes off the GIL
        spans = list(pool.map(span, parts))
    user_sets = [None if s is None else s[0] for s in spans]
    first, last = [s[1] for s in spans if s is not None], [s[2] for s in spans if s is not None]
    if not first:
        raise MobilityError(NO_VISITS)
    users = np.sort(np.concatenate([u for u in user_sets if u is not None]), kind="stable")
    if len(users) > 1 and (users[1:] == users[:-1]).any():
        twice = users[1:][users[1:] == users[:-1]][:3].tolist()
        raise MobilityError(f"signal_inputs_of_parts: user(s) {twice} are in two partitions; a user's tables must "
                            "all be in one partition (partition the visits and labels by user_id)")
    weeks = pd.date_range(min(first), max(last), freq="7D")
    n_u, n_w = len(users), len(weeks)
    start, end = params.baseline
    in_base_week = np.asarray((weeks >= start) & (weeks <= end))
    covered_base = np.zeros(n_w, dtype=bool)
    out = None
    todo = [read for read, part_users in zip(parts, user_sets) if part_users is not None]

    def tables(read):
        return read("weekly_attendance", None), read("baseline_workplace", None), read("daytime_weekly", None)

    with ThreadPoolExecutor(1) as pool:  # the next partition read (Arrow, off the GIL) while this one is turned
        ahead = pool.submit(tables, todo[0])
        for k in range(len(todo)):
            weekly, base, daytime = ahead.result()
            if k + 1 < len(todo):
                ahead = pool.submit(tables, todo[k + 1])
            panel = relative_attendance(weekly, base, params=params, weeks=weeks, check_baseline=False)
            covered_base |= panel["covered"].to_numpy().reshape(-1, n_w).any(axis=0) & in_base_week
            part = signal_inputs(panel, daytime=daytime if daytime is not None and len(daytime.columns) else None)
            del panel, weekly, base, daytime
            if len(todo) == 1:  # one partition: its matrices are the region's
                out = part
                continue
            if out is None:
                out = SignalInputs(users, weeks, *(np.full((n_u, n_w), np.nan) for _ in range(2)),
                                   np.zeros((n_u, n_w), dtype=bool),
                                   {c: np.full((n_u, n_w), np.nan) for c in part.matrices}, part.daytime)
            elif part.daytime != out.daytime:
                raise MobilityError("signal_inputs_of_parts: some partitions have a daytime_weekly table and others "
                                    "not; compute every partition's tables with the same visits' columns")
            rows = np.searchsorted(users, part.users)
            out.attendance[rows], out.work_time[rows], out.usable[rows] = part.attendance, part.work_time, part.usable
            for c, m in part.matrices.items():
                out.matrices[c][rows] = m
    check_baseline_weeks(covered_base, weeks, params)
    return out


def employment_from_user_tables(users: dict[str, pd.DataFrame], features: pd.DataFrame, telework: pd.Series, *,
                                wac_county: pd.DataFrame | None = None, params: EmploymentParams | None = None,
                                classifier: ClassifierParams | None = None, labels_truth: pd.DataFrame | None = None,
                                model: ClassifierModel | None = None, training: dict | None = None,
                                weights: PanelWeights | None = None, area_params: AreaParams | None = None,
                                mapper=None, classifier_required: bool = True,
                                parts: Sequence[PartReader] | None = None) -> dict:
    """:func:`estimate_employment` from the per-user tables (:func:`user_tables`, or the stacked tables of user
    partitions: :func:`stack_user_tables`): the steps that need all users at once (the sector shares, the
    classifier, the area tables), on tables of users x weeks rather than visits. ``mapper`` (``mapper(fn,
    items) -> list``, as :func:`~mobility.employment.area.area_unemployment` takes it) runs the independent
    units of work (the cross-fitted classifier's models, the chunks of bootstrap replicates), e.g. in forked
    processes; the tables do not depend on it. ``classifier_required=False`` (the pipeline, where ``[employment]
    method = "signal"``): a classifier that cannot be trained on ``labels_truth`` (too few labelled users, one
    class only) is logged and left out, its reason in ``classifier_evaluation["not_trained"]``, instead of
    stopping the step; the labels still recalibrate the signal's area rates. ``parts``: the weekly tables come
    from these user partitions, read one at a time (:func:`signal_inputs_of_parts`; the pipeline's staged
    partitions), and ``users`` needs only the one-row-per-user tables (``baseline_workplace``, ``home_cbg``).

    Examples
    --------
    See ``tests/employment/test_estimate.py``.
    """
    params = params or EmploymentParams()
    inputs = signal_inputs_of_parts([_reader(users)] if parts is None else parts, params=params)
    signal = signal_from_inputs(inputs, features, telework, params=params)
    del inputs
    tables = dict(signal.tables)
    employment = [tables["employment_weekly"]]
    if labels_truth is not None or model is not None:
        mats = FeatureBlocks(signal, params=params)  # a block of users at a time
        if labels_truth is not None:
            check_overlap(labels_truth, signal.users, signal.weeks)
        if model is None:
            try:
                clf, evaluation, importance, model = train_classifier(signal, mats, labels_truth, params=params,
                                                                      classifier=classifier, training=training,
                                                                      mapper=mapper)
            except MobilityError as exc:
                if classifier_required:
                    raise
                log.warning("employment: classifier not trained, the signal is reported: %s", exc)
                tables["classifier_evaluation"] = {"trained_here": False, "not_trained": str(exc)}
                clf = None
            else:
                tables["feature_importance"] = importance
        else:
            clf = apply_classifier(signal, mats, model, params=params, source=model.source or "model",
                                   mapper=mapper)
            evaluation = {"model_id": model.model_id, "trained_here": False}
            if labels_truth is not None:
                evaluation["against_labels"] = _scores(signal, clf, labels_truth)
        if clf is not None:
            employment.append(clf)
            tables["classifier_evaluation"] = evaluation
            tables["employment_model"] = model
        del mats, clf  # the steps below need neither
    tables["employment_weekly"] = pd.concat(employment, ignore_index=True)
    del employment
    if wac_county is not None:  # what the sector route needs of the signal, taken before the signal goes
        n_users = workplace_users(signal, features) if "work_cbg" in features.columns else None
        replicates = sector_replicates(signal, telework, area_params)
    intercept = signal.intercept  # used where no labels recalibrate the rates (area_unemployment decides)
    del signal  # its matrices and its own status table: about 1 GB at 100,000 users x 39 weeks
    area = [area_unemployment(tables["employment_weekly"], users["home_cbg"], weights=weights, labels=labels_truth,
                              params=params, area_params=area_params, mapper=mapper, intercept=intercept)]
    if wac_county is not None:
        area.append(sector_area_unemployment(tables["sector_weekly"], wac_county, params=params,
                                             area_params=area_params, n_users=n_users, replicates=replicates))
    tables["area_calibration"] = area[0].attrs["calibration"]  # per method: how much of the recalibration was used
    at_ends = {}
    for column, gamma in (slope_ends(params) if labels_truth is None else ()):  # read afresh: inputs are not reused
        end = replace(params, job_loss_telework_slope=gamma)
        fresh = signal_inputs_of_parts([_reader(users)] if parts is None else parts, params=end)
        at_ends[column] = _signal_rates_at(fresh, features, telework, users["home_cbg"], end, weights=weights,
                                           area_params=area_params, mapper=mapper)
        del fresh
    tables["area_unemployment"] = with_slope_ends(pd.concat(area, ignore_index=True), at_ends)
    return tables


SLOPE_END_COLUMNS = {"low": "rate_if_slope_low", "high": "rate_if_slope_high"}
"""The area table's point rates of the signal at the ends of ``job_loss_telework_slope``'s range."""
AREA_KEYS = ["method", "route", "estimator", "level", "area", "period", "period_start"]


def slope_ends(params: EmploymentParams) -> tuple[tuple[str, float], ...]:
    """The ends of gamma's range to run the signal at: ``(column, gamma)`` for each end that differs from the
    run's own gamma.

    Examples
    --------
    >>> slope_ends(EmploymentParams(job_loss_telework_slope=0.0))
    (('rate_if_slope_high', 1.0),)
    """
    g = params.job_loss_telework_slope
    ends = (("low", params.job_loss_telework_slope_low), ("high", params.job_loss_telework_slope_high))
    return tuple((SLOPE_END_COLUMNS[side], value) for side, value in ends if value != g)


def _signal_rates_at(inputs: SignalInputs, features: pd.DataFrame, telework: pd.Series, homes: pd.DataFrame,
                     params: EmploymentParams, *, weights, area_params, mapper) -> pd.DataFrame:
    """The signal's individual-route point rates (no bootstrap) with another ``job_loss_telework_slope``."""
    signal = signal_from_inputs(inputs, features, telework, params=params)
    point = replace(area_params or AreaParams(), replicates=0)
    area = area_unemployment(signal.tables["employment_weekly"], homes, weights=weights, params=params,
                             area_params=point, mapper=mapper)  # b's draws only widen intervals: none here
    return area.loc[~area["suppressed"].astype(bool), [*AREA_KEYS, "rate"]]


def slope_end_summary(area: pd.DataFrame, params: EmploymentParams) -> dict:
    """What a run records of :func:`with_slope_ends` for its report: gamma's range and, per published state-month
    of the signal, ``[rate, rate_if_slope_low, rate_if_slope_high]`` (rounded to 0.1 point; None for an end not
    run). Empty where no end was run (a labelled panel recalibrated the rates, or the range is the one value).

    Examples
    --------
    >>> area = pd.DataFrame([{"method": "signal", "route": "individual", "estimator": "expected", "level": "state",
    ...     "area": "42", "period": "month", "period_start": pd.Timestamp("2020-04-01"), "rate": 0.06,
    ...     "suppressed": False, "rate_if_slope_low": 0.09, "rate_if_slope_high": np.nan}])
    >>> slope_end_summary(area, EmploymentParams())
    {'low': 0.0, 'high': 1.0, 'states': {'2020-04': {'42': [0.06, 0.09, None]}}}
    """
    columns = list(SLOPE_END_COLUMNS.values())
    if not set(columns) <= set(area.columns) or area[columns].isna().all().all():
        return {}
    rows = area[(area["method"] == "signal") & (area["route"] == "individual") & (area["estimator"] == "expected")
                & (area["level"] == "state") & (area["period"] == "month") & ~area["suppressed"].astype(bool)]
    states: dict[str, dict] = {}
    for r in rows.itertuples(index=False):
        values = [r.rate, *(getattr(r, c) for c in columns)]
        states.setdefault(pd.Timestamp(r.period_start).strftime("%Y-%m"), {})[str(r.area)] = [
            None if pd.isna(v) else round(float(v), 3) for v in values]
    return {"low": params.job_loss_telework_slope_low, "high": params.job_loss_telework_slope_high, "states": states}


def with_slope_ends(area: pd.DataFrame, at_ends: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``area`` with the columns of :data:`SLOPE_END_COLUMNS`: each end's rate where the signal gave one there
    and the row is published (NaN elsewhere: the classifier's rows, the sector route, suppressed cells, ends not
    run).

    Examples
    --------
    >>> keys = {"method": "signal", "route": "individual", "estimator": "expected", "level": "state",
    ...         "area": "42", "period": "month", "period_start": pd.Timestamp("2020-04-01")}
    >>> area = pd.DataFrame([{**keys, "rate": 0.06, "suppressed": False}])
    >>> out = with_slope_ends(area, {"rate_if_slope_low": pd.DataFrame([{**keys, "rate": 0.09}])})
    >>> out[["rate", "rate_if_slope_low", "rate_if_slope_high"]].values.tolist()
    [[0.06, 0.09, nan]]
    """
    out = area.copy()
    keys = out[AREA_KEYS].assign(period_start=pd.to_datetime(out["period_start"]))
    hidden = out["suppressed"].astype(bool).to_numpy()
    for column in SLOPE_END_COLUMNS.values():
        values = at_ends.get(column)
        if values is None or values.empty:
            out[column] = np.nan
            continue
        rates = keys.merge(values.assign(period_start=pd.to_datetime(values["period_start"])), on=AREA_KEYS,
                           how="left")["rate"].to_numpy(float)  # a left merge keeps the rows' order
        out[column] = np.where(hidden, np.nan, rates)
    return out


def _reader(tables: dict[str, pd.DataFrame]) -> PartReader:
    """A :data:`PartReader` of tables in memory (one partition: all of them)."""
    def read(name: str, columns: list[str] | None) -> pd.DataFrame | None:
        table = tables.get(name)
        return table if table is None or columns is None else table[columns]
    return read


def _scores(signal, clf: pd.DataFrame, labels: pd.DataFrame) -> dict:
    """Both methods' probability scores on the usable labelled user-weeks."""
    y = label_matrix(labels, signal.users, signal.weeks)
    ok = signal.matrices["usable"] & np.isfinite(y)
    p_clf = clf["p_unemployed"].to_numpy(float).reshape(y.shape)
    return {m: probability_scores(y[ok], np.clip(p[ok], 0, 1))
            for m, p in (("classifier", p_clf), ("signal", signal.matrices["p"]))}


def write_employment(tables: dict, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write every table as ``<name>.parquet``, dicts as ``<name>.json`` and a model as the folder ``<name>/``
    (:func:`~mobility.employment.model.save_model`) under ``out_dir`` (atomically).

    Examples
    --------
    >>> import tempfile
    >>> paths = write_employment({"t": pd.DataFrame({"a": [1]}), "e": {"x": 1}}, tempfile.mkdtemp())
    >>> sorted(p.name for p in paths.values())
    ['e.json', 't.parquet']
    """
    out_dir = Path(out_dir)
    paths = {}
    for name, obj in tables.items():
        if isinstance(obj, pd.DataFrame):
            paths[name] = write_parquet(obj, out_dir / f"{name}.parquet")
        elif isinstance(obj, ClassifierModel):
            paths[name] = save_model(obj, out_dir / name)
        else:
            paths[name] = write_json(obj, out_dir / f"{name}.json")
    return paths
