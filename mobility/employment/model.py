"""A trained employment classifier as an object and as files: LightGBM trees, calibration, and a card.

:class:`ClassifierModel` predicts calibrated ``p_unemployed`` from feature rows in the order of its
``features``. :func:`save_model` writes a folder, :func:`load_model` reads it back; the predictions of a
loaded model are identical to those of the saved one (the trees as LightGBM's text model, the calibration
as exact floats in JSON).

Folder ``employment_model/``:

* ``model.txt`` -- the LightGBM booster (``Booster.save_model``);
* ``calibration.json`` -- the calibration of its raw scores (isotonic: the step points, interpolated
  linearly as scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``; sigmoid: slope and intercept on
  the logit of the raw score);
* ``card.json`` -- what the model is: ``model_id`` (SHA-256 of the two files above, 16 hex digits),
  ``features`` (names, in order), ``outcome_metrics_used`` (features derived from an event-study outcome:
  must be empty for its job-loss dates to serve as treatment), ``training`` (region, its weeks, users and
  user-weeks, positives), ``out_of_fold`` scores, the parameters, and the package versions that made it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mobility.employment.calibration import headline
from mobility.employment.params import CALIBRATIONS
from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path, write_json

MODEL_FILES = ("model.txt", "calibration.json", "card.json")


@dataclass(frozen=True)
class Calibrator:
    """Maps raw LightGBM scores to calibrated probabilities.

    ``kind`` "isotonic": ``x``, ``y`` are the increasing step points (linear interpolation between them,
    clipped at the ends); "sigmoid": ``x = [slope]``, ``y = [intercept]`` on ``logit(raw)``.

    Examples
    --------
    >>> Calibrator("isotonic", (0.1, 0.5), (0.0, 0.8))(np.array([0.0, 0.3, 0.9])).round(6).tolist()
    [0.0, 0.4, 0.8]
    """

    kind: str
    x: tuple
    y: tuple

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray, kind: str) -> "Calibrator":
        """Fit on raw scores and 0/1 outcomes (scikit-learn's isotonic regression or Platt scaling)."""
        if kind == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
            return cls(kind, tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_)))
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6).fit(_logit(raw)[:, None], y)
        return cls(kind, (float(lr.coef_[0, 0]),), (float(lr.intercept_[0]),))

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if self.kind == "isotonic":
            return np.interp(raw, np.asarray(self.x), np.asarray(self.y))
        return 1.0 / (1.0 + np.exp(-(self.x[0] * _logit(raw) + self.y[0])))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "x": list(self.x), "y": list(self.y)}


def _logit(p: np.ndarray) -> np.ndarray:
    eps = 1e-6
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return np.log(p / (1 - p))


@dataclass
class ClassifierModel:
    """A LightGBM booster, its calibration, its feature names (in order), its card (module notes) and, when
    loaded, the folder it came from (``source``)."""

    booster: object
    calibrator: Calibrator
    features: tuple[str, ...]
    card: dict = field(default_factory=dict)
    source: str = ""

    def predict(self, rows: np.ndarray, *, num_threads: int = 1) -> np.ndarray:
        """Calibrated probabilities of rows of features (columns in the order of ``features``)."""
        rows = np.asarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != len(self.features):
            raise MobilityError(f"model: rows have {rows.shape[-1]} columns, the model {len(self.features)} features")
        if not len(rows):
            return np.zeros(0)
        return self.calibrator(self.booster.predict(rows, num_threads=num_threads))

    @property
    def model_id(self) -> str:
        """SHA-256 of the trees and the calibration, 16 hex digits: names the model in manifests."""
        text = self.booster.model_to_string() + json.dumps(self.calibrator.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_features(model: ClassifierModel, available, *, source: str = "model") -> None:
    """MobilityError naming the features the model needs that this run does not have, and the fix.

    Examples
    --------
    >>> m = ClassifierModel(None, Calibrator("isotonic", (0.0, 1.0), (0.0, 1.0)), ("attendance", "outing_share"))
    >>> check_features(m, ["attendance"], source="out/employment_model")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: out/employment_model: the model needs feature(s) ['outing_share'] that this run does not have (it has 1: ['attendance']); give the employment step the same inputs as the run that trained it (visits with lat, lon and location_id and home labels give the daytime features), or train a model here with [employment] labels
    """
    have = set(available)
    missing = [f for f in model.features if f not in have]
    if missing:
        raise MobilityError(
            f"{source}: the model needs feature(s) {missing} that this run does not have (it has {len(have)}: "
            f"{sorted(have)[:12]}); give the employment step the same inputs as the run that trained it (visits "
            "with lat, lon and location_id and home labels give the daytime features), or train a model here with "
            "[employment] labels")


def save_model(model: ClassifierModel, folder: str | os.PathLike) -> Path:
    """Write ``model.txt``, ``calibration.json`` and ``card.json`` into ``folder`` (each atomically).

    Examples
    --------
    See ``tests/employment/test_model.py`` (save, load, identical predictions).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "model.txt") as tmp:
        model.booster.save_model(str(tmp))
    write_json(model.calibrator.to_dict(), folder / "calibration.json")
    write_json({**model.card, "model_id": model.model_id, "features": list(model.features)}, folder / "card.json")
    return folder


def load_model(folder: str | os.PathLike) -> ClassifierModel:
    """Read a folder written by :func:`save_model`; MobilityError naming what is missing or wrong.

    Examples
    --------
    >>> load_model("no/such/folder")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: [employment] model = 'no/such/folder': no such folder; give the employment_model/ folder a run wrote (it holds model.txt, calibration.json, card.json)
    """
    import lightgbm as lgb

    folder = Path(folder)
    fix = "give the employment_model/ folder a run wrote (it holds model.txt, calibration.json, card.json)"
    if not folder.is_dir():
        raise MobilityError(f"[employment] model = '{folder}': no such folder; {fix}")
    missing = [f for f in MODEL_FILES if not (folder / f).is_file()]
    if missing:
        raise MobilityError(f"[employment] model = '{folder}': {missing} missing; {fix}")
    try:
        card = json.loads((folder / "card.json").read_text())
        cal = json.loads((folder / "calibration.json").read_text())
        calibrator = Calibrator(cal["kind"], tuple(cal["x"]), tuple(cal["y"]))
        features = tuple(card["features"])
        booster = lgb.Booster(model_file=str(folder / "model.txt"))
    except (ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as exc:
        raise MobilityError(f"[employment] model = '{folder}': unreadable ({exc}); {fix}") from exc
    if calibrator.kind not in CALIBRATIONS or not features:
        raise MobilityError(f"[employment] model = '{folder}': card or calibration incomplete; {fix}")
    if list(booster.feature_name()) != list(features):
        raise MobilityError(f"[employment] model = '{folder}': card.json features differ from model.txt's; {fix}")
    model = ClassifierModel(booster, calibrator, features, card, source=str(folder))
    if card.get("model_id") not in (None, model.model_id):
        raise MobilityError(f"[employment] model = '{folder}': model_id {card.get('model_id')} does not match the "
                            f"files ({model.model_id}): model.txt or calibration.json changed after training; {fix}")
    return model


def model_summary(model: ClassifierModel, *, trained_here: bool, region: dict, truth_scores: dict | None = None,
                  label_scores: dict | None = None, job_loss_slope: float | None = None) -> dict:
    """Which model made the classifier's numbers of a run, and whether they are a transfer (``model.json``).

    A model applied from elsewhere is a **transfer** when it was trained on another region, or on a synthetic
    region other than this one (another seed counts as another region); applied to the very region it was
    trained on, its scores here are in-sample, and ``warning`` says so. A transfer's scores in this run
    (against ``truth_scores`` of the true weekly statuses, else against ``label_scores`` of a labelled panel)
    are its out-of-region scores, and ``warning`` says in words that the numbers are a transfer's.

    Parameters
    ----------
    model : ClassifierModel
    trained_here : bool
        True when this run cross-fitted the model on its own labels.
    region : dict
        This run's region: ``region`` (name), ``synthetic`` (bool), ``seed``.
    truth_scores, label_scores : dict, optional
        ``{method: scores}`` of :func:`~mobility.employment.validation.evaluate_against_truth` or of the
        labelled panel.
    job_loss_slope : float, optional
        This run's ``EmploymentParams.job_loss_telework_slope``. The signal's features the model reads depend on
        it; a model whose card records another (a card without one: 0, made before the slope existed) is applied
        to features it was not trained on, and that is a transfer too.

    Examples
    --------
    >>> import lightgbm as lgb
    >>> x = np.arange(40.0)[:, None]
    >>> trees = lgb.train({"objective": "binary", "verbose": -1, "min_data_in_leaf": 5},
    ...                   lgb.Dataset(x, (x[:, 0] > 20).astype(float), feature_name=["attendance"]), 2)
    >>> m = ClassifierModel(trees, Calibrator("isotonic", (0.0, 1.0), (0.0, 1.0)), ("attendance",),
    ...                     card={"training": {"region": "synthetic", "synthetic": True, "seed": 1}})
    >>> s = model_summary(m, trained_here=False, region={"region": "synthetic", "synthetic": True, "seed": 2},
    ...                   truth_scores={"classifier": {"roc_auc": 0.9}})
    >>> s["transfer"], s["transfer_reasons"], s["out_of_region"]
    (True, ['trained on a synthetic region', 'trained on seed 1, applied to seed 2'], {'roc_auc': 0.9})
    """
    card = model.card
    trained_on = card.get("training", {})
    reasons = []
    same_region = trained_on.get("region") == region.get("region") and trained_on.get("seed") == region.get("seed")
    if not trained_here and not same_region:
        if trained_on.get("synthetic"):
            reasons.append("trained on a synthetic region")
        if trained_on.get("region") != region.get("region"):
            reasons.append(f"trained on region {trained_on.get('region')!r}, applied to {region.get('region')!r}")
        elif trained_on.get("synthetic") and trained_on.get("seed") != region.get("seed"):
            reasons.append(f"trained on seed {trained_on.get('seed')}, applied to seed {region.get('seed')}")
    trained_slope = float((card.get("employment_params") or {}).get("job_loss_telework_slope", 0.0))
    if not trained_here and job_loss_slope is not None and trained_slope != float(job_loss_slope):
        reasons.append(f"trained on signal features made with job_loss_telework_slope {trained_slope:g}, applied to "
                       f"features made with {float(job_loss_slope):g}")
    against = "truth_status" if truth_scores else ("labels" if label_scores else None)
    here = headline((truth_scores or label_scores or {}).get("classifier"))
    transfer = bool(reasons)
    warning = None
    if transfer:
        score = (f"out-of-region ROC AUC {here['roc_auc']:.3f} against {against}" if here and "roc_auc" in here
                 else "no truth or labels here to score it")
        warning = (f"The classifier's numbers come from model {model.model_id}, {'; '.join(reasons)}: a transfer, "
                   f"not a model trained on this region's labels ({score}).")
    if not trained_here and same_region:
        warning = ((warning + " ") if warning else "") + (
            "It was trained on this same region: scores here are in-sample for the users it was trained on; "
            "the card's out-of-fold scores are the honest ones.")
    return {
        "model_id": model.model_id, "method": "classifier", "trained_here": bool(trained_here),
        "source": "this run" if trained_here else (model.source or "given"),
        "trained_on": trained_on, "applied_to": region,
        "n_features": len(model.features), "features": list(model.features),
        "outcome_metrics_used": card.get("outcome_metrics_used", []),
        "out_of_fold": card.get("out_of_fold", {}).get("classifier"),
        "scored_against": against, "scores_in_this_run": here,
        "transfer": transfer, "transfer_reasons": reasons, "out_of_region": here if transfer else None,
        "same_region": bool(same_region and not trained_here), "warning": warning,
    }
