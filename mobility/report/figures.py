"""The report's figures, drawn on :class:`matplotlib.figure.Figure` objects (no pyplot state, no backend set)
from the suppressed tables, and embedded as base64 PNG.

Each ``*_figure`` function takes one of the report's tables (already suppressed: a figure never sees a small
cell) and returns a ``Figure``; :func:`to_data_uri` encodes it. Suppressed rows are not drawn (the map
hatches them). Rates arrive as fractions and are drawn in percent, on axes that start at zero.
"""

from __future__ import annotations

import base64
import io

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mobility.report.labels import GROUP_LABELS, METRIC_SCALE, group_label, metric_name, month_name, place_name
from mobility.report.unemployment import week_month

DPI = 110
MAX_LEGEND_AREAS = 12


def to_data_uri(fig: Figure) -> str:
    """Render a figure as a base64 PNG data URI.

    Examples
    --------
    >>> to_data_uri(Figure(figsize=(1, 1)))[:22]
    'data:image/png;base64,'
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _empty(message: str) -> Figure:
    fig = Figure(figsize=(6, 1.2))
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10, color="0.3")
    return fig


def _percent_top(values) -> float:
    """A round upper limit (percent) above every value (fractions), at least 1%."""
    top = 100 * float(np.nanmax(np.r_[np.asarray(values, dtype=float), 0.01]))
    step = 1 if top <= 10 else 5
    return float(step * np.ceil(top * 1.05 / step))


def trend_figure(trend: pd.DataFrame, month: str) -> Figure:
    """Monthly unemployment rate (%) per area with its 95% band, the report month marked; axis from 0.

    Examples
    --------
    >>> t = pd.DataFrame({"level": "state", "area": "42", "month": ["2020-03", "2020-04"], "rate": [0.05, 0.2],
    ...                   "rate_low": [0.02, 0.1], "rate_high": [0.1, 0.3], "suppressed": False})
    >>> float(trend_figure(t, "2020-04").axes[0].get_ylim()[0])
    0.0
    """
    shown = trend[~trend["suppressed"].astype(bool)]
    if shown.empty:
        return _empty("no area with enough users in these months")
    levels = [lv for lv in ("state", "county") if (shown["level"] == lv).any()]
    fig = Figure(figsize=(5.4 * len(levels), 3.8))
    axes = fig.subplots(1, len(levels), squeeze=False, sharey=True)[0]
    top = _percent_top(shown["rate_high"])
    for ax, level in zip(axes, levels):
        rows = shown[shown["level"] == level]
        for area, g in rows.groupby("area", sort=True):
            x = pd.PeriodIndex(g["month"], freq="M").to_timestamp()
            line, = ax.plot(x, 100 * g["rate"], marker="o", ms=3, label=place_name(area, level))
            ax.fill_between(x, 100 * g["rate_low"], 100 * g["rate_high"], color=line.get_color(), alpha=0.15)
        ax.axvline(pd.Period(month, freq="M").to_timestamp(), color="0.5", lw=0.8, ls="--")
        ax.xaxis.set_major_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        ax.set_ylim(0, top)
        ax.set_title("state" if level == "state" else "counties", fontsize=10)
        ax.set_ylabel("unemployment rate (%)")
        if rows["area"].nunique() <= MAX_LEGEND_AREAS:
            ax.legend(fontsize=7, loc="upper left")
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    return fig


def county_map_figure(month_rates: pd.DataFrame, polygons, *, title: str = "") -> Figure:
    """Choropleth of the month's county rates (%), colour scale from 0; each county labelled with its rate and
    95% interval; dotted where the interval holds the state rate (not distinguishable from it), grey and
    hatched where suppressed.

    ``polygons`` is a GeoDataFrame with ``GEOID`` (block groups or counties; block groups are dissolved to
    counties). No coordinate of any person is drawn.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> poly = gpd.GeoDataFrame({"GEOID": ["421010001001", "420450001001"]},
    ...                         geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    >>> r = pd.DataFrame({"level": "county", "area": ["42101", "42045"], "rate": [0.1, np.nan],
    ...                   "rate_low": [0.05, np.nan], "rate_high": [0.2, np.nan], "suppressed": [False, True]})
    >>> isinstance(county_map_figure(r, poly), Figure)
    True
    """
    counties = polygons.assign(area=polygons["GEOID"].astype(str).str.slice(0, 5))[["area", "geometry"]]
    counties = counties.dissolve(by="area").reset_index()
    rates = month_rates[month_rates["level"] == "county"][["area", "rate", "rate_low", "rate_high", "suppressed"]]
    shapes = counties.merge(rates, on="area", how="left")
    shapes["suppressed"] = shapes["suppressed"].fillna(True).astype(bool)
    states = month_rates[(month_rates["level"] == "state") & ~month_rates["suppressed"].astype(bool)]
    state_rate = np.nan
    if "n_users" in states and len(states):
        state_rate = float(states.sort_values("n_users").iloc[-1]["rate"])
    fig = Figure(figsize=(7.2, 5.6))
    ax = fig.subplots()
    shown = shapes[~shapes["suppressed"]]
    hidden = shapes[shapes["suppressed"]]
    norm = Normalize(vmin=0, vmax=_percent_top(shown["rate"]) if len(shown) else 10)
    cmap = "OrRd"
    handles = []
    if len(hidden):
        hidden.plot(ax=ax, color="0.9", edgecolor="0.5", hatch="///", linewidth=0.6)
        handles.append(Patch(facecolor="0.9", edgecolor="0.5", hatch="///", label="fewer than k users"))
    if len(shown):
        shown.assign(pct=100 * shown["rate"]).plot(ax=ax, column="pct", cmap=cmap, norm=norm, edgecolor="0.3",
                                                   linewidth=0.6)
        if np.isfinite(state_rate):
            overlap = shown[(shown["rate_low"] <= state_rate) & (shown["rate_high"] >= state_rate)]
            if len(overlap):
                overlap.plot(ax=ax, facecolor="none", edgecolor="0.55", hatch=".", linewidth=0.6)
                handles.append(Patch(facecolor="white", edgecolor="0.55", hatch=".",
                                     label=f"95% interval holds the state rate ({100 * state_rate:.1f}%)"))
    from matplotlib.cm import ScalarMappable

    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7,
                 label="estimated unemployment rate (%), scale from 0")
    for _, row in shapes.iterrows():
        point = row.geometry.representative_point()
        name = place_name(row["area"], "county").split(",")[0].replace(" County", "")
        label = (f"{name}\nfewer than k users" if row["suppressed"] else
                 f"{name}\n{100 * row['rate']:.1f}% ({100 * row['rate_low']:.1f}-{100 * row['rate_high']:.1f})")
        ax.annotate(label, (point.x, point.y), ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.85, "lw": 0})
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="lower left", framealpha=0.9)
    ax.set_axis_off()
    ax.set_title(title or "estimated unemployment by county, with 95% intervals", fontsize=10)
    fig.tight_layout()
    return fig


def comparison_figure(comparison: pd.DataFrame) -> Figure:
    """Estimated vs official monthly rates (%), with the estimates' 95% intervals, one panel per source, the
    diagonal (no error) drawn, both axes from 0.

    Examples
    --------
    >>> c = pd.DataFrame({"source": "laus_county", "level": "county", "area": "42101", "month": ["2020-04"],
    ...                   "estimate": [0.1], "official": [0.12], "suppressed": [False]})
    >>> isinstance(comparison_figure(c), Figure)
    True
    """
    from mobility.report.unemployment import SOURCE_NAMES

    shown = comparison[~comparison["suppressed"].astype(bool)].dropna(subset=["estimate", "official"])
    if shown.empty:
        return _empty("no official value matches an estimate with enough users")
    sources = sorted(shown["source"].unique())
    fig = Figure(figsize=(4.6 * len(sources), 4.2))
    axes = fig.subplots(1, len(sources), squeeze=False)[0]
    for ax, source in zip(axes, sources):
        g = shown[shown["source"] == source]
        columns = [c for c in ("estimate", "official", "estimate_low", "estimate_high") if c in g]
        hi = _percent_top(g[columns].to_numpy().ravel())
        for area, h in g.groupby("area", sort=True):
            err = None
            if {"estimate_low", "estimate_high"} <= set(h.columns):
                err = 100 * np.vstack([h["estimate"] - h["estimate_low"],
                                       h["estimate_high"] - h["estimate"]]).clip(min=0)
            ax.errorbar(100 * h["official"], 100 * h["estimate"], yerr=err, fmt="o", ms=4, capsize=2, lw=0.8,
                        label=place_name(area, str(h["level"].iloc[0])))
        ax.plot([0, hi], [0, hi], color="0.5", lw=0.8)
        ax.text(0.97 * hi, 0.97 * hi, "no error", ha="right", va="top", fontsize=7, color="0.4", rotation=45)
        ax.set(xlim=(0, hi), ylim=(0, hi), aspect="equal")
        ax.set_xlabel(f"{SOURCE_NAMES.get(source, source)} (%)", fontsize=8)
        ax.set_ylabel("estimated rate (%)")
        if g["area"].nunique() <= MAX_LEGEND_AREAS:
            ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def mobility_figure(table: pd.DataFrame, metric: str) -> Figure:
    """Mean change of ``metric`` from each user's baseline, job losers vs employed, per group, 95% intervals.

    Examples
    --------
    >>> t = pd.DataFrame({"dimension": "all", "group": "all", "status": ["employed", "job_loser"],
    ...     "metric": "radius_of_gyration_km", "change": [0.0, -2.0], "change_low": [-0.5, -3.0],
    ...     "change_high": [0.5, -1.0], "suppressed": False})
    >>> mobility_figure(t, "radius_of_gyration_km").axes[0].get_xlabel()
    'change from own baseline: radius of gyration (km)'
    >>> mobility_figure(t.assign(metric="exploration_rate"), "exploration_rate").axes[0].get_xlabel()
    'change from own baseline: exploration (percentage points)'
    """
    g = table[(table["metric"] == metric) & ~table["suppressed"].astype(bool)].dropna(subset=["change"])
    if g.empty:
        return _empty(f"{metric_name(metric)}: no group with enough users")
    scale = METRIC_SCALE.get(metric, 1.0)
    g = g.assign(**{c: scale * g[c] for c in ("change", "change_low", "change_high")})

    def label(dim, grp):  # "$" would start matplotlib's mathtext
        return (group_label(dim, grp) if dim == "all" else f"{dim}: {group_label(dim, grp)}").replace("$", r"\$")

    def order(dim, grp):
        codes = list(GROUP_LABELS.get(dim, {}))
        return (dim != "all", codes.index(grp) if grp in codes else len(codes))

    pairs = sorted(dict.fromkeys(zip(g["dimension"], g["group"])), key=lambda p: (order(*p)[0], p[0], order(*p)[1]))
    labels = [label(d, grp) for d, grp in pairs]
    y = {lab: i for i, lab in enumerate(labels)}
    fig = Figure(figsize=(7.2, 0.42 * len(labels) + 1.3))
    ax = fig.subplots()
    for status, offset, color, name in (("employed", -0.15, "tab:blue", "employed"),
                                        ("job_loser", 0.15, "tab:red", "lost their job")):
        h = g[g["status"] == status]
        if h.empty:
            continue
        pos = np.array([y[label(d, grp)] for d, grp in zip(h["dimension"], h["group"])])
        err = np.vstack([h["change"] - h["change_low"], h["change_high"] - h["change"]]).clip(min=0)
        ax.errorbar(h["change"], pos + offset, xerr=np.nan_to_num(err), fmt="o", ms=4, color=color,
                    capsize=2, label=name)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"change from own baseline: {metric_name(metric, change=True)}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def coverage_figure(coverage: pd.DataFrame, month: str) -> Figure:
    """Users behind each week up to the end of ``month``, one line per measure (suppressed weeks left out).

    Examples
    --------
    >>> c = pd.DataFrame({"period": "week", "period_start": ["2020-04-06", "2020-05-04"], "measure": "with data",
    ...                   "n_users": [12.0, 13.0], "suppressed": [False, False]})
    >>> ax = coverage_figure(c, "2020-04").axes[0]
    >>> len(ax.lines[0].get_xdata()), ax.get_xlabel(), ax.get_ylabel()
    (1, 'week (date of its Monday)', 'users')
    """
    weekly = coverage[(coverage["period"] == "week") & ~coverage["suppressed"].astype(bool)]
    weeks = pd.to_datetime(weekly["period_start"])
    weekly = weekly[(week_month(weeks) <= month).to_numpy()]
    if weekly.empty:
        return _empty("no week with enough users")
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.subplots()
    for measure, g in weekly.groupby("measure", sort=False):
        ax.plot(pd.to_datetime(g["period_start"]), g["n_users"], marker=".", label=measure)
    ax.set_xlabel("week (date of its Monday)")
    ax.set_ylabel("users")
    ax.set_ylim(bottom=0)
    ax.set_title(f"weeks up to {month_name(month)}", fontsize=9)
    ax.legend(fontsize=8, ncol=3)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    return fig
