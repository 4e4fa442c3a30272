"""Weekly employment status by a LightGBM classifier (method 2 of method.md 2.7).

Features per user and week (:func:`weekly_features`): the attendance signals r_u(t), rt_u(t), their lags and
leads (two weeks each way: labels are retrospective, as the signal's), the job-loss event of the signal
(inside, weeks since its start, its start week, its job-loss probability), the signal's p_unemployed and
sector prior, the calendar week, mobility metrics (:func:`mobility.metrics.weekly_metrics`) and their change
against the user's baseline mean, teleworkability, sector and demographic probabilities of the work CBG.

Training (:func:`train_classifier`) uses the labelled user-weeks (``unemployed`` = 1; ``employed`` and
``remote`` = 0; others dropped). Users are split at random (seeded) into train, calibration and test; weeks
are split in time: train and calibration use weeks before the last ``test_week_share`` of weeks, the test
uses later weeks of test users only, so it measures generalisation to new people *and* new weeks.
The raw scores are calibrated on the calibration fold (isotonic regression or Platt scaling, scikit-learn).
Deterministic: seeded split, ``seed`` and fixed ``num_threads`` in LightGBM.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.employment.params import ClassifierParams, EmploymentParams
from mobility.employment.status import SignalResult, status_table, weeks_since
from mobility.errors import MobilityError

METRIC_FEATURES = ("radius_of_gyration_km", "uncorrelated_entropy_bits", "distinct_locations", "new_locations",
                   "exploration_rate", "time_at_home_h", "coverage_h", "n_stops", "travelled_distance_km")
POSITIVE = "unemployed"
NEGATIVE = ("employed", "remote")


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """Columns shifted by k (k > 0: value of k weeks before), NaN-filled."""
    out = np.full(a.shape, np.nan)
    if k > 0:
        out[:, k:] = a[:, :-k]
    elif k < 0:
        out[:, :k] = a[:, -k:]
    else:
        out[:] = a
    return out


def metric_matrices(metrics: pd.DataFrame, users: np.ndarray, weeks: pd.DatetimeIndex, baseline_cols: np.ndarray,
                    timezone: str | None = None) -> dict[str, np.ndarray]:
    """Metrics per user x week, and their difference to the user's mean over ``baseline_cols``.

    ``metrics`` has ``user_id`` and either ``week`` (naive local Monday) or ``period_start`` (tz-aware, local
    midnight of ``timezone``), plus any of :data:`METRIC_FEATURES`.

    Examples
    --------
    >>> m = pd.DataFrame({"user_id": ["a", "a"], "week": pd.to_datetime(["2020-01-06", "2020-01-13"]),
    ...                   "n_stops": [10, 4]})
    >>> out = metric_matrices(m, np.array(["a"]), pd.DatetimeIndex(["2020-01-06", "2020-01-13"]), np.array([0]))
    >>> out["n_stops"].tolist(), out["d_n_stops"].tolist()
    ([[10.0, 4.0]], [[0.0, -6.0]])
    """
    if "user_id" not in metrics.columns:
        raise MobilityError("metrics: column 'user_id' missing; pass weekly_metrics(...) output")
    if "week" in metrics.columns:
        week = pd.to_datetime(metrics["week"])
    elif "period_start" in metrics.columns:
        ps = metrics["period_start"]
        week = ps.dt.tz_convert(timezone or "UTC").dt.tz_localize(None) if isinstance(
            ps.dtype, pd.DatetimeTZDtype) else pd.to_datetime(ps)
    else:
        raise MobilityError("metrics: needs a 'week' or 'period_start' column (weekly_metrics output)")
    week = week.dt.normalize().astype("datetime64[ns]")
    cols = [c for c in METRIC_FEATURES if c in metrics.columns]
    frame = pd.DataFrame({c: pd.to_numeric(metrics[c], errors="coerce").astype(float) for c in cols})
    frame.index = pd.MultiIndex.from_arrays([metrics["user_id"].astype(str).to_numpy(), week.to_numpy()])
    frame = frame[~frame.index.duplicated()]
    grid = pd.MultiIndex.from_product([users, weeks.values])
    frame = frame.reindex(grid)
    out = {}
    for c in cols:
        mat = frame[c].to_numpy().reshape(len(users), len(weeks))
        sub = mat[:, baseline_cols]
        n_ok = np.isfinite(sub).sum(axis=1)
        base = np.where(n_ok > 0, np.nansum(sub, axis=1) / np.maximum(n_ok, 1), np.nan)
        out[c] = mat
        out["d_" + c] = mat - base[:, None]
    return out


def weekly_features(signal: SignalResult, *, features: pd.DataFrame | None = None,
                    metrics: pd.DataFrame | None = None, timezone: str | None = None,
                    params: EmploymentParams | None = None) -> dict[str, np.ndarray]:
    """All classifier features as (n_users, n_weeks) float matrices, keyed by name (module notes).

    Examples
    --------
    See ``tests/employment/test_classifier.py``.
    """
    params = params or EmploymentParams()
    m = signal.matrices
    n_u, n_w = m["attendance"].shape
    r, rt = m["attendance"], m["work_time"]
    col = np.broadcast_to(np.arange(n_w, dtype=float)[None, :], (n_u, n_w))
    inside = m["run_start"] >= 0
    out = {"attendance": r, "work_time": rt, "week_index": col, "p_signal": m["p"], "p_sector": m["p_sector"],
           "event": inside.astype(float), "event_q": m["q"],
           "event_start": np.where(inside, m["run_start"], np.nan),
           "event_weeks": np.where(inside, col - m["run_start"], np.nan),
           "telework": np.broadcast_to(signal.telework[:, None], (n_u, n_w))}
    for k in (1, 2, -1, -2):
        tag = f"lag{k}" if k > 0 else f"lead{-k}"
        out[f"attendance_{tag}"] = _shift(r, k)
        out[f"work_time_{tag}"] = _shift(rt, k)
    stack = np.stack([_shift(rt, 1), rt, _shift(rt, -1)])
    out["work_time_min3"] = np.where(np.isfinite(stack).any(axis=0), np.fmin.reduce(stack, axis=0), np.nan)
    if metrics is not None:
        start, end = params.baseline
        base_cols = np.flatnonzero((signal.weeks >= start) & (signal.weeks <= end))
        out.update(metric_matrices(metrics, signal.users, signal.weeks, base_cols, timezone))
    if features is not None:
        ids = features["user_id"].astype(str)
        static = [c for c in features.columns if c.startswith(("w_CNS", "p_"))]
        table = features.assign(user_id=ids).drop_duplicates("user_id").set_index("user_id")[static]
        table = table.apply(pd.to_numeric, errors="coerce").reindex(pd.Index(signal.users, dtype=object))
        for c in static:
            out[c] = np.broadcast_to(table[c].to_numpy(dtype=float)[:, None], (n_u, n_w))
    return out


def _labels(labels_truth: pd.DataFrame, users: np.ndarray, weeks: pd.DatetimeIndex) -> np.ndarray:
    """1 (unemployed), 0 (employed/remote), NaN (other or absent) per user x week."""
    for c in ("user_id", "week", "status"):
        if c not in labels_truth.columns:
            raise MobilityError(f"labels_truth: column '{c}' missing; pass user_id, week, status "
                                "(e.g. truth/weekly_status.parquet)")
    status = labels_truth["status"].astype(str)
    y = np.where(status == POSITIVE, 1.0, np.where(status.isin(NEGATIVE), 0.0, np.nan))
    s = pd.Series(y, index=pd.MultiIndex.from_arrays(
        [labels_truth["user_id"].astype(str).to_numpy(), pd.to_datetime(labels_truth["week"]).to_numpy()]))
    s = s[~s.index.duplicated()]
    return s.reindex(pd.MultiIndex.from_product([users, weeks.values])).to_numpy().reshape(len(users), len(weeks))


def split_masks(labelled: np.ndarray, n_weeks: int, *, params: ClassifierParams) -> dict[str, np.ndarray]:
    """Train / calibration / test cell masks (split by user and by time).

    Examples
    --------
    >>> s = split_masks(np.ones((10, 10), bool), 10, params=ClassifierParams())
    >>> int(s["train"].sum()), int(s["calibration"].sum()), int(s["test"].sum())
    (35, 14, 9)
    """
    n_u = labelled.shape[0]
    order = np.random.default_rng(params.seed).permutation(n_u)
    n_test = int(round(params.test_user_share * n_u))
    n_cal = int(round(params.calibration_user_share * n_u))
    group = np.empty(n_u, dtype=np.int8)
    group[order[:n_test]] = 2
    group[order[n_test:n_test + n_cal]] = 1
    group[order[n_test + n_cal:]] = 0
    cut = n_weeks - max(1, int(round(params.test_week_share * n_weeks)))
    early = np.arange(n_weeks)[None, :] < cut
    return {"train": labelled & (group[:, None] == 0) & early,
            "calibration": labelled & (group[:, None] == 1) & early,
            "test": labelled & (group[:, None] == 2) & ~early,
            "test_all_weeks": labelled & (group[:, None] == 2)}


def _calibrator(raw: np.ndarray, y: np.ndarray, how: str):
    if how == "isotonic":
        from sklearn.isotonic import IsotonicRegression
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        return iso.predict
    from sklearn.linear_model import LogisticRegression
    eps = 1e-6
    logit = lambda p: np.log(np.clip(p, eps, 1 - eps) / np.clip(1 - p, eps, 1))
    lr = LogisticRegression(C=1e6).fit(logit(raw)[:, None], y)
    return lambda p: lr.predict_proba(logit(p)[:, None])[:, 1]


def train_classifier(signal: SignalResult, feature_mats: dict[str, np.ndarray], labels_truth: pd.DataFrame, *,
                     params: EmploymentParams | None = None, classifier: ClassifierParams | None = None,
                     max_train_rows: int = 300_000):
    """Train, calibrate and evaluate the classifier; predict every usable user-week.

    Parameters
    ----------
    signal : SignalResult
        From :func:`mobility.employment.status.signal_status`.
    feature_mats : dict
        From :func:`weekly_features`.
    labels_truth : DataFrame
        ``user_id``, ``week``, ``status`` (``employed``/``remote``/``unemployed``; other values ignored).
    max_train_rows : int
        Training rows are subsampled (seeded) to at most this many.

    Returns
    -------
    employment : DataFrame
        ``employment_weekly`` rows with method ``classifier``.
    evaluation : dict
        Split sizes, and on the test split ROC AUC, Brier score and log loss of both methods.
    importance : DataFrame
        ``feature``, ``gain``, ``split`` (LightGBM importances), sorted by gain.

    Examples
    --------
    See ``tests/employment/test_classifier.py``.
    """
    import lightgbm as lgb
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    params = params or EmploymentParams()
    classifier = classifier or ClassifierParams()
    usable = signal.matrices["usable"]
    y = _labels(labels_truth, signal.users, signal.weeks)
    labelled = usable & np.isfinite(y)
    splits = split_masks(labelled, len(signal.weeks), params=classifier)
    names = sorted(feature_mats)
    flat = lambda mask: np.column_stack([np.asarray(feature_mats[k], dtype=np.float32)[mask] for k in names])
    rng = np.random.default_rng(classifier.seed)
    train_idx = np.flatnonzero(splits["train"].ravel())
    if len(train_idx) > max_train_rows:
        train_idx = np.sort(rng.choice(train_idx, max_train_rows, replace=False))
    train_mask = np.zeros(usable.size, bool)
    train_mask[train_idx] = True
    train_mask = train_mask.reshape(usable.shape)
    y_train = y[train_mask]
    if len(np.unique(y_train)) < 2 or not splits["calibration"].any():
        raise MobilityError("train_classifier: the labels need both unemployed and employed weeks among the "
                            "training users before the time split; give a longer or larger labelled panel")
    model = lgb.LGBMClassifier(
        n_estimators=classifier.n_estimators, learning_rate=classifier.learning_rate,
        num_leaves=classifier.num_leaves, min_child_samples=classifier.min_child_samples,
        random_state=classifier.seed, n_jobs=classifier.num_threads, deterministic=True,
        force_row_wise=True, verbose=-1)
    model.fit(flat(train_mask), y_train)
    cal_raw = model.predict_proba(flat(splits["calibration"]))[:, 1]
    calibrate = _calibrator(cal_raw, y[splits["calibration"]], classifier.calibration)
    p = np.full(usable.shape, np.nan)
    p[usable] = calibrate(model.predict_proba(flat(usable))[:, 1])
    evaluation = {"n_train": int(train_mask.sum()), "n_calibration": int(splits["calibration"].sum()),
                  "params": classifier.to_dict()}
    for split in ("test", "test_all_weeks"):
        mask = splits[split]
        yt = y[mask]
        entry = {"n": int(mask.sum()), "positives": int(yt.sum())}
        for method, score in (("classifier", p[mask]), ("signal", signal.matrices["p"][mask])):
            if 0 < yt.sum() < len(yt):
                entry[method] = {"roc_auc": float(roc_auc_score(yt, score)),
                                 "brier": float(brier_score_loss(yt, np.clip(score, 0, 1))),
                                 "log_loss": float(log_loss(yt, np.clip(score, 1e-6, 1 - 1e-6)))}
        evaluation[split] = entry
    unemp = usable & (p >= params.unemployed_probability_min)
    prev = np.zeros_like(unemp)
    prev[:, 1:] = unemp[:, :-1]
    col = np.arange(unemp.shape[1])[None, :]
    run_start = np.maximum.accumulate(np.where(unemp & ~prev, col, -1), axis=1)
    since = weeks_since(np.where(unemp, run_start, -1), unemp)
    table = status_table(signal.users, signal.weeks, p, usable, since, "classifier",
                         params.unemployed_probability_min)
    booster = model.booster_
    importance = pd.DataFrame({"feature": names,
                               "gain": booster.feature_importance("gain"),
                               "split": booster.feature_importance("split")}).sort_values(
        ["gain", "feature"], ascending=[False, True], ignore_index=True)
    return table, evaluation, importance
