"""Command line: ``python -m mobility.pipeline --region NAME [--out DIR] [--from STAGE] [--force]
[--engine local|dask [--scheduler ADDRESS | --workers N [--worker-memory-gb GB]]] [--backend auto|cpu|gpu]``."""

from __future__ import annotations

import argparse
import logging
import sys

from mobility.errors import MobilityError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mobility.pipeline", description=__doc__)
    parser.add_argument("--region", required=True, help="region name (pipelines/NAME.toml) or a .toml path")
    parser.add_argument("--out", help="output directory (default: out/<region>)")
    parser.add_argument("--from", dest="from_stage", help="rerun from this stage on, even if unchanged")
    parser.add_argument("--until", help="stop after this stage")
    parser.add_argument("--force", action="store_true", help="rerun every stage")
    parser.add_argument("--quiet", action="store_true", help="no progress bars, warnings and errors only (cron)")
    parser.add_argument("--list-stages", action="store_true", help="print the stages and exit")
    parser.add_argument("--engine", choices=["local", "dask"], default="local",
                        help="where partitions run: this process (local, default) or a Dask cluster (dask)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler address (tcp://host:8786) or scheduler file (.json); "
                             "without it --engine dask starts a local cluster")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes of the local Dask cluster (default: one per CPU core)")
    parser.add_argument("--worker-memory-gb", type=float, metavar="GB",
                        help="memory limit of each local Dask worker in GB (default: Dask's share of the machine)")
    parser.add_argument("--backend", choices=["auto", "cpu", "gpu"],
                        help="where the metrics kernels run: the GPU with CuPy (gpu), the CPU (cpu), or the GPU where "
                             "one is found (auto); overrides [metrics] backend (default there: auto)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    from mobility.pipeline import load_config, run, stages_for

    try:
        if args.list_stages:
            print("\n".join(s.name for s in stages_for(load_config(args.region))))
            return 0
        manifest = run(args.region, args.out, from_stage=args.from_stage, until=args.until, force=args.force,
                       progress=not args.quiet, engine=args.engine, scheduler=args.scheduler,
                       n_workers=args.workers, memory_limit_gb=args.worker_memory_gb, backend=args.backend)
    except MobilityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"done: {manifest['out_dir']} (manifest: run.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
