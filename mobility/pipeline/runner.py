"""Stage runner: checkpoints, skipping, atomic commits of whole tables, the run manifest.

Each stage writes its tables as folders of Parquet parts under a staging folder
``OUT/.staging/<stage>-<fingerprint>/``. When the stage finishes, each table folder replaces
``OUT/<table>/`` by renames, then ``OUT/_state/<stage>.json`` records the stage's fingerprint. So:

- a reader never sees a half-written table under its final name (parts are written atomically, and the
  table folder appears by one rename);
- a run killed anywhere can be started again: finished stages are skipped (same fingerprint, outputs
  present), an interrupted stage resumes from the parts already in its staging folder;
- a stage is skipped when its parameters, the package version, its external input files (path, size,
  modification time) and its upstream stages' fingerprints are unchanged.

``OUT/run.json`` is the run manifest: parameters, package versions, row counts, durations, quarantine counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from mobility.errors import MobilityError
from mobility.io.atomic import write_json
from mobility.pipeline.config import RegionConfig

log = logging.getLogger("mobility.pipeline")

PART_NAME = "part-{:05d}.parquet"


@dataclass
class StageContext:
    """What a stage function gets: the config, its parameters, where to read and where to write."""

    config: RegionConfig
    params: dict[str, Any]
    out_dir: Path
    staging: Path
    progress: bool = True
    engine: Any = None

    def table(self, name: str) -> Path:
        """Folder of a committed upstream table, e.g. ``ctx.table("pings")``."""
        path = self.out_dir / name
        if not path.is_dir():
            raise MobilityError(f"table '{name}' not found in {self.out_dir}; run the stage that makes it first")
        return path

    def parts(self, name: str) -> list[Path]:
        """Sorted Parquet parts of a committed upstream table."""
        return sorted(self.table(name).glob("*.parquet"))

    def output(self, name: str) -> Path:
        """Staging folder of an output table of this stage (created)."""
        path = self.staging / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def map(self, fn: Callable[[Any], Any], items: Sequence, desc: str, threads: bool = False,
            processes: bool = False) -> list:
        """``[fn(item) for item in items]`` on the run's engine (here, or on a Dask cluster), in order;
        the local engine may run them on several threads (``threads``: work that releases the GIL) or in
        worker processes (``processes``: units that only read and write files and return small results)."""
        from mobility.pipeline.engine import LocalEngine

        return (self.engine or LocalEngine()).map(fn, list(items), desc=desc, progress=self.progress, threads=threads,
                                                  processes=processes)

    def map_parts(self, inputs: Sequence[str], outputs: Sequence[str],
                  fn: Callable[..., Sequence[pd.DataFrame]], *,
                  columns: Sequence[Sequence[str] | None] | None = None) -> None:
        """Apply ``fn`` to each user partition: ``fn(*frames_of_inputs) -> frames_of_outputs``.

        Parts are matched by name across the input tables (partition ``k`` of every table holds the same
        users). A partition whose outputs are all present already is skipped, so an interrupted stage
        resumes where it stopped. This is the unit of work a distributed engine maps over: the parts left
        to do go to ``self.engine`` (:mod:`mobility.pipeline.engine`; in this process when None), each as
        :func:`mobility.pipeline.engine.run_part`, which writes its outputs atomically itself. ``columns``,
        one entry per input (None: every column), names the columns ``fn`` needs, so the others are not
        decoded.
        """
        from functools import partial

        from mobility.pipeline.engine import run_part

        in_dirs = [self.table(name) for name in inputs]
        out_dirs = [self.output(name) for name in outputs]
        names = [p.name for p in self.parts(inputs[0])]
        todo = [name for name in names if not all((d / name).exists() for d in out_dirs)]
        self.map(partial(run_part, fn, in_dirs, out_dirs, columns=columns), todo, ",".join(outputs), processes=True)


@dataclass(frozen=True)
class Stage:
    """A pipeline step.

    ``run(ctx)`` writes the tables named in ``outputs`` under ``ctx.output(name)`` and returns a summary
    dict (stored in the manifest). ``params(config)`` returns the stage's resolved parameters (defaults
    filled in) and ``inputs(config)`` the external files it reads, both part of its fingerprint.
    ``timed`` marks a stage that does its work in one piece (no partitions to count): the runner shows a bar
    of its elapsed time against the stage's last duration (:func:`timed_bar`). ``check(config)`` looks into
    the stage's input files cheaply before any stage runs (a user's file whose error would otherwise come late).
    """

    name: str
    after: tuple[str, ...]
    outputs: tuple[str, ...]
    run: Callable[[StageContext], dict[str, Any]]
    params: Callable[[RegionConfig], dict[str, Any]] = lambda config: {}
    inputs: Callable[[RegionConfig], list[Path]] = lambda config: []
    timed: bool = False
    check: Callable[[RegionConfig], None] = lambda config: None


def cpu_seconds() -> float:
    """CPU time (user + system) of this process, all its threads, and its worker processes that have ended.

    Examples
    --------
    >>> cpu_seconds() > 0
    True
    """
    try:
        import resource
    except ImportError:  # not Unix: this process only
        return time.process_time()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def package_versions() -> dict[str, str]:
    names = ["mobility", "pandas", "numpy", "pyarrow", "numba", "geopandas", "shapely", "scikit-learn",
             "statsmodels", "lightgbm"]
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _file_stamp(path: Path) -> list:
    if path.is_dir():
        return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(path.rglob("*")) if p.is_file()]
    if path.exists():
        return [[str(path), path.stat().st_size, path.stat().st_mtime_ns]]
    return [[str(path), None, None]]


def fingerprint(stage: Stage, params: dict, upstream: dict[str, str], config: RegionConfig) -> str:
    payload = {
        "stage": stage.name,
        "params": params,
        "upstream": upstream,
        "inputs": [_file_stamp(p) for p in stage.inputs(config)],
        "version": metadata.version("mobility") if _installed("mobility") else "dev",
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def count_rows(folder: Path) -> int:
    """Rows of a Parquet table folder, from the footers (no data read)."""
    import pyarrow.parquet as pq

    return int(sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(folder.glob("*.parquet"))))


def read_parts(paths: Sequence[Path], columns: list[str] | None = None) -> pd.DataFrame:
    """The Parquet files ``paths`` as one DataFrame (default index), as ``pd.concat`` of ``pd.read_parquet`` of
    each (empty parts left out unless all are empty) gives it: the parts are read on two threads and joined
    as Arrow tables, converted to pandas once; parts whose schemas differ are joined by pandas instead.

    Examples
    --------
    >>> import tempfile
    >>> from mobility.io.atomic import write_parquet
    >>> d = Path(tempfile.mkdtemp())
    >>> paths = [write_parquet(pd.DataFrame({"a": [i, i + 1]}), d / f"part-{i}.parquet") for i in (0, 5)]
    >>> read_parts(paths)["a"].tolist()
    [0, 1, 5, 6]
    """
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.parquet as pq

    if not paths:
        raise MobilityError("read_parts: no Parquet files to read")

    def read(path):
        return pq.read_table(path, columns=columns, use_pandas_metadata=True)

    if len(paths) == 1:  # no threads to start for one file (a partition's table read by itself)
        tables = [read(paths[0])]
    else:
        with ThreadPoolExecutor(2) as pool:
            tables = list(pool.map(read, paths))
    kept = [t for t in tables if t.num_rows] or tables[:1]
    if any(not t.schema.equals(kept[0].schema, check_metadata=False) for t in kept[1:]):
        return pd.concat([t.to_pandas() for t in kept], ignore_index=True)
    table = pa.concat_tables(kept)
    del tables, kept
    # the frame's memory from the system allocator, and Arrow's decoded pages given back: Arrow's own pool
    # (mimalloc) keeps what it frees for Arrow alone, where NumPy cannot reuse it (reading user_features of the
    # 100k run: 5.0 GB resident and 2.5 GB after the frame is let go, 7.1 and 4.6 GB without release_unused)
    frame = table.to_pandas(memory_pool=pa.system_memory_pool(), self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()
    return frame.reset_index(drop=True)


def read_table(out_dir: str | os.PathLike, name: str, columns: list[str] | None = None):
    """Read an output of a run: a table as one DataFrame, a JSON output as its content.

    ``name`` is an output the README lists:

    - a table (a folder of Parquet parts: ``pings``, ``quarantine``, ``stops``, ``metrics_weekly``, ...): one
      DataFrame of all its parts (``columns`` to read only some; :func:`is_table`);
    - a folder of named results (``employment_evaluation``, ``validation``, ``longitudinal``,
      ``report_index``): the content of its one data file (a dict for JSON, a DataFrame for Parquet or CSV),
      or ``{file stem: content}`` when it holds several (figures are left out);
    - one file of such a folder, as ``"longitudinal/event_study"`` (Parquet, CSV or JSON).

    Raises
    ------
    MobilityError
        No such output in ``out_dir`` (with the outputs it does have).

    Examples
    --------
    >>> stops = read_table("out/synthetic", "stops")                        # doctest: +SKIP
    >>> read_table("out/synthetic", "validation")["individual"]["truth"]     # doctest: +SKIP
    >>> read_table("out/synthetic", "longitudinal/event_study").columns      # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    path = out_dir / name
    if path.is_dir() and is_table(path):
        parts = sorted(path.glob("*.parquet"))
        try:
            return read_parts(parts, columns)
        except Exception:
            if columns is not None:  # a column asked for that the table lacks: say which, not pyarrow's schema dump
                _check_columns(name, parts, columns)
            raise
    if path.is_dir():
        files = _result_files(path)
        if not files and name in EMPTY_OUTPUTS:
            raise MobilityError(f"output '{name}' in {out_dir} is empty in this run: {EMPTY_OUTPUTS[name]}")
        if not files:
            raise MobilityError(f"output '{name}' in {out_dir} holds no table or JSON file; rerun the stage that "
                                "writes it")
        if len(files) == 1:
            return _read_result(next(iter(files.values())), columns)
        return {stem: _read_result(file, columns) for stem, file in files.items()}
    for suffix in RESULT_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return _read_result(candidate, columns)
    have = sorted(p.name for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))) \
        if out_dir.is_dir() else []
    try:
        left_out = json.loads((out_dir / "run.json").read_text()).get("skipped_stages") or {}
    except (OSError, ValueError):
        left_out = {}
    why = "".join(f"; this run left out {stage} (it {reason})" for stage, reason in left_out.items())
    raise MobilityError(f"no output '{name}' in {out_dir}; run the pipeline stage that writes it "
                        f"(outputs there: {', '.join(have) or 'none'}){why}")


EMPTY_OUTPUTS = {"employment_model": "no classifier was trained or applied: give the region [employment] labels (a "
                                     "labelled panel) or model (a model another run saved)"}
"""Outputs a stage may leave empty, and why."""


def _check_columns(name: str, parts: list[Path], columns: list[str]) -> None:
    """MobilityError when ``columns`` asks for a column no part of the table has (footers only), naming it, the
    closest column there and all of them (pyarrow's error printed the whole schema)."""
    import difflib

    import pyarrow.parquet as pq

    have = list(dict.fromkeys(n for part in parts for n in pq.read_schema(part).names))
    missing = [c for c in columns if c not in have]
    if missing:
        close = {c: difflib.get_close_matches(c, have, n=1, cutoff=0.5) for c in missing}
        hint = "".join(f" (did you mean {m[0]!r} for {c!r}?)" for c, m in close.items() if m)
        raise MobilityError(f"{name} has no column(s) {missing}{hint}; its columns: {have}")


RESULT_SUFFIXES = (".parquet", ".csv", ".json")


def _result_files(folder: Path) -> dict[str, Path]:
    """``{stem: file}`` of a result folder's data files, Parquet preferred over a CSV copy of the same table."""
    files: dict[str, Path] = {}
    for suffix in reversed(RESULT_SUFFIXES):
        for file in sorted(folder.glob(f"*{suffix}")):
            files[file.stem] = file
    return dict(sorted(files.items()))


def _read_result(file: Path, columns: list[str] | None = None):
    if file.suffix == ".json":
        return json.loads(file.read_text())
    if file.suffix == ".csv":
        return pd.read_csv(file, usecols=columns)
    return pd.read_parquet(file, columns=columns)


def is_table(folder: Path) -> bool:
    """A folder of Parquet parts (JSON files beside them are a stage's resume markers), not of named results.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"a": [1]}).to_parquet(d / "part-00000.parquet")
    >>> is_table(d)
    True
    >>> _ = (d / "summary.csv").write_text("a,b")
    >>> is_table(d)
    False
    """
    files = [p for p in folder.rglob("*") if p.is_file()]
    return any(p.suffix == ".parquet" for p in files) and all(
        p.suffix in (".parquet", ".json") and p.parent == folder for p in files)


def describe_output(folder: Path) -> str:
    """What a stage wrote into one output folder, for the log: ``1,234 rows`` or ``1 JSON, 2 PNG files``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.json").write_text("{}"); _ = (d / "b.png").write_bytes(b"")
    >>> describe_output(d)
    '1 JSON and 1 PNG files'
    """
    if is_table(folder):
        return f"{count_rows(folder):,} rows"
    files = [p for p in folder.rglob("*") if p.is_file()]
    kinds = Counter(p.suffix.lstrip(".").upper() or "other" for p in files)
    if not kinds:
        return "nothing"
    text = and_join([f"{n} {kind}" for kind, n in sorted(kinds.items())])
    return f"{text} file{'s' if sum(kinds.values()) > 1 else ''}"


def and_join(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``.

    Examples
    --------
    >>> and_join(["cbg"]), and_join(["cbg", "lodes_wac", "telework"])
    ('cbg', 'cbg, lodes_wac and telework')
    """
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@contextlib.contextmanager
def timed_bar(desc: str, expected_s: float | None, enabled: bool = True, *, tick_s: float = 0.5):
    """A progress bar of elapsed time for work done in one piece: against ``expected_s`` (the same stage's last
    duration) it shows the share done and an estimate of the time left; without one, the time elapsed. Shown
    on a terminal only, and not when ``enabled`` is false.

    Examples
    --------
    >>> with timed_bar("employment", 12.0, enabled=False):
    ...     pass
    """
    if not enabled:
        yield
        return
    import threading

    from tqdm import tqdm

    if expected_s:
        fmt = ("{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed, about {remaining} left "
               f"(its last run took {expected_s:.0f} s)")
    else:
        fmt = "{desc}: {elapsed} elapsed (first run: no estimate yet)"
    stop = threading.Event()
    with tqdm(total=expected_s or None, desc=desc, bar_format=fmt, leave=False, disable=None) as bar:
        def tick():
            t0 = time.monotonic()
            while not stop.wait(tick_s):
                bar.n = min(time.monotonic() - t0, 0.99 * expected_s) if expected_s else 0
                bar.refresh()

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


class _Held(logging.Handler):
    """Holds what the package's frame functions log while a stage runs (once per partition: the same line
    many times), to say it once at the stage's end (:func:`_library_logs`)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == log.name or record.name.startswith(log.name + "."):
            logging.getLogger().handle(record)  # the runner's own lines go out at once
        else:
            self.records.append(record)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def summarise_records(records: Sequence[logging.LogRecord]) -> str:
    """One line for many log records: records with the same message template and the same words (non-number
    arguments) are merged, their whole-number arguments summed (counts over disjoint partitions add up);
    records with other numbers (shares, rates) keep the first one's text.

    Examples
    --------
    >>> r = [logging.LogRecord("m", 30, "", 0, "%s: %d of %d rows have no cbg", ("work", n, 10), None) for n in (2, 3)]
    >>> summarise_records(r + [logging.LogRecord("m", 30, "", 0, "%.1f%% left", (5.0,), None)] * 2)
    'work: 5 of 20 rows have no cbg (2 messages summed); 5.0% left (and 1 more like it)'
    """
    groups: dict[tuple, list[logging.LogRecord]] = {}
    for record in records:
        args = record.args if isinstance(record.args, tuple) else ()
        words = tuple(repr(a) if not _whole(a) else None for a in args)  # repr: a list or dict is not hashable
        groups.setdefault((record.name, str(record.msg), words), []).append(record)
    lines = []
    for (_, msg, words), same in groups.items():
        args = [r.args if isinstance(r.args, tuple) else () for r in same]
        summable = len(same) > 1 and any(w is None for w in words) and \
            not any(isinstance(a, float) for row in args for a in row)
        if summable:
            merged = tuple(sum(row[i] for row in args) if words[i] is None else args[0][i] for i in range(len(words)))
            lines.append(f"{msg % merged} ({len(same)} messages summed)")
        else:
            more = f" (and {len(same) - 1} more like it)" if len(same) > 1 else ""
            lines.append(same[0].getMessage() + more)
    return "; ".join(lines)


@contextlib.contextmanager
def _library_logs(stage: str):
    """While a stage runs, hold the package's own log records (``mobility.*`` outside the runner); at its end
    say its warnings in one line (:func:`summarise_records`) and keep the rest at DEBUG level."""
    package = logging.getLogger("mobility")
    held = _Held()
    propagate = package.propagate
    package.addHandler(held)
    package.propagate = False
    try:
        yield
    finally:
        package.removeHandler(held)
        package.propagate = propagate
        warnings = [r for r in held.records if r.levelno >= logging.WARNING]
        if warnings:
            summary = summarise_records(warnings)
            if summary.startswith(f"{stage}: "):  # a message that names its stage itself: say it once
                summary = summary[len(stage) + 2:]
            log.log(max(r.levelno for r in warnings), "%s: %s", stage, summary)
        for record in held.records:
            if record.levelno < logging.WARNING:
                log.debug("%s: %s", stage, record.getMessage())


class Runner:
    """Run stages in order with checkpoints (see module docstring)."""

    def __init__(self, config: RegionConfig, stages: Sequence[Stage], out_dir: Path, *, progress: bool = True,
                 engine: Any = None, skipped: dict[str, str] | None = None):
        self.config = config
        self.stages = list(stages)
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.engine = engine
        self.skipped = dict(skipped or {})  # stages this region cannot run -> the inputs they need
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise MobilityError(f"duplicate stage names in {names}")

    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def run(self, *, from_stage: str | None = None, until: str | None = None, force: bool = False) -> dict:
        names = self.stage_names()
        for which, value in (("--from", from_stage), ("--until", until)):
            if value in self.skipped:
                raise MobilityError(f"{which} {value}: this region does not run {value}, which {self.skipped[value]}; "
                                    f"its stages are {names}")
            if value is not None and value not in names:
                raise MobilityError(f"{which} {value}: no such stage; stages are {names}")
        last = names.index(until) if until else len(names) - 1
        if from_stage and names.index(from_stage) > last:
            raise MobilityError(f"--from {from_stage} comes after --until {until}: nothing to run; stages are {names}")
        for stage in self.stages[: last + 1]:  # a config error of a late stage stops the run now, not hours later
            stage.params(self.config)
            if self.config.synthetic is None:  # a synthetic region's files appear when its generate stage runs
                missing = [p for p in stage.inputs(self.config) if not p.exists()]
                if missing:
                    raise self.config.missing_file(missing[0], stage.name)
                stage.check(self.config)
        self._check_inputs_outside_outputs()
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MobilityError(f"cannot create output directory {self.out_dir}: {exc.strerror}") from exc
        forced_from = names.index(from_stage) if from_stage else (0 if force else len(names))
        manifest = {
            "region": self.config.name,
            "config": str(self.config.path),
            "out_dir": str(self.out_dir),
            "started": datetime.now(timezone.utc).isoformat(),
            "versions": package_versions(),
            "stage_order": names[: last + 1],
            "engine": self.engine.describe() if self.engine is not None else {"engine": "local"},
            "stages": {},
            "skipped_stages": self.skipped,
        }
        for name, reason in self.skipped.items():
            log.info("%-12s not run: it %s", name, reason)
        run_ids: dict[str, str] = {}  # an upstream stage that ran again makes its downstream stages run again
        for index, stage in enumerate(self.stages[: last + 1]):
            params = stage.params(self.config)
            upstream = {name: run_ids[name] for name in stage.after if name in run_ids}
            fp = fingerprint(stage, params, upstream, self.config)
            state = self._read_state(stage)
            done = (
                index < forced_from
                and state is not None
                and state.get("fingerprint") == fp
                and all((self.out_dir / t).is_dir() for t in stage.outputs)
            )
            if done:
                log.info("%-12s skipped: inputs and parameters unchanged", stage.name)
                entry = dict(state, status="skipped")
            else:
                entry = self._run_stage(stage, params, fp)
                # a stage may create its own external inputs (``generate`` writes the synthetic region):
                # record the fingerprint they give now, which is what the next run will compute
                entry["fingerprint"] = fingerprint(stage, params, upstream, self.config)
                write_json(entry, self.out_dir / "_state" / f"{stage.name}.json")
            run_ids[stage.name] = entry.get("run_id", entry["fingerprint"])
            manifest["stages"][stage.name] = entry
            manifest["finished"] = datetime.now(timezone.utc).isoformat()
            write_json(manifest, self.out_dir / "run.json")
        if self.skipped:
            log.info("not run for this region: %s (see above for the inputs each needs)", ", ".join(self.skipped))
        return manifest

    def _check_inputs_outside_outputs(self) -> None:
        """MobilityError when an input file lies in a folder the run replaces (``OUT/<table>``, ``OUT/report``, its
        scratch folders): with ``--out`` set to the data folder, ``OUT/pings`` held the user's export, and the
        validate stage's table replaced it; or when ``OUT`` lies inside an input folder (read recursively)."""
        out = self.out_dir.resolve()
        owned = [out / name for name in dict.fromkeys([t for s in self.stages for t in s.outputs]
                                                      + ["report", "_state", ".staging", ".trash"])]
        for stage in self.stages:
            for path in stage.inputs(self.config):
                path = Path(path).resolve()
                folder = next((f for f in owned if f == path or f in path.parents), None)
                if folder is not None:
                    raise MobilityError(
                        f"--out {self.out_dir}: the run replaces its folder {folder.name}/ with its own table of that "
                        f"name, but that folder holds the input {path} (read by the {stage.name} stage); choose "
                        f"another --out (e.g. {out / 'out'}) or move the input")
        for folder in self.config.ping_folders():
            if folder.resolve() == out or folder.resolve() in out.parents:
                raise MobilityError(f"--out {self.out_dir} lies inside {folder}, which [inputs] pings reads with every "
                                    "subfolder: the next run would read the run's own tables as pings; choose an --out "
                                    "outside it")

    def _read_state(self, stage: Stage) -> dict | None:
        path = self.out_dir / "_state" / f"{stage.name}.json"
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def _run_stage(self, stage: Stage, params: dict, fp: str) -> dict:
        staging_root = self.out_dir / ".staging"
        staging = staging_root / f"{stage.name}-{fp}"
        for stale in staging_root.glob(f"{stage.name}-*"):
            if stale != staging:
                shutil.rmtree(stale, ignore_errors=True)
        staging.mkdir(parents=True, exist_ok=True)
        ctx = StageContext(self.config, params, self.out_dir, staging, self.progress, self.engine)
        log.info("%-12s running", stage.name)
        last = (self._read_state(stage) or {}).get("duration_s") if stage.timed else None
        t0, cpu0 = time.perf_counter(), cpu_seconds()
        with _library_logs(stage.name), timed_bar(stage.name, last, self.progress and stage.timed):
            summary = stage.run(ctx) or {}
        duration, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        rows, written = {}, []
        for table in stage.outputs:
            produced = staging / table
            if not produced.is_dir():
                raise MobilityError(f"stage {stage.name} did not write its table '{table}'")
            written.append(f"{table} {describe_output(produced)}")
            rows[table] = count_rows(produced)
            self._commit(produced, self.out_dir / table)
        shutil.rmtree(staging, ignore_errors=True)
        entry = {
            "status": "ran",
            "run_id": uuid.uuid4().hex,
            "fingerprint": fp,
            "params": params,
            "duration_s": round(duration, 3),
            "cpu_s": round(cpu, 3),
            "rows": rows,
            **summary,
        }
        write_json(entry, self.out_dir / "_state" / f"{stage.name}.json")
        log.info("%-12s done in %.1f s (%.1f CPU-s)%s", stage.name, duration, cpu,
                 (": " + ", ".join(written)) if written else "")
        return entry

    def _commit(self, produced: Path, final: Path) -> None:
        trash = self.out_dir / ".trash" / f"{final.name}-{uuid.uuid4().hex[:8]}"
        if final.exists():
            trash.parent.mkdir(parents=True, exist_ok=True)
            os.replace(final, trash)
        os.replace(produced, final)
        shutil.rmtree(trash, ignore_errors=True)
