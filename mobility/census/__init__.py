"""Census inputs and per-person census features.

Readers (one module per source; every malformed file raises :class:`~mobility.errors.MobilityError`
naming the file, row and column with the fix): :mod:`.geometry` (CBG/tract polygons),
:mod:`.lodes` (LEHD WAC/RAC/OD job counts), :mod:`.acs` (ACS tables with margins of error),
:mod:`.telework` (Dingel & Neiman teleworkability), :mod:`.laus` (BLS county/state unemployment),
:mod:`.ui_claims` (weekly state UI claims). Evidence: :mod:`.job_loss_slope` (how areas' rise in
unemployment fell with their teleworkability: the job-loss slope the label-free signal states).
Features: :mod:`.features` (sector and demographic probabilities of a person from the work/home CBG),
:mod:`.groups` (group assignment for the longitudinal analysis).
"""

from mobility.census.acs import acs_shares, proportion_moe, read_acs
from mobility.census.features import (
    DEMOGRAPHICS,
    cbg_probabilities,
    feature_columns,
    home_features,
    work_features,
)
from mobility.census.geoid import LEVEL_DIGITS, normalize_geoid
from mobility.census.geometry import assign_points, read_geometry
from mobility.census.groups import (
    assign_groups,
    baseline_rows,
    categories,
    group_agreement,
    person_groups,
)
from mobility.census.job_loss_slope import JobLossSlope, job_loss_slope
from mobility.census.laus import read_laus
from mobility.census.lodes import SECTORS, aggregate_lodes, check_lodes, read_lodes
from mobility.census.telework import (
    NAICS_TO_CNS,
    mix_teleworkability,
    read_teleworkability,
)
from mobility.census.ui_claims import read_ui_claims

__all__ = [
    "DEMOGRAPHICS",
    "JobLossSlope",
    "LEVEL_DIGITS",
    "NAICS_TO_CNS",
    "SECTORS",
    "acs_shares",
    "aggregate_lodes",
    "assign_groups",
    "assign_points",
    "baseline_rows",
    "categories",
    "cbg_probabilities",
    "check_lodes",
    "feature_columns",
    "group_agreement",
    "home_features",
    "job_loss_slope",
    "mix_teleworkability",
    "normalize_geoid",
    "person_groups",
    "proportion_moe",
    "read_acs",
    "read_geometry",
    "read_laus",
    "read_lodes",
    "read_teleworkability",
    "read_ui_claims",
    "work_features",
]
