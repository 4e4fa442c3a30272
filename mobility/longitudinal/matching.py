"""Matched controls for the event study: nearest neighbours or coarsened exact matching (frame layer).

Job losers are matched to never-losers on baseline mobility (per-user means of metrics over baseline
weeks) and exactly on demographic categories. The result is a weight per user: 1 for matched losers,
the matching weight for controls, 0 (dropped) for the unmatched. Pass the weights to the estimators with
``weight_col="weight"`` after :func:`apply_match_weights`. Balance is reported as standardized mean
differences (SMD) before and after matching, each with the pre-matching pooled standard deviation
``sqrt((s_T^2 + s_C^2) / 2)`` as denominator (Stuart 2010); ``|SMD| < 0.1`` is the usual balance target.

Methods
-------
``nearest``
    For each loser the ``n_neighbors`` nearest controls (with replacement) in the same exact cell, by
    Euclidean distance on covariates scaled by their standard deviation; a loser without a control whose
    root-mean-square difference per covariate (that distance over the square root of the number of
    covariates) is within ``caliper_sd`` is dropped. A control's weight is the number of times it was
    matched, each match counting ``1/n_neighbors``. Per covariate, so that the caliper means the same with one
    covariate or twelve: on the plain distance, two random people differ by about ``sqrt(2 k)`` standard
    deviations over ``k`` covariates (4.9 for the pipeline's 12 metrics), and a caliper of 0.5 matched none of
    the losers of a 60-user run.
``cem``
    Each covariate coarsened into ``n_bins`` quantile bins; strata = bins x exact categories; strata
    lacking losers or controls are dropped; control weight ``(m_T,s / m_C,s) (M_C / M_T)`` (Iacus, King and
    Porro 2012).

Standard errors of the weighted event study treat the weights as fixed (they do not include the
uncertainty of the matching step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.longitudinal.panel import _as_naive_utc

METHODS = ("nearest", "cem")
BALANCE_COLUMNS = (
    "covariate", "mean_treated_before", "mean_control_before", "smd_before",
    "mean_treated_after", "mean_control_after", "smd_after",
)


@dataclass
class MatchResult:
    """Output of :func:`match_controls`.

    Attributes
    ----------
    weights : DataFrame
        ``user_id``, ``treated`` (bool), ``weight`` (float, 0 for unmatched users).
    balance : DataFrame
        Columns :data:`BALANCE_COLUMNS`; categorical covariates appear as one row per category share.
    info : dict
        Counts of matched and unmatched users and every parameter used.
    """

    weights: pd.DataFrame
    balance: pd.DataFrame
    info: dict = field(default_factory=dict)


def baseline_means(
    panel: pd.DataFrame,
    covariates: list[str],
    *,
    baseline: tuple[str, str] | None = None,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
) -> pd.DataFrame:
    """Per-user mean of ``covariates`` over the baseline weeks (a loser's weeks from their job loss on excluded).

    ``baseline`` is an inclusive ``(first_week, last_week)`` pair of dates; ``None`` takes every week
    before the earliest job loss in the panel. Returns ``user_id``, ``treated`` and one column per covariate
    (NaN for users without baseline data).

    Examples
    --------
    >>> p = pd.DataFrame({"user_id": [1, 1, 2, 2], "week": pd.to_datetime(["2020-01-06", "2020-01-13"] * 2),
    ...                   "rg": [2.0, 9.0, 4.0, 6.0],
    ...                   "job_loss_week": pd.to_datetime(["2020-01-13", "2020-01-13", None, None])})
    >>> baseline_means(p, ["rg"], baseline=("2020-01-06", "2020-01-13"))["rg"].tolist()
    [2.0, 5.0]
    """
    require_columns(panel, [user_col, week_col, event_col, *covariates], "panel", "matching needs them")
    week = _as_naive_utc(panel[week_col], week_col)
    loss = _as_naive_utc(panel[event_col], event_col)
    loss = loss.dt.normalize() - pd.to_timedelta(loss.dt.day_of_week, unit="D")
    if baseline is None:
        if loss.isna().all():
            raise MobilityError("no job losers in the panel; pass baseline=(first_week, last_week) explicitly")
        start, end = week.min(), loss.min() - pd.Timedelta(days=1)
        if end < start:
            raise MobilityError(
                "the earliest job loss is in the panel's first week, leaving no baseline; pass baseline=(first, last)"
            )
    else:
        try:
            start, end = pd.Timestamp(baseline[0]), pd.Timestamp(baseline[1])
        except (TypeError, ValueError, IndexError) as exc:
            raise MobilityError(f"baseline must be a pair of dates (first_week, last_week), got {baseline!r}") from exc
        if start.tzinfo is not None:
            start, end = start.tz_convert("UTC").tz_localize(None), end.tz_convert("UTC").tz_localize(None)
        if end < start:
            raise MobilityError(f"baseline {baseline!r} ends before it starts")
    in_base = week.between(start, end) & (loss.isna() | (week < loss))
    frame = panel.loc[in_base.to_numpy(), [user_col, *covariates]]
    means = frame.groupby(user_col, sort=True)[covariates].mean()
    users = pd.DataFrame({user_col: panel[user_col].to_numpy(), "treated": loss.notna().to_numpy()})
    users = users.drop_duplicates(user_col).sort_values(user_col)
    return users.merge(means, left_on=user_col, right_index=True, how="left").reset_index(drop=True)


def _smd(x: np.ndarray, treated: np.ndarray, w: np.ndarray, sd: float) -> tuple[float, float, float]:
    wt, wc = w * treated, w * ~treated
    mt = float(np.sum(wt * x) / np.sum(wt)) if np.sum(wt) > 0 else np.nan
    mc = float(np.sum(wc * x) / np.sum(wc)) if np.sum(wc) > 0 else np.nan
    return mt, mc, (mt - mc) / sd if sd > 0 else np.nan


def balance_table(
    users: pd.DataFrame, covariates: list[str], weights: np.ndarray, *, exact: list[str] = ()
) -> pd.DataFrame:
    """Standardized mean differences of covariates (and category shares) before and after weighting.

    ``users`` holds ``treated`` and the covariates, one row per user; ``weights`` the matching weights.

    Examples
    --------
    >>> u = pd.DataFrame({"treated": [True, True, False, False], "x": [1.0, 3.0, 0.0, 2.0]})
    >>> round(float(balance_table(u, ["x"], np.array([1.0, 1.0, 0.0, 1.0])).loc[0, "smd_after"]), 6)
    0.0
    """
    treated = users["treated"].to_numpy(dtype=bool)
    columns = {c: users[c].to_numpy(dtype=np.float64) for c in covariates}
    for c in exact:
        for cat in sorted(users[c].dropna().unique(), key=str):
            columns[f"{c}={cat}"] = (users[c] == cat).to_numpy(dtype=np.float64)
    rows = []
    for name, x in columns.items():
        ok = np.isfinite(x)
        xt, xc = x[ok & treated], x[ok & ~treated]
        sd = float(np.sqrt((np.var(xt, ddof=1) + np.var(xc, ddof=1)) / 2.0)) if min(xt.size, xc.size) > 1 else np.nan
        before = _smd(x[ok], treated[ok], np.ones(int(ok.sum())), sd)
        after = _smd(x[ok], treated[ok], weights[ok], sd)
        rows.append((name, *before, *after))
    return pd.DataFrame(rows, columns=list(BALANCE_COLUMNS))


def match_controls(
    panel: pd.DataFrame,
    covariates: list[str],
    *,
    exact: list[str] | tuple = (),
    method: str = "nearest",
    n_neighbors: int = 1,
    caliper_sd: float | None = 0.5,
    n_bins: int = 5,
    baseline: tuple[str, str] | None = None,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
) -> MatchResult:
    """Match job losers to employed controls on baseline metrics and exact demographic categories.

    Parameters
    ----------
    panel : DataFrame
        User-week panel with the metric columns ``covariates`` and the per-user columns in ``exact``.
    covariates : list of str
        Metrics whose baseline means are matched on, e.g. ``["radius_of_gyration_km"]``.
    exact : list of str
        Per-user categorical columns matched exactly (e.g. ``["sex", "age_group"]``).
    method : {"nearest", "cem"}
        Nearest-neighbour or coarsened exact matching.
    n_neighbors : int
        Controls per loser for ``nearest`` (with replacement).
    caliper_sd : float or None
        Largest allowed root-mean-square difference per covariate, in their standard deviations, for ``nearest``
        (with one covariate: the largest difference).
    n_bins : int
        Quantile bins per covariate for ``cem``.
    baseline : (str, str), optional
        Baseline weeks (inclusive); see :func:`baseline_means`.

    Returns
    -------
    MatchResult

    Examples
    --------
    >>> weeks = pd.to_datetime(["2020-01-06", "2020-01-13", "2020-01-20"])
    >>> rows = [(u, w, float(u % 4), pd.Timestamp("2020-01-20") if u < 4 else pd.NaT)
    ...         for u in range(12) for w in weeks]
    >>> p = pd.DataFrame(rows, columns=["user_id", "week", "rg", "job_loss_week"])
    >>> m = match_controls(p, ["rg"])
    >>> float(m.balance.loc[0, "smd_after"]), int((m.weights.weight > 0).sum())
    (0.0, 8)
    """
    if method not in METHODS:
        raise MobilityError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
        raise MobilityError(f"n_neighbors must be an integer >= 1, got {n_neighbors!r}")
    if caliper_sd is not None and not float(caliper_sd) > 0:
        raise MobilityError(f"caliper_sd must be > 0 (standard deviations) or None, got {caliper_sd!r}")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise MobilityError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    if not covariates and not exact:
        raise MobilityError("match_controls needs covariates and/or exact columns to match on")
    exact = list(exact)
    require_columns(panel, exact, "panel", "name the exact-match columns among its columns")
    users = baseline_means(panel, list(covariates), baseline=baseline, event_col=event_col, user_col=user_col,
                           week_col=week_col)
    if exact:
        cats = panel[[user_col, *exact]].drop_duplicates(user_col)
        users = users.merge(cats, on=user_col, how="left")
    x = users[list(covariates)].to_numpy(dtype=np.float64)
    usable = np.all(np.isfinite(x), axis=1) & users[exact].notna().all(axis=1).to_numpy()
    treated = users["treated"].to_numpy(dtype=bool)
    weight = np.zeros(len(users))
    cell = users[exact].astype(str).agg("|".join, axis=1).to_numpy() if exact else np.full(len(users), "")

    if method == "nearest":
        sd = np.nanstd(x[usable], axis=0, ddof=1) if usable.sum() > 1 else np.ones(x.shape[1])
        z = x / np.where(sd > 0, sd, 1.0)
        for c in np.unique(cell[usable]):
            t_idx = np.flatnonzero(usable & treated & (cell == c))
            c_idx = np.flatnonzero(usable & ~treated & (cell == c))
            if t_idx.size == 0 or c_idx.size == 0:
                continue
            k = min(n_neighbors, c_idx.size)
            if z.shape[1] == 0:
                dist = np.zeros((t_idx.size, k))
                nbr = np.tile(np.arange(k), (t_idx.size, 1))
            else:
                nn = NearestNeighbors(n_neighbors=k).fit(z[c_idx])
                dist, nbr = nn.kneighbors(z[t_idx])
            ok = np.ones_like(dist, dtype=bool) if caliper_sd is None else \
                dist / np.sqrt(max(z.shape[1], 1)) <= caliper_sd
            n_ok = ok.sum(axis=1)
            weight[t_idx[n_ok > 0]] = 1.0
            share = np.where(ok, 1.0 / np.maximum(n_ok, 1)[:, None], 0.0)
            np.add.at(weight, c_idx[nbr.ravel()], share.ravel())
    else:
        codes = []
        for j in range(x.shape[1]):
            edges = np.unique(np.nanquantile(x[usable, j], np.linspace(0, 1, n_bins + 1)[1:-1])) if usable.any() else []
            codes.append(np.searchsorted(edges, x[:, j], side="right").astype(str))
        stratum = np.array(["/".join(parts) for parts in zip(cell, *codes)]) if codes else cell
        frame = pd.DataFrame({"s": stratum, "t": treated})[usable]
        counts = frame.groupby("s")["t"].agg(["sum", "count"])
        counts["c"] = counts["count"] - counts["sum"]
        good = counts[(counts["sum"] > 0) & (counts["c"] > 0)]
        m_t, m_c = good["sum"].sum(), good["c"].sum()
        in_good = usable & np.isin(stratum, good.index.to_numpy())
        weight[in_good & treated] = 1.0
        ratio = (good["sum"] / good["c"]) * (m_c / m_t) if m_t > 0 else good["sum"] * 0.0
        ctrl = in_good & ~treated
        weight[ctrl] = ratio.reindex(stratum[ctrl]).to_numpy()

    balance = balance_table(users, list(covariates), weight, exact=exact)
    out = pd.DataFrame({user_col: users[user_col], "treated": treated, "weight": weight})
    info = {
        "method": method, "covariates": list(covariates), "exact": exact, "n_neighbors": int(n_neighbors),
        "caliper_sd": caliper_sd, "n_bins": int(n_bins), "baseline": baseline,
        "n_treated": int(treated.sum()), "n_treated_matched": int((treated & (weight > 0)).sum()),
        "n_controls": int((~treated).sum()), "n_controls_used": int((~treated & (weight > 0)).sum()),
        "n_without_baseline": int((~usable).sum()),
    }
    return MatchResult(out, balance, info)


def apply_match_weights(
    panel: pd.DataFrame, match: MatchResult, *, user_col: str = "user_id", weight_col: str = "weight"
) -> pd.DataFrame:
    """The panel rows of matched users with their matching weight in ``weight_col``.

    Examples
    --------
    >>> p = pd.DataFrame({"user_id": [1, 2, 3]})
    >>> m = MatchResult(pd.DataFrame({"user_id": [1, 2, 3], "treated": [True, False, False],
    ...                               "weight": [1.0, 1.0, 0.0]}), pd.DataFrame())
    >>> apply_match_weights(p, m)["weight"].tolist()
    [1.0, 1.0]
    """
    if weight_col in panel.columns:
        raise MobilityError(f"panel already has a column {weight_col!r}; choose another weight_col")
    w = match.weights.set_index(user_col)["weight"]
    out = panel.assign(**{weight_col: panel[user_col].map(w).fillna(0.0).to_numpy()})
    return out[out[weight_col] > 0].reset_index(drop=True)
