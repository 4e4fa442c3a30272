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
from typing import Any, Callable

import numpy as np
import pandas as pd

from mobility.census import feature_columns
from mobility.employment.status import reported_method
from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path, write_csv, write_json
from mobility.localtime import local_time
from mobility.report import figures
from mobility.report.coverage import coverage_counts, coverage_table, status_counts
from mobility.report.document import Figure, Section, Table, render_html
from mobility.report.inputs import MOBILITY_METRICS, RunOutputs, load_run
from mobility.report.labels import metric_explanation, metric_name, month_name, place_name
from mobility.report.methods import CAVEATS, estimates_provenance, parameters_table, run_summary, stage_entry
from mobility.report.mobility_gap import (
    baseline_groups_by_part,
    baseline_months_of,
    by_month,
    exploration_drift,
    mobility_by_status_of_months,
)
from mobility.report.privacy import check_k, distinct_ids, privacy_violations, user_ids_in
from mobility.report.tables import comparison_for_people, for_page, mobility_for_people, unemployment_for_people
from mobility.report.unemployment import (
    check_month,
    comparison_summary,
    headline,
    monthly_rates,
    official_comparison,
    trend_window,
    week_month,
)

MAX_COUNTY_BULLETS = 8
COUNTY_ROWS_SHOWN = 10


def _area_line(row: pd.Series, trend: pd.DataFrame, month: str) -> str:
    name = place_name(row["area"], row["level"])
    if row["suppressed"]:
        return f"{name}: fewer than k users, no estimate."
    prev = str(pd.Period(month, freq="M") - 1)
    before = trend[(trend["level"] == row["level"]) & (trend["area"] == row["area"]) & (trend["month"] == prev)]
    change = ""
    if len(before) and not before["suppressed"].iloc[0]:
        change = f", {100 * (row['rate'] - before['rate'].iloc[0]):+.1f} points from {month_name(prev)}"
    return (f"{name}: {100 * row['rate']:.1f}% (95% interval {100 * row['rate_low']:.1f}-"
            f"{100 * row['rate_high']:.1f}%){change}; {int(row['n_users']):,} users.")


def _ordered(month_rates: pd.DataFrame) -> pd.DataFrame:
    """States first, then counties from the highest estimate down, suppressed last."""
    key = pd.DataFrame({"level": (month_rates["level"] != "state").astype(int),
                        "hidden": month_rates["suppressed"].astype(int), "rate": -month_rates["rate"].fillna(0)})
    return month_rates.loc[key.sort_values(["level", "hidden", "rate"], kind="stable").index].reset_index(drop=True)


def _summary_bullets(month_rates: pd.DataFrame, trend: pd.DataFrame, month: str) -> list[str]:
    ordered = _ordered(month_rates)
    states = ordered[ordered["level"] == "state"]
    counties = ordered[ordered["level"] == "county"]
    lines = [_area_line(r, trend, month) for _, r in states.iterrows()]
    lines += [_area_line(r, trend, month) for _, r in counties.head(MAX_COUNTY_BULLETS).iterrows()]
    if len(counties) > MAX_COUNTY_BULLETS:
        lines.append(f"{len(counties) - MAX_COUNTY_BULLETS} more counties in the table below.")
    return lines


class SharedInputs:
    """What every month of one run's report reads and reduces the same way, made once and kept: the run's
    manifest and small tables (:func:`~mobility.report.inputs.load_run`) and the month-independent
    reductions of its large ones, each made a part at a time (the run's months, baseline census groups,
    each user's status by month, coverage counts over all weeks and months, the run's first and last week,
    the distinct user ids the privacy scan looks for). Pass one to :func:`build_report` for each month of
    the same run folder; given the ``months`` to be reported, the first month's report makes the mobility by
    status of them all in one pass over ``metrics_monthly``, which is then not read again.

    Examples
    --------
    >>> shared = SharedInputs("out/synthetic")                       # doctest: +SKIP
    >>> [build_report("out/synthetic", m, shared=shared) for m in ("2020-04", "2020-09")]   # doctest: +SKIP
    """

    def __init__(self, out_dir: str | os.PathLike, months: tuple[str, ...] | list[str] = ()):
        self.out_dir = Path(out_dir)
        self.months = tuple(months)
        self._run: RunOutputs | None = None
        self._made: dict[tuple, Any] = {}

    @property
    def run(self) -> RunOutputs:
        if self._run is None:
            self._run = load_run(self.out_dir)
        return self._run

    def once(self, key: tuple, make: Callable[[], Any]) -> Any:
        """``make()`` the first time ``key`` is asked for, the kept result after."""
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]


def available_months(run_months: list[str], rates: pd.DataFrame | None) -> list[str]:
    """The months a run can report on: those of its unemployment estimates, else ``run_months``, those of its
    monthly metrics."""
    if rates is not None and len(rates):
        return sorted(rates["month"].unique())
    return run_months


def _whole_counts(df: pd.DataFrame) -> pd.DataFrame:
    """The table with its user counts (``n_users`` and every ``*_users`` column) as whole numbers, blank where
    suppressed (nullable Int64), for the CSVs: a count reads 976, not 976.0. Columns holding fractions are left
    as they are.

    Examples
    --------
    >>> _whole_counts(pd.DataFrame({"n_users": [976.0, None], "rate": [0.5, 0.25]})).dtypes.astype(str).tolist()
    ['Int64', 'float64']
    """
    counts = [c for c in df.columns if (c == "n_users" or str(c).endswith("_users")) and df[c].dtype.kind in "fi"]
    whole = [c for c in counts if (df[c].dropna() % 1 == 0).all()]
    return df.assign(**{c: df[c].astype("Int64") for c in whole}) if whole else df


def build_report(out_dir: str | os.PathLike, month: str, *, report_dir: str | os.PathLike | None = None,
                 k_min_users: int = 10, trend_months: int = 6, method: str = "auto", route: str = "individual",
                 cbg=None, references: dict | None = None, baseline_months: int = 2,
                 dimensions: tuple[str, ...] = ("sex", "age", "earnings"), pdf: bool = False,
                 title: str | None = None, shared: SharedInputs | None = None) -> dict:
    """Write the monthly report of a run (module notes); returns its ``report.json`` content.

    Parameters
    ----------
    out_dir : path
        The run's output folder (``run.json`` and tables).
    month : str
        ``YYYY-MM``, the month reported on; it must be a month of the run.
    report_dir : path, optional
        Where to write (default ``<out_dir>/report/<month>``); replaced if it exists.
    k_min_users : int
        Cells behind fewer distinct users are suppressed (>= 2, default 10).
    trend_months : int
        Months shown in the trend, the report month included (>= 1).
    method, route : str
        Which estimates of ``area_unemployment`` to report (``signal``/``classifier``, or ``auto``: the run's
        ``[employment] method``, which by default is the classifier where one ran, else the signal;
        ``individual``).
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
        Page title (default: ``Employment and mobility in <region>, <Month YYYY>``).
    shared : SharedInputs, optional
        Tables and reductions of this run folder kept from an earlier month's report (:class:`SharedInputs`);
        the report is the same with or without.

    Raises
    ------
    MobilityError
        ``month`` is not a month of the run (the message lists the run's months), the run folder lacks its
        manifest or metrics, or the privacy scan finds something.

    Examples
    --------
    >>> info = build_report("out/synthetic", "2020-04")     # doctest: +SKIP
    >>> info["files"]["html"]                               # doctest: +SKIP
    'report.html'
    """
    k = check_k(k_min_users)
    check_month(month)
    if shared is None:
        shared = SharedInputs(out_dir)
    elif shared.out_dir != Path(out_dir):
        raise MobilityError(f"shared inputs of {shared.out_dir} given for the report of {out_dir}")
    run = shared.run
    area = run.get("area_unemployment")
    has_employment = run.has("employment_weekly")
    if area is not None and method == "auto":  # the run's [employment] method, else the classifier where it ran
        method = stage_entry(run.manifest, "employment").get("method") or reported_method(
            "auto", area["method"].unique())
    rates = monthly_rates(area, method=method, route=route, k_min_users=k) if area is not None else None
    no_rates = ("This run has no employment estimates (table area_unemployment); run the employment stage of the "
                "pipeline to add them.")
    if rates is not None and rates.empty:
        rates = None
        no_rates = (f"The run's area_unemployment table has no monthly estimate by the {method} method ({route} "
                    "route): too few users with a known employment status in any county or state.")
    month_sums = shared.once(("by_month",), lambda: by_month(
        run.parts("metrics_monthly", columns=("user_id", "period_start", "exploration_rate")), run.timezone))
    run_months = month_sums.index.tolist()
    months = available_months(run_months, rates)
    if month not in months:
        raise MobilityError(f"no data for {month} in {out_dir}: the run has {', '.join(months) or 'no month'}; "
                            "report on one of those months (--month YYYY-MM), or rerun the pipeline over a period "
                            f"that covers {month}")
    target = Path(report_dir) if report_dir is not None else Path(out_dir) / "report" / month
    staging = target.with_name(f".tmp-{target.name}")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "tables").mkdir(parents=True)
    written: dict[str, str] = {}
    missing: list[str] = []

    def save(name: str, df: pd.DataFrame) -> str:
        write_csv(_whole_counts(df), staging / "tables" / f"{name}.csv", decimals=3)
        written[name] = f"tables/{name}.csv"
        return written[name]

    region = str(run.manifest.get("region", Path(out_dir).name))
    sections = [Section("Summary", "summary")]
    top_line, caution = "", None

    # unemployment by area, trend, map, comparison
    if rates is None:
        missing.append("unemployment")
        sections[0].paragraphs.append(no_rates)
    else:
        trend = trend_window(rates, month, trend_months=trend_months)
        month_rates = _ordered(trend[trend["month"] == month])
        top_line = headline(trend, month)
        shown = ((month_rates["level"] == "state") & ~month_rates["suppressed"].astype(bool)
                 & month_rates["rate"].notna())
        # the states this page publishes: the only ones the methods may give rates of (the ends are individual's)
        published = set(month_rates.loc[shown, "area"].astype(str)) if route == "individual" else set()
        provenance, caution = estimates_provenance(run.manifest, method, month, published)
        if caution:
            top_line += " Read with care: see the warning below."
            sections[0].paragraphs.append(f"Warning: {caution}")
        sections[0].bullets = _summary_bullets(month_rates, trend, month)
        s = Section("Unemployment by county and state", "unemployment", paragraphs=[
            f"Estimated share of the labour force unemployed in {month_name(month)}: among users with a job "
            f"{_baseline_words(run.manifest)}, the share without work, by the {method} method. "
            f"{_fill_words(run.manifest)}Every rate is in percent, with its 95% interval and the users behind "
            f"it; places with fewer than {k} users are not shown.", *provenance])
        s.figures.append(Figure(figures.to_data_uri(figures.trend_figure(trend, month)),
                                f"Monthly unemployment rate (%), {month_name(trend['month'].min())} to "
                                f"{month_name(month)}, with 95% intervals.",
                                save("unemployment_trend", unemployment_for_people(trend))))
        people_month = unemployment_for_people(month_rates)
        n_states = int((month_rates["level"] == "state").sum())
        s.tables.append(Table(f"Estimates for {month_name(month)}, states first, then counties from the highest "
                              f"rate down (all rows: {save('unemployment_month', people_month)}).",
                              for_page(people_month, drop=("month",)), show=n_states + COUNTY_ROWS_SHOWN))
        sections.append(s)
        m = Section("Map of county estimates", "map")
        if cbg is not None:
            m.figures.append(Figure(figures.to_data_uri(figures.county_map_figure(month_rates, cbg)),
                                    f"Estimated unemployment rate by county, {month_name(month)}, colour scale from "
                                    "0%; each county's label gives its 95% interval. Dotted: the interval holds the "
                                    f"state rate, so the county is not distinguishable from the state; hatched grey: "
                                    f"fewer than {k} users.", written["unemployment_month"]))
        else:
            missing.append("map")
            m.paragraphs.append("No block-group polygons were given ([inputs] cbg), so no map is drawn.")
        sections.append(m)
        c = Section("Comparison with official series", "official")
        if references:
            comparison = official_comparison(trend, references)
            people = comparison_for_people(comparison)
            people = people.iloc[np.argsort((people["month"] != month).to_numpy(int), kind="stable")]
            c.paragraphs.append("Estimated monthly rates beside the reference series (weekly series averaged over "
                                "the month). The error is the estimate minus the reference, in percentage points: "
                                "its mean is the bias, its mean absolute value the typical error.")
            c.bullets = comparison_summary(comparison, month)
            c.figures.append(Figure(figures.to_data_uri(figures.comparison_figure(comparison)),
                                    "Estimated vs reference rates (%), per area and month of the trend window; "
                                    "vertical bars: 95% intervals of the estimates; on the diagonal an estimate "
                                    "equals its reference.", save("official_comparison", people)))
            c.tables.append(Table(f"Estimates and reference values, {month_name(month)} first.",
                                  for_page(people), show=int((people["month"] == month).sum())))
        else:
            missing.append("official")
            c.paragraphs.append("No official series configured; name LAUS files ([inputs] laus) or UI claims "
                                "([inputs] ui_claims) in the region config to compare.")
        sections.append(c)

    # mobility of job losers vs employed
    g = Section("Mobility of job losers and the employed", "mobility")
    statuses = shared.once(("statuses", method), lambda: status_counts(
        run.user_batches("employment_weekly", method), method=method)) if has_employment else None
    if statuses is None:
        missing.append("mobility")
        g.paragraphs.append("This run has no employment_weekly table; run the employment stage.")
    else:
        present = [m for m in MOBILITY_METRICS if m in run.columns("metrics_monthly")]  # entropy may be normalised
        groups = shared.once(("baseline_groups", tuple(dimensions)), lambda: baseline_groups_by_part(
            run.parts("user_features", extra=tuple(c for d in dimensions for c in feature_columns(d))), dimensions))
        def gaps_of(report_months: list[str]) -> dict[str, pd.DataFrame]:  # one pass over metrics_monthly
            return mobility_by_status_of_months(
                run.parts("metrics_monthly"), None, None, report_months, timezone=run.timezone, metrics=present,
                dimensions=dimensions, baseline_months=baseline_months, method=method, k_min_users=k, groups=groups,
                statuses=statuses[1], months=run_months)

        # this month and the call's other months the run has (SharedInputs.months), made once for them all
        gaps = shared.once(("mobility_by_status", method, tuple(dimensions), baseline_months, k, tuple(present)),
                           lambda: gaps_of(list(dict.fromkeys([month, *(m for m in shared.months if m in months)]))))
        gap = gaps[month] if month in gaps else gaps_of([month])[month]
        base = baseline_months_of(run_months, month, baseline_months)
        if base:  # the months actually used: fewer than baseline_months where the report month is among them
            change = (f"Change is from each user's own mean over {' and '.join(map(month_name, base))}, the first "
                      f"{'month' if len(base) == 1 else f'{len(base)} months'} of the run; 95% intervals.")
        elif len(run_months) == 1:
            change = (f"No change from a baseline can be given: the run covers a single month ({month_name(month)}), "
                      "so the change columns are blank; 95% intervals.")
        else:
            change = (f"No change from a baseline can be given: {month_name(month)} is the first month of the run, "
                      "so the change columns are blank; 95% intervals.")
        g.paragraphs.append(
            f"Users who were unemployed in at least one week of {month_name(month)} (lost their job) beside users "
            f"employed in every known week, overall and by census group (the group most common among the workers "
            f"of their baseline work block group). {change} The measures:")
        g.bullets = [metric_explanation(m) for m in present]
        drift = exploration_drift(None, base, timezone=run.timezone, k_min_users=k, months=month_sums)
        if drift:
            first, a, second, b = drift
            g.paragraphs.append(
                f"Read the change in exploration with care: in a person's first month of data every place is new, "
                f"so exploration falls from the start of the data, whatever happens later (all users' mean: "
                f"{100 * a:.1f}% of visits in {month_name(first)}, {100 * b:.1f}% in {month_name(second)}). A change "
                f"from a baseline that holds {month_name(first)} carries that fall: compare job losers with the "
                "employed rather than either with its baseline.")
        people = mobility_for_people(gap)
        name = save("mobility_by_status", people)
        for metric in ("radius_of_gyration_km", "exploration_rate"):
            n_hidden = int((gap["metric"].eq(metric) & gap["suppressed"].astype(bool)).sum())
            left_out = (f" A group drawn without a red bar has fewer than {k} job losers; a group not drawn has "
                        f"fewer than {k} users of each status ({n_hidden} cells left out)." if n_hidden else "")
            g.figures.append(Figure(figures.to_data_uri(figures.mobility_figure(gap, metric)),
                                    f"{metric_name(metric, change=True)}: change from each user's baseline, by status and "
                                    f"group.{left_out}", name))
        shown = people[~people["suppressed"]]
        n_hidden = int(people["suppressed"].sum())
        g.tables.append(Table(f"Means and changes, all users first (groups a click away; {n_hidden} cells behind "
                              f"fewer than {k} users left out here; all rows in {name}).",
                              for_page(shown, drop=("group_code", "metric_code", "suppressed")),
                              show=int((shown["dimension"] == "all").sum()), decimals=2))
    sections.append(g)

    # coverage, up to the report month
    counts = shared.once(("coverage",), lambda: coverage_counts(
        run.parts("metrics_weekly"), home_work=run.parts("home_work_daily"), timezone=run.timezone))
    counts = counts + (statuses[0] if statuses is not None else [])
    cov = coverage_table(None, month, k_min_users=k, counts=counts)
    cov = cov[((cov["period"] == "month") | (week_month(cov["period_start"]) <= month)).to_numpy()].reset_index(drop=True)
    v = Section("Data coverage", "coverage", paragraphs=[
        f"Users behind the estimates, week by week up to {month_name(month)}: with any data, with a detected home "
        f"and work, with a known employment status, and unemployed. Counts below {k} are suppressed."])
    v.figures.append(Figure(figures.to_data_uri(figures.coverage_figure(cov, month)), "Users per week.",
                            save("coverage", cov)))
    v.tables.append(Table(f"Users behind {month_name(month)}.", for_page(cov[cov["period"] == "month"]), decimals=1))
    sections.append(v)

    # methods and caveats
    first_week, last_week = shared.once(("week_range",), lambda: _week_range(run))
    params = parameters_table(run.manifest)
    summary = run_summary(run.manifest, first_week=first_week, last_week=last_week)
    summary = pd.concat([summary, pd.DataFrame({"item": ["report: k (min users per cell)", "report: method"],
                                                "value": [str(k), f"{method} / {route}"]})], ignore_index=True)
    t = Section("Methods and caveats", "methods", paragraphs=[
        "Pings are validated and cut into stops; stops are clustered into places; home and work are detected "
        "day by day (HoWDe) and kept only as census block groups; weekly attendance at the baseline workplace, "
        "weighed by the sector's teleworkability, gives each user's employment status (Centellegher et al. "
        "2025). The parameters below are those of this run, read from its manifest."], bullets=list(CAVEATS))
    t.tables.append(Table(f"Run (numbers: {save('run_summary', summary)}).", summary, show=0))
    t.tables.append(Table(f"Parameters of every stage (numbers: {save('parameters', params)}).", params, show=0))
    sections.append(t)
    if missing:
        sections[0].paragraphs.append(f"Sections without input in this run: {', '.join(missing)}.")

    page = render_html(title or f"Employment and mobility in {region}, {month_name(month)}",
                       f"Monthly report generated from the run in {Path(out_dir).name}/ "
                       f"(finished {str(run.manifest.get('finished', 'unknown'))[:19].replace('T', ' ')} UTC). "
                       f"Rates in percent; no number rests on fewer than {k} users.", sections, headline=top_line)
    with atomic_path(staging / "report.html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    info = {"month": month, "region": region, "k_min_users": k, "method": method, "route": route,
            "headline": top_line, "warning": caution, "sections_missing": missing, "files": {"html": "report.html", **written}}
    if pdf:
        from mobility.report.pdf import html_to_pdf

        html_to_pdf(staging / "report.html", staging / "report.pdf")
        info["files"]["pdf"] = "report.pdf"
    ids = shared.once(("user_ids",), lambda: [distinct_ids(batch) for name in ("metrics_monthly", "employment_weekly")
                                              for batch in run.user_id_batches(name)])
    _check_privacy(staging, ids, k, cbg)
    write_json(info, staging / "report.json")
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    info["report_dir"] = str(target)
    return info


def _baseline_words(manifest: dict) -> str:
    """When the labour force had its job: the run's baseline weeks, from its manifest.

    >>> _baseline_words({"stages": {"employment": {"params": {"baseline_start": "2020-01-06",
    ...                                                       "baseline_end": "2020-02-29"}}}})
    'in the baseline weeks (2020-01-06 to 2020-02-29)'
    >>> _baseline_words({})
    'in the baseline weeks'
    """
    params = stage_entry(manifest, "employment").get("params") or {}
    start, end = params.get("baseline_start"), params.get("baseline_end")
    return f"in the baseline weeks ({start} to {end})" if start and end else "in the baseline weeks"


def _fill_words(manifest: dict) -> str:
    """Why a rate's users outnumber the month's users with a known status (Data coverage): the weeks filled
    from a user's known weeks (``[employment.area] max_fill_weeks``); empty where the run has no such fill.

    >>> _fill_words({"stages": {"employment": {"params": {"area": {"max_fill_weeks": 4}}}}})[:75]
    "A week in which a user's status is unknown takes the status and probability"
    >>> _fill_words({"stages": {"employment": {"params": {"area": {"max_fill_weeks": 0}}}}})
    ''
    """
    params = stage_entry(manifest, "employment").get("params") or {}
    fill = (params.get("area") or {}).get("max_fill_weeks")
    if not fill:
        return ""
    return (f"A week in which a user's status is unknown takes the status and probability of their nearest known "
            f"week, if it is at most {fill} week{'s' if fill != 1 else ''} away ([employment.area] max_fill_weeks), "
            "so a place can count more users here than have a known status in the month under Data coverage. ")


def _week_range(run: RunOutputs) -> tuple[str | None, str | None]:
    """Local dates (``YYYY-MM-DD``) of the Mondays that start the run's first and last week of metrics."""
    ends = [part["period_start"].agg(["min", "max"]) for part in run.parts("metrics_weekly", columns=("period_start",))
            if len(part)]
    if not ends:
        return None, None
    starts = pd.concat(ends)
    first, last = (local_time(pd.Series([t]), timezone=run.timezone).iloc[0] for t in (starts.min(), starts.max()))
    return f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"


def _check_privacy(folder: Path, ids: list[np.ndarray], k: int, cbg) -> None:
    """Scan the written files (:func:`~mobility.report.privacy.privacy_violations`) for the user ids of the
    run's metrics and statuses (``ids``: the distinct ids of each batch of their ``user_id`` columns, looked for
    a batch at a time, :func:`~mobility.report.privacy.user_ids_in`), coordinates and small cells; remove the
    folder and raise on a finding."""
    lat_range = lon_range = None
    if cbg is not None and len(cbg):
        minx, miny, maxx, maxy = cbg.total_bounds
        lat_range, lon_range = (miny - 0.5, maxy + 0.5), (minx - 0.5, maxx + 0.5)
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".html", ".csv", ".json"))
    found = user_ids_in(files, ids)
    problems = privacy_violations(files, user_ids=found, k_min_users=k, lat_range=lat_range, lon_range=lon_range)
    if problems:
        shutil.rmtree(folder, ignore_errors=True)
        raise MobilityError("report withheld, private content found: " + "; ".join(problems[:5]) +
                            "; raise k_min_users or report a coarser level")
