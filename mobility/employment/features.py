"""The classifier's weekly features: attendance, observation and daytime behaviour, never mobility outcomes.

Every feature is an ``(n_users, n_weeks)`` float matrix (:func:`weekly_features`), keyed by name:

* attendance at work -- ``attendance`` r_u(t), ``work_time`` rt_u(t) (relative to the baseline),
  ``attendance_raw``, ``work_time_raw`` (the week's shares), their values one and two weeks before and
  after (``_lag1``, ``_lead2``, ...; labels are retrospective, as the signal's events), their week-to-week
  change (``_change``), ``work_time_min3`` (lowest of t-1..t+1), ``attendance_mean5`` (mean over t-2..t+2)
  and the hybrid pattern ``hybrid_share5`` (share of covered weeks t-2..t+2 at work on some but at most
  ``HYBRID_MAX_SHARE`` of the weekdays with data);
* observation -- ``workdays_observed``, ``workhour_observed_h`` and ``workhour_observed_rel`` (over the
  user's baseline mean): a degrading phone shows here;
* the attendance signal -- ``p_signal`` (its p_unemployed), ``p_sector`` (the sector prior), ``event``,
  ``event_q``, ``event_weeks`` (inside a near-zero event, its job-loss probability and weeks since its
  start), ``telework`` (teleworkability of the work CBG);
* daytime around home (:mod:`mobility.employment.daytime`, when given) -- ``home_workhour_share`` (time at
  home in work hours over observed work-hour time) and its change against the user's baseline mean
  (``_vs_baseline``), ``outing_share`` (weekdays with an outing over weekdays with data) and its change,
  ``daytime_distance_rel`` and ``daytime_max_rel`` (distance of daytime stops from home over the baseline
  mean).

No calendar week, no demographic probability and none of :data:`OUTCOME_METRICS`: the job-loss dates this
model gives are the treatment of event studies on those outcomes (method.md section 4), and a calendar
week does not transfer to another region or shock.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.employment.daytime import DAYTIME_COLUMNS
from mobility.employment.params import EmploymentParams
from mobility.employment.status import SignalResult
from mobility.errors import MobilityError

OUTCOME_METRICS = ("radius_of_gyration_km", "k_radius_of_gyration_km", "random_entropy_bits",
                   "uncorrelated_entropy_bits", "uncorrelated_entropy_norm", "distinct_locations", "new_locations",
                   "exploration_rate", "capacity", "travelled_distance_km", "n_stops", "time_at_home_h")
HYBRID_MAX_SHARE = 0.8


def outcome_features(names) -> list[str]:
    """The names among ``names`` that are, or are derived from, an event-study outcome metric.

    Examples
    --------
    >>> outcome_features(["attendance", "d_radius_of_gyration_km", "n_stops_lag1"])
    ['d_radius_of_gyration_km', 'n_stops_lag1']
    """
    return [n for n in names if any(m in n for m in OUTCOME_METRICS)]


def shift(a: np.ndarray, k: int) -> np.ndarray:
    """Columns shifted by k (k > 0: the value of k weeks before; k < 0: after), NaN-filled.

    Examples
    --------
    >>> shift(np.array([[1.0, 2.0, 3.0]]), 1).tolist(), shift(np.array([[1.0, 2.0, 3.0]]), -1).tolist()
    ([[nan, 1.0, 2.0]], [[2.0, 3.0, nan]])
    """
    out = np.full(a.shape, np.nan, dtype=np.result_type(a.dtype, np.float32))
    if k > 0:
        out[:, k:] = a[:, :-k]
    elif k < 0:
        out[:, :k] = a[:, -k:]
    else:
        out[:] = a
    return out


def _window_mean(a: np.ndarray, half: int) -> np.ndarray:
    stack = np.stack([shift(a, k) for k in range(-half, half + 1)])
    n = np.isfinite(stack).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(stack, axis=0) / np.maximum(n, 1), np.nan)


def _baseline_mean(a: np.ndarray, cols: np.ndarray) -> np.ndarray:
    sub = a[:, cols]
    n = np.isfinite(sub).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(sub, axis=1) / np.maximum(n, 1), np.nan)[:, None]


def weekly_matrices(table: pd.DataFrame, users: np.ndarray, weeks: pd.DatetimeIndex,
                    columns) -> dict[str, np.ndarray]:
    """Columns of a ``user_id``, ``week`` table as ``(n_users, n_weeks)`` float matrices (NaN where absent).

    Examples
    --------
    >>> t = pd.DataFrame({"user_id": ["b"], "week": pd.to_datetime(["2020-01-13"]), "x": [2]})
    >>> weekly_matrices(t, np.array(["a", "b"]), pd.DatetimeIndex(["2020-01-06", "2020-01-13"]), ["x"])["x"].tolist()
    [[nan, nan], [nan, 2.0]]
    """
    frame = pd.DataFrame({c: pd.to_numeric(table[c], errors="coerce").astype(float) for c in columns})
    frame.index = pd.MultiIndex.from_arrays([table["user_id"].astype(str).to_numpy(),
                                             pd.to_datetime(table["week"]).to_numpy().astype("datetime64[ns]")])
    frame = frame[~frame.index.duplicated()].reindex(pd.MultiIndex.from_product([users, weeks.values]))
    return {c: frame[c].to_numpy().reshape(len(users), len(weeks)) for c in columns}


def weekly_features(signal: SignalResult, *, daytime: pd.DataFrame | None = None,
                    params: EmploymentParams | None = None) -> dict[str, np.ndarray]:
    """All classifier features as ``(n_users, n_weeks)`` float32 matrices, keyed by name (module notes).

    Parameters
    ----------
    signal : SignalResult
        From :func:`mobility.employment.status.signal_status` (its matrices and teleworkability).
    daytime : DataFrame, optional
        :func:`mobility.employment.daytime.daytime_weekly` of the same users; without it the daytime
        features are absent (a model trained with them cannot then be applied).
    params : EmploymentParams, optional
        ``baseline_start``/``baseline_end`` set the baseline of the relative features.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> n = np.array([[1.0, 1.0, 0.0]])
    >>> sig = SignalResult(users=np.array(["a"]), weeks=pd.date_range("2020-02-17", periods=3, freq="7D"),
    ...     telework=np.array([0.2]), matrices={"attendance": n, "work_time": n, "attendance_raw": n * 0.8,
    ...     "work_time_raw": n * 0.6, "workdays_observed": np.full((1, 3), 5.0), "workhour_observed_h":
    ...     np.array([[40.0, 40.0, 20.0]]), "p": n * 0.0, "p_sector": n * 0.1, "q": np.full((1, 3), np.nan),
    ...     "run_start": np.full((1, 3), -1)})
    >>> f = weekly_features(sig)
    >>> f["attendance_change"].tolist(), f["workhour_observed_rel"].tolist()
    ([[nan, 0.0, -1.0]], [[1.0, 1.0, 0.5]])
    """
    params = params or EmploymentParams()
    m = {k: np.asarray(v, dtype=np.float32) for k, v in signal.matrices.items()
         if k in ("attendance", "work_time", "attendance_raw", "work_time_raw", "workdays_observed",
                  "workhour_observed_h", "p", "p_sector", "q")}  # the model reads float32: compute in it
    run_start = signal.matrices["run_start"]
    n_u, n_w = m["attendance"].shape
    start, end = params.baseline
    base_cols = np.flatnonzero((signal.weeks >= start) & (signal.weeks <= end))
    col = np.arange(n_w, dtype=np.float32)[None, :]
    inside = run_start >= 0
    out: dict[str, np.ndarray] = {
        "p_signal": m["p"], "p_sector": m["p_sector"], "event": inside.astype(np.float32), "event_q": m["q"],
        "event_weeks": np.where(inside, col - run_start, np.float32(np.nan)),
        "telework": np.broadcast_to(signal.telework[:, None].astype(np.float32), (n_u, n_w)),
        "workdays_observed": m["workdays_observed"], "workhour_observed_h": m["workhour_observed_h"],
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        out["workhour_observed_rel"] = m["workhour_observed_h"] / _baseline_mean(m["workhour_observed_h"], base_cols)
    for name in ("attendance", "work_time", "attendance_raw", "work_time_raw"):
        a = m[name]
        out[name] = a
        out[f"{name}_change"] = a - shift(a, 1)
        for k in (1, 2, -1, -2):
            out[f"{name}_{'lag' if k > 0 else 'lead'}{abs(k)}"] = shift(a, k)
    stack = np.stack([shift(m["work_time"], 1), m["work_time"], shift(m["work_time"], -1)])
    out["work_time_min3"] = np.where(np.isfinite(stack).any(axis=0), np.fmin.reduce(stack, axis=0), np.nan)
    out["attendance_mean5"] = _window_mean(m["attendance"], 2)
    raw = m["attendance_raw"]
    with np.errstate(invalid="ignore"):
        hybrid = np.where(np.isfinite(raw), ((raw > 0) & (raw <= HYBRID_MAX_SHARE)).astype(np.float32), np.nan)
    out["hybrid_share5"] = _window_mean(hybrid, 2)
    if daytime is not None:
        missing = [c for c in DAYTIME_COLUMNS if c not in daytime.columns]
        if missing or "user_id" not in daytime.columns or "week" not in daytime.columns:
            raise MobilityError(f"daytime: missing column(s) {missing or ['user_id', 'week']}; "
                                "build it with daytime_weekly(visits, labels)")
        d = {k: v.astype(np.float32) for k, v in weekly_matrices(daytime, signal.users, signal.weeks,
                                                                  DAYTIME_COLUMNS).items()}
        with np.errstate(invalid="ignore", divide="ignore"):
            home = np.where(d["workhour_observed_h"] > 0, d["home_workhour_h"] / d["workhour_observed_h"], np.nan)
            outing = np.where(d["weekdays_with_data"] > 0, d["weekdays_out"] / d["weekdays_with_data"], np.nan)
            out["home_workhour_share"] = home
            out["home_workhour_share_vs_baseline"] = home - _baseline_mean(home, base_cols)
            out["outing_share"] = outing
            out["outing_share_vs_baseline"] = outing - _baseline_mean(outing, base_cols)
            for c, name in (("daytime_distance_km", "daytime_distance_rel"), ("daytime_max_km", "daytime_max_rel")):
                base = _baseline_mean(d[c], base_cols)
                out[name] = np.where(base > 0, d[c] / base, np.nan)
    leaked = outcome_features(out)
    if leaked:  # a guard for whoever adds a feature: the dates this model gives are an event study's treatment
        raise MobilityError(f"weekly_features: {leaked} are event-study outcomes and may not be features")
    return {name: np.asarray(a, dtype=np.float32) for name, a in out.items()}  # the model reads float32
