"""The unemployment tables of the report: rates by county and state for the month, their trend, and the
comparison with official series.

Input is the employment step's ``area_unemployment`` table (:mod:`mobility.employment.area`): its ``rate``
and 95% interval ``rate_low``..``rate_high`` (a bootstrap over users that re-runs the weighting and the
calibration, and draws each person's status) of the ``expected`` estimator, read as they are. A month cell
counts user-weeks. Every cell behind fewer than ``k_min_users`` users is suppressed.

Schema ``unemployment_month`` / ``unemployment_trend``: ``level`` (county/state), ``area`` (FIPS),
``month`` (``YYYY-MM``), ``n_users``, ``rate``, ``rate_low``, ``rate_high`` (fractions), ``suppressed``.
Schema ``official_comparison``: ``source``, ``level``, ``area``, ``month``, ``n_users``, ``estimate``,
``estimate_low``, ``estimate_high`` (its 95% interval), ``official`` (fractions), ``suppressed``.
What people read (the page and the CSV files) is in percent: :mod:`mobility.report.tables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.employment.area import complementary_suppression, week_thursday
from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.report.privacy import check_k, suppress_small

AREA_REQUIRED = ("method", "route", "level", "area", "period", "period_start", "n_users", "rate", "rate_low",
                 "rate_high")
TREND_COLUMNS = ["level", "area", "month", "n_users", "rate", "rate_low", "rate_high", "suppressed"]
COMPARISON_COLUMNS = ["source", "level", "area", "month", "n_users", "estimate", "estimate_low", "estimate_high",
                      "official", "suppressed"]


def check_month(month: str) -> pd.Period:
    """Parse ``YYYY-MM`` into a monthly Period (MobilityError otherwise).

    Examples
    --------
    >>> str(check_month("2020-04"))
    '2020-04'
    """
    if not isinstance(month, str) or len(month) != 7 or month[4] != "-":
        raise MobilityError(f"month must be 'YYYY-MM' (e.g. 2020-04), got {month!r}")
    try:
        return pd.Period(month, freq="M")
    except ValueError as exc:
        raise MobilityError(f"month must be 'YYYY-MM' (e.g. 2020-04), got {month!r}") from exc


def month_text(ts: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each timestamp (missing stays missing), formatted once per distinct value: a table of a
    region's user-weeks holds millions of rows but a few dozen distinct weeks.

    Examples
    --------
    >>> month_text(pd.Series(pd.to_datetime(["2020-04-02", None, "2020-04-02", "2020-05-07"]))).tolist()
    ['2020-04', nan, '2020-04', '2020-05']
    """
    codes, distinct = pd.factorize(pd.to_datetime(ts))
    text = np.append(pd.DatetimeIndex(distinct).strftime("%Y-%m").to_numpy(dtype=object), np.nan)
    return pd.Series(text[codes], index=ts.index, dtype=object)


def week_month(weeks) -> pd.Series:
    """``YYYY-MM`` of the month each week (its Monday) belongs to: the month of its Thursday (the ISO rule the
    area tables use).

    Examples
    --------
    >>> week_month(pd.to_datetime(["2020-03-30", "2020-04-27"])).tolist()   # Thursdays 2 April, 30 April
    ['2020-04', '2020-04']
    """
    return month_text(week_thursday(pd.Series(pd.to_datetime(weeks))))


def monthly_rates(area: pd.DataFrame, *, method: str = "signal", route: str = "individual",
                  k_min_users: int = 10) -> pd.DataFrame:
    """Monthly rates with their 95% intervals for every county and state (schema ``unemployment_trend``),
    as the area table gives them (its ``expected`` estimator when it has several).

    Examples
    --------
    >>> area = pd.DataFrame({"method": "signal", "route": "individual", "level": "county", "area": "42101",
    ...     "period": "month", "period_start": pd.Timestamp("2020-04-01"), "n_users": [20],
    ...     "rate": [0.2], "rate_low": [0.081], "rate_high": [0.416]})
    >>> r = monthly_rates(area).iloc[0]
    >>> r["month"], float(r["rate"]), float(r["rate_low"]), float(r["rate_high"])
    ('2020-04', 0.2, 0.081, 0.416)
    """
    k = check_k(k_min_users)
    require_columns(area, AREA_REQUIRED, "area_unemployment", "pass the employment step's area_unemployment table")
    sel = area[(area["method"] == method) & (area["route"] == route) & (area["period"] == "month")]
    if "estimator" in sel.columns:
        sel = sel[sel["estimator"] == "expected"]
    if sel.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    out = pd.DataFrame({
        "level": sel["level"].astype(str).to_numpy(),
        "area": sel["area"].astype(str).to_numpy(),
        "month": pd.to_datetime(sel["period_start"]).dt.strftime("%Y-%m").to_numpy(),
        "n_users": pd.to_numeric(sel["n_users"], errors="coerce").to_numpy(float),
    })
    if "suppressed" in sel.columns:  # cut upstream at the area table's own k: stays cut here
        out["suppressed"] = sel["suppressed"].to_numpy()
    for column in ("rate", "rate_low", "rate_high"):
        out[column] = pd.to_numeric(sel[column], errors="coerce").to_numpy(float)
    out = out.sort_values(["level", "area", "month"], kind="stable").reset_index(drop=True)
    out = suppress_small(out, k_min_users=k, keep=["level", "area", "month"])
    # a lone county hidden here (k above the area table's) would come back as the state minus the others
    out["suppressed"] = complementary_suppression(out, out["suppressed"].to_numpy(), by=("month",))
    return suppress_small(out, k_min_users=k, keep=["level", "area", "month"])[TREND_COLUMNS]


def trend_window(rates: pd.DataFrame, month: str, *, trend_months: int = 6) -> pd.DataFrame:
    """The rows of ``rates`` from ``trend_months - 1`` months before ``month`` up to ``month``.

    Examples
    --------
    >>> r = pd.DataFrame({"month": ["2020-01", "2020-02", "2020-03", "2020-04"]})
    >>> trend_window(r, "2020-03", trend_months=2)["month"].tolist()
    ['2020-02', '2020-03']
    """
    end = check_month(month)
    if isinstance(trend_months, bool) or not isinstance(trend_months, (int, np.integer)) or trend_months < 1:
        raise MobilityError(f"trend_months must be an integer >= 1, got {trend_months!r}")
    first = str(end - (int(trend_months) - 1))
    keep = (rates["month"] >= first) & (rates["month"] <= str(end))
    return rates[keep].reset_index(drop=True)


def reference_monthly(references: dict) -> pd.DataFrame:
    """Official (or true) rates as monthly values: ``source, level, area, month, official``.

    ``references`` is :func:`mobility.employment.validation.reference_series` output,
    ``{name: (level, period, DataFrame[area, period_start, rate])}``; a weekly series is averaged over the
    weeks whose Thursday falls in the month (the ISO rule the area tables use).

    Examples
    --------
    >>> wk = pd.DataFrame({"area": "42", "period_start": pd.to_datetime(["2020-03-30", "2020-04-06"]),
    ...                    "rate": [0.02, 0.04]})
    >>> reference_monthly({"ui_claims": ("state", "week", wk)})[["month", "official"]].values.tolist()
    [['2020-04', 0.03]]
    """
    frames = []
    for name, (level, period, ref) in references.items():
        start = pd.to_datetime(ref["period_start"])
        if period == "week":
            start = week_thursday(start)
        frame = pd.DataFrame({"source": name, "level": level, "area": ref["area"].astype(str).to_numpy(),
                              "month": start.dt.strftime("%Y-%m").to_numpy(), "official": ref["rate"].to_numpy(float)})
        frames.append(frame.groupby(["source", "level", "area", "month"], as_index=False)["official"].mean())
    if not frames:
        return pd.DataFrame(columns=["source", "level", "area", "month", "official"])
    return pd.concat(frames, ignore_index=True)


def official_comparison(rates: pd.DataFrame, references: dict) -> pd.DataFrame:
    """Estimated monthly rates beside official ones, per source, area and month (schema ``official_comparison``).

    Suppressed estimates stay suppressed (``estimate`` missing); official values are public and kept.

    Examples
    --------
    >>> rates = pd.DataFrame({"level": "state", "area": "42", "month": ["2020-04"], "n_users": [30.0],
    ...                       "rate": [0.1], "rate_low": [0.03], "rate_high": [0.25], "suppressed": [False]})
    >>> ref = pd.DataFrame({"area": ["42"], "period_start": pd.to_datetime(["2020-04-01"]), "rate": [0.15]})
    >>> official_comparison(rates, {"laus_state": ("state", "month", ref)})[["estimate", "official"]].values.tolist()
    [[0.1, 0.15]]
    """
    ref = reference_monthly(references)
    merged = ref.merge(rates, on=["level", "area", "month"], how="inner")
    out = merged.rename(columns={"rate": "estimate", "rate_low": "estimate_low", "rate_high": "estimate_high"})
    columns = COMPARISON_COLUMNS
    return out[columns].sort_values(["source", "level", "area", "month"], kind="stable").reset_index(drop=True)


SOURCE_NAMES = {"truth": "the synthetic region's true rates", "laus_county": "BLS LAUS county rates",
                "laus_state": "BLS LAUS state rates", "ui_claims": "the insured unemployment rate (UI claims)"}
"""Reference series name -> words for people."""


def _month_row(rates: pd.DataFrame, level: str, area: str, month: str) -> pd.Series | None:
    rows = rates[(rates["level"] == level) & (rates["area"] == area) & (rates["month"] == month)]
    if rows.empty or bool(rows["suppressed"].iloc[0]):
        return None
    return rows.iloc[0]


def headline(trend: pd.DataFrame, month: str) -> str:
    """One sentence on the state's estimate for ``month`` and its change from the month before.

    The state is the state row of ``month`` with the most users (a region inside one state has one).
    Rates in ``trend`` are fractions (schema ``unemployment_trend``); the sentence speaks in percent and
    percentage points.

    Examples
    --------
    >>> t = pd.DataFrame({"level": "state", "area": "42", "month": ["2020-03", "2020-04"], "n_users": [90.0, 88.0],
    ...                   "rate": [0.031, 0.126], "rate_low": [0.012, 0.071], "rate_high": [0.093, 0.211],
    ...                   "suppressed": False})
    >>> headline(t, "2020-04")
    'Estimated unemployment in Pennsylvania rose to 12.6% in April 2020 (95% interval 7.1-21.1%), 9.5 points above March 2020.'
    >>> headline(t.iloc[1:], "2020-04")
    'Estimated unemployment in Pennsylvania was 12.6% in April 2020 (95% interval 7.1-21.1%); there is no estimate for March 2020 to compare with.'
    """
    from mobility.report.labels import month_name, place_name

    states = trend[(trend["level"] == "state") & (trend["month"] == month) & ~trend["suppressed"].astype(bool)]
    when = month_name(month)
    if states.empty:
        return (f"There is no state estimate for {when}: too few users with a known employment status "
                "(see the coverage section).")
    row = states.sort_values("n_users", ascending=False, kind="stable").iloc[0]
    name = place_name(row["area"], "state")
    now = (f"{100 * row['rate']:.1f}% in {when} (95% interval {100 * row['rate_low']:.1f}-"
           f"{100 * row['rate_high']:.1f}%)")
    prev_month = str(pd.Period(month, freq="M") - 1)
    before = _month_row(trend, "state", row["area"], prev_month)
    if before is None:
        return (f"Estimated unemployment in {name} was {now}; there is no estimate for {month_name(prev_month)} "
                "to compare with.")
    points = round(100 * (row["rate"] - before["rate"]), 1)
    if points == 0:
        return f"Estimated unemployment in {name} held at {now}, unchanged from {month_name(prev_month)}."
    verb, side = ("rose to", "above") if points > 0 else ("fell to", "below")
    return f"Estimated unemployment in {name} {verb} {now}, {abs(points):.1f} points {side} {month_name(prev_month)}."


def _count_words(n_below: int, n: int, what: str, side: str) -> str:
    if n == 1:
        return f"the one {what} estimate is {side} it"
    if n_below == n:
        return f"every {what} estimate is {side} it ({n} of {n})"
    if n_below == 0:
        return f"no {what} estimate is {side} it (0 of {n})"
    return f"{n_below} of {n} {what} estimates are {side} it"


def comparison_summary(comparison: pd.DataFrame, month: str) -> list[str]:
    """Sentences on bias and error of the estimates against each reference series (schema ``official_comparison``).

    For the report month: how many area estimates lie below (or above) the reference, the mean error
    (estimate minus reference, percentage points: the bias) and the mean absolute error; then the same
    two numbers over every month of the comparison.

    Examples
    --------
    >>> c = pd.DataFrame({"source": "truth", "level": "county", "area": ["1", "2", "1", "2"],
    ...     "month": ["2020-03", "2020-03", "2020-04", "2020-04"], "n_users": 50.0,
    ...     "estimate": [0.05, 0.04, 0.08, 0.10], "official": [0.04, 0.04, 0.11, 0.14], "suppressed": False})
    >>> comparison_summary(c, "2020-04")[0]
    "Against the synthetic region's true rates, April 2020: every county estimate is below it (2 of 2); mean error -3.5 points, mean absolute error 3.5 points."
    >>> comparison_summary(c, "2020-04")[1]
    'Over the 2 months shown (4 county-months): mean error -1.5 points, mean absolute error 2.0 points.'
    """
    from mobility.report.labels import month_name

    lines = []
    shown = comparison[~comparison["suppressed"].astype(bool)].dropna(subset=["estimate", "official"])
    for source, g in shown.groupby("source", sort=True):
        level = str(g["level"].iloc[0])
        what = SOURCE_NAMES.get(source, source)
        error = 100 * (g["estimate"] - g["official"])
        now = error[g["month"] == month]
        if len(now):
            below, above = int((now < 0).sum()), int((now > 0).sum())
            count = (_count_words(below, len(now), level, "below") if below >= above
                     else _count_words(above, len(now), level, "above"))
            lines.append(f"Against {what}, {month_name(month)}: {count}; mean error {now.mean():+.1f} points, "
                         f"mean absolute error {now.abs().mean():.1f} points.")
        else:
            lines.append(f"Against {what}: no {level} value for {month_name(month)}.")
        n_months = g["month"].nunique()
        if n_months > 1:
            lines.append(f"Over the {n_months} months shown ({len(g)} {level}-months): mean error "
                         f"{error.mean():+.1f} points, mean absolute error {error.abs().mean():.1f} points.")
    return lines
