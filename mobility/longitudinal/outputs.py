"""All longitudinal tables and figures for a panel (frame layer), and writing them (:func:`write_longitudinal`).

:func:`longitudinal_tables` computes; :func:`write_longitudinal` writes; :func:`run_longitudinal` does both.

Tables (``LongitudinalResult.tables``; files ``<name>.{parquet,csv}``)
---------------------------------------------------------------------
``event_study``
    Pooled event study per metric (:data:`~mobility.longitudinal.event_study.COEFFICIENT_COLUMNS` plus
    ``outcome_kind``).
``heterogeneity``
    Paths per group of each dimension (same columns plus ``dimension``, ``n_draws``).
``pretrend``
    Joint pre-trend tests, pooled (``dimension="all"``) and per group.
``did``
    DiD summary per metric, pooled and per group (:data:`~mobility.longitudinal.did.DID_COLUMNS` plus
    ``dimension``, ``outcome_kind``).
``balance``
    Only with matched controls: standardized mean differences before/after.
``comparisons``
    Only with ``compare_controls``: each metric's pooled DiD and pre-trend test against the main comparison
    group and the second one, side by side (:func:`comparison_table`, :data:`COMPARISON_NOTE`).

``outcome_kind`` is ``"nonwork"`` for ``*_nonwork`` metrics (stops at the person's workplaces left out:
behaviour apart from work) and ``"total"`` otherwise (a job loss also changes these mechanically, through
the commute it ends); :data:`OUTCOME_NOTE` says so in words. Figures (``LongitudinalResult.figures``, files
``figures/<name>.{png,svg}``): ``event_study_<metric>[_by_<dimension>]``, and ``comparisons`` with that table.
The manifest (``longitudinal.json``, and ``README.md`` in words) holds the parameters, counts, notes and the file
list.

No output holds user ids; every cell with fewer than ``min_users`` job losers is suppressed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path, write_csv, write_json, write_parquet
from mobility.io.figures import format_targets, save_figure
from mobility.longitudinal.event_study import event_study
from mobility.longitudinal.heterogeneity import heterogeneity
from mobility.longitudinal.matching import apply_match_weights, match_controls
from mobility.longitudinal.panel import EventPanel, prepare_panel
from mobility.longitudinal.params import MATCHING, EventStudyParams
from mobility.longitudinal.plots import plot_comparisons, plot_event_study

TABLE_FORMATS = ("parquet", "csv")
OUTCOME_NOTE = (
    "Outcomes of kind 'total' include the stops at the person's workplaces: after a job loss they change "
    "partly because the commute to work ends (the lost commute), whatever the person does otherwise. Their "
    "'nonwork' twins (*_nonwork) leave out every location ever labelled the person's work place and measure "
    "behaviour apart from the workplace; the gap between a total and its nonwork twin is the lost commute. The "
    "nonwork twins still move with the outings the job itself brought (lunch near work, errands on the way): in "
    "a synthetic world with no change of behaviour planted, a job loss still lowered new locations and moved the "
    "nonwork twins (true stops, 10,000 users; benchmarks/README.md, 'At 10,000 users: the planted world against "
    "a placebo world'): a nonwork effect mixes a change of behaviour with the loss of those outings."
)


Mapper = Callable[[Callable, Sequence], list]
"""``mapper(fn, items) -> [fn(item) for item in items]``, computed wherever the caller likes (the pipeline: worker
processes forked from its own, :meth:`mobility.pipeline.engine.LocalEngine.map`); results in the order of
``items``. The units given to it are independent and deterministic, so the results do not depend on where they
ran."""


def in_order(fn: Callable, items: Sequence) -> list:
    """The default :data:`Mapper`: ``[fn(item) for item in items]``, here, one after the other.

    Examples
    --------
    >>> in_order(abs, [-1, 2, -3])
    [1, 2, 3]
    """
    return [fn(item) for item in items]


def outcome_kind(metric: str) -> str:
    """``"nonwork"`` for a ``*_nonwork`` metric (workplace stops left out), ``"total"`` otherwise.

    Examples
    --------
    >>> outcome_kind("radius_of_gyration_km_nonwork"), outcome_kind("radius_of_gyration_km")
    ('nonwork', 'total')
    """
    return "nonwork" if metric.endswith("_nonwork") else "total"


@dataclass
class LongitudinalResult:
    """Tables (name -> DataFrame), figures (name -> matplotlib Figure) and the manifest of a longitudinal
    analysis; :func:`write_longitudinal` writes them."""

    tables: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)


def write_table(df: pd.DataFrame, path_stem: str | os.PathLike, formats: tuple[str, ...] = TABLE_FORMATS) -> list[Path]:
    """Write ``df`` as ``<stem>.parquet`` and/or ``<stem>.csv``, each atomically.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_table(pd.DataFrame({"a": [1]}), Path(tempfile.mkdtemp()) / "t")
    >>> [p.name for p in paths]
    ['t.parquet', 't.csv']
    """
    targets = format_targets(path_stem, formats, TABLE_FORMATS, "table")
    for fmt, target in zip(formats, targets):
        (write_parquet if fmt == "parquet" else write_csv)(df, target)
    return targets


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


COMPARISON_COLUMNS = ("metric", "control_group", "main", "estimate", "ci_low", "ci_high", "p_value", "pretrend_p_value",
                      "n_users_post", "n_control_users", "suppressed")
COMPARISON_NOTE = (
    "Table 'comparisons' puts each metric's pooled DiD and joint pre-trend test against two comparison groups side "
    "by side: '{main}' (the estimates of every other table) and '{other}'. 'never': people who never lose their "
    "job; 'later': job losers alone, each compared with people who lose their job later, in the weeks before "
    "their loss. A shock that moved never-losers apart from future losers (in 2020, remote work: on the synthetic "
    "regions, never-losers went remote while future losers kept commuting until their loss) poses as a "
    "pre-trend against never-losers and not against later losers: where the first rejects and the second does "
    "not, with DiDs that agree, the pre-trend points to that shock rather than to anticipation of the job loss. "
    "Later losers are fewer, so their intervals are wider and their pre-trend test weaker: in simulated panels of "
    "about 50 job losers it found a planted anticipation (a drop as large as the planted effect at the loss, in "
    "the two weeks before it) much less often than the never-loser test did (benchmarks/README.md, 'Later losers "
    "as controls'): at that size a test that does not reject is weak evidence."
)


def comparison_table(fits: dict) -> pd.DataFrame:
    """Each metric's pooled DiD summary and pre-trend test under each comparison group, side by side.

    Parameters
    ----------
    fits : dict of str to EventStudyResult
        Comparison group (``control_group``) -> the pooled event study fitted with it; the first is the main one.

    Returns
    -------
    DataFrame
        Columns :data:`COMPARISON_COLUMNS`: one row per metric and comparison group, ``main`` True for the first;
        ``estimate``, ``ci_low``, ``ci_high``, ``p_value`` of the DiD summary, ``pretrend_p_value`` of the leads.

    Examples
    --------
    >>> weeks = pd.date_range("2020-01-06", periods=10, freq="7D")
    >>> rows = [(u, w, (u % 5) + 0.2 * t - 1.0 * (u < 40 and t >= 3 + u % 4) + 0.05 * ((u * 7 + t) % 3),
    ...          weeks[3 + u % 4] if u < 40 else pd.NaT) for u in range(80) for t, w in enumerate(weeks)]
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week"])
    >>> fits = {c: event_study(panel, "rg_km", window=(-2, 3), control_group=c) for c in ("never", "later")}
    >>> comparison_table(fits)[["control_group", "main", "estimate", "n_control_users"]].round(2).to_dict("list")
    {'control_group': ['never', 'later'], 'main': [True, False], 'estimate': [-1.0, -1.0], 'n_control_users': [40, 40]}
    """
    rows = []
    for i, (name, res) in enumerate(fits.items()):
        did = res.did[res.did["group"] == "all"].set_index("metric")
        pre = res.pretrend[res.pretrend["group"] == "all"].set_index("metric")["p_value"]
        rows.append(did.assign(control_group=name, main=i == 0, pretrend_p_value=pre.reindex(did.index)).reset_index())
    return pd.concat(rows, ignore_index=True)[list(COMPARISON_COLUMNS)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "x"


def longitudinal_tables(
    panel: pd.DataFrame,
    metrics: list[str],
    groups: list[str],
    *,
    params: EventStudyParams | None = None,
    draws: pd.DataFrame | dict[str, pd.DataFrame] | None = None,
    matching: str = "none",
    match_covariates: list[str] | None = None,
    match_exact: list[str] | tuple = (),
    match_options: dict | None = None,
    compare_controls: str | None = None,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
    mapper: Mapper = in_order,
) -> LongitudinalResult:
    """Event studies, heterogeneity, DiD summaries, balance and figures for every metric.

    Parameters
    ----------
    panel : DataFrame or EventPanel
        User-week panel (:mod:`mobility.longitudinal.panel`), or that panel prepared once with ``groups``
        (:func:`~mobility.longitudinal.panel.prepare_panel`; not with ``matching`` or ``draws``).
    metrics : list of str
        Metric columns to analyse.
    groups : list of str
        Demographic dimensions (columns of ``panel``, or of ``draws``).
    params : EventStudyParams, optional
        Estimator, comparison group, window, inference and privacy settings (defaults of
        :class:`~mobility.longitudinal.params.EventStudyParams`).
    draws : DataFrame or dict, optional
        Group draws (``user_id, draw, <dimension>``), combined with Rubin's rules; default modal columns.
    matching : {"none", "nearest", "cem"}
        All never-losers as controls, or matched ones (:func:`~mobility.longitudinal.matching.match_controls`
        on ``match_covariates`` (default: ``metrics``) and ``match_exact``; more keywords in
        ``match_options``).
    compare_controls : str, optional
        A second comparison group for the pooled study (``control_group`` of
        :class:`~mobility.longitudinal.params.EventStudyParams`, e.g. ``"later"``): fitted again with it, and
        table ``comparisons`` holds each metric's DiD and pre-trend test under both (:func:`comparison_table`).
        Ignored where it equals ``params.control_group``, with ``estimator="twfe"`` or with ``matching``.
    mapper : callable, default :func:`in_order`
        Runs the independent fits, ``mapper(fn, units)`` (:data:`Mapper`): the pooled event study and one
        :func:`~mobility.longitudinal.heterogeneity.heterogeneity` per dimension, each over every metric; the
        tables are the same whichever mapper runs them.

    Returns
    -------
    LongitudinalResult

    Examples
    --------
    >>> weeks = pd.date_range("2020-01-06", periods=8, freq="7D")
    >>> rows = [(u, w, (u % 5) + 0.2 * t - 1.0 * (u < 30 and t >= 4) + 0.05 * ((u * 7 + t) % 3),
    ...          weeks[4] if u < 30 else pd.NaT, "a" if u % 2 else "b")
    ...         for u in range(60) for t, w in enumerate(weeks)]
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week", "sex"])
    >>> res = longitudinal_tables(panel, ["rg_km"], ["sex"], params=EventStudyParams(window=(-3, 3)))
    >>> sorted(res.tables), sorted(res.figures)
    (['did', 'event_study', 'heterogeneity', 'pretrend'], ['event_study_rg_km', 'event_study_rg_km_by_sex'])
    """
    params = params or EventStudyParams()
    if matching not in MATCHING:
        raise MobilityError(f"matching must be one of {list(MATCHING)}, got {matching!r}")
    if not metrics:
        raise MobilityError("longitudinal_tables needs at least one metric column")
    metrics = list(metrics)
    if matching != "none" and params.control_group == "later":
        raise MobilityError("matching picks never-losers as controls and control_group='later' leaves them out: "
                            "use matching='none' with it")
    if isinstance(panel, EventPanel) and (matching != "none" or draws is not None):
        raise MobilityError("matching and group draws need the panel frame, not a prepared panel")
    es_kwargs = dict(params.event_study_kwargs(), event_col=event_col, user_col=user_col, week_col=week_col)
    weight_col, balance, match_info = None, None, None
    if matching != "none":
        match = match_controls(panel, list(match_covariates or metrics), exact=list(match_exact), method=matching,
                               event_col=event_col, user_col=user_col, week_col=week_col, **(match_options or {}))
        if match.info["n_treated_matched"] == 0:  # else the fits say no loser has data, hiding why
            i = match.info
            why = (f"no control within caliper_sd = {i['caliper_sd']} standard deviations, Euclidean over "
                   f"{len(i['covariates'])} covariates" if matching == "nearest" else
                   f"no stratum of {i['n_bins']} bins on each of {len(i['covariates'])} covariates holds a loser and "
                   "a control")
            raise MobilityError(
                f"matching={matching!r} matched none of the {i['n_treated']} job losers to a control "
                f"({i['n_without_baseline']} users without a baseline mean of every covariate; {why}); match on "
                "fewer covariates, widen the caliper or bins, or use matching='none'")
        weight_col = "_match_weight"
        panel = apply_match_weights(panel, match, user_col=user_col, weight_col=weight_col)
        balance, match_info = match.balance, match.info
    groups = list(groups)
    if draws is None and not isinstance(panel, EventPanel):
        # validated and coded once: the units below share it (forked workers, without a copy)
        panel = prepare_panel(panel, metrics, event_col=event_col, user_col=user_col, week_col=week_col,
                              weight_col=weight_col, strata=es_kwargs["time_effects_by"], any_metric=True,
                              groups=groups)

    compare = compare_controls if (compare_controls not in (None, params.control_group)
                                   and params.estimator == "sun_abraham" and matching == "none") else None

    def fit(dimension: str | None | tuple):
        """One unit of work: the pooled study (``None``), the paths by one dimension's groups, or the pooled study
        against the comparison group ``("controls", name)`` (its error message where it cannot be estimated)."""
        if dimension is None:
            return event_study(panel, metrics, weight_col=weight_col, **es_kwargs)
        if isinstance(dimension, tuple):
            try:
                kwargs = {**es_kwargs, "control_group": dimension[1]}
                return event_study(panel, metrics, weight_col=weight_col, **kwargs)
            except MobilityError as exc:
                return str(exc)
        return heterogeneity(panel, metrics, [dimension], draws=draws, weight_col=weight_col, **es_kwargs)

    es, *by_dimension = mapper(fit, [None, *groups] + ([("controls", compare)] if compare else []))
    other = by_dimension.pop() if compare else None
    did_tables = [es.did.assign(dimension="all")]  # the DiD summaries come from the same fits
    pre_tables = [es.pretrend.assign(dimension="all", n_draws=0)]
    het_coefficients = None
    if groups:  # as one heterogeneity() over every dimension: its tables are the dimensions' stacked in order
        het_coefficients = pd.concat([h.coefficients for h in by_dimension], ignore_index=True)
        pre_tables.append(pd.concat([h.pretrend for h in by_dimension], ignore_index=True))
        did_tables.append(pd.concat([h.did for h in by_dimension], ignore_index=True))
    figures = {}
    level = 1 - params.alpha
    for metric in metrics:
        figures[f"event_study_{_slug(metric)}"] = plot_event_study(
            es.coefficients[es.coefficients["metric"] == metric], confidence_level=level)
        for dim in groups:
            sub = het_coefficients[(het_coefficients["dimension"] == dim) & (het_coefficients["metric"] == metric)]
            figures[f"event_study_{_slug(metric)}_by_{_slug(dim)}"] = plot_event_study(
                sub, confidence_level=level, title=f"Job loss and {metric}, by {dim}")
    kind = {m: outcome_kind(m) for m in metrics}
    tables = {"event_study": es.coefficients, "pretrend": pd.concat(pre_tables, ignore_index=True),
              "did": pd.concat(did_tables, ignore_index=True)}
    if het_coefficients is not None:
        tables["heterogeneity"] = het_coefficients
    if balance is not None:
        tables["balance"] = balance
    comparison = None
    if compare:
        comparison = {"control_group": compare, "estimated": not isinstance(other, str)}
        if isinstance(other, str):
            comparison["reason"] = other
        else:
            tables["comparisons"] = comparison_table({params.control_group: es, compare: other})
            figures["comparisons"] = plot_comparisons(tables["comparisons"], confidence_level=level)
            comparison["pretrend_tests"] = {
                name: {"below_0.01": int((t["pretrend_p_value"] < 0.01).sum()),
                       "tested": int(t["pretrend_p_value"].notna().sum())}
                for name, t in tables["comparisons"].groupby("control_group", sort=False)}
    for name in ("event_study", "pretrend", "did", "heterogeneity", "comparisons"):
        if name in tables:
            tables[name] = tables[name].assign(outcome_kind=tables[name]["metric"].map(kind))
    manifest = {
        "metrics": metrics, "outcome_kind": kind, "groups": list(groups), "matching": matching,
        "draws": draws is not None, "parameters": params.to_dict(), "match_info": match_info,
        "event_study_info": es.info, "notes": {"outcomes": OUTCOME_NOTE},
    }
    if comparison is not None:
        manifest["comparison"] = comparison
        manifest["notes"]["comparisons"] = COMPARISON_NOTE.format(main=params.control_group, other=compare)
    return LongitudinalResult(tables, figures, manifest)


def write_longitudinal(
    result: LongitudinalResult,
    out_dir: str | os.PathLike,
    *,
    table_formats: tuple[str, ...] = TABLE_FORMATS,
    figure_formats: tuple[str, ...] = ("png", "svg"),
    mapper: Mapper = in_order,
) -> dict:
    """Write ``result`` under ``out_dir``: tables (counts below k blanked), figures, ``longitudinal.json`` and a
    ``README.md`` saying what the outputs are and how to read them (notes included). Returns the manifest.

    The figures are rendered and written one per unit of ``mapper`` (:data:`Mapper`; default here, in order):
    rendering is most of the cost of writing, and each figure is its own files.

    Examples
    --------
    >>> import tempfile
    >>> m = write_longitudinal(LongitudinalResult({"did": pd.DataFrame({"n_users_pre": [12]})}, {},
    ...                                           {"parameters": {"min_users": 10}}), tempfile.mkdtemp())
    >>> m["files"]
    ['README.md', 'did.csv', 'did.parquet', 'longitudinal.json']
    """
    out = Path(out_dir)
    k = int(result.manifest.get("parameters", {}).get("min_users", 10))
    files: list[Path] = []
    for name, table in result.tables.items():
        files += write_table(_blank_small_counts(table, k), out / name, table_formats)

    def save(name: str) -> list[Path]:
        return save_figure(result.figures[name], out / "figures" / name, figure_formats)

    for paths in mapper(save, list(result.figures)):
        files += paths
    names = sorted([str(p.relative_to(out)) for p in files] + ["README.md", "longitudinal.json"])
    manifest = {**result.manifest, "files": names}
    with atomic_path(out / "README.md") as tmp:
        tmp.write_text(_readme(manifest))
    write_json(manifest, out / "longitudinal.json")
    return manifest


def _readme(manifest: dict) -> str:
    """The manifest in words, for people reading the output folder (and the report quoting it)."""
    lines = ["# Longitudinal outputs: how job loss changes mobility", ""]
    if manifest.get("skipped"):
        return "\n".join(lines + [f"No event study: {manifest['skipped']}", ""])
    p = manifest.get("parameters", {})
    lines += [f"Estimator: {p.get('estimator')} (controls: {p.get('control_group')}), window {p.get('window')}, "
              f"cells with fewer than {p.get('min_users')} job losers suppressed.", ""]
    if manifest.get("dating"):
        lines += [f"Job losses dated by: {manifest['dating']['method']} ({manifest['dating']['reason']}).", ""]
    for title, note in manifest.get("notes", {}).items():
        lines += [f"## {title.capitalize()}", "", note, ""]
    comparison = manifest.get("comparison")
    if comparison and not comparison.get("estimated", True):
        lines += [f"The comparison with control group '{comparison['control_group']}' could not be estimated: "
                  f"{comparison.get('reason')}", ""]
    elif comparison:
        counts = "; ".join(f"against '{c}' {n['below_0.01']} of {n['tested']} tested"
                           for c, n in comparison.get("pretrend_tests", {}).items())
        lines += [f"Metrics whose pooled pre-trend test rejects at p < 0.01: {counts} (table `comparisons`).", ""]
    kinds = manifest.get("outcome_kind", {})
    if kinds:
        lines += ["## Outcome kinds", ""] + [f"- `{m}`: {kind}" for m, kind in kinds.items()] + [""]
    lines += ["## Files", ""] + [f"- `{f}`" for f in manifest.get("files", [])] + [""]
    return "\n".join(lines)


def run_longitudinal(panel: pd.DataFrame, metrics: list[str], groups: list[str], out_dir: str | os.PathLike, *,
                     table_formats: tuple[str, ...] = TABLE_FORMATS, figure_formats: tuple[str, ...] = ("png", "svg"),
                     **kwargs) -> dict:
    """:func:`longitudinal_tables` then :func:`write_longitudinal`; ``kwargs`` are those of the first plus the
    fields of :class:`~mobility.longitudinal.params.EventStudyParams` (e.g. ``window=(-4, 8)``).

    Examples
    --------
    >>> import tempfile
    >>> weeks = pd.date_range("2020-01-06", periods=8, freq="7D")
    >>> rows = [(u, w, (u % 5) + 0.2 * t - 1.0 * (u < 30 and t >= 4) + 0.05 * ((u * 7 + t) % 3),
    ...          weeks[4] if u < 30 else pd.NaT) for u in range(60) for t, w in enumerate(weeks)]
    >>> panel = pd.DataFrame(rows, columns=["user_id", "week", "rg_km", "job_loss_week"])
    >>> sorted(run_longitudinal(panel, ["rg_km"], [], tempfile.mkdtemp(), window=(-3, 3))["files"])[:3]
    ['README.md', 'did.csv', 'did.parquet']
    """
    fields = set(EventStudyParams.__dataclass_fields__)
    params = EventStudyParams(**{k: kwargs.pop(k) for k in list(kwargs) if k in fields})
    result = longitudinal_tables(panel, metrics, groups, params=params, **kwargs)
    return write_longitudinal(result, out_dir, table_formats=table_formats, figure_formats=figure_formats)
