"""How job loss fell with teleworkability across areas: outside evidence for ``job_loss_telework_slope``.

:mod:`mobility.employment.adoption` reads each week's attendance drops as remote starts and job losses. Its
assumption 1 says how job loss varies with a worker's teleworkability x: per worker at risk, a week's job
losses are ``l (1 - gamma x)`` (``[employment] job_loss_telework_slope`` = gamma; 0 = job loss does not depend
on x). The drops cannot tell gamma (benchmarks/README.md, "Block groups as varied as real ones"), so it is the
analyst's statement. This module measures it from public tables the pipeline already reads: the rise in
unemployment of each area (BLS LAUS, :func:`mobility.census.laus.read_laus`) between two months, against the
area's teleworkability (LODES WAC sector mix with Dingel & Neiman's shares,
:func:`mobility.census.telework.mix_teleworkability`, or Dingel & Neiman's own state and MSA shares).

The model, per area a: ``rise_a = l (1 - gamma x_a) + e_a`` with ``rise_a = (U_after - U_before) / LF_before``,
fitted by least squares weighted by the labour force (``intercept`` = l, ``slope`` = -l gamma, so gamma =
-slope / intercept), with a percentile interval from a bootstrap over areas.

What this estimate is not (say it where it is used):

* **Ecological.** Areas differ in more than teleworkability (tourism, manufacturing, lockdown rules); the
  slope across areas is the slope within areas only if those differences are unrelated to x.
* **Net and by residence.** LAUS counts unemployed residents: recalls and exits from the labour force net out,
  and a county's residents work partly in other counties, while WAC counts the jobs located in it.
* **An extrapolation.** Areas' x span a narrow range (Pennsylvania's counties 0.28-0.45 on the employment
  measure), the method applies gamma over x in [0, 1].

``job_loss_telework_slope`` takes values in [0, 1] (1: no job losses where every job can be done from home) and
refuses others: an estimate or interval outside that range is the analyst's to cap when setting it, and to say so
(the default's interval, -0.03 to 1.38, is set as ``job_loss_telework_slope_low`` 0 and ``_high`` 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.errors import MobilityError

MIN_AREAS = 3
"""Fewest areas with both months and a teleworkability that give an estimate."""


@dataclass(frozen=True)
class JobLossSlope:
    """The fit of :func:`job_loss_slope`.

    Attributes
    ----------
    gamma : float
        ``-slope / intercept``: the relative fall of job loss per unit of teleworkability (NaN where the
        intercept is not positive).
    gamma_low, gamma_high : float
        Percentile bootstrap interval over areas (``level``). A draw with an intercept <= 0 or one distinct x has
        no gamma (``dropped_draws`` of them); where they are more than one tail of the interval, or the fit
        itself has no gamma, the interval is unbounded and both are NaN. The bounds move by a few hundredths
        between bootstrap seeds at 2,000 draws, a hundredth or two at the default 10,000.
    intercept : float
        l: the rise in unemployment per member of the labour force at x = 0 (a share, not %).
    slope : float
        The rise's change per unit of x.
    n_areas : int
        Areas in the fit.
    dropped_draws : int
        Bootstrap draws without a gamma.
    areas : pandas.DataFrame
        ``area_fips``, ``teleworkability``, ``labor_force`` (before), ``rise`` (a share): the fitted rows.
    """

    gamma: float
    gamma_low: float
    gamma_high: float
    intercept: float
    slope: float
    n_areas: int
    dropped_draws: int
    areas: pd.DataFrame


def _month(value, name: str) -> pd.Period:
    try:
        if isinstance(value, pd.Period):
            return value.asfreq("M")
        if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value.strip()):
            raise ValueError(value)
        return pd.Timestamp(value).to_period("M")
    except (ValueError, TypeError) as exc:
        raise MobilityError(f"job_loss_slope: {name}={value!r} is not a month; give 'YYYY-MM'") from exc


def _months(column: pd.Series) -> pd.Series:
    """A LAUS ``month`` column as monthly periods (dates anywhere in the month, with or without a time zone)."""
    if isinstance(column.dtype, pd.PeriodDtype):
        return column.dt.asfreq("M")
    dates = pd.to_datetime(column)
    if dates.dt.tz is not None:
        dates = dates.dt.tz_localize(None)
    return dates.dt.to_period("M")


def _area_values(teleworkability) -> pd.Series:
    """The teleworkability Series with FIPS strings for index; integer codes, duplicated codes are refused."""
    x = pd.Series(teleworkability, dtype=float)
    if not all(isinstance(k, str) for k in x.index):
        raise MobilityError("job_loss_slope: index the teleworkability by FIPS code strings ('42101', '42'), not "
                            f"numbers (found {x.index[:3].tolist()}): integers lose the leading zero")
    twice = x.index[x.index.duplicated()].unique().tolist()
    if twice:
        raise MobilityError(f"job_loss_slope: the teleworkability gives areas {twice[:5]} more than once; give one "
                            "value per area")
    return x


def _fits(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares intercepts and slopes of y on x, one per row of ``w`` (draws x areas)."""
    sw = w.sum(axis=1)
    xbar = (w @ x) / sw
    ybar = (w @ y) / sw
    sxx = (w * (x[None, :] - xbar[:, None]) ** 2).sum(axis=1)
    sxy = (w * (x[None, :] - xbar[:, None]) * (y[None, :] - ybar[:, None])).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(sxx > 1e-15 * np.maximum(sw, 1.0), sxy / sxx, np.nan)
    return ybar - slope * xbar, slope


def _gamma(intercept: np.ndarray, slope: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(intercept > 0, -slope / intercept, np.nan)


def job_loss_slope(laus: pd.DataFrame, teleworkability: pd.Series, *, before="2020-02", after="2020-04",
                   weighted: bool = True, n_boot: int = 10_000, level: float = 0.95, seed: int = 0) -> JobLossSlope:
    """gamma of ``l (1 - gamma x)``: how the rise in areas' unemployment fell with their teleworkability.

    Parameters
    ----------
    laus : pandas.DataFrame
        :func:`mobility.census.laus.read_laus` rows (``area_fips``, ``month``, ``labor_force``,
        ``unemployed``) of the areas, holding both months.
    teleworkability : pandas.Series
        x per area, indexed by the same ``area_fips`` (5-digit county, 2-digit state).
    before, after : str or Timestamp
        The months compared (default: February and April 2020, before the shock and its trough).
    weighted : bool
        Weight areas by their labour force in ``before`` (default) or equally.
    n_boot : int
        Bootstrap draws over areas for the interval (0: none, NaN bounds).
    level : float
        The interval's coverage.
    seed : int
        The bootstrap's seed.

    Returns
    -------
    JobLossSlope

    Raises
    ------
    MobilityError
        A missing column, a month not a month or absent from ``laus``, fewer than :data:`MIN_AREAS` areas with
        both months, a labour force and a teleworkability.

    Examples
    --------
    Four counties whose rise is 0.10 (1 - 0.6 x) exactly:

    >>> x = pd.Series([0.2, 0.3, 0.4, 0.5], index=["42001", "42003", "42005", "42007"])
    >>> lf = [1000, 4000, 2000, 3000]
    >>> rise = 0.10 * (1 - 0.6 * x.to_numpy())
    >>> laus = pd.DataFrame({"area_fips": list(x.index) * 2,
    ...                      "month": pd.to_datetime(["2020-02-01"] * 4 + ["2020-04-01"] * 4),
    ...                      "labor_force": lf * 2, "unemployed": [50] * 4 + list(50 + rise * lf)})
    >>> fit = job_loss_slope(laus, x)
    >>> round(fit.gamma, 6), round(fit.intercept, 6), round(fit.gamma_low, 6), round(fit.gamma_high, 6)
    (0.6, 0.1, 0.6, 0.6)

    On real data: ``x = mix_teleworkability(aggregate_lodes(read_lodes(wac), "county"), read_teleworkability(
    naics)).set_axis(...GEOID...)`` and ``laus = read_laus(laucntycur14)`` (``benchmarks/bench_job_loss_slope.py``
    does this for Pennsylvania's counties and for the states).
    """
    require_columns(laus, ["area_fips", "month", "labor_force", "unemployed"], "LAUS table",
                    "pass a table returned by mobility.census.laus.read_laus")
    if not 0 < level < 1:
        raise MobilityError(f"job_loss_slope: level={level!r} must lie strictly between 0 and 1")
    t0, t1 = _month(before, "before"), _month(after, "after")
    if t1 <= t0:
        raise MobilityError(f"job_loss_slope: after ({t1}) must come after before ({t0})")
    months = _months(laus["month"])
    sides = {}
    for name, t in (("before", t0), ("after", t1)):
        rows = laus[(months == t).to_numpy()]
        if rows.empty:
            have = sorted(str(m) for m in months.dropna().unique())
            raise MobilityError(f"job_loss_slope: the LAUS table has no month {t} ({name}); it holds "
                                f"{have[0] if have else '-'}..{have[-1] if have else '-'}: give a release that "
                                "covers both months")
        rows = rows.drop_duplicates("area_fips", keep="last")  # a later release's row replaces an earlier one
        sides[name] = rows.set_index(rows["area_fips"].astype(str))
    x = _area_values(teleworkability)
    table = pd.DataFrame({
        "teleworkability": x,
        "labor_force": pd.to_numeric(sides["before"]["labor_force"], errors="coerce").astype(float),
        "unemployed_before": pd.to_numeric(sides["before"]["unemployed"], errors="coerce").astype(float),
        "unemployed_after": pd.to_numeric(sides["after"]["unemployed"], errors="coerce").astype(float),
    })
    table = table[np.isfinite(table.to_numpy(dtype=float)).all(axis=1) & (table["labor_force"] > 0)]
    if len(table) < MIN_AREAS:
        raise MobilityError(
            f"job_loss_slope: {len(table)} area(s) have both months, a labour force and a teleworkability (need "
            f"{MIN_AREAS}); the LAUS areas start {sorted(sides['before'].index)[:3]}, the teleworkability's "
            f"{sorted(x.index)[:3]}: index both by the same FIPS codes (5-digit county, 2-digit state)")
    table["rise"] = (table["unemployed_after"] - table["unemployed_before"]) / table["labor_force"]
    table = table.rename_axis("area_fips").reset_index().sort_values("area_fips", ignore_index=True)
    xs, ys = table["teleworkability"].to_numpy(), table["rise"].to_numpy()
    w = table["labor_force"].to_numpy() if weighted else np.ones(len(table))
    intercept, slope = (float(v[0]) for v in _fits(xs, ys, w[None, :]))
    gamma = float(_gamma(np.array([intercept]), np.array([slope]))[0])
    low = high = np.nan
    dropped = 0
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(len(table), np.full(len(table), 1.0 / len(table)), size=int(n_boot))
        g = _gamma(*_fits(xs, ys, counts * w[None, :]))
        dropped = int(np.isnan(g).sum())
        # a draw without a positive intercept has no gamma: its ratio is unbounded. Where more draws than one tail
        # of the interval have none (or the fit itself has none), the interval is unbounded: NaN, not a
        # percentile of what is left
        if np.isfinite(gamma) and dropped <= (1 - level) / 2 * len(g):
            low, high = (float(v) for v in np.nanquantile(g, [(1 - level) / 2, (1 + level) / 2]))
    return JobLossSlope(gamma=gamma, gamma_low=low, gamma_high=high, intercept=intercept, slope=slope,
                        n_areas=len(table), dropped_draws=dropped,
                        areas=table[["area_fips", "teleworkability", "labor_force", "rise"]])
