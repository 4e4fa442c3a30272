"""Ping files into user partitions of validated pings, out of core: the work of the ``load`` and ``validate``
stages.

Two steps, each a unit of work an engine maps (:mod:`mobility.pipeline.engine`):

1. :func:`load_unit`, one per load task: a run of input rows (:func:`plan_units`: whole files grouped, big
   Parquet files cut between row groups, about the same number of rows each, in input order). Read them in
   batches (:func:`~mobility.pipeline.engine.read_ping_batches`), check every row (:func:`mobility.pings.check_pings`: bad rows to the quarantine, rows outside the study
   period dropped and counted), split the good rows by user partition (:func:`mobility.pings.partition_of`)
   and spill them as Arrow IPC shards, at most ``spill_rows`` rows held in memory at once: one file per
   spill, each partition its own record batches, so the files are tasks x spills, not x partitions.
2. :func:`merge_partition`, one per user partition: read that partition's batches from every task's
   shards, sort by user and time and drop duplicates (:func:`mobility.pings.drop_duplicate_pings`, one rule
   for duplicates within a batch, across batches and across files), write the partition's pings once. The
   ``validate`` stage deletes the shards when every partition is written.

Shards are scratch: uncompressed Arrow IPC (written and read at memory speed, not forced to disk), user ids
dictionary-coded (from the runs of equal ids, no hashing of every row: the writer encodes no text and
``validate`` sorts on the codes, :func:`mobility.pings.dictionary_codes`), that
carry each row's ``source`` (file name) and ``row`` (0-based row in that file), in input order, so that
the duplicate kept is the same as if every file were read whole and concatenated in the order of
``[inputs] pings``: the best ``accuracy_m``, ties to the first in input order. Memory is bounded by the
read batch plus ``spill_rows`` rows in ``load``, and by one partition in ``validate``, never by the region.

The pings are written once, as Parquet tuned for them: ``user_id``, ``accuracy_m`` and ``utc_offset_s``
dictionary-encoded, ``timestamp`` delta-encoded, the coordinates' bytes split into streams and LZ4-compressed
(their leading bytes barely vary), no compression of the other columns (the encodings leave little to take).
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path, write_json, write_parquet
from mobility.schema import PINGS

SPILL_ROWS = 8_000_000  # good rows one load task holds before writing them out as shards (~0.5 GB)
SHARD_GROUP_ROWS = 1 << 20  # largest row group of a compact Parquet shard
SPILL_BYTES_PER_ROW = 56  # Arrow IPC shard bytes per ping (compact Parquet shards: ~20)
UNIT_ROWS_MIN = 1_000_000  # smallest load task (rows), so that a small region still splits for 2+ cores
BYTES_PER_TEXT_ROW = 50  # to estimate the rows of a text file from its size, when grouping files into tasks
PINGS_PARQUET = {  # pyarrow.parquet.write_table options of the pings table (about 17 bytes a ping)
    "use_dictionary": ["user_id", "accuracy_m", "utc_offset_s"],
    "column_encoding": {"timestamp": "DELTA_BINARY_PACKED", "lat": "BYTE_STREAM_SPLIT", "lon": "BYTE_STREAM_SPLIT"},
    # LZ4 where it pays: the coordinates' byte streams (8 -> 5.3 bytes a ping); the delta-coded times (5.55 -> 5.2)
    # and the dictionary indices hardly compress, and compressing every column took a fifth of the write
    "compression": {"lat": "lz4", "lon": "lz4"},
}
COMPACT_SHARDS = {  # the shards as Parquet where memory or disk is short (about 20 bytes a ping): the pings'
    # encodings but times plain (delta-coding them cost more CPU to write and read than the 3 bytes a ping it saves
    # on a scratch file read once), plus row numbers
    "use_dictionary": ["user_id", "accuracy_m", "utc_offset_s", "source"],
    "column_encoding": {"lat": "BYTE_STREAM_SPLIT", "lon": "BYTE_STREAM_SPLIT", "row": "DELTA_BINARY_PACKED"},
    "compression": "lz4",
    "write_statistics": False,  # nothing reads them (validate reads row groups by number): 9 ns a ping to write
}


@dataclass(frozen=True)
class Piece:
    """Rows of one input file that a load task reads: the whole file, or Parquet row groups ``[first, end)``."""

    index: int  # the file's position in the stage's list of files
    path: str
    row_groups: tuple[int, int] | None = None
    rows: int = 0  # exact for Parquet, estimated from the size for text


def plan_units(files: list[Path], *, format: str | None = None, columns: dict[str, str] | None = None,
               config: str | None = None, unit_rows: int | None = None, encoding: str = "utf-8") -> list[list[Piece]]:
    """Split the input files, in order, into load tasks of about the same number of rows.

    A task holds at most ``unit_rows`` rows (default ``clip(total rows / 8, UNIT_ROWS_MIN, SPILL_ROWS)``: at
    least eight tasks for the cores to share, one spill each), more only where a single row group or text
    file is bigger: Parquet files are cut between row groups, small files are grouped, a text file is never cut. Concatenated, the tasks
    are the input in order. Every file's columns are checked first (footers and header lines only), so a
    misnamed column is reported before any work, with the TOML mapping to add to ``config``; text files'
    header lines are read in ``encoding``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> pings = pd.DataFrame({"user_id": ["a"] * 10, "timestamp": pd.Timestamp("2020-01-06", tz="UTC"),
    ...                       "lat": 40.0, "lon": -74.0})
    >>> pings.to_parquet(d / "p.parquet", row_group_size=3)
    >>> [[(p.index, p.row_groups, p.rows) for p in unit] for unit in plan_units([d / "p.parquet"])]
    [[(0, (0, 4), 10)]]
    """
    import pyarrow.parquet as pq

    from mobility.io.pings import check_ping_columns

    pieces: list[Piece] = []  # whole files, Parquet ones as single row groups
    for index, path in enumerate(files):
        fmt = check_ping_columns(path, format=format, columns=columns, config=config, encoding=encoding)
        if fmt == "parquet":
            meta = pq.ParquetFile(path).metadata
            pieces += [Piece(index, str(path), (g, g + 1), meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
        else:
            pieces.append(Piece(index, str(path), None, max(1, Path(path).stat().st_size // BYTES_PER_TEXT_ROW)))
    target = unit_rows or min(SPILL_ROWS, max(UNIT_ROWS_MIN, sum(p.rows for p in pieces) // 8))
    units: list[list[Piece]] = [[]]
    rows = 0
    for piece in pieces:
        if units[-1] and rows + piece.rows > target:  # a task never exceeds the target unless one piece does
            units.append([])
            rows = 0
        unit = units[-1]
        last = unit[-1] if unit else None
        if last and last.row_groups and piece.row_groups and last.index == piece.index:  # extend the row-group run
            unit[-1] = Piece(last.index, last.path, (last.row_groups[0], piece.row_groups[1]), last.rows + piece.rows)
        else:
            unit.append(piece)
        rows += piece.rows
    return [u for u in units if u]


def spill_compression(rows: int, folder: Path) -> str | None:
    """How to write the shards of ``rows`` pings under ``folder``: as Arrow IPC (None: written and read at
    memory speed) while they fit in a third of the free disk space there and in a third of the machine's
    memory (where the page cache keeps them until ``validate`` reads them), else as compact Parquet
    (``"parquet"``: ``COMPACT_SHARDS``, about 20 instead of 56 bytes a ping, for more CPU: about 50 ns a ping
    to write and 30 to read on a 2-core test machine), which costs less than waiting for the disk.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> spill_compression(1_000, pathlib.Path(tempfile.gettempdir())) is None
    True
    """
    import shutil

    room = shutil.disk_usage(folder).free / 3
    try:
        room = min(room, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 3)
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): the disk alone decides
        pass
    return None if rows * SPILL_BYTES_PER_ROW < room else "parquet"


def covering_span(a: tuple[int, int] | list[int] | None,
                  b: tuple[int, int] | list[int] | None) -> list[int] | None:
    """The span covering two spans of instants.

    Parameters
    ----------
    a, b : (int, int) or None
        ``(first, last)`` instants, epoch nanoseconds; None for no span.

    Returns
    -------
    list of int or None
        ``[first, last]`` covering both; None where both are None.

    Examples
    --------
    >>> covering_span([5, 9], (2, 7)), covering_span(None, (2, 7)), covering_span(None, None)
    ([2, 9], [2, 7], None)
    """
    spans = [x for x in (a, b) if x is not None]
    return [min(x[0] for x in spans), max(x[1] for x in spans)] if spans else None


def load_unit(number: int, pieces: list[Piece], params: dict[str, Any], shards: Path,
              quarantine: Path, compression: str | None = None) -> dict[str, Any]:
    """Read, check and split one load task's rows into shards by user partition (step 1 of the module docstring).

    Idempotent: a finished task leaves ``unit-NNNNN.json`` (its summary, including the names of its shards)
    in ``shards`` and is skipped when the stage resumes; an interrupted one is redone, overwriting its
    shards and quarantine parts under the same names.

    Parameters
    ----------
    number : int
        The task's number (orders the shards, hence which duplicate is first).
    pieces : list of Piece
        Its rows, in input order (:func:`plan_units`).
    params : dict
        ``format``, ``columns``, ``timezone``, ``max_accuracy_m``, ``n_partitions``, ``period`` (ISO
        instants ``[first, end)`` or None), optional ``batch_rows``, ``spill_rows`` and ``encoding`` (of text
        files, default utf-8).
    shards, quarantine : Path
        Folders for the shards and the summary, and for the quarantine parts.
    compression : {None, "parquet", "lz4", "zstd"}
        Of the shards (:func:`spill_compression`): Arrow IPC, compact Parquet, or Arrow IPC compressed.

    Returns
    -------
    dict
        ``files``: per input file read, ``index``, ``file``, ``rows`` (read), ``kept`` (passed the row
        checks and inside the period, duplicates included), ``outside_period``, ``outside_ns`` (first and last
        instant of those, epoch ns UTC, or None), ``quarantine`` (rows per
        reason), ``columns`` (its ping columns); ``shards``: partition -> its pieces ``[shard file name,
        first record batch, record batches]``, in spill order.
    """
    from mobility.pings import check_pings
    from mobility.pipeline.engine import LOAD_BATCH_ROWS, read_ping_batches

    marker = shards / f"unit-{number:05d}.json"
    if marker.exists():
        return json.loads(marker.read_text())
    period = tuple(pd.Timestamp(t) for t in params["period"]) if params.get("period") else None
    spill = _Spill(shards, number, params["n_partitions"], params.get("spill_rows") or SPILL_ROWS, compression)
    files: dict[int, dict[str, Any]] = {}
    for piece in pieces:
        path = Path(piece.path)
        stats = files.setdefault(piece.index, {"index": piece.index, "file": str(path), "rows": 0, "outside_period": 0,
                                               "outside_ns": None, "quarantine": Counter(), "columns": []})
        batches = read_ping_batches(path, format=params["format"], columns=params["columns"],
                                    encoding=params.get("encoding") or "utf-8",
                                    batch_rows=params.get("batch_rows") or LOAD_BATCH_ROWS, row_groups=piece.row_groups,
                                    dictionary_ids=True)
        first_group = piece.row_groups[0] if piece.row_groups else 0
        for j, raw in enumerate(batches):
            checked = check_pings(raw, max_accuracy_m=params["max_accuracy_m"], timezone=params["timezone"],
                                  source=path.name, period=period)
            if len(checked.quarantine):
                name = f"src-{piece.index:05d}-g{first_group:05d}-b{j:05d}.parquet"
                write_parquet(checked.quarantine, quarantine / name)
            spill.add(checked.pings)
            stats["quarantine"].update(checked.counts)
            stats["rows"] += checked.n_input
            stats["outside_period"] += checked.dropped.get("outside_period", 0)
            stats["outside_ns"] = covering_span(stats["outside_ns"], checked.outside_ns)
            stats["columns"] = [c for c in PINGS if c in checked.pings.columns]
            del raw, checked
    names = spill.close()
    for stats in files.values():
        stats["quarantine"] = {k: int(v) for k, v in stats["quarantine"].items() if v}
        stats["kept"] = stats["rows"] - sum(stats["quarantine"].values()) - stats["outside_period"]
    summary = {"unit": number, "files": list(files.values()), "shards": {str(k): v for k, v in sorted(names.items())}}
    write_json(summary, marker)
    return summary


def merge_partition(k: int, shards: list[tuple[Path, int, int]], columns: list[str], out: Path, quarantine: Path,
                    part_name: str) -> dict[str, int]:
    """Sort, de-duplicate and write partition ``k`` from its pieces of the shards (step 2 of the module
    docstring).

    ``shards``: ``(shard file, first record batch, record batches)`` in input order (task, then spill).
    Writes the partition's duplicates to ``quarantine/duplicates-KKKKK.parquet``, then its pings to
    ``out/<part_name>``; a partition whose two outputs exist is skipped (the stage resumed). The shards are
    shared by all partitions: the caller deletes them (:func:`remove_shards`). A partition with no rows gets
    an empty part with ``columns``.

    Returns
    -------
    dict
        ``{"duplicate": rows dropped as duplicates}``.
    """
    import pyarrow.parquet as pq

    from mobility.pings import drop_duplicate_pings, drop_duplicate_pings_table, empty_pings

    target, dup_target = out / part_name, quarantine / f"duplicates-{k:05d}.parquet"
    if target.exists() and dup_target.exists():
        return {"duplicate": int(pq.ParquetFile(dup_target).metadata.num_rows)}
    missing = sorted({f.name for f, _, _ in shards if not f.exists()})
    if missing:
        raise MobilityError(
            f"partition {k}: the load stage's shards {missing[:3]} are gone (an earlier validate run wrote the "
            "pings and deleted them); rerun from the load stage: python -m mobility.pipeline ... --from load"
        )
    if not shards:
        pings = empty_pings(accuracy="accuracy_m" in columns, utc_offset="utc_offset_s" in columns)
        kept, dups = drop_duplicate_pings(pings.assign(source=pd.Categorical([]), row=np.zeros(0, dtype=np.int64)))
        write_parquet(dups, dup_target)
        write_parquet(kept.drop(columns=["source", "row"]), target, **PINGS_PARQUET)
        return {"duplicate": 0}
    # in Arrow from the shards to the file: the same table pandas would hand the writer, without its copies
    table = _read_shard_table(shards)
    kept, dups = drop_duplicate_pings_table(table, [c for c in table.column_names if c not in ("source", "row")])
    del table
    write_parquet(dups, dup_target)
    if pa.types.is_dictionary(kept.schema.field("user_id").type):  # the shards' codes back to text, once
        kept = kept.set_column(kept.schema.get_field_index("user_id"), "user_id",
                               kept.column("user_id").cast(pa.large_string()))
    with atomic_path(target) as tmp:
        pq.write_table(pa.Table.from_arrays(kept.columns, schema=_pings_schema(kept)), tmp, **PINGS_PARQUET)
    return {"duplicate": int(len(dups))}


def _pings_schema(table: pa.Table) -> pa.Schema:
    """The schema, pandas metadata included, that ``DataFrame.to_parquet`` gives the pings frame of
    ``table``'s columns (``user_id`` large_string, ``utc_offset_s`` Int32), so the file is the one the
    pandas path writes, byte for byte."""
    from mobility.pings import _pandas_pings

    return pa.Schema.from_pandas(_pandas_pings(table.slice(0, 0)), preserve_index=False)


# --------------------------------------------------------------------------------------------- helpers
class _Spill:
    """Good rows of one load task, grouped by user partition in memory and written out whenever ``max_rows``
    rows are held (and at the end) as one shard ``uNNNNN-FFFF.arrow`` (or ``.parquet``): the partitions in
    ascending order, each as its own record batches (row groups), so that a task writes one file per spill
    whatever the number of partitions. ``names`` maps each partition to its ``[file, first batch, batches]``."""

    def __init__(self, folder: Path, index: int, n_partitions: int, max_rows: int, compression: str | None = None):
        self.folder, self.index, self.n, self.max_rows = folder, index, n_partitions, max_rows
        self.parquet = compression == "parquet"
        self.options = None if self.parquet else pa.ipc.IpcWriteOptions(compression=compression)
        self.pieces: dict[int, list[pa.Table]] = {}
        self.rows = self.flushes = 0
        self.names: dict[int, list[list]] = {}

    def add(self, pings: pd.DataFrame) -> None:
        from mobility.ids import user_codes
        from mobility.pings import partition_of

        if not len(pings):
            return
        uid = pings["user_id"]
        table = _checked_table(pings.drop(columns="user_id"))
        # user ids dictionary-coded: as read (Parquet's dictionary, rows with a missing id already quarantined),
        # else from their runs (no hashing of every row): smaller shards, and the writer and validate's sort work
        # on the codes
        if isinstance(uid.dtype, pd.CategoricalDtype):
            codes, users = uid.cat.codes.to_numpy(), np.asarray(uid.cat.categories, dtype=object)
        else:
            codes, users = user_codes(uid)
        words = pa.array(users, type=pa.large_string())
        ids = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), words)
        table = table.add_column(0, "user_id", ids)
        if self.n > 1:
            user_part = partition_of(pd.Series(users, dtype="str", copy=False), self.n)
        else:
            user_part = np.zeros(len(users), dtype=np.int64)
        # the partition changes only where the user does: look there first (few places in sorted input)
        changes = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        heads = changes[user_part[codes[changes]] != user_part[codes[changes - 1]]]
        if len(heads) < len(pings) // 1000:  # users grouped (sorted input): runs of one partition, zero-copy slices
            starts = np.concatenate(([0], heads))
            ends = np.append(heads, len(pings))
            for a, b in zip(starts.tolist(), ends.tolist()):
                self.pieces.setdefault(int(user_part[codes[a]]), []).append(table.slice(a, b - a))
        else:
            part = user_part[codes]
            order = np.argsort(part.astype(np.uint16) if self.n <= 1 << 16 else part, kind="stable")  # radix
            bounds = np.searchsorted(part[order], np.arange(self.n + 1))
            table = table.take(order)
            for k in np.flatnonzero(np.diff(bounds)):
                self.pieces.setdefault(int(k), []).append(table.slice(bounds[k], bounds[k + 1] - bounds[k]))
        self.rows += len(pings)
        if self.rows >= self.max_rows:
            self.flush()

    def flush(self) -> None:
        name = f"u{self.index:05d}-{self.flushes:04d}.{'parquet' if self.parquet else 'arrow'}"
        order = sorted(self.pieces)
        sizes = [sum(len(t) for t in self.pieces[k]) for k in order]
        # one schema, and one dictionary per column, for the whole file (Arrow IPC files allow no other)
        table = pa.concat_tables([t for k in order for t in self.pieces[k]], promote_options="permissive")
        table = table.unify_dictionaries()
        self.pieces = {}
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).tolist()
        parts = {k: table.slice(a, n) for k, a, n in zip(order, starts, sizes)}
        with atomic_path(self.folder / name, durable=False) as tmp:
            counts = (_write_parquet_shard if self.parquet else self._write_ipc)(parts, table.schema, tmp)
        first = 0
        for k, count in counts.items():
            self.names.setdefault(k, []).append([name, first, count])
            first += count
        self.rows, self.flushes = 0, self.flushes + 1

    def _write_ipc(self, parts: dict[int, pa.Table], schema: pa.Schema, path: Path) -> dict[int, int]:
        """Each partition's rows as record batches, one per chunk as added (not first copied into one: the
        partition's rows are gathered anyway when ``validate`` sorts them); returns the number of batches
        of each partition."""
        counts = {}
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema, options=self.options) as writer:
            for k, table in parts.items():
                batches = [b for b in table.to_batches() if b.num_rows]
                for batch in batches:
                    writer.write_batch(batch)
                counts[k] = len(batches)
        return counts

    def close(self) -> dict[int, list[list]]:
        if self.pieces:
            self.flush()
        return self.names


def _checked_table(pings: pd.DataFrame) -> pa.Table:
    """``pyarrow.Table.from_pandas(pings)`` (the same table, schema and metadata), with the columns that
    :func:`mobility.pings.check_pings` leaves without missing values wrapped as they are: float64 ``lat`` and
    ``lon`` (``from_pandas`` scans every float column for NaN), the UTC ``timestamp`` (its int64 nanoseconds)
    and a categorical ``source`` without missing codes (its codes).

    Examples
    --------
    >>> p = pd.DataFrame({"timestamp": pd.to_datetime(["2020-01-06 08:00"], utc=True).as_unit("ns"),
    ...                   "lat": [40.7], "lon": [-74.0], "accuracy_m": [np.nan], "source": pd.Categorical(["a.csv"])})
    >>> _checked_table(p).equals(pa.Table.from_pandas(p, preserve_index=False), check_metadata=True)
    True
    """
    schema = pa.Schema.from_pandas(pings.iloc[:0], preserve_index=False)
    arrays = {}
    for field in schema:
        s = pings[field.name]
        if field.name in ("lat", "lon") and s.dtype == np.float64:
            arrays[field.name] = pa.array(s.to_numpy(), type=pa.float64())
        elif field.name == "timestamp" and str(s.dtype) == "datetime64[ns, UTC]" and not s.hasnans:
            arrays[field.name] = pa.array(s.array.asi8).view(field.type)
        elif field.name == "source" and pa.types.is_dictionary(field.type) and not s.hasnans:
            arrays[field.name] = pa.DictionaryArray.from_arrays(
                pa.array(s.cat.codes.to_numpy(), type=field.type.index_type),
                pa.array(s.cat.categories, type=field.type.value_type))
    table = pa.Table.from_pandas(pings.drop(columns=list(arrays)), preserve_index=False, nthreads=1)
    return pa.Table.from_arrays([arrays[f.name] if f.name in arrays else table.column(f.name) for f in schema],
                                schema=schema)


def _write_parquet_shard(parts: dict[int, pa.Table], schema: pa.Schema, path: Path) -> dict[int, int]:
    """Each partition's rows as its own row groups of at most ``SHARD_GROUP_ROWS`` rows; returns the number of
    row groups of each partition.

    A column with no missing value in the shard is written as required (``not null``), with no definition
    levels to encode and decode: a third less time to write the shard and half as much to read it (10k region);
    ``validate`` reads the same values."""
    import pyarrow.parquet as pq

    options = {**COMPACT_SHARDS, "use_dictionary": [c for c in COMPACT_SHARDS["use_dictionary"] if c in schema.names]}
    schema = pa.schema([field.with_nullable(any(t.column(field.name).null_count for t in parts.values()))
                        for field in schema], metadata=schema.metadata)
    counts = {}
    with pq.ParquetWriter(path, schema, **options) as writer:
        for k, table in parts.items():
            starts = range(0, len(table), SHARD_GROUP_ROWS)
            for a in starts:
                piece = table.slice(a, SHARD_GROUP_ROWS)
                writer.write_table(pa.Table.from_arrays(piece.columns, schema=schema), row_group_size=len(piece))
            counts[k] = len(starts)
    return counts


def _read_shard_table(shards: list[tuple[Path, int, int]]) -> pa.Table:
    """The rows of the shards' pieces ``(file, first batch, batches)``, concatenated in order, as Arrow."""
    import pyarrow.parquet as pq

    tables = []
    for f, first, count in shards:
        try:
            if f.suffix == ".parquet":
                stat = f.stat()
                shard = pq.ParquetFile(f, metadata=_parquet_footer(str(f), stat.st_mtime_ns, stat.st_size))
                tables.append(shard.read_row_groups(range(first, first + count), use_threads=False))
                continue
            with pa.memory_map(str(f)) as source:
                reader = pa.ipc.open_file(source)
                tables.append(pa.Table.from_batches([reader.get_batch(i) for i in range(first, first + count)],
                                                    schema=reader.schema))
        except (pa.ArrowException, OSError) as exc:
            raise MobilityError(f"{f}: unreadable load shard ({exc}); rerun from the load stage (--from load)") from exc
    return pa.concat_tables(tables, promote_options="permissive")


@functools.lru_cache(maxsize=256)
def _parquet_footer(path: str, mtime_ns: int, size: int):
    """The footer of a compact Parquet shard, parsed once per process for all the partitions that read it
    (it lists a row group per partition); ``mtime_ns`` and ``size`` tell a rewritten shard apart."""
    import pyarrow.parquet as pq

    return pq.read_metadata(path)


def shard_pieces(summaries: list[dict[str, Any]], folder: Path, n_partitions: int) -> dict[int, list[tuple]]:
    """Each partition's pieces ``(shard file, first batch, batches)`` from the load tasks' summaries, in
    input order (task by task, each task's shards in spill order)."""
    by_part: dict[int, list[tuple]] = {k: [] for k in range(n_partitions)}
    for summary in summaries:
        for k, pieces in summary["shards"].items():
            if any(isinstance(piece, str) for piece in pieces):
                raise MobilityError(f"{folder}: shards written by an older version of mobility (a file per "
                                    "partition); rerun the load stage: --from load")
            by_part[int(k)] += [(folder / name, first, count) for name, first, count in pieces]
    return by_part


def remove_shards(summaries: list[dict[str, Any]], folder: Path) -> None:
    """Delete the shards the load tasks' summaries name (their summaries stay: a later ``validate`` then says
    to rerun ``load``)."""
    for name in {name for s in summaries for pieces in s["shards"].values() for name, _, _ in pieces}:
        (folder / name).unlink(missing_ok=True)
