"""Frame-level entry point of the ``employment`` stage: stops + labels + census -> status and area tables.

:func:`estimate_employment` runs, in order: the baseline workplace
(:func:`~mobility.employment.attendance.baseline_workplace`), weekly attendance at each worker's workplace
from the visits, the relative panel, the signal method (sector P_s, events, statuses), and,
when ``labels_truth`` is given, the LightGBM classifier; then the area tables of both methods and both
routes. :func:`write_employment` writes every table atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from mobility.employment.area import (
    area_unemployment,
    home_cbg,
    sector_area_unemployment,
)
from mobility.employment.attendance import (
    baseline_workplace,
    relative_attendance,
    weekly_attendance,
)
from mobility.employment.classifier import train_classifier, weekly_features
from mobility.employment.params import ClassifierParams, EmploymentParams
from mobility.employment.status import signal_status
from mobility.io.atomic import write_json, write_parquet


def estimate_employment(stops: pd.DataFrame, labels: pd.DataFrame, features: pd.DataFrame, telework: pd.Series, *,
                        metrics: pd.DataFrame | None = None, wac_county: pd.DataFrame | None = None,
                        timezone: str | None = None, params: EmploymentParams | None = None,
                        classifier: ClassifierParams | None = None,
                        labels_truth: pd.DataFrame | None = None) -> dict:
    """Employment status week by week with both methods, and unemployment by area.

    Parameters
    ----------
    stops : DataFrame
        The visits: ``user_id``, ``start``, ``end``, ``location_id`` (optional ``utc_offset_s``).
    labels : DataFrame
        ``home_work_daily`` of the same visits: ``user_id``, ``date``, ``work_location_id``, ``work_status``,
        ``home_cbg``.
    features : DataFrame
        ``work_features`` of each user's baseline work CBG (``user_id``, ``w_CNS..``, ``p_..``, ``telework``).
    telework : Series
        tau_s by sector.
    metrics : DataFrame, optional
        ``weekly_metrics`` output (classifier features).
    wac_county : DataFrame, optional
        LODES WAC by county for the sector route.
    timezone : str, optional
        Local time zone of days and work hours.
    labels_truth : DataFrame, optional
        ``user_id``, ``week``, ``status``: trains the classifier when given.

    Returns
    -------
    dict
        ``employment_weekly`` (both methods stacked), ``sector_weekly``, ``event_starts``,
        ``area_unemployment``, and with a classifier ``feature_importance`` and ``classifier_evaluation``
        (a dict).

    Examples
    --------
    See ``tests/employment/test_estimate.py`` and ``benchmarks/bench_employment.py``.
    """
    params = params or EmploymentParams()
    base = baseline_workplace(labels, params=params)
    weekly = weekly_attendance(stops, labels, timezone=timezone, params=params)
    panel = relative_attendance(weekly, base, params=params)
    signal = signal_status(panel, features, telework, params=params)
    tables = dict(signal.tables)
    employment = [tables["employment_weekly"]]
    if labels_truth is not None:
        mats = weekly_features(signal, features=features, metrics=metrics, timezone=timezone, params=params)
        clf, evaluation, importance = train_classifier(signal, mats, labels_truth, params=params,
                                                       classifier=classifier)
        employment.append(clf)
        tables["feature_importance"] = importance
        tables["classifier_evaluation"] = evaluation
    tables["employment_weekly"] = pd.concat(employment, ignore_index=True)
    area = [area_unemployment(tables["employment_weekly"], home_cbg(labels), params=params)]
    if wac_county is not None:
        area.append(sector_area_unemployment(tables["sector_weekly"], wac_county, params=params))
    tables["area_unemployment"] = pd.concat(area, ignore_index=True)
    return tables


def write_employment(tables: dict, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write every table as ``<name>.parquet`` and dicts as ``<name>.json`` under ``out_dir`` (atomically).

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
        else:
            paths[name] = write_json(obj, out_dir / f"{name}.json")
    return paths
