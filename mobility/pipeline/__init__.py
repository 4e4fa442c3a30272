"""Batch runs: ``python -m mobility.pipeline --region NAME``. See :mod:`mobility.pipeline.runner`."""

from mobility.pipeline.config import RegionConfig, load_config
from mobility.pipeline.runner import Runner, Stage, StageContext, read_table
from mobility.pipeline.stages import skipped_stages, stages_for

__all__ = ["RegionConfig", "Runner", "Stage", "StageContext", "load_config", "read_table", "run", "skipped_stages",
           "stages_for"]


def run(region: str, out: str | None = None, *, from_stage: str | None = None, until: str | None = None,
        force: bool = False, progress: bool = True, engine: str = "local", scheduler: str | None = None,
        n_workers: int | None = None, memory_limit_gb: float | None = None, backend: str | None = None) -> dict:
    """Run the pipeline for ``region`` (a name in ``pipelines/`` or a .toml path); returns the manifest.

    ``engine="local"`` runs the partitions of a stage in ``n_workers`` processes on this machine (default: one
    per core); ``engine="dask"`` runs them on a Dask cluster: the scheduler at ``scheduler``, or a local
    cluster of ``n_workers`` processes with ``memory_limit_gb`` each (see :mod:`mobility.pipeline.engine`);
    outputs are identical whatever the engine and the number of workers. ``backend`` ("auto", "cpu" or "gpu") overrides the config's
    ``[metrics] backend``: where the metrics kernels run (:func:`mobility.backend.choose_device`).

    Examples
    --------
    >>> manifest = run("synthetic", "out/synthetic")   # doctest: +SKIP
    >>> manifest["stages"]["validate"]["rows"]["pings"]   # doctest: +SKIP
    >>> manifest = run("synthetic", "out/synthetic", engine="dask", n_workers=2)   # doctest: +SKIP
    """
    from pathlib import Path

    from mobility.pipeline.engine import make_engine

    config = load_config(region)
    if not config.timezone_given:
        import logging

        logging.getLogger("mobility.pipeline").warning(
            "%s: [region] has no timezone, so nights, working hours, days and weeks are read in UTC; set [region] "
            "timezone = \"America/New_York\" (the IANA zone of your region)", config.path)
    if backend is not None:
        from dataclasses import replace

        sections = {**config.sections, "metrics": {**config.stage("metrics"), "backend": backend}}
        config = replace(config, sections=sections)
    from mobility.backend import choose_device

    choose_device(config.stage("metrics").get("backend", "auto"),  # "gpu" without a GPU: stop now, not at metrics
                  where="--backend" if backend is not None else f"{config.path}: [metrics] backend")
    out_dir = Path(out) if out else Path("out") / config.name
    with make_engine(engine, scheduler=scheduler, n_workers=n_workers,
                     memory_limit_gb=memory_limit_gb) as executor:
        runner = Runner(config, stages_for(config), out_dir, progress=progress, engine=executor,
                        skipped=skipped_stages(config))
        return runner.run(from_stage=from_stage, until=until, force=force)
