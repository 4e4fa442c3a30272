"""Event-study figures: coefficients with confidence intervals by weeks since job loss (frame layer).

One line per group, dodged sideways so intervals do not overlap; the reference period (where the estimator
has one) is drawn at 0; suppressed cells (fewer than k job losers) are left out and listed in the caption.
Returns a :class:`matplotlib.figure.Figure` (no pyplot state, no backend switch); write it with
:func:`mobility.io.figures.save_figure`.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mobility.checks import require_columns
from mobility.errors import MobilityError

ESTIMATOR_CAPTIONS = {
    "sun_abraham": "Sun-Abraham interaction-weighted estimates (cohort x event week, cohort shares)",
    "twfe": "two-way fixed effects (one dummy per event week; biased with staggered losses)",
}
CONTROL_CAPTIONS = {
    "never": "controls: never-losers.",
    "not_yet": "controls: never- and not-yet-losers (no reference week; leads from untreated weeks).",
    "later": "controls: later losers only, never-losers left out (no reference week; leads from untreated weeks).",
}


def plot_event_study(
    coefficients: pd.DataFrame,
    *,
    ax=None,
    title: str | None = None,
    ylabel: str | None = None,
    confidence_level: float = 0.95,
) -> Figure:
    """Draw an event-study table (from :func:`event_study` or :func:`heterogeneity`) and return its Figure.

    Parameters
    ----------
    coefficients : DataFrame
        Rows of one metric (and one dimension): ``group, event_time, estimate, ci_low, ci_high,
        suppressed, reference`` (and ``estimator``, ``control_group`` for the caption).
    ax : matplotlib Axes, optional
        Where to draw; default a new Figure of 7 x 4.2 inches.
    title, ylabel : str, optional
        Figure title and y-axis label (default: the metric name).
    confidence_level : float
        Level of the intervals in the table (``1 - alpha``), for the caption.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> c = pd.DataFrame({"metric": "rg_km", "group": "all", "event_time": [-2, -1, 0, 1],
    ...                   "estimate": [0.1, 0.0, -1.0, -1.5], "ci_low": [-0.2, np.nan, -1.4, -2.0],
    ...                   "ci_high": [0.4, np.nan, -0.6, -1.0], "suppressed": False,
    ...                   "reference": [False, True, False, False]})
    >>> fig = plot_event_study(c)
    >>> fig.axes[0].get_xlabel()
    'weeks since job loss'
    """
    needed = ["group", "event_time", "estimate", "ci_low", "ci_high", "suppressed", "reference"]
    require_columns(coefficients, needed, "coefficient table", "pass a table from event_study()")
    if "metric" in coefficients.columns and coefficients["metric"].nunique() > 1:
        raise MobilityError("plot one metric at a time: filter the table on its 'metric' column")
    metric = str(coefficients["metric"].iloc[0]) if "metric" in coefficients.columns and len(coefficients) else ""
    if ax is None:
        fig = Figure(figsize=(7.0, 4.2))
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.11, right=0.98, top=0.92, bottom=0.19)
    else:
        fig = ax.figure
    groups = list(dict.fromkeys(coefficients["group"]))
    width = 0.6
    offsets = np.linspace(-width / 2, width / 2, len(groups)) if len(groups) > 1 else np.zeros(1)
    suppressed_notes = []
    for off, g in zip(offsets, groups):
        rows = coefficients[coefficients["group"] == g].sort_values("event_time")
        shown = rows[~rows["suppressed"].astype(bool)]
        x = shown["event_time"].to_numpy(dtype=float) + off
        y = shown["estimate"].to_numpy(dtype=float)
        err = np.vstack([y - shown["ci_low"].to_numpy(dtype=float), shown["ci_high"].to_numpy(dtype=float) - y])
        err = np.nan_to_num(err, nan=0.0)
        hidden = rows.loc[rows["suppressed"].astype(bool), "event_time"].tolist()
        if hidden:
            suppressed_notes.append(f"{g}: k={','.join(str(int(k)) for k in hidden)}")
        if not (~shown["reference"].astype(bool)).any():  # nothing but its reference week: not drawn, only said
            continue
        ax.errorbar(x, y, yerr=err, marker="o", ms=4, capsize=2, lw=1.2, label=str(g))
    ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
    ref = coefficients.loc[coefficients["reference"].astype(bool), "event_time"]
    ax.axvline(float(ref.iloc[0]) + 0.5 if len(ref) else -0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("weeks since job loss")
    ax.set_ylabel(ylabel or (f"effect on {metric}" if metric else "effect"))
    ax.set_title(title or (f"Job loss and {metric}" if metric else "Event study"))
    if (len(groups) > 1 or groups != ["all"]) and ax.containers:  # a legend of the groups drawn, if any
        ax.legend(frameon=False, fontsize=8)
    estimator = coefficients["estimator"].iloc[0] if "estimator" in coefficients.columns and len(coefficients) else None
    control = coefficients["control_group"].iloc[0] if "control_group" in coefficients.columns and len(coefficients) else None
    caption = f"{confidence_level:.0%} CIs; person and week fixed effects; errors clustered by person."
    if estimator in ESTIMATOR_CAPTIONS:
        caption += f" {ESTIMATOR_CAPTIONS[estimator]}"
        caption += f"; {CONTROL_CAPTIONS.get(control, CONTROL_CAPTIONS['never'])}"
    if suppressed_notes:
        caption += " Suppressed (< k users): " + "; ".join(suppressed_notes)
    # wrapped here: matplotlib's wrap=True lays the text out again at every draw (a third of the figure's cost)
    fig.text(0.01, 0.01, textwrap.fill(caption, 125), fontsize=6.5, color="0.3")
    return fig


def plot_comparisons(comparisons: pd.DataFrame, *, confidence_level: float = 0.95) -> Figure:
    """Each metric's pooled DiD under each comparison group, one small panel per metric, and return the Figure.

    Parameters
    ----------
    comparisons : DataFrame
        The ``comparisons`` table (:func:`~mobility.longitudinal.outputs.comparison_table`): ``metric,
        control_group, estimate, ci_low, ci_high, pretrend_p_value, suppressed``.
    confidence_level : float
        Level of the intervals, for the caption.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric (its own scale): a point and interval per comparison group, its pre-trend p beside
        it; suppressed rows are left out and said.

    Examples
    --------
    >>> t = pd.DataFrame({"metric": ["rg_km", "rg_km"], "control_group": ["never", "later"],
    ...                   "estimate": [-1.7, -1.5], "ci_low": [-1.8, -1.7], "ci_high": [-1.6, -1.3],
    ...                   "pretrend_p_value": [1e-6, 0.3], "suppressed": [False, False]})
    >>> fig = plot_comparisons(t)
    >>> [a.get_title() for a in fig.axes], [x.get_text() for x in fig.axes[0].get_yticklabels()]
    (['rg_km'], ['never (pre-trend p 1e-06)', 'later (pre-trend p 0.3)'])
    """
    needed = ["metric", "control_group", "estimate", "ci_low", "ci_high", "pretrend_p_value", "suppressed"]
    require_columns(comparisons, needed, "comparisons table", "pass the longitudinal step's 'comparisons' table")
    metrics = list(dict.fromkeys(comparisons["metric"]))
    groups = list(dict.fromkeys(comparisons["control_group"]))
    n_cols = min(4, max(len(metrics), 1))
    n_rows = -(-len(metrics) // n_cols) if metrics else 1
    fig = Figure(figsize=(3.3 * n_cols, 1.5 * n_rows + 0.6))
    hidden = []
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(n_rows, n_cols, i + 1)
        rows = comparisons[comparisons["metric"] == metric].set_index("control_group").reindex(groups)
        labels = []
        for y, (group, r) in enumerate(rows.iterrows()):
            p = r["pretrend_p_value"]
            labels.append(f"{group} (pre-trend p {p:.1g})" if np.isfinite(p) else f"{group} (no pre-trend test)")
            if bool(r["suppressed"]) or not np.isfinite(r["estimate"]):
                hidden.append(f"{metric} / {group}")
                continue
            ax.errorbar([r["estimate"]], [y], xerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]],
                        fmt="o", ms=4, capsize=2, color=f"C{y}")
        ax.axvline(0.0, color="0.3", lw=0.8, ls="--")
        ax.set_yticks(range(len(groups)), labels, fontsize=7)
        ax.set_ylim(-0.7, len(groups) - 0.3)
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(metric, fontsize=8)
    caption = (f"Difference in differences after vs before the loss, {confidence_level:.0%} CIs, against each "
               "comparison group; beside each, the joint pre-trend test of its leads.")
    if hidden:
        caption += " Not estimable or suppressed: " + "; ".join(hidden)
    fig.text(0.01, 0.01, textwrap.fill(caption, 160), fontsize=6.5, color="0.3")
    fig.subplots_adjust(left=0.16, right=0.96, top=0.93, bottom=0.6 / (1.5 * n_rows + 0.6) + 0.04, wspace=0.9,
                        hspace=0.8)
    return fig
