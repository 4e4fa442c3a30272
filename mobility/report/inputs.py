"""What the report reads: a finished run's output folder (tables and ``run.json``), never raw pings.

Tables are found as the pipeline writes them (a folder of Parquet parts, :func:`mobility.pipeline.read_table`)
or as single files under ``employment/`` (:func:`mobility.employment.estimate.write_employment`). Every table
but ``metrics_weekly`` and ``metrics_monthly`` is optional: a section whose tables are absent says so. The
tables of user-days and user-weeks (:data:`BY_PART`) are never read whole: the report reduces them one part
(one partition's users) at a time, so its memory is bounded by a partition, not by the region.

This is the one place that says which columns the report reads (:data:`READS`): when a science table changes,
this is what to check.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pandas as pd

from mobility.errors import MobilityError
from mobility.pipeline.runner import read_table
from mobility.report.methods import stage_entry

REQUIRED = ("metrics_weekly", "metrics_monthly")
OPTIONAL = ("employment_weekly", "area_unemployment")
BY_PART = ("home_work_daily", "user_features")
"""Tables read part by part (:meth:`RunOutputs.parts`): users never span the pipeline's partitions, so
per-user reductions of each part add up to those of the whole table."""
SUBFOLDERS = ("employment",)
MOBILITY_METRICS = ("radius_of_gyration_km", "exploration_rate", "uncorrelated_entropy_bits", "uncorrelated_entropy_norm",
                    "distinct_locations")

READS: dict[str, tuple[str, ...] | None] = {
    "metrics_weekly": ("user_id", "period_start", "coverage_h"),
    "metrics_monthly": ("user_id", "period_start", *MOBILITY_METRICS),
    "home_work_daily": ("user_id", "date", "home_cbg", "work_cbg"),
    "user_features": ("user_id", "week"),  # and the p_<dimension>_<group> columns the report asks for
    "employment_weekly": ("user_id", "week", "method", "status"),
    "area_unemployment": ("method", "route", "estimator", "level", "area", "period", "period_start", "n_users",
                          "unemployed", "labour_force", "rate", "rate_low", "rate_high", "suppressed"),
}
"""Columns the report reads from each table (None: all); a listed column the table lacks is left out."""
CATEGORIES: dict[str, tuple[str, ...]] = {"employment_weekly": ("method", "status")}
"""Columns the report holds as categories: a few distinct values over millions of rows (a byte a row rather than
a string; the report only compares them with values)."""


@dataclass
class RunOutputs:
    """The tables and manifest of one run.

    ``tables`` maps a table name to its DataFrame (absent tables are missing keys); ``manifest`` is
    ``run.json``; ``extras`` holds JSON side files found beside the tables (e.g. ``validation``).
    """

    out_dir: Path
    manifest: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    extras: dict[str, dict] = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    def parts(self, name: str, extra: tuple[str, ...] = ()) -> Iterator[pd.DataFrame] | None:
        """Table ``name`` (one of :data:`BY_PART`) part by part, each read when asked for, with the columns of
        :data:`READS` and ``extra`` (those the table has); None where the run has not written it."""
        files = table_files(self.out_dir, name)
        if not files:
            return None
        columns = _columns_present(files[0], READS[name] + tuple(extra))
        return (pd.read_parquet(path, columns=columns) for path in files)

    @property
    def timezone(self) -> str:
        """The run's local time zone (from the metrics stage's parameters; ``UTC`` when not recorded)."""
        for stage in ("metrics", "home_work", "load"):
            tz = (stage_entry(self.manifest, stage).get("params") or {}).get("timezone")
            if tz:
                return str(tz)
        return "UTC"


def _columns_present(path: Path, wanted: tuple[str, ...] | None) -> list[str] | None:
    if wanted is None:
        return None
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    return [c for c in wanted if c in names]


def table_files(out_dir: Path, name: str) -> list[Path]:
    """The Parquet parts of table ``name`` in a run folder, or its one file; [] where it is absent."""
    folder = out_dir / name
    parts = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if parts:
        return parts
    candidates = [out_dir / f"{name}.parquet"] + [out_dir / sub / f"{name}.parquet" for sub in SUBFOLDERS]
    return [path for path in candidates if path.is_file()][:1]


def find_table(out_dir: str | os.PathLike, name: str) -> pd.DataFrame | None:
    """Read table ``name`` of a run folder (the columns of :data:`READS`), or None where the run has not
    written it.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "employment").mkdir()
    >>> pd.DataFrame({"level": ["state"], "x": [1]}).to_parquet(d / "employment" / "area_unemployment.parquet")
    >>> find_table(d, "area_unemployment").columns.tolist(), find_table(d, "employment_weekly")
    (['level'], None)
    """
    out_dir = Path(out_dir)
    files = table_files(out_dir, name)
    if not files:
        return None
    columns = _columns_present(files[0], READS.get(name))
    if files[0].parent == out_dir / name:
        return read_table(out_dir, name, columns=columns)
    return pd.read_parquet(files[0], columns=columns)


def load_run(out_dir: str | os.PathLike) -> RunOutputs:
    """Read the manifest and every table the report can use from a run folder (those of :data:`BY_PART`
    are read later, part by part, by :meth:`RunOutputs.parts`).

    Raises
    ------
    MobilityError
        The folder has no ``run.json`` or lacks a required table (with the command that makes it).

    Examples
    --------
    >>> run = load_run("out/synthetic")     # doctest: +SKIP
    >>> sorted(run.tables)                  # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    manifest_path = out_dir / "run.json"
    if not manifest_path.is_file():
        raise MobilityError(f"{out_dir}: no run.json; run `python -m mobility.pipeline --region NAME --out {out_dir}` "
                            "first, or pass the run's output folder with --out")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise MobilityError(f"{manifest_path}: not valid JSON ({exc}); rerun the pipeline to rewrite it") from exc
    run = RunOutputs(out_dir=out_dir, manifest=manifest)
    for name in REQUIRED + OPTIONAL:
        table = find_table(out_dir, name)
        if table is None and name in REQUIRED:
            raise MobilityError(f"{out_dir}: table '{name}' missing; run the pipeline's metrics stage "
                                f"(python -m mobility.pipeline --region NAME --out {out_dir} --until metrics)")
        if table is not None:
            for column in CATEGORIES.get(name, ()):
                if column in table.columns:
                    table[column] = table[column].astype("category")
            run.tables[name] = table
    for sub in SUBFOLDERS:
        for path in sorted((out_dir / sub).glob("*.json")):
            try:
                run.extras[path.stem] = json.loads(path.read_text())
            except json.JSONDecodeError:
                continue
    return run
