"""The report's tables as people read them: on the page and in the CSV files beside it.

The science tables (:mod:`.unemployment`, :mod:`.mobility_gap`, :mod:`.coverage`) hold codes and fractions;
here they get place names beside the FIPS codes, plain group and metric labels beside the codes, and every
rate in percent (columns ending ``_pct``; differences of rates in percentage ``points``). CSVs keep every
row; the page shows the rows that matter first (:func:`mobility.report.document.table_html`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.report.labels import METRIC_SCALE, group_label, metric_name, place_name

STATUS_LABELS = {"employed": "employed", "job_loser": "lost their job"}

HEADERS = {
    "place": "place", "level": "level", "fips": "FIPS", "month": "month", "n_users": "users",
    "rate_pct": "rate (%)", "rate_low_pct": "95% interval from (%)", "rate_high_pct": "to (%)",
    "source": "compared with", "estimate_pct": "estimate (%)", "estimate_low_pct": "95% interval from (%)",
    "estimate_high_pct": "to (%)", "official_pct": "reference (%)", "error_points": "error (points)",
    "dimension": "dimension", "group": "group", "status": "status", "metric": "metric",
    "mean": "mean in the month", "mean_low": "95% interval from", "mean_high": "to",
    "change": "change from baseline", "change_low": "95% interval from", "change_high": "to",
    "period": "period", "period_start": "from", "measure": "users counted", "median_hours": "median hours of data",
    "suppressed": "fewer than k users",
}
"""CSV column -> header on the page."""


def _pct(values) -> np.ndarray:
    return 100 * pd.to_numeric(values, errors="coerce").to_numpy(float)


def unemployment_for_people(rates: pd.DataFrame) -> pd.DataFrame:
    """``unemployment_month`` / ``unemployment_trend`` with names and percent.

    Examples
    --------
    >>> r = pd.DataFrame({"level": "county", "area": ["42101"], "month": "2020-04", "n_users": [30.0],
    ...                   "rate": [0.054], "rate_low": [0.02], "rate_high": [0.11], "suppressed": [False]})
    >>> unemployment_for_people(r).astype(str).iloc[0].tolist()
    ['Philadelphia County, PA', 'county', '42101', '2020-04', '30.0', '5.4', '2.0', '11.0', 'False']
    """
    return pd.DataFrame({
        "place": [place_name(a, lv) for a, lv in zip(rates["area"], rates["level"])],
        "level": rates["level"].to_numpy(), "fips": rates["area"].astype(str).to_numpy(),
        "month": rates["month"].to_numpy(), "n_users": rates["n_users"].to_numpy(float),
        "rate_pct": _pct(rates["rate"]), "rate_low_pct": _pct(rates["rate_low"]),
        "rate_high_pct": _pct(rates["rate_high"]), "suppressed": rates["suppressed"].astype(bool).to_numpy(),
    })


def comparison_for_people(comparison: pd.DataFrame) -> pd.DataFrame:
    """``official_comparison`` with names, percent and the error (estimate minus reference) in points.

    Examples
    --------
    >>> c = pd.DataFrame({"source": "truth", "level": "county", "area": ["42101"], "month": "2020-04",
    ...     "n_users": [30.0], "estimate": [0.05], "estimate_low": [0.02], "estimate_high": [0.1],
    ...     "official": [0.08], "suppressed": [False]})
    >>> unemployment_row = comparison_for_people(c).iloc[0]
    >>> unemployment_row["source"], float(unemployment_row["error_points"])
    ("the synthetic region's true rates", -3.0)
    """
    from mobility.report.unemployment import SOURCE_NAMES

    estimate, official = _pct(comparison["estimate"]), _pct(comparison["official"])
    return pd.DataFrame({
        "source": [SOURCE_NAMES.get(s, s) for s in comparison["source"]],
        "place": [place_name(a, lv) for a, lv in zip(comparison["area"], comparison["level"])],
        "level": comparison["level"].to_numpy(), "fips": comparison["area"].astype(str).to_numpy(),
        "month": comparison["month"].to_numpy(), "n_users": comparison["n_users"].to_numpy(float),
        "estimate_pct": estimate, "estimate_low_pct": _pct(comparison["estimate_low"]),
        "estimate_high_pct": _pct(comparison["estimate_high"]), "official_pct": official,
        "error_points": np.round(estimate - official, 6),
        "suppressed": comparison["suppressed"].astype(bool).to_numpy(),
    })


def mobility_for_people(gap: pd.DataFrame) -> pd.DataFrame:
    """``mobility_by_status`` with plain group, status and metric labels (codes kept beside them); shares
    such as exploration in percent.

    Examples
    --------
    >>> g = pd.DataFrame({"dimension": "age", "group": ["le29"], "status": "job_loser", "metric": "exploration_rate",
    ...     "n_users": [12.0], "mean": [0.2], "mean_low": [0.1], "mean_high": [0.3], "change": [0.05],
    ...     "change_low": [0.0], "change_high": [0.1], "suppressed": [False]})
    >>> row = mobility_for_people(g).iloc[0]
    >>> row["group"], row["status"], row["metric"], float(row["mean"])
    ('aged 29 or younger', 'lost their job', 'exploration (% of visits)', 20.0)
    """
    scale = gap["metric"].map(lambda m: METRIC_SCALE.get(m, 1.0)).to_numpy(float)
    out = pd.DataFrame({
        "dimension": gap["dimension"].to_numpy(),
        "group": [group_label(d, g) for d, g in zip(gap["dimension"], gap["group"])],
        "group_code": gap["group"].astype(str).to_numpy(),
        "status": gap["status"].map(lambda s: STATUS_LABELS.get(s, s)).to_numpy(),
        "metric": gap["metric"].map(metric_name).to_numpy(), "metric_code": gap["metric"].to_numpy(),
        "n_users": gap["n_users"].to_numpy(float),
    })
    for column in ("mean", "mean_low", "mean_high", "change", "change_low", "change_high"):
        out[column] = pd.to_numeric(gap[column], errors="coerce").to_numpy(float) * scale
    out["suppressed"] = gap["suppressed"].astype(bool).to_numpy()
    return out


def for_page(table: pd.DataFrame, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """The columns people read, with the page's headers (:data:`HEADERS`).

    Examples
    --------
    >>> for_page(pd.DataFrame({"rate_pct": [5.0], "fips": ["42"]}), drop=("fips",)).columns.tolist()
    ['rate (%)']
    """
    return table.drop(columns=[c for c in drop if c in table]).rename(columns=HEADERS)
