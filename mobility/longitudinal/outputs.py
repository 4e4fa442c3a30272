"""All longitudinal tables and figures for a panel, written atomically (frame layer; the pipeline calls it).

Files under ``out_dir``
-----------------------
``event_study.{parquet,csv}``
    Pooled event study per metric (:data:`~mobility.longitudinal.event_study.COEFFICIENT_COLUMNS`).
``heterogeneity.{parquet,csv}``
    Paths per group of each dimension (same columns plus ``dimension``, ``n_draws``).
``pretrend.{parquet,csv}``
    Joint pre-trend tests, pooled (``dimension="all"``) and per group.
``did.{parquet,csv}``
    DiD summary per metric, pooled and per group (:data:`~mobility.longitudinal.did.DID_COLUMNS` plus
    ``dimension``).
``balance.{parquet,csv}``
    Only with matched controls: standardized mean differences before/after.
``figures/event_study_<metric>[_by_<dimension>].{png,svg}``
``longitudinal.json``
    Parameters, sample sizes and the list of files.

No output holds user ids; every cell with fewer than ``min_users`` job losers is suppressed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from mobility.errors import MobilityError
from mobility.io.atomic import write_csv, write_json, write_parquet
from mobility.longitudinal.did import did_summary
from mobility.longitudinal.event_study import event_study
from mobility.longitudinal.heterogeneity import heterogeneity
from mobility.longitudinal.matching import apply_match_weights, match_controls
from mobility.longitudinal.plots import plot_event_study

TABLE_FORMATS = ("parquet", "csv")
CONTROLS = ("all", "nearest", "cem")


def write_table(df: pd.DataFrame, path_stem: str | os.PathLike, formats: tuple[str, ...] = TABLE_FORMATS) -> list[Path]:
    """Write ``df`` as ``<stem>.parquet`` and/or ``<stem>.csv``, each atomically.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_table(pd.DataFrame({"a": [1]}), Path(tempfile.mkdtemp()) / "t")
    >>> [p.name for p in paths]
    ['t.parquet', 't.csv']
    """
    bad = [f for f in formats if f not in TABLE_FORMATS]
    if bad or not formats:
        raise MobilityError(f"table formats must be a non-empty subset of {TABLE_FORMATS}, got {formats!r}")
    stem = Path(path_stem)
    out = []
    for fmt in formats:
        target = stem.with_name(f"{stem.name}.{fmt}")
        if fmt == "parquet":
            write_parquet(df, target)
        else:
            write_csv(df, target)
        out.append(target)
    return out


def _blank_small_counts(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """Published tables: user counts of suppressed cells, and any count below ``k`` (the reference period of
    a small group), are blanked too, as the report does.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [1.0, None, 0.0], "n_users": [40, 3, 4], "suppressed": [False, True, False]})
    >>> _blank_small_counts(t, 10)["n_users"].tolist()
    [40.0, nan, nan]
    """
    suppressed = table["suppressed"].fillna(False).astype(bool) if "suppressed" in table.columns else False
    counts = [c for c in table.columns if c.startswith("n_users")]
    return table.assign(**{c: table[c].astype(float).where(~(suppressed | (table[c] < k))) for c in counts})


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "x"


def run_longitudinal(
    panel: pd.DataFrame,
    metrics: list[str],
    groups: list[str],
    out_dir: str | os.PathLike,
    *,
    draws: pd.DataFrame | dict[str, pd.DataFrame] | None = None,
    controls: str = "all",
    match_covariates: list[str] | None = None,
    match_exact: list[str] | tuple = (),
    match_options: dict | None = None,
    window: tuple[int, int] = (-4, 12),
    reference_period: int = -1,
    bin_endpoints: bool = True,
    min_users: int = 10,
    alpha: float = 0.05,
    df_correction: str = "dummies",
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
    table_formats: tuple[str, ...] = TABLE_FORMATS,
    figure_formats: tuple[str, ...] = ("png", "svg"),
) -> dict:
    """Event studies, heterogeneity, DiD summaries, balance and figures for every metric; returns the manifest.

    Parameters
    ----------
    panel : DataFrame
        User-week panel (:mod:`mobility.longitudinal.panel`).
    metrics : list of str
        Metric columns to analyse.
    groups : list of str
        Demographic dimensions (columns of ``panel``, or of ``draws``).
    out_dir : path
        Output folder (created).
    draws : DataFrame or dict, optional
        Group draws (``user_id, draw, <dimension>``), combined with Rubin's rules; default modal columns.
    controls : {"all", "nearest", "cem"}
        All never-losers as controls, or matched ones (:func:`~mobility.longitudinal.matching.match_controls`
        on ``match_covariates`` (default: ``metrics``) and ``match_exact``; more keywords in
        ``match_options``).
    window, reference_period, bin_endpoints, min_users, alpha, df_correction :
        As in :func:`~mobility.longitudinal.event_study.event_study`.

    Returns
    -------
    dict
        The manifest also written to ``longitudinal.json``.

    Examples
    --------
    >>> import tempfile
    >>> weeks = pd.date_range("2020-01-06", periods=8, freq="7D")
    >>> rows = [(u, w, (u % 5) + 0.2 * t - 1.0 * (u < 30 and t >= 4) + 0.05 * ((u * 7 + t) % 3),
    ...          weeks[4] if u < 30 else pd.NaT, "a" if u % 2 else "b")
    ...         for u in range(60) for t, w in enumerate(weeks)]
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week", "sex"])
    >>> m = run_longitudinal(panel, ["rg_km"], ["sex"], tempfile.mkdtemp(), window=(-3, 3))
    >>> sorted(m["files"])[:3]
    ['did.csv', 'did.parquet', 'event_study.csv']
    """
    if controls not in CONTROLS:
        raise MobilityError(f"controls must be one of {CONTROLS}, got {controls!r}")
    if not metrics:
        raise MobilityError("run_longitudinal needs at least one metric column")
    out = Path(out_dir)
    es_kwargs = dict(event_col=event_col, user_col=user_col, week_col=week_col, window=window,
                     reference_period=reference_period, bin_endpoints=bin_endpoints, min_users=min_users,
                     alpha=alpha, df_correction=df_correction)
    did_kwargs = dict(event_col=event_col, user_col=user_col, week_col=week_col, window=window,
                      min_users=min_users, alpha=alpha, df_correction=df_correction)
    weight_col = None
    balance = None
    match_info = None
    if controls != "all":
        match = match_controls(panel, list(match_covariates or metrics), exact=list(match_exact), method=controls,
                               event_col=event_col, user_col=user_col, week_col=week_col, **(match_options or {}))
        weight_col = "_match_weight"
        panel = apply_match_weights(panel, match, user_col=user_col, weight_col=weight_col)
        balance, match_info = match.balance, match.info

    es_tables, het_tables, pre_tables, did_tables, infos = [], [], [], [], {}
    files: list[Path] = []
    for metric in metrics:
        es = event_study(panel, metric, weight_col=weight_col, **es_kwargs)
        es_tables.append(es.coefficients)
        pre_tables.append(es.pretrend.assign(dimension="all", n_draws=0))
        infos[metric] = es.info
        did_tables.append(did_summary(panel, metric, weight_col=weight_col, **did_kwargs).assign(dimension="all"))
        files += plot_event_study(es.coefficients, out / "figures" / f"event_study_{_slug(metric)}",
                                  formats=figure_formats, confidence_level=1 - alpha)
        if groups:
            het = heterogeneity(panel, metric, list(groups), draws=draws, weight_col=weight_col, **es_kwargs)
            het_tables.append(het.coefficients)
            pre_tables.append(het.pretrend)
            for dim in groups:
                did_tables.append(did_summary(panel, metric, group=dim, draws=draws, weight_col=weight_col,
                                              **did_kwargs).assign(dimension=dim))
                sub = het.coefficients[het.coefficients["dimension"] == dim]
                files += plot_event_study(sub, out / "figures" / f"event_study_{_slug(metric)}_by_{_slug(dim)}",
                                          formats=figure_formats, confidence_level=1 - alpha,
                                          title=f"Job loss and {metric}, by {dim}")

    tables = {
        "event_study": pd.concat(es_tables, ignore_index=True),
        "pretrend": pd.concat(pre_tables, ignore_index=True),
        "did": pd.concat(did_tables, ignore_index=True),
    }
    if het_tables:
        tables["heterogeneity"] = pd.concat(het_tables, ignore_index=True)
    if balance is not None:
        tables["balance"] = balance
    for name, table in tables.items():
        files += write_table(_blank_small_counts(table, min_users), out / name, table_formats)
    manifest = {
        "metrics": list(metrics), "groups": list(groups), "controls": controls, "draws": draws is not None,
        "parameters": {k: v for k, v in es_kwargs.items()}, "matching": match_info, "event_study_info": infos,
        "files": sorted(str(p.relative_to(out)) for p in files),
    }
    write_json(manifest, out / "longitudinal.json")
    return manifest
