"""Command line: ``python -m mobility.report --region NAME --month YYYY-MM [--out DIR] [--k 10] [--pdf]``."""

from __future__ import annotations

import argparse
import sys

from mobility.errors import MobilityError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mobility.report", description=__doc__)
    parser.add_argument("--region", required=True, help="region name (pipelines/NAME.toml) or a .toml path")
    parser.add_argument("--month", required=True, help="month reported on, YYYY-MM")
    parser.add_argument("--out", help="the run's output directory (default: out/<region>); the report goes "
                                      "to <out>/report/<month>/")
    parser.add_argument("--k", type=int, dest="k_min_users", help="suppress cells behind fewer users (default 10)")
    parser.add_argument("--pdf", action="store_true", help="also print report.pdf (needs Chromium)")
    args = parser.parse_args(argv)
    from mobility.report import report_for_region

    try:
        info = report_for_region(args.region, args.month, out=args.out, k_min_users=args.k_min_users, pdf=args.pdf)
    except MobilityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {info['report_dir']}/report.html")
    if info["sections_missing"]:
        print(f"sections without input: {', '.join(info['sections_missing'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
