"""The report's figures, drawn with matplotlib (Agg) from the suppressed tables and embedded as base64 PNG.

Each function takes one of the report's tables (already suppressed: a figure never sees a small cell) and
returns a ``data:image/png;base64,...`` URI; suppressed rows are simply not drawn (the map hatches them).
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

DPI = 110
METRIC_LABELS = {
    "radius_of_gyration_km": "radius of gyration (km)",
    "exploration_rate": "exploration rate (new / all visits)",
    "distinct_locations": "distinct locations",
    "new_locations": "new locations",
}


def to_data_uri(fig) -> str:
    """Render a matplotlib figure as a base64 PNG data URI and close it.

    Examples
    --------
    >>> fig, ax = plt.subplots(figsize=(1, 1))
    >>> to_data_uri(fig)[:22]
    'data:image/png;base64,'
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _empty(message: str):
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10, color="0.3")
    return fig


def trend_figure(trend: pd.DataFrame, month: str, *, names: dict[str, str] | None = None) -> str:
    """Monthly unemployment rate per area with its 95% band, the report month marked.

    Examples
    --------
    >>> t = pd.DataFrame({"level": "state", "area": "42", "month": ["2020-03", "2020-04"], "rate": [0.05, 0.2],
    ...                   "rate_low": [0.02, 0.1], "rate_high": [0.1, 0.3], "suppressed": False})
    >>> trend_figure(t, "2020-04").startswith("data:image/png;base64,")
    True
    """
    names = names or {}
    shown = trend[~trend["suppressed"].astype(bool)]
    if shown.empty:
        return to_data_uri(_empty("no area with enough users in these months"))
    levels = [lv for lv in ("state", "county") if (shown["level"] == lv).any()]
    fig, axes = plt.subplots(1, len(levels), figsize=(5.2 * len(levels), 3.6), squeeze=False, sharey=True)
    for ax, level in zip(axes[0], levels):
        for area, g in shown[shown["level"] == level].groupby("area", sort=True):
            x = pd.PeriodIndex(g["month"], freq="M").to_timestamp()
            line, = ax.plot(x, 100 * g["rate"], marker="o", ms=3, label=names.get(area, area))
            ax.fill_between(x, 100 * g["rate_low"], 100 * g["rate_high"], color=line.get_color(), alpha=0.15)
        ax.axvline(pd.Period(month, freq="M").to_timestamp(), color="0.5", lw=0.8, ls="--")
        ax.xaxis.set_major_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        ax.set_title(f"by {level}")
        ax.set_ylabel("unemployment rate (%)")
        ax.legend(fontsize=7, loc="upper left")
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    return to_data_uri(fig)


def county_map_figure(month_rates: pd.DataFrame, polygons, *, title: str = "") -> str:
    """Choropleth of the month's county rates on county polygons; suppressed counties hatched grey.

    ``polygons`` is a GeoDataFrame with ``GEOID`` (block groups or counties; block groups are dissolved to
    counties). No coordinate of any person is drawn.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> poly = gpd.GeoDataFrame({"GEOID": ["421010001001", "420450001001"]},
    ...                         geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    >>> r = pd.DataFrame({"level": "county", "area": ["42101", "42045"], "rate": [0.1, np.nan],
    ...                   "suppressed": [False, True]})
    >>> county_map_figure(r, poly).startswith("data:image/png;base64,")
    True
    """
    counties = polygons.assign(area=polygons["GEOID"].astype(str).str.slice(0, 5))[["area", "geometry"]]
    counties = counties.dissolve(by="area").reset_index()
    rates = month_rates[month_rates["level"] == "county"][["area", "rate", "suppressed"]]
    shapes = counties.merge(rates, on="area", how="left")
    shapes["suppressed"] = shapes["suppressed"].fillna(True).astype(bool)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    shown = shapes[~shapes["suppressed"]]
    hidden = shapes[shapes["suppressed"]]
    if len(hidden):
        hidden.plot(ax=ax, color="0.88", edgecolor="0.5", hatch="///", linewidth=0.6)
    if len(shown):
        shown.assign(pct=100 * shown["rate"]).plot(ax=ax, column="pct", cmap="OrRd", edgecolor="0.3",
                                                   linewidth=0.6, legend=True,
                                                   legend_kwds={"label": "unemployment rate (%)", "shrink": 0.7})
    for _, row in shapes.iterrows():
        point = row.geometry.representative_point()
        label = row["area"] if row["suppressed"] else f"{row['area']}\n{100 * row['rate']:.1f}%"
        ax.annotate(label, (point.x, point.y), ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8, "lw": 0})
    ax.set_axis_off()
    ax.set_title(title or "county estimates (hatched: fewer than k users)", fontsize=10)
    fig.tight_layout()
    return to_data_uri(fig)


def comparison_figure(comparison: pd.DataFrame) -> str:
    """Estimated vs official monthly rates, one panel per source, the diagonal drawn.

    Examples
    --------
    >>> c = pd.DataFrame({"source": "laus_county", "level": "county", "area": "42101", "month": ["2020-04"],
    ...                   "estimate": [0.1], "official": [0.12], "suppressed": [False]})
    >>> comparison_figure(c).startswith("data:image/png;base64,")
    True
    """
    shown = comparison[~comparison["suppressed"].astype(bool)].dropna(subset=["estimate", "official"])
    if shown.empty:
        return to_data_uri(_empty("no official value matches an estimate with enough users"))
    sources = sorted(shown["source"].unique())
    fig, axes = plt.subplots(1, len(sources), figsize=(4.2 * len(sources), 3.8), squeeze=False)
    for ax, source in zip(axes[0], sources):
        g = shown[shown["source"] == source]
        for area, h in g.groupby("area", sort=True):
            ax.scatter(100 * h["official"], 100 * h["estimate"], s=16, label=area)
        hi = 100 * float(np.nanmax(np.r_[g["official"], g["estimate"], 0.01])) * 1.05
        ax.plot([0, hi], [0, hi], color="0.5", lw=0.8)
        ax.set_xlabel(f"{source} rate (%)")
        ax.set_ylabel("estimated rate (%)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return to_data_uri(fig)


def mobility_figure(table: pd.DataFrame, metric: str) -> str:
    """Mean change of ``metric`` from baseline, job losers vs employed, per group, with 95% intervals.

    Examples
    --------
    >>> t = pd.DataFrame({"dimension": "all", "group": "all", "status": ["employed", "job_loser"],
    ...     "metric": "radius_of_gyration_km", "change": [0.0, -2.0], "change_low": [-0.5, -3.0],
    ...     "change_high": [0.5, -1.0], "suppressed": False})
    >>> mobility_figure(t, "radius_of_gyration_km").startswith("data:image/png;base64,")
    True
    """
    g = table[(table["metric"] == metric) & ~table["suppressed"].astype(bool)].dropna(subset=["change"])
    if g.empty:
        return to_data_uri(_empty(f"{metric}: no group with enough users"))
    labels = list(dict.fromkeys(f"{d}: {grp}" if d != "all" else "all users"
                                for d, grp in zip(g["dimension"], g["group"])))
    y = {lab: i for i, lab in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(6.4, 0.42 * len(labels) + 1.2))
    for status, offset, color in (("employed", -0.15, "tab:blue"), ("job_loser", 0.15, "tab:red")):
        h = g[g["status"] == status]
        if h.empty:
            continue
        pos = np.array([y[f"{d}: {grp}" if d != "all" else "all users"] for d, grp in zip(h["dimension"], h["group"])])
        err = np.vstack([h["change"] - h["change_low"], h["change_high"] - h["change"]]).clip(min=0)
        ax.errorbar(h["change"], pos + offset, xerr=np.nan_to_num(err), fmt="o", ms=4, color=color,
                    capsize=2, label=status.replace("_", " "))
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"change from baseline: {METRIC_LABELS.get(metric, metric)}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return to_data_uri(fig)


def coverage_figure(coverage: pd.DataFrame) -> str:
    """Users behind each week, one line per measure (suppressed weeks left out).

    Examples
    --------
    >>> c = pd.DataFrame({"period": "week", "period_start": ["2020-04-06"], "measure": "with data",
    ...                   "n_users": [12.0], "suppressed": [False]})
    >>> coverage_figure(c).startswith("data:image/png;base64,")
    True
    """
    weekly = coverage[(coverage["period"] == "week") & ~coverage["suppressed"].astype(bool)]
    if weekly.empty:
        return to_data_uri(_empty("no week with enough users"))
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for measure, g in weekly.groupby("measure", sort=False):
        ax.plot(pd.to_datetime(g["period_start"]), g["n_users"], marker=".", label=measure)
    ax.set_ylabel("users")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, ncol=3)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    return to_data_uri(fig)
