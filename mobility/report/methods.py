"""The methods-and-caveats section, generated from the run manifest (``run.json``).

Parameters of every stage, the study period and the weeks of data, package versions and quarantine counts come
from the manifest; file paths are left out (they name the analyst's machine, not the method).
"""

from __future__ import annotations

import json

import pandas as pd

from mobility.employment.params import EmploymentParams

PATH_KEYS = {"files", "dir", "region_dir", "config", "out_dir", "path"}

CAVEATS = (
    "Smartphone panels are not random samples: users who share location data differ from the population "
    "(age, income, phone use). Rates are weighted to the census where the run gives margins (LODES jobs by "
    "residence: sector, age, earnings, sex; ACS sex by age), but a person's age, sex and sector are known only "
    "as the mix of their block group, so a panel that over-represents, say, young people inside every block "
    "group is not corrected (an ecological limit).",
    "Employment status is inferred from attendance at a baseline workplace; the labour force counted here is "
    "the people with a job at baseline, by home county, not LAUS's (CPS concepts: employed plus unemployed "
    "looking for work, 16+, by residence): a phone cannot see job search, so job losers who stop looking count "
    "as unemployed; people without a detected baseline job (the already unemployed, new entrants, gig workers, "
    "retirees) are in neither count; teleworkers are separated from job losers only in probability.",
    "Rates are expected counts from calibrated probabilities. Intervals are 95% percentile intervals of a "
    "bootstrap over users that re-rakes the weights, re-estimates the calibration and draws each person's "
    "status from its probability; the classifier's trees and the signal's attendance model are not refitted "
    "per replicate. They do not cover the gap between the people the panel counts in the labour force and "
    "everyone with a job (a workplace not detected, a home placed in the wrong county): on the synthetic "
    "regions, even perfect statuses miss the true county rates, by about a point on average. Recalibration "
    "needs a large labelled panel: labels for part of the users move every county's rate together, by several "
    "points with half of the users labelled and by more with a twentieth, and the intervals can miss that "
    "(benchmarks/README.md, \"Area rates with honest uncertainty\": why the goal is missed, and trying to "
    "break it).",
    "Home and work are known only as census block groups; no user id, coordinate or cell behind fewer "
    "than k users appears in this report or its tables.",
    "Official series (UI claims, LAUS) measure different things: claims count benefit recipients, LAUS "
    "follows survey definitions; agreement in trend matters more than in level.",
)


def _value(value) -> str:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def parameters_table(manifest: dict) -> pd.DataFrame:
    """``stage, parameter, value`` for every parameter the manifest records (paths left out).

    Examples
    --------
    >>> m = {"stage_order": ["stops"], "stages": {"stops": {"params": {"radius_m": 200.0, "files": ["/x"]}}}}
    >>> parameters_table(m).values.tolist()
    [['stops', 'radius_m', '200.0']]
    """
    rows = []
    stages = manifest.get("stages", {})
    for stage in manifest.get("stage_order", sorted(stages)):
        params = stages.get(stage, {}).get("params", {}) or {}
        for key in sorted(params):
            if key in PATH_KEYS:
                continue
            rows.append((stage, key, _value(params[key])))
    return pd.DataFrame(rows, columns=["stage", "parameter", "value"])


def stage_entry(manifest: dict, stage: str) -> dict:
    """A stage's entry of a run manifest (``run.json``), empty where the run has none.

    Examples
    --------
    >>> stage_entry({"stages": {"load": {"params": {"timezone": "UTC"}}}}, "load")["params"]
    {'timezone': 'UTC'}
    >>> stage_entry({}, "employment")
    {}
    """
    return (manifest.get("stages") or {}).get(stage) or {}


def run_summary(manifest: dict, *, first_week: str | None = None, last_week: str | None = None) -> pd.DataFrame:
    """``item, value`` rows: region, study period, weeks of data, run times, row counts, quarantine, versions.

    ``first_week``, ``last_week``: the local dates of the Mondays that start the first and the last week of
    data (a week that holds the period's first day may start before it).

    Examples
    --------
    >>> m = {"region": "r", "versions": {"mobility": "0.1.0"}, "stages": {"validate": {"rows": {"pings": 5}}}}
    >>> run_summary(m).values.tolist()
    [['region', 'r'], ['rows: pings', '5'], ['version: mobility', '0.1.0']]
    >>> load = {"params": {"period": ["2020-01-01T05:00:00+00:00", "2020-10-01T04:00:00+00:00"],
    ...                    "timezone": "America/New_York"}}
    >>> run_summary({"stages": {"load": load}}, first_week="2019-12-30", last_week="2020-09-28").values.tolist()[1:]
    [['study period', '2020-01-01 to 2020-09-30'], ['weeks of data (Mondays)', '2019-12-30 to 2020-09-28']]
    """
    rows = [("region", manifest.get("region", ""))]
    load = stage_entry(manifest, "load").get("params") or {}
    if load.get("period") and load.get("timezone"):
        start, end = (pd.Timestamp(t).tz_convert(load["timezone"]) for t in load["period"])
        rows.append(("study period", f"{start:%Y-%m-%d} to {end - pd.Timedelta(1, 'ns'):%Y-%m-%d}"))
    if first_week and last_week:
        rows.append(("weeks of data (Mondays)", f"{first_week} to {last_week}"))
    for key in ("started", "finished"):
        if manifest.get(key):
            rows.append((f"run {key}", str(manifest[key])[:19].replace("T", " ")))
    stages = manifest.get("stages", {})
    for stage in manifest.get("stage_order", sorted(stages)):
        for table, n in sorted((stages.get(stage, {}).get("rows") or {}).items()):
            if table in ("pings", "stops", "visits", "home_work_daily", "metrics_weekly", "quarantine"):
                rows.append((f"rows: {table}", f"{n:,}" if isinstance(n, int) and n >= 1000 else str(n)))
        quarantine = stages.get(stage, {}).get("quarantine") or {}
        for reason, n in sorted(quarantine.items()):
            rows.append((f"quarantined ({stage}): {reason}", str(n)))
    for package, version in sorted((manifest.get("versions") or {}).items()):
        rows.append((f"version: {package}", str(version)))
    return pd.DataFrame(rows, columns=["item", "value"])


GAMMA_SECTION = "(benchmarks/README.md, \"Outside evidence for gamma and b\")"
"""Where the job-loss slope's outside evidence and its effect on the rates are measured."""

SMALL_PANEL_SECTION = "(benchmarks/README.md, \"Why the rates of small panels were low\")"
"""Where the rates of small panels without labels are measured."""


def uncalibrated_signal(intercept_drawn: bool, job_loss_slope: float | None = None, *,
                        ends_given: bool = False) -> str:
    """The report's warning on the signal's rates where no labelled panel recalibrated them.

    Its sentence on the intervals says whether they drew the part of remote work that teleworkability does not
    explain (b) or took it as known (no daytime evidence, or ``remote_intercept_max = 0``). Its sentence on job
    loss names the run's ``job_loss_telework_slope`` (None: the default), and ``ends_given`` whether the report
    gives the state's rate at the ends of its range. How the rates and intervals fared on the synthetic regions is
    said only for the default slope, the one they were measured at.
    """
    default = EmploymentParams().job_loss_telework_slope
    gamma = default if job_loss_slope is None else float(job_loss_slope)
    measured = gamma == default
    if not intercept_drawn:
        intervals = ("Their 95% intervals carry the sampling of people only, neither the model's doubt about how "
                     "much of the absence is remote work nor its own error: they are too narrow.")
    else:
        intervals = ("Their 95% intervals carry the sampling of people and the model's doubt about how much of the "
                     "absence is remote work (wide on a panel of a thousand people; on larger panels that doubt is "
                     "not let shrink below what a few thousand absences could settle), not the model's own error"
                     + (": on the project's synthetic regions they held the truth in nearly all county-weeks of two "
                        "30,000-person panels and in far fewer of those of thousand-person panels, where that doubt "
                        "pulled the rates low." if measured else "."))
    how_they_fared = (
        "On the project's synthetic regions, whose block groups differ in their sectors as real ones do, they "
        "were within a point of the true county rates on average on panels of 30,000 people and several points "
        f"too low on panels of a thousand {GAMMA_SECTION}; why the small panels' rates are low is measured "
        f"too {SMALL_PANEL_SECTION}." if measured else
        "This run's job-loss slope is not the default, at which the project's synthetic regions measured these "
        f"rates; how far they move with it is measured there too {GAMMA_SECTION}.")
    return (
        f"No labelled panel recalibrated these rates: they are the attendance signal's own probabilities. "
        f"{how_they_fared} The data cannot tell the model how job loss depends on how teleworkable a workplace "
        f"is: it is told ({_slope_sentence(gamma, default)}), and where the jobs that cannot be done from home were "
        "lost more often than it is told, it reads too many absences as job losses and the rates come out too "
        "high; less often, too low. Over the range the outside evidence allows, the rates move by several points"
        + (" (the methods say the state's rate at each end of it)" if ends_given else "")
        + f", and no interval carries that doubt. {intervals} Read them as estimates with a bias of unknown size and "
        "sign, not as official rates, and give the run a labelled panel ([employment] labels) before publishing "
        "them. A model trained on another region ([employment] model) is a transfer: how it carries to real data "
        "is not known (benchmarks/README.md, \"Without labels: the signal's own probabilities and a transferred "
        "model\").")


def _slope_sentence(gamma: float, default: float) -> str:
    """Where the run's job-loss slope came from, in words (the value itself where the analyst set one)."""
    if gamma == default and gamma > 0:
        return ("[employment] job_loss_telework_slope at its default: job losses fall with the share of a "
                "workplace's jobs that can be done from home as the rise in unemployment of Pennsylvania's counties "
                "fell with theirs in April 2020, an estimate across areas with a wide interval; "
                f"mobility.census.job_loss_slope measures it for another state {GAMMA_SECTION}")
    return (f"[employment] job_loss_telework_slope = {gamma:g}: "
            + ("not at all" if gamma == 0 else "job losses fall by that share of their rate from a workplace where "
               "no job can be done from home to one where every job can"))


def slope_end_lines(ends: dict | None, slope: float, month: str | None, published: set[str]) -> list[str]:
    """The state rates of ``month`` at the ends of the job-loss slope's range (``run.json``'s
    ``job_loss_slope_ends``), in a sentence per state the report publishes (``published``: the state codes its
    own table shows for the month, after its own k and route); none where the run has none for that month.

    Examples
    --------
    >>> ends = {"low": 0.0, "high": 1.0, "states": {"2020-04": {"42": [0.04, 0.051, 0.039]}}}
    >>> slope_end_lines(ends, 0.83, "2020-04", {"42"}) == slope_end_lines(ends, 0.83, "2020-04", set())
    False
    >>> import textwrap
    >>> print(textwrap.fill(slope_end_lines(ends, 0.83, "2020-04", {"42"})[0], 110))
    Had job loss fallen with the teleworkability of workplaces as little as the outside evidence allows
    ([employment] job_loss_telework_slope_low = 0), Pennsylvania's rate in April 2020 would be 5.1%; as much
    (job_loss_telework_slope_high = 1), 3.9%; at this run's 0.83, 4.0%. No interval here carries that doubt.
    """
    from mobility.report.labels import month_name, place_name

    states = ((ends or {}).get("states") or {}).get(month) if month else None
    lines = []
    for area, (rate, at_low, at_high) in sorted((states or {}).items()):
        if area not in published:  # hidden by the report's own k, or not the route the report shows
            continue
        said = [(word, side, v) for word, side, v in (("little", "low", at_low), ("much", "high", at_high))
                if v is not None]
        # the first end says what the range is and whose rate; the second only its own value
        parts = [f"as {word} (job_loss_telework_slope_{side} = {ends[side]:g}), {100 * v:.1f}%" if i else
                 f"as {word} as the outside evidence allows ([employment] job_loss_telework_slope_{side} = "
                 f"{ends[side]:g}), {place_name(area, 'state')}'s rate in {month_name(month)} would be {100 * v:.1f}%"
                 for i, (word, side, v) in enumerate(said)]
        if parts and rate is not None:
            lines.append(f"Had job loss fallen with the teleworkability of workplaces {'; '.join(parts)}; at this "
                         f"run's {slope:g}, {100 * rate:.1f}%. No interval here carries that doubt.")
    return lines


UNCALIBRATED_SIGNAL = uncalibrated_signal(True)


TRANSFER_AREA = (
    "Between the project's synthetic regions, a transferred model's county rates were a few points off on "
    "average, and their 95% intervals missed the truth in many county-weeks (benchmarks/README.md, \"Without "
    "labels: the signal's own probabilities and a transferred model\"); on real data the error of a transfer is "
    "not known.")


def _share(x) -> str:
    return f"{x:,}" if isinstance(x, int) else str(x)


def estimates_provenance(manifest: dict, method: str, month: str | None = None,
                         published: set[str] | None = None) -> tuple[list[str], str | None]:
    """Where the report's unemployment rates come from, in words: which method and model made the statuses,
    whether a labelled panel recalibrated them; and a warning for the summary where the rates are not to be
    read as they stand (the signal uncalibrated, a transferred model).

    Parameters
    ----------
    manifest : dict
        The run's ``run.json``; reads ``stages.employment``: ``methods`` (the classifier's ``model.json``) and
        ``area_calibration`` (per method: the recalibration's weight by month, or why there was none).
    method : str
        The method whose rates the report shows (``signal`` or ``classifier``).

    Returns
    -------
    lines : list of str
        Sentences for the unemployment section (empty when the run has no employment stage).
    warning : str or None

    Examples
    --------
    >>> m = {"stages": {"employment": {"methods": {"signal": {}}, "area_calibration": {"signal": "no labels"}}}}
    >>> lines, warning = estimates_provenance(m, "signal")
    >>> lines[0][:40], warning[:33]
    ('Statuses: the attendance signal (no trai', 'No labelled panel recalibrated th')
    """
    stage = stage_entry(manifest, "employment")
    if not stage:
        return [], None
    lines, warnings = [], []
    if method == "classifier":
        card = (stage.get("methods") or {}).get("classifier") or {}
        trained = card.get("trained_on") or {}
        oof = card.get("out_of_fold") or {}
        score = (f"; out-of-fold ROC AUC {oof['roc_auc']:.3f}, calibration error {oof['calibration_error']:.3f}"
                 if {"roc_auc", "calibration_error"} <= set(oof) else "")
        where = (f"{'the synthetic region' if trained.get('synthetic') else 'region'} "
                 f"{trained.get('region', 'unnamed')!r}, {trained.get('start', '?')} to {trained.get('end', '?')}, "
                 f"{_share(trained.get('n_users', '?'))} users")
        if card.get("trained_here"):
            lines.append(f"Statuses: the classifier (LightGBM, model {card.get('model_id', '?')}) trained in this run "
                         f"on its labelled panel ({where}), cross-fitted by user: each user's statuses come from a "
                         f"model that never saw that user{score}.")
        else:
            lines.append(f"Statuses: the classifier model {card.get('model_id', '?')} trained on {where}, applied "
                         f"here without retraining{score} (its training region's scores).")
        if card.get("warning"):
            warnings.append(card["warning"])
        if card.get("transfer"):
            warnings.append(TRANSFER_AREA)
    else:
        lines.append("Statuses: the attendance signal (no training): weekly absence from each worker's baseline "
                     "workplace, told apart from remote work by the panel's own remote-work adoption by sector and "
                     "by the person's own days.")
    calibration = (stage.get("area_calibration") or {}).get(method)
    if isinstance(calibration, dict) and calibration:
        used = [float(v) for v in calibration.values() if v is not None]
        share = (f"{min(used):.2f} in every month" if min(used) == max(used) else
                 f"{min(used):.2f}-{max(used):.2f} by month") if used else "none"
        lines.append(f"Rates recalibrated out of fold on the run's labelled panel (share of the recalibration used: "
                     f"{share}).")
    elif calibration is not None:
        lines.append(f"No recalibration of the rates ({calibration}).")
        drawn = (stage.get("remote_intercept") or {}).get(method)
        if drawn:
            lines.append(f"The 95% intervals also draw, replicate by replicate, the share of remote work that the "
                         f"teleworkability of workplaces does not explain (b, from 0 to 1) from its posterior: mean "
                         f"{drawn['mean']:.2f}, standard deviation {drawn['sd']:.2f}"
                         + (f"; the drops' evidence about b counted as that of {drawn['evidence_drops']:,} drops "
                            f"({drawn['likelihood_power']:.1%} of its full weight), since the population model is "
                            f"only an approximation." if drawn.get("likelihood_power", 1.0) < 1.0 else "."))
        if method == "signal":
            # the run's slope as its manifest recorded it; a run from before the slope existed had none (0)
            slope = (stage.get("params") or {}).get("job_loss_telework_slope", 0.0)
            ends = slope_end_lines(stage.get("job_loss_slope_ends"), slope, month, published or set())
            warnings.append(uncalibrated_signal(bool(drawn), slope, ends_given=bool(ends)))
            lines += ends
        else:
            lines.append("The probabilities keep the model's own calibration, from its training region.")
    return lines, " ".join(warnings) or None
