"""Event-study figures: coefficients with confidence intervals by weeks since job loss (frame layer).

One line per group, dodged sideways so intervals do not overlap; the reference period is drawn at 0;
suppressed cells (fewer than k job losers) are left out and listed in the caption. Written as PNG and
SVG with the non-interactive Agg backend, atomically.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path

FORMATS = ("png", "svg")


def plot_event_study(
    coefficients: pd.DataFrame,
    path_stem: str | Path,
    *,
    title: str | None = None,
    ylabel: str | None = None,
    formats: tuple[str, ...] = FORMATS,
    dpi: int = 150,
    confidence_level: float = 0.95,
) -> list[Path]:
    """Draw an event-study table (from :func:`event_study` or :func:`heterogeneity`) and write it.

    Parameters
    ----------
    coefficients : DataFrame
        Rows of one metric (and one dimension): ``group, event_time, estimate, ci_low, ci_high,
        suppressed, reference``.
    path_stem : path
        Output path without extension; one file per format is written (``<stem>.png``, ``<stem>.svg``).
    title, ylabel : str, optional
        Figure title and y-axis label (default: the metric name).
    formats : tuple of str
        Any of ``"png"``, ``"svg"``.
    dpi : int
        Resolution of the PNG.
    confidence_level : float
        Level of the intervals in the table (``1 - alpha``), for the caption.

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> c = pd.DataFrame({"metric": "rg_km", "group": "all", "event_time": [-2, -1, 0, 1],
    ...                   "estimate": [0.1, 0.0, -1.0, -1.5], "ci_low": [-0.2, np.nan, -1.4, -2.0],
    ...                   "ci_high": [0.4, np.nan, -0.6, -1.0], "suppressed": False,
    ...                   "reference": [False, True, False, False]})
    >>> [p.suffix for p in plot_event_study(c, Path(tempfile.mkdtemp()) / "es")]
    ['.png', '.svg']
    """
    needed = ["group", "event_time", "estimate", "ci_low", "ci_high", "suppressed", "reference"]
    require_columns(coefficients, needed, "coefficient table", "pass a table from event_study()")
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise MobilityError(f"formats must be a non-empty subset of {FORMATS}, got {formats!r}")
    if "metric" in coefficients.columns and coefficients["metric"].nunique() > 1:
        raise MobilityError("plot one metric at a time: filter the table on its 'metric' column")
    metric = str(coefficients["metric"].iloc[0]) if "metric" in coefficients.columns and len(coefficients) else ""
    groups = list(dict.fromkeys(coefficients["group"]))
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
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
        ax.errorbar(x, y, yerr=err, marker="o", ms=4, capsize=2, lw=1.2, label=str(g))
        hidden = rows.loc[rows["suppressed"].astype(bool), "event_time"].tolist()
        if hidden:
            suppressed_notes.append(f"{g}: k={','.join(str(int(k)) for k in hidden)}")
    ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
    ref = coefficients.loc[coefficients["reference"].astype(bool), "event_time"]
    if len(ref):
        ax.axvline(float(ref.iloc[0]) + 0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("weeks since job loss")
    ax.set_ylabel(ylabel or (f"effect on {metric}" if metric else "effect"))
    ax.set_title(title or (f"Job loss and {metric}" if metric else "Event study"))
    if len(groups) > 1 or groups != ["all"]:
        ax.legend(frameon=False, fontsize=8)
    caption = f"{confidence_level:.0%} CIs; person and week fixed effects; errors clustered by person."
    if suppressed_notes:
        caption += " Suppressed (< k users): " + "; ".join(suppressed_notes)
    fig.text(0.01, 0.01, caption, fontsize=6.5, color="0.3", wrap=True)
    fig.subplots_adjust(left=0.11, right=0.98, top=0.92, bottom=0.17)
    written = []
    stem = Path(path_stem)
    try:
        for fmt in formats:
            target = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi)
            written.append(target)
    finally:
        plt.close(fig)
    return written
