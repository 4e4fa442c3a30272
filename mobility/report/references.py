"""Official series to compare with, as configured for a region.

A region config names them under ``[inputs]``: ``laus`` (one or a list of BLS LAUS spreadsheets, county or
state) and ``ui_claims`` (the Opportunity Insights weekly state claims CSV). A synthetic region also has
its ground truth (``truth/area_weekly.parquet``), shown as the source ``truth``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from mobility.census import read_ui_claims
from mobility.census.laus import read_laus_files
from mobility.employment.validation import reference_series


def load_references(*, laus: list[str | os.PathLike] | None = None, ui_claims: str | os.PathLike | None = None,
                    region_dir: str | os.PathLike | None = None) -> dict:
    """Reference series ``{name: (level, period, DataFrame[area, period_start, rate])}`` from the given files.

    Examples
    --------
    >>> load_references()
    {}
    """
    laus_frame = read_laus_files(laus or [])
    claims = read_ui_claims(ui_claims) if ui_claims else None
    truth = None
    if region_dir is not None and (Path(region_dir) / "truth" / "area_weekly.parquet").is_file():
        truth = pd.read_parquet(Path(region_dir) / "truth" / "area_weekly.parquet")
    return reference_series(truth_area=truth, laus=laus_frame, ui_claims=claims)


def references_for_config(config) -> dict:
    """:func:`load_references` for a :class:`mobility.pipeline.RegionConfig` (``[inputs] laus``, ``ui_claims``).

    Examples
    --------
    >>> from mobility.pipeline import load_config
    >>> refs = references_for_config(load_config("synthetic"))   # doctest: +SKIP
    """
    laus_paths = config.input_paths("laus")
    claims = config.input_path("ui_claims", required=False)
    return load_references(laus=laus_paths, ui_claims=claims, region_dir=config.region_dir)
