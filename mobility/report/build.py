"""The monthly report: read a run folder, build every table, draw every figure, write HTML + CSV (+ PDF).

Output folder (default ``<run>/report/<YYYY-MM>/``):

* ``report.html``: one self-contained page (figures as base64 PNG, inline CSS, no script, no network);
* ``tables/*.csv``: the numbers behind every figure and table, suppressed like the page;
* ``report.json``: what was written, the month, k and the sections left out for lack of input;
* ``report.pdf`` when asked (headless Chromium).

Before anything is kept, the written files are scanned (:func:`~mobility.report.privacy.privacy_violations`)
for user ids, coordinate columns or coordinate-like numbers and cells behind fewer than ``k_min_users``
users; a finding removes the report and raises.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path, write_csv, write_json
from mobility.report import figures
from mobility.report.coverage import coverage_table
from mobility.report.document import Figure, Section, render_html
from mobility.report.inputs import RunOutputs, load_run
from mobility.report.methods import CAVEATS, parameters_table, run_summary
from mobility.report.mobility_gap import local_month, mobility_by_status
from mobility.report.privacy import check_k, privacy_violations
from mobility.report.unemployment import (
    check_month,
    monthly_rates,
    official_comparison,
    trend_window,
)

MOBILITY_METRICS = ("radius_of_gyration_km", "exploration_rate", "distinct_locations")


def _pct(x: float) -> str:
    return "suppressed" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _headline(month_rates: pd.DataFrame, trend: pd.DataFrame, month: str) -> list[str]:
    lines = []
    prev = str(pd.Period(month, freq="M") - 1)
    for level in ("state", "county"):
        rows = month_rates[month_rates["level"] == level]
        for _, r in rows.iterrows():
            if r["suppressed"]:
                lines.append(f"{level.title()} {r['area']}: suppressed (fewer than k users).")
                continue
            before = trend[(trend["level"] == level) & (trend["area"] == r["area"]) & (trend["month"] == prev)]
            change = ""
            if len(before) and not before["suppressed"].iloc[0]:
                change = f", {100 * (r['rate'] - before['rate'].iloc[0]):+.1f} points from {prev}"
            lines.append(f"{level.title()} {r['area']}: estimated unemployment {_pct(r['rate'])} "
                         f"(95% interval {_pct(r['rate_low'])} to {_pct(r['rate_high'])}){change}; "
                         f"{int(r['n_users']):,} users behind the estimate.")
    return lines


def build_report(out_dir: str | os.PathLike, month: str, *, report_dir: str | os.PathLike | None = None,
                 k_min_users: int = 10, trend_months: int = 6, method: str = "auto", route: str = "individual",
                 cbg=None, references: dict | None = None, baseline_months: int = 2,
                 dimensions: tuple[str, ...] = ("sex", "age", "earnings"), pdf: bool = False,
                 title: str | None = None) -> dict:
    """Write the monthly report of a run (module notes); returns its ``report.json`` content.

    Parameters
    ----------
    out_dir : path
        The run's output folder (``run.json`` and tables).
    month : str
        ``YYYY-MM``, the month reported on.
    report_dir : path, optional
        Where to write (default ``<out_dir>/report/<month>``); replaced if it exists.
    k_min_users : int
        Cells behind fewer distinct users are suppressed (>= 2, default 10).
    trend_months : int
        Months shown in the trend, the report month included (>= 1).
    method, route : str
        Which estimates of ``area_unemployment`` to report (``signal``/``classifier``, or ``auto``: the
        classifier where the run trained one, else the signal; ``individual``).
    cbg : GeoDataFrame, optional
        Block-group (or county) polygons with ``GEOID`` for the map; no map without it.
    references : dict, optional
        Official series (:func:`mobility.report.references.load_references`).
    baseline_months : int
        Months at the start of the run that form each user's mobility baseline.
    dimensions : tuple of str
        Census dimensions of the mobility-by-group section.
    pdf : bool
        Also print ``report.pdf`` with headless Chromium.
    title : str, optional
        Page title (default: ``Employment and mobility: <region>, <month>``).

    Examples
    --------
    >>> info = build_report("out/synthetic", "2020-04")     # doctest: +SKIP
    >>> info["files"]["html"]                               # doctest: +SKIP
    'report.html'
    """
    k = check_k(k_min_users)
    check_month(month)
    run = load_run(out_dir)
    target = Path(report_dir) if report_dir is not None else Path(out_dir) / "report" / month
    staging = target.with_name(f".tmp-{target.name}")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "tables").mkdir(parents=True)
    written: dict[str, str] = {}
    missing: list[str] = []

    def save(name: str, df: pd.DataFrame) -> str:
        write_csv(df, staging / "tables" / f"{name}.csv", decimals=3)
        written[name] = f"tables/{name}.csv"
        return written[name]

    region = str(run.manifest.get("region", Path(out_dir).name))
    sections = [Section("Summary", "summary")]
    area = run.get("area_unemployment")
    employment = run.get("employment_weekly")

    # unemployment by area, trend, map, comparison
    if area is None:
        missing.append("unemployment")
        sections[0].paragraphs.append("This run has no employment estimates (table area_unemployment); run the "
                                      "employment stage of the pipeline to add them.")
    else:
        if method == "auto":
            method = "classifier" if (area["method"] == "classifier").any() else "signal"
        rates = monthly_rates(area, method=method, route=route, k_min_users=k)
        trend = trend_window(rates, month, trend_months=trend_months)
        month_rates = trend[trend["month"] == month].reset_index(drop=True)
        sections[0].bullets = _headline(month_rates, trend, month)
        if month_rates.empty:
            sections[0].paragraphs.append(f"No estimate for {month}: the run's months are "
                                          f"{', '.join(sorted(rates['month'].unique())) or 'none'}.")
        s = Section("Unemployment by county and state", "unemployment", paragraphs=[
            f"Estimated share of the labour force (users with a baseline job and a known status) unemployed in "
            f"{month}, by the {method} method ({route} route), with 95% intervals and the users behind each "
            f"number; cells behind fewer than {k} users are suppressed."])
        s.figures.append(Figure(figures.trend_figure(trend, month),
                                f"Monthly unemployment rate, {trend['month'].min() if len(trend) else month} "
                                f"to {month}, with 95% intervals.", save("unemployment_trend", trend)))
        s.tables.append((f"Estimates for {month} (numbers: {save('unemployment_month', month_rates)}).",
                         month_rates))
        sections.append(s)
        m = Section("Map of county estimates", "map")
        if cbg is not None:
            m.figures.append(Figure(figures.county_map_figure(month_rates, cbg),
                                    f"Estimated unemployment rate by county, {month}; hatched: fewer than {k} users.",
                                    written["unemployment_month"]))
        else:
            missing.append("map")
            m.paragraphs.append("No block-group polygons were given ([inputs] cbg), so no map is drawn.")
        sections.append(m)
        c = Section("Comparison with official series", "official")
        if references:
            comparison = official_comparison(trend, references)
            c.paragraphs.append("Estimated monthly rates beside the configured reference series "
                                f"({', '.join(sorted(references))}); weekly series are averaged over the month.")
            c.figures.append(Figure(figures.comparison_figure(comparison), "Estimated vs official rates, per "
                                    "area and month of the trend window.", save("official_comparison", comparison)))
            c.tables.append(("Estimates and official values.", comparison))
        else:
            missing.append("official")
            c.paragraphs.append("No official series configured; name LAUS files ([inputs] laus) or UI claims "
                                "([inputs] ui_claims) in the region config to compare.")
        sections.append(c)

    # mobility of job losers vs employed
    g = Section("Mobility of job losers and the employed", "mobility")
    if employment is None:
        missing.append("mobility")
        g.paragraphs.append("This run has no employment_weekly table; run the employment stage.")
    else:
        gap = mobility_by_status(run.tables["metrics_monthly"], employment, run.get("user_features"), month,
                                 timezone=run.timezone, metrics=MOBILITY_METRICS, dimensions=dimensions,
                                 baseline_months=baseline_months, method=method, k_min_users=k)
        g.paragraphs.append(
            f"Users who were unemployed in at least one week of {month} (job losers) and users employed in every "
            f"known week, overall and by census group (modal category of the baseline work block group). Change "
            f"is from each user's own mean over the first {baseline_months} month(s) of the run; 95% intervals.")
        name = save("mobility_by_status", gap)
        for metric in ("radius_of_gyration_km", "exploration_rate"):
            g.figures.append(Figure(figures.mobility_figure(gap, metric),
                                    f"{figures.METRIC_LABELS[metric]}: change from baseline by status and group.", name))
        hidden = int(gap["suppressed"].sum())
        g.tables.append((f"Means and changes by group and status ({hidden} cells behind fewer than {k} users "
                         f"suppressed; all rows in {name}).", gap[~gap["suppressed"]]))
    sections.append(g)

    # coverage
    cov = coverage_table(run.tables["metrics_weekly"], month, home_work=run.get("home_work_daily"),
                         employment=employment, method=method, timezone=run.timezone, k_min_users=k)
    v = Section("Data coverage", "coverage", paragraphs=[
        "Users behind the estimates, week by week: with any data, with a detected home and work, with a known "
        f"employment status, and unemployed. Counts below {k} are suppressed."])
    v.figures.append(Figure(figures.coverage_figure(cov), "Users per week.", save("coverage", cov)))
    v.tables.append((f"Users behind {month}.", cov[cov["period"] == "month"]))
    sections.append(v)

    # methods and caveats
    weeks = local_month(run.tables["metrics_weekly"]["period_start"], run.timezone)
    params = parameters_table(run.manifest)
    summary = run_summary(run.manifest, first_week=weeks.min() if len(weeks) else None,
                          last_week=weeks.max() if len(weeks) else None)
    summary = pd.concat([summary, pd.DataFrame({"item": ["report: k (min users per cell)", "report: method"],
                                                "value": [str(k), f"{method} / {route}"]})], ignore_index=True)
    t = Section("Methods and caveats", "methods", paragraphs=[
        "Pings are validated and cut into stops; stops are clustered into places; home and work are detected "
        "day by day (HoWDe) and kept only as census block groups; weekly attendance at the baseline workplace, "
        "weighed by the sector's teleworkability, gives each user's employment status (Centellegher et al. "
        "2025). The parameters below are those of this run, read from its manifest."], bullets=list(CAVEATS))
    t.tables.append((f"Run (numbers: {save('run_summary', summary)}).", summary))
    t.tables.append((f"Parameters of every stage (numbers: {save('parameters', params)}).", params))
    sections.append(t)

    page = render_html(title or f"Employment and mobility: {region}, {month}",
                       f"Monthly report generated from the run in {Path(out_dir).name}/ "
                       f"(finished {str(run.manifest.get('finished', 'unknown'))[:19].replace('T', ' ')} UTC); k = {k}.", sections)
    with atomic_path(staging / "report.html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    info = {"month": month, "region": region, "k_min_users": k, "method": method, "route": route,
            "sections_missing": missing, "files": {"html": "report.html", **written}}
    if pdf:
        from mobility.report.pdf import html_to_pdf

        html_to_pdf(staging / "report.html", staging / "report.pdf")
        info["files"]["pdf"] = "report.pdf"
    _check_privacy(staging, run, k, cbg)
    write_json(info, staging / "report.json")
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    info["report_dir"] = str(target)
    return info


def _check_privacy(folder: Path, run: RunOutputs, k: int, cbg) -> None:
    ids = set()
    for name in ("metrics_monthly", "employment_weekly"):
        table = run.get(name)
        if table is not None:
            ids.update(table["user_id"].astype(str).unique())
    lat_range = lon_range = None
    if cbg is not None and len(cbg):
        minx, miny, maxx, maxy = cbg.total_bounds
        lat_range, lon_range = (miny - 0.5, maxy + 0.5), (minx - 0.5, maxx + 0.5)
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".html", ".csv", ".json"))
    problems = privacy_violations(files, user_ids=ids, k_min_users=k, lat_range=lat_range, lon_range=lon_range)
    if problems:
        shutil.rmtree(folder, ignore_errors=True)
        raise MobilityError("report withheld, private content found: " + "; ".join(problems[:5]) +
                            "; raise k_min_users or report a coarser level")
