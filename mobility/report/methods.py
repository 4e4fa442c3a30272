"""The methods-and-caveats section, generated from the run manifest (``run.json``).

Parameters of every stage, the data period, package versions and quarantine counts come from the manifest;
file paths are left out (they name the analyst's machine, not the method).
"""

from __future__ import annotations

import json

import pandas as pd

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
    "regions, perfect statuses still miss the true county rates by 0.7-1.2 points on average. Recalibration "
    "needs a large labelled panel: with labels for half of the users it moved county rates by up to 3 points, "
    "with a twentieth by up to 10, and the intervals could miss.",
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


def run_summary(manifest: dict, *, first_week: str | None = None, last_week: str | None = None) -> pd.DataFrame:
    """``item, value`` rows: region, data period, run times, row counts, quarantine, versions.

    Examples
    --------
    >>> m = {"region": "r", "versions": {"mobility": "0.1.0"}, "stages": {"validate": {"rows": {"pings": 5}}}}
    >>> run_summary(m).values.tolist()
    [['region', 'r'], ['rows: pings', '5'], ['version: mobility', '0.1.0']]
    """
    rows = [("region", manifest.get("region", ""))]
    if first_week and last_week:
        rows.append(("data period (weeks)", f"{first_week} to {last_week}"))
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
