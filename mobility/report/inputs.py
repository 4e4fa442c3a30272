"""What the report reads: a finished run's output folder (tables and ``run.json``), never raw pings.

Tables are found as the pipeline writes them (a folder of Parquet parts, :func:`mobility.pipeline.read_table`)
or as single files under ``employment/`` (:func:`mobility.employment.estimate.write_employment`). Every table
but ``metrics_weekly`` and ``metrics_monthly`` is optional: a section whose tables are absent says so. No
table of user-days, user-weeks or user-months is read whole: those of :data:`BY_PART` are reduced one part
(one partition's users) at a time (:meth:`RunOutputs.parts`), ``employment_weekly`` (one file, every user) a
batch of rows at a time, each batch holding whole users (:meth:`RunOutputs.user_batches`); so the report's
memory is bounded by a partition (and a batch), not by the region's user-weeks.

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
import pyarrow.parquet as pq

from mobility.checks import require_columns
from mobility.errors import MobilityError
from mobility.pipeline.runner import read_table
from mobility.report.methods import stage_entry

REQUIRED = ("metrics_weekly", "metrics_monthly")
OPTIONAL = ("area_unemployment",)
"""Optional tables read whole (one row per area and period)."""
BY_PART = ("metrics_weekly", "metrics_monthly", "home_work_daily", "user_features")
"""Tables read part by part (:meth:`RunOutputs.parts`): users never span the pipeline's partitions, and the
tables share them (part ``i`` of each holds the users of partition ``i``), so per-user reductions of each part
add up to those of the whole table."""
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
BY_USER = ("employment_weekly",)
"""Tables of every user in one file, each method's rows sorted by ``user_id`` (as the employment stage writes
them): read by :meth:`RunOutputs.user_batches`."""


@dataclass
class RunOutputs:
    """The tables and manifest of one run.

    ``tables`` maps a table name of :data:`OPTIONAL` to its DataFrame (absent tables are missing keys);
    ``manifest`` is ``run.json``; ``extras`` holds JSON side files found beside the tables (e.g.
    ``validation``). The tables of :data:`BY_PART` and :data:`BY_USER` are read when asked for, a part or a
    batch at a time (:meth:`parts`, :meth:`user_batches`).
    """

    out_dir: Path
    manifest: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    extras: dict[str, dict] = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    def has(self, name: str) -> bool:
        """Whether the run has written table ``name``."""
        return bool(table_files(self.out_dir, name))

    def columns(self, name: str) -> list[str]:
        """The columns of table ``name`` (of its first part); [] where the run has not written it."""
        files = table_files(self.out_dir, name)
        return _columns_present(files[0], READS.get(name) or ()) if files else []

    def parts(self, name: str, extra: tuple[str, ...] = (), *,
              columns: tuple[str, ...] | None = None) -> Iterator[pd.DataFrame] | None:
        """Table ``name`` (one of :data:`BY_PART`) part by part, each read when asked for, with the columns of
        :data:`READS` and ``extra``, or only ``columns`` (those the table has); None where the run has not
        written it."""
        files = table_files(self.out_dir, name)
        if not files:
            return None
        wanted = _columns_present(files[0], tuple(columns) if columns is not None else READS[name] + tuple(extra))
        return (pq.read_table(path, columns=wanted).to_pandas() for path in files)

    def user_batches(self, name: str, method: str) -> Iterator[pd.DataFrame] | None:
        """The rows of ``method`` of table ``name`` (one of :data:`BY_USER`), :data:`BATCH_ROWS` rows read at a
        time, each batch holding whole users (the rows of a batch's last user wait for the next), with the
        columns of :data:`READS` (those of :data:`CATEGORIES` as categories); None where the run has not
        written it.

        Raises
        ------
        MobilityError
            (when read) A file's rows of ``method`` are not sorted by ``user_id``.
        """
        files = table_files(self.out_dir, name)
        return _user_batches(files, name, method) if files else None

    def user_id_batches(self, name: str) -> Iterator[pd.Series]:
        """The ``user_id`` column of table ``name``, :data:`BATCH_ROWS` rows at a time (nothing where the run
        has not written it)."""
        for path in table_files(self.out_dir, name):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=["user_id"]):
                yield batch.column(0).to_pandas()

    @property
    def timezone(self) -> str:
        """The run's local time zone (from the metrics stage's parameters; ``UTC`` when not recorded)."""
        for stage in ("metrics", "home_work", "load"):
            tz = (stage_entry(self.manifest, stage).get("params") or {}).get("timezone")
            if tz:
                return str(tz)
        return "UTC"


BATCH_ROWS = 1 << 17
"""Rows of ``employment_weekly`` read at a time (:meth:`RunOutputs.user_batches`)."""


def _user_batches(files: list[Path], name: str, method: str) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.compute as pc

    held = None  # the rows of the last user read, completed by the next batch (of this file or the next)
    for path in files:
        file = pq.ParquetFile(path)
        require_columns(pd.DataFrame(columns=file.schema_arrow.names), ["user_id", "method"], str(path),
                        "rerun the pipeline's employment stage (--from employment)")
        columns = _columns_present(path, READS[name])
        groups = [i for i in range(file.num_row_groups) if _may_hold(file.metadata.row_group(i), "method", method)]
        for batch in (file.iter_batches(batch_size=BATCH_ROWS, row_groups=groups, columns=columns) if groups else ()):
            batch = batch.filter(pc.equal(batch.column("method"), method))
            batch = pa.RecordBatch.from_arrays(  # the categories made in Arrow: no Python string per row
                [pc.dictionary_encode(batch.column(c)) if c in CATEGORIES.get(name, ()) else batch.column(c)
                 for c in batch.schema.names], names=batch.schema.names)
            frame = batch.to_pandas()
            if held is not None:
                frame = pd.concat([held, frame], ignore_index=True)
                for column in CATEGORIES.get(name, ()):
                    frame[column] = frame[column].astype("category")
            if not frame["user_id"].is_monotonic_increasing:
                raise MobilityError(f"{path}: the rows of method {method!r} are not sorted by user_id (as the "
                                    "employment stage writes them, one file or parts in user order); rerun the "
                                    "pipeline's employment stage")
            if not len(frame):
                continue
            last = (frame["user_id"] == frame["user_id"].iloc[-1]).to_numpy()
            held = frame[last]
            if not last.all():
                yield frame[~last].reset_index(drop=True)
    if held is not None and len(held):
        yield held.reset_index(drop=True)


def _may_hold(row_group, column: str, value: str) -> bool:
    """Whether a Parquet row group may hold ``value`` in ``column``, by its statistics (True without them)."""
    for j in range(row_group.num_columns):
        chunk = row_group.column(j)
        if chunk.path_in_schema == column:
            stats = chunk.statistics
            if stats is None or not stats.has_min_max:
                return True
            try:
                return bool(stats.min <= value <= stats.max)
            except TypeError:  # statistics of another type (bytes of a column without a text annotation)
                return True
    return True


def _columns_present(path: Path, wanted: tuple[str, ...] | None) -> list[str] | None:
    if wanted is None:
        return None
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
    """Read the manifest and the tables of :data:`OPTIONAL` of a run folder (those of :data:`BY_PART` and
    :data:`BY_USER` are read later, a part or a batch at a time, by :meth:`RunOutputs.parts` and
    :meth:`RunOutputs.user_batches`).

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
    for name in REQUIRED:
        if not run.has(name):
            raise MobilityError(f"{out_dir}: table '{name}' missing; run the pipeline's metrics stage "
                                f"(python -m mobility.pipeline --region NAME --out {out_dir} --until metrics)")
    for name in OPTIONAL:
        table = find_table(out_dir, name)
        if table is not None:
            run.tables[name] = table
    for sub in SUBFOLDERS:
        for path in sorted((out_dir / sub).glob("*.json")):
            try:
                run.extras[path.stem] = json.loads(path.read_text())
            except json.JSONDecodeError:
                continue
    return run
