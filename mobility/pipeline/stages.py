"""The pipeline's stages, in order. Stages only compose the frame functions of the package.

Tables (folders of Parquet parts under the output directory):

===================  =======================================================================
``ping_shards``      checked pings of each load task, record batches per user partition (scratch, deleted by ``validate``)
``quarantine_rows``  rows rejected while loading each file (intermediate)
``pings``            canonical pings (:mod:`mobility.schema`), one part per user partition
``quarantine``       every rejected row with its ``source``, ``row`` and ``reason``
``stops``            detected stops (``location_id`` = -1)
``visits``           the stops with their ``location_id``
``locations``        one row per user and location (coordinates: internal, never in reports)
``home_work_daily``  daily home/work labels, home and work as CBGs
``metrics_weekly``   mobility metrics per user and ISO week; ``metrics_monthly`` per calendar month
``user_features``    census features per user and week from the work and home CBGs (no coordinates)
===================  =======================================================================

Each downstream stage takes its parameters from the region config's table of the same name
(``[stops]``, ``[locations]``, ``[home_work]``, ``[metrics]``); the keys are the keyword arguments of
the function the stage calls, and the manifest records every value, defaults included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import MobilityError
from mobility.io.atomic import write_json, write_parquet
from mobility.io.figures import save_figure
from mobility.pipeline.config import RegionConfig
from mobility.pipeline.runner import PART_NAME, Stage, StageContext, and_join

log = logging.getLogger("mobility.pipeline")


# --------------------------------------------------------------------------------------------- generate
def _synthetic_fields(config: RegionConfig) -> dict[str, Any]:
    """The ``SyntheticParams`` fields a config sets: ``[region]``'s start, end and timezone, then ``[synthetic]``
    (without ``dir`` and ``seed``)."""
    fields = {"start": config.start, "end": config.end, "timezone": config.timezone}
    fields = {k: v for k, v in fields.items() if v is not None}
    fields.update({k: v for k, v in (config.synthetic or {}).items() if k not in ("dir", "seed")})
    return fields


def _generate_params(config: RegionConfig) -> dict[str, Any]:
    # what the region follows from: the fields set (the rest are SyntheticParams' defaults, which are code), the
    # seed, and the generator (its version, its code): a change to any makes the region again
    from mobility.synthetic.region import generator_fingerprint

    return {**(config.synthetic or {}), **_synthetic_fields(config), "generator_fingerprint": generator_fingerprint()}


def _generate_inputs(config: RegionConfig) -> list[Path]:
    return [config.region_dir / "region.json"] if config.region_dir else []


def run_generate(ctx: StageContext) -> dict[str, Any]:
    from mobility.synthetic import SyntheticParams, generate_region

    try:
        params = SyntheticParams(**_synthetic_fields(ctx.config))
    except TypeError as exc:
        raise MobilityError(f"{ctx.config.path}: [synthetic] has an unknown parameter ({exc})") from exc
    seed = int((ctx.config.synthetic or {}).get("seed", 0))
    region_dir = generate_region(ctx.config.region_dir, params, seed=seed, progress=ctx.progress)
    return {"region_dir": str(region_dir)}


# --------------------------------------------------------------------------------------------- load
def _load_params(config: RegionConfig) -> dict[str, Any]:
    v = config.stage("validate")
    thresholds = {}
    for key, default, ok, words in (
            ("max_accuracy_m", 200.0, lambda x: x > 0, "a number of metres above 0 (e.g. 200)"),
            ("max_bad_share", 0.05, lambda x: 0 <= x <= 1, "a share between 0 and 1 (e.g. 0.05 for 5 %)")):
        value = v.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
            raise MobilityError(f"{config.path}: [validate] {key} = {value!r} must be {words}, without quotes")
        thresholds[key] = float(value)
    return {
        "files": [str(p) for p in config.ping_files()],
        "format": config.inputs.get("format"),
        "columns": config.inputs.get("columns"),
        # [inputs] encoding of text ping files: in the parameters only where given (utf-8 otherwise)
        **({"encoding": config.inputs["encoding"]} if "encoding" in config.inputs else {}),
        "timezone": config.timezone,
        "period": study_period(config),
        **thresholds,
        "n_partitions": config.n_partitions,
    }


def _load_inputs(config: RegionConfig) -> list[Path]:
    return config.ping_files()


def study_period(config: RegionConfig) -> list[str] | None:
    """``[region] start`` and ``end`` (local dates, ``end`` included) as the UTC instants ``[first, end)``
    in ISO text, or None when neither is set; an open side is unbounded.

    Examples
    --------
    >>> from mobility.pipeline.config import RegionConfig
    >>> cfg = RegionConfig(path=Path("r.toml"), name="r", timezone="America/New_York", start="2020-01-01",
    ...                    end="2020-09-30", synthetic=None, inputs={}, n_partitions=1)
    >>> study_period(cfg)
    ['2020-01-01T05:00:00+00:00', '2020-10-01T04:00:00+00:00']
    """
    from mobility.schema import TIMESTAMP_MAX, TIMESTAMP_MIN

    if config.start is None and config.end is None:
        return None
    bounds = []
    for key, value, open_side, shift in (("start", config.start, TIMESTAMP_MIN, 0), ("end", config.end, TIMESTAMP_MAX, 1)):
        if value is None:
            bounds.append(pd.Timestamp(open_side, tz="UTC"))
            continue
        try:
            day = pd.Timestamp(str(value))
        except (ValueError, TypeError) as exc:
            raise MobilityError(f"{config.path}: [region] {key} = {value!r} is not a date; write it as \"YYYY-MM-DD\"") from exc
        if day != day.normalize() or day.tzinfo is not None:
            raise MobilityError(f"{config.path}: [region] {key} = {value!r} must be a calendar date (\"YYYY-MM-DD\", "
                                f"local to [region] timezone), not a time")
        local = (day + pd.Timedelta(days=shift)).tz_localize(config.timezone, ambiguous=True,
                                                              nonexistent="shift_forward")
        bounds.append(local.tz_convert("UTC"))
    if bounds[0] >= bounds[1]:
        raise MobilityError(f"{config.path}: [region] start = {config.start!r} is after end = {config.end!r}")
    return [t.isoformat() for t in bounds]


def _load_unit(item: tuple[int, list], *, params, shards, quarantine, compression) -> dict[str, Any]:
    from mobility.pipeline.loading import load_unit

    number, pieces = item
    return load_unit(number, pieces, params, shards, quarantine, compression)


def run_load(ctx: StageContext) -> dict[str, Any]:
    """Check every row of every input file and split the good ones into shards by user partition
    (:mod:`mobility.pipeline.loading`); valid pings outside ``[region] start``..``end`` are dropped and
    counted. Stops, after writing the quarantine table, if more than ``[validate] max_bad_share`` of all
    rows failed a row check (duplicates, found by ``validate``, do not count)."""
    from mobility.io.pings import check_mapped_optional
    from mobility.pipeline.loading import covering_span, plan_units, spill_compression

    files = [Path(f) for f in ctx.params["files"]]
    if not files:
        raise MobilityError(f"{ctx.config.path}: no ping files found for [inputs] pings = {ctx.config.inputs.get('pings')}")
    units = plan_units(files, format=ctx.params["format"], columns=ctx.params["columns"], config=str(ctx.config.path),
                       encoding=ctx.params.get("encoding") or "utf-8")
    lacking = check_mapped_optional(files, format=ctx.params["format"], columns=ctx.params["columns"],
                                    config=str(ctx.config.path), encoding=ctx.params.get("encoding") or "utf-8")
    shards, quarantine = ctx.output("ping_shards"), ctx.output("quarantine_rows")
    compression = spill_compression(sum(p.rows for unit in units for p in unit), shards)
    if compression:
        log.info("load: the shards would not fit in a third of the memory or of the free disk space in %s: writing "
                 "them as compact Parquet", shards)
    done = ctx.map(partial(_load_unit, params=ctx.params, shards=shards, quarantine=quarantine,
                           compression=compression), list(enumerate(units)), "load", threads=True)
    per_file: dict[int, dict[str, Any]] = {}
    for unit in done:
        for f in unit["files"]:
            s = per_file.setdefault(f["index"], {"file": f["file"], "rows": 0, "kept": 0, "quarantine": Counter()})
            s["rows"] += f["rows"]
            s["kept"] += f["kept"]
            s["quarantine"].update(f["quarantine"])
    summaries = [per_file[i] for i in sorted(per_file)]
    counts = Counter()
    for s in summaries:
        counts.update(s["quarantine"])
    n_rows = sum(s["rows"] for s in summaries)
    outside = sum(f["outside_period"] for unit in done for f in unit["files"])
    outside_ns = None
    for f in (f for unit in done for f in unit["files"]):
        outside_ns = covering_span(outside_ns, f.get("outside_ns"))  # absent from the markers of older runs
    if outside:
        log.info("dropped %s of %s pings outside the study period [region] start = %s, end = %s (%s); they are "
                 "counted in run.json (load: outside_period), not quarantined", f"{outside:,}", f"{n_rows:,}",
                 ctx.config.start, ctx.config.end, ctx.config.timezone)
    if counts:
        log.warning("quarantined %s of %s rows: %s", f"{sum(counts.values()):,}", f"{n_rows:,}", dict(counts))
    _check_bad_share(ctx, dict(counts), n_rows, summaries, [quarantine])
    _check_some_pings(ctx, dict(counts), n_rows, outside, quarantine, outside_ns=outside_ns)
    return {"input_rows": n_rows, "files": len(files), "units": len(units), "quarantine": dict(counts),
            "outside_period": outside, **({"files_lacking_mapped_columns": lacking} if lacking else {})}


def _check_bad_share(ctx: StageContext, counts: dict[str, int], n_rows: int, summaries: list[dict],
                     quarantine_dirs: list[Path]) -> None:
    """:func:`mobility.pings.check_bad_share` over all input files; when it fails, first publish the
    quarantine table (``OUT/quarantine``) so that the message can send the user to it."""
    from mobility.pings import check_bad_share

    limit = ctx.params["max_bad_share"]
    n_bad = sum(counts.values())
    if n_rows <= 0 or n_bad / n_rows <= limit:
        return
    table = publish_quarantine(ctx.out_dir, quarantine_dirs)
    worst = [s for s in sorted(summaries, key=lambda s: -sum(s["quarantine"].values()))[:3] if s["quarantine"]]
    named = "; ".join(f"{s['file']} ({sum(s['quarantine'].values()):,} of {s['rows']:,} rows bad)" for s in worst)
    check_bad_share(counts, n_rows, max_bad_share=limit, source=f"all input files (worst: {named})", fix=(
        _bad_rows_hint(quarantine_dirs, max(counts, key=counts.get))) + (
        f"Every rejected row, with its file, row and reason, is in the quarantine table {table} "
        f"(mobility.read_table({str(ctx.out_dir)!r}, 'quarantine')). Fix the input files, map misnamed columns "
        f"in the region config with [inputs] columns = {{ lat = \"your_lat_column\" }}, or raise [validate] "
        f"max_bad_share (now {limit}) in {ctx.config.path}"))


BAD_ROW_COLUMNS = {"bad_timestamp": ("timestamp",), "bad_coordinate": ("lat", "lon"), "null_island": ("lat", "lon"),
                   "missing_value": ("user_id", "timestamp", "lat", "lon"), "bad_accuracy": ("accuracy_m",),
                   "low_accuracy": ("accuracy_m",), "bad_utc_offset": ("utc_offset_s",)}
"""Quarantine reason -> the columns whose values a stopped load shows (:func:`_bad_rows_hint`)."""


def _bad_rows_hint(quarantine_dirs: list[Path], reason: str, n_examples: int = 3) -> str:
    """For a load stopped mostly on one ``reason``: the first few such rows' values with their file and row,
    and what they look like (epoch milliseconds, decimal commas, empty columns, ...); read from the first
    quarantine parts only. Empty where the reason has no columns to show or no row was found."""
    import re

    import pyarrow.parquet as pq

    from mobility.schema import TIMESTAMP_MAX, TIMESTAMP_MIN

    columns = BAD_ROW_COLUMNS.get(reason, ())
    examples: list[tuple[dict, str, int]] = []
    for part in sorted(p for folder in quarantine_dirs for p in folder.glob("*.parquet"))[:8]:
        present = [c for c in columns if c in pq.read_schema(part).names]
        q = pq.read_table(part, columns=[*present, "source", "row", "reason"]).to_pandas()
        q = q[q["reason"] == reason].head(n_examples - len(examples))
        examples += [({c: str(v) for c, v in zip(present, values)}, str(src), int(row))
                     for *values, src, row in zip(*(q[c] for c in present), q["source"], q["row"])]
        if len(examples) >= n_examples:
            break
    if not examples or not columns:
        return ""
    shown = ", ".join(" ".join(f"{c} {v!r}" for c, v in values.items()) + f" ({src}, row {row})"
                      for values, src, row in examples)
    values = [v for row, _, _ in examples for v in row.values()]
    if reason == "bad_timestamp":
        low, high = (pd.Timestamp(t, tz="UTC").timestamp() * 1000 for t in (TIMESTAMP_MIN, TIMESTAMP_MAX))
        if all(re.fullmatch(r"\d+(\.\d*)?", v) and low <= float(v) < high for v in values):
            what = ("look like Unix epoch milliseconds; timestamps are read as ISO 8601 text or epoch seconds: divide "
                    "them by 1000 in the files (or write them as ISO 8601)")
        else:
            what = ("are neither ISO 8601 text (2020-03-02T08:00:00-05:00, or without the offset for local time in "
                    "[region] timezone) nor Unix epoch seconds; rewrite them in one of those")
    elif reason == "bad_coordinate" and any("," in v for v in values):
        what = "have decimal commas: write the coordinates with decimal points (39.95, -75.16)"
    elif reason == "bad_coordinate":
        what = "are not degrees within |lat| <= 90 and |lon| <= 180: check which columns [inputs] columns maps"
    elif reason == "null_island":
        what = ("are latitude 0 and longitude 0 ('null island'), which GPS exports write where the phone had no "
                "fix: never a real position; leave them out of the export")
    elif reason == "missing_value":
        empty = sorted({c for row, _, _ in examples for c, v in row.items() if v in ("", "nan", "None", "<NA>")})
        what = f"have no {', '.join(empty) or 'value'}: check that [inputs] columns maps the columns that hold them"
    elif reason == "low_accuracy":
        what = "have an accuracy radius over [validate] max_accuracy_m: is accuracy_m in metres? raise the limit if so"
    elif reason == "bad_utc_offset":
        what = "are not whole seconds east of UTC (e.g. -18000 for New York in winter)"
    else:
        what = "are not non-negative numbers of metres"
    return f"The {reason} rows, e.g. {shown}, {what}. "


def _check_some_pings(ctx: StageContext, counts: dict[str, int], n_rows: int, outside: int,
                      quarantine_dir: Path, *, outside_ns: list[int] | None = None) -> None:
    """MobilityError when the input files leave no valid ping inside the study period (every later stage would
    run on nothing, and the first cross-user one fail on an empty table); the quarantine table is published
    first where rows were rejected. ``outside_ns``: first and last instant (epoch ns UTC) of the valid pings
    outside the period, named in the message in ``[region] timezone``."""
    n_bad = sum(counts.values())
    if n_rows - n_bad - outside > 0:
        return
    config = ctx.config
    if n_rows == 0:
        raise MobilityError(f"{config.path}: the ping files of [inputs] pings = {config.inputs.get('pings')} hold no "
                            "data rows (a header at most); check that they are the files you meant")
    parts = []
    if outside:
        span = ""
        if outside_ns is not None:
            first, last = (pd.Timestamp(t, tz="UTC").tz_convert(config.timezone).strftime("%Y-%m-%d %H:%M")
                           for t in outside_ns)
            span = f"the valid pings run from {first} to {last} ({config.timezone}); "
        parts.append(f"{outside:,} valid pings outside the study period ([region] start = {config.start}, end = "
                     f"{config.end}, local dates in {config.timezone}): {span}set start and end to dates your pings "
                     "cover")
    if n_bad:
        table = publish_quarantine(ctx.out_dir, [quarantine_dir])
        parts.append(f"{n_bad:,} quarantined ({', '.join(f'{k}={v:,}' for k, v in sorted(counts.items()))}). "
                     f"{_bad_rows_hint([quarantine_dir], max(counts, key=counts.get))}Each with its file, row and "
                     f"reason is in the quarantine table {table}")
    raise MobilityError(f"{config.path}: no valid ping inside the study period: of {n_rows:,} rows, "
                        + "; ".join(parts))


def publish_quarantine(out_dir: Path, quarantine_dirs: list[Path]) -> Path:
    """Replace ``OUT/quarantine`` by the quarantine parts found so far (a run that stops on bad rows leaves
    them where the user looks); returns its path."""
    import shutil

    from mobility.io.atomic import replace_folder

    staged = out_dir / ".staging" / "quarantine-published"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for folder in quarantine_dirs:
        for part in sorted(folder.glob("*.parquet")):
            shutil.copyfile(part, staged / f"load-{part.name}")
    return replace_folder(staged, out_dir / "quarantine")


# --------------------------------------------------------------------------------------------- validate
def _validate_params(config: RegionConfig) -> dict[str, Any]:
    return {"n_partitions": config.n_partitions}


def _validate_indexed(item: tuple[int, list[tuple]], *, columns, out, quarantine) -> dict[str, int]:
    from mobility.pipeline.loading import merge_partition

    k, pieces = item
    return merge_partition(k, pieces, columns, out, quarantine, PART_NAME.format(k))


def run_validate(ctx: StageContext) -> dict[str, Any]:
    """Each user partition's pieces of the shards from every file: sort, drop duplicates (within and across
    files), write the partition's pings once (:func:`mobility.pipeline.loading.merge_partition`); then
    delete the shards."""
    import shutil

    from mobility.pipeline.loading import remove_shards, shard_pieces

    n = ctx.config.n_partitions
    out, quarantine = ctx.output("pings"), ctx.output("quarantine")
    shards = ctx.table("ping_shards")
    for part in ctx.parts("quarantine_rows"):
        target = quarantine / f"load-{part.name}"
        if not target.exists():
            shutil.copyfile(part, target)
    units = [json.loads(m.read_text()) for m in sorted(shards.glob("unit-*.json"))]
    by_part = shard_pieces(units, shards, n)
    columns = list(dict.fromkeys(c for unit in units for f in unit["files"] for c in f["columns"]))
    results = ctx.map(partial(_validate_indexed, columns=columns or ["user_id", "timestamp", "lat", "lon"], out=out,
                              quarantine=quarantine), sorted(by_part.items()), "validate", threads=True)
    remove_shards(units, shards)
    return {"quarantine": {"duplicate": sum(r["duplicate"] for r in results)}}


# --------------------------------------------------------------------------------------------- helpers
def stage_params(config: RegionConfig, section: str, func, *, fixed: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keyword defaults of ``func`` overridden by the config's ``[section]`` table.

    Unknown keys are an error naming the section and the allowed keys. ``fixed`` names arguments the
    stage sets itself (time zone, inputs), which the table may not set.
    """
    signature = inspect.signature(func)
    allowed = {
        name: param.default for name, param in signature.parameters.items()
        if param.kind is inspect.Parameter.KEYWORD_ONLY and name not in fixed and name != "columns"
    }
    given = config.stage(section)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise MobilityError(f"{config.path}: [{section}] has unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    return {**allowed, **given}


def _cbg(config: RegionConfig):
    from mobility.census import read_geometry

    return read_geometry(config.input_path("cbg"))


# --------------------------------------------------------------------------------------------- stops .. metrics
@contextlib.contextmanager
def _named(config: RegionConfig, section: str):
    """An error of a value of ``[section]`` names the region config and the table (a parameter class or a
    function says only ``radius_m='200' is not a number``)."""
    try:
        yield
    except MobilityError as exc:
        if str(exc).startswith(str(config.path)):
            raise
        raise MobilityError(f"{config.path}: [{section}] {exc}; fix it in the region config") from exc


def _empty_visits():
    """Stops with their locations, and no rows: a stage function called on them checks its parameters only."""
    from mobility.locations import assign_locations
    from mobility.pings import empty_pings
    from mobility.stops import detect_stops

    return assign_locations(detect_stops(empty_pings()))


def _stops_params(config):
    from mobility.pings import empty_pings
    from mobility.stops import detect_stops

    with _named(config, "stops"):
        params = stage_params(config, "stops", detect_stops)
        detect_stops(empty_pings(), **params)  # the values are checked now, before any stage runs
    return params


def run_stops(ctx: StageContext) -> dict[str, Any]:
    from mobility.stops import detect_stops

    ctx.map_parts(["pings"], ["stops"], lambda pings: [detect_stops(pings, **ctx.params)],
                  columns=[["user_id", "timestamp", "lat", "lon"]])  # accuracy and offsets play no part
    return {}


def _locations_params(config):
    from mobility.locations import assign_locations
    from mobility.pings import empty_pings
    from mobility.stops import detect_stops

    with _named(config, "locations"):
        params = stage_params(config, "locations", assign_locations)
        assign_locations(detect_stops(empty_pings()), **params)  # the values are checked now
    return params


def run_locations(ctx: StageContext) -> dict[str, Any]:
    from mobility.locations import assign_locations, locations_table

    def one(stops):
        visits = assign_locations(stops, **ctx.params)
        return [visits, locations_table(visits)]

    ctx.map_parts(["stops"], ["visits", "locations"], one)
    return {}


def _home_work_params(config):
    from mobility.home_work import HomeWorkParams

    given = _dataclass_params(config, "home_work", HomeWorkParams, defaults=False)
    # resolved for the chosen method (its windows); a bad value fails here, naming the field
    with _named(config, "home_work"):
        return {**dataclasses.asdict(HomeWorkParams(**given)), "timezone": config.timezone}


def _cbg_inputs(config):
    return [config.input_path("cbg")]


def _optional_cbg_inputs(config):
    path = config.input_path("cbg", required=False)
    return [path] if path is not None else []


def run_home_work(ctx: StageContext) -> dict[str, Any]:
    """Daily home and work; hidden behind block groups where the region has polygons, else as location ids
    only (``home_cbg``, ``work_cbg`` missing)."""
    from mobility.home_work import HomeWorkParams, detect_home_work
    from mobility.obfuscate import obfuscate_to_cbg

    cbg = _cbg(ctx.config) if ctx.config.inputs.get("cbg") else None
    params = dict(ctx.params)
    timezone = params.pop("timezone")
    params = HomeWorkParams(**params)

    def one(visits, locations):
        labels = detect_home_work(visits, timezone=timezone, params=params)
        if cbg is None:
            return [labels.assign(home_cbg=pd.array([pd.NA] * len(labels), dtype="string"),
                                  work_cbg=pd.array([pd.NA] * len(labels), dtype="string"))]
        return [obfuscate_to_cbg(labels, locations, cbg)]

    ctx.map_parts(["visits", "locations"], ["home_work_daily"], one)
    if cbg is None:
        return {"cbg": "none: home and work kept as location ids ([inputs] cbg not given)"}
    return {}


def _metrics_params(config):
    from mobility.backend import choose_device
    from mobility.home_work import detect_home_work
    from mobility.metrics import weekly_metrics

    params = stage_params(config, "metrics", weekly_metrics, fixed=("timezone", "home_work", "period"))
    with _named(config, "metrics"):  # the values are checked now, on no rows
        visits = _empty_visits()
        labels = detect_home_work(visits, timezone=config.timezone)
        weekly_metrics(visits, home_work=labels[["user_id", "date", "home_location_id", "work_location_id"]],
                       timezone=config.timezone, **{k: v for k, v in params.items() if k != "backend"})
    requested = params.pop("backend") or "auto"
    backend, _ = choose_device(requested, where=f"{config.path}: [metrics] backend")
    return {**params, "timezone": config.timezone, "backend": requested, "device": _DEVICE[backend]}


_DEVICE = {"pandas": "cpu", "cupy": "gpu"}  # frame backend -> where the metrics kernels run


def run_metrics(ctx: StageContext) -> dict[str, Any]:
    """Weekly and monthly metrics per partition; ``[metrics] backend`` (or ``--backend``) says where the
    kernels run: "gpu" (CuPy), "cpu", or "auto" (the GPU where CuPy sees one, with a log line either way)."""
    from mobility.backend import choose_device
    from mobility.metrics import weekly_metrics

    params = dict(ctx.params)
    requested, device = params.pop("backend"), params.pop("device")
    backend, why = choose_device(requested, where=f"{ctx.config.path}: [metrics] backend")
    if _DEVICE[backend] != device:  # the machine changed between fingerprint and run (e.g. a GPU went away)
        raise MobilityError(f"[metrics] backend = {requested!r} chose the {device.upper()} for this run's fingerprint "
                            f"but finds the {_DEVICE[backend].upper()} now ({why}); rerun")
    log.info("metrics on the %s ([metrics] backend = %r: %s)", device.upper(), requested, why)

    def one(visits, labels):
        labels = labels[["user_id", "date", "home_location_id", "work_location_id"]]
        return [weekly_metrics(visits, home_work=labels, period=period, backend=backend, **params)
                for period in ("week", "month")]

    ctx.map_parts(["visits", "home_work_daily"], ["metrics_weekly", "metrics_monthly"], one)
    return {"device": device}


# --------------------------------------------------------------------------------------------- census
def _census_inputs(config):
    return [p for p in (config.input_path("lodes_wac"), config.input_path("lodes_rac", required=False),
                        config.input_path("telework", required=False)) if p is not None]


def run_census(ctx: StageContext) -> dict[str, Any]:
    from mobility.census import aggregate_lodes, read_lodes, read_teleworkability
    from mobility.census.features import home_features, work_features
    from mobility.obfuscate import weekly_cbgs

    config = ctx.config
    wac = aggregate_lodes(read_lodes(config.input_path("lodes_wac")), "cbg")
    rac_path = config.input_path("lodes_rac", required=False)
    rac = aggregate_lodes(read_lodes(rac_path), "cbg") if rac_path else None
    tau_path = config.input_path("telework", required=False)
    tau = read_teleworkability(tau_path) if tau_path else None

    def one(labels):
        weekly = weekly_cbgs(labels)
        work = work_features(weekly[["user_id", "week", "work_cbg"]], wac, tau)
        if rac is None:
            return [work]
        home = home_features(weekly[["user_id", "week", "home_cbg"]], rac, tau)
        home = home.drop(columns=["user_id", "week"], errors="ignore")
        return [pd.concat([work.reset_index(drop=True), home.reset_index(drop=True)], axis=1)]

    ctx.map_parts(["home_work_daily"], ["user_features"], one)
    return {}


# --------------------------------------------------------------------------------------------- employment
def _dataclass_params(config: RegionConfig, section: str, cls, *, extra: tuple[str, ...] = (),
                      defaults: bool = True) -> dict[str, Any]:
    """A params dataclass's defaults overridden by ``[section]`` (only the given keys when ``defaults`` is
    False); unknown keys name the allowed ones."""
    fields = dataclasses.asdict(cls())
    given = {k: v for k, v in config.stage(section).items() if not isinstance(v, dict)}
    unknown = sorted(set(given) - set(fields) - set(extra))
    if unknown:
        raise MobilityError(f"{config.path}: [{section}] has unknown key(s) {unknown}; "
                            f"allowed: {sorted(set(fields) | set(extra))}")
    return {**fields, **given} if defaults else given


def _employment_params(config: RegionConfig) -> dict[str, Any]:
    from mobility.employment.params import AreaParams, ClassifierParams, EmploymentParams

    from mobility.employment.status import REPORTED_METHODS

    params = _dataclass_params(config, "employment", EmploymentParams, extra=("labels", "model", "method"))
    if isinstance(params["min_cell_users"], int) and params["min_cell_users"] < 2:
        raise MobilityError(f"{config.path}: [employment] min_cell_users = {params['min_cell_users']}: the area tables "
                            "are published, and a cell of one user shows that person's status; use 2 or more "
                            "(default 10)")
    params["method"] = params.get("method", "auto")
    if params["method"] not in REPORTED_METHODS:
        raise MobilityError(f"{config.path}: [employment] method = {params['method']!r}; use one of "
                            f"{list(REPORTED_METHODS)}")
    if params["method"] == "classifier" and not (params.get("labels") or params.get("model")):
        raise MobilityError(f"{config.path}: [employment] method = 'classifier' needs a classifier: give [employment] "
                            "labels (a labelled panel) or model (a model another run saved), or use 'auto'")
    with _named(config, "employment"):  # the values are checked now, before any stage runs
        EmploymentParams(**{k: params[k] for k in dataclasses.asdict(EmploymentParams())})
    area = config.stage("employment").get("area", {})
    unknown = sorted(set(area) - set(dataclasses.asdict(AreaParams())))
    if unknown:
        raise MobilityError(f"{config.path}: [employment.area] has unknown key(s) {unknown}; "
                            f"allowed: {sorted(dataclasses.asdict(AreaParams()))}")
    with _named(config, "employment.area"):
        params["area"] = dataclasses.asdict(AreaParams(**area))
    classifier = config.stage("employment").get("classifier", {})
    unknown = sorted(set(classifier) - set(dataclasses.asdict(ClassifierParams())))
    if unknown:
        raise MobilityError(f"{config.path}: [employment.classifier] has unknown key(s) {unknown}; "
                            f"allowed: {sorted(dataclasses.asdict(ClassifierParams()))}")
    params["classifier"] = {**dataclasses.asdict(ClassifierParams()), **classifier}
    with _named(config, "employment.classifier"):
        ClassifierParams(**params["classifier"])
    params["timezone"] = config.timezone
    return params


def _employment_inputs(config: RegionConfig) -> list[Path]:
    given = config.stage("employment")
    extra = [config.resolve(given[k]) for k in ("labels", "model") if given.get(k)]
    acs = config.input_path("acs_sexage", required=False)
    extra += [acs] if acs else []
    truth = config.input_path("truth_status", required=False)
    return _census_inputs(config) + extra + ([truth] if truth else [])


def _check_employment_files(config: RegionConfig) -> None:
    """A labelled panel's columns and statuses, before any stage runs (read again, whole, by the stage)."""
    from mobility.employment.labels import check_label_statuses

    labels = config.stage("employment").get("labels")
    if labels:
        check_label_statuses(config.resolve(labels))


def _training_region(config: RegionConfig) -> dict[str, Any]:
    """What a model card records about the region a model is trained on."""
    region = {"region": config.name, "synthetic": config.synthetic is not None, "start": config.start,
              "end": config.end}
    if config.synthetic is not None:
        region["seed"] = int(config.synthetic.get("seed", 0))
    return region


def run_employment(ctx: StageContext) -> dict[str, Any]:
    """Employment status and area unemployment, in two steps: each user partition's visits and daily labels
    to its per-user tables (:func:`mobility.employment.estimate.user_tables`: weekly attendance, daytime
    evidence, baseline workplace, home CBG; in parallel, memory bounded by a partition), then all users'
    tables of users x weeks together (:func:`~mobility.employment.estimate.employment_from_user_tables`:
    sector shares, the classifier and area tables need every user).

    Writes the tables, ``employment_model/`` (the classifier that made the ``classifier`` rows: trained
    here on ``[employment] labels``, or a copy of the ``[employment] model`` applied) and
    ``employment_evaluation/``: ``classifier_evaluation.json``, ``model.json`` (which model, trained where,
    whether a transfer, its scores), and with ``[inputs] truth_status`` ``truth.json`` and ``reliability.png``
    (both methods against the true weekly statuses).
    """
    from mobility.census import aggregate_lodes, read_lodes, read_teleworkability
    from mobility.census.features import work_features
    from mobility.employment.calibration import headline, plot_reliability
    from mobility.employment.estimate import employment_from_user_tables, slope_end_summary
    from mobility.employment.labels import read_labels
    from mobility.employment.model import ClassifierModel, load_model, model_summary, save_model
    from mobility.employment.params import AreaParams, ClassifierParams, EmploymentParams
    from mobility.employment.status import reported_method
    from mobility.employment.validation import evaluate_against_truth

    config = ctx.config
    params = dict(ctx.params)
    labels_path, model_path = params.pop("labels", None), params.pop("model", None)
    method = params.pop("method")
    classifier = ClassifierParams(**params.pop("classifier"))
    area_params = AreaParams(**params.pop("area"))
    timezone = params.pop("timezone")
    employment_params = EmploymentParams(**params)
    wac = read_lodes(config.input_path("lodes_wac"))
    tau_path = config.input_path("telework", required=False)
    if tau_path is None:
        raise MobilityError(f"{config.path}: the employment stage needs [inputs] telework (Dingel & Neiman CSV)")
    tau = read_teleworkability(tau_path)
    labelled = read_labels(config.resolve(labels_path)) if labels_path else None
    model = load_model(config.resolve(model_path)) if model_path else None
    users, parts = employment_user_tables(ctx, timezone, employment_params)
    features = work_features(users["baseline_work_cbg"], aggregate_lodes(wac, "cbg"), tau)
    region = _training_region(config)
    weights = _area_weights(config, users["home_cbg"], features, area_params)
    tables = employment_from_user_tables(users, features, tau, wac_county=aggregate_lodes(wac, "county"),
                                         params=employment_params, classifier=classifier, labels_truth=labelled,
                                         model=model, training=region, weights=weights, area_params=area_params,
                                         mapper=_forked_mapper(ctx, "employment models and replicates",
                                                                reuse_freed_memory=False), parts=parts,
                                         classifier_required=method != "signal")
    tables["worker_features"] = features  # census features of each worker's baseline work CBG (no coordinates)
    evaluation_dir = ctx.output("employment_evaluation")
    truth_path = config.input_path("truth_status", required=False)
    truth_scores = None
    if truth_path is not None:
        truth_scores = evaluate_against_truth(tables["employment_weekly"], pd.read_parquet(truth_path))
        write_json(truth_scores, evaluation_dir / "truth.json")
        save_figure(plot_reliability(truth_scores), evaluation_dir / "reliability", ("png",))
    ran = ["signal"] + (["classifier"] if tables["employment_weekly"]["method"].isin(["classifier"]).any() else [])
    summary: dict[str, Any] = {"method": reported_method(method, ran),
                               "methods": {"signal": {"model": "attendance signal (no training)"}}}
    not_trained = tables.get("classifier_evaluation", {}).get("not_trained")
    if not_trained:
        summary["methods"]["classifier"] = {"not_trained": not_trained}
    for name, table in tables.items():
        if isinstance(table, pd.DataFrame):
            write_parquet(table, ctx.output(name) / PART_NAME.format(0))
        elif isinstance(table, ClassifierModel):
            save_model(table, ctx.output("employment_model"))
            summary["methods"]["classifier"] = model_summary(
                table, trained_here=model is None, region=region, truth_scores=truth_scores,
                label_scores=tables["classifier_evaluation"].get("against_labels"),
                job_loss_slope=employment_params.job_loss_telework_slope)
            write_json(summary["methods"]["classifier"], evaluation_dir / "model.json")
        else:
            write_json(table, evaluation_dir / f"{name}.json")
    ctx.output("employment_model")
    if truth_scores is not None:
        summary["truth"] = {m: headline(s) for m, s in truth_scores.items()}
    summary["area_calibration"] = {m: c.get("weight_by_month", c["recalibrate"])
                                   for m, c in tables["area_calibration"].items()}
    ends = slope_end_summary(tables["area_unemployment"], employment_params)
    if ends:  # the signal's state rates at the ends of gamma's range, month by month (the report says them)
        summary["job_loss_slope_ends"] = ends
    drawn = {m: c["remote_intercept"] for m, c in tables["area_calibration"].items() if "remote_intercept" in c}
    if drawn:  # the values of b the intervals drew from, b's posterior mean and sd, the likelihood's power
        power = float(tables["remote_intercept"]["likelihood_power"].iloc[0])
        summary["remote_intercept"] = {m: {**d, "likelihood_power": round(power, 6),
                                           "evidence_drops": employment_params.intercept_evidence_drops}
                                       for m, d in drawn.items()}
    return summary


VISIT_COLUMNS = ["user_id", "start", "end", "lat", "lon", "location_id"]  # what the employment step reads


def employment_user_tables(ctx: StageContext, timezone: str, params):
    """The employment step's per-user tables (:func:`mobility.employment.estimate.user_tables`), computed user
    partition by user partition on the run's engine and written to the stage's staging folder (a resumed stage
    keeps the partitions done). The one-row-per-user tables are read back stacked
    (:func:`~mobility.employment.estimate.stack_user_tables`); the weekly ones are left to be read a partition at a
    time straight into the signal's matrices (:func:`~mobility.employment.estimate.signal_inputs_of_parts`). The
    same as from all visits at once, holding one partition's visits, and one partition's weekly tables, at a time.

    Returns
    -------
    (dict, list)
        The stacked ``baseline_workplace``, ``baseline_work_cbg`` and ``home_cbg``; a reader of each partition's
        tables (:data:`~mobility.employment.estimate.PartReader`) for the weekly ones.
    """
    import pyarrow.parquet as pq

    from mobility.employment.estimate import USER_TABLES, stack_user_tables, user_tables
    from mobility.pipeline.runner import read_parts, read_table

    def one(visits, labels):
        if not len(visits):  # no users in this partition
            return [pd.DataFrame() for _ in USER_TABLES]
        tables = user_tables(visits[VISIT_COLUMNS], labels, timezone=timezone, params=params)
        return [tables.get(n, pd.DataFrame()) for n in USER_TABLES]

    folders = {n: f"employment_users/{n}" for n in USER_TABLES}
    ctx.map_parts(["visits", "home_work_daily"], list(folders.values()), one, columns=[VISIT_COLUMNS, None])

    def reader(part: str):
        def read(name: str, columns):
            path = ctx.staging / folders[name] / part
            if not path.exists():
                return None
            if columns is not None and not pq.read_schema(path).names:  # a partition without users wrote a
                return pd.DataFrame()  # table without columns: none to pick
            return read_parts([path], columns)
        return read

    weekly = {"weekly_attendance", "daytime_weekly"}
    parts = [reader(p.name) for p in sorted((ctx.staging / folders["weekly_attendance"]).glob("*.parquet"))]
    stacked = {}
    for name, folder in folders.items():  # a table at a time: one unsorted copy in memory, not all
        if name not in weekly:
            stacked |= stack_user_tables([{name: read_table(ctx.staging, folder)}])
    return stacked, parts


def _area_weights(config: RegionConfig, homes: pd.DataFrame, features: pd.DataFrame, area_params):
    """Raking of the panel (``homes``: each user's home CBG, :func:`mobility.employment.area.home_cbg`) to the
    census margins the config gives: ``[inputs] lodes_rac`` (workers by residence) and ``acs_sexage`` (ACS
    B01001 estimates); None when it gives neither."""
    from mobility.census import aggregate_lodes, read_acs, read_lodes
    from mobility.employment.area import panel_weights

    rac_path = config.input_path("lodes_rac", required=False)
    acs_path = config.input_path("acs_sexage", required=False)
    if rac_path is None and acs_path is None:
        return None
    rac = aggregate_lodes(read_lodes(rac_path), "cbg") if rac_path else None
    acs = read_acs(acs_path) if acs_path else None
    return panel_weights(homes, features, rac=rac, acs=acs, area_params=area_params)


def _validation_inputs(config: RegionConfig) -> list[Path]:
    return [p for p in (config.input_path(k, required=False) for k in ("truth_area", "ui_claims")) if p] \
        + config.input_paths("laus")


def run_validation(ctx: StageContext) -> dict[str, Any]:
    """Area estimates against the official series (and, on a synthetic region, its true rates)."""
    from mobility.census import read_ui_claims
    from mobility.census.laus import read_laus_files
    from mobility.employment.validation import plot_validation, reference_series, validate_against
    from mobility.pipeline.runner import read_table

    config = ctx.config
    area = read_table(ctx.out_dir, "area_unemployment")
    refs = {}
    for key, reader in (("truth_area", pd.read_parquet), ("ui_claims", read_ui_claims)):
        path = config.input_path(key, required=False)
        if path is not None:
            refs[key] = reader(path)
    if config.input_paths("laus"):  # one file or several (county and state sheets)
        refs["laus"] = read_laus_files(config.input_paths("laus"))
    out = ctx.output("validation")
    result = {}
    for route in sorted(area["route"].unique()):
        result[route] = validate_against(area, route=route, **refs)
        write_json(result[route], out / route / "validation.json")
        figure = plot_validation(area[area["route"] == route], reference_series(**refs))
        save_figure(figure, out / route / "validation", ("png",))
    write_json(result, out / "validation.json")
    return {"validation": {route: {src: {m: {k: v for k, v in stats.items() if k != "by_area"}
                                        for m, stats in by_method.items()}
                                   for src, by_method in r.items()} for route, r in result.items()}}


# --------------------------------------------------------------------------------------------- longitudinal
def _longitudinal_params(config: RegionConfig) -> dict[str, Any]:
    """``[longitudinal]`` as :class:`~mobility.longitudinal.params.LongitudinalParams` (every field, defaults
    included), plus the employment baseline weeks (the home CBG of ``group_source = "home"``)."""
    from mobility.employment.params import EmploymentParams
    from mobility.longitudinal.params import LongitudinalParams

    from mobility.metrics import METRIC_COLUMNS

    with _named(config, "longitudinal"):
        params = LongitudinalParams.from_config(config.stage("longitudinal"), source=f"{config.path}: [longitudinal]")
    known = [*METRIC_COLUMNS, *(m.replace("_bits", "_norm") for m in METRIC_COLUMNS if "entropy_bits" in m)]
    unknown = [m for m in params.metrics if m not in known]  # (_norm: the entropies of [metrics] normalise_entropy)
    if unknown:
        raise MobilityError(f"{config.path}: [longitudinal] metrics {unknown} are not metrics of the pipeline; use "
                            f"some of {known}")
    employment = {k: v for k, v in config.stage("employment").items() if k in ("baseline_start", "baseline_end")}
    with _named(config, "employment"):
        baseline = EmploymentParams(**employment).baseline
    return {**params.to_dict(), "baseline": [str(d.date()) for d in baseline]}


def classifier_features(out_dir: Path) -> list[str] | None:
    """The employment classifier's recorded feature names: ``employment_model/card.json`` (``features``), else
    the ``feature_importance`` table; None where the run recorded neither."""
    from mobility.pipeline.runner import read_table

    card = out_dir / "employment_model" / "card.json"
    if card.exists():
        features = json.loads(card.read_text()).get("features")
        if features is not None:
            return [str(f) for f in features]
    if (out_dir / "feature_importance").exists():
        return read_table(out_dir, "feature_importance", columns=["feature"])["feature"].astype(str).tolist()
    return None


def _present_columns(folder: Path, wanted: list[str]) -> list[str] | None:
    """``wanted`` when the table in ``folder`` has all of them (its first part's schema), else None (read every
    column, so that the step that needs a missing one can name what the table has).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"a": [1], "b": [2], "c": [3]}).to_parquet(d / "part-00000.parquet")
    >>> _present_columns(d, ["a", "c"]), _present_columns(d, ["a", "z"])
    (['a', 'c'], None)
    """
    import pyarrow.parquet as pq

    parts = sorted(folder.glob("*.parquet"))
    names = set(pq.read_schema(parts[0]).names) if parts else set()
    return list(dict.fromkeys(wanted)) if set(wanted) <= names else None


@functools.cache
def _glibc():
    """The C library, where it is glibc (it has ``mallopt`` and ``malloc_trim``); None elsewhere. Looked up once:
    ``find_library`` may run ``ldconfig``."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    return libc if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def _keep_freed_memory() -> None:
    """In a forked worker (glibc): reuse freed blocks instead of handing them back to the kernel at once.

    By default glibc maps each block over a moving threshold on its own and unmaps it when freed, and trims
    the heap's top, so a fit's big temporaries (a column of 3.9M rows is 31 MB at 100,000 users) are faulted
    in and zeroed by the kernel again and again: about a third of the stage's CPU was system time. Here
    blocks up to 32 MiB (the largest threshold glibc takes) come from the heap and the heap is not trimmed;
    larger ones are still mapped, which bounds the memory kept. The worker exits at the end of its map."""
    libc = _glibc()
    if libc is None:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 * 2**20)
    libc.mallopt(m_trim_threshold, 2**31 - 1)


def _trim_heap() -> None:
    """glibc's ``malloc_trim(0)``: the free pages of the heap go back to the kernel (nothing elsewhere)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def _in_worker(fn: Callable, parent_pid: int, item: Any) -> Any:
    """One unit of :func:`_forked_mapper`'s map: in a worker forked from ``parent_pid``, freed memory is kept
    for reuse within the unit (:func:`_keep_freed_memory`) and the heap's free pages handed back after it
    (:func:`_trim_heap`; the next unit would otherwise start from the holes of this one: at 100,000 users a
    worker's resident memory grew from 1.9 to 2.2 GB over its units); where the units run in the parent
    itself (``--workers 1``), its allocator is left as it is."""
    if os.getpid() == parent_pid:
        return fn(item)
    _keep_freed_memory()
    try:
        return fn(item)
    finally:  # what the unit freed goes back before the worker's next unit (else its holes add to that unit's peak)
        _trim_heap()


def _forked_mapper(ctx: StageContext, desc: str, *, reuse_freed_memory: bool = True):
    """``mapper(fn, items) -> list`` running the units of a cross-user step (whose data are in this process, not
    in files) in worker processes forked from this one (:meth:`LocalEngine.map
    <mobility.pipeline.engine.LocalEngine.map>` with ``processes=True``): the run's local engine (``--workers
    N``; one runs them here), or one worker per core where the run's engine is Dask (the units share this
    process's tables through the fork; on a cluster they would be shipped whole). ``reuse_freed_memory``: the
    workers keep freed blocks for reuse (:func:`_keep_freed_memory`; measured for the longitudinal stage, not
    for the employment step, which leaves its workers' allocator as it is)."""
    from mobility.pipeline.engine import LocalEngine

    engine = ctx.engine if isinstance(ctx.engine, LocalEngine) else LocalEngine()

    def mapper(fn: Callable, items: Sequence) -> list:
        import os

        unit = partial(_in_worker, fn, os.getpid()) if reuse_freed_memory else fn
        return engine.map(unit, items, desc=desc, progress=ctx.progress, processes=True)

    return mapper


def run_longitudinal_stage(ctx: StageContext) -> dict[str, Any]:
    """Cross-user stage: read the run's tables, :func:`mobility.longitudinal.longitudinal_study`, write.

    ``metrics_weekly`` is read a Parquet part at a time and cut to the workers' rows before the next part
    (:func:`~mobility.longitudinal.panel.job_loss_panel`), never whole. The fits (the pooled study, one per
    group dimension) and the figures run in forked worker processes (:func:`_forked_mapper`); the tables and
    files are the same as one process's."""
    from mobility.longitudinal import LongitudinalParams, longitudinal_study, write_longitudinal
    from mobility.pipeline.runner import read_parts, read_table

    p = dict(ctx.params)
    baseline = tuple(p.pop("baseline"))
    params = LongitudinalParams.from_config(p)
    metrics = _present_columns(ctx.table("metrics_weekly"), ["user_id", "period_start", *params.metrics])
    result = longitudinal_study(
        (read_parts([part], metrics) for part in ctx.parts("metrics_weekly")),  # a part at a time, cut to workers
        read_table(ctx.out_dir, "employment_weekly", columns=["user_id", "week", "method", "weeks_since_job_loss"]),
        read_table(ctx.out_dir, "worker_features"), params=params, timezone=ctx.config.timezone,
        classifier_features=classifier_features(ctx.out_dir),
        home_features=read_table(ctx.out_dir, "user_features") if params.group_source == "home" else None,
        baseline=baseline, mapper=_forked_mapper(ctx, "longitudinal fits"))
    manifest = write_longitudinal(result, ctx.output("longitudinal"), figure_formats=params.figure_formats,
                                  mapper=_forked_mapper(ctx, "longitudinal figures"))
    return {**manifest["counts"], "dating": manifest["dating"], "files": len(manifest["files"]),
            **({"skipped": manifest["skipped"]} if "skipped" in manifest else {})}


# --------------------------------------------------------------------------------------------- report
def _report_params(config: RegionConfig) -> dict[str, Any]:
    from mobility.report.privacy import check_k

    from mobility.census.features import feature_columns
    from mobility.employment.status import REPORTED_METHODS

    options = config.stage("report")
    if "k_min_users" in options:
        with _named(config, "report"):
            check_k(options["k_min_users"])
    for key, allowed in (("method", REPORTED_METHODS), ("route", ("individual", "sector"))):
        if key in options and options[key] not in allowed:
            raise MobilityError(f"{config.path}: [report] {key} = {options[key]!r}; use one of {list(allowed)}")
    for key in ("trend_months", "baseline_months"):
        value = options.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MobilityError(f"{config.path}: [report] {key} = {value!r} must be a whole number of months >= 1")
    with _named(config, "report"):
        for dimension in options.get("dimensions", []):
            feature_columns(dimension)
    months = options.get("months")
    if months is None:  # the last month of the study period
        end = config.end or config.start
        if end is None:
            raise MobilityError(f"{config.path}: set [report] months = [\"YYYY-MM\"] or [region] end")
        months = [str(pd.Timestamp(end).to_period("M"))]
    where = f"{config.path}: [report] months = {months!r}"
    if not isinstance(months, list) or not months:
        raise MobilityError(f"{where} must be a list of months, e.g. months = [\"2020-04\"]")
    periods = []
    for month in months:
        try:
            periods.append(pd.Period(month, freq="M") if isinstance(month, str) and len(month) == 7 else None)
        except ValueError:
            periods.append(None)
        if periods[-1] is None:
            raise MobilityError(f"{where}: {month!r} is not a month; write months as \"YYYY-MM\" (e.g. \"2020-04\")")
    first, last = (pd.Timestamp(str(d)).to_period("M") if d is not None else None for d in (config.start, config.end))
    outside = [m for m, p in zip(months, periods) if (first is not None and p < first) or (last is not None and p > last)]
    if outside:
        raise MobilityError(f"{where}: {', '.join(map(repr, outside))} outside the study period ([region] start = "
                            f"{config.start}, end = {config.end}); report on months of the period, or widen it")
    return {**options, "months": [str(m) for m in months]}


def run_report(ctx: StageContext) -> dict[str, Any]:
    """The monthly report of each month in ``[report] months``, into ``report/<YYYY-MM>/``; ``report_index``
    names each month's page by its path in the output folder (``report/2020-04/report.html``)."""
    from mobility.report import reports_for_region

    infos = reports_for_region(str(ctx.config.path), list(ctx.params["months"]), out=str(ctx.out_dir))
    written = {month: Path(os.path.relpath(Path(info["report_dir"]) / info["files"]["html"], ctx.out_dir)).as_posix()
               if info.get("files", {}).get("html") else None for month, info in infos.items()}
    write_json(written, ctx.output("report_index") / "reports.json")
    return {"reports": written}


STAGE_NAMES = ("generate", "load", "validate", "stops", "locations", "home_work", "metrics", "census", "employment",
               "longitudinal", "validation", "report")
"""Every stage, in order; a region runs those its inputs allow (:func:`stages_for`, :func:`skipped_stages`)."""


def stages_for(config: RegionConfig) -> list[Stage]:
    """The ordered stages for a region (``generate`` only where the region is synthetic)."""
    stages = []
    if config.synthetic is not None:
        stages.append(Stage("generate", (), (), run_generate, _generate_params, _generate_inputs))
    stages += [
        Stage("load", ("generate",), ("ping_shards", "quarantine_rows"), run_load, _load_params, _load_inputs),
        Stage("validate", ("load",), ("pings", "quarantine"), run_validate, _validate_params),
        Stage("stops", ("validate",), ("stops",), run_stops, _stops_params),
        Stage("locations", ("stops",), ("visits", "locations"), run_locations, _locations_params),
        Stage("home_work", ("locations",), ("home_work_daily",), run_home_work, _home_work_params,
              _optional_cbg_inputs),
        Stage("metrics", ("home_work",), ("metrics_weekly", "metrics_monthly"), run_metrics, _metrics_params),
    ]
    skipped = skipped_stages(config)
    if "census" not in skipped:
        stages.append(Stage("census", ("home_work",), ("user_features",), run_census, lambda c: {}, _census_inputs))
    if "employment" not in skipped:
        stages.append(Stage("employment", ("metrics", "census"),
                            ("employment_weekly", "sector_weekly", "remote_adoption", "remote_intercept", "drop_evidence",
                             "area_unemployment", "employment_evaluation", "employment_model", "worker_features"),
                            run_employment, _employment_params, _employment_inputs, timed=True,
                            check=_check_employment_files))
        stages.append(Stage("longitudinal", ("employment",), ("longitudinal",), run_longitudinal_stage,
                            _longitudinal_params, timed=True))
    if "validation" not in skipped:
        stages.append(Stage("validation", ("employment",), ("validation",), run_validation, lambda c: {},
                            _validation_inputs, timed=True))
    if "report" not in skipped:
        stages.append(Stage("report", ("longitudinal", "employment"), ("report_index",), run_report, _report_params,
                            _validation_inputs, timed=True))
    return stages


INPUT_WORDS = {
    "cbg": "block-group polygons",
    "lodes_wac": "LODES WAC workplace counts",
    "telework": "Dingel & Neiman teleworkability by sector",
}
NEEDS = {
    "census": ("cbg", "lodes_wac"),
    "employment": ("cbg", "lodes_wac", "telework"),
    "longitudinal": ("cbg", "lodes_wac", "telework"),
    "validation": ("cbg", "lodes_wac", "telework"),
    "report": ("cbg", "lodes_wac", "telework"),
}
"""Stage -> the ``[inputs]`` it needs beyond the pings (validation also needs a reference series)."""
REFERENCES = ("truth_area", "laus", "ui_claims")


def skipped_stages(config: RegionConfig) -> dict[str, str]:
    """The stages a region cannot run, each with the inputs it lacks (``{stage: "needs ..."}``).

    A region with pings only runs ``load`` to ``metrics`` (home and work as location ids); block-group
    polygons, LODES and teleworkability open the census, employment, event-study and report stages, and a
    reference series the validation.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> skipped_stages(SimpleNamespace(inputs={"pings": "p.csv"}))["census"]
    'needs [inputs] cbg (block-group polygons) and lodes_wac (LODES WAC workplace counts)'
    >>> sorted(skipped_stages(SimpleNamespace(inputs={"cbg": 1, "lodes_wac": 1, "telework": 1})))
    ['validation']
    """
    out = {}
    for stage, keys in NEEDS.items():
        lacking = [k for k in keys if not config.inputs.get(k)]
        if stage == "validation" and not lacking and not any(config.inputs.get(k) for k in REFERENCES):
            out[stage] = f"needs a reference series: [inputs] {', '.join(REFERENCES[:-1])} or {REFERENCES[-1]}"
        elif lacking:
            words = [f"{k} ({INPUT_WORDS[k]})" for k in lacking]
            out[stage] = "needs [inputs] " + and_join(words)
    return out
