"""Monthly report: wall time and peak memory of build_report on synthetic runs of several sizes.

Usage::

    python benchmarks/bench_report.py [--users 300 1000] [--workdir DIR] [--smoke]

Each size runs the pipeline and the employment step on a synthetic region (January to May 2020), then
times ``build_report`` for April (HTML, CSVs, privacy scan; no PDF) three times and reports the median.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="one region of 30 users: checks that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.users = [30]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from mobility.census import read_geometry
    from mobility.report import build_report, load_references
    from tests.report.runs import make_run

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-report-"))
    for n in args.users:
        folder = work / f"users{n}"
        t0 = time.perf_counter()
        config, out = make_run(folder, n_users=n, seed=n, start="2020-01-06", end="2020-05-31")
        setup = time.perf_counter() - t0
        cbg = read_geometry(folder / "region" / "geography" / "cbg.geojson")
        refs = load_references(region_dir=folder / "region")
        times = []
        for _ in range(3):
            t = time.perf_counter()
            build_report(out, "2020-04", cbg=cbg, references=refs)
            times.append(time.perf_counter() - t)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"users={n}: pipeline+employment {setup:.1f} s; build_report median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}); peak RSS of the process {rss:.0f} MiB")


if __name__ == "__main__":
    main()
