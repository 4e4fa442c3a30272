"""The pipeline's stages, in order. Stages only compose the frame functions of the package.

Tables (folders of Parquet parts under the output directory):

=================  =========================================================================
``ping_shards``    validated pings of each input file, split by user partition (intermediate)
``quarantine_rows`` rows rejected while loading each file (intermediate)
``pings``          canonical pings (:mod:`mobility.schema`), one part per user partition
``quarantine``     every rejected row with its ``source``, ``row`` and ``reason``
=================  =========================================================================
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import MobilityError
from mobility.io.atomic import write_json, write_parquet
from mobility.pipeline.config import RegionConfig
from mobility.pipeline.runner import PART_NAME, Stage, StageContext

log = logging.getLogger("mobility.pipeline")


# --------------------------------------------------------------------------------------------- generate
def _generate_params(config: RegionConfig) -> dict[str, Any]:
    return dict(config.synthetic or {})


def _generate_inputs(config: RegionConfig) -> list[Path]:
    return [config.region_dir / "region.json"] if config.region_dir else []


def run_generate(ctx: StageContext) -> dict[str, Any]:
    from mobility.synthetic import SyntheticParams, generate_region

    spec = dict(ctx.config.synthetic or {})
    spec.pop("dir", None)
    seed = int(spec.pop("seed", 0))
    fields = {"start": ctx.config.start, "end": ctx.config.end, "timezone": ctx.config.timezone}
    fields = {k: v for k, v in fields.items() if v is not None}
    fields.update(spec)
    try:
        params = SyntheticParams(**fields)
    except TypeError as exc:
        raise MobilityError(f"{ctx.config.path}: [synthetic] has an unknown parameter ({exc})") from exc
    region_dir = generate_region(ctx.config.region_dir, params, seed=seed, progress=ctx.progress)
    return {"region_dir": str(region_dir)}


# --------------------------------------------------------------------------------------------- load
def _load_params(config: RegionConfig) -> dict[str, Any]:
    v = config.stage("validate")
    return {
        "files": [str(p) for p in config.ping_files()],
        "format": config.inputs.get("format"),
        "columns": config.inputs.get("columns"),
        "timezone": config.timezone,
        "max_accuracy_m": float(v.get("max_accuracy_m", 200.0)),
        "max_bad_share": float(v.get("max_bad_share", 0.05)),
        "n_partitions": config.n_partitions,
    }


def _load_inputs(config: RegionConfig) -> list[Path]:
    return config.ping_files()


def load_file(path: Path, index: int, params: dict[str, Any], shards: Path, quarantine: Path) -> dict[str, Any]:
    """Read one input file, check its rows, write its pings split by user partition.

    This is the partition function of the ``load`` stage (one input file each); it is idempotent: a
    finished file leaves a ``src-NNNNN.json`` summary and is skipped when the stage resumes.
    """
    from mobility.io.pings import read_pings
    from mobility.pings import partition_of, validate_pings

    marker = shards / f"src-{index:05d}.json"
    if marker.exists():
        return json.loads(marker.read_text())
    raw = read_pings(path, format=params["format"], columns=params["columns"])
    result = validate_pings(raw, max_accuracy_m=params["max_accuracy_m"], timezone=params["timezone"],
                            source=path.name)
    pings = result.pings
    part = partition_of(pings["user_id"], params["n_partitions"])
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(params["n_partitions"] + 1))
    for k in range(params["n_partitions"]):
        rows = order[bounds[k]: bounds[k + 1]]
        if len(rows):
            write_parquet(pings.iloc[rows], shards / f"p{k:05d}-src-{index:05d}.parquet")
    write_parquet(result.quarantine, quarantine / f"src-{index:05d}.parquet")
    summary = {"file": str(path), "rows": int(result.n_input), "kept": int(len(pings)),
               "quarantine": {k: int(v) for k, v in result.counts.items() if v}}
    write_json(summary, marker)
    return summary


def run_load(ctx: StageContext) -> dict[str, Any]:
    """Load every input file; stop if more than ``max_bad_share`` of all rows were bad (naming the worst files)."""
    from mobility.pings import check_bad_share

    files = [Path(f) for f in ctx.params["files"]]
    if not files:
        raise MobilityError(f"{ctx.config.path}: no ping files found for [inputs] pings = {ctx.config.inputs.get('pings')}")
    shards, quarantine = ctx.output("ping_shards"), ctx.output("quarantine_rows")
    summaries = [load_file(f, i, ctx.params, shards, quarantine) for i, f in enumerate(ctx.iterate(files, "load"))]
    counts = Counter()
    for s in summaries:
        counts.update(s["quarantine"])
    n_rows = sum(s["rows"] for s in summaries)
    if counts:
        log.warning("quarantined %s of %s rows: %s", f"{sum(counts.values()):,}", f"{n_rows:,}", dict(counts))
    worst = [s for s in sorted(summaries, key=lambda s: s["kept"] - s["rows"])[:3] if s["rows"] > s["kept"]]
    named = "; ".join(f"{s['file']} ({s['rows'] - s['kept']:,} of {s['rows']:,} rows bad)" for s in worst)
    check_bad_share(dict(counts), n_rows, max_bad_share=ctx.params["max_bad_share"],
                    source=f"all input files (worst: {named})")
    return {"input_rows": n_rows, "files": len(files), "quarantine": dict(counts)}


# --------------------------------------------------------------------------------------------- validate
def validate_partition(k: int, shard_files: list[Path], out: Path, quarantine: Path) -> dict[str, int]:
    """Merge one user partition's shards: drop duplicates across files, sort, write ``part-k``."""
    from mobility.pings import drop_duplicate_pings

    target = out / PART_NAME.format(k)
    dup_target = quarantine / f"duplicates-{k:05d}.parquet"
    if target.exists() and dup_target.exists():
        return {"duplicate": int(len(pd.read_parquet(dup_target, columns=["reason"])))}
    frames = [pd.read_parquet(f) for f in shard_files]
    if frames:
        pings = pd.concat(frames, ignore_index=True)
    else:
        from mobility.pings import empty_pings
        pings = empty_pings()
    kept, dups = drop_duplicate_pings(pings)
    write_parquet(dups, dup_target)
    write_parquet(kept, target)
    return {"duplicate": int(len(dups))}


def run_validate(ctx: StageContext) -> dict[str, Any]:
    n = ctx.config.n_partitions
    out, quarantine = ctx.output("pings"), ctx.output("quarantine")
    shards = ctx.table("ping_shards")
    for part in ctx.parts("quarantine_rows"):
        target = quarantine / f"load-{part.name}"
        if not target.exists():
            write_parquet(pd.read_parquet(part), target)
    by_part: dict[int, list[Path]] = {k: [] for k in range(n)}
    for f in sorted(shards.glob("p*-src-*.parquet")):
        by_part[int(f.name[1:6])].append(f)
    dups = sum(validate_partition(k, by_part[k], out, quarantine)["duplicate"]
               for k in ctx.iterate(range(n), "validate"))
    return {"quarantine": {"duplicate_across_files": dups}}


def stages_for(config: RegionConfig) -> list[Stage]:
    """The ordered stages for a region (``generate`` only where the region is synthetic)."""
    stages = []
    if config.synthetic is not None:
        stages.append(Stage("generate", (), (), run_generate, _generate_params, _generate_inputs))
    stages += [
        Stage("load", ("generate",), ("ping_shards", "quarantine_rows"), run_load, _load_params, _load_inputs),
        Stage("validate", ("load",), ("pings", "quarantine"), run_validate, lambda c: {"n_partitions": c.n_partitions}),
    ]
    return stages
