"""Execution engines: where the partition functions of a stage run, and bounded-memory reading of big files.

A stage's unit of work is one user partition (:meth:`mobility.pipeline.runner.StageContext.map_parts`) or
one input file (the ``load`` stage). An engine maps a function over those units:

``local`` (:class:`LocalEngine`, the default)
    on this machine: the partitions of a stage in worker processes forked from this one (one per core, or
    ``--workers N``), the load tasks on threads; needs nothing beyond the package.
``dask`` (:class:`DaskEngine`)
    as tasks on a Dask distributed cluster: a scheduler at ``scheduler`` (``tcp://host:8786``) or, without
    one, a ``LocalCluster`` of worker processes on this machine. Needs ``pip install mobility[dist]``;
    Dask is imported only when this engine is made.

Both run the same functions on the same inputs and write the same part files, so their outputs are
identical, row for row. Every part is written atomically by the task itself; the workers must therefore
see the output directory at the same path (a shared file system on a real cluster, see ``docs/scaling.md``).
A worker that dies mid-task loses nothing: Dask runs the task again elsewhere, and a part that was being
written was never visible under its final name.

:func:`read_ping_batches` reads a Parquet or CSV ping file in batches of rows, so that the ``load`` stage's
memory is bounded by the batch, not by the file.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mobility.errors import MobilityError
from mobility.io.atomic import write_parquet

ENGINES = ("local", "dask")


def _cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
LOAD_BATCH_ROWS = 2_000_000  # rows per batch when reading an input file (~0.5 GB of pings in memory)


# ------------------------------------------------------------------------------------------------ engines
class LocalEngine:
    """Run every unit of work on this machine: in this process, in ``threads`` threads, or in ``workers``
    worker processes, as each map allows.

    Parameters
    ----------
    threads : int, optional
        Threads for the maps that ask for them (``map(..., threads=True)``: work that spends its time in
        Arrow, numpy and numba code that releases the GIL); default: the CPU cores this process may use.
    workers : int, optional
        Worker processes for the maps that ask for them (``map(..., processes=True)``: the per-partition
        stages, whose pandas code holds the GIL); default: the CPU cores this process may use. Workers are
        forked from this process for each map (so the function needs no pickling) and each runs one unit at
        a time; ``workers=1``, or a platform without ``fork``, runs the units here, one after the other.
        What the units log is said here, as if they had run here.

    Examples
    --------
    >>> with LocalEngine() as engine:
    ...     engine.map(lambda x: x * x, [1, 2, 3])
    [1, 4, 9]
    >>> LocalEngine(threads=2).map(lambda x: -x, [1, 2, 3], threads=True)
    [-1, -2, -3]
    >>> LocalEngine(workers=2).map(lambda x: x + 1, [1, 2, 3], processes=True)
    [2, 3, 4]
    """

    name = "local"

    def __init__(self, threads: int | None = None, workers: int | None = None):
        for key, value in (("threads", threads), ("workers", workers)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise MobilityError(f"{key}={value!r} must be a whole number >= 1")
        self.threads = threads or _cores()
        self.workers = workers or _cores()

    def map(self, fn: Callable[[Any], Any], items: Sequence, *, desc: str = "", progress: bool = False,
            threads: bool = False, processes: bool = False) -> list:
        """``[fn(item) for item in items]``, with a progress bar (parts done, rate, time left) when
        ``progress``; on ``self.threads`` threads when ``threads``, in ``self.workers`` processes when
        ``processes`` (results still in the order of ``items``)."""
        from tqdm import tqdm

        items = list(items)
        # closed on error too, so no half bar is left under the error line; drawn on a terminal only
        with tqdm(total=len(items), desc=desc, disable=None if progress else True, leave=False, unit="part") as bar:
            if processes and self.workers > 1 and len(items) > 1 and _can_fork():
                return _map_forked(fn, items, min(self.workers, len(items)), bar, desc)
            if not threads or self.threads == 1 or len(items) < 2:
                out = []
                for item in items:
                    out.append(fn(item))
                    bar.update()
                return out
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(self.threads, len(items))) as pool:
                out = []
                for result in pool.map(fn, items):
                    out.append(result)
                    bar.update()
                return out

    def describe(self) -> dict[str, Any]:
        """What the run manifest records about the engine."""
        return {"engine": self.name, "workers": self.workers if _can_fork() else 1}

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


_FORKED: tuple[Callable[[Any], Any], list] | None = None  # the map a forked worker runs (inherited, not pickled)


class _Captured(logging.Handler):
    """In a worker process: holds the package's log records of one unit, to be said by the parent."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        import pickle

        try:
            pickle.dumps(record.args)
        except Exception:  # noqa: BLE001 - any argument that cannot travel: send the formatted message
            record.msg, record.args = record.getMessage(), None
        record.exc_info = None
        self.records.append(record)


def _start_worker(parent_pid: int) -> None:
    """A forked worker dies with its parent (:func:`die_with_parent`), and its kernels run on one thread: the
    partitions are the parallelism, and a process forked from one that used Numba's thread pool (GNU OpenMP)
    hangs or is terminated if it uses that pool again (the kernels take their serial twins on one thread:
    :func:`mobility.kernels.metrics._threads_for`)."""
    import numba

    die_with_parent(parent_pid)
    numba.set_num_threads(1)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``),
    and exit at once if the parent ``parent_pid`` is already gone.

    A worker forked by :func:`_map_forked` holds a copy of its task queue's writing end, so a parent killed
    with SIGKILL (out of memory, a scheduler's time limit, ``kill -9``) would leave it alive: idle forever, or
    still computing and writing a partition into the staging folder of the rerun that follows. Elsewhere than
    Linux only the second check applies.

    Examples
    --------
    >>> import os
    >>> die_with_parent(os.getppid())  # the parent is alive: nothing happens
    """
    import signal
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os._exit(1)


def _run_forked(index: int) -> tuple[Any, list[logging.LogRecord]]:
    fn, items = _FORKED
    package = logging.getLogger("mobility")
    captured = _Captured()
    package.handlers[:] = [captured]  # this process is a copy: the parent's handlers stay the parent's
    package.propagate = False
    try:
        return fn(items[index]), captured.records
    finally:
        package.handlers[:] = []


def release_free_memory() -> None:
    """Hand memory this process has freed back to the system: Arrow's pool (the Parquet reads) and glibc's heap.
    Called before forking workers (:func:`_map_forked`), so that pages nobody uses are not counted in every
    process of the tree (in a whole run, what the earlier stages freed in this process)."""
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    if libc and hasattr(ctypes.CDLL(libc), "malloc_trim"):  # glibc only
        ctypes.CDLL(libc).malloc_trim(0)


def _map_forked(fn: Callable[[Any], Any], items: list, workers: int, bar, desc: str) -> list:
    """``[fn(item) for item in items]`` in ``workers`` forked processes, one unit each at a time; the units'
    log records are handled here, in the order of ``items``."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    global _FORKED
    _FORKED = (fn, items)
    release_free_memory()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(os.getpid(),))
    try:
        futures = [pool.submit(_run_forked, i) for i in range(len(items))]
        for future in as_completed(futures):
            future.result()  # a unit's error is raised here at once; the finally cancels the units not started
            bar.update()
        out = []
        for future in futures:
            result, records = future.result()
            for record in records:
                logging.getLogger(record.name).handle(record)
            out.append(result)
        return out
    except BrokenProcessPool as exc:
        raise MobilityError(
            f"{desc or 'parts'}: a worker process died ({exc}); most likely it ran out of memory. Run fewer "
            "workers at once (--workers 1) or raise [run] n_partitions so that a partition fits, then rerun: "
            "finished parts are kept"
        ) from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _FORKED = None


class DaskEngine:
    """Run units of work as tasks on a Dask distributed cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``"tcp://10.0.0.5:8786"``) or a scheduler file path
        (``.json``, as written by ``dask scheduler --scheduler-file``). When None, a ``LocalCluster`` of
        ``n_workers`` single-threaded worker processes is started on this machine and stopped by
        :meth:`close`. Its workers keep their scratch files (spilled data, locks) in a folder of their own
        under Dask's ``temporary-directory`` (default: the system's temporary folder), removed by :meth:`close`.
    n_workers : int, optional
        Worker processes of the local cluster (default: the number of CPU cores); not with ``scheduler``.
    memory_limit_gb : float, optional
        Memory limit per local worker, in GB (default: Dask's share of the machine's memory); not with
        ``scheduler`` (a running cluster's workers have their own).
    connect_timeout_s : float, default 30
        How long to wait for the scheduler.

    Raises
    ------
    MobilityError
        If Dask is not installed, the scheduler cannot be reached, or a parameter is out of range.

    Examples
    --------
    >>> with DaskEngine(n_workers=2) as engine:          # doctest: +SKIP
    ...     engine.map(abs, [-1, -2])
    [1, 2]
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, n_workers: int | None = None,
                 memory_limit_gb: float | None = None, connect_timeout_s: float = 30.0):
        if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
            raise MobilityError(f"n_workers={n_workers!r} must be a whole number >= 1")
        if memory_limit_gb is not None and not (isinstance(memory_limit_gb, (int, float)) and memory_limit_gb > 0):
            raise MobilityError(f"memory_limit_gb={memory_limit_gb!r} must be a positive number of GB")
        if scheduler and (n_workers is not None or memory_limit_gb is not None):
            raise MobilityError("--workers and --worker-memory-gb size the local cluster; with --scheduler, set them "
                                "on your workers (dask worker --nworkers N --memory-limit 4GB)")
        if not (isinstance(connect_timeout_s, (int, float)) and connect_timeout_s > 0):
            raise MobilityError(f"connect_timeout_s={connect_timeout_s!r} must be a positive number of seconds")
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise MobilityError(
                "--engine dask needs Dask distributed, which is not installed: pip install 'mobility[dist]' "
                "(or pip install 'dask[distributed,dataframe]'), or run with --engine local"
            ) from exc
        self.scheduler = scheduler
        self.cluster = None
        self._scratch = None
        if scheduler:
            kwargs = ({"scheduler_file": scheduler} if str(scheduler).endswith(".json") else {"address": scheduler})
            try:
                self.client = Client(timeout=f"{connect_timeout_s}s", **kwargs)
            except (OSError, TimeoutError, ValueError) as exc:
                raise MobilityError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc}); start it (dask scheduler) and its "
                    "workers, check the address and firewall, or run with --engine local"
                ) from exc
        else:
            import dask

            limit = "auto" if memory_limit_gb is None else f"{memory_limit_gb}GB"
            # Dask's default scratch folder, <temporary-directory>/dask-scratch-space, outlives the cluster
            base = dask.config.get("temporary-directory") or None
            if base:
                os.makedirs(base, exist_ok=True)  # as Dask does with its own
            self._scratch = tempfile.mkdtemp(prefix="mobility-dask-", dir=base)
            try:
                self.cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1,
                                            processes=True, memory_limit=limit, dashboard_address=":0",
                                            local_directory=self._scratch,
                                            scheduler_kwargs={"local_directory": self._scratch})
                self.client = Client(self.cluster)
            except BaseException:
                self.close()
                raise

    def map(self, fn: Callable[[Any], Any], items: Sequence, *, desc: str = "", progress: bool = False,
            threads: bool = False, processes: bool = False) -> list:
        """``[fn(item) for item in items]`` computed on the cluster; results in the order of ``items``
        (``threads`` and ``processes`` are ignored: each worker runs one task at a time).

        A task whose worker died is run again on another worker (up to Dask's
        ``distributed.scheduler.allowed-failures`` times); an error raised by ``fn`` itself is raised here.
        """
        from distributed import KilledWorker, as_completed
        from tqdm import tqdm

        items = list(items)
        if not items:
            return []
        keys = [f"{desc or 'part'}-{i}-{os.urandom(4).hex()}" for i in range(len(items))]
        futures = self.client.map(fn, items, key=keys, pure=False)
        try:
            with tqdm(as_completed(futures), total=len(futures), desc=desc, leave=False, unit="part",
                      disable=None if progress else True) as bar:  # closed on error too, as LocalEngine.map
                for _ in bar:
                    pass
            return self.client.gather(futures)
        except KilledWorker as exc:
            raise MobilityError(
                f"{desc or 'parts'}: Dask workers died running the same part {self._allowed_failures()} "
                f"time(s) ({exc}); most likely a worker ran out of memory. Raise the workers' memory (--worker-memory-gb) or "
                "[run] n_partitions so that a partition fits, then rerun: finished parts are kept"
            ) from exc
        except (OSError, TimeoutError) as exc:
            raise MobilityError(
                f"{desc or 'parts'}: lost the connection to the Dask cluster ({exc}); rerun when the "
                "scheduler is back: finished parts are kept"
            ) from exc
        finally:
            for future in futures:
                future.release()

    def describe(self) -> dict[str, Any]:
        """What the run manifest records about the engine (scheduler address, worker count)."""
        workers = self.client.scheduler_info().get("workers", {}) if self.client is not None else {}
        return {"engine": self.name, "scheduler": self.scheduler or "LocalCluster", "workers": len(workers)}

    def close(self) -> None:
        """Disconnect; stop the local cluster if this engine started it and remove its workers' scratch folder."""
        if getattr(self, "client", None) is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    @staticmethod
    def _allowed_failures() -> int:
        import dask

        return int(dask.config.get("distributed.scheduler.allowed-failures"))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # stage functions close over the stage context, which holds the engine: ship only its description
    def __getstate__(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler, "client": None, "cluster": None, "_scratch": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def make_engine(engine: str = "local", *, scheduler: str | None = None, n_workers: int | None = None,
                memory_limit_gb: float | None = None):
    """The engine named ``engine`` (``"local"`` or ``"dask"``); use it as a context manager.

    Examples
    --------
    >>> with make_engine("local", n_workers=1) as engine:
    ...     engine.describe()
    {'engine': 'local', 'workers': 1}
    >>> make_engine("spark")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: engine='spark' is not one of ('local', 'dask')
    """
    if engine not in ENGINES:
        raise MobilityError(f"engine={engine!r} is not one of {ENGINES}")
    if engine == "local":
        if scheduler is not None or memory_limit_gb is not None:
            raise MobilityError("--scheduler and --worker-memory-gb need --engine dask; the local engine runs on this "
                                "machine (--workers N: its worker processes)")
        return LocalEngine(workers=n_workers)
    return DaskEngine(scheduler, n_workers=n_workers, memory_limit_gb=memory_limit_gb)


def run_part(fn: Callable[..., Sequence[pd.DataFrame]], inputs: Sequence[Path], outputs: Sequence[Path],
             name: str, *, columns: Sequence[Sequence[str] | None] | None = None) -> str:
    """One unit of :meth:`StageContext.map_parts`: read part ``name`` of each input folder (only the
    ``columns`` given for it, when given), apply ``fn``, write its tables atomically as part ``name`` of
    each output folder. Returns ``name``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_parquet(pd.DataFrame({"x": [1, 2]}), d / "in" / "part-00000.parquet")
    >>> run_part(lambda f: [f * 10], [d / "in"], [d / "out"], "part-00000.parquet")
    'part-00000.parquet'
    >>> pd.read_parquet(d / "out" / "part-00000.parquet")["x"].tolist()
    [10, 20]
    >>> _ = write_parquet(pd.DataFrame({"x": [1], "y": [2]}), d / "in2" / "part-00000.parquet")
    >>> run_part(lambda f: [f], [d / "in2"], [d / "out2"], "part-00000.parquet", columns=[["y"]])
    'part-00000.parquet'
    >>> pd.read_parquet(d / "out2" / "part-00000.parquet").columns.tolist()
    ['y']
    """
    wanted = list(columns) if columns is not None else [None] * len(inputs)
    if len(wanted) != len(inputs):
        raise MobilityError(f"columns= gives {len(wanted)} entries for {len(inputs)} input tables")
    frames = [pd.read_parquet(Path(folder) / name, columns=None if cols is None else list(cols))
              for folder, cols in zip(inputs, wanted)]
    results = fn(*frames)
    if len(results) != len(outputs):
        raise MobilityError(f"partition function returned {len(results)} tables, expected {len(outputs)}")
    for frame, folder in zip(results, outputs):
        write_parquet(frame, Path(folder) / name)
    return name


# ------------------------------------------------------------------------------------- batched reading
def read_ping_batches(path: str | os.PathLike, *, format: str | None = None, columns: dict[str, str] | None = None,
                      batch_rows: int = LOAD_BATCH_ROWS, row_groups: tuple[int, int] | None = None,
                      dictionary_ids: bool = False, encoding: str = "utf-8") -> Iterator[pd.DataFrame]:
    """Read one ping file in batches of at most ``batch_rows`` rows.

    Each batch is what :func:`mobility.io.pings.read_pings` returns for those rows of the file: canonical
    column names, ``source`` (the file name) and ``row`` (the row's 0-based position in the whole file).
    Parquet is read row group by row group (``pyarrow.parquet.ParquetFile.iter_batches``) and CSV (also
    the ``google`` and ``posmo`` exports) in chunks, so memory is bounded by ``batch_rows``, not by the
    file. GeoLife ``.plt`` files (one trajectory each, small) are read whole. A file with no rows gives
    one empty batch.

    Parameters
    ----------
    path : str or path-like
        One ping file.
    format, columns
        As for :func:`mobility.io.pings.read_pings`; an optional column mapped in ``columns`` that the file
        lacks is read as missing (the load stage has checked that some input file has it:
        :func:`mobility.io.pings.check_mapped_optional`).
    encoding : str, default "utf-8"
        Of text files (CSV, Google, Posmo, GeoLife), as ``read_pings(..., encoding=)``; Parquet ignores it.
    batch_rows : int, default 2,000,000
        Rows per batch, at least 1.
    row_groups : (int, int), optional
        Parquet only: read row groups ``first`` up to (not including) ``end`` alone; ``row`` then counts
        from the file's first row of group ``first``, as in the whole file.
    dictionary_ids : bool, default False
        Parquet only: text user ids read as a pandas categorical (``read_dictionary``: the file's dictionary
        pages kept as they are, no text per row), for :func:`mobility.pings.check_pings`.

    Raises
    ------
    MobilityError
        For the reasons :func:`~mobility.io.pings.read_pings` gives (missing column, not UTF-8, corrupt
        or truncated Parquet, ragged rows), found in whichever batch they occur.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "p.csv").write_text("user_id,timestamp,lat,lon\\n" + "a,2020-01-06T08:00:00Z,40.7,-74.0\\n" * 5)
    >>> [(len(b), b["row"].tolist()) for b in read_ping_batches(d / "p.csv", batch_rows=2)]
    [(2, [0, 1]), (2, [2, 3]), (1, [4])]
    """
    from mobility.io.pings import FORMATS, _infer_format, file_mapping, read_pings

    if isinstance(batch_rows, bool) or not isinstance(batch_rows, (int, np.integer)) or batch_rows < 1:
        raise MobilityError(f"batch_rows={batch_rows!r} must be a whole number of rows >= 1")
    path = Path(path)
    if not path.is_file():
        raise MobilityError(f"{path}: no such file; give one ping file")
    if format is not None and format not in FORMATS:
        raise MobilityError(f"read_ping_batches: format={format!r} is not one of {FORMATS}")
    fmt = format or _infer_format(path, encoding)
    columns = file_mapping(path, fmt, columns, encoding)  # an optional column this file lacks: read as missing
    offset, batches = 0, 0
    if row_groups is not None and fmt != "parquet":
        raise MobilityError(f"{path}: row_groups= applies to Parquet files only, not {fmt}")
    if fmt == "parquet":
        frames = _parquet_batches(path, columns or {}, batch_rows, row_groups, dictionary_ids)
        if row_groups is not None:
            meta = pq.ParquetFile(path).metadata
            offset = sum(meta.row_group(i).num_rows for i in range(row_groups[0]))
    elif fmt in ("csv", "google", "posmo"):
        read_pings(path, format=fmt, columns=columns, nrows=0, encoding=encoding)  # the header and columns only
        frames = _csv_batches(path, fmt, columns or {}, batch_rows, encoding)
    else:
        yield read_pings(path, format=fmt, columns=columns, encoding=encoding)
        return
    for frame in frames:
        if len(frame) or not batches:
            yield _with_source(frame.reset_index(drop=True), path.name, offset)
            offset, batches = offset + len(frame), batches + 1
    if not batches and row_groups is None:
        yield read_pings(path, format=fmt, columns=columns, encoding=encoding)


def _with_source(frame: pd.DataFrame, name: str, offset: int) -> pd.DataFrame:
    source = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=[name])
    row = np.arange(offset, offset + len(frame), dtype=np.int64)
    return frame.assign(source=pd.Series(source, index=frame.index, copy=False),
                        row=pd.Series(row, index=frame.index, copy=False))


def _parquet_batches(path: Path, columns: dict[str, str], batch_rows: int,
                     row_groups: tuple[int, int] | None = None, dictionary_ids: bool = False
                     ) -> Iterator[pd.DataFrame]:
    from mobility.io.pings import _check_columns, unreadable_parquet, wanted_columns
    from mobility.schema import PINGS

    try:
        reader = pq.ParquetFile(path)
        names = reader.schema_arrow.names
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(path, exc) from exc
    wanted = wanted_columns("parquet", columns)
    _check_columns(path, wanted, names, columns)
    uid = wanted["user_id"]
    if dictionary_ids and (pa.types.is_string(reader.schema_arrow.field(uid).type)
                           or pa.types.is_large_string(reader.schema_arrow.field(uid).type)):
        try:
            reader = pq.ParquetFile(path, read_dictionary=[uid])
        except (pa.ArrowException, OSError) as exc:
            raise unreadable_parquet(path, exc) from exc
    canonical = [c for c in PINGS if c in wanted and wanted[c] in names]
    groups = None if row_groups is None else list(range(*row_groups))
    batches = reader.iter_batches(batch_size=int(batch_rows), row_groups=groups, use_threads=False,
                                  columns=list(dict.fromkeys(wanted[c] for c in canonical)))
    while True:
        try:
            batch = next(batches, None)
            if batch is None:
                return
            # canonical names in Arrow, then one conversion without consolidating columns into blocks (a copy)
            frame = pa.table([batch.column(wanted[c]) for c in canonical], names=canonical).to_pandas(split_blocks=True)
        except (pa.ArrowException, OSError) as exc:
            raise unreadable_parquet(path, exc) from exc
        yield frame


def _csv_batches(path: Path, fmt: str, columns: dict[str, str], batch_rows: int,
                 encoding: str = "utf-8") -> Iterator[pd.DataFrame]:
    from mobility.io.pings import (
        _SEPARATORS,
        _header_line,
        canonical_frame,
        text_read_errors,
        wanted_columns,
    )

    sep = max(_SEPARATORS, key=_header_line(path, encoding).count)  # as read_pings sniffs it
    wanted = wanted_columns(fmt, columns)
    with text_read_errors(path, encoding=encoding):
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding=encoding,
                             index_col=False, sep=sep, chunksize=int(batch_rows))
    with reader:
        while True:
            with text_read_errors(path, encoding=encoding):
                chunk = next(reader, None)
            if chunk is None:
                return
            yield canonical_frame(chunk, wanted)
