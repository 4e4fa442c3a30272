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

import hashlib
import json
import logging
import os
import platform
import shutil
import time
import uuid
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

    def map(self, fn: Callable[[Any], Any], items: Sequence, desc: str, threads: bool = False) -> list:
        """``[fn(item) for item in items]`` on the run's engine (here, or on a Dask cluster), in order;
        ``threads``: the local engine may run them on several threads (work that releases the GIL)."""
        from mobility.pipeline.engine import LocalEngine

        return (self.engine or LocalEngine()).map(fn, list(items), desc=desc, progress=self.progress, threads=threads)

    def map_parts(self, inputs: Sequence[str], outputs: Sequence[str],
                  fn: Callable[..., Sequence[pd.DataFrame]]) -> None:
        """Apply ``fn`` to each user partition: ``fn(*frames_of_inputs) -> frames_of_outputs``.

        Parts are matched by name across the input tables (partition ``k`` of every table holds the same
        users). A partition whose outputs are all present already is skipped, so an interrupted stage
        resumes where it stopped. This is the unit of work a distributed engine maps over: the parts left
        to do go to ``self.engine`` (:mod:`mobility.pipeline.engine`; in this process when None), each as
        :func:`mobility.pipeline.engine.run_part`, which writes its outputs atomically itself.
        """
        from functools import partial

        from mobility.pipeline.engine import run_part

        in_dirs = [self.table(name) for name in inputs]
        out_dirs = [self.output(name) for name in outputs]
        names = [p.name for p in self.parts(inputs[0])]
        todo = [name for name in names if not all((d / name).exists() for d in out_dirs)]
        self.map(partial(run_part, fn, in_dirs, out_dirs), todo, ",".join(outputs))


@dataclass(frozen=True)
class Stage:
    """A pipeline step.

    ``run(ctx)`` writes the tables named in ``outputs`` under ``ctx.output(name)`` and returns a summary
    dict (stored in the manifest). ``params(config)`` returns the stage's resolved parameters (defaults
    filled in) and ``inputs(config)`` the external files it reads, both part of its fingerprint.
    """

    name: str
    after: tuple[str, ...]
    outputs: tuple[str, ...]
    run: Callable[[StageContext], dict[str, Any]]
    params: Callable[[RegionConfig], dict[str, Any]] = lambda config: {}
    inputs: Callable[[RegionConfig], list[Path]] = lambda config: []


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


def read_table(out_dir: str | os.PathLike, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a whole output table of a run (all its parts) into one DataFrame.

    Examples
    --------
    >>> stops = read_table("out/synthetic", "stops")    # doctest: +SKIP
    """
    folder = Path(out_dir) / name
    parts = sorted(folder.glob("*.parquet"))
    if not parts:
        raise MobilityError(f"no table '{name}' in {out_dir}; run the pipeline stage that writes it")
    frames = [pd.read_parquet(p, columns=columns) for p in parts]
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True)


class Runner:
    """Run stages in order with checkpoints (see module docstring)."""

    def __init__(self, config: RegionConfig, stages: Sequence[Stage], out_dir: Path, *, progress: bool = True,
                 engine: Any = None):
        self.config = config
        self.stages = list(stages)
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.engine = engine
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise MobilityError(f"duplicate stage names in {names}")

    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def run(self, *, from_stage: str | None = None, until: str | None = None, force: bool = False) -> dict:
        names = self.stage_names()
        for which, value in (("--from", from_stage), ("--until", until)):
            if value is not None and value not in names:
                raise MobilityError(f"{which} {value}: no such stage; stages are {names}")
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MobilityError(f"cannot create output directory {self.out_dir}: {exc.strerror}") from exc
        forced_from = names.index(from_stage) if from_stage else (0 if force else len(names))
        last = names.index(until) if until else len(names) - 1
        manifest = {
            "region": self.config.name,
            "config": str(self.config.path),
            "out_dir": str(self.out_dir),
            "started": datetime.now(timezone.utc).isoformat(),
            "versions": package_versions(),
            "stage_order": names[: last + 1],
            "engine": self.engine.describe() if self.engine is not None else {"engine": "local"},
            "stages": {},
        }
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
                log.info("stage %-12s skipped (inputs and parameters unchanged)", stage.name)
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
        return manifest

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
        log.info("stage %-12s running", stage.name)
        t0 = time.perf_counter()
        summary = stage.run(ctx) or {}
        duration = time.perf_counter() - t0
        rows = {}
        for table in stage.outputs:
            produced = staging / table
            if not produced.is_dir():
                raise MobilityError(f"stage {stage.name} did not write its table '{table}'")
            rows[table] = count_rows(produced)
            self._commit(produced, self.out_dir / table)
        shutil.rmtree(staging, ignore_errors=True)
        entry = {
            "status": "ran",
            "run_id": uuid.uuid4().hex,
            "fingerprint": fp,
            "params": params,
            "duration_s": round(duration, 3),
            "rows": rows,
            **summary,
        }
        write_json(entry, self.out_dir / "_state" / f"{stage.name}.json")
        log.info("stage %-12s done in %.1f s: %s", stage.name, duration,
                 ", ".join(f"{t}={n:,}" for t, n in rows.items()))
        return entry

    def _commit(self, produced: Path, final: Path) -> None:
        trash = self.out_dir / ".trash" / f"{final.name}-{uuid.uuid4().hex[:8]}"
        if final.exists():
            trash.parent.mkdir(parents=True, exist_ok=True)
            os.replace(final, trash)
        os.replace(produced, final)
        shutil.rmtree(trash, ignore_errors=True)
