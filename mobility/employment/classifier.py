"""Weekly employment status by a LightGBM classifier (method 2 of method.md 2.7), cross-fitted by user.

Labels (:func:`label_matrix`): ``unemployed`` = 1; ``employed`` and ``remote`` = 0; other statuses and
absent weeks are not used. Features: :func:`mobility.employment.features.weekly_features` (attendance,
observation, daytime behaviour; never an event-study outcome).

**Cross-fitting** (:func:`train_classifier`): the labelled users are dealt into ``n_folds`` folds at random
(seeded; users with an unemployed week and the others dealt separately, so each fold holds its share of job
losers). For each fold a model is trained on the users of the other folds and predicts only the users of
its fold; each model's probability calibration is fitted on ``calibration_user_share`` of *its own
training users*, held out of its trees, never on the rows it predicts (:func:`training_rows`). So every
labelled user's weeks are scored out of fold: these predictions, and only these, reach the status table,
the scores, the area estimates and the job-loss dates. The **final model** -- the one saved and applied to
other runs -- is fitted the same way on all labelled users; it also predicts the users without any label
(out of sample for them too).

**Status**: a job loss is a confirmed run of at least ``min_event_weeks`` covered weeks with
``p_unemployed >= unemployed_probability_min`` (:func:`mobility.employment.events.confirmed_runs`, the
signal's rule); one week above the threshold is not a job loss. ``weeks_since_job_loss`` counts from the
run's first week, or with ``EmploymentParams.job_loss_dating = "drop_onset"`` from the first week of the
attendance drop that holds it (:func:`mobility.employment.events.drop_onsets`).

Deterministic: seeded folds, splits and subsampling, ``seed``, ``deterministic`` and a fixed
``num_threads`` in LightGBM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mobility.employment.calibration import headline, probability_scores
from mobility.employment.events import confirmed_runs, drop_onsets
from mobility.employment.features import BLOCK_USERS, FeatureBlocks, feature_rows, outcome_features
from mobility.employment.model import Calibrator, ClassifierModel, check_features
from mobility.employment.params import ClassifierParams, EmploymentParams
from mobility.employment.status import SignalResult, status_table
from mobility.errors import MobilityError

POSITIVE = "unemployed"
NEGATIVE = ("employed", "remote")


def label_matrix(labels: pd.DataFrame, users: np.ndarray, weeks: pd.DatetimeIndex) -> np.ndarray:
    """1 (unemployed), 0 (employed or remote), NaN (other status, or absent) per user x week.

    ``labels`` has ``user_id``, ``week`` (the Monday of the week) and ``status``; read a file with
    :func:`mobility.employment.labels.read_labels`.

    Examples
    --------
    >>> lab = pd.DataFrame({"user_id": ["a", "a", "b"], "status": ["remote", "unemployed", "no_job"],
    ...                     "week": pd.to_datetime(["2020-03-02", "2020-03-09", "2020-03-02"])})
    >>> label_matrix(lab, np.array(["a", "b"]), pd.DatetimeIndex(["2020-03-02", "2020-03-09"])).tolist()
    [[0.0, 1.0], [nan, nan]]
    """
    for c in ("user_id", "week", "status"):
        if c not in labels.columns:
            raise MobilityError(f"labels: column '{c}' missing; pass user_id, week, status (read_labels)")
    status = labels["status"].astype(str)
    y = np.where(status == POSITIVE, 1.0, np.where(status.isin(NEGATIVE), 0.0, np.nan))
    if not pd.Index(users).is_unique:  # rows of a repeated user repeat its labels
        s = pd.Series(y, index=pd.MultiIndex.from_arrays(
            [labels["user_id"].astype(str).to_numpy(), pd.to_datetime(labels["week"]).to_numpy()]))
        s = s[~s.index.duplicated()]
        return s.reindex(pd.MultiIndex.from_product([users, weeks.values])).to_numpy().reshape(len(users), len(weeks))
    row, col = label_cells(labels, users, weeks)
    out = np.full((len(users), len(weeks)), np.nan)
    out[row[row >= 0], col[row >= 0]] = y[row >= 0]
    return out


def label_cells(labels: pd.DataFrame, users, weeks: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Where each row of ``labels`` goes in a users x weeks matrix: its row (position of its ``user_id`` in
    ``users``, distinct) and column (of its ``week`` in ``weeks``); row -1 for a row whose user or week is not
    there and for every row after the first of its user and week (the first label of a user-week counts).

    Integer work: the labels' user ids are factorized once and only the distinct ones looked up in ``users``.

    Examples
    --------
    >>> lab = pd.DataFrame({"user_id": ["b", "a", "b", "c"], "week": pd.to_datetime(["2020-03-02"] * 4)})
    >>> [x.tolist() for x in label_cells(lab, np.array(["a", "b"]), pd.DatetimeIndex(["2020-03-02"]))]
    [[1, 0, -1, -1], [0, 0, 0, 0]]
    """
    code, names = pd.factorize(labels["user_id"].astype(str))
    row = pd.Index(users).get_indexer(names)[code] if len(names) else np.zeros(0, dtype=np.int64)
    col = pd.DatetimeIndex(weeks).get_indexer(pd.DatetimeIndex(pd.to_datetime(labels["week"]).to_numpy()))
    row = np.where(col >= 0, row, -1)
    inside = np.flatnonzero(row >= 0)
    first = np.unique(row[inside].astype(np.int64) * max(len(weeks), 1) + col[inside], return_index=True)[1]
    keep = np.zeros(len(row), dtype=bool)
    keep[inside[first]] = True
    return np.where(keep, row, -1), col


def training_rows(y: np.ndarray, users: np.ndarray, *, params: ClassifierParams, stream: int = 0,
                  subset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows a model fits its trees on and the rows it calibrates on (:func:`fit_model`), sorted.

    ``calibration_user_share`` of the distinct ``users`` of the ``subset`` rows (all rows by default), of
    those with an unemployed week and of the others alike, seeded by ``params.seed`` and ``stream``, are held
    out of the trees; tree rows are then subsampled to ``max_train_rows``, calibration rows to
    ``max_calibration_rows``. Raises MobilityError where either part lacks one of the classes.

    Examples
    --------
    >>> y = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    >>> fit, cal = training_rows(y, np.array([0, 0, 1, 2, 3, 3]), params=ClassifierParams(calibration_user_share=0.5))
    >>> sorted(fit.tolist() + cal.tolist()), len(set(fit) & set(cal))
    ([0, 1, 2, 3, 4, 5], 0)
    """
    subset = np.arange(len(y)) if subset is None else np.asarray(subset)
    rng = np.random.default_rng([params.seed, stream])
    cal_user = np.zeros(int(users.max()) + 1, dtype=bool)
    for stratum in _strata(users[subset], y[subset]):  # users with and without an unemployed week, each
        n_cal = int(round(params.calibration_user_share * len(stratum)))
        cal_user[rng.permutation(stratum)[:max(n_cal, 1 if len(stratum) > 1 else 0)]] = True
    is_cal = cal_user[users[subset]]
    fit_idx, cal_idx = subset[~is_cal], subset[is_cal]
    for part, idx in (("tree", fit_idx), ("calibration", cal_idx)):
        classes = np.unique(y[idx])
        if len(classes) < 2:
            what = "no labelled weeks" if not len(classes) else (
                "only unemployed weeks" if classes[0] == 1 else "only employed or remote weeks")
            raise MobilityError(
                f"classifier: the {part} users of a model ({len(np.unique(users[idx]))} users) have {what}; the "
                "labelled panel needs more users with both unemployed and employed/remote weeks (or lower "
                "[employment.classifier] n_folds)")
    if len(fit_idx) > params.max_train_rows:
        fit_idx = np.sort(rng.choice(fit_idx, params.max_train_rows, replace=False))
    if len(cal_idx) > params.max_calibration_rows:
        cal_idx = np.sort(rng.choice(cal_idx, params.max_calibration_rows, replace=False))
    return fit_idx, cal_idx


def fit_model(fit_rows: np.ndarray, fit_y: np.ndarray, cal_rows: np.ndarray, cal_y: np.ndarray, names, *,
              params: ClassifierParams, stream: int = 0) -> ClassifierModel:
    """One calibrated LightGBM model: trees on ``fit_rows`` (feature rows, :func:`feature_rows`, with their 0/1
    labels ``fit_y``), their raw scores on ``cal_rows`` calibrated against ``cal_y``; which rows are which:
    :func:`training_rows` (rows of other users than the trees').

    Examples
    --------
    See ``tests/employment/test_classifier.py``.
    """
    import lightgbm as lgb

    lgb_params = {"objective": "binary", "learning_rate": params.learning_rate, "num_leaves": params.num_leaves,
                  "min_data_in_leaf": params.min_child_samples, "seed": params.seed + stream,
                  "num_threads": params.num_threads, "deterministic": True, "force_row_wise": True, "verbose": -1}
    data = lgb.Dataset(fit_rows, fit_y, feature_name=list(names), free_raw_data=True)
    booster = lgb.train(lgb_params, data, num_boost_round=params.n_estimators)
    booster = lgb.Booster(model_str=booster.model_to_string())  # exactly what save_model writes and load_model reads
    raw = booster.predict(cal_rows, num_threads=params.num_threads)
    return ClassifierModel(booster, Calibrator.fit(raw, cal_y, params.calibration), tuple(names))


def _strata(users: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct users with an unemployed (y = 1) row, and those without: folds and calibration users are
    drawn from each, so that every model sees job losers and every calibration holds some.

    Examples
    --------
    >>> [s.tolist() for s in _strata(np.array([3, 3, 1, 2]), np.array([0.0, 1.0, 0.0, 0.0]))]
    [[3], [1, 2]]
    """
    lost = np.unique(users[y == 1])
    return lost, np.setdiff1d(np.unique(users), lost)


@dataclass
class CrossFit:
    """Out-of-fold probabilities (users x weeks, NaN where not usable), each user's fold (-1: no label,
    predicted by the final model), the final model, and the scores of the out-of-fold predictions."""

    p: np.ndarray
    fold: np.ndarray
    model: ClassifierModel
    evaluation: dict


def _feature_source(mats) -> tuple[list[str], Callable, int]:
    """The feature names, ``rows(cells, names)`` and users a block of a :class:`FeatureBlocks` or of a dict of
    whole matrices (:func:`feature_rows`)."""
    if isinstance(mats, FeatureBlocks):
        return list(mats.names), mats.rows, mats.block_users
    return sorted(mats), lambda cells, names: feature_rows(mats, names, cells), BLOCK_USERS


def predict_cells(models: dict[int, ClassifierModel], which: np.ndarray, mats, cells: np.ndarray, n_weeks: int, *,
                  num_threads: int = 1, mapper=None) -> np.ndarray:
    """Probabilities of the flat cells ``cells`` (sorted), each by the model ``models[which[i]]`` (all of them
    read the same features), a block of users at a time (the features of one block computed once:
    :class:`FeatureBlocks`); ``mapper`` runs the blocks (each row's prediction is its own, so the result does
    not depend on it).

    Examples
    --------
    See ``tests/employment/test_classifier.py``.
    """
    _, rows_of, block_users = _feature_source(mats)
    (features,) = {tuple(m.features) for m in models.values()}  # cross-fitted models read the same features
    cells = np.asarray(cells, dtype=np.int64)
    n_blocks = int(cells[-1] // (n_weeks * block_users)) + 1 if len(cells) else 0
    edges = np.searchsorted(cells, np.arange(n_blocks + 1) * n_weeks * block_users)

    def block(i: int) -> np.ndarray:
        lo, hi = edges[i], edges[i + 1]
        out = np.full(hi - lo, np.nan)
        if hi > lo:
            k = which[lo:hi]
            rows = rows_of(cells[lo:hi], features)  # the block's features once, whichever model reads a row
            for m in np.unique(k):
                out[k == m] = models[int(m)].predict(rows[k == m], num_threads=num_threads)
        return out

    parts = (mapper or (lambda fn, items: [fn(i) for i in items]))(block, range(n_blocks))
    return np.concatenate([np.zeros(0)] + list(parts))


def cross_fit(mats, usable: np.ndarray, y: np.ndarray, *, params: ClassifierParams | None = None,
              compare: dict[str, np.ndarray] | None = None, mapper=None) -> CrossFit:
    """Cross-fitting by user (module notes): out-of-fold predictions of every usable cell and the final model.

    Parameters
    ----------
    mats : FeatureBlocks or dict
        The features: :class:`~mobility.employment.features.FeatureBlocks` (computed a block of users at a
        time), or whole matrices ``(n_users, n_weeks)`` (:func:`~mobility.employment.features.weekly_features`).
        Only the rows the models train and calibrate on are built at once (at most ``max_train_rows +
        max_calibration_rows`` a model); the predictions are made a block of users at a time.
    usable : ndarray of bool
        The cells to predict (covered weeks of baseline workers).
    y : ndarray
        :func:`label_matrix`: 1, 0, or NaN (not a label).
    compare : dict, optional
        Other methods' probabilities ``(n_users, n_weeks)`` scored on the same labelled cells.
    mapper : callable, optional
        ``mapper(fn, items) -> list`` of ``fn(item)`` in order: how the ``n_folds + 1`` models, then the blocks
        of predictions, run; default here, one after the other. The pipeline passes its local engine's forked
        workers; every model is seeded by its fold, so the predictions do not depend on it.

    Returns
    -------
    CrossFit

    Examples
    --------
    See ``tests/employment/test_classifier.py`` (a memorising feature: in-sample AUC 1, out of fold 0.5).
    """
    params = params or ClassifierParams()
    names, rows_of, _ = _feature_source(mats)
    n_w = usable.shape[1]
    cells = np.flatnonzero(np.asarray(usable, dtype=bool).ravel())
    y_rows = np.asarray(y, dtype=float).ravel()[cells]
    user = cells // n_w
    labelled = np.isfinite(y_rows)
    lab_users = np.unique(user[labelled])
    if len(lab_users) < params.n_folds:
        raise MobilityError(f"classifier: {len(lab_users)} labelled users with covered weeks, fewer than n_folds = "
                            f"{params.n_folds}; give a larger labelled panel (or lower [employment.classifier] "
                            "n_folds)")
    fold = np.full(usable.shape[0], -1, dtype=np.int64)
    rng = np.random.default_rng(params.seed)
    dealt = np.concatenate([rng.permutation(s) for s in _strata(user[labelled], y_rows[labelled])])
    fold[dealt] = np.arange(len(dealt)) % params.n_folds  # job losers dealt evenly over the folds
    row_fold = fold[user]
    stream = [(k + 1) % (params.n_folds + 1) for k in range(params.n_folds + 1)]  # each model's random streams
    drawn = [training_rows(y_rows, user, params=params, stream=stream[k],
                           subset=np.flatnonzero(labelled & (row_fold != k) & (row_fold >= 0))
                           if k < params.n_folds else np.flatnonzero(labelled))
             for k in range(params.n_folds + 1)]  # k = n_folds: the final model, on every labelled user
    need = np.unique(np.concatenate([i for pair in drawn for i in pair]))
    rows = rows_of(cells[need], names)  # the rows some model trains or calibrates on, and no others

    def one(k: int) -> ClassifierModel:
        fit_idx, cal_idx = drawn[k]
        at_fit, at_cal = np.searchsorted(need, fit_idx), np.searchsorted(need, cal_idx)
        return fit_model(rows[at_fit], y_rows[fit_idx], rows[at_cal], y_rows[cal_idx], names, params=params,
                         stream=stream[k])

    run = mapper or (lambda fn, items: [fn(i) for i in items])
    models = dict(enumerate(run(one, range(params.n_folds + 1))))
    del rows
    which = np.where(row_fold >= 0, row_fold, params.n_folds)  # a labelled user's fold model, else the final
    p_rows = predict_cells(models, which, mats, cells, n_w, num_threads=params.num_threads, mapper=mapper)
    final = models[params.n_folds]
    p = np.full(usable.size, np.nan)
    p[cells] = p_rows
    p = p.reshape(usable.shape)
    scored = {"classifier": p_rows[labelled]}
    for method, other in (compare or {}).items():
        scored[method] = np.clip(np.nan_to_num(np.asarray(other, dtype=float).ravel()[cells][labelled]), 0, 1)
    evaluation = {
        "n_folds": params.n_folds, "labelled_users": int(len(lab_users)),
        "labelled_user_weeks": int(labelled.sum()), "positives": int(y_rows[labelled].sum()),
        "predicted_by_final_model": int((row_fold < 0).sum()),
        "out_of_fold": {m: probability_scores(y_rows[labelled], s) for m, s in scored.items()},
    }
    return CrossFit(p, fold, final, evaluation)


def classifier_status(signal: SignalResult, p: np.ndarray, *, params: EmploymentParams | None = None) -> pd.DataFrame:
    """``employment_weekly`` rows of method ``classifier``: job loss = a confirmed run of weeks above the threshold.

    Dated at the run's first week, or (``params.job_loss_dating = "drop_onset"``) at the onset of the
    attendance drop holding it (``signal.matrices["run_start"]``).

    Examples
    --------
    >>> sig = SignalResult(np.array(["a"]), pd.date_range("2020-03-02", periods=6, freq="7D"),
    ...                    {"usable": np.ones((1, 6), bool)}, np.array([0.5]))
    >>> t = classifier_status(sig, np.array([[0.1, 0.9, 0.2, 0.8, 0.9, 0.7]]))
    >>> t["status"].tolist()[1], t["status"].tolist()[3:], t["weeks_since_job_loss"].tolist()[3:]
    ('employed', ['unemployed', 'unemployed', 'unemployed'], [0, 1, 2])
    """
    params = params or EmploymentParams()
    usable = signal.matrices["usable"]
    with np.errstate(invalid="ignore"):
        run_start = confirmed_runs(p >= params.unemployed_probability_min, usable, params=params)
    if params.job_loss_dating == "drop_onset":
        if "run_start" not in signal.matrices:
            raise MobilityError("job_loss_dating = 'drop_onset' needs the signal's attendance drops "
                                "(SignalResult.matrices['run_start'], from signal_status)")
        run_start = drop_onsets(run_start, signal.matrices["run_start"])
    return status_table(signal.users, signal.weeks, p, usable, run_start, np.ones(p.shape, bool), "classifier")


def importance_table(model: ClassifierModel) -> pd.DataFrame:
    """``feature``, ``gain``, ``split`` (LightGBM importances of a model), sorted by gain."""
    return pd.DataFrame({"feature": list(model.features),
                         "gain": model.booster.feature_importance("gain"),
                         "split": model.booster.feature_importance("split")}).sort_values(
        ["gain", "feature"], ascending=[False, True], ignore_index=True)


def train_classifier(signal: SignalResult, feature_mats, labels: pd.DataFrame, *,
                     params: EmploymentParams | None = None, classifier: ClassifierParams | None = None,
                     training: dict | None = None, mapper=None):
    """Cross-fit, score out of fold, and fit the final model (module notes).

    Parameters
    ----------
    signal : SignalResult
        From :func:`mobility.employment.status.signal_status`.
    feature_mats : FeatureBlocks or dict
        :class:`mobility.employment.features.FeatureBlocks` of ``signal`` (the pipeline), or the whole matrices of
        :func:`mobility.employment.features.weekly_features`.
    labels : DataFrame
        ``user_id``, ``week``, ``status`` (:func:`mobility.employment.labels.read_labels`).
    training : dict, optional
        What to record about the training data in the model card (e.g. the region's name, whether it is
        synthetic, its seed).
    mapper : callable, optional
        How the cross-fitted models and the blocks of predictions run (:func:`cross_fit`).

    Returns
    -------
    employment : DataFrame
        ``employment_weekly`` rows with method ``classifier`` (out-of-fold predictions).
    evaluation : dict
        Fold sizes and the out-of-fold scores of both methods on the labelled user-weeks (ROC AUC, Brier,
        calibration error, reliability curve).
    importance : DataFrame
        The final model's ``feature``, ``gain``, ``split``.
    model : ClassifierModel
        The final model, its card filled in (save it with :func:`mobility.employment.model.save_model`).

    Examples
    --------
    See ``tests/employment/test_classifier.py``.
    """
    from importlib import metadata

    params = params or EmploymentParams()
    classifier = classifier or ClassifierParams()
    y = label_matrix(labels, signal.users, signal.weeks)
    labelled = np.asarray(signal.matrices["usable"], dtype=bool) & np.isfinite(y)
    used = y[labelled]
    enough_users = labelled.any(axis=1).sum() >= classifier.n_folds  # else cross_fit says there are too few
    if enough_users and (used == used[0]).all():
        raise MobilityError(
            f"{labels.attrs.get('source', 'labels')}: all {len(used):,} of its labelled user-weeks the run can use "
            f"(covered weeks of users with a baseline job) are {'unemployed' if used[0] else 'employed or remote'}: "
            "the classifier learns from both; label weeks of both kinds (status unemployed, and employed or remote), "
            "or set [employment] method = \"signal\" in the region config to report the attendance signal without "
            "a classifier")
    fit = cross_fit(feature_mats, signal.matrices["usable"], y, params=classifier,
                    compare={"signal": signal.matrices["p"]}, mapper=mapper)
    labelled_weeks = signal.weeks[np.isfinite(y).any(axis=0)]
    fit.model.card = {
        "method": "classifier",
        "features": list(fit.model.features),
        "outcome_metrics_used": outcome_features(fit.model.features),
        "training": {**(training or {}), "first_week": str(labelled_weeks.min().date()),
                     "last_week": str(labelled_weeks.max().date()), "n_users": fit.evaluation["labelled_users"],
                     "n_user_weeks": fit.evaluation["labelled_user_weeks"], "positives": fit.evaluation["positives"]},
        "out_of_fold": {m: headline(s) for m, s in fit.evaluation["out_of_fold"].items()},
        "classifier_params": classifier.to_dict(),
        "employment_params": params.to_dict(),
        "versions": {name: metadata.version(name) for name in ("lightgbm", "scikit-learn")}
        | {"mobility": _package_version()},
    }
    table = classifier_status(signal, fit.p, params=params)
    return table, {**fit.evaluation, "params": classifier.to_dict()}, importance_table(fit.model), fit.model


def _package_version() -> str:
    import mobility

    return mobility.__version__


def apply_classifier(signal: SignalResult, feature_mats, model: ClassifierModel, *,
                     params: EmploymentParams | None = None, source: str = "model", mapper=None) -> pd.DataFrame:
    """``employment_weekly`` rows of method ``classifier`` from a model trained elsewhere (no labels needed).

    ``feature_mats``: as :func:`train_classifier` takes them; ``mapper`` runs the blocks of predictions
    (:func:`predict_cells`). Raises MobilityError (naming ``source``) when the model needs features this run
    does not have.

    Examples
    --------
    See ``tests/employment/test_model.py``.
    """
    check_features(model, _feature_source(feature_mats)[0], source=source)
    usable = signal.matrices["usable"]
    cells = np.flatnonzero(usable.ravel())
    p = np.full(usable.size, np.nan)
    p[cells] = predict_cells({0: model}, np.zeros(len(cells), dtype=np.int64), feature_mats, cells, usable.shape[1],
                             num_threads=int(model.card.get("classifier_params", {}).get("num_threads", 1)),
                             mapper=mapper)
    return classifier_status(signal, p.reshape(usable.shape), params=params)
