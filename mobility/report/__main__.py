"""Command line of the monthly report (``python -m mobility.report --help``)."""

from __future__ import annotations

import argparse
import sys

from mobility.errors import MobilityError

DESCRIPTION = """\
Write the monthly report of a region: one self-contained HTML page (unemployment by county and state with
its trend, a map, the comparison with official series, the mobility of job losers and the employed, data
coverage, methods), the CSV file behind every figure and table, and optionally a PDF.

The report reads a finished run: run the pipeline first, over a period that covers the month, e.g.
  python -m mobility.pipeline --region synthetic
"""

EPILOG = """\
examples:
  python -m mobility.report --region synthetic --month 2020-04
  python -m mobility.report --region pipelines/myregion.toml --month 2020-04 --out out/myregion --k 20 --pdf
the report goes to <out>/report/<month>/report.html; a month the run does not cover is an error that
lists the months it has.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mobility.report", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--region", required=True, help="region name (pipelines/NAME.toml) or a path to a .toml file")
    parser.add_argument("--month", required=True, help="month reported on, YYYY-MM")
    parser.add_argument("--out", metavar="DIR", help="the run's output folder (default: out/<region name>)")
    parser.add_argument("--k", type=int, dest="k_min_users", metavar="K",
                        help="leave out every number behind fewer than K users (default 10)")
    parser.add_argument("--pdf", action="store_true", help="also print report.pdf (needs Chromium)")
    args = parser.parse_args(argv)
    from mobility.report import report_for_region

    try:
        info = report_for_region(args.region, args.month, out=args.out, k_min_users=args.k_min_users, pdf=args.pdf)
    except MobilityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(info["headline"] or f"report for {args.month}")
    print(f"report: {info['report_dir']}/report.html")
    if info["sections_missing"]:
        print(f"sections without input: {', '.join(info['sections_missing'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
