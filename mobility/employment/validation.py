"""Validation of the estimates: against UI claims and LAUS (method.md 2.8), or against synthetic ground truth.

* :func:`validate_against` compares area rates with reference series: the synthetic region's true county
  weekly rates (``truth/area_weekly.parquet``), LAUS county or state monthly rates (``read_laus``), weekly
  state UI continued-claims rates (``read_ui_claims``). Per source and method (and estimator, when not
  ``expected``: key ``"<method> (<estimator>)"``): Pearson correlation, mean absolute error, mean error
  (bias) and RMSE (rates as fractions) over all unsuppressed cells, the share of cells whose 95 % interval
  (``rate_low``..``rate_high``) covers the reference and the intervals' mean width, and the same per area.
  :func:`plot_validation` returns the scatter as a Figure (the pipeline writes it).
* :func:`evaluate_against_truth` scores person-weeks of workers with a baseline job against the true weekly
  statuses: ROC AUC, Brier score and reliability (unemployed vs employed or remote), the share of remote
  workers' weeks flagged unemployed, job losers found and dated within +-1 week, false job losses among
  people who stay employed; optionally by group of people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.employment.status import job_loss_weeks
from mobility.errors import MobilityError


def _stats(g: pd.DataFrame, rate: str) -> dict:
    est, ref = g[rate].to_numpy(float), g["ref"].to_numpy(float)
    ok = np.isfinite(est) & np.isfinite(ref)
    e, r = est[ok], ref[ok]
    out = {"n": int(ok.sum())}
    if ok.sum() >= 2 and np.std(e) > 0 and np.std(r) > 0:
        out["pearson_r"] = float(np.corrcoef(e, r)[0, 1])
    if ok.sum():
        out["mae"] = float(np.mean(np.abs(e - r)))
        out["mean_error"] = float(np.mean(e - r))
        out["rmse"] = float(np.sqrt(np.mean((e - r) ** 2)))
    if {"rate_low", "rate_high"} <= set(g.columns):
        lo, hi = g["rate_low"].to_numpy(float)[ok], g["rate_high"].to_numpy(float)[ok]
        has = np.isfinite(lo) & np.isfinite(hi)
        if has.any():
            out["coverage"] = float(np.mean((lo[has] <= r[has]) & (r[has] <= hi[has])))
            out["mean_width"] = float(np.mean(hi[has] - lo[has]))
    return out


def _key(method, estimator) -> str:
    return str(method) if estimator in (None, "expected") else f"{method} ({estimator})"


def compare_rates(estimate: pd.DataFrame, reference: pd.DataFrame, *, rate: str = "rate") -> dict:
    """Correlation, errors and interval coverage of ``estimate[rate]`` against ``reference["rate"]``, joined on
    area and period (module notes).

    Both tables have ``area``, ``period_start`` and a rate (fractions); the estimate has ``method`` (and
    optionally ``estimator``, ``rate_low``, ``rate_high``, ``suppressed``: suppressed cells are left out).

    Examples
    --------
    >>> est = pd.DataFrame({"method": "signal", "area": "42101", "period_start": pd.date_range("2020-03-02", periods=3,
    ...                     freq="7D"), "rate": [0.01, 0.05, 0.09], "rate_low": 0.0, "rate_high": [0.1, 0.1, 0.095]})
    >>> ref = est[["area", "period_start"]].assign(rate=[0.02, 0.06, 0.10])
    >>> out = compare_rates(est, ref)["signal"]
    >>> out["n"], round(out["pearson_r"], 6), round(out["mae"], 6), round(out["coverage"], 3)
    (3, 1.0, 0.01, 0.667)
    """
    est = estimate
    if "suppressed" in est.columns:
        est = est[~est["suppressed"].astype(bool)]
    m = est.merge(reference[["area", "period_start", "rate"]].rename(columns={"rate": "ref"}),
                  on=["area", "period_start"], how="inner")
    if "estimator" not in m.columns:
        m = m.assign(estimator="expected")
    out = {}
    for (method, estimator), g in m.groupby(["method", "estimator"], sort=True):
        entry = _stats(g, rate)
        entry["by_area"] = {str(a): _stats(h, rate) for a, h in g.groupby("area", sort=True)}
        out[_key(method, estimator)] = entry
    return out


def reference_series(*, truth_area: pd.DataFrame | None = None, laus: pd.DataFrame | None = None,
                     ui_claims: pd.DataFrame | None = None) -> dict[str, tuple[str, str, pd.DataFrame]]:
    """Reference rates as ``{name: (level, period, DataFrame[area, period_start, rate])}``.

    UI claims: continued regular claims per labour force (``contclaims_rate_regular`` / 100), placed on
    the Monday of the claims week (its Saturday minus 5 days).

    Examples
    --------
    >>> t = pd.DataFrame({"county": ["42101"], "week": pd.to_datetime(["2020-04-06"]), "rate": [0.1]})
    >>> reference_series(truth_area=t)["truth"][2].to_dict("list")["rate"]
    [0.1]
    """
    refs = {}
    if truth_area is not None:
        require_columns(truth_area, ["county", "week", "rate"], "truth_area", "pass truth/area_weekly.parquet")
        refs["truth"] = ("county", "week", pd.DataFrame({
            "area": truth_area["county"].astype(str), "period_start": pd.to_datetime(truth_area["week"]),
            "rate": truth_area["rate"].astype(float)}))
    if laus is not None:
        require_columns(laus, ["area_fips", "area_type", "month", "rate_pct"], "laus", "read it with read_laus")
        for level in ("county", "state"):
            part = laus[laus["area_type"] == level]
            if len(part):
                refs[f"laus_{level}"] = (level, "month", pd.DataFrame({
                    "area": part["area_fips"].astype(str), "period_start": pd.to_datetime(part["month"]),
                    "rate": part["rate_pct"].astype(float) / 100.0}))
    if ui_claims is not None:
        require_columns(ui_claims, ["state_fips", "week_end"], "ui_claims", "read it with read_ui_claims")
        if "contclaims_rate_regular" not in ui_claims.columns:
            raise MobilityError("ui_claims: no 'contclaims_rate_regular' column; use the Opportunity Insights "
                                "file with rate columns")
        refs["ui_claims"] = ("state", "week", pd.DataFrame({
            "area": ui_claims["state_fips"].astype(str),
            "period_start": pd.to_datetime(ui_claims["week_end"]) - pd.Timedelta(days=5),
            "rate": pd.to_numeric(ui_claims["contclaims_rate_regular"], errors="coerce").astype(float) / 100.0}))
    return refs


def validate_against(area: pd.DataFrame, *, truth_area: pd.DataFrame | None = None, laus: pd.DataFrame | None = None,
                     ui_claims: pd.DataFrame | None = None, route: str = "individual") -> dict:
    """Compare area estimates with every reference given.

    Parameters
    ----------
    area : DataFrame
        ``area_unemployment`` (:mod:`mobility.employment.area`).
    truth_area, laus, ui_claims : DataFrame, optional
        Reference series (see :func:`reference_series`).
    route : {"individual", "sector"}
        Which estimates to compare.

    Returns
    -------
    dict
        ``{source: {method: {n, pearson_r, mae, rmse, by_area}}}``; :func:`plot_validation` draws the same.

    Examples
    --------
    >>> area = pd.DataFrame({"method": "signal", "route": "individual", "level": "county", "area": "42101",
    ...     "period": "week", "period_start": pd.date_range("2020-03-02", periods=3, freq="7D"),
    ...     "rate": [0.0, 0.1, 0.2], "suppressed": False})
    >>> truth = pd.DataFrame({"county": "42101", "week": area["period_start"], "rate": [0.0, 0.1, 0.25]})
    >>> round(validate_against(area, truth_area=truth)["truth"]["signal"]["pearson_r"], 3)
    0.993
    """
    require_columns(area, ["method", "route", "level", "area", "period", "period_start", "rate"], "area",
                    "pass area_unemployment(...) output")
    refs = reference_series(truth_area=truth_area, laus=laus, ui_claims=ui_claims)
    if not refs:
        raise MobilityError("validate_against: give at least one of truth_area, laus, ui_claims")
    result = {}
    for name, (level, period, ref) in refs.items():
        est = area[(area["route"] == route) & (area["level"] == level) & (area["period"] == period)]
        result[name] = compare_rates(est, ref)
    return result


def plot_validation(area: pd.DataFrame, refs: dict):
    """Scatter of estimated vs reference rates, one panel per reference of :func:`reference_series`.

    Returns
    -------
    matplotlib.figure.Figure
        No pyplot state; the caller saves it (the pipeline writes ``validation/<route>/validation.png``).

    Examples
    --------
    >>> area = pd.DataFrame({"method": "signal", "level": "county", "area": "42101", "period": "week",
    ...     "period_start": pd.date_range("2020-03-02", periods=2, freq="7D"), "rate": [0.05, 0.1]})
    >>> t = pd.DataFrame({"county": "42101", "week": area["period_start"], "rate": [0.04, 0.12]})
    >>> len(plot_validation(area, reference_series(truth_area=t)).axes)
    1
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5 * len(refs), 4.2))
    axes = fig.subplots(1, len(refs), squeeze=False)
    for ax, (name, (level, period, ref)) in zip(axes[0], refs.items()):
        est = area[(area["level"] == level) & (area["period"] == period)]
        if "estimator" in est.columns:
            est = est[est["estimator"] == "expected"]
        m = est.merge(ref.rename(columns={"rate": "ref"}), on=["area", "period_start"])
        for method, g in m.groupby("method", sort=True):
            ax.scatter(g["ref"], g["rate"], s=10, alpha=0.7, label=str(method))
        hi = float(np.nanmax(np.r_[m["ref"].to_numpy(float), m["rate"].to_numpy(float), 0.01]))
        ax.plot([0, hi], [0, hi], color="grey", lw=0.8)
        ax.set_xlabel(f"{name} rate ({level}, {period})")
        ax.set_ylabel("estimated rate")
        if len(m):
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _loss_scores(k: pd.DataFrame, truth: pd.DataFrame, detected: pd.Series, users: pd.Index) -> dict:
    """Job-loss dating and false losses among ``users`` (scored person-weeks ``k`` of one method)."""
    losers = truth[(truth["status"] == "unemployed") & truth["user_id"].isin(users)]
    loss_week = job_loss_weeks(losers[["user_id", "week", "weeks_since_job_loss"]])
    found = loss_week.index.intersection(detected.index)
    lag = (detected[found] - loss_week[found]).dt.days / 7.0
    ever_unemployed = set(losers["user_id"])
    stayers = pd.Index([u for u in users if u not in ever_unemployed])
    within = int((lag.abs() <= 1).sum())
    rem = k[k["status_true"] == "remote"]
    return {
        "remote_flagged_share": float((rem["status"] == "unemployed").mean()) if len(rem) else float("nan"),
        "job_losers": int(len(loss_week)), "job_losers_detected": int(len(found)),
        "loss_week_within_1": float(within / len(found)) if len(found) else float("nan"),
        "losers_found_within_1": float(within / len(loss_week)) if len(loss_week) else float("nan"),
        "stayers": int(len(stayers)),
        "false_loss_share": float(stayers.isin(detected.index).mean()) if len(stayers) else float("nan"),
    }


def evaluate_against_truth(employment: pd.DataFrame, truth_status: pd.DataFrame, *,
                           groups: pd.Series | None = None) -> dict:
    """Person-week and person scores of each method against the true statuses (module notes).

    Only weeks of known estimated status of users with a job in the truth are scored; ``coverage`` is the
    share of such true person-weeks with a known estimated status. Per method:

    * ``roc_auc``, ``brier``, ``calibration_error``, ``reliability`` (deciles) of ``p_unemployed`` against
      "truly unemployed" (:func:`mobility.employment.calibration.probability_scores`);
    * ``remote_flagged_share`` -- remote workers' weeks called unemployed;
    * ``job_losers`` (true losers among scored users), ``job_losers_detected`` (with a detected job loss,
      :func:`mobility.employment.status.job_loss_weeks`), ``loss_week_within_1`` (of the detected, dated
      within +-1 week of the true loss), ``losers_found_within_1`` (of all true losers);
    * ``stayers`` (scored users never unemployed in the truth), ``false_loss_share`` (of them, with a
      detected job loss);
    * ``by_group`` -- the person scores and AUC per group when ``groups`` (user_id -> label) is given.

    Examples
    --------
    >>> wk = pd.date_range("2020-03-02", periods=4, freq="7D")
    >>> emp = pd.DataFrame({"user_id": ["a"] * 4 + ["b"] * 4, "week": list(wk) * 2, "method": "signal",
    ...     "status": ["employed", "unemployed", "unemployed", "unemployed"] + ["employed"] * 4,
    ...     "p_unemployed": [0.1, 0.9, 0.9, 0.8] + [0.1, 0.2, 0.2, 0.2],
    ...     "weeks_since_job_loss": pd.array([None, 0, 1, 2] + [None] * 4, dtype="Int64")})
    >>> tru = pd.DataFrame({"user_id": ["a"] * 4 + ["b"] * 4, "week": list(wk) * 2,
    ...     "status": ["employed", "employed", "unemployed", "unemployed"] + ["employed"] + ["remote"] * 3,
    ...     "weeks_since_job_loss": [None, None, 0, 1] + [None] * 4})
    >>> r = evaluate_against_truth(emp, tru)["signal"]
    >>> r["roc_auc"], r["remote_flagged_share"], r["loss_week_within_1"], r["false_loss_share"]
    (0.875, 0.0, 1.0, 0.0)
    """
    from mobility.employment.calibration import probability_scores

    require_columns(truth_status, ["user_id", "week", "status", "weeks_since_job_loss"], "truth_status",
                    "pass truth/weekly_status.parquet")
    tru = truth_status.assign(user_id=truth_status["user_id"].astype(str), week=pd.to_datetime(truth_status["week"]),
                              status=truth_status["status"].astype(str))
    tru = tru[tru["status"].isin(["employed", "remote", "unemployed"])]
    out = {}
    for method, e in employment.groupby("method", sort=True):
        e = e.assign(user_id=e["user_id"].astype(str), week=pd.to_datetime(e["week"]))
        m = tru.merge(e, on=["user_id", "week"], how="left", suffixes=("_true", ""))
        known = m["status"].isin(["employed", "unemployed"])
        k = m[known]
        y = (k["status_true"] == "unemployed").to_numpy()
        res = {"person_weeks": int(len(k)), "coverage": float(known.mean()) if len(m) else float("nan")}
        res.update(probability_scores(y, np.clip(k["p_unemployed"].to_numpy(float), 0, 1)))
        detected = job_loss_weeks(e, str(method))
        users = pd.Index(k["user_id"].unique())
        res.update(_loss_scores(k, tru, detected, users))
        if groups is not None:
            g = groups.copy()
            g.index = g.index.astype(str)
            res["by_group"] = {}
            for label in sorted(g.dropna().unique().astype(str)):
                members = users.intersection(g.index[g.astype(str) == label])
                sub = k[k["user_id"].isin(members)]
                entry = {"users": int(len(members)), "person_weeks": int(len(sub))}
                ys = (sub["status_true"] == "unemployed").to_numpy()
                if 0 < ys.sum() < len(ys):
                    entry["roc_auc"] = probability_scores(ys, np.clip(sub["p_unemployed"].to_numpy(float), 0, 1))[
                        "roc_auc"]
                entry.update(_loss_scores(sub, tru, detected, members))
                res["by_group"][label] = entry
        out[str(method)] = res
    return out
