"""Employment status week by week (the paper's attendance signal and a LightGBM classifier cross-fitted by
user), unemployment by area, and validation against official series. Entry point: :func:`estimate_employment`."""

from mobility.employment.area import PanelWeights, area_unemployment, panel_weights, sector_area_unemployment
from mobility.employment.calibration import (
    brier_score,
    calibration_error,
    plot_reliability,
    probability_scores,
    reliability,
)
from mobility.employment.estimate import estimate_employment, write_employment
from mobility.employment.features import OUTCOME_METRICS, outcome_features
from mobility.employment.labels import read_labels
from mobility.employment.model import ClassifierModel, load_model, save_model
from mobility.employment.params import AreaParams, ClassifierParams, EmploymentParams
from mobility.employment.status import job_loss_weeks, reported_method
from mobility.employment.validation import evaluate_against_truth, plot_validation, validate_against

__all__ = ["AreaParams", "ClassifierModel", "ClassifierParams", "EmploymentParams", "OUTCOME_METRICS", "PanelWeights",
           "area_unemployment",
           "brier_score", "calibration_error", "estimate_employment", "evaluate_against_truth", "job_loss_weeks",
           "load_model", "outcome_features", "panel_weights", "plot_reliability", "plot_validation", "probability_scores",
           "read_labels", "reliability", "reported_method", "save_model", "sector_area_unemployment", "validate_against",
           "write_employment"]
