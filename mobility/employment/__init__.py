"""Employment status week by week (the paper's attendance signal and a LightGBM classifier), unemployment
by area, and validation against official series. Entry point: :func:`estimate_employment`."""

from mobility.employment.area import area_unemployment, sector_area_unemployment
from mobility.employment.estimate import estimate_employment, write_employment
from mobility.employment.params import ClassifierParams, EmploymentParams
from mobility.employment.validation import evaluate_against_truth, validate_against

__all__ = ["ClassifierParams", "EmploymentParams", "area_unemployment", "estimate_employment",
           "evaluate_against_truth", "sector_area_unemployment", "validate_against", "write_employment"]
