"""Command line of the pipeline (``python -m mobility.pipeline --help``)."""

from __future__ import annotations

import argparse
import logging
import sys

from mobility.errors import MobilityError
from mobility.pipeline.stages import STAGE_NAMES as STAGES

DESCRIPTION = """\
Run the whole pipeline for a region: read and check its pings, find stops, places, home and work, weekly
mobility metrics, then (where the region has block-group polygons, LODES and teleworkability files) census
features, employment status week by week, unemployment by county and state, event studies of job loss, and
the monthly report. Each stage writes its tables under the output folder and is skipped next time when
nothing it depends on has changed; a killed run resumes where it stopped.

A region is a TOML file: pipelines/NAME.toml (see pipelines/synthetic.toml) or any path to a .toml file.
"""


EPILOG = f"""\
stages, in order:
  {", ".join(STAGES)}
  generate runs for synthetic regions only; census and later stages need [inputs] cbg, lodes_wac and
  telework; validation needs a reference series. --list-stages shows a region's own stages and what the
  others need.

examples:
  python -m mobility.pipeline --region synthetic
  python -m mobility.pipeline --region pipelines/myregion.toml --out out/myregion --until metrics
  python -m mobility.pipeline --region synthetic --from employment      # rerun employment and what follows
  python -m mobility.pipeline --region synthetic --quiet                # for cron: warnings and errors only
  python -m mobility.pipeline --region synthetic --engine dask --workers 2
  python -m mobility.pipeline --region synthetic --list-stages
the report stage writes each month of [report] months into OUT/report/<YYYY-MM>/; one month again, alone:
  python -m mobility.report --region synthetic --month 2020-04
"""


class _Format(logging.Formatter):
    """``HH:MM:SS message`` for information, ``HH:MM:SS WARNING message`` for what needs attention."""

    def format(self, record: logging.LogRecord) -> str:
        self._style._fmt = "%(asctime)s %(message)s" if record.levelno <= logging.INFO else \
            "%(asctime)s %(levelname)s %(message)s"
        return super().format(record)


def configure_logging(quiet: bool) -> logging.Handler:
    """The package speaks at INFO (WARNING when quiet); other libraries only at WARNING and above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format(datefmt="%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("mobility").setLevel(logging.WARNING if quiet else logging.INFO)
    return handler


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m mobility.pipeline", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s --region NAME [--out DIR] [--from STAGE | --force] [--until STAGE] [--quiet]\n"
              "       [--engine local|dask] [--workers N] [--scheduler ADDRESS | --worker-memory-gb GB]\n"
              "       [--backend auto|cpu|gpu]\n"
              "       %(prog)s --region NAME --list-stages")
    p.add_argument("--region", required=True, help="region name (pipelines/NAME.toml) or a path to a .toml file")
    p.add_argument("--out", metavar="DIR", help="output folder (default: out/<region name>)")
    p.add_argument("--from", dest="from_stage", metavar="STAGE",
                   help=f"rerun this stage and every later one, even if unchanged; one of: {', '.join(STAGES)}")
    p.add_argument("--until", metavar="STAGE", help="stop after this stage (same names as --from)")
    p.add_argument("--force", action="store_true", help="rerun every stage")
    p.add_argument("--quiet", action="store_true", help="no progress bars; warnings and errors only (cron)")
    p.add_argument("--list-stages", action="store_true",
                   help="print the region's stages, and those it cannot run with the inputs they need, then exit")
    p.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="where partitions run: this process (local, default) or a Dask cluster (dask)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (tcp://host:8786) or scheduler file (.json); without it "
                        "--engine dask starts a local cluster")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes: of the local engine (the partitions of a stage, one per process) or of "
                        "the local Dask cluster (default: one per CPU core)")
    p.add_argument("--worker-memory-gb", type=float, metavar="GB",
                   help="memory limit of each local Dask worker in GB (default: Dask's share of the machine)")
    p.add_argument("--backend", choices=["auto", "cpu", "gpu"],
                   help="where the metrics kernels run: the GPU with CuPy (gpu), the CPU (cpu), or the GPU where "
                        "one is found (auto); overrides [metrics] backend (default there: auto)")
    return p


def list_stages(region: str) -> str:
    """The region's stages, one a line, then the stages it cannot run and what each needs."""
    from mobility.pipeline import load_config, skipped_stages, stages_for

    config = load_config(region)
    lines = [s.name for s in stages_for(config)]
    lines += [f"({name}: not run, {reason})" for name, reason in skipped_stages(config).items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = configure_logging(args.quiet)
    from tqdm.contrib.logging import logging_redirect_tqdm

    from mobility.pipeline import run

    try:
        if args.list_stages:
            print(list_stages(args.region))
            return 0
        with logging_redirect_tqdm(loggers=[logging.getLogger()]):  # log lines above the bars, never through them
            manifest = run(args.region, args.out, from_stage=args.from_stage, until=args.until, force=args.force,
                           progress=not args.quiet, engine=args.engine, scheduler=args.scheduler,
                           n_workers=args.workers, memory_limit_gb=args.worker_memory_gb,
                           backend=args.backend)
    except MobilityError as exc:
        handler.flush()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"done: outputs in {manifest['out_dir']}/ (what ran and with which parameters: run.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
