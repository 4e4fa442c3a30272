"""The per-group table: home, work and employment scores for each schedule, workplace and phone kind.

The harness every home/work and employment change reports before and after with
(:func:`mobility.synthetic.evaluate.group_scores`; columns documented there and in benchmarks/README.md).

Usage::

    # score a finished run against its region's truth
    python benchmarks/bench_groups.py --run OUT_DIR --region REGION_DIR
    # run the pipeline on a synthetic config (default: pipelines/synthetic.toml) for each seed, then score
    python benchmarks/bench_groups.py --config synthetic --seeds 20200316 2 [--users 1000] [--out DIR]

Prints, per seed and employment method, the table as Markdown, plus the time ``group_scores`` took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mobility  # noqa: E402
from mobility.synthetic.evaluate import group_scores, group_table_markdown  # noqa: E402


def print_groups(run_dir: Path, region_dir: Path, title: str) -> None:
    t0 = time.perf_counter()
    table = group_scores(run_dir, region_dir)
    took = time.perf_counter() - t0
    for method in sorted(table["method"].dropna().unique()) or [None]:
        print(f"\n### {title}, method {method}\n")
        print(group_table_markdown(table, method))
    print(f"\n(group_scores: {took:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a finished pipeline output directory")
    parser.add_argument("--region", type=Path, help="its synthetic region directory (with truth/)")
    parser.add_argument("--config", default=None, help="run this synthetic config first (name or .toml)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[20200316, 2])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--until", default=None, help="last pipeline stage to run (default: all)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "mobility-bench-groups")
    args = parser.parse_args()
    if args.run is not None:
        if args.region is None:
            parser.error("--run needs --region")
        print_groups(args.run, args.region, str(args.run))
        return
    from bench_pipeline import _prefix, region_config

    config = args.config or "synthetic"
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        path = region_config(seed, args.users, args.out, config)
        run_dir = args.out / f"{_prefix(config)}run-{seed}-{args.users}"
        mobility.run_pipeline(str(path), str(run_dir), progress=False, force=True, until=args.until)
        print_groups(run_dir, args.out / f"{_prefix(config)}region-{seed}-{args.users}", f"{config} seed {seed}")


if __name__ == "__main__":
    main()
