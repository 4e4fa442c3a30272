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
        caption += "; controls: never-losers." if control == "never" else \
            "; controls: never- and not-yet-losers (no reference week; leads from untreated weeks)."
    if suppressed_notes:
        caption += " Suppressed (< k users): " + "; ".join(suppressed_notes)
    # wrapped here: matplotlib's wrap=True lays the text out again at every draw (a third of the figure's cost)
    fig.text(0.01, 0.01, textwrap.fill(caption, 125), fontsize=6.5, color="0.3")
    return fig
